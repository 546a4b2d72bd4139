"""Catchments: the zones (or network nodes) reachable from a centre within a time budget.

Two kinds of catchment polygon are built here, both in EPSG:28992:

* **zone catchments** — the union (dissolve) of every zone whose travel time from the
  centre is at most the cutoff (``t <= T`` minutes). Works with any travel-time source:
  a dense centres × zones matrix in minutes (fine for 345 gemeenten or 4,068 PC4 zones in
  float32) or a callable that returns blocks of rows (see :func:`iter_time_blocks`), so
  crow-fly models, rail skims and network engines can all feed it.
* **isochrones** — polygons around the network nodes a search reached within the
  cutoff, from node coordinates and per-node travel times (e.g. a road engine's output or
  a :class:`ruimtekit.network.graph.Graph` plus a times array). Methods, all documented in
  :func:`isochrone_polygon`: ``buffer`` (exact union of discs of ``buffer_m`` around each
  reached node), ``raster`` (the same discs on a grid — fast for many nodes and many
  centres) and ``concave`` (concave hull of the reached nodes, then buffered).

Every output row carries ``centre_id``, ``mode``, ``cutoff_min`` and the masses
(population, jobs, ...) inside the catchment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from ruimtekit import CRS, defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._config import Section
from ruimtekit._errors import InputError, describe_validation
from ruimtekit.io import places

log = logging.getLogger(__name__)

TimeSource = np.ndarray | Callable[[np.ndarray], np.ndarray]
"""Travel times in minutes: a dense (origins × destinations) array, or a callable that
takes an int array of origin positions and returns the (len(origins) × destinations)
block of minutes. ``inf`` means unreachable; NaN and negative values are errors."""

DEFAULT_BLOCK = defaults.CATCHMENT_BLOCK


# --------------------------------------------------------------------------- time sources
def iter_time_blocks(
    times_min: TimeSource,
    n_origins: int | None = None,
    n_destinations: int | None = None,
    *,
    block_size: int = DEFAULT_BLOCK,
    name: str = "travel times",
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield validated blocks of a travel-time source, origin rows at a time.

    Parameters
    ----------
    times_min : ndarray or callable
        Dense (origins × destinations) minutes, or ``f(origin_positions) -> block``.
    n_origins : int, optional
        Number of origins (required for a callable; checked for an array).
    n_destinations : int, optional
        Expected number of destinations (columns); checked when given.
    block_size : int
        Origins per block.
    name : str
        Used in error messages.

    Yields
    ------
    (ndarray of int64, ndarray of float64)
        Origin positions and their block of minutes, shape (len(positions), n_destinations).

    Raises
    ------
    InputError
        Wrong shape, NaN or negative times.
    """
    if callable(times_min) and not isinstance(times_min, np.ndarray):
        if n_origins is None:
            raise InputError(
                None, f"{name}: a callable time source needs the number of origins",
                "pass n_origins (the number of centres/zones)",
            )
        get = times_min
    else:
        arr = np.asarray(times_min)
        if arr.ndim != 2:
            raise InputError(
                None, f"{name}: expected a 2-D origins × destinations matrix, got shape {arr.shape}",
                "pass a matrix of minutes with one row per origin",
            )
        if n_origins is not None and arr.shape[0] != n_origins:
            raise InputError(
                None, f"{name}: matrix has {arr.shape[0]} rows but there are {n_origins} origins",
                "build the matrix with one row per centre/zone, in the same order",
            )
        n_origins = arr.shape[0]

        def get(idx: np.ndarray, _a: np.ndarray = arr) -> np.ndarray:
            return _a[idx[0] : idx[-1] + 1]

    for start in range(0, int(n_origins), block_size):
        idx = np.arange(start, min(start + block_size, int(n_origins)), dtype=np.int64)
        block = np.asarray(get(idx), dtype=np.float64)
        if block.ndim != 2 or block.shape[0] != idx.size:
            raise InputError(
                None, f"{name}: block for origins {start}..{idx[-1]} has shape {block.shape}",
                "return one row of minutes per requested origin",
            )
        if n_destinations is not None and block.shape[1] != n_destinations:
            raise InputError(
                None,
                f"{name}: {block.shape[1]} destination columns but {n_destinations} zones",
                "build the matrix with one column per zone, in the zones' row order",
            )
        if np.isnan(block).any():
            bad = idx[np.isnan(block).any(axis=1)]
            raise InputError(
                None, f"{name}: NaN travel times for origin positions {bad[:10].tolist()}",
                "use inf for unreachable pairs; NaN is never treated as unreachable",
            )
        if (block < 0).any():
            raise InputError(
                None, f"{name}: negative travel times", "travel times must be >= 0 minutes",
            )
        yield idx, block


def dense_times(times_min: TimeSource, n_origins: int, n_destinations: int) -> np.ndarray:
    """Materialise a time source as a dense float64 matrix (minutes)."""
    out = np.empty((n_origins, n_destinations), dtype=np.float64)
    for idx, block in iter_time_blocks(times_min, n_origins, n_destinations):
        out[idx] = block
    return out


@renamed_parameters(cutoff_min="cutoff")
def reachable(times_min: TimeSource, cutoff: float, n_origins: int | None = None) -> np.ndarray:
    """Boolean matrix of pairs reachable within ``cutoff`` (``t <= T`` minutes)."""
    rows = [block <= cutoff for _, block in iter_time_blocks(times_min, n_origins)]
    return np.vstack(rows) if rows else np.zeros((0, 0), dtype=bool)


# --------------------------------------------------------------------------- helpers
def zone_points(zones: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Representative point per zone in EPSG:28992 metres.

    The population-weighted point ``pop_x``/``pop_y`` where present and finite, else the
    geometry centroid (:func:`ruimtekit.io.places.zone_points`, so catchments and
    accessibility use the same points).
    """
    return places.zone_points(zones)


def _mass_array(zones: pd.DataFrame, columns: Sequence[str], what: str = "zones") -> np.ndarray:
    missing = [c for c in columns if c not in zones.columns]
    if missing:
        raise InputError(
            None, f"{what} lack mass column(s) {missing}",
            f"add them or choose from the available columns: {list(zones.columns)[:30]}",
        )
    out = np.column_stack([pd.to_numeric(zones[c], errors="coerce").to_numpy(float) for c in columns]) \
        if columns else np.zeros((len(zones), 0))
    if columns and np.isnan(out).any():
        bad_cols = [c for c, b in zip(columns, np.isnan(out).any(axis=0), strict=True) if b]
        ids = zones["zone_id"].to_numpy()[np.isnan(out).any(axis=1)] if "zone_id" in zones else []
        raise InputError(
            None, f"{what}: missing values in {bad_cols} for ids {list(ids)[:10]}",
            "fill or drop those zones before computing catchment masses",
        )
    return out


def _ids(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    if column not in frame.columns:
        raise InputError(None, f"{what} have no '{column}' column", f"add an id column '{column}'")
    ids = frame[column].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        raise InputError(None, f"{what}: '{column}' values are not unique", "make the ids unique")
    return ids


def _union(geoms: np.ndarray, coverage: bool = False) -> Any:
    """Union of polygons; ``coverage=True`` uses the much faster coverage union (only for
    polygons known to form a valid coverage: no overlaps, shared edges identical)."""
    if geoms.size == 0:
        return shapely.Polygon()
    u = shapely.coverage_union_all(geoms) if coverage else shapely.union_all(geoms)
    if coverage and not u.is_valid:
        u = shapely.union_all(geoms)
    return u if u.is_valid else shapely.make_valid(u)


# --------------------------------------------------------------------------- zone catchments
@renamed_parameters(cutoffs_min="cutoffs")
def zone_catchments(
    zones: gpd.GeoDataFrame,
    times_min: TimeSource,
    cutoffs: Sequence[float] = (defaults.COMMUTE_CUTOFF_MIN,),
    *,
    mode: str,
    centre_ids: Sequence[str] | None = None,
    mass_columns: Sequence[str] = ("population", "jobs"),
    dissolve: bool = True,
) -> gpd.GeoDataFrame:
    """Catchment polygons per centre and cutoff: the union of the zones reachable in time.

    Parameters
    ----------
    zones : GeoDataFrame
        Destination zones, EPSG:28992, with ``zone_id`` and the mass columns.
    times_min : ndarray or callable
        Travel times in minutes from each centre (rows) to each zone (columns, the zones'
        row order). When ``centre_ids`` is omitted the centres are the zones themselves
        (a square matrix; each zone's own time should be 0).
    cutoffs : sequence of float
        Time budgets T in minutes; a zone is inside when ``t <= T``.
    mode : str
        Mode label written to the ``mode`` column (``car``, ``bike``, ``rail``...).
    centre_ids : sequence of str, optional
        Ids of the centres (rows); defaults to the zones' ``zone_id``.
    mass_columns : sequence of str
        Zone columns summed over the catchment (e.g. population, jobs).
    dissolve : bool
        Union the reachable zone polygons (default). When ``False`` the geometry is the
        MultiPolygon collection of reachable zones (faster, boundaries kept).

    Returns
    -------
    GeoDataFrame (EPSG:28992)
        One row per (centre, cutoff): ``centre_id``, ``mode``, ``cutoff_min``,
        ``n_zones`` (reachable zones), one column per mass (sum over the reachable
        zones), ``geometry``.
    """
    places.check_crs(zones, "zones")
    zids = _ids(zones, "zone_id", "zones")
    masses = _mass_array(zones, mass_columns)
    cids = zids if centre_ids is None else np.asarray([str(c) for c in centre_ids])
    geoms = zones.geometry.to_numpy()
    # zone layers (CBS gemeenten, wijken, PC4) are usually a valid polygon coverage, which
    # allows shapely's coverage union (~40× faster than a general union on gemeenten)
    is_coverage = bool(dissolve and len(geoms) and shapely.coverage_is_valid(geoms))
    ordered = sorted(float(c) for c in cutoffs)
    rows: list[dict[str, Any]] = []
    for idx, block in iter_time_blocks(times_min, len(cids), len(zids), name="catchment times"):
        for r, i in enumerate(idx):
            for T in ordered:
                inside = block[r] <= T
                geom = _union(geoms[inside], is_coverage) if dissolve else shapely.multipolygons(
                    shapely.get_parts(geoms[inside])
                )
                row = {"centre_id": cids[i], "mode": mode, "cutoff_min": T,
                       "n_zones": int(inside.sum())}
                for k, c in enumerate(mass_columns):
                    row[c] = float(masses[inside, k].sum())
                row["geometry"] = geom
                rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


@renamed_parameters(cutoff_min="cutoff")
def reachable_zones_long(
    zone_ids: Sequence[str],
    times_min: TimeSource,
    cutoff: float,
    *,
    centre_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Long table of (centre, zone) pairs within ``cutoff``: ``centre_id, zone_id, time_min``."""
    zids = np.asarray([str(z) for z in zone_ids])
    cids = zids if centre_ids is None else np.asarray([str(c) for c in centre_ids])
    parts = []
    for idx, block in iter_time_blocks(times_min, len(cids), len(zids)):
        r, c = np.nonzero(block <= cutoff)
        parts.append(pd.DataFrame({"centre_id": cids[idx[r]], "zone_id": zids[c],
                                   "time_min": block[r, c]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["centre_id", "zone_id", "time_min"])


# --------------------------------------------------------------------------- isochrones
@renamed_parameters(cutoff_min="cutoff")
def isochrone_polygon(
    x: np.ndarray,
    y: np.ndarray,
    times_s: np.ndarray,
    cutoff: float,
    *,
    buffer_m: float = defaults.ISOCHRONE_BUFFER_M,
    method: str = "buffer",
    cell_m: float | None = None,
    concave_ratio: float = defaults.ISOCHRONE_CONCAVE_RATIO,
) -> Any:
    """Polygon around the network nodes reached within ``cutoff``.

    Parameters
    ----------
    x, y : ndarray of float
        Node coordinates, EPSG:28992 metres.
    times_s : ndarray of float
        Travel time from the centre to each node in seconds (``inf`` = not reached).
    cutoff : float
        Time budget in minutes; nodes with ``t <= 60·T`` are reached.
    buffer_m : float
        Buffer radius in metres around each reached node (default 250 m: about half the
        typical spacing of junctions on a regional road network, so that consecutive
        reached nodes merge into one area while the polygon does not spill far beyond
        the reached roads). Use ~100 m for walk/bike networks in built-up areas.
    method : {"buffer", "raster", "concave"}
        ``buffer``: exact union of discs of radius ``buffer_m`` (cost grows with the number
        of reached nodes; ~2 s for 20,000 nodes). ``raster``: the same discs on a grid of
        ``cell_m`` (default ``buffer_m / 4``) — the boundary is within ``cell_m·√2`` of the
        exact one; use it for large car isochrones and batches. ``concave``: concave hull
        of the reached nodes (shapely ``concave_hull`` with ``concave_ratio``; 0 = most
        concave, 1 = convex hull) buffered by ``buffer_m``; it may cover unreached gaps
        between reached roads.
    cell_m : float, optional
        Grid cell size for ``raster`` (metres).
    concave_ratio : float
        Ratio for ``concave``.

    Returns
    -------
    shapely geometry
        (Multi)Polygon in EPSG:28992; empty when nothing was reached.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    t = np.asarray(times_s, dtype=float)
    if not (x.shape == y.shape == t.shape):
        raise InputError(
            None, f"node arrays differ in length: x {x.shape}, y {y.shape}, times {t.shape}",
            "pass one travel time per node, in the node order of x and y",
        )
    if np.isnan(t).any():
        raise InputError(None, "NaN node travel times", "use inf for nodes that were not reached")
    if buffer_m <= 0:
        raise InputError(None, f"buffer_m must be > 0, got {buffer_m}", "use e.g. 250 (metres)")
    hit = t <= cutoff * 60.0
    if not hit.any():
        return shapely.Polygon()
    px, py = x[hit], y[hit]
    if method == "buffer":
        pts = shapely.points(np.unique(np.column_stack([px, py]), axis=0))
        return _union(shapely.buffer(pts, buffer_m, quad_segs=8))
    if method == "raster":
        return _raster_buffer(px, py, buffer_m, cell_m or buffer_m / 4.0)
    if method == "concave":
        hull = shapely.concave_hull(shapely.multipoints(np.column_stack([px, py])),
                                    ratio=concave_ratio)
        return shapely.buffer(hull, buffer_m, quad_segs=8)
    raise InputError(None, f"unknown isochrone method '{method}'",
                     "use 'buffer', 'raster' or 'concave'")


def _raster_buffer(px: np.ndarray, py: np.ndarray, buffer_m: float, cell_m: float) -> Any:
    """Union of discs of ``buffer_m`` around points, computed on a grid of ``cell_m``."""
    from rasterio import features
    from rasterio.transform import Affine
    from scipy import ndimage

    r_cells = int(np.ceil(buffer_m / cell_m))
    x0 = np.floor(px.min() / cell_m) * cell_m - (r_cells + 1) * cell_m
    y1 = np.ceil(py.max() / cell_m) * cell_m + (r_cells + 1) * cell_m
    ncol = int(np.ceil((px.max() - x0) / cell_m)) + r_cells + 2
    nrow = int(np.ceil((y1 - py.min()) / cell_m)) + r_cells + 2
    grid = np.zeros((nrow, ncol), dtype=bool)
    col = ((px - x0) / cell_m).astype(np.int64)
    row = ((y1 - py) / cell_m).astype(np.int64)
    grid[row, col] = True
    # disc structuring element: cells whose centre lies within buffer_m of the seed cell centre
    k = np.arange(-r_cells, r_cells + 1)
    disc = (k[:, None] ** 2 + k[None, :] ** 2) * cell_m**2 <= buffer_m**2
    grid = ndimage.binary_dilation(grid, structure=disc)
    transform = Affine(cell_m, 0.0, x0, 0.0, -cell_m, y1)
    polys = [shapely.geometry.shape(g) for g, v in
             features.shapes(grid.astype(np.uint8), mask=grid, transform=transform) if v == 1]
    return _union(np.asarray(polys, dtype=object))


class IsochroneSpec(Section):
    """How :func:`batch_isochrones` draws each polygon and which masses it sums.

    Attributes
    ----------
    buffer_m, method, cell_m, concave_ratio
        See :func:`isochrone_polygon` (buffer 250 m; ``raster`` by default here because
        batches are large; cell ``buffer_m / 4``; ratio 0.3).
    mass_columns : list of str
        Columns of the ``mass_points`` summed inside each isochrone (population, jobs).
    """

    buffer_m: float = Field(defaults.ISOCHRONE_BUFFER_M, gt=0)
    method: Literal["buffer", "raster", "concave"] = "raster"
    cell_m: float | None = Field(None, gt=0)
    concave_ratio: float = Field(defaults.ISOCHRONE_CONCAVE_RATIO, ge=0, le=1)
    mass_columns: list[str] = Field(default_factory=lambda: ["population", "jobs"])


@renamed_parameters(cutoffs_min="cutoffs")
def batch_isochrones(
    x: np.ndarray,
    y: np.ndarray,
    times_s: np.ndarray | Iterable[np.ndarray],
    centre_ids: Sequence[str],
    cutoffs: Sequence[float] = (45.0,),
    *,
    mode: str,
    spec: IsochroneSpec | dict[str, Any] | None = None,
    mass_points: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Isochrone polygons for many centres at once.

    Parameters
    ----------
    x, y : ndarray of float
        Node coordinates (EPSG:28992 metres), shape (n_nodes,).
    times_s : ndarray (n_centres × n_nodes) or iterable of 1-D arrays
        Travel times in seconds from each centre to every node (``inf`` = not reached),
        e.g. rows of a bounded Dijkstra from a road engine. An iterable is consumed one
        row at a time, so only one row needs to be in memory.
    centre_ids : sequence of str
        One id per row of ``times_s``.
    cutoffs : sequence of float
        Time budgets in minutes.
    mode : str
        Mode label for the output.
    spec : IsochroneSpec or dict, optional
        Buffer, method, raster cell, concave ratio (see :func:`isochrone_polygon`) and the
        mass columns; default ``IsochroneSpec()``.
    mass_points : GeoDataFrame, optional
        Zones or points whose masses (``spec.mass_columns``) are summed inside each
        isochrone. A zone counts when its representative point (``pop_x``/``pop_y`` or
        centroid) falls inside.

    Returns
    -------
    GeoDataFrame (EPSG:28992)
        ``centre_id``, ``mode``, ``cutoff_min``, ``n_nodes`` (reached), the mass columns
        (when ``mass_points`` is given), ``geometry``.
    """
    try:
        sp = spec if isinstance(spec, IsochroneSpec) else IsochroneSpec(**dict(spec or {}))
    except ValueError as exc:
        raise InputError(None, f"invalid isochrone spec: {describe_validation(exc)}",
                         "see ruimtekit.analysis.catchments.IsochroneSpec") from None
    mass_columns = sp.mass_columns
    cids = [str(c) for c in centre_ids]
    mx = my = masses = None
    if mass_points is not None:
        mx, my = zone_points(mass_points)
        masses = _mass_array(mass_points, mass_columns, "mass points")
    rows: list[dict[str, Any]] = []
    n = 0
    for k, row_t in enumerate(times_s):
        if k >= len(cids):
            raise InputError(None, "more time rows than centre ids",
                             "pass one centre id per row of times_s")
        row_t = np.asarray(row_t, dtype=float)
        for T in sorted(float(c) for c in cutoffs):
            geom = isochrone_polygon(x, y, row_t, T, buffer_m=sp.buffer_m, method=sp.method,
                                     cell_m=sp.cell_m, concave_ratio=sp.concave_ratio)
            rec: dict[str, Any] = {"centre_id": cids[k], "mode": mode, "cutoff_min": T,
                                   "n_nodes": int((row_t <= T * 60.0).sum())}
            if masses is not None:
                inside = shapely.contains_xy(geom, mx, my) if not geom.is_empty else \
                    np.zeros(len(mx), dtype=bool)
                for j, c in enumerate(mass_columns):
                    rec[c] = float(masses[inside, j].sum())
            rec["geometry"] = geom
            rows.append(rec)
        n += 1
    if n != len(cids):
        raise InputError(None, f"{len(cids)} centre ids but {n} time rows",
                         "pass one row of node times per centre")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


@renamed_parameters(cutoffs_min="cutoffs")
def graph_isochrones(
    graph: Any,
    times_s: np.ndarray | Iterable[np.ndarray],
    centre_ids: Sequence[str],
    cutoffs: Sequence[float] = (defaults.COMMUTE_CUTOFF_MIN,),
    **kwargs: Any,
) -> gpd.GeoDataFrame:
    """:func:`batch_isochrones` for a :class:`ruimtekit.network.graph.Graph` (node x/y from the graph).

    ``mode`` defaults to ``graph.mode``; other keyword arguments (``spec``,
    ``mass_points``) go to :func:`batch_isochrones`.
    """
    kwargs.setdefault("mode", graph.mode)
    return batch_isochrones(graph.x, graph.y, times_s, centre_ids, cutoffs, **kwargs)


def centres_to_zone_times(
    centres: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    seconds_from_metres: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Crow-fly travel times (minutes) from user-given centre points to zone points.

    Parameters
    ----------
    centres : GeoDataFrame
        Centre points (EPSG:28992).
    zones : GeoDataFrame
        Zones (EPSG:28992); their representative points are used (see :func:`zone_points`).
    seconds_from_metres : callable
        Crow-fly impedance, e.g. ``lambda d: impedance.crowfly_seconds(d, "car")``.

    Returns
    -------
    ndarray of float64, shape (n_centres, n_zones)
        Minutes.
    """
    places.check_crs(centres, "centres")
    c = centres.geometry.centroid
    zx, zy = zone_points(zones)
    d = np.hypot(c.x.to_numpy()[:, None] - zx[None, :], c.y.to_numpy()[:, None] - zy[None, :])
    return np.asarray(seconds_from_metres(d), dtype=float) / 60.0
