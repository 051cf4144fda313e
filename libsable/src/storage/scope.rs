//! Write scopes and group commit: the writes of the connections a worker thread serves in one scheduler turn are
//! committed as one RocksDB `WriteBatch` — one WAL append — before any of their replies is written, as Redis
//! writes its AOF once per event-loop turn. Every acknowledged write is therefore in the WAL.
//!
//! Each worker thread keeps a scope open for its whole life. A connection's writer task runs its batch of
//! commands, then calls [`group_commit`]: the first task of a group leads, yields once so that the other
//! connections that are ready run their batches into the same scope, then closes the group — seals the scope's
//! pending writes into a batch for the committer thread (`super::committer`) — and waits for it with the others;
//! only then does each task write its replies. A group that grows past [`SEAL_AT`] keys closes at once. The worker
//! does not wait for the write: it goes on running connections into the next group while the committer writes.
//!
//! Inside a scope:
//! - [`super::Txn::commit`] records its writes in the scope's overlay, which later point reads of the same scope
//!   see (a pipelined `SET k v; GET k` reads its own write) and which becomes the write batch, each key once;
//! - a command's stripe locks are kept, not released, until its batch is written, so no other thread can build on
//!   a value that is not written yet; a later command that needs a stripe below one already held first commits the
//!   scope (releasing everything), which keeps the ascending lock order that prevents deadlock;
//! - point reads also see the batches of this thread still in flight, and a command may take a stripe over from
//!   one of them (see `ShardLocks::lock`) instead of waiting for its write; the scope then depends on that batch:
//!   the committer writes batches in order, and fails a batch whose dependency failed;
//! - anything that is not a point read (iterators, counters, range deletes, `lock_all`) commits the scope first
//!   and waits until it is written ([`settle`]);
//! - a task whose replies were built while writes are pending (its own or another connection's, read through the
//!   overlay or from an in-flight batch) waits for the commit before replying, so no client ever sees a write
//!   that could still be lost.
//!
//! Without an open scope (background jobs, tests) a `Txn` writes at once. The same mechanism gives MULTI/EXEC its
//! single write batch.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::committer::{self, Batch, KeyFilter, Overlay, Work};
use super::{Signals, Store};

/// Pending writes of the open scope on this thread.
pub(crate) struct Scope {
    pub store: Arc<Store>,
    /// `[column family tag][key]` → the value written (None: deleted): read by point reads inside the scope, and
    /// written as one batch when the scope commits.
    pub overlay: Overlay,
    /// Scratch space for overlay lookups.
    pub probe: Vec<u8>,
    /// (physical db, key count delta, expire count delta)
    pub deltas: Vec<(u16, i64, i64)>,
    /// Stripes locked by committed commands of this scope; released when the scope commits.
    pub held: super::locks::StripeSet,
    /// The first failure of an intermediate commit; reported when the scope ends.
    pub error: Option<String>,
    /// What the commit announces: keys that became lists or sorted sets, keys modified for WATCH.
    pub signals: Signals,
    /// A transaction is executing (see [`pin`]): nothing is committed until it ends.
    pub pinned: bool,
    /// In-flight batches this scope read from or took a stripe over from: it is written after them, and fails
    /// if one of them fails.
    pub deps: Vec<Arc<Batch>>,
    /// Batches this thread sealed, oldest first, with the filters of their keys; released ones are dropped at the
    /// next seal.
    pub inflight: Vec<(KeyFilter, Arc<Batch>)>,
}

impl Scope {
    /// The value a point read must see from this thread's pending writes: this scope's, else those of its
    /// in-flight batches (newest first; reading one makes the scope depend on it). `Some(None)`: deleted.
    pub fn lookup(&mut self, tag: u8, key: &[u8]) -> Option<Option<Vec<u8>>> {
        if self.overlay.is_empty() && self.inflight.is_empty() {
            return None;
        }
        // Overlay keys are `[tag][key]`: build the probe in the scope's reusable buffer, not a fresh Vec.
        self.probe.clear();
        self.probe.push(tag);
        self.probe.extend_from_slice(key);
        if let Some(v) = self.overlay.get(&self.probe) {
            return Some(v.clone());
        }
        let probe = &self.probe;
        let h = KeyFilter::hash(probe);
        let (batch, value) = self
            .inflight
            .iter()
            .rev()
            .filter(|(keys, b)| keys.may_hold(h) && !b.released())
            .find_map(|(_, b)| b.overlay.get(probe).map(|v| (b.clone(), v.clone())))?;
        self.depend_on(batch);
        Some(value)
    }

    fn depend_on(&mut self, batch: Arc<Batch>) {
        if !self.deps.iter().any(|d| Arc::ptr_eq(d, &batch)) {
            self.deps.push(batch);
        }
    }

    fn has_pending(&self) -> bool {
        !self.overlay.is_empty() || !self.held.is_empty() || self.error.is_some() || !self.deps.is_empty()
    }
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Runs `f` on the open scope of this thread, if any.
pub(crate) fn with_scope<R>(f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
    SCOPE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// True when this thread has an open scope.
pub(crate) fn active() -> bool {
    SCOPE.with(|s| s.borrow().is_some())
}

/// Opens a scope on this thread (a no-op when one is open already).
pub fn begin(store: &Arc<Store>) {
    SCOPE.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(Scope {
                store: store.clone(),
                overlay: Default::default(),
                probe: Vec::new(),
                deltas: Vec::new(),
                held: Default::default(),
                error: None,
                signals: Signals::default(),
                pinned: false,
                deps: Vec::new(),
                inflight: Vec::new(),
            });
        }
    });
}

/// Seals what this thread's scope has pending into a batch for the committer (the scope stays open, empty).
fn seal() -> Option<Arc<Batch>> {
    with_scope(|sc| {
        if !sc.has_pending() {
            return None;
        }
        let work = Work {
            deltas: std::mem::take(&mut sc.deltas),
            signals: std::mem::take(&mut sc.signals),
            messages: crate::notify::take_held(),
            earlier: sc.error.take(),
            deps: std::mem::take(&mut sc.deps),
        };
        // The next group starts at the size groups close at, not from nothing.
        let overlay =
            std::mem::replace(&mut sc.overlay, Overlay::with_capacity_and_hasher(SEAL_AT * 2, Default::default()));
        let batch = Arc::new(Batch::new(sc.store.clone(), overlay, work, std::mem::take(&mut sc.held)));
        sc.inflight.retain(|(_, b)| !b.released());
        sc.inflight.push((KeyFilter::of(&batch.overlay), batch.clone()));
        Some(batch)
    })
    .flatten()
}

/// Takes stripe `s` over from an in-flight batch of this thread that holds it; the scope then depends on it.
pub(crate) fn take_over(s: usize) -> bool {
    with_scope(|sc| {
        let from = sc.inflight.iter().map(|(_, b)| b).find(|b| b.take_over(s)).cloned();
        from.map(|b| sc.depend_on(b)).is_some()
    })
    .unwrap_or(false)
}

/// Commits the pending writes of this thread's scope, blocking the thread until they are written, and releases
/// its held locks; the scope stays open.
pub fn commit() -> Result<(), String> {
    let Some(batch) = seal() else { return Ok(()) };
    committer::submit(batch.clone());
    batch.wait()
}

/// True when this thread's scope has writes, held locks, dependencies or a failure not committed yet.
pub fn has_pending() -> bool {
    with_scope(|sc| sc.has_pending()).unwrap_or(false)
}

/// The batches this thread sealed that are not released yet.
fn unreleased() -> Vec<Arc<Batch>> {
    with_scope(|sc| sc.inflight.iter().map(|(_, b)| b).filter(|b| !b.released()).cloned().collect()).unwrap_or_default()
}

/// A group commit: the writes of the connections that joined it, sealed into one batch.
#[derive(Default)]
struct Group {
    /// Set once the group is closed: its batch (None: nothing was pending any more).
    sealed: RefCell<Option<Option<Arc<Batch>>>>,
    result: RefCell<Option<Result<(), String>>>,
    done: tokio::sync::Notify,
}

thread_local! {
    static GROUP: RefCell<Option<Rc<Group>>> = const { RefCell::new(None) };
}

/// Keys pending in a group at which a pipelining member closes it without waiting for the end of the turn.
/// Small enough that the committer starts on the first connections of a burst while the worker runs the rest (a
/// turn of 50 pipelines of 16 INCRs used to be one write of 800 keys, during which the worker had nothing to
/// do), large enough that the fixed cost of a write (WAL append, two wake-ups) stays small. Measured in
/// docs/performance.md.
const SEAL_AT: usize = 32;

thread_local! {
    /// Closed groups whose batches are being written, oldest first.
    static PENDING: RefCell<std::collections::VecDeque<(Rc<Group>, Arc<Batch>)>> =
        const { RefCell::new(std::collections::VecDeque::new()) };
}

/// Announces to their connections the groups of this thread whose batches are written. The committer's wake-up
/// of a group's leader comes from another thread, and tokio's `LocalSet` serves such wake-ups only every 31st
/// task while local ones are waiting. So the worker's tasks call this as they run (a look at the oldest batch)
/// and the wake-ups it makes are local. Measured under pipelined INCR: a written batch waited ~450 µs on average
/// for its leader; now about one in six is announced this way, ~80 µs after its write, and the others, found
/// while the worker slept, ~340 µs after (mostly the worker waiting for a core on this 2-core machine).
pub fn reap() {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        while let Some((group, batch)) = p.front() {
            if group.result.borrow().is_none() {
                // A plain load first: the outcome's lock is a write to a line the committer is using.
                if !batch.released() {
                    break;
                }
                let Some(r) = batch.outcome() else { break };
                announce(group, r);
            }
            p.pop_front();
        }
    });
}

/// Gives a group its outcome (once) and wakes its connections.
fn announce(group: &Group, result: Result<(), String>) {
    if group.result.borrow().is_none() {
        *group.result.borrow_mut() = Some(result);
        group.done.notify_waiters();
    }
}

/// Closes `group` (once): seals this thread's pending writes and hands them to the committer (or, `here`, writes
/// them on this thread); connections that commit later form the next group.
fn close(group: &Rc<Group>, here: bool) {
    if group.sealed.borrow().is_some() {
        return;
    }
    GROUP.with(|g| {
        let mut g = g.borrow_mut();
        if g.as_ref().is_some_and(|open| Rc::ptr_eq(open, group)) {
            *g = None;
        }
    });
    let batch = seal();
    match &batch {
        Some(b) if here => committer::write_here(b),
        Some(b) => committer::submit(b.clone()),
        None => {}
    }
    *group.sealed.borrow_mut() = Some(batch);
}

/// Waits until every write pending on this thread is committed (see the module doc). Returns the commit's
/// outcome: on an error nothing of the turn was written and no reply built on it may be sent.
///
/// A task must call this before its first `.await` after running commands: once another task has closed the
/// group, an empty scope no longer means that the writes it held are written, only that they are in flight.
pub async fn group_commit(pipelined: bool) -> Result<(), String> {
    reap();
    if !has_pending() {
        return Ok(());
    }
    let (group, leader) = GROUP.with(|g| {
        let mut g = g.borrow_mut();
        match g.as_ref() {
            Some(existing) => (existing.clone(), false),
            None => {
                let fresh = Rc::new(Group::default());
                *g = Some(fresh.clone());
                (fresh, true)
            }
        }
    });
    // A group that has grown large goes to the committer at once: the committer writes it while this thread
    // runs the connections behind it, instead of both taking turns on one big group. Only pipelines do this:
    // for clients that send one command at a time the hand-over costs more than the overlap earns (measured:
    // unpipelined INCR 72k instead of 87k req/s).
    if pipelined && with_scope(|sc| sc.overlay.len() >= SEAL_AT) == Some(true) {
        close(&group, false);
    }
    if leader {
        // Let the connections that are ready in this turn add their writes before the one WAL append.
        if group.sealed.borrow().is_none() {
            tokio::task::yield_now().await;
            // A small group with nothing of this thread in flight (unpipelined clients) is written here: the
            // committer would add a hand-over and leave nothing to overlap it with.
            let in_flight = with_scope(|sc| sc.inflight.iter().any(|(_, b)| !b.released())).unwrap_or(false);
            close(&group, !in_flight);
        }
        let batch = group.sealed.borrow().clone().flatten();
        let Some(batch) = batch else {
            announce(&group, Ok(()));
            return Ok(());
        };
        PENDING.with(|p| p.borrow_mut().push_back((group.clone(), batch.clone())));
        // Whichever comes first: a task of this thread that finds the batch written ([`reap`]), or the
        // committer's own wake-up, which only matters when this thread has nothing else to run.
        loop {
            let reaped = group.done.notified();
            if let Some(r) = group.result.borrow().clone() {
                return r;
            }
            tokio::select! {
                r = batch.finished() => {
                    announce(&group, r.clone());
                    return r;
                }
                _ = reaped => {}
            }
        }
    }
    loop {
        // Single-threaded: nothing runs between this check and the first poll of `notified`.
        let notified = group.done.notified();
        if let Some(r) = group.result.borrow().clone() {
            return r;
        }
        notified.await;
    }
}

/// Commits and closes this thread's scope.
pub fn end() -> Result<(), String> {
    let r = commit();
    for batch in unreleased() {
        let _ = batch.wait();
    }
    SCOPE.with(|s| s.borrow_mut().take());
    r
}

/// Commits the scope and waits until every batch this thread sealed is written: for MULTI/EXEC and WATCH, which
/// judge the writes of other clients by their effect on watchers, so none of them may still be in flight.
pub(crate) fn drain() {
    settle();
    for batch in unreleased() {
        let _ = batch.wait();
    }
}

/// Commits the scope from inside storage code that needs committed data (iterators, counters); a failure is kept
/// and reported when the scope ends. A pinned scope stays as it is: its readers merge its writes instead.
pub(crate) fn settle() {
    if with_scope(|sc| sc.pinned) != Some(false) {
        return;
    }
    settle_even_pinned();
}

/// [`settle`] for the few writers that cannot work on top of uncommitted writes (FLUSHDB, SWAPDB: they write
/// outside the scope and need every stripe): a transaction containing one is committed in two parts.
pub(crate) fn settle_even_pinned() {
    if !active() {
        return;
    }
    if let Err(e) = commit() {
        with_scope(|sc| {
            sc.error.get_or_insert(e);
        });
    }
}

/// Pins this thread's scope for the execution of a MULTI/EXEC transaction: every write of it goes into one batch,
/// committed after [`unpin`] with the rest of the turn, so the transaction reaches the WAL whole or not at all.
/// Readers inside it see its writes: point reads through the overlay, walks by merging [`pending_in`].
pub fn pin() {
    with_scope(|sc| sc.pinned = true);
}

pub fn unpin() {
    with_scope(|sc| sc.pinned = false);
}

/// True while a transaction is executing on this thread; lock acquisition may then not commit to back off.
pub(crate) fn pinned() -> bool {
    with_scope(|sc| sc.pinned).unwrap_or(false)
}

/// The uncommitted writes of this thread's scope to column family `tag` with keys in `lo..hi`, sorted in walk
/// order (descending when `reverse`). Empty unless the scope is pinned: otherwise walks commit first.
pub(crate) fn pending_in(tag: u8, lo: &[u8], hi: &[u8], reverse: bool) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    let mut found = with_scope(|sc| {
        sc.overlay
            .iter()
            .filter(|(k, _)| k.first() == Some(&tag) && &k[1..] >= lo && &k[1..] < hi)
            .map(|(k, v)| (k[1..].to_vec(), v.clone()))
            .collect::<Vec<_>>()
    })
    .unwrap_or_default();
    found.sort_unstable_by(|a, b| if reverse { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) });
    found
}

/// Of `keys`, those written by this thread's uncommitted scope: they are remembered for tracking client `id` by the
/// commit, after the invalidations it sends (see `Store::write_batch`). Returns them.
pub(crate) fn remember_after_commit<'k>(id: u64, keys: &[&'k [u8]]) -> Vec<&'k [u8]> {
    with_scope(|sc| {
        let later: Vec<&[u8]> =
            keys.iter().copied().filter(|k| sc.signals.tracked.iter().any(|t| t.as_slice() == *k)).collect();
        sc.signals.remember.extend(later.iter().map(|k| (id, k.to_vec())));
        later
    })
    .unwrap_or_default()
}

/// Key and expiry count changes of this thread's scope for physical database `db`, not committed yet.
pub(crate) fn pending_counts(db: u16) -> (i64, i64) {
    // Writes that built on in-flight batches count relative to them: wait until they are counted.
    if with_scope(|sc| !sc.deps.is_empty()) == Some(true) {
        settle();
    }
    with_scope(|sc| sc.deltas.iter().filter(|d| d.0 == db).fold((0, 0), |(k, e), d| (k + d.1, e + d.2)))
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::encoding::encode_string;
    use crate::storage::tests::{open, tempfile_dir};

    /// Writes string `key` = `value` in this thread's scope, under the key's lock.
    fn put(store: &Store, key: &[u8], value: &[u8]) {
        let _lock = store.locks.lock(&[key]);
        let mut t = store.txn();
        let old = t.load(0, key).unwrap();
        t.put(0, key, old.as_ref(), encode_string(0, value));
        t.commit().unwrap();
    }

    /// A store in a fresh directory, with this thread's scope open on it.
    fn scoped_store() -> (std::path::PathBuf, Arc<Store>) {
        let dir = tempfile_dir();
        let store = Arc::new(open(&dir));
        begin(&store);
        (dir, store)
    }

    fn value(store: &Store, key: &[u8]) -> Option<Vec<u8>> {
        store.get(0, key).unwrap().map(|r| r.view().body().to_vec())
    }

    #[test]
    fn a_scope_reads_and_builds_on_a_batch_in_flight() {
        let (dir, store) = scoped_store();
        put(&store, b"k", b"1");
        // Sealed but not handed to the committer: in flight, holding the stripe of `k`, for as long as we like.
        let first = seal().unwrap();
        assert!(!has_pending());
        assert_eq!(value(&store, b"k").as_deref(), Some(&b"1"[..]));
        assert!(has_pending(), "a read of an in-flight write makes the scope wait for it");
        // Taking the lock of `k` would wait forever if the stripe were not taken over from the batch.
        put(&store, b"k", b"2");
        let second = seal().unwrap();
        committer::submit(first.clone());
        committer::submit(second.clone());
        assert_eq!(second.wait(), Ok(()));
        assert!(first.released() && second.released());
        end().unwrap();
        // The committer lets go of the batches it wrote just after announcing them: wait for that, not longer.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&first) > 1 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(Arc::strong_count(&first), 1, "a written batch does not keep what it depended on alive");
        assert_eq!(value(&store, b"k").as_deref(), Some(&b"2"[..]));
        // Both batches let go of the stripe: another thread can lock it.
        let s = store.clone();
        std::thread::spawn(move || drop(s.locks.lock(&[b"k"]))).join().unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_batch_built_on_a_lost_one_is_not_written() {
        let (dir, store) = scoped_store();
        put(&store, b"a", b"1");
        let lost = seal().unwrap();
        put(&store, b"a", b"2");
        put(&store, b"b", b"2");
        let dependent = seal().unwrap();
        put(&store, b"c", b"3");
        let independent = seal().unwrap();
        // The committer's write of the first batch fails.
        lost.finish(Err("disk trouble".into()), Vec::new(), None);
        for b in [&dependent, &independent] {
            committer::submit((*b).clone());
        }
        assert_eq!(dependent.wait(), Err("a write it depended on failed".into()));
        assert_eq!(independent.wait(), Ok(()));
        end().unwrap();
        assert_eq!(value(&store, b"a"), None);
        assert_eq!(value(&store, b"b"), None, "nothing of the dependent batch was written");
        assert_eq!(value(&store, b"c").as_deref(), Some(&b"3"[..]));
        assert_eq!(store.key_count(0), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_earlier_failure_is_reported_but_its_batch_written() {
        let (dir, store) = scoped_store();
        put(&store, b"a", b"1");
        with_scope(|sc| sc.error = Some("disk trouble".into()));
        let reported = seal().unwrap();
        put(&store, b"a", b"2");
        let dependent = seal().unwrap();
        committer::submit(reported.clone());
        committer::submit(dependent.clone());
        assert_eq!(reported.wait(), Err("disk trouble".into()));
        assert_eq!(dependent.wait(), Ok(()));
        end().unwrap();
        assert_eq!(value(&store, b"a").as_deref(), Some(&b"2"[..]));
        std::fs::remove_dir_all(dir).ok();
    }
}
