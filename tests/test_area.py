"""Area selection in the study file (``area:`` on a layer): gemeente, province, COROP, PC4 list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ruimtekit._errors import InputError
from ruimtekit.io import layers

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


@pytest.fixture(scope="module")
def pc4():
    return layers.read_zones(RAW / "cbs_pc4_2021.parquet", level="pc4")


@pytest.fixture(scope="module")
def lookup():
    t = pd.read_csv(RAW / "cbs_postcode_lookup_2021.csv", dtype={"postcode": str})
    return t[t["postcode"].str.len() == 4].set_index("postcode")


@pytest.mark.parametrize(("area", "column", "value"), [
    ("gemeente Delft", "gemeente", "Delft"),
    ("provincie Utrecht", "provincie", "Utrecht"),
    ("CR23", "corop_naam", "Groot-Amsterdam"),
])
def test_area_matches_postcode_lookup(pc4, lookup, area, column, value):
    """Independent oracle: the CBS postcode lookup's gemeente/provincie/COROP per PC4."""
    got = set(layers.clip_area(pc4, area)["zone_id"])
    expected = set(lookup.index[lookup[column] == value]) & set(pc4["zone_id"])
    assert expected
    # PC4 areas straddling a border go where their representative point lies
    agree = len(got & expected) / len(got | expected)
    assert agree > 0.95, (area, sorted(got ^ expected)[:20])


def test_pc4_list_and_spec(pc4, tmp_path):
    got = layers.clip_area(pc4, [2611, "2612", 2613])
    assert sorted(got["zone_id"]) == ["2611", "2612", "2613"]
    assert got.attrs["area"] == ["postcode 2611", "postcode 2612", "postcode 2613"]
    spec = layers.LayerSpec(path=RAW / "cbs_pc4_2021.parquet", kind="zones", level="pc4",
                            area=["gemeente Delft"])
    z = layers.load(spec, RAW)
    assert set(z["zone_id"]) == set(layers.clip_area(pc4, "Delft")["zone_id"]) and 5 < len(z) < 20


def test_area_errors(pc4):
    with pytest.raises(InputError, match="area 'Atlantis'") as exc:
        layers.clip_area(pc4, "Atlantis", "zones.parquet")
    assert "zones.parquet" in str(exc.value)
    with pytest.raises(InputError, match="empty list"):
        layers.clip_area(pc4, [])
    with pytest.raises(InputError, match="no feature lies inside"):
        layers.clip_area(pc4[pc4["zone_id"] == "2611"], "provincie Groningen")
