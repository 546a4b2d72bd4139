"""Origins and destinations: points or polygons with an id, in the working CRS.

A *place layer* is what a travel-time matrix or an accessibility measure starts from or
goes to: address points, PC6 centroids, schools, stops, hexagon centres, or zone
polygons (CBS buurten, PC4 areas). Every row is routed from one point (metres, working
CRS): the population-weighted point ``pop_x``/``pop_y`` where present, else the
centroid (the point itself for point layers). Rows carry an id; the engine calls it
``zone_id`` whatever the source named it.

>>> import ruimtekit as rk
>>> o = rk.read_places("data/raw/cbs_wijk_centroids_2015.geojson", id_column="code")
>>> o.attrs["geometry_kind"]
'points'
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ruimtekit import _columns, _crs, _vector, defaults
from ruimtekit._errors import InputError
from ruimtekit.io import layers

log = logging.getLogger(__name__)

ID_COLUMNS = ("zone_id", "id")
"""Id columns looked for (in this order) when the user names none; then the zone code
columns of :data:`ruimtekit._columns.ZONE_ID_ALIASES`."""


def _geometry_kind(gdf: gpd.GeoDataFrame, path: Any) -> str:
    types = set(gdf.geometry.dropna().geom_type.unique())
    if types <= {"Point"}:
        return "points"
    if types <= {"Polygon", "MultiPolygon"}:
        return "polygons"
    if types <= {"Point", "MultiPoint"}:
        raise InputError(path, "the layer has MultiPoint geometries",
                         "give one point per row (explode the MultiPoints)")
    raise InputError(path, f"origins and destinations must be points or polygons, found "
                     f"{sorted(types)}", "use a points or a polygons layer")


def _id_column(df: pd.DataFrame, id_column: str | None, path: Any, what: str) -> str:
    if id_column is not None:
        if id_column not in df.columns:
            raise InputError(path, f"the {what} have no id column {id_column!r}",
                             f"name one of: {[c for c in df.columns if c != 'geometry']}")
        return id_column
    for c in ID_COLUMNS:
        if c in df.columns:
            return c
    for aliases in _columns.ZONE_ID_ALIASES.values():
        c = _columns.find_column(df.columns, aliases)
        if c is not None:
            return c
    raise InputError(path, f"the {what} have no id column (looked for {', '.join(ID_COLUMNS)})",
                     f"name the id column (--id-column / id_column=), one of: "
                     f"{[c for c in df.columns if c != 'geometry'][:20]}")


def as_places(
    data: gpd.GeoDataFrame | str | Path,
    id_column: str | None = None,
    what: str = "origins",
) -> gpd.GeoDataFrame:
    """Places (points or polygons with an id) ready for routing.

    Parameters
    ----------
    data : GeoDataFrame, str or Path
        A layer in the working CRS, or a file (read with :func:`read_places`).
    id_column : str, optional
        Id column; default ``zone_id`` or ``id``, else a zone code column (CBS/PC4 codes
        that :func:`ruimtekit.io.layers.read_zones` recognises).
    what : str
        Name used in messages (``origins``, ``destinations``).

    Returns
    -------
    GeoDataFrame
        A copy with ``zone_id`` (str, unique) set from the id column, in the working CRS;
        the routed point is ``pop_x``/``pop_y`` when present, else the centroid.
        ``attrs["geometry_kind"]`` is ``points`` or ``polygons``.

    Raises
    ------
    InputError
        Not a GeoDataFrame, other CRS, other geometry types, no or duplicate ids.
    """
    if isinstance(data, (str, Path)):
        return read_places(data, id_column=id_column, what=what)
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(None, f"the {what} are a {type(data).__name__}, not a GeoDataFrame",
                         "give points or polygons (geopandas.GeoDataFrame) or a file")
    src = data.attrs.get("source")
    if not _crs.is_working(data.crs):
        w = _crs.working_crs()
        raise InputError(src, f"the {what} are in {data.crs}, not the working CRS {w}",
                         f"call .to_crs({w!r}) or read the file with ruimtekit.read_places")
    kind = _geometry_kind(data, src)
    col = _id_column(data, id_column, src, what)
    ids = data[col]
    if ids.isna().any():
        raise InputError(src, f"{int(ids.isna().sum())} {what} have no {col!r}",
                         "give every row an id")
    ids = ids.astype(str)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputError(src, f"{len(dup)} {col!r} value(s) of the {what} occur more than "
                         f"once (e.g. {list(dup[:5])})", "give every row its own id")
    out = data.copy()
    if col != "zone_id" and "zone_id" in out.columns:
        out = out.drop(columns="zone_id")
    out["zone_id"] = ids.to_numpy()
    out.attrs = {**data.attrs, "geometry_kind": kind, "id_column": col}
    return out


def read_places(
    path: str | Path,
    id_column: str | None = None,
    what: str = "origins",
    crs: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read origins or destinations: points or polygons with an id, in the working CRS.

    Parameters
    ----------
    path : str or Path
        Any vector file or CSV with x/y (RD metres) or lon/lat columns
        (:func:`ruimtekit._vector.read_any`). Polygon files are read as zones
        (:func:`ruimtekit.io.layers.read_zones`: CBS and PC4 codes, canonical columns,
        ``pop_x``/``pop_y`` when the source has them).
    id_column : str, optional
        Id column (default ``id``, ``zone_id``, else a zone code column such as ``code``,
        ``pc4``, ``bu_code``).
    what : str
        Name used in messages.
    crs : str or int, optional
        CRS of the coordinates when the file declares none.

    Returns
    -------
    GeoDataFrame
        As :func:`as_places`; ``attrs["source"]`` is the path.
    """
    path = Path(path)
    data = _vector.read_any(path, crs=crs)
    if not isinstance(data, gpd.GeoDataFrame):
        raise InputError(path, f"the {what} file has no locations (no geometry, x/y, "
                         "lon/lat or WKT columns)", "give points or polygons, or a CSV with "
                         "x/y columns in RD metres")
    data.attrs["source"] = str(path)
    if len(data) == 0:
        raise InputError(path, f"the {what} file has no rows", f"give at least one {what[:-1]}")
    kind = _geometry_kind(data, path)
    if kind == "polygons":  # zones without geometry are kept (NaN values), as read_zones
        zones = layers.read_zones(path, crs=crs,
                                  columns=None if id_column is None else {"zone_id": id_column})
        zones.attrs["source"] = str(path)
        return as_places(zones, "zone_id", what)
    missing = (data.geometry.isna() | data.geometry.is_empty).to_numpy()
    if missing.any():
        raise InputError(path, f"{int(missing.sum())} of {len(data)} {what} have no geometry",
                         "drop them or give them a location")
    return as_places(data, id_column, what)


def check_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    """Refuse a layer that is not a GeoDataFrame in the working CRS (EPSG:28992 unless set
    otherwise; :mod:`ruimtekit._crs`): the analysis core works in one CRS and converts at
    the edges only.

    Raises
    ------
    InputError
        Naming the layer (``what``), its CRS and the fix.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(None, f"the {what} layer is not a GeoDataFrame",
                         "read it with ruimtekit.io.layers or ruimtekit.read_places")
    if not _crs.is_working(gdf.crs):
        w = _crs.working_crs()
        raise InputError(None, f"the {what} layer is in {gdf.crs}, not the working CRS {w}",
                         f"read it with ruimtekit.io.layers (which converts to {w}) or call "
                         f".to_crs({w!r}); set another working CRS with "
                         "ruimtekit.use_crs(...) or the study's crs:")


def zone_points(zones: gpd.GeoDataFrame, *, missing: Literal["nan", "raise"] = "nan"
                ) -> tuple[np.ndarray, np.ndarray]:
    """Points (working-CRS metres, EPSG:28992 by default) representing zones or places.

    ``pop_x``/``pop_y`` where present and finite (the population-weighted point), else the
    geometry centroid (the point itself for point layers). The one rule for every mode.

    Parameters
    ----------
    zones : GeoDataFrame
        Zones or places in the working CRS.
    missing : {"nan", "raise"}
        Zones with neither a population point nor a geometry get NaN (``"nan"``; the
        measures then report them as unsnapped: ``attrs["unsnapped"]``, NaN values, a log
        warning) or raise an :class:`InputError` (``"raise"``; the transit engine).

    Returns
    -------
    x, y : ndarray of float64
    """
    check_crs(zones, "zones")
    geom = zones.geometry
    empty = (geom.isna() | geom.is_empty).to_numpy()
    x = np.full(len(zones), np.nan)
    y = np.full(len(zones), np.nan)
    if (~empty).any():
        c = geom[~empty].centroid
        x[~empty] = c.x.to_numpy(dtype=np.float64)
        y[~empty] = c.y.to_numpy(dtype=np.float64)
    if "pop_x" in zones.columns and "pop_y" in zones.columns:
        px = pd.to_numeric(zones["pop_x"], errors="coerce").to_numpy(dtype=np.float64)
        py = pd.to_numeric(zones["pop_y"], errors="coerce").to_numpy(dtype=np.float64)
        ok = np.isfinite(px) & np.isfinite(py)
        x = np.where(ok, px, x)
        y = np.where(ok, py, y)
    if missing == "raise" and empty.any():
        raise InputError(None, f"{int(empty.sum())} zone(s) have no geometry",
                         "drop them or give them a geometry")
    return x, y


def zone_ids(zones: gpd.GeoDataFrame) -> np.ndarray:
    if "zone_id" not in zones.columns:
        raise InputError(None, "the zones layer has no zone_id column",
                         "read zones with ruimtekit.io.layers or add a zone_id column")
    ids = zones["zone_id"].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique()[:5]
        raise InputError(None, f"zone_id values are not unique (e.g. {list(dup)})",
                         "give every zone its own id")
    return ids


MAX_OPPORTUNITY = defaults.MAX_OPPORTUNITY
"""Largest opportunity count accepted per zone or point (jobs, inhabitants, ...); larger
values are data errors (the Netherlands has about 10 million jobs) and would make sums
inexact or infinite."""


def opportunity_weights(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    src = df.attrs.get("source")
    if column not in df.columns:
        raise InputError(src, f"the {what} layer has no column {column!r} "
                         f"(columns: {[c for c in df.columns if c != 'geometry']})",
                         "name the opportunity column (e.g. jobs, establishments_proxy)")
    raw = df[column]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    ids = (df["zone_id"] if "zone_id" in df.columns else pd.Series(df.index)).to_numpy()
    text = raw.astype(str).str.contains(r"\d,\d", regex=True).to_numpy() & np.isnan(w)
    if text.any():
        raise InputError(src, f"{int(text.sum())} {what} value(s) of {column!r} are text with "
                         f"a decimal comma (e.g. {raw[text].iloc[0]!r} at id {ids[text][0]})",
                         "save the table with decimal points, or as a semicolon CSV/XLSX "
                         "(read with decimal commas)")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InputError(src, f"{int(bad.sum())} {what} row(s) have a missing or negative (or "
                         f"infinite) {column!r} (e.g. ids {list(ids[bad][:5])})",
                         "fill them (0 when there are truly none) or drop those rows")
    huge = w > MAX_OPPORTUNITY
    if huge.any():
        raise InputError(src, f"{int(huge.sum())} {what} row(s) have an implausibly large "
                         f"{column!r} (> {MAX_OPPORTUNITY:.0e}; e.g. ids "
                         f"{list(ids[huge][:5])}: {w[huge][0]:.3g})",
                         "check the column and its unit (counts, not e.g. euros)")
    return w


def destination_points(
    zones: gpd.GeoDataFrame, destinations: gpd.GeoDataFrame | None, opportunity: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """(x, y, weight, same_as_zones) of the destinations."""
    if destinations is None:
        x, y = zone_points(zones)
        return x, y, opportunity_weights(zones, opportunity, "zones"), True
    check_crs(destinations, "destinations")
    w = opportunity_weights(destinations, opportunity, "destinations")
    g = destinations.geometry
    if g.isna().any() or g.is_empty.any():
        raise InputError(None, f"{int((g.isna() | g.is_empty).sum())} destination(s) have no "
                         "geometry", "drop them or give them a location")
    if "pop_x" in destinations.columns:
        x, y = zone_points(destinations)
    else:
        c = g.centroid
        x, y = c.x.to_numpy(dtype=np.float64), c.y.to_numpy(dtype=np.float64)
    return x, y, w, False
