"""Travel-time matrices between different point sets (``ruimtekit matrix`` and
:class:`ruimtekit.TravelTimeMatrix`) against a brute-force oracle.

The oracle reads the link table itself: directed edges from the ``oneway`` column, the
largest strongly connected component (scipy), the nearest node per point by brute force
(access and egress legs at walking speed, whole seconds) and scipy Dijkstra.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import ruimtekit as rk
from oracles import as_minutes, link_table_matrix, linked_seconds, random_link_table
from ruimtekit.analysis import transit_access
from ruimtekit.cli import app
from ruimtekit.engine.measures import Decay

RD = "EPSG:28992"
X0, Y0 = 84_000.0, 447_000.0  # Delft, RD metres
MAX_TIME = 12.0
MAX_SNAP = 500.0


def _points(rng: np.random.Generator, k: int, prefix: str, extent: float):
    import geopandas as gpd

    x = rng.uniform(X0 - 700, X0 + extent + 700, k)
    y = rng.uniform(Y0 - 700, Y0 + extent + 700, k)
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(k)]},
                            geometry=gpd.points_from_xy(x, y), crs=RD)


def _oracle(links: pd.DataFrame, orig, dest, max_time_min: float) -> np.ndarray:
    """Minutes (origins × destinations), NaN = unreachable, by brute force."""
    return link_table_matrix(links, orig, dest, max_time_min, MAX_SNAP)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("matrix")
    links = random_link_table(7, 14, 120.0, origin=(X0, Y0))
    links.to_csv(d / "links.csv", index=False)
    rng = np.random.default_rng(11)
    extent = 13 * 120.0
    orig = _points(rng, 40, "o", extent)
    dest = _points(rng, 60, "d", extent)
    orig.to_file(d / "origins.gpkg")
    dest.to_file(d / "destinations.gpkg")
    return d, links, orig, dest, _oracle(links, orig, dest, MAX_TIME)


def _as_square(df: pd.DataFrame, orig, dest, col: str = "travel_time") -> np.ndarray:
    piv = df.pivot(index="from_id", columns="to_id", values=col)
    return piv.loc[orig["id"], dest["id"]].to_numpy(dtype=float)


def test_oracle_is_not_trivial(case):
    *_, want = case
    assert want.shape == (40, 60)
    nan = np.isnan(want)
    assert 0.05 < nan.mean() < 0.8  # unreachable pairs: off the network, too far, one-way
    assert np.isnan(want).all(axis=1).sum() >= 1  # an origin beyond the snapping distance


def _cli_matrix(d, out, *extra: str) -> None:
    """``ruimtekit matrix`` on the case's files (car, MAX_TIME) into ``out``."""
    res = CliRunner().invoke(app, [
        "matrix", "--origins", str(d / "origins.gpkg"), "--destinations",
        str(d / "destinations.gpkg"), "--network", str(d / "links.csv"), "--mode", "car",
        "--max-time", str(MAX_TIME), *extra, "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output


def _read_matrix(out, orig, dest) -> np.ndarray:
    """The (origins × destinations) minutes of a written matrix, checking its layout."""
    if out.suffix == ".omx":
        import openmatrix as omx

        with omx.open_file(str(out)) as f:
            got = np.array(f["travel_time"])
            ids = [b.decode() for b in f.root._v_attrs["from_id"]]
        assert ids == list(orig["id"])
        return got
    if out.suffix == ".csv":
        return _as_square(pd.read_csv(out, dtype={"from_id": str, "to_id": str}), orig, dest)
    got = pd.read_parquet(out)
    assert list(got.columns) == ["from_id", "to_id", "travel_time"]
    return _as_square(got, orig, dest)


@pytest.mark.parametrize(("how", "chunk"), [("parquet", 500), ("csv", None), ("omx", 900),
                                            ("python", 700)])
def test_matrix_equals_brute_force(case, tmp_path, how, chunk):
    """The CLI (Parquet, CSV, OMX by extension) and TravelTimeMatrix in Python give the
    brute-force matrix, unreachable pairs NaN."""
    d, links, orig, dest, want = case
    if how == "python":
        net = rk.TransportNetwork(roads={"car": d / "links.csv"})
        ttm = rk.TravelTimeMatrix(net, orig, dest, mode="car",
                                  options=rk.RoutingOptions(max_time_min=MAX_TIME,
                                                            chunk_pairs=chunk))
        assert isinstance(ttm, pd.DataFrame) and len(ttm) == 40 * 60
        got = _as_square(ttm, orig, dest)
    else:
        out = tmp_path / f"m.{how}"
        _cli_matrix(d, out, *(["--chunk-pairs", str(chunk)] if chunk else []))
        if how == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(out).metadata
            assert meta.num_rows == 40 * 60  # every pair, unreachable ones as NaN
            assert meta.num_row_groups == 5  # streamed: 8 origins × 60 destinations per block
        got = _read_matrix(out, orig, dest)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_same_set_and_polygons_use_population_points(case):
    """Destinations default to the origins; polygons are routed from pop_x/pop_y."""
    d, links, orig, dest, want = case
    net = rk.TransportNetwork(roads={"car": d / "links.csv"})
    poly = orig.copy()
    poly["pop_x"], poly["pop_y"] = orig.geometry.x, orig.geometry.y
    poly["geometry"] = orig.geometry.buffer(400.0).translate(300.0, 0.0)  # centroid moved
    opts = rk.RoutingOptions(max_time_min=MAX_TIME)
    a = rk.TravelTimeMatrix(net, poly, mode="car", options=opts)
    b = rk.TravelTimeMatrix(net, orig, orig, mode="car", options=opts)
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    want_same = _oracle(links, orig, orig, MAX_TIME)
    np.testing.assert_allclose(_as_square(a, orig, orig), want_same, atol=1e-9)


def test_crowfly_matrix_is_the_model(case):
    from ruimtekit.engine import impedance

    _, _, orig, dest, _ = case
    net = rk.TransportNetwork(crowfly=True)
    ttm = rk.TravelTimeMatrix(net, orig, dest, mode="bike",
                              options={"max_time_min": 10})
    dx = orig.geometry.x.to_numpy()[:, None] - dest.geometry.x.to_numpy()[None, :]
    dy = orig.geometry.y.to_numpy()[:, None] - dest.geometry.y.to_numpy()[None, :]
    t = np.rint(impedance.crowfly_seconds(np.hypot(dx, dy), "bike")) / 60.0
    t[t > 10] = np.nan
    assert np.isnan(t).any() and np.isfinite(t).any()
    np.testing.assert_allclose(_as_square(ttm, orig, dest), t)


def test_isochrone_area_is_the_reached_cells(case):
    """Grid cells whose centre the oracle reaches within T make up the isochrone."""
    d, links, orig, dest, want = case
    net = rk.TransportNetwork(roads={"car": d / "links.csv"})
    on = np.flatnonzero(np.isfinite(want).any(axis=1))[:2]
    off = np.flatnonzero(np.isnan(want).all(axis=1))[:1]
    pt = orig.iloc[[*on, *off]]
    iso = rk.isochrones(net, pt, cutoffs=[4, 8], mode="car",
                        options={"cell_m": 60.0})
    assert list(iso["cutoff"]) == [8.0, 4.0] * 3
    last = iso[iso["zone_id"] == pt["id"].iloc[2]]
    assert (last["area_km2"] == 0).all() and last.geometry.is_empty.all()
    for i, pid in enumerate(pt["id"].iloc[:2]):
        rows = iso[iso["zone_id"] == pid].set_index("cutoff")
        # rebuild the grid and ask the oracle
        g = rows.loc[8.0, "geometry"]
        x0, y0 = pt.geometry.x.iloc[i], pt.geometry.y.iloc[i]
        r = iso.attrs["cell_m"]
        k = int(np.ceil((g.bounds[2] - g.bounds[0]) / r)) + 4
        offs = np.arange(-k, k + 1) * r
        gx, gy = np.meshgrid(offs, offs)
        import geopandas as gpd

        cells = gpd.GeoDataFrame({"id": np.arange(gx.size).astype(str)},
                                 geometry=gpd.points_from_xy(x0 + gx.ravel(), y0 + gy.ravel()),
                                 crs=RD)
        t = _oracle(links, pt.iloc[[i]], cells, 8.0)[0]
        for c in (4.0, 8.0):
            n = int((t <= c).sum())
            assert n > 0
            assert rows.loc[c, "area_km2"] == pytest.approx(n * r * r / 1e6, rel=1e-6)
        assert rows.loc[4.0, "geometry"].within(rows.loc[8.0, "geometry"].buffer(1e-6))


def test_bad_matrix_inputs_are_clean_errors(case, tmp_path):
    d, *_ = case
    base = ["matrix", "--origins", str(d / "origins.gpkg"), "--network",
            str(d / "links.csv")]
    cases = [
        (["--mode", "car", "--destinations", str(tmp_path / "missing.gpkg"),
          "-o", str(tmp_path / "a.parquet")], "missing.gpkg"),
        (["--mode", "car", "-o", str(tmp_path / "a.xlsx")], "unknown matrix format"),
        (["--mode", "transit", "-o", str(tmp_path / "a.parquet")], "--gtfs"),
        (["--mode", "car", "--id-column", "nope", "-o", str(tmp_path / "a.parquet")],
         "nope"),
        (["--mode", "car", "--percentiles", "50", "-o", str(tmp_path / "a.parquet")],
         "transit"),
    ]
    for args, words in cases:
        res = CliRunner().invoke(app, [*base, *args, "--quiet"])
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output, (args, res.output)
        assert "Traceback" not in res.output
    assert not list(tmp_path.glob("a.*"))


# ---------------------------------------------------------------------------------------
# transit: the same numbers as transit_access.od_matrix, through the noun and the CLI
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gtfs_case(tmp_path_factory):
    import geopandas as gpd

    from transit_fixtures import STOPS, write_feed

    d = tmp_path_factory.mktemp("gtfs")
    folder = write_feed(d / "feed")

    def pts(names, prefix, shift):
        lat = [STOPS[n][0] + shift for n in names]
        lon = [STOPS[n][1] for n in names]
        g = gpd.GeoDataFrame({"id": [f"{prefix}{n}" for n in names]},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326).to_crs(RD)
        return g

    orig = pts(["A", "K", "H", "F"], "o", 0.0009)  # ~100 m north of the stops
    dest = pts(["B", "C", "D", "E", "I", "J"], "d", -0.0009)
    orig.to_file(d / "o.gpkg")
    dest.to_file(d / "d.gpkg")
    return d, folder, orig, dest


def test_transit_matrix_equals_transit_od_matrix(gtfs_case, tmp_path):
    from ruimtekit.engine import transit

    d, folder, orig, dest = gtfs_case
    net = rk.TransportNetwork(transit=folder, date="2024-03-12")
    ttm = rk.TravelTimeMatrix(net, orig, dest, mode="transit", window="07:00-07:40",
                              percentiles=[50, 90], options={"max_time_min": 60})
    params = transit.as_params(None, window=("07:00", "07:40"), percentiles=[50, 90],
                               max_time_min=60)
    o = orig.rename(columns={"id": "zone_id"})
    de = dest.rename(columns={"id": "zone_id"})
    want = transit_access.od_matrix(net.transit, o, de, params=params)
    assert list(ttm.columns) == ["from_id", "to_id", "travel_time", "travel_time_p50",
                                 "travel_time_p90"]
    pd.testing.assert_frame_equal(pd.DataFrame(ttm), want, check_dtype=False)
    assert ttm["travel_time"].notna().sum() >= 3
    assert ttm["travel_time"].isna().any()
    out = tmp_path / "t.parquet"
    res = CliRunner().invoke(app, [
        "matrix", "--origins", str(d / "o.gpkg"), "--destinations", str(d / "d.gpkg"),
        "--gtfs", str(folder), "--date", "2024-03-12", "--window", "07:00-07:40",
        "--percentiles", "50", "--percentiles", "90", "--max-time", "60",
        "--mode", "transit", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out)
    got[["from_id", "to_id"]] = got[["from_id", "to_id"]].astype(str)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)


def test_accessibility_noun_equals_the_engine_functions(case, gtfs_case):
    from ruimtekit.analysis import accessibility

    d, links, orig, dest, want = case
    net = rk.TransportNetwork(roads={"car": d / "links.csv"})
    jobs = dest.assign(jobs=np.arange(len(dest), dtype=float) + 1)
    spec = rk.MeasureSpec(cutoffs=[6, 12], decays=[{"kind": "exponential",
                                                    "params": {"beta": 0.1}}])
    acc = rk.Accessibility(net, orig, jobs, mode="car", measures=spec)
    # oracle: the brute-force matrix aggregated by hand
    off = np.isnan(want).all(axis=1)  # origins off the network: NaN, not 0
    for c in (6, 12):
        hand = (np.nan_to_num(want, nan=1e9) <= c) @ jobs["jobs"].to_numpy()
        np.testing.assert_allclose(acc[f"jobs_{c}min_car"], np.where(off, np.nan, hand))
    assert isinstance(acc, gpd_frame()) and acc.crs is not None
    assert rk.analysis.accessibility is accessibility  # the noun does not shadow the module
    g = net.roads["car"]
    o = orig.rename(columns={"id": "zone_id"})
    direct = accessibility.network_access(g, o, jobs, measures=rk.MeasureSpec(
        cutoffs=[6, 12], decays=[Decay("exponential", beta=0.1)]))
    pd.testing.assert_frame_equal(pd.DataFrame(acc).drop(columns="geometry"),
                                  pd.DataFrame(direct).drop(columns="geometry"))
    # transit: the same as transit_access.zone_accessibility
    gd, folder, go, gdst = gtfs_case
    tnet = rk.TransportNetwork(transit=folder, date="2024-03-12")
    gj = gdst.assign(jobs=100.0)
    ta = rk.Accessibility(tnet, go, gj, mode="transit", measures={"cutoffs": [20, 40]})
    tz = transit_access.zone_accessibility(tnet.transit, go.rename(columns={"id": "zone_id"}),
                                           gj, measures=rk.MeasureSpec(cutoffs=[20, 40]))
    for c in tz.columns[1:]:
        np.testing.assert_array_equal(ta[c].to_numpy(), tz[c].to_numpy())
    assert ta["jobs_40min_transit"].max() > 0


def gpd_frame():
    import geopandas as gpd

    return gpd.GeoDataFrame


def test_public_api_is_curated():
    assert {"TransportNetwork", "TravelTimeMatrix", "Accessibility", "MeasureSpec",
            "RoutingOptions", "isochrones", "read_places", "read_opportunities",
            "write_matrix"} <= set(rk.__all__)
    for name in rk.__all__:
        assert getattr(rk, name) is not None
    import inspect

    for name in rk.__all__:
        obj = getattr(rk, name)
        if callable(obj) and not isinstance(obj, type) or name in (
                "TransportNetwork", "TravelTimeMatrix", "Accessibility"):
            fn = obj.__init__ if isinstance(obj, type) else obj
            params = [p for p in inspect.signature(fn).parameters if p != "self"]
            assert len(params) <= 8, (name, params)


def test_accessibility_od_matrix_takes_other_destinations(case):
    from ruimtekit.analysis import accessibility

    d, links, orig, dest, want = case
    g = rk.TransportNetwork(roads={"car": d / "links.csv"}).roads["car"]
    od = accessibility.od_matrix(g, orig.rename(columns={"id": "zone_id"}), MAX_TIME,
                                 destinations=dest.rename(columns={"id": "zone_id"}))
    got = np.full(want.shape, np.nan)
    oi = pd.Index(orig["id"]).get_indexer(od["origin"])
    di = pd.Index(dest["id"]).get_indexer(od["destination"])
    got[oi, di] = od["time_s"] / 60.0
    np.testing.assert_allclose(got, want, atol=1e-9)  # reachable pairs only, the rest absent


def test_matrix_on_dask_equals_local(case, tmp_path):
    from distributed import Client, LocalCluster

    d, links, orig, dest, want = case
    net = rk.TransportNetwork(roads={"car": d / "links.csv"})
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    try:
        with Client(cluster) as client:
            res = rk.write_matrix(net, orig, dest, tmp_path / "m.parquet", "car", None,
                                  rk.RoutingOptions(max_time_min=MAX_TIME, chunk_pairs=900,
                                                    scheduler=client))
    finally:
        cluster.close()
    assert res["pairs"] == 40 * 60
    np.testing.assert_allclose(_read_matrix(tmp_path / "m.parquet", orig, dest), want,
                               atol=1e-9)


def test_departures_outside_the_built_window_are_refused(gtfs_case):
    from ruimtekit._errors import InputError

    d, folder, orig, dest = gtfs_case
    net = rk.TransportNetwork(transit=folder, date="2024-03-12", window="07:00-07:30")
    with pytest.raises(InputError, match="outside"):
        rk.TravelTimeMatrix(net, orig, dest, mode="transit", departure="08:00")
    one = rk.TravelTimeMatrix(net, orig, dest, mode="transit", departure="07:00",
                              options={"max_time_min": 60})
    assert one["travel_time"].notna().any()
    default = rk.TravelTimeMatrix(net, orig, dest, mode="transit",
                                  options={"max_time_min": 60})  # the built window
    assert default["travel_time"].notna().any()


def test_delft_edge_linked_matrix_equals_dijkstra_on_the_linked_graph():
    """Real OSM street graph (edge geometry: points linked onto edges, car turn costs on
    an edge-based graph): 15 origins to 25 other destinations equal scipy Dijkstra on
    the search graph of networks.link, from every source of an origin (access leg
    included) to the destination's sink; the linking itself is checked against a brute
    force in test_linking.py."""
    from pathlib import Path

    import geopandas as gpd

    from ruimtekit.network import networks

    raw = Path(__file__).resolve().parents[1] / "data" / "raw" / "osm"
    net = rk.TransportNetwork(roads={"car": raw / "delft_drive.graphml"})
    g = net.roads["car"]
    assert networks.linkable(g)
    rng = np.random.default_rng(5)
    x = rng.uniform(83000, 86000, 40)
    y = rng.uniform(445000, 448500, 40)
    o = gpd.GeoDataFrame({"id": [f"o{i}" for i in range(15)]},
                         geometry=gpd.points_from_xy(x[:15], y[:15]), crs=RD)
    de = gpd.GeoDataFrame({"id": [f"d{i}" for i in range(25)]},
                          geometry=gpd.points_from_xy(x[15:], y[15:]), crs=RD)
    ttm = rk.TravelTimeMatrix(net, o, de, mode="car", options={"max_time_min": 8})
    lk = networks.link(g, x, y, 500.0)  # origins then destinations, as the matrix links
    want = as_minutes(linked_seconds(lk, 15, lk.sink[15:]), 8)
    assert np.isfinite(want).sum() > 20 and np.isnan(want).sum() > 20
    np.testing.assert_allclose(_as_square(ttm, o, de), want, atol=1e-9)
