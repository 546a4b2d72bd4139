"""``ruimtekit access`` parity: opportunities from a table joined by code (the bundled
national CBS jobs table), from points or from zones; point origins; repeatable options
and comma lists alike."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ruimtekit.cli import app
from ruimtekit.engine import impedance

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
BANEN = RAW / "cbs_wijk_banen_2014.csv"
CENTROIDS = RAW / "cbs_wijk_centroids_2015.geojson"
GEMEENTEN = RAW / "cbs_gemeenten_2022.geojson"
TOTAL_JOBS = 7_650_364  # sum of banen_werkplaats over the 2,808 wijken of the table

runner = CliRunner()


def _access(tmp_path: Path, *args: str, name: str = "a.gpkg") -> gpd.GeoDataFrame:
    out = tmp_path / name
    res = runner.invoke(app, ["access", *args, "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return gpd.read_file(out, layer="access")


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    d = tmp_path_factory.mktemp("national")
    return _access(d, "--zones", str(GEMEENTEN), "--network", "crowfly", "--mode", "car",
                   "--opportunities", str(BANEN), "--opportunities-geometry", str(CENTROIDS),
                   "--join-on", "wk_code=code", "--cutoff", "30", "--cutoff", "1440")


def test_national_jobs_table_joined_to_wijk_centroids(national):
    assert len(national) == 345
    # a day by car reaches every job in the country: the whole table, nothing dropped
    np.testing.assert_allclose(national["jobs_1440min_car"], TOTAL_JOBS)
    assert (national["jobs_30min_car"] < national["jobs_1440min_car"]).all()


def test_national_30min_equals_direct_sum(national):
    """Oracle: the jobs of the wijk centroids within 30 crow-fly car minutes of
    Amsterdam's and Utrecht's zone points, summed directly."""
    z = gpd.read_file(GEMEENTEN).to_crs(28992)
    z = z.set_index(z.columns[z.columns.str.lower().isin(["statcode", "gm_code"])][0])
    jobs = pd.read_csv(BANEN)
    cent = gpd.read_file(CENTROIDS).set_crs(28992, allow_override=True)
    pts = cent.set_index("code").loc[jobs["wk_code"]]
    for code in ("GM0363", "GM0344"):
        c = z.loc[code].geometry.centroid
        d = np.hypot(pts.geometry.x.to_numpy() - c.x, pts.geometry.y.to_numpy() - c.y)
        t = np.rint(impedance.crowfly_seconds(d, "car"))
        want = jobs["banen_werkplaats"].to_numpy()[t <= 1800].sum()
        got = national.set_index("zone_id").loc[code, "jobs_30min_car"]
        assert got == pytest.approx(want)
        assert got > 300_000  # fitted (urban) car curve: ~10 km in 30 min


def test_table_without_geometry_joins_to_the_zones(tmp_path):
    """A jobs CSV with PC4 codes joined to PC4 zones gives what the same numbers as a
    zones column give."""
    z = gpd.read_parquet(RAW / "cbs_pc4_2021.parquet")
    z = z[z["pc4"].astype(str).str.startswith("26")].copy()  # Delft area
    rng = np.random.default_rng(3)
    z["jobs"] = rng.integers(0, 5000, len(z))
    z.to_file(tmp_path / "pc4.gpkg")
    pd.DataFrame({"postcode": z["pc4"].astype(int), "banen": z["jobs"]}).to_csv(
        tmp_path / "jobs.csv", index=False)
    common = ["--zones", str(tmp_path / "pc4.gpkg"), "--network", "crowfly", "--mode", "bike",
              "--cutoff", "15,30"]
    by_column = _access(tmp_path, *common, name="col.gpkg")
    joined = _access(tmp_path, *common, "--opportunities", str(tmp_path / "jobs.csv"),
                     "--join-on", "postcode=zone_id", name="join.gpkg")
    default_join = _access(tmp_path, *common, "--opportunities", str(tmp_path / "jobs.csv"),
                           name="join2.gpkg")
    for col in ("jobs_15min_bike", "jobs_30min_bike"):
        assert by_column[col].sum() > 0
        np.testing.assert_allclose(joined[col], by_column[col])
        np.testing.assert_allclose(default_join[col], by_column[col])


def test_point_zones_and_point_opportunities(tmp_path):
    cent = gpd.read_file(CENTROIDS).set_crs(28992, allow_override=True)
    cent = cent[cent["code"].str.startswith("WK0363")].copy()  # Amsterdam wijken
    cent["jobs"] = np.arange(len(cent)) * 100.0
    cent.to_file(tmp_path / "points.gpkg")
    a = _access(tmp_path, "--zones", str(tmp_path / "points.gpkg"), "--id-column", "code",
                "--network", "crowfly", "--mode", "bike", "--cutoff", "20",
                "--opportunities", str(tmp_path / "points.gpkg"))
    x, y = cent.geometry.x.to_numpy(), cent.geometry.y.to_numpy()
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    t = np.rint(impedance.crowfly_seconds(d, "bike"))
    want = (t <= 1200) @ cent["jobs"].to_numpy()
    assert list(a["zone_id"]) == list(cent["code"])
    np.testing.assert_allclose(a["jobs_20min_bike"], want)


def test_repeated_and_comma_options_agree(tmp_path):
    z = str(RAW / "cbs_kwb2020_amsterdam_buurten.parquet")
    base = ["--zones", z, "--network", "crowfly", "--mode", "bike",
            "--opportunities", "establishments"]
    a = _access(tmp_path, *base, "--cutoff", "15", "--cutoff", "30", "--decay",
                "exponential:beta=0.05", "--decay", "logistic:beta=0.1,t0=30", name="a.gpkg")
    b = _access(tmp_path, *base, "--cutoffs", "15,30", "--decay",
                "exponential:beta=0.05,logistic:beta=0.1,t0=30", name="b.gpkg")
    assert list(a.columns) == list(b.columns)
    assert {"establishments_15min_bike", "establishments_30min_bike",
            "establishments_exp0.05_bike", "establishments_logistic0.1_30_bike"} <= set(a.columns)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))


@pytest.mark.parametrize("args, words", [
    (["--opportunities", str(BANEN)], "none of the"),  # wijk codes are not gemeente codes
    (["--opportunities", str(BANEN), "--opportunities-geometry", str(CENTROIDS),
      "--join-on", "wk_code=nope"], "nope"),
    (["--opportunities", "no_such_column"], "no column"),
    (["--cutoff", "15,abc"], "not a number"),
])
def test_bad_opportunity_options_are_clean_errors(tmp_path, args, words):
    out = tmp_path / "x.gpkg"
    res = runner.invoke(app, ["access", "--zones", str(GEMEENTEN), "--network", "crowfly",
                              "--mode", "car", *args, "-o", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert words in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_list_options_parse_alike():
    from ruimtekit import _commands

    assert _commands.split_list(["15", "30"]) == _commands.split_list(["15,30"]) == ["15", "30"]
    assert _commands.split_list(["car, bike", "walk"]) == ["car", "bike", "walk"]
    assert _commands.split_numbers(["15,30", "45"], "--cutoff") == [15.0, 30.0, 45.0]
    assert _commands.split_decays(["exponential:beta=0.05,logistic:beta=0.1,t0=30"]) == [
        "exponential:beta=0.05", "logistic:beta=0.1,t0=30"]
    assert _commands.split_decays(["logistic:beta=0.1,t0=30", "power:alpha=1"]) == [
        "logistic:beta=0.1,t0=30", "power:alpha=1"]
    assert _commands.split_list(None) == []


def test_matrix_in_help():
    res = runner.invoke(app, ["--help"])
    assert "matrix" in res.output
