#!/usr/bin/env bash
# Runs every test: unit tests beside the code and the end-to-end tests in tests/ against the real binary.
# Everything builds in the release profile, the same build the server uses, so RocksDB is compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
cargo test --release --workspace "$@"
