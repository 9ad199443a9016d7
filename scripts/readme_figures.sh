#!/usr/bin/env bash
# Remakes the bulletin pictures of the README (docs/img/) from the demo configurations:
# the tercile, percent-of-normal and drought maps of the NMME demo, a POE curve and a plume of
# India, page 1 of the PDF bulletin (pdftoppm, poppler-utils) and the Central Asia headlines.
#   usage: scripts/readme_figures.sh        (after ./scripts/demo.sh has built s2s)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
S2S="${CARGO_TARGET_DIR:-./target}/release/s2s -O -q"
OUT=out/readme
mkdir -p "$OUT" docs/img
$S2S outlook --config data/demo/outlook.toml --out "$OUT/bulletin"
cp "$OUT/bulletin/map_prec_lead0.png" docs/img/demo_prec_outlook.png
cp "$OUT/bulletin/map_prec_pct_normal_lead0.png" docs/img/demo_prec_pct_normal.png
cp "$OUT/bulletin/map_spi_lead0.png" docs/img/demo_spi_outlook.png
cp "$OUT/bulletin/map_prec_extreme_high_lead0.png" docs/img/demo_prec_very_wet.png
cp "$OUT/bulletin/india/poe_prec_lead0.png" docs/img/demo_india_poe.png
cp "$OUT/bulletin/india/plume_prec_lead0.png" docs/img/demo_india_plume.png
pdftoppm -r 70 -png -f 1 -l 1 -singlefile "$OUT/bulletin/bulletin.pdf" docs/img/demo_bulletin_pdf_page1
$S2S outlook --out "$OUT/outlook"
grep -A6 '^## Headlines' "$OUT/outlook/central_asia/central_asia/bulletin.md"
# the Asia demo in Russian (language = "ru"): the Central Asia temperature map
sed -e "s|\"synthetic/|\"$ROOT/data/demo/synthetic/|g" data/demo/asia.toml > "$OUT/asia_ru.toml"
printf '\n[issuer]\nlanguage = "ru"\n' >> "$OUT/asia_ru.toml"
$S2S outlook --config "$OUT/asia_ru.toml" --out "$OUT/asia_ru"
cp "$OUT/asia_ru/central_asia/map_tas_lead1.png" docs/img/demo_ru_central_asia_tas.png
# the extremes outlook of the synthetic daily set (planted heat wave)
$S2S synth --daily-extremes --out "$OUT/daily"
$S2S extremes outlook --hindcast "$OUT/daily/tasmax_hindcast.nc" --forecast "$OUT/daily/tasmax_forecast.nc" \
    --obs "$OUT/daily/tasmax_obs.nc" --out "$OUT/extremes_tasmax"
cp "$OUT/extremes_tasmax/map_extremes_heat_wave_weeks-3-4.png" docs/img/synthetic_heat_wave_weeks3-4.png
# the sea-ice probability map of the real CanESM5 September 2020 field (planted hindcast)
./scripts/check/seaice_outlook_demo.sh "$OUT/seaice"
cp "$OUT/seaice/outlook/map_sea_ice_probability.png" docs/img/canesm5_sip_2020-09.png
# tracks on real ERA5 fields (January 2026, pressure + 850 hPa vorticity, 40S-40N)
ERA=data/real/cyclones
$S2S cyclones track --vorticity vo --min-lat -40 --max-lat 40 \
    "$ERA/era5_msl_2026-01_2.5x2.5.nc;$ERA/era5_vo850_2026-01_2.5x2.5.nc" \
    --out "$OUT/era5_tracks.csv" --map docs/img/era5_tracks_2026-01.png
ls -la docs/img
# the emergency drift map of the demo (./scripts/demo.sh writes it)
[ -f out/demo/emergency/map_drift_day30.png ] && cp out/demo/emergency/map_drift_day30.png docs/img/synthetic_emergency_drift_day30.png
true
