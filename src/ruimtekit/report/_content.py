"""What a result layer is and how it is presented, shared by the web maps
(:mod:`ruimtekit.report.maps`) and the static figures (:mod:`ruimtekit.report.figures`):
point or polygon layer, station layers, titles, which run notes belong on which map, and
rank/score classes of candidate points.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ruimtekit.report import _styles


def station_layers(layers: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, df in (layers or {}).items():
        cols = set(getattr(df, "columns", ()))
        # a stations layer, not a result that merely carries its nearest station's type
        if (is_point_layer(df) and ({"station_name", "station_type"} & cols)
                and not ({"score", "rank", "object_id"} & cols)):
            out[name] = df
    return out


def is_point_layer(df: Any) -> bool:
    import geopandas as gpd
    import shapely

    if not isinstance(df, gpd.GeoDataFrame) or df._geometry_column_name not in df.columns or len(df) == 0:
        return False
    g = df.geometry.values
    tid = shapely.get_type_id(np.asarray(g, dtype=object))
    return bool(np.all(np.isin(tid[tid >= 0], (0, 4))))


def is_polygon_layer(df: Any) -> bool:
    import geopandas as gpd
    import shapely

    if not isinstance(df, gpd.GeoDataFrame) or df._geometry_column_name not in df.columns or len(df) == 0:
        return False
    tid = shapely.get_type_id(np.asarray(df.geometry.values, dtype=object))
    present = tid[tid >= 0]
    return bool(present.size and np.all(np.isin(present, (3, 6, 7))))


RANK_CLASSES = (10, 25, 50, 100, 250, 500, 1000)
"""Upper bounds of the rank classes that colour candidate markers (top 10, 11–25, …)."""


CANDIDATE_RAMP = "YlOrBr"
"""Colour ramp of candidate rank/score classes (dark = best); stations use other hues and squares."""


def rank_classes(gdf: Any) -> tuple[list[int], list[str], list[str], str] | None:
    """Class per point (0 = best) by ``rank`` (:data:`RANK_CLASSES`) or ``score`` (quantiles).

    Returns (codes, labels, colours dark-to-light, column) or None without rank/score.
    """
    if "rank" in gdf.columns and _styles._is_numeric(gdf["rank"]):
        rank = gdf["rank"].to_numpy(dtype=float, na_value=np.nan)
        top = np.nanmax(rank) if np.isfinite(rank).any() else 0
        bounds = [b for b in RANK_CLASSES if b < top] + [math.inf]
        codes = [int(np.searchsorted(bounds, r, side="left")) if math.isfinite(r) else len(bounds) - 1
                 for r in rank]
        labels, lo = [], 1
        for b in bounds:
            labels.append(f"rank {lo:,}–{int(b):,}" if math.isfinite(b) else f"rank {lo:,}+")
            lo = int(b) + 1 if math.isfinite(b) else lo
        if labels and bounds[0] == math.inf:
            labels = ["all ranks"]
        colors = _styles.ramp_colors(CANDIDATE_RAMP, len(bounds))[::-1]
        return codes, labels, colors, "rank"
    if "score" in gdf.columns and _styles._is_numeric(gdf["score"]):
        score = gdf["score"].to_numpy(dtype=float, na_value=np.nan)
        cl = _styles.classify(score, "quantiles", 5, ramp=CANDIDATE_RAMP)
        idx = cl.bin_index(score)
        kk = len(cl.colors)
        codes = [kk - 1 - int(i) if i >= 0 else kk - 1 for i in idx]
        return codes, [f"score {lab}" for lab in cl.labels][::-1], list(cl.colors)[::-1], "score"
    return None


_TITLES = {
    "accessibility": "Job accessibility", "access": "Job accessibility",
    "borrowed_size": "Borrowed size", "candidates": "Densification candidates",
    "transit": "Transit accessibility",
}


def title_for(name: str) -> str:
    for key, t in _TITLES.items():
        if name.startswith(key):
            rest = name[len(key):].strip("_")
            return f"{t} ({rest.replace('_', ' ')})" if rest else t
    return name.replace("_", " ").capitalize()


_NOTE_FAMILIES = {
    "borrowed": ("Borrowed size", "Observed commuting"),
    "candidates": ("Vacancy", "Candidates", "candidates"),
}


def _family(name: str) -> str | None:
    if name in ("borrowed_size", "catchments"):
        return "borrowed"
    if name.startswith(("candidates", "densification")):
        return "candidates"
    return None


def _mentions(note: str, name: str) -> bool:
    block = re.sub(r"^(access|transit)_", "", name)
    low = note.lower()
    return any(re.search(rf"(?<![a-z0-9_]){re.escape(k.lower())}(?![a-z0-9_])", low)
               for k in {name, block, block.replace("_", " ")})


def notes_for_layer(name: str, notes: Sequence[str], others: Sequence[str] = ()) -> list[str]:
    """The run notes shown on one result layer's map (all notes go on the index page).

    A note is shown when it names this layer or its block (``access_nl_pc4`` → ``nl_pc4``),
    belongs to its family (borrowed-size/commuting notes on borrowed-size and catchment
    maps; vacancy/candidate notes — which state when vacancy is synthetic — on candidate
    and densification maps), or is general (names none of the ``others`` result layers and
    belongs to no family).
    """
    fam = _family(name)
    out = []
    for n in notes:
        note_fam = next((f for f, pre in _NOTE_FAMILIES.items() if n.startswith(pre)), None)
        if fam == "candidates" and "synthetic" in n.lower():
            note_fam = "candidates"
        if _mentions(n, name) or (note_fam is not None and note_fam == fam):
            out.append(n)
        elif note_fam is None and not any(_mentions(n, o) for o in others if o != name):
            out.append(n)
    return out
