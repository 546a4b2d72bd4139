"""Zone connectors: how zones and destinations enter a network, as in strategic models.

Dutch national models (LMS/NRM) and every strategic transport model attach each zone
to the network by *connectors*: links from the zone's (population-weighted) point to a
few nearby network nodes, standing in for the local streets that the model network
leaves out. :func:`connect` does this for any network plus points:

* each point connects to its ``k`` nearest *eligible* nodes (``graph.meta["eligible"]``;
  for the OSM main-road tables every node with a non-motorway, non-slip-road, non-tunnel
  link, see :func:`ruimtekit.network.networks.read_road_tables`);
* connector time = crow-fly distance × ``detour`` / ``speed_kmh``;
* with ``land`` (a polygon layer, usually the zones themselves) a connector never leaves
  the land part of its point: parts are zone polygons that touch (within
  ``land_tolerance_m``), so islands are separate parts and only bridges, tunnels and
  ferries in the network cross water;
* points whose nearest connector is longer than ``flag_distance_m`` are still connected
  but flagged ``far`` (e.g. Flevoland, whose roads the OSM NL main-road tables lack), and
  points on a land part without any eligible node are flagged ``no_network``. Both are
  logged.

The defaults (:data:`K`, :data:`SPEED_KMH`, :data:`DETOUR`, :data:`FLAG_DISTANCE_M`) are
defined once in :mod:`ruimtekit.defaults` (docs/defaults.md); docs/networks.md gives their
justification (fitted on the OTP calibration pairs of Den Haag Zuid-West, see
``benchmarks/validate_travel_times.py``).
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from pydantic import Field
from scipy.spatial import cKDTree

from ruimtekit import defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.network import graph as _graph

log = logging.getLogger(__name__)

# defaults documented in ruimtekit.defaults (docs/defaults.md)
K = defaults.CONNECTOR_K
"""Connectors per zone (nearest eligible nodes)."""

SPEED_KMH = defaults.CONNECTOR_SPEED_KMH
"""Connector speed (km/h): local streets between a zone's point and the main roads."""

DETOUR = defaults.CONNECTOR_DETOUR
"""Connector detour factor (street distance / crow-fly distance)."""

FLAG_DISTANCE_M = defaults.CONNECTOR_FLAG_DISTANCE_M
"""A point whose nearest connector is longer than this (metres) is flagged ``far``."""

DIRECT_MAX_M = defaults.CONNECTOR_DIRECT_MAX_M
"""Origins and destinations closer than this (metres, same land part) are also joined
directly."""

LAND_TOLERANCE_M = defaults.CONNECTOR_LAND_TOLERANCE_M
"""Zone polygons closer than this (metres) belong to the same land part."""

FLAG_FAR = "far"
FLAG_NO_NETWORK = "no_network"
FLAG_NO_LOCATION = "no_location"


class ConnectorConfig(Section):
    """Zone connectors (study file: ``connectors: {k: 3, speed_kmh: 30, detour: 1.3}`` on
    an accessibility block).

    Attributes
    ----------
    k : int
        Connectors per point (:data:`K`).
    speed_kmh : float
        Connector speed in km/h (:data:`SPEED_KMH`).
    detour : float
        Street distance / crow-fly distance (:data:`DETOUR`).
    flag_distance_m : float
        Longer nearest connectors are flagged ``far`` (:data:`FLAG_DISTANCE_M`).
    direct_max_m : float
        Origin–destination pairs closer than this are also joined directly, without the
        network (:data:`DIRECT_MAX_M`; 0 = never).
    same_land : bool
        Keep connectors on the land part of their point (parts from the zone polygons).
    land_tolerance_m : float
        Zone polygons closer than this are one land part (:data:`LAND_TOLERANCE_M`).
    """

    k: int = Field(K, ge=1, le=50)
    speed_kmh: float = Field(SPEED_KMH, gt=0)
    detour: float = Field(DETOUR, ge=1)
    flag_distance_m: float = Field(FLAG_DISTANCE_M, gt=0)
    direct_max_m: float = Field(DIRECT_MAX_M, ge=0)
    same_land: bool = True
    land_tolerance_m: float = Field(LAND_TOLERANCE_M, ge=0)

    def seconds(self, dist_m: np.ndarray) -> np.ndarray:
        """Connector time in seconds (float64) for crow-fly distances in metres."""
        return np.asarray(dist_m, dtype=np.float64) * self.detour / (self.speed_kmh / 3.6)


@dataclass
class Connectors:
    """Connectors of points to graph nodes (CSR by point).

    Attributes
    ----------
    ptr : ndarray of int64, shape (n + 1,)
        Point ``i`` has connectors ``ptr[i]:ptr[i+1]``.
    node : ndarray of int64
        Graph node of each connector.
    distance_m : ndarray of float64
        Crow-fly length of each connector (metres).
    seconds : ndarray of float64
        Connector time (seconds).
    nearest_m : ndarray of float64, shape (n,)
        Length of the point's shortest connector (NaN when it has none).
    flag : ndarray of str, shape (n,)
        ``""``, ``far``, ``no_network`` or ``no_location`` (no finite point).
    part : ndarray of int64, shape (n,)
        Land part of the point (-1 without land parts).
    """

    ptr: np.ndarray
    node: np.ndarray
    distance_m: np.ndarray
    seconds: np.ndarray
    nearest_m: np.ndarray
    flag: np.ndarray
    part: np.ndarray


@dataclass
class LandParts:
    """Land parts (polygons that touch) and a lookup of the part of any point."""

    polygons: gpd.GeoSeries
    part_of_polygon: np.ndarray
    tolerance_m: float
    _node_parts: dict = field(default_factory=dict, repr=False)

    def node_parts(self, graph: _graph.Graph) -> np.ndarray:
        """Part of every node of ``graph`` (-1 off land), cached per graph."""
        key = (id(graph), graph.n_nodes)
        hit = self._node_parts.get(key)
        if hit is None or hit[0]() is not graph:
            hit = (weakref.ref(graph), self.part_of(graph.x, graph.y))
            self._node_parts[key] = hit
        return hit[1]

    @property
    def n_parts(self) -> int:
        """Number of land parts."""
        return int(self.part_of_polygon.max()) + 1 if self.part_of_polygon.size else 0

    def part_of(self, x: np.ndarray, y: np.ndarray, nearest: bool = False) -> np.ndarray:
        """Part of each point (EPSG:28992): the part of a polygon within the tolerance;
        -1 when none (or the nearest polygon's part with ``nearest=True``)."""
        pts = gpd.points_from_xy(np.asarray(x, float), np.asarray(y, float))
        out = np.full(len(pts), -1, dtype=np.int64)
        ok = np.isfinite(np.asarray(x, float)) & np.isfinite(np.asarray(y, float))
        tree = self.polygons.sindex
        if ok.any():
            idx = np.flatnonzero(ok)
            p, g = tree.query(pts[idx], predicate="intersects")
            out[idx[p]] = self.part_of_polygon[g]
            miss = idx[out[idx] < 0]
            if miss.size and self.tolerance_m > 0:
                p, g = tree.query(pts[miss], predicate="dwithin", distance=self.tolerance_m)
                out[miss[p]] = self.part_of_polygon[g]
            if nearest:
                miss = idx[out[idx] < 0]
                if miss.size:
                    p2, g2 = tree.nearest(pts[miss], return_all=False)
                    out[miss[p2]] = self.part_of_polygon[g2]
        return out


_LAND_CACHE: dict[tuple[int, int, float], tuple[weakref.ref, LandParts]] = {}


def land_parts(polygons: gpd.GeoDataFrame | gpd.GeoSeries,
               tolerance_m: float = LAND_TOLERANCE_M) -> LandParts:
    """Group polygons (EPSG:28992) into land parts: polygons within ``tolerance_m`` of
    each other are one part (islands become their own parts). Cached per layer object.

    Raises
    ------
    InputError
        When the layer has no polygons.
    """
    key = (id(polygons), len(polygons), float(tolerance_m))
    hit = _LAND_CACHE.get(key)
    if hit is not None and hit[0]() is polygons:
        return hit[1]
    lp = _land_parts(polygons, tolerance_m)
    _LAND_CACHE[key] = (weakref.ref(polygons), lp)
    weakref.finalize(polygons, _LAND_CACHE.pop, key, None)
    return lp


def _land_parts(polygons: gpd.GeoDataFrame | gpd.GeoSeries, tolerance_m: float) -> LandParts:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    geom = polygons.geometry if isinstance(polygons, gpd.GeoDataFrame) else polygons
    keep = ~geom.isna() & ~geom.is_empty & geom.geom_type.isin(["Polygon", "MultiPolygon"])
    geom = gpd.GeoSeries(geom[keep].to_numpy(), crs=geom.crs)
    if len(geom) == 0:
        raise InputError(None, "land parts need polygon zones, and the layer has none",
                         "use polygon zones or set connectors: {same_land: false}")
    a, b = geom.sindex.query(geom.to_numpy(), predicate="dwithin", distance=tolerance_m)
    n = len(geom)
    adj = csr_matrix((np.ones(a.size), (a, b)), shape=(n, n))
    _, lab = connected_components(adj, directed=False)
    return LandParts(geom, lab.astype(np.int64), float(tolerance_m))


def connect(
    graph: _graph.Graph,
    x: np.ndarray,
    y: np.ndarray,
    cfg: ConnectorConfig | None = None,
    land: LandParts | None = None,
    what: str = "zones",
) -> Connectors:
    """Connect points (EPSG:28992 metres) to their ``cfg.k`` nearest eligible nodes.

    Parameters
    ----------
    graph : Graph
        ``meta["eligible"]`` (bool per node) restricts the nodes; default all nodes.
    x, y : array of float
        Points (zone population-weighted points or centroids, destinations).
    cfg : ConnectorConfig, optional
        k, speed, detour, flag distance (defaults: module constants).
    land : LandParts, optional
        Keep connectors on the land part of their point (nodes outside every part are
        not used; points outside every part take the nearest part).
    what : str
        Name for the log.

    Returns
    -------
    Connectors
    """
    cfg = cfg or ConnectorConfig()
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    elig = np.asarray(graph.meta.get("eligible", np.ones(graph.n_nodes, bool)), dtype=bool)
    if elig.shape[0] != graph.n_nodes:
        raise ValueError("graph.meta['eligible'] does not match the graph's nodes")
    if land is not None:
        npart = land.node_parts(graph)
        ppart = land.part_of(x, y, nearest=True)
    else:
        npart = np.zeros(graph.n_nodes, dtype=np.int64)
        ppart = np.where(np.isfinite(x) & np.isfinite(y), 0, -1)
    nodes_l: list[np.ndarray] = [np.empty((0, 0), np.int64)] * n
    dist_l: list[np.ndarray] = [np.empty((0, 0))] * n
    counts = np.zeros(n, dtype=np.int64)
    node_parts = npart[elig]
    cand_all = np.flatnonzero(elig)
    for part in np.unique(ppart[ppart >= 0]):
        pts = np.flatnonzero(ppart == part)
        cand = cand_all[node_parts == part]
        if cand.size == 0:
            continue
        k = min(cfg.k, cand.size)
        tree = cKDTree(np.column_stack([graph.x[cand], graph.y[cand]]))
        d, j = tree.query(np.column_stack([x[pts], y[pts]]), k=k)
        d = d.reshape(len(pts), k)
        j = j.reshape(len(pts), k)
        for r, p in enumerate(pts):
            nodes_l[p] = cand[j[r]]
            dist_l[p] = d[r]
            counts[p] = k
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    node = np.concatenate([np.ravel(a) for a in nodes_l]).astype(np.int64) if n else \
        np.empty(0, np.int64)
    dist = np.concatenate([np.ravel(a) for a in dist_l]).astype(np.float64) if n else \
        np.empty(0)
    nearest = np.full(n, np.nan)
    has = counts > 0
    nearest[has] = dist[ptr[:-1][has]]
    flag = np.full(n, "", dtype=object)
    flag[has & (nearest > cfg.flag_distance_m)] = FLAG_FAR
    flag[~has] = FLAG_NO_NETWORK
    flag[~(np.isfinite(x) & np.isfinite(y))] = FLAG_NO_LOCATION
    n_far = int((flag == FLAG_FAR).sum())
    n_none = int((flag == FLAG_NO_NETWORK).sum())
    log.info("connectors: %d %s connected to %d node(s) each at %.0f km/h × %.2f detour; "
             "median nearest %.0f m", int(has.sum()), what, cfg.k, cfg.speed_kmh, cfg.detour,
             float(np.nanmedian(nearest)) if has.any() else float("nan"))
    if n_far:
        log.warning("connectors: %d %s are more than %.0f m from the network (connected, "
                    "flagged %r; longest %.0f m)", n_far, what, cfg.flag_distance_m, FLAG_FAR,
                    float(np.nanmax(nearest)))
    if n_none:
        log.warning("connectors: %d %s lie on land without a usable network node (flagged "
                    "%r: only reachable within their land part)", n_none, what,
                    FLAG_NO_NETWORK)
    return Connectors(ptr, node, dist, cfg.seconds(dist), nearest, flag, ppart)


def direct_pairs(
    origins: tuple[np.ndarray, np.ndarray],
    destinations: tuple[np.ndarray, np.ndarray],
    origin_part: np.ndarray,
    destination_part: np.ndarray,
    cfg: ConnectorConfig,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin–destination pairs within ``cfg.direct_max_m`` on the same land part.

    Returns
    -------
    (origin, destination, seconds)
        Positions and direct local-street time (crow-fly × detour at connector speed).
    """
    ox, oy = (np.asarray(a, dtype=np.float64) for a in origins)
    dx, dy = (np.asarray(a, dtype=np.float64) for a in destinations)
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    ook = np.flatnonzero(np.isfinite(ox) & np.isfinite(oy))
    dok = np.flatnonzero(np.isfinite(dx) & np.isfinite(dy))
    if cfg.direct_max_m <= 0 or ook.size == 0 or dok.size == 0:
        return empty
    a = cKDTree(np.column_stack([ox[ook], oy[ook]]))
    b = cKDTree(np.column_stack([dx[dok], dy[dok]]))
    m = a.sparse_distance_matrix(b, cfg.direct_max_m, output_type="coo_matrix")
    o, d, dist = ook[m.row], dok[m.col], np.asarray(m.data, dtype=np.float64)
    same = origin_part[o] == destination_part[d]
    return o[same].astype(np.int64), d[same].astype(np.int64), cfg.seconds(dist[same])
