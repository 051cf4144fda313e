//! Generator of hashes commands for the differential tester: every hash command with random options, over a small
//! pool of fields (so commands meet the same fields) whose values cross the listpack limits (a value over 64
//! bytes, and now and then a batch of numbered fields that takes a hash past 512 entries), with integer and float
//! values for the counters, and malformed or extreme numbers.
//!
//! Replies whose order is Redis' hash-table order are compared unordered (HGETALL, HKEYS, HVALS) and random ones by
//! size (HRANDFIELD). HSCAN from cursor 0 is followed to its end on each server and the field/value
//! unions compared (cursors are opaque, a listpack's fields come in insertion order); errors exactly.

use super::{Check, Cmd, Gen, BAD_INTS};

/// Keys only this family writes (the shared ones are mostly strings), and the one the runs of numbered fields
/// grow past `hash-max-listpack-entries` (512).
const HASH_KEYS: &[&str] = &["hash:a", "hash:b", "hash:c"];
const BIG_KEY: &str = "hash:big";

/// Fields most commands use: ordinary, empty, binary, UTF-8, one with a glob character, one past the 64-byte
/// listpack limit, and the ones the counters work on.
const FIELDS: &[&[u8]] = &[
    b"f1",
    b"f2",
    b"f3",
    b"a",
    b"b",
    b"",
    b"x y",
    b"\x00\xff",
    "cl\u{e9}".as_bytes(),
    b"f*",
    b"n",
    b"i",
    b"fl",
    b"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// HSCAN patterns naming one field, or matching many.
const LITERAL_FIELDS: &[&[u8]] = &[b"f1", b"f2", b"a", b"", b"x y", b"n", b"m7", b"m300", b"nosuchfield"];
const PATTERNS: &[&[u8]] =
    &[b"*", b"f*", b"f?", b"m1*", b"[ab]", b"f\\*", b"*\x00*", b"**", b"?", b"[^f]*", b"m[0-3]?"];

/// HSET, HMSET, HSETNX, HGET, HMGET, HEXISTS, HSTRLEN, HLEN, HDEL, HINCRBY, HINCRBYFLOAT, HGETALL, HKEYS, HVALS,
/// HRANDFIELD, HSCAN, and OBJECT ENCODING (listpack or hashtable).
pub fn hashes(g: &mut Gen) -> Cmd {
    let k = key(g);
    match g.below(100) {
        0..=13 => pairs(g, Cmd::new("HSET").arg(k)),
        14..=16 => pairs(g, Cmd::new("HMSET").arg(k)),
        17 => numbered_fields(g),
        18..=21 => Cmd::new("HSETNX").arg(k).arg(field(g)).arg(g.value()),
        22..=27 => Cmd::new("HGET").arg(k).arg(field(g)),
        28..=30 => {
            let mut c = Cmd::new("HMGET").arg(k);
            for _ in 0..g.range(1, 4) {
                c.push(field(g));
            }
            c
        }
        31..=33 => Cmd::new("HEXISTS").arg(k).arg(field(g)),
        34..=35 => Cmd::new("HSTRLEN").arg(k).arg(field(g)),
        36..=38 => Cmd::new("HLEN").arg(k),
        39..=45 => {
            let mut c = Cmd::new("HDEL").arg(k);
            for _ in 0..g.range(1, 3) {
                c.push(field(g));
            }
            c
        }
        46..=52 => {
            let by = if g.pct(70) { g.range(-10, 10).to_string().into_bytes() } else { g.int() };
            Cmd::new("HINCRBY").arg(k).arg(counter_field(g)).arg(by)
        }
        53..=58 => Cmd::new("HINCRBYFLOAT").arg(k).arg(counter_field(g)).arg(g.float()),
        59..=63 => Cmd::new("HGETALL").arg(k).check(Check::UnorderedPairs),
        64..=66 => Cmd::new("HKEYS").arg(k).check(Check::Unordered),
        67..=69 => Cmd::new("HVALS").arg(k).check(Check::Unordered),
        70..=79 => hrandfield(g, k),
        80..=91 => hscan(g, k),
        _ => Cmd::new("OBJECT").arg(g.word("ENCODING")).arg(k),
    }
}

/// Mostly a key of this family; otherwise a shared one (often a string: WRONGTYPE).
fn key(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0..=11 => g.pick(HASH_KEYS).as_bytes().to_vec(),
        12 => BIG_KEY.as_bytes().to_vec(),
        _ => g.key(),
    }
}

fn field(g: &mut Gen) -> Vec<u8> {
    if g.pct(90) {
        g.pick(FIELDS).to_vec()
    } else {
        g.value()
    }
}

/// A field for HINCRBY/HINCRBYFLOAT: mostly the counter fields, sometimes one holding any value.
fn counter_field(g: &mut Gen) -> Vec<u8> {
    if g.pct(70) {
        g.pick(&["n", "i", "fl"]).as_bytes().to_vec()
    } else {
        field(g)
    }
}

/// A value for a field: any value, or a number the counters can work on.
fn field_value(g: &mut Gen) -> Vec<u8> {
    match g.below(10) {
        0..=6 => g.value(),
        7 | 8 => g.range(-100, 100).to_string().into_bytes(),
        _ => g.float(),
    }
}

/// One to four field/value pairs (sometimes the same field twice), or an odd argument count.
fn pairs(g: &mut Gen, mut c: Cmd) -> Cmd {
    for _ in 0..g.range(1, 4) {
        c.push(field(g));
        c.push(field_value(g));
    }
    if g.pct(5) {
        c.push(field(g));
    }
    c
}

/// HSET of a run of numbered fields `m<i>`, mostly to the key that grows past `hash-max-listpack-entries`.
fn numbered_fields(g: &mut Gen) -> Cmd {
    let k = if g.pct(80) { BIG_KEY.as_bytes().to_vec() } else { key(g) };
    let start = g.range(0, 600);
    let mut c = Cmd::new("HSET").arg(k);
    for i in start..start + g.range(20, 150) {
        c.push(format!("m{i}"));
        c.push(g.range(0, 1000).to_string());
    }
    c
}

/// HRANDFIELD with and without a count and WITHVALUES. Negative counts stay small: Redis builds a reply of any
/// size for them (`-4294967296` would take it down).
fn hrandfield(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("HRANDFIELD").arg(k).check(Check::Sized);
    if g.pct(25) {
        return c;
    }
    let count = match g.below(10) {
        0..=6 => g.range(-8, 8).to_string().into_bytes(),
        7 => g.pick(&["1000", "-1000", "9223372036854775807", "4611686018427387903"]).as_bytes().to_vec(),
        8 => {
            // Past Redis' limits: errors (2^62 only with WITHVALUES). Never -2^62: if a mutation dropped the
            // WITHVALUES, Redis would build a reply of 2^62 fields.
            let n = g.pick(&["-9223372036854775808", "4611686018427387904"]);
            return c.arg(n).arg(g.word("WITHVALUES"));
        }
        _ => loop {
            let v = g.pick(BAD_INTS);
            if !(v.starts_with('-') && v.parse::<i64>().is_ok_and(|n| n < -10_000)) {
                break v.as_bytes().to_vec();
            }
        },
    };
    c.push(count);
    match g.below(10) {
        0..=4 => {}
        5..=8 => c.push(g.word("WITHVALUES")),
        _ => c.push(g.pick(&["WITHVALUE", "WITHSCORES", ""])),
    }
    if g.pct(3) {
        c.push(g.word("WITHVALUES"));
    }
    c
}

/// HSCAN from cursor 0 with MATCH and COUNT, and its errors (see the module doc for how it is compared).
fn hscan(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let cursor = if g.pct(92) {
        g.pick(&["0", "0", "0", "", "00", "+0"])
    } else {
        g.pick(&["abc", " 0", "0x", "1.5", "18446744073709551616", "-"])
    };
    let mut c = Cmd::new("HSCAN").arg(k).arg(cursor).check(Check::ScanUnion);
    for _ in 0..g.below(3) {
        if g.pct(50) {
            c.push(g.word("MATCH"));
            c.push(if g.pct(50) { g.pick(LITERAL_FIELDS) } else { g.pick(PATTERNS) });
        } else {
            c.push(g.word("COUNT"));
            c.push(if g.pct(90) { g.range(1, 20).to_string().into_bytes() } else { g.int() });
        }
    }
    if g.pct(8) {
        // Malformed options (errors only for a hash that exists, as in Redis).
        match g.below(5) {
            0 => c.push(g.word("COUNT")),
            1 => c.push(g.word("MATCH")),
            2 => {
                c.push(g.word("TYPE"));
                c.push("string");
            }
            _ => c.push(g.keyword(&["NOVALUES", "FOO"])),
        }
    }
    c
}
