"""Which contrast path recovers an evenly lit very faint page best: the default, grey or colour?

Run: ``.venv/bin/python bench/faint_check.py [--ids 188-207] [--limit N]``.

Fresh receipts, in neither the OCR set of ``bench/bench_enhance.py`` (``pick(files, 5)`` and
``pick(files, 10)``: sorted indices 0, 23, 46, ..., 208) nor next to it: by default the sorted
indices 188-207 of the 209 SROIE scans. Each is degraded with the bench's own ``very faint``
kind and seed rule (``bench_enhance.KINDS``, seed 2024), then read by RapidOCR and Tesseract:
the clean scan, the degraded one, and ``auto_enhance`` with three settings: the default
(grey, smoothed, gamma 1.5 above 12-px print), ``grey`` (the earlier grey path: no smoothing, a
linear stretch) and ``colour`` (``Thresholds(faint_path="colour")``, the shadow path). F1 is the bench's bag-of-words F1 against ``box/``;
recovery is (enhanced - degraded) / (clean - degraded) from the per-engine means.
The table goes to stdout and ``bench/results/faint_check.txt``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.enhance import auto_enhance  # noqa: E402
from ocrprep.enhance.policy import Thresholds  # noqa: E402
from ocrprep.ocr import RapidOcrEngine, TesseractEngine, read_box_transcripts  # noqa: E402
from _report import emit  # noqa: E402

LABEL = "very faint"
PATHS = {
    "default": Thresholds(),
    "grey": Thresholds(faint_path="grey", ink_smooth=0.0, faint_ink_gamma=1.0),
    "colour": Thresholds(faint_path="colour"),
}
VARIANTS = ("clean", "degraded", *PATHS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=be.ROOT.parent / "shared" / "data" / "sroie")
    parser.add_argument("--ids", default="188-207", help="sorted indices, as FIRST-LAST")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=be.ROOT / "bench" / "results" / "faint_check.txt")
    args = parser.parse_args(argv)
    data = args.data.resolve()
    files = sorted((data / "img").glob("*.jpg"))
    first, last = (int(v) for v in args.ids.split("-"))
    chosen = files[first:last + 1]
    if args.limit:
        chosen = chosen[: args.limit]
    held = {f.stem for f in be.pick(files, 10) + be.pick(files, 5)}
    if held & {f.stem for f in chosen}:
        raise SystemExit(f"overlap with the bench's OCR set: {sorted(held & {f.stem for f in chosen})}")
    k = next(i for i, (label, *_) in enumerate(be.KINDS) if label == LABEL)
    _, kind, severity, _ = be.KINDS[k]
    engines = [RapidOcrEngine(threads=1), TesseractEngine()]
    f1 = {e.name: {v: [] for v in VARIANTS} for e in engines}
    ops_seen: dict[str, list[str]] = {p: [] for p in PATHS}
    rows = []
    cpu0 = time.process_time()
    for n, path in enumerate(chosen):
        t0 = time.perf_counter()
        image = be.load(path)
        truth = read_box_transcripts(data / "box" / f"{path.stem}.csv")
        degraded = be.degrade_kind(image, k, int(path.stem), args.seed)  # as the bench degrades it
        results = {name: auto_enhance(degraded, thresholds=th) for name, th in PATHS.items()}
        for name, res in results.items():
            ops_seen[name].append(" ".join(op.name for op in res.operations) if res.changed else "(kept input)")
        row = [path.stem]
        for e in engines:
            got = {"clean": be.ocr_f1(e, image, truth), "degraded": be.ocr_f1(e, degraded, truth)}
            for name, res in results.items():
                got[name] = be.ocr_f1(e, res.image, truth) if res.changed else got["degraded"]
            for v in VARIANTS:
                f1[e.name][v].append(got[v])
            row += [got[v] for v in VARIANTS]
        rows.append(row)
        print(f"  {n + 1}/{len(chosen)} {path.stem} {time.perf_counter() - t0:.0f}s "
              + " ".join(f"{x:.2f}" for x in row[1:]), file=sys.stderr, flush=True)
    lines = [f"# faint_check: {', '.join(PATHS)} on '{LABEL}' ({kind}, {severity}), seed {args.seed}",
             f"receipts ({len(chosen)}, sorted indices {first}-{first + len(chosen) - 1}): "
             + " ".join(r[0] for r in rows), ""]
    for e in engines:
        mean = {v: float(np.mean(f1[e.name][v])) for v in VARIANTS}
        gap = mean["clean"] - mean["degraded"]
        rec = {p: (mean[p] - mean["degraded"]) / gap if gap > 0 else float("nan") for p in PATHS}
        best = {p: sum(all(f1[e.name][p][i] > f1[e.name][q][i] for q in PATHS if q != p)
                       for i in range(len(rows))) for p in PATHS}
        lines.append(f"{e.name}: clean {mean['clean']:.3f}  degraded {mean['degraded']:.3f}  "
                     + "  ".join(f"{p} {mean[p]:.3f} (recovery {rec[p]:.2f})" for p in PATHS)
                     + "  receipts best: " + ", ".join(f"{p} {best[p]}" for p in PATHS))
    width = 2 + len(PATHS)
    lines += ["", f"per receipt (rapidocr {'/'.join(VARIANTS)} | tesseract {'/'.join(VARIANTS)}):"]
    for r in rows:
        lines.append(f"  {r[0]}  " + " ".join(f"{x:.2f}" for x in r[1:1 + width]) + " | "
                     + " ".join(f"{x:.2f}" for x in r[1 + width:]))
    lines += ["", f"operations ({' | '.join(PATHS)}):"]
    for i, r in enumerate(rows):
        lines.append(f"  {r[0]}  " + " | ".join(ops_seen[p][i] for p in PATHS))
    lines.append(f"\nCPU time {time.process_time() - cpu0:.0f} s (this process; tesseract runs apart)")
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
