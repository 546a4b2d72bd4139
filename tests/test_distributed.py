"""Dask scale-out: identical results to the local run, survival of a killed worker,
clear errors for unreachable schedulers."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from ruimtekit.analysis import transit_access
from ruimtekit.engine import search as _search
from ruimtekit.engine.measures import Decay, MeasureSpec, measure_list
from ruimtekit.io import places

distributed_mod = pytest.importorskip("distributed")
import cloudpickle  # noqa: E402

from oracles import linked_seconds, random_digraph, reached_sums  # noqa: E402
from ruimtekit._errors import RuimtekitError  # noqa: E402
from ruimtekit.engine import batches as distributed  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])
pytestmark = pytest.mark.filterwarnings("ignore:.*empty geometry:UserWarning")


def _batch_sum(shared, idx, delay=0.0):
    m, jobs = shared
    d = dijkstra(m, indices=idx, limit=300.0)
    if delay:
        time.sleep(delay)
    return (np.where(np.isfinite(d), 1.0, 0.0) * jobs).sum(axis=1)


def _slow_batch(shared, idx):
    return _batch_sum(shared, idx, delay=0.4)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_batches_cover_range_in_order():
    parts = distributed.batches(10, 4)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_dask_equals_local(client):
    shared = random_digraph()
    n = shared[0].shape[0]
    local = distributed.concat(distributed.map_batches(_batch_sum, shared, n, batch_size=37))
    remote = distributed.concat(
        distributed.map_batches(_batch_sum, shared, n, scheduler=client, batch_size=37)
    )
    oracle = reached_sums(shared[0], shared[1], 300.0)
    np.testing.assert_array_equal(local, oracle)
    np.testing.assert_array_equal(remote, local)


def test_worker_killed_mid_run_is_survived(client):
    shared = random_digraph(seed=5)
    n = shared[0].shape[0]
    pids = client.run(os.getpid)
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 1:  # kill one worker process hard after the first batch is back
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)

    out = distributed.concat(
        distributed.map_batches(_slow_batch, shared, n, scheduler=client, batch_size=25,
                                progress=progress)
    )
    oracle = reached_sums(shared[0], shared[1], 300.0)
    np.testing.assert_array_equal(out, oracle)
    assert seen[-1] == len(distributed.batches(n, 25))


def test_unreachable_scheduler_gives_clear_error():
    with pytest.raises(RuimtekitError, match="cannot reach the Dask scheduler"):
        with distributed.client_for("tcp://127.0.0.1:9", timeout_s=2):
            pass


def test_bad_local_spec():
    with pytest.raises(RuimtekitError, match="local:N"):
        with distributed.client_for("local:zero"):
            pass


# ======================================================================================
# the engines on real fixture data (Delft OSM roads, Amsterdam transit graph, CBS zones)
# ======================================================================================
ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


@pytest.fixture(scope="module")
def delft():
    """Delft OSM drive network; origins: every 5th network node (as point zones);
    destinations: the CBS 2021 PC4 areas around Delft with their population."""
    import geopandas as gpd

    from ruimtekit.io import layers
    from ruimtekit.network import networks

    g = networks.load_network(RAW / "osm" / "delft_drive.graphml", "car")
    pc4 = layers.clip_bbox(layers.read_zones(RAW / "cbs_pc4_2021.parquet"),
                           (81500, 443500, 86500, 449000))
    pc4 = pc4[pc4["population"].notna()].reset_index(drop=True)
    sel = np.arange(0, g.n_nodes, 5)
    # shifted 40 m east so that snapping (and the access leg) is exercised
    origins = gpd.GeoDataFrame({"zone_id": [f"n{i}" for i in sel]},
                               geometry=gpd.points_from_xy(g.x[sel] + 40.0, g.y[sel]),
                               crs=28992)
    return g, origins, pc4


def _network_local(g, origins, pc4):
    from ruimtekit.analysis import accessibility as acc

    return acc.network_access(g, origins, pc4, opportunity="population", measures=MeasureSpec(
        cutoffs=(3, 6), decays=[Decay("exponential", beta=0.2)]))


def test_network_access_on_dask_equals_local(client, delft, monkeypatch):
    g, origins, pc4 = delft
    local = _network_local(g, origins, pc4)
    scatters = []
    real_scatter = client.scatter

    def counting_scatter(data, *a, **kw):
        scatters.append(kw.get("broadcast"))
        return real_scatter(data, *a, **kw)

    monkeypatch.setattr(client, "scatter", counting_scatter)
    from ruimtekit.analysis import accessibility as acc

    remote = acc.network_access(g, origins, pc4, opportunity="population", measures=MeasureSpec(
        cutoffs=(3, 6), decays=[Decay("exponential", beta=0.2)]), scheduler=client)
    cols = ["population_3min_car", "population_6min_car", "population_exp0.2_car"]
    assert remote["zone_id"].tolist() == local["zone_id"].tolist()
    for c in cols:
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())
    # not vacuous: values vary and the 6-minute count dominates the 3-minute one
    assert local[cols[1]].nunique() > 20 and local[cols[2]].nunique() > 200
    assert (local[cols[1]] >= local[cols[0]]).all() and (local[cols[1]] > local[cols[0]]).any()
    # the network went to the workers in exactly one broadcast scatter for all batches
    assert scatters == [True]
    n_batches = len(distributed.batches(len(origins), distributed.default_batch_size(
        len(origins), 2)))
    assert n_batches >= 4


def test_batch_tasks_reference_the_scattered_network(client, delft):
    """Every batch task depends on one scattered key holding the graph (the graph is not
    embedded in the tasks), and that key is held by both workers."""
    from ruimtekit.analysis import accessibility as acc

    g, origins, pc4 = delft
    p = acc._prepare(g, origins, pc4, "population", measure_list((10,), ()), "car", 500.0,
                     None, None)
    seen = {}

    def progress(done, total):
        if done == 1:
            seen.update(client.run_on_scheduler(_batch_dependencies))
            seen["who_has"] = client.who_has()

    distributed.map_batches(_search.network_batch, p.shared, p.shared.n_origins,
                            scheduler=client, batch_size=60, progress=progress)
    deps = {k: v for k, v in seen.items() if k.startswith("ruimtekit-network_batch")}
    assert len(deps) >= 2
    scattered = {d for v in deps.values() for d in v}
    assert len(scattered) == 1 and all(len(v) == 1 for v in deps.values())
    [key] = scattered
    assert len(seen["who_has"][key]) == 2  # broadcast: a copy on each worker, once


def _batch_dependencies(dask_scheduler):
    return {str(k): [str(d.key) for d in ts.dependencies]
            for k, ts in dask_scheduler.tasks.items()}


def _slow_network_batch(shared, idx):
    time.sleep(0.3)
    return _search.network_batch(shared, idx)


def test_histogram_and_od_matrix_on_dask_equal_local(client, delft):
    """Travel-time histograms and the zone-to-zone matrix run in batches on Dask give the
    local results (the matrix checked against scipy Dijkstra on the linked search graph)."""
    from ruimtekit.analysis import accessibility as acc
    from ruimtekit.network import networks

    g, origins, pc4 = delft
    local = acc.histogram(g, origins, pc4, opportunity="population", max_time_min=8)
    remote = acc.histogram(g, origins, pc4, opportunity="population", max_time_min=8,
                           scheduler=client)
    pd.testing.assert_frame_equal(remote, local)
    assert local.to_numpy().sum() > 0 and (local.to_numpy() > 0).sum(axis=1).mean() > 2
    zones = origins.iloc[:60].reset_index(drop=True)
    od_local = acc.od_matrix(g, zones, max_time_min=6)
    od_remote = acc.od_matrix(g, zones, max_time_min=6, scheduler=client)
    pd.testing.assert_frame_equal(od_remote, od_local)
    # oracle: scipy Dijkstra on the search graph of networks.link (the points linked onto
    # their edges, car turn costs on an edge-based graph, one sink per point; the linking
    # itself is checked against a brute force in test_linking.py)
    lk = networks.link(g, zones.geometry.x.to_numpy(), zones.geometry.y.to_numpy(), 500.0)
    t = linked_seconds(lk, len(zones), lk.sink)
    assert np.all(np.diag(t) == 0)  # a zone reaches itself in 0 s
    exp = {(zones.zone_id[i], zones.zone_id[j]): t[i, j] for i in range(len(zones))
           for j in range(len(zones)) if t[i, j] <= 360}
    got = {(o, dd): float(v) for o, dd, v in od_local.itertuples(index=False)}
    assert got.keys() == exp.keys() and len(got) > len(zones)
    assert all(got[k] == exp[k] for k in got)


def test_network_worker_killed_mid_run_gives_identical_result(client, delft):
    from ruimtekit.analysis import accessibility as acc

    g, origins, pc4 = delft
    p = acc._prepare(g, origins, pc4, "population", measure_list((5, 10), ()), "car", 500.0,
                     None, None)
    local_out, _, _, local_reached = _search.search(p.shared)
    client.wait_for_workers(2, timeout=60)  # an earlier test may have killed one
    pids = client.run(os.getpid)
    killed = []

    def progress(done, total):
        if done == 1 and not killed:
            killed.append(sorted(pids.values())[-1])
            os.kill(killed[0], signal.SIGKILL)

    res = distributed.map_batches(_slow_network_batch, p.shared, p.shared.n_origins,
                                  scheduler=client, batch_size=30, progress=progress)
    out, reached = distributed.concat(res)
    assert killed and len(res) == len(distributed.batches(p.shared.n_origins, 30))
    np.testing.assert_array_equal(out, local_out)
    np.testing.assert_array_equal(reached, local_reached)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_crowfly_access_on_dask_equals_local(client, delft):
    from ruimtekit.analysis import accessibility as acc

    _, _, pc4 = delft
    kw = dict(opportunity="population", measures=MeasureSpec(
        cutoffs=(5, 15), decays=[{"kind": "linear", "params": {"cutoff": 20}}]), mode="bike")
    local = acc.crowfly_access(pc4, **kw)
    remote = acc.crowfly_access(pc4, scheduler=client, **kw)
    for c in ("population_5min_bike", "population_15min_bike", "population_lin20_bike"):
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())
    assert local["population_15min_bike"].max() > local["population_5min_bike"].max()


@pytest.fixture(scope="module")
def amsterdam():
    from ruimtekit.engine import transit
    from ruimtekit.io import layers

    g = transit.read_transit_graph_gml(RAW / "pt_amsterdam_2022.gml")
    z = layers.read_zones(RAW / "cbs_kwb2020_amsterdam_buurten.parquet")
    z = z.iloc[::2].reset_index(drop=True).copy()
    z["establishments_proxy"] = z["establishments"].astype(float).fillna(0.0)
    return g, z


def test_transit_graph_on_dask_equals_local(client, amsterdam):

    g, z = amsterdam
    opp = z["establishments_proxy"].to_numpy()
    kw = dict(opportunity="establishments_proxy", access_mode="bike",
              measures=MeasureSpec(cutoffs=(20, 30), decays=[Decay("exponential", beta=0.1)]))
    local = transit_access.zone_accessibility(g, z, opp, options={"block_size": 16}, **kw)
    remote = transit_access.zone_accessibility(
        g, z, opp, options=transit_access.TransitOptions(block_size=16, scheduler=client), **kw)
    assert list(remote.columns) == list(local.columns)
    assert remote["zone_id"].tolist() == z["zone_id"].tolist()
    for c in local.columns:
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())
    assert local["establishments_proxy_30min_bike_transit"].nunique() > 20
    # several batches, each a whole number of 16-origin blocks
    size = distributed.default_batch_size(len(z), 2, align=16)
    assert size % 16 == 0 and len(z) > size


def test_transit_street_network_legs_on_dask_equal_local(client, amsterdam):
    """Access, egress and the direct trip over the real Watergraafsmeer walk network: the
    Dask batches (which receive the direct-trip legs) equal the local run."""
    import geopandas as gpd

    from ruimtekit.network import networks

    g, _ = amsterdam
    walk = networks.load_network(RAW / "osm" / "amsterdam_watergraafsmeer.osm.pbf", "walk")
    rng = np.random.default_rng(8)
    n = 40
    pts = gpd.GeoDataFrame({"zone_id": [f"p{i}" for i in range(n)]},
                           geometry=gpd.points_from_xy(
                               rng.uniform(walk.x.min(), walk.x.max(), n),
                               rng.uniform(walk.y.min(), walk.y.max(), n)), crs=28992)
    opp = np.arange(1.0, n + 1)
    kw = dict(block_size=8, access_network=walk, egress_network=walk)
    m = MeasureSpec(cutoffs=(5, 15))
    local = transit_access.zone_accessibility(g, pts, opp, measures=m, options=kw)
    remote = transit_access.zone_accessibility(g, pts, opp, measures=m,
                                               options={**kw, "scheduler": client})
    for c in local.columns:
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())
    crow = transit_access.zone_accessibility(g, pts, opp, measures=m, options={"block_size": 8})
    assert (crow["jobs_5min_transit"] != local["jobs_5min_transit"]).any()


def test_transit_measures_small_batches_equal_local(client, amsterdam):
    """Batches smaller than the default (3 blocks each) still give the local numbers."""
    from ruimtekit.engine import transit

    g, z = amsterdam
    zx, zy = places.zone_points(z)
    stops = g.meta["stop_nodes"]
    node_t = transit.graph_stop_times(g)
    acc_l = transit.zone_legs(zx, zy, g.x[stops], g.y[stops], mode="walk")
    egr_l = transit.zone_legs(zx, zy, g.x[stops], g.y[stops], mode="walk")
    opp = z["establishments_proxy"].to_numpy()
    local = transit.zone_measures_from_blocks(
        transit.iter_stop_matrix_blocks(node_t, acc_l, egr_l, block_size=10), len(z), opp,
        opportunity="e", mode_label="transit", percentiles=[50.0],
        measures=measure_list([30, 45], []),
        direct=lambda b: transit._direct_block(zx, zy, b, "walk", 3600.0))
    remote = transit.transit_measures(transit.TransitInputs(
        acc_l, egr_l, transit.DirectTrip(zx, zy, zx, zy, "walk", 3600.0), opp,
        opportunity="e", mode_label="transit", percentiles=[50.0], cutoffs_min=[30, 45],
        node_times=node_t, block_size=10), client, batch_size=30)
    for c in local.columns:
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())


def test_gtfs_raptor_on_dask_equals_local(client, tmp_path):
    """Range-RAPTOR path on a SYNTHETIC feed (generated deterministically by
    tests/transit_fixtures.random_feed_files) with a grid of point zones."""
    import geopandas as gpd

    from ruimtekit.engine import transit
    from transit_fixtures import random_feed_files, write_feed

    folder = write_feed(tmp_path / "feed", random_feed_files(11, n_stops=20, n_routes=8,
                                                             max_trips=5))
    net = transit.build_network(folder, "2024-03-12")
    gx, gy = np.meshgrid(np.linspace(net.x.min(), net.x.max(), 9),
                         np.linspace(net.y.min(), net.y.max(), 9))
    zones = gpd.GeoDataFrame({"zone_id": [f"z{i}" for i in range(gx.size)],
                              "jobs": np.arange(gx.size, dtype=float) % 7},
                             geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=28992)
    kw = dict(access_mode="walk", measures=MeasureSpec(cutoffs=(15, 30, 45)),
              params=transit.TransitParams(window_start="07:00", window_end="07:30",
                                           percentiles=[25, 50, 90]),
              options={"block_size": 8})
    local = transit_access.zone_accessibility(net, zones, zones["jobs"].to_numpy(), **kw)
    p = transit.TransitParams(window_start="07:00", window_end="07:30",
                              percentiles=[25, 50, 90])
    legs = transit.zone_legs(*places.zone_points(zones), net.x, net.y,
                             mode=p.leg_model("walk"), max_time_s=p.access_s("walk"))
    zx, zy = places.zone_points(zones)
    remote = transit.transit_measures(transit.TransitInputs(
        legs, legs, transit.DirectTrip(zx, zy, zx, zy, p.leg_model("walk"), p.direct_s()),
        zones["jobs"].to_numpy(), opportunity="jobs", mode_label="transit",
        percentiles=[25, 50, 90], cutoffs_min=[15, 30, 45], network=net, params=p,
        block_size=8), client, batch_size=16)
    for c in remote.columns:
        np.testing.assert_array_equal(remote[c].to_numpy(), local[c].to_numpy())
    assert "jobs_45min_transit_p90" in remote
    assert (local["jobs_45min_transit"] > local["jobs_15min_transit"]).any()


def test_pipeline_steps_use_the_runs_client(client, delft, amsterdam, monkeypatch):
    """accessibility and transit pipeline steps run on ctx.dask_client and give the same
    result layers as without it."""
    from types import SimpleNamespace

    from ruimtekit._context import RunContext
    from ruimtekit.analysis import accessibility as acc

    g, z = amsterdam
    dg, _, pc4 = delft
    a_cfg = acc.AccessibilityConfig(name="d", zones="pc4", opportunities={"column": "population"},
                                    modes=["car", "bike"],
                                    impedance={"car": "roads", "bike": "crowfly"},
                                    cutoffs=[10])
    t_cfg = transit_access.TransitConfig(name="ams", zones="buurten", network="pt",
                                  opportunity_column="establishments_proxy", cutoffs=[30])
    calls = []
    real = distributed.map_batches

    def spy(*a, **kw):
        calls.append(kw.get("scheduler"))
        return real(*a, **kw)

    results = []
    for dask_client in (None, client):
        study = SimpleNamespace(accessibility=[a_cfg], transit=[t_cfg], networks={})
        ctx = RunContext(study=study, root=ROOT, layers={"pc4": pc4, "buurten": z},
                         networks={"roads": dg, "pt": g}, dask_client=dask_client)
        monkeypatch.setattr(distributed, "map_batches", spy)
        acc.pipeline_step(ctx)
        transit_access.pipeline_step(ctx)
        results.append(ctx.results)
    assert calls == [client, client, client]  # road, crow-fly, transit — all on one client
    for name in ("access_d", "transit_ams"):
        a, b = results[0][name], results[1][name]
        assert list(a.columns) == list(b.columns)
        for c in a.columns:
            if c != "geometry":
                np.testing.assert_array_equal(a[c].to_numpy(), b[c].to_numpy())


SMALL = """
name: dask_small
root: {root}
output_dir: {out}/processed
maps_dir: {out}/maps
scheduler: {scheduler}
layers:
  delft_pc4:
    kind: zones
    path: data/raw/cbs_pc4_2021.parquet
    bbox: [81500, 443500, 86500, 449000]
networks:
  delft_car: {{kind: graphml, path: data/raw/osm/delft_drive.graphml, mode: car}}
accessibility:
  - name: delft
    zones: delft_pc4
    opportunities: {{column: population}}
    modes: [car]
    impedance: delft_car
    cutoffs: [5, 10]
maps:
  enabled: false
"""


def test_study_scheduler_key_validated(tmp_path):
    from ruimtekit import study
    from ruimtekit._errors import StudyError

    p = tmp_path / "s.yaml"
    p.write_text(SMALL.format(root=ROOT, out=tmp_path, scheduler="local:2"), encoding="utf-8")
    s, _ = study.load_study(p)
    assert s.scheduler == "local:2"
    p.write_text(SMALL.format(root=ROOT, out=tmp_path, scheduler="my-laptop"),
                 encoding="utf-8")
    with pytest.raises(StudyError, match="scheduler"):
        study.load_study(p)


def test_pipeline_run_with_client_equals_local_run(client, tmp_path, monkeypatch):
    import geopandas as gpd

    from ruimtekit import pipeline, study

    p = tmp_path / "s.yaml"
    p.write_text(SMALL.format(root=ROOT, out=tmp_path, scheduler="local:2"), encoding="utf-8")
    s, root = study.load_study(p)
    sessions = []
    real_session = distributed.session

    def spy_session(scheduler):
        sessions.append(scheduler)
        return real_session(scheduler)

    monkeypatch.setattr(distributed, "session", spy_session)
    out_dask = pipeline.run_study(s, root, quiet=True, scheduler=client)  # overrides local:2
    dask_layer = gpd.read_file(out_dask["gpkg"], layer="access_delft")
    out_local = pipeline.run_study(s.model_copy(update={"scheduler": None, "name": "loc"}),
                                   root, quiet=True)
    local_layer = gpd.read_file(out_local["gpkg"], layer="access_delft")
    assert sessions == [client, None]  # one session per run
    for c in ("population_5min_car", "population_10min_car"):
        np.testing.assert_array_equal(dask_layer[c].to_numpy(), local_layer[c].to_numpy())
    assert dask_layer["population_10min_car"].sum() > 0


# ============================================================================ CLI errors
def test_cli_unreachable_scheduler_exit_2_no_traceback(monkeypatch):
    from typer.testing import CliRunner

    from ruimtekit import cli

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 2.0)
    res = CliRunner().invoke(cli.app, [
        "access", "--zones", str(RAW / "cbs_pc4_2021.parquet"), "--network", "crowfly",
        "--mode", "bike", "--opportunities", "population", "-o", "unused.gpkg",
        "--scheduler", "tcp://127.0.0.1:9", "--quiet"])
    text = res.output  # stdout and stderr
    assert res.exit_code == 2, text
    assert "cannot reach the Dask scheduler" in text and "tcp://127.0.0.1:9" in text
    assert "fix:" in text and "local:N" in text
    assert "Traceback" not in text
    assert not Path("unused.gpkg").exists()


def test_cli_invalid_scheduler_string(tmp_path):
    from typer.testing import CliRunner

    from ruimtekit import cli

    out = tmp_path / "t.gpkg"
    res = CliRunner().invoke(cli.app, [
        "transit", "--zones", str(RAW / "cbs_kwb2020_amsterdam_buurten.parquet"), "--graph",
        str(RAW / "pt_amsterdam_2022.gml"), "--opportunity", "population", "-o", str(out),
        "--scheduler", "local:0", "--quiet"])
    text = res.output  # stdout and stderr
    assert res.exit_code == 2 and "local:N with N ≥ 1" in text and "Traceback" not in text
    assert not out.exists()


def test_distributed_run_logs_progress(client, caplog):
    import logging

    shared = random_digraph(n=200, seed=7)
    with caplog.at_level(logging.INFO, logger="ruimtekit.engine.batches"):
        out = distributed.concat(distributed.map_batches(
            _batch_sum, shared, 200, scheduler=client, batch_size=50, label="test sums"))
    assert out.shape == (200,)
    msgs = [r.getMessage() for r in caplog.records if r.name == "ruimtekit.engine.batches"]
    assert any("test sums: 4/4 batches done (100%)" in m for m in msgs)
    assert any("4 batches of ≤50 origins on 2 Dask workers" in m for m in msgs)


@pytest.mark.parametrize("spec, ok", [("local", True), ("local:3", True), ("local:0", False),
                                      ("tcp://10.0.0.5:8786", True), ("node12:8786", True),
                                      ("tls://h.example.org:8786", True), ("my-laptop", False),
                                      ("local:two", False)])
def test_check_scheduler(spec, ok):
    if ok:
        assert distributed.check_scheduler(spec) == spec
    else:
        with pytest.raises(distributed.SchedulerError, match="fix:"):
            distributed.check_scheduler(spec)


def test_session_none_and_client_pass_through(client):
    with distributed.session(None) as c:
        assert c is None
    with distributed.session(client) as c:
        assert c is client
    assert client.status == "running"  # a client handed in is not closed


def test_all_workers_killed_network_is_sent_again(client, caplog):
    """When every worker holding the scattered inputs dies, Dask cannot recompute them: the
    inputs are scattered again and the unfinished batches resubmitted (same result)."""
    import logging

    shared = random_digraph(seed=9)
    n = shared[0].shape[0]
    client.wait_for_workers(2, timeout=60)
    pids = sorted(client.run(os.getpid).values())
    killed = []

    def progress(done, total):
        if done == 1 and not killed:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            killed.extend(pids)

    with caplog.at_level(logging.WARNING, logger="ruimtekit.engine.batches"):
        out = distributed.concat(distributed.map_batches(
            _slow_batch, shared, n, scheduler=client, batch_size=40, progress=progress))
    oracle = reached_sums(shared[0], shared[1], 300.0)
    np.testing.assert_array_equal(out, oracle)
    assert len(killed) == 2
    assert any("sending it again" in r.getMessage() for r in caplog.records)
    client.wait_for_workers(2, timeout=60)
