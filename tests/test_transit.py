"""Range-RAPTOR against hand-computed answers and a brute-force time-expanded oracle;
the Amsterdam transit graph (GML); zone-level measures."""

from __future__ import annotations

import bisect
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracles import shortest_seconds
from ruimtekit._errors import InputError
from ruimtekit.analysis import transit_access
from ruimtekit.engine import transit
from ruimtekit.engine.measures import MeasureSpec
from ruimtekit.io import gtfs, places
from transit_fixtures import CONSTANT_LEGS, HAND_FILES, random_feed_files, write_feed

DATE = "2024-03-12"  # Tuesday
RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
H7 = 7 * 3600


@pytest.fixture(scope="module")
def hand_net(tmp_path_factory):
    folder = write_feed(tmp_path_factory.mktemp("hand"))
    return transit.build_network(folder, DATE)


def _stop(net, sid):
    return int(np.flatnonzero(net.stop_ids == sid)[0])


def _single(net, origin, t0, **kw):
    return transit.raptor_departures(net, [_stop(net, origin)], [0], np.array([t0]), **kw)[0]


def test_hand_feed_single_departure(hand_net):
    net = hand_net
    t = _single(net, "A", H7)
    m = {s: t[_stop(net, s)] / 60 for s in ("A", "B", "C", "D", "E", "K", "J", "D2")}
    assert m["A"] == 0 and m["B"] == 10 and m["C"] == 20 and m["D"] == 30
    # T4 (A→E in 10 min) is removed on this date; via C with the 300 s change time: 40 min
    assert m["E"] == 40
    # T5 exists only on this date (calendar_dates addition)
    assert m["K"] == 12
    # D at 07:30, walk ~200 m to D2, T6 07:34 → J 07:50
    assert m["J"] == 50
    d_d2 = np.hypot(net.x[_stop(net, "D")] - net.x[_stop(net, "D2")],
                    net.y[_stop(net, "D")] - net.y[_stop(net, "D2")])
    assert 150 < d_d2 < 250
    assert m["D2"] * 60 == 30 * 60 + np.ceil(d_d2 / (4.8 / 3.6))


def test_min_transfer_time_blocks_tight_connection(tmp_path):
    folder = write_feed(tmp_path / "f", replace={
        "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nC,C,2,360\n"})
    net = transit.build_network(folder, DATE)
    assert np.isinf(_single(net, "A", H7)[_stop(net, "E")])  # 07:20 + 6 min > 07:25


def test_pickup_and_drop_off_restrictions(tmp_path):
    """T1 A→B→C→D with drop_off_type=1 at B and pickup_type=1 at C (T2 unrestricted):
    from A at 07:00 B is reached only by T2's 07:40 arrival; C cannot be boarded, so from
    C the first trip to D is T2 (07:50) instead of T1 (07:20)."""
    st_txt = HAND_FILES["stop_times.txt"].replace(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n",
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n")
    rows = st_txt.splitlines()
    out = [rows[0]]
    for r in rows[1:]:
        extra = ",,"
        if r.startswith("T1,") and r.endswith(",B,2"):
            extra = ",0,1"
        elif r.startswith("T1,") and r.endswith(",C,3"):
            extra = ",1,"
        out.append(r + extra)
    folder = write_feed(tmp_path / "f", replace={"stop_times.txt": "\n".join(out) + "\n"})
    net = transit.build_network(folder, DATE)
    assert net.meta["no_pickup_stop_times"] == 1 and net.meta["no_drop_off_stop_times"] == 1
    t = _single(net, "A", H7)
    assert t[_stop(net, "B")] == 40 * 60  # not 10 min: T1 does not let anyone off at B
    assert t[_stop(net, "C")] == 20 * 60 and t[_stop(net, "D")] == 30 * 60  # T1 rides on
    t = _single(net, "C", H7 + 15 * 60)  # 07:15 at C: T1 (07:20) may not be boarded here
    assert t[_stop(net, "D")] == 45 * 60  # T2 at 07:50 → D 08:00


def test_max_transfers(hand_net):
    net = hand_net
    # E needs two rides (T1 then T3): zero transfers cannot reach it
    assert np.isinf(_single(net, "A", H7, max_transfers=0)[_stop(net, "E")])
    assert _single(net, "A", H7, max_transfers=1)[_stop(net, "E")] == 40 * 60


def test_other_date_differs(tmp_path):
    folder = write_feed(tmp_path / "f")
    net = transit.build_network(folder, "2024-03-13")  # Wednesday: T4 runs, T5 does not
    t = _single(net, "A", H7)
    assert t[_stop(net, "E")] == 15 * 60  # wait 5 min for T4, ride 10
    assert np.isinf(t[_stop(net, "K")])


def test_overnight_previous_day_trip(hand_net):
    net = hand_net
    t = _single(net, "F", 40 * 60)  # 00:40, Monday's N1 runs 00:50 → 01:10
    assert t[_stop(net, "G")] == 30 * 60


def test_frequency_route_percentiles(hand_net):
    net = hand_net
    acc = transit.Legs.from_lists([[(_stop(net, "H"), 0)]])
    t = transit.raptor_range(net, acc, params=transit.TransitParams(
        window_start="07:00", window_end="07:20", step_s=60, percentiles=[5, 50, 95]))
    # departures 07:00..07:19: times 8,17,16,...,9,8,17,...,9 → sorted 8,8,9,9,...,17,17
    assert (t[0, _stop(net, "I")] / 60).tolist() == [8.0, 12.0, 17.0]


def test_range_equals_independent_single_departures(hand_net):
    net = hand_net
    deps = np.arange(H7 - 600, H7 + 3600, 120)
    a = _stop(net, "A")
    rng = transit.raptor_departures(net, [a], [0], deps)
    for i, t0 in enumerate(deps):
        one = transit.raptor_departures(net, [a], [0], np.array([t0]))[0]
        np.testing.assert_array_equal(rng[i], one)


def test_egress_legs_and_access(hand_net):
    net = hand_net
    acc = transit.Legs.from_lists([[(_stop(net, "A"), 120)]])
    egr = transit.Legs.from_lists([[(_stop(net, "E"), 60), (_stop(net, "C"), 900)],
                                   [(_stop(net, "J"), 30)]])
    # departure 06:58 + 2 min walk → A 07:00; E 07:40 + 1 min; zone 0 via C: 07:20+15 min
    t = transit.raptor_range(net, acc, egr, params={"window_start": "06:58",
                                                    "window_end": "06:59"})
    assert (t[0, :, 0] / 60).tolist() == [37.0, 52.5]


# ------------------------------------------------------------------ brute-force oracle
def oracle_times(tt_stop_times: pd.DataFrame, stop_ids, x, y, origin: str, t0: int,
                 max_rides: int, slack: int = 60, radius: float = 400.0,
                 speed_ms: float = 4.8 / 3.6) -> dict[str, float]:
    """Earliest arrival (s after t0) per stop by reachability in a time-expanded graph
    (networkx), layered by rides used. Independent of the RAPTOR code."""
    g = nx.DiGraph()
    pos = {s: i for i, s in enumerate(stop_ids)}
    deps: dict[tuple[str, int], list[int]] = {}
    trips = {tid: grp.sort_values("stop_sequence") for tid, grp in
             tt_stop_times.groupby("trip_id")}
    for grp in trips.values():
        for s, d in zip(grp["stop_id"], grp["departure_s"], strict=True):
            deps.setdefault((s, 0), []).append(int(d))

    def flags(grp, col):
        return grp[col].tolist() if col in grp else [True] * len(grp)
    dep_times = {s: sorted(set(v)) for (s, _), v in deps.items()}

    def wait_node(s, t, k):
        ts = dep_times.get(s, [])
        i = bisect.bisect_left(ts, t)
        return ("dep", s, ts[i], k) if i < len(ts) else None

    for s, ts in dep_times.items():
        for k in range(max_rides):
            for a, b in zip(ts[:-1], ts[1:], strict=True):
                g.add_edge(("dep", s, a, k), ("dep", s, b, k))
    walks = {}
    for s in stop_ids:
        for q in stop_ids:
            d = float(np.hypot(x[pos[s]] - x[pos[q]], y[pos[s]] - y[pos[q]]))
            if s != q and d <= radius:
                walks.setdefault(s, []).append((q, int(np.ceil(d / speed_ms))))
    for tid, grp in trips.items():
        ss = grp["stop_id"].tolist()
        aa = grp["arrival_s"].astype(int).tolist()
        dd = grp["departure_s"].astype(int).tolist()
        board, alight = flags(grp, "can_board"), flags(grp, "can_alight")
        for k in range(1, max_rides + 1):
            for i in range(len(ss)):
                # "onb" = on board departing position i; "ride" = on board arrived at i
                if board[i]:  # pickup_type 1: nobody boards here
                    g.add_edge(("dep", ss[i], dd[i], k - 1), ("onb", tid, i, k))
                if i + 1 < len(ss):
                    g.add_edge(("onb", tid, i, k), ("ride", tid, i + 1, k))
                if i > 0:
                    g.add_edge(("ride", tid, i, k), ("onb", tid, i, k))
                if i > 0 and alight[i]:  # drop_off_type 1: nobody alights here
                    arr = ("arr", ss[i], aa[i], k)
                    g.add_edge(("ride", tid, i, k), arr)
                    if k < max_rides:
                        w = wait_node(ss[i], aa[i] + slack, k)
                        if w is not None:
                            g.add_edge(arr, w)
                    for q, ws in walks.get(ss[i], []):
                        wn = ("walk", q, aa[i] + ws, k)
                        g.add_edge(arr, wn)
                        if k < max_rides:
                            w = wait_node(q, aa[i] + ws, k)
                            if w is not None:
                                g.add_edge(wn, w)
    src = ("src", origin, t0)
    g.add_node(src)
    w = wait_node(origin, t0, 0)
    if w is not None:
        g.add_edge(src, w)
    best = {s: np.inf for s in stop_ids}
    best[origin] = 0.0
    for node in nx.descendants(g, src):
        if node[0] in ("arr", "walk"):
            best[node[1]] = min(best[node[1]], node[2] - t0)
    return best


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), max_rides=st.integers(1, 3), restricted=st.booleans())
def test_raptor_matches_time_expanded_oracle(tmp_path_factory, seed, max_rides, restricted):
    folder = write_feed(tmp_path_factory.mktemp("rnd"),
                        files=random_feed_files(seed, restrictions=restricted))
    feed = gtfs.read_gtfs(folder)
    tt = gtfs.timetable(feed, DATE)
    net = transit.build_network(tt)
    rng = np.random.default_rng(seed)
    origin = str(net.stop_ids[rng.integers(net.n_stops)])
    deps = np.arange(H7, H7 + 40 * 60, 5 * 60)
    got = transit.raptor_departures(net, [_stop(net, origin)], [0], deps,
                                    max_transfers=max_rides - 1)
    for i, t0 in enumerate(deps):
        exp = oracle_times(tt.stop_times, list(net.stop_ids), net.x, net.y, origin, int(t0),
                           max_rides)
        for j, s in enumerate(net.stop_ids):
            assert got[i, j] == exp[s], (seed, origin, int(t0), s)


def test_percentiles_match_numpy_over_departures(tmp_path):
    folder = write_feed(tmp_path / "f", files=random_feed_files(7, n_stops=10, n_routes=5))
    net = transit.build_network(folder, DATE)
    deps = transit.departure_times("07:00", "07:40", 60)
    acc = transit.Legs.identity(net.n_stops)
    pct = transit.raptor_range(net, acc, params=transit.TransitParams(
        window_start="07:00", window_end="07:40", percentiles=[5, 50, 95]))
    for o in range(net.n_stops):
        per = transit.raptor_departures(net, [o], [0], deps)
        srt = np.sort(per, axis=0)
        for j, p in enumerate((5, 50, 95)):
            k = max(int(np.ceil(p / 100 * len(deps))) - 1, 0)
            np.testing.assert_array_equal(pct[o, :, j], srt[k])


# ---------------------------------------------------------------------- misc API
def test_departure_window_parsing():
    d = transit.departure_times("07:00", "09:00")
    assert d.size == 120 and d[0] == H7 and d[-1] == 9 * 3600 - 60
    assert transit.parse_clock("25:10") == 90600
    with pytest.raises(InputError):
        transit.departure_times("09:00", "07:00")
    with pytest.raises(InputError):
        transit.parse_clock("7h00")


def test_zone_legs_radius_and_k():
    sx = np.array([0.0, 300.0, 900.0, 5000.0])
    sy = np.zeros(4)
    legs = transit.zone_legs(np.array([0.0]), np.array([0.0]), sx, sy,
                             mode=lambda d: d / 1.0, max_distance_m=1000)
    assert sorted(legs.stop.tolist()) == [0, 1, 2]
    legs = transit.zone_legs(np.array([0.0]), np.array([0.0]), sx, sy,
                             mode=lambda d: d / 1.0, max_distance_m=1000, k_nearest=2)
    assert legs.stop.tolist() == [0, 1] and legs.seconds.tolist() == [0, 300]


# ------------------------------------------------------------------ Amsterdam GML graph
@pytest.fixture(scope="module")
def ams_graph():
    return transit.read_transit_graph_gml("data/raw/pt_amsterdam_2022.gml")


def test_gml_loads(ams_graph):
    g = ams_graph
    assert g.meta["n_gml_stops"] == 561 and g.meta["n_gml_edges"] == 1601
    assert g.mode == "transit" and g.weights.dtype == np.int32
    # Amsterdam in RD New
    assert 100_000 < np.median(g.x) < 140_000 and 470_000 < np.median(g.y) < 500_000
    # route-aware: every boarding edge (stop → route node) costs half the headway
    src = g.edge_sources()
    ids = g.node_ids
    board = np.array([str(ids[a]).startswith("stop:") and str(ids[b]).startswith("route:")
                      for a, b in zip(src, g.indices, strict=True)])
    assert set(np.unique(g.weights[board]).tolist()) <= {150, 240, 300, 450}


def test_gml_centraal_to_zuid_plausible(ams_graph):
    g = ams_graph
    names = g.meta["stop_names"]
    c = np.flatnonzero(names == "Amsterdam, Centraal Station")
    z = np.flatnonzero(names == "Amsterdam, Station Zuid")
    t = transit.graph_stop_times(g, g.meta["stop_nodes"][c], g.meta["stop_nodes"][z])
    # metro 52 (Noord/Zuidlijn): ~10 min in vehicle + 2.5 min expected wait
    assert 10 * 60 <= t.min() <= 20 * 60


def test_gml_headway_changes_wait(tmp_path):
    g1 = transit.read_transit_graph_gml("data/raw/pt_amsterdam_2022.gml")
    g2 = transit.read_transit_graph_gml("data/raw/pt_amsterdam_2022.gml",
                                        headways_min={1: 15.0})
    names = g1.meta["stop_names"]
    c = g1.meta["stop_nodes"][np.flatnonzero(names == "Amsterdam, Centraal Station")]
    z = g1.meta["stop_nodes"][np.flatnonzero(names == "Amsterdam, Station Zuid")]
    assert transit.graph_stop_times(g2, c, z).min() > transit.graph_stop_times(g1, c, z).min()


def test_gml_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        transit.read_transit_graph_gml(tmp_path / "nope.gml")


def test_hand_files_unchanged():
    assert "C,C,2,300" in HAND_FILES["transfers.txt"]


# ------------------------------------------------------------------ zone-level measures
@pytest.fixture(scope="module")
def buurten():
    from ruimtekit.io import layers

    z = layers.read_zones("data/raw/cbs_kwb2020_amsterdam_buurten.parquet")
    z = z.iloc[::6].reset_index(drop=True).copy()  # a spread-out subset keeps it fast
    z["establishments_proxy"] = z["establishments"].astype(float)
    return z


def _brute_zone_times(zx, zy, nx_, ny_, node_t, access_mode, access_max_s, egress_max_s,
                      direct_max_s=120 * 60):
    """min(direct, access + stop matrix + egress) with the leg formulas written out:
    walk 4.8 km/h, bike 15 km/h plus 1 min parking, both × 1.25 detour."""
    speed = {"walk": 4.8 / 3.6, "bike": 15 / 3.6}
    park = {"walk": 0.0, "bike": 60.0}

    def leg(d, mode):
        return park[mode] + d * 1.25 / speed[mode]

    d = np.hypot(zx[:, None] - nx_[None, :], zy[:, None] - ny_[None, :])
    acc = np.ceil(leg(d, access_mode))
    acc[acc > access_max_s] = np.inf
    egr = np.ceil(leg(d, "walk"))
    egr[egr > egress_max_s] = np.inf
    n = len(zx)
    t = np.full((n, n), np.inf)
    for o in range(n):
        via = np.min(acc[o][:, None] + node_t, axis=0)  # best time to every node
        t[o] = np.min(via[:, None] + egr.T, axis=0)
    dz = np.hypot(zx[:, None] - zx[None, :], zy[:, None] - zy[None, :])
    direct = np.rint(leg(dz, access_mode))
    direct[direct > direct_max_s] = np.inf
    np.fill_diagonal(direct, 0.0)
    t[t > 120 * 60] = np.inf
    return np.minimum(t, direct)


@pytest.mark.parametrize("mode", ["walk", "bike"])
def test_graph_zone_measures_match_brute_force(ams_graph, buurten, mode):
    g = ams_graph
    opp = buurten["establishments_proxy"].to_numpy()
    df = transit_access.zone_accessibility(g, buurten, opp, opportunity="establishments_proxy",
                                           access_mode=mode, measures={"cutoffs": (20, 30, 45)},
                                           params=CONSTANT_LEGS,  # the oracle's hand-written legs
                                           options={"block_size": 17})
    zx, zy = places.zone_points(buurten)
    stops = g.meta["stop_nodes"]
    node_t = transit.graph_stop_times(g)
    t = _brute_zone_times(zx, zy, g.x[stops], g.y[stops], node_t, mode,
                          {"walk": 15 * 60, "bike": 20 * 60}[mode], 15 * 60)
    label = transit.MODE_LABEL[mode]
    for c in (20, 30, 45):
        exp = ((t <= c * 60) * opp[None, :]).sum(axis=1)
        np.testing.assert_allclose(df[f"establishments_proxy_{c}min_{label}"], exp)
    assert df["zone_id"].tolist() == buurten["zone_id"].tolist()
    # more time, more opportunities; bike access never loses to walking
    assert (df[f"establishments_proxy_45min_{label}"]
            >= df[f"establishments_proxy_30min_{label}"]).all()


# ------------------------------------------------------- street-network access and egress
@pytest.fixture(scope="module")
def wgm_walk():
    """Real OSM walk network of Amsterdam-Watergraafsmeer (data/raw/osm) and 14 zone
    points: the two buurt centroids inside it and 12 SYNTHETIC points spread over it."""
    from ruimtekit.io import layers
    from ruimtekit.network import networks

    g = networks.load_network(RAW / "osm" / "amsterdam_watergraafsmeer.osm.pbf", "walk")
    z = layers.read_zones(RAW / "cbs_kwb2020_amsterdam_buurten.parquet")
    c = z.geometry.centroid
    inside = ((c.x > g.x.min()) & (c.x < g.x.max()) & (c.y > g.y.min())
              & (c.y < g.y.max())).to_numpy()
    rng = np.random.default_rng(4)
    px = np.r_[c.x.to_numpy()[inside], rng.uniform(g.x.min(), g.x.max(), 12)]
    py = np.r_[c.y.to_numpy()[inside], rng.uniform(g.y.min(), g.y.max(), 12)]
    return g, px, py


def _oracle_legs(g, zx, zy, px, py, v, terminal, limit):
    """scipy Dijkstra between snapped nodes + the two snap legs (rounded like the
    engine: whole seconds per leg) + terminal time; inf beyond ``limit``."""
    from ruimtekit.network import networks

    zs = networks.snap(g, zx, zy, max_distance_m=500.0)  # the engine's default limit
    ps = networks.snap(g, px, py, max_distance_m=500.0)
    d = shortest_seconds(g, np.maximum(zs.node, 0))
    d = d[:, np.maximum(ps.node, 0)]
    t = np.rint(zs.distance_m / v)[:, None] + d + np.rint(ps.distance_m / v)[None, :]
    t = t + terminal
    t[zs.node < 0] = np.inf
    t[:, ps.node < 0] = np.inf
    return np.where(t <= limit, t, np.inf)


def test_network_legs_match_dijkstra(wgm_walk, ams_graph):
    g, zx, zy = wgm_walk
    stops = ams_graph.meta["stop_nodes"]
    sx, sy = ams_graph.x[stops], ams_graph.y[stops]
    near = np.flatnonzero(np.hypot(sx - zx.mean(), sy - zy.mean()) < 1500)
    sx, sy = sx[near], sy[near]
    assert len(near) >= 5
    legs = transit.network_legs(g, zx, zy, sx, sy, mode="walk", max_time_s=600)
    exp = _oracle_legs(g, zx, zy, sx, sy, 4.8 / 3.6, 0.0, 600)
    got = np.full(exp.shape, np.inf)
    for i in range(len(zx)):
        a, b = legs.ptr[i], legs.ptr[i + 1]
        got[i, legs.stop[a:b]] = legs.seconds[a:b]
    np.testing.assert_array_equal(got, exp)
    assert np.isfinite(exp).sum() > len(zx)  # not vacuous: several stops per zone
    # a bike leg adds the 1-minute parking time of the bike model; k_nearest keeps the
    # fastest legs
    bike = transit.network_legs(g, zx, zy, sx, sy, mode="bike", max_time_s=600,
                                options=transit.LegOptions(speed_kmh=4.8, k_nearest=2))
    for i in range(len(zx)):
        row = np.sort(exp[i][np.isfinite(exp[i]) & (exp[i] + 60 <= 600)])[:2] + 60
        a, b = bike.ptr[i], bike.ptr[i + 1]
        np.testing.assert_array_equal(np.sort(bike.seconds[a:b]), row)


def test_network_legs_with_unsnappable_zones_mixed_in(wgm_walk, ams_graph):
    """Zones (and points) beyond the snap radius interleaved with snapped ones: every
    snapped zone gets exactly its own legs (scipy Dijkstra oracle), the others none.
    Before the fix, search positions indexed the snapped-only list while the per-zone
    pointers indexed all zones, so zones got other zones' legs."""
    g, zx, zy = wgm_walk
    stops = ams_graph.meta["stop_nodes"]
    sx, sy = ams_graph.x[stops], ams_graph.y[stops]
    near = np.flatnonzero(np.hypot(sx - zx.mean(), sy - zy.mean()) < 1500)
    far_x, far_y = g.x.max() + 3000.0, g.y.max() + 3000.0  # > 500 m from any node
    # zones: far, snapped, far, far, snapped, ... (first, middle and last positions)
    ox, oy, off = [], [], []
    for i in range(len(zx)):
        if i % 3 == 0:
            ox.append(far_x + 10.0 * i)
            oy.append(far_y)
            off.append(True)
        ox.append(zx[i])
        oy.append(zy[i])
        off.append(False)
    ox.append(far_x)
    oy.append(far_y - 50.0)
    off.append(True)
    ox, oy, off = np.array(ox), np.array(oy), np.array(off)
    px = np.r_[far_x, sx[near], far_x + 5.0]  # unsnappable targets too
    py = np.r_[far_y, sy[near], far_y]
    for reverse in (False, True):
        legs = transit.network_legs(g, ox, oy, px, py, mode="walk", max_time_s=600,
                                    options=transit.LegOptions(reverse=reverse))
        exp = _oracle_legs(g.reverse() if reverse else g, ox, oy, px, py, 4.8 / 3.6, 0.0,
                           600)
        got = np.full(exp.shape, np.inf)
        for i in range(len(ox)):
            a, b = legs.ptr[i], legs.ptr[i + 1]
            got[i, legs.stop[a:b]] = legs.seconds[a:b]
        np.testing.assert_array_equal(got, exp)
        assert np.isinf(got[off]).all() and np.isinf(got[:, [0, -1]]).all()
        # not vacuous: every snapped zone reaches at least one stop, the sets differ
        assert np.isfinite(got[~off]).any(axis=1).sum() >= (~off).sum() // 2
        assert len({tuple(np.flatnonzero(np.isfinite(r))) for r in got[~off]}) > 3


def test_network_egress_legs_use_the_reversed_network():
    """A one-way street 0 → 1 → 2: from zone (at 0) to point (at 2) it is 200 s; the
    egress leg point → zone has no way back."""
    from ruimtekit.network import graph

    g = graph.from_edges(np.array([0, 1]), np.array([1, 2]), np.array([100.0, 100.0]),
                         np.array([0.0, 100.0, 200.0]), np.zeros(3),
                         largest_component=False)
    fwd = transit.network_legs(g, [0.0], [0.0], [200.0], [0.0], max_time_s=1000)
    back = transit.network_legs(g, [0.0], [0.0], [200.0], [0.0], max_time_s=1000,
                                options=transit.LegOptions(reverse=True))
    assert fwd.seconds.tolist() == [200] and back.seconds.tolist() == []
    back2 = transit.network_legs(g, [200.0], [0.0], [0.0], [0.0], max_time_s=1000,
                                 options=transit.LegOptions(reverse=True))  # point 0 → zone 2
    assert back2.seconds.tolist() == [200]


def test_zone_accessibility_with_street_network_legs(wgm_walk, ams_graph):
    """Access, egress and the direct trip over the real walk network: measures equal a
    brute-force min-plus over the oracle legs and the stop-to-stop times."""
    g, zx, zy = wgm_walk
    zones = gpd.GeoDataFrame({"zone_id": [f"p{i}" for i in range(len(zx))]},
                             geometry=gpd.points_from_xy(zx, zy), crs=28992)
    opp = np.arange(1.0, len(zx) + 1)
    df = transit_access.zone_accessibility(
        ams_graph, zones, opp, opportunity="jobs", measures=MeasureSpec(cutoffs=(10, 20)),
        options=transit_access.TransitOptions(access_network=g, egress_network=g, block_size=5))

    stops = ams_graph.meta["stop_nodes"]
    lim = 15 * 60.0  # TransitParams: walking access and egress up to 15 min
    v = 4.8 / 3.6
    acc = _oracle_legs(g, zx, zy, ams_graph.x[stops], ams_graph.y[stops], v, 0.0, lim)
    node_t = transit.graph_stop_times(ams_graph)
    via = np.min(acc[:, :, None] + node_t[None, :, :], axis=1)  # zone → every stop
    t = np.min(via[:, :, None] + acc.T[None, :, :], axis=1)  # walk network is two-way
    direct = _oracle_legs(g, zx, zy, zx, zy, v, 0.0, 120 * 60.0)  # the whole budget
    np.fill_diagonal(direct, 0.0)
    t = np.minimum(t, direct)
    for c in (10, 20):
        np.testing.assert_allclose(df[f"jobs_{c}min_transit"], ((t <= 60 * c) * opp).sum(1))
    crow = transit_access.zone_accessibility(ams_graph, zones, opp, opportunity="jobs",
                                             measures=MeasureSpec(cutoffs=(10, 20)))
    assert (crow["jobs_10min_transit"] != df["jobs_10min_transit"]).any()


def test_gtfs_zone_measures_and_percentile_columns(hand_net):
    import geopandas as gpd
    from shapely.geometry import Point

    net = hand_net
    pts = [Point(net.x[_stop(net, s)] + 30, net.y[_stop(net, s)]) for s in ("A", "E", "J")]
    zones = gpd.GeoDataFrame({"zone_id": ["za", "ze", "zj"], "jobs": [1.0, 10.0, 100.0]},
                             geometry=pts, crs="EPSG:28992")
    p = transit.TransitParams(window_start="06:59", window_end="07:01", percentiles=[50, 95])
    df = transit_access.zone_accessibility(net, zones, zones["jobs"].to_numpy(), access_mode="walk",
                                           measures=MeasureSpec(cutoffs=(45, 60)),
                                           params=p.with_radius("walk", 200))
    assert {"jobs_45min_transit", "jobs_60min_transit", "jobs_45min_transit_p95"} <= set(df)
    # from A (07:00 ± 1 min): E after ~41-42 min, J after ~51-52 min (plus short walks)
    assert df.loc[0, "jobs_45min_transit"] == 11.0
    assert df.loc[0, "jobs_60min_transit"] == 111.0
    # J has no onward service: from J only the direct walk (up to the whole budget)
    d_je = float(np.hypot(net.x[_stop(net, "J")] - net.x[_stop(net, "E")],
                          net.y[_stop(net, "J")] - net.y[_stop(net, "E")]))
    walk_je = round(d_je * 1.25 / (4.8 / 3.6))
    assert df.loc[2, "jobs_60min_transit"] == 100.0 + (10.0 if walk_je <= 3600 else 0.0)
    assert df.loc[2, "jobs_45min_transit"] == 100.0 + (10.0 if walk_je <= 2700 else 0.0)
    short = transit_access.zone_accessibility(net, zones, zones["jobs"].to_numpy(),
                                              measures=MeasureSpec(cutoffs=(60,)),
                                              params={"max_direct_min": 5.0,
                                                      "max_access_min": {"walk": 3.0},
                                                      "window_start": "06:59",
                                                      "window_end": "07:01"})
    assert short.loc[2, "jobs_60min_transit"] == 100.0  # direct walk capped at 5 min


def test_pipeline_step_adds_result_layer(buurten, tmp_path):
    from types import SimpleNamespace

    from ruimtekit._context import RunContext

    cfg = transit_access.TransitConfig(
        name="ams", zones="buurten", opportunity_column="establishments_proxy",
        network="pt", path="data/raw/pt_amsterdam_2022.gml", cutoffs=[30, 45],
        access_modes=["walk", "bike"], decays=[{"kind": "exponential", "beta": 0.05}])
    assert cfg.kind is None
    study = SimpleNamespace(transit=[cfg], networks={})
    ctx = RunContext(study=study, root=Path.cwd(), layers={"buurten": buurten})
    transit_access.pipeline_step(ctx)
    res = ctx.results["transit_ams"]
    assert len(res) == len(buurten) and res.crs.to_epsg() == 28992
    for c in ("establishments_proxy_45min_transit", "establishments_proxy_exp0.05_transit",
              "establishments_proxy_45min_bike_transit"):
        assert c in res and res[c].notna().all()
    assert (res["establishments_proxy_45min_bike_transit"]
            >= res["establishments_proxy_45min_transit"] * 0.5).all()
    assert ctx.networks["pt"].mode == "transit"
    assert any("proxy" in n for n in ctx.notes)


def test_pipeline_step_with_street_network_legs(wgm_walk, ams_graph, tmp_path):
    """A transit block with ``access_networks`` uses the study's walk network for access,
    egress and the direct trip (same numbers as the API call); a name that is not a
    street network is a clear error."""
    from types import SimpleNamespace

    from ruimtekit._context import RunContext

    g, zx, zy = wgm_walk
    zones = gpd.GeoDataFrame({"zone_id": [f"p{i}" for i in range(len(zx))],
                              "jobs": np.arange(1.0, len(zx) + 1)},
                             geometry=gpd.points_from_xy(zx, zy), crs=28992)
    cfg = transit_access.TransitConfig(name="wgm", zones="pts", network="pt",
                                path="data/raw/pt_amsterdam_2022.gml", cutoffs=[10, 20],
                                access_networks={"walk": "wgm_walk"})
    study = SimpleNamespace(transit=[cfg], networks={})
    ctx = RunContext(study=study, root=Path.cwd(), layers={"pts": zones},
                     networks={"wgm_walk": g})
    transit_access.pipeline_step(ctx)
    res = ctx.results["transit_wgm"]
    api = transit_access.zone_accessibility(ams_graph, zones, zones["jobs"].to_numpy(),
                                            measures=MeasureSpec(cutoffs=(10, 20)),
                                            options={"access_network": g, "egress_network": g})
    np.testing.assert_array_equal(res["jobs_20min_transit"], api["jobs_20min_transit"])
    assert res.attrs["transit"]["egress_network"] == "wgm_walk"
    bad = transit_access.TransitConfig(name="bad", zones="pts", network="pt",
                                access_networks={"walk": "pt"})
    ctx.study = SimpleNamespace(transit=[bad], networks={})
    with pytest.raises(InputError, match="'pt' is not a street network"):
        transit_access.pipeline_step(ctx)


def test_config_rejects_unknown_keys():
    with pytest.raises(Exception, match="extra|forbidden"):
        transit_access.TransitConfig(name="x", zones="z", network="n", colour="red")
