from __future__ import annotations

import numpy as np

from ocrprep.regions.synth import compose_photo


def _checkerboard(rows: int, cols: int) -> np.ndarray:
    """Finest detail there is: alternate black and white pixels (a stand-in for small print)."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    board = np.where((yy + xx) % 2 == 0, 0, 255).astype(np.uint8)
    return np.repeat(board[..., None], 3, axis=2)


def test_a_document_shrunk_several_times_is_area_averaged_not_aliased():
    doc = _checkerboard(2400, 1800)
    photo, quad = compose_photo(doc, seed=3, shape=(400, 300))
    aliased, same_quad = compose_photo(doc, seed=3, shape=(400, 300), antialias=False)
    np.testing.assert_allclose(quad, same_quad)  # the same scene: only the resampling differs
    x0, y0 = quad.min(axis=0) + 20
    x1, y1 = quad.max(axis=0) - 20
    inner = (slice(int(y0 + 0.2 * (y1 - y0)), int(y1 - 0.2 * (y1 - y0))), slice(int(x0 + 0.2 * (x1 - x0)), int(x1 - 0.2 * (x1 - x0))))
    # A camera sees the fine pattern as grey: little spread beyond the noise; point sampling keeps
    # black and white dots.
    assert photo[inner].std() < 15
    assert aliased[inner].std() > 2 * photo[inner].std()


def test_the_same_seed_gives_the_same_photo():
    doc = np.full((300, 200, 3), 235, np.uint8)
    doc[40:260:10, 20:180] = 30
    a, qa = compose_photo(doc, seed=7, shape=(240, 180))
    b, qb = compose_photo(doc, seed=7, shape=(240, 180))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(qa, qb)
