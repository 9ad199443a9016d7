#!/usr/bin/env bash
# Every NetCDF file under DIR (default out/demo, what ./scripts/demo.sh writes) as other tools
# and s2s itself read it:
#   - `cdo sinfon` opens it and skips no data variable (5-D, unsupported structure);
#   - the CF checker (scripts/cfcheck.sh, offline tables) reports 0 errors;
#   - xarray opens it (the CF checker's venv, with xarray from PyPI);
#   - `s2s inspect` reads it (exit 0);
# every GeoTIFF (s2s export) opens in gdalinfo on EPSG:4326 with nodata on each band, and every
# GeoJSON regional table (regions.geojson of the outlook) in ogrinfo with features; every
# bulletin.pdf in pdfinfo (A4) with text, every bulletin.html with the viewport meta.
# Exempt: the synthetic model files `synth/{hindcast,forecast}_*.nc`, which imitate providers'
# own 5-D layouts (C3S, IRI NMME with months since 1960 and no month_lengths) on purpose, as
# inputs to read — they are not products.
#   usage: scripts/check_outputs.sh [DIR] [S2S]    exit status: number of failed checks (max 125)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/out/demo}"
S2S="${2:-${CARGO_TARGET_DIR:-$ROOT/target}/release/s2s}"
VENV="${CF_VENV:-$HOME/.cache/s2s-cf-venv}"
"$ROOT/scripts/cfcheck.sh" /dev/null >/dev/null 2>&1   # installs the checker's venv if needed
[ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c "import xarray" 2>/dev/null \
    && "$VENV/bin/pip" install -q xarray >/dev/null
failed=0
fail() { echo "FAIL $1"; failed=$((failed + 1)); }
mapfile -t files < <(find "$DIR" -name '*.nc' | sort | grep -Ev '/synth/(hindcast|forecast)_[^/]*\.nc$')
[ "${#files[@]}" -gt 0 ] || { echo "no NetCDF files under $DIR" >&2; exit 1; }
for f in "${files[@]}"; do
    # CDO reads grids, not CF discrete sampling geometries (featureType trajectory: drift
    # tracks as lat/lon(trajectory, time)); those get every other check.
    if ! grep -q ':featureType = "trajectory"' <<< "$(ncdump -h "$f")"; then
        if ! err=$(cdo -s sinfon "$f" 2>&1 >/dev/null); then
            fail "$f: cdo cannot open it: $(printf '%s\n' "$err" | tail -1)"
        elif printf '%s\n' "$err" | grep -qE 'Unsupported|not supported|No data arrays'; then
            # char label variables (station_name) are auxiliary coordinates, not data
            if printf '%s\n' "$err" | grep -E 'Unsupported|not supported|No data arrays' | grep -vq 'char/string'; then
                fail "$f: cdo skips data: $(printf '%s\n' "$err" | grep -E 'Unsupported|not supported' | grep -v 'char/string' | head -1)"
            fi
        fi
    fi
    "$ROOT/scripts/cfcheck.sh" "$f" > /tmp/check_outputs_cf.$$ || fail "$(head -3 /tmp/check_outputs_cf.$$ | tr '\n' ' ')"
    "$VENV/bin/python" -c "import sys, xarray; xarray.open_dataset(sys.argv[1]).load()" "$f" 2>/tmp/check_outputs_xr.$$ \
        || fail "$f: xarray: $(tail -1 /tmp/check_outputs_xr.$$)"
    "$S2S" inspect "$f" >/dev/null 2>/tmp/check_outputs_s2s.$$ || fail "$f: s2s inspect: $(head -1 /tmp/check_outputs_s2s.$$)"
done
# GeoTIFFs (s2s export): GDAL opens them on WGS 84 with a nodata value on every band.
mapfile -t tifs < <(find "$DIR" -name '*.tif' | sort)
for t in "${tifs[@]}"; do
    info=$(gdalinfo "$t" 2>&1) || { fail "$t: gdalinfo: $(printf '%s\n' "$info" | tail -1)"; continue; }
    grep -q 'ID\["EPSG",4326\]' <<< "$info" || fail "$t: not on EPSG:4326"
    bands=$(grep -c '^Band ' <<< "$info"); nodata=$(grep -c 'NoData Value=' <<< "$info")
    [ "$bands" -ge 1 ] && [ "$bands" -eq "$nodata" ] || fail "$t: $bands bands, $nodata with a nodata value"
done
# GeoJSON regional tables: OGR opens them and finds features.
mapfile -t geojsons < <(find "$DIR" -name '*.geojson' | sort)
for g in "${geojsons[@]}"; do
    info=$(ogrinfo -ro -so -al "$g" 2>&1) || { fail "$g: ogrinfo: $(printf '%s\n' "$info" | tail -1)"; continue; }
    grep -qE 'Feature Count: [1-9]' <<< "$info" || fail "$g: no feature"
done
# Bulletins: every PDF opens in poppler on A4 with text to copy out; every page has the
# viewport meta (phone width).
mapfile -t pdfs < <(find "$DIR" -name 'bulletin.pdf' | sort)
for p in "${pdfs[@]}"; do
    info=$(pdfinfo "$p" 2>&1) || { fail "$p: pdfinfo: $(printf '%s\n' "$info" | tail -1)"; continue; }
    grep -q '(A4)' <<< "$info" || fail "$p: not A4"
    [ "$(pdftotext "$p" - 2>/dev/null | wc -w)" -gt 50 ] || fail "$p: no text"
done
mapfile -t pages < <(find "$DIR" -name 'bulletin.html' | sort)
for h in "${pages[@]}"; do
    grep -q '<meta name="viewport"' "$h" || fail "$h: no viewport meta"
done
rm -f /tmp/check_outputs_*.$$
echo "checked ${#files[@]} NetCDF files (cdo, CF checker, xarray, s2s inspect), ${#tifs[@]} GeoTIFFs (gdalinfo), ${#geojsons[@]} GeoJSON tables (ogrinfo), ${#pdfs[@]} PDF and ${#pages[@]} HTML bulletins under $DIR: $failed failed"
exit $(( failed > 125 ? 125 : failed ))
