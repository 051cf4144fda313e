#!/usr/bin/env bash
# Benchmarks SableDB against a throw-away redis-server with redis-benchmark, alternating between the two for each
# test, and prints requests/s for both and the ratio SableDB/Redis.
#
#   scripts/bench.sh [-n REQUESTS] [-c CLIENTS] [-t TESTS] [-P "1 16"] [-d SIZE] [-r KEYSPACE] [-a "SABLEDB OPTIONS"]
#
# SableDB runs from the release build with its default durability (every reply after its write is in the WAL,
# wal_fsync everysec); redis-server runs with --save '' --appendonly no.
set -euo pipefail
cd "$(dirname "$0")/.."
N=200000; C=50; TESTS="ping,set,get,incr,mset"; PIPES="1 16"; D=64; R=100000; ARGS=""
while getopts "n:c:t:P:d:r:a:" o; do
  case $o in n) N=$OPTARG;; c) C=$OPTARG;; t) TESTS=$OPTARG;; P) PIPES=$OPTARG;; d) D=$OPTARG;; r) R=$OPTARG;; a) ARGS=$OPTARG;; *) exit 2;; esac
done
scripts/deps.sh --test
cargo build --release --bin sabledb >/dev/null 2>&1 || cargo build --release --bin sabledb
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tmp=$(mktemp -d)
SP=$(free_port); RP=$(free_port)
target/release/sabledb sabledb.ini --port "$SP" --db_path "$tmp/sable" --log_level warn $ARGS &
SPID=$!
redis-server --port "$RP" --save '' --appendonly no --dir "$tmp" --daemonize no >/dev/null &
RPID=$!
trap 'kill $SPID $RPID 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
for p in $SP $RP; do for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done; done

rps() { # port test pipeline
  redis-benchmark -p "$1" -t "$2" -n "$N" -c "$C" -P "$3" -d "$D" -r "$R" --csv -q 2>/dev/null \
    | awk -F'","' 'NR>1 {v=$2} END {gsub(/"/,"",v); print v}'   # ping: the MBULK row, the last one
}
echo "redis-benchmark -n $N -c $C -d $D -r $R   ($(nproc) cores)"
printf '%-8s %-4s %14s %14s %7s\n' test P sabledb redis ratio
for P in $PIPES; do
  for t in ${TESTS//,/ }; do
    s=$(rps "$SP" "$t" "$P"); r=$(rps "$RP" "$t" "$P")
    ratio=$(awk -v a="$s" -v b="$r" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    printf '%-8s %-4s %14s %14s %7s\n' "$t" "$P" "$s" "$r" "$ratio"
  done
done
