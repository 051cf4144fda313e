//! Generator of DUMP and RESTORE for the differential tester. DUMP runs on the shared keys, whatever they hold,
//! and is compared with [`Check::Dump`]: byte for byte where SableDB's payload is Redis' (strings, lists, sorted
//! sets, intsets), by RDB type where Redis' element order is unknowable (hash fields, hash-table sets).
//! RESTORE mostly gets [`CAPTURED`]: a payload redis-server returned to an earlier DUMP of the same run (so
//! SableDB loads Redis' own bytes of whatever the other families built), sometimes one of a few fixed payloads
//! recorded from redis-server 7.0.15, valid and broken; with every option, TTLs far apart or in the past, and the
//! errors of each argument.

use super::{Check, Cmd, Gen};

/// Stands for the payload of an earlier DUMP in the run (`compare::run` puts it in; none yet: a fixed one).
pub const CAPTURED: &[u8] = b"\x00<captured DUMP payload>";

/// Payloads recorded from redis-server 7.0.15 (SET, RPUSH, SADD, HSET, ZADD of small values; a hash table, a
/// skiplist), then broken ones: a bad checksum, a truncated one, an unknown type, an empty set, RDB version 11.
const FIXED: &[&str] = &[
    "000568656c6c6f0a006372df766534200a",
    "00c00a0a006e9f57450eae63bb",
    "00c30932016161e025000161610a0009ac48b9ab15fbc9",
    "120102252500000007008161020101dfff02c12c02f178ec03f270110104f4001a71180200000009ff0a001d993fe420c169e6",
    "0b1c0400000005000000fbffffff010000000200000003000000a08601000a00d365f8d8af8752ac",
    "101b1b0000000600816102010181620202018163028568656c6c6f06ff0a00be10ed0842772901",
    "11c3363f133f0000000c00816402dffd0281670293302e3130e005001c3114816102010181630283312e3504816202020181660283696e6604ff0a00587965d8ad40d8d2",
    "040302663102763103626967c3094064017979e05700017979026632c0020a00bd4da6dd6d2ba6f4",
    "02040163c001016201610a00b5e09607ed6b53b8",
    "0504c3094064016d6de05700016d6d0000000000000840016200000000000004400161000000000000f03f016300000000000000000a0065bfb9f8cd20961d",
    "000568656c6c6f0a006372df766534200b",
    "000568656c6c6f0a006372df7665",
    "0700",
    "00000000000000000000000000",
    "",
];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
}

/// A TTL argument: none, far in the future (relative or ABSTTL), already past (with ABSTTL), or invalid.
fn ttl(g: &mut Gen) -> (String, bool) {
    match g.below(10) {
        0..=4 => ("0".into(), false),
        5 | 6 => ((g.range(1, 9) * 1_000_000).to_string(), false),
        7 => ("4102444800000".into(), true),
        8 => (g.pick(&["1", "1000"]).to_string(), true),
        _ => (g.pick(&["-1", "abc", "1.5", ""]).to_string(), false),
    }
}

pub fn dump(g: &mut Gen) -> Cmd {
    let k = g.key();
    match g.below(100) {
        0..=39 => Cmd::new("DUMP").arg(k).check(Check::Dump),
        _ => {
            let payload = if g.pct(75) { CAPTURED.to_vec() } else { hex(g.pick(FIXED)) };
            let (ttl, abs) = ttl(g);
            let mut c = Cmd::new("RESTORE").arg(k).arg(ttl).arg(payload);
            if abs || g.pct(10) {
                c.push(g.word("ABSTTL"));
            }
            if g.pct(50) {
                c.push(g.word("REPLACE"));
            }
            match g.below(12) {
                0 => {
                    c.push(g.word("IDLETIME"));
                    c.push(g.pick(&["0", "100", "-1", "x"]));
                }
                1 => {
                    c.push(g.word("FREQ"));
                    c.push(g.pick(&["0", "255", "256", "-1"]));
                }
                2 => {
                    c.push(g.word("FREQ"));
                    c.push("1");
                    c.push(g.word("IDLETIME"));
                    c.push("1");
                }
                3 => c.push(g.pick(&["BOGUS", "IDLETIME"])),
                _ => {}
            }
            // A past ABSTTL time cut off by the generic mutation would be a TTL of a second or less, whose expiry
            // lands at a different command on each server: such a command is never cut.
            if abs {
                c = c.fixed();
            }
            c
        }
    }
}
