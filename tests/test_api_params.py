"""The public API has no function over 8 parameters (osmnx's cap): longer argument lists
are parameter objects (``MeasureSpec``, ``RoutingOptions``, ``TransitParams``, ...).

Public = defined at module level (or a public method) in a module whose path has no
``_private`` part, with a name not starting with ``_``. The typer commands of ``cli.py``
(decorated ``@app.command``) are exempt: they are the command line, whose options are listed one by one by design.
"""

from __future__ import annotations

import ast
import pathlib

import ruimtekit

SRC = pathlib.Path(ruimtekit.__file__).resolve().parent
MAX_PARAMS = 8


def _is_command(f: ast.FunctionDef) -> bool:
    """A typer command (``@app.command(...)`` or ``@<sub>.command(...)``)."""
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
               and d.func.attr == "command" for d in f.decorator_list)


def public_defs():
    """``(module, qualified name, class name or None, FunctionDef)`` of every public
    function and public method (``__init__`` included) in the modules of the public API."""
    for p in sorted(SRC.rglob("*.py")):
        rel = p.relative_to(SRC)
        if any(part.startswith("_") and part != "__init__.py" for part in rel.parts):
            continue
        mod = ".".join(rel.with_suffix("").parts)
        for node in ast.parse(p.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield mod, node.name, None, node
            elif isinstance(node, ast.ClassDef):
                for f in node.body:
                    if isinstance(f, ast.FunctionDef) and (not f.name.startswith("_")
                                                           or f.name == "__init__"):
                        yield mod, f"{node.name}.{f.name}", node.name, f


def public_functions() -> dict[str, int]:
    out = {}
    for mod, name, cls, f in public_defs():
        if (cls or "").startswith("_") or (mod == "cli" and _is_command(f)):
            continue
        a = f.args
        n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
        n -= 1 if a.args and a.args[0].arg in ("self", "cls") else 0
        out[f"{mod}.{name}"] = n
    return out


def test_no_public_function_over_eight_parameters():
    counts = public_functions()
    assert len(counts) > 300  # the scan sees the package
    over = sorted(f"{k} ({n})" for k, n in counts.items() if n > MAX_PARAMS)
    assert over == [], f"over {MAX_PARAMS} parameters: {over}"


def test_one_name_per_concept_in_the_public_api():
    """cutoffs (list, minutes) / cutoff (one, minutes); graph (road) / network (transit)."""
    drift = {"cutoffs_min", "cutoff_min", "net", "gr", "g"}
    found = []
    for mod, name, _, f in public_defs():
        names = {a.arg for a in f.args.args + f.args.kwonlyargs + f.args.posonlyargs}
        if names & drift:
            found.append(f"{mod}.{name}: {sorted(names & drift)}")
    assert len(public_functions()) > 300 and found == []
