"""Spatial statistics against hand formulas and PySAL itself on small cases."""

from __future__ import annotations

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import statsmodels.api as sm
from libpysal import weights as lw

from oracles import square_cells
from ruimtekit._errors import InputError
from ruimtekit.analysis import spatial


def _grid(n: int = 7) -> gpd.GeoDataFrame:
    """n × n grid of 1 km squares (EPSG:28992)."""
    return gpd.GeoDataFrame({"zone_id": [f"z{k}" for k in range(n * n)]},
                            geometry=square_cells(n, 1000.0), crs="EPSG:28992")


def test_weights_kinds_match_libpysal():
    g = _grid(4)
    w = spatial.spatial_weights(g, spatial.WeightsConfig(kind="rook"))
    assert w.cardinalities[0] == 2 and w.cardinalities[5] == 4  # corner, interior
    assert w.transform == "R"
    wq = spatial.spatial_weights(g, spatial.WeightsConfig(kind="queen"))
    assert wq.cardinalities[5] == 8
    wk = spatial.spatial_weights(g, spatial.WeightsConfig(kind="knn", k=3))
    assert set(wk.cardinalities.values()) == {3}
    wd = spatial.spatial_weights(g, spatial.WeightsConfig(kind="distance", threshold_m=1001))
    assert wd.cardinalities[5] == 4
    with pytest.raises(ValueError):
        spatial.WeightsConfig(kind="distance")


def test_moran_hand_formula_and_esda():
    g = _grid(5)
    y = np.array([i % 5 + (i // 5) for i in range(25)], dtype=float)  # a gradient: clustered
    w = spatial.spatial_weights(g, spatial.WeightsConfig(kind="rook"))
    res = spatial.moran(y, w, permutations=99)
    W = w.full()[0]
    z = y - y.mean()
    hand = len(y) / W.sum() * (z @ W @ z) / (z @ z)
    assert res["I"] == pytest.approx(hand)
    assert res["I"] == pytest.approx(esda.Moran(y, w, permutations=0).I)
    assert res["I"] > 0.5 and res["p_sim"] <= 0.01
    # a checkerboard is perfectly negatively autocorrelated under rook weights
    chess = np.array([(i % 5 + i // 5) % 2 for i in range(25)], dtype=float)
    assert spatial.moran(chess, w, permutations=0)["I"] == pytest.approx(-1.0)


def test_local_moran_matches_esda_and_sums_to_global():
    g = _grid(5)
    rng = np.random.default_rng(3)
    y = rng.normal(size=25)
    y[:5] += 3
    w = spatial.spatial_weights(g, spatial.WeightsConfig(kind="queen"))
    loc = spatial.local_moran(y, w, permutations=99)
    ref = esda.Moran_Local(y, w, permutations=99, seed=spatial.SEED)
    np.testing.assert_allclose(loc["lisa_I"], ref.Is)
    # Σ I_i / n = global I (row-standardised weights, esda's normalisation with n - 1 ≈ n)
    glob = esda.Moran(y, w, permutations=0).I
    assert loc["lisa_I"].sum() / (len(y) - 1) == pytest.approx(glob, rel=1e-9)
    assert set(loc["lisa_cluster"]) <= {"HH", "LL", "HL", "LH", "ns"}


def _sim(n_side: int = 12, seed: int = 5):
    g = _grid(n_side)
    rng = np.random.default_rng(seed)
    n = n_side * n_side
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 1.0 + 0.5 * x1 - 0.3 * x2 + rng.normal(scale=0.5, size=n)
    return g, pd.DataFrame({"x1": x1, "x2": x2}), y


def test_regress_ols_equals_statsmodels_and_spreg_diagnostics():
    import spreg

    g, X, y = _sim()
    w = spatial.spatial_weights(g, spatial.WeightsConfig(kind="queen"))
    r = spatial.regress(y, X, w, options=spatial.RegressionOptions(permutations=99))
    ref = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC1")
    ols = r.table[r.table["model"] == "ols"]
    np.testing.assert_allclose(ols["coef"], ref.params, rtol=1e-10)
    np.testing.assert_allclose(ols["se"], ref.bse, rtol=1e-10)
    sp = spreg.OLS(y[:, None], X.to_numpy(), w=w, spat_diag=True, moran=True)
    d = r.diagnostics.set_index("test")
    assert (d["weights"] == "queen").all()
    assert d.loc["LM error", "statistic"] == pytest.approx(sp.lm_error[0])
    assert d.loc["robust LM lag", "p"] == pytest.approx(sp.rlm_lag[1])
    assert d.loc["residual Moran's I", "statistic"] == pytest.approx(sp.moran_res[0])
    # independent errors: no residual dependence detected
    assert d.loc["residual Moran's I", "p"] > 0.05


def test_spatial_error_data_detected_and_models_fit():
    g, X, _ = _sim(10, seed=8)
    w = spatial.spatial_weights(g, spatial.WeightsConfig(kind="rook"))
    rng = np.random.default_rng(1)
    # u = (I - λW)^-1 e with λ = 0.7: strongly autocorrelated errors
    W = w.full()[0]
    u = np.linalg.solve(np.eye(100) - 0.7 * W, rng.normal(size=100))
    y = 1 + 0.5 * X["x1"].to_numpy() + u
    r = spatial.regress(y, X, w, options=spatial.RegressionOptions(
        spatial_models=["error", "lag"], permutations=99))
    d = r.diagnostics
    ols_i = d[(d["model"] == "ols") & (d["test"] == "residual Moran's I")]
    assert ols_i["statistic"].iloc[0] > 0.2 and ols_i["p"].iloc[0] <= 0.01
    lam = r.table[(r.table["model"] == "error") & (r.table["term"] == "lambda")]["coef"].iloc[0]
    assert 0.4 < lam < 0.9
    err_i = d[(d["model"] == "error") & d["test"].str.startswith("residual")]["statistic"]
    assert abs(err_i.iloc[0]) < ols_i["statistic"].iloc[0]


def test_cluster_and_conley_errors():
    g, X, y = _sim()
    w = spatial.spatial_weights(g)
    groups = (np.arange(144) // 12)  # rows of the grid
    r = spatial.regress(y, X, w, options=spatial.RegressionOptions(cov="cluster"),
                        groups=groups)
    ref = sm.OLS(y, sm.add_constant(X)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(r.table["se"], ref.bse, rtol=1e-10)
    # Conley with a bandwidth below the zone spacing keeps only i = j: White's HC0
    pts = np.column_stack([g.centroid.x, g.centroid.y])
    rc = spatial.regress(y, X, w, options=spatial.RegressionOptions(cov="conley", conley_km=0.5),
                         coords=pts)
    hc0 = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC0")
    np.testing.assert_allclose(rc.table["se"], hc0.bse, rtol=1e-6)
    # a wide bandwidth changes the errors
    rw = spatial.regress(y, X, w, options=spatial.RegressionOptions(cov="conley", conley_km=4),
                         coords=pts)
    assert not np.allclose(rw.table["se"], hc0.bse, rtol=1e-3)
    with pytest.raises(InputError):
        spatial.regress(y, X, w, options=spatial.RegressionOptions(cov="cluster"))


def test_islands_reported(caplog):
    g = _grid(3)
    far = gpd.GeoDataFrame({"zone_id": ["island"]}, geometry=[shapely.box(9e4, 9e4, 9.1e4, 9.1e4)],
                           crs="EPSG:28992")
    gg = pd.concat([g, far], ignore_index=True)
    import logging

    with caplog.at_level(logging.WARNING):
        w = spatial.spatial_weights(gg, spatial.WeightsConfig(kind="queen"))
    assert w.islands == [9] and "islands" in caplog.text
    assert isinstance(lw.W, type)
