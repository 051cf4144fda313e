//! End-to-end tests of MULTI/EXEC/DISCARD/WATCH/UNWATCH: queueing and its errors, EXEC replies in RESP2 and
//! RESP3, WATCH against writes of every kind (other clients, the client itself, element-only writes, expiry,
//! flushes, SWAPDB), blocking commands inside a transaction, isolation under concurrent load, and the redis
//! crate's transaction helpers.

use std::time::{Duration, Instant};

use crate::common::{array_of, check, Raw, Server, WRONGTYPE};

const EXECABORT: &str = "-EXECABORT Transaction discarded because of previous errors.\r\n";

#[test]
fn queued_commands_run_in_order_with_errors_in_their_slots() {
    let s = Server::start();
    let mut c = s.raw();
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["SET", "s", "v"], "+QUEUED\r\n"),
            (&["LPUSH", "s", "x"], "+QUEUED\r\n"),
            (&["INCR", "n"], "+QUEUED\r\n"),
            (&["GET", "s"], "+QUEUED\r\n"),
            (&["EXEC"], &format!("*4\r\n+OK\r\n{WRONGTYPE}:1\r\n$1\r\nv\r\n")),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n"),
            (&["DISCARD"], "-ERR DISCARD without MULTI\r\n"),
            // An empty transaction, and DISCARD.
            (&["MULTI"], "+OK\r\n"),
            (&["EXEC"], "*0\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["INCR", "n"], "+QUEUED\r\n"),
            (&["DISCARD"], "+OK\r\n"),
            (&["GET", "n"], "$1\r\n1\r\n"),
            // SELECT inside a transaction applies to the rest of it and stays.
            (&["MULTI"], "+OK\r\n"),
            (&["SELECT", "1"], "+QUEUED\r\n"),
            (&["SET", "q", "1"], "+QUEUED\r\n"),
            (&["EXEC"], "*2\r\n+OK\r\n+OK\r\n"),
            (&["GET", "q"], "$1\r\n1\r\n"),
            (&["SELECT", "0"], "+OK\r\n"),
            (&["GET", "q"], "$-1\r\n"),
        ],
    );
    c.cmd(&["HELLO", "3"]);
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["ZADD", "z", "1.5", "m"], "+QUEUED\r\n"),
            (&["ZSCORE", "z", "m"], "+QUEUED\r\n"),
            (&["HSET", "h", "f", "v"], "+QUEUED\r\n"),
            (&["HGETALL", "h"], "+QUEUED\r\n"),
            (&["EXEC"], "*4\r\n:1\r\n,1.5\r\n:1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
        ],
    );
}

#[test]
fn errors_while_queueing_abort_the_transaction() {
    let s = Server::start();
    let mut c = s.raw();
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["MULTI"], "-ERR MULTI calls can not be nested\r\n"),
            (&["WATCH", "x"], "-ERR WATCH inside MULTI is not allowed\r\n"),
            (&["SET", "a", "1"], "+QUEUED\r\n"),
            // Neither of the two errors above spoils the transaction.
            (&["EXEC"], "*1\r\n+OK\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["GET"], "-ERR wrong number of arguments for 'get' command\r\n"),
            (&["SET", "a", "2"], "+QUEUED\r\n"),
            (&["EXEC"], EXECABORT),
            (&["GET", "a"], "$1\r\n1\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["NOSUCH"], "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"),
            (&["EXEC"], EXECABORT),
            (&["MULTI"], "+OK\r\n"),
            (&["SHUTDOWN"], "-ERR Command not allowed inside a transaction\r\n"),
            (&["EXEC"], EXECABORT),
            (&["MULTI"], "+OK\r\n"),
            (&["DISCARD", "x"], "-ERR wrong number of arguments for 'discard' command\r\n"),
            (&["EXEC"], EXECABORT),
            // A refused EXEC ends the transaction and says why.
            (
                &["EXEC", "x"],
                "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
            ),
            (&["MULTI"], "+OK\r\n"),
            (
                &["EXEC", "x"],
                "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
            ),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n"),
            // UNWATCH is queued; QUIT and RESET are not.
            (&["MULTI"], "+OK\r\n"),
            (&["UNWATCH"], "+QUEUED\r\n"),
            (&["RESET"], "+RESET\r\n"),
            (&["EXEC"], "-ERR EXEC without MULTI\r\n"),
        ],
    );
}

#[test]
fn client_list_shows_a_transaction() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    c.cmd(&["PING"]);
    let info = s.raw().cmd(&["CLIENT", "LIST"]);
    assert!(info.contains("flags=x db=0 sub=0 psub=0 ssub=0 multi=2 "), "{info}");
    c.cmd(&["DISCARD"]);
    let info = s.raw().cmd(&["CLIENT", "LIST"]);
    assert!(!info.contains("flags=x"), "{info}");
}

/// WATCH `key` on a new connection, let `meddle` run on another one, then run a one-command transaction: the
/// EXEC reply (`*-1` when aborted).
fn watched_exec(s: &Server, key: &str, meddle: impl FnOnce(&mut Raw)) -> String {
    let mut c = s.raw();
    assert_eq!(c.cmd(&["WATCH", key]), "+OK\r\n");
    meddle(&mut s.raw());
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+QUEUED\r\n");
    c.cmd(&["EXEC"])
}

const ABORTED: &str = "*-1\r\n";
const RAN: &str = "*1\r\n+PONG\r\n";

#[test]
fn watch_aborts_exec_when_the_key_is_modified_in_any_way() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["SET", "str", "v"]);
    c.cmd(&["RPUSH", "list", "a", "b"]);
    c.cmd(&["HSET", "hash", "f", "v"]);
    c.cmd(&["ZADD", "zset", "1", "m"]);
    // Untouched, or touched without a change, or another key: EXEC runs.
    assert_eq!(watched_exec(&s, "str", |_| {}), RAN);
    assert_eq!(watched_exec(&s, "str", |o| assert_eq!(o.cmd(&["GET", "str"]), "$1\r\nv\r\n")), RAN);
    assert_eq!(watched_exec(&s, "str", |o| assert_eq!(o.cmd(&["SET", "other", "x"]), "+OK\r\n")), RAN);
    assert_eq!(watched_exec(&s, "none", |o| assert_eq!(o.cmd(&["DEL", "none"]), ":0\r\n")), RAN);
    assert_eq!(watched_exec(&s, "str", |o| assert_eq!(o.cmd(&["SET", "str", "v", "NX"]), "$-1\r\n")), RAN);
    // Bit writes that change no bit modify nothing (the value only becomes a raw string).
    c.cmd(&["SET", "bits", "a"]);
    let same = |o: &mut Raw| assert_eq!(o.cmd(&["BITFIELD", "bits", "SET", "u8", "0", "97"]), "*1\r\n:97\r\n");
    assert_eq!(watched_exec(&s, "bits", same), RAN);
    assert_eq!(watched_exec(&s, "bits", |o| assert_eq!(o.cmd(&["SETBIT", "bits", "1", "1"]), ":1\r\n")), RAN);
    let other = |o: &mut Raw| assert_eq!(o.cmd(&["BITFIELD", "bits", "SET", "u8", "0", "98"]), "*1\r\n:97\r\n");
    assert_eq!(watched_exec(&s, "bits", other), ABORTED);
    // Any change: a write, a delete, an element write without a length change, an expiry, a rename.
    assert_eq!(watched_exec(&s, "str", |o| assert_eq!(o.cmd(&["SET", "str", "v"]), "+OK\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "list", |o| assert_eq!(o.cmd(&["LSET", "list", "0", "z"]), "+OK\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "hash", |o| assert_eq!(o.cmd(&["HSET", "hash", "f", "w"]), ":0\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "zset", |o| assert_eq!(o.cmd(&["ZINCRBY", "zset", "1", "m"]), "$1\r\n2\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "str", |o| assert_eq!(o.cmd(&["EXPIRE", "str", "100"]), ":1\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "new", |o| assert_eq!(o.cmd(&["RENAME", "str", "new"]), "+OK\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "new", |o| assert_eq!(o.cmd(&["DEL", "new"]), ":1\r\n")), ABORTED);
    // A change by the watching client itself before MULTI counts too.
    let mut c = s.raw();
    c.cmd(&["WATCH", "hash"]);
    c.cmd(&["HDEL", "hash", "f"]);
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["PING"], "+QUEUED\r\n"), (&["EXEC"], ABORTED)]);
    // EXEC, DISCARD and UNWATCH forget the watches.
    c.cmd(&["SET", "k", "1"]);
    c.cmd(&["WATCH", "k"]);
    c.cmd(&["UNWATCH"]);
    s.raw().cmd(&["SET", "k", "2"]);
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["GET", "k"], "+QUEUED\r\n"), (&["EXEC"], "*1\r\n$1\r\n2\r\n")]);
    c.cmd(&["WATCH", "k"]);
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["DISCARD"], "+OK\r\n")]);
    s.raw().cmd(&["SET", "k", "3"]);
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["GET", "k"], "+QUEUED\r\n"), (&["EXEC"], "*1\r\n$1\r\n3\r\n")]);
    // RESP3: the aborted EXEC is a null.
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["WATCH", "k"]);
    s.raw().cmd(&["SET", "k", "4"]);
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["GET", "k"], "+QUEUED\r\n"), (&["EXEC"], "_\r\n")]);
}

#[test]
fn watch_sees_expiry_and_flushes_as_redis_does() {
    let s = Server::start();
    let mut c = s.raw();
    // A key that expires after WATCH counts as modified, whether or not it has been removed yet.
    c.cmd(&["SET", "t", "v", "PX", "50"]);
    c.cmd(&["WATCH", "t"]);
    std::thread::sleep(Duration::from_millis(80));
    check(&mut c, &[(&["MULTI"], "+OK\r\n"), (&["PING"], "+QUEUED\r\n"), (&["EXEC"], ABORTED)]);
    // FLUSHDB and FLUSHALL modify the watched keys that exist, not the missing ones.
    c.cmd(&["SET", "present", "1"]);
    assert_eq!(watched_exec(&s, "missing", |o| assert_eq!(o.cmd(&["FLUSHDB"]), "+OK\r\n")), RAN);
    c.cmd(&["SET", "present", "1"]);
    assert_eq!(watched_exec(&s, "present", |o| assert_eq!(o.cmd(&["FLUSHALL"]), "+OK\r\n")), ABORTED);
    // SWAPDB modifies a watched key present in either database.
    let mut other = s.raw();
    other.cmd(&["SELECT", "1"]);
    other.cmd(&["SET", "in1", "x"]);
    assert_eq!(watched_exec(&s, "in1", |o| assert_eq!(o.cmd(&["SWAPDB", "0", "1"]), "+OK\r\n")), ABORTED);
    assert_eq!(watched_exec(&s, "nowhere", |o| assert_eq!(o.cmd(&["SWAPDB", "0", "1"]), "+OK\r\n")), RAN);
}

#[test]
fn blocking_commands_do_not_block_inside_a_transaction_and_pushes_wake_waiters() {
    let s = Server::start();
    let mut c = s.raw();
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["BLPOP", "l", "0"], "+QUEUED\r\n"),
            (&["BLMOVE", "a", "b", "LEFT", "LEFT", "0"], "+QUEUED\r\n"),
            (&["BRPOPLPUSH", "a", "b", "0"], "+QUEUED\r\n"),
            (&["BZPOPMIN", "z", "0"], "+QUEUED\r\n"),
            (&["BLMPOP", "0", "1", "l", "LEFT"], "+QUEUED\r\n"),
            (&["BZMPOP", "0", "1", "z", "MIN"], "+QUEUED\r\n"),
            (&["RPUSH", "l", "x"], "+QUEUED\r\n"),
            (&["BLPOP", "l", "0"], "+QUEUED\r\n"),
            (&["EXEC"], "*8\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n*-1\r\n:1\r\n*2\r\n$1\r\nl\r\n$1\r\nx\r\n"),
        ],
    );
    // A client blocked on a key is served by a push inside another client's transaction, after the EXEC.
    let mut waiter = s.raw();
    waiter.send(&Raw::encode(&[b"BLPOP", b"q", b"0"]));
    let start = Instant::now();
    while !s.raw().cmd(&["INFO", "clients"]).contains("blocked_clients:1\r\n") {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["LPUSH", "q", "first"], "+QUEUED\r\n"),
            (&["LPUSH", "q", "second"], "+QUEUED\r\n"),
            (&["EXEC"], "*2\r\n:1\r\n:2\r\n"),
        ],
    );
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n");
    assert_eq!(c.cmd(&["LRANGE", "q", "0", "-1"]), array_of(&["first"]));
}

#[test]
fn reads_inside_a_transaction_see_its_own_writes() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["RPUSH", "l", "old"]);
    c.cmd(&["SET", "gone", "x"]);
    check(
        &mut c,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["RPUSH", "l", "a", "b"], "+QUEUED\r\n"),
            (&["LRANGE", "l", "0", "-1"], "+QUEUED\r\n"),
            (&["LPOP", "l"], "+QUEUED\r\n"),
            (&["LRANGE", "l", "0", "-1"], "+QUEUED\r\n"),
            (&["SADD", "s", "m1", "m2"], "+QUEUED\r\n"),
            (&["SREM", "s", "m1"], "+QUEUED\r\n"),
            (&["SMEMBERS", "s"], "+QUEUED\r\n"),
            (&["ZADD", "z", "2", "b", "1", "a"], "+QUEUED\r\n"),
            (&["ZRANGE", "z", "0", "-1", "WITHSCORES"], "+QUEUED\r\n"),
            (&["DEL", "gone"], "+QUEUED\r\n"),
            (&["SET", "fresh", "1"], "+QUEUED\r\n"),
            (&["DBSIZE"], "+QUEUED\r\n"),
            (&["KEYS", "*"], "+QUEUED\r\n"),
            (&["SCAN", "0", "COUNT", "100", "MATCH", "fresh"], "+QUEUED\r\n"),
            (
                &["EXEC"],
                &[
                    "*14\r\n:3\r\n",
                    &array_of(&["old", "a", "b"]),
                    "$3\r\nold\r\n",
                    &array_of(&["a", "b"]),
                    ":2\r\n:1\r\n",
                    &array_of(&["m2"]),
                    ":2\r\n",
                    &array_of(&["a", "1", "b", "2"]),
                    ":1\r\n+OK\r\n:4\r\n",
                    &array_of(&["fresh", "l", "s", "z"]),
                    "*2\r\n$1\r\n0\r\n",
                    &array_of(&["fresh"]),
                ]
                .concat(),
            ),
        ],
    );
}

/// Two connections (on different worker threads) run transactions that move a unit between two counters while
/// readers check the sum: nobody ever sees half of a transaction.
#[test]
fn no_client_observes_part_of_a_transaction() {
    let s = Server::start_with(&["--workers", "2"]);
    s.raw().cmd(&["MSET", "a", "1000", "b", "0"]);
    let port = s.port;
    let movers: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                for _ in 0..300 {
                    c.cmd(&["MULTI"]);
                    c.cmd(&["DECR", "a"]);
                    c.cmd(&["RPUSH", "log", "x"]);
                    c.cmd(&["LRANGE", "log", "0", "0"]);
                    c.cmd(&["INCR", "b"]);
                    assert!(c.cmd(&["EXEC"]).starts_with("*4\r\n:"));
                }
            })
        })
        .collect();
    let reader = std::thread::spawn(move || {
        let mut c = Raw::connect(port);
        for _ in 0..1500 {
            let reply = c.cmd(&["MGET", "a", "b"]);
            let nums: Vec<i64> = crate::common::bulks(&reply).iter().map(|v| v.parse().unwrap()).collect();
            assert_eq!(nums[0] + nums[1], 1000, "{reply}");
            let len = crate::common::int(&c.cmd(&["LLEN", "log"]));
            let b: i64 = crate::common::bulks(&c.cmd(&["MGET", "b"]))[0].parse().unwrap();
            assert!(len <= b, "log {len} ahead of b {b}");
        }
    });
    for m in movers {
        m.join().unwrap();
    }
    reader.join().unwrap();
    assert_eq!(s.raw().cmd(&["MGET", "a", "b"]), array_of(&["400", "600"]));
}

/// The redis crate's optimistic-locking helper (WATCH, read, MULTI…EXEC, retry on abort) from several threads:
/// every increment lands exactly once.
#[test]
fn redis_crate_transactions_retry_until_they_win() {
    let s = Server::start_with(&["--workers", "2"]);
    let url = s.url();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let client = redis::Client::open(url).unwrap();
                let mut con = client.get_connection().unwrap();
                for _ in 0..100 {
                    let _: () = redis::transaction(&mut con, &["counter"], |con, pipe| {
                        let n: i64 = redis::cmd("GET").arg("counter").query::<Option<i64>>(con)?.unwrap_or(0);
                        pipe.set("counter", n + 1).ignore().query(con)
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = s.conn();
    let n: i64 = redis::cmd("GET").arg("counter").query(&mut con).unwrap();
    assert_eq!(n, 400);
    // An atomic pipeline is MULTI…EXEC with the replies unpacked.
    let (a, b): (i64, Vec<String>) =
        redis::pipe().atomic().incr("x", 5).rpush("y", "v").ignore().lrange("y", 0, -1).query(&mut con).unwrap();
    assert_eq!((a, b), (5, vec!["v".to_string()]));
}

/// A transaction's writes survive a crash right after its reply.
#[test]
fn a_transaction_is_durable_once_acknowledged() {
    let mut s = Server::start();
    let mut c = s.raw();
    c.cmd(&["MULTI"]);
    for i in 0..50 {
        let (k, v) = (format!("k{i}"), format!("v{i}"));
        c.cmd(&["SET", &k, &v]);
        c.cmd(&["HSET", "h", &k, &v]);
        c.cmd(&["HLEN", "h"]);
    }
    assert!(c.cmd(&["EXEC"]).starts_with("*150\r\n+OK\r\n:1\r\n:1\r\n+OK\r\n:1\r\n:2\r\n"));
    s.kill9();
    s.restart();
    let mut c = s.raw();
    assert_eq!(c.cmd(&["DBSIZE"]), ":51\r\n");
    assert_eq!(c.cmd(&["HLEN", "h"]), ":50\r\n");
    assert_eq!(c.cmd(&["GET", "k49"]), "$3\r\nv49\r\n");
}
