"""Command-line interface (typer): a thin layer over the Python API.

Every command catches :class:`ruimtekit._errors.RuimtekitError` and prints its message
(file, problem, fix) without a traceback, exiting with code 2.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ._errors import RuimtekitError

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

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Run the searches on Dask: local:N (N local worker processes) or the "
    "address of a running scheduler (tcp://host:8786). Default: this process only.")]


VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Details: every module's "
                                          "INFO and DEBUG messages, with logger names.")]

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


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ruimtekit errors into a clear message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RuimtekitError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; earlier outputs were left intact")
            raise typer.Exit(code=130) from None

    return wrapper


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        from . import __version__

        typer.echo(__version__)
        raise typer.Exit()


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
    from . import pipeline

    _setup_logging(quiet, verbose)
    pipeline.run(study, quiet=quiet, scheduler=scheduler)


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
    cutoff: Annotated[list[float] | None, typer.Option("--cutoff", help="Time budget in "
                                                       "minutes (repeatable).")] = None,
    decay: Annotated[list[str] | None, typer.Option("--decay", help="Gravity decay, e.g. "
                                                    "exponential:beta=0.05 or "
                                                    "logistic:beta=0.1,t0=30 (repeatable; t "
                                                    "in minutes).")] = None,
    opportunities: Annotated[str, typer.Option("--opportunities", help="Opportunity column "
                                               "of the zones file, or a file of points/"
                                               "zones carrying --opportunity-column.")] = "jobs",
    opportunity_column: Annotated[str, typer.Option(help="Opportunity column when "
                                                    "--opportunities is a file.")] = "jobs",
    max_snap_m: Annotated[float, typer.Option(help="Maximum snapping distance to the "
                                              "network (metres).")] = 500.0,
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Opportunities reachable from every zone within each time budget (minutes), by one
    mode: over a road network, with the crow-fly model or from a skim. Writes one row per
    zone with columns {opportunity}_{cutoff}min_{mode} (and decays), snap_distance_m, to
    OUTPUT (EPSG:28992); unsnapped zones are listed in the log."""
    from . import _io, accessibility, distributed

    _setup_logging(quiet)
    with distributed.session(scheduler) as client:
        gdf = accessibility.run_cli(
            zones=zones, network=network, mode=mode, cutoffs=cutoff or [45.0],
            decays=decay or [], opportunities=opportunities,
            opportunity_column=opportunity_column, max_snap_m=max_snap_m, scheduler=client,
        )
    with _io.atomic_path(output) as tmp:
        gdf.to_file(tmp, layer="access", driver="GPKG")
    if not quiet:
        typer.echo(f"wrote {output} ({len(gdf)} zones)")


# --- transit -------------------------------------------------------------------------
@app.command("transit")
@friendly_errors
def transit_cmd(
    zones: Annotated[Path, typer.Option("--zones", help="Zones file (GeoPackage/GeoParquet/"
                                        "GeoJSON; any CRS, converted to EPSG:28992).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output GeoPackage (layer "
                                         "'transit', EPSG:28992).")],
    gtfs: Annotated[Path | None, typer.Option("--gtfs", help="GTFS .zip or folder.")] = None,
    graph: Annotated[Path | None, typer.Option("--graph", help="Stop-level transit graph "
                                               "(.gml, igraph).")] = None,
    ns_rail: Annotated[Path | None, typer.Option("--ns-rail", help="Folder with NS "
                                                 "network.json and tariff CSV.")] = None,
    date: Annotated[str | None, typer.Option(help="Service date YYYY-MM-DD (GTFS).")] = None,
    window: Annotated[str, typer.Option(help="Departure window HH:MM-HH:MM (GTFS).")] =
        "07:00-09:00",
    step: Annotated[int, typer.Option(help="Departure step in seconds (GTFS).")] = 60,
    percentiles: Annotated[str, typer.Option(help="Travel-time percentiles over the "
                                             "window, comma-separated (GTFS).")] = "50",
    max_transfers: Annotated[int, typer.Option(help="Maximum transfers.")] = 5,
    access: Annotated[str, typer.Option(help="Access modes: walk → *_transit, bike → "
                                        "*_bike_transit (comma-separated).")] = "walk",
    cutoffs: Annotated[str, typer.Option(help="Time budgets in minutes, comma-separated.")]
        = "30,45,60",
    opportunity: Annotated[str, typer.Option(help="Opportunity column of the zones file "
                                             "(e.g. jobs, establishments).")] = "jobs",
    quiet: QuietOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Transit accessibility per zone: opportunities reachable within each time budget
    (minutes) by walk/bike + transit + walk, from a GTFS timetable (range-RAPTOR over the
    departure window, percentiles of travel time), a stop-level transit graph (waiting =
    half the headway) or the NS rail network. Writes one row per zone with columns
    {opportunity}_{cutoff}min_transit / _bike_transit to OUTPUT (EPSG:28992)."""
    from . import _io, distributed, layers, transit
    from ._errors import InputError

    _setup_logging(quiet)
    given = [(k, p) for k, p in (("gtfs", gtfs), ("transit_graph", graph),
                                  ("ns_rail", ns_rail)) if p is not None]
    if len(given) != 1:
        raise InputError(None, "give exactly one of --gtfs, --graph, --ns-rail",
                         "choose the transit network to route on")
    kind, path = given[0]
    try:
        w0, w1 = window.split("-")
        pcts = [float(p) for p in percentiles.split(",")]
        cuts = [float(c) for c in cutoffs.split(",")]
    except ValueError:
        raise InputError(None, "cannot parse --window/--percentiles/--cutoffs",
                         "use e.g. --window 07:00-09:00 --percentiles 5,50,95 "
                         "--cutoffs 30,45") from None
    z = layers.read_zones(zones)
    if opportunity not in z.columns:
        raise InputError(zones, f"no column {opportunity!r}",
                         f"choose --opportunity from {', '.join(map(str, z.columns))}")
    net = transit.build_transit_network(kind, path, date=date, window=(w0, w1))
    out = z[["zone_id", "geometry"]].copy()
    with distributed.session(scheduler) as client:
        for mode in [m.strip() for m in access.split(",") if m.strip()]:
            df = transit.zone_accessibility(
                net, z, z[opportunity].to_numpy(dtype=float), opportunity=opportunity,
                access_mode=mode, cutoffs_min=cuts, window=(w0, w1), step_s=step,
                percentiles=pcts, max_transfers=max_transfers, scheduler=client)
            for c in df.columns[1:]:
                out[c] = df[c].to_numpy()
    with _io.atomic_path(output) as tmp:
        out.to_file(tmp, layer="transit", driver="GPKG")
    typer.echo(f"wrote {output} ({len(out)} zones, {len(out.columns) - 2} columns)")


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
        "--cutoff", help="Commuting tolerance T in minutes (reachable when t <= T).")] = 45.0,
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
        "--outcome", help="Regression outcome column (per inhabitant, logged).")
    ] = "establishments",
    threshold_sd: Annotated[float, typer.Option(
        "--threshold-sd", help="Residual SD beyond which a city is 'borrowing'/'shadow'.")
    ] = 0.5,
    quiet: QuietOpt = False,
) -> None:
    """Borrowed size per zone: own, reachable (within CUTOFF minutes) and borrowed mass,
    ring masses (0-10, 10-25, 25-50 km), time bands, potential, agglomeration-shadow
    indicators, the borrowed-size vs shadow regression (HC1) and catchment polygons.

    Example (all 345 gemeenten, bundled CBS data):
    ruimtekit borrowed-size data/raw/cbs_gemeenten_2022.geojson
    --indicators data/raw/cbs_kwb2021_gemeente_indicators.json
    --jobs-file data/raw/cbs_gemeente_banen_2014.csv
    --wijk-centroids data/raw/cbs_wijk_centroids_2015.geojson
    --flows data/raw/cbs_commute_wijk_2014.parquet -o out/borrowed_size.gpkg
    """
    from . import borrowed_size, layers

    _setup_logging(quiet)
    cfg = borrowed_size.make_config(
        zones=zones.stem, indicators_file=indicators, jobs_file=jobs_file,
        wijk_centroids=wijk_centroids, observed_flows=flows, population_points=population_points,
        mass_columns=mass or ["population", "jobs"], modes=mode or ["car"], cutoff_min=cutoff,
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
        "--m2-per-dwelling", help="Floor area per potential dwelling (m²).")] = 75.0,
    top_n: Annotated[int, typer.Option("--top-n", help="Top-N size of the stability report.")
                     ] = 20,
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

    from . import candidates, layers, synthetic

    _setup_logging(quiet)
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
    from . import _layerpath

    zpath, zlayer = _layerpath.split(zones)
    z = layers.read_zones(zpath, layer=zlayer)
    if vacancy is None:
        vac = synthetic.vacancy_sample(z, seed=seed, as_of=ref)
    else:
        vac = layers.read_vacancy(vacancy)
    acc = [f for p in (accessibility or []) for f in candidates.read_accessibility_gpkg(p)]
    st = None
    if stations is not None:
        st = (layers.read_ns_stations(stations) if stations.suffix.lower() == ".json"
              else layers.read_stations(stations))
    cons = {p.stem: candidates.read_constraint(p) for p in (constraint or [])}
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
    verbose: VerboseOpt = False,
) -> None:
    """Rebuild web maps and figures from a study's processed outputs (no recomputation).

    Reads the study GeoPackage, its CSV tables and provenance.json and writes
    <out>/index.html with a choropleth per zone layer (classed legend with units, e.g.
    jobs within 45 min (car)), marker maps for candidates, stations and catchment outlines,
    and PNG/SVG figures. The folder is replaced only when everything was written.
    """
    from . import maps

    _setup_logging(quiet, verbose)
    config = None
    stations = None
    if gpkg is not None:
        from . import _layerpath

        gpkg, one = _layerpath.split(gpkg)
        layer = [*(layer or []), *([one] if one else [])] or None
    if gpkg is None or out is None or study is not None:
        from . import study as _study

        s, root = _study.load_study(study)
        config = s.maps
        stations = maps.study_station_layers(s, root)
        base_out = (root / s.output_dir) if not Path(s.output_dir).is_absolute() else Path(s.output_dir)
        base_maps = (root / s.maps_dir) if not Path(s.maps_dir).is_absolute() else Path(s.maps_dir)
        gpkg = gpkg or base_out / s.name / f"{s.name}.gpkg"
        out = out or base_maps / s.name
    index = maps.rebuild(gpkg, out, offline=offline, config=config, figures=figures, basemap=basemap,
                         layers=stations, only=layer)
    if not quiet:
        typer.echo(f"maps: {index}")


# --- fetch ---------------------------------------------------------------------------
@app.command()
@friendly_errors
def fetch(
    region: Annotated[str, typer.Argument(
        help="Gemeente name or code (Delft, GM0503), place, 'provincie Utrecht'/PV26, COROP "
             "name/CR27, PC4, bbox 'xmin,ymin,xmax,ymax' (RD m or WGS84 lon/lat) or a "
             "polygon file.")],
    buffer_km: Annotated[float, typer.Option(
        "--buffer-km", help="Catchment buffer around the region in km (default 50: the "
                            "45-minute car reach).")] = 50.0,
    sources_: Annotated[str, typer.Option(
        "--sources", help="Comma-separated subset of cbs,statline,bag,osm,gtfs,ns.")]
        = "cbs,statline,bag,osm,gtfs,ns",
    year: Annotated[int, typer.Option(
        "--year", help="Year of the CBS wijk/buurt boundaries and Kerncijfers table.")] = 2023,
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
    from . import fetch as fetch_mod

    _setup_logging(quiet)
    res = fetch_mod.fetch_region(region, buffer_km=buffer_km, sources_=sources_, year=year,
                                 out=out, offline=offline, quiet=quiet, refresh=refresh,
                                 osm_method=osm_method)
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
