"""Shared test fixtures: one scratch workspace and one demo run per test session.

The full demo (``ruimtekit run``) takes minutes; the docs test (every README/docs command)
and the pipeline's end-to-end test both need its outputs, so it runs at most once per
session, in a scratch copy of the repository layout (outputs never land in the checkout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# One BLAS thread in the test process, its subprocesses and Dask workers: on 2 shared cores
# OpenBLAS threads spin-wait beside numba's threads and each other (a 345 × 345 least-squares
# solve took 1.3 s with the default threads under load, 0.03 s with one). Results do not
# depend on it; a value set by the caller wins.
BLAS_THREADS = {k: os.environ.get(k, "1") for k in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
os.environ.update(BLAS_THREADS)
try:  # numpy may already be loaded (a plugin): limit its BLAS pool as well
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(BLAS_THREADS["OPENBLAS_NUM_THREADS"]), user_api="blas")
except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn/spreg
    pass

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 900
"""Longest run of one command in the workspace (seconds)."""


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """A scratch copy of the repository layout with ``ruimtekit`` on the PATH running this
    checkout: ``{"dir": Path, "env": dict, "demo": CompletedProcess | None}``."""
    ws = tmp_path_factory.mktemp("workspace")
    (ws / "data").mkdir()
    (ws / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    (ws / "data" / "processed").mkdir()
    (ws / "maps").mkdir()
    shutil.copytree(ROOT / "studies", ws / "studies")
    for name in ("benchmarks", "docs", "README.md", "pyproject.toml", "src", "tests"):
        (ws / name).symlink_to(ROOT / name)
    bindir = ws / ".bin"
    bindir.mkdir()
    shim = bindir / "ruimtekit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from ruimtekit.cli import main; '
                    'main()" "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ,
           "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "PATH": f"{bindir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
                   f"{os.environ.get('PATH', '')}",
           "MPLBACKEND": "Agg"}
    return {"dir": ws, "env": env, "demo": None}


def run_in(ws: dict, cmd: list[str], what: str) -> subprocess.CompletedProcess:
    """Run ``cmd`` in the workspace; a run beyond :data:`TIMEOUT_S` fails the test."""
    try:
        return subprocess.run(cmd, cwd=ws["dir"], env=ws["env"], capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} did not finish within {TIMEOUT_S} s")


def ensure_demo(ws: dict) -> subprocess.CompletedProcess:
    """Run the demo (``ruimtekit run -q``) once per session; fail the test if it failed."""
    if ws["demo"] is None:
        ws["demo"] = run_in(ws, ["ruimtekit", "run", "-q"], "the demo run (ruimtekit run)")
    r = ws["demo"]
    if r.returncode != 0:
        pytest.fail(f"the demo run failed (exit {r.returncode}):\n"
                    f"{(r.stdout + r.stderr)[-3000:]}")
    return r


@pytest.fixture(scope="session")
def demo_run(workspace):
    """The session's demo run: ``{"gpkg", "maps", "provenance", "dir"}`` paths."""
    ensure_demo(workspace)
    ws = workspace["dir"]
    return {"dir": ws, "gpkg": ws / "data" / "processed" / "demo" / "demo.gpkg",
            "maps": ws / "maps" / "demo" / "index.html",
            "provenance": ws / "data" / "processed" / "demo" / "provenance.json"}

