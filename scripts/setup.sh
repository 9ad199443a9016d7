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
#
# --mpi also installs what the `mpi` cargo feature (runs under `mpirun -n N`) builds and runs with:
#   libopenmpi-dev openmpi-bin  Open MPI: the library rsmpi links, mpicc (which rsmpi asks for
#                               its flags) and mpirun
#   libclang-dev                libclang, with which rsmpi generates its bindings to mpi.h
#
# --python sets up what the Python bindings (python/, `import s2s_ensemble`) build and test with:
#   python3 python3-venv python3-pip  from Debian, only where no python3 with venv and pip is
#                                     found (a machine may have its own CPython)
#   a virtual environment at ${S2S_PYTHON_VENV:-$HOME/.cache/s2s-python-venv} with
#   python/requirements-test.txt from PyPI (the peers' pinned versions and pytest), installed
#   again only when that file changes; the wheel itself is built by maturin (from PyPI) when
#   `pip install ./python` runs (scripts/test.sh --python)
set -euo pipefail

packages=(libnetcdf-dev pkg-config netcdf-bin cdo libeccodes-dev libeccodes-tools gdal-bin poppler-utils)
with_python=0
for arg in "$@"; do
    case "$arg" in
        --mpi) packages+=(libopenmpi-dev openmpi-bin libclang-dev) ;;
        --python)
            with_python=1
            if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
                packages+=(python3 python3-venv python3-pip)
            fi
            ;;
        *) echo "setup: unknown option $arg (use --mpi, --python or nothing)" >&2; exit 2 ;;
    esac
done

need=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        need+=("$pkg")
    fi
done

if ((${#need[@]} == 0)); then
    echo "setup: system packages present (${packages[*]})"
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

if [ "$with_python" -eq 1 ]; then
    root="$(cd "$(dirname "$0")/.." && pwd)"
    venv="${S2S_PYTHON_VENV:-$HOME/.cache/s2s-python-venv}"
    if [ ! -x "$venv/bin/python" ]; then
        echo "setup: creating the Python environment $venv"
        python3 -m venv "$venv"
    fi
    stamp="$venv/.s2s-requirements.sha256"
    want="$(sha256sum "$root/python/requirements-test.txt" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "setup: installing python/requirements-test.txt into $venv"
        "$venv/bin/pip" install -q --upgrade pip
        "$venv/bin/pip" install -q -r "$root/python/requirements-test.txt"
        echo "$want" > "$stamp"
    else
        echo "setup: Python environment ready ($venv)"
    fi
fi
