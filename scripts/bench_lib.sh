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
