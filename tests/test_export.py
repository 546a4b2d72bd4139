"""GeoPackage export: layers, CRS, QGIS styles, field descriptions, atomic writes; CSV."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from ruimtekit import _io
from ruimtekit._context import RunContext
from ruimtekit._errors import InputError
from ruimtekit.report import _styles, export
from test_maps import amsterdam_zones, candidates, catchments, stations


@pytest.fixture(scope="module")
def layers():
    z = amsterdam_zones()
    st = stations(z)
    return {
        "accessibility": z,
        "candidates": candidates(z),
        "stations": st,
        "catchments": catchments(st),
        "regression": pd.DataFrame({"term": ["const", "log_pop"], "coef": [0.5, 0.9], "p": [0.01, 0.2]}),
    }


@pytest.fixture(scope="module")
def gpkg(layers, tmp_path_factory):
    path = tmp_path_factory.mktemp("gpkg") / "demo.gpkg"
    export.write_geopackage(
        layers, path,
        descriptions={"accessibility": {"layer": "Jobs reachable per buurt (SYNTHETIC test values)",
                                        "columns": {"population": "Inhabitants 2020"}}},
    )
    return path


def _sql(path, q, *args):
    con = sqlite3.connect(path)
    try:
        return con.execute(q, args).fetchall()
    finally:
        con.close()


def test_layers_and_crs(gpkg, layers):
    listed = {name: gtype for name, gtype in pyogrio.list_layers(gpkg)}
    assert set(layers) | {"layer_styles"} == set(listed)
    assert listed["regression"] is None and listed["layer_styles"] is None
    for name in ("accessibility", "candidates", "stations", "catchments"):
        assert pyogrio.read_info(gpkg, layer=name)["crs"] == "EPSG:28992"
        assert pyogrio.read_info(gpkg, layer=name)["features"] == len(layers[name])
    back = gpd.read_file(gpkg, layer="accessibility")
    assert back["zone_name"].iloc[0] == layers["accessibility"]["zone_name"].iloc[0]
    np.testing.assert_allclose(back["jobs_45min_car"], layers["accessibility"]["jobs_45min_car"])
    table = pyogrio.read_dataframe(gpkg, layer="regression")
    assert list(table["term"]) == ["const", "log_pop"]


def test_reprojects_wgs84_input(tmp_path):
    z = amsterdam_zones().iloc[:5]
    wgs = z.to_crs(4326)
    export.write_geopackage({"z": wgs}, tmp_path / "w.gpkg", styles=False)
    back = gpd.read_file(tmp_path / "w.gpkg", layer="z")
    assert back.crs.to_epsg() == 28992
    # oracle: the original RD geometry (round trip 28992 → 4326 → 28992, sub-millimetre)
    d = shapely.hausdorff_distance(back.geometry.values, z.geometry.values)
    assert float(np.max(d)) < 0.01


def test_descriptions(gpkg):
    contents = dict(_sql(gpkg, "SELECT table_name, description FROM gpkg_contents"))
    assert contents["accessibility"] == "Jobs reachable per buurt (SYNTHETIC test values)"
    assert "candidates" in contents["candidates"]
    cols = dict(_sql(gpkg, "SELECT column_name, description FROM gpkg_data_columns WHERE table_name='accessibility'"))
    assert cols["population"] == "Inhabitants 2020"
    assert "45 minutes" in cols["jobs_45min_car"] and "car" in cols["jobs_45min_car"]
    assert "exponential decay" in cols["jobs_exp0.05_car"]
    assert cols["zone_id"].startswith("Zone code")
    ext = _sql(gpkg, "SELECT table_name, extension_name FROM gpkg_extensions WHERE extension_name='gpkg_schema'")
    assert {t for t, _ in ext} == {"gpkg_data_columns", "gpkg_data_column_constraints"}
    # the GeoPackage still opens cleanly in GDAL with the extra tables
    assert len(pyogrio.list_layers(gpkg)) == 6


def _styles_of(gpkg, layer):
    return _sql(gpkg, "SELECT styleName, styleQML, useAsDefault, f_geometry_column FROM layer_styles "
                      "WHERE f_table_name=? ORDER BY id", layer)


def test_graduated_style(gpkg, layers):
    rows = _styles_of(gpkg, "accessibility")
    assert [r[0] for r in rows][:1] == ["jobs_45min_car"]
    assert sum(r[2] for r in rows) == 1 and rows[0][2] == 1
    assert {r[0] for r in rows} == {"jobs_45min_car", "jobs_45min_bike", "jobs_exp0.05_car"}
    geom_col = _sql(gpkg, "SELECT column_name FROM gpkg_geometry_columns WHERE table_name='accessibility'")[0][0]
    assert rows[0][3] == geom_col
    root = ET.fromstring(rows[0][1].split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("type") == "graduatedSymbol" and r.get("attr") == "jobs_45min_car"
    ranges = r.findall("ranges/range")
    v = layers["accessibility"]["jobs_45min_car"].to_numpy()
    assert len(ranges) == 5
    assert float(ranges[0].get("lower")) == pytest.approx(v.min())
    assert float(ranges[-1].get("upper")) == pytest.approx(v.max())
    # quantile oracle: the upper bounds are the 20/40/60/80 % quantiles (linear interpolation)
    uppers = [float(x.get("upper")) for x in ranges[:-1]]
    np.testing.assert_allclose(uppers, np.quantile(v, [0.2, 0.4, 0.6, 0.8]), rtol=1e-9)
    assert all(x.get("label").endswith(" jobs") for x in ranges)
    assert len(r.findall("symbols/symbol")) == 5
    assert root.find("layerGeometryType").text == "2"
    # symbol colours are the classification's colours
    first = r.find("symbols/symbol/layer/Option/Option[@name='color']").get("value")
    hex0 = _styles.ramp_colors("YlGnBu", 5)[0].lstrip("#")
    assert first == ",".join(str(int(hex0[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"


def test_categorized_and_markers(gpkg, layers):
    cand = _styles_of(gpkg, "candidates")
    # categorised by function (few classes), never by the free-text reason (one per row)
    assert cand[0][0] == "by function" and cand[0][2] == 1
    root = ET.fromstring(cand[0][1].split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "function"
    assert sorted(c.get("value") for c in r.findall("categories/category")) == ["kantoor", "winkel"]
    assert root.find("layerGeometryType").text == "0"
    st = _styles_of(gpkg, "stations")
    root = ET.fromstring(st[0][1].split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r.get("attr") == "station_type"
    assert {c.get("value") for c in r.findall("categories/category")} == {"intercity", "sprinter"}
    assert {s.find("layer").get("class") for s in r.findall("symbols/symbol")} == {"SimpleMarker"}
    out = _styles_of(gpkg, "catchments")
    root = ET.fromstring(out[0][1].split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "singleSymbol"
    assert _styles_of(gpkg, "regression") == []


def test_layer_styles_schema(gpkg):
    cols = [r[1] for r in _sql(gpkg, "PRAGMA table_info(layer_styles)")]
    for c in ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
              "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"):
        assert c in cols
    kinds = dict(_sql(gpkg, "SELECT table_name, data_type FROM gpkg_contents"))
    assert kinds["layer_styles"] == "attributes"


def test_atomic_no_temp_and_failure_keeps_old(tmp_path, layers, monkeypatch):
    path = tmp_path / "out.gpkg"
    export.write_geopackage({"accessibility": layers["accessibility"].iloc[:20]}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]
    digest = _io.sha256(path)
    bad = layers["candidates"].set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="no CRS"):
        export.write_geopackage({"accessibility": layers["accessibility"], "bad": bad}, path)
    assert _io.sha256(path) == digest
    # a failure half-way through writing (second layer) also keeps the old file
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated)")
        return real(*a, **k)

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)
    with pytest.raises(OSError, match="simulated"):
        export.write_geopackage({"a": layers["accessibility"], "b": layers["candidates"]}, path)
    assert calls["n"] == 2
    assert _io.sha256(path) == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


def test_bad_names_and_inputs(tmp_path, layers):
    with pytest.raises(InputError, match="not a valid GeoPackage table name"):
        export.write_geopackage({"bad name": layers["candidates"]}, tmp_path / "x.gpkg")
    with pytest.raises(InputError, match="not a valid GeoPackage table name"):
        export.write_geopackage({"layer_styles": layers["candidates"]}, tmp_path / "x.gpkg")
    with pytest.raises(InputError, match="no layers"):
        export.write_geopackage({}, tmp_path / "x.gpkg")
    with pytest.raises(InputError, match="not written"):
        export.write_geopackage({"a": layers["candidates"]}, tmp_path / "x.gpkg", descriptions={"b": "x"})
    assert not list(tmp_path.iterdir())


def test_csv_roundtrip(tmp_path, layers):
    path = export.write_table_csv(layers["regression"], tmp_path / "t.csv")
    back = pd.read_csv(path)
    pd.testing.assert_frame_equal(back, layers["regression"])
    g = export.write_table_csv(layers["candidates"], tmp_path / "c.csv")
    back = pd.read_csv(g)
    assert back["geometry"].str.startswith("POINT").all()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "t.csv"]


def test_pipeline_step(tmp_path, layers):
    study = SimpleNamespace(name="demo", output_dir="data/processed", maps=SimpleNamespace(classification="fisher_jenks", k=4))
    ctx = RunContext(study=study, root=tmp_path)
    ctx.results = {"accessibility": layers["accessibility"], "candidates": layers["candidates"]}
    ctx.tables = {"regression": layers["regression"]}
    ctx.note("Jobs are SYNTHETIC test values.")
    export.pipeline_step(ctx)
    folder = tmp_path / "data" / "processed" / "demo"
    assert sorted(p.name for p in folder.iterdir()) == ["demo.gpkg", "regression.csv"]
    desc = dict(_sql(folder / "demo.gpkg", "SELECT table_name, description FROM gpkg_contents"))
    assert "SYNTHETIC" in desc["accessibility"]
    qml = _styles_of(folder / "demo.gpkg", "accessibility")[0][1]
    assert 'id="Jenks"' in qml and qml.count("<range ") == 4
