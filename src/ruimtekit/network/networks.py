"""Routable street networks for walk, bike and car, and snapping points to them.

Readers turn OpenStreetMap extracts (``.osm.pbf``, ``.osm`` XML, Overpass JSON), osmnx
GraphML files and link tables (GeoPackage, GeoParquet, Shapefile, GeoJSON, FlatGeobuf, CSV)
into a compact :class:`ruimtekit.network.graph.Graph`: CSR arrays, travel times in whole seconds,
node coordinates in EPSG:28992, only the largest strongly connected component kept.

Which ways a mode may use, in which direction and at what speed is decided by the mode
profiles in :mod:`ruimtekit.network.profiles` (all defaults documented there and in
``docs/networks.md``). Travel time per edge = length / speed + penalty.

Examples
--------
>>> from ruimtekit import networks
>>> g = networks.load_network("data/raw/osm/delft_drive.graphml", "car")  # doctest: +SKIP
>>> s = networks.snap(g, [84_500.0], [447_000.0], max_distance_m=500)    # doctest: +SKIP
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from ruimtekit import _crs, _vector, defaults
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.io import layers
from ruimtekit.network import _linking, _osm, graph, profiles
from ruimtekit.network import ferries as _ferries
from ruimtekit.network.ferries import FerryConfig

log = logging.getLogger(__name__)

CRS = "EPSG:28992"

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.xml", ".osm.bz2", ".osm.gz", ".xml")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz", ".graphml.bz2")
LINK_SUFFIXES = (".gpkg", ".parquet", ".geoparquet", ".shp", ".geojson", ".fgb", ".csv", ".json",
                 ".shp.zip")
STREET_KINDS = ("osm", "graphml", "links")
TRANSIT_KINDS = ("gtfs", "transit_graph", "ns_rail")
SUPPORTED_TEXT = (
    "OSM: .osm.pbf, .osm (XML), .osm.bz2/.gz, Overpass .json; osmnx GraphML: .graphml; "
    "link tables: .gpkg, .parquet/.geoparquet, .shp, .geojson/.json, .fgb, .csv"
)

# canonical link-table column -> names looked for (case-insensitive), NWB/NDW and common
# GIS spellings included
LINK_ALIASES: dict[str, tuple[str, ...]] = {
    "u": ("u", "from_node", "from_node_id", "fromnodeid", "from", "source", "a_node", "anode",
          "jte_id_beg", "node_from"),
    "v": ("v", "to_node", "to_node_id", "tonodeid", "to", "target", "b_node", "bnode",
          "jte_id_end", "node_to"),
    "length_m": ("length_m", "length", "distanceinmeters", "distance_m", "lengte", "len_m",
                 "shape_length"),
    "travel_time_s": ("travel_time_s", "travel_time", "traveltime_s", "time_s", "duration_s"),
    "reverse_travel_time_s": ("reverse_travel_time_s", "travel_time_s_reverse"),
    "speed_kmh": ("speed_kmh", "speedinkilometersperhour", "speed", "speed_kph", "maxspeed",
                  "kmh"),
    "reverse_speed_kmh": ("reverse_speed_kmh", "reversespeedinkilometersperhour",
                          "speed_reverse_kmh", "backward_speed_kmh"),
    "oneway": ("oneway", "one_way", "rijrichtng", "rijrichting"),
    "highway": ("highway", "osm_type", "fclass", "road_class"),
    "x_u": ("x_u", "start_x", "from_x", "x_from"),
    "y_u": ("y_u", "start_y", "from_y", "y_from"),
    "x_v": ("x_v", "end_x", "to_x", "x_to"),
    "y_v": ("y_v", "end_y", "to_y", "y_to"),
}


# ---------------------------------------------------------------------------------------
# study-file section
# ---------------------------------------------------------------------------------------

URBAN_MIN_DENSITY_KM2 = defaults.URBAN_MIN_DENSITY_KM2
"""Inhabitants per km² from which a zone counts as urban for link speeds
(:data:`ruimtekit.defaults.URBAN_MIN_DENSITY_KM2`)."""


class UrbanAreas(Section):
    """Urban areas for link speeds (study file: ``urban: {zones: ..., min_density_km2: ...}``
    on a network): links whose midpoint lies in a zone with at least ``min_density_km2``
    inhabitants per km² use the profile's urban speeds and junction delay.

    Attributes
    ----------
    zones : str
        Polygon zones with population (read with :func:`ruimtekit.io.layers.read_zones`).
    min_density_km2 : float
        Inhabitants per km² (:data:`URBAN_MIN_DENSITY_KM2`).
    """

    zones: str
    min_density_km2: float = Field(URBAN_MIN_DENSITY_KM2, ge=0)


class ReadOptions(Section):
    """How a network file is read: link-table columns and noding, and the CRS of files that
    do not declare one (the same keys as a study network, :class:`NetworkSpec`).

    Attributes
    ----------
    columns : dict of str to str
        Link tables: canonical column → column in the file, e.g.
        ``{u: JTE_ID_BEG, v: JTE_ID_END, speed_kmh: snelheid}`` (default: the built-in
        aliases of :data:`LINK_ALIASES`).
    node_lines : bool
        Link tables of lines that are not split at junctions: split them at shared
        vertices first (:func:`split_at_shared_vertices`; default ``False``).
    node_precision_m : float
        Rounding grid (metres) for nodes derived from line coordinates (0.1).
    crs : str, optional
        CRS of files that do not declare one (CSV coordinates, GraphML without ``crs``,
        shapefiles without ``.prj``).
    """

    columns: dict[str, str] = Field(default_factory=dict)
    node_lines: bool = False
    node_precision_m: float = Field(0.1, gt=0)
    crs: str | None = None


def _read_options(options: ReadOptions | Mapping[str, Any] | None) -> ReadOptions:
    if options is None:
        return ReadOptions()
    if isinstance(options, ReadOptions):
        return options
    return ReadOptions.model_validate(dict(options))


class NetworkSpec(Section):
    """One network in a study file (``networks: {name: {...}}``).

    Attributes
    ----------
    path : str or list of str
        Input file, relative to the study root; a list of GTFS feeds (``kind: gtfs``)
        makes one transit network of several feeds.
    kind : str
        ``auto`` (from the file name), ``osm`` (PBF/XML/Overpass JSON), ``graphml`` (osmnx),
        ``links`` (link table); ``gtfs``, ``transit_graph`` and ``ns_rail`` are built by
        :mod:`ruimtekit.engine.transit` / :mod:`ruimtekit.engine.rail`.
    mode : str, optional
        ``walk``, ``bike``, ``ebike`` or ``car`` (required for street networks).
    profile : dict
        Overrides of the mode profile (see :mod:`ruimtekit.network.profiles`).
    period : str, optional
        Time period for speed factors (car: ``offpeak``, ``morning_peak``, ``evening_peak``).
    columns : dict
        Link tables: canonical column → column in the file, e.g.
        ``{u: JTE_ID_BEG, v: JTE_ID_END, speed_kmh: snelheid}``.
    node_lines : bool
        Link tables of lines that are not split at junctions: split them at shared
        vertices first (see :func:`split_at_shared_vertices`).
    node_precision_m : float
        Coordinates closer than about this (metres, rounding grid) are one node when nodes
        are derived from line geometry.
    crs : str, optional
        CRS of files that do not declare one (CSV coordinates, GraphML without ``crs``).
    description : str
        Free text for provenance.
    options : dict
        Extra settings for the transit builders (kinds ``gtfs``, ``transit_graph``,
        ``ns_rail``); ignored for street networks.
    nodes : str, optional
        Node table (``node_id`` and ``lon``/``lat`` or ``x``/``y``) for a link table whose
        links carry node ids but no coordinates, e.g. the OSM NL main-road tables
        (:func:`read_road_tables`: ``class`` + ``ramp`` map to OSM highway classes).
    ferries : FerryConfig, optional
        Ferry lines joined to the road graph (:mod:`ruimtekit.network.ferries`).
    urban : UrbanAreas, optional
        Urban areas for the car speeds of node/edge road tables (:class:`UrbanAreas`).
    """

    path: str | list[str]
    kind: Literal["auto", "osm", "graphml", "links", "gtfs", "transit_graph", "ns_rail"] = "auto"
    mode: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)
    period: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    node_lines: bool = False
    node_precision_m: float = Field(defaults.NODE_PRECISION_M, gt=0)
    crs: str | None = None
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
    nodes: str | None = None
    ferries: FerryConfig | None = None
    urban: UrbanAreas | None = None

    def read_options(self) -> ReadOptions:
        """The file-reading keys of this network (:class:`ReadOptions`)."""
        return ReadOptions(columns=self.columns, node_lines=self.node_lines,
                           node_precision_m=self.node_precision_m, crs=self.crs)

    @model_validator(mode="after")
    def _mode_for_streets(self) -> NetworkSpec:
        if isinstance(self.path, list) and self.kind not in ("auto", "gtfs"):
            raise ValueError("a list of paths is only for GTFS feeds (kind: gtfs)")
        if self.kind in STREET_KINDS and not self.mode:
            raise ValueError(f"kind {self.kind!r} needs a mode (walk, bike, ebike or car)")
        if self.mode is not None and self.kind in STREET_KINDS + ("auto",) \
                and self.mode not in profiles.PROFILES:
            raise ValueError(
                f"unknown mode {self.mode!r} for a street network; use one of "
                f"{', '.join(profiles.PROFILES)}"
            )
        return self


# ---------------------------------------------------------------------------------------
# format dispatch
# ---------------------------------------------------------------------------------------

def detect_kind(path: str | Path) -> str:
    """Network kind from a file name (and, for ``.json``, its first bytes).

    Returns
    -------
    str
        ``osm``, ``graphml`` or ``links``.

    Raises
    ------
    InputError
        Unknown format (the message lists the supported ones).
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".json"):
        with open(p, "rb") as f:
            head = f.read(65536).decode("utf-8", errors="replace")
        return "osm" if '"elements"' in head else "links"
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    if name.endswith(LINK_SUFFIXES):
        return "links"
    raise InputError(
        p, f"unknown network format {''.join(p.suffixes) or '(no extension)'!r}",
        f"use a supported format ({SUPPORTED_TEXT}) or set `kind:` in the study file",
    )


def load_network(
    path: str | Path,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    kind: str = "auto",
    options: ReadOptions | Mapping[str, Any] | None = None,
    largest_component: bool = True,
) -> graph.Graph:
    """Read a street network for one mode into a :class:`~ruimtekit.network.graph.Graph`.

    Parameters
    ----------
    path : str or Path
        OSM extract, osmnx GraphML or link table (see :data:`SUPPORTED_TEXT`).
    mode : str
        ``walk``, ``bike``, ``ebike`` or ``car``.
    profile : mapping or ModeProfile, optional
        Overrides of the mode's default profile (:func:`ruimtekit.network.profiles.get_profile`).
    period : str, optional
        Time period whose speed factors apply (car: ``offpeak``, ``morning_peak``,
        ``evening_peak``); ``None`` = free flow.
    kind : str
        ``auto`` (from the file name), ``osm``, ``graphml`` or ``links``.
    options : ReadOptions or dict, optional
        Link-table ``columns`` (canonical name → name in the file), ``node_lines`` (split
        unnoded lines at shared vertices first), ``node_precision_m`` and the ``crs`` of
        inputs that do not declare one (:class:`ReadOptions`; default none of these).
    largest_component : bool
        Keep only the largest strongly connected component (default).

    Returns
    -------
    Graph
        Travel times in whole seconds, ``length_m`` per edge, coordinates in EPSG:28992;
        ``meta`` holds the source, profile, period, dropped nodes and component counts.

    Raises
    ------
    InputError
        Missing file, unknown format, missing columns, no CRS, bad speeds, or no way
        usable by the mode.

    Examples
    --------
    ::

        load_network("roads.csv", "car", options={"crs": "EPSG:4326"})
        load_network("delft_roads.shp", "walk", options=ReadOptions(node_lines=True))
    """
    opts = _read_options(options)
    p = Path(path)
    if not p.exists():
        raise InputError(p, "network file not found", "check the path (relative to the study root)")
    k = detect_kind(p) if kind == "auto" else kind
    if k == "osm":
        return read_osm(p, mode, profile, period, largest_component=largest_component)
    if k == "graphml":
        return read_graphml(p, mode, profile, period, crs=opts.crs,
                            largest_component=largest_component)
    if k == "links":
        return read_links(p, mode, profile, period, options=opts,
                          largest_component=largest_component)
    raise InputError(
        p, f"network kind {k!r} is not a street network",
        "use kind osm, graphml or links here (transit kinds are built by ruimtekit.engine.transit)",
    )


# ---------------------------------------------------------------------------------------
# common graph assembly
# ---------------------------------------------------------------------------------------

def _mode_label(prof: profiles.ModeProfile) -> str:
    if isinstance(prof, profiles.BikeProfile) and prof.ebike:
        return "ebike"
    return prof.mode


def _assemble(
    *,
    path: Path,
    prof: profiles.ModeProfile,
    period: str | None,
    u: np.ndarray,
    v: np.ndarray,
    length_m: np.ndarray | None,
    time_fwd: np.ndarray,
    time_bwd: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    node_ids: np.ndarray,
    kind: str,
    largest_component: bool,
    extra_meta: dict[str, Any] | None = None,
    link_data: tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None = None,
    node_data: dict[str, np.ndarray] | None = None,
) -> graph.Graph:
    """Directed edges from per-link arrays, then :func:`graph.from_edges`.

    ``link_data`` is (forward, backward) per-link arrays with the same keys: the edge
    data of each travel direction (e.g. the geometry runs the other way backwards).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    eu = np.concatenate([u[fwd], v[bwd]])
    ev = np.concatenate([v[fwd], u[bwd]])
    et = np.concatenate([time_fwd[fwd], time_bwd[bwd]])
    el = None if length_m is None else np.concatenate([length_m[fwd], length_m[bwd]])
    ed = None
    if link_data is not None:
        lf, lb = link_data
        ed = {k: np.concatenate([lf[k][fwd], lb[k][bwd]]) for k in lf}
    nd = None if node_data is None else dict(node_data)
    if eu.size == 0:
        raise InputError(path, f"no edge is usable by the {prof.mode} profile (all one-way "
                         "links blocked)", "check the direction columns and the mode")
    n = x.shape[0]
    # drop nodes that no edge uses (e.g. way ends of excluded ways) before counting components
    used = np.zeros(n, dtype=bool)
    used[eu] = True
    used[ev] = True
    if not used.all():
        new = np.cumsum(used) - 1
        eu, ev = new[eu], new[ev]
        x, y, node_ids = x[used], y[used], node_ids[used]
        if nd is not None:
            nd = {k: a[used] for k, a in nd.items()}
        n = x.shape[0]
    adj = csr_matrix((np.ones(eu.size), (eu, ev)), shape=(n, n))
    n_scc, labels = connected_components(adj, directed=True, connection="strong")
    n_wcc, _ = connected_components(adj, directed=True, connection="weak")
    sizes = np.sort(np.bincount(labels))[::-1]
    mode = _mode_label(prof)
    meta = {
        "source": str(path),
        "kind": kind,
        "profile": prof.model_dump(),
        "period": period,
        "nodes_before_component_filter": int(n),
        "strong_components": int(n_scc),
        "weak_components": int(n_wcc),
        "largest_components": [int(s) for s in sizes[:5]],
        **(extra_meta or {}),
    }
    g = graph.from_edges(eu, ev, et, x, y, mode=mode, largest_component=largest_component,
                         attrs=graph.GraphAttrs(node_ids=node_ids, length_m=el, edge_data=ed,
                                                node_data=nd, meta=meta))
    g.meta["dropped_components"] = int(n_scc - 1) if largest_component else 0
    log.info(
        "%s: %s network with %d nodes and %d edges (%d nodes in %d smaller strongly "
        "connected components dropped; %d weakly connected components in the source)",
        path.name, mode, g.n_nodes, g.n_edges, g.dropped_nodes, g.meta["dropped_components"],
        n_wcc,
    )
    return g


def _to_rd(x: np.ndarray, y: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS as PCRS
    from pyproj import Transformer

    src = PCRS.from_user_input(crs)
    target = _crs.working_crs()
    if target == _crs.AUTO:
        if src.is_geographic:
            target = _crs.settle(float(np.nanmean(x)), float(np.nanmean(y)))
        else:
            lon, lat = Transformer.from_crs(src, "EPSG:4326", always_xy=True).transform(
                float(np.nanmean(x)), float(np.nanmean(y)))
            target = _crs.settle(lon, lat)
    if src.equals(PCRS.from_user_input(target)):
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    tr = Transformer.from_crs(src, target, always_xy=True)
    xx, yy = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(xx), np.asarray(yy)


def _highway_summary(values: list[Any]) -> str:
    c: collections.Counter[str] = collections.Counter()
    for val in values:
        for h in _osm.parse_list(val) or ["(none)"]:
            c[h] += 1
    return ", ".join(f"{k} ×{n}" for k, n in c.most_common(25)) or "(no highway values)"


def _empty_error(path: Path, prof: profiles.ModeProfile, present: list[Any]) -> InputError:
    return InputError(
        path,
        f"no way is usable by the {prof.mode} profile; highway values present: "
        f"{_highway_summary(present)}",
        f"use a network that contains {prof.mode} ways (the {prof.mode} profile allows "
        f"{', '.join(prof.highways[:8])}, ...) or change `profile: {{highways: [...]}}`",
    )


def _rules(prof: profiles.ModeProfile, tag_list: list[Mapping[str, Any]], period: str | None
           ) -> list[profiles.WayRule | None]:
    """Evaluate a profile on many tag dicts, caching by the relevant tag values."""
    cache: dict[tuple[Any, ...], profiles.WayRule | None] = {}
    keys = prof.relevant_keys
    out: list[profiles.WayRule | None] = []
    for tags in tag_list:
        sig = tuple(str(tags.get(k)) for k in keys)
        r = cache.get(sig, False)
        if r is False:
            r = prof.rule(tags, period)
            cache[sig] = r
        out.append(r)  # type: ignore[arg-type]
    return out


# ---------------------------------------------------------------------------------------
# OSM (PBF / XML / Overpass JSON)
# ---------------------------------------------------------------------------------------

def read_osm(
    path: str | Path,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    largest_component: bool = True,
) -> graph.Graph:
    """Build a mode's graph from an OSM extract.

    ``.osm.pbf`` and ``.osm`` XML are streamed with pyosmium (ways with a ``highway`` tag
    and the locations of their nodes); Overpass API JSON is parsed directly. All tags the
    profiles need (``foot``, ``bicycle``, ``oneway:bicycle``, ``cycleway*``, ...) are kept,
    which osmnx's readers drop. Ways are split into edges at nodes shared by two or more
    usable ways and at way ends; edge length is the great-circle length along the way's
    vertices (metres); node ids are OSM node ids.

    Parameters
    ----------
    path : str or Path
        ``.osm.pbf``, ``.osm``/``.xml``, ``.osm.bz2``/``.gz`` or Overpass ``.json``.
    mode, profile, period
        See :func:`load_network`.
    largest_component : bool
        Keep only the largest strongly connected component.

    Returns
    -------
    Graph
    """
    path = Path(path)
    prof = profiles.get_profile(mode, profile)
    prof.validate_period(period)
    ways = (_osm.read_overpass_json(path) if path.name.lower().endswith(".json")
            else _osm.read_osm_ways(path))
    if not ways.tags:
        raise InputError(path, "the file contains no ways with a `highway` tag",
                         "use an OSM extract that covers streets (not only buildings/landuse)")
    rules = _rules(prof, ways.tags, period)
    keep = np.array([r is not None for r in rules], dtype=bool)
    if not keep.any():
        raise _empty_error(path, prof, [t.get("highway") for t in ways.tags])
    # keep only usable parts; rebuild the flat vertex arrays
    counts = np.diff(ways.offsets)
    vkeep = np.repeat(keep, counts)
    offsets = np.concatenate([[0], np.cumsum(counts[keep])]).astype(np.int64)
    ref = ways.node_ref[vkeep]
    lon, lat = ways.lon[vkeep], ways.lat[vkeep]
    kept_rules = [r for r in rules if r is not None]
    step = np.zeros(ref.shape[0])
    step[:-1] = _osm.haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg = _osm.split_polylines(offsets, ref, step)

    node_ref, inv = np.unique(np.concatenate([ref[seg.a], ref[seg.b]]), return_inverse=True)
    u = inv[: seg.a.size]
    v = inv[seg.a.size:]
    # coordinates of each node (first vertex with that ref)
    pos = np.concatenate([seg.a, seg.b])
    first = np.full(node_ref.size, -1, dtype=np.int64)
    first[inv[::-1]] = pos[::-1]
    x, y = _to_rd(lon[first], lat[first], "EPSG:4326")

    fwd_w = np.array([r.forward for r in kept_rules])
    bwd_w = np.array([r.backward for r in kept_rules])
    spd_w = np.array([r.speed_kmh for r in kept_rules])
    pen_w = np.array([r.penalty_s for r in kept_rules])
    length = seg.length
    tt = length / (spd_w[seg.part] / 3.6) + pen_w[seg.part]
    # edge geometry (all vertices, EPSG:28992), link attributes and traffic signals
    vx, vy = _to_rd(lon, lat, "EPSG:4326")
    kept_tags = [t for t, k in zip(ways.tags, keep, strict=True) if k]
    hw_w = np.array([r.highway for r in kept_rules], dtype=object)
    tun_w = np.array([_is_tunnel(t) for t in kept_tags], dtype=bool)
    priv_w = np.array([_is_private_service(t) for t in kept_tags], dtype=bool)
    sig_f = np.zeros(ref.shape[0], dtype=np.int64)
    sig_b = np.zeros(ref.shape[0], dtype=np.int64)
    if ways.signal_ref.size:
        order = np.argsort(ways.signal_ref)
        sref, sdir = ways.signal_ref[order], ways.signal_dir[order]
        sig_pos = np.minimum(np.searchsorted(sref, ref), sref.size - 1)
        is_sig = sref[sig_pos] == ref
        d = sdir[sig_pos]
        sig_f = (is_sig & (d >= 0)).astype(np.int64)
        sig_b = (is_sig & (d <= 0)).astype(np.int64)
    cf, cb = np.cumsum(sig_f), np.cumsum(sig_b)
    inner_f = cf[seg.b - 1] - cf[seg.a]  # signals at vertices strictly inside the edge
    inner_b = cb[seg.b - 1] - cb[seg.a]
    common = {"highway": hw_w[seg.part], "tunnel": tun_w[seg.part],
              "private": priv_w[seg.part]}
    link_fwd = {**common, "geom_a": seg.a, "geom_b": seg.b, "signals": inner_f}
    link_bwd = {**common, "geom_a": seg.b, "geom_b": seg.a, "signals": inner_b}
    node_signal = np.isin(node_ref, ways.signal_ref)
    return _assemble(
        path=path, prof=prof, period=period, u=u, v=v, length_m=length, time_fwd=tt,
        time_bwd=tt, fwd=fwd_w[seg.part], bwd=bwd_w[seg.part], x=x, y=y, node_ids=node_ref,
        kind="osm", largest_component=largest_component,
        extra_meta={"ways_used": int(keep.sum()), "ways_read": len(ways.tags),
                    "vertex_xy": np.column_stack([vx, vy]),
                    "traffic_signals": int(ways.signal_ref.size)},
        link_data=(link_fwd, link_bwd), node_data={"signal": node_signal},
    )


def _is_tunnel(tags: Mapping[str, Any]) -> bool:
    """A way underground: ``tunnel`` other than no/building_passage, or ``layer < 0``."""
    t = _osm.parse_list(tags.get("tunnel"))
    if any(v.lower() not in ("no", "building_passage", "false") for v in t):
        return True
    for val in _osm.parse_list(tags.get("layer")):
        try:
            if float(val) < 0:
                return True
        except ValueError:
            continue
    return False


def _is_private_service(tags: Mapping[str, Any]) -> bool:
    """A service road closed to the public (``access``/``service`` = private or no)."""
    if "service" not in _osm.parse_list(tags.get("highway")):
        return False
    acc = {v.lower() for v in _osm.parse_list(tags.get("access"))}
    svc = {v.lower() for v in _osm.parse_list(tags.get("service"))}
    return bool(acc & {"private", "no"}) or "private" in svc


# ---------------------------------------------------------------------------------------
# osmnx GraphML
# ---------------------------------------------------------------------------------------

def read_graphml(
    path: str | Path,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    crs: str | None = None,
    largest_component: bool = True,
) -> graph.Graph:
    """Build a mode's graph from an osmnx GraphML file.

    The file is read with :func:`networkx.read_graphml` (all attributes as strings) and
    cast here: ``length`` to metres, ``maxspeed`` lists (``"['30', '50']"``) to their mean,
    ``oneway`` strings, ``highway`` list-strings. osmnx stores every travel direction as
    its own edge, so the stored edge direction is kept; the reverse edge is added only when
    the profile allows both directions (walk, or a two-way road). Node ``x``/``y`` are read
    in the graph's ``crs`` attribute (osmnx: WGS84) and projected to EPSG:28992.

    Parameters
    ----------
    path : str or Path
        ``.graphml`` file.
    mode, profile, period
        See :func:`load_network`.
    crs : str, optional
        CRS of node coordinates when the file has no ``crs`` graph attribute.
    largest_component : bool
        Keep only the largest strongly connected component.

    Returns
    -------
    Graph
        Node ids are the GraphML node ids (OSM ids for osmnx files, as strings).
    """
    import networkx as nx

    path = Path(path)
    prof = profiles.get_profile(mode, profile)
    prof.validate_period(period)
    try:
        G = nx.read_graphml(path, force_multigraph=True)
    except Exception as exc:  # ElementTree/networkx raise many types
        raise InputError(path, f"cannot read the GraphML file ({type(exc).__name__}: {exc})",
                         "check it is a complete GraphML file (e.g. saved with "
                         "osmnx.save_graphml)") from None
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise InputError(path, "the GraphML file has no nodes or no edges",
                         "export a street network with edges")
    src_crs = G.graph.get("crs") or crs
    if not src_crs:
        raise InputError(path, "the GraphML file has no `crs` graph attribute, so the node "
                         "coordinates cannot be interpreted",
                         "pass crs (study file `crs: EPSG:4326` for osmnx lon/lat graphs)")
    nodes = list(G.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    try:
        nx_ = np.array([float(G.nodes[n]["x"]) for n in nodes])
        ny_ = np.array([float(G.nodes[n]["y"]) for n in nodes])
    except (KeyError, ValueError, TypeError):
        missing = [n for n in nodes if "x" not in G.nodes[n] or "y" not in G.nodes[n]]
        raise InputError(path, f"nodes need numeric `x` and `y` attributes; {len(missing)} of "
                         f"{len(nodes)} lack them (e.g. node {missing[:1] or '?'})",
                         "save the graph with osmnx (which writes x/y per node)") from None
    try:
        x, y = _to_rd(nx_, ny_, src_crs)
    except Exception as exc:  # pyproj CRSError and friends
        raise InputError(path, f"cannot use the crs {src_crs!r} ({exc})",
                         "set a valid crs such as EPSG:4326") from None

    edges = list(G.edges(data=True))
    tags_list = []
    lengths = np.empty(len(edges))
    bad_len = 0
    for i, (_, _, d) in enumerate(edges):
        try:
            lengths[i] = float(d["length"])
        except (KeyError, ValueError, TypeError):
            lengths[i] = np.nan
            bad_len += 1
        tags_list.append(d)
    if bad_len:
        attrs = sorted({k for _, _, d in edges for k in d})
        raise InputError(path, f"{bad_len} of {len(edges)} edges have no numeric `length` "
                         f"attribute (looked for `length`; attributes present: "
                         f"{', '.join(attrs)})",
                         "save the graph with osmnx, which stores edge length in metres")
    if np.any(lengths < 0):
        raise InputError(path, "negative edge lengths", "recompute edge lengths (metres)")
    if "highway" not in {k for _, _, d in edges[:1000] for k in d}:
        raise InputError(path, "edges have no `highway` attribute (looked for `highway`), so "
                         "the mode filter and road-class speeds cannot be applied",
                         "use an osmnx GraphML export, or a link table with speeds")
    rules = _rules(prof, tags_list, period)
    keep = np.array([r is not None for r in rules], dtype=bool)
    if not keep.any():
        raise _empty_error(path, prof, [d.get("highway") for d in tags_list])
    u = np.array([index[a] for a, _, _ in edges], dtype=np.int64)
    v = np.array([index[b] for _, b, _ in edges], dtype=np.int64)
    if G.is_directed():
        # osmnx stores each travel direction as its own edge: keep the stored direction,
        # add the reverse only where the profile allows both directions
        fwd = keep.copy()
        bwd = np.array([r is not None and r.forward and r.backward for r in rules])
    else:
        fwd = np.array([r is not None and r.forward for r in rules])
        bwd = np.array([r is not None and r.backward for r in rules])
    spd = np.array([r.speed_kmh if r is not None else 1.0 for r in rules])
    pen = np.array([r.penalty_s if r is not None else 0.0 for r in rules])
    tt = lengths / (spd / 3.6) + pen
    vertex_xy, ga, gb = _graphml_geometry(edges, u, v, nx_, ny_, src_crs, path)
    common = {
        "highway": np.array([r.highway if r is not None else "" for r in rules], dtype=object),
        "tunnel": np.array([_is_tunnel(d) for d in tags_list], dtype=bool),
        "private": np.array([_is_private_service(d) for d in tags_list], dtype=bool),
        "signals": np.zeros(len(edges), dtype=np.int64),  # osmnx keeps signals as nodes
    }
    signal = np.array([str(G.nodes[n].get("highway", "")) == "traffic_signals" for n in nodes],
                      dtype=bool)
    return _assemble(
        path=path, prof=prof, period=period, u=u, v=v, length_m=lengths, time_fwd=tt,
        time_bwd=tt, fwd=fwd, bwd=bwd, x=x, y=y, node_ids=_as_int_ids(nodes),
        kind="graphml", largest_component=largest_component,
        extra_meta={"source_nodes": len(nodes), "source_edges": len(edges),
                    "edges_used": int(keep.sum()), "vertex_xy": vertex_xy,
                    "traffic_signals": int(signal.sum())},
        link_data=({**common, "geom_a": ga, "geom_b": gb},
                   {**common, "geom_a": gb, "geom_b": ga}),
        node_data={"signal": signal},
    )


def _graphml_geometry(edges: list[Any], u: np.ndarray, v: np.ndarray, nx_: np.ndarray,
                      ny_: np.ndarray, src_crs: Any, path: Path
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge polylines of an osmnx graph: (vertices (V, 2) in EPSG:28992, first, last).

    Edges with a ``geometry`` (WKT, in the graph's CRS) use it, oriented from ``u`` to
    ``v``; others are the straight segment between their nodes.
    """
    import shapely

    wkt = [d.get("geometry") for _, _, d in edges]
    has = np.array([isinstance(w, str) and w.strip().upper().startswith("LINESTRING")
                    for w in wkt])
    counts = np.full(len(edges), 2, dtype=np.int64)
    coords_list: list[np.ndarray] = []
    if has.any():
        try:
            geoms = shapely.from_wkt(np.array([w for w, h in zip(wkt, has, strict=True) if h]))
        except Exception as exc:  # shapely GEOSException
            raise InputError(path, f"an edge `geometry` is not valid WKT ({exc})",
                             "save the graph with osmnx.save_graphml") from None
        c, idx = shapely.get_coordinates(geoms, return_index=True)
        counts[has] = np.bincount(idx, minlength=len(geoms))
        starts = np.concatenate([[0], np.cumsum(counts[has])])
        coords_list = [c[starts[i]:starts[i + 1]] for i in range(len(geoms))]
    out = []
    k = 0
    for i in range(len(edges)):
        if has[i]:
            c = coords_list[k]
            k += 1
            pu = np.array([nx_[u[i]], ny_[u[i]]])
            pv = np.array([nx_[v[i]], ny_[v[i]]])
            if np.hypot(*(c[0] - pv)) < np.hypot(*(c[0] - pu)):
                c = c[::-1]
            out.append(c)
        else:
            out.append(np.array([[nx_[u[i]], ny_[u[i]]], [nx_[v[i]], ny_[v[i]]]]))
    counts = np.array([c.shape[0] for c in out], dtype=np.int64)
    allc = np.concatenate(out)
    xx, yy = _to_rd(allc[:, 0], allc[:, 1], src_crs)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return np.column_stack([xx, yy]), first, first + counts - 1


def _as_int_ids(ids: list[Any]) -> np.ndarray:
    """Node ids as int64 when they are all integers (OSM ids), else as objects."""
    try:
        arr = np.array([int(i) for i in ids], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array(ids, dtype=object)
    if [str(a) for a in arr] != [str(i) for i in ids]:
        return np.array(ids, dtype=object)
    return arr


# ---------------------------------------------------------------------------------------
# link tables
# ---------------------------------------------------------------------------------------

def _read_table(path: Path, crs: str | None) -> pd.DataFrame:
    import geopandas as gpd

    name = path.name.lower()
    try:
        if name.endswith((".csv", ".tsv", ".txt", ".xlsx")):
            df = _vector.read_table(path, what="link table")
            geom_col = next((c for c in df.columns if c.lower() in ("geometry", "wkt", "geom")),
                            None)
            if geom_col is not None:
                if not crs:
                    raise InputError(path, f"the CSV has line geometry (column {geom_col!r}) "
                                     "but no CRS", "pass crs (study file `crs: EPSG:28992`)")
                geoms = gpd.GeoSeries.from_wkt(df[geom_col].astype(str), crs=crs)
                df = gpd.GeoDataFrame(df.drop(columns=[geom_col]), geometry=geoms)
            return df
        if name.endswith((".parquet", ".geoparquet")):
            try:
                return gpd.read_parquet(path)
            except ValueError:
                return pd.read_parquet(path)
        return gpd.read_file(path)
    except InputError:
        raise
    except Exception as exc:  # GDAL/pyarrow/pandas raise many types
        raise InputError(path, f"cannot read the link table ({type(exc).__name__}: {exc})",
                         f"check the file is complete and in a supported format "
                         f"({SUPPORTED_TEXT})") from None


def _find_columns(df: pd.DataFrame, columns: Mapping[str, str] | None, path: Path
                  ) -> dict[str, str]:
    """Canonical name → column in ``df`` (explicit mapping first, then aliases)."""
    lower = {str(c).lower(): c for c in df.columns if c != "geometry"}
    found: dict[str, str] = {}
    for key, val in dict(columns or {}).items():
        if key in LINK_ALIASES:
            canon, col = key, val
        elif val in LINK_ALIASES:  # given as {file column: canonical}
            canon, col = val, key
        else:
            raise InputError(path, f"columns mapping {key!r}: {val!r} names no canonical "
                             "link column", f"map canonical names ({', '.join(LINK_ALIASES)}) "
                             "to columns of the file")
        if col not in df.columns:
            raise InputError(path, f"column {col!r} (mapped to {canon!r}) is not in the table; "
                             f"columns present: {', '.join(map(str, df.columns))}",
                             "correct the `columns:` mapping")
        found[canon] = col
    explicit = set(found)
    for canon, names in LINK_ALIASES.items():
        if canon in found:
            continue
        for nm in names:
            if nm in lower:
                found[canon] = lower[nm]
                break
    # an alias match for only one of the node-id pair (e.g. an attribute called `source`)
    # is not a node-id column
    if ("u" in found) != ("v" in found) and not ({"u", "v"} & explicit):
        found.pop("u", None)
        found.pop("v", None)
    return found


def _numeric(df: pd.DataFrame, col: str, path: Path) -> np.ndarray:
    vals = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(vals) & df[col].notna().to_numpy()
    if bad.any():
        ex = df[col][bad].astype(str).unique()[:3]
        raise InputError(path, f"column {col!r} has non-numeric values (e.g. {', '.join(ex)})",
                         "store numbers only (metres, km/h or seconds)")
    return vals


def _oneway_column(values: pd.Series, path: Path, col: str) -> np.ndarray:
    """Oneway codes per row: 1 along, -1 against, 0 both directions."""
    s = values.astype("string").str.strip()
    up = s.str.upper()
    nwb = {"H": 1, "T": -1, "B": 0, "O": 0}
    if up.dropna().isin(list(nwb)).all() and up.notna().any():
        return up.map(nwb).fillna(0).to_numpy(dtype=np.int64)
    out = np.zeros(len(s), dtype=np.int64)
    bad = []
    for i, val in enumerate(values.tolist()):
        if val is None or (isinstance(val, float) and np.isnan(val)):
            continue
        ow = _osm.parse_oneway(val if not isinstance(val, (float, np.floating)) else int(val))
        if ow is None:
            bad.append(str(val))
        else:
            out[i] = ow
    if bad:
        raise InputError(path, f"column {col!r} has unrecognised one-way values (e.g. "
                         f"{', '.join(sorted(set(bad))[:3])})",
                         "use yes/no/-1, true/false, 1/0/-1 or NWB codes H/T/B/O")
    return out


def split_at_shared_vertices(lines: Any, precision_m: float = defaults.NODE_PRECISION_M) -> Any:
    """Split line data at vertices shared by two or more lines (noding).

    OSM-derived line layers (e.g. shapefile exports of whole ways) are not split at
    junctions: a street crossing another in the middle shares a vertex with it but no
    endpoint, so routing on endpoints alone leaves it disconnected. This finds every
    vertex whose rounded coordinate occurs at least twice over all lines (shared with
    another line, or visited twice by one line) or is a line end, and cuts the lines there.
    Lines that cross without a shared vertex (bridges, tunnels) stay unconnected.

    Parameters
    ----------
    lines : GeoDataFrame
        (Multi)LineStrings in a projected CRS in metres (EPSG:28992 expected).
    precision_m : float
        Rounding grid in metres for deciding that two vertices coincide.

    Returns
    -------
    GeoDataFrame
        One row per piece, attributes copied from the source line, ``source_index`` (row
        label of the source line) and ``length_m`` (piece length in metres). Multi-part
        lines are exploded first.
    """
    import geopandas as gpd
    import shapely

    gdf = lines.explode(index_parts=False)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()]
    geoms = gdf.geometry.to_numpy()
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    counts = np.bincount(idx, minlength=len(geoms))
    ok = counts >= 2
    if not ok.all():
        gdf = gdf[ok]
        geoms = geoms[ok]
        coords, idx = shapely.get_coordinates(geoms, return_index=True)
        counts = np.bincount(idx, minlength=len(geoms))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    grid = np.round(coords / precision_m).astype(np.int64)
    _, key = np.unique(grid, axis=0, return_inverse=True)
    step = np.zeros(coords.shape[0])
    step[:-1] = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    seg = _osm.split_polylines(offsets, key.ravel(), step)
    nvert = seg.b - seg.a + 1
    piece = np.repeat(np.arange(seg.a.size), nvert)
    start = np.repeat(seg.a, nvert)
    within = np.arange(piece.size) - np.repeat(np.cumsum(nvert) - nvert, nvert)
    new_geoms = shapely.linestrings(coords[start + within], indices=piece)
    out = gdf.iloc[seg.part].copy()
    out["source_index"] = gdf.index.to_numpy()[seg.part]
    out = gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=new_geoms, crs=gdf.crs)
    out["length_m"] = seg.length
    return out.reset_index(drop=True)


def read_links(
    path: str | Path,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    options: ReadOptions | Mapping[str, Any] | None = None,
    largest_component: bool = True,
) -> graph.Graph:
    """Build a mode's graph from a link table (file). See :func:`graph_from_links`."""
    path = Path(path)
    opts = _read_options(options)
    df = _read_table(path, opts.crs)
    return graph_from_links(df, mode, profile, period, options=opts, source=path,
                            largest_component=largest_component)


def graph_from_links(
    df: pd.DataFrame,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    options: ReadOptions | Mapping[str, Any] | None = None,
    source: str | Path = "<table>",
    largest_component: bool = True,
) -> graph.Graph:
    """Build a mode's graph from a table of links.

    Canonical columns (other names map via ``columns`` or the built-in aliases in
    :data:`LINK_ALIASES`, which include the NWB/NDW names ``fromNodeId``, ``toNodeId``,
    ``speedInKilometersPerHour``, ``reverseSpeedInKilometersPerHour``,
    ``distanceInMeters`` and NWB ``JTE_ID_BEG``/``JTE_ID_END``/``RIJRICHTNG``):

    * ``u``, ``v`` — from/to node ids. Without them nodes are derived from the line
      endpoints, rounded to ``node_precision_m``; node coordinates come from the line
      geometry or from ``x_u, y_u, x_v, y_v`` columns.
    * ``length_m`` — metres (else the geometry length in EPSG:28992).
    * ``travel_time_s`` or ``speed_kmh`` (and ``reverse_travel_time_s`` /
      ``reverse_speed_kmh``, where 0 means no travel against the link direction) — used
      when the profile has ``use_link_speeds`` (car by default); missing values fall back
      to the profile's class speed (counted in the log).
    * ``oneway`` — yes/no/-1, true/false, 1/0/-1 or NWB codes H (along), T (against),
      B (both), O (unknown: both). Honoured when the profile respects one-way.
    * ``highway`` (aliases ``OSM_TYPE``, ``fclass``) — road class for the mode filter and
      class speeds.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        The links (line geometry optional when node ids and coordinates are given).
    mode, profile, period
        See :func:`load_network`.
    options : ReadOptions or dict, optional
        ``columns`` (canonical name → name in the table), ``crs`` (of a geometry or of
        coordinate columns that declare none), ``node_lines`` (split lines at shared
        vertices first, :func:`split_at_shared_vertices`; node ids and length columns are
        then ignored, since they describe the unsplit lines) and ``node_precision_m``
        (rounding grid in metres for nodes derived from coordinates).
    source : str or Path
        Name used in messages and provenance.
    largest_component : bool
        Keep only the largest strongly connected component.

    Returns
    -------
    Graph
    """
    import geopandas as gpd

    opts = _read_options(options)
    columns, node_lines, node_precision_m, crs = (opts.columns, opts.node_lines,
                                                   opts.node_precision_m, opts.crs)
    path = Path(source)
    prof = profiles.get_profile(mode, profile)
    prof.validate_period(period)
    if len(df) == 0:
        raise InputError(path, "the link table has no rows", "use a table with links")
    has_geom = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns \
        and df.geometry.notna().any()
    if has_geom:
        gdf = df
        if gdf.crs is None:
            if not crs:
                raise InputError(path, "the line geometry has no CRS",
                                 "add a .prj/CRS to the file or pass crs (study file "
                                 "`crs: EPSG:28992`)")
            gdf = gdf.set_crs(crs)

        gdf = gdf.to_crs(_crs.working_crs())
        gtypes = set(gdf.geometry.geom_type.dropna())
        if not gtypes <= {"LineString", "MultiLineString"}:
            raise InputError(path, f"link geometry must be lines, found {', '.join(sorted(gtypes))}",
                             "use a line layer (road centre lines)")
        df = gdf
    cols = _find_columns(df, columns, path)
    if node_lines:
        if not has_geom:
            raise InputError(path, "node_lines needs line geometry, and the table has none",
                             "use a line layer, or set node_lines: false")
        if "u" in cols or "length_m" in cols:
            log.info("%s: noding lines; ignoring node-id/length columns of the unsplit lines",
                     path.name)
        n_before = len(df)
        df = split_at_shared_vertices(df, node_precision_m)
        log.info("%s: noded %d lines into %d pieces", path.name, n_before, len(df))
        cols = {k: c for k, c in cols.items() if k not in ("u", "v", "length_m", "x_u", "y_u",
                                                           "x_v", "y_v")}
        cols["length_m"] = "length_m"
        if len(df) == 0:
            raise InputError(path, "no line has two or more vertices", "check the geometry")

    # -- mode filter by road class ---------------------------------------------------
    n = len(df)
    keep = np.ones(n, dtype=bool)
    cls_speed = np.full(n, np.nan)
    penalty = np.zeros(n)
    period_fac = np.full(n, prof.period_factor("default", period))
    if "highway" in cols:
        hw = df[cols["highway"]].tolist()
        rules = _rules(prof, [{"highway": h} for h in hw], period)
        keep = np.array([r is not None for r in rules], dtype=bool)
        if not keep.any():
            raise _empty_error(path, prof, hw)
        for i, r in enumerate(rules):
            if r is not None:
                cls_speed[i] = r.speed_kmh
                penalty[i] = r.penalty_s
                period_fac[i] = prof.period_factor(r.highway, period)
    elif prof.mode != "car":
        # walk/bike without road classes: the profile's base speed everywhere
        cls_speed[:] = prof.class_speed_kmh("default") * period_fac[0]

    # -- nodes ---------------------------------------------------------------------------
    if "u" in cols and "v" not in cols or "v" in cols and "u" not in cols:
        raise InputError(path, "only one of the from/to node id columns was found "
                         f"(looked for u: {', '.join(LINK_ALIASES['u'])}; v: "
                         f"{', '.join(LINK_ALIASES['v'])})", "map both with `columns: {u: ..., v: ...}`")
    coords = _endpoint_coords(df, cols, has_geom, crs, path)
    if "u" in cols:
        uids = df[cols["u"]].to_numpy()
        vids = df[cols["v"]].to_numpy()
        if pd.isna(uids).any() or pd.isna(vids).any():
            raise InputError(path, "missing from/to node ids", "fill every u/v value")
        node_ids, inv = np.unique(np.concatenate([uids, vids]), return_inverse=True)
    else:
        if coords is None:
            raise InputError(
                path, "the table has neither node id columns nor line geometry or endpoint "
                f"coordinates (looked for u: {', '.join(LINK_ALIASES['u'])}; v: "
                f"{', '.join(LINK_ALIASES['v'])}; geometry; x_u/y_u/x_v/y_v: "
                f"{', '.join(LINK_ALIASES['x_u'])} ...)",
                "add from/to node ids or line geometry, or map them with `columns:`")
        grid = np.round(np.concatenate([coords[0], coords[1]]) / node_precision_m).astype(np.int64)
        _, inv = np.unique(grid, axis=0, return_inverse=True)
        inv = inv.ravel()
        node_ids = np.arange(int(inv.max()) + 1)
    u = inv[:n].astype(np.int64)
    v = inv[n:].astype(np.int64)
    nn = node_ids.shape[0]
    if coords is None:
        raise InputError(path, "node coordinates are missing: the table has no line geometry "
                         "and no x_u/y_u/x_v/y_v columns", "add line geometry or endpoint "
                         "coordinate columns (with crs)")
    first = np.full(nn, -1, dtype=np.int64)
    allpos = np.arange(2 * n)
    first[inv[::-1]] = allpos[::-1]
    xy = np.concatenate([coords[0], coords[1]])
    x, y = xy[first, 0], xy[first, 1]

    # -- length and time -----------------------------------------------------------------
    if "length_m" in cols:
        length = _numeric(df, cols["length_m"], path)
        if np.isnan(length).any() and has_geom:
            length = np.where(np.isnan(length), df.geometry.length.to_numpy(), length)
    elif has_geom:
        length = df.geometry.length.to_numpy(dtype=np.float64)
    else:
        length = None
    if length is not None and (np.any(length < 0) or np.isnan(length).any()):
        raise InputError(path, "negative or missing link lengths",
                         "store lengths in metres (>= 0) for every link")

    use_table = prof.use_link_speeds
    time_fwd = time_bwd = None
    reverse_allowed = np.ones(n, dtype=bool)
    forward_allowed = np.ones(n, dtype=bool)
    if use_table and "travel_time_s" in cols:
        time_fwd = _numeric(df, cols["travel_time_s"], path)
        if np.nanmin(time_fwd) < 0:
            raise InputError(path, f"negative travel times in {cols['travel_time_s']!r}",
                             "travel times must be >= 0 seconds")
        time_fwd = time_fwd / period_fac
        time_bwd = time_fwd
        if "reverse_travel_time_s" in cols:
            time_bwd = _numeric(df, cols["reverse_travel_time_s"], path) / period_fac
        nan_t = np.isnan(time_fwd)
        if nan_t.any():
            if length is None:
                raise InputError(path, f"{int(nan_t.sum())} links have no travel time and "
                                 "the table has no lengths", "fill the travel times")
            log.info("%s: %d links without travel time use the %s profile speed",
                     path.name, int(nan_t.sum()), prof.mode)
            time_fwd = np.where(nan_t, length / (cls_speed / 3.6), time_fwd)
            time_bwd = np.where(np.isnan(time_bwd), length / (cls_speed / 3.6), time_bwd)
    else:
        if length is None:
            raise InputError(path, "link lengths are missing (looked for "
                             f"{', '.join(LINK_ALIASES['length_m'])} or line geometry)",
                             "add a length column in metres or line geometry")
        speed = cls_speed.copy()
        rspeed = cls_speed.copy()
        if use_table and "speed_kmh" in cols:
            col = cols["speed_kmh"]
            raw = df[col]
            tab = (raw.map(_osm.parse_maxspeed).to_numpy(dtype=np.float64)
                   if raw.dtype == object or pd.api.types.is_string_dtype(raw)
                   else _numeric(df, col, path))
            rtab = None
            if "reverse_speed_kmh" in cols:
                rtab = _numeric(df, cols["reverse_speed_kmh"], path)
                if np.nanmin(rtab) < 0:
                    raise InputError(path, f"negative speeds in {cols['reverse_speed_kmh']!r}",
                                     "speeds must be >= 0 km/h (0 = no travel in reverse)")
                reverse_allowed = ~(rtab <= 0)
            neg = tab <= 0
            if rtab is not None:
                forward_allowed = ~neg
                neg = neg & ~(rtab > 0)
            if np.any(tab < 0) or neg.any():
                bad = np.flatnonzero(neg | (tab < 0))
                raise InputError(path, f"{bad.size} links have zero or negative speeds in "
                                 f"{col!r} (first rows: {', '.join(map(str, bad[:5]))})",
                                 "speeds must be > 0 km/h (use the reverse-speed column "
                                 "or the oneway flag for one-way links)")
            nan_s = np.isnan(tab)
            if nan_s.any() and np.isnan(cls_speed[nan_s]).any():
                raise InputError(path, f"{int(nan_s.sum())} links have no speed in {col!r} "
                                 "and no road class to fall back on", "fill the speeds")
            if nan_s.any():
                log.info("%s: %d links without speed use the %s class speed",
                         path.name, int(nan_s.sum()), prof.mode)
            speed = np.where(nan_s, cls_speed, tab * period_fac)
            if rtab is not None:
                rspeed = np.where(np.isnan(rtab), speed, rtab * period_fac)
            else:
                rspeed = speed
        elif prof.mode == "car" and "highway" not in cols:
            raise InputError(path, "car links need a speed, a travel time or a road class "
                             f"(looked for speed_kmh: {', '.join(LINK_ALIASES['speed_kmh'])}; "
                             f"travel_time_s: {', '.join(LINK_ALIASES['travel_time_s'])}; "
                             f"highway: {', '.join(LINK_ALIASES['highway'])})",
                             "add one of these columns or map it with `columns:`")
        with np.errstate(divide="ignore", invalid="ignore"):
            time_fwd = length / (speed / 3.6)
            time_bwd = length / (rspeed / 3.6)
        time_fwd = np.where(forward_allowed, time_fwd, 0.0)
        time_bwd = np.where(reverse_allowed, time_bwd, 0.0)
    time_fwd = time_fwd + penalty
    time_bwd = time_bwd + penalty

    if prof.respect_oneway:
        if "oneway" in cols:
            ow = _oneway_column(df[cols["oneway"]], path, cols["oneway"])
            forward_allowed &= ow >= 0
            reverse_allowed &= ow <= 0
    else:
        forward_allowed = forward_allowed | reverse_allowed
        reverse_allowed = forward_allowed.copy()
        time_bwd = np.where(np.isfinite(time_bwd), time_bwd, time_fwd)
    fwd = keep & forward_allowed
    bwd = keep & reverse_allowed
    lm = length if length is not None else None
    return _assemble(
        path=path, prof=prof, period=period, u=u, v=v, length_m=lm, time_fwd=time_fwd,
        time_bwd=time_bwd, fwd=fwd, bwd=bwd, x=x, y=y, node_ids=node_ids, kind="links",
        largest_component=largest_component,
        extra_meta={"links_read": int(n), "links_used": int(keep.sum()),
                    "columns": {k: str(c) for k, c in cols.items()},
                    "noded": bool(node_lines)},
    )


ROAD_TABLE_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
                      "residential", "living_street", "service", "road")
"""Road classes accepted in the ``class`` column of node/edge road tables (OSM highway
values without ``_link``; ``ramp=1`` makes ``<class>_link``)."""

CONNECTOR_INELIGIBLE_CLASSES = frozenset({"motorway", "motorway_link", "trunk_link",
                                          "primary_link", "secondary_link", "tertiary_link"})
"""Links whose nodes zone connectors may not use on their own (motorways and slip roads):
a node is eligible when at least one of its links is of another class and not a tunnel."""


def urban_mask(x: np.ndarray, y: np.ndarray, zones: Any, min_density_km2: float) -> np.ndarray:
    """True for points (EPSG:28992) inside a zone with at least ``min_density_km2``
    inhabitants per km² (``population`` / polygon area)."""
    import geopandas as gpd

    if "population" not in zones.columns:
        raise InputError(None, "the urban-areas zones have no population column",
                         "use zones with inhabitants (e.g. data/raw/cbs_pc4_2021.parquet)")
    z = zones[~zones.geometry.isna() & ~zones.geometry.is_empty]
    dens = z["population"].fillna(0).to_numpy(float) / (z.geometry.area.to_numpy() / 1e6)
    z = z[dens >= min_density_km2]
    pts = gpd.points_from_xy(x, y)
    out = np.zeros(len(pts), dtype=bool)
    if len(z):
        p, _ = z.sindex.query(pts, predicate="within")
        out[p] = True
    return out


def read_road_tables(
    edges: str | Path,
    nodes: str | Path,
    mode: str,
    profile: Mapping[str, Any] | profiles.ModeProfile | None = None,
    period: str | None = None,
    *,
    crs: str | None = None,
    largest_component: bool = True,
    urban: Any = None,
) -> graph.Graph:
    """Read a node table plus a link table with road classes (the OSM NL main-road tables).

    The link table needs ``u, v, class, length_m`` and may carry ``ramp`` (1 = slip road,
    read as ``<class>_link``), ``oneway`` (1 = drivable u→v only) and ``brunnel``
    (``bridge``/``tunnel``/``ford``). The node table needs ``node_id`` and ``lon``/``lat``
    (WGS84) or ``x``/``y`` (``crs``, default EPSG:28992). The links then go through
    :func:`graph_from_links` (class speeds, periods, one-way) like any link table.

    With ``urban`` (a zones GeoDataFrame with ``population``, plus the threshold:
    ``(zones, min_density_km2)``), car links whose midpoint lies in an urban zone take the
    profile's ``urban_speed_kmh`` and ``urban_junction_delay_s`` (off motorways), given to
    the reader as an effective link speed ``length / (length / v + delay)``.

    Returns
    -------
    Graph
        ``meta["eligible"]``: bool per node, True where zone connectors may attach
        (:data:`CONNECTOR_INELIGIBLE_CLASSES`, tunnels excluded); ``meta["road_tables"]``
        counts.

    Raises
    ------
    InputError
        Missing columns, an unknown road class, link nodes missing from the node table.
    """
    epath, npath = Path(edges), Path(nodes)
    for p in (epath, npath):
        if not p.exists():
            raise InputError(p, "road table not found", "check the path (relative to the study root)")
    e = _read_csv_table(epath)
    nd = _read_csv_table(npath)
    need = ["u", "v", "class", "length_m"]
    miss = [c for c in need if c not in e.columns]
    if miss:
        raise InputError(epath, f"the link table lacks column(s) {', '.join(miss)} (columns "
                         f"present: {', '.join(map(str, e.columns))})",
                         "give u, v, class, length_m (and optionally ramp, oneway, brunnel)")
    if "node_id" not in nd.columns or not ({"lon", "lat"} <= set(nd.columns)
                                            or {"x", "y"} <= set(nd.columns)):
        raise InputError(npath, "the node table needs node_id and lon/lat (WGS84) or x/y "
                         f"columns (present: {', '.join(map(str, nd.columns))})",
                         "add the node coordinates")
    cls = e["class"].astype("string").str.strip().str.lower()
    bad = ~cls.isin(ROAD_TABLE_CLASSES)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise InputError(epath, f"unknown road class {cls.iloc[rows[0]]!r} in column 'class' "
                         f"(row {rows[0] + 2}; {rows.size} row(s); known: "
                         f"{', '.join(ROAD_TABLE_CLASSES)})",
                         "use OSM highway classes without _link (slip roads: ramp=1)")
    ramp = (_numeric(e, "ramp", epath) if "ramp" in e.columns else np.zeros(len(e)))
    hw = np.where(np.nan_to_num(ramp) > 0, cls.to_numpy(dtype=object) + "_link",
                  cls.to_numpy(dtype=object))
    if "lon" in nd.columns:
        x, y = _to_rd(_numeric(nd, "lon", npath), _numeric(nd, "lat", npath), "EPSG:4326")
    else:
        x, y = _to_rd(_numeric(nd, "x", npath), _numeric(nd, "y", npath), crs or CRS)
    pos = pd.Series(np.arange(len(nd)), index=nd["node_id"].to_numpy())
    if not pos.index.is_unique:
        raise InputError(npath, "node_id values are not unique", "give every node its own id")
    iu = pos.reindex(e["u"].to_numpy()).to_numpy()
    iv = pos.reindex(e["v"].to_numpy()).to_numpy()
    missing = np.isnan(iu) | np.isnan(iv)
    if missing.any():
        r = int(np.flatnonzero(missing)[0])
        raise InputError(epath, f"{int(missing.sum())} link(s) name nodes missing from "
                         f"{npath.name} (first: row {r + 2}, u={e['u'].iloc[r]}, "
                         f"v={e['v'].iloc[r]})", "use matching node and link tables")
    iu, iv = iu.astype(np.int64), iv.astype(np.int64)
    links = pd.DataFrame({"u": e["u"].to_numpy(), "v": e["v"].to_numpy(), "highway": hw,
                          "length_m": _numeric(e, "length_m", epath),
                          "x_u": x[iu], "y_u": y[iu], "x_v": x[iv], "y_v": y[iv]})
    if "oneway" in e.columns:
        links["oneway"] = e["oneway"].to_numpy()
    n_urban = 0
    prof = profiles.get_profile(mode, profile)
    if urban is not None and isinstance(prof, profiles.CarProfile):
        uz, dmin = urban
        um = urban_mask((links["x_u"] + links["x_v"]).to_numpy() / 2,
                        (links["y_u"] + links["y_v"]).to_numpy() / 2, uz, dmin)
        v_u = pd.Series(hw).map(prof.urban_speed_kmh).to_numpy(dtype=float)
        delay = np.where(pd.Series(hw).str.startswith("motorway").to_numpy(), 0.0,
                         prof.urban_junction_delay_s)
        lm = links["length_m"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            v_eff = lm / (lm / (v_u / 3.6) + delay) * 3.6
        ok = um & np.isfinite(v_eff) & (v_eff > 0) & (lm >= 1.0)
        links["speed_kmh"] = np.where(ok, v_eff, np.nan)
        n_urban = int(ok.sum())
    g = graph_from_links(links, mode, prof, period, options=ReadOptions(crs=CRS), source=epath,
                         largest_component=largest_component)
    # connector eligibility per node: any incident link of an eligible class, not a tunnel
    brunnel = (e["brunnel"].astype("string").str.lower().fillna("").to_numpy()
               if "brunnel" in e.columns else np.full(len(e), ""))
    ok_link = ~pd.Series(hw).isin(CONNECTOR_INELIGIBLE_CLASSES).to_numpy() & (brunnel != "tunnel")
    ok_ids = set(e["u"].to_numpy()[ok_link].tolist()) | set(e["v"].to_numpy()[ok_link].tolist())
    g.meta["eligible"] = np.fromiter((i in ok_ids for i in g.node_ids.tolist()), bool,
                                     g.n_nodes)
    counts = pd.Series(hw).value_counts().to_dict()
    g.meta["road_tables"] = {"links_read": int(len(e)), "nodes_read": int(len(nd)),
                             "links_by_class": {str(k): int(v) for k, v in counts.items()},
                             "tunnel_links": int((brunnel == "tunnel").sum()),
                             "urban_links": n_urban,
                             "bridge_links": int((brunnel == "bridge").sum())}
    log.info("%s: %d links (%s), %d nodes; %d of %d graph nodes eligible for zone connectors",
             epath.name, len(e), ", ".join(f"{k} {v}" for k, v in counts.items()), len(nd),
             int(g.meta["eligible"].sum()), g.n_nodes)
    return g


def _read_csv_table(path: Path) -> pd.DataFrame:
    try:
        if path.name.lower().endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise many types
        raise InputError(path, f"cannot read the table ({type(exc).__name__}: {exc})",
                         "check the file is a complete CSV (optionally .gz) or Parquet table"
                         ) from None


def _endpoint_coords(df: pd.DataFrame, cols: dict[str, str], has_geom: bool, crs: str | None,
                     path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(start xy, end xy) arrays in EPSG:28992, or None when unavailable."""
    import shapely

    if has_geom:
        geoms = df.geometry.to_numpy()
        if shapely.is_empty(geoms).any() or pd.isna(geoms).any():
            raise InputError(path, "some links have empty or missing geometry",
                             "remove them or fill the geometry")
        # first vertex of the first part, last vertex of the last part
        starts = shapely.get_coordinates(shapely.get_point(shapely.get_geometry(geoms, 0), 0))
        ends = shapely.get_coordinates(shapely.get_point(shapely.get_geometry(geoms, -1), -1))
        if starts.shape[0] != len(geoms) or ends.shape[0] != len(geoms):
            raise InputError(path, "some links have an empty line part", "repair the geometry")
        return starts, ends
    need = ("x_u", "y_u", "x_v", "y_v")
    if all(k in cols for k in need):
        if not crs:
            raise InputError(path, "endpoint coordinate columns are given but no CRS",
                             "pass crs (study file `crs: EPSG:28992` for RD metres)")
        vals = {k: _numeric(df, cols[k], path) for k in need}
        xu, yu = _to_rd(vals["x_u"], vals["y_u"], crs)
        xv, yv = _to_rd(vals["x_v"], vals["y_v"], crs)
        return np.column_stack([xu, yu]), np.column_stack([xv, yv])
    return None


# ---------------------------------------------------------------------------------------
# snapping
# ---------------------------------------------------------------------------------------

@dataclass
class Snap:
    """Nearest graph node per point.

    Attributes
    ----------
    node : ndarray of int64
        Node position in the graph, ``-1`` when the nearest node is farther than
        ``max_distance_m`` or the point's coordinates are not finite.
    distance_m : ndarray of float64
        Straight-line distance to the nearest node in metres (also reported for points
        beyond the limit, for diagnostics; NaN for non-finite input coordinates).
    max_distance_m : float
        The limit used.
    """

    node: np.ndarray
    distance_m: np.ndarray
    max_distance_m: float

    @property
    def unsnapped(self) -> np.ndarray:
        """Boolean mask of points without a node."""
        return self.node < 0

    def access_seconds(self, speed_kmh: float) -> np.ndarray:
        """Access-leg time in seconds at ``speed_kmh`` (NaN where unsnapped)."""
        t = self.distance_m / (speed_kmh / 3.6)
        return np.where(self.unsnapped, np.nan, t)


def snap(graph_: graph.Graph, x: Any, y: Any,
         max_distance_m: float = defaults.NODE_SNAP_M) -> Snap:
    """Snap points (EPSG:28992 metres) to the nearest node of a graph.

    Uses a KD-tree (:class:`scipy.spatial.cKDTree`) on the node coordinates. The access
    leg from the point to its node is **not** added here: the caller adds
    ``distance_m`` at the mode's access speed (``profile.access_speed_kmh``, e.g. via
    :meth:`Snap.access_seconds`).

    Parameters
    ----------
    graph_ : Graph
        The network.
    x, y : array-like of float
        Point coordinates in EPSG:28992 (metres).
    max_distance_m : float
        Points whose nearest node is farther than this (metres) get ``node = -1``.

    Returns
    -------
    Snap
    """
    from scipy.spatial import cKDTree

    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError("x and y must have the same shape")
    if not max_distance_m >= 0:
        raise ValueError("max_distance_m must be >= 0 metres")
    ok = np.isfinite(x) & np.isfinite(y)
    node = np.full(x.shape, -1, dtype=np.int64)
    dist = np.full(x.shape, np.nan)
    if ok.any():
        tree = cKDTree(np.column_stack([graph_.x, graph_.y]))
        d, i = tree.query(np.column_stack([x[ok], y[ok]]))
        dist[ok] = d
        node[ok] = np.where(d <= max_distance_m, i, -1)
    n_far = int((ok & (node < 0)).sum())
    if n_far or not ok.all():
        log.info("snap: %d points farther than %.0f m from the %s network, %d without "
                 "coordinates", n_far, max_distance_m, graph_.mode, int((~ok).sum()))
    return Snap(node=node, distance_m=dist, max_distance_m=float(max_distance_m))


# ---------------------------------------------------------------------------------------
# linking points onto edges (and the intersection cost model)
# ---------------------------------------------------------------------------------------

Linked = _linking.Linked


class LinkOptions(Section):
    """How points are linked to a street network (defaults come from the graph's profile).

    Attributes
    ----------
    access_speed_kmh : float, optional
        Speed of the leg between a point and its projection on the edge (km/h); default
        the profile's ``access_speed_kmh`` (walk 4.8, bike 15, car 15).
    excluded_highways : list of str, optional
        Road classes never linked to; default the profile's ``link_excluded_highways``
        (motorway, motorway_link).
    link_to_tunnels, link_to_private : bool, optional
        Allow linking to tunnels (``tunnel=yes``, ``layer<0``) / private service roads;
        default the profile's setting (no).
    turns : TurnCosts, optional
        Turn costs and signal delays; default the profile's ``turns`` (car: on).
    """

    access_speed_kmh: float | None = Field(None, gt=0)
    excluded_highways: list[str] | None = None
    link_to_tunnels: bool | None = None
    link_to_private: bool | None = None
    turns: profiles.TurnCosts | None = None


def graph_profile(graph_: graph.Graph) -> profiles.ModeProfile | None:
    """The mode profile a street graph was built with (``None`` for other graphs)."""
    data = graph_.meta.get("profile")
    if isinstance(data, dict) and data.get("mode") in profiles.PROFILES:
        return profiles.get_profile(str(data["mode"]), {k: v for k, v in data.items()
                                                         if k != "mode"})
    return None


def linkable(graph_: graph.Graph) -> bool:
    """Whether a graph carries the edge data for linking onto edges (OSM and GraphML
    street graphs); other graphs (link tables, transit) snap to nodes (:func:`snap`)."""
    return graph_.edge_data is not None and "geom_a" in graph_.edge_data


def link(graph_: graph.Graph, x: Any, y: Any, max_distance_m: float = defaults.MAX_SNAP_M,
         options: LinkOptions | None = None) -> Linked:
    """Link points to the nearest eligible edge and build the graph to search.

    Each point is projected onto the nearest edge it may use (straight-line distance to
    the edge polyline, EPSG:28992) and the edge is split there: both directions of a
    two-way street get a node at the projection, and the edge time is shared in proportion
    to length. Points on a node (within 1 cm) use that node. Motorways, tunnels
    (``tunnel=yes``, ``layer<0``) and private service roads are never linked to (see
    :class:`LinkOptions`). The access leg (point ↔ projection) takes ``distance_m`` at the
    profile's access speed. When the profile has turn costs (car), the graph becomes
    edge-based (:func:`ruimtekit.network._linking.cost_graph`); traffic-signal delays are added
    either way. Every point gets a sink node, so a point reaches its own location in
    0 s and each destination is counted once.

    Parameters
    ----------
    graph_ : Graph
        A street graph (OSM or GraphML reader; other graphs link to straight segments
        between their nodes, all edges eligible).
    x, y : array-like of float
        Points in EPSG:28992 metres.
    max_distance_m : float
        Points farther than this (metres) from every eligible edge stay unlinked.
    options : LinkOptions, optional
        Overrides of the profile's linking and turn settings.

    Returns
    -------
    Linked
        The graph to search, sources per point and the sink per point.
    """
    opts = options or LinkOptions()
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError("x and y must have the same shape")
    if not max_distance_m >= 0:
        raise ValueError("max_distance_m must be >= 0 metres")
    prof = graph_profile(graph_)
    speed = opts.access_speed_kmh or (prof.access_speed_kmh if prof else defaults.WALK_SPEED_KMH)
    excluded = opts.excluded_highways if opts.excluded_highways is not None else (
        prof.link_excluded_highways if prof else list(profiles.LINK_EXCLUDED_HIGHWAYS))
    tunnels = opts.link_to_tunnels if opts.link_to_tunnels is not None else (
        prof.link_to_tunnels if prof else False)
    private = opts.link_to_private if opts.link_to_private is not None else (
        prof.link_to_private if prof else False)
    turns = opts.turns or (prof.turns if prof else profiles.TurnCosts())
    ed = graph_.edge_data or {}
    eligible = np.ones(graph_.n_edges, dtype=bool)
    if "highway" in ed and excluded:
        eligible &= ~np.isin(ed["highway"].astype(str), list(excluded))
    if "tunnel" in ed and not tunnels:
        eligible &= ~ed["tunnel"].astype(bool)
    if "private" in ed and not private:
        eligible &= ~ed["private"].astype(bool)
    hits = _linking.nearest_edges(graph_, x, y, eligible, max_distance_m)
    far = hits.distance_m > max_distance_m
    dist = hits.distance_m.copy()
    hits.edge[far] = -1
    sg = _linking.split_graph(graph_, hits)
    access = dist / (speed / 3.6)
    meta = {"source": graph_.meta.get("source"), "linked_from": graph_.meta.get("name"),
            "access_speed_kmh": float(speed), "turns": turns.model_dump(),
            "excluded_highways": list(excluded)}
    lk = _linking.cost_graph(sg, x, y, access, turns, graph_.mode, meta)
    lk.distance_m = dist
    lk.edge = hits.edge
    n_far = int((np.isfinite(dist) & far).sum())
    n_bad = int((~(np.isfinite(x) & np.isfinite(y))).sum())
    if n_far or n_bad:
        log.info("link: %d points farther than %.0f m from an eligible %s edge, %d without "
                 "coordinates", n_far, max_distance_m, graph_.mode, n_bad)
    return lk


# ---------------------------------------------------------------------------------------
# pipeline
# ---------------------------------------------------------------------------------------

def build(spec: NetworkSpec, root: str | Path = ".") -> graph.Graph:
    """Build the street network described by a study-file section.

    Raises
    ------
    InputError
        For transit kinds (built elsewhere) and for any reader error.
    """
    path = Path(spec.path)
    if not path.is_absolute():
        path = Path(root) / path
    if not spec.mode:
        raise InputError(path, "the network has no mode", "set `mode:` (walk, bike, ebike, car)")
    if spec.nodes is not None or spec.ferries is not None:

        if spec.nodes is None:
            raise InputError(path, "`ferries:` needs a node/edge table network",
                             "give `nodes:` (the node table of the link table)")
        npath = Path(spec.nodes) if Path(spec.nodes).is_absolute() else Path(root) / spec.nodes
        urban = None
        if spec.urban is not None:

            uc = spec.urban
            up = Path(uc.zones) if Path(uc.zones).is_absolute() else Path(root) / uc.zones
            urban = (layers.read_zones(up), uc.min_density_km2)
        g = read_road_tables(path, npath, spec.mode, spec.profile, spec.period,
                             crs=spec.crs, largest_component=spec.ferries is None, urban=urban)
        if spec.ferries is None:
            return g
        return _ferries.add_ferries(g, spec.ferries, root)
    return load_network(path, spec.mode, spec.profile, spec.period, kind=spec.kind,
                        options=spec.read_options())


def _is_street(spec: NetworkSpec, path: Path) -> bool:
    if spec.kind in TRANSIT_KINDS:
        return False
    if spec.kind in STREET_KINDS:
        return True
    name = path.name.lower()
    if name.endswith((".zip", ".gml", ".txt")) or path.is_dir():
        return False  # GTFS zips/folders and igraph GML transit graphs
    return True


def pipeline_step(ctx: Any) -> None:
    """Build every street network of the study into ``ctx.networks``.

    Reads ``ctx.study.networks`` (name → :class:`NetworkSpec`); street kinds (``osm``,
    ``graphml``, ``links``, or ``auto`` resolving to one of them) are built with
    :func:`load_network` and stored as ``ctx.networks[name]`` (a :class:`Graph` with
    ``meta["name"]``). Transit kinds are left to the transit step. Adds the table
    ``ctx.tables["networks"]`` (name, mode, nodes, edges, dropped nodes, length in km,
    source) and a note on car speed assumptions.
    """
    rows = []
    for name, spec in (getattr(ctx.study, "networks", None) or {}).items():
        if isinstance(spec.path, list):  # several GTFS feeds: built by the transit step
            continue
        path = ctx.resolve(spec.path)
        if not _is_street(spec, path):
            continue
        with ctx.timed(f"network:{name}"):
            g = build(spec, ctx.root)
        g.meta["name"] = name
        g.meta["description"] = spec.description
        ctx.networks[name] = g
        km = float(np.sum(g.length_m)) / 1000 if g.length_m is not None else float("nan")
        log.info("network %r (%s): %d nodes, %d edges, %.1f km; %d nodes outside the largest "
                 "strongly connected component dropped", name, g.mode, g.n_nodes, g.n_edges,
                 km, g.dropped_nodes)
        rows.append({"network": name, "mode": g.mode, "period": spec.period or "",
                     "nodes": g.n_nodes, "edges": g.n_edges, "dropped_nodes": g.dropped_nodes,
                     "length_km": round(km, 3), "source": str(spec.path)})
        if "road_tables" in g.meta:
            ctx.note(f"Network {name}: OSM main roads without local streets; zones connect by "
                     "connectors. Car speeds from road class (urban: 50 km/h limits plus "
                     "15 s per junction), ferries with half-headway waiting; car-free "
                     "islands (Vlieland, Schiermonnikoog) have no car ferry."
                     + (" Flevoland's roads are missing from the source." if g.mode == "car"
                        else ""))
        if g.mode == "car":
            prof = graph_profile(g)
            turns = prof.turns if prof is not None and linkable(g) else None
            ctx.note(f"network {name}: car travel times use OSM maxspeed or Dutch road-class default speeds"
                     + (f" with assumed {spec.period} congestion factors" if spec.period else "")
                     + (f", plus turn costs (left {turns.left_s:g} s, right {turns.right_s:g} s, "
                        f"U-turn {turns.u_turn_s:g} s) and {turns.signal_delay_s:g} s per "
                        "traffic signal" if turns is not None and turns.enabled else "")
                     + " (assumptions, not measured speeds).")
    if rows:
        ctx.tables["networks"] = pd.DataFrame(rows)
