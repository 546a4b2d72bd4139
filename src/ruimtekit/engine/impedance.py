"""Impedance without a routable network: the crow-fly model and external skims.

Crow-fly model
--------------
A trip between two points a straight-line distance ``d`` (metres) apart takes

``t(d) = 60 * fixed_min + L / v(L)``  seconds, with network length ``L = detour_factor * d``

and ``v(L)`` the **average door-to-door speed** of a trip of network length ``L``, a
piecewise-linear curve through ``speed_curve`` breakpoints ``(length_km, speed_kmh)``,
constant before the first and after the last breakpoint. For the car the average speed
rises with trip length (short trips run on local streets and through junctions, long trips
reach the motorway) and ``fixed_min`` covers walking to and from the car and parking.
The curve must make travel time increase with distance; this is validated.

Dutch defaults (:data:`DEFAULT_MODELS`) — walk, bike and car **fitted on OpenTripPlanner 2.2
door-to-door times** (OSM Netherlands, Den Haag Zuid-West study of Pellegrino et al.; the
calibration half of ``otp_dhzw_calibration``, 7,011 car, 6,712 bike and 6,067 walk pairs from
0.2 to 150 km) with :func:`ruimtekit.calibrate.fit_crowfly`
(``benchmarks/validate_travel_times.py --refit``; method and error tables in docs/networks.md):

========  ======  =====================================================  =========
mode      detour  average speed (km/h) by network trip length             fixed min
========  ======  =====================================================  =========
walk      1.233   3.94 @ 0 km, 4.35 @ 1.5, 4.76 @ 5 km and beyond          0
bike      1.332   15.24 @ 0 km, 15.6 @ 5, 16.79 @ 30 km and beyond         1
e_bike    1.25    20 (engineering value; no reference times)              1
car       1.416   8.68 @ 0 km, 16.87 @ 2, 19.51 @ 5, 23.03 @ 10,          0
                  31.98 @ 15, 39.97 @ 20, 52.94 @ 30, 71.29 @ 50,
                  88.58 @ 100 km and beyond
========  ======  =====================================================  =========

The detour factors are the median route length / straight-line distance of the OTP routes;
the speeds are door-to-door averages over the route length. Against the OTP pairs the median
absolute relative error is 10.6 % (car), 6.7 % (bike) and 5.2 % (walk) in two-fold
cross-validation, against 23.8 %, 7.4 % and 6.7 % for the earlier engineering defaults
(detour 1.3/1.25/1.25; car 20–100 km/h with 5 min parking, bike 15 km/h, walk 4.8 km/h),
whose car model was far too fast in town (−41 % at 5–10 km). The car curve is that of a big
city (Den Haag and the Randstad around it; free-flow OTP routing without congestion or
parking search): a 10 km straight-line trip (14 km by road) ≈ 28 minutes, 30 km ≈ 40 minutes. Rural car trips
are faster, so use a road network (:mod:`ruimtekit.network.networks`) for national car accessibility,
or refit the curve on local reference times (``ruimtekit calibrate``).

Skims
-----
:func:`read_skim` reads an external zone-to-zone travel-time table (long CSV or Parquet:
origin, destination, time) such as exports of the Dutch national models (LMS/NRM) or
commercial car-speed products. OMX (OpenMatrix, HDF5) files are read with the
``openmatrix`` package when it is installed (``pip install openmatrix``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from ruimtekit import _config, _vector, defaults
from ruimtekit._errors import InputError

log = logging.getLogger(__name__)


class CrowflyModel(_config.Section):
    """Crow-fly impedance model for one mode (usable as a study-file section).

    Attributes
    ----------
    mode : str
        Mode label (``walk``, ``bike``, ``e_bike``, ``car``, ...).
    detour_factor : float
        Network length / straight-line distance (>= 1).
    speed_curve : list of (float, float)
        ``(network_length_km, average_speed_kmh)`` breakpoints, lengths increasing,
        speeds > 0. One breakpoint means a constant speed.
    fixed_min : float
        Fixed minutes added to every trip (access/egress, parking), >= 0.
    """

    mode: str
    detour_factor: float = Field(defaults.CROWFLY_DETOUR, ge=1.0, le=5.0)
    speed_curve: list[tuple[float, float]] = Field(min_length=1)
    fixed_min: float = Field(0.0, ge=0.0)

    @field_validator("speed_curve")
    @classmethod
    def _check_curve(cls, curve: list[tuple[float, float]]) -> list[tuple[float, float]]:
        km = np.array([c[0] for c in curve], dtype=float)
        kmh = np.array([c[1] for c in curve], dtype=float)
        if np.any(km < 0) or np.any(np.diff(km) <= 0):
            raise ValueError("speed_curve lengths (km) must be >= 0 and strictly increasing")
        if np.any(kmh <= 0):
            raise ValueError("speed_curve speeds (km/h) must be > 0")
        # time L / v(L) increases on a segment iff v1 - L1 * slope > 0
        if km.size > 1:
            slope = np.diff(kmh) / np.diff(km)
            if np.any(kmh[:-1] - km[:-1] * slope <= 0):
                raise ValueError(
                    "speed_curve rises too steeply: a longer trip would take less time"
                )
        return curve

    @model_validator(mode="after")
    def _check_mode(self) -> CrowflyModel:
        if not self.mode:
            raise ValueError("mode must be a non-empty label")
        return self

    def curve_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Breakpoints as (network length in metres, speed in m/s) float64 arrays."""
        km = np.array([c[0] for c in self.speed_curve], dtype=np.float64)
        kmh = np.array([c[1] for c in self.speed_curve], dtype=np.float64)
        return km * 1000.0, kmh / 3.6

    def seconds(self, dist_m: np.ndarray | float) -> np.ndarray:
        """Travel time in seconds (float64) for straight-line distances in metres."""
        return crowfly_seconds(dist_m, self)


DEFAULT_MODELS: dict[str, CrowflyModel] = {
    # walk, bike, car fitted on OpenTripPlanner times; e-bike an engineering value
    # (values and provenance: ruimtekit.defaults.CROWFLY_MODELS)
    mode: CrowflyModel(mode=mode, **fields) for mode, fields in defaults.CROWFLY_MODELS.items()
}
"""Dutch default crow-fly models per mode, fitted on OpenTripPlanner times (module docstring)."""
DEFAULT_MODELS["ebike"] = DEFAULT_MODELS["e_bike"]  # the networks module's spelling


def model_for(mode_or_model: str | CrowflyModel) -> CrowflyModel:
    """The crow-fly model for a mode name (from :data:`DEFAULT_MODELS`) or the model itself.

    Raises
    ------
    InputError
        For an unknown mode name.
    """
    if isinstance(mode_or_model, CrowflyModel):
        return mode_or_model
    try:
        return DEFAULT_MODELS[str(mode_or_model)]
    except KeyError:
        raise InputError(
            None,
            f"no crow-fly model for mode {mode_or_model!r}",
            f"use one of {sorted(DEFAULT_MODELS)} or pass an impedance.CrowflyModel",
        ) from None


def crowfly_seconds(dist_m: np.ndarray | float, mode_or_model: str | CrowflyModel) -> np.ndarray:
    """Crow-fly travel time for straight-line distances.

    Parameters
    ----------
    dist_m : array of float
        Straight-line distances in metres (>= 0).
    mode_or_model : str or CrowflyModel
        Mode name of a default model, or a model.

    Returns
    -------
    ndarray of float64
        Travel time in seconds, ``60 * fixed_min + L / v(L)`` with ``L = detour * d``.
    """
    model = model_for(mode_or_model)
    d = np.asarray(dist_m, dtype=np.float64)
    curve_m, curve_ms = model.curve_arrays()
    length = d * model.detour_factor
    v = np.interp(length, curve_m, curve_ms)
    return 60.0 * model.fixed_min + length / v


_UNITS = {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0,
          "h": 3600.0, "hours": 3600.0}


def read_skim(
    path: str | Path,
    origin_col: str = "origin",
    dest_col: str = "destination",
    time_col: str = "time",
    unit: str = "min",
    zone_ids: np.ndarray | list | None = None,
    omx_matrix: str | None = None,
) -> pd.DataFrame:
    """Read an external zone-to-zone travel-time skim.

    Parameters
    ----------
    path : str or Path
        Long-format CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``) with one row per
        origin–destination pair; or an OpenMatrix file (``.omx``, needs ``openmatrix``).
    origin_col, dest_col, time_col : str
        Column names of origin zone id, destination zone id and travel time.
    unit : str
        Unit of the time column: ``s``, ``min`` (default) or ``h``.
    zone_ids : array-like of str, optional
        Known zone ids; a skim zone not in this list is an error.
    omx_matrix : str, optional
        Matrix (table) name inside an OMX file (default: the only one).

    Returns
    -------
    DataFrame
        Columns ``origin`` (str), ``destination`` (str), ``time_s`` (float64 seconds).
        Pairs absent from the skim are unreachable; a pair listed twice is an error.

    Raises
    ------
    InputError
        Missing file or columns, unknown unit or zones, negative, missing or duplicate times.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "the skim file does not exist", "check the path")
    if unit not in _UNITS:
        raise InputError(path, f"unknown time unit {unit!r}", f"use one of {sorted(_UNITS)}")
    name = path.name.lower()
    if name.endswith(".omx"):
        df = _read_omx(path, omx_matrix)
        origin_col, dest_col, time_col = "origin", "destination", "time"
    elif name.endswith((".parquet", ".pq", ".csv", ".csv.gz", ".txt", ".tsv", ".xlsx")):
        df = _vector.read_table(path, text_columns=(origin_col, dest_col), what="skim")
    else:
        raise InputError(path, "unknown skim format", "use a long CSV, Parquet or OMX file")
    missing = [c for c in (origin_col, dest_col, time_col) if c not in df.columns]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {missing}; the file has {list(df.columns)}",
            "name the columns with origin_col=, dest_col=, time_col= (CLI/study: skim columns)",
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "origin": df[origin_col].astype(str).to_numpy(),
            "destination": df[dest_col].astype(str).to_numpy(),
            "time_s": pd.to_numeric(df[time_col], errors="coerce").to_numpy(dtype=np.float64)
            * _UNITS[unit],
        })
    bad = ~np.isfinite(out["time_s"].to_numpy())
    if bad.any():
        first = out.loc[bad].iloc[0]
        raise InputError(
            path,
            f"{int(bad.sum())} travel time(s) in column {time_col!r} are missing or not "
            f"numbers, or too large (first: {first.origin} → {first.destination}, data row "
            f"{int(np.flatnonzero(bad)[0]) + 1})",
            "leave unreachable pairs out of the skim instead of writing an empty value, and "
            f"give times in {unit}",
        )
    neg = out["time_s"].to_numpy() < 0
    if neg.any():
        first = out.loc[neg].iloc[0]
        raise InputError(
            path,
            f"{int(neg.sum())} negative travel time(s) (first: {first.origin} → "
            f"{first.destination}: {first.time_s / _UNITS[unit]:g} {unit})",
            "fix the skim; travel times must be >= 0",
        )
    dup = out.duplicated(["origin", "destination"])
    if dup.any():
        first = out.loc[dup].iloc[0]
        raise InputError(
            path,
            f"{int(dup.sum())} origin–destination pair(s) appear more than once "
            f"(first: {first.origin} → {first.destination})",
            "keep one travel time per pair",
        )
    if zone_ids is not None:
        known = set(map(str, zone_ids))
        unknown = sorted((set(out["origin"]) | set(out["destination"])) - known)
        if unknown:
            raise InputError(
                path,
                f"{len(unknown)} zone id(s) in the skim are not in the zones layer "
                f"(e.g. {unknown[:5]})",
                "use a skim built on the same zoning as the zones layer (same zone_id codes)",
            )
    log.info("read skim %s: %d pairs, %d origins", path, len(out), out["origin"].nunique())
    out.attrs["source"] = str(path)
    return out


def _read_omx(path: Path, matrix: str | None) -> pd.DataFrame:
    try:
        import openmatrix as omx
    except ImportError:
        raise InputError(
            path,
            "reading OMX skims needs the openmatrix package, which is not installed",
            "pip install openmatrix, or export the skim as long CSV/Parquet",
        ) from None
    with omx.open_file(str(path), "r") as f:
        names = f.list_matrices()
        if matrix is None:
            if len(names) != 1:
                raise InputError(path, f"the OMX file holds matrices {names}",
                                 "choose one with omx_matrix=")
            matrix = names[0]
        if matrix not in names:
            raise InputError(path, f"no matrix {matrix!r} in the OMX file (has {names})",
                             "choose one of the listed matrices")
        mat = np.asarray(f[matrix], dtype=np.float64)
        mappings = f.list_mappings()
        # zone ids from the first mapping; without one, zones are numbered 1..n
        ids = f.mapentries(mappings[0]) if mappings else np.arange(1, mat.shape[0] + 1)
    ids = np.array([str(i) for i in ids])
    oi, di = np.nonzero(np.isfinite(mat))
    return pd.DataFrame({"origin": ids[oi], "destination": ids[di], "time": mat[oi, di]})
