"""End-to-end pipeline: outputs, provenance, atomicity and the full demo study."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest

from ruimtekit import _io, pipeline

ROOT = Path(__file__).resolve().parents[1]

SMALL = """
name: small
title: "Delft test study"
root: {root}
output_dir: {out}/processed
maps_dir: {out}/maps
attribution: ["Bron: CBS (CC BY 4.0)", "© OpenStreetMap contributors (ODbL 1.0)"]
layers:
  delft_pc4:
    kind: zones
    path: data/raw/cbs_pc4_2021.parquet
    bbox: [81500, 443500, 86500, 449000]
networks:
  delft_car: {{kind: graphml, path: data/raw/osm/delft_drive.graphml, mode: car}}
accessibility:
  - name: delft
    zones: delft_pc4
    opportunities: {{column: population}}
    modes: [car]
    impedance: delft_car
    cutoffs: [5, 10]
maps:
  figures: false
"""


def _small(tmp_path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL.format(root=ROOT, out=tmp_path), encoding="utf-8")
    return p


def test_small_study_writes_gpkg_provenance_and_maps(tmp_path):
    out = pipeline.run(_small(tmp_path), quiet=True)
    assert out["gpkg"].is_file() and out["maps"].is_file()
    info = pyogrio.read_info(out["gpkg"], layer="access_delft")
    assert info["crs"].endswith("28992")
    assert info["features"] == 15
    prov = json.loads(out["provenance"].read_text())
    paths = {Path(i["path"]).name: i["sha256"] for i in prov["inputs"]}
    assert paths["delft_drive.graphml"] == _io.sha256(ROOT / "data/raw/osm/delft_drive.graphml")
    assert paths["cbs_pc4_2021.parquet"] == _io.sha256(ROOT / "data/raw/cbs_pc4_2021.parquet")
    assert prov["study"] == "small" and "name: small" in prov["study_yaml"]
    assert {"layers", "networks", "accessibility", "export"} <= set(prov["timings_s"])
    assert prov["ruimtekit_version"]


def test_failed_run_leaves_previous_outputs_intact(tmp_path, monkeypatch):
    first = pipeline.run(_small(tmp_path), quiet=True)
    before = first["gpkg"].read_bytes()
    before_map = first["maps"].read_text()

    def boom(ctx):
        raise RuntimeError("simulated failure in candidates")

    monkeypatch.setattr("ruimtekit.analysis.candidates.pipeline_step", boom)
    with pytest.raises(RuntimeError, match="simulated failure"):
        pipeline.run(_small(tmp_path), quiet=True)
    assert first["gpkg"].read_bytes() == before
    assert first["maps"].read_text() == before_map
    leftovers = [p.name for p in first["gpkg"].parent.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.slow
def test_demo_study_end_to_end(demo_run):
    """The bundled demo (``ruimtekit run``, once per session: see conftest.py) writes every
    result layer, maps labelled synthetic and provenance naming the proxy and synthetic data."""
    out = demo_run
    layers = {name for name, _ in pyogrio.list_layers(out["gpkg"])}
    assert {"access_nl_pc4", "access_delft_car", "borrowed_size", "candidates"} <= layers
    html = out["maps"].read_text(encoding="utf-8")
    assert "synthetic" in html.lower()
    prov = json.loads(out["provenance"].read_text())
    assert any("synthetic" in n.lower() for n in prov["notes"])
    assert any("proxy" in n.lower() for n in prov["notes"])
