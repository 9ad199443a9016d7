#!/usr/bin/env bash
# Set-up (system packages, only if missing), then the whole test suite in release mode:
# unit tests, property tests, integration tests (the `s2s` binary on real and generated NetCDF)
# and the doc examples. Lints run too where clippy/rustfmt are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

if cargo fmt --version >/dev/null 2>&1; then
    echo "== cargo fmt --check"
    cargo fmt --check
fi
if cargo clippy --version >/dev/null 2>&1; then
    echo "== cargo clippy"
    cargo clippy --release --all-targets --quiet -- -D warnings
fi
echo "== numerical core builds without NetCDF and CLI"
cargo check --release --lib --no-default-features --quiet
echo "== cargo test --release"
cargo test --release
