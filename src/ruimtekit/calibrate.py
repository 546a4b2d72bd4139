"""Calibrate the crow-fly impedance model against reference travel times.

A reference OD table (from a router such as OpenTripPlanner or R5, a national model skim or
survey times) gives door-to-door minutes between points. :func:`calibrate` reads it
(:func:`read_reference`), fits an :class:`ruimtekit.engine.impedance.CrowflyModel` for one mode
(:func:`fit_crowfly`) and reports the error before and after by crow-fly distance band
(:func:`error_table`). :func:`study_snippet` gives the fitted model as a study-file section.

Model and fit
-------------
The crow-fly model is ``t(d) = fixed_min + L / v(L)`` with ``L = detour_factor * d``
(:mod:`ruimtekit.engine.impedance`). Only ``L / v(L)`` is seen in travel times, so the detour factor
cannot be told apart from the speeds from times alone:

* with route lengths in the reference (``route_km``), the detour factor is the median of
  route length / straight-line distance, and the speed curve is then a real average speed per
  route length;
* without them, the detour factor of the starting model is kept (or the one given).

The speeds at the breakpoints of the curve (network km; by default those of the starting
model) and the fixed minutes are then fitted by robust least squares on the log ratio
``log(model / reference)`` (``soft_l1`` loss, scale :data:`LOSS_SCALE`): close to minimising
the mean absolute relative error, so a few odd reference times (ferries, closed roads, a
point on the wrong side of a motorway) do not pull the curve. A breakpoint with no reference
pair on either adjacent segment keeps its starting speed (listed in ``kept_breakpoints``).
The curve may nowhere imply a *marginal* speed above :data:`MAX_MARGINAL_KMH` (200 km/h: one
more km by road takes at least 0.3 min); the fit is parameterised so every trial curve keeps
this bound. So a longer trip never takes less time, and reach does not jump with the budget.

Reference table
---------------
CSV (``.csv``, ``.csv.gz``) or Parquet with one row per pair and

* points: ``origin_x, origin_y, destination_x, destination_y`` (or the aliases in
  :data:`POINT_ALIASES`, e.g. OpenTripPlanner's ``departure_x/_y, arrival_x/_y``) in lon/lat
  (EPSG:4326) or RD New (EPSG:28992), recognised from the value ranges unless ``crs`` is
  given; or
* zone ids: ``origin, destination`` joined to a zones file (their population-weighted point
  ``pop_x/pop_y`` where present, else the centroid, as in the accessibility measures);
* ``minutes`` (or an alias in :data:`MINUTES_ALIASES`): door-to-door travel time. Empty or
  negative values (OpenTripPlanner writes ``-1``) mean *no route*; those pairs are counted and
  left out, as are pairs with zero time or zero distance;
* optionally ``route_km``: route length in km (for the detour factor).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from ruimtekit import _config, _io, defaults
from ruimtekit._errors import InputError
from ruimtekit._vector import warn
from ruimtekit.engine.impedance import DEFAULT_MODELS, CrowflyModel, crowfly_seconds
from ruimtekit.io import places

log = logging.getLogger(__name__)

# defaults documented in ruimtekit.defaults (docs/defaults.md)
DEFAULT_BANDS_KM: tuple[float, ...] = defaults.CALIBRATION_BANDS_KM
"""Lower edges of the crow-fly distance bands of the error tables (km); a band runs from its
edge up to (not including) the next one, the last is open-ended (>= 50 km)."""

LOSS_SCALE = defaults.CALIBRATION_LOSS_SCALE
"""Scale of the ``soft_l1`` loss on ``log(model / reference)``."""

MIN_PAIRS = defaults.CALIBRATION_MIN_PAIRS
"""Fewest valid reference pairs a fit accepts."""

DROP_WARN_SHARE = defaults.CALIBRATION_DROP_WARN_SHARE
"""Warn loudly when more than this share of the reference rows is left out."""

MAX_MARGINAL_KMH = defaults.MAX_MARGINAL_KMH
"""Fastest *marginal* speed ``dL/dt`` a fitted curve may imply (km/h)."""

SPEED_BOUNDS_KMH = (defaults.MIN_FITTED_SPEED_KMH, MAX_MARGINAL_KMH)
FIXED_BOUNDS_MIN = defaults.FIXED_BOUNDS_MIN

POINT_ALIASES: dict[str, tuple[str, ...]] = {
    "origin_x": ("origin_x", "from_x", "departure_x", "o_x", "origin_lon", "from_lon",
                 "departure_lon"),
    "origin_y": ("origin_y", "from_y", "departure_y", "o_y", "origin_lat", "from_lat",
                 "departure_lat"),
    "destination_x": ("destination_x", "dest_x", "to_x", "arrival_x", "d_x",
                      "destination_lon", "to_lon", "arrival_lon"),
    "destination_y": ("destination_y", "dest_y", "to_y", "arrival_y", "d_y",
                      "destination_lat", "to_lat", "arrival_lat"),
}
"""Column names recognised for the point coordinates, per role (first match wins)."""

ID_ALIASES: dict[str, tuple[str, ...]] = {
    "origin": ("origin", "from", "departure", "o", "origin_id", "from_id"),
    "destination": ("destination", "dest", "to", "arrival", "d", "destination_id", "to_id"),
}
"""Column names recognised for the origin/destination ids."""

MINUTES_ALIASES: tuple[str, ...] = ("minutes", "travel_time", "time_min", "duration_min",
                                    "time")
"""Column names recognised for the reference travel time in minutes."""

ROUTE_KM_ALIASES: tuple[str, ...] = ("route_km", "distance_km")
"""Column names recognised for the route length in km (OpenTripPlanner's ``distance`` is in
km too but has to be named explicitly: ``route_km="distance"``)."""


class ReferenceColumns(_config.Section):
    """Column names of a reference table; ``None`` means: look for the usual aliases.

    Attributes
    ----------
    origin, destination : str, optional
        Origin/destination ids (zone ids when joined to zones; otherwise only reported).
    origin_x, origin_y, destination_x, destination_y : str, optional
        Point coordinates (lon/lat or RD New metres).
    minutes : str, optional
        Door-to-door travel time (minutes).
    route_km : str, optional
        Route length (km).
    """

    origin: str | None = None
    destination: str | None = None
    origin_x: str | None = None
    origin_y: str | None = None
    destination_x: str | None = None
    destination_y: str | None = None
    minutes: str | None = None
    route_km: str | None = None


class ReferenceSource(_config.Section):
    """Where the reference times come from.

    Attributes
    ----------
    path : Path
        Reference OD table (CSV or Parquet).
    columns : ReferenceColumns
        Column names (default: recognised aliases).
    crs : int, optional
        EPSG code of the coordinates (4326 or 28992); default: recognised from the ranges.
    zones : Path, optional
        Zones file: the ids are joined to its zones (population-weighted point or centroid)
        instead of reading coordinates.
    """

    path: Path
    columns: ReferenceColumns = Field(default_factory=ReferenceColumns)
    crs: int | None = None
    zones: Path | None = None

    @field_validator("crs")
    @classmethod
    def _crs_ok(cls, v: int | None) -> int | None:
        if v is not None and v not in (4326, 28992):
            raise ValueError("crs must be 4326 (lon/lat) or 28992 (RD New)")
        return v


class CalibrateOptions(_config.Section):
    """What to fit.

    Attributes
    ----------
    mode : str
        Mode label of the fitted model; its default model is the starting point.
    start : CrowflyModel, optional
        Starting model (default: ``impedance.DEFAULT_MODELS[mode]``); the "before" column.
    breakpoints_km : list of float, optional
        Network lengths (km) of the fitted speed curve (default: the starting model's).
    detour_factor : float, optional
        Fix the detour factor (default: from route lengths when the reference has them,
        else the starting model's).
    fit_fixed : bool
        Fit the fixed minutes (else keep the starting model's).
    bands_km : list of float
        Lower edges of the crow-fly distance bands (km) of the error tables.
    min_pairs : int
        Fewest valid pairs accepted.
    max_marginal_kmh : float
        Fastest marginal speed the fitted curve may imply (km/h; :data:`MAX_MARGINAL_KMH`).
    """

    mode: str = "car"
    start: CrowflyModel | None = None
    breakpoints_km: list[float] | None = None
    detour_factor: float | None = Field(None, ge=1.0, le=5.0)
    fit_fixed: bool = True
    bands_km: list[float] = Field(default_factory=lambda: list(DEFAULT_BANDS_KM))
    min_pairs: int = Field(MIN_PAIRS, ge=2)
    max_marginal_kmh: float = Field(MAX_MARGINAL_KMH, gt=10.0, le=1000.0)

    @field_validator("breakpoints_km", "bands_km")
    @classmethod
    def _increasing(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (len(v) < 1 or v[0] < 0 or np.any(np.diff(v) <= 0)):
            raise ValueError("must be >= 0 and strictly increasing (km)")
        return v

    def start_model(self) -> CrowflyModel:
        """The starting model (given, or the default of :attr:`mode`)."""
        if self.start is not None:
            return self.start
        if self.mode not in DEFAULT_MODELS:
            raise InputError(None, f"no default crow-fly model for mode {self.mode!r}",
                             f"use one of {sorted(DEFAULT_MODELS)} or give a start model")
        return DEFAULT_MODELS[self.mode]


@dataclass
class CrowflyFit:
    """Result of :func:`fit_crowfly`.

    Attributes
    ----------
    model : CrowflyModel
        The fitted model.
    before : CrowflyModel
        The starting model.
    table : DataFrame
        Error by crow-fly distance band, before and after (see :func:`compare_table`).
    n_pairs : int
        Valid reference pairs used.
    detour_source : str
        ``route lengths``, ``given`` or ``starting model``.
    kept_breakpoints : list of float
        Breakpoints (km) without reference pairs, which kept their starting speed.
    counts : dict
        Rows read, kept and dropped per reason (from :func:`read_reference`).
    source : str
        Description of the reference (file name).
    """

    model: CrowflyModel
    before: CrowflyModel
    table: pd.DataFrame
    n_pairs: int
    detour_source: str
    kept_breakpoints: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    source: str = ""


# --------------------------------------------------------------------------- error tables
def _band_labels(edges: np.ndarray) -> list[str]:
    labels = []
    for i, lo in enumerate(edges):
        if i + 1 < edges.size:
            labels.append(f"{lo:g}–{edges[i + 1]:g} km")
        else:
            labels.append(f">= {lo:g} km")
    return labels


def error_table(
    dist_m: np.ndarray,
    model_min: np.ndarray,
    reference_min: np.ndarray,
    bands_km: list[float] | tuple[float, ...] = DEFAULT_BANDS_KM,
) -> pd.DataFrame:
    """Error of modelled against reference travel times by crow-fly distance band.

    Parameters
    ----------
    dist_m : array of float
        Straight-line distance of each pair (metres).
    model_min, reference_min : array of float
        Modelled and reference travel times (minutes). Pairs where either is not finite or
        the reference is not > 0 are left out (counted in no band).
    bands_km : sequence of float
        Lower band edges (km); a band is ``[edge, next edge)``, the last is open-ended.

    Returns
    -------
    DataFrame
        One row per band plus ``all``: ``band``, ``n``, ``median_rel_err`` and
        ``median_abs_rel_err`` (relative error ``(model − reference) / reference``, a
        fraction), ``bias_min`` (mean of ``model − reference``, minutes). Empty bands have
        ``n = 0`` and NaN statistics.
    """
    d = np.asarray(dist_m, dtype=np.float64) / 1000.0
    m = np.asarray(model_min, dtype=np.float64)
    r = np.asarray(reference_min, dtype=np.float64)
    ok = np.isfinite(d) & np.isfinite(m) & np.isfinite(r) & (r > 0)
    edges = np.asarray(bands_km, dtype=np.float64)
    band = np.searchsorted(edges, d, side="right") - 1
    ok &= band >= 0
    rel = np.where(ok, (m - r) / np.where(r > 0, r, 1.0), np.nan)
    rows = []
    labels = _band_labels(edges)
    for i, label in enumerate([*labels, "all"]):
        sel = ok & (band == i) if i < len(labels) else ok
        n = int(sel.sum())
        rows.append({
            "band": label,
            "n": n,
            "median_rel_err": float(np.median(rel[sel])) if n else math.nan,
            "median_abs_rel_err": float(np.median(np.abs(rel[sel]))) if n else math.nan,
            "bias_min": float(np.mean(m[sel] - r[sel])) if n else math.nan,
        })
    return pd.DataFrame(rows)


def compare_table(
    dist_m: np.ndarray,
    reference_min: np.ndarray,
    models_min: dict[str, np.ndarray],
    bands_km: list[float] | tuple[float, ...] = DEFAULT_BANDS_KM,
) -> pd.DataFrame:
    """Error tables of several models side by side (one row per band).

    Parameters
    ----------
    dist_m, reference_min : array of float
        Straight-line distances (metres) and reference times (minutes).
    models_min : dict of str to array
        Model name → modelled minutes (NaN where the model has no time).
    bands_km : sequence of float
        Lower band edges (km).

    Returns
    -------
    DataFrame
        ``band``, ``n`` (pairs with a reference time, per model when they differ:
        ``n_<name>``), and per model ``<name>_median_rel_err``,
        ``<name>_median_abs_rel_err``, ``<name>_bias_min``.
    """
    out: pd.DataFrame | None = None
    for name, mins in models_min.items():
        t = error_table(dist_m, mins, reference_min, bands_km)
        t = t.rename(columns={c: f"{name}_{c}" for c in t.columns if c not in ("band", "n")})
        if out is None:
            out = t
        elif (out["n"].to_numpy() == t["n"].to_numpy()).all():
            out = out.merge(t.drop(columns="n"), on="band", sort=False)
        else:
            out = out.merge(t.rename(columns={"n": f"n_{name}"}), on="band", sort=False)
    if out is None:
        raise ValueError("no models to compare")
    return out


def format_table(table: pd.DataFrame) -> str:
    """A compare/error table as fixed-width text (fractions as %, minutes with one decimal)."""
    show = table.copy()
    for c in show.columns:
        if c.endswith("rel_err"):
            show[c] = [("" if not np.isfinite(v) else f"{100 * v:+.1f}%") if "abs" not in c
                       else ("" if not np.isfinite(v) else f"{100 * v:.1f}%") for v in show[c]]
        elif c.endswith("bias_min"):
            show[c] = ["" if not np.isfinite(v) else f"{v:+.1f}" for v in show[c]]
    return show.to_string(index=False)


# --------------------------------------------------------------------------- reading
def _pick(df: pd.DataFrame, given: str | None, aliases: tuple[str, ...], path: Path,
          role: str) -> str | None:
    if given is not None:
        if given not in df.columns:
            raise InputError(path, f"no column {given!r} (given for {role}); the file has "
                             f"{list(df.columns)}", f"name an existing column for {role}")
        return given
    lower = {str(c).lower(): c for c in df.columns}
    for a in aliases:
        if a in lower:
            return str(lower[a])
    return None


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(path, "the reference file does not exist", "check the path")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            df = pd.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
        else:
            raise InputError(path, "unknown reference table format",
                             "use a CSV (.csv, .csv.gz) or Parquet (.parquet) file")
    except InputError:
        raise
    except Exception as exc:  # unreadable file: say so, no traceback
        raise InputError(path, f"cannot read the reference table ({exc})",
                         "check that it is a valid CSV or Parquet file") from None
    if df.empty:
        raise InputError(path, "the reference table has no rows", "give at least one pair")
    return df


def _numeric(df: pd.DataFrame, col: str, path: Path, *, allow_empty: bool) -> np.ndarray:
    raw = df[col]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype=np.float64)
    s = raw.astype(str).str.strip()
    empty = s.isin(["", "nan", "NaN", "NA", "None", "null"])
    vals = pd.to_numeric(s.where(~empty, None), errors="coerce")
    bad = vals.isna() & ~empty
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        hint = " (a decimal comma? use a decimal point)" if "," in s.iloc[i] else ""
        raise InputError(path, f"column {col!r}: {int(bad.sum())} value(s) are not numbers "
                         f"(first at data row {i + 1}: {s.iloc[i]!r}){hint}",
                         f"write plain numbers in {col!r}; leave a cell empty or write -1 "
                         "for a pair without a route")
    if empty.any() and not allow_empty:
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(path, f"column {col!r}: {int(empty.sum())} empty value(s) (first at "
                         f"data row {i + 1})", f"fill in every value of {col!r}")
    return vals.to_numpy(dtype=np.float64)


def _detect_crs(x: np.ndarray, y: np.ndarray, path: Path) -> int:
    from ruimtekit._vector import NL_LONLAT_RANGE, NL_RD_EXTENT

    def inside(r: tuple[float, ...]) -> bool:
        return bool(np.all((x >= r[0]) & (x <= r[2]) & (y >= r[1]) & (y <= r[3])))

    if inside(NL_LONLAT_RANGE):
        return 4326
    if inside(NL_RD_EXTENT):
        return 28992
    if inside((NL_LONLAT_RANGE[1], NL_LONLAT_RANGE[0], NL_LONLAT_RANGE[3],
               NL_LONLAT_RANGE[2])):
        raise InputError(path, "the coordinates look like lat/lon with x and y swapped",
                         "x columns hold longitude, y columns latitude; name them with "
                         "origin_x=..., origin_y=... (CLI: --origin-x/--origin-y)")
    raise InputError(path, "the coordinates are neither lon/lat nor RD New (EPSG:28992) in "
                     "or near the Netherlands", "give crs=4326 or 28992 (CLI: --crs), or check "
                     "the coordinate columns")


def read_reference(source: ReferenceSource) -> pd.DataFrame:
    """Read a reference OD table into points (EPSG:28992) and minutes.

    Parameters
    ----------
    source : ReferenceSource
        File, column names, CRS and optional zones file.

    Returns
    -------
    DataFrame
        Valid pairs only: ``origin``, ``destination`` (str ids, or row numbers), ``ox, oy,
        dx, dy`` (EPSG:28992 metres), ``dist_m`` (straight line, metres), ``minutes``,
        ``route_km`` (NaN when absent). ``attrs["counts"]``: ``read``, ``kept``,
        ``no_route`` (empty or negative minutes), ``zero_time``, ``zero_distance``,
        ``unmatched_zones``; ``attrs["source"]``: the file name; ``attrs["crs"]``.

    Raises
    ------
    InputError
        Missing file or columns, non-numeric minutes or coordinates, coordinates outside the
        Netherlands, zone ids not in the zones file, no valid pair.
    """
    path = Path(source.path)
    df = _read_table(path)
    cols = source.columns
    n_read = len(df)
    mcol = _pick(df, cols.minutes, MINUTES_ALIASES, path, "minutes")
    if mcol is None:
        raise InputError(path, f"no travel-time column (looked for {list(MINUTES_ALIASES)}); "
                         f"the file has {list(df.columns)}",
                         "name the minutes column (minutes=..., CLI: --minutes-column)")
    minutes = _numeric(df, mcol, path, allow_empty=True)
    rcol = _pick(df, cols.route_km, ROUTE_KM_ALIASES, path, "route_km")
    route_km = (_numeric(df, rcol, path, allow_empty=True) if rcol is not None
                else np.full(n_read, np.nan))
    route_km = np.where(route_km > 0, route_km, np.nan)
    ocol = _pick(df, cols.origin, ID_ALIASES["origin"], path, "origin")
    dcol = _pick(df, cols.destination, ID_ALIASES["destination"], path, "destination")
    unmatched = 0
    if source.zones is not None:
        if ocol is None or dcol is None:
            raise InputError(path, "joining to zones needs origin and destination id columns "
                             f"(looked for {list(ID_ALIASES['origin'])} and "
                             f"{list(ID_ALIASES['destination'])}); the file has "
                             f"{list(df.columns)}", "name them (CLI: --origin-column, "
                             "--destination-column)")
        oid = df[ocol].astype(str).str.strip().to_numpy()
        did = df[dcol].astype(str).str.strip().to_numpy()
        ox, oy, dx, dy, matched = _join_zones(source.zones, oid, did, path)
        unmatched = int((~matched).sum())
        crs = 28992
    else:
        roles = {r: _pick(df, getattr(cols, r), POINT_ALIASES[r], path, r)
                 for r in POINT_ALIASES}
        missing = [r for r, c in roles.items() if c is None]
        if missing:
            raise InputError(path, f"no point coordinates for {missing} (looked for e.g. "
                             f"{[POINT_ALIASES[r][0] for r in missing]}) and no zones file; "
                             f"the file has {list(df.columns)}",
                             "add origin_x/origin_y/destination_x/destination_y (lon/lat or "
                             "RD New), name the columns (CLI: --origin-x ...), or give zone "
                             "ids with a zones file (CLI: --zones)")
        xy = [_numeric(df, roles[r], path, allow_empty=False) for r in POINT_ALIASES]
        crs = source.crs or _detect_crs(np.r_[xy[0], xy[2]], np.r_[xy[1], xy[3]], path)
        if crs == 4326:
            from pyproj import Transformer

            tr = Transformer.from_crs(4326, 28992, always_xy=True)
            ox, oy = tr.transform(xy[0], xy[1])
            dx, dy = tr.transform(xy[2], xy[3])
        else:
            ox, oy, dx, dy = xy
        ox, oy, dx, dy = (np.asarray(a, dtype=np.float64) for a in (ox, oy, dx, dy))
        matched = np.ones(n_read, dtype=bool)
        oid = (df[ocol].astype(str).to_numpy() if ocol is not None
               else np.arange(1, n_read + 1).astype(str))
        did = (df[dcol].astype(str).to_numpy() if dcol is not None
               else np.arange(1, n_read + 1).astype(str))
    dist = np.hypot(dx - ox, dy - oy)
    no_route = matched & ~(minutes >= 0)
    zero_time = matched & (minutes == 0)
    zero_dist = matched & (minutes > 0) & ~(dist > 0)
    keep = matched & (minutes > 0) & (dist > 0)
    counts = {"read": n_read, "kept": int(keep.sum()), "no_route": int(no_route.sum()),
              "zero_time": int(zero_time.sum()), "zero_distance": int(zero_dist.sum()),
              "unmatched_zones": unmatched}
    if not keep.any():
        raise InputError(path, f"no valid reference pair among {n_read} row(s) ({counts})",
                         "give pairs with a travel time > 0 minutes between distinct points")
    dropped = n_read - counts["kept"]
    msg = (f"{path.name}: kept {counts['kept']} of {n_read} reference pairs "
           f"(no route {counts['no_route']}, zero time {counts['zero_time']}, zero distance "
           f"{counts['zero_distance']}, zone not found {unmatched})")
    if dropped > DROP_WARN_SHARE * n_read:
        warn(msg + f": {100 * dropped / n_read:.0f}% left out")
    else:
        log.info(msg)
    out = pd.DataFrame({
        "origin": oid[keep], "destination": did[keep], "ox": ox[keep], "oy": oy[keep],
        "dx": dx[keep], "dy": dy[keep], "dist_m": dist[keep], "minutes": minutes[keep],
        "route_km": route_km[keep],
    })
    out.attrs.update(counts=counts, source=path.name, crs=crs)
    return out


def _join_zones(zones_path: Path, oid: np.ndarray, did: np.ndarray, path: Path
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from ruimtekit.io import layers

    zones = layers.read_zones(zones_path)
    zx, zy = places.zone_points(zones)
    ids = zones["zone_id"].astype(str).to_numpy()
    pos = pd.Series(np.arange(ids.size), index=ids)
    oi = pos.reindex(oid).to_numpy()
    di = pos.reindex(did).to_numpy()
    matched = np.isfinite(oi) & np.isfinite(di)
    if not matched.any():
        ex_ref = sorted(set(oid[:50]) | set(did[:50]))[:5]
        raise InputError(path, f"none of the reference zone ids match the zones of "
                         f"{zones_path.name} (reference e.g. {ex_ref}; zones e.g. "
                         f"{list(ids[:5])})", "use a zones file with the same zoning and "
                         "codes as the reference (e.g. PC4 codes for a PC4 reference)")
    if not matched.all():
        bad = sorted(set(oid[~np.isfinite(oi)]) | set(did[~np.isfinite(di)]))
        warn(f"{path.name}: {int((~matched).sum())} of {matched.size} pairs name zones not in "
             f"{zones_path.name} (e.g. {bad[:5]}); they are left out")
    o = np.where(matched, oi, 0).astype(np.int64)
    d = np.where(matched, di, 0).astype(np.int64)
    ox, oy, dx, dy = zx[o], zy[o], zx[d], zy[d]
    located = np.isfinite(ox) & np.isfinite(oy) & np.isfinite(dx) & np.isfinite(dy)
    if (matched & ~located).any():
        warn(f"{path.name}: {int((matched & ~located).sum())} pairs name zones without a "
             "location (empty geometry); they are left out")
    matched &= located
    return ox, oy, dx, dy, matched


# --------------------------------------------------------------------------- fitting
def _marginal_kmh(km: np.ndarray, kmh: np.ndarray) -> np.ndarray:
    """Largest marginal speed ``1 / (dt/dL)`` (km/h) on each segment of a speed curve.

    On a segment ``v(L) = a + b L``, ``t = L / v`` and ``dL/dt = v(L)² / a``: largest at the
    end with the higher speed. ``inf`` where ``a <= 0`` (time would fall with length).
    """
    km = np.asarray(km, dtype=np.float64)
    kmh = np.asarray(kmh, dtype=np.float64)
    if km.size < 2:
        return np.zeros(0)
    b = np.diff(kmh) / np.diff(km)
    a = kmh[:-1] - b * km[:-1]
    vmax = np.maximum(kmh[:-1], kmh[1:])
    with np.errstate(divide="ignore"):
        return np.where(a > 0, vmax**2 / np.where(a > 0, a, 1.0), np.inf)


def _max_next_speed(km0: float, km1: float, v0: float, max_marginal_kmh: float) -> float:
    """Largest speed at breakpoint ``km1`` (km/h) after speed ``v0`` at ``km0`` such that
    the segment implies no marginal speed above ``max_marginal_kmh`` (:func:`_marginal_kmh`).
    """
    big = max_marginal_kmh
    dl = km1 - km0
    # v1 >= v0: v1² dL + V km0 v1 - V v0 km1 <= 0
    r = (-big * km0 + math.sqrt((big * km0) ** 2 + 4.0 * dl * big * v0 * km1)) / (2.0 * dl)
    if r >= v0:
        return min(r, big)
    # v1 < v0: v0² <= V (v0 km1 - v1 km0) / dL
    return max((v0 * km1 - v0 * v0 * dl / big) / km0, 0.0) if km0 > 0 else min(r, big)


def _valid_curve(km: np.ndarray, kmh: np.ndarray, max_marginal_kmh: float = MAX_MARGINAL_KMH
                 ) -> np.ndarray:
    """Lower speeds, left to right, until no segment implies a marginal speed above
    ``max_marginal_kmh`` (which also makes ``L / v(L)`` increase, the model's validator)."""
    cap = max_marginal_kmh * (1 - 1e-6)
    kmh = np.minimum(np.asarray(kmh, dtype=np.float64).copy(), cap)
    for k in range(1, km.size):
        if _marginal_kmh(km[k - 1:k + 1], kmh[k - 1:k + 1])[0] <= cap:
            continue
        lo, hi = 0.0, kmh[k]  # the marginal speed falls as v_k falls; feasible near 0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            pair = np.array([kmh[k - 1], mid])
            if _marginal_kmh(km[k - 1:k + 1], pair)[0] <= cap:
                lo = mid
            else:
                hi = mid
        kmh[k] = lo
    return kmh


def _model(mode: str, detour: float, km: np.ndarray, kmh: np.ndarray, fixed: float,
           max_marginal_kmh: float) -> CrowflyModel:
    """The model with readable numbers: speeds to 0.01 km/h, rounded down where rounding
    would break the marginal-speed bound."""
    km = np.round(np.asarray(km, dtype=np.float64), 3)
    out = np.round(np.asarray(kmh, dtype=np.float64), 2)
    for k in range(1, km.size):
        u = _max_next_speed(km[k - 1], km[k], out[k - 1], max_marginal_kmh)
        if out[k] > u * (1 - 1e-9):
            out[k] = math.floor(u * (1 - 1e-9) * 100) / 100
    return CrowflyModel(mode=mode, detour_factor=round(float(detour), 3),
                        speed_curve=[(float(a), float(b)) for a, b in zip(km, out, strict=True)],
                        fixed_min=round(float(fixed), 2))


def fit_crowfly(reference: pd.DataFrame, options: CalibrateOptions | None = None) -> CrowflyFit:
    """Fit a crow-fly model to reference travel times.

    Parameters
    ----------
    reference : DataFrame
        ``dist_m`` (straight line, metres), ``minutes`` (> 0) and optionally ``route_km``
        (route length, km), e.g. from :func:`read_reference`.
    options : CalibrateOptions, optional
        Mode, starting model, breakpoints, fixed parts, bands.

    Returns
    -------
    CrowflyFit
        The fitted model, the starting model and the before/after error table.

    Raises
    ------
    InputError
        Fewer than ``options.min_pairs`` valid pairs.
    """
    from scipy.optimize import least_squares

    opts = options or CalibrateOptions()
    start = opts.start_model()
    d = reference["dist_m"].to_numpy(dtype=np.float64)
    t = reference["minutes"].to_numpy(dtype=np.float64)
    ok = np.isfinite(d) & (d > 0) & np.isfinite(t) & (t > 0)
    src = str(reference.attrs.get("source", "reference"))
    if ok.sum() < opts.min_pairs:
        raise InputError(None, f"{src}: only {int(ok.sum())} valid reference pair(s) for mode "
                         f"{opts.mode!r}; the fit needs at least {opts.min_pairs}",
                         "give more pairs with a travel time > 0 between distinct points")
    route = (reference["route_km"].to_numpy(dtype=np.float64) if "route_km" in reference
             else np.full(d.size, np.nan))
    has_route = ok & np.isfinite(route) & (route > 0)
    if opts.detour_factor is not None:
        detour, how = float(opts.detour_factor), "given"
    elif has_route.sum() >= opts.min_pairs:
        ratio = route[has_route] * 1000.0 / d[has_route]
        detour = float(np.clip(np.exp(np.median(np.log(ratio))), 1.0, 5.0))
        how = "route lengths"
    else:
        detour, how = start.detour_factor, "starting model"
    start_km = np.array([c[0] for c in start.speed_curve], dtype=np.float64)
    start_kmh = np.array([c[1] for c in start.speed_curve], dtype=np.float64)
    km = (np.asarray(opts.breakpoints_km, dtype=np.float64) if opts.breakpoints_km
          else start_km)
    kmh0 = np.interp(km, start_km, start_kmh)
    dd, tt = d[ok], t[ok]
    length_km = dd * detour / 1000.0
    # a breakpoint is identified when a pair lies on one of its adjacent segments
    lo = np.r_[-np.inf, km[:-1]]
    hi = np.r_[km[1:], np.inf]
    supported = np.array([np.any((length_km > a) & (length_km < b)) for a, b in
                          zip(lo, hi, strict=True)])
    free = np.flatnonzero(supported)
    fixed0 = start.fixed_min
    n_speed = free.size
    fit_fixed = opts.fit_fixed

    vmax = opts.max_marginal_kmh
    lsq = dict(loss="soft_l1", f_scale=LOSS_SCALE, x_scale="jac")

    def fixed_of(p: np.ndarray) -> float:
        return float(p[n_speed]) if fit_fixed else fixed0

    def times(kmh: np.ndarray, fixed: float) -> np.ndarray:
        return fixed + 60.0 * length_km / np.interp(length_km, km, kmh)

    # stage 1: log speeds, bounded per breakpoint (smooth; usually meets the bound already)
    def speeds_log(p: np.ndarray) -> np.ndarray:
        kmh = kmh0.copy()
        kmh[free] = np.exp(p[:n_speed])
        return kmh

    fx_lb, fx_ub = FIXED_BOUNDS_MIN
    p0 = np.log(np.clip(kmh0[free], SPEED_BOUNDS_KMH[0] * 1.01, min(SPEED_BOUNDS_KMH[1], vmax)
                        * 0.99))
    lb = np.full(n_speed, math.log(SPEED_BOUNDS_KMH[0]))
    ub = np.full(n_speed, math.log(min(SPEED_BOUNDS_KMH[1], vmax)))
    if fit_fixed:
        p0, lb, ub = (np.r_[p0, np.clip(fixed0, fx_lb + 1e-6, fx_ub - 1e-6)], np.r_[lb, fx_lb],
                      np.r_[ub, fx_ub])
    kmh, fixed = kmh0.copy(), fixed0
    if p0.size:
        sol = least_squares(lambda p: np.log(times(speeds_log(p), fixed_of(p)) / tt), p0,
                            bounds=(lb, ub), **lsq)
        kmh, fixed = speeds_log(sol.x), fixed_of(sol.x)
    # stage 2 when the curve breaks the marginal-speed bound: speeds as fractions of their
    # largest allowed value given the previous breakpoint (:func:`_max_next_speed`),
    # v_k = u_k(v_{k-1}) * sigmoid(theta_k), so every trial curve keeps the bound; started
    # from the stage-1 curve lowered onto the bound
    if n_speed and _marginal_kmh(km, kmh).max(initial=0.0) > vmax:
        start_kmh = _valid_curve(km, kmh, vmax)

        def speeds_frac(p: np.ndarray) -> np.ndarray:
            out = kmh0.copy()
            frac = np.full(km.size, np.nan)
            frac[free] = 1.0 / (1.0 + np.exp(-p[:n_speed]))
            for k in range(km.size):
                u = vmax if k == 0 else _max_next_speed(km[k - 1], km[k], out[k - 1], vmax)
                out[k] = u * frac[k] if np.isfinite(frac[k]) else min(kmh0[k], u * (1 - 1e-6))
            return out

        q0 = np.zeros(n_speed)
        for k in range(km.size):
            u = vmax if k == 0 else _max_next_speed(km[k - 1], km[k], start_kmh[k - 1], vmax)
            if supported[k]:
                f = float(np.clip(start_kmh[k] / u, 0.02, 0.95))  # away from saturation
                q0[int(np.searchsorted(free, k))] = math.log(f / (1 - f))
        qlb, qub = np.full(n_speed, -np.inf), np.full(n_speed, np.inf)
        if fit_fixed:
            q0, qlb, qub = np.r_[q0, fixed], np.r_[qlb, fx_lb], np.r_[qub, fx_ub]
            q0[-1] = np.clip(q0[-1], fx_lb + 1e-6, fx_ub - 1e-6)
        sol = least_squares(lambda p: np.log(times(speeds_frac(p), fixed_of(p)) / tt), q0,
                            bounds=(qlb, qub), **lsq)
        kmh, fixed = speeds_frac(sol.x), fixed_of(sol.x)
    kmh = _valid_curve(km, kmh, vmax)
    model = _model(opts.mode, detour, km, kmh, fixed, vmax)
    kept = [float(k) for k in km[~supported]]
    if kept:
        warn(f"{src}: no reference pairs near speed breakpoint(s) {kept} km; they keep the "
             "starting model's speed")
    before_min = crowfly_seconds(d, start) / 60.0
    after_min = crowfly_seconds(d, model) / 60.0
    table = compare_table(d, t, {"before": np.where(ok, before_min, np.nan),
                                 "after": np.where(ok, after_min, np.nan)}, opts.bands_km)
    return CrowflyFit(model=model, before=start, table=table, n_pairs=int(ok.sum()),
                      detour_source=how, kept_breakpoints=kept,
                      counts=dict(reference.attrs.get("counts", {})), source=src)


def calibrate(source: ReferenceSource, options: CalibrateOptions | None = None) -> CrowflyFit:
    """Read a reference OD table and fit a crow-fly model (:func:`read_reference`, then
    :func:`fit_crowfly`).

    Parameters
    ----------
    source : ReferenceSource
        Reference file, columns, CRS, optional zones.
    options : CalibrateOptions, optional
        Mode and fit options.

    Returns
    -------
    CrowflyFit
    """
    return fit_crowfly(read_reference(source), options)


def parse_settings(source: dict, options: dict) -> tuple[ReferenceSource, CalibrateOptions]:
    """Validate plain settings (e.g. from the command line) into the parameter objects.

    Parameters
    ----------
    source : dict
        Fields of :class:`ReferenceSource` (``columns`` as a dict of
        :class:`ReferenceColumns` fields; ``None`` values are dropped).
    options : dict
        Fields of :class:`CalibrateOptions`; ``fixed_min`` (minutes) holds the fixed minutes
        at that value instead of fitting them.

    Raises
    ------
    InputError
        An invalid setting (named, with the reason).
    """
    from pydantic import ValidationError

    src = {k: v for k, v in source.items() if v is not None}
    src["columns"] = {k: v for k, v in (src.get("columns") or {}).items() if v is not None}
    opt = {k: v for k, v in options.items() if v is not None}
    fixed = opt.pop("fixed_min", None)
    try:
        ref = ReferenceSource(**src)
        opts = CalibrateOptions(**opt)
        if fixed is not None:
            start = opts.start_model().model_copy(update={"fixed_min": float(fixed)})
            opts = CalibrateOptions(**{**opt, "start": CrowflyModel(**start.model_dump()),
                                       "fit_fixed": False})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(source.get("path"), f"invalid calibrate setting {where!r}: "
                         f"{err['msg']}", "correct the value (see ruimtekit calibrate --help)"
                         ) from None
    return ref, opts


def parse_network_settings(source: dict, options: dict
                           ) -> tuple[ReferenceSource, NetworkFitOptions]:
    """Validate plain settings into a :class:`ReferenceSource` and
    :class:`NetworkFitOptions` (``None`` values dropped).

    Raises
    ------
    InputError
        A missing study file or an invalid setting.
    """
    from pydantic import ValidationError

    ref, _ = parse_settings(source, {})
    opt = {k: v for k, v in options.items() if v is not None}
    if "study" not in opt:
        raise InputError(None, "fitting a network needs the study file that defines it",
                         "give the study (CLI: --study path/to/study.yaml)")
    try:
        return ref, NetworkFitOptions(**opt)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(opt.get("study"), f"invalid calibrate setting {where!r}: "
                         f"{err['msg']}", "correct the value") from None


# --------------------------------------------------------------------------- outputs
def study_snippet(fit: CrowflyFit) -> str:
    """The fitted model as a study-file section (YAML).

    Paste the ``crowfly:`` block into an accessibility block of a study (per-mode crow-fly
    overrides), or its ``<mode>:`` entry under ``borrowed_size: crowfly_models:``.
    """
    m = fit.model
    before = fit.table.iloc[-1]["before_median_abs_rel_err"]
    after = fit.table.iloc[-1]["after_median_abs_rel_err"]
    curve = ", ".join(f"[{a:g}, {b:g}]" for a, b in m.speed_curve)
    lines = [
        f"# ruimtekit calibrate: crow-fly model for {m.mode!r} fitted on {fit.source} "
        f"({fit.n_pairs} pairs)",
        f"# median |relative error|: {100 * before:.1f}% (before) -> {100 * after:.1f}% "
        f"(fitted); detour factor from {fit.detour_source}",
        "# paste under an accessibility block of the study (next to impedance: crowfly), or",
        "# the entry under the mode into borrowed_size: crowfly_models:",
        "crowfly:",
        f"  {m.mode}:",
        f"    mode: {m.mode}",
        f"    detour_factor: {m.detour_factor:g}",
        f"    speed_curve: [{curve}]   # [network km, average km/h]",
        f"    fixed_min: {m.fixed_min:g}",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(fit: CrowflyFit | NetworkFit, yaml_path: str | Path,
                  table_path: str | Path | None = None) -> None:
    """Write the study-file snippet (YAML) and, optionally, the error table (CSV).

    Parameters
    ----------
    fit : CrowflyFit or NetworkFit
        A fitted crow-fly model or network.
    yaml_path : str or Path
        Output YAML snippet.
    table_path : str or Path, optional
        Output CSV of the before/after error table by band (fractions and minutes).
    """
    text = network_snippet(fit) if isinstance(fit, NetworkFit) else study_snippet(fit)
    _io.write_text(yaml_path, text)
    if table_path is not None:
        with _io.atomic_path(table_path) as tmp:
            fit.table.to_csv(tmp, index=False)


# --------------------------------------------------------------------------- networks
NETWORK_GRIDS: dict[str, tuple[float, ...]] = dict(defaults.NETWORK_GRIDS)
"""Values tried per network parameter (coordinate descent, :func:`fit_network`): a factor
on every link speed (as a study period), the car profile's ``urban_junction_delay_s`` (only
for networks read with ``urban:``) and the zone connector speed (km/h)."""

CALIBRATED_PERIOD = "calibrated"
"""Name of the study period that carries the fitted speed factor."""


class NetworkFitOptions(_config.Section):
    """What to fit on a study network (:func:`fit_network`).

    Attributes
    ----------
    study : Path
        Study file (YAML) that defines the network.
    network : str
        Network name in the study's ``networks:``.
    land_layer : str, optional
        Zones layer of the study whose land parts keep connectors on their island
        (:func:`ruimtekit.network.connectors.land_parts`); default: none.
    connectors : dict
        Connector settings to start from (``ConnectorConfig`` fields; default its defaults).
    grids : dict of str to list of float
        Values tried per parameter (default :data:`NETWORK_GRIDS`); leave a parameter out
        (or give one value) to hold it.
    rounds : int
        Coordinate-descent rounds (each tries every grid value of every parameter once).
    bands_km : list of float
        Lower edges of the crow-fly distance bands (km) of the error tables.
    """

    study: Path
    network: str
    land_layer: str | None = None
    connectors: dict = Field(default_factory=dict)
    grids: dict[str, list[float]] = Field(
        default_factory=lambda: {k: list(v) for k, v in NETWORK_GRIDS.items()})
    rounds: int = Field(defaults.NETWORK_FIT_ROUNDS, ge=1, le=5)
    bands_km: list[float] = Field(default_factory=lambda: list(DEFAULT_BANDS_KM))

    @field_validator("grids")
    @classmethod
    def _known(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        unknown = sorted(set(v) - set(NETWORK_GRIDS))
        if unknown:
            raise ValueError(f"unknown network parameter(s) {unknown}; use "
                             f"{sorted(NETWORK_GRIDS)}")
        if any(len(g) == 0 or min(g) < 0 for g in v.values()):
            raise ValueError("every grid needs at least one value >= 0")
        return v


@dataclass
class NetworkFit:
    """Result of :func:`fit_network`.

    Attributes
    ----------
    params, before_params : dict of str to float
        Fitted and starting ``speed_factor``, ``junction_delay_s``, ``connector_speed_kmh``.
    table : DataFrame
        Error by crow-fly band, ``before`` and ``after`` (see :func:`compare_table`).
    trials : DataFrame
        Every evaluated parameter set with its median |relative error| and pairs with a time.
    network : str
        Network name; ``source``: the reference file name.
    n_pairs : int
        Reference pairs; ``unreached``: of those, pairs without a network time (after).
    """

    params: dict[str, float]
    before_params: dict[str, float]
    table: pd.DataFrame
    trials: pd.DataFrame
    network: str
    n_pairs: int
    unreached: int
    source: str = ""


def _network_evaluator(opts: NetworkFitOptions, reference: pd.DataFrame):
    """A function ``params -> minutes per reference pair`` over the study network (graphs
    cached per speed factor and junction delay)."""
    from ruimtekit import study
    from ruimtekit.analysis import accessibility
    from ruimtekit.io import layers
    from ruimtekit.network import connectors, networks

    spec_all, root = study.load_study(opts.study)
    if opts.network not in spec_all.networks:
        raise InputError(opts.study, f"the study has no network {opts.network!r}",
                         f"use one of {sorted(spec_all.networks)}")
    spec = spec_all.networks[opts.network]
    if spec.mode is None or spec.kind in networks.TRANSIT_KINDS:
        raise InputError(opts.study, f"network {opts.network!r} is not a street network",
                         "calibrate a street network (osm, graphml, links)")
    land = None
    if opts.land_layer is not None:
        if opts.land_layer not in spec_all.layers:
            raise InputError(opts.study, f"the study has no layer {opts.land_layer!r}",
                             f"use one of {sorted(spec_all.layers)}")
        zones = layers.load(spec_all.layers[opts.land_layer], root)
        land = connectors.land_parts(zones)
    o = reference[["ox", "oy"]].drop_duplicates().reset_index(drop=True)
    d = reference[["dx", "dy"]].drop_duplicates().reset_index(drop=True)
    oi = reference[["ox", "oy"]].merge(o.reset_index(), on=["ox", "oy"], how="left")["index"]
    di = reference[["dx", "dy"]].merge(d.reset_index(), on=["dx", "dy"], how="left")["index"]
    oi, di = oi.to_numpy(), di.to_numpy()
    horizon = float(min(max(2.0 * reference["minutes"].max(), 60.0), 600.0))
    graphs: dict[tuple[float, float], object] = {}
    base_profile = dict(spec.profile or {})

    def graph_for(factor: float, delay: float):
        key = (factor, delay)
        if key not in graphs:
            prof = dict(base_profile)
            period = spec.period
            if factor != 1.0:
                periods = dict(prof.get("periods") or {})
                periods[CALIBRATED_PERIOD] = factor
                prof["periods"] = periods
                period = CALIBRATED_PERIOD
                if spec.period is not None:
                    log.warning("network %s: the speed factor replaces period %r",
                                opts.network, spec.period)
            if spec.urban is not None and spec.mode == "car":
                prof["urban_junction_delay_s"] = delay
            graphs.clear()  # one graph in memory at a time (national networks are large)
            graphs[key] = networks.build(spec.model_copy(update={"profile": prof,
                                                                 "period": period}), root)
        return graphs[key]

    def minutes(params: dict[str, float]) -> np.ndarray:
        g = graph_for(params["speed_factor"], params["junction_delay_s"])
        cfg = connectors.ConnectorConfig.model_validate(
            {**opts.connectors, "speed_kmh": params["connector_speed_kmh"]})
        t = accessibility.connector_times(g, (o["ox"].to_numpy(), o["oy"].to_numpy()),
                                          (d["dx"].to_numpy(), d["dy"].to_numpy()), cfg,
                                          horizon, land)
        m = t[oi, di] / 60.0
        return np.where(np.isfinite(m), m, np.nan)

    uses_delay = spec.urban is not None and spec.mode == "car"
    return minutes, uses_delay


def fit_network(reference: pd.DataFrame, options: NetworkFitOptions) -> NetworkFit:
    """Fit network parameters (speed factor, urban junction delay, connector speed) of a
    study network to reference times by coordinate descent over value grids.

    Each trial builds the network with the trial's speeds and routes every reference pair
    through zone connectors at both ends (:func:`ruimtekit.analysis.accessibility.connector_times`);
    the objective is the median |relative error| over the pairs (a pair without a network
    time counts as a 100 % error, so unreachable pairs are not "fitted away").

    Parameters
    ----------
    reference : DataFrame
        Points ``ox, oy, dx, dy`` (EPSG:28992), ``dist_m`` and ``minutes``
        (:func:`read_reference`).
    options : NetworkFitOptions
        Study, network, grids.

    Returns
    -------
    NetworkFit

    Raises
    ------
    InputError
        Unknown network or layer, a network that is not a street network.
    """
    from ruimtekit.network import connectors

    minutes, uses_delay = _network_evaluator(options, reference)
    ref = reference["minutes"].to_numpy(dtype=np.float64)
    dist = reference["dist_m"].to_numpy(dtype=np.float64)
    start_cfg = connectors.ConnectorConfig.model_validate(options.connectors)
    before = {"speed_factor": 1.0, "junction_delay_s": 0.0,
              "connector_speed_kmh": float(start_cfg.speed_kmh)}
    if uses_delay:
        from ruimtekit.network import profiles

        prof = profiles.get_profile("car")
        before["junction_delay_s"] = float(getattr(prof, "urban_junction_delay_s", 0.0))
    grids = {k: [float(x) for x in v] for k, v in options.grids.items()}
    if not uses_delay:
        grids.pop("junction_delay_s", None)
    trials: list[dict] = []
    cache: dict[tuple, tuple[float, np.ndarray]] = {}

    def score(params: dict[str, float]) -> float:
        key = tuple(sorted(params.items()))
        if key not in cache:
            m = minutes(params)
            rel = np.abs(np.where(np.isfinite(m), m, 2.0 * ref) / ref - 1.0)
            cache[key] = (float(np.median(rel)), m)
            trials.append({**params, "median_abs_rel_err": cache[key][0],
                           "pairs_with_time": int(np.isfinite(m).sum())})
            log.info("network fit %s: %s -> median |rel err| %.1f%%", options.network,
                     params, 100 * cache[key][0])
        return cache[key][0]

    best = dict(before)
    best_score = score(best)
    for _ in range(options.rounds):
        changed = False
        # graph-level parameters first, in an order that reuses the built graph
        for name in ("speed_factor", "junction_delay_s", "connector_speed_kmh"):
            for value in grids.get(name, []):
                trial = {**best, name: value}
                sc = score(trial)
                if sc < best_score - 1e-12:
                    best, best_score, changed = trial, sc, True
        if not changed:
            break
    before_m = cache[tuple(sorted(before.items()))][1]
    after_m = cache[tuple(sorted(best.items()))][1]
    table = compare_table(dist, ref, {"before": before_m, "after": after_m}, options.bands_km)
    return NetworkFit(params=best, before_params=before, table=table,
                      trials=pd.DataFrame(trials), network=options.network,
                      n_pairs=int(ref.size), unreached=int((~np.isfinite(after_m)).sum()),
                      source=str(reference.attrs.get("source", "reference")))


def network_snippet(fit: NetworkFit) -> str:
    """The fitted network parameters as study-file sections (YAML)."""
    p = fit.params
    t = fit.table.iloc[-1]
    lines = [
        f"# ruimtekit calibrate: network {fit.network!r} fitted on {fit.source} "
        f"({fit.n_pairs} pairs, {fit.unreached} without a network time)",
        f"# median |relative error|: {100 * t['before_median_abs_rel_err']:.1f}% (before) -> "
        f"{100 * t['after_median_abs_rel_err']:.1f}% (fitted)",
        "# merge into the network's section under networks:",
        "networks:",
        f"  {fit.network}:",
    ]
    prof = []
    if p["speed_factor"] != 1.0:
        lines.append(f"    period: {CALIBRATED_PERIOD}   # every link speed x "
                     f"{p['speed_factor']:g}")
        prof.append(f"      periods: {{{CALIBRATED_PERIOD}: {p['speed_factor']:g}}}")
    if p["junction_delay_s"] != fit.before_params["junction_delay_s"]:
        prof.append(f"      urban_junction_delay_s: {p['junction_delay_s']:g}")
    if prof:
        lines += ["    profile:", *prof]
    if len(lines) == 5:
        lines.append("    {}   # unchanged")
    lines += ["# and into the accessibility block that routes on it:",
              f"connectors: {{speed_kmh: {p['connector_speed_kmh']:g}}}"]
    return "\n".join(lines) + "\n"


__all__ = [
    "DEFAULT_BANDS_KM", "NETWORK_GRIDS", "CalibrateOptions", "CrowflyFit", "NetworkFit",
    "NetworkFitOptions", "ReferenceColumns", "ReferenceSource",
    "calibrate", "compare_table", "error_table", "fit_crowfly", "fit_network", "format_table",
    "network_snippet", "parse_network_settings",
    "parse_settings", "read_reference", "study_snippet", "write_outputs",
]
