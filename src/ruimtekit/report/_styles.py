"""Shared styling: measure labels and units, classification, colour ramps, QGIS QML.

Used by :mod:`ruimtekit.report.maps` (web legends), :mod:`ruimtekit.report.figures` (static legends) and
:mod:`ruimtekit.report.export` (QGIS styles stored in the GeoPackage ``layer_styles`` table), so a
measure gets the same classes, colours and legend text everywhere.

Measure columns follow docs/architecture.md: ``{opportunity}_{cutoff}min_{mode}``
(cumulative, e.g. ``jobs_45min_car``) and ``{opportunity}_{decay}_{mode}`` (e.g.
``jobs_exp0.05_car``). :func:`measure_info` turns such a name into a legend title with
units ("jobs within 45 min (car)").

QML is the QGIS layer-style XML (``<qgis><renderer-v2 …>``). The generated documents carry
symbol properties both as ``<Option type="Map">`` (QGIS ≥ 3.26) and as legacy
``<prop k v>`` elements (older QGIS 3.x), so they load in any QGIS 3 release.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ruimtekit import defaults
from ruimtekit._errors import InputError

# --------------------------------------------------------------------------- labels

MODE_LABELS = {
    "car": "car",
    "car_peak": "car, morning peak",
    "bike": "bike",
    "bicycle": "bike",
    "ebike": "e-bike",
    "walk": "walking",
    "transit": "public transport",
    "pt": "public transport",
    "ov": "public transport",
    "rail": "rail",
    "train": "train",
}

# opportunity column part → (legend noun, unit)
OPPORTUNITY_LABELS = {
    "jobs": ("jobs", "jobs"),
    "establishments_proxy": ("establishments (proxy for jobs)", "establishments"),
    "establishments": ("establishments", "establishments"),
    "population": ("inhabitants", "inhabitants"),
    "inhabitants": ("inhabitants", "inhabitants"),
    "households": ("households", "households"),
    "dwellings": ("dwellings", "dwellings"),
    "students": ("students", "students"),
}

DECAY_NAMES = {
    "exp": "exponential decay β={p} per min",
    "pow": "power decay β={p}",
    "power": "power decay β={p}",
    "logistic": "logistic decay {p}",
    "log": "logistic decay {p}",
    "lin": "linear decay to {p} min",
    "linear": "linear decay to {p} min",
    "step": "step decay {p}",
}

# other well-known measure columns → (label, unit)
KNOWN_MEASURES = {
    "connector_m": ("distance to the road network (zone connector)", "m"),
    "borrowed_ratio": ("borrowed-size ratio (observed / expected)", "ratio"),
    "borrowed_size": ("borrowed size", ""),
    "residual": ("regression residual", ""),
    "score": ("candidate score", "score"),
    "population": ("inhabitants", "inhabitants"),
    "jobs": ("jobs", "jobs"),
    "establishments": ("establishments", "establishments"),
    "establishments_proxy": ("establishments (proxy for jobs)", "establishments"),
    "address_density": ("address density", "addresses/km²"),
    "ridership": ("ridership", "passengers per workday"),
    "floor_area_m2": ("floor area", "m²"),
    "dwellings": ("dwellings", "dwellings"),
    "households": ("households", "households"),
}

# numeric columns that describe the zone rather than a result (never auto-picked as measures
# when result-like columns exist, and never auto-picked at all when listed in _NEVER)
_NEVER = {
    "fid", "id", "zone_id", "rank", "pop_x", "pop_y", "x", "y", "lon", "lat",
    "snap_distance_m", "urbanity", "gemeente_code", "wijk_code", "pc4", "station_id",
}
_CONTEXT = {
    "population", "households", "dwellings", "establishments", "address_density",
    "area_ha", "land_area_ha", "woz_keur", "jobs", "establishments_proxy",
}

CUMULATIVE_RE = re.compile(r"^(?P<opp>[A-Za-z][A-Za-z0-9_]*?)_(?P<cut>\d+(?:\.\d+)?)min_(?P<mode>[A-Za-z][A-Za-z0-9]*(?:_peak)?)$")
DECAY_RE = re.compile(
    r"^(?P<opp>[A-Za-z][A-Za-z0-9_]*?)_(?P<kind>exp|pow|power|logistic|log|lin|linear|step)"
    r"(?P<p>[0-9][0-9.]*(?:[-_][0-9.]+)?)_(?P<mode>[A-Za-z][A-Za-z0-9]*)$"
)


@dataclass(frozen=True)
class MeasureInfo:
    """How a measure column is presented.

    Attributes
    ----------
    column : str
        The column name.
    label : str
        Legend title, e.g. ``"jobs within 45 min (car)"``.
    unit : str
        Unit of the values (``"jobs"``, ``"ratio"``, ``""`` when dimensionless).
    kind : str
        ``cumulative``, ``decay`` or ``other``.
    mode : str
        Travel mode part (``car``, ``bike`` …) or ``""``.
    cutoff_min : float or None
        Time budget in minutes for cumulative measures.
    """

    column: str
    label: str
    unit: str
    kind: str = "other"
    mode: str = ""
    cutoff_min: float | None = None

    @property
    def title(self) -> str:
        """Legend title with the unit in brackets when it adds information."""
        if self.unit and self.unit not in self.label:
            return f"{self.label} [{self.unit}]"
        return self.label


def _opp_label(opp: str) -> tuple[str, str]:
    if opp in OPPORTUNITY_LABELS:
        return OPPORTUNITY_LABELS[opp]
    noun = opp.replace("_", " ")
    return noun, noun


def measure_info(column: str, overrides: dict[str, tuple[str, str]] | None = None) -> MeasureInfo:
    """Legend label and unit of a measure column.

    Parameters
    ----------
    column : str
        Column name, e.g. ``jobs_45min_car``, ``jobs_exp0.05_bike``,
        ``establishments_proxy_45min_transit`` or ``borrowed_ratio``.
    overrides : dict, optional
        Column → (label, unit) taking precedence over the built-in rules.

    Returns
    -------
    MeasureInfo
    """
    if overrides and column in overrides:
        label, unit = overrides[column]
        return MeasureInfo(column, label, unit)
    m = CUMULATIVE_RE.match(column)
    if m:
        noun, unit = _opp_label(m["opp"])
        mode = m["mode"].lower()
        cut = float(m["cut"])
        cut_txt = f"{cut:g}"
        return MeasureInfo(
            column, f"{noun} within {cut_txt} min ({MODE_LABELS.get(mode, mode)})", unit,
            kind="cumulative", mode=mode, cutoff_min=cut,
        )
    m = DECAY_RE.match(column)
    if m:
        noun, unit = _opp_label(m["opp"])
        mode = m["mode"].lower()
        decay = DECAY_NAMES[m["kind"]].format(p=m["p"].replace("_", ", "))
        return MeasureInfo(
            column, f"{noun}, {decay} ({MODE_LABELS.get(mode, mode)})", f"weighted {unit}",
            kind="decay", mode=mode,
        )
    if column in KNOWN_MEASURES:
        label, unit = KNOWN_MEASURES[column]
        return MeasureInfo(column, label, unit)
    return MeasureInfo(column, column.replace("_", " "), "")


def _is_numeric(series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def measure_columns(df, spec: Sequence[str] | None = None) -> list[str]:
    """Pick the measure columns of a result layer.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        A result layer.
    spec : sequence of str, optional
        Explicit columns (validated: they must exist and be numeric).

    Returns
    -------
    list of str
        Accessibility measures (cumulative first, then decays, in column order), then other
        known result columns (``borrowed_ratio``, ``score`` …). When none of those exist,
        any remaining numeric columns except identifiers and coordinates.

    Raises
    ------
    InputError
        When a column in ``spec`` is missing or not numeric.
    """
    if spec is not None:
        for col in spec:
            if col not in df.columns:
                raise InputError(
                    None, f"measure column {col!r} is not in the layer (columns: {list(df.columns)})",
                    "name an existing numeric column in the map specification",
                )
            if not _is_numeric(df[col]):
                raise InputError(
                    None, f"measure column {col!r} is not numeric (dtype {df[col].dtype})",
                    "map a numeric column; convert text values to numbers first",
                )
        return list(spec)
    numeric = [c for c in df.columns if c != "geometry" and _is_numeric(df[c])]
    cumulative = [c for c in numeric if CUMULATIVE_RE.match(c)]
    decays = [c for c in numeric if c not in cumulative and DECAY_RE.match(c)]
    known = [
        c for c in numeric
        if c not in cumulative and c not in decays and c not in _CONTEXT and c not in _NEVER
        and (c in KNOWN_MEASURES or c.startswith("borrowed_") or "residual" in c)
    ]
    picked = cumulative + decays + known
    if picked:
        return picked
    return [c for c in numeric if c not in _NEVER and not c.endswith("_id")]


def main_measure(columns: Sequence[str]) -> str | None:
    """The measure to show first: a 45-minute cumulative measure when there is one.

    Preference: ``*_45min_car``, any ``*_45min_*``, any cumulative measure, then the first.
    """
    cols = list(columns)
    if not cols:
        return None
    for pred in (
        lambda c: c.endswith("_45min_car"),
        lambda c: "_45min_" in c,
        lambda c: bool(CUMULATIVE_RE.match(c)),
    ):
        for c in cols:
            if pred(c):
                return c
    return cols[0]


# --------------------------------------------------------------------- classification

CLASS_METHODS = {
    "quantiles": "Quantiles",
    "quantile": "Quantiles",
    "fisher_jenks": "FisherJenks",
    "natural_breaks": "FisherJenks",
    "jenks": "FisherJenks",
    "equal_interval": "EqualInterval",
    "user": "UserDefined",
}

NODATA_COLOR = "#d9d9d9"


def format_number(x: float, step: float | None = None) -> str:
    """Format a legend number: thousands separators, decimals only when the classes need them.

    Parameters
    ----------
    x : float
        The value.
    step : float, optional
        Typical class width; fewer decimals are used for wide classes.
    """
    if not math.isfinite(x):
        return "–"
    ref = abs(step) if step else abs(x)
    if ref >= 100 or (float(x).is_integer() and (step is None or ref >= 1)):
        return f"{x:,.0f}"
    if ref >= 10:
        return f"{x:,.1f}"
    if ref >= 0.1:
        return f"{x:,.2f}"
    return f"{x:.3g}"


def ramp_colors(name: str, k: int) -> list[str]:
    """``k`` hex colours sampled from a matplotlib colour map (light to dark)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[name]
    if k <= 1:
        return [to_hex(cmap(0.7))]
    lo, hi = (0.12, 0.95) if name not in ("RdBu", "RdYlBu", "PuOr", "BrBG") else (0.05, 0.95)
    return [to_hex(cmap(t)) for t in np.linspace(lo, hi, k)]


def default_ramp(column: str) -> str:
    """Colour ramp for a column: diverging for residuals, sequential otherwise."""
    if "residual" in column:
        return "RdBu"
    if column.startswith("borrowed"):
        return "PuOr"
    return "YlGnBu"


@dataclass(frozen=True)
class Classification:
    """Classes of one measure.

    Attributes
    ----------
    method : str
        mapclassify classifier used (``Quantiles``, ``FisherJenks``, ``EqualInterval``,
        ``UserDefined``) or ``none`` when the column has no values.
    edges : tuple of float
        ``k + 1`` class edges: the minimum, then each class's upper bound (inclusive).
    colors : tuple of str
        ``k`` hex colours.
    labels : tuple of str
        ``k`` legend labels (``"1,200 – 5,400"``).
    counts : tuple of int
        Features per class.
    n_missing : int
        Features without a value (drawn in :data:`NODATA_COLOR`).
    """

    method: str
    edges: tuple[float, ...]
    colors: tuple[str, ...]
    labels: tuple[str, ...]
    counts: tuple[int, ...] = field(default=())
    n_missing: int = 0

    @property
    def k(self) -> int:
        """Number of classes."""
        return len(self.colors)

    def bin_index(self, values) -> np.ndarray:
        """Class of each value (``-1`` for missing), upper bounds inclusive."""
        v = np.asarray(values, dtype=float)
        out = np.full(v.shape, -1, dtype=np.int64)
        if self.k == 0:
            return out
        ok = np.isfinite(v)
        uppers = np.asarray(self.edges[1:], dtype=float)
        idx = np.searchsorted(uppers, v[ok], side="left")
        out[ok] = np.clip(idx, 0, self.k - 1)
        return out


def _quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` quantile classes, as ``mapclassify.Quantiles`` computes them
    (percentiles 100/k, 200/k, ..., 100 with linear interpolation; repeated bounds on tied
    data collapse). Written out so that a map does not pay mapclassify's numba start-up
    (about 5 s per process); ``tests/test_maps.py`` checks it against mapclassify."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    from scipy import stats

    return np.unique(np.array([stats.scoreatpercentile(y, pct) for pct in p]))


def _equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """Upper bounds of ``k`` equal-width classes, as ``mapclassify.EqualInterval``."""
    lo, hi = float(np.min(y)), float(np.max(y))
    width = (hi - lo) / k
    cuts = np.arange(lo + width, hi + width, width) if width > 0 else np.array([hi])
    cuts = cuts[:k].copy()
    cuts[-1] = hi
    return cuts


def classify(
    values,
    method: str = defaults.CLASSIFICATION,
    k: int = defaults.CLASSES_K,
    *,
    bins: Sequence[float] | None = None,
    ramp: str = "YlGnBu",
) -> Classification:
    """Classify measure values with mapclassify.

    Parameters
    ----------
    values : array-like of float
        Values (NaN = missing, kept out of the classes).
    method : str
        ``quantiles``, ``fisher_jenks`` (= ``natural_breaks``, Fisher-Jenks optimal
        breaks), ``equal_interval`` or ``user`` (requires ``bins``).
    k : int
        Number of classes (reduced when there are fewer distinct values).
    bins : sequence of float, optional
        Upper class bounds for user-chosen classes; the maximum is appended when the last
        bound is below it.
    ramp : str
        matplotlib colour-map name.

    Returns
    -------
    Classification

    Raises
    ------
    InputError
        On an unknown method, ``k < 1`` or unsorted bins.
    """
    if bins is not None:
        method = "user"
    if method not in CLASS_METHODS:
        raise InputError(
            None, f"unknown classification {method!r}",
            f"use one of {sorted(set(CLASS_METHODS) - {'quantile', 'jenks'})}",
        )
    if k < 1:
        raise InputError(None, f"number of classes k={k} is below 1", "use k between 2 and 12")
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    n_missing = int(v.size - finite.size)
    if finite.size == 0:
        return Classification("none", (), (), (), (), n_missing)
    n_unique = int(np.unique(finite).size)
    k_eff = max(1, min(k, n_unique))
    name = CLASS_METHODS[method]
    if name == "UserDefined":
        b = np.asarray(list(bins or []), dtype=float)
        if b.size == 0 or np.any(np.diff(b) <= 0):
            raise InputError(
                None, f"user class bounds {list(b)} are empty or not strictly increasing",
                "give increasing upper bounds, e.g. bins=[100000, 500000, 1000000]",
            )
        uppers = b[b < finite.max()].tolist() + [float(finite.max())]
        uppers = [u for u in uppers if u >= finite.min()] or [float(finite.max())]
    elif k_eff == 1:
        uppers = [float(finite.max())]
    else:
        import warnings

        if name == "Quantiles":
            cls_bins = _quantile_bins(finite, k_eff)
        elif name == "EqualInterval":
            cls_bins = _equal_interval_bins(finite, k_eff)
        else:
            import mapclassify  # Fisher-Jenks (numba, compiled at import: only when asked)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # duplicate bins on tied data
                cls_bins = getattr(mapclassify, name)(finite, k=k_eff).bins
        uppers = sorted({float(x) for x in np.asarray(cls_bins, dtype=float)})
        uppers[-1] = max(uppers[-1], float(finite.max()))
    lower = float(finite.min())
    edges = tuple([lower, *uppers])
    colors = tuple(ramp_colors(ramp, len(uppers)))
    widths = np.diff(edges)
    step = float(np.median(widths[widths > 0])) if np.any(widths > 0) else None
    labels = tuple(
        f"{format_number(edges[i], step)} – {format_number(edges[i + 1], step)}"
        for i in range(len(uppers))
    )
    tmp = Classification(name, edges, colors, labels, (), n_missing)
    idx = tmp.bin_index(finite)
    counts = tuple(int(c) for c in np.bincount(idx, minlength=len(uppers)))
    return Classification(name, edges, colors, labels, counts, n_missing)


CATEGORY_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
    "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6",
)


def category_colors(values: Sequence) -> dict[str, str]:
    """Stable colour per category (sorted category order; Dark2 then Paired tones)."""
    cats = sorted({str(v) for v in values if v is not None and str(v) != "nan"})
    return {c: CATEGORY_COLORS[i % len(CATEGORY_COLORS)] for i, c in enumerate(cats)}


STATION_STYLE = {
    "intercity": ("#c0392b", 4.0, "square"),
    "sprinter": ("#2c3e91", 3.0, "circle"),
    "metro": ("#8e44ad", 3.0, "circle"),
    "tram": ("#16a085", 2.4, "circle"),
    "bus": ("#7f8c8d", 2.0, "circle"),
    "ferry": ("#2980b9", 2.6, "diamond"),
    "other": ("#555555", 2.0, "circle"),
}
"""Station type → (colour, QGIS marker size in mm, QGIS marker shape)."""


# ------------------------------------------------------------------------------- QML

GEOM_POINT, GEOM_LINE, GEOM_POLYGON = 0, 1, 2


def geometry_kind(geom_type: str | None) -> int:
    """QGIS ``layerGeometryType`` (0 point, 1 line, 2 polygon) from a shapely/OGR type name."""
    t = (geom_type or "").lower()
    if "point" in t:
        return GEOM_POINT
    if "line" in t:
        return GEOM_LINE
    return GEOM_POLYGON


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _props(layer: ET.Element, props: dict[str, str]) -> None:
    opt = ET.SubElement(layer, "Option", type="Map")
    for k, v in props.items():
        ET.SubElement(opt, "Option", type="QString", name=k, value=str(v))
    for k, v in props.items():
        ET.SubElement(layer, "prop", k=k, v=str(v))


def _symbol(name: str, geom: int, color: str, *, size: float = 2.0, shape: str = "circle",
            outline: str = "#ffffff", outline_width: float = 0.1, alpha: float = 1.0) -> ET.Element:
    stype = {GEOM_POINT: "marker", GEOM_LINE: "line", GEOM_POLYGON: "fill"}[geom]
    sym = ET.Element("symbol", type=stype, name=name, alpha=f"{alpha:g}",
                     clip_to_extent="1", force_rhr="0")
    if geom == GEOM_POLYGON:
        layer = ET.SubElement(sym, "layer", {"class": "SimpleFill", "pass": "0"}, enabled="1", locked="0")
        _props(layer, {
            "border_width_map_unit_scale": "3x:0,0,0,0,0,0", "color": _rgba(color),
            "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM",
            "outline_color": _rgba(outline), "outline_style": "solid",
            "outline_width": f"{outline_width:g}", "outline_width_unit": "MM", "style": "solid",
        })
    elif geom == GEOM_LINE:
        layer = ET.SubElement(sym, "layer", {"class": "SimpleLine", "pass": "0"}, enabled="1", locked="0")
        _props(layer, {
            "capstyle": "square", "joinstyle": "bevel", "line_color": _rgba(color),
            "line_style": "solid", "line_width": f"{outline_width:g}", "line_width_unit": "MM",
            "offset": "0", "offset_unit": "MM",
        })
    else:
        layer = ET.SubElement(sym, "layer", {"class": "SimpleMarker", "pass": "0"}, enabled="1", locked="0")
        _props(layer, {
            "angle": "0", "color": _rgba(color), "horizontal_anchor_point": "1",
            "joinstyle": "bevel", "name": shape, "offset": "0,0", "offset_unit": "MM",
            "outline_color": _rgba(outline), "outline_style": "solid",
            "outline_width": f"{outline_width:g}", "outline_width_unit": "MM",
            "scale_method": "diameter", "size": f"{size:g}", "size_unit": "MM",
            "vertical_anchor_point": "1",
        })
    return sym


def _document(renderer: ET.Element, geom: int, *, labels_field: str | None = None) -> str:
    root = ET.Element("qgis", version="3.28.0-Firenze", styleCategories="Symbology|Labeling",
                      labelsEnabled="1" if labels_field else "0")
    root.append(renderer)
    if labels_field:
        labeling = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(labeling, "settings", calloutType="simple")
        ET.SubElement(settings, "text-style", fieldName=labels_field, isExpression="0",
                      fontSize="8", fontSizeUnit="Point", textColor="50,50,50,255",
                      fontFamily="Sans Serif", namedStyle="Regular")
        buf = ET.SubElement(settings, "text-buffer", bufferDraw="1", bufferSize="0.8",
                            bufferSizeUnits="MM", bufferColor="255,255,255,255")
        buf.text = None
        ET.SubElement(settings, "placement", placement="0" if geom != GEOM_POINT else "6",
                      dist="1", distUnits="MM")
        ET.SubElement(settings, "rendering", scaleVisibility="1", scaleMin="1", scaleMax="100000",
                      obstacle="1")
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerGeometryType").text = str(geom)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def _qml_number(x: float) -> str:
    return f"{x:.15f}" if abs(x) < 1e15 else repr(float(x))


def graduated_qml(column: str, cls: Classification, geom_type: str | None, *,
                  unit: str = "") -> str:
    """QML of a graduated (classed colour) renderer for a measure column.

    Parameters
    ----------
    column : str
        Attribute to classify.
    cls : Classification
        Classes from :func:`classify` (edges, colours, labels).
    geom_type : str
        Geometry type name of the layer (``MultiPolygon``, ``Point`` …).
    unit : str
        Appended to every legend label (e.g. ``"jobs"``).

    Returns
    -------
    str
        A QML document.
    """
    geom = geometry_kind(geom_type)
    method_id = {"Quantiles": "Quantile", "FisherJenks": "Jenks", "EqualInterval": "EqualInterval",
                 "UserDefined": "Fixed"}.get(cls.method, "Quantile")
    r = ET.Element("renderer-v2", type="graduatedSymbol", attr=column, graduatedMethod="GraduatedColor",
                   symbollevels="0", enableorderby="0", forceraster="0", referencescale="-1")
    ranges = ET.SubElement(r, "ranges")
    symbols = ET.SubElement(r, "symbols")
    suffix = f" {unit}" if unit else ""
    for i in range(cls.k):
        ET.SubElement(ranges, "range", symbol=str(i), lower=_qml_number(cls.edges[i]),
                      upper=_qml_number(cls.edges[i + 1]), label=cls.labels[i] + suffix, render="true")
        symbols.append(_symbol(str(i), geom, cls.colors[i], outline="#ffffff"))
    src = ET.SubElement(r, "source-symbol")
    src.append(_symbol("0", geom, cls.colors[0] if cls.k else NODATA_COLOR))
    ramp = ET.SubElement(r, "colorramp", type="gradient", name="[source]")
    ramp_opts = {
        "color1": _rgba(cls.colors[0] if cls.k else NODATA_COLOR),
        "color2": _rgba(cls.colors[-1] if cls.k else NODATA_COLOR),
        "discrete": "0", "rampType": "gradient",
    }
    if cls.k > 2:
        ramp_opts["stops"] = ":".join(
            f"{i / (cls.k - 1):.6f};{_rgba(c)}" for i, c in enumerate(cls.colors[1:-1], start=1)
        )
    _props(ramp, ramp_opts)
    cm = ET.SubElement(r, "classificationMethod", id=method_id)
    ET.SubElement(cm, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(cm, "labelFormat", format="%1 - %2" + suffix, labelprecision="0",
                  trimtrailingzeroes="1")
    ET.SubElement(ET.SubElement(cm, "parameters"), "Option")
    ET.SubElement(cm, "extraInformation")
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return _document(r, geom)


def categorized_qml(column: str, colors: dict[str, str], geom_type: str | None, *,
                    labels: dict[str, str] | None = None, size: float = 3.0,
                    label_field: str | None = None) -> str:
    """QML of a categorized renderer (one colour per value of ``column``).

    Parameters
    ----------
    column : str
        Attribute holding the category (e.g. ``reason`` or ``station_type``).
    colors : dict
        Category value → hex colour (see :func:`category_colors`).
    geom_type : str
        Geometry type name of the layer.
    labels : dict, optional
        Category value → legend label (default: the value).
    size : float
        Marker size in millimetres for point layers.
    label_field : str, optional
        Attribute shown as map label (e.g. ``rank``).
    """
    geom = geometry_kind(geom_type)
    r = ET.Element("renderer-v2", type="categorizedSymbol", attr=column, symbollevels="0",
                   enableorderby="0", forceraster="0", referencescale="-1")
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    for i, (value, color) in enumerate(colors.items()):
        ET.SubElement(cats, "category", symbol=str(i), value=str(value),
                      label=(labels or {}).get(value, str(value)), render="true", type="string")
        symbols.append(_symbol(str(i), geom, color, size=size, outline="#333333", outline_width=0.2))
    src = ET.SubElement(r, "source-symbol")
    src.append(_symbol("0", geom, "#888888", size=size))
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return _document(r, geom, labels_field=label_field)


def single_qml(geom_type: str | None, *, color: str = "#2c3e91", size: float = 2.4,
               shape: str = "circle", outline_only: bool = False, label_field: str | None = None) -> str:
    """QML of a single-symbol renderer (simple marker, line or fill/outline).

    Parameters
    ----------
    geom_type : str
        Geometry type name of the layer.
    color : str
        Hex colour (outline colour when ``outline_only``).
    size : float
        Marker size in millimetres.
    shape : str
        QGIS marker name (``circle``, ``square``, ``diamond``, ``triangle``, ``star``).
    outline_only : bool
        Polygons drawn as outlines without fill (catchments).
    label_field : str, optional
        Attribute shown as map label (e.g. ``station_name``).
    """
    geom = geometry_kind(geom_type)
    r = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                   forceraster="0", referencescale="-1")
    symbols = ET.SubElement(r, "symbols")
    if geom == GEOM_POLYGON and outline_only:
        sym = _symbol("0", geom, "#ffffff", outline=color, outline_width=0.5)
        for lyr in sym.iter("layer"):
            for el in lyr.iter():
                if el.get("name") == "style":
                    el.set("value", "no")
                if el.get("k") == "style":
                    el.set("v", "no")
        symbols.append(sym)
    else:
        symbols.append(_symbol("0", geom, color, size=size, shape=shape, outline="#ffffff",
                               outline_width=0.3 if geom != GEOM_LINE else 0.5))
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return _document(r, geom, labels_field=label_field)


def categorized_stations_qml(types: Sequence[str], geom_type: str | None = "Point") -> str:
    """QML for stations: simple markers per ``station_type`` (size and colour by type)."""
    present = [t for t in STATION_STYLE if t in {str(x) for x in types}] or ["other"]
    geom = geometry_kind(geom_type)
    r = ET.Element("renderer-v2", type="categorizedSymbol", attr="station_type", symbollevels="0",
                   enableorderby="0", forceraster="0", referencescale="-1")
    cats = ET.SubElement(r, "categories")
    symbols = ET.SubElement(r, "symbols")
    for i, t in enumerate(present):
        color, size, shape = STATION_STYLE[t]
        ET.SubElement(cats, "category", symbol=str(i), value=t, label=t, render="true", type="string")
        symbols.append(_symbol(str(i), geom, color, size=size, shape=shape, outline="#ffffff",
                               outline_width=0.3))
    src = ET.SubElement(r, "source-symbol")
    src.append(_symbol("0", geom, "#555555"))
    ET.SubElement(r, "rotation")
    ET.SubElement(r, "sizescale")
    return _document(r, geom, labels_field="station_name")
