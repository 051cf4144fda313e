//! Generator of HyperLogLog commands for the differential tester. An HLL is a string, so besides the replies the
//! bytes themselves are compared: GET, GETRANGE of the cached cardinality and OBJECT ENCODING of HLL keys.
//! PFADD adds from none to a thousand elements of a pool of a few thousand, so sparse values grow past
//! `hll-sparse-max-bytes` (3000) and turn dense; PFCOUNT of one key rewrites the cached cardinality, of several
//! merges them; PFMERGE, PFDEBUG (GETREG, DECODE, ENCODING, TODENSE, an unknown subcommand) and, rarely,
//! PFSELFTEST. Errors come from the shared keys (other types, plain strings) and from broken HLLs: SET of crafted
//! values (sparse opcodes covering the 16384 registers or not, dense values of random registers, stale or valid
//! caches), headers changed with SETRANGE, opcodes appended.
//!
//! Bytes in the middle of an HLL are never rewritten here: an edit can leave a truncated two-byte opcode at the
//! end, which Redis reads together with the byte its in-memory string keeps past the end (docs/compatibility.md).

use super::{Cmd, Gen};

const HLL_KEYS: &[&str] = &["hll:a", "hll:b", "hll:c"];

/// Mostly one of the HLL keys, sometimes a shared key of any type.
fn key(g: &mut Gen) -> Vec<u8> {
    if g.pct(75) {
        g.pick(HLL_KEYS).as_bytes().to_vec()
    } else {
        g.key()
    }
}

fn element(g: &mut Gen) -> Vec<u8> {
    if g.pct(90) {
        format!("m{}", g.range(0, 4000)).into_bytes()
    } else {
        g.value()
    }
}

/// The 16-byte header of an HLL: `encoding` 0 dense, 1 sparse; the cached cardinality valid or stale.
fn header(g: &mut Gen, encoding: u8) -> Vec<u8> {
    let mut h = b"HYLL".to_vec();
    h.extend_from_slice(&[encoding, 0, 0, 0]);
    let card = match g.below(3) {
        0 => [0u8; 8],
        1 => [0, 0, 0, 0, 0, 0, 0, 0x80],
        _ => [g.range(0, 255) as u8, g.range(0, 3) as u8, 0, 0, 0, 0, 0, g.pick(&[0u8, 0x80, 0x7f])],
    };
    h.extend_from_slice(&card);
    h
}

/// Whole sparse opcodes covering `registers` registers.
fn sparse_runs(g: &mut Gen, registers: i64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut left = registers;
    while left > 0 {
        match g.below(4) {
            0 => {
                let n = g.range(65, 16384).min(left);
                if n > 64 {
                    out.push(0x40 | ((n - 1) >> 8) as u8);
                    out.push((n - 1) as u8);
                } else {
                    out.push((n - 1) as u8);
                }
                left -= n;
            }
            1 => {
                let n = g.range(1, 64).min(left);
                out.push((n - 1) as u8);
                left -= n;
            }
            _ => {
                let n = g.range(1, 4).min(left);
                let value = g.range(1, 32);
                out.push(0x80 | ((value - 1) << 2) as u8 | (n - 1) as u8);
                left -= n;
            }
        }
    }
    out
}

/// A crafted HLL: sparse (covering exactly the registers, or one more or one fewer), or dense with random
/// registers (sometimes all at 63, whose estimate overflows in Redis).
fn crafted(g: &mut Gen) -> Vec<u8> {
    if g.pct(25) {
        let mut v = header(g, 0);
        let fill = if g.pct(20) { 0xff } else { g.range(0, 255) as u8 };
        v.extend((0..12288).map(|i| if fill == 0xff || i % 7 != 0 { fill } else { (i % 251) as u8 }));
        return v;
    }
    let mut v = header(g, 1);
    let registers = match g.below(20) {
        0 => 16383,
        1 => 16385,
        _ => 16384,
    };
    v.extend(sparse_runs(g, registers));
    v
}

/// PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST, and the string commands that read or break HLL values.
pub fn hll(g: &mut Gen) -> Cmd {
    let k = key(g);
    match g.below(100) {
        0..=31 => {
            let n = match g.below(10) {
                0 => 0,
                1..=6 => g.range(1, 8),
                7 | 8 => g.range(50, 300),
                _ => g.range(500, 1000),
            };
            let mut c = Cmd::new("PFADD").arg(k);
            for _ in 0..n {
                c.push(element(g));
            }
            c
        }
        32..=46 => Cmd::new("PFCOUNT").arg(k),
        47..=53 => {
            let mut c = Cmd::new("PFCOUNT").arg(k);
            for _ in 0..g.range(1, 3) {
                c.push(key(g));
            }
            c
        }
        54..=61 => {
            let mut c = Cmd::new("PFMERGE").arg(k);
            for _ in 0..g.range(0, 3) {
                c.push(key(g));
            }
            c
        }
        62..=68 => {
            let sub = match g.below(20) {
                0..=5 => "ENCODING",
                6..=10 => "DECODE",
                11..=15 => "TODENSE",
                16 | 17 => "GETREG",
                _ => "NOSUCH",
            };
            Cmd::new("PFDEBUG").arg(g.word(sub)).arg(k)
        }
        69..=76 => Cmd::new("GET").arg(k),
        77 => Cmd::new("GETRANGE").arg(k).arg("8").arg("15"),
        78 => Cmd::new("OBJECT").arg(g.word("ENCODING")).arg(k),
        79..=82 => Cmd::new("SET").arg(k).arg(crafted(g)),
        83 => {
            // The magic, the encoding byte or the cached cardinality.
            let offset = g.pick(&[0, 3, 4, 4, 8, 15, 15]);
            let byte = g.pick(&[&b"\x00"[..], b"\x01", b"\x02", b"\x80", b"x", b"\x7f"]);
            Cmd::new("SETRANGE").arg(k).arg(offset.to_string()).arg(byte)
        }
        84 => {
            // Whole one-byte opcodes (ZERO, VAL), which break the register count.
            let tail = g.pick(&[&b"\x00"[..], b"\x3f", b"\x80", b"\x83", b"\xfc", b"\x00\x80"]);
            Cmd::new("APPEND").arg(k).arg(tail)
        }
        85 | 86 => Cmd::new("STRLEN").arg(k),
        87 if g.pct(30) => Cmd::new("SET").arg(k).arg(g.pick(&[&b"HYLL"[..], b"123", b"HYLL\x01\x00\x00\x00", b"bar"])),
        88..=92 => Cmd::new("DEL").arg(k),
        93 if g.pct(5) => Cmd::new("PFSELFTEST"),
        _ => Cmd::new("PFCOUNT").arg(k),
    }
}
