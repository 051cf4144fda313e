//! Atomicity under concurrency: pipelined read-modify-write commands from many clients on shared keys, in
//! orders chosen to provoke lock-order problems, lose no update and never deadlock.

use crate::common::Server;

#[test]
fn pipelined_incr_from_many_clients_is_exact() {
    let s = Server::start();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let url = s.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for round in 0..25 {
                    let mut p = redis::pipe();
                    for i in 0..40 {
                        // Each thread walks the keys in its own order so stripes are taken in every order.
                        let k = (i * (t + 1) + round) % 7;
                        p.cmd("INCR").arg(format!("counter:{k}")).ignore();
                        p.cmd("MSET").arg(format!("m:{k}")).arg(t).arg(format!("m:{}", 6 - k)).arg(t).ignore();
                    }
                    let _: () = p.query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.conn();
    let mut total = 0;
    for k in 0..7 {
        let v: i64 = redis::cmd("GET").arg(format!("counter:{k}")).query(&mut c).unwrap();
        total += v;
    }
    assert_eq!(total, 8 * 25 * 40);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 14);
}

#[test]
fn pipeline_reads_its_own_writes() {
    let s = Server::start();
    let mut r = s.raw();
    let mut req = Vec::new();
    for a in [
        &[&b"SET"[..], b"k", b"1"][..],
        &[b"APPEND", b"k", b"2"],
        &[b"GET", b"k"],
        &[b"DEL", b"k"],
        &[b"EXISTS", b"k"],
        &[b"SET", b"j", b"x"],
        &[b"DBSIZE"],
        &[b"KEYS", b"*"],
    ] {
        req.extend(crate::common::Raw::encode(a));
    }
    r.send(&req);
    let replies: Vec<String> = (0..8).map(|_| r.read_reply()).collect();
    assert_eq!(
        replies,
        ["+OK\r\n", ":2\r\n", "$2\r\n12\r\n", ":1\r\n", ":0\r\n", "+OK\r\n", ":1\r\n", "*1\r\n$1\r\nj\r\n"]
    );
}

/// Worker threads take turns to commit, while commands that need committed data (KEYS, SCAN, DBSIZE), every
/// stripe (FLUSHDB) or the exec gate (MULTI/EXEC) commit synchronously: all of them at once, on both workers,
/// must neither deadlock (every connection has a read timeout) nor lose an update.
#[test]
fn group_commits_mixed_with_walks_flushes_and_transactions() {
    let s = Server::start();
    let conn = |url: &str| {
        let c = redis::Client::open(url).unwrap().get_connection().unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        c
    };
    let mut threads = Vec::new();
    for t in 0..4 {
        let url = s.url();
        threads.push(std::thread::spawn(move || {
            let mut c = conn(&url);
            for round in 0..40 {
                let mut p = redis::pipe();
                for i in 0..30 {
                    let k = (i * 7 + round + t) % 11;
                    p.cmd("INCR").arg(format!("n:{k}")).ignore();
                    p.cmd("HINCRBY").arg(format!("h:{}", k % 3)).arg(format!("f{k}")).arg(1).ignore();
                }
                let _: () = p.query(&mut c).unwrap();
            }
        }));
    }
    let url = s.url();
    threads.push(std::thread::spawn(move || {
        let mut c = conn(&url);
        for _ in 0..60 {
            let _: Vec<String> = redis::cmd("KEYS").arg("n:*").query(&mut c).unwrap();
            let _: (String, Vec<String>) = redis::cmd("SCAN").arg(0).arg("COUNT").arg(5).query(&mut c).unwrap();
            let _: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        }
    }));
    let url = s.url();
    threads.push(std::thread::spawn(move || {
        let mut c = conn(&url);
        let _: () = redis::cmd("SELECT").arg(1).query(&mut c).unwrap();
        for i in 0..60 {
            let _: () = redis::cmd("SET").arg(format!("tmp:{i}")).arg(i).query(&mut c).unwrap();
            if i % 6 == 5 {
                let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
            }
        }
    }));
    let url = s.url();
    threads.push(std::thread::spawn(move || {
        let mut c = conn(&url);
        for _ in 0..60 {
            let _: () = redis::pipe()
                .atomic()
                .cmd("INCR")
                .arg("tx")
                .ignore()
                .cmd("INCR")
                .arg("tx")
                .ignore()
                .query(&mut c)
                .unwrap();
        }
    }));
    for t in threads {
        t.join().unwrap();
    }
    let mut c = s.conn();
    let total: i64 = (0..11).map(|k| redis::cmd("GET").arg(format!("n:{k}")).query::<i64>(&mut c).unwrap()).sum();
    assert_eq!(total, 4 * 40 * 30);
    let fields: i64 =
        (0..3).flat_map(|h| redis::cmd("HVALS").arg(format!("h:{h}")).query::<Vec<i64>>(&mut c).unwrap()).sum();
    assert_eq!(fields, 4 * 40 * 30);
    let tx: i64 = redis::cmd("GET").arg("tx").query(&mut c).unwrap();
    assert_eq!(tx, 120);
    let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 11 + 3 + 1);
}

/// A worker goes on running commands while its last batches are written: pipelines on hot keys take stripes over
/// from batches in flight and read their values, list pops walk what those batches pushed, and optimistic
/// transactions (WATCH … EXEC) on a key that pipelines keep incrementing must still see every change. With one
/// worker (the default on two cores) and with two, no update is lost and nothing deadlocks.
#[test]
fn hot_keys_written_while_earlier_batches_are_in_flight() {
    for workers in ["1", "2"] {
        let s = Server::start_with(&["--workers", workers]);
        let conn = |url: &str| {
            let c = redis::Client::open(url).unwrap().get_connection().unwrap();
            c.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
            c
        };
        let (pipeliners, rounds, per_round) = (4, 20, 40);
        let mut threads = Vec::new();
        for t in 0..pipeliners {
            let url = s.url();
            threads.push(std::thread::spawn(move || {
                let mut c = conn(&url);
                let mut popped = 0;
                for round in 0..rounds {
                    let mut p = redis::pipe();
                    for i in 0..per_round {
                        p.cmd("INCR").arg("w").ignore();
                        p.cmd("RPUSH").arg("l").arg(format!("{t}:{round}:{i}")).ignore();
                        p.cmd("INCR").arg(format!("c:{}", (i + t) % 5)).ignore();
                        if i % 2 == 0 {
                            p.cmd("LPOP").arg("l");
                        }
                    }
                    let pops: Vec<Option<String>> = p.query(&mut c).unwrap();
                    popped += pops.iter().flatten().count();
                }
                popped
            }));
        }
        let (watchers, wins) = (3, 15);
        for _ in 0..watchers {
            let url = s.url();
            threads.push(std::thread::spawn(move || {
                let mut c = conn(&url);
                let mut won = 0;
                while won < wins {
                    let _: () = redis::cmd("WATCH").arg("w").query(&mut c).unwrap();
                    let v: i64 = redis::cmd("GET").arg("w").query::<Option<i64>>(&mut c).unwrap().unwrap_or(0);
                    let r: Option<((),)> = redis::pipe().atomic().cmd("SET").arg("w").arg(v + 1).query(&mut c).unwrap();
                    won += r.is_some() as usize;
                }
                0
            }));
        }
        let popped: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let mut c = s.conn();
        let w: usize = redis::cmd("GET").arg("w").query(&mut c).unwrap();
        assert_eq!(w, pipeliners * rounds * per_round + watchers * wins, "workers {workers}");
        let left: usize = redis::cmd("LLEN").arg("l").query(&mut c).unwrap();
        assert_eq!(left + popped, pipeliners * rounds * per_round, "workers {workers}");
        let counters: usize =
            (0..5).map(|k| redis::cmd("GET").arg(format!("c:{k}")).query::<usize>(&mut c).unwrap()).sum();
        assert_eq!(counters, pipeliners * rounds * per_round, "workers {workers}");
    }
}
