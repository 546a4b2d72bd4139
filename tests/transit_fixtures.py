"""Hand-built and generated GTFS feeds for the transit tests (synthetic, deterministic).

The hand feed (service date Tuesday 2024-03-12) has answers worked out by hand:

* route R1 (bus) A 07:00 → B 07:10 → C 07:20 → D 07:30 (and a second trip 30 min later);
* route R2 C 07:25 → E 07:40, reachable from R1 only because transfers.txt sets a
  300 s minimum change time at C (07:20 + 300 s = 07:25);
* route R5 D2 07:34 → J 07:50; D2 lies ~200 m north of D (walking transfer);
* trip T4 (service X) A 07:05 → E 07:15 is removed on 2024-03-12 by calendar_dates.txt;
* trip T5 (service EXTRA) A 07:02 → K 07:12 exists only on 2024-03-12 (added);
* night trip N1 F 24:50:00 → G 25:10:00 on weekdays (runs 00:50–01:10 the next morning);
* frequency route FQ H → I (8 min) every 10 min 07:00–08:00, exact_times=1.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

# lat/lon of the stops (Amsterdam area); 0.01° lat ≈ 1.1 km, 0.0018° ≈ 200 m
STOPS = {
    "A": (52.30, 4.80), "B": (52.31, 4.80), "C": (52.32, 4.80), "D": (52.33, 4.80),
    "D2": (52.3318, 4.80), "E": (52.32, 4.83), "F": (52.36, 4.90), "G": (52.38, 4.90),
    "H": (52.30, 4.95), "I": (52.32, 4.95), "J": (52.35, 4.83), "K": (52.30, 4.85),
}

HAND_FILES = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                  "ag,Test Agency,https://example.org,Europe/Amsterdam\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"{k},Stop {k},{lat},{lon}\n" for k, (lat, lon) in STOPS.items()),
    "routes.txt": "route_id,agency_id,route_short_name,route_type\n"
                  "R1,ag,1,3\nR2,ag,2,3\nR3,ag,3,3\nR4,ag,4,0\nR5,ag,5,3\nR6,ag,6,3\n",
    "trips.txt": "route_id,service_id,trip_id\n"
                 "R1,WK,T1\nR1,WK,T2\nR2,WK,T3\nR1,X,T4\nR6,EXTRA,T5\nR3,WK,N1\nR4,WK,FQ\n"
                 "R5,WK,T6\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,07:00:00,07:00:00,A,1\nT1,07:10:00,07:10:00,B,2\n"
                      "T1,07:20:00,07:20:00,C,3\nT1,07:30:00,07:30:00,D,4\n"
                      "T2,07:30:00,07:30:00,A,1\nT2,07:40:00,07:40:00,B,2\n"
                      "T2,07:50:00,07:50:00,C,3\nT2,08:00:00,08:00:00,D,4\n"
                      "T3,07:25:00,07:25:00,C,1\nT3,07:40:00,07:40:00,E,2\n"
                      "T4,07:05:00,07:05:00,A,1\nT4,07:15:00,07:15:00,E,2\n"
                      "T5,07:02:00,07:02:00,A,1\nT5,07:12:00,07:12:00,K,2\n"
                      "N1,24:50:00,24:50:00,F,1\nN1,25:10:00,25:10:00,G,2\n"
                      "FQ,00:00:00,00:00:00,H,1\nFQ,00:08:00,00:08:00,I,2\n"
                      "T6,07:34:00,07:34:00,D2,1\nT6,07:50:00,07:50:00,J,2\n",
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                    "start_date,end_date\n"
                    "WK,1,1,1,1,1,0,0,20240101,20241231\n"
                    "X,1,1,1,1,1,0,0,20240101,20241231\n",
    "calendar_dates.txt": "service_id,date,exception_type\nX,20240312,2\nEXTRA,20240312,1\n",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                       "FQ,07:00:00,08:00:00,600,1\n",
    "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\nC,C,2,300\n",
}


def write_feed(folder: Path, files: dict[str, str] | None = None,
               replace: dict[str, str | None] | None = None) -> Path:
    """Write a GTFS folder (``replace`` overrides files; ``None`` drops a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    content = dict(files or HAND_FILES)
    for k, v in (replace or {}).items():
        if v is None:
            content.pop(k, None)
        else:
            content[k] = v
    for name, text in content.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def zip_feed(folder: Path, target: Path) -> Path:
    """Zip the .txt files of ``folder`` into ``target``."""
    with zipfile.ZipFile(target, "w") as z:
        for p in sorted(folder.glob("*.txt")):
            z.write(p, p.name)
    return target


def random_feed_files(seed: int, n_stops: int = 8, n_routes: int = 4,
                      max_trips: int = 4, restrictions: bool = False) -> dict[str, str]:
    """A small random (synthetic) weekday feed: random stop sequences and running times,
    trips that may overtake each other, stops within ~1.5 km so some are within the
    walking-transfer radius. With ``restrictions``, stop times get random
    ``pickup_type`` / ``drop_off_type`` values (blank, 0-3; 1 = none in about a quarter),
    which also differ between trips of one route. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    codes = ["", "0", "1", "1", "2", "3", "0", ""]
    lat = 52.30 + rng.uniform(0, 0.012, n_stops)
    lon = 4.80 + rng.uniform(0, 0.02, n_stops)
    stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"S{i},S{i},{lat[i]:.6f},{lon[i]:.6f}\n" for i in range(n_stops))
    routes = "route_id,route_type\n" + "".join(f"R{r},3\n" for r in range(n_routes))
    trips = ["route_id,service_id,trip_id"]
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"
          + (",pickup_type,drop_off_type" if restrictions else "")]

    def hms(t: int) -> str:
        return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"

    for r in range(n_routes):
        length = int(rng.integers(2, min(6, n_stops) + 1))
        seq = rng.choice(n_stops, size=length, replace=False)
        for k in range(int(rng.integers(1, max_trips + 1))):
            tid = f"R{r}T{k}"
            trips.append(f"R{r},WK,{tid}")
            t = 7 * 3600 + int(rng.integers(0, 50)) * 60
            for pos, s in enumerate(seq):
                if pos > 0:
                    t += int(rng.integers(1, 9)) * 60
                dwell = int(rng.integers(0, 2)) * 60
                row = f"{tid},{hms(t)},{hms(t + dwell)},S{s},{pos + 1}"
                if restrictions:
                    row += f",{codes[rng.integers(len(codes))]},{codes[rng.integers(len(codes))]}"
                st.append(row)
                t += dwell
    return {
        "agency.txt": "agency_name,agency_url,agency_timezone\nSyn,https://example.org,"
                      "Europe/Amsterdam\n",
        "stops.txt": stops,
        "routes.txt": routes,
        "trips.txt": "\n".join(trips) + "\n",
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                        "start_date,end_date\nWK,1,1,1,1,1,0,0,20240101,20241231\n",
    }


CONSTANT_LEGS = {"walk_speed_kmh": 4.8, "bike_speed_kmh": 15.0, "leg_detour": 1.25,
                 "bike_park_min": 1.0}
"""Constant-speed crow-fly legs (walk 4.8 km/h, bike 15 km/h, detour 1.25, 1 min to park a
bike) for oracle tests whose leg times are written out by hand; the defaults are the
fitted crow-fly curves of ``impedance.DEFAULT_MODELS``."""
