"""Which images does ``is_inverted`` take for light text on dark? Receipts, their negatives, photos, shadows.

Run: ``.venv/bin/python bench/inversion_check.py [--data ../shared/data/sroie]``.

Over the 209 SROIE receipts: the scans as they are and their negatives (255 - image), a seeded
phone photo of each (``regions.synth.compose_photo(receipt, seed=i)``, 1600x1200: the page on a
table that is often darker than it), and each receipt under the bench's strong-shadow kind
(``bench_enhance.degrade_kind``, seed 2024) and under ``degrade(..., "shadow", "severe")``.
Only the negatives are light text on dark. The table goes to stdout and
``bench/results/inversion_check.txt``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.degrade import degrade  # noqa: E402
from ocrprep.enhance import is_inverted  # noqa: E402
from ocrprep.regions.synth import compose_photo  # noqa: E402
from _report import emit  # noqa: E402

_SHADOW = next(k for k, kind in enumerate(be.KINDS) if kind[1] == "shadow")


def main() -> None:
    args = be.check_parser(__doc__ or "", "inversion_check.txt", seed=2024).parse_args()
    files = be.receipts(args.data)
    counts = {"scans": [], "negatives": [], "photos": [], "bench strong shadow": [], "shadow, severe": []}
    for i, path in enumerate(files):
        image = be.load(path)
        key = int(path.stem) if path.stem.isdigit() else i
        cases = {
            "scans": image,
            "negatives": 255 - image,
            "photos": compose_photo(image, seed=i)[0],
            "bench strong shadow": be.degrade_kind(image, _SHADOW, key, args.seed),
            "shadow, severe": degrade(image, "shadow", "severe", seed=i),
        }
        for name, case in cases.items():
            if is_inverted(case) != (name == "negatives"):
                counts[name].append(path.stem)
    lines = [f"# inversion_check: is_inverted on {len(files)} SROIE receipts and their variants", "",
             f"  {'images':<22}{'right':>7}{'wrong':>7}  wrong ones"]
    for name, wrong in counts.items():
        shown = " ".join(wrong[:12]) + (" ..." if len(wrong) > 12 else "")
        lines.append(f"  {name:<22}{len(files) - len(wrong):>7}{len(wrong):>7}  {shown}")
    lines.append("  (right: negatives taken for inverted, every other image not)")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
