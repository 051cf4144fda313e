//! Generator of lists commands for the differential tester: every non-blocking list command with random options,
//! counts and indexes around the lengths the lists reach, and malformed or extreme numbers. Elements come mostly
//! from a tiny pool so that LREM, LPOS and LINSERT find (repeated) matches.

use super::{Cmd, Gen, BAD_INTS};

/// LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LMPOP, LMOVE, RPOPLPUSH, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM,
/// LLEN, LPOS, and the blocking BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP (with short timeouts).
pub fn lists(g: &mut Gen) -> Cmd {
    let k = g.key();
    match g.below(86) {
        80..=85 => blocking(g, k),
        0..=15 => {
            let mut c = Cmd::new(if g.pct(50) { "LPUSH" } else { "RPUSH" }).arg(k);
            for _ in 0..g.range(1, 6) {
                c.push(element(g));
            }
            c
        }
        16..=19 => {
            let mut c = Cmd::new(if g.pct(50) { "LPUSHX" } else { "RPUSHX" }).arg(k);
            for _ in 0..g.range(1, 3) {
                c.push(element(g));
            }
            c
        }
        20..=27 => {
            let mut c = Cmd::new(if g.pct(50) { "LPOP" } else { "RPOP" }).arg(k);
            if g.pct(50) {
                c.push(count(g));
            }
            c
        }
        28..=31 => lmpop(g, k),
        32..=36 => {
            if g.pct(25) {
                Cmd::new("RPOPLPUSH").arg(k).arg(list_key(g))
            } else {
                let dst = if g.pct(30) { k.clone() } else { list_key(g) };
                Cmd::new("LMOVE").arg(k).arg(dst).arg(direction(g)).arg(direction(g))
            }
        }
        37..=44 => Cmd::new("LRANGE").arg(k).arg(g.index()).arg(g.index()),
        45..=48 => Cmd::new("LINDEX").arg(k).arg(g.index()),
        49..=52 => Cmd::new("LSET").arg(k).arg(g.index()).arg(element(g)),
        53..=57 => {
            let place = if g.pct(95) { g.keyword(&["BEFORE", "AFTER"]) } else { g.pick(&["MIDDLE", ""]).into() };
            Cmd::new("LINSERT").arg(k).arg(place).arg(element(g)).arg(element(g))
        }
        58..=63 => {
            let n = match g.below(10) {
                0..=7 => g.range(-3, 3).to_string().into_bytes(),
                8 => g.pick(&["-9223372036854775808", "9223372036854775807", "100", "-100"]).as_bytes().to_vec(),
                _ => g.pick(BAD_INTS).as_bytes().to_vec(),
            };
            Cmd::new("LREM").arg(k).arg(n).arg(element(g))
        }
        64..=67 => Cmd::new("LTRIM").arg(k).arg(g.index()).arg(g.index()),
        68..=70 => Cmd::new("LLEN").arg(k),
        _ => lpos(g, k),
    }
}

/// A list element: mostly from a pool of five (so matches repeat), otherwise any value.
fn element(g: &mut Gen) -> Vec<u8> {
    if g.pct(70) {
        g.pick(&["a", "b", "c", "1", ""]).as_bytes().to_vec()
    } else {
        g.value()
    }
}

/// A second key for LMOVE/RPOPLPUSH/LMPOP: biased to the first plain keys so moves often land on lists.
fn list_key(g: &mut Gen) -> Vec<u8> {
    if g.pct(50) {
        g.pick(&["k0", "k1", "k2"]).as_bytes().to_vec()
    } else {
        g.key()
    }
}

fn direction(g: &mut Gen) -> String {
    if g.pct(96) {
        g.keyword(&["LEFT", "RIGHT"])
    } else {
        g.pick(&["UP", "", "LEFTX"]).into()
    }
}

/// A pop count: small (0 included), sometimes huge, negative or malformed.
fn count(g: &mut Gen) -> Vec<u8> {
    match g.below(10) {
        0..=6 => g.range(0, 6).to_string().into_bytes(),
        7 => g.pick(&["9223372036854775807", "100", "-1"]).as_bytes().to_vec(),
        _ => g.pick(BAD_INTS).as_bytes().to_vec(),
    }
}

/// LMPOP: usually a numkeys that matches the keys given, sometimes one that does not, and COUNT in any form.
/// A blocking list command: served at once when its source has elements, else waits a few ms for nothing.
fn blocking(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let t = g.block_timeout();
    let c = match g.below(5) {
        0 => Cmd::new("BLPOP").arg(k).arg(list_key(g)).arg(t),
        1 => Cmd::new("BRPOP").arg(k).arg(t),
        2 => Cmd::new("BRPOPLPUSH").arg(k).arg(list_key(g)).arg(t),
        3 => Cmd::new("BLMOVE").arg(k).arg(list_key(g)).arg(direction(g)).arg(direction(g)).arg(t),
        _ => {
            let mut c = lmpop(g, k);
            c.args[0] = b"BLMPOP".to_vec();
            c.args.insert(1, t.as_bytes().to_vec());
            c
        }
    };
    c.fixed()
}

fn lmpop(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut keys = vec![k];
    for _ in 0..g.below(3) {
        keys.push(list_key(g));
    }
    let numkeys = match g.below(12) {
        0..=8 => keys.len().to_string(),
        9 => (keys.len() + 1).to_string(),
        10 => g.pick(&["0", "-1", "abc", "9223372036854775807"]).to_string(),
        _ => (keys.len() - 1).to_string(),
    };
    let mut c = Cmd::new("LMPOP").arg(numkeys);
    for key in keys {
        c.push(key);
    }
    c.push(direction(g));
    match g.below(10) {
        0..=3 => {}
        4..=7 => {
            c.push(g.word("COUNT"));
            c.push(match g.below(8) {
                0..=5 => g.range(1, 5).to_string().into_bytes(),
                6 => g.pick(&["0", "-1", "9223372036854775807"]).as_bytes().to_vec(),
                _ => g.pick(BAD_INTS).as_bytes().to_vec(),
            });
        }
        8 => c.push(g.pick(&["COUNT", "FOO"])),
        _ => {
            c.push("COUNT");
            c.push("1");
            c.push(g.pick(&["COUNT", "2"]));
        }
    }
    c
}

/// LPOS with RANK, COUNT and MAXLEN in random order (repeats allowed, the last wins), including RANK 0 and
/// -2^63, negative and malformed numbers, and options missing their value.
fn lpos(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("LPOS").arg(k).arg(element(g));
    for _ in 0..g.below(4) {
        match g.below(10) {
            0..=2 => {
                c.push(g.word("RANK"));
                c.push(match g.below(10) {
                    0..=7 => [-3, -2, -1, 1, 2, 3][g.below(6)].to_string(),
                    8 => g.pick(&["0", "-9223372036854775808", "9223372036854775807"]).to_string(),
                    _ => g.pick(BAD_INTS).to_string(),
                });
            }
            3..=5 => {
                c.push(g.word("COUNT"));
                c.push(if g.pct(85) { g.range(0, 3).to_string() } else { g.pick(&["-1", "abc", "-0"]).into() });
            }
            6..=8 => {
                c.push(g.word("MAXLEN"));
                c.push(if g.pct(85) { g.range(0, 5).to_string() } else { g.pick(&["-1", "1.5", ""]).into() });
            }
            _ => c.push(g.pick(&["RANK", "FOO", "COUNT"])),
        }
    }
    c
}
