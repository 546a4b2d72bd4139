"""Static figures for reports and papers (matplotlib, Agg backend; PNG and SVG).

* :func:`accessibility_figure` — choropleth of a measure (e.g. jobs within 45 minutes) with
  a classed legend (mapclassify classes, units);
* :func:`borrowed_size_figure` — own versus borrowed mass (log-log scatter), top cities
  labelled, coloured by the borrowed-size ratio when present;
* :func:`candidates_figure` — densification candidates on the zones, with stations and
  catchment outlines.

Every map figure is drawn in EPSG:28992 (RD New metres) and carries a scale bar (drawn
here, in RD metres), a north arrow (RD grid north; within 2° of true north in the
Netherlands), a legend and a source line ("Bron: CBS, © OpenStreetMap contributors …").
Files are written atomically.
"""

from __future__ import annotations

import logging
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from ruimtekit import _io, defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError, describe_validation
from ruimtekit.report import _content, _styles
from ruimtekit.report._content import rank_classes

log = logging.getLogger("ruimtekit.report.figures")

__all__ = [
    "accessibility_figure",
    "borrowed_size_figure",
    "candidates_figure",
    "measures_panel_figure",
    "nice_scale_length",
    "study_figures",
]

DEFAULT_SOURCE = "Bron: CBS (CC BY 4.0), © OpenStreetMap contributors (ODbL)"
FORMATS = ("png", "svg")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # SVG text stays text: searchable, editable, small

    return plt


def nice_scale_length(width_m: float, fraction: float = 0.25) -> float:
    """A round scale-bar length (1, 2 or 5 × 10^n metres) at most ``fraction`` of the width.

    Parameters
    ----------
    width_m : float
        Map width in metres.
    fraction : float
        Largest share of the width the bar may take.

    Returns
    -------
    float
        Length in metres.
    """
    if not (width_m > 0 and math.isfinite(width_m)):
        raise InputError(None, f"map width {width_m} m is not positive", "plot a layer with an extent")
    target = width_m * fraction
    exp = math.floor(math.log10(target))
    best = 10.0**exp
    for m in (1, 2, 5, 10):
        if m * 10.0**exp <= target:
            best = m * 10.0**exp
    return best


def _scale_bar(ax: Any) -> float:
    """Draw a two-segment scale bar in the lower left (axes in RD metres); returns its length."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w, h = x1 - x0, y1 - y0
    length = nice_scale_length(w)
    bx, by = x0 + 0.04 * w, y0 + 0.05 * h
    bh = 0.012 * h
    half = length / 2
    ax.add_patch(Rectangle((bx, by), half, bh, facecolor="black", edgecolor="black", lw=0.6, zorder=20))
    ax.add_patch(Rectangle((bx + half, by), half, bh, facecolor="white", edgecolor="black", lw=0.6, zorder=20))
    unit, div = ("km", 1000.0) if length >= 1000 else ("m", 1.0)

    def lab(v: float) -> str:
        return f"{v / div:g}"

    for xv, txt in ((bx, "0"), (bx + half, lab(half)), (bx + length, f"{lab(length)} {unit}")):
        ax.text(xv, by + bh * 1.6, txt, ha="center", va="bottom", fontsize=7, zorder=21)
    return length


def _north_arrow(ax: Any) -> None:
    """North arrow in the upper right (RD grid north)."""
    ax.annotate("", xy=(0.95, 0.95), xytext=(0.95, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 8}, zorder=20)
    ax.text(0.95, 0.96, "N", transform=ax.transAxes, ha="center", va="bottom", fontsize=10,
            fontweight="bold", zorder=20)


def _source_line(fig: Any, source: str, notes: Sequence[str], ax: Any = None, below: Any = None) -> None:
    """Source line and notes under the axes (under the artist ``below``, e.g. the x-axis
    label of a chart), outside the data area; the saved figure grows to hold them."""
    import textwrap

    text = "\n".join(textwrap.wrap(source, 110) + [ln for n in notes for ln in textwrap.wrap(n, 110)])
    if below is not None:
        # x in axes fractions, y relative to the artist's bounding box: never over the data
        ax.annotate(text, xy=(0.0, 0.0), xycoords=("axes fraction", below), xytext=(0, -6),
                    textcoords="offset points", fontsize=6.5, color="#444444", ha="left", va="top")
    elif ax is not None:
        ax.annotate(text, xy=(0.0, -0.01), xycoords="axes fraction", fontsize=6.5, color="#444444",
                    ha="left", va="top")
    else:
        fig.text(0.01, 0.005, text, fontsize=6.5, color="#444444", ha="left", va="bottom")


RASTERIZE_MIN_PATHS = defaults.RASTERIZE_MIN_PATHS
"""Collections with more paths or points than this are embedded as an image in the SVG
(lines, text, legend and scale bar stay vector), keeping every SVG small."""

MAX_FIGURE_BYTES = defaults.MAX_FIGURE_BYTES
"""Largest figure file written without a warning (PNG at :data:`DPI`, SVG)."""

DPI = defaults.FIGURE_DPI
"""Print resolution of PNG figures and of the rasterized layers in SVG figures."""


def _rasterize_dense(fig: Any) -> None:
    for ax in fig.axes:
        for coll in ax.collections:
            n = len(coll.get_paths()) if hasattr(coll, "get_paths") else 0
            n = max(n, len(getattr(coll, "get_offsets", lambda: [])()))
            if n > RASTERIZE_MIN_PATHS:
                coll.set_rasterized(True)


def _save(fig: Any, path: str | Path, dpi: int = DPI) -> list[Path]:
    plt = _plt()
    base = Path(path)
    if base.suffix.lower() in (".png", ".svg"):
        base = base.with_suffix("")
    out = []
    try:
        _rasterize_dense(fig)
        for fmt in FORMATS:
            target = base.with_name(base.name + "." + fmt)
            with _io.atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
            out.append(target)
            size = target.stat().st_size
            if size > MAX_FIGURE_BYTES:
                log.warning("figure %s is %.1f MB (more than %.0f MB)", target.name, size / 1e6,
                            MAX_FIGURE_BYTES / 1e6)
    finally:
        plt.close(fig)
    return out


def _display(gdf: Any, tolerance: float | None = None,
             view: tuple[float, float, float, float] | None = None) -> Any:
    """Geometries in EPSG:28992, simplified for drawing (about 1/1500 of the extent) and,
    with ``view`` (xmin, ymin, xmax, ymax in RD metres), clipped to it so that nothing is
    drawn (or written to an SVG) outside the frame."""
    import shapely

    g = gdf.geometry
    if g.crs is not None and g.crs.to_epsg() != 28992:
        g = g.to_crs(28992)
    geoms = np.asarray(g.values, dtype=object)
    if view is not None:
        geoms = shapely.clip_by_rect(geoms, *view)
    if tolerance is None:
        x0, y0, x1, y1 = view if view is not None else shapely.total_bounds(geoms)
        tolerance = max(x1 - x0, y1 - y0) / 1500.0 if np.isfinite(x0) else 0.0
    if tolerance > 0:
        poly = np.isin(shapely.get_type_id(geoms), (3, 6))
        if poly.any():
            simple = None
            try:
                simple = shapely.coverage_simplify(geoms[poly], tolerance)
            except Exception:  # not a coverage (overlapping catchments)
                simple = None
            n0 = shapely.get_num_coordinates(geoms[poly]).sum()
            if simple is None or shapely.get_num_coordinates(simple).sum() > 0.9 * n0:
                simple = shapely.simplify(geoms[poly], tolerance, preserve_topology=True)
            geoms[poly] = simple
    import geopandas as gpd

    return gpd.GeoSeries(geoms, crs=28992, index=gdf.index)


def _check(gdf: Any, what: str) -> None:
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(None, f"{what} is a {type(gdf).__name__}, not a GeoDataFrame",
                         "pass a GeoDataFrame in EPSG:28992")
    if gdf.crs is None:
        raise InputError(None, f"{what} has no CRS", "set the CRS (EPSG:28992)")
    if len(gdf) == 0:
        raise InputError(None, f"{what} is empty", "plot a layer with features")


class Caption(Section):
    """The text of a static figure: title, source line and notes.

    Attributes
    ----------
    title : str, optional
        Figure title (default: the figure's own, e.g. the measure label of an accessibility
        map).
    source : str
        Source line (:data:`DEFAULT_SOURCE`).
    notes : list of str
        Proxy/synthetic statements appended to the source line.
    """

    title: str | None = None
    source: str = DEFAULT_SOURCE
    notes: list[str] = Field(default_factory=list)


def _caption(caption: Caption | Mapping[str, Any] | None) -> Caption:
    if isinstance(caption, Caption):
        return caption
    try:
        return Caption(**dict(caption or {}))
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"invalid caption: {describe_validation(exc)}",
                         "give Caption(title=..., source=..., notes=[...])") from None


def accessibility_figure(
    gdf: Any,
    path: str | Path,
    *,
    column: str | None = None,
    classification: str = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    caption: Caption | Mapping[str, Any] | None = None,
    stations: Any = None,
) -> list[Path]:
    """Choropleth of an accessibility measure with a classed legend, scale bar and north arrow.

    Parameters
    ----------
    gdf : GeoDataFrame
        Zone result layer (EPSG:28992).
    path : str or Path
        Output path without suffix (``.png`` and ``.svg`` are written).
    column : str, optional
        Measure column (default: the main measure, a 45-minute measure when present).
    classification, k, bins
        Classes (see :func:`ruimtekit.report._styles.classify`).
    caption : Caption or dict, optional
        Title (default: the measure label), source line and notes (proxy/synthetic
        statements appended to the source line).
    stations : GeoDataFrame, optional
        Station points drawn on top.

    Returns
    -------
    list of Path
        The PNG and SVG files.
    """
    from matplotlib.patches import Patch

    cap = _caption(caption)
    title, source, notes = cap.title, cap.source, cap.notes
    _check(gdf, "zone layer")
    cols = _styles.measure_columns(gdf, [column] if column else None)
    column = column or _styles.main_measure(cols)
    if column is None:
        raise InputError(None, "the zone layer has no measure column to map",
                         "pass column='jobs_45min_car' (or another numeric column)")
    info = _styles.measure_info(column)
    vals = gdf[column].to_numpy(dtype=float, na_value=np.nan)
    cls = _styles.classify(vals, classification, k, bins=bins, ramp=_styles.default_ramp(column))
    idx = cls.bin_index(vals)
    colors = np.array(list(cls.colors) + [_styles.NODATA_COLOR], dtype=object)[idx]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 8.5))
    geoms = _display(gdf)
    geoms.plot(ax=ax, color=list(colors), edgecolor="white", linewidth=0.15)
    if stations is not None and len(stations):
        st = stations.to_crs(28992) if stations.crs and stations.crs.to_epsg() != 28992 else stations
        st.plot(ax=ax, markersize=6, color="#222222", marker="o", zorder=5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Patch(facecolor=c, edgecolor="#999999", label=f"{lab}") for c, lab in
               zip(cls.colors, cls.labels, strict=True)]
    if cls.n_missing:
        handles.append(Patch(facecolor=_styles.NODATA_COLOR, edgecolor="#999999", label=f"no data ({cls.n_missing})"))
    method = {"Quantiles": "quantiles", "FisherJenks": "natural breaks", "EqualInterval": "equal intervals",
              "UserDefined": "user classes"}.get(cls.method, cls.method)
    ax.legend(handles=handles, title=f"{info.title}\n({method})", loc="lower right", fontsize=7,
              title_fontsize=7.5, frameon=True, framealpha=0.92)
    ax.set_title(title or info.label[0].upper() + info.label[1:], fontsize=11)
    _scale_bar(ax)
    _north_arrow(ax)
    _source_line(fig, source, notes, ax)
    return _save(fig, path)


_OWN = ("population_own", "own_population", "own_mass", "own_size", "population", "jobs")
_BORROWED = ("borrowed_population", "network_population", "borrowed_mass", "borrowed_size",
             "surrounding_population", "potential_population", "potential")


def _pick(cols: Sequence[str], options: Sequence[str], prefix: str | None = None) -> str | None:
    for c in options:
        if c in cols:
            return c
    if options is _BORROWED:
        # borrowed_size.py naming: {mass}_borrowed_{T}min_{mode}, population first, car first
        pat = re.compile(r"^(population|jobs)_borrowed_\d+(\.\d+)?min_([a-z_]+)$")
        found = sorted((c for c in cols if pat.match(c)),
                       key=lambda c: (not c.startswith("population"), not c.endswith("_car"), c))
        if found:
            return found[0]
    if prefix:
        return next((c for c in cols if c.startswith(prefix) and "km" in c), None)
    return None


def borrowed_size_figure(
    df: Any,
    path: str | Path,
    *,
    own: str | None = None,
    borrowed: str | None = None,
    ratio: str | None = None,
    label: str | None = None,
    top: int = 12,
    caption: Caption | Mapping[str, Any] | None = None,
) -> list[Path]:
    """Scatter of own mass against borrowed (network) mass, log-log, top cities labelled.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per place.
    path : str or Path
        Output path without suffix (``.png`` and ``.svg``).
    own : str, optional
        Own-mass column (default: first of ``own_population``, ``population``, ``jobs`` …).
    borrowed : str, optional
        Borrowed-mass column (default: first of ``borrowed_population``,
        ``network_population``, ``potential`` …, or a ``pop_*km`` ring column).
    ratio : str, optional
        Colour column (default: ``borrowed_ratio`` when present).
    label : str, optional
        Name column for labels (default ``zone_name``).
    top : int
        Number of places (largest own mass) to label.
    caption : Caption or dict, optional
        Title (default "Own size and borrowed size"), source line and notes.

    Returns
    -------
    list of Path
    """
    import pandas as pd

    cap = _caption(caption)
    title = cap.title if cap.title is not None else "Own size and borrowed size"
    source, notes = cap.source, cap.notes
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise InputError(None, "the borrowed-size table is empty or not a DataFrame",
                         "pass the borrowed-size result layer")
    cols = list(df.columns)
    own = own or _pick(cols, _OWN)
    borrowed = borrowed or _pick(cols, _BORROWED, prefix="pop_")
    for what, col in (("own mass", own), ("borrowed mass", borrowed)):
        if col is None or col not in cols:
            raise InputError(None, f"no {what} column found in {cols}",
                             "pass own='population' and borrowed='<column>' explicitly")
    if ratio is None:
        if "borrowed_ratio" in cols:
            ratio = "borrowed_ratio"
        elif "_borrowed_" in borrowed and borrowed.replace("_borrowed_", "_borrowed_ratio_") in cols:
            ratio = borrowed.replace("_borrowed_", "_borrowed_ratio_")
    label = label or _pick(cols, ("zone_name", "name", "station_name", "zone_id"))
    x = df[own].to_numpy(dtype=float, na_value=np.nan)
    y = df[borrowed].to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if not ok.any():
        raise InputError(None, f"no rows with positive {own} and {borrowed}",
                         "check the borrowed-size results (masses must be positive for a log scale)")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    if ratio:
        c = df[ratio].to_numpy(dtype=float, na_value=np.nan)[ok]
        sc = ax.scatter(x[ok], y[ok], c=c, cmap="PuOr", s=22, edgecolor="#333333", linewidth=0.3)
        fig.colorbar(sc, ax=ax, shrink=0.8, label=_styles.measure_info(ratio).label)
    else:
        ax.scatter(x[ok], y[ok], s=22, color="#2c7fb8", edgecolor="#333333", linewidth=0.3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    oi = _styles.measure_info(own)
    bi = _styles.measure_info(borrowed)
    ax.set_xlabel(f"own mass: {oi.title}")
    ax.set_ylabel(f"borrowed mass: {bi.title}")
    ax.grid(True, which="major", color="#dddddd", lw=0.5)
    if label:
        order = np.argsort(-np.where(ok, x, -np.inf))[: max(0, top)]
        names = df[label].astype(str).to_numpy()
        for i in order:
            if ok[i]:
                ax.annotate(names[i], (x[i], y[i]), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set_title(title, fontsize=11)
    _source_line(fig, source, notes, ax, below=ax.xaxis.label)
    return _save(fig, path)


def candidates_figure(
    candidates: Any,
    path: str | Path,
    *,
    zones: Any = None,
    stations: Any = None,
    outlines: Any = None,
    category: str | None = None,
    top: int = 10,
    caption: Caption | Mapping[str, Any] | None = None,
) -> list[Path]:
    """Map of candidate locations coloured by class, with zones, stations and catchments.

    Parameters
    ----------
    candidates : GeoDataFrame
        Candidate points (EPSG:28992) with ``score``/``rank``/``reason``.
    path : str or Path
        Output path without suffix (``.png`` and ``.svg``).
    zones : GeoDataFrame, optional
        Zone polygons drawn as a light background.
    stations : GeoDataFrame, optional
        Stations (small black squares).
    outlines : GeoDataFrame, optional
        Catchment polygons drawn as outlines.
    category : str, optional
        Colour column (default: first of ``reason``, ``class``, ``type``, ``function``).
    top : int
        Label the ``top`` best-ranked candidates with their rank.
    caption : Caption or dict, optional
        Title (default "Densification candidates"), source line and notes.

    Returns
    -------
    list of Path
    """
    from matplotlib.lines import Line2D

    cap = _caption(caption)
    title = cap.title if cap.title is not None else "Densification candidates"
    source, notes = cap.source, cap.notes
    _check(candidates, "candidate layer")
    cols = list(candidates.columns)
    category = category or next((c for c in ("reason", "class", "candidate_class", "type", "function")
                                 if c in cols and not _styles._is_numeric(candidates[c])), None)
    cand = candidates.to_crs(28992) if candidates.crs.to_epsg() != 28992 else candidates
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 8))
    handles = []
    pts = cand.geometry.representative_point()
    xs, ys = pts.x.to_numpy(), pts.y.to_numpy()
    # frame the candidates (with a margin), not the whole zone layer
    x0, x1 = np.nanmin(xs), np.nanmax(xs)
    y0, y1 = np.nanmin(ys), np.nanmax(ys)
    pad = max(x1 - x0, y1 - y0, 2000.0) * 0.12
    view = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)

    def clip(gdf: Any) -> Any:
        g = gdf.to_crs(28992) if gdf.crs is not None and gdf.crs.to_epsg() != 28992 else gdf
        return g.cx[view[0]:view[2], view[1]:view[3]]

    if zones is not None and len(zones):
        z = clip(zones)
        if len(z):
            _display(z, view=view).plot(ax=ax, color="#eeeeee", edgecolor="#bbbbbb", linewidth=0.2, zorder=1)
    if outlines is not None and len(outlines):
        o = clip(outlines)
        if len(o):
            _display(o, view=view).boundary.plot(ax=ax, color="#d7301f", linewidth=0.8, zorder=2)
            handles.append(Line2D([], [], color="#d7301f", lw=1, label="catchment"))
    if stations is not None and len(stations):
        st = clip(stations)
        if len(st):
            st.plot(ax=ax, marker="s", markersize=8, color="#222222", zorder=3)
            handles.append(Line2D([], [], marker="s", ls="", color="#222222", markersize=4, label="station"))

    ranked = rank_classes(cand)
    if ranked is not None:
        codes, labels, rank_colors, by = ranked
        c = [rank_colors[i] for i in codes]
        for lab, col in zip(labels, rank_colors, strict=True):
            handles.append(Line2D([], [], marker="o", ls="", markerfacecolor=col, markeredgecolor="#1a1a1a",
                                  markersize=6, label=lab))
        category = by
    elif category:
        colors = _styles.category_colors(cand[category].dropna().astype(str))
        c = [colors.get(str(v), "#888888") for v in cand[category]]
        for name, col in colors.items():
            handles.append(Line2D([], [], marker="o", ls="", markerfacecolor=col, markeredgecolor="white",
                                  markersize=7, label=name))
    else:
        c = ["#2c3e91"] * len(cand)
        handles.append(Line2D([], [], marker="o", ls="", color="#2c3e91", markersize=7, label="candidate"))
    size = 30.0
    if "score" in cols and _styles._is_numeric(cand["score"]):
        sc = cand["score"].to_numpy(dtype=float, na_value=np.nan)
        if np.isfinite(sc).any() and np.nanmax(sc) > np.nanmin(sc):
            size = 15 + 60 * (sc - np.nanmin(sc)) / (np.nanmax(sc) - np.nanmin(sc))
            size = np.where(np.isfinite(size), size, 15)
    order = np.arange(len(cand))
    if "rank" in cols:  # the best drawn last (on top)
        order = np.argsort(-cand["rank"].to_numpy(dtype=float, na_value=np.inf), kind="stable")
    size_arr = np.broadcast_to(np.asarray(size, dtype=float), (len(cand),))
    ax.scatter(xs[order], ys[order], s=size_arr[order], c=[c[i] for i in order], edgecolor="#1a1a1a",
               linewidth=0.4, zorder=4)
    if "rank" in cols:
        r = cand["rank"].to_numpy(dtype=float, na_value=np.nan)
        for i in np.argsort(np.where(np.isfinite(r), r, np.inf))[:top]:
            if np.isfinite(r[i]):
                ax.annotate(f"{int(r[i])}", (xs[i], ys[i]), xytext=(4, 4), textcoords="offset points",
                            fontsize=7, zorder=5)
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(handles=handles, loc="lower right", fontsize=7, title=(category or "").replace("_", " ") or None,
              title_fontsize=7.5, framealpha=0.92)
    ax.set_title(title, fontsize=11)
    _scale_bar(ax)
    _north_arrow(ax)
    _source_line(fig, source, notes, ax)
    return _save(fig, path)


PANEL_MAX = defaults.PANEL_MAX
"""Most measures in one small-multiples panel (the main measures first: 45-minute ones)."""


def _panel_columns(cols: Sequence[str], limit: int = PANEL_MAX) -> list[str]:
    """Measures for a panel: the main measure, then 45-minute, other cutoffs and decays."""
    main = _styles.main_measure(list(cols))
    rest = [c for c in cols if c != main]
    rest.sort(key=lambda c: (0 if "_45min_" in c else 1 if re.search(r"_\d+min_", c) else 2))
    return ([main] if main else []) + rest[: limit - (1 if main else 0)]


def measures_panel_figure(
    gdf: Any,
    path: str | Path,
    *,
    columns: Sequence[str] | None = None,
    title: str = "",
    classification: str = defaults.CLASSIFICATION,
    k: int = defaults.CLASSES_K,
    source: str = DEFAULT_SOURCE,
    notes: Sequence[str] = (),
) -> list[Path]:
    """Small multiples: one choropleth per measure of a zone layer, each with its own classes.

    Parameters
    ----------
    gdf : GeoDataFrame
        Zone result layer (EPSG:28992).
    path : str or Path
        Output path without suffix (``.png`` and ``.svg``).
    columns : sequence of str, optional
        Measures (default: up to :data:`PANEL_MAX` of the layer's measures, main first).
    title : str
        Panel title.
    classification, k
        Classes per measure (see :func:`ruimtekit.report._styles.classify`).
    source, notes
        Source line and notes (under the panel).

    Returns
    -------
    list of Path
        The PNG and SVG files.
    """
    from matplotlib.patches import Patch

    _check(gdf, "zone layer")
    cols = list(columns) if columns else _panel_columns(_styles.measure_columns(gdf))
    if not cols:
        raise InputError(None, "the zone layer has no measure columns", "pass columns=[...]")
    n = len(cols)
    ncol = 1 if n == 1 else 2 if n <= 4 else 3
    nrow = math.ceil(n / ncol)
    plt = _plt()
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.0 * ncol, 3.5 * nrow), squeeze=False)
    from matplotlib.collections import PathCollection

    geoms = _display(gdf)
    keep = np.asarray(~(geoms.isna() | geoms.is_empty))  # geopandas draws only these, in order
    paths = None
    for ax, col in zip(axes.ravel(), cols, strict=False):
        info = _styles.measure_info(col)
        vals = gdf[col].to_numpy(dtype=float, na_value=np.nan)
        cls = _styles.classify(vals, classification, k, ramp=_styles.default_ramp(col))
        colors = np.array(list(cls.colors) + [_styles.NODATA_COLOR], dtype=object)[cls.bin_index(vals)]
        # no zone borders at panel scale: they would only add noise (and bytes). The polygons
        # are converted to matplotlib paths once (geopandas, first map) and reused after.
        # geopandas draws one (compound) path per non-empty geometry, in order
        part_colors = colors[keep]
        if paths is None or len(paths) != len(part_colors):
            geoms.plot(ax=ax, color=list(colors), edgecolor="face", linewidth=0.0)
            paths = ax.collections[-1].get_paths()
        else:
            ax.add_collection(PathCollection(paths, facecolors=list(part_colors), edgecolors="face",
                                             linewidths=0.0), autolim=True)
            ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(textwrap.fill(info.title, 40), fontsize=7.5)
        handles = [Patch(facecolor=c, edgecolor="#999999", label=lab) for c, lab in
                   zip(cls.colors, cls.labels, strict=True)]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=5.5,
                  frameon=False, ncol=2, handlelength=1.0, columnspacing=0.8)
    for ax in axes.ravel()[n:]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _scale_bar(axes.ravel()[0])
    # under the whole panel (below the bottom row's legends); the saved figure grows to hold it
    text = "\n".join(textwrap.wrap(source, 150) + [ln for n in notes for ln in textwrap.wrap(n, 150)])
    fig.text(0.01, -0.005, text, fontsize=6.5, color="#444444", ha="left", va="top")
    return _save(fig, path)


def _source_from(attributions: Sequence[Any]) -> str:
    parts = [a[0] if isinstance(a, tuple | list) else str(a) for a in attributions]
    return "; ".join(parts) if parts else DEFAULT_SOURCE


def study_figures(
    results: Mapping[str, Any],
    out_dir: str | Path,
    *,
    layers: Mapping[str, Any] | None = None,
    tables: Mapping[str, Any] | None = None,
    attributions: Sequence[Any] = (),
    notes: Sequence[str] = (),
    classification: str = defaults.CLASSIFICATION,
    k: int = defaults.CLASSES_K,
) -> list[Path]:
    """All standard figures of a study's results (written into ``out_dir``).

    One accessibility map per zone result layer (its main measure) plus, for layers with
    several measures, a small-multiples panel of up to :data:`PANEL_MAX` measures
    (:func:`measures_panel_figure`), a borrowed-size chart
    for layers with a borrowed-size ratio or mass columns, and a candidate map per point
    result layer. Layers that do not fit a figure are skipped (logged).

    Returns
    -------
    list of Path
        PNG and SVG files.
    """
    import geopandas as gpd


    out_dir = Path(out_dir)
    source = _source_from(attributions)
    stations = {**_content.station_layers(layers), **_content.station_layers(results)}
    station_gdf = next(iter(stations.values()), None)
    zones_bg = next((df for df in (layers or {}).values() if _content.is_polygon_layer(df)), None)
    if zones_bg is None:
        zones_bg = next((df for df in results.values()
                         if _content.is_polygon_layer(df) and _styles.measure_columns(df)), None)
    outlines = [df for n, df in results.items() if _content.is_polygon_layer(df) and not _styles.measure_columns(df)]
    written: list[Path] = []
    for name, df in results.items():
        if name in stations or not isinstance(df, gpd.GeoDataFrame):
            continue
        if _content.is_polygon_layer(df) and _styles.measure_columns(df):
            layer_notes = _content.notes_for_layer(name, notes, list(results))
            written += accessibility_figure(df, out_dir / f"{name}_map", classification=classification,
                                            k=k, caption=Caption(source=source, notes=layer_notes))
            if len(_styles.measure_columns(df)) > 1:
                written += measures_panel_figure(df, out_dir / f"{name}_panel", title=_content.title_for(name),
                                                 source=source, notes=layer_notes,
                                                 classification=classification, k=k)
        elif _content.is_point_layer(df) and {"score", "rank", "reason"} & set(df.columns):
            written += candidates_figure(
                df, out_dir / f"{name}_map", zones=zones_bg, stations=station_gdf,
                outlines=outlines[0] if outlines else None,
                caption=Caption(source=source, notes=_content.notes_for_layer(name, notes, list(results))))
    for name, df in {**results, **(tables or {})}.items():
        cols = list(getattr(df, "columns", []))
        if ("borrowed" in name or "borrowed_ratio" in cols) and any("borrowed" in c for c in cols):
            try:
                written += borrowed_size_figure(df, out_dir / f"{name}_chart", caption=Caption(
                    source=source, notes=_content.notes_for_layer(name, notes, list(results))))
            except InputError as exc:
                log.info("no borrowed-size chart for %s: %s", name, exc.problem)
    return written
