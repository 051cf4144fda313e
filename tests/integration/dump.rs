//! DUMP and RESTORE end to end. The expected DUMP payloads below were recorded from redis-server 7.0.15 running the
//! same commands (default configuration: `rdbcompression yes`, `list-max-listpack-size -2`,
//! `list-compress-depth 0`), as were the payloads RESTORE is fed from Redis.

use crate::common::{Raw, Server, NOT_INT, SYNTAX};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// Redis' CRC64 (Jones polynomial, reflected), to build payloads with a valid footer.
fn crc64(data: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5 } else { crc >> 1 };
        }
    }
    crc
}

/// `object` followed by RDB version 10 and its CRC64: a payload RESTORE's checksum test accepts.
fn seal(object: &[u8]) -> Vec<u8> {
    let mut v = object.to_vec();
    v.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(&v);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

/// FNV-1a, to compare long payloads with a digest recorded from redis-server.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

fn dump(s: &Server, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(&mut s.conn()).expect("DUMP")
}

/// RESTORE with a binary payload; the exact reply.
fn restore(r: &mut Raw, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> String {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(opts.iter().map(|o| o.as_bytes()));
    r.send(&Raw::encode(&args));
    r.read_reply()
}

fn run(r: &mut Raw, cmds: &[&[&str]]) {
    for c in cmds {
        let reply = r.cmd(c);
        assert!(!reply.starts_with('-'), "{c:?}: {reply}");
    }
}

const BAD_FORMAT: &str = "-ERR Bad data format\r\n";
const BAD_PAYLOAD: &str = "-ERR DUMP payload version or checksum are wrong\r\n";
const BUSYKEY: &str = "-BUSYKEY Target key name already exists.\r\n";

#[test]
fn dump_is_byte_identical_to_redis() {
    let s = Server::start();
    let mut r = s.raw();
    let a50 = "a".repeat(50);
    let cases: &[(&[&str], &str)] = &[
        (&["SET", "k", "hello"], "000568656c6c6f0a006372df766534200a"),
        (&["SET", "k", "10"], "00c00a0a006e9f57450eae63bb"),
        (&["SET", "k", "-30000"], "00c1d08a0a00d57cb019a3f85d10"),
        (&["SET", "k", "1234567890123"], "000d313233343536373839303132330a005e0c12ae0429bc1e"),
        (&["SET", "k", &a50], "00c30932016161e025000161610a0009ac48b9ab15fbc9"),
        (
            &["SET", "k", "abcdefghijklmnopqrstuvwxyz0123456789ABCD"],
            "00286162636465666768696a6b6c6d6e6f707172737475767778797a30313233343536373839414243440a0061b8e845b0c2413d",
        ),
        (
            &["RPUSH", "k", "a", "1", "-1", "300", "-5000", "70000", "9000000000"],
            "120102252500000007008161020101dfff02c12c02f178ec03f270110104f4001a71180200000009ff0a001d993fe420c169e6",
        ),
        (
            &["SADD", "k", "3", "1", "2", "-5", "100000"],
            "0b1c0400000005000000fbffffff010000000200000003000000a08601000a00d365f8d8af8752ac",
        ),
        (
            &["HSET", "k", "a", "1", "b", "2", "c", "hello"],
            "101b1b0000000600816102010181620202018163028568656c6c6f06ff0a00be10ed0842772901",
        ),
        (
            &["ZADD", "k", "1", "a", "2", "b", "1.5", "c", "-3", "d", "inf", "f", "0.1", "g"],
            "11c3363f133f0000000c00816402dffd0281670293302e3130e005001c3114816102010181630283312e3504816202020181660283696e6604ff0a00587965d8ad40d8d2",
        ),
    ];
    for (cmd, want) in cases {
        run(&mut r, &[&["DEL", "k"], cmd]);
        assert_eq!(dump(&s, "k").map(|d| hex_of(&d)), Some(want.to_string()), "{cmd:?}");
    }
    // A skiplist (a member longer than zset-max-listpack-value), written from the highest score down.
    let m100 = "m".repeat(100);
    run(&mut r, &[&["DEL", "k"], &["ZADD", "k", "1", "a", "2.5", "b", "-0", "c", "3", &m100]]);
    let want = "0504c3094064016d6de05700016d6d0000000000000840016200000000000004400161000000000000f03f016300000000000000000a0065bfb9f8cd20961d";
    assert_eq!(dump(&s, "k").map(|d| hex_of(&d)), Some(want.to_string()));
    // A quicklist of several listpack nodes, each LZF-compressed: 2133 bytes.
    let elements: Vec<String> = (0..400).map(|i| format!("element-{i}-{}", "x".repeat(40))).collect();
    let mut rpush = vec!["RPUSH", "k"];
    rpush.extend(elements.iter().map(|e| e.as_str()));
    run(&mut r, &[&["DEL", "k"], &rpush]);
    let d = dump(&s, "k").expect("list");
    assert_eq!((d.len(), fnv1a(&d)), (2133, 0x7855_a29b_0b67_7739));
    assert_eq!(dump(&s, "missing"), None);
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn restore_loads_redis_payloads() {
    let s = Server::start();
    let mut r = s.raw();
    // HSET k f1 v1 big <100 x 'y'> f2 2: a hash table (RDB_TYPE_HASH), in Redis' own field order.
    let p = hex("040302663102763103626967c3094064017979e05700017979026632c0020a00bd4da6dd6d2ba6f4");
    assert_eq!(restore(&mut r, "h", "0", &p, &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["HLEN", "h"]), ":3\r\n");
    assert_eq!(r.cmd(&["HGET", "h", "big"]), format!("$100\r\n{}\r\n", "y".repeat(100)));
    assert_eq!(r.cmd(&["HGET", "h", "f2"]), "$1\r\n2\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "h"]), "$9\r\nhashtable\r\n");
    // SADD k a b c 1: a hash table set.
    let p = hex("02040163c001016201610a00b5e09607ed6b53b8");
    assert_eq!(restore(&mut r, "s", "0", &p, &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["SORT", "s", "ALPHA"]), "*4\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "s"]), "$9\r\nhashtable\r\n");
    // HSET k z 1 a 2: a listpack in insertion order.
    let p = hex("1011110000000400817a0201018161020201ff0a003c0e53f64897a4ad");
    assert_eq!(restore(&mut r, "hl", "0", &p, &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["HGET", "hl", "z"]), "$1\r\n1\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "hl"]), "$8\r\nlistpack\r\n");
    // ZADD k 1 a 2 b -0 c inf d with zset-max-listpack-entries 2: a skiplist holding -0.
    let p = hex(
        "050401640000000000 00f07f01620000000000000040016100000000000 0f03f016300000000000000800a00de1b6fd8931a8c0c"
            .replace(' ', "")
            .as_str(),
    );
    assert_eq!(r.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]), "+OK\r\n");
    assert_eq!(restore(&mut r, "z", "0", &p, &[]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        "*8\r\n$1\r\nc\r\n$2\r\n-0\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nd\r\n$3\r\ninf\r\n"
    );
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");
    // With the default limits Redis turns the same payload into a listpack, where -0 is 0.
    assert_eq!(r.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]), "+OK\r\n");
    assert_eq!(restore(&mut r, "z2", "0", &p, &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["ZSCORE", "z2", "c"]), "$1\r\n0\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "z2"]), "$8\r\nlistpack\r\n");
    // A multi-node quicklist (SableDB's DUMP of it is Redis', checked above).
    let elements: Vec<String> = (0..400).map(|i| format!("element-{i}-{}", "x".repeat(40))).collect();
    let mut rpush = vec!["RPUSH", "l"];
    rpush.extend(elements.iter().map(|e| e.as_str()));
    run(&mut r, &[&rpush]);
    let p = dump(&s, "l").expect("list");
    assert_eq!(restore(&mut r, "l2", "0", &p, &[]), "+OK\r\n");
    let got: Vec<Vec<u8>> = redis::cmd("LRANGE").arg("l2").arg(0).arg(-1).query(&mut s.conn()).expect("LRANGE");
    assert_eq!(got, elements.iter().map(|e| e.as_bytes().to_vec()).collect::<Vec<_>>());
    // Strings: an integer encoding, an LZF one.
    assert_eq!(restore(&mut r, "i", "0", &hex("00c1d08a0a00d57cb019a3f85d10"), &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "i"]), "$6\r\n-30000\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "i"]), "$3\r\nint\r\n");
    assert_eq!(restore(&mut r, "a", "0", &hex("00c30932016161e025000161610a0009ac48b9ab15fbc9"), &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "a"]), format!("$50\r\n{}\r\n", "a".repeat(50)));
}

#[test]
fn round_trips_keep_values_and_encodings() {
    let s = Server::start();
    let mut r = s.raw();
    let long = "v".repeat(100);
    let many: Vec<String> = (0..600).map(|i| i.to_string()).collect();
    let mut sadd_many = vec!["SADD", "bigset"];
    sadd_many.extend(many.iter().map(|m| m.as_str()));
    run(
        &mut r,
        &[
            &["SET", "str", "some value"],
            &["RPUSH", "list", "a", "b", "3"],
            &["SADD", "intset", "5", "-1", "7"],
            &["SADD", "set", "x", "y"],
            &sadd_many,
            &["HSET", "hash", "f", "1", "g", "2"],
            &["HSET", "bighash", "f", &long],
            &["ZADD", "zset", "1", "a", "2", "b"],
            &["ZADD", "bigzset", "1", &long, "2", "b", "-0", "z"],
        ],
    );
    let reads: &[(&str, &[&str])] = &[
        ("str", &["GET"]),
        ("list", &["LRANGE", "", "0", "-1"]),
        ("intset", &["SMEMBERS"]),
        ("set", &["SORT", "", "ALPHA"]),
        ("bigset", &["SCARD"]),
        ("hash", &["HGETALL"]),
        ("bighash", &["HGETALL"]),
        ("zset", &["ZRANGE", "", "0", "-1", "WITHSCORES"]),
        ("bigzset", &["ZRANGE", "", "0", "-1", "WITHSCORES"]),
    ];
    for (key, read) in reads {
        let payload = dump(&s, key).expect("dump");
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut r, &copy, "0", &payload, &[]), "+OK\r\n", "{key}");
        let args = |k: &str| -> Vec<String> {
            let mut v = vec![read[0].to_string(), k.to_string()];
            v.extend(read[1..].iter().filter(|a| !a.is_empty()).map(|a| a.to_string()));
            v
        };
        let (a, b) = (args(key), args(&copy));
        let a: Vec<&str> = a.iter().map(|x| x.as_str()).collect();
        let b: Vec<&str> = b.iter().map(|x| x.as_str()).collect();
        assert_eq!(r.cmd(&a), r.cmd(&b), "{key}");
        assert_eq!(r.cmd(&["OBJECT", "ENCODING", key]), r.cmd(&["OBJECT", "ENCODING", &copy]), "{key}");
        assert_eq!(dump(&s, &copy), Some(payload), "{key}");
    }
}

#[test]
fn restore_options_and_errors() {
    let s = Server::start();
    let mut r = s.raw();
    run(&mut r, &[&["SET", "src", "hello"]]);
    let p = dump(&s, "src").expect("dump");
    assert_eq!(restore(&mut r, "src", "0", &p, &[]), BUSYKEY);
    // BUSYKEY comes before the TTL is parsed.
    assert_eq!(restore(&mut r, "src", "-1", &p, &[]), BUSYKEY);
    assert_eq!(restore(&mut r, "k", "-1", &p, &[]), "-ERR Invalid TTL value, must be >= 0\r\n");
    assert_eq!(restore(&mut r, "k", "abc", &p, &[]), NOT_INT);
    assert_eq!(restore(&mut r, "k", "0", &p, &["foo"]), SYNTAX);
    assert_eq!(restore(&mut r, "k", "0", &p, &["IDLETIME"]), SYNTAX);
    assert_eq!(restore(&mut r, "k", "0", &p, &["IDLETIME", "-1"]), "-ERR Invalid IDLETIME value, must be >= 0\r\n");
    assert_eq!(restore(&mut r, "k", "0", &p, &["IDLETIME", "x"]), NOT_INT);
    assert_eq!(restore(&mut r, "k", "0", &p, &["FREQ", "256"]), "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n");
    assert_eq!(restore(&mut r, "k", "0", &p, &["FREQ", "1", "IDLETIME", "1"]), SYNTAX);
    assert_eq!(restore(&mut r, "k", "0", &p, &["IDLETIME", "1", "FREQ", "1"]), SYNTAX);
    assert_eq!(restore(&mut r, "k", "0", b"", &[]), BAD_PAYLOAD);
    assert_eq!(restore(&mut r, "k", "0", &p[..p.len() - 1], &[]), BAD_PAYLOAD);
    // RDB version 11, with a checksum that matches it.
    let mut newer = p[..p.len() - 10].to_vec();
    newer.extend_from_slice(&11u16.to_le_bytes());
    let crc = crc64(&newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut r, "k", "0", &newer, &[]), BAD_PAYLOAD);
    assert_eq!(restore(&mut r, "k", "0", &seal(&[7, 0]), &[]), BAD_FORMAT);
    assert_eq!(restore(&mut r, "k", "0", &seal(&[2, 0]), &[]), BAD_FORMAT);
    assert_eq!(restore(&mut r, "k", "0", &seal(&[2, 2, 1, b'a', 1, b'a']), &[]), BAD_FORMAT);
    assert_eq!(r.cmd(&["EXISTS", "k"]), ":0\r\n");
    // Redis reads the object from the whole payload: eleven zero bytes are an empty string.
    assert_eq!(restore(&mut r, "empty", "0", &[0; 11], &[]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "empty"]), "$0\r\n\r\n");

    assert_eq!(restore(&mut r, "idle", "0", &p, &["IDLETIME", "1000", "REPLACE", "ABSTTL"]), "+OK\r\n");
    // Applied as Redis applies it (its unit/dump checks 1000..=1010).
    let idle = r.cmd(&["OBJECT", "IDLETIME", "idle"]);
    let idle: i64 = idle.trim_start_matches(':').trim().parse().unwrap_or(-1);
    assert!((1000..=1010).contains(&idle), "{idle}");
    assert_eq!(restore(&mut r, "freq", "0", &p, &["FREQ", "10"]), "+OK\r\n");
    assert_eq!(restore(&mut r, "ttl", "100000", &p, &[]), "+OK\r\n");
    let pttl: i64 = redis::cmd("PTTL").arg("ttl").query(&mut s.conn()).expect("PTTL");
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(restore(&mut r, "abs", "4102444800000", &p, &["ABSTTL"]), "+OK\r\n");
    assert_eq!(r.cmd(&["PEXPIRETIME", "abs"]), ":4102444800000\r\n");
    // A time already past: nothing is created, and REPLACE deletes what was there.
    assert_eq!(restore(&mut r, "past", "1", &p, &["ABSTTL"]), "+OK\r\n");
    assert_eq!(r.cmd(&["EXISTS", "past"]), ":0\r\n");
    assert_eq!(restore(&mut r, "src", "1", &p, &["ABSTTL", "REPLACE"]), "+OK\r\n");
    assert_eq!(r.cmd(&["EXISTS", "src"]), ":0\r\n");
    // REPLACE over another type.
    run(&mut r, &[&["RPUSH", "other", "x"]]);
    assert_eq!(restore(&mut r, "other", "0", &p, &["REPLACE"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "other"]), "$5\r\nhello\r\n");
}

#[test]
fn corrupt_payloads_are_refused_without_harm() {
    let s = Server::start();
    let mut r = s.raw();
    let elements: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
    let mut rpush = vec!["RPUSH", "l"];
    rpush.extend(elements.iter().map(|e| e.as_str()));
    run(
        &mut r,
        &[&rpush, &["HSET", "h", "a", "1", "b", "2"], &["ZADD", "z", "1", "a", "2", "b"], &["SADD", "s", "1", "2"]],
    );
    let mut n = 0;
    for key in ["l", "h", "z", "s"] {
        let p = dump(&s, key).expect("dump");
        let object = &p[..p.len() - 10];
        // Every truncation, with a valid footer.
        for cut in 1..object.len() {
            let reply = restore(&mut r, "x", "0", &seal(&object[..cut]), &["REPLACE"]);
            assert!(reply == BAD_FORMAT || reply == "+OK\r\n", "{key} cut {cut}: {reply}");
        }
        // Every byte changed, with a valid footer.
        for i in 1..object.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut o = object.to_vec();
                o[i] ^= flip;
                let reply = restore(&mut r, "x", "0", &seal(&o), &["REPLACE"]);
                assert!(reply == BAD_FORMAT || reply == "+OK\r\n", "{key} byte {i}: {reply}");
                n += 1;
            }
        }
    }
    assert!(n > 100);
    // A bad checksum is caught before anything is decoded.
    let mut p = dump(&s, "h").expect("dump");
    p[3] ^= 1;
    assert_eq!(restore(&mut r, "x2", "0", &p, &[]), BAD_PAYLOAD);
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn restore_publishes_its_event() {
    let s = Server::start();
    let mut r = s.raw();
    run(&mut r, &[&["SET", "src", "v"], &["CONFIG", "SET", "notify-keyspace-events", "KEA"]]);
    let p = dump(&s, "src").expect("dump");
    let mut sub = s.raw();
    assert!(sub.cmd(&["SUBSCRIBE", "__keyevent@0__:restore", "__keyevent@0__:del"]).contains("subscribe"));
    sub.read_reply();
    assert_eq!(restore(&mut r, "k", "0", &p, &[]), "+OK\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:restore\r\n$1\r\nk\r\n");
    assert_eq!(restore(&mut r, "k", "1", &p, &["REPLACE", "ABSTTL"]), "+OK\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:del\r\n$1\r\nk\r\n");
}
