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
from typing import Any

import geopandas as gpd
import pandas as pd

from ruimtekit import _columns, _crs, _vector
from ruimtekit.io import layers
from ruimtekit._errors import InputError

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
