"""NS rail network: tariff matrix, modelled station times, zone-level times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ruimtekit._errors import InputError
from ruimtekit.analysis import transit_access
from ruimtekit.engine import rail
from ruimtekit.engine.measures import Decay, MeasureSpec
from transit_fixtures import CONSTANT_LEGS

RAW = Path("data/raw")

RAIL = "data/raw/ns_rail"


@pytest.fixture(scope="module")
def net():
    return rail.build_rail_network(RAIL)


@pytest.fixture(scope="module")
def times(net):
    return rail.station_times(net)


def test_tariff_parse():
    t = rail.read_tariff_distances(f"{RAIL}/tariff-distances-2022-01.csv")
    assert t.shape == (399, 399)
    assert np.isnan(np.diag(t.to_numpy())).all()
    assert t.loc["UT", "ASD"] == 39 and t.loc["ASD", "UT"] == 39
    off = ~np.eye(len(t), dtype=bool)
    v = t.to_numpy()
    assert (v[off] > 0).all()
    np.testing.assert_array_equal(v[off], v.T[off])  # tariff distances are symmetric


def test_tariff_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Station,UT,ASD\nUT,XXX,39\nASD,abc,XXX\n")
    with pytest.raises(InputError, match="non-numeric distance 'abc'"):
        rail.read_tariff_distances(p)
    p.write_text("Station,UT,ASD\nUT,XXX,39\n")
    with pytest.raises(InputError, match="not a square"):
        rail.read_tariff_distances(p)


def test_network_shape(net):
    assert net.n_stations == 395
    assert len(net.links) == 2 * 1141 - 1140  # both directions of every service link
    assert {"intercity", "sprinter"} == set(net.links["service"])
    # UT–ASD (39 units, skips Amsterdam Amstel/Bijlmer etc.) is an intercity link
    ut_asd = net.links[(net.links["source"] == "UT") & (net.links["target"] == "ASD")]
    assert ut_asd["service"].iloc[0] == "intercity"


def test_link_speed_model():
    m = rail.RailModel()
    t = m.link_minutes(np.array([1.0, 4.0, 30.0, 60.0]))
    speed = np.array([1.0, 4.0, 30.0, 60.0]) / ((t - m.dwell_min) / 60)
    assert speed[0] == pytest.approx(50) and speed[2] == pytest.approx(115)
    assert np.all(np.diff(speed) >= 0)


def test_ut_asd_plausible_and_symmetric(times):
    # timetable: ~27 min in vehicle, IC every ~10-15 min → 25-40 min incl. expected wait
    assert 25 <= times.loc["UT", "ASD"] <= 40
    assert times.loc["UT", "ASD"] == pytest.approx(times.loc["ASD", "UT"], rel=0.1)
    assert 3 * 60 <= times.loc["GN", "MT"] <= 5 * 60  # Groningen–Maastricht
    m = times.to_numpy()
    assert np.isfinite(m).all()
    assert (np.diag(m) == 0).all()
    # triangle inequality up to the wait counted once per trip
    wait = rail.RailModel().headway_intercity_min / 2
    i, j, k = (times.index.get_loc(s) for s in ("UT", "ASD", "RTD"))
    assert m[i, k] <= m[i, j] + m[j, k]
    assert m[i, k] >= 0 and wait > 0


def test_zone_times_match_brute_force(net):
    import geopandas as gpd


    z = gpd.read_parquet("data/raw/cbs_pc4_2021.parquet")
    z = z[z["pc4"].isin([1011, 1012, 1017, 3511, 3512, 3011, 9711, 6211, 2511, 7511])]
    z = z.reset_index(drop=True)
    z["zone_id"] = z["pc4"].astype(str)
    t = rail.zone_times(z, net, access_mode="bike", k_nearest=5,
                        params=CONSTANT_LEGS)  # the hand-written legs below
    c = z.geometry.centroid
    zx, zy = c.x.to_numpy(), c.y.to_numpy()
    d = np.hypot(zx[:, None] - net.x[None, :], zy[:, None] - net.y[None, :])
    S = net.station_seconds()
    order = np.argsort(d, axis=1)[:, :5]
    exp = np.full((len(z), len(z)), np.inf)
    # hand-written leg times: bike 15 km/h × 1.25 detour + 1 min parking, at most 20 min;
    # walking 4.8 km/h × 1.25, at most 15 min; the direct bike trip up to 120 min
    for o in range(len(z)):
        for a in order[o]:
            ta = np.ceil(60 + d[o, a] * 1.25 / (15 / 3.6))
            if ta > 20 * 60:
                continue
            for dd in range(len(z)):
                for e in order[dd]:
                    te = np.ceil(d[dd, e] * 1.25 / (4.8 / 3.6))
                    if te > 15 * 60:
                        continue
                    exp[o, dd] = min(exp[o, dd], ta + S[a, e] + te)
    dz = np.hypot(zx[:, None] - zx[None, :], zy[:, None] - zy[None, :])
    direct = np.rint(60 + dz * 1.25 / (15 / 3.6))
    direct[direct > 120 * 60] = np.inf
    np.fill_diagonal(direct, 0)
    np.testing.assert_allclose(t, np.minimum(exp, direct))
    assert np.isfinite(direct).sum() > len(z)  # direct trips beyond the access limit
    ids = z["zone_id"].tolist()
    ut_ams = t[ids.index("3511"), ids.index("1012")] / 60
    assert 30 <= ut_ams <= 70  # bike to Utrecht CS, IC, walk into Amsterdam centre


def test_bad_network_file(tmp_path):
    p = tmp_path / "network.json"
    p.write_text('{"nodes": [{"id": "A", "x": 1, "y": 2}], "links": [{"source": "A", '
                 '"target": "B"}]}')
    with pytest.raises(InputError, match="unknown stations"):
        rail.build_rail_network(p, f"{RAIL}/tariff-distances-2022-01.csv")


def test_national_bike_rail_never_below_bike_alone():
    """The demo's nl_pc4_rail block against its nl_pc4 bike block on the real inputs
    (4,068 PC4 zones, 2,808 CBS wijk job points, NS network): cycling to the station,
    the train and walking on, or cycling all the way — never fewer jobs than by bike
    alone, in every PC4, for every cutoff and the decay measure; and the train adds jobs
    where a station is within reach."""
    from ruimtekit.analysis import accessibility
    from ruimtekit.io import layers

    pc4 = layers.read_zones(RAW / "cbs_pc4_2021.parquet", level="pc4")
    jobs = layers.read_jobs(RAW / "cbs_wijk_banen_2014.csv",
                            geometry=RAW / "cbs_wijk_centroids_2015.geojson",
                            join_on="wk_code=code", columns={"jobs": "banen_werkplaats"})
    decay = Decay("exponential", beta=0.05)
    m = MeasureSpec(cutoffs=(30, 45, 60), decays=[decay])
    bike = accessibility.crowfly_access(pc4, jobs, opportunity="jobs", measures=m, mode="bike")
    net = rail.build_rail_network(RAW / "ns_rail")
    br = transit_access.zone_accessibility(net, pc4, jobs, access_mode="bike", measures=m)
    located = pc4.geometry.notna().to_numpy() & ~pc4.geometry.is_empty.to_numpy()
    assert located.sum() == len(pc4) - 1  # PC4 5028 has no geometry (NaN in both)
    for m in ("30min", "45min", "60min", "exp0.05"):
        a = br[f"jobs_{m}_bike_transit"].to_numpy()[located]
        b = bike[f"jobs_{m}_bike"].to_numpy()[located]
        assert np.isfinite(a).all() and np.isfinite(b).all()
        assert (a >= b - 1e-9 * np.abs(b)).all(), m
    a45 = br["jobs_45min_bike_transit"].to_numpy()[located]
    b45 = bike["jobs_45min_bike"].to_numpy()[located]
    has_station = ~br["no_stop_bike_transit"].to_numpy()[located].astype(bool)
    assert (a45[~has_station] == b45[~has_station]).all()  # no station: bike alone
    assert np.mean(a45[has_station] > b45[has_station]) > 0.5
    ids = br["zone_id"].astype(str).to_numpy()
    ut = float(br["jobs_45min_bike_transit"].to_numpy()[ids == "3511"][0])
    assert ut > 1.3 * float(bike["jobs_45min_bike"].to_numpy()[ids == "3511"][0])
