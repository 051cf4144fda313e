//! String and bitmap families: every command, option and error reply, compared byte for byte with what
//! redis-server 7.0.15 answers to the same input.

use std::time::{Duration, Instant};

use crate::common::{Raw, Server};

/// Splits a command line on spaces; `''` is an empty argument and `'a b'` keeps its space.
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut started) = (false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    args.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            _ => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        args.push(cur);
    }
    args
}

/// Sends each `(command line, expected reply)` pair and asserts the exact reply bytes.
fn expect(r: &mut Raw, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        let args = split(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(r.cmd(&args), *want, "{line}");
    }
}

/// Sends a command with binary arguments and returns the exact reply.
fn cmd_bytes(r: &mut Raw, args: &[&[u8]]) -> String {
    r.send(&Raw::encode(args));
    r.read_reply()
}

/// A value's exact bytes (the raw reply text is lossy for non-UTF-8 values).
fn get_bytes(s: &Server, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(&mut s.conn()).expect("GET")
}

/// `(keyspace_hits, keyspace_misses)` from INFO stats.
fn hits_misses(r: &mut Raw) -> (u64, u64) {
    let info = r.cmd(&["INFO", "stats"]);
    let field = |name: &str| -> u64 {
        let line = info.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in INFO"));
        line[name.len() + 1..].trim().parse().expect("counter")
    };
    (field("keyspace_hits"), field("keyspace_misses"))
}

/// Parses an integer reply.
fn int(reply: &str) -> i64 {
    reply.trim_start_matches(':').trim_end().parse().unwrap_or_else(|_| panic!("not an integer reply: {reply:?}"))
}

#[test]
fn set_options_follow_redis_rules() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET k v EX 10 PX 10", "-ERR syntax error\r\n"),
            ("SET k v NX XX", "-ERR syntax error\r\n"),
            ("SET k v XX NX", "-ERR syntax error\r\n"),
            ("SET k v KEEPTTL EX 5", "-ERR syntax error\r\n"),
            ("SET k v EX 5 KEEPTTL", "-ERR syntax error\r\n"),
            ("SET k v PERSIST", "-ERR syntax error\r\n"),
            ("SET k v EX", "-ERR syntax error\r\n"),
            ("SET k v NX EX", "-ERR syntax error\r\n"),
            ("SET k v exat 10 pxat 10", "-ERR syntax error\r\n"),
            ("SET k v foo", "-ERR syntax error\r\n"),
            // The whole option list is parsed before the expiry value is checked.
            ("SET k v EX abc NX XX", "-ERR syntax error\r\n"),
            ("SET k v EX abc", "-ERR value is not an integer or out of range\r\n"),
            ("SET k v EX 0", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v PX -5", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v EX 9223372036854775", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v PX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n"),
            ("SET k v EXAT 9223372036854776", "-ERR invalid expire time in 'set' command\r\n"),
            ("EXISTS k", ":0\r\n"),
            // Repeating an option is allowed; the last value wins.
            ("SET k v EX 10 EX 20", "+OK\r\n"),
            ("TTL k", ":20\r\n"),
            ("SET k v NX NX", "$-1\r\n"),
            ("SET k v2 nx get", "$1\r\nv\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SET k v3 XX GET", "$1\r\nv\r\n"),
            ("SET nk v XX GET", "$-1\r\n"),
            ("SET nk v XX", "$-1\r\n"),
            ("EXISTS nk", ":0\r\n"),
            ("SET nk v NX GET", "$-1\r\n"),
            ("GET nk", "$1\r\nv\r\n"),
            ("SET k v4 GET GET", "$2\r\nv3\r\n"),
            ("SET", "-ERR wrong number of arguments for 'set' command\r\n"),
            ("SET k", "-ERR wrong number of arguments for 'set' command\r\n"),
            ("GET", "-ERR wrong number of arguments for 'get' command\r\n"),
        ],
    );
}

#[test]
fn set_expiry_variants() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET k v XX EX 100", "$-1\r\n"),
            ("SET k v EX 100", "+OK\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v2 KEEPTTL", "+OK\r\n"),
            ("TTL k", ":100\r\n"),
            ("SET k v3", "+OK\r\n"),
            ("TTL k", ":-1\r\n"),
            ("SET k v EXAT 99999999999", "+OK\r\n"),
            ("EXPIRETIME k", ":99999999999\r\n"),
            ("SET k v PXAT 99999999999999", "+OK\r\n"),
            ("PEXPIRETIME k", ":99999999999999\r\n"),
            // An absolute time already past: the key is set and expires at once.
            ("SET k v PXAT 1", "+OK\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET k v", "+OK\r\n"),
            ("SET k v2 EXAT 1 GET", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SETEX k 100 v", "+OK\r\n"),
            ("TTL k", ":100\r\n"),
            ("GET k", "$1\r\nv\r\n"),
            ("SETEX k 0 v", "-ERR invalid expire time in 'setex' command\r\n"),
            ("SETEX k -1 v", "-ERR invalid expire time in 'setex' command\r\n"),
            ("SETEX k abc v", "-ERR value is not an integer or out of range\r\n"),
            ("SETEX k 9223372036854775 v", "-ERR invalid expire time in 'setex' command\r\n"),
            ("PSETEX k 0 v", "-ERR invalid expire time in 'psetex' command\r\n"),
            ("PSETEX k 100000 v2", "+OK\r\n"),
            ("GET k", "$2\r\nv2\r\n"),
            ("SETNX k x", ":0\r\n"),
            ("SETNX k2 x", ":1\r\n"),
            ("GET k2", "$1\r\nx\r\n"),
            // GETSET replies with the old value and clears the TTL.
            ("SET g 1 EX 100", "+OK\r\n"),
            ("GETSET g 2", "$1\r\n1\r\n"),
            ("TTL g", ":-1\r\n"),
            ("GETSET nog 2", "$-1\r\n"),
            ("GET nog", "$1\r\n2\r\n"),
        ],
    );
    // A relative expiry really expires.
    expect(&mut r, &[("SET short v PX 50", "+OK\r\n"), ("PSETEX short2 50 v", "+OK\r\n")]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.cmd(&["GET", "short"]) != "$-1\r\n" || r.cmd(&["GET", "short2"]) != "$-1\r\n" {
        assert!(Instant::now() < deadline, "keys did not expire");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn getex_and_getdel() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GETEX missing", "$-1\r\n"),
            // A missing key answers nil before its options' values are checked.
            ("GETEX missing EX abc", "$-1\r\n"),
            ("GETEX missing FOO", "-ERR syntax error\r\n"),
            ("SET k v", "+OK\r\n"),
            ("GETEX k KEEPTTL", "-ERR syntax error\r\n"),
            ("GETEX k NX", "-ERR syntax error\r\n"),
            ("GETEX k GET", "-ERR syntax error\r\n"),
            ("GETEX k PERSIST EX 10", "-ERR syntax error\r\n"),
            ("GETEX k EX 10 PERSIST", "-ERR syntax error\r\n"),
            ("GETEX k EX", "-ERR syntax error\r\n"),
            ("GETEX k EX abc", "-ERR value is not an integer or out of range\r\n"),
            ("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n"),
            ("GETEX k EX 9223372036854775", "-ERR invalid expire time in 'getex' command\r\n"),
            ("GETEX k", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k EX 10 EX 20", "$1\r\nv\r\n"),
            ("TTL k", ":20\r\n"),
            ("GETEX k", "$1\r\nv\r\n"),
            ("TTL k", ":20\r\n"),
            ("GETEX k PX 100000", "$1\r\nv\r\n"),
            ("TTL k", ":100\r\n"),
            ("GETEX k EXAT 99999999999", "$1\r\nv\r\n"),
            ("EXPIRETIME k", ":99999999999\r\n"),
            ("GETEX k PXAT 99999999999000", "$1\r\nv\r\n"),
            ("EXPIRETIME k", ":99999999999\r\n"),
            ("GETEX k PERSIST", "$1\r\nv\r\n"),
            ("TTL k", ":-1\r\n"),
            ("GETEX k PERSIST PERSIST", "$1\r\nv\r\n"),
            // A time already past deletes the key after replying.
            ("GETEX k PXAT 1", "$1\r\nv\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("SET d 1", "+OK\r\n"),
            ("GETDEL d", "$1\r\n1\r\n"),
            ("GETDEL d", "$-1\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("GETDEL", "-ERR wrong number of arguments for 'getdel' command\r\n"),
        ],
    );
}

#[test]
fn counters() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("INCR c", ":1\r\n"),
            ("INCR c", ":2\r\n"),
            ("DECR c", ":1\r\n"),
            ("DECR c", ":0\r\n"),
            ("DECR c", ":-1\r\n"),
            ("INCRBY c 100", ":99\r\n"),
            ("INCRBY c -100", ":-1\r\n"),
            ("DECRBY c 5", ":-6\r\n"),
            ("DECRBY c -5", ":-1\r\n"),
            ("GET c", "$2\r\n-1\r\n"),
            ("DECRBY x -9223372036854775808", "-ERR decrement would overflow\r\n"),
            ("DECRBY x 9223372036854775807", ":-9223372036854775807\r\n"),
            ("DECRBY x 2", "-ERR increment or decrement would overflow\r\n"),
            ("INCRBY x abc", "-ERR value is not an integer or out of range\r\n"),
            ("INCRBY x 1.5", "-ERR value is not an integer or out of range\r\n"),
            ("INCRBY x 9223372036854775808", "-ERR value is not an integer or out of range\r\n"),
            ("SET n 9223372036854775807", "+OK\r\n"),
            ("INCR n", "-ERR increment or decrement would overflow\r\n"),
            ("INCRBY n 0", ":9223372036854775807\r\n"),
            ("SET n -9223372036854775808", "+OK\r\n"),
            ("DECR n", "-ERR increment or decrement would overflow\r\n"),
            ("INCRBY n 9223372036854775807", ":-1\r\n"),
            // Only strict integers count: no leading zeros, spaces, plus signs or fractions.
            ("SET n 007", "+OK\r\n"),
            ("INCR n", "-ERR value is not an integer or out of range\r\n"),
            ("SET n ' 1'", "+OK\r\n"),
            ("INCR n", "-ERR value is not an integer or out of range\r\n"),
            ("SET n +1", "+OK\r\n"),
            ("INCR n", "-ERR value is not an integer or out of range\r\n"),
            ("SET n 1.0", "+OK\r\n"),
            ("DECR n", "-ERR value is not an integer or out of range\r\n"),
            ("SET n ''", "+OK\r\n"),
            ("INCR n", "-ERR value is not an integer or out of range\r\n"),
            ("SET n 12345678901234567890", "+OK\r\n"),
            ("INCR n", "-ERR value is not an integer or out of range\r\n"),
            // Writes keep the TTL.
            ("SET t 10 EX 100", "+OK\r\n"),
            ("INCR t", ":11\r\n"),
            ("DECRBY t 2", ":9\r\n"),
            ("TTL t", ":100\r\n"),
            ("INCRBY", "-ERR wrong number of arguments for 'incrby' command\r\n"),
        ],
    );
}

#[test]
fn incrbyfloat_matches_long_double_arithmetic() {
    let s = Server::start();
    let mut r = s.raw();
    let bulk = |v: &str| format!("${}\r\n{v}\r\n", v.len());
    let cases: &[(&str, &str)] = &[
        ("SET f 10.5", "OK"),
        ("INCRBYFLOAT f 0.1", "10.6"),
        ("SET f 10.50", "OK"),
        ("INCRBYFLOAT f 5.0e3", "5010.5"),
        ("INCRBYFLOAT f2 0.1", "0.1"),
        ("INCRBYFLOAT f2 0.2", "0.3"),
        ("INCRBYFLOAT f2 -0.3", "0"),
        ("INCRBYFLOAT f3 1.1", "1.1"),
        ("INCRBYFLOAT f3 2.2", "3.3"),
        ("INCRBYFLOAT f3 1e20", "100000000000000000000"),
        ("INCRBYFLOAT f4 3.0000000000000000001", "3"),
        ("INCRBYFLOAT f4 1e-17", "3.00000000000000001"),
        ("INCRBYFLOAT f4 -3", "0.00000000000000001"),
        ("INCRBYFLOAT f5 -0.000000000000000001", "0"),
        ("INCRBYFLOAT f6 0x10", "16"),
        ("INCRBYFLOAT f6 0X1.8P1", "19"),
        ("INCRBYFLOAT f6 +.5", "19.5"),
        ("INCRBYFLOAT f6 5.", "24.5"),
        ("INCRBYFLOAT f6 1E+3", "1024.5"),
        ("INCRBYFLOAT f7 123456789012345678901234567890", "123456789012345678899921813504"),
        ("INCRBYFLOAT f7 0.5", "123456789012345678899921813504"),
        ("INCRBYFLOAT f8 -100000.000001", "-100000.00000099999999748"),
        ("SET i 5", "OK"),
        ("INCRBYFLOAT i 1.25", "6.25"),
        ("GET i", "6.25"),
    ];
    for (line, want) in cases {
        let args = split(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let want = if *want == "OK" { "+OK\r\n".to_string() } else { bulk(want) };
        assert_eq!(r.cmd(&args), want, "{line}");
    }
    // A result of thousands of digits is printed exactly (1e4000 is not exact in 64 bits of mantissa).
    let big = r.cmd(&["INCRBYFLOAT", "big", "1e4000"]);
    assert!(big.starts_with("$4000\r\n9999999999999999999965463873099623784932"), "{big}");
    assert!(big.ends_with("6648276349901340672\r\n"), "{big}");
    expect(
        &mut r,
        &[
            ("INCRBYFLOAT e abc", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e ''", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e ' 1'", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e '1 '", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e 1e", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e 0x", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e nan", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e 1e5000", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e 1e-5000", "-ERR value is not a valid float\r\n"),
            ("INCRBYFLOAT e inf", "-ERR increment would produce NaN or Infinity\r\n"),
            ("INCRBYFLOAT e -infinity", "-ERR increment would produce NaN or Infinity\r\n"),
        ],
    );
    // The largest values are accepted and printed digit by digit; one more step overflows.
    let huge = r.cmd(&["INCRBYFLOAT", "e", "1.18e4932"]);
    assert!(huge.starts_with("$4933\r\n118"), "{huge}");
    expect(
        &mut r,
        &[
            ("INCRBYFLOAT e 1.18e4932", "-ERR increment would produce NaN or Infinity\r\n"),
            ("SET s abc", "+OK\r\n"),
            ("INCRBYFLOAT s 1", "-ERR value is not a valid float\r\n"),
            ("SET t 1 EX 100", "+OK\r\n"),
            ("INCRBYFLOAT t 1", "$1\r\n2\r\n"),
            ("TTL t", ":100\r\n"),
        ],
    );
}

#[test]
fn ranges_append_and_lengths() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SET s 'Hello World'", "+OK\r\n"),
            ("GETRANGE s 0 4", "$5\r\nHello\r\n"),
            ("GETRANGE s -5 -1", "$5\r\nWorld\r\n"),
            ("GETRANGE s -100 2", "$3\r\nHel\r\n"),
            ("GETRANGE s 6 100", "$5\r\nWorld\r\n"),
            ("GETRANGE s 5 3", "$0\r\n\r\n"),
            ("GETRANGE s 11 20", "$0\r\n\r\n"),
            ("GETRANGE s -1 -5", "$0\r\n\r\n"),
            // Both negative and reversed is empty even though both clamp to 0.
            ("GETRANGE s -20 -30", "$0\r\n\r\n"),
            ("GETRANGE s -30 -20", "$1\r\nH\r\n"),
            ("GETRANGE s -9223372036854775808 9223372036854775807", "$11\r\nHello World\r\n"),
            ("GETRANGE s a 1", "-ERR value is not an integer or out of range\r\n"),
            ("GETRANGE missing 0 -1", "$0\r\n\r\n"),
            ("GETRANGE missing a 1", "-ERR value is not an integer or out of range\r\n"),
            ("SUBSTR s 0 4", "$5\r\nHello\r\n"),
            ("SETRANGE s 6 Redis", ":11\r\n"),
            ("GET s", "$11\r\nHello Redis\r\n"),
            ("SETRANGE s -1 x", "-ERR offset is out of range\r\n"),
            ("SETRANGE s abc x", "-ERR value is not an integer or out of range\r\n"),
            ("SETRANGE s 0 ''", ":11\r\n"),
            ("SETRANGE missing 5 ''", ":0\r\n"),
            ("EXISTS missing", ":0\r\n"),
            ("STRLEN s", ":11\r\n"),
            ("STRLEN missing", ":0\r\n"),
            ("APPEND a hello", ":5\r\n"),
            ("APPEND a ' world'", ":11\r\n"),
            ("GET a", "$11\r\nhello world\r\n"),
            ("APPEND b ''", ":0\r\n"),
            ("EXISTS b", ":1\r\n"),
            ("SET t v EX 100", "+OK\r\n"),
            ("APPEND t x", ":2\r\n"),
            ("SETRANGE t 5 y", ":6\r\n"),
            ("TTL t", ":100\r\n"),
        ],
    );
    assert_eq!(get_bytes(&s, "t").as_deref(), Some(&b"vx\0\0\0y"[..]));
    expect(&mut r, &[("SETRANGE nk 3 abc", ":6\r\n")]);
    assert_eq!(get_bytes(&s, "nk").as_deref(), Some(&b"\0\0\0abc"[..]));
}

#[test]
fn size_limits_follow_proto_max_bulk_len() {
    let s = Server::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut r = s.raw();
    let too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    let offset_err = "-ERR bit offset is not an integer or out of range\r\n";
    expect(
        &mut r,
        &[
            ("SETRANGE k 1048576 x", too_big),
            ("SETRANGE k 1048575 x", ":1048576\r\n"),
            ("APPEND k x", too_big),
            ("SETRANGE k 1048575 xy", too_big),
            ("STRLEN k", ":1048576\r\n"),
            ("SETBIT b 8388608 1", offset_err),
            ("GETBIT b 8388608", offset_err),
            ("SETBIT b 8388607 1", ":0\r\n"),
            ("STRLEN b", ":1048576\r\n"),
            ("BITFIELD b GET u8 8388608", offset_err),
            ("BITFIELD b GET u8 #1048576", offset_err),
            ("BITFIELD b GET u8 #1048575", "*1\r\n:1\r\n"),
        ],
    );
}

#[test]
fn mget_mset_msetnx() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("MSET a 1 b 2 a 3", "+OK\r\n"),
            ("MGET a b c a", "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n"),
            ("MSET a", "-ERR wrong number of arguments for 'mset' command\r\n"),
            ("MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"),
            ("MSETNX a 1 b", "-ERR wrong number of arguments for 'msetnx' command\r\n"),
            ("MSETNX a 1 z 2", ":0\r\n"),
            ("EXISTS z", ":0\r\n"),
            ("MSETNX y 1 z 2 y 3", ":1\r\n"),
            ("MGET y z", "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"),
            ("SET t v EX 100", "+OK\r\n"),
            ("MSET t v2", "+OK\r\n"),
            ("TTL t", ":-1\r\n"),
            ("DBSIZE", ":5\r\n"),
            ("MGET", "-ERR wrong number of arguments for 'mget' command\r\n"),
        ],
    );
}

#[test]
fn lcs_modes() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("MSET a ohmytext b mynewtext", "+OK\r\n"),
            ("LCS a b", "$6\r\nmytext\r\n"),
            ("LCS a b LEN", ":6\r\n"),
            (
                "LCS a b IDX",
                "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n\
                 :0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
            ),
            (
                "LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN",
                "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
            ),
            ("LCS a b MINMATCHLEN -5", "$6\r\nmytext\r\n"),
            ("LCS a b LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.\r\n"),
            ("LCS a b MINMATCHLEN", "-ERR syntax error\r\n"),
            ("LCS a b MINMATCHLEN x", "-ERR value is not an integer or out of range\r\n"),
            ("LCS a b FOO", "-ERR syntax error\r\n"),
            ("LCS a missing", "$0\r\n\r\n"),
            ("LCS missing missing IDX", "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"),
        ],
    );
    // The DP table is bounded by proto-max-bulk-len (12001² × 4 bytes > 512MB).
    let x = "x".repeat(12000);
    expect(&mut r, &[(&format!("SET big1 {x}"), "+OK\r\n"), (&format!("SET big2 {x}"), "+OK\r\n")]);
    assert_eq!(
        r.cmd(&["LCS", "big1", "big2", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}

#[test]
fn setbit_getbit_bitcount() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SETBIT b 7 1", ":0\r\n"),
            ("SETBIT b 7 1", ":1\r\n"),
            ("SETBIT b 7 0", ":1\r\n"),
            ("SETBIT b 100 1", ":0\r\n"),
            ("STRLEN b", ":13\r\n"),
            ("GETBIT b 100", ":1\r\n"),
            ("GETBIT b 101", ":0\r\n"),
            ("GETBIT b 99999", ":0\r\n"),
            ("GETBIT missing 0", ":0\r\n"),
            ("SETBIT b -1 1", "-ERR bit offset is not an integer or out of range\r\n"),
            ("SETBIT b 4294967296 1", "-ERR bit offset is not an integer or out of range\r\n"),
            ("SETBIT b x 1", "-ERR bit offset is not an integer or out of range\r\n"),
            ("SETBIT b 0 2", "-ERR bit is not an integer or out of range\r\n"),
            ("SETBIT b 0 x", "-ERR bit is not an integer or out of range\r\n"),
            ("GETBIT b 4294967296", "-ERR bit offset is not an integer or out of range\r\n"),
            // Writing a zero bit still creates and grows the value.
            ("SETBIT z 10 0", ":0\r\n"),
            ("STRLEN z", ":2\r\n"),
            ("SET t v EX 100", "+OK\r\n"),
            ("SETBIT t 0 1", ":0\r\n"),
            ("TTL t", ":100\r\n"),
            ("SET n 12", "+OK\r\n"),
            ("GETBIT n 2", ":1\r\n"),
            ("GETBIT n 3", ":1\r\n"),
            ("BITCOUNT n", ":6\r\n"),
            ("BITCOUNT missing", ":0\r\n"),
            // A missing key counts 0 whatever the other arguments are.
            ("BITCOUNT missing a b", ":0\r\n"),
            ("BITCOUNT n 1", "-ERR syntax error\r\n"),
            ("BITCOUNT n 0 -1 FOO", "-ERR syntax error\r\n"),
            ("BITCOUNT n -1 -5 FOO", ":0\r\n"),
            ("BITCOUNT n a 1", "-ERR value is not an integer or out of range\r\n"),
            ("BITCOUNT n 0 -1 BIT x", "-ERR syntax error\r\n"),
        ],
    );
    cmd_bytes(&mut r, &[b"SET", b"s", b"\xff\xf0\x00\x0f\x55\x80"]);
    expect(
        &mut r,
        &[
            ("BITCOUNT s", ":21\r\n"),
            ("BITCOUNT s 1 1", ":4\r\n"),
            ("BITCOUNT s -2 -1", ":5\r\n"),
            ("BITCOUNT s 0 -1 BYTE", ":21\r\n"),
            ("BITCOUNT s 4 11 BIT", ":8\r\n"),
            ("BITCOUNT s 5 5 bit", ":1\r\n"),
            ("BITCOUNT s -9 -1 BIT", ":2\r\n"),
            ("BITCOUNT s 100 200", ":0\r\n"),
        ],
    );
}

#[test]
fn bitpos_ranges() {
    let s = Server::start();
    let mut r = s.raw();
    cmd_bytes(&mut r, &[b"SET", b"s", b"\xff\xf0\x00"]);
    cmd_bytes(&mut r, &[b"SET", b"ones", b"\xff\xff"]);
    expect(
        &mut r,
        &[
            ("BITPOS s 0", ":12\r\n"),
            ("BITPOS s 1", ":0\r\n"),
            ("BITPOS s 1 2", ":-1\r\n"),
            ("BITPOS s 0 1", ":12\r\n"),
            ("BITPOS s 1 1 -1", ":8\r\n"),
            ("BITPOS s 0 0 0", ":-1\r\n"),
            ("BITPOS s 1 7 15 BIT", ":7\r\n"),
            ("BITPOS s 0 7 11 BIT", ":-1\r\n"),
            ("BITPOS s 0 7 12 bit", ":12\r\n"),
            ("BITPOS s 1 -12 -1 BIT", ":-1\r\n"),
            ("BITPOS s 1 -13 -1 BIT", ":11\r\n"),
            ("BITPOS s 1 -10 -20", ":0\r\n"),
            // Without an explicit end the value goes on with zero bits.
            ("BITPOS ones 0", ":16\r\n"),
            ("BITPOS ones 0 1", ":16\r\n"),
            ("BITPOS ones 0 0 -1", ":-1\r\n"),
            ("BITPOS ones 0 5", ":-1\r\n"),
            ("BITPOS missing 0", ":0\r\n"),
            ("BITPOS missing 1", ":-1\r\n"),
            ("BITPOS missing 1 abc", ":-1\r\n"),
            ("SET e ''", "+OK\r\n"),
            ("BITPOS e 0", ":-1\r\n"),
            ("BITPOS e 1", ":-1\r\n"),
            ("BITPOS s 2", "-ERR The bit argument must be 1 or 0.\r\n"),
            ("BITPOS missing 2", "-ERR The bit argument must be 1 or 0.\r\n"),
            ("BITPOS s x", "-ERR value is not an integer or out of range\r\n"),
            ("BITPOS s 1 a", "-ERR value is not an integer or out of range\r\n"),
            // The unit is read before the end index.
            ("BITPOS s 1 0 abc FOO", "-ERR syntax error\r\n"),
            ("BITPOS s 0 3 BIT", "-ERR value is not an integer or out of range\r\n"),
            ("BITPOS s 1 0 -1 BIT x", "-ERR syntax error\r\n"),
        ],
    );
}

#[test]
fn bitop_operations() {
    let s = Server::start();
    let mut r = s.raw();
    cmd_bytes(&mut r, &[b"SET", b"a", b"\xff\x0f"]);
    cmd_bytes(&mut r, &[b"SET", b"b", b"\x0f"]);
    expect(
        &mut r,
        &[
            ("BITOP foo d a", "-ERR syntax error\r\n"),
            ("BITOP NOT d a b", "-ERR BITOP NOT must be called with a single source key.\r\n"),
            ("BITOP", "-ERR wrong number of arguments for 'bitop' command\r\n"),
            ("SET d x EX 100", "+OK\r\n"),
            ("BITOP AND d a b", ":2\r\n"),
            ("TTL d", ":-1\r\n"),
        ],
    );
    assert_eq!(get_bytes(&s, "d").as_deref(), Some(&b"\x0f\x00"[..]));
    expect(&mut r, &[("BITOP or d a b", ":2\r\n")]);
    assert_eq!(get_bytes(&s, "d").as_deref(), Some(&b"\xff\x0f"[..]));
    expect(&mut r, &[("BITOP XOR d a b missing", ":2\r\n")]);
    assert_eq!(get_bytes(&s, "d").as_deref(), Some(&b"\xf0\x0f"[..]));
    expect(&mut r, &[("BITOP NOT d a", ":2\r\n")]);
    assert_eq!(get_bytes(&s, "d").as_deref(), Some(&b"\x00\xf0"[..]));
    expect(&mut r, &[("BITOP NOT a a", ":2\r\n")]);
    assert_eq!(get_bytes(&s, "a").as_deref(), Some(&b"\x00\xf0"[..]));
    // An empty result deletes the destination.
    expect(
        &mut r,
        &[
            ("BITOP AND d missing missing2", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("SET e ''", "+OK\r\n"),
            ("SET d x", "+OK\r\n"),
            ("BITOP NOT d e", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
        ],
    );
}

#[test]
fn bitfield_operations() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("BITFIELD k", "*0\r\n"),
            ("BITFIELD_RO k", "*0\r\n"),
            ("BITFIELD k GET u8", "-ERR syntax error\r\n"),
            ("BITFIELD k FOO", "-ERR syntax error\r\n"),
            ("BITFIELD k OVERFLOW", "-ERR syntax error\r\n"),
            ("BITFIELD k OVERFLOW foo GET u8 0", "-ERR Invalid OVERFLOW type specified\r\n"),
            ("BITFIELD k OVERFLOW sat", "*0\r\n"),
            (
                "BITFIELD k GET u64 0",
                "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
            ),
            (
                "BITFIELD k GET i65 0",
                "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
            ),
            ("BITFIELD k GET u8 -1", "-ERR bit offset is not an integer or out of range\r\n"),
            ("BITFIELD k GET u8 #-1", "-ERR bit offset is not an integer or out of range\r\n"),
            ("BITFIELD k SET u8 0 abc", "-ERR value is not an integer or out of range\r\n"),
            ("BITFIELD k GET i64 0 GET u63 1", "*2\r\n:0\r\n:0\r\n"),
            ("EXISTS k", ":0\r\n"),
            ("BITFIELD k SET u8 0 255 GET u8 0 GET i8 0 GET u4 #1", "*4\r\n:0\r\n:255\r\n:-1\r\n:15\r\n"),
            ("BITFIELD k INCRBY u8 0 10", "*1\r\n:9\r\n"),
            ("BITFIELD k OVERFLOW SAT INCRBY u8 0 1000 INCRBY i8 0 -1000", "*2\r\n:255\r\n:-128\r\n"),
            ("BITFIELD k OVERFLOW FAIL INCRBY u8 0 200 GET u8 0", "*2\r\n$-1\r\n:128\r\n"),
            ("BITFIELD k SET u8 #1 200 INCRBY u8 #1 100", "*2\r\n:0\r\n:44\r\n"),
            (
                "BITFIELD m SET i64 0 -1 GET u63 0 GET u63 1 GET i64 0",
                "*4\r\n:0\r\n:9223372036854775807\r\n:9223372036854775807\r\n:-1\r\n",
            ),
            ("BITFIELD m INCRBY i64 0 -9223372036854775808", "*1\r\n:9223372036854775807\r\n"),
            ("BITFIELD m OVERFLOW SAT INCRBY i64 0 1", "*1\r\n:9223372036854775807\r\n"),
            ("BITFIELD m OVERFLOW SAT SET u63 0 -1", "*1\r\n:4611686018427387903\r\n"),
            // The value grows to the furthest bit written even when FAIL refuses the write.
            ("BITFIELD new OVERFLOW FAIL INCRBY u2 100 5", "*1\r\n$-1\r\n"),
            ("STRLEN new", ":13\r\n"),
            ("BITFIELD new2 GET u8 100 SET u8 0 1 GET u8 100000", "*3\r\n:0\r\n:0\r\n:0\r\n"),
            ("STRLEN new2", ":1\r\n"),
            ("SET t v EX 100", "+OK\r\n"),
            ("BITFIELD t SET u8 0 1", "*1\r\n:118\r\n"),
            ("TTL t", ":100\r\n"),
            ("BITFIELD_RO k SET u8 0 1", "-ERR BITFIELD_RO only supports the GET subcommand\r\n"),
            (
                "BITFIELD_RO k SET x8 0 1",
                "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n",
            ),
            ("BITFIELD_RO k GET u8 0 GET i4 4", "*2\r\n:128\r\n:0\r\n"),
        ],
    );
}

#[test]
fn resp3_nulls_and_maps() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HELLO", "3"]);
    expect(
        &mut r,
        &[
            ("GET missing", "_\r\n"),
            ("SET k v NX", "+OK\r\n"),
            ("SET k v NX", "_\r\n"),
            ("SET nk v XX GET", "_\r\n"),
            ("GETEX missing", "_\r\n"),
            ("GETDEL missing", "_\r\n"),
            ("MGET k missing", "*2\r\n$1\r\nv\r\n_\r\n"),
            ("MSET a ohmytext b mynewtext", "+OK\r\n"),
            (
                "LCS a b IDX WITHMATCHLEN MINMATCHLEN 3",
                "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
            ),
            ("BITFIELD bf OVERFLOW FAIL INCRBY u2 0 5 GET u2 0", "*2\r\n_\r\n:0\r\n"),
            // INCRBYFLOAT replies with a bulk string in both protocols, as Redis does.
            ("INCRBYFLOAT f 1.5", "$3\r\n1.5\r\n"),
        ],
    );
}

#[test]
fn keyspace_hits_and_misses_count_reads_only() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("SET s hello", "+OK\r\n"), ("CONFIG RESETSTAT", "+OK\r\n")]);
    for line in [
        "GET s",
        "GET missing",
        "MGET s missing",
        "GETRANGE s 0 1",
        "STRLEN missing",
        "GETEX s",
        "GETSET nb 2",
        "SET s hello GET",
        "SET s3 hello",
        "INCR c",
        "APPEND s x",
        "LCS s missing",
        "GETBIT s 0",
        "BITCOUNT missing",
        "BITPOS s 1",
        "BITOP AND d s missing",
        "BITFIELD s GET u8 0",
        "BITFIELD s SET u8 0 1",
        "SETBIT s 0 1",
        "INCRBYFLOAT f 1",
    ] {
        let args = split(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        r.cmd(&args);
    }
    // Numbers from redis-server 7.0.15 for the same sequence.
    assert_eq!(hits_misses(&mut r), (10, 7));
}

#[test]
fn concurrent_updates_are_atomic() {
    let s = Server::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let port = s.port;
            std::thread::spawn(move || {
                let mut r = Raw::connect(port);
                for i in 0..200 {
                    assert!(r.cmd(&["INCR", "n"]).starts_with(':'));
                    assert!(r.cmd(&["INCRBYFLOAT", "f", "0.5"]).starts_with('$'));
                    assert!(r.cmd(&["APPEND", "a", "x"]).starts_with(':'));
                    assert!(r.cmd(&["SETBIT", "b", &(i * 4).to_string(), "1"]).starts_with(':'));
                    assert!(r.cmd(&["BITFIELD", "bf", "INCRBY", "u32", "0", "1"]).starts_with('*'));
                    assert!(r.cmd(&["MSET", "m1", &i.to_string(), "m2", &i.to_string()]).starts_with('+'));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GET n", "$3\r\n800\r\n"),
            ("GET f", "$3\r\n400\r\n"),
            ("STRLEN a", ":800\r\n"),
            ("BITCOUNT b", ":200\r\n"),
            ("BITFIELD bf GET u32 0", "*1\r\n:800\r\n"),
        ],
    );
    let m = r.cmd(&["MGET", "m1", "m2"]);
    let lines: Vec<&str> = m.split("\r\n").collect();
    assert_eq!(lines[2], lines[4], "MSET wrote its keys together: {m}");
    assert_eq!(int(&r.cmd(&["DBSIZE"])), 7);
}
