"""Transit accessibility: range-RAPTOR over GTFS timetables and frequency-based graphs.

Three kinds of transit network feed the same zone-level measures:

``gtfs``
    A GTFS timetable (:mod:`ruimtekit.io.gtfs`) routed with range-RAPTOR
    (:func:`raptor_range`, kernels in :mod:`ruimtekit.engine._raptor`) over a departure window;
    travel times are summarised per origin–destination as percentiles over the departure
    minutes (like R5/r5py: the 50th percentile by default).
``transit_graph``
    A stop-level graph without a timetable (:func:`read_transit_graph_gml`, e.g. the
    bundled Amsterdam GVB/NS graph): in-vehicle times on the edges, waiting = half the
    headway per route type (:data:`DEFAULT_HEADWAYS_MIN`), route-aware so that every
    boarding (including transfers) costs a wait. The result is a :class:`graph.Graph`.
``ns_rail``
    The national rail network of :mod:`ruimtekit.engine.rail`.

Zones reach stops by access legs (walk or bike, straight-line leg models or a street
network), and stops reach destinations by egress legs (walk, or bike); the travel time of
a pair is the faster of that and the direct walk/bike trip, which may take the whole
budget. Every routing setting is a field of :class:`TransitParams`. Measures come
from :func:`ruimtekit.engine.measures.aggregate_times`, computed per block of origins so that
no zone × zone × departure cube is ever stored. Measure columns are named
``{opportunity}_{cutoff}min_{mode}`` with mode ``transit`` (walk–transit–walk) or
``bike_transit`` (bike–transit–walk, the Dutch default of cycling to the station).

Default assumptions (all configurable, :class:`TransitParams`): walking transfers between
stops within 400 m straight-line distance at 4.8 km/h with a detour factor of 1.0 (i.e.
400 m ≈ 5 min; or over a street network, :func:`street_transfers`); a 60 s minimum change
time when boarding at the stop where one alighted (overridden per stop by
``transfers.txt`` ``transfer_type=2`` entries with ``from_stop_id == to_stop_id``); no
board slack on other boardings (R5: 60 s); at most 5 transfers (6 rides); trips longer than
120 min count as unreachable. Coordinates are in the working CRS (:mod:`ruimtekit._crs`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from ruimtekit import _crs, _validate, defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._config import Section
from ruimtekit._errors import InputError, NetworkError
from ruimtekit.engine import _kernels, _raptor, batches, impedance
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay, aggregate_times, measure_list
from ruimtekit.io import gtfs
from ruimtekit.network import graph as _graph

log = logging.getLogger(__name__)

#: Default headways (minutes) per GTFS route_type for networks without a timetable
#: (:data:`ruimtekit.defaults.HEADWAYS_MIN`; every default below is documented there).
DEFAULT_HEADWAYS_MIN: dict[int, float] = dict(defaults.HEADWAYS_MIN)
ROUTE_TYPE_NAMES = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry"}

WALK_SPEED_KMH = defaults.WALK_SPEED_KMH
BIKE_SPEED_KMH = defaults.BIKE_SPEED_KMH
TRANSFER_RADIUS_M = defaults.TRANSFER_RADIUS_M
TRANSFER_DETOUR = defaults.TRANSFER_DETOUR
CHANGE_SLACK_S = defaults.CHANGE_SLACK_S
BOARD_SLACK_S = defaults.BOARD_SLACK_S
#: farthest snap of a zone or stop to a street network (m)
MAX_SNAP_M = defaults.MAX_SNAP_M
MAX_TRANSFERS = defaults.MAX_TRANSFERS
MAX_TIME_MIN = defaults.MAX_TIME_MIN
#: longest access leg per mode (minutes, parking included)
ACCESS_MAX_MIN = dict(defaults.ACCESS_MAX_MIN)
#: longest egress leg per mode (minutes)
EGRESS_MAX_MIN = dict(defaults.EGRESS_MAX_MIN)
#: legacy straight-line access radii (m); ``access_radius_m`` converts to a leg time
ACCESS_RADIUS_M = dict(defaults.ACCESS_RADIUS_M)
#: largest share of zones without an opportunity value that a study block accepts
MISSING_OPPORTUNITY_SHARE = defaults.MISSING_OPPORTUNITY_SHARE
#: column mode labels per access mode
MODE_LABEL = {"walk": "transit", "bike": "bike_transit"}
LegMode = Literal["walk", "bike"]


class TransitParams(Section):
    """Routing parameters of transit trips (defaults: :mod:`ruimtekit.defaults`, transit routing).

    The defaults are the project's Dutch ones; the R5 (Conveyal; r5r/r5py) defaults are
    given for reference — set them to mimic R5.

    Attributes
    ----------
    walk_speed_kmh : float, optional
        Walking speed of access, egress, direct walks and transfers (km/h). Default
        ``None``: crow-fly legs use the fitted walk model of
        :data:`ruimtekit.engine.impedance.DEFAULT_MODELS` (the same as crow-fly walk
        accessibility, so a direct walk never differs from it); walks over a street network
        and transfers use :data:`WALK_SPEED_KMH` (4.8). R5 uses 3.6.
    bike_speed_kmh : float, optional
        Cycling speed (km/h). Default ``None``: the fitted bike model for crow-fly legs,
        :data:`BIKE_SPEED_KMH` (15) on a street network. R5 uses 12.
    leg_detour : float, optional
        Straight line → street factor of crow-fly legs when a speed is set (default: the
        fitted model's detour); street-network legs (``access_network``) follow the network.
    bike_park_min : float, optional
        Minutes to park a bike, added to bike legs (default: the fitted bike model's 1).
    max_access_min : dict of {'walk', 'bike'} to float
        Longest access leg per mode (minutes; walk 15, bike 20; R5 walk/bike 20).
    egress_mode : {'walk', 'bike'}
        Mode from the last stop to the destination (walk; ``bike`` = a bike at the
        station, e.g. OV-fiets).
    max_egress_min : dict of {'walk', 'bike'} to float
        Longest egress leg per mode (minutes; walk 15, bike 20; R5 egress ≤ 2,000 m).
    max_direct_min : float, optional
        Longest direct trip by the access mode (no transit). Default: the whole budget
        ``max_time_min`` — the result is min(direct, access + transit + egress).
    max_time_min : float
        Trips longer than this are unreachable (minutes; 120).
    max_rides : int
        Most vehicles boarded per trip (6 = 5 transfers; R5 8).
    transfer_radius_m : float
        Walking transfers between stops within this straight-line distance (m; 400;
        R5 1,000 over the street network).
    transfer_detour : float
        Detour factor of walking transfers (1.0 = straight line).
    change_slack_s : int
        Minimum change time when boarding at the stop one alighted at (s; 60).
    board_slack_s : int
        Minimum wait before *every* boarding, the first one included (s; 0; R5 60).
        At the stop one alighted at, the larger of the two slacks applies.
    window_start, window_end : str
        Departure window ``HH:MM`` (07:00–09:00; end exclusive; timetables only).
    step_s : int
        Departure step in the window (s; 60).
    percentiles : list of float
        Travel-time percentiles over the departures (nearest rank; [50]).
    k_nearest : int, optional
        Keep at most this many nearest stops per zone (default all within the limits;
        the NS rail network uses 5).
    max_snap_m : float
        With street networks: zones and stops farther than this from the nearest network
        node get no legs (m; 500; R5 links to the nearest edge within 1,600 m). The snap
        leg is walked/cycled at the mode's speed.
    """

    walk_speed_kmh: float | None = Field(None, gt=0)
    bike_speed_kmh: float | None = Field(None, gt=0)
    leg_detour: float | None = Field(None, ge=1.0)
    bike_park_min: float | None = Field(None, ge=0)
    max_access_min: dict[LegMode, float] = Field(default_factory=lambda: dict(ACCESS_MAX_MIN))
    egress_mode: LegMode = "walk"
    max_egress_min: dict[LegMode, float] = Field(default_factory=lambda: dict(EGRESS_MAX_MIN))
    max_direct_min: float | None = Field(None, ge=0)
    max_time_min: float = Field(MAX_TIME_MIN, gt=0)
    max_rides: int = Field(MAX_TRANSFERS + 1, ge=1, le=16)
    transfer_radius_m: float = Field(TRANSFER_RADIUS_M, ge=0)
    transfer_detour: float = Field(TRANSFER_DETOUR, ge=1.0)
    change_slack_s: int = Field(CHANGE_SLACK_S, ge=0)
    board_slack_s: int = Field(BOARD_SLACK_S, ge=0)
    window_start: str = defaults.TRANSIT_WINDOW[0]
    window_end: str = defaults.TRANSIT_WINDOW[1]
    step_s: int = Field(defaults.DEPARTURE_STEP_S, gt=0)
    percentiles: list[float] = Field(default_factory=lambda: list(defaults.PERCENTILES))
    k_nearest: int | None = Field(None, ge=1)
    max_snap_m: float = Field(MAX_SNAP_M, gt=0)

    @field_validator("percentiles")
    @classmethod
    def _pct_ok(cls, v: list[float]) -> list[float]:
        if not v or any(p < 0 or p > 100 for p in v):
            raise ValueError("give percentiles between 0 and 100, e.g. [5, 50, 95]")
        return v

    @field_validator("max_access_min", "max_egress_min")
    @classmethod
    def _limits_ok(cls, v: dict[str, float]) -> dict[str, float]:
        if any(t < 0 for t in v.values()):
            raise ValueError("leg limits are minutes >= 0")
        return v

    @property
    def transfers(self) -> int:
        """Transfers allowed (``max_rides - 1``)."""
        return self.max_rides - 1

    @property
    def window(self) -> tuple[str, str]:
        """``(window_start, window_end)``."""
        return self.window_start, self.window_end

    def departures(self) -> np.ndarray:
        """Departure seconds of the window (see :func:`departure_times`)."""
        return departure_times(self.window_start, self.window_end, self.step_s)

    def leg_model(self, mode: str) -> Any:
        """The crow-fly leg model (:class:`ruimtekit.engine.impedance.CrowflyModel`) of ``mode``."""

        if mode not in ("walk", "bike"):
            raise InputError(None, f"unknown leg mode {mode!r}", "use walk or bike")
        fitted = impedance.model_for(mode)
        speed = self.walk_speed_kmh if mode == "walk" else self.bike_speed_kmh
        update: dict[str, Any] = {}
        if speed is not None:
            update["speed_curve"] = [(0.0, float(speed))]
        if self.leg_detour is not None:
            update["detour_factor"] = float(self.leg_detour)
        if mode == "bike" and self.bike_park_min is not None:
            update["fixed_min"] = float(self.bike_park_min)
        return fitted.model_copy(update=update) if update else fitted

    def speed_kmh(self, mode: str) -> float:
        """Speed of ``mode`` on a street network and for transfers (km/h): the set speed,
        else :data:`WALK_SPEED_KMH` / :data:`BIKE_SPEED_KMH`."""
        if mode == "walk":
            return WALK_SPEED_KMH if self.walk_speed_kmh is None else self.walk_speed_kmh
        return BIKE_SPEED_KMH if self.bike_speed_kmh is None else self.bike_speed_kmh

    def access_s(self, mode: str) -> float:
        """Longest access leg of ``mode`` (s)."""
        return 60.0 * self.max_access_min.get(mode, ACCESS_MAX_MIN[mode])

    def egress_s(self) -> float:
        """Longest egress leg (s)."""
        m = self.egress_mode
        return 60.0 * self.max_egress_min.get(m, EGRESS_MAX_MIN[m])

    def direct_s(self) -> float:
        """Longest direct trip (s): ``max_direct_min`` or the whole budget."""
        return 60.0 * (self.max_time_min if self.max_direct_min is None
                       else min(self.max_direct_min, self.max_time_min))

    def with_radius(self, mode: str, radius_m: float, leg: str = "access") -> TransitParams:
        """Copy whose ``mode`` access (``leg="access"``) or egress (``leg="egress"``) limit
        is the leg time of a straight-line radius (m)."""

        t = float(impedance.crowfly_seconds(radius_m, self.leg_model(mode))) / 60.0
        if leg == "egress":
            return self.model_copy(update={"max_egress_min": {**self.max_egress_min, mode: t}})
        if leg != "access":
            raise InputError(None, f"unknown leg {leg!r}", "use access or egress")
        return self.model_copy(update={"max_access_min": {**self.max_access_min, mode: t}})

    def leg_options(self, mode: str, *, reverse: bool = False,
                    k_nearest: int | None = None) -> LegOptions:
        """:class:`LegOptions` of street-network legs of ``mode``: the snap limit
        ``max_snap_m``, the mode's speed (:meth:`speed_kmh`) and its terminal time (the
        crow-fly leg model's ``fixed_min``, e.g. ``bike_park_min``)."""
        return LegOptions(reverse=reverse, k_nearest=k_nearest, max_snap_m=self.max_snap_m,
                          speed_kmh=self.speed_kmh(mode),
                          terminal_s=60.0 * self.leg_model(mode).fixed_min)

    def updated(self, **changes: Any) -> TransitParams:
        """Validated copy with ``changes`` (``None`` values are ignored)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return TransitParams(**data)


def as_params(params: TransitParams | dict[str, Any] | None = None,
              **changes: Any) -> TransitParams:
    """A :class:`TransitParams` from an instance, a dict or nothing, with ``changes``
    (``None`` values ignored; ``max_transfers`` sets ``max_rides``; ``window`` a pair)."""
    p = params if isinstance(params, TransitParams) else TransitParams(**(params or {}))
    if changes.get("max_transfers") is not None:
        if int(changes["max_transfers"]) < 0:
            raise InputError(None, f"max_transfers {changes['max_transfers']} is negative",
                             "give 0 or more transfers (rides = transfers + 1)")
        changes["max_rides"] = int(changes["max_transfers"]) + 1
    changes.pop("max_transfers", None)
    win = changes.pop("window", None)
    if win is not None:
        changes["window_start"], changes["window_end"] = str(win[0]), str(win[1])
    if changes.get("percentiles") is not None:
        changes["percentiles"] = [float(x) for x in changes["percentiles"]]
    return p.updated(**changes) if any(v is not None for v in changes.values()) else p


# ============================================================== timetable network (RAPTOR)
@dataclass
class TransitNetwork:
    """A timetable prepared for RAPTOR: stop patterns with FIFO trips, footpaths.

    Attributes
    ----------
    stop_ids, stop_names : ndarray of str
    x, y : ndarray of float64
        Stop coordinates, EPSG:28992 (m).
    pat_stop_ptr, pat_stops : ndarray
        CSR of the stop sequence of each pattern (stop indices).
    pat_trip_ptr, pat_time_ptr : ndarray of int64
        Trip count offsets and time-array offsets per pattern.
    arr_t, dep_t : ndarray of int64
        Arrival/departure seconds, pattern-major ``[time_ptr[p] + trip * len + pos]``,
        trips sorted so that no trip overtakes another (FIFO per pattern).
    stop_pat_ptr, stop_pat, stop_pat_pos : ndarray
        For each stop, the patterns serving it and the position in each.
    fp_ptr, fp_to, fp_s : ndarray
        Footpath CSR (seconds) between different stops.
    slack : ndarray of int64
        Minimum change time per stop (s) after alighting there before boarding there.
    date : date or None
    meta : dict
    pat_board, pat_alight : ndarray of bool, optional
        Aligned with ``pat_stops``: whether passengers may board / alight at that position
        (GTFS ``pickup_type`` / ``drop_off_type`` 1 forbids it; the flags are part of the
        pattern key, so they hold for every trip of the pattern). None = everywhere.
    trips : DataFrame, optional
        One row per trip run in pattern order (row ``pat_trip_ptr[p] + k`` is trip ``k`` of
        pattern ``p``): ``trip_id`` (the feed's id, ``<feed>:<id>`` with several feeds),
        ``run`` (frequency run, −1 = scheduled), ``service_day`` (−1 = previous day's trip
        running past midnight), ``route_id``, ``route_type``, ``feed``.
    """

    stop_ids: np.ndarray
    stop_names: np.ndarray
    x: np.ndarray
    y: np.ndarray
    pat_stop_ptr: np.ndarray
    pat_stops: np.ndarray
    pat_trip_ptr: np.ndarray
    pat_time_ptr: np.ndarray
    arr_t: np.ndarray
    dep_t: np.ndarray
    stop_pat_ptr: np.ndarray
    stop_pat: np.ndarray
    stop_pat_pos: np.ndarray
    fp_ptr: np.ndarray
    fp_to: np.ndarray
    fp_s: np.ndarray
    slack: np.ndarray
    date: _dt.date | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    pat_board: np.ndarray | None = None
    pat_alight: np.ndarray | None = None
    trips: pd.DataFrame | None = None

    @property
    def n_stops(self) -> int:
        """Number of stops."""
        return int(self.stop_ids.shape[0])

    @property
    def n_patterns(self) -> int:
        """Number of FIFO stop patterns (RAPTOR routes)."""
        return int(self.pat_stop_ptr.shape[0] - 1)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (f"TransitNetwork({self.n_stops:,} stops, {self.n_patterns:,} patterns, "
                f"{int(self.pat_trip_ptr[-1]):,} trips, {len(self.fp_to):,} footpaths)")


def walking_seconds(dist_m: np.ndarray, speed_kmh: float = WALK_SPEED_KMH,
                    detour: float = 1.0) -> np.ndarray:
    """Walking time (s, rounded up) for straight-line distances (m)."""
    return np.ceil(np.asarray(dist_m, dtype=np.float64) * detour / (speed_kmh / 3.6))


def _footpaths(
    x: np.ndarray, y: np.ndarray, stop_index: pd.Index, transfers: pd.DataFrame | None,
    radius_m: float, speed_kmh: float, detour: float, change_slack_s: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from scipy.spatial import cKDTree

    n = x.shape[0]
    pairs = np.zeros((0, 2), dtype=np.int64)
    if radius_m > 0 and n > 1:
        tree = cKDTree(np.column_stack([x, y]))
        pairs = tree.query_pairs(radius_m, output_type="ndarray").astype(np.int64)
        pairs = np.concatenate([pairs, pairs[:, ::-1]])
    d = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    fp = pd.DataFrame({"u": pairs[:, 0], "v": pairs[:, 1],
                       "s": walking_seconds(d, speed_kmh, detour)})
    slack = np.full(n, int(change_slack_s), dtype=np.int64)
    if transfers is not None and len(transfers):
        u = stop_index.get_indexer(transfers["from_stop_id"])
        v = stop_index.get_indexer(transfers["to_stop_id"])
        ok = (u >= 0) & (v >= 0)
        tt = transfers["transfer_type"].to_numpy()
        mtt = transfers["min_transfer_time"].to_numpy(dtype=np.float64)
        same = ok & (u == v)
        typ2 = same & (tt == 2) & np.isfinite(mtt)
        slack[u[typ2]] = mtt[typ2].astype(np.int64)
        other = ok & (u != v)
        dist = np.hypot(x[u[other]] - x[v[other]], y[u[other]] - y[v[other]])
        secs = np.where((tt[other] == 2) & np.isfinite(mtt[other]), mtt[other],
                        walking_seconds(dist, speed_kmh, detour))
        listed = pd.DataFrame({"u": u[other], "v": v[other], "s": secs, "t": tt[other]})
        key = fp["u"].to_numpy() * n + fp["v"].to_numpy()
        lkey = listed["u"].to_numpy() * n + listed["v"].to_numpy()
        fp = fp[~np.isin(key, lkey)]
        fp = pd.concat([fp, listed[listed["t"] != 3][["u", "v", "s"]]], ignore_index=True)
    fp = fp.sort_values(["u", "v"], kind="stable")
    counts = np.bincount(fp["u"].to_numpy(dtype=np.int64), minlength=n)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, fp["v"].to_numpy(dtype=np.int64), fp["s"].to_numpy(dtype=np.int64), slack


def build_network(
    source: Any,
    date: str | _dt.date | None = None,
    *,
    transfer_radius_m: float = TRANSFER_RADIUS_M,
    walk_speed_kmh: float = WALK_SPEED_KMH,
    walk_detour: float = 1.0,
    change_slack_s: int = CHANGE_SLACK_S,
    time_range_s: tuple[float, float] | None = None,
) -> TransitNetwork:
    """Prepare one or several GTFS feeds for RAPTOR.

    Parameters
    ----------
    source : gtfs.Feed, gtfs.Timetable, str, Path, or a sequence of feeds/paths
        Feeds or GTFS paths (``date`` required), or a timetable for one date. Several
        feeds are merged (:func:`ruimtekit.io.gtfs.timetable`): ids become ``<feed>:<id>``
        and walking transfers connect stops of different feeds by distance like any
        other stops.
    date : str or date, optional
        Service date ``YYYY-MM-DD`` (when ``source`` is feeds or paths).
    transfer_radius_m : float
        Walking transfers between stops within this straight-line distance (m; 400).
    walk_speed_kmh, walk_detour : float
        Walking speed (km/h; 4.8) and detour factor (1.0) for transfer times.
    change_slack_s : int
        Minimum change time (s; 60) before boarding at the stop one alighted at.
    time_range_s : (float, float), optional
        Keep only trips running within this interval (s after midnight), e.g. the
        departure window extended by the maximum trip duration (counted per feed in the
        report as ``outside the time window``).

    Returns
    -------
    TransitNetwork
        ``trips`` lists every trip run in pattern order; ``meta['feeds']`` holds the
        per-feed reports (:class:`ruimtekit.io.gtfs.FeedReport`).
    """
    tt = _as_timetable(source, date)
    st = tt.stop_times
    if time_range_s is not None:
        lo, hi = time_range_s
        g = st.groupby("trip", sort=False)
        keep = ((g["arrival_s"].transform("max") >= lo)
                & (g["departure_s"].transform("min") <= hi)).to_numpy()
        out = st.loc[~keep & (st["service_day"] == 0).to_numpy()]
        gone = out.groupby("feed")["trip"].nunique()
        for rep in tt.reports:
            rep.dropped["outside the time window"] = int(gone.get(rep.name, 0))
        st = st[keep]
    stops = tt.stops.reset_index(drop=True)
    stop_index = pd.Index(stops["stop_id"])
    sidx = stop_index.get_indexer(st["stop_id"])
    if (sidx < 0).any():
        raise InputError(tt.source, "stop_times.txt uses stations (location_type=1) as stops",
                         "refer to platforms/stops (location_type 0) in stop_times.txt")
    st = st.assign(sidx=sidx).sort_values(["trip", "stop_sequence"], kind="stable")
    trip_codes, trip_pos = np.unique(st["trip"].to_numpy(), return_inverse=True)
    n_trip = trip_codes.shape[0]
    if n_trip == 0:
        raise NetworkError(f"{tt.source}: no trips run on {tt.date}"
                           + (f" within {time_range_s[0] / 3600:.2f}–"
                              f"{time_range_s[1] / 3600:.2f} h" if time_range_s else ""))
    counts = np.bincount(trip_pos, minlength=n_trip)
    starts = np.concatenate([[0], np.cumsum(counts)])
    s_arr = st["sidx"].to_numpy(dtype=np.int64)
    a_arr = st["arrival_s"].to_numpy(dtype=np.int64)
    d_arr = st["departure_s"].to_numpy(dtype=np.int64)
    n_st = len(st)
    b_arr = (st["can_board"].to_numpy(dtype=bool) if "can_board" in st
             else np.ones(n_st, dtype=bool))
    al_arr = (st["can_alight"].to_numpy(dtype=bool) if "can_alight" in st
              else np.ones(n_st, dtype=bool))
    # pattern key = the stop sequence and where boarding / alighting is allowed
    flags = (b_arr.astype(np.int64) << 33) | (al_arr.astype(np.int64) << 32)
    keyed = s_arr | flags
    keys = [keyed[starts[i]:starts[i + 1]].tobytes() for i in range(n_trip)]
    key_codes, pat_of_trip = np.unique(np.array(keys, dtype=object), return_inverse=True)

    pat_stops_l: list[np.ndarray] = []
    board_l: list[np.ndarray] = []
    alight_l: list[np.ndarray] = []
    arr_l: list[np.ndarray] = []
    dep_l: list[np.ndarray] = []
    n_trips_l: list[int] = []
    trip_order_l: list[np.ndarray] = []
    order = np.argsort(pat_of_trip, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(pat_of_trip))])
    for p in range(key_codes.shape[0]):
        trips = order[bounds[p]:bounds[p + 1]]
        L = int(counts[trips[0]])
        if L < 2:  # gtfs.timetable already drops these
            continue
        idx = starts[trips][:, None] + np.arange(L)[None, :]
        A = a_arr[idx]
        D = d_arr[idx]
        o = np.lexsort((A[:, -1], D[:, 0]))
        A, D, trips = A[o], D[o], trips[o]
        # split into FIFO groups (no trip overtakes another anywhere along the pattern)
        groups: list[list[int]] = []
        last: list[int] = []
        for i in range(A.shape[0]):
            for gi, j in enumerate(last):
                if np.all(A[i] >= A[j]) and np.all(D[i] >= D[j]):
                    groups[gi].append(i)
                    last[gi] = i
                    break
            else:
                groups.append([i])
                last.append(i)
        for grp in groups:
            pat_stops_l.append(s_arr[starts[trips[0]]:starts[trips[0]] + L])
            board_l.append(b_arr[starts[trips[0]]:starts[trips[0]] + L])
            alight_l.append(al_arr[starts[trips[0]]:starts[trips[0]] + L])
            arr_l.append(A[grp].ravel())
            dep_l.append(D[grp].ravel())
            n_trips_l.append(len(grp))
            trip_order_l.append(trips[grp])
    if not pat_stops_l:
        raise NetworkError(f"{tt.source}: no trips with two or more stops run on {tt.date}")
    lens = np.array([len(p) for p in pat_stops_l], dtype=np.int64)
    pat_stop_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    pat_stops = np.concatenate(pat_stops_l).astype(np.int64)
    ntr = np.array(n_trips_l, dtype=np.int64)
    pat_trip_ptr = np.concatenate([[0], np.cumsum(ntr)]).astype(np.int64)
    pat_time_ptr = np.concatenate([[0], np.cumsum(ntr * lens)]).astype(np.int64)
    arr_t = np.concatenate(arr_l).astype(np.int64)
    dep_t = np.concatenate(dep_l).astype(np.int64)
    n_stops = len(stops)
    pat_of_entry = np.repeat(np.arange(len(lens)), lens)
    pos_of_entry = np.arange(pat_stops.shape[0]) - pat_stop_ptr[pat_of_entry]
    o = np.lexsort((pos_of_entry, pat_of_entry, pat_stops))
    stop_pat_ptr = np.concatenate(
        [[0], np.cumsum(np.bincount(pat_stops, minlength=n_stops))]).astype(np.int64)
    x = stops["x"].to_numpy(dtype=np.float64)
    y = stops["y"].to_numpy(dtype=np.float64)
    fp_ptr, fp_to, fp_s, slack = _footpaths(
        x, y, stop_index, tt.transfers, transfer_radius_m, walk_speed_kmh, walk_detour,
        change_slack_s)
    first = st.iloc[starts[:-1]]
    tcols = ["trip_id", "run", "service_day", "route_id", "route_type", "feed"]
    trips_tab = first[tcols].iloc[np.concatenate(trip_order_l)].reset_index(drop=True)
    for rep in tt.reports:
        n_out = rep.dropped.get("outside the time window", 0)
        if n_out:
            log.info("feed %s: %d of its %d trips on %s run outside %.2f–%.2f h and are left "
                     "out", rep.name, n_out, rep.trips_kept, tt.date,
                     time_range_s[0] / 3600, time_range_s[1] / 3600)
    net = TransitNetwork(
        stop_ids=stops["stop_id"].to_numpy(dtype=object),
        stop_names=stops["stop_name"].fillna("").to_numpy(dtype=object),
        x=x, y=y, pat_stop_ptr=pat_stop_ptr, pat_stops=pat_stops, pat_trip_ptr=pat_trip_ptr,
        pat_time_ptr=pat_time_ptr, arr_t=arr_t, dep_t=dep_t, stop_pat_ptr=stop_pat_ptr,
        stop_pat=pat_of_entry[o].astype(np.int64), stop_pat_pos=pos_of_entry[o].astype(np.int64),
        fp_ptr=fp_ptr, fp_to=fp_to, fp_s=fp_s, slack=slack, date=tt.date,
        pat_board=np.concatenate(board_l), pat_alight=np.concatenate(alight_l),
        trips=trips_tab,
        meta={"source": tt.source, "date": str(tt.date), "timezone": tt.timezone,
              "crs": tt.crs, "feeds": [r.as_dict() for r in tt.reports],
              "transfer_radius_m": transfer_radius_m, "walk_speed_kmh": walk_speed_kmh,
              "walk_detour": walk_detour, "change_slack_s": change_slack_s,
              "no_pickup_stop_times": int((~b_arr).sum()),
              "no_drop_off_stop_times": int((~al_arr).sum())},
    )
    log.info("transit network %s", net)
    return net


def _as_timetable(source: Any, date: str | _dt.date | None) -> Any:
    """A :class:`gtfs.Timetable` from a timetable, a feed, a path or a sequence of them."""

    if isinstance(source, gtfs.Timetable):
        return source
    items = list(source) if isinstance(source, (list, tuple)) else [source]
    if not items:
        raise InputError(None, "no GTFS feed given", "pass one or more GTFS paths or feeds")
    # read in the working CRS (ruimtekit._crs; 'auto' settles to the feed's UTM zone)
    feeds = [gtfs.read_gtfs(s) if isinstance(s, (str, Path)) else s for s in items]
    bad = [type(f).__name__ for f in feeds if not isinstance(f, gtfs.Feed)]
    if bad:
        raise InputError(None, f"cannot build a GTFS network from {bad[0]}",
                         "pass GTFS paths, gtfs.Feed objects or a gtfs.Timetable")
    if date is None:
        raise InputError(feeds[0].path, "no service date given for the GTFS feed",
                         "pass date='YYYY-MM-DD' (a weekday inside the feed's range)")
    return gtfs.timetable(feeds, date)


# ================================================================================ legs
@dataclass
class Legs:
    """Access or egress legs in CSR form: for zone ``i`` the stops
    ``stop[ptr[i]:ptr[i+1]]`` with times ``seconds[...]`` (int64 s).

    For access legs the zones are origins (zone → stop); for egress legs they are
    destinations (stop → zone).
    """

    ptr: np.ndarray
    stop: np.ndarray
    seconds: np.ndarray
    distance_m: np.ndarray | None = None

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return int(self.ptr.shape[0] - 1)

    @classmethod
    def identity(cls, n: int) -> Legs:
        """Every zone is a stop (zero-time legs; for stop-to-stop queries)."""
        return cls(np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64),
                   np.zeros(n, dtype=np.int64))

    @classmethod
    def from_lists(cls, per_zone: Sequence[Sequence[tuple[int, float]]]) -> Legs:
        """Legs from a list (per zone) of ``(stop index, seconds)`` pairs."""
        counts = [len(z) for z in per_zone]
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        stop = np.array([s for z in per_zone for s, _ in z], dtype=np.int64)
        secs = np.array([math.ceil(t) for z in per_zone for _, t in z], dtype=np.int64)
        return cls(ptr, stop, secs)


def _seconds_fn(mode: Any) -> Callable[[np.ndarray], np.ndarray]:
    if callable(mode):
        return mode

    return lambda d: impedance.crowfly_seconds(d, mode)


def zone_legs(
    zx: np.ndarray, zy: np.ndarray, sx: np.ndarray, sy: np.ndarray, *,
    mode: Any = "walk",
    max_distance_m: float | None = None, k_nearest: int | None = None,
    max_time_s: float | None = None,
) -> Legs:
    """Legs between zone points and stops by straight-line distance.

    Parameters
    ----------
    zx, zy : array of float
        Zone points, EPSG:28992 (m).
    sx, sy : array of float
        Stop (or station) coordinates, EPSG:28992 (m).
    mode : str, CrowflyModel or callable
        ``walk``/``bike`` or a :class:`ruimtekit.engine.impedance.CrowflyModel` (times from
        :func:`ruimtekit.engine.impedance.crowfly_seconds`, which applies detour factors, speeds
        and terminal times) or a function distance (m) → seconds.
    max_distance_m : float, optional
        Only stops within this straight-line distance (default: per mode in
        :data:`ACCESS_RADIUS_M`, or what ``max_time_s`` allows).
    k_nearest : int, optional
        At most this many nearest stops per zone.
    max_time_s : float, optional
        Only legs of at most this many seconds (terminal time included).

    Returns
    -------
    Legs
    """
    from scipy.spatial import cKDTree

    if max_distance_m is None and max_time_s is not None and not callable(mode):
        max_distance_m = _leg_radius_m(mode, max_time_s)
    if max_distance_m is None:
        max_distance_m = ACCESS_RADIUS_M.get(mode if isinstance(mode, str) else "walk",
                                            ACCESS_RADIUS_M["walk"])
    zx = np.asarray(zx, dtype=np.float64)
    zy = np.asarray(zy, dtype=np.float64)
    tree = cKDTree(np.column_stack([sx, sy]))
    pts = np.column_stack([zx, zy])
    if k_nearest:
        k = min(int(k_nearest), len(sx))
        d, j = tree.query(pts, k=k, distance_upper_bound=max_distance_m)
        d = d.reshape(len(zx), k)
        j = j.reshape(len(zx), k)
        ok = np.isfinite(d)
        counts = ok.sum(axis=1)
        stop = j[ok].astype(np.int64)
        dist = d[ok]
    else:
        lists = tree.query_ball_point(pts, max_distance_m)
        counts = np.array([len(v) for v in lists], dtype=np.int64)
        stop = (np.concatenate([np.asarray(v, dtype=np.int64) for v in lists])
                if counts.sum() else np.zeros(0, np.int64))
        zi = np.repeat(np.arange(len(zx)), counts)
        dist = np.hypot(zx[zi] - np.asarray(sx)[stop], zy[zi] - np.asarray(sy)[stop])
    secs = np.ceil(np.asarray(_seconds_fn(mode)(dist), dtype=np.float64)).astype(np.int64)
    if max_time_s is not None:
        keep = secs <= max_time_s
        if not keep.all():
            zi = np.repeat(np.arange(len(zx)), counts)
            counts = np.bincount(zi[keep], minlength=len(zx))
            stop, secs, dist = stop[keep], secs[keep], dist[keep]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Legs(ptr, stop, secs, dist)


def _leg_radius_m(mode: Any, max_time_s: float) -> float:
    """Straight-line distance (m) that a crow-fly leg of ``mode`` covers at most in
    ``max_time_s`` (an upper bound: the fastest speed of the curve)."""

    m = impedance.model_for(mode)
    budget = max(float(max_time_s) - 60.0 * m.fixed_min, 0.0)
    v = max(s for _, s in m.speed_curve) / 3.6
    return budget * v / m.detour_factor + 1e-6


@dataclass(frozen=True)
class LegOptions:
    """How :func:`network_legs` snaps, times and keeps street-network legs.

    :meth:`TransitParams.leg_options` makes the options of a routing set-up.

    Attributes
    ----------
    reverse : bool
        Legs from the points to the zones (egress): searched on the reversed network.
        Default ``False`` (zone → point, access).
    k_nearest : int, optional
        Keep only this many fastest legs per zone (default all within ``max_time_s``).
    max_snap_m : float
        Zones/points farther than this from the nearest network node get no legs (m;
        :data:`MAX_SNAP_M`, 500).
    speed_kmh : float, optional
        Speed of the snap legs between a point and its node (km/h; default the mode's
        :data:`ruimtekit.engine.search.ACCESS_SPEED_KMH`).
    terminal_s : float, optional
        Added to every leg (s; default the mode's ``fixed_min`` of the crow-fly model,
        e.g. 1 min to park a bike; 0 for walking).
    block_size : int
        Zones per bounded search block (1024; bounds the zone × point block in memory).
    """

    reverse: bool = False
    k_nearest: int | None = None
    max_snap_m: float = MAX_SNAP_M
    speed_kmh: float | None = None
    terminal_s: float | None = None
    block_size: int = 1024


def network_legs(
    graph: _graph.Graph, zx: np.ndarray, zy: np.ndarray, px: np.ndarray, py: np.ndarray, *,
    mode: str = "walk", max_time_s: float, options: LegOptions | None = None,
) -> Legs:
    """Legs between zone points and points (stops, stations, other zones) over a street
    network, instead of straight-line distances.

    Zone points and target points are snapped to their nearest network node (the leg to
    the node at ``options.speed_kmh``, default the mode's speed); a bounded search from
    every zone (:mod:`ruimtekit.analysis.accessibility` engine) gives the time to every point
    reached within ``max_time_s``. No zone × point matrix is kept beyond one block.

    Parameters
    ----------
    graph : Graph
        Street network of the mode (walk or bike profile; times in seconds).
    zx, zy, px, py : array of float
        Zone points and target points, EPSG:28992 (m).
    mode : str
        Mode of the leg (default speed of the snap legs, and terminal time).
    max_time_s : float
        Longest leg (seconds, terminal time included).
    options : LegOptions, optional
        Direction (``reverse`` for egress legs), ``k_nearest``, snap limit, snap-leg
        speed, terminal time (default :class:`LegOptions`).

    Returns
    -------
    Legs
        ``seconds`` rounded up to whole seconds; ``distance_m`` is the straight-line
        distance between zone point and target (for reference).

    Examples
    --------
    Egress legs by bike, the 3 fastest per zone::

        network_legs(g, zx, zy, sx, sy, mode="bike", max_time_s=900,
                     options=LegOptions(reverse=True, k_nearest=3))
    """

    o = options or LegOptions()
    reverse, k_nearest, max_snap_m = o.reverse, o.k_nearest, o.max_snap_m
    terminal_s, block_size = o.terminal_s, o.block_size
    zx = np.asarray(zx, dtype=np.float64)
    zy = np.asarray(zy, dtype=np.float64)
    px = np.asarray(px, dtype=np.float64)
    py = np.asarray(py, dtype=np.float64)
    g = graph.reverse() if reverse else graph
    if terminal_s is None:
        terminal_s = 60.0 * impedance.model_for(mode).fixed_min if mode in \
            impedance.DEFAULT_MODELS else 0.0
    v = _search.leg_speed_kmh(mode, o.speed_kmh) / 3.6
    zs = _search.snap(g, zx, zy, max_snap_m)
    ps = _search.snap(g, px, py, max_snap_m)
    ok = zs.node >= 0
    budget = float(max_time_s) - float(terminal_s)
    per_zone: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64),
                                                      np.zeros(0, np.int64))] * len(zx)
    if budget >= 0 and ok.any() and (ps.node >= 0).any():
        # the search origins are the snapped zones only: origin position r is zone
        # zone_of[r] (one source node each), so positions and zones never mix
        zone_of = np.flatnonzero(ok)
        src_ptr = np.arange(zone_of.size + 1, dtype=np.int64)
        shared = _search.build_search_inputs(
            g, (src_ptr, zs.node[ok], zs.distance_m[ok] / v),
            (ps.node, ps.distance_m / v, np.ones(len(px))),
            [Decay("cumulative", cutoff=budget / 60.0)], budget / 60.0)
        for b0 in range(0, zone_of.size, block_size):
            idx = np.arange(b0, min(b0 + block_size, zone_of.size))
            od = _search.search(shared, idx, od=True)[2]
            for r, zi in enumerate(zone_of[idx]):
                j = np.flatnonzero(od[r] != _kernels.INF32)
                t = od[r, j].astype(np.int64) + int(math.ceil(terminal_s))
                if k_nearest and j.size > k_nearest:
                    keep = np.argsort(t, kind="stable")[:k_nearest]
                    j, t = j[np.sort(keep)], t[np.sort(keep)]
                per_zone[zi] = (j.astype(np.int64), t)
    counts = np.array([len(j) for j, _ in per_zone], dtype=np.int64)
    stop = (np.concatenate([j for j, _ in per_zone]) if counts.sum()
            else np.zeros(0, np.int64))
    secs = (np.concatenate([t for _, t in per_zone]) if counts.sum()
            else np.zeros(0, np.int64))
    zi = np.repeat(np.arange(len(zx)), counts)
    dist = np.hypot(zx[zi] - px[stop], zy[zi] - py[stop])
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n_off = int((~ok).sum())
    if n_off:
        log.warning("%d of %d zones are more than %.0f m from the %s network: no %s legs",
                    n_off, len(zx), max_snap_m, mode, "egress" if reverse else "access")
    return Legs(ptr, stop, secs, dist)


@renamed_parameters(net="network")
def street_transfers(
    network: TransitNetwork, graph: _graph.Graph, *,
    max_distance_m: float = defaults.STREET_TRANSFER_M,
    walk_speed_kmh: float = WALK_SPEED_KMH, max_snap_m: float = MAX_SNAP_M,
) -> TransitNetwork:
    """Walking transfers between stops over a street network, as R5 does.

    Every stop is snapped to the walk network; a bounded search from each stop gives the
    stops within ``max_distance_m`` of walking at ``walk_speed_kmh`` (R5: 1,000 m). These
    footpaths are merged with those already on ``network`` (the shorter time wins): build
    ``network`` with ``transfer_radius_m=0`` to keep only ``transfers.txt`` entries besides
    the street transfers.

    Parameters
    ----------
    network : TransitNetwork
    graph : Graph
        Walk network in the working CRS, weights in seconds at ``walk_speed_kmh``.
    max_distance_m : float
        Longest transfer walk (m).
    walk_speed_kmh : float
        Walking speed (km/h) of the snap legs and the distance → time limit.
    max_snap_m : float
        Stops farther from the network get only the footpaths already on ``network``.

    Returns
    -------
    TransitNetwork
        A copy with the merged footpaths (``meta['street_transfers']`` counts them).
    """
    import dataclasses

    v = walk_speed_kmh / 3.6
    legs = network_legs(graph, network.x, network.y, network.x, network.y, mode="walk",
                        max_time_s=max_distance_m / v,
                        options=LegOptions(max_snap_m=max_snap_m, speed_kmh=walk_speed_kmh,
                                           terminal_s=0.0))
    u = np.repeat(np.arange(network.n_stops), np.diff(legs.ptr))
    fp = pd.DataFrame({"u": np.concatenate([u, np.repeat(np.arange(network.n_stops),
                                                          np.diff(network.fp_ptr))]),
                       "v": np.concatenate([legs.stop, network.fp_to]),
                       "s": np.concatenate([legs.seconds, network.fp_s])})
    fp = fp[fp["u"] != fp["v"]]
    fp = fp.sort_values(["u", "v", "s"], kind="stable").drop_duplicates(["u", "v"])
    counts = np.bincount(fp["u"].to_numpy(dtype=np.int64), minlength=network.n_stops)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    meta = {**network.meta, "street_transfers": int((u != legs.stop).sum()),
            "street_transfer_max_m": max_distance_m}
    log.info("street transfers: %d stop pairs within %.0f m walking (%d footpaths in all)",
             meta["street_transfers"], max_distance_m, len(fp))
    return dataclasses.replace(network, fp_ptr=ptr, fp_to=fp["v"].to_numpy(dtype=np.int64),
                               fp_s=fp["s"].to_numpy(dtype=np.int64), meta=meta)


def _legs_block(legs: Legs, blk: np.ndarray, n: int, same: bool = True) -> np.ndarray:
    """Dense (len(blk), n) seconds of zone → zone legs (inf where none; 0 to itself when
    origins and destinations are the same zones)."""
    t = np.full((len(blk), n), np.inf)
    for r, z in enumerate(blk):
        a, b = legs.ptr[z], legs.ptr[z + 1]
        t[r, legs.stop[a:b]] = legs.seconds[a:b]
    if same:
        t[np.arange(len(blk)), blk] = 0.0
    return t


@dataclass
class DirectTrip:
    """The direct trip by the access mode (no transit), origin zones → destinations.

    Straight-line times by the crow-fly ``model`` rounded to whole seconds (as the road
    engine's crow-fly measures), or ``legs`` over a street network; longer than
    ``max_s`` = not an option. ``same``: destinations are the origin zones (own zone 0 s).
    """

    ox: np.ndarray
    oy: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    model: Any
    max_s: float
    same: bool = True
    legs: Legs | None = None

    def block(self, blk: np.ndarray) -> np.ndarray:
        """Dense (len(blk), n_dest) seconds (inf = no direct option)."""
        blk = np.asarray(blk, dtype=np.int64)
        if self.legs is not None:
            t = _legs_block(self.legs, blk, self.dx.shape[0], self.same)
        else:
            d = np.hypot(self.ox[blk, None] - self.dx[None, :],
                         self.oy[blk, None] - self.dy[None, :])
            t = np.rint(np.asarray(_seconds_fn(self.model)(d.ravel()),
                                   dtype=np.float64)).reshape(d.shape)
            if self.same:
                t[np.arange(len(blk)), blk] = 0.0
        t[t > self.max_s] = np.inf
        return t


# ============================================================================ RAPTOR
def parse_clock(value: str | float | int) -> int:
    """``HH:MM`` or ``HH:MM:SS`` (hours may exceed 24) or seconds → seconds after midnight."""
    if isinstance(value, (int, float)):
        return int(value)
    parts = str(value).strip().split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) not in (2, 3) or any(n < 0 for n in nums) or any(n > 59 for n in nums[1:]):
        raise InputError(None, f"time {value!r} is not HH:MM or HH:MM:SS",
                         "write clock times like 07:00 or 07:30:00")
    return nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0)


def departure_times(start: str | int, end: str | int,
                    step_s: int = defaults.DEPARTURE_STEP_S) -> np.ndarray:
    """Departure times (s) from ``start`` (inclusive) to ``end`` (exclusive), every
    ``step_s`` seconds; 07:00–09:00 with 60 s gives 120 departures."""
    a, b = parse_clock(start), parse_clock(end)
    _validate.check_window(a, b, start, end)
    if b <= a or step_s <= 0:
        raise InputError(None, f"empty departure window {start}–{end} (step {step_s} s)",
                         "give a window start before its end and a positive step")
    return np.arange(a, b, int(step_s), dtype=np.int64)


def percentile_ranks(percentiles: Sequence[float], n: int) -> np.ndarray:
    """Nearest-rank positions (0-based) of ``percentiles`` in a sorted sample of ``n``:
    ``ceil(p / 100 * n) - 1`` clipped to ``[0, n - 1]``."""
    p = np.asarray(percentiles, dtype=np.float64)
    if np.any((p < 0) | (p > 100)):
        raise InputError(None, f"percentiles {list(p)} outside 0–100",
                         "use percentiles between 0 and 100, e.g. [5, 50, 95]")
    return np.clip(np.ceil(p / 100.0 * n).astype(np.int64) - 1, 0, n - 1)


def _kernel_args(net: TransitNetwork, board_slack_s: int = BOARD_SLACK_S) -> tuple[Any, ...]:
    ones = np.ones(net.pat_stops.shape[0], dtype=np.bool_)
    board = ones if net.pat_board is None else np.asarray(net.pat_board, dtype=np.bool_)
    alight = ones if net.pat_alight is None else np.asarray(net.pat_alight, dtype=np.bool_)
    bs = np.int64(board_slack_s)
    slack = np.maximum(net.slack, bs) if bs > 0 else net.slack
    return (net.pat_stop_ptr, net.pat_stops, board, alight, net.pat_trip_ptr,
            net.pat_time_ptr, net.arr_t, net.dep_t, net.stop_pat_ptr, net.stop_pat,
            net.stop_pat_pos, net.fp_ptr, net.fp_to, net.fp_s, slack, bs)


def _egress_args(egress: Legs | None, n_stops: int) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray, int]:
    if egress is None:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, n_stops
    return egress.ptr, egress.stop, egress.seconds, egress.n_zones


@renamed_parameters(net="network")
def iter_raptor_blocks(
    network: TransitNetwork, access: Legs, egress: Legs | None = None, *,
    params: TransitParams | dict[str, Any] | None = None,
    departures: np.ndarray | None = None, origins: np.ndarray | None = None,
    block_size: int = 256,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(origin_positions, times)`` blocks of range-RAPTOR percentiles.

    ``times`` has shape (block, n_dest, n_percentiles): travel time in seconds
    (float64; ``inf`` = unreachable within ``params.max_time_min``), including the wait at
    the origin, access and egress. The routing settings are those of ``params``
    (:class:`TransitParams`: ``percentiles``, ``max_rides``, ``max_time_min``,
    ``board_slack_s`` and the departure window); ``departures`` (seconds after midnight)
    replaces the window's departures when given. See :func:`raptor_range`.
    """

    p = as_params(params)
    max_transfers, max_time_min = p.transfers, p.max_time_min
    deps = p.departures() if departures is None else departures
    deps = np.sort(np.asarray(deps, dtype=np.int64))[::-1].copy()
    if deps.size == 0:
        raise InputError(None, "no departure times", "give a non-empty departure window")
    ranks = percentile_ranks(p.percentiles, deps.size)
    if origins is None:
        origins = np.arange(access.n_zones, dtype=np.int64)
    origins = np.asarray(origins, dtype=np.int64)
    e_ptr, e_stop, e_s, n_dest = _egress_args(egress, network.n_stops)
    args = _kernel_args(network, p.board_slack_s)
    if int(max_transfers) < 0 or not 0 < float(max_time_min) <= 24 * 60:
        raise InputError(None, f"max_transfers {max_transfers} / max_time_min {max_time_min} "
                         "out of range", "give max_transfers >= 0 and a maximum travel time "
                         "of 1-1440 minutes")
    max_rides = int(max_transfers) + 1
    max_time = np.int64(round(max_time_min * 60))
    for b0 in range(0, origins.shape[0], block_size):
        blk = origins[b0:b0 + block_size]
        out = _raptor.range_raptor_block(
            blk, access.ptr, access.stop, access.seconds, deps, max_rides, max_time,
            *args, e_ptr, e_stop, e_s, n_dest, ranks)
        t = out.astype(np.float64)
        t[out >= _raptor.INF] = np.inf
        yield blk, t


@renamed_parameters(net="network")
def raptor_range(
    network: TransitNetwork, access: Legs, egress: Legs | None = None, *,
    params: TransitParams | dict[str, Any] | None = None,
    origins: np.ndarray | None = None, block_size: int = 256,
) -> np.ndarray:
    """Travel-time percentiles over a departure window with range-RAPTOR.

    For each origin the departures ``window_start, window_start + step_s, ... <
    window_end`` are routed from the latest to the earliest, reusing labels (rRAPTOR).
    The travel time for a departure is arrival − departure, including any wait at the
    origin; per destination the nearest-rank percentiles over the departures are returned.

    Parameters
    ----------
    network : TransitNetwork
    access : Legs
        Access legs per origin zone (zone → stop, s). ``Legs.identity(network.n_stops)``
        routes from stops.
    egress : Legs, optional
        Egress legs per destination zone (stop → zone, s); ``None`` gives times to stops.
    params : TransitParams or dict, optional
        Routing settings (default :class:`TransitParams`): departure window
        ``window_start``–``window_end`` (``HH:MM``, end exclusive; 07:00–09:00) every
        ``step_s`` seconds (60); ``percentiles`` over the departures (50 = median; e.g.
        ``[5, 50, 95]`` like R5); ``max_rides`` (vehicles boarded, 6 = 5 transfers);
        ``max_time_min`` (longer trips are unreachable; 120); ``board_slack_s`` (minimum
        wait before every boarding, the first included; 0, R5 60).
    origins : array of int, optional
        Origin zone positions (default all zones of ``access``).
    block_size : int
        Origins per compiled block.

    Returns
    -------
    ndarray of float64, shape (n_origins, n_destinations, n_percentiles)
        Seconds; ``inf`` = unreachable.

    Examples
    --------
    ::

        raptor_range(network, acc, egr, params=TransitParams(
            window_start="07:00", window_end="09:00", percentiles=[5, 50, 95]))
    """
    parts = [t for _, t in iter_raptor_blocks(network, access, egress, params=params,
                                              origins=origins, block_size=block_size)]
    return np.concatenate(parts, axis=0)


@renamed_parameters(net="network")
def raptor_departures(
    network: TransitNetwork, access_stops: Sequence[int], access_s: Sequence[int],
    departures: np.ndarray, *, egress: Legs | None = None,
    max_transfers: int = MAX_TRANSFERS, max_time_min: float = MAX_TIME_MIN,
    board_slack_s: int = BOARD_SLACK_S,
) -> np.ndarray:
    """Per-departure travel times (s) for one origin, shape (n_departures, n_dest), in the
    order of ``departures`` (inf = unreachable). For inspection and tests."""

    deps_in = np.asarray(departures, dtype=np.int64)
    order = np.argsort(-deps_in, kind="stable")
    e_ptr, e_stop, e_s, n_dest = _egress_args(egress, network.n_stops)
    out = _raptor.range_raptor_times(
        np.asarray(access_stops, dtype=np.int64), np.asarray(access_s, dtype=np.int64),
        deps_in[order].copy(), int(max_transfers) + 1, np.int64(round(max_time_min * 60)),
        *_kernel_args(network, board_slack_s), e_ptr, e_stop, e_s, n_dest)
    res = np.empty(out.shape, dtype=np.float64)
    res[order] = out
    res[res >= _raptor.INF] = np.inf
    return res


# ============================================================ frequency-based graph (GML)
def read_transit_graph_gml(
    path: str | Path, *, headways_min: dict[int, float] | None = None,
    transfer_radius_m: float = TRANSFER_RADIUS_M, walk_speed_kmh: float = WALK_SPEED_KMH,
    walk_detour: float = 1.0, largest_component: bool = True,
) -> _graph.Graph:
    """Read a stop-level transit graph (igraph GML) into a route-aware :class:`graph.Graph`.

    The GML (e.g. ``data/raw/pt_amsterdam_2022.gml``) has stop nodes (``nodeid``,
    ``stopid``, ``stopname``, ``x`` = lon, ``y`` = lat in WGS84, ``routetype``) and edges
    between consecutive stops (``traveltime`` in minutes, ``uniquerouteid``,
    ``routetype``). The expansion:

    * a *stop node* per GML node (where one walks and waits);
    * a *route node* per (stop, route): ride edges ``traveltime`` × 60 s between route
      nodes of the same route;
    * boarding stop → route node costs half the headway of the route type
      (:data:`DEFAULT_HEADWAYS_MIN`: metro 5, tram 8, bus 10, rail 15, ferry 10 min), so
      every boarding, including each transfer, costs a wait; alighting costs 0;
    * walking edges between stop nodes within ``transfer_radius_m`` (400 m straight line
      at 4.8 km/h).

    Parameters
    ----------
    path : str or Path
    headways_min : dict of int to float, optional
        Headway (minutes) per GTFS route_type, overriding the defaults.
    transfer_radius_m, walk_speed_kmh, walk_detour : float
        Walking transfers between stops.
    largest_component : bool
        Keep the largest strongly connected component (see :func:`graph.from_edges`).

    Returns
    -------
    graph.Graph
        ``mode='transit'``; ``node_ids`` are ``stop:<nodeid>`` and
        ``route:<nodeid>|<routeid>``; ``meta`` holds ``stop_names``, ``stop_route_types``
        and the headways. Weights are int32 seconds; x/y are EPSG:28992.
    """
    import igraph as ig
    from pyproj import Transformer

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "transit graph file not found", "pass an existing .gml file")
    try:
        g = ig.Graph.Read_GML(str(path))
    except Exception as exc:  # igraph raises generic errors for syntax problems
        raise InputError(path, f"cannot be read as GML ({exc})",
                         "pass a GML graph written by igraph/networkx") from None
    for attr in ("x", "y", "routetype"):
        if attr not in g.vs.attributes():
            raise InputError(path, f"GML nodes lack the {attr!r} attribute",
                             "nodes need x (lon), y (lat), routetype, stopname")
    for attr in ("traveltime", "uniquerouteid"):
        if attr not in g.es.attributes():
            raise InputError(path, f"GML edges lack the {attr!r} attribute",
                             "edges need traveltime (minutes) and uniquerouteid")
    hw = dict(DEFAULT_HEADWAYS_MIN)
    hw.update(headways_min or {})
    n = g.vcount()
    lon = np.asarray(g.vs["x"], dtype=np.float64)
    lat = np.asarray(g.vs["y"], dtype=np.float64)
    if not (np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)):
        raise InputError(path, "node x/y are not WGS84 longitude/latitude",
                         "write x = longitude and y = latitude in degrees")

    crs = _crs.settle(float(lon.mean()), float(lat.mean())) if n else _crs.working_crs()
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    sx, sy = (np.asarray(v, dtype=np.float64) for v in tr.transform(lon, lat))
    names = g.vs["nodeid"] if "nodeid" in g.vs.attributes() else [str(i) for i in range(n)]
    stop_names = (g.vs["stopname"] if "stopname" in g.vs.attributes() else names)
    rtype_v = np.asarray(g.vs["routetype"], dtype=np.float64).astype(np.int64)
    el = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    ett = np.asarray(g.es["traveltime"], dtype=np.float64)
    if np.any(~np.isfinite(ett)) or np.any(ett < 0):
        raise InputError(path, "some edges have a missing or negative traveltime",
                         "give every edge a traveltime in minutes >= 0")
    eroute = np.asarray([str(r) for r in g.es["uniquerouteid"]], dtype=object)
    ertype = (np.asarray(g.es["routetype"], dtype=np.float64).astype(np.int64)
              if "routetype" in g.es.attributes() else rtype_v[el[:, 0]])
    unknown = sorted(set(ertype.tolist()) - set(hw))
    if unknown:
        raise InputError(path, f"route types {unknown} have no headway",
                         "pass headways_min={route_type: minutes} for them")
    # route nodes: one per (stop, route)
    rs = pd.DataFrame({"stop": np.concatenate([el[:, 0], el[:, 1]]),
                       "route": np.concatenate([eroute, eroute]),
                       "rtype": np.concatenate([ertype, ertype])}).drop_duplicates(
        ["stop", "route"]).reset_index(drop=True)
    rs["node"] = n + np.arange(len(rs))
    key = pd.MultiIndex.from_frame(rs[["stop", "route"]])
    tail = rs["node"].to_numpy()[key.get_indexer(pd.MultiIndex.from_arrays([el[:, 0], eroute]))]
    head = rs["node"].to_numpy()[key.get_indexer(pd.MultiIndex.from_arrays([el[:, 1], eroute]))]
    wait_s = rs["rtype"].map(lambda t: hw[int(t)] * 60.0 / 2.0).to_numpy()
    # walking transfers between stop nodes
    from scipy.spatial import cKDTree

    pairs = cKDTree(np.column_stack([sx, sy])).query_pairs(transfer_radius_m,
                                                           output_type="ndarray")
    pairs = np.concatenate([pairs, pairs[:, ::-1]]).astype(np.int64)
    wd = np.hypot(sx[pairs[:, 0]] - sx[pairs[:, 1]], sy[pairs[:, 0]] - sy[pairs[:, 1]])
    u = np.concatenate([tail, rs["stop"].to_numpy(), rs["node"].to_numpy(), pairs[:, 0]])
    v = np.concatenate([head, rs["node"].to_numpy(), rs["stop"].to_numpy(), pairs[:, 1]])
    w = np.concatenate([ett * 60.0, wait_s, np.zeros(len(rs)),
                        walking_seconds(wd, walk_speed_kmh, walk_detour)])
    nx_ = np.concatenate([sx, sx[rs["stop"].to_numpy()]])
    ny_ = np.concatenate([sy, sy[rs["stop"].to_numpy()]])
    node_ids = np.array([f"stop:{s}" for s in names]
                        + [f"route:{names[s]}|{r}" for s, r in zip(rs["stop"], rs["route"],
                                                                    strict=True)], dtype=object)
    gr = _graph.from_edges(
        u, v, w, nx_, ny_, mode="transit", largest_component=largest_component,
        attrs=_graph.GraphAttrs(node_ids=node_ids, meta={
            "source": str(path), "kind": "transit_graph", "headways_min": hw,
            "transfer_radius_m": transfer_radius_m, "walk_speed_kmh": walk_speed_kmh,
            "n_gml_stops": n, "n_gml_edges": int(el.shape[0]),
            "n_routes": int(len(set(eroute.tolist())))}),
    )
    name_of = dict(zip([f"stop:{s}" for s in names], stop_names, strict=True))
    rtype_of = dict(zip([f"stop:{s}" for s in names], rtype_v.tolist(), strict=True))
    is_stop = np.array([str(i).startswith("stop:") for i in gr.node_ids])
    gr.meta["stop_nodes"] = np.flatnonzero(is_stop)
    gr.meta["stop_names"] = np.array([name_of[i] for i in gr.node_ids[is_stop]], dtype=object)
    gr.meta["stop_route_types"] = np.array([rtype_of[i] for i in gr.node_ids[is_stop]])
    log.info("transit graph %s: %d GML stops, %d GML edges, %d route nodes", path.name, n,
             el.shape[0], len(rs))
    return gr


@renamed_parameters(gr="graph")
def graph_stop_times(graph: _graph.Graph, sources: np.ndarray | None = None,
                     targets: np.ndarray | None = None) -> np.ndarray:
    """Shortest travel times (s, float64, inf = unreachable) between stop nodes of a
    transit :class:`graph.Graph` (default: all ``meta['stop_nodes']`` × all)."""
    from scipy.sparse.csgraph import dijkstra

    stops = graph.meta.get("stop_nodes")
    if stops is None:
        stops = np.arange(graph.n_nodes)
    src = stops if sources is None else sources
    tgt = stops if targets is None else targets
    d = dijkstra(graph.to_scipy(), directed=True, indices=np.asarray(src))
    return d[:, np.asarray(tgt)]


# ============================================================================ measures
def _aggregate(times_s: np.ndarray, opportunities: np.ndarray,
               measures: Sequence[Decay]) -> dict[str, np.ndarray]:

    return aggregate_times(times_s, opportunities, cutoffs=(), decays=tuple(measures))


def _direct_block(zx: np.ndarray, zy: np.ndarray, blk: np.ndarray, mode: Any,
                  max_s: float) -> np.ndarray:
    """Direct crow-fly times zone → zone (s, whole seconds; inf beyond ``max_s``)."""
    return DirectTrip(zx, zy, zx, zy, mode, max_s).block(blk)


def _name_columns(raw: dict[str, np.ndarray], opportunity: str, mode_label: str,
                  pct: float, n_pct: int) -> dict[str, np.ndarray]:
    suffix = "" if pct == 50 else f"_p{round(pct):g}"
    return {f"{opportunity}_{k}_{mode_label}{suffix}": v for k, v in raw.items()}


def zone_measures_from_blocks(
    blocks: Iterator[tuple[np.ndarray, np.ndarray]], n_origins: int,
    opportunities: np.ndarray, *, opportunity: str, mode_label: str,
    percentiles: Sequence[float], measures: Sequence[Decay],
    direct: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """Accumulate accessibility measures over blocks of origin × destination times.

    Parameters
    ----------
    blocks : iterator of (origin positions, times)
        ``times`` is (block, n_dest) or (block, n_dest, n_percentiles), seconds, inf =
        unreachable.
    n_origins : int
    opportunities : array (n_dest,)
    opportunity, mode_label : str
        Column name parts (``jobs``, ``transit``).
    percentiles : sequence of float
        Percentile of each slice of the last axis; the 50th has no suffix, others get
        ``_p{p}`` (e.g. ``jobs_45min_transit_p95``).
    measures : list of Decay
        The measures, in column order: cumulative cutoffs and decays as
        :func:`ruimtekit.engine.measures.measure_list` makes them (e.g.
        ``measure_list([30, 45], [])``).
    direct : callable, optional
        ``direct(origin_positions) -> (block, n_dest)`` seconds of the non-transit direct
        option (walking/cycling all the way); the minimum is taken (a percentile of
        ``min(x, c)`` equals ``min(percentile(x), c)``).

    Returns
    -------
    DataFrame with one row per origin and one column per measure.
    """
    opportunities = np.asarray(opportunities, dtype=np.float64)
    cols: dict[str, np.ndarray] = {}
    for blk, t in blocks:
        if t.ndim == 2:
            t = t[:, :, None]
        dt = direct(blk) if direct is not None else None
        for j, p in enumerate(percentiles):
            tj = t[:, :, j]
            if dt is not None:
                tj = np.minimum(tj, dt)
            named = _name_columns(_aggregate(tj, opportunities, measures),
                                  opportunity, mode_label, p, len(percentiles))
            for k, v in named.items():
                if k not in cols:
                    cols[k] = np.full(n_origins, np.nan)
                cols[k][blk] = v
    return pd.DataFrame(cols)


# ==================================================================== config & pipeline
def iter_stop_matrix_blocks(
    node_times: np.ndarray, access: Legs, egress: Legs, *,
    block_size: int = defaults.STOP_MATRIX_BLOCK,
    max_time_min: float = MAX_TIME_MIN,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(origins, times)`` blocks of zone-to-zone times (s) through a node-to-node
    matrix: access + node time + egress, minimised (compiled min-plus)."""

    m = np.ascontiguousarray(node_times, dtype=np.float64)
    cap = max_time_min * 60.0
    n = access.n_zones
    for b0 in range(0, n, block_size):
        blk = np.arange(b0, min(n, b0 + block_size), dtype=np.int64)
        t = _raptor.min_plus_legs(blk, access.ptr, access.stop,
                                  access.seconds.astype(np.float64), m, egress.ptr,
                                  egress.stop, egress.seconds.astype(np.float64),
                                  egress.n_zones)
        t[t > cap] = np.inf
        yield blk, t


@dataclass
class TransitInputs:
    """Read-only inputs of transit batches (scattered once to every worker).

    Give exactly one of ``network`` (a timetable) and ``node_times`` (a matrix).

    Attributes
    ----------
    access, egress : transit.Legs
        Zone → node and node → destination legs (seconds).
    direct : transit.DirectTrip
        The direct trip by the access mode (straight line or street-network legs).
    opportunities : ndarray (n_destinations,)
    opportunity, mode_label : str
        Column name parts (``jobs``, ``transit``).
    percentiles : list of float
        Percentiles over the departures (timetables; their columns get ``_p{p}`` except
        the 50th).
    cutoffs_min : list of float
        Cumulative cutoffs (minutes).
    network : transit.TransitNetwork, optional
        Timetable routed with range-RAPTOR over the departure window of ``params``.
    node_times : ndarray (n_nodes, n_nodes), optional
        Node-to-node seconds of a frequency graph or the rail network.
    decays : list of Decay
        Decay measures (default none).
    params : transit.TransitParams or dict, optional
        Routing parameters (departures, rides, maximum time, board slack; default
        :class:`TransitParams`).
    block_size : int
        Origins per compiled block (256; batches are multiples of it).
    """

    access: Any
    egress: Any
    direct: Any
    opportunities: np.ndarray
    opportunity: str
    mode_label: str
    percentiles: list[float]
    cutoffs_min: list[float]
    network: Any = None
    node_times: np.ndarray | None = None
    decays: list[Any] = field(default_factory=list)
    params: Any = None
    block_size: int = 256

    def __post_init__(self) -> None:
        if (self.network is None) == (self.node_times is None):
            raise ValueError("give one of network (a timetable) and node_times (a matrix)")
        if self.node_times is not None:
            self.node_times = np.asarray(self.node_times, dtype=np.float64)
        self.opportunities = np.asarray(self.opportunities, dtype=np.float64)
        self.percentiles = [float(x) for x in self.percentiles]
        self.cutoffs_min = list(self.cutoffs_min)
        self.decays = list(self.decays)
        self.params = as_params(self.params)
        self.block_size = int(self.block_size)

    @property
    def measures(self) -> list[Decay]:
        """The cumulative cutoffs and decays as one list (column order)."""
        return measure_list(self.cutoffs_min, self.decays)


def _matrix_blocks(sh: TransitInputs, idx: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`transit.iter_stop_matrix_blocks` restricted to the origins ``idx``."""

    m = np.ascontiguousarray(sh.node_times, dtype=np.float64)
    cap = sh.params.max_time_min * 60.0
    a, e = sh.access, sh.egress
    for b0 in range(0, idx.shape[0], sh.block_size):
        blk = idx[b0:b0 + sh.block_size]
        t = _raptor.min_plus_legs(blk, a.ptr, a.stop, a.seconds.astype(np.float64), m,
                                  e.ptr, e.stop, e.seconds.astype(np.float64), e.n_zones)
        t[t > cap] = np.inf
        yield blk, t


def transit_batch(shared: TransitInputs, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Transit measures of the contiguous origins ``idx`` (a Dask task).

    Returns
    -------
    dict of str to ndarray (len(idx),)
        Measure columns as :func:`zone_measures_from_blocks` names them.
    """
    idx = np.asarray(idx, dtype=np.int64)
    o0 = int(idx[0])
    if shared.network is not None:
        p = as_params(shared.params, percentiles=shared.percentiles)
        blocks = iter_raptor_blocks(
            shared.network, shared.access, shared.egress, params=p, origins=idx,
            block_size=shared.block_size)
    else:
        blocks = _matrix_blocks(shared, idx)

    def direct(local: np.ndarray) -> np.ndarray:
        return shared.direct.block(local + o0)

    df = zone_measures_from_blocks(
        ((blk - o0, t) for blk, t in blocks), idx.shape[0], shared.opportunities,
        opportunity=shared.opportunity, mode_label=shared.mode_label,
        percentiles=shared.percentiles, measures=shared.measures, direct=direct)
    return {c: df[c].to_numpy() for c in df.columns}


def transit_measures(
    shared: TransitInputs, scheduler: Any, *, batch_size: int | None = None,
) -> Any:
    """Transit measures on Dask, identical to :func:`zone_measures_from_blocks`
    over the single-process blocks.

    Parameters
    ----------
    shared : TransitInputs
        The timetable (range-RAPTOR over the departure window of ``shared.params``) or
        node-to-node time matrix in seconds (frequency graph, rail), the legs, the direct
        trip, the opportunities and the measures; scattered once to every worker.
    scheduler : str or distributed.Client
        See :func:`ruimtekit.engine.batches.map_batches`.
    batch_size : int, optional
        Origins per batch (rounded up to a multiple of ``shared.block_size``; default
        :func:`ruimtekit.engine.batches.default_batch_size`).

    Returns
    -------
    DataFrame
        One row per zone (origin order), one column per measure.
    """
    import pandas as pd

    n = int(shared.access.n_zones)
    res = batches.map_batches(transit_batch, shared, n, scheduler=scheduler,
                              batch_size=batch_size, align=shared.block_size,
                              label=f"{shared.mode_label} accessibility")
    return pd.DataFrame(batches.concat(res)) if res else pd.DataFrame()
