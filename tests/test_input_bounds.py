"""Resource bounds on inputs: YAML alias bombs and duplicate keys, ZIP bombs, table sizes."""

from __future__ import annotations

import json
import time
import zipfile

import pytest

from ruimtekit import _io, study
from ruimtekit._errors import InputError, StudyError
from ruimtekit.io import gtfs
from transit_fixtures import write_feed, zip_feed

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(9))


def _study_text(options: str) -> str:
    return f"""name: bomb
layers:
  z: {{kind: zones, path: zones.gpkg}}
networks:
  walk: {{kind: crowfly, mode: walk, options: {options}}}
"""


def test_billion_laughs_in_network_options_fails_fast(tmp_path):
    text = _study_text("{}").replace("options: {}", "options: {bomb: *j}")
    text = BOMB.replace("a: &a", "x0: &a") + text  # anchors defined at the top level
    p = tmp_path / "bomb.yaml"
    p.write_text(text, encoding="utf-8")
    t0 = time.process_time()
    with pytest.raises(StudyError, match="expands to more than"):
        study.load_study(p)
    assert time.process_time() - t0 < 5  # no expansion happened (10^9 values otherwise)


def test_alias_expansion_count_matches_hand_count():
    # 3 lists of 3 references to a 3-item list: 1 + 3 * (1 + 3) = 13 nodes under b
    text = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"
    assert _io.load_yaml(text) == {"a": [1, 2, 3], "b": [[1, 2, 3]] * 3}
    old = _io.MAX_YAML_NODES
    try:
        _io.MAX_YAML_NODES = 12  # b alone expands to 13 nodes
        with pytest.raises(StudyError, match="expands to more than 12"):
            _io.load_yaml(text)
        _io.MAX_YAML_NODES = 19  # whole document: root 1 + keys 2 + a 4 + b 13 = 20
        with pytest.raises(StudyError, match="expands to more than 19"):
            _io.load_yaml(text)
        _io.MAX_YAML_NODES = 20
        _io.load_yaml(text)
    finally:
        _io.MAX_YAML_NODES = old


def test_recursive_alias_and_merge_keys():
    with pytest.raises(StudyError, match="refers to itself"):
        _io.load_yaml("a: &a [1, *a]\n")
    assert _io.load_yaml("base: &b {p: 1}\nn: {<<: *b, q: 2}\n") == {
        "base": {"p": 1}, "n": {"p": 1, "q": 2}}


def test_duplicate_yaml_key_names_both_lines(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("name: dup\nlayers:\n  zones: {kind: zones, path: a.gpkg}\n"
                 "  zones: {kind: zones, path: b.gpkg}\n", encoding="utf-8")
    with pytest.raises(StudyError, match=r"duplicate key 'zones' at line 4 \(first at line 3\)"):
        study.load_study(p)


def test_oversized_study_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "MAX_YAML_BYTES", 100)
    p = tmp_path / "big.yaml"
    p.write_text("name: big\n" + "# padding\n" * 20, encoding="utf-8")
    with pytest.raises(StudyError, match="above the limit"):
        study.load_study(p)


def test_provenance_does_not_expand_large_user_data():
    from ruimtekit import pipeline

    small = {"a": 1}
    assert pipeline._bounded(small) == small
    big = {"options": ["x" * 1000] * 2000}
    out = pipeline._bounded(big)
    assert "omitted" in out and len(json.dumps(out)) < 500


def _bomb_feed(tmp_path, mib=24):
    folder = write_feed(tmp_path / "feed")
    z = zip_feed(folder, tmp_path / "feed.zip")
    with zipfile.ZipFile(z) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = members["stop_times.txt"].split(b"\n", 1)[0] + b"\n"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            if n == "stop_times.txt":
                data = header + b"T1,07:00:00,07:00:00,A,1\n" * (mib * 2**20 // 25)
            zf.writestr(n, data)
    return z


def test_gtfs_zip_bomb_is_refused_before_reading(tmp_path):
    z = _bomb_feed(tmp_path)
    assert z.stat().st_size < 2**20  # about 24 MiB inflated from a few hundred kB
    with pytest.raises(InputError, match=r"stop_times.txt has a compression ratio of"):
        gtfs.read_gtfs(z)


def test_zip_member_size_limit(tmp_path, monkeypatch):
    z = zip_feed(write_feed(tmp_path / "feed"), tmp_path / "feed.zip")
    assert len(gtfs.read_gtfs(z).stops) == 12  # within the limits
    monkeypatch.setattr(_io, "MAX_ZIP_MEMBER_BYTES", 200)
    with pytest.raises(InputError, match="inflates to .* above the limit"):
        gtfs.read_gtfs(z)


def test_zip_member_needing_more_memory_than_available(tmp_path, monkeypatch):
    z = zip_feed(write_feed(tmp_path / "feed"), tmp_path / "feed.zip")
    assert _io.available_memory() > 2**20  # Linux MemAvailable is read
    monkeypatch.setenv("RUIMTEKIT_MEMORY_CHECK", "0")
    assert _io.available_memory() is None
    monkeypatch.setattr(_io, "available_memory", lambda: 2000)  # bytes
    with pytest.raises(InputError, match=r"needs about .* GiB of memory, more than"):
        gtfs.read_gtfs(z)
