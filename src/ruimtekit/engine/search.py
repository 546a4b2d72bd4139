"""Road and path network searches: the inputs one compiled search needs, the search itself
and its batches (single process or on Dask via :mod:`ruimtekit.engine.batches`).

Travel times on graphs are whole seconds (edge times, access and egress legs are rounded to
the second). A search stops at the horizon ``max_t`` (seconds) and aggregates the measures
of :mod:`ruimtekit.engine.measures` inside the kernel (:func:`ruimtekit.engine._kernels.run_dial`).
Crow-fly batches (:class:`CrowflyInputs`) run the crow-fly kernel the same way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from pydantic import Field

from ruimtekit import _config, defaults
from ruimtekit._errors import InputError, describe_validation
from ruimtekit.engine import _kernels, batches
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay, weight_table
from ruimtekit.network import graph as _graph
from ruimtekit.network import networks

log = logging.getLogger(__name__)


WALK_KMH = defaults.WALK_SPEED_KMH
"""Walking speed (km/h) of access and egress legs for car and unknown modes."""


ACCESS_SPEED_KMH = defaults.ACCESS_SPEED_KMH
"""Default speed (km/h) of the leg between a zone point and its snapped network node."""


Snap = networks.Snap
"""Points snapped to graph nodes (one class for the package: :class:`networks.Snap`)."""


def snap(graph: _graph.Graph, x: np.ndarray, y: np.ndarray, max_distance_m: float) -> Snap:
    """Snap points to the nearest graph node (straight line, EPSG:28992 metres); see
    :func:`ruimtekit.network.networks.snap`. Street graphs with edge geometry are linked onto edges
    instead by the network measures (:func:`ruimtekit.network.networks.link`)."""
    return networks.snap(graph, np.asarray(x, float), np.asarray(y, float), max_distance_m)


class SnapOptions(_config.Section):
    """How zones and destinations join a road network (the access and egress legs).

    Attributes
    ----------
    max_snap_m : float
        Points farther than this (metres) from the network are not routed: zones get NaN
        and are listed in ``attrs["unsnapped"]``, destinations are counted (500).
    access_speed_kmh : float, optional
        Speed of the leg between a point and the network (km/h). Street graphs from
        OSM/GraphML link points onto the nearest eligible edge
        (:func:`ruimtekit.network.networks.link`; default the profile's access speed: walk
        4.8, bike 15, car 15 km/h); other graphs snap to the nearest node (default
        :data:`ACCESS_SPEED_KMH` of the mode, walking for car and other modes).
    """

    max_snap_m: float = Field(defaults.MAX_SNAP_M, gt=0)
    access_speed_kmh: float | None = Field(None, gt=0)


def as_snap(snapping: SnapOptions | dict[str, Any] | None) -> SnapOptions:
    """A :class:`SnapOptions` from an instance (a subclass such as
    :class:`ruimtekit.api.RoutingOptions` included), a dict or ``None`` (defaults)."""
    if snapping is None:
        return SnapOptions()
    if isinstance(snapping, SnapOptions):
        return snapping
    try:
        return SnapOptions(**dict(snapping))
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"invalid snapping options: {describe_validation(exc)}",
                         "give SnapOptions(max_snap_m=metres, access_speed_kmh=km/h)") from None


def leg_speed_kmh(mode: str, access_speed_kmh: float | None) -> float:
    v = access_speed_kmh if access_speed_kmh is not None else ACCESS_SPEED_KMH.get(mode, WALK_KMH)
    if not v > 0:
        raise InputError(None, f"access speed {v!r} km/h is not positive", "give e.g. 4.8")
    return float(v)


@dataclass
class SearchInputs:
    """Everything one batch of network searches needs (read-only; ship once to workers).

    Attributes
    ----------
    indptr, indices, weights : ndarray
        The graph CSR (weights int32 seconds).
    src_ptr, src_nodes, src_off : ndarray
        Origin ``o`` starts at ``src_nodes[src_ptr[o]:src_ptr[o+1]]`` after
        ``src_off`` seconds (access legs).
    dst_ptr, dst_off, dst_w, dst_idx : ndarray
        Destinations attached to nodes (CSR by node): egress seconds, opportunities and
        destination number.
    wtab : ndarray (K, max_t + 1)
        Measure weights per whole second (:func:`weight_table`).
    max_t : int
        Search horizon in seconds.
    labels : list of str
        Measure labels, one per row of ``wtab``.
    n_dst : int
        Number of destinations (for travel-time matrices).
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    src_ptr: np.ndarray
    src_nodes: np.ndarray
    src_off: np.ndarray
    dst_ptr: np.ndarray
    dst_off: np.ndarray
    dst_w: np.ndarray
    dst_idx: np.ndarray
    wtab: np.ndarray
    max_t: int
    labels: list[str]
    n_dst: int

    @property
    def n_origins(self) -> int:
        """Number of origins."""
        return int(self.src_ptr.shape[0] - 1)

    def origin_batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source CSR (ptr, nodes, offsets) of the origins ``idx``."""
        idx = np.asarray(idx, dtype=np.int64)
        starts, stops = self.src_ptr[idx], self.src_ptr[idx + 1]
        counts = stops - starts
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        sel = np.repeat(starts - ptr[:-1], counts) + np.arange(ptr[-1])
        return ptr, self.src_nodes[sel], self.src_off[sel]


LOCALITY_MIN_NODES = 10_000
"""Graphs with at least this many nodes are renumbered along a Hilbert curve for the
search (unless ``graph.meta["node_order"]`` says they already are); ~20% faster on a
row-major grid, 2–3× faster than an arbitrary (e.g. OSM id) node order."""


_LOCALITY_CACHE: dict[int, tuple[Any, _graph.Graph, np.ndarray]] = {}


def search_graph(graph: _graph.Graph) -> tuple[_graph.Graph, np.ndarray | None]:
    """The graph to search (locality-renumbered when large) and ``new_of_old`` positions.

    The renumbered copy is cached per graph object for the life of the graph.
    """
    import weakref

    if graph.n_nodes < LOCALITY_MIN_NODES or graph.meta.get("node_order"):
        return graph, None
    hit = _LOCALITY_CACHE.get(id(graph))
    if hit is not None and hit[0]() is graph:
        return hit[1], hit[2]
    order = _graph.locality_order(graph, "hilbert")
    g2 = _graph.renumber(graph, order)
    new_of_old = np.empty(graph.n_nodes, dtype=np.int64)
    new_of_old[order] = np.arange(graph.n_nodes)
    key = id(graph)
    _LOCALITY_CACHE[key] = (weakref.ref(graph), g2, new_of_old)
    weakref.finalize(graph, _LOCALITY_CACHE.pop, key, None)
    return g2, new_of_old


class Sources(NamedTuple):
    """The search sources of every origin, in CSR form (any ``(ptr, nodes, offset_s)``
    tuple will do).

    Attributes
    ----------
    ptr : ndarray of int, shape (n_origins + 1,)
        Origin ``o`` starts at the nodes ``nodes[ptr[o]:ptr[o + 1]]``.
    nodes : ndarray of int
        Graph node positions.
    offset_s : ndarray of float
        Seconds already travelled when the search leaves each node (access legs; rounded
        to whole seconds).
    """

    ptr: np.ndarray
    nodes: np.ndarray
    offset_s: np.ndarray


class Destinations(NamedTuple):
    """Destinations attached to graph nodes (any ``(node, offset_s, weight)`` tuple will do).

    Attributes
    ----------
    node : ndarray of int
        Graph node position of each destination; ``-1`` = not on the network (ignored).
    offset_s : ndarray of float
        Egress leg from the node to the destination (seconds; rounded to whole seconds).
    weight : ndarray of float
        Opportunities at the destination.
    """

    node: np.ndarray
    offset_s: np.ndarray
    weight: np.ndarray


def build_search_inputs(
    graph: _graph.Graph,
    sources: Sources | tuple[np.ndarray, np.ndarray, np.ndarray],
    destinations: Destinations | tuple[np.ndarray, np.ndarray, np.ndarray],
    measures: Sequence[Decay],
    horizon_min: float,
) -> SearchInputs:
    """Assemble :class:`SearchInputs` (offsets are rounded to whole seconds).

    Node positions refer to ``graph``; large graphs are searched on a Hilbert-renumbered
    copy (:func:`search_graph`), which the returned arrays already use.

    Parameters
    ----------
    graph : Graph
    sources : Sources or tuple (ptr, nodes, offset_s)
        Sources per origin (CSR) and access offsets in seconds.
    destinations : Destinations or tuple (node, offset_s, weight)
        Destination node, egress offset (seconds) and opportunities; node -1 = not on the
        network (ignored).
    measures : list of Decay
    horizon_min : float
        Search horizon in minutes.
    """
    src_ptr, src_nodes, src_off_s = sources
    dst_nodes, dst_off_s, dst_w = destinations
    n = graph.n_nodes
    max_t = int(math.floor(60.0 * horizon_min + 1e-9))
    dst_nodes = np.asarray(dst_nodes, dtype=np.int64)
    src_nodes = np.asarray(src_nodes, dtype=np.int64)
    graph, new_of_old = search_graph(graph)
    if new_of_old is not None:
        src_nodes = new_of_old[src_nodes]
        dst_nodes = np.where(dst_nodes >= 0, new_of_old[np.maximum(dst_nodes, 0)], -1)
    idx = np.arange(dst_nodes.shape[0], dtype=np.int32)
    keep = dst_nodes >= 0
    order = np.argsort(dst_nodes[keep], kind="stable")
    dn = dst_nodes[keep][order]
    counts = np.bincount(dn, minlength=n)
    dst_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return SearchInputs(
        indptr=graph.indptr, indices=graph.indices, weights=graph.weights,
        src_ptr=np.asarray(src_ptr, dtype=np.int64),
        src_nodes=np.asarray(src_nodes, dtype=np.int32),
        src_off=np.rint(np.asarray(src_off_s, dtype=np.float64)).astype(np.int32),
        dst_ptr=dst_ptr,
        dst_off=np.rint(np.asarray(dst_off_s, dtype=np.float64)[keep][order]).astype(np.int32),
        dst_w=np.asarray(dst_w, dtype=np.float64)[keep][order],
        dst_idx=idx[keep][order],
        wtab=weight_table(measures, max_t),
        max_t=max_t,
        labels=[m.label for m in measures],
        n_dst=int(dst_nodes.shape[0]),
    )


def search(shared: SearchInputs, idx: np.ndarray | None = None, *, histogram: bool = False,
           od: bool = False, info: dict | None = None):
    """Run the network searches of the origins ``idx`` (default all) of ``shared``.

    The one call of the compiled engine (:func:`ruimtekit.engine._kernels.run_dial`) for a whole
    run or a batch of it (Dask tasks call it per batch).

    Parameters
    ----------
    shared : SearchInputs
    idx : ndarray of int, optional
        Origin positions; default every origin, in order.
    histogram : bool
        Also return opportunities per 1-minute bin.
    od : bool
        Also return the minimum time (int32 s) to every destination.
    info : dict, optional
        Receives which kernel ran.

    Returns
    -------
    out, hist, od, reached
        As :func:`ruimtekit.engine._kernels.run_dial` (rows in ``idx`` order).
    """
    if idx is None:
        ptr, nodes, off = shared.src_ptr, shared.src_nodes, shared.src_off
    else:
        ptr, nodes, off = shared.origin_batch(idx)
    info = {} if info is None else info
    res = _kernels.run_dial(
        shared.indptr, shared.indices, shared.weights, ptr, nodes, off,
        shared.dst_ptr, shared.dst_off, shared.dst_w, shared.wtab, shared.max_t,
        histogram=histogram, dst_idx=shared.dst_idx if od else None, n_dst=shared.n_dst,
        info=info,
    )
    log.debug("network search kernel: %s", info)
    return res


def measures_batch(shared: SearchInputs, idx: np.ndarray, *,
                   info: dict | None = None) -> np.ndarray:
    """Measures for the origins ``idx``: float64 array (len(idx), K) in ``shared.labels`` order.

    This is the entry point for distributed runs
    (``distributed.map_batches(measures_batch, shared, shared.n_origins, ...)``); results
    of batches concatenate (``np.concatenate``) to the single-process result. ``info``
    receives which kernel ran (see :func:`ruimtekit.engine._kernels.run_dial`).
    """
    return search(shared, idx, info=info)[0]


def network_batch(shared: Any, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Network accessibility of the origins ``idx`` (a Dask task).

    Parameters
    ----------
    shared : _search.SearchInputs
        Graph CSR, origin sources and destinations (scattered once).
    idx : ndarray of int
        Origin positions.

    Returns
    -------
    out : float64 (len(idx), K)
        Measures in ``shared.labels`` order (as :func:`_search.measures_batch`).
    reached : int64 (len(idx),)
        Nodes reached per origin.
    """

    out, _, _, reached = _search.search(shared, idx)
    return out, reached


def network_histogram_batch(shared: Any, idx: np.ndarray) -> np.ndarray:
    """Opportunities per 1-minute bin for the origins ``idx`` (a Dask task): float64
    (len(idx), ceil(max_t / 60) + 1), as ``accessibility.histogram``."""

    return _search.search(shared, idx, histogram=True)[1]


def network_od_batch(shared: Any, idx: np.ndarray) -> np.ndarray:
    """Minimum travel times (int32 seconds, ``INF32`` = unreached) from the origins
    ``idx`` to every destination (a Dask task): (len(idx), n_dst)."""

    return _search.search(shared, idx, od=True)[2]


def _network_map(func: Callable[[Any, np.ndarray], Any], shared: Any, scheduler: Any,
                 empty: Any, batch_size: int | None, progress: Callable[[int, int], None] | None,
                 label: str) -> Any:
    """``func`` over every origin of ``shared`` in batches, concatenated in origin order
    (``empty`` when there are no origins)."""
    res = batches.map_batches(func, shared, shared.n_origins, scheduler=scheduler,
                      batch_size=batch_size, progress=progress, label=label)
    return batches.concat(res) if res else empty


def network_measures(
    shared: Any, scheduler: Any, *, batch_size: int | None = None, label: str = "network",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All origins of :class:`_search.SearchInputs` on Dask.

    Returns the same ``(out, reached)`` arrays as the single-process search (origin
    order, bit-identical values).
    """
    empty = (np.zeros((0, shared.wtab.shape[0])), np.zeros(0, dtype=np.int64))
    return _network_map(network_batch, shared, scheduler, empty, batch_size, progress, label)


def network_histograms(
    shared: Any, scheduler: Any, *, batch_size: int | None = None,
    label: str = "network histogram", progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """:func:`network_histogram_batch` for all origins on Dask (origin order)."""
    empty = np.zeros((0, (int(shared.max_t) + 59) // 60 + 1))
    return _network_map(network_histogram_batch, shared, scheduler, empty, batch_size,
                        progress, label)


def network_od(
    shared: Any, scheduler: Any, *, batch_size: int | None = None,
    label: str = "network travel-time matrix",
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """:func:`network_od_batch` for all origins on Dask (origin order)."""
    empty = np.zeros((0, int(shared.n_dst)), dtype=np.int32)
    return _network_map(network_od_batch, shared, scheduler, empty, batch_size, progress,
                        label)


@dataclass
class CrowflyInputs:
    """Read-only inputs of crow-fly batches (see :func:`ruimtekit.engine._kernels.crowfly_batch`;
    coordinates EPSG:28992 metres, ``fixed_s`` seconds, ``max_t`` seconds)."""

    ox: np.ndarray
    oy: np.ndarray
    own: np.ndarray
    own_dist: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    dw: np.ndarray
    detour: float
    curve_m: np.ndarray
    curve_ms: np.ndarray
    fixed_s: float
    wtab: np.ndarray
    max_t: int


def crowfly_batch(shared: CrowflyInputs, idx: np.ndarray) -> np.ndarray:
    """Crow-fly measures (float64, (len(idx), K)) of the origins ``idx`` (a Dask task)."""

    idx = np.asarray(idx, dtype=np.int64)
    out = np.zeros((idx.shape[0], shared.wtab.shape[0]))
    hist = np.zeros((1, 1))
    _kernels.crowfly_batch(
        shared.ox[idx], shared.oy[idx], shared.own[idx], shared.own_dist[idx],
        shared.dx, shared.dy, shared.dw, shared.detour, shared.curve_m, shared.curve_ms,
        shared.fixed_s, shared.wtab, np.int64(shared.max_t), False, out, hist,
    )
    return out


def crowfly_measures(shared: CrowflyInputs, scheduler: Any, *, batch_size: int | None = None,
                     label: str = "crow-fly") -> np.ndarray:
    """Crow-fly measures of every origin on Dask (origin order, bit-identical)."""
    res = batches.map_batches(crowfly_batch, shared, int(shared.ox.shape[0]), scheduler=scheduler,
                      batch_size=batch_size, label=label)
    return batches.concat(res) if res else np.zeros((0, shared.wtab.shape[0]))
