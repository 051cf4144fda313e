//! Generator of stream commands for the differential tester: XADD (explicit IDs, `ms-*`, NOMKSTREAM, MAXLEN and
//! MINID with `=`/`~` and LIMIT), XDEL, XTRIM, XLEN, XRANGE/XREVRANGE (inclusive and exclusive bounds, COUNT),
//! XREAD (with short BLOCKs), XSETID, XGROUP (every subcommand), XREADGROUP (new entries, history, NOACK), XACK,
//! XPENDING, XCLAIM and XAUTOCLAIM (JUSTID: the full forms count deliveries the same way, but idle times are
//! clock readings), XINFO STREAM (`radix-tree-nodes` aside, see `Check::StreamInfo`) and GROUPS. Writes go to the stream keys only (so DUMP, compared byte for byte,
//! never meets a stream whose pending entries carry delivery times); reads also hit the shared keys, whose other
//! types must give WRONGTYPE. Nothing depends on the clock: no `*` IDs, no idle times in replies (XPENDING's
//! extended form and XINFO CONSUMERS are not generated), min-idle times 0 or an hour.

use super::{Check, Cmd, Gen};

const STREAM_KEYS: &[&str] = &["st:a", "st:b"];
const GROUPS: &[&str] = &["g1", "g2", "nogroup"];
const CONSUMERS: &[&str] = &["alice", "bob", "carol", ""];

fn stream_key(g: &mut Gen) -> Vec<u8> {
    g.pick(STREAM_KEYS).as_bytes().to_vec()
}

/// A key to read: mostly a stream, sometimes a shared key of any type.
fn read_key(g: &mut Gen) -> Vec<u8> {
    if g.pct(85) {
        stream_key(g)
    } else {
        g.key()
    }
}

/// An ID argument: mostly small explicit ones, sometimes incomplete, special, extreme or malformed.
fn id(g: &mut Gen) -> String {
    match g.below(20) {
        0..=11 => format!("{}-{}", g.range(0, 15), g.range(0, 3)),
        12..=14 => g.range(0, 15).to_string(),
        15 => g.pick(&["-", "+"]).to_string(),
        16 => format!("({}-{}", g.range(0, 15), g.range(0, 3)),
        17 => g.pick(&["0-0", "18446744073709551615-18446744073709551615", "18446744073709551615"]).to_string(),
        _ => g.pick(&["abc", "1-", "-1", "1-x", "1-2-3", "", "(", "(-", "1.5", "18446744073709551616"]).to_string(),
    }
}

fn group(g: &mut Gen) -> &'static str {
    g.pick(GROUPS)
}

fn consumer(g: &mut Gen) -> &'static str {
    g.pick(CONSUMERS)
}

fn count(g: &mut Gen) -> String {
    match g.below(8) {
        0..=5 => g.range(0, 5).to_string(),
        6 => "-1".to_string(),
        _ => g.pick(&["abc", "9223372036854775808"]).to_string(),
    }
}

fn trim_args(g: &mut Gen, c: &mut Cmd) {
    if g.pct(50) {
        c.push(g.word("MAXLEN"));
        if g.pct(60) {
            c.push(g.pick(&["=", "~"]));
        }
        c.push(if g.pct(90) { g.range(0, 8).to_string() } else { g.pick(&["-1", "abc"]).to_string() });
    } else {
        c.push(g.word("MINID"));
        if g.pct(60) {
            c.push(g.pick(&["=", "~"]));
        }
        c.push(id(g));
    }
    if g.pct(15) {
        c.push(g.word("LIMIT"));
        c.push(g.pick(&["0", "1", "2", "5", "-1"]));
    }
}

/// The field/value pairs of an entry (sometimes an odd count, a wrong arity).
fn pairs(g: &mut Gen, c: &mut Cmd) {
    let n = g.range(1, 3);
    for i in 0..n {
        c.push(g.pick(&["f", "g", "h", "field"]));
        c.push(g.value());
        if i == n - 1 && g.pct(5) {
            c.push("odd");
        }
    }
}

pub fn streams(g: &mut Gen) -> Cmd {
    match g.below(40) {
        0..=9 => {
            let mut c = Cmd::new("XADD").arg(stream_key(g));
            if g.pct(10) {
                c.push(g.word("NOMKSTREAM"));
            }
            if g.pct(25) {
                trim_args(g, &mut c);
            }
            let the_id = match g.below(6) {
                0 => format!("{}-*", g.range(0, 15)),
                _ => id(g),
            };
            c.push(the_id);
            pairs(g, &mut c);
            c
        }
        10 | 11 => {
            let mut c = Cmd::new("XDEL").arg(read_key(g));
            for _ in 0..g.range(1, 3) {
                c.push(id(g));
            }
            c
        }
        12 => {
            let mut c = Cmd::new("XTRIM").arg(stream_key(g));
            trim_args(g, &mut c);
            c
        }
        13 => Cmd::new("XLEN").arg(read_key(g)),
        14..=16 => {
            let name = if g.pct(50) { "XRANGE" } else { "XREVRANGE" };
            let mut c = Cmd::new(name).arg(read_key(g)).arg(id(g)).arg(id(g));
            if g.pct(40) {
                c.push(g.word("COUNT"));
                c.push(count(g));
            }
            c
        }
        17 | 18 => {
            let mut c = Cmd::new("XREAD");
            if g.pct(30) {
                c.push(g.word("COUNT"));
                c.push(count(g));
            }
            let blocking = g.pct(15);
            if blocking {
                c.push(g.word("BLOCK"));
                c.push(g.pick(&["10", "20"]));
            }
            c.push(g.word("STREAMS"));
            let n = g.range(1, 2);
            let keys: Vec<Vec<u8>> = (0..n).map(|_| read_key(g)).collect();
            for k in &keys {
                c.push(k);
            }
            for _ in 0..n {
                c.push(if g.pct(20) { "$".to_string() } else { id(g) });
            }
            if blocking {
                c.fixed()
            } else {
                c
            }
        }
        19 => {
            let mut c = Cmd::new("XSETID").arg(read_key(g)).arg(id(g));
            if g.pct(30) {
                c.push(g.word("ENTRIESADDED"));
                c.push(g.pick(&["0", "3", "10", "100", "-1"]));
            }
            if g.pct(30) {
                c.push(g.word("MAXDELETEDID"));
                c.push(id(g));
            }
            c
        }
        20 | 21 => {
            let k = if g.pct(90) { stream_key(g) } else { g.key() };
            let id = if g.pct(30) { "$".to_string() } else { id(g) };
            let mut c = Cmd::new("XGROUP").arg(g.word("CREATE")).arg(k).arg(group(g)).arg(id);
            if g.pct(30) {
                c.push(g.word("MKSTREAM"));
            }
            if g.pct(20) {
                c.push(g.word("ENTRIESREAD"));
                c.push(g.pick(&["-1", "0", "2", "-2", "abc"]));
            }
            c
        }
        22 => {
            let id = if g.pct(30) { "$".to_string() } else { id(g) };
            let mut c = Cmd::new("XGROUP").arg(g.word("SETID")).arg(stream_key(g)).arg(group(g)).arg(id);
            if g.pct(30) {
                c.push(g.word("ENTRIESREAD"));
                c.push(g.pick(&["-1", "0", "3"]));
            }
            c
        }
        23 => Cmd::new("XGROUP").arg(g.word("DESTROY")).arg(stream_key(g)).arg(group(g)),
        24 => {
            let sub = g.keyword(&["CREATECONSUMER", "DELCONSUMER"]);
            Cmd::new("XGROUP").arg(sub).arg(stream_key(g)).arg(group(g)).arg(consumer(g))
        }
        25..=29 => {
            let mut c = Cmd::new("XREADGROUP").arg(g.word("GROUP")).arg(group(g)).arg(consumer(g));
            if g.pct(30) {
                c.push(g.word("COUNT"));
                c.push(count(g));
            }
            if g.pct(15) {
                c.push(g.word("NOACK"));
            }
            let blocking = g.pct(10);
            if blocking {
                c.push(g.word("BLOCK"));
                c.push("10");
            }
            c.push(g.word("STREAMS"));
            c.push(read_key(g));
            c.push(if g.pct(70) { ">".to_string() } else { id(g) });
            if blocking {
                c.fixed()
            } else {
                c
            }
        }
        30 | 31 => {
            let mut c = Cmd::new("XACK").arg(read_key(g)).arg(group(g));
            for _ in 0..g.range(1, 3) {
                c.push(id(g));
            }
            c
        }
        32 => Cmd::new("XPENDING").arg(read_key(g)).arg(group(g)),
        33 | 34 => {
            let mut c =
                Cmd::new("XCLAIM").arg(stream_key(g)).arg(group(g)).arg(consumer(g)).arg(g.pick(&["0", "3600000"]));
            for _ in 0..g.range(1, 3) {
                c.push(id(g));
            }
            if g.pct(20) {
                c.push(g.word("FORCE"));
            }
            if g.pct(20) {
                c.push(g.word("RETRYCOUNT"));
                c.push(g.pick(&["0", "5"]));
            }
            if g.pct(15) {
                c.push(g.word("LASTID"));
                c.push(id(g));
            }
            c.push(g.word("JUSTID"));
            c
        }
        35 | 36 => {
            let mut c = Cmd::new("XAUTOCLAIM")
                .arg(stream_key(g))
                .arg(group(g))
                .arg(consumer(g))
                .arg(g.pick(&["0", "3600000"]))
                .arg(id(g));
            if g.pct(40) {
                c.push(g.word("COUNT"));
                c.push(g.pick(&["1", "2", "10", "0", "abc"]));
            }
            c.push(g.word("JUSTID"));
            c
        }
        37 => Cmd::new("XINFO").arg(g.word("STREAM")).arg(read_key(g)).check(Check::StreamInfo),
        38 => Cmd::new("XINFO").arg(g.word("GROUPS")).arg(read_key(g)),
        _ => Cmd::new("XINFO").arg(g.keyword(&["HELP", "NOSUCH"])),
    }
}
