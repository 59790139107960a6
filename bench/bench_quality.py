"""Benchmark of ocrprep.quality: defect detection, acceptance, speed; beside the Laplacian-variance peer.

Run: ``.venv/bin/python bench/bench_quality.py [--data ../shared/data/sroie] [--limit N]``.

For every receipt of ``--data/img`` (or the first ``--limit``): the original JPEG (clean), and each
kind of :mod:`ocrprep.degrade` at ``mild`` and ``severe`` strength, seeded per image and kind,
applied at full size and encoded as JPEG (quality 90, like a real upload). Each input is assessed
from its bytes the way ``ocrprep assess`` does it: ``decode_image_with_info(data,
max_side=ASSESS_MAX_SIDE, as_gray=True)`` (a reduced decode of the luminance) then
``assess(image, source_size=...)``.

Printed (and written to ``bench/results/quality.txt``):

1. Per kind and severity: share rejected, share whose top reason names the expected defect.
2. Per defect: precision and recall over the clean and severe inputs (detected = score >= 0.5).
3. Targets: clean accepted, severe degradations of the nine target kinds rejected / top reason right.
4. The peer: variance of the Laplacian of the full-size grayscale image with the threshold that
   maximises its macro F1 (good = clean, bad = severe target kinds), beside ours on the same split.
5. Time: median of (reduced decode + assess) beside the median full-size ``decode_image`` of the
   same bytes (RGB, as a caller loads an image), measured alternately in the same run, one thread;
   the CPU time of the two parts apart, and for reference a full-size grey decode.
6. The clean receipts rejected, each with its reasons.

The limits were calibrated on the even-numbered images (sorted by name, index 0, 2, 4 ...); figures
are given for all images and for the odd-numbered (held-out) half.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

from ocrprep.degrade import EXPECTED_DEFECTS, KINDS, degrade_with_params, item_seed  # noqa: E402
from ocrprep.imageio import decode_image, decode_image_with_info, encode_image  # noqa: E402
from ocrprep.quality import ASSESS_MAX_SIDE, DEFECTS, QualityLimits, assess, judge  # noqa: E402
from _report import emit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: The severe kinds the issue's targets name.
TARGET_KINDS = ("blur", "motion_blur", "noise", "dark", "faint", "occlusion", "cutoff", "tiny_text", "glare")
SEVERITIES = ("mild", "severe")
JPEG_QUALITY = 90


@dataclass
class Case:
    """One assessed input."""

    stem: str
    index: int
    kind: str  # "clean" or a degradation kind
    severity: str  # "" for clean
    data: bytes
    params: dict[str, object] = field(default_factory=dict)
    measurements: dict[str, float] = field(default_factory=dict)
    laplacian: float = 0.0
    t_assess: float = 0.0
    t_decode: float = 0.0
    cpu_assess: float = 0.0
    cpu_decode: float = 0.0
    cpu_reduced: float = 0.0  # the reduced decode alone (part of cpu_assess)
    cpu_decode_grey: float = 0.0  # a full-size decode of the luminance only (reference)

    @property
    def expected(self) -> tuple[str, ...]:
        return () if self.kind == "clean" else EXPECTED_DEFECTS[self.kind]

    @property
    def held_out(self) -> bool:
        return self.index % 2 == 1


def generate(data_dir: Path, limit: int | None, seed: int, cache: Path | None) -> Iterator[Case]:
    """The clean and degraded inputs, from the cache when it has them."""
    files = sorted((data_dir / "img").glob("*.jpg"))
    if limit:
        files = files[:limit]
    for index, path in enumerate(files):
        stem = path.stem
        raw = path.read_bytes()
        yield Case(stem, index, "clean", "", raw)
        image: np.ndarray | None = None
        for kind in KINDS:
            for severity in SEVERITIES:
                cached = cache / f"{stem}__{kind}__{severity}.jpg" if cache else None
                if cached is not None and cached.exists():
                    params = json.loads(cached.with_suffix(".json").read_text())
                    yield Case(stem, index, kind, severity, cached.read_bytes(), params)
                    continue
                if image is None:
                    image = decode_image(raw)
                one_seed = item_seed(seed, stem, kind, severity, 0)
                bad, params = degrade_with_params(image, kind, severity, one_seed)
                data = encode_image(bad, "jpeg", quality=JPEG_QUALITY)
                if cached is not None:
                    cached.write_bytes(data)
                    cached.with_suffix(".json").write_text(json.dumps(params))
                yield Case(stem, index, kind, severity, data, params)


def run_case(case: Case) -> None:
    """Assess one input from its bytes, time it beside a full decode, and take the peer's measure."""
    c0, t0 = time.process_time(), time.perf_counter()
    full = decode_image(case.data)
    c1, t1 = time.process_time(), time.perf_counter()
    image, info = decode_image_with_info(case.data, max_side=ASSESS_MAX_SIDE, as_gray=True)
    c_mid = time.process_time()
    report = assess(image, source_size=(info.height, info.width))
    c2, t2 = time.process_time(), time.perf_counter()
    case.t_decode, case.t_assess = t1 - t0, t2 - t1
    case.cpu_decode, case.cpu_assess = c1 - c0, c2 - c1
    case.cpu_reduced = c_mid - c1
    c3 = time.process_time()
    decode_image(case.data, as_gray=True)
    case.cpu_decode_grey = time.process_time() - c3
    case.measurements = dict(report.measurements)
    gray = cv2.cvtColor(full, cv2.COLOR_RGB2GRAY)
    case.laplacian = float(cv2.Laplacian(gray, cv2.CV_64F).var())


# -- metrics -------------------------------------------------------------------------------


def macro_f1(truth_bad: np.ndarray, pred_bad: np.ndarray) -> float:
    """Mean of the F1 of the two classes (bad and good)."""
    scores = []
    for cls in (True, False):
        tp = np.sum((pred_bad == cls) & (truth_bad == cls))
        fp = np.sum((pred_bad == cls) & (truth_bad != cls))
        fn = np.sum((pred_bad != cls) & (truth_bad == cls))
        scores.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(scores))


def tuned_laplacian(cases: list[Case]) -> tuple[float, float]:
    """The threshold (bad when variance < t) maximising macro F1, and that F1."""
    values = np.array([c.laplacian for c in cases])
    truth = np.array([c.kind != "clean" for c in cases])
    best = (0.0, 0.0)
    for t in np.unique(np.concatenate([values, [values.max() + 1]])):
        f1 = macro_f1(truth, values < t)
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def report(cases: list[Case], limits: QualityLimits, elapsed: float, limit: int | None,
           cache: Path | None = None) -> str:
    lines: list[str] = []
    add = lines.append
    reports = {id(c): judge(c.measurements, limits) for c in cases}
    n_img = len({c.stem for c in cases})
    add(f"ocrprep quality benchmark: {n_img} SROIE receipts x (clean + {len(KINDS)} kinds x "
        f"{len(SEVERITIES)} severities) = {len(cases)} inputs; JPEG q{JPEG_QUALITY}; "
        f"ASSESS_MAX_SIDE={ASSESS_MAX_SIDE}; run {elapsed:.0f} s" + (f"; --limit {limit}" if limit else "")
        + (" (degraded JPEGs read from --cache, written there by the same seeded code)" if cache else ""))
    add("calibration set: even-numbered images (index 0, 2, ...); held-out: odd-numbered")
    add("")

    def split(sel: list[Case]) -> dict[str, list[Case]]:
        return {"all": sel, "held-out": [c for c in sel if c.held_out]}

    # 1. per kind
    add("1. per kind: rejected / top reason names the expected defect")
    add(f"   {'kind':<12} {'expected':<28} {'mild rej':>8} {'mild top':>8} {'sev rej':>8} {'sev top':>8}")
    clean = [c for c in cases if c.kind == "clean"]
    acc = np.mean([reports[id(c)].acceptable for c in clean]) if clean else float("nan")
    add(f"   {'clean':<12} {'(none: accepted)':<28} {'':>8} {'':>8} {pct(acc):>8}")
    for kind in KINDS:
        row = [f"   {kind:<12} {','.join(EXPECTED_DEFECTS[kind]):<28}"]
        for sev in SEVERITIES:
            sel = [c for c in cases if c.kind == kind and c.severity == sev]
            rej = np.mean([not reports[id(c)].acceptable for c in sel]) if sel else float("nan")
            top = np.mean([reports[id(c)].top_defect in c.expected for c in sel]) if sel else float("nan")
            row.append(f"{pct(rej):>8} {pct(top):>8}")
        add(" ".join(row))
    add("")

    # 2. per defect
    add("2. per defect over clean + severe inputs (detected = score >= 0.5); recall also at mild")
    add(f"   {'defect':<16} {'precision':>9} {'recall':>7} {'mild rec':>8} {'n pos':>6}")
    judged = [c for c in cases if c.severity in ("", "severe")]
    mild = [c for c in cases if c.severity == "mild"]
    for defect in DEFECTS:
        det = np.array([reports[id(c)].defects[defect] >= 0.5 for c in judged])
        pos = np.array([defect in c.expected for c in judged])
        mpos = [c for c in mild if defect in c.expected]
        mrec = np.mean([reports[id(c)].defects[defect] >= 0.5 for c in mpos]) if mpos else float("nan")
        prec = (det & pos).sum() / max(1, det.sum())
        rec = (det & pos).sum() / max(1, pos.sum())
        add(f"   {defect:<16} {pct(prec):>9} {pct(rec):>7} {pct(mrec):>8} {int(pos.sum()):>6}")
    add("")

    # 3. targets
    add("3. targets                                   all   held-out   target")
    for name, sel_fn, fn, target in (
        ("clean receipts accepted", lambda c: c.kind == "clean", lambda r, c: r.acceptable, ">= 98%"),
        ("severe target kinds rejected", lambda c: c.kind in TARGET_KINDS and c.severity == "severe",
         lambda r, c: not r.acceptable, ">= 95%"),
        ("severe target kinds, top reason right", lambda c: c.kind in TARGET_KINDS and c.severity == "severe",
         lambda r, c: r.top_defect in c.expected, ">= 90%"),
        ("all severe kinds rejected", lambda c: c.severity == "severe",
         lambda r, c: not r.acceptable, "-"),
    ):
        vals = []
        for sel in split([c for c in cases if sel_fn(c)]).values():
            vals.append(np.mean([fn(reports[id(c)], c) for c in sel]) if sel else float("nan"))
        add(f"   {name:<38} {pct(vals[0]):>6} {pct(vals[1]):>9}   {target}")
    add("")

    # 4. peer
    add("4. good (clean) vs bad (severe target kinds): macro F1")
    add(f"   {'method':<44} {'all':>6} {'held-out':>9}")
    gb = [c for c in cases if c.kind == "clean" or (c.kind in TARGET_KINDS and c.severity == "severe")]
    threshold, lap_all = tuned_laplacian(gb)
    held = [c for c in gb if c.held_out]
    lap_held = macro_f1(np.array([c.kind != "clean" for c in held]),
                        np.array([c.laplacian < threshold for c in held])) if held else float("nan")
    ours = [macro_f1(np.array([c.kind != "clean" for c in sel]),
                     np.array([not reports[id(c)].acceptable for c in sel])) if sel else float("nan")
            for sel in (gb, held)]
    add(f"   {'variance of Laplacian, tuned t=' + format(threshold, '.1f'):<44} {lap_all:6.3f} {lap_held:9.3f}")
    add(f"   {'ocrprep assess (no model)':<44} {ours[0]:6.3f} {ours[1]:9.3f}")
    add(f"   ratio ours / peer: {ours[0] / max(lap_all, 1e-9):.2f}x (all)")
    add("")

    # 5. time
    def time_row(label: str, spent: list[float], decode: list[float], shown: list[float] | None = None,
                 target: str = "") -> None:
        """One row: median of ``spent``, of ``shown`` decodes (blank when None), ratio to ``decode``."""
        d = statistics.median(decode)
        middle = f"{1e3 * statistics.median(shown):7.2f} ms" if shown is not None else f"{'':>10}"
        add(f"   {label:<40} {1e3 * statistics.median(spent):7.2f} ms  {middle}   "
            f"{statistics.median(spent) / d:5.2f}x" + (f"   {target}" if target else ""))

    t_d = [c.t_decode for c in cases]
    c_d = [c.cpu_decode for c in cases]
    add("5. time per image, median (one thread)       assess     full decode   ratio   target")
    time_row("all inputs (JPEG)", [c.t_assess for c in cases], t_d, t_d, "<= 1.5x")
    if clean:
        cd = [c.t_decode for c in clean]
        time_row("clean originals", [c.t_assess for c in clean], cd, cd)
    time_row("all inputs, CPU time (process_time)", [c.cpu_assess for c in cases], c_d, c_d)
    time_row("  of which the reduced decode (CPU)", [c.cpu_reduced for c in cases], c_d)
    time_row("  of which assess itself (CPU)", [c.cpu_assess - c.cpu_reduced for c in cases], c_d)
    cg = [c.cpu_decode_grey for c in cases]
    time_row("all inputs, CPU, against a full grey decode", [c.cpu_assess for c in cases], cg, cg)
    add("   (assess = decode_image_with_info(max_side=ASSESS_MAX_SIDE, as_gray=True) + assess;")
    add("    decode = decode_image (RGB); grey decode = decode_image(as_gray=True), for reference;")
    add("    wall time unless marked; the machine is shared, so CPU time is the steadier figure)")
    add("")

    # 6. the clean receipts turned away, and why (what a user would see)
    rejected = [c for c in clean if not reports[id(c)].acceptable]
    add(f"6. clean receipts rejected: {len(rejected)} of {len(clean)} "
        f"({sum(c.held_out for c in rejected)} held-out)")
    for c in rejected:
        half = "held-out" if c.held_out else "calibration"
        add(f"   {c.stem} ({half}): " + "; ".join(reports[id(c)].reasons))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sroie")
    parser.add_argument("--limit", type=int, default=None, help="only the first N receipts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None, help="keep the degraded JPEGs here")
    parser.add_argument("--dump", type=Path, default=None, help="write per-input measurements (JSON lines)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.txt")
    args = parser.parse_args(argv)
    if not (args.data / "img").is_dir():
        print(f"no receipts at {args.data}/img (set --data)", file=sys.stderr)
        return 2
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cases: list[Case] = []
    for case in generate(args.data, args.limit, args.seed, args.cache):
        run_case(case)
        case.data = b""
        cases.append(case)
        if len(cases) % 200 == 0:
            print(f"  {len(cases)} inputs assessed", file=sys.stderr)
    elapsed = time.perf_counter() - start
    if args.dump:
        with args.dump.open("w") as fh:
            for c in cases:
                fh.write(json.dumps({"stem": c.stem, "index": c.index, "kind": c.kind, "severity": c.severity,
                                     "params": c.params, "m": c.measurements, "laplacian": c.laplacian,
                                     "t_assess": c.t_assess, "t_decode": c.t_decode,
                                     "cpu_assess": c.cpu_assess, "cpu_decode": c.cpu_decode,
                                     "cpu_reduced": c.cpu_reduced}) + "\n")
    table = report(cases, QualityLimits(), elapsed, args.limit, args.cache)
    emit(table, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
