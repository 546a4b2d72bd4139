"""Zone connectors, ferries and the road-table reader (OSM NL main roads, data/raw/osm_nl).

Oracles: hand-computed times on small tables, and brute-force scipy Dijkstra on the road
graph with the connector edges written out explicitly.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, box

from oracles import edge_matrix, shortest_seconds
from ruimtekit._errors import InputError
from ruimtekit.analysis import accessibility
from ruimtekit.io import layers, places
from ruimtekit.network import connectors, ferries, networks

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
NL = RAW / "osm_nl"
EDGES = NL / "nl_main_roads_osm2021_edges.csv.gz"
NODES = NL / "nl_main_roads_osm2021_nodes.csv.gz"
FERRY_EDGES = NL / "nl_ferries_osm2021_edges.csv.gz"
FERRY_NODES = NL / "nl_ferries_osm2021_nodes.csv.gz"
TO_WGS = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def _write_tables(tmp: Path, nodes_xy: dict[int, tuple[float, float]], links: list[dict],
                  stem: str = "t") -> tuple[Path, Path]:
    """Node (lon/lat) and link CSVs from RD coordinates."""
    ids = list(nodes_xy)
    xs = np.array([nodes_xy[i][0] for i in ids])
    ys = np.array([nodes_xy[i][1] for i in ids])
    lon, lat = TO_WGS.transform(xs, ys)
    npath, epath = tmp / f"{stem}_nodes.csv", tmp / f"{stem}_edges.csv"
    pd.DataFrame({"node_id": ids, "lon": lon, "lat": lat}).to_csv(npath, index=False)
    pd.DataFrame(links).to_csv(epath, index=False)
    return epath, npath


def _link(u: int, v: int, cls: str = "secondary", length: float = 1000.0, oneway: int = 0,
          ramp: int = 0, brunnel: str = "") -> dict:
    return {"u": u, "v": v, "class": cls, "ramp": ramp, "oneway": oneway, "brunnel": brunnel,
            "length_m": length}


# ------------------------------------------------------------------ reader


def test_road_tables_classes_ramps_oneway_and_eligibility(tmp_path):
    xy = {1: (100_000.0, 450_000.0), 2: (101_000.0, 450_000.0), 3: (102_000.0, 450_000.0),
          4: (103_000.0, 450_000.0)}
    e, n = _write_tables(tmp_path, xy, [
        _link(1, 2, "secondary", 1000.0),
        _link(2, 3, "motorway", 1000.0, ramp=1, oneway=1),      # slip road, u→v only
        _link(3, 4, "motorway", 1000.0, oneway=0),
        _link(4, 3, "secondary", 1000.0, brunnel="tunnel"),      # parallel tunnel
    ])
    g = networks.read_road_tables(e, n, "car", largest_component=False)
    ids = list(g.node_ids)
    t = shortest_seconds(g, ids.index(1))
    # secondary 60 km/h: 60 s; motorway_link 60 km/h: 60 s; motorway 100 km/h: 36 s
    assert t[ids.index(2)] == 60
    assert t[ids.index(3)] == 120
    assert t[ids.index(4)] == 156
    back = shortest_seconds(g, ids.index(3))
    assert np.isinf(back[ids.index(2)])  # the slip road is one-way
    elig = dict(zip(ids, g.meta["eligible"], strict=True))
    # 1, 2 on the secondary road; 3, 4 only on motorway, slip road or tunnel
    assert elig == {1: True, 2: True, 3: False, 4: False}


def test_road_tables_unknown_class_and_missing_columns(tmp_path):
    xy = {1: (100_000.0, 450_000.0), 2: (101_000.0, 450_000.0)}
    e, n = _write_tables(tmp_path, xy, [_link(1, 2, "autobahn")])
    with pytest.raises(InputError, match="unknown road class 'autobahn'.*row 2"):
        networks.read_road_tables(e, n, "car")
    df = pd.read_csv(e).drop(columns=["class"])
    df.to_csv(e, index=False)
    with pytest.raises(InputError, match=r"lacks column\(s\) class"):
        networks.read_road_tables(e, n, "car")
    e2, n2 = _write_tables(tmp_path, xy, [_link(1, 9)], stem="m")
    with pytest.raises(InputError, match="missing from"):
        networks.read_road_tables(e2, n2, "car")
    pd.DataFrame({"node_id": [1, 2], "east": [0, 1]}).to_csv(n2, index=False)
    with pytest.raises(InputError, match="node_id and lon/lat"):
        networks.read_road_tables(e2, n2, "car")


def test_bundled_main_roads_read_fully():
    g = networks.read_road_tables(EDGES, NODES, "car", largest_component=False)
    rt = g.meta["road_tables"]
    assert rt["links_read"] == 77_179 and rt["nodes_read"] == 56_281
    assert rt["links_by_class"]["motorway_link"] == 5_717
    with gzip.open(EDGES, "rt") as f:
        df = pd.read_csv(f)
    # directed edges: one-way links once, two-way links twice; self-loops dropped and
    # parallel edges merged (the fastest kept)
    two = df[df["oneway"] == 0]
    pairs = pd.concat([df[["u", "v"]], two[["v", "u"]].set_axis(["u", "v"], axis=1)])
    pairs = pairs[pairs["u"] != pairs["v"]].drop_duplicates()
    assert g.n_edges == len(pairs)


# ------------------------------------------------------------------ connectors (hand-computed)


def _line_graph(tmp_path: Path):
    # three secondary nodes 2 km apart (60 km/h: 120 s per link)
    xy = {1: (100_000.0, 450_000.0), 2: (102_000.0, 450_000.0), 3: (104_000.0, 450_000.0)}
    e, n = _write_tables(tmp_path, xy, [_link(1, 2, length=2000.0), _link(2, 3, length=2000.0)])
    return networks.read_road_tables(e, n, "car")


def test_connector_times_hand_computed(tmp_path):
    g = _line_graph(tmp_path)
    cfg = connectors.ConnectorConfig(k=1, speed_kmh=18.0, detour=1.5, direct_max_m=0)
    # origin 300 m north of node 1, destination 400 m south of node 3
    t = accessibility.connector_times(g, (np.array([100_000.0]), np.array([450_300.0])),
                                      (np.array([104_000.0]), np.array([449_600.0])), cfg)
    # connectors: 300 × 1.5 / 5 m/s = 90 s and 400 × 1.5 / 5 = 120 s; network 240 s
    assert t[0, 0] == 90 + 240 + 120
    # with direct links the short trip uses the local streets when faster
    cfg2 = cfg.model_copy(update={"direct_max_m": 5_000.0})
    t2 = accessibility.connector_times(g, (np.array([100_000.0]), np.array([450_300.0])),
                                       (np.array([100_500.0]), np.array([450_300.0])), cfg2)
    # network: 90 + (500 → node 1: 500 × 1.5 / 5 = 150) = 240; direct: 150 s
    assert t2[0, 0] == 150


def test_connectors_k_nearest_eligible_and_flags(tmp_path):
    g = _line_graph(tmp_path)
    cfg = connectors.ConnectorConfig(k=2, flag_distance_m=2_000.0)
    c = connectors.connect(g, np.array([101_000.0, 102_000.0]), np.array([450_100.0, 455_000.0]),
                           cfg)
    ids = np.asarray(g.node_ids)
    assert sorted(ids[c.node[c.ptr[0]:c.ptr[1]]].tolist()) == [1, 2]
    np.testing.assert_allclose(c.nearest_m, [np.hypot(1000, 100), 5000.0], rtol=1e-5)
    assert c.flag.tolist() == ["", connectors.FLAG_FAR]
    np.testing.assert_allclose(c.seconds, c.distance_m * 1.3 / (15 / 3.6))


# ------------------------------------------------------------------ brute force on a real cut


@pytest.fixture(scope="module")
def delft_cut(tmp_path_factory):
    """Main roads within a 14 km box around Delft (real data), PC4 zones and wijk jobs."""
    tmp = tmp_path_factory.mktemp("cut")
    x0, y0, x1, y1 = 77_000.0, 440_000.0, 91_000.0, 454_000.0
    nodes = pd.read_csv(NODES)
    edges = pd.read_csv(EDGES)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    x, y = tr.transform(nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
    inside = set(nodes["node_id"][(x > x0) & (x < x1) & (y > y0) & (y < y1)])
    cut = edges[edges["u"].isin(inside) & edges["v"].isin(inside)]
    nodes[nodes["node_id"].isin(inside)].to_csv(tmp / "n.csv", index=False)
    cut.to_csv(tmp / "e.csv", index=False)
    g = networks.read_road_tables(tmp / "e.csv", tmp / "n.csv", "car")
    pc4 = layers.read_zones(RAW / "cbs_pc4_2021.parquet", level="pc4")
    zones = pc4[pc4.geometry.centroid.within(box(x0 + 2000, y0 + 2000, x1 - 2000, y1 - 2000))]
    zones = zones.reset_index(drop=True)
    jobs = layers.read_jobs(RAW / "cbs_wijk_banen_2014.csv", columns={"jobs": "banen_werkplaats"},
                            geometry=RAW / "cbs_wijk_centroids_2015.geojson",
                            join_on="wk_code=code", crs="EPSG:28992")
    jobs = jobs[jobs.geometry.within(box(x0, y0, x1, y1))].reset_index(drop=True)
    return g, zones, jobs


def test_connector_access_matches_scipy_dijkstra(delft_cut):
    g, zones, jobs = delft_cut
    assert len(zones) > 20 and len(jobs) > 10 and g.n_nodes > 300
    cfg = connectors.ConnectorConfig(k=3, speed_kmh=15.0, detour=1.3, direct_max_m=3_000.0)
    res = accessibility.connector_access(g, zones, jobs, "jobs", [10, 20], "car", cfg)
    # oracle: explicit graph with zone nodes, destination nodes and connector edges
    zx, zy = places.zone_points(zones)
    jx, jy = jobs.geometry.x.to_numpy(), jobs.geometry.y.to_numpy()
    land = connectors.land_parts(zones)
    zc = connectors.connect(g, zx, zy, cfg, land)
    dc = connectors.connect(g, jx, jy, cfg, land)
    n, nz, nd = g.n_nodes, len(zones), len(jobs)
    rows, cols, w = [], [], []
    src = g.edge_sources()
    rows += src.tolist()
    cols += g.indices.tolist()
    w += g.weights.tolist()
    for i in range(nz):  # zone → its k nodes
        for k in range(zc.ptr[i], zc.ptr[i + 1]):
            rows.append(n + i)
            cols.append(int(zc.node[k]))
            w.append(round(zc.seconds[k]))
    for j in range(nd):  # node → destination
        for k in range(dc.ptr[j], dc.ptr[j + 1]):
            rows.append(int(dc.node[k]))
            cols.append(n + nz + j)
            w.append(round(dc.seconds[k]))
    for i in range(nz):  # direct local-street links (brute force over all pairs)
        for j in range(nd):
            d = np.hypot(zx[i] - jx[j], zy[i] - jy[j])
            if d <= cfg.direct_max_m and zc.part[i] == dc.part[j]:
                rows.append(n + i)
                cols.append(n + nz + j)
                w.append(round(cfg.seconds(d)))
    mat = edge_matrix(n + nz + nd, rows, cols, w)  # the fastest of parallel edges
    t = shortest_seconds(mat, np.arange(n, n + nz))[:, n + nz:]
    t = np.round(t)
    w_jobs = jobs["jobs"].to_numpy()
    for cut in (10, 20):
        expect = ((t <= cut * 60) * w_jobs).sum(axis=1)
        np.testing.assert_allclose(res[f"jobs_{cut}min_car"].to_numpy(), expect)
    assert (res["jobs_20min_car"] > 0).all()


# ------------------------------------------------------------------ land parts and islands


def _island_setup(tmp_path: Path, no_car: bool):
    """Mainland road (1–2), island road (3–4) 10 km off the coast, a 10 km ferry 2 → 3."""
    xy = {1: (100_000.0, 500_000.0), 2: (101_000.0, 500_000.0),
          3: (101_000.0, 510_000.0), 4: (102_000.0, 510_000.0)}
    e, n = _write_tables(tmp_path, xy, [_link(1, 2), _link(3, 4)], stem="road")
    fxy = {10: (101_000.0, 500_200.0), 11: (101_000.0, 509_800.0)}
    fe, fn = _write_tables(tmp_path, fxy, [{"u": 10, "v": 11, "class": "ferry", "ramp": 0,
                                            "oneway": 0, "brunnel": "", "length_m": 10_000.0}],
                           stem="ferry")
    cfg = ferries.FerryConfig(edges=str(fe), nodes=str(fn), speed_kmh=15.0, join_m=500.0,
                              join_speed_kmh=18.0, join_detour=1.5,
                              no_car_terminals={"island": (101_000.0, 509_800.0)} if no_car
                              else {})
    return e, n, cfg


def _zones_two_islands() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"zone_id": ["main", "isle"], "population": [1000.0, 100.0], "jobs": [50.0, 7.0]},
        geometry=[box(98_000, 497_000, 104_000, 503_000), box(99_000, 508_000, 104_000, 512_000)],
        crs="EPSG:28992")


def test_island_reachable_only_by_ferry_with_crossing_and_waiting_time(tmp_path):
    e, n, cfg = _island_setup(tmp_path, no_car=False)
    road = networks.read_road_tables(e, n, "car", largest_component=False)
    g = ferries.add_ferries(road, cfg)
    ids = list(g.node_ids)
    t = shortest_seconds(g, ids.index(2))[ids.index(3)]
    # join 200 m × 1.5 / 5 m/s = 60 s at each end; 10 km at 15 km/h = 2400 s; wait: the
    # 10 km line is a sea crossing (≥ 2 km) with a 60 min headway → 1800 s
    assert t == 60 + 2400 + 1800 + 60
    assert g.meta["ferries"]["terminals_joined"] == 2
    # zones: the island zone connects on its own land part only (never across the water)
    zones = _zones_two_islands()
    res = accessibility.connector_access(g, zones, None, "jobs", [30, 120], "car",
                                         {"k": 1, "direct_max_m": 0})
    assert res.loc[1, "jobs_30min_car"] == 7.0   # its own jobs only
    assert res.loc[1, "jobs_120min_car"] == 57.0  # the mainland over the ferry
    assert res["connector_flag"].tolist() == ["", ""]


def test_car_free_island_unreachable_by_car_but_not_by_bike(tmp_path):
    e, n, cfg = _island_setup(tmp_path, no_car=True)
    car = ferries.add_ferries(networks.read_road_tables(e, n, "car", largest_component=False),
                              cfg)
    bike = ferries.add_ferries(networks.read_road_tables(e, n, "bike", largest_component=False),
                               cfg)
    assert car.meta["ferries"]["no_car_links_dropped"] == 1
    assert bike.meta["ferries"]["no_car_links_dropped"] == 0
    assert 3 not in set(car.node_ids) and 3 in set(bike.node_ids)
    zones = _zones_two_islands()
    res = accessibility.connector_access(car, zones, None, "jobs", [120], "car",
                                         {"k": 1, "direct_max_m": 0})
    # the island has no car network: flagged, reaches only its own jobs (connector time)
    assert res.loc[1, "connector_flag"] == connectors.FLAG_NO_NETWORK
    assert res.loc[1, "jobs_120min_car"] == 7.0
    assert res.loc[0, "jobs_120min_car"] == 50.0


def test_land_parts_separate_islands():
    pc4 = layers.read_zones(RAW / "cbs_pc4_2021.parquet", level="pc4")
    lp = connectors.land_parts(pc4)
    part = dict(zip(pc4["zone_id"], lp.part_of(*places.zone_points(pc4), nearest=True),
                    strict=True))
    # Texel (1791), Terschelling (8881), Ameland (9161), Schiermonnikoog (9166) and
    # Vlieland (8899) are separate from the mainland (1011 Amsterdam, 3511 Utrecht)
    assert part["1011"] == part["3511"]
    isl = [part[z] for z in ("1791", "8881", "9161", "9166", "8899")]
    assert len(set(isl)) == 5 and part["1011"] not in isl


def test_national_islands_by_car():
    """Real data: Ameland is reached over its car ferry (≥ 45 min crossing + 30 min
    waiting), Schiermonnikoog and Vlieland have no car connection."""
    road = networks.read_road_tables(EDGES, NODES, "car", largest_component=False)
    g = ferries.add_ferries(road, ferries.FerryConfig(edges=str(FERRY_EDGES),
                                                      nodes=str(FERRY_NODES)))
    st = g.meta["ferries"]
    assert st["ferry_links_read"] == 491 and st["no_car_links_dropped"] > 0
    tr = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    nes = np.argmin(np.hypot(g.x - 180_751, g.y - 605_308))
    assert np.hypot(g.x[nes] - 180_751, g.y[nes] - 605_308) < 50
    holwerd = np.argmin(np.hypot(g.x - 187_721, g.y - 601_112))
    t = shortest_seconds(g, holwerd)[nes]
    assert 11_385.7 / (15 / 3.6) + 1800 <= t < 11_385.7 / (15 / 3.6) + 1800 + 600
    sx, sy = tr.transform(6.20, 53.47)  # Schiermonnikoog village
    vx, vy = tr.transform(5.06, 53.29)  # Oost-Vlieland
    for px, py in ((sx, sy), (vx, vy)):
        assert np.hypot(g.x - px, g.y - py).min() > 3_000  # no car node on the island
    assert Point(sx, sy).distance(Point(g.x[nes], g.y[nes])) > 20_000


def test_connector_config_in_study_block():
    cfg = accessibility.AccessibilityConfig(name="x", zones="z", modes=["car"], impedance="n",
                                            connectors={"k": 2, "speed_kmh": 20, "detour": 1.4})
    assert cfg.connectors.k == 2 and cfg.connectors.seconds(np.array([1000.0]))[0] == 252.0
    with pytest.raises(ValueError, match="k"):
        accessibility.AccessibilityConfig(name="x", zones="z", modes=["car"], impedance="n",
                                          connectors={"k": 0})


def test_urban_links_take_urban_speed_and_junction_delay(tmp_path):
    xy = {1: (100_000.0, 450_000.0), 2: (101_000.0, 450_000.0), 3: (102_000.0, 450_000.0)}
    e, n = _write_tables(tmp_path, xy, [_link(1, 2, "primary", 1000.0),
                                        _link(2, 3, "primary", 1000.0)])
    town = gpd.GeoDataFrame({"zone_id": ["town", "fields"], "population": [5000.0, 10.0]},
                            geometry=[box(99_500, 449_000, 101_200, 451_000),
                                      box(101_200, 449_000, 103_000, 451_000)], crs="EPSG:28992")
    g = networks.read_road_tables(e, n, "car", urban=(town, 1000.0))
    ids = list(g.node_ids)
    t = shortest_seconds(g, ids.index(1))
    # urban primary: 1000 m at 50 km/h = 72 s + 15 s junction delay; rural primary 80 km/h = 45 s
    assert t[ids.index(2)] == 87
    assert t[ids.index(3)] == 87 + 45
    assert g.meta["road_tables"]["urban_links"] == 1
    peak = networks.read_road_tables(e, n, "car", period="morning_peak", urban=(town, 1000.0))
    tp = shortest_seconds(peak, ids.index(1))
    assert tp[ids.index(3)] == round(87 / 0.8) + round(45 / 0.8)  # primary factor 0.8


def test_borrowed_size_network_times_use_connectors(tmp_path):
    from ruimtekit.analysis import borrowed_size

    g = _line_graph(tmp_path)
    zones = gpd.GeoDataFrame({"zone_id": ["a", "b"]},
                             geometry=[box(99_000, 449_000, 101_000, 451_000),
                                       box(103_000, 449_000, 105_000, 451_000)], crs="EPSG:28992")
    px, py = np.array([100_000.0, 104_000.0]), np.array([450_000.0, 450_000.0])
    m = borrowed_size._network_minutes(zones, px, py, "roads", {"roads": g})
    # both points sit on a node: 0 connector time; network 240 s; own zone 0
    np.testing.assert_allclose(m, [[0.0, 4.0], [4.0, 0.0]])
    with pytest.raises(InputError, match="not a study network"):
        borrowed_size._network_minutes(zones, px, py, "nope", {"roads": g})
    cfg = borrowed_size.BorrowedSizeConfig(networks={"car": "roads"})
    assert cfg.networks == {"car": "roads"}
