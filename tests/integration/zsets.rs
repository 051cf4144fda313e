//! End-to-end tests of the sorted set family. The exact replies in the tables are what redis-server 7.0.15
//! answered to the same commands (RESP2, then RESP3 after `HELLO 3`); the other tests cover what a table cannot:
//! random replies, ZSCAN paging, expiry, persistence across a restart and a big sorted set.

use std::collections::HashSet;

use crate::common::{expect, Server};

/// `ZADD key score member…` for `n` members named `{prefix}{i:05}` with scores from `score(i)`.
fn zadd_line(key: &str, prefix: &str, n: usize, score: impl Fn(usize) -> String) -> String {
    let pairs: Vec<String> = (0..n).map(|i| format!("{} {prefix}{i:05}", score(i))).collect();
    format!("ZADD {key} {}", pairs.join(" "))
}

/// A redis crate connection's view of a reply as strings.
fn strings(s: &Server, args: &[&str]) -> Vec<String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(&mut s.conn()).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// ZADD and ZINCRBY: NX/XX/GT/LT/CH/INCR, their incompatible combinations, nil for an aborted INCR, score parsing (overflow and underflow are refused), NaN results.
#[test]
fn zadd_options_errors_and_incr() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZADD z NX 10 a 4 d", ":1\r\n"),
            ("ZADD z XX 10 a 5 e", ":0\r\n"),
            ("ZADD z XX CH 11 a 2 b", ":1\r\n"),
            ("ZADD z GT CH 1 a 20 b", ":1\r\n"),
            ("ZADD z LT CH 30 c 0 c", ":1\r\n"),
            ("ZADD z 1 x 2 x", ":1\r\n"),
            ("ZSCORE z x", "$1\r\n2\r\n"),
            ("ZADD z INCR 5 x", "$1\r\n7\r\n"),
            ("ZADD z XX INCR 1 nope", "$-1\r\n"),
            ("ZADD z NX INCR 1 x", "$-1\r\n"),
            ("ZADD z GT INCR -1 x", "$-1\r\n"),
            ("ZADD z LT INCR 1 x", "$-1\r\n"),
            ("ZADD z INCR inf x", "$3\r\ninf\r\n"),
            ("ZADD z INCR -inf x", "-ERR resulting score is not a number (NaN)\r\n"),
            ("ZINCRBY z 2.5 y", "$3\r\n2.5\r\n"),
            ("ZINCRBY z nx y", "-ERR syntax error\r\n"),
            ("ZINCRBY z abc y", "-ERR value is not a valid float\r\n"),
            ("ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"),
            ("ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
            ("ZADD z NX GT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
            ("ZADD z NX LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"),
            ("ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n"),
            ("ZADD z 1 a 2", "-ERR syntax error\r\n"),
            ("ZADD z ch", "-ERR wrong number of arguments for 'zadd' command\r\n"),
            ("ZADD z abc a", "-ERR value is not a valid float\r\n"),
            ("ZADD z 1 a nan b", "-ERR value is not a valid float\r\n"),
            ("ZADD z 1e400 a", "-ERR value is not a valid float\r\n"),
            ("ZADD z 1e-400 a", "-ERR value is not a valid float\r\n"),
            ("ZADD z 0x10 hex", ":1\r\n"),
            ("ZADD z  1 a", "-ERR syntax error\r\n"),
            ("ZADD z 1  ", "-ERR syntax error\r\n"),
            ("ZADD nokey XX 1 a", ":0\r\n"),
            ("ZADD nokey XX INCR 1 a", "$-1\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "*14\r\n$1\r\nc\r\n$1\r\n0\r\n$1\r\ny\r\n$3\r\n2.5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\na\r\n$2\r\n11\r\n$3\r\nhex\r\n$2\r\n16\r\n$1\r\nb\r\n$2\r\n20\r\n$1\r\nx\r\n$3\r\ninf\r\n"),
            ("HELLO 3", ""),
            ("ZADD z INCR 1 a", ",12\r\n"),
            ("ZINCRBY z 1 a", ",13\r\n"),
            ("ZADD z XX INCR 1 nope", "_\r\n"),
            ("ZRANGE z 0 1 WITHSCORES", "*2\r\n*2\r\n$1\r\nc\r\n,0\r\n*2\r\n$1\r\ny\r\n,2.5\r\n"),
        ],
    );
}

/// Scores as Redis 7.0 prints them (`%.17g`), bulk strings in RESP2 and doubles in RESP3; a listpack stores -0 as 0, a skiplist keeps the sign.
#[test]
fn scores_are_formatted_like_redis() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 0.1 a 1e20 b -0 c inf d -inf e 3 f 1.5 g 5e-324 h 123456789012345678 i", ":9\r\n"),
            ("ZSCORE z a", "$19\r\n0.10000000000000001\r\n"),
            ("ZSCORE z b", "$5\r\n1e+20\r\n"),
            ("ZSCORE z c", "$1\r\n0\r\n"),
            ("ZSCORE z d", "$3\r\ninf\r\n"),
            ("ZSCORE z e", "$4\r\n-inf\r\n"),
            ("ZSCORE z h", "$23\r\n4.9406564584124654e-324\r\n"),
            ("ZSCORE z i", "$22\r\n1.2345678901234568e+17\r\n"),
            ("ZSCORE z nope", "$-1\r\n"),
            ("ZMSCORE z a c nope d", "*4\r\n$19\r\n0.10000000000000001\r\n$1\r\n0\r\n$-1\r\n$3\r\ninf\r\n"),
            ("ZINCRBY z -0 new", "$2\r\n-0\r\n"),
            ("ZSCORE z new", "$1\r\n0\r\n"),
            ("ZRANGE z 0 -1 WITHSCORES", "*20\r\n$1\r\ne\r\n$4\r\n-inf\r\n$1\r\nc\r\n$1\r\n0\r\n$3\r\nnew\r\n$1\r\n0\r\n$1\r\nh\r\n$23\r\n4.9406564584124654e-324\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\ng\r\n$3\r\n1.5\r\n$1\r\nf\r\n$1\r\n3\r\n$1\r\ni\r\n$22\r\n1.2345678901234568e+17\r\n$1\r\nb\r\n$5\r\n1e+20\r\n$1\r\nd\r\n$3\r\ninf\r\n"),
            ("ZADD big -0 neg 1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":2\r\n"),
            ("ZADD big -0 neg2", ":1\r\n"),
            ("ZSCORE big neg2", "$2\r\n-0\r\n"),
            ("ZRANGE big 0 -1 WITHSCORES", "*6\r\n$3\r\nneg\r\n$1\r\n0\r\n$4\r\nneg2\r\n$2\r\n-0\r\n$67\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n$1\r\n1\r\n"),
            ("ZINCRBY big -0 neg3", "$2\r\n-0\r\n"),
            ("ZSCORE big neg3", "$2\r\n-0\r\n"),
            ("HELLO 3", ""),
            ("ZSCORE z a", ",0.10000000000000001\r\n"),
            ("ZSCORE z b", ",1e+20\r\n"),
            ("ZSCORE z d", ",inf\r\n"),
            ("ZSCORE z e", ",-inf\r\n"),
            ("ZSCORE z nope", "_\r\n"),
            ("ZMSCORE z a nope", "*2\r\n,0.10000000000000001\r\n_\r\n"),
            ("ZMSCORE nokey a", "*1\r\n_\r\n"),
            ("ZSCORE big neg2", ",-0\r\n"),
            ("ZRANGE big 0 -1 WITHSCORES", "*4\r\n*2\r\n$3\r\nneg\r\n,0\r\n*2\r\n$4\r\nneg2\r\n,-0\r\n*2\r\n$4\r\nneg3\r\n,-0\r\n*2\r\n$67\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n,1\r\n"),
            ("ZRANGEBYSCORE z 1 3 WITHSCORES", "*2\r\n*2\r\n$1\r\ng\r\n,1.5\r\n*2\r\n$1\r\nf\r\n,3\r\n"),
        ],
    );
}

/// ZCARD, ZRANK, ZREVRANK, ZRANGE by rank (REV, WITHSCORES) and the option errors of ZRANGE.
#[test]
fn ranks_and_rank_ranges() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g -inf h inf i", ":9\r\n"),
            ("ZCARD z", ":9\r\n"),
            ("ZCARD nokey", ":0\r\n"),
            ("ZRANK z a", ":1\r\n"),
            ("ZREVRANK z a", ":7\r\n"),
            ("ZRANK z i", ":8\r\n"),
            ("ZREVRANK z h", ":8\r\n"),
            ("ZRANK z nope", "$-1\r\n"),
            ("ZRANK nokey a", "$-1\r\n"),
            ("ZRANGE z 0 -1", "*9\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGE z 2 4 WITHSCORES", "*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGE z -3 -1", "*3\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGE z -100 100", "*9\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGE z 5 2", "*0\r\n"),
            ("ZRANGE z 100 200", "*0\r\n"),
            ("ZRANGE z 0 -1 REV", "*9\r\n$1\r\ni\r\n$1\r\ng\r\n$1\r\nf\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nh\r\n"),
            ("ZRANGE z 1 3 REV WITHSCORES", "*6\r\n$1\r\ng\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n5\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("ZREVRANGE z 0 2 WITHSCORES", "*6\r\n$1\r\ni\r\n$3\r\ninf\r\n$1\r\ng\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n5\r\n"),
            ("ZRANGE z x 1", "-ERR value is not an integer or out of range\r\n"),
            ("ZRANGE z 0 -1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
            ("ZRANGE z 0 -1 LIMIT 3 -1", "*9\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGE z 0 1 REV REV", "-ERR syntax error\r\n"),
            ("ZRANGE z 0 1 BYSCORE BYLEX", "-ERR syntax error\r\n"),
            ("ZRANGE z 0 1 LIMIT 0", "-ERR syntax error\r\n"),
            ("ZRANGE z 0 1 LIMIT x 1 BYSCORE", "-ERR value is not an integer or out of range\r\n"),
            ("ZRANGE z 0 1 FOO", "-ERR syntax error\r\n"),
            ("ZREVRANGE z 0 1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"),
            ("ZRANGE nokey 0 -1", "*0\r\n"),
        ],
    );
}

/// Score ranges: exclusive ends, infinities, strtod quirks (empty is 0, leading space), LIMIT (negative offset, negative count), REV, ZCOUNT.
#[test]
fn score_ranges() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g -inf h inf i", ":9\r\n"),
            ("ZRANGEBYSCORE z -inf +inf", "*9\r\n$1\r\nh\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGEBYSCORE z (1 (5 WITHSCORES", "*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGEBYSCORE z 5 5", "*3\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n"),
            ("ZRANGEBYSCORE z (5 5", "*0\r\n"),
            ("ZRANGEBYSCORE z 6 5", "*0\r\n"),
            ("ZRANGEBYSCORE z -inf inf LIMIT 1 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("ZRANGEBYSCORE z -inf inf LIMIT 1 -2", "*8\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\ni\r\n"),
            ("ZRANGEBYSCORE z -inf inf LIMIT -1 2", "*0\r\n"),
            ("ZRANGEBYSCORE z -inf inf LIMIT 9 2", "*0\r\n"),
            ("ZRANGEBYSCORE z -inf inf LIMIT 0 0", "*0\r\n"),
            ("ZRANGEBYSCORE z -inf inf WITHSCORES LIMIT 0 1 LIMIT 2 1", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("ZRANGEBYSCORE z 0 1 REV", "-ERR syntax error\r\n"),
            ("ZRANGEBYSCORE z 0 1 BYSCORE", "-ERR syntax error\r\n"),
            ("ZRANGEBYSCORE z a 1", "-ERR min or max is not a float\r\n"),
            ("ZRANGEBYSCORE z nan 1", "-ERR min or max is not a float\r\n"),
            ("ZRANGEBYSCORE z (1.5 (", "*0\r\n"),
            ("ZRANGEBYSCORE z  (", "*0\r\n"),
            ("ZRANGEBYSCORE z 1e400 +inf", "*1\r\n$1\r\ni\r\n"),
            ("ZREVRANGEBYSCORE z +inf -inf LIMIT 2 3 WITHSCORES", "*6\r\n$1\r\nf\r\n$1\r\n5\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZREVRANGEBYSCORE z (5 (1", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
            ("ZREVRANGEBYSCORE z 1 5", "*0\r\n"),
            ("ZRANGE z 5 1 BYSCORE REV WITHSCORES", "*14\r\n$1\r\ng\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n5\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("ZRANGE z (4 +inf BYSCORE LIMIT 1 1", "*1\r\n$1\r\nf\r\n"),
            ("ZCOUNT z -inf +inf", ":9\r\n"),
            ("ZCOUNT z (1 5", ":6\r\n"),
            ("ZCOUNT z 5 (5", ":0\r\n"),
            ("ZCOUNT z a b", "-ERR min or max is not a float\r\n"),
            ("ZCOUNT nokey 1 2", ":0\r\n"),
        ],
    );
}

/// Lex ranges: `-`, `+`, `[`, `(`, LIMIT, REV, ZLEXCOUNT, and a set whose scores differ (Redis walks it in score order).
#[test]
fn lex_ranges() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 0 a 0 b 0 c 0 d 0 e 0 f 0 g", ":7\r\n"),
            (
                "ZRANGEBYLEX z - +",
                "*7\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n",
            ),
            ("ZRANGEBYLEX z [b [d", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("ZRANGEBYLEX z (b (d", "*1\r\n$1\r\nc\r\n"),
            ("ZRANGEBYLEX z [d [b", "*0\r\n"),
            ("ZRANGEBYLEX z - [c", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("ZRANGEBYLEX z (c +", "*4\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n"),
            ("ZRANGEBYLEX z + -", "*0\r\n"),
            ("ZRANGEBYLEX z [a [a", "*1\r\n$1\r\na\r\n"),
            ("ZRANGEBYLEX z (a [a", "*0\r\n"),
            ("ZRANGEBYLEX z - + LIMIT 2 3", "*3\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("ZRANGEBYLEX z - + LIMIT -1 2", "*0\r\n"),
            ("ZRANGEBYLEX z [aa [e", "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("ZRANGEBYLEX z a b", "-ERR min or max not valid string range item\r\n"),
            (
                "ZRANGEBYLEX z - + WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
            ),
            (
                "ZREVRANGEBYLEX z + -",
                "*7\r\n$1\r\ng\r\n$1\r\nf\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
            ),
            ("ZREVRANGEBYLEX z [d [b", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
            ("ZREVRANGEBYLEX z + - LIMIT 1 2", "*2\r\n$1\r\nf\r\n$1\r\ne\r\n"),
            ("ZRANGE z [b [d BYLEX", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("ZRANGE z [d [b BYLEX REV", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"),
            ("ZRANGE z - + BYLEX LIMIT 1 1", "*1\r\n$1\r\nb\r\n"),
            (
                "ZRANGE z - + BYLEX WITHSCORES",
                "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
            ),
            ("ZLEXCOUNT z - +", ":7\r\n"),
            ("ZLEXCOUNT z [b (e", ":3\r\n"),
            ("ZLEXCOUNT z (b [b", ":0\r\n"),
            ("ZLEXCOUNT z a b", "-ERR min or max not valid string range item\r\n"),
            ("ZLEXCOUNT nokey - +", ":0\r\n"),
            ("ZADD mixed 1 b 2 a 3 d 0 c", ":4\r\n"),
            ("ZRANGEBYLEX mixed - +", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"),
            ("ZRANGEBYLEX mixed [b [c", "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
            ("ZRANGEBYLEX mixed [a +", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"),
            ("ZREVRANGEBYLEX mixed + [b", "*1\r\n$1\r\nd\r\n"),
            ("ZLEXCOUNT mixed [b [d", ":4\r\n"),
        ],
    );
}

/// A lex range over many members of one score is streamed from the score order: every member, in order, with
/// LIMIT and REV, across the reply's chunks.
#[test]
fn big_lex_ranges_are_complete() {
    let s = Server::start();
    let line = zadd_line("big", "m", 20_000, |_| "5".into());
    let args: Vec<&str> = line.split(' ').collect();
    assert_eq!(s.raw().cmd(&args), ":20000\r\n");
    let all = strings(&s, &["ZRANGEBYLEX", "big", "-", "+"]);
    assert_eq!(all.len(), 20_000);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let some = strings(&s, &["ZRANGEBYLEX", "big", "(m00100", "[m19000", "LIMIT", "5", "3"]);
    assert_eq!(some, ["m00106", "m00107", "m00108"]);
    let rev = strings(&s, &["ZRANGE", "big", "[m19999", "(m00002", "BYLEX", "REV"]);
    assert_eq!((rev.len(), rev[0].as_str(), rev[rev.len() - 1].as_str()), (19_997, "m19999", "m00003"));
}

/// ZRANGESTORE (replaces any type, drops the TTL, deletes on an empty result), ZREMRANGEBY*, ZREM; emptied keys vanish.
#[test]
fn range_store_and_remove() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("EXPIRE z 1000", ":1\r\n"),
            ("ZRANGESTORE dst z 1 3", ":3\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("TTL dst", ":-1\r\n"),
            ("ZRANGESTORE dst z (2 +inf BYSCORE LIMIT 0 2", ":2\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGESTORE dst z [c + BYLEX REV", ":0\r\n"),
            ("ZRANGE dst 0 -1", "*0\r\n"),
            ("ZRANGESTORE dst z 10 20", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("ZRANGESTORE dst nokey 0 -1", ":0\r\n"),
            ("ZRANGESTORE dst z 0 1 WITHSCORES", "-ERR syntax error\r\n"),
            (
                "ZRANGESTORE dst z 0 -1 LIMIT 0 1",
                "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
            ),
            ("SET str v", "+OK\r\n"),
            ("ZRANGESTORE str z 0 0", ":1\r\n"),
            ("TYPE str", "+zset\r\n"),
            ("ZRANGESTORE dst str 0 0", ":1\r\n"),
            ("ZRANGESTORE z z 1 3", ":3\r\n"),
            ("ZRANGE z 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("TTL z", ":-1\r\n"),
            ("ZREMRANGEBYRANK z 0 0", ":1\r\n"),
            ("ZREMRANGEBYRANK z 5 1", ":0\r\n"),
            ("ZREMRANGEBYRANK z a 1", "-ERR value is not an integer or out of range\r\n"),
            ("ZREMRANGEBYRANK nokey 0 1", ":0\r\n"),
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":3\r\n"),
            ("ZREMRANGEBYSCORE z (1 3", ":2\r\n"),
            ("ZRANGE z 0 -1", "*3\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"),
            ("ZREMRANGEBYSCORE z a 3", "-ERR min or max is not a float\r\n"),
            ("ZREMRANGEBYSCORE z -inf +inf", ":3\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z 0 a 0 b 0 c 0 d", ":4\r\n"),
            ("ZREMRANGEBYLEX z [b (d", ":2\r\n"),
            ("ZRANGE z 0 -1", "*2\r\n$1\r\na\r\n$1\r\nd\r\n"),
            ("ZREMRANGEBYLEX z a b", "-ERR min or max not valid string range item\r\n"),
            ("ZREMRANGEBYLEX z - +", ":2\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z 1 a 2 b", ":2\r\n"),
            ("ZREM z a nope", ":1\r\n"),
            ("ZREM z b", ":1\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZREM nokey a", ":0\r\n"),
        ],
    );
}

/// ZPOPMIN, ZPOPMAX and ZMPOP: counts, errors, replies in RESP2 and RESP3 (nested pairs only with a COUNT), keys deleted when emptied.
#[test]
fn pops_and_mpop() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("ZPOPMAX z", "*2\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("ZPOPMIN z 2", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("ZPOPMIN z 0", "*0\r\n"),
            ("ZPOPMIN z -1", "-ERR value is out of range, must be positive\r\n"),
            ("ZPOPMIN z x", "-ERR value is out of range, must be positive\r\n"),
            ("ZPOPMIN z 1 2", "-ERR syntax error\r\n"),
            ("ZPOPMIN nokey", "*0\r\n"),
            ("ZPOPMIN nokey 3", "*0\r\n"),
            ("ZPOPMAX z 10", "*2\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZMPOP 1 z MIN", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            (
                "ZMPOP 2 nokey z MAX COUNT 5",
                "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
            ),
            ("EXISTS z", ":0\r\n"),
            ("ZMPOP 1 nokey MIN", "*-1\r\n"),
            ("ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP x z MIN", "-ERR numkeys should be greater than 0\r\n"),
            ("ZMPOP 1 z FOO", "-ERR syntax error\r\n"),
            ("ZMPOP 2 z MIN", "-ERR syntax error\r\n"),
            ("ZMPOP 1 z MIN COUNT 0", "-ERR count should be greater than 0\r\n"),
            ("ZMPOP 1 z MIN COUNT x", "-ERR count should be greater than 0\r\n"),
            ("ZMPOP 1 z MIN COUNT 1 COUNT 1", "-ERR syntax error\r\n"),
            ("ZMPOP 1 z MIN COUNT", "-ERR syntax error\r\n"),
            ("ZMPOP 9223372036854775807 z MIN", "-ERR syntax error\r\n"),
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("HELLO 3", ""),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n,1\r\n"),
            ("ZPOPMIN z 1", "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"),
            ("ZPOPMAX z 5", "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"),
            ("ZPOPMIN nokey", "*0\r\n"),
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("ZMPOP 1 z MAX COUNT 2", "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"),
            ("ZMPOP 1 nokey MAX", "_\r\n"),
        ],
    );
}

/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD: WEIGHTS, AGGREGATE, WITHSCORES, LIMIT, sets as inputs (score 1), WRONGTYPE before option errors.
#[test]
fn set_operations() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD a 1 x 2 y 3 z", ":3\r\n"),
            ("ZADD b 10 y 20 z 30 w", ":3\r\n"),
            ("ZADD c 0.1 x 0.2 y inf z", ":3\r\n"),
            ("ZADD d -inf z 5 q", ":2\r\n"),
            ("SADD s y q r", ":3\r\n"),
            ("SET str v", "+OK\r\n"),
            ("ZUNION 2 a b", "*4\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n"),
            ("ZUNION 2 a b WITHSCORES", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
            ("ZUNION 3 a b c WEIGHTS 1 2 3 WITHSCORES", "*8\r\n$1\r\nx\r\n$3\r\n1.3\r\n$1\r\ny\r\n$18\r\n22.600000000000001\r\n$1\r\nw\r\n$2\r\n60\r\n$1\r\nz\r\n$3\r\ninf\r\n"),
            ("ZUNION 3 a b c AGGREGATE MIN WITHSCORES", "*8\r\n$1\r\nx\r\n$19\r\n0.10000000000000001\r\n$1\r\ny\r\n$19\r\n0.20000000000000001\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\nw\r\n$2\r\n30\r\n"),
            ("ZUNION 3 a b c AGGREGATE MAX WITHSCORES", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nw\r\n$2\r\n30\r\n$1\r\nz\r\n$3\r\ninf\r\n"),
            ("ZUNION 2 c d WITHSCORES", "*8\r\n$1\r\nz\r\n$1\r\n0\r\n$1\r\nx\r\n$19\r\n0.10000000000000001\r\n$1\r\ny\r\n$19\r\n0.20000000000000001\r\n$1\r\nq\r\n$1\r\n5\r\n"),
            ("ZUNION 2 c d WEIGHTS 0 1 WITHSCORES", "*8\r\n$1\r\nz\r\n$4\r\n-inf\r\n$1\r\nx\r\n$1\r\n0\r\n$1\r\ny\r\n$1\r\n0\r\n$1\r\nq\r\n$1\r\n5\r\n"),
            ("ZUNION 2 a s WITHSCORES", "*10\r\n$1\r\nq\r\n$1\r\n1\r\n$1\r\nr\r\n$1\r\n1\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n3\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZUNION 2 a s WEIGHTS 1 -2 WITHSCORES", "*10\r\n$1\r\nq\r\n$2\r\n-2\r\n$1\r\nr\r\n$2\r\n-2\r\n$1\r\ny\r\n$1\r\n0\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZUNION 3 a b c WEIGHTS 1 2 WITHSCORES", "-ERR weight value is not a float\r\n"),
            ("ZUNION 1 a WEIGHTS x", "-ERR weight value is not a float\r\n"),
            ("ZUNION 1 a WEIGHTS 1e400", "-ERR weight value is not a float\r\n"),
            ("ZUNION 1 a AGGREGATE AVG", "-ERR syntax error\r\n"),
            ("ZUNION 1 a AGGREGATE", "-ERR syntax error\r\n"),
            ("ZUNION 0 a", "-ERR at least 1 input key is needed for 'zunion' command\r\n"),
            ("ZUNION -1 a", "-ERR at least 1 input key is needed for 'zunion' command\r\n"),
            ("ZUNION x a", "-ERR value is not an integer or out of range\r\n"),
            ("ZUNION 3 a b", "-ERR syntax error\r\n"),
            ("ZUNION 2 a str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZUNION 2 a str WEIGHTS x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZUNION 2 a nokey WITHSCORES", "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZINTER 2 a b WITHSCORES", "*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n"),
            ("ZINTER 3 a b c WEIGHTS 2 2 2 AGGREGATE MAX WITHSCORES", "*4\r\n$1\r\ny\r\n$2\r\n20\r\n$1\r\nz\r\n$3\r\ninf\r\n"),
            ("ZINTER 2 c d WITHSCORES", "*2\r\n$1\r\nz\r\n$1\r\n0\r\n"),
            ("ZINTER 2 c d WEIGHTS 0 1 WITHSCORES", "*2\r\n$1\r\nz\r\n$1\r\n0\r\n"),
            ("ZINTER 2 a a WEIGHTS 1 2 WITHSCORES", "*6\r\n$1\r\nx\r\n$1\r\n3\r\n$1\r\ny\r\n$1\r\n6\r\n$1\r\nz\r\n$1\r\n9\r\n"),
            ("ZINTER 2 a s WITHSCORES", "*2\r\n$1\r\ny\r\n$1\r\n3\r\n"),
            ("ZINTER 2 a nokey", "*0\r\n"),
            ("ZINTERCARD 2 a b", ":2\r\n"),
            ("ZINTERCARD 3 a b c LIMIT 1", ":1\r\n"),
            ("ZINTERCARD 3 a b c LIMIT 0", ":2\r\n"),
            ("ZINTERCARD 2 a b LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
            ("ZINTERCARD 2 a b LIMIT x", "-ERR LIMIT can't be negative\r\n"),
            ("ZINTERCARD 2 a b WITHSCORES", "-ERR syntax error\r\n"),
            ("ZINTERCARD 0 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"),
            ("ZINTERCARD 2 a s", ":1\r\n"),
            ("ZINTERCARD 2 a str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZDIFF 2 a b WITHSCORES", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
            ("ZDIFF 2 b a WITHSCORES", "*2\r\n$1\r\nw\r\n$2\r\n30\r\n"),
            ("ZDIFF 2 a s WITHSCORES", "*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZDIFF 2 a a", "*0\r\n"),
            ("ZDIFF 2 a nokey WITHSCORES", "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"),
            ("ZDIFF 2 nokey a", "*0\r\n"),
            ("ZDIFF 2 a b WEIGHTS 1 1", "-ERR syntax error\r\n"),
            ("ZDIFF 2 a b AGGREGATE SUM", "-ERR syntax error\r\n"),
            ("ZUNIONSTORE dst 2 a b", ":4\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"),
            ("ZUNIONSTORE dst 2 a b WITHSCORES", "-ERR syntax error\r\n"),
            ("ZINTERSTORE dst 2 a b WEIGHTS 2 3", ":2\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*4\r\n$1\r\ny\r\n$2\r\n34\r\n$1\r\nz\r\n$2\r\n66\r\n"),
            ("ZINTERSTORE dst 2 a d", ":1\r\n"),
            ("EXISTS dst", ":1\r\n"),
            ("ZDIFFSTORE dst 2 a b", ":1\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
            ("ZUNIONSTORE dst 2 nokey nokey2", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("ZUNIONSTORE str 1 s", ":3\r\n"),
            ("TYPE str", "+zset\r\n"),
            ("ZRANGE str 0 -1 WITHSCORES", "*6\r\n$1\r\nq\r\n$1\r\n1\r\n$1\r\nr\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n1\r\n"),
            ("ZDIFFSTORE a 2 a b", ":1\r\n"),
            ("ZRANGE a 0 -1 WITHSCORES", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"),
            ("HELLO 3", ""),
            ("ZUNION 2 a b WITHSCORES", "*4\r\n*2\r\n$1\r\nx\r\n,1\r\n*2\r\n$1\r\ny\r\n,10\r\n*2\r\n$1\r\nz\r\n,20\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
            ("ZINTER 2 b c WITHSCORES", "*2\r\n*2\r\n$1\r\ny\r\n,10.199999999999999\r\n*2\r\n$1\r\nz\r\n,inf\r\n"),
            ("ZDIFF 1 b WITHSCORES", "*3\r\n*2\r\n$1\r\ny\r\n,10\r\n*2\r\n$1\r\nz\r\n,20\r\n*2\r\n$1\r\nw\r\n,30\r\n"),
        ],
    );
}

/// Every sorted set command against a string.
#[test]
fn wrongtype_on_every_command() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET s v", "+OK\r\n"),
            ("ZADD s 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZINCRBY s 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREM s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZCARD s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZSCORE s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZMSCORE s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANK s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREVRANK s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZCOUNT s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZLEXCOUNT s - +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANGE s 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANGEBYSCORE s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANGEBYLEX s - +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREVRANGE s 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREVRANGEBYSCORE s 1 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREVRANGEBYLEX s + -", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANGESTORE d s 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREMRANGEBYRANK s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREMRANGEBYSCORE s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZREMRANGEBYLEX s - +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZPOPMIN s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZPOPMAX s 2", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZMPOP 1 s MIN", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZMPOP 2 nokey s MIN", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANDMEMBER s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZRANDMEMBER s 2", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZSCAN s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZUNION 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZINTER 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZDIFF 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZINTERCARD 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZUNIONSTORE d 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZINTERSTORE d 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZDIFFSTORE d 1 s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("ZDIFF 2 nokey s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("EXISTS d", ":0\r\n"),
        ],
    );
}

/// The deterministic replies of ZRANDMEMBER (errors, empty, a count covering the whole set) and ZSCAN of a listpack (returned whole, scores as the listpack holds them).
#[test]
fn randmember_and_scan_exact_replies() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1e18 a 1e15 b 1.5 c -0 d 4611686018427387904 e 0.1 g", ":6\r\n"),
            ("ZRANDMEMBER nokey", "$-1\r\n"),
            ("ZRANDMEMBER nokey 5", "*0\r\n"),
            ("ZRANDMEMBER z 0", "*0\r\n"),
            ("ZRANDMEMBER z x", "-ERR value is not an integer or out of range\r\n"),
            ("ZRANDMEMBER z 1 FOO", "-ERR syntax error\r\n"),
            ("ZRANDMEMBER z -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
            ("ZRANDMEMBER z 4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
            // Redis 7.0 bounds the count by -LONG_MAX/2 (not LONG_MIN/2), before looking at the key.
            ("ZRANDMEMBER z -4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
            ("ZRANDMEMBER nokey -4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"),
            // Beyond what one reply may hold (Redis would build it until it runs out of memory), as HRANDFIELD.
            ("ZRANDMEMBER z -9223372036854775807", "-ERR value is out of range\r\n"),
            ("ZRANDMEMBER z 100 WITHSCORES", "*12\r\n$1\r\ne\r\n$22\r\n4.6116860184273879e+18\r\n$1\r\na\r\n$5\r\n1e+18\r\n$1\r\nb\r\n$16\r\n1000000000000000\r\n$1\r\nc\r\n$3\r\n1.5\r\n$1\r\ng\r\n$19\r\n0.10000000000000001\r\n$1\r\nd\r\n$1\r\n0\r\n"),
            ("ZSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            ("ZSCAN nokey abc", "-ERR invalid cursor\r\n"),
            ("ZSCAN z 0", "*2\r\n$1\r\n0\r\n*12\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\ng\r\n$19\r\n0.10000000000000001\r\n$1\r\nc\r\n$3\r\n1.5\r\n$1\r\nb\r\n$16\r\n1000000000000000\r\n$1\r\na\r\n$19\r\n1000000000000000000\r\n$1\r\ne\r\n$19\r\n4611686018427387904\r\n"),
            ("ZSCAN z 5 COUNT 1", "*2\r\n$1\r\n0\r\n*12\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\ng\r\n$19\r\n0.10000000000000001\r\n$1\r\nc\r\n$3\r\n1.5\r\n$1\r\nb\r\n$16\r\n1000000000000000\r\n$1\r\na\r\n$19\r\n1000000000000000000\r\n$1\r\ne\r\n$19\r\n4611686018427387904\r\n"),
            ("ZSCAN z 0 MATCH a", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$19\r\n1000000000000000000\r\n"),
            ("ZSCAN z 0 MATCH [a-c]", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nc\r\n$3\r\n1.5\r\n$1\r\nb\r\n$16\r\n1000000000000000\r\n$1\r\na\r\n$19\r\n1000000000000000000\r\n"),
            ("ZSCAN z 0 COUNT 0", "-ERR syntax error\r\n"),
            ("ZSCAN z 0 COUNT x", "-ERR value is not an integer or out of range\r\n"),
            ("ZSCAN z abc", "-ERR invalid cursor\r\n"),
            ("ZSCAN z 0 NOVALUES", "-ERR syntax error\r\n"),
            ("ZSCAN z 0 TYPE zset", "-ERR syntax error\r\n"),
            ("HELLO 3", ""),
            ("ZSCAN z 0 MATCH a", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$19\r\n1000000000000000000\r\n"),
            ("ZRANDMEMBER z 100 WITHSCORES", "*6\r\n*2\r\n$1\r\ne\r\n,4.6116860184273879e+18\r\n*2\r\n$1\r\na\r\n,1e+18\r\n*2\r\n$1\r\nb\r\n,1000000000000000\r\n*2\r\n$1\r\nc\r\n,1.5\r\n*2\r\n$1\r\ng\r\n,0.10000000000000001\r\n*2\r\n$1\r\nd\r\n,0\r\n"),
        ],
    );
}

/// OBJECT ENCODING follows Redis' conversions: past 128 members or a member over 64 bytes (also for …STORE
/// destinations, sized as Redis sizes them), and the config limits; a listpack stores -0 as 0.
#[test]
fn encodings_follow_redis() {
    let s = Server::start();
    let mut r = s.raw();
    let long = "x".repeat(65);
    let y128 = zadd_line("y", "m", 128, |i| i.to_string());
    expect(
        &mut r,
        &[
            ("ZADD z 1 a", ":1\r\n"),
            ("OBJECT ENCODING z", "$8\r\nlistpack\r\n"),
            (&format!("ZADD z -0 b 2 {long} -0 c"), ":3\r\n"),
            ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
            (
                "ZRANGE z 0 -1 WITHSCORES",
                &format!("*8\r\n$1\r\nb\r\n$1\r\n0\r\n$1\r\nc\r\n$2\r\n-0\r\n$1\r\na\r\n$1\r\n1\r\n$65\r\n{long}\r\n$1\r\n2\r\n"),
            ),
            (&format!("ZREM z {long}"), ":1\r\n"),
            ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
            (&y128, ":128\r\n"),
            ("OBJECT ENCODING y", "$8\r\nlistpack\r\n"),
            ("ZADD y -0 zz", ":1\r\n"),
            ("OBJECT ENCODING y", "$8\r\nskiplist\r\n"),
            ("ZSCORE y zz", "$2\r\n-0\r\n"),
            ("ZRANGESTORE d y 0 127", ":128\r\n"),
            ("OBJECT ENCODING d", "$8\r\nlistpack\r\n"),
            ("ZRANGESTORE d y 0 128", ":129\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZRANGE d 0 1 WITHSCORES", "*4\r\n$6\r\nm00000\r\n$1\r\n0\r\n$2\r\nzz\r\n$2\r\n-0\r\n"),
            ("ZRANGESTORE d y -inf inf BYSCORE", ":129\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZRANGE d 0 1 WITHSCORES", "*4\r\n$6\r\nm00000\r\n$1\r\n0\r\n$2\r\nzz\r\n$1\r\n0\r\n"),
            ("ZRANGESTORE d y -inf inf BYSCORE LIMIT 0 128", ":128\r\n"),
            ("OBJECT ENCODING d", "$8\r\nlistpack\r\n"),
            ("ZUNIONSTORE d 1 y", ":129\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZINTERSTORE d 2 y y", ":129\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZDIFFSTORE d 1 z", ":3\r\n"),
            ("OBJECT ENCODING d", "$8\r\nlistpack\r\n"),
            (&format!("ZADD w -0 a 1 {long}"), ":2\r\n"),
            ("ZRANGESTORE d w 0 -1", ":2\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZRANGE d 0 -1 WITHSCORES", &format!("*4\r\n$1\r\na\r\n$1\r\n0\r\n$65\r\n{long}\r\n$1\r\n1\r\n")),
            ("ZRANGESTORE d w 0 0", ":1\r\n"),
            ("OBJECT ENCODING d", "$8\r\nlistpack\r\n"),
            ("ZUNIONSTORE d 1 w WEIGHTS -1", ":2\r\n"),
            ("OBJECT ENCODING d", "$8\r\nskiplist\r\n"),
            ("ZRANGE d 0 -1 WITHSCORES", &format!("*4\r\n$65\r\n{long}\r\n$2\r\n-1\r\n$1\r\na\r\n$2\r\n-0\r\n")),
            ("CONFIG SET zset-max-listpack-entries 0", "+OK\r\n"),
            ("ZADD e -0 a", ":1\r\n"),
            ("OBJECT ENCODING e", "$8\r\nskiplist\r\n"),
            ("ZSCORE e a", "$2\r\n-0\r\n"),
            ("CONFIG SET zset-max-listpack-entries 128", "+OK\r\n"),
            ("CONFIG SET zset-max-listpack-value 2", "+OK\r\n"),
            ("ZADD f -0 abc", ":1\r\n"),
            ("OBJECT ENCODING f", "$8\r\nskiplist\r\n"),
            ("ZADD g -0 ab", ":1\r\n"),
            ("OBJECT ENCODING g", "$8\r\nlistpack\r\n"),
        ],
    );
}

/// ZRANDMEMBER's random replies: distinct members for a positive count, repeats allowed for a negative one,
/// pairs in RESP3 with WITHSCORES; a single member without a count.
#[test]
fn randmember_samples() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[(&zadd_line("z", "m", 200, |i| i.to_string()), ":200\r\n")]);
    expect(&mut r, &[("ZADD small 1 a 2 b 3 c", ":3\r\n")]);
    let all: HashSet<String> = (0..200).map(|i| format!("m{i:05}")).collect();
    for key in ["z", "small"] {
        let picked = strings(&s, &["ZRANDMEMBER", key, "5"]);
        let distinct: HashSet<&String> = picked.iter().collect();
        assert_eq!(distinct.len(), picked.len().min(5), "{picked:?}");
        let repeats = strings(&s, &["ZRANDMEMBER", key, "-50"]);
        assert_eq!(repeats.len(), 50);
        if key == "z" {
            assert!(picked.iter().chain(&repeats).all(|m| all.contains(m)));
        }
    }
    let one = strings(&s, &["ZRANDMEMBER", "small", "-3", "WITHSCORES"]);
    assert_eq!(one.len(), 6);
    for pair in one.chunks(2) {
        let want = match pair[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(pair[1], want);
    }
    let single = r.cmd(&["ZRANDMEMBER", "small"]);
    assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&single.as_str()), "{single}");
    r.cmd(&["HELLO", "3"]);
    let nested = r.cmd(&["ZRANDMEMBER", "small", "2", "WITHSCORES"]);
    assert!(nested.starts_with("*2\r\n*2\r\n$1\r\n"), "{nested}");
    assert_eq!(nested.matches(",").count(), 2, "{nested}");
}

/// A skiplist is scanned in pages: following the cursor returns every member (with its score) at least once,
/// even with members sharing long prefixes, and MATCH filters members.
#[test]
fn zscan_pages_a_skiplist() {
    let s = Server::start();
    let mut r = s.raw();
    let prefix = "common-prefix-";
    expect(&mut r, &[(&zadd_line("z", prefix, 1000, |i| format!("{}.5", i)), ":1000\r\n")]);
    expect(&mut r, &[("OBJECT ENCODING z", "$8\r\nskiplist\r\n")]);
    for count in ["1", "10", "100"] {
        let mut seen: HashSet<String> = HashSet::new();
        let mut cursor = "0".to_string();
        let mut pages = 0;
        loop {
            let page: (String, Vec<String>) =
                redis::cmd("ZSCAN").arg("z").arg(&cursor).arg("COUNT").arg(count).query(&mut s.conn()).expect("ZSCAN");
            pages += 1;
            assert!(pages < 5000, "ZSCAN does not end");
            for pair in page.1.chunks(2) {
                let i: usize = pair[0][prefix.len()..].parse().expect("member");
                assert_eq!(pair[1], format!("{i}.5"));
                seen.insert(pair[0].clone());
            }
            cursor = page.0;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000, "COUNT {count}");
        if count == "10" {
            assert!(pages > 10, "a skiplist is paged ({pages} pages)");
        }
    }
    let matched: (String, Vec<String>) = redis::cmd("ZSCAN")
        .arg("z")
        .arg(0)
        .arg("MATCH")
        .arg("*99?")
        .arg("COUNT")
        .arg(5000)
        .query(&mut s.conn())
        .unwrap();
    assert_eq!(matched.0, "0");
    assert_eq!(matched.1.len(), 2 * 10);
}

/// Writes keep a sorted set's TTL; …STORE destinations are new keys without one; everything survives a kill -9
/// and restart.
#[test]
fn expiry_kept_and_data_survives_restart() {
    let mut s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b 3 c", ":3\r\n"),
            ("EXPIRE z 1000", ":1\r\n"),
            ("ZADD z 4 d", ":1\r\n"),
            ("ZINCRBY z 1 a", "$1\r\n2\r\n"),
            ("ZREM z b", ":1\r\n"),
            ("ZPOPMIN z", "*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ("ZREMRANGEBYSCORE z 100 200", ":0\r\n"),
            ("SET dst x EX 1000", "+OK\r\n"),
            ("ZUNIONSTORE dst 1 z", ":2\r\n"),
            ("TTL dst", ":-1\r\n"),
            ("ZADD gone 1 a", ":1\r\n"),
            ("PEXPIRE gone 1", ":1\r\n"),
        ],
    );
    let ttl: i64 = r.cmd(&["TTL", "z"]).trim_start_matches(':').trim().parse().expect("ttl");
    assert!((990..=1000).contains(&ttl), "{ttl}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    expect(&mut r, &[("ZCARD gone", ":0\r\n"), ("ZADD gone 5 b", ":1\r\n"), ("TTL gone", ":-1\r\n")]);
    s.restart();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZRANGE z 0 -1 WITHSCORES", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"),
            ("ZRANGE gone 0 -1 WITHSCORES", "*2\r\n$1\r\nb\r\n$1\r\n5\r\n"),
            ("DBSIZE", ":3\r\n"),
        ],
    );
    let ttl: i64 = r.cmd(&["TTL", "z"]).trim_start_matches(':').trim().parse().expect("ttl");
    assert!((990..=1000).contains(&ttl), "{ttl}");
}

/// 20 000 members: point reads, ranks, ranges by rank, score and lex, counts, removal and pops all agree with
/// the numbers, before and after a restart.
#[test]
fn big_sorted_set() {
    let mut s = Server::start();
    let mut r = s.raw();
    let n = 20_000;
    expect(&mut r, &[(&zadd_line("z", "m", n, |i| i.to_string()), ":20000\r\n")]);
    expect(&mut r, &[(&zadd_line("lex", "m", n, |_| "0".into()), ":20000\r\n")]);
    s.restart();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ZCARD z", ":20000\r\n"),
            ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
            ("ZSCORE z m12345", "$5\r\n12345\r\n"),
            ("ZRANK z m12345", ":12345\r\n"),
            ("ZREVRANK z m12345", ":7654\r\n"),
            ("ZRANGE z 19998 -1 WITHSCORES", "*4\r\n$6\r\nm19998\r\n$5\r\n19998\r\n$6\r\nm19999\r\n$5\r\n19999\r\n"),
            ("ZRANGE z 0 1 REV", "*2\r\n$6\r\nm19999\r\n$6\r\nm19998\r\n"),
            ("ZRANGEBYSCORE z (10000 10002", "*2\r\n$6\r\nm10001\r\n$6\r\nm10002\r\n"),
            ("ZRANGEBYSCORE z -inf +inf LIMIT 15000 1", "*1\r\n$6\r\nm15000\r\n"),
            ("ZCOUNT z 100 (200", ":100\r\n"),
            ("ZRANGEBYLEX lex [m10000 (m10002", "*2\r\n$6\r\nm10000\r\n$6\r\nm10001\r\n"),
            ("ZREVRANGEBYLEX lex + - LIMIT 0 1", "*1\r\n$6\r\nm19999\r\n"),
            ("ZLEXCOUNT lex (m00099 +", ":19900\r\n"),
            ("ZREMRANGEBYRANK z 0 9999", ":10000\r\n"),
            ("ZCARD z", ":10000\r\n"),
            ("ZPOPMIN z 2", "*4\r\n$6\r\nm10000\r\n$5\r\n10000\r\n$6\r\nm10001\r\n$5\r\n10001\r\n"),
            ("ZREMRANGEBYLEX lex - (m19990", ":19990\r\n"),
            ("ZRANGE lex 0 -1", "*10\r\n$6\r\nm19990\r\n$6\r\nm19991\r\n$6\r\nm19992\r\n$6\r\nm19993\r\n$6\r\nm19994\r\n$6\r\nm19995\r\n$6\r\nm19996\r\n$6\r\nm19997\r\n$6\r\nm19998\r\n$6\r\nm19999\r\n"),
            ("ZUNIONSTORE both 2 z lex", ":9998\r\n"),
            ("ZSCORE both m19999", "$5\r\n19999\r\n"),
        ],
    );
    let all = strings(&s, &["ZRANGE", "z", "0", "-1"]);
    assert_eq!(all.len(), 9998);
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}

/// Redis' SORT and SORT_RO convert the sorted set they sort to a skiplist (`zsetConvert`), even when the sort then
/// fails; the TTL stays and a client WATCHing the key is not aborted (the value did not change). Replies recorded
/// from redis-server 7.0.15.
#[test]
fn sort_turns_a_sorted_set_into_a_skiplist() {
    let s = Server::start();
    let mut r = s.raw();
    let mut watcher = s.raw();
    expect(
        &mut r,
        &[
            ("ZADD z 1 a 2 b", ":2\r\n"),
            ("EXPIRE z 100", ":1\r\n"),
            ("OBJECT ENCODING z", "$8\r\nlistpack\r\n"),
            ("SORT_RO z", "-ERR One or more scores can't be converted into double\r\n"),
            ("OBJECT ENCODING z", "$8\r\nskiplist\r\n"),
            ("TTL z", ":100\r\n"),
            ("ZADD y 1 a", ":1\r\n"),
            ("SORT y foo", "-ERR syntax error\r\n"),
            ("OBJECT ENCODING y", "$8\r\nlistpack\r\n"),
        ],
    );
    expect(&mut watcher, &[("WATCH y", "+OK\r\n"), ("MULTI", "+OK\r\n"), ("GET x", "+QUEUED\r\n")]);
    expect(&mut r, &[("SORT y ALPHA", "*1\r\n$1\r\na\r\n"), ("OBJECT ENCODING y", "$8\r\nskiplist\r\n")]);
    expect(&mut watcher, &[("EXEC", "*1\r\n$-1\r\n")]);
}
