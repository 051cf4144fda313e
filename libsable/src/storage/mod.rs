//! The RocksDB-backed keyspace: opening the database, reads, write transactions with exact key counters, the
//! logical→physical database map behind SWAPDB, and active expiry.
//!
//! Everything a command changes goes into one `WriteBatch` ([`Txn`]), written with the WAL on, so a crash keeps
//! all of a command or none of it and no acknowledged write is lost to a `kill -9`.

pub mod access;
mod batch;
pub mod cache;
pub(crate) mod committer;
pub mod data;
pub mod encoding;
pub mod locks;
pub mod scope;

use std::sync::atomic::{AtomicI64, AtomicU16, AtomicU64, Ordering};

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DBPinnableSlice, Direction, IteratorMode, Options,
    WriteBatch, WriteOptions, DB,
};
use smallvec::SmallVec;

use crate::commands::error::{CmdError, CmdResult};
use crate::util::now_ms;
pub use encoding::KeyType;
use encoding::{db_bounds, expiry_key, meta_key, split_expiry_key, split_meta_key, MetaView};
pub use locks::{ExecGate, LockGuard, ShardLocks};

use crate::notify::Notifier;

const CF_META: &str = "meta";
const CF_EXPIRY: &str = "expiry";
const CF_SYS: &str = "sys";
const CF_DATA: &str = "data";
const CF_GC: &str = "gc";
const SYS_DB_MAP: &[u8] = b"db_map";

/// When the WAL reaches the disk (Redis' `appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalFsync {
    /// Never fsync explicitly: the WAL is in the OS page cache when a reply is sent (safe against `kill -9`).
    No,
    /// A background thread fsyncs the WAL once a second.
    EverySec,
    /// Every write is fsynced before its reply.
    Always,
}

/// Storage settings taken from the config.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    pub path: std::path::PathBuf,
    pub databases: u16,
    pub wal_fsync: WalFsync,
    pub block_cache_bytes: usize,
    pub write_buffer_bytes: usize,
    /// Budget of the in-memory meta record cache (0: off).
    pub meta_cache_bytes: usize,
    /// RocksDB's flushes and compactions run at the lowest CPU priority (nice 19).
    pub background_low_priority: bool,
}

/// The open database and its in-memory bookkeeping.
pub struct Store {
    db: DB,
    pub locks: ShardLocks,
    cache: cache::MetaCache,
    write_opts: WriteOptions,
    databases: u16,
    /// Logical database index → physical key prefix; SWAPDB swaps two entries.
    db_map: Vec<AtomicU16>,
    /// Per physical database: records present (DBSIZE) and records with an expiry (INFO keyspace).
    key_counts: Vec<AtomicI64>,
    expire_counts: Vec<AtomicI64>,
    pub expired_keys: AtomicU64,
    /// Keys changed by commands since the last SAVE/BGSAVE (INFO's `rdb_changes_since_last_save`, Redis' dirty
    /// counter; a FLUSHALL with `save` points set resets it too).
    pub changes: AtomicU64,
    uids: data::UidAllocator,
    /// Where the live elements of collections drained from an end start (see [`data::Bounds`]).
    bounds: parking_lot::Mutex<rustc_hash::FxHashMap<u64, data::Bounds>>,
    /// Keys that just became lists or sorted sets, for the clients blocked on them.
    pub ready: crate::blocking::Waiters,
    /// Shared by every command, exclusive for MULTI/EXEC.
    pub gate: ExecGate,
    /// Keys watched by clients (WATCH), marked modified by every write.
    pub watches: crate::watch::Watches,
    /// Client-side caching: the keys tracking clients read, invalidated by every write (see `crate::tracking`).
    pub tracking: crate::tracking::Tracking,
    /// Keyspace notifications, for the `expired` and `new` events writes imply (set once by the server).
    notifier: std::sync::OnceLock<std::sync::Arc<Notifier>>,
}

/// A meta record read for a lock-free reader; expired records are never returned.
pub enum Record<'a> {
    Pinned(DBPinnableSlice<'a>),
    /// From memory: the meta cache, or this thread's write scope (written earlier, not committed yet).
    Owned(Vec<u8>),
}

impl Record<'_> {
    pub fn view(&self) -> MetaView<'_> {
        match self {
            Record::Pinned(p) => MetaView(p),
            Record::Owned(v) => MetaView(v),
        }
    }
}

/// Column family tags of overlay keys in a write scope.
pub(crate) const TAG_META: u8 = 0;
const TAG_EXPIRY: u8 = 1;
const TAG_DATA: u8 = 2;
const TAG_GC: u8 = 3;

fn tag_name(tag: u8) -> &'static str {
    match tag {
        TAG_META => CF_META,
        TAG_EXPIRY => CF_EXPIRY,
        TAG_DATA => CF_DATA,
        _ => CF_GC,
    }
}

/// The value a point read must see from this thread's pending writes (see [`scope::Scope::lookup`]):
/// `Some(None)` when they deleted it.
fn scope_lookup(tag: u8, key: &[u8]) -> Option<Option<Vec<u8>>> {
    scope::with_scope(|sc| sc.lookup(tag, key)).flatten()
}

/// A meta record as a writer sees it under its lock: physically present, possibly already expired.
pub struct Existing {
    raw: Vec<u8>,
    expired: bool,
}

impl Existing {
    pub fn view(&self) -> MetaView<'_> {
        MetaView(&self.raw)
    }

    /// The record if it is still logically alive.
    pub fn live(&self) -> Option<MetaView<'_>> {
        (!self.expired).then(|| MetaView(&self.raw))
    }
}

thread_local! {
    /// Keys the command running on this thread read as expired, deleted once it ends ([`Store::expire_read_keys`]).
    static EXPIRED_READS: std::cell::RefCell<Vec<(u16, Vec<u8>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keys one command may leave for [`Store::expire_read_keys`]; past it they are left to active expiry, so a SCAN
/// over a long run of expired keys does not turn into one huge delete.
const EXPIRED_READS_MAX: usize = 1024;

/// Records that the running command read `key` (physical `db`) as expired.
fn note_expired_read(db: u16, key: &[u8]) {
    if crate::util::in_command() {
        EXPIRED_READS.with(|r| {
            let mut r = r.borrow_mut();
            if r.len() < EXPIRED_READS_MAX {
                r.push((db, key.to_vec()));
            }
        });
    }
}

fn corrupt(db: u16, key: &[u8]) -> CmdError {
    tracing::error!("corrupt meta record in db {db} for key {:?}", String::from_utf8_lossy(key));
    CmdError::Storage("corrupt record".into())
}

impl Store {
    /// Opens (or creates) the database at `opts.path` and rebuilds the key counters from the data.
    pub fn open(opts: &StorageOptions) -> Result<Store, String> {
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.increase_parallelism(num_cpus::get().max(2) as i32);
        db_opts.set_max_background_jobs(4);
        db_opts.set_keep_log_file_num(4);
        db_opts.set_max_total_wal_size(512 << 20);
        db_opts.set_bytes_per_sync(1 << 20);
        // One committer thread writes the workers' batches (see `scope`), so RocksDB's pipelined write, which
        // overlaps the WAL append of one writer with the memtable insert of another, has rarely a second writer.
        db_opts.set_enable_pipelined_write(false);
        if opts.background_low_priority {
            // Flushes and compactions take the CPU time the workers and the committer leave: with every core
            // busy serving clients, background work at normal priority preempts the threads replies wait for
            // (pipelined SET and INCR: +5-10 %, docs/performance.md). Falling behind is bounded: RocksDB slows
            // and then stops writes when memtables or level-0 files pile up, which frees the CPU it needs.
            let mut env = rocksdb::Env::new().map_err(|e| format!("cannot set up RocksDB's threads: {e}"))?;
            env.lower_thread_pool_cpu_priority();
            env.lower_high_priority_thread_pool_cpu_priority();
            db_opts.set_env(&env);
        }

        let cache = Cache::new_lru_cache(opts.block_cache_bytes);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_bloom_filter(10.0, false);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        let mut cf_opts = Options::default();
        cf_opts.set_block_based_table_factory(&table);
        cf_opts.set_write_buffer_size(opts.write_buffer_bytes);
        cf_opts.set_max_write_buffer_number(4);
        cf_opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
        // Levels 0 and 1 are rewritten soon and hold little data: compressing them is flush and compaction CPU
        // spent on the same cores that serve clients, for no lasting saving.
        {
            use rocksdb::DBCompressionType::{Lz4, None};
            cf_opts.set_compression_per_level(&[None, None, Lz4, Lz4, Lz4, Lz4, Lz4]);
        }
        // Compacting level 0 into the base level only once 8 files (not 4) have piled up: every compaction
        // rewrites the whole base level of a small, hot data set, so half as many of them halve that work
        // (pipelined INCR: compaction ~7 % → ~4 % of a core); a point read that misses the meta cache checks
        // the extra files' pinned bloom filters.
        cf_opts.set_level_zero_file_num_compaction_trigger(8);
        // Batches reach RocksDB in key order (see `fill_batch`); with a hint (one for all keys: a prefix of
        // length 0) each memtable insert searches the skiplist from the previous insert's position instead of
        // from the top, so a batch's keys cost a few levels each instead of the whole height (pipelined INCR:
        // the committer's skiplist search 8.9 % → 5.8 % of the samples).
        cf_opts
            .set_options_from_string("memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.0")
            .map_err(|e| format!("cannot configure RocksDB: {e}"))?;
        // The meta family (every key's record, and with it every string value) is where a hot key set is
        // rewritten again and again: it waits for 16 level-0 files before compacting, half as often, so the
        // compaction debt of a burst of writes is paid less often and in one go (a benchmark's INCR -P 16 right
        // after its SET tests: compaction 21-23 % of a core → none during the test, 460-510k → 540-550k). Its
        // point reads mostly hit the meta cache, and a miss checks the extra files' pinned Bloom filters. The
        // write slowdown and stop stay the same distance above it as RocksDB's defaults are above 4.
        let mut meta_opts = cf_opts.clone();
        meta_opts.set_level_zero_file_num_compaction_trigger(16);
        meta_opts.set_level_zero_slowdown_writes_trigger(32);
        meta_opts.set_level_zero_stop_writes_trigger(48);
        let mut data_opts = cf_opts.clone();
        // SST files where deletes dominate (drained lists, popped sets) are compacted early, so that iterators
        // stop stepping over their tombstones.
        data_opts.add_compact_on_deletion_collector_factory(128, 64, 0.5);
        let cfs = [CF_EXPIRY, CF_SYS, CF_GC]
            .map(|name| ColumnFamilyDescriptor::new(name, cf_opts.clone()))
            .into_iter()
            .chain([ColumnFamilyDescriptor::new(CF_META, meta_opts)])
            .chain([ColumnFamilyDescriptor::new(CF_DATA, data_opts)]);
        let db = DB::open_cf_descriptors(&db_opts, &opts.path, cfs)
            .map_err(|e| format!("cannot open RocksDB at {}: {e}", opts.path.display()))?;

        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(opts.wal_fsync == WalFsync::Always);

        let n = opts.databases as usize;
        let map = load_db_map(&db, n)?;
        // Physical prefixes may exceed `databases` after SWAPDB with a since-reduced count; size for the largest.
        let slots = map.iter().map(|&p| p as usize + 1).max().unwrap_or(n).max(n);
        let uids = data::UidAllocator::load(&db)?;
        let mut store = Store {
            db,
            locks: ShardLocks::new(),
            cache: cache::MetaCache::new(opts.meta_cache_bytes),
            write_opts,
            databases: opts.databases,
            db_map: map.into_iter().map(AtomicU16::new).collect(),
            key_counts: (0..slots).map(|_| AtomicI64::new(0)).collect(),
            expire_counts: (0..slots).map(|_| AtomicI64::new(0)).collect(),
            expired_keys: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            uids,
            bounds: Default::default(),
            ready: Default::default(),
            gate: Default::default(),
            watches: Default::default(),
            tracking: Default::default(),
            notifier: Default::default(),
        };
        store.rebuild_counters()?;
        Ok(store)
    }

    fn cf(&self, name: &str) -> &ColumnFamily {
        // The families are created at open; a missing one is a programming error caught by every test.
        self.db.cf_handle(name).expect("column family created at open")
    }

    /// Counts the keys of every database and preloads the meta cache with their records, which leaves it
    /// complete (answering for absent keys) when it takes them all.
    fn rebuild_counters(&mut self) -> Result<(), String> {
        let mut it = self.db.raw_iterator_cf(self.cf(CF_META));
        it.seek_to_first();
        let mut fit = cache::FitCheck::default();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            self.cache.count_for_preload(&mut fit, k, v);
            if let (Some((db, _)), Some(m)) = (split_meta_key(k), MetaView::parse(v)) {
                if let Some(c) = self.key_counts.get(db as usize) {
                    c.fetch_add(1, Ordering::Relaxed);
                    if m.expire_at() != 0 {
                        self.expire_counts[db as usize].fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            it.next();
        }
        it.status().map_err(|e| format!("cannot scan the keyspace at start-up: {e}"))?;
        drop(it);
        // Preloaded only when every record should fit: for a larger data set the cache starts empty, as it would
        // otherwise end up after dropping what it took (the first keys in key order, not the ones clients use).
        if self.cache.could_hold(&fit) {
            let mut it = self.db.raw_iterator_cf(self.cf(CF_META));
            it.seek_to_first();
            self.cache.begin_preload();
            let mut complete = true;
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                if !self.cache.preload(k, v) {
                    complete = false;
                    break;
                }
                it.next();
            }
            if !complete || it.status().is_err() {
                // The records taken (the first in key order, not the keys clients will use) are dropped.
                self.cache.clear();
            }
        }
        Ok(())
    }

    pub fn databases(&self) -> u16 {
        self.databases
    }

    /// Connects keyspace notifications (once, when the server starts).
    pub fn set_notifier(&self, notifier: std::sync::Arc<Notifier>) {
        let _ = self.notifier.set(notifier);
    }

    /// True when keyspace events of `class` are on.
    fn notifies(&self, class: u32) -> bool {
        self.notifier.get().is_some_and(|n| n.wants(class))
    }

    /// The physical prefix of logical database `db`. Writers call this after taking their locks, so a concurrent
    /// SWAPDB (which holds every lock) is seen either wholly before or wholly after.
    pub fn phys(&self, db: usize) -> u16 {
        self.db_map[db].load(Ordering::Acquire)
    }

    /// Keys present in logical database `db` (DBSIZE).
    pub fn key_count(&self, db: usize) -> i64 {
        let phys = self.phys(db);
        self.key_counts[phys as usize].load(Ordering::Relaxed) + scope::pending_counts(phys).0
    }

    /// Keys with an expiry in logical database `db` (INFO keyspace).
    pub fn expire_count(&self, db: usize) -> i64 {
        let phys = self.phys(db);
        self.expire_counts[phys as usize].load(Ordering::Relaxed) + scope::pending_counts(phys).1
    }

    /// Prefetches what a point read of `key` in logical database `db` will touch first (see
    /// [`cache::MetaCache::prefetch`]).
    pub fn prefetch(&self, db: usize, key: &[u8]) {
        thread_local! {
            static KEY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        KEY.with(|k| {
            let mut k = k.borrow_mut();
            k.clear();
            k.extend_from_slice(&self.phys(db).to_be_bytes());
            k.extend_from_slice(key);
            self.cache.prefetch(&k);
        });
    }

    /// Reads a live (not expired) meta record without locking: a point read is already consistent.
    pub fn get(&self, db: u16, key: &[u8]) -> CmdResult<Option<Record<'_>>> {
        self.read(db, key, true)
    }

    /// [`Store::get`] without touching the key: its access time stays (TYPE, TTL, EXISTS, OBJECT in Redis).
    pub fn get_untouched(&self, db: u16, key: &[u8]) -> CmdResult<Option<Record<'_>>> {
        self.read(db, key, false)
    }

    /// When `key` was last read or written, in seconds since the epoch, if known (see `cache`): now when this
    /// thread is writing it (the cache learns of the write once it is in RocksDB).
    pub fn accessed(&self, db: u16, key: &[u8]) -> Option<u32> {
        let mk = meta_key(db, key);
        if scope_lookup(TAG_META, &mk).is_some() {
            return u32::try_from(now_ms() / 1000).ok();
        }
        self.cache.accessed(&mk)
    }

    /// Whether keys' access fields count their LFU frequency (an LFU `maxmemory-policy`; see `access`).
    pub fn lfu(&self) -> bool {
        self.cache.access.lfu()
    }

    /// Applies `maxmemory-policy`, `lfu-log-factor` and `lfu-decay-time` to the keys' access fields.
    pub fn configure_access(&self, lfu: bool, log_factor: u32, decay_minutes: u32) {
        self.cache.access.configure(lfu, log_factor, decay_minutes);
    }

    /// One more access of `key` under an LFU policy: Redis counts two when a command looks a key up twice (SET …
    /// GET and GETSET read it, then look it up again to write it). Under another policy a second access changes
    /// nothing.
    pub fn touch_again(&self, db: u16, key: &[u8]) {
        if self.lfu() {
            let _ = self.cache.lookup(&meta_key(db, key), true);
        }
    }

    /// The LFU counter of `key` now (OBJECT FREQ under an LFU policy): Redis' initial 5 when it is not known.
    pub fn frequency(&self, db: u16, key: &[u8]) -> u8 {
        self.cache.accessed(&meta_key(db, key)).map_or(access::LFU_INIT_VAL, |f| self.cache.access.frequency(f))
    }

    fn read(&self, db: u16, key: &[u8], touch: bool) -> CmdResult<Option<Record<'_>>> {
        let mk = meta_key(db, key);
        let rec = match scope_lookup(TAG_META, &mk) {
            Some(pending) => pending.map(Record::Owned),
            None => match self.cache.lookup(&mk, touch) {
                cache::Lookup::Hit(cached) => Some(Record::Owned(cached)),
                cache::Lookup::Absent => None,
                cache::Lookup::Miss(epoch) => {
                    let pinned = self.db.get_pinned_cf(self.cf(CF_META), &mk)?;
                    if let Some(p) = &pinned {
                        self.cache.fill(&mk, p, epoch, touch);
                    }
                    pinned.map(Record::Pinned)
                }
            },
        };
        let Some(rec) = rec else { return Ok(None) };
        let Some(m) = MetaView::parse(rec.view().0) else { return Err(corrupt(db, key)) };
        if m.is_expired(now_ms()) {
            note_expired_read(db, key);
            return Ok(None);
        }
        Ok(Some(rec))
    }

    /// Redis' lazy expiry for reads: deletes the keys the command that just ran on this thread found expired
    /// (counted in `expired_keys`, with their `expired` events), as Redis' `expireIfNeeded` does when a lookup
    /// or SCAN meets one. Nothing is deleted while clients are `paused` (Redis keeps such keys until the pause
    /// ends). KEYS and RANDOMKEY skip expired keys and leave them to active expiry.
    pub fn expire_read_keys(&self, paused: bool) -> CmdResult<()> {
        let found = EXPIRED_READS.with(|r| std::mem::take(&mut *r.borrow_mut()));
        if paused {
            return Ok(());
        }
        for (db, key) in found {
            let _guard = self.locks.lock(&[&key]);
            let mut txn = self.txn();
            // Still expired: another client may have written it since.
            if let Some(old) = txn.load(db, &key)?.filter(|old| old.expired) {
                txn.delete(db, &key, &old);
                txn.commit()?;
                self.expired_keys.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// True when the command that just ran found expired keys ([`Store::expire_read_keys`]).
    pub fn read_expired_keys() -> bool {
        EXPIRED_READS.with(|r| !r.borrow().is_empty())
    }

    /// Starts a write transaction. The caller holds the locks of every key it will write.
    pub fn txn(&self) -> Txn<'_> {
        Txn {
            store: self,
            ops: SmallVec::new(),
            deltas: SmallVec::new(),
            data: Default::default(),
            dropped: Vec::new(),
            kept: Vec::new(),
            signals: Signals::default(),
            owners: Default::default(),
            facts: Vec::new(),
        }
    }

    /// Visits the live keys of physical database `db` in byte order, starting at `from` (inclusive), until `visit`
    /// returns false.
    pub fn for_each_key(&self, db: u16, from: &[u8], mut visit: impl FnMut(&[u8], MetaView<'_>) -> bool) -> CmdResult {
        let mut cursor = self.key_cursor(db);
        cursor.seek(from);
        let now = now_ms();
        while let Some((key, raw)) = cursor.next()? {
            match MetaView::parse(raw) {
                Some(m) if m.is_expired(now) => note_expired_read(db, key),
                Some(m) if !visit(key, m) => break,
                _ => {}
            }
        }
        Ok(())
    }

    /// Removes every key of physical database `db` in one atomic write; the elements of its collections are
    /// handed to the background collector. The caller holds every lock.
    pub fn flush_db(&self, db: u16) -> CmdResult {
        scope::settle_even_pinned();
        // WATCH registrations wait until the flush is written: none can read the old state after the marks.
        let watches = self.watches.hold();
        if let Some(logical) = self.logical(db) {
            watches.touch_db(logical, |key| crate::watch::KeyState {
                existed: self.record_state(db, key).ok().flatten().is_some(),
                after: None,
            });
        }
        let (lo, hi) = db_bounds(db);
        let mut batch = WriteBatch::default();
        for uid in self.collection_uids(db)? {
            batch.put_cf(self.cf(CF_GC), uid.to_be_bytes(), []);
        }
        batch.delete_range_cf(self.cf(CF_META), lo, hi);
        self.cache.clear();
        self.db.write_opt(batch, &self.write_opts)?;
        self.cache.clear();
        // Expiry index entries of the flushed keys are now stale; active expiry drops them when it meets them.
        let removed = self.key_counts[db as usize].swap(0, Ordering::Relaxed);
        self.changes.fetch_add(removed.max(0) as u64, Ordering::Relaxed);
        self.expire_counts[db as usize].store(0, Ordering::Relaxed);
        // Clients blocked in XREADGROUP on a flushed stream learn that it is gone (the others find nothing).
        self.ready.signal_db_all(db);
        Ok(())
    }

    /// Swaps two logical databases (SWAPDB) and persists the map. The caller holds every lock.
    pub fn swap_db(&self, a: usize, b: usize) -> CmdResult {
        scope::settle_even_pinned();
        let pa = self.db_map[a].load(Ordering::Acquire);
        let pb = self.db_map[b].load(Ordering::Acquire);
        let watches = self.watches.hold();
        for (db, emptied, replacement) in [(a, pa, pb), (b, pb, pa)] {
            watches.touch_db(db, |key| crate::watch::KeyState {
                existed: self.record_state(emptied, key).ok().flatten().is_some(),
                after: self.record_state(replacement, key).ok().flatten(),
            });
        }
        let mut map: Vec<u16> = self.db_map.iter().map(|p| p.load(Ordering::Acquire)).collect();
        map.swap(a, b);
        let bytes: Vec<u8> = map.iter().flat_map(|p| p.to_be_bytes()).collect();
        self.db.put_cf_opt(self.cf(CF_SYS), SYS_DB_MAP, bytes, &self.write_opts)?;
        self.db_map[a].store(pb, Ordering::Release);
        self.db_map[b].store(pa, Ordering::Release);
        // Clients blocked in either database look again: as in Redis, one waiting on a key the other database
        // had is served at once.
        self.ready.signal_db(pa);
        self.ready.signal_db(pb);
        Ok(())
    }

    /// Forces the WAL to disk (the `everysec` flusher and SHUTDOWN).
    pub fn sync_wal(&self) -> CmdResult {
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// SAVE / BGSAVE: syncs the WAL, then flushes the memtables of every column family to SST files, so the data
    /// no longer needs the WAL replayed at start-up. The changes counter (INFO `rdb_changes_since_last_save`)
    /// loses the changes it had when the save began, as Redis' dirty counter does.
    pub fn save(&self) -> CmdResult {
        let before = self.changes.load(Ordering::Relaxed);
        self.flush_log()?;
        let _ = self.changes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(before)));
        Ok(())
    }

    /// Syncs the WAL and flushes every memtable to SST files: the WAL segments before are no longer needed
    /// (BGREWRITEAOF's rewrite of the log, SAVE's snapshot).
    pub fn flush_log(&self) -> CmdResult {
        self.db.flush_wal(true)?;
        for name in [CF_META, CF_EXPIRY, CF_SYS, CF_DATA, CF_GC] {
            self.db.flush_cf(self.cf(name))?;
        }
        Ok(())
    }

    /// Deletes up to `budget` keys whose expiry is due, oldest first, publishing their `expired` keyspace events.
    /// Returns the (physical db, key) pairs removed.
    pub fn expire_due(&self, now: u64, budget: usize) -> CmdResult<Vec<(u16, Vec<u8>)>> {
        let mut due = Vec::new();
        {
            let mut it = self.db.raw_iterator_cf(self.cf(CF_EXPIRY));
            it.seek_to_first();
            while let Some(k) = it.key() {
                match split_expiry_key(k) {
                    Some((at, _, _)) if at > now => break,
                    _ => due.push(k.to_vec()),
                }
                if due.len() >= budget {
                    break;
                }
                it.next();
            }
            it.status()?;
        }
        let mut removed = Vec::new();
        for entry in due {
            let Some((at, db, key)) = split_expiry_key(&entry) else {
                self.db.delete_cf_opt(self.cf(CF_EXPIRY), &entry, &self.write_opts)?;
                continue;
            };
            let _guard = self.locks.lock(&[key]);
            let mut txn = self.txn();
            match txn.load(db, key)? {
                Some(old) if old.view().expire_at() == at && old.expired => {
                    txn.delete(db, key, &old);
                    txn.commit()?;
                    self.expired_keys.fetch_add(1, Ordering::Relaxed);
                    removed.push((db, key.to_vec()));
                    // The `expired` event the delete implies goes out under the key's lock, before any later
                    // write of the key can publish its own.
                    if let Some(n) = self.notifier.get() {
                        crate::notify::flush_facts(n);
                    }
                }
                _ => {
                    txn.ops.push(Op::new(TAG_EXPIRY, &entry, None));
                    txn.commit()?;
                }
            }
        }
        Ok(removed)
    }

    /// Writes a batch (WAL on), keeps the meta cache coherent with it, applies its counter changes, then tells
    /// blocked clients about the keys that became lists or sorted sets and watchers about the keys changed:
    /// those of `meta`, the meta family records the batch writes (None: deleted), except the quiet ones, and the
    /// keys whose elements only were written (see [`Signals`]).
    /// Watchers learn after the write, when the change becomes visible: a client that WATCHes and then reads
    /// in between sees the new value and at worst aborts for nothing, never misses a change.
    pub(crate) fn write_batch(
        &self,
        batch: WriteBatch,
        deltas: &[(u16, i64, i64)],
        meta: &[cache::Written],
        signals: &Signals,
    ) -> Result<(), String> {
        let announced = self.cache.invalidate(meta.iter().map(|(k, _)| *k));
        if let Err(e) = self.db.write_opt(batch, &self.write_opts) {
            self.cache.abandon(&announced);
            self.forget_pops();
            return Err(e.into_string());
        }
        self.cache.store(&announced, meta, cache::access_now());
        for (key, at) in &signals.accessed {
            self.cache.set_accessed(key, *at);
        }
        for &(db, keys, expires) in deltas {
            self.key_counts[db as usize].fetch_add(keys, Ordering::Relaxed);
            self.expire_counts[db as usize].fetch_add(expires, Ordering::Relaxed);
        }
        for (db, key) in &signals.ready {
            self.ready.signal(*db, key);
        }
        for (db, key) in &signals.streams {
            self.ready.signal_all(*db, key);
        }
        if self.watches.any() {
            for (k, v) in meta {
                if let Some((db, key)) = split_meta_key(k).filter(|_| !signals.quiet.iter().any(|q| q == k)) {
                    self.touch(db, key, v.is_some());
                }
            }
            for (db, key) in &signals.touched {
                self.touch(*db, key, true);
            }
        }
        if self.tracking.active() {
            // In the order the commands wrote them, as Redis invalidates; then any key written before a client
            // started tracking (not recorded), in key order.
            let recorded: std::collections::HashSet<&[u8]> = signals.tracked.iter().map(|k| &k[..]).collect();
            let late = meta
                .iter()
                .filter(|(k, _)| !signals.quiet.iter().any(|q| q == k))
                .filter_map(|(k, _)| split_meta_key(k).map(|(_, key)| key))
                .chain(signals.touched.iter().map(|(_, key)| &key[..]))
                .filter(|key| !recorded.contains(key));
            let keys = signals.tracked.iter().map(|k| &k[..]).chain(late);
            let noloop = &signals.noloop;
            self.tracking.invalidate(keys, &|id, key| noloop.iter().any(|(w, k)| *w == id && k == key));
            for (id, key) in &signals.remember {
                self.tracking.remember(*id, std::iter::once(&key[..]));
            }
        }
        Ok(())
    }

    /// Pops remember what they deleted before their batch is written: when it is not, that is forgotten.
    pub(crate) fn forget_pops(&self) {
        self.bounds.lock().clear();
    }

    /// The write batch of the overlays of the sealed scopes written together (`[tag][key]` → the last value
    /// written, None: deleted), and their meta writes (key, record) for [`Store::write_batch`]. Keys go in key
    /// order, a key of a later scope after the same key of an earlier one (its write wins). A key written many
    /// times by one scope (a pipeline of INCRs of one counter) is inserted into the memtable once: the overlay
    /// holds the final state of every key the scope wrote, so this is equivalent to replaying the writes. Key
    /// order lets RocksDB's insert hint start each skiplist search where the previous insert ended (see `open`).
    pub(crate) fn batch_of<'a>(
        &self,
        overlays: impl Iterator<Item = &'a committer::Overlay>,
    ) -> Result<(WriteBatch, Vec<cache::Written<'a>>), String> {
        let writes: Vec<(&'a Vec<u8>, &'a Option<Vec<u8>>)> = overlays.flat_map(|o| o.iter()).collect();
        let keys: Vec<&[u8]> = writes.iter().map(|(k, _)| &k[..]).collect();
        // Sized up front (a record: type, family, two lengths, key, value), so it is not copied as it grows.
        let bytes: usize = writes.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len) + 8).sum();
        let mut batch = batch::Encoder::with_capacity(bytes);
        let mut meta = Vec::new();
        // Sorted, so the keys of one family come together: its id is looked up once per run.
        let mut family: Option<(u8, u32)> = None;
        for i in batch::key_order(&keys) {
            let (k, v) = writes[i as usize];
            let id = match family {
                Some((tag, id)) if tag == k[0] => id,
                _ => {
                    let id = self.cf(tag_name(k[0])).id();
                    family = Some((k[0], id));
                    id
                }
            };
            batch.add(id, &k[1..], v.as_deref())?;
            if k[0] == TAG_META {
                meta.push((&k[1..], v.as_deref()));
            }
        }
        Ok((batch.finish(), meta))
    }

    /// Server state kept beside the keyspace (function libraries): the `sys` records under `prefix`, in key order.
    pub fn sys_records(&self, prefix: &[u8]) -> CmdResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(CF_SYS), IteratorMode::From(prefix, Direction::Forward)) {
            let (k, v) = item?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    /// Replaces the `sys` records under `prefix` by `records` in one write, through the WAL.
    pub fn replace_sys_records(&self, prefix: &[u8], records: &[(Vec<u8>, Vec<u8>)]) -> CmdResult {
        let cf = self.cf(CF_SYS);
        let mut batch = WriteBatch::default();
        for (k, _) in self.sys_records(prefix)? {
            batch.delete_cf(cf, k);
        }
        for (k, v) in records {
            batch.put_cf(cf, k, v);
        }
        self.db.write_opt(batch, &self.write_opts)?;
        Ok(())
    }

    /// A RocksDB property for INFO (e.g. `rocksdb.estimate-live-data-size`).
    pub fn property(&self, name: &str) -> Option<u64> {
        self.db.property_int_value_cf(self.cf(CF_META), name).ok().flatten()
    }

    /// Iterator over all meta records (for tests and diagnostics).
    pub fn raw_meta_count(&self) -> usize {
        scope::settle();
        self.db.iterator_cf(self.cf(CF_META), IteratorMode::From(&[], Direction::Forward)).count()
    }
}

/// Reads the stored SWAPDB map, keeping it a permutation when `databases` changed since it was written.
fn load_db_map(db: &DB, n: usize) -> Result<Vec<u16>, String> {
    let cf = db.cf_handle(CF_SYS).ok_or("missing sys column family")?;
    let stored = db.get_cf(cf, SYS_DB_MAP).map_err(|e| e.to_string())?;
    let mut map: Vec<u16> =
        stored.map(|b| b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect()).unwrap_or_default();
    map.truncate(n);
    let mut next = 0u16;
    while map.len() < n {
        while map.contains(&next) {
            next += 1;
        }
        map.push(next);
        next += 1;
    }
    Ok(map)
}

/// What a committed batch announces besides its writes.
#[derive(Default)]
pub(crate) struct Signals {
    /// Keys that became a list or sorted set: blocked clients are woken.
    pub ready: Vec<(u16, Vec<u8>)>,
    /// Streams that got new entries or changed for their blocked readers (XADD, XGROUP DESTROY, deletion): every
    /// client blocked on them is woken, as each reads from its own ID and none consumes what another needs.
    pub streams: Vec<(u16, Vec<u8>)>,
    /// Keys whose elements only were written: modified for WATCH though their meta record is not written.
    pub touched: Vec<(u16, Vec<u8>)>,
    /// Meta keys rewritten without a change of value (a re-encoding): not modified for WATCH.
    pub quiet: Vec<Vec<u8>>,
    /// Keys written by a tracking client in NOLOOP mode (client id, user key): not invalidated for it.
    pub noloop: Vec<(u64, Vec<u8>)>,
    /// User keys modified, in the order of their writes, for client-side caching's invalidations (recorded only
    /// while some client tracks).
    pub tracked: Vec<Vec<u8>>,
    /// (tracking client, key) read after this batch's writes to the key: remembered once they invalidated it.
    pub remember: Vec<(u64, Vec<u8>)>,
    /// (meta key, access time) of keys written with a past access time (RESTORE … IDLETIME).
    pub accessed: Vec<(Vec<u8>, u32)>,
}

impl Signals {
    /// Nothing to announce: the case of nearly every command, whose commit then moves nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.ready.is_empty()
            && self.streams.is_empty()
            && self.touched.is_empty()
            && self.quiet.is_empty()
            && self.noloop.is_empty()
            && self.tracked.is_empty()
            && self.remember.is_empty()
            && self.accessed.is_empty()
    }

    pub(crate) fn append(&mut self, other: Signals) {
        if other.is_empty() {
            return;
        }
        self.ready.extend(other.ready);
        self.streams.extend(other.streams);
        self.touched.extend(other.touched);
        self.quiet.extend(other.quiet);
        self.noloop.extend(other.noloop);
        self.tracked.extend(other.tracked);
        self.remember.extend(other.remember);
        self.accessed.extend(other.accessed);
    }
}

/// `[tag][key]`: a key in the form of a scope's overlay.
fn tagged(tag: u8, key: &[u8]) -> Vec<u8> {
    let mut tagged = Vec::with_capacity(1 + key.len());
    tagged.push(tag);
    tagged.extend_from_slice(key);
    tagged
}

/// One write of a [`Txn`].
struct Op {
    /// `[column family tag][key]`: the form of a scope's overlay, so a write joins it without a copy.
    tagged: Vec<u8>,
    /// None deletes.
    value: Option<Vec<u8>>,
}

impl Op {
    fn new(tag: u8, key: &[u8], value: Option<Vec<u8>>) -> Op {
        Op { tagged: tagged(tag, key), value }
    }

    fn tag(&self) -> u8 {
        self.tagged[0]
    }

    fn key(&self) -> &[u8] {
        &self.tagged[1..]
    }
}

/// One command's writes and the counter changes they imply, applied together on commit: written at once, or
/// appended to this thread's open write scope (see [`scope`]).
pub struct Txn<'s> {
    store: &'s Store,
    /// Inline room for the one or two writes of most commands: a transaction per command, so no allocation.
    ops: SmallVec<[Op; 2]>,
    /// (physical db, key count delta, expire count delta)
    deltas: SmallVec<[(u16, i64, i64); 2]>,
    /// Element writes, `data` family key → value (None: deleted); a map so the command reads its own writes.
    data: rustc_hash::FxHashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Uids of collections this transaction removed or replaced, and of those it wrote: a uid in the first list
    /// and not the second (RENAME and MOVE keep theirs) has unreachable elements for the collector.
    dropped: Vec<u64>,
    kept: Vec<u64>,
    /// What the commit announces (blocked clients, watchers).
    signals: Signals,
    /// The collections loaded, as (uid, db, key): an element write without a meta write (LSET) still modifies
    /// its key for WATCH.
    owners: std::cell::RefCell<Vec<(u64, u16, Vec<u8>)>>,
    /// Keyspace events the writes imply, as (physical db, key, class): a replaced or deleted record had expired
    /// (`EXPIRED`), a key was created (`NEW`). Handed to `crate::notify` once committed.
    facts: Vec<(u16, Vec<u8>, u32)>,
}

impl<'s> Txn<'s> {
    /// Reads the record a writer is about to replace, expired or not.
    pub fn load(&self, db: u16, key: &[u8]) -> CmdResult<Option<Existing>> {
        // On the stack: only looked up with (a record found is returned by value).
        let mut mk = SmallVec::<[u8; 64]>::new();
        mk.extend_from_slice(&db.to_be_bytes());
        mk.extend_from_slice(key);
        let raw = match scope_lookup(TAG_META, &mk) {
            Some(pending) => pending,
            None => match self.store.cache.lookup(&mk, true) {
                cache::Lookup::Hit(cached) => Some(cached),
                cache::Lookup::Absent => None,
                cache::Lookup::Miss(epoch) => {
                    let raw = self.store.db.get_cf(self.store.cf(CF_META), &mk)?;
                    if let Some(r) = &raw {
                        self.store.cache.fill(&mk, r, epoch, true);
                    }
                    raw
                }
            },
        };
        let Some(raw) = raw else { return Ok(None) };
        let Some(m) = MetaView::parse(&raw) else { return Err(corrupt(db, key)) };
        let expired = m.is_expired(now_ms());
        if let Some(c) = encoding::Collection::from_view(&m) {
            self.owners.borrow_mut().push((c.uid, db, key.to_vec()));
        }
        Ok(Some(Existing { raw, expired }))
    }

    fn push(&mut self, tag: u8, key: &[u8], value: Option<Vec<u8>>) {
        self.ops.push(Op::new(tag, key, value));
    }

    /// Writes `new_raw` as the record of `key`, replacing `old` (what [`Txn::load`] returned). A record passed
    /// by value is kept as it is, one borrowed is copied.
    pub fn put(&mut self, db: u16, key: &[u8], old: Option<&Existing>, new_raw: impl Into<Vec<u8>>) {
        let new_raw: Vec<u8> = new_raw.into();
        self.track_collections(db, key, old, Some(&new_raw));
        let expired = old.is_some_and(|o| o.expired);
        self.note_expired(db, key, expired);
        if (old.is_none() || expired) && self.store.notifies(crate::notify::NEW) {
            self.facts.push((db, key.to_vec(), crate::notify::NEW));
        }
        let new_at = MetaView(&new_raw).expire_at();
        let old_at = old.map(|o| o.view().expire_at()).unwrap_or(0);
        if old_at != 0 && old_at != new_at {
            self.push(TAG_EXPIRY, &expiry_key(old_at, db, key), None);
        }
        if new_at != 0 && new_at != old_at {
            self.push(TAG_EXPIRY, &expiry_key(new_at, db, key), Some(Vec::new()));
        }
        self.ops.push(Op { tagged: encoding::meta_key_tagged(TAG_META, db, key), value: Some(new_raw) });
        self.deltas.push((db, old.is_none() as i64, (new_at != 0) as i64 - (old_at != 0) as i64));
    }

    /// [`Txn::put`] of a record whose value does not change, only its encoding: not a modification of the key
    /// (WATCH), as when Redis converts a value in place.
    pub fn put_quiet(&mut self, db: u16, key: &[u8], old: Option<&Existing>, new_raw: impl Into<Vec<u8>>) {
        self.put(db, key, old, new_raw);
        self.signals.quiet.push(meta_key(db, key));
    }

    /// The key `dst` written by this transaction is `src` moved (RENAME, MOVE): it keeps `src`'s access field (its
    /// LFU counter, or when it was last accessed), as Redis moves the object with its `lru`.
    pub fn carry_access(&mut self, src_db: u16, src: &[u8], dst_db: u16, dst: &[u8]) {
        if let Some(field) = self.store.cache.accessed(&meta_key(src_db, src)) {
            self.signals.accessed.push((meta_key(dst_db, dst), field));
        }
    }

    /// The key written by this transaction gets the LFU counter `counter` once written (RESTORE … FREQ).
    pub fn set_frequency(&mut self, db: u16, key: &[u8], counter: u8) {
        self.signals.accessed.push((meta_key(db, key), access::with_counter(counter)));
    }

    /// The key written by this transaction was last accessed `idle_secs` ago, not now (RESTORE … IDLETIME): its
    /// access time is set so once the write is in RocksDB.
    pub fn set_idle(&mut self, db: u16, key: &[u8], idle_secs: u64) {
        let at = (now_ms() / 1000).saturating_sub(idle_secs);
        self.signals.accessed.push((meta_key(db, key), u32::try_from(at).unwrap_or(0)));
    }

    /// Deletes `key`, whose current record is `old`.
    pub fn delete(&mut self, db: u16, key: &[u8], old: &Existing) {
        self.track_collections(db, key, Some(old), None);
        self.note_expired(db, key, old.expired);
        let old_at = old.view().expire_at();
        if old_at != 0 {
            self.push(TAG_EXPIRY, &expiry_key(old_at, db, key), None);
        }
        self.ops.push(Op { tagged: encoding::meta_key_tagged(TAG_META, db, key), value: None });
        self.deltas.push((db, -1, -((old_at != 0) as i64)));
    }

    /// Records the `expired` event of removing an expired record (Redis' lazy expiry announces it too).
    fn note_expired(&mut self, db: u16, key: &[u8], expired: bool) {
        if expired && self.store.notifies(crate::notify::EXPIRED) {
            self.facts.push((db, key.to_vec(), crate::notify::EXPIRED));
        }
    }

    /// Hands the events the committed writes imply to `crate::notify`, in the logical databases they are in.
    fn hand_over_facts(store: &Store, facts: Vec<(u16, Vec<u8>, u32)>) {
        for (phys, key, class) in facts {
            if let Some(db) = store.logical(phys) {
                crate::notify::fact(db, &key, class);
            }
        }
    }

    /// The store this transaction writes to.
    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.data.is_empty()
    }

    /// Commits: into the open write scope of this thread if there is one (written with the rest of the batch,
    /// before any reply is sent), else straight to RocksDB (WAL first).
    pub fn commit(mut self) -> CmdResult {
        self.queue_garbage();
        if self.is_empty() {
            return Ok(());
        }
        let store = self.store;
        let touched = self.element_only_writes(&self.ops);
        if crate::util::in_command() {
            // Redis counts a change per key a command modifies (a value rewritten unchanged is no change).
            let metas = self.ops.iter().filter(|op| op.tag() == TAG_META).count();
            let changes = (metas + touched.len()).saturating_sub(self.signals.quiet.len());
            store.changes.fetch_add(changes as u64, Ordering::Relaxed);
        }
        if store.tracking.active() {
            let quiet = &self.signals.quiet;
            let modified: Vec<Vec<u8>> = self
                .ops
                .iter()
                .filter(|op| op.tag() == TAG_META && !quiet.iter().any(|q| q == op.key()))
                .filter_map(|op| split_meta_key(op.key()).map(|(_, k)| k.to_vec()))
                .chain(touched.iter().map(|(_, k)| k.clone()))
                .collect();
            self.signals.tracked.extend(modified);
            if let Some(id) = crate::tracking::current_noloop() {
                let metas = self.ops.iter().filter(|op| op.tag() == TAG_META).filter_map(|op| split_meta_key(op.key()));
                let keys: Vec<(u64, Vec<u8>)> =
                    metas.map(|(_, k)| (id, k.to_vec())).chain(touched.iter().map(|(_, k)| (id, k.clone()))).collect();
                self.signals.noloop.extend(keys);
            }
        }
        self.signals.touched.extend(touched);
        if scope::active() {
            // Fields are drained in place: moving this transaction (or its signals) into the scope's closure
            // copied some hundred bytes per command.
            let Txn { ops, deltas, data, signals, facts, .. } = &mut self;
            scope::with_scope(|sc| {
                sc.deltas.extend_from_slice(deltas);
                if !signals.is_empty() {
                    sc.signals.append(std::mem::take(signals));
                }
                for op in ops.drain(..) {
                    sc.overlay.insert(op.tagged, op.value);
                }
                for (key, value) in data.drain() {
                    sc.overlay.insert(tagged(TAG_DATA, &key), value);
                }
            });
            Txn::hand_over_facts(store, std::mem::take(facts));
            return Ok(());
        }
        let Txn { mut ops, deltas, data, signals, facts, .. } = self;
        ops.extend(data.into_iter().map(|(key, value)| Op::new(TAG_DATA, &key, value)));
        let mut batch = WriteBatch::default();
        for op in &ops {
            let cf = store.cf(tag_name(op.tag()));
            match &op.value {
                Some(v) => batch.put_cf(cf, op.key(), v),
                None => batch.delete_cf(cf, op.key()),
            }
        }
        let meta: Vec<cache::Written> =
            ops.iter().filter(|op| op.tag() == TAG_META).map(|op| (op.key(), op.value.as_deref())).collect();
        store.write_batch(batch, &deltas, &meta, &signals).map_err(CmdError::Storage)?;
        Txn::hand_over_facts(store, facts);
        Ok(())
    }
}

impl Txn<'_> {
    /// Collections whose elements this transaction writes without writing their meta record (LSET): for WATCH,
    /// their keys are modified too (keys with a meta write are known from the batch).
    fn element_only_writes(&self, ops: &[Op]) -> Vec<(u16, Vec<u8>)> {
        if self.data.is_empty() {
            return Vec::new();
        }
        let owners = self.owners.borrow();
        owners
            .iter()
            .filter(|(uid, db, key)| {
                let prefix = uid.to_be_bytes();
                self.data.keys().any(|k| k.starts_with(&prefix))
                    && !ops.iter().any(|op| op.tag() == TAG_META && split_meta_key(op.key()) == Some((*db, key)))
            })
            .map(|(_, db, key)| (*db, key.clone()))
            .collect()
    }
}

impl Store {
    /// The logical database that physical database `phys` currently is.
    fn logical(&self, phys: u16) -> Option<usize> {
        self.db_map.iter().position(|p| p.load(Ordering::Acquire) == phys)
    }

    fn touch(&self, phys: u16, key: &[u8], exists: bool) {
        if let Some(db) = self.logical(phys) {
            self.watches.touch(db, key, exists);
        }
    }

    /// Whether `key` has a record in physical database `phys` (this thread's pending writes included): None when
    /// it has none, else whether that record is expired.
    fn record_state(&self, phys: u16, key: &[u8]) -> CmdResult<Option<bool>> {
        let mk = meta_key(phys, key);
        let raw = match scope_lookup(TAG_META, &mk) {
            Some(pending) => pending,
            None => self.db.get_cf(self.cf(CF_META), &mk)?,
        };
        Ok(raw.map(|r| MetaView::parse(&r).is_none_or(|m| m.is_expired(now_ms()))))
    }

    /// The state of `key` in logical database `db` for WATCH: None when missing, else whether it is expired.
    pub fn watch_state(&self, db: usize, key: &[u8]) -> CmdResult<Option<bool>> {
        self.record_state(self.phys(db), key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding::encode_string;

    pub(super) fn open(dir: &std::path::Path) -> Store {
        Store::open(&StorageOptions {
            path: dir.to_path_buf(),
            databases: 16,
            wal_fsync: WalFsync::No,
            block_cache_bytes: 8 << 20,
            write_buffer_bytes: 4 << 20,
            meta_cache_bytes: 1 << 20,
            background_low_priority: false,
        })
        .unwrap()
    }

    #[test]
    fn counters_follow_writes_and_survive_reopen() {
        let dir = tempfile_dir();
        {
            let s = open(&dir);
            let mut t = s.txn();
            t.put(0, b"a", None, encode_string(0, b"1"));
            t.put(0, b"b", None, encode_string(now_ms() + 100_000, b"2"));
            t.commit().unwrap();
            assert_eq!((s.key_count(0), s.expire_count(0)), (2, 1));
            let mut t = s.txn();
            let old = t.load(0, b"b").unwrap().unwrap();
            t.put(0, b"b", Some(&old), encode_string(0, b"3"));
            t.commit().unwrap();
            assert_eq!((s.key_count(0), s.expire_count(0)), (2, 0));
        }
        let s = open(&dir);
        assert_eq!((s.key_count(0), s.expire_count(0)), (2, 0));
        assert_eq!(s.get(0, b"b").unwrap().unwrap().view().body(), b"3");
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn scopes_written_together_keep_their_order_per_key() {
        use encoding::meta_key_tagged;
        let dir = tempfile_dir();
        let s = open(&dir);
        let key = |k: &[u8]| meta_key_tagged(TAG_META, 0, k);
        let value = |v: &[u8]| Some(encode_string(0, v));
        let mut earlier = committer::Overlay::default();
        for (k, v) in [(&b"m"[..], &b"1"[..]), (b"a", b"1"), (b"z", b"1"), (b"gone", b"1")] {
            earlier.insert(key(k), value(v));
        }
        let mut later = committer::Overlay::default();
        later.insert(key(b"m"), value(b"2"));
        later.insert(key(b"gone"), None);
        later.insert(key(b"b"), value(b"2"));
        let (batch, meta) = s.batch_of([&earlier, &later].into_iter()).unwrap();
        assert_eq!(meta.len(), 7);
        // Through the store, as the committer writes: the meta cache (complete for a new database) must see it.
        s.write_batch(batch, &[], &meta, &Signals::default()).unwrap();
        let body = |k: &[u8]| s.get(0, k).unwrap().map(|r| r.view().body().to_vec());
        assert_eq!(body(b"m").as_deref(), Some(&b"2"[..]));
        assert_eq!(body(b"gone"), None);
        for (k, v) in [(&b"a"[..], &b"1"[..]), (b"b", b"2"), (b"z", b"1")] {
            assert_eq!(body(k).as_deref(), Some(v));
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn expired_keys_vanish_and_are_collected() {
        let dir = tempfile_dir();
        let s = open(&dir);
        let mut t = s.txn();
        t.put(0, b"gone", None, encode_string(now_ms() - 1, b"x"));
        t.commit().unwrap();
        assert!(s.get(0, b"gone").unwrap().is_none());
        let removed = s.expire_due(now_ms(), 100).unwrap();
        assert_eq!(removed, vec![(0, b"gone".to_vec())]);
        assert_eq!(s.key_count(0), 0);
        assert_eq!(s.raw_meta_count(), 0);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn swapdb_persists() {
        let dir = tempfile_dir();
        {
            let s = open(&dir);
            let mut t = s.txn();
            t.put(s.phys(1), b"k", None, encode_string(0, b"v"));
            t.commit().unwrap();
            s.swap_db(0, 1).unwrap();
            assert!(s.get(s.phys(0), b"k").unwrap().is_some());
        }
        let s = open(&dir);
        assert!(s.get(s.phys(0), b"k").unwrap().is_some());
        assert_eq!(s.key_count(0), 1);
        assert_eq!(s.key_count(1), 0);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn dropped_collections_are_collected_but_renamed_ones_kept() {
        use encoding::{Collection, KeyType};
        let dir = tempfile_dir();
        let s = open(&dir);
        let write = |key: &[u8], n: u64| {
            let mut c = Collection::new(KeyType::Hash, s.new_uid().unwrap());
            let mut t = s.txn();
            let old = t.load(0, key).unwrap();
            for i in 0..n {
                t.data_put(c.uid, format!("f{i}").as_bytes(), b"v");
            }
            c.len = n;
            t.put(0, key, old.as_ref(), c.encode());
            t.commit().unwrap();
            c.uid
        };
        let first = write(b"h", 100);
        let second = write(b"h", 3);
        assert_ne!(first, second);
        // The overwritten incarnation is queued and its elements go; the live one is untouched.
        assert_eq!(s.garbage_pending(), 1);
        assert_eq!(s.collect_garbage(10).unwrap(), 1);
        assert_eq!((s.data_records(first).unwrap(), s.data_records(second).unwrap()), (0, 3));
        // A rename (put under the new name + delete of the old, one txn) keeps the uid alive.
        let mut t = s.txn();
        let old = t.load(0, b"h").unwrap().unwrap();
        t.put(0, b"h2", None, old.view().0);
        t.delete(0, b"h", &old);
        t.commit().unwrap();
        assert_eq!(s.garbage_pending(), 0);
        // FLUSHDB queues every collection of the database.
        s.flush_db(0).unwrap();
        assert_eq!(s.collect_garbage(10).unwrap(), 1);
        assert_eq!(s.data_records_total().unwrap(), 0);
        drop(s);
        // Uids are never handed out twice, across restarts too.
        let s = open(&dir);
        assert!(s.new_uid().unwrap() > second);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn walks_in_a_pinned_scope_merge_its_pending_writes() {
        let dir = tempfile_dir();
        let s = std::sync::Arc::new(open(&dir));
        let mut t = s.txn();
        for sub in [b"b", b"d", b"f"] {
            t.data_put(7, sub, b"old");
        }
        t.commit().unwrap();
        scope::begin(&s);
        scope::pin();
        let mut t = s.txn();
        t.data_put(7, b"a", b"new");
        t.data_put(7, b"d", b"new");
        t.data_delete(7, b"f");
        t.data_put(7, b"g", b"new");
        t.commit().unwrap();
        let walk = |mut c: data::DataCursor<'_>| {
            let mut seen = Vec::new();
            while let Some((k, v)) = c.next().unwrap() {
                seen.push(format!("{}={}", String::from_utf8_lossy(k), String::from_utf8_lossy(v)));
            }
            seen.join(" ")
        };
        assert_eq!(walk(s.data_range(7, b"", None, false)), "a=new b=old d=new g=new");
        assert_eq!(walk(s.data_range(7, b"", None, true)), "g=new d=new b=old a=new");
        assert_eq!(walk(s.data_range(7, b"b", Some(b"g"), false)), "b=old d=new");
        let mut c = s.data_range(7, b"", None, false);
        c.seek(b"c");
        assert_eq!(walk(c), "d=new g=new");
        let mut c = s.data_range(7, b"", None, true);
        c.seek(b"e");
        assert_eq!(walk(c), "d=new b=old a=new");
        // Nothing reached RocksDB before the scope ends.
        assert_eq!(s.data_records(7).unwrap(), 3);
        scope::unpin();
        scope::end().unwrap();
        assert_eq!(s.data_records(7).unwrap(), 4);
        std::fs::remove_dir_all(dir).ok();
    }

    pub(super) fn tempfile_dir() -> std::path::PathBuf {
        use std::sync::atomic::AtomicUsize;
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "sable-store-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::remove_dir_all(&d).ok();
        d
    }
}
