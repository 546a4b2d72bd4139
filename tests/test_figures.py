"""Static figures: PNG/SVG written atomically, scale-bar lengths, inputs validated."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ruimtekit._errors import InputError
from ruimtekit.report import figures
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
                                         caption={"notes": ["Jobs are SYNTHETIC test values."]})
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


def _svg_images(path) -> int:
    return path.read_text(encoding="utf-8").count("<image")


def test_dense_layers_rasterized_and_figures_small(tmp_path):
    """The national PC4 layer (4,067 polygons): PNG and SVG under 2 MB, polygons embedded as
    an image in the SVG, text kept as text."""
    g = gpd.read_parquet(figures.Path(__file__).resolve().parents[1] / "data" / "raw" / "cbs_pc4_2021.parquet")
    z = gpd.GeoDataFrame({"zone_id": g["pc4"].astype(str), "population": g["inwoners"].astype(float)},
                         geometry=g.geometry, crs=g.crs).to_crs(28992)
    paths = figures.accessibility_figure(z, tmp_path / "pc4", column="population")
    for p in paths:
        assert p.stat().st_size < figures.MAX_FIGURE_BYTES, (p.name, p.stat().st_size)
    svg = next(p for p in paths if p.suffix == ".svg")
    assert _svg_images(svg) >= 1 and "inhabitants" in svg.read_text(encoding="utf-8").lower()


def test_candidates_figure_frames_candidates_not_outlines(tmp_path):
    """Outlines far larger than the candidates' extent (a 60 km catchment) are clipped to the
    frame: before, the tight bounding box grew to 2,624 × 46,232 px (34 MB)."""
    from PIL import Image

    z = amsterdam_zones()
    st = stations(z)
    big = gpd.GeoDataFrame({"station_name": ["far"]}, geometry=st.geometry.iloc[:1].buffer(60_000).values,
                           crs=28992)
    paths = figures.candidates_figure(candidates(z, 300), tmp_path / "cand", zones=z, stations=st, outlines=big)
    png = next(p for p in paths if p.suffix == ".png")
    w, h = Image.open(png).size
    assert w < 2000 and h < 2200
    for p in paths:
        assert p.stat().st_size < figures.MAX_FIGURE_BYTES


def test_panel_one_map_per_measure(tmp_path):
    z = amsterdam_zones()
    out = figures.study_figures({"accessibility": z}, tmp_path, attributions=["Bron: CBS"])
    names = sorted(p.name for p in out)
    assert names == ["accessibility_map.png", "accessibility_map.svg", "accessibility_panel.png",
                     "accessibility_panel.svg"]
    text = (tmp_path / "accessibility_panel.svg").read_text(encoding="utf-8")
    for label in ("jobs within 45 min (car)", "jobs within 45 min (bike)", "exponential decay"):
        assert label in text
    assert figures._panel_columns([f"jobs_{t}min_car" for t in (30, 45, 60)] + ["jobs_exp0.05_car"], 3) == [
        "jobs_45min_car", "jobs_30min_car", "jobs_60min_car"]


def test_chart_notes_below_the_data(tmp_path, monkeypatch):
    """The notes under the borrowed-size chart never overlap the axes (the data area)."""
    seen = {}
    real_save = figures._save

    def spy(fig, path, dpi=figures.DPI):
        fig.canvas.draw()
        ax = fig.axes[0]
        r = fig.canvas.get_renderer()
        notes = [t for t in ax.texts if "NOTE" in t.get_text()]
        seen["overlap"] = [t.get_window_extent(r).overlaps(ax.get_window_extent(r)) for t in notes]
        seen["below_label"] = [t.get_window_extent(r).y1 <= ax.xaxis.label.get_window_extent(r).y0 + 0.5
                               for t in notes]
        return real_save(fig, path, dpi)

    monkeypatch.setattr(figures, "_save", spy)
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"zone_name": [f"City {i}" for i in range(30)],
                       "population": rng.integers(5_000, 900_000, 30).astype(float),
                       "borrowed_population": rng.integers(50_000, 5_000_000, 30).astype(float)})
    figures.borrowed_size_figure(df, tmp_path / "bs",
                                 caption=figures.Caption(notes=["NOTE " + "long statement " * 30] * 4))
    assert seen["overlap"] == [False] and seen["below_label"] == [True]


def test_panel_colours_equal_geopandas(tmp_path, monkeypatch):
    """The panel reuses the first map's paths; every map's colours equal a geopandas plot
    of that measure (oracle), also with a two-part multipolygon."""
    import shapely

    from ruimtekit.report import _styles

    z = amsterdam_zones().iloc[:80].copy()
    z.loc[z.index[5], "geometry"] = shapely.MultiPolygon(
        [z.geometry.iloc[5].geoms[0] if z.geometry.iloc[5].geom_type == "MultiPolygon" else z.geometry.iloc[5],
         z.geometry.iloc[40].buffer(-20)])
    seen = {}
    real_save = figures._save

    def spy(fig, path, dpi=figures.DPI):
        seen["fc"] = [ax.collections[0].get_facecolors().copy() for ax in fig.axes if ax.collections]
        return real_save(fig, path, dpi)

    monkeypatch.setattr(figures, "_save", spy)
    cols = ["jobs_45min_car", "jobs_45min_bike", "jobs_exp0.05_car"]
    figures.measures_panel_figure(z, tmp_path / "p", columns=cols)
    plt = figures._plt()
    geoms = figures._display(z)
    for got, col in zip(seen["fc"], cols, strict=True):
        vals = z[col].to_numpy(dtype=float)
        cls = _styles.classify(vals, "quantiles", 5, ramp=_styles.default_ramp(col))
        colors = np.array(list(cls.colors) + [_styles.NODATA_COLOR], dtype=object)[cls.bin_index(vals)]
        fig, ax = plt.subplots()
        geoms.plot(ax=ax, color=list(colors))
        ref = ax.collections[0].get_facecolors()
        plt.close(fig)
        assert len(got) == len(ref) == len(z) and np.allclose(got, ref), col
