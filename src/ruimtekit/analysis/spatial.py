"""Spatial statistics on PySAL: weights, Moran's I, LISA and regressions with diagnostics.

Every regression on areal units reports the spatial dependence of its residuals
(Anselin 1988; Anselin & Rey 2014): a regression table is never returned without its
diagnostics table.

* :func:`spatial_weights` — libpysal weights, row-standardised: ``knn`` (k nearest zone
  points, default 6), ``distance`` (distance band, binary), ``queen``/``rook``
  (contiguity of the polygons; islands are reported).
* :func:`moran` — global Moran's I, ``I = (n / S0)·(z'Wz)/(z'z)`` with ``z`` the
  deviations from the mean (esda.Moran; permutation and normal p-values).
* :func:`local_moran` — local Moran (LISA, esda.Moran_Local): ``I_i``, permutation
  p-value and quadrant (``HH``, ``LL``, ``HL``, ``LH``, ``ns`` when p > alpha).
* :func:`regress` — OLS (statsmodels) with a choice of covariance: ``HC1`` (White),
  ``cluster`` (by a region column, e.g. COROP: Cameron & Miller 2015) or ``conley``
  (spatial HAC with a triangular/Bartlett kernel of a given bandwidth, Conley 1999, via
  spreg's ``robust="hac"``); plus spreg's OLS spatial diagnostics (Moran's I of the
  residuals, LM-error, LM-lag, their robust forms, SARMA) and, on request, the spatial
  lag and spatial error models by maximum likelihood (spreg ``ML_Lag``/``ML_Error``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ruimtekit import defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.io.places import zone_points

log = logging.getLogger(__name__)

KNN_K = defaults.KNN_K
"""Default number of neighbours of kNN weights."""
PERMUTATIONS = defaults.PERMUTATIONS
"""Default number of conditional permutations for pseudo p-values."""
SEED = defaults.PERMUTATION_SEED
"""Seed of the permutation tests (results are reproducible)."""
LISA_ALPHA = defaults.LISA_ALPHA
"""Significance level of the LISA quadrant labels."""
CONLEY_KM = defaults.CONLEY_KM
"""Default Conley bandwidth (km): the outer ring of the borrowed-size regression."""


class WeightsConfig(Section):
    """Spatial weights: ``kind`` ``knn`` (``k``), ``distance`` (``threshold_m``),
    ``queen`` or ``rook`` contiguity. Always row-standardised."""

    kind: Literal["knn", "distance", "queen", "rook"] = "knn"
    k: int = Field(KNN_K, ge=1)
    threshold_m: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> WeightsConfig:
        if self.kind == "distance" and self.threshold_m is None:
            raise ValueError("distance-band weights need threshold_m (metres)")
        return self

    @property
    def label(self) -> str:
        """E.g. ``knn6``, ``distance25000m``, ``queen``."""
        if self.kind == "knn":
            return f"knn{self.k}"
        if self.kind == "distance":
            return f"distance{self.threshold_m:g}m"
        return self.kind


def _points(zones: Any) -> np.ndarray:
    if isinstance(zones, np.ndarray):
        return np.asarray(zones, dtype=float)

    x, y = zone_points(zones)
    return np.column_stack([x, y])


def spatial_weights(zones: Any, config: WeightsConfig | None = None) -> Any:
    """Row-standardised libpysal weights for zones (GeoDataFrame) or an (n, 2) point array.

    kNN and distance bands use the zone points (``pop_x``/``pop_y`` or centroids, EPSG:28992
    metres); contiguity uses the polygons. Zones without neighbours (islands) are logged;
    their spatial lag is 0.
    """
    from libpysal import weights as lw

    cfg = config or WeightsConfig()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cfg.kind == "knn":
            pts = _points(zones)
            if cfg.k >= len(pts):
                raise InputError(None, f"k={cfg.k} neighbours for {len(pts)} zones",
                                 "use fewer neighbours than zones")
            w = lw.KNN.from_array(pts, k=cfg.k)
        elif cfg.kind == "distance":
            w = lw.DistanceBand.from_array(_points(zones), threshold=float(cfg.threshold_m),
                                           binary=True, silence_warnings=True)
        else:
            if isinstance(zones, np.ndarray):
                raise InputError(None, f"{cfg.kind} contiguity needs polygons",
                                 "pass the zones GeoDataFrame or use knn/distance weights")
            cls = lw.Queen if cfg.kind == "queen" else lw.Rook
            w = cls.from_dataframe(zones.reset_index(drop=True), use_index=False,
                                   silence_warnings=True)
    if w.islands:
        log.warning("spatial weights %s: %d zone(s) without neighbours (islands): %s",
                    cfg.label, len(w.islands), list(w.islands)[:10])
    w.transform = "r"
    w.ruimtekit_label = cfg.label  # named in the diagnostics tables
    return w


def moran(values: Sequence[float], w: Any, *, permutations: int = PERMUTATIONS,
          seed: int = SEED) -> dict[str, float]:
    """Global Moran's I (esda): ``I, expected, z_norm, p_norm, p_sim, permutations``.

    ``p_sim`` is the one-sided pseudo p-value from conditional permutations; ``p_norm``
    the two-sided p-value under normality.
    """
    import esda

    y = np.asarray(values, dtype=float)
    if y.shape != (w.n,) or not np.isfinite(y).all():
        raise InputError(None, f"Moran's I needs {w.n} finite values, got {y.shape}",
                         "drop missing values and build the weights on the same zones")
    np.random.seed(seed)  # noqa: NPY002 - esda.Moran permutes with the legacy global RNG
    m = esda.Moran(y, w, permutations=permutations)
    return {"I": float(m.I), "expected": float(m.EI), "z_norm": float(m.z_norm),
            "p_norm": float(m.p_norm), "p_sim": float(m.p_sim) if permutations else np.nan,
            "permutations": int(permutations)}


_ESDA_CACHED = False


def _cache_esda_kernels() -> None:
    """Let numba cache esda's compiled permutation kernels on disk.

    esda compiles its conditional-randomisation kernels (``esda.crand``) afresh in every
    process, about 15–30 s before the first LISA on 2 cores; with numba's on-disk cache
    (``Dispatcher.enable_caching``, the same cache as ``@njit(cache=True)``) later processes
    load them in a fraction of that. Results are identical. Where no cache location is
    writable numba says so and the kernels are compiled as before.
    """
    global _ESDA_CACHED
    if _ESDA_CACHED:
        return
    _ESDA_CACHED = True
    try:
        import esda.crand
        import esda.moran
        import esda.significance
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - esda without numba
        return
    for mod in (esda.crand, esda.moran, esda.significance):
        for kernel in vars(mod).values():
            if isinstance(kernel, CPUDispatcher):
                try:
                    kernel.enable_caching()
                except RuntimeError as exc:  # no writable cache location
                    log.debug("numba cannot cache %s: %s", kernel, exc)


def local_moran(values: Sequence[float], w: Any, *, permutations: int = PERMUTATIONS,
                seed: int = SEED, alpha: float = LISA_ALPHA) -> pd.DataFrame:
    """Local Moran's I (LISA, esda.Moran_Local) per zone.

    Returns
    -------
    DataFrame
        ``lisa_I``, ``lisa_p`` (permutation pseudo p-value), ``lisa_cluster``
        (``HH``, ``LH``, ``LL``, ``HL`` when ``lisa_p <= alpha``, else ``ns``).
    """
    import esda

    y = np.asarray(values, dtype=float)
    if y.shape != (w.n,) or not np.isfinite(y).all():
        raise InputError(None, f"local Moran needs {w.n} finite values, got {y.shape}",
                         "drop missing values and build the weights on the same zones")
    _cache_esda_kernels()
    lm = esda.Moran_Local(y, w, permutations=permutations, seed=seed)
    quad = np.array(["", "HH", "LH", "LL", "HL"])[lm.q]
    lab = np.where(lm.p_sim <= alpha, quad, "ns")
    return pd.DataFrame({"lisa_I": lm.Is, "lisa_p": lm.p_sim, "lisa_cluster": lab})


class RegressionOptions(Section):
    """Inference and diagnostics of :func:`regress`.

    Attributes
    ----------
    cov : str
        ``HC1`` (heteroskedasticity-robust), ``cluster`` (by ``cluster_column``) or
        ``conley`` (spatial HAC, triangular kernel with bandwidth ``conley_km``).
    cluster_column : str
        Region column for clustered errors (e.g. ``corop``).
    conley_km : float
        Conley kernel bandwidth in km.
    weights : WeightsConfig
        Weights of the residual diagnostics and spatial models.
    spatial_models : list of str
        ``lag`` and/or ``error``: also fit spreg's ML spatial lag/error models.
    permutations : int
        Permutations of the residual Moran's I.
    """

    cov: Literal["HC1", "cluster", "conley"] = "HC1"
    cluster_column: str = "corop"
    conley_km: float = Field(CONLEY_KM, gt=0)
    weights: WeightsConfig = Field(default_factory=WeightsConfig)
    spatial_models: list[Literal["lag", "error"]] = Field(default_factory=list)
    permutations: int = Field(PERMUTATIONS, ge=0)


@dataclass
class SpatialRegression:
    """A regression with its spatial diagnostics.

    Attributes
    ----------
    table : DataFrame
        ``model, term, coef, se, t, p, ci_low, ci_high, n, r2, cov_type`` (OLS first, then
        the spatial models' coefficients including ``rho``/``lambda``).
    diagnostics : DataFrame
        ``model, test, statistic, p, weights`` — residual Moran's I (esda, permutations and
        normal), LM/robust LM error and lag, SARMA, Jarque–Bera, Breusch–Pagan,
        condition number, and the spatial models' log-likelihood and AIC.
    residuals, fitted : ndarray
        OLS residuals and fitted values.
    residual_moran : dict
        :func:`moran` of the OLS residuals.
    """

    table: pd.DataFrame
    diagnostics: pd.DataFrame
    residuals: np.ndarray
    fitted: np.ndarray
    residual_moran: dict[str, float]
    models: dict[str, Any] = field(default_factory=dict)


def _coef_rows(model: str, names: list[str], b: np.ndarray, se: np.ndarray, n: int,
               r2: float, cov: str, dof: int | None) -> pd.DataFrame:
    from scipy import stats

    t = b / se
    if dof is None:
        p = 2 * stats.norm.sf(np.abs(t))
        q = stats.norm.ppf(0.975)
    else:
        p = 2 * stats.t.sf(np.abs(t), dof)
        q = stats.t.ppf(0.975, dof)
    return pd.DataFrame({"model": model, "term": names, "coef": b, "se": se, "t": t, "p": p,
                         "ci_low": b - q * se, "ci_high": b + q * se, "n": n, "r2": r2,
                         "cov_type": cov})


def regress(y: Sequence[float], X: pd.DataFrame, w: Any, *,
            options: RegressionOptions | None = None,
            groups: Sequence[object] | None = None,
            coords: np.ndarray | None = None) -> SpatialRegression:
    """OLS of ``y`` on ``X`` (a constant is added) with spatial diagnostics.

    Parameters
    ----------
    y : sequence of float
        Dependent variable, one value per zone of ``w``.
    X : DataFrame
        Regressors (named columns), same rows.
    w : libpysal W
        Weights for the diagnostics and spatial models (:func:`spatial_weights`).
    options : RegressionOptions
    groups : sequence, optional
        Cluster labels (needed for ``cov="cluster"``).
    coords : ndarray (n, 2), optional
        Zone points in metres (needed for ``cov="conley"``).

    Returns
    -------
    SpatialRegression
    """
    import spreg
    import statsmodels.api as sm

    opt = options or RegressionOptions()
    yv = np.asarray(y, dtype=float)
    n = yv.size
    if len(X) != n or w.n != n:
        raise InputError(None, f"{n} outcomes, {len(X)} regressor rows, {w.n} weights rows",
                         "build X and the weights on exactly the regression's zones")
    Xv = X.to_numpy(dtype=float)
    if not (np.isfinite(yv).all() and np.isfinite(Xv).all()):
        raise InputError(None, "missing or infinite values in the regression",
                         "drop those zones before the regression")
    names = ["const", *map(str, X.columns)]
    Xc = np.column_stack([np.ones(n), Xv])
    ols = sm.OLS(yv, Xc)
    if opt.cov == "cluster":
        if groups is None:
            raise InputError(None, "clustered errors need groups",
                             f"give a '{opt.cluster_column}' column per zone")
        g = pd.factorize(pd.Series(list(groups)).astype(str))[0]
        res = ols.fit(cov_type="cluster", cov_kwds={"groups": g})
        cov_label = f"cluster({opt.cluster_column}, {len(set(g))} groups)"
        se = np.asarray(res.bse)
    else:
        res = ols.fit(cov_type="HC1")
        se = np.asarray(res.bse)
        cov_label = "HC1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp = spreg.OLS(yv[:, None], Xv, w=w, spat_diag=True, moran=True, white_test=False,
                       name_x=list(map(str, X.columns)), name_y="y")
        if opt.cov == "conley":
            if coords is None:
                raise InputError(None, "Conley errors need zone coordinates",
                                 "pass coords (n × 2, metres)")
            from libpysal import weights as lw

            gwk = lw.Kernel(np.asarray(coords, dtype=float), bandwidth=opt.conley_km * 1000.0,
                            fixed=True, function="triangular", diagonal=True)
            hac = spreg.OLS(yv[:, None], Xv, robust="hac", gwk=gwk)
            se = np.sqrt(np.diag(hac.vm))
            cov_label = f"conley({opt.conley_km:g} km, triangular)"
    b = np.asarray(res.params, dtype=float)
    table = [_coef_rows("ols", names, b, se, n, float(res.rsquared), cov_label,
                        None if opt.cov == "cluster" else int(res.df_resid))]
    resid = np.asarray(res.resid, dtype=float)
    rm = moran(resid, w, permutations=opt.permutations)
    wl = getattr(w, "ruimtekit_label", "user weights")
    diag = [
        ("ols", "residual Moran's I", rm["I"], rm["p_sim"] if opt.permutations
         else rm["p_norm"]),
        ("ols", "residual Moran's I z (normal)", float(sp.moran_res[1]),
         float(sp.moran_res[2])),
        ("ols", "LM error", float(sp.lm_error[0]), float(sp.lm_error[1])),
        ("ols", "LM lag", float(sp.lm_lag[0]), float(sp.lm_lag[1])),
        ("ols", "robust LM error", float(sp.rlm_error[0]), float(sp.rlm_error[1])),
        ("ols", "robust LM lag", float(sp.rlm_lag[0]), float(sp.rlm_lag[1])),
        ("ols", "LM SARMA", float(sp.lm_sarma[0]), float(sp.lm_sarma[1])),
        ("ols", "Jarque-Bera", float(sp.jarque_bera["jb"]), float(sp.jarque_bera["pvalue"])),
        ("ols", "Breusch-Pagan", float(sp.breusch_pagan["bp"]),
         float(sp.breusch_pagan["pvalue"])),
        ("ols", "condition number", float(sp.mulColli), np.nan),
        ("ols", "AIC", float(sp.aic), np.nan),
    ]
    models: dict[str, Any] = {"ols": res}
    for kind in opt.spatial_models:
        # spreg 1.9 prints the model class name from its summary code: keep stdout clean
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            m = (spreg.ML_Lag if kind == "lag" else spreg.ML_Error)(
                yv[:, None], Xv, w=w, name_x=list(map(str, X.columns)), name_y="y")
        mb = np.asarray(m.betas, dtype=float).ravel()
        mse = np.sqrt(np.diag(m.vm))
        extra = "rho" if kind == "lag" else "lambda"
        table.append(_coef_rows(kind, [*names, extra], mb, mse, n, float(m.pr2), "ML", None))
        diag += [(kind, "log-likelihood", float(m.logll), np.nan),
                 (kind, "AIC", float(m.aic), np.nan)]
        mres = np.asarray(m.e_filtered if kind == "error" else m.u, dtype=float).ravel()
        mm = moran(mres, w, permutations=opt.permutations)
        diag.append((kind, "residual Moran's I", mm["I"],
                     mm["p_sim"] if opt.permutations else mm["p_norm"]))
        models[kind] = m
    diagnostics = pd.DataFrame(diag, columns=["model", "test", "statistic", "p"])
    diagnostics["weights"] = wl
    return SpatialRegression(
        table=pd.concat(table, ignore_index=True),
        diagnostics=diagnostics,
        residuals=resid, fitted=np.asarray(res.fittedvalues, dtype=float),
        residual_moran=rm, models=models)


__all__ = ["CONLEY_KM", "KNN_K", "LISA_ALPHA", "PERMUTATIONS", "RegressionOptions",
           "SpatialRegression", "WeightsConfig", "local_moran", "moran", "regress",
           "spatial_weights"]
