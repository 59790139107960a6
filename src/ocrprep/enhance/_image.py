"""Small helpers shared by the enhancement operations: checks, grey conversion, resizing."""

from __future__ import annotations

import cv2
import numpy as np

from ocrprep.errors import MalformedRequest
from ocrprep.imageio._pixels import halve, over_white, percentile_u8, shrink
from ocrprep.quality.text import to_gray

__all__ = ["as_gray", "check_image", "like_input", "like_layout", "percentile_u8", "resize_to", "working_layout"]


def check_image(image: np.ndarray) -> np.ndarray:
    """Raise :class:`MalformedRequest` unless ``image`` is a uint8 (H, W) or (H, W, 3|4) array."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise MalformedRequest(
            f"expected a uint8 numpy image, got {type(image).__name__} "
            f"{getattr(image, 'dtype', '')}; convert it with imageio.load_image first"
        )
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise MalformedRequest(f"expected an (H, W) or (H, W, 3) image, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise MalformedRequest(f"image too small to enhance: {image.shape[1]}x{image.shape[0]}")
    return image


def as_gray(image: np.ndarray) -> np.ndarray:
    """The image as a uint8 (H, W) luminance array (a view when it already is one)."""
    return to_gray(check_image(image))


def like_input(gray: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``gray`` shaped like ``image``: (H, W) stays, channels are replicated (alpha opaque)."""
    if image.ndim == 2:
        return gray
    if image.shape[2] == 1:
        return gray[:, :, None]
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGBA if image.shape[2] == 4 else cv2.COLOR_GRAY2RGB)


def working_layout(image: np.ndarray) -> np.ndarray:
    """``image`` as the operations take it: ``(H, W, 1)`` as ``(H, W)``, RGBA over white as RGB.

    OpenCV's filters take one or three channels (a bilateral filter refuses four) and hand a
    single channel back without its axis; :func:`like_layout` restores the caller's layout.
    """
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return over_white(image)
    return image


def like_layout(out: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``out`` (from :func:`working_layout` of ``image``) back in ``image``'s layout (alpha opaque)."""
    if out.ndim == 2:
        return like_input(out, image)
    if image.ndim == 3 and image.shape[2] == 4 and out.shape[2] == 3:
        return cv2.cvtColor(out, cv2.COLOR_RGB2RGBA)
    return out


def resize_to(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Shrink ``image`` so its longer side is at most ``max_side``; returns (image, scale)."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale >= 1.0:
        return image, 1.0
    if scale <= 0.5:
        # exact 2x2 halvings, then one bilinear step (a non-integer INTER_AREA is some 20 times
        # slower in OpenCV 5); the same reduction as a reduced decode
        return shrink(image, max_side), scale
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Bilinear is enough (and several times faster) for a reduction by less than half.
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), scale


def ink_mask(gray: np.ndarray, *, kernel: int = 15, min_contrast: int = 12) -> np.ndarray:
    """Dark strokes narrower than ``kernel`` pixels (text), as a bool (H, W) mask.

    A morphological black-hat (closing minus image) keeps only small dark structures, so shadows,
    dark borders and large photos drop out; Otsu's threshold on it separates ink from paper noise.
    """
    element = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel))
    hat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, element)
    # Otsu on the black-hat clipped at its 99th percentile: a few very dark lines (a scanner
    # edge, a rule) would otherwise pull the threshold above faint print.
    step = max(1, int(np.sqrt(hat.size / 250_000)))
    ceiling = percentile_u8(hat[::step, ::step], 99.0)
    clipped = np.minimum(hat, np.uint8(max(ceiling, 1.0)))
    level, _ = cv2.threshold(clipped, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return hat > max(level, min_contrast)


class Views:
    """One image's grey copies at the resolutions the estimators work at, each computed once.

    Estimators accept either an image or a :class:`Views`, so :func:`~ocrprep.enhance.measure`
    converts and shrinks a large page once instead of once per estimate.
    """

    def __init__(self, image: np.ndarray) -> None:
        self.image = check_image(image)
        self.gray = as_gray(image)
        self._copies: dict[int, tuple[np.ndarray, float]] = {}
        self._masks: dict[tuple[int, int, int], np.ndarray] = {}

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape[0], self.gray.shape[1]

    def at(self, max_side: int) -> tuple[np.ndarray, float]:
        """The grey image at most ``max_side`` on its longer side, and its scale."""
        if max_side not in self._copies:
            copy = None
            if max(self.shape) > 2 * max_side:
                # halve a larger copy rather than shrink the original (exact and far cheaper),
                # unless that copy is a sliver a pixel thin
                source, source_scale = self.at(2 * max_side)
                if min(source.shape[:2]) >= 2:
                    copy = (halve(source), 0.5 * source_scale)
            self._copies[max_side] = copy or resize_to(self.gray, max_side)
        return self._copies[max_side]

    def mask(self, max_side: int, kernel: int, min_contrast: int = 12) -> tuple[np.ndarray, float]:
        """:func:`ink_mask` of :meth:`at` ``(max_side)``, and its scale."""
        key = (max_side, kernel, min_contrast)
        small, scale = self.at(max_side)
        if key not in self._masks:
            self._masks[key] = ink_mask(small, kernel=kernel, min_contrast=min_contrast)
        return self._masks[key], scale


def views(image: np.ndarray | Views) -> Views:
    """``image`` as :class:`Views` (itself when it already is one)."""
    return image if isinstance(image, Views) else Views(image)
