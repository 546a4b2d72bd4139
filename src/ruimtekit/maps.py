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
* ``lib/``: Leaflet and Leaflet.markercluster (offline mode, see :mod:`ruimtekit._offline`).

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
from typing import Any

import numpy as np
import pandas as pd
import shapely

from . import _io, _offline, _styles
from ._errors import InputError

log = logging.getLogger("ruimtekit.maps")

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

CLUSTER_THRESHOLD = 200
"""Point layers with more features than this are drawn with Leaflet.markercluster."""

_NAME_COLUMNS = ("zone_name", "station_name", "name", "naam", "BU_NAAM", "WK_NAAM", "GM_NAAM")
_ID_COLUMNS = ("zone_id", "station_id", "object_id", "id", "BU_CODE", "WK_CODE", "GM_CODE")
_CATEGORY_COLUMNS = ("function", "class", "candidate_class", "type", "category", "station_type")


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


def display_geometries(gdf: Any, simplify_m: float = 25.0, precision: int = 5) -> Any:
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


LARGE_LAYER = 1500
"""Polygon layers with more features than this get at least :data:`LARGE_SIMPLIFY_M`."""
LARGE_SIMPLIFY_M = 100.0


HEAVY_VERTICES = 300_000
"""Layers with more vertices than this (e.g. dissolved catchments) get at least
:data:`HEAVY_SIMPLIFY_M`."""
HEAVY_SIMPLIFY_M = 250.0


def display_settings(n_features: int, simplify_m: float, precision: int = 5,
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
.rk-title{position:absolute;top:10px;left:55px;right:240px;z-index:1000;background:rgba(255,255,255,.92);
 padding:6px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);font:13px/1.35 system-ui,sans-serif;
 max-width:720px}
.rk-title h1{font-size:16px;margin:0 0 2px 0}
.rk-title .rk-sub{color:#8a2b06;font-size:12px;margin:2px 0}
.rk-title .rk-src{color:#555;font-size:11px}
.rk-title a{color:#1f5fa0}
.rk-legend{background:rgba(255,255,255,.94);padding:6px 8px;border-radius:4px;font:12px/1.3 system-ui,sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:280px}
.rk-legend h4{margin:0 0 4px 0;font-size:12px}
.rk-legend .rk-row{display:flex;align-items:center;gap:6px;margin:1px 0}
.rk-legend .rk-sw{width:16px;height:12px;border:1px solid #999;flex:none}
.rk-legend .rk-dot{width:11px;height:11px;border-radius:50%;border:1px solid #fff;box-shadow:0 0 0 1px #777;flex:none}
.rk-legend .rk-line{width:16px;height:0;border-top:2px solid;flex:none}
.rk-legend .rk-meta{color:#666;font-size:11px;margin-top:3px}
.rk-tip table{border-collapse:collapse;margin-top:3px}
.rk-tip td{padding:0 6px 0 0;font-size:12px}
.rk-tip .rk-cur td{font-weight:bold}
.rk-tip .rk-id{color:#777;font-size:11px}
.leaflet-container{background:#f2efe9}
</style>
"""


def _new_map(title: str, notes: Sequence[str], attributions: Sequence[Any], offline: bool,
             cluster: bool) -> tuple[Any, _Script]:
    import folium

    m = folium.Map(tiles=None, location=[52.2, 5.3], zoom_start=8, control_scale=True,
                   prefer_canvas=False)
    m.default_js = _offline.js_links(offline, cluster)
    m.default_css = _offline.css_links(offline, cluster)
    s = _Script(m)
    # folium passes max_zoom only to tile layers; Leaflet.markercluster needs it on the map
    s.add(m, _HELPERS + "__MAP__.setMinZoom(5);\n__MAP__.setMaxZoom(19);\n", "rk_helpers")
    blank = folium.FeatureGroup(name="no background (offline)", overlay=False, control=True, show=offline)
    blank.add_to(m)
    folium.TileLayer(PDOK_BRT_URL, name="PDOK BRT-Achtergrondkaart", attr=PDOK_ATTRIBUTION,
                     max_zoom=19, max_native_zoom=19, overlay=False, show=not offline).add_to(m)
    folium.TileLayer(OSM_URL, name="OpenStreetMap", attr=OSM_ATTRIBUTION, max_zoom=19,
                     overlay=False, show=False).add_to(m)
    src_html = []
    for a in attributions:
        if isinstance(a, tuple | list) and len(a) == 2:
            src_html.append(f'<a href="{_esc(a[1])}" target="_blank" rel="noopener">{_esc(a[0])}</a>')
        else:
            src_html.append(_esc(a))
    if src_html:
        s.add(m, "".join(f"__MAP__.attributionControl.addAttribution({_js(h)});\n" for h in src_html),
              "rk_attr")
    sub = "".join(f'<div class="rk-sub">{_esc(n)}</div>' for n in notes)
    src = f'<div class="rk-src">Sources: {" · ".join(src_html)}</div>' if src_html else ""
    m.get_root().header.add_child(_raw(_CSS), name="rk_css")
    m.get_root().html.add_child(
        _raw(f'<div class="rk-title" id="rk-title"><h1>{_esc(title)}</h1>{sub}{src}</div>'), name="rk_title")
    return m, s


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


def _add_legend(s: _Script, m: Any, entries: list[tuple[str | None, str]],
                exclusive: Sequence[str] = ()) -> None:
    """A legend control; entries are (feature-group variable or None = always, html).

    Each entry is shown while its group is on the map. Groups in ``exclusive`` (the
    measure layers) behave like radio buttons: switching one on switches the others off.
    """
    parts = []
    groups = []
    for i, (var, body) in enumerate(entries):
        parts.append(f'<div id="rk-leg-{m.get_name()}-{i}">{body}</div>')
        groups.append(var)
    html_js = _js("".join(parts))
    group_js = "[" + ",".join(v if v else "null" for v in groups) + "]"
    excl = "[" + ",".join(exclusive) + "]"
    s.add(m, f"""
(function(){{
  var map = __MAP__;
  var groups = {group_js};
  var exclusive = {excl};
  var legend = L.control({{position: 'bottomright'}});
  legend.onAdd = function() {{
    var d = L.DomUtil.create('div', 'rk-legend');
    d.innerHTML = {html_js};
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
  }};
  legend.addTo(map);
  function upd() {{
    for (var i = 0; i < groups.length; i++) {{
      var el = document.getElementById('rk-leg-{m.get_name()}-' + i);
      if (el) el.style.display = (groups[i] === null || map.hasLayer(groups[i])) ? 'block' : 'none';
    }}
  }}
  map.on('overlayadd', function(e) {{
    if (exclusive.indexOf(e.layer) >= 0) {{
      for (var j = 0; j < exclusive.length; j++)
        if (exclusive[j] !== e.layer && map.hasLayer(exclusive[j])) map.removeLayer(exclusive[j]);
    }}
    upd();
  }});
  map.on('overlayremove', upd);
  upd();
}})();
""", "rk_legend")


def _point_props(gdf: Any, name_col: str | None, id_col: str | None, fields: list[str],
                 cat_col: str | None) -> list[dict[str, Any]]:
    props = []
    names = gdf[name_col].tolist() if name_col else [""] * len(gdf)
    ids = gdf[id_col].tolist() if id_col else [""] * len(gdf)
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


def _add_points(s: _Script, m: Any, gdf: Any, *, name: str, show: bool, category: str | None,
                colors: dict[str, str] | None, fields: list[str], radius: float = 6.0,
                cluster: bool | None = None) -> tuple[str, int, bool]:
    """Add a point layer; returns (feature-group variable, features, clustered)."""
    import folium

    cols = list(gdf.columns)
    name_col = _first(cols, _NAME_COLUMNS)
    id_col = _first(cols, _ID_COLUMNS)
    geoms = display_geometries(gdf, 0.0, 6)
    pts = gdf.copy()
    # multipoints/others: draw at a representative point
    import shapely

    tid = shapely.get_type_id(geoms)
    if np.any((tid != 0) & ~shapely.is_empty(geoms)):
        geoms = np.where(tid == 0, geoms, shapely.point_on_surface(geoms))
    meta = [{"label": _styles.measure_info(f).label if f in _styles.KNOWN_MEASURES or
             _styles.CUMULATIVE_RE.match(f) else f.replace("_", " "),
             "unit": _styles.measure_info(f).unit} for f in fields]
    data = _features(geoms, _point_props(pts, name_col, id_col, fields, category))
    n = len(data["features"])
    clustered = n > CLUSTER_THRESHOLD if cluster is None else cluster
    fg = folium.FeatureGroup(name=_esc(name), overlay=True, show=show)
    fg.add_to(m)
    col_js = _js(colors or {})
    attach = ("var cl = L.markerClusterGroup({maxClusterRadius: 40, disableClusteringAtZoom: 14});\n"
              "  cl.addLayer(layer);\n  cl.addTo(fg);") if clustered else "layer.addTo(fg);"
    s.add(fg, f"""
(function(){{
  var fg = {fg.get_name()};
  var data = {_js(data)};
  var meta = {_js(meta)};
  var colors = {col_js};
  var layer = L.geoJSON(data, {{
    pointToLayer: function(f, ll) {{
      return L.circleMarker(ll, {{radius: {radius}, color: '#ffffff', weight: 1.2, opacity: 1,
        fillColor: colors[f.properties.k] || '#2c3e91', fillOpacity: 0.9}});
    }},
    onEachFeature: function(f, l) {{
      l.bindTooltip(function() {{ return rkTip(f.properties, meta, -1); }});
      l.bindPopup(function() {{ return rkTip(f.properties, meta, -1); }});
    }}
  }});
  {attach}
}})();
""", "rk_points")
    return fg.get_name(), n, clustered


def _add_outlines(s: _Script, m: Any, gdf: Any, *, name: str, show: bool, color: str,
                  simplify_m: float, precision: int) -> tuple[str, int]:
    import folium

    cols = list(gdf.columns)
    name_col = _first(cols, _NAME_COLUMNS)
    id_col = _first(cols, _ID_COLUMNS)
    geoms = display_geometries(gdf, simplify_m, precision)
    fields = [c for c in cols if c not in (gdf.geometry.name, name_col, id_col)][:6]
    meta = [{"label": f.replace("_", " "), "unit": ""} for f in fields]
    data = _features(geoms, _point_props(gdf, name_col, id_col, fields, None))
    fg = folium.FeatureGroup(name=_esc(name), overlay=True, show=show)
    fg.add_to(m)
    s.add(fg, f"""
(function(){{
  var meta = {_js(meta)};
  L.geoJSON({_js(data)}, {{
    style: function() {{ return {{fill: false, color: {_js(color)}, weight: 1.6, opacity: 0.9}}; }},
    onEachFeature: function(f, l) {{ l.bindTooltip(function() {{ return rkTip(f.properties, meta, -1); }}, {{sticky: true}}); }}
  }}).addTo({fg.get_name()});
}})();
""", "rk_outlines")
    return fg.get_name(), len(data["features"])


def _write_map(m: Any, path: Path) -> int:
    text = m.get_root().render()
    _io.write_text(path, text)
    return len(text.encode("utf-8"))


# ----------------------------------------------------------------------- public maps


def _station_layers(layers: Mapping[str, Any] | None) -> dict[str, Any]:
    out = {}
    for name, df in (layers or {}).items():
        cols = set(getattr(df, "columns", ()))
        # a stations layer, not a result that merely carries its nearest station's type
        if (_is_point_layer(df) and ({"station_name", "station_type"} & cols)
                and not ({"score", "rank", "object_id"} & cols)):
            out[name] = df
    return out


def _is_point_layer(df: Any) -> bool:
    import geopandas as gpd
    import shapely

    if not isinstance(df, gpd.GeoDataFrame) or df._geometry_column_name not in df.columns or len(df) == 0:
        return False
    g = df.geometry.values
    tid = shapely.get_type_id(np.asarray(g, dtype=object))
    return bool(np.all(np.isin(tid[tid >= 0], (0, 4))))


def _is_polygon_layer(df: Any) -> bool:
    import geopandas as gpd
    import shapely

    if not isinstance(df, gpd.GeoDataFrame) or df._geometry_column_name not in df.columns or len(df) == 0:
        return False
    tid = shapely.get_type_id(np.asarray(df.geometry.values, dtype=object))
    present = tid[tid >= 0]
    return bool(present.size and np.all(np.isin(present, (3, 6, 7))))


def _add_overlays(s: _Script, m: Any, *, stations: Mapping[str, Any], outlines: Mapping[str, Any],
                  show_outlines: bool, simplify_m: float, precision: int) -> tuple[list, int]:
    legend = []
    expected = 0
    for i, (name, gdf) in enumerate(outlines.items()):
        color = ("#d7301f", "#6a51a3", "#238b45", "#525252")[i % 4]
        o_simplify, o_precision = display_settings(
            len(gdf), simplify_m, precision, int(shapely.get_num_coordinates(gdf.geometry.values).sum()))
        var, n = _add_outlines(s, m, gdf, name=f"{name} (outlines)", show=show_outlines, color=color,
                               simplify_m=o_simplify, precision=o_precision)
        legend.append((var, f'<div class="rk-row"><span class="rk-line" style="border-color:{color}"></span>'
                            f'{_esc(name)}</div>'))
        expected += n if show_outlines else 0
    for name, gdf in stations.items():
        has_type = "station_type" in gdf.columns
        types = gdf["station_type"].astype(str) if has_type else None
        colors = {t: _styles.STATION_STYLE.get(t, _styles.STATION_STYLE["other"])[0]
                  for t in (sorted(set(types)) if has_type else [])}
        fields = [c for c in ("station_type", "ridership") if c in gdf.columns]
        var, n, clustered = _add_points(s, m, gdf, name=f"{name} ({len(gdf)})", show=True,
                                        category="station_type" if has_type else None, colors=colors,
                                        fields=fields, radius=4.5)
        rows = "".join(f'<div class="rk-row"><span class="rk-dot" style="background:{c}"></span>{_esc(t)}</div>'
                       for t, c in colors.items()) or '<div class="rk-row"><span class="rk-dot" style="background:#2c3e91"></span>station</div>'
        legend.append((var, f"<h4>{_esc(name)}</h4>{rows}"))
        expected += 0 if clustered else n
    return legend, expected


def choropleth_map(
    gdf: Any,
    path: str | Path,
    *,
    measures: Sequence[str] | None = None,
    title: str = "",
    classification: str = "quantiles",
    k: int = 5,
    bins: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    stations: Mapping[str, Any] | None = None,
    outlines: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    attributions: Sequence[Any] = (),
    offline: bool = True,
    simplify_m: float = 25.0,
    precision: int = 5,
    labels: Mapping[str, tuple[str, str]] | None = None,
) -> MapResult:
    """Write a choropleth web map of a zone layer, one switchable layer per measure.

    Parameters
    ----------
    gdf : GeoDataFrame
        Zone result layer (EPSG:28992) with ``zone_id``, ``zone_name`` and measure columns.
    path : str or Path
        Output HTML (written atomically). In offline mode the Leaflet files must be in
        ``lib/`` beside it (:func:`ruimtekit._offline.copy_assets`; done by
        :func:`build_study_maps`).
    measures : sequence of str, optional
        Columns to map (default: :func:`ruimtekit._styles.measure_columns`); the first
        shown is the main measure (a 45-minute measure when present).
    title : str
        Map title.
    classification : str
        ``quantiles``, ``fisher_jenks`` (natural breaks) or ``equal_interval``.
    k : int
        Number of classes.
    bins : mapping or sequence, optional
        User-chosen upper class bounds (for every measure, or per measure column).
    stations, outlines : mapping of str to GeoDataFrame, optional
        Station points (markers) and catchment polygons (outlines) drawn on top.
    notes : sequence of str
        Subtitle lines (proxy/synthetic statements).
    attributions : sequence of str or (text, url)
        Source attributions shown on the map.
    offline : bool
        Reference Leaflet in ``lib/`` instead of a CDN; the default base layer is then
        "no background".
    simplify_m : float
        Display simplification tolerance in metres.
    precision : int
        Coordinate decimals (EPSG:4326).
    labels : mapping, optional
        Column → (legend label, unit) overrides.

    Returns
    -------
    MapResult
    """
    import folium

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
    m, s = _new_map(title or "ruimtekit map", notes, attributions, offline, any_cluster)
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
    props = [
        {"n": "" if names[i] is None else str(names[i]), "i": "" if ids[i] is None else str(ids[i]),
         "v": [_num(v[i]) for v in values], "c": [int(ix[i]) for ix in idx]}
        for i in range(len(gdf))
    ]
    data = _features(geoms, props)
    n = len(data["features"])
    data_var = f"rk_zones_{m.get_name()}"
    meta = [{"label": inf.label, "unit": inf.unit} for inf in infos]
    s.add(m, f"window.{data_var} = {_js(data)};\nwindow.{data_var}_meta = {_js(meta)};\n", "rk_data")
    legend: list[tuple[str | None, str]] = []
    measure_vars = []
    for j, (inf, cl) in enumerate(zip(infos, classes, strict=True)):
        fg = folium.FeatureGroup(name=_esc(inf.title), overlay=True, show=(j == 0))
        fg.add_to(m)
        measure_vars.append(fg.get_name())
        s.add(fg, f"""
(function(){{
  var colors = {_js(list(cl.colors))};
  var meta = window.{data_var}_meta;
  L.geoJSON(window.{data_var}, {{
    style: function(f) {{
      var c = f.properties.c[{j}];
      return {{fillColor: c < 0 ? {_js(_styles.NODATA_COLOR)} : colors[c], fillOpacity: 0.78,
               color: '#ffffff', weight: 0.5, opacity: 0.9}};
    }},
    onEachFeature: function(f, l) {{
      l.bindTooltip(function() {{ return rkTip(f.properties, meta, {j}); }}, {{sticky: true}});
      l.bindPopup(function() {{ return rkTip(f.properties, meta, {j}); }});
    }}
  }}).addTo({fg.get_name()});
}})();
""", "rk_measure")
        legend.append((fg.get_name(), _legend_classes(inf, cl, _METHOD_LABELS.get(cl.method, cl.method))))
    ov_legend, ov_expected = _add_overlays(s, m, stations=stations, outlines=dict(outlines or {}),
                                           show_outlines=False, simplify_m=simplify_m, precision=precision)
    _add_legend(s, m, legend + ov_legend, exclusive=measure_vars)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _fit(m, geoms)
    size = _write_map(m, path)
    desc = (f"{n} zones · {len(cols)} measure(s) · {_METHOD_LABELS.get(classes[0].method, classes[0].method)}"
            f", {classes[0].k} classes")
    return MapResult(path, title, "choropleth", n, [inf.title for inf in infos], size, desc, n + ov_expected,
                     {"measures": cols, "classes": classes})


def points_map(
    gdf: Any,
    path: str | Path,
    *,
    title: str = "",
    category: str | None = None,
    fields: Sequence[str] | None = None,
    stations: Mapping[str, Any] | None = None,
    outlines: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    attributions: Sequence[Any] = (),
    offline: bool = True,
    simplify_m: float = 25.0,
    precision: int = 5,
    cluster: bool | None = None,
) -> MapResult:
    """Write a marker map of a point layer (e.g. densification candidates).

    Parameters
    ----------
    gdf : GeoDataFrame
        Points (EPSG:28992), e.g. candidates with ``score``, ``rank``, ``reason``.
    path : str or Path
        Output HTML (written atomically).
    category : str, optional
        Column that colours the markers (default: the first of ``reason``, ``class``,
        ``type``, ``function`` …).
    fields : sequence of str, optional
        Columns shown in tooltips (default: ``rank``, ``score``, the category and other
        numeric measures, at most 8).
    stations, outlines : mapping of str to GeoDataFrame, optional
        Station markers and catchment outlines (shown).
    notes, attributions, offline, simplify_m, precision
        As in :func:`choropleth_map`.
    cluster : bool, optional
        Force or suppress marker clustering (default: more than 200 points).

    Returns
    -------
    MapResult
    """
    import folium

    _check_gdf(gdf, "point layer")
    path = Path(path)
    cols = list(gdf.columns)
    if category is None:
        category = next((c for c in _CATEGORY_COLUMNS if c in cols and not _styles._is_numeric(gdf[c])), None)
    elif category not in cols:
        raise InputError(None, f"category column {category!r} is not in the layer", f"use one of {cols}")
    if fields is None:
        fields = [c for c in ("rank", "score") if c in cols]
        if category:
            fields.append(category)
        fields += [c for c in _styles.measure_columns(gdf) if c not in fields]
        fields = fields[:8]
    stations = dict(stations or {})
    n_pts = len(gdf)
    clustered = (n_pts > CLUSTER_THRESHOLD) if cluster is None else cluster
    any_cluster = clustered or any(len(g) > CLUSTER_THRESHOLD for g in stations.values())
    m, s = _new_map(title or "ruimtekit map", notes, attributions, offline, any_cluster)
    colors = _styles.category_colors(gdf[category].dropna().astype(str)) if category else {}
    ov_legend, ov_expected = _add_overlays(s, m, stations=stations, outlines=dict(outlines or {}),
                                           show_outlines=True, simplify_m=simplify_m, precision=precision)
    var, n, clustered = _add_points(s, m, gdf, name=f"{title or 'points'} ({n_pts})", show=True,
                                    category=category, colors=colors, fields=list(fields), radius=7,
                                    cluster=clustered)
    rows = "".join(f'<div class="rk-row"><span class="rk-dot" style="background:{c}"></span>{_esc(t)}</div>'
                   for t, c in colors.items()) or \
        '<div class="rk-row"><span class="rk-dot" style="background:#2c3e91"></span>location</div>'
    head = f"<h4>{_esc(category.replace('_', ' '))}</h4>" if category else ""
    _add_legend(s, m, [(var, head + rows)] + ov_legend)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _fit(m, display_geometries(gdf, 0.0, 5))
    size = _write_map(m, path)
    desc = f"{n} points" + (f" by {category}" if category else "") + (" · clustered" if clustered else "")
    return MapResult(path, title, "points", n, list(colors), size, desc,
                     (0 if clustered else n) + ov_expected, {"category": category})


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
    note_html = "".join(f"<li>{_esc(n)}</li>" for n in notes) or "<li>none</li>"
    table_html = ""
    if tables:
        table_html = "<h3>Tables (no geometry, not mapped)</h3><ul>" + "".join(
            f"<li>{_esc(k)} ({v} rows)</li>" for k, v in tables.items()) + "</ul>"
    from . import __version__

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

_TITLES = {
    "accessibility": "Job accessibility", "access": "Job accessibility",
    "borrowed_size": "Borrowed size", "candidates": "Densification candidates",
    "transit": "Transit accessibility",
}


def _title_for(name: str) -> str:
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


def build_study_maps(
    results: Mapping[str, Any],
    out_dir: str | Path,
    *,
    title: str,
    notes: Sequence[str] = (),
    attributions: Sequence[Any] = (),
    offline: bool = True,
    layers: Mapping[str, Any] | None = None,
    config: Any = None,
    tables: Mapping[str, Any] | None = None,
    figures: bool | None = None,
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
    title : str
        Study title (index page, map titles).
    notes : sequence of str
        Proxy/synthetic statements shown as map subtitles.
    attributions : sequence of str or (text, url)
        Data-source attributions shown on every map (e.g. "Bron: CBS (CC BY 4.0)").
    offline : bool
        Serve Leaflet from ``lib/`` (no internet needed).
    layers : mapping, optional
        Input layers of the run; station layers among them are drawn on every map.
    config : ruimtekit.study.MapsConfig, optional
        ``classification``, ``k``, ``simplify_m`` and ``figures`` settings.
    tables : mapping, optional
        CSV tables of the run (used by the borrowed-size figure when it needs them).
    figures : bool, optional
        Write static figures to ``figures/`` (default: ``config.figures`` or True).
    overwrite : bool
        Allow writing into a non-empty folder ruimtekit did not make.

    Returns
    -------
    Path
        ``out_dir/index.html``.
    """
    import pandas as pd

    out_dir = Path(out_dir)
    classification = getattr(config, "classification", "quantiles")
    k = int(getattr(config, "k", 5))
    simplify_m = float(getattr(config, "simplify_m", 25.0))
    want_figures = figures if figures is not None else bool(getattr(config, "figures", True))
    if not attributions:
        log.warning("no source attributions were given; maps will not credit the data sources")
    stations = _station_layers(layers)
    stations.update(_station_layers(results))
    outlines = {n: df for n, df in results.items() if _is_polygon_layer(df)
                and not _styles.measure_columns(df) and n not in stations}
    zone_layers = {n: df for n, df in results.items() if _is_polygon_layer(df) and n not in outlines}
    point_layers = {n: df for n, df in results.items() if _is_point_layer(df) and n not in stations}
    attr_tables = {n: len(df) for n, df in results.items()
                   if isinstance(df, pd.DataFrame) and n not in zone_layers and n not in point_layers
                   and n not in outlines and n not in stations}
    with _io.atomic_dir(out_dir, overwrite, "maps") as tmp:
        if offline:
            _offline.copy_assets(tmp)
        written: list[MapResult] = []
        for name, gdf in zone_layers.items():
            r = choropleth_map(
                gdf, tmp / f"{name}.html", title=f"{_title_for(name)} — {title}",
                classification=classification, k=k, stations=stations, outlines=outlines,
                notes=notes_for_layer(name, notes, list(results)),
                attributions=attributions, offline=offline, simplify_m=simplify_m,
            )
            written.append(r)
        for name, gdf in point_layers.items():
            r = points_map(gdf, tmp / f"{name}.html", title=f"{_title_for(name)} — {title}",
                           stations=stations, outlines=outlines, notes=notes_for_layer(name, notes, list(results)),
                           attributions=attributions, offline=offline, simplify_m=simplify_m)
            written.append(r)
        if not zone_layers and not point_layers and (stations or outlines):
            base = next(iter(stations.values()), None)
            if base is not None:
                written.append(points_map(base, tmp / "stations.html", title=f"Stations — {title}",
                                          outlines=outlines, notes=notes, attributions=attributions,
                                          offline=offline, simplify_m=simplify_m))
        figs: list[Path] = []
        if want_figures:
            from . import figures as _figures

            figs = _figures.study_figures(
                results, tmp / "figures", layers=layers, tables=tables, attributions=attributions,
                notes=notes, classification=classification, k=k,
            )
        for r in written:
            log.info("map %s: %d features, %s", r.path.name, r.n_features, _fmt_bytes(r.bytes))
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
        title=getattr(study, "title", "") or study.name, notes=ctx.notes,
        attributions=list(getattr(study, "attribution", []) or []),
        offline=bool(getattr(cfg, "offline", True)), layers=ctx.layers, config=cfg, tables=ctx.tables,
    )


def _read_tables(folder: Path) -> dict[str, Any]:
    """CSV tables beside the study GeoPackage; unreadable (unrelated) files are skipped with
    a warning naming them."""
    from . import _vector

    tables = {}
    for p in sorted(folder.glob("*.csv")):
        try:
            tables[p.stem] = _vector.read_table(p)
        except InputError as exc:
            log.warning("skipped %s beside the GeoPackage: %s", p.name, exc.problem)
    return tables


def read_outputs(gpkg: str | Path) -> dict[str, Any]:
    """Read a study's processed outputs back (no recomputation) for :func:`rebuild`.

    Parameters
    ----------
    gpkg : str or Path
        ``<output_dir>/<study>/<study>.gpkg`` written by :func:`ruimtekit.export.write_geopackage`.

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
    for name, gtype in listed:
        if name == "layer_styles":
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


def rebuild(gpkg: str | Path, out_dir: str | Path, *, offline: bool = True, title: str | None = None,
            config: Any = None, figures: bool = True, overwrite: bool = False) -> Path:
    """Rebuild maps, figures and the index from a study GeoPackage (+ CSVs, provenance).

    Parameters
    ----------
    gpkg : str or Path
        The study GeoPackage.
    out_dir : str or Path
        Maps folder (replaced atomically).
    offline : bool
        Serve Leaflet from ``lib/``.
    title : str, optional
        Overrides the title recorded in ``provenance.json``.
    config : MapsConfig, optional
        Classification settings.
    figures : bool
        Also write static figures.
    overwrite : bool
        Allow writing into a non-empty folder ruimtekit did not make (see
        :func:`ruimtekit._io.atomic_dir`; nothing that ruimtekit did not write is removed).

    Returns
    -------
    Path
        ``out_dir/index.html``.
    """
    _io.check_output_dir(out_dir, overwrite, "maps")
    rec = read_outputs(gpkg)
    sizes = {n: len(df) for n, df in rec["results"].items()}
    if not any(sizes.values()):
        shown = ", ".join(f"{n} ({k} rows)" for n, k in sizes.items()) or "none"
        raise InputError(gpkg, f"the GeoPackage has no result layer with rows (layers: {shown}); "
                         "there is nothing to map", "run the study again (ruimtekit run) or "
                         "point --gpkg at the study's output GeoPackage")
    return build_study_maps(
        rec["results"], out_dir, title=title or rec["title"], notes=rec["notes"],
        attributions=rec["attributions"], offline=offline, config=config, tables=rec["tables"],
        figures=figures, overwrite=overwrite,
    )
