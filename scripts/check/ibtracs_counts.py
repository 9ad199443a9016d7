"""Independent count of observed storms per basin, season year and month in an IBTrACS v04
NetCDF file, written from the definitions (not from s2s): a storm counts when its WMO wind
reaches 34 kt; its genesis is its first point with a position; basins are s2s's boxes
(North Indian Ocean 40-100E 0-30N, Western North Pacific 100-180E 0-60N); spur tracks are
skipped. Usage: python ibtracs_counts.py IBTrACS.last3years.v04r01.nc FIRST_MONTH LAST_MONTH Y0 Y1
(months not wrapping the year). Needs numpy and netCDF4 (PyPI)."""
import sys

import netCDF4
import numpy as np

path, m0, m1, y0, y1 = sys.argv[1], *map(int, sys.argv[2:6])
ds = netCDF4.Dataset(path)
ds.set_auto_mask(True)
iso = netCDF4.chartostring(ds["iso_time"][:])
lat, lon, wind = ds["lat"][:], ds["lon"][:], ds["wmo_wind"][:]
track_type = netCDF4.chartostring(ds["track_type"][:])
boxes = {"nio": (40, 100, 0, 30), "wnp": (100, 180, 0, 60)}
counts = {(b, y): 0 for b in boxes for y in range(y0, y1 + 1)}
months = {(b, m): 0 for b in boxes for m in range(m0, m1 + 1)}
for s in range(lat.shape[0]):
    if str(track_type[s]).startswith("spur"):
        continue
    ok = ~np.ma.getmaskarray(lat[s]) & (np.char.str_len(iso[s].astype(str)) > 0)
    if not ok.any():
        continue
    if np.ma.max(wind[s]) is np.ma.masked or np.ma.max(wind[s]) < 34:
        continue
    k = int(np.argmax(ok))
    t = str(iso[s][k])
    year, month = int(t[:4]), int(t[5:7])
    la, lo = float(lat[s][k]), float(lon[s][k]) % 360
    for b, (w, e, so, n) in boxes.items():
        if w <= lo < e and so <= la < n and m0 <= month <= m1 and y0 <= year <= y1:
            counts[(b, year)] += 1
            months[(b, month)] += 1
for b in boxes:
    print(b, "per year", [counts[(b, y)] for y in range(y0, y1 + 1)],
          "per month", [months[(b, m)] for m in range(m0, m1 + 1)])
