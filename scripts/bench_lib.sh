# Shared by the scripts/bench_*.sh scripts (sourced, not run).
# timeit LABEL COMMAND...: runs COMMAND five times, prints the median wall time in seconds.
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() {
    local label=$1; shift
    local ts=()
    for _ in 1 2 3 4 5; do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "$label failed: $*" >&2; return; }
        t1=$(date +%s.%N)
        ts+=("$(echo "$t1 - $t0" | bc -l)")
    done
    LAST_MEDIAN=$(printf '%s\n' "${ts[@]}" | med)
    if [ -n "${MB:-}" ]; then
        printf '%-28s median %.3f s  %.0f MB/s\n' "$label" "$LAST_MEDIAN" "$(echo "$MB / $LAST_MEDIAN" | bc -l)"
    else
        printf '%-28s median %.3f s\n' "$label" "$LAST_MEDIAN"
    fi
}
# now: the time in seconds, for differences with bc.
now() { date +%s.%N; }
# drop_caches: empties the page cache (root only; fails otherwise), for cold-cache timings.
drop_caches() { [ "$(id -u)" = 0 ] && sync && echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; }

# outlook_config PRESET DIR: the benchmark outlook's configuration over the preset in DIR (pr
# and tas of every model, EQM, calibrated weights, the three Asian regions; paths relative to
# DIR, outputs into DIR/out), on stdout.
outlook_config() {
    local preset=$1 dir=$2 h m
    echo "title = \"s2s-ensemble benchmark ($preset preset)\""
    echo 'variable = ["pr", "tas"]'
    echo 'output = "out"'
    echo 'bias = "eqm"'
    echo 'weights = "calibrated"'
    echo 'regions = ["central_asia", "south_asia", "southeast_asia"]'
    for h in "$dir"/hindcast_*.nc; do
        m=$(basename "$h" .nc); m=${m#hindcast_}
        printf '\n[[models]]\nname = "%s"\nhindcast = "hindcast_%s.nc"\nforecast = "forecast_%s.nc"\n' "$m" "$m" "$m"
    done
    printf '\n[observations]\npath = "obs.nc"\n'
}
