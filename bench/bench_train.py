"""Benchmark of the custom-labels workflow (``make bench-train``).

Trains a good/bad quality model on a grouped 80/20 split of ``../shared/data/sroie`` plus the
project's severe synthetic degradations (the same code path as ``ocrprep train`` and
``make model``), then measures on the held-out receipts:

- the evaluation table (per-label precision/recall/F1 at the assumed thresholds, macro F1);
- the share of clean held-out receipts accepted (top label ``good``), both for the copies used in
  training and for the original full-size JPEGs decoded the way ``process`` decodes them;
- the share of each degradation kind rejected;
- training time (features + fit, 2 workers) apart from synthesis time;
- model load time and prediction time per receipt (features included, one thread);
- the peer in the same run: variance of the Laplacian with a threshold tuned on the training
  split (the textbook blur check), its macro F1 beside ours as a ratio.

Usage::

    .venv/bin/python bench/bench_train.py [--data ../shared/data/sroie] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

import cv2  # noqa: E402

from ocrprep.datasets import split_dataset  # noqa: E402
from ocrprep.imageio import decode_image  # noqa: E402
from ocrprep.models import load_model  # noqa: E402
from ocrprep.models.evaluation import format_evaluation  # noqa: E402
from ocrprep.models.runtime import _CACHE  # noqa: E402
from ocrprep.models.training import _decode_side, train_model  # noqa: E402
from _report import emit  # noqa: E402
from train_default_model import (  # noqa: E402
    augment_good,
    bad_kinds,
    default_params,
    load_parts,
    prepare_sources,
    synthesize_parallel,
)

TARGETS = {
    "macro_f1": 0.97,
    "clean_accepted": 0.98,
    "train_seconds": 180.0,
    "load_ms": 200.0,
    "predict_ms": 20.0,
}


def _laplacian_variance(image: np.ndarray) -> float:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _tuned_threshold(values: np.ndarray, good: np.ndarray) -> float:
    """The Laplacian-variance threshold (good when >= t) maximising macro F1 on training data."""
    best, best_t = -1.0, 0.0
    for t in np.unique(values):
        pred = values >= t
        f1s = []
        for positive, predicted in ((good, pred), (~good, ~pred)):
            tp = (positive & predicted).sum()
            denom = 2 * tp + (predicted & ~positive).sum() + (positive & ~predicted).sum()
            f1s.append(2 * tp / denom if denom else 0.0)
        if np.mean(f1s) > best:
            best, best_t = float(np.mean(f1s)), float(t)
    return best_t


def _macro_f1(pred_good: np.ndarray, good: np.ndarray) -> float:
    f1s = []
    for positive, predicted in ((good, pred_good), (~good, ~pred_good)):
        tp = (positive & predicted).sum()
        denom = 2 * tp + (predicted & ~positive).sum() + (positive & ~predicted).sum()
        f1s.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1s))


def _kind(ref: str) -> str:
    name = Path(ref).stem
    if "__" not in name:
        return "clean"
    return "good-variant" if name.endswith("__ok") else name.split("__")[0]


def _cold_load_ms(path: Path) -> float:
    code = (
        "import time, sys; t = time.perf_counter(); "
        f"sys.path.insert(0, {str(REPO / 'src')!r}); "
        "from ocrprep.models import load_model; "
        f"load_model({str(path)!r}); print((time.perf_counter() - t) * 1000)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "sroie"))
    parser.add_argument("--limit", type=int, default=0, help="use only the first N receipts")
    parser.add_argument("--synth-dir", default=str(REPO / "build" / "synth-default"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "train.txt"))
    args = parser.parse_args(argv)

    data = Path(args.data)
    originals = sorted((data / "img").glob("*.jpg"))
    if not originals:
        print(f"no receipts in {data}/img; get ../shared/data/sroie", file=sys.stderr)
        return 2
    if args.limit:
        originals = originals[: args.limit]
    synth_dir = Path(args.synth_dir) if not args.limit else Path(args.synth_dir).with_name(f"synth-bench-{args.limit}")
    t0 = time.perf_counter()
    sources = prepare_sources(originals, synth_dir.with_name("sources-default"), 1600)
    prep_seconds = time.perf_counter() - t0
    parts, synth_seconds = synthesize_parallel(
        sources, synth_dir, kinds=bad_kinds(), severities=("severe",), seed=args.seed, workers=args.workers
    )
    t0 = time.perf_counter()
    augmented = augment_good(sources, synth_dir.with_name(synth_dir.name.replace("synth", "good-aug")), seed=args.seed)
    prep_seconds += time.perf_counter() - t0
    dataset = load_parts([*parts, augmented])
    train, test = split_dataset(dataset, test_fraction=0.2, seed=args.seed)

    params = default_params(args.seed, args.workers)  # the same as make model
    model_dir = REPO / "build" / "bench-train-model"
    import resource

    def cpu_now() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    t0, c0 = time.perf_counter(), cpu_now()
    result = train_model(train, model_dir, params=params, test=test, name="bench:1",
                         display_root=synth_dir.parent)
    train_seconds = time.perf_counter() - t0
    train_cpu = cpu_now() - c0

    # load time: warm path (booster from model.txt + JSON), and a cold process (imports included)
    loads = []
    for _ in range(5):
        _CACHE.clear()
        t = time.perf_counter()
        model = load_model(model_dir)
        loads.append((time.perf_counter() - t) * 1000)
    load_ms = float(np.median(loads))
    cold_ms = _cold_load_ms(model_dir)

    # prediction on the held-out receipts, one thread, features included; decoding timed apart
    cv2.setNumThreads(1)
    side = _decode_side()
    decode_ms, predict_ms = [], []
    test_good_refs = [i.ref for i in test.items if i.label == "good" and "__" not in Path(i.ref).name]
    accepted_copies = 0
    for ref in test_good_refs:
        blob = Path(ref).read_bytes()
        t = time.perf_counter()
        image = decode_image(blob, max_side=side)
        t1 = time.perf_counter()
        labels = model.detect_labels(image)
        t2 = time.perf_counter()
        decode_ms.append((t1 - t) * 1000)
        predict_ms.append((t2 - t1) * 1000)
        accepted_copies += bool(labels) and labels[0].name == "good"
    test_stems = {i.group for i in test.items if i.label == "good"}
    accepted_orig = 0
    orig_predict = []
    test_originals = [p for p in originals if p.stem in test_stems]
    orig_cpu = []
    for path in test_originals:
        image = decode_image(path.read_bytes(), max_side=side)
        t, c = time.perf_counter(), time.process_time()
        labels = model.detect_labels(image)
        orig_predict.append((time.perf_counter() - t) * 1000)
        orig_cpu.append((time.process_time() - c) * 1000)
        accepted_orig += bool(labels) and labels[0].name == "good"

    # per-kind rejection on the test split (top label "bad")
    per_kind: dict[str, list[bool]] = defaultdict(list)
    for row in result.evaluation["images"]:
        per_kind[_kind(row["ref"])].append(row["top_label"] == "bad")

    # the peer: variance of the Laplacian, threshold tuned on the training split
    def lapvars(items: tuple) -> tuple[np.ndarray, np.ndarray]:
        values, good = [], []
        for item in items:
            image = decode_image(Path(item.ref).read_bytes(), max_side=side)
            values.append(_laplacian_variance(image))
            good.append(item.label == "good")
        return np.array(values), np.array(good)

    t0 = time.perf_counter()
    train_v, train_g = lapvars(train.items)
    threshold = _tuned_threshold(train_v, train_g)
    test_v, test_g = lapvars(test.items)
    peer_f1 = _macro_f1(test_v >= threshold, test_g)
    peer_seconds = time.perf_counter() - t0

    ev = result.evaluation
    clean_rate = accepted_orig / max(len(test_originals), 1)
    lines = [
        "bench-train: good/bad quality model, SROIE receipts + severe synthetic degradations",
        f"receipts {len(originals)} (train groups {len({i.group for i in train.items})}, "
        f"test groups {len({i.group for i in test.items})}); images train {len(train.items)}, test {len(test.items)}",
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (shared machine); "
        f"feature workers {args.workers}, booster {params.num_threads} thread(s); prediction 1 thread",
        "",
        format_evaluation(ev),
        "",
        "rejected per kind (held-out, top label 'bad'; good-variant should be low):",
        *(f"  {kind:<12} {np.mean(v):6.1%}  of {len(v)}" for kind, v in sorted(per_kind.items()) if kind != "clean"),
        "",
        f"thresholds chosen by: {result.meta['threshold_selection']['method']}",
        "  " + json.dumps({k: v for k, v in result.meta["threshold_selection"].items() if k != "method"}),
        "",
        f"{'measure':<52}{'value':>12}{'target':>12}  met",
        _row("held-out macro F1 (shipped thresholds)", ev["macro_f1"], ">= 0.97", ev["macro_f1"] >= TARGETS["macro_f1"], "{:.4f}"),
        _row("clean held-out receipts accepted (original JPEGs)", clean_rate, ">= 98%",
             clean_rate >= TARGETS["clean_accepted"], "{:.1%}"),
        _row("clean held-out receipts accepted (shrunk copies)", accepted_copies / max(len(test_good_refs), 1), "", None, "{:.1%}"),
        _row("training time, features + fit (s)", train_seconds, "<= 180", train_seconds <= TARGETS["train_seconds"], "{:.1f}"),
        _row("  CPU seconds used (all processes)", train_cpu, "", None, "{:.1f}"),
        _row("  = wall time on 2 idle cores, about (s)", train_cpu / args.workers, "<= 180",
             train_cpu / args.workers <= TARGETS["train_seconds"], "{:.1f}"),
        _row("  of which features (s)", result.timings["features_seconds"], "", None, "{:.1f}"),
        _row("  of which fit (s)", result.timings["fit_seconds"], "", None, "{:.1f}"),
        _row("synthesis time, reported apart (s; 0 = cached)", synth_seconds, "", None, "{:.1f}"),
        _row("preparing shrunk copies + benign good variants (s)", prep_seconds, "", None, "{:.1f}"),
        _row("model load, median (ms)", load_ms, "<= 200", load_ms <= TARGETS["load_ms"], "{:.1f}"),
        _row("model load in a fresh process, imports included (ms)", cold_ms, "", None, "{:.0f}"),
        _row("prediction per receipt, features included, median (ms)", float(np.median(orig_predict)), "<= 20",
             float(np.median(orig_predict)) <= TARGETS["predict_ms"], "{:.1f}"),
        _row("prediction per receipt, p95 (ms)", float(np.percentile(orig_predict, 95)), "", None, "{:.1f}"),
        _row("prediction per receipt, CPU time median (ms)", float(np.median(orig_cpu)), "<= 20",
             float(np.median(orig_cpu)) <= TARGETS["predict_ms"], "{:.1f}"),
        _row("decode at preview size, median (ms, not included above)", float(np.median(decode_ms)), "", None, "{:.1f}"),
        "",
        "peer in the same run: variance of the Laplacian, threshold tuned on the training split",
        _row("peer held-out macro F1", peer_f1, "", None, "{:.4f}"),
        _row("ours / peer macro F1 (ratio)", ev["macro_f1"] / max(peer_f1, 1e-9), "", None, "{:.2f}x"),
        f"(peer timing {peer_seconds:.1f} s; the managed service it replaces states 30 min to hours "
        "of training: not run here)",
        f"model folder size {sum(f.stat().st_size for f in model_dir.iterdir()) / 1e6:.2f} MB",
    ]
    out = Path(args.out)
    emit(lines, out)
    (out.with_suffix(".json")).write_text(json.dumps({
        "macro_f1": ev["macro_f1"], "clean_accepted": clean_rate, "train_seconds": train_seconds,
        "synth_seconds": synth_seconds, "load_ms": load_ms, "cold_load_ms": cold_ms,
        "predict_ms_median": float(np.median(orig_predict)), "predict_cpu_ms_median": float(np.median(orig_cpu)),
        "train_cpu_seconds": train_cpu, "peer_macro_f1": peer_f1,
    }, indent=1) + "\n")
    return 0


def _row(name: str, value: float, target: str, met: bool | None, fmt: str) -> str:
    mark = "" if met is None else ("yes" if met else "NO")
    return f"{name:<52}{fmt.format(value):>12}{target:>12}  {mark}"


if __name__ == "__main__":
    sys.exit(main())
