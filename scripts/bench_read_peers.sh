#!/usr/bin/env bash
# NetCDF read throughput, side by side on the same ~190 MB file in one run:
#   s2s-ensemble read_cube (criterion, read + decode + reorder into the Cube)
#   nccopy (netcdf-bin; read + write), cdo copy (read + write),
#   netCDF4-python var[:] (read + mask; only where python3 has netCDF4).
# Prints the median wall time of each and MB/s; the ratios go in the issue note.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo bench --bench netcdf_read -- --noplot read_cube_series 2>&1 | grep -E "^ +(time|thrpt):" | head -2 | sed 's/^ */s2s read_cube       /'
# The 3-D (time, lat, lon) copy: CDO cannot read the 5-D hindcast layout.
F=target/bench-data/read_190mb_series.nc
MB=$(python3 -c "print(24*10*6*128*256*4/1e6)")
. scripts/bench_lib.sh
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
timeit "nccopy" nccopy "$F" "$TMP/a.nc"
timeit "cdo copy" cdo -s -O copy "$F" "$TMP/b.nc"
if python3 -c "import netCDF4" 2>/dev/null; then
    timeit "netCDF4-python" python3 -c "import netCDF4; d=netCDF4.Dataset('$F'); x=d['tas'][:]"
fi
