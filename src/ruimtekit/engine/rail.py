"""National rail (NS) network without a timetable: station-to-station and zone-level times.

Inputs (``data/raw/ns_rail/``): ``network.json`` — 395 stations (``id`` = NS code,
``name_long``, RD ``x``/``y``, ``InUit2018`` ridership) and 1,141 directed links between
stations served consecutively by a real train service (January 2023; intercity
skip-stop links included) — and ``tariff-distances-2022-01.csv``, the NS tariff-unit
matrix (1 unit ≈ 1 km, ``XXX`` on the diagonal).

**Speed model (an assumption, documented in docs/transit.md).** A link of tariff
distance ``d`` km takes ``dwell + 60 · d / v(d)`` minutes with

    v(d) = v_min + (v_max − v_min) · clip((d − d_short) / (d_long − d_short), 0, 1)

(default ``v_min`` 50 km/h for links up to 2 km, rising to ``v_max`` 115 km/h at 30 km
and beyond: short sprinter hops are dominated by acceleration and braking, long intercity
links run near line speed) and a 1.0 min dwell per stop. Links missing from the tariff
matrix use 1.15 × the straight-line distance.

**Services and waiting.** The links do not say which train runs them, so each link is
classed *intercity* when it skips stations (another path through at least one
intermediate station is at most 25 % longer) and *sprinter* otherwise. Travellers board
a class at their first station after an expected wait of half the class headway (15 min
headways → 7.5 min), ride within the class, and pay the other class's wait plus a
transfer penalty (default 3 min) when switching class at a station. Changes between two
intercity (or two sprinter) services at a hub are not visible in the data and are not
penalised — a documented optimism of the model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruimtekit import defaults
from ruimtekit._compat import renamed_parameters
from ruimtekit._errors import InputError
from ruimtekit.engine import _raptor, transit
from ruimtekit.io import places
from ruimtekit.network import graph as _graph

log = logging.getLogger(__name__)

NETWORK_FILE = "network.json"
TARIFF_FILE = "tariff-distances-2022-01.csv"


@dataclass
class RailModel:
    """Parameters of the rail speed and waiting model (minutes, km, km/h; defaults
    :data:`ruimtekit.defaults.RAIL_MODEL`)."""

    v_min_kmh: float = defaults.RAIL_MODEL["v_min_kmh"]
    v_max_kmh: float = defaults.RAIL_MODEL["v_max_kmh"]
    d_short_km: float = defaults.RAIL_MODEL["d_short_km"]
    d_long_km: float = defaults.RAIL_MODEL["d_long_km"]
    dwell_min: float = defaults.RAIL_MODEL["dwell_min"]
    headway_intercity_min: float = defaults.RAIL_MODEL["headway_intercity_min"]
    headway_sprinter_min: float = defaults.RAIL_MODEL["headway_sprinter_min"]
    transfer_penalty_min: float = defaults.RAIL_MODEL["transfer_penalty_min"]
    skip_ratio: float = defaults.RAIL_MODEL["skip_ratio"]
    fallback_detour: float = defaults.RAIL_MODEL["fallback_detour"]

    def link_minutes(self, d_km: np.ndarray) -> np.ndarray:
        """In-vehicle minutes (incl. the dwell at the arrival station) per link distance."""
        d = np.asarray(d_km, dtype=np.float64)
        f = np.clip((d - self.d_short_km) / (self.d_long_km - self.d_short_km), 0.0, 1.0)
        v = self.v_min_kmh + (self.v_max_kmh - self.v_min_kmh) * f
        return self.dwell_min + 60.0 * d / v


@dataclass
class RailNetwork:
    """Stations, classified links and the expanded routing graph.

    Attributes
    ----------
    station_ids, station_names : ndarray of str
    x, y : ndarray of float64
        Station coordinates, EPSG:28992 (m).
    ridership : ndarray of float64
        Boardings + alightings per workday 2018 (NaN when unknown).
    links : DataFrame
        ``source``, ``target`` (station codes), ``u``, ``v`` (positions), ``distance_km``
        (tariff units), ``minutes`` (in-vehicle), ``service`` (``intercity``/``sprinter``).
    graph : graph.Graph
        Expanded graph (``origin``, ``destination``, ``intercity`` and ``sprinter`` node per
        station), weights in seconds.
    model : RailModel
    """

    station_ids: np.ndarray
    station_names: np.ndarray
    x: np.ndarray
    y: np.ndarray
    ridership: np.ndarray
    links: pd.DataFrame
    graph: _graph.Graph
    model: RailModel
    meta: dict[str, Any] = field(default_factory=dict)
    _seconds: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_stations(self) -> int:
        """Number of stations."""
        return int(self.station_ids.shape[0])

    def station_seconds(self) -> np.ndarray:
        """Station × station minimum travel time (float64 s; wait at the first station
        included; 0 on the diagonal; inf = unreachable). Cached."""
        if self._seconds is None:
            from scipy.sparse.csgraph import dijkstra

            n = self.n_stations
            d = dijkstra(self.graph.to_scipy(), directed=True, indices=np.arange(n))
            self._seconds = d[:, n:2 * n].copy()
            np.fill_diagonal(self._seconds, 0.0)
        return self._seconds


def read_tariff_distances(path: str | Path) -> pd.DataFrame:
    """Read the NS tariff-distance matrix.

    Parameters
    ----------
    path : str or Path
        CSV with a ``Station`` column of codes and one column per code; ``XXX`` on the
        diagonal.

    Returns
    -------
    DataFrame
        Square float64 matrix of tariff units (≈ km), index and columns the station
        codes, NaN on the diagonal.

    Raises
    ------
    InputError
        Not square, codes of rows and columns differ, or non-numeric off-diagonal cells.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "tariff distance file not found",
                         "pass data/raw/ns_rail/tariff-distances-2022-01.csv")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if df.columns[0] != "Station":
        raise InputError(path, f"first column is {df.columns[0]!r}, expected 'Station'",
                         "use the Rijden de Treinen tariff-distance CSV layout")
    df = df.set_index("Station")
    if list(df.index) != list(df.columns):
        raise InputError(path, "row and column station codes differ (not a square matrix)",
                         "use the unmodified tariff-distance matrix")
    vals = df.replace("XXX", np.nan).apply(pd.to_numeric, errors="coerce")
    bad = vals.isna().to_numpy() & (df.to_numpy() != "XXX")
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(path, f"non-numeric distance {df.iat[i, j]!r} at {df.index[i]}–"
                         f"{df.columns[j]}", "cells must be whole tariff units or XXX")
    return vals.astype(np.float64)


def _read_network_json(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not path.is_file():
        raise InputError(path, "rail network file not found",
                         "pass data/raw/ns_rail/network.json (or its folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"invalid JSON ({exc})", "pass the t-rain network.json") from None
    if not isinstance(data, dict) or "nodes" not in data or "links" not in data:
        raise InputError(path, "expected an object with 'nodes' and 'links'",
                         "pass the t-rain network.json")
    nodes = pd.DataFrame(data["nodes"])
    links = pd.DataFrame(data["links"])
    for c in ("id", "x", "y"):
        if c not in nodes:
            raise InputError(path, f"nodes lack {c!r}", "nodes need id, x, y (EPSG:28992)")
    for c in ("source", "target"):
        if c not in links:
            raise InputError(path, f"links lack {c!r}", "links need source and target codes")
    unknown = set(links["source"]) | set(links["target"])
    unknown -= set(nodes["id"])
    if unknown:
        raise InputError(path, f"links refer to unknown stations {sorted(unknown)[:5]}",
                         "every link end must be a node id")
    return nodes, links


def build_rail_network(
    network: str | Path = "data/raw/ns_rail", tariff: str | Path | None = None, *,
    model: RailModel | None = None,
) -> RailNetwork:
    """Build the NS rail network with modelled link times.

    Parameters
    ----------
    network : str or Path
        ``network.json`` or the folder holding it (and the tariff CSV).
    tariff : str or Path, optional
        Tariff-distance CSV (default: ``tariff-distances-2022-01.csv`` beside the network).
    model : RailModel, optional
        Speed/wait parameters (module docstring).

    Returns
    -------
    RailNetwork
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    model = model or RailModel()
    p = Path(network)
    folder = p if p.is_dir() else p.parent
    net_path = p / NETWORK_FILE if p.is_dir() else p
    tariff_path = Path(tariff) if tariff is not None else folder / TARIFF_FILE
    nodes, links = _read_network_json(net_path)
    tar = read_tariff_distances(tariff_path)
    ids = nodes["id"].astype(str).to_numpy()
    n = len(ids)
    pos = pd.Index(ids)
    x = nodes["x"].to_numpy(dtype=np.float64)
    y = nodes["y"].to_numpy(dtype=np.float64)
    if not (np.all((x > -7000) & (x < 300000)) and np.all((y > 289000) & (y < 629000))):
        raise InputError(net_path, "station x/y are not EPSG:28992 (RD New) metres",
                         "give station coordinates in RD New")
    # undirected link set (services run both ways)
    lk = pd.DataFrame({"u": pos.get_indexer(links["source"].astype(str)),
                       "v": pos.get_indexer(links["target"].astype(str))})
    lk = pd.concat([lk, lk.rename(columns={"u": "v", "v": "u"})]).drop_duplicates()
    lk = lk[lk["u"] != lk["v"]].reset_index(drop=True)
    u, v = lk["u"].to_numpy(), lk["v"].to_numpy()
    ti = tar.index.get_indexer(ids)
    d = np.full(len(lk), np.nan)
    ok = (ti[u] >= 0) & (ti[v] >= 0)
    tv = tar.to_numpy()
    d[ok] = tv[ti[u[ok]], ti[v[ok]]]
    crow = np.hypot(x[u] - x[v], y[u] - y[v]) / 1000.0
    miss = ~np.isfinite(d) | (d <= 0)
    if miss.any():
        log.info("rail: %d link directions not in the tariff matrix; using %.2f x straight "
                 "line", int(miss.sum()), model.fallback_detour)
    d = np.where(miss, np.maximum(crow * model.fallback_detour, 0.5), d)
    # classify links: intercity when an alternative path via other stations is short
    A = csr_matrix((d, (u, v)), shape=(n, n))
    sp = dijkstra(A, directed=True)
    alt = np.full(len(lk), np.inf)
    for i in range(len(lk)):
        a, b = u[i], v[i]
        nb = (u == a) & (v != b)
        if nb.any():
            alt[i] = np.min(d[nb] + sp[v[nb], b])
    service = np.where(alt <= model.skip_ratio * d, "intercity", "sprinter")
    minutes = model.link_minutes(d)
    lk = lk.assign(source=ids[u], target=ids[v], distance_km=d, minutes=minutes,
                   service=service)
    # expanded graph: origin o_s (0..n-1), destination d_s (n..2n-1), intercity (2n+s),
    # sprinter (3n+s)
    cls_off = np.where(service == "intercity", 2 * n, 3 * n)
    ride_u = cls_off + u
    ride_v = cls_off + v
    served_ic = np.unique(u[service == "intercity"].tolist() + v[service == "intercity"].tolist())
    served_sp = np.unique(u[service == "sprinter"].tolist() + v[service == "sprinter"].tolist())
    w_ic = model.headway_intercity_min / 2.0
    w_sp = model.headway_sprinter_min / 2.0
    both = np.intersect1d(served_ic, served_sp)
    eu = [ride_u, served_ic, served_sp, 2 * n + served_ic, 3 * n + served_sp,
          2 * n + both, 3 * n + both, np.arange(n)]
    ev = [ride_v, 2 * n + served_ic, 3 * n + served_sp, n + served_ic, n + served_sp,
          3 * n + both, 2 * n + both, n + np.arange(n)]
    ew = [minutes, np.full(len(served_ic), w_ic), np.full(len(served_sp), w_sp),
          np.zeros(len(served_ic)), np.zeros(len(served_sp)),
          np.full(len(both), w_sp + model.transfer_penalty_min),
          np.full(len(both), w_ic + model.transfer_penalty_min), np.zeros(n)]
    node_ids = np.concatenate([[f"{k}:{s}" for s in ids] for k in
                               ("origin", "destination", "intercity", "sprinter")])
    gr = _graph.from_edges(
        np.concatenate(eu), np.concatenate(ev), np.concatenate(ew) * 60.0,
        np.tile(x, 4), np.tile(y, 4), mode="rail", largest_component=False,
        attrs=_graph.GraphAttrs(node_ids=node_ids.astype(object), meta={
            "source": str(net_path), "tariff": str(tariff_path), "model": model.__dict__}),
    )
    rid = nodes["InUit2018"].to_numpy(dtype=np.float64) if "InUit2018" in nodes else np.full(
        n, np.nan)
    names = nodes["name_long"].astype(str).to_numpy() if "name_long" in nodes else ids
    net = RailNetwork(station_ids=ids.astype(object), station_names=names.astype(object), x=x,
                      y=y, ridership=rid, links=lk, graph=gr, model=model,
                      meta={"n_links": int(len(lk)),
                            "n_intercity_links": int((service == "intercity").sum())})
    log.info("rail network: %d stations, %d link directions (%d intercity)", n, len(lk),
             net.meta["n_intercity_links"])
    return net


@renamed_parameters(net="network")
def station_times(network: RailNetwork) -> pd.DataFrame:
    """Station × station minimum travel times in minutes (wait at the first station
    included, no access/egress), index and columns the station codes."""
    return pd.DataFrame(network.station_seconds() / 60.0, index=network.station_ids,
                        columns=network.station_ids)


@renamed_parameters(net="network")
def zone_times(
    zones: Any, network: RailNetwork, *, access_mode: str = "bike", k_nearest: int = 5,
    origins: np.ndarray | None = None, include_direct: bool = True, params: Any = None,
) -> np.ndarray:
    """Zone × zone times (s) by access leg, rail and egress leg, or the direct trip.

    ``T[o, d] = min(direct(o, d), min_{a, e} access(o, a) + rail(a, e) + egress(e, d))``
    over the ``k_nearest`` stations within the leg limits of ``params``
    (:class:`ruimtekit.engine.transit.TransitParams`: bike access ≤ 20 min, walking egress
    ≤ 15 min by default), straight-line legs by the crow-fly leg models. The direct trip
    by the access mode may take the whole budget (``params.max_time_min``).

    Parameters
    ----------
    zones : GeoDataFrame (working CRS, metres)
    network : RailNetwork
    access_mode : {'bike', 'walk'}
    k_nearest : int
        Stations per zone when ``params.k_nearest`` is not set (5).
    origins : array of int, optional
        Origin positions (default all zones — n × n float64; for the 4,068 PC4 zones that
        is 132 MB; use :func:`ruimtekit.analysis.transit_access.zone_accessibility` for measures, which
        works in blocks).
    include_direct : bool
        Also allow the direct walk/bike trip.
    params : TransitParams or dict, optional
        Leg limits, speeds and ``max_time_min``. Straight-line radii (m) become leg limits
        with :meth:`~ruimtekit.engine.transit.TransitParams.with_radius`, e.g.
        ``params=TransitParams().with_radius("bike", 3000)`` or
        ``.with_radius("walk", 1200, leg="egress")``.

    Returns
    -------
    ndarray of float64 (n_origins, n_zones), seconds (inf = unreachable)
    """

    p = transit.as_params(params)
    zx, zy = places.zone_points(zones, missing="raise")
    k = p.k_nearest or k_nearest
    acc = transit.zone_legs(zx, zy, network.x, network.y, mode=p.leg_model(access_mode),
                            max_time_s=p.access_s(access_mode), k_nearest=k)
    egr = transit.zone_legs(zx, zy, network.x, network.y, mode=p.leg_model(p.egress_mode),
                            max_time_s=p.egress_s(), k_nearest=k)
    o = np.arange(len(zx), dtype=np.int64) if origins is None else np.asarray(origins,
                                                                               dtype=np.int64)
    t = _raptor.min_plus_legs(o, acc.ptr, acc.stop, acc.seconds.astype(np.float64),
                              network.station_seconds(), egr.ptr, egr.stop,
                              egr.seconds.astype(np.float64), egr.n_zones)
    if include_direct:
        direct = transit.DirectTrip(zx, zy, zx, zy, p.leg_model(access_mode), p.direct_s())
        t = np.minimum(t, direct.block(o))
    return t
