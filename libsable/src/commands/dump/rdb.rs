//! Redis 7.0's RDB object format (RDB version 10) as DUMP writes and RESTORE reads it (`rdb.c`, `cluster.c`):
//! lengths, strings (integer-encoded, LZF-compressed or raw), the object types of every Redis 7.0 encoding
//! (quicklist of listpacks, intset, listpack hash and sorted set, hash table, skiplist) plus the older ones Redis
//! 7.0 still loads (linked list, ziplists, quicklist of ziplists, string-scored sorted sets), and the payload
//! footer (RDB version, CRC64). Nothing here touches storage: values come in and go out as [`Value`].

use super::crc64::crc64;
use super::{listpack, lzf};
use crate::util::{fmt_g, parse_f64, parse_i64};

pub const RDB_VERSION: u16 = 10;

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
pub const TYPE_ZSET_2: u8 = 5;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

const QUICKLIST_NODE_PLAIN: u64 = 1;
const QUICKLIST_NODE_PACKED: u64 = 2;

/// A value as RESTORE decoded it (or DUMP is about to encode it). The RDB type it came in is kept where it
/// decides the encoding Redis gives the loaded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/// `rdbSaveLen`.
pub fn save_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.extend_from_slice(&[((n >> 8) as u8) | 0x40, n as u8]);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// `rdbTryIntegerEncoding` + `rdbEncodeInteger`: the integer encoding of `s` when it is the canonical text of an
/// integer that fits 32 bits.
fn integer_encoding(s: &[u8]) -> Option<Vec<u8>> {
    let v = parse_i64(s)?;
    if v.to_string().as_bytes() != s {
        return None;
    }
    if (-(1 << 7)..(1 << 7)).contains(&v) {
        Some(vec![0xc0 | ENC_INT8, v as i8 as u8])
    } else if (-(1 << 15)..(1 << 15)).contains(&v) {
        let mut e = vec![0xc0 | ENC_INT16];
        e.extend_from_slice(&(v as i16).to_le_bytes());
        Some(e)
    } else if (-(1i64 << 31)..(1i64 << 31)).contains(&v) {
        let mut e = vec![0xc0 | ENC_INT32];
        e.extend_from_slice(&(v as i32).to_le_bytes());
        Some(e)
    } else {
        None
    }
}

/// `rdbSaveLzfBlob`: an LZF string of `data` compressed to `compressed`.
fn save_lzf_blob(out: &mut Vec<u8>, compressed: &[u8], original_len: usize) {
    out.push(0xc0 | ENC_LZF);
    save_len(out, compressed.len() as u64);
    save_len(out, original_len as u64);
    out.extend_from_slice(compressed);
}

/// `rdbSaveRawString`: integers of at most 11 bytes as integers, longer than 20 bytes LZF-compressed when that
/// saves at least 4 bytes (with `rdbcompression yes`), else length and bytes.
pub fn save_string(out: &mut Vec<u8>, s: &[u8], compression: bool) {
    if s.len() <= 11 {
        if let Some(e) = integer_encoding(s) {
            out.extend_from_slice(&e);
            return;
        }
    }
    if compression && s.len() > 20 {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            save_lzf_blob(out, &c, s.len());
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// How `zzlInsertAt` stores a score in a listpack: the integer when `double2ll` finds one (so -0 is 0), else
/// `d2string`'s `%.17g`.
pub fn score_text(score: f64) -> Vec<u8> {
    let limit = (i64::MAX / 2) as f64;
    if (-limit..=limit).contains(&score) && (score as i64) as f64 == score {
        return (score as i64).to_string().into_bytes();
    }
    fmt_g(score, 17).into_bytes()
}

/// The options DUMP's encoding depends on.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    /// `rdbcompression`.
    pub compression: bool,
    /// `list-max-listpack-size` (quicklist fill).
    pub list_fill: i64,
    /// `list-compress-depth`.
    pub list_compress_depth: i64,
}

/// The quicklist node sizes `optimization_level` allows for negative fills.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT: usize = 8192;
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
const MIN_COMPRESS_BYTES: usize = 48;
const MIN_COMPRESS_IMPROVE: usize = 8;

/// `_quicklistNodeAllowInsert` for a node of `count` entries and `sz` bytes getting an element of `len` bytes.
fn allow_insert(fill: i64, count: usize, sz: usize, len: usize) -> bool {
    let new_sz = sz + len + SIZE_ESTIMATE_OVERHEAD;
    if fill < 0 {
        let offset = (-fill - 1) as usize;
        if offset < OPTIMIZATION_LEVEL.len() && new_sz <= OPTIMIZATION_LEVEL[offset] {
            return true;
        }
    }
    if new_sz > SIZE_SAFETY_LIMIT {
        return false;
    }
    (count as i64) < fill
}

/// The listpacks of the quicklist Redis builds by pushing `elements` at the tail one by one.
pub fn quicklist_nodes(elements: &[Vec<u8>], fill: i64) -> Vec<Vec<u8>> {
    let fill = fill.clamp(-5, 1 << 15);
    let mut nodes = Vec::new();
    let mut cur: Option<listpack::Builder> = None;
    for e in elements {
        let fits = cur.as_ref().is_some_and(|b| allow_insert(fill, b.count(), b.size(), e.len()));
        if !fits {
            if let Some(b) = cur.take() {
                nodes.push(b.finish());
            }
            cur = Some(listpack::Builder::new());
        }
        if let Some(b) = cur.as_mut() {
            b.push(e);
        }
    }
    if let Some(b) = cur {
        nodes.push(b.finish());
    }
    nodes
}

/// The whole DUMP payload of `value` written as `rdb_type`: type byte, object, RDB version, CRC64.
pub fn dump(rdb_type: u8, object: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(object.len() + 11);
    out.push(rdb_type);
    out.extend_from_slice(object);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// A string object (`RDB_TYPE_STRING`).
pub fn string_object(s: &[u8], opts: &SaveOptions) -> Vec<u8> {
    let mut out = Vec::new();
    save_string(&mut out, s, opts.compression);
    out
}

/// A list as `RDB_TYPE_LIST_QUICKLIST_2`: nodes filled as RPUSH fills them, the inner ones LZF-compressed as
/// `list-compress-depth` has Redis compress them.
pub fn list_object(elements: &[Vec<u8>], opts: &SaveOptions) -> Vec<u8> {
    let nodes = quicklist_nodes(elements, opts.list_fill);
    let depth = opts.list_compress_depth.max(0) as usize;
    let mut out = Vec::new();
    save_len(&mut out, nodes.len() as u64);
    let n = nodes.len();
    for (i, lp) in nodes.iter().enumerate() {
        save_len(&mut out, QUICKLIST_NODE_PACKED);
        let inner = depth > 0 && i >= depth && i + depth < n;
        let compressed = if inner && lp.len() >= MIN_COMPRESS_BYTES { lzf::compress(lp, lp.len()) } else { None };
        match compressed {
            Some(c) if c.len() + MIN_COMPRESS_IMPROVE < lp.len() => save_lzf_blob(&mut out, &c, lp.len()),
            _ => save_string(&mut out, lp, opts.compression),
        }
    }
    out
}

/// An intset blob of sorted integers in the narrowest width that holds them all.
pub fn intset(members: &[i64]) -> Vec<u8> {
    let width: usize = if members.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if members.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + members.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for &v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// A set as `RDB_TYPE_SET_INTSET` (`members` sorted ascending).
pub fn intset_object(members: &[i64], opts: &SaveOptions) -> Vec<u8> {
    string_object(&intset(members), opts)
}

/// A listpack of `items` saved as a string (hash and sorted set listpacks).
pub fn listpack_object<'a>(items: impl Iterator<Item = &'a [u8]>, opts: &SaveOptions) -> Vec<u8> {
    let mut b = listpack::Builder::new();
    for i in items {
        b.push(i);
    }
    string_object(&b.finish(), opts)
}

/// A count then strings: `RDB_TYPE_SET` (members) and `RDB_TYPE_HASH` (field, value, …; `count` pairs).
pub fn strings_object<'a>(count: usize, items: impl Iterator<Item = &'a [u8]>, opts: &SaveOptions) -> Vec<u8> {
    let mut out = Vec::new();
    save_len(&mut out, count as u64);
    for i in items {
        save_string(&mut out, i, opts.compression);
    }
    out
}

/// `RDB_TYPE_ZSET_2`: count, then member and binary score from the highest (the skiplist's tail) down.
pub fn zset2_object(descending: &[(Vec<u8>, f64)], opts: &SaveOptions) -> Vec<u8> {
    let mut out = Vec::new();
    save_len(&mut out, descending.len() as u64);
    for (m, s) in descending {
        save_string(&mut out, m, opts.compression);
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// `RDB_OPCODE_FUNCTION2`: one library's code in a FUNCTION DUMP payload.
const OPCODE_FUNCTION2: u8 = 245;

/// FUNCTION DUMP's payload: each library's code after the function opcode, then the RDB version and CRC64.
pub fn functions_payload<'a>(codes: impl Iterator<Item = &'a [u8]>, compression: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        save_string(&mut out, code, compression);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes of a FUNCTION RESTORE payload already [`verify`]d; None when malformed.
pub fn function_codes(payload: &[u8]) -> Option<Vec<Vec<u8>>> {
    let body = &payload[..payload.len().checked_sub(10)?];
    let mut r = Reader { buf: body, pos: 0 };
    let mut codes = Vec::new();
    while r.pos < body.len() {
        if r.byte()? != OPCODE_FUNCTION2 {
            return None;
        }
        codes.push(r.string()?);
    }
    Some(codes)
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/// `verifyDumpPayload`: at least the 10-byte footer, an RDB version Redis 7.0 knows, and the right CRC64.
pub fn verify(payload: &[u8]) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let footer = payload.len() - 10;
    let version = u16::from_le_bytes([payload[footer], payload[footer + 1]]);
    let crc = payload[footer + 2..].try_into().ok().map(u64::from_le_bytes);
    version <= RDB_VERSION && crc == Some(crc64(0, &payload[..payload.len() - 8]))
}

/// A cursor over a payload; every read is bounds-checked and fails as None.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// A length or an encoding marker.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    /// A reader from the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub fn byte(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }

    /// `rdbLoadLenByRef`.
    fn len_or_enc(&mut self) -> Option<Len> {
        let b = self.byte()?;
        Some(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            3 => Len::Encoded(b & 0x3f),
            _ => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.bytes(4)?.try_into().ok()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.bytes(8)?.try_into().ok()?)),
                _ => return None,
            },
        })
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&mut self) -> Option<u64> {
        match self.len_or_enc()? {
            Len::Plain(n) => Some(n),
            Len::Encoded(_) => None,
        }
    }

    /// A count of elements, each at least one byte, so never more than the bytes left.
    pub fn count(&mut self) -> Option<usize> {
        let n = self.len()?;
        let n = usize::try_from(n).ok()?;
        (n <= self.buf.len() - self.pos).then_some(n)
    }

    /// `rdbGenericLoadStringObject`.
    pub fn string(&mut self) -> Option<Vec<u8>> {
        match self.len_or_enc()? {
            Len::Plain(n) => Some(self.bytes(usize::try_from(n).ok()?)?.to_vec()),
            Len::Encoded(ENC_INT8) => Some((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(ENC_INT16) => {
                Some(i16::from_le_bytes(self.bytes(2)?.try_into().ok()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_INT32) => {
                Some(i32::from_le_bytes(self.bytes(4)?.try_into().ok()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_LZF) => {
                let clen = usize::try_from(self.len()?).ok()?;
                let len = usize::try_from(self.len()?).ok()?;
                let c = self.bytes(clen)?;
                if len == 0 {
                    return None;
                }
                lzf::decompress(c, len)
            }
            Len::Encoded(_) => None,
        }
    }

    /// `rdbLoadDoubleValue`: the text scores of `RDB_TYPE_ZSET`.
    fn text_double(&mut self) -> Option<f64> {
        match self.byte()? {
            253 => Some(f64::NAN),
            254 => Some(f64::INFINITY),
            255 => Some(f64::NEG_INFINITY),
            n => parse_f64(self.bytes(n as usize)?),
        }
    }

    fn binary_double(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }
}

/// The entries of a ziplist (`ziplist.c`), as strings, or None when malformed.
fn ziplist_entries(zl: &[u8]) -> Option<Vec<Vec<u8>>> {
    if zl.len() < 11 || u32::from_le_bytes(zl[0..4].try_into().ok()?) as usize != zl.len() {
        return None;
    }
    if *zl.last()? != 0xff {
        return None;
    }
    let body = &zl[..zl.len() - 1];
    let mut p = 10;
    let mut out = Vec::new();
    while p < body.len() {
        let prev = *body.get(p)?;
        p += if prev == 0xfe { 5 } else { 1 };
        let b = *body.get(p)?;
        let (head, value): (usize, Vec<u8>) = match b >> 6 {
            0 => {
                let n = (b & 0x3f) as usize;
                (1, body.get(p + 1..p + 1 + n)?.to_vec())
            }
            1 => {
                let n = (((b & 0x3f) as usize) << 8) | *body.get(p + 1)? as usize;
                (2, body.get(p + 2..p + 2 + n)?.to_vec())
            }
            2 => {
                let n = u32::from_be_bytes(body.get(p + 1..p + 5)?.try_into().ok()?) as usize;
                (5, body.get(p + 5..(p + 5).checked_add(n)?)?.to_vec())
            }
            _ => {
                let int = |bytes: &[u8]| -> i64 {
                    let mut v: u64 = 0;
                    for (i, &x) in bytes.iter().enumerate() {
                        v |= (x as u64) << (8 * i);
                    }
                    let shift = 64 - 8 * bytes.len() as u32;
                    ((v << shift) as i64) >> shift
                };
                let (n, v) = match b {
                    0xc0 => (2, int(body.get(p + 1..p + 3)?)),
                    0xd0 => (4, int(body.get(p + 1..p + 5)?)),
                    0xe0 => (8, int(body.get(p + 1..p + 9)?)),
                    0xf0 => (3, int(body.get(p + 1..p + 4)?)),
                    0xfe => (1, int(body.get(p + 1..p + 2)?)),
                    0xf1..=0xfd => (0, (b & 0x0f) as i64 - 1),
                    _ => return None,
                };
                (1 + n, v.to_string().into_bytes())
            }
        };
        let strlen = if b >> 6 == 3 { 0 } else { value.len() };
        p += head + strlen;
        out.push(value);
    }
    (p == body.len()).then_some(out)
}

/// The members of an intset blob, which must be sorted and free of duplicates.
fn intset_members(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let width = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let len = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() != 8usize.checked_add(len.checked_mul(width)?)? {
        return None;
    }
    let mut out = Vec::with_capacity(len);
    let mut last: Option<i64> = None;
    for chunk in blob[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes(chunk.try_into().ok()?) as i64,
            4 => i32::from_le_bytes(chunk.try_into().ok()?) as i64,
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if last.is_some_and(|l| l >= v) {
            return None;
        }
        last = Some(v);
        out.push(v.to_string().into_bytes());
    }
    Some(out)
}

/// Pairs of a flat list of strings; None for an odd count.
fn pairs(items: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !items.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Some(out)
}

/// Member/score pairs of a zset listpack or ziplist (scores as text).
fn zset_pairs(items: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, f64)>> {
    pairs(items)?.into_iter().map(|(m, s)| Some((m, parse_f64(&s)?))).collect()
}

/// `rdbLoadObjectType` + `rdbLoadObject` over a payload (see [`verify`]; Redis reads the whole payload, footer
/// included, so a short object may take its last bytes from the footer): the RDB type and the
/// value. None is Redis' "Bad data format": an unknown or unsupported type, a malformed encoding, an empty
/// collection. Trailing bytes are ignored, as Redis ignores them.
pub fn load(object: &[u8]) -> Option<(u8, Value)> {
    let mut r = Reader { buf: object, pos: 0 };
    let t = r.byte()?;
    let value = match t {
        TYPE_STRING => Value::String(r.string()?),
        TYPE_LIST => {
            let n = r.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(r.string()?);
            }
            Value::List(v)
        }
        TYPE_SET => {
            let n = r.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(r.string()?);
            }
            Value::Set(v)
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == TYPE_ZSET { r.text_double()? } else { r.binary_double()? };
                v.push((m, s));
            }
            Value::ZSet(v)
        }
        TYPE_HASH => {
            let n = r.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let f = r.string()?;
                v.push((f, r.string()?));
            }
            Value::Hash(v)
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let n = r.count()?;
            let mut v = Vec::new();
            for _ in 0..n {
                let container = if t == TYPE_LIST_QUICKLIST_2 { r.len()? } else { QUICKLIST_NODE_PACKED };
                let blob = r.string()?;
                match container {
                    QUICKLIST_NODE_PLAIN => v.push(blob),
                    QUICKLIST_NODE_PACKED if t == TYPE_LIST_QUICKLIST_2 => v.extend(listpack::entries(&blob)?),
                    QUICKLIST_NODE_PACKED => v.extend(ziplist_entries(&blob)?),
                    _ => return None,
                }
            }
            Value::List(v)
        }
        TYPE_LIST_ZIPLIST => Value::List(ziplist_entries(&r.string()?)?),
        TYPE_SET_INTSET => Value::Set(intset_members(&r.string()?)?),
        TYPE_ZSET_ZIPLIST => Value::ZSet(zset_pairs(ziplist_entries(&r.string()?)?)?),
        TYPE_ZSET_LISTPACK => Value::ZSet(zset_pairs(listpack::entries(&r.string()?)?)?),
        TYPE_HASH_ZIPLIST => Value::Hash(pairs(ziplist_entries(&r.string()?)?)?),
        TYPE_HASH_LISTPACK => Value::Hash(pairs(listpack::entries(&r.string()?)?)?),
        _ => return None,
    };
    let empty = match &value {
        Value::String(_) => false,
        Value::List(v) | Value::Set(v) => v.is_empty(),
        Value::Hash(v) => v.is_empty(),
        Value::ZSet(v) => v.is_empty(),
    };
    (!empty).then_some((t, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: SaveOptions = SaveOptions { compression: true, list_fill: -2, list_compress_depth: 0 };

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0)).collect()
    }

    #[test]
    fn strings_match_redis() {
        // DUMP on redis-server 7.0.15 of SET k 10, SET k hello, SET k <50 x 'a'>.
        assert_eq!(dump(TYPE_STRING, &string_object(b"10", &OPTS)), hex("00c00a0a006e9f57450eae63bb"));
        assert_eq!(dump(TYPE_STRING, &string_object(b"hello", &OPTS)), hex("000568656c6c6f0a006372df766534200a"));
        let a50 = dump(TYPE_STRING, &string_object(&[b'a'; 50], &OPTS));
        assert_eq!(a50, hex("00c30932016161e025000161610a0009ac48b9ab15fbc9"));
    }

    #[test]
    fn lengths() {
        for n in [0u64, 63, 64, 16383, 16384, u32::MAX as u64, u32::MAX as u64 + 1] {
            let mut out = Vec::new();
            save_len(&mut out, n);
            let mut r = Reader { buf: &out, pos: 0 };
            assert_eq!(r.len(), Some(n));
        }
    }

    #[test]
    fn objects_round_trip() {
        let list: Vec<Vec<u8>> = (0..3000).map(|i| format!("element-{i}").into_bytes()).collect();
        let payload = dump(TYPE_LIST_QUICKLIST_2, &list_object(&list, &OPTS));
        assert!(verify(&payload));
        assert_eq!(load(&payload), Some((TYPE_LIST_QUICKLIST_2, Value::List(list.clone()))));
        let deep = SaveOptions { list_compress_depth: 1, ..OPTS };
        let payload = dump(TYPE_LIST_QUICKLIST_2, &list_object(&list, &deep));
        assert!(verify(&payload));
        assert_eq!(load(&payload).map(|l| l.1), Some(Value::List(list)));
        let set = intset_object(&[-70000, 1, 5], &OPTS);
        let got = load(&[&[TYPE_SET_INTSET][..], &set].concat()).map(|l| l.1);
        assert_eq!(got, Some(Value::Set(vec![b"-70000".to_vec(), b"1".to_vec(), b"5".to_vec()])));
        let zs = zset2_object(&[(b"b".to_vec(), 2.5), (b"a".to_vec(), -0.0)], &OPTS);
        let got = load(&[&[TYPE_ZSET_2][..], &zs].concat()).map(|l| l.1);
        assert_eq!(got, Some(Value::ZSet(vec![(b"b".to_vec(), 2.5), (b"a".to_vec(), -0.0)])));
    }

    #[test]
    fn bad_payloads() {
        let good = dump(TYPE_STRING, &string_object(b"hello", &OPTS));
        assert!(verify(&good));
        let mut bad = good.clone();
        bad[2] ^= 1;
        assert!(!verify(&bad));
        let mut newer = good[..good.len() - 8].to_vec();
        newer[good.len() - 10] = 11;
        let crc = crc64(0, &newer);
        newer.extend_from_slice(&crc.to_le_bytes());
        assert!(!verify(&newer));
        assert!(!verify(&good[..9]));
        let list: Vec<Vec<u8>> = (0..50).map(|i| format!("e{i}").into_bytes()).collect();
        let obj = [&[TYPE_LIST_QUICKLIST_2][..], &list_object(&list, &OPTS)].concat();
        for cut in 0..obj.len() {
            assert_eq!(load(&obj[..cut]), None, "cut at {cut}");
        }
        assert_eq!(load(&[TYPE_SET, 0]), None);
        assert_eq!(load(&[7, 0]), None);
    }

    #[test]
    fn score_text_is_d2string() {
        assert_eq!(score_text(1.0), b"1");
        assert_eq!(score_text(1.5), b"1.5");
        assert_eq!(score_text(-0.0), b"0");
        assert_eq!(score_text(1e18), b"1000000000000000000");
        assert_eq!(score_text(1e19), b"1e+19");
        assert_eq!(score_text(0.1), b"0.10000000000000001");
        assert_eq!(score_text(f64::INFINITY), b"inf");
    }
}
