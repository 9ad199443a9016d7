#!/usr/bin/env bash
# Set-up (system packages, only if missing), release build, then a small end-to-end run on the
# bundled real data. Prints where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== building (release)"
cargo build --release --quiet
# -O: a second run of the demo replaces its own outputs (s2s refuses to otherwise, as CDO).
S2S="${CARGO_TARGET_DIR:-./target}/release/s2s -O"
OUT=out/demo
mkdir -p "$OUT"

echo "== s2s inspect: four real NMME hindcasts (IRI S/L/Y/X, 360-day calendar) and IMD observations"
$S2S inspect data/real/nmme_india/*_HCST.nc | tee "$OUT/inspect_nmme.txt"
$S2S inspect --assume-units mm/month data/real/nmme_india/observations.nc | tee "$OUT/inspect_imd.txt"
echo "== s2s inspect: SubX daily-lead hindcast of the RMM1 index, station series with a location dimension"
$S2S inspect data/real/verification/GMAO-GEOS-V2p1.RMM1.nc data/real/bias_correction/CanESM2_1950-2100.nc | tee "$OUT/inspect_other.txt"
$S2S inspect --json data/real/nmme_india/CCSM4_HCST.nc > "$OUT/inspect_ccsm4.json"

echo "== s2s synth + s2s regrid: a synthetic 3-model workload (C3S-like, NMME-like, plain CF), regridded"
$S2S synth --preset small --out "$OUT/synth"
$S2S regrid --method conservative --grid 1 --bbox 65,95,5,30 "$OUT/synth/hindcast_CHARLIE.nc" "$OUT/hindcast_CHARLIE_1deg.nc"
$S2S inspect "$OUT/hindcast_CHARLIE_1deg.nc" | tee "$OUT/inspect_regridded.txt"

echo "== s2s bias-correct: model ALPHA's precipitation, hindcast (leave-one-year-out) and forecast, EQM"
$S2S bias-correct --method eqm --var pr --hindcast "$OUT/synth/hindcast_ALPHA.nc" --obs "$OUT/synth/obs.nc" \
    --forecast "$OUT/synth/forecast_ALPHA.nc" --out "$OUT/bias"

echo "== s2s combine: the three bias-less synthetic models into a multi-model ensemble (model-equal weights)"
$S2S combine --var pr --hindcast "$OUT/synth/hindcast_ALPHA.nc,$OUT/synth/hindcast_BRAVO.nc,$OUT/synth/hindcast_CHARLIE.nc" \
    --forecast "$OUT/synth/forecast_ALPHA.nc,$OUT/synth/forecast_BRAVO.nc,$OUT/synth/forecast_CHARLIE.nc" --out "$OUT/mme_synth"

echo "== s2s verify: cross-validated skill of the four real NMME models and their calibrated MME against IMD rainfall"
$S2S verify --probabilities calibrated --hindcast "$(ls data/real/nmme_india/*_HCST.nc | paste -sd,)" \
    --models CanSIPSv2,CCSM4,GEOS-S2S,CFSv2 --obs data/real/nmme_india/observations.nc --obs-units mm/month \
    --regions "all=0,180,-90,90;India" \
    --out "$OUT/skill" | tee "$OUT/skill.txt"

echo "== s2s spi: SPI-3 of CMIP5 CanESM2 daily precipitation at three stations (monthly means first), calibration 1950-1980"
$S2S spi --scale 3 --calibration 1950-1980 data/real/bias_correction/CanESM2_1950-2100.nc "$OUT/spi3_canesm2.nc"

echo "== s2s cyclones: detection and tracking on synthetic 6-hourly fields with 5 planted storms (TempestExtremes criteria)"
$S2S synth --storms --step-hours 6 --days 30 --out "$OUT/storms"
$S2S cyclones track --thickness zthick --stitchnodes "$OUT/storms/tracks.txt" "$OUT/storms/storms.nc" --out "$OUT/storms/tracks.csv"
echo "== s2s cyclones on real ERA5 fields (January 2026: pressure + 850 hPa vorticity) and IBTrACS best tracks"
ERA=data/real/cyclones
mkdir -p "$OUT/era5"
$S2S cyclones track --vorticity vo --min-lat -40 --max-lat 40 \
    "$ERA/era5_msl_2026-01_2.5x2.5.nc;$ERA/era5_vo850_2026-01_2.5x2.5.nc" \
    --stitchnodes "$OUT/era5/tracks.txt" --out "$OUT/era5/tracks.csv" --map "$OUT/era5/tracks.png"
$S2S cyclones validate --tracks "$ERA/IBTrACS.last3years.v04r01.nc" \
    --best-track "$ERA/IBTrACS.last3years.v04r01.nc" --out "$OUT/era5/ibtracs_self_validation.csv"

echo "== s2s extremes: warm spells (TX90p, WSDI) of the AHCCD stations; heat waves and heavy rain of a synthetic daily S2S set (planted events)"
$S2S extremes spells --base 1961-1990 --var tasmax data/real/bias_correction/ahccd_1950-2013.nc --out "$OUT/wsdi_ahccd.csv"
$S2S synth --daily-extremes --out "$OUT/daily"
for v in tasmax pr; do
    $S2S extremes outlook --hindcast "$OUT/daily/${v}_hindcast.nc" --forecast "$OUT/daily/${v}_forecast.nc" \
        --obs "$OUT/daily/${v}_obs.nc" --out "$OUT/extremes_$v"
done

echo "== s2s emergency: drift of oil from the MT New Diamond site (7.0N 82.5E, 3 Sept 2020) in synthetic monsoon currents, with the cyclone check"
$S2S synth --currents monsoon --out "$OUT/currents"
$S2S emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 30 --currents "$OUT/currents/currents.nc" \
    --cyclone-fields "$OUT/storms/storms.nc" --out "$OUT/emergency"

echo "== s2s outlook: the South Asia rainfall bulletin from the real NMME models (data/demo/outlook.toml)"
$S2S outlook --config data/demo/outlook.toml --out "$OUT/bulletin"

echo "== s2s export: the bulletin's probability and dominant-category maps as GeoTIFF (EPSG:4326) for GIS"
$S2S export --geotiff --out "$OUT/bulletin/gis" "$OUT/bulletin/mme_forecast.prec.nc"

echo "== s2s outlook: Central, South and Southeast Asia — rainfall, temperature, drought, cyclone genesis potential"
echo "   (three synthetic models and monthly environments made by s2s synth; data/demo/asia.toml)"
$S2S synth --preset asia --out data/demo/synthetic
$S2S synth --gpi --out data/demo/synthetic
$S2S outlook --config data/demo/asia.toml --out "$OUT/asia"

echo "== s2s outlook (no configuration): the default outlook, one bulletin per region — South Asia from"
echo "   the real NMME models, Central and Southeast Asia from the synthetic models (HTML and PDF)"
$S2S outlook --out "$OUT/outlook"

echo
echo "Demo finished. The bulletin is $OUT/bulletin/bulletin.md (one-file page: $OUT/bulletin/bulletin.html; maps: $OUT/bulletin/map_prec_lead0.png, drought: $OUT/bulletin/map_spi_lead0.png);"
echo "The Asia bulletin (synthetic models) is $OUT/asia/bulletin.html, one per region in $OUT/asia/<region>/bulletin.html;"
echo "The default outlook's bulletins are $OUT/outlook/<region>/<region>/bulletin.html and .pdf (central_asia, south_asia, southeast_asia);"
echo "The emergency bulletin (synthetic data) is $OUT/emergency/emergency.html; cyclone tracks: $OUT/storms/tracks.csv."
echo "other reports are in $OUT/:"
ls -1 "$OUT"
