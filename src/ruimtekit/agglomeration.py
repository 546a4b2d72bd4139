"""Agglomeration economies: effective density and elasticities.

* :func:`effective_density` (a distance matrix) and :func:`zone_effective_density` (a
  zones layer, via :func:`ruimtekit.accessibility.effective_density`) — Graham (2007): ED_i = Σ_j M_j / d_ij^α, with the own-zone
  distance d_ii = (2/3)·√(area_i/π), the mean distance from the centre of a disc of the
  zone's area to points inside it (a zone's own mass is thus spread over its area
  instead of sitting at distance 0).
* :func:`estimate_elasticity` — log-log OLS of an outcome (wages, productivity, jobs per
  inhabitant, establishments per inhabitant) on (effective) density with
  heteroskedasticity-robust (HC1) standard errors and a 95% confidence interval.
* :func:`doubling_effect` — the effect of doubling density implied by an elasticity ε:
  2^ε − 1. Groot, de Groot & Smit (2014) estimate ε ≈ 0.048 for Dutch wages w.r.t.
  employment density → +3.4%; the Dutch policy figures of +9% (high-educated) and +3%
  (low-educated) per doubling correspond to ε ≈ 0.124 and 0.043
  (:func:`elasticity_for_doubling`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._errors import InputError


# --------------------------------------------------------------------------- doubling
def doubling_effect(elasticity: float | np.ndarray) -> float | np.ndarray:
    """Relative change of the outcome when density doubles: ``2**ε - 1``.

    Parameters
    ----------
    elasticity : float or ndarray
        Elasticity ε of the outcome w.r.t. density (log-log slope).

    Returns
    -------
    float or ndarray
        Proportional change (0.034 means +3.4%).

    Examples
    --------
    >>> round(doubling_effect(0.048), 4)
    0.0338
    """
    out = np.power(2.0, np.asarray(elasticity, dtype=float)) - 1.0
    return float(out) if np.ndim(out) == 0 else out


def elasticity_for_doubling(effect: float | np.ndarray) -> float | np.ndarray:
    """Elasticity implied by a doubling effect: ``log2(1 + effect)``.

    >>> round(elasticity_for_doubling(0.09), 3)
    0.124
    """
    eff = np.asarray(effect, dtype=float)
    if np.any(eff <= -1):
        raise InputError(None, f"a doubling effect of {effect} is not > -100%",
                         "pass the proportional change, e.g. 0.09 for +9%")
    out = np.log2(1.0 + eff)
    return float(out) if np.ndim(out) == 0 else out


def doubling_text(elasticity: float, what: str = "density", digits: int = 1) -> str:
    """Helper text, e.g. ``"doubling density gives +3.4%"`` for ε = 0.048."""
    pct = 100.0 * float(doubling_effect(elasticity))
    return f"doubling {what} gives {pct:+.{digits}f}%"


# --------------------------------------------------------------------------- effective density
def own_zone_distance(area: np.ndarray) -> np.ndarray:
    """Own-zone distance (2/3)·√(area/π): mean distance to the centre of a disc of that area.

    Parameters
    ----------
    area : ndarray
        Zone area in squared distance units (m² → metres, km² → km).
    """
    a = np.asarray(area, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise InputError(None, "zone areas must be finite and > 0",
                         "use land or total area in m² (or km²) for every zone")
    return (2.0 / 3.0) * np.sqrt(a / np.pi)


def effective_density(
    dist: np.ndarray,
    mass: np.ndarray,
    area: np.ndarray,
    *,
    alpha: float = 1.0,
) -> np.ndarray:
    """Effective density (Graham 2007): ED_i = Σ_j M_j / d_ij^α.

    Parameters
    ----------
    dist : ndarray, shape (n, n)
        Distances between zones (e.g. km between population points); the diagonal is
        ignored and replaced by :func:`own_zone_distance` of ``area``. Use the same unit
        for distance and √area (km with km², m with m²).
    mass : ndarray, shape (n,)
        Jobs (or population) per zone.
    area : ndarray, shape (n,)
        Zone areas in the squared distance unit.
    alpha : float
        Distance-decay exponent (≈ 1 for manufacturing, 1.6–1.8 for services).

    Returns
    -------
    ndarray, shape (n,)
        Mass per distance^α (e.g. jobs/km for α = 1).
    """
    d = np.array(dist, dtype=float, copy=True)
    m = np.asarray(mass, dtype=float)
    n = m.shape[0]
    if d.shape != (n, n):
        raise InputError(None, f"distance matrix {d.shape} does not match {n} masses",
                         "pass a square zone × zone distance matrix in the masses' order")
    if np.isnan(m).any():
        raise InputError(None, "missing masses", "fill or drop zones without a mass")
    np.fill_diagonal(d, own_zone_distance(area))
    off = ~np.eye(n, dtype=bool)
    if np.any(d[off] <= 0):
        raise InputError(None, "two different zones are at distance 0",
                         "use distinct zone points (population points or centroids)")
    return (m[None, :] / np.power(d, alpha)).sum(axis=1)


def zone_effective_density(
    zones: Any,
    opportunity: str = "jobs",
    *,
    alpha: float = 1.0,
    graph: Any | None = None,
) -> np.ndarray:
    """Effective density per zone from a zones layer (crow-fly km, or network km).

    Delegates to :func:`ruimtekit.accessibility.effective_density` (same definition as
    :func:`effective_density`: own zone at (2/3)·√(area/π), distances in km, zone points
    ``pop_x``/``pop_y`` or centroids), so both modules report one number.

    Returns
    -------
    ndarray
        Opportunities per km^α, in the zones' row order.
    """
    from . import accessibility

    res = accessibility.effective_density(zones, opportunity=opportunity, alpha=alpha, graph=graph)
    col = [c for c in res.columns if c.startswith(f"{opportunity}_ed")][0]
    return res[col].to_numpy(dtype=float)


# --------------------------------------------------------------------------- elasticities
@dataclass
class ElasticityResult:
    """A log-log elasticity estimate with robust inference.

    Attributes
    ----------
    elasticity : float
        Slope of log(outcome) on log(density).
    se : float
        Robust standard error (``cov_type``).
    ci_low, ci_high : float
        Confidence interval (``1 - alpha``).
    p_value : float
    n : int
        Observations used.
    r2 : float
    doubling : float
        2^ε − 1.
    text : str
        "doubling density gives +x%".
    table : DataFrame
        Every coefficient: ``term, coef, se, t, p, ci_low, ci_high``.
    dropped : list
        Ids of rows dropped for missing or non-positive values.
    """

    elasticity: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    r2: float
    doubling: float
    text: str
    table: pd.DataFrame
    dropped: list[Any] = field(default_factory=list)
    model: Any = None


def ols_table(res: Any, alpha: float = 0.05) -> pd.DataFrame:
    """Coefficient table of a fitted statsmodels OLS result.

    Columns: ``term, coef, se, t, p, ci_low, ci_high, n, r2, adj_r2, cov_type``.
    """
    ci = np.asarray(res.conf_int(alpha=alpha))
    names = list(res.model.exog_names)
    return pd.DataFrame({
        "term": names,
        "coef": np.asarray(res.params, dtype=float),
        "se": np.asarray(res.bse, dtype=float),
        "t": np.asarray(res.tvalues, dtype=float),
        "p": np.asarray(res.pvalues, dtype=float),
        "ci_low": ci[:, 0],
        "ci_high": ci[:, 1],
        "n": int(res.nobs),
        "r2": float(res.rsquared),
        "adj_r2": float(res.rsquared_adj),
        "cov_type": str(res.cov_type),
    })


def log_design(
    df: pd.DataFrame,
    columns: Sequence[str],
    *,
    id_column: str | None = None,
    offsets: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, list[Any]]:
    """Natural logs of ``columns`` (plus an optional offset per column), dropping bad rows.

    Rows with a missing value or ``value + offset <= 0`` are dropped and their ids (or
    index labels) returned, so nothing disappears silently.
    """
    offsets = offsets or {}
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(None, f"columns {missing} not found",
                         f"choose from {list(df.columns)[:40]}")
    vals = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce").astype(float)
                         + offsets.get(c, 0.0) for c in columns}, index=df.index)
    ok = vals.notna().all(axis=1) & (vals > 0).all(axis=1)
    ids = df.loc[~ok, id_column].tolist() if id_column and id_column in df else \
        df.index[~ok].tolist()
    return np.log(vals[ok]), ids


def estimate_elasticity(
    df: pd.DataFrame,
    outcome: str,
    density: str,
    *,
    controls: Sequence[str] = (),
    log_controls: bool = True,
    cov_type: str = "HC1",
    alpha: float = 0.05,
    id_column: str | None = "zone_id",
    what: str = "density",
) -> ElasticityResult:
    """Elasticity of ``outcome`` w.r.t. ``density``: OLS of log y on log density (+ controls).

    Parameters
    ----------
    df : DataFrame
        One row per zone.
    outcome : str
        Outcome column (positive; e.g. wage, jobs per inhabitant).
    density : str
        Density or effective-density column (positive).
    controls : sequence of str
        Extra regressors (logged when ``log_controls``).
    cov_type : str
        statsmodels covariance type; ``HC1`` (White with small-sample correction) default.
    alpha : float
        1 − confidence level (0.05 → 95% CI).
    id_column : str, optional
        Column naming rows in the ``dropped`` report.
    what : str
        Word used in the helper text ("doubling {what} gives +x%").

    Returns
    -------
    ElasticityResult

    Raises
    ------
    InputError
        Fewer than ``k + 2`` usable rows.
    """
    import statsmodels.api as sm

    logged = [outcome, density] + (list(controls) if log_controls else [])
    lg, dropped = log_design(df, logged, id_column=id_column)
    X = lg[[density] + (list(controls) if log_controls else [])].copy()
    if not log_controls and controls:
        X = X.join(df.loc[lg.index, list(controls)].astype(float))
    X.columns = [f"log_{c}" if c in logged else c for c in X.columns]
    if len(lg) < X.shape[1] + 2:
        raise InputError(None, f"only {len(lg)} usable rows for the elasticity regression",
                         "provide more zones with positive outcome and density")
    res = sm.OLS(lg[outcome].to_numpy(), sm.add_constant(X, has_constant="add")).fit(
        cov_type=cov_type)
    table = ols_table(res, alpha)
    row = table.loc[table["term"] == f"log_{density}"].iloc[0]
    e = float(row["coef"])
    return ElasticityResult(
        elasticity=e, se=float(row["se"]), ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]), p_value=float(row["p"]), n=int(res.nobs),
        r2=float(res.rsquared), doubling=float(doubling_effect(e)),
        text=doubling_text(e, what), table=table, dropped=dropped, model=res,
    )
