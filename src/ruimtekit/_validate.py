"""Validation at the edges: plausibility checks of input values with specific messages.

Each check names the file, the rows (ids) or column, the problem and the fix
(:class:`ruimtekit._errors.InputError`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ruimtekit import _crs
from ruimtekit._errors import InputError

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


AREA_MARGIN_DEG = 5.0
"""Margin (degrees) around a working CRS's area of use within which stops are plausible."""


def expected_area(crs: str | None) -> tuple[tuple[float, float], tuple[float, float],
                                             tuple[float, float], tuple[float, float]] | None:
    """(home lat, home lon, plausible lat, plausible lon) ranges in degrees for a working CRS.

    The Dutch default (EPSG:28992) expects stops in the Netherlands and accepts the rest of
    Europe (cross-border services). Another projected CRS expects its area of use (pyproj),
    plus :data:`AREA_MARGIN_DEG`. ``auto`` (the UTM zone of the data) has no expectation:
    None.
    """
    crs = _crs.working_crs() if crs is None else crs
    if str(crs).strip().lower() == _crs.AUTO:
        return None
    if str(crs).upper() == _crs.DEFAULT_CRS:
        return NL_LAT, NL_LON, EUROPE_LAT, EUROPE_LON
    from pyproj import CRS as ProjCRS

    area = ProjCRS.from_user_input(crs).area_of_use
    if area is None:
        return None
    m = AREA_MARGIN_DEG
    home_lat, home_lon = (area.south, area.north), (area.west, area.east)
    return (home_lat, home_lon, (max(-90.0, area.south - m), min(90.0, area.north + m)),
            (max(-180.0, area.west - m), min(180.0, area.east + m)))


def check_stop_coordinates(stops: pd.DataFrame, path: str | Path,
                           lat: str = "stop_lat", lon: str = "stop_lon",
                           id_col: str = "stop_id", crs: str | None = None) -> None:
    """Plausibility of GTFS stop coordinates (WGS84 degrees) for the working CRS.

    Raises :class:`InputError` for coordinates outside ±90/±180, stops at 0,0 ("null
    island", a placeholder for unknown locations), a feed whose latitude and longitude
    are swapped (most stops lie in the study area only with the two swapped) and stops far
    outside the area the working CRS covers (:func:`expected_area`; for the Dutch default,
    stops elsewhere in Europe — cross-border services — are kept). ``crs`` defaults to the
    working CRS (:mod:`ruimtekit._crs`); with ``auto`` only the first two checks apply.
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
    area = expected_area(crs)
    if area is None:
        return
    home_lat, home_lon, far_lat, far_lon = area

    def inside(a: np.ndarray, o: np.ndarray, rlat: tuple[float, float],
               rlon: tuple[float, float]) -> np.ndarray:
        return ok & (a >= rlat[0]) & (a <= rlat[1]) & (o >= rlon[0]) & (o <= rlon[1])

    at_home = inside(la, lo, home_lat, home_lon)
    swapped = inside(lo, la, home_lat, home_lon) & ~at_home
    if swapped.any() and swapped.sum() > at_home.sum():
        raise InputError(path, f"{lat} and {lon} look swapped: {int(swapped.sum())} stop(s) lie "
                         f"in the study area only with {lat} and {lon} exchanged (e.g. "
                         f"{_ids(ids, swapped, 3)})", f"swap the {lat} and {lon} columns")
    far = ok & ~inside(la, lo, far_lat, far_lon)
    if far.any():
        hint = " (some look swapped)" if (far & swapped).any() else ""
        raise InputError(path, f"stops.txt has {int(far.sum())} stop(s) far outside the area of "
                         f"the working CRS {crs or 'setting'}{hint} (latitude {far_lat[0]:g} to "
                         f"{far_lat[1]:g}, longitude {far_lon[0]:g} to {far_lon[1]:g}; e.g. "
                         f"{_ids(ids, far, 3)})", "check the coordinates of those stops "
                         "(WGS84 degrees) or remove them; for a study outside the Netherlands "
                         "set the study's crs (e.g. crs: auto)")


def check_window(start_s: int, end_s: int, start: object, end: object) -> None:
    """A departure window must end after it starts (times in seconds after midnight)."""
    if end_s <= start_s:
        raise InputError(None, f"the departure window {start}-{end} ends before (or when) it "
                         "starts", "write the earlier time first, e.g. 07:00-09:00 (a window "
                         "past midnight uses hours beyond 24: 23:00-25:00)")
