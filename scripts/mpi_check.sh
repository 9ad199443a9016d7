#!/usr/bin/env bash
# The `mpi` build under `mpirun -n 1|2|3` against the one-process binary: byte-identical NetCDF
# from `s2s combine`, `s2s bias-correct` and `s2s verify` (with its JSON and PNG diagrams) on the
# small synthetic workload and the demo's real NMME models over India with land-only
# observations, and from `s2s spi`; the same nodes and tracks
# from `s2s cyclones detect|track` (ERA5 January 2026 — also TempestExtremes' StitchNodes text —
# and synthetic storms); one error and a non-zero exit when an input is bad; `s2s outlook`
# (variables spread by bands, rank 0 drawing) writing the same files, PDF bulletins included, on
# the NMME demo and on the synthetic Asia demo with halos, observed edges and the SPI from the
# observed record; and a subcommand that runs on rank 0 alone printing what one process prints.
#
#   scripts/mpi_check.sh SERIAL_S2S MPI_S2S
#
# scripts/test.sh --mpi builds both binaries and runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
serial=$(realpath "$1")
mpi_s2s=$(realpath "$2")
if [ "$(id -u)" -eq 0 ]; then
    # Open MPI refuses root unless told; CI runs as root in a throw-away machine.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# the history line's time: the only thing two runs of one command could differ by
export SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# same_bytes NAME DIR_A DIR_B: every file of DIR_A (NetCDF, JSON, PNG) has the same bytes in DIR_B
same_bytes() {
    local name=$1 a=$2 b=$3 f
    for f in "$a"/*; do
        if ! cmp -s "$f" "$b/$(basename "$f")"; then
            echo "FAIL $name: $(basename "$f") differs from one process's"; failed=1; return
        fi
    done
    echo "ok   $name: $(ls "$a" | wc -l) files byte-identical"
}

# spread_case NAME SUBCOMMAND ARGS...: the one-process binary, then mpirun -n 1, 2, 3 (one
# thread per rank), with the same command line into the same output folder (both are in the
# files' history), each compared with the first.
spread_case() {
    local name=$1 subcommand=$2; shift 2
    local out="$work/out"
    rm -rf "$out" "$work/ref"
    # (the results printed on stdout — verify's table — are compared as files)
    "$serial" -q --threads 1 "$subcommand" "$@" --out "$out" > /dev/null
    mv "$out" "$work/ref"
    for n in 1 2 3; do
        rm -rf "$out"
        mpirun --oversubscribe -n "$n" "$mpi_s2s" -q --threads 1 "$subcommand" "$@" --out "$out" \
            > /dev/null
        same_bytes "$subcommand, $name, -n $n" "$work/ref" "$out"
    done
}
combine_case() {
    local name=$1; shift
    spread_case "$name" combine "$@"
}

echo "== the small synthetic workload (3 models, 2° South Asia)"
"$serial" -q synth --preset small --out "$work/wl"
wl=$work/wl
h=$wl/hindcast_ALPHA.nc,$wl/hindcast_BRAVO.nc,$wl/hindcast_CHARLIE.nc
f=$wl/forecast_ALPHA.nc,$wl/forecast_BRAVO.nc,$wl/forecast_CHARLIE.nc
combine_case "calibrated" --var pr --hindcast "$h" --forecast "$f" --obs "$wl/obs.nc"
combine_case "skill, radius 2 (halo)" --var pr --hindcast "$h" --forecast "$f" --obs "$wl/obs.nc" \
    --weights skill --skill-radius 2 --hindcast-fields all
combine_case "pcr (whole field on rank 0)" --var pr --hindcast "$h" --forecast "$f" \
    --obs "$wl/obs.nc" --weights pcr
combine_case "model weights, no observations" --var tas --hindcast "$h" --forecast "$f" \
    --weights model

bias_case() {
    local name=$1; shift
    spread_case "$name" bias-correct "$@"
}
bias_case "eqm, loyo" --method eqm --var pr --hindcast "$wl/hindcast_BRAVO.nc" \
    --forecast "$wl/forecast_BRAVO.nc" --obs "$wl/obs.nc"
bias_case "qdm, leave-3" --method qdm --cv leave-3 --var pr --hindcast "$wl/hindcast_CHARLIE.nc" \
    --forecast "$wl/forecast_CHARLIE.nc" --obs "$wl/obs.nc"
bias_case "variance (temperature)" --method variance --var tas \
    --hindcast "$wl/hindcast_ALPHA.nc" --forecast "$wl/forecast_ALPHA.nc" --obs "$wl/obs.nc"

verify_case() {
    local name=$1; shift
    spread_case "$name" verify "$@"
}
regions='south=60,100,0,20;north=60,100,20,40'
verify_case "members, every score, 40 bootstrap resamples, 2 regions" --var pr --hindcast "$h" \
    --obs "$wl/obs.nc" --scores all --bootstrap 40 --regions "$regions"
verify_case "calibrated probabilities" --var pr --hindcast "$h" --obs "$wl/obs.nc" \
    --probabilities calibrated --regions "$regions"
# probabilities made elsewhere (here: the MME's cross-validated hindcast), beside the models
"$serial" -q combine --var pr --hindcast "$h" --obs "$wl/obs.nc" --out "$work/given"
verify_case "given probabilities beside the models" --var pr --hindcast "$h" --obs "$wl/obs.nc" \
    --forecast-probabilities "$work/given/mme_hindcast.pr.nc" --regions "$regions"

echo "== the demo's real NMME models over India, IMD observations (land only)"
real=data/real/nmme_india
models="CANSIPSV2 CCSM4 NASAGEOSS2S NCEPCFSV2"
rh=$(for m in $models; do printf '%s,' "$real/${m}_HCST.nc"; done)
rf=$(for m in $models; do printf '%s,' "$real/${m}_FCST.nc"; done)
combine_case "NMME over India" --var prec --hindcast "${rh%,}" --forecast "${rf%,}" \
    --obs "$real/observations.nc" --obs-var rf --obs-units mm/month
verify_case "NMME over India, land-only observations" --var prec --hindcast "${rh%,}" \
    --obs "$real/observations.nc" --obs-var rf --obs-units mm/month --bootstrap 20 \
    --probabilities calibrated --regions 'india=68,98,6,36'
bias_case "EQM of CCSM4 over India" --method eqm --var pr --hindcast "$real/CCSM4_HCST.nc" \
    --forecast "$real/CCSM4_FCST.nc" --obs "$real/observations.nc" --obs-units mm/month

echo "== s2s spi of the workload's monthly observations"
rm -rf "$work/spi" && mkdir -p "$work/spi"
"$serial" -q --threads 1 spi --calibration 1993-2005 "$wl/obs.nc" "$work/spi/spi3.nc"
rm -rf "$work/ref" && mv "$work/spi" "$work/ref"
for n in 1 2 3; do
    rm -rf "$work/spi" && mkdir -p "$work/spi"
    mpirun --oversubscribe -n "$n" "$mpi_s2s" -q --threads 1 spi --calibration 1993-2005 \
        "$wl/obs.nc" "$work/spi/spi3.nc"
    same_bytes "spi, -n $n" "$work/ref" "$work/spi"
done
rm -rf "$work/ref"

echo "== s2s cyclones detect|track: ERA5 January 2026 at 2.5° (time steps over the ranks)"
cyc=data/real/cyclones
run="$cyc/era5_msl_2026-01_2.5x2.5.nc;$cyc/era5_vo850_2026-01_2.5x2.5.nc"
"$serial" -q synth --storms --step-hours 24 --days 20 --start 2020-09-01 --out "$work/storms"
# cyclone_case NAME ARGS...: detect and track (with the StitchNodes text) by one process and
# by mpirun -n 1, 2, 3, the texts compared
cyclone_case() {
    local name=$1; shift
    local n d
    rm -rf "$work/cyc" && mkdir -p "$work/cyc/ref"
    "$serial" -q cyclones detect "$@" --out "$work/cyc/ref/nodes.txt"
    "$serial" -q cyclones track "$@" --stitchnodes "$work/cyc/ref/tracks.txt" \
        --out "$work/cyc/ref/tracks.csv"
    for n in 1 2 3; do
        d="$work/cyc/n$n" && mkdir -p "$d"
        mpirun --oversubscribe -n "$n" "$mpi_s2s" -q cyclones detect "$@" --out "$d/nodes.txt"
        mpirun --oversubscribe -n "$n" "$mpi_s2s" -q cyclones track "$@" \
            --stitchnodes "$d/tracks.txt" --out "$d/tracks.csv"
        if cmp -s "$work/cyc/ref/nodes.txt" "$d/nodes.txt" && cmp -s "$work/cyc/ref/tracks.csv" "$d/tracks.csv" \
            && cmp -s "$work/cyc/ref/tracks.txt" "$d/tracks.txt"; then
            echo "ok   cyclones, $name, -n $n: nodes and tracks identical ($(grep -vc '^#' "$d/nodes.txt") node lines, $(($(wc -l < "$d/tracks.csv") - 1)) track points)"
        else
            echo "FAIL cyclones, $name, -n $n: differs from one process's"; failed=1
        fi
    done
}
cyclone_case "ERA5 msl + vo850, 40S-40N" --vorticity vo --min-lat -40 --max-lat 40 "$run"
if cmp -s "$cyc/te_stitchnodes_era5_2026-01.txt" "$work/cyc/n3/tracks.txt"; then
    echo "ok   cyclones, ERA5, -n 3: StitchNodes text identical to TempestExtremes'"
else
    echo "FAIL cyclones, ERA5, -n 3: StitchNodes text differs from TempestExtremes'"; failed=1
fi
cyclone_case "20 days of synthetic storms, members" --thickness zthick "$work/storms/storms.nc"

echo "== a bad input: one error, a non-zero exit, no output"
printf 'not a netcdf file' > "$work/bad.nc"
rm -rf "$work/out"
if mpirun --oversubscribe -n 3 "$mpi_s2s" combine --var pr --hindcast "$h" --obs "$work/bad.nc" \
    --out "$work/out" > "$work/bad.log" 2>&1; then
    echo "FAIL bad input: exit status 0"; failed=1
else
    errors=$(grep -c '^error:' "$work/bad.log" || true)
    if [ "$errors" -eq 1 ] && ! ls "$work/out"/*.nc > /dev/null 2>&1; then
        echo "ok   bad input: one error line ($(grep '^error:' "$work/bad.log" | cut -c1-90)…)"
    else
        echo "FAIL bad input: $errors error lines, outputs: $(ls "$work/out" 2>/dev/null)"
        cat "$work/bad.log"; failed=1
    fi
fi

# outlook_case NAME CONFIG: s2s outlook, each variable spread over the ranks by latitude bands
# (rank 0 writes and draws): every file it writes, in every region's folder, the same bytes as
# one process's — the NetCDF products, maps, Markdown, HTML, JSON and PDF bulletins — but
# provenance.json, whose stages carry their seconds and memory.
outlook_case() {
    local name=$1 config=$2 n f bad
    local out="$work/out"
    rm -rf "$out" "$work/ref"
    "$serial" -q --threads 1 outlook --config "$config" --out "$out" > /dev/null
    mv "$out" "$work/ref"
    for n in 1 2 3; do
        rm -rf "$out"
        mpirun --oversubscribe -n "$n" "$mpi_s2s" -q --threads 1 outlook --config "$config" \
            --out "$out" > /dev/null
        bad=""
        while IFS= read -r f; do
            [ "$(basename "$f")" = provenance.json ] && continue
            cmp -s "$work/ref/$f" "$out/$f" || bad="$bad $f"
        done < <(cd "$work/ref" && find . -type f | sort)
        if [ -n "$bad" ]; then
            echo "FAIL outlook, $name, -n $n:$bad differ from one process's"; failed=1
        else
            echo "ok   outlook, $name, -n $n: $(cd "$work/ref" && find . -type f | wc -l) files byte-identical (provenance.json aside)"
        fi
    done
}

echo "== s2s outlook: the demo's NMME rainfall bulletin, the synthetic Asia bulletin and variants"
outlook_case "NMME South Asia" data/demo/outlook.toml
# the synthetic models of the Asia demo (written by the default outlook when missing)
demo=$PWD/data/demo
if [ ! -f "$demo/synthetic/hindcast_ALPHA.nc" ]; then
    "$serial" -q outlook --out "$work/default" > /dev/null
fi
# asia_variant NAME KEYS...: the Asia demo's configuration with other top-level keys (each
# "key = value"), its paths made absolute, written into the work folder
asia_variant() {
    local file="$work/$1.toml"; shift
    : > "$file"
    local kv
    for kv in "$@"; do echo "$kv" >> "$file"; done
    local keys
    keys=$(printf '%s\n' "$@" | sed 's/ *=.*//' | paste -sd'|')
    grep -v '^#' "$demo/asia.toml" | grep -Ev "^($keys|output) *=" \
        | sed "s#\"synthetic/#\"$demo/synthetic/#g" >> "$file"
    echo "$file"
}
# pr and tas, EQM, calibrated probabilities, the cyclone genesis outlook on rank 0
outlook_case "synthetic Asia (EQM, calibrated)" data/demo/asia.toml
# skill weights pooled over 3 x 3 cells (a halo of one row), observed edges: corrected cubes
outlook_case "synthetic Asia (skill weights, halo, observed edges)" \
    "$(asia_variant skill 'weights = "skill"' 'bias = "scaling"' 'edges_from_obs = true')"
# single-month leads: the drought outlook continues the observed record with corrected members
outlook_case "synthetic Asia (monthly leads, SPI from the observed record)" \
    "$(asia_variant history 'weights = "model"' 'periods = []')"

echo "== a subcommand on rank 0 alone"
"$serial" inspect "$wl/obs.nc" > "$work/inspect.1"
mpirun --oversubscribe -n 2 "$mpi_s2s" inspect "$wl/obs.nc" > "$work/inspect.2"
if cmp -s "$work/inspect.1" "$work/inspect.2"; then
    echo "ok   inspect under -n 2 prints what one process prints"
else
    echo "FAIL inspect under -n 2"; diff "$work/inspect.1" "$work/inspect.2" | head; failed=1
fi

if [ "$failed" -ne 0 ]; then
    echo "mpi_check: FAILED" >&2
    exit 1
fi
echo "mpi_check: all passed"
