from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrprep.regions.flatten import estimate_aspect_ratio, flatten_document, output_size
from ocrprep.regions.synth import compose_photo, project_document


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.floats(0.25, 1.0),
)
def test_aspect_ratio_of_a_projected_rectangle_is_recovered(seed, ratio):
    height = 1000
    width = round(height * ratio)
    quad, _ = project_document((height, width), (1600, 1200), seed, fill=(0.4, 0.7))
    estimate = estimate_aspect_ratio(quad, (1600, 1200))
    assert abs(estimate / (width / height) - 1) < 0.01


def test_true_ratio_beats_side_averaging_on_strong_perspective():
    errors = []
    for seed in range(40):
        quad, _ = project_document((1000, 400), (1600, 1200), seed, max_tilt=35)
        errors.append(abs(estimate_aspect_ratio(quad, (1600, 1200)) / 0.4 - 1))
    assert np.median(errors) < 0.01


def test_flatten_recovers_the_document(receipts):
    document = receipts["030"]
    photo, quad = compose_photo(document, seed=4, shape=(1200, 900))
    flat = flatten_document(photo, quad)
    h, w = document.shape[:2]
    assert abs((flat.shape[1] / flat.shape[0]) / (w / h) - 1) < 0.03
    # The flattened text lies where the scan's does: the ink maps correlate once resized.
    import cv2

    def ink(image):
        gray = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (200, 400))
        return cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, np.ones((5, 5), np.uint8)).astype(float).ravel()

    assert np.corrcoef(ink(flat), ink(document))[0, 1] > 0.5


def test_output_size_keeps_resolution():
    quad = np.array([[100, 100], [400, 120], [390, 900], [110, 880]], np.float32)
    width, height = output_size(quad, (1000, 800))
    assert height >= 780 and width >= 280
