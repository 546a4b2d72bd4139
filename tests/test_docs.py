"""Every command and code block in README.md and docs/*.md runs on the bundled data.

Blocks are fenced code blocks:

* ``bash``/``sh``/``shell``/``console`` blocks, and untyped blocks whose first command starts
  with ``ruimtekit``, ``python`` or ``make``: run with bash (``set -e``) in a scratch
  workspace (``data/raw``, ``studies``, ``benchmarks``, ``docs`` linked from the repository;
  outputs stay in the workspace), with ``ruimtekit`` on the PATH running this checkout;
* ``python`` blocks: run with the test's interpreter in the same workspace;
* ``yaml`` blocks: parsed with ``yaml.safe_load`` (study fragments).

Other untyped blocks (diagrams, example output) are not commands and are left alone.

The full demo runs at most once per session (the session fixtures of ``conftest.py``, only
when a block needs it; the pipeline's end-to-end test reuses the run): ``make demo``, ``ruimtekit run`` and ``ruimtekit run studies/demo.yaml`` reuse that
run instead of repeating it, and commands reading ``data/processed/demo`` or ``maps/demo`` find
its outputs.

A block that cannot run offline on the bundled data is marked in the Markdown, on the line
right before its fence::

    <!-- docs-test: skip (needs network) -->

The reason is shown in the test report. Each block is one test, named ``<file>:<line>``;
a failure shows the block, its exit code and the end of its output.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ensure_demo, run_in

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND_LANGS = {"bash", "sh", "shell", "console"}
SKIP_RE = re.compile(r"<!--\s*docs-test:\s*skip\b\s*\(?(?P<reason>.*?)\)?\s*-->")
DEMO_RE = re.compile(r"^(make demo|ruimtekit run( studies/demo\.ya?ml)?( -q| --quiet)*)\s*(#.*)?$")
NEEDS_DEMO_RE = re.compile(r"data/processed/demo|maps/demo|^ruimtekit map(\s|$)|^make (demo|screenshots)", re.M)


@dataclass
class Block:
    file: Path
    line: int
    lang: str
    text: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(ROOT).as_posix()}:{self.line}"


def _blocks() -> list[Block]:
    out = []
    for f in DOC_FILES:
        lines = f.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            m = re.match(r"^\s*```(\w*)\s*$", lines[i])
            if not m:
                i += 1
                continue
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            prev = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            sk = SKIP_RE.search(prev)
            out.append(Block(f, i + 1, m.group(1).lower(), "\n".join(lines[i + 1:j]),
                             (sk.group("reason") or "marked skip") if sk else None))
            i = j + 1
    return out


def _commands(text: str) -> list[str]:
    """Shell commands of a block: continuation lines joined, comments and prompts removed."""
    joined = re.sub(r"\\\n\s*", " ", text)
    cmds = []
    for line in joined.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        if line and not line.startswith("#"):
            cmds.append(line)
    return cmds


def _kind(b: Block) -> str | None:
    if b.lang in ("python", "py"):
        return "python"
    if b.lang in ("yaml", "yml"):
        return "yaml"
    cmds = _commands(b.text)
    if b.lang in COMMAND_LANGS or (b.lang == "" and cmds and
                                   re.match(r"^(ruimtekit|python|make)\b", cmds[0])):
        return "shell"
    return None


BLOCKS = [b for b in _blocks() if _kind(b)]


def _run(cmd: list[str], ws: dict, what: str) -> subprocess.CompletedProcess:
    return run_in(ws, cmd, what)


def _demo(ws: dict) -> None:
    """Run the demo once per session (reused by every block that needs its outputs and by
    the pipeline's end-to-end test; see ``conftest.py``)."""
    ensure_demo(ws)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_doc_block(block: Block, workspace):
    if block.skip is not None:
        pytest.skip(f"{block.id}: {block.skip}")
    kind = _kind(block)
    if kind == "yaml":
        import yaml

        try:
            yaml.safe_load(block.text)
        except yaml.YAMLError as exc:
            pytest.fail(f"{block.id}: the YAML block does not parse: {exc}")
        return
    if kind == "python":
        if NEEDS_DEMO_RE.search(block.text):
            _demo(workspace)
        r = _run([sys.executable, "-c", block.text], workspace, f"{block.id} (python)")
        assert r.returncode == 0, (f"{block.id}: the python block failed (exit {r.returncode})\n"
                                   f"--- block ---\n{block.text}\n--- output (end) ---\n{(r.stdout + r.stderr)[-3000:]}")
        return
    cmds = _commands(block.text)
    if any(NEEDS_DEMO_RE.search(c) or DEMO_RE.match(c) for c in cmds):
        _demo(workspace)
    script = ["set -e"] + [c for c in cmds if not DEMO_RE.match(c)]
    r = _run(["bash", "-c", "\n".join(script)], workspace, block.id)
    assert r.returncode == 0, (f"{block.id}: a command failed (exit {r.returncode})\n--- commands ---\n"
                               + "\n".join(script[1:]) + f"\n--- output (end) ---\n{(r.stdout + r.stderr)[-3000:]}")


def test_blocks_found():
    """The collector sees the documented commands (guards against a silent parser change)."""
    ids = {b.id.split(":")[0] for b in BLOCKS}
    assert {"README.md", "docs/outputs.md", "docs/candidates.md"} <= ids
    assert all(_kind(b) for b in BLOCKS)
