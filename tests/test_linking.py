"""Edge linking and intersection costs (networks.link) against independent oracles.

The oracle re-implements the whole cost model with plain Python loops: brute-force nearest
edge by projection, explicit edge splitting, an explicitly expanded turn graph over
(edge, edge) movements and networkx Dijkstra. The engine (networks.link + the compiled
kernel through accessibility.search) must give the same whole seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from ruimtekit.analysis import accessibility as acc
from ruimtekit.engine import _kernels
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay, MeasureSpec
from ruimtekit.engine.search import SnapOptions
from ruimtekit.network import graph as G
from ruimtekit.network import networks, profiles

DATA = Path(__file__).resolve().parents[1] / "data" / "raw" / "osm"
DELFT = DATA / "delft_drive.graphml"
AMS = DATA / "amsterdam_watergraafsmeer.osm.pbf"


# ---------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------
def engine_od(g, xs, ys, turns, v_kmh, max_m=1e6, **opts):
    """Point-to-point whole-second times through networks.link and the kernel."""
    lk = networks.link(g, xs, ys, max_m, networks.LinkOptions(
        access_speed_kmh=v_kmh, turns=turns, **opts))
    k = len(xs)
    shared = _search.build_search_inputs(
        lk.graph, (lk.src_ptr, lk.src_nodes, lk.src_off_s), (lk.sink, np.zeros(k), np.ones(k)),
        [Decay("cumulative", cutoff=600.0)], 600.0)
    _, _, od, _ = _search.search(shared, od=True)
    od = od.astype(float)
    od[od == _kernels.INF32] = np.inf
    return od, lk


# ---------------------------------------------------------------------------------------
# the oracle
# ---------------------------------------------------------------------------------------
def _project(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    qx, qy = ax + t * dx, ay + t * dy
    return math.hypot(px - qx, py - qy), t * math.sqrt(L2), qx, qy


def _turn_cost(brg_in, brg_out, uturn, deg, tc):
    if deg == 2:
        return None if uturn else 0.0
    if deg <= 1:
        return tc.u_turn_s
    ang = math.degrees(brg_out - brg_in)
    ang = (ang + 180.0) % 360.0 - 180.0
    if ang == -180.0:
        ang = 180.0
    if uturn or abs(ang) >= tc.u_turn_min_deg:
        return tc.u_turn_s
    if abs(ang) < tc.straight_max_deg:
        return 0.0
    left = ang > 0
    if not tc.drive_on_right:
        left = not left
    return tc.left_s if left else tc.right_s


def oracle_od(xy, edges, node_sig, pts, tc, v_kmh, max_m=1e6, eligible=None):
    """Brute force. ``edges``: list of (u, v, w, inner_signals); straight geometry."""
    xy = [tuple(p) for p in xy]
    eligible = eligible or [True] * len(edges)
    n0 = len(xy)
    # 1. nearest eligible edge per point (ties: the lowest (tail, head), as the engine's
    #    lowest segment number)
    links = []
    by_nodes = sorted(range(len(edges)), key=lambda i: (edges[i][0], edges[i][1]))
    for px, py in pts:
        best = None
        for i in by_nodes:
            u, v = edges[i][0], edges[i][1]
            if not eligible[i]:
                continue
            d, s, qx, qy = _project(px, py, *xy[u], *xy[v])
            if best is None or d < best[0] - 1e-9:
                best = (d, i, s, qx, qy)
        if best is None or best[0] > max_m:
            links.append(None)
        else:
            links.append(best)
    # 2. split positions per street, measured (in mm) from the tail of its reference
    #    direction: the lower node for two-way streets, the edge's tail for one-way ones
    dirs = {(u, v) for u, v, _, _ in edges}
    cuts: dict[tuple[int, int], dict[int, tuple[float, float]]] = {}
    attach = []
    for lnk in links:
        if lnk is None:
            attach.append(None)
            continue
        d, i, s, qx, qy = lnk
        u, v = edges[i][0], edges[i][1]
        L = math.dist(xy[u], xy[v])
        if s <= 0.01:
            attach.append(u)
            continue
        if L - s <= 0.01:
            attach.append(v)
            continue
        two_way = (v, u) in dirs
        ref = (min(u, v), max(u, v)) if two_way else (u, v)
        mm = round((s if ref == (u, v) else L - s) * 1000)
        cuts.setdefault(ref, {}).setdefault(mm, (qx, qy))
        attach.append((ref, mm))
    node_of = {}
    for key in sorted(cuts):
        for mm in sorted(cuts[key]):
            node_of[(key, mm)] = len(xy)
            xy.append(cuts[key][mm])
    attach = [node_of[a] if isinstance(a, tuple) else a for a in attach]
    sig = list(node_sig) + [False] * (len(xy) - n0)
    # 3. split edges (pieces: cumulative rounding; inner signals on the last piece)
    split = []  # (tail, head, w, inner_signals)
    for u, v, w, s in edges:
        ref = (u, v) if (u, v) in cuts else (v, u) if (v, u) in cuts else None
        if ref is None:
            split.append((u, v, w, s))
            continue
        L = math.dist(xy[u], xy[v])
        mms = sorted(cuts[ref])
        if ref == (u, v):
            seq = [(mm / 1000.0 / L, node_of[(ref, mm)]) for mm in mms]
        else:  # the opposite direction: fractions 1 - f, in reverse order
            seq = [(1.0 - mm / 1000.0 / L, node_of[(ref, mm)]) for mm in reversed(mms)]
        chain = [u] + [nd for _, nd in seq] + [v]
        fr = [0.0] + [f for f, _ in seq] + [1.0]
        cum = [round(w * f) for f in fr]  # Python round = half-to-even, as np.rint
        for k in range(len(chain) - 1):
            last = k == len(chain) - 2
            split.append((chain[k], chain[k + 1], cum[k + 1] - cum[k], s if last else 0))
    # 4. the search graph
    n = len(xy)
    sd = tc.signal_delay_s
    acc_s = [None if lk_ is None else round(lk_[0] / (v_kmh / 3.6)) for lk_ in links]
    H = nx.DiGraph()
    sink = {}
    for p, a in enumerate(attach):
        if a is not None:
            sink.setdefault(pts[p], ("sink", pts[p]))
    if tc.enabled:
        nbrs = [set() for _ in range(n)]
        for a, b, _, _ in split:
            nbrs[a].add(b)
            nbrs[b].add(a)
        brg = [math.atan2(xy[b][1] - xy[a][1], xy[b][0] - xy[a][0]) for a, b, _, _ in split]
        leaving = [[] for _ in range(n)]
        for j, (c, _, _, _) in enumerate(split):
            leaving[c].append(j)
        for i, (a, b, _, _) in enumerate(split):
            H.add_node(("e", i))
            for j in leaving[b]:
                c, d, wj, sj = split[j]
                cost = _turn_cost(brg[i], brg[j], d == a, len(nbrs[b]), tc)
                if cost is None:
                    continue
                H.add_edge(("e", i), ("e", j), weight=cost + sd * sig[b] + wj + sd * sj)
        for p, a in enumerate(attach):
            if a is None:
                continue
            for i, (_, b, _, _) in enumerate(split):
                if b == a:
                    H.add_edge(("e", i), sink[pts[p]], weight=acc_s[p])
    else:
        for a, b, w, s in split:
            H.add_edge(("n", a), ("n", b), weight=w + sd * s + sd * sig[b])
        for p, a in enumerate(attach):
            if a is not None:
                H.add_edge(("n", a), sink[pts[p]], weight=acc_s[p])
    k = len(pts)
    od = np.full((k, k), np.inf)
    for p, a in enumerate(attach):
        if a is None:
            continue
        H.add_edge("src", sink[pts[p]], weight=0)
        if tc.enabled:
            for j, (c, _, wj, sj) in enumerate(split):
                if c == a:
                    H.add_edge("src", ("e", j), weight=acc_s[p] + wj + sd * sj)
        else:
            H.add_edge("src", ("n", a), weight=acc_s[p])
        dist = nx.single_source_dijkstra_path_length(H, "src")
        H.remove_node("src")
        for q, b in enumerate(attach):
            if b is not None and sink[pts[q]] in dist:
                od[p, q] = dist[sink[pts[q]]]
    return od


def build(xy, edges, node_sig, highway=None, tunnel=None, private=None):
    xy = np.asarray(xy, dtype=float)
    u = [e[0] for e in edges]
    v = [e[1] for e in edges]
    m = len(edges)
    ed = {"signals": np.array([e[3] for e in edges], dtype=np.int64),
          "highway": np.array(highway or ["residential"] * m, dtype=object),
          "tunnel": np.array(tunnel or [False] * m), "private": np.array(private or [False] * m)}
    return G.from_edges(u, v, [e[2] for e in edges], xy[:, 0], xy[:, 1], mode="car",
                        largest_component=False, attrs=G.GraphAttrs(
                            edge_data=ed, node_data={"signal": np.asarray(node_sig, dtype=bool)}))


# ---------------------------------------------------------------------------------------
# random graphs: jittered grids with one- and two-way streets, signals, points anywhere
# ---------------------------------------------------------------------------------------
GENERIC_FRACTIONS = (0.1137, 0.2291, 0.3473, 0.6203, 0.7537, 0.8819)


@st.composite
def street_cases(draw):
    nr, nc = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    jitter = draw(st.booleans())
    jit = draw(st.lists(st.floats(-30, 30) if jitter else st.just(0.0), min_size=2 * nr * nc,
                        max_size=2 * nr * nc))
    xy = [(100.0 * c + jit[2 * (r * nc + c)], 100.0 * r + jit[2 * (r * nc + c) + 1])
          for r in range(nr) for c in range(nc)]
    pairs = [(r * nc + c, r * nc + c + 1) for r in range(nr) for c in range(nc - 1)]
    pairs += [(r * nc + c, (r + 1) * nc + c) for r in range(nr - 1) for c in range(nc)]
    edges = []
    for a, b in pairs:
        kind = draw(st.sampled_from(["both", "both", "both", "fwd", "bwd", "none"]))
        w = draw(st.integers(1, 90))
        w2 = draw(st.integers(1, 90))
        s1, s2 = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        if kind in ("both", "fwd"):
            edges.append((a, b, w, s1))
        if kind in ("both", "bwd"):
            edges.append((b, a, w2, s2))
    if not edges:
        edges.append((0, 1, 10, 0))
    node_sig = draw(st.lists(st.booleans(), min_size=nr * nc, max_size=nr * nc))
    k = draw(st.integers(1, 6))
    pts = []
    for _ in range(k):
        how = draw(st.sampled_from(["free", "free", "node", "mid", "centre"]))
        if how == "centre":  # equidistant from four streets on an unjittered grid
            pts.append((50.0 + 100.0 * draw(st.integers(0, nc - 2)),
                        50.0 + 100.0 * draw(st.integers(0, nr - 2))))
        elif how == "node":
            pts.append(tuple(xy[draw(st.integers(0, nr * nc - 1))]))
        elif how == "mid":
            a, b, _, _ = edges[draw(st.integers(0, len(edges) - 1))]
            # generic fractions: w * f is never near a half second for w <= 90
            f = draw(st.sampled_from(GENERIC_FRACTIONS))
            pts.append((xy[a][0] + f * (xy[b][0] - xy[a][0]), xy[a][1] + f * (xy[b][1] - xy[a][1])))
        else:
            pts.append((draw(st.floats(-60, 100.0 * nc)), draw(st.floats(-60, 100.0 * nr))))
    turns = draw(st.booleans())
    sd = draw(st.sampled_from([0.0, 15.0]))
    tc = profiles.TurnCosts(enabled=turns, signal_delay_s=sd,
                            drive_on_right=draw(st.booleans()))
    return xy, edges, node_sig, pts, tc


@settings(max_examples=100, deadline=None)
@given(street_cases())
def test_engine_matches_brute_force_turn_graph(case):
    xy, edges, node_sig, pts, tc = case
    # one street per node pair (a drawn pair is never both fwd and an extra bwd edge)
    g = build(xy, edges, node_sig)
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    got, lk = engine_od(g, xs, ys, tc, 4.8)
    ref = oracle_od(xy, edges, node_sig, pts, tc, 4.8)
    np.testing.assert_array_equal(got, ref)
    assert np.all(np.diag(got) == 0)  # every point reaches its own location in 0 s
    assert lk.edge_based == tc.enabled


def test_oracle_sees_turn_costs():
    """A hand case: the oracle and the engine both charge left 30 s, right 10 s and
    U-turn 90 s on a cross junction, and forbid U-turns mid-street."""
    # cross: centre 0, arms east 1, north 2, west 3, south 4 (two-way, 10 s each)
    xy = [(0, 0), (100, 0), (0, 100), (-100, 0), (0, -100)]
    edges = []
    for arm in (1, 2, 3, 4):
        edges += [(0, arm, 10, 0), (arm, 0, 10, 0)]
    tc = profiles.TurnCosts(enabled=True)
    pts = [(50, 0), (0, 50), (0, -50), (-50, 0)]  # mid-arm: east, north, south, west
    g = build(xy, edges, [False] * 5)
    got, _ = engine_od(g, np.array([p[0] for p in pts], float),
                       np.array([p[1] for p in pts], float), tc, 4.8)
    ref = oracle_od(xy, edges, [False] * 5, pts, tc, 4.8)
    np.testing.assert_array_equal(got, ref)
    # east arm point -> north arm point: 5 s to the centre, right turn (heading west,
    # turning north is a right turn) 10 s, 5 s out: 20 s
    assert got[0, 1] == 5 + 10 + 5
    # east -> south: heading west then south is a left turn (30 s)
    assert got[0, 2] == 5 + 30 + 5
    # east -> west: straight on
    assert got[0, 3] == 5 + 0 + 5
    # a point reaches another point on its own arm without a U-turn only forwards; the
    # dead ends at the arm tips allow the U-turn (90 s)
    tc_off = profiles.TurnCosts(enabled=False)
    plain, _ = engine_od(g, np.array([p[0] for p in pts], float),
                         np.array([p[1] for p in pts], float), tc_off, 4.8)
    assert plain[0, 1] == 10 and plain[0, 2] == 10


# ---------------------------------------------------------------------------------------
# linking rules
# ---------------------------------------------------------------------------------------
def _tunnel_case():
    # a surface street along y = 0 and a tunnel along y = 20; the point at y = 15 is
    # nearest to the tunnel (5 m) but must link to the surface street (15 m)
    xy = [(0, 0), (200, 0), (0, 20), (200, 20)]
    edges = [(0, 1, 20, 0), (1, 0, 20, 0), (2, 3, 20, 0), (3, 2, 20, 0),
             (0, 2, 5, 0), (2, 0, 5, 0)]
    tunnel = [False, False, True, True, False, False]
    return xy, edges, tunnel


@pytest.mark.parametrize("mode", ["walk", "bike", "car"])
def test_point_nearest_to_a_tunnel_links_to_the_surface_street(mode):
    xy, edges, tunnel = _tunnel_case()
    g = build(xy, edges, [False] * 4, tunnel=tunnel)
    g.meta["profile"] = profiles.get_profile(mode).model_dump()
    lk = networks.link(g, [50.0], [15.0], 100.0)
    src = g.edge_sources()
    e = lk.edge[0]
    assert not g.edge_data["tunnel"][e]
    assert {int(src[e]), int(g.indices[e])} == {0, 1}
    assert lk.distance_m[0] == pytest.approx(15.0)
    speed = profiles.get_profile(mode).access_speed_kmh
    assert lk.access_s[0] == round(15.0 / (speed / 3.6))
    # allowed explicitly, the tunnel is the nearest edge
    lk2 = networks.link(g, [50.0], [15.0], 100.0, networks.LinkOptions(link_to_tunnels=True))
    assert g.edge_data["tunnel"][lk2.edge[0]] and lk2.distance_m[0] == pytest.approx(5.0)
    # the oracle agrees when the tunnel is not eligible
    ref = oracle_od(xy, edges, [False] * 4, [(50.0, 15.0), (150.0, 0.0)],
                    profiles.TurnCosts(), 4.8, eligible=[not t for t in tunnel])
    got, _ = engine_od(g, np.array([50.0, 150.0]), np.array([15.0, 0.0]),
                       profiles.TurnCosts(), 4.8)
    np.testing.assert_array_equal(got, ref)


def test_motorways_and_private_service_roads_are_not_linked():
    xy = [(0, 0), (200, 0), (0, 10), (200, 10), (0, 30), (200, 30)]
    edges = [(0, 1, 20, 0), (1, 0, 20, 0), (2, 3, 20, 0), (3, 2, 20, 0), (4, 5, 20, 0),
             (5, 4, 20, 0)]
    hw = ["motorway", "motorway", "service", "service", "residential", "residential"]
    g = build(xy, edges, [False] * 6, highway=hw, private=[False, False, True, True,
                                                            False, False])
    g.meta["profile"] = profiles.get_profile("walk").model_dump()
    lk = networks.link(g, [100.0, 100.0], [1.0, 12.0], 100.0)
    assert list(g.edge_data["highway"][lk.edge]) == ["residential", "residential"]
    np.testing.assert_allclose(lk.distance_m, [29.0, 18.0])
    lk = networks.link(g, [100.0], [12.0], 100.0, networks.LinkOptions(link_to_private=True))
    assert g.edge_data["highway"][lk.edge[0]] == "service"
    lk = networks.link(g, [100.0], [12.0], 10.0)  # nothing eligible within 10 m
    assert lk.unlinked[0] and lk.distance_m[0] == pytest.approx(18.0)


def test_points_on_a_node_and_on_an_edge_reach_themselves_in_zero_seconds():
    xy = [(0, 0), (100, 0), (200, 0)]
    edges = [(0, 1, 30, 0), (1, 0, 30, 0), (1, 2, 60, 0), (2, 1, 60, 0)]
    g = build(xy, edges, [False] * 3)
    # on node 1; on the edge 1-2 at a quarter; the same edge position twice
    xs = np.array([100.0, 125.0, 125.0, 0.0])
    ys = np.array([0.0, 0.0, 0.0, 0.0])
    for tc in (profiles.TurnCosts(), profiles.TurnCosts(enabled=True)):
        od, lk = engine_od(g, xs, ys, tc, 4.8)
        np.testing.assert_array_equal(lk.distance_m, 0.0)
        assert od[0, 0] == 0 and od[1, 1] == 0 and od[1, 2] == 0 and od[2, 1] == 0
        assert od[0, 1] == 15 and od[1, 0] == 15  # a quarter of 60 s each way
        assert od[3, 1] == 30 + 15 and od[1, 3] == 15 + 30


def test_own_opportunities_count_at_zero_minutes_through_network_access():
    xy = [(0, 0), (1000, 0)]
    edges = [(0, 1, 600, 0), (1, 0, 600, 0)]
    g = build(xy, edges, [False, False])
    g.meta["profile"] = profiles.get_profile("walk").model_dump()
    g.meta["vertex_xy"] = np.asarray(xy, dtype=float)
    g.edge_data["geom_a"] = np.array([0, 1])  # edge 0: 0 -> 1, edge 1: 1 -> 0
    g.edge_data["geom_b"] = np.array([1, 0])
    assert networks.linkable(g)
    zones = gpd.GeoDataFrame({"zone_id": ["a", "b"], "jobs": [7.0, 100.0]},
                             geometry=[Point(300, 40), Point(700, -30)], crs=28992)
    res = acc.network_access(g, zones, measures=MeasureSpec(cutoffs=[0.01, 10]), mode="walk",
                             snapping=SnapOptions(max_snap_m=100))
    # 0.6 s cutoff: only the zone's own jobs (t = 0)
    np.testing.assert_array_equal(res["jobs_0.01min_walk"], [7.0, 100.0])
    # 10 min: 40 m + 400 m along + 30 m = 470 m at 4.8 km/h = 353 s (access legs rounded)
    od = acc.od_matrix(g, zones, max_time_min=30, mode="walk", max_snap_m=100)
    t = dict(zip(zip(od.origin, od.destination, strict=True), od.time_s, strict=True))
    assert t[("a", "a")] == 0
    assert t[("a", "b")] == round(40 / (4.8 / 3.6)) + 240 + round(30 / (4.8 / 3.6))
    np.testing.assert_array_equal(res["jobs_10min_walk"], [107.0, 107.0])
    np.testing.assert_allclose(res["snap_distance_m"], [40.0, 30.0])


# ---------------------------------------------------------------------------------------
# real fixtures
# ---------------------------------------------------------------------------------------
def test_amsterdam_underpass_is_not_linked_for_walk_and_bike():
    """The Watergraafsmeer clip has a cycleway at layer=-1 (an underpass): a point right
    above it links to a surface way for walk and bike, never to the underpass."""
    for mode in ("walk", "bike"):
        g = networks.load_network(AMS, mode, largest_component=False)
        tun = np.flatnonzero(g.edge_data["tunnel"])
        if tun.size == 0:
            continue
        vxy = g.meta["vertex_xy"]
        e = tun[0]
        a, b = g.edge_data["geom_a"][e], g.edge_data["geom_b"][e]
        mid = (vxy[a] + vxy[b]) / 2  # a point on the underpass itself
        allowed = networks.link(g, [mid[0]], [mid[1]], 1000.0,
                                networks.LinkOptions(link_to_tunnels=True))
        assert g.edge_data["tunnel"][allowed.edge[0]]
        lk = networks.link(g, [mid[0]], [mid[1]], 1000.0)
        assert not lk.unlinked[0]
        assert not g.edge_data["tunnel"][lk.edge[0]]
        assert lk.distance_m[0] > allowed.distance_m[0]
        break
    else:
        pytest.fail("no underpass in the fixture")


def test_amsterdam_reader_keeps_traffic_signals():
    g = networks.load_network(AMS, "car", largest_component=False)
    assert g.meta["traffic_signals"] == 1
    total = int(g.edge_data["signals"].sum()) + int(g.node_data["signal"].sum())
    assert total >= 1


@pytest.fixture(scope="module")
def delft():
    return networks.load_network(DELFT, "car")


def test_delft_turn_costs_only_add_time_and_match_the_counts(delft):
    rng = np.random.default_rng(7)
    k = 40
    xs = rng.uniform(np.percentile(delft.x, 10), np.percentile(delft.x, 90), k)
    ys = rng.uniform(np.percentile(delft.y, 10), np.percentile(delft.y, 90), k)
    prof = networks.graph_profile(delft)
    assert prof is not None and prof.turns.enabled and prof.turns.signal_delay_s == 15
    with_turns, lk = engine_od(delft, xs, ys, prof.turns, 15.0)
    plain, lk0 = engine_od(delft, xs, ys, profiles.TurnCosts(), 15.0)
    assert lk.edge_based and not lk0.edge_based
    fin = np.isfinite(plain)
    assert fin.mean() > 0.95  # the car network of Delft is one component
    assert np.all(with_turns[fin] >= plain[fin])
    off = ~np.eye(k, dtype=bool) & fin & np.isfinite(with_turns)
    ratio = np.median(with_turns[off] / plain[off])
    assert 1.05 < ratio < 2.0  # turns and signals add a real share of the trip time
    np.testing.assert_array_equal(np.diag(with_turns), 0)
    # turns at zero cost and no signals: only the U-turn ban at through-nodes remains,
    # which can only lengthen a trip
    free = profiles.TurnCosts(enabled=True, left_s=0, right_s=0, u_turn_s=0)
    ft, _ = engine_od(delft, xs, ys, free, 15.0)
    assert np.all(ft[fin] >= plain[fin])
    assert np.median(ft[off] - plain[off]) == 0


def test_delft_network_access_links_onto_edges(delft):
    rng = np.random.default_rng(3)
    pts = [Point(x, y) for x, y in zip(rng.uniform(83_000, 86_000, 30),
                                       rng.uniform(444_000, 448_000, 30), strict=True)]
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(30)],
                              "jobs": rng.integers(0, 500, 30).astype(float)},
                             geometry=pts, crs=28992)
    res = acc.network_access(delft, zones, measures=MeasureSpec(cutoffs=[5, 15]),
                             snapping=SnapOptions(max_snap_m=300))
    ok = ~res["jobs_5min_car"].isna()
    assert ok.sum() > 20
    # own jobs always count; linking onto edges brings every point within its distance
    # to the nearest node
    assert np.all(res.loc[ok, "jobs_5min_car"] >= zones.loc[ok, "jobs"])
    snap = networks.snap(delft, [p.x for p in pts], [p.y for p in pts], 300)
    assert np.all(res["snap_distance_m"][ok] <= snap.distance_m[ok] + 1e-6)


def test_signals_and_geometry_survive_every_osm_format(tmp_path):
    """PBF, XML and Overpass JSON of the same extract give the same signals, tunnel flags
    and edge polylines."""
    import json

    import osmium

    xml = tmp_path / "ams.osm"
    with osmium.SimpleWriter(str(xml)) as w:
        for o in osmium.FileProcessor(str(AMS)):
            w.add(o)
    elements = []
    for o in osmium.FileProcessor(str(AMS)):
        if o.is_node():
            el = {"type": "node", "id": o.id, "lat": o.location.lat, "lon": o.location.lon}
            if len(o.tags):
                el["tags"] = {t.k: t.v for t in o.tags}
            elements.append(el)
        elif o.is_way():
            elements.append({"type": "way", "id": o.id, "nodes": [n.ref for n in o.nodes],
                             "tags": {t.k: t.v for t in o.tags}})
    js = tmp_path / "overpass.json"
    js.write_text(json.dumps({"version": 0.6, "elements": elements}))
    graphs = [networks.load_network(p, "walk", largest_component=False) for p in (AMS, xml, js)]
    ref = graphs[0]
    assert ref.meta["traffic_signals"] == 1 and ref.edge_data["tunnel"].any()
    for g in graphs[1:]:
        assert g.meta["traffic_signals"] == 1
        for k in ("signals", "tunnel", "private", "geom_a", "geom_b"):
            np.testing.assert_array_equal(g.edge_data[k], ref.edge_data[k])
        np.testing.assert_array_equal(g.node_data["signal"], ref.node_data["signal"])
        np.testing.assert_allclose(g.meta["vertex_xy"], ref.meta["vertex_xy"], atol=1e-6)


@pytest.mark.parametrize("enabled", [False, True])
def test_points_far_from_the_network_stay_unlinked(delft, enabled):
    tc = profiles.TurnCosts(enabled=enabled)
    lk = networks.link(delft, [120_000.0, 121_000.0, np.nan], [480_000.0, 480_000.0, 0.0],
                       500.0, networks.LinkOptions(turns=tc))
    assert lk.unlinked.all() and lk.src_ptr.tolist() == [0, 0, 0, 0]
    assert np.all(lk.distance_m[:2] > 30_000) and np.isnan(lk.distance_m[2])
    none = networks.link(delft, [], [], 500.0, networks.LinkOptions(turns=tc))
    assert none.sink.size == 0 and none.src_ptr.tolist() == [0]


def test_graphml_two_way_streets_split_in_both_directions(delft):
    """osmnx stores each direction's polyline separately: the reverse edge with the reversed
    polyline is still the twin, so a point mid-street can leave either way."""
    from ruimtekit.network import _linking

    tw = _linking.twins(delft)
    src = delft.edge_sources()
    pairs = set(zip(src.tolist(), delft.indices.tolist(), strict=True))
    has_rev = np.array([(v, u) in pairs
                        for u, v in zip(src.tolist(), delft.indices.tolist(), strict=True)])
    assert (tw >= 0).sum() > 0.95 * has_rev.sum()
    e = int(np.flatnonzero(tw >= 0)[0])
    vxy, a, b = _linking.edge_polylines(delft)
    mid = vxy[a[e]] + 0.5 * (vxy[a[e] + np.sign(b[e] - a[e])] - vxy[a[e]])
    for enabled in (False, True):
        lk = networks.link(delft, [mid[0]], [mid[1]], 50.0,
                           networks.LinkOptions(turns=profiles.TurnCosts(enabled=enabled)))
        n_src = lk.src_ptr[1] - lk.src_ptr[0]
        # node-based: the split node and the own sink; edge-based: both directions + sink
        assert n_src == (3 if enabled else 2)
        if not enabled:
            split = lk.src_nodes[0]
            assert np.diff(lk.graph.indptr)[split] == 3  # both ways out, and the sink arc
