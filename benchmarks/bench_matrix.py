"""Peak memory of a streamed travel-time matrix (ruimtekit.write_matrix) as the number of
origins grows, on the real Delft car network (osmnx GraphML, edge linking, turn costs).

Origins and destinations are SYNTHETIC random points inside the network's extent (seed
0); every size runs in a fresh process so peak RSS (ru_maxrss) belongs to that size.
Run: PYTHONPATH=src .venv/bin/python benchmarks/bench_matrix.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NETWORK = ROOT / "data" / "raw" / "osm" / "delft_drive.graphml"
SIZES = (500, 2000, 8000)
N_DEST = 2000
MAX_TIME_MIN = 10.0


def one(n_orig: int, in_memory: bool) -> dict:
    import resource
    import tempfile

    import geopandas as gpd
    import numpy as np
    import pyarrow.parquet as pq

    import ruimtekit as rk

    net = rk.TransportNetwork(roads={"car": NETWORK})
    g = net.roads["car"]
    rng = np.random.default_rng(0)

    def pts(k: int, prefix: str) -> gpd.GeoDataFrame:
        x = rng.uniform(g.x.min(), g.x.max(), k)
        y = rng.uniform(g.y.min(), g.y.max(), k)
        return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(k)]},
                                geometry=gpd.points_from_xy(x, y), crs="EPSG:28992")

    orig, dest = pts(n_orig, "o"), pts(N_DEST, "d")
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    opts = rk.RoutingOptions(max_time_min=MAX_TIME_MIN)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if in_memory:
            ttm = rk.TravelTimeMatrix(net, orig, dest, mode="car", options=opts)
            pairs, reach, size = len(ttm), int(ttm["travel_time"].notna().sum()), 0
        else:
            res = rk.write_matrix(net, orig, dest, Path(tmp) / "m.parquet", "car",
                                  None, opts)
            pairs, reach = res["pairs"], res["reachable"]
            size = (Path(tmp) / "m.parquet").stat().st_size
            assert pq.ParquetFile(Path(tmp) / "m.parquet").metadata.num_rows == pairs
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"origins": n_orig, "destinations": N_DEST, "pairs": pairs, "reachable": reach,
            "in_memory": in_memory, "seconds": round(wall, 1),
            "rss_before_mb": round(base), "peak_rss_mb": round(peak),
            "parquet_mb": round(size / 2**20, 1)}


def main() -> None:
    rows = []
    for n in SIZES:
        for in_memory in (False, True):
            out = subprocess.run([sys.executable, __file__, str(n), str(int(in_memory))],
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    res = ROOT / "benchmarks" / "results"
    res.mkdir(exist_ok=True)
    (res / "bench_matrix.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(one(int(sys.argv[1]), bool(int(sys.argv[2])))))
    else:
        main()
