"""Accessibility: opportunities (jobs, ...) reachable from every zone, per mode.

Measures (``t`` is the travel time in **minutes**, ``T`` a cutoff in minutes, ``E_j`` the
opportunities at destination j):

* cumulative — ``A_i = sum_j E_j * 1[t_ij <= T]``; reachable means ``t <= 60 T`` seconds,
  an origin's own opportunities count (``t = 0``); any cutoff, integer or not, is exact;
* gravity / Hansen — ``A_i = sum_j E_j f(t_ij)`` with the :class:`Decay` functions
  negative exponential, power, logistic, linear and step;
* histogram — opportunities per 1-minute bin, bin ``b`` holding ``ceil(t) == b``
  (``b = 0`` is ``t = 0``), so the cumulative count within T minutes is the prefix sum up
  to bin T;
* effective density (Graham 2007) — ``ED_i = sum_j E_j / d_ij^alpha``, d in kilometres;
* 2SFCA — ``R_j = S_j / sum_k P_k f(t_kj)``, ``A_i = sum_j R_j f(t_ij)``.

Impedance comes from a routable :class:`ruimtekit.network.graph.Graph` (:func:`network_access`;
compiled bounded Dial search, see :mod:`ruimtekit.engine._kernels`), the crow-fly model
(:func:`crowfly_access`; :mod:`ruimtekit.engine.impedance`) or an external skim
(:func:`skim_access`). All three produce the same column names:
``{opportunity}_{cutoff}min_{mode}`` and ``{opportunity}_{decay.label}_{mode}``.

Travel times on graphs are whole seconds (edge times, access and egress legs are rounded
to the second). Network searches stop at the **search horizon** (``horizon_min``; default
the largest cutoff or bounded decay, and at least 90 minutes when an unbounded decay —
exponential, power, logistic — is requested): gravity sums include destinations reached
within the horizon only. The horizon is recorded in ``result.attrs["horizon_min"]``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from ruimtekit import _config, _io, defaults
from ruimtekit._errors import InputError, NetworkError
from ruimtekit.analysis import _ownzone
from ruimtekit.engine import _kernels, impedance
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import (
    MAX_CUTOFF_MIN,
    Decay,
    DecayConfig,
    MeasureSpec,
    aggregate_times,
    as_decay,
    as_measures,
    default_horizon_min,
    format_number,
    measure_list,
    weight_table,
)
from ruimtekit.engine.search import (
    SearchInputs,
    Snap,
    SnapOptions,
    as_snap,
    build_search_inputs,
    leg_speed_kmh,
    search,
    snap,
)
from ruimtekit.io.places import destination_points, opportunity_weights, zone_ids, zone_points
from ruimtekit.network import connectors as _conn
from ruimtekit.network import connectors as _connectors
from ruimtekit.network import graph as _graph
from ruimtekit.network import networks

# module-level alias: inside AccessibilityConfig the field `impedance` shadows the module
_CrowflyModel = impedance.CrowflyModel
_ConnectorConfig = _connectors.ConnectorConfig

log = logging.getLogger(__name__)

EPSG = 28992


# --------------------------------------------------------------------------------------
# decay functions
# --------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------
# zones, destinations, snapping
# --------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------
# network search inputs (also the entry point for distributed runs)
# --------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    ids: np.ndarray
    zsnap: Snap
    shared: SearchInputs
    measures: list[Decay]
    horizon_min: float
    unsnapped: list[str]
    dest_unsnapped: int
    dest_unsnapped_opp: float


def _prepare(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None,
    opportunity: str,
    measures: list[Decay],
    mode: str,
    max_snap_m: float,
    access_speed_kmh: float | None,
    horizon_min: float | None,
) -> _Prepared:
    if graph.n_nodes == 0:
        raise NetworkError("the network has no nodes")
    ids = zone_ids(zones)
    zx, zy = zone_points(zones)
    dx, dy, dw, same = destination_points(zones, destinations, opportunity)
    h = default_horizon_min(measures) if horizon_min is None else float(horizon_min)
    if h <= 0:
        raise InputError(None, "horizon_min must be > 0 minutes", "give e.g. 90")
    if networks.linkable(graph):
        # street graphs: link to the nearest eligible edge, turn costs where the profile
        # has them (networks.link); destinations attach to one sink each
        if access_speed_kmh is not None:
            leg_speed_kmh(mode, access_speed_kmh)
        nz = len(zx)
        px, py = (zx, zy) if same else (np.concatenate([zx, dx]), np.concatenate([zy, dy]))
        lk = networks.link(graph, px, py, max_snap_m,
                           networks.LinkOptions(access_speed_kmh=access_speed_kmh))
        zs = Snap(np.where(lk.sink[:nz] >= 0, lk.sink[:nz], -1), lk.distance_m[:nz],
                  float(max_snap_m))
        ok = zs.node >= 0
        dsink = lk.sink[:nz] if same else lk.sink[nz:]
        dok = dsink >= 0
        shared = build_search_inputs(
            lk.graph, (lk.src_ptr[:nz + 1], lk.src_nodes[:lk.src_ptr[nz]],
                       lk.src_off_s[:lk.src_ptr[nz]]), (dsink, np.zeros(dsink.shape[0]), dw),
            measures, h
        )
    else:
        v = leg_speed_kmh(mode, access_speed_kmh) / 3.6
        zs = snap(graph, zx, zy, max_snap_m)
        ok = zs.node >= 0
        src_ptr = np.concatenate([[0], np.cumsum(ok.astype(np.int64))])
        ds = snap(graph, dx, dy, max_snap_m)
        dok = ds.node >= 0
        shared = build_search_inputs(
            graph, (src_ptr, zs.node[ok], zs.distance_m[ok] / v),
            (ds.node, ds.distance_m / v, dw), measures, h
        )
    dest_unsnapped = int((~dok).sum())
    dest_unsnapped_opp = float(dw[~dok].sum())
    unsnapped = [str(i) for i in ids[~ok]]
    if len(ids) and not ok.any():
        raise InputError(None, f"none of the {len(ids)} zones lies within {max_snap_m:.0f} m of "
                         f"the {mode} network (nodes span x {graph.x.min():.0f}–{graph.x.max():.0f}, "
                         f"y {graph.y.min():.0f}–{graph.y.max():.0f} in EPSG:28992)",
                         "check that the zones and the network cover the same area, or raise "
                         "max_snap_m (metres)")
    if unsnapped:
        log.warning(
            "%d of %d zones are more than %.0f m from the %s network and get no value: %s",
            len(unsnapped), len(ids), max_snap_m, mode, ", ".join(unsnapped[:20])
            + (" ..." if len(unsnapped) > 20 else ""),
        )
    if dest_unsnapped:
        log.warning(
            "%d destinations (%.0f %s) are more than %.0f m from the %s network and cannot "
            "be reached", dest_unsnapped, dest_unsnapped_opp, opportunity, max_snap_m, mode,
        )
    return _Prepared(ids, zs, shared, measures, h, unsnapped, dest_unsnapped, dest_unsnapped_opp)


def _result_frame(
    zones: gpd.GeoDataFrame,
    values: dict[str, np.ndarray],
    attrs: dict[str, Any],
) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {"zone_id": zones["zone_id"].astype(str).to_numpy(), **values},
        geometry=zones.geometry.to_numpy(), crs=zones.crs, index=zones.index,
    )
    out.attrs.update(attrs)
    return out


# --------------------------------------------------------------------------------------
# public API: network, crow-fly, skim
# --------------------------------------------------------------------------------------
def network_access(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    opportunity: str = "jobs",
    measures: MeasureSpec | dict[str, Any] | None = None,
    mode: str | None = None,
    snapping: SnapOptions | dict[str, Any] | None = None,
    scheduler: Any = None,
) -> gpd.GeoDataFrame:
    """Opportunities reachable from every zone over a road/path network.

    Parameters
    ----------
    graph : Graph
        Routable network (weights in whole seconds for ``mode``).
    zones : GeoDataFrame
        Origin zones (EPSG:28992) with ``zone_id``; ``pop_x``/``pop_y`` (population-weighted
        point) are used for snapping when present, else the centroid.
    destinations : GeoDataFrame, optional
        Points or polygons carrying the ``opportunity`` column; default the zones
        themselves (``zones[opportunity]`` at the zone points).
    opportunity : str
        Opportunity column (``jobs``, ``establishments_proxy``, ...).
    measures : MeasureSpec or dict, optional
        Cumulative cutoffs (minutes), gravity decays and the search horizon
        (``horizon_min``, see the module docstring); default ``MeasureSpec()`` (45 minutes).
    mode : str, optional
        Mode label for column names (default ``graph.mode``).
    snapping : SnapOptions or dict, optional
        ``max_snap_m``: zones and destinations farther than this (metres) from the
        network are not routed: zones get NaN and are listed in ``attrs["unsnapped"]``
        and the log; unsnapped destinations are counted in
        ``attrs["unsnapped_destinations"]``. ``access_speed_kmh``: speed of the
        access/egress leg between a point and the network. Street graphs from OSM/GraphML
        link points onto the nearest eligible edge (:func:`ruimtekit.network.networks.link`;
        default the profile's access speed: walk 4.8, bike 15, car 15 km/h; turn costs
        and signal delays from the profile); other graphs snap to the nearest node
        (default: the mode's speed for walk/bike, walking 4.8 km/h for car and other
        modes). :class:`ruimtekit.api.RoutingOptions` is a SnapOptions too.
    scheduler : str or distributed.Client, optional
        Run the origin batches on Dask (``local:N``, a scheduler address or a client;
        see :mod:`ruimtekit.engine.batches`); results are identical to the local run.

    Returns
    -------
    GeoDataFrame
        One row per zone: ``zone_id``, ``{opportunity}_{cutoff}min_{mode}``,
        ``{opportunity}_{decay.label}_{mode}``, ``snap_distance_m``, geometry. ``attrs``:
        ``unsnapped``, ``unsnapped_destinations``, ``horizon_min``, ``mode``, ``measures``.
    """
    mode = mode or graph.mode
    spec = as_measures(measures)
    sn = as_snap(snapping)
    measures = spec.measure_list()
    p = _prepare(graph, zones, destinations, opportunity, measures, mode, sn.max_snap_m,
                 sn.access_speed_kmh, spec.horizon_min)
    if scheduler is None:
        out, _, _, reached = search(p.shared)
    else:

        out, reached = _search.network_measures(p.shared, scheduler,
                                                    label=f"{mode} accessibility")
    ok = p.zsnap.node >= 0
    values: dict[str, np.ndarray] = {}
    for k, m in enumerate(measures):
        col = out[:, k].copy()  # one origin per zone; unsnapped zones have no sources
        col[~ok] = np.nan
        values[f"{opportunity}_{m.label}_{mode}"] = col
    values["snap_distance_m"] = p.zsnap.distance_m
    log.info("%s accessibility: %d zones, mean %.0f nodes reached within %.0f min",
             mode, int(ok.sum()), float(reached.mean()) if reached.size else 0.0, p.horizon_min)
    return _result_frame(zones, values, {
        "unsnapped": p.unsnapped, "unsnapped_destinations": p.dest_unsnapped,
        "unsnapped_destination_opportunities": p.dest_unsnapped_opp,
        "horizon_min": p.horizon_min, "mode": mode, "measures": [m.label for m in measures],
    })


def _connector_search(
    graph: _graph.Graph,
    origins: tuple[np.ndarray, np.ndarray],
    dests: tuple[np.ndarray, np.ndarray, np.ndarray],
    cfg: Any,
    land: Any,
    measures: list[Decay],
    horizon_min: float,
) -> tuple[SearchInputs, Any, Any]:
    """Search inputs with zone connectors: origins and destinations are nodes of an
    extended graph, joined to the network by their connectors and to each other by direct
    local-street links within ``cfg.direct_max_m`` (:func:`connectors.direct_pairs`)."""

    zc = _conn.connect(graph, origins[0], origins[1], cfg, land, "zones")
    dc = _conn.connect(graph, dests[0], dests[1], cfg, land, "destinations")
    n, nd = graph.n_nodes, int(dests[0].shape[0])
    no = int(origins[0].shape[0])
    # extended graph: road nodes, then one node per destination, then one per origin;
    # origin nodes only have out-edges and destination nodes only in-edges (no through
    # traffic over connectors)
    dpt = np.repeat(np.arange(nd), np.diff(dc.ptr))
    opt = np.repeat(np.arange(no), np.diff(zc.ptr))
    du, dv, dt = _conn.direct_pairs(origins, dests[:2], zc.part, dc.part, cfg)
    src = graph.edge_sources().astype(np.int64)
    aug = _graph.from_edges(
        np.concatenate([src, dc.node, n + nd + opt, n + nd + du]),
        np.concatenate([graph.indices.astype(np.int64), n + dpt, zc.node, n + dv]),
        np.concatenate([graph.weights.astype(np.float64), dc.seconds, zc.seconds, dt]),
        np.concatenate([graph.x, dests[0], np.nan_to_num(origins[0])]),
        np.concatenate([graph.y, dests[1], np.nan_to_num(origins[1])]),
        mode=graph.mode, largest_component=False,
        attrs=_graph.GraphAttrs(meta={"connectors": True}),
    )
    has = np.diff(dc.ptr) > 0
    dhas = np.zeros(nd, dtype=bool)
    dhas[dv] = True
    dst_nodes = np.where(has | dhas, n + np.arange(nd), -1)
    located = np.isfinite(origins[0]) & np.isfinite(origins[1])
    src_ptr = np.concatenate([[0], np.cumsum(located)]).astype(np.int64)
    src_nodes = n + nd + np.flatnonzero(located)
    shared = build_search_inputs(aug, (src_ptr, src_nodes, np.zeros(src_nodes.size)),
                                 (dst_nodes, np.zeros(nd), dests[2]), measures, horizon_min)
    return shared, zc, dc


def connector_access(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    opportunity: str = "jobs",
    measures: Iterable[float | Decay | dict] = (defaults.CUTOFF_MIN,),
    mode: str | None = None,
    connectors: Any = None,
    horizon_min: float | None = None,
) -> gpd.GeoDataFrame:
    """Accessibility over a network with zone connectors (LMS/NRM style).

    Every zone (its ``pop_x``/``pop_y`` point, else the centroid) and every destination
    connects to its ``k`` nearest eligible network nodes on its own land part
    (:func:`ruimtekit.network.connectors.connect`); a trip is origin connector + network + the
    destination's connector. Zones on land without a usable node (an island without
    roads or car ferry) reach only the destinations on their own land part, at connector
    time without the network, and are flagged ``no_network``; zones farther than
    ``flag_distance_m`` from the network are connected and flagged ``far``.

    Parameters
    ----------
    graph : Graph
        Network (whole seconds); ``meta["eligible"]`` marks connector nodes.
    zones, destinations, opportunity, mode
        As :func:`network_access`.
    measures : iterable of float, Decay or dict
        Cumulative cutoffs (numbers, minutes) and decays.
    connectors : ConnectorConfig or dict, optional
        k, speed (km/h), detour, flag distance (m), direct links, land parts
        (:class:`ruimtekit.network.connectors.ConnectorConfig`; defaults there).
    horizon_min : float, optional
        Search horizon in minutes (default: the largest cutoff, or
        :data:`DEFAULT_UNBOUNDED_HORIZON_MIN` with unbounded decays).

    Returns
    -------
    GeoDataFrame
        ``zone_id``, the measure columns ``{opportunity}_{label}_{mode}``,
        ``connector_m`` (shortest connector, metres) and ``connector_flag`` (``""``,
        ``far``, ``no_network``, ``no_location``). ``attrs``: ``flagged`` (zone id → flag), ``mode``,
        ``measures``, ``connectors``.
    """

    cfg = _conn.ConnectorConfig.model_validate(connectors or {}) \
        if not isinstance(connectors, _conn.ConnectorConfig) else connectors
    mode = mode or graph.mode
    if graph.n_nodes == 0:
        raise NetworkError("the network has no nodes")
    items = list(measures)
    measures = measure_list([m for m in items if isinstance(m, (int, float))],
                         [m for m in items if not isinstance(m, (int, float))])
    h = default_horizon_min(measures) if horizon_min is None else float(horizon_min)
    if h <= 0:
        raise InputError(None, "horizon_min must be > 0 minutes", "give e.g. 90")
    ids = zone_ids(zones)
    zx, zy = zone_points(zones)
    dx, dy, dw, _ = destination_points(zones, destinations, opportunity)
    import time

    clock = [time.perf_counter()]
    polys = zones.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).any()
    land = _conn.land_parts(zones, cfg.land_tolerance_m) if cfg.same_land and polys else None
    clock.append(time.perf_counter())
    shared, zc, dc = _connector_search(graph, (zx, zy), (dx, dy, dw), cfg, land, measures, h)
    clock.append(time.perf_counter())
    out, _, _, reached = search(shared)
    clock.append(time.perf_counter())
    out = out.copy()
    # zones without a network node: destinations on their own land part, connector time
    lone = np.flatnonzero(zc.flag == _conn.FLAG_NO_NETWORK)
    located = np.isfinite(zx) & np.isfinite(zy)
    for i in lone:
        if not located[i]:
            out[i] = np.nan
            continue
        same = (dc.part == zc.part[i]) & (zc.part[i] >= 0)
        t = cfg.seconds(np.hypot(dx[same] - zx[i], dy[same] - zy[i]))
        agg = aggregate_times(t[None, :], dw[same], cutoffs=(), decays=measures,
                              horizon_min=h)
        out[i] = [agg[m.label][0] for m in measures]
    values = {f"{opportunity}_{m.label}_{mode}": out[:, k] for k, m in enumerate(measures)}
    values["connector_m"] = zc.nearest_m
    values["connector_flag"] = zc.flag.astype(str)
    flagged = {str(i): str(f) for i, f in zip(ids, zc.flag, strict=True) if f}
    lost = float(dw[np.diff(dc.ptr) == 0].sum())
    if lost:
        log.warning("%s: %.0f %s at destinations on land without a network node are only "
                    "reachable from their own land part", mode, lost, opportunity)
    log.info("%s accessibility with connectors: %d zones (%d flagged), mean %.0f nodes "
             "reached within %.0f min", mode, len(ids), len(flagged),
             float(reached.mean()) if reached.size else 0.0, h)
    return _result_frame(zones, values, {
        "flagged": flagged, "unsnapped": [str(i) for i in ids[~located]], "mode": mode,
        "measures": [m.label for m in measures], "horizon_min": h,
        "connectors": cfg.model_dump(), "destination_opportunities_off_network": lost,
        "timings_s": dict(zip(("land_parts", "connectors", "search"), np.diff(clock).tolist(),
                              strict=True)),
    })


def connector_times(
    graph: _graph.Graph,
    origins: tuple[np.ndarray, np.ndarray],
    destinations: tuple[np.ndarray, np.ndarray],
    connectors: Any = None,
    max_time_min: float = defaults.MATRIX_MAX_TIME_MIN,
    land: Any = None,
) -> np.ndarray:
    """Door-to-door travel times (seconds, float64; ``inf`` beyond ``max_time_min``)
    between points over a network with connectors at both ends (see
    :func:`connector_access`).

    Parameters
    ----------
    graph : Graph
    origins, destinations : (x, y) arrays in EPSG:28992 metres
    connectors : ConnectorConfig or dict, optional
    max_time_min : float
        Search horizon in minutes.
    land : LandParts, optional
        Keep connectors on land parts (:func:`ruimtekit.network.connectors.land_parts`).

    Returns
    -------
    ndarray (n_origins, n_destinations)
    """

    cfg = _conn.ConnectorConfig.model_validate(connectors or {}) \
        if not isinstance(connectors, _conn.ConnectorConfig) else connectors
    dx, dy = (np.asarray(a, dtype=np.float64) for a in destinations)
    ox, oy = (np.asarray(a, dtype=np.float64) for a in origins)
    shared, _, _ = _connector_search(graph, (ox, oy), (dx, dy, np.ones(dx.shape[0])), cfg,
                                     land, measure_list([max_time_min], []), max_time_min)
    _, _, od, _ = search(shared, od=True)
    t = od.astype(np.float64)
    t[od >= np.iinfo(np.int32).max] = np.inf
    return t


def histogram(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    opportunity: str = "jobs",
    max_time_min: float = 45,
    mode: str | None = None,
    snapping: SnapOptions | dict[str, Any] | None = None,
    scheduler: Any = None,
) -> pd.DataFrame:
    """Opportunities per 1-minute travel-time bin for every zone.

    Column ``b`` (int, minutes) holds opportunities with ``ceil(t) == b`` (``t`` in
    minutes; column 0 is ``t = 0``), up to ``ceil(max_time_min)``; the cumulative count
    within T whole minutes is ``df.loc[:, :T].sum(axis=1)``. Index: ``zone_id``; rows of
    unsnapped zones are NaN (listed in ``attrs["unsnapped"]``). ``snapping`` as
    :func:`network_access`; ``scheduler`` runs the origins in batches on Dask
    (:mod:`ruimtekit.engine.batches`).
    """
    mode = mode or graph.mode
    sn = as_snap(snapping)
    measures = [Decay("cumulative", cutoff=float(max_time_min))]
    p = _prepare(graph, zones, destinations, opportunity, measures, mode, sn.max_snap_m,
                 sn.access_speed_kmh, float(max_time_min))
    if scheduler is None:
        _, hist, _, _ = search(p.shared, histogram=True)
    else:

        hist = _search.network_histograms(p.shared, scheduler,
                                              label=f"{mode} travel-time histogram")
    full = hist.copy()
    full[p.zsnap.node < 0] = np.nan
    df = pd.DataFrame(full, index=pd.Index(p.ids, name="zone_id"),
                      columns=np.arange(hist.shape[1]))
    df.attrs.update({"unsnapped": p.unsnapped, "mode": mode, "opportunity": opportunity})
    return df


def od_matrix(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    max_time_min: float = defaults.CUTOFF_MIN,
    mode: str | None = None,
    max_snap_m: float = defaults.MAX_SNAP_M,
    access_speed_kmh: float | None = None,
    scheduler: Any = None,
    destinations: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Zone-to-zone (or zone-to-destination) travel times over a network (long format,
    reachable pairs only).

    Intended for modest zone counts (the dense origin × destination block is held in
    memory as int32: 4 bytes per pair); :class:`ruimtekit.api.TravelTimeMatrix` gives
    every pair (unreachable NaN) in bounded memory. ``scheduler`` runs the origins in
    batches on Dask (:mod:`ruimtekit.engine.batches`). ``destinations`` (points or polygons
    with ``zone_id``) default to the zones.

    Returns
    -------
    DataFrame
        ``origin``, ``destination`` (ids, str), ``time_s`` (int32 seconds, access and
        egress legs included), for pairs within ``max_time_min``.
    """
    mode = mode or graph.mode
    measures = [Decay("cumulative", cutoff=float(max_time_min))]
    zz = zones.copy()
    zz["_one"] = 1.0
    dd = None
    if destinations is not None:
        dd = destinations.copy()
        dd["_one"] = 1.0
    p = _prepare(graph, zz, dd, "_one", measures, mode, max_snap_m, access_speed_kmh,
                 float(max_time_min))
    if scheduler is None:
        _, _, od, _ = search(p.shared, od=True)
    else:

        od = _search.network_od(p.shared, scheduler, label=f"{mode} travel-time matrix")
    oi, dj = np.nonzero(od != _kernels.INF32)
    did = p.ids if dd is None else zone_ids(dd)
    df = pd.DataFrame({"origin": p.ids[oi], "destination": did[dj],
                       "time_s": od[oi, dj].astype(np.int32)})
    df.attrs.update({"unsnapped": p.unsnapped, "mode": mode, "max_time_min": max_time_min})
    return df


def od_search_inputs(
    graph: _graph.Graph,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    max_time_min: float = defaults.CUTOFF_MIN,
    max_snap_m: float = defaults.MAX_SNAP_M,
    access_speed_kmh: float | None = None,
) -> SearchInputs:
    """Search inputs for a travel-time matrix from ``origins`` to ``destinations``.

    Run them with ``search(inputs, rows, od=True)[2]`` per block of origin rows (int32
    seconds, ``_kernels.INF32`` = unreachable within ``max_time_min`` or not on the
    network); :class:`ruimtekit.api.TravelTimeMatrix` does this in bounded memory.

    Parameters
    ----------
    graph : Graph
    origins : GeoDataFrame
        Points or polygons with ``zone_id`` (``pop_x``/``pop_y`` or the centroid is routed).
    destinations : GeoDataFrame, optional
        Points or polygons with ``zone_id``; default the origins.
    max_time_min : float
        Search horizon (minutes).
    max_snap_m, access_speed_kmh
        As :func:`network_access` (points are linked onto street edges, else snapped).
    """
    o = origins.copy()
    o["points"] = 1.0
    d = None
    if destinations is not None:
        d = destinations.copy()
        d["points"] = 1.0
    measures = [Decay("cumulative", cutoff=float(max_time_min))]
    p = _prepare(graph, o, d, "points", measures, graph.mode, max_snap_m, access_speed_kmh,
                 float(max_time_min))
    return p.shared


def write_od_matrix(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a long travel-time matrix to Parquet atomically."""
    path = Path(path)
    with _io.atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def _own_index(n_orig: int, same: bool) -> np.ndarray:
    return np.arange(n_orig, dtype=np.int64) if same else np.full(n_orig, -1, dtype=np.int64)


def intrazonal_distance_m(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Mean distance to the centre of a disc with the zone's area: ``(2/3) sqrt(A / pi)``
    metres (area from the geometry, or ``area_ha`` when the geometry is a point)."""
    area = zones.geometry.area.to_numpy(dtype=np.float64)
    if "area_ha" in zones.columns:
        ha = pd.to_numeric(zones["area_ha"], errors="coerce").to_numpy(dtype=np.float64) * 1e4
        area = np.where((area <= 0) & np.isfinite(ha), ha, area)
    return (2.0 / 3.0) * np.sqrt(area / np.pi)


def crowfly_access(
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    opportunity: str = "jobs",
    measures: MeasureSpec | dict[str, Any] | None = None,
    mode: str = "car",
    model: impedance.CrowflyModel | None = None,
    intrazonal: bool = True,
    scheduler: Any = None,
) -> gpd.GeoDataFrame:
    """Accessibility with the crow-fly impedance model (no network, no matrix in memory).

    Travel times are :func:`ruimtekit.engine.impedance.crowfly_seconds` rounded to whole seconds.
    When the destinations are the zones themselves and ``intrazonal`` is true, a zone's own
    opportunities are at the intrazonal distance :func:`intrazonal_distance_m` (for
    polygon zones) instead of 0 m, and so is any other zone closer than that (the
    own-zone rule of :mod:`ruimtekit.analysis._ownzone`, counted in a warning). Scales to national PC4 × PC4 (4,068²) in about a second.
    ``scheduler`` (``local:N``, a Dask address or client) runs the origins in batches on
    Dask (:mod:`ruimtekit.engine.batches`) with identical results. ``measures`` (cutoffs,
    decays, horizon) as :func:`network_access`; ``model`` defaults to the fitted model
    of ``mode`` (:func:`ruimtekit.engine.impedance.model_for`).

    Returns
    -------
    GeoDataFrame
        ``zone_id`` and measure columns as :func:`network_access` (no snapping columns);
        ``attrs``: ``horizon_min``, ``mode``, ``model``.
    """
    model = impedance.model_for(model if model is not None else mode)
    spec = as_measures(measures)
    measures = spec.measure_list()
    h = spec.horizon()
    ids = zone_ids(zones)
    zx, zy = zone_points(zones)
    dx, dy, dw, same = destination_points(zones, destinations, opportunity)
    # zones without a location get NaN (reported); destinations without one are left out
    zok = np.isfinite(zx) & np.isfinite(zy)
    dok = np.isfinite(dx) & np.isfinite(dy)
    lost = float(dw[~dok].sum())
    zx, zy = np.where(zok, zx, 0.0), np.where(zok, zy, 0.0)
    dx, dy, dw = np.where(dok, dx, 0.0), np.where(dok, dy, 0.0), np.where(dok, dw, 0.0)
    unlocated = [str(i) for i in ids[~zok]]
    if unlocated:
        log.warning("%d zone(s) have no geometry or population point and get no value: %s",
                    len(unlocated), ", ".join(unlocated[:20]))
    if (~dok).any():
        log.warning("%d destination(s) without a location are left out (%g %s)",
                    int((~dok).sum()), lost, opportunity)
    max_t = int(math.floor(60.0 * h + 1e-9))
    wtab = weight_table(measures, max_t)
    own = _own_index(len(zx), same and intrazonal)
    own_d = intrazonal_distance_m(zones) if (same and intrazonal) else np.zeros(len(zx))
    if same and not intrazonal:
        own = np.arange(len(zx), dtype=np.int64)
    if same and intrazonal:
        _ownzone.warn_below(_ownzone.count_below(zx, zy, own_d, dx, dy, own),
                            f"{mode} crow-fly access")
    out = np.zeros((len(zx), len(measures)))
    hist = np.zeros((1, 1))
    curve_m, curve_ms = model.curve_arrays()
    if scheduler is not None:

        out = _search.crowfly_measures(_search.CrowflyInputs(
            zx, zy, own, own_d, dx, dy, dw, float(model.detour_factor), curve_m, curve_ms,
            60.0 * model.fixed_min, wtab, max_t), scheduler, label=f"{mode} crow-fly")
    else:
        _kernels.crowfly_batch(
            zx, zy, own, own_d, dx, dy, dw, float(model.detour_factor), curve_m, curve_ms,
            60.0 * model.fixed_min, wtab, np.int64(max_t), False, out, hist,
        )
    out[~zok] = np.nan
    values = {f"{opportunity}_{m.label}_{mode}": out[:, k] for k, m in enumerate(measures)}
    return _result_frame(zones, values, {
        "horizon_min": h, "mode": mode, "model": model.model_dump(), "unsnapped": unlocated,
        "unlocated_destination_opportunities": lost,
        "measures": [m.label for m in measures],
    })


def _check_skim_covers(t: np.ndarray, measures: list[Decay], skim: pd.DataFrame) -> None:
    """A skim that leaves pairs out (truncated at its longest time) cannot answer cutoffs
    beyond that time: those measures would silently equal the one at the longest time."""
    finite = np.isfinite(t)
    if finite.all() or not finite.any():
        return
    longest = float(t[finite].max()) / 60.0
    cut = [m.params.get("cutoff") for m in measures if m.kind == "cumulative"]
    beyond = sorted(float(c) for c in cut if c is not None and float(c) > longest + 1e-9)
    if beyond:
        raise InputError(skim.attrs.get("source"), f"cutoff(s) {beyond} minutes are beyond the "
                         f"longest travel time in the skim ({longest:g} min), which leaves "
                         f"{int((~finite).sum()):,} zone pairs out",
                         f"use cutoffs up to {longest:g} minutes, or a skim that covers longer "
                         "trips (or lists every pair)")


def skim_access(
    skim: pd.DataFrame | str | Path,
    zones: gpd.GeoDataFrame,
    opportunity: str = "jobs",
    cutoffs: Iterable[float] = (defaults.CUTOFF_MIN,),
    decays: Iterable[Decay | dict] = (),
    mode: str = "skim",
    horizon_min: float | None = None,
    intrazonal_min: float | None = 0.0,
    **read_kwargs: Any,
) -> gpd.GeoDataFrame:
    """Accessibility from an external zone-to-zone skim.

    Parameters
    ----------
    skim : DataFrame or path
        Output of :func:`ruimtekit.engine.impedance.read_skim` (``origin``, ``destination``,
        ``time_s``) or a path to read with it (``read_kwargs`` are passed on).
    zones : GeoDataFrame
        Zones with ``zone_id`` and the ``opportunity`` column (opportunities per zone).
    intrazonal_min : float or None
        Travel time (minutes) used for a zone to itself when the skim has no such pair
        (default 0: own opportunities count); None leaves missing intrazonal pairs
        unreachable. The number of filled pairs is logged.

    Returns
    -------
    GeoDataFrame
        ``zone_id`` and measure columns; pairs absent from the skim are unreachable.
    """
    ids = zone_ids(zones)
    if not isinstance(skim, pd.DataFrame):
        skim = impedance.read_skim(skim, zone_ids=ids, **read_kwargs)
    else:
        unknown = sorted((set(skim["origin"].astype(str)) | set(skim["destination"].astype(str)))
                         - set(ids))
        if unknown:
            raise InputError(None, f"{len(unknown)} skim zone id(s) are not in the zones layer "
                             f"(e.g. {unknown[:5]})", "use a skim on the same zoning")
    w = opportunity_weights(zones, opportunity, "zones")
    pos = pd.Series(np.arange(len(ids)), index=ids)
    oi = pos.loc[skim["origin"].astype(str)].to_numpy()
    dj = pos.loc[skim["destination"].astype(str)].to_numpy()
    t = np.full((len(ids), len(ids)), np.inf)
    t[oi, dj] = skim["time_s"].to_numpy(dtype=np.float64)
    if intrazonal_min is not None:
        diag = np.diagonal(t).copy()
        fill = ~np.isfinite(diag)
        if fill.any():
            log.info("skim has no intrazonal time for %d zones; using %g min",
                     int(fill.sum()), intrazonal_min)
            idx = np.flatnonzero(fill)
            t[idx, idx] = 60.0 * intrazonal_min
    measures = measure_list(cutoffs, decays)
    _check_skim_covers(t, measures, skim)
    h = default_horizon_min(measures) if horizon_min is None else float(horizon_min)
    vals = aggregate_times(t, w, [], measures, horizon_min=h)
    values = {f"{opportunity}_{k}_{mode}": v for k, v in vals.items()}
    return _result_frame(zones, values, {"horizon_min": h, "mode": mode, "unsnapped": [],
                                         "measures": list(vals)})


# --------------------------------------------------------------------------------------
# effective density and 2SFCA
# --------------------------------------------------------------------------------------
def effective_density(
    zones: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    opportunity: str = "jobs",
    alpha: float = 1.0,
    graph: _graph.Graph | None = None,
    max_snap_m: float = defaults.MAX_SNAP_M,
    max_distance_km: float = defaults.EFFECTIVE_DENSITY_MAX_KM,
) -> gpd.GeoDataFrame:
    """Effective density (Graham 2007): ``ED_i = sum_j E_j / d_ij^alpha``.

    ``d_ij`` is in **kilometres**, so ED is in opportunities per km^alpha. Without a
    graph, d is the straight-line distance between zone points; with a graph whose edges
    carry ``length_m``, d is the shortest network length (snap legs included, metres
    rounded per edge) and pairs beyond ``max_distance_km`` are left out. A zone's own
    opportunities (destinations = zones) are at ``d_ii = (2/3) sqrt(area / pi)``
    (:func:`intrazonal_distance_m`); any other destination closer than ``d_ii`` also
    counts at ``d_ii`` (the own-zone rule, :mod:`ruimtekit.analysis._ownzone`; such pairs are
    counted in a warning).

    Returns
    -------
    GeoDataFrame
        ``zone_id`` and ``{opportunity}_ed{alpha}`` (plus ``_net`` for network distance).
    """
    if not alpha > 0:
        raise InputError(None, f"alpha={alpha!r} must be > 0", "use 1.0 to 1.8")
    ids = zone_ids(zones)
    zx, zy = zone_points(zones)
    dx, dy, dw, same = destination_points(zones, destinations, opportunity)
    own_d = intrazonal_distance_m(zones)
    if np.any(own_d <= 0):
        raise InputError(None, f"{int((own_d <= 0).sum())} zone(s) have no area for the "
                         "intrazonal distance", "use polygon zones or give area_ha")
    own = _own_index(len(zx), same)
    if graph is None:
        _ownzone.warn_below(_ownzone.count_below(zx, zy, own_d, dx, dy, own),
                            "effective density")
        ed = _kernels.effective_density_crowfly(zx, zy, own, own_d, dx, dy, dw, float(alpha))
        col = f"{opportunity}_ed{format_number(alpha)}"
        return _result_frame(zones, {col: ed}, {"alpha": alpha, "distance": "crowfly_km"})
    if graph.length_m is None:
        raise InputError(None, "the graph has no edge lengths (length_m)",
                         "build it with length_m, or use crow-fly distance (graph=None)")
    lg = _graph.Graph(
        indptr=graph.indptr, indices=graph.indices,
        weights=np.rint(graph.length_m).astype(np.int32), x=graph.x, y=graph.y,
        node_ids=graph.node_ids, mode=graph.mode,
    )
    zs = snap(lg, zx, zy, max_snap_m)
    ds = snap(lg, dx, dy, max_snap_m)
    ok = zs.node >= 0
    src_ptr = np.concatenate([[0], np.cumsum(ok.astype(np.int64))])
    max_t = int(max_distance_km * 1000)
    shared = build_search_inputs(lg, (src_ptr, zs.node[ok], zs.distance_m[ok]),
                                 (ds.node, ds.distance_m, dw),
                                 [Decay("cumulative", cutoff=max_t / 60)], max_t / 60)
    _, _, od, _ = search(shared, od=True)
    d_km = np.where(od == _kernels.INF32, np.inf, od.astype(np.float64)) / 1000.0
    own_km = own_d / 1000.0
    if same:
        np.fill_diagonal(d_km, own_km)
    d_km, _ = _ownzone.floor_matrix(d_km, own_km, "effective density (network)",
                                    count_diagonal=not same)
    with np.errstate(divide="ignore"):
        contrib = np.where(np.isfinite(d_km), dw[None, :] / d_km ** alpha, 0.0)
    ed = contrib.sum(axis=1)
    ed[~ok] = np.nan
    unsnapped = [str(i) for i in ids[~ok]]
    col = f"{opportunity}_ed{format_number(alpha)}_net"
    return _result_frame(zones, {col: ed, "snap_distance_m": zs.distance_m},
                         {"alpha": alpha, "distance": "network_km", "unsnapped": unsnapped})


def two_step_fca_times(
    times_s: np.ndarray,
    population: np.ndarray,
    supply: np.ndarray,
    decay: Decay | dict,
) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA from a dense zone × facility travel-time block.

    ``R_j = S_j / sum_k P_k f(t_kj)`` and ``A_i = sum_j R_j f(t_ij)``; a facility no
    population reaches gets ``R_j = 0`` (its supply serves nobody).

    Parameters
    ----------
    times_s : ndarray (n_zones, n_facilities)
        Travel times in seconds from zones to facilities (``inf`` unreachable).
    population : ndarray (n_zones,)
    supply : ndarray (n_facilities,)
    decay : Decay
        Catchment weight ``f`` (e.g. cumulative 30 min).

    Returns
    -------
    access : ndarray (n_zones,)
        ``A_i`` (supply per person).
    ratio : ndarray (n_facilities,)
        ``R_j``.
    """
    f = as_decay(decay).weight_seconds(np.where(np.isnan(times_s), np.inf, times_s))
    demand = np.asarray(population, dtype=np.float64) @ f
    s = np.asarray(supply, dtype=np.float64)
    ratio = np.divide(s, demand, out=np.zeros_like(s), where=demand > 0)
    return f @ ratio, ratio


def two_step_fca(
    graph: _graph.Graph,
    zones: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    supply: str,
    population: str = "population",
    decay: Decay | dict | None = None,
    mode: str | None = None,
    snapping: SnapOptions | dict[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """2SFCA over a network, in two passes of the compiled search.

    Pass 1 searches the **reversed** graph from every facility (egress leg as its offset)
    and sums ``P_k f(t_kj)`` over zones (access legs as egress), giving the demand of
    each facility; pass 2 searches forward from every zone with weights ``R_j``. Zones and
    facilities snap to the nearest node (``snapping`` as :func:`network_access`); ``decay``
    defaults to cumulative 30 minutes.

    Returns
    -------
    GeoDataFrame
        ``zone_id``, ``{supply}_2sfca_{decay.label}_{mode}`` (supply per person),
        ``snap_distance_m``; ``attrs["facility_ratio"]`` holds ``R_j`` per facility
        (NaN for unsnapped facilities) and ``attrs["unserved_facilities"]`` the count of
        snapped facilities no population reaches.
    """
    mode = mode or graph.mode
    dec = as_decay(decay if decay is not None else Decay("cumulative", cutoff=30))
    h = default_horizon_min([dec])
    ids = zone_ids(zones)
    zx, zy = zone_points(zones)
    pop = opportunity_weights(zones, population, "zones")
    fx, fy, s, _ = destination_points(zones, facilities, supply)
    sn = as_snap(snapping)
    v = leg_speed_kmh(mode, sn.access_speed_kmh) / 3.6
    zs = snap(graph, zx, zy, sn.max_snap_m)
    fs = snap(graph, fx, fy, sn.max_snap_m)
    zok, fok = zs.node >= 0, fs.node >= 0
    # pass 1: facilities → zones on the reversed graph
    rg = graph.reverse()
    ptr = np.concatenate([[0], np.cumsum(fok.astype(np.int64))])
    sh1 = build_search_inputs(rg, (ptr, fs.node[fok], fs.distance_m[fok] / v),
                              (np.where(zok, zs.node, -1), zs.distance_m / v, pop), [dec], h)
    demand, _, _, _ = search(sh1)
    dem = demand[:, 0]
    ratio = np.divide(s, dem, out=np.zeros_like(dem), where=dem > 0)
    ratio[~fok] = np.nan
    unserved = int((fok & (dem <= 0)).sum())
    # pass 2: zones → facilities with weights R_j
    ptr2 = np.concatenate([[0], np.cumsum(zok.astype(np.int64))])
    sh2 = build_search_inputs(graph, (ptr2, zs.node[zok], zs.distance_m[zok] / v),
                              (np.where(fok, fs.node, -1), fs.distance_m / v,
                               np.nan_to_num(ratio)), [dec], h)
    acc, _, _, _ = search(sh2)
    col = acc[:, 0].copy()
    col[~zok] = np.nan
    unsnapped = [str(i) for i in ids[~zok]]
    return _result_frame(
        zones, {f"{supply}_2sfca_{dec.label}_{mode}": col, "snap_distance_m": zs.distance_m},
        {"facility_ratio": ratio, "unserved_facilities": unserved, "unsnapped": unsnapped,
         "unsnapped_facilities": int((~fok).sum()), "mode": mode},
    )


# --------------------------------------------------------------------------------------
# study-file section and pipeline step
# --------------------------------------------------------------------------------------
class OpportunitiesConfig(_config.Section):
    """Where the opportunities come from.

    Attributes
    ----------
    layer : str, optional
        Layer name holding the opportunities (points or zones); default: the zones layer.
    column : str
        Opportunity column (``jobs``, ``establishments_proxy``, ...).
    """

    layer: str | None = None
    column: str = "jobs"


class SkimColumns(_config.Section):
    """Column names and time unit of a skim file."""

    origin: str = "origin"
    destination: str = "destination"
    time: str = "time"
    unit: str = "min"


class AccessibilityConfig(_config.Section):
    """One accessibility block of a study.

    Attributes
    ----------
    name : str
        Result layer ``access_<name>``.
    zones : str
        Zones layer name (origins).
    opportunities : OpportunitiesConfig
        Opportunity layer and column.
    modes : list of str
        Modes (``walk``, ``bike``, ``e_bike``, ``car``, ...); column suffixes.
    impedance : str or dict of str to str
        ``crowfly``, a network name from the study's ``networks``, or a skim file path
        (long CSV/Parquet/OMX); a mapping gives one per mode (``{car: roads, bike: crowfly}``).
    crowfly : dict of str to CrowflyModel
        Per-mode overrides of the crow-fly model defaults.
    skim_columns : SkimColumns
        Column names and unit of skim files.
    cutoffs : list of float
        Cumulative cutoffs in minutes.
    decays : list of DecayConfig
        Gravity decays.
    max_snap_m : float
        Maximum zone/destination snapping distance (metres).
    access_speed_kmh : float, optional
        Speed of the access legs (default: the profile's access speed on OSM/GraphML street
        graphs, which link onto edges; per mode, walking for car, on other graphs).
    horizon_min : float, optional
        Search horizon for gravity decays (minutes).
    connectors : ConnectorConfig, optional
        Network impedance through zone connectors (k nearest eligible nodes, connector
        speed and detour, flagged far zones; :mod:`ruimtekit.network.connectors`) instead of
        snapping each zone to its nearest node. Adds ``connector_m`` and
        ``connector_flag``.
    matrix : bool
        Also export zone-to-zone travel times (network impedance; long format: origin,
        destination, time_s) as ``access_<name>_<mode>_matrix.parquet`` in the run's
        work folder (``ctx.work_dir``), or as a table (CSV) when the run has none.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    zones: str
    opportunities: OpportunitiesConfig = Field(default_factory=OpportunitiesConfig)
    modes: list[str] = Field(min_length=1)
    impedance: str | dict[str, str] = "crowfly"
    crowfly: dict[str, _CrowflyModel] = Field(default_factory=dict)
    skim_columns: SkimColumns = Field(default_factory=SkimColumns)
    cutoffs: list[float] = Field(default_factory=lambda: [defaults.CUTOFF_MIN])
    decays: list[DecayConfig] = Field(default_factory=list)
    max_snap_m: float = Field(defaults.MAX_SNAP_M, gt=0)
    access_speed_kmh: float | None = Field(None, gt=0)
    horizon_min: float | None = Field(None, gt=0)
    matrix: bool = False
    connectors: _ConnectorConfig | None = None

    @field_validator("cutoffs")
    @classmethod
    def _cutoffs_ok(cls, v: list[float]) -> list[float]:
        if any(not (c > 0 and math.isfinite(c)) for c in v):
            raise ValueError("cutoffs must be positive numbers of minutes")
        if any(c > MAX_CUTOFF_MIN for c in v):
            raise ValueError(f"cutoffs beyond the maximum travel time of {MAX_CUTOFF_MIN:g} "
                             "minutes (a day): give cutoffs in minutes, not seconds")
        return v

    def measures(self) -> MeasureSpec:
        """The block's cutoffs, decays and horizon as a :class:`MeasureSpec`."""
        return MeasureSpec(cutoffs=self.cutoffs, decays=self.decays,
                           horizon_min=self.horizon_min)

    def snapping(self) -> SnapOptions:
        """The block's ``max_snap_m`` and ``access_speed_kmh`` as :class:`SnapOptions`."""
        return SnapOptions(max_snap_m=self.max_snap_m, access_speed_kmh=self.access_speed_kmh)

    def impedance_for(self, mode: str) -> str:
        """The impedance source (``crowfly``, network name or skim path) for a mode."""
        if isinstance(self.impedance, str):
            return self.impedance
        if mode not in self.impedance:
            raise InputError(None, f"accessibility block {self.name!r} gives no impedance "
                             f"for mode {mode!r}", f"add {mode}: crowfly (or a network name)")
        return self.impedance[mode]


def run_block(ctx: Any, cfg: AccessibilityConfig) -> gpd.GeoDataFrame:
    """Compute one accessibility block (all modes) and return the joined result layer."""
    if cfg.zones not in ctx.layers:
        raise InputError(None, f"accessibility block {cfg.name!r} names zones layer "
                         f"{cfg.zones!r}, which the study does not define",
                         f"use one of {sorted(ctx.layers)}")
    zones = ctx.layers[cfg.zones]
    dest = None
    if cfg.opportunities.layer is not None and cfg.opportunities.layer != cfg.zones:
        if cfg.opportunities.layer not in ctx.layers:
            raise InputError(None, f"opportunity layer {cfg.opportunities.layer!r} is not "
                             "defined", f"use one of {sorted(ctx.layers)}")
        dest = ctx.layers[cfg.opportunities.layer]
    opp = cfg.opportunities.column
    result: gpd.GeoDataFrame | None = None
    unsnapped: dict[str, list[str]] = {}
    for mode in cfg.modes:
        imp = cfg.impedance_for(mode)
        spec = cfg.measures()
        if imp == "crowfly":
            model = cfg.crowfly.get(mode)
            r = crowfly_access(zones, dest, opp, spec, mode=mode, model=model,
                               scheduler=getattr(ctx, "dask_client", None))
            ctx.note(f"accessibility {cfg.name} ({mode}): crow-fly impedance model "
                     "(straight-line distance × detour factor at a distance-dependent speed)")
        elif imp in ctx.networks:
            g = ctx.networks[imp]
            if cfg.connectors is not None:
                r = connector_access(g, zones, dest, opp, [*cfg.cutoffs, *cfg.decays], mode,
                                     cfg.connectors, cfg.horizon_min)
                if r.attrs["flagged"]:
                    ctx.note(f"accessibility {cfg.name} ({mode}): {len(r.attrs['flagged'])} "
                             "zone(s) flagged in connector_flag (far from the network, or "
                             "on land without a usable network node)")
            else:
                r = network_access(g, zones, dest, opp, spec, mode=mode,
                                   snapping=cfg.snapping(),
                                   scheduler=getattr(ctx, "dask_client", None))
            unsnapped[mode] = r.attrs["unsnapped"]
            if cfg.matrix:
                _export_matrix(ctx, cfg, g, zones, mode)
        else:
            path = ctx.resolve(imp)
            if not path.exists():
                raise InputError(path, f"accessibility block {cfg.name!r}: impedance {imp!r} "
                                 "is neither 'crowfly', a network name nor an existing skim "
                                 "file", f"use crowfly, one of {sorted(ctx.networks)} or a path")
            sc = cfg.skim_columns
            if dest is not None:
                raise InputError(path, "skim impedance needs opportunities on the zones layer",
                                 "aggregate the opportunities to zones first")
            r = skim_access(path, zones, opportunity=opp, cutoffs=cfg.cutoffs,
                            decays=cfg.decays, mode=mode, horizon_min=cfg.horizon_min,
                            origin_col=sc.origin, dest_col=sc.destination, time_col=sc.time,
                            unit=sc.unit)
        unsnapped[mode] = list(r.attrs.get("unsnapped", []))
        meas = [c for c in r.columns if c not in ("zone_id", "geometry")]
        if result is None:
            result = r[["zone_id", *meas, "geometry"]].copy()
            if "snap_distance_m" in meas:
                result = result.rename(columns={"snap_distance_m": f"snap_distance_m_{mode}"})
        else:
            for c in meas:
                result[c if c != "snap_distance_m" else f"snap_distance_m_{mode}"] = r[c].to_numpy()
    assert result is not None
    if cfg.connectors is not None and "population" in zones.columns \
            and "population" not in result.columns:
        # national maps: keep the weights of population-weighted means beside the measures
        result.insert(1, "population", zones["population"].to_numpy())
    # keep the canonical name for single-network blocks
    snaps = [c for c in result.columns if c.startswith("snap_distance_m_")]
    if len(snaps) == 1:
        result = result.rename(columns={snaps[0]: "snap_distance_m"})
    result.attrs["unsnapped"] = sorted({z for ids in unsnapped.values() for z in ids})
    result.attrs["unsnapped_by_mode"] = unsnapped
    return result


def _export_matrix(ctx: Any, cfg: AccessibilityConfig, g: _graph.Graph,
                   zones: gpd.GeoDataFrame, mode: str) -> None:
    h = cfg.horizon_min or max(cfg.cutoffs)
    df = od_matrix(g, zones, max_time_min=h, mode=mode, max_snap_m=cfg.max_snap_m,
                   access_speed_kmh=cfg.access_speed_kmh,
                   scheduler=getattr(ctx, "dask_client", None))
    name = f"access_{cfg.name}_{mode}_matrix"
    if getattr(ctx, "work_dir", None) is not None:
        # the run's (temporary) output folder: swapped in atomically with the other outputs
        write_od_matrix(df, Path(ctx.work_dir) / f"{name}.parquet")
    else:
        ctx.tables[name] = df  # written beside the GeoPackage by the pipeline (CSV)


def pipeline_step(ctx: Any) -> None:
    """Run every accessibility block of the study.

    Reads ``ctx.study.accessibility`` (list of :class:`AccessibilityConfig`),
    ``ctx.layers`` (zones, opportunities) and ``ctx.networks`` (graphs by name); adds
    ``ctx.results["access_<name>"]`` (one row per zone, measure columns per mode) and
    notes for crow-fly impedance and unsnapped zones.
    """
    blocks = getattr(ctx.study, "accessibility", None) or []
    for cfg in blocks:
        res = run_block(ctx, cfg)
        ctx.results[f"access_{cfg.name}"] = res
        if res.attrs.get("unsnapped"):
            ctx.note(f"accessibility {cfg.name}: {len(res.attrs['unsnapped'])} zone(s) have no "
                     "value (no geometry, or farther than max_snap_m from the network): "
                     + ", ".join(res.attrs["unsnapped"][:10]))


# --------------------------------------------------------------------------------------
# CLI helper
# --------------------------------------------------------------------------------------
SKIM_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq", ".omx")
