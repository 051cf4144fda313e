//! What the hash, list, set and sorted set families share: loading a collection for reading or for writing
//! (WRONGTYPE when the key holds another type) and writing it back, deleting it when it became empty; the
//! cursors of HSCAN/SSCAN/ZSCAN over big collections; random sampling helpers.

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;

use parking_lot::Mutex;

use super::{CmdResult, Ctx};
use crate::storage::data::expect_collection;
use crate::storage::encoding::Collection;
use crate::storage::{Existing, KeyType, Txn};
use crate::util::random_u64;

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

/// Most collection scan cursors kept at once, and most bytes of keys and elements they may hold; the oldest go
/// first.
const MAX_SCAN_CURSORS: usize = 100_000;
const MAX_SCAN_CURSOR_BYTES: usize = 64 << 20;

/// Where HSCAN, SSCAN and ZSCAN of a big collection resume, server-wide: a cursor names (logical db, key, last
/// element examined), and the next call continues just after that element in the collection's sub-key order, so
/// elements present for the whole scan are returned exactly once and the scan always ends. An unknown or evicted
/// cursor starts over, which SCAN's guarantees allow.
#[derive(Default)]
pub struct ScanCursors {
    by_id: HashMap<u64, (usize, Vec<u8>, Vec<u8>)>,
    /// Ids in issue order, for eviction.
    order: VecDeque<u64>,
    bytes: usize,
}

/// The process-wide collection scan cursors.
pub fn scan_cursors() -> &'static Mutex<ScanCursors> {
    static CURSORS: OnceLock<Mutex<ScanCursors>> = OnceLock::new();
    CURSORS.get_or_init(Default::default)
}

impl ScanCursors {
    /// Remembers that a scan of `key` in logical database `db` stopped at `last`; returns the cursor naming it.
    pub fn save(&mut self, db: usize, key: &[u8], last: Vec<u8>) -> u64 {
        let id = loop {
            // Non-zero and below 2^63, so clients that parse cursors as signed integers work too.
            let id = random_u64() >> 1;
            if id != 0 && !self.by_id.contains_key(&id) {
                break id;
            }
        };
        self.bytes += key.len() + last.len();
        self.by_id.insert(id, (db, key.to_vec(), last));
        self.order.push_back(id);
        while self.by_id.len() > MAX_SCAN_CURSORS || self.bytes > MAX_SCAN_CURSOR_BYTES {
            let Some(old) = self.order.pop_front() else { break };
            if let Some((_, k, e)) = self.by_id.remove(&old) {
                self.bytes -= k.len() + e.len();
            }
        }
        id
    }

    /// The last element examined under `id`, if that cursor is known and belongs to `key` in `db`.
    pub fn resume(&self, id: u64, db: usize, key: &[u8]) -> Option<Vec<u8>> {
        self.by_id.get(&id).filter(|(d, k, _)| *d == db && k == key).map(|(_, _, e)| e.clone())
    }
}

/// Most elements SRANDMEMBER, HRANDFIELD and ZRANDMEMBER return for a negative count: Redis builds any reply, even
/// one of 2^63 elements (it runs out of memory); a bound keeps one command from exhausting the server.
pub const MAX_RANDOM_PICKS: u64 = 1 << 25;

/// A random number below `n` (`n` > 0; the modulo bias is negligible for collection sizes).
pub fn random_below(n: u64) -> u64 {
    random_u64() % n.max(1)
}

/// Shuffles `v` uniformly (Fisher–Yates), for random picks gathered in collection order.
pub fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, random_below(i as u64 + 1) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors_belong_to_their_key_and_db() {
        let mut c = ScanCursors::default();
        let id = c.save(0, b"k", b"m".to_vec());
        assert_eq!(c.resume(id, 0, b"k"), Some(b"m".to_vec()));
        assert_eq!(c.resume(id, 1, b"k"), None);
        assert_eq!(c.resume(id, 0, b"other"), None);
        assert_eq!(c.resume(id ^ 1, 0, b"k"), None);
    }

    #[test]
    fn shuffle_keeps_every_element() {
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut v);
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
