"""docs/api.md runs: its notebook code, then its CLI commands, then its comparison of
the two (the CLI must reproduce the notebook's numbers)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from ruimtekit.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_api_page_runs_and_the_cli_reproduces_it(tmp_path, monkeypatch):
    text = DOC.read_text(encoding="utf-8")
    py = _blocks(text, "python")
    sh = _blocks(text, "bash")
    assert len(py) == 2 and len(sh) == 1
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(py[0], str(DOC), "exec"), ns)  # noqa: S102 - the documented example
    assert ns["ttm"]["travel_time"].notna().sum() > 100
    for line in sh[0].strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "ruimtekit"
        res = CliRunner().invoke(app, [*args[1:], "--quiet"])
        assert res.exit_code == 0, (line, res.output)
    exec(compile(py[1], str(DOC), "exec"), ns)  # noqa: S102
    assert os.path.exists("out/api_example/delft_car.parquet")
