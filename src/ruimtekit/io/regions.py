"""Region selection: turn a region name, code, bounding box or polygon file into a study area.

A :class:`Region` holds the study area (polygon in EPSG:28992), a buffered catchment
polygon (opportunities outside the border are reachable within a travel-time budget), the
bounding boxes in RD (EPSG:28992) and WGS84 (EPSG:4326) and the CBS gemeente codes inside.

Everything is resolved offline from the bundled lookups in ``data/raw/``:

* ``cbs_gemeenten_2022.geojson`` — 345 gemeente polygons (``statcode``, ``statnaam``, WGS84);
* ``cbs_postcode_lookup_2021.csv`` — PC4 → plaats, gemeente, provincie, COROP name;
* ``cbs_gemeente_2015_regions.topojson`` — 2015 gemeente → provincie/COROP codes (coarse
  TopoJSON, object ``layer``; decoded here), used for gemeenten missing from the postcode
  lookup (the 2022 mergers);
* ``cbs_pc4_2021.parquet`` — PC4 polygons (EPSG:28992) for four-digit postcode regions.

Accepted queries (case- and accent-insensitive):

* gemeente name or code: ``"Delft"``, ``"GM0503"``, ``"Den Haag"`` (alias of 's-Gravenhage);
* a place (woonplaats) inside one gemeente: ``"Nootdorp"`` → gemeente Pijnacker-Nootdorp;
* province: ``"provincie Utrecht"``, ``"Zuid-Holland"``, ``"PV28"`` (``"Utrecht"`` and
  ``"Groningen"`` alone mean the gemeente);
* COROP region: ``"corop Delft en Westland"``, ``"Groot-Amsterdam"``, ``"CR27"``;
* four-digit postcode: ``"2611"``;
* bounding box ``"xmin,ymin,xmax,ymax"`` in RD metres or WGS84 degrees (lon/lat order;
  detected from the values), optionally prefixed ``bbox:``;
* a polygon file (any vector file GeoPandas reads: GeoPackage, GeoJSON, shapefile, ...).

Catchment buffer
----------------
A 45-minute catchment reaches beyond the study-area border. :func:`catchment_buffer_km`
gives the crow-fly reach ``minutes / 60 × speed / detour`` rounded up to 5 km, with the
door-to-door speeds and detour factors in :data:`MODE_REACH`. The default buffer,
:data:`DEFAULT_BUFFER_KM` = 50 km, is the 45-minute car reach (80 km/h effective, detour 1.3:
46 km → 50 km), so every mode's catchment fits inside.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from ruimtekit import CRS, defaults
from ruimtekit._errors import InputError

WGS84 = "EPSG:4326"

MODE_REACH: dict[str, tuple[float, float]] = dict(defaults.CATCHMENT_REACH)
"""Mode → (effective door-to-door speed in km/h, network detour factor) for catchment
buffers (:data:`ruimtekit.defaults.CATCHMENT_REACH`)."""

DEFAULT_BUFFER_KM = defaults.BUFFER_KM
"""Default catchment buffer (km): the 45-minute car reach, see :func:`catchment_buffer_km`."""

PROVINCES: dict[str, str] = {
    "PV20": "Groningen",
    "PV21": "Fryslân",
    "PV22": "Drenthe",
    "PV23": "Overijssel",
    "PV24": "Flevoland",
    "PV25": "Gelderland",
    "PV26": "Utrecht",
    "PV27": "Noord-Holland",
    "PV28": "Zuid-Holland",
    "PV29": "Zeeland",
    "PV30": "Noord-Brabant",
    "PV31": "Limburg",
}
"""CBS province codes → names."""

PROVINCE_ALIASES = {"Friesland": "Fryslân"}

GEOFABRIK_SLUGS: dict[str, str] = {
    "Groningen": "groningen",
    "Fryslân": "friesland",
    "Drenthe": "drenthe",
    "Overijssel": "overijssel",
    "Flevoland": "flevoland",
    "Gelderland": "gelderland",
    "Utrecht": "utrecht",
    "Noord-Holland": "noord-holland",
    "Zuid-Holland": "zuid-holland",
    "Zeeland": "zeeland",
    "Noord-Brabant": "noord-brabant",
    "Limburg": "limburg",
}
"""Province name → Geofabrik extract name (``europe/netherlands/<slug>-latest.osm.pbf``)."""

COROPS: dict[str, str] = {
    "CR01": "Oost-Groningen",
    "CR02": "Delfzijl en omgeving",
    "CR03": "Overig Groningen",
    "CR04": "Noord-Friesland",
    "CR05": "Zuidwest-Friesland",
    "CR06": "Zuidoost-Friesland",
    "CR07": "Noord-Drenthe",
    "CR08": "Zuidoost-Drenthe",
    "CR09": "Zuidwest-Drenthe",
    "CR10": "Noord-Overijssel",
    "CR11": "Zuidwest-Overijssel",
    "CR12": "Twente",
    "CR13": "Veluwe",
    "CR14": "Achterhoek",
    "CR15": "Arnhem/Nijmegen",
    "CR16": "Zuidwest-Gelderland",
    "CR17": "Utrecht",
    "CR18": "Kop van Noord-Holland",
    "CR19": "Alkmaar en omgeving",
    "CR20": "IJmond",
    "CR21": "Agglomeratie Haarlem",
    "CR22": "Zaanstreek",
    "CR23": "Groot-Amsterdam",
    "CR24": "Het Gooi en Vechtstreek",
    "CR25": "Agglomeratie Leiden en Bollenstreek",
    "CR26": "Agglomeratie 's-Gravenhage",
    "CR27": "Delft en Westland",
    "CR28": "Oost-Zuid-Holland",
    "CR29": "Groot-Rijnmond",
    "CR30": "Zuidoost-Zuid-Holland",
    "CR31": "Zeeuwsch-Vlaanderen",
    "CR32": "Overig Zeeland",
    "CR33": "West-Noord-Brabant",
    "CR34": "Midden-Noord-Brabant",
    "CR35": "Noordoost-Noord-Brabant",
    "CR36": "Zuidoost-Noord-Brabant",
    "CR37": "Noord-Limburg",
    "CR38": "Midden-Limburg",
    "CR39": "Zuid-Limburg",
    "CR40": "Flevoland",
}
"""CBS COROP codes (2015–2021 division) → names."""

GEMEENTE_ALIASES = {
    "den haag": "'s-Gravenhage",
    "the hague": "'s-Gravenhage",
    "den bosch": "'s-Hertogenbosch",
    "s-gravenhage": "'s-Gravenhage",
    "s-hertogenbosch": "'s-Hertogenbosch",
}

# RD New validity extent (EPSG:28992), metres, and the Netherlands in WGS84 degrees.
_RD_EXTENT = (-7000.0, 289000.0, 300000.0, 629000.0)
_NL_WGS84 = (3.2, 50.7, 7.3, 53.7)
_MIN_SHARE = 0.01  # a gemeente counts as inside when ≥ 1 % of its area overlaps


def catchment_buffer_km(minutes: float = defaults.CATCHMENT_MINUTES, mode: str = "car") -> float:
    """Crow-fly reach of a travel-time budget, rounded up to a multiple of 5 km.

    Parameters
    ----------
    minutes : float
        Travel-time budget in minutes.
    mode : str
        One of :data:`MODE_REACH` (walk, bike, ebike, transit, car).

    Returns
    -------
    float
        Buffer in km: ``ceil(minutes / 60 × speed_kmh / detour / 5) × 5``.
    """
    if mode not in MODE_REACH:
        raise InputError(None, f"unknown mode {mode!r} for a catchment buffer",
                         f"use one of {', '.join(MODE_REACH)}")
    if not minutes > 0:
        raise InputError(None, f"travel-time budget must be positive, got {minutes} min",
                         "pass a budget in minutes such as 45")
    speed, detour = MODE_REACH[mode]
    return float(math.ceil(minutes / 60.0 * speed / detour / 5.0) * 5.0)


@dataclass(frozen=True)
class Region:
    """A study area and its buffered catchment.

    Attributes
    ----------
    name : str
        Human-readable name (e.g. ``"Delft"``).
    slug : str
        File-system safe name (e.g. ``"delft"``), used for ``data/raw/<slug>/``.
    kind : str
        ``gemeente``, ``provincie``, ``corop``, ``pc4``, ``bbox`` or ``polygon``.
    polygon : shapely geometry
        Study area in EPSG:28992 (metres).
    buffer_km : float
        Catchment buffer in km.
    buffered : shapely geometry
        ``polygon`` buffered by ``buffer_km`` (EPSG:28992).
    gemeente_codes : tuple of str
        CBS codes (``GM####``, 2022 division) of gemeenten inside the study area.
    catchment_gemeente_codes : tuple of str
        Gemeente codes overlapping the buffered catchment (includes ``gemeente_codes``).
    provinces : tuple of str
        Province names overlapping the buffered catchment (for per-province downloads).
    codes : tuple of str
        The codes the query resolved to (e.g. ``("GM0503",)``, ``("PV28",)``).
    """

    name: str
    slug: str
    kind: str
    polygon: BaseGeometry
    buffer_km: float
    buffered: BaseGeometry
    gemeente_codes: tuple[str, ...]
    catchment_gemeente_codes: tuple[str, ...]
    provinces: tuple[str, ...]
    codes: tuple[str, ...] = field(default=())

    @property
    def bbox_rd(self) -> tuple[float, float, float, float]:
        """Bounding box of the buffered catchment in EPSG:28992 (xmin, ymin, xmax, ymax; m)."""
        return tuple(float(v) for v in self.buffered.bounds)  # type: ignore[return-value]

    @property
    def bbox_wgs84(self) -> tuple[float, float, float, float]:
        """Bounding box of the buffered catchment in WGS84 (lon_min, lat_min, lon_max, lat_max)."""
        return _bounds_wgs84(self.buffered)

    @property
    def core_bbox_rd(self) -> tuple[float, float, float, float]:
        """Bounding box of the study area (no buffer) in EPSG:28992 (m)."""
        return tuple(float(v) for v in self.polygon.bounds)  # type: ignore[return-value]

    @property
    def core_bbox_wgs84(self) -> tuple[float, float, float, float]:
        """Bounding box of the study area (no buffer) in WGS84 degrees (lon/lat order)."""
        return _bounds_wgs84(self.polygon)

    @property
    def area_km2(self) -> float:
        """Study-area size in km²."""
        return float(self.polygon.area) / 1e6

    @property
    def buffered_area_km2(self) -> float:
        """Catchment size in km²."""
        return float(self.buffered.area) / 1e6

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (geometry as WKT, EPSG:28992)."""
        return {
            "name": self.name, "slug": self.slug, "kind": self.kind, "codes": list(self.codes),
            "buffer_km": self.buffer_km, "area_km2": round(self.area_km2, 3),
            "buffered_area_km2": round(self.buffered_area_km2, 3),
            "bbox_rd": [round(v, 1) for v in self.bbox_rd],
            "bbox_wgs84": [round(v, 6) for v in self.bbox_wgs84],
            "core_bbox_rd": [round(v, 1) for v in self.core_bbox_rd],
            "gemeente_codes": list(self.gemeente_codes),
            "catchment_gemeente_codes": list(self.catchment_gemeente_codes),
            "provinces": list(self.provinces), "crs": CRS,
            "polygon_wkt": shapely.to_wkt(self.polygon, rounding_precision=1),
        }


def _bounds_wgs84(geom: BaseGeometry) -> tuple[float, float, float, float]:
    # transform a densified outline so curved edges in WGS84 stay inside the box
    tr = Transformer.from_crs(CRS, WGS84, always_xy=True)
    outline = shapely.segmentize(shapely.envelope(geom).exterior, 1000.0)
    xy = shapely.get_coordinates(outline)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))


# --------------------------------------------------------------------------- lookups
def data_dir(path: str | Path | None = None) -> Path:
    """Folder with the bundled lookups (``data/raw``): argument, ``RUIMTEKIT_DATA_DIR`` or repo."""
    if path is not None:
        return Path(path)
    env = os.environ.get("RUIMTEKIT_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "data" / "raw"


def _norm(text: str) -> str:
    """Lower-case, accents removed, punctuation and spaces collapsed (for matching names)."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().strip()
    text = text.replace("’", "'")
    text = re.sub(r"^'s[- ]", "s-", text)
    text = re.sub(r"[^a-z0-9']+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def slugify(name: str) -> str:
    """File-system safe ASCII name: ``"'s-Gravenhage"`` → ``"s-gravenhage"``."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text or "region"


def decode_topojson(topo: dict[str, Any], obj: str = "layer") -> gpd.GeoDataFrame:
    """Decode a quantised TopoJSON object into a GeoDataFrame (WGS84).

    Parameters
    ----------
    topo : dict
        Parsed TopoJSON (``type: Topology`` with ``arcs``, ``objects`` and ``transform``).
    obj : str
        Name of the GeometryCollection under ``objects``.

    Returns
    -------
    GeoDataFrame
        One row per geometry with its ``properties``; CRS EPSG:4326.
    """
    if topo.get("type") != "Topology" or obj not in topo.get("objects", {}):
        raise InputError(None, f"not a TopoJSON topology with object {obj!r}",
                         "pass the CBS gebiedsindelingen TopoJSON (object 'layer')")
    tf = topo.get("transform")
    arcs = []
    for arc in topo["arcs"]:
        a = np.asarray(arc, dtype=np.float64)[:, :2]
        if tf is not None:
            a = np.cumsum(a, axis=0) * np.asarray(tf["scale"]) + np.asarray(tf["translate"])
        arcs.append(a)

    def ring(indices: list[int]) -> np.ndarray:
        parts = []
        for k, i in enumerate(indices):
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            parts.append(a if k == 0 else a[1:])
        return np.concatenate(parts)

    def polygon(rings: list[list[int]]) -> Polygon:
        rs = [ring(r) for r in rings]
        if len(rs[0]) < 4:  # collapsed by quantisation
            return Polygon()
        return Polygon(rs[0], [r for r in rs[1:] if len(r) >= 4])

    rows, geoms = [], []
    for g in topo["objects"][obj]["geometries"]:
        if g["type"] == "Polygon":
            geom = polygon(g["arcs"])
        elif g["type"] == "MultiPolygon":
            geom = MultiPolygon([polygon(p) for p in g["arcs"]])
        else:
            continue
        rows.append(g.get("properties", {}))
        geoms.append(geom if geom.is_valid else geom.buffer(0))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=WGS84)


@functools.lru_cache(maxsize=4)
def gemeenten(root: str | None = None) -> gpd.GeoDataFrame:
    """The 2022 gemeenten with province and COROP (EPSG:28992).

    Columns: ``gemeente_code`` (GM####), ``gemeente_name``, ``provincie`` (name),
    ``provincie_code`` (PV##), ``corop`` (name), ``corop_code`` (CR##), ``geometry``.
    Province/COROP come from the 2021 postcode lookup (by name) and, for gemeenten missing
    there (2022 mergers), from the 2015 TopoJSON gemeente with the largest overlap.
    """
    base = data_dir(root)
    path = base / "cbs_gemeenten_2022.geojson"
    if not path.exists():
        raise InputError(path, "bundled gemeente boundaries are missing",
                         "set RUIMTEKIT_DATA_DIR to the folder holding data/raw lookups")
    gm = gpd.read_file(path)
    gm = gm.rename(columns={"statcode": "gemeente_code", "statnaam": "gemeente_name"})
    gm = gm[["gemeente_code", "gemeente_name", "geometry"]].set_crs(WGS84, allow_override=True)
    gm = gm.to_crs(CRS)
    gm["geometry"] = shapely.make_valid(gm.geometry.values)

    prov_code = {v: k for k, v in PROVINCES.items()}
    corop_code = {v: k for k, v in COROPS.items()}
    pc = pd.read_csv(base / "cbs_postcode_lookup_2021.csv")
    pc = pc[pc["postcode"].astype(str).str.len() == 4].dropna(subset=["gemeente"])
    by_name = (pc.groupby("gemeente")[["provincie", "corop_naam"]]
               .agg(lambda s: s.value_counts().index[0]))
    gm["provincie"] = gm["gemeente_name"].map(by_name["provincie"]).replace(PROVINCE_ALIASES)
    gm["corop"] = gm["gemeente_name"].map(by_name["corop_naam"])

    missing = gm["provincie"].isna() | gm["corop"].isna()
    if missing.any():
        old = decode_topojson(json.loads(
            (base / "cbs_gemeente_2015_regions.topojson").read_text(encoding="utf-8")))
        old = old.to_crs(CRS)
        for i in gm.index[missing]:
            inter = old.geometry.intersection(gm.geometry[i]).area
            j = int(np.argmax(inter.values))
            gm.loc[i, "provincie"] = PROVINCES.get(old["provincie"].iloc[j])
            gm.loc[i, "corop"] = COROPS.get(old["corop_gebied"].iloc[j])
    gm["provincie_code"] = gm["provincie"].map(prov_code)
    gm["corop_code"] = gm["corop"].map(corop_code)
    return gm.reset_index(drop=True)


@functools.lru_cache(maxsize=4)
def _places(root: str | None = None) -> dict[str, set[str]]:
    """Normalised plaats (woonplaats) name → gemeente names it lies in (postcode lookup)."""
    pc = pd.read_csv(data_dir(root) / "cbs_postcode_lookup_2021.csv")
    pc = pc[pc["postcode"].astype(str).str.len() == 4].dropna(subset=["plaats", "gemeente"])
    out: dict[str, set[str]] = {}
    for plaats, gem in zip(pc["plaats"], pc["gemeente"], strict=True):
        out.setdefault(_norm(plaats), set()).add(gem)
    return out


# --------------------------------------------------------------------------- selection
def select_region(
    query: str | Path,
    buffer_km: float = DEFAULT_BUFFER_KM,
    *,
    root: str | Path | None = None,
) -> Region:
    """Resolve a region query into a :class:`Region`.

    Parameters
    ----------
    query : str or Path
        Gemeente name/code, place name, province, COROP, PC4, bounding box or polygon file
        (see the module docstring).
    buffer_km : float
        Catchment buffer in km (≥ 0). Default :data:`DEFAULT_BUFFER_KM`.
    root : str or Path, optional
        Folder with the bundled lookups (default ``data/raw`` of the repository).

    Returns
    -------
    Region

    Raises
    ------
    InputError
        Unknown name (with "did you mean" suggestions), a bounding box outside the
        Netherlands, an unreadable polygon file or a negative buffer.
    """
    if buffer_km is None or not (buffer_km >= 0) or not math.isfinite(buffer_km):
        raise InputError(None, f"buffer must be a finite number of km ≥ 0, got {buffer_km}",
                         f"pass --buffer-km N (default {DEFAULT_BUFFER_KM:g} km)")
    rootkey = None if root is None else str(root)
    gm = gemeenten(rootkey)
    text = str(query).strip()
    if not text:
        raise InputError(None, "empty region", _HOW)

    kind, name, codes, polygon = _resolve(text, gm, rootkey)
    polygon = shapely.make_valid(polygon)
    if polygon.is_empty or polygon.area <= 0:
        raise InputError(None, f"region {text!r} has no area", "pass a polygon, not a point or line")
    buffered = polygon.buffer(buffer_km * 1000.0) if buffer_km > 0 else polygon
    inside = _overlapping(gm, polygon)
    if kind == "gemeente":
        inside = list(codes)
    catchment = sorted(set(_overlapping(gm, buffered)) | set(inside))
    if not catchment:
        raise InputError(None, f"region {text!r} does not overlap any Dutch gemeente",
                         "pass a region inside the Netherlands")
    provinces = sorted(set(gm.loc[gm["gemeente_code"].isin(catchment), "provincie"].dropna()))
    return Region(
        name=name, slug=slugify(name), kind=kind, polygon=polygon, buffer_km=float(buffer_km),
        buffered=buffered, gemeente_codes=tuple(sorted(inside)),
        catchment_gemeente_codes=tuple(catchment), provinces=tuple(provinces), codes=tuple(codes),
    )


_HOW = ("pass a gemeente name or code (Delft, GM0503), 'provincie Utrecht' or PV26, a COROP "
        "name or CR27, a four-digit postcode, a bounding box 'xmin,ymin,xmax,ymax' (RD metres "
        "or WGS84 lon/lat) or a polygon file")


def _overlapping(gm: gpd.GeoDataFrame, geom: BaseGeometry) -> list[str]:
    idx = gm.sindex.query(geom, predicate="intersects")
    out = []
    for i in idx:
        g = gm.geometry.iloc[i]
        shared = g.intersection(geom).area
        # ≥ 1 % of the gemeente, or ≥ 10 % of a small query area inside a big gemeente
        if shared >= _MIN_SHARE * g.area or shared >= 0.1 * geom.area:
            out.append(gm["gemeente_code"].iloc[i])
    return out


def _union(gm: gpd.GeoDataFrame, mask: pd.Series) -> BaseGeometry:
    return shapely.union_all(gm.geometry[mask].values)


def _resolve(
    text: str, gm: gpd.GeoDataFrame, root: str | None
) -> tuple[str, str, tuple[str, ...], BaseGeometry]:
    # polygon file
    p = Path(text)
    if p.suffix.lower() in {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".parquet", ".gml",
                            ".kml"} or (p.exists() and p.is_file()):
        return ("polygon", p.stem, (), _read_polygon(p))
    # bounding box
    bb = re.fullmatch(r"(?:bbox:)?\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,\s*([-+\d.eE]+)\s*,"
                      r"\s*([-+\d.eE]+)\s*", text, flags=re.IGNORECASE)
    if bb:
        return _bbox(text, [float(v) for v in bb.groups()])
    up = text.upper().replace(" ", "")
    # codes
    if re.fullmatch(r"GM\d{4}", up):
        hit = gm["gemeente_code"] == up
        if not hit.any():
            raise InputError(None, f"unknown gemeente code {up} (2022 division)",
                             "check the code on https://www.cbs.nl/ (gemeentelijke indeling 2022)")
        name = gm.loc[hit, "gemeente_name"].iloc[0]
        return ("gemeente", name, (up,), _union(gm, hit))
    if re.fullmatch(r"PV\d{2}", up):
        if up not in PROVINCES:
            raise InputError(None, f"unknown province code {up}",
                             f"use one of {', '.join(PROVINCES)}")
        return _province(gm, PROVINCES[up])
    if re.fullmatch(r"CR\d{2}", up):
        if up not in COROPS:
            raise InputError(None, f"unknown COROP code {up}", "use CR01 … CR40")
        return _corop(gm, COROPS[up])
    if re.fullmatch(r"\d{4}", up):
        return _pc4(up, root)

    key = _norm(text)
    m = re.fullmatch(r"(?:provincie|province|prov) (.+)", key)
    if m:
        name = _match_name(m.group(1), _province_names())
        if name is None:
            _unknown(text, list(_province_names().values()))
        return _province(gm, name)
    m = re.fullmatch(r"(?:corop|corop gebied|corop region) (.+)", key)
    if m:
        name = _match_name(m.group(1), {_norm(v): v for v in COROPS.values()})
        if name is None:
            _unknown(text, list(COROPS.values()))
        return _corop(gm, name)
    m = re.fullmatch(r"(?:gemeente|municipality) (.+)", key)
    if m:
        key = m.group(1)

    # gemeente name (or alias)
    names = {_norm(n): n for n in gm["gemeente_name"]}
    alias = GEMEENTE_ALIASES.get(key)
    if alias is not None:
        key = _norm(alias)
    if key in names:
        hit = gm["gemeente_name"] == names[key]
        return ("gemeente", names[key], tuple(gm.loc[hit, "gemeente_code"]), _union(gm, hit))
    # province / COROP names without a prefix
    prov = _province_names()
    if key in prov:
        return _province(gm, prov[key])
    corops = {_norm(v): v for v in COROPS.values()}
    if key in corops:
        return _corop(gm, corops[key])
    # a place (woonplaats) inside one gemeente
    places = _places(root)
    if key in places:
        gems = sorted(g for g in places[key] if g in set(gm["gemeente_name"]))
        if len(gems) == 1:
            hit = gm["gemeente_name"] == gems[0]
            return ("gemeente", gems[0], tuple(gm.loc[hit, "gemeente_code"]), _union(gm, hit))
        if gems:
            raise InputError(None, f"place {text!r} lies in several gemeenten: {', '.join(gems)}",
                             "pass one of these gemeente names")
    candidates = (list(gm["gemeente_name"]) + list(PROVINCES.values()) + list(COROPS.values())
                  + sorted({p.title() for p in places}))
    _unknown(text, candidates)
    raise AssertionError("unreachable")  # pragma: no cover


def _province_names() -> dict[str, str]:
    out = {_norm(v): v for v in PROVINCES.values()}
    out.update({_norm(k): v for k, v in PROVINCE_ALIASES.items()})
    return out


def _match_name(key: str, options: dict[str, str]) -> str | None:
    return options.get(_norm(key))


def suggestions(text: str, candidates: list[str], n: int = 3) -> list[str]:
    """Closest names to ``text`` (accent/case-insensitive), best first."""
    normed: dict[str, str] = {}
    for c in candidates:
        normed.setdefault(_norm(c), c)
    close = difflib.get_close_matches(_norm(text), list(normed), n=n, cutoff=0.6)
    return [normed[c] for c in close]


def _unknown(text: str, candidates: list[str]) -> None:
    close = suggestions(text, candidates)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise InputError(None, f"unknown region {text!r}", f"{hint}{_HOW}")


def _province(gm: gpd.GeoDataFrame, name: str) -> tuple[str, str, tuple[str, ...], BaseGeometry]:
    hit = gm["provincie"] == name
    code = {v: k for k, v in PROVINCES.items()}[name]
    return ("provincie", f"provincie {name}", (code,), _union(gm, hit))


def _corop(gm: gpd.GeoDataFrame, name: str) -> tuple[str, str, tuple[str, ...], BaseGeometry]:
    hit = gm["corop"] == name
    code = {v: k for k, v in COROPS.items()}[name]
    if not hit.any():
        raise InputError(None, f"COROP region {name} has no gemeenten in the 2022 lookup",
                         "pass its gemeenten or a polygon file instead")
    return ("corop", name, (code,), _union(gm, hit))


def _pc4(code: str, root: str | None) -> tuple[str, str, tuple[str, ...], BaseGeometry]:
    path = data_dir(root) / "cbs_pc4_2021.parquet"
    pc4 = gpd.read_parquet(path)
    hit = pc4["pc4"].astype("Int64") == int(code)
    if not hit.any():
        raise InputError(path, f"postcode {code} is not a known PC4 area (2021)",
                         "pass an existing four-digit postcode or a gemeente name")
    return ("pc4", f"postcode {code}", (code,), shapely.union_all(pc4.to_crs(CRS).geometry[hit].values))


def _bbox(text: str, v: list[float]) -> tuple[str, str, tuple[str, ...], BaseGeometry]:
    x0, y0, x1, y1 = v
    if not (x1 > x0 and y1 > y0):
        raise InputError(None, f"bounding box {text!r} is empty or inverted",
                         "pass xmin,ymin,xmax,ymax with xmax > xmin and ymax > ymin")
    if all(abs(c) <= 180 for c in v):
        lo = _NL_WGS84
        if not (x0 >= lo[0] - 1 and x1 <= lo[2] + 1 and y0 >= lo[1] - 1 and y1 <= lo[3] + 1):
            raise InputError(None, f"WGS84 bounding box {text!r} lies outside the Netherlands",
                             "pass lon_min,lat_min,lon_max,lat_max (longitude first), e.g. "
                             "4.32,51.96,4.41,52.03 for Delft")
        geom = gpd.GeoSeries([box(x0, y0, x1, y1).segmentize(0.01)], crs=WGS84).to_crs(CRS).iloc[0]
        name = "bbox " + "_".join(f"{c:.3f}" for c in v)
    else:
        lo = _RD_EXTENT
        if not (x0 >= lo[0] and x1 <= lo[2] and y0 >= lo[1] and y1 <= lo[3]):
            raise InputError(None, f"RD bounding box {text!r} lies outside the RD New extent",
                             "pass metres in EPSG:28992 (x 0–300000, y 300000–625000), e.g. "
                             "80000,443000,90000,452000 for Delft")
        geom = box(x0, y0, x1, y1)
        name = "bbox " + "_".join(f"{c:.0f}" for c in v)
    return ("bbox", name, (), geom)


def _read_polygon(path: Path) -> BaseGeometry:
    if not path.exists():
        raise InputError(path, "polygon file not found", "check the path")
    try:
        gdf = gpd.read_parquet(path) if path.suffix.lower() == ".parquet" else gpd.read_file(path)
    except Exception as exc:  # any reader failure is an input problem
        raise InputError(path, f"cannot read the polygon file ({exc})",
                         "pass a GeoPackage, GeoJSON or shapefile with polygons") from None
    if gdf.crs is None:
        raise InputError(path, "polygon file has no CRS",
                         "save it with a CRS (EPSG:28992 or EPSG:4326)")
    gdf = gdf[gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if gdf.empty:
        raise InputError(path, "polygon file holds no polygons", "pass a file with polygon features")
    return shapely.union_all(gdf.to_crs(CRS).geometry.values)
