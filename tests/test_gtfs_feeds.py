"""GTFS as real feeds are: several feeds per network, opaque ids, distance-based
interpolation of blank times, real-file quirks, per-feed reports and clear errors."""

from __future__ import annotations

import logging
import math
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruimtekit._errors import InputError
from ruimtekit.analysis import transit_access
from ruimtekit.engine import transit
from ruimtekit.io import gtfs
from test_transit import oracle_times
from transit_fixtures import HAND_FILES, STOPS, random_feed_files, write_feed, zip_feed

DATE = "2024-03-12"  # Tuesday
H7 = 7 * 3600


def _split(files: dict[str, str], north_m: float) -> tuple[dict[str, str], dict[str, str]]:
    """Two feeds from one random feed: even routes in the first, odd routes in the second,
    whose stops (same ids!) lie ``north_m`` further north. Same trip ids in both where
    the routes' trips are numbered alike — namespacing must keep them apart."""
    def part(keep: int, shift_deg: float) -> dict[str, str]:
        out = dict(files)
        routes = [r for r in files["routes.txt"].splitlines()[1:]
                  if int(r.split(",")[0][1:]) % 2 == keep]
        keep_r = {r.split(",")[0] for r in routes}
        trips = [t for t in files["trips.txt"].splitlines()[1:] if t.split(",")[0] in keep_r]
        keep_t = {t.split(",")[2] for t in trips}
        sts = files["stop_times.txt"].splitlines()
        out["routes.txt"] = "route_id,route_type\n" + "\n".join(routes) + "\n"
        out["trips.txt"] = "route_id,service_id,trip_id\n" + "\n".join(trips) + "\n"
        out["stop_times.txt"] = sts[0] + "\n" + "\n".join(
            s for s in sts[1:] if s.split(",")[0] in keep_t) + "\n"
        stops = files["stops.txt"].splitlines()
        rows = []
        for r in stops[1:]:
            sid, name, lat, lon = r.split(",")
            rows.append(f"{sid},{name},{float(lat) + shift_deg:.6f},{lon}")
        out["stops.txt"] = stops[0] + "\n" + "\n".join(rows) + "\n"
        return out
    return part(0, 0.0), part(1, north_m / 111_200.0)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), max_rides=st.integers(1, 3))
def test_two_feeds_match_time_expanded_oracle(tmp_path_factory, seed, max_rides):
    """RAPTOR on two merged feeds = the brute-force time-expanded oracle on the merged
    timetable: rides of one feed connect to the other only by walking between their
    stops (60 m apart), like between any stops."""
    files = random_feed_files(seed, n_stops=8, n_routes=4)
    fa, fb = _split(files, 60.0)
    base = tmp_path_factory.mktemp("two")
    a = gtfs.read_gtfs(write_feed(base / "a", files=fa), name="a")
    b = gtfs.read_gtfs(write_feed(base / "b", files=fb), name="b")
    tt = gtfs.timetable([a, b], DATE)
    net = transit.build_network(tt)
    assert set(tt.stop_times["feed"]) <= {"a", "b"}
    assert all(s.startswith(("a:", "b:")) for s in net.stop_ids)
    assert net.trips["trip_id"].str.startswith(("a:", "b:")).all()
    rng = np.random.default_rng(seed)
    origin = str(net.stop_ids[rng.integers(net.n_stops)])
    o = int(np.flatnonzero(net.stop_ids == origin)[0])
    deps = np.arange(H7, H7 + 40 * 60, 5 * 60)
    got = transit.raptor_departures(net, [o], [0], deps, max_transfers=max_rides - 1)
    for i, t0 in enumerate(deps):
        exp = oracle_times(tt.stop_times, list(net.stop_ids), net.x, net.y, origin, int(t0),
                           max_rides)
        for j, s in enumerate(net.stop_ids):
            assert got[i, j] == exp[s], (seed, origin, int(t0), s)


def test_two_feeds_namespaced_and_connected(tmp_path):
    """The hand feed twice (same ids in both): every trip survives, ids get the feed
    prefix, and the 0 m apart twin stops are linked by footpaths."""
    one = write_feed(tmp_path / "one")
    net1 = transit.build_network(one, DATE)
    two = transit.build_network([gtfs.read_gtfs(one, name="x"),
                                 gtfs.read_gtfs(zip_feed(one, tmp_path / "y.zip"))], DATE)
    assert two.n_stops == 2 * net1.n_stops
    assert int(two.pat_trip_ptr[-1]) == 2 * int(net1.pat_trip_ptr[-1])
    assert sorted(two.trips["feed"].unique()) == ["x", "y"]
    assert {"x:T1", "y:T1"} <= set(two.trips["trip_id"])
    xa = int(np.flatnonzero(two.stop_ids == "x:A")[0])
    ya = int(np.flatnonzero(two.stop_ids == "y:A")[0])
    nb = two.fp_to[two.fp_ptr[xa]:two.fp_ptr[xa + 1]]
    assert ya in nb and two.fp_s[two.fp_ptr[xa]:two.fp_ptr[xa + 1]][nb == ya][0] == 0
    # transfers.txt of each feed stays in its own namespace: C has 300 s change time
    assert two.slack[int(np.flatnonzero(two.stop_ids == "y:C")[0])] == 300
    with pytest.raises(InputError, match="share the name"):
        transit.build_network([gtfs.read_gtfs(one), gtfs.read_gtfs(one)], DATE)


def test_calendar_checked_per_feed(tmp_path):
    ok = gtfs.read_gtfs(write_feed(tmp_path / "ok"), name="ok")
    cal = HAND_FILES["calendar.txt"].replace("20240101,20241231", "20250101,20251231")
    old = gtfs.read_gtfs(write_feed(tmp_path / "old", replace={
        "calendar.txt": cal,
        "calendar_dates.txt": HAND_FILES["calendar_dates.txt"].replace("2024", "2025")}),
        name="old")
    with pytest.raises(InputError, match="feed old: no service runs on 2024-03-12 .*"
                                         "covers 2025-01-01 to 2025-12-31"):
        gtfs.timetable([ok, old], DATE)


def test_frequency_runs_and_hash_ids_kept(tmp_path):
    """Ids with '#', '@' and spaces are opaque; frequency runs are told apart by ``run``."""
    weird = "T1-2@1#1202"
    files = {k: v.replace("FQ", "F#Q@1").replace("\nT1,", f"\n{weird},")
             .replace(",T1\n", f",{weird}\n") for k, v in HAND_FILES.items()}
    net = transit.build_network(write_feed(tmp_path / "f", files=files), DATE)
    assert weird in set(net.trips["trip_id"])
    fq = net.trips[net.trips["trip_id"] == "F#Q@1"]
    assert sorted(fq["run"]) == list(range(6))
    assert (net.trips.loc[net.trips["trip_id"] != "F#Q@1", "run"] == -1).all()
    # 6 scheduled trips + 6 runs of the template + N1 of Monday night (service_day −1)
    assert int(net.pat_trip_ptr[-1]) == len(net.trips) == 13


# ------------------------------------------------------------------------- interpolation
def test_blank_times_by_shape_dist_traveled(tmp_path):
    """A: 07:00 (0 m), B blank (900 m), C blank (1,000 m), D 07:30 (3,000 m): 09:00 and
    10:00 minutes in — by distance, not by stop order (which would give 10 and 20)."""
    st_txt = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,shape_dist_traveled\n"
              "T1,07:00:00,07:00:00,A,1,0\nT1,,,B,2,900\nT1,,,C,3,1000\n"
              "T1,07:30:00,07:30:00,D,4,3000\n"
              "T2,07:30:00,07:30:00,A,1,\nT2,,,B,2,\nT2,08:00:00,08:00:00,C,3,\n")
    f = gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stop_times.txt": st_txt,
                                                          "frequencies.txt": None}))
    t1 = f.stop_times[f.stop_times["trip_id"] == "T1"]
    assert t1["arrival_s"].tolist() == [H7, H7 + 540, H7 + 600, H7 + 1800]
    assert t1["timed"].tolist() == [True, False, False, True]
    # T2 has no shape distances: great-circle distance A→B→C (B halfway, 1.11 km each)
    t2 = f.stop_times[f.stop_times["trip_id"] == "T2"]
    ab = gtfs.great_circle_m(*STOPS["A"], *STOPS["B"])
    bc = gtfs.great_circle_m(*STOPS["B"], *STOPS["C"])
    exp_b = math.floor(H7 + 1800 + 1800 * ab / (ab + bc) + 0.5)
    assert t2["arrival_s"].tolist()[1] == exp_b
    assert f.meta["interpolated_by"] == {"shape_dist_traveled": 1, "great_circle": 1}


def test_great_circle_against_a_published_distance():
    # Amsterdam Centraal (52.3791, 4.9003) – Utrecht Centraal (52.0894, 5.1100): ≈ 35 km
    d = float(gtfs.great_circle_m(52.3791, 4.9003, 52.0894, 5.1100))
    assert 34_500 < d < 35_500


def test_blank_times_between_unequal_distances_use_the_gaps(tmp_path):
    """Stops C (far) then B (near): distances along the stops, not to the first stop."""
    st_txt = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
              "T1,07:00:00,07:00:00,A,1\nT1,,,C,2\nT1,,,B,3\nT1,07:40:00,07:40:00,A,4\n")
    f = gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stop_times.txt": st_txt,
                                                          "frequencies.txt": None}))
    t = f.stop_times[f.stop_times["trip_id"] == "T1"]["arrival_s"].tolist()
    # A→C 2.2 km, C→B 1.1 km, B→A 1.1 km: C at half, B at three quarters of 40 min
    assert abs(t[1] - (H7 + 1200)) <= 2 and abs(t[2] - (H7 + 1800)) <= 2


# ------------------------------------------------------------------------------ quirks
def test_real_file_quirks(tmp_path):
    """UTF-8 BOM, CRLF, no final newline, header names with spaces, quoted blanks."""
    files = {}
    for k, v in HAND_FILES.items():
        lines = v.rstrip("\n").split("\n")
        lines[0] = ", ".join(c for c in lines[0].split(","))  # " agency_name" style
        files[k] = "\ufeff" + "\r\n".join(lines)  # BOM, CRLF, no final newline
    files["stop_times.txt"] = files["stop_times.txt"].replace(
        "T1,07:10:00,07:10:00,B,2", 'T1,"","",B,2')
    folder = write_feed(tmp_path / "q", files=files)
    plain = gtfs.read_gtfs(write_feed(tmp_path / "p"))
    f = gtfs.read_gtfs(folder)
    assert len(f.trips) == len(plain.trips) and len(f.stop_times) == len(plain.stop_times)
    assert f.agency["agency_name"].tolist() == ["Test Agency"]
    assert list(f.stops["stop_id"]) == list(plain.stops["stop_id"])
    assert "T6" in set(f.trips["trip_id"])  # the last line, without newline
    assert gtfs.services_on(f, DATE) == {"WK", "EXTRA"}
    b = f.stop_times[(f.stop_times["trip_id"] == "T1") & (f.stop_times["stop_id"] == "B")]
    assert int(b["arrival_s"].iloc[0]) == H7 + 600 and not b["timed"].iloc[0]


# ----------------------------------------------------------------------- reports / errors
def test_loud_warning_when_trips_drop_and_error_when_none(tmp_path, caplog):
    # T1 and T2 lose all but their first stop time: 2 of 7 running trips drop (29 %)
    st_lines = [r for r in HAND_FILES["stop_times.txt"].splitlines()
                if not (r.startswith(("T1,", "T2,")) and not r.endswith(",1"))]
    f = gtfs.read_gtfs(write_feed(tmp_path / "f", replace={
        "stop_times.txt": "\n".join(st_lines) + "\n"}))
    with caplog.at_level(logging.INFO, logger="ruimtekit.io.gtfs"):
        tt = gtfs.timetable(f, DATE)
    rep = tt.reports[0]
    assert rep.dropped["fewer than two stop times"] == 2 and rep.trips_kept == 10
    assert "LOSES DATA" in caplog.text and "29%" in caplog.text
    assert rep.stops_dropped == 0  # A, B, C, D are still served by others
    # T6 (D2 → J) losing J as well: D2 is served by no kept trip any more
    st6 = [r for r in st_lines if r != "T6,07:50:00,07:50:00,J,2"]
    f6 = gtfs.read_gtfs(write_feed(tmp_path / "f6", replace={
        "stop_times.txt": "\n".join(st6) + "\n"}))
    rep6 = gtfs.timetable(f6, DATE).reports[0]
    assert rep6.dropped["fewer than two stop times"] == 3 and rep6.stops_dropped == 1
    # a feed where nothing running has two stop times is an error naming the feed
    only = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,07:00:00,A,1\n"
    g = gtfs.read_gtfs(write_feed(tmp_path / "g", replace={
        "stop_times.txt": only, "frequencies.txt": None}), name="lonely")
    with pytest.raises(InputError, match="feed lonely: none of its 7 trips running on "
                                         "2024-03-12 has two or more stop times"):
        gtfs.timetable(g, DATE)


def test_time_window_drops_are_reported_not_warned(tmp_path, caplog):
    folder = write_feed(tmp_path / "f")
    with caplog.at_level(logging.INFO):
        net = transit.build_network(folder, DATE, time_range_s=(H7, H7 + 1200))
    rep = net.meta["feeds"][0]
    assert rep["dropped"]["outside the time window"] > 0
    assert "LOSES DATA" not in caplog.text


@pytest.mark.parametrize("file,old,new,match", [
    ("stop_times.txt", "T2,07:40:00,07:40:00,B,2", "T2,7:4:00,07:40:00,B,2",
     r"stop_times.txt arrival_time line 7: 1 malformed time\(s\), e.g. '7:4:00'"),
    ("stop_times.txt", "T3,07:40:00,07:40:00,E,2", "T3,07:40:00,07:40:00,ZZ,2",
     r"stop_times.txt line 11: 1 row\(s\) refer to unknown stop_id\(s\) \(e.g. 'ZZ'\)"),
    ("calendar.txt", "X,1,1,1,1,1,0,0,20240101,20241231", "X,1,1,1,1,1,0,0,20241231,20240101",
     r"calendar.txt line 3: service 'X' ends \(20240101\) before it starts \(20241231\)"),
    ("trips.txt", "R1,WK,T2", "R1,NOPE,T2",
     r"trips.txt line 3: 1 row\(s\) refer to unknown service_id"),
    ("stops.txt", "B,Stop B,52.31,4.8", "B,Stop B,,4.8",
     r"stops.txt line 3: 1 stop\(s\) without valid coordinates"),
    ("stop_times.txt", "T1,07:00:00,07:00:00,A,1", "T1,,,A,1",
     r"stop_times.txt lines \[2\]: the first or last stop of trip\(s\) \['T1'\] has no time"),
    ("trips.txt", "R1,WK,T2", "R1,WK,T1", r"trips.txt line 3: duplicate trip_id \['T1'\]"),
])
def test_errors_name_file_line_and_problem(tmp_path, file, old, new, match):
    assert old in HAND_FILES[file]
    with pytest.raises(InputError, match=match):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={file: HAND_FILES[file].replace(
            old, new)}))


def test_station_used_as_stop_rejected(tmp_path):
    stops = HAND_FILES["stops.txt"].replace("stop_id,stop_name,stop_lat,stop_lon",
                                            "stop_id,stop_name,stop_lat,stop_lon,location_type")
    stops = stops.replace("52.3,4.8\n", "52.3,4.8,1\n", 1)
    with pytest.raises(InputError, match=r"stop_times.txt lines 2, 6, 12 …: stop_id\(s\) "
                                         r"\['A'\] are stations"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stops.txt": stops}))


def test_zip_slip_and_absolute_members_rejected(tmp_path):
    folder = write_feed(tmp_path / "f")
    for i, bad in enumerate(("../../etc/x.txt", "/abs/stops.txt", "C:/win/stops.txt")):
        z = zip_feed(folder, tmp_path / f"evil{i}.zip")
        with zipfile.ZipFile(z, "a") as zf:
            zf.writestr(bad, "x")
        with pytest.raises(InputError, match="absolute or '..' path"):
            gtfs.read_gtfs(z)


# ---------------------------------------------------------------- study / CLI: two feeds
def _two_feed_folders(tmp_path):
    """The hand feed without route R2 (C 07:25 → E 07:40), and R2 alone in a second feed
    with its own copies of stops C and E (same ids, same places)."""
    a_st = "\n".join(r for r in HAND_FILES["stop_times.txt"].splitlines()
                     if not r.startswith("T3,")) + "\n"
    a = write_feed(tmp_path / "bus", replace={
        "stop_times.txt": a_st, "trips.txt": HAND_FILES["trips.txt"].replace("R2,WK,T3\n", ""),
        "transfers.txt": None})
    b = write_feed(tmp_path / "tram", files={
        "agency.txt": HAND_FILES["agency.txt"],
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
                     f"C,Stop C,{STOPS['C'][0]},{STOPS['C'][1]}\n"
                     f"E,Stop E,{STOPS['E'][0]},{STOPS['E'][1]}\n",
        "routes.txt": "route_id,route_type\nR2,0\n",
        "trips.txt": "route_id,service_id,trip_id\nR2,WK,T3\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T3,07:25:00,07:25:00,C,1\nT3,07:40:00,07:40:00,E,2\n",
        "calendar.txt": HAND_FILES["calendar.txt"]})
    return a, b


def _zones(net_or_feed_folder):
    import geopandas as gpd
    from shapely.geometry import Point

    f = gtfs.read_gtfs(net_or_feed_folder).stops.set_index("stop_id")
    pts = [Point(f.at[s, "x"] + 30, f.at[s, "y"]) for s in ("A", "E", "J")]
    return gpd.GeoDataFrame({"zone_id": ["za", "ze", "zj"], "jobs": [1.0, 10.0, 100.0]},
                            geometry=pts, crs="EPSG:28992")


def test_study_and_cli_merge_two_feeds(tmp_path):
    """From A at 07:00, E (10 jobs) is reached within 45 min only by changing from the bus
    feed to the tram feed at C (07:20 → 07:25): the merged network finds it, the bus
    feed alone does not — in the API, the study (``feeds:`` and a ``path:`` list) and the
    CLI (``--gtfs`` twice)."""
    from types import SimpleNamespace

    import geopandas as gpd
    from typer.testing import CliRunner

    from ruimtekit._context import RunContext
    from ruimtekit.cli import app

    a, b = _two_feed_folders(tmp_path)
    zones = _zones(write_feed(tmp_path / "hand"))
    p = transit.TransitParams(window_start="06:59", window_end="07:01").with_radius("walk", 200)
    kw = {"measures": {"cutoffs": (45,)}, "params": p}
    alone = transit_access.zone_accessibility(transit.build_network(a, DATE), zones,
                                       zones["jobs"].to_numpy(), **kw)
    both = transit_access.zone_accessibility(transit.build_network([a, b], DATE), zones,
                                      zones["jobs"].to_numpy(), **kw)
    assert alone.loc[0, "jobs_45min_transit"] == 1.0
    assert both.loc[0, "jobs_45min_transit"] == 11.0
    for extra in ({"feeds": [{"path": str(a), "name": "bus"}, {"path": str(b)}]},
                  {"path": [str(a), str(b)]}):
        cfg = transit_access.TransitConfig(name="two", zones="z", network="pt", date=DATE,
                                    window_start="06:59", window_end="07:01", cutoffs=[45],
                                    access_radius_m={"walk": 200}, **extra)
        ctx = RunContext(study=SimpleNamespace(transit=[cfg], networks={}), root=tmp_path,
                         layers={"z": zones})
        transit_access.pipeline_step(ctx)
        assert ctx.results["transit_two"]["jobs_45min_transit"].tolist()[0] == 11.0
        assert sorted(ctx.networks["pt"].trips["feed"].unique()) == ["bus", "tram"]
        rep = ctx.tables["gtfs_feeds_pt"].set_index("name")
        assert rep.loc["tram", "trips_kept"] == 1 and rep.loc["bus", "trips_read"] == 7
        assert "dropped_outside_the_time_window" in rep
    # a networks: entry with a list of feeds (the street-network step leaves it alone)
    from ruimtekit.network import networks

    spec = networks.NetworkSpec(path=[str(a), str(b)], kind="gtfs")
    cfg = transit_access.TransitConfig(name="two", zones="z", network="pt", date=DATE,
                                window_start="06:59", window_end="07:01", cutoffs=[45],
                                access_radius_m={"walk": 200})
    ctx = RunContext(study=SimpleNamespace(transit=[cfg], networks={"pt": spec}),
                     root=tmp_path, layers={"z": zones})
    networks.pipeline_step(ctx)
    assert "pt" not in ctx.networks
    transit_access.pipeline_step(ctx)
    assert ctx.results["transit_two"]["jobs_45min_transit"].tolist()[0] == 11.0
    zpath = tmp_path / "zones.geojson"
    zones.assign(geometry=zones.buffer(20.0)).to_file(zpath, driver="GeoJSON")  # polygons
    out = tmp_path / "out.gpkg"
    res = CliRunner().invoke(app, ["transit", "--zones", str(zpath), "--gtfs", str(a),
                                   "--gtfs", str(b), "--date", DATE, "--window", "06:59-07:01",
                                   "--cutoffs", "45", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    got = gpd.read_file(out, layer="transit").set_index("zone_id")
    assert got.loc["za", "jobs_45min_transit"] == 11.0


def test_network_spec_accepts_a_list_of_feeds_only_for_gtfs():
    from pydantic import ValidationError

    from ruimtekit.network import networks

    spec = networks.NetworkSpec(path=["a.zip", "b.zip"], kind="gtfs")
    assert spec.path == ["a.zip", "b.zip"]
    with pytest.raises(ValidationError, match="only for GTFS"):
        networks.NetworkSpec(path=["a.osm.pbf", "b.osm.pbf"], kind="osm", mode="walk")
