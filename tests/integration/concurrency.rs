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
