"""Accessibility measures against independent oracles (scipy Dijkstra, numpy, hand cases)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from oracles import grid_graph, nearest_nodes, shortest_seconds
from ruimtekit._context import RunContext
from ruimtekit._errors import InputError
from ruimtekit.analysis import accessibility as acc
from ruimtekit.engine import impedance
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay, MeasureSpec, aggregate_times, format_number
from ruimtekit.engine.search import SnapOptions
from ruimtekit.network import graph

ROOT = Path(__file__).resolve().parents[1]
DELFT = ROOT / "data" / "raw" / "osm" / "delft_drive.graphml"


# --------------------------------------------------------------------------- helpers
def point_zones(xs, ys, jobs, ids=None, size=50.0):
    ids = ids if ids is not None else [f"Z{i}" for i in range(len(xs))]
    geoms = [box(x - size, y - size, x + size, y + size) for x, y in zip(xs, ys, strict=True)]
    return gpd.GeoDataFrame({"zone_id": ids, "jobs": np.asarray(jobs, float)},
                            geometry=geoms, crs=28992)


def oracle_access(g, zones, dest_xy, dest_w, cutoffs_min, v_ms, max_snap=500.0):
    """Brute force: snap by exhaustive nearest node, scipy Dijkstra, dense sums."""
    zx = zones.geometry.centroid.x.to_numpy()
    zy = zones.geometry.centroid.y.to_numpy()
    zi, zd = nearest_nodes(g.x, g.y, zx, zy)
    di, dd = nearest_nodes(g.x, g.y, *dest_xy)
    D = shortest_seconds(g, zi)
    t = np.rint(zd / v_ms)[:, None] + D[:, di] + np.rint(dd / v_ms)[None, :]
    t[:, dd > max_snap] = np.inf
    res = {c: np.where(t <= 60 * c, dest_w[None, :], 0).sum(1) for c in cutoffs_min}
    for c in res:
        res[c] = np.where(zd <= max_snap, res[c], np.nan)
    return res, t


# --------------------------------------------------------------------------- decays
def test_decay_weights_match_formulas():
    t = np.array([0.0, 0.5, 1.0, 10.0, 29.9, 30.0, 45.0, 60.0, np.inf])
    np.testing.assert_allclose(Decay("exponential", beta=0.05).weight(t),
                               np.where(np.isfinite(t), np.exp(-0.05 * t), 0))
    p = Decay("power", beta=1.5).weight(t)  # t floored at 1 minute
    np.testing.assert_allclose(p[:3], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(p[3:8], t[3:8] ** -1.5)
    assert Decay("power", beta=2, t_min=2).weight(0.0) == pytest.approx(0.25)
    np.testing.assert_allclose(Decay("logistic", beta=0.2, t0=30).weight(t)[:-1],
                               1 / (1 + np.exp(0.2 * (t[:-1] - 30))))
    np.testing.assert_allclose(Decay("linear", cutoff=30).weight(t),
                               [1, 1 - 0.5 / 30, 1 - 1 / 30, 1 - 10 / 30, 1 - 29.9 / 30, 0, 0, 0, 0])
    s = Decay("step", bands=[[15, 1.0], [30, 0.5], [45, 0.2]])
    np.testing.assert_allclose(s.weight(t), [1, 1, 1, 1, 0.5, 0.5, 0.2, 0, 0])
    assert Decay("cumulative", cutoff=45).weight_seconds(2700) == 1
    assert Decay("cumulative", cutoff=45).weight_seconds(2701) == 0


def test_decay_labels_and_errors():
    assert Decay("exponential", beta=0.05).label == "exp0.05"
    assert Decay("cumulative", cutoff=22.5).label == "22.5min"
    assert Decay("logistic", beta=0.1, t0=30).label == "logistic0.1_30"
    assert Decay("step", bands=[[15, 1], [30, 0.5]]).label == "step15x1-30x0.5"
    with pytest.raises(InputError, match="unknown decay"):
        Decay("gaussian", beta=1)
    with pytest.raises(InputError, match="parameters"):
        Decay("exponential", cutoff=3)
    with pytest.raises(InputError, match="increasing"):
        Decay("step", bands=[[30, 1], [15, 0.5]])
    with pytest.raises(InputError, match="twice"):
        aggregate_times(np.zeros((1, 1)), np.ones(1), [45, 45])


def test_aggregate_times_hand_case():
    t = np.array([[0.0, 600.0, 2700.0, 2701.0, np.inf]])
    e = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    r = aggregate_times(t, e, cutoffs=(10, 45), decays=[Decay("linear", cutoff=60)])
    assert r["10min"][0] == 3.0
    assert r["45min"][0] == 7.0
    expect = 1 + 2 * (1 - 10 / 60) + 4 * (1 - 45 / 60) + 8 * (1 - 2701 / 3600)
    assert r["lin60"][0] == pytest.approx(expect)
    h = aggregate_times(t, e, (10,), [Decay("exponential", beta=0.1)], horizon_min=45)
    assert h["exp0.1"][0] == pytest.approx(1 + 2 * math.exp(-1) + 4 * math.exp(-4.5))


# --------------------------------------------------------------------------- network
def test_network_access_matches_oracle_with_ties_and_unsnapped():
    g = grid_graph(side=10, seed=1)
    rng = np.random.default_rng(2)
    xs = 100_000 + rng.uniform(-30, 930, 25)
    ys = 450_000 + rng.uniform(-30, 930, 25)
    jobs = rng.poisson(4, 25).astype(float)
    jobs[:4] = 0  # zero-opportunity zones
    xs[-1] += 5_000  # far away: unsnapped
    zones = point_zones(xs, ys, jobs)
    v = 4.8 / 3.6
    # cutoffs chosen exactly on reachable travel times (ties: t == 60 T)
    _, t = oracle_access(g, zones, (xs, ys), jobs, [10], v)
    finite = np.unique(t[np.isfinite(t)])
    tie_min = float(finite[len(finite) // 2]) / 60.0
    cutoffs = [5, 10, tie_min]
    res = acc.network_access(g, zones, measures=MeasureSpec(
        cutoffs=cutoffs, decays=[Decay("exponential", beta=0.1)], horizon_min=30),
        mode="walk", snapping=SnapOptions(max_snap_m=300))
    ref, t = oracle_access(g, zones, (xs, ys), jobs, cutoffs, v, max_snap=300)
    for c in cutoffs:
        col = f"jobs_{format_number(c)}min_walk"
        np.testing.assert_allclose(res[col].to_numpy(), ref[c], rtol=1e-12)
    tt = np.where(t <= 1800, t, np.inf)
    expo = np.where(np.isfinite(tt), np.exp(-0.1 * tt / 60), 0) @ jobs
    got = res["jobs_exp0.1_walk"].to_numpy()
    np.testing.assert_allclose(got[:-1], expo[:-1], rtol=1e-12)
    assert res.attrs["unsnapped"] == ["Z24"]
    assert np.isnan(got[-1])
    assert res.attrs["unsnapped_destinations"] == 1
    assert list(res["zone_id"]) == list(zones["zone_id"])
    assert res.crs.to_epsg() == 28992


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_network_access_random_directed(seed, oneway):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    m = int(rng.integers(n, 4 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.integers(0, 300, m)
    if not oneway:
        u, v, w = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    x, y = 100_000 + rng.uniform(0, 2000, n), 450_000 + rng.uniform(0, 2000, n)
    g = graph.from_edges(u, v, w, x, y, largest_component=False, mode="bike")
    k = 12
    zx, zy = 100_000 + rng.uniform(0, 2000, k), 450_000 + rng.uniform(0, 2000, k)
    jobs = rng.integers(0, 5, k).astype(float)
    zones = point_zones(zx, zy, jobs, size=1.0)
    cutoffs = [1, 3.5, 7]
    res = acc.network_access(g, zones, measures=MeasureSpec(cutoffs=cutoffs),
                             snapping=SnapOptions(max_snap_m=5000))
    ref, _ = oracle_access(g, zones, (zx, zy), jobs, cutoffs, 15 / 3.6, max_snap=5000)
    for c in cutoffs:
        np.testing.assert_allclose(res[f"jobs_{format_number(c)}min_bike"], ref[c])


def test_separate_destinations_pop_point_and_histogram():
    g = grid_graph(side=8, seed=3, mode="car")
    zones = point_zones([100_050, 100_650], [450_050, 450_650], [0, 0])
    zones["pop_x"] = [100_000.0, np.nan]  # first zone snaps from its population point
    zones["pop_y"] = [450_000.0, np.nan]
    rng = np.random.default_rng(4)
    dx, dy = 100_000 + rng.uniform(0, 700, 30), 450_000 + rng.uniform(0, 700, 30)
    dest = gpd.GeoDataFrame({"jobs": rng.integers(1, 9, 30).astype(float)},
                            geometry=[Point(a, b) for a, b in zip(dx, dy, strict=True)], crs=28992)
    res = acc.network_access(g, zones, dest, measures=MeasureSpec(cutoffs=[3, 6]),
                             snapping={"max_snap_m": 200})
    assert res["snap_distance_m"].iloc[0] == 0.0  # pop point is exactly on node 0
    zz = zones.copy()
    zz["geometry"] = [Point(100_000, 450_000), zones.geometry.iloc[1].centroid]
    ref, t = oracle_access(g, zz, (dx, dy), dest["jobs"].to_numpy(), [3, 6], 4.8 / 3.6, 200)
    np.testing.assert_allclose(res["jobs_3min_car"], ref[3])
    np.testing.assert_allclose(res["jobs_6min_car"], ref[6])
    h = acc.histogram(g, zones, dest, max_time_min=6, snapping=SnapOptions(max_snap_m=200))
    assert list(h.columns) == list(range(7))
    # prefix sums of the 1-minute histogram equal the cumulative counts at whole minutes
    np.testing.assert_allclose(h.loc[:, :3].sum(axis=1), ref[3])
    np.testing.assert_allclose(h.loc[:, :6].sum(axis=1), ref[6])
    expect = np.zeros((2, 7))
    for o in range(2):
        for j in np.flatnonzero(t[o] <= 360):
            expect[o, int(np.ceil(t[o, j] / 60))] += dest["jobs"].iloc[j]
    np.testing.assert_allclose(h.to_numpy(), expect)


def test_od_matrix_and_parquet(tmp_path):
    g = grid_graph(side=6, seed=5)
    zones = point_zones([100_000, 100_200, 100_500], [450_000, 450_300, 450_500], [1, 1, 1])
    df = acc.od_matrix(g, zones, max_time_min=60, max_snap_m=100)
    _, t = oracle_access(g, zones, (np.array([100_000, 100_200, 100_500.0]),
                                    np.array([450_000, 450_300, 450_500.0])), np.ones(3), [60], 4.8 / 3.6)
    full = df.pivot(index="origin", columns="destination", values="time_s").loc[
        ["Z0", "Z1", "Z2"], ["Z0", "Z1", "Z2"]].to_numpy()
    np.testing.assert_array_equal(full, t)
    out = acc.write_od_matrix(df, tmp_path / "m.parquet")
    back = pd.read_parquet(out)
    assert len(back) == 9 and set(back.columns) == {"origin", "destination", "time_s"}


def _delft_graph():
    ox = pytest.importorskip("osmnx")
    from pyproj import Transformer

    G = ox.load_graphml(DELFT)
    nodes = list(G.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    tr = Transformer.from_crs(4326, 28992, always_xy=True)
    x, y = tr.transform([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes])
    u, v, tt, ln = [], [], [], []
    for a, b, d in G.edges(data=True):
        ms = d.get("maxspeed")
        ms = ms[0] if isinstance(ms, list) else ms
        try:
            kmh = float(str(ms).split()[0])
        except (TypeError, ValueError):
            kmh = 30.0
        length = float(d["length"])
        u.append(pos[a])
        v.append(pos[b])
        ln.append(length)
        tt.append(length / (kmh / 3.6))
    return graph.from_edges(np.array(u), np.array(v), np.array(tt), np.array(x), np.array(y),
                            mode="car", attrs=graph.GraphAttrs(node_ids=np.array(nodes),
                                                               length_m=np.array(ln)))


def test_delft_every_node_matches_dijkstra():
    """Real OSM drive graph of Delft: every node an origin, vs float64 Dijkstra."""
    g = _delft_graph()
    assert g.n_nodes > 2000
    rng = np.random.default_rng(0)
    jobs = rng.poisson(5, g.n_nodes).astype(float)
    n = g.n_nodes
    dptr = np.arange(n + 1, dtype=np.int64)
    d = shortest_seconds(g)
    for cut_min in (2, 5, 10):
        max_t = cut_min * 60
        sh = _search.build_search_inputs(g, (np.arange(n + 1), np.arange(n), np.zeros(n)),
                                     (np.arange(n), np.zeros(n), jobs),
                                     [Decay("cumulative", cutoff=cut_min),
                                      Decay("exponential", beta=0.2)], cut_min)
        assert np.array_equal(sh.dst_ptr, dptr)
        out = _search.measures_batch(sh, np.arange(n))
        np.testing.assert_array_equal(out[:, 0], np.where(d <= max_t, jobs, 0).sum(1))
        expo = np.where(d <= max_t, np.exp(-0.2 * d / 60) * jobs, 0).sum(1)
        np.testing.assert_allclose(out[:, 1], expo, rtol=1e-12)
    # batches concatenate to the whole (distributed entry point)
    whole = _search.measures_batch(sh, np.arange(n))
    parts = [_search.measures_batch(sh, b) for b in np.array_split(np.arange(n)[::-1], 3)]
    np.testing.assert_array_equal(np.concatenate(parts), whole[::-1])


# --------------------------------------------------------------------------- crow-fly
def test_crowfly_access_matches_dense_numpy():
    rng = np.random.default_rng(11)
    k = 60
    xs, ys = 120_000 + rng.uniform(0, 40_000, k), 480_000 + rng.uniform(0, 40_000, k)
    jobs = rng.poisson(100, k).astype(float)
    zones = point_zones(xs, ys, jobs, size=400.0)
    dec = [Decay("exponential", beta=0.05), Decay("power", beta=1.2)]
    res = acc.crowfly_access(zones, measures=MeasureSpec(cutoffs=[15, 30], decays=dec,
                                                         horizon_min=60), mode="car")
    D = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
    np.fill_diagonal(D, acc.intrazonal_distance_m(zones))
    D = np.maximum(D, acc.intrazonal_distance_m(zones)[:, None])  # the own-zone rule
    t = np.rint(impedance.crowfly_seconds(D, "car"))
    ref = aggregate_times(t, jobs, [15, 30], dec, horizon_min=60)
    for lab, arr in ref.items():
        np.testing.assert_allclose(res[f"jobs_{lab}_car"].to_numpy(), arr, rtol=1e-12)
    assert acc.intrazonal_distance_m(zones)[0] == pytest.approx(2 / 3 * math.sqrt(800**2 / math.pi))


# --------------------------------------------------------------------------- ED, 2SFCA
def test_effective_density_hand_case():
    # three 1 km² squares; centres 3 km and 4 km from zone A (a 3-4-5 triangle)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["A", "B", "C"], "jobs": [100.0, 300.0, 400.0]},
        geometry=[box(-500, -500, 500, 500), box(2500, -500, 3500, 500),
                  box(-500, 3500, 500, 4500)], crs=28992)
    d_own = (2 / 3) * math.sqrt(1e6 / math.pi) / 1000  # km
    ed = acc.effective_density(zones, alpha=1.0)["jobs_ed1"].to_numpy()
    assert ed[0] == pytest.approx(100 / d_own + 300 / 3 + 400 / 4)
    assert ed[1] == pytest.approx(100 / 3 + 300 / d_own + 400 / 5)
    ed2 = acc.effective_density(zones, alpha=1.6)["jobs_ed1.6"].to_numpy()
    assert ed2[2] == pytest.approx(100 / 4**1.6 + 300 / 5**1.6 + 400 / d_own**1.6)


def test_two_step_fca_hand_case():
    # zones 1..3 (population 100, 200, 300), facilities a, b (supply 10, 20)
    t = np.array([[5.0, 40.0], [20.0, 25.0], [35.0, 10.0]]) * 60
    pop = np.array([100.0, 200.0, 300.0])
    sup = np.array([10.0, 20.0])
    a, r = acc.two_step_fca_times(t, pop, sup, Decay("cumulative", cutoff=30))
    # R_a = 10 / (100 + 200) ; R_b = 20 / (200 + 300)
    np.testing.assert_allclose(r, [10 / 300, 20 / 500])
    np.testing.assert_allclose(a, [10 / 300, 10 / 300 + 20 / 500, 20 / 500])
    # total supply is conserved when every facility is reached by someone
    assert (a * pop).sum() == pytest.approx(sup.sum())


def test_two_step_fca_network_matches_dense():
    g = grid_graph(side=9, seed=8, mode="walk")
    rng = np.random.default_rng(9)
    zx, zy = 100_000 + rng.uniform(0, 800, 15), 450_000 + rng.uniform(0, 800, 15)
    zones = point_zones(zx, zy, np.zeros(15), size=1.0)
    zones["population"] = rng.integers(0, 500, 15).astype(float)
    fx, fy = 100_000 + rng.uniform(0, 800, 5), 450_000 + rng.uniform(0, 800, 5)
    fac = gpd.GeoDataFrame({"beds": [10.0, 5, 20, 8, 3]},
                           geometry=[Point(a, b) for a, b in zip(fx, fy, strict=True)], crs=28992)
    dec = Decay("linear", cutoff=12)
    res = acc.two_step_fca(g, zones, fac, supply="beds", decay=dec,
                           snapping=SnapOptions(max_snap_m=1000))
    _, t = oracle_access(g, zones, (fx, fy), np.ones(5), [12], 4.8 / 3.6, max_snap=1000)
    a, r = acc.two_step_fca_times(t, zones["population"].to_numpy(), fac["beds"].to_numpy(), dec)
    np.testing.assert_allclose(res["beds_2sfca_lin12_walk"].to_numpy(), a, rtol=1e-12)
    np.testing.assert_allclose(res.attrs["facility_ratio"], r, rtol=1e-12)


# --------------------------------------------------------------------------- skims
def test_skim_access(tmp_path):
    zones = point_zones([0, 1000, 2000], [0, 0, 0], [10, 20, 40], ids=["1011", "1012", "1013"])
    zones = zones.set_crs(28992, allow_override=True)
    p = tmp_path / "skim.csv"
    pd.DataFrame({"o": ["1011", "1011", "1012", "1013"], "d": ["1012", "1013", "1011", "1013"],
                  "minutes": [30, 46, 45, 0]}).to_csv(p, index=False)
    res = acc.skim_access(p, zones, cutoffs=[45], origin_col="o", dest_col="d",
                          time_col="minutes", mode="car")
    # own zone counts (missing diagonal filled with 0 min); 46 min is beyond the cutoff
    np.testing.assert_allclose(res["jobs_45min_car"], [10 + 20, 20 + 10, 40])


# --------------------------------------------------------------------------- study + pipeline
def test_config_and_pipeline_step(tmp_path):
    g = grid_graph(side=8, seed=12, mode="bike")
    zones = point_zones(100_000 + np.array([0, 300, 700.0]), 450_000 + np.array([0, 300, 700.0]),
                        [5, 7, 11])
    cfg = acc.AccessibilityConfig.model_validate({
        "name": "demo", "zones": "zones", "modes": ["bike", "car"],
        "impedance": {"bike": "roads", "car": "crowfly"},
        "cutoffs": [5, 10], "decays": [{"kind": "exponential", "params": {"beta": 0.1}}],
        "max_snap_m": 200, "matrix": True,
    })
    with pytest.raises(Exception, match="beta"):
        acc.AccessibilityConfig.model_validate({"name": "x", "zones": "z", "modes": ["car"],
                                                "decays": [{"kind": "exponential", "params": {}}]})
    with pytest.raises(Exception, match="extra"):
        acc.AccessibilityConfig.model_validate({"name": "x", "zones": "z", "modes": ["car"],
                                                "cutof": [45]})
    study = SimpleNamespace(accessibility=[cfg], output_dir="out", name="s")
    ctx = RunContext(study=study, root=tmp_path, layers={"zones": zones}, networks={"roads": g},
                     work_dir=tmp_path)
    acc.pipeline_step(ctx)
    res = ctx.results["access_demo"]
    assert {"jobs_5min_bike", "jobs_10min_bike", "jobs_exp0.1_bike", "jobs_5min_car",
            "jobs_exp0.1_car", "snap_distance_m"} <= set(res.columns)
    direct = acc.network_access(g, zones, measures=MeasureSpec(
        cutoffs=[5, 10], decays=[Decay("exp", beta=0.1)]), snapping=SnapOptions(max_snap_m=200))
    np.testing.assert_allclose(res["jobs_10min_bike"], direct["jobs_10min_bike"])
    assert (tmp_path / "access_demo_bike_matrix.parquet").exists()
    assert any("crow-fly" in n for n in ctx.notes)


def test_bad_inputs_raise():
    g = grid_graph(side=4)
    zones = point_zones([100_000], [450_000], [1])
    with pytest.raises(InputError, match="no column 'banen'"):
        acc.network_access(g, zones, opportunity="banen")
    z2 = zones.copy()
    z2["jobs"] = [np.nan]
    with pytest.raises(InputError, match="missing or negative"):
        acc.network_access(g, z2)
    with pytest.raises(InputError, match="EPSG:28992"):
        acc.network_access(g, zones.to_crs(4326))
    with pytest.raises(InputError, match="positive"):
        acc.network_access(g, zones, measures={"cutoffs": [-5]})


def test_cli_access_crowfly(tmp_path):
    from typer.testing import CliRunner

    from ruimtekit.cli import app

    zones = point_zones([100_000, 103_000], [450_000, 450_000], [10, 20], ids=["A", "B"])
    zp = tmp_path / "zones.gpkg"
    zones.to_file(zp)
    out = tmp_path / "res.gpkg"
    r = CliRunner().invoke(app, ["access", "--zones", str(zp), "--network", "crowfly",
                                 "--mode", "bike", "--cutoff", "15", "-o", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    back = gpd.read_file(out)
    ref = acc.crowfly_access(zones, measures=MeasureSpec(cutoffs=[15]), mode="bike")
    np.testing.assert_allclose(back["jobs_15min_bike"], ref["jobs_15min_bike"])
    bad = CliRunner().invoke(app, ["access", "--zones", str(zp), "--network", "crowfly",
                                   "--mode", "bike", "--opportunities", "banen", "-o", str(out)])
    assert bad.exit_code == 2


def test_large_graph_is_searched_renumbered_with_same_results():
    """≥ LOCALITY_MIN_NODES nodes: the engine searches a Hilbert-renumbered copy."""
    side = 105  # 11,025 nodes
    g = grid_graph(side=side, seed=21, spacing=50.0)
    assert g.n_nodes >= _search.LOCALITY_MIN_NODES
    g2, new_of_old = _search.search_graph(g)
    assert new_of_old is not None and _search.search_graph(g)[0] is g2  # cached
    rng = np.random.default_rng(22)
    k = 15
    zx, zy = 100_000 + rng.uniform(0, 5000, k), 450_000 + rng.uniform(0, 5000, k)
    zones = point_zones(zx, zy, rng.integers(0, 9, k), size=1.0)
    res = acc.network_access(g, zones, measures=MeasureSpec(cutoffs=[4, 9]),
                             snapping=SnapOptions(max_snap_m=100))
    ref, _ = oracle_access(g, zones, (zx, zy), zones["jobs"].to_numpy(), [4, 9], 4.8 / 3.6, 100)
    np.testing.assert_allclose(res["jobs_4min_walk"], ref[4])
    np.testing.assert_allclose(res["jobs_9min_walk"], ref[9])


def test_zone_without_geometry_is_reported_not_silent():
    from shapely.geometry import Polygon

    zones = point_zones([100_000, 101_000, 102_000], [450_000, 450_000, 450_000], [5, 7, 11])
    zones.loc[1, "geometry"] = Polygon()  # e.g. CBS PC4 5028 has an empty geometry
    cf = acc.crowfly_access(zones, measures=MeasureSpec(cutoffs=[30]), mode="bike")
    assert cf.attrs["unsnapped"] == ["Z1"]
    assert np.isnan(cf["jobs_30min_bike"].iloc[1])
    assert cf.attrs["unlocated_destination_opportunities"] == 7
    full = acc.crowfly_access(zones.drop(index=1), measures=MeasureSpec(cutoffs=[30]),
                              mode="bike")
    np.testing.assert_allclose(cf["jobs_30min_bike"].to_numpy()[[0, 2]], full["jobs_30min_bike"])
    g = grid_graph(side=6)
    net = acc.network_access(g, zones, measures=MeasureSpec(cutoffs=[30]),
                             snapping=SnapOptions(max_snap_m=2000))
    assert net.attrs["unsnapped"] == ["Z1"] and np.isnan(net["jobs_30min_walk"].iloc[1])
