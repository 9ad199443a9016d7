"""Warm/cold spells of `s2s extremes spells` against xclim and an independent numpy count.

1. AHCCD daily tasmax at 3 stations, 1950-2013, base 1961-1990, 5-day calendar-day window:
   TX90p, WSDI (6 days), CSDI-of-tasmax (6 days) and 3-day warm spells from xclim's indices
   (percentile_doy + tx90p / warm_spell_duration_index / cold_spell_duration_index), years with
   a missing day left out (xclim's `missing="any"`), compared value for value with s2s.
2. Germany daily mean t2m 1999-2020 (CPC): 3-day warm spells and EHF heat-wave days from a
   numpy implementation written from the definitions (no xclim), compared with s2s.
3. Timing in the same run: s2s and xclim alternated, two rounds, min and max of each.

Usage: python extremes_xclim.py S2S_BINARY AHCCD_NC GERMANY_NC OUT_DIR
"""
import json
import os
import subprocess
import sys
import time

import numpy as np
import xarray as xr
from xclim.core.calendar import percentile_doy
from xclim.indices import cold_spell_duration_index, tx90p, warm_spell_duration_index

s2s, ahccd, germany, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)


def run_s2s(args, csv):
    subprocess.run([s2s, "--quiet", "--overwrite", "extremes", "spells", *args, "--out", csv], check=True)
    rows = {}
    with open(csv) as f:
        head = f.readline().strip().split(",")
        for line in f:
            # location may be quoted "lat,lon"; AHCCD names have no comma
            parts = line.strip().split(",")
            rec = dict(zip(head, parts))
            rows[(rec["location"], int(rec["year"]))] = rec
    return rows


def s2s_spells():
    base = ["--base", "1961-1990", "--var", "tasmax", ahccd]
    return {
        "wsdi": run_s2s(base, os.path.join(out, "wsdi.csv")),
        "csdi": run_s2s(["--kind", "cold", *base], os.path.join(out, "csdi.csv")),
        "warm3": run_s2s(["--min-days", "3", *base], os.path.join(out, "warm3.csv")),
    }


def xclim_spells():
    ds = xr.open_dataset(ahccd)
    tx = ds.tasmax.transpose("time", "location")
    tx.attrs["units"] = "degC"
    b = tx.sel(time=slice("1961", "1990"))
    p90 = percentile_doy(b, window=5, per=90).sel(percentiles=90)
    p10 = percentile_doy(b, window=5, per=10).sel(percentiles=10)
    res = {
        "tx90p": tx90p(tx, p90, freq="YS"),
        "wsdi": warm_spell_duration_index(tx, p90, window=6, freq="YS"),
        "warm3": warm_spell_duration_index(tx, p90, window=3, freq="YS"),
        "csdi": cold_spell_duration_index(tx, p10, window=6, freq="YS"),
    }
    missing = tx.isnull().resample(time="YS").sum() > 0
    names = [str(n) for n in ds.location.values]
    return {k: (v.where(~missing).load(), names) for k, v in res.items()}


def compare(ours, theirs, column):
    arr, names = theirs
    same = diff = skipped = 0
    worst = None
    for j, name in enumerate(names):
        for i, t in enumerate(arr.time.values):
            year = int(str(t)[:4])
            x = float(arr.values[i, j]) if arr.dims[0] == "time" else float(arr.values[j, i])
            rec = ours.get((name, year))
            o = rec[column] if rec else ""
            if np.isnan(x) and o == "":
                skipped += 1
            elif o != "" and not np.isnan(x) and float(o) == x:
                same += 1
            else:
                diff += 1
                worst = worst or (name, year, o, x)
    return {"equal": same, "different": diff, "both_missing": skipped, "first_difference": worst}


def write_fixtures(theirs):
    """The xclim values as the CSV the integration test reads (`tests/it/extremes.rs`)."""
    cols = ["tx90p", "wsdi", "warm3", "csdi"]
    names = theirs["tx90p"][1]
    with open(os.path.join(out, "ahccd_spells_xclim.csv"), "w") as f:
        f.write("year,location,tx90p,wsdi,warm_spell_days_3,csdi_of_tasmax\n")
        for j, name in enumerate(names):
            for i, t in enumerate(theirs["tx90p"][0].time.values):
                vals = [float(theirs[c][0].values[i, j]) for c in cols]
                txt = ["" if np.isnan(v) else str(int(v)) for v in vals]
                f.write(f"{str(t)[:4]},{name}," + ",".join(txt) + "\n")


def numpy_germany():
    """Independent numpy: 3-day warm spells of t2m over its calendar-day p90 (1999-2020) and
    EHF heat-wave days (Nairn & Fawcett 2015)."""
    ds = xr.open_dataset(germany)
    t = ds.t2m.values.astype(np.float64) - 273.15
    times = ds.time.values
    years = np.array([int(str(x)[:4]) for x in times])
    doy = np.array([int(np.datetime64(x, "D").astype(object).timetuple().tm_yday) for x in times])
    n = len(t)
    thr = np.full(367, np.nan)
    for d in range(1, 367):
        idx = np.where(doy == d)[0]
        if len(idx) == 0:
            continue
        pool = np.concatenate([t[max(0, i - 2):min(n, i + 3)] for i in idx])
        thr[d] = np.quantile(pool[~np.isnan(pool)], 0.9, method="median_unbiased")
    hot = t > thr[doy]
    spells = {}
    for y in np.unique(years):
        h = hot[years == y]
        runs, r = [], 0
        for v in list(h) + [False]:
            if v:
                r += 1
            else:
                if r:
                    runs.append(r)
                r = 0
        spells[int(y)] = (int(h.sum()), sum(x for x in runs if x >= 3), sum(1 for x in runs if x >= 3))
    t95 = np.quantile(t[~np.isnan(t)], 0.95, method="median_unbiased")
    ehf = np.full(n, np.nan)
    for i in range(30, n - 2):
        t3 = t[i:i + 3].mean()
        t30 = t[i - 30:i].mean()
        ehf[i] = (t3 - t95) * max(1.0, t3 - t30)
    day = np.zeros(n, bool)
    for i in np.where(ehf > 0)[0]:
        day[i:i + 3] = True
    ehf_days = {int(y): int(day[years == y].sum()) for y in np.unique(years)}
    return spells, ehf_days


def main():
    report = {}
    timings = {"s2s": [], "xclim": []}
    for _ in range(2):
        t0 = time.perf_counter()
        ours = s2s_spells()
        timings["s2s"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        theirs = xclim_spells()
        timings["xclim"].append(time.perf_counter() - t0)
    write_fixtures(theirs)
    report["ahccd_vs_xclim"] = {
        "tx90p": compare(ours["wsdi"], theirs["tx90p"], "exceedance_days"),
        "wsdi": compare(ours["wsdi"], theirs["wsdi"], "spell_days"),
        "warm_spell_days_3": compare(ours["warm3"], theirs["warm3"], "spell_days"),
        "csdi_of_tasmax": compare(ours["csdi"], theirs["csdi"], "spell_days"),
    }
    report["timing_seconds"] = {
        k: {"min": min(v), "max": max(v), "rounds": v} for k, v in timings.items()
    }
    report["speedup_xclim_over_s2s"] = {
        "min": min(timings["xclim"]) / max(timings["s2s"]),
        "max": max(timings["xclim"]) / min(timings["s2s"]),
    }
    csv = os.path.join(out, "germany_ehf.csv")
    subprocess.run([s2s, "--quiet", "--overwrite", "extremes", "spells", "--ehf", "--min-days", "3", "--base",
                    "1999-2020", "--var", "t2m", germany, "--out", csv], check=True)
    spells, ehf_days = numpy_germany()
    with open(os.path.join(out, "germany_spells_numpy.csv"), "w") as f:
        f.write("year,hot_days,spell_days_3,spells_3,ehf_heatwave_days\n")
        for y in sorted(spells):
            f.write(f"{y},{spells[y][0]},{spells[y][1]},{spells[y][2]},{ehf_days[y]}\n")
    eq = diff = 0
    firstdiff = None
    with open(csv) as f:
        head = f.readline().strip().split(",")
        for line in f:
            r = dict(zip(head, line.strip().split(",")))
            y = int(r["year"])
            mine = (int(float(r["exceedance_days"])), int(float(r["spell_days"])),
                    int(float(r["spell_count"])), int(float(r["ehf_heatwave_days"])))
            ref = (*spells[y], ehf_days[y])
            if mine == ref:
                eq += 1
            else:
                diff += 1
                firstdiff = firstdiff or (y, mine, ref)
    report["germany_vs_numpy"] = {"years_equal": eq, "years_different": diff,
                                  "first_difference": firstdiff}
    print(json.dumps(report, indent=1))
    with open(os.path.join(out, "extremes_xclim.json"), "w") as f:
        json.dump(report, f, indent=1)
    bad = [k for k, v in report["ahccd_vs_xclim"].items() if v["different"]] + (
        ["germany"] if diff else [])
    if bad:
        print("DIFFERENT:", bad, file=sys.stderr)
        sys.exit(1)


main()
