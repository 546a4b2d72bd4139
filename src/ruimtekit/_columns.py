"""Column-name alias tables and value normalisation for Dutch (CBS) source files.

CBS has published the *Wijk- en buurtkaart* / *Kerncijfers wijken en buurten* (KWB) under
several generations of column names. This module maps all of them to the canonical names
of ``docs/architecture.md``:

* StatLine / KWB short names (``bu_code``, ``a_inw``, ``a_bedv``, ``ste_oad`` ...), also used
  lower-case in the wijk- en buurtkaart since 2017 and in the bundled Amsterdam parquet files;
* the classic shapefile / GeoPackage names before 2017 (``BU_CODE``, ``AANT_INW``, ``OAD``,
  ``STED``, ``OPP_TOT``, ``WOZ`` ...);
* the PDOK GeoPackage / WFS names from 2022 on (``buurtcode``, ``aantalInwoners``,
  ``omgevingsadressendichtheid``, ``stedelijkheidAdressenPerKm2`` ...);
* StatLine OData names with their numeric suffix (``AantalInwoners_5``,
  ``BedrijfsvestigingenTotaal_95``; the suffix is ignored when matching);
* CBS postcode-4 tables (``pc4``, ``postcode``, ``inwoners``, ``INWONER``,
  ``oppervlakte_km2``) and gebiedsindelingen (``statcode``, ``statnaam``).

Matching is exact first, then on a *key*: lower case, a trailing ``_<digits>`` OData suffix
removed and non-alphanumeric characters dropped (``AANT_INW`` → ``aantinw``).

CBS publishes "secret / not available" as large negative numbers (−99999999, −99999997,
−99997, −99995 ...). :func:`replace_sentinels` turns every value ≤ :data:`SENTINEL_MAX`
into NaN.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ruimtekit._errors import InputError

SENTINEL_MAX = -99990.0
"""Numeric values ≤ this are CBS missing-value sentinels (−99995 "secret", −99997
"too few", −99999997/−99999999 "not available", and the −9999x family in PDOK files)."""

LEVELS = ("buurt", "wijk", "gemeente", "pc4", "other")
"""Zone levels recorded in ``gdf.attrs["level"]``."""

# --------------------------------------------------------------------------------------
# Zone identifiers, per level, finest first. A file with BU_CODE, WK_CODE and GM_CODE is
# a buurt file; the coarser codes become ``wijk_code`` / ``gemeente_code``.
ZONE_ID_ALIASES: dict[str, tuple[str, ...]] = {
    "buurt": ("bu_code", "BU_CODE", "buurtcode", "BU_2015", "buurt_code"),
    "wijk": ("wk_code", "WK_CODE", "wijkcode", "wijk_code"),
    "gemeente": ("gm_code", "GM_CODE", "gemeentecode", "gemeente_code", "GM_2014", "GM_2013"),
    "pc4": ("pc4", "PC4", "postcode", "postcode4", "pc4_code", "PC4CODE", "postcode_4"),
    "other": ("zone_id", "statcode", "STATCODE", "code", "Codering", "regio_code", "RegioS",
              "id"),
}
"""Source names of the zone id column, per level (searched in this order of levels)."""

ZONE_NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "buurt": ("bu_naam", "BU_NAAM", "buurtnaam"),
    "wijk": ("wk_naam", "WK_NAAM", "wijknaam"),
    "gemeente": ("gm_naam", "GM_NAAM", "gemeentenaam", "Gemeentenaam"),
    "pc4": (),
    "other": ("zone_name", "statnaam", "STATNAAM", "naam", "Naam", "name", "NAME",
              "WijkenEnBuurten", "regio_naam"),
}
"""Source names of the zone name column, per level."""

# Canonical measure → aliases (first match wins). The canonical name itself is tried first.
ZONE_MEASURE_ALIASES: dict[str, tuple[str, ...]] = {
    "population": ("a_inw", "AANT_INW", "aantalInwoners", "AantalInwoners", "inwoners",
                   "INWONER", "INWONERS", "bevolking", "Population", "inw"),
    "households": ("a_hh", "AANT_HH", "AANTAL_HH", "aantalHuishoudens", "HuishoudensTotaal",
                   "huishoudens"),
    "dwellings": ("a_woning", "WONINGEN", "WONING", "woningvoorraad", "Woningvoorraad",
                  "woningen"),
    "establishments": ("a_bedv", "A_BEDV", "aantalBedrijfsvestigingen",
                       "bedrijfsvestigingenTotaal", "BedrijfsvestigingenTotaal",
                       "bedrijfsvestigingen", "Bedrijfsvestigingen"),
    "address_density": ("ste_oad", "OAD", "omgevingsadressendichtheid",
                        "Omgevingsadressendichtheid"),
    "urbanity": ("ste_mvs", "STED", "stedelijkheidAdressenPerKm2", "MateVanStedelijkheid",
                 "stedelijkheid"),
    "area_ha": ("a_opp_ha", "OPP_TOT", "oppervlakteTotaalInHa", "OppervlakteTotaal",
                "opp_tot_ha"),
    "land_area_ha": ("a_lan_ha", "OPP_LAND", "oppervlakteLandInHa", "OppervlakteLand",
                     "opp_land_ha"),
    "woz_keur": ("g_woz", "WOZ", "gemiddeldeWoningwaarde", "GemiddeldeWoningwaarde"),
    "gemeente_code": ("gm_code", "GM_CODE", "gemeentecode"),
    "wijk_code": ("wk_code", "WK_CODE", "wijkcode"),
}
"""Canonical zone measure → source aliases (all CBS generations)."""

AREA_KM2_ALIASES: dict[str, tuple[str, ...]] = {
    "area_ha": ("oppervlakte_km2", "opp_km2", "area_km2", "OPPERVLAKTE_KM2"),
    "land_area_ha": ("land_km2", "oppervlakte_land_km2", "land_area_km2"),
}
"""Area columns in km², converted to hectares (× 100) for ``area_ha`` / ``land_area_ha``."""

ZONE_CANONICAL = ("zone_id", "zone_name", *ZONE_MEASURE_ALIASES)
"""Canonical zone columns (besides ``geometry``, ``pop_x``, ``pop_y``)."""

JOBS_ALIASES: tuple[str, ...] = (
    "jobs", "banen_werkplaats", "banen", "werkzame_personen", "werkzamepersonen", "wp_totaal",
    "wp_tot", "wp", "arbeidsplaatsen", "banen_totaal", "aantal_banen", "werkgelegenheid",
    "employment",
)
"""Source names of a jobs (count at the workplace) column. ``banen_woonplaats`` (jobs held
by residents) is deliberately absent."""

ESTABLISHMENT_ALIASES: tuple[str, ...] = (
    "establishments_proxy", "establishments", "a_bedv", "aantalBedrijfsvestigingen",
    "bedrijfsvestigingenTotaal", "BedrijfsvestigingenTotaal", "bedrijfsvestigingen",
    "vestigingen", "aantal_vestigingen",
)
"""Source names of a business-establishment count (a proxy for jobs, never called jobs)."""

VACANCY_ALIASES: dict[str, tuple[str, ...]] = {
    "object_id": ("object_id", "identificatie", "vbo_id", "verblijfsobject_id", "bag_id",
                  "pand_id", "objectid", "OBJECTID", "id", "fid"),
    "function": ("function", "functie", "gebruiksdoel", "gebruiksfunctie", "use", "soort"),
    "floor_area_m2": ("floor_area_m2", "oppervlakte", "vloeroppervlakte", "bvo", "vvo",
                      "gebruiksoppervlakte", "oppervlakte_m2", "floor_area", "area_m2"),
    "vacant_since": ("vacant_since", "leegstand_sinds", "leeg_sinds", "leegstaand_sinds",
                     "datum_leegstand", "start_leegstand", "begin_leegstand"),
    "synthetic": ("synthetic",),
}
"""Vacancy layer: canonical column → source aliases."""

STATION_ALIASES: dict[str, tuple[str, ...]] = {
    "station_id": ("station_id", "code", "station_code", "stationscode", "afkorting",
                   "stopid", "stop_id", "id"),
    "station_name": ("station_name", "name", "naam", "name_long", "stationsnaam",
                     "stopname", "stop_name", "name_short"),
    "station_type": ("station_type", "stationstype", "type", "soort", "categorie"),
    "ridership": ("ridership", "InUit2018", "in_uit_2018", "in_uit", "inuit",
                  "reizigers_per_dag", "instappers_uitstappers"),
}
"""Stations layer: canonical column → source aliases."""

FUNCTION_VALUES: dict[str, str] = {
    "kantoorfunctie": "kantoor", "kantoor": "kantoor", "kantoren": "kantoor",
    "office": "kantoor", "offices": "kantoor",
    "winkelfunctie": "winkel", "winkel": "winkel", "winkels": "winkel", "detailhandel": "winkel",
    "retail": "winkel", "shop": "winkel", "winkelruimte": "winkel",
    "industriefunctie": "bedrijf", "industrie": "bedrijf", "bedrijf": "bedrijf",
    "bedrijfsruimte": "bedrijf", "bedrijfsfunctie": "bedrijf", "bedrijven": "bedrijf",
    "industrial": "bedrijf", "industry": "bedrijf", "logistiek": "bedrijf",
    "bedrijfshal": "bedrijf", "business": "bedrijf", "warehouse": "bedrijf",
    "overig": "overig", "overige": "overig", "overige gebruiksfunctie": "overig",
    "other": "overig",
}
"""Source function value (lower case) → canonical vacancy function. BAG ``gebruiksdoel``
values not listed (woonfunctie, bijeenkomstfunctie, onderwijsfunctie ...) map to
``overig``."""

STATION_TYPE_VALUES: dict[str, str] = {
    "intercity": "intercity", "ic": "intercity", "intercitystation": "intercity",
    "knooppunt intercitystation": "intercity", "megastation": "intercity",
    "knooppuntintercitystation": "intercity", "ic station": "intercity",
    "sprinter": "sprinter", "sprinterstation": "sprinter", "stoptrein": "sprinter",
    "stoptreinstation": "sprinter", "halte": "sprinter", "stop": "sprinter",
    "knooppunt sneltreinstation": "sprinter", "sneltreinstation": "sprinter",
    "knooppunt stoptreinstation": "sprinter", "regional": "sprinter",
    "metro": "metro", "metrostation": "metro", "subway": "metro", "underground": "metro",
    "tram": "tram", "tramhalte": "tram", "light rail": "tram", "sneltram": "tram",
    "bus": "bus", "bushalte": "bus", "busstation": "bus", "hov": "bus",
    "ferry": "ferry", "veer": "ferry", "pont": "ferry", "veerpont": "ferry", "boot": "ferry",
    "other": "other", "overig": "other",
}
"""Source station type (lower case) → canonical station type."""

STATION_TYPES = ("intercity", "sprinter", "metro", "tram", "bus", "ferry", "other")
"""Canonical station types."""

GTFS_ROUTE_TYPES: dict[int, str] = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry"}
"""GTFS ``route_type`` code → mode."""


def key(name: str) -> str:
    """Matching key of a column name: lower case, OData ``_<n>`` suffix and punctuation removed.

    Parameters
    ----------
    name : str
        Column name.

    Returns
    -------
    str
        ``"AANT_INW"`` → ``"aantinw"``, ``"AantalInwoners_5"`` → ``"aantalinwoners"``.
    """
    s = re.sub(r"_\d+$", "", str(name).strip())
    return re.sub(r"[^0-9a-z]", "", s.lower())


def find_column(columns: Iterable[str], aliases: Sequence[str]) -> str | None:
    """Return the first source column matching one of ``aliases``, or ``None``.

    Exact (case-sensitive) matches win over key matches; aliases are tried in order.

    Parameters
    ----------
    columns : iterable of str
        Column names of the source table.
    aliases : sequence of str
        Accepted names, most specific first.
    """
    cols = [c for c in columns if isinstance(c, str)]
    for a in aliases:
        if a in cols:
            return a
    by_key: dict[str, str] = {}
    for c in cols:
        by_key.setdefault(key(c), c)
    for a in aliases:
        hit = by_key.get(key(a))
        if hit is not None:
            return hit
    return None


def check_mapping(
    columns: Iterable[str],
    mapping: Mapping[str, str] | None,
    allowed: Iterable[str],
    path: str | Path | None,
) -> dict[str, str]:
    """Validate a user column mapping (canonical name → source column).

    Raises
    ------
    InputError
        When a canonical name is unknown or a source column does not exist (with a
        "did you mean" suggestion).
    """
    if not mapping:
        return {}
    cols = [str(c) for c in columns]
    allowed = list(allowed)
    out: dict[str, str] = {}
    for canon, src in mapping.items():
        if canon not in allowed:
            near = difflib.get_close_matches(canon, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputError(
                path,
                f"unknown canonical column {canon!r} in `columns:`{hint}",
                f"use one of: {', '.join(allowed)}",
            )
        if src not in cols:
            near = difflib.get_close_matches(str(src), cols, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise InputError(
                path,
                f"column {src!r} (mapped to {canon!r}) is not in the file{hint}",
                f"fix `columns: {{{canon}: ...}}`; the file has: {_preview(cols)}",
            )
        out[canon] = src
    return out


def _preview(items: Sequence[str], n: int = 25) -> str:
    items = list(items)
    more = f", … ({len(items) - n} more)" if len(items) > n else ""
    return ", ".join(map(str, items[:n])) + more


def replace_sentinels(df: pd.DataFrame, exclude: Iterable[str] = ()) -> dict[str, int]:
    """Replace CBS negative sentinels (≤ :data:`SENTINEL_MAX`) by NaN, in place.

    Integer columns holding sentinels become float64.

    Parameters
    ----------
    df : DataFrame
        Table to clean (modified in place).
    exclude : iterable of str
        Columns to leave alone (e.g. coordinates).

    Returns
    -------
    dict of str to int
        Number of replaced values per column (only columns with replacements).
    """
    skip = set(exclude)
    counts: dict[str, int] = {}
    for c in df.columns:
        if c in skip or c == "geometry":
            continue
        s = df[c]
        if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
            continue
        mask = (s <= SENTINEL_MAX).fillna(False).to_numpy(dtype=bool)
        n = int(mask.sum())
        if n:
            vals = s.astype("float64").to_numpy(copy=True)
            vals[mask] = np.nan
            df[c] = vals
            counts[str(c)] = n
    return counts


_MISSING_TOKENS = {"", ".", "-", "x", "X", "?", "nan", "NaN", "NA", "n/a", "null", "None"}


def to_numeric(s: pd.Series, name: str, path: str | Path | None, ids: pd.Series | None = None
               ) -> pd.Series:
    """Convert a column to float64; CBS missing markers (``.``, ``x``, ``-``, empty) → NaN.

    Dutch notation is accepted: decimal commas (``"1,5"``) and dot thousands separators
    together with a decimal comma (``"1.234,5"``); a lone dot is a decimal point.

    Raises
    ------
    InputError
        When values are neither numbers nor missing markers (lists examples).
    """
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    txt = s.astype("string").str.strip()
    missing = txt.isna() | txt.isin(list(_MISSING_TOKENS))
    clean = txt.where(~missing)
    # Dutch notation: "1.234,5" (dot thousands, comma decimals) and "1,5"; a lone dot is
    # always the decimal point ("52.373" stays 52.373)
    both = clean.str.contains(".", regex=False) & clean.str.contains(",", regex=False)
    clean = clean.where(~both.fillna(False), clean.str.replace(".", "", regex=False))
    clean = clean.str.replace(",", ".", regex=False)
    out = pd.to_numeric(clean, errors="coerce")
    bad = out.isna() & ~missing
    if bad.any():
        idx = np.flatnonzero(bad.to_numpy())
        ex = []
        for i in idx[:5]:
            who = f"{ids.iloc[i]}" if ids is not None else f"row {i + 1}"
            ex.append(f"{who}: {s.iloc[i]!r}")
        raise InputError(
            path,
            f"column {name!r} has {len(idx)} non-numeric value(s), e.g. {'; '.join(ex)}",
            "make the column numeric (use an empty cell or '.' for missing values)",
        )
    return out.astype("float64")


# --------------------------------------------------------------------------------------
# codes

_PREFIX = {"buurt": ("BU", 8), "wijk": ("WK", 6), "gemeente": ("GM", 4)}


def normalise_codes(values: pd.Series, level: str | None) -> pd.Series:
    """Normalise area codes to canonical strings.

    ``BU03630000`` (buurt, 8 digits), ``WK036301`` (wijk, 6 digits), ``GM0363`` (gemeente,
    4 digits) and PC4 as a 4-digit string (``"1011"``). Numbers and unprefixed strings get
    the prefix of ``level`` and are zero-padded; year prefixes such as ``2022GM0014``
    (``jrstatcode``) are removed; whitespace is stripped. Other codes are kept as strings.

    Parameters
    ----------
    values : Series
        Raw codes (str, int or float).
    level : str or None
        ``buurt``/``wijk``/``gemeente``/``pc4``/``other`` or ``None`` (prefixes decide).

    Returns
    -------
    Series of str (object dtype); missing codes stay missing (``None``).
    """

    def one(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        s = str(v).strip()
        if not s:
            return None
        m = re.fullmatch(r"(?:\d{4})?(BU|WK|GM)\s*(\d+)", s, flags=re.IGNORECASE)
        if m:
            pre = m.group(1).upper()
            width = {"BU": 8, "WK": 6, "GM": 4}[pre]
            return f"{pre}{m.group(2).zfill(width)}"
        if level in _PREFIX and s.isdigit():
            pre, width = _PREFIX[level]
            return f"{pre}{s.zfill(width)}"
        if level == "pc4":
            m4 = re.fullmatch(r"(\d{4})\s*([A-Za-z]{2})?", s)
            if m4:
                return m4.group(1)
            if s.isdigit() and len(s) < 4:
                return s.zfill(4)
        return s

    return pd.Series([one(v) for v in values], index=values.index, dtype=object)


def detect_level(codes: pd.Series) -> str:
    """Zone level from normalised codes: the prefix shared by (almost) all codes.

    Returns ``buurt``/``wijk``/``gemeente`` for BU/WK/GM codes, ``pc4`` for 4-digit codes
    (1000–9999) and ``other`` otherwise.
    """
    s = codes.dropna().astype(str)
    if s.empty:
        return "other"
    for pre, level in (("BU", "buurt"), ("WK", "wijk"), ("GM", "gemeente")):
        if (s.str.startswith(pre)).mean() >= 0.99:
            return level
    if s.str.fullmatch(r"[1-9]\d{3}").mean() >= 0.99:
        return "pc4"
    return "other"


def map_values(values: pd.Series, table: Mapping[str, str], default: str
               ) -> tuple[pd.Series, dict[str, int]]:
    """Map categorical source values through ``table`` (case-insensitive).

    Multi-valued BAG cells (``"kantoorfunctie,winkelfunctie"``) use their first value that
    is in the table.

    Returns
    -------
    mapped : Series of str
    unmapped : dict of str to int
        Source values that fell back to ``default`` and their counts.
    """
    unmapped: dict[str, int] = {}
    cache: dict[object, str] = {}

    def one(v: object) -> str:
        if v in cache:
            return cache[v]
        out = None
        if v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA:
            for part in re.split(r"[,;|/]", str(v)):
                p = part.strip().lower()
                if p in table:
                    out = table[p]
                    break
        if out is None:
            out = default
            label = "<missing>" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            unmapped[label] = unmapped.get(label, 0) + 1
            return out
        cache[v] = out
        return out

    mapped = pd.Series([one(v) for v in values], index=values.index, dtype=object)
    return mapped, unmapped
