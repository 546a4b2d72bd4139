"""Shared helpers for the benchmark scripts (synthetic graphs are labelled synthetic)."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np
from scipy.sparse.csgraph import dijkstra

from ruimtekit import _io
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay
from ruimtekit.network import graph

RESULTS = Path(__file__).resolve().parent / "results"
_LOAD_AT_START = os.getloadavg()  # when a benchmark script imports this module


def grid_graph(side: int = 317, lo: int = 50, hi: int = 150, seed: int = 0) -> graph.Graph:
    """SYNTHETIC square grid, two-way edges with integer weights uniform lo..hi (metres)."""
    rng = np.random.default_rng(seed)
    n = side * side
    idx = np.arange(n).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    w = rng.integers(lo, hi + 1, u.size)
    x = (np.arange(n) % side) * 100.0
    y = (np.arange(n) // side) * 100.0
    return graph.from_edges(np.r_[u, v], np.r_[v, u], np.r_[w, w], x, y, mode="synthetic",
                            attrs=graph.GraphAttrs(meta={"synthetic": True}))


def all_nodes_inputs(g: graph.Graph, opp: np.ndarray, cutoffs: list[float]):
    """SearchInputs with every node an origin and a destination; cutoffs in weight units."""
    n = g.n_nodes
    ms = [Decay("cumulative", cutoff=c / 60.0) for c in cutoffs]
    return _search.build_search_inputs(
        g, (np.arange(n + 1), np.arange(n), np.zeros(n)), (np.arange(n), np.zeros(n), opp), ms,
        max(cutoffs) / 60.0)


def warm_up(sh: _search.SearchInputs) -> None:
    """Compile (or load from numba's cache) both search kernels before timing."""
    from ruimtekit.engine import _kernels

    ptr, nodes, off = sh.origin_batch(np.arange(min(32, sh.n_origins)))
    for lanes in (False, True):
        _kernels.run_dial(sh.indptr, sh.indices, sh.weights, ptr, nodes, off, sh.dst_ptr,
                          sh.dst_off, sh.dst_w, sh.wtab, sh.max_t, lanes=lanes)


def oracle_sums(g: graph.Graph, opp: np.ndarray, origins: np.ndarray, cutoff: float) -> np.ndarray:
    """Float64 Dijkstra (scipy) sums of ``opp`` within ``cutoff`` for some origins."""
    d = dijkstra(g.to_scipy(), directed=True, indices=origins, limit=cutoff + 0.5)
    return np.where(d <= cutoff, opp[None, :], 0.0).sum(1)


@contextmanager
def timer(store: dict, key: str):
    t0 = time.perf_counter()
    yield
    store[key] = round(time.perf_counter() - t0, 3)


def maxrss_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss, KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> dict:
    """Versions, threads and the 1/5/15-minute load averages at the start and the end."""
    load = os.getloadavg()
    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "numba_threads": numba.get_num_threads(), "numba": numba.__version__,
            "numpy": np.__version__,
            "loadavg_at_start": [round(x, 2) for x in _LOAD_AT_START],
            "loadavg_at_end": [round(x, 2) for x in load],
            "processor": platform.processor() or platform.machine()}


def save(name: str, result: dict) -> Path:
    """Write a result JSON atomically to benchmarks/results/<name>.json."""
    result = {**result, "machine": machine()}
    return _io.write_json(RESULTS / f"{name}.json", result)


def dumps(x: dict) -> str:
    return json.dumps(x, indent=2, default=str)
