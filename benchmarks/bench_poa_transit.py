"""Benchmark and example: transit accessibility in Porto Alegre on the real feeds.

Real inputs (``data/raw/poa/``, see ``data/raw/SOURCES.md``): the EPTC bus and Trensurb
metro GTFS feeds, the OpenStreetMap extract and 1,222 H3 hexagon centres with jobs (the
five cells without a jobs value are left out, logged). Working CRS EPSG:31982 (SIRGAS
2000 / UTM 22S). Two runs, both with R5's street model: walking 3.6 km/h over the OSM
walk network for access, egress, transfers (≤ 1,000 m walked) and the direct walk;
60 s board slack before every boarding; egress ≤ 2,000 m walked (R5's egress tables);
hexagons and stops linked to the walk network within 1,600 m (R5's linking radius):

``example``
    Jobs within 30 and 60 minutes per hexagon, Monday 2019-05-13, departures every
    minute 14:00–15:00, median (p50), at most 8 rides (R5's default) — the example study
    ``studies/porto_alegre.yaml``.
``r5_setting``
    The comparison setting of issue #14: one departure at 14:00, trips up to 120 min,
    at most 3 rides; the hexagon × hexagon travel-time matrix (1,222² pairs) is written
    to ``benchmarks/results/poa_r5_setting_matrix.parquet`` with jobs within 60 min.

Timed: reading the walk network, reading both feeds into one network, street transfers,
access/egress legs and routing; peak memory is the process's maximum resident set size.

Run: ``.venv/bin/python benchmarks/bench_poa_transit.py [--skip-matrix]``
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path

import numpy as np

from ruimtekit.analysis import transit_access

RAW = Path(__file__).resolve().parents[1] / "data" / "raw" / "poa"
RESULTS = Path(__file__).resolve().parent / "results"
DATE = "2019-05-13"
R5_LIKE = dict(walk_speed_kmh=3.6, board_slack_s=60, transfer_radius_m=1000.0,
               max_access_min={"walk": 120.0}, max_egress_min={"walk": 2000 / 60.0},
               max_time_min=120.0, max_snap_m=1600.0)


def rss_mb() -> float:
    """Peak resident set size of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-matrix", action="store_true", help="only the example run")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    import ruimtekit
    from ruimtekit.engine import transit
    from ruimtekit.io import layers
    from ruimtekit.network import networks

    timings: dict[str, float] = {}
    out: dict[str, object] = {"date": DATE, "crs": "EPSG:31982"}
    with ruimtekit.use_crs("EPSG:31982"):
        t = time.perf_counter()
        hexes = layers.read_jobs(RAW / "poa_hexgrid.csv", columns={"zone_id": "id",
                                                                     "jobs": "jobs"})
        hexes = hexes[hexes["jobs"].notna()].reset_index(drop=True)
        walk = networks.load_network(RAW / "poa_osm.pbf", "walk",
                                     profile={"speed_kmh": 3.6})
        timings["read_hexagons_and_walk_network_s"] = time.perf_counter() - t
        t = time.perf_counter()
        net = transit.build_network([RAW / "poa_eptc.zip", RAW / "poa_trensurb.zip"], DATE,
                                    transfer_radius_m=0.0, walk_speed_kmh=3.6,
                                    time_range_s=(14 * 3600, 17 * 3600))
        net = transit.street_transfers(net, walk, max_distance_m=1000.0, walk_speed_kmh=3.6,
                                       max_snap_m=1600.0)
        timings["build_network_s"] = time.perf_counter() - t
        out.update(hexagons=len(hexes), jobs=float(hexes["jobs"].sum()), stops=net.n_stops,
                   patterns=net.n_patterns, trips=int(net.pat_trip_ptr[-1]),
                   footpaths=int(len(net.fp_to)), walk_nodes=walk.n_nodes)

        example = transit.TransitParams(**R5_LIKE, max_rides=8, window_start="14:00",
                                        window_end="15:00", percentiles=[50.0])
        t = time.perf_counter()
        legs = transit_access.TransitOptions(access_network=walk, egress_network=walk)
        df = transit_access.zone_accessibility(net, hexes, hexes["jobs"].to_numpy(),
                                               measures={"cutoffs": (30, 60)}, params=example,
                                               options=legs)
        timings["example_routing_s"] = time.perf_counter() - t
        w = hexes["population"].to_numpy(dtype=float) if "population" in hexes else None
        for c in (30, 60):
            v = df[f"jobs_{c}min_transit"].to_numpy()
            out[f"example_jobs_{c}min_mean"] = float(np.mean(v))
            out[f"example_jobs_{c}min_median"] = float(np.median(v))
            if w is not None:
                out[f"example_jobs_{c}min_population_weighted"] = float(np.average(v,
                                                                                  weights=w))
            out[f"example_jobs_{c}min_max"] = float(np.max(v))
        out["example_hexagons_without_stop"] = int(df["no_stop_transit"].sum())
        RESULTS.mkdir(exist_ok=True)
        df.to_csv(RESULTS / "poa_example_jobs.csv", index=False)

        if not args.skip_matrix:
            r5 = transit.TransitParams(**R5_LIKE, max_rides=3, window_start="14:00",
                                       window_end="14:01", percentiles=[50.0])
            t = time.perf_counter()
            m = transit_access.od_matrix(net, hexes, access_mode="walk", params=r5,
                                  access_network=walk, egress_network=walk)
            timings["r5_setting_matrix_s"] = time.perf_counter() - t
            m.to_parquet(RESULTS / "poa_r5_setting_matrix.parquet", index=False)
            reach = m["travel_time"].notna()
            out["r5_setting_pairs"] = int(len(m))
            out["r5_setting_reachable_share"] = float(reach.mean())
            out["r5_setting_median_min"] = float(m.loc[reach, "travel_time"].median())
            acc60 = transit_access.zone_accessibility(net, hexes, hexes["jobs"].to_numpy(),
                                                      measures={"cutoffs": (60,)}, params=r5,
                                                      options=legs)
            acc60.to_csv(RESULTS / "poa_r5_setting_jobs60.csv", index=False)
            out["r5_setting_jobs_60min_mean"] = float(acc60["jobs_60min_transit"].mean())
    out["timings_s"] = {k: round(v, 1) for k, v in timings.items()}
    out["peak_rss_mb"] = round(rss_mb(), 0)
    print(json.dumps(out, indent=1))
    (RESULTS / "bench_poa_transit.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
