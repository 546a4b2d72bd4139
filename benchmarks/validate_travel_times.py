"""Validate travel-time models against OpenTripPlanner 2.2 door-to-door times (Den Haag ZW).

Reads the calibration half of the OTP reference times from
``../shared/data/otp_dhzw_calibration/{car,bike,walk}_time_distance_calibration.csv``
(OpenTripPlanner 2.2 on OSM Netherlands, M. Pellegrino et al., DHZW_routing; GPL-3.0, so the
files stay outside the repository and only this script reads them). ``-1`` = no route; those
pairs are left out (counted). Each model's error is reported by crow-fly distance band:
n, median relative error ``(model − OTP) / OTP``, median |relative error| and bias (mean
model − OTP, minutes).

Models are named time functions in :data:`TIME_MODELS`: ``f(pairs, mode) -> minutes`` with
``pairs`` the DataFrame of :func:`ruimtekit.calibrate.read_reference` (points ``ox, oy, dx,
dy`` in EPSG:28992, ``dist_m``, OTP ``minutes``, OTP ``route_km``); return NaN where the
model has no time (e.g. unreachable). Add a model by adding an entry.

* ``crowfly_v0``: the crow-fly defaults before calibration (engineering values, kept here
  for comparison);
* ``crowfly``: the current defaults, :data:`ruimtekit.engine.impedance.DEFAULT_MODELS` (fitted on
  this half with :func:`ruimtekit.calibrate.fit_crowfly`);
* ``crowfly_cv``: two-fold cross-validation of that fit within this half (fit on one half of
  the zone pairs, predict the other), an estimate of the error on pairs not fitted on.
* ``network_connectors`` (car only): the national OSM main-road network of the demo through
  zone connectors at both ends (:func:`network_connectors`).

    python benchmarks/validate_travel_times.py [--refit] [--national] [--markdown]

``--refit`` also prints the models :func:`ruimtekit.calibrate.fit_crowfly` fits on the whole
half (the numbers that went into ``DEFAULT_MODELS``). ``--national`` shows what the models do
to the demo's national crow-fly car accessibility (bundled CBS PC4 2021 inhabitants and CBS
2014 wijk jobs, data/raw): population-weighted mean jobs within 35/45 min, the best PC4 and
Schiermonnikoog. ``--markdown`` prints the tables as markdown (docs/networks.md). Results:
``benchmarks/results/validate_travel_times.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _common import save

from ruimtekit import calibrate
from ruimtekit.engine import impedance

ROOT = Path(__file__).resolve().parents[1]
OTP_DIR = ROOT.parent / "shared" / "data" / "otp_dhzw_calibration"
MODES = ("car", "bike", "walk")

CROWFLY_V0 = {
    "walk": impedance.CrowflyModel(mode="walk", detour_factor=1.25, speed_curve=[(0.0, 4.8)]),
    "bike": impedance.CrowflyModel(mode="bike", detour_factor=1.25, speed_curve=[(0.0, 15.0)],
                                   fixed_min=1.0),
    "car": impedance.CrowflyModel(
        mode="car", detour_factor=1.3,
        speed_curve=[(0.0, 20.0), (2.0, 30.0), (5.0, 45.0), (10.0, 60.0), (20.0, 75.0),
                     (50.0, 90.0), (100.0, 100.0)], fixed_min=5.0),
}
"""The crow-fly defaults of ruimtekit before the OTP calibration (for comparison only)."""

TimeModel = Callable[[pd.DataFrame, str], np.ndarray]


FIT_BREAKPOINTS_KM = {"car": [0.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 50.0, 100.0],
                      "bike": [0.0, 5.0, 30.0], "walk": [0.0, 1.5, 5.0]}
"""Speed-curve breakpoints (network km) of the shipped fit, chosen by 5-fold cross-validation
on this half among a few candidate sets (median |error| 10.6 % for the car set against 10.9 %
with the seven breakpoints of the earlier defaults, under the marginal-speed bound)."""

FIT_FIXED_MIN = {"car": None, "bike": 1.0, "walk": 0.0}
"""Fixed minutes held in the shipped fit (``None``: fitted). Fixed minutes and the speed of
short trips are nearly interchangeable in the fit (same error within 0.1 point), so bike and
walk keep their documented terminal times (1 min to park a bike, none for walking), which
transit access legs over street networks also use. For the car the fit gives 0 (OTP car
times have no parking time)."""


def fit_options(mode: str) -> calibrate.CalibrateOptions:
    """The fit behind the shipped defaults: start from :data:`CROWFLY_V0`, detour factor from
    the OTP route lengths, speeds at :data:`FIT_BREAKPOINTS_KM`, fixed minutes per
    :data:`FIT_FIXED_MIN`."""
    start = CROWFLY_V0[mode]
    fixed = FIT_FIXED_MIN[mode]
    if fixed is not None:
        start = start.model_copy(update={"fixed_min": fixed})
    return calibrate.CalibrateOptions(mode=mode, start=start, fit_fixed=fixed is None,
                                      breakpoints_km=FIT_BREAKPOINTS_KM[mode])


def pair_fold(pairs: pd.DataFrame) -> np.ndarray:
    """0/1 fold per pair from a hash of the unordered zone pair (stable across runs)."""
    def h(a: str, b: str) -> int:
        key = "|".join(sorted((a, b))).encode()
        return hashlib.sha256(key).digest()[0] & 1

    return np.array([h(a, b) for a, b in zip(pairs["origin"], pairs["destination"],
                                             strict=True)])


def crowfly_cv(pairs: pd.DataFrame, mode: str) -> np.ndarray:
    """Two-fold cross-validated crow-fly minutes: each fold predicted by a fit on the other."""
    fold = pair_fold(pairs)
    out = np.full(len(pairs), np.nan)
    for k in (0, 1):
        train = pairs.loc[fold != k]
        fit = calibrate.fit_crowfly(train, fit_options(mode))
        out[fold == k] = impedance.crowfly_seconds(
            pairs.loc[fold == k, "dist_m"].to_numpy(), fit.model) / 60.0
    return out


_NETWORK_CACHE: dict = {}


def network_connectors(pairs: pd.DataFrame, mode: str) -> np.ndarray:
    """Car minutes over the demo's national network (``nl_car`` in studies/demo.yaml: OSM NL
    main roads 2021, urban speeds, ferries) through zone connectors at both ends
    (:func:`ruimtekit.analysis.accessibility.connector_times`, defaults of
    :mod:`ruimtekit.network.connectors`, connectors kept on the PC4 land parts). NaN for other
    modes."""
    if mode != "car":
        return np.full(len(pairs), np.nan)
    from ruimtekit import study
    from ruimtekit.analysis import accessibility
    from ruimtekit.io import layers
    from ruimtekit.network import connectors, networks

    if "g" not in _NETWORK_CACHE:
        spec, root = study.load_study(ROOT / "studies" / "demo.yaml")
        _NETWORK_CACHE["g"] = networks.build(spec.networks["nl_car"], root)
        pc4 = layers.read_zones(ROOT / "data" / "raw" / "cbs_pc4_2021.parquet", level="pc4")
        _NETWORK_CACHE["land"] = connectors.land_parts(pc4)
        _NETWORK_CACHE["pc4"] = pc4  # keeps the land-parts cache alive
    o = pairs[["ox", "oy"]].drop_duplicates().reset_index(drop=True)
    d = pairs[["dx", "dy"]].drop_duplicates().reset_index(drop=True)
    oi = pairs.merge(o.reset_index(), on=["ox", "oy"], how="left")["index"].to_numpy()
    di = pairs.merge(d.reset_index(), on=["dx", "dy"], how="left")["index"].to_numpy()
    t = accessibility.connector_times(_NETWORK_CACHE["g"], (o["ox"].to_numpy(), o["oy"].to_numpy()),
                                      (d["dx"].to_numpy(), d["dy"].to_numpy()),
                                      connectors.ConnectorConfig(), 240.0,
                                      _NETWORK_CACHE["land"])
    m = t[oi, di] / 60.0
    return np.where(np.isfinite(m), m, np.nan)


TIME_MODELS: dict[str, TimeModel] = {
    "crowfly_v0": lambda p, m: impedance.crowfly_seconds(p["dist_m"].to_numpy(),
                                                         CROWFLY_V0[m]) / 60.0,
    "crowfly": lambda p, m: impedance.crowfly_seconds(p["dist_m"].to_numpy(), m) / 60.0,
    "crowfly_cv": crowfly_cv,
    "network_connectors": network_connectors,
}
"""Named travel-time models: ``f(pairs, mode) -> minutes`` (NaN = no time)."""


def read_pairs(mode: str) -> pd.DataFrame:
    """The OTP calibration pairs of a mode (valid routes only; counts in attrs)."""
    path = OTP_DIR / f"{mode}_time_distance_calibration.csv"
    src = calibrate.ReferenceSource(
        path=path, crs=4326,
        columns=calibrate.ReferenceColumns(
            origin="departure", destination="arrival", origin_x="departure_x",
            origin_y="departure_y", destination_x="arrival_x", destination_y="arrival_y",
            minutes="travel_time", route_km="distance"))
    return calibrate.read_reference(src)


def validate(models: dict[str, TimeModel] | None = None, modes: tuple[str, ...] = MODES
             ) -> dict[str, pd.DataFrame]:
    """Error tables (by crow-fly band) of every model for every mode."""
    models = TIME_MODELS if models is None else models
    out = {}
    for mode in modes:
        pairs = read_pairs(mode)
        mins = {name: np.asarray(f(pairs, mode), dtype=np.float64)
                for name, f in models.items()}
        table = calibrate.compare_table(pairs["dist_m"].to_numpy(), pairs["minutes"].to_numpy(),
                                        mins)
        table.attrs["counts"] = pairs.attrs["counts"]
        out[mode] = table
    return out


def markdown(table: pd.DataFrame, models: list[str]) -> str:
    """A compare table as markdown: per model ``median rel / median |rel| / bias min``."""
    head = "| crow-fly band | n | " + " | ".join(models) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(models)]
    for _, r in table.iterrows():
        cells = []
        for m in models:
            n = r.get(f"n_{m}", r["n"])
            if not n:
                cells.append("–")
                continue
            cells.append(f"{100 * r[f'{m}_median_rel_err']:+.1f}% / "
                         f"{100 * r[f'{m}_median_abs_rel_err']:.1f}% / "
                         f"{r[f'{m}_bias_min']:+.1f}")
        lines.append(f"| {r['band']} | {int(r['n'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def national(models: dict[str, impedance.CrowflyModel]) -> dict:
    """Demo national crow-fly car accessibility (PC4 × wijk jobs) per car model."""
    from ruimtekit import study
    from ruimtekit.analysis import accessibility
    from ruimtekit.io import layers

    s, root = study.load_study(ROOT / "studies" / "demo.yaml")
    pc4 = layers.load(s.layers["pc4"], root)
    jobs = layers.load(s.layers["wijk_jobs"], root)
    pop = pc4["population"].fillna(0).to_numpy()
    out = {}
    for name, model in models.items():
        r = accessibility.crowfly_access(pc4, jobs, measures={"cutoffs": [35, 45]}, mode="car",
                                         model=model)
        res = {}
        for c in (35, 45):
            col = r[f"jobs_{c}min_car"].to_numpy()
            best = int(np.nanargmax(col))
            res[f"{c}min"] = {
                "pop_weighted_mean_jobs": round(float(np.nansum(col * pop) / pop.sum())),
                "best_pc4": str(r["zone_id"].iloc[best]), "best_jobs": round(float(col[best])),
                "schiermonnikoog_9166": round(float(col[(r["zone_id"] == "9166").to_numpy()
                                                     ].sum()))}
        out[name] = res
    return out


def network_fit() -> dict:
    """calibrate.fit_network on the demo's nl_car network (car pairs): the fit on the whole
    half, and two-fold cross-validation (fit on one fold of zone pairs, score the other)."""
    pairs = read_pairs("car")
    opts = calibrate.NetworkFitOptions(study=ROOT / "studies" / "demo.yaml", network="nl_car",
                                       land_layer="pc4", rounds=1)
    fit = calibrate.fit_network(pairs, opts)
    print("\n=== network fit nl_car (whole half):", fit.params, "before", fit.before_params)
    print(markdown(fit.table, ["before", "after"]))
    print(calibrate.network_snippet(fit))
    fold = pair_fold(pairs)
    cv = {}
    for k in (0, 1):
        f = calibrate.fit_network(pairs.loc[fold != k].reset_index(drop=True), opts)
        test = pairs.loc[fold == k].reset_index(drop=True)
        ev, _ = calibrate._network_evaluator(opts, test)
        m = ev(f.params)
        t = calibrate.error_table(test["dist_m"].to_numpy(), m, test["minutes"].to_numpy())
        cv[f"fold{k}"] = {"params": f.params, "test_median_abs_rel_err":
                          float(t.iloc[-1]["median_abs_rel_err"]), "test_n": int(t.iloc[-1]["n"])}
        print(f"cv fold {k}: fitted {f.params} -> held-out median |rel err| "
              f"{100 * cv[f'fold{k}']['test_median_abs_rel_err']:.1f}%")
    return {"params": fit.params, "before": fit.before_params,
            "table": fit.table.to_dict(orient="records"),
            "trials": fit.trials.to_dict(orient="records"), "cv": cv}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refit", action="store_true",
                    help="also print the crow-fly models fitted on the whole half")
    ap.add_argument("--national", action="store_true",
                    help="also compute the demo's national crow-fly car accessibility")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables")
    ap.add_argument("--network-fit", action="store_true",
                    help="also fit the demo's nl_car network parameters (speed factor, urban "
                         "junction delay, connector speed) with calibrate.fit_network, "
                         "two-fold cross-validated")
    args = ap.parse_args(argv)
    if not OTP_DIR.exists():
        print(f"missing {OTP_DIR} (see ../shared/data/PROVENANCE.md)", file=sys.stderr)
        return 1
    result: dict = {"reference": "OpenTripPlanner 2.2, DHZW calibration half", "modes": {}}
    if args.refit:
        result["refit"] = {}
        for mode in MODES:
            fit = calibrate.fit_crowfly(read_pairs(mode), fit_options(mode))
            print(f"--- refit {mode}: {fit.model.model_dump()}")
            print(calibrate.study_snippet(fit))
            result["refit"][mode] = fit.model.model_dump()
    for mode, table in validate().items():
        print(f"\n=== {mode}: OTP pairs {table.attrs['counts']}")
        print(markdown(table, list(TIME_MODELS)) if args.markdown
              else calibrate.format_table(table))
        result["modes"][mode] = {"counts": table.attrs["counts"],
                                 "table": table.to_dict(orient="records")}
    if args.network_fit:
        result["network_fit"] = network_fit()
    if args.national:
        result["national_car"] = national({"crowfly_v0": CROWFLY_V0["car"],
                                           "crowfly": impedance.DEFAULT_MODELS["car"]})
        print("\n=== national crow-fly car accessibility (demo PC4, CBS 2014 wijk jobs)")
        for name, res in result["national_car"].items():
            print(name, res)
    save("validate_travel_times", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
