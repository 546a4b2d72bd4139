"""CLI: help texts with units, clean errors (exit 2, no traceback)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ruimtekit.cli import app

runner = CliRunner()

COMMANDS = ["run", "access", "transit", "borrowed-size", "candidates", "map", "fetch"]


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
