"""Every tunable default of ruimtekit, in one documented place.

Like osmnx's ``settings``: speeds, limits and model constants that a user may want to change
are defined here once, each with its unit and where it comes from; the modules, the study
file sections (pydantic) and the CLI options all take their defaults from these names.
docs/defaults.md is generated from this file (:func:`reference_markdown`).

The values are read when ruimtekit is imported. To change one for an analysis, pass it
explicitly — in the study file, a parameter object (e.g.
``ruimtekit.engine.transit.TransitParams(walk_speed_kmh=3.6)``) or a CLI option — rather
than assigning to this module.

This module is part of the base layer: it imports nothing from ruimtekit.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------ speeds
WALK_SPEED_KMH = 4.8
"""Walking speed (km/h) on street networks and of walking legs (access, egress, transfers):
80 m/min, a common Dutch planning value. R5 uses 3.6."""

BIKE_SPEED_KMH = 15.0
"""Cycling speed (km/h) on street networks and of cycling legs (Fietsersbond/CROW
planning value for an ordinary bike)."""

EBIKE_SPEED_KMH = 20.0
"""E-bike speed (km/h) on street networks and of e-bike legs."""

ACCESS_SPEED_KMH = {"walk": WALK_SPEED_KMH, "bike": BIKE_SPEED_KMH, "e_bike": EBIKE_SPEED_KMH,
                    "ebike": EBIKE_SPEED_KMH, "car": WALK_SPEED_KMH}
"""Speed (km/h) of the leg between a zone point and its snapped network node, per mode
(car: walking to the car)."""


def reference_markdown() -> str:
    """docs/defaults.md: every default with its value and documentation, by section."""
    import ast
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    tree = ast.parse(source)
    lines = ["# Defaults", "",
             "Every tunable default of ruimtekit is defined once, in `ruimtekit/defaults.py`",
             "(this page is generated from it: `python -c 'from ruimtekit import defaults; "
             "print(defaults.reference_markdown(), end=\"\")' > docs/defaults.md`). Modules, study-file",
             "sections and CLI options take their defaults from these names; change a value for",
             "an analysis by passing it (study file, parameter object or CLI option).", ""]
    section = None
    src_lines = source.splitlines()
    body = tree.body
    for i, node in enumerate(body):
        if not isinstance(node, ast.Assign) or not isinstance(node.targets[0], ast.Name):
            continue
        # the section is the last ``# ---- name`` comment line above the constant
        for ln in range(node.lineno - 2, -1, -1):
            text = src_lines[ln].strip()
            if text.startswith("# ---") and text.strip("# -"):
                name = text.strip("# -")
                if name != section:
                    section = name
                    lines += ["", f"## {section.capitalize()}", "", "| name | value | meaning |",
                              "|---|---|---|"]
                break
        nxt = body[i + 1] if i + 1 < len(body) else None
        doc = (nxt.value.value if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
               else "")
        value = repr(globals()[node.targets[0].id])
        lines.append(f"| `{node.targets[0].id}` | `{value}` | {' '.join(doc.split())} |")
    return "\n".join(lines) + "\n"
