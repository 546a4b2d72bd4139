"""Benchmark and validation: national car accessibility on the OSM NL main-road network.

All 4,068 CBS PC4 zones (data/raw/cbs_pc4_2021.parquet, inhabitants 2021) × CBS employee
jobs 2014 at 2,808 wijk centroids (data/raw/cbs_wijk_banen_2014.csv), car at 35 and 45 min,
free flow and morning peak (``morning_peak`` speed factors), through zone connectors
(:func:`ruimtekit.analysis.accessibility.connector_access`, defaults of
:mod:`ruimtekit.network.connectors`), on the network of ``studies/demo.yaml`` (OSM NL main roads
2021 + ferries, urban speeds from PC4 density).

Reports:

* run time: network build, and the accessibility run per period (land parts, connectors
  and the search) after a kernel warm-up, on this machine;
* the PBL comparison: population-weighted mean of jobs within 35 min in the morning peak,
  NL and Landsdeel West (provinces Noord-Holland, Zuid-Holland, Utrecht), against PBL
  Balans van de Leefomgeving 2010 (2008, per dwelling): 336k and 473k;
* the acceptance checks: Schiermonnikoog < 100k jobs in 45 min by car; the top 10 PC4 by
  car accessibility and their distance to the nearest motorway node (< 5 km);
* connector flags (far / no_network).

    python benchmarks/bench_national.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, maxrss_mb, save, warm_up

from ruimtekit import study
from ruimtekit.analysis import accessibility
from ruimtekit.engine.measures import measure_list
from ruimtekit.io import layers, places
from ruimtekit.network import connectors, networks

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
PBL_NL_35MIN_PEAK = 336_000
"""PBL Balans van de Leefomgeving 2010: jobs within 35 min by car in the morning peak,
2008, mean per dwelling, Nederland."""
PBL_WEST_35MIN_PEAK = 473_000
"""The same for Landsdeel West."""
WEST_PROVINCES = ("Noord-Holland", "Zuid-Holland", "Utrecht")


def load_inputs() -> tuple[dict, object, object]:
    """The demo's national car networks (free flow, peak), PC4 zones and wijk jobs."""
    spec, root = study.load_study(ROOT / "studies" / "demo.yaml")
    nets = {}
    timing = {}
    for name in ("nl_car", "nl_car_peak"):
        t0 = time.perf_counter()
        nets[name] = networks.build(spec.networks[name], root)
        timing[f"build_{name}_s"] = round(time.perf_counter() - t0, 2)
    pc4 = layers.read_zones(RAW / "cbs_pc4_2021.parquet", level="pc4")
    jobs = layers.read_jobs(RAW / "cbs_wijk_banen_2014.csv", columns={"jobs": "banen_werkplaats"},
                            geometry=RAW / "cbs_wijk_centroids_2015.geojson",
                            join_on="wk_code=code", crs="EPSG:28992")
    return {"networks": nets, "timing": timing}, pc4, jobs


def province_of_pc4() -> pd.Series:
    """PC4 → province name (CBS postcode lookup 2021)."""
    lk = pd.read_csv(RAW / "cbs_postcode_lookup_2021.csv", dtype=str)
    lk = lk[lk["postcode"].str.fullmatch(r"\d{4}")]
    return lk.drop_duplicates("postcode").set_index("postcode")["provincie"]


def main() -> dict:
    inp, pc4, jobs = load_inputs()
    nets = inp["networks"]
    res: dict = {"zones": len(pc4), "destinations": len(jobs), "jobs_total": float(jobs["jobs"].sum()),
                 "timing": dict(inp["timing"]), "networks": {}}
    for name, g in nets.items():
        res["networks"][name] = {"nodes": g.n_nodes, "edges": g.n_edges,
                                 "ferries": g.meta.get("ferries", {}),
                                 "road_tables": g.meta.get("road_tables", {})}
    cfg = connectors.ConnectorConfig()
    # warm-up: compile/load both search kernels on the real inputs (not timed)
    zx, zy = places.zone_points(pc4)
    sh, _, _ = accessibility._connector_search(
        nets["nl_car"], (zx[:50], zy[:50]),
        (jobs.geometry.x.to_numpy(), jobs.geometry.y.to_numpy(), jobs["jobs"].to_numpy()),
        cfg.model_copy(update={"same_land": False}),
        None, measure_list([35, 45], []), 45.0)
    warm_up(sh)
    out = {}
    t_all = time.perf_counter()
    for name, label in (("nl_car", "car"), ("nl_car_peak", "car_peak")):
        t0 = time.perf_counter()
        out[label] = accessibility.connector_access(nets[name], pc4, jobs, "jobs", [35, 45],
                                                    label, cfg)
        res["timing"][f"access_{label}_s"] = round(time.perf_counter() - t0, 2)
        res["timing"][f"access_{label}_parts_s"] = {
            k: round(v, 2) for k, v in out[label].attrs["timings_s"].items()}
    res["timing"]["access_both_s"] = round(time.perf_counter() - t_all, 2)
    r = out["car"].drop(columns="geometry").copy()
    for c in ("jobs_35min_car_peak", "jobs_45min_car_peak"):
        r[c] = out["car_peak"][c].to_numpy()
    r["population"] = pc4["population"].to_numpy()
    pop = r["population"].fillna(0.0)
    ok = r["jobs_35min_car"].notna()
    prov = province_of_pc4()
    r["province"] = r["zone_id"].map(prov)
    west = r["province"].isin(WEST_PROVINCES)

    def pw(col: str, mask: pd.Series) -> float:
        m = mask & ok
        return float((r.loc[m, col] * pop[m]).sum() / pop[m].sum())

    res["pbl"] = {
        "nl_35min_peak": pw("jobs_35min_car_peak", ok), "nl_pbl": PBL_NL_35MIN_PEAK,
        "west_35min_peak": pw("jobs_35min_car_peak", west), "west_pbl": PBL_WEST_35MIN_PEAK,
        "nl_35min_free": pw("jobs_35min_car", ok), "west_35min_free": pw("jobs_35min_car", west),
        "nl_45min_peak": pw("jobs_45min_car_peak", ok), "nl_45min_free": pw("jobs_45min_car", ok),
        "zones_without_province": int(r["province"].isna().sum()),
    }
    res["pbl"]["nl_ratio"] = res["pbl"]["nl_35min_peak"] / PBL_NL_35MIN_PEAK
    res["pbl"]["west_ratio"] = res["pbl"]["west_35min_peak"] / PBL_WEST_35MIN_PEAK
    # acceptance checks
    g = nets["nl_car"]
    mway = networks.read_road_tables(RAW / "osm_nl" / "nl_main_roads_osm2021_edges.csv.gz",
                                     RAW / "osm_nl" / "nl_main_roads_osm2021_nodes.csv.gz",
                                     "car", largest_component=False)
    from scipy.spatial import cKDTree

    mw_nodes = ~mway.meta["eligible"]  # motorway, slip-road and tunnel-only nodes
    tree = cKDTree(np.column_stack([mway.x[mw_nodes], mway.y[mw_nodes]]))
    top = r.assign(x=zx, y=zy).nlargest(10, "jobs_45min_car")
    top["motorway_km"] = tree.query(np.column_stack([top["x"], top["y"]]))[0] / 1000
    res["top10_car_45min"] = top[["zone_id", "population", "jobs_45min_car",
                                  "jobs_45min_car_peak", "motorway_km"]].to_dict("records")
    islands = {"9166": "Schiermonnikoog", "8899": "Vlieland", "1791": "Texel (Den Burg)",
               "8881": "Terschelling (West)", "9161": "Ameland (Nes)"}
    res["islands"] = {name: r.loc[r["zone_id"] == z, ["jobs_45min_car", "jobs_45min_car_peak",
                                                       "connector_flag"]].iloc[0].to_dict()
                      for z, name in islands.items()}
    res["flags"] = r["connector_flag"].value_counts().to_dict()
    res["flagged_population"] = float(pop[r["connector_flag"] != ""].sum())
    res["graph_nodes"] = g.n_nodes
    res["maxrss_mb"] = maxrss_mb()
    res["machine"] = machine()
    print(pd.DataFrame(res["top10_car_45min"]).to_string(index=False))
    for k, v in res["pbl"].items():
        print(f"{k}: {v:,.3f}" if isinstance(v, float) else f"{k}: {v}")
    print("islands:", res["islands"])
    print("flags:", res["flags"], "timing:", res["timing"])
    save("bench_national", res)
    return res


if __name__ == "__main__":
    main()
