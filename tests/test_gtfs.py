"""GTFS reader: parsing, calendars, frequencies, overnight trips and validation errors."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import pandas as pd
import pytest

from ruimtekit._errors import InputError
from ruimtekit.io import gtfs
from transit_fixtures import HAND_FILES, write_feed, zip_feed


@pytest.fixture
def feed_dir(tmp_path):
    return write_feed(tmp_path / "feed")


def test_read_folder_and_zip_agree(feed_dir, tmp_path):
    f1 = gtfs.read_gtfs(feed_dir)
    f2 = gtfs.read_gtfs(zip_feed(feed_dir, tmp_path / "feed.zip"))
    assert len(f1.stops) == 12 and len(f1.trips) == 8
    pd.testing.assert_frame_equal(f1.stop_times, f2.stop_times)
    assert f1.timezone == "Europe/Amsterdam"
    # RD New coordinates: Amsterdam area is around x 110-130 km, y 480-490 km
    assert f1.stops["x"].between(100_000, 140_000).all()
    assert f1.stops["y"].between(470_000, 500_000).all()


def test_times_past_midnight(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    n1 = f.stop_times[f.stop_times["trip_id"] == "N1"]
    assert n1["departure_s"].tolist() == [24 * 3600 + 50 * 60, 25 * 3600 + 10 * 60]
    assert gtfs.parse_times(pd.Series(["25:10:00", " 7:05:09", None]), "x", "t")[:2].tolist() \
        == [90600.0, 25509.0]


def test_services_on_calendar_dates(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    assert gtfs.services_on(f, "2024-03-12") == {"WK", "EXTRA"}  # X removed, EXTRA added
    assert gtfs.services_on(f, "2024-03-11") == {"WK", "X"}  # Monday: regular
    assert gtfs.services_on(f, dt.date(2024, 3, 16), require=False) == set()  # Saturday


def test_no_service_lists_range(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    with pytest.raises(InputError, match="2024-01-01 to 2024-12-31"):
        gtfs.services_on(f, "2025-06-02")


def test_frequencies_expanded(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    st = gtfs.expand_frequencies(f)
    fq = st[st["trip_id"] == "FQ"]  # the id stays as it is; runs are numbered in "run"
    deps = fq.loc[fq["stop_id"] == "H"].sort_values("run")
    assert deps["departure_s"].tolist() == [7 * 3600 + k * 600 for k in range(6)]  # end excl.
    assert deps["run"].tolist() == list(range(6))
    arr = sorted(fq.loc[fq["stop_id"] == "I", "arrival_s"])
    assert arr == [7 * 3600 + 480 + k * 600 for k in range(6)]
    assert not ((st["trip_id"] == "FQ") & (st["run"] < 0)).any()  # template has no own times
    assert (st.loc[st["trip_id"] != "FQ", "run"] == -1).all()


def test_timetable_includes_previous_day_overnight(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    tt = gtfs.timetable(f, "2024-03-12")
    st = tt.stop_times
    prev = st[(st["trip_id"] == "N1") & (st["service_day"] == -1)]
    assert prev["departure_s"].tolist() == [50 * 60, 70 * 60]  # 00:50 → 01:10 this morning
    today = st[(st["trip_id"] == "N1") & (st["service_day"] == 0)]
    assert today["departure_s"].tolist() == [24 * 3600 + 50 * 60, 25 * 3600 + 10 * 60]
    assert prev["trip"].iloc[0] != today["trip"].iloc[0]  # two trips, one id
    assert "T4" not in set(st["trip_id"])  # removed by calendar_dates
    assert "T5" in set(st["trip_id"])  # added by calendar_dates
    # Monday 2024-03-11 has no previous-day (Sunday) night trip
    tt_mon = gtfs.timetable(f, "2024-03-11")
    assert not (tt_mon.stop_times["service_day"] == -1).any()
    rep = tt.reports[0]
    assert (rep.trips_read, rep.trips_running, rep.trips_overnight) == (8, 7, 1)
    assert rep.trips_kept == 7 - 1 + 6  # FQ template → 6 runs
    assert rep.runs == 6 and sum(rep.dropped.values()) == 0


def test_blank_intermediate_times_interpolated(tmp_path):
    st = HAND_FILES["stop_times.txt"].replace("T1,07:10:00,07:10:00,B,2", "T1,,,B,2")
    f = gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stop_times.txt": st}))
    b = f.stop_times[(f.stop_times["trip_id"] == "T1") & (f.stop_times["stop_id"] == "B")]
    assert int(b["arrival_s"].iloc[0]) == 7 * 3600 + 600  # halfway 07:00–07:20


# ------------------------------------------------------------------ validation errors
def test_missing_required_file(tmp_path):
    with pytest.raises(InputError, match="stops.txt is missing"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stops.txt": None}))


def test_missing_required_column(tmp_path):
    bad = HAND_FILES["stops.txt"].replace("stop_lat", "latitude")
    with pytest.raises(InputError, match="lacks the required column.*stop_lat"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stops.txt": bad}))


@pytest.mark.parametrize("value", ["7:3:00", "07:61:00", "abc", "07:00"])
def test_malformed_time(tmp_path, value):
    st = HAND_FILES["stop_times.txt"].replace("T1,07:10:00,07:10:00", f"T1,{value},{value}")
    with pytest.raises(InputError, match="malformed time"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stop_times.txt": st}))


def test_unknown_stop_and_trip(tmp_path):
    st = HAND_FILES["stop_times.txt"] + "T1,07:40:00,07:40:00,NOPE,5\n"
    with pytest.raises(InputError, match="unknown stop_id.*'NOPE'"):
        gtfs.read_gtfs(write_feed(tmp_path / "a", replace={"stop_times.txt": st}))
    st = HAND_FILES["stop_times.txt"] + "GHOST,07:40:00,07:40:00,A,1\n"
    with pytest.raises(InputError, match="unknown trip_id.*'GHOST'"):
        gtfs.read_gtfs(write_feed(tmp_path / "b", replace={"stop_times.txt": st}))


def test_timezone_missing_unknown_or_per_agency(tmp_path):
    none = "agency_id,agency_name,agency_url,agency_timezone\nag,Test,https://example.org,\n"
    with pytest.raises(InputError, match="no agency_timezone"):
        gtfs.read_gtfs(write_feed(tmp_path / "b", replace={"agency.txt": none}))
    bad = HAND_FILES["agency.txt"] + "ag2,Other,https://example.org,Mars/Olympus\n"
    with pytest.raises(InputError, match="agency.txt line 3: unknown agency_timezone"):
        gtfs.read_gtfs(write_feed(tmp_path / "c", replace={"agency.txt": bad}))
    # a second agency in London (UTC+0 in March; Amsterdam UTC+1): its route R2 runs
    # C 07:25 → E 07:40 London time = 08:25 → 08:40 in the network's (Amsterdam) time
    mixed = HAND_FILES["agency.txt"] + "ag2,Other,https://example.org,Europe/London\n"
    routes = HAND_FILES["routes.txt"].replace("R2,ag,2,3", "R2,ag2,2,3")
    f = gtfs.read_gtfs(write_feed(tmp_path / "a", replace={"agency.txt": mixed,
                                                           "routes.txt": routes}))
    st = gtfs.timetable(f, "2024-03-12").stop_times
    assert st.loc[st["trip_id"] == "T3", "departure_s"].tolist() == [8 * 3600 + 1500,
                                                                       8 * 3600 + 2400]
    assert st.loc[st["trip_id"] == "T1", "departure_s"].iloc[0] == 7 * 3600  # unchanged
    # in summer both are one hour later: still one hour apart
    st = gtfs.timetable(f, "2024-07-02").stop_times
    assert st.loc[st["trip_id"] == "T3", "departure_s"].iloc[0] == 8 * 3600 + 1500


def test_times_backwards_rejected(tmp_path):
    st = HAND_FILES["stop_times.txt"].replace("T1,07:20:00,07:20:00,C", "T1,07:05:00,07:05:00,C")
    with pytest.raises(InputError, match="backwards"):
        gtfs.read_gtfs(write_feed(tmp_path / "f", replace={"stop_times.txt": st}))


def test_unsafe_zip_member_rejected(feed_dir, tmp_path):
    z = zip_feed(feed_dir, tmp_path / "evil.zip")
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(InputError, match="'..' path"):
        gtfs.read_gtfs(z)
    assert not (tmp_path / "evil.txt").exists()


def test_not_a_zip(tmp_path):
    p = tmp_path / "feed.zip"
    p.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a valid ZIP"):
        gtfs.read_gtfs(p)


def test_bad_date_string(feed_dir):
    f = gtfs.read_gtfs(feed_dir)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        gtfs.services_on(f, "12-03-2024")
    assert np.isfinite(f.stops["x"]).all()


def test_pickup_drop_off_codes_read_and_validated(tmp_path):
    st_txt = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,"
              "drop_off_type\nT1,07:00:00,07:00:00,A,1,0,1\nT1,07:10:00,07:10:00,B,2,,\n"
              "T1,07:20:00,07:20:00,C,3,1,3\nT1,07:30:00,07:30:00,D,4,2,0\n")
    folder = write_feed(tmp_path / "ok", replace={"stop_times.txt": st_txt})
    st = gtfs.read_gtfs(folder).stop_times
    t1 = st[st["trip_id"] == "T1"].sort_values("stop_sequence")
    assert t1["can_board"].tolist() == [True, True, False, True]
    assert t1["can_alight"].tolist() == [False, True, True, True]
    bad = write_feed(tmp_path / "bad", replace={"stop_times.txt": st_txt.replace(",1,3\n",
                                                                               ",7,3\n")})
    with pytest.raises(InputError, match="pickup_type has values \\[7\\] outside 0-3"):
        gtfs.read_gtfs(bad)
