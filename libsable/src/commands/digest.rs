//! DEBUG DIGEST and DEBUG DIGEST-VALUE: Redis' SHA-1 digests of the data set and of single values (`debug.c`'s
//! `computeDatasetDigest` and `xorObjectDigest`), byte for byte, so a digest taken before and after something
//! that must not change the data (a restart, DEBUG RELOAD, a DUMP/RESTORE round trip) compares equal, and equals
//! redis-server's for the same data.
//!
//! Order matters only where Redis' order is defined: list elements and stream entries are mixed in (each step
//! hashes the digest so far), the keys of a database and the elements of sets, hashes and sorted sets are xored
//! together. Values are read through their DUMP encoding (`super::dump`), streams entry by entry.

use sha1_smol::Sha1;

use super::dump::{self, rdb};
use super::stream::{id as stream_id, store as stream_store};
use super::{CmdError, CmdResult, Ctx};
use crate::storage::encoding::MetaView;
use crate::storage::KeyType;
use crate::util::fmt_double;

pub type Digest = [u8; 20];

/// Redis' `xorDigest`: the digest xored with the SHA-1 of `data`.
fn xor(digest: &mut Digest, data: &[u8]) {
    let hash = Sha1::from(data).digest().bytes();
    digest.iter_mut().zip(hash).for_each(|(d, h)| *d ^= h);
}

/// Redis' `mixDigest`: SHA-1(digest xor SHA-1(data)), which makes the order of the data count.
fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    *digest = Sha1::from(&digest[..]).digest().bytes();
}

/// The 40 hex digits Redis replies with.
pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis' object type numbers (`OBJ_STRING`…`OBJ_STREAM`).
fn type_number(t: KeyType) -> u32 {
    match t {
        KeyType::String => 0,
        KeyType::List => 1,
        KeyType::Set => 2,
        KeyType::ZSet => 3,
        KeyType::Hash => 4,
        KeyType::Stream => 6,
    }
}

/// Mixes the value of record `m` into `digest` (Redis' `xorObjectDigest`).
pub fn mix_value(ctx: &Ctx, m: &MetaView, digest: &mut Digest) -> CmdResult {
    mix(digest, &type_number(m.key_type()).to_be_bytes());
    match m.key_type() {
        KeyType::String => mix(digest, m.body()),
        KeyType::Stream => {
            let s = stream_store::expect_stream(m)?;
            for (id, entry) in stream_store::entries(ctx.store, s.uid, stream_id::MIN_ID, stream_id::MAX_ID, 0, false)?
            {
                mix(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                for part in stream_store::entry_fields(&entry)? {
                    mix(digest, part);
                }
            }
        }
        _ => match decoded(ctx, m)? {
            rdb::Value::String(s) => mix(digest, &s),
            rdb::Value::List(elements) => elements.iter().for_each(|e| mix(digest, e)),
            rdb::Value::Set(members) => members.iter().for_each(|e| xor(digest, e)),
            rdb::Value::Hash(pairs) => {
                for (field, value) in pairs {
                    let mut element = Digest::default();
                    mix(&mut element, &field);
                    mix(&mut element, &value);
                    xor(digest, &element);
                }
            }
            rdb::Value::ZSet(entries) => {
                for (member, score) in entries {
                    let mut element = Digest::default();
                    mix(&mut element, &member);
                    mix(&mut element, fmt_double(score).as_bytes());
                    xor(digest, &element);
                }
            }
        },
    }
    if m.expire_at() != 0 {
        xor(digest, b"!!expire!!");
    }
    Ok(())
}

/// A collection's elements, read back from its DUMP payload.
fn decoded(ctx: &Ctx, m: &MetaView) -> CmdResult<rdb::Value> {
    decode(&dump::payload(ctx, m)?)
}

/// The value in a DUMP payload SableDB made (not a stream).
pub fn decode(payload: &[u8]) -> CmdResult<rdb::Value> {
    rdb::load(payload).map(|(_, v)| v).ok_or_else(|| CmdError::Storage("a value that does not decode".into()))
}

/// The digest of one key and its value, as DEBUG DIGEST xors it into the data set's.
pub fn mix_key(ctx: &Ctx, key: &[u8], m: &MetaView) -> CmdResult<Digest> {
    let mut digest = Digest::default();
    mix(&mut digest, key);
    mix_value(ctx, m, &mut digest)?;
    Ok(digest)
}

/// The data set's digest: per non-empty database its number mixed in, then every key's digest xored.
pub fn dataset(ctx: &Ctx) -> CmdResult<Digest> {
    let mut total = Digest::default();
    let databases = ctx.server.config.read().int("databases").max(0) as usize;
    for db in 0..databases {
        let mut cursor = crate::storage::data::owned_keys(&ctx.server.store, ctx.store.phys(db));
        let mut first = true;
        while let Some((key, meta)) = cursor.next()? {
            let m = MetaView::parse(meta).ok_or_else(|| CmdError::Storage("corrupt meta record".into()))?;
            if first {
                mix(&mut total, &(db as u32).to_be_bytes());
                first = false;
            }
            let key_digest = mix_key(ctx, key, &m)?;
            xor(&mut total, &key_digest);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_keeps_order_and_xoring_does_not() {
        let (mut ab, mut ba) = (Digest::default(), Digest::default());
        mix(&mut ab, b"a");
        mix(&mut ab, b"b");
        mix(&mut ba, b"b");
        mix(&mut ba, b"a");
        assert_ne!(ab, ba);
        let (mut x, mut y) = (Digest::default(), Digest::default());
        xor(&mut x, b"a");
        xor(&mut x, b"b");
        xor(&mut y, b"b");
        xor(&mut y, b"a");
        assert_eq!(x, y);
        // SHA-1("a") xored into zeros is SHA-1("a").
        let mut one = Digest::default();
        xor(&mut one, b"a");
        assert_eq!(hex(&one), "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8");
    }
}
