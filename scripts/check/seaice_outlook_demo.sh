#!/usr/bin/env bash
# The README's sea-ice runs: the extent of the bundled CanESM5 file, and the outlook with the
# planted hindcast of tests/it/seaice.rs (the observed NSIDC September record + 0.7 million
# km², three members ±0.1) — it shows the mechanics; it is not a forecast.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-out/seaice}"
mkdir -p "$out"
s2s=./target/release/s2s
[ -x "$s2s" ] || cargo build --release --quiet
"$s2s" seaice extent data/real/seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc --out "$out/extent.csv"
grep 2020-09 "$out/extent.csv"
awk -F, 'NR > 1 && $1 < 2020 { for (m = 0; m < 3; m++) printf "%d-09-16,north,%.4f,0,%d\n", $1, $5 + 0.7 + (m - 1) * 0.1, m }
         BEGIN { print "time,hemisphere,extent,area,member" }' data/real/seaice/N_09_extent_v3.0.csv > "$out/CanESM5_hindcast.csv"
"$s2s" -O seaice outlook --hindcast "$out/CanESM5_hindcast.csv" \
    --forecast data/real/seaice/sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc \
    --observed data/real/seaice/N_09_extent_v3.0.csv --target 2020-09 --models CanESM5 --out "$out/outlook"
