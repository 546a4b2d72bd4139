"""Compact routable graph: CSR arrays with integer travel times in seconds.

Every network source (OSM, GraphML, link tables, transit) ends up as a :class:`Graph`,
the one structure the compiled accessibility kernels read. Node coordinates are in the
canonical CRS, EPSG:28992 (RD New, metres).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ruimtekit._compat import renamed_parameters
from ruimtekit._errors import NetworkError

log = logging.getLogger(__name__)


@dataclass
class Graph:
    """A directed graph in compressed sparse row form.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n + 1,)
        Row pointers: the out-edges of node ``i`` are ``indptr[i]:indptr[i + 1]``.
    indices : ndarray of int32, shape (m,)
        Head node of each edge.
    weights : ndarray of int32, shape (m,)
        Edge travel time in whole seconds (>= 0).
    x, y : ndarray of float64, shape (n,)
        Node coordinates in EPSG:28992 (metres).
    node_ids : ndarray, shape (n,)
        The source's node identifiers (OSM ids, NWB junction ids, stop ids, ...).
    mode : str
        Mode the weights were computed for (``walk``, ``bike``, ``car``, ...).
    length_m : ndarray of float64, shape (m,), optional
        Edge length in metres, when known.
    dropped_nodes : int
        Nodes removed because they were outside the largest strongly connected component.
    meta : dict
        Free-form provenance (source file, profile, speeds, ...).
    edge_data : dict of str to ndarray, optional
        Extra per-edge arrays (shape (m,)) that follow the edges through every
        reordering: street readers store the edge geometry (``geom_a``/``geom_b``,
        positions into ``meta["vertex_xy"]``), ``highway``, ``tunnel``, ``private`` and
        ``signals`` (traffic signals inside the edge) for linking and turn costs
        (:func:`ruimtekit.network.networks.link`).
    node_data : dict of str to ndarray, optional
        Extra per-node arrays (shape (n,)), e.g. ``signal`` (a ``highway=traffic_signals``
        node), following the nodes.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    x: np.ndarray
    y: np.ndarray
    node_ids: np.ndarray
    mode: str = "unknown"
    length_m: np.ndarray | None = None
    dropped_nodes: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    edge_data: dict[str, np.ndarray] | None = None
    node_data: dict[str, np.ndarray] | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.indptr.shape[0] - 1)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.indices.shape[0])

    def edge_sources(self) -> np.ndarray:
        """Tail node of each edge (int32, shape (m,))."""
        return np.repeat(np.arange(self.n_nodes, dtype=np.int32), np.diff(self.indptr))

    def to_scipy(self) -> sp.csr_matrix:
        """The graph as a scipy CSR matrix of float64 seconds (for oracles and tests).

        Zero-weight edges are stored as explicit zeros.
        """
        m = sp.csr_matrix(
            (self.weights.astype(np.float64), self.indices, self.indptr),
            shape=(self.n_nodes, self.n_nodes),
        )
        return m

    def reverse(self) -> Graph:
        """The graph with every edge reversed (for travel times *to* a node)."""
        src = self.edge_sources()
        order = np.lexsort((src, self.indices))
        counts = np.bincount(self.indices, minlength=self.n_nodes)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Graph(
            indptr=indptr,
            indices=src[order].astype(np.int32),
            weights=self.weights[order],
            x=self.x,
            y=self.y,
            node_ids=self.node_ids,
            mode=self.mode,
            length_m=None if self.length_m is None else self.length_m[order],
            dropped_nodes=self.dropped_nodes,
            meta={**self.meta, "reversed": not self.meta.get("reversed", False)},
            edge_data=_reverse_edge_data(_take(self.edge_data, order)),
            node_data=self.node_data,
        )

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (
            f"Graph(mode={self.mode!r}, nodes={self.n_nodes:,}, edges={self.n_edges:,}, "
            f"dropped_nodes={self.dropped_nodes:,})"
        )


@dataclass
class GraphAttrs:
    """What a graph built by :func:`from_edges` carries besides its edges, times and
    coordinates: node ids, edge lengths, extra per-edge / per-node arrays and provenance.
    The arrays follow the nodes and edges kept (parallel edges and small components are
    dropped).

    Attributes
    ----------
    node_ids : array, shape (n,), optional
        Source identifiers of the nodes (OSM ids, stop ids, ...; default 0 .. n-1).
    length_m : array of float, shape (m,), optional
        Edge lengths in metres.
    edge_data : dict of str to ndarray, optional
        Extra per-edge arrays, shape (m,) (see :class:`Graph`).
    node_data : dict of str to ndarray, optional
        Extra per-node arrays, shape (n,) (see :class:`Graph`).
    meta : dict, optional
        Provenance stored on the graph (``meta["source"]`` names the input in errors).
    """

    node_ids: np.ndarray | None = None
    length_m: np.ndarray | None = None
    edge_data: dict[str, np.ndarray] | None = None
    node_data: dict[str, np.ndarray] | None = None
    meta: dict[str, Any] | None = None


def from_edges(
    u: np.ndarray,
    v: np.ndarray,
    travel_time_s: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    mode: str = "unknown",
    largest_component: bool = True,
    attrs: GraphAttrs | None = None,
) -> Graph:
    """Build a :class:`Graph` from directed edge arrays.

    Parameters
    ----------
    u, v : array of int
        Tail and head node positions (0 .. n-1) of each directed edge. Two-way roads must
        be given as two edges.
    travel_time_s : array of float
        Edge travel time in seconds; rounded to the nearest whole second (at least 0).
        Parallel edges keep the fastest.
    x, y : array of float
        Node coordinates in EPSG:28992 (metres), length n.
    mode : str
        Mode label stored on the graph.
    largest_component : bool
        Keep only the largest strongly connected component (default). The number of
        nodes dropped is stored in ``dropped_nodes`` and logged.
    attrs : GraphAttrs, optional
        Node ids, edge lengths, extra per-edge / per-node arrays and provenance (``meta``)
        to store on the graph; they follow the edges and nodes kept.

    Returns
    -------
    Graph

    Examples
    --------
    >>> g = from_edges([0, 1], [1, 0], [30.0, 30.0], [0.0, 100.0], [0.0, 0.0], mode="walk",
    ...                attrs=GraphAttrs(node_ids=np.array([7, 9]), length_m=[40.0, 40.0]))
    >>> g.n_nodes, g.node_ids.tolist(), g.length_m.tolist()
    (2, [7, 9], [40.0, 40.0])
    """
    a = attrs or GraphAttrs()
    node_ids, length_m, meta = a.node_ids, a.length_m, a.meta
    edge_data, node_data = a.edge_data, a.node_data
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    tt = np.asarray(travel_time_s, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    if node_ids is None:
        node_ids = np.arange(n)
    node_ids = np.asarray(node_ids)
    src = (meta or {}).get("source")
    if n == 0 or u.size == 0:
        raise NetworkError(src, "the network has no nodes or no edges",
                           "check the file and the mode's road filter (profile)")
    if not (u.shape == v.shape == tt.shape):
        raise ValueError("u, v and travel_time_s must have the same length")
    bad = ~np.isfinite(tt) | (tt < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise NetworkError(src, f"{int(bad.sum())} edge travel time(s) are missing, infinite "
                           f"or negative (e.g. edge {node_ids[u[i]]} → {node_ids[v[i]]}: "
                           f"{tt[i]:g} s)", "fix the travel time / length and speed columns "
                           "of those edges (seconds >= 0), or drop the edges")
    if u.min() < 0 or v.min() < 0 or u.max() >= n or v.max() >= n:
        raise ValueError("edge endpoints must index the node arrays")
    w = np.rint(tt).astype(np.int64)
    lm = None if length_m is None else np.asarray(length_m, dtype=np.float64)

    ed = None if edge_data is None else {k: np.asarray(a) for k, a in edge_data.items()}
    nd = None if node_data is None else {k: np.asarray(a) for k, a in node_data.items()}

    # drop self-loops; keep the fastest of parallel edges
    keep = u != v
    if not keep.any():
        raise NetworkError(src, f"all {u.size} edges are self-loops (from and to are the same "
                           "node): nothing can be routed", "check the from/to (u/v) columns; "
                           "they must name the two different end nodes of each link")
    u, v, w = u[keep], v[keep], w[keep]
    if lm is not None:
        lm = lm[keep]
    ed = _take(ed, keep)
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    if lm is not None:
        lm = lm[order]
    ed = _take(ed, order)
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    if lm is not None:
        lm = lm[first]
    ed = _take(ed, first)

    dropped = 0
    if largest_component:
        adj = sp.csr_matrix((np.ones(u.shape[0]), (u, v)), shape=(n, n))
        ncomp, labels = connected_components(adj, directed=True, connection="strong")
        if ncomp > 1:
            sizes = np.bincount(labels)
            big = int(np.argmax(sizes))
            node_keep = labels == big
            dropped = int(n - node_keep.sum())
            new_pos = np.full(n, -1, dtype=np.int64)
            new_pos[node_keep] = np.arange(int(node_keep.sum()))
            ekeep = node_keep[u] & node_keep[v]
            u, v, w = new_pos[u[ekeep]], new_pos[v[ekeep]], w[ekeep]
            if lm is not None:
                lm = lm[ekeep]
            ed = _take(ed, ekeep)
            nd = _take(nd, node_keep)
            x, y, node_ids = x[node_keep], y[node_keep], node_ids[node_keep]
            n = x.shape[0]
            if n < 2:
                raise NetworkError(src, f"no two nodes reach each other: the largest strongly "
                                   f"connected part has {n} node ({dropped} dropped)",
                                   "check the edge directions (one-way links need a way back) "
                                   "or give two-way links as two edges")
            log.info(
                "%s network: kept the largest strongly connected component "
                "(%d nodes), dropped %d nodes in %d smaller components",
                mode, n, dropped, ncomp - 1,
            )
    if w.size and w.max() > np.iinfo(np.int32).max:
        raise NetworkError("an edge travel time does not fit in 32-bit seconds")
    counts = np.bincount(u, minlength=n)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Graph(
        indptr=indptr,
        indices=v.astype(np.int32),
        weights=w.astype(np.int32),
        x=x,
        y=y,
        node_ids=node_ids,
        mode=mode,
        length_m=lm,
        dropped_nodes=dropped,
        meta=dict(meta or {}),
        edge_data=ed,
        node_data=nd,
    )


def _reverse_edge_data(data: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
    """Edge data of reversed edges: the geometry runs the other way."""
    if data is None or "geom_a" not in data:
        return data
    return {**data, "geom_a": data["geom_b"], "geom_b": data["geom_a"]}


def _take(data: dict[str, np.ndarray] | None, sel: np.ndarray) -> dict[str, np.ndarray] | None:
    """Index every array of an edge/node data dict (``None`` stays ``None``)."""
    if data is None:
        return None
    return {k: a[sel] for k, a in data.items()}


def hilbert_index(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Position of points along a Hilbert space-filling curve (int64).

    Coordinates are scaled to a ``2**bits`` square grid over their bounding box; nearby
    points get nearby indices, which is what node renumbering for cache locality needs.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    side = (1 << bits) - 1
    span = max(float(np.ptp(x)) if x.size else 0.0, float(np.ptp(y)) if y.size else 0.0, 1e-9)
    xi = np.rint((x - x.min()) / span * side).astype(np.int64) if x.size else x.astype(np.int64)
    yi = np.rint((y - y.min()) / span * side).astype(np.int64) if y.size else y.astype(np.int64)
    d = np.zeros(xi.shape, dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # rotate the quadrant so the curve stays continuous
        flip = ~ry & rx
        xi = np.where(flip, s - 1 - xi, xi)
        yi = np.where(flip, s - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


@renamed_parameters(g="graph")
def locality_order(graph: Graph, method: str = "hilbert") -> np.ndarray:
    """A node order with good memory locality for graph searches.

    Parameters
    ----------
    graph : Graph
    method : {"hilbert", "rcm"}
        ``hilbert``: sort nodes along a Hilbert curve of their coordinates;
        ``rcm``: reverse Cuthill–McKee on the symmetrised adjacency (bandwidth reduction).

    Returns
    -------
    ndarray of int64
        ``order[new] = old`` node position.
    """
    if method == "hilbert":
        return np.argsort(hilbert_index(graph.x, graph.y), kind="stable").astype(np.int64)
    if method == "rcm":
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        a = graph.to_scipy()
        a = (a + a.T).tocsr()
        return np.asarray(reverse_cuthill_mckee(a, symmetric_mode=True), dtype=np.int64)
    raise ValueError(f"unknown locality order {method!r} (use 'hilbert' or 'rcm')")


@renamed_parameters(g="graph")
def renumber(graph: Graph, order: np.ndarray | str = "hilbert") -> Graph:
    """The same graph with nodes renumbered (``order[new] = old``, or a method name).

    Node coordinates, ``node_ids`` and edge attributes follow their nodes, so results keyed
    by ``node_ids`` are unchanged; ``meta["node_order"]`` records the method. Searches on
    the renumbered graph touch fewer cache lines (nearby nodes sit close in memory).
    """
    method = order if isinstance(order, str) else "custom"
    if isinstance(order, str):
        order = locality_order(graph, order)
    order = np.asarray(order, dtype=np.int64)
    n = graph.n_nodes
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError("order must be a permutation of the node positions")
    new_of_old = np.empty(n, dtype=np.int64)
    new_of_old[order] = np.arange(n)
    src = new_of_old[graph.edge_sources()]
    dst = new_of_old[graph.indices]
    eorder = np.lexsort((dst, src))
    counts = np.bincount(src, minlength=n)
    return Graph(
        indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        indices=dst[eorder].astype(np.int32),
        weights=graph.weights[eorder],
        x=graph.x[order],
        y=graph.y[order],
        node_ids=graph.node_ids[order],
        mode=graph.mode,
        length_m=None if graph.length_m is None else graph.length_m[eorder],
        dropped_nodes=graph.dropped_nodes,
        meta={**graph.meta, "node_order": method},
        edge_data=_take(graph.edge_data, eorder),
        node_data=_take(graph.node_data, order),
    )
