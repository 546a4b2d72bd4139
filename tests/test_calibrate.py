"""ruimtekit.calibrate: crow-fly fits recover known models, error tables, bad inputs, CLI."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from pyproj import Transformer
from shapely.geometry import box
from typer.testing import CliRunner

from ruimtekit import calibrate
from ruimtekit._errors import InputError
from ruimtekit.analysis import accessibility, borrowed_size
from ruimtekit.cli import app
from ruimtekit.engine import impedance

TRUE_CAR = impedance.CrowflyModel(
    mode="car", detour_factor=1.35,
    speed_curve=[(0.0, 12.0), (5.0, 30.0), (20.0, 60.0), (60.0, 90.0)], fixed_min=2.0)
"""The known model the synthetic reference times are generated with."""


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def synthetic_reference(model: impedance.CrowflyModel = TRUE_CAR, n: int = 3000,
                        noise: float = 0.08, outliers: float = 0.05, seed: int = 1
                        ) -> pd.DataFrame:
    """Pairs in RD New around Utrecht, 0.3–100 km apart; minutes from ``model`` with
    lognormal noise (sd ``noise``) and a share of gross outliers (time × 2.5)."""
    rng = np.random.default_rng(seed)
    d = np.exp(rng.uniform(np.log(300.0), np.log(100_000.0), n))
    ang = rng.uniform(0, 2 * np.pi, n)
    ox = rng.uniform(130_000, 140_000, n)
    oy = rng.uniform(450_000, 460_000, n)
    dx, dy = ox + d * np.cos(ang), oy + d * np.sin(ang)
    t = impedance.crowfly_seconds(d, model) / 60.0 * np.exp(rng.normal(0, noise, n))
    bad = rng.random(n) < outliers
    t[bad] *= 2.5
    route_km = d * model.detour_factor / 1000.0 * np.exp(rng.normal(0, 0.1, n))
    return pd.DataFrame({"origin_x": ox, "origin_y": oy, "destination_x": dx,
                         "destination_y": dy, "minutes": t, "route_km": route_km})


def _as_reference(df: pd.DataFrame) -> pd.DataFrame:
    d = np.hypot(df["destination_x"] - df["origin_x"], df["destination_y"] - df["origin_y"])
    return pd.DataFrame({"dist_m": d, "minutes": df["minutes"], "route_km": df["route_km"]})


# --------------------------------------------------------------------------- fitting
def _curve(m: impedance.CrowflyModel) -> np.ndarray:
    return np.array([v for _, v in m.speed_curve])


def test_fit_recovers_known_model_from_route_lengths():
    ref = _as_reference(synthetic_reference())
    start = impedance.DEFAULT_MODELS["car"]
    opts = calibrate.CalibrateOptions(mode="car", start=start,
                                      breakpoints_km=[0.0, 5.0, 20.0, 60.0])
    fit = calibrate.fit_crowfly(ref, opts)
    assert fit.detour_source == "route lengths"
    assert fit.model.detour_factor == pytest.approx(1.35, rel=0.01)
    np.testing.assert_allclose(_curve(fit.model), _curve(TRUE_CAR), rtol=0.06)
    assert fit.model.fixed_min == pytest.approx(2.0, abs=0.6)
    # times, not just parameters: within 2 % of the true model over 0.5–100 km
    d = np.geomspace(500, 100_000, 50)
    np.testing.assert_allclose(impedance.crowfly_seconds(d, fit.model),
                               impedance.crowfly_seconds(d, TRUE_CAR), rtol=0.02)
    after = fit.table.iloc[-1]
    # median |error| of the fit ≈ that of the noise itself (0.674 × 8 %, outliers aside)
    assert after["after_median_abs_rel_err"] < 0.065
    assert after["after_median_abs_rel_err"] < after["before_median_abs_rel_err"]
    assert abs(after["after_median_rel_err"]) < 0.01
    assert fit.n_pairs == 3000 and fit.kept_breakpoints == []


def test_fit_without_route_lengths_keeps_or_takes_the_detour():
    ref = _as_reference(synthetic_reference(noise=0.03, outliers=0.0)).drop(columns="route_km")
    opts = calibrate.CalibrateOptions(mode="car", breakpoints_km=[0.0, 5.0, 20.0, 60.0],
                                      detour_factor=1.35)
    fit = calibrate.fit_crowfly(ref, opts)
    assert fit.detour_source == "given" and fit.model.detour_factor == 1.35
    np.testing.assert_allclose(_curve(fit.model), _curve(TRUE_CAR), rtol=0.04)
    # no route lengths and no detour given: the starting model's detour is kept, and the
    # speeds absorb the difference (nearly the same times: the breakpoints now sit at other
    # straight-line distances, so the piecewise curves differ by a few per cent between them)
    fit2 = calibrate.fit_crowfly(ref, calibrate.CalibrateOptions(
        mode="car", breakpoints_km=[0.0, 5.0, 20.0, 60.0], fit_fixed=False,
        start=TRUE_CAR.model_copy(update={"detour_factor": 1.2})))
    assert fit2.detour_source == "starting model" and fit2.model.detour_factor == 1.2
    assert fit2.model.fixed_min == 2.0  # held
    d = np.geomspace(1000, 80_000, 30)
    np.testing.assert_allclose(impedance.crowfly_seconds(d, fit2.model),
                               impedance.crowfly_seconds(d, TRUE_CAR), rtol=0.05)


def test_fit_recovers_a_constant_speed_walk_model():
    walk = impedance.CrowflyModel(mode="walk", detour_factor=1.2, speed_curve=[(0.0, 4.5)],
                                  fixed_min=0.5)
    rng = np.random.default_rng(5)
    d = rng.uniform(200, 8000, 800)
    t = impedance.crowfly_seconds(d, walk) / 60 * np.exp(rng.normal(0, 0.05, d.size))
    fit = calibrate.fit_crowfly(pd.DataFrame({"dist_m": d, "minutes": t}),
                                calibrate.CalibrateOptions(mode="walk", detour_factor=1.2,
                                                               breakpoints_km=[0.0]))
    assert fit.model.speed_curve[0][1] == pytest.approx(4.5, rel=0.03)
    assert fit.model.fixed_min == pytest.approx(0.5, abs=0.3)


def test_fit_keeps_unsupported_breakpoints_and_stays_valid():
    # all pairs within 10 km of network length: the 50 and 100 km breakpoints keep the
    # starting speeds (reported), and flat reference times never give a curve on which a
    # longer trip takes less time
    rng = np.random.default_rng(2)
    d = rng.uniform(1000, 7000, 300)
    ref = pd.DataFrame({"dist_m": d, "minutes": np.full(d.size, 12.0)})
    start = impedance.DEFAULT_MODELS["car"]
    with pytest.warns(UserWarning, match="no reference pairs near"):
        fit = calibrate.fit_crowfly(ref, calibrate.CalibrateOptions(mode="car"))
    assert 50.0 in fit.kept_breakpoints and 100.0 in fit.kept_breakpoints
    assert dict(fit.model.speed_curve)[100.0] == dict(start.speed_curve)[100.0]
    t = impedance.crowfly_seconds(np.linspace(0, 200_000, 5001), fit.model)
    assert np.all(np.diff(t) > 0)


def test_valid_curve_lowers_too_steep_speeds():
    km = np.array([0.0, 1.0, 2.0])
    kmh = calibrate._valid_curve(km, np.array([10.0, 10.0, 40.0]))
    assert kmh[2] < 20.0  # 2 km / v(2) must exceed 1 km / 10 km/h
    impedance.CrowflyModel(mode="x", speed_curve=list(zip(km, kmh, strict=True)))


def test_marginal_speed_bound():
    # one segment: v(L) = a + b L, t = L / v, dL/dt = v² / a — checked by finite differences
    km, kmh = np.array([10.0, 20.0]), np.array([25.0, 40.0])
    m = impedance.CrowflyModel(mode="x", speed_curve=list(zip(km, kmh, strict=True)),
                               detour_factor=1.0)
    t = impedance.crowfly_seconds(np.array([19_999.0, 20_000.0]), m)
    assert calibrate._marginal_kmh(km, kmh)[0] == pytest.approx(3.6 / (t[1] - t[0]),
                                                                rel=1e-3)
    # the largest allowed next speed meets the bound exactly
    u = calibrate._max_next_speed(10.0, 20.0, 25.0, 130.0)
    assert calibrate._marginal_kmh(km, np.array([25.0, u]))[0] == pytest.approx(130.0)
    # reference times that barely grow from 10 to 50 km by road: the fit keeps the bound
    rng = np.random.default_rng(3)
    d = rng.uniform(1000, 40_000, 600)
    mins = np.where(d < 8000, d / 1000 * 2.5, 20 + (d - 8000) / 1000 * 0.1)
    fit = calibrate.fit_crowfly(pd.DataFrame({"dist_m": d, "minutes": mins}),
                                calibrate.CalibrateOptions(mode="car", detour_factor=1.25))
    curve = np.array(fit.model.speed_curve)
    assert calibrate._marginal_kmh(curve[:, 0], curve[:, 1]).max() <= 200.0 + 1e-6
    tt = impedance.crowfly_seconds(np.linspace(0, 100_000, 10_001), fit.model)
    assert np.diff(tt).min() * 200 / 3.6 >= 0.999 * 10 * 1.25  # ≥ 12.5 m by road per step


def test_too_few_pairs_is_an_error():
    ref = pd.DataFrame({"dist_m": [1000.0, 2000.0], "minutes": [3.0, 5.0]})
    with pytest.raises(InputError, match="only 2 valid reference pair"):
        calibrate.fit_crowfly(ref, calibrate.CalibrateOptions(mode="car"))


# --------------------------------------------------------------------------- error table
def test_error_table_hand_computed():
    dist = [500.0, 1000.0, 1500.0, 3000.0, 60_000.0, 4000.0, 4000.0]
    model = [6.0, 9.0, 12.0, 10.0, 50.0, 5.0, np.nan]
    ref = [5.0, 10.0, 10.0, 10.0, 40.0, 0.0, 8.0]  # last two: no reference / no model time
    t = calibrate.error_table(dist, model, ref).set_index("band")
    assert list(t.index) == ["0–1 km", "1–2 km", "2–5 km", "5–10 km", "10–20 km",
                             "20–50 km", ">= 50 km", "all"]
    # 0–1 km: one pair, +20 %, bias +1 min
    assert t.loc["0–1 km", "n"] == 1
    assert t.loc["0–1 km", "median_rel_err"] == pytest.approx(0.2)
    assert t.loc["0–1 km", "bias_min"] == pytest.approx(1.0)
    # 1–2 km: 1000 m (band edge: belongs to the upper band) −10 % and 1500 m +20 %
    assert t.loc["1–2 km", "n"] == 2
    assert t.loc["1–2 km", "median_rel_err"] == pytest.approx(0.05)
    assert t.loc["1–2 km", "median_abs_rel_err"] == pytest.approx(0.15)
    assert t.loc["1–2 km", "bias_min"] == pytest.approx(0.5)
    assert t.loc["2–5 km", "n"] == 1 and t.loc["2–5 km", "median_abs_rel_err"] == 0.0
    assert t.loc["5–10 km", "n"] == 0 and np.isnan(t.loc["5–10 km", "median_rel_err"])
    assert t.loc[">= 50 km", "median_rel_err"] == pytest.approx(0.25)
    assert t.loc[">= 50 km", "bias_min"] == pytest.approx(10.0)
    # all: rel errors 0.2, −0.1, 0.2, 0, 0.25
    assert t.loc["all", "n"] == 5
    assert t.loc["all", "median_rel_err"] == pytest.approx(0.2)
    assert t.loc["all", "median_abs_rel_err"] == pytest.approx(0.2)
    assert t.loc["all", "bias_min"] == pytest.approx((1 - 1 + 2 + 0 + 10) / 5)


def test_compare_table_and_format():
    dist = np.array([500.0, 1500.0, 3000.0])
    ref = np.array([5.0, 10.0, 10.0])
    t = calibrate.compare_table(dist, ref, {"a": np.array([5.0, 11.0, 9.0]),
                                            "b": np.array([6.0, np.nan, 10.0])},
                                bands_km=[0.0, 2.0])
    assert list(t["band"]) == ["0–2 km", ">= 2 km", "all"]
    assert list(t["n"]) == [2, 1, 3] and list(t["n_b"]) == [1, 1, 2]
    assert t["a_median_abs_rel_err"].tolist() == pytest.approx([0.05, 0.1, 0.1])
    assert t["b_median_rel_err"].tolist() == pytest.approx([0.2, 0.0, 0.1])
    txt = calibrate.format_table(t)
    assert "+5.0%" in txt and "10.0%" in txt


# --------------------------------------------------------------------------- reading
def _otp_like(tmp_path, rows=200):
    """A reference in OpenTripPlanner's column layout: lat/lon, -1 for no route."""
    df = synthetic_reference(n=rows)
    tr = Transformer.from_crs(28992, 4326, always_xy=True)
    olon, olat = tr.transform(df["origin_x"].to_numpy(), df["origin_y"].to_numpy())
    dlon, dlat = tr.transform(df["destination_x"].to_numpy(), df["destination_y"].to_numpy())
    t = df["minutes"].to_numpy().copy()
    t[:10] = -1.0
    out = pd.DataFrame({"departure": [f"{2500 + i}" for i in range(rows)],
                        "arrival": [f"{3500 + i}" for i in range(rows)],
                        "departure_y": olat, "departure_x": olon, "arrival_y": dlat,
                        "arrival_x": dlon, "travel_time": t, "distance": df["route_km"]})
    p = tmp_path / "otp.csv"
    out.to_csv(p, index=False)
    return p, df


def test_read_reference_lonlat_otp_layout(tmp_path):
    p, df = _otp_like(tmp_path)
    ref = calibrate.read_reference(calibrate.ReferenceSource(
        path=p, columns=calibrate.ReferenceColumns(route_km="distance")))
    assert ref.attrs["crs"] == 4326
    assert ref.attrs["counts"] == {"read": 200, "kept": 190, "no_route": 10, "zero_time": 0,
                                   "zero_distance": 0, "unmatched_zones": 0}
    assert ref["origin"].iloc[0] == "2510"
    # lon/lat → RD round trip (sub-metre)
    np.testing.assert_allclose(ref["ox"], df["origin_x"].iloc[10:], atol=0.5)
    exp = np.hypot(df["destination_x"] - df["origin_x"], df["destination_y"] - df["origin_y"])
    np.testing.assert_allclose(ref["dist_m"], exp.iloc[10:], rtol=1e-6, atol=0.5)
    np.testing.assert_allclose(ref["route_km"], df["route_km"].iloc[10:])


def test_read_reference_rd_parquet(tmp_path):
    df = synthetic_reference(n=50)
    df.loc[3, "minutes"] = 0.0
    df.loc[4, ["destination_x", "destination_y"]] = df.loc[4, ["origin_x", "origin_y"]].values
    p = tmp_path / "ref.parquet"
    df.to_parquet(p)
    ref = calibrate.read_reference(calibrate.ReferenceSource(path=p))
    assert ref.attrs["crs"] == 28992
    c = ref.attrs["counts"]
    assert (c["kept"], c["zero_time"], c["zero_distance"]) == (48, 1, 1)
    np.testing.assert_allclose(ref["ox"], df["origin_x"].drop(index=[3, 4]))


def _zones(tmp_path):
    # three PC4-like square zones of 1 km in RD New, 2 and 5 km apart
    g = gpd.GeoDataFrame({"zone_id": ["1011", "1012", "1013"]},
                         geometry=[box(120_000, 480_000, 121_000, 481_000),
                                   box(122_000, 480_000, 123_000, 481_000),
                                   box(125_000, 480_000, 126_000, 481_000)], crs=28992)
    p = tmp_path / "zones.gpkg"
    g.to_file(p, driver="GPKG")
    return p


def test_read_reference_zone_ids(tmp_path):
    zp = _zones(tmp_path)
    p = tmp_path / "skim.csv"
    pd.DataFrame({"origin": ["1011", "1011", "1012", "9999"],
                  "destination": ["1012", "1013", "1013", "1011"],
                  "minutes": [5, 9, 6, 7]}).to_csv(p, index=False)
    with pytest.warns(UserWarning, match="1 of 4 pairs name zones not in"):
        ref = calibrate.read_reference(calibrate.ReferenceSource(path=p, zones=zp))
    assert ref["dist_m"].tolist() == pytest.approx([2000.0, 5000.0, 3000.0])
    assert ref.attrs["counts"]["unmatched_zones"] == 1
    assert ref["origin"].tolist() == ["1011", "1011", "1012"]


# --------------------------------------------------------------------------- bad input
def test_bad_inputs(tmp_path):
    zp = _zones(tmp_path)
    p = tmp_path / "r.csv"

    def read(df, **kw):
        df.to_csv(p, index=False)
        return calibrate.read_reference(calibrate.ReferenceSource(path=p, **kw))

    with pytest.raises(InputError, match="none of the reference zone ids match"):
        read(pd.DataFrame({"origin": ["2011"], "destination": ["2012"], "minutes": [3]}),
             zones=zp)
    with pytest.raises(InputError, match="no travel-time column"):
        read(pd.DataFrame({"origin": ["1011"], "destination": ["1012"], "secs": [3]}),
             zones=zp)
    with pytest.raises(InputError, match=r"not numbers \(first at data row 2: 'abc'\)"):
        read(pd.DataFrame({"origin": ["1011", "1011"], "destination": ["1012", "1013"],
                           "minutes": ["4", "abc"]}), zones=zp)
    with pytest.raises(InputError, match="decimal comma"):
        read(pd.DataFrame({"origin": ["1011"], "destination": ["1012"],
                           "minutes": ["4,5"]}), zones=zp)
    with pytest.raises(InputError, match="no valid reference pair"):
        read(pd.DataFrame({"origin": ["1011", "1012"], "destination": ["1012", "1013"],
                           "minutes": [-1, -1]}), zones=zp)
    with pytest.raises(InputError, match="no point coordinates"):
        read(pd.DataFrame({"a": [1.0], "b": [2.0], "minutes": [3.0]}))
    with pytest.raises(InputError, match="needs origin and destination id columns"):
        read(pd.DataFrame({"a": [1.0], "minutes": [3.0]}), zones=zp)
    with pytest.raises(InputError, match="swapped"):
        read(pd.DataFrame({"origin_x": [52.0], "origin_y": [4.3], "destination_x": [52.1],
                           "destination_y": [4.4], "minutes": [10.0]}))
    with pytest.raises(InputError, match="neither lon/lat nor RD"):
        read(pd.DataFrame({"origin_x": [1e7], "origin_y": [1e7], "destination_x": [1e7],
                           "destination_y": [2e7], "minutes": [10.0]}))
    with pytest.raises(InputError, match="no column 'tijd'"):
        calibrate.read_reference(calibrate.ReferenceSource(
            path=p, columns=calibrate.ReferenceColumns(minutes="tijd")))
    with pytest.raises(InputError, match="does not exist"):
        calibrate.read_reference(calibrate.ReferenceSource(path=tmp_path / "nope.csv"))
    with pytest.raises(InputError, match="invalid calibrate setting 'crs'"):
        calibrate.parse_settings({"path": p, "crs": 3857}, {})
    with pytest.raises(InputError, match="no default crow-fly model"):
        calibrate.CalibrateOptions(mode="hovercraft").start_model()


# --------------------------------------------------------------------------- study snippet
def test_study_snippet_is_a_valid_study_section():
    fit = calibrate.fit_crowfly(_as_reference(synthetic_reference(n=500)),
                                calibrate.CalibrateOptions(mode="car"))
    sec = yaml.safe_load(calibrate.study_snippet(fit))
    block = accessibility.AccessibilityConfig(name="x", zones="pc4", modes=["car"],
                                              impedance="crowfly", **sec)
    assert block.crowfly["car"] == fit.model
    cfg = borrowed_size.BorrowedSizeConfig(crowfly_models=sec["crowfly"])
    assert cfg.crowfly_models["car"] == fit.model


# --------------------------------------------------------------------------- CLI
def test_cli_calibrate_writes_snippet_and_table(tmp_path):
    p, _ = _otp_like(tmp_path, rows=400)
    out, tab = tmp_path / "cal.yaml", tmp_path / "cal.csv"
    res = CliRunner().invoke(app, ["calibrate", str(p), "--mode", "car", "--route-km-column",
                                   "distance", "--breakpoint", "0", "--breakpoint", "5",
                                   "--breakpoint", "20", "--breakpoint", "60", "-o", str(out),
                                   "--table", str(tab)])
    assert res.exit_code == 0, res.output
    sec = yaml.safe_load(out.read_text())
    m = impedance.CrowflyModel(**sec["crowfly"]["car"])
    assert m.detour_factor == pytest.approx(1.35, rel=0.02)
    assert [k for k, _ in m.speed_curve] == [0, 5, 20, 60]
    t = pd.read_csv(tab)
    assert t["band"].iloc[-1] == "all" and t["n"].iloc[-1] == 390
    assert "after_median_abs_rel_err" in t.columns
    assert "390 pairs" in _plain(res.output)
    # fixed minutes held
    res = CliRunner().invoke(app, ["calibrate", str(p), "--fixed-min", "3", "-o", str(out),
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    assert yaml.safe_load(out.read_text())["crowfly"]["car"]["fixed_min"] == 3


@pytest.mark.parametrize("args, message", [
    (["--zones", "ZONES"], "none of the reference zone ids match"),
    (["--minutes-column", "tijd"], "no column 'tijd'"),
    (["--crs", "3857"], "invalid calibrate setting 'crs'"),
    (["--breakpoint", "5", "--breakpoint", "1"], "strictly increasing"),
])
def test_cli_calibrate_bad_input_is_clean_error(tmp_path, args, message):
    p, _ = _otp_like(tmp_path, rows=30)
    args = [str(_zones(tmp_path)) if a == "ZONES" else a for a in args]
    out = tmp_path / "cal.yaml"
    res = CliRunner().invoke(app, ["calibrate", str(p), "-o", str(out), *args])
    text = " ".join(_plain(res.output).split())
    assert res.exit_code == 2, res.output
    assert message in text and "Traceback" not in text
    assert not out.exists()


def test_cli_calibrate_non_numeric_minutes(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("origin_x,origin_y,destination_x,destination_y,minutes\n"
                 "120000,480000,125000,480000,12\n120000,480000,130000,480000,twelve\n")
    res = CliRunner().invoke(app, ["calibrate", str(p), "-o", str(tmp_path / "c.yaml")])
    assert res.exit_code == 2
    assert "'twelve'" in _plain(res.output) and "Traceback" not in res.output


# --------------------------------------------------------------------------- networks
DELFT = "data/raw/osm/delft_drive.graphml"


def _delft_study(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    p = tmp_path / "study.yaml"
    p.write_text(f"name: t\nroot: {root}\nnetworks:\n  delft:\n    kind: graphml\n"
                 f"    path: {DELFT}\n    mode: car\n")
    return p


def _delft_pairs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    ox, oy = rng.uniform(82_000, 86_000, n), rng.uniform(444_000, 448_500, n)
    dx, dy = rng.uniform(82_000, 86_000, n), rng.uniform(444_000, 448_500, n)
    return pd.DataFrame({"ox": ox, "oy": oy, "dx": dx, "dy": dy,
                         "dist_m": np.hypot(dx - ox, dy - oy), "minutes": 1.0})


def test_fit_network_recovers_known_parameters(tmp_path):
    # reference times generated on the real Delft OSM car network with link speeds × 0.8
    # and connectors at 12.5 km/h; the fit must find both back from the starting 1.0/15
    opts = calibrate.NetworkFitOptions(
        study=_delft_study(tmp_path), network="delft",
        grids={"speed_factor": [0.8, 1.0, 1.2], "connector_speed_kmh": [12.5, 15.0, 20.0]})
    pairs = _delft_pairs()
    evaluate, uses_delay = calibrate._network_evaluator(opts, pairs)
    assert not uses_delay  # a GraphML network has no urban junction delay
    true = {"speed_factor": 0.8, "junction_delay_s": 0.0, "connector_speed_kmh": 12.5}
    base = {"speed_factor": 1.0, "junction_delay_s": 0.0, "connector_speed_kmh": 12.5}
    t_true, t_base = evaluate(true), evaluate(base)
    ok = np.isfinite(t_true)
    assert ok.sum() > 100
    # slower links: never faster, and slower where the route uses the network
    assert np.all(t_true[ok] >= t_base[ok] - 1e-9) and np.any(t_true[ok] > t_base[ok] + 0.1)
    pairs["minutes"] = t_true
    pairs = pairs[ok].reset_index(drop=True)
    fit = calibrate.fit_network(pairs, opts)
    assert fit.params == true
    assert fit.before_params["speed_factor"] == 1.0
    assert fit.before_params["connector_speed_kmh"] == 15.0
    assert fit.table.iloc[-1]["after_median_abs_rel_err"] == pytest.approx(0.0, abs=1e-9)
    assert fit.table.iloc[-1]["before_median_abs_rel_err"] > 0.05
    assert set(fit.trials.columns) >= {"speed_factor", "connector_speed_kmh",
                                       "median_abs_rel_err"}
    snip = yaml.safe_load(calibrate.network_snippet(fit))
    assert snip["networks"]["delft"]["period"] == "calibrated"
    assert snip["networks"]["delft"]["profile"]["periods"] == {"calibrated": 0.8}
    assert snip["connectors"] == {"speed_kmh": 12.5}


def test_fit_network_bad_inputs(tmp_path):
    st = _delft_study(tmp_path)
    with pytest.raises(InputError, match="no network 'roads'"):
        calibrate.fit_network(_delft_pairs(5), calibrate.NetworkFitOptions(study=st,
                                                                           network="roads"))
    with pytest.raises(InputError, match="no layer 'pc4'"):
        calibrate.fit_network(_delft_pairs(5), calibrate.NetworkFitOptions(
            study=st, network="delft", land_layer="pc4"))
    with pytest.raises(InputError, match="unknown network parameter"):
        calibrate.parse_network_settings({"path": st}, {"study": st, "network": "delft",
                                                        "grids": {"lanes": [1.0]}})
    p, _ = _otp_like(tmp_path, rows=30)
    res = CliRunner().invoke(app, ["calibrate", str(p), "--network", "delft",
                                   "-o", str(tmp_path / "n.yaml")])
    assert res.exit_code == 2 and "needs the study file" in " ".join(_plain(res.output).split())


def test_cli_calibrate_network(tmp_path):
    st = _delft_study(tmp_path)
    pairs = _delft_pairs(80, seed=4)
    opts = calibrate.NetworkFitOptions(study=st, network="delft")
    evaluate, _ = calibrate._network_evaluator(opts, pairs)
    pairs["minutes"] = evaluate({"speed_factor": 1.2, "junction_delay_s": 0.0,
                                 "connector_speed_kmh": 20.0})
    ref = pairs.rename(columns={"ox": "origin_x", "oy": "origin_y", "dx": "destination_x",
                                "dy": "destination_y"}).drop(columns="dist_m")
    p = tmp_path / "ref.csv"
    ref.to_csv(p, index=False)
    out, tab = tmp_path / "net.yaml", tmp_path / "net.csv"
    res = CliRunner().invoke(app, ["calibrate", str(p), "--study", str(st), "--network",
                                   "delft", "-o", str(out), "--table", str(tab)])
    assert res.exit_code == 0, res.output
    snip = yaml.safe_load(out.read_text())
    assert snip["networks"]["delft"]["profile"]["periods"] == {"calibrated": 1.2}
    assert snip["connectors"] == {"speed_kmh": 20.0}
    assert pd.read_csv(tab)["after_median_abs_rel_err"].iloc[-1] == pytest.approx(0, abs=1e-9)
