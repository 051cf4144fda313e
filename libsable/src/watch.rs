//! WATCH: which clients watch which keys, and marking them modified.
//!
//! A client that runs WATCH gets a [`Watcher`] (its dirty flag) registered under each (logical db, key). Every
//! committed change of a key — a write of any command, an expiry deletion, FLUSHDB/FLUSHALL, SWAPDB — calls
//! [`Watches::touch`] (storage does it, so no command can forget), which marks the key's watchers dirty; EXEC then
//! aborts. As in Redis 7.0, a key that was already expired when it was watched is not "modified" when it is
//! finally deleted, and a watched key that expires (logically) before EXEC counts as modified (checked by EXEC).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

/// One client's dirty flag, shared by all of its watched keys.
#[derive(Default)]
pub struct Watcher {
    dirty: AtomicBool,
}

impl Watcher {
    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    fn mark(&self) {
        self.dirty.store(true, Ordering::Release);
    }
}

/// A watch of one key by one client.
struct Entry {
    watcher: Arc<Watcher>,
    /// The key existed but was already expired when watched.
    expired: AtomicBool,
}

/// A watched key: (logical db, user key).
type KeyId = (usize, Vec<u8>);

#[derive(Default)]
pub struct Watches {
    /// Registered watches, so writes skip the map lock while nobody watches.
    count: AtomicUsize,
    keys: Mutex<FxHashMap<KeyId, Vec<Entry>>>,
}

/// What a database change did to one key, for [`Watches::touch_db`].
pub struct KeyState {
    /// The key had a record (live or expired) before the change.
    pub existed: bool,
    /// The key has a record after the change, and whether that one is expired.
    pub after: Option<bool>,
}

impl Watches {
    /// True when some client watches something.
    pub fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Watches `key` of logical database `db`; false when this watcher watches it already.
    pub fn watch(&self, watcher: &Arc<Watcher>, db: usize, key: &[u8], expired: bool) -> bool {
        let mut keys = self.keys.lock();
        let entries = keys.entry((db, key.to_vec())).or_default();
        if entries.iter().any(|e| Arc::ptr_eq(&e.watcher, watcher)) {
            return false;
        }
        entries.push(Entry { watcher: watcher.clone(), expired: AtomicBool::new(expired) });
        self.count.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Removes `watcher`'s watches of `keys` (UNWATCH, EXEC, DISCARD, RESET, disconnect).
    pub fn unwatch(&self, watcher: &Arc<Watcher>, keys: &[KeyId]) {
        let mut map = self.keys.lock();
        for id in keys {
            let Some(entries) = map.get_mut(id) else { continue };
            let before = entries.len();
            entries.retain(|e| !Arc::ptr_eq(&e.watcher, watcher));
            self.count.fetch_sub(before - entries.len(), Ordering::AcqRel);
            if entries.is_empty() {
                map.remove(id);
            }
        }
    }

    /// True when `watcher` watched `key` while it was expired and it has not been deleted since.
    pub fn watched_expired(&self, watcher: &Arc<Watcher>, db: usize, key: &[u8]) -> bool {
        let map = self.keys.lock();
        map.get(&(db, key.to_vec()))
            .and_then(|entries| entries.iter().find(|e| Arc::ptr_eq(&e.watcher, watcher)))
            .is_some_and(|e| e.expired.load(Ordering::Relaxed))
    }

    /// A write changed `key` of logical database `db`; `exists` says whether it has a record afterwards.
    pub fn touch(&self, db: usize, key: &[u8], exists: bool) {
        if !self.any() {
            return;
        }
        let map = self.keys.lock();
        let Some(entries) = map.get(&(db, key.to_vec())) else { return };
        for e in entries {
            if !exists && e.expired.load(Ordering::Relaxed) {
                // The expired key is gone now: logically nothing changed.
                e.expired.store(false, Ordering::Relaxed);
            } else {
                e.watcher.mark();
            }
        }
    }

    /// Holds the registry while a database is changed wholesale (FLUSHDB, FLUSHALL, SWAPDB): no WATCH can
    /// register between the marks and the write.
    pub fn hold(&self) -> Held<'_> {
        Held(self.keys.lock())
    }
}

/// The registry, held (see [`Watches::hold`]).
pub struct Held<'a>(parking_lot::MutexGuard<'a, FxHashMap<KeyId, Vec<Entry>>>);

impl Held<'_> {
    /// Logical database `db` is changed wholesale: `state` tells, for a watched key, whether it existed before
    /// and what replaces it (Redis' `touchAllWatchedKeysInDb`).
    pub fn touch_db(&self, db: usize, state: impl Fn(&[u8]) -> KeyState) {
        for ((kdb, key), entries) in self.0.iter() {
            if *kdb != db {
                continue;
            }
            let s = state(key);
            if !s.existed && s.after.is_none() {
                continue;
            }
            for e in entries.iter() {
                match (e.expired.load(Ordering::Relaxed), s.after) {
                    // An expired key deleted, or replaced by another expired one: no logical change.
                    (true, None) => e.expired.store(false, Ordering::Relaxed),
                    (true, Some(true)) => {}
                    // A missing key replaced by an expired one: still missing, logically.
                    (false, Some(true)) if !s.existed => e.expired.store(true, Ordering::Relaxed),
                    _ => e.watcher.mark(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_mark_only_the_watchers_of_their_key() {
        let w = Watches::default();
        let (a, b) = (Arc::new(Watcher::default()), Arc::new(Watcher::default()));
        assert!(w.watch(&a, 0, b"k", false));
        assert!(!w.watch(&a, 0, b"k", false));
        assert!(w.watch(&b, 1, b"k", false));
        w.touch(0, b"other", true);
        w.touch(0, b"k", true);
        assert!(a.is_dirty() && !b.is_dirty());
        w.unwatch(&a, &[(0, b"k".to_vec())]);
        w.unwatch(&b, &[(1, b"k".to_vec())]);
        assert!(!w.any());
    }

    #[test]
    fn an_expired_key_deleted_is_no_change_but_recreated_is() {
        let w = Watches::default();
        let a = Arc::new(Watcher::default());
        w.watch(&a, 0, b"k", true);
        assert!(w.watched_expired(&a, 0, b"k"));
        w.touch(0, b"k", false);
        assert!(!a.is_dirty() && !w.watched_expired(&a, 0, b"k"));
        w.touch(0, b"k", true);
        assert!(a.is_dirty());
    }

    #[test]
    fn flushes_mark_existing_keys_only() {
        let w = Watches::default();
        let (a, b) = (Arc::new(Watcher::default()), Arc::new(Watcher::default()));
        w.watch(&a, 0, b"present", false);
        w.watch(&b, 0, b"missing", false);
        w.hold().touch_db(0, |k| KeyState { existed: k == b"present", after: None });
        assert!(a.is_dirty() && !b.is_dirty());
    }
}
