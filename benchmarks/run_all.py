"""Run every benchmark (``make bench``); results go to benchmarks/results/*.json.

The figures in docs/benchmarks.md come from these scripts. Run on a quiet machine:
the timings are wall-clock and the engine uses every core numba sees.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_delft.py", "bench_grid.py", "bench_roadlike.py", "bench_transit.py",
           "bench_distributed.py", "bench_national.py"]


def main() -> int:
    rc = 0
    for s in SCRIPTS:
        if not (HERE / s).exists():
            continue
        print(f"=== {s}", flush=True)
        rc |= subprocess.call([sys.executable, str(HERE / s)], cwd=HERE)
    return rc


if __name__ == "__main__":
    sys.exit(main())
