//! End-to-end tests of the sets family and of SORT/SORT_RO: every command, option and error reply, compared byte
//! for byte with what redis-server 7.0.15 answers to the same input (RESP2 and, where the type differs, RESP3).
//! Where Redis' order is its hash table's, replies are compared as sorted lists of members.

use std::collections::BTreeSet;

use crate::common::{bulks, expect, int, Raw, Server, WRONGTYPE};

/// The bulk strings of a reply as a sorted list.
fn sorted(reply: &str) -> Vec<String> {
    let mut v = bulks(reply);
    v.sort();
    v
}

/// The cursor and members of an SSCAN page.
fn scan_page(reply: &str) -> (String, Vec<String>) {
    let items = bulks(reply);
    (items[0].clone(), items[1..].to_vec())
}

#[test]
fn sadd_srem_and_membership() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SADD s 10 7 3", ":3\r\n"),
            // An intset iterates in numeric order, and so do the replies.
            ("SMEMBERS s", "*3\r\n$1\r\n3\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SADD s 3 3 4", ":1\r\n"),
            ("SCARD s", ":4\r\n"),
            ("SISMEMBER s 3", ":1\r\n"),
            ("SISMEMBER s 99", ":0\r\n"),
            ("SISMEMBER nokey 1", ":0\r\n"),
            ("SMISMEMBER s 3 99 10", "*3\r\n:1\r\n:0\r\n:1\r\n"),
            ("SMISMEMBER nokey 1 2", "*2\r\n:0\r\n:0\r\n"),
            ("SCARD nokey", ":0\r\n"),
            ("SMEMBERS nokey", "*0\r\n"),
            ("OBJECT ENCODING s", "$6\r\nintset\r\n"),
            ("SREM s 3 3 99", ":1\r\n"),
            ("SREM nokey a", ":0\r\n"),
            ("SMEMBERS s", "*3\r\n$1\r\n4\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SREM s 4 7 10", ":3\r\n"),
            // An emptied set is gone.
            ("EXISTS s", ":0\r\n"),
            ("SADD e ''", ":1\r\n"),
            ("SISMEMBER e ''", ":1\r\n"),
            ("SADD", "-ERR wrong number of arguments for 'sadd' command\r\n"),
            ("SADD k", "-ERR wrong number of arguments for 'sadd' command\r\n"),
            ("SREM k", "-ERR wrong number of arguments for 'srem' command\r\n"),
            ("SISMEMBER a", "-ERR wrong number of arguments for 'sismember' command\r\n"),
            ("SMISMEMBER a", "-ERR wrong number of arguments for 'smismember' command\r\n"),
            ("SMOVE a b", "-ERR wrong number of arguments for 'smove' command\r\n"),
            ("SINTER", "-ERR wrong number of arguments for 'sinter' command\r\n"),
            ("SINTERCARD 1", "-ERR wrong number of arguments for 'sintercard' command\r\n"),
            ("SSCAN s", "-ERR wrong number of arguments for 'sscan' command\r\n"),
            ("SDIFFSTORE d", "-ERR wrong number of arguments for 'sdiffstore' command\r\n"),
        ],
    );
    // Encodings follow Redis' conversions: any non-integer member, or too many members, and never back.
    expect(
        &mut r,
        &[
            ("SADD h 1 x", ":2\r\n"),
            ("OBJECT ENCODING h", "$9\r\nhashtable\r\n"),
            ("SREM h x", ":1\r\n"),
            ("OBJECT ENCODING h", "$9\r\nhashtable\r\n"),
            ("SADD m1 -0", ":1\r\n"),
            ("OBJECT ENCODING m1", "$9\r\nhashtable\r\n"),
            ("SADD m2 01", ":1\r\n"),
            ("OBJECT ENCODING m2", "$9\r\nhashtable\r\n"),
            ("SADD m3 9223372036854775808", ":1\r\n"),
            ("OBJECT ENCODING m3", "$9\r\nhashtable\r\n"),
            ("SADD m4 9223372036854775807 -9223372036854775808", ":2\r\n"),
            ("OBJECT ENCODING m4", "$6\r\nintset\r\n"),
            ("SMEMBERS m4", "*2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"),
            ("CONFIG SET set-max-intset-entries 3", "+OK\r\n"),
            ("SADD c 1 2 3", ":3\r\n"),
            ("OBJECT ENCODING c", "$6\r\nintset\r\n"),
            ("SADD c 4", ":1\r\n"),
            ("OBJECT ENCODING c", "$9\r\nhashtable\r\n"),
            ("SADD d 1 2", ":2\r\n"),
            ("CONFIG SET set-max-intset-entries 1", "+OK\r\n"),
            // Only a successful add checks the size.
            ("SADD d 1", ":0\r\n"),
            ("OBJECT ENCODING d", "$6\r\nintset\r\n"),
            ("SADD d 3", ":1\r\n"),
            ("OBJECT ENCODING d", "$9\r\nhashtable\r\n"),
            ("CONFIG SET set-max-intset-entries 512", "+OK\r\n"),
        ],
    );
    // Binary members are kept exactly.
    r.send(&Raw::encode(&[b"SADD", b"bin", b"a\x00b", b"\xff\r\n"]));
    assert_eq!(r.read_reply(), ":2\r\n");
    r.send(&Raw::encode(&[b"SISMEMBER", b"bin", b"a\x00b"]));
    assert_eq!(r.read_reply(), ":1\r\n");
    r.send(&Raw::encode(&[b"SISMEMBER", b"bin", b"a"]));
    assert_eq!(r.read_reply(), ":0\r\n");
}

#[test]
fn every_command_rejects_other_types() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("SET str v", "+OK\r\n"), ("HSET hash f v", ":1\r\n"), ("SADD s 1", ":1\r\n")]);
    let wt = WRONGTYPE;
    expect(
        &mut r,
        &[
            ("SADD str a", wt),
            ("SREM str a", wt),
            ("SCARD str", wt),
            ("SISMEMBER str a", wt),
            ("SMISMEMBER str a", wt),
            ("SMEMBERS hash", wt),
            ("SMOVE str s a", wt),
            ("SMOVE s str 1", wt),
            // Even when the member is not there.
            ("SMOVE s str 99", wt),
            ("SPOP str", wt),
            ("SPOP str 1", wt),
            ("SRANDMEMBER str", wt),
            ("SRANDMEMBER str 1", wt),
            ("SSCAN str 0", wt),
            ("SSCAN str 0 COUNT 0", wt),
            ("SINTER s str", wt),
            // Every key's type is checked before a missing key makes the intersection empty.
            ("SINTER nokey str", wt),
            ("SUNION nokey str", wt),
            ("SDIFF nokey str", wt),
            ("SINTERCARD 2 nokey str", wt),
            ("SINTERSTORE d nokey str", wt),
            ("SUNIONSTORE d s hash", wt),
            ("SDIFFSTORE d s str", wt),
            ("SORT str", wt),
            ("SORT_RO hash", wt),
            // Errors of the arguments come first.
            ("SRANDMEMBER str abc", "-ERR value is not an integer or out of range\r\n"),
            ("SPOP str -1", "-ERR value is out of range, must be positive\r\n"),
            ("SSCAN str abc", "-ERR invalid cursor\r\n"),
            ("SORT str LIMIT a b", "-ERR value is not an integer or out of range\r\n"),
            // A missing source answers 0 whatever the destination holds.
            ("SMOVE nokey str 1", ":0\r\n"),
            ("GET str", "$1\r\nv\r\n"),
        ],
    );
}

#[test]
fn set_algebra_and_store() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SADD s 10 7 3", ":3\r\n"),
            ("SADD t a b 3", ":3\r\n"),
            ("SINTER s t", "*1\r\n$1\r\n3\r\n"),
            ("SINTER nokey s", "*0\r\n"),
            ("SINTER s nokey", "*0\r\n"),
            ("SUNION s nokey", "*3\r\n$1\r\n3\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SDIFF s t", "*2\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SDIFF nokey s", "*0\r\n"),
            ("SDIFF s nokey", "*3\r\n$1\r\n3\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SDIFF s s", "*0\r\n"),
        ],
    );
    assert_eq!(sorted(&r.cmd(&["SUNION", "s", "t"])), ["10", "3", "7", "a", "b"]);
    assert_eq!(sorted(&r.cmd(&["SDIFF", "t", "s"])), ["a", "b"]);
    expect(
        &mut r,
        &[
            // A destination of any type is replaced; the result object's encoding is decided from scratch.
            ("SET d x EX 100", "+OK\r\n"),
            ("SINTERSTORE d s t", ":1\r\n"),
            ("TYPE d", "+set\r\n"),
            ("TTL d", ":-1\r\n"),
            ("OBJECT ENCODING d", "$6\r\nintset\r\n"),
            ("SUNIONSTORE d s t", ":5\r\n"),
            ("OBJECT ENCODING d", "$9\r\nhashtable\r\n"),
            ("SDIFFSTORE d t s", ":2\r\n"),
            ("OBJECT ENCODING d", "$9\r\nhashtable\r\n"),
            ("SUNIONSTORE d s", ":3\r\n"),
            ("OBJECT ENCODING d", "$6\r\nintset\r\n"),
            // An empty result deletes the destination.
            ("SDIFFSTORE d nokey", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("SET d x", "+OK\r\n"),
            ("SINTERSTORE d s nokey", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            ("SET d x", "+OK\r\n"),
            ("SUNIONSTORE d nokey", ":0\r\n"),
            ("EXISTS d", ":0\r\n"),
            // The destination may be one of the sources.
            ("SADD a 1 2 3", ":3\r\n"),
            ("EXPIRE a 100", ":1\r\n"),
            ("SINTERSTORE a a s", ":1\r\n"),
            ("SMEMBERS a", "*1\r\n$1\r\n3\r\n"),
            ("TTL a", ":-1\r\n"),
            ("SUNIONSTORE t t s", ":5\r\n"),
            ("SCARD t", ":5\r\n"),
            ("SDIFFSTORE t t", ":5\r\n"),
            ("SDIFFSTORE t nokey t", ":0\r\n"),
            ("EXISTS t", ":0\r\n"),
            // SDIFF's second algorithm adds the first set whole, so a member removed later still made the
            // result a hash table (as Redis reports it).
            ("SADD e1 1 x 2 3 4 5", ":6\r\n"),
            ("SADD e2 x", ":1\r\n"),
            ("SADD e3 9", ":1\r\n"),
            ("SDIFFSTORE ed e1 e2 e3", ":5\r\n"),
            ("OBJECT ENCODING ed", "$9\r\nhashtable\r\n"),
            ("SDIFFSTORE ed e1 e2", ":5\r\n"),
            ("OBJECT ENCODING ed", "$6\r\nintset\r\n"),
            ("SMEMBERS ed", "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"),
        ],
    );
}

#[test]
fn sintercard_and_smove() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SADD s 1 2 3", ":3\r\n"),
            ("SADD t 2 3 4", ":3\r\n"),
            ("SET str v", "+OK\r\n"),
            ("SINTERCARD 0 s", "-ERR numkeys should be greater than 0\r\n"),
            ("SINTERCARD -1 s", "-ERR numkeys should be greater than 0\r\n"),
            ("SINTERCARD abc s", "-ERR numkeys should be greater than 0\r\n"),
            ("SINTERCARD 2 s", "-ERR Number of keys can't be greater than number of args\r\n"),
            ("SINTERCARD 9999999999999 s", "-ERR Number of keys can't be greater than number of args\r\n"),
            ("SINTERCARD 1 s t", "-ERR syntax error\r\n"),
            ("SINTERCARD 1 s LIMIT", "-ERR syntax error\r\n"),
            ("SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative\r\n"),
            ("SINTERCARD 1 s LIMIT abc", "-ERR LIMIT can't be negative\r\n"),
            ("SINTERCARD 1 s LIMIT 1 extra", "-ERR syntax error\r\n"),
            // Options are parsed before the keys are read.
            ("SINTERCARD 1 str foo 1", "-ERR syntax error\r\n"),
            ("SINTERCARD 1 s limit 0", ":3\r\n"),
            ("SINTERCARD 1 s LIMIT 2", ":2\r\n"),
            ("SINTERCARD 2 s t", ":2\r\n"),
            ("SINTERCARD 2 s s LIMIT 1 LIMIT 5", ":3\r\n"),
            ("SINTERCARD 2 s nokey", ":0\r\n"),
            ("SINTERCARD 2 s t LIMIT 9223372036854775807", ":2\r\n"),
        ],
    );
    expect(
        &mut r,
        &[
            ("SMOVE nokey s 1", ":0\r\n"),
            ("SMOVE s s 1", ":1\r\n"),
            ("SMOVE s s 99", ":0\r\n"),
            ("SMOVE s t 99", ":0\r\n"),
            // Already in the destination: still moved out of the source.
            ("SMOVE s t 2", ":1\r\n"),
            ("SMEMBERS s", "*2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
            ("SMEMBERS t", "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"),
            ("SMOVE s new 1", ":1\r\n"),
            ("OBJECT ENCODING new", "$6\r\nintset\r\n"),
            ("SADD w x", ":1\r\n"),
            ("SMOVE w new2 x", ":1\r\n"),
            ("OBJECT ENCODING new2", "$9\r\nhashtable\r\n"),
            ("EXISTS w", ":0\r\n"),
            ("SADD w y", ":1\r\n"),
            ("SMOVE w t y", ":1\r\n"),
            ("OBJECT ENCODING t", "$9\r\nhashtable\r\n"),
            ("EXPIRE t 100", ":1\r\n"),
            ("SMOVE s t 3", ":1\r\n"),
            ("TTL t", ":100\r\n"),
            ("EXISTS s", ":0\r\n"),
        ],
    );
}

#[test]
fn spop_and_srandmember() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SADD s 1 2 3", ":3\r\n"),
            ("SPOP s -1", "-ERR value is out of range, must be positive\r\n"),
            ("SPOP s abc", "-ERR value is out of range, must be positive\r\n"),
            ("SPOP nokey -1", "-ERR value is out of range, must be positive\r\n"),
            ("SPOP s 1 2", "-ERR syntax error\r\n"),
            ("SPOP s abc 2", "-ERR syntax error\r\n"),
            ("SPOP nokey", "$-1\r\n"),
            ("SPOP nokey 0", "*0\r\n"),
            ("SPOP nokey 5", "*0\r\n"),
            ("SPOP s 0", "*0\r\n"),
            ("SRANDMEMBER s abc", "-ERR value is not an integer or out of range\r\n"),
            ("SRANDMEMBER s 1 2", "-ERR syntax error\r\n"),
            ("SRANDMEMBER nokey abc", "-ERR value is not an integer or out of range\r\n"),
            (
                "SRANDMEMBER nokey -9223372036854775808",
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
            ),
            ("SRANDMEMBER nokey -9223372036854775807", "*0\r\n"),
            ("SRANDMEMBER nokey", "$-1\r\n"),
            ("SRANDMEMBER nokey 5", "*0\r\n"),
            ("SRANDMEMBER s 0", "*0\r\n"),
            // A count covering the set returns it whole, in the order of a set built from it.
            ("SRANDMEMBER s 10", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("SRANDMEMBER s 3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("SPOP s 9223372036854775807", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("EXISTS s", ":0\r\n"),
            ("SADD one x", ":1\r\n"),
            ("SRANDMEMBER one", "$1\r\nx\r\n"),
            ("SRANDMEMBER one -3", "*3\r\n$1\r\nx\r\n$1\r\nx\r\n$1\r\nx\r\n"),
            ("SPOP one", "$1\r\nx\r\n"),
            ("EXISTS one", ":0\r\n"),
        ],
    );
    // SRANDMEMBER huge negative counts would build a reply of 2^63 elements; it is refused instead.
    r.cmd(&["SADD", "s", "a"]);
    assert_eq!(r.cmd(&["SRANDMEMBER", "s", "-9223372036854775807"]), "-ERR value is out of range\r\n");
    // Random picks are members; distinct ones are distinct.
    let members: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "r"];
    sadd.extend(members.iter().map(String::as_str));
    assert_eq!(r.cmd(&sadd), ":50\r\n");
    let all: BTreeSet<String> = members.iter().cloned().collect();
    for count in ["1", "10", "40", "49"] {
        let got = bulks(&r.cmd(&["SRANDMEMBER", "r", count]));
        let distinct: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!((got.len(), distinct.len()), (count.parse().unwrap(), got.len()));
        assert!(distinct.is_subset(&all));
    }
    let repeated = bulks(&r.cmd(&["SRANDMEMBER", "r", "-200"]));
    assert_eq!(repeated.len(), 200);
    assert!(repeated.iter().all(|m| all.contains(m)));
    assert!(all.contains(&bulks(&r.cmd(&["SRANDMEMBER", "r"]))[0]));
    // Popped members leave the set.
    let mut left = all.clone();
    for count in ["5", "30"] {
        for m in bulks(&r.cmd(&["SPOP", "r", count])) {
            assert!(left.remove(&m), "{m} popped twice or never there");
        }
    }
    let one = bulks(&r.cmd(&["SPOP", "r"]));
    assert!(left.remove(&one[0]));
    assert_eq!(sorted(&r.cmd(&["SMEMBERS", "r"])), left.iter().cloned().collect::<Vec<_>>());
    assert_eq!(int(&r.cmd(&["SCARD", "r"])), 14);
    // Popping all but a few rebuilds the set, whose encoding then follows what is left.
    for _ in 0..20 {
        r.cmd(&["DEL", "p"]);
        r.cmd(&["SADD", "p", "1", "2", "3", "4", "5", "x"]);
        r.cmd(&["SPOP", "p", "5"]);
        let left = bulks(&r.cmd(&["SMEMBERS", "p"]));
        let want = if left[0] == "x" { "$9\r\nhashtable\r\n" } else { "$6\r\nintset\r\n" };
        assert_eq!(r.cmd(&["OBJECT", "ENCODING", "p"]), want);
    }
}

#[test]
fn resp3_reply_types() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HELLO", "3"]);
    expect(
        &mut r,
        &[
            ("SADD s 1 2", ":2\r\n"),
            ("SADD t 2", ":1\r\n"),
            ("SMEMBERS s", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SMEMBERS nokey", "~0\r\n"),
            ("SINTER s t", "~1\r\n$1\r\n2\r\n"),
            ("SINTER s nokey", "~0\r\n"),
            ("SUNION s t", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SDIFF s t", "~1\r\n$1\r\n1\r\n"),
            ("SMISMEMBER s 1 9", "*2\r\n:1\r\n:0\r\n"),
            ("SSCAN s 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SRANDMEMBER s 5", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SRANDMEMBER s 0", "*0\r\n"),
            ("SRANDMEMBER nokey 1", "*0\r\n"),
            ("SRANDMEMBER nokey", "_\r\n"),
            // SPOP with a count replies with a set, SRANDMEMBER with an array.
            ("SPOP nokey 1", "~0\r\n"),
            ("SPOP s 0", "~0\r\n"),
            ("SPOP t 1", "~1\r\n$1\r\n2\r\n"),
            ("SPOP nokey", "_\r\n"),
            ("SPOP s 5", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("RPUSH l b a", ":2\r\n"),
            ("SORT l ALPHA GET # GET nosuch*", "*4\r\n$1\r\na\r\n_\r\n$1\r\nb\r\n_\r\n"),
        ],
    );
}

#[test]
fn sscan_pages_without_skipping() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("SADD sc 1 2 3 10", ":4\r\n"),
            ("SSCAN sc 0 COUNT 0", "-ERR syntax error\r\n"),
            ("SSCAN sc 0 COUNT -1", "-ERR syntax error\r\n"),
            ("SSCAN sc 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"),
            ("SSCAN sc 0 COUNT 1 COUNT 0", "-ERR syntax error\r\n"),
            ("SSCAN sc abc", "-ERR invalid cursor\r\n"),
            ("SSCAN nokey abc", "-ERR invalid cursor\r\n"),
            ("SSCAN sc 18446744073709551616", "-ERR invalid cursor\r\n"),
            ("SSCAN sc 0 MATCH", "-ERR syntax error\r\n"),
            ("SSCAN sc 0 TYPE string", "-ERR syntax error\r\n"),
            ("SSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            // A missing key answers before the options are looked at.
            ("SSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"),
            // An intset comes whole in one reply, whatever the cursor and COUNT.
            ("SSCAN sc 0 MATCH 1*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$2\r\n10\r\n"),
            ("SSCAN sc 5", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
            ("SSCAN sc -1 COUNT 1", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
        ],
    );
    // A hash-table set pages by COUNT; MATCH filters what was examined.
    let members: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    let mut sadd = vec!["SADD", "big"];
    sadd.extend(members.iter().map(String::as_str));
    assert_eq!(r.cmd(&sadd), ":300\r\n");
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (next, items) = scan_page(&r.cmd(&["SSCAN", "big", &cursor, "COUNT", "7"]));
        assert!(items.len() <= 7);
        seen.extend(items);
        pages += 1;
        if next == "0" {
            break;
        }
        cursor = next;
        // Cursors work from any connection.
        r = s.raw();
    }
    assert_eq!(seen, members);
    assert_eq!(pages, 43);
    let (next, items) = scan_page(&r.cmd(&["SSCAN", "big", "0", "MATCH", "m1*", "COUNT", "1000"]));
    assert_eq!((next.as_str(), items.len()), ("0", 100));
    // Members present from start to end are returned while others come and go; the scan ends.
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    let mut step = 0;
    loop {
        let (next, items) = scan_page(&r.cmd(&["SSCAN", "big", &cursor]));
        seen.extend(items);
        step += 1;
        r.cmd(&["SREM", "big", &format!("m{:03}", 299 - step)]);
        r.cmd(&["SADD", "big", &format!("a{step}"), &format!("z{step}")]);
        if next == "0" {
            break;
        }
        cursor = next;
        assert!(step < 100, "the scan does not end");
    }
    for m in &members[..299 - step] {
        assert!(seen.contains(m), "{m} skipped");
    }
    // An unknown cursor starts over.
    let (_, items) = scan_page(&r.cmd(&["SSCAN", "big", "12345", "COUNT", "3"]));
    assert_eq!(items, ["a1", "a10", "a11"]);
}

#[test]
fn expiry_persistence_and_a_big_set() {
    let mut s = Server::start();
    let mut r = s.raw();
    // Writes keep the TTL; an expired set is gone.
    expect(
        &mut r,
        &[("SADD e 1 2 3", ":3\r\n"), ("EXPIRE e 100", ":1\r\n"), ("SADD e 4", ":1\r\n"), ("SREM e 1", ":1\r\n")],
    );
    assert!(r.cmd(&["SPOP", "e", "1"]).starts_with("*1\r\n"));
    assert_eq!(r.cmd(&["TTL", "e"]), ":100\r\n");
    expect(&mut r, &[("SADD gone a", ":1\r\n"), ("PEXPIRE gone 30", ":1\r\n")]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while r.cmd(&["EXISTS", "gone"]) != ":0\r\n" {
        assert!(std::time::Instant::now() < deadline, "set did not expire");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    expect(&mut r, &[("SCARD gone", ":0\r\n"), ("SADD gone b", ":1\r\n"), ("SMEMBERS gone", "*1\r\n$1\r\nb\r\n")]);
    // 20 000 members.
    let all: Vec<String> = (0..20_000).map(|i| format!("member:{i}")).collect();
    for chunk in all.chunks(5000) {
        let mut sadd = vec!["SADD", "big"];
        sadd.extend(chunk.iter().map(String::as_str));
        assert_eq!(r.cmd(&sadd), ":5000\r\n");
    }
    let evens: Vec<&str> = all.iter().step_by(2).map(String::as_str).collect();
    let mut sadd = vec!["SADD", "half"];
    sadd.extend(evens.iter());
    assert_eq!(r.cmd(&sadd), ":10000\r\n");
    let mut want = all.clone();
    want.sort();
    expect(
        &mut r,
        &[
            ("SCARD big", ":20000\r\n"),
            ("SINTERCARD 2 big half", ":10000\r\n"),
            ("SINTERCARD 2 big half LIMIT 10", ":10\r\n"),
            ("SDIFFSTORE odd big half", ":10000\r\n"),
            ("SUNIONSTORE u odd half", ":20000\r\n"),
            ("OBJECT ENCODING big", "$9\r\nhashtable\r\n"),
        ],
    );
    assert_eq!(bulks(&r.cmd(&["SMEMBERS", "big"])), want);
    assert_eq!(bulks(&r.cmd(&["SMEMBERS", "u"])), want);
    let picks = bulks(&r.cmd(&["SRANDMEMBER", "big", "100"]));
    assert_eq!(picks.iter().collect::<BTreeSet<_>>().len(), 100);
    // Single picks in a big set spread over it.
    let singles: BTreeSet<String> = (0..300).map(|_| bulks(&r.cmd(&["SRANDMEMBER", "big"]))[0].clone()).collect();
    assert!(singles.len() > 150, "{} distinct of 300", singles.len());
    assert!(singles.iter().all(|m| want.binary_search(m).is_ok()));
    let mut left: BTreeSet<String> = all.iter().cloned().collect();
    for _ in 0..200 {
        let m = &bulks(&r.cmd(&["SPOP", "big"]))[0];
        assert!(left.remove(m), "{m}");
    }
    for m in bulks(&r.cmd(&["SPOP", "big", "300"])) {
        assert!(left.remove(&m), "{m}");
    }
    assert_eq!(int(&r.cmd(&["SCARD", "big"])), 19_500);
    // Everything survives a crash.
    s.restart();
    let mut r = s.raw();
    assert!((90..=100).contains(&int(&r.cmd(&["TTL", "e"]))));
    assert_eq!(int(&r.cmd(&["SCARD", "big"])), 19_500);
    assert_eq!(bulks(&r.cmd(&["SMEMBERS", "big"])), left.iter().cloned().collect::<Vec<_>>());
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "big"]), "$9\r\nhashtable\r\n");
    assert_eq!(r.cmd(&["SISMEMBER", "half", "member:2"]), ":1\r\n");
}

#[test]
fn sort_lists_sets_and_sorted_sets() {
    let s = Server::start();
    let mut r = s.raw();
    let n6 = "*6\r\n$2\r\n-1\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n";
    expect(
        &mut r,
        &[
            ("RPUSH l 3 1 2 10 1.5 -1", ":6\r\n"),
            ("SORT l", n6),
            ("SORT_RO l", n6),
            ("SORT l DESC", "*6\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n2\r\n$3\r\n1.5\r\n$1\r\n1\r\n$2\r\n-1\r\n"),
            ("SORT l ALPHA", "*6\r\n$2\r\n-1\r\n$1\r\n1\r\n$3\r\n1.5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n"),
            ("SORT l LIMIT 1 2", "*2\r\n$1\r\n1\r\n$3\r\n1.5\r\n"),
            ("SORT l LIMIT -1 2", "*2\r\n$2\r\n-1\r\n$1\r\n1\r\n"),
            ("SORT l LIMIT 1 -1", "*5\r\n$1\r\n1\r\n$3\r\n1.5\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"),
            ("SORT l LIMIT 10 2", "*0\r\n"),
            ("SORT l LIMIT 0 0", "*0\r\n"),
            ("SORT l LIMIT 9223372036854775807 9223372036854775807", "*0\r\n"),
            ("SORT l LIMIT 5 9223372036854775807", "*1\r\n$2\r\n10\r\n"),
            ("SORT l LIMIT 0 1 LIMIT 2 2", "*2\r\n$3\r\n1.5\r\n$1\r\n2\r\n"),
            ("SORT l DESC ASC", n6),
            // BY without `*` does not sort: a list keeps its order (DESC reverses it, LIMIT cuts it).
            ("SORT l BY nosort", "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$3\r\n1.5\r\n$2\r\n-1\r\n"),
            ("SORT l BY nosort DESC LIMIT 1 2", "*2\r\n$3\r\n1.5\r\n$2\r\n10\r\n"),
            ("SORT l BY nosort DESC LIMIT 3 -5", "*3\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n"),
            // ...and stays unsorted even when a later BY has a `*`.
            ("SORT l BY nosort BY w_*", "*6\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$3\r\n1.5\r\n$2\r\n-1\r\n"),
            ("SORT nokey", "*0\r\n"),
            ("RPUSH bad a 1", ":2\r\n"),
            ("SORT bad", "-ERR One or more scores can't be converted into double\r\n"),
            ("SORT bad ALPHA", "*2\r\n$1\r\n1\r\n$1\r\na\r\n"),
            ("SORT l LIMIT a 1", "-ERR value is not an integer or out of range\r\n"),
            ("SORT l LIMIT 1", "-ERR syntax error\r\n"),
            ("SORT l foo", "-ERR syntax error\r\n"),
            ("SORT l GET", "-ERR syntax error\r\n"),
            ("SORT l BY", "-ERR syntax error\r\n"),
            ("SORT l STORE", "-ERR syntax error\r\n"),
            ("SORT_RO l STORE x", "-ERR syntax error\r\n"),
            ("SORT", "-ERR wrong number of arguments for 'sort' command\r\n"),
            // STORE writes a list (the last STORE wins) and deletes the destination for an empty result.
            ("SET dst x EX 100", "+OK\r\n"),
            ("SORT l STORE d1 STORE dst", ":6\r\n"),
            ("EXISTS d1", ":0\r\n"),
            ("TYPE dst", "+list\r\n"),
            ("TTL dst", ":-1\r\n"),
            ("LRANGE dst 0 -1", n6),
            ("SORT l STORE l", ":6\r\n"),
            ("LRANGE l 0 -1", n6),
            ("SORT nokey STORE dst", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
        ],
    );
    expect(
        &mut r,
        &[
            ("ZADD z 1 c 2 b 2 a 0 d", ":4\r\n"),
            ("SORT z ALPHA", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("SORT z BY nosort", "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("SORT z BY nosort DESC", "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("SORT z BY nosort LIMIT 1 2", "*2\r\n$1\r\nc\r\n$1\r\na\r\n"),
            ("SORT z BY nosort DESC LIMIT 1 -1", "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n"),
            ("SORT z", "-ERR One or more scores can't be converted into double\r\n"),
            // A set without sorting comes in its iteration order (an intset's is numeric; DESC does not apply)...
            ("SADD s 10 7 3", ":3\r\n"),
            ("SORT s BY nosort DESC", "*3\r\n$1\r\n3\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            ("SORT s BY nosort LIMIT 1 1", "*1\r\n$1\r\n7\r\n"),
            ("SORT s", "*3\r\n$1\r\n3\r\n$1\r\n7\r\n$2\r\n10\r\n"),
            // ...but stored, it is sorted as strings.
            ("SORT s BY nosort STORE d", ":3\r\n"),
            ("LRANGE d 0 -1", "*3\r\n$2\r\n10\r\n$1\r\n3\r\n$1\r\n7\r\n"),
            ("SORT s BY nosort DESC STORE d", ":3\r\n"),
            ("LRANGE d 0 -1", "*3\r\n$1\r\n7\r\n$1\r\n3\r\n$2\r\n10\r\n"),
            ("SADD t b a c", ":3\r\n"),
            ("SORT t ALPHA DESC", "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
            // A hash-table set without sorting: byte order here (Redis: its hash order).
            ("SORT t BY nosort", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        ],
    );
    // Weights: C's strtod on the value up to its first NUL; an empty value weighs 0.
    expect(&mut r, &[("DEL l", ":1\r\n")]);
    r.send(&Raw::encode(&[b"RPUSH", b"l", b" 1", b"", b"0x10", b"inf", b"-inf", b"0x1p3", b".5", b"+1", b"1\x002"]));
    assert_eq!(r.read_reply(), ":9\r\n");
    assert_eq!(
        r.cmd(&["SORT", "l"]),
        "*9\r\n$4\r\n-inf\r\n$0\r\n\r\n$2\r\n.5\r\n$2\r\n 1\r\n$2\r\n+1\r\n$3\r\n1\x002\r\n$5\r\n0x1p3\r\n\
         $4\r\n0x10\r\n$3\r\ninf\r\n"
    );
    for bad in ["1 ", "1e400", "5e-324", "nan", "1e"] {
        r.cmd(&["DEL", "w"]);
        r.cmd(&["RPUSH", "w", "1", bad]);
        assert_eq!(r.cmd(&["SORT", "w"]), "-ERR One or more scores can't be converted into double\r\n", "{bad}");
    }
    // ALPHA compares C strings (up to a NUL, ties keep their order) unless the result is stored.
    r.cmd(&["DEL", "l"]);
    r.send(&Raw::encode(&[b"RPUSH", b"l", b"a\x00c", b"a", b"a\x00b", b"z", b" 1"]));
    assert_eq!(r.read_reply(), ":5\r\n");
    assert_eq!(
        r.cmd(&["SORT", "l", "ALPHA"]),
        "*5\r\n$2\r\n 1\r\n$3\r\na\x00c\r\n$1\r\na\r\n$3\r\na\x00b\r\n$1\r\nz\r\n"
    );
    assert_eq!(r.cmd(&["SORT", "l", "ALPHA", "STORE", "d"]), ":5\r\n");
    assert_eq!(
        r.cmd(&["LRANGE", "d", "0", "-1"]),
        "*5\r\n$2\r\n 1\r\n$1\r\na\r\n$3\r\na\x00b\r\n$3\r\na\x00c\r\n$1\r\nz\r\n"
    );
}

#[test]
fn sort_by_and_get_patterns() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("RPUSH l a b c d", ":4\r\n"),
            ("MSET w_a 3 w_b 1 w_c 2 o_a A o_b B", "+OK\r\n"),
            ("HSET h_a f 9 g x", ":2\r\n"),
            ("HSET h_b f 8", ":1\r\n"),
            ("HSET h_c f 10", ":1\r\n"),
            // A missing weight is 0; equal weights fall back to comparing the elements.
            ("SORT l BY w_*", "*4\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"),
            ("SORT l BY w_* DESC", "*4\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\nd\r\n"),
            (
                "SORT l BY w_* GET o_* GET # GET nosuch",
                "*12\r\n$-1\r\n$1\r\nd\r\n$-1\r\n$1\r\nB\r\n$1\r\nb\r\n$-1\r\n$-1\r\n$1\r\nc\r\n$-1\r\n$1\r\nA\r\n$1\r\na\r\n$-1\r\n",
            ),
            ("SORT l BY h_*->f", "*4\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n"),
            ("SORT l BY h_*->f ALPHA", "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"),
            ("SORT l BY h_*->g", "-ERR One or more scores can't be converted into double\r\n"),
            (
                "SORT l BY w_* GET h_*->f GET h_*->g",
                "*8\r\n$-1\r\n$-1\r\n$1\r\n8\r\n$-1\r\n$2\r\n10\r\n$-1\r\n$1\r\n9\r\n$1\r\nx\r\n",
            ),
            // `->` with nothing after it is part of the key name; a pattern without `*` finds nothing.
            ("SORT l BY w_* GET h_*-> LIMIT 0 1", "*1\r\n$-1\r\n"),
            ("SET o_a-> zz", "+OK\r\n"),
            ("SORT l BY nosort GET o_*-> LIMIT 0 2", "*2\r\n$2\r\nzz\r\n$-1\r\n"),
            ("SORT l BY nosort GET #x LIMIT 0 1", "*1\r\n$-1\r\n"),
            // A weight of the wrong type is missing.
            ("SORT l BY h_* GET # LIMIT 0 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("SORT l BY w_* LIMIT 1 2 GET #", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("SORT l BY w_* STORE dd GET o_* GET #", ":8\r\n"),
            (
                "LRANGE dd 0 -1",
                "*8\r\n$0\r\n\r\n$1\r\nd\r\n$1\r\nB\r\n$1\r\nb\r\n$0\r\n\r\n$1\r\nc\r\n$1\r\nA\r\n$1\r\na\r\n",
            ),
            ("SET w_d notnum", "+OK\r\n"),
            ("SORT l BY w_*", "-ERR One or more scores can't be converted into double\r\n"),
            ("SORT l BY w_* ALPHA", "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n"),
        ],
    );
    // ALPHA with BY: equal weights keep Redis' order — list order for a full sort (a stable merge sort), Redis'
    // partial quicksort's with LIMIT.
    let elems: Vec<String> = (0..60).map(|i| format!("e{}", (i * 37) % 60)).collect();
    let mut rpush = vec!["RPUSH", "t"];
    rpush.extend(elems.iter().map(String::as_str));
    r.cmd(&rpush);
    for (i, e) in elems.iter().enumerate() {
        r.cmd(&["SET", &format!("w_{e}"), ["a", "b", "c"][i % 3]]);
    }
    let full = bulks(&r.cmd(&["SORT", "t", "BY", "w_*", "ALPHA"]));
    let want: Vec<String> = ["a", "b", "c"]
        .iter()
        .flat_map(|w| elems.iter().enumerate().filter(move |(i, _)| ["a", "b", "c"][i % 3] == *w))
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(full, want);
    // Redis 7.0.15 answers these exact pages.
    assert_eq!(bulks(&r.cmd(&["SORT", "t", "BY", "w_*", "ALPHA", "LIMIT", "18", "4"])), ["e6", "e54", "e4", "e37"]);
    assert_eq!(bulks(&r.cmd(&["SORT", "t", "BY", "w_*", "ALPHA", "DESC", "LIMIT", "0", "3"])), ["e23", "e17", "e56"]);
    assert_eq!(
        bulks(&r.cmd(&["SORT", "t", "BY", "w_*", "ALPHA", "DESC", "LIMIT", "25", "10"])),
        ["e1", "e52", "e43", "e34", "e25", "e16", "e7", "e58", "e49", "e40"]
    );
}
