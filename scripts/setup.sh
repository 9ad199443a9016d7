#!/usr/bin/env bash
# Installs the system packages s2s-ensemble needs to build and test, only where missing.
# Idempotent: a second run installs nothing. Debian/Ubuntu, run as root (or with sudo available).
#
#   libnetcdf-dev  the netCDF-C library the `netcdf` crate links (and its HDF5 dependency)
#   pkg-config     lets netcdf-sys find it
#   netcdf-bin     ncdump / nccopy, used by the tests to check outputs and by the benches as a peer
#   cdo            Climate Data Operators: reference values for regridding/ensemble tests and a bench peer
#   libeccodes-dev   ECMWF ecCodes, which the GRIB reader links (cargo feature `grib`, on by default)
#   libeccodes-tools grib_filter / grib_set / grib_copy: GRIB test files and the GRIB reading bench peer
#   gdal-bin       gdalinfo / gdallocationinfo: the tests open `s2s export --geotiff` maps as GIS does
#   poppler-utils  pdfinfo / pdftotext: the tests open bulletin.pdf as a reader would
set -euo pipefail

need=()
for pkg in libnetcdf-dev pkg-config netcdf-bin cdo libeccodes-dev libeccodes-tools gdal-bin poppler-utils; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        need+=("$pkg")
    fi
done

if ((${#need[@]} == 0)); then
    echo "setup: system packages present (libnetcdf-dev pkg-config netcdf-bin cdo libeccodes-dev libeccodes-tools gdal-bin poppler-utils)"
else
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install a Rust toolchain (rustup) first" >&2
    exit 1
fi
