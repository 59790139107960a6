"""Choose an engine's enhancement profile on receipts outside the bench's OCR set.

Run: ``.venv/bin/python bench/engine_check.py --engine tesseract [--ids mod23] [--kinds ...]
[--variant NAME:field=value,field=value ...]``.

Receipts: by default the sorted indices i with i % 23 in {11, 17} (18 scans; ``--ids 188-207``
gives the 20 used by ``faint_check.py``), never the bench's own OCR set (``pick(files, 10)`` and
``pick(files, 5)``: indices 0, 23, 46, ..., 208). Each receipt is degraded with the bench's kinds
and seed rule (``bench_enhance.degrade_kind``, seed 2024) and read by one engine: the clean scan,
the degraded one, and ``auto_enhance`` of the degraded one under each variant of
:class:`~ocrprep.enhance.Thresholds` (``generic`` = the defaults; ``profile`` =
``Thresholds.for_engine(engine)``; more from ``--variant``). Recovery per kind is
(enhanced - degraded) / (clean - degraded) from the kind's F1 means, as in the bench. OCR answers
are cached by image content (``--cache``), so repeated runs only read the images that changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.enhance import auto_enhance  # noqa: E402
from ocrprep.enhance.policy import Thresholds  # noqa: E402
from ocrprep.ocr import RapidOcrEngine, TesseractEngine, read_box_transcripts  # noqa: E402
from _report import emit  # noqa: E402


def _parse_variant(text: str, base: Thresholds) -> tuple[str, Thresholds]:
    name, _, spec = text.partition(":")
    values: dict[str, Any] = {}
    for item in filter(None, spec.split(",")):
        key, _, raw = item.partition("=")
        current = getattr(base, key)
        values[key] = type(current)(raw) if not isinstance(current, bool) else raw in ("1", "true")
    return name, replace(base, **values)


def _choose(files: list[Path], ids: str) -> list[Path]:
    if ids == "mod23":
        return [f for i, f in enumerate(files) if i % 23 in (11, 17)]
    first, last = (int(v) for v in ids.split("-"))
    return files[first:last + 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=be.ROOT.parent / "shared" / "data" / "sroie")
    parser.add_argument("--engine", default="tesseract", choices=("tesseract", "rapidocr"))
    parser.add_argument("--ids", default="mod23", help="mod23 (i %% 23 in 11, 17) or FIRST-LAST")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--kinds", default="very faint,dim + heavy JPEG,small text,clean")
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME:field=value,... (fields of Thresholds; base = the generic defaults, "
                             "or the engine profile when NAME starts with 'p.')")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/ocrprep_engine_check_cache.json"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = args.data.resolve()
    files = sorted((data / "img").glob("*.jpg"))
    chosen = _choose(files, args.ids)[: args.limit or None]
    held = {f.stem for f in be.pick(files, 10) + be.pick(files, 5)}
    if held & {f.stem for f in chosen}:
        raise SystemExit(f"overlap with the bench's OCR set: {sorted(held & {f.stem for f in chosen})}")
    engine = RapidOcrEngine(threads=1) if args.engine == "rapidocr" else TesseractEngine()
    variants = {"generic": Thresholds(), "profile": Thresholds.for_engine(args.engine)}
    for text in args.variant:
        name, th = _parse_variant(text, variants["profile"] if text.startswith("p.") else Thresholds())
        variants[name] = th
    cache: dict[str, float] = json.loads(args.cache.read_text()) if args.cache.exists() else {}

    def f1(image: np.ndarray, truth: str) -> float:
        key = args.engine + ":" + hashlib.sha1(image.tobytes() + str(image.shape).encode()).hexdigest()
        if key not in cache:
            cache[key] = be.ocr_f1(engine, image, truth)
        return cache[key]

    labels = [label for label in args.kinds.split(",")]
    index = {label: k for k, (label, *_) in enumerate(be.KINDS)}
    table: dict[str, dict[str, list[float]]] = {
        lab: {v: [] for v in ("clean", "degraded", *variants)} for lab in labels}
    ops: dict[str, dict[str, list[str]]] = {lab: {v: [] for v in variants} for lab in labels}
    cpu0 = time.process_time()
    for n, path in enumerate(chosen):
        t0 = time.perf_counter()
        image = be.load(path)
        truth = read_box_transcripts(data / "box" / f"{path.stem}.csv")
        clean = f1(image, truth)
        for lab in labels:
            degraded = image if lab == "clean" else be.degrade_kind(image, index[lab], int(path.stem), args.seed)
            row = table[lab]
            row["clean"].append(clean)
            row["degraded"].append(f1(degraded, truth))
            for name, th in variants.items():
                res = auto_enhance(degraded, thresholds=th)
                row[name].append(f1(res.image, truth) if res.changed else row["degraded"][-1])
                ops[lab][name].append(" ".join(str(op) for op in res.operations) if res.changed else "-")
        args.cache.write_text(json.dumps(cache))
        print(f"  {n + 1}/{len(chosen)} {path.stem} {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    lines = [f"# engine_check: {args.engine}, receipts {args.ids} ({len(chosen)}), seed {args.seed}",
             "  variants: " + "; ".join(f"{n}={_diff(th)}" for n, th in variants.items()), "",
             f"  {'kind':<20}{'clean':>7}{'degr.':>7}" + "".join(f"{v[:12]:>13}" for v in variants)]
    for lab in labels:
        mean = {v: float(np.mean(x)) for v, x in table[lab].items()}
        gap = mean["clean"] - mean["degraded"]
        cells = "".join(
            f"{mean[v]:>7.3f}" + (f" ({(mean[v] - mean['degraded']) / gap:>4.2f})" if gap >= 0.05 else " " * 7)
            for v in variants)
        lines.append(f"  {lab:<20}{mean['clean']:>7.3f}{mean['degraded']:>7.3f}{cells}")
    lines += ["", "per receipt (clean degraded " + " ".join(variants) + "):"]
    for lab in labels:
        lines.append(f"  {lab}:")
        for i, path in enumerate(chosen):
            cells = " ".join(f"{table[lab][v][i]:.2f}" for v in ("clean", "degraded", *variants))
            lines.append(f"    {path.stem} {cells}   " + " | ".join(ops[lab][v][i][:80] for v in variants))
    lines.append(f"\nCPU time {time.process_time() - cpu0:.0f} s (this process; tesseract runs apart)")
    if args.out is not None:
        emit(lines, args.out)
    else:
        print("\n".join(lines))
    return 0


def _diff(th: Thresholds) -> str:
    base = Thresholds()
    changed = {k: getattr(th, k) for k in th.__dataclass_fields__ if getattr(th, k) != getattr(base, k)}
    return ",".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


if __name__ == "__main__":
    raise SystemExit(main())
