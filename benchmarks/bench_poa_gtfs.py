"""Benchmark / smoke check: two real GTFS feeds merged (Porto Alegre EPTC buses + Trensurb
metro, ``data/raw/poa``) and range-RAPTOR from the 1,222 r5r hexagons.

Reads both feeds into SIRGAS 2000 / UTM 22S (EPSG:31982, metres), builds one network for
Monday 2019-05-13 (ids ``poa_eptc:<id>`` / ``poa_trensurb:<id>``; walking transfers within
400 m straight line at 3.6 km/h, also between the feeds), and routes every hexagon centre
(``data/raw/poa/poa_hexgrid.csv``, IPEA via r5r; the 5 of 1,227 rows without data are
left out) to every other over 14:00–15:00 at 1-minute steps (60 departures), median
travel time, at most 3 rides, 120 min at most. Access, egress and the direct walk are
straight lines at 3.6 km/h (detour factor 1.0) up to 1,200 m (20 min); this is a smoke
check of feeds + engine, not the street-network example study (see docs/transit.md).

Timed: reading each feed (including distance-based interpolation of the 125,271 blank EPTC
stop times), building the network, the compiled warm-up, and range-RAPTOR with jobs within
30/60 min aggregated per block. Peak memory is the process's maximum resident set size.

Run: ``.venv/bin/python benchmarks/bench_poa_gtfs.py [--threads 2]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ruimtekit.engine.measures import aggregate_times

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

from ruimtekit.engine import transit
from ruimtekit.io import gtfs

ROOT = Path(__file__).resolve().parents[1]
POA = ROOT / "data" / "raw" / "poa"
HEX = POA / "poa_hexgrid.csv"
CRS = "EPSG:31982"
DATE = "2019-05-13"
WALK_KMH = 3.6
MAX_WALK_M = 1200.0  # 20 min at 3.6 km/h


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--hexgrid", type=Path, default=HEX)
    args = ap.parse_args()
    if args.threads:
        import numba

        numba.set_num_threads(args.threads)
    t: dict[str, float] = {}
    with _common.timer(t, "read_eptc_s"):
        eptc = gtfs.read_gtfs(POA / "poa_eptc.zip", crs=CRS)
    with _common.timer(t, "read_trensurb_s"):
        trensurb = gtfs.read_gtfs(POA / "poa_trensurb.zip", crs=CRS)
    w0, w1 = 14 * 3600, 15 * 3600
    with _common.timer(t, "build_network_s"):
        net = transit.build_network([eptc, trensurb], DATE, walk_speed_kmh=WALK_KMH,
                                    time_range_s=(w0, w1 + 120 * 60))
    hexes = pd.read_csv(args.hexgrid)
    n_all = len(hexes)
    hexes = hexes[hexes["jobs"].notna()].reset_index(drop=True)  # 5 of 1,227 have no data
    from pyproj import Transformer

    zx, zy = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(
        hexes["lon"].to_numpy(), hexes["lat"].to_numpy())
    zx, zy = np.asarray(zx), np.asarray(zy)
    jobs = hexes["jobs"].to_numpy(dtype=np.float64)

    def walk(d: np.ndarray) -> np.ndarray:
        return transit.walking_seconds(d, WALK_KMH)

    legs = transit.zone_legs(zx, zy, net.x, net.y, mode=walk, max_distance_m=MAX_WALK_M)
    deps = transit.departure_times("14:00", "15:00", 60)
    p = transit.TransitParams(max_rides=3, max_time_min=120, percentiles=[50])  # 2 transfers
    with _common.timer(t, "warm_up_s"):
        next(transit.iter_raptor_blocks(net, legs, legs, params=p, departures=deps[:2],
                                        origins=np.arange(2)))
    n = len(zx)
    acc = {c: np.zeros(n) for c in (30, 60)}
    reach = 0
    with _common.timer(t, "raptor_s"):
        for blk, tb in transit.iter_raptor_blocks(net, legs, legs, params=p, departures=deps,
                                                  block_size=128):
            tt = tb[:, :, 0]
            d = np.hypot(zx[blk, None] - zx[None, :], zy[blk, None] - zy[None, :])
            direct = np.where(d <= MAX_WALK_M, walk(d), np.inf)
            direct[np.arange(len(blk)), blk] = 0.0
            tt = np.minimum(tt, direct)
            reach += int(np.isfinite(tt).sum())
            m = aggregate_times(tt, jobs, cutoffs=(30, 60))
            for c in (30, 60):
                acc[c][blk] = m[f"{c}min"]
    reps = {r["name"]: r for r in net.meta["feeds"]}
    res = {
        "feeds": {k: {x: v[x] for x in ("trips_read", "trips_running", "trips_kept",
                                         "routes_running", "stops_served", "dropped",
                                         "stop_times_interpolated")}
                  for k, v in reps.items()},
        "network": {"stops": net.n_stops, "patterns": net.n_patterns,
                    "trips": int(net.pat_trip_ptr[-1]), "footpaths": int(len(net.fp_to)),
                    "cross_feed_footpaths": int(np.sum(
                        pd.Series(net.stop_ids).str.split(":").str[0].to_numpy()[
                            np.repeat(np.arange(net.n_stops), np.diff(net.fp_ptr))]
                        != pd.Series(net.stop_ids).str.split(":").str[0].to_numpy()[
                            net.fp_to]))},
        "zones": n, "rows_without_jobs_dropped": n_all - n,
        "zones_without_stop": int(np.sum(np.diff(legs.ptr) == 0)),
        "departures": int(deps.size), "timings_s": t, "peak_rss_mb": round(_common.maxrss_mb()),
        "reachable_pairs_share": round(reach / (n * n), 4),
        "jobs_total": float(jobs.sum()),
        "mean_jobs_30min": round(float(acc[30].mean())),
        "mean_jobs_60min": round(float(acc[60].mean())),
    }
    print(_common.dumps(res))
    _common.save("poa_gtfs", res)


if __name__ == "__main__":
    main()
