#!/usr/bin/env bash
# The whole test suite: Rust unit, golden, property and end-to-end tests (the real server
# driven by aws-sdk-dynamodb), then the cross-client tests (boto3 and the AWS CLI against
# the real server). Installs what it needs: the Python venv comes from
# scripts/setup-test-env.sh. Any failure makes this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo build"
cargo build --all-targets --locked

echo "== cargo test"
cargo test --locked

echo "== cross-client tests (boto3, AWS CLI)"
bash scripts/setup-test-env.sh
STATOR_BIN="$PWD/target/debug/stator" .venv/bin/python -m pytest -q tests/cross_client
