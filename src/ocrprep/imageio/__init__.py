"""Safe image input and output: bytes in, uint8 RGB arrays out, typed errors for everything else.

Every decode runs the same checks, in this order, before any pixel is decoded:

1. the byte limit (``ImageLimits.max_bytes``) and empty data;
2. the container format, sniffed by Pillow with only the allowed plugins
   (``ImageLimits.formats``; others are named when recognised, e.g. "PDF is not an allowed format");
3. the pixel limit (``ImageLimits.max_pixels``, default 80 MP) from the header of the page asked for.

Decoding then applies the EXIF orientation and normalises every mode (CMYK, 16-bit, palette, alpha
composited on white, grayscale, 1-bit) to 8-bit RGB. Truncated or corrupt data raises
:class:`~ocrprep.errors.ImageDecodeError` (``ImageFile.LOAD_TRUNCATED_IMAGES`` is never set).

Pillow's own decompression-bomb guard is switched off on import (``Image.MAX_IMAGE_PIXELS = None``)
because it would warn from ``Image.open`` before ocrprep's configurable check runs; the check
above replaces it for every image read through this module, and a ``DecompressionBombError``
raised anyway (another library restored the guard) is translated to
:class:`~ocrprep.errors.ImageTooLarge`.
"""

from __future__ import annotations

import io
import operator
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from ocrprep.config import ImageLimits
from ocrprep.errors import ImageDecodeError, ImageTooLarge, MalformedRequest, OcrprepError
from ocrprep.imageio._formats import allowed_formats, normalise_format, pillow_formats, sniff_other
from ocrprep.imageio._pixels import apply_orientation, decode_cv2, draft, fast_path, shrink, shrunk_size, to_rgb

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = [
    "ENCODE_FORMATS",
    "MAX_JPEG_SCANS",
    "MAX_PAGES",
    "ImageInfo",
    "decode_image",
    "decode_image_with_info",
    "encode_image",
    "load_image",
    "load_image_with_info",
    "probe_image",
    "shrink_image",
    "shrunk_size",
]

# ocrprep checks pixel counts itself, per page, against a configurable limit (see module docstring).
Image.MAX_IMAGE_PIXELS = None

ENCODE_FORMATS: tuple[str, ...] = ("png", "jpeg", "tiff", "webp")
MAX_PAGES = 10_000
"""Most TIFF pages counted; more is refused (a crafted IFD chain must not take minutes)."""
MAX_JPEG_SCANS = 500
"""Most JPEG scans accepted (normal progressive JPEGs have about 10; cf. djpeg -maxscan)."""

@dataclass(frozen=True)
class ImageInfo:
    """What the header says about an image, before decoding.

    Attributes
    ----------
    format : str
        Container format as Pillow names it (``"JPEG"``, ``"PNG"``, ``"TIFF"``, ...).
    width, height : int
        Size in pixels of the page asked for, *after* the EXIF orientation is applied, i.e. the
        size ``decode_image`` returns at full resolution.
    pages : int
        Addressable pages: the page count of a TIFF, 1 for every other format (GIF and animated
        WebP are read at their first frame).
    mode : str
        Pillow mode of the stored pixels (``"RGB"``, ``"CMYK"``, ``"I;16"``, ``"P"``, ...).
    orientation : int
        EXIF orientation tag (1..8; 1 when absent or invalid).
    """

    format: str
    width: int
    height: int
    pages: int
    mode: str
    orientation: int = 1

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height


def _check_bytes(data: bytes, limits: ImageLimits) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedRequest(f"image data must be bytes, not {type(data).__name__}")
    if len(data) == 0:
        raise ImageDecodeError("empty image data: the input has 0 bytes")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"image data has {len(data)} bytes, more than the limit of {limits.max_bytes}; "
            "raise limits.max_bytes to accept it"
        )


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn anything Pillow or a codec raises on bad data into an ocrprep error."""
    try:
        yield
    except OcrprepError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"{what}: {exc}") from exc
    except MemoryError as exc:
        raise ImageTooLarge(f"{what}: not enough memory to decode the image") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{what}: not an image of a recognised format") from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
        raise ImageDecodeError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _open(data: bytes, limits: ImageLimits) -> Image.Image:
    """Open lazily with only the allowed plugins; nothing is decoded yet."""
    _check_bytes(data, limits)
    allowed = allowed_formats(limits)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise MalformedRequest(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is set, so truncated images would decode as "
            "partly grey pictures; unset it to read images through ocrprep"
        )
    try:
        image = Image.open(io.BytesIO(data), formats=pillow_formats(allowed))
    except UnidentifiedImageError as exc:
        other = sniff_other(bytes(data[:64]))
        if other in allowed:
            raise ImageDecodeError(f"not a readable {other} image: its header is corrupt") from exc
        if other is not None:
            raise ImageDecodeError(
                f"{other} is not an allowed image format (allowed: {', '.join(allowed)})"
            ) from exc
        raise ImageDecodeError(
            f"not an image: the data ({len(data)} bytes) is none of {', '.join(allowed)}"
        ) from exc
    fmt = normalise_format(image.format or "")
    if fmt not in allowed:
        image.close()
        raise ImageDecodeError(
            f"{fmt or 'unknown'} is not an allowed image format (allowed: {', '.join(allowed)})"
        )
    return image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not refuse the pixels; ignore orientation
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _page_count(image: Image.Image, fmt: str) -> int:
    """Pages of a TIFF, walking its IFD chain at most ``MAX_PAGES`` steps (loops end the chain)."""
    if fmt != "TIFF":
        return 1
    pages = 1
    try:
        while True:
            image.seek(pages)
            pages += 1
            if pages > MAX_PAGES:
                raise ImageTooLarge(f"the TIFF image has more than {MAX_PAGES} pages (the limit)")
    except EOFError:
        pass
    image.seek(0)
    return pages


def _check_scans(data: bytes, fmt: str) -> None:
    """Refuse JPEGs with absurd scan counts (progressive 'scan bombs' that take minutes to decode).

    Counts start-of-scan markers (FF DA); entropy-coded data stuffs every FF with 00, so each one
    is a marker (or lies in metadata, which only makes the count conservative).
    """
    if fmt == "JPEG":
        scans = bytes(data).count(b"\xff\xda")
        if scans > MAX_JPEG_SCANS:
            raise ImageDecodeError(
                f"the JPEG has {scans} scans, more than the limit of {MAX_JPEG_SCANS}; "
                "it looks crafted to make decoding slow"
            )


def _check_pixels(width: int, height: int, limits: ImageLimits, where: str) -> None:
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"{where} declares an empty size {width}x{height}")
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"{where} is {width}x{height} = {width * height / 1e6:.1f} megapixels, more than the "
            f"limit of {limits.max_pixels / 1e6:.1f}; raise limits.max_pixels to accept it"
        )


def _integer(value: object, name: str) -> int:
    """``value`` as an int (numpy integers accepted); ``MalformedRequest`` otherwise."""
    if isinstance(value, bool):
        raise MalformedRequest(f"{name} must be an integer, not {value!r}")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError as exc:
        raise MalformedRequest(f"{name} must be an integer, not {value!r}") from exc


def _select_page(image: Image.Image, fmt: str, page: int) -> int:
    pages = _page_count(image, fmt)
    if page < 0 or page >= pages:
        plural = "page" if pages == 1 else "pages"
        raise MalformedRequest(
            f"page {page} does not exist: the {fmt} image has {pages} {plural} "
            f"(pages are numbered 0 to {pages - 1})"
        )
    if page:
        image.seek(page)
    return pages


def _info(image: Image.Image, fmt: str, pages: int) -> ImageInfo:
    width, height = image.size
    orientation = _orientation(image)
    if orientation >= 5:
        width, height = height, width
    return ImageInfo(fmt, width, height, pages, image.mode, orientation)


def _header(image: Image.Image, page: int, limits: ImageLimits) -> tuple[str, ImageInfo]:
    """The format and size of ``page`` of an opened image, checked against the pixel limit."""
    fmt = normalise_format(image.format or "")
    info = _info(image, fmt, _select_page(image, fmt, page))
    _check_pixels(info.width, info.height, limits, f"the {fmt} image" + (f" page {page}" if page else ""))
    return fmt, info


def probe_image(data: bytes, *, limits: ImageLimits | None = None, page: int = 0) -> ImageInfo:
    """Read an image's header and check it against the limits, without decoding pixels.

    Parameters
    ----------
    data : bytes
        The encoded image.
    limits : ImageLimits, optional
        Byte, pixel and format limits; the defaults when omitted.
    page : int
        Page whose size is reported and checked (TIFF only).

    Returns
    -------
    ImageInfo
        Format, oriented size, page count, stored mode and EXIF orientation.

    Raises
    ------
    ImageDecodeError
        Empty data, not an image, or a format outside ``limits.formats``.
    ImageTooLarge
        More bytes or pixels than the limits.
    MalformedRequest
        ``page`` does not exist.

    Examples
    --------
    >>> png = encode_image(np.zeros((2, 3, 3), np.uint8))
    >>> probe_image(png)
    ImageInfo(format='PNG', width=3, height=2, pages=1, mode='RGB', orientation=1)
    """
    limits = limits or ImageLimits()
    page = _integer(page, "page")
    with _translated("cannot read the image header"):
        image = _open(data, limits)
        with image:
            _, info = _header(image, page, limits)
    return info


def decode_image(
    data: bytes,
    *,
    page: int = 0,
    limits: ImageLimits | None = None,
    max_side: int | None = None,
    as_gray: bool = False,
) -> np.ndarray:
    """Decode an image to a uint8 RGB (or grayscale) array, safely.

    Parameters
    ----------
    data : bytes
        The encoded image (JPEG, PNG, TIFF, WebP, BMP or GIF by default).
    page : int
        Page of a multi-page TIFF (0 is the first); GIF and WebP are read at their first frame.
    limits : ImageLimits, optional
        Byte, pixel and format limits, checked before decoding; the defaults when omitted.
    max_side : int, optional
        Decode at reduced size: the result's longer side is ``min(max_side, original longer side)``.
        JPEG is decoded with DCT scaling (libjpeg-turbo's 1/2, 1/4, 1/8, via OpenCV's
        ``IMREAD_REDUCED_*`` or Pillow's ``Image.draft``) at the strongest reduction whose longer
        side is still >= ``max_side``, then area-downsized to exactly ``max_side`` (2x2 box
        halvings, then one bilinear step of factor > 0.5; on SROIE receipts at 800 px it differs
        from a full decode + ``cv2.INTER_AREA`` by 1.6 grey levels on average); other formats are decoded in full then downsized the same way.
        Never upscales.
    as_gray : bool
        Return the luminance only, ``(H, W)`` (ITU-R 601 weights, as ``cv2.COLOR_RGB2GRAY``).
        A JPEG is then decoded without its chroma, about a third cheaper; what
        :func:`ocrprep.quality.assess` uses.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8 RGB (``(H, W)`` with ``as_gray``), EXIF orientation applied.

    Raises
    ------
    ImageDecodeError
        Empty, truncated or corrupt data; not an image; a format outside ``limits.formats``.
    ImageTooLarge
        More bytes or pixels than the limits (checked from the header, before decoding).
    MalformedRequest
        ``page`` does not exist (the message names the page count) or ``max_side`` < 1.

    Notes
    -----
    Always uint8 RGB: 16-bit samples are scaled by 1/257, palettes expanded, alpha composited on
    white, grayscale and 1-bit replicated to three channels, CMYK converted by Pillow.

    Examples
    --------
    >>> rgb = np.full((40, 60, 3), 200, np.uint8)
    >>> decode_image(encode_image(rgb)).shape
    (40, 60, 3)
    >>> decode_image(encode_image(rgb, "jpeg"), max_side=30).shape
    (20, 30, 3)
    >>> decode_image(encode_image(rgb, "jpeg"), as_gray=True).shape
    (40, 60)
    """
    return decode_image_with_info(data, page=page, limits=limits, max_side=max_side, as_gray=as_gray)[0]


def decode_image_with_info(
    data: bytes,
    *,
    page: int = 0,
    limits: ImageLimits | None = None,
    max_side: int | None = None,
    as_gray: bool = False,
) -> tuple[np.ndarray, ImageInfo]:
    """Like :func:`decode_image`, also returning the header's :class:`ImageInfo`.

    The info describes the image at full size, so a caller that decoded with ``max_side`` can
    scale measurements back: ``info.width / image.shape[1]``.

    Examples
    --------
    >>> image, info = decode_image_with_info(encode_image(np.zeros((40, 60), np.uint8)), max_side=30)
    >>> image.shape, (info.width, info.height)
    ((20, 30, 3), (60, 40))
    """
    limits = limits or ImageLimits()
    if max_side is not None:
        max_side = _integer(max_side, "max_side")
        if max_side < 1:
            raise MalformedRequest(f"max_side must be a positive integer, not {max_side!r}")
    page = _integer(page, "page")
    with _translated("cannot decode the image"):
        image = _open(data, limits)
        with image:
            fmt, info = _header(image, page, limits)
            _check_scans(data, fmt)
            array = None
            if fast_path(image, fmt, page, data):
                # JPEG grey: libjpeg's Y plane, no chroma work; other formats convert below
                array = decode_cv2(data, fmt, image.size, max_side, as_gray and fmt == "JPEG")
            if array is None:  # other modes/formats, or OpenCV refused: Pillow names the problem
                if max_side is not None and fmt == "JPEG":
                    draft(image, max_side)
                image.load()
                array = to_rgb(image)
    if as_gray and array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)
    array = apply_orientation(array, info.orientation)
    if max_side is not None:
        array = shrink(array, max_side, (info.width, info.height))
    return array, info


def encode_image(image: np.ndarray, fmt: str = "png", *, quality: int = 95) -> bytes:
    """Encode a uint8 grayscale ``(H, W)`` or RGB ``(H, W, 3)`` array.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, 3)`` uint8, RGB channel order.
    fmt : {"png", "jpeg", "tiff", "webp"}
        Output format (``"jpg"`` and ``"tif"`` accepted as aliases).
    quality : int
        JPEG and WebP quality, 1..100.

    Returns
    -------
    bytes
        The encoded image.

    Raises
    ------
    MalformedRequest
        Wrong dtype or shape, or an unknown format.

    Examples
    --------
    >>> encode_image(np.zeros((4, 4), np.uint8))[:4]
    b'\\x89PNG'
    """
    name = fmt.lower().lstrip(".")
    name = {"jpg": "jpeg", "tif": "tiff"}.get(name, name)
    if name not in ENCODE_FORMATS:
        raise MalformedRequest(f"cannot encode {fmt!r}: choose one of {', '.join(ENCODE_FORMATS)}")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise MalformedRequest("encode_image needs a uint8 numpy array")
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise MalformedRequest(f"cannot encode an image of shape {image.shape}")
    if image.ndim == 3 and image.shape[2] == 3:
        bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
    elif image.ndim == 2:
        bgr = np.ascontiguousarray(image)
    else:
        raise MalformedRequest(f"encode_image needs (H, W) or (H, W, 3), got shape {image.shape}")
    quality = int(min(100, max(1, quality)))
    params: dict[str, list[int]] = {
        "png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
        "jpeg": [cv2.IMWRITE_JPEG_QUALITY, quality],
        "webp": [cv2.IMWRITE_WEBP_QUALITY, quality],
        "tiff": [cv2.IMWRITE_TIFF_COMPRESSION, 8],  # Adobe deflate: lossless, widely readable
    }
    ok, buffer = cv2.imencode("." + ("jpg" if name == "jpeg" else name), bgr, params[name])
    if not ok:
        raise MalformedRequest(f"OpenCV could not encode the image as {name}")
    return buffer.tobytes()


def load_image(
    source: bytes | str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    page: int = 0,
    max_side: int | None = None,
    as_gray: bool = False,
) -> np.ndarray:
    """Load an image from bytes, a local path or a URI as uint8 RGB (or grayscale).

    Parameters
    ----------
    source : bytes, str or os.PathLike
        Encoded bytes, a local path, or a ``file://``, ``s3://``, ``mem://`` (or, when
        ``settings.storage.allow_http``, ``http(s)://``) URI, read through :mod:`ocrprep.storage`
        within ``settings.storage.roots``.
    settings : Settings, optional
        Limits and storage options; :func:`ocrprep.config.load_settings` when omitted.
    page, max_side, as_gray
        As for :func:`decode_image`.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` uint8 RGB (``(H, W)`` with ``as_gray``).

    Raises
    ------
    ImageDecodeError, ImageTooLarge, MalformedRequest
        As for :func:`decode_image`.
    ObjectNotFound, AccessDenied, StorageError
        As for :func:`ocrprep.storage.read_bytes`.

    Examples
    --------
    >>> load_image(encode_image(np.zeros((5, 7, 3), np.uint8))).shape
    (5, 7, 3)
    """
    return load_image_with_info(source, settings=settings, page=page, max_side=max_side, as_gray=as_gray)[0]


def load_image_with_info(
    source: bytes | str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    page: int = 0,
    max_side: int | None = None,
    as_gray: bool = False,
) -> tuple[np.ndarray, ImageInfo]:
    """Like :func:`load_image`, also returning the full-size :class:`ImageInfo`.

    Use it after a reduced decode (``max_side``) to know the original size:
    ``info.width, info.height`` are the oriented full-resolution dimensions.

    Examples
    --------
    >>> image, info = load_image_with_info(encode_image(np.zeros((50, 80, 3), np.uint8)), max_side=40)
    >>> image.shape, info.width
    ((25, 40, 3), 80)
    """
    if settings is None:
        from ocrprep.config import load_settings

        settings = load_settings()
    limits = settings.limits
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        from ocrprep import storage

        data = storage.read_bytes(os.fspath(source), settings.storage, max_bytes=limits.max_bytes)
    else:
        raise MalformedRequest(
            f"load_image needs bytes, a path or a URI, not {type(source).__name__}"
        )
    return decode_image_with_info(data, page=page, limits=limits, max_side=max_side, as_gray=as_gray)


def shrink_image(image: np.ndarray, max_side: int) -> np.ndarray:
    """Downsize ``image`` so its longer side is at most ``max_side``, as a reduced decode does.

    The same resampling as :func:`decode_image` with ``max_side`` (box halvings, then one
    bilinear step), so that an image changed in memory and one decoded at reduced size look alike
    to measurements and models. Never upsizes; never modifies its input.

    Examples
    --------
    >>> shrink_image(np.zeros((1000, 400, 3), np.uint8), 500).shape
    (500, 200, 3)
    """
    return shrink(image, max_side)

