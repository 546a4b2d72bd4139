"""Benchmark: Dask scale-out of the road engine (local vs LocalCluster with 1 and 2 workers).

Network: the SYNTHETIC road-like grid of ``bench_roadlike.py`` (``--side 450`` ≈ 200k
junctions 100 m apart, local streets 30–50 km/h, arterials 70 km/h, motorways 120 km/h,
2% of local streets removed, 10% one-way). Jobs: Poisson(5) per node (synthetic). Origins:
``--origins`` random nodes; destinations: every node; measures: cumulative jobs within
``--minutes`` and an exponential decay (beta 0.05/min) within the same horizon.

Runs, all on the same :class:`_search.SearchInputs` and checked for identical output:

* ``local_all_threads`` — in-process numba search with every numba thread;
* ``local_1_thread`` — in-process with one numba thread (the per-core reference);
* ``dask_1_worker`` / ``dask_2_workers`` — :func:`_search.network_measures` on a
  LocalCluster (worker processes, ``threads_per_worker=1``, ``NUMBA_NUM_THREADS=1`` in
  the workers), default batching; the cluster is started and its workers warmed up
  (numba cache loaded) before timing, the scatter of the network is inside the timing.

It also records the shared-input size, peak RSS per worker, and a projection for a
national PC6 run (``projection``). Results: ``benchmarks/results/distributed.json``.

    python benchmarks/bench_distributed.py [--side 450] [--origins 1500] [--minutes 20]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time

import numba
import numpy as np
from _common import dumps, machine, maxrss_mb, save
from bench_roadlike import roadlike

from ruimtekit.engine import batches as distributed
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay


def shared_nbytes(sh: _search.SearchInputs) -> int:
    """Bytes of the arrays in a SearchInputs (what is scattered to every worker)."""
    return int(sum(v.nbytes for v in vars(sh).values() if isinstance(v, np.ndarray)))


def _proc_status() -> dict[str, float]:
    """VmRSS and VmHWM (peak) of the calling process in MB (Linux /proc)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":")
                out[k] = round(int(v.split()[0]) / 1024.0, 1)
    return out


def _cpu_s() -> float:
    """User + system CPU seconds of the calling process (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _numba_threads(shared, idx) -> np.ndarray:
    """A batch reporting the numba thread count of the thread that runs Dask tasks."""
    import numba as nb

    return np.full(len(idx), nb.get_num_threads())


def _warm_up(client) -> None:
    """Load the compiled kernels in every worker with a tiny search (tiny synthetic grid)."""
    g = roadlike(20, seed=1)
    n = g.n_nodes
    sh = _search.build_search_inputs(
        g, (np.arange(n + 1), np.arange(n), np.zeros(n)), (np.arange(n), np.zeros(n), np.ones(n)),
        [Decay("cumulative", cutoff=5)], 5)
    distributed.map_batches(_search.network_batch, sh, n, scheduler=client, batch_size=4)


def run_cluster(sh, n_workers: int) -> dict:
    from distributed import Client, LocalCluster

    res: dict = {"workers": n_workers}
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           env={"NUMBA_NUM_THREADS": "1"})
    client = Client(cluster)
    res["cluster_start_s"] = round(time.perf_counter() - t0, 2)
    try:
        t0 = time.perf_counter()
        _warm_up(client)
        res["warm_up_s"] = round(time.perf_counter() - t0, 2)
        res["numba_threads_per_worker"] = sorted(set(distributed.concat(
            distributed.map_batches(_numba_threads, None, 8, scheduler=client, batch_size=1,
                                    progress=lambda *a: None)).tolist()))
        res["worker_rss_before_mb"] = sorted(v["VmRSS"] for v in client.run(_proc_status).values())
        t0 = time.perf_counter()
        [f] = client.scatter([sh], broadcast=True, hash=False)
        res["scatter_only_s"] = round(time.perf_counter() - t0, 2)
        del f
        time.sleep(0.5)
        cpu0 = client.run(_cpu_s)
        res["loadavg_before"] = round(os.getloadavg()[0], 2)
        t0 = time.perf_counter()
        out, reached = _search.network_measures(sh, client)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        cpu1 = client.run(_cpu_s)
        res["worker_cpu_s"] = sorted(round(cpu1[w] - cpu0[w], 2) for w in cpu1 if w in cpu0)
        res["cpu_s_per_wall_s"] = round(sum(res["worker_cpu_s"]) / res["seconds"], 2)
        res["batches"] = len(distributed.batches(
            sh.n_origins, distributed.default_batch_size(sh.n_origins, n_workers)))
        res["batch_size"] = distributed.default_batch_size(sh.n_origins, n_workers)
        res["worker_peak_rss_mb"] = sorted(v["VmHWM"] for v in client.run(_proc_status).values())
    finally:
        client.close()
        cluster.close()
    return res, out, reached


def projection(per_node_ns: float, base_rss_mb: float, *, origins: int = 460_000,
               nodes: int = 1_500_000, edges: int = 3_600_000, reached: int = 400_000,
               destinations: int = 460_000, measures: int = 4, horizon_min: float = 60.0,
               batch_size: int = 1000) -> dict:
    """National PC6 projection for one mode and period.

    Memory per worker = scattered inputs (graph CSR 8 B/node + 8 B/edge; destination CSR
    8 B/node + 16 B/destination; origin sources 16 B/origin; weight table
    8 B × measures × horizon seconds) + numba search buffers (16 B/node per thread) +
    the process baseline (Python, numpy, numba, distributed; measured). Time per core =
    origins × nodes reached per origin × measured ns per reached node.
    """
    shared = (8 * nodes + 8 * edges + 8 * nodes + 16 * destinations + 16 * origins
              + 8 * measures * (horizon_min * 60 + 1))
    buffers = 16 * nodes
    per_origin_s = reached * per_node_ns * 1e-9
    core_h = origins * per_origin_s / 3600.0
    return {
        "assumptions": {"origins": origins, "nodes": nodes, "edges": edges,
                        "nodes_reached_per_origin": reached, "destinations": destinations,
                        "measures": measures, "horizon_min": horizon_min,
                        "batch_size": batch_size},
        "scattered_inputs_mb": round(shared / 2**20, 1),
        "search_buffers_mb_per_thread": round(buffers / 2**20, 1),
        "memory_per_worker_mb_1_thread": round(base_rss_mb + (shared + buffers) / 2**20, 0),
        "batches": int(np.ceil(origins / batch_size)),
        "seconds_per_origin_per_core": round(per_origin_s, 4),
        "core_hours": round(core_h, 2),
        "wall_hours_on_64_cores": round(core_h / 64, 2),
    }


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--side", type=int, default=450)
    ap.add_argument("--origins", type=int, default=1500)
    ap.add_argument("--minutes", type=float, default=20)
    a = ap.parse_args()
    res: dict = {"synthetic": True, "machine_at_start": machine()}
    t0 = time.perf_counter()
    g = roadlike(a.side)
    res["build_graph_s"] = round(time.perf_counter() - t0, 2)
    res.update(nodes=g.n_nodes, edges=g.n_edges, origins=a.origins, minutes=a.minutes)
    rng = np.random.default_rng(2)
    jobs = rng.poisson(5, g.n_nodes).astype(np.float64)
    origins = rng.choice(g.n_nodes, a.origins, replace=False)
    n = g.n_nodes
    ms = [Decay("cumulative", cutoff=a.minutes),
          Decay("exponential", beta=0.05)]
    sh = _search.build_search_inputs(
        g, (np.arange(origins.size + 1), origins, np.zeros(origins.size)),
        (np.arange(n), np.zeros(n), jobs), ms, a.minutes)
    res["scattered_inputs_mb"] = round(shared_nbytes(sh) / 2**20, 1)
    _search.measures_batch(sh, np.arange(4))  # compile / load the cache

    runs: dict = {}
    threads = numba.get_num_threads()
    la, t0, c0 = round(os.getloadavg()[0], 2), time.perf_counter(), _cpu_s()
    ref, _, _, reached = _search.search(sh)
    w = time.perf_counter() - t0
    runs["local_all_threads"] = {"numba_threads": threads, "loadavg_before": la,
                                 "seconds": round(w, 2), "cpu_s": round(_cpu_s() - c0, 2)}
    runs["local_all_threads"]["cpu_s_per_wall_s"] = round(runs["local_all_threads"]["cpu_s"] / w, 2)
    numba.set_num_threads(1)
    la, t0, c0 = round(os.getloadavg()[0], 2), time.perf_counter(), _cpu_s()
    out1, _, _, _ = _search.search(sh)
    runs["local_1_thread"] = {"numba_threads": 1, "loadavg_before": la,
                              "seconds": round(time.perf_counter() - t0, 2),
                              "cpu_s": round(_cpu_s() - c0, 2)}
    numba.set_num_threads(threads)
    runs["local_1_thread"]["identical"] = bool(np.array_equal(out1, ref))
    res["driver_maxrss_mb"] = round(maxrss_mb(), 1)
    for k in (1, 2):
        r, out, rch = run_cluster(sh, k)
        r["identical"] = bool(np.array_equal(out, ref) and np.array_equal(rch, reached))
        runs[f"dask_{k}_worker" + ("s" if k > 1 else "")] = r
    res["runs"] = runs
    loc1 = runs["local_1_thread"]["seconds"]
    loc = runs["local_all_threads"]["seconds"]
    d1, d2 = runs["dask_1_worker"]["seconds"], runs["dask_2_workers"]["seconds"]
    res["mean_nodes_reached"] = round(float(reached.mean()), 0)
    # CPU time (not wall time) of the 1-thread run: robust to other load on the machine
    per_node_ns = runs["local_1_thread"]["cpu_s"] / float(reached.sum()) * 1e9
    res["ns_per_reached_node_1_core"] = round(per_node_ns, 1)
    res["speedup_2_vs_1_worker"] = round(d1 / d2, 2)
    res["overhead_dask_1_worker_vs_local_1_thread_pct"] = round(100 * (d1 / loc1 - 1), 1)
    res["overhead_dask_2_workers_vs_local_all_threads_pct"] = round(100 * (d2 / loc - 1), 1)
    base = min(runs["dask_1_worker"]["worker_rss_before_mb"])
    res["worker_baseline_rss_mb"] = base
    res["projection_pc6_car_60min"] = projection(per_node_ns, base)
    res["projection_pc6_bike_30min"] = projection(
        per_node_ns, base, nodes=5_000_000, edges=12_000_000, reached=150_000,
        horizon_min=30.0)
    res["machine_at_end"] = machine()
    save("distributed", res)
    return res


if __name__ == "__main__":
    print(dumps(main()))
