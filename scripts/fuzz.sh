#!/usr/bin/env bash
# Mutation fuzzing of the CF decoding layer (what `s2s inspect` does) on the seed files in
# fuzz/corpus: panics, aborts and hangs are kept in fuzz/crashes and make the run fail.
#   ./scripts/fuzz.sh                 # 10^6 inputs (or 30 minutes), both cores
#   ./scripts/fuzz.sh --seconds 60 --inputs 100000000   # a bounded run (scripts/test.sh)
# Other options: --inputs N, --jobs J, --seed S (see examples/fuzz_decode.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --quiet --example fuzz_decode
target="${CARGO_TARGET_DIR:-./target}"
# defaults first: the options given win (the last of a repeated option counts)
exec "$target/release/examples/fuzz_decode" --corpus fuzz/corpus --crashes fuzz/crashes \
    --inputs 1000000 --seconds 1800 "$@"
