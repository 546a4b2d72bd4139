"""``file.gpkg:layer`` arguments: a GeoPackage (or other multi-layer file) plus one layer.

Command-line options that take a vector file accept ``path:layer`` to pick one layer of a
multi-layer source (``data/processed/demo/demo.gpkg:access_ams_buurten``). Only a suffix
after a recognised multi-layer extension counts, so Windows drive letters (``C:\\data``) and
plain paths are left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

MULTI_LAYER_SUFFIXES = (".gpkg", ".sqlite", ".gdb", ".gml", ".kml")
"""File types whose ``path:layer`` form is split into path and layer name."""

_SPLIT = re.compile(r"^(?P<path>.+?(?:" + "|".join(re.escape(s) for s in MULTI_LAYER_SUFFIXES)
                    + r")):(?P<layer>[^:/\\]+)$", re.IGNORECASE)


def split(arg: str | Path) -> tuple[Path, str | None]:
    """``"demo.gpkg:candidates"`` → ``(Path("demo.gpkg"), "candidates")``; other paths → ``(path, None)``.

    Parameters
    ----------
    arg : str or Path
        A file path, optionally followed by ``:layer``.

    Returns
    -------
    tuple of Path and str or None
    """
    m = _SPLIT.match(str(arg))
    if m is None:
        return Path(arg), None
    return Path(m["path"]), m["layer"]
