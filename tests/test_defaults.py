"""Every tunable default lives once, in ruimtekit.defaults (docs/defaults.md)."""

from __future__ import annotations

import ast
import pathlib

import pytest

import ruimtekit
from ruimtekit import defaults

SRC = pathlib.Path(ruimtekit.__file__).resolve().parent
ROOT = SRC.parents[1]

# Distinctive default numbers of ruimtekit.defaults that must not be written anywhere else
# in code (prose in docstrings is not checked): as int or float literals ...
SINGLE_SOURCE = {
    defaults.WALK_SPEED_KMH: "WALK_SPEED_KMH",  # 4.8
    defaults.STRAIGHT_MAX_DEG: "STRAIGHT_MAX_DEG",  # 27
    defaults.U_TURN_MIN_DEG: "U_TURN_MIN_DEG",  # 153
    defaults.M2_PER_DWELLING: "M2_PER_DWELLING",  # 75
    defaults.MAX_TIME_MIN: "MAX_TIME_MIN or MATRIX_MAX_TIME_MIN",  # 120
    defaults.TRANSIT_MAX_KMH: "TRANSIT_MAX_KMH",  # 160
    defaults.NETWORK_HORIZON_MIN: "NETWORK_HORIZON_MIN",  # 240
    defaults.MAX_CUTOFF_MIN: "MAX_CUTOFF_MIN",  # 1440
    defaults.FERRY_NO_CAR_RADIUS_M: "FERRY_NO_CAR_RADIUS_M",  # 2500
    defaults.CONNECTOR_FLAG_DISTANCE_M: "CONNECTOR_FLAG_DISTANCE_M, CONNECTOR_DIRECT_MAX_M "
                                        "or RAIL_ACCESS_RADIUS_M",  # 5000
    defaults.MAX_OPPORTUNITY: "MAX_OPPORTUNITY",  # 1e12
}
# ... and as float literals only (the ints are HTTP status codes, GTFS route-type ranges,
# rank classes):
SINGLE_SOURCE_FLOAT = {
    defaults.MAX_SNAP_M: "MAX_SNAP_M",  # 500.0
    defaults.TRANSFER_RADIUS_M: "TRANSFER_RADIUS_M, STOP_MERGE_M or OVERPASS_MAX_KM2",  # 400.0
    defaults.MAX_BUFFER_KM: "MAX_BUFFER_KM or EFFECTIVE_DENSITY_MAX_KM",  # 300.0
    defaults.ISOCHRONE_BUFFER_M: "ISOCHRONE_BUFFER_M or HEAVY_SIMPLIFY_M",  # 250.0
}


def _literals(path: pathlib.Path) -> list[tuple[int, float]]:
    """Numeric literals of a module that are single-source defaults."""
    tree = ast.parse(path.read_text())
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and ((type(node.value) in (int, float) and node.value in SINGLE_SOURCE)
                 or (type(node.value) is float and node.value in SINGLE_SOURCE_FLOAT))]


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
    found = _literals(path)
    names = {**SINGLE_SOURCE_FLOAT, **SINGLE_SOURCE}
    assert not found, (f"{path.name} writes {[v for _, v in found]} at lines "
                       f"{[ln for ln, _ in found]}: use ruimtekit.defaults."
                       f"{names[found[0][1]]}")


def test_single_source_check_catches_a_repeated_literal(tmp_path):
    """The check above fails on a module that writes a default again (as a signature
    default, a Field default or an int)."""
    pkg = tmp_path / "ruimtekit" / "engine"
    pkg.mkdir(parents=True)
    mod = pkg / "x.py"
    mod.write_text("from pydantic import BaseModel, Field\n"
                   "def f(max_snap_m: float = 500.0, t: int = 120):\n    return 4.8\n"
                   "class P(BaseModel):\n    radius_m: float = Field(400.0)\n"
                   "HTTP_ERROR = 500\n")
    assert sorted(v for _, v in _literals(mod)) == [4.8, 120, 400.0, 500.0]


def test_single_source_numbers_are_defaults():
    values = {v for k, v in vars(defaults).items() if k.isupper() and type(v) in (int, float)}
    assert set(SINGLE_SOURCE) <= values and set(SINGLE_SOURCE_FLOAT) <= values


def test_defaults_are_base_layer():
    tree = ast.parse((SRC / "defaults.py").read_text())
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in mods if m and m.startswith("ruimtekit")]
