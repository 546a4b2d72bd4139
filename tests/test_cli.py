"""CLI: help texts with units, clean errors (exit 2, no traceback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ruimtekit.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

COMMANDS = ["run", "access", "transit", "borrowed-size", "candidates", "map", "fetch",
            "calibrate"]


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_root_help_lists_commands():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    out = _plain(res.output)
    for cmd in COMMANDS:
        assert cmd in out


@pytest.mark.parametrize("cmd", COMMANDS)
def test_subcommand_help_mentions_units_and_outputs(cmd):
    res = runner.invoke(app, [cmd, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    out = _plain(res.output).lower()
    assert any(u in out for u in ("minutes", "min", "metres", " m ", "km", "epsg", "seconds")), out
    assert "--quiet" in out


def test_run_bad_study_is_clean_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nlayerz: {}\n")
    res = runner.invoke(app, ["run", str(p)])
    assert res.exit_code == 2
    out = _plain(res.output)
    assert "did you mean 'layers'" in out
    assert "Traceback" not in out


def test_run_missing_study_is_clean_error(tmp_path):
    res = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2
    assert "study file not found" in _plain(res.output)
    assert "Traceback" not in res.output


def test_access_zones_outside_network_is_clean_error(tmp_path):
    out = tmp_path / "x.gpkg"
    res = runner.invoke(app, [
        "access", "--zones", str(ROOT / "data/raw/cbs_kwb2020_amsterdam_buurten.parquet"),
        "--network", str(ROOT / "data/raw/osm/delft_drive.graphml"), "--mode", "car",
        "--opportunities", "establishments", "-o", str(out), "-q",
    ])
    assert res.exit_code == 2
    text = _plain(res.output)
    assert "none of the 443 zones lies within 500 m of the car network" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_access_crowfly_writes_layer(tmp_path):
    import geopandas as gpd

    out = tmp_path / "ams.gpkg"
    res = runner.invoke(app, [
        "access", "--zones", str(ROOT / "data/raw/cbs_kwb2020_amsterdam_buurten.parquet"),
        "--network", "crowfly", "--mode", "bike", "--opportunities", "establishments",
        "--cutoff", "15", "--cutoff", "30", "-o", str(out), "-q",
    ])
    assert res.exit_code == 0, res.output
    g = gpd.read_file(out)
    assert len(g) == 443 and g.crs.to_epsg() == 28992
    # monotone in the cutoff; within 30 min by bike every buurt reaches its own establishments
    assert (g["establishments_30min_bike"] >= g["establishments_15min_bike"]).all()
    assert (g["establishments_15min_bike"] > 0).all()
