from __future__ import annotations

import cv2
import numpy as np

from ocrprep.regions.document import quad_iou
from ocrprep.regions.quads import edge_field, hough_lines, search_quads, side_contrast

TRUE = np.array([[60, 40], [240, 40], [240, 360], [60, 360]], np.float32)


def _page(seed: int, shadow: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Features (Lab, luminance halved) of a paper with text rows on a grey table, and the ink."""
    rng = np.random.default_rng(seed)
    image = np.full((400, 300, 3), 120, np.float32) + rng.normal(0, 3, (400, 300, 3)).astype(np.float32)
    image[40:360, 60:240] = 230
    ink = np.zeros((400, 300), bool)
    for y in range(60, 350, 14):
        x0 = int(rng.integers(70, 100))
        ink[y : y + 4, x0 : int(rng.integers(150, 230))] = True
    image[ink] = 30
    if shadow:
        # A shadow over the lower half of the scene: the paper there is as dark as the table.
        ramp = np.clip((np.arange(400) - 190) / 20.0, 0, 1)[:, None, None]
        image *= 1 - shadow * ramp
    return _features(image), ink


def _features(image: np.ndarray) -> np.ndarray:
    """What ``locate_document`` gives ``search_quads``: Lab with the luminance halved, smoothed."""
    rgb = np.clip(image, 0, 255).astype(np.uint8)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float32) * np.array([0.5, 1, 1], np.float32)
    return cv2.GaussianBlur(lab, (0, 0), 1.0)


def _points(ink: np.ndarray) -> np.ndarray:
    return np.argwhere(ink)[:, ::-1].astype(np.float64)


def test_a_side_cut_short_by_a_shadow_is_moved_out_to_keep_the_text():
    features, ink = _page(1, shadow=0.45)
    cut = np.array([[60, 40], [240, 40], [240, 200], [60, 200]], np.float32)  # stops at the shadow
    quad, _ = search_quads(features, [cut], np.zeros(ink.shape, np.uint8), _points(ink))
    assert quad is not None
    assert quad_iou(quad, TRUE) >= 0.95


def test_a_side_that_leaked_onto_the_table_is_pulled_back_to_the_paper_edge():
    features, ink = _page(2)
    leaked = np.array([[60, 40], [290, 40], [290, 360], [60, 360]], np.float32)
    quad, _ = search_quads(features, [leaked], np.zeros(ink.shape, np.uint8), _points(ink))
    assert quad is not None
    assert quad_iou(quad, TRUE) >= 0.95


def test_a_sharp_hypothesis_that_keeps_the_text_is_returned_as_it_is():
    features, ink = _page(3)
    quad, score = search_quads(features, [TRUE], np.zeros(ink.shape, np.uint8), _points(ink))
    np.testing.assert_allclose(quad, TRUE)
    assert score > 0.9


def test_no_convex_hypothesis_gives_none():
    features, ink = _page(4)
    bow_tie = TRUE[[0, 2, 1, 3]]
    assert search_quads(features, [bow_tie], np.zeros(ink.shape, np.uint8), _points(ink)) == (None, -np.inf)


def test_contrast_is_high_across_the_paper_edge_and_low_on_the_paper():
    features, _ = _page(5)
    field = edge_field(features)
    on_edge = side_contrast(field, TRUE[0], TRUE[1])
    inside = side_contrast(field, TRUE[0] + [0, 10], TRUE[1] + [0, 10])
    assert on_edge.min() > 15 and inside.max() < 8


def test_hough_lines_are_distinct_and_strongest_first():
    edges = np.zeros((100, 100), np.uint8)
    edges[30, 5:95] = 255
    edges[31, 5:95] = 255  # the same line, thick: one entry
    edges[10:60, 70] = 255
    lines = hough_lines(edges)
    (t0, r0), (t1, r1) = lines[:2]
    assert abs(np.degrees(t0) - 90) <= 1 and 29.5 <= r0 <= 31.5  # the longest first
    assert abs(np.degrees(t1)) <= 1 and abs(r1 - 70) <= 1
    for i in range(len(lines)):
        for j in range(i):
            dt = abs((lines[i][0] - lines[j][0] + np.pi) % (2 * np.pi) - np.pi)
            assert dt >= np.radians(3.9) or abs(lines[i][1] - lines[j][1]) >= 3.9


def test_a_side_on_a_pen_beside_the_paper_is_pulled_back_when_the_paper_map_is_given():
    rng = np.random.default_rng(6)
    image = np.full((400, 300, 3), (40, 150, 40), np.float32) + rng.normal(0, 3, (400, 300, 3)).astype(np.float32)
    image[40:360, 60:240] = 230
    image[30:370, 268:276] = (80, 30, 150)  # a pen along the right side, 28 px off
    ink = np.zeros((400, 300), bool)
    for y in range(60, 350, 14):
        ink[y : y + 4, 80:220] = True
    image[ink] = 30
    features = _features(image)
    paper = np.zeros((400, 300), np.float32)
    paper[40:360, 60:240] = 1
    on_pen = np.array([[60, 40], [268, 40], [268, 360], [60, 360]], np.float32)
    quad, _ = search_quads(features, [on_pen], np.zeros(ink.shape, np.uint8), _points(ink), paper)
    assert quad is not None
    assert quad_iou(quad, TRUE) >= 0.95
