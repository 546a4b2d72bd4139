"""Command-line interface (typer): a thin layer over the Python API.

No command shows a traceback (:func:`friendly_errors`): a
:class:`ruimtekit._errors.RuimtekitError` prints its message (file, problem, fix) and exits
with code 2, an OS error names the path (code 2), anything unexpected is one line pointing to
``ruimtekit --verbose <command>`` for the traceback (code 1).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from ruimtekit import defaults
from ruimtekit._errors import RuimtekitError, describe_validation
from ruimtekit.analysis import transit_access

app = typer.Typer(
    name="ruimtekit",
    help=(
        "Dutch spatial-planning analysis: job accessibility within a time budget (minutes) "
        "per mode, borrowed-size catchments, densification candidates, web maps and "
        "GeoPackage layers (EPSG:28992). Run `ruimtekit run` for the bundled demo."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

# usage errors (typer.BadParameter, ...) raised inside a command are shown by click itself;
# typer >= 0.16 vendors click, so take the base class from typer's own exception
_PASS_THROUGH = (typer.Exit, typer.Abort, *[c for c in typer.BadParameter.__mro__
                                            if c.__name__ == "ClickException"])

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Run the searches on Dask: local:N (N local worker processes) or the "
    "address of a running scheduler (tcp://host:8786). Default: this process only.")]


VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Details: every module's "
                                          "INFO and DEBUG messages, with logger names.")]

# transit routing options shared by `transit` and `matrix` (defaults: transit.TransitParams,
# from ruimtekit.defaults)
MaxRidesOpt = Annotated[int | None, typer.Option(
    help=f"Most vehicles per trip (default {defaults.MAX_TRANSFERS + 1} = "
         f"{defaults.MAX_TRANSFERS} transfers; R5 8).")]
MaxTransfersOpt = Annotated[int | None, typer.Option(help="Maximum transfers (= max rides - 1).")]
EgressOpt = Annotated[str | None, typer.Option(
    help="Egress mode walk (default) or bike (columns get _bike).")]
WalkSpeedOpt = Annotated[float | None, typer.Option(
    help="Walking speed km/h (default: the fitted crow-fly walk model for straight-line legs, "
         f"{defaults.WALK_SPEED_KMH:g} on a street network; R5 3.6).")]
BikeSpeedOpt = Annotated[float | None, typer.Option(
    help="Cycling speed km/h (default: the fitted crow-fly bike model, "
         f"{defaults.BIKE_SPEED_KMH:g} on a street network; R5 12).")]
MaxWalkOpt = Annotated[float | None, typer.Option(
    help=f"Longest walking access leg in minutes ({defaults.ACCESS_MAX_MIN['walk']:g}).")]
MaxBikeOpt = Annotated[float | None, typer.Option(
    help=f"Longest cycling access leg in minutes ({defaults.ACCESS_MAX_MIN['bike']:g}).")]
MaxEgressOpt = Annotated[float | None, typer.Option(
    help=f"Longest egress leg in minutes ({defaults.EGRESS_MAX_MIN['walk']:g}).")]
TransferRadiusOpt = Annotated[float | None, typer.Option(
    help=f"Walking transfers between stops up to this many metres "
         f"({defaults.TRANSFER_RADIUS_M:g}; R5 1000).")]
BoardSlackOpt = Annotated[int | None, typer.Option(
    help=f"Minimum wait in seconds before every boarding ({defaults.BOARD_SLACK_S}; R5 60).")]
PercentilesOpt = Annotated[list[str] | None, typer.Option(
    help="Travel-time percentiles over the window (GTFS; repeatable or comma-separated; "
         f"default {', '.join(f'{p:g}' for p in defaults.PERCENTILES)}).")]
WorkingCrsOpt = Annotated[str | None, typer.Option(
    help="Working CRS: EPSG:28992 (default), a projected metric CRS such as EPSG:31982, or "
         "auto (UTM zone).")]

_PROGRESS_LOGGERS = ("ruimtekit.pipeline", "ruimtekit.cli")
"""Loggers whose INFO messages (one line per step, the result) show without --verbose."""


class _LogFormat(logging.Formatter):
    """``message`` for INFO, ``WARNING: message`` otherwise; with logger names when verbose."""

    def __init__(self, verbose: bool) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info and self.verbose:
            msg += "\n" + self.formatException(record.exc_info)
        name = f"{record.name}: " if self.verbose else ""
        return f"{name}{msg}" if record.levelno == logging.INFO else f"{record.levelname}: {name}{msg}"


class _Concise(logging.Filter):
    """Without --verbose: WARNING and above from everyone, INFO only from progress loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name in _PROGRESS_LOGGERS


def _formatwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                   line: str | None = None) -> str:
    """A warning as one line: ``DataWarning: text`` (no file name, no source-code echo)."""
    return f"{category.__name__}: {message}"


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    import warnings

    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormat(verbose))
    if not verbose:
        handler.addFilter(_Concise())
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("numba", "pyogrio", "fiona", "matplotlib", "PIL", "urllib3", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.formatwarning = _formatwarning  # type: ignore[assignment]
    logging.captureWarnings(True)  # data warnings as one-line log messages, not source dumps


_VERBOSE = {"on": False}  # set by the root --verbose option (tracebacks for unexpected errors)


def _show_traceback(kwargs: dict[str, Any]) -> bool:
    import os

    return bool(_VERBOSE["on"] or kwargs.get("verbose")
                or os.environ.get("RUIMTEKIT_TRACEBACK", "") not in ("", "0"))


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Never show a traceback: every error becomes a message and an exit code.

    ruimtekit errors (file, problem, fix) exit with code 2; an operating-system error
    names the path (code 2); out of memory says so (code 2); anything else is one line
    pointing to ``ruimtekit --verbose`` for the traceback (code 1).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except RuimtekitError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(code=2) from None
        except ValidationError as exc:  # an option value a settings model refuses
            lines = describe_validation(exc)
            err_console.print(f"error: invalid option value(s): {lines}\n  fix: correct the "
                              f"option(s) (see `ruimtekit "
                              f"{func.__name__.removesuffix('_cmd').replace('_', '-')} --help`)",
                              highlight=False, markup=False)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; earlier outputs were left intact")
            raise typer.Exit(code=130) from None
        except MemoryError:
            err_console.print("error: out of memory; an input is too large for this machine",
                              "\n  fix: use a smaller study area, fewer cutoffs or zones, or a "
                              "machine with more memory", highlight=False, markup=False)
            raise typer.Exit(code=2) from None
        except OSError as exc:
            if _show_traceback(kwargs):
                err_console.print_exception()
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            err_console.print(f"error: {where}{exc.strerror or exc}\n  fix: check that the "
                              "path exists and is readable (inputs) or writable (outputs)",
                              highlight=False, markup=False)
            raise typer.Exit(code=2) from None
        except Exception as exc:
            if _show_traceback(kwargs):
                err_console.print_exception()
            msg = " ".join(str(exc).split())[:300] or "(no message)"
            err_console.print(
                f"error: unexpected {type(exc).__name__}: {msg}\n  fix: this is a bug or an "
                "input ruimtekit does not check yet; run `ruimtekit --verbose "
                f"{func.__name__.removesuffix('_cmd').replace('_', '-')} ...` for the "
                "traceback and report it", highlight=False, markup=False)
            raise typer.Exit(code=1) from None

    return wrapper


def _print_version(value: bool) -> None:
    if value:
        from ruimtekit import __version__

        typer.echo(f"ruimtekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="Show the full traceback of unexpected errors.")] = False,
) -> None:
    _VERBOSE["on"] = verbose


# --- run (pipeline) ------------------------------------------------------------------
@app.command()
@friendly_errors
def run(
    study: Annotated[
        Path | None,
        typer.Argument(
            help="Study file (YAML). Default: the bundled demo study (offline, data/raw/).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Write into an existing non-empty folder that ruimtekit did not "
        "make (same-named files are replaced; nothing else is removed).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run every analysis step of a study.

    Reads the layers and networks named in STUDY, computes accessibility (jobs within the
    time budgets, minutes, per mode), transit accessibility, borrowed size and
    densification candidates, and writes data/processed/<study>/<study>.gpkg (EPSG:28992),
    a provenance JSON (input checksums, study, version, timings) and maps/<study>/index.html.
    A failed run leaves earlier outputs intact. --scheduler overrides the study file's
    scheduler key (see docs/distributed.md).
    """
    from ruimtekit import pipeline

    _setup_logging(quiet, verbose)
    pipeline.run(study, quiet=quiet, scheduler=scheduler, overwrite=overwrite)


# --- access (accessibility engine) --------------------------------------------------
@app.command("access")
@friendly_errors
def access_cmd(
    zones: Annotated[Path, typer.Option("--zones", help="Zones file (GeoPackage/GeoParquet/"
                                        "GeoJSON; converted to EPSG:28992), with zone_id.")],
    network: Annotated[str, typer.Option("--network", help="'crowfly' (straight-line "
                                         "model), a network file (OSM .pbf, osmnx GraphML, "
                                         "link table) or a skim (.csv/.parquet/.omx: "
                                         "origin, destination, time in minutes).")],
    mode: Annotated[str, typer.Option("--mode", help="walk, bike, e_bike or car.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output GeoPackage (layer "
                                         "'access', EPSG:28992).")],
    cutoff: Annotated[list[str] | None, typer.Option(
        "--cutoff", "--cutoffs", help="Time budgets in minutes (repeatable or "
        f"comma-separated: --cutoff 15 --cutoff 30 = --cutoff 15,30; default "
        f"{defaults.CUTOFF_MIN:g}).")] = None,
    decay: Annotated[list[str] | None, typer.Option(
        "--decay", help="Gravity decay, e.g. exponential:beta=0.05 or "
        "logistic:beta=0.1,t0=30 (repeatable or comma-separated; t in minutes).")] = None,
    opportunities: Annotated[str, typer.Option(
        "--opportunities", help="Opportunity column of the zones file; or a file of points/"
        "zones carrying --opportunity-column; or a table of counts per code (e.g. "
        "data/raw/cbs_wijk_banen_2014.csv) joined by code to --opportunities-geometry or, "
        "without it, to the zones.")] = "jobs",
    opportunity_column: Annotated[str, typer.Option(
        help="Opportunity column when --opportunities is a file (jobs columns such as "
        "banen_werkplaats are found as jobs).")] = "jobs",
    opportunities_geometry: Annotated[Path | None, typer.Option(
        help="Points or polygons for the codes of an --opportunities table (e.g. "
        "data/raw/cbs_wijk_centroids_2015.geojson).")] = None,
    join_on: Annotated[str | None, typer.Option(
        help="Join of the --opportunities table: table_column=geometry_column (e.g. "
        "wk_code=code, pc4=zone_id); default the zone code columns found.")] = None,
    id_column: Annotated[str | None, typer.Option(
        help="Id column of the zones file (default: zone code columns, id or zone_id); "
        "point files (addresses, PC6 centroids) are routed from the points.")] = None,
    max_snap_m: Annotated[float, typer.Option(help="Maximum snapping distance to the "
                                              "network (metres).")] = defaults.MAX_SNAP_M,
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Opportunities reachable from every zone (polygons or points) within each time
    budget (minutes), by one mode: over a road network, with the crow-fly model or from a
    skim. Writes one row per zone with columns {opportunity}_{cutoff}min_{mode} (and
    decays), snap_distance_m, to OUTPUT (EPSG:28992); unsnapped zones are listed in the
    log.

    Example (all gemeenten, the national jobs table joined to wijk centroids):
    ruimtekit access --zones data/raw/cbs_gemeenten_2022.geojson --network crowfly
    --mode car --opportunities data/raw/cbs_wijk_banen_2014.csv
    --opportunities-geometry data/raw/cbs_wijk_centroids_2015.geojson
    --join-on wk_code=code --cutoff 30,45 -o access.gpkg
    """
    args = dict(locals())
    from ruimtekit import _commands, _io

    _setup_logging(quiet)
    _io.check_output_file(output)
    gdf = _commands.run_access(args)
    with _io.atomic_path(output) as tmp:
        gdf.to_file(tmp, layer="access", driver="GPKG")
    if not quiet:
        typer.echo(f"wrote {output} ({len(gdf)} zones)")


# --- transit -------------------------------------------------------------------------
@app.command("transit")
@friendly_errors
def transit_cmd(
    zones: Annotated[Path, typer.Option("--zones", help="Zones file (GeoPackage/GeoParquet/"
                                        "GeoJSON/CSV; any CRS, converted to --crs).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output GeoPackage (layer "
                                         "'transit', in --crs).")],
    gtfs: Annotated[list[Path] | None, typer.Option(
        "--gtfs", help="GTFS .zip or folder; repeat to merge several feeds (ids become "
        "<file name>:<id>).")] = None,
    graph: Annotated[Path | None, typer.Option("--graph", help="Stop-level transit graph "
                                               "(.gml, igraph).")] = None,
    ns_rail: Annotated[Path | None, typer.Option("--ns-rail", help="Folder with NS "
                                                 "network.json and tariff CSV.")] = None,
    date: Annotated[str | None, typer.Option(help="Service date YYYY-MM-DD (GTFS).")] = None,
    window: Annotated[str, typer.Option(help="Departure window HH:MM-HH:MM (GTFS).")] =
        "-".join(defaults.TRANSIT_WINDOW),
    step: Annotated[int, typer.Option(help="Departure step in seconds (GTFS).")] = (
        defaults.DEPARTURE_STEP_S),
    percentiles: PercentilesOpt = None,
    max_rides: MaxRidesOpt = None,
    max_transfers: MaxTransfersOpt = None,
    max_time: Annotated[float | None, typer.Option(
        help=f"Longest trip in minutes (default {defaults.MAX_TIME_MIN:g}); longer = "
             "unreachable.")] = None,
    access: Annotated[list[str] | None, typer.Option(
        help="Access modes: walk → *_transit, bike → *_bike_transit (repeatable or "
             "comma-separated; default walk).")] = None,
    egress: EgressOpt = None,
    walk_speed: WalkSpeedOpt = None,
    bike_speed: BikeSpeedOpt = None,
    max_walk: MaxWalkOpt = None,
    max_bike: MaxBikeOpt = None,
    max_egress: MaxEgressOpt = None,
    transfer_radius: TransferRadiusOpt = None,
    board_slack: BoardSlackOpt = None,
    max_snap: Annotated[float | None, typer.Option(
        help=f"Farthest snap to the street networks in metres ({defaults.MAX_SNAP_M:g}; "
             "R5 1600).")] = None,
    walk_network: Annotated[Path | None, typer.Option(
        help="Street network file (OSM .pbf, GraphML) for walking access, egress, direct "
             "walks and (GTFS) transfers, instead of straight lines.")] = None,
    bike_network: Annotated[Path | None, typer.Option(
        help="Street network file for cycling access legs and direct bike trips.")] = None,
    crs: WorkingCrsOpt = None,
    points: Annotated[bool, typer.Option(
        "--points", help="The zones file holds points (e.g. hexagon centres) with "
                         "--id-column.")] = False,
    id_column: Annotated[str, typer.Option(help="Zone id column for --points.")] = "zone_id",
    matrix: Annotated[Path | None, typer.Option(
        help="Also write the travel-time matrix (Parquet: from_id, to_id, travel_time "
             "in minutes, NaN unreachable) for the first access mode.")] = None,
    cutoffs: Annotated[list[str] | None, typer.Option(
        "--cutoffs", "--cutoff", help="Time budgets in minutes (repeatable or "
        f"comma-separated; default {','.join(f'{c:g}' for c in defaults.TRANSIT_CUTOFFS_MIN)}).")
    ] = None,
    opportunity: Annotated[str, typer.Option(help="Opportunity column of the zones file "
                                             "(e.g. jobs, establishments).")] = "jobs",
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Transit accessibility per zone: opportunities reachable within each time budget
    (minutes) by the faster of cycling/walking all the way and walk/bike + transit +
    walk, from GTFS timetables (range-RAPTOR over the departure window, percentiles of
    travel time), a stop-level transit graph (waiting = half the headway) or the NS rail
    network. Writes one row per zone with columns {opportunity}_{cutoff}min_transit /
    _bike_transit to OUTPUT."""
    from ruimtekit import _crs, _io
    from ruimtekit._errors import InputError
    from ruimtekit.analysis import accessibility
    from ruimtekit.engine import batches as distributed
    from ruimtekit.engine import transit
    from ruimtekit.io import layers
    from ruimtekit.network import networks

    _setup_logging(quiet)
    _io.check_output_file(output)
    from ruimtekit import _commands

    feeds = [Path(p) for p in _commands.split_list(gtfs)]
    given = [(k, p) for k, p in (("gtfs", feeds if len(feeds) > 1 else
                                   (feeds[0] if feeds else None)),
                                  ("transit_graph", graph), ("ns_rail", ns_rail))
             if p is not None]
    if len(given) != 1:
        raise InputError(None, "give exactly one of --gtfs, --graph, --ns-rail",
                         "choose the transit network to route on")
    kind, path = given[0]
    try:
        w0, w1 = window.split("-")
    except ValueError:
        raise InputError(None, f"cannot parse --window {window!r}",
                         "use e.g. --window 07:00-09:00") from None
    pcts = _commands.split_numbers(percentiles, "--percentiles") or list(defaults.PERCENTILES)
    cuts = _commands.split_numbers(cutoffs, "--cutoffs") or list(defaults.TRANSIT_CUTOFFS_MIN)
    modes = _commands.split_list(access) or ["walk"]
    base = transit.TransitParams()
    limits = {"walk": max_walk, "bike": max_bike}
    try:
        params = transit.as_params(
            None, window=(w0, w1), step_s=step, percentiles=pcts, max_rides=max_rides,
            max_transfers=max_transfers, max_time_min=max_time, egress_mode=egress,
            walk_speed_kmh=walk_speed, bike_speed_kmh=bike_speed,
            transfer_radius_m=transfer_radius, board_slack_s=board_slack,
            max_snap_m=max_snap,
            max_access_min={**base.max_access_min,
                            **{k: v for k, v in limits.items() if v is not None}},
            max_egress_min=({**base.max_egress_min, (egress or "walk"): max_egress}
                            if max_egress is not None else None))
    except ValueError as exc:  # pydantic validation
        raise InputError(None, f"invalid transit option: {describe_validation(exc)}",
                         "see `ruimtekit transit --help` for the allowed values") from None
    with _crs.use_crs(crs or _crs.DEFAULT_CRS):
        if points:
            z = layers.read_jobs(zones, columns={"zone_id": id_column})
            if opportunity in z.columns:
                z = z[z[opportunity].notna()].reset_index(drop=True)
        else:
            z = layers.read_zones(zones)
        if opportunity not in z.columns:
            raise InputError(zones, f"no column {opportunity!r}",
                             f"choose --opportunity from {', '.join(map(str, z.columns))}")
        walk_g = (networks.load_network(walk_network, "walk",
                                        profile={"speed_kmh": params.speed_kmh("walk")})
                  if walk_network is not None else None)
        bike_g = (networks.load_network(bike_network, "bike",
                                        profile={"speed_kmh": params.speed_kmh("bike")})
                  if bike_network is not None else None)
        opts = None
        if kind == "gtfs":
            opts = {"transfer_radius_m": 0.0 if walk_g is not None else
                    params.transfer_radius_m, "walk_speed_kmh": params.speed_kmh("walk"),
                    "walk_detour": params.transfer_detour,
                    "change_slack_s": params.change_slack_s}
        net = transit_access.build_transit_network(
            kind, path, date=date, window=(w0, w1),
            max_time_min=params.max_time_min, options=opts)
        if walk_g is not None and isinstance(net, transit.TransitNetwork):
            net = transit.street_transfers(net, walk_g, max_distance_m=params.transfer_radius_m,
                                           walk_speed_kmh=params.speed_kmh("walk"),
                                           max_snap_m=params.max_snap_m)
        street = {"walk": walk_g, "bike": bike_g}
        egress_g = street[params.egress_mode]
        out = z[["zone_id", "geometry"]].copy()
        with distributed.session(scheduler) as client:
            for mode in modes:
                df = transit_access.zone_accessibility(
                    net, z, z[opportunity].to_numpy(dtype=float), opportunity=opportunity,
                    access_mode=mode, measures={"cutoffs": cuts}, params=params,
                    options=transit_access.TransitOptions(
                        scheduler=client, access_network=street.get(mode),
                        egress_network=egress_g))
                for c in df.columns[1:]:
                    out[c] = df[c].to_numpy()
        if matrix is not None:
            m = transit_access.od_matrix(net, z, access_mode=modes[0], params=params,
                                  access_network=street.get(modes[0]),
                                  egress_network=egress_g)
            accessibility.write_od_matrix(m, matrix)
        with _io.atomic_path(output) as tmp:
            out.to_file(tmp, layer="transit", driver="GPKG")
    typer.echo(f"wrote {output} ({len(out)} zones, {len(out.columns) - 2} columns)"
               + (f" and {matrix}" if matrix is not None else ""))


# --- matrix --------------------------------------------------------------------------
@app.command("matrix")
@friendly_errors
def matrix_cmd(
    origins: Annotated[Path, typer.Option("--origins", help="Origins: points or polygons "
                                          "(any vector file, or CSV with x/y in RD metres) "
                                          "with an id column (id, zone_id or --id-column).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Matrix file: .parquet "
                                         "(default), .csv or .omx; from_id, to_id, "
                                         "travel_time in minutes, NaN unreachable.")],
    mode: Annotated[str, typer.Option("--mode", help="walk, bike, e_bike, car, transit "
                                      "(walk access) or bike_transit.")],
    destinations: Annotated[Path | None, typer.Option(
        "--destinations", help="Destinations: points or polygons with an id (default: the "
        "origins).")] = None,
    network: Annotated[str | None, typer.Option(
        "--network", help="Street network file (OSM .pbf, GraphML, link table), a skim "
        "(.csv/.parquet/.omx: origin, destination, time in minutes) or 'crowfly'. For "
        "transit modes: the street network of the access legs (like --walk-network).")]
        = None,
    id_column: Annotated[str | None, typer.Option(
        help="Id column of the origins (and of the destinations unless "
             "--destination-id-column; default zone_id, id or a zone code column).")] = None,
    destination_id_column: Annotated[str | None, typer.Option(
        help="Id column of the destinations.")] = None,
    max_time: Annotated[float | None, typer.Option(
        help=f"Longest travel time in minutes (default {defaults.MATRIX_MAX_TIME_MIN:g}); "
             "longer pairs are NaN.")] = None,
    max_snap_m: Annotated[float, typer.Option(help="Maximum distance to the street "
                                              "network (metres).")] = defaults.MAX_SNAP_M,
    chunk_pairs: Annotated[int | None, typer.Option(
        help="Origin-destination pairs per written block (memory bound; default "
             "2,000,000).")] = None,
    gtfs: Annotated[list[Path] | None, typer.Option(
        "--gtfs", help="GTFS .zip or folder (transit modes); repeatable or comma-separated.")]
        = None,
    graph: Annotated[Path | None, typer.Option("--graph", help="Stop-level transit graph "
                                               "(.gml, igraph).")] = None,
    ns_rail: Annotated[Path | None, typer.Option("--ns-rail", help="Folder with NS "
                                                 "network.json and tariff CSV.")] = None,
    date: Annotated[str | None, typer.Option(help="Service date YYYY-MM-DD (GTFS).")] = None,
    window: Annotated[str, typer.Option(help="Departure window HH:MM-HH:MM (GTFS).")] =
        "-".join(defaults.TRANSIT_WINDOW),
    departure: Annotated[str | None, typer.Option(
        help="One departure time HH:MM instead of --window (GTFS).")] = None,
    step: Annotated[int | None, typer.Option(help="Departure step in seconds (GTFS).")] = None,
    percentiles: PercentilesOpt = None,
    max_rides: MaxRidesOpt = None,
    max_transfers: MaxTransfersOpt = None,
    walk_speed: WalkSpeedOpt = None,
    bike_speed: BikeSpeedOpt = None,
    transfer_radius: TransferRadiusOpt = None,
    board_slack: BoardSlackOpt = None,
    max_walk: MaxWalkOpt = None,
    max_bike: MaxBikeOpt = None,
    max_egress: MaxEgressOpt = None,
    egress: EgressOpt = None,
    bike_network: Annotated[Path | None, typer.Option(
        help="Street network file for cycling access legs (bike_transit).")] = None,
    crs: WorkingCrsOpt = None,
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Travel-time matrix between origins and destinations (points or polygons), by one
    mode. Writes every pair (from_id, to_id, travel_time in minutes; one
    travel_time_p{p} column per percentile for transit; NaN = unreachable within
    --max-time) block by block of origins, so large matrices run in bounded memory.

    Example: ruimtekit matrix --origins homes.gpkg --destinations schools.gpkg
    --network links.csv --mode bike --max-time 30 -o bike.parquet
    """
    args = dict(locals())
    from ruimtekit import _commands

    _setup_logging(quiet)
    res = _commands.run_matrix(args)
    if not quiet:
        typer.echo(f"wrote {res['path']} ({res['origins']} × {res['destinations']} pairs, "
                   f"{res['reachable']:,} reachable)")


# --- borrowed-size -------------------------------------------------------------------
@app.command("borrowed-size")
@friendly_errors
def borrowed_size_cmd(
    zones: Annotated[Path, typer.Argument(
        help="Zones file (polygons, e.g. CBS gemeenten; any CRS, read as EPSG:28992).")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output GeoPackage (layers borrowed_size, catchments; EPSG:28992). "
        "CSV tables are written beside it as <name>_<table>.csv.")] = Path("borrowed_size.gpkg"),
    mass: Annotated[list[str] | None, typer.Option(
        "--mass", help="Mass column(s) (counts) to measure; repeat. Default: population, jobs.")
    ] = None,
    cutoff: Annotated[float, typer.Option(
        "--cutoff", help="Commuting tolerance T in minutes (reachable when t <= T).")] = (
        defaults.COMMUTE_CUTOFF_MIN),
    mode: Annotated[list[str] | None, typer.Option(
        "--mode", help="Crow-fly mode(s): car, bike, e_bike, walk; repeat. Default: car.")
    ] = None,
    indicators: Annotated[Path | None, typer.Option(
        "--indicators", help="Gemeente indicators JSON (CBS KWB 2021, nlstat structure): sets "
        "population and establishments (needs --wijk-centroids).")] = None,
    jobs_file: Annotated[Path | None, typer.Option(
        "--jobs-file", help="CBS banen CSV per wijk (wk_code) or gemeente (gm_code), 2015 codes, "
        "column banen_werkplaats (needs --wijk-centroids).")] = None,
    wijk_centroids: Annotated[Path | None, typer.Option(
        "--wijk-centroids", help="CBS 2015 wijk centroid points (code = WK + 6 digits).")] = None,
    population_points: Annotated[Path | None, typer.Option(
        "--population-points", help="Finer areas with inhabitants (e.g. CBS PC4) for "
        "population-weighted zone points instead of centroids.")] = None,
    flows: Annotated[Path | None, typer.Option(
        "--flows", help="Observed home→work jobs by wijk (wk_woon, wk_werk, banen; Parquet/CSV) "
        "for the observed-vs-modelled catchment tables.")] = None,
    outcome: Annotated[str, typer.Option(
        "--outcome", help="Regression outcome column (per inhabitant, logged): amenities "
        "(culture & recreation establishments), jobs or establishments.")
    ] = "amenities",
    threshold_sd: Annotated[float, typer.Option(
        "--threshold-sd", help="Residual SD beyond which a city is 'borrowing'/'shadow'.")
    ] = defaults.SHADOW_THRESHOLD_SD,
    quiet: QuietOpt = False,
) -> None:
    """Borrowed size per zone: own, reachable (within CUTOFF minutes) and borrowed mass,
    ring masses (0-10, 10-25, 25-50 km), time bands, potential, agglomeration-shadow
    indicators, the borrowed-size vs shadow regression with residual Moran's I and LM
    diagnostics, sensitivity table, bootstrap class stability, decay fitted from the flows,
    inequality measures and catchment polygons.

    Example (all 345 gemeenten, bundled CBS data):
    ruimtekit borrowed-size data/raw/cbs_gemeenten_2022.geojson
    --indicators data/raw/cbs_kwb2021_gemeente_indicators.json
    --jobs-file data/raw/cbs_gemeente_banen_2014.csv
    --wijk-centroids data/raw/cbs_wijk_centroids_2015.geojson
    --flows data/raw/cbs_commute_wijk_2014.parquet -o out/borrowed_size.gpkg
    """
    from ruimtekit import _commands, _io
    from ruimtekit.analysis import borrowed_size
    from ruimtekit.io import layers

    _setup_logging(quiet)
    _io.check_output_file(out)
    cfg = borrowed_size.make_config(
        zones=zones.stem, indicators_file=indicators, jobs_file=jobs_file,
        wijk_centroids=wijk_centroids, observed_flows=flows, population_points=population_points,
        mass_columns=_commands.split_list(mass) or ["population", "jobs"],
        modes=_commands.split_list(mode) or ["car"], cutoff_min=cutoff,
        catchment_cutoffs_min=[cutoff], outcome=outcome, threshold_sd=threshold_sd,
    )
    res = borrowed_size.analyse(layers.read_zones(zones), cfg)
    for path in borrowed_size.write_outputs(res, out):
        typer.echo(str(path))
    if not quiet:
        for note in res.notes:
            err_console.print(f"note: {note}", highlight=False, markup=False)


# --- candidates ----------------------------------------------------------------------
@app.command("candidates")
@friendly_errors
def candidates_cmd(
    zones: Annotated[Path, typer.Option(
        "--zones", help="Zones (CBS buurten/wijken or any polygons with a density column, "
        "e.g. address_density in addresses/km²); FILE.gpkg:LAYER picks a layer.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output GeoPackage (EPSG:28992): candidates, "
        "candidates_excluded, densification_zones, candidates_summary_wijk/_gemeente; the "
        "stability table goes to <out stem>_stability.csv.")],
    vacancy: Annotated[Path | None, typer.Option(
        "--vacancy", help="Vacancy register (points or building polygons: object id, "
        "function, floor area m², vacant-since date).")] = None,
    synthetic_: Annotated[bool, typer.Option(
        "--synthetic", help="Generate a SYNTHETIC vacancy sample from the zones' CBS "
        "establishment counts instead of --vacancy (labelled synthetic, never real).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic sample.")] = 0,
    accessibility: Annotated[list[Path] | None, typer.Option(
        "--accessibility", "-a", help="Accessibility GeoPackage(s): layers with zone_id and "
        "measures such as jobs_45min_transit, jobs_45min_bike, one row per zone (repeatable); "
        "FILE.gpkg:LAYER picks one layer.")] = None,
    stations: Annotated[Path | None, typer.Option(
        "--stations", help="Stations with a station type (vector/CSV file, or a t-rain "
        "network.json with the type derived from service links).")] = None,
    constraint: Annotated[list[Path] | None, typer.Option(
        "--constraint", help="Polygon layer whose area excludes candidates (e.g. Natura "
        "2000, noise zones); repeatable.")] = None,
    weights: Annotated[str | None, typer.Option(
        "--weights", help="Weight overrides, e.g. station=0.4,transit_access=0.3 "
        "(criteria: transit_access, bike_access, station, underuse, structural, "
        "floor_area).")] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Reference date YYYY-MM-DD for vacancy duration (default today).")
    ] = None,
    m2_per_dwelling: Annotated[float, typer.Option(
        "--m2-per-dwelling", help="Floor area per potential dwelling (m²).")] = (
        defaults.M2_PER_DWELLING),
    top_n: Annotated[int, typer.Option("--top-n", help="Top-N size of the stability report.")
                     ] = defaults.CANDIDATES_TOP_N,
    quiet: QuietOpt = False,
) -> None:
    """Rank vacant offices/shops as transformation and densification candidates.

    Scores each object on job accessibility (zone percentile), distance to intercity /
    sprinter / metro stations (metres, distance decay by type), under-used density,
    structural vacancy (≥ 3 calendar years) and floor area (m²); writes ranked candidates
    with a score (0–1), rank and reason, excluded objects with the reason, the dwelling
    potential per zone (floor area / m² per dwelling) with wijk and gemeente summaries
    (share within station radii vs the Stedenbaan 60–80 %), and a weight-stability table.
    """
    import datetime as dt

    from ruimtekit import _commands, _io
    from ruimtekit.analysis import candidates
    from ruimtekit.io import layers, synthetic

    _setup_logging(quiet)
    _io.check_output_file(out)
    if synthetic_ == (vacancy is not None):
        raise typer.BadParameter("give exactly one of --vacancy FILE or --synthetic")
    try:
        ref = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} is not a YYYY-MM-DD date") from None
    weight_overrides = candidates.parse_weights(weights)
    cfg = candidates.CandidatesConfig(
        vacancy=None if vacancy is None else str(vacancy), synthetic=synthetic_, seed=seed,
        as_of=ref, m2_per_dwelling=m2_per_dwelling, top_n=top_n)
    from ruimtekit import _layerpath

    zpath, zlayer = _layerpath.split(zones)
    z = layers.read_zones(zpath, layer=zlayer)
    if vacancy is None:
        vac = synthetic.vacancy_sample(z, seed=seed, as_of=ref)
    else:
        vac = layers.read_vacancy(vacancy)
    acc = [f for p in _commands.split_list(accessibility)
           for f in candidates.read_accessibility_gpkg(Path(p))]
    st = None
    if stations is not None:
        st = (layers.read_ns_stations(stations) if stations.suffix.lower() == ".json"
              else layers.read_stations(stations))
    cons = {Path(p).stem: candidates.read_constraint(Path(p))
            for p in _commands.split_list(constraint)}
    result = candidates.analyse(vac, z, acc, st, cons, config=cfg,
                                weights=weight_overrides, as_of=ref)
    paths = candidates.write_outputs(result, out)
    for note in result.notes:
        err_console.print(f"note: {note}", highlight=False, markup=False)
    if not quiet:
        c = result.candidates
        typer.echo(f"{len(c)} candidates ranked, {len(result.candidates_excluded)} excluded; "
                   f"wrote {paths['gpkg']} and {paths['stability']}")
        for row in c.head(5).itertuples():
            typer.echo(f"  {row.rank:>3}  {row.score:.3f}  {row.object_id}: {row.reason}")


# --- map -----------------------------------------------------------------------------
@app.command("map")
@friendly_errors
def map_cmd(
    study: Annotated[Path | None, typer.Argument(
        help="Study file (YAML) whose outputs to map; default: the bundled demo study.")] = None,
    gpkg: Annotated[Path | None, typer.Option(
        "--gpkg", help="Study GeoPackage (EPSG:28992) with the result layers; default: "
        "<output_dir>/<study>/<study>.gpkg. CSV tables and provenance.json (notes, sources) "
        "beside it are read too. FILE.gpkg:LAYER maps one layer.")] = None,
    layer: Annotated[list[str] | None, typer.Option(
        "--layer", help="Map only this result layer (repeatable; default: every layer).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Maps folder to (re)write: one HTML map per result layer, "
        "index.html, figures/ (PNG, SVG); default: <maps_dir>/<study>/.")] = None,
    offline: Annotated[bool, typer.Option(
        "--offline/--online", help="Offline: Leaflet served from <out>/lib/ (works without "
        "internet). Online: Leaflet from a CDN.")] = True,
    basemap: Annotated[str | None, typer.Option(
        "--basemap", help="pdok (BRT-Achtergrondkaart), osm or none (no tiles). Default: the "
        "study's maps.basemap (pdok); without internet the maps fall back to no background "
        "and say so.")] = None,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="Also write static figures.")] = True,
    quiet: QuietOpt = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Write into an existing non-empty folder that ruimtekit did not "
        "make (same-named files are replaced; nothing else is removed).")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Rebuild web maps and figures from a study's processed outputs (no recomputation).

    Reads the study GeoPackage, its CSV tables and provenance.json and writes
    <out>/index.html with a choropleth per zone layer (classed legend with units, e.g.
    jobs within 45 min (car)), marker maps for candidates, stations and catchment outlines,
    and PNG/SVG figures. The folder is replaced only when everything was written.
    """
    from ruimtekit import _io
    from ruimtekit.report import maps

    _setup_logging(quiet, verbose)
    if out is not None:
        _io.check_output_dir(out, overwrite, "maps")
    config = None
    stations = None
    if gpkg is not None:
        from ruimtekit import _layerpath

        gpkg, one = _layerpath.split(gpkg)
        layer = [*(layer or []), *([one] if one else [])] or None
    if gpkg is None or out is None or study is not None:
        from ruimtekit import study as _study

        s, root = _study.load_study(study)
        config = s.maps
        stations = maps.study_station_layers(s, root)
        base_out = (root / s.output_dir) if not Path(s.output_dir).is_absolute() else Path(s.output_dir)
        base_maps = (root / s.maps_dir) if not Path(s.maps_dir).is_absolute() else Path(s.maps_dir)
        gpkg = gpkg or base_out / s.name / f"{s.name}.gpkg"
        out = out or base_maps / s.name
    _io.check_output_dir(out, overwrite, "maps")
    config = (config or maps.MapsConfig()).model_copy(update={
        "offline": offline, "figures": figures, **({"basemap": basemap} if basemap else {})})
    index = maps.rebuild(gpkg, out, config=config, overwrite=overwrite, layers=stations,
                         only=layer)
    if not quiet:
        typer.echo(f"maps: {index}")


# --- calibrate (crow-fly model against reference times) ------------------------------
@app.command("calibrate")
@friendly_errors
def calibrate_cmd(
    reference: Annotated[Path, typer.Argument(
        help="Reference OD table (CSV/Parquet): one row per pair with door-to-door minutes "
             "and points (lon/lat or RD New x/y) or zone ids (with --zones). Empty or "
             "negative minutes (OTP: -1) = no route, left out.")],
    mode: Annotated[str, typer.Option("--mode", help="Mode to fit (walk, bike, e_bike, car); "
                                      "its default model is the 'before'.")] = "car",
    output: Annotated[Path, typer.Option("-o", "--output", help="Study-file snippet (YAML) "
                                         "with the fitted crow-fly model.")]
        = Path("calibration.yaml"),
    table: Annotated[Path | None, typer.Option("--table", help="Also write the before/after "
                                               "error table by crow-fly band (CSV).")] = None,
    zones: Annotated[Path | None, typer.Option("--zones", help="Zones file: join the "
                                               "reference's origin/destination ids to its "
                                               "zones (population point or centroid).")] = None,
    crs: Annotated[int | None, typer.Option("--crs", help="EPSG of the coordinates, 4326 "
                                            "(lon/lat) or 28992 (RD New, metres); default: "
                                            "recognised.")] = None,
    origin_column: Annotated[str | None, typer.Option(help="Origin id column.")] = None,
    destination_column: Annotated[str | None, typer.Option(help="Destination id column.")]
        = None,
    origin_x: Annotated[str | None, typer.Option(help="Origin x/lon column.")] = None,
    origin_y: Annotated[str | None, typer.Option(help="Origin y/lat column.")] = None,
    destination_x: Annotated[str | None, typer.Option(help="Destination x/lon column.")] = None,
    destination_y: Annotated[str | None, typer.Option(help="Destination y/lat column.")] = None,
    minutes_column: Annotated[str | None, typer.Option(help="Travel-time column (minutes).")]
        = None,
    route_km_column: Annotated[str | None, typer.Option(
        help="Route-length column (km); gives the detour factor (OTP: distance).")] = None,
    breakpoint: Annotated[list[float] | None, typer.Option(
        "--breakpoint", help="Speed-curve breakpoint, network km (repeatable; default: the "
                             "mode's default curve).")] = None,
    detour: Annotated[float | None, typer.Option(
        "--detour", help="Hold the detour factor at this value (default: from route lengths, "
                         "else the default model's).")] = None,
    fixed_min: Annotated[float | None, typer.Option(
        "--fixed-min", help="Hold the fixed minutes (parking, terminal) at this value "
                            "(default: fitted).")] = None,
    network: Annotated[str | None, typer.Option(
        "--network", help="Fit this street network of --study instead of the crow-fly "
                          "model: link-speed factor, urban junction delay (s), zone "
                          "connector speed (km/h).")] = None,
    study: Annotated[Path | None, typer.Option(
        "--study", help="Study file (YAML) defining --network.")] = None,
    land_layer: Annotated[str | None, typer.Option(
        "--land-layer", help="Zones layer of --study whose land parts keep connectors on "
                             "their island.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Fit the crow-fly model (detour factor, speed curve in km/h by network km, fixed
    minutes) of one mode to reference door-to-door times, print the error before and after
    by crow-fly distance band (km) and write the fitted model as a study-file section (YAML)
    to paste under an accessibility block. With --network (and --study), fit that street
    network's parameters instead (routes through zone connectors)."""
    from ruimtekit import calibrate

    if network is not None:
        _setup_logging(quiet)
        source, nopts = calibrate.parse_network_settings(
            dict(path=reference, columns=dict(
                origin=origin_column, destination=destination_column, origin_x=origin_x,
                origin_y=origin_y, destination_x=destination_x, destination_y=destination_y,
                minutes=minutes_column), crs=crs, zones=zones),
            dict(study=study, network=network, land_layer=land_layer))
        nfit = calibrate.fit_network(calibrate.read_reference(source), nopts)
        calibrate.write_outputs(nfit, output, table)
        if not quiet:
            typer.echo(calibrate.format_table(nfit.table))
            typer.echo("")
            typer.echo(calibrate.network_snippet(nfit))
            typer.echo(f"wrote {output}" + (f" and {table}" if table else ""))
        return

    _setup_logging(quiet)
    cols = dict(origin=origin_column, destination=destination_column, origin_x=origin_x,
                origin_y=origin_y, destination_x=destination_x, destination_y=destination_y,
                minutes=minutes_column, route_km=route_km_column)
    source, options = calibrate.parse_settings(
        dict(path=reference, columns=cols, crs=crs, zones=zones),
        dict(mode=mode, breakpoints_km=breakpoint or None, detour_factor=detour,
             fixed_min=fixed_min))
    fit = calibrate.calibrate(source, options)
    calibrate.write_outputs(fit, output, table)
    if not quiet:
        typer.echo(f"{fit.source}: {fit.n_pairs} pairs; error by crow-fly band "
                   f"(relative error = (model - reference) / reference; bias in minutes)")
        typer.echo(calibrate.format_table(fit.table))
        typer.echo("")
        typer.echo(calibrate.study_snippet(fit))
        typer.echo(f"wrote {output}" + (f" and {table}" if table else ""))


# --- fetch ---------------------------------------------------------------------------
@app.command()
@friendly_errors
def fetch(
    region: Annotated[str, typer.Argument(
        help="Gemeente name or code (Delft, GM0503), place, 'provincie Utrecht'/PV26, COROP "
             "name/CR27, PC4, bbox 'xmin,ymin,xmax,ymax' (RD m or WGS84 lon/lat) or a "
             "polygon file.")],
    buffer_km: Annotated[float, typer.Option(
        "--buffer-km", help=f"Catchment buffer around the region in km (default "
                            f"{defaults.BUFFER_KM:g}: the 45-minute car reach).")] = (
        defaults.BUFFER_KM),
    sources_: Annotated[list[str] | None, typer.Option(
        "--sources", help="Subset of cbs,statline,bag,osm,gtfs,ns (repeatable or "
        "comma-separated; default all).")] = None,
    year: Annotated[int, typer.Option(
        "--year", help="Year of the CBS wijk/buurt boundaries and Kerncijfers table.")] = (
        defaults.DATA_YEAR),
    out: Annotated[Path | None, typer.Option(
        "--out", help="Cache folder (default data/raw/<region>).")] = None,
    osm_method: Annotated[str, typer.Option(
        "--osm-method", help="auto (Overpass for catchments ≤ 400 km², else Geofabrik), "
                             "geofabrik or overpass.")] = "auto",
    offline: Annotated[bool, typer.Option(
        "--offline", help="Use only the cache; never touch the network.")] = False,
    refresh: Annotated[bool, typer.Option(
        "--refresh", help="Download every source again even when cached.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Fetch, cache and version the real open-data inputs of a Dutch region.

    Downloads CBS buurt polygons (PDOK) and Kerncijfers (StatLine), BAG offices/shops,
    OpenStreetMap, GTFS-NL and railway stations into the cache folder with SHA-256
    checksums and a metadata record per file (source, URL, time UTC, licence), derives
    canonical layers (EPSG:28992) and writes <out>/study.yaml for `ruimtekit run`.
    """
    from ruimtekit.io import fetch as fetch_mod

    _setup_logging(quiet)
    from ruimtekit import _commands

    sources_ = ",".join(_commands.split_list(sources_)) or "cbs,statline,bag,osm,gtfs,ns"
    res = fetch_mod.fetch_region(
        region, buffer_km=buffer_km, sources_=sources_, year=year, out=out,
        osm_method=osm_method,
        downloader=fetch_mod.Downloader(offline=offline, quiet=quiet, refresh=refresh))
    if not quiet:
        typer.echo(f"region {res.region.name}: {res.region.area_km2:.1f} km², catchment "
                   f"{res.region.buffered_area_km2:.0f} km² "
                   f"({len(res.region.catchment_gemeente_codes)} gemeenten)")
        for name, path in res.layers.items():
            typer.echo(f"  {name}: {path}")
        typer.echo(f"study file: {res.study_path}  (run: ruimtekit run {res.study_path})")



def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RuimtekitError as exc:  # pragma: no cover - safety net
        err_console.print(f"error: {exc}")
        sys.exit(2)
