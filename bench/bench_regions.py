"""Benchmark: find the document in composed phone photos of SROIE receipts, beside the textbook approach.

For each receipt scan of ``--data`` (seeded), a photo is composed (random perspective, rotation,
generated background, lighting, shadow, noise, blur) and the document is looked for by
``ocrprep.regions.find_document`` and by the textbook OpenCV approach (Canny edges, the largest
contour that approxPolyDP reduces to four points; the full frame when none). Reported: mean IoU of
the quad with the truth, the share with IoU >= 0.9, time per image on one core, the aspect-ratio
error of the flattened result, and on the first ``--ocr-limit`` photos the OCR bag-of-words F1 of
the raw photo, the flattened result and the clean scan (RapidOCR). The flat scans themselves are
also checked: the share returned as the full frame, and the share whose quad cuts transcribed text.

    .venv/bin/python bench/bench_regions.py --data ../shared/data/sroie --limit 60 --ocr-limit 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One core: no library may spread over threads (the time column is per core).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ocrprep.errors import PoorQualityImage  # noqa: E402
from ocrprep.regions.crop import estimate_content_box  # noqa: E402
from ocrprep.regions.document import locate_document, order_quad, quad_iou  # noqa: E402
from ocrprep.regions.flatten import flatten_document, output_size  # noqa: E402
from ocrprep.enhance import auto_enhance  # noqa: E402
from ocrprep.ocr.metrics import bag_of_words_f1, read_box_transcripts  # noqa: E402
from ocrprep.ocr.rapid import RapidOcrEngine  # noqa: E402
from ocrprep.regions.step import extract_document  # noqa: E402
from ocrprep.regions.synth import compose_photo  # noqa: E402

from _report import emit  # noqa: E402


def textbook_quad(image: np.ndarray) -> np.ndarray:
    """The classic tutorial recipe: resize to 500 px high, Canny, largest 4-point contour."""
    h, w = image.shape[:2]
    ratio = h / 500.0
    small = cv2.resize(image, (max(1, round(w / ratio)), 500))
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edged = cv2.Canny(gray, 75, 200)
    contours, _ = cv2.findContours(edged, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        peri = cv2.arcLength(contour, True)
        approx = cv2.approxPolyDP(contour, 0.02 * peri, True)
        if len(approx) == 4:
            return order_quad(approx.reshape(4, 2).astype(np.float32) * ratio)
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def transcript_boxes(path: Path) -> list[tuple[int, int, int, int]]:
    boxes = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) == 9:
            try:
                xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
            except ValueError:
                continue
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def cuts_text(quad: np.ndarray, boxes: list[tuple[int, int, int, int]], tolerance: float = 4.0) -> bool:
    """True when a transcribed line's box centre-line end lies outside the quad by more than tolerance."""
    contour = quad.reshape(-1, 1, 2).astype(np.float32)
    for x0, y0, x1, y1 in boxes:
        cy = (y0 + y1) / 2
        for x in (x0 + 2, x1 - 2):
            if cv2.pointPolygonTest(contour, (float(x), float(cy)), True) < -tolerance:
                return True
    return False


def make_ocr():
    """(recognise(image) -> text, bag_of_words_f1, read_box_transcripts), RapidOCR on one thread."""
    engine = RapidOcrEngine(threads=1)
    return (lambda image: engine.recognize(image).text), bag_of_words_f1, read_box_transcripts


def detector_figures(data: Path, n_train: int, n_test: int, text: bool = False) -> list[str]:
    """Train the region detector on SROIE total/date lines and evaluate it on held-out receipts."""
    from ocrprep.regions.annotations import load_rgb
    from ocrprep.regions.detector_train import train_detector
    from ocrprep.regions.sroie import sroie_region_items

    items = sroie_region_items(data)
    train, test = items[:n_train], items[n_train : n_train + n_test]
    started = time.perf_counter()
    model, evaluation = train_detector(train, test_items=test, load=load_rgb, text_features=text)
    total = time.perf_counter() - started
    if evaluation is None:
        raise SystemExit("the detector evaluation is missing")
    out = [
        f"region detector, {'visual + text cues' if text else 'visual features only'} "
        f"(SROIE total/date lines from key/*.json; {len(train)} train, {len(test)} test receipts):",
        f"  mAP@0.5 {evaluation['mAP50']:.3f}   macro F1 {evaluation['F1Score']:.3f}   "
        f"training {model.meta['training']['seconds']:.0f} s (features incl. text detection), "
        f"train+evaluate {total:.0f} s, one core",
    ]
    for row in evaluation["LabelEvaluationResults"]:
        m = row["Metrics"]
        out.append(f"  {row['Label']:<8} AP50 {m['AveragePrecision50']:.3f}  P {m['Precision']:.3f}  "
                   f"R {m['Recall']:.3f}  F1 {m['F1Score']:.3f}  threshold {m['AssumedThreshold']:.1f}")
    return out


def enhance(image: np.ndarray) -> np.ndarray:
    """ocrprep's own enhance step on an extracted document."""
    return auto_enhance(image).image


def receipt_photo(path: Path, seed: int, aliased: bool,
                  shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(page, scan, photo, true quad): the scan is the page cut to its content (some SROIE scans
    are an A4 page with a small receipt on it, which no one would photograph whole)."""
    page = read_rgb(path)
    box = estimate_content_box(page, margin=0.02)
    scan = np.ascontiguousarray(page[box.y0 : box.y1, box.x0 : box.x1])
    extra = {"shape": shape} if shape else {}
    photo, truth = compose_photo(scan, seed=seed, antialias=not aliased, **extra)
    return page, scan, photo, truth


def ocr_variants(name: str, photo: np.ndarray, truth: np.ndarray, scan: np.ndarray, truth_text: str,
                 recognise, f1) -> tuple[float, ...]:
    """OCR F1 of the raw photo, ours extracted, ours extracted then enhanced, and the ceilings: the
    photo flattened with the true quad (the ceiling of any quad), the scan at the size it has in
    the photo (the resolution ceiling) and the clean scan."""
    try:
        extracted, _ = extract_document(photo)
    except PoorQualityImage as exc:  # no document found: OCR the photo as is
        print(f"{name}: extract refused: {exc.message}", file=sys.stderr)
        extracted = photo
    native = output_size(truth, photo.shape)
    variants = {
        "photo": photo,
        "extracted": extracted,
        "extracted+enhance": enhance(extracted),
        "true-quad flatten": flatten_document(photo, truth),
        "scan at photo res": at_size(scan, native),
        "scan": scan,
    }
    row = tuple(f1(recognise(im), truth_text) for im in variants.values())
    print(f"{name}: OCR F1 " + " ".join(f"{k} {v:.3f}" for k, v in zip(variants, row))
          + f" (extracted {extracted.shape[1]}x{extracted.shape[0]}, in photo {native[0]}x{native[1]}, "
          f"scan {scan.shape[1]}x{scan.shape[0]})", file=sys.stderr)
    return row


def at_size(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` resized to (width, height): area averaging down, bicubic up."""
    down = size[0] * size[1] < image.shape[0] * image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if down else cv2.INTER_CUBIC)


def ocr_lines(rows: np.ndarray, what: str) -> list[str]:
    """The OCR table: one mean F1 per variant, and the gaps to the clean scan."""
    photo, extracted, enhanced, true_flat, at_res, scan = rows.mean(axis=0)
    return [
        f"OCR bag-of-words F1 (RapidOCR) on {what}:",
        f"  raw photo {photo:.3f}   extracted (flattened+cropped) {extracted:.3f}   "
        f"extracted+enhance {enhanced:.3f}",
        f"  ceilings: photo flattened with the TRUE quad {true_flat:.3f}   scan resized to its size in "
        f"the photo {at_res:.3f}   clean scan {scan:.3f}",
        f"  gap to scan: extracted {scan - extracted:+.3f}   extracted+enhance {scan - enhanced:+.3f}   "
        f"true-quad flatten {scan - true_flat:+.3f}",
    ]


def phone_rows(images: list[Path], args: argparse.Namespace, recognise, f1, transcripts) -> list[tuple[float, ...]]:
    """OCR F1 variants on photos composed at 12 MP (the same seeds as the 1.92-MP photos)."""
    rows = []
    for i, path in enumerate(images):
        _, scan, photo, truth = receipt_photo(path, args.seed + i, args.aliased_composer, shape=(4000, 3000))
        truth_text = transcripts(args.data / "box" / f"{path.stem}.csv")
        rows.append(ocr_variants(f"{path.stem} (12 MP)", photo, truth, scan, truth_text, recognise, f1))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sroie")
    parser.add_argument("--limit", type=int, default=0, help="receipts to compose photos from (0: all)")
    parser.add_argument("--ocr-limit", type=int, default=10, help="photos to OCR (slow: ~3 s each x3)")
    parser.add_argument("--phone-ocr", type=int, default=0,
                        help="also OCR this many photos composed at 12 MP (reported beside the 1.92-MP ones)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--aliased-composer", action="store_true",
                        help="compose as before the anti-aliasing fix (large scans shrunk without area averaging)")
    parser.add_argument("--detector-train", type=int, default=100, help="SROIE receipts to train the detector on (0: skip)")
    parser.add_argument("--detector-test", type=int, default=60, help="held-out receipts to evaluate it on")
    parser.add_argument("--detector-text-train", type=int, default=60,
                        help="receipts to train the text-cue detector on (0: skip; ~2 s per receipt)")
    parser.add_argument("--detector-text-test", type=int, default=40)
    parser.add_argument("--detector-only", action="store_true", help="skip the photos, run only the detector part")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "regions.txt")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    images = sorted((args.data / "img").glob("*.jpg"))
    if not images:
        raise SystemExit(f"no receipts under {args.data}/img")
    if args.limit:
        images = images[: args.limit]
    if args.detector_only:
        lines = [f"regions benchmark, detector part only ({args.data})"]
        if args.detector_train:
            lines += ["", *detector_figures(args.data, args.detector_train, args.detector_test)]
        if args.detector_text_train:
            lines += ["", *detector_figures(args.data, args.detector_text_train, args.detector_text_test, text=True)]
        emit(lines, args.out)
        return 0

    ours_iou, book_iou, ours_t, book_t, aspect_err, megapixels = [], [], [], [], [], []
    ours_cpu, book_cpu = [], []
    scan_full, scan_cut = 0, 0
    ocr_rows: list[tuple[float, float, float]] = []
    recognise = f1 = transcripts = None
    for i, path in enumerate(images):
        page, scan, photo, truth = receipt_photo(path, args.seed + i, args.aliased_composer)
        megapixels.append(photo.shape[0] * photo.shape[1] / 1e6)
        started, cpu = time.perf_counter(), time.process_time()
        found = locate_document(photo)
        ours_t.append(time.perf_counter() - started)
        ours_cpu.append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        book = textbook_quad(photo)
        book_t.append(time.perf_counter() - started)
        book_cpu.append(time.process_time() - cpu)
        ours_iou.append(quad_iou(found.quad, truth) if found.quad is not None else 0.0)
        book_iou.append(quad_iou(book, truth))
        if found.quad is not None:
            flat = flatten_document(photo, found.quad)
            true_ratio = scan.shape[1] / scan.shape[0]
            aspect_err.append(abs((flat.shape[1] / flat.shape[0]) / true_ratio - 1))
        # The flat scan itself: full frame or true paper edges, never a quad that cuts text.
        on_scan = locate_document(page)
        boxes = transcript_boxes(args.data / "box" / f"{path.stem}.csv")
        scan_full += bool(on_scan.full_frame)
        scan_cut += on_scan.quad is None or cuts_text(on_scan.quad, boxes)
        if i < args.ocr_limit:
            if recognise is None:
                recognise, f1, transcripts = make_ocr()
            truth_text = transcripts(args.data / "box" / f"{path.stem}.csv")
            ocr_rows.append(ocr_variants(path.stem, photo, truth, scan, truth_text, recognise, f1))
        print(f"{path.stem}: iou ours {ours_iou[-1]:.3f} textbook {book_iou[-1]:.3f} "
              f"({1000 * ours_t[-1]:.0f} ms) {found.reason}", file=sys.stderr)

    ours, book = np.array(ours_iou), np.array(book_iou)
    lines = [
        f"regions benchmark: {len(images)} composed photos of the receipts of {args.data} "
        f"(each scan cut to its content, seed {args.seed}), {np.mean(megapixels):.2f} MP each, one core; composer "
        f"{'ALIASED (as before the fix)' if args.aliased_composer else 'area-averages a shrunk scan (fixed)'}",
        "",
        f"{'method':<28}{'mean IoU':>10}{'IoU>=0.9':>10}{'CPU ms':>9}{'p95 CPU':>9}{'wall ms':>9}",
        f"{'ocrprep find_document':<28}{ours.mean():>10.4f}{(ours >= 0.9).mean():>10.1%}"
        f"{1000 * np.mean(ours_cpu):>9.1f}{1000 * np.percentile(ours_cpu, 95):>9.1f}{1000 * np.mean(ours_t):>9.1f}",
        f"{'textbook Canny+4-pt contour':<28}{book.mean():>10.4f}{(book >= 0.9).mean():>10.1%}"
        f"{1000 * np.mean(book_cpu):>9.1f}{1000 * np.percentile(book_cpu, 95):>9.1f}{1000 * np.mean(book_t):>9.1f}",
        f"{'ratio ours / textbook':<28}{ours.mean() / max(book.mean(), 1e-9):>10.2f}"
        f"{(ours >= 0.9).mean() / max((book >= 0.9).mean(), 1e-9):>10.2f}"
        f"{np.mean(ours_cpu) / max(np.mean(book_cpu), 1e-9):>9.2f}",
        "(CPU ms: process CPU time on one thread, the per-core cost; wall ms includes waiting for a "
        "shared machine's cores)",
        "",
        f"worst IoU (ours): {ours.min():.3f}; photos below 0.9: {int((ours < 0.9).sum())}",
        f"flattened aspect ratio error: median {np.median(aspect_err):.2%}, "
        f"mean {np.mean(aspect_err):.2%}" if aspect_err else "flattened aspect ratio error: n/a",
        f"flat scans: {scan_full}/{len(images)} returned as the full frame; "
        f"{scan_cut}/{len(images)} with a quad that cuts transcribed text (or None)",
    ]
    if ocr_rows:
        lines += ["", *ocr_lines(np.array(ocr_rows), f"the first {len(ocr_rows)} photos ({np.mean(megapixels):.2f} MP)")]
    if args.phone_ocr:
        if recognise is None:
            recognise, f1, transcripts = make_ocr()
        phone = phone_rows(images[: args.phone_ocr], args, recognise, f1, transcripts)
        lines += ["", *ocr_lines(np.array(phone), f"{len(phone)} photos composed at a phone-like 12 MP "
                                 "(4000x3000; same receipts, seeds and synth parameters)")]
    if args.detector_train:
        lines += ["", *detector_figures(args.data, args.detector_train, args.detector_test)]
    if args.detector_text_train:
        lines += ["", *detector_figures(args.data, args.detector_text_train, args.detector_text_test, text=True)]
    lines += [
        "",
        "targets: mean IoU >= 0.97; >= 95% at IoU >= 0.9; <= 50 ms per 2-MP photo; "
        "OCR F1 flattened within 0.03 of the scan",
    ]
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
