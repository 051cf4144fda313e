//! HyperLogLog end to end: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST replies, and the exact bytes GET
//! returns for the HLL strings they leave. Every expected value below was recorded from redis-server 7.0.15
//! (Debian's 7.0.15-1~deb12u10) running the same commands.

use crate::common::{check, Raw, Server, WRONGTYPE};

const NOT_HLL: &str = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
const INVALIDOBJ: &str = "-INVALIDOBJ Corrupted HLL object detected\r\n";

/// A value's exact bytes.
fn get_bytes(s: &Server, key: &str) -> Vec<u8> {
    let v: Option<Vec<u8>> = redis::cmd("GET").arg(key).query(&mut s.conn()).expect("GET");
    v.unwrap_or_else(|| panic!("{key} is missing"))
}

/// Sends a command with binary arguments and returns the exact reply.
fn cmd_bytes(r: &mut Raw, args: &[&[u8]]) -> String {
    r.send(&Raw::encode(args));
    r.read_reply()
}

/// FNV-1a, to compare 12 KB dense values with a digest recorded from redis-server.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A dense HLL from its 16-byte header and its non-zero registers (six bits each, from the low bit of each
/// byte up, as Redis lays them out).
fn dense(header: &[u8], registers: &[(usize, u8)]) -> Vec<u8> {
    let mut v = header.to_vec();
    v.resize(16 + 16384 * 6 / 8, 0);
    for &(i, value) in registers {
        for b in 0..6 {
            if value >> b & 1 == 1 {
                let pos = i * 6 + b;
                v[16 + pos / 8] |= 1 << (pos % 8);
            }
        }
    }
    v
}

/// The header of a sparse HLL with a stale cache of 0 (a new one), followed by its opcodes.
const SPARSE_STALE: &[u8] = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80";
/// The header of a dense HLL with a stale cache of 0.
const DENSE_STALE: &[u8] = b"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80";
/// `PFADD h a b c` (redis-server 7.0.15).
const ABC: &[u8] = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`\xf3\x80P\xb1\x84K\xfb\x80BZ";

#[test]
fn pfadd_and_pfcount_leave_redis_sparse_bytes() {
    let s = Server::start();
    let mut r = s.raw();
    // PFADD without elements creates an empty sparse HLL (cache marked stale) and replies 1, then 0.
    check(&mut r, &[(&["PFADD", "h"], ":1\r\n"), (&["PFADD", "h"], ":0\r\n"), (&["EXISTS", "h"], ":1\r\n")]);
    assert_eq!(get_bytes(&s, "h"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff");
    // PFCOUNT refreshes the cache in the value.
    check(&mut r, &[(&["PFCOUNT", "h"], ":0\r\n")]);
    assert_eq!(get_bytes(&s, "h"), b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff");
    check(&mut r, &[(&["PFADD", "h", "a", "b", "c"], ":1\r\n")]);
    assert_eq!(get_bytes(&s, "h"), ABC);
    check(&mut r, &[(&["PFCOUNT", "h"], ":3\r\n")]);
    let counted = b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ";
    assert_eq!(get_bytes(&s, "h"), counted);
    // No register changes: the value and its valid cache stay as they are.
    check(&mut r, &[(&["PFADD", "h", "a", "c"], ":0\r\n")]);
    assert_eq!(get_bytes(&s, "h"), counted);
    // A new register: the cache is marked stale, its old bytes stay.
    check(&mut r, &[(&["PFADD", "h", "d"], ":1\r\n")]);
    assert_eq!(
        get_bytes(&s, "h"),
        b"HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x80\\{\x80Dv\x80P\xb1\x84K\xfb\x80BZ"
    );
    check(
        &mut r,
        &[
            (&["PFDEBUG", "DECODE", "h"], "$57\r\nZ:7292 v:1,1 Z:1143 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"),
            (&["PFDEBUG", "ENCODING", "h"], "+sparse\r\n"),
            (&["PFCOUNT", "h"], ":4\r\n"),
            (&["OBJECT", "ENCODING", "h"], "$3\r\nraw\r\n"),
            (&["PFADD", "h", ""], ":1\r\n"),
        ],
    );
}

#[test]
fn promotes_to_dense_past_hll_sparse_max_bytes() {
    let s = Server::start();
    let mut c = s.conn();
    // One element at a time: redis-server promotes at the 1684th, when the sparse value would pass 3000 bytes.
    let mut sparse_before = Vec::new();
    for n in 0..1684 {
        let _: i64 = redis::cmd("PFADD").arg("g").arg(format!("e{n}")).query(&mut c).expect("PFADD");
        let enc: String = redis::cmd("PFDEBUG").arg("ENCODING").arg("g").query(&mut c).expect("PFDEBUG");
        if n < 1683 {
            assert_eq!(enc, "sparse", "after {} elements", n + 1);
            if n == 1682 {
                sparse_before = get_bytes(&s, "g");
            }
        } else {
            assert_eq!(enc, "dense");
        }
    }
    assert_eq!((sparse_before.len(), fnv1a(&sparse_before)), (3000, 0x3c1b_2ef7_aaad_95df));
    let promoted = get_bytes(&s, "g");
    assert_eq!(&promoted[..16], DENSE_STALE);
    assert_eq!((promoted.len(), fnv1a(&promoted)), (12304, 0x1dff_1bb5_5f47_4a5d));
    let card: i64 = redis::cmd("PFCOUNT").arg("g").query(&mut c).expect("PFCOUNT");
    assert_eq!(card, 1685);
    let counted = get_bytes(&s, "g");
    assert_eq!(&counted[..16], b"HYLL\x00\x00\x00\x00\x95\x06\x00\x00\x00\x00\x00\x00");
    assert_eq!(fnv1a(&counted), 0x22fe_6cf0_303a_8312);

    // The limit is read when the command runs.
    let mut r = s.raw();
    check(&mut r, &[(&["CONFIG", "SET", "hll-sparse-max-bytes", "30"], "+OK\r\n")]);
    for (i, len) in [21, 24, 27, 30, 12304, 12304, 12304, 12304].into_iter().enumerate() {
        check(&mut r, &[(&["PFADD", "p", &format!("x{i}")], ":1\r\n")]);
        assert_eq!(get_bytes(&s, "p").len(), len, "after x{i}");
    }
    let regs = [(883, 6), (1560, 2), (3653, 2), (4316, 14), (7654, 4), (11327, 4), (13230, 3), (16285, 3)];
    assert_eq!(get_bytes(&s, "p"), dense(DENSE_STALE, &regs));
    check(&mut r, &[(&["PFCOUNT", "p"], ":8\r\n"), (&["PFDEBUG", "ENCODING", "p"], "+dense\r\n")]);
}

#[test]
fn pfmerge_and_multi_key_pfcount() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["PFADD", "s1", "a", "b", "c"], ":1\r\n"),
            (&["PFADD", "s2", "x", "y", "z", "a"], ":1\r\n"),
            (&["PFDEBUG", "TODENSE", "s2"], ":1\r\n"),
            (&["PFDEBUG", "TODENSE", "s2"], ":0\r\n"),
        ],
    );
    assert_eq!(get_bytes(&s, "s2"), dense(DENSE_STALE, &[(8581, 1), (12711, 2), (14932, 3), (16374, 2)]));
    // A dense source makes the (new) destination dense.
    check(&mut r, &[(&["PFMERGE", "m", "s1", "s2"], "+OK\r\n"), (&["PFCOUNT", "m"], ":6\r\n")]);
    let merged = [(8436, 1), (8581, 1), (12711, 2), (14932, 3), (15780, 1), (16374, 2)];
    let mut want = dense(DENSE_STALE, &merged);
    want[8] = 6;
    want[15] = 0;
    assert_eq!(get_bytes(&s, "m"), want);
    // Sparse into an existing sparse destination: edited in place.
    check(&mut r, &[(&["PFADD", "m2", "q", "r"], ":1\r\n"), (&["PFMERGE", "m2", "s1"], "+OK\r\n")]);
    let m2 = [SPARSE_STALE, b"U\xaf\x94Df\x80F\xda\x80P\xb1\x84K\xfb\x80BZ"].concat();
    assert_eq!(get_bytes(&s, "m2"), m2);
    check(
        &mut r,
        &[
            (
                &["PFDEBUG", "DECODE", "m2"],
                "$70\r\nZ:5552 v:6,1 Z:1127 v:1,1 Z:1755 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n",
            ),
            // The union of several keys, missing ones empty; no cache is written into any of them.
            (&["PFCOUNT", "s1", "s2", "m2", "nokey"], ":8\r\n"),
            (&["PFCOUNT", "s1", "s1"], ":3\r\n"),
            (&["PFCOUNT", "nokey", "nokey2"], ":0\r\n"),
        ],
    );
    assert_eq!(get_bytes(&s, "s1"), ABC);
    // PFMERGE of the destination alone, and into a missing key from missing keys.
    check(
        &mut r,
        &[
            (&["PFMERGE", "s1"], "+OK\r\n"),
            (&["PFMERGE", "empty", "nokey"], "+OK\r\n"),
            (&["PFCOUNT", "empty"], ":0\r\n"),
        ],
    );
    assert_eq!(get_bytes(&s, "s1"), ABC);
}

#[test]
fn pfcount_caches_as_a_modification_and_pfdebug_does_not() {
    let s = Server::start();
    let mut r = s.raw();
    check(&mut r, &[(&["PFADD", "h", "a", "b"], ":1\r\n")]);
    // WATCH h, let `other` run `cmd`, then EXEC: nil when Redis counts it as a modification.
    let watched = |cmd: &[&str], modified: bool| {
        let mut w = s.raw();
        let mut other = s.raw();
        check(&mut w, &[(&["WATCH", "h"], "+OK\r\n")]);
        other.cmd(cmd);
        check(&mut w, &[(&["MULTI"], "+OK\r\n"), (&["PING"], "+QUEUED\r\n")]);
        let want = if modified { "*-1\r\n" } else { "*1\r\n+PONG\r\n" };
        assert_eq!(w.cmd(&["EXEC"]), want, "{cmd:?}");
    };
    watched(&["PFCOUNT", "h"], true);
    watched(&["PFCOUNT", "h"], false);
    watched(&["PFCOUNT", "h", "h"], false);
    watched(&["PFADD", "h", "a"], false);
    watched(&["PFADD", "h", "zz"], true);
    watched(&["PFMERGE", "h"], true);
    watched(&["PFDEBUG", "ENCODING", "h"], false);
    watched(&["PFDEBUG", "TODENSE", "h"], false);
    watched(&["PFDEBUG", "GETREG", "h"], false);
    // A value SET as an embedded string becomes a raw one when an HLL command touches it, quietly.
    cmd_bytes(&mut r, &[b"SET", b"h", b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"]);
    check(&mut r, &[(&["OBJECT", "ENCODING", "h"], "$6\r\nembstr\r\n")]);
    watched(&["PFCOUNT", "h"], false);
    check(&mut r, &[(&["OBJECT", "ENCODING", "h"], "$3\r\nraw\r\n")]);
}

#[test]
fn errors_match_redis() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["RPUSH", "list", "a"], ":1\r\n"),
            (&["PFADD", "list", "x"], WRONGTYPE),
            (&["PFCOUNT", "list"], WRONGTYPE),
            (&["PFCOUNT", "nokey", "list"], WRONGTYPE),
            (&["PFMERGE", "d", "list"], WRONGTYPE),
            (&["PFMERGE", "list", "nokey"], WRONGTYPE),
            (&["PFDEBUG", "GETREG", "list"], WRONGTYPE),
            (&["SET", "str", "bar"], "+OK\r\n"),
            (&["PFADD", "str", "x"], NOT_HLL),
            (&["PFCOUNT", "str"], NOT_HLL),
            (&["PFMERGE", "d", "str"], NOT_HLL),
            (&["PFDEBUG", "ENCODING", "str"], NOT_HLL),
            (&["SET", "int", "123"], "+OK\r\n"),
            (&["PFCOUNT", "int"], NOT_HLL),
        ],
    );
    // A sparse HLL whose opcodes do not cover the 16384 registers; one with a wrong magic.
    cmd_bytes(&mut r, &[b"SET", b"bad", &[SPARSE_STALE, b"garbage"].concat()]);
    cmd_bytes(&mut r, &[b"SET", b"magic", b"HYLx\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x7f\xff"]);
    check(
        &mut r,
        &[
            (&["PFCOUNT", "bad"], INVALIDOBJ),
            (&["PFCOUNT", "bad", "nokey"], INVALIDOBJ),
            (&["PFMERGE", "d", "bad"], INVALIDOBJ),
            (&["PFDEBUG", "TODENSE", "bad"], INVALIDOBJ),
            (&["EXISTS", "d"], ":0\r\n"),
            // Wrong magic, unknown encoding, a dense value of the wrong length.
            (&["PFCOUNT", "magic"], NOT_HLL),
            (&["PFADD", "enc", "a"], ":1\r\n"),
            (&["SETRANGE", "enc", "4", "x"], ":21\r\n"),
            (&["PFCOUNT", "enc"], NOT_HLL),
            (&["SETRANGE", "enc", "4", "\x00"], ":21\r\n"),
            (&["PFCOUNT", "enc"], NOT_HLL),
            (&["PFADD"], "-ERR wrong number of arguments for 'pfadd' command\r\n"),
            (&["PFCOUNT"], "-ERR wrong number of arguments for 'pfcount' command\r\n"),
            (&["PFMERGE"], "-ERR wrong number of arguments for 'pfmerge' command\r\n"),
            (&["PFDEBUG", "GETREG"], "-ERR wrong number of arguments for 'pfdebug' command\r\n"),
            (&["PFSELFTEST", "x"], "-ERR wrong number of arguments for 'pfselftest' command\r\n"),
        ],
    );
    // Extra bytes after a valid sparse encoding (the test of Redis' own suite).
    check(&mut r, &[(&["PFADD", "tail", "a", "b", "c"], ":1\r\n"), (&["APPEND", "tail", "hello"], ":32\r\n")]);
    check(&mut r, &[(&["PFCOUNT", "tail"], INVALIDOBJ), (&["PFADD", "tail", "x"], ":1\r\n")]);
    // Zero runs far past the last register.
    let mut huge = SPARSE_STALE.to_vec();
    for _ in 0..140_000 {
        huge.extend_from_slice(b"\x7f\xff");
    }
    huge.push(0x80);
    cmd_bytes(&mut r, &[b"SET", b"huge", &huge]);
    check(
        &mut r,
        &[
            (&["PFCOUNT", "huge"], INVALIDOBJ),
            (&["PFDEBUG", "TODENSE", "huge"], INVALIDOBJ),
            (&["PFMERGE", "d", "huge"], INVALIDOBJ),
        ],
    );
}

#[test]
fn pfdebug_and_pfselftest() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["PFDEBUG", "GETREG", "nokey"], "-ERR The specified key does not exist\r\n"),
            // The key is checked before the subcommand.
            (&["PFDEBUG", "NOSUCH", "nokey"], "-ERR The specified key does not exist\r\n"),
            (&["PFADD", "h", "a", "b", "c"], ":1\r\n"),
            (&["PFDEBUG", "NOSUCH", "h"], "-ERR Unknown PFDEBUG subcommand 'NOSUCH'\r\n"),
            (&["pfdebug", "encoding", "h"], "+sparse\r\n"),
            (&["PFDEBUG", "DECODE", "h"], "$44\r\nZ:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603\r\n"),
        ],
    );
    // GETREG converts a sparse HLL to dense (kept), then lists the registers.
    let regs = r.cmd(&["PFDEBUG", "GETREG", "h"]);
    let values: Vec<&str> = regs.split("\r\n").skip(1).filter(|l| !l.is_empty()).collect();
    assert!(regs.starts_with("*16384\r\n"));
    assert_eq!(values.len(), 16384);
    let non_zero: Vec<(usize, &str)> = values.iter().copied().enumerate().filter(|(_, v)| *v != ":0").collect();
    assert_eq!(non_zero, [(8436, ":1"), (12711, ":2"), (15780, ":1")]);
    assert_eq!(get_bytes(&s, "h"), dense(DENSE_STALE, &[(8436, 1), (12711, 2), (15780, 1)]));
    check(
        &mut r,
        &[
            (&["PFDEBUG", "ENCODING", "h"], "+dense\r\n"),
            (&["PFDEBUG", "DECODE", "h"], "-ERR HLL encoding is not sparse\r\n"),
            (&["PFDEBUG", "TODENSE", "h"], ":0\r\n"),
            (&["PFCOUNT", "h"], ":3\r\n"),
            (&["PFSELFTEST"], "+OK\r\n"),
        ],
    );
}

#[test]
fn pfadd_and_pfmerge_publish_pfadd() {
    let s = Server::start();
    let mut r = s.raw();
    check(&mut r, &[(&["CONFIG", "SET", "notify-keyspace-events", "E$n"], "+OK\r\n")]);
    let mut sub = s.raw();
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    sub.cmd(&["SUBSCRIBE", "marker"]);
    for cmd in [
        &["PFADD", "h"][..],
        &["PFADD", "h"],
        &["PFADD", "h", "a"],
        &["PFADD", "h", "a"],
        &["PFCOUNT", "h"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFMERGE", "h"],
        &["PFMERGE", "d", "h"],
        &["PUBLISH", "marker", "end"],
    ] {
        r.cmd(cmd);
    }
    let mut events = Vec::new();
    loop {
        let frame = sub.read_reply();
        let parts = crate::common::bulks(&frame);
        if parts[0] == "message" {
            break;
        }
        events.push(format!("{} {}", parts[2].trim_start_matches("__keyevent@0__:"), parts[3]));
    }
    assert_eq!(events, ["new h", "pfadd h", "pfadd h", "pfadd h", "new d", "pfadd d"]);
}
