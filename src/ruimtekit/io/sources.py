"""Source catalogue and downloaders for the real open-data inputs of a Dutch region.

Each source has a catalogue entry (:data:`CATALOGUE`: endpoint, licence, attribution,
documentation) and a function that produces cache entries under the region's cache folder
(see :mod:`ruimtekit.io._download` for the cache, checksums and retries):

========== ====================================================== =====================
name       what                                                   cache entry
========== ====================================================== =====================
cbs        CBS wijk- en buurtkaart, buurt polygons (PDOK OGC API  ``cbs/buurten_<year>.gpkg``
           Features, paged GeoJSON; or the PDOK/CBS zip download)
statline   CBS Kerncijfers wijken en buurten (StatLine OData v3,  ``statline/<table>.csv``
           paged JSON with ``odata.nextLink``)
bag        BAG verblijfsobjecten (PDOK BAG OGC API Features)      ``bag/verblijfsobject.gpkg``
osm        OpenStreetMap: Geofabrik province extracts (PBF) or    ``osm/<province>-latest.osm.pbf``
           Overpass via osmnx for small regions                   or ``osm/overpass_<mode>.graphml``
gtfs       GTFS-NL timetable (OVapi zip)                          ``gtfs/gtfs-nl.zip``
ns         Railway stations: NS API (key in ``NS_API_KEY``) or    ``ns/stations-2023-09.csv`` /
           the keyless Rijden de Treinen stations CSV             ``ns/ns_api_stations.json``
========== ====================================================== =====================

Base URLs are overridable per source with the environment variable
``RUIMTEKIT_SOURCE_BASE_URL_<NAME>`` (e.g. ``RUIMTEKIT_SOURCE_BASE_URL_CBS``) or the
``base_urls`` argument; ``{year}`` in a base URL is replaced by the requested year.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import geopandas as gpd
import pandas as pd
import shapely

from ruimtekit import CRS, _io, defaults
from ruimtekit._errors import InputError
from ruimtekit.io._download import CacheEntry, Downloader, Provenance, md5_file, request_key
from ruimtekit.io.regions import GEOFABRIK_SLUGS, WGS84, Region

log = logging.getLogger(__name__)

SOURCE_NAMES = ("cbs", "statline", "bag", "osm", "gtfs", "ns")
"""Sources fetched by default, in order."""


@dataclass(frozen=True)
class SourceInfo:
    """A catalogue entry.

    Attributes
    ----------
    name : str
        Short name (``cbs``, ``statline``, ...); also the env-var suffix.
    title : str
        Human-readable title.
    base_url : str
        Default endpoint (``{year}`` is replaced by the requested year).
    licence : str
        Licence of the data.
    attribution : str
        Attribution to show on maps and reports.
    publisher : str
        Who publishes it.
    docs : str
        Where the format is documented.
    """

    name: str
    title: str
    base_url: str
    licence: str
    attribution: str
    publisher: str
    docs: str

    def provenance(self) -> Provenance:
        """The :class:`~ruimtekit.io._download.Provenance` record of this source."""
        return Provenance(self.name, self.title, self.licence, self.attribution)


CATALOGUE: dict[str, SourceInfo] = {
    s.name: s
    for s in (
        SourceInfo(
            "cbs", "CBS wijk- en buurtkaart (buurt polygons)",
            "https://api.pdok.nl/cbs/wijken-en-buurten-{year}/ogc/v1",
            "CC BY 4.0", "Bron: CBS, Kadaster (PDOK)", "CBS / Kadaster via PDOK",
            "https://api.pdok.nl/cbs/wijken-en-buurten-2023/ogc/v1?f=html"),
        SourceInfo(
            "cbs_zip", "CBS wijk- en buurtkaart (GeoPackage download)",
            "https://geodata.cbs.nl/files/Wijkenbuurtkaart",
            "CC BY 4.0", "Bron: CBS, Kadaster", "CBS",
            "https://www.cbs.nl/nl-nl/dossier/nederland-regionaal/geografische-data/"
            "wijk-en-buurtkaart-2023"),
        SourceInfo(
            "statline", "CBS StatLine Kerncijfers wijken en buurten",
            "https://opendata.cbs.nl/ODataApi/odata",
            "CC BY 4.0", "Bron: CBS", "CBS (Statistics Netherlands)",
            "https://www.cbs.nl/nl-nl/onze-diensten/open-data/statline-als-open-data"),
        SourceInfo(
            "bag", "BAG verblijfsobjecten",
            "https://api.pdok.nl/kadaster/bag/ogc/v2",
            "CC0 1.0", "Bron: Kadaster, Basisregistratie Adressen en Gebouwen (BAG)",
            "Kadaster via PDOK", "https://api.pdok.nl/kadaster/bag/ogc/v2?f=html"),
        SourceInfo(
            "osm", "OpenStreetMap (Geofabrik province extract)",
            "https://download.geofabrik.de/europe/netherlands",
            "ODbL 1.0", "© OpenStreetMap contributors", "OpenStreetMap Foundation; extracts "
            "by Geofabrik GmbH", "https://download.geofabrik.de/europe/netherlands.html"),
        SourceInfo(
            "overpass", "OpenStreetMap (Overpass API via osmnx)",
            "https://overpass-api.de/api",
            "ODbL 1.0", "© OpenStreetMap contributors", "OpenStreetMap Foundation",
            "https://wiki.openstreetmap.org/wiki/Overpass_API"),
        SourceInfo(
            "gtfs", "GTFS-NL public-transport timetable",
            "http://gtfs.ovapi.nl/nl",
            "open data (NDOV Loket / operators via OVapi; terms to verify before "
            "redistribution)", "Bron: OVapi, NDOV Loket", "OVapi / NDOV Loket",
            "http://gtfs.ovapi.nl/"),
        SourceInfo(
            "ns", "Railway stations (Rijden de Treinen)",
            "https://opendata.rijdendetreinen.nl/public/stations",
            "CC BY 4.0", "Rijden de Treinen", "Rijden de Treinen",
            "https://www.rijdendetreinen.nl/en/open-data/stations"),
        SourceInfo(
            "nsapi", "Railway stations (NS API, key required)",
            "https://gateway.apiportal.ns.nl/reisinformatie-api/api/v2",
            "NS API terms of use", "Bron: NS", "Nederlandse Spoorwegen",
            "https://apiportal.ns.nl/"),
    )
}
"""All sources by name."""

KWB_TABLES: dict[int, str] = {
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
}
"""StatLine table id of *Kerncijfers wijken en buurten* per year."""

NS_STATIONS_FILE = "stations-2023-09.csv"
GTFS_FILE = "gtfs-nl.zip"

# column requirements (schema checks name what is missing and what was found)
CBS_REQUIRED = ("buurtcode", "buurtnaam", "gemeentecode")
STATLINE_REQUIRED = ("WijkenEnBuurten", "SoortRegio", "AantalInwoners")
BAG_REQUIRED = ("identificatie", "gebruiksdoel", "oppervlakte")
NS_REQUIRED = ("code", "name_long", "type", "geo_lat", "geo_lng")
GTFS_REQUIRED = {
    "stops.txt": ("stop_id", "stop_name", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
}


def base_url(name: str, year: int | None = None,
             base_urls: Mapping[str, str] | None = None) -> str:
    """Endpoint of source ``name``: argument, ``RUIMTEKIT_SOURCE_BASE_URL_<NAME>``, default.

    Parameters
    ----------
    name : str
        Catalogue name.
    year : int, optional
        Replaces ``{year}`` in the URL.
    base_urls : mapping, optional
        Overrides by source name.

    Returns
    -------
    str
        Base URL without a trailing slash.
    """
    if name not in CATALOGUE:
        raise InputError(None, f"unknown source {name!r}",
                         f"use one of {', '.join(CATALOGUE)}")
    url = (base_urls or {}).get(name) or os.environ.get(
        f"RUIMTEKIT_SOURCE_BASE_URL_{name.upper()}") or CATALOGUE[name].base_url
    if "{year}" in url:
        if year is None:
            raise InputError(None, f"source {name} needs a year", "pass --year, e.g. 2023")
        url = url.replace("{year}", str(int(year)))
    return url.rstrip("/")


def schema_error(prov: Provenance, where: str, missing: Sequence[str],
                 found: Sequence[str], path: str | Path | None = None) -> InputError:
    """The error for a source whose columns changed."""
    shown = ", ".join(list(found)[:40]) + (" …" if len(found) > 40 else "")
    return InputError(
        path, f"{prov.title} ({prov.source}) changed its schema at {where}: missing column(s) "
              f"{', '.join(missing)}; columns found: {shown or '(none)'}",
        "the publisher renamed or dropped fields; update the column names in "
        "ruimtekit.io.sources (or pick another --year) and report it to the ruimtekit developers")


def require_columns(prov: Provenance, where: str, found: Sequence[str],
                    required: Sequence[str], path: str | Path | None = None) -> None:
    """Raise :func:`schema_error` when a required column is missing from ``found``."""
    missing = [c for c in required if c not in found]
    if missing:
        raise schema_error(prov, where, missing, list(found), path)


# --------------------------------------------------------------------------- OGC API Features
def ogc_items(dl: Downloader, prov: Provenance, url: str, params: Mapping[str, Any],
              max_pages: int = 100_000) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """All features of an OGC API Features ``/items`` request, following ``rel=next`` links.

    Parameters
    ----------
    dl : Downloader
        HTTP client.
    prov : Provenance
        Source record (for messages).
    url : str
        The ``.../collections/<id>/items`` URL.
    params : mapping
        First-page query parameters (``f``, ``limit``, ``bbox`` ...).
    max_pages : int
        Safety bound on the number of pages.

    Returns
    -------
    features : list of dict
        GeoJSON features of all pages.
    info : dict
        ``pages``, ``number_matched`` (when the server reports it), ``first_url``.

    Raises
    ------
    InputError
        Not a FeatureCollection, a repeating ``next`` link, or fewer features than the
        reported ``numberMatched``.
    """
    features: list[dict[str, Any]] = []
    seen: set[str] = set()
    next_url: str | None = url
    next_params: Mapping[str, Any] | None = params
    pages = 0
    matched = None
    while next_url:
        doc = dl.get_json(prov, next_url, next_params)
        pages += 1
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise InputError(None, f"{prov.title}: {next_url} did not return a GeoJSON "
                                   "FeatureCollection", "check the collection URL and f=json")
        features.extend(doc.get("features") or [])
        if matched is None and isinstance(doc.get("numberMatched"), int):
            matched = doc["numberMatched"]
        nxt = next((lk.get("href") for lk in doc.get("links") or []
                    if lk.get("rel") == "next" and lk.get("href")), None)
        if nxt is not None:
            nxt = urljoin(next_url, nxt)
            if nxt in seen or pages >= max_pages:
                raise InputError(None, f"{prov.title}: paging does not end (next link {nxt} "
                                       f"after {pages} pages)",
                                 "the server's paging is broken; try again later")
            seen.add(nxt)
        next_url, next_params = nxt, None
    if matched is not None and len(features) < matched:
        raise InputError(None, f"{prov.title}: received {len(features)} features but the server "
                               f"reported numberMatched={matched} for {url}",
                         "paging stopped early; fetch again")
    return features, {"pages": pages, "number_matched": matched, "first_url": url}


def _features_to_gdf(features: list[dict[str, Any]], crs: str = WGS84) -> gpd.GeoDataFrame:
    if not features:
        return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs))
    gdf = gpd.GeoDataFrame.from_features(features, crs=crs)
    ids = [f.get("id") for f in features]
    if any(i is not None for i in ids) and "feature_id" not in gdf.columns:
        gdf.insert(0, "feature_id", [None if i is None else str(i) for i in ids])
    return gdf


def _write_gpkg(gdf: gpd.GeoDataFrame, target: Path, layer: str) -> None:
    with _io.atomic_path(target) as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG")


# --------------------------------------------------------------------------- cbs
def fetch_cbs_buurten(dl: Downloader, region: Region, year: int = defaults.DATA_YEAR, *,
                      base_urls: Mapping[str, str] | None = None,
                      limit: int = 1000) -> CacheEntry:
    """CBS buurt polygons of the buffered catchment from the PDOK OGC API Features.

    Pages through ``<base>/collections/buurten/items?f=json&limit=<limit>&bbox=<WGS84>``,
    keeps buurten intersecting the buffered region, and writes them with their original
    properties to ``cbs/buurten_<year>.gpkg`` (layer ``buurten``, EPSG:28992).

    Returns
    -------
    CacheEntry
    """
    info = CATALOGUE["cbs"]
    prov = info.provenance()
    url = f"{base_url('cbs', year, base_urls)}/collections/buurten/items"
    bbox = ",".join(f"{v:.6f}" for v in region.bbox_wgs84)
    params = {"f": "json", "limit": int(limit), "bbox": bbox}
    rel = f"cbs/buurten_{year}.gpkg"
    req = request_key(url, params, region=region.to_dict()["polygon_wkt"], buffer=region.buffer_km)
    if not dl.refresh and (hit := dl.cached(rel, req)) is not None:
        return hit
    if dl.offline:
        raise dl.offline_missing(rel, prov, url)
    features, pinfo = ogc_items(dl, prov, url, params)
    gdf = _features_to_gdf(features)
    require_columns(prov, url, list(gdf.columns), CBS_REQUIRED)
    gdf = gdf.to_crs(CRS)
    gdf = gdf[gdf.geometry.notna() & gdf.intersects(region.buffered)].reset_index(drop=True)
    if gdf.empty:
        raise InputError(None, f"{prov.title}: no buurten intersect the region {region.name} "
                               f"(bbox {bbox})", "check the region and the --year")
    _write_gpkg(gdf, dl.path(rel), "buurten")
    return dl.record(rel, prov, url=url, request=req, columns=list(gdf.columns),
                     extra={"params": params, "year": year, "features": len(gdf), **pinfo,
                            "crs": CRS})


def fetch_cbs_buurten_zip(dl: Downloader, region: Region, year: int = defaults.DATA_YEAR, *,
                          version: str = "v1", base_urls: Mapping[str, str] | None = None,
                          url: str | None = None) -> CacheEntry:
    """CBS buurt polygons from the national wijk- en buurtkaart GeoPackage zip.

    Downloads ``<base>/WijkBuurtkaart_<year>_<version>.zip`` (resumable; cached as
    ``cbs/WijkBuurtkaart_<year>_<version>.zip``), reads layer ``buurten`` from the GeoPackage
    inside (read in place, never extracted to disk), clips it to the buffered region and
    writes ``cbs/buurten_<year>.gpkg`` like :func:`fetch_cbs_buurten` (CBS column names such
    as ``buurtcode``/``bu_code`` are kept as published).

    Returns
    -------
    CacheEntry
    """
    prov = CATALOGUE["cbs_zip"].provenance()
    name = f"WijkBuurtkaart_{year}_{version}.zip"
    url = url or f"{base_url('cbs_zip', year, base_urls)}/{name}"
    zrel = f"cbs/{name}"

    def check(p: Path) -> list[str]:
        try:
            with zipfile.ZipFile(p) as z:
                members = [m for m in z.namelist() if m.lower().endswith(".gpkg")]
        except zipfile.BadZipFile:
            raise InputError(p, f"{prov.title}: {url} is not a zip file",
                             "the download is corrupt or the URL points to an HTML page") from None
        if not members:
            raise InputError(p, f"{prov.title}: no GeoPackage inside {name}",
                             "check the download URL/version")
        return members

    z = dl.download(prov, url, zrel, validate=check)
    rel = f"cbs/buurten_{year}.gpkg"
    req = request_key(url, None, sha=z.sha256, region=region.to_dict()["polygon_wkt"],
                      buffer=region.buffer_km)
    if not dl.refresh and (hit := dl.cached(rel, req)) is not None:
        return hit
    with zipfile.ZipFile(z.path) as zf:
        member = next(m for m in zf.namelist() if m.lower().endswith(".gpkg"))
        if member.startswith("/") or ".." in Path(member).parts:
            raise InputError(z.path, f"unsafe member name {member!r} in the zip",
                             "download the file from the official source")
        _io.check_zip_member(zf, member, z.path)  # size and compression-ratio bounds
    import pyogrio

    vsi = f"/vsizip/{z.path.resolve()}/{member}"
    layers = [lyr[0] for lyr in pyogrio.list_layers(vsi)]
    layer = next((x for x in layers if "buurt" in x.lower()), None)
    if layer is None:
        raise schema_error(prov, f"{name}!{member}", ["layer buurten"], layers, z.path)
    b = region.buffered
    gdf = gpd.read_file(vsi, layer=layer)
    gdf = gdf.to_crs(CRS) if gdf.crs is not None else gdf.set_crs(CRS)
    gdf = gdf[gdf.intersects(b)].reset_index(drop=True)
    gdf.columns = [c.lower() if c != "geometry" else c for c in gdf.columns]
    gdf = gdf.rename(columns={"bu_code": "buurtcode", "bu_naam": "buurtnaam",
                              "gm_code": "gemeentecode", "gm_naam": "gemeentenaam",
                              "wk_code": "wijkcode"}).set_geometry("geometry")
    require_columns(prov, f"{name}!{member}:{layer}", list(gdf.columns), CBS_REQUIRED, z.path)
    _write_gpkg(gdf, dl.path(rel), "buurten")
    return dl.record(rel, prov, url=url, request=req, columns=list(gdf.columns),
                     extra={"year": year, "features": len(gdf), "zip_sha256": z.sha256,
                            "zip_member": member, "layer": layer, "crs": CRS})


# --------------------------------------------------------------------------- statline
def statline_rows(dl: Downloader, prov: Provenance, url: str,
                  params: Mapping[str, Any] | None, max_pages: int = 10_000
                  ) -> tuple[list[dict[str, Any]], int]:
    """All rows of a StatLine OData v3/v4 query, following ``odata.nextLink``.

    Returns
    -------
    rows : list of dict
    pages : int
    """
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    next_params = params
    pages = 0
    seen: set[str] = set()
    while next_url:
        doc = dl.get_json(prov, next_url, next_params)
        pages += 1
        if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
            raise InputError(None, f"{prov.title}: {next_url} is not an OData JSON answer "
                                   "(no 'value' list)", "check the table id and the URL")
        rows.extend(doc["value"])
        nxt = doc.get("odata.nextLink") or doc.get("@odata.nextLink")
        if nxt:
            nxt = urljoin(next_url, nxt)
            if nxt in seen or pages >= max_pages:
                raise InputError(None, f"{prov.title}: OData paging does not end at {nxt}",
                                 "the server's paging is broken; try again later")
            seen.add(nxt)
        next_url, next_params = nxt, None
    return rows, pages


def statline_base_name(column: str) -> str:
    """StatLine column without its ordinal suffix: ``AantalInwoners_5`` → ``AantalInwoners``."""
    return re.sub(r"_\d+$", "", column)


def fetch_statline_kwb(dl: Downloader, region: Region, year: int = defaults.DATA_YEAR, *,
                       table: str | None = None, base_urls: Mapping[str, str] | None = None,
                       chunk: int = 10) -> CacheEntry:
    """CBS *Kerncijfers wijken en buurten* rows (gemeente, wijk, buurt) for the catchment.

    Queries ``<base>/<table>/TypedDataSet?$format=json&$filter=startswith(WijkenEnBuurten,
    'GM0503') or startswith(WijkenEnBuurten,'WK0503') or startswith(WijkenEnBuurten,
    'BU0503') or ...`` in chunks of ``chunk`` gemeenten, follows ``odata.nextLink`` and writes
    ``statline/<table>.csv`` (original column names, text values stripped).

    Parameters
    ----------
    table : str, optional
        Table id; default from :data:`KWB_TABLES` for ``year``.

    Returns
    -------
    CacheEntry
    """
    info = CATALOGUE["statline"]
    prov = info.provenance()
    if table is None:
        if year not in KWB_TABLES:
            raise InputError(None, f"no Kerncijfers wijken en buurten table known for {year}",
                             f"use --year in {min(KWB_TABLES)}–{max(KWB_TABLES)}")
        table = KWB_TABLES[year]
    url = f"{base_url('statline', year, base_urls)}/{table}/TypedDataSet"
    codes = [c[2:] for c in region.catchment_gemeente_codes]
    rel = f"statline/{table}.csv"
    req = request_key(url, {"gemeenten": codes})
    if not dl.refresh and (hit := dl.cached(rel, req)) is not None:
        return hit
    if dl.offline:
        raise dl.offline_missing(rel, prov, url)
    rows: list[dict[str, Any]] = []
    pages = 0
    for i in range(0, len(codes), chunk):
        part = codes[i:i + chunk]
        flt = " or ".join(f"startswith(WijkenEnBuurten,'{p}{c}')"
                          for c in part for p in ("GM", "WK", "BU"))
        got, n = statline_rows(dl, prov, url, {"$format": "json", "$filter": flt})
        rows.extend(got)
        pages += n
    df = pd.DataFrame(rows)
    bases = [statline_base_name(c) for c in df.columns]
    require_columns(prov, url, bases, STATLINE_REQUIRED)
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].astype("string").str.strip()
    with _io.atomic_path(dl.path(rel)) as tmp:
        df.to_csv(tmp, index=False)
    return dl.record(rel, prov, url=url, request=req, columns=list(df.columns),
                     extra={"table": table, "year": year, "rows": len(df), "pages": pages,
                            "gemeenten": region.catchment_gemeente_codes})


# --------------------------------------------------------------------------- bag
def fetch_bag_verblijfsobjecten(dl: Downloader, region: Region, *,
                                base_urls: Mapping[str, str] | None = None,
                                limit: int = 1000) -> CacheEntry:
    """BAG verblijfsobjecten (points) of the study area (no buffer) from the PDOK BAG OGC API.

    Pages through ``<base>/collections/verblijfsobject/items?f=json&limit=..&bbox=..`` and
    writes every object inside the study-area polygon with its original properties
    (``identificatie``, ``gebruiksdoel``, ``oppervlakte`` in m², ``status``, ...) to
    ``bag/verblijfsobject.gpkg`` (EPSG:28992).

    Returns
    -------
    CacheEntry
    """
    prov = CATALOGUE["bag"].provenance()
    url = f"{base_url('bag', None, base_urls)}/collections/verblijfsobject/items"
    bbox = ",".join(f"{v:.6f}" for v in region.core_bbox_wgs84)
    params = {"f": "json", "limit": int(limit), "bbox": bbox}
    rel = "bag/verblijfsobject.gpkg"
    req = request_key(url, params, region=region.to_dict()["polygon_wkt"])
    if not dl.refresh and (hit := dl.cached(rel, req)) is not None:
        return hit
    if dl.offline:
        raise dl.offline_missing(rel, prov, url)
    features, pinfo = ogc_items(dl, prov, url, params)
    gdf = _features_to_gdf(features)
    if "gebruiksdoel" not in gdf.columns and "gebruiksdoelen" in gdf.columns:
        gdf = gdf.rename(columns={"gebruiksdoelen": "gebruiksdoel"})
    require_columns(prov, url, list(gdf.columns), BAG_REQUIRED)
    for c in gdf.columns:  # list-valued properties (e.g. several gebruiksdoelen) → text
        if c != "geometry" and gdf[c].map(lambda v: isinstance(v, (list, dict))).any():
            gdf[c] = gdf[c].map(lambda v: ",".join(map(str, v)) if isinstance(v, list)
                                else (json.dumps(v) if isinstance(v, dict) else v))
    gdf = gdf.to_crs(CRS)
    gdf["geometry"] = gdf.geometry.representative_point()
    gdf = gdf[gdf.within(region.polygon)].reset_index(drop=True)
    _write_gpkg(gdf, dl.path(rel), "verblijfsobject")
    return dl.record(rel, prov, url=url, request=req, columns=list(gdf.columns),
                     extra={"params": params, "features": len(gdf), **pinfo, "crs": CRS})


# --------------------------------------------------------------------------- osm
def fetch_osm_geofabrik(dl: Downloader, region: Region, *,
                        base_urls: Mapping[str, str] | None = None) -> list[CacheEntry]:
    """Geofabrik province extracts (``<province>-latest.osm.pbf``) covering the catchment.

    Each file is downloaded resumably and checked against the publisher's ``.md5`` file
    (when it is published); the MD5 is recorded in the metadata.

    Returns
    -------
    list of CacheEntry
        One per province.
    """
    prov = CATALOGUE["osm"].provenance()
    base = base_url("osm", None, base_urls)
    out = []
    for province in region.provinces:
        slug = GEOFABRIK_SLUGS[province]
        name = f"{slug}-latest.osm.pbf"
        url = f"{base}/{name}"
        rel = f"osm/{name}"
        hit = None if dl.refresh else dl.cached(rel, request_key(url, None))
        if hit is not None:
            out.append(hit)
            continue
        if dl.offline:
            raise dl.offline_missing(rel, prov, url)
        md5 = _geofabrik_md5(dl, prov, url + ".md5")

        def check(p: Path, md5: str | None = md5, url: str = url) -> list[str] | None:
            with open(p, "rb") as fh:
                head = fh.read(16)
            if b"OSMHeader" not in head:
                raise InputError(p, f"{prov.title}: {url} is not an OSM PBF file",
                                 "check the URL (it may have returned an HTML page)")
            if md5 is not None and md5_file(p) != md5:
                p.unlink(missing_ok=True)
                raise InputError(p, f"{prov.title}: checksum mismatch for {url}: the MD5 "
                                    f"published in {url}.md5 is {md5}, the download has "
                                    f"{md5_file(p) if p.exists() else 'another'}",
                                 "fetch again (Geofabrik may have replaced the file meanwhile)")
            return None

        out.append(dl.download(prov, url, rel, validate=check,
                               extra={"province": province, "md5": md5}))
    return out


def _geofabrik_md5(dl: Downloader, prov: Provenance, url: str) -> str | None:
    try:
        resp = dl._request(prov, url, None, None, stream=False)
    except InputError as exc:
        log.warning("osm: no MD5 file (%s); the extract is not MD5-checked", exc.problem)
        return None
    m = re.match(r"\s*([0-9a-fA-F]{32})\b", resp.text)
    return m.group(1).lower() if m else None


def fetch_osm_overpass(dl: Downloader, region: Region, mode: str = "bike", *,
                       base_urls: Mapping[str, str] | None = None) -> CacheEntry:
    """A street network of the buffered region from the Overpass API via osmnx (GraphML).

    Uses ``osmnx.graph_from_polygon`` (``network_type`` walk/bike/drive, simplified) with
    ``osmnx.settings.overpass_url`` set to the ``overpass`` base URL and writes
    ``osm/overpass_<mode>.graphml`` (WGS84, osmnx attributes). Suitable for small regions;
    use the Geofabrik extracts for large catchments.

    Returns
    -------
    CacheEntry
    """
    import osmnx as ox

    prov = CATALOGUE["overpass"].provenance()
    url = base_url("overpass", None, base_urls)
    network_type = {"walk": "walk", "bike": "bike", "ebike": "bike", "car": "drive"}.get(mode)
    if network_type is None:
        raise InputError(None, f"unknown mode {mode!r} for Overpass", "use walk, bike or car")
    rel = f"osm/overpass_{mode}.graphml"
    req = request_key(url, {"network_type": network_type},
                      region=region.to_dict()["polygon_wkt"], buffer=region.buffer_km)
    if not dl.refresh and (hit := dl.cached(rel, req)) is not None:
        return hit
    if dl.offline:
        raise dl.offline_missing(rel, prov, url)
    poly = gpd.GeoSeries([region.buffered], crs=CRS).to_crs(WGS84).iloc[0]
    saved = (ox.settings.overpass_url, ox.settings.overpass_rate_limit, ox.settings.use_cache,
             ox.settings.requests_timeout, ox.settings.log_console)
    try:
        ox.settings.overpass_url = url
        ox.settings.overpass_rate_limit = False
        ox.settings.use_cache = False
        ox.settings.requests_timeout = int(dl.timeout_s)
        ox.settings.log_console = False
        last: Exception | None = None
        for attempt in range(dl.max_attempts):
            try:
                g = ox.graph_from_polygon(poly, network_type=network_type, simplify=True,
                                          retain_all=False)
                break
            except Exception as exc:  # osmnx raises several types for HTTP/empty answers
                last = exc
                log.warning("overpass: %s (attempt %d/%d)", exc, attempt + 1, dl.max_attempts)
                if attempt + 1 < dl.max_attempts:
                    dl._backoff(attempt)
        else:
            raise InputError(None, f"{prov.title}: Overpass request to {url} failed "
                                   f"({last.__class__.__name__}: {last})",
                             "try again later, or use the Geofabrik extract (--osm-method "
                             "geofabrik)")
    finally:
        (ox.settings.overpass_url, ox.settings.overpass_rate_limit, ox.settings.use_cache,
         ox.settings.requests_timeout, ox.settings.log_console) = saved
    target = dl.path(rel)
    with _io.atomic_path(target) as tmp:
        ox.save_graphml(g, tmp)
    return dl.record(rel, prov, url=url, request=req, columns=None,
                     extra={"network_type": network_type, "nodes": g.number_of_nodes(),
                            "edges": g.number_of_edges(), "crs": WGS84})


# --------------------------------------------------------------------------- gtfs
def check_gtfs(path: Path, prov: Provenance | None = None) -> list[str]:
    """Check a GTFS zip: required files and columns; returns ``file:column`` entries found."""
    prov = prov or CATALOGUE["gtfs"].provenance()
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(path, f"{prov.title}: not a zip file",
                         "the download is corrupt or the URL returned an HTML page") from None
    with zf:
        names = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
        missing_files = [f for f in GTFS_REQUIRED if f not in names]
        if not ({"calendar.txt", "calendar_dates.txt"} & set(names)):
            missing_files.append("calendar.txt or calendar_dates.txt")
        if missing_files:
            raise schema_error(prov, str(path.name), missing_files, sorted(names), path)
        found: list[str] = []
        for fname, cols in GTFS_REQUIRED.items():
            with zf.open(names[fname]) as fh:
                header = fh.readline().decode("utf-8-sig").strip()
            have = [c.strip().strip('"') for c in next(csv.reader([header]))] if header else []
            require_columns(prov, f"{path.name}!{fname}", have, cols, path)
            found += [f"{fname}:{c}" for c in have]
    return found


def fetch_gtfs(dl: Downloader, *, base_urls: Mapping[str, str] | None = None,
               expected_sha256: str | None = None) -> CacheEntry:
    """The national GTFS-NL feed (``<base>/gtfs-nl.zip``), resumable and schema-checked.

    Returns
    -------
    CacheEntry
    """
    prov = CATALOGUE["gtfs"].provenance()
    url = f"{base_url('gtfs', None, base_urls)}/{GTFS_FILE}"
    entry = dl.download(prov, url, f"gtfs/{GTFS_FILE}", validate=lambda p: check_gtfs(p, prov),
                        expected_sha256=expected_sha256)
    return entry


# --------------------------------------------------------------------------- ns
def fetch_ns_stations(dl: Downloader, *, base_urls: Mapping[str, str] | None = None,
                      api_key: str | None = None) -> CacheEntry:
    """Railway stations: the NS API when a key is given (or ``NS_API_KEY`` is set), else the
    keyless Rijden de Treinen CSV (``<base>/stations-2023-09.csv``).

    Returns
    -------
    CacheEntry
        ``ns/stations-2023-09.csv`` or ``ns/ns_api_stations.json``.
    """
    key = api_key if api_key is not None else os.environ.get("NS_API_KEY")
    if key:
        prov = CATALOGUE["nsapi"].provenance()
        url = f"{base_url('nsapi', None, base_urls)}/stations"

        def check_api(p: Path) -> list[str]:
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
            except ValueError:
                raise InputError(p, f"{prov.title}: answer is not JSON", "check the key/URL") \
                    from None
            items = doc.get("payload") if isinstance(doc, dict) else None
            if not isinstance(items, list) or not items:
                raise schema_error(prov, url, ["payload"], list(doc) if isinstance(doc, dict)
                                   else [], p)
            cols = sorted({k for it in items for k in it})
            require_columns(prov, url, cols, ("code", "namen", "lat", "lng", "stationType"), p)
            return cols

        return dl.download(prov, url, "ns/ns_api_stations.json", validate=check_api,
                           headers={"Ocp-Apim-Subscription-Key": key})
    prov = CATALOGUE["ns"].provenance()
    url = f"{base_url('ns', None, base_urls)}/{NS_STATIONS_FILE}"

    def check_csv(p: Path) -> list[str]:
        with open(p, encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(io.StringIO(fh.readline())), [])
        require_columns(prov, url, header, NS_REQUIRED, p)
        return header

    return dl.download(prov, url, f"ns/{NS_STATIONS_FILE}", validate=check_csv)


def clip_points(gdf: gpd.GeoDataFrame, geom: shapely.Geometry) -> gpd.GeoDataFrame:
    """Rows of ``gdf`` (EPSG:28992) whose geometry lies inside ``geom``."""
    return gdf[gdf.within(geom)].reset_index(drop=True)
