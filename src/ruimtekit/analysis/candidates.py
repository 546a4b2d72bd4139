"""Densification and transformation candidates: a transparent, explainable ranking.

Vacant offices and shops (or any vacancy objects) are scored on a weighted sum of
criteria, each normalised to 0–1 and kept as its own ``crit_<name>`` column next to the
raw values it came from, so every rank can be traced back and every ``reason`` text is
generated from the same columns. See ``docs/candidates.md`` for the full method.

Criteria (defaults; direction: higher criterion = better candidate)
-------------------------------------------------------------------
``transit_access``, ``bike_access`` (and any other ``<name>_access`` given in
``access_columns``)
    The zone's job accessibility (an accessibility-result column such as
    ``jobs_45min_transit`` or ``establishments_proxy_45min_transit``), as the
    **percentile rank among zones**: ``(r − 1) / (n − 1)`` with average ranks ``r`` over the
    ``n`` zones that have a value (0 = lowest, 1 = highest; 0.5 when ``n = 1``).
``station``
    Distance decay to the best station, by station type: ``peak`` within ``full_m``,
    falling linearly to 0 at ``zero_m``; the maximum over all stations. Defaults: intercity
    1.0 / 800 m / 1,200 m, sprinter 0.8 / 600 m / 1,000 m, metro 0.8 / 600 m / 1,000 m,
    tram 0.4 / 300 m / 500 m; bus, ferry and other count 0. Absolute scale (not a
    percentile), closer is better.
``underuse``
    ``clip(access_pct − density_pct, 0, 1)``: how far the zone's density percentile
    (``address_density``, OAD) lies below the mean of its accessibility percentiles. A
    zone is *under-used* when the gap is at least ``underuse_gap`` (0.25).
``structural``
    1 when structurally vacant (``vacant_since`` + ``structural_years`` calendar years ≤
    ``as_of``; 29 February + 1 year = 28 February), otherwise the elapsed fraction of that
    period (days elapsed / days until the anniversary). Longer vacancy is better.
``floor_area``
    Percentile rank of ``floor_area_m2`` among the scored candidates; larger is better.

``score = Σ w_c · crit_c / Σ w_c`` over the available criteria (0–1). Ranks sort by score,
then the criteria (largest weight first), then ``object_id``, so a candidate that is at
least as good on every criterion never ranks below one it dominates.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, field_validator, model_validator

from ruimtekit import CRS, _io, _layerpath, defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.io import places, synthetic

log = logging.getLogger(__name__)

VACANCY_FUNCTIONS = ("kantoor", "winkel", "bedrijf", "overig")
FUNCTION_LABELS = {"kantoor": "office", "winkel": "shop", "bedrijf": "business premises",
                   "overig": "other building"}
STATION_TYPES = ("intercity", "sprinter", "metro", "tram", "bus", "ferry", "other")
FIXED_CRITERIA = ("station", "underuse", "structural", "floor_area")
DEFAULT_WEIGHTS: dict[str, float] = dict(defaults.CANDIDATE_WEIGHTS)
"""Default criterion weights (sum 1). Study weights override these per key."""
ACCESS_MODE_ALIASES: dict[str, tuple[str, ...]] = {
    "transit_access": ("transit", "pt"),
    "bike_access": ("bike", "bicycle", "cycling"),
}
"""Criteria auto-detected from accessibility columns ``{opportunity}_{cutoff}min_{mode}``."""
TOP_BANDS = ((0.9, "top 10%"), (0.75, "top 25%"))
"""Percentile thresholds used in reasons (``pct ≥ 0.9`` → "top 10%")."""
BENCHMARK = (0.6, 0.8)
"""Stedenbaan benchmark: 60–80 % of new housing near HOV stations."""

_MEASURE_RE = re.compile(r"^(?P<opp>.+)_(?P<cut>\d+(?:\.\d+)?)min_(?P<mode>[a-z0-9_]+)$")


# --------------------------------------------------------------------------------------
# Configuration
class StationRadius(Section):
    """Distance decay for one station type.

    Attributes
    ----------
    peak : float
        Criterion value within ``full_m`` (0–1).
    full_m : float
        Radius of the full (``peak``) value, metres.
    zero_m : float
        Distance where the value reaches 0 (linear in between), metres; also the station
        radius used for the "within station radius" share.
    """

    peak: float = Field(defaults.STATION_RADII["intercity"]["peak"], ge=0, le=1)
    full_m: float = Field(defaults.STATION_RADII["intercity"]["full_m"], ge=0)
    zero_m: float = Field(defaults.STATION_RADII["intercity"]["zero_m"], ge=0)

    @model_validator(mode="after")
    def _order(self) -> StationRadius:
        if self.zero_m < self.full_m:
            raise ValueError(f"zero_m ({self.zero_m}) must be ≥ full_m ({self.full_m})")
        return self

    def value(self, distance_m: np.ndarray) -> np.ndarray:
        """Criterion value at ``distance_m`` (metres), vectorised."""
        d = np.asarray(distance_m, dtype=float)
        if self.zero_m == self.full_m:
            return np.where(d <= self.full_m, self.peak, 0.0)
        frac = np.clip((self.zero_m - d) / (self.zero_m - self.full_m), 0.0, 1.0)
        return np.where(d <= self.full_m, self.peak, self.peak * frac)


def _default_radii() -> dict[str, StationRadius]:
    return {kind: StationRadius(**r) for kind, r in defaults.STATION_RADII.items()}


class StabilityConfig(Section):
    """Weight-sensitivity settings.

    Attributes
    ----------
    delta : float
        Relative weight change (0.2 = ±20 %), one criterion at a time and as the
        coefficient of variation of the Dirichlet perturbations.
    n_random : int
        Number of Dirichlet perturbations.
    seed : int
        Seed of the Dirichlet draws.
    """

    delta: float = Field(defaults.STABILITY_DELTA, ge=0, lt=1)
    n_random: int = Field(defaults.STABILITY_DRAWS, ge=0, le=10_000)
    seed: int = 0


class CandidatesConfig(Section):
    """Study-file section ``candidates``.

    Attributes
    ----------
    vacancy : str or None
        Name of the vacancy layer (canonical vacancy columns). Required unless
        ``synthetic`` is true.
    synthetic : bool
        Generate a SYNTHETIC vacancy sample from the zones (``synthetic.vacancy_sample``)
        instead of reading a register. The output is labelled synthetic.
    seed : int
        Seed of the synthetic sample.
    zones : str
        Zones layer name (density, ``wijk_code``, ``gemeente_code``).
    accessibility : list of str
        Accessibility result names (``ctx.results``) joined on ``zone_id``; empty = every
        result with ``zone_id`` and ``*_<n>min_<mode>`` columns.
    access_columns : dict
        Criterion name → accessibility column. Empty = auto: ``transit_access`` and
        ``bike_access`` from the ``*_transit`` / ``*_bike`` columns (``jobs`` preferred
        over other opportunities, the cutoff closest to 45 minutes).
    density_column : str
        Zone density column (default ``address_density``, addresses/km²).
    stations : str or None
        Stations layer name (``station_type``); ``None`` drops the station criterion.
    constraints : list of str
        Polygon layers; candidates intersecting any of them are excluded (with reason).
    weights : dict
        Criterion weights (≥ 0), merged over :data:`DEFAULT_WEIGHTS`.
    radii : dict
        Station type → :class:`StationRadius`, merged over the defaults.
    hov_types : list of str
        Station types counted for "within station radius" (Stedenbaan share).
    structural_years : int
        Calendar years of vacancy that make it structural (3).
    as_of : date or None
        Reference date for vacancy durations; ``None`` = today.
    m2_per_dwelling : float
        Floor area per potential dwelling, m² (75).
    underuse_gap : float
        Percentile gap (accessibility − density) marking an under-used zone (0.25).
    top_n : int
        Size of the top list in the stability report (20).
    benchmark : tuple of float
        Share of potential within station radii to compare with (0.6–0.8, Stedenbaan).
    stability : StabilityConfig
    """

    vacancy: str | None = None
    synthetic: bool = False
    seed: int = 0
    zones: str = "buurten"
    accessibility: list[str] = Field(default_factory=list)
    access_columns: dict[str, str] = Field(default_factory=dict)
    density_column: str = "address_density"
    stations: str | None = None
    constraints: list[str] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict)
    radii: dict[str, StationRadius] = Field(default_factory=dict)
    hov_types: list[str] = Field(default_factory=lambda: list(defaults.HOV_TYPES))
    structural_years: int = Field(defaults.STRUCTURAL_YEARS, ge=1, le=50)
    as_of: dt.date | None = None
    m2_per_dwelling: float = Field(defaults.M2_PER_DWELLING, gt=0)
    underuse_gap: float = Field(defaults.UNDERUSE_GAP, gt=0, le=1)
    top_n: int = Field(defaults.CANDIDATES_TOP_N, ge=1)
    benchmark: tuple[float, float] = BENCHMARK
    stability: StabilityConfig = Field(default_factory=StabilityConfig)

    @field_validator("weights")
    @classmethod
    def _weights_ok(cls, v: dict[str, float]) -> dict[str, float]:
        for k, w in v.items():
            if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
                raise ValueError(f"weight of {k!r} must be a finite number ≥ 0, got {w!r}")
        return v

    @field_validator("radii")
    @classmethod
    def _radii_ok(cls, v: dict[str, StationRadius]) -> dict[str, StationRadius]:
        bad = [k for k in v if k not in STATION_TYPES]
        if bad:
            raise ValueError(f"unknown station types {bad}; use {list(STATION_TYPES)}")
        return v

    @field_validator("hov_types")
    @classmethod
    def _hov_ok(cls, v: list[str]) -> list[str]:
        bad = [k for k in v if k not in STATION_TYPES]
        if bad:
            raise ValueError(f"unknown station types {bad}; use {list(STATION_TYPES)}")
        return v

    @field_validator("access_columns")
    @classmethod
    def _access_names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if k in FIXED_CRITERIA or not re.fullmatch(r"[a-z0-9_]+", k)]
        if bad:
            raise ValueError(f"access criterion names {bad} must be lower-case names other "
                             f"than {list(FIXED_CRITERIA)} (e.g. car_access)")
        return v

    @model_validator(mode="after")
    def _source(self) -> CandidatesConfig:
        if not self.synthetic and not self.vacancy:
            raise ValueError("give `vacancy: <layer name>` or `synthetic: true`")
        lo, hi = self.benchmark
        if not 0 <= lo <= hi <= 1:
            raise ValueError("benchmark must be two shares 0 ≤ low ≤ high ≤ 1")
        return self

    def effective_radii(self) -> dict[str, StationRadius]:
        """Default radii updated with the configured ones."""
        return {**_default_radii(), **self.radii}

    def effective_weights(self, overrides: Mapping[str, float] | None = None
                          ) -> dict[str, float]:
        """Default weights, then the study weights, then ``overrides`` (e.g. CLI)."""
        out = {**DEFAULT_WEIGHTS, **self.weights, **dict(overrides or {})}
        for k, w in out.items():
            if not (math.isfinite(float(w)) and float(w) >= 0):
                raise InputError(None, f"weight of {k!r} is {w!r}", "use a number ≥ 0")
        return {k: float(w) for k, w in out.items()}


def parse_weights(text: str | None) -> dict[str, float]:
    """Parse ``"crit=w,crit=w"`` (CLI ``--weights``) into a dict.

    Raises
    ------
    InputError
        On a malformed pair or a negative/non-numeric weight.
    """
    out: dict[str, float] = {}
    if not text:
        return out
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = float("nan")
        if not sep or not name.strip() or not math.isfinite(w) or w < 0:
            raise InputError(None, f"cannot read weight {part!r}",
                             "write --weights name=value,... with values ≥ 0, e.g. "
                             "--weights station=0.4,transit_access=0.3")
        out[name.strip()] = w
    return out


# --------------------------------------------------------------------------------------
# Helpers
def percentile_rank(values: pd.Series | np.ndarray) -> np.ndarray:
    """Percentile rank in [0, 1]: ``(r − 1) / (n − 1)`` with average ranks over non-NaN.

    NaN stays NaN; ties share a value; a single value (or all equal) gives 0.5.
    Direction: the largest value gets 1.
    """
    s = pd.Series(np.asarray(values, dtype=float))
    n = int(s.notna().sum())
    r = s.rank(method="average").to_numpy()
    if n <= 1:
        return np.where(np.isnan(r), np.nan, 0.5)
    return (r - 1.0) / (n - 1.0)


def is_structural(vacant_since: pd.Series, as_of: dt.date | str | pd.Timestamp,
                  years: int = defaults.STRUCTURAL_YEARS) -> pd.Series:
    """True where ``vacant_since + years`` calendar years is on or before ``as_of``.

    Example: vacant since 2021-05-01 is structural as of 2024-05-01, not on 2024-04-30.
    29 February plus a year is 28 February (pandas ``DateOffset`` rule).
    """
    ref = pd.Timestamp(as_of).normalize()
    since = pd.to_datetime(pd.Series(vacant_since)).dt.normalize()
    return (since + pd.DateOffset(years=years)) <= ref


def _structural_fraction(since: pd.Series, ref: pd.Timestamp, years: int
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    since = pd.to_datetime(since).dt.normalize()
    anniversary = since + pd.DateOffset(years=years)
    elapsed = (ref - since).dt.days.to_numpy(dtype=float)
    period = (anniversary - since).dt.days.to_numpy(dtype=float)
    structural = (anniversary <= ref).to_numpy()
    frac = np.where(structural, 1.0, np.clip(elapsed / period, 0.0, 1.0))
    return structural, frac, elapsed / 365.2425


def _ids_preview(ids: Sequence[Any], n: int = 10) -> str:
    ids = [str(i) for i in ids]
    more = f" (+{len(ids) - n} more)" if len(ids) > n else ""
    return ", ".join(ids[:n]) + more


def check_vacancy(vacancy: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate a canonical vacancy layer; return a copy with clean dtypes.

    Raises
    ------
    InputError
        Missing columns, duplicate ``object_id``, unknown ``function``, missing or
        non-positive ``floor_area_m2`` or missing ``vacant_since`` (ids listed).
    """
    places.check_crs(vacancy, "vacancy")
    need = ["object_id", "function", "floor_area_m2", "vacant_since"]
    missing = [c for c in need if c not in vacancy.columns]
    if missing:
        raise InputError(None, f"the vacancy layer lacks columns {missing}",
                         "read it with ruimtekit.io.layers.read_vacancy (canonical columns)")
    v = vacancy.copy()
    v["object_id"] = v["object_id"].astype(str)
    dup = v["object_id"][v["object_id"].duplicated()].unique()
    if len(dup):
        raise InputError(None, f"duplicate object_id values: {_ids_preview(dup)}",
                         "give every vacancy object a unique id")
    fun = v["function"].astype(str)
    bad = v.loc[~fun.isin(VACANCY_FUNCTIONS), "object_id"]
    if len(bad):
        raise InputError(None, f"unknown function values for {_ids_preview(bad)}",
                         f"use one of {list(VACANCY_FUNCTIONS)}")
    v["function"] = fun
    area = pd.to_numeric(v["floor_area_m2"], errors="coerce")
    bad = v.loc[~(area > 0), "object_id"]
    if len(bad):
        raise InputError(None, f"missing or non-positive floor_area_m2 for {_ids_preview(bad)}",
                         "fill the floor area in m² or drop these objects")
    v["floor_area_m2"] = area.astype(float)
    since = pd.to_datetime(v["vacant_since"], errors="coerce")
    bad = v.loc[since.isna(), "object_id"]
    if len(bad):
        raise InputError(None, f"missing or unreadable vacant_since for {_ids_preview(bad)}",
                         "fill the date (YYYY-MM-DD) vacancy started or drop these objects")
    v["vacant_since"] = since
    if "synthetic" not in v.columns:
        v["synthetic"] = False
    v["synthetic"] = v["synthetic"].fillna(False).astype(bool)
    return v


def _choose_access_column(columns: Sequence[str], modes: Sequence[str]) -> str | None:
    best: tuple[int, float, str] | None = None
    for c in columns:
        m = _MEASURE_RE.match(c)
        if not m or m["mode"] not in modes:
            continue
        opp_rank = 0 if m["opp"] == "jobs" else 1
        key = (opp_rank, abs(float(m["cut"]) - defaults.CUTOFF_MIN), c)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def access_table(accessibility: pd.DataFrame | Sequence[pd.DataFrame] | None,
                 access_columns: Mapping[str, str] | None = None
                 ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Join accessibility results on ``zone_id`` and pick one column per access criterion.

    Parameters
    ----------
    accessibility : DataFrame or sequence of DataFrame or None
        Accessibility results (one row per zone, ``zone_id`` plus measure columns).
    access_columns : mapping, optional
        Criterion → column. Empty: auto-detect ``transit_access`` / ``bike_access``.

    Returns
    -------
    (DataFrame, dict)
        ``zone_id`` plus the chosen columns; the criterion → column mapping used.

    Raises
    ------
    InputError
        A configured column is absent, or a result lacks ``zone_id`` or has duplicate ids.
    """
    if accessibility is None:
        frames: list[pd.DataFrame] = []
    elif isinstance(accessibility, pd.DataFrame):
        frames = [accessibility]
    else:
        frames = list(accessibility)
    for f in frames:
        if "zone_id" not in f.columns:
            raise InputError(None, "an accessibility result has no zone_id column",
                             "pass results of ruimtekit.analysis.accessibility (one row per zone)")
        if f["zone_id"].duplicated().any():
            raise InputError(None, "an accessibility result has duplicate zone_id values",
                             "pass one row per zone")
    all_cols = [c for f in frames for c in f.columns if c not in ("zone_id", "geometry")]
    if access_columns:
        chosen = dict(access_columns)
        missing = {k: c for k, c in chosen.items() if c not in all_cols}
        if missing:
            raise InputError(None, f"accessibility columns not found: {missing}",
                             f"choose from {_ids_preview(sorted(set(all_cols)), 30)}")
    else:
        chosen = {}
        for crit, modes in ACCESS_MODE_ALIASES.items():
            col = _choose_access_column(all_cols, modes)
            if col is not None:
                chosen[crit] = col
    table = pd.DataFrame({"zone_id": pd.Series(dtype=str)})
    for crit, col in chosen.items():
        src = next(f for f in frames if col in f.columns)
        part = pd.DataFrame({"zone_id": src["zone_id"].astype(str),
                             col: pd.to_numeric(src[col], errors="coerce").to_numpy()})
        if col in table.columns:
            continue
        table = table.merge(part, on="zone_id", how="outer")
        log.info("candidates: criterion %s uses accessibility column %s", crit, col)
    return table, chosen


def zone_table(zones: gpd.GeoDataFrame, access: pd.DataFrame, chosen: Mapping[str, str],
               density_column: str = "address_density") -> pd.DataFrame:
    """Zone-level percentiles: accessibility, density and the under-use gap.

    Returns
    -------
    DataFrame
        Indexed by ``zone_id``: ``zone_density`` (raw), ``zone_density_pct``,
        ``<col>`` and ``<col>_pct`` per access column, ``zone_access_pct`` (mean of the
        access percentiles) and ``underuse_gap`` (``zone_access_pct − zone_density_pct``).
        Percentiles are over the zones that have a value.
    """
    z = pd.DataFrame({"zone_id": zones["zone_id"].astype(str).to_numpy()})
    if density_column in zones.columns:
        dens = pd.to_numeric(zones[density_column], errors="coerce").to_numpy(dtype=float)
    elif {"dwellings", "area_ha"} <= set(zones.columns):
        dens = (pd.to_numeric(zones["dwellings"], errors="coerce")
                / pd.to_numeric(zones["area_ha"], errors="coerce")).to_numpy(dtype=float)
        log.info("candidates: zones have no %s; density = dwellings / area_ha", density_column)
    else:
        dens = np.full(len(z), np.nan)
    z["zone_density"] = dens
    z["zone_density_pct"] = percentile_rank(dens)
    z = z.merge(access, on="zone_id", how="left")
    pct_cols = []
    for col in dict.fromkeys(chosen.values()):
        z[f"{col}_pct"] = percentile_rank(z[col].to_numpy(dtype=float))
        pct_cols.append(f"{col}_pct")
    if pct_cols:
        z["zone_access_pct"] = z[pct_cols].mean(axis=1, skipna=False)
        z["underuse_gap"] = z["zone_access_pct"] - z["zone_density_pct"]
    else:
        z["zone_access_pct"] = np.nan
        z["underuse_gap"] = np.nan
    return z.set_index("zone_id")


# --------------------------------------------------------------------------------------
# Scoring
@dataclass
class CandidateResult:
    """Output of :func:`score_candidates`.

    Attributes
    ----------
    candidates : GeoDataFrame
        Ranked candidates (``rank`` 1 = best): vacancy columns, ``zone_id``, raw values,
        ``crit_<name>`` (0–1), ``score`` (0–1), ``rank``, ``reason``.
    excluded : GeoDataFrame
        Vacancy objects not ranked, with ``exclusion_reason``.
    criteria : DataFrame
        One row per criterion: ``criterion``, ``weight``, ``raw_column``, ``method``,
        ``direction``, ``active``.
    zones : DataFrame
        Zone table of :func:`zone_table` (indexed by ``zone_id``).
    weights : dict
        Weights of the active criteria (as given, not renormalised).
    as_of : pandas.Timestamp
    params : dict
        Settings used (radii, structural years, thresholds).
    """

    candidates: gpd.GeoDataFrame
    excluded: gpd.GeoDataFrame
    criteria: pd.DataFrame
    zones: pd.DataFrame
    weights: dict[str, float]
    as_of: pd.Timestamp
    params: dict[str, Any] = field(default_factory=dict)


def rank_order(crit: pd.DataFrame, weights: Mapping[str, float], object_ids: pd.Series
               ) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ranks from criterion columns and weights.

    ``score = Σ w_c · crit_<c> / Σ w_c`` (accumulated column by column, so the arithmetic
    is identical for every row and monotone in each criterion). Ties break on the
    criteria (largest weight first, then name), then on ``object_id``.

    Returns
    -------
    (ndarray, ndarray)
        Scores (float64) and ranks (int64, 1 = best) in the input row order.
    """
    names = [c for c in weights]
    total = float(sum(weights[c] for c in names))
    if total <= 0:
        raise InputError(None, "all active criterion weights are 0",
                         "give at least one criterion a weight > 0")
    score = np.zeros(len(crit))
    for c in names:
        score = score + weights[c] * crit[f"crit_{c}"].to_numpy(dtype=float)
    score = score / total
    order_names = sorted(names, key=lambda c: (-weights[c], c))
    keys: list[np.ndarray] = [np.asarray(object_ids.astype(str).to_numpy())]
    for c in reversed(order_names):
        keys.append(-crit[f"crit_{c}"].to_numpy(dtype=float))
    keys.append(-score)
    order = np.lexsort(keys)
    ranks = np.empty(len(crit), dtype=np.int64)
    ranks[order] = np.arange(1, len(crit) + 1)
    return score, ranks


def _station_values(geoms: gpd.GeoSeries, stations: gpd.GeoDataFrame,
                    radii: Mapping[str, StationRadius], hov_types: Sequence[str]
                    ) -> pd.DataFrame:
    n = len(geoms)
    best = np.zeros(n)
    dist = np.full(n, np.nan)
    name = np.full(n, None, dtype=object)
    stype = np.full(n, None, dtype=object)
    within = np.zeros(n, dtype=bool)
    garr = geoms.to_numpy()
    pairs = []
    for t, rad in radii.items():
        st = stations[stations["station_type"] == t]
        if st.empty or rad.zero_m <= 0:
            continue
        ci, si = st.sindex.query(garr, predicate="dwithin", distance=rad.zero_m)
        if len(ci) == 0:
            continue
        d = shapely.distance(garr[ci], st.geometry.to_numpy()[si])
        if t in hov_types:
            within[ci[d <= rad.zero_m]] = True
        pairs.append(pd.DataFrame({"i": ci, "val": rad.value(d), "d": d, "t": t,
                                   "name": st["station_name"].astype(str).to_numpy()[si]}))
    if pairs:
        p = pd.concat(pairs, ignore_index=True)
        p = p[p["val"] > 0].sort_values(["i", "val", "d", "name"],
                                        ascending=[True, False, True, True], kind="stable")
        p = p.drop_duplicates("i")
        i = p["i"].to_numpy()
        best[i], dist[i] = p["val"].to_numpy(), p["d"].to_numpy()
        name[i], stype[i] = p["name"].to_numpy(), p["t"].to_numpy()
    # candidates without any scoring station: report the nearest HOV (or any) station
    todo = np.flatnonzero(np.isnan(dist))
    if len(todo):
        pool = stations[stations["station_type"].isin(hov_types)]
        if pool.empty:
            pool = stations
        qi, pj = pool.sindex.nearest(garr[todo], return_all=False)
        d = shapely.distance(garr[todo][qi], pool.geometry.to_numpy()[pj])
        dist[todo[qi]] = d
        name[todo[qi]] = pool["station_name"].astype(str).to_numpy()[pj]
        stype[todo[qi]] = pool["station_type"].astype(str).to_numpy()[pj]
    return pd.DataFrame({"station_distance_m": dist, "station_name": name,
                         "station_type": stype, "within_station_radius": within,
                         "crit_station": best}, index=geoms.index)


def _assign_zones(geoms: gpd.GeoSeries, zones: gpd.GeoDataFrame) -> pd.Series:
    """Zone of each geometry's representative point (first zone in ``zone_id`` order)."""
    pts = gpd.GeoSeries(geoms.representative_point(), crs=geoms.crs)
    z = zones[["zone_id", "geometry"]].copy()
    z["zone_id"] = z["zone_id"].astype(str)
    z = z.sort_values("zone_id", kind="stable").reset_index(drop=True)
    qi, zi = z.sindex.query(pts.to_numpy(), predicate="intersects")
    out = pd.Series(np.full(len(geoms), None, dtype=object), index=geoms.index)
    if len(qi):
        pairs = pd.DataFrame({"q": qi, "z": zi}).sort_values(["q", "z"]).drop_duplicates("q")
        out.iloc[pairs["q"].to_numpy()] = z["zone_id"].to_numpy()[pairs["z"].to_numpy()]
    return out


def score_candidates(
    vacancy: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    accessibility: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    stations: gpd.GeoDataFrame | None = None,
    constraints: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    config: CandidatesConfig | None = None,
    weights: Mapping[str, float] | None = None,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> CandidateResult:
    """Score and rank vacancy objects as transformation / densification candidates.

    Parameters
    ----------
    vacancy : GeoDataFrame
        Canonical vacancy layer (points or building polygons, EPSG:28992).
    zones : GeoDataFrame
        Canonical zones (EPSG:28992) with ``zone_id`` and a density column.
    accessibility : DataFrame or sequence of DataFrame, optional
        Accessibility results joined on ``zone_id`` (any modes).
    stations : GeoDataFrame, optional
        Canonical stations with ``station_type`` and ``station_name``.
    constraints : mapping of str to GeoDataFrame, optional
        Named polygon layers; candidates intersecting them are excluded.
    config : CandidatesConfig, optional
        Settings (radii, structural years, ...). ``vacancy``/``synthetic`` are ignored.
    weights : mapping, optional
        Weight overrides on top of the config weights.
    as_of : date, optional
        Reference date for vacancy duration; default ``config.as_of`` or today.

    Returns
    -------
    CandidateResult

    Raises
    ------
    InputError
        Invalid layers, vacancy dates after ``as_of`` (ids listed), weights for unknown
        criteria, or no active criterion with a weight > 0.
    """
    cfg = config or CandidatesConfig(synthetic=True)
    wts = cfg.effective_weights(weights)
    ref = pd.Timestamp(as_of if as_of is not None else (cfg.as_of or dt.date.today()))
    ref = ref.normalize()
    radii = cfg.effective_radii()
    v = check_vacancy(vacancy)
    places.check_crs(zones, "zones")
    if "zone_id" not in zones.columns:
        raise InputError(None, "the zones layer has no zone_id column",
                         "read it with ruimtekit.io.layers.read_zones")
    zdup = zones["zone_id"][zones["zone_id"].duplicated()]
    if len(zdup):
        raise InputError(None, f"duplicate zone_id values in the zones: {_ids_preview(zdup)}",
                         "give every zone a unique zone_id")
    future = v.loc[v["vacant_since"].dt.normalize() > ref, "object_id"]
    if len(future):
        raise InputError(None, f"vacant_since lies after as_of {ref.date()} for "
                         f"{_ids_preview(future)}",
                         "set as_of to the register date or correct these dates")

    access, chosen = access_table(accessibility, cfg.access_columns)
    if chosen and not access["zone_id"].isin(zones["zone_id"].astype(str)).any():
        raise InputError(None, "no accessibility zone_id matches a zone_id of the zones "
                         f"(e.g. {_ids_preview(access['zone_id'].head(3))} vs "
                         f"{_ids_preview(zones['zone_id'].astype(str).head(3))})",
                         "compute accessibility for the same zones (same level and year)")
    ztab = zone_table(zones, access, chosen, cfg.density_column)
    known = set(FIXED_CRITERIA) | set(chosen) | set(ACCESS_MODE_ALIASES) | set(cfg.access_columns)
    unknown = sorted(set(wts) - known)
    if unknown:
        import difflib

        hints = [f"{u} (did you mean {difflib.get_close_matches(u, sorted(known), 1)})"
                 for u in unknown]
        raise InputError(None, f"weights for unknown criteria: {', '.join(hints)}",
                         f"use criteria from {sorted(known)}")

    # active criteria ---------------------------------------------------------------
    inactive: dict[str, str] = {}
    for crit in ACCESS_MODE_ALIASES:
        if crit not in chosen:
            inactive[crit] = "no matching accessibility column"
    has_stations = stations is not None and len(stations) > 0
    if has_stations:
        places.check_crs(stations, "stations")
        for col in ("station_type", "station_name"):
            if col not in stations.columns:
                raise InputError(None, f"the stations layer lacks {col}",
                                 "read it with ruimtekit.io.layers.read_stations")
    else:
        inactive["station"] = "no stations layer"
    if not chosen:
        inactive["underuse"] = "no accessibility columns"
    elif ztab["zone_density"].isna().all():
        inactive["underuse"] = f"zones have no {cfg.density_column} (or dwellings/area_ha)"
    active = [c for c in list(chosen) + list(FIXED_CRITERIA) if c not in inactive]
    for c, why in inactive.items():
        log.info("candidates: criterion %s inactive (%s)", c, why)

    # exclusions --------------------------------------------------------------------
    reasons: dict[int, list[str]] = {}

    def exclude(mask: np.ndarray, text: str | np.ndarray) -> None:
        for k in np.flatnonzero(mask):
            t = text if isinstance(text, str) else str(text[k])
            reasons.setdefault(int(k), []).append(t)

    v = v.reset_index(drop=True)
    empty = (v.geometry.isna() | v.geometry.is_empty).to_numpy()
    exclude(empty, "empty geometry")
    geoms = v.geometry.copy()
    geoms[empty] = shapely.Point(0, 0)
    for cname, layer in (constraints or {}).items():
        places.check_crs(layer, f"constraint '{cname}'")
        poly = layer[layer.geometry.notna() & ~layer.geometry.is_empty]
        if len(poly) and not poly.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            raise InputError(None, f"constraint layer '{cname}' is not a polygon layer",
                             "pass polygons (e.g. Natura 2000 areas, noise zones)")
        if poly.empty:
            continue
        ci, _ = poly.sindex.query(geoms.to_numpy(), predicate="intersects")
        hit = np.zeros(len(v), dtype=bool)
        hit[ci] = True
        exclude(hit & ~empty, f"inside constraint '{cname}'")
    zid = _assign_zones(geoms, zones)
    zid[empty] = None
    exclude(zid.isna().to_numpy() & ~empty, "outside the zones layer")
    v["zone_id"] = zid.to_numpy()
    zrows = ztab.reindex(v["zone_id"].fillna("").to_numpy())
    needed_zone_cols = [c for c in dict.fromkeys(chosen[c] for c in active if c in chosen)]
    if "underuse" in active:
        needed_zone_cols.append("zone_density")
    for col in needed_zone_cols:
        miss = zrows[col].isna().to_numpy() & zid.notna().to_numpy()
        exclude(miss, np.array([f"zone {z} has no {col}" for z in v["zone_id"]], dtype=object))

    # raw values and criteria ----------------------------------------------------------
    structural, frac, years = _structural_fraction(v["vacant_since"], ref, cfg.structural_years)
    v["vacant_years"] = years
    v["structural"] = structural
    v["crit_structural"] = frac
    for crit in chosen:
        if crit in active:
            col = chosen[crit]
            v[col] = zrows[col].to_numpy()
            v[f"crit_{crit}"] = zrows[f"{col}_pct"].to_numpy()
    v["zone_density"] = zrows["zone_density"].to_numpy()
    v["zone_density_pct"] = zrows["zone_density_pct"].to_numpy()
    v["zone_access_pct"] = zrows["zone_access_pct"].to_numpy()
    v["underuse_gap"] = zrows["underuse_gap"].to_numpy()
    v["underused_zone"] = (v["underuse_gap"] >= cfg.underuse_gap).to_numpy()
    if "underuse" in active:
        v["crit_underuse"] = np.clip(v["underuse_gap"].to_numpy(dtype=float), 0.0, 1.0)
    if has_stations:
        st = _station_values(geoms, stations, radii, cfg.hov_types)
        for c in st.columns:
            v[c] = st[c].to_numpy()
    else:
        v["within_station_radius"] = False

    excl_mask = np.zeros(len(v), dtype=bool)
    excl_mask[list(reasons)] = True
    excluded = v[excl_mask].copy()
    excluded["exclusion_reason"] = ["; ".join(reasons[k]) for k in np.flatnonzero(excl_mask)]
    cand = v[~excl_mask].copy()
    cand["crit_floor_area"] = percentile_rank(cand["floor_area_m2"].to_numpy(dtype=float))

    act_w = {c: wts.get(c, 0.0) for c in active}
    if cand.empty:
        cand["score"] = pd.Series(dtype=float)
        cand["rank"] = pd.Series(dtype="int64")
    else:
        score, ranks = rank_order(cand, act_w, cand["object_id"])
        cand["score"] = score
        cand["rank"] = ranks
    cand = cand.sort_values("rank").reset_index(drop=True)
    cand["reason"] = [build_reason(row, chosen, active, radii, cfg.underuse_gap)
                      for row in cand.to_dict("records")]
    crit_rows = []
    for c in list(ACCESS_MODE_ALIASES) + [k for k in chosen if k not in ACCESS_MODE_ALIASES] \
            + list(FIXED_CRITERIA):
        crit_rows.append({
            "criterion": c,
            "weight": wts.get(c, 0.0),
            "active": c in active,
            "raw_column": _RAW.get(c, chosen.get(c, "")),
            "method": _METHOD.get(c, "percentile rank among zones (0 = lowest, 1 = highest)"),
            "direction": _DIRECTION.get(c, "higher accessibility is better"),
            "note": inactive.get(c, ""),
        })
    criteria = pd.DataFrame(crit_rows).drop_duplicates("criterion")
    return CandidateResult(
        candidates=gpd.GeoDataFrame(cand, geometry="geometry", crs=CRS),
        excluded=gpd.GeoDataFrame(excluded.reset_index(drop=True), geometry="geometry", crs=CRS),
        criteria=criteria, zones=ztab, weights=act_w, as_of=ref,
        params={"radii": {k: r.model_dump() for k, r in radii.items()},
                "structural_years": cfg.structural_years, "underuse_gap": cfg.underuse_gap,
                "access_columns": dict(chosen), "hov_types": list(cfg.hov_types)},
    )


_RAW = {"station": "station_distance_m", "underuse": "underuse_gap",
        "structural": "vacant_years", "floor_area": "floor_area_m2"}
_METHOD = {
    "station": "distance decay by station type (peak within full_m, linear to 0 at zero_m)",
    "underuse": "clip(zone_access_pct - zone_density_pct, 0, 1)",
    "structural": "1 if structural, else elapsed share of the structural period",
    "floor_area": "percentile rank among candidates (0 = smallest, 1 = largest)",
}
_DIRECTION = {"station": "closer is better", "underuse": "larger gap is better",
              "structural": "longer vacancy is better", "floor_area": "larger is better"}


# --------------------------------------------------------------------------------------
# Reasons
def round_distance(d: float) -> int:
    """Distance as written in reasons: rounded to the nearest 10 m."""
    return int(round(d / 10.0) * 10)


def access_phrase(pct: float, label: str) -> str:
    """``"top 10% <label>"`` (pct ≥ 0.9), ``"top 25% <label>"`` (≥ 0.75), else
    ``"<label> percentile <floor(100·pct)>"``."""
    for threshold, text in TOP_BANDS:
        if pct >= threshold:
            return f"{text} {label}"
    return f"{label} percentile {int(math.floor(pct * 100))}"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def build_reason(row: Mapping[str, Any], chosen: Mapping[str, str], active: Sequence[str],
                 radii: Mapping[str, StationRadius], underuse_gap: float) -> str:
    """Human-readable reason generated from a candidate's columns.

    Parts: vacancy status and function (``structurally vacant office (since YYYY-MM-DD,
    4.2 years)``), floor area (``3,200 m²``), station (``450 m from an intercity station
    (Amsterdam Zuid)`` when the station criterion is > 0, else ``nearest rail/metro station
    1,850 m (Name)``), one phrase per access criterion (:func:`access_phrase`) and, for
    under-used zones, ``under-used zone (density percentile 20 < accessibility percentile
    85)``.
    """
    label = FUNCTION_LABELS.get(row["function"], row["function"])
    since = pd.Timestamp(row["vacant_since"]).date().isoformat()
    status = "structurally vacant" if row["structural"] else "vacant"
    parts = [f"{status} {label} (since {since}, {row['vacant_years']:.1f} years)",
             f"{row['floor_area_m2']:,.0f} m²"]
    if "station" in active and row.get("station_name") is not None \
            and not pd.isna(row.get("station_distance_m")):
        d = round_distance(row["station_distance_m"])
        t = str(row["station_type"])
        if row["crit_station"] > 0:
            parts.append(f"{d:,} m from {_article(t)} {t} station ({row['station_name']})")
        else:
            parts.append(f"nearest rail/metro station {d:,} m ({row['station_name']})")
    for crit in chosen:
        if crit in active:
            name = crit[:-7] if crit.endswith("_access") else crit
            parts.append(access_phrase(float(row[f"crit_{crit}"]), f"{name} accessibility"))
    if "underuse" in active and row["underuse_gap"] >= underuse_gap:
        parts.append(
            f"under-used zone (density percentile {int(math.floor(row['zone_density_pct'] * 100))}"
            f" < accessibility percentile {int(math.floor(row['zone_access_pct'] * 100))})")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------
# Densification potential and summaries
def _zone_codes(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    z = pd.DataFrame({"zone_id": zones["zone_id"].astype(str).to_numpy()})
    bu = z["zone_id"].str.fullmatch(r"BU\d{8}")
    for col, make in (("wijk_code", lambda s: "WK" + s.str[2:8]),
                      ("gemeente_code", lambda s: "GM" + s.str[2:6])):
        if col in zones.columns:
            z[col] = zones[col].astype("string").to_numpy()
        else:
            z[col] = pd.Series(pd.NA, index=z.index, dtype="string")
        derived = make(z["zone_id"]).where(bu)
        z[col] = z[col].fillna(derived)
    return z


def densification_zones(result: CandidateResult, zones: gpd.GeoDataFrame,
                        m2_per_dwelling: float = defaults.M2_PER_DWELLING,
                        underuse_gap: float = defaults.UNDERUSE_GAP) -> gpd.GeoDataFrame:
    """Densification potential per zone.

    Potential dwellings = Σ vacant floor area of the (non-excluded) candidates in the zone
    / ``m2_per_dwelling`` (m², default 75), not rounded (an expected number of units).

    Returns
    -------
    GeoDataFrame
        One row per zone (zone polygons): ``zone_id``, ``zone_name``, ``wijk_code``,
        ``gemeente_code``, ``dwellings`` (existing), ``n_candidates``,
        ``vacant_floor_area_m2``, ``structural_floor_area_m2``, ``potential_dwellings``,
        ``potential_dwellings_structural``, ``potential_dwellings_station`` (candidates
        within an HOV station radius), ``excluded_floor_area_m2``, ``zone_density``,
        ``zone_density_pct``, ``zone_access_pct``, ``underuse_gap``, ``underused``.
    """
    if m2_per_dwelling <= 0:
        raise InputError(None, f"m2_per_dwelling is {m2_per_dwelling}", "use a value > 0 m²")
    c = result.candidates
    g = pd.DataFrame({
        "zone_id": c["zone_id"].astype(str),
        "a": c["floor_area_m2"].astype(float),
        "s": np.where(c["structural"].astype(bool), c["floor_area_m2"], 0.0),
        "st": np.where(c["within_station_radius"].astype(bool), c["floor_area_m2"], 0.0),
    }).groupby("zone_id").agg(n_candidates=("a", "size"), vacant_floor_area_m2=("a", "sum"),
                              structural_floor_area_m2=("s", "sum"), station_m2=("st", "sum"))
    ex = result.excluded
    exa = (ex.dropna(subset=["zone_id"]).groupby("zone_id")["floor_area_m2"].sum()
           if len(ex) else pd.Series(dtype=float))
    out = _zone_codes(zones)
    out["zone_name"] = zones["zone_name"].to_numpy() if "zone_name" in zones.columns else None
    out["dwellings"] = (pd.to_numeric(zones["dwellings"], errors="coerce").to_numpy()
                        if "dwellings" in zones.columns else np.nan)
    out = out.merge(g, left_on="zone_id", right_index=True, how="left")
    out["n_candidates"] = out["n_candidates"].fillna(0).astype("int64")
    for col in ("vacant_floor_area_m2", "structural_floor_area_m2", "station_m2"):
        out[col] = out[col].fillna(0.0)
    out["potential_dwellings"] = out["vacant_floor_area_m2"] / m2_per_dwelling
    out["potential_dwellings_structural"] = out["structural_floor_area_m2"] / m2_per_dwelling
    out["potential_dwellings_station"] = out["station_m2"] / m2_per_dwelling
    out = out.drop(columns="station_m2")
    out["excluded_floor_area_m2"] = out["zone_id"].map(exa).fillna(0.0).to_numpy()
    zt = result.zones
    for col in ("zone_density", "zone_density_pct", "zone_access_pct", "underuse_gap"):
        out[col] = out["zone_id"].map(zt[col]).to_numpy(dtype=float)
    out["underused"] = (out["underuse_gap"] >= underuse_gap).to_numpy()
    return gpd.GeoDataFrame(out, geometry=zones.geometry.to_numpy(), crs=CRS)


def summarise_potential(dens: gpd.GeoDataFrame, level: str = "wijk",
                        benchmark: tuple[float, float] = BENCHMARK) -> gpd.GeoDataFrame:
    """Densification potential per wijk or gemeente with the Stedenbaan comparison.

    ``share_station = potential_dwellings_station / potential_dwellings`` (NaN when there
    is no potential); ``benchmark_status`` is ``below``/``within``/``above`` the
    ``benchmark`` range (default 60–80 %) or ``no potential``.

    Raises
    ------
    InputError
        When the zones carry no code for ``level`` (no ``wijk_code``/``gemeente_code`` and
        ``zone_id`` is not a CBS buurt code).
    """
    if level not in ("wijk", "gemeente"):
        raise InputError(None, f"unknown summary level {level!r}", "use 'wijk' or 'gemeente'")
    col = f"{level}_code"
    if dens[col].isna().all():
        raise InputError(None, f"the zones have no {col}",
                         f"add {col} to the zones (CBS buurt codes give it automatically)")
    d = dens[dens[col].notna()].copy()
    d[col] = d[col].astype(str)
    agg = d.dissolve(by=col, aggfunc={
        "zone_id": "size", "n_candidates": "sum", "vacant_floor_area_m2": "sum",
        "structural_floor_area_m2": "sum", "potential_dwellings": "sum",
        "potential_dwellings_structural": "sum", "potential_dwellings_station": "sum",
        "underused": "sum",
    }).rename(columns={"zone_id": "n_zones", "underused": "n_underused_zones"}).reset_index()
    pot = agg["potential_dwellings"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(pot > 0, agg["potential_dwellings_station"].to_numpy() / pot, np.nan)
    agg["share_station"] = share
    lo, hi = benchmark
    agg["benchmark_low"], agg["benchmark_high"] = lo, hi
    agg["benchmark_status"] = np.select(
        [~(pot > 0), share < lo, share > hi], ["no potential", "below", "above"], "within")
    agg["n_underused_zones"] = agg["n_underused_zones"].astype("int64")
    return gpd.GeoDataFrame(agg, geometry="geometry", crs=CRS)


# --------------------------------------------------------------------------------------
# Stability
@dataclass
class StabilityReport:
    """Rank stability under weight perturbations.

    Attributes
    ----------
    scenarios : DataFrame
        One row per scenario: ``scenario``, ``kind`` (``base``, ``one_at_a_time``,
        ``dirichlet``), ``w_<crit>`` (normalised weights), ``spearman`` (rank correlation
        with the base ranking), ``top_n_unchanged`` (share of the base top-N still in the
        top-N), ``max_rank_move``, ``mean_abs_rank_move``.
    per_candidate : DataFrame
        ``object_id``, ``rank``, ``rank_best``, ``rank_worst``, ``rank_max_move`` over all
        scenarios.
    """

    scenarios: pd.DataFrame
    per_candidate: pd.DataFrame


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    n = len(a)
    if n < 2:
        return 1.0
    d = a.astype(float) - b.astype(float)
    return float(1.0 - 6.0 * np.sum(d * d) / (n * (n * n - 1.0)))


def stability_report(candidates: pd.DataFrame, weights: Mapping[str, float], *,
                     top_n: int = defaults.CANDIDATES_TOP_N,
                     delta: float = defaults.STABILITY_DELTA,
                     n_random: int = defaults.STABILITY_DRAWS,
                     seed: int = 0) -> StabilityReport:
    """Ranks under ±``delta`` changes of each weight and Dirichlet perturbations.

    One at a time: each weight ``w_c > 0`` times ``1 + delta`` and ``1 − delta``.
    Random: ``n_random`` draws from ``Dirichlet(κ · w / Σw)`` with
    ``κ = (k − 1) / delta² − 1`` (k = criteria with weight > 0), so a weight of ``1/k``
    varies with a coefficient of variation ``delta``; the generator is
    ``numpy.random.default_rng(seed)``. Ranks are unique, so Spearman's
    ``ρ = 1 − 6 Σ d² / (n (n² − 1))``.

    Parameters
    ----------
    candidates : DataFrame
        Scored candidates with ``object_id``, ``rank`` and ``crit_<name>`` columns.
    weights : mapping
        The base weights of the active criteria.
    top_n, delta, n_random, seed
        See :class:`StabilityConfig`.
    """
    names = list(weights)
    base_w = np.array([weights[c] for c in names], dtype=float)
    ids = candidates["object_id"]
    _, base = rank_order(candidates, weights, ids)
    n = len(base)
    top = min(top_n, n)
    scen: list[tuple[str, str, np.ndarray]] = [("base", "base", base_w)]
    for i, c in enumerate(names):
        if base_w[i] <= 0:
            continue
        for sign, tag in ((1, "+"), (-1, "-")):
            w = base_w.copy()
            w[i] *= 1 + sign * delta
            scen.append((f"{c}{tag}{delta:.0%}", "one_at_a_time", w))
    pos = base_w > 0
    k = int(pos.sum())
    if n_random and k >= 2 and delta > 0:
        kappa = max((k - 1) / delta**2 - 1.0, 1e-6)
        alpha = kappa * base_w[pos] / base_w[pos].sum()
        rng = np.random.default_rng(seed)
        draws = rng.dirichlet(alpha, size=n_random)
        for j in range(n_random):
            w = np.zeros_like(base_w)
            w[pos] = draws[j] * base_w.sum()
            scen.append((f"dirichlet_{j + 1:03d}", "dirichlet", w))
    rows = []
    best = base.copy()
    worst = base.copy()
    for name, kind, w in scen:
        _, r = rank_order(candidates, dict(zip(names, w, strict=True)), ids)
        best = np.minimum(best, r)
        worst = np.maximum(worst, r)
        move = np.abs(r - base)
        base_top = set(np.flatnonzero(base <= top))
        new_top = set(np.flatnonzero(r <= top))
        row = {"scenario": name, "kind": kind}
        row.update({f"w_{c}": float(x) for c, x in zip(names, w / w.sum(), strict=True)})
        row.update({
            "spearman": _spearman(base, r),
            "top_n": top,
            "top_n_unchanged": (len(base_top & new_top) / top) if top else 1.0,
            "max_rank_move": int(move.max()) if n else 0,
            "mean_abs_rank_move": float(move.mean()) if n else 0.0,
        })
        rows.append(row)
    per = pd.DataFrame({"object_id": ids.astype(str).to_numpy(), "rank": base,
                        "rank_best": best, "rank_worst": worst,
                        "rank_max_move": np.maximum(base - best, worst - base)})
    return StabilityReport(pd.DataFrame(rows), per.sort_values("rank").reset_index(drop=True))


# --------------------------------------------------------------------------------------
# End-to-end
@dataclass
class CandidatesOutputs:
    """All outputs of :func:`analyse` (names match the GeoPackage layers)."""

    candidates: gpd.GeoDataFrame
    candidates_excluded: gpd.GeoDataFrame
    densification_zones: gpd.GeoDataFrame
    candidates_summary_wijk: gpd.GeoDataFrame | None
    candidates_summary_gemeente: gpd.GeoDataFrame | None
    candidates_stability: pd.DataFrame
    criteria: pd.DataFrame
    result: CandidateResult
    notes: list[str] = field(default_factory=list)

    def layers(self) -> dict[str, Any]:
        """Result layers by GeoPackage layer name (summaries only when available)."""
        out: dict[str, Any] = {
            "candidates": self.candidates,
            "candidates_excluded": self.candidates_excluded,
            "densification_zones": self.densification_zones,
        }
        if self.candidates_summary_wijk is not None:
            out["candidates_summary_wijk"] = self.candidates_summary_wijk
        if self.candidates_summary_gemeente is not None:
            out["candidates_summary_gemeente"] = self.candidates_summary_gemeente
        return out


def analyse(
    vacancy: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    accessibility: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    stations: gpd.GeoDataFrame | None = None,
    constraints: Mapping[str, gpd.GeoDataFrame] | None = None,
    *,
    config: CandidatesConfig | None = None,
    weights: Mapping[str, float] | None = None,
    as_of: dt.date | str | pd.Timestamp | None = None,
) -> CandidatesOutputs:
    """Score, explain, summarise and stress-test candidates (the whole analysis).

    Runs :func:`score_candidates`, :func:`densification_zones`,
    :func:`summarise_potential` (wijk and gemeente, when codes exist) and
    :func:`stability_report`; the per-candidate stability columns (``rank_best``,
    ``rank_worst``, ``rank_max_move``) are added to the candidates.
    """
    cfg = config or CandidatesConfig(synthetic=True)
    res = score_candidates(vacancy, zones, accessibility, stations, constraints,
                           config=cfg, weights=weights, as_of=as_of)
    notes: list[str] = []
    if bool(res.candidates["synthetic"].any() or res.excluded["synthetic"].any()
            or vacancy.attrs.get("synthetic")):
        notes.append(synthetic.SYNTHETIC_NOTE)
    inactive = res.criteria[~res.criteria["active"] & (res.criteria["weight"] > 0)]
    for _, r in inactive.iterrows():
        notes.append(f"Candidates: criterion '{r['criterion']}' not used ({r['note']}).")
    for crit, col in res.params["access_columns"].items():
        if "proxy" in col:
            notes.append(f"Candidates: {crit} uses {col}, a proxy (establishments), not jobs.")
    dens = densification_zones(res, zones, cfg.m2_per_dwelling, cfg.underuse_gap)
    summaries: dict[str, gpd.GeoDataFrame | None] = {}
    for level in ("wijk", "gemeente"):
        if dens[f"{level}_code"].notna().any():
            summaries[level] = summarise_potential(dens, level, cfg.benchmark)
        else:
            summaries[level] = None
            notes.append(f"Candidates: no {level}_code on the zones; no {level} summary.")
    cand = res.candidates
    if len(cand):
        stab = stability_report(cand, res.weights, top_n=cfg.top_n, delta=cfg.stability.delta,
                                n_random=cfg.stability.n_random, seed=cfg.stability.seed)
        per = stab.per_candidate.set_index("object_id")
        for col in ("rank_best", "rank_worst", "rank_max_move"):
            cand[col] = cand["object_id"].map(per[col]).astype("int64").to_numpy()
        table = stab.scenarios
    else:
        table = pd.DataFrame()
    return CandidatesOutputs(
        candidates=cand, candidates_excluded=res.excluded, densification_zones=dens,
        candidates_summary_wijk=summaries["wijk"],
        candidates_summary_gemeente=summaries["gemeente"], candidates_stability=table,
        criteria=res.criteria, result=res, notes=notes,
    )


def _measure_results(results: Mapping[str, Any]) -> list[str]:
    out = []
    for name, df in results.items():
        if isinstance(df, pd.DataFrame) and "zone_id" in df.columns and any(
                _MEASURE_RE.match(str(c)) for c in df.columns):
            out.append(name)
    return out


def pipeline_step(ctx: Any) -> None:
    """Pipeline step ``candidates``.

    Reads ``ctx.study.candidates`` (skips when absent), the zones layer
    ``ctx.layers[cfg.zones]``, the vacancy layer ``ctx.layers[cfg.vacancy]`` or a synthetic
    sample from the zones, ``ctx.results[...]`` accessibility results (``cfg.accessibility``
    or every result with ``*_<n>min_<mode>`` columns), the stations and constraint layers.
    Adds ``candidates``, ``candidates_excluded``, ``densification_zones``,
    ``candidates_summary_wijk``, ``candidates_summary_gemeente`` to ``ctx.results`` and
    ``candidates_stability`` to ``ctx.tables``; records notes (synthetic vacancy, proxies,
    unused criteria, the ``as_of`` date).
    """
    cfg: CandidatesConfig | None = getattr(ctx.study, "candidates", None)
    if cfg is None:
        return

    def layer(name: str, what: str) -> gpd.GeoDataFrame:
        if name not in ctx.layers:
            raise InputError(None, f"candidates.{what} names layer '{name}', which the study "
                             "does not define",
                             f"add '{name}' under layers: or use one of {sorted(ctx.layers)}")
        return ctx.layers[name]

    zones = layer(cfg.zones, "zones")
    as_of = pd.Timestamp(cfg.as_of or dt.date.today()).normalize()
    if cfg.synthetic:
        vacancy = synthetic.vacancy_sample(zones, seed=cfg.seed, as_of=as_of,
                                           structural_years=cfg.structural_years)
        ctx.note(synthetic.SYNTHETIC_NOTE)
    else:
        vacancy = layer(str(cfg.vacancy), "vacancy")
        if vacancy.attrs.get("synthetic") or ("synthetic" in vacancy.columns
                                              and vacancy["synthetic"].fillna(False).any()):
            ctx.note(f"Vacancy layer '{cfg.vacancy}' is SYNTHETIC, not real vacancy.")
    names = cfg.accessibility or [
        n for n in _measure_results(ctx.results)
        # auto-detection keeps results at the zones' level (sharing zone ids)
        if "zone_id" in ctx.results[n].columns
        and ctx.results[n]["zone_id"].astype(str).isin(zones["zone_id"].astype(str)).any()
    ]
    missing = [n for n in names if n not in ctx.results]
    if missing:
        raise InputError(None, f"candidates.accessibility names results {missing} that were "
                         "not computed", f"use one of {sorted(ctx.results)}")
    acc = [ctx.results[n] for n in names]
    stations = layer(cfg.stations, "stations") if cfg.stations else None
    constraints = {n: layer(n, "constraints") for n in cfg.constraints}
    out = analyse(vacancy, zones, acc, stations, constraints, config=cfg, as_of=as_of)
    n_exc = len(out.layers().get("candidates_excluded", []))
    if len(out.candidates) == 0 and n_exc:
        top = out.layers()["candidates_excluded"]["exclusion_reason"].astype(str)
        top = top.str.replace(r"BU\w+|GM\w+|WK\w+", "<zone>", regex=True).value_counts()
        raise InputError(None, f"all {n_exc} vacancy objects were excluded; most common "
                         f"reason: {top.index[0]!r} ({int(top.iloc[0])}×)",
                         "check that candidates.accessibility names results at the level of "
                         f"candidates.zones ('{cfg.zones}') and that the zones carry "
                         f"{cfg.density_column!r}")
    ctx.note(f"Candidates: vacancy durations as of {as_of.date()}; structural = vacant ≥ "
             f"{cfg.structural_years} calendar years.")
    for n in out.notes:
        ctx.note(n)
    ctx.results.update(out.layers())
    ctx.tables["candidates_stability"] = out.candidates_stability


# --------------------------------------------------------------------------------------
# Files (CLI)
def read_constraint(path: str | Path) -> gpd.GeoDataFrame:
    """Read a polygon constraint layer (any OGR format) and convert it to EPSG:28992.

    Raises
    ------
    InputError
        Unreadable file, no CRS, or non-polygon geometry.
    """
    p = Path(path)
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types
        raise InputError(p, f"cannot read the constraint layer ({exc})",
                         "pass a GeoPackage, shapefile or GeoJSON of polygons") from None
    if gdf.crs is None:
        raise InputError(p, "the constraint layer has no CRS",
                         "save it with a CRS (EPSG:28992 recommended)")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise InputError(p, "the constraint layer contains non-polygon geometry",
                         "pass polygons only (e.g. Natura 2000 areas, noise zones)")
    return gdf.to_crs(CRS)


def read_accessibility_gpkg(path: str | Path, layer: str | None = None) -> list[pd.DataFrame]:
    """Read the zone accessibility layers of a GeoPackage (``zone_id`` plus measure columns).

    Parameters
    ----------
    path : str or Path
        GeoPackage; ``file.gpkg:layer`` picks one layer (see :mod:`ruimtekit._layerpath`).
    layer : str, optional
        The layer to read (overrides a ``:layer`` suffix). Without a layer every layer with
        ``zone_id`` and measure columns and one row per zone is read; layers with repeated
        ``zone_id`` values (point results such as ``candidates``) are skipped and logged.

    Raises
    ------
    InputError
        Naming the file and layer: unreadable file, unknown layer, a chosen layer without
        measures or with repeated zone ids, or no usable layer.
    """
    import pyogrio

    p, suffix_layer = _layerpath.split(path)
    layer = layer or suffix_layer
    try:
        names = [str(r[0]) for r in pyogrio.list_layers(p)]
    except Exception as exc:
        raise InputError(p, f"cannot read the accessibility GeoPackage ({exc})",
                         "pass the .gpkg written by `ruimtekit access` or `ruimtekit run`"
                         ) from None
    if layer is not None and layer not in names:
        raise InputError(p, f"layer {layer!r} is not in the GeoPackage",
                         f"use one of {', '.join(names)} (as {p.name}:LAYER)")
    frames = []
    skipped = []
    for n in [layer] if layer is not None else names:
        info = pyogrio.read_info(p, layer=n)
        cols = [str(c) for c in info["fields"]]
        if not ("zone_id" in cols and any(_MEASURE_RE.match(c) for c in cols)):
            if layer is not None:
                raise InputError(p, f"layer {n!r} has no zone_id and accessibility measure columns "
                                 "(e.g. jobs_45min_bike)", "pick an accessibility layer (access_…)")
            continue
        df = pyogrio.read_dataframe(p, layer=n, read_geometry=False)
        dup = int(df["zone_id"].duplicated().sum())
        if dup:
            if layer is not None:
                raise InputError(p, f"layer {n!r} has {dup:,} repeated zone_id values (not one row "
                                 "per zone)", "pick a zone accessibility layer (access_…)")
            skipped.append(f"{n} ({dup:,} repeated zone ids)")
            continue
        frames.append(df)
    if skipped:
        log.info("%s: skipped layers that are not one row per zone: %s", p.name, "; ".join(skipped))
    if not frames:
        raise InputError(p, "no layer with zone_id and accessibility measure columns "
                         "(e.g. jobs_45min_bike) and one row per zone",
                         f"pass the accessibility output GeoPackage or pick a layer as {p.name}:LAYER")
    return frames


def write_outputs(out: CandidatesOutputs, path: str | Path) -> dict[str, Path]:
    """Write the result layers to one GeoPackage and the stability table to CSV, atomically.

    Returns
    -------
    dict
        ``gpkg`` and ``stability`` paths (the CSV is ``<stem>_stability.csv``).
    """
    target = Path(path)
    with _io.atomic_path(target) as tmp:
        for name, gdf in out.layers().items():
            gdf.to_file(tmp, layer=name, driver="GPKG")
    csv = target.with_name(f"{target.stem}_stability.csv")
    with _io.atomic_path(csv) as tmp:
        out.candidates_stability.to_csv(tmp, index=False)
    return {"gpkg": target, "stability": csv}
