//! End-to-end tests of the lists family: every command, option and error reply, compared byte for byte with what
//! redis-server 7.0.15 answers to the same input, plus what only the storage can get wrong (elements shifted on
//! either side by LINSERT/LREM, rotation onto the same key, empty lists disappearing, expiry kept, restarts, a
//! big list, concurrent writers).

use std::time::{Duration, Instant};

use crate::common::{array_of, check, Raw, Server, NOT_INT, SYNTAX, WRONGTYPE};

/// The whole list through the `redis` crate.
fn all(c: &mut redis::Connection, key: &str) -> Vec<String> {
    redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(c).expect("LRANGE")
}

const RANK_ZERO: &str = "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list\r\n";

#[test]
fn push_and_pop_at_both_ends() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["LPUSH", "l", "a", "b", "c"], ":3\r\n"),
            (&["RPUSH", "l", "d", "e"], ":5\r\n"),
            (&["LPUSHX", "l", "x"], ":6\r\n"),
            (&["RPUSHX", "l", "y", "z"], ":8\r\n"),
            (&["LPUSHX", "nokey", "x"], ":0\r\n"),
            (&["RPUSHX", "nokey", "x"], ":0\r\n"),
            (&["EXISTS", "nokey"], ":0\r\n"),
            (&["LRANGE", "l", "0", "-1"], &array_of(&["x", "c", "b", "a", "d", "e", "y", "z"])),
            (&["LLEN", "l"], ":8\r\n"),
            (&["LLEN", "nokey"], ":0\r\n"),
            (&["LPOP", "l"], "$1\r\nx\r\n"),
            (&["RPOP", "l"], "$1\r\nz\r\n"),
            (&["LPOP", "l", "2"], &array_of(&["c", "b"])),
            (&["RPOP", "l", "2"], &array_of(&["y", "e"])),
            (&["LPOP", "l", "0"], "*0\r\n"),
            (&["RPOP", "l", "0"], "*0\r\n"),
            (&["LPOP", "l", "-1"], "-ERR value is out of range, must be positive\r\n"),
            (&["LPOP", "l", "abc"], "-ERR value is out of range, must be positive\r\n"),
            (&["LPOP", "l", "9223372036854775808"], "-ERR value is out of range, must be positive\r\n"),
            (&["LPOP", "l", "1", "2"], "-ERR wrong number of arguments for 'lpop' command\r\n"),
            (&["RPOP", "l", "1", "2"], "-ERR wrong number of arguments for 'rpop' command\r\n"),
            (&["LPOP", "nokey"], "$-1\r\n"),
            (&["LPOP", "nokey", "1"], "*-1\r\n"),
            (&["LPOP", "nokey", "0"], "*-1\r\n"),
            (&["RPOP", "nokey", "-1"], "-ERR value is out of range, must be positive\r\n"),
            (&["RPOP", "l", "9223372036854775807"], &array_of(&["d", "a"])),
            (&["EXISTS", "l"], ":0\r\n"),
            (&["RPOP", "l"], "$-1\r\n"),
            (&["RPUSH", "l", ""], ":1\r\n"),
            (&["LPOP", "l"], "$0\r\n\r\n"),
        ],
    );
    // Binary elements come back as they went in.
    let mut c = s.conn();
    let bin: &[u8] = b"\x00\xff\r\nz";
    let _: i64 = redis::cmd("RPUSH").arg("b").arg(bin).arg(b"").query(&mut c).unwrap();
    let got: Vec<Vec<u8>> = redis::cmd("LRANGE").arg("b").arg(0).arg(-1).query(&mut c).unwrap();
    assert_eq!(got, vec![bin.to_vec(), Vec::new()]);
}

#[test]
fn resp3_null_forms() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HELLO", "3"]);
    check(
        &mut r,
        &[
            (&["LPOP", "nokey"], "_\r\n"),
            (&["LPOP", "nokey", "1"], "_\r\n"),
            (&["RPOP", "nokey", "0"], "_\r\n"),
            (&["LINDEX", "nokey", "0"], "_\r\n"),
            (&["LMOVE", "nokey", "d", "LEFT", "RIGHT"], "_\r\n"),
            (&["RPOPLPUSH", "nokey", "d"], "_\r\n"),
            (&["LMPOP", "1", "nokey", "LEFT"], "_\r\n"),
            (&["LPOS", "nokey", "a"], "_\r\n"),
            (&["LPOS", "nokey", "a", "COUNT", "0"], "*0\r\n"),
            (&["LRANGE", "nokey", "0", "-1"], "*0\r\n"),
            (&["RPUSH", "l", "a", "b"], ":2\r\n"),
            (&["LINDEX", "l", "5"], "_\r\n"),
            (&["LPOS", "l", "z"], "_\r\n"),
            (&["LPOP", "l", "0"], "*0\r\n"),
            (&["LMPOP", "2", "nokey", "l", "RIGHT", "COUNT", "5"], "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n"),
        ],
    );
}

#[test]
fn index_set_and_range() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["RPUSH", "l", "a", "b", "c", "d"], ":4\r\n"),
            (&["LINDEX", "l", "0"], "$1\r\na\r\n"),
            (&["LINDEX", "l", "-1"], "$1\r\nd\r\n"),
            (&["LINDEX", "l", "-4"], "$1\r\na\r\n"),
            (&["LINDEX", "l", "-5"], "$-1\r\n"),
            (&["LINDEX", "l", "4"], "$-1\r\n"),
            (&["LINDEX", "l", "-9223372036854775808"], "$-1\r\n"),
            (&["LINDEX", "l", "x"], NOT_INT),
            // The key is looked up before the index is parsed.
            (&["LINDEX", "nokey", "x"], "$-1\r\n"),
            (&["LSET", "l", "1", "B"], "+OK\r\n"),
            (&["LSET", "l", "-1", "D"], "+OK\r\n"),
            (&["LSET", "l", "4", "x"], "-ERR index out of range\r\n"),
            (&["LSET", "l", "-5", "x"], "-ERR index out of range\r\n"),
            (&["LSET", "l", "x", "x"], NOT_INT),
            (&["LSET", "nokey", "0", "x"], "-ERR no such key\r\n"),
            (&["LSET", "nokey", "x", "x"], "-ERR no such key\r\n"),
            (&["EXISTS", "nokey"], ":0\r\n"),
            (&["LRANGE", "l", "0", "-1"], &array_of(&["a", "B", "c", "D"])),
            (&["LRANGE", "l", "1", "2"], &array_of(&["B", "c"])),
            (&["LRANGE", "l", "-2", "100"], &array_of(&["c", "D"])),
            (&["LRANGE", "l", "-100", "0"], &array_of(&["a"])),
            (&["LRANGE", "l", "0", "-5"], "*0\r\n"),
            (&["LRANGE", "l", "2", "1"], "*0\r\n"),
            (&["LRANGE", "l", "4", "10"], "*0\r\n"),
            (&["LRANGE", "l", "-9223372036854775808", "9223372036854775807"], &array_of(&["a", "B", "c", "D"])),
            (&["LRANGE", "l", "0", "x"], NOT_INT),
            (&["LRANGE", "nokey", "x", "0"], NOT_INT),
            (&["LRANGE", "nokey", "0", "-1"], "*0\r\n"),
        ],
    );
}

#[test]
fn linsert_and_lrem_shift_either_side() {
    let s = Server::start();
    let mut r = s.raw();
    let mut c = s.conn();
    check(
        &mut r,
        &[
            (&["LINSERT", "l", "MIDDLE", "a", "b"], SYNTAX),
            (&["LINSERT", "l", "before", "a", "b"], ":0\r\n"),
            (&["EXISTS", "l"], ":0\r\n"),
        ],
    );
    let mut model: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let _: i64 = redis::cmd("RPUSH").arg("l").arg(&model).query(&mut c).unwrap();
    // Near the head (the left side moves), near the tail (the right side moves), and at both ends.
    for (place, pivot, value) in [
        ("BEFORE", "1", "x"),
        ("AFTER", "8", "y"),
        ("before", "0", "first"),
        ("after", "9", "last"),
        ("AFTER", "4", "m"),
    ] {
        let at = model.iter().position(|v| v == pivot).unwrap() + (place.eq_ignore_ascii_case("after") as usize);
        model.insert(at, value.to_string());
        assert_eq!(r.cmd(&["LINSERT", "l", place, pivot, value]), format!(":{}\r\n", model.len()));
        assert_eq!(all(&mut c, "l"), model);
    }
    assert_eq!(r.cmd(&["LINSERT", "l", "BEFORE", "nothere", "z"]), ":-1\r\n");
    // Duplicates: the first pivot from the head is used.
    let _: i64 = redis::cmd("RPUSH").arg("d").arg(&["a", "b", "a", "b"]).query(&mut c).unwrap();
    assert_eq!(r.cmd(&["LINSERT", "d", "AFTER", "b", "X"]), ":5\r\n");
    assert_eq!(all(&mut c, "d"), ["a", "b", "X", "a", "b"]);

    let _: i64 = redis::cmd("RPUSH")
        .arg("r")
        .arg(&["a", "1", "a", "2", "3", "4", "5", "6", "a", "7", "a"])
        .query(&mut c)
        .unwrap();
    check(
        &mut r,
        &[
            (&["LREM", "r", "1", "a"], ":1\r\n"),
            (&["LRANGE", "r", "0", "-1"], &array_of(&["1", "a", "2", "3", "4", "5", "6", "a", "7", "a"])),
            (&["LREM", "r", "-1", "a"], ":1\r\n"),
            (&["LRANGE", "r", "0", "-1"], &array_of(&["1", "a", "2", "3", "4", "5", "6", "a", "7"])),
            (&["LREM", "r", "0", "4"], ":1\r\n"),
            (&["LREM", "r", "-5", "a"], ":2\r\n"),
            (&["LRANGE", "r", "0", "-1"], &array_of(&["1", "2", "3", "5", "6", "7"])),
            (&["LREM", "r", "0", "nothere"], ":0\r\n"),
            (&["LREM", "r", "x", "1"], NOT_INT),
            (&["LREM", "nokey", "x", "1"], NOT_INT),
            (&["LREM", "nokey", "1", "1"], ":0\r\n"),
        ],
    );
    // Removing every element deletes the key, whatever the count's sign.
    let _: i64 = redis::cmd("RPUSH").arg("e").arg(&["z", "z", "z"]).query(&mut c).unwrap();
    check(&mut r, &[(&["LREM", "e", "-9223372036854775808", "z"], ":3\r\n"), (&["EXISTS", "e"], ":0\r\n")]);
}

#[test]
fn ltrim_keeps_the_range() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["LTRIM", "nokey", "0", "1"], "+OK\r\n"),
            (&["LTRIM", "nokey", "x", "1"], NOT_INT),
            (&["RPUSH", "l", "a", "b", "c", "d", "e", "f"], ":6\r\n"),
            (&["LTRIM", "l", "0", "-1"], "+OK\r\n"),
            (&["LTRIM", "l", "1", "-2"], "+OK\r\n"),
            (&["LRANGE", "l", "0", "-1"], &array_of(&["b", "c", "d", "e"])),
            (&["LTRIM", "l", "-2", "100"], "+OK\r\n"),
            (&["LRANGE", "l", "0", "-1"], &array_of(&["d", "e"])),
            (&["LPUSH", "l", "c"], ":3\r\n"),
            (&["LRANGE", "l", "0", "-1"], &array_of(&["c", "d", "e"])),
            (&["LTRIM", "l", "2", "1"], "+OK\r\n"),
            (&["EXISTS", "l"], ":0\r\n"),
            (&["RPUSH", "l", "a"], ":1\r\n"),
            (&["LTRIM", "l", "0", "-5"], "+OK\r\n"),
            (&["EXISTS", "l"], ":0\r\n"),
        ],
    );
}

#[test]
fn lmove_and_rpoplpush() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["RPUSH", "m", "1", "2", "3"], ":3\r\n"),
            // Rotation onto the same key, in every direction.
            (&["LMOVE", "m", "m", "LEFT", "RIGHT"], "$1\r\n1\r\n"),
            (&["LRANGE", "m", "0", "-1"], &array_of(&["2", "3", "1"])),
            (&["LMOVE", "m", "m", "RIGHT", "LEFT"], "$1\r\n1\r\n"),
            (&["LRANGE", "m", "0", "-1"], &array_of(&["1", "2", "3"])),
            (&["LMOVE", "m", "m", "left", "left"], "$1\r\n1\r\n"),
            (&["LMOVE", "m", "m", "right", "right"], "$1\r\n3\r\n"),
            (&["RPOPLPUSH", "m", "m"], "$1\r\n3\r\n"),
            (&["LRANGE", "m", "0", "-1"], &array_of(&["3", "1", "2"])),
            // To another key, created on the way, until the source is gone.
            (&["LMOVE", "m", "n", "LEFT", "RIGHT"], "$1\r\n3\r\n"),
            (&["LMOVE", "m", "n", "RIGHT", "LEFT"], "$1\r\n2\r\n"),
            (&["RPOPLPUSH", "m", "n"], "$1\r\n1\r\n"),
            (&["EXISTS", "m"], ":0\r\n"),
            (&["LRANGE", "n", "0", "-1"], &array_of(&["1", "2", "3"])),
            (&["LMOVE", "n", "n", "LEFT", "RIGHT"], "$1\r\n1\r\n"),
            (&["RPUSH", "one", "x"], ":1\r\n"),
            (&["LMOVE", "one", "one", "LEFT", "RIGHT"], "$1\r\nx\r\n"),
            (&["LMOVE", "one", "one", "RIGHT", "LEFT"], "$1\r\nx\r\n"),
            (&["LRANGE", "one", "0", "-1"], &array_of(&["x"])),
            (&["LMOVE", "nokey", "n", "LEFT", "LEFT"], "$-1\r\n"),
            (&["LMOVE", "n", "n", "UP", "LEFT"], SYNTAX),
            (&["LMOVE", "nokey", "n", "LEFT", "DOWN"], SYNTAX),
            (&["SET", "s", "x"], "+OK\r\n"),
            // A missing source wins over a wrong-type destination.
            (&["LMOVE", "nokey", "s", "LEFT", "LEFT"], "$-1\r\n"),
            (&["RPOPLPUSH", "nokey", "s"], "$-1\r\n"),
            (&["LMOVE", "n", "s", "LEFT", "LEFT"], WRONGTYPE),
            (&["RPOPLPUSH", "n", "s"], WRONGTYPE),
            (&["LRANGE", "n", "0", "-1"], &array_of(&["2", "3", "1"])),
        ],
    );
}

#[test]
fn lmpop_picks_the_first_non_empty_list() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["RPUSH", "a", "1", "2", "3"], ":3\r\n"),
            (&["RPUSH", "b", "x", "y"], ":2\r\n"),
            (&["SET", "s", "v"], "+OK\r\n"),
            (&["LMPOP", "2", "nokey", "a", "LEFT"], "*2\r\n$1\r\na\r\n*1\r\n$1\r\n1\r\n"),
            (
                &["LMPOP", "3", "nokey", "a", "b", "right", "COUNT", "5"],
                "*2\r\n$1\r\na\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n",
            ),
            (&["EXISTS", "a"], ":0\r\n"),
            (&["LMPOP", "2", "a", "b", "RIGHT", "count", "1"], "*2\r\n$1\r\nb\r\n*1\r\n$1\r\ny\r\n"),
            (&["LMPOP", "1", "nokey", "LEFT"], "*-1\r\n"),
            // WRONGTYPE only for a key met before a list with elements.
            (&["LMPOP", "2", "b", "s", "LEFT"], "*2\r\n$1\r\nb\r\n*1\r\n$1\r\nx\r\n"),
            (&["LMPOP", "2", "nokey", "s", "LEFT"], WRONGTYPE),
            (&["LMPOP", "0", "a", "LEFT"], "-ERR numkeys should be greater than 0\r\n"),
            (&["LMPOP", "-1", "a", "LEFT"], "-ERR numkeys should be greater than 0\r\n"),
            (&["LMPOP", "x", "a", "LEFT"], "-ERR numkeys should be greater than 0\r\n"),
            (&["LMPOP", "2", "a", "LEFT"], SYNTAX),
            (&["LMPOP", "9223372036854775807", "a", "LEFT"], SYNTAX),
            (&["LMPOP", "1", "a", "MIDDLE"], SYNTAX),
            (&["LMPOP", "1", "a", "LEFT", "COUNT"], SYNTAX),
            (&["LMPOP", "1", "a", "LEFT", "FOO", "1"], SYNTAX),
            (&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"], SYNTAX),
            (&["LMPOP", "1", "a", "LEFT", "COUNT", "0"], "-ERR count should be greater than 0\r\n"),
            (&["LMPOP", "1", "a", "LEFT", "COUNT", "-1"], "-ERR count should be greater than 0\r\n"),
            (&["LMPOP", "1", "a", "LEFT", "COUNT", "x"], "-ERR count should be greater than 0\r\n"),
            (&["LMPOP", "1", "a"], "-ERR wrong number of arguments for 'lmpop' command\r\n"),
        ],
    );
}

#[test]
fn lpos_options() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"], ":7\r\n"),
            (&["LPOS", "l", "b"], ":1\r\n"),
            (&["LPOS", "l", "z"], "$-1\r\n"),
            (&["LPOS", "l", "a", "RANK", "2"], ":3\r\n"),
            (&["LPOS", "l", "a", "RANK", "-1"], ":6\r\n"),
            (&["LPOS", "l", "a", "RANK", "-3"], ":0\r\n"),
            (&["LPOS", "l", "a", "RANK", "4"], "$-1\r\n"),
            (&["LPOS", "l", "a", "COUNT", "0"], "*3\r\n:0\r\n:3\r\n:6\r\n"),
            (&["LPOS", "l", "a", "COUNT", "2"], "*2\r\n:0\r\n:3\r\n"),
            (&["LPOS", "l", "a", "COUNT", "0", "RANK", "-2"], "*2\r\n:3\r\n:0\r\n"),
            (&["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"], "*2\r\n:0\r\n:3\r\n"),
            (&["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"], "$-1\r\n"),
            (&["LPOS", "l", "c", "RANK", "-1", "MAXLEN", "2"], ":5\r\n"),
            (&["LPOS", "l", "z", "COUNT", "1"], "*0\r\n"),
            // Repeated options: the last one wins.
            (&["LPOS", "l", "a", "RANK", "1", "RANK", "2"], ":3\r\n"),
            // Redis 7.0 accepts RANK -2^63: from the tail, and COUNT never stops it.
            (&["LPOS", "l", "a", "RANK", "-9223372036854775808"], ":6\r\n"),
            (&["LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "1"], "*3\r\n:6\r\n:3\r\n:0\r\n"),
            (&["LPOS", "l", "a", "RANK", "0"], RANK_ZERO),
            (&["LPOS", "nokey", "a", "RANK", "0"], RANK_ZERO),
            (&["LPOS", "l", "a", "RANK", "x"], NOT_INT),
            (&["LPOS", "l", "a", "COUNT", "-1"], "-ERR COUNT can't be negative\r\n"),
            (&["LPOS", "l", "a", "COUNT", "x"], "-ERR COUNT can't be negative\r\n"),
            (&["LPOS", "l", "a", "MAXLEN", "-1"], "-ERR MAXLEN can't be negative\r\n"),
            (&["LPOS", "l", "a", "MAXLEN", "x"], "-ERR MAXLEN can't be negative\r\n"),
            (&["LPOS", "l", "a", "COUNT"], SYNTAX),
            (&["LPOS", "l", "a", "FOO", "1"], SYNTAX),
            (&["LPOS", "nokey", "a"], "$-1\r\n"),
            (&["LPOS", "nokey", "a", "COUNT", "1"], "*0\r\n"),
        ],
    );
}

#[test]
fn wrong_type_everywhere() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "s", "x"]);
    r.cmd(&["RPUSH", "l", "a"]);
    let cmds: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "0"],
        &["LMPOP", "1", "s", "LEFT"],
        &["LMOVE", "s", "l", "LEFT", "LEFT"],
        &["LMOVE", "l", "s", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "l"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "x"],
        &["LSET", "s", "x", "v"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LLEN", "s"],
        &["LPOS", "s", "a"],
    ];
    for args in cmds {
        assert_eq!(r.cmd(args), WRONGTYPE, "{args:?}");
    }
    check(&mut r, &[(&["GET", "s"], "$1\r\nx\r\n"), (&["LRANGE", "l", "0", "-1"], &array_of(&["a"]))]);
    // Options are parsed before the type is checked.
    check(
        &mut r,
        &[
            (&["LINSERT", "s", "MIDDLE", "a", "b"], SYNTAX),
            (&["LPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n"),
            (&["LRANGE", "s", "x", "0"], NOT_INT),
            (&["LREM", "s", "x", "a"], NOT_INT),
            (&["LPOS", "s", "a", "RANK", "0"], RANK_ZERO),
        ],
    );
}

#[test]
fn expiry_is_kept_across_writes() {
    let s = Server::start();
    let mut r = s.raw();
    check(&mut r, &[(&["RPUSH", "l", "a", "b", "c", "d"], ":4\r\n"), (&["EXPIRE", "l", "1000"], ":1\r\n")]);
    let writes: &[&[&str]] = &[
        &["LPUSH", "l", "x"],
        &["RPUSHX", "l", "y"],
        &["LPOP", "l"],
        &["RPOP", "l", "1"],
        &["LSET", "l", "0", "z"],
        &["LINSERT", "l", "AFTER", "z", "w"],
        &["LREM", "l", "1", "w"],
        &["LTRIM", "l", "0", "-1"],
        &["LMOVE", "l", "l", "LEFT", "RIGHT"],
        &["LMPOP", "1", "l", "RIGHT"],
    ];
    for w in writes {
        assert!(!r.cmd(w).starts_with('-'), "{w:?}");
        let ttl = r.cmd(&["TTL", "l"]);
        assert!(ttl == ":1000\r\n" || ttl == ":999\r\n", "{w:?} left TTL {ttl:?}");
    }
    // A destination keeps its own expiry; a new one has none.
    check(
        &mut r,
        &[
            (&["RPUSH", "d", "1"], ":1\r\n"),
            (&["PEXPIRE", "d", "500000"], ":1\r\n"),
            (&["RPOPLPUSH", "l", "d"], "$1\r\nd\r\n"),
            (&["RPOPLPUSH", "l", "fresh"], "$1\r\nc\r\n"),
            (&["TTL", "fresh"], ":-1\r\n"),
        ],
    );
    assert!(r.cmd(&["TTL", "d"]).starts_with(":50"));
    // An expired list is gone for every command, and a push starts a new one without the old elements.
    check(&mut r, &[(&["RPUSH", "e", "old1", "old2"], ":2\r\n"), (&["PEXPIRE", "e", "30"], ":1\r\n")]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.cmd(&["EXISTS", "e"]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "list did not expire");
        std::thread::sleep(Duration::from_millis(10));
    }
    check(
        &mut r,
        &[
            (&["LLEN", "e"], ":0\r\n"),
            (&["RPUSH", "e", "new"], ":1\r\n"),
            (&["LRANGE", "e", "0", "-1"], &array_of(&["new"])),
            (&["TTL", "e"], ":-1\r\n"),
        ],
    );
}

#[test]
fn lists_survive_a_restart() {
    let mut s = Server::start();
    {
        let mut r = s.raw();
        check(
            &mut r,
            &[
                (&["RPUSH", "l", "a", "b", "c", "d", "e"], ":5\r\n"),
                (&["LPUSH", "l", "z"], ":6\r\n"),
                (&["LINSERT", "l", "AFTER", "a", "x"], ":7\r\n"),
                (&["LREM", "l", "1", "d"], ":1\r\n"),
                (&["LPOP", "l"], "$1\r\nz\r\n"),
                (&["RPUSH", "gone", "1"], ":1\r\n"),
                (&["RPOP", "gone"], "$1\r\n1\r\n"),
            ],
        );
    }
    s.restart();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["LRANGE", "l", "0", "-1"], &array_of(&["a", "x", "b", "c", "e"])),
            (&["LLEN", "l"], ":5\r\n"),
            (&["EXISTS", "gone"], ":0\r\n"),
            (&["DBSIZE"], ":1\r\n"),
            (&["RPUSH", "l", "f"], ":6\r\n"),
            (&["LINDEX", "l", "-1"], "$1\r\nf\r\n"),
        ],
    );
}

#[test]
fn a_big_list() {
    let s = Server::start();
    let mut c = s.conn();
    let n = 20_000usize;
    let mut model: Vec<String> = (0..n).map(|i| format!("e{i}")).collect();
    for chunk in model.chunks(5000) {
        let _: i64 = redis::cmd("RPUSH").arg("big").arg(chunk).query(&mut c).unwrap();
    }
    assert_eq!(all(&mut c, "big"), model);
    let mid: String = redis::cmd("LINDEX").arg("big").arg(12_345).query(&mut c).unwrap();
    assert_eq!(mid, "e12345");
    let part: Vec<String> = redis::cmd("LRANGE").arg("big").arg(-3).arg(-1).query(&mut c).unwrap();
    assert_eq!(part, model[n - 3..]);
    // Middle edits shift thousands of elements on either side.
    let _: i64 = redis::cmd("LINSERT").arg("big").arg("BEFORE").arg("e15000").arg("ins1").query(&mut c).unwrap();
    model.insert(15_000, "ins1".into());
    let _: i64 = redis::cmd("LINSERT").arg("big").arg("AFTER").arg("e5000").arg("ins2").query(&mut c).unwrap();
    model.insert(5_001, "ins2".into());
    let removed: i64 = redis::cmd("LREM").arg("big").arg(0).arg("e3000").query(&mut c).unwrap();
    assert_eq!(removed, 1);
    model.retain(|v| v != "e3000");
    let removed: i64 = redis::cmd("LREM").arg("big").arg(-1).arg("e17000").query(&mut c).unwrap();
    assert_eq!(removed, 1);
    model.retain(|v| v != "e17000");
    let popped: Vec<String> = redis::cmd("LPOP").arg("big").arg(5000).query(&mut c).unwrap();
    assert_eq!(popped, model[..5000]);
    model.drain(..5000);
    let popped: Vec<String> = redis::cmd("RPOP").arg("big").arg(3).query(&mut c).unwrap();
    assert_eq!(popped, ["e19999", "e19998", "e19997"]);
    model.truncate(model.len() - 3);
    let pos: i64 = redis::cmd("LPOS").arg("big").arg("e10000").query(&mut c).unwrap();
    assert_eq!(pos as usize, model.iter().position(|v| v == "e10000").unwrap());
    let _: () = redis::cmd("LTRIM").arg("big").arg(100).arg(-101).query(&mut c).unwrap();
    model = model[100..model.len() - 100].to_vec();
    assert_eq!(all(&mut c, "big"), model);
    let len: usize = redis::cmd("LLEN").arg("big").query(&mut c).unwrap();
    assert_eq!(len, model.len());
}

#[test]
fn concurrent_pushes_and_moves_lose_nothing() {
    let s = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut c = s.conn();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let cmd = if i % 2 == 0 { "LPUSH" } else { "RPUSH" };
                    let _: i64 = redis::cmd(cmd).arg("a").arg(format!("{t}-{i}")).query(&mut c).unwrap();
                    // Move elements back and forth between the two lists meanwhile.
                    let _: Option<String> =
                        redis::cmd("LMOVE").arg("a").arg("b").arg("LEFT").arg("RIGHT").query(&mut c).unwrap();
                    let _: Option<String> = redis::cmd("RPOPLPUSH").arg("b").arg("a").query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.conn();
    let mut everything = all(&mut c, "a");
    everything.extend(all(&mut c, "b"));
    everything.sort();
    let mut want: Vec<String> = (0..4).flat_map(|t| (0..200).map(move |i| format!("{t}-{i}"))).collect();
    want.sort();
    assert_eq!(everything, want);
}

#[test]
fn pipelined_commands_see_each_others_writes() {
    let s = Server::start();
    let mut r = s.raw();
    // One write: every command runs in the same write scope, before any of it is committed.
    let cmds: &[&[&[u8]]] = &[
        &[b"RPUSH", b"l", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"8", b"9", b"10"],
        &[b"LINSERT", b"l", b"BEFORE", b"2", b"x"],
        &[b"LINSERT", b"l", b"AFTER", b"9", b"y"],
        &[b"LREM", b"l", b"0", b"5"],
        &[b"LSET", b"l", b"0", b"first"],
        &[b"LINDEX", b"l", b"1"],
        &[b"LPOP", b"l", b"9"],
        &[b"LRANGE", b"l", b"0", b"-1"],
        &[b"RPOPLPUSH", b"l", b"l"],
        &[b"LPOS", b"l", b"10"],
        &[b"LTRIM", b"l", b"1", b"-1"],
        &[b"LMPOP", b"1", b"l", b"RIGHT", b"COUNT", b"10"],
        &[b"EXISTS", b"l"],
    ];
    let mut batch = Vec::new();
    for c in cmds {
        batch.extend(Raw::encode(c));
    }
    r.send(&batch);
    let replies: Vec<String> = cmds.iter().map(|_| r.read_reply()).collect();
    assert_eq!(
        replies,
        [
            ":10\r\n",
            ":11\r\n",
            ":12\r\n",
            ":1\r\n",
            "+OK\r\n",
            "$1\r\nx\r\n",
            &array_of(&["first", "x", "2", "3", "4", "6", "7", "8", "9"]),
            &array_of(&["y", "10"]),
            "$2\r\n10\r\n",
            ":0\r\n",
            "+OK\r\n",
            "*2\r\n$1\r\nl\r\n*1\r\n$1\r\ny\r\n",
            ":0\r\n",
        ]
    );
}
