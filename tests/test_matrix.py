"""Travel-time matrices between different point sets (``ruimtekit matrix`` and
:class:`ruimtekit.TravelTimeMatrix`) against a brute-force oracle.

The oracle reads the link table itself: directed edges from the ``oneway`` column, the
largest strongly connected component (scipy), the nearest node per point by brute force
(access and egress legs at walking speed, whole seconds) and scipy Dijkstra.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from typer.testing import CliRunner

import ruimtekit as rk
from ruimtekit.cli import app

RD = "EPSG:28992"
X0, Y0 = 84_000.0, 447_000.0  # Delft, RD metres
MAX_TIME = 12.0
MAX_SNAP = 500.0
WALK = 4.8 / 3.6  # m/s: the access speed of car networks without edge geometry


def _links(seed: int = 7, n: int = 14, spacing: float = 120.0) -> pd.DataFrame:
    """A jittered grid of streets: ~60 % one-way (random direction), some removed."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(n), np.arange(n))
    x = X0 + gx.ravel() * spacing + rng.uniform(-30, 30, n * n)
    y = Y0 + gy.ravel() * spacing + rng.uniform(-30, 30, n * n)
    rows = []
    for i in range(n * n):
        r, c = divmod(i, n)
        for j in ([i + 1] if c + 1 < n else []) + ([i + n] if r + 1 < n else []):
            if rng.random() < 0.12:
                continue  # missing street
            a, b = (i, j) if rng.random() < 0.5 else (j, i)
            oneway = rng.random() < 0.6
            length = float(np.hypot(x[a] - x[b], y[a] - y[b]))
            rows.append({"u": a, "v": b, "x_u": x[a], "y_u": y[a], "x_v": x[b], "y_v": y[b],
                         "length_m": round(length, 2),
                         "travel_time_s": int(rng.integers(8, 40)),
                         "oneway": "yes" if oneway else "no", "highway": "residential"})
    return pd.DataFrame(rows)


def _points(rng: np.random.Generator, k: int, prefix: str, extent: float):
    import geopandas as gpd

    x = rng.uniform(X0 - 700, X0 + extent + 700, k)
    y = rng.uniform(Y0 - 700, Y0 + extent + 700, k)
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(k)]},
                            geometry=gpd.points_from_xy(x, y), crs=RD)


def _oracle(links: pd.DataFrame, orig, dest, max_time_min: float) -> np.ndarray:
    """Minutes (origins × destinations), NaN = unreachable, by brute force."""
    nodes = pd.concat([links[["u", "x_u", "y_u"]].set_axis(["n", "x", "y"], axis=1),
                       links[["v", "x_v", "y_v"]].set_axis(["n", "x", "y"], axis=1)])
    nodes = nodes.drop_duplicates("n").sort_values("n")
    ids = nodes["n"].to_numpy()
    pos = {n: i for i, n in enumerate(ids)}
    m = len(ids)
    w = {}
    for r in links.itertuples():
        dirs = [(r.u, r.v)] + ([] if r.oneway == "yes" else [(r.v, r.u)])
        for a, b in dirs:
            key = (pos[a], pos[b])
            w[key] = min(w.get(key, np.inf), r.travel_time_s)
    ij = np.array(list(w))
    mat = csr_matrix((np.array(list(w.values()), float), (ij[:, 0], ij[:, 1])), shape=(m, m))
    _, lab = connected_components(mat, directed=True, connection="strong")
    keep = lab == np.bincount(lab).argmax()
    nx_, ny_ = nodes["x"].to_numpy(), nodes["y"].to_numpy()

    def snap(gdf):
        px, py = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
        d = np.hypot(px[:, None] - nx_[None, :], py[:, None] - ny_[None, :])
        d[:, ~keep] = np.inf
        node = d.argmin(axis=1)
        dist = d[np.arange(len(px)), node]
        ok = dist <= MAX_SNAP
        return node, np.rint(dist / WALK), ok

    on, oa, ook = snap(orig)
    dn, de, dok = snap(dest)
    sp = dijkstra(mat, directed=True, indices=on)  # all nodes; fine for this size
    t = oa[:, None] + sp[:, dn] + de[None, :]
    t[~ook] = np.inf
    t[:, ~dok] = np.inf
    t[t > 60 * max_time_min] = np.inf
    return np.where(np.isfinite(t), t / 60.0, np.nan)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("matrix")
    links = _links()
    links.to_csv(d / "links.csv", index=False)
    rng = np.random.default_rng(11)
    extent = 13 * 120.0
    orig = _points(rng, 40, "o", extent)
    dest = _points(rng, 60, "d", extent)
    orig.to_file(d / "origins.gpkg")
    dest.to_file(d / "destinations.gpkg")
    return d, links, orig, dest, _oracle(links, orig, dest, MAX_TIME)


def _as_square(df: pd.DataFrame, orig, dest, col: str = "travel_time") -> np.ndarray:
    piv = df.pivot(index="from_id", columns="to_id", values=col)
    return piv.loc[orig["id"], dest["id"]].to_numpy(dtype=float)


def test_oracle_is_not_trivial(case):
    *_, want = case
    assert want.shape == (40, 60)
    nan = np.isnan(want)
    assert 0.05 < nan.mean() < 0.8  # unreachable pairs: off the network, too far, one-way
    assert np.isnan(want).all(axis=1).sum() >= 1  # an origin beyond the snapping distance


def test_cli_matrix_equals_brute_force(case, tmp_path):
    d, links, orig, dest, want = case
    out = tmp_path / "m.parquet"
    res = CliRunner().invoke(app, [
        "matrix", "--origins", str(d / "origins.gpkg"), "--destinations",
        str(d / "destinations.gpkg"), "--network", str(d / "links.csv"), "--mode", "car",
        "--max-time", str(MAX_TIME), "--chunk-pairs", "500", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 40 * 60  # every pair, unreachable ones as NaN
    assert meta.num_row_groups == 5  # streamed: 8 origins × 60 destinations per block
    got = pd.read_parquet(out)
    assert list(got.columns) == ["from_id", "to_id", "travel_time"]
    np.testing.assert_array_equal(np.isnan(_as_square(got, orig, dest)), np.isnan(want))
    np.testing.assert_allclose(_as_square(got, orig, dest), want, atol=1e-9)


def test_travel_time_matrix_equals_brute_force(case):
    d, links, orig, dest, want = case
    net = rk.TransportNetwork(roads={"car": d / "links.csv"})
    ttm = rk.TravelTimeMatrix(net, orig, dest, mode="car",
                              options=rk.RoutingOptions(max_time_min=MAX_TIME, chunk_pairs=700))
    assert isinstance(ttm, pd.DataFrame) and len(ttm) == 40 * 60
    np.testing.assert_allclose(_as_square(ttm, orig, dest), want, atol=1e-9)


def test_csv_output_and_same_numbers(case, tmp_path):
    d, links, orig, dest, want = case
    out = tmp_path / "m.csv"
    res = CliRunner().invoke(app, [
        "matrix", "--origins", str(d / "origins.gpkg"), "--destinations",
        str(d / "destinations.gpkg"), "--network", str(d / "links.csv"), "--mode", "car",
        "--max-time", str(MAX_TIME), "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, dtype={"from_id": str, "to_id": str})
    np.testing.assert_allclose(_as_square(got, orig, dest), want, atol=1e-9)
