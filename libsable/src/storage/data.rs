//! The elements of hashes, lists, sets and sorted sets: the `data` column family, keyed `[uid][sub key]` under
//! the collection's unique id; uid allocation; and the collector that reclaims the elements of collections that
//! were deleted, overwritten, expired or flushed (their uids are queued in the `gc` family by the same batch
//! that dropped the meta record, so a crash can never leak them).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rocksdb::{DBRawIterator, ReadOptions, WriteBatch, DB};

use super::encoding::{data_key, db_bounds, Collection, MetaView};
use super::{
    scope, scope_lookup, Existing, Op, Store, Txn, CF_DATA, CF_GC, CF_META, CF_SYS, TAG_DATA, TAG_GC, TAG_META,
};
use crate::commands::error::{CmdError, CmdResult};
use crate::storage::encoding::KeyType;

const SYS_UID_RESERVED: &[u8] = b"uid_reserved";
/// Uids reserved on disk at a time, so allocation rarely writes.
const UID_BLOCK: u64 = 1 << 16;

/// Hands out collection uids that are never reused, even across crashes: the next block is reserved on disk
/// (in the WAL) before any uid of it can be written in a record.
pub(super) struct UidAllocator {
    next: AtomicU64,
    reserved: Mutex<u64>,
}

impl UidAllocator {
    pub(super) fn load(db: &DB) -> Result<UidAllocator, String> {
        let cf = db.cf_handle(CF_SYS).ok_or("missing sys column family")?;
        let stored = db.get_cf(cf, SYS_UID_RESERVED).map_err(|e| e.to_string())?;
        let reserved = stored.and_then(|b| b.as_slice().try_into().ok()).map(u64::from_be_bytes).unwrap_or(1);
        Ok(UidAllocator { next: AtomicU64::new(reserved), reserved: Mutex::new(reserved) })
    }
}

/// Most collections with [`Bounds`] remembered; past it they are all forgotten (they are only hints).
const MAX_BOUNDS: usize = 65_536;

/// What pops from the ends of an ordered section (a sorted set's score order) leave behind: RocksDB keeps a
/// deleted record as a tombstone until compaction, and a walk from the start must step over every one of them,
/// which makes draining a collection front to back quadratic. A pop remembers the last key it removed; the next
/// walk from that end starts there. In memory only (after a restart the first walk pays once).
#[derive(Default, Clone)]
pub struct Bounds {
    /// Nothing live is below this sub key.
    pub low: Option<Vec<u8>>,
    /// Nothing live is at or above this sub key.
    pub high: Option<Vec<u8>>,
}

/// A forward or backward walk over part of one collection's elements, as (sub key, value) pairs (or over the
/// keys of one database, see [`Store::key_cursor`]). It reads a consistent snapshot taken when it was made: the
/// committed records, merged with the writes a pinned write scope (a transaction being executed, see
/// [`scope::pin`]) has not committed yet, which win over the records they replace.
pub struct DataCursor<'a> {
    it: DBRawIterator<'a>,
    reverse: bool,
    /// The prefix (uid, or database) of every key in the range, cut from each key returned.
    prefix: Vec<u8>,
    /// Uncommitted writes in the range as (full key, value or None for a delete), in walk order.
    pending: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    pos: usize,
    /// Which sources the element returned last came from: they move on before the next one is read.
    last: Step,
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// Nothing returned since the cursor was positioned.
    Fresh,
    Committed,
    Pending,
    /// A pending write that replaces a committed record of the same key.
    Both,
}

impl DataCursor<'_> {
    /// The next element, or None at the end of the range.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> CmdResult<Option<(&[u8], &[u8])>> {
        loop {
            let (committed, pending) = match self.last {
                Step::Fresh => (false, false),
                Step::Committed => (true, false),
                Step::Pending => (false, true),
                Step::Both => (true, true),
            };
            if committed {
                if self.reverse {
                    self.it.prev();
                } else {
                    self.it.next();
                }
            }
            if pending {
                self.pos += 1;
            }
            let ahead = self.it.key().filter(|k| k.len() >= self.prefix.len());
            self.last = match (ahead, self.pending.get(self.pos)) {
                (None, None) => {
                    self.last = Step::Fresh;
                    self.it.status()?;
                    return Ok(None);
                }
                (Some(_), None) => Step::Committed,
                (None, Some(_)) => Step::Pending,
                (Some(k), Some((p, _))) => match (k.cmp(p.as_slice()), self.reverse) {
                    (std::cmp::Ordering::Equal, _) => Step::Both,
                    (std::cmp::Ordering::Less, false) | (std::cmp::Ordering::Greater, true) => Step::Committed,
                    _ => Step::Pending,
                },
            };
            if self.last == Step::Committed {
                break;
            }
            if self.pending[self.pos].1.is_some() {
                break;
            }
            // A pending delete: skip it (and the record it removes).
        }
        let n = self.prefix.len();
        Ok(match self.last {
            Step::Committed => self.it.key().zip(self.it.value()).map(|(k, v)| (&k[n..], v)),
            _ => self.pending.get(self.pos).and_then(|(k, v)| Some((&k[n..], v.as_deref()?))),
        })
    }

    /// Repositions at the first element at or after `sub` (backwards: at or before), over the same snapshot and
    /// without the cost of a new iterator (random picks seek many times).
    pub fn seek(&mut self, sub: &[u8]) {
        let mut k = Vec::with_capacity(self.prefix.len() + sub.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(sub);
        if self.reverse {
            self.it.seek_for_prev(&k);
            self.pos = self.pending.partition_point(|(p, _)| p.as_slice() > k.as_slice());
        } else {
            self.it.seek(&k);
            self.pos = self.pending.partition_point(|(p, _)| p.as_slice() < k.as_slice());
        }
        self.last = Step::Fresh;
    }

    /// Back to the start of the range, over the same snapshot (a count pass before a streaming pass).
    pub fn rewind(&mut self) {
        if self.reverse {
            self.it.seek_to_last();
        } else {
            self.it.seek_to_first();
        }
        self.pos = 0;
        self.last = Step::Fresh;
    }
}

/// A [`DataCursor`] that owns a reference to the store, so it can outlive the command that made it: a reply
/// streamed to a slow client over many writes.
pub struct OwnedDataCursor {
    // Declared first so it is dropped before the store it borrows from.
    cursor: DataCursor<'static>,
    _store: Arc<Store>,
}

impl OwnedDataCursor {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> CmdResult<Option<(&[u8], &[u8])>> {
        self.cursor.next()
    }

    pub fn rewind(&mut self) {
        self.cursor.rewind()
    }

    pub fn seek(&mut self, sub: &[u8]) {
        self.cursor.seek(sub)
    }
}

/// [`Store::data_range`] for a cursor that outlives the borrow of the store.
pub fn owned_range(store: &Arc<Store>, uid: u64, from: &[u8], to: Option<&[u8]>, reverse: bool) -> OwnedDataCursor {
    own(store, store.data_range(uid, from, to, reverse))
}

/// [`Store::key_cursor`] for a cursor that outlives the borrow of the store.
pub fn owned_keys(store: &Arc<Store>, db: u16) -> OwnedDataCursor {
    own(store, store.key_cursor(db))
}

fn own(store: &Arc<Store>, cursor: DataCursor<'_>) -> OwnedDataCursor {
    // SAFETY: the cursor borrows the RocksDB handle inside the `Store`, which lives on the heap behind the `Arc`
    // held next to it, so it neither moves nor is freed while the cursor exists; the field order drops the cursor
    // first.
    let cursor = unsafe { std::mem::transmute::<DataCursor<'_>, DataCursor<'static>>(cursor) };
    OwnedDataCursor { cursor, _store: store.clone() }
}

impl Store {
    /// The remembered [`Bounds`] of collection `uid`. Callers hold the key's lock.
    pub fn live_bounds(&self, uid: u64) -> Bounds {
        self.bounds.lock().get(&uid).cloned().unwrap_or_default()
    }

    /// After pops from the front (`low`) or the back: everything up to and including `sub` is gone.
    pub fn popped_through(&self, uid: u64, sub: &[u8], low: bool) {
        let mut all = self.bounds.lock();
        if all.len() >= MAX_BOUNDS {
            all.clear();
        }
        let b = all.entry(uid).or_default();
        if low {
            b.low = Some(sub.to_vec());
        } else {
            b.high = Some(sub.to_vec());
        }
    }

    /// Before an insert at `sub`: the bounds may no longer exclude it.
    pub fn inserting(&self, uid: u64, sub: &[u8]) {
        let mut all = self.bounds.lock();
        if let Some(b) = all.get_mut(&uid) {
            if b.low.as_deref().is_some_and(|low| sub < low) {
                b.low = None;
            }
            if b.high.as_deref().is_some_and(|high| sub >= high) {
                b.high = None;
            }
        }
    }

    /// A new collection uid.
    pub fn new_uid(&self) -> CmdResult<u64> {
        let uid = self.uids.next.fetch_add(1, Ordering::Relaxed);
        let mut reserved = self.uids.reserved.lock();
        if uid >= *reserved {
            let upto = uid + UID_BLOCK;
            self.db.put_cf_opt(self.cf(CF_SYS), SYS_UID_RESERVED, upto.to_be_bytes(), &self.write_opts)?;
            *reserved = upto;
        }
        Ok(uid)
    }

    /// One element of collection `uid` (committed, or pending in this thread's write scope).
    pub fn data_get(&self, uid: u64, sub: &[u8]) -> CmdResult<Option<Vec<u8>>> {
        let k = data_key(uid, sub);
        if let Some(pending) = scope_lookup(TAG_DATA, &k) {
            return Ok(pending);
        }
        Ok(self.db.get_cf(self.cf(CF_DATA), &k)?)
    }

    /// Walks the elements of `uid` whose sub keys are in `from ..` (up to `to`, exclusive, when given), from the
    /// first or, with `reverse`, from the last. Commits this thread's scope first so the walk sees its writes
    /// (a pinned scope is merged into the walk instead).
    pub fn data_range(&self, uid: u64, from: &[u8], to: Option<&[u8]>, reverse: bool) -> DataCursor<'_> {
        let lo = data_key(uid, from);
        let hi = match to {
            Some(to) => data_key(uid, to),
            None => end_of(uid),
        };
        self.cursor(CF_DATA, TAG_DATA, lo, hi, reverse, uid.to_be_bytes().to_vec())
    }

    /// Walks the meta records of physical database `db` as (user key, record) pairs, expired ones included.
    pub fn key_cursor(&self, db: u16) -> DataCursor<'_> {
        let (lo, hi) = db_bounds(db);
        self.cursor(CF_META, TAG_META, lo, hi, false, db.to_be_bytes().to_vec())
    }

    fn cursor(&self, cf: &str, tag: u8, lo: Vec<u8>, hi: Vec<u8>, reverse: bool, prefix: Vec<u8>) -> DataCursor<'_> {
        scope::settle();
        let pending = scope::pending_in(tag, &lo, &hi, reverse);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(lo);
        ro.set_iterate_upper_bound(hi);
        let mut it = self.db.raw_iterator_cf_opt(self.cf(cf), ro);
        if reverse {
            it.seek_to_last();
        } else {
            it.seek_to_first();
        }
        DataCursor { it, reverse, prefix, pending, pos: 0, last: Step::Fresh }
    }

    /// The uids of the collections stored in physical database `db`.
    pub(super) fn collection_uids(&self, db: u16) -> CmdResult<Vec<u64>> {
        let (lo, hi) = db_bounds(db);
        let mut ro = ReadOptions::default();
        ro.set_iterate_upper_bound(hi);
        let mut it = self.db.raw_iterator_cf_opt(self.cf(CF_META), ro);
        it.seek(lo);
        let mut uids = Vec::new();
        while let Some(v) = it.value() {
            if let Some(c) = MetaView::parse(v).and_then(|m| Collection::from_view(&m)) {
                uids.push(c.uid);
            }
            it.next();
        }
        it.status()?;
        Ok(uids)
    }

    /// Removes the elements of up to `budget` dropped collections (one range delete each). Returns how many
    /// collections were reclaimed.
    pub fn collect_garbage(&self, budget: usize) -> CmdResult<usize> {
        let mut uids = Vec::new();
        {
            let mut it = self.db.raw_iterator_cf(self.cf(CF_GC));
            it.seek_to_first();
            while let Some(k) = it.key() {
                uids.push(k.to_vec());
                if uids.len() >= budget {
                    break;
                }
                it.next();
            }
            it.status()?;
        }
        if uids.is_empty() {
            return Ok(0);
        }
        let mut batch = WriteBatch::default();
        for k in &uids {
            if let Ok(bytes) = <[u8; 8]>::try_from(k.as_slice()) {
                self.drop_elements(&mut batch, u64::from_be_bytes(bytes))?;
            }
            batch.delete_cf(self.cf(CF_GC), k);
        }
        self.db.write_opt(batch, &self.write_opts)?;
        Ok(uids.len())
    }

    /// Deletes every element of `uid`: one point delete each for a small collection, one range delete for a big
    /// one. Range tombstones in the memtable cost something to every iterator created until it is flushed, so
    /// they are kept for collections where point deletes would cost more.
    fn drop_elements(&self, batch: &mut WriteBatch, uid: u64) -> CmdResult {
        const POINT_DELETES: usize = 256;
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(uid.to_be_bytes().to_vec());
        ro.set_iterate_upper_bound(end_of(uid));
        let mut it = self.db.raw_iterator_cf_opt(self.cf(CF_DATA), ro);
        it.seek_to_first();
        let mut keys = Vec::new();
        while let Some(k) = it.key() {
            if keys.len() == POINT_DELETES {
                batch.delete_range_cf(self.cf(CF_DATA), uid.to_be_bytes().to_vec(), end_of(uid));
                return Ok(());
            }
            keys.push(k.to_vec());
            it.next();
        }
        it.status()?;
        for k in keys {
            batch.delete_cf(self.cf(CF_DATA), k);
        }
        self.bounds.lock().remove(&uid);
        Ok(())
    }

    /// Collections whose elements wait for the collector (INFO).
    pub fn garbage_pending(&self) -> usize {
        let mut it = self.db.raw_iterator_cf(self.cf(CF_GC));
        it.seek_to_first();
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next();
        }
        n
    }

    /// Element records stored for `uid`, reclaimed or not yet (tests of the collector).
    pub fn data_records(&self, uid: u64) -> CmdResult<usize> {
        self.count_data(Some(uid))
    }

    /// Element records of every collection (tests of the collector).
    pub fn data_records_total(&self) -> CmdResult<usize> {
        self.count_data(None)
    }

    fn count_data(&self, uid: Option<u64>) -> CmdResult<usize> {
        scope::settle();
        let mut ro = ReadOptions::default();
        if let Some(uid) = uid {
            ro.set_iterate_lower_bound(uid.to_be_bytes().to_vec());
            ro.set_iterate_upper_bound(end_of(uid));
        }
        let mut it = self.db.raw_iterator_cf_opt(self.cf(CF_DATA), ro);
        it.seek_to_first();
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next();
        }
        it.status()?;
        Ok(n)
    }
}

/// The first data key after every element of `uid`.
fn end_of(uid: u64) -> Vec<u8> {
    match uid.checked_add(1) {
        Some(next) => next.to_be_bytes().to_vec(),
        None => vec![0xff; 9],
    }
}

impl Txn<'_> {
    /// One element as this transaction sees it: its own pending writes first.
    pub fn data_get(&self, uid: u64, sub: &[u8]) -> CmdResult<Option<Vec<u8>>> {
        if let Some(pending) = self.data.get(&data_key(uid, sub)) {
            return Ok(pending.clone());
        }
        self.store.data_get(uid, sub)
    }

    pub fn data_put(&mut self, uid: u64, sub: &[u8], value: &[u8]) {
        self.data.insert(data_key(uid, sub), Some(value.to_vec()));
    }

    pub fn data_delete(&mut self, uid: u64, sub: &[u8]) {
        self.data.insert(data_key(uid, sub), None);
    }

    /// Copies every element of collection `from` into the new collection `to` (COPY). The caller holds the lock of
    /// the source key, so the elements cannot change meanwhile.
    pub fn copy_elements(&mut self, from: u64, to: u64) -> CmdResult {
        let mut cur = self.store.data_range(from, &[], None, false);
        while let Some((sub, value)) = cur.next()? {
            self.data.insert(data_key(to, sub), Some(value.to_vec()));
        }
        Ok(())
    }

    /// Bookkeeping of a meta write: collection uids dropped and kept, and keys that became a list or sorted set.
    pub(super) fn track_collections(&mut self, db: u16, key: &[u8], old: Option<&Existing>, new: Option<&[u8]>) {
        let old_coll = old.and_then(|o| Collection::from_view(&o.view()));
        let new_coll = new.and_then(MetaView::parse).and_then(|m| Collection::from_view(&m));
        if let Some(c) = old_coll {
            self.dropped.push(c.uid);
        }
        let was = old.and_then(|o| o.live()).map(|m| m.key_type());
        // A stream deleted or replaced: clients blocked in XREADGROUP on it learn so (Redis unblocks them).
        // A stream written under a key that held another value (RENAME, COPY, RESTORE onto it): clients blocked on
        // the key look at what it holds now.
        let stream_changed = match new_coll {
            Some(c) if c.kind == KeyType::Stream => old_coll.is_none_or(|o| o.uid != c.uid),
            _ => was == Some(KeyType::Stream),
        };
        if stream_changed {
            self.signals.streams.push((db, key.to_vec()));
        }
        if let Some(c) = new_coll {
            self.kept.push(c.uid);
            if matches!(c.kind, KeyType::List | KeyType::ZSet) && was != Some(c.kind) {
                self.signals.ready.push((db, key.to_vec()));
            }
        }
    }

    /// Wakes every client blocked on the stream `key` once this transaction is written (see `Signals::streams`).
    pub fn signal_stream(&mut self, db: u16, key: &[u8]) {
        self.signals.streams.push((db, key.to_vec()));
    }

    /// Queues the dropped uids for the collector, in this transaction's batch.
    pub(super) fn queue_garbage(&mut self) {
        let kept = std::mem::take(&mut self.kept);
        for uid in std::mem::take(&mut self.dropped) {
            if !kept.contains(&uid) {
                self.ops.push(Op::new(TAG_GC, &uid.to_be_bytes(), Some(Vec::new())));
            }
        }
    }
}

/// The collection stored in a live meta record, or WRONGTYPE when the key holds another type.
pub fn expect_collection(m: &MetaView, kind: KeyType) -> CmdResult<Collection> {
    if m.key_type() != kind {
        return Err(CmdError::WrongType);
    }
    Collection::from_view(m).ok_or_else(|| CmdError::Storage("corrupt collection record".into()))
}
