"""Ferry lines joined to a road graph, with crossing and waiting times per mode.

Road networks cross water only where they have a bridge, a tunnel or a ferry. OSM ferry
lines (``route=ferry``) are mostly not joined to the road graph: their ends lie in a
harbour, a few hundred metres from the nearest road. :func:`add_ferries` adds them to a
:class:`~ruimtekit.network.graph.Graph`:

* Ferry lines are chained edges (``u, v, length_m``) between ferry nodes. Self-loops
  (round trips drawn as one closed line) are dropped.
* A ferry node within ``join_m`` of a road node that zone connectors may use
  (``graph.meta["eligible"]``) is joined to the nearest such node of each strongly
  connected road component nearby (a harbour road is often a piece of its own) by
  *terminal links* in both directions (crow-fly distance × ``join_detour`` at ``join_speed_kmh``).
* Crossing time = length / ``speed_kmh``. Waiting time (half the headway, see
  :data:`SEA_HEADWAY_MIN`, :data:`RIVER_HEADWAY_MIN`) is added to the ferry edges that
  leave a *terminal* (a ferry node that is joined to a road, or is the end of a line),
  so a line drawn as several chained edges pays it once per crossing.
* Lines touching a terminal in :data:`NO_CAR_TERMINALS` carry no cars (the car-free
  islands Vlieland and Schiermonnikoog, foot and bicycle ferries): the car graph leaves
  them out, walk and bike graphs keep them.
* Ferry-line ends that are not joined (an island harbour without main roads, e.g.
  West-Terschelling) stay in the graph as terminals that zone connectors may use.

Then only the largest strongly connected component is kept, as for every graph. The
counts (read, self-loops, car-free, joined terminals, kept) are logged and stored in
``graph.meta["ferries"]``.

All defaults are assumptions documented in :mod:`ruimtekit.defaults` (docs/defaults.md) and
``docs/networks.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ruimtekit import defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._config import Section
from ruimtekit._errors import InputError
from ruimtekit.network import graph as _graph

log = logging.getLogger(__name__)

# defaults documented in ruimtekit.defaults (docs/defaults.md)
FERRY_SPEED_KMH = defaults.FERRY_SPEED_KMH
"""Crossing speed (km/h)."""

SEA_LINE_M = defaults.FERRY_SEA_LINE_M
"""Ferry lines at least this long (metres, summed over a chain) count as sea/estuary
crossings for the headway."""

SEA_HEADWAY_MIN = defaults.FERRY_SEA_HEADWAY_MIN
"""Assumed headway of sea and estuary ferries (minutes); waiting = half of it."""

RIVER_HEADWAY_MIN = defaults.FERRY_RIVER_HEADWAY_MIN
"""Assumed headway of short river ferries (minutes); waiting = half of it."""

JOIN_M = defaults.FERRY_JOIN_M
"""Ferry nodes within this distance (metres) of an eligible road node are joined to it."""

JOIN_SPEED_KMH = defaults.FERRY_JOIN_SPEED_KMH
"""Speed of terminal links (km/h)."""

JOIN_DETOUR = defaults.FERRY_JOIN_DETOUR
"""Detour factor of terminal links (crow-fly to road distance)."""

JOIN_CANDIDATES = defaults.FERRY_JOIN_CANDIDATES
"""Nearest eligible road nodes looked at per ferry node when joining."""

NO_CAR_TERMINALS: dict[str, tuple[float, float]] = dict(defaults.FERRY_NO_CAR_TERMINALS)
"""Ferry terminals (EPSG:28992) whose lines carry no cars, within :data:`NO_CAR_RADIUS_M`."""

NO_CAR_RADIUS_M = defaults.FERRY_NO_CAR_RADIUS_M
"""Radius (metres) around :data:`NO_CAR_TERMINALS`."""


class FerryConfig(Section):
    """Ferries of a road network (study file: ``networks: {name: {ferries: {...}}}``).

    Attributes
    ----------
    edges, nodes : str
        Ferry link table (``u, v, length_m``) and node table (``node_id, lon, lat``),
        relative to the study root.
    speed_kmh : float
        Crossing speed (:data:`FERRY_SPEED_KMH`).
    sea_line_m : float
        Chains at least this long use the sea headway (:data:`SEA_LINE_M`).
    sea_headway_min, river_headway_min : float
        Headways; waiting time is half (:data:`SEA_HEADWAY_MIN`,
        :data:`RIVER_HEADWAY_MIN`).
    join_m, join_speed_kmh, join_detour : float
        Terminal links (:data:`JOIN_M`, :data:`JOIN_SPEED_KMH`, :data:`JOIN_DETOUR`).
    no_car_terminals : dict of str to [x, y]
        Terminals whose lines carry no cars (:data:`NO_CAR_TERMINALS`, EPSG:28992).
    no_car_radius_m : float
        Radius around them (:data:`NO_CAR_RADIUS_M`).
    """

    edges: str
    nodes: str
    speed_kmh: float = Field(FERRY_SPEED_KMH, gt=0)
    sea_line_m: float = Field(SEA_LINE_M, ge=0)
    sea_headway_min: float = Field(SEA_HEADWAY_MIN, ge=0)
    river_headway_min: float = Field(RIVER_HEADWAY_MIN, ge=0)
    join_m: float = Field(JOIN_M, ge=0)
    join_speed_kmh: float = Field(JOIN_SPEED_KMH, gt=0)
    join_detour: float = Field(JOIN_DETOUR, ge=1)
    no_car_terminals: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(NO_CAR_TERMINALS))
    no_car_radius_m: float = Field(NO_CAR_RADIUS_M, ge=0)


def _table(path: Path, need: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise InputError(path, "ferry table not found", "check the path (relative to the study root)")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # pandas raises many types
        raise InputError(path, f"cannot read the ferry table ({type(exc).__name__}: {exc})",
                         "use a CSV (optionally .gz)") from None
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise InputError(path, f"the ferry table lacks column(s) {', '.join(miss)}",
                         f"give {', '.join(need)}")
    return df


@renamed_parameters(g="graph")
def add_ferries(graph: _graph.Graph, cfg: FerryConfig, root: str | Path = ".") -> _graph.Graph:
    """Join the ferry lines of ``cfg`` to the road graph ``graph`` (see the module docstring).

    Parameters
    ----------
    graph : Graph
        Road graph (whole seconds), ideally built without the component filter so the
        filter runs once on roads plus ferries; ``meta["eligible"]`` (bool per node)
        marks nodes terminal links may join (default all).
    cfg : FerryConfig
    root : str or Path
        Study root for relative paths.

    Returns
    -------
    Graph
        Largest strongly connected component of roads, ferries and terminal links;
        ``meta["eligible"]`` extended to ferry terminals, ``meta["ferries"]`` counts,
        ``meta["ferry_node"]`` (bool per node).
    """
    from pyproj import Transformer

    root = Path(root)
    ep = Path(cfg.edges) if Path(cfg.edges).is_absolute() else root / cfg.edges
    npth = Path(cfg.nodes) if Path(cfg.nodes).is_absolute() else root / cfg.nodes
    fe = _table(ep, ["u", "v", "length_m"])
    fn = _table(npth, ["node_id", "lon", "lat"])
    tr = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    fx, fy = tr.transform(fn["lon"].to_numpy(float), fn["lat"].to_numpy(float))
    fpos = pd.Series(np.arange(len(fn)), index=fn["node_id"].to_numpy())
    fu = fpos.reindex(fe["u"].to_numpy()).to_numpy()
    fv = fpos.reindex(fe["v"].to_numpy()).to_numpy()
    if np.isnan(fu).any() or np.isnan(fv).any():
        raise InputError(ep, "ferry links name nodes missing from the ferry node table",
                         "use matching ferry node and link tables")
    fu, fv = fu.astype(np.int64), fv.astype(np.int64)
    length = pd.to_numeric(fe["length_m"], errors="coerce").to_numpy(float)
    if not np.isfinite(length).all() or (length < 0).any():
        raise InputError(ep, "ferry lengths must be metres >= 0", "fill length_m")
    n_read = len(fe)
    loop = fu == fv
    # ferry nodes near a road node that terminal links may join
    elig = np.asarray(graph.meta.get("eligible", np.ones(graph.n_nodes, bool)), dtype=bool)
    cand = np.flatnonzero(elig)
    tree = cKDTree(np.column_stack([graph.x[cand], graph.y[cand]]))
    d, j = tree.query(np.column_stack([fx, fy]))
    near_road = d <= cfg.join_m
    # no-car lines: any end near a no-car terminal, spread along the chain of the line
    # (nodes where exactly two ferry edges meet and no road is near)
    nocar = np.zeros(n_read, dtype=bool)
    if graph.mode == "car" and cfg.no_car_terminals:
        pts = np.array(list(cfg.no_car_terminals.values()), dtype=float)
        near = cKDTree(pts).query(np.column_stack([fx, fy]))[0] <= cfg.no_car_radius_m
        nocar = (near[fu] | near[fv]) & ~loop
        deg0 = np.bincount(np.concatenate([fu[~loop], fv[~loop]]), minlength=len(fn))
        inner = (deg0 == 2) & ~near_road
        for _ in range(len(fn)):
            hit = np.zeros(len(fn), bool)
            hit[fu[nocar]] = True
            hit[fv[nocar]] = True
            grow = ~nocar & ~loop & ((hit[fu] & inner[fu]) | (hit[fv] & inner[fv]))
            if not grow.any():
                break
            nocar |= grow
    keep = ~loop & ~nocar
    fu, fv, length = fu[keep], fv[keep], length[keep]
    # chain length per ferry component (for the headway class)
    m = len(fn)
    adj = csr_matrix((np.ones(fu.size), (fu, fv)), shape=(m, m))
    _, lab = connected_components(adj, directed=False)
    comp_len = np.bincount(lab[fu], weights=length, minlength=lab.max() + 1)
    # join ferry nodes to eligible road nodes: the nearest one of each strongly connected
    # road component within join_m (a harbour road is often a piece of its own)
    used = np.zeros(m, dtype=bool)
    used[fu] = True
    used[fv] = True
    joined = used & near_road
    _, comp = connected_components(graph.to_scipy(), directed=True, connection="strong")
    kq = min(JOIN_CANDIDATES, cand.size)
    dd, jj = tree.query(np.column_stack([fx[joined], fy[joined]]), k=kq)
    dd, jj = dd.reshape(-1, kq), jj.reshape(-1, kq)
    jf, jr, jd = [], [], []
    for r, fnode in enumerate(np.flatnonzero(joined)):
        seen: set[int] = set()
        for dist, jc in zip(dd[r], jj[r], strict=True):
            if not np.isfinite(dist) or dist > cfg.join_m:
                break
            node = int(cand[jc])
            if comp[node] in seen:
                continue
            seen.add(int(comp[node]))
            jf.append(fnode)
            jr.append(node)
            jd.append(dist)
    jf_a, jr_a, jd_a = np.array(jf, np.int64), np.array(jr, np.int64), np.array(jd, float)
    deg = np.bincount(np.concatenate([fu, fv]), minlength=m)
    terminal = used & (joined | (deg != 2))
    # new node positions: road nodes 0..n-1, then the used ferry nodes
    n = graph.n_nodes
    fnew = np.full(m, -1, dtype=np.int64)
    fnew[used] = n + np.arange(int(used.sum()))
    v_kmh = cfg.speed_kmh / 3.6
    headway = np.where(comp_len[lab[fu]] >= cfg.sea_line_m, cfg.sea_headway_min,
                       cfg.river_headway_min)
    cross = length / v_kmh
    wait_f = np.where(terminal[fu], 30.0 * headway, 0.0)  # half headway, seconds (min × 60 / 2)
    wait_b = np.where(terminal[fv], 30.0 * headway, 0.0)
    jl = jd_a * cfg.join_detour / (cfg.join_speed_kmh / 3.6)
    src = graph.edge_sources().astype(np.int64)
    u_all = np.concatenate([src, fnew[fu], fnew[fv], fnew[jf_a], jr_a])
    v_all = np.concatenate([graph.indices.astype(np.int64), fnew[fv], fnew[fu], jr_a, fnew[jf_a]])
    t_all = np.concatenate([graph.weights.astype(float), cross + wait_f, cross + wait_b, jl, jl])
    l_road = graph.length_m if graph.length_m is not None else np.full(graph.n_edges, np.nan)
    l_all = np.concatenate([l_road, length, length, jd_a * cfg.join_detour,
                            jd_a * cfg.join_detour])
    x = np.concatenate([graph.x, fx[used]])
    y = np.concatenate([graph.y, fy[used]])
    ids = np.concatenate([np.asarray(graph.node_ids, dtype=object),
                          np.array([f"ferry:{i}" for i in fn["node_id"].to_numpy()[used]],
                                   dtype=object)])
    elig_all = np.concatenate([elig, terminal[used]])
    ferry_node = np.concatenate([np.zeros(n, bool), np.ones(int(used.sum()), bool)])
    meta = {k: v for k, v in graph.meta.items() if k not in ("eligible",)}
    out = _graph.from_edges(u_all, v_all, t_all, x, y, mode=graph.mode, largest_component=True,
                            attrs=_graph.GraphAttrs(node_ids=ids, length_m=l_all, meta=meta))
    pos = pd.Series(np.arange(x.size), index=pd.Index(ids))
    kept = pos.reindex(pd.Index(out.node_ids)).to_numpy()
    out.meta["eligible"] = elig_all[kept]
    out.meta["ferry_node"] = ferry_node[kept]
    kept_ferry_nodes = set(np.flatnonzero(ferry_node[kept]).tolist())
    stats = {
        "ferry_links_read": int(n_read), "self_loops_dropped": int(loop.sum()),
        "no_car_links_dropped": int((nocar & ~loop).sum()), "ferry_links_used": int(keep.sum()),
        "terminals_joined": int(joined.sum()), "terminal_links": int(jf_a.size),
        "terminals_unjoined": int((terminal & ~joined).sum()),
        "ferry_nodes_kept": len(kept_ferry_nodes),
        "ferry_nodes_dropped": int(used.sum()) - len(kept_ferry_nodes),
        "road_nodes_dropped": int(n - (~ferry_node[kept]).sum()),
    }
    out.meta["ferries"] = stats
    log.info("ferries (%s): %d lines read, %d self-loops and %d no-car lines dropped; %d "
             "terminals joined to roads within %.0f m, %d unjoined; %d of %d ferry nodes in "
             "the routable component; %d road nodes outside it", graph.mode, n_read,
             stats["self_loops_dropped"], stats["no_car_links_dropped"], stats["terminals_joined"],
             cfg.join_m, stats["terminals_unjoined"], stats["ferry_nodes_kept"], int(used.sum()),
             stats["road_nodes_dropped"])
    return out


@renamed_parameters(g="graph")
def summary(graph: _graph.Graph) -> dict[str, Any]:
    """The ferry counts of a graph built with :func:`add_ferries` (empty dict otherwise)."""
    return dict(graph.meta.get("ferries", {}))
