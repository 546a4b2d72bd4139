"""Benchmark 1: SYNTHETIC 100k-node grid (317×317), every node an origin.

Edge weights are integers uniform 50–150 ("metres"), jobs Poisson(5) per node, cutoffs
1, 3, 5, 8 km. Compares the ruimtekit Dial kernel, pandana (precompute + aggregate, the
time pandana needs for the same answer) and networkx (a sample of origins, extrapolated).
Exactness: mismatches against a float64 Dijkstra oracle (scipy) on a sample of origins,
for ruimtekit and for pandana. With every node an origin the engine picks its lane kernel
(16 origins per search); the one-origin kernel is timed as well (``dial_only_s``).

    python benchmarks/bench_grid.py [--cutoffs 1000 3000 5000 8000] [--no-pandana]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import all_nodes_inputs, dumps, grid_graph, oracle_sums, save, timer, warm_up

from ruimtekit.engine import _kernels
from ruimtekit.engine import search as _search


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=317)
    ap.add_argument("--cutoffs", type=float, nargs="+", default=[1000, 3000, 5000, 8000])
    ap.add_argument("--oracle-sample", type=int, default=200)
    ap.add_argument("--nx-sample", type=int, default=100)
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--no-networkx", action="store_true")
    ap.add_argument("--no-dial-only", action="store_true",
                    help="skip timing the one-origin kernel alone")
    ap.add_argument("--repeat", type=int, default=2, help="ruimtekit runs per cutoff (min)")
    ap.add_argument("--name", default="grid", help="results/<name>.json")
    a = ap.parse_args()

    g = grid_graph(a.side)
    rng = np.random.default_rng(1)
    jobs = rng.poisson(5, g.n_nodes).astype(np.float64)
    sample = np.sort(rng.choice(g.n_nodes, size=min(a.oracle_sample, g.n_nodes), replace=False))
    res: dict = {"nodes": g.n_nodes, "edges": g.n_edges, "cutoffs": {}, "synthetic": True}

    # warm-up (numba compile, cached afterwards)
    sh = all_nodes_inputs(g, jobs, [a.cutoffs[0]])
    warm_up(sh)

    for c in a.cutoffs:
        r: dict = {}
        sh = all_nodes_inputs(g, jobs, [c])
        times, cpus = [], []
        for _ in range(a.repeat):
            info: dict = {}
            t0, c0 = time.perf_counter(), time.process_time()
            out = _search.measures_batch(sh, np.arange(g.n_nodes), info=info)[:, 0]
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        r["ruimtekit_s"] = round(min(times), 3)
        r["ruimtekit_runs_s"] = [round(t, 3) for t in times]
        r["ruimtekit_cpu_s"] = round(min(cpus), 3)
        r["ruimtekit_kernel"] = info
        ref = oracle_sums(g, jobs, sample, c)
        r["ruimtekit_mismatches"] = int((out[sample] != ref).sum())
        r["oracle_sample"] = int(sample.size)
        res["cutoffs"][str(int(c))] = r
        print(f"{c:.0f}: ruimtekit {r['ruimtekit_s']} s ({r['ruimtekit_cpu_s']} CPU s, {info}), "
              f"mismatches {r['ruimtekit_mismatches']}", flush=True)
        if not a.no_dial_only:
            t0, c0 = time.perf_counter(), time.process_time()
            one = _kernels.run_dial(sh.indptr, sh.indices, sh.weights, sh.src_ptr,
                                    sh.src_nodes, sh.src_off, sh.dst_ptr, sh.dst_off,
                                    sh.dst_w, sh.wtab, sh.max_t, lanes=False)[0][:, 0]
            r["dial_only_s"] = round(time.perf_counter() - t0, 3)
            r["dial_only_cpu_s"] = round(time.process_time() - c0, 3)
            r["dial_only_mismatches"] = int((one[sample] != ref).sum())
            print(f"{c:.0f}: one-origin kernel {r['dial_only_s']} s, "
                  f"mismatches {r['dial_only_mismatches']}", flush=True)

    # every cutoff from ONE search at the largest cutoff
    sh = all_nodes_inputs(g, jobs, list(a.cutoffs))
    with timer(res, "ruimtekit_all_cutoffs_one_search_s"):
        allc = _search.measures_batch(sh, np.arange(g.n_nodes))
    for k, c in enumerate(a.cutoffs):
        ref = oracle_sums(g, jobs, sample, c)
        res["cutoffs"][str(int(c))]["one_search_mismatches"] = int((allc[sample, k] != ref).sum())
    print("all cutoffs in one search:", res["ruimtekit_all_cutoffs_one_search_s"], flush=True)

    if not a.no_networkx:
        import networkx as nx

        G = nx.DiGraph()
        src = g.edge_sources()
        G.add_weighted_edges_from(zip(src.tolist(), g.indices.tolist(), g.weights.tolist(),
                                      strict=True))
        nxs = sample[: a.nx_sample]
        for c in a.cutoffs:
            t0 = time.perf_counter()
            for s in nxs:
                nx.single_source_dijkstra_path_length(G, int(s), cutoff=c)
            dt = time.perf_counter() - t0
            r = res["cutoffs"][str(int(c))]
            r["networkx_origins_per_s"] = round(nxs.size / dt, 1)
            r["networkx_extrapolated_s"] = round(dt / nxs.size * g.n_nodes, 1)
            print(f"{c:.0f}: networkx {r['networkx_origins_per_s']} origins/s", flush=True)

    if not a.no_pandana:
        import pandana
        import pandas as pd

        src = g.edge_sources()
        m = src < g.indices  # two-way edges given once
        for c in a.cutoffs:
            r = res["cutoffs"][str(int(c))]
            # a fresh network per cutoff: a second precompute() on one network is reported
            # to double-count in pandana
            t0 = time.perf_counter()
            net = pandana.Network(pd.Series(g.x), pd.Series(g.y), pd.Series(src[m]),
                                  pd.Series(g.indices[m]),
                                  pd.DataFrame({"w": g.weights[m].astype(float)}), twoway=True)
            r["pandana_build_s"] = round(time.perf_counter() - t0, 3)
            t0, c0 = time.perf_counter(), time.process_time()
            net.precompute(c)
            t1 = time.perf_counter()
            net.set(pd.Series(np.arange(g.n_nodes)), variable=pd.Series(jobs), name="jobs")
            agg = net.aggregate(c, type="sum", decay="flat", name="jobs")
            t2, c2 = time.perf_counter(), time.process_time()
            r["pandana_cpu_s"] = round(c2 - c0, 3)
            r["speedup_vs_pandana_cpu"] = round(r["pandana_cpu_s"] / r["ruimtekit_cpu_s"], 2)
            r["pandana_precompute_s"] = round(t1 - t0, 3)
            r["pandana_aggregate_s"] = round(t2 - t1, 3)
            r["pandana_s"] = round(t2 - t0, 3)
            pv = agg.to_numpy()
            ref = oracle_sums(g, jobs, sample, c)
            r["pandana_mismatches"] = int((pv[sample] != ref).sum())
            r["speedup_vs_pandana"] = round(r["pandana_s"] / r["ruimtekit_s"], 2)
            print(f"{c:.0f}: pandana {r['pandana_s']} s (speedup {r['speedup_vs_pandana']}, "
                  f"CPU-time speedup {r['speedup_vs_pandana_cpu']}), "
                  f"mismatches {r['pandana_mismatches']}", flush=True)
            del net
    save(a.name, res)
    return res


if __name__ == "__main__":
    print(dumps(main()))
