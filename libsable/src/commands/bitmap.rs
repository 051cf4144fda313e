//! Bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO over string records.
//!
//! Bits are numbered from the most significant bit of the first byte, as in Redis. Reads treat everything past
//! the end of the value as zero bits; writes grow the value with zero bytes.

use std::sync::atomic::Ordering;

use super::string::{clamp_range, lookup_read, modify_with_origin, string_body};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::storage::encoding::{encode_string_as, StrOrigin};
use crate::storage::KeyType;
use crate::util::parse_i64;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("bitcount", bitcount),
    ("bitfield", bitfield),
    ("bitfield_ro", bitfield_ro),
    ("bitop", bitop),
    ("bitpos", bitpos),
    ("getbit", getbit),
    ("setbit", setbit),
];

const OFFSET_ERR: &str = "bit offset is not an integer or out of range";

/// Parses a bit offset, limited (like Redis) to values whose byte lies below proto-max-bulk-len. With
/// `hash_bits`, BITFIELD's `#n` form means `n × bits`.
fn bit_offset(ctx: &Ctx, raw: &[u8], hash_bits: Option<u32>) -> CmdResult<u64> {
    let (digits, scale) = match (raw.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&raw[1..], bits as i64),
        _ => (raw, 1),
    };
    // Redis multiplies without an overflow check (two's complement wrap on its platforms).
    let v = parse_i64(digits).ok_or_else(|| CmdError::err(OFFSET_ERR))?.wrapping_mul(scale);
    if v < 0 || (v >> 3) >= ctx.server.max_bulk_len.load(Ordering::Relaxed) {
        return Err(CmdError::err(OFFSET_ERR));
    }
    Ok(v as u64)
}

/// The bit at `offset`, zero past the end.
fn bit_at(s: &[u8], offset: u64) -> bool {
    s.get((offset >> 3) as usize).is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

fn setbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let offset = bit_offset(ctx, args.next_bytes()?, None)?;
    let bit_err = || CmdError::err("bit is not an integer or out of range");
    let on = parse_i64(args.next_bytes()?).ok_or_else(bit_err)?;
    if on & !1 != 0 {
        return Err(bit_err());
    }
    let (was, changed) = modify_with_origin(ctx, key, |cur| {
        let byte = (offset >> 3) as usize;
        let mut new = cur.map_or(&[][..], |c| c.0).to_vec();
        let grown = new.len() <= byte;
        if grown {
            new.resize(byte + 1, 0);
        }
        let mask = 0x80u8 >> (offset & 7);
        let was = new[byte] & mask != 0;
        if on == 1 {
            new[byte] |= mask;
        } else {
            new[byte] &= !mask;
        }
        // Redis sets the bit in a raw string, a new one or an unshared copy of the old value; a bit that does
        // not change modifies nothing (WATCH, notifications), though the value still becomes a raw string.
        let unchanged = cur.is_some() && !grown && was == (on == 1);
        if unchanged && cur.is_some_and(|c| c.1 == StrOrigin::Raw) {
            return Ok((None, (was, false)));
        }
        Ok((Some((new, StrOrigin::Raw)), (was, !unchanged)))
    })?;
    if changed {
        notify(ctx, notify::STRING, "setbit", key);
    }
    ctx.out.int(was as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let offset = bit_offset(ctx, args.next_bytes()?, None)?;
    let bit = match lookup_read(ctx, key)? {
        Some(rec) => bit_at(string_body(&rec.view())?, offset),
        None => false,
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// Parses an optional trailing `BYTE` / `BIT` unit: true for BIT.
fn bit_unit(args: &mut Args) -> CmdResult<bool> {
    if args.is_empty() || args.eat("BYTE") {
        Ok(false)
    } else if args.eat("BIT") {
        Ok(true)
    } else {
        Err(CmdError::Syntax)
    }
}

/// The inclusive bit range of an inclusive `start..=end` range in `is_bit` units.
fn to_bits((start, end): (i64, i64), is_bit: bool) -> (u64, u64) {
    if is_bit {
        (start as u64, end as u64)
    } else {
        (start as u64 * 8, end as u64 * 8 + 7)
    }
}

/// Set bits of `s` in the inclusive bit range (which lies within `s`).
fn count_bits(s: &[u8], from: u64, to: u64) -> u64 {
    let (first, last) = ((from >> 3) as usize, (to >> 3) as usize);
    let bytes = &s[first..=last];
    let mut count: u64 = bytes.chunks(8).map(|c| c.iter().map(|b| b.count_ones() as u64).sum::<u64>()).sum();
    // Take back the bits of the edge bytes that lie outside the range.
    count -= (s[first] & !(0xffu8 >> (from & 7))).count_ones() as u64;
    count -= (s[last] & (0x7fu8 >> (to & 7))).count_ones() as u64;
    count
}

fn bitcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    // Redis looks the key up first: a missing key counts 0 whatever the other arguments are.
    let Some(rec) = lookup_read(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_body(&rec.view())?;
    let len = s.len() as i64;
    let range = match args.remaining() {
        0 => clamp_range(len, 0, -1).map(|r| to_bits(r, false)),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let is_bit = bit_unit(args)?;
            clamp_range(if is_bit { len * 8 } else { len }, start, end).map(|r| to_bits(r, is_bit))
        }
        _ => return Err(CmdError::Syntax),
    };
    ctx.out.int(range.map_or(0, |(from, to)| count_bits(s, from, to)) as i64);
    Ok(())
}

/// The first bit equal to `bit` in the inclusive bit range (which lies within `s`).
fn first_bit(s: &[u8], bit: bool, from: u64, to: u64) -> Option<u64> {
    let skip = if bit { 0x00 } else { 0xff };
    let mut pos = from;
    while pos <= to {
        if pos & 7 == 0 && pos + 7 <= to && s[(pos >> 3) as usize] == skip {
            pos += 8;
            continue;
        }
        if bit_at(s, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

fn bitpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let bit = args.next_i64()?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::err("The bit argument must be 1 or 0."));
    }
    // A missing key is an endless run of zero bits.
    let Some(rec) = lookup_read(ctx, key)? else {
        ctx.out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let s = string_body(&rec.view())?;
    let len = s.len() as i64;
    let (range, end_given) = match args.remaining() {
        0 => (clamp_range(len, 0, -1).map(|r| to_bits(r, false)), false),
        1..=3 => {
            let start = args.next_i64()?;
            let end_raw = if args.is_empty() { None } else { Some(args.next_bytes()?) };
            // Redis reads the unit before the end index, so a bad unit wins over a bad end.
            let is_bit = bit_unit(args)?;
            let total = if is_bit { len * 8 } else { len };
            let end = match end_raw {
                Some(raw) => parse_i64(raw).ok_or(CmdError::NotInteger)?,
                None => total - 1,
            };
            (clamp_range(total, start, end).map(|r| to_bits(r, is_bit)), end_raw.is_some())
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((from, to)) => match first_bit(s, bit == 1, from, to) {
            Some(p) => p as i64,
            // Without an explicit end the value continues with zero bits: the first one is right after it.
            None if bit == 0 && !end_given => to as i64 + 1,
            None => -1,
        },
    };
    ctx.out.int(pos);
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP's result: as long as the longest source, shorter ones padded with zero bytes.
fn bit_op(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let max = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let byte = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    (0..max)
        .map(|i| {
            let first = byte(srcs[0], i);
            match op {
                BitOp::Not => !first,
                BitOp::And => srcs[1..].iter().fold(first, |acc, s| acc & byte(s, i)),
                BitOp::Or => srcs[1..].iter().fold(first, |acc, s| acc | byte(s, i)),
                BitOp::Xor => srcs[1..].iter().fold(first, |acc, s| acc ^ byte(s, i)),
            }
        })
        .collect()
}

fn bitop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let op = [("AND", BitOp::And), ("OR", BitOp::Or), ("XOR", BitOp::Xor), ("NOT", BitOp::Not)]
        .into_iter()
        .find(|(word, _)| args.eat(word))
        .map(|(_, op)| op)
        .ok_or(CmdError::Syntax)?;
    let dest = args.next_bytes()?;
    let srcs = args.rest();
    if op == BitOp::Not && srcs.len() != 1 {
        return Err(CmdError::err("BITOP NOT must be called with a single source key."));
    }
    let keys: Vec<&[u8]> = std::iter::once(&dest[..]).chain(srcs.iter().map(|k| &k[..])).collect();
    let _guard = ctx.store.locks.lock(&keys);
    // Redis looks the sources up in order and stops at the first that is not a string (so a later missing one
    // counts no miss and publishes no `keymiss`).
    let mut recs = Vec::with_capacity(srcs.len());
    for key in srcs {
        let rec = lookup_read(ctx, key)?;
        if rec.as_ref().is_some_and(|r| r.view().key_type() != KeyType::String) {
            return Err(CmdError::WrongType);
        }
        recs.push(rec);
    }
    let views: Vec<_> = recs.iter().map(|r| r.as_ref().map(|r| r.view())).collect();
    let values = views
        .iter()
        .map(|v| v.as_ref().map(string_body).transpose().map(Option::unwrap_or_default))
        .collect::<CmdResult<Vec<&[u8]>>>()?;
    let result = bit_op(op, &values);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, dest)?;
    // The destination is overwritten whatever its type (and loses its TTL) by a new raw string; an empty result
    // deletes it.
    let event = if !result.is_empty() {
        txn.put(db, dest, old.as_ref(), encode_string_as(0, &result, StrOrigin::Raw));
        Some((notify::STRING, "set"))
    } else if let Some(old) = &old {
        txn.delete(db, dest, old);
        // A record that had expired is announced as such by the delete (see `crate::notify`).
        old.live().map(|_| (notify::GENERIC, "del"))
    } else {
        None
    };
    txn.commit()?;
    if let Some((class, name)) = event {
        notify(ctx, class, name, dest);
    }
    ctx.out.int(result.len() as i64);
    Ok(())
}

/// BITFIELD's overflow behaviour for SET and INCRBY.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD operation: an integer of `bits` bits (signed or not) at bit `offset`.
#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Parses a BITFIELD type: `i1`..`i64` or `u1`..`u63`.
fn field_type(raw: &[u8]) -> CmdResult<(bool, u32)> {
    let err = || {
        CmdError::err("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
    };
    let signed = match raw.first() {
        Some(b'i' | b'I') => true,
        Some(b'u' | b'U') => false,
        _ => return Err(err()),
    };
    // Redis reads the width as a C string, so it ends at a NUL byte.
    let digits = raw[1..].split(|&b| b == 0).next().unwrap_or_default();
    let bits = parse_i64(digits).filter(|&b| b >= 1 && b <= if signed { 64 } else { 63 }).ok_or_else(err)?;
    Ok((signed, bits as u32))
}

/// The unsigned integer of `bits` bits at bit `offset`, zero bits past the end.
fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    (0..bits as u64).fold(0u64, |v, i| (v << 1) | bit_at(s, offset + i) as u64)
}

/// The two's complement integer of `bits` bits at bit `offset`.
fn get_signed(s: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(s, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` (`s` is long enough).
fn set_field(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..bits as u64 {
        let on = (value >> (bits as u64 - 1 - i)) & 1 == 1;
        let pos = offset + i;
        let mask = 0x80u8 >> (pos & 7);
        let byte = &mut s[(pos >> 3) as usize];
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

/// Redis' checkUnsignedBitfieldOverflow: whether `value + incr` leaves the range of `bits` bits, and the value
/// WRAP or SAT makes of it.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrapped = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > max_incr) {
        Some(if overflow == Overflow::Sat { max } else { wrapped() })
    } else if incr < 0 && incr < min_incr {
        Some(if overflow == Overflow::Sat { 0 } else { wrapped() })
    } else {
        None
    }
}

/// Redis' checkSignedBitfieldOverflow, likewise for two's complement fields.
fn signed_overflow(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    // These may wrap; they are only used once `value` is known to be in range, where they do not.
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let c = (value as u64).wrapping_add(incr as u64);
        if bits == 64 {
            c as i64
        } else if c & (1 << (bits - 1)) != 0 {
            (c | (u64::MAX << bits)) as i64
        } else {
            (c & !(u64::MAX << bits)) as i64
        }
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        Some(if overflow == Overflow::Sat { max } else { wrapped() })
    } else if value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        Some(if overflow == Overflow::Sat { min } else { wrapped() })
    } else {
        None
    }
}

/// Runs one SET or INCRBY on `s` (long enough): the reply value, or `None` when OVERFLOW FAIL refused it.
fn apply_write(s: &mut [u8], f: &Field) -> Option<i64> {
    let (arg, is_incr) = match f.op {
        FieldOp::Set(v) => (v, false),
        FieldOp::IncrBy(v) => (v, true),
        FieldOp::Get => return Some(read_field(s, f)),
    };
    let (new, reply, overflowed) = if f.signed {
        let old = get_signed(s, f.offset, f.bits);
        let (value, incr) = if is_incr { (old, arg) } else { (arg, 0) };
        let limit = signed_overflow(value, incr, f.bits, f.overflow);
        let new = limit.unwrap_or(value.wrapping_add(incr));
        (new as u64, if is_incr { new } else { old }, limit.is_some())
    } else {
        let old = get_unsigned(s, f.offset, f.bits);
        let (value, incr) = if is_incr { (old, arg) } else { (arg as u64, 0) };
        let limit = unsigned_overflow(value, incr, f.bits, f.overflow);
        let new = limit.unwrap_or(value.wrapping_add(incr as u64));
        (new, if is_incr { new as i64 } else { old as i64 }, limit.is_some())
    };
    if overflowed && f.overflow == Overflow::Fail {
        return None;
    }
    set_field(s, f.offset, f.bits, new);
    Some(reply)
}

/// A GET: zero bits past the end of the value.
fn read_field(s: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(s, f.offset, f.bits)
    } else {
        get_unsigned(s, f.offset, f.bits) as i64
    }
}

fn bitfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

/// BITFIELD and BITFIELD_RO: every operation is parsed (and checked) before any runs; the value is grown to the
/// furthest bit written even when OVERFLOW FAIL then refuses the writes, as Redis does.
fn bitfield_generic(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest_write: Option<u64> = None;
    while !args.is_empty() {
        let more = args.remaining() - 1;
        let op = if more >= 2 && args.eat("GET") {
            FieldOp::Get
        } else if more >= 3 && args.eat("SET") {
            FieldOp::Set(0)
        } else if more >= 3 && args.eat("INCRBY") {
            FieldOp::IncrBy(0)
        } else if more >= 1 && args.eat("OVERFLOW") {
            overflow = [("WRAP", Overflow::Wrap), ("SAT", Overflow::Sat), ("FAIL", Overflow::Fail)]
                .into_iter()
                .find(|(word, _)| args.eat(word))
                .map(|(_, o)| o)
                .ok_or_else(|| CmdError::err("Invalid OVERFLOW type specified"))?;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(args.next_bytes()?)?;
        let offset = bit_offset(ctx, args.next_bytes()?, Some(bits))?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            FieldOp::Set(_) => FieldOp::Set(args.next_i64()?),
            FieldOp::IncrBy(_) => FieldOp::IncrBy(args.next_i64()?),
        };
        if op != FieldOp::Get {
            let last = offset + bits as u64 - 1;
            highest_write = Some(highest_write.map_or(last, |h| h.max(last)));
        }
        fields.push(Field { op, signed, bits, offset, overflow });
    }
    let results: Vec<Option<i64>> = match highest_write {
        None => {
            let rec = lookup_read(ctx, key)?;
            let s = match &rec {
                Some(r) => string_body(&r.view())?,
                None => &[][..],
            };
            fields.iter().map(|f| Some(read_field(s, f))).collect()
        }
        Some(_) if read_only => return Err(CmdError::err("BITFIELD_RO only supports the GET subcommand")),
        Some(highest) => {
            // A write that changes no byte is no modification (WATCH), though the value becomes a raw string.
            let (results, changed) = modify_with_origin(ctx, key, |cur| {
                let mut s = cur.map_or(&[][..], |c| c.0).to_vec();
                let need = (highest >> 3) as usize + 1;
                // Redis announces the call when a write was done on a created or grown value, or changed a field.
                let dirty = s.len() < need;
                if dirty {
                    s.resize(need, 0);
                }
                let mut changed = false;
                let results = fields
                    .iter()
                    .map(|f| {
                        let before = read_field(&s, f);
                        let r = apply_write(&mut s, f);
                        changed |= f.op != FieldOp::Get && r.is_some() && (dirty || read_field(&s, f) != before);
                        r
                    })
                    .collect();
                // Like SETBIT, even when every write fails with OVERFLOW FAIL.
                Ok((Some((s, StrOrigin::Raw)), (results, changed)))
            })?;
            if changed {
                notify(ctx, notify::STRING, "setbit", key);
            }
            results
        }
    };
    ctx.out.array(results.len());
    for r in results {
        match r {
            Some(v) => ctx.out.int(v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_bits_in_ranges() {
        let s = [0xffu8, 0x0f, 0x80];
        assert_eq!(count_bits(&s, 0, 23), 13);
        assert_eq!(count_bits(&s, 4, 11), 4);
        assert_eq!(count_bits(&s, 12, 16), 5);
        assert_eq!(count_bits(&s, 17, 23), 0);
    }

    #[test]
    fn finds_first_bits() {
        let s = [0xffu8, 0xff, 0x7f];
        assert_eq!(first_bit(&s, false, 0, 23), Some(16));
        assert_eq!(first_bit(&s, true, 16, 23), Some(17));
        assert_eq!(first_bit(&s, false, 0, 15), None);
        assert_eq!(first_bit(&[0, 0, 1], true, 0, 23), Some(23));
    }

    #[test]
    fn bit_ops_pad_with_zeros() {
        assert_eq!(bit_op(BitOp::And, &[b"\xff\xff", b"\x0f"]), b"\x0f\x00");
        assert_eq!(bit_op(BitOp::Or, &[b"\x01", b"\x10\x02"]), b"\x11\x02");
        assert_eq!(bit_op(BitOp::Xor, &[b"\xff", b"\x0f", b""]), b"\xf0");
        assert_eq!(bit_op(BitOp::Not, &[b"\x0f"]), b"\xf0");
        assert!(bit_op(BitOp::Not, &[b""]).is_empty());
    }

    #[test]
    fn field_types() {
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"U63"), Ok((false, 63)));
        for bad in [&b"u64"[..], b"i0", b"i65", b"x8", b"", b"i", b"i08"] {
            assert!(field_type(bad).is_err());
        }
    }

    #[test]
    fn fields_read_and_write() {
        let mut s = vec![0u8; 3];
        set_field(&mut s, 5, 8, 0xab);
        assert_eq!(get_unsigned(&s, 5, 8), 0xab);
        assert_eq!(get_signed(&s, 5, 8), 0xab_u8 as i8 as i64);
        assert_eq!(get_unsigned(&s, 20, 16), (get_unsigned(&s, 20, 4)) << 12);
        set_field(&mut s, 0, 24, 0x123456);
        assert_eq!(s, [0x12, 0x34, 0x56]);
    }

    #[test]
    fn overflow_rules() {
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_overflow(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(5, -10, 8, Overflow::Wrap), Some(251));
        assert_eq!(unsigned_overflow(u64::MAX, 0, 8, Overflow::Wrap), Some(255));
        assert_eq!(unsigned_overflow(5, 5, 8, Overflow::Wrap), None);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Sat), Some(127));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(signed_overflow(-128, -1, 8, Overflow::Wrap), Some(127));
        assert_eq!(signed_overflow(i64::MAX, 1, 64, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(signed_overflow(-1, i64::MIN, 64, Overflow::Sat), Some(i64::MIN));
        assert_eq!(signed_overflow(1000, 0, 4, Overflow::Wrap), Some(-8));
        assert_eq!(signed_overflow(-5, 3, 64, Overflow::Wrap), None);
    }
}
