//! Striped shard locks: the atomicity of read-modify-write commands.
//!
//! A key maps to one of a fixed number of stripes by hash. Multi-key commands lock their stripes sorted by index
//! and deduplicated, the one rule that makes deadlock impossible. Locks are never held across an `.await`.
//! Inside a write scope (see [`super::scope`]) a released guard hands its stripes to the scope, which keeps them
//! until its batch is committed.

use std::hash::Hasher;

use parking_lot::lock_api::RawMutex as _;
use parking_lot::RawMutex;

use super::scope;

const STRIPES: usize = 4096;

pub struct ShardLocks {
    stripes: Vec<RawMutex>,
}

/// Holds the stripes a command locked; dropping it releases them (or gives them to the open scope).
pub struct LockGuard<'a> {
    locks: &'a ShardLocks,
    stripes: Vec<usize>,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let stripes = std::mem::take(&mut self.stripes);
        // Locks only need to outlive the command while the scope has writes they protect.
        let handed = scope::with_scope(|sc| {
            if sc.batch.is_empty() {
                return false;
            }
            sc.held.extend_from_slice(&stripes);
            sc.held.sort_unstable();
            true
        });
        if handed != Some(true) {
            self.locks.release(&stripes);
        }
    }
}

impl Default for ShardLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardLocks {
    pub fn new() -> Self {
        Self { stripes: (0..STRIPES).map(|_| RawMutex::INIT).collect() }
    }

    /// A fast non-cryptographic hash: a client can at worst make its own keys share a stripe (contention, never
    /// incorrectness), so SipHash's flooding resistance is not worth its cost on every write.
    fn stripe(&self, key: &[u8]) -> usize {
        let mut h = rustc_hash::FxHasher::default();
        h.write(key);
        (h.finish() as usize) % STRIPES
    }

    /// Locks the stripes of `keys` in ascending stripe order.
    pub fn lock<K: AsRef<[u8]>>(&self, keys: &[K]) -> LockGuard<'_> {
        let mut want: Vec<usize> = keys.iter().map(|k| self.stripe(k.as_ref())).collect();
        want.sort_unstable();
        want.dedup();
        // Stripes this thread's scope already holds are ours; of the rest, those above everything held can be
        // taken in order. One below a held stripe may only be tried: on failure the scope commits and lets go.
        // The guard takes those over from the scope, so that a commit of the scope in the middle of the command
        // (`settle`, before an iterator) cannot release a stripe the command still relies on.
        let (held_max, owned) = scope::with_scope(|sc| {
            let max = sc.held.last().copied();
            let owned: Vec<usize> = want.iter().copied().filter(|w| sc.held.binary_search(w).is_ok()).collect();
            sc.held.retain(|h| owned.binary_search(h).is_err());
            (max, owned)
        })
        .unwrap_or((None, Vec::new()));
        want.retain(|w| owned.binary_search(w).is_err());
        // A transaction being executed cannot commit to back off; it may block instead: the exec gate keeps
        // every other command out meanwhile, and other threads' scopes commit without waiting for this one.
        if let Some(max) = held_max.filter(|_| !scope::pinned()) {
            if want.first().is_some_and(|&w| w < max) {
                let mut got = Vec::new();
                for &w in &want {
                    if self.stripes[w].try_lock() {
                        got.push(w);
                    } else {
                        self.release(&got);
                        // Give the taken-over stripes back before the commit releases everything.
                        scope::with_scope(|sc| {
                            sc.held.extend_from_slice(&owned);
                            sc.held.sort_unstable();
                        });
                        scope::settle();
                        return self.lock(keys);
                    }
                }
                got.extend_from_slice(&owned);
                return LockGuard { locks: self, stripes: got };
            }
        }
        for &w in &want {
            self.stripes[w].lock();
        }
        want.extend_from_slice(&owned);
        LockGuard { locks: self, stripes: want }
    }

    /// Locks every stripe (SWAPDB, FLUSHALL): nothing else writes until the guard is dropped.
    pub fn lock_all(&self) -> LockGuard<'_> {
        scope::settle_even_pinned();
        for m in &self.stripes {
            m.lock();
        }
        LockGuard { locks: self, stripes: (0..STRIPES).collect() }
    }

    /// Unlocks stripes this thread locked.
    pub(crate) fn release(&self, stripes: &[usize]) {
        for &s in stripes {
            // SAFETY: every index passed here was locked by this thread through `lock`/`lock_all` and is
            // released exactly once (guards hand their stripes either here or to the scope, never both).
            unsafe { self.stripes[s].unlock() };
        }
    }
}

/// The exec gate: every command runs holding it shared, a MULTI/EXEC transaction runs holding it exclusively,
/// so no client observes part of a transaction, even through lock-free reads.
#[derive(Default)]
pub struct ExecGate(parking_lot::RwLock<()>);

impl ExecGate {
    /// Shared, for one ordinary command. When a transaction is waiting, this thread's scope commits first: its
    /// held stripes may be what the transaction's thread waits for.
    pub fn enter(&self) -> parking_lot::RwLockReadGuard<'_, ()> {
        if let Some(g) = self.0.try_read() {
            return g;
        }
        scope::settle();
        self.0.read()
    }

    /// Exclusive, for a transaction. The caller's scope must hold no stripes (commit it first).
    pub fn exclusive(&self) -> parking_lot::RwLockWriteGuard<'_, ()> {
        self.0.write()
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
