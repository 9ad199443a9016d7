#!/usr/bin/env bash
# Grid-relative currents of a real ocean model, rotated by s2s and by an independent numpy
# computation: OpenDrift's test file `tests/test_data/2Feb2016_Nordic_sigma_3d/
# Arctic20_1to5Feb_2016.nc` (ROMS Arctic-20km on a polar-stereographic grid, +lon_0=58, u/v
# with standard names x_/y_sea_water_velocity, 17 depth levels, land masked). The top level is
# cut with ncks, `s2s regrid --method distance` turns u/v to east/north and regrids them to
# 0.5°; numpy rotates them with the projection's own convergence angle -(lon - 58°) and
# applies the same inverse-distance weights (4 nearest centres) at every target inside the
# model grid. Prints the largest difference (stop note of #26: 5.2e-6 m/s over 4370 values;
# without the rotation they would differ by up to 0.33 m/s).
#
#   scripts/check/rotation_arctic20.sh PATH/TO/Arctic20_1to5Feb_2016.nc
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$(realpath "$1")
py="${S2S_PYTHON_VENV:-$HOME/.cache/s2s-python-venv}/bin/python"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ncks -O -d depth,0 -v u,v,latitude,longitude,polar_stereographic "$src" "$tmp/top.nc"
"$root/target/release/s2s" -q regrid --method distance --grid 0.5 --bbox 10,40,70,78 \
    "$tmp/top.nc" "$tmp/top_0.5deg.nc"
"$py" - "$tmp/top.nc" "$tmp/top_0.5deg.nc" <<'PY'
# (lon_0 = 58), IDW over the 4 nearest centres, compare with s2s regrid --method distance.
import netCDF4, numpy as np, sys
f = netCDF4.Dataset(sys.argv[1]); g = netCDF4.Dataset(sys.argv[2])
lat = f['latitude'][:].astype(float); lon = f['longitude'][:].astype(float)
def unit(la,lo):
    la=np.radians(la); lo=np.radians(lo); return np.stack([np.cos(la)*np.cos(lo), np.cos(la)*np.sin(lo), np.sin(la)],-1)
P = unit(lat,lon).reshape(-1,3)
sp = np.median(np.linalg.norm(unit(lat[:,1:],lon[:,1:])-unit(lat[:,:-1],lon[:,:-1]),axis=-1))
tl = g['lat'][:]; tn = g['lon'][:]
worst = 0; worst_unrot = 0; n = 0
for t in range(f.dimensions['time'].size):
    u = f['u'][t,0].astype(float).filled(np.nan); v = f['v'][t,0].astype(float).filled(np.nan)
    a = -np.radians(lon-58.0)
    E = u*np.cos(a) - v*np.sin(a); N = u*np.sin(a) + v*np.cos(a)
    oe = np.squeeze(g['u'][:])[t]; on = np.squeeze(g['v'][:])[t]
    for jj in range(len(tl)):
        for ii in range(len(tn)):
            c = np.linalg.norm(P - unit(tl[jj], tn[ii]), axis=1)
            k = np.argsort(c, kind='stable')[:4]
            if c[k[-1]] > 2*sp: continue   # a target at the domain's edge
            w = 1/(2*np.arcsin(np.minimum(c[k]/2,1))); ok = np.isfinite(E.ravel()[k])
            if not ok.any() or np.ma.is_masked(oe[jj,ii]): continue
            re = np.sum(w[ok]*E.ravel()[k][ok])/np.sum(w[ok]); rn = np.sum(w[ok]*N.ravel()[k][ok])/np.sum(w[ok])
            ru = np.sum(w[ok]*u.ravel()[k][ok])/np.sum(w[ok])
            worst = max(worst, abs(re-oe[jj,ii]), abs(rn-on[jj,ii])); worst_unrot = max(worst_unrot, abs(ru-oe[jj,ii])); n += 1
print(f"{n} values: largest |s2s - numpy| {worst:.2e} m/s (unrotated would differ by up to {worst_unrot:.2f} m/s)")
PY
