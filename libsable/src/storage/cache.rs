//! A bounded in-memory cache of meta records in front of RocksDB, so point reads of hot keys (GET, and the read
//! half of every write) skip the memtable and SST lookups that dominate a profile of GET and SET.
//!
//! Coherence, with RocksDB always the truth:
//! - writers bump the shard's epoch and note the keys they write *before* writing RocksDB, and insert the new
//!   records *after* ([`MetaCache::invalidate`], [`MetaCache::store`]);
//! - a reader that missed fills the cache only if no writer touched that shard since it looked and none is
//!   writing to it now ([`MetaCache::lookup`] hands out the epoch, [`MetaCache::fill`] checks it and the shard's
//!   writes in progress), so a reader can never put back a value older than RocksDB's, and once any
//!   reader has seen a new value no later reader sees the old one (without the second check, a reader that read
//!   RocksDB just before a write landed could fill its old value after another reader had read the new one).
//!
//! Each entry also keeps when its key was last accessed (seconds since the epoch, for OBJECT IDLETIME): set by
//! every write and by every read but those Redis makes without touching the key (TYPE, TTL, EXISTS, OBJECT).
//! A key not in the cache has no known access time.
//!
//! A complete shard answers for absent keys too: while every meta record of its keys that RocksDB holds is also
//! in the cache, a key found neither there nor among the shard's writes in progress has no record, and a lookup
//! says so without reading RocksDB (the first write of every new key — INCR, SET of a fresh key — reads the key
//! before writing it, and a miss in RocksDB checks each memtable and level). Shards start complete when
//! [`MetaCache::preload`] took every record at start-up (tried only when they should all fit, so a large data
//! set does not fill the cache with the first keys in key order), and stay so until they drop a record they
//! hold: an eviction, a record too large to cache, a hash collision, a FLUSHDB.
//!
//! Layout, for the cache misses a lookup costs: each shard maps the key's 64-bit hash to one allocation holding
//! the key and the record, so a hit touches one entry and verifies the key there. Two keys with the same hash
//! share a slot (the later one wins): a collision costs a miss, never a wrong answer. Eviction is
//! first-in-first-out per shard within a byte budget (`cache_size`; 0 turns the cache off). The map is our own
//! open-addressing [`Table`], because the slot a key starts at can then be computed without the lock: a worker
//! prefetches the slots of a pipeline's keys before running it ([`MetaCache::prefetch`]), so their cache misses
//! overlap instead of coming one per command (pipelined INCR: lookup and entry ~10 % of the samples → ~5 %).

use std::collections::VecDeque;
use std::hash::Hasher;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

const SHARDS: usize = 64;
/// Bookkeeping bytes counted per entry besides its key and value.
const ENTRY_OVERHEAD: usize = 48;
/// Bytes before the key in an entry: the key's length, then its last access time.
const HEADER: usize = 8;

#[derive(Default)]
struct Slots {
    /// Key hash → `[key length u32][last access u32][key][record]`.
    map: Table,
    /// Hashes in insertion order, for eviction (may hold hashes already removed).
    order: VecDeque<u64>,
    bytes: usize,
    /// Every record RocksDB holds for the shard's keys is in `map` (or being written: `writing`).
    complete: bool,
    /// Hashes of the keys being written ([`MetaCache::invalidate`] until [`MetaCache::store`] or
    /// [`MetaCache::abandon`]), with how many writes of each: no reader fills meanwhile, since what it read may
    /// already be overtaken, and a complete shard does not answer for these keys' absence. A map, not a list:
    /// one MSET may announce a million keys.
    writing: FxHashMap<u64, u32>,
}

impl Slots {
    /// One write of the key of hash `h` is over.
    fn written(&mut self, h: u64) {
        if let Some(n) = self.writing.get_mut(&h) {
            *n -= 1;
            if *n == 0 {
                self.writing.remove(&h);
            }
        }
    }
}

/// Aligned so that a write to one shard (its lock, its epoch) does not invalidate a neighbour in other cores' caches.
#[repr(align(128))]
struct Shard {
    slots: Mutex<Slots>,
    /// Bumped by every write to a key of this shard.
    epoch: AtomicU64,
}

pub struct MetaCache {
    shards: Vec<Shard>,
    /// What the entries' access fields hold (access times, or LFU counters): see `super::access`.
    pub access: super::access::AccessClock,
    /// Where each shard's table keeps its slots, readable without the shard's lock and apart from the shard's
    /// busy cache line (it changes only when a table grows): for [`MetaCache::prefetch`] only.
    locations: Vec<Location>,
    shard_budget: usize,
}

/// A meta record written: its key and the record (None: the key was deleted).
pub type Written<'a> = (&'a [u8], Option<&'a [u8]>);

/// The keys of a write in progress, as [`MetaCache::invalidate`] announced them.
pub struct Announced {
    hashes: Vec<u64>,
    per_shard: [u32; SHARDS],
    /// Positions in `hashes`, grouped by shard (in shard order), each group in write order.
    by_shard: Vec<u32>,
}

impl Announced {
    /// The shards touched, each with the positions of its keys.
    fn groups(&self) -> impl Iterator<Item = (usize, &[u32])> {
        let mut rest = &self.by_shard[..];
        self.per_shard.iter().enumerate().filter(|(_, &n)| n > 0).map(move |(i, &n)| {
            let (group, after) = rest.split_at(n as usize);
            rest = after;
            (i, group)
        })
    }
}

/// The records a preload would take: see [`MetaCache::count_for_preload`].
#[derive(Default)]
pub struct FitCheck {
    bytes: usize,
    too_large: bool,
}

/// The outcome of [`MetaCache::lookup`].
pub enum Lookup {
    Hit(Vec<u8>),
    /// Not cached: read RocksDB, then [`MetaCache::fill`] with this epoch.
    Miss(u64),
    /// The key has no record (its shard is complete).
    Absent,
}

fn cost(entry: &[u8]) -> usize {
    entry.len() + ENTRY_OVERHEAD
}

fn entry_key(entry: &[u8]) -> &[u8] {
    let len = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
    &entry[HEADER..HEADER + len]
}

/// An entry's last access time; 0: unknown.
fn entry_access(entry: &[u8]) -> u32 {
    u32::from_le_bytes([entry[4], entry[5], entry[6], entry[7]])
}

fn set_access(entry: &mut [u8], at: u32) {
    entry[4..8].copy_from_slice(&at.to_le_bytes());
}

/// Now, as an access time (the running command's time, in seconds).
pub fn access_now() -> u32 {
    u32::try_from(crate::util::now_ms() / 1000).unwrap_or(u32::MAX)
}

fn make_entry(key: &[u8], value: &[u8], access: u32) -> Box<[u8]> {
    let mut e = Vec::with_capacity(HEADER + key.len() + value.len());
    e.extend_from_slice(&(key.len() as u32).to_le_bytes());
    e.extend_from_slice(&access.to_le_bytes());
    e.extend_from_slice(key);
    e.extend_from_slice(value);
    e.into_boxed_slice()
}

fn hash(key: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(key);
    h.finish()
}

impl MetaCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Shard { slots: Mutex::default(), epoch: AtomicU64::new(0) }).collect(),
            locations: (0..SHARDS).map(|_| Location::default()).collect(),
            shard_budget: budget_bytes / SHARDS,
            access: Default::default(),
        }
    }

    fn enabled(&self) -> bool {
        self.shard_budget > 0
    }

    /// True when an entry for this key and record may be cached (a shard keeps at least four).
    fn fits(&self, key: &[u8], value: &[u8]) -> bool {
        HEADER + key.len() + value.len() + ENTRY_OVERHEAD <= self.shard_budget / 4
    }

    fn shard_index(h: u64) -> usize {
        (h >> 58) as usize % SHARDS
    }

    fn shard(&self, h: u64) -> &Shard {
        &self.shards[Self::shard_index(h)]
    }

    /// Starts loading into the CPU cache what a lookup of `key` will touch first, so that the lookups of a
    /// pipeline's keys wait for memory together instead of one after the other.
    pub fn prefetch(&self, key: &[u8]) {
        if !self.enabled() {
            return;
        }
        let h = hash(key);
        prefetch(self.shard(h) as *const Shard as *const u8);
        self.prefetch_slot(h);
    }

    /// Starts loading the slot the key of hash `h` is looked for first.
    fn prefetch_slot(&self, h: u64) {
        let at = &self.locations[Self::shard_index(h)];
        let slot = at.slots.load(Ordering::Relaxed).wrapping_add(Table::home(h, at.mask.load(Ordering::Relaxed)));
        prefetch(slot as *const u8);
    }

    /// The cached record of a meta key, or the epoch a reader going to RocksDB must fill with. `touch`: the
    /// read counts as an access of the key.
    pub fn lookup(&self, key: &[u8], touch: bool) -> Lookup {
        if !self.enabled() {
            return Lookup::Miss(0);
        }
        let h = hash(key);
        let shard = self.shard(h);
        // Read before looking, so a write between the look and a later fill makes the fill stale.
        let epoch = shard.epoch.load(Ordering::Acquire);
        let mut guard = shard.slots.lock();
        let slots = &mut *guard;
        match slots.map.get_mut(h) {
            Some(e) if entry_key(e) == key => {
                if touch {
                    set_access(e, self.access.read(entry_access(e)));
                }
                Lookup::Hit(e[HEADER + key.len()..].to_vec())
            }
            _ if slots.complete && !slots.writing.contains_key(&h) => Lookup::Absent,
            _ => Lookup::Miss(epoch),
        }
    }

    /// Adds a record RocksDB holds to `fit`, which tells [`MetaCache::could_hold`] whether a preload may take
    /// them all.
    pub fn count_for_preload(&self, fit: &mut FitCheck, key: &[u8], value: &[u8]) {
        fit.bytes += HEADER + key.len() + value.len() + ENTRY_OVERHEAD;
        fit.too_large |= !self.fits(key, value);
    }

    /// Whether the records counted in `fit` should all fit, with room for shards that get more than their share.
    pub fn could_hold(&self, fit: &FitCheck) -> bool {
        self.enabled() && !fit.too_large && fit.bytes <= self.shard_budget * SHARDS / 4 * 3
    }

    /// Before the server serves anyone: every shard complete, for [`MetaCache::preload`] to fill.
    pub fn begin_preload(&self) {
        if self.enabled() {
            for shard in &self.shards {
                shard.slots.lock().complete = true;
            }
        }
    }

    /// A record read at start-up, each key once. Returns false once the cache cannot take every record (and so
    /// is no longer complete): the caller stops offering them. The key's access is not known.
    pub fn preload(&self, key: &[u8], value: &[u8]) -> bool {
        if !self.enabled() {
            return false;
        }
        let h = hash(key);
        let mut slots = self.shard(h).slots.lock();
        if self.fits(key, value) {
            self.insert(h, &mut slots, make_entry(key, value, 0));
        } else {
            slots.complete = false;
        }
        slots.complete
    }

    /// When a cached key was last accessed (seconds since the epoch); None when that is not known.
    pub fn accessed(&self, key: &[u8]) -> Option<u32> {
        if !self.enabled() {
            return None;
        }
        let h = hash(key);
        let slots = self.shard(h).slots.lock();
        slots.map.get(h).filter(|e| entry_key(e) == key).map(entry_access).filter(|&at| at != 0)
    }

    /// Sets when a cached key was last accessed (RESTORE … IDLETIME); nothing if it is not cached.
    pub fn set_accessed(&self, key: &[u8], at: u32) {
        if !self.enabled() {
            return;
        }
        let h = hash(key);
        let mut slots = self.shard(h).slots.lock();
        if let Some(e) = slots.map.get_mut(h).filter(|e| entry_key(e) == key) {
            set_access(e, at);
        }
    }

    #[cfg(test)]
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.lookup(key, false) {
            Lookup::Hit(v) => Some(v),
            Lookup::Miss(_) | Lookup::Absent => None,
        }
    }

    /// A reader's fill after a miss: kept only if no write touched the shard since `epoch` and none is in
    /// progress. (A reader that read RocksDB before a write landed must not put that value back after another
    /// reader has already seen the new one.) `touch`: the read counts as an access of the key.
    pub fn fill(&self, key: &[u8], value: &[u8], epoch: u64, touch: bool) {
        if !self.enabled() || !self.fits(key, value) {
            return;
        }
        let h = hash(key);
        let shard = self.shard(h);
        let mut slots = shard.slots.lock();
        if shard.epoch.load(Ordering::Acquire) == epoch && slots.writing.is_empty() {
            self.insert(h, &mut slots, make_entry(key, value, if touch { self.access.read(0) } else { 0 }));
        }
    }

    /// Before a write of `keys`: fills by readers that looked earlier are refused from now on, and every fill
    /// until the write ends ([`MetaCache::store`] or [`MetaCache::abandon`]). Each shard is announced once
    /// however many of the keys fall in it.
    pub fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a [u8]>) -> Announced {
        let mut announced = Announced { hashes: Vec::new(), per_shard: [0; SHARDS], by_shard: Vec::new() };
        if !self.enabled() {
            return announced;
        }
        announced.hashes = keys.into_iter().map(hash).collect();
        for &h in &announced.hashes {
            announced.per_shard[Self::shard_index(h)] += 1;
        }
        // Grouped by shard with a counting sort, so each shard is locked once here and once in `store`.
        let mut next = [0usize; SHARDS];
        let mut at_start = 0;
        for (slot, &n) in next.iter_mut().zip(&announced.per_shard) {
            *slot = at_start;
            at_start += n as usize;
        }
        announced.by_shard = vec![0u32; announced.hashes.len()];
        for (i, &h) in (0..).zip(&announced.hashes) {
            let slot = &mut next[Self::shard_index(h)];
            announced.by_shard[*slot] = i;
            *slot += 1;
        }
        for &h in &announced.hashes {
            self.prefetch_slot(h);
        }
        for (i, group) in announced.groups() {
            let shard = &self.shards[i];
            let mut slots = shard.slots.lock();
            shard.epoch.fetch_add(1, Ordering::AcqRel);
            for &k in group {
                let h = announced.hashes[k as usize];
                *slots.writing.entry(h).or_insert(0) += 1;
                // The entry [`MetaCache::store`] will rewrite, most often one a worker just read: fetched while
                // RocksDB writes, instead of a miss per key after it.
                if let Some(e) = slots.map.get(h) {
                    prefetch(e.as_ptr());
                }
            }
        }
        announced
    }

    /// After a write announced by [`MetaCache::invalidate`] failed: the cached records (if any) stay right.
    pub fn abandon(&self, announced: &Announced) {
        for (i, group) in announced.groups() {
            let shard = &self.shards[i];
            let mut slots = shard.slots.lock();
            shard.epoch.fetch_add(1, Ordering::AcqRel);
            for &k in group {
                slots.written(announced.hashes[k as usize]);
            }
        }
    }

    /// After a write announced by [`MetaCache::invalidate`] reached RocksDB: the new records (None: the key was
    /// deleted), in the order the keys were announced, accessed at `at` ([`access_now`], read once for a whole
    /// batch). Each shard is locked once: its records are applied together, in write order (a later write of a
    /// key wins).
    pub fn store(&self, announced: &Announced, records: &[Written], at: u32) {
        if !self.enabled() {
            return;
        }
        debug_assert_eq!(announced.hashes.len(), records.len(), "records of another write");
        for (i, group) in announced.groups() {
            let shard = &self.shards[i];
            let mut slots = shard.slots.lock();
            shard.epoch.fetch_add(1, Ordering::AcqRel);
            // Under the lock: a reader that sees the write over also sees its records.
            for &k in group {
                let (key, value) = records[k as usize];
                let h = announced.hashes[k as usize];
                slots.written(h);
                self.put(&mut slots, h, key, value, at);
            }
        }
    }

    /// One record of [`MetaCache::store`], under its shard's lock.
    fn put(&self, slots: &mut Slots, h: u64, key: &[u8], value: Option<&[u8]>, at: u32) {
        match value {
            Some(v) if self.fits(key, v) => {
                let old = slots.map.get_mut(h).filter(|e| entry_key(e) == key);
                let field = self.access.written(old.as_deref().map(|e| entry_access(e)), at);
                // A record rewritten at the same size (a counter, a SET of a same-sized value) is updated in place.
                if let Some(e) = old.filter(|e| e.len() == HEADER + key.len() + v.len()) {
                    e[HEADER + key.len()..].copy_from_slice(v);
                    set_access(e, field);
                    return;
                }
                self.insert(h, slots, make_entry(key, v, field))
            }
            Some(_) => {
                // RocksDB has a record the cache cannot hold.
                slots.complete = false;
                if let Some(old) = slots.map.remove(h) {
                    slots.bytes -= cost(&old);
                }
            }
            None => {
                // A slot holding another key (a hash collision) keeps it: that record is still right.
                if slots.map.get(h).is_some_and(|e| entry_key(e) == key) {
                    if let Some(old) = slots.map.remove(h) {
                        slots.bytes -= cost(&old);
                    }
                }
            }
        }
    }

    /// Forgets everything (FLUSHDB, FLUSHALL, a preload that stopped short): no shard answers for absent keys.
    pub fn clear(&self) {
        for (shard, location) in self.shards.iter().zip(&self.locations) {
            let mut s = shard.slots.lock();
            shard.epoch.fetch_add(1, Ordering::AcqRel);
            // Records of the databases not flushed are dropped too.
            s.complete = false;
            s.map = Table::default();
            location.set(&s.map);
            s.order = VecDeque::new();
            s.bytes = 0;
        }
    }

    fn insert(&self, h: u64, s: &mut Slots, entry: Box<[u8]>) {
        s.bytes += cost(&entry);
        // A hash collision drops the other key's record.
        if s.map.get(h).is_some_and(|old| entry_key(old) != entry_key(&entry)) {
            s.complete = false;
        }
        match s.map.insert(h, entry) {
            Some(old) => s.bytes -= cost(&old),
            None => s.order.push_back(h),
        }
        while s.bytes > self.shard_budget {
            let Some(old) = s.order.pop_front() else { break };
            if let Some(e) = s.map.remove(old) {
                s.bytes -= cost(&e);
                s.complete = false;
            }
        }
        // Hashes removed by deletes linger in `order`; rebuild it before it grows far past the live entries.
        if s.order.len() > 2 * s.map.len() + 64 {
            s.order = s.map.hashes().collect();
        }
        self.locations[Self::shard_index(h)].set(&s.map);
    }
}

/// Where a shard's table keeps its slots (a stale value only prefetches the wrong line).
#[derive(Default)]
struct Location {
    slots: AtomicPtr<Slot>,
    mask: AtomicUsize,
}

impl Location {
    fn set(&self, table: &Table) {
        self.slots.store(table.slots.as_ptr() as *mut Slot, Ordering::Relaxed);
        self.mask.store(table.slots.len().saturating_sub(1), Ordering::Relaxed);
    }
}

/// Loads the cache line at `at` ahead of use; a hint that has no effect on memory and never faults, whatever
/// the address.
fn prefetch(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is only a hint: it reads nothing the program sees and does not fault on any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(at as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// One slot of a [`Table`].
#[derive(Default)]
struct Slot {
    hash: u64,
    entry: Option<Box<[u8]>>,
}

/// A map from key hash to entry with open addressing and linear probing, kept at most half full. Unlike a
/// general-purpose map, the slot a hash starts at is known from outside ([`Table::home`]), so a pipeline's
/// lookups can prefetch their slots; a lookup then usually reads one slot and the entry.
#[derive(Default)]
struct Table {
    /// Empty, or a power of two long.
    slots: Box<[Slot]>,
    len: usize,
}

impl Table {
    /// The index a hash is first looked for at.
    fn home(h: u64, mask: usize) -> usize {
        h as usize & mask
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The index holding `h`, if any.
    fn find(&self, h: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let mut i = Self::home(h, mask);
        loop {
            let slot = &self.slots[i];
            slot.entry.as_ref()?;
            if slot.hash == h {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    fn get(&self, h: u64) -> Option<&[u8]> {
        self.find(h).and_then(|i| self.slots[i].entry.as_deref())
    }

    fn get_mut(&mut self, h: u64) -> Option<&mut Box<[u8]>> {
        let i = self.find(h)?;
        self.slots[i].entry.as_mut()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().filter(|s| s.entry.is_some()).map(|s| s.hash)
    }

    /// Inserts or replaces; returns the entry replaced.
    fn insert(&mut self, h: u64, entry: Box<[u8]>) -> Option<Box<[u8]>> {
        if let Some(i) = self.find(h) {
            return self.slots[i].entry.replace(entry);
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = Self::home(h, mask);
        while self.slots[i].entry.is_some() {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot { hash: h, entry: Some(entry) };
        self.len += 1;
        None
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| Slot::default()).collect());
        self.len = 0;
        for slot in old.into_vec() {
            if let Some(e) = slot.entry {
                self.insert(slot.hash, e);
            }
        }
    }

    /// Removes `h`; later slots of its probe run move back (no tombstones).
    fn remove(&mut self, h: u64) -> Option<Box<[u8]>> {
        let mut hole = self.find(h)?;
        let removed = self.slots[hole].entry.take();
        self.len -= 1;
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            if self.slots[j].entry.is_none() {
                break;
            }
            let home = Self::home(self.slots[j].hash, mask);
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.slots[hole] = std::mem::take(&mut self.slots[j]);
                hole = j;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write as storage does it: announced, then stored.
    fn write(c: &MetaCache, key: &[u8], value: Option<&[u8]>) {
        let announced = c.invalidate([key]);
        c.store(&announced, &[(key, value)], access_now());
    }

    #[test]
    fn no_fill_while_a_write_is_in_progress() {
        let c = MetaCache::new(1 << 20);
        let announced = c.invalidate([&b"k"[..]]);
        // This reader looked after the write began and may have read RocksDB before or after it landed.
        let Lookup::Miss(e) = c.lookup(b"k", true) else { panic!("empty cache hit") };
        c.fill(b"k", b"old", e, true);
        assert_eq!(c.get(b"k"), None);
        c.store(&announced, &[(b"k", Some(b"new"))], access_now());
        assert_eq!(c.get(b"k").as_deref(), Some(&b"new"[..]));
        // A failed write leaves the shard open to fills again.
        let announced = c.invalidate([&b"j"[..]]);
        c.abandon(&announced);
        let Lookup::Miss(e) = c.lookup(b"j", true) else { panic!("empty cache hit") };
        c.fill(b"j", b"v", e, true);
        assert_eq!(c.get(b"j").as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn stale_fill_is_refused() {
        let c = MetaCache::new(1 << 20);
        let Lookup::Miss(e) = c.lookup(b"k", true) else { panic!("empty cache hit") };
        write(&c, b"k", Some(b"new"));
        c.fill(b"k", b"old", e, true);
        assert_eq!(c.get(b"k").as_deref(), Some(&b"new"[..]));
        write(&c, b"k", None);
        assert_eq!(c.get(b"k"), None);
    }

    #[test]
    fn a_slot_answers_only_for_its_own_key() {
        let c = MetaCache::new(1 << 20);
        write(&c, b"a", Some(b"1"));
        // Another key landing in the same slot (a hash collision) replaces it and never answers for it.
        let h = hash(b"a");
        c.insert(h, &mut c.shard(h).slots.lock(), make_entry(b"b", b"2", 0));
        assert_eq!(c.get(b"a"), None);
        write(&c, b"a", Some(b"3"));
        assert_eq!(c.get(b"a").as_deref(), Some(&b"3"[..]));
        assert_eq!(c.get(b"b"), None);
        write(&c, b"a", Some(b"4"));
        assert_eq!(c.get(b"a").as_deref(), Some(&b"4"[..]));
        assert!(matches!(c.lookup(b"zz", true), Lookup::Miss(_)));
    }

    #[test]
    fn budget_is_kept() {
        let c = MetaCache::new(64 * 1024);
        for i in 0..10_000u32 {
            let k = i.to_be_bytes();
            write(&c, &k, Some(&[0u8; 32]));
        }
        let total: usize = c.shards.iter().map(|s| s.slots.lock().bytes).sum();
        assert!(total <= 64 * 1024, "{total}");
        assert!(c.get(&9_999u32.to_be_bytes()).is_some());
    }

    #[test]
    fn table_keeps_every_entry_through_removals_and_growth() {
        // Hashes chosen to collide on their home slot and wrap around the end of the table.
        let mut t = Table::default();
        let mut model = std::collections::HashMap::new();
        let mut x: u64 = 7;
        for round in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let h = (x >> 33) % 300 * 16 + (round % 3);
            if x.is_multiple_of(3) {
                assert_eq!(t.remove(h).map(|e| e.to_vec()), model.remove(&h), "remove {h}");
            } else {
                let e: Box<[u8]> = round.to_le_bytes().into();
                assert_eq!(t.insert(h, e.clone()).map(|e| e.to_vec()), model.insert(h, e.to_vec()), "insert {h}");
            }
            assert_eq!(t.len(), model.len());
        }
        for (h, e) in &model {
            assert_eq!(t.get(*h), Some(e.as_slice()));
        }
        assert_eq!(t.hashes().count(), model.len());
        assert_eq!(t.get(u64::MAX), None);
    }

    #[test]
    fn access_times_follow_touching_reads_and_writes() {
        let c = MetaCache::new(1 << 20);
        write(&c, b"w", Some(b"1"));
        let now = access_now();
        assert!(c.accessed(b"w").is_some_and(|at| at >= now.saturating_sub(1) && at <= now));
        // A read that does not touch leaves the time; one that fills without touching knows none.
        let old = 1_000;
        let h = hash(b"w");
        c.insert(h, &mut c.shard(h).slots.lock(), make_entry(b"w", b"1", old));
        assert!(matches!(c.lookup(b"w", false), Lookup::Hit(_)));
        assert_eq!(c.accessed(b"w"), Some(old));
        assert!(matches!(c.lookup(b"w", true), Lookup::Hit(_)));
        assert!(c.accessed(b"w").is_some_and(|at| at >= now));
        let Lookup::Miss(e) = c.lookup(b"r", false) else { panic!("empty cache hit") };
        c.fill(b"r", b"v", e, false);
        assert_eq!(c.get(b"r").as_deref(), Some(&b"v"[..]));
        assert_eq!(c.accessed(b"r"), None);
        assert_eq!(c.accessed(b"missing"), None);
    }

    #[test]
    fn a_batch_of_writes_lands_in_write_order_per_key() {
        let c = MetaCache::new(1 << 20);
        let keys: Vec<Vec<u8>> = (0..500u32).map(|i| format!("key:{i}").into_bytes()).collect();
        // Every key twice, the second write of each later in the batch: the second must win. Every tenth key
        // is deleted by its second write.
        let mut records: Vec<Written> = keys.iter().map(|k| (k.as_slice(), Some(&b"first"[..]))).collect();
        for (i, k) in keys.iter().enumerate() {
            records.push((k, if i % 10 == 0 { None } else { Some(b"second") }));
        }
        let announced = c.invalidate(records.iter().map(|(k, _)| *k));
        // While the batch is in progress no shard it touches takes a fill.
        let Lookup::Miss(e) = c.lookup(&keys[1], true) else { panic!("empty cache hit") };
        c.fill(&keys[1], b"stale", e, true);
        assert_eq!(c.get(&keys[1]), None);
        c.store(&announced, &records, access_now());
        for (i, k) in keys.iter().enumerate() {
            let want = (i % 10 != 0).then(|| b"second".to_vec());
            assert_eq!(c.get(k), want, "key {i}");
        }
        assert!(c.shards.iter().all(|s| s.slots.lock().writing.is_empty()));
    }

    #[test]
    fn a_complete_shard_answers_for_absent_keys_until_it_drops_a_record() {
        let c = MetaCache::new(64 * 1024);
        assert!(matches!(c.lookup(b"new", true), Lookup::Miss(_)), "not complete before a preload");
        c.begin_preload();
        assert!(c.preload(b"old", b"1"));
        assert_eq!(c.get(b"old").as_deref(), Some(&b"1"[..]));
        assert!(matches!(c.lookup(b"new", true), Lookup::Absent));
        // Being written: RocksDB may already have it.
        let announced = c.invalidate([&b"new"[..]]);
        assert!(matches!(c.lookup(b"new", true), Lookup::Miss(_)));
        c.store(&announced, &[(b"new", Some(b"2"))], access_now());
        assert_eq!(c.get(b"new").as_deref(), Some(&b"2"[..]));
        let announced = c.invalidate([&b"new"[..]]);
        c.abandon(&announced);
        assert!(matches!(c.lookup(b"new", true), Lookup::Hit(_)));
        write(&c, b"new", None);
        assert!(matches!(c.lookup(b"new", true), Lookup::Absent));
        // A record too large to cache leaves its shard unable to answer for absent keys.
        let big = vec![0u8; 64 * 1024];
        write(&c, b"big", Some(&big));
        assert!(matches!(c.lookup(b"big", true), Lookup::Miss(_)));
        // So does an eviction: everything that falls in a shard past its budget.
        for i in 0..10_000u32 {
            write(&c, &i.to_be_bytes(), Some(&[0u8; 32]));
        }
        assert!(c.shards.iter().all(|s| !s.slots.lock().complete));
        assert!(matches!(c.lookup(b"gone", true), Lookup::Miss(_)));
    }

    #[test]
    fn a_preload_is_tried_only_when_every_record_should_fit() {
        let c = MetaCache::new(64 * 1024);
        let mut fit = FitCheck::default();
        for i in 0..100u32 {
            c.count_for_preload(&mut fit, &i.to_be_bytes(), &[0u8; 32]);
        }
        assert!(c.could_hold(&fit));
        for i in 100..10_000u32 {
            c.count_for_preload(&mut fit, &i.to_be_bytes(), &[0u8; 32]);
        }
        assert!(!c.could_hold(&fit), "past three quarters of the budget");
        let mut fit = FitCheck::default();
        c.count_for_preload(&mut fit, b"big", &[0u8; 64 * 1024]);
        assert!(!c.could_hold(&fit), "a record too large to cache");
        assert!(!MetaCache::new(0).could_hold(&FitCheck::default()), "no cache");
    }

    #[test]
    fn a_preload_past_the_budget_leaves_the_cache_incomplete() {
        let c = MetaCache::new(64 * 1024);
        c.begin_preload();
        let taken = (0..10_000u32).take_while(|i| c.preload(&i.to_be_bytes(), &[0u8; 32])).count();
        assert!(taken < 10_000);
        c.clear();
        assert!(matches!(c.lookup(b"absent", true), Lookup::Miss(_)));
        // A collision or a FLUSHDB drops records as well.
        let c = MetaCache::new(1 << 20);
        c.begin_preload();
        assert!(c.preload(b"a", b"1"));
        let h = hash(b"a");
        c.insert(h, &mut c.shard(h).slots.lock(), make_entry(b"b", b"2", 0));
        assert!(matches!(c.lookup(b"a", true), Lookup::Miss(_)));
        c.begin_preload();
        c.clear();
        assert!(matches!(c.lookup(b"a", true), Lookup::Miss(_)));
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let c = MetaCache::new(0);
        write(&c, b"k", Some(b"v"));
        assert_eq!(c.get(b"k"), None);
    }
}
