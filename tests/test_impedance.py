"""Crow-fly impedance model and skim reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from ruimtekit._errors import InputError
from ruimtekit.engine import impedance


def test_crowfly_seconds_hand_values():
    # walk: 1 km straight line × 1.233 detour = 1.233 km; speed 3.94 → 4.35 km/h over 0–1.5 km
    v = 3.94 + (4.35 - 3.94) * 1.233 / 1.5
    assert impedance.crowfly_seconds(1000.0, "walk") == pytest.approx(1.233 / v * 3600)
    # bike: 60 s fixed + 1332 m at 15.24 + 0.36 * 1.332 / 5 km/h
    v = 15.24 + (15.6 - 15.24) * 1.332 / 5
    assert impedance.crowfly_seconds(1000.0, "bike") == pytest.approx(60 + 1.332 / v * 3600)
    # car: 10 km straight line = 14.16 km by road; speed 23.03 → 31.98 km/h over 10–15 km
    v = 23.03 + (31.98 - 23.03) * (14.16 - 10) / (15 - 10)
    assert impedance.crowfly_seconds(10_000.0, "car") == pytest.approx(14.16 / v * 3600)
    # beyond the last breakpoint the speed is constant (88.58 km/h)
    assert impedance.crowfly_seconds(200_000.0, "car") == pytest.approx(283.2 / 88.58 * 3600)
    assert impedance.crowfly_seconds(0.0, "car") == pytest.approx(0.0)
    assert impedance.crowfly_seconds(0.0, "bike") == pytest.approx(60.0)


@pytest.mark.parametrize("mode", sorted(impedance.DEFAULT_MODELS))
def test_default_curves_are_monotone(mode):
    d = np.linspace(0, 300_000, 20_001)
    t = impedance.crowfly_seconds(d, mode)
    assert np.all(np.diff(t) > 0)


def test_model_validation():
    m = impedance.CrowflyModel(mode="scooter", speed_curve=[(0, 25)], detour_factor=1.2)
    assert impedance.crowfly_seconds(1200, m) == pytest.approx(1440 / (25 / 3.6))
    with pytest.raises(ValidationError, match="less time"):
        impedance.CrowflyModel(mode="car", speed_curve=[(1, 10), (2, 100)])
    with pytest.raises(ValidationError, match="increasing"):
        impedance.CrowflyModel(mode="car", speed_curve=[(5, 10), (1, 20)])
    with pytest.raises(ValidationError):
        impedance.CrowflyModel(mode="car", speed_curve=[(0, 10)], detour_factor=0.9)
    with pytest.raises(InputError, match="no crow-fly model"):
        impedance.crowfly_seconds(1.0, "hovercraft")


def _write(tmp_path, df, name="skim.csv"):
    p = tmp_path / name
    if name.endswith(".parquet"):
        df.to_parquet(p)
    else:
        df.to_csv(p, index=False)
    return p


def test_read_skim_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"origin": ["0101", "0101"], "destination": ["0101", "0202"],
                       "time": [0.0, 12.5]})
    for name in ("skim.csv", "skim.parquet"):
        s = impedance.read_skim(_write(tmp_path, df, name), zone_ids=["0101", "0202"])
        assert list(s["origin"]) == ["0101", "0101"]  # leading zeros kept (str ids)
        np.testing.assert_allclose(s["time_s"], [0.0, 750.0])
    s = impedance.read_skim(_write(tmp_path, df), unit="h")
    assert s["time_s"].iloc[1] == 12.5 * 3600


def test_read_skim_errors(tmp_path):
    good = pd.DataFrame({"origin": ["A", "B"], "destination": ["B", "A"], "time": [5.0, 6.0]})
    with pytest.raises(InputError, match="missing column"):
        impedance.read_skim(_write(tmp_path, good.rename(columns={"time": "minutes"})))
    with pytest.raises(InputError, match="not in the zones layer"):
        impedance.read_skim(_write(tmp_path, good), zone_ids=["A"])
    with pytest.raises(InputError, match="negative"):
        impedance.read_skim(_write(tmp_path, good.assign(time=[5.0, -1.0])))
    with pytest.raises(InputError, match="missing or not numbers"):
        impedance.read_skim(_write(tmp_path, good.assign(time=[5.0, None])))
    with pytest.raises(InputError, match="more than once"):
        impedance.read_skim(_write(tmp_path, pd.concat([good, good])))
    with pytest.raises(InputError, match="unknown time unit"):
        impedance.read_skim(_write(tmp_path, good), unit="fortnights")
    with pytest.raises(InputError, match="does not exist"):
        impedance.read_skim(tmp_path / "nope.csv")


def test_read_skim_omx(tmp_path):
    omx = pytest.importorskip("openmatrix")
    p = tmp_path / "skim.omx"
    with omx.open_file(str(p), "w") as f:
        f["car_am"] = np.array([[0.0, 7.0], [8.0, np.inf]])
        f.create_mapping("zones", [1011, 1012])
    s = impedance.read_skim(p, zone_ids=["1011", "1012"])
    got = {(o, d): t for o, d, t in s.itertuples(index=False)}
    assert got == {("1011", "1011"): 0.0, ("1011", "1012"): 420.0, ("1012", "1011"): 480.0}
