//! Persistence across `kill -9`, TLS and Unix-socket listeners, start-up errors.

use std::process::Command;

use crate::common::{free_port, Server, BIN};

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut s = Server::start_with(&["--wal_fsync", "no"]);
    let mut c = s.conn();
    let mut pipe = redis::pipe();
    for i in 0..2000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(format!("value:{i}")).ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("in-db3").arg("x").arg("PX").arg(3_600_000).query(&mut c).unwrap();
    drop(c);
    s.kill9();
    s.restart();
    let mut c = s.conn();
    for i in (0..2000).step_by(97) {
        let v: String = redis::cmd("GET").arg(format!("key:{i}")).query(&mut c).unwrap();
        assert_eq!(v, format!("value:{i}"));
    }
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap_or(-1);
    assert!(n == 2000 || n == -1, "dbsize {n}");
    let _: () = redis::cmd("SELECT").arg(3).query(&mut c).unwrap();
    let v: String = redis::cmd("GET").arg("in-db3").query(&mut c).unwrap();
    assert_eq!(v, "x");
}

#[test]
fn bad_option_stops_startup_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let out = Command::new(BIN).args(["--port", "notaport", "--db_path"]).arg(&db).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--port"), "{err}");
    assert!(!db.exists(), "nothing may be written before the config is valid");
}

#[test]
fn unix_socket_listener() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock").display().to_string();
    let s = Server::start_with(&["--unixsocket", &sock]);
    let out = Command::new("redis-cli").args(["-s", &sock, "PING"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "PONG");
    // CLIENT LIST flags a Unix-socket client 'U', as Redis does.
    let out = Command::new("redis-cli").args(["-s", &sock, "CLIENT", "INFO"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(" flags=U "), "{}", String::from_utf8_lossy(&out.stdout));
    drop(s);
}

#[test]
fn tls_with_redis_cli() {
    let certs = crate::common::gen_certs();
    let p = |f: &str| certs.path().join(f).display().to_string();
    let tls_port = free_port().to_string();
    let s = Server::start_with(&[
        "--tls_port",
        &tls_port,
        "--tls_cert_file",
        &p("server.crt"),
        "--tls_key_file",
        &p("server.key"),
        "--tls_ca_cert_file",
        &p("ca.crt"),
    ]);
    let cli = |extra: &[&str]| {
        let out = Command::new("redis-cli")
            .args(["--tls", "-h", "127.0.0.1", "-p", &tls_port, "--cacert", &p("ca.crt")])
            .args(extra)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    let with_cert = ["--cert", &p("client.crt"), "--key", &p("client.key")];
    assert_eq!(cli(&[&with_cert[..], &["SET", "t", "secure"]].concat()), "OK");
    assert_eq!(cli(&[&with_cert[..], &["GET", "t"]].concat()), "secure");
    // tls_auth_clients defaults to yes: no client certificate, no session.
    assert_ne!(cli(&["GET", "t"]), "secure");
    drop(s);
}

#[test]
fn http_health_and_metrics() {
    use std::io::{Read, Write};
    let http_port = free_port().to_string();
    let s = Server::start_with(&["--http_port", &http_port]);
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut s.conn()).unwrap();
    let get = |path: &str| {
        let mut c = std::net::TcpStream::connect(("127.0.0.1", http_port.parse::<u16>().unwrap())).unwrap();
        c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let mut body = String::new();
        c.read_to_string(&mut body).unwrap();
        body
    };
    let health = get("/health");
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n") && health.ends_with("\r\n\r\nOK\n"), "{health}");
    let metrics = get("/metrics");
    assert!(metrics.contains("sabledb_keys{db=\"0\"} 1\n"), "{metrics}");
    assert!(metrics.contains("sabledb_command_calls_total{cmd=\"set\"} 1\n"), "{metrics}");
    assert!(get("/nope").starts_with("HTTP/1.1 404"));
}

/// A group commit writes each key once, its last state: a pipeline that rewrites, deletes and recreates keys of
/// every kind (strings, expiries, hash fields, list elements) must read back after `kill -9` exactly as it was
/// acknowledged, with exact key counts.
#[test]
fn a_pipeline_rewriting_keys_is_durable_in_its_final_state() {
    let mut s = Server::start_with(&["--wal_fsync", "no"]);
    let mut c = s.conn();
    let mut pipe = redis::pipe();
    for round in 0..50 {
        pipe.cmd("INCR").arg("counter").ignore();
        pipe.cmd("SET").arg("s").arg(round).arg("EX").arg(3600 + round).ignore();
        pipe.cmd("HSET").arg("h").arg(format!("f{}", round % 7)).arg(round).ignore();
        pipe.cmd("RPUSH").arg("l").arg(round).ignore();
        if round % 10 == 4 {
            pipe.cmd("DEL").arg("h").ignore();
            pipe.cmd("LPOP").arg("l").ignore();
            pipe.cmd("SET").arg("gone").arg("x").ignore();
            pipe.cmd("DEL").arg("gone").ignore();
        }
    }
    pipe.cmd("PERSIST").arg("s").ignore();
    let _: () = pipe.query(&mut c).unwrap();
    let before = final_state(&mut c);
    assert_eq!(before.0, 50);
    assert_eq!(before.1, "49");
    assert_eq!(before.2, -1);
    assert_eq!(before.3.len(), 5);
    assert_eq!(before.4.len(), 45);
    assert_eq!(before.5, 4);
    drop(c);
    s.kill9();
    s.restart();
    let mut c = s.conn();
    let after = final_state(&mut c);
    assert_eq!(after, before);
    let gone: i64 = redis::cmd("EXISTS").arg("gone").query(&mut c).unwrap();
    assert_eq!(gone, 0);
}

/// The counter, string, its TTL, hash, list and DBSIZE of the test above.
type FinalState = (i64, String, i64, Vec<(String, String)>, Vec<String>, i64);

fn final_state(c: &mut redis::Connection) -> FinalState {
    redis::pipe()
        .cmd("GET")
        .arg("counter")
        .cmd("GET")
        .arg("s")
        .cmd("TTL")
        .arg("s")
        .cmd("HGETALL")
        .arg("h")
        .cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .cmd("DBSIZE")
        .query(c)
        .unwrap()
}

/// `kill -9` while clients pipeline INCRs on shared counters: every value a client was told must be there after
/// the restart. The writes of a pipeline are acknowledged only once their batch is in the WAL, also when the
/// committer thread writes them and later commands built on them while they were in flight.
#[test]
fn increments_acknowledged_under_load_survive_kill_9() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    // More keys than a group closes at (32), so groups go to the committer, and few enough that the clients'
    // pipelines keep meeting on them.
    const COUNTERS: usize = 64;
    let mut s = Server::start_with(&["--wal_fsync", "no"]);
    let acked = Arc::new(Mutex::new([0i64; COUNTERS]));
    let rounds = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let (url, acked, rounds) = (s.url(), acked.clone(), rounds.clone());
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for round in 0.. {
                    let keys: Vec<usize> = (0..50).map(|i| (i * 7 + t * 13 + round) % COUNTERS).collect();
                    let mut p = redis::pipe();
                    for k in &keys {
                        p.cmd("INCR").arg(format!("c:{k}"));
                    }
                    let Ok(values) = p.query::<Vec<i64>>(&mut c) else { return };
                    let mut a = acked.lock().unwrap();
                    for (k, v) in keys.into_iter().zip(values) {
                        a[k] = a[k].max(v);
                    }
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while rounds.load(Ordering::Relaxed) < 400 {
        assert!(std::time::Instant::now() < deadline, "the clients made no progress");
        std::thread::yield_now();
    }
    s.kill9();
    for c in clients {
        c.join().unwrap();
    }
    s.restart();
    let mut c = s.conn();
    let told = *acked.lock().unwrap();
    for (k, least) in told.iter().enumerate() {
        let v: i64 = redis::cmd("GET").arg(format!("c:{k}")).query(&mut c).unwrap();
        assert!(v >= *least, "c:{k} is {v} after the restart, but a client was told {least}");
    }
}

/// The meta cache answers for absent keys once it holds every record (preloaded at start-up): after a restart,
/// with a cache that takes the whole keyspace and with one far too small for it, every key written before must
/// still be found by the writes that read it first (INCR, SETNX, SET NX, HSETNX), and absent ones stay absent;
/// a FLUSHDB of another database must not make the cache forget the keys it drops from memory.
#[test]
fn keys_are_found_after_a_restart_whatever_the_meta_cache_holds() {
    for cache in ["67108864", "65536"] {
        let mut s = Server::start_with(&["--meta_cache_size", cache]);
        let mut c = s.conn();
        let mut pipe = redis::pipe();
        for i in 0..3000 {
            pipe.cmd("INCR").arg(format!("c:{i}")).ignore();
            pipe.cmd("SET").arg(format!("s:{i}")).arg(i).ignore();
            pipe.cmd("HSET").arg(format!("h:{i}")).arg("f").arg(i).ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
        let _: () = redis::cmd("SELECT").arg(1).query(&mut c).unwrap();
        let _: () = redis::cmd("SET").arg("in-db1").arg(7).query(&mut c).unwrap();
        drop(c);
        s.kill9();
        s.restart();
        let mut c = s.conn();
        let mut pipe = redis::pipe();
        for i in 0..3000 {
            pipe.cmd("INCR").arg(format!("c:{i}"));
            pipe.cmd("SETNX").arg(format!("s:{i}")).arg("x");
            pipe.cmd("HSETNX").arg(format!("h:{i}")).arg("f").arg("x");
            pipe.cmd("INCR").arg(format!("new:{i}"));
            pipe.cmd("SET").arg(format!("nx:{i}")).arg("y").arg("NX");
        }
        let replies: Vec<redis::Value> = pipe.query(&mut c).unwrap();
        for (i, r) in replies.chunks(5).enumerate() {
            assert_eq!(r[0], redis::Value::Int(2), "INCR c:{i}, cache {cache}");
            assert_eq!(r[1], redis::Value::Int(0), "SETNX s:{i}, cache {cache}");
            assert_eq!(r[2], redis::Value::Int(0), "HSETNX h:{i}, cache {cache}");
            assert_eq!(r[3], redis::Value::Int(1), "INCR new:{i}, cache {cache}");
            assert_eq!(r[4], redis::Value::Okay, "SET nx:{i} NX, cache {cache}");
        }
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 5 * 3000, "cache {cache}");
        let _: () = redis::cmd("SELECT").arg(2).query(&mut c).unwrap();
        let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
        let _: () = redis::cmd("SELECT").arg(1).query(&mut c).unwrap();
        let v: i64 = redis::cmd("INCR").arg("in-db1").query(&mut c).unwrap();
        assert_eq!(v, 8, "cache {cache}");
    }
}

/// `background_priority`: RocksDB's flush thread takes nice 19 with `low` (the default) once it has run a job
/// (SAVE flushes every memtable), and keeps the server's priority with `normal`.
#[test]
fn background_work_runs_at_the_configured_priority() {
    for (option, want) in [("low", 19), ("normal", 0)] {
        let s = Server::start_with(&["--background_priority", option]);
        let mut c = s.conn();
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
        let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
        let nices = s.thread_nices();
        let flush: Vec<i64> = nices.iter().filter(|(n, _)| n == "rocksdb:high").map(|(_, v)| *v).collect();
        assert!(!flush.is_empty(), "no flush thread among {nices:?}");
        assert!(flush.iter().all(|&v| v == want), "background_priority {option}: {nices:?}");
        assert!(nices.iter().filter(|(n, _)| n.starts_with("worker")).all(|(_, v)| *v == 0), "{nices:?}");
    }
}
