"""``file.gpkg:layer`` arguments: splitting, and layer choice in `candidates -a` and `map`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ruimtekit import _layerpath
from ruimtekit._errors import InputError
from ruimtekit.analysis import candidates
from ruimtekit.report import export
from test_maps import amsterdam_zones
from test_maps import candidates as candidate_points


@pytest.mark.parametrize(("arg", "expected"), [
    ("data/processed/demo/demo.gpkg:access_ams_buurten", ("data/processed/demo/demo.gpkg", "access_ams_buurten")),
    ("demo.GPKG:x", ("demo.GPKG", "x")),
    ("data/processed/demo/demo.gpkg", ("data/processed/demo/demo.gpkg", None)),
    ("C:\\data\\zones.gpkg", ("C:\\data\\zones.gpkg", None)),
    ("zones.parquet:abc", ("zones.parquet:abc", None)),
])
def test_split(arg, expected):
    path, layer = _layerpath.split(arg)
    assert (str(path), layer) == (str(Path(expected[0])), expected[1])


@pytest.fixture
def gpkg(tmp_path):
    z = amsterdam_zones().iloc[:50].copy()
    z["establishments_45min_bike"] = np.arange(50.0)
    pts = candidate_points(z, 30)
    pts["zone_id"] = z["zone_id"].iloc[0]  # 30 rows, one zone: not one row per zone
    pts["establishments_45min_transit"] = 1.0
    path = tmp_path / "demo.gpkg"
    export.write_geopackage({"access_ams": z, "candidates": pts}, path)
    return path


def test_accessibility_layers_skip_point_results(gpkg):
    frames = candidates.read_accessibility_gpkg(gpkg)
    assert len(frames) == 1 and len(frames[0]) == 50 and frames[0]["zone_id"].is_unique
    frames = candidates.read_accessibility_gpkg(f"{gpkg}:access_ams")
    assert len(frames) == 1 and "establishments_45min_bike" in frames[0]
    with pytest.raises(InputError, match="repeated zone_id") as exc:
        candidates.read_accessibility_gpkg(f"{gpkg}:candidates")
    assert "demo.gpkg" in str(exc.value)
    with pytest.raises(InputError, match="'nope' is not in the GeoPackage") as exc:
        candidates.read_accessibility_gpkg(f"{gpkg}:nope")
    assert "access_ams" in str(exc.value)


def test_map_one_layer(gpkg, tmp_path):
    from typer.testing import CliRunner

    from ruimtekit.cli import app

    out = tmp_path / "maps"
    res = CliRunner().invoke(app, ["map", "--gpkg", f"{gpkg}:access_ams", "--out", str(out), "--no-figures", "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "access_ams.html").is_file() and not (out / "candidates.html").exists()
    res = CliRunner().invoke(app, ["map", "--gpkg", str(gpkg), "--layer", "candidates", "--out", str(out),
                                   "--no-figures", "-q"])
    assert res.exit_code == 0, res.output
    assert (out / "candidates.html").is_file() and not (out / "access_ams.html").exists()
    res = CliRunner().invoke(app, ["map", "--gpkg", f"{gpkg}:nope", "--out", str(out), "-q"])
    assert res.exit_code == 2 and "nope" in res.output and "access_ams" in res.output
