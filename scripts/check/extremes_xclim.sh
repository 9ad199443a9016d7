#!/usr/bin/env bash
# Warm/cold spells of `s2s extremes spells` against xclim 0.62 (AHCCD tasmax, 3 stations,
# 1950-2013: TX90p, WSDI, 3-day warm-spell days, CSDI of tasmax) and an independent numpy count
# (Germany daily mean t2m 1999-2020: 3-day spells, EHF heat-wave days), with s2s and xclim
# timed in the same run (alternated, two rounds). Writes the comparison to
# bench/extremes_xclim.json and refreshes the fixtures tests/it/extremes.rs reads
# (data/real/bias_correction/ahccd_spells_xclim.csv, data/real/verification/germany_spells_numpy.csv).
# Needs the peers' Python environment: ../shared/peers/setup.sh (PyPI packages, pinned).
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
SHARED="${SHARED:-$HERE/../shared}"
VENV="${PEERS_VENV:-/tmp/peers-venv}"
bash "$SHARED/peers/setup.sh" >/dev/null
cargo build --release --quiet --manifest-path "$HERE/Cargo.toml"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$VENV/bin/python" "$HERE/scripts/check/extremes_xclim.py" "$HERE/target/release/s2s" \
  "$HERE/data/real/bias_correction/ahccd_1950-2013.nc" \
  "$HERE/data/real/verification/Observations_Germany.nc" "$tmp"
mkdir -p "$HERE/bench"
cp "$tmp/extremes_xclim.json" "$HERE/bench/extremes_xclim.json"
cp "$tmp/ahccd_spells_xclim.csv" "$HERE/data/real/bias_correction/"
cp "$tmp/germany_spells_numpy.csv" "$HERE/data/real/verification/"
echo "wrote bench/extremes_xclim.json and the two fixtures"
