"""Tests for the synthetic vacancy generator (real CBS Amsterdam buurten as input)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ruimtekit._errors import InputError
from ruimtekit.analysis import candidates
from ruimtekit.io import synthetic

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"
KWB2020 = RAW / "cbs_kwb2020_amsterdam_buurten.parquet"
KWB2021 = RAW / "cbs_kwb2021_amsterdam_buurten.parquet"


def canonical_buurten(path: Path = KWB2020) -> gpd.GeoDataFrame:
    """The CBS parquet as canonical zones (EPSG:28992), independent of layers.py."""
    g = gpd.read_parquet(path).drop(columns=["centroid", "res_centroid"]).to_crs(28992)
    return g.rename(columns={"BU_CODE": "zone_id", "BU_NAAM": "zone_name",
                             "a_bedv": "establishments", "ste_oad": "address_density",
                             "a_woning": "dwellings", "a_opp_ha": "area_ha"})


@pytest.fixture(scope="module")
def buurten() -> gpd.GeoDataFrame:
    return canonical_buurten()


@pytest.fixture(scope="module")
def sample(buurten: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return synthetic.vacancy_sample(buurten, seed=7, as_of="2024-01-01")


def test_same_seed_identical_frame(buurten, sample):
    again = synthetic.vacancy_sample(buurten, seed=7, as_of="2024-01-01")
    pd.testing.assert_frame_equal(pd.DataFrame(sample.drop(columns="geometry")),
                                  pd.DataFrame(again.drop(columns="geometry")))
    assert sample.geometry.geom_equals_exact(again.geometry, tolerance=0).all()
    # input order does not matter (buurten are processed in zone_id order)
    shuffled = buurten.sample(frac=1.0, random_state=3)
    third = synthetic.vacancy_sample(shuffled, seed=7, as_of="2024-01-01")
    pd.testing.assert_frame_equal(pd.DataFrame(sample.drop(columns="geometry")),
                                  pd.DataFrame(third.drop(columns="geometry")))
    other = synthetic.vacancy_sample(buurten, seed=8, as_of="2024-01-01")
    assert len(other) != len(sample) or not other["floor_area_m2"].equals(sample["floor_area_m2"])


def test_labelled_synthetic(sample):
    assert sample["synthetic"].dtype == bool and sample["synthetic"].all()
    assert "synthetic" in sample.attrs["layer_name"]
    assert sample.attrs["synthetic"] is True
    assert "SYNTHETIC" in sample.attrs["note"] and "not real" in sample.attrs["note"]
    assert "synthetic" in synthetic.vacancy_sample.__doc__.lower()
    assert "never real" in synthetic.vacancy_sample.__doc__
    assert sample["object_id"].str.startswith("SYN-").all()
    assert sample["object_id"].is_unique


def test_canonical_vacancy_columns(sample):
    assert sample.crs.equals(candidates.CRS)
    for col in ("object_id", "function", "floor_area_m2", "vacant_since", "synthetic"):
        assert col in sample.columns
    assert set(sample["function"]) == {"kantoor", "winkel"}
    assert pd.api.types.is_datetime64_any_dtype(sample["vacant_since"])
    assert (sample["floor_area_m2"] >= 25).all() and (sample["floor_area_m2"] <= 40_000).all()
    # passes the candidates validator unchanged
    candidates.check_vacancy(sample)


def test_points_inside_their_buurt(buurten, sample):
    joined = gpd.sjoin(sample[["zone_id", "geometry"]], buurten[["zone_id", "geometry"]],
                       predicate="within", how="left")
    assert (joined["zone_id_left"] == joined["zone_id_right"]).groupby(level=0).any().all()


def test_dates_span_and_realistic_structural_share(sample):
    ref = pd.Timestamp("2024-01-01")
    assert sample["vacant_since"].max() <= ref
    assert sample["vacant_since"].min() >= pd.Timestamp("2016-01-01")
    st = candidates.is_structural(sample["vacant_since"], ref, 3)
    office = st[sample["function"] == "kantoor"]
    shop = st[sample["function"] == "winkel"]
    # binomial sd ≈ sqrt(.24/770) ≈ 0.018: ±0.06 is > 3 sd
    assert len(office) > 500 and abs(office.mean() - 0.60) < 0.06
    assert len(shop) > 500 and abs(shop.mean() - 0.30) < 0.06
    # structural durations reach up to 8 years, recent ones start right after as_of - 3 y
    assert sample.loc[~st.to_numpy(), "vacant_since"].min() > pd.Timestamp("2021-01-01")


def test_vacant_floor_area_matches_national_rates(buurten, sample):
    office_stock = (buurten["a_bed_kl"] + buurten["a_bed_mn"]).sum() * 100.0
    shop_stock = buurten["a_bed_gi"].sum() * 80.0
    by = sample.groupby("function")["floor_area_m2"].sum()
    # compound-Poisson relative sd ≈ sqrt(e^{σ²}/λ) ≈ 6 % (offices), 5 % (shops)
    assert by["kantoor"] / office_stock == pytest.approx(0.165, rel=0.18)
    assert by["winkel"] / shop_stock == pytest.approx(0.09, rel=0.18)
    med = sample.groupby("function")["floor_area_m2"].median()
    assert med["kantoor"] == pytest.approx(800, rel=0.15)
    assert med["winkel"] == pytest.approx(150, rel=0.15)
    # counts proportional to establishments: strong correlation per buurt
    n_off = sample[sample["function"] == "kantoor"].groupby("zone_id").size()
    est = (buurten.set_index("zone_id")["a_bed_kl"] + buurten.set_index("zone_id")["a_bed_mn"])
    n_off = n_off.reindex(est.index, fill_value=0)
    assert np.corrcoef(n_off, est)[0, 1] > 0.7


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2024-05-01", "2021-05-01"),
    ("2023-02-28", "2020-02-29"),  # 29 Feb 2020 + 3 years = 28 Feb 2023
    ("2024-02-29", "2021-02-28"),
    ("2024-03-01", "2021-03-01"),
])
def test_last_structural_date(as_of, expected):
    got = synthetic.last_structural_date(pd.Timestamp(as_of), 3)
    assert got == pd.Timestamp(expected)
    s = pd.Series([got, got + pd.Timedelta(days=1)])
    assert candidates.is_structural(s, as_of, 3).tolist() == [True, False]


def test_leap_day_as_of_consistent(buurten):
    sub = buurten[buurten["zone_id"].str.startswith("BU036300")]
    v = synthetic.vacancy_sample(sub, seed=1, as_of="2024-02-29")
    assert v["vacant_since"].max() <= pd.Timestamp("2024-02-29")
    assert v["vacant_since"].min() >= pd.Timestamp("2016-02-29")


def test_bad_inputs(buurten):
    with pytest.raises(InputError, match="a_bed_gi"):
        synthetic.vacancy_sample(buurten.drop(columns="a_bed_gi"))
    with pytest.raises(InputError, match="EPSG:28992"):
        synthetic.vacancy_sample(buurten.to_crs(4326))
    with pytest.raises(InputError, match="not a date"):
        synthetic.vacancy_sample(buurten, as_of="yesterday-ish")


def test_missing_counts_reported_not_invented(buurten):
    sub = buurten.iloc[:20].copy()
    sub.loc[sub.index[:3], "a_bed_gi"] = np.nan
    v = synthetic.vacancy_sample(sub, seed=0)
    skipped = set(sub["zone_id"].iloc[:3])
    assert set(v.attrs["skipped_zones"]) == skipped
    assert not ((v["function"] == "winkel") & v["zone_id"].isin(skipped)).any()


def test_kwb2021_zero_filled_counts_give_no_sample():
    # the 2021 file has a_bed_* filled with 0 for "not yet published" (PROVENANCE.md)
    z = canonical_buurten(KWB2021)
    assert (z["a_bed_gi"] == 0).all()
    with pytest.raises(InputError, match="no synthetic vacancy"):
        synthetic.vacancy_sample(z)
