"""Validation at the edges: plausibility checks of input values with specific messages.

Each check names the file, the rows (ids) or column, the problem and the fix
(:class:`ruimtekit._errors.InputError`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import InputError

log = logging.getLogger(__name__)

NL_LAT = (50.5, 53.8)
"""Latitude range of the Netherlands (degrees, WGS84)."""
NL_LON = (3.2, 7.3)
"""Longitude range of the Netherlands (degrees, WGS84)."""
EUROPE_LAT = (34.0, 72.0)
"""Latitude range of a plausible (European) transit stop (degrees)."""
EUROPE_LON = (-25.0, 45.0)
"""Longitude range of a plausible (European) transit stop (degrees)."""


def _ids(ids: pd.Series, mask: np.ndarray, n: int = 5) -> list[str]:
    return [str(v) for v in ids.to_numpy()[mask][:n]]


def check_stop_coordinates(stops: pd.DataFrame, path: str | Path,
                           lat: str = "stop_lat", lon: str = "stop_lon",
                           id_col: str = "stop_id") -> None:
    """Plausibility of GTFS stop coordinates (WGS84 degrees).

    Raises :class:`InputError` for coordinates outside ±90/±180, stops at 0,0 ("null
    island", a placeholder for unknown locations) and a feed whose latitude and longitude
    are swapped (most stops have a Dutch latitude as longitude and the reverse). Stops far
    outside Europe are an error too; stops outside the Netherlands but in Europe (cross-
    border services) are kept.
    """
    la = pd.to_numeric(stops[lat], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(stops[lon], errors="coerce").to_numpy(dtype=float)
    ids = stops[id_col] if id_col in stops else pd.Series(stops.index)
    ok = np.isfinite(la) & np.isfinite(lo)
    out = ok & ((np.abs(la) > 90) | (np.abs(lo) > 180))
    if out.any():
        raise InputError(path, f"stops.txt has {int(out.sum())} stop(s) with {lat} beyond ±90 "
                         f"or {lon} beyond ±180 (e.g. {_ids(ids, out)})",
                         "write WGS84 degrees (e.g. 52.37, 4.89), not RD metres")
    zero = ok & (np.abs(la) < 1e-6) & (np.abs(lo) < 1e-6)
    if zero.any():
        raise InputError(path, f"stops.txt has {int(zero.sum())} stop(s) at 0,0 (a placeholder "
                         f"for an unknown location), e.g. {_ids(ids, zero)}",
                         "give those stops their real coordinates or remove them and their "
                         "stop times")
    in_nl = ok & (la >= NL_LAT[0]) & (la <= NL_LAT[1]) & (lo >= NL_LON[0]) & (lo <= NL_LON[1])
    swapped = ok & (lo >= NL_LAT[0]) & (lo <= NL_LAT[1]) & (la >= NL_LON[0]) & (la <= NL_LON[1])
    if swapped.sum() > max(in_nl.sum(), 0) and swapped.any():
        raise InputError(path, f"{lat} and {lon} look swapped: {int(swapped.sum())} stop(s) have "
                         f"a Dutch longitude as {lat} and a Dutch latitude as {lon} (e.g. "
                         f"{_ids(ids, swapped, 3)})", f"swap the {lat} and {lon} columns")
    far = ok & ~((la >= EUROPE_LAT[0]) & (la <= EUROPE_LAT[1]) & (lo >= EUROPE_LON[0])
                 & (lo <= EUROPE_LON[1]))
    if far.any():
        hint = " (some look swapped)" if (far & swapped).any() else ""
        raise InputError(path, f"stops.txt has {int(far.sum())} stop(s) far outside Europe"
                         f"{hint} (e.g. {_ids(ids, far, 3)})", "check the coordinates of those stops "
                         "(WGS84 degrees: latitude about 52, longitude about 5 in the "
                         "Netherlands) or remove them")


def check_calendar_ranges(calendar: pd.DataFrame, path: str | Path) -> None:
    """Every calendar.txt service must start on or before its end date (YYYYMMDD)."""
    if not len(calendar):
        return
    start = calendar["start_date"].astype(str).to_numpy()
    end = calendar["end_date"].astype(str).to_numpy()
    rev = start > end  # YYYYMMDD strings compare like dates
    if rev.any():
        ids = calendar["service_id"] if "service_id" in calendar else pd.Series(calendar.index)
        i = int(np.flatnonzero(rev)[0])
        raise InputError(path, f"calendar.txt has {int(rev.sum())} service(s) that end before "
                         f"they start (e.g. service {ids.iloc[i]}: start_date {start[i]}, "
                         f"end_date {end[i]})", "swap start_date and end_date of those "
                         "services (YYYYMMDD)")


def check_window(start_s: int, end_s: int, start: object, end: object) -> None:
    """A departure window must end after it starts (times in seconds after midnight)."""
    if end_s <= start_s:
        raise InputError(None, f"the departure window {start}-{end} ends before (or when) it "
                         "starts", "write the earlier time first, e.g. 07:00-09:00 (a window "
                         "past midnight uses hours beyond 24: 23:00-25:00)")
