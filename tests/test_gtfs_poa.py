"""Real feeds: Porto Alegre EPTC buses and Trensurb metro (data/raw/poa, via r5r).

Their quirks are the point: every EPTC ``trip_id`` contains ``#`` (``T1-2@1#1202``),
96 % of EPTC stop times are blank (only the first and last stop of a trip are timed),
Trensurb has CRLF line ends, files without a final newline and a header
``" agency_name"`` with a leading space.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruimtekit._errors import InputError
from ruimtekit.engine import transit
from ruimtekit.io import gtfs

POA = Path(__file__).resolve().parents[1] / "data" / "raw" / "poa"
FEEDS = {"poa_eptc": POA / "poa_eptc.zip", "poa_trensurb": POA / "poa_trensurb.zip"}
DATE = "2019-05-13"  # a Monday inside both calendars
CRS = "EPSG:31982"  # SIRGAS 2000 / UTM 22S


def _table(zpath: Path, name: str) -> pd.DataFrame:
    """A feed table read with the csv module only (independent of gtfs.py)."""
    with zipfile.ZipFile(zpath) as z:
        text = z.read(name).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    return pd.DataFrame([r for r in rows[1:] if r], columns=header)


def _running_trips(zpath: Path, day: dt.date) -> set[str]:
    """Trips with service on ``day`` (calendar weekday and range, calendar_dates added /
    removed) and at least two stop times, counted without gtfs.py."""
    key = day.strftime("%Y%m%d")
    wd = day.strftime("%A").lower()
    cal = _table(zpath, "calendar.txt")
    on = set(cal.loc[(cal[wd] == "1") & (cal["start_date"] <= key) & (cal["end_date"] >= key),
                     "service_id"])
    with zipfile.ZipFile(zpath) as z:
        has_dates = "calendar_dates.txt" in z.namelist()
    if has_dates:
        cd = _table(zpath, "calendar_dates.txt")
        cd = cd[cd["date"] == key]
        on |= set(cd.loc[cd["exception_type"] == "1", "service_id"])
        on -= set(cd.loc[cd["exception_type"] == "2", "service_id"])
    trips = _table(zpath, "trips.txt")
    st = _table(zpath, "stop_times.txt")
    n_st = st.groupby("trip_id").size()
    run = trips.loc[trips["service_id"].isin(on), "trip_id"]
    return {t for t in run if n_st.get(t, 0) >= 2}


@pytest.fixture(scope="module")
def feeds():
    return [gtfs.read_gtfs(p, crs=CRS) for p in FEEDS.values()]


@pytest.fixture(scope="module")
def net(feeds):
    return transit.build_network(feeds, DATE, walk_speed_kmh=3.6)


def test_no_trip_lost(net):
    day = dt.date.fromisoformat(DATE)
    got = net.trips[net.trips["service_day"] == 0]
    for name, path in FEEDS.items():
        expect = _running_trips(path, day)
        mine = got.loc[got["feed"] == name, "trip_id"].str.removeprefix(f"{name}:")
        assert len(mine) == mine.nunique()
        assert set(mine) == expect, name
    # the published sizes (PROVENANCE.md): 2,374 EPTC trips, 529 Trensurb trips on Mondays
    assert (got["feed"] == "poa_eptc").sum() == 2374
    assert (got["feed"] == "poa_trensurb").sum() == 529
    assert any("#" in t for t in got["trip_id"])  # ids kept whole
    reps = {r["name"]: r for r in net.meta["feeds"]}
    assert reps["poa_eptc"]["trips_kept"] == 2374 and reps["poa_trensurb"]["trips_read"] == 1248
    assert sum(sum(r["dropped"].values()) for r in reps.values()) == 0


def test_eptc_alone_and_report(feeds, caplog):
    caplog.set_level("INFO", logger="ruimtekit.io.gtfs")
    n = transit.build_network(feeds[0], DATE)
    assert int(n.pat_trip_ptr[-1]) == 2374
    assert "feed poa_eptc on 2019-05-13: 2,374 of 2,374 trips run" in caplog.text
    assert "LOSES DATA" not in caplog.text


def test_quirks_read(feeds):
    eptc, trensurb = feeds
    assert trensurb.agency["agency_name"].tolist() == ["TRENSURB"]  # " agency_name"
    assert eptc.timezone == trensurb.timezone == "America/Sao_Paulo"
    # the last lines of files without a final newline are read
    assert set(trensurb.routes["route_id"]) == {"LINHA1", "LINHAAERO"}
    assert len(trensurb.stop_times) == 14855 and len(eptc.stop_times) == 130019
    assert eptc.meta["stop_times_interpolated"] == 125271  # 96 % blank
    assert eptc.meta["interpolated_by"] == {"shape_dist_traveled": 0, "great_circle": 2374}
    # stops in UTM 22S: Porto Alegre centre around x 480 km, y 6,680 km
    assert eptc.stops["x"].between(450_000, 510_000).all()
    assert eptc.stops["y"].between(6_640_000, 6_700_000).all()


def _haversine(lat1, lon1, lat2, lon2):
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def test_blank_times_by_distance_on_a_real_trip(feeds):
    """T1-2@1#1202 is timed at its first (12:02) and last (13:02) of 65 stops only; the
    others get times in proportion to the great-circle distance along the stops,
    computed here by hand from stops.txt."""
    trip = "T1-2@1#1202"
    raw = _table(FEEDS["poa_eptc"], "stop_times.txt")
    raw = raw[raw["trip_id"] == trip].assign(seq=lambda d: d["stop_sequence"].astype(int))
    raw = raw.sort_values("seq")
    assert len(raw) == 65 and (raw["arrival_time"] != "").sum() == 2
    stops = _table(FEEDS["poa_eptc"], "stops.txt").set_index("stop_id")
    pts = [(float(stops.at[s, "stop_lat"]), float(stops.at[s, "stop_lon"]))
           for s in raw["stop_id"]]
    cum = [0.0]
    for (la1, lo1), (la2, lo2) in zip(pts[:-1], pts[1:], strict=True):
        cum.append(cum[-1] + _haversine(la1, lo1, la2, lo2))
    t0, t1 = 12 * 3600 + 2 * 60, 13 * 3600 + 2 * 60
    expect = [math.floor(t0 + (t1 - t0) * c / cum[-1] + 0.5) for c in cum]
    st = feeds[0].stop_times
    got = st[st["trip_id"] == trip].sort_values("stop_sequence")
    assert got["arrival_s"].tolist() == expect
    assert got["departure_s"].tolist() == expect
    assert got["timed"].tolist() == [True] + [False] * 63 + [True]
    # not by stop order: the 33rd stop is not at the half hour
    assert abs(expect[32] - (t0 + 1800)) > 60


def test_raptor_across_both_feeds(net):
    """Smoke check on the merged network: from the EPTC stop nearest Mercado station
    at 14:00, Novo Hamburgo (the far end of Trensurb Linha 1) is reached by walking to
    the metro; the time is at least the scheduled ride and at most the ride plus one
    headway and the walk."""
    ids = net.stop_ids
    mr = int(np.flatnonzero(ids == "poa_trensurb:MR")[0])
    nh = int(np.flatnonzero(ids == "poa_trensurb:NH")[0])
    eptc = np.flatnonzero(pd.Series(ids).str.startswith("poa_eptc:").to_numpy())
    d = np.hypot(net.x[eptc] - net.x[mr], net.y[eptc] - net.y[mr])
    o = int(eptc[np.argmin(d)])
    assert d.min() < 400  # within the transfer radius: a cross-feed footpath
    t = transit.raptor_departures(net, [o], [0], np.array([14 * 3600]), max_transfers=2)[0]
    ride = transit.raptor_departures(net, [mr], [0], np.array([14 * 3600]))[0][nh]
    walk = math.ceil(d.min() / (3.6 / 3.6))
    assert ride > 40 * 60  # Mercado → Novo Hamburgo is a 50-odd minute ride
    assert ride <= t[nh] <= ride + walk + 20 * 60


def test_stops_follow_the_working_crs():
    from ruimtekit import _crs

    with _crs.use_crs("EPSG:31982"):
        f = gtfs.read_gtfs(FEEDS["poa_trensurb"])
    assert f.crs == "EPSG:31982" and f.stops["x"].between(450_000, 510_000).all()
    with _crs.use_crs("auto"):
        g = gtfs.read_gtfs(FEEDS["poa_trensurb"])  # settles to the feed's UTM zone
        assert _crs.working_crs() == g.crs == "EPSG:32722"
    # UTM 22S on WGS84 vs SIRGAS 2000: the same grid to within a metre
    assert np.allclose(f.stops["x"], g.stops["x"], atol=1.0)
    # the Dutch default refuses a Brazilian feed instead of stretching its distances 2.2x
    with pytest.raises(InputError, match="far outside the area of the working CRS"):
        gtfs.read_gtfs(FEEDS["poa_trensurb"])


def test_interpolation_agrees_with_r5s_method(feeds):
    """R5 (conveyal gtfs-lib ``getInterpolatedStopTimesForTrip``) interpolates blank times
    by the geodesic (ellipsoidal) distance between consecutive stops and truncates to
    whole seconds; re-implemented here with pyproj.Geod, it agrees with ours (sphere,
    rounded) to within 4 s on every one of the 125,271 interpolated EPTC stop times."""
    from pyproj import Geod

    st = feeds[0].stop_times
    s = feeds[0].stops.set_index("stop_id")
    lat = st["stop_id"].map(s["stop_lat"]).to_numpy()
    lon = st["stop_id"].map(s["stop_lon"]).to_numpy()
    trip = st["trip_id"].to_numpy()
    first = np.r_[True, trip[1:] != trip[:-1]]
    seg = np.r_[0.0, Geod(ellps="WGS84").inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]]
    seg[first] = 0.0
    cum = np.cumsum(seg)
    timed = st["timed"].to_numpy()
    pos = np.arange(len(st))
    prev = np.maximum.accumulate(np.where(timed, pos, 0))
    nxt = np.minimum.accumulate(np.where(timed, pos, len(st))[::-1])[::-1]
    t0 = st["departure_s"].to_numpy()[prev]
    t1 = st["arrival_s"].to_numpy()[nxt]
    span = np.where(cum[nxt] > cum[prev], cum[nxt] - cum[prev], 1.0)
    r5 = np.floor(t0 + (t1 - t0) * (cum - cum[prev]) / span)
    diff = np.abs(st["arrival_s"].to_numpy() - r5)[~timed]
    assert diff.size == 125271
    assert diff.max() <= 4 and np.mean(diff <= 1) > 0.9
