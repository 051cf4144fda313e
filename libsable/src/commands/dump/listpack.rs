//! Redis 7.0's listpack (`listpack.c`): building one the way `lpAppend` does (integers in the smallest integer
//! encoding, strings in the smallest string encoding, each entry followed by its back length) and reading one
//! from a RESTORE payload with every bound checked.

use crate::util::parse_i64;

const HEADER: usize = 6;
const END: u8 = 0xff;

/// A listpack under construction.
pub struct Builder {
    bytes: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

/// The integer `lpStringToInt64` reads from `s`, if any (at most 20 bytes, `string2ll` rules).
fn as_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    parse_i64(s)
}

fn backlen(out: &mut Vec<u8>, l: u64) {
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]);
    } else if l < 2097151 {
        out.extend_from_slice(&[(l >> 14) as u8, ((l >> 7) & 127) as u8 | 128, (l & 127) as u8 | 128]);
    } else if l < 268435455 {
        out.extend_from_slice(&[
            (l >> 21) as u8,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    } else {
        out.extend_from_slice(&[
            (l >> 28) as u8,
            ((l >> 21) & 127) as u8 | 128,
            ((l >> 14) & 127) as u8 | 128,
            ((l >> 7) & 127) as u8 | 128,
            (l & 127) as u8 | 128,
        ]);
    }
}

/// The encoded entry (without its back length) `lpAppend` writes for `s`.
fn entry(s: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(s.len() + 5);
    if let Some(v) = as_int(s) {
        if (0..=127).contains(&v) {
            e.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v };
            e.extend_from_slice(&[(u >> 8) as u8 | 0xc0, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            e.push(0xf1);
            e.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8388608..=8388607).contains(&v) {
            e.push(0xf2);
            e.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            e.push(0xf3);
            e.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            e.push(0xf4);
            e.extend_from_slice(&v.to_le_bytes());
        }
    } else if s.len() < 64 {
        e.push(0x80 | s.len() as u8);
        e.extend_from_slice(s);
    } else if s.len() < 4096 {
        e.extend_from_slice(&[0xe0 | (s.len() >> 8) as u8, s.len() as u8]);
        e.extend_from_slice(s);
    } else {
        e.push(0xf0);
        e.extend_from_slice(&(s.len() as u32).to_le_bytes());
        e.extend_from_slice(s);
    }
    e
}

impl Builder {
    pub fn new() -> Builder {
        Builder { bytes: vec![0; HEADER], count: 0 }
    }

    /// Appends `s` (`lpAppend`).
    pub fn push(&mut self, s: &[u8]) {
        let e = entry(s);
        let l = e.len() as u64;
        self.bytes.extend_from_slice(&e);
        backlen(&mut self.bytes, l);
        self.count += 1;
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The size the finished listpack has now (`lpBytes`): with its end byte.
    pub fn size(&self) -> usize {
        self.bytes.len() + 1
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.push(END);
        let total = self.bytes.len() as u32;
        self.bytes[0..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(u16::MAX as usize) as u16;
        self.bytes[4..6].copy_from_slice(&n.to_le_bytes());
        self.bytes
    }
}

/// Reads one integer of `n` little-endian bytes, sign-extended.
fn le_int(b: &[u8], n: usize) -> i64 {
    let mut v: u64 = 0;
    for (i, &x) in b[..n].iter().enumerate() {
        v |= (x as u64) << (8 * i);
    }
    let shift = 64 - 8 * n as u32;
    ((v << shift) as i64) >> shift
}

/// Every entry of listpack `lp` as strings (integers in decimal), or None when it is malformed: a header that
/// disagrees with its size or count, an entry out of bounds, a wrong back length, a missing end byte.
pub fn entries(lp: &[u8]) -> Option<Vec<Vec<u8>>> {
    if lp.len() < HEADER + 1 {
        return None;
    }
    let total = u32::from_le_bytes(lp[0..4].try_into().ok()?) as usize;
    let numele = u16::from_le_bytes(lp[4..6].try_into().ok()?) as usize;
    if total != lp.len() || lp[lp.len() - 1] != END {
        return None;
    }
    let body = &lp[..lp.len() - 1];
    let mut out = Vec::new();
    let mut p = HEADER;
    while p < body.len() {
        let b = body[p];
        let rest = &body[p..];
        let (head, value): (usize, Vec<u8>) = if b & 0x80 == 0 {
            (1, (b as i64).to_string().into_bytes())
        } else if b & 0xc0 == 0x80 {
            let n = (b & 0x3f) as usize;
            (1, rest.get(1..1 + n)?.to_vec())
        } else if b & 0xe0 == 0xc0 {
            let mut v = (((b & 0x1f) as i64) << 8) | *rest.get(1)? as i64;
            if v >= 1 << 12 {
                v -= 1 << 13;
            }
            (2, v.to_string().into_bytes())
        } else if b & 0xf0 == 0xe0 {
            let n = (((b & 0x0f) as usize) << 8) | *rest.get(1)? as usize;
            (2, rest.get(2..2 + n)?.to_vec())
        } else {
            match b {
                0xf0 => {
                    let n = u32::from_le_bytes(rest.get(1..5)?.try_into().ok()?) as usize;
                    (5, rest.get(5..5usize.checked_add(n)?)?.to_vec())
                }
                0xf1 => (3, le_int(rest.get(1..3)?, 2).to_string().into_bytes()),
                0xf2 => (4, le_int(rest.get(1..4)?, 3).to_string().into_bytes()),
                0xf3 => (5, le_int(rest.get(1..5)?, 4).to_string().into_bytes()),
                0xf4 => (9, le_int(rest.get(1..9)?, 8).to_string().into_bytes()),
                _ => return None,
            }
        };
        // The encoded length: the header plus, for strings, their bytes.
        let enc_len =
            if b & 0x80 == 0 || (b & 0xe0 == 0xc0) || (0xf1..=0xf4).contains(&b) { head } else { head + value.len() };
        let mut bl = Vec::new();
        backlen(&mut bl, enc_len as u64);
        if rest.get(enc_len..enc_len + bl.len())? != &bl[..] {
            return None;
        }
        p += enc_len + bl.len();
        out.push(value);
    }
    if numele != u16::MAX as usize && numele != out.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut b = Builder::new();
        for i in items {
            b.push(i);
        }
        b.finish()
    }

    #[test]
    fn encodings_match_redis() {
        // RPUSH l a 1 -1 300 -5000 70000 9000000000 on redis-server 7.0.15, the listpack inside its DUMP.
        let lp = build(&[b"a", b"1", b"-1", b"300", b"-5000", b"70000", b"9000000000"]);
        let want: Vec<u8> = vec![
            0x25, 0, 0, 0, 7, 0, 0x81, b'a', 2, 0x01, 1, 0xdf, 0xff, 2, 0xc1, 0x2c, 2, 0xf1, 0x78, 0xec, 3, 0xf2, 0x70,
            0x11, 0x01, 4, 0xf4, 0x00, 0x1a, 0x71, 0x18, 0x02, 0, 0, 0, 9, 0xff,
        ];
        assert_eq!(lp, want);
        let back = entries(&lp).expect("valid");
        let texts: Vec<&[u8]> = back.iter().map(|v| &v[..]).collect();
        assert_eq!(texts, vec![&b"a"[..], b"1", b"-1", b"300", b"-5000", b"70000", b"9000000000"]);
    }

    #[test]
    fn long_strings_round_trip() {
        let a = vec![b'x'; 100];
        let b = vec![b'y'; 5000];
        let lp = build(&[&a, &b, b"01", b"-0"]);
        assert_eq!(entries(&lp), Some(vec![a, b, b"01".to_vec(), b"-0".to_vec()]));
    }

    #[test]
    fn malformed_listpacks_are_refused() {
        let lp = build(&[b"abc", b"12"]);
        for cut in 0..lp.len() {
            assert_eq!(entries(&lp[..cut]), None);
        }
        let mut bad = lp.clone();
        bad[4] = 3;
        assert_eq!(entries(&bad), None);
        let mut bad = lp.clone();
        bad[10] = 9; // the first entry's back length
        assert_eq!(entries(&bad), None);
    }
}
