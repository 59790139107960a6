from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrprep.regions.crop import crop_to_content, estimate_content_box


@st.composite
def layouts(draw):
    """A page with text-like marks anywhere (page numbers in corners too) and maybe dark borders."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    h, w = draw(st.integers(120, 400)), draw(st.integers(120, 400))
    paper = int(rng.integers(180, 250))
    page = np.full((h, w), paper, np.uint8)
    ink = np.zeros((h, w), bool)
    for _ in range(draw(st.integers(1, 12))):
        x, y = int(rng.integers(0, w - 4)), int(rng.integers(0, h - 4))
        bw, bh = int(rng.integers(1, max(2, w // 3))), int(rng.integers(1, max(2, h // 10)))
        level = int(rng.integers(0, max(1, paper - 80)))
        region = np.zeros((h, w), np.uint8)
        if rng.random() < 0.5:
            cv2.putText(region, "A12", (x, min(h - 1, y + 10)), cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.2, 0.8), 1, 1)
        else:
            region[y : y + bh, x : x + bw] = 1
        page[region > 0] = level
        ink |= region > 0
    border = draw(st.sampled_from(["none", "left", "top", "both"]))
    thick = int(rng.integers(3, 15))
    text_free = ~cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if border in ("left", "both"):
        band = np.zeros((h, w), bool); band[:, :thick] = True
        page[band & text_free] = 15
    if border in ("top", "both"):
        band = np.zeros((h, w), bool); band[:thick] = True
        page[band & text_free] = 15
    page = np.clip(page.astype(int) + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)
    return page, ink


@settings(max_examples=80, deadline=None)
@given(layouts(), st.sampled_from([0, 0.01, 5]))
def test_crop_never_cuts_text(layout, margin):
    page, ink = layout
    box = estimate_content_box(page, margin=margin)
    outside = ink.copy()
    outside[box.y0 : box.y1, box.x0 : box.x1] = False
    assert int(outside.sum()) == 0


def test_scanner_border_and_white_margins_are_trimmed():
    page = np.full((300, 200), 235, np.uint8)
    page[:, :12] = 10  # a dark scanner border down the left edge
    page[100:200, 60:140] = 30  # the content
    box = estimate_content_box(page, margin=4)
    assert (box.x0, box.y0, box.x1, box.y1) == (56, 96, 144, 204)
    assert crop_to_content(page, margin=4).shape == (108, 88)


def test_a_wide_dark_border_is_trimmed_and_grey_print_beside_it_kept():
    # the border, wider than the paper estimate's max filter, once dragged the local paper level
    # down beside it: the border stopped being ink throughout (and stayed), print beside it too
    page = np.full((136, 320), 200, np.uint8)
    page[:, :14] = 15
    page[60:75, 17:40] = 140  # grey print 3 px from the border, 60 levels below the paper
    page[60:100, 150:260] = 20
    box = estimate_content_box(page, margin=0)
    assert (box.x0, box.y0, box.x1, box.y1) == (17, 60, 260, 100)


def test_a_dark_block_along_part_of_an_edge_is_content_not_a_border():
    page = np.full((184, 291), 230, np.uint8)
    page[40:120, 60:200] = 20
    page[166:, 84:252] = 30  # a bar on the bottom edge over 58% of it (a scanner border spans it all)
    box = estimate_content_box(page, margin=0)
    assert box.y1 == 184


def test_page_number_far_from_the_body_is_kept():
    page = np.full((400, 300, 3), 240, np.uint8)
    page[50:150, 50:250] = 20
    page[385:392, 145:152] = 20  # a page number near the bottom edge
    box = estimate_content_box(page, margin=0)
    assert box.y1 >= 392


def test_blank_page_is_left_whole():
    page = np.full((50, 40), 230, np.uint8)
    box = estimate_content_box(page)
    assert (box.x0, box.y0, box.x1, box.y1) == (0, 0, 40, 50)


def test_receipt_crop_keeps_every_transcribed_line(receipts):
    from pathlib import Path

    image = receipts["000"]
    box = estimate_content_box(image)
    csv = Path(__file__).resolve().parents[1] / "fixtures" / "receipts" / "000.csv"
    for line in csv.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(",", 8)
        if len(parts) < 9:
            continue
        xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
        # Transcript boxes are loose; the ink they hold must lie inside (allow 3 px of box slack).
        assert min(xs) + 3 >= box.x0 or min(xs) <= 3
        assert max(xs) - 3 <= box.x1
        assert min(ys) + 3 >= box.y0 or min(ys) <= 3
        assert max(ys) - 3 <= box.y1
