"""A corpus of bad and unusual inputs through every subcommand (issue #15).

Each case runs the CLI in-process and asserts: exit code 2 with a one-line `error:` message
(or success where the input is unusual but valid), no traceback, no unexpected exception,
no file touched outside the output, and no partial output.
"""

from __future__ import annotations

import hashlib
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from ruimtekit.cli import app
from transit_fixtures import HAND_FILES, write_feed, zip_feed

ROOT = Path(__file__).resolve().parents[1]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).split())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    # four Amsterdam-area zones (RD metres) with counts
    z = gpd.GeoDataFrame(
        {"zone_id": ["z1", "z2", "z3", "z4"], "jobs": [100.0, 2000.0, 50.0, 700.0],
         "population": [1000.0, 500.0, 3000.0, 800.0]},
        geometry=[box(119000 + i * 800, 486000, 119700 + i * 800, 486700) for i in range(4)],
        crs=28992)
    z.to_file(d / "zones.gpkg", layer="zones")
    z.to_file(d / "zones.geojson")
    zh = z.copy()
    zh.loc[1, "jobs"] = 1.5e308
    zh.to_file(d / "zones_huge.gpkg")
    zn = z.copy()
    zn.loc[2, "population"] = -5.0
    zn.to_file(d / "zones_negative.gpkg")
    z.iloc[:0].to_file(d / "empty_layer.gpkg", layer="accessibility")
    (d / "empty.gpkg").write_bytes(b"")
    (d / "garbage.gpkg").write_bytes(np.random.default_rng(0).bytes(5000))
    (d / "truncated.geojson").write_text((d / "zones.geojson").read_text()[:300])
    # skims
    (d / "skim_empty.csv").write_text("")
    (d / "skim_header.csv").write_text("origin,destination,time\n")
    pairs = [(a, b) for a in z.zone_id for b in z.zone_id]
    (d / "skim_nl.csv").write_text("origin;destination;time\n" + "".join(
        f"{a};{b};{(0 if a == b else 7.5 + i):.1f}\n".replace(".", ",")
        for i, (a, b) in enumerate(pairs)), encoding="cp1252")
    (d / "skim_nan.csv").write_text("origin,destination,time\nz1,z2,\nz2,z1,5\n")
    (d / "skim_bad.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 50)
    (d / "skim_truncated.csv").write_text("origin,destination,time\nz1,z2,10\nz2,z1,7\n"
                                          "z1,z3,12\n")
    # opportunity tables
    (d / "jobs_table.csv").write_text("zone_id;jobs\nz1;1,5\nz2;3\n", encoding="cp1252")
    (d / "jobs_table_other.csv").write_text("zone_id;jobs\nq1;1,5\nq2;3\n", encoding="cp1252")
    pts = gpd.GeoDataFrame({"jobs": [1.0, 2.0]}, geometry=gpd.points_from_xy(
        [119300, 120100], [486300, 486300]), crs=28992)
    pts.to_file(d / "jobs_points.gpkg")
    # link tables
    from shapely.geometry import LineString

    gpd.GeoDataFrame({"u": [1, 2, 3], "v": [1, 2, 3], "length_m": [100.0] * 3,
                      "speed_kmh": [30.0] * 3},
                     geometry=[LineString([(119000 + i, 486000), (119000 + i, 486000.5)])
                               for i in range(3)], crs=28992).to_file(d / "links_selfloops.gpkg")
    gpd.GeoDataFrame({"u": [1, 2], "v": [2, 1], "travel_time_s": [-5.0, 30.0]},
                     geometry=[LineString([(119000, 486000), (119500, 486000)]),
                               LineString([(119500, 486000), (119000, 486000)])],
                     crs=28992).to_file(d / "links_negative.gpkg")
    (d / "truncated.graphml").write_text("<?xml version='1.0'?><graphml><graph><node id=")
    # GTFS feeds
    zip_feed(write_feed(d / "feed_ok"), d / "feed_ok.zip")
    zero = HAND_FILES["stops.txt"].replace("52.3,4.8", "0.0,0.0", 1)
    zip_feed(write_feed(d / "f0", replace={"stops.txt": zero}), d / "feed_zero.zip")
    lines = HAND_FILES["stops.txt"].splitlines()
    swapped = "\n".join([lines[0]] + [",".join(p[:2] + [p[3], p[2]]) for p in
                                      (ln.split(",") for ln in lines[1:])]) + "\n"
    zip_feed(write_feed(d / "fs", replace={"stops.txt": swapped}), d / "feed_swapped.zip")
    cal = HAND_FILES["calendar.txt"].replace("20240101,20241231", "20241231,20240101")
    zip_feed(write_feed(d / "fc", replace={"calendar.txt": cal}), d / "feed_calendar.zip")
    with zipfile.ZipFile(d / "feed_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for n, t in HAND_FILES.items():
            if n == "stop_times.txt":
                t = t + "T1,07:00:00,07:00:00,A,1\n" * (12 * 2**20 // 25)
            zf.writestr(n, t)
    (d / "not_a_zip.zip").write_text("this is not a zip")
    # borrowed-size / candidates inputs
    (d / "banen_nl.csv").write_text("gm_code;banen_werkplaats\nGM0363;1.234,5\n",
                                    encoding="cp1252")
    (d / "vacancy_empty.csv").write_text("")
    (d / "vacancy_binary.csv").write_bytes(b"\x00\x01\x02" * 100)
    (d / "indicators_bad.json").write_text("{not json")
    # study files
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(9))
    (d / "study_bomb.yaml").write_text(
        "name: bomb\nlayers: {}\nnetworks:\n  w: {kind: links, path: x.csv, mode: walk, "
        "options: {big: *j}}\n".replace("name: bomb\n", "name: bomb\n" + bomb.replace(
            "a: &a", "x0: &a").replace("\nb:", "\nx1:").replace("\nc:", "\nx2:")))
    (d / "study_dupkey.yaml").write_text("name: dup\nlayers:\n  z: {kind: zones, path: a}\n"
                                         "  z: {kind: zones, path: b}\n")
    (d / "study_dupblock.yaml").write_text(
        "name: dupb\nlayers:\n  z: {kind: zones, path: zones.gpkg}\naccessibility:\n"
        "  - {name: a, zones: z, modes: [walk]}\n  - {name: a, zones: z, modes: [bike]}\n")
    (d / "study_invalid.yaml").write_text("name: [unclosed\n")
    (d / "study_list.yaml").write_text("- a\n- b\n")
    (d / "study_binary.yaml").write_bytes(b"\xff\xfe\x00\x00garbage")
    (d / "study_cutoff.yaml").write_text(
        "name: cut\nlayers:\n  z: {kind: zones, path: zones.gpkg}\naccessibility:\n"
        "  - {name: a, zones: z, modes: [walk], cutoffs: [2700]}\n")
    (d / "afile").write_text("i am a file")
    (d / "study_outfile.yaml").write_text(
        f"name: outf\noutput_dir: {d / 'afile'}\nlayers:\n  z: {{kind: zones, path: zones.gpkg}}\n")
    (d / "study_missing_layer.yaml").write_text(
        "name: miss\nlayers:\n  z: {kind: zones, path: nope.gpkg}\naccessibility:\n"
        "  - {name: a, zones: z, modes: [walk]}\n")
    (d / "cp1252_beside").mkdir()
    z.to_file(d / "cp1252_beside" / "demo.gpkg", layer="accessibility")
    (d / "cp1252_beside" / "notes.csv").write_bytes("naam;waarde\ncafé;1,5\n".encode("cp1252"))
    # more unusual inputs
    (d / "garbage.gml").write_text("<graph><node id='1'")
    (d / "empty_dir").mkdir()
    (d / "stations.json").write_text('{"stations": 5}')
    zd = z.copy()
    zd["zone_id"] = ["z1", "z1", "z2", "z3"]
    zd.to_file(d / "zones_dupids.gpkg")
    z.to_crs(4326).set_crs(None, allow_override=True).to_file(d / "zones_nocrs.geojson")
    zf = z.copy()
    zf["geometry"] = zf.geometry.translate(5e6, 5e6)
    zf.to_file(d / "zones_far.gpkg")
    (d / "points.csv").write_text("zone_id,jobs\nz1,5\n")
    (d / "bbox_bad.txt").write_text("1,2,3")
    (d / "flows_bad.parquet").write_bytes(b"PAR1junkPAR1")
    (d / "vacancy_ok.csv").write_text(
        "object_id;function;floor_area_m2;vacant_since;x;y\n"
        "o1;kantoor;1200;01-02-2019;119300;486300\no2;winkel;300,5;2021-06-01;120100;486400\n")
    return d


A = ["access", "--zones", "{d}/zones.gpkg", "--mode", "walk", "-o", "{o}/out.gpkg"]
T = ["transit", "--zones", "{d}/zones.gpkg", "--date", "2024-03-12", "-o", "{o}/t.gpkg"]

# (id, args, expected exit code, text the message must contain)
CASES = [
    ("access-zones-missing", ["access", "--zones", "{d}/nope.gpkg", "--network", "crowfly",
                              "--mode", "walk", "-o", "{o}/a.gpkg"], 2, "not found"),
    ("access-zones-empty-file", ["access", "--zones", "{d}/empty.gpkg", "--network",
                                 "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 2, "empty"),
    ("access-zones-garbage", ["access", "--zones", "{d}/garbage.gpkg", "--network",
                              "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 2, "cannot be read"),
    ("access-zones-truncated", ["access", "--zones", "{d}/truncated.geojson", "--network",
                                "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 2, ""),
    ("access-skim-empty", [*A, "--network", "{d}/skim_empty.csv"], 2, "empty"),
    ("access-skim-header-only", [*A, "--network", "{d}/skim_header.csv"], 2, "no rows"),
    ("access-skim-corrupt-parquet", [*A, "--network", "{d}/skim_bad.parquet"], 2,
     "cannot read"),
    ("access-skim-nan", [*A, "--network", "{d}/skim_nan.csv"], 2, "missing or not numbers"),
    ("access-skim-truncated-cutoff", [*A, "--network", "{d}/skim_truncated.csv",
                                      "--cutoff", "60"], 2, "beyond the longest travel time"),
    ("access-skim-dutch-excel", [*A, "--network", "{d}/skim_nl.csv", "--cutoff", "15"], 0, ""),
    # a table of counts (cp1252, ';', decimal commas) joins to the zones by code (#16)
    ("access-opportunities-table", [*A, "--network", "crowfly", "--opportunities",
                                    "{d}/jobs_table.csv"], 0, ""),
    ("access-opportunities-table-unmatched", [*A, "--network", "crowfly", "--opportunities",
                                              "{d}/jobs_table_other.csv"], 2,
     "none of the 2 codes"),
    ("access-opportunity-points", [*A, "--network", "crowfly", "--opportunities",
                                   "{d}/jobs_points.gpkg"], 0, ""),
    ("access-huge-opportunities", ["access", "--zones", "{d}/zones_huge.gpkg", "--network",
                                   "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 2,
     "implausibly large"),
    ("access-cutoff-beyond-day", [*A, "--network", "crowfly", "--cutoff", "2700"], 2,
     "beyond the maximum travel time"),
    ("access-cutoff-negative", [*A, "--network", "crowfly", "--cutoff", "-5"], 2,
     "must be positive"),
    ("access-out-is-folder", ["access", "--zones", "{d}/zones.gpkg", "--network", "crowfly",
                              "--mode", "walk", "-o", "{d}"], 2, "is a folder"),
    ("access-out-below-file", ["access", "--zones", "{d}/zones.gpkg", "--network", "crowfly",
                               "--mode", "walk", "-o", "{d}/afile/x.gpkg"], 2, "is a file"),
    ("access-links-selfloops", [*A, "--network", "{d}/links_selfloops.gpkg"], 2, "self-loops"),
    ("access-links-negative", ["access", "--zones", "{d}/zones.gpkg", "--mode", "car", "-o",
                               "{o}/a.gpkg", "--network", "{d}/links_negative.gpkg"], 2,
     "negative travel times"),
    ("access-graphml-truncated", [*A, "--network", "{d}/truncated.graphml"], 2, ""),
    ("access-decay-garbage", [*A, "--network", "crowfly", "--decay", "banana"], 2, "decay"),
    ("access-mode-garbage", ["access", "--zones", "{d}/zones.gpkg", "--mode", "hovercraft",
                             "--network", "crowfly", "-o", "{o}/a.gpkg"], 2, ""),
    ("access-network-missing", [*A, "--network", "{d}/nope.osm.pbf"], 2, ""),
    ("transit-zip-bomb", [*T, "--gtfs", "{d}/feed_bomb.zip"], 2, "compression ratio"),
    ("transit-stops-zero", [*T, "--gtfs", "{d}/feed_zero.zip"], 2, "at 0,0"),
    ("transit-stops-swapped", [*T, "--gtfs", "{d}/feed_swapped.zip"], 2, "swapped"),
    ("transit-calendar-reversed", [*T, "--gtfs", "{d}/feed_calendar.zip"], 2,
     "before it starts"),
    ("transit-window-reversed", [*T, "--gtfs", "{d}/feed_ok.zip", "--window", "09:00-07:00"],
     2, "ends before"),
    ("transit-not-a-zip", [*T, "--gtfs", "{d}/not_a_zip.zip"], 2, "not a valid ZIP"),
    ("transit-bad-date", ["transit", "--zones", "{d}/zones.gpkg", "--date", "2024-13-45",
                          "--gtfs", "{d}/feed_ok.zip", "-o", "{o}/t.gpkg"], 2, "date"),
    ("transit-bad-percentiles", [*T, "--gtfs", "{d}/feed_ok.zip", "--percentiles", "abc"], 2,
     "not a number"),
    ("transit-two-networks", [*T, "--gtfs", "{d}/feed_ok.zip", "--graph", "{d}/x.gml"], 2,
     "exactly one"),
    ("borrowed-negative-mass", ["borrowed-size", "{d}/zones_negative.gpkg", "--mass",
                                "population", "-o", "{o}/b.gpkg"], 2, "population"),
    ("borrowed-jobs-file-no-centroids", ["borrowed-size", "{d}/zones.gpkg", "--jobs-file",
                                         "{d}/banen_nl.csv", "-o", "{o}/b.gpkg"], 2,
     "wijk centroids"),
    ("borrowed-indicators-bad-json", ["borrowed-size", "{d}/zones.gpkg", "--indicators",
                                      "{d}/indicators_bad.json", "--mass", "population",
                                      "-o", "{o}/b.gpkg"], 2, ""),
    ("borrowed-zones-missing", ["borrowed-size", "{d}/nope.gpkg", "-o", "{o}/b.gpkg"], 2,
     "not found"),
    ("candidates-vacancy-empty", ["candidates", "--zones", "{d}/zones.gpkg", "--vacancy",
                                  "{d}/vacancy_empty.csv", "-o", "{o}/c.gpkg"], 2, "empty"),
    ("candidates-vacancy-binary", ["candidates", "--zones", "{d}/zones.gpkg", "--vacancy",
                                   "{d}/vacancy_binary.csv", "-o", "{o}/c.gpkg"], 2, ""),
    ("candidates-as-of-garbage", ["candidates", "--zones", "{d}/zones.gpkg", "--synthetic",
                                  "--as-of", "yesterday", "-o", "{o}/c.gpkg"], 2, ""),
    ("candidates-weights-garbage", ["candidates", "--zones", "{d}/zones.gpkg", "--synthetic",
                                    "--weights", "station=lots", "-o", "{o}/c.gpkg"], 2, ""),
    ("map-gpkg-missing", ["map", "--gpkg", "{d}/nope.gpkg", "--out", "{o}/m"], 2, ""),
    ("map-gpkg-empty-layer", ["map", "--gpkg", "{d}/empty_layer.gpkg", "--out", "{o}/m"], 2,
     "nothing to map"),
    ("map-gpkg-garbage", ["map", "--gpkg", "{d}/garbage.gpkg", "--out", "{o}/m"], 2, ""),
    ("map-out-is-file", ["map", "--gpkg", "{d}/zones.gpkg", "--out", "{d}/afile"], 2,
     "is a file"),
    ("map-out-user-folder", ["map", "--gpkg", "{d}/zones.gpkg", "--out", "{d}/f0"], 2,
     "not empty"),
    ("map-cp1252-csv-beside", ["map", "--gpkg", "{d}/cp1252_beside/demo.gpkg", "--out",
                               "{o}/m", "--no-figures"], 0, ""),
    ("run-billion-laughs", ["run", "{d}/study_bomb.yaml"], 2, "expands to more than"),
    ("run-duplicate-key", ["run", "{d}/study_dupkey.yaml"], 2, "duplicate key"),
    ("run-duplicate-blocks", ["run", "{d}/study_dupblock.yaml"], 2, "used twice"),
    ("run-invalid-yaml", ["run", "{d}/study_invalid.yaml"], 2, "invalid YAML"),
    ("run-not-a-mapping", ["run", "{d}/study_list.yaml"], 2, "not a YAML mapping"),
    ("run-binary-study", ["run", "{d}/study_binary.yaml"], 2, ""),
    ("run-cutoff-seconds", ["run", "{d}/study_cutoff.yaml"], 2, "maximum travel time"),
    ("run-output-dir-is-file", ["run", "{d}/study_outfile.yaml"], 2, "is a file"),
    ("run-missing-layer", ["run", "{d}/study_missing_layer.yaml"], 2, "not found"),
    ("transit-graph-garbage", [*T, "--graph", "{d}/garbage.gml"], 2, ""),
    ("transit-ns-rail-empty-folder", [*T, "--ns-rail", "{d}/empty_dir"], 2, ""),
    ("transit-gtfs-empty-folder", [*T, "--gtfs", "{d}/empty_dir"], 2, ""),
    ("transit-window-garbage", [*T, "--gtfs", "{d}/feed_ok.zip", "--window", "morning"], 2,
     ""),
    ("transit-opportunity-missing", [*T, "--gtfs", "{d}/feed_ok.zip", "--opportunity",
                                     "banen"], 2, "banen"),
    ("access-zones-duplicate-ids", ["access", "--zones", "{d}/zones_dupids.gpkg", "--network",
                                    "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 2, ""),
    # RD coordinates 5000 km away: computed, with a warning naming the file (not silent)
    ("access-zones-far-away", ["access", "--zones", "{d}/zones_far.gpkg", "--network",
                               "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"], 0,
     "far outside the Netherlands"),
    ("access-zones-csv-without-geometry", ["access", "--zones", "{d}/points.csv", "--network",
                                           "crowfly", "--mode", "walk", "-o", "{o}/a.gpkg"],
     2, ""),
    ("access-opportunity-column-missing", [*A, "--network", "crowfly", "--opportunities",
                                           "banen"], 2, "banen"),
    ("candidates-stations-garbage", ["candidates", "--zones", "{d}/zones.gpkg", "--vacancy", "{d}/vacancy_ok.csv",
                                     "--stations", "{d}/stations.json", "-o", "{o}/c.gpkg"],
     2, ""),
    ("candidates-accessibility-garbage", ["candidates", "--zones", "{d}/zones.gpkg",
                                          "--vacancy", "{d}/vacancy_ok.csv", "-a", "{d}/garbage.gpkg", "-o",
                                          "{o}/c.gpkg"], 2, ""),
    ("candidates-constraint-missing", ["candidates", "--zones", "{d}/zones.gpkg",
                                       "--vacancy", "{d}/vacancy_ok.csv", "--constraint", "{d}/nope.gpkg", "-o",
                                       "{o}/c.gpkg"], 2, ""),
    ("candidates-both-vacancy-sources", ["candidates", "--zones", "{d}/zones.gpkg",
                                         "--synthetic", "--vacancy", "{d}/vacancy_empty.csv",
                                         "-o", "{o}/c.gpkg"], 2, ""),
    ("borrowed-flows-garbage", ["borrowed-size", "{d}/zones.gpkg", "--mass", "population",
                                "--flows", "{d}/flows_bad.parquet", "-o", "{o}/b.gpkg"], 2, ""),
    ("borrowed-population-points-garbage", ["borrowed-size", "{d}/zones.gpkg", "--mass",
                                            "population", "--population-points",
                                            "{d}/garbage.gpkg", "-o", "{o}/b.gpkg"], 2, ""),
    ("borrowed-mass-missing", ["borrowed-size", "{d}/zones.gpkg", "--mass", "banen", "-o",
                               "{o}/b.gpkg"], 2, "banen"),
    ("borrowed-cutoff-negative", ["borrowed-size", "{d}/zones.gpkg", "--mass", "population",
                                  "--cutoff", "-5", "-o", "{o}/b.gpkg"], 2, ""),
    ("map-study-missing", ["map", "{d}/nope.yaml"], 2, "not found"),
    ("fetch-bbox-garbage", ["fetch", "1,2,3", "--offline", "--out", "{o}/f"], 2, ""),
    ("fetch-region-unknown", ["fetch", "Atlantis", "--offline", "--out", "{o}/f"], 2, ""),
    ("transit-negative-transfers", [*T, "--gtfs", "{d}/feed_ok.zip", "--max-transfers", "-1"],
     2, "max_transfers"),
    ("transit-step-zero", [*T, "--gtfs", "{d}/feed_ok.zip", "--step", "0"], 2, "step"),
    ("borrowed-cutoff-beyond-day", ["borrowed-size", "{d}/zones.gpkg", "--mass", "population",
                                    "--cutoff", "5000", "-o", "{o}/b.gpkg"], 2, "1440"),
    ("candidates-m2-zero", ["candidates", "--zones", "{d}/zones.gpkg", "--vacancy",
                            "{d}/vacancy_ok.csv", "--m2-per-dwelling", "0", "-o", "{o}/c.gpkg"],
     2, "m2_per_dwelling"),
    ("fetch-year-1850", ["fetch", "Delft", "--year", "1850", "--offline", "--out", "{o}/f"],
     2, "--year 1850"),
    ("fetch-negative-buffer", ["fetch", "Delft", "--buffer-km", "-5", "--offline", "--out",
                               "{o}/f"], 2, "buffer"),
    ("fetch-unknown-source", ["fetch", "Delft", "--sources", "foo", "--offline", "--out",
                              "{o}/f"], 2, ""),
]


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("case", "args", "code", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_a_clean_error(corpus, tmp_path, monkeypatch, case, args, code, needle):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(d=corpus, o=out) for a in args]
    before = _snapshot(corpus)
    with warnings.catch_warnings(record=True) as rec:  # pytest keeps warnings from logging
        warnings.simplefilter("always")
        res = CliRunner().invoke(app, [*argv, "--quiet"] if argv[0] != "fetch" else argv)
    text = _plain(res.output)
    shown = text + " " + " ".join(str(w.message) for w in rec)
    assert "Traceback" not in res.output, text
    assert res.exit_code == code, f"{case}: exit {res.exit_code}: {text}"
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    if code == 2:
        assert "error" in text.lower(), text  # `error: ...` or click's usage-error box
        assert "error: unexpected" not in text, text
        assert sorted(p.name for p in out.iterdir()) == [], "partial output left behind"
    assert needle.lower() in shown.lower(), shown
    assert _snapshot(corpus) == before, "an input file was changed"
    leftovers = [p for p in corpus.rglob(".*") if p.is_file() or p.is_dir()]
    assert leftovers == [], leftovers
