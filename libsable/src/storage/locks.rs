//! Striped shard locks: the atomicity of read-modify-write commands.
//!
//! A key maps to one of a fixed number of stripes by hash. Multi-key commands lock their stripes sorted by index
//! and deduplicated, the one rule that makes deadlock impossible. Locks are never held across an `.await`.

use std::hash::{BuildHasher, Hasher};

use parking_lot::{Mutex, MutexGuard};

const STRIPES: usize = 4096;

pub struct ShardLocks {
    stripes: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
}

/// Holds the locks of one command; they are released when it is dropped.
pub struct LockGuard<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl Default for ShardLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardLocks {
    pub fn new() -> Self {
        Self { stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(), hasher: Default::default() }
    }

    fn stripe(&self, key: &[u8]) -> usize {
        let mut h = self.hasher.build_hasher();
        h.write(key);
        (h.finish() as usize) % STRIPES
    }

    /// Locks the stripes of `keys` in ascending stripe order.
    pub fn lock<K: AsRef<[u8]>>(&self, keys: &[K]) -> LockGuard<'_> {
        let mut idx: Vec<usize> = keys.iter().map(|k| self.stripe(k.as_ref())).collect();
        idx.sort_unstable();
        idx.dedup();
        LockGuard { _guards: idx.into_iter().map(|i| self.stripes[i].lock()).collect() }
    }

    /// Locks every stripe (SWAPDB, FLUSHALL): nothing else writes until the guard is dropped.
    pub fn lock_all(&self) -> LockGuard<'_> {
        LockGuard { _guards: self.stripes.iter().map(|m| m.lock()).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn opposite_orders_do_not_deadlock() {
        let locks = Arc::new(ShardLocks::new());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let locks = locks.clone();
                std::thread::spawn(move || {
                    for i in 0..2000 {
                        let (a, b) = (format!("a{i}"), format!("b{i}"));
                        let keys = if t % 2 == 0 { [a, b] } else { [b, a] };
                        let _g = locks.lock(&keys);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }

    #[test]
    fn same_key_twice_locks_once() {
        let locks = ShardLocks::new();
        let _g = locks.lock(&["k", "k"]);
    }
}
