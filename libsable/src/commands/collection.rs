//! What the hash, list, set and sorted set families share: loading a collection for reading or for writing
//! (WRONGTYPE when the key holds another type) and writing it back, deleting it when it became empty.

use super::{CmdResult, Ctx};
use crate::storage::data::expect_collection;
use crate::storage::encoding::Collection;
use crate::storage::{Existing, KeyType, Txn};

/// The live collection at `key` for a reader (no lock): None when the key is missing, WRONGTYPE when it holds
/// another type. Counts a keyspace hit or miss.
pub fn read(ctx: &Ctx, key: &[u8], kind: KeyType) -> CmdResult<Option<Collection>> {
    let rec = super::string::lookup_read(ctx, key)?;
    rec.map(|r| expect_collection(&r.view(), kind)).transpose()
}

/// A collection loaded by a writer that holds the key's lock.
pub struct Loaded {
    /// The physical record, to pass to [`Txn::put`] / [`Txn::delete`] (may be expired).
    pub old: Option<Existing>,
    /// The live collection, if any.
    pub coll: Option<Collection>,
}

/// Loads `key` for writing: WRONGTYPE when a live key of another type is there.
pub fn load(txn: &Txn, db: u16, key: &[u8], kind: KeyType) -> CmdResult<Loaded> {
    let old = txn.load(db, key)?;
    let coll = old.as_ref().and_then(|o| o.live()).map(|m| expect_collection(&m, kind)).transpose()?;
    Ok(Loaded { old, coll })
}

/// Loads `key` for writing, or starts a new empty collection (with a fresh uid) when it is missing.
pub fn load_or_new(ctx: &Ctx, txn: &Txn, db: u16, key: &[u8], kind: KeyType) -> CmdResult<(Loaded, Collection)> {
    let loaded = load(txn, db, key, kind)?;
    let coll = match loaded.coll {
        Some(c) => c,
        None => Collection::new(kind, ctx.store.new_uid()?),
    };
    Ok((loaded, coll))
}

/// Writes `coll` back as `key`'s record: deleted when it has no elements left (Redis never keeps an empty
/// collection), otherwise put (its expiry is the one in `coll`).
pub fn store(txn: &mut Txn, db: u16, key: &[u8], old: Option<&Existing>, coll: &Collection) {
    match (coll.len, old) {
        (0, Some(old)) => txn.delete(db, key, old),
        (0, None) => {}
        _ => txn.put(db, key, old, &coll.encode()),
    }
}
