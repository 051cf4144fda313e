//! A bounded in-memory cache of meta records in front of RocksDB, so point reads of hot keys (GET, and the read
//! half of every write) skip the memtable and SST lookups that dominate a profile of GET and SET.
//!
//! Coherence, with RocksDB always the truth:
//! - writers remove the keys they are about to write *before* writing RocksDB and insert the new records
//!   *after* ([`MetaCache::invalidate`], [`MetaCache::store`]); between the two, readers miss and read RocksDB;
//! - a reader that missed fills the cache only if no writer touched that shard since it looked
//!   ([`MetaCache::epoch`], [`MetaCache::fill`]), so a slow reader can never put back a value older than RocksDB's.
//!
//! Eviction is first-in-first-out per shard within a byte budget (`cache_size`; 0 turns the cache off).

use std::collections::VecDeque;
use std::hash::Hasher;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

const SHARDS: usize = 64;
/// Bookkeeping bytes counted per entry besides its key and value.
const ENTRY_OVERHEAD: usize = 64;

#[derive(Default)]
struct Shard {
    map: FxHashMap<Vec<u8>, Vec<u8>>,
    /// Keys in insertion order, for eviction (may hold keys already removed).
    order: VecDeque<Vec<u8>>,
    bytes: usize,
    /// Bumped by every write to a key of this shard.
    epoch: u64,
}

pub struct MetaCache {
    shards: Vec<Mutex<Shard>>,
    shard_budget: usize,
}

fn cost(key: &[u8], value: &[u8]) -> usize {
    key.len() + value.len() + ENTRY_OVERHEAD
}

impl MetaCache {
    pub fn new(budget_bytes: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_budget: budget_bytes / SHARDS,
        }
    }

    fn enabled(&self) -> bool {
        self.shard_budget > 0
    }

    fn shard(&self, key: &[u8]) -> &Mutex<Shard> {
        let mut h = rustc_hash::FxHasher::default();
        h.write(key);
        &self.shards[(h.finish() as usize >> 7) % SHARDS]
    }

    /// The cached record of a meta key.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if !self.enabled() {
            return None;
        }
        self.shard(key).lock().map.get(key).cloned()
    }

    /// The shard's write epoch, read before a reader goes to RocksDB.
    pub fn epoch(&self, key: &[u8]) -> u64 {
        if !self.enabled() {
            return 0;
        }
        self.shard(key).lock().epoch
    }

    /// A reader's fill after a miss: kept only if no write touched the shard since `epoch`.
    pub fn fill(&self, key: &[u8], value: &[u8], epoch: u64) {
        if !self.enabled() || cost(key, value) > self.shard_budget / 4 {
            return;
        }
        let mut s = self.shard(key).lock();
        if s.epoch == epoch {
            self.insert(&mut s, key, value);
        }
    }

    /// Before a write: the key may no longer be served from memory.
    pub fn invalidate(&self, key: &[u8]) {
        if !self.enabled() {
            return;
        }
        let mut s = self.shard(key).lock();
        s.epoch += 1;
        if let Some(old) = s.map.remove(key) {
            s.bytes -= cost(key, &old);
        }
    }

    /// After a write reached RocksDB: the new record (None: the key was deleted).
    pub fn store(&self, key: &[u8], value: Option<&[u8]>) {
        if !self.enabled() {
            return;
        }
        let mut s = self.shard(key).lock();
        s.epoch += 1;
        match value {
            Some(v) if cost(key, v) <= self.shard_budget / 4 => self.insert(&mut s, key, v),
            _ => {
                if let Some(old) = s.map.remove(key) {
                    s.bytes -= cost(key, &old);
                }
            }
        }
    }

    /// Forgets everything (FLUSHDB, FLUSHALL).
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut s = shard.lock();
            s.epoch += 1;
            s.map.clear();
            s.order.clear();
            s.bytes = 0;
        }
    }

    fn insert(&self, s: &mut Shard, key: &[u8], value: &[u8]) {
        match s.map.get_mut(key) {
            Some(v) => {
                s.bytes = s.bytes - v.len() + value.len();
                v.clear();
                v.extend_from_slice(value);
            }
            None => {
                s.map.insert(key.to_vec(), value.to_vec());
                s.order.push_back(key.to_vec());
                s.bytes += cost(key, value);
            }
        }
        while s.bytes > self.shard_budget {
            let Some(old) = s.order.pop_front() else { break };
            if let Some(v) = s.map.remove(&old) {
                s.bytes -= cost(&old, &v);
            }
        }
        // Keys removed by writes linger in `order`; rebuild it before it grows far past the live entries.
        if s.order.len() > 2 * s.map.len() + 64 {
            s.order = s.map.keys().cloned().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_fill_is_refused() {
        let c = MetaCache::new(1 << 20);
        let e = c.epoch(b"k");
        c.invalidate(b"k");
        c.store(b"k", Some(b"new"));
        c.fill(b"k", b"old", e);
        assert_eq!(c.get(b"k").as_deref(), Some(&b"new"[..]));
        c.store(b"k", None);
        assert_eq!(c.get(b"k"), None);
    }

    #[test]
    fn budget_is_kept() {
        let c = MetaCache::new(64 * 1024);
        for i in 0..10_000u32 {
            let k = i.to_be_bytes();
            c.store(&k, Some(&[0u8; 32]));
        }
        let total: usize = c.shards.iter().map(|s| s.lock().bytes).sum();
        assert!(total <= 64 * 1024, "{total}");
        assert!(c.get(&9_999u32.to_be_bytes()).is_some());
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let c = MetaCache::new(0);
        c.store(b"k", Some(b"v"));
        assert_eq!(c.get(b"k"), None);
    }
}
