"""redis-py (Debian's python3-redis) against SableDB: streams through redis-py's own reply parsers (XADD, XRANGE,
XREAD with BLOCK across connections, consumer groups, XPENDING's parsed forms, XCLAIM, XAUTOCLAIM, XINFO).
Usage: streams.py PORT. Exits non-zero, with the failing assertion, when anything differs from what redis-py
gets from Redis 7.0."""

import sys
import threading

import redis

port = int(sys.argv[1])
r = redis.Redis(port=port, decode_responses=True)

assert r.xadd("s", {"a": "1"}, id="1-0") == "1-0"
assert r.xadd("s", {"b": "2", "c": "3"}, id="2-*") == "2-0"
assert r.xadd("s", {"d": "4"}, id="3-0", maxlen=10, approximate=False) == "3-0"
assert r.xlen("s") == 3
assert r.xrange("s") == [("1-0", {"a": "1"}), ("2-0", {"b": "2", "c": "3"}), ("3-0", {"d": "4"})]
assert r.xrevrange("s", count=1) == [("3-0", {"d": "4"})]
assert r.xread({"s": "2-0"}) == [["s", [("3-0", {"d": "4"})]]]
assert r.xread({"s": "$"}, block=10) == []
try:
    r.xadd("s", {"x": "y"}, id="1-0")
    raise AssertionError("XADD with a smaller ID succeeded")
except redis.ResponseError as e:
    assert "equal or smaller" in str(e), e

# XREAD BLOCK on one connection, XADD on another.
got = []
reader = threading.Thread(target=lambda: got.append(redis.Redis(port=port, decode_responses=True).xread({"s": "$"}, block=5000)))
reader.start()
while int(r.info("clients")["blocked_clients"]) == 0:
    pass
r.xadd("s", {"e": "5"}, id="4-0")
reader.join()
assert got == [[["s", [("4-0", {"e": "5"})]]]], got

# Consumer groups.
assert r.xgroup_create("s", "g", id="0") is True
assert r.xreadgroup("g", "alice", {"s": ">"}, count=2) == [["s", [("1-0", {"a": "1"}), ("2-0", {"b": "2", "c": "3"})]]]
pending = r.xpending("s", "g")
assert pending["pending"] == 2 and pending["min"] == "1-0" and pending["max"] == "2-0", pending
assert pending["consumers"] == [{"name": "alice", "pending": 2}], pending
rows = r.xpending_range("s", "g", min="-", max="+", count=10)
assert [(x["message_id"], x["consumer"], x["times_delivered"]) for x in rows] == [("1-0", "alice", 1), ("2-0", "alice", 1)], rows
assert r.xclaim("s", "g", "bob", 0, ["1-0"], justid=True) == ["1-0"]
assert r.xack("s", "g", "1-0") == 1
claimed = r.xautoclaim("s", "g", "carol", 0, "0-0")
assert claimed[0] == "0-0" and claimed[1] == [("2-0", {"b": "2", "c": "3"})], claimed
groups = r.xinfo_groups("s")
assert groups[0]["name"] == "g" and groups[0]["pending"] == 1 and groups[0]["last-delivered-id"] == "2-0", groups
assert groups[0]["entries-read"] == 2 and groups[0]["lag"] == 2, groups
consumers = r.xinfo_consumers("s", "g")
assert [c["name"] for c in consumers] == ["alice", "bob", "carol"], consumers
info = r.xinfo_stream("s")
assert info["length"] == 4 and info["last-generated-id"] == "4-0" and info["groups"] == 1, info
assert info["first-entry"] == ("1-0", {"a": "1"}) and info["last-entry"] == ("4-0", {"e": "5"}), info
full = r.xinfo_stream("s", full=True)
assert len(full["entries"]) == 4 and full["groups"][0]["pel-count"] == 1, full
assert r.xtrim("s", maxlen=1, approximate=True) == 0
assert r.xtrim("s", maxlen=1, approximate=False) == 3
assert r.xdel("s", "4-0") == 1
assert r.xlen("s") == 0
assert r.type("s") == "stream"
print("ok")
