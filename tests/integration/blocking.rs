//! End-to-end tests of the blocking commands: wake-ups across connections (and worker threads), first-come
//! first-served order, timeouts, disconnects, CLIENT UNBLOCK, and the exact replies.

use std::time::{Duration, Instant};

use crate::common::{Raw, Server};

/// Waits until the server reports `n` blocked clients (each test's waiters must be queued in a known order).
fn wait_blocked(s: &Server, n: usize) {
    let mut c = s.raw();
    let want = format!("blocked_clients:{n}\r\n");
    let start = Instant::now();
    loop {
        if c.cmd(&["INFO", "clients"]).contains(&want) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a blocking command without reading its reply.
fn start(s: &Server, args: &[&str]) -> Raw {
    let mut c = s.raw();
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&Raw::encode(&args));
    c
}

#[test]
fn data_already_there_is_served_at_once() {
    let s = Server::start();
    let mut c = s.raw();
    assert_eq!(c.cmd(&["RPUSH", "l", "a", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["BLPOP", "none", "l", "0"]), "*2\r\n$1\r\nl\r\n$1\r\na\r\n");
    assert_eq!(c.cmd(&["BRPOP", "l", "0"]), "*2\r\n$1\r\nl\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["EXISTS", "l"]), ":0\r\n");
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b"]), ":2\r\n");
    assert_eq!(c.cmd(&["BZPOPMAX", "z", "0"]), "*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BZPOPMIN", "z", "0"]), "*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n");
}

#[test]
fn a_push_wakes_the_waiter_on_another_connection() {
    let s = Server::start();
    let mut waiter = start(&s, &["BLPOP", "l", "0"]);
    wait_blocked(&s, 1);
    assert_eq!(s.raw().cmd(&["LPUSH", "l", "x"]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
    wait_blocked(&s, 0);
    assert_eq!(s.raw().cmd(&["EXISTS", "l"]), ":0\r\n");
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let s = Server::start();
    let mut waiters = Vec::new();
    for i in 0..4 {
        waiters.push(start(&s, &["BLPOP", "q", "0"]));
        wait_blocked(&s, i + 1);
    }
    // One push of three elements serves the first three waiters in order; the fourth keeps waiting.
    assert_eq!(s.raw().cmd(&["RPUSH", "q", "a", "b", "c"]), ":3\r\n");
    for (w, e) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(w.read_reply(), format!("*2\r\n$1\r\nq\r\n$1\r\n{e}\r\n"));
    }
    wait_blocked(&s, 1);
    assert_eq!(s.raw().cmd(&["RPUSH", "q", "d"]), ":1\r\n");
    assert_eq!(waiters[3].read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nd\r\n");
}

#[test]
fn timeouts_reply_null_in_each_protocol() {
    let s = Server::start();
    let mut c = s.raw();
    let t = Instant::now();
    assert_eq!(c.cmd(&["BLPOP", "none", "0.1"]), "*-1\r\n");
    assert!(t.elapsed() >= Duration::from_millis(100));
    // A null array for the moves too, as in Redis 7.0.
    assert_eq!(c.cmd(&["BRPOPLPUSH", "none", "dst", "0.05"]), "*-1\r\n");
    assert_eq!(c.cmd(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]), "*-1\r\n");
    assert_eq!(c.cmd(&["BZPOPMIN", "none", "0.05"]), "*-1\r\n");
    assert_eq!(c.cmd(&["BLMPOP", "0.05", "1", "none", "LEFT"]), "*-1\r\n");
    assert_eq!(c.cmd(&["BZMPOP", "0.05", "1", "none", "MIN"]), "*-1\r\n");
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["BLPOP", "none", "0.05"]), "_\r\n");
    assert_eq!(c.cmd(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]), "_\r\n");
    // The client keeps working afterwards, and timeouts are parsed as Redis does.
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["BLPOP", "l", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(c.cmd(&["BLPOP", "l", "abc"]), "-ERR timeout is not a float or out of range\r\n");
}

#[test]
fn commands_pipelined_after_a_blocked_one_wait_for_it() {
    let s = Server::start();
    let mut c = s.raw();
    c.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n");
    wait_blocked(&s, 1);
    s.raw().cmd(&["RPUSH", "l", "v"]);
    assert_eq!(c.read_reply(), "*2\r\n$1\r\nl\r\n$1\r\nv\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
}

#[test]
fn a_waiter_that_disconnects_leaves_the_element_to_the_next() {
    let s = Server::start();
    let gone = start(&s, &["BLPOP", "l", "0"]);
    wait_blocked(&s, 1);
    let mut next = start(&s, &["BLPOP", "l", "0"]);
    wait_blocked(&s, 2);
    drop(gone);
    wait_blocked(&s, 1);
    s.raw().cmd(&["RPUSH", "l", "only"]);
    assert_eq!(next.read_reply(), "*2\r\n$1\r\nl\r\n$4\r\nonly\r\n");
    assert_eq!(s.raw().cmd(&["LLEN", "l"]), ":0\r\n");
}

#[test]
fn client_unblock_as_timeout_or_error() {
    let s = Server::start();
    let mut c = s.raw();
    let id = c.cmd(&["CLIENT", "ID"]).trim_start_matches(':').trim().to_string();
    let mut other = s.raw();
    assert_eq!(other.cmd(&["CLIENT", "UNBLOCK", &id]), ":0\r\n");
    c.send(&Raw::encode(&[b"BLPOP", b"l", b"0"]));
    wait_blocked(&s, 1);
    assert_eq!(other.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), ":1\r\n");
    assert_eq!(c.read_reply(), "*-1\r\n");
    c.send(&Raw::encode(&[b"BZPOPMIN", b"z", b"0"]));
    wait_blocked(&s, 1);
    assert_eq!(
        other.cmd(&["CLIENT", "UNBLOCK", &id, "bogus"]),
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    );
    assert_eq!(other.cmd(&["CLIENT", "UNBLOCK", &id, "error"]), ":1\r\n");
    assert_eq!(c.read_reply(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(other.cmd(&["CLIENT", "UNBLOCK", "abc"]), "-ERR value is not an integer or out of range\r\n");
}

#[test]
fn wrong_types_fail_at_first_and_are_skipped_after_a_wake_up() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["SET", "str", "x"]);
    assert!(c.cmd(&["BLPOP", "none", "str", "0"]).starts_with("-WRONGTYPE"));
    assert!(c.cmd(&["BZPOPMIN", "str", "0"]).starts_with("-WRONGTYPE"));
    let mut waiter = start(&s, &["BLPOP", "k", "0"]);
    wait_blocked(&s, 1);
    // A zset under the key signals it, but BLPOP does not take it and keeps waiting.
    let mut other = s.raw();
    other.cmd(&["ZADD", "k", "1", "m"]);
    other.cmd(&["DEL", "k"]);
    wait_blocked(&s, 1);
    other.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

/// A blocked move whose destination holds another type when the source gets data fails with WRONGTYPE and leaves
/// the element where it was (Redis 7.0's unit/type/list "BRPOPLPUSH with wrong destination type"); the next
/// waiter on the source is then served. A source of another type is still skipped.
#[test]
fn a_blocked_move_to_a_destination_of_another_type_fails_when_served() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["SET", "target", "nolist"]);
    let mut mover = start(&s, &["BRPOPLPUSH", "blist", "target", "0"]);
    wait_blocked(&s, 1);
    let mut popper = start(&s, &["BLPOP", "blist", "0"]);
    wait_blocked(&s, 2);
    assert_eq!(c.cmd(&["RPUSH", "blist", "a", "b"]), ":2\r\n");
    assert!(mover.read_reply().starts_with("-WRONGTYPE"));
    assert_eq!(popper.read_reply(), "*2\r\n$5\r\nblist\r\n$1\r\na\r\n");
    assert_eq!(c.cmd(&["LRANGE", "blist", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["GET", "target"]), "$6\r\nnolist\r\n");

    let mut mover = start(&s, &["BLMOVE", "src", "target", "LEFT", "RIGHT", "0"]);
    wait_blocked(&s, 1);
    c.cmd(&["SET", "src", "str"]);
    c.cmd(&["DEL", "src"]);
    wait_blocked(&s, 1);
    assert_eq!(c.cmd(&["RPUSH", "src", "x"]), ":1\r\n");
    assert!(mover.read_reply().starts_with("-WRONGTYPE"));
    wait_blocked(&s, 0);
    assert_eq!(c.cmd(&["LRANGE", "src", "0", "-1"]), "*1\r\n$1\r\nx\r\n");
}

/// SWAPDB wakes clients blocked in either database (Redis' "SWAPDB awakes blocked client"), and one that keeps
/// waiting is served by a later push to the database it selected, whichever data that database now holds.
#[test]
fn swapdb_wakes_blocked_clients_and_they_follow_their_database() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["RPUSH", "k", "hello"]);
    let mut waiter = s.raw();
    waiter.cmd(&["SELECT", "9"]);
    waiter.send(&Raw::encode(&[b"BRPOP", b"k", b"5"]));
    wait_blocked(&s, 1);
    assert_eq!(c.cmd(&["SWAPDB", "1", "9"]), "+OK\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nk\r\n$5\r\nhello\r\n");
    wait_blocked(&s, 0);

    waiter.send(&Raw::encode(&[b"BLPOP", b"q", b"0"]));
    wait_blocked(&s, 1);
    assert_eq!(c.cmd(&["SWAPDB", "9", "4"]), "+OK\r\n");
    wait_blocked(&s, 1);
    // A push to the other database no longer concerns it; one to database 9 (now the former 4) does.
    c.cmd(&["SELECT", "4"]);
    assert_eq!(c.cmd(&["RPUSH", "q", "old"]), ":1\r\n");
    c.cmd(&["SELECT", "9"]);
    assert_eq!(c.cmd(&["RPUSH", "q", "new"]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nq\r\n$3\r\nnew\r\n");
    c.cmd(&["SELECT", "4"]);
    assert_eq!(c.cmd(&["LRANGE", "q", "0", "-1"]), "*1\r\n$3\r\nold\r\n");
}

/// As in Redis, the clients a push unblocks are served before the pusher's reply goes out: a chain of moves
/// has settled when the pusher looks (Redis' unit/type/list "Circular BRPOPLPUSH" and "Linked LMOVEs").
#[test]
fn clients_a_push_unblocks_are_served_before_its_reply() {
    let s = Server::start();
    let mut c = s.raw();
    for round in 0..20 {
        let mut one = start(&s, &["BRPOPLPUSH", "list1", "list2", "0"]);
        wait_blocked(&s, 1);
        let mut two = start(&s, &["BRPOPLPUSH", "list2", "list1", "0"]);
        wait_blocked(&s, 2);
        assert_eq!(c.cmd(&["RPUSH", "list1", "foo"]), ":1\r\n");
        assert_eq!(c.cmd(&["LRANGE", "list1", "0", "-1"]), "*1\r\n$3\r\nfoo\r\n", "round {round}");
        assert_eq!(c.cmd(&["EXISTS", "list2"]), ":0\r\n");
        assert_eq!(one.read_reply(), "$3\r\nfoo\r\n");
        assert_eq!(two.read_reply(), "$3\r\nfoo\r\n");
        c.cmd(&["DEL", "list1"]);

        let mut first = start(&s, &["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"]);
        wait_blocked(&s, 1);
        let mut second = start(&s, &["BLMOVE", "b", "c", "LEFT", "RIGHT", "0"]);
        wait_blocked(&s, 2);
        assert_eq!(c.cmd(&["RPUSH", "a", "x"]), ":1\r\n");
        assert_eq!(c.cmd(&["EXISTS", "a", "b"]), ":0\r\n");
        assert_eq!(c.cmd(&["LRANGE", "c", "0", "-1"]), "*1\r\n$1\r\nx\r\n");
        assert_eq!(first.read_reply(), "$1\r\nx\r\n");
        assert_eq!(second.read_reply(), "$1\r\nx\r\n");
        c.cmd(&["DEL", "c"]);
    }
}

/// A woken client that cannot run yet because its peer does not read (a RESP3 subscriber blocked in BLPOP whose
/// socket is full of messages) holds nobody's replies.
#[test]
fn a_woken_client_whose_peer_does_not_read_holds_nobody() {
    let s = Server::start();
    let mut sub = s.raw();
    assert!(sub.cmd(&["HELLO", "3"]).starts_with('%'));
    assert!(sub.cmd(&["SUBSCRIBE", "ch"]).starts_with('>'));
    sub.send(&Raw::encode(&[b"BLPOP", b"q", b"0"]));
    wait_blocked(&s, 1);
    let mut c = s.raw();
    let payload = "x".repeat(1 << 20);
    for _ in 0..16 {
        assert_eq!(c.cmd(&["PUBLISH", "ch", &payload]), ":1\r\n");
    }
    let t = Instant::now();
    assert_eq!(c.cmd(&["RPUSH", "q", "v"]), ":1\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
}

/// WAIT with no replicas: 0 at once when none is asked for (or inside MULTI), else 0 once the timeout passes or
/// CLIENT UNBLOCK ends the wait (with the error when asked), as redis-server without replicas.
#[test]
fn wait_counts_no_replicas() {
    let s = Server::start();
    let mut c = s.raw();
    crate::common::check(
        &mut c,
        &[
            (&["WAIT", "0", "0"], ":0\r\n"),
            (&["WAIT", "-1", "5"], ":0\r\n"),
            (&["WAIT", "x", "0"], "-ERR value is not an integer or out of range\r\n"),
            (&["WAIT", "1", "-1"], "-ERR timeout is negative\r\n"),
            (&["WAIT", "1", "1.5"], "-ERR timeout is not an integer or out of range\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["WAIT", "1", "0"], "+QUEUED\r\n"),
            (&["EXEC"], "*1\r\n:0\r\n"),
        ],
    );
    let t = Instant::now();
    assert_eq!(c.cmd(&["WAIT", "1", "100"]), ":0\r\n");
    assert!(t.elapsed() >= Duration::from_millis(100));

    let mut waiter = s.raw();
    let id = waiter.cmd(&["CLIENT", "ID"]).trim_start_matches(':').trim().to_string();
    waiter.send(&Raw::encode(&[b"WAIT", b"2", b"0"]));
    wait_blocked(&s, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), ":1\r\n");
    assert_eq!(waiter.read_reply(), ":0\r\n");
    waiter.send(&Raw::encode(&[b"WAIT", b"2", b"0"]));
    wait_blocked(&s, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
}

/// Producers and consumers on shared lists (blocking pops, blocking moves between the lists, pushes from several
/// connections on both worker threads): every element is delivered exactly once and nobody hangs.
#[test]
fn producers_and_blocking_consumers_deliver_every_element_once() {
    let s = Server::start_with(&["--workers", "2"]);
    const PER_PRODUCER: usize = 300;
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let mut con = s.conn();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let r: Option<(String, String)> = redis::cmd("BLPOP").arg("out").arg(2).query(&mut con).unwrap();
                    match r {
                        Some((_, v)) => got.push(v),
                        None => return got,
                    }
                }
            })
        })
        .collect();
    let movers: Vec<_> = (0..2)
        .map(|_| {
            let mut con = s.conn();
            std::thread::spawn(move || loop {
                let r: Option<String> =
                    redis::cmd("BLMOVE").arg("in").arg("out").arg("LEFT").arg("RIGHT").arg(2).query(&mut con).unwrap();
                if r.is_none() {
                    return;
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let mut con = s.conn();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let _: i64 = redis::cmd("RPUSH").arg("in").arg(format!("{p}:{i}")).query(&mut con).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    for m in movers {
        m.join().unwrap();
    }
    let mut all: Vec<String> = consumers.into_iter().flat_map(|c| c.join().unwrap()).collect();
    all.sort();
    let mut want: Vec<String> = (0..4).flat_map(|p| (0..PER_PRODUCER).map(move |i| format!("{p}:{i}"))).collect();
    want.sort();
    assert_eq!(all, want);
}

#[test]
fn keys_that_appear_by_rename_or_by_a_served_move_wake_waiters() {
    let s = Server::start();
    let mut mover = start(&s, &["BLMOVE", "src", "mid", "LEFT", "RIGHT", "0"]);
    wait_blocked(&s, 1);
    let mut popper = start(&s, &["BLPOP", "mid", "0"]);
    wait_blocked(&s, 2);
    let mut c = s.raw();
    c.cmd(&["RPUSH", "src", "x"]);
    assert_eq!(mover.read_reply(), "$1\r\nx\r\n");
    assert_eq!(popper.read_reply(), "*2\r\n$3\r\nmid\r\n$1\r\nx\r\n");

    let mut renamed = start(&s, &["BZPOPMIN", "dst", "0"]);
    wait_blocked(&s, 1);
    c.cmd(&["ZADD", "tmp", "5", "m"]);
    assert_eq!(c.cmd(&["RENAME", "tmp", "dst"]), "+OK\r\n");
    assert_eq!(renamed.read_reply(), "*3\r\n$3\r\ndst\r\n$1\r\nm\r\n$1\r\n5\r\n");
}

#[test]
fn multi_key_waits_and_mpop_replies() {
    let s = Server::start();
    let mut w = start(&s, &["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2"]);
    wait_blocked(&s, 1);
    s.raw().cmd(&["RPUSH", "b", "1", "2", "3"]);
    assert_eq!(w.read_reply(), "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
    let mut z = start(&s, &["BZMPOP", "0", "2", "y", "x", "MAX"]);
    wait_blocked(&s, 1);
    s.raw().cmd(&["ZADD", "x", "1.5", "m", "2", "n"]);
    assert_eq!(z.read_reply(), "*2\r\n$1\r\nx\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n");
}
