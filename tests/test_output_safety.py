"""Output-writing discipline: ruimtekit never deletes or moves what it did not create.

Covers the data-destroying `map --out <existing folder>` bug of issue #15, files where
folders are expected (and the reverse), unwritable outputs, permissions (umask), and
temporary files on error paths.
"""

from __future__ import annotations

import json
import os
import stat

import geopandas as gpd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from ruimtekit import _io
from ruimtekit._errors import InputError, OutputError
from ruimtekit.cli import app
from ruimtekit.report import export


def _gpkg(tmp_path):
    z = gpd.GeoDataFrame(
        {"zone_id": ["a", "b", "c", "d"], "jobs_45min_car": [10.0, 250.0, 4000.0, 90.0]},
        geometry=[box(120000 + i * 500, 487000, 120500 + i * 500, 487500) for i in range(4)],
        crs=28992)
    path = tmp_path / "processed" / "demo" / "demo.gpkg"
    export.write_geopackage({"accessibility": z}, path)
    return path


def _map(gpkg, out, *extra):
    return CliRunner().invoke(app, ["map", "--gpkg", str(gpkg), "--out", str(out), "--offline",
                                    "--no-figures", "--quiet", *extra])


def _out(res):
    return " ".join(res.output.split())


def _listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_map_out_refuses_a_users_folder_and_keeps_its_files(tmp_path):
    gpkg = _gpkg(tmp_path)
    out = tmp_path / "mijn_map"
    out.mkdir()
    (out / "notities.txt").write_text("belangrijk")
    before = _listing(tmp_path)
    res = _map(gpkg, out)
    assert res.exit_code == 2, res.output
    assert "not empty" in _out(res) and "--overwrite" in _out(res)
    assert "Traceback" not in _out(res)
    assert (out / "notities.txt").read_text() == "belangrijk"
    assert _listing(tmp_path) == before  # nothing written, no hidden leftovers

    res = _map(gpkg, out, "--overwrite")
    assert res.exit_code == 0, res.output
    assert (out / "notities.txt").read_text() == "belangrijk"
    assert (out / "index.html").is_file() and (out / "accessibility.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_map_out_on_a_file_leaves_the_file_alone(tmp_path):
    gpkg = _gpkg(tmp_path)
    out = tmp_path / "kaart.html"
    out.write_text("<html>mine</html>")
    res = _map(gpkg, out)
    assert res.exit_code == 2, res.output
    assert "is a file" in _out(res) and "Traceback" not in _out(res)
    assert out.read_text() == "<html>mine</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kaart.html", "processed"]
    res = _map(gpkg, out, "--overwrite")  # --overwrite never turns a file into a folder
    assert res.exit_code == 2 and out.read_text() == "<html>mine</html>"


def test_rerun_replaces_own_files_removes_own_stale_files_keeps_user_files(tmp_path):
    target = tmp_path / "out"
    with _io.atomic_dir(target) as d:
        (d / "a.html").write_text("v1")
        (d / "old.html").write_text("v1")
        (d / "figures").mkdir()
        (d / "figures" / "f.png").write_bytes(b"png")
    manifest = json.loads((target / _io.MANIFEST).read_text())
    assert manifest["files"] == ["a.html", "figures/f.png", "old.html"]
    (target / "notities.txt").write_text("mine")
    with _io.atomic_dir(target) as d:  # ours (manifest): no --overwrite needed
        (d / "a.html").write_text("v2")
    assert (target / "a.html").read_text() == "v2"
    assert (target / "notities.txt").read_text() == "mine"
    assert not (target / "old.html").exists() and not (target / "figures").exists()
    assert _listing(target) == [_io.MANIFEST, "a.html", "notities.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_user_file_with_an_output_name_in_our_folder_needs_no_manifest_listing(tmp_path):
    # a folder written by ruimtekit before manifests existed (provenance.json) is ours
    target = tmp_path / "demo"
    target.mkdir()
    (target / "provenance.json").write_text('{"ruimtekit_version": "0.0.9"}')
    (target / "notes.md").write_text("mine")
    with _io.atomic_dir(target, kind="data") as d:
        (d / "provenance.json").write_text('{"ruimtekit_version": "0.1.0"}')
    assert (target / "notes.md").read_text() == "mine"
    assert "0.1.0" in (target / "provenance.json").read_text()


def test_atomic_dir_failure_leaves_no_temporary_folder(tmp_path):
    target = tmp_path / "study"
    with pytest.raises(ValueError):
        with _io.atomic_dir(target) as d:
            (d / "half.txt").write_text("partial")
            raise ValueError("step failed")
    assert list(tmp_path.iterdir()) == []


def test_conflict_is_detected_before_any_file_moves(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "index.html").mkdir()  # a folder where a file will go
    (target / "x.txt").write_text("mine")
    with pytest.raises(OutputError, match="is a folder"):
        with _io.atomic_dir(target, overwrite=True) as d:
            (d / "a.html").write_text("new")
            (d / "index.html").write_text("new")
    assert _listing(target) == ["index.html", "x.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_output_folders_and_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with _io.atomic_dir(tmp_path / "shared") as d:
            (d / "sub").mkdir()
            _io.write_text(d / "sub" / "t.txt", "x")
        _io.write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "shared" / "sub" / "t.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644


def test_atomic_path_on_a_folder_or_below_a_file(tmp_path):
    (tmp_path / "dir.gpkg").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        with _io.atomic_path(tmp_path / "dir.gpkg") as t:
            t.write_text("x")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        _io.write_text(tmp_path / "afile" / "sub" / "out.txt", "x")
    with pytest.raises(OutputError, match="is a file"):
        with _io.atomic_dir(tmp_path / "afile" / "study"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "dir.gpkg"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder_names_the_path(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            _io.write_text(ro / "x.txt", "x")
    finally:
        ro.chmod(0o755)


def test_atomic_path_cleans_gdal_side_files(tmp_path):
    target = tmp_path / "out.gpkg"
    with pytest.raises(RuntimeError):
        with _io.atomic_path(target) as tmp:
            tmp.write_text("x")
            tmp.with_name(tmp.name + "-journal").write_text("j")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):
        raise InputError("x.csv", "bad", "fix it")


def test_cli_version():
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("ruimtekit ")


def test_cli_file_outputs_on_a_folder_fail_fast(tmp_path):
    (tmp_path / "out.gpkg").mkdir()
    zones = tmp_path / "zones.geojson"
    res = CliRunner().invoke(app, ["access", "--zones", str(zones), "--network", "crowfly",
                                   "--mode", "bike", "-o", str(tmp_path / "out.gpkg")])
    assert res.exit_code == 2 and "is a folder" in _out(res) and "Traceback" not in _out(res)
    res = CliRunner().invoke(app, ["borrowed-size", str(zones), "-o", str(tmp_path / "out.gpkg")])
    assert res.exit_code == 2 and "is a folder" in _out(res)


def test_run_refuses_a_users_output_folder_before_any_work(tmp_path):
    from test_pipeline import _small  # the small Delft study (real bundled data)

    study = _small(tmp_path)
    mine = tmp_path / "maps" / "small"
    mine.mkdir(parents=True)
    (mine / "notities.txt").write_text("mine")
    res = CliRunner().invoke(app, ["run", str(study), "--quiet"])
    assert res.exit_code == 2 and "not empty" in _out(res) and "--overwrite" in _out(res)
    assert not (tmp_path / "processed" / "small").exists()  # refused before any step ran
    assert _listing(tmp_path / "maps") == ["small", "small/notities.txt"]


def test_map_into_the_studys_data_folder_never_removes_the_data(tmp_path):
    gpkg = _gpkg(tmp_path)
    data = gpkg.parent
    with _io.atomic_dir(data, overwrite=True, kind="data") as d:  # as `ruimtekit run` would
        export.write_geopackage({"accessibility": gpd.read_file(gpkg)}, d / "demo.gpkg")
        _io.write_json(d / "provenance.json", {"ruimtekit_version": "0.1.0"})
    before = _listing(data)
    res = _map(data / "demo.gpkg", data)
    assert res.exit_code == 2 and "not empty" in _out(res)  # a data folder is not a maps one
    assert _listing(data) == before
    res = _map(data / "demo.gpkg", data, "--overwrite")
    assert res.exit_code == 0, res.output
    assert {"demo.gpkg", "provenance.json", "index.html"} <= set(_listing(data))
    assert json.loads((data / _io.MANIFEST).read_text())["kind"] == "data"  # still the run's


def test_same_output_and_maps_folder_is_refused(tmp_path):
    from test_pipeline import _small

    study = _small(tmp_path)
    study.write_text(study.read_text().replace("maps_dir: " + str(tmp_path / "maps"),
                                               "maps_dir: " + str(tmp_path / "processed")))
    res = CliRunner().invoke(app, ["run", str(study), "--quiet"])
    assert res.exit_code == 2 and "both lead to" in _out(res)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_output_file_is_not_replaced(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("keep")
    p.chmod(0o444)
    with pytest.raises(OutputError, match="read-only"):
        _io.write_text(p, "new")
    assert p.read_text() == "keep"


def test_unexpected_errors_are_one_line_and_verbose_shows_the_trace(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("simulated\nbug")

    monkeypatch.setattr("ruimtekit._commands.run_access", boom)
    args = ["access", "--zones", "z.gpkg", "--network", "crowfly", "--mode", "walk", "-o",
            str(tmp_path / "a.gpkg")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1
    assert "error: unexpected RuntimeError: simulated bug" in _out(res)
    assert "ruimtekit --verbose access" in _out(res) and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["--verbose", *args])
    assert res.exit_code == 1 and "Traceback" in res.output and "RuntimeError" in res.output

    def oserr(*a, **k):
        raise PermissionError(13, "Permission denied", "/data/secret.gpkg")

    monkeypatch.setattr("ruimtekit._commands.run_access", oserr)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "error: /data/secret.gpkg: Permission denied" in _out(res)
    assert not (tmp_path / "a.gpkg").exists()
