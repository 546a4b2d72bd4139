"""Tests for the candidates ranking: hand-computed cases, invariants and real-data reasons."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import stats

from ruimtekit._context import RunContext
from ruimtekit._errors import InputError
from ruimtekit.analysis import candidates
from ruimtekit.io import synthetic

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
X0, Y0 = 100_000.0, 480_000.0


# ------------------------------------------------------------------------------------------
# a small hand-made world (EPSG:28992 metres)
def make_zones(codes: bool = True) -> gpd.GeoDataFrame:
    """Four 1 km squares; accessibility decreasing / density increasing with index."""
    boxes = [shapely.box(X0 + dx, Y0 + dy, X0 + dx + 1000, Y0 + dy + 1000)
             for dx, dy in ((0, 0), (1000, 0), (0, 1000), (1000, 1000))]
    z = gpd.GeoDataFrame({
        "zone_id": ["BU03630000", "BU03630001", "BU03630100", "BU03630101"],
        "zone_name": ["A", "B", "C", "D"],
        "address_density": [1000.0, 3000.0, 5000.0, 7000.0],
        "dwellings": [100.0, 300.0, 500.0, 700.0],
        "area_ha": [100.0] * 4,
    }, geometry=boxes, crs=candidates.CRS)
    if codes:
        z["wijk_code"] = ["WK036300", "WK036300", "WK036301", "WK036301"]
        z["gemeente_code"] = "GM0363"
    return z


def make_access() -> list[pd.DataFrame]:
    transit = pd.DataFrame({
        "zone_id": ["BU03630000", "BU03630001", "BU03630100", "BU03630101"],
        "jobs_45min_transit": [40_000.0, 30_000.0, 20_000.0, 10_000.0],
        "jobs_30min_transit": [4.0, 3.0, 2.0, 1.0],
        "snap_distance_m": [1.0, 2.0, 3.0, 4.0],
    })
    bike = pd.DataFrame({
        "zone_id": ["BU03630000", "BU03630001", "BU03630100", "BU03630101"],
        "establishments_proxy_45min_bike": [10.0, 20.0, 30.0, 40.0],
    })
    return [transit, bike]


def make_stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "station_id": ["IC", "SPR", "TRAM", "BUS"],
        "station_name": ["Centraal", "Noord", "Tramhalte", "Bushalte"],
        "station_type": ["intercity", "sprinter", "tram", "bus"],
    }, geometry=gpd.points_from_xy([X0 + 500, X0 + 1500, X0 + 500, X0 + 1500],
                                   [Y0 + 500, Y0 + 1500, Y0 + 1500, Y0 + 500]),
        crs=candidates.CRS)


def make_vacancy(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    df["vacant_since"] = pd.to_datetime(df["vacant_since"])
    if "function" not in df:
        df["function"] = "kantoor"
    df["synthetic"] = False
    geom = gpd.points_from_xy(df.pop("x"), df.pop("y"))
    return gpd.GeoDataFrame(df, geometry=geom, crs=candidates.CRS)


def cfg(**kw) -> candidates.CandidatesConfig:
    kw.setdefault("vacancy", "vacancy")
    kw.setdefault("as_of", "2024-05-01")
    return candidates.CandidatesConfig(**kw)


# ------------------------------------------------------------------------------------------
# normalisation, dates, station decay (hand-computed oracles)
def test_percentile_rank_direction_and_ties():
    np.testing.assert_allclose(candidates.percentile_rank([10, 30, 20]), [0, 1, 0.5])
    np.testing.assert_allclose(candidates.percentile_rank([5, 5, 9, 1]), [0.5, 0.5, 1, 0])
    got = candidates.percentile_rank([np.nan, 2.0, 1.0])
    assert np.isnan(got[0]) and list(got[1:]) == [1.0, 0.0]
    assert candidates.percentile_rank([3.0]).tolist() == [0.5]


@pytest.mark.parametrize(("since", "as_of", "expected"), [
    ("2021-05-01", "2024-05-01", True),    # exactly 3 calendar years
    ("2021-05-02", "2024-05-01", False),   # one day less
    ("2021-05-01", "2024-04-30", False),
    ("2020-02-29", "2023-02-28", True),    # leap day + 3 years = 28 February
    ("2020-02-29", "2023-02-27", False),
    ("2021-02-28", "2024-02-28", True),
    ("2021-03-01", "2024-02-29", False),   # leap as_of: 2021-03-01 + 3 y = 2024-03-01
    ("2021-02-28", "2024-02-27", False),
])
def test_structural_boundaries(since, as_of, expected):
    assert candidates.is_structural(pd.Series([pd.Timestamp(since)]), as_of, 3).iloc[0] is \
        np.bool_(expected)


def test_structural_criterion_at_the_boundary():
    rows = [dict(object_id=f"o{i}", floor_area_m2=500.0, x=X0 + 200, y=Y0 + 200, vacant_since=d)
            for i, d in enumerate(["2021-05-01", "2021-05-02", "2023-05-01", "2024-05-01"])]
    res = candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                      make_stations(), config=cfg())
    c = res.candidates.set_index("object_id")
    assert c.loc["o0", "structural"] and c.loc["o0", "crit_structural"] == 1.0
    assert not c.loc["o1", "structural"]
    # one day short of 1096 days (2021-05-02 .. 2024-05-02)
    assert c.loc["o1", "crit_structural"] == pytest.approx(1095 / 1096)
    assert c.loc["o2", "crit_structural"] == pytest.approx(366 / 1096)  # 2024 is a leap year
    assert c.loc["o3", "crit_structural"] == 0.0
    assert "structurally vacant office" in c.loc["o0", "reason"]
    assert c.loc["o1", "reason"].startswith("vacant office")
    # a later as_of flips o1
    res2 = candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                       make_stations(), config=cfg(), as_of="2024-05-02")
    assert res2.candidates.set_index("object_id").loc["o1", "structural"]


def test_future_vacancy_date_is_an_error():
    rows = [dict(object_id="late", floor_area_m2=1.0, x=X0 + 1, y=Y0 + 1,
                 vacant_since="2024-05-02")]
    with pytest.raises(InputError, match="late"):
        candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                    config=cfg())


def test_station_distance_decay_by_type():
    ic_x, ic_y = X0 + 500, Y0 + 500
    rows = [
        dict(object_id="ic450", x=ic_x + 450, y=ic_y),          # intercity, full score
        dict(object_id="ic1000", x=ic_x, y=ic_y - 1000 + 1e-9),  # halfway 800–1200
        dict(object_id="far", x=ic_x - 450, y=ic_y - 1400),      # nothing within reach
        dict(object_id="spr700", x=X0 + 1500 - 700, y=Y0 + 1500 + 0.0),  # sprinter 700 m
    ]
    for r in rows:
        r.update(floor_area_m2=100.0, vacant_since="2020-01-01")
    # 'far' lies outside the zones: give it a zone by extending the test world
    zones = make_zones()
    zones.loc[0, "geometry"] = shapely.box(X0 - 2000, Y0 - 2000, X0 + 1000, Y0 + 1000)
    res = candidates.score_candidates(make_vacancy(rows), zones, make_access(),
                                      make_stations(), config=cfg())
    c = res.candidates.set_index("object_id")
    assert c.loc["ic450", "crit_station"] == 1.0
    assert c.loc["ic450", "station_name"] == "Centraal"
    assert c.loc["ic450", "station_distance_m"] == pytest.approx(450)
    assert c.loc["ic1000", "crit_station"] == pytest.approx(0.5)
    # sprinter 700 m: 0.8 · (1000 − 700) / 400 = 0.6; the intercity is √(300²+1000²) ≈ 1044 m:
    # 1.0 · (1200 − 1044) / 400 ≈ 0.39 → the sprinter wins
    assert c.loc["spr700", "crit_station"] == pytest.approx(0.6)
    assert c.loc["spr700", "station_type"] == "sprinter"
    assert c.loc["spr700", "within_station_radius"]
    # no scoring station: nearest HOV station reported, criterion 0, outside the radius
    assert c.loc["far", "crit_station"] == 0.0
    assert not c.loc["far", "within_station_radius"]
    assert c.loc["far", "station_name"] == "Centraal"
    assert c.loc["far", "station_distance_m"] == pytest.approx(np.hypot(450, 1400))
    assert "nearest rail/metro station 1,470 m (Centraal)" in c.loc["far", "reason"]
    assert "450 m from an intercity station (Centraal)" in c.loc["ic450", "reason"]
    assert "700 m from a sprinter station (Noord)" in c.loc["spr700", "reason"]


def test_station_radius_model():
    r = candidates.StationRadius(peak=0.8, full_m=600, zero_m=1000)
    np.testing.assert_allclose(r.value([0, 600, 800, 1000, 5000]), [0.8, 0.8, 0.4, 0, 0])
    step = candidates.StationRadius(peak=1.0, full_m=500, zero_m=500)
    np.testing.assert_allclose(step.value([500, 500.1]), [1.0, 0.0])
    with pytest.raises(ValidationError):
        candidates.StationRadius(full_m=900, zero_m=800)


def test_criteria_directions_and_access_column_choice():
    # one candidate per zone, otherwise identical
    centres = [(X0 + 100, Y0 + 100), (X0 + 1900, Y0 + 100), (X0 + 100, Y0 + 1900),
               (X0 + 1900, Y0 + 1900)]
    rows = [dict(object_id=f"z{i}", x=x, y=y, floor_area_m2=100.0 * (i + 1),
                 vacant_since="2022-01-01") for i, (x, y) in enumerate(centres)]
    res = candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                      None, config=cfg())
    assert res.params["access_columns"] == {"transit_access": "jobs_45min_transit",
                                            "bike_access": "establishments_proxy_45min_bike"}
    c = res.candidates.set_index("object_id").loc[["z0", "z1", "z2", "z3"]]
    np.testing.assert_allclose(c["crit_transit_access"], [1, 2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(c["crit_bike_access"], [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(c["crit_floor_area"], [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(c["zone_density_pct"], [0, 1 / 3, 2 / 3, 1])
    # underuse = clip(mean(access pct) - density pct, 0, 1)
    access_pct = (np.array([1, 2 / 3, 1 / 3, 0]) + np.array([0, 1 / 3, 2 / 3, 1])) / 2
    np.testing.assert_allclose(c["crit_underuse"],
                               np.clip(access_pct - np.array([0, 1 / 3, 2 / 3, 1]), 0, 1))
    assert "station" not in res.weights  # no stations layer → inactive
    assert not res.criteria.set_index("criterion").loc["station", "active"]
    # score = Σ w·crit / Σ w, hand-computed for z0
    w = res.weights
    expect = sum(w[k] * c.loc["z0", f"crit_{k}"] for k in w) / sum(w.values())
    assert c.loc["z0", "score"] == pytest.approx(expect)


def test_explicit_access_columns_and_unknown_weight():
    rows = [dict(object_id="a", x=X0 + 10, y=Y0 + 10, floor_area_m2=10.0,
                 vacant_since="2020-01-01")]
    res = candidates.score_candidates(
        make_vacancy(rows), make_zones(), make_access(), None,
        config=cfg(access_columns={"car_access": "jobs_30min_transit"},
                   weights={"car_access": 0.5}))
    assert "crit_car_access" in res.candidates.columns
    assert "car accessibility" in res.candidates.loc[0, "reason"]
    with pytest.raises(InputError, match="stationn"):
        candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(), None,
                                    config=cfg(), weights={"stationn": 1.0})
    wijk = [a.assign(zone_id=["WK1", "WK2", "WK3", "WK4"]) for a in make_access()]
    with pytest.raises(InputError, match="matches"):
        candidates.score_candidates(make_vacancy(rows), make_zones(), wijk, None, config=cfg())
    with pytest.raises(InputError, match="not found"):
        candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(), None,
                                    config=cfg(access_columns={"car_access": "nope"}))


# ------------------------------------------------------------------------------------------
# exclusions
def test_exclusions_are_reported_not_dropped():
    rows = [
        dict(object_id="keep", x=X0 + 100, y=Y0 + 100),
        dict(object_id="natura", x=X0 + 900, y=Y0 + 900),
        dict(object_id="both", x=X0 + 950, y=Y0 + 950),
        dict(object_id="outside", x=X0 - 500, y=Y0 - 500),
        dict(object_id="noacc", x=X0 + 1500, y=Y0 + 1500),
    ]
    for r in rows:
        r.update(floor_area_m2=1000.0, vacant_since="2019-01-01")
    natura = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 800, Y0 + 800, X0 + 1000, Y0 + 1000)],
                              crs=candidates.CRS)
    noise = gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 950, Y0 + 950).buffer(20)],
                             crs=candidates.CRS)
    acc = make_access()
    acc[0].loc[3, "jobs_45min_transit"] = np.nan
    res = candidates.score_candidates(make_vacancy(rows), make_zones(), acc, make_stations(),
                                      {"natura2000": natura, "noise": noise}, config=cfg())
    assert res.candidates["object_id"].tolist() == ["keep"]
    ex = res.excluded.set_index("object_id")["exclusion_reason"]
    assert ex["natura"] == "inside constraint 'natura2000'"
    assert ex["both"] == "inside constraint 'natura2000'; inside constraint 'noise'"
    assert ex["outside"] == "outside the zones layer"
    assert ex["noacc"] == "zone BU03630101 has no jobs_45min_transit"
    assert len(res.candidates) + len(res.excluded) == len(rows)
    # polygons (building footprints) touching a constraint are excluded too
    pand = make_vacancy([dict(object_id="p", x=0, y=0, floor_area_m2=5.0,
                              vacant_since="2020-01-01")])
    pand = pand.set_geometry([shapely.box(X0 + 700, Y0 + 700, X0 + 810, Y0 + 810)])
    res2 = candidates.score_candidates(pand, make_zones(), make_access(), None,
                                       {"natura2000": natura}, config=cfg())
    assert res2.excluded["object_id"].tolist() == ["p"] and res2.candidates.empty
    with pytest.raises(InputError, match="polygon"):
        candidates.score_candidates(pand, make_zones(), make_access(), None,
                                    {"pts": make_stations()}, config=cfg())


# ------------------------------------------------------------------------------------------
# ranking invariants (hypothesis)
@st.composite
def worlds(draw):
    n = draw(st.integers(2, 10))
    xs = draw(st.lists(st.floats(5, 1995), min_size=n, max_size=n))
    ys = draw(st.lists(st.floats(5, 1995), min_size=n, max_size=n))
    areas = draw(st.lists(st.integers(20, 20_000), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 3000), min_size=n, max_size=n))
    acc = draw(st.lists(st.integers(0, 5), min_size=8, max_size=8))
    dens = draw(st.lists(st.integers(0, 5), min_size=4, max_size=4))
    weights = draw(st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5, 1.0]),
                            min_size=6, max_size=6))
    twins = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return xs, ys, areas, days, acc, dens, weights, twins


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_dominated_candidate_never_outranks_dominator(world):
    xs, ys, areas, days, acc, dens, weights, twins = world
    as_of = pd.Timestamp("2024-05-01")
    rows = []
    for i in range(len(xs)):
        base = dict(x=X0 + xs[i], y=Y0 + ys[i], floor_area_m2=float(areas[i]),
                    vacant_since=as_of - pd.Timedelta(days=days[i]))
        rows.append(dict(base, object_id=f"c{i}"))
        if twins[i]:  # same place, strictly smaller and more recently vacant: dominated
            rows.append(dict(base, object_id=f"t{i}", floor_area_m2=areas[i] - 10.0,
                             vacant_since=as_of - pd.Timedelta(days=max(days[i] - 30, 0))))
    zones = make_zones()
    zones["address_density"] = np.array(dens, dtype=float)
    a = make_access()
    a[0]["jobs_45min_transit"] = np.array(acc[:4], dtype=float)
    a[1]["establishments_proxy_45min_bike"] = np.array(acc[4:], dtype=float)
    names = ["transit_access", "bike_access", "station", "underuse", "structural", "floor_area"]
    w = dict(zip(names, weights, strict=True))
    if sum(w.values()) == 0:
        w["station"] = 1.0
    res = candidates.score_candidates(make_vacancy(rows), zones, a, make_stations(),
                                      config=cfg(), weights=w)
    c = res.candidates
    crit = c[[f"crit_{k}" for k in res.weights]].to_numpy()
    rank = c["rank"].to_numpy()
    assert sorted(rank) == list(range(1, len(c) + 1))
    ge = (crit[:, None, :] >= crit[None, :, :]).all(axis=2)
    gt = (crit[:, None, :] > crit[None, :, :]).any(axis=2)
    dom = ge & gt  # dom[i, j]: i dominates j
    ii, jj = np.nonzero(dom)
    assert (rank[ii] < rank[jj]).all()
    # twins are dominated in raw terms, so they always rank below their original
    r = c.set_index("object_id")["rank"]
    for i, t in enumerate(twins):
        if t:
            assert r[f"c{i}"] < r[f"t{i}"]
    # scores lie in [0, 1] and follow the rank order
    s = c.sort_values("rank")["score"].to_numpy()
    assert (np.diff(s) <= 0).all() and s.min() >= 0 and s.max() <= 1


# ------------------------------------------------------------------------------------------
# real data: synthetic Amsterdam vacancy, real buurten and real station coordinates
def canonical_buurten() -> gpd.GeoDataFrame:
    g = gpd.read_parquet(RAW / "cbs_kwb2020_amsterdam_buurten.parquet")
    g = g.drop(columns=["centroid", "res_centroid"]).to_crs(28992)
    return g.rename(columns={"BU_CODE": "zone_id", "BU_NAAM": "zone_name",
                             "a_bedv": "establishments", "ste_oad": "address_density",
                             "a_woning": "dwellings", "a_opp_ha": "area_ha"})


INTERCITY = {"ASD", "ASDZ", "ASS", "ASA", "ASB"}


def amsterdam_stations() -> gpd.GeoDataFrame:
    """NS stations in and around Amsterdam (RD coordinates from network.json)."""
    nodes = json.loads((RAW / "ns_rail" / "network.json").read_text())["nodes"]
    nodes = [n for n in nodes if "Amsterdam" in n["name_long"] or n["id"] in ("DVD", "DMN")]
    return gpd.GeoDataFrame({
        "station_id": [n["id"] for n in nodes],
        "station_name": [n["name_long"] for n in nodes],
        "station_type": ["intercity" if n["id"] in INTERCITY else "sprinter" for n in nodes],
    }, geometry=gpd.points_from_xy([n["x"] for n in nodes], [n["y"] for n in nodes]),
        crs=candidates.CRS)


def crowfly_access(z: gpd.GeoDataFrame) -> list[pd.DataFrame]:
    """Establishments within 6 km (transit stand-in) and 9 km (bike stand-in) of a centroid."""
    from scipy.spatial import cKDTree

    xy = np.column_stack([z.centroid.x, z.centroid.y])
    tree = cKDTree(xy)
    e = z["establishments"].to_numpy(dtype=float)
    return [pd.DataFrame({
        "zone_id": z["zone_id"],
        "establishments_proxy_45min_transit": [e[i].sum() for i in tree.query_ball_point(xy, 6000)],
        "establishments_proxy_45min_bike": [e[i].sum() for i in tree.query_ball_point(xy, 9000)],
    })]


@pytest.fixture(scope="module")
def amsterdam():
    z = canonical_buurten()
    v = synthetic.vacancy_sample(z, seed=3, as_of="2024-01-01")
    st_ = amsterdam_stations()
    natura = gpd.GeoDataFrame(  # a polygon around Amsterdam Zuid, as a constraint stand-in
        geometry=[st_.set_index("station_id").geometry["ASDZ"].buffer(300)], crs=candidates.CRS)
    out = candidates.analyse(v, z, crowfly_access(z), st_, {"zuid_300m": natura},
                             config=cfg(synthetic=True, vacancy=None, as_of="2024-01-01",
                                        stability={"n_random": 30}))
    return z, v, st_, out


REASON_RE = re.compile(
    r"^(?P<status>structurally vacant|vacant) (?P<label>office|shop|business premises|other "
    r"building) \(since (?P<since>\d{4}-\d\d-\d\d), (?P<years>[\d.]+) years\), "
    r"(?P<area>[\d,]+) m²(?P<rest>.*)$")


def test_reasons_agree_with_columns(amsterdam):
    _, _, _, out = amsterdam
    c = out.candidates
    assert len(c) > 1000
    for row in c.to_dict("records"):
        m = REASON_RE.match(row["reason"])
        assert m, row["reason"]
        assert (m["status"] == "structurally vacant") == bool(row["structural"])
        assert m["label"] == candidates.FUNCTION_LABELS[row["function"]]
        assert pd.Timestamp(m["since"]) == pd.Timestamp(row["vacant_since"]).normalize()
        assert abs(float(m["years"]) - row["vacant_years"]) <= 0.05
        assert abs(int(m["area"].replace(",", "")) - row["floor_area_m2"]) <= 0.5
        rest = m["rest"]
        sm = re.search(r", ([\d,]+) m from an? (\w+) station \(([^)]+)\)", rest)
        nm = re.search(r", nearest rail/metro station ([\d,]+) m \(([^)]+)\)", rest)
        if row["crit_station"] > 0:
            assert sm and not nm
            assert abs(int(sm[1].replace(",", "")) - row["station_distance_m"]) <= 5
            assert sm[2] == row["station_type"] and sm[3] == row["station_name"]
            limit = candidates._default_radii()[row["station_type"]].zero_m
            assert row["station_distance_m"] < limit
        else:
            assert nm and not sm
            assert abs(int(nm[1].replace(",", "")) - row["station_distance_m"]) <= 5
            assert row["station_distance_m"] >= 1000 - 1e-6  # beyond every sprinter radius
        for crit, label in (("transit_access", "transit"), ("bike_access", "bike")):
            pct = row[f"crit_{crit}"]
            if pct >= 0.9:
                assert f"top 10% {label} accessibility" in rest
            elif pct >= 0.75:
                assert f"top 25% {label} accessibility" in rest
                assert f"top 10% {label}" not in rest
            else:
                pm = re.search(rf"{label} accessibility percentile (\d+)", rest)
                assert pm and int(pm[1]) == int(np.floor(pct * 100)) and int(pm[1]) < 75
        assert ("under-used zone" in rest) == bool(row["underuse_gap"] >= 0.25)
    # every branch of the reason text is exercised by this real-data case
    reasons = c["reason"]
    for phrase in ("structurally vacant office", "vacant shop", "from an intercity station",
                   "from a sprinter station", "nearest rail/metro station", "top 10% transit",
                   "top 25% bike", "transit accessibility percentile", "under-used zone"):
        assert reasons.str.contains(phrase, regex=False).any(), phrase


def test_real_run_outputs(amsterdam):
    z, v, st_, out = amsterdam
    c, ex = out.candidates, out.candidates_excluded
    assert len(c) + len(ex) == len(v)
    assert set(c["object_id"]).isdisjoint(ex["object_id"])
    # everything within 300 m of Amsterdam Zuid is excluded and reported
    zuid = st_.set_index("station_id").geometry["ASDZ"]
    near = v[v.distance(zuid) < 300]["object_id"]
    assert len(near) > 0 and set(near) <= set(ex["object_id"])
    assert (ex.set_index("object_id").loc[near, "exclusion_reason"]
            .str.contains("zuid_300m")).all()
    assert c["rank"].tolist() == list(range(1, len(c) + 1))
    assert c["synthetic"].all()
    assert any("SYNTHETIC" in n for n in out.notes)
    assert any("proxy" in n for n in out.notes)
    # densification: potential = floor area / 75 m², totals match the candidates
    d = out.densification_zones
    assert d["potential_dwellings"].sum() == pytest.approx(c["floor_area_m2"].sum() / 75)
    assert d["potential_dwellings_station"].sum() == pytest.approx(
        c.loc[c["within_station_radius"], "floor_area_m2"].sum() / 75)
    assert len(d) == len(z)
    # wijk codes derived from the buurt codes; gemeente summary for Amsterdam only
    g = out.candidates_summary_gemeente
    assert g["gemeente_code"].tolist() == ["GM0363"]
    share = g["share_station"].iloc[0]
    assert share == pytest.approx(d["potential_dwellings_station"].sum()
                                  / d["potential_dwellings"].sum())
    assert g["benchmark_status"].iloc[0] == ("below" if share < 0.6 else
                                             "above" if share > 0.8 else "within")
    w = out.candidates_summary_wijk
    assert w["wijk_code"].str.fullmatch(r"WK0363\d\d").all()
    assert w["potential_dwellings"].sum() == pytest.approx(d["potential_dwellings"].sum())
    # stability columns on the candidates
    assert (c["rank_best"] <= c["rank"]).all() and (c["rank_worst"] >= c["rank"]).all()
    assert (c["rank_max_move"] == np.maximum(c["rank"] - c["rank_best"],
                                             c["rank_worst"] - c["rank"])).all()


def test_write_outputs_roundtrip(amsterdam, tmp_path):
    import pyogrio

    _, _, _, out = amsterdam
    paths = candidates.write_outputs(out, tmp_path / "cand.gpkg")
    names = {r[0] for r in pyogrio.list_layers(paths["gpkg"])}
    assert names == {"candidates", "candidates_excluded", "densification_zones",
                     "candidates_summary_wijk", "candidates_summary_gemeente"}
    back = gpd.read_file(paths["gpkg"], layer="candidates")
    assert back.crs.equals(candidates.CRS)
    assert back["reason"].tolist() == out.candidates["reason"].tolist()
    tab = pd.read_csv(paths["stability"])
    assert len(tab) == len(out.candidates_stability)
    assert not list(tmp_path.glob(".cand*"))  # no temp files left


# ------------------------------------------------------------------------------------------
# densification on the hand-made world
def test_densification_and_benchmark_hand_computed():
    rows = [
        dict(object_id="a", x=X0 + 500, y=Y0 + 600, floor_area_m2=1500.0),   # 100 m from IC
        dict(object_id="b", x=X0 + 200, y=Y0 + 200, floor_area_m2=750.0),    # ~424 m from IC
        dict(object_id="c", x=X0 + 1950, y=Y0 + 50, floor_area_m2=3000.0),   # far from HOV
    ]
    for r in rows:
        r["vacant_since"] = "2018-01-01"
    res = candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                      make_stations(), config=cfg())
    d = candidates.densification_zones(res, make_zones(), m2_per_dwelling=75.0)
    dz = d.set_index("zone_id")
    assert dz.loc["BU03630000", "potential_dwellings"] == pytest.approx(2250 / 75)
    assert dz.loc["BU03630000", "potential_dwellings_station"] == pytest.approx(2250 / 75)
    assert dz.loc["BU03630001", "potential_dwellings"] == pytest.approx(40.0)
    assert dz.loc["BU03630001", "potential_dwellings_station"] == 0.0
    assert dz.loc["BU03630100", "n_candidates"] == 0
    gm = candidates.summarise_potential(d, "gemeente")
    assert gm["share_station"].iloc[0] == pytest.approx(30 / 70)
    assert gm["benchmark_status"].iloc[0] == "below"
    wk = candidates.summarise_potential(d, "wijk").set_index("wijk_code")
    assert wk.loc["WK036300", "benchmark_status"] == "below"
    assert wk.loc["WK036301", "benchmark_status"] == "no potential"
    assert np.isnan(wk.loc["WK036301", "share_station"])
    # 120 m² per dwelling halves... scales the potential
    d2 = candidates.densification_zones(res, make_zones(), m2_per_dwelling=150.0)
    assert d2["potential_dwellings"].sum() == pytest.approx(35.0)
    # without explicit codes the wijk code comes from the CBS buurt code
    d3 = candidates.densification_zones(res, make_zones(codes=False))
    assert d3["wijk_code"].tolist() == ["WK036300", "WK036300", "WK036301", "WK036301"]
    other = make_zones(codes=False)
    other["zone_id"] = ["1011", "1012", "1013", "1014"]
    with pytest.raises(InputError, match="wijk_code"):
        candidates.summarise_potential(
            candidates.densification_zones(
                candidates.score_candidates(make_vacancy(rows), other, None, None,
                                            config=cfg()), other), "wijk")


# ------------------------------------------------------------------------------------------
# stability
def _small_scored(n: int = 25, seed: int = 0) -> candidates.CandidateResult:
    rng = np.random.default_rng(seed)
    rows = [dict(object_id=f"s{i:02d}", x=X0 + rng.uniform(0, 2000), y=Y0 + rng.uniform(0, 2000),
                 floor_area_m2=float(rng.integers(50, 5000)),
                 vacant_since=pd.Timestamp("2024-05-01") - pd.Timedelta(days=int(rng.integers(0, 2500))))
            for i in range(n)]
    return candidates.score_candidates(make_vacancy(rows), make_zones(), make_access(),
                                       make_stations(), config=cfg())


def test_stability_zero_change_identical_ranks():
    res = _small_scored()
    rep = candidates.stability_report(res.candidates, res.weights, top_n=5, delta=0.0,
                                      n_random=10)
    assert (rep.scenarios["spearman"] == 1.0).all()
    assert (rep.scenarios["top_n_unchanged"] == 1.0).all()
    assert (rep.scenarios["max_rank_move"] == 0).all()
    assert (rep.per_candidate["rank_max_move"] == 0).all()


def test_stability_against_independent_recomputation():
    res = _small_scored()
    c = res.candidates
    rep = candidates.stability_report(c, res.weights, top_n=5, delta=0.2, n_random=20, seed=4)
    sc = rep.scenarios.set_index("scenario")
    assert len(sc) == 1 + 2 * 6 + 20
    # independent oracle: weighted mean with pandas, ranks by scipy, ρ by scipy
    w = dict(res.weights)
    w["station"] *= 1.2
    score = sum(w[k] * c[f"crit_{k}"] for k in w) / sum(w.values())
    new_rank = stats.rankdata(-score.to_numpy(), method="ordinal")
    rho = stats.spearmanr(c["rank"], new_rank).statistic
    assert sc.loc["station+20%", "spearman"] == pytest.approx(rho)
    assert sc.loc["station+20%", "max_rank_move"] == np.abs(new_rank - c["rank"]).max()
    top_base = set(c.loc[c["rank"] <= 5, "object_id"])
    top_new = set(c["object_id"][new_rank <= 5])
    assert sc.loc["station+20%", "top_n_unchanged"] == len(top_base & top_new) / 5
    assert sc.loc["station+20%", "w_station"] == pytest.approx(w["station"] / sum(w.values()))
    # Dirichlet draws: reproducible with the seed, centred on the base weights
    rep2 = candidates.stability_report(c, res.weights, top_n=5, delta=0.2, n_random=20, seed=4)
    pd.testing.assert_frame_equal(rep.scenarios, rep2.scenarios)
    dr = rep.scenarios[rep.scenarios["kind"] == "dirichlet"]
    assert not np.allclose(dr["w_station"], dr["w_station"].iloc[0])
    assert dr["w_station"].mean() == pytest.approx(0.25, abs=0.05)
    assert (rep.scenarios["spearman"] <= 1.0).all()


def test_parse_weights():
    assert candidates.parse_weights("station=0.4, transit_access=0.3") == {
        "station": 0.4, "transit_access": 0.3}
    assert candidates.parse_weights("") == {}
    for bad in ("station", "station=-1", "station=abc", "=2"):
        with pytest.raises(InputError):
            candidates.parse_weights(bad)


# ------------------------------------------------------------------------------------------
# config and pipeline step
def test_config_validation():
    with pytest.raises(ValidationError, match="synthetic"):
        candidates.CandidatesConfig()
    with pytest.raises(ValidationError, match="extra"):
        candidates.CandidatesConfig(synthetic=True, wieghts={})
    with pytest.raises(ValidationError):
        candidates.CandidatesConfig(synthetic=True, weights={"station": -1})
    with pytest.raises(ValidationError):
        candidates.CandidatesConfig(synthetic=True, radii={"hovercraft": {"full_m": 1}})
    c = candidates.CandidatesConfig(synthetic=True, weights={"station": 0.5},
                                    radii={"tram": {"peak": 0.5, "full_m": 200, "zero_m": 400}})
    assert c.effective_weights()["station"] == 0.5
    assert c.effective_weights({"station": 0.1})["station"] == 0.1
    assert c.effective_weights()["floor_area"] == candidates.DEFAULT_WEIGHTS["floor_area"]
    assert c.effective_radii()["tram"].zero_m == 400
    assert c.effective_radii()["intercity"].full_m == 800


def test_pipeline_step_synthetic(tmp_path):
    z = canonical_buurten()
    z = z[z["zone_id"].str.startswith(("BU036300", "BU036301", "BU03632"))].copy()
    acc = crowfly_access(z)[0]
    conf = candidates.CandidatesConfig(synthetic=True, seed=2, zones="buurten",
                                       stations="stations", as_of="2024-01-01",
                                       stability={"n_random": 5})
    ctx = RunContext(study=SimpleNamespace(candidates=conf), root=tmp_path)
    ctx.layers.update({"buurten": z, "stations": amsterdam_stations()})
    ctx.results["access_transit"] = acc
    candidates.pipeline_step(ctx)
    for name in ("candidates", "candidates_excluded", "densification_zones",
                 "candidates_summary_wijk", "candidates_summary_gemeente"):
        assert name in ctx.results
    assert ctx.results["candidates"]["synthetic"].all()
    assert "candidates_stability" in ctx.tables
    assert any("SYNTHETIC" in n for n in ctx.notes)
    assert any("2024-01-01" in n for n in ctx.notes)
    # a missing layer name is a clear error
    ctx2 = RunContext(study=SimpleNamespace(
        candidates=candidates.CandidatesConfig(vacancy="leegstand")), root=tmp_path)
    ctx2.layers["buurten"] = z
    with pytest.raises(InputError, match="leegstand"):
        candidates.pipeline_step(ctx2)
    # no candidates section: nothing happens
    ctx3 = RunContext(study=SimpleNamespace(candidates=None), root=tmp_path)
    candidates.pipeline_step(ctx3)
    assert not ctx3.results


def test_bad_vacancy_inputs():
    good = dict(object_id="a", x=X0 + 1, y=Y0 + 1, floor_area_m2=10.0, vacant_since="2020-01-01")
    for change, msg in ((dict(floor_area_m2=np.nan), "floor_area_m2"),
                        (dict(function="kerk"), "function"),
                        (dict(vacant_since=None), "vacant_since")):
        v = make_vacancy([dict(good, **change)])
        with pytest.raises(InputError, match=msg):
            candidates.score_candidates(v, make_zones(), make_access(), config=cfg())
    v = make_vacancy([good, good])
    with pytest.raises(InputError, match="duplicate"):
        candidates.score_candidates(v, make_zones(), make_access(), config=cfg())
    with pytest.raises(InputError, match="EPSG:28992"):
        candidates.score_candidates(make_vacancy([good]).to_crs(4326), make_zones(),
                                    make_access(), config=cfg())


def test_cli_candidates(tmp_path):
    from typer.testing import CliRunner

    from ruimtekit.cli import app

    z = canonical_buurten()
    z = z[z["zone_id"].str.startswith(("BU036300", "BU03632"))]
    zones_file = tmp_path / "buurten.gpkg"
    z.to_file(zones_file, layer="buurten")
    acc = gpd.GeoDataFrame(crowfly_access(z)[0], geometry=z.geometry.to_numpy(),
                           crs=candidates.CRS)
    acc_file = tmp_path / "access.gpkg"
    acc.to_file(acc_file, layer="access_transit")
    out = tmp_path / "cand.gpkg"
    args = ["candidates", "--zones", str(zones_file), "--synthetic", "--seed", "5",
            "-a", str(acc_file), "--stations", str(RAW / "ns_rail" / "network.json"),
            "--weights", "station=0.5,floor_area=0", "--as-of", "2024-01-01", "-o", str(out),
            "--quiet"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    c = gpd.read_file(out, layer="candidates")
    assert c["synthetic"].all() and c["rank"].min() == 1
    # the CLI equals the Python API with the same settings
    v = synthetic.vacancy_sample(gpd.read_file(zones_file, layer="buurten"), seed=5,
                                 as_of="2024-01-01")
    assert len(c) == len(v)
    assert (tmp_path / "cand_stability.csv").is_file()
    bad = CliRunner().invoke(app, args[:-3] + ["--weights", "station=-1", "-o", str(out)])
    assert bad.exit_code == 2 and "cannot read weight" in bad.output
    both = CliRunner().invoke(app, args + ["--vacancy", str(zones_file)])
    assert both.exit_code != 0


def test_access_column_auto_choice():
    cols = ["zone_id", "jobs_45min_bike_transit", "jobs_30min_bike", "jobs_60min_bike",
            "establishments_proxy_45min_bike", "jobs_exp0.05_transit", "jobs_45min_transit",
            "jobs_50min_transit"]
    frame = pd.DataFrame({c: ["BU1"] if c == "zone_id" else [1.0] for c in cols})
    _, chosen = candidates.access_table([frame])
    # jobs preferred over the establishments proxy, then the cutoff closest to 45 min;
    # bike–transit (bike to the station) is neither the bike nor the transit criterion
    assert chosen == {"transit_access": "jobs_45min_transit", "bike_access": "jobs_30min_bike"}
    _, chosen = candidates.access_table([frame.drop(columns=["jobs_30min_bike",
                                                             "jobs_60min_bike"])])
    assert chosen["bike_access"] == "establishments_proxy_45min_bike"
    with pytest.raises(InputError, match="zone_id"):
        candidates.access_table([frame.drop(columns="zone_id")])


def test_all_excluded_still_gives_outputs():
    rows = [dict(object_id="o", x=X0 - 10, y=Y0 - 10, floor_area_m2=100.0,
                 vacant_since="2020-01-01")]
    out = candidates.analyse(make_vacancy(rows), make_zones(), make_access(), make_stations(),
                             config=cfg())
    assert out.candidates.empty and out.candidates_excluded["object_id"].tolist() == ["o"]
    assert out.densification_zones["potential_dwellings"].sum() == 0
    assert out.candidates_summary_gemeente["benchmark_status"].tolist() == ["no potential"]
