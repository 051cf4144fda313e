#!/usr/bin/env bash
# Builds (release) and runs SableDB on the default config: 127.0.0.1:6379, data under ./sabledb.db.
# Extra arguments are passed on: scripts/run.sh --port 6380
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
exec cargo run --release --bin sabledb -- sabledb.ini "$@"
