"""What the ``matrix`` command does, from its options to the file (the CLI stays thin),
and the list parsing every command shares (repeatable options and comma lists)."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd

from ruimtekit import _crs, _vector, api, defaults
from ruimtekit._errors import InputError, describe_validation
from ruimtekit.analysis import accessibility
from ruimtekit.engine import batches as distributed
from ruimtekit.engine import impedance, transit
from ruimtekit.engine.measures import Decay, parse_decay
from ruimtekit.io import places

_log = logging.getLogger(__name__)


def split_list(values: Iterable[Any] | str | None) -> list[str]:
    """Items of a repeatable option whose values may also be comma lists:
    ``--cutoff 15 --cutoff 30`` and ``--cutoff 15,30`` both give ``["15", "30"]``."""
    if values is None:
        return []
    if isinstance(values, (str, Path)):
        values = [values]
    out: list[str] = []
    for v in values:
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return out


def split_numbers(values: Iterable[Any] | str | None, option: str) -> list[float]:
    """Numbers of a repeatable/comma-list option (:func:`split_list`)."""
    out = []
    for item in split_list(values):
        try:
            out.append(float(item))
        except ValueError:
            raise InputError(None, f"{option} {item!r} is not a number",
                             f"give numbers, e.g. {option} 15 {option} 30 or {option} 15,30"
                             ) from None
    return out


def split_decays(values: Iterable[str] | str | None) -> list[str]:
    """Decay specs of a repeatable/comma-list option: a comma starts a new decay only
    before ``kind:`` (``exponential:beta=0.05,logistic:beta=0.1,t0=30`` is two decays)."""
    out: list[str] = []
    for part in split_list(values):
        if ":" in part.split("=", 1)[0] or not out:
            out.append(part)
        else:
            out[-1] += "," + part
    return out


def _network(args: dict[str, Any], mode: str, tp: transit.TransitParams
             ) -> api.TransportNetwork:
    net_arg = args.get("network")
    if mode in api.TRANSIT_MODES:
        given = [(k, args[k]) for k in ("gtfs", "graph", "ns_rail") if args.get(k)]
        if len(given) != 1:
            raise InputError(None, f"mode {mode} needs exactly one of --gtfs, --graph, "
                             "--ns-rail", "give the transit network")
        kind, src = given[0]
        if kind == "gtfs":
            src = [Path(p) for p in split_list(src)]
        roads: dict[str, Any] = {}
        if net_arg:
            roads["walk"] = _road_path(net_arg)
        if args.get("bike_network"):
            roads["bike"] = _road_path(str(args["bike_network"]))
        win = None if args.get("departure") else args.get("window")
        return api.TransportNetwork(roads=roads, transit=src, date=args.get("date"),
                                    window=win, transit_params=tp)
    if not net_arg:
        raise InputError(None, f"mode {mode} needs --network", "give a street network file, "
                         "a skim or 'crowfly'")
    if net_arg == "crowfly":
        return api.TransportNetwork(crowfly=[mode])
    path = _road_path(net_arg)
    if _is_skim(path):
        return api.TransportNetwork(skims={mode: impedance.read_skim(path)})
    return api.TransportNetwork(roads={mode: path})


def _road_path(value: str) -> Path:
    path = Path(value)
    if not path.exists():
        raise InputError(path, "the network file does not exist",
                         "give a street network file, a skim or 'crowfly'")
    return path


SKIM_COLUMNS = ("origin", "destination")
"""Columns that make a CSV/Parquet table a skim rather than a link table."""


def _is_skim(path: Path) -> bool:
    """OMX files, and CSV/Parquet tables with ``origin`` and ``destination`` columns, are
    skims; other tables are link tables (:func:`ruimtekit.network.networks.load_network`)."""
    name = path.name.lower()
    if name.endswith(".omx"):
        return True
    if not name.endswith(accessibility.SKIM_SUFFIXES):
        return False
    import pandas as pd
    import pyarrow.parquet as pq


    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, "the table is empty (0 bytes)",
                         "give a CSV/Parquet skim (origin, destination, minutes) or link table")
    try:
        if name.endswith((".parquet", ".pq")):
            cols = pq.read_schema(path).names
        else:
            cols = list(pd.read_csv(path, nrows=0, sep=None, engine="python").columns)
    except (OSError, ValueError, csv.Error) as exc:
        raise InputError(path, f"cannot read the table header ({exc})",
                         "give a CSV/Parquet skim or link table") from None
    low = {str(c).strip().lower() for c in cols}
    return all(c in low for c in SKIM_COLUMNS)


def run_matrix(args: dict[str, Any]) -> dict[str, Any]:
    """The ``ruimtekit matrix`` command (``args``: its options by name)."""
    mode = args["mode"]
    if mode not in (*api.ROAD_MODES, *api.TRANSIT_MODES):
        raise InputError(None, f"unknown mode {mode!r}",
                         f"use one of {', '.join((*api.ROAD_MODES, *api.TRANSIT_MODES))}")
    out = Path(args["output"])
    if out.suffix.lower() not in api.MATRIX_SUFFIXES:
        raise InputError(out, f"unknown matrix format {out.suffix!r}",
                         f"use one of {', '.join(api.MATRIX_SUFFIXES)}")
    pcts = split_numbers(args.get("percentiles"), "--percentiles") or None
    base = transit.TransitParams()
    limits = {k: v for k, v in (("walk", args.get("max_walk")), ("bike", args.get("max_bike")))
              if v is not None}
    egress = args.get("egress")
    try:
        tp = transit.as_params(
            None, step_s=args.get("step"), max_rides=args.get("max_rides"),
            max_transfers=args.get("max_transfers"), walk_speed_kmh=args.get("walk_speed"),
            bike_speed_kmh=args.get("bike_speed"),
            transfer_radius_m=args.get("transfer_radius"),
            board_slack_s=args.get("board_slack"), max_time_min=args.get("max_time"),
            egress_mode=egress, max_access_min={**base.max_access_min, **limits},
            max_egress_min=({**base.max_egress_min, (egress or "walk"): args["max_egress"]}
                            if args.get("max_egress") is not None else None))
    except ValueError as exc:
        raise InputError(None, f"invalid transit option: {describe_validation(exc)}",
                         "see `ruimtekit matrix --help`") from None
    with _crs.use_crs(args.get("crs") or _crs.DEFAULT_CRS):
        return _run_matrix(args, mode, out, pcts, tp)


def _run_matrix(args: dict[str, Any], mode: str, out: Path, pcts: list[float] | None,
                tp: transit.TransitParams) -> dict[str, Any]:
    idc = args.get("id_column")
    orig = places.read_places(args["origins"], idc, "origins")
    dest = (None if args.get("destinations") is None
            else places.read_places(args["destinations"],
                                    args.get("destination_id_column") or idc, "destinations"))
    net = _network(args, mode, tp)
    opts = {"max_time_min": args.get("max_time"), "max_snap_m": args["max_snap_m"],
            "transit": tp}
    if args.get("chunk_pairs"):
        opts["chunk_pairs"] = args["chunk_pairs"]
    with distributed.session(args.get("scheduler")) as client:
        ro = api.RoutingOptions(**opts, scheduler=client)
        params = None
        if mode in api.TRANSIT_MODES:
            params = api.transit_params(net, args.get("departure"),
                                        None if args.get("departure") else args["window"],
                                        pcts, ro)
        elif pcts is not None:
            raise InputError(None, "--percentiles applies to transit modes",
                             "leave it out for street modes")
        return api.write_matrix(net, orig, dest, out, mode, params, ro)


def _decay_spec(d: Decay) -> dict[str, Any]:
    return {"kind": d.kind, "params": dict(d.params)}


def read_access_opportunities(args: dict[str, Any], zones: Any) -> tuple[Any, str]:
    """Destinations and opportunity column of ``ruimtekit access``: a column of the zones
    file, a located file (points or zones), or a table of counts joined by code to
    ``--opportunities-geometry`` or, without it, to the zones."""
    opp = str(args["opportunities"])
    column = args.get("opportunity_column") or "jobs"
    geometry = args.get("opportunities_geometry")
    join_on = args.get("join_on")
    path = Path(opp)
    if not (path.suffix and path.exists()):
        if geometry is not None or join_on is not None:
            raise InputError(path, "the opportunities file does not exist",
                             "give a file of opportunities for --join-on / "
                             "--opportunities-geometry")
        if opp not in zones.columns:
            raise InputError(args["zones"], f"no column {opp!r} and no such file",
                             f"choose --opportunities from "
                             f"{[c for c in zones.columns if c != 'geometry'][:30]} or give "
                             "a file of opportunities")
        return None, opp

    geo: Any = geometry
    if geo is None:
        data = _vector.read_any(path)
        if not isinstance(data, gpd.GeoDataFrame):
            geo = zones  # a table of counts: join its codes to the zones
    dest = api.read_opportunities(path, geometry=geo, join_on=join_on,
                                  column=None if column == "jobs" else column)
    measure = dest.attrs.get("measure", "jobs")
    col = column if column in dest.columns else measure
    log_msg = (f"{path.name}: {len(dest)} located rows, {float(dest[col].sum()):,.0f} {col}"
               + (f" (joined by {dest.attrs['join']})" if dest.attrs.get("join") else ""))
    _log.info(log_msg)
    return dest, col


def run_access(args: dict[str, Any]) -> Any:
    """The ``ruimtekit access`` command (``args``: its options by name)."""
    mode = args["mode"]
    cutoffs = split_numbers(args.get("cutoff"), "--cutoff") or [defaults.CUTOFF_MIN]
    decays = [parse_decay(d) for d in split_decays(args.get("decay"))]
    zones = places.read_places(args["zones"], args.get("id_column"), "zones")
    dest, col = read_access_opportunities(args, zones)
    net_arg = str(args["network"])
    if net_arg == "crowfly":
        net = api.TransportNetwork(crowfly=[mode])
    else:
        path = _road_path(net_arg)
        if _is_skim(path):
            net = api.TransportNetwork(skims={mode: impedance.read_skim(
                path, zone_ids=zones["zone_id"].astype(str).to_numpy())})
        else:
            net = api.TransportNetwork(roads={mode: path})
    if net.kind(mode) == "skim" and dest is not None:
        raise InputError(net_arg, "a skim needs opportunities on the zones file",
                         "give --opportunities as a zones column (or join the table to the "
                         "zones with --join-on)")
    spec = api.MeasureSpec(cutoffs=cutoffs, decays=[_decay_spec(d) for d in decays])
    with distributed.session(args.get("scheduler")) as client:
        ro = api.RoutingOptions(max_snap_m=args.get("max_snap_m", defaults.MAX_SNAP_M),
                                scheduler=client)
        res = api.Accessibility(net, zones, dest, mode, spec, col, ro)
    return res
