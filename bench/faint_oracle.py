"""How much of the 'very faint' kind can any enhancement recover? The exact inverse, read by OCR.

Run: ``.venv/bin/python bench/faint_oracle.py [--data ../shared/data/sroie]``.

On the bench's own 10 OCR receipts (``bench_enhance.pick(files, 10)``, the same degradation and
seed), each very faint copy is undone with the degradation's own parameters: the exact inverse of
its contrast and lift (what no estimate can beat; only what the clipping to white and the rounding
to whole grey levels destroyed stays lost). Both engines read the clean scan, the degraded copy,
the inverse and ocrprep's ``auto_enhance``. Recovery is (F1 - degraded) / (clean - degraded) from
the means, as in the bench. The table goes to stdout and ``bench/results/faint_oracle.txt``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.degrade import _paper_colour, degrade_with_params  # noqa: E402
from ocrprep.enhance import auto_enhance  # noqa: E402
from ocrprep.ocr import RapidOcrEngine, TesseractEngine, read_box_transcripts  # noqa: E402
from _report import emit  # noqa: E402

_FAINT = next(k for k, kind in enumerate(be.KINDS) if kind[1] == "faint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=be.ROOT.parent / "shared" / "data" / "sroie")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=be.ROOT / "bench" / "results" / "faint_oracle.txt")
    args = parser.parse_args()
    files = be.pick(sorted((args.data / "img").glob("*.jpg")), 10)
    if not files:
        raise SystemExit(f"no receipts under {args.data / 'img'}")
    engines: list[object] = [RapidOcrEngine(threads=1)]
    if shutil.which("tesseract"):
        engines.append(TesseractEngine())
    conditions = ("clean", "degraded", "inverse", "ocrprep")
    f1 = {e.name: {c: [] for c in conditions} for e in engines}  # type: ignore[attr-defined]
    for n, path in enumerate(files):
        image = be.load(path)
        truth = read_box_transcripts(args.data / "box" / f"{path.stem}.csv")
        key = int(path.stem) if path.stem.isdigit() else n
        # the bench's own copy, rebuilt to learn its parameters (checked to be the same image)
        rng = np.random.default_rng([args.seed, key, _FAINT])
        faint, params = degrade_with_params(image, "faint", "severe", seed=int(rng.integers(2**31)))
        if not np.array_equal(faint, be.degrade_kind(image, _FAINT, key, args.seed)):
            raise SystemExit("the very faint copy differs from the bench's: update this script")
        paper = _paper_colour(image)[None, None, :]
        inverse = (paper - (paper + params["lift"] - faint.astype(np.float64)) / params["contrast"])
        inverse = np.clip(np.round(inverse), 0, 255).astype(np.uint8)
        enhanced = auto_enhance(faint).image
        for e in engines:
            row = f1[e.name]  # type: ignore[attr-defined]
            for condition, img in zip(conditions, (image, faint, inverse, enhanced), strict=True):
                row[condition].append(be.ocr_f1(e, img, truth))
        print(f"  {n + 1}/{len(files)} {path.name}", file=sys.stderr)
    lines = [f"# faint_oracle: the 'very faint' kind on the bench's {len(files)} OCR receipts (seed {args.seed}), "
             f"contrast {params['contrast']}, lift {params['lift']}", "",
             f"  {'engine':<10}{'clean':>7}{'degr.':>7}{'inverse':>8}{'rec.':>6}{'ocrprep':>8}{'rec.':>6}"]
    for name, row in f1.items():
        m = {c: float(np.mean(v)) for c, v in row.items()}
        gap = m["clean"] - m["degraded"]
        lines.append(f"  {name:<10}{m['clean']:>7.3f}{m['degraded']:>7.3f}{m['inverse']:>8.3f}"
                     f"{(m['inverse'] - m['degraded']) / gap:>6.2f}{m['ocrprep']:>8.3f}"
                     f"{(m['ocrprep'] - m['degraded']) / gap:>6.2f}")
    lines.append("  (inverse: the degradation undone with its own parameters; rec.: recovery of the gap)")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
