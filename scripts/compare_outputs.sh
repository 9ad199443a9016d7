#!/usr/bin/env bash
# Runs both demo outlooks, three outlook variants and 18 subcommand runs (combine in three set-ups, bias-correct with
# three methods, verify on synthetic and real NMME data, spi, cyclones detect/track/outlook/gpi,
# emergency, regrid) with two `s2s` binaries and compares every output file: byte for byte, or
# for NetCDF the ncdump text with the `history` timestamps and the output folder normalised,
# for provenance.json without the stage times. Prints "IDENTICAL (normalised)" or each
# differing file; exit 1 on a difference. For refactors that must not change a number:
#   cp target/release/s2s /tmp/s2s_before   # (on the old commit)
#   cargo build --release && ./scripts/compare_outputs.sh /tmp/s2s_before target/release/s2s
set -uo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "$1"); B=$(realpath "$2")
WORK=${COMPARE_WORK:-$(mktemp -d)}
W=$WORK/wl
q="--quiet"
$A $q synth --preset small --out "$W" && $A $q synth --storms --step-hours 6 --days 30 --out "$W/storms" \
  && $A $q synth --currents monsoon --out "$W/currents" && $A $q synth --preset asia --out data/demo/synthetic \
  && $A $q synth --gpi --out data/demo/synthetic || { echo "synth failed"; exit 2; }

# Outlook variants beyond the demos: observed edges with leave-one-year-out EQM and skill
# weights; target periods, a 3° [grid] and mean scaling with pooled members; PMME regridded onto
# the observations' grid.
V=$W/variants; mkdir -p "$V"
models() {
  for m in ALPHA BRAVO CHARLIE; do
    printf '[[models]]\nname = "%s"\nhindcast = "%s/hindcast_%s.nc"\nforecast = "%s/forecast_%s.nc"\n\n' "$m" "$1" "$m" "$1" "$m"
  done
  printf '[observations]\npath = "%s/obs.nc"\n\n' "$1"
}
{ printf 'variable = ["pr", "tas"]\nbias = "eqm"\nedges_from_obs = true\nweights = "skill"\nregions = ["south_asia"]\n\n'; models "$W"; } > "$V/obs_edges.toml"
{ printf 'variable = ["pr", "tas"]\nbias = "scaling"\nweights = "pooled"\nperiods = ["month 1", "months 2-3"]\nregions = ["south_asia"]\n\n'; models "$W"
  printf '[grid]\nspacing = "3"\n'; } > "$V/periods_grid.toml"
{ printf 'variable = "pr"\nbias = "none"\nweights = "pmme"\nregions = ["south_asia", "southeast_asia"]\n\n'; models "$(realpath data/demo/synthetic)"
  printf '[grid]\n'; } > "$V/pmme_grid.toml"

run_all() {
  local S2S=$1 OUT=$2
  rm -rf "$OUT"; mkdir -p "$OUT"
  run() { echo "== $*" >> "$OUT/cmds.log"; "$@" >> "$OUT/cmds.log" 2>&1; echo "rc=$?" >> "$OUT/cmds.log"; }
  local H=$W/hindcast_ALPHA.nc,$W/hindcast_BRAVO.nc,$W/hindcast_CHARLIE.nc
  local F=$W/forecast_ALPHA.nc,$W/forecast_BRAVO.nc,$W/forecast_CHARLIE.nc
  run $S2S $q outlook --config data/demo/outlook.toml --out "$OUT/bulletin"
  run $S2S $q outlook --config data/demo/asia.toml --out "$OUT/asia"
  for v in obs_edges periods_grid pmme_grid; do run $S2S $q outlook --config "$V/$v.toml" --out "$OUT/outlook_$v"; done
  run $S2S $q combine --var pr --hindcast $H --forecast $F --obs $W/obs.nc --out "$OUT/combine_pr"
  run $S2S $q combine --var tas --hindcast $H --forecast $F --obs $W/obs.nc --weights skill --edges obs --hindcast-fields all --out "$OUT/combine_tas"
  run $S2S $q combine --var pr --hindcast $H --forecast $F --obs $W/obs.nc --weights pmme --out "$OUT/combine_pmme"
  run $S2S $q combine --var pr --hindcast $H --forecast $F --obs $W/obs.nc --edges obs --cv none --extremes none --levels 0.2,0.8 --out "$OUT/combine_quint"
  run $S2S $q bias-correct --method eqm --var pr --hindcast $W/hindcast_ALPHA.nc --obs $W/obs.nc --forecast $W/forecast_ALPHA.nc --out "$OUT/bias_eqm"
  run $S2S $q bias-correct --method qdm --var tas --hindcast $W/hindcast_BRAVO.nc --obs $W/obs.nc --forecast $W/forecast_BRAVO.nc --out "$OUT/bias_qdm"
  run $S2S $q bias-correct --method scaling --var pr --hindcast $W/hindcast_CHARLIE.nc --obs $W/obs.nc --out "$OUT/bias_scaling"
  run $S2S $q verify --var pr --hindcast $H --obs $W/obs.nc --regions south_asia --bootstrap 50 --out "$OUT/verify_pr"
  run $S2S $q verify --probabilities pmme --hindcast "$(ls data/real/nmme_india/*_HCST.nc | paste -sd,)" \
      --obs data/real/nmme_india/observations.nc --obs-units mm/month --regions "india=66,100,6,38;south_asia" --out "$OUT/verify_nmme"
  run $S2S $q spi --scale 3 --calibration 1950-1980 data/real/bias_correction/CanESM2_1950-2100.nc "$OUT/spi3.nc"
  run $S2S $q cyclones detect $W/storms/storms.nc --out "$OUT/nodes.txt"
  run $S2S $q cyclones track --thickness zthick --stitchnodes "$OUT/tracks.txt" $W/storms/storms.nc --out "$OUT/tracks.csv"
  run $S2S $q cyclones outlook --forecast $W/storms/storms.nc --hindcast $W/storms/storms.nc --season 9-9 --basins nio,bob,arb,wnp --out "$OUT/tc_outlook"
  run $S2S $q cyclones gpi --fields data/demo/synthetic/gpi_hindcast.nc --out "$OUT/gpi.nc"
  run $S2S $q emergency --lat 7.0 --lon 82.5 --start 2020-09-03 --days 30 --currents $W/currents/currents.nc \
      --cyclone-fields $W/storms/storms.nc --out "$OUT/emergency"
  run $S2S $q regrid --method conservative --grid 1 --bbox 65,95,5,30 $W/hindcast_CHARLIE.nc "$OUT/regrid.nc"
}
run_all "$A" "$WORK/a"
run_all "$B" "$WORK/b"

norm() {
  sed -E -e "s#$2#OUT#g" -e "s#($A|$B)#S2S#g" -e 's#[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z?#TS#g' \
      -e 's#"(seconds|peak_rss_mib|wall_seconds|total_seconds)": [0-9.e+-]+#"\1": X#g' "$1"
}
bad=0
for f in $(cd "$WORK/a" && find . -type f | sort); do
  [ "$f" = ./cmds.log ] && continue
  if [ ! -f "$WORK/b/$f" ]; then echo "missing in B: $f"; bad=1; continue; fi
  cmp -s "$WORK/a/$f" "$WORK/b/$f" && continue
  case "$f" in
    *.nc) diff -q <(ncdump "$WORK/a/$f" | norm /dev/stdin "$WORK/a") <(ncdump "$WORK/b/$f" | norm /dev/stdin "$WORK/b") >/dev/null || { echo "differs: $f"; bad=1; } ;;
    *) diff -q <(norm "$WORK/a/$f" "$WORK/a") <(norm "$WORK/b/$f" "$WORK/b") >/dev/null || { echo "differs: $f"; bad=1; } ;;
  esac
done
for f in $(cd "$WORK/b" && find . -type f | sort); do [ -f "$WORK/a/$f" ] || { echo "only in B: $f"; bad=1; }; done
diff <(grep -v '^==' "$WORK/a/cmds.log" | sed "s#$WORK/a#OUT#g") <(grep -v '^==' "$WORK/b/cmds.log" | sed "s#$WORK/b#OUT#g") >/dev/null \
  || { echo "differs: exit codes or messages (cmds.log)"; bad=1; }
echo "$(grep -c '^==' "$WORK/a/cmds.log") runs, $(cd "$WORK/a" && find . -type f | wc -l) files: $WORK"
if [ $bad = 0 ]; then echo "IDENTICAL (normalised)"; else exit 1; fi
