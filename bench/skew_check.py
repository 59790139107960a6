"""Skew error on receipts outside the bench's skew set: the check behind skew-estimator changes.

Run: ``.venv/bin/python bench/skew_check.py [--data ../shared/data/sroie] [--copies 2]``.

``bench/bench_enhance.py`` measures skew on 40 receipts (``pick(files, 40)``); a change to the
estimator is judged here instead, on every second one of the other 169 (85 receipts), each turned
``--copies`` times by a seeded angle of 10-30 degrees either way with the project's ``skew``
degradation. The error is the bench's relative one: ``|estimate(turned) - angle - estimate(scan)|``
(the scans themselves tilt up to 1.7 degrees). CPU time is the median of ``measure_skew`` on the
turned copies, one thread. The table goes to stdout and ``bench/results/skew_check.txt``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_enhance as be  # noqa: E402  (sets one thread per library on import)

from ocrprep.degrade import degrade_with_params  # noqa: E402
from ocrprep.enhance import measure_skew  # noqa: E402
from _report import emit  # noqa: E402


def main() -> None:
    parser = be.check_parser(__doc__ or "", "skew_check.txt", seed=99)
    parser.add_argument("--copies", type=int, default=2, help="turned copies per receipt")
    args = parser.parse_args()
    files = be.receipts(args.data)
    bench = set(be.pick(files, 40))
    chosen = [f for f in files if f not in bench][::2]
    errors, cpu = [], []
    for n, path in enumerate(chosen):
        image = be.load(path)
        base = measure_skew(image).angle
        for copy in range(args.copies):
            rng = np.random.default_rng([args.seed, n, copy])
            angle = float(rng.uniform(10, 30) * rng.choice([-1, 1]))
            turned, _ = degrade_with_params(image, "skew", "severe", seed=1000 + n, angle=angle)
            start = time.process_time()
            got = measure_skew(turned).angle
            cpu.append(time.process_time() - start)
            errors.append(abs(got - angle - base))
    e = np.array(errors)
    lines = [
        f"# skew_check: {len(chosen)} receipts outside bench_enhance's skew set x {args.copies} turned "
        f"copies = {e.size} (seed {args.seed}, one thread)",
        "target (as the bench): MAE <= 0.10 deg, >= 85% within 0.1 deg, none above 1 deg",
        "",
        f"  MAE {e.mean():.3f} deg   within 0.1: {(e <= 0.1).mean():.0%}   within 0.2: {(e <= 0.2).mean():.0%}   "
        f"worst {e.max():.2f} deg   CPU {1000 * statistics.median(cpu):.1f} ms median",
    ]
    emit(lines, args.out)


if __name__ == "__main__":
    main()
