"""Benchmark: range-RAPTOR over a generated (synthetic) city-scale GTFS feed.

The feed is generated deterministically (seed 42) and written as real GTFS text files:
a 20 km × 20 km area (RD New around Utrecht) with a 50 × 50 grid of stops at 400 m
spacing (2,500 stops), 100 straight bus/tram lines along grid rows and columns
(both directions), each every 10–15 minutes from 06:00 to 10:30 with 1–2 min between
stops. Zones are a 32 × 32 grid (1,024 origins = destinations) with walking access and
egress within 1,000 m.

Timed: reading the feed (``gtfs.read_gtfs``), preparing the network
(``transit.build_network``) and the range-RAPTOR run over 07:00–09:00 (120 departure
minutes) with 5th/50th/95th percentiles, including cumulative jobs within 30/45/60 min
computed per block (no zone × zone × departure cube is stored). Peak memory is the
process's maximum resident set size.

Run: ``.venv/bin/python benchmarks/bench_transit.py [--origins 1024] [--threads 2]``
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def hms(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def generate_feed(folder: Path, seed: int = 42, n: int = 50, spacing_m: float = 400.0) -> dict:
    """Write a synthetic GTFS feed to ``folder``; returns its size figures."""
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x0, y0 = 126_000.0, 446_000.0
    gx, gy = np.meshgrid(np.arange(n) * spacing_m + x0, np.arange(n) * spacing_m + y0)
    gx, gy = gx.ravel(), gy.ravel()
    tr = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(gx, gy)
    (folder / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\n"
        "syn,Synthetic Transit,https://example.org,Europe/Amsterdam\n")
    (folder / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"s{i},Stop {i},{lat[i]:.6f},{lon[i]:.6f}\n" for i in range(n * n)))
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
        "end_date\nWK,1,1,1,1,1,0,0,20240101,20241231\n")
    routes, trips, st = ["route_id,route_type"], ["route_id,service_id,trip_id"], []
    n_lines = 0
    for axis in (0, 1):
        for k in range(0, n, 1):
            if k % 2:  # every other row/column carries a line: 2 × 25 lines per axis
                continue
            line = [k * n + j for j in range(n)] if axis == 0 else [j * n + k for j in range(n)]
            rid = f"L{axis}_{k}"
            routes.append(f"{rid},{3 if k % 4 else 0}")
            headway = int(rng.choice([600, 720, 900]))
            hops = rng.integers(60, 121, size=n - 1)
            for direction in (0, 1):
                seq = line if direction == 0 else line[::-1]
                hh = hops if direction == 0 else hops[::-1]
                first = 6 * 3600 + int(rng.integers(0, headway))
                for ti, t0 in enumerate(range(first, int(10.5 * 3600), headway)):
                    tid = f"{rid}_{direction}_{ti}"
                    trips.append(f"{rid},WK,{tid}")
                    t = t0
                    for pos, s in enumerate(seq):
                        if pos:
                            t += int(hh[pos - 1])
                        st.append(f"{tid},{hms(t)},{hms(t)},s{s},{pos + 1}\n")
            n_lines += 2
    (folder / "routes.txt").write_text("\n".join(routes) + "\n")
    (folder / "trips.txt").write_text("\n".join(trips) + "\n")
    (folder / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(st))
    return {"stops": n * n, "lines": n_lines, "trips": len(trips) - 1, "stop_times": len(st),
            "x0": x0, "y0": y0, "extent_m": (n - 1) * spacing_m}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--origins", type=int, default=1024, help="number of zones (square)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import numba

    numba.set_num_threads(args.threads)
    from ruimtekit.engine import transit
    from ruimtekit.io import gtfs

    side = int(round(np.sqrt(args.origins)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        size = generate_feed(folder)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        feed = gtfs.read_gtfs(folder)
        t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = transit.build_network(feed, "2024-03-12", time_range_s=(7 * 3600, 11 * 3600))
    t_build = time.perf_counter() - t0
    ext = size["extent_m"]
    zx, zy = np.meshgrid(np.linspace(size["x0"], size["x0"] + ext, side),
                         np.linspace(size["y0"], size["y0"] + ext, side))
    zx, zy = zx.ravel(), zy.ravel()
    walk = lambda d: transit.walking_seconds(d, 4.8, 1.25)  # noqa: E731
    acc = transit.zone_legs(zx, zy, net.x, net.y, mode=walk, max_distance_m=1000)
    jobs = np.random.default_rng(1).poisson(500, zx.size).astype(float)
    # warm-up compile on 2 origins (numba caches to disk; first-ever run compiles)
    t0 = time.perf_counter()
    for _ in transit.iter_raptor_blocks(net, acc, acc, departures=np.array([7 * 3600]),
                                        origins=np.arange(2)):
        pass
    t_compile = time.perf_counter() - t0
    deps = transit.departure_times("07:00", "09:00", 60)
    t0 = time.perf_counter()
    counts = np.zeros((zx.size, 3))
    for blk, t in transit.iter_raptor_blocks(net, acc, acc, departures=deps,
                                             params={"percentiles": [5, 50, 95]},
                                             block_size=128):
        med = t[:, :, 1]
        for j, c in enumerate((30, 45, 60)):
            counts[blk, j] = ((med <= c * 60) * jobs[None, :]).sum(axis=1)
    t_raptor = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"feed: {size['stops']:,} stops, {size['lines']} line directions, "
          f"{size['trips']:,} trips, {size['stop_times']:,} stop_times (generated in "
          f"{t_gen:.1f} s)")
    print(f"network: {net}")
    print(f"origins: {zx.size:,} zones, destinations {zx.size:,}; mean access stops per zone "
          f"{np.diff(acc.ptr).mean():.1f}; window 07:00-09:00, {deps.size} departures, "
          f"percentiles 5/50/95, max 5 transfers; threads {args.threads}")
    print(f"read_gtfs {t_read:.2f} s | build_network {t_build:.2f} s | compile/warm-up "
          f"{t_compile:.2f} s | range-RAPTOR + measures {t_raptor:.2f} s "
          f"({t_raptor / zx.size * 1000:.1f} ms/origin)")
    print(f"peak RSS {peak_mb:.0f} MB; median jobs within 45 min "
          f"{np.median(counts[:, 1]):,.0f} of {jobs.sum():,.0f}")


if __name__ == "__main__":
    main()
