#!/usr/bin/env bash
# Ensemble kernels side by side with the peers on the same files in one run: the peers' own
# workload (../shared/peers: 3 models x 10 members x 24 years x 6 leads, 2-degree global, pr and
# tas), computing what each peer op computes (see ../shared/peers/README.md):
#   terciles_numpy: each model's in-sample type-7 edges, pooled counts for every hindcast start
#                   and the forecast                  -> model_edge_probabilities
#   cdo_ensmean + cdo_enspctl,10/50/90: pooled mean and percentiles of the 30 members at every
#                   start and lead                    -> ensemble_mean_spread, ensemble_percentiles
# Ours: examples/ensemble_workload.rs (reads the files with the library, times each kernel,
# compares the probabilities with numpy's output, the mean with CDO ensmean's, the percentiles
# with CDO enspctl's: nrank, its default, and --percentile linear for the 90th); the whole `s2s combine` (all products,
# cross-validated hindcast) is timed too, per variable. Peers and ours alternate, twice.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --quiet --example ensemble_workload
cargo build --release --quiet
WL=${PEERS_WL:-/tmp/peers-workload}
RES=${PEERS_RESULTS:-/tmp/peers-results-ensemble}
[ -f "$WL/hindcast_ALPHA.nc" ] || { echo "no peers workload in $WL (run ../shared/peers/make_workload.py --out $WL)" >&2; exit 1; }
PEERS=$(cd ../shared/peers && pwd)
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
H=$WL/hindcast_ALPHA.nc,$WL/hindcast_BRAVO.nc,$WL/hindcast_CHARLIE.nc
F=$WL/forecast_ALPHA.nc,$WL/forecast_BRAVO.nc,$WL/forecast_CHARLIE.nc
peer() {
    PEERS_RESULTS=$RES PEERS_ONLY="terciles_numpy cdo_ensmean cdo_enspctl10 cdo_enspctl50 cdo_enspctl90 cdo_enspctl90_linear" \
        "$PEERS/run_peers.sh" >/dev/null 2>&1
    python3 - "$RES" <<'PY'
import json, sys
res = sys.argv[1]
tot = 0.0
for op in ["terciles_numpy", "cdo_ensmean", "cdo_enspctl10", "cdo_enspctl50", "cdo_enspctl90"]:
    d = json.load(open(f"{res}/{op}.json"))
    c = d.get("peer_info", {}).get("compute_seconds")
    if op.startswith("cdo"):
        tot += d["wall_seconds"]
    print(f"peer {op:16s} wall {d['wall_seconds']:6.2f} s" + (f"  compute {c:.2f} s" if c else ""))
print(f"peer cdo ensmean+enspctl x3  wall {tot:6.2f} s")
PY
}
ours() {
    /usr/bin/time -f "ours ensemble_workload (read + kernels, pr and tas) wall %e s, peak %M KB" \
        ./target/release/examples/ensemble_workload "$WL" "$RES"
    for v in pr tas; do
        /usr/bin/time -f "ours s2s combine --var $v (all products, loyo hindcast) wall %e s" \
            ./target/release/s2s combine -q --deflate 0 --hindcast "$H" --forecast "$F" --var $v --out "$OUT"
    done
}
for round in 1 2; do
    echo "== round $round"
    peer
    ours
done
