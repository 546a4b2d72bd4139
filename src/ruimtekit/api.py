"""The nouns a notebook user holds: a transport network, travel-time matrices,
accessibility and isochrones.

Build a :class:`TransportNetwork` once (street networks per mode, transit feeds, skims,
crow-fly fallbacks) and ask it many questions::

    import ruimtekit as rk

    net = rk.TransportNetwork(roads={"bike": "data/raw/delft_bike_links.csv"})
    homes = rk.read_places("homes.gpkg")                 # points or polygons, with an id
    jobs = rk.read_places("workplaces.gpkg")
    ttm = rk.TravelTimeMatrix(net, homes, jobs, mode="bike")   # from_id, to_id, travel_time
    acc = rk.Accessibility(net, homes, jobs, mode="bike",
                           measures=rk.MeasureSpec(cutoffs=[15, 30]))
    iso = rk.isochrones(net, homes.head(3), mode="bike", cutoffs=[10, 20])

Every mode runs through one engine per kind of impedance: the road search
(:mod:`ruimtekit.analysis.accessibility`, edge-linked points and turn costs), range-RAPTOR or the
stop-to-stop models (:mod:`ruimtekit.engine.transit`), the crow-fly model
(:mod:`ruimtekit.engine.impedance`) or an external skim. Times are minutes, coordinates the
working CRS (EPSG:28992 unless :func:`ruimtekit.use_crs` sets another).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import ConfigDict, Field

from ruimtekit import _config, _crs, _io, defaults
from ruimtekit._errors import InputError, describe_validation
from ruimtekit.analysis import accessibility, transit_access
from ruimtekit.engine import _kernels, impedance, transit
from ruimtekit.engine import batches as distributed
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import MeasureSpec
from ruimtekit.engine.transit import TransitParams
from ruimtekit.io import places
from ruimtekit.network import graph as _graph
from ruimtekit.network import networks

log = logging.getLogger(__name__)

ROAD_MODES = ("walk", "bike", "e_bike", "ebike", "car")
"""Modes routed over a street network, a skim or the crow-fly model."""

TRANSIT_MODES = {"transit": "walk", "bike_transit": "bike"}
"""Transit modes and their access (and direct-trip) mode."""

MATRIX_MAX_TIME_MIN = defaults.MATRIX_MAX_TIME_MIN
"""Default longest travel time of a matrix (minutes; as R5/r5py): longer pairs are NaN."""

MATRIX_CHUNK_PAIRS = defaults.MATRIX_CHUNK_PAIRS
"""Origin–destination pairs computed and written per block (bounded memory: about
30 bytes per pair of a block, whatever the size of the matrix)."""

ISOCHRONE_CELLS = defaults.ISOCHRONE_CELLS
"""Default grid resolution of isochrones: the reach radius is cut into this many cells
(cell size = radius / cells, at least :data:`ISOCHRONE_MIN_CELL_M`)."""

ISOCHRONE_MIN_CELL_M = defaults.ISOCHRONE_MIN_CELL_M
"""Smallest default isochrone grid cell (metres)."""

TRANSIT_MAX_KMH = defaults.TRANSIT_MAX_KMH
"""Upper bound on transit speed (km/h, Dutch intercity trains) for the isochrone radius."""


# ======================================================================================
# parameter objects
class RoutingOptions(_search.SnapOptions):
    """Routing settings shared by matrices, accessibility and isochrones.

    Attributes
    ----------
    max_time_min : float, optional
        Longest travel time (minutes); longer pairs are unreachable (NaN). Default
        :data:`MATRIX_MAX_TIME_MIN` for matrices, the measures' horizon for accessibility.
    max_snap_m : float
        Points farther than this (metres) from the street network are not routed (500).
    access_speed_kmh : float, optional
        Speed between a point and the street network (default the profile's).
    transit : TransitParams, optional
        Transit routing parameters (window, percentiles, leg limits, speeds, transfers);
        default :class:`ruimtekit.engine.transit.TransitParams` ``()``.
    chunk_pairs : int
        Origin–destination pairs per computed block (:data:`MATRIX_CHUNK_PAIRS`).
    scheduler : str or distributed.Client, optional
        Run the searches on Dask (``local:N``, a scheduler address or a client).
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    max_time_min: float | None = Field(None, gt=0)
    transit: TransitParams | None = None
    chunk_pairs: int = Field(MATRIX_CHUNK_PAIRS, ge=1)
    scheduler: Any = None


def _options(options: RoutingOptions | Mapping[str, Any] | None) -> RoutingOptions:
    if options is None:
        return RoutingOptions()
    if isinstance(options, RoutingOptions):
        return options
    try:
        return RoutingOptions(**dict(options))
    except ValueError as exc:
        raise InputError(None, f"invalid routing options: {str(exc).splitlines()[0]}",
                         "see ruimtekit.RoutingOptions for the fields") from None


# ======================================================================================
# the network
class TransportNetwork:
    """Street networks per mode, transit and fallbacks, built once and reused.

    Parameters
    ----------
    roads : mapping of str to Graph or path, optional
        Street network per mode (``walk``, ``bike``, ``e_bike``, ``car``): a
        :class:`ruimtekit.network.graph.Graph` or a file read with
        :func:`ruimtekit.network.networks.load_network` (OSM ``.pbf``, osmnx GraphML, link table).
        A ``walk`` (``bike``) network also carries the access, egress and direct legs of
        ``transit`` (``bike_transit``).
    transit : network, path or list of paths, optional
        A built transit network (:class:`ruimtekit.engine.transit.TransitNetwork`, a stop-level
        transit graph, :class:`ruimtekit.engine.rail.RailNetwork`) or GTFS zip(s)/folder(s), a
        transit-graph GML or an NS rail folder
        (:func:`ruimtekit.analysis.transit_access.build_transit_network`).
    skims : mapping of str to DataFrame or path, optional
        Zone-to-zone skims per mode (:func:`ruimtekit.engine.impedance.read_skim`: ``origin``,
        ``destination``, ``time`` in minutes).
    crowfly : bool or sequence of str
        Modes (or all road modes when ``True``) that fall back to the crow-fly model
        (:func:`ruimtekit.engine.impedance.crowfly_seconds`) when they have no street network or
        skim.
    date : str, optional
        Service date ``YYYY-MM-DD`` of GTFS feeds.
    window : (str, str) or str, optional
        Departure window ``("07:00", "09:00")`` or ``"07:00-09:00"``: GTFS trips that
        cannot serve it are dropped when building (default: keep the whole day), and it
        is the default window of transit questions; departures outside it are refused.
    transit_params : TransitParams, optional
        Settings used to build the transit network (transfer radius, walking speed) and
        the default routing parameters of transit questions.

    Attributes
    ----------
    roads : dict of str to Graph
    transit : network or None
    skims : dict of str to DataFrame
    crowfly : set of str
    transit_params : TransitParams
    """

    def __init__(
        self,
        roads: Mapping[str, Any] | None = None,
        transit: Any = None,
        skims: Mapping[str, Any] | None = None,
        crowfly: bool | Sequence[str] = False,
        date: str | None = None,
        window: tuple[str, str] | str | None = None,
        transit_params: Any = None,
    ) -> None:
        tp = _transit_module.as_params(transit_params, window=_window(window))
        self.transit_params = tp
        self.roads: dict[str, _graph.Graph] = {}
        for mode, g in (roads or {}).items():
            if isinstance(g, _graph.Graph):
                self.roads[mode] = g
            else:
                speed = (tp.speed_kmh(mode) if mode in ("walk", "bike")
                         and transit is not None and transit_params is not None else None)
                self.roads[mode] = _load_road(Path(g), mode, speed)
        self.skims: dict[str, pd.DataFrame] = {
            m: s if isinstance(s, pd.DataFrame) else impedance.read_skim(s)
            for m, s in (skims or {}).items()}
        self.crowfly: set[str] = (set(ROAD_MODES) if crowfly is True
                                  else set(crowfly or ()))
        self.transit = transit
        self.window = _window(window)
        """The departure window the GTFS trips were kept for (``None``: the whole day)."""
        if transit is not None and isinstance(transit, (str, Path, list, tuple)):
            self.transit = self._build_transit(transit, date, self.window, tp)

    def _build_transit(self, path: Any, date: str | None, window: tuple[str, str] | None,
                       tp: Any) -> Any:
        t = transit_access  # building (detect_kind, build_transit_network) is analysis-level
        p0 = path[0] if isinstance(path, (list, tuple)) else path
        kind = "gtfs" if isinstance(path, (list, tuple)) else transit_access.detect_kind(Path(p0))
        walk = self.roads.get("walk")
        opts = None
        if kind == "gtfs":
            opts = {"transfer_radius_m": 0.0 if walk is not None else tp.transfer_radius_m,
                    "walk_speed_kmh": tp.speed_kmh("walk"), "walk_detour": tp.transfer_detour,
                    "change_slack_s": tp.change_slack_s}
        net = transit_access.build_transit_network(kind, path, date=date, window=window,
                                      max_time_min=tp.max_time_min, options=opts)
        if walk is not None and isinstance(net, t.TransitNetwork):
            net = t.street_transfers(net, walk, max_distance_m=tp.transfer_radius_m,
                                     walk_speed_kmh=tp.speed_kmh("walk"))
        return net

    def kind(self, mode: str) -> str:
        """How ``mode`` is routed: ``network``, ``skim``, ``crowfly`` or ``transit``."""
        if mode in TRANSIT_MODES:
            if self.transit is None:
                raise InputError(None, f"mode {mode!r} needs a transit network",
                                 "build the TransportNetwork with transit= (GTFS, transit "
                                 "graph or NS rail)")
            return "transit"
        if mode in self.roads:
            return "network"
        if mode in self.skims:
            return "skim"
        if mode in self.crowfly:
            return "crowfly"
        have = sorted([*self.roads, *self.skims, *self.crowfly,
                       *(TRANSIT_MODES if self.transit is not None else ())])
        raise InputError(None, f"the network has no {mode!r} mode (it has: {have})",
                         f"add roads={{{mode!r}: <file>}}, a skim, or crowfly=True")

    def legs(self, mode: str) -> tuple[_graph.Graph | None, _graph.Graph | None]:
        """Street networks of the access and the egress legs of a transit ``mode``."""
        tp = self.transit_params
        return self.roads.get(TRANSIT_MODES[mode]), self.roads.get(tp.egress_mode)

    @property
    def modes(self) -> list[str]:
        """Every mode this network can route."""
        out = [*self.roads, *(m for m in self.skims if m not in self.roads),
               *(m for m in sorted(self.crowfly) if m not in self.roads and m not in self.skims)]
        return out + (list(TRANSIT_MODES) if self.transit is not None else [])

    def __repr__(self) -> str:
        parts = [f"{m}: {g.n_nodes:,} nodes" for m, g in self.roads.items()]
        parts += [f"{m}: skim" for m in self.skims]
        if self.crowfly:
            parts.append(f"crow-fly {sorted(self.crowfly)}")
        if self.transit is not None:
            parts.append(f"transit: {type(self.transit).__name__}")
        return f"TransportNetwork({'; '.join(parts)})"


_transit_module = transit  # the module; TransportNetwork's argument shadows the name


def _load_road(path: Path, mode: str, speed_kmh: float | None = None) -> _graph.Graph:
    """A street network file for ``mode`` (:func:`ruimtekit.network.networks.load_network`);
    link-table coordinates without a declared CRS are read in the working CRS (metres,
    like x/y columns of points). ``speed_kmh`` overrides the profile's speed (transit
    legs use the transit walking/cycling speeds)."""
    kind = networks.detect_kind(path)
    return networks.load_network(
        path, mode, profile={"speed_kmh": speed_kmh} if speed_kmh else None,
        options=networks.ReadOptions(crs=_crs.working_crs() if kind == "links" else None))


def _window(window: tuple[str, str] | str | None) -> tuple[str, str] | None:
    if window is None:
        return None
    if isinstance(window, str):
        a, sep, b = window.partition("-")
        if not sep:
            raise InputError(None, f"cannot read the window {window!r}",
                             "write HH:MM-HH:MM, e.g. 07:00-09:00")
        return a.strip(), b.strip()
    a, b = window
    return str(a), str(b)


def transit_params(
    network: TransportNetwork,
    departure: str | None = None,
    window: tuple[str, str] | str | None = None,
    percentiles: Sequence[float] | None = None,
    options: RoutingOptions | None = None,
) -> Any:
    """Transit routing parameters of one question: ``options.transit`` (else the
    network's) with the departure (one departure: a window of one step), window,
    percentiles and ``max_time_min`` applied."""
    o = _options(options)
    base = o.transit if o.transit is not None else network.transit_params
    win = _window(window)
    if departure is not None:
        if win is not None:
            raise InputError(None, "both a departure and a window were given",
                             "give one departure time or one window")
        t0 = transit.parse_clock(departure)
        win = (departure, _clock(t0 + base.step_s))
    try:
        p = transit.as_params(base, window=win, percentiles=percentiles,
                              max_time_min=o.max_time_min)
    except ValueError as exc:
        raise InputError(None, f"invalid transit option: {describe_validation(exc)}",
                         "see ruimtekit.engine.transit.TransitParams") from None
    built = network.window
    if built is not None:
        a, b = (transit.parse_clock(t) for t in built)
        qa, qb = (transit.parse_clock(t) for t in p.window)
        if qa < a or qb > b:
            raise InputError(None, f"departures {p.window_start}–{p.window_end} lie outside "
                             f"the window {built[0]}–{built[1]} the transit network was "
                             "built for (trips outside it were dropped)",
                             "build the TransportNetwork with a window that covers every "
                             "departure you ask, or without a window")
    return p


def _clock(s: int) -> str:
    return f"{s // 3600:02d}:{(s % 3600) // 60:02d}:{s % 60:02d}"


# ======================================================================================
# travel-time matrices
def _od_rows(shared: tuple[_search.SearchInputs, np.ndarray], idx: np.ndarray
             ) -> np.ndarray:
    """Dask task: int32 seconds from the origins ``rows[idx]`` (see :func:`iter_matrix`)."""
    inputs, rows = shared
    return _search.search(inputs, rows[idx], od=True)[2]


def _ids(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return gdf["zone_id"].astype(str).to_numpy()


def iter_matrix(
    network: TransportNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame | None = None,
    mode: str = "walk",
    params: Any = None,
    options: RoutingOptions | None = None,
) -> Iterator[Any]:
    """Travel times block by block of origins (the streaming core of the matrices).

    Parameters
    ----------
    network : TransportNetwork
    origins, destinations : GeoDataFrame
        Places (:func:`ruimtekit.io.places.as_places`: points or polygons with ``zone_id``);
        destinations default to the origins.
    mode : str
        A mode of ``network`` (:meth:`TransportNetwork.kind`).
    params : TransitParams, optional
        Transit parameters (:func:`transit_params`); ignored by other modes.
    options : RoutingOptions, optional

    Yields
    ------
    First the list of percentile labels (``[None]`` for modes with one time), then
    ``(rows, minutes)`` per block: origin positions and float64 minutes of shape
    (len(rows), n_destinations, n_percentiles), NaN = unreachable.
    """
    o = _options(options)
    dest = origins if destinations is None else destinations
    nd = len(dest)
    kind = network.kind(mode)
    max_min = o.max_time_min or MATRIX_MAX_TIME_MIN
    step = max(1, o.chunk_pairs // max(nd, 1))
    if kind == "transit":
        p = params if params is not None else transit_params(network, options=o)
        a_net, e_net = network.legs(mode)
        it = transit_access.iter_od_blocks(network.transit, origins, destinations,
                                    access_mode=TRANSIT_MODES[mode], params=p,
                                    access_network=a_net, egress_network=e_net,
                                    block_size=max(1, min(step, 256)))
        yield [float(q) for q in next(it)]
        yield from it
        return
    yield [None]
    if kind == "network":
        g = network.roads[mode]
        inputs = accessibility.od_search_inputs(g, origins, destinations, max_min,
                                                o.max_snap_m, o.access_speed_kmh)
        with distributed.session(o.scheduler) as client:
            for b0 in range(0, len(origins), step):
                rows = np.arange(b0, min(len(origins), b0 + step), dtype=np.int64)
                if client is None:
                    od = _search.search(inputs, rows, od=True)[2]
                else:
                    res = distributed.map_batches(_od_rows, (inputs, rows), len(rows),
                                                  scheduler=client,
                                                  label=f"{mode} travel-time matrix")
                    od = np.concatenate(res)
                t = od.astype(np.float64) / 60.0
                t[od == _kernels.INF32] = np.nan
                yield rows, t[:, :, None]
        return
    if kind == "skim":
        sk = network.skims[mode]
        oid, did = _ids(origins), _ids(dest)
        opos = pd.Series(np.arange(len(oid)), index=oid)
        dpos = pd.Series(np.arange(nd), index=did)
        sk = sk[sk["origin"].astype(str).isin(opos.index)
                & sk["destination"].astype(str).isin(dpos.index)]
        oi = opos.loc[sk["origin"].astype(str)].to_numpy()
        di = dpos.loc[sk["destination"].astype(str)].to_numpy()
        ts = sk["time_s"].to_numpy(dtype=np.float64)
        order = np.argsort(oi, kind="stable")
        oi, di, ts = oi[order], di[order], ts[order]
        for b0 in range(0, len(oid), step):
            rows = np.arange(b0, min(len(oid), b0 + step), dtype=np.int64)
            t = np.full((len(rows), nd), np.nan)
            lo, hi = np.searchsorted(oi, [rows[0], rows[-1] + 1])
            t[oi[lo:hi] - b0, di[lo:hi]] = ts[lo:hi] / 60.0
            t[t > max_min + 1e-9] = np.nan
            yield rows, t[:, :, None]
        return
    ox, oy = places.zone_points(origins)
    dx, dy = places.zone_points(dest)
    same = destinations is None
    own_d = accessibility.intrazonal_distance_m(origins) if same else None
    for b0 in range(0, len(ox), step):
        rows = np.arange(b0, min(len(ox), b0 + step), dtype=np.int64)
        d = np.hypot(ox[rows, None] - dx[None, :], oy[rows, None] - dy[None, :])
        if own_d is not None:
            d[np.arange(len(rows)), rows] = own_d[rows]
        t = np.rint(impedance.crowfly_seconds(d, mode)) / 60.0
        t[~(t <= max_min + 1e-9)] = np.nan
        yield rows, t[:, :, None]


def _pct_name(q: float | None) -> str:
    return "travel_time" if q is None else f"travel_time_p{round(q):g}"


def _main_pct(pcts: list[Any]) -> int:
    return pcts.index(50.0) if 50.0 in pcts else 0


def _prepare_places(origins: Any, destinations: Any, id_column: str | None
                    ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    o = places.as_places(origins, id_column, "origins")
    d = None if destinations is None else places.as_places(destinations, id_column,
                                                             "destinations")
    return o, d


class TravelTimeMatrix(pd.DataFrame):
    """Travel times between origins and destinations (a pandas DataFrame, like r5py's).

    Parameters
    ----------
    network : TransportNetwork
    origins : GeoDataFrame or path
        Points or polygons with an id (``id`` or ``zone_id``; see
        :func:`ruimtekit.io.places.as_places`). Polygons are routed from ``pop_x``/``pop_y``
        when present, else the centroid.
    destinations : GeoDataFrame or path, optional
        Another set of points or polygons (default: the origins).
    mode : str
        ``walk``, ``bike``, ``e_bike``, ``car`` (street network, skim or crow-fly, as the
        network has it), ``transit`` or ``bike_transit``.
    departure : str, optional
        One departure time ``HH:MM`` (transit; instead of a window).
    window : (str, str) or str, optional
        Departure window (transit; default the network's ``transit_params``,
        07:00–09:00, every minute).
    percentiles : sequence of float, optional
        Percentiles of the travel time over the window (transit; default [50]).
    options : RoutingOptions or dict, optional
        ``max_time_min`` (default 120), snapping, chunking, Dask scheduler, transit
        parameters.

    Notes
    -----
    Columns: ``from_id``, ``to_id`` (str), ``travel_time`` (minutes, float64; street
    networks in whole seconds / 60; transit the 50th percentile, or the first asked) and
    ``travel_time_p{p}`` per percentile when several are asked. Every origin × destination
    pair is a row; unreachable pairs (beyond ``max_time_min``, not on the network) are
    NaN. Street-network times include the access and egress legs from the edge linking
    (:func:`ruimtekit.network.networks.link`). ``attrs``: ``mode``, ``kind``, ``unit``.
    """

    _metadata: list[str] = []

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def __init__(
        self,
        network: TransportNetwork,
        origins: Any,
        destinations: Any = None,
        mode: str = "walk",
        departure: str | None = None,
        window: tuple[str, str] | str | None = None,
        percentiles: Sequence[float] | None = None,
        options: RoutingOptions | Mapping[str, Any] | None = None,
    ) -> None:
        opts = _options(options)
        o, d = _prepare_places(origins, destinations, None)
        p = None
        if mode in TRANSIT_MODES:
            p = transit_params(network, departure, window, percentiles, opts)
        elif departure is not None or window is not None or percentiles is not None:
            raise InputError(None, f"departure, window and percentiles apply to transit, "
                             f"not to {mode!r}", "leave them out for street modes")
        it = iter_matrix(network, o, d, mode, p, opts)
        pcts = next(it)
        oid, did = _ids(o), _ids(o if d is None else d)
        cols: dict[str, list[np.ndarray]] = {"from_id": [], "to_id": []}
        times: list[np.ndarray] = []
        for rows, t in it:
            cols["from_id"].append(np.repeat(oid[rows], len(did)))
            cols["to_id"].append(np.tile(did, len(rows)))
            times.append(t.reshape(-1, t.shape[2]))
        tt = np.concatenate(times) if times else np.zeros((0, len(pcts)))
        data: dict[str, Any] = {k: (np.concatenate(v) if v else np.array([], dtype=str))
                                for k, v in cols.items()}
        data["travel_time"] = tt[:, _main_pct(pcts)]
        if len(pcts) > 1:
            for j, q in enumerate(pcts):
                data[_pct_name(q)] = tt[:, j]
        super().__init__(data)
        self.attrs.update({"mode": mode, "kind": network.kind(mode), "unit": "minutes"})


# ======================================================================================
# writing matrices (streamed)
MATRIX_SUFFIXES = (".parquet", ".pq", ".csv", ".omx")


def write_matrix(
    network: TransportNetwork,
    origins: Any,
    destinations: Any,
    path: str | Path,
    mode: str = "walk",
    params: Any = None,
    options: RoutingOptions | None = None,
) -> dict[str, Any]:
    """Compute and write a travel-time matrix block by block (bounded memory).

    Parameters
    ----------
    network : TransportNetwork
    origins, destinations : GeoDataFrame or path
        As :class:`TravelTimeMatrix` (``destinations`` ``None`` = the origins).
    path : str or Path
        ``.parquet``/``.pq`` (one row group per block of origins, ``from_id``/``to_id``
        dictionary-encoded), ``.csv`` (long format) or ``.omx`` (OpenMatrix: one matrix
        per column, rows = origins and columns = destinations in input order, NaN
        unreachable; the ids as byte strings in the root attributes ``from_id`` and
        ``to_id``, and as OMX mappings of the same names when they are integers).
        Written atomically.
    mode : str
    params : TransitParams, optional
        Transit parameters (:func:`transit_params`).
    options : RoutingOptions, optional

    Returns
    -------
    dict
        ``path``, ``pairs``, ``reachable`` (pairs with a time), ``origins``,
        ``destinations``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MATRIX_SUFFIXES:
        raise InputError(path, f"unknown matrix format {path.suffix!r}",
                         f"use one of {', '.join(MATRIX_SUFFIXES)}")
    o, d = _prepare_places(origins, destinations, None)
    oid, did = _ids(o), _ids(o if d is None else d)
    if mode in TRANSIT_MODES and params is None:
        params = transit_params(network, options=options)
    it = iter_matrix(network, o, d, mode, params, options)
    pcts = next(it)
    main = _main_pct(pcts)
    names = ["travel_time"] + ([_pct_name(q) for q in pcts] if len(pcts) > 1 else [])
    stats = {"path": path, "pairs": 0, "reachable": 0, "origins": len(oid),
             "destinations": len(did)}
    o_dict, d_dict = pa.array(oid, pa.string()), pa.array(did, pa.string())
    schema = pa.schema([("from_id", pa.dictionary(pa.int32(), pa.string())),
                        ("to_id", pa.dictionary(pa.int32(), pa.string()))]
                       + [(n, pa.float64()) for n in names])
    with _io.atomic_path(path) as tmp:
        writer: Any = None
        omx_file: Any = None
        try:
            if suffix in (".parquet", ".pq"):
                writer = pq.ParquetWriter(tmp, schema)
            elif suffix == ".omx":
                omx_file = _open_omx(tmp, path, oid, did, names)
            else:
                writer = open(tmp, "w", encoding="utf-8", newline="")  # noqa: SIM115
                writer.write(",".join(["from_id", "to_id", *names]) + "\n")
            for rows, t in it:
                n = len(rows) * len(did)
                flat = t.reshape(n, t.shape[2])
                stats["pairs"] += n
                stats["reachable"] += int(np.isfinite(flat[:, main]).sum())
                cols = [flat[:, main]] + ([flat[:, j] for j in range(len(pcts))]
                                          if len(pcts) > 1 else [])
                if omx_file is not None:
                    for name, c in zip(names, cols, strict=True):
                        omx_file[name][rows[0]:rows[-1] + 1, :] = c.reshape(len(rows), -1)
                    continue
                fi = np.repeat(rows.astype(np.int32), len(did))
                ti = np.tile(np.arange(len(did), dtype=np.int32), len(rows))
                if isinstance(writer, pq.ParquetWriter):
                    batch = pa.table(
                        [pa.DictionaryArray.from_arrays(pa.array(fi), o_dict),
                         pa.DictionaryArray.from_arrays(pa.array(ti), d_dict),
                         *[pa.array(c, from_pandas=True) for c in cols]], schema=schema)
                    writer.write_table(batch)
                else:
                    pd.DataFrame({"from_id": oid[fi], "to_id": did[ti],
                                  **dict(zip(names, cols, strict=True))}).to_csv(
                        writer, header=False, index=False, na_rep="")
        finally:
            if writer is not None:
                writer.close()
            if omx_file is not None:
                omx_file.close()
    log.info("%s matrix: %d × %d pairs (%d reachable) written to %s", mode, len(oid),
             len(did), stats["reachable"], path)
    return stats


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit() and len(text) < 19


def _open_omx(tmp: Path, path: Path, oid: np.ndarray, did: np.ndarray, names: list[str]
              ) -> Any:
    try:
        import openmatrix as omx
        import tables
    except ImportError:
        raise InputError(path, "writing OMX needs the openmatrix package",
                         "pip install openmatrix, or write .parquet/.csv") from None
    f = omx.open_file(str(tmp), "w")
    for name in names:
        f.create_matrix(name, shape=(len(oid), len(did)),
                        atom=tables.Float64Atom(dflt=np.nan))
    # ids: root attributes (any string); OMX mappings as well when the ids are integers
    f.root._v_attrs["from_id"] = np.asarray(oid, dtype="S")
    f.root._v_attrs["to_id"] = np.asarray(did, dtype="S")
    if all(_is_int(i) for i in oid):
        f.create_mapping("from_id", np.asarray(oid, dtype=np.int64))
    if len(did) != len(oid) and all(_is_int(i) for i in did):
        f.create_mapping("to_id", np.asarray(did, dtype=np.int64))
    return f


# ======================================================================================
# accessibility
class Accessibility(gpd.GeoDataFrame):
    """Opportunities reachable from every origin, one search per origin and mode.

    Parameters
    ----------
    network : TransportNetwork
    origins : GeoDataFrame or path
        Points or polygons with an id (:func:`ruimtekit.io.places.as_places`).
    opportunities : GeoDataFrame, path or None
        Points or polygons carrying the ``opportunity`` column (e.g.
        :func:`read_opportunities` of a jobs table joined by code); ``None`` = the
        origins' own ``opportunity`` column (zones to zones; skims need this).
    mode : str
        A mode of ``network`` (see :class:`TravelTimeMatrix`).
    measures : MeasureSpec, optional
        Cutoffs (minutes) and decays, the same definitions for every mode (default 45).
    opportunity : str
        Opportunity column (``jobs``, ``establishments_proxy``, ...).
    options : RoutingOptions or dict, optional
        Snapping, horizon (``max_time_min``), Dask scheduler, transit parameters.

    Notes
    -----
    One row per origin: ``zone_id`` (the origin id), ``{opportunity}_{cutoff}min_{mode}``
    and ``{opportunity}_{decay}_{mode}`` (transit: ``_transit`` / ``_bike_transit`` with
    the percentile, see :func:`ruimtekit.analysis.transit_access.zone_accessibility`), geometry. Origins
    that cannot be routed get NaN and are listed in ``attrs["unsnapped"]``. This is a
    class (a GeoDataFrame) rather than a function ``accessibility`` so that it does not
    shadow the module :mod:`ruimtekit.analysis.accessibility`.
    """

    @classmethod
    def _geodataframe_constructor_with_fallback(cls, *args: Any, **kwargs: Any) -> Any:
        # derived frames (column selections, merges) are plain GeoDataFrames/DataFrames
        return gpd.GeoDataFrame._geodataframe_constructor_with_fallback(*args, **kwargs)

    def __init__(
        self,
        network: TransportNetwork,
        origins: Any,
        opportunities: Any = None,
        mode: str = "walk",
        measures: MeasureSpec | Mapping[str, Any] | None = None,
        opportunity: str = "jobs",
        options: RoutingOptions | Mapping[str, Any] | None = None,
    ) -> None:
        res = _accessibility(network, origins, opportunities, mode, measures, opportunity,
                             _options(options))
        super().__init__(res, geometry="geometry", crs=res.crs)
        self.attrs.update(res.attrs)


def _accessibility(network: TransportNetwork, origins: Any, opportunities: Any, mode: str,
                   measures: MeasureSpec | Mapping[str, Any] | None, opportunity: str,
                   o: RoutingOptions) -> gpd.GeoDataFrame:
    spec = measures if isinstance(measures, MeasureSpec) else MeasureSpec(**dict(measures or {}))
    if o.max_time_min is not None:
        spec = spec.model_copy(update={"horizon_min": o.max_time_min})
    orig = places.as_places(origins, None, "origins")
    dest = opportunities
    if isinstance(opportunities, (str, Path)):
        dest = read_opportunities(opportunities,
                                  column=None if opportunity == "jobs" else opportunity)
    elif dest is not None and not isinstance(dest, gpd.GeoDataFrame):
        raise InputError(None, f"the opportunities are a {type(dest).__name__}",
                         "give points or polygons (GeoDataFrame), a file, or None")
    kind = network.kind(mode)
    cuts, decs = spec.cutoffs, spec.decay_objects()
    if kind == "network":
        return accessibility.network_access(
            network.roads[mode], orig, dest, opportunity=opportunity, measures=spec,
            mode=mode, snapping=o, scheduler=o.scheduler)
    if kind == "crowfly":
        return accessibility.crowfly_access(orig, dest, opportunity=opportunity,
                                            measures=spec, mode=mode, scheduler=o.scheduler)
    if kind == "skim":
        if dest is not None:
            raise InputError(None, "a skim needs the opportunities on the origins (zones)",
                             "give the opportunities as a column of the origins")
        return accessibility.skim_access(network.skims[mode], orig, opportunity=opportunity,
                                         cutoffs=cuts, decays=decs, mode=mode,
                                         horizon_min=spec.horizon_min)
    ref = orig if dest is None else dest
    if opportunity not in ref.columns:
        raise InputError(ref.attrs.get("source"), f"no column {opportunity!r}",
                         f"choose the opportunity from {[c for c in ref.columns][:20]}")
    a_net, e_net = network.legs(mode)
    p = o.transit if o.transit is not None else network.transit_params
    df = transit_access.zone_accessibility(
        network.transit, orig, ref[opportunity].to_numpy(dtype=float) if dest is None else dest,
        opportunity=opportunity, access_mode=TRANSIT_MODES[mode], measures=spec, params=p,
        options=transit_access.TransitOptions(scheduler=o.scheduler, access_network=a_net,
                                              egress_network=e_net))
    out = gpd.GeoDataFrame(df, geometry=orig.geometry.to_numpy(), crs=orig.crs)
    out.attrs.update(df.attrs)
    out.attrs["mode"] = mode
    return out


# ======================================================================================
# isochrones
class IsochroneOptions(_config.Section):
    """How isochrone polygons are drawn.

    Attributes
    ----------
    cell_m : float, optional
        Grid cell (metres); default the reach radius / :data:`ISOCHRONE_CELLS`, at least
        :data:`ISOCHRONE_MIN_CELL_M`.
    routing : RoutingOptions
        Snapping, Dask scheduler, transit parameters.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    cell_m: float | None = Field(None, gt=0)
    routing: RoutingOptions = Field(default_factory=RoutingOptions)


def _reach_radius_m(network: TransportNetwork, mode: str, t_min: float) -> float:
    kind = network.kind(mode)
    if kind == "network":
        g = network.roads[mode]
        w = g.weights.astype(np.float64)
        ln = getattr(g, "length_m", None)
        if ln is not None and len(ln) == len(w) and np.isfinite(ln).all():
            v = float(np.max(np.asarray(ln, float) / np.maximum(w, 1.0)))
        else:
            u = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
            dist = np.hypot(g.x[u] - g.x[g.indices], g.y[u] - g.y[g.indices])
            v = float(np.max(dist / np.maximum(w, 1.0)))
        v = max(v, _search.ACCESS_SPEED_KMH.get(mode, _search.WALK_KMH) / 3.6)
        return 60.0 * t_min * v
    if kind == "transit":
        return 60.0 * t_min * TRANSIT_MAX_KMH / 3.6
    if kind == "crowfly":
        d = np.linspace(0.0, 60.0 * t_min * 200 / 3.6, 20001)
        ok = impedance.crowfly_seconds(d, mode) <= 60.0 * t_min
        return float(d[ok].max()) if ok.any() else 0.0
    raise InputError(None, f"isochrones of a skim ({mode!r}) are not defined (a skim has no "
                     "locations between zones)", "use a street network or crow-fly mode")


@contextlib.contextmanager
def _quiet_grid() -> Iterator[None]:
    """Grid cells off the network are expected: no per-cell snapping warnings."""
    lg = logging.getLogger(accessibility.__name__)
    level = lg.level
    lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        lg.setLevel(level)


def isochrones(
    network: TransportNetwork,
    points: Any,
    cutoffs: Sequence[float] = defaults.ISOCHRONE_CUTOFFS_MIN,
    mode: str = "walk",
    departure: str | None = None,
    options: IsochroneOptions | Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Areas reachable from each point within each cutoff, as polygons.

    Method: a square grid of cells (``cell_m``) covers the reach radius around each point
    (the longest distance the mode can cover in the largest cutoff); the travel time from
    the point to every cell centre is computed like a :class:`TravelTimeMatrix` (street
    networks: the centre is linked to the nearest edge and walked/ridden there, centres
    farther than ``max_snap_m`` from the network are unreachable; transit: the fastest
    of direct and transit trips at the departure; crow-fly: the model); the isochrone of
    cutoff T is the union of the cells whose centre is reached within T minutes. The
    edges are therefore accurate to one cell; holes are areas (parks, water, cells away
    from the network) that cannot be reached in time. Points that cannot be routed
    (farther than ``max_snap_m`` from the street network) get an empty polygon and a
    warning.

    Parameters
    ----------
    network : TransportNetwork
    points : GeoDataFrame or path
        Origins (points or polygons with an id, :func:`ruimtekit.io.places.as_places`).
    cutoffs : sequence of float
        Minutes.
    mode : str
        A mode of ``network`` (not a skim).
    departure : str, optional
        Departure time ``HH:MM`` (transit; default the network's window, 50th
        percentile).
    options : IsochroneOptions or dict, optional

    Returns
    -------
    GeoDataFrame
        ``zone_id`` (the point id), ``cutoff`` (minutes), ``area_km2``, geometry
        (MultiPolygon, working CRS), one row per point and cutoff (largest first).
    """
    io = options if isinstance(options, IsochroneOptions) else IsochroneOptions(
        **dict(options or {}))
    pts = places.as_places(points, None, "points")
    cuts = sorted((float(c) for c in cutoffs), reverse=True)
    if not cuts or any(not (c > 0 and math.isfinite(c)) for c in cuts):
        raise InputError(None, f"cutoffs {list(cutoffs)} must be positive minutes",
                         "give e.g. cutoffs=[15, 30]")
    radius = _reach_radius_m(network, mode, cuts[0])
    cell = io.cell_m or max(ISOCHRONE_MIN_CELL_M, radius / ISOCHRONE_CELLS)
    ro = io.routing.model_copy(update={"max_time_min": cuts[0]})
    p = None
    if mode in TRANSIT_MODES:
        p = transit_params(network, departure, None, None, ro)
    px, py = places.zone_points(pts)
    ids = _ids(pts)
    rows: list[dict[str, Any]] = []
    k = int(math.ceil(radius / cell))
    offs = (np.arange(-k, k + 1) * cell)
    gx, gy = np.meshgrid(offs, offs)
    inside = np.hypot(gx, gy) <= radius + cell
    gx, gy = gx[inside], gy[inside]
    routed = np.ones(len(pts), dtype=bool)
    if network.kind(mode) == "network":  # points off the street network reach nothing
        inputs = accessibility.od_search_inputs(network.roads[mode], pts, None, cuts[0],
                                                ro.max_snap_m, ro.access_speed_kmh)
        routed = np.diff(inputs.src_ptr) > 0
        if not routed.all():
            log.warning("%d of %d isochrone points are farther than %.0f m from the %s "
                        "network; their isochrones are empty: %s", int((~routed).sum()),
                        len(pts), ro.max_snap_m, mode, ", ".join(ids[~routed][:10]))
    for i in range(len(pts)):
        if not routed[i]:
            for c in cuts:
                rows.append({"zone_id": ids[i], "cutoff": c, "area_km2": 0.0,
                             "geometry": shapely.MultiPolygon()})
            continue
        cx, cy = px[i] + gx, py[i] + gy
        grid = gpd.GeoDataFrame({"zone_id": np.arange(len(cx)).astype(str)},
                                geometry=gpd.points_from_xy(cx, cy), crs=pts.crs)
        with _quiet_grid():
            it = iter_matrix(network, pts.iloc[[i]], grid, mode, p, ro)
            pcts = next(it)
            t = np.concatenate([b[:, :, _main_pct(pcts)] for _, b in it])[0]
        for c in cuts:
            ok = np.isfinite(t) & (t <= c + 1e-9)
            boxes = shapely.box(cx[ok] - cell / 2, cy[ok] - cell / 2, cx[ok] + cell / 2,
                                cy[ok] + cell / 2)
            geom = shapely.union_all(boxes, grid_size=cell / 100) if ok.any() else (
                shapely.MultiPolygon())
            if geom.geom_type == "Polygon":
                geom = shapely.MultiPolygon([geom])
            rows.append({"zone_id": ids[i], "cutoff": c, "area_km2": geom.area / 1e6,
                         "geometry": geom})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=pts.crs)
    out.attrs.update({"mode": mode, "cell_m": cell, "method": "grid cells reached"})
    return out


# ======================================================================================
# opportunities
def read_opportunities(
    path: str | Path,
    geometry: str | Path | gpd.GeoDataFrame | None = None,
    join_on: str | None = None,
    column: str | None = None,
) -> gpd.GeoDataFrame:
    """Opportunities as points or polygons: a located file, or a table joined by code.

    Parameters
    ----------
    path : str or Path
        Points or polygons with an opportunity column, or a table of counts per code
        without geometry (e.g. ``data/raw/cbs_wijk_banen_2014.csv``: ``wk_code``,
        ``banen_werkplaats``; a jobs CSV per PC4 code).
    geometry : path or GeoDataFrame, optional
        Where the codes of a table are (points or polygons, e.g.
        ``data/raw/cbs_wijk_centroids_2015.geojson`` or the zones themselves).
    join_on : str, optional
        ``table_column=geometry_column`` (or one name for both); default the zone code
        columns found in each file (``wk_code`` ↔ ``code``; a geometry layer given as a
        GeoDataFrame, such as the zones, joins on its ``zone_id``). Codes are normalised
        as zone codes (PC4 ``1011``, ``WK036300``) on both sides.
    column : str, optional
        The opportunity column when it is not a jobs column
        (:func:`ruimtekit.io.layers.read_jobs` finds ``jobs``, ``banen``, ...).

    Returns
    -------
    GeoDataFrame
        Located opportunities in the working CRS, with ``zone_id`` (the code, or a row
        number for point files without one) and the opportunity column (``jobs``, or
        ``establishments_proxy``, or ``column``). Codes without a location are dropped,
        counted in ``attrs["unmatched_codes"]`` / ``attrs["unmatched_total"]`` and
        warned about; rows without a value or an (empty) geometry are dropped with a
        warning (``attrs["dropped_rows"]``).
    """
    from ruimtekit.io import layers

    path = Path(path)
    cols = {"jobs": column} if column else None
    if isinstance(geometry, gpd.GeoDataFrame):
        left, _, right = (join_on or "").partition("=")
        left, right = left.strip(), (right.strip() or left.strip())
        if left:
            cols = {**(cols or {}), "zone_id": left}
        tab = layers.read_jobs(path, columns=cols)
        if tab.attrs.get("geometry_kind") != "none":
            raise InputError(path, "the table already has locations but a geometry was "
                             "also given", "leave out the geometry (--opportunities-geometry)")
        geo_col = right if right in geometry.columns else "zone_id"
        if geo_col not in geometry.columns:
            raise InputError(None, f"join column {geo_col!r} not in the geometry layer",
                             f"use one of {[c for c in geometry.columns][:20]}")
        lookup = pd.Series(geometry.geometry.to_numpy(),
                           index=geometry[geo_col].astype(str).to_numpy())
        ok = tab["zone_id"].astype(str).isin(lookup.index).to_numpy()
        measure = tab.attrs["measure"]
        lost = tab.loc[~ok, "zone_id"].astype(str).tolist()
        lost_total = float(np.nansum(tab.loc[~ok, measure]))
        if len(tab) and not ok.any():
            raise InputError(path, f"none of the {len(tab)} codes of the table (e.g. "
                             f"{lost[:3]}) is in {geo_col!r} of the geometry layer (e.g. "
                             f"{lookup.index[:3].tolist()})",
                             "join on matching columns (--join-on table_column="
                             "geometry_column) or give --opportunities-geometry with these "
                             "codes (e.g. data/raw/cbs_wijk_centroids_2015.geojson for "
                             "wk_code)")
        if lost:
            share = lost_total / max(float(np.nansum(tab[measure])), 1e-9)
            log.warning("%s: %d code(s) (%.0f %s, %.1f%% of the total) have no location "
                        "and are left out: %s", path.name, len(lost), lost_total, measure,
                        100 * share, ", ".join(lost[:10]))
        out = tab.loc[ok].copy()
        out["geometry"] = lookup.loc[out["zone_id"].astype(str)].to_numpy()
        res = gpd.GeoDataFrame(out, geometry="geometry", crs=geometry.crs)
        res.attrs.update(tab.attrs, unmatched_codes=lost, unmatched_total=lost_total,
                         geometry_kind="joined")
    else:
        res = layers.read_jobs(path, columns=cols, geometry=geometry, join_on=join_on)
        if res.attrs.get("geometry_kind") == "none":
            raise InputError(path, "the opportunities table has no locations",
                             "give the geometry file to join the codes to "
                             "(--opportunities-geometry; the zones file for codes of the "
                             "zones) and --join-on table_column=geometry_column")
    if column and column != "jobs" and "jobs" in res.columns:
        res = res.rename(columns={"jobs": column})
    col = column if column and column in res.columns else res.attrs.get("measure", "jobs")
    # rows without a value (read_jobs warned: not counted) or without a location cannot
    # be destinations: drop them, counted
    no_value = res[col].isna().to_numpy() if col in res.columns else np.zeros(len(res), bool)
    no_place = (res.geometry.isna() | res.geometry.is_empty).to_numpy()
    drop = no_value | no_place
    if drop.any():
        lost = float(np.nansum(res.loc[no_place & ~no_value, col]))
        log.warning("%s: %d row(s) left out of the opportunities: %d without a %s value, "
                    "%d without a location (%.0f %s)", path.name, int(drop.sum()),
                    int(no_value.sum()), col, int((no_place & ~no_value).sum()), lost, col)
        res = res.loc[~drop].reset_index(drop=True)
        res.attrs["dropped_rows"] = int(drop.sum())
    if "zone_id" not in res.columns:
        res["zone_id"] = np.arange(len(res)).astype(str)
    res.attrs["source"] = str(path)
    return res
