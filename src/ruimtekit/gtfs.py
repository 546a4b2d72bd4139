"""GTFS reader and validator: stops, routes, trips, stop times, calendars, frequencies.

:func:`read_gtfs` reads a feed from a ZIP archive (members are read directly with
:mod:`zipfile`; nothing is extracted) or from a folder. Tables are read column-wise with
pandas/pyarrow (only the needed columns, string dtypes), so large national feeds stream
without a Python object per row. Times are stored as integer **seconds after midnight of
the service day**; values past 24:00:00 (``25:10:00`` = 91,800 s) are valid GTFS and are
kept as such.

:func:`services_on` gives the service ids running on a date (``calendar.txt`` plus the
additions and removals of ``calendar_dates.txt``); :func:`expand_frequencies` turns
``frequencies.txt`` into explicit trips; :func:`timetable` selects everything running on a
date, including trips of the previous service day that run past midnight.

Stops are projected to EPSG:28992 (columns ``x``, ``y``, metres).
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from . import _io, _validate
from ._errors import InputError

log = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400

#: required columns per GTFS file (files not listed here are optional)
REQUIRED: dict[str, tuple[str, ...]] = {
    "agency.txt": ("agency_name", "agency_timezone"),
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "calendar.txt": (
        "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "start_date", "end_date",
    ),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers.txt": ("from_stop_id", "to_stop_id", "transfer_type"),
}
#: extra columns read when present
EXTRA: dict[str, tuple[str, ...]] = {
    "agency.txt": ("agency_id",),
    "stops.txt": ("stop_name", "location_type", "parent_station"),
    "routes.txt": ("agency_id", "route_short_name", "route_long_name"),
    "trips.txt": ("direction_id",),
    "stop_times.txt": ("pickup_type", "drop_off_type"),
    "frequencies.txt": ("exact_times",),
    "transfers.txt": ("min_transfer_time",),
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$"


@dataclass
class Feed:
    """A parsed GTFS feed.

    Attributes
    ----------
    path : Path
        The ZIP archive or folder read.
    agency, stops, routes, trips : DataFrame
        The GTFS tables (ids as strings). ``stops`` has ``x``, ``y`` in EPSG:28992 (m).
    stop_times : DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence`` (int), ``arrival_s``, ``departure_s``
        (int64 seconds after midnight of the service day; interpolated where the feed
        left them blank), ``can_board`` / ``can_alight`` (bool: False where
        ``pickup_type`` / ``drop_off_type`` is 1, "no pickup/drop-off"), sorted by trip
        and sequence.
    calendar, calendar_dates, frequencies, transfers : DataFrame
        Possibly empty. ``frequencies`` has ``start_s``, ``end_s``, ``headway_secs``,
        ``exact_times``; ``transfers`` has ``min_transfer_time`` (seconds, NaN if absent).
    timezone : str
        The single agency timezone (e.g. ``Europe/Amsterdam``).
    """

    path: Path
    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    frequencies: pd.DataFrame
    transfers: pd.DataFrame
    timezone: str
    meta: dict[str, Any] = field(default_factory=dict)

    def date_range(self) -> tuple[_dt.date | None, _dt.date | None]:
        """First and last date with any service according to the calendars."""
        dates: list[_dt.date] = []
        if len(self.calendar):
            dates += [_parse_date(self.calendar["start_date"].min()),
                      _parse_date(self.calendar["end_date"].max())]
        if len(self.calendar_dates):
            added = self.calendar_dates[self.calendar_dates["exception_type"] == 1]["date"]
            if len(added):
                dates += [_parse_date(added.min()), _parse_date(added.max())]
        if not dates:
            return None, None
        return min(dates), max(dates)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (
            f"Feed({self.path.name}: {len(self.stops):,} stops, {len(self.routes):,} routes, "
            f"{len(self.trips):,} trips, {len(self.stop_times):,} stop times)"
        )


# ----------------------------------------------------------------------------- reading
class _Source:
    """Uniform access to the member files of a folder or ZIP archive (no extraction)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.names: dict[str, str] = {}
        if path.is_dir():
            for p in path.iterdir():
                if p.is_file():
                    self.names[p.name] = str(p)
        elif path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise InputError(path, "is not a valid ZIP archive",
                                 "pass a GTFS .zip file or a folder with the .txt files") from None
            members = self.zip.namelist()
            for m in members:
                pp = PurePosixPath(m.replace("\\", "/"))
                if pp.is_absolute() or ".." in pp.parts or re.match(r"^[A-Za-z]:", m):
                    raise InputError(path, f"archive member {m!r} has an absolute or '..' path",
                                     "repack the feed with plain relative member names")
            files = [m for m in members if not m.endswith("/")]
            roots = {m for m in files if "/" not in m.strip("/")}
            use = roots if any(m.endswith(".txt") for m in roots) else set(files)
            for m in use:
                name = PurePosixPath(m).name
                if name in self.names and self.names[name] != m:
                    raise InputError(path, f"the archive holds {name} twice",
                                     "keep one GTFS feed per archive")
                self.names[name] = m
        else:
            raise InputError(path, "does not exist", "pass an existing GTFS .zip or folder")

    def has(self, name: str) -> bool:
        return name in self.names

    def header(self, name: str) -> list[str]:
        with self._open(name) as f:
            first = f.readline().decode("utf-8-sig", errors="replace")
        return [c.strip().strip('"') for c in first.rstrip("\r\n").split(",")]

    def _open(self, name: str) -> Any:
        if self.zip is not None:
            return _io.open_zip_member(self.zip, self.names[name], self.path)  # size/ratio bounds
        return open(self.names[name], "rb")

    def read(self, name: str, columns: list[str]) -> pd.DataFrame:
        with self._open(name) as f:
            data = f.read()
        try:
            df = pd.read_csv(
                io.BytesIO(data), usecols=lambda c: c.strip() in columns, dtype=str,
                encoding="utf-8-sig", keep_default_na=False, na_values=[""],
                skipinitialspace=True,
            )
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(self.path, f"{name} cannot be parsed as CSV ({exc})",
                             "check that the file is comma-separated UTF-8 text") from None
        df.columns = [c.strip() for c in df.columns]
        for c in df.columns:
            df[c] = df[c].str.strip()
        return df


def _read_table(src: _Source, name: str, required: bool) -> pd.DataFrame:
    need = REQUIRED.get(name) or OPTIONAL.get(name, ())
    extra = EXTRA.get(name, ())
    if not src.has(name):
        if required:
            raise InputError(src.path, f"the required file {name} is missing",
                             f"add {name} to the feed (GTFS reference: gtfs.org/schedule)")
        return pd.DataFrame({c: pd.Series(dtype=str) for c in need})
    header = src.header(name)
    missing = [c for c in need if c not in header]
    if missing:
        raise InputError(src.path, f"{name} lacks the required column(s) {', '.join(missing)}",
                         f"add the column(s) to {name}; found: {', '.join(header)}")
    return src.read(name, list(need) + [c for c in extra if c in header])


def parse_times(values: pd.Series, path: Path | str, what: str) -> np.ndarray:
    """Parse GTFS ``HH:MM:SS`` times to seconds (float64; NaN for blanks).

    Hours may exceed 23 (``25:10:00`` is 91,800 s: a trip running past midnight).

    Raises
    ------
    InputError
        When a non-blank value is not ``H:MM:SS``/``HH:MM:SS`` with minutes and seconds < 60.
    """
    s = values.astype("string")
    parts = s.str.extract(_TIME_RE)
    blank = s.isna() | (s.str.strip() == "")
    bad = parts[0].isna() & ~blank
    if bad.any():
        examples = ", ".join(repr(v) for v in s[bad].unique()[:3])
        raise InputError(path, f"{what} has {int(bad.sum())} malformed time(s), e.g. {examples}",
                         "write times as HH:MM:SS (hours may exceed 24 for trips past midnight)")
    h = pd.to_numeric(parts[0]).to_numpy(dtype=np.float64, na_value=np.nan)
    m = pd.to_numeric(parts[1]).to_numpy(dtype=np.float64, na_value=np.nan)
    sec = pd.to_numeric(parts[2]).to_numpy(dtype=np.float64, na_value=np.nan)
    return h * 3600 + m * 60 + sec


def _parse_date(v: Any) -> _dt.date:
    return _dt.datetime.strptime(str(v), "%Y%m%d").date()


def _check_ids(path: Path, table: str, col: str, values: pd.Series, known: pd.Index,
               known_file: str) -> None:
    unknown = ~values.isin(known)
    if unknown.any():
        ex = ", ".join(repr(v) for v in values[unknown].unique()[:5])
        raise InputError(path, f"{table} refers to {int(unknown.sum())} unknown {col}(s) "
                         f"(e.g. {ex}) not present in {known_file}",
                         f"add the missing ids to {known_file} or remove the rows from {table}")


def _to_int(df: pd.DataFrame, col: str, path: Path, table: str, default: int | None = None
            ) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce")
    if default is not None:
        v = v.fillna(default)
    if v.isna().any():
        ex = df[col][v.isna()].unique()[:3]
        raise InputError(path, f"{table}.{col} has non-integer values, e.g. {list(ex)}",
                         f"write {col} as whole numbers")
    return v.to_numpy().astype(np.int64)


def read_gtfs(path: str | Path) -> Feed:
    """Read and validate a GTFS feed.

    Parameters
    ----------
    path : str or Path
        A GTFS ``.zip`` archive (read in place, never extracted) or a folder of ``.txt``.

    Returns
    -------
    Feed

    Raises
    ------
    InputError
        Missing required files or columns, malformed times or dates, stop times
        referring to unknown trips or stops, trips with unknown routes, missing
        calendars, a missing or mixed agency timezone, or an unsafe archive member path.
    """
    path = Path(path)
    src = _Source(path)
    agency = _read_table(src, "agency.txt", True)
    tzs = agency["agency_timezone"].dropna().unique()
    if len(tzs) == 0:
        raise InputError(path, "agency.txt has no agency_timezone",
                         "set agency_timezone (e.g. Europe/Amsterdam) for every agency")
    if agency["agency_timezone"].isna().any() or len(tzs) > 1:
        raise InputError(path, f"agency.txt has missing or mixed timezones {sorted(map(str, tzs))}",
                         "GTFS requires one timezone for all agencies; fix agency_timezone")
    stops = _read_table(src, "stops.txt", True)
    routes = _read_table(src, "routes.txt", True)
    trips = _read_table(src, "trips.txt", True)
    st = _read_table(src, "stop_times.txt", True)
    calendar = _read_table(src, "calendar.txt", False)
    cdates = _read_table(src, "calendar_dates.txt", False)
    freqs = _read_table(src, "frequencies.txt", False)
    transfers = _read_table(src, "transfers.txt", False)
    if not src.has("calendar.txt") and not src.has("calendar_dates.txt"):
        raise InputError(path, "the feed has neither calendar.txt nor calendar_dates.txt",
                         "add a calendar so that services can be matched to dates")

    # stops: coordinates, project to RD New
    for c in ("stop_lat", "stop_lon"):
        stops[c] = pd.to_numeric(stops[c], errors="coerce")
    if "location_type" in stops:
        lt = pd.to_numeric(stops["location_type"], errors="coerce").fillna(0).astype(int)
    else:
        lt = pd.Series(0, index=stops.index)
    stops["location_type"] = lt
    bad = stops[["stop_lat", "stop_lon"]].isna().any(axis=1) & (lt <= 1)
    if bad.any():
        raise InputError(path, f"stops.txt has {int(bad.sum())} stop(s) without valid "
                         f"coordinates, e.g. {list(stops['stop_id'][bad][:3])}",
                         "give every stop and station a numeric stop_lat and stop_lon")
    if stops["stop_id"].duplicated().any():
        raise InputError(path, "stops.txt has duplicate stop_id values",
                         "make stop_id unique")
    _validate.check_stop_coordinates(stops[lt <= 1], path)  # 0,0, swapped, beyond Europe
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    x, y = tr.transform(stops["stop_lon"].to_numpy(), stops["stop_lat"].to_numpy())
    stops["x"] = np.asarray(x, dtype=np.float64)
    stops["y"] = np.asarray(y, dtype=np.float64)
    if "stop_name" not in stops:
        stops["stop_name"] = stops["stop_id"]

    routes["route_type"] = _to_int(routes, "route_type", path, "routes.txt")
    if trips["trip_id"].duplicated().any():
        raise InputError(path, "trips.txt has duplicate trip_id values", "make trip_id unique")
    _check_ids(path, "trips.txt", "route_id", trips["route_id"], pd.Index(routes["route_id"]),
               "routes.txt")

    # stop times
    _check_ids(path, "stop_times.txt", "trip_id", st["trip_id"], pd.Index(trips["trip_id"]),
               "trips.txt")
    _check_ids(path, "stop_times.txt", "stop_id", st["stop_id"], pd.Index(stops["stop_id"]),
               "stops.txt")
    st["stop_sequence"] = _to_int(st, "stop_sequence", path, "stop_times.txt")
    arr = parse_times(st["arrival_time"], path, "stop_times.txt arrival_time")
    dep = parse_times(st["departure_time"], path, "stop_times.txt departure_time")
    # pickup_type / drop_off_type: 0 or blank = regular, 1 = none, 2 = phone the agency,
    # 3 = arrange with the driver; only 1 forbids boarding/alighting in the model
    allowed = {}
    for col, name in (("pickup_type", "can_board"), ("drop_off_type", "can_alight")):
        if col in st:
            v = _to_int(st, col, path, "stop_times.txt", default=0)
            if ((v < 0) | (v > 3)).any():
                ex = sorted(set(v[(v < 0) | (v > 3)].tolist()))[:3]
                raise InputError(path, f"stop_times.txt.{col} has values {ex} outside 0-3",
                                 f"use the GTFS codes 0 (regular), 1 (none), 2 (phone the "
                                 f"agency) or 3 (arrange with the driver) for {col}")
            allowed[name] = v != 1
        else:
            allowed[name] = np.ones(len(st), dtype=bool)
    st = pd.DataFrame({
        "trip_id": st["trip_id"].to_numpy(), "stop_id": st["stop_id"].to_numpy(),
        "stop_sequence": st["stop_sequence"].to_numpy(), "arrival_s": arr, "departure_s": dep,
        "can_board": allowed["can_board"], "can_alight": allowed["can_alight"],
    })
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    st = _fill_times(st, path)

    # calendars
    if len(calendar):
        for d in _WEEKDAYS:
            calendar[d] = _to_int(calendar, d, path, "calendar.txt")
        for c in ("start_date", "end_date"):
            _validate_dates(calendar[c], path, f"calendar.txt {c}")
        _validate.check_calendar_ranges(calendar, path)
    if len(cdates):
        cdates["exception_type"] = _to_int(cdates, "exception_type", path, "calendar_dates.txt")
        _validate_dates(cdates["date"], path, "calendar_dates.txt date")
        if not cdates["exception_type"].isin([1, 2]).all():
            raise InputError(path, "calendar_dates.txt exception_type must be 1 or 2",
                             "use 1 (service added) or 2 (service removed)")
    known_services = pd.Index(pd.concat([calendar["service_id"], cdates["service_id"]]).unique())
    _check_ids(path, "trips.txt", "service_id", trips["service_id"], known_services,
               "calendar.txt/calendar_dates.txt")

    # frequencies
    if len(freqs):
        _check_ids(path, "frequencies.txt", "trip_id", freqs["trip_id"],
                   pd.Index(trips["trip_id"]), "trips.txt")
        freqs["start_s"] = parse_times(freqs["start_time"], path, "frequencies.txt start_time")
        freqs["end_s"] = parse_times(freqs["end_time"], path, "frequencies.txt end_time")
        if freqs[["start_s", "end_s"]].isna().any().any():
            raise InputError(path, "frequencies.txt has blank start_time/end_time",
                             "fill start_time and end_time on every row")
        freqs["headway_secs"] = _to_int(freqs, "headway_secs", path, "frequencies.txt")
        if (freqs["headway_secs"] <= 0).any():
            raise InputError(path, "frequencies.txt has headway_secs <= 0",
                             "use a positive headway in seconds")
        et = freqs["exact_times"] if "exact_times" in freqs else pd.Series(0, index=freqs.index)
        freqs["exact_times"] = pd.to_numeric(et, errors="coerce").fillna(0).astype(int)
    else:
        freqs = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("trip_id", str), ("start_s", float), ("end_s", float),
            ("headway_secs", "int64"), ("exact_times", "int64"))})

    # transfers
    if len(transfers):
        for c in ("from_stop_id", "to_stop_id"):
            _check_ids(path, "transfers.txt", c, transfers[c], pd.Index(stops["stop_id"]),
                       "stops.txt")
        transfers["transfer_type"] = _to_int(transfers, "transfer_type", path, "transfers.txt",
                                             default=0)
        mtt = transfers["min_transfer_time"] if "min_transfer_time" in transfers else None
        transfers["min_transfer_time"] = (
            pd.to_numeric(mtt, errors="coerce") if mtt is not None else np.nan
        )
    else:
        transfers = pd.DataFrame({"from_stop_id": pd.Series(dtype=str),
                                  "to_stop_id": pd.Series(dtype=str),
                                  "transfer_type": pd.Series(dtype="int64"),
                                  "min_transfer_time": pd.Series(dtype=float)})

    feed = Feed(path=path, agency=agency, stops=stops, routes=routes, trips=trips,
                stop_times=st, calendar=calendar, calendar_dates=cdates, frequencies=freqs,
                transfers=transfers, timezone=str(tzs[0]))
    log.info("read GTFS %s", feed)
    return feed


def _validate_dates(values: pd.Series, path: Path, what: str) -> None:
    ok = values.astype(str).str.fullmatch(r"\d{8}")
    parsed = pd.to_datetime(values.where(ok), format="%Y%m%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        raise InputError(path, f"{what} has malformed date(s), e.g. {list(values[bad][:3])}",
                         "write dates as YYYYMMDD")


def _fill_times(st: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Fill blank arrival/departure times: arrival=departure when one is given, otherwise
    linear interpolation by stop order between the surrounding timepoints of the trip."""
    a = st["arrival_s"].to_numpy().copy()
    d = st["departure_s"].to_numpy().copy()
    a = np.where(np.isnan(a), d, a)
    d = np.where(np.isnan(d), a, d)
    trip = st["trip_id"].to_numpy()
    first = np.ones(len(st), dtype=bool)
    first[1:] = trip[1:] != trip[:-1]
    last = np.ones(len(st), dtype=bool)
    last[:-1] = trip[1:] != trip[:-1]
    if np.isnan(a[first | last]).any():
        bad = trip[(first | last) & np.isnan(a)][:3]
        raise InputError(path, f"stop_times.txt: the first or last stop of trip(s) {list(bad)} "
                         "has no time", "give the first and last stop of every trip a time")
    if np.isnan(a).any():
        # interpolate per trip along the row position (timepoints bracket each gap)
        idx = np.arange(len(st), dtype=np.float64)
        known = ~np.isnan(a)
        ki = np.flatnonzero(known)
        a_fill = np.interp(idx, idx[ki], a[ki])
        a = np.where(known, a, np.round(a_fill))
        d = np.where(np.isnan(d), a, d)
    if (d < a).any():
        bad = trip[d < a][:3]
        raise InputError(path, f"stop_times.txt: departure before arrival in trip(s) {list(bad)}",
                         "make departure_time >= arrival_time at every stop")
    same = ~first
    back = same & (a < np.concatenate([[0.0], d[:-1]]))
    if back.any():
        bad = trip[back][:3]
        raise InputError(path, f"stop_times.txt: times go backwards along trip(s) {list(bad)}",
                         "order stop_sequence so that times never decrease along a trip")
    st["arrival_s"] = a.astype(np.int64)
    st["departure_s"] = d.astype(np.int64)
    return st


# ---------------------------------------------------------------------------- services
def _as_date(date: str | _dt.date) -> _dt.date:
    if isinstance(date, _dt.datetime):
        return date.date()
    if isinstance(date, _dt.date):
        return date
    try:
        return _dt.date.fromisoformat(str(date))
    except ValueError:
        raise InputError(None, f"date {date!r} is not a valid YYYY-MM-DD date",
                         "pass the analysis date as YYYY-MM-DD") from None


def services_on(feed: Feed, date: str | _dt.date, *, require: bool = True) -> set[str]:
    """Service ids active on ``date`` (calendar.txt weekdays and range, then
    calendar_dates.txt additions (type 1) and removals (type 2)).

    Parameters
    ----------
    feed : Feed
    date : str or date
        ``YYYY-MM-DD``.
    require : bool
        Raise when no service runs on the date (default).

    Raises
    ------
    InputError
        No service on the date; the message lists the feed's date range.
    """
    day = _as_date(date)
    key = day.strftime("%Y%m%d")
    active: set[str] = set()
    cal = feed.calendar
    if len(cal):
        wd = _WEEKDAYS[day.weekday()]
        on = (cal[wd] == 1) & (cal["start_date"] <= key) & (cal["end_date"] >= key)
        active |= set(cal.loc[on, "service_id"])
    cd = feed.calendar_dates
    if len(cd):
        today = cd[cd["date"] == key]
        active |= set(today.loc[today["exception_type"] == 1, "service_id"])
        active -= set(today.loc[today["exception_type"] == 2, "service_id"])
    if require and not active:
        lo, hi = feed.date_range()
        rng = f"{lo} to {hi}" if lo else "no dates at all"
        raise InputError(feed.path, f"no service runs on {day.isoformat()} "
                         f"({_WEEKDAYS[day.weekday()]}); the feed covers {rng}",
                         "choose a date inside the feed's range (a weekday, for commuting)")
    return active


def expand_frequencies(feed: Feed) -> pd.DataFrame:
    """Stop times with ``frequencies.txt`` expanded to explicit trips.

    Each frequency-based trip is a template: its stop times give the running times
    relative to its first departure. For every ``frequencies.txt`` row a trip departs at
    ``start_time``, ``start_time + headway``, ... while before ``end_time`` (exclusive).
    ``exact_times=1`` is exactly this schedule; for ``exact_times=0`` (frequency-based
    service without a published schedule) the same evenly spaced schedule is used, which
    gives the expected wait of half a headway. Expanded trips get ids ``<trip_id>#<k>``;
    template trips listed in frequencies.txt keep no stop times of their own.

    Returns
    -------
    DataFrame
        Same columns as ``feed.stop_times``.
    """
    st = feed.stop_times
    fq = feed.frequencies
    if not len(fq):
        return st
    tmpl_ids = pd.Index(fq["trip_id"].unique())
    is_tmpl = st["trip_id"].isin(tmpl_ids)
    base = st[~is_tmpl]
    tmpl = st[is_tmpl]
    first_dep = tmpl.groupby("trip_id", sort=False)["departure_s"].transform("min")
    tmpl = tmpl.assign(rel_a=tmpl["arrival_s"] - first_dep, rel_d=tmpl["departure_s"] - first_dep)
    parts = [base]
    for trip_id, rows in fq.groupby("trip_id", sort=False):
        t = tmpl[tmpl["trip_id"] == trip_id]
        starts: list[np.ndarray] = []
        for r in rows.itertuples(index=False):
            starts.append(np.arange(r.start_s, r.end_s, r.headway_secs, dtype=np.int64))
        st0 = np.unique(np.concatenate(starts)) if starts else np.zeros(0, np.int64)
        n, m = len(st0), len(t)
        if n == 0:
            continue
        k = np.repeat(np.arange(n), m)
        parts.append(pd.DataFrame({
            "trip_id": [f"{trip_id}#{i}" for i in range(n) for _ in range(m)],
            "stop_id": np.tile(t["stop_id"].to_numpy(), n),
            "stop_sequence": np.tile(t["stop_sequence"].to_numpy(), n),
            "arrival_s": st0[k] + np.tile(t["rel_a"].to_numpy(), n),
            "departure_s": st0[k] + np.tile(t["rel_d"].to_numpy(), n),
            "can_board": np.tile(t["can_board"].to_numpy(), n),
            "can_alight": np.tile(t["can_alight"].to_numpy(), n),
        }))
    out = pd.concat(parts, ignore_index=True)
    return out


@dataclass
class Timetable:
    """The stop times running on one date (times in seconds after midnight of that date).

    Attributes
    ----------
    feed : Feed
    date : date
    stop_times : DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s``,
        ``can_board``, ``can_alight`` (False where ``pickup_type`` / ``drop_off_type``
        is 1), ``route_id``; trips of the previous service day that run past midnight are
        included with times shifted by −86,400 s (their ids suffixed ``@prev``).
    """

    feed: Feed
    date: _dt.date
    stop_times: pd.DataFrame


def timetable(feed: Feed, date: str | _dt.date) -> Timetable:
    """Select the stop times running on ``date`` (frequencies expanded).

    Raises
    ------
    InputError
        No service on the date (the feed's date range is listed).
    """
    day = _as_date(date)
    today = services_on(feed, day)
    yesterday = services_on(feed, day - _dt.timedelta(days=1), require=False)
    st = expand_frequencies(feed)
    base_trip = st["trip_id"].str.split("#", n=1).str[0]
    trips = feed.trips.set_index("trip_id")
    svc = base_trip.map(trips["service_id"])
    route = base_trip.map(trips["route_id"])
    cur = st[svc.isin(today).to_numpy()].assign(route_id=route[svc.isin(today)].to_numpy())
    parts = [cur]
    prev_mask = svc.isin(yesterday).to_numpy()
    if prev_mask.any():
        prev = st[prev_mask].assign(route_id=route[prev_mask].to_numpy())
        late = prev.groupby("trip_id")["arrival_s"].transform("max") >= SECONDS_PER_DAY
        prev = prev[late.to_numpy()].copy()
        if len(prev):
            prev["arrival_s"] -= SECONDS_PER_DAY
            prev["departure_s"] -= SECONDS_PER_DAY
            prev["trip_id"] = prev["trip_id"] + "@prev"
            parts.append(prev)
    out = pd.concat(parts, ignore_index=True)
    log.info("timetable %s: %d trips, %d stop times", day, out["trip_id"].nunique(), len(out))
    return Timetable(feed=feed, date=day, stop_times=out)
