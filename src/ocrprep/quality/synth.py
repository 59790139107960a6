"""Labelled data sets of degraded images: ``ocrprep synth GOOD_DIR --out DIR``.

:func:`synthesize` writes ``good/`` (copies), ``bad/`` (one PNG per image, kind, severity and
variant) and ``manifest.jsonl``; the same inputs and seed give the same bytes. It is re-exported as
``ocrprep.degrade.synthesize``.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ocrprep.errors import MalformedRequest

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = ["SynthItem", "item_seed", "synthesize"]


@dataclass(frozen=True)
class SynthItem:
    """One image written by :func:`synthesize`.

    Attributes
    ----------
    path : str
        Where it was written, relative to the output folder (``bad/blur__000__severe.png``).
    label : str
        ``"good"`` or ``"bad"``.
    source : str
        The good image it came from.
    kind, severity : str or None
        The degradation and its severity name (None for the good copies).
    seed : int or None
        The seed of that one degradation.
    params : dict
        The parameters actually applied (see :func:`degrade_with_params`).
    defects : tuple of str
        The quality-report defects the degradation should raise.
    """

    path: str
    label: str
    source: str
    kind: str | None = None
    severity: str | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    defects: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["defects"] = list(self.defects)
        return data


def item_seed(seed: int, stem: str, kind: str, severity: str, index: int) -> int:
    """The seed of one degradation, independent of the order the images are listed in.

    Examples
    --------
    >>> item_seed(0, "000", "blur", "severe", 0) == item_seed(0, "000", "blur", "severe", 0)
    True
    """
    entropy = [int(seed) & 0xFFFFFFFF, zlib.crc32(stem.encode()), zlib.crc32(kind.encode()),
               zlib.crc32(str(severity).encode()), int(index)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def synthesize(
    good_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    kinds: Sequence[str] = (),
    severities: Sequence[float | str] = ("severe",),
    seed: int = 0,
    per_image: int = 1,
    settings: Settings | None = None,
) -> list[SynthItem]:
    """Write a labelled data set of good images and their seeded degradations.

    ``out_dir/good/`` gets a byte-for-byte copy of every good image, ``out_dir/bad/`` one PNG per
    image, kind, severity and variant (``<kind>__<stem>__<severity>[__<i>].png``), and
    ``out_dir/manifest.jsonl`` one JSON line per written image (:meth:`SynthItem.to_dict`).
    The output is the same for the same inputs and ``seed``.

    Parameters
    ----------
    good_dir : str or path
        Folder (or storage URI) of good images.
    out_dir : str or path
        Output folder (or storage URI prefix).
    kinds : sequence of str
        Degradations to apply; empty means every kind of :data:`KINDS`.
    severities : sequence
        Severity names or numbers.
    seed : int
        Seed of the whole data set.
    per_image : int
        Variants per image, kind and severity.
    settings : Settings, optional
        Storage roots and image limits.

    Returns
    -------
    list of SynthItem
        Good copies first, then the degraded images, in manifest order.

    Raises
    ------
    MalformedRequest
        Unknown kind or severity, or no images in ``good_dir``.

    Examples
    --------
    >>> import tempfile, cv2
    >>> from ocrprep.config import load_settings
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     good = Path(tmp, "in"); good.mkdir()
    ...     page = np.full((80, 60, 3), 240, np.uint8); page[10:70:8, 5:55] = 20
    ...     _ = cv2.imwrite(str(good / "a.png"), page)
    ...     settings = load_settings(**{"storage.roots": [tmp]})
    ...     items = synthesize(good, Path(tmp, "out"), kinds=("blur", "dark"), settings=settings)
    ...     [i.path for i in items]
    ['good/a.png', 'bad/blur__a__severe.png', 'bad/dark__a__severe.png']
    """
    from ocrprep.degrade import _KIND_FUNCS, EXPECTED_DEFECTS, KINDS, degrade_with_params, severity_value

    chosen = tuple(kinds) or KINDS
    for kind in chosen:
        if kind not in _KIND_FUNCS:
            raise MalformedRequest(f"unknown degradation {kind!r}; known: {', '.join(KINDS)}")
    for severity in severities:
        severity_value(severity)
    if per_image < 1:
        raise MalformedRequest(f"per_image must be at least 1, got {per_image}")
    io = _SynthIO(settings)
    sources = io.list(str(good_dir))
    if not sources:
        raise MalformedRequest(f"no images found in {good_dir}")
    out = str(out_dir).rstrip("/")
    names = _unique_names(sources)
    items: list[SynthItem] = []
    for uri in sources:
        io.write(f"{out}/good/{names[uri]}", io.read(uri))
        items.append(SynthItem(path=f"good/{names[uri]}", label="good", source=uri))
    for uri in sources:
        stem = names[uri].rsplit(".", 1)[0]
        image = io.decode(io.read(uri))
        for kind in chosen:
            for severity in severities:
                sev_name = severity if isinstance(severity, str) else f"{float(severity):g}"
                for index in range(per_image):
                    one_seed = item_seed(seed, stem, kind, sev_name, index)
                    bad, params = degrade_with_params(image, kind, severity, one_seed)
                    suffix = f"__{index}" if per_image > 1 else ""
                    rel = f"bad/{kind}__{stem}__{sev_name}{suffix}.png"
                    io.write(f"{out}/{rel}", io.encode(bad))
                    items.append(SynthItem(rel, "bad", uri, kind, sev_name, one_seed, params,
                                           EXPECTED_DEFECTS[kind]))
    lines = "".join(json.dumps(item.to_dict(), sort_keys=True) + "\n" for item in items)
    io.write(f"{out}/manifest.jsonl", lines.encode())
    return items


def _unique_names(sources: Sequence[str]) -> dict[str, str]:
    """File names for the copies: the base name, or the path below the common folder when two
    images in different subfolders share a base name (``a/x.jpg`` -> ``a__x.jpg``)."""
    base = {uri: uri.replace("\\", "/").rsplit("/", 1)[-1] for uri in sources}
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    if all(c == 1 for c in counts.values()):
        return base
    prefix = os.path.commonpath([uri.replace("\\", "/") for uri in sources]) if len(sources) > 1 else ""
    return {uri: uri.replace("\\", "/")[len(prefix):].strip("/").replace("/", "__") for uri in sources}


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")


def _module(name: str, *needs: str) -> Any:
    """``ocrprep.<name>`` when it provides ``needs``, else None (local fallback)."""
    import importlib

    try:
        module = importlib.import_module(f"ocrprep.{name}")
    except ImportError:
        return None
    return module if all(hasattr(module, n) for n in needs) else None


class _SynthIO:
    """Reads and writes through ``ocrprep.storage`` / ``ocrprep.imageio`` when present."""

    def __init__(self, settings: Settings | None) -> None:
        self.settings = settings
        self.storage = _module("storage", "list_images", "read_bytes", "write_bytes")
        self.imageio = _module("imageio", "decode_image", "encode_image")

    def _opts(self) -> Settings:
        from ocrprep.config import load_settings

        if self.settings is None:
            self.settings = load_settings()
        return self.settings

    def list(self, uri: str) -> list[str]:
        if self.storage is None:
            folder = Path(uri)
            if not folder.is_dir():
                raise MalformedRequest(f"not a folder: {uri}")
            return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
        return sorted(self.storage.list_images(uri, self._opts().storage))

    def read(self, uri: str) -> bytes:
        if self.storage is None:
            return Path(uri).read_bytes()
        opts = self._opts()
        return bytes(self.storage.read_bytes(uri, opts.storage, max_bytes=opts.limits.max_bytes))

    def write(self, uri: str, data: bytes) -> None:
        if self.storage is None:
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return
        self.storage.write_bytes(uri, data, self._opts().storage)

    def decode(self, data: bytes) -> np.ndarray:
        if self.imageio is None:
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if bgr is None:
                raise MalformedRequest("cannot decode image")
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return self.imageio.decode_image(data, limits=self._opts().limits)

    def encode(self, image: np.ndarray) -> bytes:
        if self.imageio is None:
            src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
            return cv2.imencode(".png", src)[1].tobytes()
        return bytes(self.imageio.encode_image(image, "png"))
