"""Benchmark 3: the real OSM drive network of Delft (data/raw/osm/delft_drive.graphml).

Every node is an origin; edge times from OSM length and maxspeed (30 km/h when missing).
Jobs: SYNTHETIC Poisson(5) per node. ruimtekit vs scipy float64 Dijkstra (time and
mismatches) at 5, 10 and 15 minutes.

    python benchmarks/bench_delft.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from _common import all_nodes_inputs, dumps, save, warm_up
from scipy.sparse.csgraph import dijkstra

from ruimtekit.engine import search as _search
from ruimtekit.network import graph

DELFT = Path(__file__).resolve().parents[1] / "data" / "raw" / "osm" / "delft_drive.graphml"


def delft_graph() -> graph.Graph:
    import osmnx as ox
    from pyproj import Transformer

    G = ox.load_graphml(DELFT)
    nodes = list(G.nodes)
    pos = {k: i for i, k in enumerate(nodes)}
    tr = Transformer.from_crs(4326, 28992, always_xy=True)
    x, y = tr.transform([G.nodes[k]["x"] for k in nodes], [G.nodes[k]["y"] for k in nodes])
    u, v, tt = [], [], []
    for a, b, d in G.edges(data=True):
        ms = d.get("maxspeed")
        ms = ms[0] if isinstance(ms, list) else ms
        try:
            kmh = float(str(ms).split()[0])
        except (TypeError, ValueError):
            kmh = 30.0
        u.append(pos[a])
        v.append(pos[b])
        tt.append(float(d["length"]) / (kmh / 3.6))
    return graph.from_edges(np.array(u), np.array(v), np.array(tt), np.array(x), np.array(y),
                            mode="car", attrs=graph.GraphAttrs(node_ids=np.array(nodes)))


def main() -> dict:
    g = delft_graph()
    jobs = np.random.default_rng(0).poisson(5, g.n_nodes).astype(np.float64)
    res: dict = {"nodes": g.n_nodes, "edges": g.n_edges, "jobs": "synthetic Poisson(5)",
                 "cutoffs_min": {}}
    warm_up(all_nodes_inputs(g, jobs, [300]))
    for m in (5, 10, 15):
        sh = all_nodes_inputs(g, jobs, [m * 60])
        info: dict = {}
        t0 = time.perf_counter()
        out = _search.measures_batch(sh, np.arange(g.n_nodes), info=info)[:, 0]
        t1 = time.perf_counter()
        d = dijkstra(g.to_scipy(), directed=True, limit=m * 60 + 0.5)
        t2 = time.perf_counter()
        ref = np.where(d <= m * 60, jobs, 0).sum(1)
        res["cutoffs_min"][m] = {"ruimtekit_s": round(t1 - t0, 4), "scipy_s": round(t2 - t1, 3),
                                 "mismatches_all_origins": int((out != ref).sum()),
                                 "kernel": info}
    save("delft", res)
    return res


if __name__ == "__main__":
    print(dumps(main()))
