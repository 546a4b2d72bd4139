"""Property-style fuzzing of the readers (issue #15): random corruptions of bundled inputs
(truncation, byte flips, wrong delimiters, decimal commas, encodings, huge values) give
either a clean ruimtekit error or a correct result, never another exception."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruimtekit import _io, _vector, study
from ruimtekit._errors import InputError, RuimtekitError
from ruimtekit.engine import impedance
from ruimtekit.io import gtfs, places
from transit_fixtures import HAND_FILES

ROOT = Path(__file__).resolve().parents[1]
BANEN = (ROOT / "data/raw/cbs_gemeente_banen_2014.csv").read_bytes()  # CBS, bundled
DEMO = (ROOT / "studies/demo.yaml").read_bytes()
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
EXPECTED = _vector.read_table(ROOT / "data/raw/cbs_gemeente_banen_2014.csv",
                              text_columns=("gm_code",))


def _hand_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, t in HAND_FILES.items():
            zf.writestr(n, t)
    return buf.getvalue()


HAND_ZIP = _hand_zip()


@st.composite
def corruption(draw, data: bytes):
    """Truncate, flip bytes, or insert junk: a damaged copy of ``data``."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "empty"]))
    b = bytearray(data)
    if kind == "truncate":
        return bytes(b[:draw(st.integers(0, len(b) - 1))])
    if kind == "empty":
        return b""
    if kind == "flip":
        for _ in range(draw(st.integers(1, 20))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] = draw(st.integers(0, 255))
        return bytes(b)
    i = draw(st.integers(0, len(b)))
    return bytes(b[:i]) + draw(st.binary(min_size=1, max_size=64)) + bytes(b[i:])


def _clean_or(fn, *args):
    try:
        return fn(*args)
    except RuimtekitError:
        return None


@FUZZ
@given(data=corruption(BANEN))
def test_table_reader_damaged_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("t") / "banen.csv"
    p.write_bytes(data)
    df = _clean_or(_vector.read_table, p, ("gm_code",))
    if df is not None:  # a readable damaged file: a table with text column names
        assert len(df.columns) >= 1 and all(isinstance(c, str) for c in df.columns)


@FUZZ
@given(sep=st.sampled_from([";", "\t", "|"]), decimal_comma=st.booleans(),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]), crlf=st.booleans())
def test_table_reader_dialects_give_the_same_table(tmp_path_factory, sep, decimal_comma,
                                                   encoding, crlf):
    df = EXPECTED.copy()
    df["share"] = df["banen_werkplaats"] / (df["banen_woonplaats"] + 1.0)
    df["naam"] = "Súdwest-Fryslân"  # a non-ASCII value (cp1252-encodable)
    text = df.to_csv(index=False, sep=sep, decimal="," if decimal_comma and sep != "," else ".",
                     lineterminator="\r\n" if crlf else "\n", float_format="%.6f")
    p = tmp_path_factory.mktemp("d") / "banen.csv"
    p.write_bytes(text.encode(encoding))
    got = _vector.read_table(p, text_columns=("gm_code",))
    assert list(got.columns) == list(df.columns)
    assert got["gm_code"].tolist() == df["gm_code"].tolist()
    np.testing.assert_array_equal(got["banen_werkplaats"], df["banen_werkplaats"])
    np.testing.assert_allclose(got["share"], df["share"], rtol=0, atol=5e-7)
    assert (got["naam"] == "Súdwest-Fryslân").all()


def _skim_csv(times: list[float]) -> bytes:
    ids = ["a", "b", "c"]
    rows = [f"{o},{d},{t!r}" for (o, d), t in zip([(o, d) for o in ids for d in ids],
                                                 times, strict=True)]
    return ("origin,destination,time\n" + "\n".join(rows) + "\n").encode()


@FUZZ
@given(times=st.lists(st.one_of(st.floats(0, 600), st.sampled_from(
    [1.5e308, float("inf"), float("nan"), -1.0, 1e20])), min_size=9, max_size=9))
def test_skim_reader_huge_or_invalid_values(tmp_path_factory, times):
    p = tmp_path_factory.mktemp("s") / "skim.csv"
    p.write_bytes(_skim_csv(times))
    df = _clean_or(impedance.read_skim, p)
    ok = all(np.isfinite(t) and 0 <= t for t in times) and all(t * 60 < np.inf for t in times)
    if df is None:
        assert not ok or any(t * 60 == np.inf for t in times)
    else:
        assert ok
        np.testing.assert_allclose(df["time_s"].to_numpy(), np.array(times) * 60.0)


@FUZZ
@given(data=corruption(_skim_csv([0, 5, 9, 5, 0, 7, 9, 7, 0])))
def test_skim_reader_damaged_bytes(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("s") / "skim.csv"
    p.write_bytes(data)
    df = _clean_or(impedance.read_skim, p)
    if df is not None:
        assert np.isfinite(df["time_s"]).all() and (df["time_s"] >= 0).all()


@FUZZ
@given(data=corruption(HAND_ZIP))
def test_gtfs_reader_damaged_zip(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("g") / "feed.zip"
    p.write_bytes(data)
    feed = _clean_or(gtfs.read_gtfs, p)
    if feed is not None:
        assert len(feed.stops) >= 1 and np.isfinite(feed.stops["x"]).all()


@FUZZ
@given(data=corruption(DEMO))
def test_study_loader_damaged_yaml(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("y") / "study.yaml"
    p.write_bytes(data)
    res = _clean_or(study.load_study, p)
    if res is not None:
        assert res[0].name


@FUZZ
@given(value=st.sampled_from(["1.5e308", "inf", "-inf", "nan", "-3", "1e400", "0x10", "1,5"]),
       row=st.integers(0, 3))
def test_opportunity_values_in_a_zones_table(tmp_path_factory, value, row):

    rows = ["zone_id;x;y;jobs"] + [f"z{i};{120000 + 500 * i};{487000};{100 + i}"
                                   for i in range(4)]
    parts = rows[row + 1].split(";")
    parts[3] = value
    rows[row + 1] = ";".join(parts)
    p = tmp_path_factory.mktemp("o") / "zones.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    z = _vector.read_any(p)
    try:
        w = places.opportunity_weights(z, "jobs", "zones")
    except InputError as exc:
        assert exc.path == p and value != "1,5"
        return
    assert value == "1,5" and w[row] == 1.5  # a Dutch decimal comma is a number


def test_zip_member_stream_errors_are_input_errors(tmp_path):
    bad = bytearray(HAND_ZIP)
    with zipfile.ZipFile(io.BytesIO(HAND_ZIP)) as zf:
        info = zf.getinfo("stop_times.txt")
    start = info.header_offset + 30 + len(info.filename)
    bad[start + 5] ^= 0xFF  # inside the deflate stream of stop_times.txt
    p = tmp_path / "feed.zip"
    p.write_bytes(bytes(bad))
    with zipfile.ZipFile(p) as zf, pytest.raises(InputError, match="stop_times.txt is damaged"):
        with _io.open_zip_member(zf, "stop_times.txt", p) as f:
            f.read()
