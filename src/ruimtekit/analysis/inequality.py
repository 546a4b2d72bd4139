"""Inequality of accessibility across a population (as Ipea's ``accessibility`` package).

Every measure weights zones by their residents, so a zone of 10,000 people counts
10,000 times. ``x`` is an accessibility value per zone (e.g. jobs within 45 minutes).

* :func:`gini` — population-weighted Gini coefficient from the Lorenz curve:
  ``G = 1 − Σ_k (P_k − P_{k−1})·(L_k + L_{k−1})`` with zones sorted by ``x``, ``P`` the
  cumulative population share and ``L`` the cumulative share of total accessibility
  (person-weighted). 0 = everyone equal; 1 = one person has it all.
* :func:`theil` — Theil T index ``T = Σ_i s_i·(x_i/μ)·ln(x_i/μ)`` (``s_i`` population
  shares, μ the population-weighted mean, 0·ln 0 = 0) and its exact decomposition by
  region ``g``: ``T = Σ_g s_g(μ_g/μ)·T_g`` (within) ``+ Σ_g s_g(μ_g/μ)·ln(μ_g/μ)``
  (between).
* :func:`palma` — Palma ratio: mean accessibility of the top 10% of the population
  divided by that of the bottom 40%, ranking people by ``rank_by`` (income, as Ipea
  does) or by accessibility itself. Zones straddling the 10%/40% cut are split
  proportionally.
* :func:`summary` — all of them in one table row.

References: Pereira, Herszenhut et al. (2023), *accessibility* R package (Ipea);
Theil (1967); Palma (2011); Cowell (2011), *Measuring Inequality*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ruimtekit._errors import InputError

PALMA_TOP = 0.10
"""Population share of the top group of the Palma ratio."""
PALMA_BOTTOM = 0.40
"""Population share of the bottom group of the Palma ratio."""


def _clean(x: Sequence[float], weights: Sequence[float] | None, what: str,
           ) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(x, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    if v.shape != w.shape or v.ndim != 1:
        raise InputError(None, f"{what}: {v.shape} values but {w.shape} weights",
                         "pass one population weight per value")
    bad = ~np.isfinite(v) | ~np.isfinite(w)
    if bad.any():
        raise InputError(None, f"{what}: {int(bad.sum())} missing or infinite values/weights",
                         "drop zones without accessibility or population first")
    if (w < 0).any() or w.sum() <= 0:
        raise InputError(None, f"{what}: weights must be >= 0 with a positive total",
                         "use resident counts as weights")
    if (v < 0).any():
        raise InputError(None, f"{what}: negative accessibility values",
                         "inequality measures need values >= 0")
    return v, w


def gini(x: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Population-weighted Gini coefficient of ``x`` (see the module docstring).

    Examples
    --------
    >>> round(gini([1, 3], [1, 1]), 6)  # Lorenz: (0.5, 0.25) → 1 − 0.5·0.25 − 0.5·1.25
    0.25
    """
    v, w = _clean(x, weights, "gini")
    o = np.argsort(v, kind="stable")
    v, w = v[o], w[o]
    total = float((v * w).sum())
    if total <= 0:
        return 0.0
    P = np.concatenate([[0.0], np.cumsum(w) / w.sum()])
    L = np.concatenate([[0.0], np.cumsum(v * w) / total])
    return float(1.0 - (np.diff(P) * (L[1:] + L[:-1])).sum())


@dataclass
class TheilResult:
    """Theil T and its decomposition.

    Attributes
    ----------
    total, within, between : float
        ``total = within + between`` (exact).
    groups : DataFrame
        Per region: ``group, population, mean, theil, share_of_population,
        within_contribution, between_contribution``.
    """

    total: float
    within: float
    between: float
    groups: pd.DataFrame


def _theil_t(v: np.ndarray, w: np.ndarray) -> float:
    mu = float((v * w).sum() / w.sum())
    if mu <= 0:
        return 0.0
    r = v / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(r > 0, r * np.log(r), 0.0)
    return float((w * term).sum() / w.sum())


def theil(x: Sequence[float], weights: Sequence[float] | None = None,
          groups: Sequence[object] | None = None) -> TheilResult:
    """Population-weighted Theil T index, decomposed between and within ``groups``.

    Examples
    --------
    >>> round(theil([1, 3], [1, 1]).total, 6)  # ½·(½ ln ½) + ½·(3/2 ln 3/2)
    0.130812
    """
    v, w = _clean(x, weights, "theil")
    total = _theil_t(v, w)
    g = np.zeros(v.size, dtype=int) if groups is None else pd.factorize(
        pd.Series(list(groups)).astype(str))[0]
    labels = (["all"] if groups is None else
              list(pd.unique(pd.Series(list(groups)).astype(str))))
    mu = float((v * w).sum() / w.sum())
    rows = []
    for k, lab in enumerate(labels):
        m = g == k
        s = w[m].sum() / w.sum()
        mug = float((v[m] * w[m]).sum() / w[m].sum()) if w[m].sum() > 0 else 0.0
        tg = _theil_t(v[m], w[m]) if w[m].sum() > 0 else 0.0
        share = s * mug / mu if mu > 0 else 0.0
        rows.append({"group": lab, "population": float(w[m].sum()), "mean": mug, "theil": tg,
                     "share_of_population": s, "within_contribution": share * tg,
                     "between_contribution": share * np.log(mug / mu) if mug > 0 else 0.0})
    tab = pd.DataFrame(rows)
    within = float(tab["within_contribution"].sum())
    between = float(tab["between_contribution"].sum())
    return TheilResult(total=total, within=within, between=between, groups=tab)


def _top_bottom_means(v: np.ndarray, w: np.ndarray, rank: np.ndarray) -> tuple[float, float]:
    o = np.argsort(rank, kind="stable")
    v, w = v[o], w[o]
    cw = np.concatenate([[0.0], np.cumsum(w)]) / w.sum()

    def mean_between(a: float, b: float) -> float:
        # population-weighted mean of v over the population quantile range [a, b]
        lo = np.clip(cw[:-1], a, b)
        hi = np.clip(cw[1:], a, b)
        part = hi - lo
        return float((part * v).sum() / part.sum())

    return mean_between(1.0 - PALMA_TOP, 1.0), mean_between(0.0, PALMA_BOTTOM)


def palma(x: Sequence[float], weights: Sequence[float] | None = None,
          rank_by: Sequence[float] | None = None) -> float:
    """Palma ratio: mean ``x`` of the top 10% / mean ``x`` of the bottom 40% of people.

    People are ranked by ``rank_by`` (e.g. income per inhabitant, as Ipea's
    ``palma_ratio``) or, without it, by ``x`` itself. Returns ``inf`` when the bottom
    40% has no accessibility.

    Examples
    --------
    >>> round(palma([1, 2, 3, 4, 10]), 4)  # top 10%: mean 10; bottom 40%: mean 1.5
    6.6667
    """
    v, w = _clean(x, weights, "palma")
    r = v if rank_by is None else np.asarray(rank_by, dtype=float)
    if r.shape != v.shape or not np.isfinite(r).all():
        raise InputError(None, "palma: rank_by must be finite, one value per zone",
                         "pass e.g. income per inhabitant for every zone")
    top, bottom = _top_bottom_means(v, w, r)
    return float(top / bottom) if bottom > 0 else float("inf")


def summary(x: Sequence[float], weights: Sequence[float] | None = None, *,
            groups: Sequence[object] | None = None,
            rank_by: Sequence[float] | None = None, measure: str = "") -> pd.DataFrame:
    """One row: ``measure, n_zones, population, mean, gini, theil, theil_within,
    theil_between, theil_between_share, palma, palma_ranked_by``."""
    v, w = _clean(x, weights, "inequality summary")
    t = theil(v, w, groups)
    return pd.DataFrame([{
        "measure": measure, "n_zones": int(v.size), "population": float(w.sum()),
        "mean": float((v * w).sum() / w.sum()), "gini": gini(v, w), "theil": t.total,
        "theil_within": t.within, "theil_between": t.between,
        "theil_between_share": t.between / t.total if t.total > 0 else np.nan,
        "palma": palma(v, w, rank_by),
        "palma_ranked_by": "accessibility" if rank_by is None else "rank_by",
    }])


__all__ = ["PALMA_BOTTOM", "PALMA_TOP", "TheilResult", "gini", "palma", "summary", "theil"]
