"""Every tunable default lives once, in ruimtekit.defaults (docs/defaults.md)."""

from __future__ import annotations

import ast
import pathlib

import pytest

import ruimtekit
from ruimtekit import defaults

SRC = pathlib.Path(ruimtekit.__file__).resolve().parent
ROOT = SRC.parents[1]

# numbers that are defaults of ruimtekit.defaults and must not be written anywhere else
SINGLE_SOURCE = {defaults.WALK_SPEED_KMH: "WALK_SPEED_KMH"}


def test_docs_page_is_generated_from_the_module():
    assert (ROOT / "docs" / "defaults.md").read_text() == defaults.reference_markdown(), (
        "regenerate: python -c 'from ruimtekit import defaults; "
        "print(defaults.reference_markdown(), end=\"\")' > docs/defaults.md")


def test_every_default_is_documented():
    tree = ast.parse((SRC / "defaults.py").read_text())
    body = tree.body
    for i, node in enumerate(body):
        if isinstance(node, ast.Assign):
            nxt = body[i + 1]
            assert isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant), (
                f"{node.targets[0].id} has no docstring")


@pytest.mark.parametrize("path", sorted(p for p in SRC.rglob("*.py") if p.name != "defaults.py"),
                         ids=lambda p: str(p.relative_to(SRC)))
def test_defaults_are_not_written_twice(path):
    """A default number in code (not in prose) comes from ruimtekit.defaults."""
    found = [(node.lineno, node.value) for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Constant) and type(node.value) is float
             and node.value in SINGLE_SOURCE]
    assert not found, (f"{path.name} writes {[v for _, v in found]} at lines "
                       f"{[ln for ln, _ in found]}: use ruimtekit.defaults."
                       f"{SINGLE_SOURCE[found[0][1]]}")


def test_defaults_are_base_layer():
    tree = ast.parse((SRC / "defaults.py").read_text())
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in mods if m and m.startswith("ruimtekit")]
