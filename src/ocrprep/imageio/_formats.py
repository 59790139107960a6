"""Format names, aliases and magic numbers (to name formats ocrprep does not open)."""

from __future__ import annotations

from PIL import Image

from ocrprep.config import ImageLimits

FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "MPO": "JPEG", "DIB": "BMP"}

# Magic numbers of formats Pillow is not allowed to open, so the refusal can name them.
KNOWN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"P1", "PBM"),
    (b"P2", "PGM"),
    (b"P3", "PPM"),
    (b"P4", "PBM"),
    (b"P5", "PGM"),
    (b"P6", "PPM"),
    (b"P7", "PAM"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"%!PS", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"<?xml", "XML/SVG"),
    (b"<svg", "SVG"),
    (b"PK\x03\x04", "ZIP"),
    (b"\x1f\x8b", "GZIP"),
    (b"icns", "ICNS"),
    (b"DDS ", "DDS"),
    (b"qoif", "QOI"),
    (b"\x76\x2f\x31\x01", "OpenEXR"),
    (b"SIMPLE  =", "FITS"),
)


def normalise_format(name: str) -> str:
    upper = name.upper()
    return FORMAT_ALIASES.get(upper, upper)


def allowed_formats(limits: ImageLimits) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise_format(f) for f in limits.formats))


def pillow_formats(allowed: tuple[str, ...]) -> list[str]:
    """The allowed formats Pillow has an opener for (unknown names in the config are ignored)."""
    Image.init()
    return [name for name in allowed if name in Image.OPEN]


def sniff_other(data: bytes) -> str | None:
    head = data[:32].lstrip() if data[:5].lstrip().startswith((b"<", b"%")) else data[:32]
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in KNOWN_MAGIC:
        if head.startswith(magic):
            return name
    return None
