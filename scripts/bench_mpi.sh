#!/usr/bin/env bash
# Scaling of a spread subcommand over MPI ranks on one machine, in one run:
#   [JOB=combine|bias-correct|verify|cyclones|outlook] ./scripts/bench_mpi.sh [medium|large]
# (the preset, written once by `s2s synth` into $S2S_BENCH_DIR, default /tmp/s2s-bench-PRESET).
# JOB (default combine): `combine` of every model with observations; `bias-correct` EQM of the
# first model; `verify` of every model and the MME with 100 bootstrap resamples and two regions;
# `cyclones` tracking of $CYCLONE_RUN (`msl.nc;vo.nc`, default the bundled ERA5 January 2026);
# `outlook` of pr and tas of every model (EQM, calibrated, three regions; $VAR unused).
# Per round (BENCH_ROUNDS, default 2; the order of the runs alternates between rounds), with
# $VAR (default pr) and one thread per rank:
#   one process, 1 thread (the non-MPI binary); mpirun -n 1; mpirun -n 2; and for reference one
#   process with 2 threads. Each prints its wall time, the peak RSS of every rank, and rank 0's
#   split into reading, combining and writing (+ gathering). The -n 2 outputs are compared byte
#   for byte with the one-process outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-medium}
VAR=${VAR:-pr}
./scripts/setup.sh --mpi >/dev/null
bins=$(mktemp -d)
OUT=$(mktemp -d)
trap 'rm -rf "$bins" "$OUT"' EXIT
cargo build --release --features mpi --quiet
mkdir -p "$bins/mpi" && cp target/release/s2s "$bins/mpi/s2s"
cargo build --release --quiet
cp target/release/s2s "$bins/s2s"
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export SOURCE_DATE_EPOCH=1700000000
DIR=${S2S_BENCH_DIR:-/tmp/s2s-bench-$PRESET}
[ -f "$DIR/workload.json" ] || "$bins/s2s" -q synth --preset "$PRESET" --out "$DIR"
H=$(ls "$DIR"/hindcast_*.nc | paste -sd,)
F=$(ls "$DIR"/forecast_*.nc | paste -sd,)
GB=$(du -cb "$DIR"/hindcast_*.nc "$DIR"/forecast_*.nc | tail -1 | awk '{printf "%.1f", $1/1e9}')
JOB=${JOB:-combine}
H1=$(ls "$DIR"/hindcast_*.nc | head -1)
F1=$(ls "$DIR"/forecast_*.nc | head -1)
CYCLONE_RUN=${CYCLONE_RUN:-data/real/cyclones/era5_msl_2026-01_2.5x2.5.nc;data/real/cyclones/era5_vo850_2026-01_2.5x2.5.nc}
case $JOB in
    combine) job=(combine --hindcast "$H" --forecast "$F" --var "$VAR" --obs "$DIR/obs.nc") ;;
    bias-correct) job=(bias-correct --method eqm --var "$VAR" --hindcast "$H1" --forecast "$F1"
        --obs "$DIR/obs.nc") ;;
    verify) job=(verify --var "$VAR" --hindcast "$H" --obs "$DIR/obs.nc" --bootstrap 100
        --regions 'south=60,140,-10,20;north=60,140,20,50') ;;
    cyclones) job=(cyclones track --vorticity vo "$CYCLONE_RUN") ;;
    outlook)
        # pr and tas, EQM, calibrated weights, the three Asian regions (as bench_outlook.sh)
        . scripts/bench_lib.sh
        outlook_config "$PRESET" "$DIR" > "$DIR/outlook_mpi.toml"
        job=(outlook --config "$DIR/outlook_mpi.toml") ;;
    *) echo "JOB must be combine, bias-correct, verify, cyclones or outlook" >&2; exit 2 ;;
esac
echo "$PRESET preset: $GB GB of hindcasts and forecasts (pr and tas); $JOB of $VAR; $(nproc) cores"

# the output argument of the job: a folder, or the tracks file in one
out_args() {
    if [ "$JOB" = cyclones ]; then
        mkdir -p "$1"
        echo "$1/tracks.csv"
    else
        echo "$1"
    fi
}

# run LABEL THREADS [mpirun -n N]: one timed run of the job into $OUT/LABEL
run() {
    local label=$1 threads=$2; shift 2
    local out=$OUT/out
    rm -rf "$out" "$OUT"/rss.*
    local t0 t1
    t0=$(date +%s.%N)
    if [ $# -gt 0 ]; then
        "$@" sh -c '/usr/bin/time -f "%M" -o "'"$OUT"'/rss.${OMPI_COMM_WORLD_RANK:-0}" "$0" "$@"' \
            "$bins/mpi/s2s" --threads "$threads" "${job[@]}" --out "$(out_args "$out")" \
            > /dev/null 2> "$OUT/err" || { cat "$OUT/err" >&2; exit 1; }
    else
        /usr/bin/time -f "%M" -o "$OUT/rss.0" "$bins/s2s" --threads "$threads" "${job[@]}" \
            --out "$(out_args "$out")" > /dev/null 2> "$OUT/err" || { cat "$OUT/err" >&2; exit 1; }
    fi
    t1=$(date +%s.%N)
    local rss
    rss=$(for f in $(ls "$OUT"/rss.* | sort -V); do printf '%.0f ' "$(echo "$(cat "$f") / 1024" | bc -l)"; done)
    local split
    # rank 0's split of the time: combine prints it, the other jobs do not
    split=$({ grep -oE "reading [0-9.]+ s.*" "$OUT/err" || true; } | sed -E 's/, overlapping the combination after the first lead//; s/\)$//')
    printf '%-26s %6.1f s   peak MiB per rank: %-12s %s\n' "$label" "$(echo "$t1 - $t0" | bc -l)" "$rss" "$split"
    rm -rf "$OUT/$label"
    mv "$out" "$OUT/$label"
}

for round in $(seq "${BENCH_ROUNDS:-2}"); do
    echo "== round $round"
    if [ $((round % 2)) -eq 1 ]; then
        run one-1-thread 1
        run mpirun-n1 1 mpirun -n 1
        run mpirun-n2 1 mpirun --oversubscribe -n 2
        run one-2-threads 2
    else
        run one-2-threads 2
        run mpirun-n2 1 mpirun --oversubscribe -n 2
        run mpirun-n1 1 mpirun -n 1
        run one-1-thread 1
    fi
    # every file (an outlook's in its region folders too) but provenance.json, whose stages
    # carry their seconds
    same=0
    while IFS= read -r f; do
        [ "$(basename "$f")" = provenance.json ] && continue
        if cmp -s "$OUT/one-1-thread/$f" "$OUT/mpirun-n2/$f"; then
            same=$((same + 1))
            [ "$JOB" = outlook ] || echo "   $f: -n 2 byte-identical to one process"
        else
            echo "   $f: -n 2 DIFFERS from one process" >&2; exit 1
        fi
    done < <(cd "$OUT/one-1-thread" && find . -type f | sed 's#^\./##' | sort)
    [ "$JOB" = outlook ] && echo "   $same files: -n 2 byte-identical to one process"
done
