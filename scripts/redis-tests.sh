#!/usr/bin/env bash
# Runs units of Redis 7.0.15's own test suite (its tests/ directory, from Debian's source tarball) against SableDB
# in Redis' external-server mode, one fresh server per unit, and prints each unit's passed and failed tests.
#
#   scripts/redis-tests.sh                      # the units of the implemented families (list below)
#   scripts/redis-tests.sh unit/type/string     # chosen units
#
# The server runs with `enable-debug-command yes`, so the tests tagged `needs:debug` run too. Tests needing
# replication or an RDB save are skipped by tag, and by name: those that need SCRIPT KILL or a busy script, and the tests of eviction (a tracking one, evicted
# events: SableDB never evicts), those that read the replication stream (SYNC) and one that reads Redis' hash
# table statistics (DEBUG HTSTATS-KEY). Not part of CI: it downloads the tarball (3 MB) into target/redis-src on first
# use.
set -euo pipefail
cd "$(dirname "$0")/.."
src=target/redis-src/redis-7.0.15
if [ ! -d "$src/tests" ]; then
    mkdir -p target/redis-src
    curl -fsSL -o target/redis-src/redis.tgz http://deb.debian.org/debian/pool/main/r/redis/redis_7.0.15.orig.tar.gz
    tar xzf target/redis-src/redis.tgz -C target/redis-src
fi
command -v tclsh >/dev/null || { echo "tclsh is needed: apt-get install -y tcl" >&2; exit 1; }
cargo build --release --bin sabledb >/dev/null 2>&1 || cargo build --release --bin sabledb
units=("$@")
if [ ${#units[@]} -eq 0 ]; then
    units=(unit/type/string unit/type/incr unit/type/hash unit/type/list unit/type/list-2 unit/type/list-3
        unit/type/set unit/type/zset unit/keyspace unit/expire unit/info-command unit/protocol unit/quit unit/scan
        unit/bitops unit/bitfield unit/multi unit/pubsub unit/introspection unit/introspection-2 unit/other
        unit/sort unit/slowlog unit/latency-monitor unit/info-ext unit/hyperloglog unit/geo unit/dump-ext
        unit/type/stream unit/type/stream-cgroups unit/scripting-eval unit/functions unit/tracking unit/pause
        unit/acl-ext unit/pubsubshard-ext)
fi
# `unit/NAME-ext` is unit/NAME without its `external:skip` tags: units such as info start servers of their own
# only to get a fresh one, which this script gives every unit anyway.
for unit in "${units[@]}"; do
    if [[ $unit == *-ext ]]; then
        sed -e 's/ "external:skip"//' -e 's/ external:skip\b//' -e 's/external:skip //' "$src/tests/${unit%-ext}.tcl" >"$src/tests/$unit.tcl"
    fi
    # `unit/scripting-eval`: unit/scripting's EVAL pass only (its other pass runs the same tests as functions).
    if [[ $unit == unit/scripting-eval ]]; then
        sed -e 's/^foreach is_eval {0 1} {/foreach is_eval {1} {/' "$src/tests/unit/scripting.tcl" >"$src/tests/$unit.tcl"
    fi
done
bin=$PWD/target/release/sabledb
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
for unit in "${units[@]}"; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin" sabledb.ini --port "$port" --db_path "$tmp/db-$port" --log_level warn --enable-debug-command yes >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    # A base port of its own, so two runs at once do not fight over the test server's port.
    base=$((22000 + RANDOM % 20000))
    out=$(cd "$src" && timeout 900 tclsh tests/test_helper.tcl --host 127.0.0.1 --port "$port" --single "$unit" \
        --baseport "$base" \
        --tags -needs:repl --tags -needs:save --tags -needs:reset \
        --skiptest '/[Tt]imedout' --skiptest '/script timeout' --skiptest '/function kill' --skiptest '/script kill' --skiptest '/massive arguments' \
        --skiptest 'ACLs including of a type includes also subcommands' --skiptest '/DEBUG subcommands' \
        --skiptest '/failed subcommand executions at toplevel' \
        --skiptest 'Tracking invalidation message of eviction keys should be before response' \
        --skiptest 'Keyspace notifications: evicted events' \
        --skiptest 'MULTI + LPUSH + EXPIRE + DEBUG SLEEP on blocked client, key already expired' \
        --skiptest 'SWAPDB wants to wake blocked client, but the key already expired' \
        --skiptest 'RANDOMKEY: Lazy-expire should not be wrapped in MULTI/EXEC' \
        --skiptest 'SCAN: Lazy-expire should not be wrapped in MULTI/EXEC' \
        --skiptest 'SRANDMEMBER with a dict containing long chain' \
        --skiptest 'setup replication for following tests' --skiptest 'publish message to master and receive on replica' \
        2>&1 | sed 's/\x1b\[[0-9;]*m//g' || true)
    echo "== $unit: $(grep -c '^\[ok\]' <<<"$out") passed, $(grep -c '^\[err\]' <<<"$out") failed" \
        "$(grep -m1 '^\[exception\]' <<<"$out" || true)"
    grep -A2 '^\[err\]' <<<"$out" || true
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
done
