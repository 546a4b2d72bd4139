"""Zone accessibility and travel-time matrices by public transport.

Builds a transit network of any kind — a GTFS timetable, a stop-level transit graph or
NS rail (:func:`build_transit_network`) — routes zones to destinations over it with the
engine (:mod:`ruimtekit.engine.transit`, :mod:`ruimtekit.engine.rail`) and returns the
measures of :mod:`ruimtekit.engine.measures` (:func:`zone_accessibility`) or an OD matrix
(:func:`od_matrix`). The travel time of a pair is min(direct walk/bike trip, access +
transit + egress). Also the study-file block (:class:`TransitConfig`) and its pipeline
step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, field_validator

from ruimtekit import _validate, defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.analysis import accessibility
from ruimtekit.engine import rail, transit
from ruimtekit.engine.measures import MeasureSpec, as_decay, as_measures, measure_list
from ruimtekit.engine.transit import (
    MAX_TIME_MIN,
    MISSING_OPPORTUNITY_SHARE,
    MODE_LABEL,
    DirectTrip,
    Legs,
    TransitNetwork,
    TransitParams,
    as_params,
    build_network,
    graph_stop_times,
    iter_raptor_blocks,
    iter_stop_matrix_blocks,
    network_legs,
    parse_clock,
    read_transit_graph_gml,
    street_transfers,
    zone_legs,
    zone_measures_from_blocks,
)
from ruimtekit.io import gtfs, layers
from ruimtekit.io.places import zone_points
from ruimtekit.network import graph as _graph

log = logging.getLogger(__name__)


class FeedEntry(Section):
    """One GTFS feed of a multi-feed network (``feeds:`` list item).

    Attributes
    ----------
    path : str
        GTFS zip or folder (relative to the study root).
    name : str, optional
        Id prefix (default: the file name without ``.zip``).
    """

    path: str
    name: str | None = None


class TransitComparison(Section):
    """Compare a transit measure with another mode's measure (``compare:`` of a block).

    The ratio of population-weighted means ``Σ w·A_transit / Σ w·A_other`` over the
    zones with both values is logged, noted on the maps and kept in the result's attrs.

    Attributes
    ----------
    layer : str
        Result layer holding the other measure (e.g. ``access_nl_pc4``), matched by
        ``zone_id``.
    column : str
        Its column (e.g. ``jobs_45min_car``).
    measure : str
        The transit column (e.g. ``jobs_45min_bike_transit``).
    weight : str
        Zones column weighting the means (``population``; equal weights when absent).
    reference : str, optional
        A published figure to print beside the ratio.
    """

    layer: str
    column: str
    measure: str
    weight: str = "population"
    reference: str | None = None


def compare_measures(result: pd.DataFrame, other: pd.DataFrame, cmp: TransitComparison,
                     weights: np.ndarray | None = None) -> dict[str, Any]:
    """Ratio of weighted means of ``result[cmp.measure]`` and ``other[cmp.column]``.

    Returns
    -------
    dict with ``ratio``, ``mean_transit``, ``mean_other``, ``n_zones``, ``share_zones_
    transit_ge_other`` (share of zones where transit reaches at least as much).
    """
    for frame, col, what in ((result, cmp.measure, "transit result"),
                             (other, cmp.column, f"layer {cmp.layer!r}")):
        if col not in frame.columns:
            raise InputError(None, f"{what} has no column {col!r}",
                             f"choose one of {[c for c in frame.columns if c != 'geometry']}")
    o = other.set_index(other["zone_id"].astype(str))[cmp.column]
    b = o.reindex(result["zone_id"].astype(str)).to_numpy(dtype=np.float64)
    a = result[cmp.measure].to_numpy(dtype=np.float64)
    w = np.ones(len(a)) if weights is None else np.nan_to_num(np.asarray(weights, float))
    ok = np.isfinite(a) & np.isfinite(b)
    ma = float(np.sum(w[ok] * a[ok]) / np.sum(w[ok]))
    mb = float(np.sum(w[ok] * b[ok]) / np.sum(w[ok]))
    return {"ratio": ma / mb if mb > 0 else float("nan"), "mean_transit": ma,
            "mean_other": mb, "n_zones": int(ok.sum()),
            "share_zones_transit_ge_other": float(np.mean(a[ok] >= b[ok]))}


class TransitConfig(TransitParams):
    """A transit accessibility block of the study file (``transit:`` list item).

    Every routing parameter of :class:`TransitParams` (speeds, leg limits, rides, slacks,
    window, percentiles) is a field of the block too, with the same defaults.

    Attributes
    ----------
    name : str
        Result layer ``transit_<name>``.
    zones : str
        Zones layer name (origins; also the destinations unless ``opportunities`` is a
        point layer).
    opportunities : str
        Layer holding the opportunities (default: the zones layer). A layer sharing
        ``zone_id`` with the zones is summed per zone; a point layer without shared ids
        gives the destinations themselves (as the road accessibility blocks do).
    opportunity_column : str
        Column of opportunities (``jobs``, ``establishments_proxy``, ...).
    network : str
        Network name: built into ``ctx.networks[network]`` from the study's
        ``networks:`` entry or from ``path`` below.
    kind : {'gtfs', 'transit_graph', 'ns_rail'}, optional
        Defaults to the kind of the study's network entry (or detection from the path).
    path : str or list of str, optional
        GTFS zip/folder, GML file, or NS rail folder (when the network is not defined in
        the study's ``networks:`` section); a list of GTFS paths is merged into one
        network (ids ``<file name>:<id>``).
    feeds : list of {path, name}, optional
        Several GTFS feeds with explicit names (the id prefixes), instead of ``path``.
    date : str, optional
        Service date ``YYYY-MM-DD`` (GTFS only).
    transfer_network : str, optional
        Walk network (a name under ``networks:``) for transfers between stops over the
        streets, up to ``transfer_radius_m`` walked (:func:`street_transfers`, as R5);
        default: straight lines within ``transfer_radius_m``.
    max_transfers : int, optional
        Shorthand for ``max_rides - 1``.
    access_modes : list of {'walk', 'bike'}
        ``walk`` → columns ``*_transit``; ``bike`` → ``*_bike_transit``.
    access_radius_m : dict, optional
        Legacy straight-line access radius per mode (m), converted to ``max_access_min``.
    cutoffs : list of float
        Cumulative time budgets (minutes; [30, 45, 60]).
    decays : list of dict
        ``Decay`` parameters, e.g. ``{kind: exponential, beta: 0.05}``.
    headways_min : dict, optional
        Headway per GTFS route type for ``transit_graph`` (minutes).
    access_networks : dict, optional
        Street network (a name under ``networks:``) per access mode, e.g.
        ``{walk: ams_walk, bike: ams_bike}``: access legs and the direct trip of that mode
        follow the network instead of straight lines (:func:`network_legs`).
    egress_network : str, optional
        Network for the egress legs (default: ``access_networks`` of the egress mode when
        given, else straight lines).
    compare : TransitComparison, optional
        Compare a measure with another mode (e.g. PT + bike vs car).
    matrix : bool
        Also export the travel-time matrix (:func:`od_matrix`) as
        ``transit_<name>_<mode>_matrix.parquet`` beside the GeoPackage.
    """

    name: str
    zones: str
    opportunities: str | None = None
    opportunity_column: str = "jobs"
    network: str
    kind: Literal["gtfs", "transit_graph", "ns_rail"] | None = None
    path: str | list[str] | None = None
    feeds: list[FeedEntry] = Field(default_factory=list)
    date: str | None = None
    transfer_network: str | None = None
    max_transfers: int | None = Field(None, ge=0, le=15)
    access_modes: list[Literal["walk", "bike"]] = Field(default_factory=lambda: ["walk"])
    access_radius_m: dict[str, float] = Field(default_factory=dict)
    cutoffs: list[float] = Field(default_factory=lambda: list(defaults.TRANSIT_CUTOFFS_MIN))
    decays: list[dict[str, Any]] = Field(default_factory=list)
    headways_min: dict[int, float] | None = None
    access_networks: dict[Literal["walk", "bike"], str] = Field(default_factory=dict)
    egress_network: str | None = None
    matrix: bool = False
    compare: TransitComparison | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, v: str) -> str:
        import re

        if not re.fullmatch(r"[A-Za-z0-9_]{1,48}", v):
            raise ValueError("use letters, digits and '_' (it names the result layer)")
        return v

    def params(self, mode: str | None = None) -> TransitParams:
        """The routing parameters of this block (for access ``mode``: its legacy radius)."""
        p = TransitParams(**{k: getattr(self, k) for k in TransitParams.model_fields})
        if self.max_transfers is not None:
            p = p.updated(max_rides=self.max_transfers + 1)
        if mode is not None and self.access_radius_m.get(mode):
            p = p.with_radius(mode, self.access_radius_m[mode])
        return p


def detect_kind(path: str | Path) -> str:
    """Transit network kind from a path: ``.gml`` → ``transit_graph``; a folder with
    ``network.json`` → ``ns_rail``; a ``.zip`` or a folder with ``stops.txt`` → ``gtfs``."""
    p = Path(path)
    if p.suffix.lower() == ".gml":
        return "transit_graph"
    if p.is_dir() and (p / "network.json").is_file() or p.name == "network.json":
        return "ns_rail"
    if p.suffix.lower() == ".zip" or (p.is_dir() and (p / "stops.txt").is_file()):
        return "gtfs"
    raise InputError(p, "cannot tell which kind of transit network this is",
                     "set kind: gtfs (zip/folder), transit_graph (.gml) or ns_rail (folder)")


_BUILD_OPTIONS = {
    "gtfs": {"transfer_radius_m", "walk_speed_kmh", "walk_detour", "change_slack_s"},
    "transit_graph": {"headways_min", "transfer_radius_m", "walk_speed_kmh", "walk_detour"},
    "ns_rail": {"tariff", "v_min_kmh", "v_max_kmh", "d_short_km", "d_long_km", "dwell_min",
                "headway_intercity_min", "headway_sprinter_min", "transfer_penalty_min",
                "skip_ratio", "fallback_detour"},
}


def build_transit_network(kind: str | None, path: Any, *, date: str | None = None,
                          window: tuple[str, str] | None = None,
                          max_time_min: float = MAX_TIME_MIN,
                          options: dict[str, Any] | None = None) -> Any:
    """Build a transit network of ``kind`` (``gtfs`` needs ``date``).

    Parameters
    ----------
    kind : {'gtfs', 'transit_graph', 'ns_rail'} or None
        ``None`` detects it from the path (:func:`detect_kind`).
    path : str, Path, or a list of them / of :class:`ruimtekit.io.gtfs.Feed`
        GTFS zip/folder, GML file, or NS rail folder; a list means several GTFS feeds
        merged into one network (ids namespaced ``<feed>:<id>``).
    date : str, optional
        Service date (GTFS).
    window : (str, str), optional
        Departure window; GTFS trips outside window + ``max_time_min`` are dropped.
    options : dict, optional
        Builder settings: gtfs ``transfer_radius_m``, ``walk_speed_kmh``, ``walk_detour``,
        ``change_slack_s``; transit_graph ``headways_min`` (route type → minutes) and the
        walking settings; ns_rail ``tariff`` and the :class:`rail.RailModel` fields.

    Returns
    -------
    TransitNetwork (gtfs), graph.Graph (transit_graph) or rail.RailNetwork (ns_rail).
    """

    several = isinstance(path, (list, tuple))
    if several and len(path) == 0:
        raise InputError(None, "an empty list of GTFS feeds", "give one or more GTFS paths")
    first = path[0] if several else path
    p = first.path if isinstance(first, gtfs.Feed) else Path(first)
    if several:
        if kind not in (None, "gtfs"):
            raise InputError(p, f"a list of paths makes a GTFS network, not {kind!r}",
                             "give one path for transit_graph and ns_rail networks")
        kind = "gtfs"
    kind = kind or detect_kind(p)
    opts = dict(options or {})
    if kind not in _BUILD_OPTIONS:
        raise InputError(p, f"unknown transit network kind {kind!r}",
                         "use gtfs, transit_graph or ns_rail")
    unknown = set(opts) - _BUILD_OPTIONS[kind]
    if unknown:
        raise InputError(p, f"unknown {kind} network option(s) {sorted(unknown)}",
                         f"use {sorted(_BUILD_OPTIONS[kind])}")
    if kind == "gtfs":
        if not date:
            raise InputError(p, "a GTFS network needs a service date",
                             "set date: YYYY-MM-DD (a weekday inside the feed's range)")
        tr = None
        if window is not None:
            a, b = parse_clock(window[0]), parse_clock(window[1])
            _validate.check_window(a, b, window[0], window[1])
            tr = (a, b + max_time_min * 60)
        src = [f if isinstance(f, gtfs.Feed) else Path(f) for f in path] if several else p
        return build_network(src, date, time_range_s=tr, **opts)
    if kind == "transit_graph":
        if "headways_min" in opts:
            opts["headways_min"] = {int(k): float(v) for k, v in opts["headways_min"].items()}
        return read_transit_graph_gml(p, **opts)

    tariff = opts.pop("tariff", None)
    return rail.build_rail_network(p, tariff, model=rail.RailModel(**opts))


def _decays(specs: Sequence[dict[str, Any]]) -> list[Any]:
    if not specs:
        return []

    return [as_decay(dict(s)) for s in specs]


@dataclass
class _Routing:
    """Legs, direct trip and the block iterator of one routing set-up."""

    acc: Legs
    egr: Legs
    direct: DirectTrip
    blocks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
    percentiles: list[float]
    label: str
    node_times: np.ndarray | None
    n_dest: int


def _points_of(gdf: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points of a zone or point layer (``pop_x``/``pop_y`` or centroids)."""
    return zone_points(gdf, missing="raise")


def _routing(
    network: Any, zones: Any, destinations: Any, access_mode: str, p: TransitParams,
    access_network: _graph.Graph | None, egress_network: _graph.Graph | None,
    block_size: int,
) -> _Routing:

    if access_mode not in MODE_LABEL:
        raise InputError(None, f"unknown access mode {access_mode!r}", "use walk or bike")
    zx, zy = zone_points(zones, missing="raise")
    same = destinations is None
    dx, dy = (zx, zy) if same else _points_of(destinations)
    a_model, e_model = p.leg_model(access_mode), p.leg_model(p.egress_mode)
    acc_s, egr_s = p.access_s(access_mode), p.egress_s()
    direct_legs = None
    if access_network is not None:
        direct_legs = network_legs(access_network, zx, zy, dx, dy, mode=access_mode,
                                   max_time_s=p.direct_s(), options=p.leg_options(access_mode))
    direct = DirectTrip(zx, zy, dx, dy, a_model, p.direct_s(), same, direct_legs)

    def legs(px: np.ndarray, py: np.ndarray, k: int | None) -> tuple[Legs, Legs]:
        if access_network is not None:
            a = network_legs(access_network, zx, zy, px, py, mode=access_mode,
                             max_time_s=acc_s, options=p.leg_options(access_mode, k_nearest=k))
        else:
            a = zone_legs(zx, zy, px, py, mode=a_model, max_time_s=acc_s, k_nearest=k)
        if egress_network is not None:
            e = network_legs(egress_network, dx, dy, px, py, mode=p.egress_mode,
                             max_time_s=egr_s, options=p.leg_options(p.egress_mode,
                                                                     reverse=True, k_nearest=k))
        else:
            e = zone_legs(dx, dy, px, py, mode=e_model, max_time_s=egr_s, k_nearest=k)
        return a, e

    label = MODE_LABEL[access_mode] + ("_bike" if p.egress_mode == "bike" else "")
    if isinstance(network, TransitNetwork):
        acc, egr = legs(network.x, network.y, p.k_nearest)

        def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            return iter_raptor_blocks(network, acc, egr, params=p, block_size=block_size)

        return _Routing(acc, egr, direct, blocks, list(p.percentiles), label, None, len(dx))
    if isinstance(network, rail.RailNetwork):
        node_x, node_y = network.x, network.y
        node_times = network.station_seconds()
        k = p.k_nearest or 5
    elif isinstance(network, _graph.Graph):
        stops = network.meta.get("stop_nodes", np.arange(network.n_nodes))
        node_x, node_y = network.x[stops], network.y[stops]
        node_times = graph_stop_times(network)
        k = p.k_nearest
    else:
        raise InputError(None, f"cannot route on a {type(network).__name__}",
                         "pass a TransitNetwork, transit graph or RailNetwork")
    acc, egr = legs(node_x, node_y, k)

    def mblocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return iter_stop_matrix_blocks(node_times, acc, egr, block_size=block_size,
                                       max_time_min=p.max_time_min)

    return _Routing(acc, egr, direct, mblocks, [50.0], label, node_times, len(dx))


def _check_opportunities(opp: np.ndarray, zones: Any, destinations: Any,
                         opportunity: str) -> None:
    ref = zones if destinations is None else destinations
    if opp.shape[0] != len(ref):
        raise InputError(None, f"{opp.shape[0]} opportunity values for {len(ref)} "
                         f"{'zones' if destinations is None else 'destinations'}",
                         "give one value per destination (per zone without destinations)")
    if np.isnan(opp).any():
        ids = (ref["zone_id"].to_numpy()[np.isnan(opp)][:5].tolist()
               if "zone_id" in ref else np.flatnonzero(np.isnan(opp))[:5].tolist())
        raise InputError(None, f"{int(np.isnan(opp).sum())} zones have no {opportunity} value "
                         f"(e.g. {ids})",
                         "fill or drop the zones without opportunities before routing")


class TransitOptions(Section):
    """How :func:`zone_accessibility` runs: street networks for the legs, block size and
    Dask scheduler (the results do not depend on ``block_size`` or ``scheduler``).

    Attributes
    ----------
    access_network, egress_network : Graph, optional
        Street networks for the access legs and the direct trip (access mode) and for the
        egress legs (egress mode), instead of straight lines (:func:`network_legs`).
    block_size : int
        Origins per compiled block (256).
    scheduler : str or distributed.Client, optional
        Route the origin blocks on Dask (``local:N``, a scheduler address or a client; see
        :mod:`ruimtekit.engine.batches`); results are identical to the local run.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    access_network: Any = None
    egress_network: Any = None
    block_size: int = Field(defaults.TRANSIT_BLOCK, ge=1)
    scheduler: Any = None


def zone_accessibility(
    network: Any, zones: Any, opportunities: Any, *, opportunity: str = "jobs",
    access_mode: str = "walk", measures: MeasureSpec | dict[str, Any] | None = None,
    params: TransitParams | dict[str, Any] | None = None,
    options: TransitOptions | dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Zone-level transit accessibility measures for any transit network kind.

    Travel time per origin–destination pair is ``min(direct, access + transit + egress)``:
    the direct trip by the access mode (walking or cycling all the way) may take the whole
    budget (``params.max_time_min``, or ``params.max_direct_min``), so transit never makes
    a zone less accessible than the access mode alone; access and egress legs have their
    own limits (:class:`TransitParams`).

    Parameters
    ----------
    network : TransitNetwork, graph.Graph (transit graph) or rail.RailNetwork
    zones : GeoDataFrame
        Origin zones with ``zone_id`` (points: ``pop_x``/``pop_y`` or centroids), in the
        working CRS (metres).
    opportunities : array or GeoDataFrame
        Opportunities per zone (an array, NaN not allowed), or destination points (e.g.
        job locations) carrying the ``opportunity`` column, reached instead of the zones
        themselves.
    opportunity : str
        Column prefix (``jobs``, ``establishments_proxy``); the column of
        ``opportunities`` when it is a GeoDataFrame.
    access_mode : {'walk', 'bike'}
        Mode to the first stop and of the direct trip. Columns end in ``_transit`` (walk)
        or ``_bike_transit`` (bike); ``_bike`` is appended when ``params.egress_mode`` is
        bike.
    measures : MeasureSpec or dict, optional
        Cutoffs (minutes; default 30, 45, 60) and decays (see
        :func:`ruimtekit.engine.measures.aggregate_times`); a ``horizon_min`` sets
        ``params.max_time_min``.
    params : TransitParams or dict, optional
        Routing parameters (speeds, leg limits, rides, slacks, window, step, percentiles,
        ``k_nearest``, ``max_time_min``); ``TransitParams().with_radius(mode, metres)``
        turns a straight-line access radius into the access leg limit (walk 1,000 m =
        15.6 min; bike 4,000 m = 21 min).
    options : TransitOptions or dict, optional
        Street networks of the legs, block size, Dask scheduler.

    Returns
    -------
    DataFrame with ``zone_id``, the measure columns and ``no_stop_{mode}``.

    Examples
    --------
    >>> zone_accessibility(net, zones, zones["jobs"].to_numpy(), access_mode="bike",
    ...                    measures=MeasureSpec(cutoffs=[30, 45]),
    ...                    params=TransitParams(window_start="08:00", window_end="09:00"),
    ...                    options=TransitOptions(access_network=bike_graph))  # doctest: +SKIP
    """
    spec = as_measures(measures, default_cutoffs=(30, 45, 60))
    o = options if isinstance(options, TransitOptions) else TransitOptions(**dict(options or {}))
    p = as_params(params, max_time_min=spec.horizon_min)
    if isinstance(opportunities, pd.DataFrame):
        if opportunity not in opportunities.columns:
            raise InputError(opportunities.attrs.get("source"),
                             f"the destinations have no column {opportunity!r}",
                             f"choose opportunity= from {list(map(str, opportunities.columns))[:20]}")
        dest, opp = opportunities, opportunities[opportunity].to_numpy(dtype=np.float64)
    else:
        dest, opp = None, opportunities
    return _zone_accessibility(
        network, zones, opp, opportunity=opportunity, access_mode=access_mode,
        cutoffs_min=spec.cutoffs, decays=spec.decay_objects(), params=p, destinations=dest,
        block_size=o.block_size, scheduler=o.scheduler, access_network=o.access_network,
        egress_network=o.egress_network)


def _zone_accessibility(
    network: Any, zones: Any, opportunities: np.ndarray, *, opportunity: str = "jobs",
    access_mode: str = "walk", cutoffs_min: Sequence[float] = (30, 45, 60),
    decays: Sequence[Any] = (), params: TransitParams | dict[str, Any] | None = None,
    destinations: Any = None, window: tuple[str, str] | None = None,
    step_s: int | None = None, percentiles: Sequence[float] | None = None,
    max_transfers: int | None = None, max_time_min: float | None = None,
    access_radius_m: float | None = None, k_nearest: int | None = None,
    block_size: int = 256, scheduler: Any = None,
    access_network: _graph.Graph | None = None, egress_network: _graph.Graph | None = None,
) -> pd.DataFrame:
    """:func:`zone_accessibility` on an opportunity array (per zone or per destination)."""
    p = as_params(params, window=window, step_s=step_s, percentiles=percentiles,
                  max_transfers=max_transfers, max_time_min=max_time_min,
                  k_nearest=k_nearest)
    if access_radius_m:
        p = p.with_radius(access_mode, access_radius_m)
    opp = np.asarray(opportunities, dtype=np.float64)
    _check_opportunities(opp, zones, destinations, opportunity)
    if access_mode not in MODE_LABEL:
        raise InputError(None, f"unknown access mode {access_mode!r}", "use walk or bike")
    if destinations is not None:
        dg = destinations.geometry
        lost = (dg.isna() | dg.is_empty).to_numpy()
        if lost.any():
            log.warning("%d destination(s) without a location are left out (%g %s)",
                        int(lost.sum()), float(opp[lost].sum()), opportunity)
            destinations, opp = destinations[~lost], opp[~lost]
    unlocated = (zones.geometry.isna() | zones.geometry.is_empty).to_numpy()
    if unlocated.any():
        ids = (zones["zone_id"].to_numpy()[unlocated].tolist() if "zone_id" in zones
               else np.flatnonzero(unlocated).tolist())
        log.warning("%d zone(s) without geometry are left out of transit routing (measures "
                    "NaN): %s", len(ids), ids[:10])
        if destinations is None:
            sub_dest, sub_opp = None, opp[~unlocated]
        else:
            sub_dest, sub_opp = destinations, opp
        sub = _zone_accessibility(
            network, zones[~unlocated], sub_opp, opportunity=opportunity,
            access_mode=access_mode, cutoffs_min=cutoffs_min, decays=decays, params=p,
            destinations=sub_dest, block_size=block_size, scheduler=scheduler,
            access_network=access_network, egress_network=egress_network)
        full = pd.DataFrame(index=np.arange(len(zones)), columns=sub.columns, dtype=float)
        full = full.astype({c: sub[c].dtype for c in sub.columns if sub[c].dtype != float})
        full.loc[~unlocated, :] = sub.to_numpy()
        full["zone_id"] = zones["zone_id"].to_numpy() if "zone_id" in zones else full.index
        full.attrs["unlocated"] = ids
        return full
    r = _routing(network, zones, destinations, access_mode, p, access_network,
                 egress_network, block_size)
    n = len(zones)
    if scheduler is not None:

        tt = isinstance(network, TransitNetwork)
        df = transit.transit_measures(transit.TransitInputs(
            r.acc, r.egr, r.direct, opp, opportunity, r.label, r.percentiles, cutoffs_min,
            network=network if tt else None, node_times=None if tt else r.node_times,
            decays=decays, params=p, block_size=block_size), scheduler)
    else:
        df = zone_measures_from_blocks(
            r.blocks(), n, opp, opportunity=opportunity, mode_label=r.label,
            percentiles=r.percentiles, measures=measure_list(cutoffs_min, decays),
            direct=r.direct.block)
    df.insert(0, "zone_id", zones["zone_id"].to_numpy() if "zone_id" in zones else np.arange(n))
    no_access = np.diff(r.acc.ptr) == 0
    df[f"no_stop_{r.label}"] = no_access
    if no_access.any():
        log.warning("%d zones have no stop within the %s access limit (%.0f min); they reach "
                    "only by the direct %s trip", int(no_access.sum()), access_mode,
                    p.access_s(access_mode) / 60.0, access_mode)
    df.attrs["params"] = p.model_dump()
    return df


def od_matrix(
    network: Any, zones: Any, destinations: Any = None, *, access_mode: str = "walk",
    params: TransitParams | dict[str, Any] | None = None,
    access_network: _graph.Graph | None = None, egress_network: _graph.Graph | None = None,
    block_size: int = defaults.TRANSIT_BLOCK,
) -> pd.DataFrame:
    """Transit travel-time matrix: zone-to-zone (or zone-to-point) percentiles.

    The same trips as :func:`zone_accessibility`: ``min(direct, access + transit +
    egress)`` per departure, summarised over the departure window as nearest-rank
    percentiles (timetables; frequency and rail networks give one expected time).

    Parameters
    ----------
    network : TransitNetwork, graph.Graph (transit graph) or rail.RailNetwork
    zones : GeoDataFrame
        Origins with ``zone_id``.
    destinations : GeoDataFrame, optional
        Destinations with ``zone_id`` (default: the zones).
    access_mode : {'walk', 'bike'}
    params : TransitParams or dict, optional
    access_network, egress_network : Graph, optional
        Street networks for the legs (:func:`network_legs`).
    block_size : int

    Returns
    -------
    DataFrame
        Long format, every origin × destination pair: ``from_id``, ``to_id`` (str),
        ``travel_time`` (minutes, float64; the 50th percentile, or the first one asked
        when the 50th is not), one ``travel_time_p{p}`` column per percentile when more
        than one is asked; NaN = unreachable within ``max_time_min``.
    """
    p = as_params(params)
    oid = (zones["zone_id"].astype(str).to_numpy() if "zone_id" in zones
           else np.arange(len(zones)).astype(str))
    ref = zones if destinations is None else destinations
    did = (ref["zone_id"].astype(str).to_numpy() if "zone_id" in ref
           else np.arange(len(ref)).astype(str))
    nd = len(ref)
    it = iter_od_blocks(network, zones, destinations, access_mode=access_mode, params=p,
                        access_network=access_network, egress_network=egress_network,
                        block_size=block_size)
    pcts = next(it)
    out = np.full((len(zones), nd, len(pcts)), np.nan)
    for blk, t in it:
        out[blk] = t
    main = pcts.index(50.0) if 50.0 in pcts else 0
    df = pd.DataFrame({"from_id": np.repeat(oid, nd), "to_id": np.tile(did, len(zones)),
                       "travel_time": out[:, :, main].ravel()})
    if len(pcts) > 1:
        for j, q in enumerate(pcts):
            df[f"travel_time_p{round(q):g}"] = out[:, :, j].ravel()
    df.attrs.update({"access_mode": access_mode, "params": p.model_dump(),
                     "unit": "minutes"})
    return df


def iter_od_blocks(
    network: Any, zones: Any, destinations: Any = None, *, access_mode: str = "walk",
    params: TransitParams | dict[str, Any] | None = None,
    access_network: _graph.Graph | None = None, egress_network: _graph.Graph | None = None,
    block_size: int = defaults.TRANSIT_BLOCK,
) -> Iterator[Any]:
    """The travel times of :func:`od_matrix` block by block (bounded memory).

    Yields first the list of percentiles (the last axis of every block: the asked ones
    for timetables, ``[50.0]`` for frequency and rail networks), then ``(rows, minutes)``
    per block of origins: ``minutes`` is float64 (len(rows), n_destinations,
    n_percentiles), ``min(direct, access + transit + egress)`` in minutes, NaN =
    unreachable within ``params.max_time_min``. Parameters as :func:`od_matrix`.
    """
    p = as_params(params)
    r = _routing(network, zones, destinations, access_mode, p, access_network,
                 egress_network, block_size)
    yield list(r.percentiles)
    for blk, t in r.blocks():
        if t.ndim == 2:
            t = t[:, :, None]
        dt = r.direct.block(blk)
        t = np.minimum(t, dt[:, :, None])
        t[t > 60.0 * p.max_time_min] = np.inf
        yield blk, np.where(np.isfinite(t), t / 60.0, np.nan)


def pipeline_step(ctx: Any) -> None:
    """Pipeline step: build the transit networks of the study's ``transit`` blocks and add
    result layers ``transit_<name>`` (zones with measure columns) to ``ctx.results``.

    Reads ``ctx.study.transit`` (list of :class:`TransitConfig`), ``ctx.layers[zones]``
    and ``ctx.layers[opportunities]``; a network is taken from ``ctx.networks[network]``
    when already built, else built from ``ctx.study.networks[network].path`` (or the
    block's ``path``) and stored in ``ctx.networks``.
    """
    blocks = list(getattr(ctx.study, "transit", None) or [])
    for cfg in blocks:
        with ctx.timed(f"transit:{cfg.name}"):
            net = ctx.networks.get(cfg.network)
            kind = cfg.kind
            if net is None or not _is_transit(net):
                spec = (getattr(ctx.study, "networks", None) or {}).get(cfg.network)
                path = cfg.path or (getattr(spec, "path", None) if spec is not None else None)
                if cfg.feeds:

                    path = [gtfs.read_gtfs(ctx.resolve(f.path), name=f.name)
                            for f in cfg.feeds]
                elif isinstance(path, list):
                    path = [ctx.resolve(q) for q in path]
                if path is None:
                    raise InputError(None, f"transit block {cfg.name!r}: network "
                                     f"{cfg.network!r} is not in networks: and has no path",
                                     "define it under networks: (with kind) or give path:")
                if kind is None and spec is not None and spec.kind in _BUILD_OPTIONS:
                    kind = spec.kind
                opts = dict(getattr(spec, "options", None) or {})
                if cfg.headways_min:
                    opts["headways_min"] = cfg.headways_min
                eff_kind = kind or ("gtfs" if isinstance(path, list)
                                    else detect_kind(ctx.resolve(path)))
                if eff_kind in ("gtfs", "transit_graph"):  # transfers from the block
                    opts.setdefault("transfer_radius_m", cfg.transfer_radius_m)
                    opts.setdefault("walk_speed_kmh", cfg.speed_kmh("walk"))
                    opts.setdefault("walk_detour", cfg.transfer_detour)
                if eff_kind == "gtfs":
                    opts.setdefault("change_slack_s", cfg.change_slack_s)
                    if cfg.transfer_network:
                        opts["transfer_radius_m"] = 0.0  # street transfers below
                net = build_transit_network(
                    kind, path if isinstance(path, list) else ctx.resolve(path), date=cfg.date,
                    window=(cfg.window_start, cfg.window_end), max_time_min=cfg.max_time_min,
                    options=opts)
                if cfg.transfer_network and isinstance(net, TransitNetwork):
                    net = street_transfers(
                        net, _street_network(ctx, cfg, cfg.transfer_network),
                        max_distance_m=cfg.transfer_radius_m,
                        walk_speed_kmh=cfg.speed_kmh("walk"), max_snap_m=cfg.max_snap_m)
                ctx.networks[cfg.network] = net
                if isinstance(net, TransitNetwork) and net.meta.get("feeds"):

                    ctx.tables[f"gtfs_feeds_{cfg.network}"] = gtfs.report_table(
                        net.meta["feeds"])
            kind = _kind_of(net)
            if cfg.zones not in ctx.layers:
                raise InputError(None, f"transit block {cfg.name!r}: zones layer "
                                 f"{cfg.zones!r} is not defined", "add it under layers:")
            zones = ctx.layers[cfg.zones]
            opp, dest = _opportunities(ctx, cfg, zones)
            decays = _decays(cfg.decays)
            egress_name = cfg.egress_network or cfg.access_networks.get(cfg.egress_mode)
            egress_net = _street_network(ctx, cfg, egress_name)
            cols: dict[str, np.ndarray] = {}
            for mode in cfg.access_modes:
                acc_net = _street_network(ctx, cfg, cfg.access_networks.get(mode))
                df = zone_accessibility(
                    net, zones, opp if dest is None else dest,
                    opportunity=cfg.opportunity_column, access_mode=mode,
                    measures=MeasureSpec(cutoffs=cfg.cutoffs, decays=decays),
                    params=cfg.params(mode), options=TransitOptions(
                        access_network=acc_net, egress_network=egress_net,
                        scheduler=getattr(ctx, "dask_client", None)))
                for c in df.columns:
                    if c != "zone_id":
                        cols[c] = df[c].to_numpy()
                if cfg.matrix:
                    _export_matrix(ctx, f"transit_{cfg.name}_{mode}_matrix", od_matrix(
                        net, zones, dest, access_mode=mode, params=cfg.params(mode),
                        access_network=acc_net, egress_network=egress_net))
            result = zones[["zone_id", "geometry"]].copy()
            result = result.join(pd.DataFrame(cols, index=result.index))
            result.attrs["transit"] = {"kind": kind, "network": cfg.network,
                                       "access_modes": list(cfg.access_modes),
                                       "access_networks": dict(cfg.access_networks),
                                       "egress_network": egress_name}
            ctx.results[f"transit_{cfg.name}"] = result
            if cfg.compare is not None:
                _compare_step(ctx, cfg, zones, result)
            if cfg.opportunity_column.endswith("_proxy") or cfg.opportunity_column in (
                    "establishments", "a_bedv"):
                ctx.note(f"transit_{cfg.name}: opportunities are {cfg.opportunity_column}, a "
                         "proxy (business establishments, not job counts)")
            if kind != "gtfs":
                ctx.note(f"transit_{cfg.name}: {kind} network without timetable; waiting "
                         "is modelled as half the headway (expected times, not percentiles)")


def _compare_step(ctx: Any, cfg: TransitConfig, zones: Any, result: Any) -> None:
    cmp = cfg.compare
    assert cmp is not None
    other = ctx.results.get(cmp.layer)
    if other is None:
        raise InputError(None, f"transit block {cfg.name!r}: compare layer {cmp.layer!r} is "
                         "not a result of this study",
                         f"use one of {sorted(ctx.results)} (accessibility blocks run first)")
    w = zones[cmp.weight].to_numpy(dtype=np.float64) if cmp.weight in zones else None
    res = compare_measures(result, other, cmp, w)
    result.attrs["compare"] = {**cmp.model_dump(), **res}
    text = (f"transit_{cfg.name}: {cmp.measure} / {cmp.column} ({cmp.layer}) = "
            f"{res['ratio']:.0%} ({'population' if w is not None else 'zone'}-weighted means "
            f"{res['mean_transit']:,.0f} / {res['mean_other']:,.0f} over {res['n_zones']:,} "
            f"zones)" + (f"; {cmp.reference}" if cmp.reference else ""))
    log.info(text)
    ctx.note(text)


def _export_matrix(ctx: Any, name: str, df: pd.DataFrame) -> None:
    """Write a travel-time matrix like the road matrices (Parquet beside the GeoPackage)."""

    if getattr(ctx, "work_dir", None) is not None:
        accessibility.write_od_matrix(df, Path(ctx.work_dir) / f"{name}.parquet")
    else:
        ctx.tables[name] = df


def _street_network(ctx: Any, cfg: TransitConfig, name: str | None) -> _graph.Graph | None:
    """The street network ``name`` of the study (for access/egress legs), or None."""
    if name is None:
        return None
    net = ctx.networks.get(name)
    if not isinstance(net, _graph.Graph) or _is_transit(net):
        have = sorted(k for k, v in ctx.networks.items()
                      if isinstance(v, _graph.Graph) and not _is_transit(v))
        raise InputError(None, f"transit block {cfg.name!r}: access/egress network {name!r} "
                         "is not a street network of this study",
                         f"use one of {have} (walk or bike networks under networks:)")
    return net


def _kind_of(net: Any) -> str:

    if isinstance(net, TransitNetwork):
        return "gtfs"
    if isinstance(net, rail.RailNetwork):
        return "ns_rail"
    return "transit_graph"


def _is_transit(net: Any) -> bool:

    return isinstance(net, (TransitNetwork, rail.RailNetwork)) or (
        isinstance(net, _graph.Graph) and net.mode == "transit")


def _opportunities(ctx: Any, cfg: TransitConfig, zones: Any) -> tuple[np.ndarray, Any]:
    """Opportunities per destination and the destinations (None = the zones)."""
    name = cfg.opportunities or cfg.zones
    if name not in ctx.layers:
        raise InputError(None, f"transit block {cfg.name!r}: layer {name!r} is not defined",
                         "add it under layers:")
    lay = ctx.layers[name]
    col = cfg.opportunity_column
    if col not in lay.columns:
        raise InputError(None, f"layer {name!r} has no column {col!r}",
                         f"choose one of {', '.join(map(str, lay.columns))}")
    if name == cfg.zones:
        v = lay[col].to_numpy(dtype=np.float64)
    else:

        zid = zones["zone_id"].astype(str)
        matched = ("zone_id" in lay.columns
                   and lay["zone_id"].astype(str).isin(set(zid)).mean() > 0.5)
        has_geom = getattr(lay, "geometry", None) is not None and "geometry" in lay.columns
        if matched:
            s = lay.groupby(lay["zone_id"].astype(str))[col].sum()
            v = zid.map(s).fillna(0.0).to_numpy(dtype=np.float64)
        elif has_geom and lay.geometry.geom_type.isin(["Point"]).all():
            ctx.note(f"transit_{cfg.name}: destinations are the {len(lay)} points of layer "
                     f"{name!r} ({col}), reached from the {cfg.zones} zones")
            w = lay[col].to_numpy(dtype=np.float64)
            if np.isnan(w).any() or (w < 0).any():
                raise InputError(None, f"layer {name!r} has missing or negative {col}",
                                 "fill them (0 when there are none) or drop those rows")
            return w, lay
        elif has_geom:
            agg = layers.aggregate_to_zones(lay, zones, col, how="spatial")
            v = agg[col].to_numpy(dtype=np.float64)
            ctx.note(f"transit_{cfg.name}: {col} of layer {name!r} assigned to {cfg.zones} "
                     "zones by location (point in polygon)")
        else:
            raise InputError(None, f"opportunity layer {name!r} neither shares zone_ids "
                             f"with {cfg.zones!r} nor has geometry",
                             "give opportunities per zone_id of the zones layer or as points")
    if np.isnan(v).any():
        nan = np.isnan(v)
        miss = zones["zone_id"].to_numpy()[nan]
        if nan.mean() > MISSING_OPPORTUNITY_SHARE:
            raise InputError(None, f"{int(nan.sum())} of {len(v)} zones have no {col} (e.g. "
                             f"{list(miss[:5])})", "fill the missing values or drop those zones")
        log.warning("transit %s: %d zone(s) have no %s value and count as origins without "
                    "%s: %s", cfg.name, int(nan.sum()), col, col, ", ".join(map(str, miss[:10])))
        ctx.note(f"transit_{cfg.name}: {int(nan.sum())} zone(s) without a {col} value count "
                 f"as 0 {col} (origins only)")
        v = np.where(nan, 0.0, v)
    return v, None
