"""A real labelled region dataset for free: SROIE receipts' ``total`` and ``date`` lines.

Each receipt's ``key/NNN.json`` names its total and date; the ``box/NNN.csv`` transcripts give
the line boxes. The ``date`` region is the line holding the date; the ``total`` region is the row
(all lines at the same height) holding the total amount on a row that says TOTAL (else the last
line holding the amount).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ocrprep.regions.annotations import Box, BoxItem

__all__ = ["read_sroie_lines", "sroie_region_item", "sroie_region_items"]


def read_sroie_lines(path: Path) -> list[tuple[float, float, float, float, str]]:
    """``(x0, y0, x1, y1, text)`` per line of a SROIE ``box/NNN.csv``."""
    out = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) != 9:
            continue
        try:
            xs, ys = [float(v) for v in parts[0:8:2]], [float(v) for v in parts[1:8:2]]
        except ValueError:
            continue
        out.append((min(xs), min(ys), max(xs), max(ys), parts[8].strip()))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text.upper())


def sroie_region_item(data: Path, stem: str) -> BoxItem | None:
    """The ``total`` and ``date`` boxes of one receipt, or None when neither is found."""
    key_path, box_path = data / "key" / f"{stem}.json", data / "box" / f"{stem}.csv"
    if not key_path.is_file() or not box_path.is_file():
        return None
    key = json.loads(key_path.read_text(encoding="utf-8", errors="replace"))
    lines = read_sroie_lines(box_path)
    boxes: list[Box] = []
    date = _norm(str(key.get("date", "")))
    if date:
        for x0, y0, x1, y1, text in lines:
            if date in _norm(text):
                boxes.append(Box("date", x0, y0, x1 - x0, y1 - y0))
                break
    total = _norm(str(key.get("total", "")))
    if total:
        hits = [ln for ln in lines if re.search(rf"(^|[^0-9.]){re.escape(total)}$", _norm(ln[4]))]
        chosen = None
        for hit in hits:
            cy, hh = (hit[1] + hit[3]) / 2, hit[3] - hit[1]
            row = [ln for ln in lines if abs((ln[1] + ln[3]) / 2 - cy) < 0.5 * hh]
            if any("TOTAL" in _norm(ln[4]) for ln in row):
                chosen = row
                break
        if chosen is None and hits:
            chosen = [hits[-1]]
        if chosen:
            x0, y0 = min(ln[0] for ln in chosen), min(ln[1] for ln in chosen)
            x1, y1 = max(ln[2] for ln in chosen), max(ln[3] for ln in chosen)
            boxes.append(Box("total", x0, y0, x1 - x0, y1 - y0))
    if not boxes:
        return None
    return BoxItem(str(data / "img" / f"{stem}.jpg"), tuple(boxes))


def sroie_region_items(data: str | Path, limit: int = 0) -> list[BoxItem]:
    """:func:`sroie_region_item` for every receipt of ``data`` (``img/``, ``box/``, ``key/``)."""
    data = Path(data)
    items = []
    for image in sorted((data / "img").glob("*.jpg")):
        item = sroie_region_item(data, image.stem)
        if item is not None:
            items.append(item)
        if limit and len(items) >= limit:
            break
    return items
