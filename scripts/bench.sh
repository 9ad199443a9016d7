#!/usr/bin/env bash
# Every peer comparison in one run: ./scripts/bench.sh
#   Sets up the peers (../shared/peers/setup.sh: CDO and the Python peers in a venv), makes their
#   workload if it is missing, builds ours in release, then runs scripts/bench_peers.py: each
#   peer op and our equivalent alternated, BENCH_ROUNDS (default 2) rounds, same-round ratios.
#   Writes bench/results.md (the table the README quotes) and bench/results.json. About 16 min
#   for two rounds on 2 cores; BENCH_ONLY="terciles eqm_cmethods" runs some rows.
# The criterion benches (throughput beside the STREAM triad): ./scripts/bench.sh --criterion [NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [ "${1:-}" = "--criterion" ]; then
    shift
    if [ $# -gt 0 ]; then cargo bench --bench "$@"; else cargo bench; fi
    exit
fi
PEERS=$(cd ../shared/peers && pwd)
VENV=${PEERS_VENV:-/tmp/peers-venv}
export PEERS_WL=${PEERS_WL:-/tmp/peers-workload}
"$PEERS/setup.sh" >/dev/null
[ -f "$PEERS_WL/workload.json" ] || "$VENV/bin/python" "$PEERS/make_workload.py" --out "$PEERS_WL" >/dev/null
# run_peers.sh builds its STREAM only when asked for all of stream_c; the bench asks per thread count.
gcc -O3 -march=native -fopenmp "$PEERS/stream.c" -o /tmp/peers_stream
cargo build --release --quiet
cargo build --release --quiet --example ensemble_workload --example verify_workload --example stream_triad
exec python3 scripts/bench_peers.py
