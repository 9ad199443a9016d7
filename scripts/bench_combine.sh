#!/usr/bin/env bash
# `s2s combine` on a synthetic preset against the speed of reading its inputs, in one run:
#   ./scripts/bench_combine.sh [large|medium]   (large: 8 models, 285 members, 1° global, 15 GB;
#   written once by `s2s synth` into $S2S_BENCH_DIR, default /tmp/s2s-bench-PRESET, ~15 min)
# Per round (BENCH_ROUNDS, default 1), for the variable $VAR (default pr):
#   cold: page cache dropped (root only), `cat` of every hindcast and forecast file (both
#         variables: what the disk gives); dropped again, `s2s combine` (its own report splits
#         the time into reading, combining and writing);
#   warm: `s2s combine` again, then `nccopy -V $VAR` of every file into /dev/shm (what
#         libnetcdf gives for the same variable, decoding and writing included).
# Prints each time, the ratios the issue asks for (read ÷ cat cold, read ÷ nccopy warm, combine
# wall ÷ max(read, combining)) and the peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-large}
VAR=${VAR:-pr}
./scripts/setup.sh >/dev/null
cargo build --release --quiet
S2S=$PWD/target/release/s2s
DIR=${S2S_BENCH_DIR:-/tmp/s2s-bench-$PRESET}
[ -f "$DIR/workload.json" ] || "$S2S" synth --preset "$PRESET" --out "$DIR"
H=$(ls "$DIR"/hindcast_*.nc | paste -sd,)
F=$(ls "$DIR"/forecast_*.nc | paste -sd,)
FILES=("$DIR"/hindcast_*.nc "$DIR"/forecast_*.nc)
GB=$(du -cb "${FILES[@]}" | tail -1 | awk '{printf "%.1f", $1/1e9}')
OUT=$(mktemp -d); trap 'rm -rf "$OUT" /dev/shm/s2s-bench-nccopy.nc' EXIT
# The file's name of $VAR (the synthetic models use C3S, NMME and CF names).
name_in() {
    local names
    case "$VAR" in pr) names="pr tprate prec precip tp" ;; tas) names="tas t2m tref temp" ;; *) names=$VAR ;; esac
    local header
    header=$(ncdump -h "$1")
    for v in $names; do
        if grep -qE "^[[:space:]]+[a-z]+ $v\(" <<< "$header"; then echo "$v"; return; fi
    done
    echo "$VAR"
}
. scripts/bench_lib.sh
combine() { # combine LABEL: runs s2s combine, prints its report line
    /usr/bin/time -f "%e %M" -o "$OUT/time" "$S2S" combine -O --hindcast "$H" --forecast "$F" --var "$VAR" --out "$OUT/c" 2> "$OUT/err" > /dev/null
    read -r wall rss < "$OUT/time"
    line=$(grep -E "reading [0-9.]+ s" "$OUT/err" | tail -1)
    read_s=$(echo "$line" | sed -E 's/.*reading ([0-9.]+) s.*/\1/')
    comb_s=$(echo "$line" | sed -E 's/.*combining ([0-9.]+) s.*/\1/')
    write_s=$(echo "$line" | sed -E 's/.*writing ([0-9.]+) s.*/\1/')
    printf '%-5s s2s combine --var %s: %.1f s wall, peak %.1f GiB; reading %s s, combining %s s, writing %s s; wall / max(reading, combining) = %.2f\n' \
        "$1" "$VAR" "$wall" "$(echo "$rss / 1048576" | bc -l)" "$read_s" "$comb_s" "$write_s" \
        "$(echo "m = $read_s; if ($comb_s > m) m = $comb_s; $wall / m" | bc -l)"
    LAST_READ=$read_s
}
echo "$PRESET preset: ${#FILES[@]} files, $GB GB (pr and tas)"
for round in $(seq "${BENCH_ROUNDS:-1}"); do
    echo "== round $round"
    if drop_caches; then
        t0=$(now); cat "${FILES[@]}" > /dev/null; t1=$(now)
        cat_s=$(echo "$t1 - $t0" | bc -l)
        printf 'cold  cat of the files: %.1f s (%.2f GB/s)\n' "$cat_s" "$(echo "$GB / $cat_s" | bc -l)"
        drop_caches
        combine cold
        printf 'cold  reading ÷ cat = %.2f (combine reads %s only: half the bytes cat reads)\n' "$(echo "$LAST_READ / $cat_s" | bc -l)" "$VAR"
    else
        echo "(not root: no cold-cache measurement)"
    fi
    combine warm
    t0=$(now)
    for f in "${FILES[@]}"; do
        nccopy -V "$(name_in "$f")" "$f" /dev/shm/s2s-bench-nccopy.nc
        rm -f /dev/shm/s2s-bench-nccopy.nc
    done
    t1=$(now)
    nc_s=$(echo "$t1 - $t0" | bc -l)
    printf 'warm  nccopy -V %s of the files: %.1f s; reading ÷ nccopy = %.2f\n' "$VAR" "$nc_s" "$(echo "$LAST_READ / $nc_s" | bc -l)"
done
