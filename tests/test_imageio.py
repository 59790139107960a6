"""Safe image input: every refused kind, every normalisation, reduced decode, encode, load."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile, ImageOps

from ocrprep.config import ImageLimits, Settings, StorageOptions
from ocrprep.errors import AccessDenied, ImageDecodeError, ImageTooLarge, MalformedRequest
from ocrprep.imageio import (
    ImageInfo,
    decode_image,
    decode_image_with_info,
    encode_image,
    load_image,
    load_image_with_info,
    probe_image,
)
from ocrprep.storage import MemoryStore

FIXTURES = Path(__file__).parent / "fixtures" / "receipts"


# ---------------------------------------------------------------- helpers


def page(seed: int = 0, shape: tuple[int, int] = (90, 120)) -> np.ndarray:
    """A seeded, asymmetric RGB test picture: smooth gradients plus a few dark 'text' bars."""
    rng = np.random.default_rng(seed)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    image = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 127 // (h + w)], axis=2)
    image = image.astype(np.uint8)
    for _ in range(6):
        r, c = rng.integers(0, h - 8), rng.integers(0, w - 20)
        image[r : r + 4, c : c + 16] = rng.integers(0, 60, 3)
    image[:10, :10] = (255, 0, 0)  # a red top-left corner marks orientation
    return image


def pil_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels (nothing that large is allocated)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG with its SOF header rewritten to claim width x height."""
    data = bytearray(encode_image(page(), "jpeg"))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


# ---------------------------------------------------------------- refused inputs


def test_empty_data_is_refused() -> None:
    with pytest.raises(ImageDecodeError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("max_side", [None, 40])
def test_truncated_jpeg_raises_instead_of_returning_grey(fraction: float, max_side: int | None) -> None:
    data = encode_image(page(1, (240, 320)), "jpeg")
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(ImageDecodeError):
        decode_image(cut, max_side=max_side)


def test_truncated_jpeg_missing_only_its_end_marker_raises() -> None:
    data = encode_image(page(1, (240, 320)), "jpeg")
    with pytest.raises(ImageDecodeError):
        decode_image(data[:-2])


@pytest.mark.parametrize("fraction", [0.3, 0.8, 0.99])
def test_truncated_png_raises(fraction: float) -> None:
    data = encode_image(page(2, (200, 200)), "png")
    with pytest.raises(ImageDecodeError):
        decode_image(data[: int(len(data) * fraction)])


def test_truncated_data_raises_even_for_pillow_decoded_modes() -> None:
    cmyk = pil_bytes(Image.fromarray(page(3, (200, 240))).convert("CMYK"), "JPEG")
    with pytest.raises(ImageDecodeError):
        decode_image(cmyk[: len(cmyk) // 2])


def test_random_bytes_are_not_an_image() -> None:
    data = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(data)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (pil_bytes(Image.new("RGB", (16, 16), "red"), "ICO"), "ICO"),
        (pil_bytes(Image.new("RGB", (16, 16), "red"), "PPM"), "PPM"),
    ],
)
def test_formats_outside_the_allowed_list_are_named(data: bytes, name: str) -> None:
    with pytest.raises(ImageDecodeError, match=f"{name} is not an allowed image format"):
        probe_image(data)


def test_allowed_formats_are_configurable() -> None:
    data = encode_image(page(), "png")
    with pytest.raises(ImageDecodeError, match="allowed: JPEG"):
        decode_image(data, limits=ImageLimits(formats=("JPEG",)))


@pytest.mark.parametrize("crafted", [png_declaring(20000, 20000), jpeg_declaring(60000, 60000)])
def test_pixel_bomb_is_refused_from_the_header(crafted: bytes) -> None:
    assert len(crafted) < 10_000
    with pytest.raises(ImageTooLarge, match="megapixels"):
        probe_image(crafted)
    with pytest.raises(ImageTooLarge):
        decode_image(crafted)


def test_pixel_limit_is_configurable() -> None:
    data = encode_image(page(0, (100, 100)), "png")
    assert decode_image(data, limits=ImageLimits(max_pixels=10_000)).shape == (100, 100, 3)
    with pytest.raises(ImageTooLarge, match="limit of 0.0"):
        decode_image(data, limits=ImageLimits(max_pixels=9_999))


def test_pillow_bomb_guard_never_warns_and_its_error_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    # 10000 x 9000 exceeds Pillow's default warning threshold (89.5 MP): no warning may escape
    # (filterwarnings=error would turn it into a failure) when the configured limit allows it.
    info = probe_image(png_declaring(10000, 9000), limits=ImageLimits(max_pixels=100_000_000))
    assert info.pixels == 90_000_000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # another library restored the guard
    with pytest.raises(ImageTooLarge):
        decode_image(encode_image(page(0, (50, 50)), "png"))


def test_byte_limit_is_checked_before_decoding() -> None:
    data = encode_image(page(), "png")
    with pytest.raises(ImageTooLarge, match="bytes"):
        decode_image(data, limits=ImageLimits(max_bytes=len(data) - 1))
    assert decode_image(data, limits=ImageLimits(max_bytes=len(data))).shape == (90, 120, 3)


def test_truncated_image_loading_switched_on_globally_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(MalformedRequest, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(encode_image(page(), "png"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "GIF", "BMP", "WEBP"])
def test_corrupted_bytes_give_a_typed_error_or_an_image_never_a_crash(fmt: str) -> None:
    """Seeded mutation fuzzing: flipped bytes must not escape as anything but ocrprep errors."""
    rng = np.random.default_rng(11)
    original = bytearray(pil_bytes(Image.fromarray(page(4, (48, 64))), fmt))
    for _ in range(40):
        mutant = bytearray(original)
        for position in rng.integers(0, len(mutant), rng.integers(1, 6)):
            mutant[position] = int(rng.integers(0, 256))
        try:
            image = decode_image(bytes(mutant), limits=ImageLimits(max_pixels=4_000_000))
        except MalformedRequest:
            continue
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


def test_bad_arguments_are_malformed_requests() -> None:
    data = encode_image(page(), "png")
    with pytest.raises(MalformedRequest, match="max_side"):
        decode_image(data, max_side=0)
    with pytest.raises(MalformedRequest, match="bytes"):
        decode_image("not bytes")  # type: ignore[arg-type]


# ---------------------------------------------------------------- normalisation


def test_rgb_jpeg_and_png_decode_to_uint8_rgb() -> None:
    image = page(5)
    png = decode_image(encode_image(image, "png"))
    assert png.dtype == np.uint8 and png.flags.writeable
    np.testing.assert_array_equal(png, image)
    jpeg = decode_image(encode_image(image, "jpeg", quality=95))
    assert jpeg.shape == image.shape and mean_abs(jpeg, image) < 3
    assert tuple(jpeg[2, 2]) > (200, 0, 0) and jpeg[2, 2, 1] < 60  # red stays red: RGB order


def test_real_receipt_matches_pillow_decode() -> None:
    data = (FIXTURES / "000.jpg").read_bytes()
    ours = decode_image(data)
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    assert ours.shape == reference.shape
    assert mean_abs(ours, reference) < 1.5


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    image = page(6)
    data = pil_bytes(Image.fromarray(image).convert("CMYK"), "JPEG", quality=95)
    assert probe_image(data).mode == "CMYK"
    decoded = decode_image(data)
    assert decoded.shape == image.shape and mean_abs(decoded, image) < 6


def test_16_bit_grayscale_png_is_scaled_to_8_bit() -> None:
    gray = page(7)[..., 1]
    data = pil_bytes(Image.fromarray(gray.astype(np.uint16) * 257), "PNG")
    assert probe_image(data).mode.startswith("I;16")
    decoded = decode_image(data)
    np.testing.assert_array_equal(decoded, np.repeat(gray[..., None], 3, axis=2))


def test_16_bit_rgb_png_keeps_the_high_byte() -> None:
    image = page(8)
    wide = image.astype(np.uint16) * 256 + 100  # low byte 100 is dropped
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(wide, cv2.COLOR_RGB2BGR))
    assert ok
    np.testing.assert_array_equal(decode_image(buffer.tobytes()), image)


def test_16_bit_tiff_is_scaled_to_8_bit() -> None:
    gray = page(9)[..., 0]
    data = pil_bytes(Image.fromarray(gray.astype(np.uint16) * 257), "TIFF")
    np.testing.assert_array_equal(decode_image(data)[..., 2], gray)


def test_palette_png_is_expanded() -> None:
    image = page(10)
    paletted = Image.fromarray(image).quantize(64)
    data = pil_bytes(paletted, "PNG")
    assert probe_image(data).mode == "P"
    np.testing.assert_array_equal(decode_image(data), np.asarray(paletted.convert("RGB")))


def test_palette_with_transparency_is_composited_on_white() -> None:
    paletted = Image.new("P", (20, 10), 0)
    paletted.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    paletted.paste(1, (10, 0, 20, 10))
    data = pil_bytes(paletted, "PNG", transparency=0)
    decoded = decode_image(data)
    assert (decoded[:, :10] == 255).all()
    assert (decoded[:, 10:] == (200, 30, 30)).all()


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(mode: str) -> None:
    rgb = np.full((10, 30, 3), 40, np.uint8)
    alpha = np.zeros((10, 30), np.uint8)
    alpha[:, 10:20] = 128
    alpha[:, 20:] = 255
    picture = Image.fromarray(np.dstack([rgb, alpha]), "RGBA").convert(mode)
    decoded = decode_image(pil_bytes(picture, "PNG"))
    assert (decoded[:, :10] == 255).all()  # fully transparent -> white paper
    assert np.abs(decoded[:, 10:20].astype(int) - (40 * 128 + 255 * 127) // 255).max() <= 1
    assert (decoded[:, 20:] == 40).all()


def test_grayscale_and_one_bit_become_three_equal_channels() -> None:
    gray = page(12)[..., 0]
    decoded = decode_image(pil_bytes(Image.fromarray(gray), "PNG"))
    for channel in range(3):
        np.testing.assert_array_equal(decoded[..., channel], gray)
    bits = Image.fromarray(gray > 128)
    assert bits.mode == "1"
    decoded = decode_image(pil_bytes(bits, "PNG"))
    np.testing.assert_array_equal(decoded[..., 1], np.where(gray > 128, 255, 0))


def _with_orientation(image: np.ndarray, orientation: int, fmt: str) -> bytes:
    picture = Image.fromarray(image)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return pil_bytes(picture, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow_exif_transpose(orientation: int) -> None:
    data = _with_orientation(page(13, (40, 70)), orientation, "PNG")
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    np.testing.assert_array_equal(decode_image(data), expected)


@pytest.mark.parametrize(("orientation", "corner"), [(6, (0, -1)), (3, (-1, -1))])
def test_exif_orientation_6_and_3_on_jpeg(orientation: int, corner: tuple[int, int]) -> None:
    image = page(14, (60, 100))  # red marker at the stored top-left
    data = _with_orientation(image, orientation, "JPEG")
    decoded = decode_image(data)
    expected_shape = (100, 60, 3) if orientation == 6 else (60, 100, 3)
    assert decoded.shape == expected_shape
    info = probe_image(data)
    assert (info.orientation, info.height, info.width) == (orientation, *expected_shape[:2])
    r, c = corner  # orientation 6: rotate clockwise, the marker moves to the top-right
    assert decoded[r, c, 0] > 200 and decoded[r, c, 1] < 60
    reduced = decode_image(data, max_side=50)
    assert max(reduced.shape[:2]) == 50
    assert (reduced.shape[0] > reduced.shape[1]) == (orientation == 6)


def _tiff_pages(colours: list[tuple[int, int, int]], sizes: list[tuple[int, int]]) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour, size in zip(colours, sizes, strict=True)]
    return pil_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])


def test_multipage_tiff_pages_are_addressable() -> None:
    data = _tiff_pages([(255, 0, 0), (0, 0, 255), (0, 128, 0)], [(30, 20), (40, 25), (10, 10)])
    info = probe_image(data)
    assert (info.format, info.pages, info.width, info.height) == ("TIFF", 3, 30, 20)
    first = decode_image(data)
    second = decode_image(data, page=1)
    assert first.shape == (20, 30, 3) and (first == (255, 0, 0)).all()
    assert second.shape == (25, 40, 3) and (second == (0, 0, 255)).all()
    assert probe_image(data, page=1).width == 40


@pytest.mark.parametrize("bad_page", [3, 10, -1])
def test_missing_tiff_page_names_the_page_count(bad_page: int) -> None:
    data = _tiff_pages([(255, 0, 0), (0, 0, 255), (0, 128, 0)], [(30, 20)] * 3)
    with pytest.raises(MalformedRequest, match="has 3 pages"):
        decode_image(data, page=bad_page)


def test_single_page_formats_refuse_other_pages() -> None:
    with pytest.raises(MalformedRequest, match="has 1 page "):
        decode_image(encode_image(page(), "png"), page=1)


def test_gif_first_frame_is_read() -> None:
    frames = [Image.new("RGB", (24, 16), colour) for colour in ((255, 0, 0), (0, 255, 0))]
    data = pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    info = probe_image(data)
    assert (info.format, info.pages) == ("GIF", 1)
    decoded = decode_image(data)
    assert decoded.shape == (16, 24, 3) and (decoded == (255, 0, 0)).all()


@pytest.mark.parametrize(("fmt", "params"), [("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {})])
def test_webp_bmp_tiff_decode_exactly(fmt: str, params: dict[str, object]) -> None:
    image = page(15)
    data = pil_bytes(Image.fromarray(image), fmt, **params)
    assert probe_image(data).format == fmt
    np.testing.assert_array_equal(decode_image(data), image)


# ---------------------------------------------------------------- reduced decode


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
@pytest.mark.parametrize(("shape", "max_side", "expected"), [
    ((900, 1200), 300, (225, 300)),   # scale 4 exactly, no resize
    ((900, 1200), 500, (375, 500)),   # DCT 1/2 then INTER_AREA
    ((1200, 700), 1000, (1000, 583)), # portrait: the height is the longer side
    ((90, 120), 500, (90, 120)),      # never upscaled
])
def test_reduced_decode_size_and_content(
    fmt: str, shape: tuple[int, int], max_side: int, expected: tuple[int, int]
) -> None:
    image = page(16, shape)
    data = encode_image(image, fmt, quality=95)
    reduced, info = decode_image_with_info(data, max_side=max_side)
    assert reduced.shape == (*expected, 3)
    assert (info.width, info.height) == (shape[1], shape[0])
    reference = cv2.resize(decode_image(data), expected[::-1], interpolation=cv2.INTER_AREA)
    assert mean_abs(reduced, reference) < 2.5


def test_reduced_decode_of_a_real_receipt_is_close_to_the_full_decode() -> None:
    data = (FIXTURES / "003.jpg").read_bytes()
    full = decode_image(data)
    reduced = decode_image(data, max_side=max(full.shape) // 3)
    assert max(reduced.shape[:2]) == max(full.shape) // 3
    reference = cv2.resize(full, reduced.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert mean_abs(reduced, reference) < 4  # DCT scaling vs area averaging on fine print


@pytest.mark.parametrize(("fmt", "max_side"), [("jpeg", None), ("jpeg", 300), ("png", None), ("png", 300), ("webp", None)])
def test_grey_decode_is_the_luminance_of_the_colour_decode(fmt: str, max_side: int | None) -> None:
    data = encode_image(page(21, (480, 640)), fmt, quality=95)
    colour, info = decode_image_with_info(data, max_side=max_side)
    grey, grey_info = decode_image_with_info(data, max_side=max_side, as_gray=True)
    assert grey.shape == colour.shape[:2] and grey.dtype == np.uint8
    assert grey_info == info
    # JPEG hands over its own Y plane; the colour decode goes through RGB and back (+-1 level,
    # more only where a saturated colour was clipped to the RGB range)
    off = np.abs(grey.astype(int) - cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY))
    assert off.mean() < 0.25 and (off > 2).mean() < 0.001


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_grey_decode_applies_exif_orientation(orientation: int) -> None:
    data = _with_orientation(page(14, (60, 100)), orientation, "JPEG")
    expected = cv2.cvtColor(decode_image(data), cv2.COLOR_RGB2GRAY)
    grey = decode_image(data, as_gray=True)
    assert grey.shape == expected.shape
    assert mean_abs(grey, expected) < 0.1


def test_grey_decode_of_pillow_only_modes_and_bad_data() -> None:
    cmyk = pil_bytes(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG")  # red, by Pillow
    grey = decode_image(cmyk, as_gray=True)
    assert grey.shape == (20, 30)
    assert abs(int(grey.mean()) - int(cv2.cvtColor(decode_image(cmyk), cv2.COLOR_RGB2GRAY).mean())) <= 1
    data = encode_image(page(3, (200, 300)), "jpeg")
    with pytest.raises(ImageDecodeError):
        decode_image(data[: len(data) // 2], as_gray=True, max_side=100)


# ---------------------------------------------------------------- encode


@pytest.mark.parametrize("fmt", ["png", "tiff", "PNG", "tif"])
def test_lossless_encode_round_trips(fmt: str) -> None:
    image = page(17)
    np.testing.assert_array_equal(decode_image(encode_image(image, fmt)), image)


@pytest.mark.parametrize("fmt", ["jpeg", "jpg", "webp"])
def test_lossy_encode_is_close(fmt: str) -> None:
    image = page(18)
    assert mean_abs(decode_image(encode_image(image, fmt, quality=95)), image) < 3


def test_grayscale_encodes_to_a_one_channel_image() -> None:
    gray = page(19)[..., 2]
    data = encode_image(gray, "png")
    assert probe_image(data).mode == "L"
    np.testing.assert_array_equal(decode_image(data)[..., 0], gray)


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (np.zeros((4, 4, 3), np.float32), "png"),
        (np.zeros((4, 4, 4), np.uint8), "png"),
        (np.zeros((0, 4, 3), np.uint8), "png"),
        (np.zeros((4, 4, 3), np.uint8), "gif"),
    ],
)
def test_encode_refuses_bad_input(image: np.ndarray, fmt: str) -> None:
    with pytest.raises(MalformedRequest):
        encode_image(image, fmt)


# ---------------------------------------------------------------- load


def test_load_image_from_bytes_path_and_mem(tmp_path: Path) -> None:
    image = page(20)
    data = encode_image(image, "png")
    (tmp_path / "a.png").write_bytes(data)
    settings = Settings(storage=StorageOptions(roots=(tmp_path,)))
    np.testing.assert_array_equal(load_image(data, settings=settings), image)
    np.testing.assert_array_equal(load_image(tmp_path / "a.png", settings=settings), image)
    np.testing.assert_array_equal(load_image(f"file://{tmp_path}/a.png", settings=settings), image)
    grey = load_image(tmp_path / "a.png", settings=settings, as_gray=True)
    np.testing.assert_array_equal(grey, cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    MemoryStore.put("mem://load-test/in/a.png", data)
    try:
        reduced, info = load_image_with_info("mem://load-test/in/a.png", settings=settings, max_side=60)
    finally:
        MemoryStore.reset("load-test")
    assert reduced.shape == (45, 60, 3)
    assert info == ImageInfo("PNG", 120, 90, 1, "RGB", 1)


def test_load_image_applies_roots_and_limits(tmp_path: Path) -> None:
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    data = encode_image(page(21), "png")
    (outside / "a.png").write_bytes(data)
    (inside / "a.png").write_bytes(data)
    settings = Settings(storage=StorageOptions(roots=(inside,)))
    with pytest.raises(AccessDenied):
        load_image(outside / "a.png", settings=settings)
    small = Settings(storage=StorageOptions(roots=(inside,)), limits=ImageLimits(max_bytes=100))
    with pytest.raises(ImageTooLarge):
        load_image(inside / "a.png", settings=small)
    with pytest.raises(MalformedRequest):
        load_image(12, settings=settings)  # type: ignore[arg-type]


# ---------------------------------------------------------------- crafted structures (no hangs)


def _tiff_ifd_chain(next_offsets: list[int]) -> bytes:
    """Uncompressed 1x1 gray TIFF pages whose IFD 'next' pointers are given (may loop)."""
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    first = 8
    data_offset = first + ifd_size * len(next_offsets)
    out = bytearray(b"II*\x00" + struct.pack("<I", first))
    for i, nxt in enumerate(next_offsets):
        tags = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                (273, 4, data_offset + i), (277, 3, 1), (278, 3, 1), (279, 4, 1)]
        out += struct.pack("<H", entries)
        for tag, kind, value in tags:
            out += struct.pack("<HHII", tag, kind, 1, value)
        out += struct.pack("<I", nxt)
    out += bytes(range(10, 10 + len(next_offsets)))
    return bytes(out)


def test_tiff_ifd_loops_end_the_page_chain() -> None:
    ifd_size = 2 + 9 * 12 + 4
    to_itself = _tiff_ifd_chain([8])
    assert probe_image(to_itself).pages == 1
    assert decode_image(to_itself).shape == (1, 1, 3)
    ping_pong = _tiff_ifd_chain([8 + ifd_size, 8])
    assert probe_image(ping_pong).pages == 2
    assert decode_image(ping_pong, page=1)[0, 0, 0] == 11


def test_tiff_page_count_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    import ocrprep.imageio as imageio

    data = _tiff_pages([(i, i, i) for i in range(7)], [(4, 4)] * 7)
    assert probe_image(data).pages == 7
    monkeypatch.setattr(imageio, "MAX_PAGES", 5)
    with pytest.raises(ImageTooLarge, match="more than 5 pages"):
        probe_image(data)


def test_jpeg_scan_count_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    import ocrprep.imageio as imageio

    data = pil_bytes(Image.fromarray(page(22)), "JPEG", progressive=True)
    assert decode_image(data).shape == (90, 120, 3)
    monkeypatch.setattr(imageio, "MAX_JPEG_SCANS", data.count(b"\xff\xda") - 1)
    with pytest.raises(ImageDecodeError, match="scans"):
        decode_image(data)


def test_pillow_decoded_jpeg_is_reduced_with_draft_and_still_refuses_truncation() -> None:
    cmyk = pil_bytes(Image.fromarray(page(23, (400, 600))).convert("CMYK"), "JPEG", quality=95)
    reduced = decode_image(cmyk, max_side=150)
    assert reduced.shape == (100, 150, 3)
    reference = cv2.resize(decode_image(cmyk), (150, 100), interpolation=cv2.INTER_AREA)
    assert mean_abs(reduced, reference) < 4
    with pytest.raises(ImageDecodeError):
        decode_image(cmyk[: len(cmyk) * 3 // 4], max_side=150)


def test_unknown_names_in_the_allowed_list_are_ignored_and_aliases_work() -> None:
    limits = ImageLimits(formats=("png", "HEIC", "jpg"))
    assert decode_image(encode_image(page(), "png"), limits=limits).shape == (90, 120, 3)
    assert decode_image(encode_image(page(), "jpeg"), limits=limits).shape == (90, 120, 3)
    with pytest.raises(ImageDecodeError, match="GIF is not an allowed"):
        decode_image(pil_bytes(Image.fromarray(page()), "GIF"), limits=limits)


@pytest.mark.parametrize(("shape", "max_side"), [((1527, 1080), 800), ((1013, 463), 800), ((1600, 1131), 800),
                                                 ((3001, 2003), 700), ((2003, 3001), 1000)])
def test_reduced_decode_has_the_shape_of_a_full_decode_downsized(shape: tuple[int, int], max_side: int) -> None:
    data = encode_image(np.full((*shape, 3), 128, np.uint8), "jpeg")
    full = decode_image(data)
    expected = cv2.resize(full, (0, 0), fx=max_side / max(shape), fy=max_side / max(shape),
                          interpolation=cv2.INTER_AREA).shape
    reduced = decode_image(data, max_side=max_side)
    assert max(reduced.shape[:2]) == max_side
    assert abs(reduced.shape[0] - expected[0]) + abs(reduced.shape[1] - expected[1]) <= 1
    longer, shorter = max(shape), min(shape)
    assert min(reduced.shape[:2]) == max(1, round(shorter * max_side / longer))


def test_numpy_integers_are_accepted_and_other_types_refused() -> None:
    data = encode_image(page(), "png")
    assert decode_image(data, max_side=np.int64(60), page=np.int32(0)).shape == (45, 60, 3)
    for bad in ({"max_side": 1.5}, {"page": "0"}, {"page": True}):
        with pytest.raises(MalformedRequest):
            decode_image(data, **bad)  # type: ignore[arg-type]
