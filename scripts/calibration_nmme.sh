#!/usr/bin/env bash
# The calibration comparison of the README on the bundled real NMME monsoon hindcasts (4 models,
# ensemble means, Oct–Dec 1982–2019) against IMD rainfall: cross-validated skill of each model
# and of the MME with every probability method, one table per method. Run time ~15 s.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --quiet
S2S=./target/release/s2s
OUT=out/calibration_nmme
mkdir -p "$OUT"
for method in calibrated elr pcr pmme; do
    echo "== --probabilities $method"
    $S2S verify --probabilities "$method" --hindcast "$(ls data/real/nmme_india/*_HCST.nc | paste -sd,)" \
        --models CanSIPSv2,CCSM4,GEOS-S2S,CFSv2 --obs data/real/nmme_india/observations.nc --obs-units mm/month \
        --regions "all=0,180,-90,90;India" --out "$OUT/$method" | sed -n '1,15p' | tee "$OUT/$method.txt"
done
echo "tables: $OUT/{calibrated,elr,pcr,pmme}.txt"
