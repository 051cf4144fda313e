//! Generator of sorted set commands for the differential tester: every non-blocking sorted set command with
//! random options (valid, repeated, conflicting and malformed), scores in every form Redis parses or rejects,
//! score and lex ranges with exclusive ends and infinities, and inputs of other types (sets score 1 in ZUNION and
//! friends; strings answer WRONGTYPE).
//!
//! Members longer than `zset-max-listpack-value` turn a sorted set into a skiplist, whose ZSCAN order is Redis'
//! hash order, and where a lex range over members of different scores depends on the skiplist's random levels
//! (two redis-servers disagree); they only go to [`BIG_KEY`], which ZSCAN, lex ranges and the commands copying
//! members elsewhere never read.

use super::{Check, Cmd, Gen, BAD_INTS};

/// Members: short and colliding often, with empty, binary, numeric-looking and UTF-8 ones.
const MEMBERS: &[&[u8]] = &[
    b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"aa", b"ab", b"b\x00", b"", b"1", b"-1", b"10", b"m1", b"m2", b"\x00",
    b"\xff", b"z z",
];

/// The one key that gets members past the listpack limit (a skiplist).
const BIG_KEY: &str = "zset:big";

/// Keys of this family's own, so that sorted sets live long enough to be worked on: the shared keys are
/// overwritten by the other families all the time.
const ZSET_KEYS: &[&str] = &["zset:a", "zset:b", "zset:c"];

/// A key SADD prefers, so that plain sets (scoring 1) are among the inputs of the set operations.
const SET_KEY: &str = "zset:set";

/// Scores Redis accepts, including the ones whose formatting is delicate.
const SCORES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "1.5",
    "-2.5",
    "0.1",
    "0.2",
    "0.3",
    "1e20",
    "-0",
    "inf",
    "-inf",
    "+inf",
    "10",
    "100",
    "3.0e1",
    "1e-5",
    "123456789012345678",
    "4611686018427387904",
    "1e18",
    "5e-324",
    "0x10",
];

fn member(g: &mut Gen, key: &[u8]) -> Vec<u8> {
    if key == BIG_KEY.as_bytes() && g.pct(30) {
        return format!("{}{}", "x".repeat(65), g.below(4)).into_bytes();
    }
    g.pick(MEMBERS).to_vec()
}

/// A key: this family's own or a shared one (where other types live).
fn key(g: &mut Gen) -> Vec<u8> {
    if g.pct(50) {
        g.pick(ZSET_KEYS).as_bytes().to_vec()
    } else {
        key(g)
    }
}

/// A key for a command that may read or write the skiplist key.
fn zkey(g: &mut Gen) -> Vec<u8> {
    if g.pct(8) {
        BIG_KEY.as_bytes().to_vec()
    } else {
        key(g)
    }
}

fn score(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0..=11 => g.pick(SCORES).as_bytes().to_vec(),
        12..=16 => g.range(-5, 20).to_string().into_bytes(),
        _ => g.float(),
    }
}

/// One end of a score range: inclusive or exclusive, infinite, sometimes malformed.
fn score_bound(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0..=2 => g.pick(&["-inf", "+inf", "inf", "-inf", "(-inf", "(+inf"]).as_bytes().to_vec(),
        3..=7 => [b"(".as_slice(), &score(g)].concat(),
        8..=17 => score(g),
        _ => g.pick(&["(", "", " 1", "((1", "nan", "(nan", "abc", "1 ", "[1"]).as_bytes().to_vec(),
    }
}

/// One end of a lex range.
fn lex_bound(g: &mut Gen) -> Vec<u8> {
    match g.below(20) {
        0..=3 => g.pick(&["-", "+"]).as_bytes().to_vec(),
        4..=17 => {
            let open = if g.pct(50) { b"[" } else { b"(" };
            [open.as_slice(), g.pick(MEMBERS)].concat()
        }
        _ => g.pick(&["a", "", "+a", "-a", "[", "(", "+\x00"]).as_bytes().to_vec(),
    }
}

/// A small count or offset, sometimes negative, huge or malformed.
fn small(g: &mut Gen) -> Vec<u8> {
    match g.below(10) {
        0..=7 => g.range(-2, 6).to_string().into_bytes(),
        _ => g.int(),
    }
}

/// `numkeys key…`: usually right, sometimes a count that does not match the keys given.
fn keys_with_count(g: &mut Gen, c: &mut Cmd, min: usize) -> usize {
    let n = g.range(min as i64, 3) as usize;
    let keys: Vec<Vec<u8>> = (0..n).map(|_| key(g)).collect();
    let stated = match g.below(20) {
        0 => g.pick(&["0", "-1", "abc", "4", "9223372036854775807"]).to_string(),
        _ => n.to_string(),
    };
    c.push(stated);
    for k in keys {
        c.push(k);
    }
    n
}

/// ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, the ZRANGE family,
/// ZRANGESTORE, ZREMRANGEBY*, ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN, ZUNION, ZINTER, ZDIFF, their STORE
/// forms and ZINTERCARD.
pub fn zsets(g: &mut Gen) -> Cmd {
    match g.below(100) {
        0..=19 => zadd(g),
        20..=22 => {
            let k = zkey(g);
            let m = member(g, &k);
            Cmd::new("ZINCRBY").arg(k).arg(score(g)).arg(m)
        }
        23..=26 => {
            let k = zkey(g);
            let mut c = Cmd::new("ZREM").arg(&k);
            for _ in 0..g.range(1, 3) {
                c.push(member(g, &k));
            }
            c
        }
        27..=28 => Cmd::new("ZCARD").arg(zkey(g)),
        29..=30 => {
            let k = zkey(g);
            let m = member(g, &k);
            Cmd::new("ZSCORE").arg(k).arg(m)
        }
        31 => {
            let k = zkey(g);
            let mut c = Cmd::new("ZMSCORE").arg(&k);
            for _ in 0..g.range(1, 3) {
                c.push(member(g, &k));
            }
            c
        }
        32..=33 => {
            let k = zkey(g);
            let m = member(g, &k);
            Cmd::new(if g.pct(50) { "ZRANK" } else { "ZREVRANK" }).arg(k).arg(m)
        }
        34..=35 => Cmd::new("ZCOUNT").arg(zkey(g)).arg(score_bound(g)).arg(score_bound(g)),
        36 => Cmd::new("ZLEXCOUNT").arg(key(g)).arg(lex_bound(g)).arg(lex_bound(g)),
        37..=46 => zrange(g),
        47..=50 => {
            let name = g.pick(&["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]);
            let mut c = Cmd::new(name).arg(zkey(g)).arg(score_bound(g)).arg(score_bound(g));
            range_options(g, &mut c, true, true);
            c
        }
        51..=52 => {
            let name = g.pick(&["ZRANGEBYLEX", "ZREVRANGEBYLEX"]);
            let mut c = Cmd::new(name).arg(key(g)).arg(lex_bound(g)).arg(lex_bound(g));
            let withscores = g.pct(5);
            range_options(g, &mut c, withscores, true);
            c
        }
        53..=54 => {
            let mut c = Cmd::new("ZREVRANGE").arg(zkey(g)).arg(g.index()).arg(g.index());
            let limit = g.pct(5);
            range_options(g, &mut c, true, limit);
            c
        }
        55..=57 => zrangestore(g),
        58 => Cmd::new("ZREMRANGEBYRANK").arg(zkey(g)).arg(g.index()).arg(g.index()),
        59 => Cmd::new("ZREMRANGEBYSCORE").arg(zkey(g)).arg(score_bound(g)).arg(score_bound(g)),
        60 => Cmd::new("ZREMRANGEBYLEX").arg(key(g)).arg(lex_bound(g)).arg(lex_bound(g)),
        61..=64 => {
            let mut c = Cmd::new(if g.pct(50) { "ZPOPMIN" } else { "ZPOPMAX" }).arg(zkey(g));
            if g.pct(60) {
                c.push(small(g));
            }
            if g.pct(3) {
                c.push("1");
            }
            c
        }
        65..=66 => zmpop(g),
        67 => blocking(g),
        68..=70 => zrandmember(g),
        71..=73 => zscan(g),
        74..=95 => setop(g),
        // Sets as inputs of the set operations.
        _ => {
            let k = if g.pct(70) { SET_KEY.as_bytes().to_vec() } else { key(g) };
            let mut c = Cmd::new("SADD").arg(k);
            for _ in 0..g.range(1, 3) {
                c.push(g.pick(MEMBERS));
            }
            c
        }
    }
}

/// ZADD with a random mix of NX, XX, GT, LT, CH, INCR (conflicting ones too) and score-member pairs.
fn zadd(g: &mut Gen) -> Cmd {
    let k = zkey(g);
    let mut c = Cmd::new("ZADD").arg(&k);
    let mut incr = false;
    if g.pct(50) {
        for _ in 0..g.range(1, 3) {
            let opt = g.keyword(&["NX", "XX", "GT", "LT", "CH", "INCR", "CH", "GT", "LT"]);
            incr |= opt.eq_ignore_ascii_case("INCR");
            c.push(opt);
        }
    }
    let pairs = if incr && g.pct(90) { 1 } else { g.range(1, 4) };
    for _ in 0..pairs {
        c.push(score(g));
        c.push(member(g, &k));
    }
    if g.pct(3) {
        c.push(score(g));
    }
    c
}

/// WITHSCORES and LIMIT, in either order, sometimes malformed or repeated.
fn range_options(g: &mut Gen, c: &mut Cmd, withscores: bool, limit: bool) {
    if withscores && g.pct(50) {
        c.push(g.word("WITHSCORES"));
    }
    if limit && g.pct(40) {
        c.push(g.word("LIMIT"));
        c.push(small(g));
        if g.pct(95) {
            c.push(small(g));
        }
    }
    if withscores && g.pct(10) {
        c.push(g.word("WITHSCORES"));
    }
    if g.pct(3) {
        c.push(g.keyword(&["REV", "BYSCORE", "BYLEX", "FOO", "LIMIT"]));
    }
}

/// The ends of a ZRANGE-like command in its mode: ranks, scores or lex, sometimes the wrong kind.
fn range_ends(g: &mut Gen, c: &mut Cmd, by: &str) {
    for _ in 0..2 {
        let end = match (by, g.pct(95)) {
            ("BYSCORE", true) => score_bound(g),
            ("BYLEX", true) => lex_bound(g),
            (_, true) => g.index(),
            _ => g.pick(&["-", "+", "(1", "[a", "1", "abc"]).as_bytes().to_vec(),
        };
        c.push(end);
    }
}

/// ZRANGE with BYSCORE/BYLEX/REV/LIMIT/WITHSCORES in random order.
fn zrange(g: &mut Gen) -> Cmd {
    let by = g.pick(&["", "", "BYSCORE", "BYLEX"]);
    let k = if by == "BYLEX" { key(g) } else { zkey(g) };
    let mut c = Cmd::new("ZRANGE").arg(k);
    range_ends(g, &mut c, by);
    range_tail(g, &mut c, by, true);
    c
}

/// The options after ZRANGE/ZRANGESTORE's ends.
fn range_tail(g: &mut Gen, c: &mut Cmd, by: &str, withscores: bool) {
    let mut opts: Vec<Vec<Vec<u8>>> = Vec::new();
    if !by.is_empty() {
        opts.push(vec![g.word(by).into_bytes()]);
    }
    if g.pct(40) {
        opts.push(vec![g.word("REV").into_bytes()]);
    }
    if g.pct(if by.is_empty() { 5 } else { 40 }) {
        let mut limit = vec![g.word("LIMIT").into_bytes(), small(g)];
        if g.pct(95) {
            limit.push(small(g));
        }
        opts.push(limit);
    }
    if g.pct(if withscores && by != "BYLEX" { 40 } else { 4 }) {
        opts.push(vec![g.word("WITHSCORES").into_bytes()]);
    }
    if g.pct(3) {
        // Not BYLEX: an extra one could make a lex range over the skiplist key.
        opts.push(vec![g.keyword(&["REV", "BYSCORE", "FOO"]).into_bytes()]);
    }
    for i in (1..opts.len()).rev() {
        let j = g.below(i + 1);
        opts.swap(i, j);
    }
    for o in opts.into_iter().flatten() {
        c.push(o);
    }
}

fn zrangestore(g: &mut Gen) -> Cmd {
    let by = g.pick(&["", "BYSCORE", "BYLEX"]);
    let mut c = Cmd::new("ZRANGESTORE").arg(key(g)).arg(key(g));
    range_ends(g, &mut c, by);
    range_tail(g, &mut c, by, false);
    c
}

/// BZPOPMIN, BZPOPMAX, BZMPOP with a short timeout: served at once, or nil after a few ms on both servers.
fn blocking(g: &mut Gen) -> Cmd {
    let t = g.block_timeout();
    let c = if g.pct(60) {
        let mut c = Cmd::new(if g.pct(50) { "BZPOPMIN" } else { "BZPOPMAX" }).arg(zkey(g));
        if g.pct(30) {
            c.push(zkey(g));
        }
        c.arg(t)
    } else {
        let mut c = zmpop(g);
        c.args[0] = b"BZMPOP".to_vec();
        c.args.insert(1, t.as_bytes().to_vec());
        c
    };
    c.fixed()
}

fn zmpop(g: &mut Gen) -> Cmd {
    let mut c = Cmd::new("ZMPOP");
    keys_with_count(g, &mut c, 1);
    c.push(match g.below(20) {
        0 => g.pick(&["BOTH", "", "MINMAX"]).to_string(),
        _ => g.keyword(&["MIN", "MAX"]),
    });
    if g.pct(50) {
        c.push(g.word("COUNT"));
        c.push(match g.below(10) {
            0..=7 => g.range(1, 5).to_string().into_bytes(),
            _ => g.int(),
        });
    }
    if g.pct(3) {
        c.push(g.keyword(&["COUNT", "MIN", "FOO"]));
    }
    c
}

/// ZRANDMEMBER: the members are random, so only the reply's shape is compared. Never a large negative count:
/// Redis would spend its life building that reply.
fn zrandmember(g: &mut Gen) -> Cmd {
    let mut c = Cmd::new("ZRANDMEMBER").arg(zkey(g)).check(Check::Sized);
    if g.pct(70) {
        let count = match g.below(10) {
            0..=7 => g.range(-8, 8).to_string().into_bytes(),
            _ => loop {
                let v = g.pick(BAD_INTS);
                // A large valid negative count is the one to avoid (i64::MIN is an error).
                if v.parse::<i64>().map_or(true, |n| !(-i64::MAX..=-100).contains(&n)) {
                    break v.as_bytes().to_vec();
                }
            },
        };
        c.push(count);
        if g.pct(50) {
            c.push(g.keyword(&["WITHSCORES", "WITHSCORES", "WITHSCORE"]));
        }
    }
    c
}

/// ZSCAN from cursor 0 (a listpack is returned whole, in order), with MATCH and COUNT.
fn zscan(g: &mut Gen) -> Cmd {
    let cursor = if g.pct(92) { "0" } else { g.pick(&["abc", "", "-1", "5", "18446744073709551616"]) };
    // From cursor 0 both scans are followed to the end; another cursor means different things to the two servers.
    let check = if matches!(cursor, "0" | "") { Check::ScanUnion } else { Check::Sized };
    let mut c = Cmd::new("ZSCAN").arg(key(g)).arg(cursor).check(check);
    for _ in 0..g.below(3) {
        match g.below(5) {
            0 | 1 => {
                c.push(g.word("MATCH"));
                c.push(g.pick(&["*", "a*", "?", "*b*", "[a-c]", "m?", "", "\\*", "[^a]*"]));
            }
            2 | 3 => {
                c.push(g.word("COUNT"));
                c.push(small(g));
            }
            _ => c.push(g.keyword(&["NOVALUES", "TYPE", "MATCH", "COUNT"])),
        }
    }
    c
}

/// ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZINTERCARD with WEIGHTS, AGGREGATE, WITHSCORES
/// and LIMIT where they belong (and sometimes where they do not).
fn setop(g: &mut Gen) -> Cmd {
    let name = g.pick(&[
        "ZUNION",
        "ZINTER",
        "ZDIFF",
        "ZUNIONSTORE",
        "ZINTERSTORE",
        "ZDIFFSTORE",
        "ZINTERCARD",
        "ZUNION",
        "ZINTER",
        "ZUNIONSTORE",
        "ZINTERSTORE",
    ]);
    let store = name.ends_with("STORE");
    let card = name == "ZINTERCARD";
    let diff = name.starts_with("ZDIFF");
    let mut c = Cmd::new(name);
    if store {
        c.push(key(g));
    }
    let n = keys_with_count(g, &mut c, 1);
    let fits = |g: &mut Gen, yes: bool| g.pct(if yes { 40 } else { 3 });
    if fits(g, !diff && !card) {
        c.push(g.word("WEIGHTS"));
        let weights = if g.pct(90) { n } else { n + 1 };
        for _ in 0..weights {
            c.push(if g.pct(85) {
                g.pick(&["1", "2", "0", "-1", "0.5", "-0", "inf", "-inf", "1e300", "0.1"]).as_bytes().to_vec()
            } else {
                g.float()
            });
        }
    }
    if fits(g, !diff && !card) {
        c.push(g.word("AGGREGATE"));
        c.push(g.keyword(&["SUM", "MIN", "MAX", "SUM", "MIN", "MAX", "AVG"]));
    }
    if fits(g, !store && !card) {
        c.push(g.word("WITHSCORES"));
    }
    if fits(g, card) {
        c.push(g.word("LIMIT"));
        c.push(small(g));
    }
    c
}
