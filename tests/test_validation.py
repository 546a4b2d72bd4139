"""Validation at the edges (issue #15): each check names file, rows or column and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

from ruimtekit import _validate
from ruimtekit._errors import InputError, NetworkError
from ruimtekit.analysis import accessibility, borrowed_size
from ruimtekit.engine import transit
from ruimtekit.engine.measures import measure_list
from ruimtekit.io import gtfs, layers, places
from ruimtekit.network import graph
from transit_fixtures import HAND_FILES, STOPS, write_feed

ROOT = Path(__file__).resolve().parents[1]


def _stops(coords):
    return pd.DataFrame({"stop_id": [f"s{i}" for i in range(len(coords))],
                         "stop_lat": [c[0] for c in coords], "stop_lon": [c[1] for c in coords]})


def test_stop_coordinates():
    good = _stops(list(STOPS.values()) + [(51.4, 6.9)])  # + a stop in Germany: kept
    _validate.check_stop_coordinates(good, "feed.zip")
    with pytest.raises(InputError, match=r"1 stop\(s\) at 0,0 .*\['s3'\]"):
        _validate.check_stop_coordinates(_stops([(52.3, 4.8)] * 3 + [(0.0, 0.0)]), "f")
    with pytest.raises(InputError, match="look swapped"):
        _validate.check_stop_coordinates(_stops([(lon, lat) for lat, lon in STOPS.values()]), "f")
    with pytest.raises(InputError, match=r"beyond ±90"):
        _validate.check_stop_coordinates(_stops([(52.3, 4.8), (487000.0, 120000.0)]), "f")
    with pytest.raises(InputError, match="far outside the area of the working CRS"):
        _validate.check_stop_coordinates(_stops([(52.3, 4.8), (-33.9, 151.2)]), "f")


def test_feed_with_swapped_stops_is_refused(tmp_path):
    lines = HAND_FILES["stops.txt"].splitlines()
    swapped = "\n".join([lines[0]] + [",".join(p[:2] + [p[3], p[2]]) for p in
                                      (ln.split(",") for ln in lines[1:])]) + "\n"
    with pytest.raises(InputError, match="look swapped") as exc:
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stops.txt": swapped}))
    assert exc.value.path == tmp_path / "f"


def test_calendar_ending_before_it_starts(tmp_path):
    cal = HAND_FILES["calendar.txt"].replace("X,1,1,1,1,1,0,0,20240101,20241231",
                                             "X,1,1,1,1,1,0,0,20241231,20240101")
    with pytest.raises(InputError, match=r"calendar.txt line \d+: service 'X' ends "
                                         r"\(20240101\) before it starts"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"calendar.txt": cal}))


def test_reversed_departure_window():
    with pytest.raises(InputError, match="09:00-07:00 ends before"):
        transit.departure_times("09:00", "07:00")
    assert len(transit.departure_times("23:00", "25:00", 600)) == 12  # past midnight is fine


def test_graph_edge_times_name_the_file_and_edge():
    attrs = graph.GraphAttrs(meta={"source": "roads.gpkg"})
    x = np.array([0.0, 100.0, 200.0])
    with pytest.raises(NetworkError, match=r"(?s)roads.gpkg: 1 edge travel time.*e.g. edge 1 → 2: "
                                           r"-inf s\).*fix:"):
        graph.from_edges([0, 1], [1, 2], [10.0, -np.inf], x, x, attrs=attrs)
    with pytest.raises(NetworkError, match="all 3 edges are self-loops"):
        graph.from_edges([0, 1, 2], [0, 1, 2], [1.0, 1.0, 1.0], x, x, attrs=attrs)
    with pytest.raises(NetworkError, match="no two nodes reach each other"):
        graph.from_edges([0, 1], [1, 2], [1.0, 1.0], x, x, attrs=attrs)  # one-way chain


def test_cutoffs_beyond_a_day_and_beyond_a_truncated_skim():
    with pytest.raises(InputError, match="beyond the maximum travel time of 1440"):
        measure_list([45, 2700], [])
    ids = ["a", "b", "c"]
    import geopandas as gpd
    from shapely.geometry import box

    zones = gpd.GeoDataFrame({"zone_id": ids, "jobs": [1.0, 2.0, 4.0]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=28992)
    skim = pd.DataFrame({"origin": ["a", "b", "a"], "destination": ["b", "a", "c"],
                         "time_s": [600.0, 660.0, 1200.0]})
    out = accessibility.skim_access(skim, zones, cutoffs=[20])  # within the skim's 20 min
    assert out["jobs_20min_skim"].tolist() == [7.0, 3.0, 4.0]
    with pytest.raises(InputError, match=r"beyond the longest travel time in the skim \(20 min"):
        accessibility.skim_access(skim, zones, cutoffs=[20, 30])
    full = pd.DataFrame({"origin": np.repeat(ids, 3), "destination": ids * 3,
                         "time_s": np.full(9, 60.0)})
    out = accessibility.skim_access(full, zones, cutoffs=[90])  # complete skim: any cutoff
    assert out["jobs_90min_skim"].tolist() == [7.0, 7.0, 7.0]


def test_opportunities_huge_infinite_and_named(tmp_path):
    df = pd.DataFrame({"zone_id": ["a", "b"], "jobs": [1.0, 1.5e308]})
    df.attrs["source"] = "zones.gpkg"
    with pytest.raises(InputError, match=r"zones.gpkg: 1 zones row\(s\) have an implausibly "
                                         r"large 'jobs' .*\['b'\]"):
        places.opportunity_weights(df, "jobs", "zones")
    df["jobs"] = [np.inf, 2.0]
    with pytest.raises(InputError, match=r"missing or negative \(or infinite\) 'jobs' .*\['a'\]"):
        places.opportunity_weights(df, "jobs", "zones")


def test_borrowed_size_negative_masses_name_column_and_ids():
    masses = pd.DataFrame({"population": [5.0, -1.0, 3.0], "jobs": [1.0, 2.0, -3.0]})
    with pytest.raises(InputError, match=r"column\(s\) \['population', 'jobs'\] for 2 "
                                         r"zone\(s\): \['b', 'c'\]"):
        borrowed_size.borrowed_size_metrics(["a", "b", "c"], masses, np.zeros((3, 3)))


def test_jobs_file_wins_over_a_jobs_column(tmp_path):
    from typer.testing import CliRunner

    from ruimtekit.cli import app

    z = layers.read_zones(ROOT / "data/raw/cbs_gemeenten_2022.geojson")
    ams = z.loc[z["zone_id"] == "GM0363", "geometry"].iloc[0].centroid
    z = z.loc[z.geometry.centroid.distance(ams).sort_values().index[:40]].copy()
    z["jobs"] = 1.0  # a stale column the explicit --jobs-file must replace
    z["population"] = 1000.0
    z.to_file(tmp_path / "zones.gpkg")
    out = tmp_path / "b.gpkg"
    res = CliRunner().invoke(app, [
        "borrowed-size", str(tmp_path / "zones.gpkg"), "--mass", "jobs", "--mass", "population",
        "--jobs-file", str(ROOT / "data/raw/cbs_gemeente_banen_2014.csv"),
        "--wijk-centroids", str(ROOT / "data/raw/cbs_wijk_centroids_2015.geojson"),
        "--outcome", "population", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    got = pyogrio.read_dataframe(out, layer="borrowed_size").set_index("zone_id")
    banen = pd.read_csv(ROOT / "data/raw/cbs_gemeente_banen_2014.csv").set_index("gm_code")
    assert got.loc["GM0363", "jobs_own"] == banen.loc["GM0363", "banen_werkplaats"]
    res = CliRunner().invoke(app, [
        "borrowed-size", str(tmp_path / "zones.gpkg"), "--mass", "population", "--jobs-file",
        str(ROOT / "data/raw/cbs_gemeente_banen_2014.csv"), "-o", str(out), "-q"])
    assert res.exit_code == 2 and "would be ignored" in " ".join(res.output.split())


def test_stop_area_follows_the_working_crs():
    """Porto Alegre stops are far away for the Dutch default but fine in their own UTM zone
    (EPSG:31982) or with crs auto; swapped coordinates are caught there too."""
    poa = _stops([(-30.03, -51.22), (-30.10, -51.18), (-29.70, -51.13)])
    with pytest.raises(InputError, match="far outside the area"):
        _validate.check_stop_coordinates(poa, "f", crs="EPSG:28992")
    _validate.check_stop_coordinates(poa, "f", crs="EPSG:31982")
    _validate.check_stop_coordinates(poa, "f", crs="auto")
    swapped = _stops([(-51.22, -30.03), (-51.18, -30.10), (-51.13, -29.70)])
    with pytest.raises(InputError, match="look swapped"):
        _validate.check_stop_coordinates(swapped, "f", crs="EPSG:31982")
