//! How Redis keys and values are laid out in RocksDB (see `docs/design/encoding.md`).
//!
//! Column family `meta`: key `[db: u16 BE][user key]`, value `[type: u8][expire_at_ms: u64 BE][body]`. The type
//! byte holds the [`KeyType`] in its low 4 bits and, for a string, its [`StrOrigin`] in bits 4–5. A string's body is
//! its bytes; a composite type's body starts with `[uid: u64 BE][len: u64 BE]` and its elements live in the
//! `data` family under that uid. Column family `expiry`: key `[expire_at_ms: u64 BE][db: u16 BE][user key]`, empty
//! value, so the keys due first are at the front.

/// Bytes before a meta record's body.
pub const META_HEADER: usize = 9;

/// The low bits of the type byte hold the [`KeyType`].
const TYPE_MASK: u8 = 0x0f;
/// Bits 4–5 of the type byte hold a string's [`StrOrigin`].
const ORIGIN_SHIFT: u8 = 4;
const ORIGIN_MASK: u8 = 0x30;

/// The Redis type a record holds; the byte values are on disk and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum KeyType {
    String = 1,
    Hash = 2,
    List = 3,
    Set = 4,
    ZSet = 5,
}

impl KeyType {
    /// The type of a record whose first byte is `b` (the origin bits above the type are ignored).
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b & TYPE_MASK {
            1 => KeyType::String,
            2 => KeyType::Hash,
            3 => KeyType::List,
            4 => KeyType::Set,
            5 => KeyType::ZSet,
            _ => return None,
        })
    }

    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String => "string",
            KeyType::Hash => "hash",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
        }
    }

    /// True for types whose elements live in the `data` family.
    pub fn is_composite(self) -> bool {
        self != KeyType::String
    }
}

/// How Redis would have built a string's object, which decides what OBJECT ENCODING and OBJECT REFCOUNT report
/// for it. Stored in bits 4–5 of the type byte; the values are on disk and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StrOrigin {
    /// Through `tryObjectEncoding` (SET and its variants, MSET, GETSET, the INCR family, APPEND creating the key):
    /// derived from the value — `int` for a canonical integer of at most 20 bytes (a shared object when
    /// 0 ≤ v < 10000), else `embstr` up to 44 bytes, else `raw`.
    Encoded = 0,
    /// Changed in place (APPEND to an existing key, SETRANGE, SETBIT, BITFIELD writes) or built by BITOP: `raw`
    /// with one reference, whatever the bytes look like.
    Raw = 1,
    /// Through `createStringObject` (INCRBYFLOAT): `embstr` up to 44 bytes, else `raw`; never an integer.
    Created = 2,
    /// COPY of an `Encoded` value (`dupStringObject`): the same encoding, but an integer is a private copy, never
    /// the shared object.
    Unshared = 3,
}

impl StrOrigin {
    fn from_bits(b: u8) -> Self {
        match (b & ORIGIN_MASK) >> ORIGIN_SHIFT {
            0 => StrOrigin::Encoded,
            1 => StrOrigin::Raw,
            2 => StrOrigin::Created,
            _ => StrOrigin::Unshared,
        }
    }
}

/// `[db][key]`: the meta family key of a user key.
pub fn meta_key(db: u16, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + key.len());
    k.extend_from_slice(&db.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// The first meta key of database `db` and the first of the next one, for range scans and range deletes.
/// Database indexes stop below `u16::MAX` (config `databases` is at most 65535), so `db + 1` always fits.
pub fn db_bounds(db: u16) -> (Vec<u8>, Vec<u8>) {
    (db.to_be_bytes().to_vec(), db.saturating_add(1).to_be_bytes().to_vec())
}

/// Splits a meta family key into database and user key.
pub fn split_meta_key(k: &[u8]) -> Option<(u16, &[u8])> {
    if k.len() < 2 {
        return None;
    }
    Some((u16::from_be_bytes([k[0], k[1]]), &k[2..]))
}

/// `[expire_at][db][key]`: the expiry index key.
pub fn expiry_key(expire_at: u64, db: u16, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(10 + key.len());
    k.extend_from_slice(&expire_at.to_be_bytes());
    k.extend_from_slice(&db.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Splits an expiry index key into (expire_at, db, user key).
pub fn split_expiry_key(k: &[u8]) -> Option<(u64, u16, &[u8])> {
    if k.len() < 10 {
        return None;
    }
    let at = u64::from_be_bytes(k[0..8].try_into().ok()?);
    let db = u16::from_be_bytes([k[8], k[9]]);
    Some((at, db, &k[10..]))
}

/// Encodes a string record whose value went through Redis' `tryObjectEncoding` (the common case: SET and its
/// variants).
pub fn encode_string(expire_at: u64, value: &[u8]) -> Vec<u8> {
    encode_string_as(expire_at, value, StrOrigin::Encoded)
}

/// Encodes a string record written the way `origin` describes.
pub fn encode_string_as(expire_at: u64, value: &[u8], origin: StrOrigin) -> Vec<u8> {
    let mut v = Vec::with_capacity(META_HEADER + value.len());
    v.push(KeyType::String as u8 | (origin as u8) << ORIGIN_SHIFT);
    v.extend_from_slice(&expire_at.to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// A read-only view of a meta record's bytes.
#[derive(Clone, Copy)]
pub struct MetaView<'a>(pub &'a [u8]);

impl<'a> MetaView<'a> {
    /// None when the bytes are too short or of an unknown type (a corrupt record is treated as absent by callers
    /// that must not crash, and reported).
    pub fn parse(raw: &'a [u8]) -> Option<Self> {
        if raw.len() < META_HEADER || KeyType::from_byte(raw[0]).is_none() {
            return None;
        }
        Some(MetaView(raw))
    }

    pub fn key_type(&self) -> KeyType {
        KeyType::from_byte(self.0[0]).unwrap_or(KeyType::String)
    }

    /// How a string record was written (meaningless for other types).
    pub fn string_origin(&self) -> StrOrigin {
        StrOrigin::from_bits(self.0[0])
    }

    /// Absolute expiry in ms since the epoch; 0 means no expiry.
    pub fn expire_at(&self) -> u64 {
        u64::from_be_bytes(self.0[1..9].try_into().unwrap_or([0; 8]))
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        let at = self.expire_at();
        at != 0 && at <= now_ms
    }

    /// Everything after the header: a string's value, a composite's uid/len/… .
    pub fn body(&self) -> &'a [u8] {
        &self.0[META_HEADER..]
    }
}

/// Returns `raw` with its expiry replaced (the type byte, with a string's origin, is kept).
pub fn with_expire(raw: &[u8], expire_at: u64) -> Vec<u8> {
    let mut v = raw.to_vec();
    v[1..9].copy_from_slice(&expire_at.to_be_bytes());
    v
}

/// The record COPY writes for a source record `raw`: Redis duplicates a string object (`dupStringObject`), which
/// keeps its encoding but turns a shared integer into a private one; anything else is copied as it is.
pub fn copy_record(raw: &[u8]) -> Vec<u8> {
    let mut v = raw.to_vec();
    let encoded = MetaView::parse(raw)
        .is_some_and(|m| m.key_type() == KeyType::String && m.string_origin() == StrOrigin::Encoded);
    if encoded {
        v[0] |= (StrOrigin::Unshared as u8) << ORIGIN_SHIFT;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_round_trip() {
        let raw = encode_string(42, b"hello");
        let m = MetaView::parse(&raw).unwrap();
        assert_eq!(m.key_type(), KeyType::String);
        assert_eq!(m.expire_at(), 42);
        assert_eq!(m.body(), b"hello");
        assert!(m.is_expired(42));
        assert!(!m.is_expired(41));
        let m2 = with_expire(&raw, 0);
        assert_eq!(MetaView::parse(&m2).unwrap().expire_at(), 0);
    }

    #[test]
    fn string_origin_lives_in_the_type_byte() {
        for origin in [StrOrigin::Encoded, StrOrigin::Raw, StrOrigin::Created, StrOrigin::Unshared] {
            let raw = encode_string_as(7, b"10", origin);
            assert_eq!(raw[0], 1 | (origin as u8) << 4);
            let m = MetaView::parse(&raw).unwrap();
            assert_eq!(
                (m.key_type(), m.string_origin(), m.expire_at(), m.body()),
                (KeyType::String, origin, 7, &b"10"[..])
            );
            let moved = with_expire(&raw, 99);
            let m = MetaView::parse(&moved).unwrap();
            assert_eq!((m.key_type(), m.string_origin(), m.expire_at()), (KeyType::String, origin, 99));
        }
        assert_eq!(encode_string(0, b"x"), encode_string_as(0, b"x", StrOrigin::Encoded));
        assert_eq!(encode_string(0, b"x")[0], KeyType::String as u8);
        for (from, to) in [
            (StrOrigin::Encoded, StrOrigin::Unshared),
            (StrOrigin::Raw, StrOrigin::Raw),
            (StrOrigin::Created, StrOrigin::Created),
            (StrOrigin::Unshared, StrOrigin::Unshared),
        ] {
            let copy = copy_record(&encode_string_as(5, b"1", from));
            assert_eq!(copy, encode_string_as(5, b"1", to));
        }
        assert_eq!(KeyType::from_byte(0x35), Some(KeyType::ZSet));
        assert_eq!(KeyType::from_byte(0x10), None);
        assert!(MetaView::parse(&[0x26, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn expiry_keys_sort_by_time_first() {
        let a = expiry_key(5, 9, b"z");
        let b = expiry_key(6, 0, b"a");
        assert!(a < b);
        assert_eq!(split_expiry_key(&a), Some((5, 9, &b"z"[..])));
    }

    #[test]
    fn db_bounds_cover_exactly_one_db() {
        let (lo, hi) = db_bounds(3);
        let k = meta_key(3, b"\xff\xff\xff");
        assert!(lo.as_slice() <= k.as_slice() && k.as_slice() < hi.as_slice());
        assert!(meta_key(4, b"").as_slice() >= hi.as_slice());
    }
}
