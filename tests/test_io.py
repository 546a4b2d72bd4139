"""Atomic writing: a failure never leaves a half-written file or clobbers earlier output."""

from __future__ import annotations

import pytest

from ruimtekit import _io


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "out" / "result.txt"
    _io.write_text(target, "first")
    with pytest.raises(RuntimeError):
        with _io.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.txt"]


def test_atomic_path_requires_something_written(tmp_path):
    target = tmp_path / "x.json"
    with pytest.raises(RuntimeError, match="nothing was written"):
        with _io.atomic_path(target):
            pass
    assert not target.exists()


def test_atomic_dir_keeps_previous_folder_on_failure(tmp_path):
    target = tmp_path / "study"
    with _io.atomic_dir(target) as d:
        (d / "a.txt").write_text("v1")
    with pytest.raises(ValueError):
        with _io.atomic_dir(target) as d:
            (d / "a.txt").write_text("v2-partial")
            raise ValueError("step failed")
    assert (target / "a.txt").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["study"]
    with _io.atomic_dir(target) as d:
        (d / "b.txt").write_text("v3")
    assert sorted(p.name for p in target.iterdir()) == [_io.MANIFEST, "b.txt"]


def test_sha256_known_value(tmp_path):
    p = tmp_path / "abc.txt"
    p.write_bytes(b"abc")
    assert _io.sha256(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
