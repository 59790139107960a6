"""How much of the 'very faint' and 'dim + heavy JPEG' kinds can any enhancement recover? Their exact inverses, read by OCR.

Run: ``.venv/bin/python bench/oracle.py [--data ../shared/data/sroie]``.

On the bench's own 10 OCR receipts (``bench_enhance.pick(files, 10)``, the same degradations and
seed), each degraded copy is undone with the degradation's own parameters, what no estimate can
beat: for very faint, the inverse of its contrast and lift (what the clipping to white and the
rounding to whole grey levels destroyed stays lost); for dim + heavy JPEG, the dimming divided out
(the JPEG's losses stay). Both engines read the clean scan, the degraded copy, the inverse and
ocrprep's ``auto_enhance``. Recovery is (F1 - degraded) / (clean - degraded) from the means, as in
the bench. The table goes to stdout and ``bench/results/oracle.txt``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.degrade import _paper_colour, degrade_with_params  # noqa: E402
from ocrprep.enhance import auto_enhance  # noqa: E402
from ocrprep.ocr import RapidOcrEngine, TesseractEngine, read_box_transcripts  # noqa: E402
from _report import emit  # noqa: E402


def _undo_faint(image: np.ndarray, degraded: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    paper = _paper_colour(image)[None, None, :]
    return paper - (paper + params["lift"] - degraded.astype(np.float64)) / params["contrast"]


def _undo_dim(image: np.ndarray, degraded: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    return degraded.astype(np.float64) / params["gain"]


#: bench kind label -> the inverse of its degradation, given the clean image, the copy and its parameters
INVERSES: dict[str, Callable[[np.ndarray, np.ndarray, dict[str, Any]], np.ndarray]] = {
    "very faint": _undo_faint,
    "dim + heavy JPEG": _undo_dim,
}


def main() -> None:
    args = be.check_parser(__doc__ or "", "oracle.txt", seed=2024).parse_args()
    files = be.pick(be.receipts(args.data), 10)
    engines: list[Any] = [RapidOcrEngine(threads=1)]
    if shutil.which("tesseract"):
        engines.append(TesseractEngine())
    conditions = ("clean", "degraded", "inverse", "ocrprep")
    kinds = {label: k for k, (label, *_) in enumerate(be.KINDS) if label in INVERSES}
    f1 = {(label, e.name): {c: [] for c in conditions} for label in kinds for e in engines}
    settings: dict[str, dict[str, Any]] = {}
    for n, path in enumerate(files):
        image = be.load(path)
        truth = read_box_transcripts(args.data / "box" / f"{path.stem}.csv")
        key = int(path.stem) if path.stem.isdigit() else n
        clean = {e.name: be.ocr_f1(e, image, truth) for e in engines}
        for label, k in kinds.items():
            # the bench's own copy, rebuilt to learn its parameters (checked to be the same image)
            _, kind, severity, fixed = be.KINDS[k]
            rng = np.random.default_rng([args.seed, key, k])
            degraded, params = degrade_with_params(image, kind, severity, seed=int(rng.integers(2**31)), **fixed(rng))
            if not np.array_equal(degraded, be.degrade_kind(image, k, key, args.seed)):
                raise SystemExit(f"the {label} copy differs from the bench's: update this script")
            settings[label] = params
            inverse = np.clip(np.round(INVERSES[label](image, degraded, params)), 0, 255).astype(np.uint8)
            result = auto_enhance(degraded)
            enhanced = result.image if result.changed else degraded
            for e in engines:
                row = f1[(label, e.name)]
                row["clean"].append(clean[e.name])
                for condition, img in zip(conditions[1:], (degraded, inverse, enhanced), strict=True):
                    row[condition].append(be.ocr_f1(e, img, truth))
        print(f"  {n + 1}/{len(files)} {path.name}", file=sys.stderr)
    lines = [f"# oracle: exact inverses of two bench kinds on the bench's {len(files)} OCR receipts (seed {args.seed})", ""]
    for label in kinds:
        shown = ", ".join(f"{k} {v}" for k, v in settings[label].items())
        lines += [f"{label} ({shown}):",
                  f"  {'engine':<10}{'clean':>7}{'degr.':>7}{'inverse':>8}{'rec.':>6}{'ocrprep':>8}{'rec.':>6}"]
        for e in engines:
            m = {c: float(np.mean(v)) for c, v in f1[(label, e.name)].items()}
            gap = m["clean"] - m["degraded"]
            lines.append(f"  {e.name:<10}{m['clean']:>7.3f}{m['degraded']:>7.3f}{m['inverse']:>8.3f}"
                         f"{(m['inverse'] - m['degraded']) / gap:>6.2f}{m['ocrprep']:>8.3f}"
                         f"{(m['ocrprep'] - m['degraded']) / gap:>6.2f}")
        lines.append("")
    lines.append("(inverse: the degradation undone with its own parameters; rec.: recovery of the gap)")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
