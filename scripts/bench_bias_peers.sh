#!/usr/bin/env bash
# Bias correction side by side with the Python peers on the same files in one run: the peers'
# own workload (../shared/peers: 3 models x 10 members x 24 years x 6 leads, 2-degree global,
# pr and tas), corrected the way each peer's op does it (see ../shared/peers/README.md):
#   EQM, 100 quantiles, in-sample, all 3 models, pr and tas   (peers: eqm_cmethods, eqm_xsdba)
#   QDM of model ALPHA's forecast, pr and tas (--forecast-only) (peers: qdm_cmethods, qdm_xsdba)
# plus our defaults (every training value, leave-one-year-out; QDM with the cross-validated
# hindcast too), which the peers do not do. Whole processes, median of 5.
# Outputs uncompressed (--deflate 0), as the peers write theirs.
# Run the peers with: PEERS_RESULTS=/tmp/peers-results PEERS_ONLY="eqm_cmethods qdm_cmethods
# eqm_xsdba qdm_xsdba" ../shared/peers/run_peers.sh — their wall times are in
# /tmp/peers-results/<op>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --quiet
WL=${PEERS_WL:-/tmp/peers-workload}
[ -f "$WL/obs.nc" ] || { echo "no peers workload in $WL (run ../shared/peers/make_workload.py --out $WL)" >&2; exit 1; }
S2S=./target/release/s2s
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
. scripts/bench_lib.sh
eqm_all() {
    for m in ALPHA BRAVO CHARLIE; do for v in pr tas; do
        $S2S bias-correct -q --deflate 0 --method eqm "$@" --var $v --hindcast "$WL/hindcast_$m.nc" --obs "$WL/obs.nc" --out "$OUT"
    done; done
}
qdm_alpha() {
    for v in pr tas; do
        $S2S bias-correct -q --deflate 0 --method qdm "$@" --var $v --hindcast "$WL/hindcast_ALPHA.nc" --obs "$WL/obs.nc" --forecast "$WL/forecast_ALPHA.nc" --out "$OUT"
    done
}
timeit "s2s eqm100 in-sample, 3 models" eqm_all --quantiles 100 --cv none
timeit "s2s eqm all values, loyo, 3 models" eqm_all
timeit "s2s qdm ALPHA forecast" qdm_alpha --forecast-only
timeit "s2s qdm ALPHA + loyo hindcast" qdm_alpha
for op in eqm_cmethods eqm_xsdba qdm_cmethods qdm_xsdba; do
    f=${PEERS_RESULTS:-/tmp/peers-results}/$op.json
    [ -f "$f" ] && python3 -c "import json; d=json.load(open('$f')); print(f\"{'$op':28s} wall {d['wall_seconds']:.1f} s  peak {d.get('peak_rss_mb', 0):.0f} MB  ({d.get('size', '')})\")"
done
