//! Keyspace family: DEL/EXISTS/TYPE, expiry, RENAME/COPY/MOVE, KEYS/SCAN/RANDOMKEY, DBSIZE, FLUSH*, SWAPDB,
//! OBJECT. Replies were checked against redis-server 7.0.15.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use redis::Commands;

use crate::common::{Raw, Server};

/// Sends each `(command, expected reply)` pair and asserts the exact reply bytes.
fn expect(r: &mut Raw, cases: &[(&str, &str)]) {
    for (cmd, want) in cases {
        let args: Vec<&str> = cmd.split(' ').collect();
        assert_eq!(r.cmd(&args), *want, "{cmd}");
    }
}

/// Polls `cmd` until it replies `want` (expiry is asynchronous); fails after 5 seconds.
fn poll_until(r: &mut Raw, cmd: &[&str], want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let got = r.cmd(cmd);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{cmd:?} still replies {got:?}, want {want:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Parses a RESP2 `SCAN` reply: (cursor, keys).
fn scan_reply(reply: &str) -> (String, Vec<String>) {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[0], "*2", "{reply}");
    let cursor = lines[2].to_string();
    let n: usize = lines[3][1..].parse().expect("key count");
    let keys = (0..n).map(|i| lines[5 + 2 * i].to_string()).collect();
    (cursor, keys)
}

#[test]
fn del_exists_touch_type() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET a 1", "+OK\r\n"),
            ("SET b 2", "+OK\r\n"),
            ("EXISTS a a nokey b", ":3\r\n"),
            ("TOUCH a a nokey", ":2\r\n"),
            ("TYPE a", "+string\r\n"),
            ("TYPE nokey", "+none\r\n"),
            ("DEL a a nokey", ":1\r\n"),
            ("UNLINK b b", ":1\r\n"),
            ("DEL a", ":0\r\n"),
            ("EXISTS a b", ":0\r\n"),
            ("DEL", "-ERR wrong number of arguments for 'del' command\r\n"),
            ("EXISTS", "-ERR wrong number of arguments for 'exists' command\r\n"),
            ("TYPE a b", "-ERR wrong number of arguments for 'type' command\r\n"),
        ],
    );
}

#[test]
fn expire_options_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET k v", "+OK\r\n"),
            ("EXPIRE k 100 nx xx", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
            ("EXPIRE k 100 nx gt", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
            ("EXPIRE k 100 gt lt", "-ERR GT and LT options at the same time are not compatible\r\n"),
            ("EXPIRE k 100 gt lt nx", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
            ("EXPIRE k 100 foo", "-ERR Unsupported option foo\r\n"),
            // Options are checked before the number, as in Redis.
            ("EXPIRE k abc foo", "-ERR Unsupported option foo\r\n"),
            ("EXPIRE k abc", "-ERR value is not an integer or out of range\r\n"),
            ("EXPIRE nokey 100 nx xx", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"),
            ("EXPIRE nokey 100", ":0\r\n"),
            // 7.0: no TTL counts as infinite for GT and LT.
            ("EXPIRE k 100 gt", ":0\r\n"),
            ("EXPIRE k 100 xx", ":0\r\n"),
            ("EXPIRE k 100 lt", ":1\r\n"),
            ("TTL k", ":100\r\n"),
            ("EXPIRE k 50 gt", ":0\r\n"),
            ("EXPIRE k 200 nx", ":0\r\n"),
            ("EXPIRE k 200 xx", ":1\r\n"),
            ("EXPIRE k 200 lt", ":0\r\n"),
            ("EXPIRE k 199 xx lt", ":1\r\n"),
            ("EXPIRE k 300 NX NX", ":0\r\n"),
            ("EXPIRE k 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n"),
            ("EXPIRE k 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"),
            ("EXPIRE k -9223372036854775808", "-ERR invalid expire time in 'expire' command\r\n"),
            ("PEXPIRE k 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"),
            ("EXPIREAT k 9223372036854775807", "-ERR invalid expire time in 'expireat' command\r\n"),
            ("TTL k", ":199\r\n"),
            ("PEXPIREAT k 9223372036854775807", ":1\r\n"),
            ("PEXPIRETIME k", ":9223372036854775807\r\n"),
            ("EXPIRETIME k", ":9223372036854776\r\n"),
            ("PEXPIREAT k 9223372036854775307", ":1\r\n"),
            ("EXPIRETIME k", ":9223372036854775\r\n"),
            ("EXPIREAT k 4102444800", ":1\r\n"),
            ("EXPIRETIME k", ":4102444800\r\n"),
            ("PEXPIRETIME k", ":4102444800000\r\n"),
            // A time in the past deletes the key and still replies 1.
            ("EXPIRE k -5 gt", ":0\r\n"),
            ("EXPIRE k -5 lt", ":1\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET k v", "+OK\r\n"),
            ("EXPIRE k 0", ":1\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET k v", "+OK\r\n"),
            ("EXPIREAT k 100", ":1\r\n"),
            ("GET k", "$-1\r\n"),
            ("SET k v", "+OK\r\n"),
            ("PEXPIREAT k 1", ":1\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("EXPIRE k", "-ERR wrong number of arguments for 'expire' command\r\n"),
        ],
    );
}

#[test]
fn ttl_persist_and_expiry() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("TTL nokey", ":-2\r\n"),
            ("PTTL nokey", ":-2\r\n"),
            ("EXPIRETIME nokey", ":-2\r\n"),
            ("PEXPIRETIME nokey", ":-2\r\n"),
            ("SET k v", "+OK\r\n"),
            ("TTL k", ":-1\r\n"),
            ("PTTL k", ":-1\r\n"),
            ("EXPIRETIME k", ":-1\r\n"),
            ("PEXPIRETIME k", ":-1\r\n"),
            ("PERSIST k", ":0\r\n"),
            ("PERSIST nokey", ":0\r\n"),
            ("EXPIRE k 100", ":1\r\n"),
            ("PERSIST k", ":1\r\n"),
            ("PERSIST k", ":0\r\n"),
            ("TTL k", ":-1\r\n"),
            ("EXPIRE k 100", ":1\r\n"),
        ],
    );
    let pttl: i64 = r.cmd(&["PTTL", "k"])[1..].trim().parse().expect("integer");
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    // Rounded to the nearest second, as Redis does.
    assert_eq!(r.cmd(&["PEXPIRE", "k", "1600"]), ":1\r\n");
    assert_eq!(r.cmd(&["TTL", "k"]), ":2\r\n");

    // Short expiries: the key vanishes, then its record is collected (DBSIZE counts records, as Redis does).
    assert_eq!(r.cmd(&["SET", "short", "v", "PX", "50"]), "+OK\r\n");
    assert_eq!(r.cmd(&["PEXPIRE", "k", "60"]), ":1\r\n");
    assert_eq!(r.cmd(&["SET", "stays", "v"]), "+OK\r\n");
    poll_until(&mut r, &["EXISTS", "short", "k"], ":0\r\n");
    expect(&mut r, &[("TTL short", ":-2\r\n"), ("GET k", "$-1\r\n"), ("PERSIST k", ":0\r\n")]);
    poll_until(&mut r, &["DBSIZE"], ":1\r\n");
    assert_eq!(r.cmd(&["KEYS", "*"]), "*1\r\n$5\r\nstays\r\n");
}

#[test]
fn rename_and_renamenx() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("RENAME nokey x", "-ERR no such key\r\n"),
            ("RENAME nokey nokey", "-ERR no such key\r\n"),
            ("RENAMENX nokey x", "-ERR no such key\r\n"),
            ("SET a 1", "+OK\r\n"),
            ("RENAME a a", "+OK\r\n"),
            ("RENAMENX a a", ":0\r\n"),
            ("EXPIRE a 100", ":1\r\n"),
            ("RENAME a b", "+OK\r\n"),
            ("GET a", "$-1\r\n"),
            ("GET b", "$1\r\n1\r\n"),
            ("TTL b", ":100\r\n"),
            ("SET c 2", "+OK\r\n"),
            ("RENAMENX b c", ":0\r\n"),
            ("RENAMENX b d", ":1\r\n"),
            ("TTL d", ":100\r\n"),
            // Overwrite: the destination takes the source's value and expiry (none here).
            ("RENAME c d", "+OK\r\n"),
            ("GET d", "$1\r\n2\r\n"),
            ("TTL d", ":-1\r\n"),
            ("DBSIZE", ":1\r\n"),
        ],
    );
}

#[test]
fn copy_and_move() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET d x", "+OK\r\n"),
            ("COPY d d", "-ERR source and destination objects are the same\r\n"),
            ("COPY d d DB 0", "-ERR source and destination objects are the same\r\n"),
            ("COPY nokey nokey", "-ERR source and destination objects are the same\r\n"),
            ("COPY nokey x", ":0\r\n"),
            ("COPY d e db 16", "-ERR DB index is out of range\r\n"),
            ("COPY d e db -1", "-ERR DB index is out of range\r\n"),
            ("COPY d e db abc", "-ERR value is not an integer or out of range\r\n"),
            (
                "COPY d e db 99999999999",
                "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
            ),
            ("COPY d e db", "-ERR syntax error\r\n"),
            ("COPY d e foo", "-ERR syntax error\r\n"),
            ("EXPIRE d 100", ":1\r\n"),
            ("COPY d e", ":1\r\n"),
            ("TTL e", ":100\r\n"),
            ("SET d y", "+OK\r\n"),
            ("COPY d e", ":0\r\n"),
            ("GET e", "$1\r\nx\r\n"),
            ("COPY d e REPLACE", ":1\r\n"),
            ("GET e", "$1\r\ny\r\n"),
            ("TTL e", ":-1\r\n"),
            ("COPY d e replace replace", ":1\r\n"),
            ("COPY d d DB 1", ":1\r\n"),
            ("COPY d e replace DB 2 DB 1", ":1\r\n"),
            ("MOVE d 0", "-ERR source and destination objects are the same\r\n"),
            ("MOVE nokey 0", "-ERR source and destination objects are the same\r\n"),
            ("MOVE d 16", "-ERR DB index is out of range\r\n"),
            ("MOVE d -1", "-ERR DB index is out of range\r\n"),
            ("MOVE d abc", "-ERR value is not an integer or out of range\r\n"),
            ("MOVE nokey 1", ":0\r\n"),
            // Present in the target: nothing moves.
            ("MOVE d 1", ":0\r\n"),
            ("EXPIRE d 100", ":1\r\n"),
            ("MOVE d 3", ":1\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("DBSIZE", ":1\r\n"),
            ("SELECT 3", "+OK\r\n"),
            ("GET d", "$1\r\ny\r\n"),
            ("TTL d", ":100\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("KEYS *", "*2\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("DBSIZE", ":2\r\n"),
        ],
    );
}

#[test]
fn keys_patterns() {
    let s = Server::start();
    let mut r = s.raw();
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "", "other"] {
        assert_eq!(r.cmd(&["SET", k, "v"]), "+OK\r\n");
    }
    let keys = |r: &mut Raw, p: &str| -> BTreeSet<String> {
        let reply = r.cmd(&["KEYS", p]);
        let lines: Vec<&str> = reply.split("\r\n").collect();
        let n: usize = lines[0][1..].parse().expect("array");
        (0..n).map(|i| lines[2 + 2 * i].to_string()).collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(keys(&mut r, "*").len(), 8, "`*` matches the empty key too");
    assert_eq!(keys(&mut r, "h?llo"), set(&["hello", "hallo", "hxllo"]));
    assert_eq!(keys(&mut r, "h*llo"), set(&["hello", "hallo", "hxllo", "hllo", "heeeello"]));
    assert_eq!(keys(&mut r, "h[ae]llo"), set(&["hello", "hallo"]));
    assert_eq!(keys(&mut r, "h[^e]llo"), set(&["hallo", "hxllo"]));
    assert_eq!(keys(&mut r, "h[a-b]llo"), set(&["hallo"]));
    assert_eq!(keys(&mut r, "a\\*b"), set(&["a*b"]));
    assert_eq!(keys(&mut r, ""), set(&[""]));
    assert_eq!(keys(&mut r, "nomatch*"), set(&[]));
    assert_eq!(r.cmd(&["KEYS", "o*"]), "*1\r\n$5\r\nother\r\n");
    assert_eq!(r.cmd(&["KEYS", "a", "b"]), "-ERR wrong number of arguments for 'keys' command\r\n");
}

#[test]
fn scan_errors_and_options() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("SET a 1", "+OK\r\n"),
            ("SET b 2", "+OK\r\n"),
            ("SCAN 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("SCAN 00 MATCH b", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n"),
            ("SCAN +0 match * type STRING count 5", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("SCAN 0 TYPE nosuchtype", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("SCAN 0 COUNT 0", "-ERR syntax error\r\n"),
            ("SCAN 0 COUNT -1", "-ERR syntax error\r\n"),
            ("SCAN 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"),
            ("SCAN 0 COUNT 9223372036854775807", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("SCAN 0 MATCH", "-ERR syntax error\r\n"),
            ("SCAN 0 foo", "-ERR syntax error\r\n"),
            ("SCAN abc", "-ERR invalid cursor\r\n"),
            ("SCAN 0x0", "-ERR invalid cursor\r\n"),
            ("SCAN 18446744073709551616", "-ERR invalid cursor\r\n"),
            ("SCAN", "-ERR wrong number of arguments for 'scan' command\r\n"),
        ],
    );
    assert_eq!(r.cmd(&["SCAN", " 0"]), "-ERR invalid cursor\r\n");
    assert_eq!(r.cmd(&["SCAN", ""]), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    // COUNT bounds the keys examined; MATCH filters them afterwards, so a page may be empty.
    let (cursor, keys) = scan_reply(&r.cmd(&["SCAN", "0", "COUNT", "1", "MATCH", "b"]));
    assert_ne!(cursor, "0");
    assert!(keys.is_empty());
    let (cursor, keys) = scan_reply(&r.cmd(&["SCAN", &cursor, "COUNT", "1", "MATCH", "b"]));
    assert_eq!((cursor.as_str(), keys), ("0", vec!["b".to_string()]));
    // Exactly COUNT keys left: the cursor is already 0.
    let (cursor, _) = scan_reply(&r.cmd(&["SCAN", "0", "COUNT", "2"]));
    assert_eq!(cursor, "0");
    // RESP3: the same array shape.
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["SCAN", "0", "MATCH", "a"]), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n");
}

#[test]
fn scan_is_complete_across_connections() {
    let s = Server::start();
    let mut c = s.conn();
    let all: BTreeSet<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    let mut pipe = redis::pipe();
    for k in &all {
        pipe.set(k, "v").ignore();
    }
    pipe.set("other", "v").ignore();
    let () = pipe.query(&mut c).expect("populate");

    // Alternate connections: a cursor is server-wide.
    let mut conns = [s.raw(), s.raw(), s.raw()];
    let (mut cursor, mut seen, mut calls) = ("0".to_string(), Vec::new(), 0);
    loop {
        let reply = conns[calls % 3].cmd(&["SCAN", &cursor, "MATCH", "key:*", "COUNT", "7"]);
        let (next, keys) = scan_reply(&reply);
        assert!(keys.len() <= 7);
        seen.extend(keys);
        calls += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
        let id: u64 = cursor.parse().expect("numeric cursor");
        assert!(id > 0 && id < 1 << 63);
    }
    assert_eq!(calls, 1001usize.div_ceil(7));
    assert_eq!(seen.len(), 1000, "no key returned twice");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), all);

    // The `redis` crate's iterator parses cursors as u64.
    let got: BTreeSet<String> = c.scan_match("key:1*").expect("scan").collect();
    let want: BTreeSet<String> = all.iter().filter(|k| k.starts_with("key:1")).cloned().collect();
    assert_eq!(got, want);
    let got: BTreeSet<String> = c.scan().expect("scan").collect();
    assert_eq!(got.len(), 1001);

    // Keys present for the whole scan are returned even as others come and go.
    let mut r = s.raw();
    let (mut cursor, mut seen) = ("0".to_string(), BTreeSet::new());
    let mut round = 0;
    loop {
        let (next, keys) = scan_reply(&r.cmd(&["SCAN", &cursor, "COUNT", "50"]));
        seen.extend(keys);
        assert_eq!(r.cmd(&["SET", &format!("new:{round}"), "v"]), "+OK\r\n");
        assert_eq!(r.cmd(&["DEL", &format!("key:{}", 999 - round)]), ":1\r\n");
        round += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    for i in 0..(1000 - round) {
        assert!(seen.contains(&format!("key:{i}")), "key:{i} missed");
    }
}

#[test]
fn randomkey_covers_every_key() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["RANDOMKEY"]), "$-1\r\n");
    assert_eq!(r.cmd(&["SET", "only", "v"]), "+OK\r\n");
    assert_eq!(r.cmd(&["RANDOMKEY"]), "$4\r\nonly\r\n");
    // Neighbours in byte order (`bar`, `baz`) and keys sharing long prefixes all come up.
    let keys = ["bar", "baz", "foo", "key:1", "key:10", "key:100", "x"];
    for k in keys {
        assert_eq!(r.cmd(&["SET", k, "v"]), "+OK\r\n");
    }
    assert_eq!(r.cmd(&["DEL", "only"]), ":1\r\n");
    let mut seen = BTreeSet::new();
    for _ in 0..500 {
        let reply = r.cmd(&["RANDOMKEY"]);
        let key = reply.split("\r\n").nth(1).expect("bulk").to_string();
        assert!(keys.contains(&key.as_str()), "{key}");
        seen.insert(key);
    }
    assert_eq!(seen.len(), keys.len(), "{seen:?}");
    // Expired keys are never picked.
    assert_eq!(r.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "gone", "v", "PX", "1"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "here", "v"]), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(5));
    for _ in 0..20 {
        assert_eq!(r.cmd(&["RANDOMKEY"]), "$4\r\nhere\r\n");
    }
    assert_eq!(r.cmd(&["RANDOMKEY", "x"]), "-ERR wrong number of arguments for 'randomkey' command\r\n");
}

#[test]
fn dbsize_is_exact() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("DBSIZE", ":0\r\n"),
            ("SET a 1", "+OK\r\n"),
            ("SET b 1", "+OK\r\n"),
            ("SET a 2", "+OK\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("SET c 1 EX 100", "+OK\r\n"),
            ("SET c 2", "+OK\r\n"),
            ("DBSIZE", ":3\r\n"),
            ("DEL a nokey", ":1\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("RENAME b d", "+OK\r\n"),
            ("COPY d e", ":1\r\n"),
            ("DBSIZE", ":3\r\n"),
            ("MOVE e 1", ":1\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("PEXPIRE c 20", ":1\r\n"),
            ("DBSIZE x", "-ERR wrong number of arguments for 'dbsize' command\r\n"),
        ],
    );
    poll_until(&mut r, &["DBSIZE"], ":1\r\n");
    expect(&mut r, &[("SELECT 1", "+OK\r\n"), ("DBSIZE", ":1\r\n")]);
}

/// `expired_keys` of INFO stats.
fn expired_keys(r: &mut Raw) -> u64 {
    let info = r.cmd(&["INFO", "stats"]);
    let line = info.split("\r\n").find_map(|l| l.strip_prefix("expired_keys:")).expect("expired_keys field");
    line.parse().expect("a count")
}

/// Redis' lazy expiry: a read that meets an expired key deletes it at once, counted in `expired_keys` and
/// announced with its `expired` event — except while clients are paused, when it stays until a read after the
/// pause.
#[test]
fn reads_delete_the_expired_keys_they_meet() {
    // Active expiry every 10 s: within this test only reads remove keys.
    let s = Server::start_with(&["--active_expire_interval_ms", "10000", "--notify-keyspace-events", "Ex"]);
    let mut r = s.raw();
    let mut events = s.raw();
    events.cmd(&["SUBSCRIBE", "__keyevent@0__:expired"]);
    expect(&mut r, &[("SET k v PX 1", "+OK\r\n"), ("SET other v", "+OK\r\n")]);
    // KEYS skips an expired key without deleting it (as Redis' KEYS does).
    poll_until(&mut r, &["KEYS", "k"], "*0\r\n");
    let before = expired_keys(&mut r);
    expect(&mut r, &[("DBSIZE", ":2\r\n"), ("GET k", "$-1\r\n"), ("DBSIZE", ":1\r\n")]);
    assert_eq!(expired_keys(&mut r), before + 1);
    assert_eq!(events.read_reply(), "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n");
    // Every kind of lookup does it: TYPE, EXISTS, TTL, a read inside MULTI, and SCAN for the keys it steps over.
    for (i, read) in ["TYPE", "EXISTS", "TTL", "MULTI", "SCAN"].iter().enumerate() {
        let key = format!("t{i}");
        r.cmd(&["SET", &key, "v", "PX", "1"]);
        poll_until(&mut r, &["KEYS", &key], "*0\r\n");
        if *read == "MULTI" {
            r.cmd(&["MULTI"]);
            r.cmd(&["GET", &key]);
            assert_eq!(r.cmd(&["EXEC"]), "*1\r\n$-1\r\n");
        } else if *read == "SCAN" {
            assert_eq!(r.cmd(&["SCAN", "0", "COUNT", "100"]), "*2\r\n$1\r\n0\r\n*1\r\n$5\r\nother\r\n");
        } else {
            r.cmd(&[read, &key]);
        }
        assert_eq!(r.cmd(&["DBSIZE"]), ":1\r\n", "{read}");
        assert!(events.read_reply().ends_with(&format!("$2\r\n{key}\r\n")), "{read}");
    }
    // While clients are paused the key stays; the first read after the pause removes it.
    let before = expired_keys(&mut r);
    r.cmd(&["SET", "p", "v", "PX", "1"]);
    poll_until(&mut r, &["KEYS", "p"], "*0\r\n");
    expect(&mut r, &[("CLIENT PAUSE 100000 WRITE", "+OK\r\n"), ("GET p", "$-1\r\n"), ("DBSIZE", ":2\r\n")]);
    assert_eq!(expired_keys(&mut r), before);
    expect(&mut r, &[("CLIENT UNPAUSE", "+OK\r\n"), ("GET p", "$-1\r\n"), ("DBSIZE", ":1\r\n")]);
    assert_eq!(expired_keys(&mut r), before + 1);
}

#[test]
fn flush_and_swapdb() {
    let s = Server::start();
    let mut r = s.raw();
    let mut other = s.raw();
    expect(
        &mut r,
        &[
            ("SET a 0", "+OK\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("SET b 1", "+OK\r\n"),
            ("SET c 1", "+OK\r\n"),
            ("SWAPDB 0 16", "-ERR DB index is out of range\r\n"),
            ("SWAPDB -1 0", "-ERR DB index is out of range\r\n"),
            ("SWAPDB a 0", "-ERR invalid first DB index\r\n"),
            ("SWAPDB 0 a", "-ERR invalid second DB index\r\n"),
            ("SWAPDB 99999999999 0", "-ERR invalid first DB index\r\n"),
            ("SWAPDB 0 0", "+OK\r\n"),
            ("SWAPDB 0 1", "+OK\r\n"),
            ("DBSIZE", ":1\r\n"),
            ("GET a", "$1\r\n0\r\n"),
        ],
    );
    // Another connection on db 0 sees the swap too.
    expect(&mut other, &[("DBSIZE", ":2\r\n"), ("KEYS *", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n")]);
    expect(
        &mut r,
        &[
            ("FLUSHDB foo", "-ERR syntax error\r\n"),
            ("FLUSHDB sync sync", "-ERR syntax error\r\n"),
            ("FLUSHDB ASYNC", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("SET x 1", "+OK\r\n"),
            ("FLUSHDB sync", "+OK\r\n"),
            ("FLUSHDB", "+OK\r\n"),
            ("SELECT 0", "+OK\r\n"),
            ("DBSIZE", ":2\r\n"),
            ("SELECT 5", "+OK\r\n"),
            ("SET y 1", "+OK\r\n"),
            ("FLUSHALL x", "-ERR syntax error\r\n"),
            ("FLUSHALL SYNC", "+OK\r\n"),
            ("DBSIZE", ":0\r\n"),
            ("FLUSHALL async", "+OK\r\n"),
            ("FLUSHALL", "+OK\r\n"),
        ],
    );
    expect(&mut other, &[("DBSIZE", ":0\r\n"), ("SET z 1", "+OK\r\n"), ("DBSIZE", ":1\r\n")]);
    // The swap survives a restart.
    let mut s = s;
    expect(&mut s.raw(), &[("SELECT 1", "+OK\r\n"), ("SET in1 v", "+OK\r\n"), ("SWAPDB 0 1", "+OK\r\n")]);
    s.restart();
    expect(
        &mut s.raw(),
        &[("KEYS *", "*1\r\n$3\r\nin1\r\n"), ("SELECT 1", "+OK\r\n"), ("KEYS *", "*1\r\n$1\r\nz\r\n")],
    );
}

#[test]
fn object_subcommands() {
    let s = Server::start();
    let mut r = s.raw();
    let long = "a".repeat(45);
    let embstr = "a".repeat(44);
    expect(
        &mut r,
        &[
            ("OBJECT ENCODING nokey", "$-1\r\n"),
            ("OBJECT REFCOUNT nokey", "$-1\r\n"),
            ("OBJECT IDLETIME nokey", "$-1\r\n"),
            ("OBJECT FREQ nokey", "$-1\r\n"),
            ("SET n 0", "+OK\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("OBJECT REFCOUNT n", ":2147483647\r\n"),
            ("SET n 9999", "+OK\r\n"),
            ("OBJECT REFCOUNT n", ":2147483647\r\n"),
            ("SET n 10000", "+OK\r\n"),
            ("OBJECT REFCOUNT n", ":1\r\n"),
            ("SET n -9223372036854775808", "+OK\r\n"),
            ("OBJECT ENCODING n", "$3\r\nint\r\n"),
            ("SET n 12345678901234567890", "+OK\r\n"),
            ("OBJECT ENCODING n", "$6\r\nembstr\r\n"),
            ("SET n 01", "+OK\r\n"),
            ("OBJECT ENCODING n", "$6\r\nembstr\r\n"),
            ("OBJECT REFCOUNT n", ":1\r\n"),
            ("OBJECT IDLETIME n", ":0\r\n"),
            (
                "OBJECT FREQ n",
                "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when \
                 switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
            ),
            ("OBJECT", "-ERR wrong number of arguments for 'object' command\r\n"),
            ("OBJECT foo", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"),
            ("OBJECT ENCODING", "-ERR wrong number of arguments for 'object|encoding' command\r\n"),
            ("OBJECT HELP x", "-ERR wrong number of arguments for 'object|help' command\r\n"),
        ],
    );
    assert_eq!(r.cmd(&["SET", "e", &embstr]), "+OK\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "e"]), "$6\r\nembstr\r\n");
    assert_eq!(r.cmd(&["SET", "e", &long]), "+OK\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "e"]), "$3\r\nraw\r\n");
    let help = r.cmd(&["OBJECT", "HELP"]);
    assert!(help.starts_with("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), "{help}");
    assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"), "{help}");
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "nokey"]), "_\r\n");
}

/// OBJECT IDLETIME counts from the key's last read or write; TYPE, TTL, EXISTS and OBJECT do not touch the key,
/// TOUCH and GET do (as Redis' LOOKUP_NOTOUCH).
#[test]
fn object_idletime_follows_accesses() {
    let s = Server::start();
    let mut r = s.raw();
    let idle = |r: &mut crate::common::Raw, key: &str| crate::common::int(&r.cmd(&["OBJECT", "IDLETIME", key]));
    assert_eq!(r.cmd(&["SET", "foo", "bar"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "other", "x"]), "+OK\r\n");
    assert_eq!(r.cmd(&["RPUSH", "list", "a"]), ":1\r\n");
    assert_eq!(idle(&mut r, "foo"), 0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for cmd in
        [&["TTL", "foo"][..], &["PTTL", "foo"], &["TYPE", "foo"], &["EXISTS", "foo"], &["OBJECT", "ENCODING", "foo"]]
    {
        r.cmd(cmd);
    }
    assert!(idle(&mut r, "foo") >= 1);
    assert!(idle(&mut r, "list") >= 1);
    assert_eq!(r.cmd(&["TOUCH", "foo", "nokey"]), ":1\r\n");
    assert_eq!(idle(&mut r, "foo"), 0);
    assert_eq!(r.cmd(&["GET", "other"]), "$1\r\nx\r\n");
    assert_eq!(idle(&mut r, "other"), 0);
    assert_eq!(r.cmd(&["LPUSH", "list", "b"]), ":2\r\n");
    assert_eq!(idle(&mut r, "list"), 0);
    // A write and the question in one pipeline: the key is being written, so it was just used.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    r.send(&crate::common::Raw::encode(&[b"SET", b"foo", b"2"]));
    r.send(&crate::common::Raw::encode(&[b"OBJECT", b"IDLETIME", b"foo"]));
    assert_eq!(r.read_reply(), "+OK\r\n");
    assert_eq!(r.read_reply(), ":0\r\n");
}

/// OBJECT ENCODING and REFCOUNT of a string follow how Redis would have built its object, not only its bytes.
#[test]
fn object_follows_how_strings_were_written() {
    let s = Server::start();
    let mut r = s.raw();
    let long = "1".repeat(45);
    let (psetex, append) = (format!("PSETEX p 100000 {long}"), format!("APPEND c {long}"));
    let (int, embstr, raw) = ("$3\r\nint\r\n", "$6\r\nembstr\r\n", "$3\r\nraw\r\n");
    let (shared, one) = (":2147483647\r\n", ":1\r\n");
    expect(
        &mut r,
        &[
            // tryObjectEncoding: SET and its variants, MSET, GETSET, the INCR family, APPEND creating the key.
            ("SET k 10", "+OK\r\n"),
            ("OBJECT ENCODING k", int),
            ("OBJECT REFCOUNT k", shared),
            ("SETEX e 100 5", "+OK\r\n"),
            ("OBJECT ENCODING e", int),
            ("OBJECT REFCOUNT e", shared),
            (&psetex, "+OK\r\n"),
            ("OBJECT ENCODING p", raw),
            ("OBJECT REFCOUNT p", one),
            ("SETNX q 5", ":1\r\n"),
            ("OBJECT ENCODING q", int),
            ("OBJECT REFCOUNT q", shared),
            ("GETSET q 10000", "$1\r\n5\r\n"),
            ("OBJECT ENCODING q", int),
            ("OBJECT REFCOUNT q", one),
            ("MSET m1 -1 m2 abc", "+OK\r\n"),
            ("OBJECT ENCODING m1", int),
            ("OBJECT REFCOUNT m1", one),
            ("OBJECT ENCODING m2", embstr),
            ("OBJECT REFCOUNT m2", one),
            ("MSETNX m3 7 m4 8", ":1\r\n"),
            ("OBJECT ENCODING m3", int),
            ("OBJECT REFCOUNT m3", shared),
            ("SET k 9999 KEEPTTL GET", "$2\r\n10\r\n"),
            ("OBJECT ENCODING k", int),
            ("OBJECT REFCOUNT k", shared),
            ("APPEND a 5", ":1\r\n"),
            ("OBJECT ENCODING a", int),
            ("OBJECT REFCOUNT a", shared),
            ("APPEND b ab", ":2\r\n"),
            ("OBJECT ENCODING b", embstr),
            ("OBJECT REFCOUNT b", one),
            (&append, ":45\r\n"),
            ("OBJECT ENCODING c", raw),
            ("OBJECT REFCOUNT c", one),
            ("INCR i", ":1\r\n"),
            ("OBJECT ENCODING i", int),
            ("OBJECT REFCOUNT i", shared),
            ("INCRBY i 20000", ":20001\r\n"),
            ("OBJECT ENCODING i", int),
            ("OBJECT REFCOUNT i", one),
            ("DECRBY i 20000", ":1\r\n"),
            ("OBJECT ENCODING i", int),
            ("OBJECT REFCOUNT i", shared),
            // Changed in place or built by BITOP: raw, one reference.
            ("APPEND k 5", ":5\r\n"),
            ("OBJECT ENCODING k", raw),
            ("OBJECT REFCOUNT k", one),
            ("SETRANGE a 0 7", ":1\r\n"),
            ("OBJECT ENCODING a", raw),
            ("OBJECT REFCOUNT a", one),
            ("SETRANGE n 0 5", ":1\r\n"),
            ("OBJECT ENCODING n", raw),
            ("OBJECT REFCOUNT n", one),
            ("INCR n", ":6\r\n"),
            ("OBJECT ENCODING n", int),
            ("OBJECT REFCOUNT n", shared),
            ("SET s 10", "+OK\r\n"),
            ("SETBIT s 0 0", ":0\r\n"),
            ("OBJECT ENCODING s", raw),
            ("OBJECT REFCOUNT s", one),
            ("SET f 1", "+OK\r\n"),
            ("BITFIELD f GET u8 0", "*1\r\n:49\r\n"),
            ("OBJECT ENCODING f", int),
            ("OBJECT REFCOUNT f", shared),
            ("BITFIELD f SET u8 0 50", "*1\r\n:49\r\n"),
            ("GET f", "$1\r\n2\r\n"),
            ("OBJECT ENCODING f", raw),
            ("OBJECT REFCOUNT f", one),
            ("BITFIELD g OVERFLOW FAIL INCRBY u2 0 10", "*1\r\n$-1\r\n"),
            ("OBJECT ENCODING g", raw),
            ("OBJECT REFCOUNT g", one),
            ("SET src 12", "+OK\r\n"),
            ("BITOP OR d src", ":2\r\n"),
            ("GET d", "$2\r\n12\r\n"),
            ("OBJECT ENCODING d", raw),
            ("OBJECT REFCOUNT d", one),
            // createStringObject: embstr up to 44 bytes, else raw, never an integer.
            ("INCRBYFLOAT x 5", "$1\r\n5\r\n"),
            ("OBJECT ENCODING x", embstr),
            ("OBJECT REFCOUNT x", one),
            ("INCRBYFLOAT y 1e50", "$51\r\n100000000000000000003583830118858923890798487404544\r\n"),
            ("OBJECT ENCODING y", raw),
            ("OBJECT REFCOUNT y", one),
            // TTL changes keep the object; RENAME and MOVE move it.
            ("GETEX k EX 100", "$5\r\n99995\r\n"),
            ("OBJECT ENCODING k", raw),
            ("OBJECT REFCOUNT k", one),
            ("GETEX k PERSIST", "$5\r\n99995\r\n"),
            ("OBJECT ENCODING k", raw),
            ("OBJECT REFCOUNT k", one),
            ("EXPIRE x 100", ":1\r\n"),
            ("PERSIST x", ":1\r\n"),
            ("OBJECT ENCODING x", embstr),
            ("OBJECT REFCOUNT x", one),
            ("RENAME k k2", "+OK\r\n"),
            ("OBJECT ENCODING k2", raw),
            ("OBJECT REFCOUNT k2", one),
            ("RENAME e e2", "+OK\r\n"),
            ("OBJECT ENCODING e2", int),
            ("OBJECT REFCOUNT e2", shared),
            ("MOVE x 1", ":1\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("OBJECT ENCODING x", embstr),
            ("OBJECT REFCOUNT x", one),
            ("SELECT 0", "+OK\r\n"),
            // COPY duplicates the object: same encoding.
            ("COPY k2 k3", ":1\r\n"),
            ("OBJECT ENCODING k3", raw),
            ("OBJECT REFCOUNT k3", one),
            ("COPY y y2", ":1\r\n"),
            ("OBJECT ENCODING y2", raw),
            ("OBJECT REFCOUNT y2", one),
            ("COPY m2 m5", ":1\r\n"),
            ("OBJECT ENCODING m5", embstr),
            ("OBJECT REFCOUNT m5", one),
            ("COPY e2 e3", ":1\r\n"),
            ("OBJECT ENCODING e3", int),
            ("OBJECT REFCOUNT e3", one),
        ],
    );
}

#[test]
fn object_under_an_lfu_policy() {
    let s = Server::start_with(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET k 1", "+OK\r\n"),
            ("OBJECT FREQ k", ":5\r\n"),
            (
                "OBJECT IDLETIME k",
                "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching \
                 between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
            ),
            // Without a maxmemory limit, small integers are still shared.
            ("OBJECT REFCOUNT k", ":2147483647\r\n"),
        ],
    );
}

/// LFU counters as Redis keeps them (checked against redis-server 7.0.15 with `maxmemory` set, so that small
/// integers are not shared): a new key starts at 5, each access counts (always, with `lfu-log-factor 0`), a write
/// keeps the counter its lookup raised, TYPE/EXISTS/TTL/OBJECT do not count, RENAME and MOVE carry the counter,
/// RESTORE … FREQ sets it.
#[test]
fn lfu_counters_follow_accesses() {
    let s = Server::start_with(&["--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0"]);
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET k v", "+OK\r\n"),
            ("OBJECT FREQ k", ":5\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("OBJECT FREQ k", ":6\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SET k v2", "+OK\r\n"),
            ("OBJECT FREQ k", ":8\r\n"),
            ("EXISTS k", ":1\r\n"),
            ("TYPE k", "+string\r\n"),
            ("TTL k", ":-1\r\n"),
            ("OBJECT FREQ k", ":8\r\n"),
            ("INCR c", ":1\r\n"),
            ("INCR c", ":2\r\n"),
            ("INCR c", ":3\r\n"),
            ("OBJECT FREQ c", ":7\r\n"),
            // GET then a lookup to write: two accesses, as in Redis.
            ("GETSET c 10", "$1\r\n3\r\n"),
            ("OBJECT FREQ c", ":9\r\n"),
            ("SET c 11 GET", "$2\r\n10\r\n"),
            ("OBJECT FREQ c", ":11\r\n"),
            ("GETSET nokey 1", "$-1\r\n"),
            ("OBJECT FREQ nokey", ":5\r\n"),
            ("RENAME k k2", "+OK\r\n"),
            ("OBJECT FREQ k2", ":9\r\n"),
            ("MOVE k2 1", ":1\r\n"),
            ("SELECT 1", "+OK\r\n"),
            ("OBJECT FREQ k2", ":10\r\n"),
        ],
    );
    let mut c = s.conn();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut c).unwrap();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("k2").query(&mut c).unwrap();
    let restore = |c: &mut redis::Connection, key: &str, opt: &str, n: i64| -> redis::RedisResult<String> {
        redis::cmd("RESTORE").arg(key).arg(0).arg(&payload).arg(opt).arg(n).query(c)
    };
    assert_eq!(restore(&mut c, "f", "FREQ", 100).unwrap(), "OK");
    let freq: i64 = redis::cmd("OBJECT").arg("FREQ").arg("f").query(&mut c).unwrap();
    assert_eq!(freq, 100);
    // IDLETIME means nothing under LFU.
    assert_eq!(restore(&mut c, "i", "IDLETIME", 1000).unwrap(), "OK");
    let freq: i64 = redis::cmd("OBJECT").arg("FREQ").arg("i").query(&mut c).unwrap();
    assert_eq!(freq, 5);
    // Back to an LRU policy: OBJECT FREQ is refused, idle times are kept again.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory-policy").arg("allkeys-lru").query(&mut c).unwrap();
    assert!(redis::cmd("OBJECT").arg("FREQ").arg("f").query::<i64>(&mut c).is_err());
    assert_eq!(restore(&mut c, "j", "IDLETIME", 1000).unwrap(), "OK");
    let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("j").query(&mut c).unwrap();
    assert!((1000..1010).contains(&idle), "{idle}");
}

#[test]
fn scan_resumes_after_the_empty_key() {
    let s = Server::start();
    let mut c = s.conn();
    let _: () = redis::cmd("MSET").arg("").arg("x").arg("k1").arg("y").query(&mut c).unwrap();
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (next, keys): (String, Vec<String>) =
            redis::cmd("SCAN").arg(&cursor).arg("COUNT").arg(1).query(&mut c).unwrap();
        seen.extend(keys);
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "the scan must finish");
    seen.sort();
    assert_eq!(seen, ["", "k1"]);
}
