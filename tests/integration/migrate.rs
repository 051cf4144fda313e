//! MIGRATE end to end: between two SableDB servers, from SableDB to a real redis-server and from redis-server to
//! SableDB (redis-server's MIGRATE exercising our RESTORE). Every expected reply below was recorded from
//! redis-server 7.0.15 running the same commands against a second redis-server (and the events of the notification
//! test with `notify-keyspace-events KEA`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{array_of, bulks, check, free_port, int, Raw, Server, NOT_INT, SYNTAX};

/// A redis-server 7.0 on a free port with a temporary directory, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(extra: &[&str]) -> Redis {
        let dir = tempfile::tempdir().expect("temp dir");
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--dir", &dir.path().display().to_string()])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server (apt-get install redis-server)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Redis { child, port, _dir: dir };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const OK: &str = "+OK\r\n";
const NOKEY: &str = "+NOKEY\r\n";
const BUSY: &str = "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n";

fn migrate(r: &mut Raw, port: u16, key: &str, rest: &[&str]) -> String {
    let port = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &port, key];
    args.extend_from_slice(rest);
    r.cmd(&args)
}

fn cached_sockets(r: &mut Raw) -> i64 {
    let info = r.cmd(&["INFO", "stats"]);
    let line = info.lines().find_map(|l| l.strip_prefix("migrate_cached_sockets:")).expect("migrate_cached_sockets");
    line.trim().parse().expect("a count")
}

#[test]
fn moves_a_key_between_two_sabledb_servers() {
    let (src, dst) = (Server::start(), Server::start());
    let (mut a, mut b) = (src.raw(), dst.raw());
    check(&mut a, &[(&["SET", "key", "Some Value"], OK), (&["RPUSH", "list", "a", "b", "c"], ":3\r\n")]);
    assert_eq!(cached_sockets(&mut a), 0);
    assert_eq!(migrate(&mut a, dst.port, "key", &["0", "5000"]), OK);
    assert_eq!(cached_sockets(&mut a), 1);
    check(&mut a, &[(&["EXISTS", "key"], ":0\r\n")]);
    check(&mut b, &[(&["GET", "key"], "$10\r\nSome Value\r\n"), (&["TTL", "key"], ":-1\r\n")]);
    // Nothing left to move.
    assert_eq!(migrate(&mut a, dst.port, "key", &["0", "5000"]), NOKEY);
    // COPY keeps the source; the second time the target has it.
    assert_eq!(migrate(&mut a, dst.port, "list", &["0", "5000", "COPY"]), OK);
    assert_eq!(migrate(&mut a, dst.port, "list", &["0", "5000", "COPY"]), BUSY);
    check(&mut a, &[(&["RPUSH", "list", "d"], ":4\r\n")]);
    assert_eq!(migrate(&mut a, dst.port, "list", &["0", "5000", "COPY", "REPLACE"]), OK);
    check(&mut a, &[(&["LRANGE", "list", "0", "-1"], &array_of(&["a", "b", "c", "d"]))]);
    check(&mut b, &[(&["LRANGE", "list", "0", "-1"], &array_of(&["a", "b", "c", "d"]))]);
    // Without COPY a refused key stays.
    assert_eq!(migrate(&mut a, dst.port, "list", &["0", "5000"]), BUSY);
    check(&mut a, &[(&["EXISTS", "list"], ":1\r\n")]);
    assert_eq!(migrate(&mut a, dst.port, "list", &["0", "5000", "replace"]), OK);
    check(&mut a, &[(&["EXISTS", "list"], ":0\r\n")]);
    // The TTL goes along (RESTORE with what is left of it).
    check(&mut a, &[(&["SET", "t", "v", "EX", "10"], OK)]);
    assert_eq!(migrate(&mut a, dst.port, "t", &["0", "5000"]), OK);
    let ttl = int(&b.cmd(&["TTL", "t"]));
    assert!((7..=10).contains(&ttl), "{ttl}");
}

#[test]
fn keys_form_options_and_errors() {
    let (src, dst) = (Server::start(), Server::start());
    let (mut a, mut b) = (src.raw(), dst.raw());
    let p = dst.port;
    let port = p.to_string();
    let base = ["MIGRATE", "127.0.0.1", port.as_str()];
    let with = |rest: &[&'static str]| -> Vec<&str> { base.iter().copied().chain(rest.iter().copied()).collect() };
    check(
        &mut a,
        &[
            (
                &with(&["k", "0", "1000", "KEYS", "a"]),
                "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n",
            ),
            (&with(&["k", "0", "1000", "bogus"]), SYNTAX),
            (&with(&["k", "0", "1000", "AUTH"]), SYNTAX),
            (&with(&["k", "0", "1000", "AUTH2", "u"]), SYNTAX),
            (&with(&["k", "x", "1000"]), NOT_INT),
            (&with(&["k", "0", "x"]), NOT_INT),
            (&with(&["k", "0"]), "-ERR wrong number of arguments for 'migrate' command\r\n"),
            (&with(&["k", "0", "1000"]), NOKEY),
            (&with(&["", "0", "1000", "KEYS"]), NOKEY),
            (&with(&["", "0", "1000", "KEYS", "nokey-1", "nokey-2", "nokey-2"]), NOKEY),
            (&["MSET", "key1", "v1", "key2", "v2", "key3", "v3"], OK),
            (&with(&["", "0", "5000", "KEYS", "nokey-1", "key1", "nokey-2", "key2", "nokey-3", "key3"]), OK),
            (&["EXISTS", "key1", "key2", "key3"], ":0\r\n"),
        ],
    );
    check(&mut b, &[(&["MGET", "key1", "key2", "key3"], &array_of(&["v1", "v2", "v3"]))]);
    // Only the keys the target accepted are deleted; the reply is the target's first error.
    check(&mut a, &[(&["MSET", "a", "1", "b", "2", "c", "3"], OK)]);
    check(&mut b, &[(&["SET", "b", "x"], OK)]);
    assert_eq!(migrate(&mut a, p, "", &["0", "1000", "KEYS", "a", "b", "c"]), BUSY);
    check(&mut a, &[(&["KEYS", "*"], &array_of(&["b"]))]);
    check(&mut b, &[(&["MGET", "a", "b", "c"], &array_of(&["1", "x", "3"]))]);
    // A key named twice is restored twice: the second RESTORE fails without REPLACE.
    check(&mut a, &[(&["SET", "d", "1"], OK)]);
    assert_eq!(migrate(&mut a, p, "", &["0", "1000", "KEYS", "d", "d"]), BUSY);
    check(&mut a, &[(&["EXISTS", "d"], ":0\r\n"), (&["SET", "d", "1"], OK)]);
    assert_eq!(migrate(&mut a, p, "", &["0", "1000", "REPLACE", "KEYS", "d", "d"]), OK);
    // The destination database: SELECT is sent when the connection is not on it already.
    check(&mut a, &[(&["SET", "e", "1"], OK)]);
    assert_eq!(migrate(&mut a, p, "e", &["3", "1000"]), OK);
    check(&mut b, &[(&["SELECT", "3"], OK), (&["GET", "e"], "$1\r\n1\r\n"), (&["SELECT", "0"], OK)]);
    check(&mut a, &[(&["SET", "e", "2"], OK)]);
    assert_eq!(
        migrate(&mut a, p, "e", &["99", "1000"]),
        "-ERR Target instance replied with error: ERR DB index is out of range\r\n"
    );
    // After an error the database is unknown (-1): MIGRATE to db -1 then sends no SELECT, and the connection is
    // still on database 3, which has `e` (Redis does just this).
    assert_eq!(migrate(&mut a, p, "e", &["-1", "1000"]), BUSY);
    // The command's key positions.
    check(
        &mut a,
        &[
            (&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "0"], &array_of(&["k"])),
            (
                &["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "0", "AUTH", "p", "KEYS", "a", "b"],
                &array_of(&["a", "b"]),
            ),
            (&["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "0", "COPY"], &array_of(&[""])),
        ],
    );
}

#[test]
fn command_info_and_docs_equal_redis() {
    let (s, redis) = (Server::start(), Redis::start(&[]));
    let (mut a, mut r) = (s.raw(), redis.raw());
    for cmd in [&["COMMAND", "INFO", "migrate"][..], &["COMMAND", "DOCS", "migrate"]] {
        assert_eq!(a.cmd(cmd), r.cmd(cmd), "{cmd:?}");
    }
    assert!(a.cmd(&["COMMAND", "INFO", "migrate"]).contains("movablekeys"));
}

#[test]
fn auth_to_a_password_protected_target() {
    let (src, dst) = (Server::start(), Server::start_with(&["--requirepass", "foobar"]));
    let mut a = src.raw();
    let p = dst.port;
    check(&mut a, &[(&["RPUSH", "list", "a", "b", "c", "d"], ":4\r\n")]);
    assert_eq!(
        migrate(&mut a, p, "list", &["0", "1000"]),
        "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n"
    );
    assert_eq!(migrate(&mut a, p, "list", &["0", "1000", "AUTH", "foobar"]), OK);
    let mut b = dst.raw();
    check(&mut b, &[(&["AUTH", "foobar"], OK), (&["LRANGE", "list", "0", "-1"], &array_of(&["a", "b", "c", "d"]))]);
    check(&mut a, &[(&["SET", "p", "1"], OK)]);
    assert_eq!(migrate(&mut a, p, "p", &["0", "1000", "AUTH2", "default", "foobar"]), OK);
    check(&mut a, &[(&["SET", "p", "1"], OK)]);
    assert_eq!(
        migrate(&mut a, p, "p", &["0", "1000", "AUTH", "wrong"]),
        "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    check(&mut a, &[(&["EXISTS", "p"], ":1\r\n")]);
}

#[test]
fn io_errors() {
    let s = Server::start();
    let mut a = s.raw();
    check(&mut a, &[(&["SET", "k", "v"], OK)]);
    // Nothing listens: Redis' blocking connect only waits for the socket to be writable, and fails writing.
    let closed = free_port();
    assert_eq!(migrate(&mut a, closed, "k", &["0", "1000"]), "-IOERR error or timeout writing to target instance\r\n");
    let bad = a.cmd(&["MIGRATE", "nosuchhost.invalid", "6379", "k", "0", "1000"]);
    assert_eq!(bad, "-IOERR error or timeout connecting to the client\r\n");
    // A target that never replies: the timeout (ms) ends the wait, without a retry.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let started = Instant::now();
    assert_eq!(migrate(&mut a, port, "k", &["0", "300"]), "-IOERR error or timeout reading to target instance\r\n");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(3), "{took:?}");
    check(&mut a, &[(&["EXISTS", "k"], ":1\r\n")]);
    assert_eq!(cached_sockets(&mut a), 0);
    let errors = a.cmd(&["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_IOERR:count=3"), "{errors}");
}

#[test]
fn sabledb_to_redis_server_every_type() {
    let (s, redis) = (Server::start(), Redis::start(&[]));
    let (mut a, mut r) = (s.raw(), redis.raw());
    check(
        &mut a,
        &[
            (&["SET", "s", "v", "PX", "50000"], OK),
            (&["RPUSH", "L", "a", "b", "c"], ":3\r\n"),
            (&["HSET", "H", "f", "v", "g", "w"], ":2\r\n"),
            (&["ZADD", "Z", "1", "m", "2.5", "n"], ":2\r\n"),
            (&["SADD", "S", "x", "y"], ":2\r\n"),
            (&["SADD", "I", "1", "2", "3"], ":3\r\n"),
            (&["XADD", "X", "1-1", "f", "v"], "$3\r\n1-1\r\n"),
        ],
    );
    // Over 64 KiB of request: written in chunks.
    let big = "x".repeat(300_000);
    check(&mut a, &[(&["SET", "big", &big], OK)]);
    let all = ["0", "5000", "KEYS", "s", "L", "H", "Z", "S", "I", "X", "big"];
    assert_eq!(migrate(&mut a, redis.port, "", &all), OK);
    check(&mut a, &[(&["DBSIZE"], ":0\r\n")]);
    check(
        &mut r,
        &[
            (&["GET", "s"], "$1\r\nv\r\n"),
            (&["LRANGE", "L", "0", "-1"], &array_of(&["a", "b", "c"])),
            (&["HGET", "H", "g"], "$1\r\nw\r\n"),
            (&["ZRANGE", "Z", "0", "-1", "WITHSCORES"], &array_of(&["m", "1", "n", "2.5"])),
            (&["SISMEMBER", "S", "y"], ":1\r\n"),
            (&["SMEMBERS", "I"], &array_of(&["1", "2", "3"])),
            (&["XLEN", "X"], ":1\r\n"),
            (&["STRLEN", "big"], ":300000\r\n"),
        ],
    );
    let pttl = int(&r.cmd(&["PTTL", "s"]));
    assert!((40000..=50000).contains(&pttl), "{pttl}");
}

#[test]
fn redis_server_to_sabledb() {
    let (s, redis) = (Server::start(), Redis::start(&[]));
    let (mut a, mut r) = (s.raw(), redis.raw());
    check(
        &mut r,
        &[
            (&["RPUSH", "L", "a", "b"], ":2\r\n"),
            (&["SET", "s", "v", "PX", "40000"], OK),
            (&["HSET", "H", "f", "v"], ":1\r\n"),
            (&["ZADD", "Z", "3", "m"], ":1\r\n"),
        ],
    );
    assert_eq!(migrate(&mut r, s.port, "", &["0", "5000", "KEYS", "L", "s", "H", "Z"]), OK);
    check(
        &mut a,
        &[
            (&["LRANGE", "L", "0", "-1"], &array_of(&["a", "b"])),
            (&["HGET", "H", "f"], "$1\r\nv\r\n"),
            (&["ZSCORE", "Z", "m"], "$1\r\n3\r\n"),
        ],
    );
    let pttl = int(&a.cmd(&["PTTL", "s"]));
    assert!((30000..=40000).contains(&pttl), "{pttl}");
    // Our RESTORE's BUSYKEY goes back through redis-server's MIGRATE; REPLACE and a database pass on.
    check(&mut r, &[(&["SET", "s", "new"], OK)]);
    assert_eq!(migrate(&mut r, s.port, "s", &["0", "5000"]), BUSY);
    assert_eq!(migrate(&mut r, s.port, "s", &["0", "5000", "REPLACE"]), OK);
    check(&mut a, &[(&["GET", "s"], "$3\r\nnew\r\n"), (&["TTL", "s"], ":-1\r\n")]);
    check(&mut r, &[(&["SET", "d", "2"], OK)]);
    assert_eq!(migrate(&mut r, s.port, "d", &["2", "5000"]), OK);
    check(&mut a, &[(&["SELECT", "2"], OK), (&["GET", "d"], "$1\r\n2\r\n")]);
}

#[test]
fn deletions_are_announced_as_del() {
    let (src, dst) = (Server::start(), Server::start());
    let (mut a, mut b) = (src.raw(), dst.raw());
    check(&mut a, &[(&["CONFIG", "SET", "notify-keyspace-events", "KEA"], OK)]);
    let mut sub = src.raw();
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    check(&mut a, &[(&["MSET", "a", "1", "b", "2", "c", "3"], OK)]);
    check(&mut b, &[(&["SET", "b", "x"], OK)]);
    assert_eq!(migrate(&mut a, dst.port, "", &["0", "1000", "KEYS", "a", "nokey", "b", "c"]), BUSY);
    check(&mut b, &[(&["FLUSHALL"], OK)]);
    check(&mut a, &[(&["SET", "a", "1"], OK)]);
    assert_eq!(migrate(&mut a, dst.port, "", &["0", "1000", "REPLACE", "KEYS", "a", "a"]), OK);
    check(&mut a, &[(&["CONFIG", "SET", "notify-keyspace-events", ""], OK)]);
    let want = ["set a", "set b", "set c", "del a", "del c", "set a", "del a", "del a"];
    let mut got = Vec::new();
    while got.len() < want.len() * 2 {
        let frame = bulks(&sub.read_reply());
        got.push((frame[2].clone(), frame[3].clone()));
    }
    let expected: Vec<(String, String)> = want
        .iter()
        .flat_map(|e| {
            let (event, key) = e.split_once(' ').expect("event key");
            [(format!("__keyspace@0__:{key}"), event.to_string()), (format!("__keyevent@0__:{event}"), key.to_string())]
        })
        .collect();
    assert_eq!(got, expected);
}

/// Redis closes a cached connection unused for more than 10 seconds (its cron looks once a second).
#[test]
fn cached_connections_are_released_after_some_time() {
    let (src, dst) = (Server::start(), Server::start());
    let mut a = src.raw();
    check(&mut a, &[(&["SET", "key", "v"], OK)]);
    assert_eq!(migrate(&mut a, dst.port, "key", &["9", "1000"]), OK);
    assert_eq!(cached_sockets(&mut a), 1);
    std::thread::sleep(Duration::from_secs(13));
    assert_eq!(cached_sockets(&mut a), 0);
}
