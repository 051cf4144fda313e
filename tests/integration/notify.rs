//! Keyspace notifications end to end: a subscriber on `__key*__:*` sees, for each command a writer runs, exactly
//! the `(channel, message)` pairs redis-server 7.0.15 publishes for it, in its order. The expected events of the
//! scripts below were recorded from redis-server with the same commands (`notify-keyspace-events KEAnm`).

use std::time::{Duration, Instant};

use crate::common::{bulks, Raw, Server};

/// A subscriber to every keyspace and keyevent channel, and a connection that publishes a marker after each
/// step, so that everything the step published is known to have arrived once the marker has.
struct Listener {
    sub: Raw,
    marker: Raw,
}

impl Listener {
    fn new(s: &Server) -> Listener {
        Listener::with_protocol(s, false)
    }

    fn with_protocol(s: &Server, resp3: bool) -> Listener {
        let mut sub = s.raw();
        if resp3 {
            sub.cmd(&["HELLO", "3"]);
        }
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        sub.cmd(&["SUBSCRIBE", "marker"]);
        Listener { sub, marker: s.raw() }
    }

    /// The keyspace messages published since the last call, as (channel, message), in order.
    fn take(&mut self) -> Vec<(String, String)> {
        assert_eq!(self.marker.cmd(&["PUBLISH", "marker", "x"]), ":1\r\n");
        let mut got = Vec::new();
        loop {
            let frame = self.sub.read_reply();
            match &bulks(&frame)[..] {
                [kind, _, _] if kind == "message" => return got,
                [kind, _, channel, message] if kind == "pmessage" => got.push((channel.clone(), message.clone())),
                _ => panic!("unexpected frame {frame:?}"),
            }
        }
    }
}

/// The messages `events` make, each written `"event key"` (`"@db event key"` outside database 0): on
/// `__keyspace@<db>__:<key>` then on `__keyevent@<db>__:<event>`, as flags K and E ask.
fn messages(events: &[&str], keyspace: bool, keyevent: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in events {
        let (db, rest) = match e.strip_prefix('@') {
            Some(r) => r.split_once(' ').expect("@db event key"),
            None => ("0", *e),
        };
        let (event, key) = rest.split_once(' ').expect("event key");
        if keyspace {
            out.push((format!("__keyspace@{db}__:{key}"), event.to_string()));
        }
        if keyevent {
            out.push((format!("__keyevent@{db}__:{event}"), key.to_string()));
        }
    }
    out
}

/// A command line: arguments separated by single spaces, `''` for an empty one.
fn argv(line: &str) -> Vec<&str> {
    line.split(' ').map(|a| if a == "''" { "" } else { a }).collect()
}

/// Runs each command of `script` on its own server with `flags`, and checks the messages of each one.
fn run(flags: &str, script: &[(&str, &[&str])]) {
    let s = Server::start();
    let mut w = s.raw();
    assert_eq!(w.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]), "+OK\r\n");
    let mut l = Listener::new(&s);
    let (keyspace, keyevent) = (flags.contains('K'), flags.contains('E'));
    for (line, events) in script {
        w.cmd(&argv(line));
        assert_eq!(l.take(), messages(events, keyspace, keyevent), "{line}");
    }
}

const STRINGS: &[(&str, &[&str])] = &[
    ("SET k v", &["new k", "set k"]),
    ("SET k v2 EX 100", &["set k", "expire k"]),
    ("SET k v3 PX 100000 GET", &["set k", "expire k"]),
    ("SET k v4 KEEPTTL", &["set k"]),
    ("SET k v5 XX", &["set k"]),
    ("SET nk v NX", &["new nk", "set nk"]),
    ("SET nk v NX", &[]),
    ("SET gk v GET", &["keymiss gk", "new gk", "set gk"]),
    ("SETNX k v", &[]),
    ("SETNX k2 v", &["new k2", "set k2"]),
    ("SETEX k 10 v", &["set k", "expire k"]),
    ("PSETEX k 10000 v", &["set k", "expire k"]),
    ("GETSET k x", &["set k"]),
    ("GETSET gs x", &["keymiss gs", "new gs", "set gs"]),
    ("GETDEL k", &["del k"]),
    ("GETDEL k", &["keymiss k"]),
    ("GETEX k2 EX 100", &["expire k2"]),
    ("GETEX k2 PERSIST", &["persist k2"]),
    ("GETEX k2 PERSIST", &[]),
    ("GETEX k2 PXAT 1", &["del k2"]),
    ("GETEX k2", &["keymiss k2"]),
    ("SET n 1", &["new n", "set n"]),
    ("INCR n", &["incrby n"]),
    ("DECR n", &["incrby n"]),
    ("INCRBY n 5", &["incrby n"]),
    ("DECRBY n 5", &["incrby n"]),
    ("INCRBYFLOAT n 1.5", &["incrbyfloat n"]),
    ("INCRBYFLOAT nf 1", &["new nf", "incrbyfloat nf"]),
    ("APPEND n x", &["append n"]),
    ("APPEND na x", &["new na", "append na"]),
    ("SETRANGE n 0 yy", &["setrange n"]),
    ("SETRANGE n 0 ''", &[]),
    ("SETRANGE nr 0 ''", &[]),
    ("SETRANGE nr 2 ab", &["new nr", "setrange nr"]),
    ("MSET a 1 b 2 a 3", &["new a", "set a", "new b", "set b", "set a"]),
    ("MSETNX a 1 c 2", &[]),
    ("MSETNX c 1 d 2", &["new c", "set c", "new d", "set d"]),
    ("GET nosuch", &["keymiss nosuch"]),
    ("MGET a nosuch b", &["keymiss nosuch"]),
    ("STRLEN nosuch", &["keymiss nosuch"]),
    ("GETRANGE nosuch 0 1", &["keymiss nosuch"]),
    ("LCS nosuch a", &["keymiss nosuch"]),
    ("SETBIT b 7 1", &["setbit b"]),
    ("SETBIT b 7 1", &[]),
    ("SETBIT b 7 0", &["setbit b"]),
    ("SETBIT nb 0 0", &["new nb", "setbit nb"]),
    ("BITFIELD bf SET u8 0 255", &["new bf", "setbit bf"]),
    ("BITFIELD bf GET u8 0", &[]),
    ("BITFIELD bf SET u8 0 255", &[]),
    ("BITFIELD bf INCRBY u8 0 10", &["setbit bf"]),
    ("BITFIELD bf SET u8 8 0", &["setbit bf"]),
    ("BITFIELD bf OVERFLOW FAIL INCRBY u8 0 255", &[]),
    ("BITFIELD nbf OVERFLOW FAIL SET i8 0 200", &["new nbf"]),
    ("BITFIELD_RO nosuch GET u8 0", &["keymiss nosuch"]),
    ("BITOP AND d2 b nosuch", &["keymiss nosuch", "new d2", "set d2"]),
    ("BITOP OR d2 nosuch nosuch2", &["keymiss nosuch", "keymiss nosuch2", "del d2"]),
    ("BITOP NOT d3 b", &["new d3", "set d3"]),
    ("GETBIT nosuch 0", &["keymiss nosuch"]),
    ("BITCOUNT nosuch", &["keymiss nosuch"]),
    ("BITPOS nosuch 1", &["keymiss nosuch"]),
    ("INCR b", &["incrby b"]),
];

const KEYSPACE: &[(&str, &[&str])] = &[
    ("SET a 1", &["new a", "set a"]),
    ("SET b 2", &["new b", "set b"]),
    ("DEL a b nosuch a", &["del a", "del b"]),
    ("UNLINK b", &[]),
    ("SET a 1", &["new a", "set a"]),
    ("EXPIRE a 100", &["expire a"]),
    ("PEXPIRE a 100000", &["expire a"]),
    ("EXPIREAT a 9999999999", &["expire a"]),
    ("PEXPIREAT a 9999999999000", &["expire a"]),
    ("EXPIRE a 100 NX", &[]),
    ("EXPIRE a 50 GT", &[]),
    ("EXPIRE nosuch 10", &[]),
    ("EXPIRE a 0", &["del a"]),
    ("SET a 1", &["new a", "set a"]),
    ("PEXPIREAT a 1", &["del a"]),
    ("SET a 1", &["new a", "set a"]),
    ("EXPIRE a 100", &["expire a"]),
    ("PERSIST a", &["persist a"]),
    ("PERSIST a", &[]),
    ("PERSIST nosuch", &[]),
    ("RENAME a b", &["new b", "rename_from a", "rename_to b"]),
    ("RENAME b b", &[]),
    ("RENAME nosuch c", &[]),
    ("SET a 1", &["new a", "set a"]),
    ("RENAMENX a b", &[]),
    ("RENAMENX a c", &["new c", "rename_from a", "rename_to c"]),
    ("RENAME c b", &["new b", "rename_from c", "rename_to b"]),
    ("SET x 1", &["new x", "set x"]),
    ("COPY x y", &["new y", "copy_to y"]),
    ("COPY x y", &[]),
    ("COPY x y REPLACE", &["new y", "copy_to y"]),
    ("COPY x y DB 1", &["@1 new y", "@1 copy_to y"]),
    ("COPY nosuch z", &["keymiss nosuch"]),
    ("MOVE x 2", &["@2 new x", "move_from x", "@2 move_to x"]),
    ("MOVE nosuch 2", &[]),
    ("MOVE y 1", &[]),
    ("EXISTS nosuch y nosuch", &["keymiss nosuch", "keymiss nosuch"]),
    ("TYPE nosuch", &["keymiss nosuch"]),
    ("TTL nosuch", &["keymiss nosuch"]),
    ("PTTL nosuch", &["keymiss nosuch"]),
    ("EXPIRETIME nosuch", &["keymiss nosuch"]),
    ("TOUCH nosuch", &["keymiss nosuch"]),
    ("OBJECT ENCODING nosuch", &[]),
    ("DBSIZE", &[]),
    ("SET a 1", &["new a", "set a"]),
    ("FLUSHDB", &[]),
    ("SET a 1", &["new a", "set a"]),
    ("FLUSHALL", &[]),
    ("SWAPDB 0 1", &[]),
];

const LISTS: &[(&str, &[&str])] = &[
    ("LPUSH l a b c", &["new l", "lpush l"]),
    ("RPUSH l d", &["rpush l"]),
    ("LPUSHX l x", &["lpush l"]),
    ("RPUSHX l y", &["rpush l"]),
    ("LPUSHX nol x", &[]),
    ("LPOP l", &["lpop l"]),
    ("RPOP l", &["rpop l"]),
    ("LPOP l 2", &["lpop l"]),
    ("RPOP l 0", &[]),
    ("LPOP nol", &[]),
    ("LINSERT l BEFORE b z", &[]),
    ("LINSERT l AFTER nosuchpivot z", &[]),
    ("LSET l 0 q", &["lset l"]),
    ("LREM l 0 nothing", &[]),
    ("LREM l 1 q", &["lrem l"]),
    ("LTRIM l 0 -1", &["ltrim l"]),
    ("LTRIM l 5 10", &["ltrim l", "del l"]),
    ("RPUSH l a b c", &["new l", "rpush l"]),
    ("LMOVE l l2 LEFT RIGHT", &["new l2", "rpush l2", "lpop l"]),
    ("LMOVE l l2 RIGHT LEFT", &["lpush l2", "rpop l"]),
    ("LMOVE l l LEFT RIGHT", &["rpush l", "lpop l"]),
    ("LMOVE l l LEFT LEFT", &["lpush l", "lpop l"]),
    ("LMOVE nol l2 LEFT LEFT", &[]),
    ("RPOPLPUSH l l2", &["lpush l2", "rpop l", "del l"]),
    ("RPOPLPUSH l l2", &[]),
    ("RPUSH m 1 2 3", &["new m", "rpush m"]),
    ("LMPOP 2 nol m LEFT COUNT 2", &["lpop m"]),
    ("LMPOP 1 m RIGHT COUNT 5", &["rpop m", "del m"]),
    ("RPUSH l 1 2", &["new l", "rpush l"]),
    ("RPOP l 5", &["rpop l", "del l"]),
    ("LLEN nol", &["keymiss nol"]),
    ("LRANGE nol 0 -1", &["keymiss nol"]),
    ("LINDEX nol 0", &["keymiss nol"]),
    ("LPOS nol a", &["keymiss nol"]),
    ("BLPOP nol 0.01", &[]),
    ("RPUSH bl 1 2", &["new bl", "rpush bl"]),
    ("BLPOP nol bl 0.01", &["lpop bl"]),
    ("BRPOP bl 0.01", &["rpop bl", "del bl"]),
    ("RPUSH bl 1", &["new bl", "rpush bl"]),
    ("BRPOPLPUSH bl bl2 0.01", &["new bl2", "lpush bl2", "rpop bl", "del bl"]),
    ("BLMOVE bl2 bl3 LEFT RIGHT 0.01", &["new bl3", "rpush bl3", "lpop bl2", "del bl2"]),
    ("RPUSH bl 1 2 3", &["new bl", "rpush bl"]),
    ("BLMPOP 0.01 1 bl LEFT COUNT 5", &["lpop bl", "del bl"]),
];

const HASHES: &[(&str, &[&str])] = &[
    ("HSET h a 1 b 2", &["new h", "hset h"]),
    ("HSET h a 1", &["hset h"]),
    ("HSETNX h a 1", &[]),
    ("HSETNX h c 3", &["hset h"]),
    ("HSETNX h2 c 3", &["new h2", "hset h2"]),
    ("HMSET h d 4", &["hset h"]),
    ("HINCRBY h n 5", &["hincrby h"]),
    ("HINCRBYFLOAT h f 1.5", &["hincrbyfloat h"]),
    ("HINCRBY h a x", &[]),
    ("HDEL h nosuch", &[]),
    ("HDEL h a b", &["hdel h"]),
    ("HDEL h c d n f", &["hdel h", "del h"]),
    ("HDEL nosuch a", &[]),
    ("HGET nosuch a", &["keymiss nosuch"]),
    ("HGETALL nosuch", &["keymiss nosuch"]),
    ("HMGET nosuch a", &["keymiss nosuch"]),
    ("HEXISTS nosuch a", &["keymiss nosuch"]),
    ("HLEN nosuch", &["keymiss nosuch"]),
    ("HSTRLEN nosuch a", &["keymiss nosuch"]),
    ("HRANDFIELD nosuch", &["keymiss nosuch"]),
    ("HSCAN nosuch 0", &["keymiss nosuch"]),
    ("HGET h2 nosuchfield", &[]),
];

const SETS: &[(&str, &[&str])] = &[
    ("SADD s a b", &["new s", "sadd s"]),
    ("SADD s a", &[]),
    ("SREM s nosuch", &[]),
    ("SREM s a", &["srem s"]),
    ("SREM s b", &["srem s", "del s"]),
    ("SADD s a b c", &["new s", "sadd s"]),
    ("SPOP s 0", &[]),
    ("SPOP s 5", &["spop s", "del s"]),
    ("SPOP nosuch", &[]),
    ("SADD s a", &["new s", "sadd s"]),
    ("SPOP s", &["spop s", "del s"]),
    ("SADD s a b c", &["new s", "sadd s"]),
    ("SMOVE s s2 a", &["srem s", "new s2", "sadd s2"]),
    ("SMOVE s s2 nosuch", &[]),
    ("SMOVE s s b", &[]),
    ("SMOVE s s2 b", &["srem s", "sadd s2"]),
    ("SMOVE s s2 c", &["srem s", "del s", "sadd s2"]),
    ("SADD s a b", &["new s", "sadd s"]),
    ("SADD t b c", &["new t", "sadd t"]),
    ("SINTERSTORE d s t", &["new d", "sinterstore d"]),
    ("SUNIONSTORE d s t", &["sunionstore d"]),
    ("SDIFFSTORE d s t", &["sdiffstore d"]),
    ("SINTERSTORE d s nosuch", &["keymiss nosuch", "del d"]),
    ("SINTERSTORE nosuch2 s nosuch", &["keymiss nosuch"]),
    ("SDIFFSTORE d nosuch s", &["keymiss nosuch"]),
    ("SISMEMBER nosuch a", &["keymiss nosuch"]),
    ("SMEMBERS nosuch", &["keymiss nosuch"]),
    ("SCARD nosuch", &["keymiss nosuch"]),
    ("SINTER nosuch nosuch2", &["keymiss nosuch", "keymiss nosuch2"]),
    ("SUNION nosuch s", &["keymiss nosuch"]),
    ("SINTERCARD 2 nosuch s", &["keymiss nosuch"]),
    ("SMISMEMBER nosuch a", &["keymiss nosuch"]),
];

const ZSETS: &[(&str, &[&str])] = &[
    ("ZADD z 1 a 2 b", &["new z", "zadd z"]),
    ("ZADD z 1 a", &[]),
    ("ZADD z 5 a", &["zadd z"]),
    ("ZADD z NX 1 a", &[]),
    ("ZADD z XX 1 nosuch", &[]),
    ("ZADD z INCR 1 a", &["zincr z"]),
    ("ZADD z2 XX 1 a", &[]),
    ("ZADD z CH 5 a", &["zadd z"]),
    ("ZADD z GT 1 a", &[]),
    ("ZINCRBY z 1 a", &["zincr z"]),
    ("ZINCRBY z 1 c", &["zincr z"]),
    ("ZINCRBY z 0 c", &[]),
    ("ZREM z nosuch", &[]),
    ("ZREM z c", &["zrem z"]),
    ("ZREMRANGEBYSCORE z 100 200", &[]),
    ("ZADD z 1 a 2 b 3 c 4 d", &["zadd z"]),
    ("ZREMRANGEBYRANK z 0 0", &["zremrangebyrank z"]),
    ("ZREMRANGEBYLEX z [a [b", &["zremrangebylex z"]),
    ("ZREMRANGEBYLEX z - +", &["zremrangebylex z", "del z"]),
    ("ZADD z 1 a 2 b 3 c 4 d", &["new z", "zadd z"]),
    ("ZPOPMIN z", &["zpopmin z"]),
    ("ZPOPMAX z", &["zpopmax z"]),
    ("ZPOPMIN z 0", &[]),
    ("ZPOPMAX z 10", &["zpopmax z", "del z"]),
    ("ZPOPMIN nosuch", &[]),
    ("ZADD z 1 a 2 b 3 c", &["new z", "zadd z"]),
    ("ZMPOP 2 nosuch z MIN COUNT 2", &["zpopmin z"]),
    ("ZMPOP 1 z MAX", &["zpopmax z", "del z"]),
    ("BZPOPMIN z 0.01", &[]),
    ("ZADD z 1 a", &["new z", "zadd z"]),
    ("BZPOPMAX z 0.01", &["zpopmax z", "del z"]),
    ("ZADD z 1 a 2 b", &["new z", "zadd z"]),
    ("BZMPOP 0.01 1 z MIN COUNT 5", &["zpopmin z", "del z"]),
    ("ZADD z 1 a 2 b", &["new z", "zadd z"]),
    ("ZADD w 2 b 3 c", &["new w", "zadd w"]),
    ("ZUNIONSTORE d 2 z w", &["new d", "zunionstore d"]),
    ("ZINTERSTORE d 2 z w", &["zinterstore d"]),
    ("ZDIFFSTORE d 2 z w", &["zdiffstore d"]),
    ("ZINTERSTORE d 2 z nosuch", &["keymiss nosuch", "del d"]),
    ("ZUNIONSTORE nosuch3 1 nosuch", &["keymiss nosuch"]),
    ("ZRANGESTORE d z 0 -1", &["new d", "zrangestore d"]),
    ("ZRANGESTORE d z 5 10", &["del d"]),
    ("ZRANGESTORE d nosuch 0 -1", &["keymiss nosuch"]),
    ("ZSCORE nosuch a", &["keymiss nosuch"]),
    ("ZRANGE nosuch 0 -1", &["keymiss nosuch"]),
    ("ZCARD nosuch", &["keymiss nosuch"]),
    ("ZRANK nosuch a", &["keymiss nosuch"]),
    ("ZUNION 2 nosuch z", &["keymiss nosuch"]),
    ("ZINTERCARD 2 nosuch nosuch2", &["keymiss nosuch", "keymiss nosuch2"]),
    ("ZRANDMEMBER nosuch", &["keymiss nosuch"]),
    ("ZMSCORE nosuch a", &["keymiss nosuch"]),
    ("ZSCAN nosuch 0", &["keymiss nosuch"]),
];

const SORT: &[(&str, &[&str])] = &[
    ("RPUSH l 3 1 2", &["new l", "rpush l"]),
    ("SORT l STORE d", &["new d", "sortstore d"]),
    ("SORT l STORE d", &["sortstore d"]),
    ("SORT nosuch STORE d", &["keymiss nosuch", "del d"]),
    ("SORT nosuch STORE d2", &["keymiss nosuch"]),
    (
        "SORT l BY w_* GET o_* STORE d",
        &[
            "keymiss w_3",
            "keymiss w_1",
            "keymiss w_2",
            "keymiss o_1",
            "keymiss o_2",
            "keymiss o_3",
            "new d",
            "sortstore d",
        ],
    ),
    ("SORT l BY nosort", &[]),
    ("SET w_1 1", &["new w_1", "set w_1"]),
    ("SORT l BY w_*", &["keymiss w_3", "keymiss w_2"]),
    ("SADD st 3 1 2", &["new st", "sadd st"]),
    ("SORT st STORE stout", &["new stout", "sortstore stout"]),
    ("HSET h_1 f 10", &["new h_1", "hset h_1"]),
    ("SORT l BY h_*->f GET h_*->g GET #", &["keymiss h_3", "keymiss h_2", "keymiss h_2", "keymiss h_3"]),
];

/// GEOADD publishes ZADD's events; the STORE forms `georadiusstore` / `geosearchstore`, or `del` for an empty
/// result.
const GEO: &[(&str, &[&str])] = &[
    ("GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", &["new g", "zadd g"]),
    ("GEOADD g 13.361389 38.115556 Palermo", &[]),
    ("GEOADD g XX 13 38 Palermo", &["zadd g"]),
    ("GEOADD g NX 13 38 Palermo", &[]),
    ("GEOADD n XX 13 38 a", &[]),
    ("GEORADIUS g 15 37 200 km STORE d", &["new d", "georadiusstore d"]),
    ("GEORADIUS g 15 37 200 km STOREDIST d", &["georadiusstore d"]),
    ("GEORADIUS g 1 1 1 km STORE d", &["del d"]),
    ("GEORADIUS g 1 1 1 km STORE d", &[]),
    ("GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km", &["new d", "geosearchstore d"]),
    ("GEOSEARCHSTORE d g FROMLONLAT 1 1 BYRADIUS 1 km", &["del d"]),
    ("GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km", &["new d", "geosearchstore d"]),
    ("GEOSEARCHSTORE d nokey FROMLONLAT 15 37 BYRADIUS 200 km", &["keymiss nokey", "del d"]),
    ("GEORADIUS g 15 37 200 km STORE d WITHDIST", &[]),
    ("GEOPOS g Palermo", &[]),
    ("GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 200 km", &[]),
];

#[test]
fn strings_and_bitmaps() {
    run("KEAnm", STRINGS);
}

#[test]
fn generic_keyspace_commands() {
    run("KEAnm", KEYSPACE);
}

#[test]
fn lists_with_moves_and_blocking_forms() {
    run("KEAnm", LISTS);
}

#[test]
fn hashes() {
    run("KEAnm", HASHES);
}

#[test]
fn sets() {
    run("KEAnm", SETS);
}

#[test]
fn sorted_sets() {
    run("KEAnm", ZSETS);
}

#[test]
fn sort_store_and_pattern_lookups() {
    run("KEAnm", SORT);
}

#[test]
fn geo() {
    run("KEAnm", GEO);
}

/// The same commands under flags that pick one class each: only that class is published, on the channels K and
/// E ask for (checked against redis-server).
#[test]
fn classes_filter_events() {
    const SCRIPT: [&str; 10] = [
        "SET a 1",
        "LPUSH l x",
        "RPOP l",
        "SADD s a",
        "DEL s",
        "GET nosuch",
        "EXPIRE a 0",
        "HSET h f v",
        "ZADD z 1 a",
        "RENAME h h2",
    ];
    let cases: &[(&str, &[&str])] = &[
        ("Kl", &["lpush l", "rpop l"]),
        ("E$", &["set a"]),
        ("Eg", &["del l", "del s", "del a", "rename_from h", "rename_to h2"]),
        ("Ks", &["sadd s"]),
        ("KEh", &["hset h"]),
        ("Ez", &["zadd z"]),
        ("En", &["new a", "new l", "new s", "new h", "new z", "new h2"]),
        ("Km", &["keymiss nosuch"]),
        // `A` is every class but `n` and `m`.
        (
            "EA",
            &[
                "set a",
                "lpush l",
                "rpop l",
                "del l",
                "sadd s",
                "del s",
                "del a",
                "hset h",
                "zadd z",
                "rename_from h",
                "rename_to h2",
            ],
        ),
        // Classes without K or E publish nothing, and so do K and E without a class.
        ("A", &[]),
        ("KE", &[]),
        ("", &[]),
    ];
    let s = Server::start();
    let mut w = s.raw();
    let mut l = Listener::new(&s);
    for (flags, events) in cases {
        assert_eq!(w.cmd(&["FLUSHALL"]), "+OK\r\n");
        assert_eq!(w.cmd(&["CONFIG", "SET", "notify-keyspace-events", flags]), "+OK\r\n");
        let mut got = Vec::new();
        for line in SCRIPT {
            w.cmd(&argv(line));
            got.extend(l.take());
        }
        assert_eq!(got, messages(events, flags.contains('K'), flags.contains('E')), "flags {flags:?}");
    }
}

/// CONFIG SET validates the letters with Redis' message, CONFIG GET answers Redis' canonical string (which hides
/// an `n` next to `A`, though new-key events stay on), and the option works from the command line too.
#[test]
fn config_flags_are_redis_own() {
    let s = Server::start_with(&["--notify-keyspace-events", "lKE"]);
    let mut w = s.raw();
    let get = |w: &mut Raw| w.cmd(&["CONFIG", "GET", "notify-keyspace-events"]);
    let answer = |v: &str| format!("*2\r\n$22\r\nnotify-keyspace-events\r\n${}\r\n{v}\r\n", v.len());
    assert_eq!(get(&mut w), answer("lKE"));
    let mut l = Listener::new(&s);
    w.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(l.take(), messages(&["rpush l"], true, true));
    for (set, shown) in [("KEA", "AKE"), ("Ex", "xE"), ("g$lshzxetd", "A"), ("nmKE", "nKEm"), ("AKEnm", "AKEm")] {
        assert_eq!(w.cmd(&["CONFIG", "SET", "notify-keyspace-events", set]), "+OK\r\n");
        assert_eq!(get(&mut w), answer(shown), "{set}");
    }
    for bad in ["KEQ", "K E", "a"] {
        assert_eq!(
            w.cmd(&["CONFIG", "SET", "notify-keyspace-events", bad]),
            "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class \
             character. Use 'Ag$lshzxeKEtmdn'.\r\n"
        );
    }
    // The refused values changed nothing: AKEnm is still on, `new` included.
    assert_eq!(get(&mut w), answer("AKEm"));
    w.cmd(&["SET", "k", "v"]);
    assert_eq!(l.take(), messages(&["new k", "set k"], true, true));
    assert_eq!(w.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]), "+OK\r\n");
    assert_eq!(get(&mut w), answer(""));
    w.cmd(&["SET", "k", "v"]);
    w.cmd(&["GET", "nosuch"]);
    assert_eq!(l.take(), vec![]);
}

/// Events carry the logical database the client selected: after SELECT, across MOVE and COPY … DB, and for a
/// key that expires after SWAPDB moved its database (checked against redis-server).
#[test]
fn database_numbers_follow_select_move_and_swapdb() {
    run(
        "KEAn",
        &[
            ("SELECT 5", &[]),
            ("SET k v", &["@5 new k", "@5 set k"]),
            ("MOVE k 7", &["@7 new k", "@5 move_from k", "@7 move_to k"]),
            ("SELECT 7", &[]),
            ("COPY k k2 DB 5", &["@5 new k2", "@5 copy_to k2"]),
            ("SWAPDB 5 6", &[]),
            ("SELECT 6", &[]),
            ("DEL k2", &["@6 del k2"]),
        ],
    );
    let s = Server::start();
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut l = Listener::new(&s);
    w.cmd(&["SELECT", "1"]);
    w.cmd(&["SET", "e", "v", "PX", "100"]);
    w.cmd(&["SWAPDB", "1", "2"]);
    assert_eq!(l.take(), messages(&["@1 set e", "@1 expire e"], true, true));
    assert_eq!(wait_for_expired(&mut l, 2), messages(&["@2 expired e"], true, true));
}

/// Waits (polling, up to 5 s) until active expiry has published `want` messages, and returns what it published.
/// The listener's marker may arrive between the keyspace and the keyevent message of one event: the background
/// expiry thread publishes them one after the other while other connections publish too.
fn wait_for_expired(l: &mut Listener, want: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    loop {
        got.extend(l.take());
        if got.len() >= want {
            return got;
        }
        assert!(Instant::now() < deadline, "no expired event: {got:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Active expiry publishes `expired` for keys of every type, once each.
#[test]
fn active_expiry_publishes_expired() {
    let s = Server::start();
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let mut l = Listener::new(&s);
    w.cmd(&["SET", "k", "v", "PX", "50"]);
    assert_eq!(l.take(), vec![]);
    assert_eq!(wait_for_expired(&mut l, 1), messages(&["expired k"], false, true));
    w.cmd(&["HSET", "h", "f", "v"]);
    w.cmd(&["PEXPIRE", "h", "50"]);
    assert_eq!(wait_for_expired(&mut l, 1), messages(&["expired h"], false, true));
    assert_eq!(w.cmd(&["EXISTS", "k", "h"]), ":0\r\n");
    assert_eq!(l.take(), vec![]);
}

/// A write that replaces or deletes a key whose time has passed before active expiry got to it publishes the
/// `expired` Redis' lazy expiry would, before its own events (active expiry is slowed down here so that it does
/// not get there first).
#[test]
fn writes_over_an_expired_key_publish_expired_first() {
    let s = Server::start_with(&["--active_expire_interval_ms", "10000"]);
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    let mut l = Listener::new(&s);
    for key in ["k", "k2", "gone"] {
        w.cmd(&["SET", key, "v", "PX", "20"]);
    }
    w.cmd(&["RPUSH", "l", "a"]);
    w.cmd(&["PEXPIRE", "l", "20"]);
    l.take();
    // Long enough for the keys' 20 ms, far from the next active expiry pass.
    std::thread::sleep(Duration::from_millis(60));
    let script: &[(&str, &[&str])] = &[
        ("SET k v2", &["expired k", "new k", "set k"]),
        ("MSET k2 x y z", &["expired k2", "new k2", "set k2", "new y", "set y"]),
        ("LPUSH l b", &["expired l", "new l", "lpush l"]),
        ("DEL gone nosuch", &["expired gone"]),
        // SET with a time already past: SableDB removes the key at once and says so (Redis publishes the same
        // `expired` later, when it finds the key).
        ("SET k v EXAT 1", &["set k", "expire k", "expired k"]),
        ("SET fresh v PXAT 1", &["new fresh", "set fresh", "expire fresh", "expired fresh"]),
    ];
    for (line, events) in script {
        w.cmd(&argv(line));
        assert_eq!(l.take(), messages(events, true, true), "{line}");
    }
}

/// Inside MULTI/EXEC the queued commands publish their events in order when EXEC runs them; a discarded or
/// aborted transaction publishes nothing.
#[test]
fn transactions_publish_the_events_of_their_commands() {
    run(
        "KEAn",
        &[
            ("MULTI", &[]),
            ("SET a 1", &[]),
            ("LPUSH l x", &[]),
            ("RPOP l", &[]),
            ("INCR a", &[]),
            ("EXEC", &["new a", "set a", "new l", "lpush l", "rpop l", "del l", "incrby a"]),
            ("MULTI", &[]),
            ("SET b 1", &[]),
            ("DISCARD", &[]),
            ("MULTI", &[]),
            ("SET b 1", &[]),
            ("NOSUCHCOMMAND", &[]),
            ("EXEC", &[]),
            ("MULTI", &[]),
            ("FLUSHALL", &[]),
            ("SET c 1", &[]),
            ("EXEC", &["new c", "set c"]),
        ],
    );
}

/// A client blocked on a list or sorted set publishes its pop when a push serves it, after the push's events.
#[test]
fn served_blocking_pops_publish_after_the_push() {
    let s = Server::start();
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    let mut l = Listener::new(&s);
    let mut blocked = s.raw();
    // (blocking command, push that serves it, the blocked client's reply, the events).
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a str, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            &["BLPOP", "bk", "5"],
            &["LPUSH", "bk", "x"],
            "*2\r\n$2\r\nbk\r\n$1\r\nx\r\n",
            &["new bk", "lpush bk", "lpop bk", "del bk"],
        ),
        (
            &["BLMOVE", "bs", "bd", "LEFT", "RIGHT", "5"],
            &["RPUSH", "bs", "y", "z"],
            "$1\r\ny\r\n",
            &["new bs", "rpush bs", "new bd", "rpush bd", "lpop bs"],
        ),
        (
            &["BZPOPMIN", "bz", "5"],
            &["ZADD", "bz", "1", "m"],
            "*3\r\n$2\r\nbz\r\n$1\r\nm\r\n$1\r\n1\r\n",
            &["new bz", "zadd bz", "zpopmin bz", "del bz"],
        ),
        (
            &["BLMPOP", "5", "1", "bm", "LEFT", "COUNT", "3"],
            &["RPUSH", "bm", "a", "b"],
            "*2\r\n$2\r\nbm\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            &["new bm", "rpush bm", "lpop bm", "del bm"],
        ),
    ];
    for (wait, push, served, events) in cases {
        let args: Vec<&[u8]> = wait.iter().map(|a| a.as_bytes()).collect();
        blocked.send(&Raw::encode(&args));
        // The client is blocked once CLIENT LIST shows it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !w.cmd(&["CLIENT", "LIST"]).contains("flags=b") {
            assert!(Instant::now() < deadline, "{wait:?} did not block");
            std::thread::sleep(Duration::from_millis(5));
        }
        w.cmd(push);
        assert_eq!(blocked.read_reply(), *served, "{wait:?}");
        assert_eq!(l.take(), messages(events, true, true), "{wait:?}");
    }
}

/// RESP3 subscribers get push frames; a RESP3 client subscribed to the events of its own writes gets them before
/// the reply of the command, as from redis-server.
#[test]
fn resp3_subscribers_get_pushes() {
    let s = Server::start();
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "K$"]);
    let mut l = Listener::with_protocol(&s, true);
    w.cmd(&["SET", "k", "v"]);
    assert_eq!(l.take(), messages(&["set k"], true, false));
    w.cmd(&["APPEND", "k", "w"]);
    l.marker.cmd(&["PUBLISH", "marker", "x"]);
    assert_eq!(
        l.sub.read_reply(),
        ">4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$6\r\nappend\r\n"
    );
    assert_eq!(l.sub.read_reply(), ">3\r\n$7\r\nmessage\r\n$6\r\nmarker\r\n$1\r\nx\r\n");

    let mut own = s.raw();
    own.cmd(&["HELLO", "3"]);
    own.cmd(&["SUBSCRIBE", "__keyspace@0__:mine"]);
    own.send(b"SET mine v\r\nGET mine\r\n");
    assert_eq!(own.read_reply(), ">3\r\n$7\r\nmessage\r\n$19\r\n__keyspace@0__:mine\r\n$3\r\nset\r\n");
    assert_eq!(own.read_reply(), "+OK\r\n");
    assert_eq!(own.read_reply(), "$1\r\nv\r\n");
}

/// A PUBLISH keeps its place among the events of the commands around it, in a pipeline and in a transaction,
/// as from redis-server (the events of a pipelined write are held until it is committed; so is the PUBLISH).
#[test]
fn publish_keeps_its_place_among_events() {
    let s = Server::start();
    let mut w = s.raw();
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KE$"]);
    let mut l = Listener::new(&s);
    w.send(b"SET p 1\r\nPUBLISH __keyspace@0__:p hi\r\nMULTI\r\nSET q 1\r\nPUBLISH __keyspace@0__:q ho\r\nAPPEND q 2\r\nEXEC\r\n");
    for want in
        ["+OK\r\n", ":1\r\n", "+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*3\r\n+OK\r\n:1\r\n:2\r\n"]
    {
        assert_eq!(w.read_reply(), want);
    }
    let published = |channel: &str, message: &str| vec![(channel.to_string(), message.to_string())];
    let want = [
        messages(&["set p"], true, true),
        published("__keyspace@0__:p", "hi"),
        messages(&["set q"], true, true),
        published("__keyspace@0__:q", "ho"),
        messages(&["append q"], true, true),
    ]
    .concat();
    assert_eq!(l.take(), want);
    // BITOP stops at a source of the wrong type: no `keymiss` for the sources after it, as in Redis.
    w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEm"]);
    w.cmd(&["LPUSH", "list", "x"]);
    assert_eq!(w.cmd(&["BITOP", "AND", "d", "nosuch1", "list", "nosuch2"]), crate::common::WRONGTYPE);
    assert_eq!(l.take(), messages(&["keymiss nosuch1"], true, true));
}
