"""Interactive web maps (folium/Leaflet): one HTML map per analysis plus an index page.

:func:`build_study_maps` turns a run's result layers into ``maps/<study>/``:

* ``<layer>.html`` per zone result layer: a choropleth per measure (one Leaflet layer per
  measure in the layer control, one shown at a time, legend with classes and units, e.g.
  "jobs within 45 min (car)"), tooltips and popups with zone name, code and key figures;
* ``<layer>.html`` per point result layer (candidates): markers coloured by class/reason,
  clustered when there are many;
* stations (``station_name``/``station_type``) as markers and catchment polygons (polygon
  layers without measures) as outlines, as overlays on every map;
* ``index.html``: a card per map (and per figure), the sources and the notes (proxy and
  synthetic statements);
* ``lib/``: Leaflet and Leaflet.markercluster (offline mode, see :mod:`ruimtekit.report._offline`).

Base maps: OpenStreetMap and PDOK BRT-Achtergrondkaart (WMTS, EPSG:3857 tiles). In offline
mode "no background" is the default base layer, so the maps render without internet.

Safety: every data value reaches the page as JSON inside a ``<script>`` block with ``<``,
``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026`` (a value cannot close the
script element) and is HTML-escaped in JavaScript (``rkEsc``) before it is put into a
tooltip, popup or legend; layer names and legend texts are escaped in Python. (folium's own
``GeoJsonTooltip``/``GeoJsonPopup`` insert property values into the tooltip HTML
unescaped, which is why they are not used here.)

Display geometry: polygons are simplified in RD metres (shared borders kept with
``shapely.coverage_simplify``) before reprojecting to EPSG:4326, and coordinates are
rounded (5 decimals ≈ 1 m), so the national PC4 map (4,068 polygons) stays responsive.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from ruimtekit import _io, _vector, defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError, RuimtekitError, describe_validation
from ruimtekit.analysis.candidates import CandidatesConfig
from ruimtekit.io import layers as _layers
from ruimtekit.report import _offline, _styles
from ruimtekit.report import figures as _figures
from ruimtekit.report._content import (
    is_point_layer,
    is_polygon_layer,
    notes_for_layer,
    rank_classes,
    station_layers,
    title_for,
)

log = logging.getLogger("ruimtekit.report.maps")

__all__ = [
    "MapResult",
    "build_study_maps",
    "choropleth_map",
    "display_geometries",
    "pipeline_step",
    "points_map",
    "write_index",
]

PDOK_BRT_URL = "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png"
PDOK_ATTRIBUTION = "Kaartgegevens &copy; Kadaster / PDOK (BRT-Achtergrondkaart, CC BY 4.0)"
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'

CLUSTER_THRESHOLD = defaults.CLUSTER_THRESHOLD
"""Point layers with more features than this are drawn with Leaflet.markercluster."""

_NAME_COLUMNS = ("zone_name", "station_name", "name", "naam", "BU_NAAM", "WK_NAAM", "GM_NAAM")
_ID_COLUMNS = ("zone_id", "station_id", "object_id", "id", "BU_CODE", "WK_CODE", "GM_CODE")
_CATEGORY_COLUMNS = ("function", "class", "candidate_class", "type", "category", "station_type")


# ======================================================================================
# parameter objects
class MapsConfig(Section):
    """Web map and figure settings.

    The study's ``maps:`` section, and the ``config`` of every map function.

    Attributes
    ----------
    enabled : bool
        Build web maps and figures.
    offline : bool
        Serve Leaflet from ``<maps>/lib/`` so maps work without internet.
    basemap : str
        ``pdok`` (BRT-Achtergrondkaart, default), ``osm`` or ``none`` (no tiles: the explicit
        offline choice). Without internet a map falls back to no background and says so.
    classification : str
        ``quantiles``, ``fisher_jenks`` (natural breaks) or ``equal_interval``.
    k : int
        Number of classes.
    simplify_m : float
        Display simplification tolerance in metres (analysis keeps full geometry).
    precision : int
        Coordinate decimals of the web maps (EPSG:4326; 5 ≈ 1 m). Large layers get
        coarser settings automatically (:func:`display_settings`).
    figures : bool
        Also write static PNG/SVG figures.
    """

    enabled: bool = True
    offline: bool = True
    basemap: Literal["pdok", "osm", "none"] = defaults.BASEMAP
    classification: str = defaults.CLASSIFICATION
    k: int = Field(defaults.CLASSES_K, ge=2, le=12)
    simplify_m: float = Field(defaults.SIMPLIFY_M, ge=0)
    precision: int = Field(defaults.MAP_PRECISION, ge=0, le=10)
    figures: bool = True


class MapPage(Section):
    """What a map page says: its title, the study name, notes and source attributions.

    Attributes
    ----------
    title : str
        Short map title (page header); for :func:`build_study_maps` the study title
        (index page, and the header of every map unless ``study`` is given).
    study : str
        Study name shown in the page header.
    notes : list of str
        Notes (proxy/synthetic statements); each is shown in the collapsible notes panel
        while a layer it concerns is visible (a car note with a car measure).
    attributions : list of str or (text, url)
        Source attributions shown on the map (e.g. "Bron: CBS (CC BY 4.0)").
    """

    title: str = ""
    study: str = ""
    notes: list[str] = Field(default_factory=list)
    attributions: list[Any] = Field(default_factory=list)


class Overlays(Section):
    """Layers drawn over a map's own layer.

    Attributes
    ----------
    stations : dict of str to GeoDataFrame
        Station points (square markers; their radii as outlines).
    outlines : dict of str to GeoDataFrame
        Polygons drawn as outlines (catchments: hidden at first on choropleths, shown on
        marker maps).
    zones : dict of str to GeoDataFrame
        Zone layers of a marker map; the one holding the points is drawn as grey outlines.
    """

    stations: dict[str, Any] = Field(default_factory=dict)
    outlines: dict[str, Any] = Field(default_factory=dict)
    zones: dict[str, Any] = Field(default_factory=dict)


def _as_section(model: type[Any], value: Any, what: str) -> Any:
    """``value`` as a ``model`` instance (an instance, a dict or ``None`` for the defaults)."""
    if isinstance(value, model):
        return value
    try:
        return model(**dict(value or {}))
    except (TypeError, ValueError) as exc:
        raise InputError(None, f"invalid {what}: {describe_validation(exc)}",
                         f"see ruimtekit.report.maps.{model.__name__}") from None


@dataclass
class MapResult:
    """One written map.

    Attributes
    ----------
    path : Path
        The HTML file.
    title : str
        Map title.
    kind : str
        ``choropleth`` or ``points``.
    n_features : int
        Features drawn in the main layer (empty geometries are skipped).
    layers : list of str
        Names in the layer control (measures or categories).
    bytes : int
        Size of the HTML file.
    description : str
        One-line description for the index card.
    expected_paths : int
        SVG paths Leaflet draws on load (visible zones + unclustered points + outlines).
    """

    path: Path
    title: str
    kind: str
    n_features: int
    layers: list[str]
    bytes: int = 0
    description: str = ""
    expected_paths: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------ helpers


def _js(obj: Any) -> str:
    """JSON for embedding in ``<script>``: no raw ``<``, ``>``, ``&`` or line separators."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(x: Any) -> float | None:
    """A JSON-safe rounded number (None for missing)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    if abs(v) >= 1000:
        return float(round(v))
    return float(f"{v:.4g}")


def _first(cols: Sequence[str], options: Sequence[str]) -> str | None:
    return next((c for c in options if c in cols), None)


def _present(geoms: Any) -> np.ndarray:
    return np.asarray(~(geoms.isna() | geoms.is_empty), dtype=bool)


def _check_gdf(gdf: Any, what: str) -> None:
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(None, f"{what} is a {type(gdf).__name__}, not a GeoDataFrame",
                         "pass a GeoDataFrame in EPSG:28992")
    if gdf.crs is None:
        raise InputError(None, f"{what} has no CRS",
                         "set the CRS (ruimtekit layers are EPSG:28992: gdf.set_crs(28992))")


def _simplify_polygons(geoms: np.ndarray, tol: float) -> np.ndarray:
    """Coverage simplification (shared borders stay shared), or per-polygon Douglas-Peucker
    when the polygons are not a coverage: overlapping polygons (e.g. catchments of
    neighbouring cities) make ``coverage_simplify`` raise or return them nearly unchanged
    (measured on the demo catchments: 625,563 of 625,745 vertices kept, against 157,968
    per polygon)."""
    import shapely

    n0 = int(shapely.get_num_coordinates(geoms).sum())
    try:
        cov = shapely.coverage_simplify(geoms, tol)
    except Exception:  # not a valid coverage
        cov = None
    if cov is not None and shapely.get_num_coordinates(cov).sum() <= 0.9 * n0:
        return cov
    each = shapely.simplify(geoms, tol, preserve_topology=True)
    if cov is None or shapely.get_num_coordinates(each).sum() < shapely.get_num_coordinates(
            cov).sum():
        return each
    return cov  # nothing to simplify either way


def display_geometries(gdf: Any, simplify_m: float = defaults.SIMPLIFY_M,
                       precision: int = defaults.MAP_PRECISION) -> Any:
    """Geometries for a web map: simplified in metres, in EPSG:4326, rounded coordinates.

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer in a projected CRS (EPSG:28992); other CRSs are first reprojected to it.
    simplify_m : float
        Simplification tolerance in metres (0 = none). Polygon layers that form a coverage
        keep shared borders (``shapely.coverage_simplify``); overlapping polygons and
        lines use Douglas-Peucker with topology preservation.
    precision : int
        Decimals of the output longitude/latitude (5 ≈ 1 m).

    Returns
    -------
    numpy.ndarray of shapely geometries (EPSG:4326); empty geometries stay empty.
    """
    import geopandas as gpd
    import shapely

    g = gdf.geometry
    work = g.crs if g.crs is not None and g.crs.is_projected else 28992
    if g.crs is not None and not g.crs.is_projected:
        g = g.to_crs(work)
    geoms = np.asarray(g.values, dtype=object)
    if simplify_m > 0 and len(geoms):
        poly = np.isin(shapely.get_type_id(geoms), (3, 6))
        out = geoms.copy()
        if poly.any():
            out[poly] = _simplify_polygons(geoms[poly], simplify_m)
        other = ~poly & np.isin(shapely.get_type_id(geoms), (1, 5))
        if other.any():
            out[other] = shapely.simplify(geoms[other], simplify_m, preserve_topology=True)
        geoms = out
    wgs = gpd.GeoSeries(geoms, crs=work).to_crs(4326).values
    return shapely.transform(np.asarray(wgs, dtype=object), lambda c: np.round(c, precision))


LARGE_LAYER = defaults.LARGE_LAYER
"""Polygon layers with more features than this get at least :data:`LARGE_SIMPLIFY_M`."""
LARGE_SIMPLIFY_M = defaults.LARGE_SIMPLIFY_M


HEAVY_VERTICES = defaults.HEAVY_VERTICES
"""Layers with more vertices than this (e.g. dissolved catchments) get at least
:data:`HEAVY_SIMPLIFY_M`."""
HEAVY_SIMPLIFY_M = defaults.HEAVY_SIMPLIFY_M


def display_settings(n_features: int, simplify_m: float, precision: int = defaults.MAP_PRECISION,
                     n_vertices: int = 0) -> tuple[float, int]:
    """Simplification tolerance (metres) and coordinate decimals used for a layer.

    Large layers (more than :data:`LARGE_LAYER` polygons, e.g. the 4,068 national PC4
    areas) are simplified with at least :data:`LARGE_SIMPLIFY_M` metres and written with
    4 decimals (≈ 10 m), which roughly halves the HTML (≈ 3.5 MB instead of 6.6 MB for
    the PC4 map with three measures) without visible change at national zoom levels.
    """
    if n_features > LARGE_LAYER:
        simplify_m = max(simplify_m, LARGE_SIMPLIFY_M)
        precision = min(precision, 4)
    if n_vertices > HEAVY_VERTICES:
        simplify_m = max(simplify_m, HEAVY_SIMPLIFY_M)
        precision = min(precision, 4)
    return simplify_m, precision


def _features(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    import shapely

    feats = []
    for geom, p in zip(geoms, props, strict=True):
        if geom is None or shapely.is_empty(geom):
            continue
        feats.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": p})
    return {"type": "FeatureCollection", "features": feats}


# ------------------------------------------------------------------ folium elements

def _raw(text: str) -> Any:
    """A branca element that renders ``text`` verbatim (never through Jinja).

    branca's ``Element(text)`` treats its text as a Jinja template, so data containing
    ``{{ … }}`` would be evaluated; this element returns the text as is.
    """
    from branca.element import Element

    class _Raw(Element):
        def render(self, **kwargs: Any) -> str:
            return text

    return _Raw()


def _script_element(js: str, name: str) -> Any:
    """A folium element that appends ``js`` to the page script, then renders its children."""
    from branca.element import MacroElement

    class _JS(MacroElement):
        def render(self, **kwargs: Any) -> None:
            self.get_root().script.add_child(_raw(js), name=self.get_name())
            for child in list(self._children.values()):
                child.render(**kwargs)

    el = _JS()
    el._name = name
    return el


class _Script:
    """Adds JavaScript snippets to a map (``__MAP__`` stands for the map variable)."""

    def __init__(self, m: Any) -> None:
        self.m = m

    def add(self, parent: Any, js: str, name: str = "rk") -> None:
        """Add ``js`` as a child script of ``parent`` (rendered after ``parent``'s own script)."""
        parent.add_child(_script_element(js.replace("__MAP__", self.m.get_name()), name))


_HELPERS = r"""
window.rkEsc = function(s){ return String(s).replace(/[&<>"']/g, function(c){
  return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]; }); };
window.rkFmt = function(v){ if (v === null || v === undefined) return 'no data';
  var a = Math.abs(v); var d = a >= 100 ? 0 : (a >= 10 ? 1 : (a >= 1 ? 2 : 3));
  return Number(v).toLocaleString('en-GB', {maximumFractionDigits: d}); };
window.rkTip = function(p, meta, cur){
  var h = '<div class="rk-tip"><b>' + rkEsc(p.n) + '</b>';
  if (p.i !== null && p.i !== undefined && p.i !== '') h += ' <span class="rk-id">' + rkEsc(p.i) + '</span>';
  h += '<table>';
  for (var j = 0; j < meta.length; j++) {
    var v = p.v[j];
    var txt = (typeof v === 'number') ? rkFmt(v) : (v === null || v === undefined ? 'no data' : v);
    h += '<tr' + (j === cur ? ' class="rk-cur"' : '') + '><td>' + rkEsc(meta[j].label) + '</td><td>'
       + rkEsc(txt) + (meta[j].unit && typeof v === 'number' ? ' ' + rkEsc(meta[j].unit) : '') + '</td></tr>';
  }
  return h + '</table></div>';
};
"""

_CSS = """
<style>
html,body{height:100%;margin:0}
.rk-header{position:absolute;top:0;left:0;right:0;height:44px;z-index:1001;background:#1f3b5a;color:#fff;
 display:flex;align-items:center;gap:14px;padding:0 12px;font:13px/1.3 system-ui,sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.35);overflow:hidden;white-space:nowrap}
.rk-header h1{font-size:16px;margin:0;font-weight:600;flex:none}
.rk-header .rk-study{color:#cfd9e6;overflow:hidden;text-overflow:ellipsis;flex:1 1 auto;min-width:0}
.rk-header a{color:#fff}
.rk-header .rk-status{display:none;background:#fff3cd;color:#6b4a00;padding:2px 8px;border-radius:3px;
 font-size:12px;flex:none}
.folium-map{position:absolute!important;top:44px!important;bottom:0!important;left:0!important;right:0!important;
 width:auto!important;height:auto!important}
.rk-legend{background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;font:12px/1.3 system-ui,sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:280px}
.rk-legend h4{margin:0 0 4px 0;font-size:12px}
.rk-legend .rk-row{display:flex;align-items:center;gap:6px;margin:1px 0}
.rk-legend .rk-sw{width:16px;height:12px;border:1px solid #999;flex:none}
.rk-legend .rk-dot{width:11px;height:11px;border-radius:50%;border:1.5px solid #222;flex:none}
.rk-legend .rk-sq{width:8px;height:8px;border:1px solid #fff;box-shadow:0 0 0 1px #555;flex:none}
.rk-legend .rk-line{width:16px;height:0;border-top:2px solid;flex:none}
.rk-legend .rk-ring{width:12px;height:12px;border-radius:50%;border:1.5px dashed;flex:none}
.rk-legend .rk-meta{color:#666;font-size:11px;margin-top:3px}
.rk-measures{font:13px/1.4 system-ui,sans-serif;max-width:300px;max-height:45vh;overflow-y:auto}
.rk-measures .rk-h{font-weight:600;margin-bottom:2px}
.rk-measures label{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;cursor:pointer}
.rk-notes{background:rgba(255,255,255,.95);border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:12px/1.35 system-ui,sans-serif;max-width:560px;padding:4px 8px}
.rk-notes summary{cursor:pointer;color:#8a2b06;font-weight:600}
.rk-notes ul{margin:3px 0 0 0;padding:0 0 0 14px}
.rk-notes li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:530px;color:#5a2a0a}
.rk-notes a{color:#1f5fa0}
.rk-list{background:rgba(255,255,255,.96);border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:12px/1.3 system-ui,sans-serif;padding:4px 6px;max-width:330px}
.rk-list summary{cursor:pointer;font-weight:600}
.rk-list .rk-scroll{max-height:46vh;overflow:auto}
.rk-list table{border-collapse:collapse;width:100%}
.rk-list th{position:sticky;top:0;background:#eef2f6;cursor:pointer;text-align:left;padding:2px 4px;user-select:none}
.rk-list td{padding:1px 4px;border-top:1px solid #eee;white-space:nowrap;max-width:150px;overflow:hidden;
 text-overflow:ellipsis}
.rk-list tbody tr{cursor:pointer} .rk-list tbody tr:hover{background:#fff3cd}
.rk-list .rk-sw{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:4px}
.rk-tip table{border-collapse:collapse;margin-top:3px}
.rk-tip td{padding:0 6px 0 0;font-size:12px}
.rk-tip .rk-cur td{font-weight:bold}
.rk-tip .rk-id{color:#777;font-size:11px}
.rk-station{border:1px solid #fff;box-shadow:0 0 0 1px #333;box-sizing:border-box}
.leaflet-container{background:#f2efe9}
</style>
"""

BASEMAPS = ("pdok", "osm", "none")
"""Base-map choices: PDOK BRT-Achtergrondkaart (default), OpenStreetMap, or none (offline)."""

BASEMAP_MIN_ERRORS = defaults.BASEMAP_MIN_ERRORS
"""Failed tiles (with none loaded) after which a map switches to "no background" and says so."""

_BASEMAP_NAMES = {"pdok": "PDOK BRT-Achtergrondkaart", "osm": "OpenStreetMap", "none": "no background"}


@dataclass
class _Frame:
    """A map under construction: folium map, script helper and its panel entries."""

    m: Any
    s: _Script
    legend: list[tuple[str | None, str]] = field(default_factory=list)
    measures: list[tuple[str, str]] = field(default_factory=list)  # (group variable, label)
    mode_groups: dict[str, list[str]] = field(default_factory=dict)  # mode → measure groups
    station_groups: list[str] = field(default_factory=list)


def _check_basemap(basemap: str) -> str:
    if basemap not in BASEMAPS:
        raise InputError(None, f"unknown base map {basemap!r}", f"use one of {', '.join(BASEMAPS)}")
    return basemap


def _new_map(title: str, study: str, attributions: Sequence[Any], offline: bool, cluster: bool,
             basemap: str = defaults.BASEMAP) -> _Frame:
    """A folium map with the page header (short title, study name), base maps and sources.

    The chosen base map is shown first; when its tiles fail (no internet) and none has
    loaded, the map switches to "no background" and the header says so.
    """
    import folium

    _check_basemap(basemap)
    m = folium.Map(tiles=None, location=[52.2, 5.3], zoom_start=8, control_scale=True,
                   prefer_canvas=False)
    m.default_js = _offline.js_links(offline, cluster)
    m.default_css = _offline.css_links(offline, cluster)
    s = _Script(m)
    # folium passes max_zoom only to tile layers; Leaflet.markercluster needs it on the map
    s.add(m, _HELPERS + "__MAP__.setMinZoom(5);\n__MAP__.setMaxZoom(19);\n", "rk_helpers")
    tiles = {
        "pdok": folium.TileLayer(PDOK_BRT_URL, name=_BASEMAP_NAMES["pdok"], attr=PDOK_ATTRIBUTION,
                                 max_zoom=19, max_native_zoom=19, overlay=False, show=basemap == "pdok"),
        "osm": folium.TileLayer(OSM_URL, name=_BASEMAP_NAMES["osm"], attr=OSM_ATTRIBUTION, max_zoom=19,
                                overlay=False, show=basemap == "osm"),
    }
    blank = folium.FeatureGroup(name=_BASEMAP_NAMES["none"], overlay=False, control=True,
                                show=basemap == "none")
    for layer in (tiles["pdok"], tiles["osm"], blank):
        layer.add_to(m)
    fallback = ""
    if basemap != "none":
        t = tiles[basemap]
        fallback = f"""
(function(){{
  var map = __MAP__, tiles = {t.get_name()}, blank = {blank.get_name()};
  var ok = 0, bad = 0, done = false;
  tiles.on('tileload', function(){{ ok++; }});
  tiles.on('tileerror', function(){{
    bad++;
    if (done || ok > 0 || bad < {BASEMAP_MIN_ERRORS}) return;
    done = true;
    map.removeLayer(tiles); blank.addTo(map);
    var st = document.getElementById('rk-status');
    st.textContent = {_js(f"{_BASEMAP_NAMES[basemap]} unavailable (offline?): no background")};
    st.title = 'The base-map tiles failed to load; the data layers are complete. '
             + 'Choose a base map in the layer control when online.';
    st.style.display = 'block';
    window.rkBasemapFallback = true;
  }});
}})();
"""
    src_html = []
    for a in attributions:
        if isinstance(a, tuple | list) and len(a) == 2:
            src_html.append(f'<a href="{_esc(a[1])}" target="_blank" rel="noopener">{_esc(a[0])}</a>')
        else:
            src_html.append(_esc(a))
    s.add(m, fallback + "".join(f"__MAP__.attributionControl.addAttribution({_js(h)});\n" for h in src_html),
          "rk_attr")
    m.get_root().header.add_child(_raw(_CSS), name="rk_css")
    study_html = f'<span class="rk-study">{_esc(study)}</span>' if study else '<span class="rk-study"></span>'
    m.get_root().html.add_child(_raw(
        f'<div class="rk-header" id="rk-header"><h1 id="rk-title">{_esc(title)}</h1>{study_html}'
        f'<span class="rk-status" id="rk-status"></span><a href="index.html">all maps</a></div>'),
        name="rk_header")
    return _Frame(m, s)


_MODE_WORDS = {
    "car": ("car", "auto", "driving", "drive", "road"),
    "bike": ("bike", "bicycle", "cycling", "fiets"),
    "walk": ("walk", "walking", "lopen"),
    "transit": ("transit", "gtfs", "timetable", "headway", "tram", "metro", "rail", "ns", "intercity",
                "sprinter", "train", "trains"),
}
"""Words that tie a note to the measures of a mode (rail counts as transit)."""


def _note_groups(note: str, fr: _Frame) -> list[str] | None:
    """Layer groups a note concerns: shown while one of them is visible; None = always,
    ``[]`` = never on this map.

    A note naming a travel mode ("accessibility nl_pc4 (car): crow-fly impedance model")
    belongs to the measures of that mode, and is left off a map without such measures (the
    NS intercity/sprinter derivation is not shown on a car map). On a map without measures
    (candidates) a mode or station note follows the station markers.
    """
    low = note.lower()
    words = set(re.findall(r"[a-z]+", low))
    modes = [mode for mode, keys in _MODE_WORDS.items() if words & set(keys)]
    if not modes:
        return None
    groups = [g for mode in modes for g in fr.mode_groups.get(mode, [])]
    if groups:
        return groups
    if fr.mode_groups:
        return []
    return list(fr.station_groups) or None


def note_anchor(note: str) -> str:
    """Anchor of a note on the index page (``index.html#note-…``; stable for the same text)."""
    import hashlib

    return "note-" + hashlib.sha1(note.encode("utf-8")).hexdigest()[:10]


def _finish(fr: _Frame, notes: Sequence[str] = ()) -> None:
    """Measure switch (radio buttons), legend and notes panel; the layer control.

    Measures are exclusive: the switch keeps exactly one measure group on the map (it
    removes the others before adding the chosen one, so nothing re-adds them), and the
    legend and the notes follow the visible groups.
    """
    import folium

    m, s = fr.m, fr.s
    name = m.get_name()
    legend_html = _js("".join(f'<div class="rk-leg" data-i="{i}">{body}</div>'
                              for i, (_, body) in enumerate(fr.legend)))
    legend_groups = "[" + ",".join(v or "null" for v, _ in fr.legend) + "]"
    measure_groups = "[" + ",".join(v for v, _ in fr.measures) + "]"
    measure_labels = _js([lab for _, lab in fr.measures])
    note_groups = []
    note_items = []
    for note in notes:
        g = _note_groups(note, fr)
        if g == []:
            continue
        note_groups.append("null" if g is None else "[" + ",".join(g) + "]")
        note_items.append(
            f'<li class="rk-note" data-i="{len(note_groups) - 1}" title="{_esc(note)}">{_esc(note)} '
            f'<a href="index.html#{note_anchor(note)}" target="_blank">provenance</a></li>')
    notes_html = _js(f'<details class="rk-notes-d"><summary>Notes (<span class="rk-n">{len(note_items)}'
                     f'</span>)</summary><ul>{"".join(note_items)}</ul></details>' if note_items else "")
    s.add(m, f"""
(function(){{
  var map = __MAP__;
  var measures = {measure_groups}, labels = {measure_labels};
  var legendGroups = {legend_groups};
  var noteGroups = [{",".join(note_groups)}];
  function on(g) {{ return g === null || map.hasLayer(g); }}
  function anyOn(gs) {{ if (gs === null) return true; for (var i = 0; i < gs.length; i++) if (map.hasLayer(gs[i])) return true; return false; }}
  function update() {{
    var els = document.querySelectorAll('#rk-legend-{name} .rk-leg');
    for (var i = 0; i < els.length; i++) els[i].style.display = on(legendGroups[+els[i].dataset.i]) ? 'block' : 'none';
    var ns = document.querySelectorAll('#rk-notes-{name} .rk-note'), n = 0;
    for (var j = 0; j < ns.length; j++) {{ var vis = anyOn(noteGroups[+ns[j].dataset.i]); ns[j].style.display = vis ? '' : 'none'; n += vis ? 1 : 0; }}
    var box = document.getElementById('rk-notes-{name}');
    if (box) {{ var c = box.querySelector('.rk-n'); if (c) c.textContent = n; box.style.display = n ? '' : 'none'; }}
    var r = document.querySelectorAll('#rk-measures-{name} input');
    for (var k = 0; k < r.length; k++) r[k].checked = map.hasLayer(measures[+r[k].value]);
  }}
  function show(i) {{
    for (var j = 0; j < measures.length; j++) if (j !== i && map.hasLayer(measures[j])) map.removeLayer(measures[j]);
    if (!map.hasLayer(measures[i])) map.addLayer(measures[i]);
    update();
  }}
  if (measures.length) {{
    var mc = L.control({{position: 'topright'}});
    mc.onAdd = function() {{
      var d = L.DomUtil.create('div', 'rk-measures leaflet-control-layers leaflet-control-layers-expanded');
      d.id = 'rk-measures-{name}';
      var h = '<div class="rk-h">Measure</div>';
      for (var i = 0; i < labels.length; i++)
        h += '<label title="' + rkEsc(labels[i]) + '"><input type="radio" name="rk-measure-{name}" value="' + i + '"'
           + (map.hasLayer(measures[i]) ? ' checked' : '') + '> ' + rkEsc(labels[i]) + '</label>';
      d.innerHTML = h;
      L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
      L.DomEvent.on(d, 'change', function(e) {{ show(+e.target.value); }});
      return d;
    }};
    mc.addTo(map);
  }}
  var lg = L.control({{position: 'bottomright'}});
  lg.onAdd = function() {{
    var d = L.DomUtil.create('div', 'rk-legend'); d.id = 'rk-legend-{name}'; d.innerHTML = {legend_html};
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d;
  }};
  lg.addTo(map);
  var notesHtml = {notes_html};
  if (notesHtml) {{
    var nc = L.control({{position: 'bottomleft'}});
    nc.onAdd = function() {{
      var d = L.DomUtil.create('div', 'rk-notes'); d.id = 'rk-notes-{name}'; d.innerHTML = notesHtml;
      L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d); return d;
    }};
    nc.addTo(map);
  }}
  map.on('layeradd layerremove', update);
  window.rkMaps = window.rkMaps || {{}};
  window.rkMaps['{name}'] = {{map: map, measures: measures, labels: labels, show: show}};
  update();
}})();
""", "rk_panels")
    folium.LayerControl(collapsed=True, position="topright").add_to(m)


def _fit(m: Any, geoms: np.ndarray) -> None:
    import shapely

    ok = [g for g in geoms if g is not None and not shapely.is_empty(g)]
    if not ok:
        return
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(ok, dtype=object))
    m.fit_bounds([[float(y0), float(x0)], [float(y1), float(x1)]])


def _legend_classes(info: _styles.MeasureInfo, cls: _styles.Classification, method_label: str) -> str:
    rows = "".join(
        f'<div class="rk-row"><span class="rk-sw" style="background:{c}"></span>{_esc(lab)}</div>'
        for c, lab in zip(cls.colors, cls.labels, strict=True)
    )
    if cls.n_missing:
        rows += (f'<div class="rk-row"><span class="rk-sw" style="background:{_styles.NODATA_COLOR}"></span>'
                 f'no data ({cls.n_missing})</div>')
    unit = f" [{_esc(info.unit)}]" if info.unit and info.unit not in info.label else ""
    return (f"<h4>{_esc(info.label)}{unit}</h4>{rows}"
            f'<div class="rk-meta">{_esc(method_label)}</div>')


_METHOD_LABELS = {"Quantiles": "quantile classes", "FisherJenks": "natural breaks (Fisher-Jenks)",
                  "EqualInterval": "equal intervals", "UserDefined": "user-defined classes"}


def _point_props(gdf: Any, name_col: str | None, id_col: str | None, fields: list[str],
                 cat_col: str | None, codes: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    props = []
    names = gdf[name_col].tolist() if name_col else [""] * len(gdf)
    ids = gdf[id_col].tolist() if id_col else [""] * len(gdf)
    if codes is not None:
        cats = [str(c) for c in codes]
    else:
        cats = gdf[cat_col].astype(str).tolist() if cat_col else [""] * len(gdf)
    vals = {f: gdf[f].tolist() for f in fields}
    for i in range(len(gdf)):
        v = []
        for f in fields:
            x = vals[f][i]
            if isinstance(x, bool | np.bool_):
                v.append("yes" if x else "no")
            elif isinstance(x, int | float | np.integer | np.floating):
                v.append(_num(x))
            elif x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
                v.append(None)
            else:
                v.append(str(x))
        props.append({"n": "" if names[i] is None else str(names[i]),
                      "i": "" if ids[i] is None else str(ids[i]), "k": cats[i], "v": v})
    return props


def _point_geoms(gdf: Any) -> np.ndarray:
    """EPSG:4326 points (multipoints and other geometries at a representative point)."""
    geoms = display_geometries(gdf, 0.0, 6)
    tid = shapely.get_type_id(geoms)
    if np.any((tid != 0) & ~shapely.is_empty(geoms)):
        geoms = np.where(tid == 0, geoms, shapely.point_on_surface(geoms))
    return geoms


def _field_meta(fields: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": _styles.measure_info(f).label if f in _styles.KNOWN_MEASURES or
             _styles.CUMULATIVE_RE.match(f) else f.replace("_", " "),
             "unit": _styles.measure_info(f).unit} for f in fields]


def _add_stations(fr: _Frame, gdf: Any, *, name: str) -> tuple[str, int]:
    """Station markers: small squares coloured by ``station_type`` (never circles, so they
    cannot be mistaken for candidates), clustered when there are many."""
    import folium

    cols = list(gdf.columns)
    has_type = "station_type" in cols
    types = gdf["station_type"].astype(str) if has_type else None
    present = sorted(set(types)) if has_type else []
    colors = {t: _styles.STATION_STYLE.get(t, _styles.STATION_STYLE["other"])[0] for t in present}
    sizes = {t: 6 + 2 * _styles.STATION_STYLE.get(t, _styles.STATION_STYLE["other"])[1] for t in present}
    fields = [c for c in ("station_type", "ridership") if c in cols]
    data = _features(_point_geoms(gdf), _point_props(gdf, _first(cols, _NAME_COLUMNS), _first(cols, _ID_COLUMNS),
                                                     fields, "station_type" if has_type else None))
    n = len(data["features"])
    clustered = n > CLUSTER_THRESHOLD
    fg = folium.FeatureGroup(name=_esc(f"{name} ({n})"), overlay=True, show=True)
    fg.add_to(fr.m)
    attach = ("var cl = L.markerClusterGroup({maxClusterRadius: 40, disableClusteringAtZoom: 13});\n"
              "  cl.addLayer(layer);\n  cl.addTo(fg);") if clustered else "layer.addTo(fg);"
    fr.s.add(fg, f"""
(function(){{
  var fg = {fg.get_name()}, colors = {_js(colors)}, sizes = {_js(sizes)}, meta = {_js(_field_meta(fields))};
  var layer = L.geoJSON({_js(data)}, {{
    pointToLayer: function(f, ll) {{
      var s = sizes[f.properties.k] || 8, c = colors[f.properties.k] || '#555555';
      return L.marker(ll, {{icon: L.divIcon({{className: 'rk-station', iconSize: [s, s],
        html: '<div style="width:100%;height:100%;background:' + c + '"></div>'}}), keyboard: false}});
    }},
    onEachFeature: function(f, l) {{
      l.bindTooltip(function() {{ return rkTip(f.properties, meta, -1); }});
      l.bindPopup(function() {{ return rkTip(f.properties, meta, -1); }});
    }}
  }});
  {attach}
}})();
""", "rk_stations")
    rows = "".join(f'<div class="rk-row"><span class="rk-sq" style="background:{c}"></span>{_esc(t)}</div>'
                   for t, c in colors.items()) or \
        '<div class="rk-row"><span class="rk-sq" style="background:#555555"></span>station</div>'
    fr.legend.append((fg.get_name(), f"<h4>{_esc(name)}</h4>{rows}"))
    fr.station_groups.append(fg.get_name())
    return fg.get_name(), n


def _station_radii(fr: _Frame, stations: Mapping[str, Any], *, show: bool) -> int:
    """Dashed circles of the candidate step's station radius around HOV stations
    (``zero_m`` per type of :class:`ruimtekit.analysis.candidates.CandidatesConfig`: intercity
    1,200 m, sprinter and metro 1,000 m)."""
    import folium

    cfg = CandidatesConfig(synthetic=True)  # only for its default radii and HOV types
    radii = {t: r.zero_m for t, r in cfg.effective_radii().items() if t in cfg.hov_types}
    circles = []
    for gdf in stations.values():
        if "station_type" not in gdf.columns:
            continue
        types = gdf["station_type"].astype(str).to_numpy()
        keep = np.isin(types, list(radii))
        if not keep.any():
            continue
        geoms = _point_geoms(gdf[keep])
        for g, t in zip(geoms, types[keep], strict=True):
            if g is not None and not shapely.is_empty(g):
                circles.append([round(g.y, 6), round(g.x, 6), float(radii[t]), t])
    if not circles:
        return 0
    colors = {t: _styles.STATION_STYLE.get(t, _styles.STATION_STYLE["other"])[0] for t in radii}
    fg = folium.FeatureGroup(name="station radii", overlay=True, show=show)
    fg.add_to(fr.m)
    fr.s.add(fg, f"""
(function(){{
  var colors = {_js(colors)};
  {_js(circles)}.forEach(function(c) {{
    L.circle([c[0], c[1]], {{radius: c[2], fill: false, color: colors[c[3]] || '#555', weight: 1.2,
      opacity: 0.8, dashArray: '4 4', interactive: false, className: 'rk-radius'}}).addTo({fg.get_name()});
  }});
}})();
""", "rk_radii")
    rows = "".join(f'<div class="rk-row"><span class="rk-ring" style="border-color:{colors[t]}"></span>'
                   f'{_esc(t)} {r:,.0f} m</div>' for t, r in radii.items())
    fr.legend.append((fg.get_name(), f"<h4>station radius</h4>{rows}"))
    return len(circles) if show else 0


def _add_outlines(fr: _Frame, gdf: Any, *, name: str, show: bool, color: str,
                  simplify_m: float, precision: int, weight: float = 1.6) -> tuple[str, int]:
    import folium

    cols = list(gdf.columns)
    name_col = _first(cols, _NAME_COLUMNS)
    id_col = _first(cols, _ID_COLUMNS)
    geoms = display_geometries(gdf, simplify_m, precision)
    fields = [c for c in cols if c not in (gdf.geometry.name, name_col, id_col)][:6]
    meta = [{"label": f.replace("_", " "), "unit": ""} for f in fields]
    data = _features(geoms, _point_props(gdf, name_col, id_col, fields, None))
    fg = folium.FeatureGroup(name=_esc(name), overlay=True, show=show)
    fg.add_to(fr.m)
    fr.s.add(fg, f"""
(function(){{
  var meta = {_js(meta)};
  L.geoJSON({_js(data)}, {{
    style: function() {{ return {{fill: false, color: {_js(color)}, weight: {weight}, opacity: 0.9,
                                className: 'rk-outline'}}; }},
    onEachFeature: function(f, l) {{ l.bindTooltip(function() {{ return rkTip(f.properties, meta, -1); }}, {{sticky: true}}); }}
  }}).addTo({fg.get_name()});
}})();
""", "rk_outlines")
    fr.legend.append((fg.get_name(), f'<div class="rk-row"><span class="rk-line" style="border-color:{color}">'
                                     f'</span>{_esc(name)}</div>'))
    return fg.get_name(), len(data["features"])


def _write_map(m: Any, path: Path) -> int:
    text = m.get_root().render()
    _io.write_text(path, text)
    return len(text.encode("utf-8"))


# ----------------------------------------------------------------------- public maps


def _add_overlays(fr: _Frame, *, stations: Mapping[str, Any], outlines: Mapping[str, Any],
                  show_outlines: bool, simplify_m: float, precision: int) -> int:
    """Catchment outlines, station radii and station markers; returns the SVG paths shown."""
    expected = 0
    for i, (name, gdf) in enumerate(outlines.items()):
        color = ("#d7301f", "#6a51a3", "#238b45", "#525252")[i % 4]
        o_simplify, o_precision = display_settings(
            len(gdf), simplify_m, precision, int(shapely.get_num_coordinates(gdf.geometry.values).sum()))
        _, n = _add_outlines(fr, gdf, name=f"{name} (outlines)", show=show_outlines, color=color,
                             simplify_m=o_simplify, precision=o_precision)
        expected += n if show_outlines else 0
    expected += _station_radii(fr, stations, show=show_outlines)
    for name, gdf in stations.items():
        _add_stations(fr, gdf, name=name)
    return expected


_MODE_RE = re.compile(r"_(car|bike|walk|transit|rail|pt)$")


def _measure_mode(col: str) -> str | None:
    """Mode family of a measure column (``jobs_45min_bike_transit`` → ``transit``)."""
    m = _MODE_RE.search(col)
    if not m:
        return None
    return "transit" if m.group(1) in ("rail", "pt") else m.group(1)


def choropleth_map(
    gdf: Any,
    path: str | Path,
    *,
    measures: Sequence[str] | None = None,
    bins: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    labels: Mapping[str, tuple[str, str]] | None = None,
    overlays: Overlays | Mapping[str, Any] | None = None,
    page: MapPage | Mapping[str, Any] | None = None,
    config: MapsConfig | Mapping[str, Any] | None = None,
) -> MapResult:
    """Write a choropleth web map of a zone layer, one switchable layer per measure.

    Parameters
    ----------
    gdf : GeoDataFrame
        Zone result layer (EPSG:28992) with ``zone_id``, ``zone_name`` and measure columns.
    path : str or Path
        Output HTML (written atomically). In offline mode the Leaflet files must be in
        ``lib/`` beside it (:func:`ruimtekit.report._offline.copy_assets`; done by
        :func:`build_study_maps`).
    measures : sequence of str, optional
        Columns to map (default: :func:`ruimtekit.report._styles.measure_columns`); the first
        shown is the main measure (a 45-minute measure when present).
    bins : mapping or sequence, optional
        User-chosen upper class bounds (for every measure, or per measure column).
    labels : mapping, optional
        Column → (legend label, unit) overrides.
    overlays : Overlays or dict, optional
        Station points (square markers) and catchment polygons (outlines, hidden at first).
    page : MapPage or dict, optional
        Title, study name, notes (each shown while a layer it concerns is visible) and
        source attributions.
    config : MapsConfig or dict, optional
        Classification and number of classes, Leaflet from ``lib/`` (``offline``) or a
        CDN, display simplification (metres) and coordinate decimals, base map (``pdok``
        — BRT-Achtergrondkaart, default —, ``osm`` or ``none``; when the tiles fail to
        load the map switches to no background and says so).

    Returns
    -------
    MapResult
    """
    import folium

    ov = _as_section(Overlays, overlays, "overlays")
    pg = _as_section(MapPage, page, "map page")
    cfg = _as_section(MapsConfig, config, "map settings")
    stations, outlines, notes = ov.stations, ov.outlines, pg.notes
    title, study, attributions = pg.title, pg.study, pg.attributions
    classification, k, offline, basemap = cfg.classification, cfg.k, cfg.offline, cfg.basemap
    simplify_m, precision = cfg.simplify_m, cfg.precision
    _check_gdf(gdf, "zone layer")
    path = Path(path)
    cols = _styles.measure_columns(gdf, measures)
    if not cols:
        raise InputError(None, "the zone layer has no numeric measure columns to map",
                         "add measure columns (e.g. jobs_45min_car) or pass measures=[...]")
    main = _styles.main_measure(cols)
    cols = [main] + [c for c in cols if c != main]
    stations = dict(stations or {})
    any_cluster = any(len(g) > CLUSTER_THRESHOLD for g in stations.values())
    fr = _new_map(title or "ruimtekit map", study, attributions, offline, any_cluster, basemap)
    m, s = fr.m, fr.s
    name_col = _first(list(gdf.columns), _NAME_COLUMNS)
    id_col = _first(list(gdf.columns), _ID_COLUMNS)
    simplify_m, precision = display_settings(
        len(gdf), simplify_m, precision, int(shapely.get_num_coordinates(gdf.geometry.values).sum()))
    geoms = display_geometries(gdf, simplify_m, precision)
    infos = [_styles.measure_info(c, dict(labels) if labels else None) for c in cols]
    classes = []
    for c in cols:
        b = bins.get(c) if isinstance(bins, Mapping) else bins
        classes.append(_styles.classify(gdf[c].to_numpy(dtype=float, na_value=np.nan), classification, k,
                                        bins=b, ramp=_styles.default_ramp(c)))
    idx = [cl.bin_index(gdf[c].to_numpy(dtype=float, na_value=np.nan)) for c, cl in zip(cols, classes, strict=True)]
    names = gdf[name_col].tolist() if name_col else [""] * len(gdf)
    ids = gdf[id_col].tolist() if id_col else [""] * len(gdf)
    values = [gdf[c].tolist() for c in cols]
    extra = _info_columns(gdf, cols)
    extra_vals = [gdf[c].tolist() for c in extra]
    props = [
        {"n": "" if names[i] is None else str(names[i]), "i": "" if ids[i] is None else str(ids[i]),
         "v": [_num(v[i]) for v in values] + [_flag(v[i]) for v in extra_vals],
         "c": [int(ix[i]) for ix in idx]}
        for i in range(len(gdf))
    ]
    data = _features(geoms, props)
    n = len(data["features"])
    data_var = f"rk_zones_{m.get_name()}"
    meta = [{"label": inf.label, "unit": inf.unit} for inf in infos]
    meta += [{"label": "inhabitants" if c == "population" else c.replace("_", " "), "unit": ""} for c in extra]
    s.add(m, f"window.{data_var} = {_js(data)};\nwindow.{data_var}_meta = {_js(meta)};\n", "rk_data")
    for j, (col, inf, cl) in enumerate(zip(cols, infos, classes, strict=True)):
        # control=False: the measure switch (radio buttons) owns these groups, not L.control.layers
        fg = folium.FeatureGroup(name=_esc(inf.title), overlay=True, show=(j == 0), control=False)
        fg.add_to(m)
        s.add(fg, f"""
(function(){{
  var colors = {_js(list(cl.colors))};
  var meta = window.{data_var}_meta;
  L.geoJSON(window.{data_var}, {{
    style: function(f) {{
      var c = f.properties.c[{j}];
      return {{fillColor: c < 0 ? {_js(_styles.NODATA_COLOR)} : colors[c], fillOpacity: 0.72,
               color: '#ffffff', weight: 0.5, opacity: 0.9, className: 'rk-m rk-m-{j}'}};
    }},
    onEachFeature: function(f, l) {{
      l.bindTooltip(function() {{ return rkTip(f.properties, meta, {j}); }}, {{sticky: true}});
      l.bindPopup(function() {{ return rkTip(f.properties, meta, {j}); }});
    }}
  }}).addTo({fg.get_name()});
}})();
""", "rk_measure")
        fr.measures.append((fg.get_name(), inf.title))
        mode = _measure_mode(col)
        if mode:
            fr.mode_groups.setdefault(mode, []).append(fg.get_name())
        fr.legend.append((fg.get_name(), _legend_classes(inf, cl, _METHOD_LABELS.get(cl.method, cl.method))))
    ov_expected = _add_overlays(fr, stations=stations, outlines=dict(outlines or {}), show_outlines=False,
                                simplify_m=simplify_m, precision=precision)
    _finish(fr, notes)
    _fit(m, geoms)
    size = _write_map(m, path)
    desc = (f"{n} zones · {len(cols)} measure(s) · {_METHOD_LABELS.get(classes[0].method, classes[0].method)}"
            f", {classes[0].k} classes")
    return MapResult(path, title, "choropleth", n, [inf.title for inf in infos], size, desc, n + ov_expected,
                     {"measures": cols, "classes": classes})


INFO_COLUMN_RE = re.compile(r"^(population|no_|is_|has_)|connector|snap_distance_m")
"""Non-measure columns also shown in choropleth tooltips and popups (flags such as
``no_stop_transit`` or a network-connector flag, inhabitants, snap distances)."""


def _info_columns(gdf: Any, measures: Sequence[str], limit: int = 6) -> list[str]:
    """Boolean flags and :data:`INFO_COLUMN_RE` columns that are not mapped measures."""
    geom = gdf.geometry.name
    out = [c for c in gdf.columns if c not in measures and c != geom
           and (pd.api.types.is_bool_dtype(gdf[c]) or INFO_COLUMN_RE.search(str(c)))]
    return out[:limit]


def _flag(x: Any) -> Any:
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | float | np.integer | np.floating):
        return _num(x)
    return None if x is None else str(x)


TOP_N = defaults.TOP_N
"""Rows in the candidate list panel (sortable; a click zooms to the object)."""

LIST_ZOOM = defaults.LIST_ZOOM
"""Zoom level the candidate list zooms to."""


def _pick_zones(points: Any, zones: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The zone layer that holds the points (most points inside, then finest), clipped to
    their extent plus 1 km, for outlines on a point map."""
    best = None
    pts = points.geometry
    if not len(pts):
        return None
    x0, y0, x1, y1 = pts.total_bounds
    for name, z in zones.items():
        zz = z.to_crs(28992) if z.crs is not None and z.crs.to_epsg() != 28992 else z
        sub = zz[zz.intersects(shapely.box(x0 - 1000, y0 - 1000, x1 + 1000, y1 + 1000))]
        if sub.empty:
            continue
        inside = int(shapely.contains_xy(shapely.union_all(sub.geometry.values), pts.x.to_numpy(),
                                         pts.y.to_numpy()).sum()) if pts.geom_type.eq("Point").all() else 0
        key = (inside, -float(sub.area.mean()))
        if best is None or key > best[0]:
            best = (key, name, sub)
    if best is None or best[0][0] == 0:
        return None
    cols = [c for c in ("zone_id", "zone_name", "population") if c in best[2].columns]
    return best[1], best[2][cols + [best[2].geometry.name]]


def points_map(
    gdf: Any,
    path: str | Path,
    *,
    category: str | None = None,
    fields: Sequence[str] | None = None,
    cluster: bool | None = None,
    overlays: Overlays | Mapping[str, Any] | None = None,
    page: MapPage | Mapping[str, Any] | None = None,
    config: MapsConfig | Mapping[str, Any] | None = None,
) -> MapResult:
    """Write a marker map of a point layer (e.g. densification candidates).

    Candidates (points with ``rank`` or ``score``) are circles coloured by rank class
    (:data:`RANK_CLASSES`; by score quintile without a rank), best drawn on top, never
    clustered, with a sortable top-:data:`TOP_N` list whose rows zoom to the object and
    open its popup (rank, score, reasons). Stations are squares.

    Parameters
    ----------
    gdf : GeoDataFrame
        Points (EPSG:28992), e.g. candidates with ``score``, ``rank``, ``reason``.
    path : str or Path
        Output HTML (written atomically).
    category : str, optional
        Column that colours the markers of points without rank or score (default: the
        first of ``function``, ``class``, ``type`` …); shown in popups.
    fields : sequence of str, optional
        Columns shown in tooltips and popups (default: ``rank``, ``score``, ``reason``,
        the category and other numeric measures, at most 10).
    cluster : bool, optional
        Force or suppress marker clustering (default: more than 200 points without rank
        or score).
    overlays : Overlays or dict, optional
        Station markers, their radii and catchment outlines (shown), and zone layers (the
        one holding the points is drawn as grey outlines).
    page, config
        As in :func:`choropleth_map` (``classification`` and ``k`` are not used).

    Returns
    -------
    MapResult
    """
    import folium

    ov = _as_section(Overlays, overlays, "overlays")
    pg = _as_section(MapPage, page, "map page")
    cfg = _as_section(MapsConfig, config, "map settings")
    stations, outlines, zones, notes = ov.stations, ov.outlines, ov.zones, pg.notes
    title, study, attributions = pg.title, pg.study, pg.attributions
    offline, basemap, simplify_m, precision = cfg.offline, cfg.basemap, cfg.simplify_m, cfg.precision
    _check_gdf(gdf, "point layer")
    path = Path(path)
    cols = list(gdf.columns)
    if category is None:
        category = next((c for c in _CATEGORY_COLUMNS if c in cols and not _styles._is_numeric(gdf[c])), None)
    elif category not in cols:
        raise InputError(None, f"category column {category!r} is not in the layer", f"use one of {cols}")
    ranked = rank_classes(gdf)
    if fields is None:
        fields = [c for c in ("rank", "score", "reason", "reasons") if c in cols]
        if category and category not in fields:
            fields.append(category)
        fields += [c for c in ("floor_area_m2", "potential_dwellings", "station_name", "distance_m")
                   if c in cols and c not in fields]
        fields += [c for c in _styles.measure_columns(gdf) if c not in fields]
        fields = fields[:10]
    stations = dict(stations or {})
    n_pts = len(gdf)
    clustered = (n_pts > CLUSTER_THRESHOLD and ranked is None) if cluster is None else cluster
    any_cluster = clustered or any(len(g) > CLUSTER_THRESHOLD for g in stations.values())
    fr = _new_map(title or "ruimtekit map", study, attributions, offline, any_cluster, basemap)
    m = fr.m
    expected = 0
    picked = _pick_zones(gdf, dict(zones or {}))
    if picked is not None:
        zname, zsub = picked
        _, nz = _add_outlines(fr, zsub, name=f"zones: {zname}", show=True, color="#7a7a7a",
                              simplify_m=simplify_m, precision=precision, weight=0.8)
        expected += nz
    expected += _add_overlays(fr, stations=stations, outlines=dict(outlines or {}), show_outlines=True,
                              simplify_m=simplify_m, precision=precision)
    name_col = _first(cols, _NAME_COLUMNS)
    id_col = _first(cols, _ID_COLUMNS)
    if ranked is not None and "object_id" in cols:
        # a candidate: its object id, named by its zone (buurt), never by its nearest station
        id_col = "object_id"
        name_col = "zone_name" if "zone_name" in cols else None
    if ranked is not None:
        codes, class_labels, class_colors, order_col = ranked
        colors = {str(i): c for i, c in enumerate(class_colors)}
    else:
        codes = None
        colors = _styles.category_colors(gdf[category].dropna().astype(str)) if category else {}
        class_labels, order_col = list(colors), None
    props = _point_props(gdf, name_col, id_col, list(fields), category, codes)
    geoms = _point_geoms(gdf)
    # draw the best last (on top): order by rank ascending / score descending, reversed
    order = np.arange(len(gdf))
    if order_col == "rank":
        order = np.argsort(gdf["rank"].to_numpy(dtype=float, na_value=np.inf), kind="stable")
    elif order_col == "score":
        order = np.argsort(-gdf["score"].to_numpy(dtype=float, na_value=-np.inf), kind="stable")
    data = _features(geoms[order], [props[i] for i in order])
    n = len(data["features"])
    fg = folium.FeatureGroup(name=_esc(f"{title or 'points'} ({n_pts})"), overlay=True, show=True)
    fg.add_to(m)
    attach = ("var cl = L.markerClusterGroup({maxClusterRadius: 40, disableClusteringAtZoom: 14});\n"
              "  cl.addLayer(layer);\n  cl.addTo(fg);") if clustered else "layer.addTo(fg);"
    list_cols = [f for f in ("rank", "score") if f in fields]
    list_idx = [list(fields).index(f) for f in list_cols]
    fr.s.add(fg, f"""
(function(){{
  var fg = {fg.get_name()}, map = __MAP__;
  var data = {_js(data)}, meta = {_js(_field_meta(fields))}, colors = {_js(colors)};
  var markers = [];
  var layer = L.geoJSON(data, {{
    pointToLayer: function(f, ll) {{
      return L.circleMarker(ll, {{radius: 7, color: '#1a1a1a', weight: 1.5, opacity: 1,
        fillColor: colors[f.properties.k] || '#8c510a', fillOpacity: 0.95, className: 'rk-cand'}});
    }},
    onEachFeature: function(f, l) {{
      markers.push(l);
      l.bindTooltip(function() {{ return rkTip(f.properties, meta, -1); }});
      l.bindPopup(function() {{ return rkTip(f.properties, meta, -1); }}, {{maxWidth: 360}});
    }}
  }});
  // the best last in the data = drawn on top; the list shows them first
  {attach}
  var listCols = {_js(list_cols)}, listIdx = {_js(list_idx)};
  if (!listCols.length) return;
  var top = markers.slice(0, {TOP_N});
  var rows = top.map(function(mk, i) {{ var p = mk.feature.properties;
    return {{i: i, name: p.n || p.i, vals: listIdx.map(function(j) {{ return p.v[j]; }}), k: p.k}}; }});
  var sortKey = 0, sortDir = 1;
  var ctl = L.control({{position: 'topleft'}});
  ctl.onAdd = function() {{
    var d = L.DomUtil.create('div', 'rk-list'); d.id = 'rk-list';
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
    return d;
  }};
  ctl.addTo(map);
  var box = document.getElementById('rk-list');
  function cell(v) {{ return typeof v === 'number' ? rkFmt(v) : (v === null || v === undefined ? '' : rkEsc(v)); }}
  function render() {{
    var heads = ['object'].concat(listCols);
    var h = '<details open><summary>Top ' + rows.length + ' of {n} (click a row to zoom)</summary><div class="rk-scroll"><table><thead><tr>';
    for (var c = 0; c < heads.length; c++)
      h += '<th data-c="' + c + '">' + rkEsc(heads[c]) + (c === sortKey ? (sortDir > 0 ? ' ▲' : ' ▼') : '') + '</th>';
    h += '</tr></thead><tbody>';
    rows.forEach(function(r) {{
      h += '<tr data-i="' + r.i + '"><td title="' + rkEsc(r.name) + '"><span class="rk-sw" style="background:'
         + (colors[r.k] || '#8c510a') + '"></span>' + rkEsc(r.name) + '</td>';
      r.vals.forEach(function(v) {{ h += '<td>' + cell(v) + '</td>'; }});
      h += '</tr>';
    }});
    box.innerHTML = h + '</tbody></table></div></details>';
  }}
  function sortBy(c) {{
    sortDir = (c === sortKey) ? -sortDir : 1; sortKey = c;
    rows.sort(function(a, b) {{
      var x = c === 0 ? a.name : a.vals[c - 1], y = c === 0 ? b.name : b.vals[c - 1];
      if (x === y) return 0; if (x === null || x === undefined) return 1; if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir; }});
    render();
  }}
  box.addEventListener('click', function(e) {{
    var th = e.target.closest('th');
    if (th) {{ sortBy(+th.dataset.c); return; }}
    var tr = e.target.closest('tbody tr');
    if (!tr) return;
    var mk = markers[+tr.dataset.i];
    map.setView(mk.getLatLng(), Math.max(map.getZoom(), {LIST_ZOOM}));
    mk.openPopup();
  }});
  sortKey = 1; sortDir = -1; sortBy(1);
}})();
""".replace("__MAP__", m.get_name()), "rk_points")
    if ranked is not None:
        rows = "".join(f'<div class="rk-row"><span class="rk-dot" style="background:{colors[str(i)]}"></span>'
                       f'{_esc(lab)}</div>' for i, lab in enumerate(class_labels))
        head = f"<h4>{_esc(title or 'candidates')} by {order_col}</h4>"
    else:
        rows = "".join(f'<div class="rk-row"><span class="rk-dot" style="background:{c}"></span>{_esc(t)}</div>'
                       for t, c in colors.items()) or \
            '<div class="rk-row"><span class="rk-dot" style="background:#8c510a"></span>location</div>'
        head = f"<h4>{_esc(category.replace('_', ' '))}</h4>" if category else ""
    fr.legend.insert(0, (fg.get_name(), head + rows))
    _finish(fr, notes)
    _fit(m, display_geometries(gdf, 0.0, 5))
    size = _write_map(m, path)
    by = f" by {order_col} class" if order_col else (f" by {category}" if category else "")
    desc = f"{n} points" + by + (" · clustered" if clustered else "")
    return MapResult(path, title, "points", n, class_labels, size, desc,
                     (0 if clustered else n) + expected, {"category": category, "colour_by": order_col})


# ------------------------------------------------------------------------- index page


def _fmt_bytes(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def write_index(out_dir: str | Path, maps: Sequence[MapResult], *, title: str, notes: Sequence[str] = (),
                attributions: Sequence[Any] = (), figures: Sequence[Path] = (),
                tables: Mapping[str, int] | None = None) -> Path:
    """Write ``index.html``: a card per map and figure, sources and notes (self-contained).

    Parameters
    ----------
    out_dir : str or Path
        Maps folder; links are relative to it.
    maps : sequence of MapResult
        The written maps.
    title : str
        Page title (the study title).
    notes : sequence of str
        Proxy/synthetic statements and caveats.
    attributions : sequence of str or (text, url)
        Data sources.
    figures : sequence of Path
        Static figures (PNG/SVG) inside ``out_dir``.
    tables : mapping of str to int, optional
        Attribute-only result tables (name → rows), listed without a map.

    Returns
    -------
    Path
    """
    out_dir = Path(out_dir)
    cards = []
    for r in maps:
        rel = r.path.relative_to(out_dir).as_posix() if r.path.is_relative_to(out_dir) else r.path.name
        layer_list = "".join(f"<li>{_esc(x)}</li>" for x in r.layers[:12])
        cards.append(
            f'<div class="card"><h2><a href="{_esc(rel)}">{_esc(r.title)}</a></h2>'
            f'<p class="kind">{_esc(r.kind)} · {_esc(r.description)} · HTML {_fmt_bytes(r.bytes)}</p>'
            f"<ul>{layer_list}</ul>"
            f'<p><a class="btn" href="{_esc(rel)}">open map</a></p></div>'
        )
    pngs = [f for f in figures if f.suffix == ".png"]
    for f in pngs:
        rel = f.relative_to(out_dir).as_posix() if f.is_relative_to(out_dir) else f.name
        svg = f.with_suffix(".svg")
        svg_link = (f' · <a href="{_esc(svg.relative_to(out_dir).as_posix())}">SVG</a>'
                    if svg in figures and svg.is_relative_to(out_dir) else "")
        cards.append(
            f'<div class="card"><h2>{_esc(f.stem.replace("_", " "))}</h2>'
            f'<a href="{_esc(rel)}"><img src="{_esc(rel)}" alt="{_esc(f.stem)}"></a>'
            f'<p class="kind">static figure · <a href="{_esc(rel)}">PNG</a>{svg_link}</p></div>'
        )
    src = []
    for a in attributions:
        if isinstance(a, tuple | list) and len(a) == 2:
            src.append(f'<li><a href="{_esc(a[1])}">{_esc(a[0])}</a></li>')
        else:
            src.append(f"<li>{_esc(a)}</li>")
    src.append("<li>Base maps (optional, online only): © OpenStreetMap contributors (ODbL); "
               "BRT-Achtergrondkaart © Kadaster / PDOK (CC BY 4.0)</li>")
    src.append("<li>Map software: Leaflet 1.9.4 (BSD-2-Clause), Leaflet.markercluster 1.5.3 (MIT), "
               "folium</li>")
    note_html = "".join(f'<li id="{note_anchor(n)}">{_esc(n)}</li>' for n in notes) or "<li>none</li>"
    table_html = ""
    if tables:
        table_html = "<h3>Tables (no geometry, not mapped)</h3><ul>" + "".join(
            f"<li>{_esc(k)} ({v} rows)</li>" for k, v in tables.items()) + "</ul>"
    from ruimtekit import __version__

    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_esc(title)}</title>
<style>
body{{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f5f5f2;color:#222}}
header{{background:#1f3b5a;color:#fff;padding:18px 28px}} header h1{{margin:0;font-size:22px}}
main{{padding:20px 28px;max-width:1200px}}
.cards{{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:16px}}
.card{{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.2);padding:12px 16px}}
.card h2{{font-size:17px;margin:4px 0}} .card img{{width:100%;border:1px solid #ddd}}
.kind{{color:#666;font-size:13px}} .btn{{background:#1f5fa0;color:#fff;padding:4px 10px;border-radius:4px;text-decoration:none}}
.notes li{{color:#8a2b06}} footer{{color:#777;font-size:12px;padding:10px 28px}}
</style></head>
<body><header><h1>{_esc(title)}</h1><div>Web maps and figures · ruimtekit</div></header>
<main>
<section class="cards">{"".join(cards)}</section>
{table_html}
<h3>Notes</h3><ul class="notes">{note_html}</ul>
<h3>Sources</h3><ul>{"".join(src)}</ul>
</main>
<footer>Generated {now} by ruimtekit {__version__}. Maps work offline when built with offline=True
(Leaflet served from lib/).</footer>
</body></html>
"""
    return _io.write_text(out_dir / "index.html", page)


# ------------------------------------------------------------------------ study maps

def build_study_maps(
    results: Mapping[str, Any],
    out_dir: str | Path,
    *,
    page: MapPage | Mapping[str, Any] | None = None,
    config: MapsConfig | Mapping[str, Any] | None = None,
    layers: Mapping[str, Any] | None = None,
    tables: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Build every web map of a study plus ``index.html`` (and figures) in ``out_dir``.

    Parameters
    ----------
    results : mapping of str to GeoDataFrame or DataFrame
        Result layers (EPSG:28992). Polygon layers with measure columns become
        choropleth maps; point layers (other than stations) become marker maps; polygon
        layers without measures (catchments) are outline overlays; station layers are
        marker overlays; attribute tables are listed on the index page.
    out_dir : str or Path
        ``maps/<study>``; built in a temporary folder and moved into place when complete
        (:func:`ruimtekit._io.atomic_dir`: files ruimtekit did not write are never removed).
    page : MapPage or dict
        ``title``: the study title (index page, page header of every map unless
        ``study`` is given; map titles stay short). ``notes``: proxy/synthetic statements;
        each map shows those concerning its visible layer (:func:`notes_for_layer`, then
        per measure) in a collapsible panel, the index all. ``attributions``: data-source
        attributions shown on every map (e.g. "Bron: CBS (CC BY 4.0)").
    config : MapsConfig or dict, optional
        ``offline`` (serve Leaflet from ``lib/``), ``basemap``, ``classification``, ``k``,
        ``simplify_m``, ``precision`` and ``figures`` (write static figures to
        ``figures/``); the study's ``maps:`` section.
    layers : mapping, optional
        Input layers of the run; station layers among them are drawn on every map.
    tables : mapping, optional
        CSV tables of the run (used by the borrowed-size figure when it needs them).
    overwrite : bool
        Allow writing into a non-empty folder ruimtekit did not make.

    Returns
    -------
    Path
        ``out_dir/index.html``.
    """
    import pandas as pd

    out_dir = Path(out_dir)
    pg = _as_section(MapPage, page, "map page")
    cfg = _as_section(MapsConfig, config, "map settings")
    title, notes, attributions = pg.title, pg.notes, pg.attributions
    study = pg.study or title
    classification, k, offline = cfg.classification, cfg.k, cfg.offline
    want_figures = cfg.figures
    _check_basemap(cfg.basemap)
    if not attributions:
        log.warning("no source attributions were given; maps will not credit the data sources")
    stations = station_layers(layers)
    stations.update(station_layers(results))
    outlines = {n: df for n, df in results.items() if is_polygon_layer(df)
                and not _styles.measure_columns(df) and n not in stations}
    zone_layers = {n: df for n, df in results.items() if is_polygon_layer(df) and n not in outlines}
    point_layers = {n: df for n, df in results.items() if is_point_layer(df) and n not in stations}
    attr_tables = {n: len(df) for n, df in results.items()
                   if isinstance(df, pd.DataFrame) and n not in zone_layers and n not in point_layers
                   and n not in outlines and n not in stations}
    with _io.atomic_dir(out_dir, overwrite, "maps") as tmp:
        if offline:
            _offline.copy_assets(tmp)
        written: list[MapResult] = []
        for name, gdf in zone_layers.items():
            log.info("map %s.html: %d zones", name, len(gdf))
            r = choropleth_map(
                gdf, tmp / f"{name}.html",
                overlays=Overlays(stations=stations, outlines=outlines),
                page=MapPage(title=title_for(name), study=study, attributions=attributions,
                             notes=notes_for_layer(name, notes, list(results))),
                config=cfg,
            )
            written.append(r)
        for name, gdf in point_layers.items():
            log.info("map %s.html: %d points", name, len(gdf))
            r = points_map(gdf, tmp / f"{name}.html",
                           overlays=Overlays(stations=stations, outlines=outlines, zones=zone_layers),
                           page=MapPage(title=title_for(name), study=study, attributions=attributions,
                                        notes=notes_for_layer(name, notes, list(results))),
                           config=cfg)
            written.append(r)
        if not zone_layers and not point_layers and (stations or outlines):
            base = next(iter(stations.values()), None)
            if base is not None:
                written.append(points_map(base, tmp / "stations.html",
                                          overlays=Overlays(outlines=outlines),
                                          page=MapPage(title="Stations", study=study, notes=notes,
                                                       attributions=attributions),
                                          config=cfg))
        figs: list[Path] = []
        if want_figures:

            figs = _figures.study_figures(
                results, tmp / "figures", layers=layers, tables=tables, attributions=attributions,
                notes=notes, classification=classification, k=k,
            )
        for r in written:
            log.debug("map %s: %d features, %s", r.path.name, r.n_features, _fmt_bytes(r.bytes))
        # paths inside tmp become paths inside out_dir after the swap
        index = write_index(tmp, written, title=title, notes=notes, attributions=attributions,
                            figures=figs, tables=attr_tables)
        for r in written:
            r.path = out_dir / r.path.name
        _write_manifest(tmp, written)
    return out_dir / index.name


def _write_manifest(folder: Path, maps: Sequence[MapResult]) -> None:
    _io.write_json(folder / "maps.json", [
        {"file": r.path.name, "title": r.title, "kind": r.kind, "features": r.n_features,
         "layers": r.layers, "bytes": r.bytes, "expected_paths": r.expected_paths}
        for r in maps
    ])


def maps_dir(ctx: Any) -> Path:
    """``<maps_dir>/<study name>/`` of a run (``maps/<name>`` by default)."""
    base = getattr(ctx.study, "maps_dir", None) or Path("maps")
    return ctx.resolve(base) / ctx.study.name


def pipeline_step(ctx: Any, folder: str | Path | None = None) -> None:
    """Write ``<maps_dir>/<study>/`` (maps, figures, index.html) for a run.

    ``folder`` overrides the target folder (the pipeline passes a temporary folder).

    Reads ``ctx.results`` (result layers), ``ctx.layers`` (station layers drawn on every
    map), ``ctx.tables``, ``ctx.notes`` (map subtitles), ``ctx.study.title``,
    ``ctx.study.attribution`` and ``ctx.study.maps`` (offline, classification, k,
    simplify_m, figures). Adds nothing to ``ctx.results``. The folder is replaced
    atomically.
    """
    study = ctx.study
    cfg = getattr(study, "maps", None)
    if cfg is not None and not getattr(cfg, "enabled", True):
        return
    build_study_maps(
        ctx.results, Path(folder) if folder is not None else maps_dir(ctx),
        page=MapPage(title=getattr(study, "title", "") or study.name, notes=ctx.notes,
                     attributions=list(getattr(study, "attribution", []) or [])),
        config=cfg, layers=ctx.layers, tables=ctx.tables,
    )


def _read_tables(folder: Path) -> dict[str, Any]:
    """CSV tables beside the study GeoPackage; unreadable (unrelated) files are skipped with
    a warning naming them."""

    tables = {}
    for p in sorted(folder.glob("*.csv")):
        try:
            tables[p.stem] = _vector.read_table(p)
        except InputError as exc:
            log.warning("skipped %s beside the GeoPackage: %s", p.name, exc.problem)
    return tables


def read_outputs(gpkg: str | Path, only: Sequence[str] | None = None) -> dict[str, Any]:
    """Read a study's processed outputs back (no recomputation) for :func:`rebuild`.

    Parameters
    ----------
    gpkg : str or Path
        ``<output_dir>/<study>/<study>.gpkg`` written by :func:`ruimtekit.report.export.write_geopackage`.
    only : sequence of str, optional
        Read only these layers (an unknown name is an error naming the file's layers).

    Returns
    -------
    dict
        ``results`` (layer name → GeoDataFrame/DataFrame, ``layer_styles`` left out),
        ``tables`` (CSV files beside the GeoPackage), ``notes``, ``attributions`` and
        ``title`` (from ``provenance.json`` beside it, when present).

    Raises
    ------
    InputError
        When the file is missing or not a readable GeoPackage.
    """
    import geopandas as gpd
    import pyogrio

    gpkg = Path(gpkg)
    if not gpkg.is_file():
        raise InputError(gpkg, "the GeoPackage does not exist",
                         "run `ruimtekit run STUDY` first or pass --gpkg with the study GeoPackage")
    try:
        listed = pyogrio.list_layers(gpkg)
    except Exception as exc:
        raise InputError(gpkg, f"not a readable GeoPackage ({exc})", "pass the .gpkg written by ruimtekit") from None
    results: dict[str, Any] = {}
    if only:
        unknown = [n for n in only if n not in {str(r[0]) for r in listed}]
        if unknown:
            raise InputError(gpkg, f"layer(s) {', '.join(map(repr, unknown))} not in the GeoPackage",
                             "use one of " + ", ".join(str(r[0]) for r in listed if r[0] != "layer_styles"))
    for name, gtype in listed:
        if name == "layer_styles" or (only and name not in only):
            continue
        if gtype is None:
            results[name] = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=False)
        else:
            df = gpd.read_file(gpkg, layer=name)
            results[name] = df
    tables = _read_tables(gpkg.parent)
    notes: list[str] = []
    attributions: list[str] = []
    title = gpkg.stem
    prov = gpkg.parent / "provenance.json"
    if prov.is_file():
        try:
            rec = json.loads(prov.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(prov, f"invalid JSON ({exc})", "delete it or rerun the study") from None
        notes = list(rec.get("notes") or [])
        resolved = rec.get("study_resolved") or {}
        attributions = list(resolved.get("attribution") or [])
        title = resolved.get("title") or rec.get("study") or title
    return {"results": results, "tables": tables, "notes": notes, "attributions": attributions,
            "title": title}


STATION_KINDS = ("stations", "ns_stations", "transit_stops")
"""Study layer kinds drawn as station markers on every map."""


def study_station_layers(study: Any, root: str | Path) -> dict[str, Any]:
    """Load a study's station layers (kinds :data:`STATION_KINDS`) for :func:`rebuild`.

    The GeoPackage holds results only; stations are inputs, read again from the study's
    files. A layer that fails to load is skipped with a warning (the maps still build).
    """

    out: dict[str, Any] = {}
    for name, spec in (getattr(study, "layers", None) or {}).items():
        if getattr(spec, "kind", None) not in STATION_KINDS:
            continue
        try:
            out[name] = _layers.load(spec, root)
        except (RuimtekitError, OSError) as exc:
            log.warning("stations %s are not drawn: %s", name, exc)
    return out


def rebuild(gpkg: str | Path, out_dir: str | Path, *, title: str | None = None,
            config: MapsConfig | Mapping[str, Any] | None = None, overwrite: bool = False,
            layers: Mapping[str, Any] | None = None, only: Sequence[str] | None = None) -> Path:
    """Rebuild maps, figures and the index from a study GeoPackage (+ CSVs, provenance).

    Parameters
    ----------
    gpkg : str or Path
        The study GeoPackage.
    out_dir : str or Path
        Maps folder (replaced atomically).
    title : str, optional
        Overrides the title recorded in ``provenance.json``.
    config : MapsConfig or dict, optional
        Map settings: ``offline`` (serve Leaflet from ``lib/``), ``basemap``,
        classification, ``figures`` (also write static figures), ...
    overwrite : bool
        Allow writing into a non-empty folder ruimtekit did not make (see
        :func:`ruimtekit._io.atomic_dir`; nothing that ruimtekit did not write is removed).
    layers : mapping, optional
        Input layers; station layers among them are drawn on every map
        (:func:`study_station_layers`).
    only : sequence of str, optional
        Map only these result layers.

    Returns
    -------
    Path
        ``out_dir/index.html``.
    """
    _io.check_output_dir(out_dir, overwrite, "maps")
    rec = read_outputs(gpkg, only)
    sizes = {n: len(df) for n, df in rec["results"].items()}
    if not any(sizes.values()):
        shown = ", ".join(f"{n} ({k} rows)" for n, k in sizes.items()) or "none"
        raise InputError(gpkg, f"the GeoPackage has no result layer with rows (layers: {shown}); "
                         "there is nothing to map", "run the study again (ruimtekit run) or "
                         "point --gpkg at the study's output GeoPackage")
    return build_study_maps(
        rec["results"], out_dir,
        page=MapPage(title=title or rec["title"], notes=rec["notes"],
                     attributions=rec["attributions"]),
        config=config, tables=rec["tables"], overwrite=overwrite, layers=layers,
    )
