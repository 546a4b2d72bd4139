"""Catchments: zone catchments (dissolve), isochrones from reached nodes, batches."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from oracles import grid_graph, shortest_seconds, square_cells
from ruimtekit._errors import InputError
from ruimtekit.analysis import catchments as ca
from ruimtekit.network import graph


def _grid_zones(k: int = 5, size: float = 1000.0) -> gpd.GeoDataFrame:
    """k × k square zones of ``size`` metres; population 100 × (row + 1)."""
    cells = square_cells(k, size, origin=(100_000.0, 400_000.0))
    return gpd.GeoDataFrame({"zone_id": [f"Z{r}{c}" for r in range(k) for c in range(k)],
                             "population": [100.0 * (r + 1) for r in range(k)
                                            for _ in range(k)],
                             "jobs": 10.0}, geometry=cells, crs=28992)


def _times(z: gpd.GeoDataFrame, kmh: float = 6.0) -> np.ndarray:
    c = z.geometry.centroid
    d = np.hypot(c.x.to_numpy()[:, None] - c.x.to_numpy()[None, :],
                 c.y.to_numpy()[:, None] - c.y.to_numpy()[None, :])
    return d / 1000 / kmh * 60  # 1 km = 10 min at 6 km/h


def test_zone_catchments_dissolve_and_masses():
    z = _grid_zones()
    t = _times(z)
    out = ca.zone_catchments(z, t, [10, 15], mode="walk")
    assert len(out) == 25 * 2 and out.crs.to_epsg() == 28992
    centre = out[(out["centre_id"] == "Z22")].set_index("cutoff_min")
    # 10 min: the zone and its 4 rook neighbours (1 km); 15 min adds the 4 diagonals (1.41 km)
    assert centre.loc[10.0, "n_zones"] == 5 and centre.loc[15.0, "n_zones"] == 9
    assert centre.loc[10.0, "population"] == 300 + 200 + 400 + 300 + 300
    assert centre.loc[15.0, "population"] == 3 * (200 + 300 + 400)
    assert centre.loc[15.0, "jobs"] == 90
    g15 = centre.loc[15.0, "geometry"]
    assert g15.geom_type == "Polygon"  # dissolved into one 3 × 3 km square
    assert g15.area == pytest.approx(9e6)
    assert g15.equals(shapely.box(101_000, 401_000, 104_000, 404_000))
    corner = out[(out["centre_id"] == "Z00") & (out["cutoff_min"] == 10)].iloc[0]
    assert corner["n_zones"] == 3 and corner["geometry"].area == pytest.approx(3e6)


def test_zone_catchments_for_user_centres_and_callable_source():
    z = _grid_zones()
    t = _times(z)
    rows = np.array([0, 24])

    def source(idx: np.ndarray) -> np.ndarray:
        return t[rows[idx]]

    out = ca.zone_catchments(z, source, [10], mode="walk", centre_ids=["sw", "ne"])
    assert out["centre_id"].tolist() == ["sw", "ne"]
    assert out["n_zones"].tolist() == [3, 3]
    with pytest.raises(InputError, match="number of origins|rows"):
        ca.zone_catchments(z, t[:3], [10], mode="walk", centre_ids=["a", "b"])


def test_time_source_validation():
    with pytest.raises(InputError, match="NaN"):
        list(ca.iter_time_blocks(np.array([[0.0, np.nan]])))
    with pytest.raises(InputError, match="negative"):
        list(ca.iter_time_blocks(np.array([[0.0, -1.0]])))
    with pytest.raises(InputError, match="number of origins"):
        list(ca.iter_time_blocks(lambda idx: np.zeros((idx.size, 2))))
    with pytest.raises(InputError, match="2-D"):
        list(ca.iter_time_blocks(np.zeros(3)))
    with pytest.raises(InputError, match="destination columns"):
        list(ca.iter_time_blocks(np.zeros((2, 3)), 2, 4))


def test_reachable_long_table():
    z = _grid_zones(3)
    t = _times(z)
    long = ca.reachable_zones_long(z["zone_id"], t, 10)
    assert len(long) == int((t <= 10).sum())
    assert set(long.loc[long["centre_id"] == "Z11", "zone_id"]) == {"Z11", "Z01", "Z10", "Z12",
                                                                    "Z21"}


def test_isochrone_methods_cover_reached_nodes():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 5000, 400) + 150_000
    y = rng.uniform(0, 5000, 400) + 450_000
    t_s = np.hypot(x - 152_500, y - 452_500) / 10.0  # 10 m/s from the centre
    hit = t_s <= 180
    for method in ("buffer", "raster", "concave"):
        g = ca.isochrone_polygon(x, y, t_s, 3.0, buffer_m=200, method=method)
        assert g.is_valid and not g.is_empty
        assert shapely.contains_xy(g, x[hit], y[hit]).all(), method
    exact = ca.isochrone_polygon(x, y, t_s, 3.0, buffer_m=200, method="buffer")
    fast = ca.isochrone_polygon(x, y, t_s, 3.0, buffer_m=200, method="raster", cell_m=25)
    # the raster polygon is within cell·√2 (35.4 m) of the exact one, both ways
    tol = 25 * np.sqrt(2) + 0.5
    assert fast.difference(exact.buffer(tol)).area == pytest.approx(0, abs=1e-3)
    assert exact.difference(fast.buffer(tol)).area == pytest.approx(0, abs=1e-3)
    assert exact.symmetric_difference(fast).area < exact.length * tol


def test_isochrone_single_node_is_a_disc_and_nothing_reached_is_empty():
    g = ca.isochrone_polygon(np.array([0.0, 5000.0]), np.array([0.0, 0.0]),
                             np.array([0.0, np.inf]), 1.0, buffer_m=100)
    assert g.area == pytest.approx(np.pi * 100**2, rel=0.01)
    assert ca.isochrone_polygon(np.zeros(2), np.zeros(2), np.full(2, 999.0), 1.0).is_empty
    with pytest.raises(InputError, match="NaN"):
        ca.isochrone_polygon(np.zeros(1), np.zeros(1), np.array([np.nan]), 1.0)
    with pytest.raises(InputError, match="differ in length"):
        ca.isochrone_polygon(np.zeros(2), np.zeros(1), np.zeros(2), 1.0)
    with pytest.raises(InputError, match="unknown isochrone method"):
        ca.isochrone_polygon(np.zeros(1), np.zeros(1), np.zeros(1), 1.0, method="hull")


def _grid_graph(k: int = 12, spacing: float = 200.0) -> graph.Graph:
    return grid_graph(k, spacing, weights=20.0, origin=(120_000.0, 480_000.0), mode="bike")


def test_graph_batch_isochrones_with_dijkstra_oracle():
    g = _grid_graph()
    sources = np.array([0, 77])
    times = shortest_seconds(g, sources)  # seconds
    # mass points: one at every node, 1 inhabitant each
    pts = gpd.GeoDataFrame({"zone_id": [str(i) for i in range(g.n_nodes)],
                            "population": np.ones(g.n_nodes)},
                           geometry=shapely.points(g.x, g.y), crs=28992)
    out = ca.graph_isochrones(g, iter(times), ["a", "b"], [2, 3],
                              spec=ca.IsochroneSpec(buffer_m=90, mass_columns=["population"]),
                              mass_points=pts)
    assert out["mode"].unique().tolist() == ["bike"]
    assert len(out) == 4 and out.crs.to_epsg() == 28992
    for _, row in out.iterrows():
        k = ["a", "b"].index(row["centre_id"])
        reached = times[k] <= row["cutoff_min"] * 60
        assert row["n_nodes"] == reached.sum()
        # buffer 90 m < half the 200 m spacing: the isochrone holds exactly the reached nodes
        assert row["population"] == reached.sum()
    with pytest.raises(InputError, match="centre ids"):
        ca.graph_isochrones(g, times, ["a"], [2])
