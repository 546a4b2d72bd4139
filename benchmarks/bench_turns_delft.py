"""Benchmark: intersection delays and edge linking on the real Delft drive network.

Car travel times between the Delft PC4 zones (CBS 2021 PC4 areas whose centroid lies on
the network; population-free centroids as points) in three set-ups:

* ``node_snap``: the old model — nearest node, no intersection costs, walking access leg;
* ``edge_linked``: points linked onto the nearest eligible edge (split there), car access
  leg at the profile's 15 km/h, no intersection costs;
* ``turns_signals``: the default car model — edge linking plus turn costs (left 30 s,
  right 10 s, U-turn 90 s, no U-turns at through-nodes) and 15 s per traffic signal on an
  edge-based graph.

For scale, the door-to-door car speeds are set beside OpenTripPlanner 2.2's car times
for Den Haag Zuid-West in the same crow-fly distance bands (read from
``../shared/data/otp_dhzw_calibration``; another city, so a plausibility check only).
Engine cost: link time for 100,000 random points, and search time of the same 2,000
origins (to 20,000 destination points) on the node-based and the edge-based graph.

    python benchmarks/bench_turns_delft.py
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from _common import dumps, save

from ruimtekit.analysis import accessibility
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay
from ruimtekit.network import graph as G
from ruimtekit.network import networks, profiles

ROOT = Path(__file__).resolve().parents[1]
DELFT = ROOT / "data" / "raw" / "osm" / "delft_drive.graphml"
PC4 = ROOT / "data" / "raw" / "cbs_pc4_2021.parquet"
OTP = ROOT.parent / "shared" / "data" / "otp_dhzw_calibration" / "car_time_distance_calibration.csv"
BANDS_KM = [(0.5, 2.0), (2.0, 4.0), (4.0, 8.0)]


def delft_pc4(g: G.Graph) -> gpd.GeoDataFrame:
    z = gpd.read_parquet(PC4).to_crs(28992)
    c = z.geometry.centroid
    inside = (c.x > g.x.min()) & (c.x < g.x.max()) & (c.y > g.y.min()) & (c.y < g.y.max())
    z = z[inside & z["pc4"].astype(str).str.match(r"^26(1[1-9]|2[0-9])$")].copy()
    z["zone_id"] = z["pc4"].astype(str)
    z["jobs"] = 1.0
    return z[["zone_id", "jobs", "geometry"]].reset_index(drop=True)


def od(g: G.Graph, zones: gpd.GeoDataFrame, **kw) -> pd.DataFrame:
    df = accessibility.od_matrix(g, zones, max_time_min=120, mode="car", max_snap_m=1000, **kw)
    return df[df.origin != df.destination]


def crowfly_km(zones: gpd.GeoDataFrame, df: pd.DataFrame) -> np.ndarray:
    c = zones.set_index("zone_id").geometry.centroid
    a, b = c.loc[df.origin].to_numpy(), c.loc[df.destination].to_numpy()
    return np.hypot([p.x for p in a] - np.array([p.x for p in b]),
                    [p.y for p in a] - np.array([p.y for p in b])) / 1000


def otp_speeds() -> dict:
    if not OTP.exists():
        return {"note": "OTP calibration data not found (../shared/data)"}
    d = pd.read_csv(OTP)
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, 28992, always_xy=True)
    x1, y1 = tr.transform(d.departure_x.to_numpy(), d.departure_y.to_numpy())
    x2, y2 = tr.transform(d.arrival_x.to_numpy(), d.arrival_y.to_numpy())
    km = np.hypot(x1 - x2, y1 - y2) / 1000
    out = {}
    for lo, hi in BANDS_KM:
        m = (km >= lo) & (km < hi)
        out[f"{lo}-{hi} km"] = {"pairs": int(m.sum()),
                                "median_min": round(float(np.median(d.travel_time[m])), 2)
                                if m.any() else None,
                                "median_crowfly_kmh": round(float(np.median(
                                    km[m] / (d.travel_time[m] / 60))), 1) if m.any() else None}
    return out


def main() -> dict:
    g = networks.load_network(DELFT, "car")
    plain = networks.load_network(DELFT, "car", profile={"turns": {"enabled": False,
                                                                    "signal_delay_s": 0}})
    old = G.Graph(**{**g.__dict__, "edge_data": None, "node_data": None})  # node snapping
    zones = delft_pc4(g)
    res: dict = {"graph": {"nodes": g.n_nodes, "edges": g.n_edges,
                           "signal_nodes": int(g.node_data["signal"].sum())},
                 "zones": len(zones), "setups": {}}
    base = None
    for name, gg, kw in (("node_snap", old, {"access_speed_kmh": 4.8}),
                         ("edge_linked", plain, {}), ("turns_signals", g, {})):
        t0 = time.perf_counter()
        df = od(gg, zones, **kw)
        dt = time.perf_counter() - t0
        km = crowfly_km(zones, df)
        df = df.assign(km=km, kmh=km / (df.time_s / 3600))
        row = {"pairs": len(df), "median_min": round(float(df.time_s.median()) / 60, 2),
               "mean_min": round(float(df.time_s.mean()) / 60, 2), "od_matrix_s": round(dt, 3),
               "bands": {}}
        for lo, hi in BANDS_KM:
            m = (df.km >= lo) & (df.km < hi)
            row["bands"][f"{lo}-{hi} km"] = {
                "pairs": int(m.sum()),
                "median_min": round(float(df.time_s[m].median()) / 60, 2) if m.any() else None,
                "median_crowfly_kmh": round(float(df.kmh[m].median()), 1) if m.any() else None}
        if base is None:
            base = df.set_index(["origin", "destination"]).time_s
        else:
            cur = df.set_index(["origin", "destination"]).time_s
            j = base.index.intersection(cur.index)
            row["median_ratio_to_node_snap"] = round(float(np.median(cur[j] / base[j])), 3)
        res["setups"][name] = row
    res["otp_dhzw_car"] = otp_speeds()

    # engine cost: linking 100k points (wall and CPU seconds: the machine may be shared);
    # searches from 2,000 origins to 20,000 destinations, node- vs edge-based
    rng = np.random.default_rng(0)
    xs = rng.uniform(np.percentile(g.x, 5), np.percentile(g.x, 95), 100_000)
    ys = rng.uniform(np.percentile(g.y, 5), np.percentile(g.y, 95), 100_000)
    networks.link(g, xs[:100], ys[:100], 1000.0)
    timings = {}
    for name, gg in (("node_based", plain), ("edge_based", g)):
        t0, c0 = time.perf_counter(), time.process_time()
        networks.link(gg, xs, ys, 1000.0)
        t_link, c_link = time.perf_counter() - t0, time.process_time() - c0
        lk = networks.link(gg, xs[:20_000], ys[:20_000], 1000.0)
        k = 2000
        ms = [Decay("cumulative", cutoff=c) for c in (10.0, 20.0)]
        dst = lk.sink
        sh = _search.build_search_inputs(
            lk.graph, (lk.src_ptr[:k + 1], lk.src_nodes[:lk.src_ptr[k]],
                       lk.src_off_s[:lk.src_ptr[k]]), (dst, np.zeros(dst.size), np.ones(dst.size)),
            ms, 20.0)
        _search.search(sh, np.arange(10))  # compile / load the kernel
        t0, c0 = time.perf_counter(), time.process_time()
        out, _, _, reached = _search.search(sh)
        t_search, c_search = time.perf_counter() - t0, time.process_time() - c0
        timings[name] = {"link_100k_points_wall_s": round(t_link, 2),
                         "link_100k_points_cpu_s": round(c_link, 2),
                         "search_graph_nodes_20k_points": lk.graph.n_nodes,
                         "search_graph_edges_20k_points": lk.graph.n_edges,
                         "search_2000_origins_20min_wall_s": round(t_search, 3),
                         "search_2000_origins_20min_cpu_s": round(c_search, 3),
                         "mean_nodes_reached": round(float(reached.mean()), 1),
                         "mean_points_within_10min": round(float(out[:, 0].mean()), 1)}
    timings["slowdown_search_cpu"] = round(
        timings["edge_based"]["search_2000_origins_20min_cpu_s"]
        / timings["node_based"]["search_2000_origins_20min_cpu_s"], 2)
    res["engine"] = timings
    res["turn_defaults"] = profiles.get_profile("car").turns.model_dump()
    save("turns_delft", res)
    return res


if __name__ == "__main__":
    print(dumps(main()))
