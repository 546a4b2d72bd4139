"""``ruimtekit fetch``: get, cache and version the real inputs for any Dutch region.

Starting from an empty folder and a region name, :func:`fetch_region`

1. resolves the region and its buffered catchment (:mod:`ruimtekit.io.regions`);
2. downloads each source into the cache ``data/raw/<region>/`` with checksums and
   metadata records (:mod:`ruimtekit.io.sources`, :mod:`ruimtekit.io._download`);
3. derives canonical layers (EPSG:28992, canonical column names):

   * ``zones_buurt.gpkg`` (layer ``zones``): CBS buurt polygons of the catchment joined to
     the StatLine *Kerncijfers wijken en buurten* (``zone_id``, ``zone_name``, ``population``,
     ``households``, ``dwellings``, ``establishments``, ``address_density``, ``urbanity``,
     ``area_ha``, ``land_area_ha``, ``woz_keur``, ``gemeente_code``, ``wijk_code``,
     ``in_study_area``; CBS sentinels → NaN);
   * ``bag_kantoor_winkel.gpkg`` (layer ``vacancy``): BAG offices and shops of the study
     area in the vacancy-input format **without vacancy dates** (``object_id``,
     ``function``, ``floor_area_m2``, ``synthetic`` = False; BAG has no vacancy);
   * ``stations.gpkg`` (layer ``stations``): railway stations in the catchment
     (``station_id``, ``station_name``, ``station_type``);
   * ``osm/<region>_catchment.osm.pbf``: the highway ways of the province extract(s)
     clipped to the catchment's bounding box (one file, whatever the provinces);

4. writes ``study.yaml`` next to them (paths relative to it) for ``ruimtekit run`` and a
   ``fetch_manifest.json`` (region, sources, files, checksums, licences).
"""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from ruimtekit import CRS, __version__, _io, defaults
from ruimtekit._errors import InputError
from ruimtekit.io import regions, sources
from ruimtekit.io._download import CacheEntry, Downloader, Provenance, request_key, utc_now

log = logging.getLogger(__name__)

OVERPASS_MAX_KM2 = defaults.OVERPASS_MAX_KM2
"""``osm_method="auto"`` uses Overpass when the buffered catchment is at most this (km²)."""

STATLINE_TO_CANONICAL: dict[str, str] = {
    "AantalInwoners": "population",
    "HuishoudensTotaal": "households",
    "Woningvoorraad": "dwellings",
    "BedrijfsvestigingenTotaal": "establishments",
    "Omgevingsadressendichtheid": "address_density",
    "MateVanStedelijkheid": "urbanity",
    "OppervlakteTotaal": "area_ha",
    "OppervlakteLand": "land_area_ha",
    "GemiddeldeWOZWaardeVanWoningen": "woz_keur",
    "GemiddeldeWoningwaarde": "woz_keur",
}
"""StatLine KWB column (ordinal suffix removed) → canonical zone column."""

PDOK_TO_CANONICAL: dict[str, str] = {
    "aantal_inwoners": "population",
    "aantal_huishoudens": "households",
    "woningvoorraad": "dwellings",
    "bedrijfsvestigingen_totaal": "establishments",
    "omgevingsadressendichtheid": "address_density",
    "mate_van_stedelijkheid": "urbanity",
    "oppervlakte_totaal_in_ha": "area_ha",
    "oppervlakte_land_in_ha": "land_area_ha",
    "gemiddelde_woningwaarde": "woz_keur",
}
"""PDOK wijken-en-buurten property → canonical zone column (used when StatLine is absent)."""

ZONE_NUMERIC = ("population", "households", "dwellings", "establishments", "address_density",
                "urbanity", "area_ha", "land_area_ha", "woz_keur")

RDT_STATION_TYPES = {
    "megastation": "intercity",
    "knooppuntIntercitystation": "intercity",
    "intercitystation": "intercity",
    "knooppuntSneltreinstation": "sprinter",
    "sneltreinstation": "sprinter",
    "knooppuntStoptreinstation": "sprinter",
    "stoptreinstation": "sprinter",
    "facultatiefStation": "other",
}
"""Rijden de Treinen / NS station type → canonical ``station_type``."""

BAG_FUNCTIONS = {"kantoorfunctie": "kantoor", "winkelfunctie": "winkel"}
BAG_DROP_STATUS = ("gevormd", "niet gerealiseerd", "ingetrokken", "ten onrechte")

MODES = ("walk", "bike", "car")


@dataclass
class FetchResult:
    """What :func:`fetch_region` produced.

    Attributes
    ----------
    region : regions.Region
    out_dir : Path
        Cache folder.
    study_path : Path
        The generated study YAML.
    entries : dict
        Source name → list of cache entries (raw downloads).
    layers : dict
        Derived layer name → path.
    study : dict
        The study dict written to ``study_path``.
    """

    region: regions.Region
    out_dir: Path
    study_path: Path
    entries: dict[str, list[CacheEntry]] = field(default_factory=dict)
    layers: dict[str, Path] = field(default_factory=dict)
    study: dict[str, Any] = field(default_factory=dict)


def parse_sources(text: str | Sequence[str] | None) -> list[str]:
    """``"cbs,statline"`` → ``["cbs", "statline"]`` (validated; default all sources)."""
    if text is None:
        return list(sources.SOURCE_NAMES)
    items = text.split(",") if isinstance(text, str) else list(text)
    names = [s.strip().lower() for s in items if s.strip()]
    bad = [s for s in names if s not in sources.SOURCE_NAMES]
    if bad:
        hints = []
        for b in bad:
            close = regions.suggestions(b, list(sources.SOURCE_NAMES), n=1)
            hints.append(f"{b!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InputError(None, f"unknown source(s) {', '.join(hints)}",
                         f"use a comma-separated subset of {','.join(sources.SOURCE_NAMES)}")
    return names


MAX_BUFFER_KM = defaults.MAX_BUFFER_KM
"""Largest catchment buffer accepted (km): more than the Netherlands is wide."""


def fetch_region(
    region: str | Path | regions.Region,
    *,
    buffer_km: float = regions.DEFAULT_BUFFER_KM,
    sources_: str | Sequence[str] | None = None,
    year: int = 2023,
    out: str | Path | None = None,
    osm_method: str = "auto",
    base_urls: Mapping[str, str] | None = None,
    downloader: Downloader | None = None,
) -> FetchResult:
    """Fetch, cache and convert the inputs of a region and write its study YAML.

    Parameters
    ----------
    region : str, Path or Region
        Region query (see :func:`ruimtekit.io.regions.select_region`) or a resolved region.
    buffer_km : float
        Catchment buffer in km (ignored when ``region`` is a :class:`Region`).
    sources_ : str or list of str, optional
        Subset of ``cbs,statline,bag,osm,gtfs,ns`` (default all).
    year : int
        Year of the CBS wijk/buurt data (boundaries and Kerncijfers table).
    out : str or Path, optional
        Cache folder; default ``data/raw/<region slug>``.
    osm_method : str
        ``auto`` (Overpass for catchments ≤ :data:`OVERPASS_MAX_KM2` km², else Geofabrik),
        ``geofabrik`` or ``overpass``.
    base_urls : mapping, optional
        Per-source base URL overrides (else ``RUIMTEKIT_SOURCE_BASE_URL_<NAME>``).
    downloader : Downloader, optional
        The HTTP client and cache (its folder is set to ``out``): ``offline=True`` uses
        only cached files (a missing file is an ``InputError``), ``refresh=True``
        downloads every source again, ``quiet=True`` shows no progress bars; retries and
        timeouts (tests pass one with fast retries). Default ``Downloader()``: online,
        cache reused, progress shown.

    Returns
    -------
    FetchResult

    Examples
    --------
    ::

        fetch_region("Delft", sources_="cbs,osm", downloader=Downloader(offline=True))
    """
    names = parse_sources(sources_)
    years = sources.KWB_TABLES
    if ({"cbs", "statline"} & set(names)) and not (min(years) <= int(year) <= max(years)):
        raise InputError(None, f"--year {year} is outside the years with CBS wijk/buurt data "
                         f"known to ruimtekit ({min(years)}–{max(years)})",
                         f"use --year between {min(years)} and {max(years)}")
    if not (0 <= float(buffer_km) <= MAX_BUFFER_KM):
        raise InputError(None, f"--buffer-km {buffer_km:g} is not between 0 and "
                         f"{MAX_BUFFER_KM:g} km", "give the catchment buffer in km, e.g. 50")
    if osm_method not in ("auto", "geofabrik", "overpass"):
        raise InputError(None, f"unknown OSM method {osm_method!r}",
                         "use auto, geofabrik or overpass")
    reg = region if isinstance(region, regions.Region) else regions.select_region(
        region, buffer_km)
    out_dir = Path(out) if out is not None else Path("data") / "raw" / reg.slug
    dl = downloader or Downloader()
    dl.cache_dir = out_dir
    log.info("region %s (%s): %.1f km², buffer %g km → %.0f km², %d gemeenten in catchment",
             reg.name, reg.kind, reg.area_km2, reg.buffer_km, reg.buffered_area_km2,
             len(reg.catchment_gemeente_codes))
    res = FetchResult(region=reg, out_dir=out_dir, study_path=out_dir / "study.yaml")
    _io.write_json(out_dir / "region.json", reg.to_dict())

    if "cbs" in names:
        res.entries["cbs"] = [sources.fetch_cbs_buurten(dl, reg, year, base_urls=base_urls)]
    if "statline" in names:
        res.entries["statline"] = [sources.fetch_statline_kwb(dl, reg, year,
                                                              base_urls=base_urls)]
    if "bag" in names:
        res.entries["bag"] = [sources.fetch_bag_verblijfsobjecten(dl, reg, base_urls=base_urls)]
    if "osm" in names:
        method = osm_method
        if method == "auto":
            method = "overpass" if reg.buffered_area_km2 <= OVERPASS_MAX_KM2 else "geofabrik"
        if method == "overpass":
            res.entries["osm"] = [sources.fetch_osm_overpass(dl, reg, m, base_urls=base_urls)
                                  for m in MODES]
        else:
            res.entries["osm"] = sources.fetch_osm_geofabrik(dl, reg, base_urls=base_urls)
    if "gtfs" in names:
        res.entries["gtfs"] = [sources.fetch_gtfs(dl, base_urls=base_urls)]
    if "ns" in names:
        res.entries["ns"] = [sources.fetch_ns_stations(dl, base_urls=base_urls)]

    # derived canonical layers
    if "cbs" in res.entries:
        stat = res.entries.get("statline", [None])[0]
        res.layers["zones"] = build_zones(dl, reg, res.entries["cbs"][0], stat)
    if "bag" in res.entries:
        res.layers["vacancy"] = build_vacancy_input(dl, res.entries["bag"][0])
    if "ns" in res.entries:
        res.layers["stations"] = build_stations(dl, reg, res.entries["ns"][0])
    if "osm" in res.entries and res.entries["osm"][0].path.suffix == ".pbf":
        res.layers["osm"] = clip_osm(dl, reg, res.entries["osm"])

    res.study = study_dict(res)
    text = ("# Generated by `ruimtekit fetch` — paths are relative to this file.\n"
            f"# Region: {reg.name} ({reg.kind}), buffer {reg.buffer_km:g} km, "
            f"fetched {utc_now()}.\n" + yaml.safe_dump(res.study, sort_keys=False,
                                                       allow_unicode=True))
    _io.write_text(res.study_path, text)
    _io.write_json(out_dir / "fetch_manifest.json", manifest(res))
    return res


# --------------------------------------------------------------------------- derived layers
def _numeric(s: pd.Series) -> pd.Series:
    v = pd.to_numeric(s, errors="coerce").astype("float64")
    return v.where(v >= 0)  # CBS sentinels (-99995, -99997, -99999999, ...) → NaN


def _derived(dl: Downloader, rel: str, inputs: Sequence[CacheEntry]) -> tuple[str, CacheEntry | None]:
    req = request_key("derived:" + rel, None, inputs=[e.sha256 for e in inputs],
                      version=__version__)
    hit = None if dl.refresh else dl.cached(rel, req)
    return req, hit


_DERIVED = Provenance("ruimtekit", "ruimtekit derived layer", "same as the inputs",
                      "see the inputs' attributions")


def build_zones(dl: Downloader, region: regions.Region, cbs: CacheEntry,
                statline: CacheEntry | None) -> Path:
    """Canonical buurt zones (``zones_buurt.gpkg``): layers ``zones`` and ``catchment``.

    Layer ``zones`` holds the buurten of the study area (origins); layer ``catchment``
    all buurten of the buffered catchment (opportunities), both with the same columns.

    Geometry and names come from the CBS buurt polygons; statistics from the StatLine
    Kerncijfers rows (``WijkenEnBuurten`` = buurt code) when fetched, else from the PDOK
    properties. Water-only buurten (``water == "JA"``) are dropped. Negative CBS codes for
    secret/unavailable values become NaN. ``in_study_area`` marks buurten whose
    representative point lies in the study area (origins); the rest are catchment-only.

    Returns
    -------
    Path
    """
    rel = "zones_buurt.gpkg"
    inputs = [cbs] + ([statline] if statline is not None else [])
    req, hit = _derived(dl, rel, inputs)
    if hit is not None:
        return hit.path
    gdf = gpd.read_file(cbs.path, layer="buurten")
    if "water" in gdf.columns:
        gdf = gdf[gdf["water"].astype("string").str.upper().fillna("NEE") != "JA"]
    z = gpd.GeoDataFrame({
        "zone_id": gdf["buurtcode"].astype("string").str.strip(),
        "zone_name": gdf["buurtnaam"].astype("string"),
    }, geometry=gdf.geometry.values, crs=gdf.crs)
    gm = gdf["gemeentecode"].astype("string").str.strip()
    z["gemeente_code"] = gm.where(gm.str.startswith("GM"), "GM" + gm.str.zfill(4)).values
    if "wijkcode" in gdf.columns:
        z["wijk_code"] = gdf["wijkcode"].astype("string").str.strip().values
    else:
        z["wijk_code"] = ("WK" + z["zone_id"].str[2:8]).values
    stat_cols: list[str] = []
    if statline is not None:
        st = pd.read_csv(statline.path, dtype={"WijkenEnBuurten": "string"})
        st["WijkenEnBuurten"] = st["WijkenEnBuurten"].str.strip()
        st = st[st["WijkenEnBuurten"].str.startswith("BU")]
        rename = {}
        for c in st.columns:
            canon = STATLINE_TO_CANONICAL.get(sources.statline_base_name(c))
            if canon is not None and canon not in rename.values():
                rename[c] = canon
        st = st.set_index("WijkenEnBuurten")
        for c, canon in rename.items():
            z[canon] = _numeric(z["zone_id"].map(st[c])).values
            stat_cols.append(canon)
        unmatched = int((~z["zone_id"].isin(st.index)).sum())
        if unmatched:
            log.warning("statline: %d of %d buurten have no Kerncijfers row (codes changed?)",
                        unmatched, len(z))
    for src, canon in PDOK_TO_CANONICAL.items():
        if canon not in z.columns and src in gdf.columns:
            z[canon] = _numeric(gdf[src]).values
    if "area_ha" not in z.columns:
        z["area_ha"] = z.geometry.area / 1e4
    if "establishments" in z.columns:
        z["establishments_proxy"] = z["establishments"]
    # keep other source columns under their original names
    for c in gdf.columns:
        if c not in ("geometry",) and c not in z.columns and c not in PDOK_TO_CANONICAL:
            z[c] = gdf[c].values
    z["in_study_area"] = z.representative_point().within(region.polygon)
    z = z.reset_index(drop=True)
    if not z["in_study_area"].any():
        raise InputError(cbs.path, f"no CBS buurt lies in the study area {region.name} (the "
                                   f"catchment has {len(z)} buurten)",
                         "pass a larger region (a gemeente, or a bounding box that covers at "
                         "least one buurt centre)")
    if z["zone_id"].duplicated().any():
        dup = z.loc[z["zone_id"].duplicated(), "zone_id"].tolist()[:5]
        raise InputError(cbs.path, f"duplicate buurt codes in the CBS polygons: {dup}",
                         "fetch again with --refresh; report it if it persists")
    with _io.atomic_path(dl.path(rel)) as tmp:
        z[z["in_study_area"]].to_file(tmp, layer="zones", driver="GPKG")
        z.to_file(tmp, layer="catchment", driver="GPKG", mode="a")
    dl.record(rel, _DERIVED, url=f"derived from {cbs.meta['file']}"
              + (f" + {statline.meta['file']}" if statline else ""), request=req,
              columns=list(z.columns),
              extra={"inputs": {e.meta["file"]: e.sha256 for e in inputs}, "rows": len(z),
                     "in_study_area": int(z["in_study_area"].sum()), "level": "buurt",
                     "crs": CRS, "attribution": "Bron: CBS, Kadaster (PDOK)",
                     "licence": "CC BY 4.0"})
    return dl.path(rel)


def build_vacancy_input(dl: Downloader, bag: CacheEntry) -> Path:
    """BAG offices and shops in the vacancy-input format, without vacancy dates.

    Keeps verblijfsobjecten whose ``gebruiksdoel`` includes ``kantoorfunctie`` or
    ``winkelfunctie`` (the first listed of the two decides ``function``) and whose status
    is an existing object (drops *gevormd*, *niet gerealiseerd*, *ingetrokken*, *ten
    onrechte opgevoerd*). ``floor_area_m2`` is the BAG ``oppervlakte`` (m², gebruiksoppervlakte
    of the whole object, also when it has several functions); ≤ 0 → NaN. There is no
    ``vacant_since`` column: BAG does not record vacancy.

    Returns
    -------
    Path
        ``bag_kantoor_winkel.gpkg`` (layer ``vacancy``).
    """
    rel = "bag_kantoor_winkel.gpkg"
    req, hit = _derived(dl, rel, [bag])
    if hit is not None:
        return hit.path
    gdf = gpd.read_file(bag.path, layer="verblijfsobject")
    doel = gdf["gebruiksdoel"].astype("string").fillna("").str.lower()

    def first_function(text: str) -> str | None:
        hits = [(text.find(k), v) for k, v in BAG_FUNCTIONS.items() if k in text]
        return min(hits)[1] if hits else None

    function = doel.map(first_function)
    keep = function.notna()
    if "status" in gdf.columns:
        st = gdf["status"].astype("string").fillna("").str.lower()
        keep &= ~st.str.contains("|".join(BAG_DROP_STATUS))
    g = gdf[keep]
    v = gpd.GeoDataFrame({
        "object_id": g["identificatie"].astype("string"),
        "function": function[keep].astype("string"),
        "floor_area_m2": _numeric(g["oppervlakte"]).where(lambda s: s > 0),
        "synthetic": False,
    }, geometry=g.geometry.values, crs=gdf.crs)
    for c in ("gebruiksdoel", "status", "bouwjaar", "pand_identificatie"):
        if c in g.columns:
            v[f"bag_{c}"] = g[c].values
    v = v.reset_index(drop=True)
    with _io.atomic_path(dl.path(rel)) as tmp:
        v.to_file(tmp, layer="vacancy", driver="GPKG")
    dl.record(rel, _DERIVED, url=f"derived from {bag.meta['file']}", request=req,
              columns=list(v.columns),
              extra={"inputs": {bag.meta["file"]: bag.sha256}, "rows": len(v),
                     "by_function": v["function"].value_counts().to_dict(), "crs": CRS,
                     "note": "no vacant_since: BAG has no vacancy dates",
                     "attribution": bag.meta.get("attribution"),
                     "licence": bag.meta.get("licence")})
    return dl.path(rel)


def build_stations(dl: Downloader, region: regions.Region, ns: CacheEntry) -> Path:
    """Railway stations in the buffered catchment (``stations.gpkg``, layer ``stations``).

    Returns
    -------
    Path
    """
    rel = "stations.gpkg"
    req, hit = _derived(dl, rel, [ns])
    if hit is not None and hit.meta.get("region") == region.to_dict()["polygon_wkt"]:
        return hit.path
    if ns.path.suffix == ".json":
        import json

        items = json.loads(ns.path.read_text(encoding="utf-8"))["payload"]
        df = pd.DataFrame({
            "station_id": [it["code"] for it in items],
            "station_name": [(it.get("namen") or {}).get("lang") for it in items],
            "source_type": [it.get("stationType") for it in items],
            "uic": [it.get("UICCode") for it in items],
            "country": [it.get("land") for it in items],
            "lat": [it.get("lat") for it in items], "lon": [it.get("lng") for it in items],
        })
        df["source_type"] = df["source_type"].map(_ns_api_type)
    else:
        raw = pd.read_csv(ns.path, dtype={"code": "string", "uic": "string"})
        df = pd.DataFrame({
            "station_id": raw["code"], "station_name": raw["name_long"],
            "source_type": raw["type"], "uic": raw.get("uic"), "country": raw.get("country"),
            "lat": raw["geo_lat"], "lon": raw["geo_lng"],
        })
    df["station_type"] = df["source_type"].map(RDT_STATION_TYPES).fillna("other")
    lat = pd.to_numeric(df["lat"], errors="coerce")
    lon = pd.to_numeric(df["lon"], errors="coerce")
    ok = lat.notna() & lon.notna()
    gdf = gpd.GeoDataFrame(df[ok].drop(columns=["lat", "lon"]),
                           geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326")
    gdf = sources.clip_points(gdf.to_crs(CRS), region.buffered)
    with _io.atomic_path(dl.path(rel)) as tmp:
        gdf.to_file(tmp, layer="stations", driver="GPKG")
    dl.record(rel, _DERIVED, url=f"derived from {ns.meta['file']}", request=req,
              columns=list(gdf.columns),
              extra={"inputs": {ns.meta["file"]: ns.sha256}, "rows": len(gdf), "crs": CRS,
                     "region": region.to_dict()["polygon_wkt"],
                     "attribution": ns.meta.get("attribution"),
                     "licence": ns.meta.get("licence")})
    return dl.path(rel)


NS_API_TYPES = {
    "MEGA_STATION": "megastation",
    "KNOOPPUNT_INTERCITY_STATION": "knooppuntIntercitystation",
    "INTERCITY_STATION": "intercitystation",
    "KNOOPPUNT_SNELTREIN_STATION": "knooppuntSneltreinstation",
    "SNELTREIN_STATION": "sneltreinstation",
    "KNOOPPUNT_STOPTREIN_STATION": "knooppuntStoptreinstation",
    "STOPTREIN_STATION": "stoptreinstation",
    "FACULTATIEF_STATION": "facultatiefStation",
}
"""NS API ``stationType`` → Rijden de Treinen ``type`` spelling."""


def _ns_api_type(value: Any) -> str | None:
    """``KNOOPPUNT_INTERCITY_STATION`` → ``knooppuntIntercitystation`` (RDT spelling)."""
    return NS_API_TYPES.get(value) if isinstance(value, str) else None


def clip_osm(dl: Downloader, region: regions.Region, pbfs: Sequence[CacheEntry]) -> Path:
    """Highway ways of the province extract(s) within the catchment bbox → one PBF.

    Streams each extract with pyosmium (locations attached), keeps ways with a ``highway``
    tag that have at least one node inside the catchment's WGS84 bounding box (whole ways,
    all their tags and node locations), de-duplicates ways present in two provinces and
    writes ``osm/<slug>_catchment.osm.pbf`` (nodes sorted by id, then ways).

    Returns
    -------
    Path
    """
    import osmium

    rel = f"osm/{region.slug}_catchment.osm.pbf"
    req = request_key("derived:" + rel, None, inputs=[e.sha256 for e in pbfs],
                      bbox=[round(v, 6) for v in region.bbox_wgs84])
    hit = None if dl.refresh else dl.cached(rel, req)
    if hit is not None:
        return hit.path
    x0, y0, x1, y1 = region.bbox_wgs84
    node_id, node_lon, node_lat = array("q"), array("d"), array("d")
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    for e in pbfs:
        fp = (osmium.FileProcessor(str(e.path), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        try:
            for w in fp:
                if w.id in ways:
                    continue
                refs, lons, lats = [], [], []
                for n in w.nodes:
                    if n.location.valid():
                        refs.append(int(n.ref))
                        lons.append(n.location.lon)
                        lats.append(n.location.lat)
                if len(refs) < 2:
                    continue
                la, lo = np.asarray(lats), np.asarray(lons)
                if not np.any((lo >= x0) & (lo <= x1) & (la >= y0) & (la <= y1)):
                    continue
                ways[int(w.id)] = (refs, {t.k: t.v for t in w.tags})
                node_id.extend(refs)
                node_lon.extend(lons)
                node_lat.extend(lats)
        except RuntimeError as exc:
            raise InputError(e.path, f"cannot read the OSM extract ({exc})",
                             "delete it and fetch again (--refresh)") from None
    if not ways:
        raise InputError(None, f"no highway ways of the OSM extract(s) lie in the catchment of "
                               f"{region.name}", "check the region and the downloaded extract")
    ids = np.frombuffer(node_id, dtype=np.int64)
    uniq, first = np.unique(ids, return_index=True)
    lon = np.frombuffer(node_lon, dtype=np.float64)[first]
    lat = np.frombuffer(node_lat, dtype=np.float64)[first]
    target = dl.path(rel)
    with _io.atomic_path(target, suffix=".osm.pbf") as tmp:
        writer = osmium.SimpleWriter(str(tmp))
        try:
            for i, x, y in zip(uniq.tolist(), lon.tolist(), lat.tolist(), strict=True):
                writer.add_node(osmium.osm.mutable.Node(id=i, location=(x, y), version=1))
            for wid in sorted(ways):
                refs, tags = ways[wid]
                writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags, version=1))
        finally:
            writer.close()
    dl.record(rel, sources.CATALOGUE["osm"].provenance(),
              url="clipped from " + ", ".join(e.meta["file"] for e in pbfs), request=req,
              columns=None,
              extra={"inputs": {e.meta["file"]: e.sha256 for e in pbfs}, "ways": len(ways),
                     "nodes": int(uniq.size), "bbox_wgs84": list(region.bbox_wgs84),
                     "derived": True})
    return target


# --------------------------------------------------------------------------- study + manifest
def study_dict(res: FetchResult) -> dict[str, Any]:
    """The study-file dict for a fetch result (paths relative to the study file).

    Structure (aligned with ``study.Study``, ``layers.LayerSpec``,
    ``networks.NetworkSpec``, ``accessibility.AccessibilityConfig`` and
    ``transit.TransitConfig``)::

        name, title, region, description, attribution
        layers:
          zones      {path: zones_buurt.gpkg, kind: zones, level: buurt, layer: zones}
          catchment  {path: zones_buurt.gpkg, kind: zones, level: buurt, layer: catchment}
          vacancy    {path: bag_kantoor_winkel.gpkg, kind: vacancy, layer: vacancy}
          stations   {path: stations.gpkg, kind: stations, layer: stations}
        networks:
          walk/bike/car {path: osm/<slug>_catchment.osm.pbf, kind: osm, mode}
                        (Overpass: {path: osm/overpass_<mode>.graphml, kind: graphml, mode})
          transit    {path: gtfs/gtfs-nl.zip, kind: gtfs}
        accessibility:
          - {name: establishments, zones: zones,
             opportunities: {layer: catchment, column: establishments_proxy},
             modes: [walk, bike, car], impedance: {walk: walk, bike: bike, car: car},
             cutoffs: [15, 30, 45]}
        transit:
          - {name: establishments, zones: zones, opportunities: catchment,
             opportunity_column: establishments_proxy, network: transit,
             cutoffs: [30, 45, 60]}
    """
    reg = res.region
    rel = lambda p: Path(p).resolve().relative_to(res.out_dir.resolve()).as_posix()  # noqa: E731
    layers_: dict[str, Any] = {}
    if "zones" in res.layers:
        zp = rel(res.layers["zones"])
        layers_["zones"] = {"path": zp, "kind": "zones", "level": "buurt", "layer": "zones",
                            "description": "CBS buurten of the study area (origins)"}
        layers_["catchment"] = {"path": zp, "kind": "zones", "level": "buurt",
                                "layer": "catchment",
                                "description": f"CBS buurten within {reg.buffer_km:g} km "
                                               "(opportunities)"}
    if "vacancy" in res.layers:
        layers_["vacancy"] = {"path": rel(res.layers["vacancy"]), "kind": "vacancy",
                              "layer": "vacancy",
                              "description": "BAG offices and shops; no vacancy dates"}
    if "stations" in res.layers and _read_json(
            res.layers["stations"].with_name("stations.gpkg.meta.json")).get("rows"):
        layers_["stations"] = {"path": rel(res.layers["stations"]), "kind": "stations",
                               "layer": "stations"}
    networks_: dict[str, Any] = {}
    if "osm" in res.entries:
        if "osm" in res.layers:
            for m in MODES:
                networks_[m] = {"path": rel(res.layers["osm"]), "kind": "osm", "mode": m}
        else:
            for e in res.entries["osm"]:
                m = re.sub(r"^overpass_", "", e.path.stem)
                networks_[m] = {"path": rel(e.path), "kind": "graphml", "mode": m}
    if "gtfs" in res.entries:
        networks_["transit"] = {"path": rel(res.entries["gtfs"][0].path), "kind": "gtfs"}
    access: list[dict[str, Any]] = []
    transit_: list[dict[str, Any]] = []
    if "zones" in layers_:
        modes = [m for m in MODES if m in networks_]
        if modes:
            access.append({
                "name": "establishments", "zones": "zones",
                "opportunities": {"layer": "catchment", "column": "establishments_proxy"},
                "modes": modes, "impedance": {m: m for m in modes},
                "cutoffs": [15, 30, 45]})
        if "transit" in networks_:
            transit_.append({
                "name": "establishments", "zones": "zones", "opportunities": "catchment",
                "opportunity_column": "establishments_proxy", "network": "transit",
                "cutoffs": [30, 45, 60]})
    attributions: list[str] = []
    for entries in res.entries.values():
        for e in entries:
            a = e.meta.get("attribution")
            if a and a not in attributions:
                attributions.append(a)
    study: dict[str, Any] = {
        "name": reg.slug.replace("-", "_"),
        "title": f"{reg.name}: fetched open data (catchment buffer {reg.buffer_km:g} km)",
        "region": reg.name,
        "description": (f"Generated by ruimtekit fetch {__version__}. Study area {reg.kind} "
                        f"{reg.name} ({', '.join(reg.gemeente_codes) or 'no gemeente codes'}); "
                        f"catchment of {len(reg.catchment_gemeente_codes)} gemeenten. "
                        "Opportunities are CBS business establishments (a proxy for jobs)."),
        "layers": layers_,
        "networks": networks_,
        "accessibility": access,
        "transit": transit_,
        "attribution": attributions,
    }
    return study


def manifest(res: FetchResult) -> dict[str, Any]:
    """Everything fetched: region, files with checksums, licences and attributions."""
    files = []
    for entries in res.entries.values():
        for e in entries:
            files.append({k: e.meta.get(k) for k in ("file", "source", "url", "retrieved_utc",
                                                       "licence", "attribution", "bytes",
                                                       "sha256")})
    for name, p in res.layers.items():
        mp = p.with_name(p.name + ".meta.json")
        meta = _read_json(mp)
        files.append({"file": meta.get("file"), "source": "derived:" + name,
                      "bytes": meta.get("bytes"), "sha256": meta.get("sha256"),
                      "licence": meta.get("licence"), "attribution": meta.get("attribution")})
    return {"ruimtekit_version": __version__, "created_utc": utc_now(),
            "region": res.region.to_dict() | {"polygon_wkt": None},
            "study": res.study_path.name, "files": files}


def _read_json(p: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
