"""Canonical input layers: zones, jobs, vacancy and stations.

Every reader does read → validate → normalise: geometry to EPSG:28992 (via
:func:`ruimtekit._vector.read_any`), column names to the canonical names of
``docs/architecture.md`` (via the alias tables in :mod:`ruimtekit._columns`), CBS sentinels
to NaN, codes to canonical strings. Bad input raises
:class:`~ruimtekit._errors.InputError` naming the file, the problem and the fix; data
problems that were worked around are reported as :class:`DataWarning` and in
``gdf.attrs``.

Readers
-------
read_zones, read_gemeente_indicators, join_zone_table, read_jobs, aggregate_to_zones,
read_vacancy, read_stations, read_ns_stations, read_transit_stops_gml; the study-file
section :class:`LayerSpec` and :func:`load` dispatch on ``kind``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import model_validator

from ruimtekit import CRS, _columns, _config, _crs, _vector, defaults
from ruimtekit._errors import InputError
from ruimtekit._vector import DataWarning, warn
from ruimtekit.io import regions

__all__ = [
    "DataWarning", "KWB2021_ZERO_AS_MISSING", "LayerSpec", "PROXY_NOTE", "aggregate_to_zones",
    "derive_intercity", "join_zone_table", "load", "pipeline_step", "read_gemeente_indicators",
    "read_jobs", "read_ns_stations", "read_stations", "read_transit_stops_gml", "read_vacancy",
    "read_zones",
]

log = logging.getLogger("ruimtekit.io.layers")

PROXY_NOTE = "business establishments stand in for jobs"
"""``attrs["proxy"]`` of a jobs layer that only has establishment counts."""

KWB2021_ZERO_AS_MISSING: tuple[str, ...] = (
    "a_geb", "p_geb", "a_ste", "p_ste", "a_woning", "g_woz", "p_1gezw", "p_mgezw", "p_bewndw",
    "p_leegsw", "p_koopw", "p_huurw", "p_wcorpw", "p_ov_hw", "p_e_o_w", "p_bjj2k", "p_bjo2k",
    "g_ele", "g_ele_ap", "g_ele_tw", "g_ele_hw", "g_ele_2w", "g_ele_vw", "g_ele_hu", "g_ele_ko",
    "g_gas", "g_gas_ap", "g_gas_tw", "g_gas_hw", "g_gas_2w", "g_gas_vw", "g_gas_hu", "g_gas_ko",
    "p_stadsv", "a_opl_lg", "a_opl_md", "a_opl_hg", "p_arb_pp", "p_arb_wn", "p_arb_zs",
    "a_inkont", "g_ink_po", "g_ink_pi", "p_ink_li", "p_ink_hi", "g_hh_sti", "p_hh_li",
    "p_hh_hi", "p_hh_lkk", "p_hh_osm", "p_hh_110", "p_hh_120", "m_hh_ver", "a_soz_wb",
    "a_soz_ao", "a_soz_ww", "a_soz_ow", "a_jz_tn", "p_jz_tn", "a_wmo_t", "p_wmo_t", "a_bedv",
    "a_bed_a", "a_bed_bf", "a_bed_gi", "a_bed_hj", "a_bed_kl", "a_bed_mn", "a_bed_ru", "a_pau",
    "a_bst_b", "a_bst_nb", "g_pau_hh", "g_pau_km", "a_m2w", "g_afs_hp", "g_afs_gs", "g_afs_kv",
    "g_afs_sc", "g_3km_sc",
)
"""KWB 2021 variables that are 0 for every buurt in the bundled Amsterdam 2021 file
(``data/raw/cbs_kwb2021_amsterdam_buurten.parquet``): CBS had not published them yet and
the thesis author filled them with 0 (see PROVENANCE.md). Pass as ``zero_as_missing`` (or
``zero_as_missing: kwb2021`` in a study file) to read those zeros as NaN."""

_LAYER_PREFERENCE = {
    "buurt": ("buurten", "buurt", "cbs_buurten"),
    "wijk": ("wijken", "wijk", "cbs_wijken"),
    "gemeente": ("gemeenten", "gemeente", "cbs_gemeenten"),
}


def _looked_for(aliases: Iterable[str]) -> str:
    seen: list[str] = []
    for a in aliases:
        if a not in seen:
            seen.append(a)
    return ", ".join(seen)


def _file_columns(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns if c != "geometry"]
    more = f", … ({len(cols) - 30} more)" if len(cols) > 30 else ""
    return ", ".join(cols[:30]) + more


def _ids_for_messages(df: pd.DataFrame) -> pd.Series:
    for c in ("zone_id", "object_id", "station_id"):
        if c in df.columns:
            return df[c].astype(str)
    return pd.Series([f"row {i + 1}" for i in range(len(df))], index=df.index)


def _finish(out: pd.DataFrame, first: Sequence[str]) -> pd.DataFrame:
    """Order columns: ``first`` (those present), the rest, ``geometry`` last."""
    head = [c for c in first if c in out.columns]
    rest = [c for c in out.columns if c not in head and c != "geometry"]
    tail = ["geometry"] if "geometry" in out.columns else []
    return out[head + rest + tail]


# ======================================================================================
# zones

def _find_zone_id(df: pd.DataFrame, path: Path, level: str | None, user: str | None
                  ) -> tuple[str, str | None]:
    if user is not None:
        return user, level
    order = ([level] if level else []) + [lv for lv in _columns.LEVELS if lv != level]
    for lv in order:
        col = _columns.find_column(df.columns, _columns.ZONE_ID_ALIASES[lv])
        if col is not None:
            return col, lv
    looked = _looked_for(a for lv in _columns.LEVELS for a in _columns.ZONE_ID_ALIASES[lv])
    raise InputError(
        path, f"no zone id column found; looked for: {looked}",
        "rename the id column to one of these, or map it in the study file "
        f"(`columns: {{zone_id: <column>}}`); the file has: {_file_columns(df)}",
    )


def _zone_codes(df: pd.DataFrame, col: str, path: Path, level: str | None,
                alias_level: str | None) -> tuple[pd.Series, str]:
    """Normalised, validated (non-null, unique) zone codes and the zone level."""
    hint = level or (alias_level if alias_level != "other" else None)
    codes = _columns.normalise_codes(df[col], hint)
    detected = _columns.detect_level(codes)
    if level is None:
        level = detected if detected != "other" else (hint or "other")
    elif detected != "other" and detected != level:
        raise InputError(
            path, f"`level: {level}` was given but the codes in {col!r} look like {detected} "
            f"codes (e.g. {codes.dropna().iloc[0]})",
            f"set `level: {detected}` or point `columns: {{zone_id: ...}}` at the {level} codes",
        )
    missing = codes.isna()
    if missing.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(missing.to_numpy())[:5])
        raise InputError(path, f"{int(missing.sum())} row(s) have no zone id in {col!r} "
                         f"(rows {rows})", "fill in the ids or remove those rows")
    dup = codes[codes.duplicated(keep=False)]
    if len(dup):
        counts = dup.value_counts()
        ex = ", ".join(f"{k} (×{v})" for k, v in counts.head(5).items())
        raise InputError(
            path, f"duplicate zone ids in {col!r}: {len(counts)} id(s) occur more than once, "
            f"e.g. {ex}",
            "make the ids unique (dissolve multi-part zones into one row per id) or choose "
            "another id column with `columns: {zone_id: ...}`",
        )
    return codes, level


def _require_polygons(gdf: gpd.GeoDataFrame, path: Path) -> np.ndarray:
    """Check that zones are polygons; return the mask of rows with empty/missing geometry."""
    geom = gdf.geometry
    missing = (geom.isna() | geom.is_empty).to_numpy()
    types = geom[~missing].geom_type.value_counts()
    bad = {t: int(n) for t, n in types.items() if t not in ("Polygon", "MultiPolygon")}
    if bad:
        desc = ", ".join(f"{t} ×{n}" for t, n in bad.items())
        raise InputError(
            path, f"zones must be polygons, but the file has non-polygon geometry ({desc})",
            "use zone boundaries (Polygon/MultiPolygon); point files such as centroids can be "
            "read as jobs (`kind: jobs`) or joined to a code table with `geometry:`",
        )
    return missing


def read_zones(
    path: str | Path,
    *,
    level: str | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    zero_as_missing: Iterable[str] | str = (),
) -> gpd.GeoDataFrame:
    """Read a zone (area) layer with canonical columns, in EPSG:28992.

    Parameters
    ----------
    path : str or Path
        CBS wijk- en buurtkaart (any generation), PC4 polygons, gebiedsindelingen or any
        polygon file readable by :func:`ruimtekit._vector.read_any`.
    level : {"buurt", "wijk", "gemeente", "pc4", "other"}, optional
        Zone level; detected from the id codes (BU/WK/GM prefix, 4-digit PC4) when omitted.
        In a multi-layer GeoPackage it also picks the layer (``buurten``/``wijken``/
        ``gemeenten``).
    columns : mapping of str to str, optional
        Canonical name → source column, overriding the alias tables (e.g.
        ``{"population": "inw_2021"}``).
    layer : str, optional
        Layer inside a multi-layer source.
    crs : str or int, optional
        CRS of the file when it declares none or a wrong one.
    zero_as_missing : iterable of str or "kwb2021"
        Columns (source or canonical names) in which 0 means "not published" and becomes
        NaN; ``"kwb2021"`` means :data:`KWB2021_ZERO_AS_MISSING`.

    Returns
    -------
    GeoDataFrame
        ``zone_id`` (str: ``BU03630000``, ``WK036301``, ``GM0363``, ``1011``),
        ``zone_name``, canonical measures that the source has (``population``,
        ``households``, ``dwellings``, ``establishments``, ``address_density``
        [addresses/km²], ``urbanity`` [1–5], ``area_ha``, ``land_area_ha``, ``woz_keur``
        [€ 1000], ``gemeente_code``, ``wijk_code``), ``pop_x``/``pop_y`` (RD m) when the
        source has a residential centroid, then the other source columns under their
        original names. ``area_ha`` is computed from the polygons when the source has no
        area. Zones with an empty geometry are kept, listed in ``attrs["empty_geometry"]``
        and reported as a :class:`DataWarning`. ``attrs``: ``level``, ``source``, ``source_crs``, ``source_columns``
        (canonical → source), ``sentinels`` (replaced CBS sentinels per column),
        ``zero_as_missing`` (zeros set to NaN per column), ``derived``.

    Raises
    ------
    InputError
        Missing/unreadable file, empty layer, no geometry, non-polygon geometry, unknown
        CRS, no id column (lists the names looked for), duplicate or missing ids, unknown
        ``columns`` mapping, non-numeric measures.
    """
    path = Path(path)
    if level is not None and level not in _columns.LEVELS:
        raise InputError(path, f"unknown zone level {level!r}",
                         f"use one of: {', '.join(_columns.LEVELS)}")
    data = _vector.read_any(path, layer, crs=crs,
                            prefer_layers=_LAYER_PREFERENCE.get(level or "", ()))
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(
            path, "the file has no geometry (no geometry, x/y, lon/lat or WKT columns)",
            "zones need polygons: use a GeoPackage/shapefile/GeoJSON/GeoParquet with the zone "
            "boundaries; a table of counts per code can be read as `kind: jobs` with "
            "`geometry:` pointing at a boundary file",
        )
    empty = _require_polygons(data, path)
    out = _canonical_zones(data, path, level, columns, zero_as_missing)
    out.attrs["empty_geometry"] = out.loc[empty, "zone_id"].tolist()
    if empty.any():
        warn(f"{path.name}: {int(empty.sum())} zone(s) have an empty geometry and are kept "
             f"(they cannot be located): {', '.join(out.attrs['empty_geometry'][:10])}")
    return out


def _canonical_zones(
    data: gpd.GeoDataFrame, path: Path, level: str | None,
    columns: Mapping[str, str] | None, zero_as_missing: Iterable[str] | str,
) -> gpd.GeoDataFrame:
    allowed = list(_columns.ZONE_CANONICAL)
    user = _columns.check_mapping(data.columns, columns, allowed, path)
    id_col, alias_level = _find_zone_id(data, path, level, user.get("zone_id"))
    codes, level = _zone_codes(data, id_col, path, level, alias_level)

    used = {id_col}
    rename: dict[str, str] = {}
    source_columns: dict[str, str] = {"zone_id": id_col}
    derived: dict[str, str] = {}

    name_col = user.get("zone_name")
    if name_col is None:
        name_col = _columns.find_column(
            data.columns, _columns.ZONE_NAME_ALIASES.get(level, ()) +
            _columns.ZONE_NAME_ALIASES["other"])
    measures: dict[str, str] = {}
    for canon, aliases in _columns.ZONE_MEASURE_ALIASES.items():
        src = user.get(canon)
        if src is None:
            cands = [c for c in data.columns if c not in used and c != name_col]
            src = _columns.find_column(cands, (canon, *aliases))
        if src is None or src in used:
            continue
        if canon in ("gemeente_code", "wijk_code") and src == id_col:
            continue
        measures[canon] = src
        used.add(src)
    km2: dict[str, str] = {}
    for canon, aliases in _columns.AREA_KM2_ALIASES.items():
        if canon in measures:
            continue
        src = _columns.find_column([c for c in data.columns if c not in used], aliases)
        if src is not None:
            km2[canon] = src
            used.add(src)

    out = data.copy()
    out.attrs = {}
    ids = codes
    drop = [id_col] if id_col != "zone_id" else []
    out["zone_id"] = codes.to_numpy()
    if name_col is not None:
        out["zone_name"] = data[name_col].astype("string").str.strip().astype(object).to_numpy()
        source_columns["zone_name"] = name_col
        if name_col != "zone_name":
            drop.append(name_col)
    else:
        out["zone_name"] = codes.to_numpy()
        derived["zone_name"] = "no name column: the zone id is used as name"
    for canon, src in measures.items():
        if canon in ("gemeente_code", "wijk_code"):
            lv = "gemeente" if canon == "gemeente_code" else "wijk"
            vals = _columns.normalise_codes(data[src], lv)
        else:
            vals = _columns.to_numeric(data[src], src, path, ids)
        out[canon] = vals.to_numpy()
        source_columns[canon] = src
        rename[src] = canon
        if src != canon:
            drop.append(src)
    for canon, src in km2.items():
        vals = _columns.to_numeric(data[src], src, path, ids)
        vals = vals.where(vals > _columns.SENTINEL_MAX) * 100.0
        out[canon] = vals.to_numpy()
        source_columns[canon] = src
        derived[canon] = f"{src} (km²) × 100"
        drop.append(src)
    out = out.drop(columns=[c for c in dict.fromkeys(drop) if c in out.columns])

    coords = {"pop_x", "pop_y"} | {c for c in out.columns if str(c).endswith(("_x", "_y"))}
    sentinels = _columns.replace_sentinels(out, exclude=coords)

    zero_counts = _apply_zero_as_missing(out, path, zero_as_missing, rename)
    if "area_ha" not in out.columns:
        out["area_ha"] = out.geometry.area.to_numpy() / 10_000.0
        derived["area_ha"] = "polygon area (EPSG:28992) / 10,000"
    order = ["zone_id", "zone_name", *_columns.ZONE_MEASURE_ALIASES, "pop_x", "pop_y"]
    out = _finish(out, order)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=_crs.working_crs())
    out.attrs.update(
        kind="zones", level=level, source=str(path),
        source_crs=data.attrs.get("source_crs"), source_columns=source_columns,
        sentinels=sentinels, zero_as_missing=zero_counts, derived=derived,
    )
    if data.attrs.get("repaired_geometries"):
        out.attrs["repaired_geometries"] = data.attrs["repaired_geometries"]
    n_sent = sum(sentinels.values())
    if n_sent:
        log.info("%s: %d CBS sentinel value(s) (≤ %g) read as NaN in %d column(s)", path.name,
                 n_sent, _columns.SENTINEL_MAX, len(sentinels))
    return out


def _apply_zero_as_missing(out: pd.DataFrame, path: Path, names: Iterable[str] | str,
                           rename: Mapping[str, str]) -> dict[str, int]:
    if isinstance(names, str):
        if names.lower() != "kwb2021":
            raise InputError(path, f"unknown zero_as_missing preset {names!r}",
                             "use `kwb2021` or a list of column names")
        names = KWB2021_ZERO_AS_MISSING
    counts: dict[str, int] = {}
    absent: list[str] = []
    for name in names:
        col = rename.get(name, name)
        if col not in out.columns:
            absent.append(name)
            continue
        s = out[col]
        if not pd.api.types.is_numeric_dtype(s):
            raise InputError(path, f"zero_as_missing column {name!r} is not numeric",
                             "list only numeric columns in `zero_as_missing`")
        mask = (s == 0).fillna(False).to_numpy(dtype=bool)
        counts[col] = int(mask.sum())
        if mask.any():
            vals = s.astype("float64").to_numpy(copy=True)
            vals[mask] = np.nan
            out[col] = vals
    if absent:
        warn(f"{path.name}: zero_as_missing column(s) not in the file: {', '.join(absent[:10])}"
             + (" …" if len(absent) > 10 else ""))
    return counts


# ======================================================================================
# gemeente indicators (nlstat JSON, CBS 85039NED)

def read_gemeente_indicators(json_path: str | Path) -> pd.DataFrame:
    """Read municipality indicators of KWB 2021 in the nlstat JSON structure.

    Parameters
    ----------
    json_path : str or Path
        ``{"Gemeente": {"GM0344": {"Naam": ..., "Population": ..., "_biz_density": ...,
        "Housing": {...}, ...}}, "Netherlands Total": {...}}`` (e.g.
        ``data/raw/cbs_kwb2021_gemeente_indicators.json``).

    Returns
    -------
    DataFrame
        One row per gemeente: ``zone_id`` (GM code), ``zone_name``, ``provincie``,
        ``population`` (1 January 2021), ``establishments`` (business establishments,
        **derived** as ``_biz_density`` × ``Population`` / 1000; ``_biz_density`` is per
        1000 inhabitants, rounded to 0.01, so the count is approximate), ``woz_keur``
        (mean WOZ, € 1000), the other scalar indicators under their source names and the
        nested groups flattened as ``"<group>: <indicator>"``. ``attrs``: ``level``
        (``gemeente``), ``derived``, ``national_population``.

    Raises
    ------
    InputError
        File missing, not JSON, or without the ``Gemeente`` mapping of GM codes.
    """
    path = Path(json_path)
    if not path.exists():
        raise InputError(path, "file not found", "check the path")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"the file is not valid JSON ({exc})",
                         "use the nlstat nl_data.json structure") from None
    gem = doc.get("Gemeente") if isinstance(doc, dict) else None
    if not isinstance(gem, dict) or not gem:
        raise InputError(
            path, "no 'Gemeente' mapping of municipality codes found (empty or other structure)",
            "use the nlstat structure {\"Gemeente\": {\"GM0344\": {...}}, ...}")
    rows = []
    for code, rec in gem.items():
        if not isinstance(rec, dict):
            raise InputError(path, f"entry {code!r} is not an object",
                             "each municipality must map to an object of indicators")
        row: dict[str, Any] = {"zone_id": code, "zone_name": rec.get("Naam"),
                               "provincie": rec.get("Provincie")}
        for k, v in rec.items():
            if k in ("Naam", "Provincie"):
                continue
            if isinstance(v, dict):
                for k2, v2 in v.items():
                    row[f"{k}: {k2}"] = v2
            else:
                row[k] = v
        rows.append(row)
    df = pd.DataFrame(rows)
    codes = _columns.normalise_codes(df["zone_id"], "gemeente")
    bad = ~codes.astype(str).str.fullmatch(r"GM\d{4}")
    if bad.any():
        raise InputError(path, f"keys are not GM codes: {', '.join(map(str, df.zone_id[bad][:5]))}",
                         "key the 'Gemeente' mapping by CBS gemeente codes (GM####)")
    df["zone_id"] = codes
    if "Population" not in df.columns:
        raise InputError(path, "no 'Population' indicator found",
                         "the file must have a Population count per gemeente")
    ids = df["zone_id"]
    num_cols = [c for c in df.columns if c not in ("zone_id", "zone_name", "provincie")]
    for c in num_cols:
        df[c] = _columns.to_numeric(df[c], c, path, ids)
    sentinels = _columns.replace_sentinels(df)
    df = df.rename(columns={"Population": "population", "_woz_value": "woz_keur"})
    derived = {}
    if "_biz_density" in df.columns:
        df["establishments"] = df["_biz_density"] * df["population"] / 1000.0
        derived["establishments"] = ("derived: _biz_density (business establishments per 1000 "
                                     "inhabitants) × Population / 1000; approximate")
    missing = df["population"].isna()
    if missing.any():
        warn(f"{path.name}: no population for {', '.join(df.zone_id[missing][:10])}")
    df = _finish(df, ["zone_id", "zone_name", "provincie", "population", "establishments",
                      "woz_keur"])
    total = doc.get("Netherlands Total", {})
    df.attrs.update(kind="zone_table", level="gemeente", source=str(path), derived=derived,
                    sentinels=sentinels, year=2021,
                    national_population=(total.get("Population")
                                         if isinstance(total, dict) else None))
    return df


def join_zone_table(
    zones: gpd.GeoDataFrame,
    table: pd.DataFrame,
    *,
    on: str = "zone_id",
    what: str = "table",
) -> gpd.GeoDataFrame:
    """Join a table of zone attributes (e.g. gemeente indicators) to zone polygons by code.

    Parameters
    ----------
    zones : GeoDataFrame
        Canonical zones (e.g. ``read_zones("data/raw/cbs_gemeenten_2022.geojson")``).
    table : DataFrame
        Attributes with the same code column (e.g. :func:`read_gemeente_indicators`).
    on : str
        Code column present in both (normalised codes).
    what : str
        Name used in the messages.

    Returns
    -------
    GeoDataFrame
        ``zones`` with the table's columns (the table's ``zone_name`` is dropped when the
        zones have one). Unmatched codes are reported as a :class:`DataWarning` and in
        ``attrs["unmatched_zones"]`` (polygons without a table row; their values are NaN)
        and ``attrs["unmatched_table"]`` (table rows without a polygon; not joined).
    """
    if on not in zones.columns or on not in table.columns:
        raise InputError(None, f"join column {on!r} missing in the zones or the {what}",
                         "read both with ruimtekit readers (canonical `zone_id`)")
    dup = table[on][table[on].duplicated()]
    if len(dup):
        raise InputError(table.attrs.get("source"), f"duplicate codes in the {what}: "
                         f"{', '.join(map(str, dup.unique()[:5]))}", "make the codes unique")
    right = table.drop(columns=[c for c in table.columns if c in zones.columns and c != on])
    out = zones.merge(right, on=on, how="left")
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=zones.crs)
    zset, tset = set(zones[on]), set(table[on])
    unmatched_zones = sorted(zset - tset)
    unmatched_table = sorted(tset - zset)
    out.attrs = dict(zones.attrs)
    out.attrs.update(unmatched_zones=unmatched_zones, unmatched_table=unmatched_table,
                     joined=what)
    if table.attrs.get("derived"):
        out.attrs.setdefault("derived", {})
        out.attrs["derived"] = {**out.attrs.get("derived", {}), **table.attrs["derived"]}
    if unmatched_zones or unmatched_table:
        warn(f"joining the {what} by {on}: {len(unmatched_zones)} zone(s) without a {what} row "
             f"({', '.join(unmatched_zones[:10])}{' …' if len(unmatched_zones) > 10 else ''}; "
             f"values NaN) and {len(unmatched_table)} {what} row(s) without a zone "
             f"({', '.join(unmatched_table[:10])}{' …' if len(unmatched_table) > 10 else ''}; "
             "not joined). Boundary years probably differ (municipal mergers).")
    return out


# ======================================================================================
# jobs

def _parse_join_on(join_on: str | Sequence[str] | None) -> tuple[str | None, str | None]:
    if join_on is None:
        return None, None
    if isinstance(join_on, str):
        if "=" in join_on:
            a, b = (s.strip() for s in join_on.split("=", 1))
            return a, b
        return join_on, join_on
    parts = list(join_on)
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise InputError(None, f"join_on {join_on!r} must name one column or a pair",
                     "use `join_on: wk_code=code` or `join_on: [wk_code, code]`")


def read_jobs(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    geometry: str | Path | None = None,
    join_on: str | Sequence[str] | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    level: str | None = None,
) -> gpd.GeoDataFrame:
    """Read jobs: establishment points, zone polygons, or a code table (+ geometry file).

    Parameters
    ----------
    path : str or Path
        * point table (LISA-style establishments with ``banen``/``werkzame_personen``/
          ``wp_totaal``/``jobs``; CSV with x/y or lon/lat, or any vector file);
        * zone polygons with a jobs or establishments column (e.g. a KWB file: ``a_bedv``);
        * a table of jobs per zone code without geometry (e.g.
          ``data/raw/cbs_wijk_banen_2014.csv``: ``wk_code``, ``banen_werkplaats``).
    columns : mapping of str to str, optional
        ``jobs``, ``establishments_proxy``, ``zone_id``, ``zone_name`` → source column.
    geometry : str or Path, optional
        Geometry file (points or polygons) for a code table, joined by code (e.g.
        ``data/raw/cbs_wijk_centroids_2015.geojson``).
    join_on : str or pair of str, optional
        ``"table_col=geometry_col"`` (or ``[table_col, geometry_col]``, or one name for
        both). Default: the zone id columns found in each file (``wk_code`` ↔ ``code``).
    layer : str, optional
        Layer in a multi-layer source.
    crs : str or int, optional
        CRS of the coordinates of ``path`` (and of ``geometry``) when undeclared.
    level : str, optional
        Zone level of the codes (detected when omitted).

    Returns
    -------
    GeoDataFrame (EPSG:28992)
        ``jobs`` (count at the workplace) — or, when the source only has business
        establishments, ``establishments_proxy`` with ``attrs["proxy"] =
        "business establishments stand in for jobs"``. Zone tables carry ``zone_id``
        (canonical code) and ``zone_name`` when present; code tables without ``geometry``
        have an all-empty geometry column. ``attrs``: ``measure`` (the value column),
        ``total``, ``geometry_kind`` (``points``/``polygons``/``none``), ``level``,
        ``unmatched_codes`` and ``unmatched_total`` (code-table rows without geometry,
        dropped and reported).

    Raises
    ------
    InputError
        No jobs/establishments column (lists the names looked for), negative values,
        duplicate codes, no code column, unreadable/empty files, unknown CRS.
    """
    path = Path(path)
    data = _vector.read_any(path, layer, crs=crs)
    allowed = ["jobs", "establishments_proxy", "zone_id", "zone_name"]
    user = _columns.check_mapping(data.columns, columns, allowed, path)

    value_col = user.get("jobs") or _columns.find_column(data.columns, _columns.JOBS_ALIASES)
    measure = "jobs"
    if value_col is None:
        value_col = user.get("establishments_proxy") or _columns.find_column(
            data.columns, _columns.ESTABLISHMENT_ALIASES)
        measure = "establishments_proxy"
    if value_col is None:
        raise InputError(
            path, "no jobs column found; looked for: "
            f"{_looked_for(_columns.JOBS_ALIASES)} (and, as a proxy, establishment counts: "
            f"{_looked_for(_columns.ESTABLISHMENT_ALIASES)})",
            "rename the column or map it in the study file (`columns: {jobs: <column>}`); "
            f"the file has: {_file_columns(data)}",
        )

    has_geom = isinstance(data, gpd.GeoDataFrame)
    kind = "none"
    if has_geom:
        types = set(data.geometry.dropna().geom_type.unique())
        if types <= {"Point"}:
            kind = "points"
        elif types <= {"Polygon", "MultiPolygon"}:
            kind = "polygons"
        else:
            raise InputError(path, f"jobs need points or polygons, found {sorted(types)}",
                             "use establishment points or zone polygons")

    out = pd.DataFrame(data).copy()
    out.attrs = {}
    ids = None
    zlevel = level
    attrs: dict[str, Any] = {}
    id_col = user.get("zone_id")
    if id_col is None and kind != "points":
        id_col, alias_level = _find_zone_id(data, path, level, None)
    elif id_col is not None:
        alias_level = level
    if id_col is not None:
        codes, zlevel = _zone_codes(data, id_col, path, level, alias_level)
        out["zone_id"] = codes.to_numpy()
        ids = out["zone_id"]
        if id_col != "zone_id":
            out = out.drop(columns=id_col)
        name_col = user.get("zone_name") or _columns.find_column(
            out.columns, _columns.ZONE_NAME_ALIASES.get(zlevel or "other", ()) +
            _columns.ZONE_NAME_ALIASES["other"])
        if name_col is not None and name_col != value_col:
            out["zone_name"] = out[name_col].astype("string").astype(object).to_numpy()
            if name_col != "zone_name":
                out = out.drop(columns=name_col)

    vals = _columns.to_numeric(data[value_col], value_col, path, ids)
    vals = vals.where(~(vals <= _columns.SENTINEL_MAX))
    neg = vals < 0
    if neg.any():
        who = (ids if ids is not None else _ids_for_messages(out))[neg.to_numpy()]
        raise InputError(path, f"{int(neg.sum())} negative value(s) in {value_col!r} "
                         f"(e.g. {', '.join(map(str, who[:5]))})",
                         "jobs and establishment counts must be ≥ 0")
    if value_col != measure:
        out = out.drop(columns=value_col)
    out[measure] = vals.to_numpy()
    nan = vals.isna()
    if nan.any():
        who = (ids if ids is not None else _ids_for_messages(out))[nan.to_numpy()]
        attrs["missing_values"] = list(map(str, who))
        warn(f"{path.name}: {int(nan.sum())} row(s) without a {value_col!r} value (NaN, "
             f"not counted): {', '.join(map(str, who[:10]))}")

    if geometry is not None:
        if has_geom:
            raise InputError(path, "the file already has geometry but `geometry:` was also given",
                             "remove `geometry:` or point `path:` at the table without geometry")
        out, kind, join_attrs = _join_geometry(out, path, Path(geometry), join_on, id_col,
                                               zlevel, crs, measure)
        attrs.update(join_attrs)
    if "geometry" not in out.columns:
        out["geometry"] = None
    gdf = gpd.GeoDataFrame(out, geometry="geometry", crs=_crs.working_crs())
    gdf = _finish(gdf, ["zone_id", "zone_name", measure])
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=_crs.working_crs())
    gdf.attrs.update(
        kind="jobs", measure=measure, source=str(path), source_column=value_col,
        total=float(np.nansum(gdf[measure].to_numpy())), geometry_kind=kind,
        level=zlevel if id_col is not None else None, source_crs=data.attrs.get("source_crs"),
        **attrs,
    )
    if measure == "establishments_proxy":
        gdf.attrs["proxy"] = PROXY_NOTE
        log.info("%s: no jobs column; %r (business establishments) is used as a proxy "
                 "(column establishments_proxy)", path.name, value_col)
    return gdf


def _join_geometry(
    table: pd.DataFrame, path: Path, geom_path: Path, join_on: str | Sequence[str] | None,
    id_col: str | None, level: str | None, crs: str | int | None, measure: str,
) -> tuple[pd.DataFrame, str, dict[str, Any]]:
    left, right = _parse_join_on(join_on)
    if left is not None and left != id_col:
        raise InputError(path, f"join_on names {left!r} but the table's code column is "
                         f"{id_col!r}", f"use `join_on: {id_col}=<geometry column>` or map "
                         f"`columns: {{zone_id: {left}}}`")
    geo = _vector.read_any(geom_path, crs=crs)
    if not isinstance(geo, gpd.GeoDataFrame):
        raise InputError(geom_path, "the geometry file has no geometry",
                         "point `geometry:` at a points or polygons file")
    if right is None:
        right, gl = _find_zone_id(geo, geom_path, level, None)
    elif right not in geo.columns:
        raise InputError(geom_path, f"join column {right!r} not found",
                         f"fix `join_on:`; the file has: {_file_columns(geo)}")
    gcodes = _columns.normalise_codes(geo[right], level)
    dup = gcodes[gcodes.duplicated()]
    if len(dup):
        raise InputError(geom_path, f"duplicate codes in {right!r}: "
                         f"{', '.join(map(str, dup.unique()[:5]))}",
                         "make the codes unique (one geometry per code)")
    types = set(geo.geometry.dropna().geom_type.unique())
    kind = "points" if types <= {"Point"} else (
        "polygons" if types <= {"Polygon", "MultiPolygon"} else "mixed")
    if kind == "mixed":
        raise InputError(geom_path, f"mixed geometry types {sorted(types)}",
                         "use one points or one polygons file")
    lookup = gpd.GeoSeries(geo.geometry.to_numpy(), index=gcodes.to_numpy(), crs=_crs.working_crs())
    matched = table["zone_id"].isin(lookup.index)
    attrs: dict[str, Any] = {"geometry_source": str(geom_path),
                             "join": f"{id_col}={right}"}
    unmatched = table.loc[~matched, "zone_id"].tolist()
    attrs["unmatched_codes"] = unmatched
    attrs["unmatched_total"] = float(np.nansum(table.loc[~matched, measure]))
    if unmatched:
        warn(f"{path.name}: {len(unmatched)} code(s) have no geometry in {geom_path.name} and "
             f"are left out ({attrs['unmatched_total']:,.0f} {measure}): "
             f"{', '.join(unmatched[:10])}{' …' if len(unmatched) > 10 else ''}")
    out = table.loc[matched].copy()
    out["geometry"] = lookup.loc[out["zone_id"].to_numpy()].to_numpy()
    attrs["geometry_codes_without_row"] = int((~gcodes.isin(table["zone_id"])).sum())
    return out.reset_index(drop=True), kind, attrs


def aggregate_to_zones(
    points_or_zones: gpd.GeoDataFrame | pd.DataFrame,
    zones: gpd.GeoDataFrame,
    column: str,
    how: Literal["spatial", "code"] = "spatial",
    *,
    max_distance_m: float = defaults.ZONE_ASSIGN_MAX_M,
    code_column: str = "zone_id",
) -> gpd.GeoDataFrame:
    """Sum a count (jobs, establishments ...) from points or other zones into ``zones``.

    Parameters
    ----------
    points_or_zones : GeoDataFrame or DataFrame
        Source rows with ``column``. For ``how="spatial"`` they need geometry (polygons
        are represented by an interior point, so each source zone goes to one target
        zone); for ``how="code"`` they need ``code_column``.
    zones : GeoDataFrame
        Target zones with ``zone_id`` and polygons (EPSG:28992).
    column : str
        Column to sum.
    how : {"spatial", "code"}
        Spatial join (point in polygon; points on a shared edge go to the first zone) or
        match on codes.
    max_distance_m : float
        Points outside every polygon go to the nearest polygon within this distance
        (metres). Farther points are not assigned; they are reported.
    code_column : str
        Code column of the source rows for ``how="code"``.

    Returns
    -------
    GeoDataFrame
        A copy of ``zones`` with ``column`` (sum per zone; 0 where nothing was assigned).
        ``attrs["aggregation"]``: ``total_in`` (sum of the source), ``total_assigned``,
        ``n_rows``, ``n_inside``, ``n_nearest`` (nearest-polygon fallback),
        ``nearest_max_m``, ``nearest_ids``, ``n_unassigned``, ``unassigned_total``,
        ``unassigned_ids``, ``n_missing`` (NaN source values, not counted).
        Unassigned rows and NaN values are reported as a :class:`DataWarning`.
    """
    if column not in points_or_zones.columns:
        raise InputError(points_or_zones.attrs.get("source"), f"no column {column!r} to aggregate",
                         f"use one of: {_file_columns(points_or_zones)}")
    if "zone_id" not in zones.columns:
        raise InputError(zones.attrs.get("source"), "the target zones have no zone_id",
                         "read them with ruimtekit.io.layers.read_zones")
    src = points_or_zones
    vals = pd.to_numeric(src[column], errors="coerce").to_numpy(dtype="float64")
    ids = _ids_for_messages(src).to_numpy()
    missing = np.isnan(vals)
    n = len(src)
    zone_of = np.full(n, -1, dtype=np.int64)
    info: dict[str, Any] = {"column": column, "how": how, "n_rows": int(n)}

    if how == "spatial":
        if not isinstance(src, gpd.GeoDataFrame) or src.geometry.isna().all():
            raise InputError(src.attrs.get("source"), "the source rows have no geometry",
                             "use how='code' for tables keyed by zone code, or join a geometry "
                             "file first (read_jobs(..., geometry=...))")
        geom = src.geometry
        if src.crs is not None and zones.crs is not None and not src.crs.equals(zones.crs):
            geom = geom.to_crs(zones.crs)
        poly = geom.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        if poly.any():
            geom = geom.copy()
            geom.loc[poly] = geom.loc[poly].representative_point()
            info["polygons_as_points"] = int(poly.sum())
        has = ~(geom.isna() | geom.is_empty).to_numpy()
        pts = gpd.GeoDataFrame({"_i": np.arange(n)[has]}, geometry=geom.to_numpy()[has],
                               crs=zones.crs)
        tz = gpd.GeoDataFrame({"_z": np.arange(len(zones))}, geometry=zones.geometry.to_numpy(),
                              crs=zones.crs)
        j = gpd.sjoin(pts, tz, how="inner", predicate="intersects")
        j = j.sort_values(["_i", "_z"]).drop_duplicates("_i")
        zone_of[j["_i"].to_numpy()] = j["_z"].to_numpy()
        info["n_inside"] = int(len(j))
        out_mask = has & (zone_of < 0)
        n_nearest = 0
        dists: np.ndarray = np.array([])
        near_idx: np.ndarray = np.array([], dtype=np.int64)
        if out_mask.any():
            outside = pts[pts["_i"].isin(np.flatnonzero(out_mask))]
            nn = gpd.sjoin_nearest(outside, tz, how="inner", max_distance=max_distance_m,
                                   distance_col="_d")
            nn = nn.sort_values(["_i", "_d", "_z"]).drop_duplicates("_i")
            near_idx = nn["_i"].to_numpy()
            zone_of[near_idx] = nn["_z"].to_numpy()
            dists = nn["_d"].to_numpy()
            n_nearest = len(nn)
        info.update(n_nearest=n_nearest,
                    nearest_max_m=float(dists.max()) if len(dists) else 0.0,
                    nearest_ids=[str(ids[i]) for i in near_idx],
                    max_distance_m=float(max_distance_m))
        if n_nearest:
            log.info("%d of %d rows lie outside every zone and went to the nearest zone "
                     "(≤ %.0f m, farthest %.0f m)", n_nearest, n, max_distance_m,
                     info["nearest_max_m"])
    elif how == "code":
        if code_column not in src.columns:
            raise InputError(src.attrs.get("source"), f"no code column {code_column!r}",
                             "read the table with read_jobs (canonical zone_id) or pass "
                             "code_column=")
        level = zones.attrs.get("level")
        codes = _columns.normalise_codes(src[code_column],
                                         level if level in _columns.LEVELS else None)
        pos = pd.Series(np.arange(len(zones)), index=zones["zone_id"].astype(str).to_numpy())
        zone_of = pos.reindex(codes.astype(str).to_numpy()).fillna(-1).to_numpy(dtype=np.int64)
        info["n_inside"] = int((zone_of >= 0).sum())
        info["n_nearest"] = 0
    else:
        raise InputError(None, f"unknown aggregation how={how!r}", "use 'spatial' or 'code'")

    unassigned = (zone_of < 0) & ~missing
    assigned = (zone_of >= 0) & ~missing
    sums = np.bincount(zone_of[assigned], weights=vals[assigned], minlength=len(zones))
    info.update(
        total_in=float(np.nansum(vals)),
        total_assigned=float(sums.sum()),
        n_unassigned=int(unassigned.sum()),
        unassigned_total=float(vals[unassigned].sum()),
        unassigned_ids=[str(i) for i in ids[unassigned]],
        n_missing=int(missing.sum()),
    )
    if info["n_unassigned"]:
        where = (f"farther than {max_distance_m:.0f} m from every zone" if how == "spatial"
                 else "with codes not among the zones")
        warn(f"{info['n_unassigned']} row(s) {where} were not assigned "
             f"({info['unassigned_total']:,.0f} {column} of {info['total_in']:,.0f}): "
             f"{', '.join(info['unassigned_ids'][:10])}"
             f"{' …' if info['n_unassigned'] > 10 else ''}")
    if info["n_missing"]:
        warn(f"{info['n_missing']} row(s) have no {column} value (NaN) and were not counted")
    out = zones.copy()
    if column in out.columns:
        log.info("replacing the existing %r column of the zones", column)
    out[column] = sums
    out.attrs = dict(zones.attrs)
    out.attrs["aggregation"] = info
    if points_or_zones.attrs.get("proxy"):
        out.attrs["proxy"] = points_or_zones.attrs["proxy"]
    return out


# ======================================================================================
# vacancy

_DATE_MISSING = {"", ".", "-", "nan", "NaN", "NaT", "None", "null", "NA", "n/a"}


def _parse_dates(s: pd.Series, name: str, path: Path, ids: pd.Series) -> pd.Series:
    """Parse ISO (YYYY-MM-DD[ time]), Dutch (DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY),
    YYYYMMDD and bare years (→ 1 January) into datetime64[ns]."""
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert(None)
        return out.astype("datetime64[ns]")
    txt = s.astype("string").str.strip()
    missing = (txt.isna() | txt.isin(list(_DATE_MISSING))).to_numpy()
    t = txt.where(~pd.Series(missing, index=txt.index))
    res = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    iso_mask = t.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}([ T].*)?").fillna(False).to_numpy(bool)
    nl_mask = t.str.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}").fillna(False).to_numpy(bool)
    ymd_mask = t.str.fullmatch(r"(19|20)\d{6}").fillna(False).to_numpy(bool)
    y_mask = t.str.fullmatch(r"(19|20)\d{2}").fillna(False).to_numpy(bool)
    if iso_mask.any():
        v = pd.to_datetime(t[iso_mask], format="ISO8601", errors="coerce", utc=True)
        res[iso_mask] = v.dt.tz_convert(None).to_numpy()
    if nl_mask.any():
        v = pd.to_datetime(t[nl_mask].str.replace(r"[/.]", "-", regex=True),
                           format="%d-%m-%Y", errors="coerce")
        res[nl_mask] = v.to_numpy()
    if ymd_mask.any():
        res[ymd_mask] = pd.to_datetime(t[ymd_mask], format="%Y%m%d", errors="coerce").to_numpy()
    if y_mask.any():
        res[y_mask] = pd.to_datetime(t[y_mask], format="%Y", errors="coerce").to_numpy()
    bad = res.isna().to_numpy() & ~missing
    if bad.any():
        idx = np.flatnonzero(bad)
        ex = "; ".join(f"{ids.iloc[i]}: {s.iloc[i]!r}" for i in idx[:5])
        raise InputError(
            path, f"{len(idx)} unparseable date(s) in {name!r}, e.g. {ex}",
            "write dates as YYYY-MM-DD (ISO) or DD-MM-YYYY (Dutch); leave the cell empty when "
            "unknown",
        )
    return res


def read_vacancy(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    synthetic: bool | None = None,
) -> gpd.GeoDataFrame:
    """Read vacant real estate (offices, shops, business premises) as points or polygons.

    Parameters
    ----------
    path : str or Path
        Points or polygons (any vector format, CSV with x/y or lon/lat).
    columns : mapping of str to str, optional
        ``object_id``, ``function``, ``floor_area_m2``, ``vacant_since``, ``synthetic`` →
        source column.
    layer, crs : optional
        See :func:`read_zones`.
    synthetic : bool, optional
        Mark the data as synthetic (generated); overrides a ``synthetic`` column.

    Returns
    -------
    GeoDataFrame (EPSG:28992)
        ``object_id`` (str), ``function`` (``kantoor``/``winkel``/``bedrijf``/``overig``;
        BAG ``gebruiksdoel`` values such as ``kantoorfunctie`` are mapped, the first
        recognised value of a multi-valued cell wins), ``floor_area_m2`` (m²; for polygons
        without a floor-area column the footprint area), ``vacant_since`` (datetime64; ISO
        and Dutch dd-mm-yyyy accepted), ``synthetic`` (bool), other source columns,
        geometry. ``attrs``: ``function_unmapped`` (source values mapped to ``overig``),
        ``floor_area_source``, ``synthetic``.

    Raises
    ------
    InputError
        No geometry, no function column, negative floor area, unparseable dates
        (examples listed), duplicate or missing ids, floor area missing for points.
    """
    path = Path(path)
    data = _vector.read_any(path, layer, crs=crs)
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(path, "the file has no geometry (no x/y, lon/lat or WKT columns)",
                         "add coordinates (x/y in RD or lon/lat) or use a vector file")
    types = set(data.geometry.dropna().geom_type.unique())
    if not types <= {"Point", "Polygon", "MultiPolygon"}:
        raise InputError(path, f"vacancy objects must be points or polygons, found {sorted(types)}",
                         "export points (addresses) or polygons (buildings)")
    is_poly = data.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    allowed = list(_columns.VACANCY_ALIASES)
    user = _columns.check_mapping(data.columns, columns, allowed, path)
    found = {c: user.get(c) or _columns.find_column(data.columns, a)
             for c, a in _columns.VACANCY_ALIASES.items()}
    out = pd.DataFrame(data).copy()
    out.attrs = {}
    attrs: dict[str, Any] = {}

    id_col = found["object_id"]
    if id_col is None:
        ids = pd.Series([f"{path.stem}-{i + 1}" for i in range(len(data))], index=data.index)
        warn(f"{path.name}: no id column (looked for "
             f"{_looked_for(_columns.VACANCY_ALIASES['object_id'])}); numbering rows as "
             f"{path.stem}-1, {path.stem}-2, …")
    else:
        raw = data[id_col]
        if pd.api.types.is_float_dtype(raw) and raw.dropna().apply(float.is_integer).all():
            raw = raw.astype("Int64")
        ids = raw.astype("string").str.strip()
        if ids.isna().any():
            rows = ", ".join(str(i + 1) for i in np.flatnonzero(ids.isna().to_numpy())[:5])
            raise InputError(path, f"{int(ids.isna().sum())} row(s) have no id in {id_col!r} "
                             f"(rows {rows})", "fill in the ids or remove those rows")
        ids = ids.astype(object)
        dup = ids[ids.duplicated(keep=False)]
        if len(dup):
            raise InputError(path, f"duplicate ids in {id_col!r}: "
                             f"{', '.join(map(str, dup.unique()[:5]))}",
                             "make the ids unique (one row per vacant object)")
        out = out.drop(columns=id_col)
    out["object_id"] = ids.to_numpy()
    ids = pd.Series(ids.to_numpy(), index=out.index)

    fcol = found["function"]
    if fcol is None:
        raise InputError(
            path, "no function column found; looked for: "
            f"{_looked_for(_columns.VACANCY_ALIASES['function'])}",
            "add a column with kantoor/winkel/bedrijf (or BAG gebruiksdoel) or map it: "
            f"`columns: {{function: <column>}}`; the file has: {_file_columns(data)}",
        )
    func, unmapped = _columns.map_values(data[fcol], _columns.FUNCTION_VALUES, "overig")
    if fcol != "function":
        out = out.drop(columns=fcol)
    out["function"] = func.to_numpy()
    attrs["function_unmapped"] = unmapped
    if unmapped:
        log.info("%s: function values mapped to 'overig': %s", path.name,
                 ", ".join(f"{k} ×{v}" for k, v in unmapped.items()))

    acol = found["floor_area_m2"]
    geom_area = data.geometry.area.to_numpy()
    if acol is None:
        if not is_poly.all():
            raise InputError(
                path, "no floor area column found; looked for: "
                f"{_looked_for(_columns.VACANCY_ALIASES['floor_area_m2'])}",
                "add the floor area in m² or map it: `columns: {floor_area_m2: <column>}` "
                "(polygons without one use their footprint area)",
            )
        area = pd.Series(geom_area, index=out.index)
        attrs["floor_area_source"] = "polygon footprint area (m², EPSG:28992)"
    else:
        area = _columns.to_numeric(data[acol], acol, path, ids)
        area = area.where(~(area <= _columns.SENTINEL_MAX))
        neg = area < 0
        if neg.any():
            raise InputError(path, f"{int(neg.sum())} negative floor area(s) in {acol!r}: "
                             f"{', '.join(map(str, ids[neg.to_numpy()][:5]))}",
                             "floor areas are m² ≥ 0; fix or remove those rows")
        nan = area.isna().to_numpy()
        fill = nan & is_poly
        if fill.any():
            area[fill] = geom_area[fill]
            attrs["floor_area_filled_from_footprint"] = [str(i) for i in ids[fill]]
            warn(f"{path.name}: {int(fill.sum())} object(s) without floor area use their "
                 "footprint area")
        rest = nan & ~is_poly
        if rest.any():
            attrs["floor_area_missing"] = [str(i) for i in ids[rest]]
            warn(f"{path.name}: {int(rest.sum())} object(s) without floor area (NaN): "
                 f"{', '.join(map(str, ids[rest][:10]))}")
        attrs["floor_area_source"] = f"column {acol!r}"
        if acol != "floor_area_m2":
            out = out.drop(columns=acol)
    out["floor_area_m2"] = area.to_numpy(dtype="float64")

    dcol = found["vacant_since"]
    if dcol is None:
        out["vacant_since"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
        warn(f"{path.name}: no vacant-since column (looked for "
             f"{_looked_for(_columns.VACANCY_ALIASES['vacant_since'])}); vacant_since is empty")
    else:
        dates = _parse_dates(data[dcol], dcol, path, ids)
        future = dates > pd.Timestamp.now()
        if future.any():
            warn(f"{path.name}: {int(future.sum())} vacant-since date(s) lie in the future: "
                 f"{', '.join(map(str, ids[future.to_numpy()][:5]))}")
        if dcol != "vacant_since":
            out = out.drop(columns=dcol)
        out["vacant_since"] = dates.to_numpy()

    scol = found["synthetic"]
    if synthetic is not None:
        flag = np.full(len(out), bool(synthetic))
    elif scol is not None:
        flag = data[scol].astype("string").str.strip().str.lower().isin(
            ["true", "1", "yes", "ja", "y", "j"]).to_numpy()
    else:
        flag = np.zeros(len(out), dtype=bool)
    out["synthetic"] = flag
    gdf = gpd.GeoDataFrame(_finish(out, ["object_id", "function", "floor_area_m2",
                                         "vacant_since", "synthetic"]),
                           geometry="geometry", crs=_crs.working_crs())
    gdf.attrs.update(kind="vacancy", source=str(path), synthetic=bool(flag.any()),
                     source_crs=data.attrs.get("source_crs"), **attrs)
    return gdf


# ======================================================================================
# stations

def read_stations(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    crs: str | int | None = None,
    default_type: str | None = None,
) -> gpd.GeoDataFrame:
    """Read stations / stops (points) with a canonical station type.

    Parameters
    ----------
    path : str or Path
        Points (vector file, CSV with x/y or lon/lat). Polygons (station areas) are
        represented by an interior point.
    columns : mapping of str to str, optional
        ``station_id``, ``station_name``, ``station_type``, ``ridership`` → source column.
    layer, crs : optional
        See :func:`read_zones`.
    default_type : str, optional
        Station type for files without a type column (one of ``intercity``, ``sprinter``,
        ``metro``, ``tram``, ``bus``, ``ferry``, ``other``).

    Returns
    -------
    GeoDataFrame (EPSG:28992, points)
        ``station_id`` (str), ``station_name``, ``station_type`` (source values such as
        ``Intercitystation``, ``stoptrein``, ``metrostation``, ``tramhalte`` mapped;
        unknown → ``other`` and reported), ``ridership`` (boardings + alightings per
        workday) when the source has it, other columns. ``attrs["station_type_source"]``.

    Raises
    ------
    InputError
        No id or name column, duplicate ids, non-point geometry other than polygons,
        unknown ``default_type``, negative ridership, unreadable/empty file, unknown CRS.
    """
    path = Path(path)
    if default_type is not None and default_type not in _columns.STATION_TYPES:
        raise InputError(path, f"unknown default station type {default_type!r}",
                         f"use one of: {', '.join(_columns.STATION_TYPES)}")
    data = _vector.read_any(path, layer, crs=crs)
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(path, "the file has no geometry (no x/y, lon/lat or WKT columns)",
                         "add station coordinates (x/y in RD or lon/lat)")
    user = _columns.check_mapping(data.columns, columns, list(_columns.STATION_ALIASES), path)
    found = {c: user.get(c) or _columns.find_column(data.columns, a)
             for c, a in _columns.STATION_ALIASES.items()}
    out = pd.DataFrame(data).copy()
    out.attrs = {}
    attrs: dict[str, Any] = {}
    types = set(data.geometry.dropna().geom_type.unique())
    if not types <= {"Point"}:
        if types <= {"Polygon", "MultiPolygon", "Point"}:
            out["geometry"] = data.geometry.representative_point().to_numpy()
            warn(f"{path.name}: station polygons are represented by an interior point")
        else:
            raise InputError(path, f"stations must be points, found {sorted(types)}",
                             "export station points")
    id_col, name_col = found["station_id"], found["station_name"]
    if id_col is None and name_col is None:
        raise InputError(
            path, "no station id or name column found; looked for: "
            f"{_looked_for(_columns.STATION_ALIASES['station_id'])}, "
            f"{_looked_for(_columns.STATION_ALIASES['station_name'])}",
            "add an id column or map it: `columns: {station_id: <column>}`; the file has: "
            f"{_file_columns(data)}",
        )
    if id_col is None:
        id_col = name_col
        warn(f"{path.name}: no station id column; the name column {name_col!r} is used as id")
    raw = data[id_col]
    if pd.api.types.is_float_dtype(raw) and raw.dropna().apply(float.is_integer).all():
        raw = raw.astype("Int64")
    ids = raw.astype("string").str.strip()
    if ids.isna().any():
        raise InputError(path, f"{int(ids.isna().sum())} station(s) have no id in {id_col!r}",
                         "fill in the ids or remove those rows")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise InputError(path, f"duplicate station ids in {id_col!r}: "
                         f"{', '.join(map(str, dup.unique()[:5]))}",
                         "make the ids unique (one row per station)")
    ids = ids.astype(object)
    out["station_id"] = ids.to_numpy()
    names = data[name_col].astype("string").astype(object) if name_col is not None else ids
    out["station_name"] = names.to_numpy()
    tcol = found["station_type"]
    if tcol is not None:
        st, unmapped = _columns.map_values(data[tcol], _columns.STATION_TYPE_VALUES, "other")
        out["station_type"] = st.to_numpy()
        attrs["station_type_source"] = f"column {tcol!r}"
        attrs["station_type_unmapped"] = unmapped
        if unmapped:
            warn(f"{path.name}: station types not recognised, read as 'other': "
                 + ", ".join(f"{k} ×{v}" for k, v in list(unmapped.items())[:10]))
    else:
        out["station_type"] = default_type or "other"
        attrs["station_type_source"] = (f"default_type={default_type!r}" if default_type
                                        else "none (no type column): all 'other'")
        if default_type is None:
            warn(f"{path.name}: no station type column (looked for "
                 f"{_looked_for(_columns.STATION_ALIASES['station_type'])}); all stations "
                 "are 'other' (set `default_type` or map `columns: {station_type: ...}`)")
    rcol = found["ridership"]
    if rcol is not None:
        r = _columns.to_numeric(data[rcol], rcol, path, pd.Series(ids))
        r = r.where(~(r <= _columns.SENTINEL_MAX))
        if (r < 0).any():
            raise InputError(path, f"negative ridership in {rcol!r}",
                             "ridership is boardings + alightings per workday, ≥ 0")
        out["ridership"] = r.to_numpy()
        attrs["ridership_source"] = rcol
    drop = [c for c in dict.fromkeys([id_col, name_col, tcol, rcol])
            if c is not None and c not in ("station_id", "station_name", "station_type",
                                           "ridership")]
    out = out.drop(columns=[c for c in drop if c in out.columns])
    gdf = gpd.GeoDataFrame(_finish(out, ["station_id", "station_name", "station_type",
                                         "ridership"]), geometry="geometry", crs=_crs.working_crs())
    gdf.attrs.update(kind="stations", source=str(path),
                     source_crs=data.attrs.get("source_crs"), **attrs)
    return gdf


def _fix_mojibake(s: str) -> str:
    """Undo UTF-8 text that was decoded as cp1252 (once or twice): 'FeanwÃƒÂ¢lden' → 'Feanwâlden'."""
    for _ in range(3):
        if not re.search("[ÃÂ]", s):
            break
        try:
            s = s.encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
    return s


def derive_intercity(
    x: np.ndarray, y: np.ndarray, links: Iterable[tuple[int, int]],
    max_offset_m: float = defaults.INTERCITY_OFFSET_M,
) -> tuple[np.ndarray, dict[int, str]]:
    """Flag stations that are endpoints of skip-stop service links.

    A service link a–b *skips* station c when c lies between a and b (its projection on
    the segment a→b falls strictly inside it), within ``max_offset_m`` of the segment,
    and c is itself linked to a or b (so c is on the same line). Both a and b are then
    served by a train that passes c without stopping: intercity stations.

    Parameters
    ----------
    x, y : ndarray
        Station coordinates (EPSG:28992, metres).
    links : iterable of (int, int)
        Service links between consecutively served stations (indices into x/y).
    max_offset_m : float
        Largest distance from c to the straight segment a–b (metres).

    Returns
    -------
    is_intercity : ndarray of bool
    evidence : dict of int to str
        For each flagged station, one skip-stop link as ``"a–b skips c"`` (indices).
    """
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    n = len(xy)
    adj: list[set[int]] = [set() for _ in range(n)]
    edges: set[tuple[int, int]] = set()
    for a, b in links:
        if a == b:
            continue
        adj[a].add(b)
        adj[b].add(a)
        edges.add((min(a, b), max(a, b)))
    flag = np.zeros(n, dtype=bool)
    evidence: dict[int, str] = {}
    for a, b in sorted(edges):
        p, v = xy[a], xy[b] - xy[a]
        length2 = float(v @ v)
        if length2 == 0:
            continue
        d = xy - p
        t = (d @ v) / length2
        off = np.abs(d[:, 0] * v[1] - d[:, 1] * v[0]) / np.sqrt(length2)
        for c in np.flatnonzero((t > 0) & (t < 1) & (off <= max_offset_m)):
            if c in (a, b) or not (a in adj[c] or b in adj[c]):
                continue
            flag[a] = flag[b] = True
            evidence.setdefault(a, f"{a}–{b} skips {c}")
            evidence.setdefault(b, f"{b}–{a} skips {c}")
            break
    return flag, evidence


STATION_TYPE_DERIVED_NOTE = (
    "station_type derived from service links (NS open data has no station type): stations at "
    "either end of a skip-stop link (a link a–b passing within {d:.0f} m of a station c between "
    "a and b that is itself linked to a or b) are 'intercity', all others 'sprinter'"
)


def read_ns_stations(network_json: str | Path, *, max_offset_m: float = defaults.INTERCITY_OFFSET_M
                     ) -> gpd.GeoDataFrame:
    """Read NS railway stations from a t-rain ``network.json`` and derive the station type.

    Parameters
    ----------
    network_json : str or Path
        ``{"nodes": [{"id", "name_long", "x", "y" (EPSG:28992), "InUit2018"}],
        "links": [{"source", "target"}]}`` (e.g. ``data/raw/ns_rail/network.json``).
    max_offset_m : float
        Distance (metres) for the skip-stop rule, see :func:`derive_intercity`.

    Returns
    -------
    GeoDataFrame (EPSG:28992, points)
        ``station_id`` (NS code, e.g. ``UT``), ``station_name``, ``station_type``
        (``intercity``/``sprinter``, derived), ``ridership`` (InUit2018: boardings +
        alightings per average workday in 2018; NaN where NS published none),
        ``type_evidence`` (the skip-stop link behind an intercity flag), ``n_links``.
        ``attrs["station_type_source"]`` states that the type is derived from service
        links; ``attrs["links"]`` holds the (source, target) code pairs.

    Raises
    ------
    InputError
        File missing or not JSON, no nodes, missing keys, links to unknown stations,
        coordinates not in RD New.
    """
    path = Path(network_json)
    if not path.exists():
        raise InputError(path, "file not found", "check the path")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"the file is not valid JSON ({exc})",
                         "use the t-rain network.json structure {nodes: [...], links: [...]}"
                         ) from None
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    links = doc.get("links", []) if isinstance(doc, dict) else []
    if not nodes:
        raise InputError(path, "no stations: 'nodes' is missing or empty",
                         "use the structure {\"nodes\": [{\"id\", \"name_long\", \"x\", \"y\"}], "
                         "\"links\": [{\"source\", \"target\"}]}")
    nd = pd.DataFrame(nodes)
    need = [c for c in ("id", "x", "y") if c not in nd.columns]
    if need:
        raise InputError(path, f"station nodes lack {', '.join(need)}",
                         "every node needs id, x, y (EPSG:28992) and name_long")
    ids = nd["id"].astype(str)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(path, f"duplicate station ids: {', '.join(dup.unique()[:5])}",
                         "make the node ids unique")
    x = _columns.to_numeric(nd["x"], "x", path, ids).to_numpy()
    y = _columns.to_numeric(nd["y"], "y", path, ids).to_numpy()
    if np.isnan(x).any() or np.isnan(y).any():
        raise InputError(path, "some stations have no x/y", "fill in RD coordinates")
    b = np.array([x.min(), y.min(), x.max(), y.max()])
    if _vector.guess_crs(b) != CRS:
        raise InputError(path, f"station coordinates ({b.round(1).tolist()}) are not RD New",
                         "network.json must hold EPSG:28992 x/y in metres")
    pos = {s: i for i, s in enumerate(ids)}
    pairs = []
    unknown = set()
    for link in links:
        s, t = str(link.get("source")), str(link.get("target"))
        if s not in pos or t not in pos:
            unknown.update({s, t} - set(pos))
            continue
        pairs.append((pos[s], pos[t]))
    if unknown:
        raise InputError(path, f"links refer to unknown stations: {', '.join(sorted(unknown)[:5])}",
                         "every link source/target must be a node id")
    flag, evidence = derive_intercity(x, y, pairs, max_offset_m)
    names = (nd["name_long"] if "name_long" in nd.columns else ids).astype(str).map(_fix_mojibake)
    degree = np.zeros(len(nd), dtype=np.int64)
    for a, c in {(min(p), max(p)) for p in pairs if p[0] != p[1]}:
        degree[a] += 1
        degree[c] += 1

    def _ev(i: int) -> str | None:
        if i not in evidence:
            return None
        a, rest = evidence[i].split("–")
        bb, c = rest.split(" skips ")
        return f"{ids.iloc[int(a)]}–{ids.iloc[int(bb)]} skips {ids.iloc[int(c)]}"

    ridership = (_columns.to_numeric(nd["InUit2018"], "InUit2018", path, ids)
                 if "InUit2018" in nd.columns else pd.Series(np.nan, index=nd.index))
    gdf = gpd.GeoDataFrame(
        {
            "station_id": ids.to_numpy(dtype=object),
            "station_name": names.to_numpy(dtype=object),
            "station_type": np.where(flag, "intercity", "sprinter").astype(object),
            "ridership": ridership.to_numpy(dtype="float64"),
            "type_evidence": [_ev(i) for i in range(len(nd))],
            "n_links": degree,
        },
        geometry=gpd.points_from_xy(x, y), crs=CRS,
    )
    gdf.attrs.update(
        kind="stations", source=str(path),
        station_type_source=STATION_TYPE_DERIVED_NOTE.format(d=max_offset_m),
        ridership_source="InUit2018 (NS, boardings + alightings per average workday 2018)",
        links=[(ids.iloc[a], ids.iloc[c]) for a, c in pairs],
    )
    return gdf


def _gtfs_mode(code: float) -> str:
    """GTFS route_type (basic or extended) → tram/metro/rail/bus/ferry/other."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return "other"
    c = int(code)
    if c in _columns.GTFS_ROUTE_TYPES:
        return _columns.GTFS_ROUTE_TYPES[c]
    if 100 <= c < 200:
        return "rail"
    if 400 <= c < 500:
        return "metro"
    if 900 <= c < 1000:
        return "tram"
    if 200 <= c < 300 or 700 <= c < 800:
        return "bus"
    if c in (1000, 1200):
        return "ferry"
    return "other"


def read_transit_stops_gml(
    gml: str | Path,
    *,
    modes: Sequence[str] = ("rail", "metro", "tram"),
    ns_stations: gpd.GeoDataFrame | str | Path | None = None,
    merge_distance_m: float = defaults.STOP_MERGE_M,
    match_distance_m: float = defaults.STOP_MATCH_M,
) -> gpd.GeoDataFrame:
    """Read public-transport stops from an igraph GML network into a stations layer.

    Parameters
    ----------
    gml : str or Path
        Directed GML written by igraph (e.g. ``data/raw/pt_amsterdam_2022.gml``): nodes
        with ``x`` = lon, ``y`` = lat (WGS84), ``routetype`` (GTFS route_type: 0 tram,
        1 metro, 2 rail, 3 bus, 4 ferry; extended codes accepted), ``stopid``,
        ``stopname``, ``parentstation``, ``uniqueagencyid``.
    modes : sequence of str
        Modes to keep (``rail``, ``metro``, ``tram``, ``bus``, ``ferry``).
    ns_stations : GeoDataFrame or path, optional
        NS stations (:func:`read_ns_stations` result or a ``network.json`` path). Rail
        stops take the ``station_type`` (intercity/sprinter) of the nearest NS station
        within ``match_distance_m``. Without it, rail stops are ``other`` (GTFS has no
        station type) and this is stated in ``attrs["station_type_source"]``.
    merge_distance_m : float
        Stops of the same mode and name within this distance (metres) are one station
        (platforms, directions); stops sharing a ``parentstation`` always are.
    match_distance_m : float
        Largest distance (metres) between a rail stop and its NS station.

    Returns
    -------
    GeoDataFrame (EPSG:28992, points)
        ``station_id`` (parent station, or first stop id; ``:<mode>`` appended when a
        parent station serves several modes), ``station_name``, ``station_type``
        (tram→``tram``, metro→``metro``, bus→``bus``, ferry→``ferry``, rail→ NS type or
        ``other``), ``mode``, ``agency``, ``n_stops`` (stops merged), ``stop_ids``,
        ``ns_station_id`` (rail, when matched). ``attrs["station_type_source"]``.

    Raises
    ------
    InputError
        File missing or unreadable as GML, nodes without coordinates/route types, no stop
        of the requested modes, unknown mode names.
    """
    import igraph

    path = Path(gml)
    bad_modes = [m for m in modes if m not in ("rail", "metro", "tram", "bus", "ferry")]
    if bad_modes:
        raise InputError(path, f"unknown mode(s) {bad_modes}",
                         "use rail, metro, tram, bus and/or ferry")
    if not path.exists():
        raise InputError(path, "file not found", "check the path")
    try:
        g = igraph.Graph.Read_GML(str(path))
    except Exception as exc:  # noqa: BLE001 - igraph raises InternalError/SystemError
        raise InputError(path, f"the file cannot be read as GML ({str(exc).strip()[:200]})",
                         "use a GML network written by igraph (Graph.write_gml)") from None
    if g.vcount() == 0:
        raise InputError(path, "the network has no nodes (empty)", "export the network again")
    attrs_v = set(g.vs.attributes())
    need = [a for a in ("x", "y", "routetype") if a not in attrs_v]
    if need:
        raise InputError(path, f"stop nodes lack the attribute(s) {', '.join(need)}",
                         "nodes need x (lon), y (lat) and routetype (GTFS route_type)")

    def col(name: str, default: object = None) -> list:
        return list(g.vs[name]) if name in attrs_v else [default] * g.vcount()

    df = pd.DataFrame({
        "v": np.arange(g.vcount()),
        "x": pd.to_numeric(pd.Series(col("x")), errors="coerce"),
        "y": pd.to_numeric(pd.Series(col("y")), errors="coerce"),
        "mode": [_gtfs_mode(c) for c in pd.to_numeric(pd.Series(col("routetype")),
                                                       errors="coerce")],
        "stopid": [str(s) if s is not None else str(i) for i, s in enumerate(col("stopid"))],
        "name": [_fix_mojibake(str(s)) if s else "" for s in col("stopname", "")],
        "parent": [str(s) if s else "" for s in col("parentstation", "")],
        "agency": [str(s) if s else "" for s in col("uniqueagencyid", "")],
    })
    if df[["x", "y"]].isna().any().any():
        raise InputError(path, "some stop nodes have no coordinates",
                         "every node needs numeric x (lon) and y (lat)")
    b = np.array([df.x.min(), df.y.min(), df.x.max(), df.y.max()])
    src_crs = _vector.guess_crs(b)
    if src_crs is None:
        raise InputError(path, f"unknown CRS: stop coordinates {b.round(4).tolist()} are neither "
                         "lon/lat nor RD in the Netherlands",
                         "write x = longitude, y = latitude (WGS84)")
    pts = gpd.GeoSeries(gpd.points_from_xy(df.x, df.y), crs=src_crs).to_crs(CRS)
    df["X"], df["Y"] = pts.x.to_numpy(), pts.y.to_numpy()
    sel = df[df["mode"].isin(list(modes))].copy()
    if sel.empty:
        raise InputError(path, f"no stops of mode(s) {', '.join(modes)} "
                         f"(the network has {', '.join(sorted(df['mode'].unique()))})",
                         "choose other `modes`")

    # 1) parent stations; 2) same mode + name within merge_distance_m
    sel["group"] = np.where(sel["parent"] != "", "p:" + sel["parent"] + "|" + sel["mode"],
                            "s:" + sel["stopid"] + "|" + sel["mode"])
    first = sel.groupby("group", sort=False).agg(
        X=("X", "mean"), Y=("Y", "mean"), name=("name", "first"), mode=("mode", "first"))
    first["key"] = first["name"].str.lower().str.replace(r"\s+", " ", regex=True).str.strip() \
        + "|" + first["mode"]
    cluster: dict[str, str] = {}
    for _, grp in first.groupby("key", sort=False):
        centres: list[tuple[str, float, float]] = []
        for gid, r in grp.iterrows():
            for cid, cx, cy in centres:
                if np.hypot(r.X - cx, r.Y - cy) <= merge_distance_m:
                    cluster[gid] = cid
                    break
            else:
                centres.append((gid, r.X, r.Y))
                cluster[gid] = gid
    sel["station"] = sel["group"].map(cluster)
    st = sel.groupby("station", sort=False).agg(
        X=("X", "mean"), Y=("Y", "mean"), station_name=("name", "first"), mode=("mode", "first"),
        agency=("agency", lambda s: ";".join(sorted(set(s) - {""}))),
        n_stops=("v", "size"), stop_ids=("stopid", lambda s: ";".join(s)),
        parent=("parent", "first"), stopid=("stopid", "first"),
    ).reset_index(drop=True)
    st["station_id"] = np.where(st["parent"] != "", st["parent"], st["stopid"])
    if st["station_id"].duplicated().any():  # same parent station served by several modes
        st["station_id"] = st["station_id"] + ":" + st["mode"]

    stype = st["mode"].map({"metro": "metro", "tram": "tram", "bus": "bus",
                            "ferry": "ferry"}).astype(object)
    type_source = "GTFS route_type (0 tram, 1 metro, 3 bus, 4 ferry)"
    rail = (st["mode"] == "rail").to_numpy()
    st["ns_station_id"] = None
    if rail.any():
        if ns_stations is None:
            type_source += "; rail stops: 'other' (GTFS has no station type; pass ns_stations)"
            log.info("%s: rail stops typed 'other' (no NS stations given)", path.name)
        else:
            ns = (ns_stations if isinstance(ns_stations, gpd.GeoDataFrame)
                  else read_ns_stations(ns_stations))
            rp = gpd.GeoDataFrame({"_r": np.flatnonzero(rail)},
                                  geometry=gpd.points_from_xy(st["X"][rail], st["Y"][rail]),
                                  crs=CRS)
            nn = gpd.sjoin_nearest(rp, ns[["station_id", "station_type", "geometry"]],
                                   max_distance=match_distance_m, distance_col="_d")
            nn = nn.sort_values(["_r", "_d"]).drop_duplicates("_r")
            stype.iloc[nn["_r"].to_numpy()] = nn["station_type"].to_numpy()
            st.loc[nn["_r"].to_numpy(), "ns_station_id"] = nn["station_id"].to_numpy()
            unmatched = sorted(set(np.flatnonzero(rail)) - set(nn["_r"]))
            if unmatched:
                warn(f"{path.name}: {len(unmatched)} rail stop(s) have no NS station within "
                     f"{match_distance_m:.0f} m and are typed 'other': "
                     f"{', '.join(st['station_name'].iloc[unmatched][:10])}")
            type_source += ("; rail stops: type of the nearest NS station within "
                            f"{match_distance_m:.0f} m — "
                            + ns.attrs.get("station_type_source", "NS station type"))
    st["station_type"] = stype.fillna("other")
    gdf = gpd.GeoDataFrame(
        st[["station_id", "station_name", "station_type", "mode", "agency", "n_stops",
            "stop_ids", "ns_station_id"]],
        geometry=gpd.points_from_xy(st["X"], st["Y"]), crs=CRS)
    gdf.attrs.update(kind="stations", source=str(path), station_type_source=type_source,
                     source_crs=src_crs, modes=list(modes),
                     stops_read=int(len(sel)))
    return gdf


# ======================================================================================
# study-file section and dispatcher

LayerKind = Literal["zones", "jobs", "vacancy", "stations", "ns_stations", "transit_stops"]

_ALLOWED_COLUMNS: dict[str, tuple[str, ...]] = {
    "zones": _columns.ZONE_CANONICAL,
    "jobs": ("jobs", "establishments_proxy", "zone_id", "zone_name"),
    "vacancy": tuple(_columns.VACANCY_ALIASES),
    "stations": tuple(_columns.STATION_ALIASES),
    "ns_stations": (),
    "transit_stops": (),
}


class LayerSpec(_config.Section):
    """A study-file input layer (``layers:`` → name → this section).

    Attributes
    ----------
    path : Path
        The file (relative paths are resolved against the study folder).
    kind : {"zones", "jobs", "vacancy", "stations", "ns_stations", "transit_stops"}
        Which reader to use.
    level : {"buurt", "wijk", "gemeente", "pc4", "other"}, optional
        Zone level (zones, jobs code tables); detected when omitted.
    layer : str, optional
        Layer within a multi-layer file (GeoPackage).
    columns : dict of str to str
        Canonical name → source column, overriding the alias tables.
    geometry : Path, optional
        Geometry file for a jobs code table (points or polygons joined by code).
    join_on : str or list of str, optional
        ``table_col=geometry_col`` (or a pair) for ``geometry``.
    crs : str or int, optional
        CRS of a file that declares none or a wrong one (e.g. ``EPSG:28992``).
    zero_as_missing : list of str or "kwb2021"
        Zone columns where 0 means "not published" (→ NaN).
    synthetic : bool
        The data are generated (synthetic); stated on maps and in provenance.
    description : str
        Free text shown in provenance.
    default_type : str, optional
        Station type for station files without a type column (kind: stations).
    ns_network : Path, optional
        NS ``network.json`` whose derived intercity/sprinter types are given to rail stops
        (kind: transit_stops).
    bbox : (xmin, ymin, xmax, ymax), optional
        Keep only features whose representative point lies in this box (EPSG:28992,
        metres), e.g. the PC4 areas of one city.
    area : str or list of str, optional
        Keep only features whose representative point lies in this area, resolved offline
        from the bundled tables by :func:`ruimtekit.io.regions.select_region`: a gemeente
        (``"gemeente Utrecht"``, ``"GM0344"``), province (``"provincie Utrecht"``, ``"PV26"``),
        COROP region (``"Groot-Amsterdam"``, ``"CR23"``) or PC4 (``2611``); a list selects
        the union (e.g. a PC4 list ``[2611, 2612, 2613]``). Combined with ``bbox``, both apply.
    """

    path: Path
    kind: LayerKind
    level: Literal["buurt", "wijk", "gemeente", "pc4", "other"] | None = None
    layer: str | None = None
    columns: dict[str, str] = {}
    geometry: Path | None = None
    join_on: str | list[str] | None = None
    crs: str | int | None = None
    zero_as_missing: list[str] | Literal["kwb2021"] = []
    synthetic: bool = False
    description: str = ""
    default_type: Literal["intercity", "sprinter", "metro", "tram", "bus", "ferry",
                          "other"] | None = None
    ns_network: Path | None = None
    bbox: tuple[float, float, float, float] | None = None
    area: str | int | list[str | int] | None = None

    @model_validator(mode="after")
    def _check_kind_fields(self) -> LayerSpec:
        allowed = _ALLOWED_COLUMNS[self.kind]
        bad = [k for k in self.columns if k not in allowed]
        if bad:
            opts = ", ".join(allowed) if allowed else "none (this kind has a fixed format)"
            raise ValueError(f"columns {bad} are not canonical names for kind {self.kind!r}; "
                             f"allowed: {opts}")
        if (self.geometry is not None or self.join_on is not None) and self.kind != "jobs":
            raise ValueError("`geometry`/`join_on` are only used with kind: jobs")
        if self.zero_as_missing and self.kind != "zones":
            raise ValueError("`zero_as_missing` is only used with kind: zones")
        if self.level is not None and self.kind not in ("zones", "jobs"):
            raise ValueError("`level` is only used with kind: zones or jobs")
        if self.default_type is not None and self.kind != "stations":
            raise ValueError("`default_type` is only used with kind: stations")
        if self.ns_network is not None and self.kind != "transit_stops":
            raise ValueError("`ns_network` is only used with kind: transit_stops")
        return self


def load(spec: LayerSpec, root: str | Path) -> gpd.GeoDataFrame:
    """Load a study-file layer with the reader for its ``kind``.

    Parameters
    ----------
    spec : LayerSpec
        The layer section.
    root : str or Path
        Folder that relative ``path``/``geometry`` are resolved against.

    Returns
    -------
    GeoDataFrame
        The canonical layer; ``attrs`` gain ``kind``, ``description`` and ``synthetic``.
    """
    root = Path(root)

    def res(p: Path) -> Path:
        return p if p.is_absolute() else root / p

    path = res(spec.path)
    cols = spec.columns or None
    if spec.kind == "zones":
        zam: Iterable[str] | str = spec.zero_as_missing
        gdf = read_zones(path, level=spec.level, columns=cols, layer=spec.layer, crs=spec.crs,
                         zero_as_missing=zam)
    elif spec.kind == "jobs":
        gdf = read_jobs(path, columns=cols, layer=spec.layer, crs=spec.crs, level=spec.level,
                        geometry=res(spec.geometry) if spec.geometry is not None else None,
                        join_on=spec.join_on)
    elif spec.kind == "vacancy":
        gdf = read_vacancy(path, columns=cols, layer=spec.layer, crs=spec.crs,
                           synthetic=True if spec.synthetic else None)
    elif spec.kind == "stations":
        gdf = read_stations(path, columns=cols, layer=spec.layer, crs=spec.crs,
                            default_type=spec.default_type)
    elif spec.kind == "ns_stations":
        gdf = read_ns_stations(path)
    else:
        gdf = read_transit_stops_gml(
            path, ns_stations=res(spec.ns_network) if spec.ns_network is not None else None)
    if spec.bbox is not None:
        gdf = clip_bbox(gdf, spec.bbox, path)
    if spec.area is not None:
        gdf = clip_area(gdf, spec.area, path)
    gdf.attrs["kind"] = spec.kind if spec.kind in ("zones", "jobs", "vacancy") else "stations"
    gdf.attrs["description"] = spec.description
    gdf.attrs["synthetic"] = bool(spec.synthetic or gdf.attrs.get("synthetic", False))
    return gdf


def clip_bbox(gdf: gpd.GeoDataFrame, bbox: Sequence[float], path: str | Path = "") -> gpd.GeoDataFrame:
    """Keep the features whose representative point lies inside ``bbox`` (EPSG:28992, m).

    Raises
    ------
    InputError
        When no feature lies inside the box.
    """
    xmin, ymin, xmax, ymax = (float(b) for b in bbox)
    if not (xmin < xmax and ymin < ymax):
        raise InputError(path, f"bbox {list(bbox)} is not (xmin, ymin, xmax, ymax)",
                         "give the box as [xmin, ymin, xmax, ymax] in EPSG:28992 metres")
    has = ~(gdf.geometry.is_empty | gdf.geometry.isna())
    pts = gdf.geometry.where(has).representative_point()
    keep = has & (pts.x >= xmin) & (pts.x <= xmax) & (pts.y >= ymin) & (pts.y <= ymax)
    if not keep.any():
        raise InputError(path, f"no feature lies inside bbox {list(bbox)}",
                         "check the box (EPSG:28992 metres: x 0–300,000, y 300,000–625,000)")
    out = gdf.loc[keep.to_numpy()].copy()
    out.attrs = dict(gdf.attrs)
    out.attrs["bbox"] = [xmin, ymin, xmax, ymax]
    return out


def clip_area(gdf: gpd.GeoDataFrame, area: str | int | Sequence[str | int],
              path: str | Path = "") -> gpd.GeoDataFrame:
    """Keep the features whose representative point lies in a named area (or their union).

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer in EPSG:28992.
    area : str, int or sequence of them
        Gemeente, province, COROP or PC4 names/codes (see :class:`LayerSpec`), resolved by
        :func:`ruimtekit.io.regions.select_region` from the bundled tables.
    path : str or Path
        The layer's file (for messages).

    Raises
    ------
    InputError
        An unknown name (with suggestions) or no feature inside the area.
    """
    import shapely

    items = [area] if isinstance(area, str | int) else list(area)
    if not items:
        raise InputError(path, "area: is an empty list", "name at least one gemeente, province, COROP or PC4")
    polys, names = [], []
    for item in items:
        try:
            r = regions.select_region(str(item), 0.0)
        except InputError as exc:
            raise InputError(path, f"area {item!r}: {exc.problem}", exc.fix) from None
        polys.append(r.polygon)
        names.append(r.name if r.kind in r.name or r.kind == "pc4" else f"{r.kind} {r.name}")
    shape = shapely.union_all(polys)
    has = ~(gdf.geometry.is_empty | gdf.geometry.isna())
    pts = gdf.geometry.where(has).representative_point()
    keep = has.to_numpy() & shapely.contains_xy(shape, pts.x.to_numpy(), pts.y.to_numpy())
    if not keep.any():
        raise InputError(path, f"no feature lies inside the area {', '.join(names)}",
                         "check the area names (and that the layer covers them)")
    out = gdf.loc[keep].copy()
    out.attrs = dict(gdf.attrs)
    out.attrs["area"] = names
    log.info("%s: kept %d of %d features inside %s", Path(str(path)).name, int(keep.sum()), len(gdf),
             ", ".join(names))
    return out


def pipeline_step(ctx: Any) -> None:
    """Load every layer of ``ctx.study.layers`` into ``ctx.layers`` (pipeline step "layers").

    ``ctx.study.layers`` is a mapping of layer name → :class:`LayerSpec` (a list of specs
    with a ``name`` attribute is accepted too). Proxy, synthetic and derived-type
    statements go to ``ctx.note``.
    """
    specs = getattr(ctx.study, "layers", None) or {}
    items = specs.items() if isinstance(specs, Mapping) else (
        (getattr(s, "name", f"layer{i}"), s) for i, s in enumerate(specs))
    for name, spec in items:
        gdf = load(spec, ctx.root if hasattr(ctx, "root") else Path("."))
        ctx.layers[name] = gdf
        log.info("layer %s: %d rows (%s) from %s", name, len(gdf), spec.kind, spec.path)
        if gdf.attrs.get("proxy"):
            ctx.note(f"{name}: {gdf.attrs['proxy']} (column establishments_proxy)")
        if gdf.attrs.get("synthetic"):
            ctx.note(f"{name}: synthetic data (generated, not observed)")
        src = gdf.attrs.get("station_type_source", "")
        if "derived" in src:
            ctx.note(f"{name}: {src}")
