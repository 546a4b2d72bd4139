"""The package tree is the data flow and imports run one way along it.

Every ``import`` of a ruimtekit module anywhere in the source (module level *and* inside
functions, so a cycle cannot hide in a function-level import) must go to the same or an
earlier layer::

    base (ruimtekit/_*.py) → io → network → engine → analysis → report → top level

and the module graph has no cycles at all, within a layer included.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import warnings

import pytest

import ruimtekit
from ruimtekit import _compat

SRC = pathlib.Path(ruimtekit.__file__).resolve().parent
LAYERS = {"io": 1, "network": 2, "engine": 3, "analysis": 4, "report": 5}
TOP = {"api", "study", "pipeline", "calibrate", "cli", "_commands", "__main__"}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def layer(mod: str) -> int:
    """0 base, 1 io … 5 report, 6 the top-level workflows (api, study, pipeline, cli)."""
    parts = mod.split(".")
    if len(parts) == 1:
        return 0  # the package itself: imports only base modules
    if parts[1] in LAYERS:
        return LAYERS[parts[1]]
    if parts[1] in TOP:
        return 6
    return 0


def imports_of(mod: str) -> set[str]:
    """ruimtekit modules imported anywhere in ``mod`` (module or function level)."""
    path = MODULES[mod]
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names = [stem] + [f"{stem}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            # the deepest ruimtekit module named (``from ruimtekit.io import places`` → io.places)
            while n and n not in MODULES:
                n = n.rpartition(".")[0]
            if n and n != mod and n.startswith("ruimtekit"):
                found.add(n)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_tree_is_the_data_flow():
    assert {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS)
    # an import the checker could not place would make the test vacuous
    assert sum(len(v) for v in GRAPH.values()) > 200


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_imports_run_one_way(mod):
    upward = sorted(t for t in GRAPH[mod] if t != "ruimtekit" and layer(t) > layer(mod))
    assert not upward, f"{mod} (layer {layer(mod)}) imports later layers: {upward}"


def test_no_import_cycles():
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w == "ruimtekit":
                continue  # the package __init__ imports only base modules (checked below)
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert sccs == []
    assert all(layer(t) == 0 for t in GRAPH["ruimtekit"])


def test_the_dask_layer_imports_no_domain_module():
    """engine.batches receives the batch function; it knows nothing of roads or transit."""
    assert {t for t in GRAPH["ruimtekit.engine.batches"] if layer(t) > 0} == set()


def test_the_checker_sees_function_level_imports(tmp_path, monkeypatch):
    """The layering check must fail on an upward import hidden inside a function."""
    fake = tmp_path / "ruimtekit" / "io"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from ruimtekit.report import maps\n")
    monkeypatch.setitem(MODULES, "ruimtekit.io.bad", fake / "bad.py")
    assert "ruimtekit.report.maps" in imports_of("ruimtekit.io.bad")
    assert layer("ruimtekit.report.maps") > layer("ruimtekit.io.bad")


# ----------------------------------------------------------------- old import paths
@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_old_import_paths_still_work_with_a_warning(old):
    targets = [importlib.import_module(f"ruimtekit.{t}") for t in _compat.MOVED[old]]
    public = [n for n in dir(targets[0]) if not n.startswith("_")
              and getattr(getattr(targets[0], n), "__module__", None) == targets[0].__name__]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        mod = importlib.import_module(f"ruimtekit.{old}")
        for name in public[:5]:
            assert getattr(mod, name) is getattr(targets[0], name)
    assert any(issubclass(w.category, DeprecationWarning) and f"ruimtekit.{old}" in str(w.message)
               for w in rec)


def _deprecations(statement: str) -> list[str]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        exec(statement, {})
    return [str(w.message) for w in rec if issubclass(w.category, DeprecationWarning)]


def test_old_paths_cover_split_modules():
    msgs = _deprecations("from ruimtekit.accessibility import Decay")
    assert any("use ruimtekit.engine.measures.Decay" in m for m in msgs), msgs
    msgs = _deprecations("from ruimtekit.transit import TransitParams")
    assert any("use ruimtekit.engine.transit.TransitParams" in m for m in msgs), msgs
    from ruimtekit.engine.transit import TransitParams as new

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = importlib.import_module("ruimtekit.transit").TransitParams
        d = importlib.import_module("ruimtekit.distributed")
    assert old is new
    with pytest.raises(AttributeError, match="moved to"):
        d.no_such_name  # noqa: B018


def test_renamed_parameters_keep_their_old_names_for_one_release():
    import numpy as np

    from ruimtekit.engine.measures import aggregate_times

    t = np.array([[0.0, 600.0, 1800.0]])
    e = np.array([1.0, 2.0, 4.0])
    new = aggregate_times(t, e, cutoffs=[10, 30])
    with pytest.warns(DeprecationWarning, match=r"cutoffs_min=\.\.\.\) is deprecated: use cutoffs="):
        old = aggregate_times(t, e, cutoffs_min=[10, 30])
    assert old == new and new["10min"][0] == 3.0 and new["30min"][0] == 7.0
    with pytest.raises(TypeError, match="both"):
        aggregate_times(t, e, cutoffs=[10], cutoffs_min=[10])
