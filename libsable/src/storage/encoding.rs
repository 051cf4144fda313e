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
    Stream = 6,
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
            6 => KeyType::Stream,
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
            KeyType::Stream => "stream",
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

/// [`meta_key`] behind a one-byte `tag` (a write scope's overlay key), built in one allocation.
pub fn meta_key_tagged(tag: u8, db: u16, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + key.len());
    k.push(tag);
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

/// Bit 4 of a composite's type byte: Redis would have converted the value to its big encoding (`hashtable` for
/// hashes and sets, `skiplist` for sorted sets), a conversion it never undoes while the key lives.
pub const BIG_ENCODING: u8 = 0x10;

/// The meta record of a hash, list, set or sorted set: `[type][expire_at][uid: u64][len: u64][head: u64]`. Its
/// elements are `data` family records keyed `[uid][sub key]` (see `docs/design/encoding.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    pub kind: KeyType,
    pub expire_at: u64,
    /// Unique to this incarnation of the key: never reused, so a deleted key's elements can never reappear.
    pub uid: u64,
    /// Number of elements (fields, members, list entries).
    pub len: u64,
    /// A list's index of its first element (elements are at `head .. head + len`); a hash's next insertion
    /// ordinal, counted from [`LIST_ORIGIN`] (see [`Collection::next_ordinal`]); unused by other types.
    pub head: u64,
    /// Redis would report the big encoding (see [`BIG_ENCODING`]).
    pub big: bool,
}

/// Bytes of a collection's body.
const COLLECTION_BODY: usize = 24;

/// Where a new list's indexes start: the middle of the u64 range, so it can grow 2^63 entries either way.
pub const LIST_ORIGIN: u64 = 1 << 63;

impl Collection {
    /// A new, empty collection; the caller adds elements and writes it only if it is not empty.
    pub fn new(kind: KeyType, uid: u64) -> Self {
        Collection { kind, expire_at: 0, uid, len: 0, head: LIST_ORIGIN, big: false }
    }

    /// The collection a meta record holds; None for a string (or a record too short to be a collection).
    pub fn from_view(m: &MetaView) -> Option<Self> {
        let kind = m.key_type();
        let body = m.body();
        if !kind.is_composite() || body.len() < COLLECTION_BODY {
            return None;
        }
        let word = |i: usize| u64::from_be_bytes(body[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        Some(Collection {
            kind,
            expire_at: m.expire_at(),
            uid: word(0),
            len: word(1),
            head: word(2),
            big: m.0[0] & BIG_ENCODING != 0,
        })
    }

    /// A hash's insertion ordinal for a field it does not hold yet (0 for its first field, never reused while
    /// the key lives), so a hash Redis keeps as a listpack can list its fields in insertion order.
    pub fn next_ordinal(&mut self) -> u64 {
        let ordinal = self.head.wrapping_sub(LIST_ORIGIN);
        self.head = self.head.wrapping_add(1);
        ordinal
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_HEADER + COLLECTION_BODY);
        v.push(self.kind as u8 | if self.big { BIG_ENCODING } else { 0 });
        v.extend_from_slice(&self.expire_at.to_be_bytes());
        v.extend_from_slice(&self.uid.to_be_bytes());
        v.extend_from_slice(&self.len.to_be_bytes());
        v.extend_from_slice(&self.head.to_be_bytes());
        v
    }
}

/// `raw` (a collection's meta record) with its uid replaced: COPY of a record whose body holds more than
/// [`Collection`] knows (a stream's).
pub fn with_uid(raw: &[u8], uid: u64) -> Vec<u8> {
    let mut v = raw.to_vec();
    if v.len() >= META_HEADER + 8 {
        v[META_HEADER..META_HEADER + 8].copy_from_slice(&uid.to_be_bytes());
    }
    v
}

/// `[uid][sub]`: the `data` family key of one element.
pub fn data_key(uid: u64, sub: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + sub.len());
    k.extend_from_slice(&uid.to_be_bytes());
    k.extend_from_slice(sub);
    k
}

/// A hash field's record value: `[insertion ordinal: LEB128 varint][value]` (see [`Collection::next_ordinal`]).
pub fn hash_field_value(ordinal: u64, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(value.len() + 2);
    let mut rest = ordinal;
    while rest >= 0x80 {
        v.push(rest as u8 | 0x80);
        rest >>= 7;
    }
    v.push(rest as u8);
    v.extend_from_slice(value);
    v
}

/// Inverse of [`hash_field_value`]: (ordinal, value). A record too damaged to hold an ordinal reads as ordinal 0
/// with all its bytes as the value, so every reader stays total.
pub fn split_hash_field(raw: &[u8]) -> (u64, &[u8]) {
    let mut ordinal = 0u64;
    for (i, &b) in raw.iter().enumerate().take(10) {
        ordinal |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (ordinal, &raw[i + 1..]);
        }
    }
    (0, raw)
}

/// A list element's sub key: its index, big-endian.
pub fn list_sub(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// Sorted set sub keys: `[0][member]` → score, and `[1][score key][member]` → empty for ordered access.
pub const ZSET_BY_MEMBER: u8 = 0;
pub const ZSET_BY_SCORE: u8 = 1;

/// A score as 8 bytes whose unsigned byte order is the numeric order (-inf first, +inf last). -0.0 is stored as
/// 0.0 so that the two sort together, as Redis compares them equal (and then orders by member).
pub fn score_key(score: f64) -> [u8; 8] {
    let score = if score == 0.0 { 0.0 } else { score };
    let bits = score.to_bits();
    let ordered = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
    ordered.to_be_bytes()
}

/// Inverse of [`score_key`].
pub fn score_from_key(k: [u8; 8]) -> f64 {
    let ordered = u64::from_be_bytes(k);
    let bits = if ordered >> 63 == 1 { ordered & !(1 << 63) } else { !ordered };
    f64::from_bits(bits)
}

/// `[1][score key][member]`: a sorted set member's entry in score order.
pub fn zset_score_sub(score: f64, member: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + member.len());
    k.push(ZSET_BY_SCORE);
    k.extend_from_slice(&score_key(score));
    k.extend_from_slice(member);
    k
}

/// `[0][member]`: a sorted set member's entry by name (its value is the score's 8 native bytes, big-endian).
pub fn zset_member_sub(member: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + member.len());
    k.push(ZSET_BY_MEMBER);
    k.extend_from_slice(member);
    k
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
    fn hash_field_values_keep_their_ordinal() {
        for ordinal in [0, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            for value in [&b""[..], b"v", &[0x80, 0xff, 0]] {
                assert_eq!(split_hash_field(&hash_field_value(ordinal, value)), (ordinal, value));
            }
        }
        assert_eq!(hash_field_value(5, b"x"), b"\x05x");
        assert_eq!(split_hash_field(&[0xff; 3]), (0, &[0xff; 3][..]), "a damaged record reads whole");
        let mut c = Collection::new(KeyType::Hash, 1);
        assert_eq!((c.next_ordinal(), c.next_ordinal()), (0, 1));
    }

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
        assert_eq!(KeyType::from_byte(0x06), Some(KeyType::Stream));
        assert!(MetaView::parse(&[0x27, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn collection_round_trip() {
        let mut c = Collection::new(KeyType::List, 77);
        c.len = 3;
        c.head = LIST_ORIGIN - 3;
        c.expire_at = 9;
        c.big = true;
        let raw = c.encode();
        let m = MetaView::parse(&raw).unwrap();
        assert_eq!(m.key_type(), KeyType::List);
        assert_eq!(m.expire_at(), 9);
        assert_eq!(Collection::from_view(&m), Some(c));
        let moved = with_expire(&raw, 5);
        assert_eq!(Collection::from_view(&MetaView(&moved)).unwrap().expire_at, 5);
        assert!(Collection::from_view(&MetaView(&encode_string(0, b"x"))).is_none());
    }

    #[test]
    fn score_keys_sort_numerically() {
        let scores =
            [f64::NEG_INFINITY, -1e300, -2.5, -1.0, -f64::MIN_POSITIVE, 0.0, 1e-300, 1.0, 2.5, 1e300, f64::INFINITY];
        for w in scores.windows(2) {
            assert!(score_key(w[0]) < score_key(w[1]), "{} {}", w[0], w[1]);
        }
        for s in scores {
            assert_eq!(score_from_key(score_key(s)), s);
        }
        assert_eq!(score_key(-0.0), score_key(0.0));
        assert!(zset_score_sub(1.0, b"b") > zset_score_sub(1.0, b"a"));
        assert!(zset_score_sub(1.0, b"a") > zset_member_sub(b"zzz"));
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
