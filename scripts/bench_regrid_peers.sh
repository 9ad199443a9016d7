#!/usr/bin/env bash
# Regridding side by side with CDO on the same file in one run: 1-degree global, 144 monthly
# maps of pr and tas (written by `cargo bench --bench regrid`), onto the 1.5-degree Asia grid
# (40-150E, 15S-55N). Whole processes (read + weights + apply + write), median of 5.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --quiet
F=target/bench-data/regrid_1deg_144.nc
[ -f "$F" ] || cargo bench --bench regrid -- --noplot regrid_apply/bilinear/1deg >/dev/null
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/asia.txt" <<'G'
gridtype = lonlat
xsize = 73
ysize = 46
xfirst = 40.75
xinc = 1.5
yfirst = -14.25
yinc = 1.5
G
. scripts/bench_lib.sh
for m in bilinear conservative; do
    c=$([ $m = bilinear ] && echo remapbil || echo remapcon)
    timeit "s2s regrid $m" ./target/release/s2s regrid -q --method $m --grid 1.5 --bbox 40,150,-15,55 "$F" "$TMP/s2s_$m.nc"
    timeit "cdo -P 2 $c" cdo -s -O -P 2 $c,"$TMP/asia.txt" "$F" "$TMP/cdo_$m.nc"
done
