"""PPML decay on the real CBS home→work flows: agreement with statsmodels and speed.

1. The 40 gemeenten with the most commuters (crow-fly car times between PC4-population
   points, own-zone rule): ruimtekit.analysis.gravity.ppml vs statsmodels' Poisson GLM with full
   origin and destination dummies (β, robust HC0 SE, time).
2. All 345 gemeenten (118,680 pairs): ruimtekit.analysis.gravity.fit_decay time and β.

Run: PYTHONPATH=src python benchmarks/bench_gravity.py  (writes results/bench_gravity.json)
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import statsmodels.api as sm

from ruimtekit import _io
from ruimtekit.analysis import borrowed_size as bs
from ruimtekit.analysis import gravity
from ruimtekit.io import layers

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
OUT = Path(__file__).resolve().parent / "results" / "bench_gravity.json"


def main() -> None:
    zones = layers.read_zones(RAW / "cbs_gemeenten_2022.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fine = layers.read_zones(RAW / "cbs_pc4_2021.parquet")
    pts, _ = bs.population_points(zones, fine)
    zones["pop_x"], zones["pop_y"] = pts["pop_x"].to_numpy(), pts["pop_y"].to_numpy()
    px, py = bs.catchments.zone_points(zones)
    t, _ = bs.crowfly_minutes(bs.distance_matrix_m(px, py), "car")
    times = {"car": t}
    bs._own_zone_floor(zones, times, bs.BorrowedSizeConfig(), [])
    t = times["car"]
    wijk = bs.read_wijk_centroids(RAW / "cbs_wijk_centroids_2015.geojson")
    mapping, _ = bs.wijk_zone_mapping(wijk, zones)
    obs = bs.observed_flows_to_zones(bs.read_commute_flows(RAW / "cbs_commute_wijk_2014.parquet"),
                                     mapping, zones["zone_id"])
    F = obs.matrix
    res: dict[str, object] = {}

    top = np.argsort(-(F.sum(axis=0) + F.sum(axis=1)))[:40]
    Fs, ts = F[np.ix_(top, top)], t[np.ix_(top, top)]
    off = ~np.eye(40, dtype=bool)
    t0 = time.perf_counter()
    ours = gravity.ppml(Fs, [-ts], mask=off)
    t_ours = time.perf_counter() - t0
    oi, dj = np.nonzero(off)
    D = np.zeros((oi.size, 79))
    D[np.arange(oi.size), oi] = 1
    keep = dj > 0
    D[np.flatnonzero(keep), 40 + dj[keep] - 1] = 1
    t0 = time.perf_counter()
    glm = sm.GLM(Fs[oi, dj], np.column_stack([-ts[oi, dj], D]),
                 family=sm.families.Poisson()).fit(cov_type="HC0", tol=1e-12)
    t_glm = time.perf_counter() - t0
    res["top40"] = {"pairs": int(off.sum()), "beta_ruimtekit": float(ours.coef[0]),
                    "se_ruimtekit": float(ours.se[0]), "beta_statsmodels": float(glm.params[0]),
                    "se_statsmodels": float(glm.bse[0]), "seconds_ruimtekit": t_ours,
                    "seconds_statsmodels": t_glm}
    t0 = time.perf_counter()
    fit = gravity.fit_decay(F, t)
    res["all_gemeenten"] = {"pairs": fit.fit.n_pairs, "beta": fit.beta, "se": fit.se,
                            "best_cutoff_min": fit.best_cutoff_min,
                            "seconds_fit_decay": time.perf_counter() - t0}
    for k, v in res.items():
        print(k, v)
    OUT.parent.mkdir(exist_ok=True)
    _io.write_json(OUT, res)


if __name__ == "__main__":
    main()
