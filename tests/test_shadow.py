"""Borrowed-size regression per the literature: rings, ranks, diagnostics, sensitivity,
bootstrap, and the two-sided catchment fit (hand-computed and PySAL oracles)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import spreg

from ruimtekit.analysis import borrowed_size as bs
from ruimtekit.analysis import shadow, spatial


def _squares() -> gpd.GeoDataFrame:
    g = [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000),
         shapely.box(30_000, 0, 31_000, 1000)]
    return gpd.GeoDataFrame({"zone_id": ["A", "B", "C"]}, geometry=g, crs="EPSG:28992")


def test_fine_rings_exclude_own_zone_hand_case():
    zones = _squares()
    # fine areas: two in A (100, 50 people), one in B (200), one in C (400), one outside (7)
    fine = gpd.GeoDataFrame(
        {"population": [100.0, 50.0, 200.0, 400.0, 7.0]},
        geometry=[shapely.box(0, 0, 500, 500), shapely.box(500, 500, 1000, 1000),
                  shapely.box(1200, 200, 1800, 800), shapely.box(30_100, 100, 30_900, 900),
                  shapely.box(8000, 0, 8100, 100)], crs="EPSG:28992")
    px, py = np.array([500.0, 1500.0, 30_500.0]), np.array([500.0, 500.0, 500.0])
    r, rep = shadow.fine_rings(zones["zone_id"], (px, py), fine, zones, [(0, 10), (10, 50)])
    ring0 = r["population_ring_fine_0_10km"].to_numpy()
    ring1 = r["population_ring_fine_10_50km"].to_numpy()
    # A: B's 200 + the outside 7 within 10 km (its own 150 excluded); C at 30 km in ring 2
    np.testing.assert_allclose(ring0, [207, 157, 0])
    np.testing.assert_allclose(ring1, [400, 400, 357])
    assert rep["outside_zones"] == 7 and rep["population"] == 757


def test_urban_rank():
    r = shadow.urban_rank([10, 30, 20, 5, 8], ["x", "x", "x", "y", None])
    np.testing.assert_array_equal(r[:4], [3, 1, 2, 1])
    assert np.isnan(r[4])


def _cities(n: int = 150, seed: int = 3) -> pd.DataFrame:
    """SYNTHETIC cities on a plane with log(y/P) = 0.3 − 0.1 log P + 0.05 log N + e."""
    rng = np.random.default_rng(seed)
    pop = np.exp(rng.normal(10, 1, n))
    ring = np.exp(rng.normal(12, 1, n))
    e = rng.normal(0, 0.2, n)
    e[0] = 3.0  # one clear over-performer
    y = pop * np.exp(0.3 - 0.1 * np.log(pop) + 0.05 * np.log(ring) + e)
    return pd.DataFrame({"zone_id": [f"GM{i:04d}" for i in range(n)], "amenities": y,
                         "jobs": y * rng.lognormal(0, 0.1, n), "population": pop,
                         "ring": ring - 1.0, "ring2": ring * 2,
                         "provincie": np.where(np.arange(n) % 2, "p1", "p2"),
                         "point_x": rng.uniform(0, 2e5, n), "point_y": rng.uniform(3e5, 6e5, n)})


def test_fit_matches_spreg_and_reports_residual_moran():
    df = _cities()
    spec = shadow.ShadowSpec(surrounding=["ring"])
    r = shadow.fit(df, spec, options=spatial.RegressionOptions(permutations=99))
    ols = r.table.set_index("term")
    b, se = ols.loc["log_population", ["coef", "se"]]
    assert abs(b + 0.1) < 3 * se  # true own-size elasticity −0.1 within 3 SE
    X = np.column_stack([np.log(df["population"]), np.log(df["ring"] + 1)])
    y = np.log(df["amenities"] / df["population"]).to_numpy()
    w = spatial.spatial_weights(df[["point_x", "point_y"]].to_numpy())
    ref = spreg.OLS(y[:, None], X, w=w, moran=True, spat_diag=True)
    np.testing.assert_allclose(ols["coef"], ref.betas.ravel(), rtol=1e-9)
    d = r.diagnostics.set_index("test")
    assert d.loc["residual Moran's I", "statistic"] == pytest.approx(ref.moran_res[0])
    assert r.cities.loc[0, "size_class"] == "borrowing"
    assert r.table["outcome"].iloc[0] == "log(amenities/population)"


def test_sensitivity_grid_and_agreement():
    df = _cities()
    base = shadow.ShadowSpec(surrounding=["ring"])
    tab = shadow.sensitivity(df, base, outcomes=["amenities", "jobs"],
                             rings={"a": ["ring"], "b": ["ring2"]},
                             fixed_effects=[None, "provincie"],
                             exclusions={"none": [], "first": ["GM0000"]},
                             options=spatial.RegressionOptions(permutations=0))
    specs = tab.drop_duplicates(["outcome", "rings", "fixed_effects", "exclusion"])
    assert len(specs) == 16
    first = specs.iloc[0]
    assert first["class_agreement"] == 1.0 and first["n"] == 150
    assert (specs.loc[specs["exclusion"] == "first", "n"] == 149).all()
    # ring2 = 2·(ring + 1): only the constant moves, so the classes agree exactly
    same = specs[(specs["outcome"] == "log(amenities/population)") & (specs["rings"] == "b")
                 & (specs["fixed_effects"] == "none") & (specs["exclusion"] == "none")]
    assert same["class_agreement"].iloc[0] == 1.0
    assert {"coef", "se", "residual_moran_I", "class_agreement"} <= set(tab.columns)


def test_bootstrap_stability():
    df = _cities()
    r = shadow.fit(df, shadow.ShadowSpec(surrounding=["ring"]),
                   options=spatial.RegressionOptions(permutations=0))
    b = shadow.bootstrap_classes(r, draws=100)
    assert b.loc[0, "class_stability"] == 1.0 and b.loc[0, "p_borrowing"] == 1.0
    probs = b[["p_borrowing", "p_as_expected", "p_shadow"]].sum(axis=1)
    np.testing.assert_allclose(probs, 1.0)
    assert ((b["class_stability"] >= 0) & (b["class_stability"] <= 1)).all()
    # cities near a class boundary are less stable than the outlier
    assert b["class_stability"].min() < 0.9


def test_two_sided_catchment_fit_hand_case():
    # 4 zones; work zone 0 receives 60 from zone 1, 30 from zone 2, 10 from zone 3, 50 local
    F = np.zeros((4, 4))
    F[:, 0] = [50, 60, 30, 10]
    F[1, 1] = 40
    F[2, 2] = 70
    F[3, 3] = 90
    t = np.full((4, 4), 100.0)
    np.fill_diagonal(t, 5.0)
    t[1, 0] = t[3, 0] = 20.0  # modelled catchment of 0 = {1, 3} (plus itself)
    obs = bs.ObservedFlows(zone_ids=np.array(list("abcd")), matrix=F, report={})
    out = bs.compare_catchments(obs, t, list("abcd"), cutoff=45).iloc[0]
    assert out["in_commuters"] == 100
    assert out["in_commuter_share_within_catchment"] == pytest.approx(0.7)
    # observed catchment covering 90% of the 100 in-commuters: zones 1 and 2
    assert out["observed_catchment_zones"] == 2
    assert out["catchment_precision"] == pytest.approx(0.5)  # {1,3} ∩ {1,2} / {1,3}
    assert out["catchment_recall"] == pytest.approx(0.5)
    assert out["catchment_jaccard"] == pytest.approx(1 / 3)
    # resident workers of zones 1 and 3: 100 and 100; 70 of them work in zone 0
    assert out["catchment_resident_workers"] == 200
    assert out["catchment_commute_in_share"] == pytest.approx(0.35)
