"""Shared test oracles and synthetic inputs (imported as ``from oracles import ...``).

The oracles are independent of the engine: shortest paths come from scipy's
``csgraph.dijkstra`` (float64 seconds), nearest nodes from an exhaustive search, and
nothing here calls ruimtekit's search, linking or snapping. ruimtekit is used only to
*build* inputs (:func:`grid_graph` returns a :class:`ruimtekit.network.graph.Graph`).

Builders are deterministic: the same arguments (seed or generator state) give the same
network, so a test's expected values do not move when the builder is shared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

WALK_MS = 4.8 / 3.6
"""Walking speed of access and egress legs (m/s) of networks without edge geometry."""


# --------------------------------------------------------------------------- oracles
def shortest_seconds(net, sources=None, *, limit: float = np.inf) -> np.ndarray:
    """Directed shortest-path times by scipy Dijkstra.

    Parameters
    ----------
    net : ruimtekit.network.graph.Graph or scipy sparse matrix
        The network (a Graph is read through ``to_scipy``: float64 seconds, zero-weight
        edges as explicit zeros, which csgraph treats as edges).
    sources : int or array of int, optional
        Source nodes (rows of the result); all nodes when omitted.
    limit : float
        Times above ``limit`` seconds are not searched (``inf``).

    Returns
    -------
    ndarray of float64
        Seconds, ``(len(sources), n_nodes)`` (1-D for a scalar source); ``inf`` where
        unreachable.
    """
    m = net.to_scipy() if hasattr(net, "to_scipy") else net
    return dijkstra(m, directed=True, indices=sources, limit=limit)


def edge_matrix(n: int, u, v, w) -> sp.csr_matrix:
    """An ``n`` × ``n`` CSR matrix of directed edges ``u → v`` (seconds) that keeps the
    fastest of parallel edges itself (a COO → CSR conversion would *sum* them), drops
    self-loops and stores zero weights as explicit zeros (edges for csgraph)."""
    best: dict[tuple[int, int], float] = {}
    for a, b, c in zip(u, v, w, strict=True):
        a, b = int(a), int(b)
        if a != b and ((a, b) not in best or c < best[(a, b)]):
            best[(a, b)] = c
    if best:
        r, c = np.array(list(best)).T
        d = np.array(list(best.values()), dtype=float)
    else:
        r = c = np.zeros(0, dtype=int)
        d = np.zeros(0)
    return sp.csr_matrix((d, (r, c)), shape=(n, n))


def best_over_sources(rows: np.ndarray, src_ptr, src_off) -> np.ndarray:
    """Earliest arrival per origin when origin ``o`` starts from the sources
    ``src_ptr[o]:src_ptr[o+1]``: ``min_s (src_off[s] + rows[s])`` (``inf`` for an origin
    without sources); ``rows[s]`` holds the times from source ``s``."""
    n_orig = len(src_ptr) - 1
    out = np.full((n_orig, rows.shape[1]), np.inf)
    for o in range(n_orig):
        for s in range(src_ptr[o], src_ptr[o + 1]):
            out[o] = np.minimum(out[o], src_off[s] + rows[s])
    return out


def linked_seconds(lk, n_orig: int, sinks: np.ndarray) -> np.ndarray:
    """Seconds from the first ``n_orig`` linked points to the ``sinks`` on a linked search
    graph (``networks.link``'s output: sources with access legs, one sink per point):
    scipy Dijkstra from every source, its access leg rounded to whole seconds, the
    fastest source per point; ``inf`` where unreachable or the sink is missing (-1)."""
    d = shortest_seconds(lk.graph, lk.src_nodes)
    cols = np.where(sinks >= 0, d[:, np.maximum(sinks, 0)], np.inf)
    return best_over_sources(cols, lk.src_ptr[:n_orig + 1], np.rint(lk.src_off_s))


def nearest_nodes(nx_: np.ndarray, ny_: np.ndarray, px, py, allowed=None):
    """Exhaustive nearest node per point: ``(node, distance_m)``; nodes where ``allowed``
    is False are never chosen."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    d = np.hypot(px[:, None] - nx_[None, :], py[:, None] - ny_[None, :])
    if allowed is not None:
        d[:, ~allowed] = np.inf
    node = d.argmin(axis=1)
    return node, d[np.arange(len(px)), node]


def as_minutes(t_s: np.ndarray, max_time_min: float) -> np.ndarray:
    """Seconds to minutes with ``NaN`` for unreachable pairs and pairs beyond
    ``max_time_min`` (the matrix convention)."""
    t = np.where(np.asarray(t_s, float) > 60 * max_time_min, np.inf, t_s)
    return np.where(np.isfinite(t), t / 60.0, np.nan)


def reached_sums(m, weights: np.ndarray, limit: float) -> np.ndarray:
    """Per node: the sum of ``weights`` over the nodes reached within ``limit`` seconds
    (all-pairs scipy Dijkstra)."""
    return (np.isfinite(shortest_seconds(m, limit=limit)) * weights).sum(axis=1)


def link_table_matrix(links: pd.DataFrame, orig, dest, max_time_min: float,
                      max_snap_m: float = 500.0) -> np.ndarray:
    """Minutes (origins × destinations) on a link table, ``NaN`` = unreachable, by brute
    force: directed edges from the ``oneway`` column (fastest parallel edge), the largest
    strongly connected component, the nearest kept node per point (legs at
    :data:`WALK_MS`, whole seconds, none beyond ``max_snap_m``) and scipy Dijkstra."""
    nodes = pd.concat([links[["u", "x_u", "y_u"]].set_axis(["n", "x", "y"], axis=1),
                       links[["v", "x_v", "y_v"]].set_axis(["n", "x", "y"], axis=1)])
    nodes = nodes.drop_duplicates("n").sort_values("n")
    pos = {n: i for i, n in enumerate(nodes["n"].to_numpy())}
    u, v, w = [], [], []
    for r in links.itertuples():
        for a, b in [(r.u, r.v)] + ([] if r.oneway == "yes" else [(r.v, r.u)]):
            u.append(pos[a])
            v.append(pos[b])
            w.append(float(r.travel_time_s))
    mat = edge_matrix(len(pos), u, v, w)
    _, lab = connected_components(mat, directed=True, connection="strong")
    keep = lab == np.bincount(lab).argmax()
    nx_, ny_ = nodes["x"].to_numpy(), nodes["y"].to_numpy()

    def snap(gdf):
        node, dist = nearest_nodes(nx_, ny_, gdf.geometry.x, gdf.geometry.y, keep)
        return node, np.rint(dist / WALK_MS), dist <= max_snap_m

    on, oa, ook = snap(orig)
    dn, de, dok = snap(dest)
    t = oa[:, None] + shortest_seconds(mat, on)[:, dn] + de[None, :]
    t[~ook] = np.inf
    t[:, ~dok] = np.inf
    return as_minutes(t, max_time_min)


# --------------------------------------------------------------------------- builders
def grid_edges(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges of a ``side`` × ``side`` grid (node ``i`` at row ``i // side``,
    column ``i % side``): horizontal edges first, then vertical, each once."""
    idx = np.arange(side * side).reshape(side, side)
    u = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    v = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return u, v


def grid_graph(side: int = 12, spacing: float = 100.0, *, seed=0,
               weights: tuple[int, int] | float = (30, 120),
               origin: tuple[float, float] = (100_000.0, 450_000.0), mode: str = "walk"):
    """A ``side`` × ``side`` grid :class:`~ruimtekit.network.graph.Graph`, two-way edges.

    Parameters
    ----------
    side : int
        Nodes per row and column.
    spacing : float
        Distance between neighbouring nodes (metres, EPSG:28992).
    seed : int or numpy.random.Generator
        Seed or generator for the edge weights (a generator is advanced: callers may keep
        drawing from it).
    weights : (int, int) or float
        Whole-second weights drawn uniformly from ``[lo, hi)`` (the same weight both
        ways), or one constant weight for every edge.
    origin : (float, float)
        Coordinates of node 0 (metres).
    mode : str
        Mode label of the graph.
    """
    from ruimtekit.network import graph

    u, v = grid_edges(side)
    if isinstance(weights, tuple):
        w = np.random.default_rng(seed).integers(weights[0], weights[1], u.size)
    else:
        w = np.full(u.size, float(weights))
    n = side * side
    x = origin[0] + (np.arange(n) % side) * spacing
    y = origin[1] + (np.arange(n) // side) * spacing
    return graph.from_edges(np.r_[u, v], np.r_[v, u], np.r_[w, w], x, y, mode=mode)


def square_cells(k: int, size: float = 1000.0, origin: tuple[float, float] = (0.0, 0.0)):
    """``k`` × ``k`` square polygons of ``size`` metres, row by row from ``origin``
    (cell ``r * k + c`` at row ``r``, column ``c``)."""
    import shapely

    return [shapely.box(origin[0] + c * size, origin[1] + r * size,
                        origin[0] + (c + 1) * size, origin[1] + (r + 1) * size)
            for r in range(k) for c in range(k)]


def random_digraph(n: int = 400, seed: int = 3) -> tuple[sp.csr_matrix, np.ndarray]:
    """A random directed graph as a CSR matrix (``6 n`` edges, weights 1–99 s; parallel
    edges summed by the COO → CSR conversion) and Poisson(5) weights per node."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, 6 * n)
    v = rng.integers(0, n, 6 * n)
    w = rng.integers(1, 100, 6 * n).astype(float)
    m = sp.csr_matrix((w, (u, v)), shape=(n, n))
    jobs = rng.poisson(5, n).astype(float)
    return m, jobs


def random_link_table(seed: int = 7, n: int = 14, spacing: float = 120.0,
                      origin: tuple[float, float] = (84_000.0, 447_000.0)) -> pd.DataFrame:
    """A link table (``u, v, x_u, y_u, x_v, y_v, length_m, travel_time_s, oneway,
    highway``) of a jittered ``n`` × ``n`` street grid: ~12 % of streets missing, ~60 %
    one-way in a random direction, whole-second travel times 8–39 s."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n), np.arange(n))
    x = origin[0] + gx.ravel() * spacing + rng.uniform(-30, 30, n * n)
    y = origin[1] + gy.ravel() * spacing + rng.uniform(-30, 30, n * n)
    rows = []
    for i in range(n * n):
        r, c = divmod(i, n)
        for j in ([i + 1] if c + 1 < n else []) + ([i + n] if r + 1 < n else []):
            if rng.random() < 0.12:
                continue  # missing street
            a, b = (i, j) if rng.random() < 0.5 else (j, i)
            oneway = rng.random() < 0.6
            length = float(np.hypot(x[a] - x[b], y[a] - y[b]))
            rows.append({"u": a, "v": b, "x_u": x[a], "y_u": y[a], "x_v": x[b], "y_v": y[b],
                         "length_m": round(length, 2),
                         "travel_time_s": int(rng.integers(8, 40)),
                         "oneway": "yes" if oneway else "no", "highway": "residential"})
    return pd.DataFrame(rows)
