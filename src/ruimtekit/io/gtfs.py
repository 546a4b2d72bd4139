"""GTFS reader and validator: stops, routes, trips, stop times, calendars, frequencies.

:func:`read_gtfs` reads a feed from a ZIP archive (members are read directly with
:mod:`zipfile`; nothing is extracted) or from a folder. Tables are read column-wise with
pandas (only the needed columns, string dtypes), so large national feeds stream without
a Python object per row. Real-feed quirks are accepted: a UTF-8 byte-order mark, CRLF
line ends, no final newline, header names with surrounding spaces (``" agency_name"``),
quoted blanks (``""``).

**Ids are opaque strings**: ``trip_id``, ``stop_id``, ``route_id`` and ``service_id`` are
never parsed, cut or suffixed (``T1-2@1#1202`` is a valid trip id). Frequency-based runs
are told apart by the ``run`` column and trips of the previous service day by the
``service_day`` column, not by editing ids.

Times are stored as integer **seconds after midnight of the service day**; values past
24:00:00 (``25:10:00`` = 91,800 s) are valid GTFS and are kept as such. Blank
arrival/departure times between timed stops are interpolated in proportion to
``shape_dist_traveled`` when the trip has it, else to the great-circle distance between
consecutive stops (:func:`interpolate_times`).

:func:`services_on` gives the service ids running on a date (``calendar.txt`` plus the
additions and removals of ``calendar_dates.txt``); :func:`expand_frequencies` turns
``frequencies.txt`` into explicit runs; :func:`timetable` selects everything running on a
date from one feed or several (ids namespaced ``<feed>:<id>`` when there are several),
including trips of the previous service day that run past midnight, converts each
agency's local times to the timezone of the first feed, and reports per feed what was
read, kept and dropped (:class:`FeedReport`).

Stops are projected to the working CRS (:mod:`ruimtekit._crs`, default EPSG:28992, or
``crs=``; columns ``x``, ``y`` in metres).
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from ruimtekit import _crs, _io, _validate, defaults
from ruimtekit._errors import InputError

log = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400
#: Working CRS of stop coordinates unless told otherwise (Amersfoort / RD New).
DEFAULT_CRS = "EPSG:28992"
#: Mean Earth radius (m, IUGG) for great-circle distances between stops.
EARTH_RADIUS_M = 6_371_008.8
#: Share of a feed's running trips (or served stops) whose loss triggers a loud warning.
DROP_WARN_SHARE = defaults.GTFS_DROP_WARN_SHARE
#: Below this share of a feed's trips running on the date a warning suggests a holiday or
#: the wrong date.
RUNNING_WARN_SHARE = defaults.GTFS_RUNNING_WARN_SHARE

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
    "stop_times.txt": ("pickup_type", "drop_off_type", "shape_dist_traveled"),
    "frequencies.txt": ("exact_times",),
    "transfers.txt": ("min_transfer_time",),
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$"
_FEED_NAME_RE = r"[A-Za-z0-9_.-]{1,64}"


@dataclass
class Feed:
    """A parsed GTFS feed.

    Attributes
    ----------
    path : Path
        The ZIP archive or folder read.
    name : str
        Short feed name (default: the file name without ``.zip``); the id prefix
        ``<name>:`` when several feeds form one network.
    agency, stops, routes, trips : DataFrame
        The GTFS tables (ids as strings, never altered). ``stops`` has ``stop_lat``,
        ``stop_lon`` (WGS84 degrees) and ``x``, ``y`` in ``crs`` (m); ``routes`` has
        ``timezone`` (its agency's ``agency_timezone``).
    stop_times : DataFrame
        ``trip_id``, ``stop_id``, ``stop_sequence`` (int), ``arrival_s``, ``departure_s``
        (int64 seconds after midnight of the service day; interpolated where the feed
        left them blank, see :func:`interpolate_times`), ``timed`` (bool: the feed gave
        the time), ``can_board`` / ``can_alight`` (bool: False where ``pickup_type`` /
        ``drop_off_type`` is 1, "no pickup/drop-off"), sorted by trip and sequence.
    calendar, calendar_dates, frequencies, transfers : DataFrame
        Possibly empty. ``frequencies`` has ``start_s``, ``end_s``, ``headway_secs``,
        ``exact_times``; ``transfers`` has ``min_transfer_time`` (seconds, NaN if absent).
    timezone : str
        The feed's timezone (the first agency's ``agency_timezone``, e.g.
        ``Europe/Amsterdam``); ``routes.timezone`` holds each route's own.
    crs : str
        CRS of ``stops.x``/``stops.y``.
    meta : dict
        Read counts: ``stop_times_read``, ``stop_times_interpolated``,
        ``interpolated_by`` (trips interpolated by ``shape_dist_traveled`` / by
        great-circle distance).
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
    name: str = ""
    crs: str = DEFAULT_CRS

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
            f"Feed({self.name or self.path.name}: {len(self.stops):,} stops, "
            f"{len(self.routes):,} routes, {len(self.trips):,} trips, "
            f"{len(self.stop_times):,} stop times)"
        )


# ----------------------------------------------------------------------------- reading
def _open_archive(path: Path) -> zipfile.ZipFile:
    """Open a GTFS ZIP archive after checking it is safe to read.

    The one place where feed archives are opened (size and compression-ratio bounds
    belong here too). Rejects non-ZIP files and members with absolute, drive-letter or
    ``..`` paths (zip-slip), naming the member.
    """
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(path, "is not a valid ZIP archive",
                         "pass a GTFS .zip file or a folder with the .txt files") from None
    for m in zf.namelist():
        pp = PurePosixPath(m.replace("\\", "/"))
        if pp.is_absolute() or ".." in pp.parts or re.match(r"^[A-Za-z]:", m):
            zf.close()
            raise InputError(path, f"archive member {m!r} has an absolute or '..' path",
                             "repack the feed with plain relative member names")
    return zf


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
            self.zip = _open_archive(path)
            files = [m for m in self.zip.namelist() if not m.endswith("/")]
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
        return [c.strip().strip('"').strip() for c in first.rstrip("\r\n").split(",")]

    def _open(self, name: str) -> Any:
        if self.zip is not None:
            return _io.open_zip_member(self.zip, self.names[name], self.path)  # size/ratio bounds
        return open(self.names[name], "rb")

    def read(self, name: str, columns: list[str]) -> pd.DataFrame:
        """Read ``columns`` as strings; the index is the data row (line = index + 2)."""
        with self._open(name) as f:
            data = f.read()
        try:
            df = pd.read_csv(
                io.BytesIO(data), usecols=lambda c: c.strip() in columns, dtype=str,
                encoding="utf-8-sig", keep_default_na=False, na_values=[""],
                skipinitialspace=True, skip_blank_lines=False,
            )
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(self.path, f"{name} cannot be parsed as CSV ({exc})",
                             "check that the file is comma-separated UTF-8 text") from None
        df.columns = [c.strip() for c in df.columns]
        # blank lines (e.g. a trailing empty line) are skipped after reading, so that the
        # index still gives the line number of every row
        df = df[df.notna().any(axis=1)] if len(df.columns) else df
        for c in df.columns:
            df[c] = df[c].str.strip().replace("", np.nan)
        return df

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _lines(index: Any, n: int = 3) -> str:
    """``line 5`` / ``lines 5, 9, 12`` for the first ``n`` rows of a read table."""
    nums = [int(i) + 2 for i in list(index)[:n]]
    more = " …" if len(index) > n else ""
    return ("line " if len(nums) == 1 else "lines ") + ", ".join(map(str, nums)) + more


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
    df = src.read(name, list(need) + [c for c in extra if c in header])
    for c in need:
        if c not in df:  # header listed it, but pandas saw e.g. a duplicate name
            df[c] = pd.Series(np.nan, index=df.index, dtype=object)
    return df


def parse_times(values: pd.Series, path: Path | str | None, what: str) -> np.ndarray:
    """Parse GTFS ``HH:MM:SS`` times to seconds (float64; NaN for blanks).

    Hours may exceed 23 (``25:10:00`` is 91,800 s: a trip running past midnight).

    Parameters
    ----------
    values : Series of str
        As read by :func:`read_gtfs` (index = data row, so line = index + 2).
    path : Path or str
        The feed, for the error message.
    what : str
        ``<file> <column>``, e.g. ``stop_times.txt arrival_time``.

    Raises
    ------
    InputError
        When a non-blank value is not ``H:MM:SS``/``HH:MM:SS`` with minutes and seconds
        < 60; names the file, the line(s) and the values.
    """
    s = values.astype("string")
    parts = s.str.extract(_TIME_RE)
    blank = s.isna() | (s.str.strip() == "")
    bad = (parts[0].isna() & ~blank).to_numpy(dtype=bool)
    if bad.any():
        idx = values.index[bad]
        examples = ", ".join(repr(v) for v in s[bad].unique()[:3])
        raise InputError(path, f"{what} {_lines(idx)}: {int(bad.sum())} malformed time(s), "
                         f"e.g. {examples}",
                         "write times as HH:MM:SS (hours may exceed 24 for trips past midnight)")
    h = pd.to_numeric(parts[0]).to_numpy(dtype=np.float64, na_value=np.nan)
    m = pd.to_numeric(parts[1]).to_numpy(dtype=np.float64, na_value=np.nan)
    sec = pd.to_numeric(parts[2]).to_numpy(dtype=np.float64, na_value=np.nan)
    return h * 3600 + m * 60 + sec


def _parse_date(v: Any) -> _dt.date:
    return _dt.datetime.strptime(str(v), "%Y%m%d").date()


def _check_ids(path: Path, table: str, col: str, values: pd.Series, known: pd.Index,
               known_file: str) -> None:
    unknown = (~values.isin(known)).to_numpy(dtype=bool)
    if unknown.any():
        ex = ", ".join(repr(v) for v in values[unknown].unique()[:5])
        raise InputError(path, f"{table} {_lines(values.index[unknown])}: "
                         f"{int(unknown.sum())} row(s) refer to unknown {col}(s) "
                         f"(e.g. {ex}) not present in {known_file}",
                         f"add the missing ids to {known_file} or remove the rows from {table}")


def _to_int(df: pd.DataFrame, col: str, path: Path, table: str, default: int | None = None
            ) -> np.ndarray:
    v = pd.to_numeric(df[col], errors="coerce")
    if default is not None:
        v = v.where(df[col].notna(), default)
    bad = (v.isna() | (v != np.round(v))).to_numpy(dtype=bool)
    if bad.any():
        ex = df[col][bad].unique()[:3]
        raise InputError(path, f"{table} {_lines(df.index[bad])}: {col} has non-integer "
                         f"values, e.g. {list(ex)}", f"write {col} as whole numbers")
    return v.to_numpy().astype(np.int64)


def _feed_name(path: Path, name: str | None) -> str:
    if name is None:
        name = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "feed"
    if not re.fullmatch(_FEED_NAME_RE, name):
        raise InputError(path, f"feed name {name!r} is not a valid id prefix",
                         "use 1-64 letters, digits, '_', '-' or '.'")
    return name


def _check_timezones(path: Path, agency: pd.DataFrame) -> list[str]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tz = agency["agency_timezone"]
    if tz.isna().all():
        raise InputError(path, "agency.txt has no agency_timezone",
                         "set agency_timezone (e.g. Europe/Amsterdam) for every agency")
    if tz.isna().any():
        raise InputError(path, f"agency.txt {_lines(agency.index[tz.isna().to_numpy()])}: "
                         "agency_timezone is blank",
                         "set agency_timezone (e.g. Europe/Amsterdam) for every agency")
    for i, v in tz.items():
        try:
            ZoneInfo(str(v))
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(path, f"agency.txt {_lines([i])}: unknown agency_timezone "
                             f"{v!r}", "use an IANA timezone name such as "
                             "Europe/Amsterdam or America/Sao_Paulo") from None
    zones = list(dict.fromkeys(tz.astype(str)))
    if len(zones) > 1:
        log.warning("%s: agencies in different timezones %s (GTFS asks for one per feed); "
                    "each route's times are read in its own agency's timezone", path.name,
                    zones)
    return zones


def read_gtfs(path: str | Path, *, name: str | None = None, crs: str | None = None) -> Feed:
    """Read and validate a GTFS feed.

    Parameters
    ----------
    path : str or Path
        A GTFS ``.zip`` archive (read in place, never extracted) or a folder of ``.txt``.
    name : str, optional
        Feed name, the id prefix in multi-feed networks (default: the file name without
        ``.zip``; letters, digits, ``_``, ``-``, ``.``).
    crs : str, optional
        Projected CRS of the stop coordinates ``x``, ``y`` (metres). Default: the working
        CRS (:mod:`ruimtekit._crs`; EPSG:28992 unless the study sets another; ``auto``
        settles to the UTM zone of the feed's stops).

    Returns
    -------
    Feed

    Raises
    ------
    InputError
        Naming the file, line(s) and problem: missing required files or columns,
        malformed times or dates, calendars ending before they start, stop times
        referring to unknown trips or stops, trips with unknown routes or services,
        missing or unknown agency timezones, duplicate ids, stops without coordinates,
        times running backwards, an unsafe archive member path (zip-slip), a file that is
        not a ZIP archive.
    """
    path = Path(path)
    src = _Source(path)
    try:
        return _read(src, path, _feed_name(path, name), crs)
    finally:
        src.close()


def _read(src: _Source, path: Path, name: str, crs: str | None) -> Feed:
    agency = _read_table(src, "agency.txt", True)
    zones = _check_timezones(path, agency)
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
    for table, df, col in (("stops.txt", stops, "stop_id"), ("routes.txt", routes, "route_id"),
                           ("trips.txt", trips, "trip_id"),
                           ("stop_times.txt", st, "trip_id"), ("stop_times.txt", st, "stop_id")):
        blank = df[col].isna().to_numpy(dtype=bool)
        if blank.any():
            raise InputError(path, f"{table} {_lines(df.index[blank])}: blank {col}",
                             f"give every row of {table} a {col}")

    # stops: coordinates, projected to the working CRS
    for c in ("stop_lat", "stop_lon"):
        stops[c] = pd.to_numeric(stops[c], errors="coerce")
    if "location_type" in stops:
        lt = pd.to_numeric(stops["location_type"], errors="coerce").fillna(0).astype(int)
    else:
        lt = pd.Series(0, index=stops.index)
    stops["location_type"] = lt
    bad = ((stops[["stop_lat", "stop_lon"]].isna().any(axis=1)
            | (stops["stop_lat"].abs() > 90) | (stops["stop_lon"].abs() > 180))
           & (lt <= 1)).to_numpy(dtype=bool)
    if bad.any():
        raise InputError(path, f"stops.txt {_lines(stops.index[bad])}: {int(bad.sum())} "
                         f"stop(s) without valid coordinates, e.g. "
                         f"{list(stops['stop_id'][bad][:3])}",
                         "give every stop and station a numeric stop_lat (-90..90) and "
                         "stop_lon (-180..180) in WGS84 degrees")
    for table, df, col in (("stops.txt", stops, "stop_id"), ("routes.txt", routes, "route_id"),
                           ("trips.txt", trips, "trip_id")):
        dup = df[col].duplicated().to_numpy(dtype=bool)
        if dup.any():
            raise InputError(path, f"{table} {_lines(df.index[dup])}: duplicate {col} "
                             f"{list(df[col][dup].unique()[:3])}", f"make {col} unique")
    _validate.check_stop_coordinates(stops[lt <= 1], path, crs=crs)  # 0,0, swapped, far away
    from pyproj import Transformer

    if crs is None:

        crs = _crs.working_crs()
        if crs == _crs.AUTO:
            ok = stops["stop_lat"].notna() & stops["stop_lon"].notna()
            crs = _crs.settle(float(stops.loc[ok, "stop_lon"].mean()),
                              float(stops.loc[ok, "stop_lat"].mean()))
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(stops["stop_lon"].to_numpy(), stops["stop_lat"].to_numpy())
    stops["x"] = np.asarray(x, dtype=np.float64)
    stops["y"] = np.asarray(y, dtype=np.float64)
    if "stop_name" not in stops:
        stops["stop_name"] = stops["stop_id"]

    # routes: type and timezone (of the route's agency)
    routes["route_type"] = _to_int(routes, "route_type", path, "routes.txt")
    routes["timezone"] = _route_timezones(path, agency, routes, zones)
    _check_ids(path, "trips.txt", "route_id", trips["route_id"], pd.Index(routes["route_id"]),
               "routes.txt")

    # stop times
    _check_ids(path, "stop_times.txt", "trip_id", st["trip_id"], pd.Index(trips["trip_id"]),
               "trips.txt")
    _check_ids(path, "stop_times.txt", "stop_id", st["stop_id"], pd.Index(stops["stop_id"]),
               "stops.txt")
    station = st["stop_id"].map(stops.set_index("stop_id")["location_type"]).to_numpy() != 0
    if station.any():
        raise InputError(path, f"stop_times.txt {_lines(st.index[station])}: stop_id(s) "
                         f"{list(st['stop_id'][station].unique()[:3])} are stations or "
                         "entrances (location_type 1-4), not stops",
                         "refer to platforms/stops (location_type 0 or blank) in stop_times.txt")
    st["stop_sequence"] = _to_int(st, "stop_sequence", path, "stop_times.txt")
    arr = parse_times(st["arrival_time"], path, "stop_times.txt arrival_time")
    dep = parse_times(st["departure_time"], path, "stop_times.txt departure_time")
    # pickup_type / drop_off_type: 0 or blank = regular, 1 = none, 2 = phone the agency,
    # 3 = arrange with the driver; only 1 forbids boarding/alighting in the model
    allowed = {}
    for col, flag in (("pickup_type", "can_board"), ("drop_off_type", "can_alight")):
        if col in st:
            v = _to_int(st, col, path, "stop_times.txt", default=0)
            out = (v < 0) | (v > 3)
            if out.any():
                ex = sorted(set(v[out].tolist()))[:3]
                raise InputError(path, f"stop_times.txt {_lines(st.index[out])}: {col} has "
                                 f"values {ex} outside 0-3",
                                 f"use the GTFS codes 0 (regular), 1 (none), 2 (phone the "
                                 f"agency) or 3 (arrange with the driver) for {col}")
            allowed[flag] = v != 1
        else:
            allowed[flag] = np.ones(len(st), dtype=bool)
    dist = (pd.to_numeric(st["shape_dist_traveled"], errors="coerce").to_numpy(np.float64)
            if "shape_dist_traveled" in st else np.full(len(st), np.nan))
    st = pd.DataFrame({
        "trip_id": st["trip_id"].to_numpy(dtype=object),
        "stop_id": st["stop_id"].to_numpy(dtype=object),
        "stop_sequence": st["stop_sequence"].to_numpy(), "arrival_s": arr, "departure_s": dep,
        "can_board": allowed["can_board"], "can_alight": allowed["can_alight"],
        "shape_dist": dist, "line": st.index.to_numpy(dtype=np.int64) + 2,
    })
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    dupseq = (st["trip_id"].eq(st["trip_id"].shift()) &
              st["stop_sequence"].eq(st["stop_sequence"].shift())).to_numpy(dtype=bool)
    if dupseq.any():
        lines = st["line"].to_numpy()[dupseq][:3].tolist()
        raise InputError(path, f"stop_times.txt lines {lines}: a stop_sequence repeats within "
                         f"trip(s) {list(st['trip_id'][dupseq].unique()[:3])}",
                         "number the stops of each trip with distinct stop_sequence values")
    lat = stops.set_index("stop_id")["stop_lat"]
    lon = stops.set_index("stop_id")["stop_lon"]
    st, how = interpolate_times(st, st["stop_id"].map(lat).to_numpy(np.float64),
                                st["stop_id"].map(lon).to_numpy(np.float64), path)
    st = st.drop(columns=["shape_dist", "line"])  # only needed for interpolation/errors
    n_interp = int((~st["timed"]).sum())

    # calendars
    if len(calendar):
        for d in _WEEKDAYS:
            calendar[d] = _to_int(calendar, d, path, "calendar.txt")
            out = ~np.isin(calendar[d].to_numpy(), [0, 1])
            if out.any():
                raise InputError(path, f"calendar.txt {_lines(calendar.index[out])}: {d} "
                                 "must be 0 or 1", "write 1 (service runs) or 0 on weekdays")
        for c in ("start_date", "end_date"):
            _validate_dates(calendar[c], path, "calendar.txt", c)
        backwards = (calendar["end_date"] < calendar["start_date"]).to_numpy(dtype=bool)
        if backwards.any():
            r = calendar[backwards].iloc[0]
            raise InputError(path, f"calendar.txt {_lines(calendar.index[backwards])}: "
                             f"service {r['service_id']!r} ends ({r['end_date']}) before it "
                             f"starts ({r['start_date']})",
                             "swap or correct start_date and end_date (YYYYMMDD)")
        dup = calendar["service_id"].duplicated().to_numpy(dtype=bool)
        if dup.any():
            raise InputError(path, f"calendar.txt {_lines(calendar.index[dup])}: duplicate "
                             f"service_id {list(calendar['service_id'][dup][:3])}",
                             "give each service one calendar.txt row")
    if len(cdates):
        cdates["exception_type"] = _to_int(cdates, "exception_type", path, "calendar_dates.txt")
        _validate_dates(cdates["date"], path, "calendar_dates.txt", "date")
        bad = ~cdates["exception_type"].isin([1, 2]).to_numpy(dtype=bool)
        if bad.any():
            raise InputError(path, f"calendar_dates.txt {_lines(cdates.index[bad])}: "
                             "exception_type must be 1 or 2",
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
        blank = freqs[["start_s", "end_s"]].isna().any(axis=1).to_numpy(dtype=bool)
        if blank.any():
            raise InputError(path, f"frequencies.txt {_lines(freqs.index[blank])}: blank "
                             "start_time/end_time", "fill start_time and end_time on every row")
        freqs["headway_secs"] = _to_int(freqs, "headway_secs", path, "frequencies.txt")
        bad = (freqs["headway_secs"] <= 0).to_numpy(dtype=bool)
        if bad.any():
            raise InputError(path, f"frequencies.txt {_lines(freqs.index[bad])}: "
                             "headway_secs <= 0", "use a positive headway in seconds")
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
                transfers=transfers, timezone=zones[0], name=name, crs=crs,
                meta={"stop_times_read": len(st), "stop_times_interpolated": n_interp,
                      "interpolated_by": how})
    log.info("read GTFS %s; %d of %d stop times had blank times (interpolated: %d trips by "
             "shape_dist_traveled, %d by great-circle distance)", feed, n_interp, len(st),
             how["shape_dist_traveled"], how["great_circle"])
    return feed


def _route_timezones(path: Path, agency: pd.DataFrame, routes: pd.DataFrame,
                     zones: list[str]) -> np.ndarray:
    """Each route's agency timezone (routes.agency_id → agency.txt)."""
    if len(zones) == 1:
        return np.full(len(routes), zones[0], dtype=object)
    if "agency_id" not in agency or "agency_id" not in routes:
        raise InputError(path, "several agencies but no agency_id to tell routes apart",
                         "add agency_id to agency.txt and routes.txt")
    tz_of = dict(zip(agency["agency_id"], agency["agency_timezone"], strict=True))
    aid = routes["agency_id"]
    unknown = (~aid.isin(list(tz_of))).to_numpy(dtype=bool)
    if unknown.any():
        raise InputError(path, f"routes.txt {_lines(routes.index[unknown])}: unknown or blank "
                         f"agency_id {list(aid[unknown].unique()[:3])}",
                         "give every route the agency_id of an agency.txt row")
    return aid.map(tz_of).to_numpy(dtype=object)


def _validate_dates(values: pd.Series, path: Path, table: str, col: str) -> None:
    ok = values.astype(str).str.fullmatch(r"\d{8}")
    parsed = pd.to_datetime(values.where(ok), format="%Y%m%d", errors="coerce")
    bad = parsed.isna().to_numpy(dtype=bool)
    if bad.any():
        raise InputError(path, f"{table} {_lines(values.index[bad])}: {col} has malformed "
                         f"date(s), e.g. {list(values[bad][:3])}", "write dates as YYYYMMDD")


def great_circle_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                   lon2: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distance in metres between WGS84 points (degrees), on a
    sphere of radius :data:`EARTH_RADIUS_M`."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def interpolate_times(st: pd.DataFrame, lat: np.ndarray, lon: np.ndarray,
                      path: Path | str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Fill blank arrival/departure times of stop times sorted by trip and sequence.

    A stop with only one of the two times gets it for both. A stop with neither gets a
    time interpolated between the departure at the previous timed stop and the arrival
    at the next timed stop of the trip, in proportion to the distance travelled:
    ``shape_dist_traveled`` when every stop of the trip has it and it never decreases,
    else the cumulative great-circle distance between consecutive stops (like OTP's and
    R5's distance-based interpolation). When the timed stops bracketing a gap are at the
    same distance, the stop order is used. Times are rounded to whole seconds.

    Parameters
    ----------
    st : DataFrame
        ``trip_id``, ``arrival_s``, ``departure_s`` (float s, NaN blank), optionally
        ``shape_dist`` (float, NaN blank) and ``line`` (file line, for errors); sorted by
        trip and ``stop_sequence``.
    lat, lon : array of float
        Stop coordinates per row (WGS84 degrees).
    path : Path, optional
        The feed, for error messages.

    Returns
    -------
    (DataFrame, dict)
        ``st`` with int64 ``arrival_s``/``departure_s`` and a bool ``timed`` column (the
        feed gave a time); counts of trips interpolated by ``shape_dist_traveled`` and by
        ``great_circle`` distance.

    Raises
    ------
    InputError
        The first or last stop of a trip has no time, departure before arrival, or times
        going backwards along a trip (naming the lines and trips).
    """
    a = st["arrival_s"].to_numpy(dtype=np.float64).copy()
    d = st["departure_s"].to_numpy(dtype=np.float64).copy()
    timed = ~(np.isnan(a) & np.isnan(d))
    a = np.where(np.isnan(a), d, a)
    d = np.where(np.isnan(d), a, d)
    trip = st["trip_id"].to_numpy()
    line = st["line"].to_numpy() if "line" in st else np.arange(len(st)) + 2
    n = len(st)
    first = np.ones(n, dtype=bool)
    first[1:] = trip[1:] != trip[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = trip[1:] != trip[:-1]
    ends = (first | last) & ~timed
    if ends.any():
        raise InputError(path, f"stop_times.txt lines {line[ends][:3].tolist()}: the first or "
                         f"last stop of trip(s) {list(dict.fromkeys(trip[ends]))[:3]} has no "
                         "time", "give the first and last stop of every trip a time")
    how = {"shape_dist_traveled": 0, "great_circle": 0}
    if not timed.all():
        tid = np.cumsum(first) - 1  # trip number per row
        gap_trip = np.zeros(tid[-1] + 1, dtype=bool)
        gap_trip[tid[~timed]] = True
        # distance along the trip: shape_dist_traveled where complete and monotone
        sd = (st["shape_dist"].to_numpy(dtype=np.float64) if "shape_dist" in st
              else np.full(n, np.nan))
        step = np.zeros(n)
        step[1:] = np.diff(sd)
        step[first] = 0.0
        bad_sd = np.zeros(tid[-1] + 1, dtype=bool)
        np.logical_or.at(bad_sd, tid, np.isnan(sd) | (step < 0))
        use_sd = ~bad_sd[tid]
        gc = np.zeros(n)
        gc[1:] = great_circle_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
        gc[first] = 0.0
        gc = np.where(np.isnan(gc), 0.0, gc)
        step = np.where(use_sd, step, gc)
        cum = np.cumsum(step)
        how["shape_dist_traveled"] = int((gap_trip & ~bad_sd).sum())
        how["great_circle"] = int((gap_trip & bad_sd).sum())
        pos = np.arange(n)
        prev = np.maximum.accumulate(np.where(timed, pos, 0))  # previous timed row
        nxt = np.minimum.accumulate(np.where(timed, pos, n)[::-1])[::-1]  # next timed row
        gap = ~timed
        p, q = prev[gap], nxt[gap]
        span = cum[q] - cum[p]
        frac = np.where(span > 0, (cum[gap] - cum[p]) / np.where(span > 0, span, 1.0),
                        (pos[gap] - p) / (q - p))
        t0, t1 = d[p], a[q]
        fill = np.floor(t0 + frac * (t1 - t0) + 0.5)
        a[gap] = fill
        d[gap] = fill
    if (d < a).any():
        bad = d < a
        raise InputError(path, f"stop_times.txt lines {line[bad][:3].tolist()}: departure "
                         f"before arrival in trip(s) {list(dict.fromkeys(trip[bad]))[:3]}",
                         "make departure_time >= arrival_time at every stop")
    back = ~first & (a < np.concatenate([[0.0], d[:-1]]))
    if back.any():
        raise InputError(path, f"stop_times.txt lines {line[back][:3].tolist()}: times go "
                         f"backwards along trip(s) {list(dict.fromkeys(trip[back]))[:3]}",
                         "order stop_sequence so that times never decrease along a trip")
    st = st.assign(arrival_s=a.astype(np.int64), departure_s=d.astype(np.int64), timed=timed)
    return st, how


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
        raise InputError(feed.path, f"no service runs on {day.isoformat()} "
                         f"({_WEEKDAYS[day.weekday()]}); {_coverage(feed)}",
                         "choose a date inside the feed's range (a weekday, for commuting)")
    return active


def _coverage(feed: Feed) -> str:
    lo, hi = feed.date_range()
    return f"the feed covers {lo} to {hi}" if lo else "the feed's calendars have no dates"


def expand_frequencies(feed: Feed) -> pd.DataFrame:
    """Stop times with ``frequencies.txt`` expanded to explicit runs.

    Each frequency-based trip is a template: its stop times give the running times
    relative to its first departure. For every ``frequencies.txt`` row a run departs at
    ``start_time``, ``start_time + headway``, ... while before ``end_time`` (exclusive).
    ``exact_times=1`` is exactly this schedule; for ``exact_times=0`` (frequency-based
    service without a published schedule) the same evenly spaced schedule is used, which
    gives the expected wait of half a headway. Runs keep the template's ``trip_id`` and
    are numbered in the ``run`` column (0, 1, ... in departure order; −1 for trips
    without frequencies); template trips keep no stop times of their own.

    Returns
    -------
    DataFrame
        The columns of ``feed.stop_times`` plus ``run`` (int64).
    """
    st = feed.stop_times
    fq = feed.frequencies
    if not len(fq):
        return st.assign(run=np.int64(-1))
    tmpl_ids = pd.Index(fq["trip_id"].unique())
    is_tmpl = st["trip_id"].isin(tmpl_ids).to_numpy()
    base = st[~is_tmpl].assign(run=np.int64(-1))
    tmpl = st[is_tmpl]
    first_dep = tmpl.groupby("trip_id", sort=False)["departure_s"].transform("min")
    rel_a = (tmpl["arrival_s"] - first_dep).to_numpy()
    rel_d = (tmpl["departure_s"] - first_dep).to_numpy()
    rows_of = tmpl.groupby("trip_id", sort=False).indices
    parts = [base]
    for trip_id, rows in fq.groupby("trip_id", sort=False):
        starts = [np.arange(r.start_s, r.end_s, r.headway_secs, dtype=np.int64)
                  for r in rows.itertuples(index=False)]
        st0 = np.unique(np.concatenate(starts)) if starts else np.zeros(0, np.int64)
        pos = rows_of.get(trip_id)
        if pos is None or st0.size == 0:
            continue
        t = tmpl.iloc[pos]
        n, m = st0.size, len(pos)
        k = np.repeat(np.arange(n), m)
        parts.append(pd.DataFrame({
            c: np.tile(t[c].to_numpy(), n) for c in st.columns
            if c not in ("arrival_s", "departure_s")
        }).assign(arrival_s=st0[k] + np.tile(rel_a[pos], n),
                  departure_s=st0[k] + np.tile(rel_d[pos], n),
                  run=k.astype(np.int64))[list(st.columns) + ["run"]])
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- timetable
@dataclass
class FeedReport:
    """What one feed contributes to a timetable on a date.

    Attributes
    ----------
    name, path : str
        Feed name (the id prefix in multi-feed networks) and file.
    date : date
    timezone : str
        The feed's timezone; ``shift_s`` the seconds added to its times to express them in
        the network's timezone (0 when they agree).
    trips_read, stops_read, routes_read : int
        Rows of trips.txt, stops (location_type 0) of stops.txt, rows of routes.txt.
    trips_running : int
        Trips whose service runs on the date (each frequency-based trip counted once).
    trips_overnight : int
        Trips of the previous service day still running after midnight (added).
    runs : int
        Frequency-based runs (``frequencies.txt``) among the kept trips.
    trips_kept, stops_served, routes_running : int
        Trips with two or more stop times (frequency runs counted per run), the stops
        they serve and their routes.
    dropped : dict of str to int
        Running trips left out, by reason (``no stop times``, ``fewer than two stop
        times``, ``frequency template without runs``); :func:`ruimtekit.engine.transit.
        build_network` adds ``outside the time window``.
    stops_dropped : int
        Stops served by running trips but by no kept trip.
    stop_times_interpolated : int
        Stop times of the feed with interpolated (blank) times.
    """

    name: str
    path: str
    date: _dt.date
    timezone: str
    shift_s: int
    trips_read: int
    stops_read: int
    routes_read: int
    trips_running: int
    trips_overnight: int
    runs: int
    trips_kept: int
    stops_served: int
    routes_running: int
    dropped: dict[str, int] = field(default_factory=dict)
    stops_dropped: int = 0
    stop_times_interpolated: int = 0

    def lost_share(self) -> float:
        """Share of running trips dropped for defects (not the time window)."""
        lost = sum(v for k, v in self.dropped.items() if k != "outside the time window")
        return lost / self.trips_running if self.trips_running else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-safe) for logs and ``meta``."""
        d = dict(self.__dict__)
        d["date"] = self.date.isoformat()
        d["dropped"] = dict(self.dropped)
        return d

    def line(self) -> str:
        """One log line."""
        drops = "; ".join(f"{v:,} {k}" for k, v in self.dropped.items() if v) or "none"
        return (f"feed {self.name} on {self.date}: {self.trips_running:,} of "
                f"{self.trips_read:,} trips run (+{self.trips_overnight:,} overnight from the "
                f"day before), {self.trips_kept:,} kept ({self.runs:,} frequency runs), "
                f"{self.routes_running:,} routes, {self.stops_served:,} of {self.stops_read:,} "
                f"stops served; dropped: {drops}; {self.stop_times_interpolated:,} stop "
                f"times interpolated; timezone {self.timezone}"
                + (f" (shifted {self.shift_s:+d} s)" if self.shift_s else ""))


@dataclass
class Timetable:
    """The stop times running on one date (times in seconds after midnight of that date,
    in the timezone of the first feed).

    Attributes
    ----------
    feeds : list of Feed
    date : date
    stop_times : DataFrame
        ``trip`` (int64: one number per trip run, the grouping key), ``trip_id``,
        ``run`` (frequency run, −1 = scheduled trip), ``service_day`` (0 = the date,
        −1 = the previous service day, times shifted by −86,400 s), ``feed``,
        ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s``, ``can_board``,
        ``can_alight``, ``route_id``, ``route_type``, ``timed``; sorted by ``trip`` and
        sequence. With several feeds ``trip_id``, ``stop_id`` and ``route_id`` are
        ``<feed>:<id>``.
    stops : DataFrame
        Stops (location_type 0) of all feeds: ``stop_id`` (namespaced like
        ``stop_times``), ``stop_name``, ``stop_lat``, ``stop_lon``, ``x``, ``y``, ``feed``.
    transfers : DataFrame
        ``transfers.txt`` rows of all feeds (namespaced stop ids).
    reports : list of FeedReport
    timezone : str
    crs : str
    """

    feeds: list[Feed]
    date: _dt.date
    stop_times: pd.DataFrame
    stops: pd.DataFrame
    transfers: pd.DataFrame
    reports: list[FeedReport]
    timezone: str
    crs: str

    @property
    def feed(self) -> Feed:
        """The first feed (the only one for single-feed timetables)."""
        return self.feeds[0]

    @property
    def source(self) -> str:
        """The feed paths, ``;``-separated."""
        return ";".join(str(f.path) for f in self.feeds)


def _tz_offset_s(tz: str, day: _dt.date) -> int:
    from zoneinfo import ZoneInfo

    noon = _dt.datetime.combine(day, _dt.time(12), tzinfo=ZoneInfo(tz))
    off = noon.utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def timetable(feeds: Feed | Sequence[Feed], date: str | _dt.date) -> Timetable:
    """Select the stop times running on ``date`` from one feed or several.

    Per feed: the services of the date (one calendar check per feed: a feed with no
    service that day is an error naming the feed and its date range), frequencies
    expanded into runs, trips of the previous service day that run past midnight added
    (``service_day`` −1, times −24 h), times converted from each route's agency timezone
    to the network timezone (the first feed's; the UTC offsets at noon of the service day
    are compared), trips with fewer than two stop times dropped. A :class:`FeedReport`
    per feed is logged: a loud warning when more than :data:`DROP_WARN_SHARE` of the
    running trips or served stops drop out, a warning when fewer than
    :data:`RUNNING_WARN_SHARE` of the trips run on the date.

    Parameters
    ----------
    feeds : Feed or sequence of Feed
        Several feeds need distinct names (:attr:`Feed.name`); their ids become
        ``<name>:<id>``. All feeds must share one CRS.
    date : str or date
        ``YYYY-MM-DD``.

    Raises
    ------
    InputError
        No service on the date in a feed, no trip with two or more stop times in a feed,
        duplicate feed names, or feeds in different CRSs.
    """
    day = _as_date(date)
    feeds = [feeds] if isinstance(feeds, Feed) else list(feeds)
    if not feeds:
        raise InputError(None, "no GTFS feed given", "pass one or more feeds")
    names = [f.name or _feed_name(f.path, None) for f in feeds]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(feeds[0].path, f"several feeds share the name(s) {dup}",
                         "give each feed a distinct name (read_gtfs(path, name=...), or "
                         "feeds: [{path: ..., name: ...}] in the study)")
    crs = {f.crs for f in feeds}
    if len(crs) > 1:
        raise InputError(feeds[0].path, f"feeds projected to different CRSs {sorted(crs)}",
                         "read all feeds with the same crs=")
    multi = len(feeds) > 1
    net_tz = feeds[0].timezone
    st_parts, stop_parts, tr_parts, reports = [], [], [], []
    next_trip = 0
    for f, name in zip(feeds, names, strict=True):
        pre = f"{name}:" if multi else ""
        part, rep = _feed_timetable(f, name, day, net_tz)
        part["trip"] += next_trip
        next_trip = int(part["trip"].max()) + 1 if len(part) else next_trip
        if pre:
            for c in ("trip_id", "stop_id", "route_id"):
                part[c] = pre + part[c].astype(str)
        st_parts.append(part)
        reports.append(rep)
        stops = f.stops[f.stops["location_type"] == 0]
        stop_parts.append(pd.DataFrame({
            "stop_id": (pre + stops["stop_id"]).to_numpy(dtype=object),
            "stop_name": stops["stop_name"].fillna("").to_numpy(dtype=object),
            "stop_lat": stops["stop_lat"].to_numpy(), "stop_lon": stops["stop_lon"].to_numpy(),
            "x": stops["x"].to_numpy(), "y": stops["y"].to_numpy(), "feed": name}))
        trf = f.transfers.copy()
        if pre:
            for c in ("from_stop_id", "to_stop_id"):
                trf[c] = pre + trf[c].astype(str)
        tr_parts.append(trf)
    st = pd.concat(st_parts, ignore_index=True)
    tt = Timetable(feeds=feeds, date=day, stop_times=st,
                   stops=pd.concat(stop_parts, ignore_index=True),
                   transfers=pd.concat(tr_parts, ignore_index=True), reports=reports,
                   timezone=net_tz, crs=feeds[0].crs)
    log.info("timetable %s: %d trips, %d stop times from %d feed(s)", day,
             int(st["trip"].nunique()), len(st), len(feeds))
    return tt


def _feed_timetable(f: Feed, name: str, day: _dt.date, net_tz: str
                    ) -> tuple[pd.DataFrame, FeedReport]:
    """One feed's running stop times on ``day`` (un-namespaced) and its report."""
    today = services_on(f, day, require=False)
    yesterday = services_on(f, day - _dt.timedelta(days=1), require=False)
    if not today:
        raise InputError(f.path, f"feed {name}: no service runs on {day.isoformat()} "
                         f"({_WEEKDAYS[day.weekday()]}); {_coverage(f)}",
                         "choose a date inside every feed's range (a weekday, for "
                         "commuting), or leave this feed out")
    trips = f.trips.set_index("trip_id")
    routes = f.routes.set_index("route_id")
    running = trips.index[trips["service_id"].isin(today).to_numpy()]
    st = expand_frequencies(f)
    svc = st["trip_id"].map(trips["service_id"])
    parts = []
    shifts = {}
    for sday, services in ((0, today), (-1, yesterday)):
        sel = st[svc.isin(services).to_numpy()]
        if sday == -1 and len(sel):
            key = [sel["trip_id"], sel["run"]]
            late = sel.groupby(key, sort=False)["arrival_s"].transform("max") >= SECONDS_PER_DAY
            sel = sel[late.to_numpy()]
            sel = sel.assign(arrival_s=sel["arrival_s"] - SECONDS_PER_DAY,
                             departure_s=sel["departure_s"] - SECONDS_PER_DAY)
        if not len(sel):
            continue
        rid = sel["trip_id"].map(trips["route_id"])
        sel = sel.assign(service_day=np.int64(sday), route_id=rid.to_numpy(dtype=object),
                         route_type=rid.map(routes["route_type"]).to_numpy(dtype=np.int64))
        tz = rid.map(routes["timezone"]).to_numpy(dtype=object)
        sd = day + _dt.timedelta(days=sday)
        off_net = _tz_offset_s(net_tz, sd)
        shift = np.zeros(len(sel), dtype=np.int64)
        for z in pd.unique(tz):
            s = off_net - _tz_offset_s(str(z), sd)
            shifts[str(z)] = s
            if s:
                shift[tz == z] = s
        if shift.any():
            sel = sel.assign(arrival_s=sel["arrival_s"] + shift,
                             departure_s=sel["departure_s"] + shift)
        parts.append(sel)
    cols = list(st.columns) + ["service_day", "route_id", "route_type"]
    out = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame({c: pd.Series(dtype=object) for c in cols}))
    # drop trips (runs) with fewer than two stop times
    out = out.sort_values(["service_day", "trip_id", "run", "stop_sequence"],
                          kind="stable", ascending=[False, True, True, True]
                          ).reset_index(drop=True)
    tid = out["trip_id"].to_numpy()
    runv = out["run"].to_numpy()
    sdv = out["service_day"].to_numpy()
    new = np.ones(len(out), dtype=bool)
    new[1:] = (tid[1:] != tid[:-1]) | (runv[1:] != runv[:-1]) | (sdv[1:] != sdv[:-1])
    trip = np.cumsum(new) - 1
    size = np.bincount(trip)[trip] if len(out) else np.zeros(0, np.int64)
    short = size < 2
    served_running = set(out["stop_id"])
    short_today = pd.unique(tid[short & (sdv == 0)])
    out = out[~short].reset_index(drop=True)
    new = new[~short]
    out.insert(0, "trip", (np.cumsum(new) - 1).astype(np.int64))
    out["feed"] = name
    # report
    has_st = pd.Index(f.stop_times["trip_id"].unique())
    tmpl = pd.Index(f.frequencies["trip_id"].unique())
    no_st = running.difference(has_st)
    kept_today = out[out["service_day"] == 0]
    runs_out = kept_today[kept_today["run"] >= 0]
    no_runs = running.intersection(tmpl).intersection(has_st).difference(
        pd.Index(runs_out["trip_id"].unique()))
    dropped = {"no stop times": int(len(no_st)),
               "fewer than two stop times": int(len(short_today)),
               "frequency template without runs": int(len(no_runs))}
    stops_served = set(out["stop_id"])
    served_prev = out["service_day"] == -1
    rep = FeedReport(
        name=name, path=str(f.path), date=day, timezone=f.timezone,
        shift_s=int(shifts.get(f.timezone, 0)), trips_read=len(f.trips),
        stops_read=int((f.stops["location_type"] == 0).sum()), routes_read=len(f.routes),
        trips_running=int(len(running)),
        trips_overnight=int(out.loc[served_prev.to_numpy(), "trip"].nunique()),
        runs=int(runs_out.groupby(["trip_id", "run"]).ngroups) if len(runs_out) else 0,
        trips_kept=int(kept_today["trip"].nunique()), stops_served=len(stops_served),
        routes_running=int(kept_today["route_id"].nunique()), dropped=dropped,
        stops_dropped=len(served_running - stops_served),
        stop_times_interpolated=int(f.meta.get("stop_times_interpolated", 0)))
    if rep.trips_kept == 0:
        raise InputError(f.path, f"feed {name}: none of its {rep.trips_running:,} trips "
                         f"running on {day} has two or more stop times ({rep.line()})",
                         "check stop_times.txt of the running trips, or choose another date")
    report_feed(rep)
    return out, rep


def report_table(reports: Sequence[FeedReport | dict[str, Any]]) -> pd.DataFrame:
    """The feed reports as a table: one row per feed, the drop reasons as
    ``dropped_<reason>`` columns (spaces → ``_``)."""
    rows = []
    for r in reports:
        d = r.as_dict() if isinstance(r, FeedReport) else dict(r)
        for k, v in dict(d.pop("dropped", {})).items():
            d["dropped_" + k.replace(" ", "_")] = v
        rows.append(d)
    return pd.DataFrame(rows)


def report_feed(rep: FeedReport) -> None:
    """Log a feed report: INFO, and a loud WARNING when a large share drops out."""
    log.info("%s", rep.line())
    lost = rep.lost_share()
    served = rep.stops_served + rep.stops_dropped
    stop_share = rep.stops_dropped / served if served else 0.0
    if lost > DROP_WARN_SHARE or stop_share > DROP_WARN_SHARE:
        log.warning("!!! FEED %s LOSES DATA: %.0f%% of the trips running on %s and %.0f%% of "
                    "their stops are dropped (%s); check the feed before trusting the "
                    "results !!!", rep.name.upper(), 100 * lost, rep.date, 100 * stop_share,
                    "; ".join(f"{v:,} {k}" for k, v in rep.dropped.items() if v))
    if rep.trips_read and rep.trips_running / rep.trips_read < RUNNING_WARN_SHARE:
        log.warning("feed %s: only %d of %d trips run on %s (%s) — a holiday, or the wrong "
                    "date?", rep.name, rep.trips_running, rep.trips_read, rep.date,
                    _WEEKDAYS[rep.date.weekday()])
