//! End-to-end tests of what all collection types share: O(1) deletion with background reclamation, the keyspace
//! commands on collections (TYPE, OBJECT ENCODING, SCAN TYPE, COPY, RENAME, MOVE, EXPIRE), persistence, and
//! streamed replies with bounded memory.

use std::io::Read;
use std::time::{Duration, Instant};

use redis::Commands;

use crate::common::Server;

/// Fills hash `key` with `n` fields `f0…` of `value`, 1000 fields per HSET.
fn fill_hash(con: &mut redis::Connection, key: &str, n: usize, value: &str) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(key);
        for i in chunk {
            cmd.arg(format!("f{i}")).arg(value);
        }
        let _: i64 = cmd.query(con).unwrap();
    }
}

/// Sends `request` and reads exactly `expected` reply bytes; returns how much the server's peak RSS grew
/// meanwhile (KiB), to show a huge reply was streamed rather than built whole.
fn peak_growth_while_reading(s: &Server, request: &[u8], expected: usize) -> u64 {
    let (before, _) = s.rss_kib();
    s.reset_peak_rss();
    let mut raw = s.raw();
    raw.send(request);
    let mut got = 0;
    let mut chunk = vec![0u8; 1 << 16];
    while got < expected {
        let n = raw.stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed after {got} of {expected} bytes");
        got += n;
    }
    assert_eq!(got, expected);
    let (_, peak) = s.rss_kib();
    peak.saturating_sub(before)
}

fn info_field(con: &mut redis::Connection, section: &str, name: &str) -> String {
    let info: String = redis::cmd("INFO").arg(section).query(con).unwrap();
    let prefix = format!("{name}:");
    info.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_default().trim().to_string()
}

#[test]
fn a_recreated_hash_shows_only_its_new_fields_and_the_old_ones_are_reclaimed() {
    let mut s = Server::start();
    let mut con = s.conn();
    fill_hash(&mut con, "big", 5000, "old");
    assert_eq!(con.hlen::<_, i64>("big").unwrap(), 5000);
    assert_eq!(con.del::<_, i64>("big").unwrap(), 1);
    assert_eq!(con.hset::<_, _, _, i64>("big", "new", "v").unwrap(), 1);
    let all: Vec<(String, String)> = con.hgetall("big").unwrap();
    assert_eq!(all, vec![("new".to_string(), "v".to_string())]);
    assert_eq!(con.hget::<_, _, Option<String>>("big", "f7").unwrap(), None);

    // Overwritten by another type, expired, and flushed collections are reclaimed too.
    fill_hash(&mut con, "over", 2000, "x");
    let _: () = con.set("over", "now a string").unwrap();
    fill_hash(&mut con, "short", 2000, "x");
    let _: i64 = con.pexpire("short", 30).unwrap();
    let _: i64 = con.sadd("db1set", &["a", "b", "c"]).unwrap();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    let _: i64 = con.rpush("l", &["a", "b"]).unwrap();
    let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();

    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    let start = Instant::now();
    loop {
        // `short` is gone for good once active expiry removed its record (three keys left in db 0).
        let expired = info_field(&mut con, "keyspace", "db0").starts_with("keys=3,");
        if expired && info_field(&mut con, "persistence", "collections_pending_cleanup") == "0" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "cleanup did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _: () = redis::cmd("SHUTDOWN").query(&mut con).unwrap_or(());
    assert_eq!(s.wait_exit(), Some(0));

    // Only the live elements are left in RocksDB: the new field of `big` and the three members of `db1set`.
    let store = libsable::storage::Store::open(&libsable::storage::StorageOptions {
        path: s.db_path().into(),
        databases: 16,
        wal_fsync: libsable::storage::WalFsync::No,
        block_cache_bytes: 8 << 20,
        write_buffer_bytes: 4 << 20,
        meta_cache_bytes: 0,
        background_low_priority: false,
    })
    .unwrap();
    assert_eq!(store.data_records_total().unwrap(), 4);
}

#[test]
fn keyspace_commands_cover_collections() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["RPUSH", "l", "a", "b"]);
    c.cmd(&["SADD", "s", "1", "2"]);
    c.cmd(&["ZADD", "z", "1", "m"]);
    for (k, t) in [("h", "hash"), ("l", "list"), ("s", "set"), ("z", "zset")] {
        assert_eq!(c.cmd(&["TYPE", k]), format!("+{t}\r\n"));
    }
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "h"]), "$8\r\nlistpack\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), "$6\r\nintset\r\n");
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), "$8\r\nlistpack\r\n");
    // Past Redis' thresholds the encodings convert, and stay converted when the value shrinks again.
    c.cmd(&["HSET", "h", "long", &"x".repeat(65)]);
    c.cmd(&["HDEL", "h", "long"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    c.cmd(&["SADD", "s", "text"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
    c.cmd(&["ZADD", "z", "2", &"m".repeat(65)]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");

    assert_eq!(c.cmd(&["SCAN", "0", "TYPE", "zset"]), "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nz\r\n");
    // COPY is deep: changing the copy leaves the source alone.
    assert_eq!(c.cmd(&["COPY", "h", "h2"]), ":1\r\n");
    c.cmd(&["HSET", "h2", "f", "changed"]);
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["HGET", "h2", "f"]), "$7\r\nchanged\r\n");
    assert_eq!(c.cmd(&["COPY", "l", "l", "DB", "1"]), ":1\r\n");
    assert_eq!(c.cmd(&["DEL", "h2"]), ":1\r\n");
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$1\r\nv\r\n");
    // RENAME and MOVE carry the elements.
    assert_eq!(c.cmd(&["RENAME", "l", "l2"]), "+OK\r\n");
    assert_eq!(c.cmd(&["LRANGE", "l2", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["RENAME", "s", "l2"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TYPE", "l2"]), "+set\r\n");
    assert_eq!(c.cmd(&["MOVE", "z", "2"]), ":1\r\n");
    assert_eq!(c.cmd(&["EXISTS", "z"]), ":0\r\n");
    c.cmd(&["SELECT", "2"]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), "$1\r\n1\r\n");
    c.cmd(&["SELECT", "1"]);
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    c.cmd(&["SELECT", "0"]);
    // Expiry applies to collections as to strings, and writes keep it.
    assert_eq!(c.cmd(&["EXPIRE", "h", "100"]), ":1\r\n");
    c.cmd(&["HSET", "h", "g", "w"]);
    assert_eq!(c.cmd(&["TTL", "h"]), ":100\r\n");
    assert_eq!(c.cmd(&["PEXPIRE", "h", "1"]), ":1\r\n");
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$-1\r\n");
    assert_eq!(c.cmd(&["HSET", "h", "f", "fresh"]), ":1\r\n");
    assert_eq!(c.cmd(&["HLEN", "h"]), ":1\r\n");
    assert_eq!(c.cmd(&["TTL", "h"]), ":-1\r\n");
}

#[test]
fn collections_survive_a_crash() {
    let mut s = Server::start();
    let mut c = s.raw();
    c.cmd(&["HSET", "h", "f", "v"]);
    c.cmd(&["LPUSH", "l", "b", "a"]);
    c.cmd(&["SADD", "s", "m"]);
    c.cmd(&["ZADD", "z", "-1.5", "m"]);
    s.kill9();
    s.restart();
    let mut c = s.raw();
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "s", "m"]), ":1\r\n");
    assert_eq!(c.cmd(&["ZSCORE", "z", "m"]), "$4\r\n-1.5\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":4\r\n");
}

#[test]
fn a_huge_hgetall_is_streamed_with_bounded_memory() {
    let s = Server::start_with(&["--block_cache_size", "8mb"]);
    let mut con = s.conn();
    let fields = 150_000;
    let value = "v".repeat(300);
    fill_hash(&mut con, "huge", fields, &value);
    // The exact size of the RESP2 reply: a flat array of field, value, field, value…
    let mut expected = format!("*{}\r\n", fields * 2).len();
    for i in 0..fields {
        let f = format!("f{i}");
        expected += format!("${}\r\n{f}\r\n", f.len()).len() + format!("${}\r\n{value}\r\n", value.len()).len();
    }
    assert!(expected > 40 << 20);
    let grown = peak_growth_while_reading(&s, b"*2\r\n$7\r\nHGETALL\r\n$4\r\nhuge\r\n", expected);
    // A reply built whole would need all of it (40+ MiB) at once; streamed, the server grows by a few chunks.
    assert!(grown < 16 << 10, "server grew by {grown} KiB while sending a {} KiB reply", expected >> 10);
    assert_eq!(s.raw().cmd(&["HLEN", "huge"]), format!(":{fields}\r\n"));
}

/// Adds the members `i` of `range`, zero-padded to `width` bytes.
fn fill_set(con: &mut redis::Connection, key: &str, range: std::ops::Range<usize>, width: usize) {
    for chunk in range.collect::<Vec<_>>().chunks(1000) {
        let mut cmd = redis::cmd("SADD");
        cmd.arg(key);
        for i in chunk {
            cmd.arg(format!("{i:0width$}"));
        }
        let _: i64 = cmd.query(con).unwrap();
    }
}

/// SINTER, SUNION and SDIFF of big sets walk the sets together: every member once, in byte order, and a huge
/// result is streamed with bounded memory.
#[test]
fn big_set_algebra_is_exact_and_streamed() {
    let s = Server::start_with(&["--block_cache_size", "8mb"]);
    let mut con = s.conn();
    fill_set(&mut con, "a", 0..3000, 6);
    fill_set(&mut con, "b", 2000..5000, 6);
    fill_set(&mut con, "c", 2500..2600, 6);
    let query = |con: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        let mut cmd = redis::cmd(args[0]);
        args[1..].iter().for_each(|a| {
            cmd.arg(*a);
        });
        cmd.query(con).unwrap()
    };
    let names = |r: std::ops::Range<usize>| r.map(|i| format!("{i:06}")).collect::<Vec<_>>();
    assert_eq!(query(&mut con, &["SINTER", "a", "b"]), names(2000..3000));
    assert_eq!(query(&mut con, &["SINTER", "b", "a", "c"]), names(2500..2600));
    assert_eq!(query(&mut con, &["SUNION", "a", "nosuch", "b"]), names(0..5000));
    assert_eq!(query(&mut con, &["SDIFF", "a", "b"]), names(0..2000));
    assert_eq!(query(&mut con, &["SDIFF", "b", "a", "c"]), names(3000..5000));
    assert!(query(&mut con, &["SINTER", "a", "nosuch"]).is_empty());
    assert!(query(&mut con, &["SDIFF", "nosuch", "a"]).is_empty());

    // A union of two 75 000-member sets of 300-byte members: a reply of 45+ MiB.
    fill_set(&mut con, "big1", 0..75_000, 300);
    fill_set(&mut con, "big2", 75_000..150_000, 300);
    let expected = format!("*{}\r\n", 150_000).len() + 150_000 * "$300\r\n\r\n".len() + 150_000 * 300;
    let grown = peak_growth_while_reading(&s, b"*3\r\n$6\r\nSUNION\r\n$4\r\nbig1\r\n$4\r\nbig2\r\n", expected);
    assert!(grown < 16 << 10, "server grew by {grown} KiB while sending a {} KiB reply", expected >> 10);
    assert_eq!(s.raw().cmd(&["SCARD", "big1"]), ":75000\r\n");
}

/// SORT's reply is written in chunks, its GET lookups made as each chunk is written: sorting 100 000 elements
/// whose GET values make an 80 MiB reply grows the server by far less than the reply (the sort itself holds the
/// elements, ~12–18 MiB with the allocator's slack, which depends on what ran before).
#[test]
fn a_huge_sort_reply_is_streamed() {
    // The whole data set stays in one memtable, so no flush or compaction (whose buffers would count in the
    // peak, depending on timing) runs while the reply is read; the meta cache is full before it starts.
    let s =
        Server::start_with(&["--block_cache_size", "8mb", "--write_buffer_size", "160mb", "--meta_cache_size", "16mb"]);
    let mut con = s.conn();
    let n = 100_000;
    let value = "v".repeat(800);
    for chunk in (0..n).collect::<Vec<usize>>().chunks(1000) {
        let mut push = redis::cmd("RPUSH");
        let mut mset = redis::cmd("MSET");
        push.arg("l");
        for i in chunk.iter().rev() {
            push.arg(*i);
            mset.arg(format!("val:{i}")).arg(&value);
        }
        let _: i64 = push.query(&mut con).unwrap();
        let _: () = mset.query(&mut con).unwrap();
    }
    let expected = format!("*{n}\r\n").len() + n * format!("$800\r\n{value}\r\n").len();
    let grown = peak_growth_while_reading(&s, b"*4\r\n$4\r\nSORT\r\n$1\r\nl\r\n$3\r\nGET\r\n$5\r\nval:*\r\n", expected);
    assert!(grown < 24 << 10, "server grew by {grown} KiB while sending a {} KiB reply", expected >> 10);
    // Sorted numerically, and each GET in place.
    let first: Vec<Option<String>> = redis::cmd("SORT")
        .arg("l")
        .arg("LIMIT")
        .arg(0)
        .arg(2)
        .arg("GET")
        .arg("#")
        .arg("GET")
        .arg("nosuch:*")
        .query(&mut con)
        .unwrap();
    assert_eq!(first, [Some("0".to_string()), None, Some("1".to_string()), None]);
}
