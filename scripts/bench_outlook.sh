#!/usr/bin/env bash
# The whole `s2s outlook` on a synthetic preset, measured: ./scripts/bench_outlook.sh [medium|large]
#   Writes the preset with `s2s synth` (once, into $S2S_BENCH_DIR, default /tmp/s2s-bench-PRESET;
#   large is 15 GB and takes ~25 min), an outlook configuration over it (pr and tas, EQM,
#   calibrated weights, the three Asian regions), then, BENCH_ROUNDS times (default 2):
#     cat of every input file with a cold page cache (when root: caches dropped first), cat again
#     warm, and the outlook with a warm cache under /usr/bin/time;
#   and prints the time and peak RSS of every stage (from provenance.json) and the ratio of the
#   outlook's wall time to the cold and warm reads of its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET=${1:-medium}
case "$PRESET" in medium | large) ;; *) echo "usage: $0 [medium|large]" >&2; exit 2 ;; esac
./scripts/setup.sh >/dev/null
cargo build --release --quiet
S2S=$PWD/target/release/s2s
DIR=${S2S_BENCH_DIR:-/tmp/s2s-bench-$PRESET}
if [ ! -f "$DIR/workload.json" ]; then
    echo "writing the $PRESET preset into $DIR"
    "$S2S" synth --preset "$PRESET" --out "$DIR"
fi
. scripts/bench_lib.sh
CFG=$DIR/outlook.toml
outlook_config "$PRESET" "$DIR" > "$CFG"
INPUTS=("$DIR"/hindcast_*.nc "$DIR"/forecast_*.nc "$DIR"/obs.nc)
GB=$(du -cb "${INPUTS[@]}" | tail -1 | awk '{printf "%.2f", $1/1e9}')
echo "inputs: ${#INPUTS[@]} files, $GB GB"
for round in $(seq "${BENCH_ROUNDS:-2}"); do
    cold=—
    if drop_caches; then
        t0=$(now); cat "${INPUTS[@]}" > /dev/null; t1=$(now)
        cold=$(echo "$t1 - $t0" | bc -l)
    fi
    t0=$(now); cat "${INPUTS[@]}" > /dev/null; t1=$(now)
    warm=$(echo "$t1 - $t0" | bc -l)
    /usr/bin/time -f "%e %M" -o "$DIR/time.txt" "$S2S" outlook -q -O --config "$CFG"
    read -r wall rss < "$DIR/time.txt"
    python3 - "$DIR/out/provenance.json" "$PRESET" "$round" "$wall" "$rss" "$cold" "$warm" <<'PY'
import json, sys
prov, preset, rnd, wall, rss, cold, warm = sys.argv[1:]
d = json.load(open(prov))
wall = float(wall)
print(f"== {preset} round {rnd}: outlook {wall:.1f} s wall, peak RSS {int(rss) / 1024:.0f} MiB; "
      f"cat of the inputs {'cold ' + format(float(cold), '.2f') + ' s, ' if cold != '—' else ''}warm {float(warm):.2f} s"
      + (f"; outlook ÷ cold read {wall / float(cold):.1f}×" if cold != '—' else ""))
for s in d["stages"]:
    print(f"  {s['stage']:28s} {s['seconds']:8.2f} s  peak {s['peak_rss_mib'] or 0:7.0f} MiB")
PY
done
