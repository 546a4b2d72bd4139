"""Static figures: PNG/SVG written atomically, scale-bar lengths, inputs validated."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ruimtekit import figures
from ruimtekit._errors import InputError
from test_maps import amsterdam_zones, candidates, catchments, stations

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_pair(paths, folder):
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    png = next(p for p in paths if p.suffix == ".png")
    svg = next(p for p in paths if p.suffix == ".svg")
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and text.rstrip().endswith("</svg>")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize(("width", "expected"), [(10_000, 2000), (37_000, 5000), (1_000, 200),
                                                 (300_000, 50_000), (9.9, 2)])
def test_scale_length(width, expected):
    assert figures.nice_scale_length(width) == expected


def test_scale_bar_drawn_in_metres():
    plt = figures._plt()
    fig, ax = plt.subplots()
    ax.set_xlim(110_000, 130_000)
    ax.set_ylim(480_000, 495_000)
    length = figures._scale_bar(ax)
    bars = [p for p in ax.patches]
    assert length == 5000
    assert sum(p.get_width() for p in bars) == pytest.approx(5000)
    assert [t.get_text() for t in ax.texts] == ["0", "2.5", "5 km"]
    plt.close(fig)


def test_accessibility_figure(tmp_path):
    z = amsterdam_zones()
    paths = figures.accessibility_figure(z, tmp_path / "acc", stations=stations(z),
                                         notes=["Jobs are SYNTHETIC test values."])
    _check_pair(paths, tmp_path)


def test_borrowed_size_figure(tmp_path):
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame({"zone_name": [f"City {i}" for i in range(n)],
                       "population": rng.integers(5_000, 900_000, n).astype(float),
                       "borrowed_population": rng.integers(50_000, 5_000_000, n).astype(float),
                       "borrowed_ratio": rng.normal(1, 0.2, n)})
    _check_pair(figures.borrowed_size_figure(df, tmp_path / "bs"), tmp_path)
    with pytest.raises(InputError, match="borrowed mass"):
        figures.borrowed_size_figure(df.drop(columns=["borrowed_population"]), tmp_path / "x")


def test_candidates_figure(tmp_path):
    z = amsterdam_zones()
    st = stations(z)
    paths = figures.candidates_figure(candidates(z), tmp_path / "cand", zones=z, stations=st,
                                      outlines=catchments(st))
    _check_pair(paths, tmp_path)


def test_empty_layer_rejected(tmp_path):
    z = amsterdam_zones()
    with pytest.raises(InputError, match="empty"):
        figures.accessibility_figure(z.iloc[:0], tmp_path / "x")
    with pytest.raises(InputError, match="GeoDataFrame"):
        figures.candidates_figure(pd.DataFrame({"a": [1]}), tmp_path / "x")
    assert not list(tmp_path.iterdir())


def test_study_figures(tmp_path):
    z = amsterdam_zones()
    st = stations(z)
    bs = gpd.GeoDataFrame({"zone_name": z["zone_name"], "population": z["population"],
                           "borrowed_population": z["jobs_45min_car"], "borrowed_ratio": z["jobs_45min_bike"] / 2e5},
                          geometry=z.geometry.centroid, crs=28992)
    out = figures.study_figures({"accessibility": z, "candidates": candidates(z), "borrowed_size": bs},
                                tmp_path, layers={"stations": st}, attributions=["Bron: CBS"])
    names = sorted(p.name for p in out)
    assert "accessibility_map.png" in names and "candidates_map.svg" in names
    assert "borrowed_size_chart.png" in names
