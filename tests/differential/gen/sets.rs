//! Generator of set commands (and SORT/SORT_RO) for the differential tester: every set command with random
//! options (valid, repeated and malformed), members that are integers (intsets) or not (hash tables), sets grown
//! past `set-max-intset-entries`, and inputs of other types (strings answer WRONGTYPE, lists and sorted sets are
//! SORT's inputs too).
//!
//! Redis returns a hash-table set in its hash order, so SMEMBERS, SINTER, SUNION and SDIFF
//! replies are compared unordered, and SRANDMEMBER by size. Nothing random may change the data, so SPOP either
//! empties a set (a count past its size) or reads a key that never exists (its count checks). SSCAN from cursor 0 is followed to its end on each
//! server and the unions compared (cursors are opaque); errors are exact.
//!
//! SORT is compared exactly when its order is total: numeric, where equal weights fall back to the elements. Orders
//! that depend on the input order of equal elements (ALPHA compares C strings, ALPHA BY has ties, BY nosort keeps
//! a set's hash order) are compared unordered and never limited; they are stored only where STORE makes them
//! total (ALPHA then compares bytes, a set is sorted), never ALPHA BY. Numeric SORT only reads weights that do
//! not exist: Redis 7.0 checks a stale `errno` after `strtod`, so after any earlier overflowing or underflowing
//! `strtod` in the server (a SORT weight, a ZRANGEBYSCORE bound, …) and until a command resets it (ZADD,
//! INCRBYFLOAT, …) it fails SORT on valid non-integer weights (docs/compatibility.md).

use super::{Check, Cmd, Gen};

/// Members: small integers (intset members), non-canonical integers, words, and odd bytes.
const MEMBERS: &[&[u8]] = &[
    b"0",
    b"1",
    b"2",
    b"3",
    b"7",
    b"10",
    b"-1",
    b"100",
    b"a",
    b"b",
    b"c",
    b"ab",
    b"-0",
    b"01",
    b"",
    b"\x00",
    b"a\x00b",
    b"1.5",
    b"x y",
    b"9223372036854775807",
    b"9223372036854775808",
    b"\xff",
];

/// Keys of this family's own, so that sets live long enough to be worked on (the shared keys are overwritten by
/// the other families all the time).
const SET_KEYS: &[&str] = &["set:a", "set:b", "set:c"];

/// A key nothing writes.
const NO_KEY: &str = "set:none";

/// Where SORT … STORE writes its lists (and SORT reads them back).
const SORTED_KEY: &str = "sort:out";

/// The key that gets hundreds of integers, around `set-max-intset-entries` (512).
const BIG_KEY: &str = "set:big";

/// SORT BY patterns for ALPHA: key patterns that hit the shared keys (`k*` with members `0`…`7`), strings, and
/// hash fields.
const BY_PATTERNS: &[&str] = &["k*", "*", "str:*", "nosuch_*", "k*->f", "k*->a", "*->1", "k*->"];

/// BY patterns without a `*` (as C strings): no sorting.
const CONSTANT_PATTERNS: &[&str] = &["nosort", "#", "k\x00*", "NOSORT"];

/// SORT GET patterns.
const GET_PATTERNS: &[&str] = &["#", "k*", "*", "str:*", "k*->f", "k*->a", "nosuch", "#x", "*->", "k*->1"];

fn member(g: &mut Gen) -> Vec<u8> {
    match g.below(10) {
        0..=7 => g.pick(MEMBERS).to_vec(),
        8 => g.range(-20, 600).to_string().into_bytes(),
        _ => g.value(),
    }
}

/// A key: this family's own or a shared one (where other types live).
fn key(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0..=11 => g.pick(SET_KEYS).as_bytes().to_vec(),
        12 => BIG_KEY.as_bytes().to_vec(),
        _ => g.key(),
    }
}

/// More keys for a multi-key command: mostly sets, as one string among them makes the whole command WRONGTYPE.
fn keys(g: &mut Gen, min: usize, max: usize) -> Vec<Vec<u8>> {
    let n = min + g.below(max - min + 1);
    (0..n).map(|_| if g.pct(80) { g.pick(SET_KEYS).as_bytes().to_vec() } else { key(g) }).collect()
}

fn with_members(mut c: Cmd, g: &mut Gen, min: usize, max: usize) -> Cmd {
    for _ in 0..min + g.below(max - min + 1) {
        c.push(member(g));
    }
    c
}

/// A count for SRANDMEMBER: small of either sign, the bounds Redis checks, and malformed ones. Never a huge
/// negative count: Redis would try to build a reply of that many elements.
fn rand_count(g: &mut Gen) -> Vec<u8> {
    if g.pct(85) {
        return g.range(-8, 8).to_string().into_bytes();
    }
    g.pick(&["abc", "1.5", "", " 1", "-9223372036854775808", "9223372036854775807", "4294967296", "+2", "-0"])
        .as_bytes()
        .to_vec()
}

/// SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS, SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD,
/// SMOVE, SPOP, SRANDMEMBER, SSCAN, SORT, SORT_RO, and OBJECT ENCODING of this family's keys.
pub fn sets(g: &mut Gen) -> Cmd {
    let k = key(g);
    match g.below(100) {
        0..=19 => with_members(Cmd::new("SADD").arg(k), g, 1, 5),
        20 => {
            // Hundreds of integers: the intset limit (512) is crossed here, in one step or over several.
            let mut c = Cmd::new("SADD").arg(BIG_KEY);
            let start = g.range(0, 400);
            for i in 0..g.range(1, 300) {
                c.push((start + i).to_string());
            }
            c
        }
        21..=27 => with_members(Cmd::new("SREM").arg(k), g, 1, 4),
        28..=31 => Cmd::new("SCARD").arg(k),
        32..=35 => Cmd::new("SISMEMBER").arg(k).arg(member(g)),
        36..=38 => with_members(Cmd::new("SMISMEMBER").arg(k), g, 1, 4),
        39..=43 => Cmd::new("SMEMBERS").arg(k).check(Check::Unordered),
        44..=52 => {
            let name = g.pick(&["SINTER", "SUNION", "SDIFF"]);
            let mut c = Cmd::new(name).arg(k).check(Check::Unordered);
            for key in keys(g, 0, 3) {
                c.push(key);
            }
            c
        }
        53..=60 => {
            let name = g.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
            let mut c = Cmd::new(name).arg(key(g)).arg(k);
            for key in keys(g, 0, 3) {
                c.push(key);
            }
            c
        }
        61..=64 => sintercard(g, k),
        65..=69 => Cmd::new("SMOVE").arg(k).arg(key(g)).arg(member(g)),
        70..=72 => spop(g),
        73..=77 => {
            let mut c = Cmd::new("SRANDMEMBER").arg(k).check(Check::Sized);
            if g.pct(75) {
                c.push(rand_count(g));
            }
            c
        }
        78..=81 => sscan(g, k),
        82..=95 => {
            let source = if g.pct(15) { SORTED_KEY.as_bytes().to_vec() } else { k };
            sort(g, source)
        }
        _ => Cmd::new("OBJECT").arg(g.word("ENCODING")).arg(k),
    }
}

fn sintercard(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("SINTERCARD");
    let ks = {
        let mut v = vec![k];
        v.extend(keys(g, 0, 2));
        v
    };
    let numkeys = match g.below(12) {
        0 => "0".to_string(),
        1 => (ks.len() + 1).to_string(),
        2 => g.pick(&["-1", "abc", "", "9223372036854775808"]).to_string(),
        _ => ks.len().to_string(),
    };
    c.push(numkeys);
    for key in ks {
        c.push(key);
    }
    for _ in 0..g.below(3) {
        if g.pct(85) {
            c.push(g.word("LIMIT"));
            c.push(match g.below(6) {
                0 => g.pick(&["-1", "abc", "1.5"]).to_string(),
                _ => g.range(0, 4).to_string(),
            });
        } else {
            c.push(g.pick(&["FOO", "LIMIT"]));
        }
    }
    c
}

/// SPOP that empties a set, or on a key nothing writes with valid and malformed counts (Redis parses the count
/// first). Popping part of a real set is random and left to the end-to-end tests.
fn spop(g: &mut Gen) -> Cmd {
    if g.pct(30) {
        // A count past any set's size empties it: the popped members are the whole set, in any order.
        return Cmd::new("SPOP").arg(key(g)).arg("10000").fixed().check(Check::Unordered);
    }
    let count = match g.below(10) {
        0..=4 => g.pick(&["10000", "9223372036854775807", "1"]),
        5 => "0",
        _ => g.pick(&["-1", "abc", "1.5", "", "-9223372036854775808"]),
    };
    let mut c = Cmd::new("SPOP").arg(NO_KEY).arg(count);
    if g.pct(5) {
        c.push("1");
    }
    c
}

fn sscan(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let cursor = if g.pct(90) { "0" } else { g.pick(&["abc", "", "-1", "18446744073709551616", "5"]) };
    // From cursor 0 both scans are followed to the end; another cursor means different things to the two servers.
    let check = if matches!(cursor, "0" | "") { Check::ScanUnion } else { Check::Sized };
    let mut c = Cmd::new("SSCAN").arg(k).arg(cursor).check(check);
    for _ in 0..g.below(3) {
        match g.below(5) {
            0 | 1 => {
                c.push(g.word("MATCH"));
                c.push(g.pick(&["*", "1*", "a*", "?", "[0-3]*", "*\x00*", ""]));
            }
            2 | 3 => {
                c.push(g.word("COUNT"));
                c.push(if g.pct(80) { g.range(1, 20).to_string() } else { g.pick(&["0", "-1", "abc"]).to_string() });
            }
            _ => c.push(g.pick(&["TYPE", "MATCH", "NOVALUES"])),
        }
    }
    c
}

/// SORT or SORT_RO with random options; see the module doc for how each kind of order is compared.
fn sort(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let ro = g.pct(25);
    let mut c = Cmd::new(if ro { "SORT_RO" } else { "SORT" }).arg(k);
    let store = !ro && g.pct(20);
    // ALPHA (optionally BY any pattern), BY a constant (no sorting), or numeric by weights that never exist.
    let (alpha, by, exact) = match g.below(10) {
        0..=3 => (true, if g.pct(40) && !store { Some(g.pick(BY_PATTERNS)) } else { None }, false),
        4 | 5 => (g.pct(30), Some(g.pick(CONSTANT_PATTERNS)), false),
        _ => (false, Some(g.pick(&["nosuch_*", "w_*"])), true),
    };
    if alpha {
        c.push(g.word("ALPHA"));
    }
    if let Some(p) = by {
        c.push(g.word("BY"));
        c.push(p);
    }
    if g.pct(30) {
        c.push(g.keyword(&["ASC", "DESC"]));
    }
    if exact && g.pct(40) {
        c.push(g.word("LIMIT"));
        for _ in 0..2 {
            let n = if g.pct(85) { g.range(-2, 6).to_string() } else { g.pick(&["abc", "9223372036854775807"]).into() };
            c.push(n);
        }
    }
    for _ in 0..if g.pct(30) { g.range(1, 3) } else { 0 } {
        c.push(g.word("GET"));
        c.push(g.pick(GET_PATTERNS));
    }
    if store {
        // Never this family's own keys: a list there would turn every later set command into WRONGTYPE.
        c.push(g.word("STORE"));
        c.push(if g.pct(50) { SORTED_KEY.as_bytes().to_vec() } else { g.key() });
    }
    if g.pct(3) {
        // A dangling keyword is a syntax error only while nothing follows it: no mutation may append its argument.
        c.push(g.pick(&["FOO", "LIMIT", "BY", "GET", "STORE"]));
        c = c.fixed();
    }
    if exact {
        c
    } else {
        c.check(Check::Unordered)
    }
}
