#!/usr/bin/env bash
# Set-up, then the criterion benches (throughput in values/s or MB/s). Pass a bench name to run
# one: ./scripts/bench.sh netcdf_read
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ $# -gt 0 ]; then
    cargo bench --bench "$@"
else
    cargo bench
fi
