"""OpenStreetMap helpers: tag parsing, way readers (PBF/XML via pyosmium, Overpass JSON)
and splitting polylines into edges at shared vertices.

Everything here works on WGS84 longitude/latitude (OSM) or on projected metres (line
tables); reprojection to EPSG:28992 happens in :mod:`ruimtekit.network.networks`.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ruimtekit._errors import InputError

EARTH_RADIUS_M = 6_371_009.0
"""Mean Earth radius in metres (the value osmnx uses for great-circle lengths)."""

MPH_KMH = 1.609344
KNOT_KMH = 1.852

IMPLICIT_MAXSPEED_KMH: dict[str, float] = {
    "nl:urban": 50.0,
    "nl:rural": 80.0,
    "nl:trunk": 100.0,
    "nl:motorway": 100.0,  # daytime (06-19 h) limit since 2020; 130 only at night on some
    "nl:zone30": 30.0,
    "nl:zone60": 60.0,
    "nl:living_street": 15.0,
    "nl:woonerf": 15.0,
    "nl:bicycle_road": 30.0,
    "nl:fietsstraat": 30.0,
    "walk": 6.0,
    "living_street": 15.0,
}
"""Implicit ``maxspeed`` values (``maxspeed=NL:urban`` etc.) in km/h. Dutch legal limits:
built-up area 50, outside 80, *autoweg* 100, motorway 100 by day (130 is allowed only on
some stretches at night), woonerf walking pace (15 used)."""


def parse_list(value: Any) -> list[str]:
    """Split an OSM/osmnx multi-value into strings.

    Handles osmnx list-strings (``"['living_street', 'residential']"``), Python lists,
    and OSM ``;``-separated values (``"30;50"``). ``None``/NaN/empty give ``[]``.

    Examples
    --------
    >>> parse_list("['30', '50']")
    ['30', '50']
    >>> parse_list("30;50")
    ['30', '50']
    """
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, set)):
        out: list[str] = []
        for v in value:
            out.extend(parse_list(v))
        return out
    s = str(value).strip()
    if not s:
        return []
    if s.startswith("[") and s.endswith("]"):
        try:
            parsed = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            parsed = [p.strip(" '\"") for p in s[1:-1].split(",")]
        return parse_list(list(parsed))
    return [p.strip() for p in s.split(";") if p.strip()]


_SPEED_RE = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(km/h|kmh|kph|mph|knots|kn)?\s*$", re.I)


def parse_maxspeed(value: Any) -> float:
    """Parse an OSM ``maxspeed`` value to km/h.

    Parameters
    ----------
    value : str, number, list or None
        ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"5 knots"``, ``"NL:urban"``,
        ``"walk"``, lists (``"30;50"``, ``"['30', '50']"``, Python lists).

    Returns
    -------
    float
        Speed in km/h; the mean of the parseable members of a list (as osmnx does);
        NaN when nothing is parseable (``"none"``, ``"signals"``, ``"variable"``, empty),
        so the caller falls back to the road-class default. Non-positive values give NaN.

    Examples
    --------
    >>> parse_maxspeed("30 mph")
    48.28032
    >>> parse_maxspeed("['30', '50']")
    40.0
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        return v if v > 0 and math.isfinite(v) else math.nan
    speeds = []
    for part in parse_list(value):
        p = part.strip().lower()
        if p in IMPLICIT_MAXSPEED_KMH:
            speeds.append(IMPLICIT_MAXSPEED_KMH[p])
            continue
        m = _SPEED_RE.match(p)
        if not m:
            continue
        num = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            num *= MPH_KMH
        elif unit in ("knots", "kn"):
            num *= KNOT_KMH
        if num > 0:
            speeds.append(num)
    return float(np.mean(speeds)) if speeds else math.nan


def parse_oneway(value: Any) -> int | None:
    """Parse a ``oneway`` value.

    Returns
    -------
    int or None
        ``1`` one-way along the digitised direction (``yes``, ``true``, ``1``, ``True``),
        ``-1`` against it (``-1``, ``reverse``), ``0`` two-way (``no``, ``false``, ``0``,
        and ``reversible``/``alternating``, which cannot be routed statically and are
        treated as two-way, as osmnx does), ``None`` when absent or unrecognised.
        A list (osmnx merged edges) is one-way when any member is.
    """
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, (int, np.integer)):
        return int(np.sign(value))
    vals = [v.strip().lower() for v in parse_list(value)]
    out = None
    for v in vals:
        if v in ("yes", "true", "1"):
            return 1
        if v in ("-1", "reverse"):
            return -1
        if v in ("no", "false", "0", "reversible", "alternating"):
            out = 0
    return out


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
                lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between WGS84 points (degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


# -- way readers --------------------------------------------------------------------------

KEEP_TAGS = frozenset({
    "highway", "area", "access", "foot", "bicycle", "vehicle", "motor_vehicle", "motorcar",
    "motorroad", "service", "oneway", "oneway:bicycle", "junction", "maxspeed", "cycleway",
    "cycleway:left", "cycleway:right", "cycleway:both", "name", "tunnel", "layer",
})
"""OSM way tags kept by the readers (everything the mode profiles look at)."""


@dataclass
class WayTable:
    """Ways with a ``highway`` tag, as flat arrays (one polyline per *part*).

    A way whose nodes are partly missing from the extract is cut into parts at the
    missing nodes.

    Attributes
    ----------
    tags : list of dict
        Tags per part (kept keys only, see :data:`KEEP_TAGS`).
    way_id : ndarray of int64, shape (p,)
        OSM way id per part.
    offsets : ndarray of int64, shape (p + 1,)
        Part ``i`` uses vertices ``offsets[i]:offsets[i + 1]``.
    node_ref : ndarray of int64
        OSM node id per vertex.
    lon, lat : ndarray of float64
        Vertex coordinates (WGS84 degrees).
    signal_ref : ndarray of int64
        OSM ids of ``highway=traffic_signals`` nodes.
    signal_dir : ndarray of int8
        Their ``traffic_signals:direction``: 1 forward, -1 backward (relative to the way),
        0 both or absent.
    """

    tags: list[dict[str, str]]
    way_id: np.ndarray
    offsets: np.ndarray
    node_ref: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    signal_ref: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    signal_dir: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))


class _WayCollector:
    def __init__(self) -> None:
        self.tags: list[dict[str, str]] = []
        self.way_id: list[int] = []
        self.lengths: list[int] = []
        self.refs: list[int] = []
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.missing = 0
        self.signals: dict[int, int] = {}

    def add_node(self, nid: int, tags: dict[str, str]) -> None:
        """Record a ``highway=traffic_signals`` node (others are ignored)."""
        if tags.get("highway") != "traffic_signals":
            return
        d = str(tags.get("traffic_signals:direction", "")).strip().lower()
        self.signals[nid] = 1 if d == "forward" else -1 if d == "backward" else 0

    def add(self, wid: int, tags: dict[str, str], pts: list[tuple[int, float, float] | None]
            ) -> None:
        part: list[tuple[int, float, float]] = []
        for p in [*pts, None]:
            if p is None:
                if len(part) >= 2:
                    self.tags.append(tags)
                    self.way_id.append(wid)
                    self.lengths.append(len(part))
                    for r, x, y in part:
                        self.refs.append(r)
                        self.lon.append(x)
                        self.lat.append(y)
                part = []
            else:
                part.append(p)
        self.missing += sum(1 for p in pts if p is None)

    def table(self) -> WayTable:
        return WayTable(
            tags=self.tags,
            way_id=np.asarray(self.way_id, dtype=np.int64),
            offsets=np.concatenate([[0], np.cumsum(self.lengths, dtype=np.int64)]).astype(np.int64),
            node_ref=np.asarray(self.refs, dtype=np.int64),
            lon=np.asarray(self.lon, dtype=np.float64),
            lat=np.asarray(self.lat, dtype=np.float64),
            signal_ref=np.fromiter(self.signals.keys(), dtype=np.int64, count=len(self.signals)),
            signal_dir=np.fromiter(self.signals.values(), dtype=np.int8,
                                   count=len(self.signals)),
        )


def read_osm_ways(path: str | Path) -> WayTable:
    """Read all ways with a ``highway`` tag from an OSM PBF or XML file (pyosmium).

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.xml`` file.

    Returns
    -------
    WayTable
        Node locations come from the same file; a way is cut where a node is missing
        from the extract.

    Raises
    ------
    InputError
        Unreadable or corrupt file.
    """
    import osmium

    path = Path(path)
    col = _WayCollector()
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for w in fp:
            if w.is_node():
                col.add_node(int(w.id), {t.k: t.v for t in w.tags})
                continue
            tags = {t.k: t.v for t in w.tags if t.k in KEEP_TAGS}
            pts: list[tuple[int, float, float] | None] = []
            for n in w.nodes:
                loc = n.location
                if loc.valid():
                    pts.append((int(n.ref), float(loc.lon), float(loc.lat)))
                else:
                    pts.append(None)
            col.add(int(w.id), tags, pts)
    except RuntimeError as exc:
        raise InputError(
            path, f"cannot read the OSM file ({exc})",
            "check it is a complete .osm.pbf or .osm XML file (re-download or re-export it)",
        ) from None
    return col.table()


def read_overpass_json(path: str | Path) -> WayTable:
    """Read ways with a ``highway`` tag from an Overpass API JSON response.

    Both ``out body; >; out skel;`` (nodes as separate elements) and ``out geom;``
    (coordinates inside each way) responses are understood.

    Raises
    ------
    InputError
        Not JSON, or no ``elements`` list.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot read the Overpass JSON ({exc})",
                         "save the Overpass API response unchanged (format `[out:json]`)") from None
    elements = data.get("elements") if isinstance(data, dict) else None
    if not isinstance(elements, list):
        raise InputError(path, "no `elements` list: this is not an Overpass API JSON response",
                         "query Overpass with `[out:json]` and save the response as is")
    nodes: dict[int, tuple[float, float]] = {}
    for el in elements:
        if el.get("type") == "node" and "lat" in el and "lon" in el:
            nodes[int(el["id"])] = (float(el["lon"]), float(el["lat"]))
    col = _WayCollector()
    for el in elements:
        if el.get("type") == "node" and el.get("tags"):
            col.add_node(int(el["id"]), {k: str(v) for k, v in el["tags"].items()})
    for el in elements:
        if el.get("type") != "way":
            continue
        tags = el.get("tags") or {}
        if "highway" not in tags:
            continue
        refs = [int(r) for r in el.get("nodes", [])]
        geom = el.get("geometry")
        pts: list[tuple[int, float, float] | None] = []
        for i, r in enumerate(refs):
            g = geom[i] if isinstance(geom, list) and i < len(geom) else None
            if isinstance(g, dict) and "lon" in g:
                pts.append((r, float(g["lon"]), float(g["lat"])))
            elif r in nodes:
                pts.append((r, *nodes[r]))
            else:
                pts.append(None)
        col.add(int(el["id"]), {k: str(v) for k, v in tags.items() if k in KEEP_TAGS}, pts)
    return col.table()


# -- splitting ----------------------------------------------------------------------------

@dataclass
class Segments:
    """Edges between graph nodes, cut from polylines.

    Attributes
    ----------
    part : ndarray of int64
        Index of the polyline (part) each segment comes from.
    a, b : ndarray of int64
        Vertex positions (into the flat vertex arrays) of the segment's start and end.
    length : ndarray of float64
        Segment length (same unit as the vertex distances given).
    """

    part: np.ndarray
    a: np.ndarray
    b: np.ndarray
    length: np.ndarray


def split_polylines(offsets: np.ndarray, key: np.ndarray, step_length: np.ndarray,
                    split_all: bool = False) -> Segments:
    """Cut polylines into segments at vertices shared with other polylines and at ends.

    A vertex becomes a graph node when it is the first or last vertex of its polyline,
    or when its ``key`` (OSM node id, or rounded coordinate) occurs at least twice in all
    polylines together (shared by two ways, or visited twice by one way).

    Parameters
    ----------
    offsets : ndarray of int64, shape (p + 1,)
        Polyline ``i`` uses vertices ``offsets[i]:offsets[i + 1]`` (each >= 2 vertices).
    key : ndarray of int64, shape (n,)
        Vertex identity.
    step_length : ndarray of float64, shape (n,)
        Length from vertex ``k`` to vertex ``k + 1`` of the same polyline (the value at a
        polyline's last vertex is ignored).
    split_all : bool
        Make every vertex a node.

    Returns
    -------
    Segments
    """
    n = key.shape[0]
    counts = np.diff(offsets)
    part_of = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    is_node = np.zeros(n, dtype=bool)
    is_node[offsets[:-1]] = True
    is_node[offsets[1:] - 1] = True
    if split_all:
        is_node[:] = True
    else:
        _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
        is_node |= cnt[inv] >= 2
    steps = np.asarray(step_length, dtype=np.float64).copy()
    steps[offsets[1:] - 1] = 0.0  # no step across polylines
    cum = np.concatenate([[0.0], np.cumsum(steps)])  # cum[k] = distance to vertex k
    pos = np.flatnonzero(is_node)
    a, b = pos[:-1], pos[1:]
    same = part_of[a] == part_of[b]
    a, b = a[same], b[same]
    return Segments(part=part_of[a], a=a, b=b, length=cum[b] - cum[a])
