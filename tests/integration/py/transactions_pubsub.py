"""redis-py (Debian's python3-redis) against SableDB: transactions (MULTI/EXEC pipelines, WATCH with retries,
WatchError), pub/sub (subscribe, psubscribe, messages, unsubscribe) and keyspace notifications. Usage:
transactions_pubsub.py PORT.
Exits non-zero, with the failing assertion, when anything differs from what redis-py gets from Redis."""

import sys
import threading
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(port=port, decode_responses=True)

# An atomic pipeline: MULTI … EXEC with the replies unpacked, a runtime error in its slot.
r.set("s", "v")
p = r.pipeline(transaction=True)
p.set("a", "1").incr("a").lpush("s", "x").get("a")
results = p.execute(raise_on_error=False)
assert results[:2] == [True, 2], results
assert isinstance(results[2], redis.ResponseError) and "WRONGTYPE" in str(results[2]), results
assert results[3] == "2", results

# WATCH: a change by another client makes EXEC fail with WatchError.
other = redis.Redis(port=port, decode_responses=True)
with r.pipeline() as p:
    p.watch("w")
    other.set("w", "changed")
    p.multi()
    p.set("w", "mine")
    try:
        p.execute()
        raise AssertionError("EXEC ran although a watched key changed")
    except redis.WatchError:
        pass
assert r.get("w") == "changed"

# The optimistic-locking helper from several threads: every increment lands once.
def worker():
    c = redis.Redis(port=port, decode_responses=True)

    def incr(pipe):
        n = int(pipe.get("counter") or 0)
        pipe.multi()
        pipe.set("counter", n + 1)

    for _ in range(50):
        c.transaction(incr, "counter")


threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert r.get("counter") == "200", r.get("counter")

# Pub/sub: a channel and a pattern, delivery counts, messages in order, unsubscribe.
ps = r.pubsub()
ps.subscribe("news")
ps.psubscribe("n*")


def next_message(timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ps.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within %ss" % timeout)


assert next_message() == {"type": "subscribe", "pattern": None, "channel": "news", "data": 1}
assert next_message() == {"type": "psubscribe", "pattern": None, "channel": "n*", "data": 2}
assert other.publish("news", "hello") == 2
assert next_message() == {"type": "message", "pattern": None, "channel": "news", "data": "hello"}
assert next_message() == {"type": "pmessage", "pattern": "n*", "channel": "news", "data": "hello"}
for i in range(100):
    other.publish("nothing-else", str(i))
for i in range(100):
    m = next_message()
    assert (m["channel"], m["data"]) == ("nothing-else", str(i)), m
assert other.pubsub_numsub("news") == [("news", 1)]
assert other.pubsub_numpat() == 1
ps.unsubscribe("news")
assert next_message() == {"type": "unsubscribe", "pattern": None, "channel": "news", "data": 1}
ps.punsubscribe()
assert next_message() == {"type": "punsubscribe", "pattern": None, "channel": "n*", "data": 0}
assert other.publish("news", "nobody") == 0
ps.close()

# Keyspace notifications: the change feed of writes, expiry included.
assert r.config_set("notify-keyspace-events", "KEA")
assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AKE"}
feed = r.pubsub()
feed.psubscribe("__keyspace@0__:feed:*", "__keyevent@0__:expired")
ps = feed  # next_message reads from `ps`
assert next_message()["type"] == "psubscribe"
assert next_message()["type"] == "psubscribe"
other.set("feed:a", "1")
other.lpush("feed:l", "x", "y")
other.hset("feed:h", "f", "v")
other.rename("feed:a", "feed:b")
other.set("feed:t", "v", px=50)
seen = [(m["channel"], m["data"]) for m in (next_message() for _ in range(8))]
assert seen == [
    ("__keyspace@0__:feed:a", "set"),
    ("__keyspace@0__:feed:l", "lpush"),
    ("__keyspace@0__:feed:h", "hset"),
    ("__keyspace@0__:feed:a", "rename_from"),
    ("__keyspace@0__:feed:b", "rename_to"),
    ("__keyspace@0__:feed:t", "set"),
    ("__keyspace@0__:feed:t", "expire"),
    ("__keyspace@0__:feed:t", "expired"),
], seen
assert next_message() == {"type": "pmessage", "pattern": "__keyevent@0__:expired",
                          "channel": "__keyevent@0__:expired", "data": "feed:t"}
feed.close()
print("redis-py: transactions, pub/sub and keyspace notifications ok")
