#!/usr/bin/env bash
# The whole test suite. First the gates that need no test run: formatting, clippy with
# warnings as errors, and the API docs with warnings as errors (docs/operations.md). Then
# Rust unit, golden, property and end-to-end tests (the real server driven by
# aws-sdk-dynamodb), then the cross-client tests (boto3 and the AWS CLI against the real
# server). Installs what it needs: the Python venv comes from scripts/setup-test-env.sh.
# Any failure makes this script fail. The toolchain is the one rust-toolchain.toml pins.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --locked

echo "== cargo build"
cargo build --all-targets --locked

echo "== cargo test"
cargo test --locked

echo "== cross-client tests (boto3, AWS CLI)"
bash scripts/setup-test-env.sh
STATOR_BIN="$PWD/target/debug/stator" .venv/bin/python -m pytest -q tests/cross_client
