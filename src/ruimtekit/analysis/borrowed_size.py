"""Borrowed size and agglomeration shadow: how much urban mass a city can reach.

Dutch cities are small on their own but "borrow size" (Alonso 1973; Burger, Meijers,
Hoogerbrugge & Masip Tresserra 2015; Meijers & Burger 2017) from well-connected
neighbours. Per city (zone) ``i`` and mass ``M`` (population, jobs, ...):

* own mass ``M_i``;
* reachable mass within T minutes (default 45, the commuting tolerance):
  ``R_i = M_i + Σ_{j≠i} M_j · 1[t_ij <= T]`` — a city always reaches itself;
* borrowed mass ``B_i = R_i − M_i`` and the borrowed-size ratio ``B_i / M_i``;
* ring masses by crow-fly distance between zone points, ``Σ_{j≠i, a < d_ij <= b} M_j``
  (the first band includes its lower bound, so a 0–10 km band counts a neighbour at
  0 km), default bands 0–10, 10–25, 25–50 km; and by travel-time band (0–15, 15–30,
  30–45 min) the same way, so ``R_i = M_i + Σ time bands`` when the bands end at T;
* potential ``V_i = Σ_j M_j · f(t_ij)`` with a decay ``f`` (own zone included with the
  matrix's ``t_ii``; :func:`analyse` sets every ``t_ij`` below the own-zone time — the
  mode's time over (2/3)·√(area_i/π) — to that time, the one own-zone rule of
  :mod:`ruimtekit.analysis._ownzone`);
* agglomeration-shadow indicators: the share of the reachable mass located in zones with
  a larger mass than ``i`` (``larger_share``), and the mass of the largest reachable
  other zone divided by the own mass (``largest_ratio``).

Then a cross-section regression after Burger & Meijers (:mod:`ruimtekit.analysis.shadow`): log
outcome per inhabitant (amenities by default) on log own size, log ring population
around the city excluding itself and its urban rank, with PySAL residual diagnostics
(:mod:`ruimtekit.analysis.spatial`), a sensitivity table and bootstrapped classes; the
standardised residual classifies each city as ``borrowing`` (> +threshold SD),
``shadow`` (< −threshold SD) or ``as_expected``. With observed flows the decay is
estimated by PPML (:mod:`ruimtekit.analysis.gravity`); inequality of the reachable masses comes
from :mod:`ruimtekit.analysis.inequality`.

Observed commuting catchments (CBS home wijk × work wijk jobs) are aggregated to the same
zones as the modelled catchment and compared: e.g. the share of a city's inbound
commuters who live inside its modelled 45-minute catchment.

Travel times come from any source (see :data:`ruimtekit.analysis.catchments.TimeSource`): a dense
zone × zone matrix in minutes, or a callable returning blocks of rows.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ruimtekit import CRS, _io, _vector, defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.analysis import (
    _ownzone,
    accessibility,
    agglomeration,
    catchments,
    gravity,
    inequality,
    shadow,
    spatial,
)
from ruimtekit.analysis.shadow import BOOTSTRAP_DRAWS
from ruimtekit.engine import impedance, rail, transit
from ruimtekit.engine.measures import MAX_CUTOFF_MIN, Decay, DecayConfig, as_decay
from ruimtekit.io import layers, places, regions
from ruimtekit.network import connectors

log = logging.getLogger(__name__)

RING_BANDS_KM: tuple[tuple[float, float], ...] = defaults.RING_BANDS_KM
TIME_BANDS_MIN: tuple[tuple[float, float], ...] = defaults.TIME_BANDS_MIN
CROWFLY_MODES = tuple(impedance.DEFAULT_MODELS)


def _num(v: float) -> str:
    return f"{v:g}"


def band_label(a: float, b: float, unit: str) -> str:
    """Column part of a band, e.g. ``0_10km`` or ``15_30min``."""
    return f"{_num(a)}_{_num(b)}{unit}"


# --------------------------------------------------------------------------- geometry helpers
def distance_matrix_m(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Crow-fly distances (metres) between points given in EPSG:28992 metres."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])


def _check_bands(bands: Sequence[Sequence[float]], unit: str) -> list[tuple[float, float]]:
    out = [(float(a), float(b)) for a, b in bands]
    for a, b in out:
        if not (0 <= a < b):
            raise InputError(None, f"band {a}–{b} {unit} is not 0 <= lower < upper",
                             f"give bands as [lower, upper] {unit}, e.g. [[0, 10], [10, 25]]")
    return out


# --------------------------------------------------------------------------- metrics
class MetricsSpec(Section):
    """The bands and the potential decay of :func:`borrowed_size_metrics`.

    Attributes
    ----------
    ring_bands_km : list of (lower, upper)
        Crow-fly distance bands in km (:data:`RING_BANDS_KM`: 0–10, 10–25, 25–50).
    time_bands_min : list of (lower, upper)
        Travel-time bands in minutes (:data:`TIME_BANDS_MIN`: 0–15, 15–30, 30–45).
    decay : Decay, optional
        Decay of the potential (an object with ``weight(t_min)`` and ``label``, e.g.
        ``Decay("exponential", beta=0.05)``; t in minutes); none: no potential columns.
    """

    ring_bands_km: list[tuple[float, float]] = Field(
        default_factory=lambda: [tuple(b) for b in RING_BANDS_KM])
    time_bands_min: list[tuple[float, float]] = Field(
        default_factory=lambda: [tuple(b) for b in TIME_BANDS_MIN])
    decay: Any = None


@renamed_parameters(cutoff_min="cutoff")
def borrowed_size_metrics(
    zone_ids: Sequence[str],
    masses: pd.DataFrame,
    times_min: catchments.TimeSource,
    *,
    cutoff: float = 45.0,
    mode: str = "car",
    points_xy: tuple[np.ndarray, np.ndarray] | None = None,
    spec: MetricsSpec | dict[str, Any] | None = None,
    block_size: int = 256,
) -> pd.DataFrame:
    """Own, reachable and borrowed mass, rings, potential and shadow indicators per zone.

    Parameters
    ----------
    zone_ids : sequence of str
        Zone ids, the row/column order of ``times_min``.
    masses : DataFrame
        One column per mass (e.g. ``population``, ``jobs``), rows in zone order. Missing
        values are errors.
    times_min : ndarray or callable
        Zone × zone travel times in minutes (``inf`` = unreachable), origin rows.
    cutoff : float
        Time budget T in minutes (reachable when ``t <= T``).
    mode : str
        Mode label used in the column names.
    points_xy : (ndarray, ndarray), optional
        Zone points in EPSG:28992 metres for the crow-fly distance rings (population
        points or centroids). Without them no distance rings are computed.
    spec : MetricsSpec or dict, optional
        Distance bands (km), travel-time bands (minutes) and the decay of the potential
        (default ``MetricsSpec()``: the standard bands, no potential).
    block_size : int
        Origin rows per block (memory: block_size × n × 8 bytes per temporary).

    Returns
    -------
    DataFrame
        Indexed like ``zone_ids`` with a ``zone_id`` column and, per mass ``m``:
        ``m_own``; ``m_{T}min_{mode}`` (reachable); ``m_borrowed_{T}min_{mode}``;
        ``m_borrowed_ratio_{T}min_{mode}`` (NaN where the own mass is 0 — those ids are in
        ``attrs["zero_own"]``); ``m_tband_{a}_{b}min_{mode}``; ``m_ring_{a}_{b}km``;
        ``m_potential_{decay.label}_{mode}``; ``m_larger_share_{T}min_{mode}``;
        ``m_largest_ratio_{T}min_{mode}``.
    """
    sp = spec if isinstance(spec, MetricsSpec) else MetricsSpec(**dict(spec or {}))
    ring_bands_km, time_bands_min, decay = sp.ring_bands_km, sp.time_bands_min, sp.decay
    zids = np.asarray([str(z) for z in zone_ids])
    n = zids.size
    if len(masses) != n:
        raise InputError(None, f"{len(masses)} mass rows for {n} zones",
                         "pass one row of masses per zone, in the zones' order")
    names = [str(c) for c in masses.columns]
    M = masses.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if np.isnan(M).any():
        bad = zids[np.isnan(M).any(axis=1)]
        raise InputError(None, f"missing mass values for zones {bad[:10].tolist()}"
                         f"{' …' if bad.size > 10 else ''}",
                         "fill the masses (population/jobs) or drop those zones first")
    if (M < 0).any() or not np.isfinite(M).all():
        bad = (M < 0) | ~np.isfinite(M)
        cols = [names[j] for j in np.flatnonzero(bad.any(axis=0))]
        rows = zids[bad.any(axis=1)]
        raise InputError(masses.attrs.get("source"), f"negative or infinite masses in column(s) "
                         f"{cols} for {rows.size} zone(s): {rows[:10].tolist()}"
                         f"{' …' if rows.size > 10 else ''}",
                         "masses are counts and must be >= 0: fix those values or drop the zones")
    tbands = _check_bands(time_bands_min, "min")
    rbands = _check_bands(ring_bands_km, "km") if points_xy is not None else []
    if points_xy is not None:
        px, py = (np.asarray(a, dtype=float) for a in points_xy)
        if px.shape != (n,) or py.shape != (n,) or not (np.isfinite(px).all() and np.isfinite(py).all()):
            raise InputError(None, "zone points must be finite and one per zone",
                             "pass x and y (EPSG:28992 metres) for every zone")
    T = float(cutoff)
    tag = f"{_num(T)}min_{mode}"
    k = len(names)
    reach = np.zeros((n, k))
    larger = np.zeros((n, k))
    largest = np.zeros((n, k))
    tb = np.zeros((len(tbands), n, k))
    rb = np.zeros((len(rbands), n, k))
    pot = np.zeros((n, k)) if decay is not None else None
    cols = np.arange(n)
    for idx, block in catchments.iter_time_blocks(times_min, n, n, block_size=block_size,
                                                  name=f"{mode} travel times"):
        other = idx[:, None] != cols[None, :]
        r_mask = (block <= T) & other
        reach[idx] = M[idx] + r_mask.astype(float) @ M
        for b, (lo, hi) in enumerate(tbands):
            low_ok = block >= lo if lo == 0 else block > lo
            tb[b, idx] = (low_ok & (block <= hi) & other).astype(float) @ M
        if rbands:
            d_km = np.hypot(px[idx, None] - px[None, :], py[idx, None] - py[None, :]) / 1000.0
            for b, (lo, hi) in enumerate(rbands):
                low_ok = d_km >= lo if lo == 0 else d_km > lo
                rb[b, idx] = (low_ok & (d_km <= hi) & other).astype(float) @ M
        if pot is not None:
            w = np.asarray(decay.weight(block), dtype=float)
            if np.isnan(w).any():
                raise InputError(None, f"decay {decay.label} gave NaN weights",
                                 "check the decay parameters")
            pot[idx] = w @ M
        for c in range(k):
            m = M[:, c]
            bigger = m[None, :] > m[idx][:, None]
            larger[idx, c] = (r_mask & bigger).astype(float) @ m
            largest[idx, c] = np.where(r_mask, m[None, :], 0.0).max(axis=1)
    out = pd.DataFrame({"zone_id": zids})
    zero_own: dict[str, list[str]] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for c, name in enumerate(names):
            own = M[:, c]
            out[f"{name}_own"] = own
            out[f"{name}_{tag}"] = reach[:, c]
            borrowed = reach[:, c] - own
            out[f"{name}_borrowed_{tag}"] = borrowed
            out[f"{name}_borrowed_ratio_{tag}"] = np.where(own > 0, borrowed / own, np.nan)
            for b, (lo, hi) in enumerate(tbands):
                out[f"{name}_tband_{band_label(lo, hi, 'min')}_{mode}"] = tb[b, :, c]
            for b, (lo, hi) in enumerate(rbands):
                out[f"{name}_ring_{band_label(lo, hi, 'km')}"] = rb[b, :, c]
            if pot is not None:
                out[f"{name}_potential_{decay.label}_{mode}"] = pot[:, c]
            out[f"{name}_larger_share_{tag}"] = np.where(reach[:, c] > 0,
                                                         larger[:, c] / reach[:, c], np.nan)
            out[f"{name}_largest_ratio_{tag}"] = np.where(own > 0, largest[:, c] / own, np.nan)
            if (own <= 0).any():
                zero_own[name] = zids[own <= 0].tolist()
                log.warning("%d zones have no own %s; their ratios are NaN: %s",
                            len(zero_own[name]), name, zero_own[name][:10])
    out.attrs["zero_own"] = zero_own
    out.attrs["cutoff_min"] = T
    out.attrs["mode"] = mode
    return out


# --------------------------------------------------------------------------- regression
@dataclass
class ShadowRegression:
    """Borrowed size vs agglomeration shadow regression (after Burger & Meijers).

    Attributes
    ----------
    table : DataFrame
        ``term, coef, se, t, p, ci_low, ci_high, n, r2, adj_r2, cov_type`` (+ ``outcome``).
    cities : DataFrame
        Per zone: ``zone_id, log_outcome, fitted, residual, residual_sd`` (residual in SD
        units) and ``size_class`` (``borrowing``, ``shadow``, ``as_expected``,
        ``not_estimated`` for rows dropped for missing/non-positive values).
    threshold_sd : float
        Classification threshold in residual standard deviations.
    dropped : list of str
        Ids not used in the regression.
    model : statsmodels results
    diagnostics : DataFrame or None
        Residual Moran's I and LM tests (kNN-6, :func:`ruimtekit.analysis.spatial.regress`) when
        the rows have zone points ``point_x``/``point_y``.
    """

    table: pd.DataFrame
    cities: pd.DataFrame
    threshold_sd: float
    dropped: list[str] = field(default_factory=list)
    model: Any = None
    diagnostics: pd.DataFrame | None = None


def shadow_regression(
    df: pd.DataFrame,
    outcome: str,
    own_size: str,
    surrounding: Sequence[str],
    *,
    per: str | None = None,
    surrounding_offset: float = 1.0,
    threshold_sd: float = 0.5,
    options: agglomeration.OlsOptions | dict[str, Any] | None = None,
) -> ShadowRegression:
    """Regress log outcome on log own size and log surrounding mass; classify residuals.

    ``log(y_i) = b0 + b1·log(S_i) + Σ_k c_k·log(N_ik + offset) + e_i``, OLS with
    heteroskedasticity-robust (HC1) errors. The offset (default 1 inhabitant) keeps empty
    rings (e.g. no other town within 10 km) in the sample; own size and outcome must be
    positive.

    Parameters
    ----------
    df : DataFrame
        One row per city.
    outcome : str
        Outcome column, e.g. ``establishments`` or ``jobs``.
    own_size : str
        Own size column, e.g. ``population``.
    surrounding : sequence of str
        Surrounding-mass columns (ring populations, potential, borrowed mass).
    per : str, optional
        Divide the outcome by this column first (``population`` → per inhabitant).
    surrounding_offset : float
        Added to surrounding masses before the log.
    threshold_sd : float
        ``borrowing`` when the residual exceeds ``+threshold_sd`` residual standard
        deviations, ``shadow`` below ``−threshold_sd``, else ``as_expected``. 0 classifies
        by sign alone.
    options : OlsOptions or dict, optional
        Covariance type (``HC1``), ``alpha`` of the CI columns (0.05) and the city id
        column (``id_column``, ``zone_id``); :class:`ruimtekit.analysis.agglomeration.OlsOptions`.

    Returns
    -------
    ShadowRegression
    """
    import statsmodels.api as sm

    o = agglomeration.as_ols_options(options)
    cov_type, alpha, id_column = o.cov_type, o.alpha, o.id_column or "zone_id"
    need = [outcome, own_size, *surrounding] + ([per] if per else [])
    missing = [c for c in [*need, id_column] if c not in df.columns]
    if missing:
        raise InputError(None, f"regression columns {missing} not found",
                         f"choose from {list(df.columns)[:40]}")
    data = pd.DataFrame({id_column: df[id_column].astype(str).to_numpy()}, index=df.index)
    y = pd.to_numeric(df[outcome], errors="coerce").astype(float)
    if per:
        y = y / pd.to_numeric(df[per], errors="coerce").astype(float)
    data["y"] = y
    data["own"] = pd.to_numeric(df[own_size], errors="coerce").astype(float)
    for c in surrounding:
        data[c] = pd.to_numeric(df[c], errors="coerce").astype(float) + surrounding_offset
    vals = data.drop(columns=[id_column])
    ok = vals.notna().all(axis=1) & (vals > 0).all(axis=1) & np.isfinite(vals).all(axis=1)
    dropped = data.loc[~ok, id_column].tolist()
    if dropped:
        log.warning("shadow regression: %d cities dropped (missing or non-positive values): %s",
                    len(dropped), dropped[:10])
    use = data[ok]
    X = pd.DataFrame({f"log_{own_size}": np.log(use["own"])}, index=use.index)
    for c in surrounding:
        X[f"log_{c}"] = np.log(use[c])
    if len(use) < X.shape[1] + 3:
        raise InputError(None, f"only {len(use)} usable cities for {X.shape[1] + 1} coefficients",
                         "use more cities or fewer surrounding-mass terms")
    ylog = np.log(use["y"])
    res = sm.OLS(ylog.to_numpy(), sm.add_constant(X, has_constant="add")).fit(cov_type=cov_type)
    table = agglomeration.ols_table(res, alpha)
    table.insert(0, "outcome", f"log({outcome}{'/' + per if per else ''})")
    resid = np.asarray(res.resid, dtype=float)
    sd = float(np.std(resid, ddof=X.shape[1] + 1))
    z = resid / sd if sd > 0 else np.zeros_like(resid)
    cls = np.where(z > threshold_sd, "borrowing", np.where(z < -threshold_sd, "shadow",
                                                           "as_expected"))
    if threshold_sd == 0:
        cls = np.where(resid > 0, "borrowing", np.where(resid < 0, "shadow", "as_expected"))
    cities = pd.DataFrame({id_column: data[id_column].to_numpy()}, index=data.index)
    cities["log_outcome"] = np.nan
    cities["fitted"] = np.nan
    cities["residual"] = np.nan
    cities["residual_sd"] = np.nan
    cities["size_class"] = "not_estimated"
    cities.loc[use.index, "log_outcome"] = ylog.to_numpy()
    cities.loc[use.index, "fitted"] = np.asarray(res.fittedvalues, dtype=float)
    cities.loc[use.index, "residual"] = resid
    cities.loc[use.index, "residual_sd"] = z
    cities.loc[use.index, "size_class"] = cls
    diag = None
    if {"point_x", "point_y"} <= set(df.columns):

        xy = df.loc[use.index, ["point_x", "point_y"]].to_numpy(float)
        sr = spatial.regress(ylog.to_numpy(), X, spatial.spatial_weights(xy))
        diag = sr.diagnostics
    else:
        log.warning("shadow regression: no zone points (point_x/point_y), so no residual "
                    "Moran's I; use shadow.fit for the full diagnostics")
    return ShadowRegression(table=table, cities=cities.reset_index(drop=True),
                            threshold_sd=threshold_sd, dropped=dropped, model=res,
                            diagnostics=diag)


# --------------------------------------------------------------------------- CBS inputs
def read_wijk_centroids(path: str | Path) -> gpd.GeoDataFrame:
    """Read CBS wijk centroids (``code`` = WK + 6 digits) as EPSG:28992 points.

    The bundled 2015 file holds RD New coordinates but declares no CRS (GeoJSON readers
    then assume WGS84). Coordinates are checked: values outside the lon/lat range are
    taken as RD New (metres); genuine lon/lat input is converted.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "wijk centroid file not found", "check the path")
    g = gpd.read_file(p)
    if "code" not in g.columns:
        raise InputError(p, "no 'code' column (WK + 6 digits)", "use CBS wijk centroids")
    b = g.total_bounds
    if b[2] > 180 or b[3] > 90:
        g = g.set_crs(CRS, allow_override=True)
    else:
        g = g.set_crs(g.crs or "EPSG:4326", allow_override=True).to_crs(CRS)
    g["code"] = g["code"].astype(str)
    return g


def read_commute_flows(path: str | Path) -> pd.DataFrame:
    """Read home→work jobs by wijk: columns ``wk_woon`` (home), ``wk_werk`` (work), ``banen``.

    Parquet or CSV. Codes must look like ``WK`` + 6 digits (the first 4 = gemeente).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "commute flow file not found", "check the path")
    df = _vector.read_table(p, text_columns=("wk_woon", "wk_werk"), what="commute flow table")
    need = {"wk_woon", "wk_werk", "banen"}
    if not need <= set(df.columns):
        raise InputError(p, f"columns {sorted(need - set(df.columns))} missing",
                         "provide wk_woon (home wijk), wk_werk (work wijk), banen (jobs)")
    df = df[["wk_woon", "wk_werk", "banen"]].copy()
    df["wk_woon"] = df["wk_woon"].astype(str)
    df["wk_werk"] = df["wk_werk"].astype(str)
    df["banen"] = pd.to_numeric(df["banen"], errors="coerce")
    if df["banen"].isna().any() or (df["banen"] < 0).any():
        raise InputError(p, "banen has missing or negative values", "use counts >= 0")
    bad = ~(df["wk_woon"].str.fullmatch(r"WK\d{6}") & df["wk_werk"].str.fullmatch(r"WK\d{6}"))
    if bad.any():
        raise InputError(p, f"{int(bad.sum())} rows with codes that are not WK + 6 digits, e.g. "
                         f"{df.loc[bad].iloc[0, :2].tolist()}", "use CBS wijk codes")
    return df


def assign_points_to_zones(
    points: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    code_column: str = "code",
    max_distance_m: float = defaults.ZONE_ASSIGN_MAX_M,
) -> tuple[pd.Series, pd.DataFrame]:
    """Map point codes (e.g. 2015 wijk centroids) to the zone polygon they fall in.

    Points outside every polygon (coast, water, generalised boundaries) go to the nearest
    zone when it is within ``max_distance_m``; the rest stay unmatched.

    Returns
    -------
    (Series, DataFrame)
        ``code → zone_id`` for matched points, and a report with one row per point that
        was not inside a polygon: ``code, zone_id`` (or NaN), ``distance_m``, ``how``
        (``nearest`` or ``unmatched``).
    """
    places.check_crs(zones, "zones")
    places.check_crs(points, "points")
    z = zones[["zone_id", "geometry"]]
    j = gpd.sjoin(points[[code_column, "geometry"]], z, how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    inside = j["zone_id"].notna()
    out = pd.Series(j.loc[inside, "zone_id"].astype(str).to_numpy(),
                    index=j.loc[inside, code_column].astype(str).to_numpy())
    report = []
    rest = points.loc[~inside.to_numpy()]
    if len(rest):
        nj = gpd.sjoin_nearest(rest[[code_column, "geometry"]], z, how="left",
                               distance_col="distance_m")
        nj = nj[~nj.index.duplicated(keep="first")]
        for _, r in nj.iterrows():
            near = r["distance_m"] <= max_distance_m
            report.append({"code": str(r[code_column]),
                           "zone_id": str(r["zone_id"]) if near else np.nan,
                           "distance_m": float(r["distance_m"]),
                           "how": "nearest" if near else "unmatched"})
            if near:
                out.loc[str(r[code_column])] = str(r["zone_id"])
    return out, pd.DataFrame(report, columns=["code", "zone_id", "distance_m", "how"])


def wijk_zone_mapping(
    wijk_centroids: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    prefer_gemeente_code: bool = True,
    max_distance_m: float = defaults.ZONE_ASSIGN_MAX_M,
) -> tuple[pd.Series, dict[str, Any]]:
    """Map CBS wijk codes (``WK`` + 6 digits, 2015) to zones.

    With gemeente zones (``zone_id`` = ``GM####``) and ``prefer_gemeente_code``, a wijk
    whose gemeente code (its first 4 digits) is still a zone goes to that zone: a
    gemeente that kept its code kept (almost) all its territory, and a wijk centroid of a
    non-convex wijk can fall in the neighbour (e.g. Diemen-Zuid's centroid lies inside
    Amsterdam). Wijken of gemeenten that no longer exist (mergers, splits) are placed by
    their centroid (:func:`assign_points_to_zones`). Other zone systems (PC4, wijken of
    another year) use centroids only.

    Returns
    -------
    (Series, dict)
        ``wijk code → zone_id``; report with ``by_code``, ``by_centroid``, ``nearest``
        (codes placed by proximity), ``unmatched`` (codes), and ``centroid_disagrees``
        (codes placed by gemeente code whose centroid lies in another zone).
    """
    by_point, rep = assign_points_to_zones(wijk_centroids, zones, max_distance_m=max_distance_m)
    codes = wijk_centroids["code"].astype(str)
    zids = set(zones["zone_id"].astype(str))
    out = by_point.copy()
    by_code: list[str] = []
    disagree: list[str] = []
    if prefer_gemeente_code and all(z.startswith("GM") for z in zids):
        gm = "GM" + codes.str[2:6]
        hit = gm.isin(zids).to_numpy()
        for c, z in zip(codes[hit], gm[hit], strict=True):
            if c in out.index and out.loc[c] != z:
                disagree.append(c)
            out.loc[c] = z
            by_code.append(c)
    unmatched = sorted(set(codes) - set(out.index))
    report = {
        "by_code": len(by_code), "by_centroid": int(len(codes) - len(by_code) - len(unmatched)),
        "nearest": sorted(set(rep.loc[rep["how"] == "nearest", "code"]) - set(by_code)),
        "unmatched": unmatched, "centroid_disagrees": sorted(disagree),
    }
    if unmatched:
        log.warning("%d wijk centroids are not in (or near) any zone: %s", len(unmatched),
                    unmatched[:10])
    return out, report


def jobs_to_zones(
    jobs_csv: str | Path,
    wijk_centroids: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    *,
    column: str = "banen_werkplaats",
    max_distance_m: float = defaults.ZONE_ASSIGN_MAX_M,
) -> tuple[pd.Series, dict[str, Any]]:
    """Jobs per zone from CBS 2014 banen by wijk or gemeente (2015 codes).

    A wijk table (``wk_code``) is placed wijk by wijk (:func:`wijk_zone_mapping`); a
    gemeente table (``gm_code``) goes to the zone holding the majority of that gemeente's
    mapped 2015 wijken — its own code when it still exists — and a 2015 gemeente whose
    wijken are spread over several zones (a later split) is listed in ``split`` (the
    wijk table places such jobs exactly). Codes that cannot be placed are reported,
    never dropped silently.

    Returns
    -------
    (Series, dict)
        Jobs per ``zone_id`` (all zones, 0 where no job was placed) and a report:
        ``total``, ``placed``, ``unmatched`` (codes), ``unmatched_jobs``, ``mapping``
        (the :func:`wijk_zone_mapping` report), ``split`` (gemeente codes spread over
        zones).
    """
    p = Path(jobs_csv)
    if not p.is_file():
        raise InputError(p, "jobs file not found", "check the path")
    t = _vector.read_table(p, text_columns=("wk_code", "gm_code"), what="jobs table")
    if column not in t.columns:
        raise InputError(p, f"no '{column}' column", "use CBS banen (banen_werkplaats)")
    vals = pd.to_numeric(t[column], errors="coerce")
    if vals.isna().any():
        raise InputError(p, f"missing values in {column}", "fill or drop those rows")
    mapping, rep = wijk_zone_mapping(wijk_centroids, zones, max_distance_m=max_distance_m)
    report: dict[str, Any] = {"source": str(p), "total": float(vals.sum()),
                              "mapping": rep, "split": []}
    if "wk_code" in t.columns:
        zone = t["wk_code"].astype(str).map(mapping)
    elif "gm_code" in t.columns:
        wk = pd.DataFrame({"code": mapping.index, "zone_id": mapping.to_numpy()})
        wk["gm_code"] = "GM" + wk["code"].str[2:6]
        counts = wk.groupby(["gm_code", "zone_id"]).size().rename("n").reset_index()
        counts = counts.sort_values(["gm_code", "n"], ascending=[True, False])
        report["split"] = sorted(counts.loc[counts["gm_code"].duplicated(), "gm_code"].unique())
        gm2zone = counts.drop_duplicates("gm_code").set_index("gm_code")["zone_id"]
        zone = t["gm_code"].astype(str).map(gm2zone)
    else:
        raise InputError(p, "neither a wk_code nor a gm_code column",
                         "use the CBS banen table per wijk or per gemeente")
    key = "wk_code" if "wk_code" in t.columns else "gm_code"
    miss = zone.isna()
    report["unmatched"] = t.loc[miss, key].astype(str).tolist()
    report["unmatched_jobs"] = float(vals[miss].sum())
    report["placed"] = float(vals[~miss].sum())
    per_zone = vals[~miss].groupby(zone[~miss]).sum()
    jobs = pd.Series(0.0, index=zones["zone_id"].astype(str).to_numpy())
    jobs.loc[per_zone.index] = per_zone.to_numpy()
    if report["unmatched"]:
        log.warning("%d codes of %s could not be placed in a zone (%.0f jobs): %s",
                    len(report["unmatched"]), p.name, report["unmatched_jobs"],
                    report["unmatched"][:10])
    return jobs, report


def gemeente_table_to_zones(
    table: pd.DataFrame,
    zones: gpd.GeoDataFrame,
    wijk_centroids: gpd.GeoDataFrame,
    columns: Sequence[str] = ("population", "establishments"),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sum additive gemeente counts of one year into gemeente polygons of a later year.

    A table row whose ``zone_id`` is a zone goes there. A row whose gemeente no longer
    exists (merged, e.g. 2021 Heerhugowaard + Langedijk → 2022 Dijk en Waard) goes to the
    zone holding the majority of its 2015 wijk centroids (placed by location); rows that
    cannot be placed are reported.

    Parameters
    ----------
    table : DataFrame
        ``zone_id`` (GM codes) and the count columns (e.g.
        :func:`ruimtekit.io.layers.read_gemeente_indicators`).
    zones : GeoDataFrame
        Gemeente polygons (EPSG:28992) with ``zone_id``.
    wijk_centroids : GeoDataFrame
        2015 wijk centroids (:func:`read_wijk_centroids`).
    columns : sequence of str
        Additive columns to sum.

    Returns
    -------
    (DataFrame, dict)
        Per ``zone_id`` (all zones, NaN where no row arrived) the summed columns, and a
        report: ``merged`` (table code → zone for relocated rows), ``unplaced`` (codes),
        ``zones_without_data``.
    """
    zids = zones["zone_id"].astype(str)
    t = table.copy()
    t["zone_id"] = t["zone_id"].astype(str)
    away = ~t["zone_id"].isin(set(zids))
    merged: dict[str, str] = {}
    if away.any():
        by_point, _ = assign_points_to_zones(wijk_centroids, zones)
        wk = pd.DataFrame({"code": by_point.index, "zone": by_point.to_numpy()})
        wk["gm"] = "GM" + wk["code"].str[2:6]
        maj = (wk.groupby(["gm", "zone"]).size().rename("n").reset_index()
               .sort_values(["gm", "n"], ascending=[True, False]).drop_duplicates("gm")
               .set_index("gm")["zone"])
        for code in t.loc[away, "zone_id"]:
            if code in maj.index:
                merged[code] = str(maj[code])
    t["target"] = t["zone_id"].where(~away, t["zone_id"].map(merged))
    unplaced = t.loc[t["target"].isna(), "zone_id"].tolist()
    vals = t.dropna(subset=["target"]).groupby("target")[list(columns)].sum(min_count=1)
    out = pd.DataFrame({"zone_id": zids.to_numpy()}).join(vals, on="zone_id")
    report = {"merged": merged, "unplaced": unplaced,
              "zones_without_data": out.loc[out[list(columns)].isna().any(axis=1),
                                            "zone_id"].tolist()}
    if unplaced or report["zones_without_data"]:
        log.warning("gemeente table: unplaced codes %s; zones without data %s", unplaced,
                    report["zones_without_data"])
    return out, report


def population_points(
    zones: gpd.GeoDataFrame,
    fine: gpd.GeoDataFrame,
    column: str = "population",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Population-weighted point of each zone from finer areas (e.g. PC4 with inhabitants).

    Each fine area is represented by an interior point (``representative_point``) and
    assigned to the zone containing it; the zone point is the population-weighted mean of
    those points. Zones without populated fine areas keep NaN (the centroid is then used,
    see :func:`ruimtekit.io.places.zone_points`) and are reported.

    Returns
    -------
    (DataFrame, dict)
        ``zone_id, pop_x, pop_y`` (EPSG:28992 m) for every zone, and a report
        ``{"zones_without_population": [...], "population_placed": float}``.
    """
    places.check_crs(zones, "zones")
    places.check_crs(fine, "population areas")
    if column not in fine.columns:
        raise InputError(None, f"population areas have no '{column}' column",
                         "use e.g. CBS PC4 areas with inhabitants (read with layers.read_zones)")
    f = fine.loc[~(fine.geometry.isna() | fine.geometry.is_empty)]
    w = pd.to_numeric(f[column], errors="coerce").fillna(0.0).to_numpy(float)
    pts = gpd.GeoDataFrame({"w": w}, geometry=f.geometry.representative_point().to_numpy(),
                           crs=fine.crs)
    j = gpd.sjoin(pts, zones[["zone_id", "geometry"]], predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    j["wx"] = j.geometry.x * j["w"]
    j["wy"] = j.geometry.y * j["w"]
    g = j.groupby("zone_id")[["w", "wx", "wy"]].sum()
    g = g[g["w"] > 0]
    out = pd.DataFrame({"zone_id": zones["zone_id"].astype(str).to_numpy()})
    out["pop_x"] = out["zone_id"].map(g["wx"] / g["w"])
    out["pop_y"] = out["zone_id"].map(g["wy"] / g["w"])
    missing = out.loc[out["pop_x"].isna(), "zone_id"].tolist()
    if missing:
        log.warning("%d zones have no populated fine area; their centroid is used: %s",
                    len(missing), missing[:10])
    return out, {"zones_without_population": missing, "population_placed": float(g["w"].sum())}


# --------------------------------------------------------------------------- observed flows
@dataclass
class ObservedFlows:
    """Home → work jobs aggregated to zones.

    Attributes
    ----------
    zone_ids : ndarray of str
        The zone set (row and column order of ``matrix``).
    matrix : ndarray, shape (n, n)
        ``matrix[h, w]`` = jobs held by residents of zone ``h`` located in zone ``w``.
    report : dict
        ``total``, ``placed``, ``unmatched_codes`` (wijk codes without a zone),
        ``unmatched_jobs`` (flows with an unplaced home or work wijk), ``nearest``.
    """

    zone_ids: np.ndarray
    matrix: np.ndarray
    report: dict[str, Any]


def observed_flows_to_zones(
    flows: pd.DataFrame,
    wijk_to_zone: Mapping[str, str] | pd.Series,
    zone_ids: Sequence[str],
) -> ObservedFlows:
    """Aggregate wijk home→work flows to a zone × zone matrix on the given zone set."""
    zids = np.asarray([str(z) for z in zone_ids])
    pos = pd.Series(np.arange(zids.size), index=zids)
    m = pd.Series(wijk_to_zone) if not isinstance(wijk_to_zone, pd.Series) else wijk_to_zone
    h = flows["wk_woon"].map(m).map(pos)
    w = flows["wk_werk"].map(m).map(pos)
    ok = h.notna() & w.notna()
    mat = np.zeros((zids.size, zids.size))
    np.add.at(mat, (h[ok].astype(int).to_numpy(), w[ok].astype(int).to_numpy()),
              flows.loc[ok, "banen"].to_numpy(float))
    codes = pd.unique(pd.concat([flows.loc[h.isna(), "wk_woon"], flows.loc[w.isna(), "wk_werk"]]))
    report = {"total": float(flows["banen"].sum()), "placed": float(mat.sum()),
              "unmatched_codes": sorted(map(str, codes)),
              "unmatched_jobs": float(flows.loc[~ok, "banen"].sum())}
    if report["unmatched_codes"]:
        log.warning("%d wijk codes in the commute flows have no zone (%.0f jobs): %s",
                    len(report["unmatched_codes"]), report["unmatched_jobs"],
                    report["unmatched_codes"][:10])
    return ObservedFlows(zone_ids=zids, matrix=mat, report=report)


@renamed_parameters(cutoff_min="cutoff")
def compare_catchments(
    observed: ObservedFlows,
    times_min: catchments.TimeSource,
    zone_ids: Sequence[str],
    *,
    cutoff: float = defaults.COMMUTE_CUTOFF_MIN,
    mode: str = "car",
) -> pd.DataFrame:
    """Observed inbound commuting vs the modelled catchment, on one zone set.

    For work zone ``w`` the modelled catchment is the set of home zones ``h`` with
    ``t[h, w] <= T`` (travel *to* work: column ``w`` of the origin × destination matrix).

    Returns
    -------
    DataFrame
        One row per zone: ``zone_id``, ``mode``, ``cutoff_min``, ``inbound_jobs`` (jobs in
        ``w`` held by residents of any zone), ``local_jobs`` (live and work in ``w``),
        ``inbound_within_catchment`` and ``share_within_catchment`` (of ``inbound_jobs``),
        ``external_share_within_catchment`` (the same for commuters from other zones),
        ``catchment_zones`` (modelled), ``observed_origin_zones`` (zones sending ≥ 1 job),
        ``origin_zones_in_catchment``; and the checks that can reject an inflated
        catchment: ``in_commuters`` and ``in_commuter_share_within_catchment`` (local
        workers left out); ``catchment_resident_workers`` (workers living in the other
        catchment zones) and ``catchment_commute_in_share`` (the share of them who really
        work in ``w``); the two-sided fit against the observed catchment (the fewest home
        zones covering 90% of in-commuters): ``observed_catchment_zones``,
        ``catchment_precision`` (modelled zones that are observed), ``catchment_recall``
        (observed zones that are modelled), ``catchment_f1``, ``catchment_jaccard``.
        ``attrs["zone_ids"]`` holds the common zone set.

    Raises
    ------
    InputError
        When the observed flows and the travel times are on different zone sets.
    """
    zids = np.asarray([str(z) for z in zone_ids])
    if not np.array_equal(zids, observed.zone_ids):
        raise InputError(None, "observed flows and modelled times use different zone sets",
                         "aggregate the flows with observed_flows_to_zones on the same zone_ids")
    n = zids.size
    t = catchments.dense_times(times_min, n, n)
    inside = t <= cutoff  # [h, w]
    F = observed.matrix
    inbound = F.sum(axis=0)
    local = np.diag(F).copy()
    within = (F * inside).sum(axis=0)
    ext_in = inbound - local
    ext_within = within - np.where(np.diag(inside), local, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "zone_id": zids, "mode": mode, "cutoff_min": float(cutoff),
            "inbound_jobs": inbound, "local_jobs": local,
            "inbound_within_catchment": within,
            "share_within_catchment": np.where(inbound > 0, within / inbound, np.nan),
            "external_share_within_catchment": np.where(ext_in > 0, ext_within / ext_in, np.nan),
            "catchment_zones": inside.sum(axis=0),
            "observed_origin_zones": (F > 0).sum(axis=0),
            "origin_zones_in_catchment": ((F > 0) & inside).sum(axis=0),
        })
    out["in_commuters"] = ext_in
    out["in_commuter_share_within_catchment"] = out["external_share_within_catchment"]
    out = pd.concat([out, _two_sided_fit(F, inside)], axis=1)
    out.attrs["zone_ids"] = zids.tolist()
    none = zids[inbound <= 0].tolist()
    if none:
        log.warning("%d zones receive no observed commuters; their shares are NaN: %s",
                    len(none), none[:10])
    out.attrs["no_inbound"] = none
    return out


OBSERVED_CATCHMENT_COVERAGE = defaults.OBSERVED_CATCHMENT_COVERAGE
"""Share of in-commuters covered by the observed catchment of :func:`compare_catchments`."""


def _two_sided_fit(F: np.ndarray, inside: np.ndarray,
                   coverage: float = OBSERVED_CATCHMENT_COVERAGE) -> pd.DataFrame:
    """Modelled vs observed catchment of each work zone, both ways (other zones only).

    The observed catchment O_w is the smallest set of home zones (w excluded), taken by
    descending flow, that covers ``coverage`` of w's in-commuters; the modelled one is
    C_w = {h ≠ w : t_hw ≤ T}.
    """
    n = F.shape[0]
    res = np.full((n, 7), np.nan)
    resident_workers = F.sum(axis=1)
    for w in range(n):
        col = F[:, w].copy()
        col[w] = 0.0
        cat = inside[:, w].copy()
        cat[w] = False
        cw = float(resident_workers[cat].sum())
        cin = float(col[cat].sum())
        total = col.sum()
        res[w, 0] = cw
        res[w, 1] = cin / cw if cw > 0 else np.nan
        if total <= 0:
            continue
        order = np.argsort(-col, kind="stable")
        k = int(np.searchsorted(np.cumsum(col[order]), coverage * total - 1e-9)) + 1
        obs = np.zeros(n, dtype=bool)
        obs[order[:k]] = True
        both = float((obs & cat).sum())
        res[w, 2] = obs.sum()
        res[w, 3] = both / cat.sum() if cat.sum() else np.nan  # precision
        res[w, 4] = both / obs.sum()  # recall
        p_, r_ = res[w, 3], res[w, 4]
        res[w, 5] = 2 * p_ * r_ / (p_ + r_) if np.isfinite(p_) and p_ + r_ > 0 else np.nan
        res[w, 6] = both / float((obs | cat).sum())
    return pd.DataFrame(res, columns=[
        "catchment_resident_workers", "catchment_commute_in_share", "observed_catchment_zones",
        "catchment_precision", "catchment_recall", "catchment_f1", "catchment_jaccard"])


@renamed_parameters(cutoff_min="cutoff")
def observed_flows_long(
    observed: ObservedFlows,
    times_min: catchments.TimeSource,
    *,
    cutoff: float = defaults.COMMUTE_CUTOFF_MIN,
) -> pd.DataFrame:
    """Non-zero zone flows: ``home_zone, work_zone, banen, share_of_work_zone_jobs,
    time_min, in_catchment``."""
    n = observed.zone_ids.size
    t = catchments.dense_times(times_min, n, n)
    F = observed.matrix
    h, w = np.nonzero(F)
    inbound = F.sum(axis=0)
    return pd.DataFrame({
        "home_zone": observed.zone_ids[h], "work_zone": observed.zone_ids[w],
        "banen": F[h, w], "share_of_work_zone_jobs": F[h, w] / inbound[w],
        "time_min": t[h, w], "in_catchment": t[h, w] <= cutoff,
    })


# --------------------------------------------------------------------------- impedance
NETWORK_HORIZON_MIN = defaults.NETWORK_HORIZON_MIN
"""Search horizon (minutes) of zone-to-zone network times; longer trips are unreachable."""


def _network_minutes(zones: gpd.GeoDataFrame, px: np.ndarray, py: np.ndarray, name: str,
                     networks: dict | None) -> np.ndarray:
    """Zone × zone minutes over a study network through zone connectors (inf beyond
    :data:`NETWORK_HORIZON_MIN`)."""

    if not networks or name not in networks:
        raise InputError(None, f"borrowed_size.networks names network '{name}', which is not "
                         "a study network", f"use one of {sorted(networks or {})}")
    land = connectors.land_parts(zones) if zones.geometry.geom_type.isin(
        ["Polygon", "MultiPolygon"]).any() else None
    t = accessibility.connector_times(networks[name], (px, py), (px, py), None,
                                      NETWORK_HORIZON_MIN, land)
    return t / 60.0


def crowfly_minutes(
    dist_m: np.ndarray, mode: str | impedance.CrowflyModel
) -> tuple[np.ndarray, str]:
    """Crow-fly travel times in minutes and a description of the model used.

    Uses :func:`ruimtekit.engine.impedance.crowfly_seconds` (detour factor, distance-dependent
    average speed, fixed access/parking minutes). Distance 0 gives 0 minutes;
    :func:`analyse` then applies the own-zone rule (:func:`own_zone_minutes`).
    """
    d = np.asarray(dist_m, dtype=float)
    model = impedance.model_for(mode)
    out = np.asarray(impedance.crowfly_seconds(d, model), dtype=float) / 60.0
    out[d == 0] = 0.0
    curve = ", ".join(f"{_num(a)} km: {_num(b)} km/h" for a, b in model.speed_curve)
    return out, (f"impedance crow-fly model '{model.mode}' (detour {_num(model.detour_factor)}, "
                 f"average speed {curve}, {_num(model.fixed_min)} min fixed)")


# --------------------------------------------------------------------------- config + pipeline
class BorrowedSizeConfig(Section):
    """Study-file section ``borrowed_size``.

    Attributes
    ----------
    zones : str
        Name of the zones layer (gemeenten) in the study's ``layers``.
    indicators_file : Path, optional
        Gemeente indicators JSON (nlstat structure, CBS KWB 2021, read with
        :func:`ruimtekit.io.layers.read_gemeente_indicators`); sets ``population`` and
        ``establishments`` of the zones, summing gemeenten merged since into their new
        polygon (needs ``wijk_centroids``).
    population_points : Path, optional
        Finer areas with inhabitants (e.g. ``data/raw/cbs_pc4_2021.parquet``, read with
        :func:`ruimtekit.io.layers.read_zones`): each zone gets a population-weighted point
        ``pop_x``/``pop_y`` used for distances and rail access instead of its centroid.
    mass_columns : list of str
        Masses (zone columns) measured: own, reachable, borrowed, rings, potential.
    jobs_file : Path, optional
        CBS banen per wijk (``wk_code``) or gemeente (``gm_code``), 2015 codes, column
        ``banen_werkplaats``; attached as ``jobs`` when the zones lack a ``jobs`` column
        (needs ``wijk_centroids``).
    wijk_centroids : Path, optional
        CBS 2015 wijk centroids (``code``), used to map 2015 wijken/gemeenten to zones.
    modes : list of str
        Crow-fly modes (``car``, ``bike``, ``e_bike``, ``walk``) using
        ``impedance.crowfly_seconds`` with the default Dutch models, unless overridden in
        ``crowfly_models``.
    crowfly_models : dict of str to impedance.CrowflyModel
        Optional per-mode crow-fly model overrides (detour, speed curve, fixed minutes).
    networks : dict of str to str
        Mode → study network: that mode's times come from the network through zone
        connectors (:func:`ruimtekit.analysis.accessibility.connector_times`) instead of crow-fly.
    rail_network : str, optional
        Name of an NS rail network in the study's ``networks``; adds mode ``rail``
        (zone-level rail times from ``ruimtekit.engine.rail``: bike access, rail, walking egress).
    rail_access_radius_m, rail_egress_radius_m : float
        Straight-line radii (m) for the bike access and walking egress legs to stations
        (defaults 5,000 and 2,000 m: one point per gemeente is far from its stations).
    cutoff_min : float
        Commuting tolerance T in minutes for reachable/borrowed mass (default 45).
    catchment_cutoffs_min : list of float
        Cutoffs for the catchment polygons (default [45]).
    ring_bands_km, time_bands_min : list of [lower, upper]
        Crow-fly distance bands (km) and travel-time bands (min).
    potential_decay : DecayConfig
        Decay f(t) of the potential V_i = Σ_j P_j f(t_ij), t in minutes
        (default ``{kind: exponential, params: {beta: 0.05}}``).
    outcome : str
        Outcome column of the shadow regression (``establishments`` by default).
    outcome_per : str, optional
        Divide the outcome by this column (``population`` → per inhabitant).
    own_size : str
        Own size column (``population``).
    surrounding : list of str, optional
        Surrounding-mass columns; default: the population ring columns.
    regression_mode : str, optional
        Mode whose columns feed the regression (default: the first mode).
    threshold_sd : float
        Residual threshold (SD) for ``borrowing``/``shadow`` (0 = sign only).
    centres : Path, optional
        Point file of user-given centres (``centre_id`` column); catchments are then
        built per centre instead of per zone.
    observed_flows : Path, optional
        Home→work flows by wijk (``wk_woon``, ``wk_werk``, ``banen``).
    rings : str
        ``fine`` (default): ring populations from ``population_points`` areas excluding the
        own zone (:func:`ruimtekit.analysis.shadow.fine_rings`); ``points``: other zones' points.
    controls : list of str
        Logged controls; ``urban_rank`` = population rank in the COROP region.
    fixed_effects : str, optional
        Fixed-effect column (``provincie`` or ``corop``).
    exclude : list of str
        Zone ids left out of the regression (e.g. the Wadden islands).
    regression : spatial.RegressionOptions
        Covariance (``HC1``, ``cluster`` by ``corop``, ``conley``), spatial weights of the
        diagnostics (default kNN 6) and optional spatial lag/error models.
    sensitivity : bool
        Write the outcome × rings × fixed effects × exclusions table.
    sensitivity_outcomes : list of str
        Outcomes of the sensitivity table (those present).
    bootstrap_draws : int
        Pairs-bootstrap draws for class stability (0 = off).
    cutoff_sensitivity_min : list of float
        Cutoffs whose reachable-mass rank correlations are reported.
    fit_decay : bool
        Estimate the exponential decay β and best cutoff from ``observed_flows`` (PPML).
    use_fitted_decay : bool
        Use the fitted β for the potential instead of ``potential_decay``.
    """

    zones: str = "gemeenten"
    indicators_file: Path | None = None
    population_points: Path | None = None
    mass_columns: list[str] = Field(default_factory=lambda: ["population", "jobs"])
    jobs_file: Path | None = None
    wijk_centroids: Path | None = None
    modes: list[str] = Field(default_factory=lambda: ["car"])
    crowfly_models: dict[str, impedance.CrowflyModel] = Field(default_factory=dict)
    networks: dict[str, str] = Field(default_factory=dict)
    rail_network: str | None = None
    rail_access_radius_m: float = Field(defaults.RAIL_ACCESS_RADIUS_M, gt=0)
    rail_egress_radius_m: float = Field(defaults.RAIL_EGRESS_RADIUS_M, gt=0)
    cutoff_min: float = Field(defaults.COMMUTE_CUTOFF_MIN, gt=0, le=MAX_CUTOFF_MIN)
    catchment_cutoffs_min: list[float] = Field(
        default_factory=lambda: [defaults.COMMUTE_CUTOFF_MIN])
    ring_bands_km: list[tuple[float, float]] = Field(
        default_factory=lambda: [tuple(b) for b in RING_BANDS_KM])
    time_bands_min: list[tuple[float, float]] = Field(
        default_factory=lambda: [tuple(b) for b in TIME_BANDS_MIN])
    potential_decay: DecayConfig = Field(
        default_factory=lambda: DecayConfig(**copy.deepcopy(defaults.POTENTIAL_DECAY)))
    outcome: str = "amenities"
    outcome_per: str | None = "population"
    own_size: str = "population"
    surrounding: list[str] | None = None
    regression_mode: str | None = None
    threshold_sd: float = Field(defaults.SHADOW_THRESHOLD_SD, ge=0)
    centres: Path | None = None
    observed_flows: Path | None = None
    rings: Literal["fine", "points"] = "fine"
    controls: list[str] = Field(default_factory=lambda: ["urban_rank"])
    fixed_effects: str | None = None
    exclude: list[str] = Field(default_factory=list)
    regression: spatial.RegressionOptions = Field(default_factory=spatial.RegressionOptions)
    sensitivity: bool = True
    sensitivity_outcomes: list[str] = Field(
        default_factory=lambda: ["amenities", "jobs", "establishments"])
    bootstrap_draws: int = Field(BOOTSTRAP_DRAWS, ge=0)
    cutoff_sensitivity_min: list[float] = Field(
        default_factory=lambda: list(defaults.CUTOFF_SENSITIVITY_MIN))
    fit_decay: bool = True
    use_fitted_decay: bool = False

    @model_validator(mode="after")
    def _check(self) -> BorrowedSizeConfig:
        known = set(CROWFLY_MODES) | set(self.crowfly_models)
        bad = [m for m in self.modes if m not in known]
        if bad:
            raise ValueError(f"unknown crow-fly mode(s) {bad}; use {sorted(known)} "
                             "(rail comes from rail_network)")
        if not self.modes and not self.rail_network:
            raise ValueError("give at least one mode or a rail_network")
        try:
            _check_bands(self.ring_bands_km, "km")
            _check_bands(self.time_bands_min, "min")
        except InputError as exc:
            raise ValueError(f"{exc.problem}; {exc.fix}") from None
        return self


def make_config(**values: Any) -> BorrowedSizeConfig:
    """A :class:`BorrowedSizeConfig` from keyword values; invalid values raise
    :class:`InputError` (for the CLI) instead of a pydantic ``ValidationError``."""
    from pydantic import ValidationError

    try:
        return BorrowedSizeConfig(**values)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InputError(None, f"invalid borrowed-size options: {problems}",
                         "correct the options listed (see `ruimtekit borrowed-size --help`)"
                         ) from None


@dataclass
class BorrowedSizeResult:
    """Everything :func:`analyse` computes.

    Attributes
    ----------
    zones : GeoDataFrame
        Per zone: id, name, masses, metrics per mode, regression residual and class.
    catchments : GeoDataFrame
        Catchment polygons per centre, mode and cutoff.
    regression : DataFrame
        Regression table.
    observed : DataFrame or None
        Observed vs modelled catchment per zone.
    observed_flows : DataFrame or None
        Non-zero zone flows with modelled times.
    notes : list of str
        Provenance statements (impedance used, unmatched codes, proxies).
    times_min : dict of str to ndarray
        Zone × zone minutes per mode (own-zone rule applied).
    tables : dict of str to DataFrame
        ``borrowed_size_diagnostics`` (residual Moran's I, LM tests),
        ``borrowed_size_sensitivity``, ``borrowed_size_decay`` and
        ``borrowed_size_decay_cutoffs`` (with observed flows),
        ``borrowed_size_cutoff_sensitivity``, ``borrowed_size_inequality``.
    """

    zones: gpd.GeoDataFrame
    catchments: gpd.GeoDataFrame
    regression: pd.DataFrame
    observed: pd.DataFrame | None
    observed_flows: pd.DataFrame | None
    notes: list[str]
    times_min: dict[str, np.ndarray]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def rail_zone_minutes(zones: gpd.GeoDataFrame, network: Any, *,
                      access_radius_m: float | None = None,
                      egress_radius_m: float | None = None) -> np.ndarray:
    """Zone × zone door-to-door rail minutes: bike access, NS rail, walking egress.

    Thin wrapper over :func:`ruimtekit.engine.rail.zone_times` (seconds → minutes; the direct
    bike trip is allowed within the access radius; ``inf`` where no station is within
    reach). ``network`` is a :class:`ruimtekit.engine.rail.RailNetwork` or the path of the NS
    ``network.json`` / its folder.
    """

    net = network if isinstance(network, rail.RailNetwork) else rail.build_rail_network(network)
    # the direct bike trip only within the access radius, as before (transit's default lets
    # it take the whole budget)
    p = transit.TransitParams()
    if access_radius_m:
        p = p.with_radius("bike", access_radius_m)
    p = p.updated(max_direct_min=p.max_access_min["bike"])
    if egress_radius_m:
        p = p.with_radius(p.egress_mode, egress_radius_m, leg="egress")
    t = np.asarray(rail.zone_times(zones, net, params=p), dtype=float) / 60.0
    np.fill_diagonal(t, 0.0)
    return t


# --------------------------------------------------------------------------- analysis parts
INDICATOR_COUNTS: tuple[str, ...] = ("amenities", "income_total")
"""Additive counts derived from the KWB indicators by :func:`add_indicator_counts`."""
REGION_COLUMNS: tuple[str, ...] = ("provincie", "corop")
"""Region columns attached to GM-coded zones (:func:`ruimtekit.io.regions.gemeenten`)."""
RAIL_OWN_ZONE_MODE = "bike"
"""Crow-fly model of trips within a zone for modes without one (rail: bike access)."""


def add_indicator_counts(ind: pd.DataFrame) -> pd.DataFrame:
    """Add additive counts to KWB gemeente indicators.

    * ``amenities`` — culture & recreation establishments: ``establishments`` ×
      ``Economy: Culture & recreation sector (%)`` / 100 (an amenity/urban-function
      proxy after Burger et al. 2015);
    * ``income_total`` — ``IncomeWealth: Avg income per inhabitant (x€1k)`` × population
      (€ 1000), so income per inhabitant survives summing merged gemeenten.
    """
    out = ind.copy()
    share = pd.to_numeric(out.get("Economy: Culture & recreation sector (%)"), errors="coerce")
    out["amenities"] = out["establishments"] * share / 100.0
    inc = pd.to_numeric(out.get("IncomeWealth: Avg income per inhabitant (x€1k)"),
                        errors="coerce")
    out["income_total"] = inc * out["population"]
    return out


def own_zone_minutes(zones: gpd.GeoDataFrame, mode: str | impedance.CrowflyModel
                     ) -> np.ndarray:
    """Travel time (minutes) over each zone's internal distance (2/3)·√(area/π) with the
    mode's crow-fly model: the floor of the own-zone rule for time matrices."""
    d = accessibility.intrazonal_distance_m(zones)
    return crowfly_minutes(np.maximum(d, 1e-9), mode)[0]


def _own_zone_floor(zones: gpd.GeoDataFrame, times: dict[str, np.ndarray],
                    cfg: BorrowedSizeConfig, notes: list[str]) -> dict[str, np.ndarray]:
    """Apply the own-zone rule to every mode's time matrix (in place in ``times``)."""

    floors = {}
    for mode in list(times):
        model = cfg.crowfly_models.get(mode, mode if mode in CROWFLY_MODES
                                       else RAIL_OWN_ZONE_MODE)
        floor = own_zone_minutes(zones, model)
        times[mode], n = _ownzone.floor_matrix(times[mode], floor, f"borrowed size ({mode})")
        floors[mode] = floor
        notes.append(
            f"Borrowed size ({mode}): own-zone rule — a zone reaches itself, and any zone "
            "closer than its internal distance (2/3)·√(area/π), in the time of the "
            f"'{getattr(model, 'mode', model)}' crow-fly model over that distance (median "
            f"{np.median(floor):.1f} min); {n} zone pairs were raised to it.")
    return floors


def _attach_regions(zones: gpd.GeoDataFrame, notes: list[str]) -> None:
    """Province and COROP of GM-coded zones (2022 gemeenten), for FE, clusters, ranks."""
    ids = zones["zone_id"].astype(str)
    if not ids.str.fullmatch(r"GM\d{4}").all():
        notes.append("Borrowed size: zones are not gemeenten (GM codes); no province/COROP "
                     "regions, so no urban-rank control, fixed effects or clusters by region.")
        return

    gm = regions.gemeenten().set_index("gemeente_code")
    for c in REGION_COLUMNS:
        if c not in zones.columns:
            zones[c] = ids.map(gm[c]).to_numpy()
    miss = ids[zones["corop"].isna().to_numpy()].tolist()
    if miss:
        log.warning("%d zones without a COROP region: %s", len(miss), miss[:10])


def _fit_decay(obs: ObservedFlows, times: dict[str, np.ndarray], own_min: dict[str, np.ndarray],
               cfg: BorrowedSizeConfig, tables: dict[str, pd.DataFrame], notes: list[str],
               decay: Any) -> Any:
    """PPML decay per mode from the observed flows; returns the potential's decay."""

    fits, cuts = [], []
    chosen = None
    for mode, t in times.items():
        for intra in (False, True):
            f = gravity.fit_decay(obs.matrix, t, intrazonal=intra, label=mode)
            fits.append(f.table.assign(mode=mode))
            cuts.append(f.cutoffs.assign(mode=mode, intrazonal=intra))
            if mode == (cfg.regression_mode or next(iter(times))) and not intra:
                chosen = f
    tables["borrowed_size_decay"] = pd.concat(fits, ignore_index=True)
    tables["borrowed_size_decay_cutoffs"] = pd.concat(cuts, ignore_index=True)
    if chosen is not None:
        notes.append(
            f"Borrowed size: decay fitted from the observed commuting flows (PPML with home and work "
            f"fixed effects, between zones): β = {chosen.beta:.4f} per minute (robust SE "
            f"{chosen.se:.4f}); best-fitting cumulative cutoff {chosen.best_cutoff_min:g} min.")
        if cfg.use_fitted_decay:
            notes.append(f"Borrowed size: the potential uses the fitted decay exp(−{chosen.beta:.4f}·t).")
            return Decay("exponential", beta=round(chosen.beta, 6))
    return decay


def _regressions(out: pd.DataFrame, zones: gpd.GeoDataFrame, cfg: BorrowedSizeConfig,
                 fine: gpd.GeoDataFrame | None, tables: dict[str, pd.DataFrame],
                 notes: list[str]) -> Any:
    """Baseline borrowed-size regression (with diagnostics), LISA, bootstrap, sensitivity."""

    point_rings = [f"{cfg.own_size}_ring_{band_label(a, b, 'km')}" for a, b in cfg.ring_bands_km]
    ring_sets = {"gemeente_points": point_rings}
    px, py = out["point_x"].to_numpy(), out["point_y"].to_numpy()
    if fine is not None and cfg.own_size == "population":
        fr, rep = shadow.fine_rings(out["zone_id"], (px, py), fine, zones, cfg.ring_bands_km)
        for c in fr.columns:
            out[c] = fr[c].to_numpy()
        ring_sets = {"fine_population": list(fr.columns), **ring_sets}
        empty = int((out[fr.columns[0]] <= 0).sum())
        notes.append(
            f"Borrowed size rings from {rep['fine_areas']:,} populated fine areas "
            f"({Path(cfg.population_points).name}, {rep['population']:,.0f} inhabitants) "
            f"excluding the own zone; {empty} zones have an empty first ring (with other "
            f"zones' points: {int((out[point_rings[0]] <= 0).sum())}).")
    if cfg.rings == "fine" and "fine_population" not in ring_sets:
        notes.append("Borrowed size rings: no population_points, so rings use other zones' "
                     "points.")
    surrounding = cfg.surrounding or (ring_sets["fine_population"] if cfg.rings == "fine"
                                      and "fine_population" in ring_sets else point_rings)
    controls = []
    if "urban_rank" in cfg.controls:
        if "corop" in out.columns and out["corop"].notna().any():
            out["urban_rank"] = shadow.urban_rank(out[cfg.own_size], out["corop"])
            controls.append("urban_rank")
        else:
            notes.append("Borrowed size regression: no COROP regions, no urban-rank control.")
    controls += [c for c in cfg.controls if c != "urban_rank"]
    spec = shadow.ShadowSpec(outcome=cfg.outcome, per=cfg.outcome_per, own_size=cfg.own_size,
                             surrounding=list(surrounding), controls=controls,
                             fixed_effects=cfg.fixed_effects, exclude=list(cfg.exclude),
                             threshold_sd=cfg.threshold_sd)
    opt = cfg.regression
    res = shadow.fit(out, spec, options=opt)
    out["residual"] = res.cities["residual"].to_numpy()
    out["residual_sd"] = res.cities["residual_sd"].to_numpy()
    out["size_class"] = res.cities["size_class"].to_numpy()
    used = out["size_class"] != "not_estimated"
    lisa = spatial.local_moran(out.loc[used, "residual"].to_numpy(), res.extra["weights"],
                               permutations=opt.permutations)
    out["lisa_cluster"] = "not_estimated"
    out.loc[used, "lisa_cluster"] = lisa["lisa_cluster"].to_numpy()
    out["lisa_p"] = np.nan
    out.loc[used, "lisa_p"] = lisa["lisa_p"].to_numpy()
    if cfg.bootstrap_draws:
        bs_ = shadow.bootstrap_classes(res, draws=cfg.bootstrap_draws)
        for c in bs_.columns:
            out[c] = bs_[c].to_numpy()
    rm = res.residual_moran
    tables["borrowed_size_diagnostics"] = res.diagnostics
    notes.append(
        f"Borrowed size regression (classes on the map): outcome {spec.outcome_label}, rings "
        f"{'fine population' if surrounding == ring_sets.get('fine_population') else 'zone points'}"
        f", controls {controls or 'none'}, fixed effects {cfg.fixed_effects or 'none'}, "
        f"{res.table['cov_type'].iloc[0]} errors; residual Moran's I = {rm['I']:.3f} "
        f"({res.diagnostics['weights'].iloc[0]}, permutation p = {rm['p_sim']:.3f})"
        + (f"; {len(res.dropped)} zones not estimated: {res.dropped[:20]}" if res.dropped
           else "") + ".")
    if cfg.sensitivity:
        outcomes = [o for o in dict.fromkeys([cfg.outcome, *cfg.sensitivity_outcomes])
                    if o in out.columns]
        fes: list[str | None] = [cfg.fixed_effects]
        if "provincie" in out.columns and cfg.fixed_effects != "provincie":
            fes.append("provincie")
        base_ring = ("fine_population" if surrounding == ring_sets.get("fine_population")
                     else "gemeente_points")
        rings = {base_ring: surrounding, **{k: v for k, v in ring_sets.items()
                                            if k != base_ring}}
        excl = {"none" if not cfg.exclude else "configured": list(cfg.exclude),
                "wadden": sorted(set(cfg.exclude) | set(shadow.WADDEN))}
        tables["borrowed_size_sensitivity"] = shadow.sensitivity(
            out, spec, outcomes=outcomes, rings=rings, fixed_effects=fes, exclusions=excl,
            options=opt.model_copy(update={"spatial_models": [], "permutations": 199}))
    return res


def _accessibility_summaries(out: pd.DataFrame, times: dict[str, np.ndarray],
                             masses: pd.DataFrame, cfg: BorrowedSizeConfig, reg_mode: str,
                             tables: dict[str, pd.DataFrame], notes: list[str]) -> None:
    """Cutoff sensitivity (rank correlations) and inequality of the reachable masses."""
    from scipy import stats

    t = times[reg_mode]
    cut_rows, ineq_rows = [], []
    cutoffs = sorted(set(cfg.cutoff_sensitivity_min) | {cfg.cutoff_min})
    pop = (pd.to_numeric(out[cfg.own_size], errors="coerce").to_numpy(float)
           if cfg.own_size in out.columns else None)
    for name in masses.columns:
        m = masses[name].to_numpy(float)
        reach = {c: (t <= c).astype(float) @ m for c in cutoffs}
        # the own zone always counts (as in borrowed_size_metrics)
        reach = {c: v + np.where(np.diag(t) > c, m, 0.0) for c, v in reach.items()}
        for a, b in itertools.combinations(cutoffs, 2):
            rho = stats.spearmanr(reach[a], reach[b]).statistic
            cut_rows.append({"mass": name, "mode": reg_mode, "cutoff_a_min": a,
                             "cutoff_b_min": b, "spearman_rho": float(rho)})
        if pop is None or not np.isfinite(pop).all():
            continue
        groups = out["provincie"].fillna("unknown").to_numpy() if "provincie" in out else None
        inc = out["income_per_inhabitant"].to_numpy(float) \
            if "income_per_inhabitant" in out and out["income_per_inhabitant"].notna().all() \
            else None
        measures = {f"{name}_{c:g}min_{reg_mode}": reach[c] for c in cutoffs}
        pot = [c for c in out.columns if c.startswith(f"{name}_potential_")
               and c.endswith(f"_{reg_mode}")]
        measures.update({c: out[c].to_numpy(float) for c in pot})
        for label, v in measures.items():
            row = inequality.summary(v, pop, groups=groups, measure=label)
            row["palma_ranked_by"] = "accessibility"
            if inc is not None:
                row["palma_by_income"] = inequality.palma(v, pop, rank_by=inc)
            ineq_rows.append(row)
    tables["borrowed_size_cutoff_sensitivity"] = pd.DataFrame(cut_rows)
    if ineq_rows:
        tab = pd.concat(ineq_rows, ignore_index=True)
        tab.insert(1, "weights", cfg.own_size)
        tab.insert(2, "theil_groups", "provincie" if "provincie" in out else "none")
        tables["borrowed_size_inequality"] = tab
        main = tab[tab["measure"] == f"jobs_{cfg.cutoff_min:g}min_{reg_mode}"]
        if len(main):
            r = main.iloc[0]
            notes.append(
                f"Borrowed size: inequality of jobs reachable within {cfg.cutoff_min:g} min ({reg_mode}) "
                f"across residents: Gini {r['gini']:.3f}, Theil {r['theil']:.3f} "
                f"({100 * r['theil_between_share']:.0f}% between provinces), Palma "
                f"{r['palma']:.2f}.")



def analyse(
    zones: gpd.GeoDataFrame,
    cfg: BorrowedSizeConfig,
    *,
    resolve: Any = Path,
    networks: Mapping[str, Any] | None = None,
) -> BorrowedSizeResult:
    """Run the whole borrowed-size analysis on a zones layer.

    Parameters
    ----------
    zones : GeoDataFrame
        Canonical zones (EPSG:28992, ``zone_id``, mass and outcome columns).
    cfg : BorrowedSizeConfig
    resolve : callable
        Turns a config path into an absolute path (``ctx.resolve`` in the pipeline).
    networks : mapping, optional
        Study networks (for ``rail_network``).

    Returns
    -------
    BorrowedSizeResult
    """
    places.check_crs(zones, "zones")
    zones = zones.reset_index(drop=True).copy()
    zones["zone_id"] = zones["zone_id"].astype(str)
    notes: list[str] = []
    wijk_pts = None
    if cfg.wijk_centroids is not None:
        wijk_pts = read_wijk_centroids(resolve(cfg.wijk_centroids))
    if cfg.indicators_file is not None:
        if wijk_pts is None:
            raise InputError(None, "indicators_file needs wijk_centroids to place merged gemeenten",
                             "set borrowed_size.wijk_centroids")

        ind = layers.read_gemeente_indicators(resolve(cfg.indicators_file))
        ind = add_indicator_counts(ind)
        cols = ["population", "establishments", *INDICATOR_COUNTS]
        vals, rep = gemeente_table_to_zones(ind, zones, wijk_pts, columns=cols)
        for c in cols:
            zones[c] = vals[c].to_numpy()
        zones["income_per_inhabitant"] = zones["income_total"] / zones["population"]
        notes.append(
            "Borrowed size: amenities = culture & recreation establishments (CBS KWB 2021 "
            "sector share 'Culture & recreation' × establishments), the closest open "
            "gemeente proxy of the urban functions of Burger et al. (2015) and Meijers & "
            "Burger (2017); jobs and establishments per inhabitant are the alternative "
            "outcomes in the sensitivity table.")
        notes.append(
            "Borrowed size: population (1 Jan 2021) and business establishments (derived: "
            "establishments per 1000 inhabitants × population) from CBS KWB 2021 per gemeente"
            + (f"; merged since 2021 and summed into their 2022 gemeente: {rep['merged']}"
               if rep["merged"] else "")
            + (f"; not placed: {rep['unplaced']}" if rep["unplaced"] else "") + ".")
    if cfg.jobs_file is not None and "jobs" not in cfg.mass_columns:
        raise InputError(cfg.jobs_file, "a jobs file was given but 'jobs' is not among the "
                         f"masses {list(cfg.mass_columns)}, so it would be ignored",
                         "add jobs to the masses (--mass jobs) or leave out the jobs file")
    if "jobs" in cfg.mass_columns and ("jobs" not in zones.columns or cfg.jobs_file is not None):
        if cfg.jobs_file is None or wijk_pts is None:
            raise InputError(cfg.jobs_file, "the zones have no 'jobs' column" if
                             cfg.jobs_file is None else "a jobs file needs wijk centroids to "
                             "place its codes", "add jobs to the zones layer, or set "
                             "borrowed_size.jobs_file and borrowed_size.wijk_centroids "
                             "(--jobs-file with --wijk-centroids)")
        if "jobs" in zones.columns:
            log.warning("borrowed size: the zones' own 'jobs' column is replaced by the jobs "
                        "file %s (given explicitly)", cfg.jobs_file)
        jobs, rep = jobs_to_zones(resolve(cfg.jobs_file), wijk_pts, zones)
        zones["jobs"] = zones["zone_id"].map(jobs).astype(float)
        notes.append(
            f"Borrowed size: jobs = CBS employee jobs at the workplace, end 2014 (no "
            f"self-employed), 2015 codes placed in {cfg.zones} by wijk centroid; "
            f"{rep['placed']:,.0f} of {rep['total']:,.0f} jobs placed"
            + (f", unmatched codes {rep['unmatched']}" if rep["unmatched"] else "")
            + (f", gemeenten split over zones {rep['split']}" if rep["split"] else "") + ".")
    masses = zones[list(cfg.mass_columns)] if all(c in zones for c in cfg.mass_columns) else None
    if masses is None:
        miss = [c for c in cfg.mass_columns if c not in zones.columns]
        raise InputError(None, f"zones layer '{cfg.zones}' lacks {miss}",
                         f"available columns: {list(zones.columns)[:40]}")
    fine = None
    if cfg.population_points is not None:

        fine = layers.read_zones(resolve(cfg.population_points))
        pts, rep = population_points(zones, fine)
        zones["pop_x"], zones["pop_y"] = pts["pop_x"].to_numpy(), pts["pop_y"].to_numpy()
        notes.append(
            f"Borrowed size: zone points are population-weighted from "
            f"{Path(cfg.population_points).name} ({rep['population_placed']:,.0f} inhabitants)"
            + (f"; centroids for {rep['zones_without_population']}"
               if rep["zones_without_population"] else "") + ".")
    px, py = catchments.zone_points(zones)
    dist = distance_matrix_m(px, py)
    times: dict[str, np.ndarray] = {}
    for mode in cfg.modes:
        if mode in cfg.networks:
            times[mode] = _network_minutes(zones, px, py, cfg.networks[mode], networks)
            notes.append(f"Borrowed size ({mode}): travel times over network "
                         f"'{cfg.networks[mode]}' through zone connectors "
                         "(ruimtekit.network.connectors defaults) between population points or "
                         "centroids.")
            continue
        times[mode], how = crowfly_minutes(dist, cfg.crowfly_models.get(mode, mode))
        notes.append(f"Borrowed size ({mode}): crow-fly travel times between population points "
                     f"or centroids, {how}.")
    if cfg.rail_network:
        if not networks or cfg.rail_network not in networks:
            raise InputError(None, f"rail_network '{cfg.rail_network}' is not a study network",
                             f"use one of {sorted(networks or {})}")
        times["rail"] = rail_zone_minutes(zones, networks[cfg.rail_network],
                                          access_radius_m=cfg.rail_access_radius_m,
                                          egress_radius_m=cfg.rail_egress_radius_m)
        unreached = int((np.isfinite(times["rail"]).sum(axis=1) <= 1).sum())
        notes.append("Borrowed size (rail): NS rail network without timetable (ruimtekit.engine.rail "
                     "speed and waiting model), bike access and walking egress from zone "
                     "points; zones whose point is beyond the access radius of every "
                     f"station reach only themselves by rail ({unreached} such zones).")
    own_min = _own_zone_floor(zones, times, cfg, notes)
    _attach_regions(zones, notes)
    reg_mode = cfg.regression_mode or next(iter(times))
    if reg_mode not in times:
        raise InputError(None, f"regression_mode '{reg_mode}' is not computed",
                         f"use one of {list(times)}")
    tables: dict[str, pd.DataFrame] = {}
    obs = None
    if cfg.observed_flows is not None:
        if wijk_pts is None:
            raise InputError(None, "observed_flows needs wijk_centroids to place wijken in zones",
                             "set borrowed_size.wijk_centroids")
        fl = read_commute_flows(resolve(cfg.observed_flows))
        mapping, _ = wijk_zone_mapping(wijk_pts, zones)
        obs = observed_flows_to_zones(fl, mapping, zones["zone_id"])
    decay = as_decay(cfg.potential_decay)
    if obs is not None and cfg.fit_decay:
        decay = _fit_decay(obs, times, own_min, cfg, tables, notes, decay)
    elif cfg.use_fitted_decay:
        raise InputError(None, "use_fitted_decay needs observed_flows and fit_decay",
                         "set borrowed_size.observed_flows (CBS home→work flows)")

    keep = [c for c in ("zone_id", "zone_name", "gemeente_code") if c in zones.columns]
    extra = [c for c in dict.fromkeys([*cfg.mass_columns, cfg.outcome, cfg.own_size,
                                       *( [cfg.outcome_per] if cfg.outcome_per else []),
                                       *cfg.sensitivity_outcomes, "income_per_inhabitant",
                                       *REGION_COLUMNS])
             if c in zones.columns and c not in keep]
    out = zones[keep + extra].copy()
    out["point_x"], out["point_y"] = px, py
    first = True
    for mode, t in times.items():
        met = borrowed_size_metrics(
            zones["zone_id"], masses, t, cutoff=cfg.cutoff_min, mode=mode,
            points_xy=(px, py) if first else None,
            spec=MetricsSpec(ring_bands_km=cfg.ring_bands_km, time_bands_min=cfg.time_bands_min,
                             decay=decay))
        drop = ["zone_id"] + ([] if first else [c for c in met.columns if c.endswith("_own")])
        met = met.drop(columns=drop)
        out = pd.concat([out, met], axis=1)
        first = False

    reg = _regressions(out, zones, cfg, fine, tables, notes)
    _accessibility_summaries(out, times, masses, cfg, reg_mode, tables, notes)
    zone_layer = gpd.GeoDataFrame(out, geometry=zones.geometry.to_numpy(), crs=CRS)

    # catchment polygons
    cparts = []
    if cfg.centres is not None:
        cpath = resolve(cfg.centres)
        centres = _read_centres(cpath)
        for mode in cfg.modes:
            tc = catchments.centres_to_zone_times(
                centres, zones,
                lambda d, _m=cfg.crowfly_models.get(mode, mode): crowfly_minutes(d, _m)[0] * 60.0)
            cparts.append(catchments.zone_catchments(
                zones, tc, cfg.catchment_cutoffs_min, mode=mode,
                centre_ids=centres["centre_id"].tolist(), mass_columns=cfg.mass_columns))
    else:
        for mode, t in times.items():
            cparts.append(catchments.zone_catchments(
                zones, t, cfg.catchment_cutoffs_min, mode=mode, mass_columns=cfg.mass_columns))
    catch = gpd.GeoDataFrame(pd.concat(cparts, ignore_index=True), geometry="geometry", crs=CRS)

    observed = flows_long = None
    if obs is not None:
        parts = [compare_catchments(obs, t, zones["zone_id"], cutoff=cfg.cutoff_min,
                                    mode=mode) for mode, t in times.items()]
        observed = pd.concat(parts, ignore_index=True)
        flows_long = observed_flows_long(obs, times[reg_mode], cutoff=cfg.cutoff_min)
        r = obs.report
        notes.append(
            f"Observed commuting: CBS home×work wijk jobs (end 2014, 2015 wijken) placed in "
            f"{cfg.zones} by wijk centroid; {r['placed']:,.0f} of {r['total']:,.0f} jobs placed"
            + (f"; unmatched wijk codes {r['unmatched_codes']}" if r["unmatched_codes"] else "")
            + ".")
    return BorrowedSizeResult(zones=zone_layer, catchments=catch, regression=reg.table,
                              observed=observed, observed_flows=flows_long, notes=notes,
                              times_min=times, tables=tables)


def _read_centres(path: Path) -> gpd.GeoDataFrame:
    if not path.is_file():
        raise InputError(path, "centres file not found", "check the path")
    g = gpd.read_file(path)
    if "centre_id" not in g.columns:
        raise InputError(path, "no 'centre_id' column", "add a unique centre_id per point")
    if g.crs is None:
        raise InputError(path, "the centres file declares no CRS",
                         "save it with a CRS (EPSG:28992 or EPSG:4326)")
    g = g.to_crs(CRS)
    if not (g.geometry.geom_type == "Point").all():
        raise InputError(path, "centres must be points", "use one point per centre")
    g["centre_id"] = g["centre_id"].astype(str)
    return g


def _is_rail(net: Any) -> bool:

    return isinstance(net, rail.RailNetwork)


def pipeline_step(ctx: Any) -> None:
    """Pipeline step: borrowed size, catchments, shadow regression, observed catchments.

    Reads ``ctx.study.borrowed_size`` (skipped when absent), the zones layer
    ``ctx.layers[cfg.zones]`` and, for ``rail_network``, ``ctx.networks``. Adds result
    layers ``borrowed_size`` (per zone) and ``catchments`` (polygons), tables
    ``borrowed_size_regression`` and, with observed flows, ``observed_catchment`` and
    ``observed_catchment_flows``; notes go to ``ctx.notes``.
    """
    cfg = getattr(ctx.study, "borrowed_size", None)
    if cfg is None:
        return
    if cfg.zones not in ctx.layers:
        raise InputError(None, f"borrowed_size.zones names layer '{cfg.zones}', which the study "
                         "does not define", f"use one of {sorted(ctx.layers)}")
    networks = dict(ctx.networks)
    if cfg.rail_network and not _is_rail(networks.get(cfg.rail_network)):
        spec = (getattr(ctx.study, "networks", None) or {}).get(cfg.rail_network)
        if spec is None or getattr(spec, "path", None) is None:
            raise InputError(None, f"borrowed_size.rail_network '{cfg.rail_network}' is not a "
                             "study network with a path",
                             "add it under networks: with kind: ns_rail and the NS network path")

        networks[cfg.rail_network] = rail.build_rail_network(ctx.resolve(spec.path))
        ctx.networks[cfg.rail_network] = networks[cfg.rail_network]
    res = analyse(ctx.layers[cfg.zones], cfg, resolve=ctx.resolve, networks=networks)
    ctx.results["borrowed_size"] = res.zones
    ctx.results["catchments"] = res.catchments
    ctx.tables["borrowed_size_regression"] = res.regression
    if res.observed is not None:
        ctx.tables["observed_catchment"] = res.observed
        ctx.tables["observed_catchment_flows"] = res.observed_flows
    ctx.tables.update(res.tables)
    for n in res.notes:
        ctx.note(n)


def write_outputs(res: BorrowedSizeResult, gpkg: str | Path, tables_dir: str | Path | None = None,
                  ) -> list[Path]:
    """Write result layers to a GeoPackage and tables to CSV, atomically.

    Returns the written paths.
    """

    gpkg = Path(gpkg)
    written = []
    with _io.atomic_path(gpkg) as tmp:
        res.zones.to_file(tmp, layer="borrowed_size", driver="GPKG")
        res.catchments.to_file(tmp, layer="catchments", driver="GPKG", mode="a")
    written.append(gpkg)
    folder = Path(tables_dir) if tables_dir else gpkg.parent
    tables = {"borrowed_size_regression": res.regression, "observed_catchment": res.observed,
              "observed_catchment_flows": res.observed_flows, **res.tables}
    for name, t in tables.items():
        if t is None:
            continue
        target = folder / f"{gpkg.stem}_{name}.csv"
        with _io.atomic_path(target) as tmp:
            t.to_csv(tmp, index=False)
        written.append(target)
    return written


__all__ = [
    "BorrowedSizeConfig", "BorrowedSizeResult", "INDICATOR_COUNTS", "ObservedFlows",
    "ShadowRegression", "add_indicator_counts", "analyse", "own_zone_minutes", "assign_points_to_zones", "band_label", "borrowed_size_metrics",
    "compare_catchments", "crowfly_minutes", "distance_matrix_m", "gemeente_table_to_zones", "jobs_to_zones", "make_config",
    "observed_flows_long", "observed_flows_to_zones", "pipeline_step", "population_points",
    "rail_zone_minutes", "read_commute_flows",
    "read_wijk_centroids", "shadow_regression", "wijk_zone_mapping", "write_outputs",
]
