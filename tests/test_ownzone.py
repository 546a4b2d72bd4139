"""The one own-zone rule: distances below (2/3)·sqrt(area/pi) use that distance (issue 17)."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from ruimtekit.analysis import _ownzone, accessibility, agglomeration
from ruimtekit.analysis import borrowed_size as bs
from ruimtekit.engine.measures import MeasureSpec
from ruimtekit.io import layers


def _two_squares() -> gpd.GeoDataFrame:
    """Two 2 km × 2 km square zones side by side (EPSG:28992), 100 jobs each."""
    g = [shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 4000, 2000)]
    return gpd.GeoDataFrame({"zone_id": ["a", "b"], "jobs": [100.0, 100.0]}, geometry=g,
                            crs="EPSG:28992")


def test_near_coincident_destination_uses_internal_distance(caplog):
    zones = _two_squares()
    r_int = 2 / 3 * math.sqrt(4e6 / math.pi)  # 752 m
    # destinations 1 m and 2 m from zone a's centroid, and one 3 km away
    dest = gpd.GeoDataFrame({"jobs": [50.0, 70.0, 30.0]},
                            geometry=gpd.points_from_xy([1001, 1000, 1000], [1000, 1002, 4000]),
                            crs="EPSG:28992")
    with caplog.at_level(logging.WARNING):
        ed = accessibility.effective_density(zones, dest, "jobs")
    # hand-computed (km): zone a: 50/0.752 + 70/0.752 + 30/3; zone b: distances from (3000, 1000)
    d_b = np.hypot([3000 - 1001, 3000 - 1000, 3000 - 1000], [0, 2, 3000]) / 1000
    want_a = 120 / (r_int / 1000) + 30 / 3.0
    want_b = float((np.array([50, 70, 30]) / d_b).sum())
    np.testing.assert_allclose(ed["jobs_ed1"].to_numpy(), [want_a, want_b], rtol=1e-12)
    assert "2 origin-destination pair(s)" in caplog.text
    # the old behaviour (only exactly 0 m used the internal distance) gave 50/0.001 km
    assert ed["jobs_ed1"].iloc[0] < 1000


def test_matrix_form_floors_off_diagonal_and_counts():
    d = np.array([[0.0, 0.1, 5.0], [0.1, 0.0, 5.0], [5.0, 5.0, 0.0]])  # km
    area = np.array([4.0, 4.0, 4.0])  # km² → internal 0.752 km
    r = 2 / 3 * math.sqrt(4 / math.pi)
    ed = agglomeration.effective_density(d, np.array([1.0, 2.0, 3.0]), area)
    np.testing.assert_allclose(ed, [1 / r + 2 / r + 3 / 5, 1 / r + 2 / r + 3 / 5,
                                    1 / 5 + 2 / 5 + 3 / r])
    out, n = _ownzone.floor_matrix(d, np.full(3, r), "test")
    assert n == 2 and out[0, 1] == pytest.approx(r) and out[0, 2] == 5.0


def test_crowfly_access_neighbour_closer_than_internal_distance(caplog):
    # zone b's point 100 m from zone a's: both see each other at a's/b's internal distance
    g = [shapely.box(0, 0, 2000, 2000), shapely.box(2000, 0, 2200, 2000)]
    zones = gpd.GeoDataFrame({"zone_id": ["a", "b"], "jobs": [10.0, 20.0],
                              "pop_x": [1000.0, 1100.0], "pop_y": [1000.0, 1000.0]},
                             geometry=g, crs="EPSG:28992")
    with caplog.at_level(logging.WARNING):
        res = accessibility.crowfly_access(zones, measures=MeasureSpec(
            decays=[{"kind": "exponential", "beta": 0.1}], cutoffs=[]), mode="walk")
    col = [c for c in res.columns if c.startswith("jobs_exp")][0]
    v = res[col].to_numpy()
    # each zone sees its own jobs and its neighbour's (100 m away) at its internal distance
    m = accessibility.impedance.model_for("walk")
    t = np.rint(accessibility.impedance.crowfly_seconds(
        accessibility.intrazonal_distance_m(zones), m))
    np.testing.assert_allclose(v, 30.0 * np.exp(-0.1 * t / 60.0), rtol=1e-9)
    assert "2 origin-destination pair(s)" in caplog.text  # a→b (752 m) and b→a (238 m)


@pytest.fixture(scope="module")
def gemeente_inputs():
    zones = layers.read_zones("data/raw/cbs_gemeenten_2022.geojson")
    w = bs.read_wijk_centroids("data/raw/cbs_wijk_centroids_2015.geojson")
    j = pd.read_csv("data/raw/cbs_wijk_banen_2014.csv", dtype={"wk_code": str})
    w = w.merge(j[["wk_code", "banen_werkplaats"]], left_on="code", right_on="wk_code")
    w = w.rename(columns={"banen_werkplaats": "jobs"})
    with pytest.warns(UserWarning):
        fine = layers.read_zones("data/raw/cbs_pc4_2021.parquet")
    return zones, w, fine


BIG4 = ["GM0363", "GM0599", "GM0518", "GM0344"]  # Amsterdam, Rotterdam, Den Haag, Utrecht


def test_effective_density_real_big_four_in_top10(gemeente_inputs):
    zones, wijk_jobs, fine = gemeente_inputs
    res = agglomeration.population_effective_density(zones, fine, wijk_jobs, "jobs")
    rank = res.set_index("zone_id")["jobs_ed1_pop"].rank(ascending=False)
    assert (rank[BIG4] <= 10).all(), rank[BIG4].to_dict()
    assert rank["GM0363"] == 1
    assert res["population"].sum() == pytest.approx(fine["population"].sum(), rel=0.01)
    # point-based ED with population points no longer explodes on near-coincident wijken
    pts, _ = bs.population_points(zones, fine)
    z = zones.assign(pop_x=pts["pop_x"].to_numpy(), pop_y=pts["pop_y"].to_numpy())
    ed = accessibility.effective_density(z, wijk_jobs, "jobs").set_index("zone_id")["jobs_ed1"]
    assert ed.max() < 3e5  # was 1.85e7 (Amstelveen) before the rule
    assert ed.rank(ascending=False)[["GM0363", "GM0344", "GM0518"]].max() <= 10
