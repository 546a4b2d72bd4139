"""Transit routing parameters, multimodal trips min(direct, transit), travel-time
matrices and the working CRS (a study outside the Netherlands: Porto Alegre)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pydantic import ValidationError

import ruimtekit
from oracles import shortest_seconds
from ruimtekit import _crs
from ruimtekit._errors import InputError
from ruimtekit.analysis import transit_access
from ruimtekit.engine import impedance, transit
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import MeasureSpec
from ruimtekit.io import places
from ruimtekit.network import graph
from transit_fixtures import CONSTANT_LEGS

RAW = Path("data/raw")
POA = RAW / "poa"


# ------------------------------------------------------------------------ parameters
def test_params_defaults_are_documented_constants():
    p = transit.TransitParams()
    # crow-fly legs: the fitted models of impedance (one definition with crow-fly access)
    assert p.walk_speed_kmh is None and p.bike_speed_kmh is None and p.leg_detour is None
    assert p.leg_model("walk") == impedance.model_for("walk")
    assert p.leg_model("bike") == impedance.model_for("bike")
    assert p.leg_model("bike").fixed_min == 1.0  # parking the bike
    # street networks and transfers: the documented constants
    assert p.speed_kmh("walk") == transit.WALK_SPEED_KMH == 4.8
    assert p.speed_kmh("bike") == transit.BIKE_SPEED_KMH == 15.0
    # a set speed replaces the curve (R5 style), keeping the fitted detour unless set
    q = transit.TransitParams(walk_speed_kmh=3.6)
    assert q.leg_model("walk").speed_curve == [(0.0, 3.6)] and q.speed_kmh("walk") == 3.6
    assert q.leg_model("walk").detour_factor == impedance.model_for("walk").detour_factor
    assert transit.TransitParams(leg_detour=1.0).leg_model("bike").detour_factor == 1.0
    assert p.max_access_min == {"walk": 15.0, "bike": 20.0}
    assert p.max_egress_min == {"walk": 15.0, "bike": 20.0} and p.egress_mode == "walk"
    assert p.max_rides == 6 and p.transfers == 5 and p.max_time_min == 120.0
    assert p.transfer_radius_m == 400.0 and p.change_slack_s == 60 and p.board_slack_s == 0
    assert p.direct_s() == 7200.0  # the direct trip may take the whole budget
    assert p.departures().tolist()[:2] == [25200, 25260] and len(p.departures()) == 120


def test_params_conversions_and_validation():
    p = transit.as_params(None, max_transfers=2, window=("14:00", "14:01"),
                          percentiles=(5, 95), k_nearest=None)
    assert p.max_rides == 3 and p.window == ("14:00", "14:01") and p.percentiles == [5, 95]
    # legacy radius: the leg time of the radius under the fitted crow-fly models
    assert p.with_radius("walk", 1000.0).max_access_min["walk"] == pytest.approx(
        float(impedance.crowfly_seconds(1000.0, "walk")) / 60.0)  # the fitted walk model
    assert p.with_radius("bike", 4000.0).max_access_min["bike"] == pytest.approx(
        float(impedance.crowfly_seconds(4000.0, "bike")) / 60.0)  # incl. 1 min parking
    # the same with constant speeds (R5 style): 4,000 m × 1.25 at 15 km/h + 1 min = 21 min
    r5 = transit.TransitParams(bike_speed_kmh=15.0, leg_detour=1.25)
    assert r5.with_radius("bike", 4000.0).max_access_min["bike"] == pytest.approx(21.0)
    assert transit.TransitParams(max_direct_min=30).direct_s() == 1800.0
    for bad in ({"percentiles": [101]}, {"max_access_min": {"walk": -1}},
                {"walk_speed_kmh": 0}, {"max_rides": 0}, {"egress_mode": "car"},
                {"unknown": 1}):
        with pytest.raises(ValidationError):
            transit.TransitParams(**bad)
    cfg = transit_access.TransitConfig(name="x", zones="z", network="n", max_transfers=2,
                                access_radius_m={"walk": 1000.0}, walk_speed_kmh=3.6,
                                board_slack_s=60)
    q = cfg.params("walk")
    assert q.max_rides == 3 and q.board_slack_s == 60 and q.walk_speed_kmh == 3.6
    d = impedance.model_for("walk").detour_factor  # fitted detour, the speed set to 3.6
    assert q.max_access_min["walk"] == pytest.approx(1000 * d / 1000 * 60 / 3.6)
    assert isinstance(q, transit.TransitParams) and not isinstance(q, transit_access.TransitConfig)


def test_board_slack_applies_to_every_boarding(tmp_path):
    """R5's minimum boarding wait: leaving stop A at 07:00:00 misses the 07:00 bus."""
    from transit_fixtures import write_feed

    net = transit.build_network(write_feed(tmp_path / "hand"), "2024-03-12")
    a = int(np.flatnonzero(net.stop_ids == "A")[0])
    b = int(np.flatnonzero(net.stop_ids == "B")[0])
    t0 = transit.raptor_departures(net, [a], [0], [7 * 3600])
    t1 = transit.raptor_departures(net, [a], [0], [7 * 3600], board_slack_s=60)
    assert t0[0, b] == 600.0  # the 07:00 trip, at B 07:10
    assert t1[0, b] == 2400.0  # the next trip: 07:30 → B 07:40
    t2 = transit.raptor_departures(net, [a], [0], [7 * 3600 - 60], board_slack_s=60)
    assert t2[0, b] == 660.0  # one minute earlier: 60 s to board, then the 07:00 trip


# ------------------------------------------------------ multimodal min(direct, transit)
@pytest.fixture()
def line():
    """Two stops 10 km apart with a 10-minute ride both ways; zones beside A, beside B
    and 2 km from A (hand-made geometry, EPSG:28992 metres)."""
    g = graph.from_edges(np.array([0, 1]), np.array([1, 0]), np.array([600.0, 600.0]),
                         np.array([100_000.0, 110_000.0]), np.array([450_000.0, 450_000.0]),
                         mode="transit", largest_component=False, attrs=graph.GraphAttrs(
                             node_ids=np.array(["stop:A", "stop:B"], dtype=object)))
    g.meta["stop_nodes"] = np.array([0, 1])
    zones = gpd.GeoDataFrame(
        {"zone_id": ["z0", "z1", "z2"], "jobs": [1.0, 10.0, 100.0]},
        geometry=gpd.points_from_xy([100_000.0, 110_000.0, 102_000.0],
                                    [450_300.0, 450_300.0, 450_000.0]), crs=28992)
    return g, zones


HAND = CONSTANT_LEGS  # constant-speed legs for the hand-computed cases


def _hand_minutes() -> dict[tuple[str, str], float]:
    """Times worked out by hand (s): bike 60 + 1.25 d / (15/3.6); walk 1.25 d / (4.8/3.6)."""
    bike_300 = 60 + 375 / (15 / 3.6)  # 150 s
    walk_300 = np.ceil(375 / (4.8 / 3.6))  # 282 s
    via = bike_300 + 600 + walk_300  # 1,032 s: bike to A, ride, walk from B
    d02 = np.hypot(2000.0, 300.0)
    direct_02 = np.rint(60 + 1.25 * d02 / (15 / 3.6))  # 667 s: cycling all the way
    direct_12 = np.rint(60 + 1.25 * np.hypot(8000.0, 300.0) / (15 / 3.6))  # 2,462 s
    # z1 → z2 by train: egress walk 2,000 m = 1,875 s > 15 min, so only cycling
    bike_2000 = 60 + 2500 / (15 / 3.6)  # 660 s: z2 cycles to A
    return {("z0", "z1"): via, ("z1", "z0"): via, ("z0", "z2"): direct_02,
            ("z2", "z0"): direct_02, ("z1", "z2"): direct_12,
            ("z2", "z1"): bike_2000 + 600 + walk_300}


def test_od_matrix_is_min_of_direct_and_transit_by_hand(line):
    g, zones = line
    m = transit_access.od_matrix(g, zones, access_mode="bike", params=HAND)
    assert list(m.columns) == ["from_id", "to_id", "travel_time"] and len(m) == 9
    t = m.set_index(["from_id", "to_id"])["travel_time"]
    for key, s in _hand_minutes().items():
        assert t[key] == pytest.approx(s / 60.0), key
    assert t[("z1", "z1")] == 0.0
    # bike egress (20 min, 2 km = 660 s): z1 → B → A → z2 = 150 + 600 + 660 s
    mb = transit_access.od_matrix(g, zones, access_mode="bike", params={**HAND, "egress_mode": "bike"})
    assert mb.set_index(["from_id", "to_id"])["travel_time"][("z1", "z2")] == \
        pytest.approx(1410 / 60.0)
    # a 30-min cap on the direct trip leaves z1 → z2 unreachable (NaN), z0 → z2 by bike
    mc = transit_access.od_matrix(g, zones, access_mode="bike", params={**HAND, "max_direct_min": 30})
    tc = mc.set_index(["from_id", "to_id"])["travel_time"]
    assert np.isnan(tc[("z1", "z2")]) and tc[("z0", "z2")] == pytest.approx(667 / 60.0)


def test_zone_measures_use_min_direct_transit(line):
    g, zones = line
    df = transit_access.zone_accessibility(g, zones, zones["jobs"].to_numpy(), access_mode="bike",
                                           measures=MeasureSpec(cutoffs=(12, 30, 45)), params=HAND)
    # z1 within 30 min: itself (10) and z0 (17.2 min by train); z2 (41 min) only at 45;
    # z2 reaches z1 by cycling to A (11 min), the train and a walk (25.7 min)
    assert df["jobs_30min_bike_transit"].tolist() == [111.0, 11.0, 111.0]
    assert df["jobs_12min_bike_transit"].tolist() == [101.0, 10.0, 101.0]
    assert df["jobs_45min_bike_transit"].tolist() == [111.0, 111.0, 111.0]
    eg = transit_access.zone_accessibility(g, zones, zones["jobs"].to_numpy(), access_mode="bike",
                                           measures=MeasureSpec(cutoffs=(30,)),
                                           params={**HAND, "egress_mode": "bike"})
    assert "jobs_30min_bike_transit_bike" in eg
    assert eg["jobs_30min_bike_transit_bike"].tolist()[1] == 111.0


def test_point_destinations(line):
    g, zones = line
    dest = gpd.GeoDataFrame({"zone_id": ["d"], "jobs": [5.0]},
                            geometry=gpd.points_from_xy([110_000.0], [450_000.0]), crs=28992)
    df = transit_access.zone_accessibility(g, zones, dest, access_mode="bike",
                                           measures=MeasureSpec(cutoffs=(18,)), params=HAND)
    # z0: bike 150 s + ride 600 s + walk 0 m at B = 750 s; z1: 300 m by bike = 150 s
    assert df["jobs_18min_bike_transit"].tolist() == [5.0, 5.0, 0.0]
    with pytest.raises(InputError, match="opportunity values"):
        transit_access.zone_accessibility(g, zones, np.ones(2))
    with pytest.raises(InputError, match="no column 'banen'"):
        transit_access.zone_accessibility(g, zones, dest, opportunity="banen")


# -------------------------------------------------------------------- working CRS
def test_working_crs_setting():
    assert ruimtekit.working_crs() == "EPSG:28992"
    with ruimtekit.use_crs(31982) as c:
        assert c == "EPSG:31982" and ruimtekit.working_crs() == "EPSG:31982"
    assert ruimtekit.working_crs() == "EPSG:28992"
    assert _crs.utm_for(-51.2, -30.05) == "EPSG:32722"
    assert _crs.utm_for(5.1, 52.1) == "EPSG:32631"
    for bad in ("EPSG:4326", "not a crs", "EPSG:2263"):  # degrees; unknown; US feet
        with pytest.raises(InputError):
            _crs.validate(bad)
    from ruimtekit import study

    with pytest.raises(ValidationError, match="not a projected CRS"):
        study.Study(name="x", crs="EPSG:4326")
    assert study.Study(name="x", crs="auto").crs == "auto"


def _geodesic_m(lon, lat, i, j):
    from pyproj import Geod

    return Geod(ellps="GRS80").inv(lon[i], lat[i], lon[j], lat[j])[2]


@pytest.mark.parametrize("setting", ["EPSG:31982", "auto"])
def test_porto_alegre_distances_in_local_crs(setting):
    """Hexagon centres read in EPSG:31982 (or auto → UTM 22S) give straight-line
    distances within 0.1 % of the geodesic distance; in EPSG:28992 they would be ~2×."""
    import pandas as pd

    from ruimtekit.io import layers

    raw = pd.read_csv(POA / "poa_hexgrid.csv")
    rng = np.random.default_rng(3)
    i, j = rng.integers(0, len(raw), 200), rng.integers(0, len(raw), 200)
    keep = i != j
    i, j = i[keep], j[keep]
    geo = _geodesic_m(raw["lon"].to_numpy(), raw["lat"].to_numpy(), i, j)
    with ruimtekit.use_crs(setting):
        hexes = layers.read_jobs(POA / "poa_hexgrid.csv", columns={"zone_id": "id",
                                                                     "jobs": "jobs"})
        assert hexes.crs.to_epsg() == (31982 if setting != "auto" else 32722)
        x, y = places.zone_points(hexes)
        d = np.hypot(x[i] - x[j], y[i] - y[j])
        assert np.max(np.abs(d / geo - 1)) < 1e-3
        # straight-line legs in metres of the local CRS, timed by the walk crow-fly model
        # (detour × distance at the model's speed curve, interpolated by route length)
        legs = transit.zone_legs(x[:1], y[:1], x, y, mode="walk", max_time_s=900)
        dd = np.hypot(x[legs.stop] - x[0], y[legs.stop] - y[0])
        m = impedance.model_for("walk")
        route_m = dd * m.detour_factor
        km, kmh = zip(*m.speed_curve, strict=True)
        want = route_m / (np.interp(route_m / 1000.0, km, kmh) / 3.6) + 60.0 * m.fixed_min
        np.testing.assert_array_equal(legs.seconds, np.ceil(want))
        assert legs.seconds.max() <= 900
    from pyproj import Transformer

    rx, ry = Transformer.from_crs(4326, 28992, always_xy=True).transform(
        raw["lon"].to_numpy(), raw["lat"].to_numpy())
    rd = np.hypot(rx[i] - rx[j], ry[i] - ry[j])
    assert np.median(rd / geo) > 1.5  # why the working CRS matters
    # outside the context the Dutch check is back: these zones are not in EPSG:28992
    with pytest.raises(InputError, match="working CRS"):
        places.zone_points(hexes)


def test_porto_alegre_walk_network_in_local_crs():
    """The OSM walk network projected to EPSG:31982: edge times equal the metric edge
    length at the walking speed (no 2.2× stretch), stops of the real feeds snap."""
    from ruimtekit.network import networks

    with ruimtekit.use_crs("EPSG:31982"):
        g = networks.load_network(POA / "poa_osm.pbf", "walk", profile={"speed_kmh": 3.6})
        assert 470_000 < g.x.min() < g.x.max() < 500_000
        assert 6_650_000 < g.y.min() < g.y.max() < 6_700_000
        u = np.repeat(np.arange(g.n_nodes), np.diff(g.indptr))
        straight = np.hypot(g.x[u] - g.x[g.indices], g.y[u] - g.y[g.indices])
        # an edge never takes less than its straight line at 3.6 km/h (1 m/s)
        assert np.all(g.weights >= np.floor(straight) - 1)
        assert np.median(g.weights / np.maximum(straight, 1)) < 1.3


# ------------------------------------------------------------------------------- CLI
def test_cli_transit_options_reach_the_api(tmp_path):
    """`ruimtekit transit` with two real feeds, point zones in EPSG:31982 and R5-style
    options writes the same measures and matrix as the API with those parameters."""
    import pandas as pd
    from typer.testing import CliRunner

    from ruimtekit.cli import app
    from ruimtekit.io import layers

    raw = pd.read_csv(POA / "poa_hexgrid.csv").dropna()
    raw = raw.sort_values("jobs", ascending=False).head(40)
    pts = tmp_path / "hex.csv"
    raw.to_csv(pts, index=False)
    feeds = [POA / "poa_eptc.zip", POA / "poa_trensurb.zip"]
    out, mat = tmp_path / "out.gpkg", tmp_path / "m.parquet"
    args = ["transit", "--zones", str(pts), "--points", "--id-column", "id",
            "--gtfs", str(feeds[0]), "--gtfs", str(feeds[1]), "--date", "2019-05-13",
            "--window", "14:00-14:10", "--crs", "EPSG:31982", "--walk-speed", "3.6",
            "--max-rides", "3", "--board-slack", "60", "--transfer-radius", "1000",
            "--max-walk", "20", "--max-egress", "30", "--cutoffs", "30,60",
            "--matrix", str(mat), "-o", str(out), "--quiet"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    got = gpd.read_file(out, layer="transit")
    assert got.crs.to_epsg() == 31982
    p = transit.TransitParams(walk_speed_kmh=3.6, max_rides=3, board_slack_s=60,
                              transfer_radius_m=1000.0, max_access_min={"walk": 20.0,
                                                                        "bike": 20.0},
                              max_egress_min={"walk": 30.0, "bike": 20.0},
                              window_start="14:00", window_end="14:10")
    with ruimtekit.use_crs("EPSG:31982"):
        z = layers.read_jobs(pts, columns={"zone_id": "id"})
        net = transit.build_network(feeds, "2019-05-13", transfer_radius_m=1000.0,
                                    walk_speed_kmh=3.6,
                                    time_range_s=(14 * 3600, 14 * 3600 + 600 + 7200))
        api = transit_access.zone_accessibility(net, z, z["jobs"].to_numpy(),
                                                measures=MeasureSpec(cutoffs=(30, 60)), params=p)
        m = transit_access.od_matrix(net, z, params=p)
    np.testing.assert_array_equal(got["jobs_60min_transit"], api["jobs_60min_transit"])
    mm = pd.read_parquet(mat)
    assert list(mm.columns) == ["from_id", "to_id", "travel_time"] and len(mm) == 40 * 40
    np.testing.assert_array_equal(mm["travel_time"].to_numpy(), m["travel_time"].to_numpy())
    assert mm["travel_time"].notna().mean() > 0.5
    bad_args = list(args)
    bad_args[bad_args.index("EPSG:31982")] = "EPSG:4326"
    bad = CliRunner().invoke(app, bad_args, terminal_width=200)
    assert bad.exit_code == 2 and "not a projected CRS" in bad.output


def test_street_transfers_match_dijkstra():
    """Transfers over the real Porto Alegre walk network (R5: ≤ 1,000 m walked) equal
    snap leg + scipy Dijkstra + snap leg for a sample of stops, and link the two feeds."""
    from ruimtekit.network import networks

    with ruimtekit.use_crs("EPSG:31982"):
        g = networks.load_network(POA / "poa_osm.pbf", "walk", profile={"speed_kmh": 3.6})
        net = transit.build_network([POA / "poa_eptc.zip", POA / "poa_trensurb.zip"],
                                    "2019-05-13", transfer_radius_m=0.0,
                                    time_range_s=(14 * 3600, 15 * 3600))
    assert len(net.fp_to) == 0 or net.fp_ptr[-1] == len(net.fp_to)
    st = transit.street_transfers(net, g, max_distance_m=1000.0, walk_speed_kmh=3.6)
    sn = _search.snap(g, net.x, net.y, 500.0)
    ok = np.flatnonzero(sn.node >= 0)
    rng = np.random.default_rng(5)
    sample = rng.choice(ok, 25, replace=False)
    d = shortest_seconds(g, sn.node[sample], limit=1000.5)
    for r, s in enumerate(sample):
        t = np.full(net.n_stops, np.inf)
        t[ok] = sn.distance_m[s] + d[r, sn.node[ok]] + sn.distance_m[ok]  # 1 m/s
        t[s] = np.inf
        a, b = st.fp_ptr[s], st.fp_ptr[s + 1]
        got = {int(j): float(v) for j, v in zip(st.fp_to[a:b], st.fp_s[a:b], strict=True)}
        # whole seconds: pairs within 1 s of the 1,000 s limit may fall either way
        assert set(np.flatnonzero(t <= 999.0).tolist()) <= set(got), s
        assert set(got) <= set(np.flatnonzero(t <= 1001.0).tolist()), s
        for j in got:
            assert abs(got[j] - t[j]) <= 1.5, (s, j)
    feed = np.array([str(i).split(":", 1)[0] for i in st.stop_ids])
    u = np.repeat(np.arange(st.n_stops), np.diff(st.fp_ptr))
    assert (feed[u] != feed[st.fp_to]).sum() > 0  # bus ↔ metro on foot


def test_pipeline_block_params_matrix_and_compare(line):
    """A study block carries the routing parameters, exports the matrix like the road
    matrices (a table when no work folder) and compares with another result layer."""
    import pandas as pd

    from ruimtekit._context import RunContext

    g, zones = line
    zones = zones.assign(population=[1.0, 3.0, 0.0])
    car = pd.DataFrame({"zone_id": ["z1", "z0", "z2"], "jobs_30min_car": [111.0, 111.0, 111.0]})
    cfg = transit_access.TransitConfig(
        name="line", zones="z", network="line", access_modes=["bike"], cutoffs=[30],
        max_direct_min=30, matrix=True,
        compare={"layer": "access_z", "column": "jobs_30min_car",
                 "measure": "jobs_30min_bike_transit", "reference": "a published figure"})
    from types import SimpleNamespace

    ctx = RunContext(study=SimpleNamespace(transit=[cfg], networks={}), root=Path.cwd(),
                     layers={"z": zones}, networks={"line": g}, results={"access_z": car})
    transit_access.pipeline_step(ctx)
    res = ctx.results["transit_line"]
    assert res["jobs_30min_bike_transit"].tolist() == [111.0, 11.0, 111.0]
    m = ctx.tables["transit_line_bike_matrix"]
    assert np.isnan(m.set_index(["from_id", "to_id"])["travel_time"][("z1", "z2")])
    cmp = res.attrs["compare"]
    # population-weighted: (1·111 + 3·11 + 0·111) / 4 = 36 against 111
    assert cmp["ratio"] == pytest.approx(36.0 / 111.0)
    assert cmp["share_zones_transit_ge_other"] == pytest.approx(2 / 3)
    assert any("a published figure" in n for n in ctx.notes)
    bad = cfg.model_copy(update={"compare": transit_access.TransitComparison(
        layer="missing", column="c", measure="m")})
    ctx.study = SimpleNamespace(transit=[bad], networks={})
    with pytest.raises(InputError, match="compare layer"):
        transit_access.pipeline_step(ctx)
