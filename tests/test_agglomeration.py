"""Agglomeration elasticities, the doubling helper and effective density."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from ruimtekit._errors import InputError
from ruimtekit.analysis import agglomeration as ag


def test_doubling_effect_published_figures():
    # Groot, de Groot & Smit (2014): ε = 0.048 → +3.4% for a doubling of density
    assert ag.doubling_effect(0.048) == pytest.approx(2**0.048 - 1)
    assert round(100 * ag.doubling_effect(0.048), 1) == 3.4
    assert ag.doubling_text(0.048) == "doubling density gives +3.4%"
    # Dutch policy figures: +9% (high-educated) and +3% (low-educated) per doubling
    assert ag.elasticity_for_doubling(0.09) == pytest.approx(0.124, abs=5e-4)
    assert ag.elasticity_for_doubling(0.03) == pytest.approx(0.043, abs=5e-4)
    assert round(100 * ag.doubling_effect(0.124), 0) == 9
    assert round(100 * ag.doubling_effect(0.043), 0) == 3
    e = np.array([0.0, 0.03, 0.05, 1.0])
    np.testing.assert_allclose(ag.elasticity_for_doubling(ag.doubling_effect(e)), e)
    assert ag.doubling_effect(1.0) == pytest.approx(1.0)  # proportional: doubling doubles
    with pytest.raises(InputError):
        ag.elasticity_for_doubling(-1.2)


def _synthetic_zones(n: int = 500, eps: float = 0.048, seed: int = 11) -> pd.DataFrame:
    """SYNTHETIC zones: log wage = 3 + ε log density + 0.3 log(x) + noise (heteroskedastic)."""
    rng = np.random.default_rng(seed)
    dens = np.exp(rng.normal(6.0, 1.2, n))
    x = np.exp(rng.normal(0, 0.5, n))
    noise = rng.normal(0, 0.02 + 0.02 * (np.log(dens) > 6), n)
    wage = np.exp(3.0 + eps * np.log(dens) + 0.3 * np.log(x) + noise)
    return pd.DataFrame({"zone_id": [f"z{i}" for i in range(n)], "wage": wage,
                         "density": dens, "x": x})


def test_elasticity_recovered_with_robust_ci():
    df = _synthetic_zones()
    res = ag.estimate_elasticity(df, "wage", "density", controls=["x"])
    assert res.ci_low <= 0.048 <= res.ci_high
    assert abs(res.elasticity - 0.048) < 4 * res.se
    assert res.n == 500 and 0 < res.r2 < 1
    assert res.table["cov_type"].iloc[0] == "HC1"
    assert res.text.startswith("doubling density gives +")
    assert res.doubling == pytest.approx(2**res.elasticity - 1)
    # HC1 is the classical covariance scaled per White; check against a hand computation
    X = np.column_stack([np.ones(500), np.log(df["density"]), np.log(df["x"])])
    y = np.log(df["wage"].to_numpy())
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ b
    xtx = np.linalg.inv(X.T @ X)
    cov = xtx @ (X.T * u**2) @ X @ xtx * 500 / (500 - 3)
    assert res.se == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-10)
    assert res.elasticity == pytest.approx(b[1], rel=1e-10)


def test_elasticity_reports_dropped_rows():
    df = _synthetic_zones(50)
    df.loc[3, "density"] = 0.0
    df.loc[7, "wage"] = np.nan
    res = ag.estimate_elasticity(df, "wage", "density")
    assert res.dropped == ["z3", "z7"] and res.n == 48
    with pytest.raises(InputError, match="usable rows"):
        ag.estimate_elasticity(df.head(2), "wage", "density")


def test_effective_density_hand_case_and_own_distance():
    # two zones 10 km apart, areas π km² and 4π km² → own distances 2/3 km and 4/3 km
    d = np.array([[0.0, 10.0], [10.0, 0.0]])
    area = np.array([np.pi, 4 * np.pi])
    m = np.array([1000.0, 3000.0])
    np.testing.assert_allclose(ag.own_zone_distance(area), [2 / 3, 4 / 3])
    ed = ag.effective_density(d, m, area, alpha=1.0)
    np.testing.assert_allclose(ed, [1000 / (2 / 3) + 3000 / 10, 1000 / 10 + 3000 / (4 / 3)])
    ed2 = ag.effective_density(d, m, area, alpha=2.0)
    np.testing.assert_allclose(ed2, [1000 / (4 / 9) + 3000 / 100, 1000 / 100 + 3000 / (16 / 9)])
    with pytest.raises(InputError):
        ag.effective_density(d, m, np.array([0.0, 1.0]))


def test_own_zone_distance_is_mean_distance_in_a_disc():
    """(2/3)·R is the mean distance from the centre of a disc of radius R (Monte Carlo)."""
    rng = np.random.default_rng(0)
    r = np.sqrt(rng.uniform(0, 1, 200_000)) * 3.0  # uniform in a disc of radius 3
    assert r.mean() == pytest.approx(ag.own_zone_distance(np.pi * 9.0), rel=5e-3)


def test_zone_effective_density_agrees_with_matrix_form():
    """The zones-layer route (accessibility engine) and the matrix form give one number."""
    rng = np.random.default_rng(5)
    n = 30
    x, y = rng.uniform(0, 50_000, n), rng.uniform(0, 50_000, n)
    side = rng.uniform(500, 2000, n)
    polys = [shapely.box(a - s / 2, b - s / 2, a + s / 2, b + s / 2) for a, b, s in zip(x, y, side, strict=True)]
    jobs = rng.integers(100, 10_000, n).astype(float)
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(n)], "jobs": jobs},
                             geometry=polys, crs=28992)
    d_km = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) / 1000
    mine = ag.effective_density(d_km, jobs, side**2 / 1e6, alpha=1.2)
    theirs = ag.zone_effective_density(zones, "jobs", alpha=1.2)
    np.testing.assert_allclose(theirs, mine, rtol=1e-9)


def test_elasticity_reports_residual_moran_with_points():
    import esda

    from ruimtekit.analysis import spatial

    df = _synthetic_zones(n=120)
    rng = np.random.default_rng(2)
    df["point_x"] = rng.uniform(0, 1e5, len(df))
    df["point_y"] = rng.uniform(3e5, 4e5, len(df))
    res = ag.estimate_elasticity(df, "wage", "density", controls=["x"],
                                 diagnostics=spatial.RegressionOptions(permutations=0))
    d = res.diagnostics.set_index("test")
    w = spatial.spatial_weights(df[["point_x", "point_y"]].to_numpy())
    ref = esda.Moran(np.asarray(res.model.resid), w, permutations=0)
    assert d.loc["residual Moran's I", "statistic"] == pytest.approx(ref.I)
    assert ag.estimate_elasticity(df.drop(columns=["point_x", "point_y"]), "wage",
                                  "density").diagnostics is None
