//! Striped shard locks: the atomicity of read-modify-write commands.
//!
//! A key maps to one of a fixed number of stripes by hash. Multi-key commands lock their stripes sorted by index
//! and deduplicated, the one rule that makes deadlock impossible. Locks are never held across an `.await`.
//! Inside a write scope (see [`super::scope`]) a released guard hands its stripes to the scope, which keeps them
//! until its batch is written; the committer thread then unlocks them (a stripe is a raw mutex, which any thread
//! may unlock: the `send_guard` feature of parking_lot says so). The committer never waits for a lock, so a
//! stripe held by a batch in flight is always freed.

use std::hash::Hasher;

use parking_lot::lock_api::RawMutex as _;
use parking_lot::RawMutex;
use smallvec::SmallVec;

use super::scope;

const STRIPES: usize = 4096;

pub struct ShardLocks {
    stripes: Vec<RawMutex>,
}

/// The stripes a write scope holds until it commits, as a bitmap: a scope of a few hundred commands adds its
/// stripes one at a time, so insertion and lookup must not depend on how many it holds.
#[derive(Clone)]
pub(crate) struct StripeSet {
    words: [u64; STRIPES / 64],
    len: usize,
}

impl Default for StripeSet {
    fn default() -> Self {
        Self { words: [0; STRIPES / 64], len: 0 }
    }
}

impl StripeSet {
    pub fn insert(&mut self, s: usize) {
        let (w, bit) = (s / 64, 1u64 << (s % 64));
        if self.words[w] & bit == 0 {
            self.words[w] |= bit;
            self.len += 1;
        }
    }

    pub fn remove(&mut self, s: usize) {
        let (w, bit) = (s / 64, 1u64 << (s % 64));
        if self.words[w] & bit != 0 {
            self.words[w] &= !bit;
            self.len -= 1;
        }
    }

    pub fn contains(&self, s: usize) -> bool {
        self.words[s / 64] & (1u64 << (s % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The highest stripe held.
    pub fn max(&self) -> Option<usize> {
        let w = self.words.iter().rposition(|&w| w != 0)?;
        Some(w * 64 + 63 - self.words[w].leading_zeros() as usize)
    }

    /// The stripes held, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    i * 64 + bit
                })
            })
        })
    }
}

/// Holds the stripes a command locked; dropping it releases them (or gives them to the open scope).
pub struct LockGuard<'a> {
    locks: &'a ShardLocks,
    stripes: Stripes,
}

/// The stripes of one command: most lock one key, so no allocation for a few.
type Stripes = SmallVec<[usize; 4]>;

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let stripes = std::mem::take(&mut self.stripes);
        // Locks only need to outlive the command while the scope has writes they protect.
        let handed = scope::with_scope(|sc| {
            // A stripe taken over from an in-flight batch guards a value not written yet: held on as well.
            if sc.overlay.is_empty() && sc.deps.is_empty() {
                return false;
            }
            stripes.iter().for_each(|&s| sc.held.insert(s));
            true
        });
        if handed != Some(true) {
            self.locks.release(stripes);
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
        let mut want: Stripes = keys.iter().map(|k| self.stripe(k.as_ref())).collect();
        want.sort_unstable();
        want.dedup();
        // Stripes this thread's scope already holds are ours; of the rest, those above everything held can be
        // taken in order. One below a held stripe may only be tried: on failure the scope commits and lets go.
        // The guard takes those over from the scope, so that a commit of the scope in the middle of the command
        // (`settle`, before an iterator) cannot release a stripe the command still relies on.
        let (held_max, owned) = scope::with_scope(|sc| {
            let max = sc.held.max();
            let owned: Stripes = want.iter().copied().filter(|&w| sc.held.contains(w)).collect();
            owned.iter().for_each(|&w| sc.held.remove(w));
            (max, owned)
        })
        .unwrap_or((None, Stripes::new()));
        want.retain(|w| owned.binary_search(w).is_err());
        // A transaction being executed cannot commit to back off; it may block instead: the exec gate keeps
        // every other command out meanwhile, and other threads' scopes commit without waiting for this one.
        let may_back_off = held_max.is_some() && !scope::pinned();
        let mut got = Stripes::with_capacity(want.len() + owned.len());
        for &w in &want {
            // A stripe an in-flight batch of this thread holds is taken over rather than waited for: that
            // batch's writes are the latest values of its keys, and the scope now depends on it.
            if self.stripes[w].try_lock() || scope::take_over(w) {
                got.push(w);
            } else if may_back_off && held_max.is_some_and(|max| w < max) {
                // Blocking here could close a cycle with a thread waiting for a stripe this scope holds. The
                // stripes taken so far join the scope (a taken-over one must stay locked until written), and the
                // commit releases all of them.
                scope::with_scope(|sc| {
                    got.iter().chain(&owned).for_each(|&s| sc.held.insert(s));
                });
                scope::settle();
                return self.lock(keys);
            } else {
                self.stripes[w].lock();
                got.push(w);
            }
        }
        got.extend_from_slice(&owned);
        LockGuard { locks: self, stripes: got }
    }

    /// Locks every stripe (SWAPDB, FLUSHALL): nothing else writes until the guard is dropped.
    pub fn lock_all(&self) -> LockGuard<'_> {
        scope::settle_even_pinned();
        for m in &self.stripes {
            m.lock();
        }
        LockGuard { locks: self, stripes: (0..STRIPES).collect() }
    }

    /// Unlocks stripes locked through `lock`/`lock_all` (by this thread, or by the worker whose batch the
    /// committer is releasing).
    pub(crate) fn release(&self, stripes: impl IntoIterator<Item = usize>) {
        for s in stripes {
            // SAFETY: every index passed here is locked and released exactly once: guards hand their stripes
            // either here or to the scope, a scope to its batch, and a batch gives up a stripe it releases or
            // hands over (`Batch::take_over`), never both, under its stripe mutex.
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
    fn stripe_set_keeps_order_and_max() {
        let mut set = StripeSet::default();
        assert_eq!(set.max(), None);
        for s in [4095, 0, 64, 63, 700, 64] {
            set.insert(s);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 63, 64, 700, 4095]);
        assert_eq!(set.max(), Some(4095));
        set.remove(4095);
        set.remove(4095);
        assert!(set.contains(700) && !set.contains(4095));
        assert_eq!(set.max(), Some(700));
        [0, 63, 64, 700].iter().for_each(|&s| set.remove(s));
        assert!(set.is_empty());
    }

    #[test]
    fn same_key_twice_locks_once() {
        let locks = ShardLocks::new();
        let _g = locks.lock(&["k", "k"]);
    }
}
