"""Benchmark 2: SYNTHETIC ~1M-node road-like network, 4,000 origins, 45-minute car budget.

A 1000×1000 grid of junctions (100 m apart, jittered ±30 m) covering 100 km × 100 km.
Local streets run at 30–50 km/h, 2% of them are removed and 10% are one-way; every 10th
row/column is an arterial (70 km/h) and every 100th a motorway (120 km/h, with the
jittered lengths). Jobs: Poisson(5) per node. Measures seconds and peak memory.

    python benchmarks/bench_roadlike.py [--side 1000] [--origins 4000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _common import dumps, maxrss_mb, save

from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay
from ruimtekit.network import graph


def roadlike(side: int, seed: int = 0) -> graph.Graph:
    rng = np.random.default_rng(seed)
    n = side * side
    col = np.arange(n) % side
    row = np.arange(n) // side
    x = col * 100.0 + rng.uniform(-30, 30, n)
    y = row * 100.0 + rng.uniform(-30, 30, n)
    idx = np.arange(n).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    horiz = np.r_[np.ones(side * (side - 1), bool), np.zeros(side * (side - 1), bool)]
    line = np.where(horiz, row[u], col[u])  # the row (horizontal) or column it runs along
    kmh = rng.uniform(30, 50, u.size)
    kmh[line % 10 == 0] = 70.0
    kmh[line % 100 == 0] = 120.0
    local = line % 10 != 0
    drop = local & (rng.random(u.size) < 0.02)
    oneway = local & ~drop & (rng.random(u.size) < 0.10)
    u, v, kmh, oneway = u[~drop], v[~drop], kmh[~drop], oneway[~drop]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    tt = length / (kmh / 3.6)
    uu = np.r_[u, v[~oneway]]
    vv = np.r_[v, u[~oneway]]
    return graph.from_edges(uu, vv, np.r_[tt, tt[~oneway]], x, y, mode="car",
                            attrs=graph.GraphAttrs(length_m=np.r_[length, length[~oneway]],
                                                   meta={"synthetic": True}))


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--origins", type=int, default=4000)
    ap.add_argument("--minutes", type=float, default=45)
    a = ap.parse_args()
    res: dict = {"synthetic": True}
    t0 = time.perf_counter()
    g = roadlike(a.side)
    res["build_graph_s"] = round(time.perf_counter() - t0, 2)
    res.update(nodes=g.n_nodes, edges=g.n_edges, dropped_nodes=g.dropped_nodes)
    rng = np.random.default_rng(2)
    jobs = rng.poisson(5, g.n_nodes).astype(np.float64)
    origins = rng.choice(g.n_nodes, a.origins, replace=False)
    n = g.n_nodes
    ms = [Decay("cumulative", cutoff=a.minutes),
          Decay("exponential", beta=0.05)]
    sh = _search.build_search_inputs(
        g, (np.arange(origins.size + 1), origins, np.zeros(origins.size)),
        (np.arange(n), np.zeros(n), jobs), ms, a.minutes)
    _search.measures_batch(sh, np.arange(4))  # compile
    rss0 = maxrss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    info: dict = {}
    out = _search.measures_batch(sh, np.arange(origins.size), info=info)
    res["seconds"] = round(time.perf_counter() - t0, 2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    res["tracemalloc_peak_mb_during_run"] = round(peak / 2**20, 1)
    res["maxrss_mb_before_run"] = round(rss0, 1)
    res["maxrss_mb_after_run"] = round(maxrss_mb(), 1)
    res["kernel"] = info
    res["origins"] = int(origins.size)
    res["minutes"] = a.minutes
    res["mean_jobs_45min"] = round(float(out[:, 0].mean()), 1)
    res["mean_nodes_reached_share"] = round(float(out[:, 0].mean() / jobs.sum()), 4)
    # spot check 5 origins against scipy
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(g.to_scipy(), directed=True, indices=origins[:5], limit=a.minutes * 60 + 0.5)
    ref = np.where(d <= a.minutes * 60, jobs, 0).sum(1)
    res["oracle_mismatches_5_origins"] = int((ref != out[:5, 0]).sum())
    save("roadlike", res)
    return res


if __name__ == "__main__":
    print(dumps(main()))
