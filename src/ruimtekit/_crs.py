"""The working CRS: one setting for every reader, network builder and writer.

ruimtekit computes in one projected CRS with metre units, the *working CRS*. The default
is the Dutch EPSG:28992 (RD New, :data:`ruimtekit.CRS`); a study outside the Netherlands
sets another projected metric CRS (Porto Alegre: EPSG:31982, SIRGAS 2000 / UTM 22S) or
``auto``: the WGS84 UTM zone of the first data read (EPSG:326zz north, 327zz south).

The setting is a context variable: ``with use_crs("EPSG:31982"): ...`` (the pipeline
wraps a run in the study's ``crs:``) or :func:`set_crs` for a whole session. Readers
reproject to it (:mod:`ruimtekit._vector`, :mod:`ruimtekit.network.networks`,
:mod:`ruimtekit.io.gtfs`), the analysis core checks that zones are in it, and GeoPackages
are written in it; web maps are always EPSG:4326.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

import numpy as np
from pyproj import CRS as ProjCRS

from ruimtekit._errors import InputError

log = logging.getLogger(__name__)

DEFAULT_CRS = "EPSG:28992"
AUTO = "auto"

_working: ContextVar[str] = ContextVar("ruimtekit_working_crs", default=DEFAULT_CRS)


def validate(crs: str | int | None) -> str:
    """Normalise a CRS setting to ``EPSG:nnnn`` (or ``auto``).

    Raises
    ------
    InputError
        Unknown CRS, a geographic CRS (degrees) or a projected CRS not in metres.
    """
    if crs is None:
        return DEFAULT_CRS
    if isinstance(crs, str) and crs.strip().lower() == AUTO:
        return AUTO
    try:
        c = ProjCRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - pyproj raises several types
        raise InputError(None, f"unknown CRS {crs!r}",
                         "use an EPSG code such as EPSG:28992, EPSG:31982 or 'auto'") from None
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if not c.is_projected or unit not in ("metre", "meter"):
        raise InputError(None, f"CRS {crs!r} is not a projected CRS in metres ({c.name})",
                         "the working CRS must be projected with metre units (e.g. a UTM "
                         "zone) or 'auto'")
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_string()


def utm_for(lon: float, lat: float) -> str:
    """The WGS84 UTM zone CRS (``EPSG:326zz``/``EPSG:327zz``) of a lon/lat point."""
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lat) > 84:
        raise InputError(None, f"no UTM zone for lon {lon}, lat {lat}",
                         "give the study's crs explicitly (e.g. EPSG:28992)")
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def working_crs() -> str:
    """The working CRS (``EPSG:nnnn``; ``auto`` until the first data settles it)."""
    return _working.get()


def settle(lon: float, lat: float) -> str:
    """The working CRS, settling ``auto`` to the UTM zone of (lon, lat) for the rest of the
    context."""
    cur = _working.get()
    if cur == AUTO:
        cur = utm_for(lon, lat)
        _working.set(cur)
        log.info("working CRS auto → %s (UTM zone of lon %.3f, lat %.3f)", cur, lon, lat)
    return cur


def set_crs(crs: str | int | None) -> str:
    """Set the working CRS for the current context (session); returns it normalised."""
    v = validate(crs)
    _working.set(v)
    return v


@contextlib.contextmanager
def use_crs(crs: str | int | None) -> Iterator[str]:
    """Context manager: work in ``crs`` inside the block, restore the previous after."""
    token = _working.set(validate(crs))
    try:
        yield _working.get()
    finally:
        _working.reset(token)


def same_crs(a: object, b: object) -> bool:
    """Whether two CRS (anything pyproj reads) are equal, ignoring axis order; ``None`` or
    an unreadable CRS is never equal."""
    if a is None or b is None:
        return False
    try:
        return ProjCRS.from_user_input(a).equals(ProjCRS.from_user_input(b),
                                                 ignore_axis_order=True)
    except Exception:  # noqa: BLE001 - pyproj raises several types
        return False


def is_working(crs: object) -> bool:
    """Whether ``crs`` (anything pyproj reads) equals the working CRS."""
    cur = _working.get()
    return cur != AUTO and same_crs(crs, cur)


def is_dutch() -> bool:
    """Whether the working CRS is the Dutch default (RD New)."""
    return _working.get() == DEFAULT_CRS
