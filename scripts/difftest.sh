#!/usr/bin/env bash
# Differential test of one seed: the same generated commands to SableDB and to a real redis-server 7.0, replies
# compared byte for byte (docs/compatibility.md). Usage: scripts/difftest.sh SEED COUNT [more tester options]
#   scripts/difftest.sh 42 20000
#   scripts/difftest.sh 42 20000 --resp 3 --keep-going
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 SEED COUNT [--resp 2|3|both] [--time SECS] [--keep-going] [--exclude NAME,...] [--only FAMILY,...]" >&2
    exit 2
fi
seed=$1
count=$2
shift 2
cd "$(dirname "$0")/.."
scripts/deps.sh --test
exec cargo test --release -p sabledb --test differential -- --seed "$seed" --count "$count" "$@"
