"""Generic vector-file reading: any GDAL format, GeoParquet and CSV, normalised to EPSG:28992.

:func:`read_any` is the single entry point used by the layer readers. It

* reads anything pyogrio/GDAL reads (GeoPackage, shapefile, GeoJSON, TopoJSON, FlatGeobuf,
  GML, zipped shapefiles ...), GeoParquet (several geometry columns allowed) and CSV/TSV
  tables with x/y, lon/lat or WKT columns;
* settles the CRS: an explicit ``crs`` wins; a missing or implausible CRS is guessed from
  the coordinate ranges (RD New or WGS84 in the Netherlands) with a :class:`DataWarning`
  naming the file; anything else is an :class:`~ruimtekit._errors.InputError`;
* reprojects to EPSG:28992 and repairs invalid geometries only where that is safe.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS as ProjCRS

from ruimtekit import CRS as RD_CRS
from ruimtekit import _columns, _crs, _io, defaults
from ruimtekit._errors import InputError

log = logging.getLogger("ruimtekit.io.layers")

RD_RANGE = (-10_000.0, 280_000.0, 310_000.0, 640_000.0)
"""(xmin, ymin, xmax, ymax) of coordinates that are clearly RD New (EPSG:28992), metres."""

NL_LONLAT_RANGE = (2.0, 50.0, 8.0, 54.5)
"""(lon_min, lat_min, lon_max, lat_max) of WGS84 coordinates in or near the Netherlands."""

NL_RD_EXTENT = (-100_000.0, 200_000.0, 400_000.0, 750_000.0)
"""Generous RD extent of the Netherlands plus border regions; outside it we warn."""

MAX_REPAIR_AREA_CHANGE = defaults.MAX_REPAIR_AREA_CHANGE
"""Largest relative area change accepted when repairing an invalid polygon (5 %). The
coarsely quantised CBS 2015 TopoJSON needs up to 2 % (Westervoort: a self-intersecting ring
whose inverted lobe counted negatively before the repair)."""

FORMATS_FIX = (
    "check that it is a valid GeoPackage, shapefile (with .shx/.dbf/.prj), GeoJSON, "
    "TopoJSON, FlatGeobuf, GML, GeoParquet or CSV file"
)

_POP_POINT_RE = re.compile(r"res|pop|resid|woon|bevolk|inhab", re.IGNORECASE)

_XY_PAIRS: tuple[tuple[str, str, str | None], ...] = (
    ("x_rd", "y_rd", "EPSG:28992"),
    ("rd_x", "rd_y", "EPSG:28992"),
    ("xrd", "yrd", "EPSG:28992"),
    ("x", "y", None),
    ("xcoord", "ycoord", None),
    ("x_coord", "y_coord", None),
    ("coord_x", "coord_y", None),
    ("lon", "lat", "EPSG:4326"),
    ("lng", "lat", "EPSG:4326"),
    ("longitude", "latitude", "EPSG:4326"),
    ("lon_wgs84", "lat_wgs84", "EPSG:4326"),
)
_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "geometrie")


class DataWarning(UserWarning):
    """A data problem that ruimtekit worked around (assumed CRS, repaired geometry ...)."""


def warn(message: str) -> None:
    """Issue a :class:`DataWarning` and log it."""
    log.debug(message)
    warnings.warn(message, DataWarning, stacklevel=3)


# --------------------------------------------------------------------------------------
def read_any(
    path: str | Path,
    layer: str | None = None,
    *,
    crs: str | int | None = None,
    prefer_layers: tuple[str, ...] = (),
    repair: bool = True,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a vector file or table and normalise its geometry to EPSG:28992.

    Parameters
    ----------
    path : str or Path
        File to read. Format by extension: ``.parquet``/``.geoparquet`` (GeoParquet or a
        plain Parquet table), ``.csv``/``.tsv``/``.txt`` (delimiter sniffed), anything
        else through pyogrio/GDAL (``.topojson`` via GDAL's TopoJSON driver).
    layer : str, optional
        Layer inside a multi-layer source (GeoPackage, GML). Required when the source has
        several layers and none matches ``prefer_layers``.
    crs : str or int, optional
        CRS of the coordinates (e.g. ``"EPSG:28992"``), overriding the file. Use it for
        files that declare no or a wrong CRS.
    prefer_layers : tuple of str
        Layer names to pick automatically in a multi-layer source (case-insensitive).
    repair : bool
        Repair invalid geometries where that is safe (see :func:`repair_geometries`).

    Returns
    -------
    GeoDataFrame or DataFrame
        A GeoDataFrame in EPSG:28992 with geometry column ``geometry`` when the source has
        geometry (extra GeoParquet point columns become ``<name>_x``/``<name>_y`` floats in
        RD metres; a residential/population centroid becomes ``pop_x``/``pop_y``), else a
        plain DataFrame (e.g. a table of jobs per wijk code). ``attrs["source"]`` holds the
        path, ``attrs["source_crs"]`` the CRS the data came in.

    Raises
    ------
    InputError
        File not found, unreadable, empty, unknown CRS, ambiguous layer, or invalid
        geometries that cannot be repaired safely.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            path, "file not found",
            "check the path; relative paths in a study file are resolved against the folder "
            "of the study file",
        )
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet", ".pq"):
        data = _read_parquet(path, crs)
    elif suffix in (".csv", ".tsv", ".txt"):
        data = _table_geometry(_read_csv(path), path, crs)
    else:
        data = _read_ogr(path, layer, prefer_layers)
    if len(data) == 0:
        where = f" (layer {layer!r})" if layer else ""
        raise InputError(
            path, f"the file has no rows{where}: the layer is empty",
            "export the data again, or point `path:`/`layer:` at the layer that holds it",
        )
    data = data.reset_index(drop=True)
    if isinstance(data, gpd.GeoDataFrame):
        data = to_rd(data, path, crs)
        if repair:
            data = repair_geometries(data, path)
    data.attrs["source"] = str(path)
    return data


# --------------------------------------------------------------------------------------
# format readers

def _read_ogr(path: Path, layer: str | None, prefer: tuple[str, ...]) -> gpd.GeoDataFrame:
    import pyogrio

    src = f"TopoJSON:{path}" if path.suffix.lower() == ".topojson" else str(path)
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(src)]
    except Exception as exc:  # noqa: BLE001 - GDAL raises many types
        if path.suffix.lower() == ".json":
            try:
                src = f"TopoJSON:{path}"
                layers = [str(n) for n, _ in pyogrio.list_layers(src)]
            except Exception:  # noqa: BLE001
                raise _unreadable(path, exc) from None
        else:
            raise _unreadable(path, exc) from None
    if not layers:
        raise InputError(path, "the file contains no layers: it is empty",
                         "export the data again (with at least one layer)")
    if layer is None and len(layers) > 1:
        low = {n.lower(): n for n in layers}
        for p in prefer:
            if p.lower() in low:
                layer = low[p.lower()]
                break
        else:
            raise InputError(
                path, f"the file has {len(layers)} layers: {', '.join(layers)}",
                "choose one with `layer:` in the study file (or the layer= argument)",
            )
    if layer is not None and layer not in layers:
        raise InputError(
            path, f"layer {layer!r} not found; the file has: {', '.join(layers)}",
            "fix `layer:` in the study file",
        )
    try:
        gdf = pyogrio.read_dataframe(src, layer=layer)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None
    if not isinstance(gdf, gpd.GeoDataFrame):  # attribute-only layer (XLSX, DBF, GPKG table)
        return _table_geometry(pd.DataFrame(gdf), path, None)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    if gdf.geometry.isna().all() and len(gdf):
        # attribute-only layer (e.g. a CSV-like table in a GeoPackage)
        return _table_geometry(pd.DataFrame(gdf.drop(columns="geometry")), path, None)
    return gdf


def _unreadable(path: Path, exc: Exception) -> InputError:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(path, f"the file cannot be read ({msg[:300]})", FORMATS_FIX)


def _read_parquet(path: Path, crs: str | int | None) -> gpd.GeoDataFrame | pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None
    meta = schema.metadata or {}
    if b"geo" not in meta:
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001
            raise _unreadable(path, exc) from None
        return _table_geometry(df, path, crs)
    try:
        geo = json.loads(meta[b"geo"])
        gdf = gpd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001
        raise _unreadable(path, exc) from None
    primary = geo.get("primary_column", gdf.geometry.name)
    if primary != "geometry":
        if "geometry" in gdf.columns and primary in gdf.columns:
            gdf = gdf.rename(columns={"geometry": "geometry_orig"})
        gdf = gdf.rename_geometry("geometry")
    extra = [c for c in gdf.columns
             if c != "geometry" and isinstance(gdf[c].dtype, gpd.array.GeometryDtype)]
    if extra:
        gdf = _extra_geometries(gdf, extra, path, crs)
    return gdf


def _extra_geometries(gdf: gpd.GeoDataFrame, extra: list[str], path: Path,
                      crs: str | int | None) -> gpd.GeoDataFrame:
    """Turn extra point geometry columns into RD x/y floats; drop other extra geometries."""
    primary_crs = crs if crs is not None else gdf.crs
    pop_done = False
    dropped = []
    for c in extra:
        gs = gpd.GeoSeries(gdf[c])
        if gs.crs is None and primary_crs is not None:
            gs = gs.set_crs(primary_crs)
        types = set(gs.dropna().geom_type.unique())
        if types and types <= {"Point"}:
            gs = _settle_crs(gs, path, None, what=f"geometry column {c!r}")
            tgt = _target_crs(gs)
            rd = gs.to_crs(tgt) if tgt != RD_CRS or not _is_rd(gs.crs) else gs
            if not pop_done and _POP_POINT_RE.search(c):
                names = ("pop_x", "pop_y")
                pop_done = True
            else:
                names = (f"{c}_x", f"{c}_y")
            gdf[names[0]] = rd.x.to_numpy(dtype="float64")
            gdf[names[1]] = rd.y.to_numpy(dtype="float64")
            log.info("%s: point column %r → %s/%s (EPSG:28992)", path.name, c, *names)
        else:
            dropped.append(c)
        gdf = gdf.drop(columns=c)
    if dropped:
        warn(f"{path.name}: extra non-point geometry column(s) {', '.join(dropped)} dropped "
             "(only the primary geometry `geometry` is kept)")
    return gdf


def _sniff_delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        try:
            return csv.Sniffer().sniff(sample[:20000]).delimiter
        except csv.Error:
            return ","
    return best


TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".xlsx", ".xlsm", ".parquet", ".pq")
"""File types :func:`read_table` reads."""

_DUTCH_NUMBER_RE = re.compile(r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?([eE][-+]?\d+)?\s*$")


def read_table(path: str | Path, text_columns: tuple[str, ...] = (),
               what: str = "table") -> pd.DataFrame:
    """Read a plain table (no geometry needed): the one tabular reader of ruimtekit.

    Used for opportunities, skims, vacancy, lookups, jobs and flow tables.

    * CSV/TSV/TXT (also ``.csv.gz``): the delimiter is sniffed (``,`` ``;`` tab ``|``);
      UTF-8 with or without BOM, else cp1252 (Dutch Excel exports); decimal commas
      (``1,5`` and ``1.234,5`` in a ``;`` file) become numbers;
    * XLSX (first sheet, openpyxl);
    * Parquet.

    Text columns that are entirely numeric become numbers, except code-like columns with
    leading zeros (``0363``) and ``text_columns``, which stay text.

    Parameters
    ----------
    path : str or Path
        The table.
    text_columns : tuple of str
        Columns always kept as text (codes such as ``wk_code``, ``origin``).
    what : str
        What the table is, for messages (e.g. ``"skim"``).

    Returns
    -------
    DataFrame
        With ``attrs["source"]`` the path.

    Raises
    ------
    InputError
        Missing, empty (no header or no rows), larger than
        :data:`ruimtekit._io.MAX_TABLE_BYTES`, binary or otherwise unreadable (names the
        file, the problem and the fix).
    """

    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{what} file not found" if not path.exists() else
                         f"is a folder, not a {what} file", "check the path")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types
            raise _unreadable(path, exc) from None
        for c in text_columns:
            if c in df.columns:
                df[c] = df[c].astype("string").astype(object)
    elif name.endswith((".xlsx", ".xlsm")):
        _io.check_table_size(path)
        try:
            df = pd.read_excel(path, sheet_name=0, engine="openpyxl", dtype=object)
        except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise many types
            raise _unreadable(path, exc) from None
        df.columns = [str(c).strip() for c in df.columns]
        df = df.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                    else str(v).strip()).replace({"": None})
        df = _infer_numbers(df, text_columns)
    elif name.endswith((".csv", ".tsv", ".txt", ".csv.gz")):
        df = _read_csv(path, text_columns)
    else:
        raise InputError(path, f"unknown {what} format {path.suffix!r}",
                         "use a CSV (comma or semicolon separated), XLSX or Parquet table")
    if len(df.columns) == 0 or len(df) == 0:
        raise InputError(path, f"the {what} has a header but no rows" if len(df.columns) else
                         f"the {what} is empty", "export the table again with its rows")
    df.attrs["source"] = str(path)
    return df


def _read_csv(path: Path, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """CSV with a sniffed delimiter, UTF-8 (BOM) or cp1252, and decimal commas."""
    import gzip

    try:
        _io.check_table_size(path)
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read(65536)
        else:
            with open(path, "rb") as f:
                raw = f.read(65536)
    except InputError:
        raise
    except (OSError, EOFError) as exc:
        raise _unreadable(path, exc) from None
    if b"\x00" in raw:
        raise InputError(path, "the file cannot be read as text (it contains NUL bytes; "
                         "is it a binary file with a .csv name?)", FORMATS_FIX)
    if not raw.strip():
        raise InputError(path, "the file is empty (no header, no rows)",
                         "export the table again with a header row")
    last: Exception | None = None
    for enc in ("utf-8-sig", "cp1252"):
        try:
            sep = _sniff_delimiter(raw.decode(enc, errors="replace"))
            df = pd.read_csv(path, sep=sep, encoding=enc, dtype=str, keep_default_na=True,
                             skipinitialspace=True, on_bad_lines="error")
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pd.errors.EmptyDataError:
            raise InputError(path, "the file is empty (no header, no rows)",
                             "export the table again with a header row") from None
        except (pd.errors.ParserError, ValueError, EOFError, OSError) as exc:
            raise _unreadable(path, exc) from None
        if not isinstance(df.index, pd.RangeIndex):  # pandas moves surplus fields to the index
            raise InputError(path, f"rows have more fields than the header's {len(df.columns)} "
                             f"columns (separator {sep!r})", "check the separator and quote "
                             "values that contain it (\"1,5\"), or fix the header row")
        df.columns = [str(c).strip() for c in df.columns]
        return _infer_numbers(df, text_columns)
    raise _unreadable(path, last or ValueError("unknown encoding"))


def _infer_numbers(df: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Convert text columns that are entirely numeric to numbers, except code-like columns
    with leading zeros (``0363``, ``0363010000000001``) and ``text_columns``, which stay
    text. Dutch numbers with a decimal comma (``1,5``, ``1.234,5``) are numbers too."""
    keep = {c.lower() for c in text_columns}
    for c in df.columns:
        if str(c).lower() in keep:
            continue
        s = df[c]
        if s.dtype != object and not pd.api.types.is_string_dtype(s):
            continue
        present = s.notna()
        if not present.any():
            continue
        text = s[present].astype(str).str.strip()
        if text.str.match(r"^[-+]?0\d").any():
            continue
        num = pd.to_numeric(text, errors="coerce")
        if num.isna().any() and text.str.contains(",", regex=False).any() and \
                text.str.match(_DUTCH_NUMBER_RE).all():
            num = pd.to_numeric(text.str.replace(".", "", regex=False)
                                .str.replace(",", ".", regex=False), errors="coerce")
        if num.notna().all():
            out = pd.Series(np.nan, index=s.index, dtype="float64")
            out[present] = num.astype("float64")
            if (out[present] == out[present].round()).all() and out[present].abs().max() < 2**53 \
                    and not text.str.contains(r"[.,eE]", regex=True).any():
                df[c] = out if not present.all() else out.astype("int64")
            else:
                df[c] = out
    return df


def _table_geometry(df: pd.DataFrame, path: Path, crs: str | int | None
                    ) -> gpd.GeoDataFrame | pd.DataFrame:
    """Build point/WKT geometry from table columns, or return the table unchanged."""
    if len(df) == 0:
        return df
    cols = list(df.columns)
    for xa, ya, declared in _XY_PAIRS:
        xc = _columns.find_column(cols, (xa,))
        yc = _columns.find_column(cols, (ya,))
        if xc is None or yc is None:
            continue
        x = _columns.to_numeric(df[xc], xc, path)
        y = _columns.to_numeric(df[yc], yc, path)
        miss = x.isna() | y.isna()
        if miss.any():
            rows = ", ".join(str(i + 2) for i in np.flatnonzero(miss.to_numpy())[:5])
            raise InputError(
                path, f"{int(miss.sum())} row(s) have no coordinates in {xc!r}/{yc!r} "
                f"(file lines {rows} ...)",
                "fill in the coordinates or remove those rows",
            )
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y),
                               crs=crs if crs is not None else declared)
        gdf.attrs["xy_columns"] = (xc, yc)
        return gdf
    wc = _columns.find_column(cols, _WKT_COLUMNS)
    if wc is not None and (df[wc].dtype == object or pd.api.types.is_string_dtype(df[wc])):
        txt = df[wc].astype("string")
        try:
            geoms = shapely.from_wkt(txt.to_numpy(dtype=object, na_value=None), on_invalid="raise")
        except shapely.errors.ShapelyError as exc:
            raise InputError(path, f"column {wc!r} holds invalid WKT ({exc})",
                             "write geometries as WKT, e.g. 'POINT (121000 487000)'") from None
        gdf = gpd.GeoDataFrame(df.drop(columns=wc), geometry=geoms, crs=crs)
        return gdf
    return df


# --------------------------------------------------------------------------------------
# CRS

def _is_rd(crs: object) -> bool:
    return _crs.same_crs(crs, RD_CRS)


def _within(b: np.ndarray, r: tuple[float, float, float, float]) -> bool:
    return bool(b[0] >= r[0] and b[1] >= r[1] and b[2] <= r[2] and b[3] <= r[3])


def guess_crs(bounds: np.ndarray) -> str | None:
    """Guess the CRS of coordinates from their bounds.

    Parameters
    ----------
    bounds : array of 4 floats
        (xmin, ymin, xmax, ymax).

    Returns
    -------
    str or None
        ``"EPSG:28992"`` when x is within ~0–300,000 and y within ~289,000–629,000 m
        (RD New), ``"EPSG:4326"`` when they are longitude/latitude in or near the
        Netherlands, otherwise ``None``.
    """
    b = np.asarray(bounds, dtype=float)
    if not np.all(np.isfinite(b)):
        return None
    if _within(b, RD_RANGE):
        return RD_CRS
    if _within(b, NL_LONLAT_RANGE):
        return "EPSG:4326"
    return None


def _fmt_bounds(b: np.ndarray) -> str:
    return f"x {b[0]:.6g}…{b[2]:.6g}, y {b[1]:.6g}…{b[3]:.6g}"


def _settle_crs(gs: gpd.GeoSeries | gpd.GeoDataFrame, path: Path, crs: str | int | None,
                what: str = "coordinates") -> gpd.GeoSeries | gpd.GeoDataFrame:
    """Return ``gs`` with a trustworthy CRS set (explicit, declared or guessed)."""
    fix = ("set the CRS in the study file (`crs: EPSG:28992` for RD New, `crs: EPSG:4326` "
           "for lon/lat) or in the file itself")
    if crs is not None:
        try:
            user = ProjCRS.from_user_input(crs)
        except Exception:  # noqa: BLE001
            raise InputError(path, f"unknown CRS {crs!r}",
                             "use an EPSG code such as EPSG:28992 or EPSG:4326") from None
        return gs.set_crs(user, allow_override=True)
    b = np.asarray(gs.total_bounds, dtype=float)
    declared = gs.crs
    if declared is None:
        guess = guess_crs(b)
        if guess is None:
            raise InputError(
                path, f"unknown CRS: the file declares no CRS and the {what} ({_fmt_bounds(b)}) "
                "are neither RD New nor lon/lat in the Netherlands", fix)
        label = "RD New" if guess == RD_CRS else "lon/lat (WGS84)"
        warn(f"{path.name}: no CRS declared; the {what} ({_fmt_bounds(b)}) look like {label}, "
             f"assuming {guess}. {fix[0].upper() + fix[1:]} to silence this warning.")
        return gs.set_crs(guess)
    declared = ProjCRS.from_user_input(declared)
    if declared.is_geographic and np.all(np.isfinite(b)) and (
        abs(b[0]) > 180 or abs(b[2]) > 180 or abs(b[1]) > 90 or abs(b[3]) > 90
    ):
        guess = guess_crs(b)
        if guess != RD_CRS:
            raise InputError(
                path, f"unknown CRS: the file says {declared.to_string()} (degrees) but the "
                f"{what} ({_fmt_bounds(b)}) are not degrees", fix)
        note = (" (GeoJSON without a `crs` member means WGS84)"
                if path.suffix.lower() in (".geojson", ".json") else "")
        warn(f"{path.name}: the file declares {declared.to_string()}{note} but the {what} "
             f"({_fmt_bounds(b)}) are far outside the lon/lat range and look like RD New; "
             f"assuming EPSG:28992. {fix[0].upper() + fix[1:]} to silence this warning.")
        return gs.set_crs(RD_CRS, allow_override=True)
    if declared.is_projected and np.all(np.isfinite(b)) and _within(b, NL_LONLAT_RANGE):
        warn(f"{path.name}: the file declares {declared.to_string()} (metres) but the {what} "
             f"({_fmt_bounds(b)}) look like lon/lat degrees; assuming EPSG:4326. "
             f"{fix[0].upper() + fix[1:]} to silence this warning.")
        return gs.set_crs("EPSG:4326", allow_override=True)
    return gs


def _target_crs(src: gpd.GeoSeries | gpd.GeoDataFrame) -> str:
    """The working CRS (:mod:`ruimtekit._crs`), settling ``auto`` from the data's centre."""
    cur = _crs.working_crs()
    if cur == _crs.AUTO:
        b = np.asarray(src.to_crs("EPSG:4326").total_bounds, dtype=float)
        cur = _crs.settle((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
    return cur


def to_rd(gdf: gpd.GeoDataFrame, path: str | Path, crs: str | int | None = None
          ) -> gpd.GeoDataFrame:
    """Settle the CRS of ``gdf`` (see :func:`read_any`) and reproject to the working CRS
    (EPSG:28992 unless :mod:`ruimtekit._crs` sets another).

    Parameters
    ----------
    gdf : GeoDataFrame
        Data as read.
    path : str or Path
        Source file (for messages).
    crs : str or int, optional
        Explicit CRS of the coordinates (overrides the file).
    """
    path = Path(path)
    if gdf.geometry.isna().all() or gdf.geometry.is_empty.all():
        raise InputError(path, "every geometry is empty or missing",
                         "export the layer again with its geometries")
    src = _settle_crs(gdf, path, crs)
    source_crs = ProjCRS.from_user_input(src.crs)
    target = _target_crs(src)
    if target != RD_CRS:  # a study outside the Netherlands (see ruimtekit._crs)
        out = src.to_crs(target)
        out.attrs["source_crs"] = source_crs.to_string()
        return out
    out = src if _is_rd(source_crs) else src.to_crs(RD_CRS)
    out = out.set_crs(RD_CRS, allow_override=True)
    b = np.asarray(out.total_bounds, dtype=float)
    if np.all(np.isfinite(b)) and not _within(b, NL_RD_EXTENT):
        warn(f"{path.name}: after conversion from {source_crs.to_string()} the coordinates "
             f"({_fmt_bounds(b)} in EPSG:28992) lie far outside the Netherlands; check the "
             "CRS (`crs:` in the study file)")
    out.attrs["source_crs"] = source_crs.to_string()
    return out


# --------------------------------------------------------------------------------------
# geometry repair

def _make_valid(g: shapely.Geometry) -> shapely.Geometry | None:
    for kwargs in ({"method": "structure", "keep_collapsed": False}, {"method": "linework"}):
        try:
            return shapely.make_valid(g, **kwargs)
        except shapely.errors.GEOSException:
            continue
    return None


def _polygonal_part(g: shapely.Geometry) -> shapely.Geometry | None:
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            return None
        return shapely.union_all(polys)
    return None


def repair_geometries(gdf: gpd.GeoDataFrame, path: str | Path,
                      max_area_change: float = MAX_REPAIR_AREA_CHANGE) -> gpd.GeoDataFrame:
    """Repair invalid geometries with ``shapely.make_valid`` where that is safe.

    A polygon is repaired when the result is still polygonal and its area changed by at
    most ``max_area_change`` (relative). Lines and points are repaired when the result
    keeps their dimension. The count is reported as a :class:`DataWarning` and in
    ``attrs["repaired_geometries"]``; nothing is dropped.

    Raises
    ------
    InputError
        When some invalid geometry cannot be repaired safely (lists rows and reasons).
    """
    path = Path(path)
    arr = gdf.geometry.to_numpy()
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    invalid = present & ~shapely.is_valid(arr)
    if not invalid.any():
        return gdf
    idx = np.flatnonzero(invalid)
    fixed = arr.copy()
    unsafe: list[str] = []
    worst = 0.0
    for i in idx:
        g = arr[i]
        r = _make_valid(g)
        if g.geom_type in ("Polygon", "MultiPolygon"):
            r = _polygonal_part(r)
            a0 = abs(float(g.area))
            change = (abs(float(r.area) - a0) / max(a0, float(r.area), 1e-12)
                      if r is not None else 1.0)
            ok = r is not None and not r.is_empty and change <= max_area_change
            if ok:
                worst = max(worst, change)
        else:
            ok = r is not None and not r.is_empty and shapely.get_dimensions(r) == \
                shapely.get_dimensions(g)
        if ok:
            fixed[i] = r
        else:
            unsafe.append(f"row {i + 1} ({shapely.is_valid_reason(g)})")
    if unsafe:
        raise InputError(
            path, f"{len(unsafe)} invalid geometr{'y' if len(unsafe) == 1 else 'ies'} cannot be "
            f"repaired without changing the area by more than {max_area_change:.0%}: "
            + "; ".join(unsafe[:5]) + (" ..." if len(unsafe) > 5 else ""),
            "repair them in a GIS (e.g. QGIS 'Fix geometries') and check the result",
        )
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs)
    n = len(idx)
    warn(f"{path.name}: repaired {n} invalid geometr{'y' if n == 1 else 'ies'} with "
         f"shapely.make_valid (largest area change {worst:.2%}; nothing dropped)")
    out.attrs = dict(gdf.attrs)
    out.attrs["repaired_geometries"] = n
    return out
