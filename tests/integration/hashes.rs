//! End-to-end tests of the hashes family: every command, option and error reply, compared byte for byte with what
//! redis-server 7.0.15 answers to the same input (RESP2, and RESP3 where the reply types differ), plus what only
//! the storage can get wrong: fields in byte order, empty hashes disappearing, expiry kept, the listpack/hashtable
//! encoding Redis would report, restarts, HSCAN paging over a hash that changes, and a big hash.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::common::{array_of, bulks, check, Raw, Server, NOT_INT, SYNTAX, WRONGTYPE};

const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";

fn long(n: usize) -> String {
    "x".repeat(n)
}

#[test]
fn fields_are_set_read_and_deleted() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["HSET", "h", "f1", "v1", "f2", "v2"], ":2\r\n"),
            (&["HSET", "h", "f1", "new", "f3", "v3"], ":1\r\n"),
            // A field named twice: counted once, the last value wins.
            (&["HSET", "h", "d", "1", "d", "2"], ":1\r\n"),
            (&["HGET", "h", "d"], "$1\r\n2\r\n"),
            (&["HGET", "h", "f1"], "$3\r\nnew\r\n"),
            (&["HGET", "h", "nope"], "$-1\r\n"),
            (&["HGET", "nokey", "f"], "$-1\r\n"),
            (&["HMSET", "h", "a", "1", "b", ""], "+OK\r\n"),
            (&["HGET", "h", "b"], "$0\r\n\r\n"),
            (&["HSET", "h", "a"], "-ERR wrong number of arguments for 'hset' command\r\n"),
            (&["HSET", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hset' command\r\n"),
            (&["HMSET", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hmset' command\r\n"),
            (&["HLEN", "h"], ":6\r\n"),
            (&["HLEN", "nokey"], ":0\r\n"),
            (&["HEXISTS", "h", "f2"], ":1\r\n"),
            (&["HEXISTS", "h", "zz"], ":0\r\n"),
            (&["HEXISTS", "nokey", "zz"], ":0\r\n"),
            (&["HSTRLEN", "h", "f1"], ":3\r\n"),
            (&["HSTRLEN", "h", "b"], ":0\r\n"),
            (&["HSTRLEN", "h", "zz"], ":0\r\n"),
            (&["HSTRLEN", "nokey", "zz"], ":0\r\n"),
            (&["HMGET", "h", "f1", "zz", "f2"], "*3\r\n$3\r\nnew\r\n$-1\r\n$2\r\nv2\r\n"),
            (&["HMGET", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n"),
            (&["HSETNX", "h", "f1", "other"], ":0\r\n"),
            (&["HGET", "h", "f1"], "$3\r\nnew\r\n"),
            (&["HSETNX", "h", "f4", "v4"], ":1\r\n"),
            (&["HSETNX", "fresh", "f", "v"], ":1\r\n"),
            (&["HGETALL", "fresh"], &array_of(&["f", "v"])),
            // A field named twice is deleted once.
            (&["HDEL", "h", "f1", "f1", "zz"], ":1\r\n"),
            (&["HDEL", "nokey", "a"], ":0\r\n"),
            (&["EXISTS", "nokey"], ":0\r\n"),
            (&["HLEN", "h"], ":6\r\n"),
            // The last field gone, the key is gone.
            (&["HDEL", "h", "a", "b", "d", "f2", "f3"], ":5\r\n"),
            (&["HDEL", "h", "f4"], ":1\r\n"),
            (&["EXISTS", "h"], ":0\r\n"),
            (&["HLEN", "h"], ":0\r\n"),
            (&["HGETALL", "h"], "*0\r\n"),
            (&["HSET", "h", "again", "1"], ":1\r\n"),
            (&["HGETALL", "h"], &array_of(&["again", "1"])),
        ],
    );
    // Binary fields and values come back as they went in.
    let mut c = s.conn();
    let (f, v): (&[u8], &[u8]) = (b"\x00\xff\r\nf", b"v\x00\r\n");
    let added: i64 = redis::cmd("HSET").arg("bin").arg(f).arg(v).arg(b"").arg(b"").query(&mut c).unwrap();
    assert_eq!(added, 2);
    let got: Vec<Vec<u8>> = redis::cmd("HMGET").arg("bin").arg(f).arg(b"").query(&mut c).unwrap();
    assert_eq!(got, [v.to_vec(), vec![]]);
}

#[test]
fn whole_hash_replies_in_both_protocols() {
    let s = Server::start();
    let mut r = s.raw();
    // A small hash (a listpack in Redis) lists its fields in insertion order.
    check(
        &mut r,
        &[
            (&["HSET", "h", "b", "2", "a", "1", "c", "3"], ":3\r\n"),
            (&["HGETALL", "h"], &array_of(&["b", "2", "a", "1", "c", "3"])),
            (&["HKEYS", "h"], &array_of(&["b", "a", "c"])),
            (&["HVALS", "h"], &array_of(&["2", "1", "3"])),
            (&["HGETALL", "nokey"], "*0\r\n"),
            (&["HKEYS", "nokey"], "*0\r\n"),
            (&["HVALS", "nokey"], "*0\r\n"),
            (&["HGET", "nokey", "a"], "$-1\r\n"),
        ],
    );
    r.cmd(&["HELLO", "3"]);
    check(
        &mut r,
        &[
            (&["HGETALL", "h"], "%3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            (&["HGETALL", "nokey"], "%0\r\n"),
            (&["HKEYS", "h"], &array_of(&["b", "a", "c"])),
            (&["HVALS", "nokey"], "*0\r\n"),
            (&["HGET", "h", "zz"], "_\r\n"),
            (&["HGET", "nokey", "a"], "_\r\n"),
            (&["HMGET", "h", "a", "zz"], "*2\r\n$1\r\n1\r\n_\r\n"),
            (&["HRANDFIELD", "nokey"], "_\r\n"),
            (&["HRANDFIELD", "nokey", "3"], "*0\r\n"),
            (&["HINCRBYFLOAT", "h", "a", "0.5"], "$3\r\n1.5\r\n"),
            (
                &["HSCAN", "h", "0"],
                "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nc\r\n$1\r\n3\r\n",
            ),
        ],
    );
}

#[test]
fn a_small_hash_keeps_redis_listpack_order() {
    let s = Server::start();
    let mut r = s.raw();
    // A new field goes last, a rewritten one keeps its place, a deleted and re-added one goes last (checked
    // against redis-server 7.0.15).
    check(
        &mut r,
        &[
            (&["HSET", "h", "b", "2", "a", "1", "c", "3"], ":3\r\n"),
            (&["HSET", "h", "a", "9", "d", "4"], ":1\r\n"),
            (&["HDEL", "h", "b"], ":1\r\n"),
            (&["HSET", "h", "b", "5"], ":1\r\n"),
            (&["HINCRBY", "h", "e", "1"], ":1\r\n"),
            (&["HSETNX", "h", "f", "x"], ":1\r\n"),
            (&["HSETNX", "h", "a", "x"], ":0\r\n"),
            (&["HINCRBYFLOAT", "h", "a", "1.5"], "$4\r\n10.5\r\n"),
            (&["HINCRBY", "h", "c", "-1"], ":2\r\n"),
            (&["HGETALL", "h"], &array_of(&["a", "10.5", "c", "2", "d", "4", "b", "5", "e", "1", "f", "x"])),
            (&["HVALS", "h"], &array_of(&["10.5", "2", "4", "5", "1", "x"])),
            // A count covering the hash returns it whole, in its order.
            (&["HRANDFIELD", "h", "6"], &array_of(&["a", "c", "d", "b", "e", "f"])),
            (&["HRANDFIELD", "h", "100"], &array_of(&["a", "c", "d", "b", "e", "f"])),
            (
                &["HSCAN", "h", "0", "MATCH", "[bcd]"],
                "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nc\r\n$1\r\n2\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nb\r\n$1\r\n5\r\n",
            ),
            // COPY and RENAME keep the order.
            (&["COPY", "h", "h2"], ":1\r\n"),
            (&["RENAME", "h2", "h3"], "+OK\r\n"),
            (&["HKEYS", "h3"], &array_of(&["a", "c", "d", "b", "e", "f"])),
            (&["HSET", "h3", "0", "z"], ":1\r\n"),
            (&["HKEYS", "h3"], &array_of(&["a", "c", "d", "b", "e", "f", "0"])),
        ],
    );
    // DUMP writes the listpack in that order, byte for byte as redis-server does, and RESTORE keeps the order.
    let mut conn = s.conn();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("h").query(&mut conn).expect("DUMP");
    let redis_payload = b"\x10**\x00\x00\x00\x0c\x00\x81a\x02\x8410.5\x05\x81c\x02\x02\x01\x81d\x02\x04\x01\x81b\x02\x05\x01\x81e\x02\x01\x01\x81f\x02\x81x\x02\xff\n\x00";
    assert_eq!(&payload[..payload.len() - 8], &redis_payload[..]);
    let _: () = redis::cmd("RESTORE").arg("h4").arg(0).arg(&payload).query(&mut conn).expect("RESTORE");
    check(&mut r, &[(&["HKEYS", "h4"], &array_of(&["a", "c", "d", "b", "e", "f"]))]);
    // Once Redis would convert it to a hash table (a value over 64 bytes) the order is no longer insertion order
    // (Redis' is its hashing order; SableDB's is byte order), but every field is still there.
    r.cmd(&["HSET", "h", "long", &"v".repeat(65)]);
    check(&mut r, &[(&["OBJECT", "ENCODING", "h"], "$9\r\nhashtable\r\n")]);
    let mut keys = bulks(&r.cmd(&["HKEYS", "h"]));
    keys.sort();
    assert_eq!(keys, ["a", "b", "c", "d", "e", "f", "long"]);
}

#[test]
fn counters_follow_redis() {
    let s = Server::start();
    let mut r = s.raw();
    let values = [
        "s",
        "abc",
        "i",
        "10",
        "big",
        "9223372036854775807",
        "neg",
        "-9223372036854775808",
        "sp",
        " 1",
        "fl",
        "1.5",
        "infv",
        "inf",
        "nanv",
        "nan",
        "mx",
        "1.7976931348623157e308",
    ];
    let mut hset = vec!["HSET", "n"];
    hset.extend_from_slice(&values);
    assert_eq!(r.cmd(&hset), ":9\r\n");
    check(
        &mut r,
        &[
            (&["HINCRBY", "n", "i", "5"], ":15\r\n"),
            (&["HINCRBY", "n", "i", "-20"], ":-5\r\n"),
            (&["HINCRBY", "n", "new", "7"], ":7\r\n"),
            (&["HINCRBY", "n", "s", "1"], "-ERR hash value is not an integer\r\n"),
            (&["HINCRBY", "n", "sp", "1"], "-ERR hash value is not an integer\r\n"),
            (&["HINCRBY", "n", "fl", "1"], "-ERR hash value is not an integer\r\n"),
            (&["HINCRBY", "n", "i", "abc"], NOT_INT),
            (&["HINCRBY", "n", "i", "1.5"], NOT_INT),
            (&["HINCRBY", "n", "i", ""], NOT_INT),
            (&["HINCRBY", "n", "big", "1"], "-ERR increment or decrement would overflow\r\n"),
            (&["HINCRBY", "n", "neg", "-1"], "-ERR increment or decrement would overflow\r\n"),
            (&["HINCRBY", "n", "neg", "9223372036854775807"], ":-1\r\n"),
            (&["HGET", "n", "neg"], "$2\r\n-1\r\n"),
            (&["HINCRBYFLOAT", "n", "fl", "0.1"], "$3\r\n1.6\r\n"),
            (&["HINCRBYFLOAT", "n", "fl", "-1.6"], "$1\r\n0\r\n"),
            (&["HINCRBYFLOAT", "n", "i", "1.5"], "$4\r\n-3.5\r\n"),
            (&["HINCRBYFLOAT", "n", "newf", "5.0e3"], "$4\r\n5000\r\n"),
            (&["HINCRBYFLOAT", "n", "i", "0x10"], "$4\r\n12.5\r\n"),
            (&["HINCRBYFLOAT", "n", "big", "1"], "$19\r\n9223372036854775808\r\n"),
            (&["HINCRBYFLOAT", "n", "s", "1"], "-ERR hash value is not a float\r\n"),
            (&["HINCRBYFLOAT", "n", "sp", "1"], "-ERR hash value is not a float\r\n"),
            (&["HINCRBYFLOAT", "n", "nanv", "1"], "-ERR hash value is not a float\r\n"),
            (&["HINCRBYFLOAT", "n", "infv", "1"], "-ERR increment would produce NaN or Infinity\r\n"),
            (&["HINCRBYFLOAT", "n", "i", "abc"], NOT_FLOAT),
            (&["HINCRBYFLOAT", "n", "i", "nan"], NOT_FLOAT),
            (&["HINCRBYFLOAT", "n", "i", ""], NOT_FLOAT),
            (&["HINCRBYFLOAT", "n", "i", "inf"], "-ERR value is NaN or Infinity\r\n"),
            (&["HINCRBYFLOAT", "n", "i", "-inf"], "-ERR value is NaN or Infinity\r\n"),
            // Long double range: 1e400 is a valid increment, and the doubled maximum double fits.
            (&["HINCRBYFLOAT", "n", "mx", "1.7976931348623157e308"], &{
                let v = "359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768";
                format!("${}\r\n{v}\r\n", v.len())
            }),
            // The key is created only once the increment is known to be valid.
            (&["HINCRBYFLOAT", "nokey", "f", "nan"], NOT_FLOAT),
            (&["HINCRBYFLOAT", "nokey", "f", "inf"], "-ERR value is NaN or Infinity\r\n"),
            (&["HINCRBY", "nokey", "f", "x"], NOT_INT),
            (&["EXISTS", "nokey"], ":0\r\n"),
        ],
    );
    // 1e400 is beyond a double but a valid long double increment.
    let v = r.cmd(&["HINCRBYFLOAT", "n", "e400", "1e400"]);
    assert!(v.starts_with("$401\r\n10000000000000000000281880683947586"), "{v}");
}

#[test]
fn every_command_checks_the_type() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "str", "x"]);
    let commands: &[&[&str]] = &[
        &["HSET", "str", "f", "v"],
        &["HMSET", "str", "f", "v"],
        &["HSETNX", "str", "f", "v"],
        &["HGET", "str", "f"],
        &["HMGET", "str", "f", "g"],
        &["HEXISTS", "str", "f"],
        &["HSTRLEN", "str", "f"],
        &["HLEN", "str"],
        &["HDEL", "str", "f"],
        &["HINCRBY", "str", "f", "1"],
        &["HINCRBYFLOAT", "str", "f", "1"],
        &["HGETALL", "str"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "0"],
        &["HRANDFIELD", "str", "-5", "WITHVALUES"],
        &["HSCAN", "str", "0"],
        // WRONGTYPE comes before HSCAN's options are read.
        &["HSCAN", "str", "0", "COUNT", "0"],
    ];
    for args in commands {
        assert_eq!(r.cmd(args), WRONGTYPE, "{args:?}");
    }
    // Arguments parsed before the key is looked up fail first.
    check(
        &mut r,
        &[
            (&["HINCRBY", "str", "f", "x"], NOT_INT),
            (&["HINCRBYFLOAT", "str", "f", "nan"], NOT_FLOAT),
            (&["HRANDFIELD", "str", "abc"], NOT_INT),
            (&["HRANDFIELD", "str", "1", "foo"], SYNTAX),
            (&["HSCAN", "str", "abc"], "-ERR invalid cursor\r\n"),
            (&["HSET", "str", "f"], "-ERR wrong number of arguments for 'hset' command\r\n"),
            (&["GET", "str"], "$1\r\nx\r\n"),
        ],
    );
    r.cmd(&["HSET", "h", "f", "v"]);
    assert_eq!(r.cmd(&["GET", "h"]), WRONGTYPE);
    assert_eq!(r.cmd(&["TYPE", "h"]), "+hash\r\n");
}

#[test]
fn random_fields_follow_redis() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    check(
        &mut r,
        &[
            (&["HRANDFIELD", "h", "0"], "*0\r\n"),
            (&["HRANDFIELD", "h", "0", "WITHVALUES"], "*0\r\n"),
            (&["HRANDFIELD", "h", "3"], &array_of(&["a", "b", "c"])),
            (&["HRANDFIELD", "h", "9223372036854775807"], &array_of(&["a", "b", "c"])),
            (&["HRANDFIELD", "h", "4611686018427387903", "withvalues"], &array_of(&["a", "1", "b", "2", "c", "3"])),
            (&["HRANDFIELD", "h", "-0"], NOT_INT),
            (&["HRANDFIELD", "h", "abc"], NOT_INT),
            (&["HRANDFIELD", "h", "1", "WITHVALUE"], SYNTAX),
            (&["HRANDFIELD", "h", "1", "WITHVALUES", "x"], SYNTAX),
            (
                &["HRANDFIELD", "h", "-9223372036854775808"],
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            (&["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"], "-ERR value is out of range\r\n"),
            (&["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"], "-ERR value is out of range\r\n"),
            (&["HRANDFIELD", "nokey"], "$-1\r\n"),
            (&["HRANDFIELD", "nokey", "0"], "*0\r\n"),
            (&["HRANDFIELD", "nokey", "-5"], "*0\r\n"),
            (&["HRANDFIELD", "nokey", "2", "WITHVALUES"], "*0\r\n"),
            (&["HRANDFIELD", "nokey", "-4611686018427387904", "WITHVALUES"], "-ERR value is out of range\r\n"),
            (&["HRANDFIELD", "nokey", "abc"], NOT_INT),
        ],
    );
    let values: HashMap<&str, &str> = [("a", "1"), ("b", "2"), ("c", "3")].into();
    let mut c = s.conn();
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let f: String = redis::cmd("HRANDFIELD").arg("h").query(&mut c).unwrap();
        assert!(values.contains_key(f.as_str()), "{f}");
        seen.insert(f);
    }
    assert_eq!(seen.len(), 3, "every field comes out");
    // A positive count gives distinct fields, a negative one exactly that many, with repeats.
    let two: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(2).query(&mut c).unwrap();
    assert_eq!(two.iter().collect::<HashSet<_>>().len(), 2);
    let many: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(-50).query(&mut c).unwrap();
    assert_eq!(many.len(), 50);
    assert_eq!(many.iter().collect::<HashSet<_>>().len(), 3);
    let pairs: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(-7).arg("WITHVALUES").query(&mut c).unwrap();
    assert_eq!(pairs.len(), 14);
    for p in pairs.chunks(2) {
        assert_eq!(values[p[0].as_str()], p[1]);
    }
    // RESP3: WITHVALUES gives an array of [field, value] pairs.
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["HRANDFIELD", "h", "3", "WITHVALUES"]), {
        "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"
    });
    let one = r.cmd(&["HRANDFIELD", "h", "-1", "WITHVALUES"]);
    assert!(["a\r\n$1\r\n1", "b\r\n$1\r\n2", "c\r\n$1\r\n3"]
        .iter()
        .any(|p| one == format!("*1\r\n*2\r\n$1\r\n{p}\r\n")));
    assert_eq!(r.cmd(&["HRANDFIELD", "h", "0", "WITHVALUES"]), "*0\r\n");
}

#[test]
fn scan_returns_a_small_hash_at_once() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HSET", "h", "b", "2", "a", "1", "c", "3", "", "empty"]);
    // In insertion order, as Redis' listpack.
    let all = "*2\r\n$1\r\n0\r\n*8\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n$0\r\n\r\n$5\r\nempty\r\n";
    check(
        &mut r,
        &[
            // A hash Redis keeps as a listpack comes whole, cursor 0, whatever the cursor and COUNT.
            (&["HSCAN", "h", "0"], all),
            (&["HSCAN", "h", "0", "COUNT", "1"], all),
            (&["HSCAN", "h", "5"], all),
            (&["HSCAN", "h", "-1"], all),
            (&["HSCAN", "h", ""], all),
            (&["HSCAN", "h", "18446744073709551615"], all),
            (&["HSCAN", "h", "0", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            (&["HSCAN", "h", "0", "match", "*", "count", "1"], all),
            // `*` alone matches everything, but as a pattern it does not match the empty field.
            (&["HSCAN", "h", "0", "MATCH", "**"], &all.replace("*8", "*6").replace("$0\r\n\r\n$5\r\nempty\r\n", "")),
            (&["HSCAN", "h", "0", "MATCH", "zz", "MATCH", "[ab]"], {
                "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"
            }),
            (&["HSCAN", "h", "abc"], "-ERR invalid cursor\r\n"),
            (&["HSCAN", "h", "18446744073709551616"], "-ERR invalid cursor\r\n"),
            (&["HSCAN", "h", "0", "COUNT", "0"], SYNTAX),
            (&["HSCAN", "h", "0", "COUNT", "-1"], SYNTAX),
            (&["HSCAN", "h", "0", "COUNT", "abc"], NOT_INT),
            (&["HSCAN", "h", "0", "COUNT", "abc", "MATCH"], NOT_INT),
            (&["HSCAN", "h", "0", "MATCH"], SYNTAX),
            (&["HSCAN", "h", "0", "TYPE", "string"], SYNTAX),
            (&["HSCAN", "h", "0", "NOVALUES"], SYNTAX),
            // A missing key: an empty page, options not even read.
            (&["HSCAN", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
            (&["HSCAN", "nokey", "0", "FOO"], "*2\r\n$1\r\n0\r\n*0\r\n"),
            (&["HSCAN", "nokey", "abc"], "-ERR invalid cursor\r\n"),
        ],
    );
}

/// Follows an HSCAN from cursor 0 to the end; returns the pages' fields and values in order.
fn full_scan(c: &mut redis::Connection, key: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let (next, items): (String, Vec<String>) =
            redis::cmd("HSCAN").arg(key).arg(&cursor).arg(extra).query(c).expect("HSCAN");
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        if next == "0" {
            return out;
        }
        assert_ne!(next, cursor, "the cursor must move");
        cursor = next;
    }
    panic!("HSCAN did not end");
}

#[test]
fn scan_pages_through_a_big_hash_that_changes() {
    let s = Server::start();
    let mut c = s.conn();
    let fields: Vec<String> = (0..2000).map(|i| format!("f{i:05}")).collect();
    let mut args = Vec::new();
    for f in &fields {
        args.push(f.clone());
        args.push(format!("v{f}"));
    }
    let _: i64 = redis::cmd("HSET").arg("h").arg(&args).query(&mut c).unwrap();
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("h").query(&mut c).unwrap();
    assert_eq!(enc, "hashtable");
    // Each field exactly once, with its value; COUNT bounds a page.
    let (first, page): (String, Vec<String>) =
        redis::cmd("HSCAN").arg("h").arg(0).arg("COUNT").arg(7).query(&mut c).unwrap();
    assert_ne!(first, "0");
    assert_eq!(page.len(), 14);
    let all = full_scan(&mut c, "h", &["COUNT", "7"]);
    assert_eq!(all.len(), fields.len());
    let got: BTreeMap<String, String> = all.into_iter().collect();
    assert_eq!(got.len(), fields.len());
    assert!(got.iter().all(|(f, v)| *v == format!("v{f}")));
    // MATCH filters what a page examined.
    let matched = full_scan(&mut c, "h", &["MATCH", "f001*", "COUNT", "100"]);
    assert_eq!(matched.len(), 100);
    // Fields added and deleted between pages: every field present throughout still comes back.
    let mut c2 = s.conn();
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut round = 0;
    loop {
        let (next, items): (String, Vec<String>) =
            redis::cmd("HSCAN").arg("h").arg(&cursor).arg("COUNT").arg(50).query(&mut c).unwrap();
        seen.extend(items.chunks(2).map(|p| p[0].clone()));
        round += 1;
        let _: i64 = redis::cmd("HSET").arg("h").arg(format!("new{round}")).arg(1).query(&mut c2).unwrap();
        let _: i64 = redis::cmd("HDEL").arg("h").arg(&fields[(round * 37) % fields.len()]).query(&mut c2).unwrap();
        if next == "0" {
            break;
        }
        cursor = next;
    }
    let deleted: HashSet<&String> = (1..=round).map(|i| &fields[(i * 37) % fields.len()]).collect();
    for f in fields.iter().filter(|f| !deleted.contains(f)) {
        assert!(seen.contains(f), "{f} present throughout was not returned");
    }
    // A cursor names the key and the field it stopped at: on a recreated key it goes on after that field (what
    // was not there for the whole scan need not come back); an unknown cursor starts over.
    let (cur, page): (String, Vec<String>) =
        redis::cmd("HSCAN").arg("h").arg(0).arg("COUNT").arg(3).query(&mut c).unwrap();
    assert!(page[4].as_str() > "a" && page[4].as_str() < "only", "{page:?}");
    let _: i64 = redis::cmd("DEL").arg("h").query(&mut c).unwrap();
    let _: i64 = redis::cmd("HSET").arg("h").arg("a").arg(long(65)).arg("only").arg(1).query(&mut c).unwrap();
    let (next, items): (String, Vec<String>) = redis::cmd("HSCAN").arg("h").arg(&cur).query(&mut c).unwrap();
    assert_eq!((next.as_str(), items), ("0", vec!["only".to_string(), "1".to_string()]));
    let (next, items): (String, Vec<String>) = redis::cmd("HSCAN").arg("h").arg(12345).query(&mut c).unwrap();
    assert_eq!((next.as_str(), items), ("0", vec!["a".to_string(), long(65), "only".to_string(), "1".to_string()]));
}

/// SCAN, HSCAN, SSCAN and ZSCAN share one table of cursors: a cursor belongs to what it scans (the keyspace of
/// one database, or one key), and given to another scan it starts that one over.
#[test]
fn scan_cursors_belong_to_what_they_scan() {
    let s = Server::start();
    let mut r = s.raw();
    let fields: Vec<String> = (0..200).map(|i| format!("f{i:03}")).collect();
    // A long value makes the hashes hash tables, which are scanned in pages.
    let long_value = long(65);
    let mut hset = vec!["HSET", "h", "zz", &long_value];
    hset.extend(fields.iter().flat_map(|f| [f.as_str(), "v"]));
    assert_eq!(r.cmd(&hset), ":201\r\n");
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(fields.iter().map(String::as_str));
    assert_eq!(r.cmd(&sadd), ":200\r\n");
    hset[1] = "h2";
    assert_eq!(r.cmd(&hset), ":201\r\n");
    // (cursor, items) of one page.
    let page = |r: &mut Raw, args: &[&str]| {
        let items = bulks(&r.cmd(args));
        (items[0].clone(), items[1..].to_vec())
    };
    let (hc, first) = page(&mut r, &["HSCAN", "h", "0", "COUNT", "2"]);
    assert_eq!(first, ["f000", "v", "f001", "v"]);
    assert_eq!(page(&mut r, &["HSCAN", "h", &hc, "COUNT", "2"]).1, ["f002", "v", "f003", "v"]);
    // Another key, another type, the keyspace: each starts over.
    assert_eq!(page(&mut r, &["HSCAN", "h2", &hc, "COUNT", "2"]).1, first);
    assert_eq!(page(&mut r, &["SSCAN", "s", &hc, "COUNT", "2"]).1, ["f000", "f001"]);
    let keys = page(&mut r, &["SCAN", "0", "COUNT", "2"]);
    assert_eq!(page(&mut r, &["SCAN", &hc, "COUNT", "2"]).1, keys.1);
    assert_eq!(page(&mut r, &["HSCAN", "h", &keys.0, "COUNT", "2"]).1, first);
    // The same cursor in another database starts over too.
    r.cmd(&["SELECT", "1"]);
    assert_eq!(r.cmd(&["HSET", "h", "a", &long_value]), ":1\r\n");
    assert_eq!(page(&mut r, &["HSCAN", "h", &hc]).1, ["a", long_value.as_str()]);
}

#[test]
fn encoding_follows_redis() {
    let s = Server::start();
    let mut r = s.raw();
    let (at_limit, over) = (long(64), long(65));
    let hashtable = "$9\r\nhashtable\r\n";
    let listpack = "$8\r\nlistpack\r\n";
    check(
        &mut r,
        &[
            (&["HSET", "small", "f", &at_limit], ":1\r\n"),
            (&["OBJECT", "ENCODING", "small"], listpack),
            (&["HSET", "v", "f", &over], ":1\r\n"),
            (&["OBJECT", "ENCODING", "v"], hashtable),
            (&["HSET", "k", &over, "1"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "k"], hashtable),
            // Every argument counts, even one that only overwrites.
            (&["HSET", "o", "f", "1"], ":1\r\n"),
            (&["HSET", "o", "f", &over, "f", "2"], ":0\r\n"),
            (&["OBJECT", "ENCODING", "o"], hashtable),
            // HSETNX converts only when it sets.
            (&["HSET", "nx", "f", "1"], ":1\r\n"),
            (&["HSETNX", "nx", "f", &over], ":0\r\n"),
            (&["OBJECT", "ENCODING", "nx"], listpack),
            (&["HSETNX", "nx", "g", &over], ":1\r\n"),
            (&["OBJECT", "ENCODING", "nx"], hashtable),
            // The counters check the field and the new value.
            (&["HSET", "c", "a", "1"], ":1\r\n"),
            (&["HINCRBY", "c", &over, "1"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "c"], hashtable),
            (&["HSET", "c2", "a", "1"], ":1\r\n"),
            (&["HINCRBYFLOAT", "c2", "a", "1e70"], &{
                let v = "10000000000000000000222479489586148259025995410601157579323600873193472";
                format!("${}\r\n{v}\r\n", v.len())
            }),
            (&["OBJECT", "ENCODING", "c2"], hashtable),
            // Never converted back while the key lives.
            (&["HDEL", "v", "f"], ":1\r\n"),
            (&["EXISTS", "v"], ":0\r\n"),
            (&["HSET", "v", "f", "short"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "v"], listpack),
            (&["HSET", "o", "g", "1"], ":1\r\n"),
            (&["HDEL", "o", "f"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "o"], hashtable),
        ],
    );
    // Past hash-max-listpack-entries fields (512 by default).
    let mut args: Vec<String> = vec!["HSET".into(), "n".into()];
    for i in 0..512 {
        args.push(format!("f{i}"));
        args.push("v".into());
    }
    let args_ref: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    assert_eq!(r.cmd(&args_ref), ":512\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), listpack);
    assert_eq!(r.cmd(&["HSET", "n", "f0", "again"]), ":0\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), listpack);
    assert_eq!(r.cmd(&["HSET", "n", "one-more", "v"]), ":1\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "n"]), hashtable);
    // The limits are read from the configuration.
    check(
        &mut r,
        &[
            (&["CONFIG", "SET", "hash-max-listpack-entries", "2"], "+OK\r\n"),
            (&["CONFIG", "SET", "hash-max-listpack-value", "3"], "+OK\r\n"),
            (&["HSET", "t", "a", "1", "b", "2"], ":2\r\n"),
            (&["OBJECT", "ENCODING", "t"], listpack),
            (&["HSET", "t", "c", "3"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "t"], hashtable),
            (&["HSET", "u", "abcd", "1"], ":1\r\n"),
            (&["OBJECT", "ENCODING", "u"], hashtable),
        ],
    );
}

#[test]
fn writes_keep_the_ttl_and_empty_hashes_vanish() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["HSET", "h", "a", "1", "b", "2"], ":2\r\n"),
            (&["EXPIRE", "h", "1000"], ":1\r\n"),
            (&["HSET", "h", "c", "3"], ":1\r\n"),
            (&["HDEL", "h", "a"], ":1\r\n"),
            (&["HINCRBY", "h", "n", "1"], ":1\r\n"),
            (&["HINCRBYFLOAT", "h", "n", "1.5"], "$3\r\n2.5\r\n"),
            (&["HSETNX", "h", "d", "4"], ":1\r\n"),
            (&["HMSET", "h", "e", "5"], "+OK\r\n"),
            (&["TTL", "h"], ":1000\r\n"),
            (&["HDEL", "h", "b", "c", "n", "d", "e"], ":5\r\n"),
            (&["TTL", "h"], ":-2\r\n"),
            (&["HSET", "h", "a", "1"], ":1\r\n"),
            (&["TTL", "h"], ":-1\r\n"),
            (&["HSET", "short", "a", "1"], ":1\r\n"),
            (&["PEXPIRE", "short", "50"], ":1\r\n"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.cmd(&["HLEN", "short"]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "the hash did not expire");
        std::thread::sleep(Duration::from_millis(10));
    }
    check(
        &mut r,
        &[
            (&["HGET", "short", "a"], "$-1\r\n"),
            (&["HGETALL", "short"], "*0\r\n"),
            // A new hash under the expired key starts empty, without a TTL.
            (&["HSETNX", "short", "b", "2"], ":1\r\n"),
            (&["HGETALL", "short"], &array_of(&["b", "2"])),
            (&["TTL", "short"], ":-1\r\n"),
        ],
    );
}

#[test]
fn hashes_survive_a_restart() {
    let mut s = Server::start();
    {
        let mut r = s.raw();
        check(
            &mut r,
            &[
                (&["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n"),
                (&["HDEL", "h", "b"], ":1\r\n"),
                (&["HINCRBYFLOAT", "h", "a", "0.25"], "$4\r\n1.25\r\n"),
                (&["HSET", "big", "f", &long(100)], ":1\r\n"),
                (&["HSET", "ttl", "f", "v"], ":1\r\n"),
                (&["EXPIRE", "ttl", "1000"], ":1\r\n"),
                (&["HSET", "gone", "f", "v"], ":1\r\n"),
                (&["HDEL", "gone", "f"], ":1\r\n"),
            ],
        );
    }
    s.restart();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["HGETALL", "h"], &array_of(&["a", "1.25", "c", "3"])),
            (&["HLEN", "h"], ":2\r\n"),
            (&["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n"),
            (&["OBJECT", "ENCODING", "big"], "$9\r\nhashtable\r\n"),
            (&["HSTRLEN", "big", "f"], ":100\r\n"),
            (&["TTL", "ttl"], ":1000\r\n"),
            (&["EXISTS", "gone"], ":0\r\n"),
            (&["DBSIZE"], ":3\r\n"),
            (&["HSET", "h", "d", "4"], ":1\r\n"),
            (&["HKEYS", "h"], &array_of(&["a", "c", "d"])),
        ],
    );
}

#[test]
fn a_big_hash() {
    let s = Server::start();
    let mut c = s.conn();
    let n = 20_000usize;
    let model: BTreeMap<String, String> = (0..n).map(|i| (format!("field:{i}"), format!("value-{i}"))).collect();
    let entries: Vec<(&String, &String)> = model.iter().collect();
    for chunk in entries.chunks(5000) {
        let _: i64 = redis::cmd("HSET").arg("h").arg(chunk).query(&mut c).unwrap();
    }
    let len: usize = redis::cmd("HLEN").arg("h").query(&mut c).unwrap();
    assert_eq!(len, n);
    // Whole-hash replies, in byte order.
    let all: Vec<(String, String)> = redis::cmd("HGETALL").arg("h").query(&mut c).unwrap();
    assert_eq!(all, model.iter().map(|(f, v)| (f.clone(), v.clone())).collect::<Vec<_>>());
    let keys: Vec<String> = redis::cmd("HKEYS").arg("h").query(&mut c).unwrap();
    assert_eq!(keys, model.keys().cloned().collect::<Vec<_>>());
    let vals: Vec<String> = redis::cmd("HVALS").arg("h").query(&mut c).unwrap();
    assert_eq!(vals, model.values().cloned().collect::<Vec<_>>());
    let scanned = full_scan(&mut c, "h", &["COUNT", "1000"]);
    assert_eq!(scanned.into_iter().collect::<BTreeMap<_, _>>(), model);
    // Random fields, through every way of picking them: all valid, distinct when the count is positive.
    let check_pairs = |pairs: &[String]| {
        for p in pairs.chunks(2) {
            assert_eq!(model.get(&p[0]), Some(&p[1]), "{p:?}");
        }
    };
    let mut singles = HashSet::new();
    for _ in 0..50 {
        let f: String = redis::cmd("HRANDFIELD").arg("h").query(&mut c).unwrap();
        assert!(model.contains_key(&f));
        singles.insert(f);
    }
    assert!(singles.len() > 10, "picks spread over the hash: {singles:?}");
    for count in [5i64, 100, 8000, 19_999, 20_000, 30_000, -5, -30, -20_000] {
        let got: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(count).arg("WITHVALUES").query(&mut c).unwrap();
        let want = if count > 0 { count.min(n as i64) } else { -count } as usize;
        assert_eq!(got.len(), 2 * want, "count {count}");
        check_pairs(&got);
        if count > 0 {
            let distinct: HashSet<&String> = got.iter().step_by(2).collect();
            assert_eq!(distinct.len(), want, "count {count}");
        }
    }
    // Deleting most of it, then all of it.
    let doomed: Vec<&String> = model.keys().skip(10).collect();
    for chunk in doomed.chunks(5000) {
        let _: i64 = redis::cmd("HDEL").arg("h").arg(chunk).query(&mut c).unwrap();
    }
    let left: Vec<String> = redis::cmd("HKEYS").arg("h").query(&mut c).unwrap();
    assert_eq!(left, model.keys().take(10).cloned().collect::<Vec<_>>());
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("h").query(&mut c).unwrap();
    assert_eq!(enc, "hashtable");
    let rest: Vec<&String> = model.keys().take(10).collect();
    let deleted: i64 = redis::cmd("HDEL").arg("h").arg(rest).query(&mut c).unwrap();
    assert_eq!(deleted, 10);
    let exists: i64 = redis::cmd("EXISTS").arg("h").query(&mut c).unwrap();
    assert_eq!(exists, 0);
}

#[test]
fn random_picks_reach_every_kind_of_field() {
    let s = Server::start();
    let mut c = s.conn();
    // Dense binary fields (every byte value at a fork) next to long ones sharing a prefix, and the empty field.
    let mut fields: Vec<Vec<u8>> = (0u16..1500).map(|i| i.to_be_bytes().to_vec()).collect();
    fields.extend((0..200).map(|i| format!("shared-prefix-{i:04}").into_bytes()));
    fields.push(Vec::new());
    let all: HashSet<Vec<u8>> = fields.iter().cloned().collect();
    for chunk in fields.chunks(500) {
        let pairs: Vec<(&[u8], &str)> = chunk.iter().map(|f| (f.as_slice(), "v")).collect();
        let _: i64 = redis::cmd("HSET").arg("h").arg(pairs).query(&mut c).unwrap();
    }
    let mut seen = HashSet::new();
    for _ in 0..300 {
        let f: Vec<u8> = redis::cmd("HRANDFIELD").arg("h").query(&mut c).unwrap();
        assert!(all.contains(&f), "{f:?}");
        seen.insert(f);
    }
    assert!(seen.len() > 100, "{} distinct", seen.len());
    assert!(seen.iter().any(|f| f.starts_with(b"shared")) && seen.iter().any(|f| f.len() == 2));
    let picks: Vec<Vec<u8>> = redis::cmd("HRANDFIELD").arg("h").arg(-1).query(&mut c).unwrap();
    assert!(all.contains(&picks[0]));
    let distinct: Vec<Vec<u8>> = redis::cmd("HRANDFIELD").arg("h").arg(1).query(&mut c).unwrap();
    assert!(all.contains(&distinct[0]));
}
