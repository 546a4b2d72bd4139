"""The one tabular reader (_vector.read_table / read_any for tables): delimiters, decimal
commas, encodings, XLSX, Parquet, empty and corrupt files, and where it is used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ruimtekit import _io, _vector
from ruimtekit._errors import InputError
from ruimtekit.engine import impedance
from ruimtekit.io import layers

ROOT = Path(__file__).resolve().parents[1]
WIJK_BANEN = ROOT / "data/raw/cbs_wijk_banen_2014.csv"  # CBS, bundled


def _dutch_excel(df: pd.DataFrame, path: Path) -> Path:
    """What Dutch Excel writes for "CSV (gescheiden door lijstscheidingsteken)"."""
    path.write_bytes(df.to_csv(index=False, sep=";", decimal=",").encode("cp1252"))
    return path


def test_dutch_excel_csv_equals_the_original(tmp_path):
    orig = pd.read_csv(WIJK_BANEN, dtype={"wk_code": str})
    orig["aandeel"] = orig["banen_werkplaats"] / orig["banen_werkplaats"].sum()
    got = _vector.read_table(_dutch_excel(orig, tmp_path / "banen.csv"),
                             text_columns=("wk_code",))
    assert got["wk_code"].tolist() == orig["wk_code"].tolist()
    np.testing.assert_array_equal(got["banen_werkplaats"], orig["banen_werkplaats"])
    np.testing.assert_allclose(got["aandeel"], orig["aandeel"], rtol=1e-15)


def test_thousands_separator_and_decimal_comma(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("code;banen;aandeel\nA;1.234,5;0,25\nB;12;1\nC;;0,5\n", encoding="utf-8-sig")
    df = _vector.read_table(p)
    assert df["banen"].tolist()[:2] == [1234.5, 12.0] and np.isnan(df["banen"][2])
    assert df["aandeel"].tolist() == [0.25, 1.0, 0.5]
    # in a comma-separated file a plain "1.234" is a decimal point
    p.write_text("code,v\nA,1.234\nB,2\n")
    assert _vector.read_table(p)["v"].tolist() == [1.234, 2.0]


def test_codes_with_leading_zeros_stay_text(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gm;n\n0363;5\n0518;7\n")
    df = _vector.read_table(p)
    assert df["gm"].tolist() == ["0363", "0518"] and df["n"].tolist() == [5, 7]


def test_xlsx_and_parquet_read_like_csv(tmp_path):
    orig = pd.read_csv(WIJK_BANEN, dtype={"wk_code": str}).head(50)
    orig.to_excel(tmp_path / "banen.xlsx", index=False)
    orig.to_parquet(tmp_path / "banen.parquet")
    for name in ("banen.xlsx", "banen.parquet"):
        got = _vector.read_table(tmp_path / name, text_columns=("wk_code",))
        assert got["wk_code"].tolist() == orig["wk_code"].tolist()
        np.testing.assert_array_equal(got["banen_werkplaats"].astype(float),
                                      orig["banen_werkplaats"].astype(float))


@pytest.mark.parametrize(("content", "match"), [
    (b"", "empty"),
    (b"a,b,c\n", "no rows"),
    (b"\x00\x01binary", "NUL bytes"),
    (b"a,b\n1,2,3,4\n5\n", "more fields than the header"),
    (b"a,b\n1,2\n3,4,5\n", "cannot be read"),
])
def test_bad_csv_files(tmp_path, content, match):
    p = tmp_path / "t.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=match):
        _vector.read_table(p)


def test_corrupt_parquet_and_xlsx(tmp_path):
    for name in ("t.parquet", "t.xlsx"):
        p = tmp_path / name
        p.write_bytes(b"PK\x03\x04 not really" if name.endswith("xlsx") else b"PAR1junk")
        with pytest.raises(InputError, match="cannot be read"):
            _vector.read_table(p)


def test_table_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n" + "1,2\n" * 100)
    monkeypatch.setattr(_io, "MAX_TABLE_BYTES", 100)
    with pytest.raises(InputError, match="RUIMTEKIT_MAX_TABLE_MB"):
        _vector.read_table(p)


def test_dutch_skim_equals_the_comma_skim(tmp_path):
    rows = pd.DataFrame({"origin": ["a", "a", "b", "b"], "destination": ["a", "b", "a", "b"],
                         "time": [0.0, 12.5, 13.25, 0.0]})
    rows.to_csv(tmp_path / "skim.csv", index=False)
    _dutch_excel(rows, tmp_path / "skim_nl.csv")
    a = impedance.read_skim(tmp_path / "skim.csv")
    b = impedance.read_skim(tmp_path / "skim_nl.csv")
    pd.testing.assert_frame_equal(a, b)
    assert b["time_s"].tolist() == [0.0, 750.0, 795.0, 0.0]


def test_dutch_jobs_table_by_code_is_read_not_missing(tmp_path):
    orig = pd.read_csv(WIJK_BANEN, dtype={"wk_code": str}).head(30)
    orig["banen_werkplaats"] = orig["banen_werkplaats"] + 0.5  # force decimal commas
    jobs = layers.read_jobs(_dutch_excel(orig, tmp_path / "banen.csv"))
    assert jobs.attrs["total"] == pytest.approx(orig["banen_werkplaats"].sum())
    assert not jobs["jobs"].isna().any()


def test_cp1252_csv_beside_a_geopackage_is_read(tmp_path):
    from ruimtekit.report import maps

    (tmp_path / "notes.csv").write_bytes("naam;waarde\ncafé;1,5\n".encode("cp1252"))
    (tmp_path / "junk.csv").write_bytes(b"\x00\x00\x00")
    tables = maps._read_tables(tmp_path)
    assert list(tables) == ["notes"] and tables["notes"]["naam"][0] == "café"
    assert tables["notes"]["waarde"][0] == 1.5
