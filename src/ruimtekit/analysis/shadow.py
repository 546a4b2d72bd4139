"""Borrowed size vs agglomeration shadow, as in the literature, with spatial diagnostics.

Burger, Meijers, Hoogerbrugge & Masip Tresserra (2015) and Meijers & Burger (2017)
regress the presence of urban functions (amenities, metropolitan functions) or
performance on a city's own population and the population in distance rings around it
*excluding the city itself*, controlling for the city's rank in its urban area:

    log(y_i / P_i) = b0 + b1·log P_i + Σ_k c_k·log(N_ik + 1) + d·log rank_i [+ FE] + e_i

A positive ring coefficient means borrowing, a negative one an agglomeration shadow.
This module adds what makes such a cross-section defensible:

* :func:`fine_rings` — ring populations from fine areas (PC4 inhabitants) excluding the
  own gemeente, instead of other gemeente *points* (which leave a 0–10 km ring empty for
  60 of 345 gemeenten);
* :func:`urban_rank` — rank of a city's population in its urban area (COROP region);
* :func:`fit` — the regression with a parameter object (:class:`ShadowSpec`), PySAL
  residual diagnostics (:func:`ruimtekit.analysis.spatial.regress`) and residual classes;
* :func:`sensitivity` — outcome × ring definition × fixed effects × exclusions, with
  coefficients, SEs, residual Moran's I and class agreement with the baseline;
* :func:`bootstrap_classes` — pairs-bootstrap stability of every city's class.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from ruimtekit import defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.analysis import spatial

log = logging.getLogger(__name__)

WADDEN = ("GM0060", "GM0088", "GM0093", "GM0096", "GM0448")
"""Ameland, Schiermonnikoog, Terschelling, Vlieland, Texel: islands without road access."""
BOOTSTRAP_DRAWS = defaults.BOOTSTRAP_DRAWS
"""Default number of pairs-bootstrap draws of :func:`bootstrap_classes`."""
BOOTSTRAP_SEED = defaults.BOOTSTRAP_SEED
"""Seed of the bootstrap."""
CLASSES = ("borrowing", "as_expected", "shadow")


def band_label(a: float, b: float) -> str:
    return f"{a:g}_{b:g}km"


def fine_rings(
    zone_ids: Sequence[str],
    points_xy: tuple[np.ndarray, np.ndarray],
    fine: Any,
    zones: Any,
    bands_km: Sequence[Sequence[float]],
    column: str = "population",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Ring masses from fine areas, excluding the own zone.

    ``N_i(a, b) = Σ_{k ∉ i, a < d_ik ≤ b} P_k`` with ``d_ik`` the crow-fly distance (km)
    from zone ``i``'s point to fine area ``k``'s interior point (the first band includes
    0). Fine areas are assigned to zones by interior point; those in no zone count as
    "other" for every zone.

    Returns
    -------
    (DataFrame, dict)
        ``{column}_ring_fine_{a}_{b}km`` per zone (zone order) and a report
        (``fine_areas``, ``population``, ``outside_zones``).
    """
    import geopandas as gpd

    f = fine.loc[~(fine.geometry.isna() | fine.geometry.is_empty)]
    p = pd.to_numeric(f[column], errors="coerce").fillna(0.0).to_numpy(float)
    f, p = f.loc[p > 0], p[p > 0]
    pts = gpd.GeoDataFrame({"p": p}, geometry=f.geometry.representative_point().to_numpy(),
                           crs=fine.crs)
    j = gpd.sjoin(pts, zones[["zone_id", "geometry"]], predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    zid = pd.Series(pd.NA, index=pts.index, dtype=object)
    zid.loc[j.index] = j["zone_id"].astype(str)
    pos = pd.Series(np.arange(len(zone_ids)), index=[str(z) for z in zone_ids])
    own = zid.map(pos).fillna(-1).to_numpy(int)
    kx, ky = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    px, py = (np.asarray(a, dtype=float) for a in points_xy)
    out = {}
    n = len(zone_ids)
    sums = np.zeros((len(bands_km), n))
    for start in range(0, n, 64):
        idx = np.arange(start, min(n, start + 64))
        d = np.hypot(px[idx, None] - kx[None, :], py[idx, None] - ky[None, :]) / 1000.0
        other = own[None, :] != idx[:, None]
        for b, (lo, hi) in enumerate(bands_km):
            low = d >= lo if lo == 0 else d > lo
            sums[b, idx] = ((low & (d <= hi) & other) * p[None, :]).sum(axis=1)
    for b, (lo, hi) in enumerate(bands_km):
        out[f"{column}_ring_fine_{band_label(lo, hi)}"] = sums[b]
    outside = float(p[own < 0].sum())
    return pd.DataFrame(out), {"fine_areas": int(len(p)), "population": float(p.sum()),
                               "outside_zones": outside}


def urban_rank(population: Sequence[float], region: Sequence[object]) -> np.ndarray:
    """Rank of each city's population within its region (1 = largest; ties share the best
    rank). NaN where the region is missing."""
    df = pd.DataFrame({"p": np.asarray(population, dtype=float),
                       "r": pd.Series(list(region), dtype=object)})
    rank = df.groupby("r", dropna=True)["p"].rank(ascending=False, method="min")
    return rank.reindex(df.index).to_numpy(float)


class ShadowSpec(Section):
    """One borrowed-size regression.

    Attributes
    ----------
    outcome : str
        Outcome count column (``amenities``, ``jobs``, ``establishments``).
    per : str, optional
        Divide the outcome by this column (``population``: per inhabitant).
    own_size : str
        Own size column (logged).
    surrounding : list of str
        Surrounding masses (logged after adding ``surrounding_offset``).
    controls : list of str
        Positive controls, logged (e.g. ``urban_rank``).
    fixed_effects : str, optional
        Categorical column for fixed effects (e.g. ``provincie``).
    exclude : list of str
        Zone ids left out (e.g. the Wadden islands).
    surrounding_offset : float
        Added before the log so empty rings stay in the sample.
    threshold_sd : float
        Residual SD threshold of the ``borrowing``/``shadow`` classes.
    """

    outcome: str = "amenities"
    per: str | None = "population"
    own_size: str = "population"
    surrounding: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    fixed_effects: str | None = None
    exclude: list[str] = Field(default_factory=list)
    surrounding_offset: float = 1.0
    threshold_sd: float = Field(defaults.SHADOW_THRESHOLD_SD, ge=0)

    @property
    def outcome_label(self) -> str:
        return f"log({self.outcome}{'/' + self.per if self.per else ''})"


@dataclass
class ShadowFit:
    """Result of :func:`fit`.

    Attributes
    ----------
    table : DataFrame
        Coefficients (``outcome, model, term, coef, se, t, p, ci_low, ci_high, n, r2,
        cov_type``).
    diagnostics : DataFrame
        Spatial and other diagnostics (residual Moran's I first).
    cities : DataFrame
        Per zone (input order): ``zone_id, log_outcome, fitted, residual, residual_sd,
        size_class`` (``not_estimated`` for dropped or excluded rows).
    dropped : list of str
        Ids dropped for missing/non-positive values (excluded ids not included).
    design : tuple
        ``(row positions used, y, X)`` for the bootstrap.
    """

    table: pd.DataFrame
    diagnostics: pd.DataFrame
    cities: pd.DataFrame
    dropped: list[str]
    residual_moran: dict[str, float]
    design: tuple[np.ndarray, np.ndarray, pd.DataFrame]
    spec: ShadowSpec
    extra: dict[str, Any] = field(default_factory=dict)


def _design(df: pd.DataFrame, spec: ShadowSpec, id_column: str
            ) -> tuple[pd.Index, np.ndarray, pd.DataFrame, list[str]]:
    need = [spec.outcome, spec.own_size, *spec.surrounding, *spec.controls]
    need += [spec.per] if spec.per else []
    need += [spec.fixed_effects] if spec.fixed_effects else []
    missing = [c for c in [*need, id_column] if c not in df.columns]
    if missing:
        raise InputError(None, f"regression columns {missing} not found",
                         f"choose from {list(df.columns)[:60]}")
    ids = df[id_column].astype(str)
    y = pd.to_numeric(df[spec.outcome], errors="coerce").astype(float)
    if spec.per:
        y = y / pd.to_numeric(df[spec.per], errors="coerce").astype(float)
    cols = {"__y": y, f"log_{spec.own_size}": pd.to_numeric(df[spec.own_size], errors="coerce")}
    for c in spec.surrounding:
        cols[f"log_{c}"] = pd.to_numeric(df[c], errors="coerce") + spec.surrounding_offset
    for c in spec.controls:
        cols[f"log_{c}"] = pd.to_numeric(df[c], errors="coerce")
    vals = pd.DataFrame(cols, index=df.index).astype(float)
    ok = vals.notna().all(axis=1) & (vals > 0).all(axis=1) & np.isfinite(vals).all(axis=1)
    if spec.fixed_effects:
        ok &= df[spec.fixed_effects].notna()
    excluded = ids.isin(set(spec.exclude))
    dropped = ids[~ok & ~excluded].tolist()
    use = ok & ~excluded
    X = np.log(vals.loc[use].drop(columns="__y"))
    if spec.fixed_effects:
        fe = pd.get_dummies(df.loc[use, spec.fixed_effects].astype(str), prefix="fe",
                            drop_first=True, dtype=float)
        X = pd.concat([X, fe], axis=1)
    return vals.index[use], np.log(vals.loc[use, "__y"].to_numpy()), X, dropped


def _classes(z: np.ndarray, threshold: float) -> np.ndarray:
    if threshold == 0:
        return np.where(z > 0, "borrowing", np.where(z < 0, "shadow", "as_expected"))
    return np.where(z > threshold, "borrowing", np.where(z < -threshold, "shadow",
                                                         "as_expected"))


def fit(df: pd.DataFrame, spec: ShadowSpec, *, options: spatial.RegressionOptions | None = None,
        points: tuple[str, str] = ("point_x", "point_y"), id_column: str = "zone_id",
        cluster_column: str | None = None) -> ShadowFit:
    """Fit one borrowed-size regression with PySAL diagnostics and classify residuals.

    Parameters
    ----------
    df : DataFrame
        One row per city with the spec's columns and zone points (EPSG:28992 metres).
    spec : ShadowSpec
    options : spatial.RegressionOptions
        Covariance (HC1, cluster, Conley), weights of the diagnostics (default kNN 6),
        spatial lag/error models.
    points : (str, str)
        Zone point columns for the weights and Conley errors.
    id_column : str
    cluster_column : str, optional
        Column with cluster labels (``options.cov == "cluster"``).
    """
    opt = options or spatial.RegressionOptions()
    idx, y, X, dropped = _design(df, spec, id_column)
    if dropped:
        log.warning("borrowed-size regression: %d cities dropped (missing or non-positive "
                    "values): %s", len(dropped), dropped[:10])
    if len(y) < X.shape[1] + 3:
        raise InputError(None, f"only {len(y)} usable cities for {X.shape[1] + 1} coefficients",
                         "use more cities or fewer terms")
    xy = df.loc[idx, list(points)].to_numpy(float)
    w = spatial.spatial_weights(xy, opt.weights) if opt.weights.kind in ("knn", "distance") \
        else spatial.spatial_weights(df.loc[idx].reset_index(drop=True), opt.weights)
    groups = df.loc[idx, cluster_column or opt.cluster_column].to_numpy() \
        if opt.cov == "cluster" else None
    reg = spatial.regress(y, X, w, options=opt, groups=groups, coords=xy)
    table = reg.table.copy()
    table.insert(0, "outcome", spec.outcome_label)
    resid = reg.residuals
    sd = float(np.std(resid, ddof=X.shape[1] + 1))
    z = resid / sd if sd > 0 else np.zeros_like(resid)
    cities = pd.DataFrame({id_column: df[id_column].astype(str).to_numpy()}, index=df.index)
    cities["log_outcome"] = np.nan
    cities["fitted"] = np.nan
    cities["residual"] = np.nan
    cities["residual_sd"] = np.nan
    cities["size_class"] = "not_estimated"
    cities.loc[idx, "log_outcome"] = y
    cities.loc[idx, "fitted"] = reg.fitted
    cities.loc[idx, "residual"] = resid
    cities.loc[idx, "residual_sd"] = z
    cities.loc[idx, "size_class"] = _classes(z, spec.threshold_sd)
    diag = reg.diagnostics.copy()
    diag.insert(0, "outcome", spec.outcome_label)
    return ShadowFit(table=table, diagnostics=diag, cities=cities.reset_index(drop=True),
                     dropped=dropped, residual_moran=reg.residual_moran,
                     design=(df.index.get_indexer(idx), y, X), spec=spec, extra={"weights": w})


def bootstrap_classes(res: ShadowFit, *, draws: int = BOOTSTRAP_DRAWS,
                      seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Pairs-bootstrap stability of each city's class.

    Each draw resamples the estimation cities with replacement, refits the OLS, computes
    every estimated city's residual under the drawn coefficients, standardises it by the
    draw's residual SD (n − k degrees of freedom, as the baseline) and classifies it with
    the spec's threshold.

    Returns
    -------
    DataFrame
        Per city (input order): ``class_stability`` (share of draws with the baseline
        class), ``p_borrowing``, ``p_as_expected``, ``p_shadow``; NaN for cities not
        estimated.
    """
    idx, y, X = res.design
    Xc = np.column_stack([np.ones(len(y)), X.to_numpy(float)])
    n, k = Xc.shape
    rng = np.random.default_rng(seed)
    counts = {c: np.zeros(n) for c in CLASSES}
    for _ in range(draws):
        s = rng.integers(0, n, n)
        b, *_ = np.linalg.lstsq(Xc[s], y[s], rcond=None)
        e_s = y[s] - Xc[s] @ b
        sd = float(np.sqrt((e_s ** 2).sum() / max(n - k, 1)))
        cls = _classes((y - Xc @ b) / sd, res.spec.threshold_sd)
        for c in CLASSES:
            counts[c] += cls == c
    out = pd.DataFrame(np.nan, index=np.arange(len(res.cities)),
                       columns=["class_stability", "p_borrowing", "p_as_expected", "p_shadow"])
    for c in CLASSES:
        out.loc[idx, f"p_{c}"] = counts[c] / draws
    baseline = res.cities["size_class"].to_numpy()[idx]
    out.loc[idx, "class_stability"] = np.array(
        [counts[c][i] for i, c in enumerate(baseline)]) / draws
    return out


def agreement(a: pd.Series, b: pd.Series) -> tuple[float, int]:
    """Share of cities with the same class in both fits (cities estimated in both)."""
    m = (a != "not_estimated") & (b != "not_estimated")
    return (float((a[m] == b[m]).mean()) if m.any() else np.nan), int(m.sum())


def sensitivity(df: pd.DataFrame, base: ShadowSpec, *, outcomes: Sequence[str],
                rings: dict[str, list[str]], fixed_effects: Sequence[str | None],
                exclusions: dict[str, list[str]],
                options: spatial.RegressionOptions | None = None) -> pd.DataFrame:
    """Sensitivity table: outcome × ring definition × fixed effects × exclusions.

    Parameters
    ----------
    df : DataFrame
        Cities with every column used.
    base : ShadowSpec
        The baseline (its ``controls``, ``per``, ``threshold_sd`` are kept; the first
        outcome, ring set, FE and exclusion of the grid should reproduce it).
    outcomes : sequence of str
    rings : dict of label → surrounding columns
    fixed_effects : sequence of str or None
    exclusions : dict of label → zone ids
    options : spatial.RegressionOptions
        Inference for every row (residual Moran's I uses the same weights).

    Returns
    -------
    DataFrame
        One row per specification and ring term: ``outcome, rings, fixed_effects,
        exclusion, term, coef, se, p, n, r2, cov_type, residual_moran_I, residual_moran_p,
        class_agreement`` (share of cities with the baseline class, among cities in both),
        ``n_borrowing, n_shadow``. Own-size and control rows are included too.
    """
    opt = options or spatial.RegressionOptions()
    rows = []
    baseline = None
    for out_col, (rlab, rcols), fe, (xlab, ids) in itertools.product(
            outcomes, rings.items(), fixed_effects, exclusions.items()):
        spec = base.model_copy(update={"outcome": out_col, "surrounding": list(rcols),
                                       "fixed_effects": fe, "exclude": list(ids)})
        try:
            r = fit(df, spec, options=opt)
        except InputError as exc:
            log.warning("sensitivity: %s / %s / %s / %s skipped: %s", out_col, rlab, fe, xlab,
                        exc.problem)
            continue
        if baseline is None:
            baseline = r.cities["size_class"]
        agr, _ = agreement(baseline, r.cities["size_class"])
        t = r.table[(r.table["model"] == "ols") & ~r.table["term"].str.startswith("fe_")
                    & (r.table["term"] != "const")]
        for _, row in t.iterrows():
            rows.append({"outcome": spec.outcome_label, "rings": rlab,
                         "fixed_effects": fe or "none", "exclusion": xlab,
                         "term": row["term"], "coef": row["coef"], "se": row["se"],
                         "p": row["p"], "n": int(row["n"]), "r2": row["r2"],
                         "cov_type": row["cov_type"],
                         "residual_moran_I": r.residual_moran["I"],
                         "residual_moran_p": r.residual_moran["p_sim"],
                         "class_agreement": agr,
                         "n_borrowing": int((r.cities["size_class"] == "borrowing").sum()),
                         "n_shadow": int((r.cities["size_class"] == "shadow").sum())})
    return pd.DataFrame(rows)


__all__ = ["BOOTSTRAP_DRAWS", "WADDEN", "ShadowFit", "ShadowSpec", "agreement",
           "bootstrap_classes", "fine_rings", "fit", "sensitivity", "urban_rank"]
