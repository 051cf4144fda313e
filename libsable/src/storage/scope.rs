//! Write scopes and group commit: the writes of every connection a worker thread serves in one scheduler turn
//! are committed as one RocksDB `WriteBatch` — one WAL append — before any of their replies is written, as Redis
//! writes its AOF once per event-loop turn. Every acknowledged write is therefore in the WAL.
//!
//! Each worker thread keeps a scope open for its whole life. A connection's writer task runs its batch of
//! commands, then calls [`group_commit`]: the first task of a turn to get there leads, yields once so that the
//! other connections that are ready run their batches into the same scope, then commits and wakes the others;
//! only then does each task write its replies. Inside a scope:
//! - [`super::Txn::commit`] records its writes in the scope's overlay, which later point reads of the same scope
//!   see (a pipelined `SET k v; GET k` reads its own write) and which becomes the write batch at commit, each key
//!   once (`Store::batch_of`);
//! - a command's stripe locks are kept, not released, until the scope commits, so no other thread can build on a
//!   value that is not written yet; a later command that needs a stripe below one already held first commits the
//!   scope (releasing everything), which keeps the ascending lock order that prevents deadlock;
//! - anything that is not a point read (iterators, counters, range deletes, `lock_all`) commits the scope first.
//!
//! - a task whose replies were built while writes are pending (its own or another connection's, read through the
//!   overlay) waits for the commit before replying, so no client ever sees a write that could still be lost.
//!
//! Worker threads take turns to write (see [`COMMITTING`]); a group leader waits for its turn without blocking its
//! thread. Without an open scope (background jobs, tests) a `Txn` writes at once. The same mechanism gives
//! MULTI/EXEC its single write batch.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{Signals, Store};

/// Pending writes of the open scope on this thread.
pub(crate) struct Scope {
    pub store: Arc<Store>,
    /// `[column family tag][key]` → the value written (None: deleted): read by point reads inside the scope, and
    /// written as one batch when the scope commits.
    pub overlay: rustc_hash::FxHashMap<Vec<u8>, Option<Vec<u8>>>,
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
            });
        }
    });
}

/// One worker thread writes to RocksDB at a time. A worker that finds another committing does not wait inside
/// RocksDB's write queue (which would block its whole thread): its group stays open, it keeps serving its other
/// connections into the same batch, and it commits when woken by [`COMMITTED`].
static COMMITTING: parking_lot::Mutex<()> = parking_lot::const_mutex(());
static COMMITTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Commits the pending writes of this thread's scope and releases its held locks; the scope stays open.
pub fn commit() -> Result<(), String> {
    if !has_pending() {
        return Ok(());
    }
    commit_in_turn(COMMITTING.lock())
}

/// Commits in the turn held, then hands the turn on and wakes the threads waiting for it.
fn commit_in_turn(turn: parking_lot::MutexGuard<'_, ()>) -> Result<(), String> {
    let result = write_scope();
    drop(turn);
    COMMITTED.notify_waiters();
    result
}

/// Writes this thread's scope (the caller holds the turn) and releases its stripes.
fn write_scope() -> Result<(), String> {
    let taken = SCOPE.with(|s| {
        s.borrow_mut().as_mut().map(|sc| {
            (
                sc.store.clone(),
                std::mem::take(&mut sc.deltas),
                std::mem::take(&mut sc.held),
                sc.error.take(),
                std::mem::take(&mut sc.overlay),
                std::mem::take(&mut sc.signals),
            )
        })
    });
    let Some((store, deltas, held, earlier, overlay, signals)) = taken else { return Ok(()) };
    let result = if overlay.is_empty() {
        Ok(())
    } else {
        let batch = store.batch_of(&overlay);
        let meta: Vec<(&[u8], Option<&[u8]>)> = overlay
            .iter()
            .filter(|(k, _)| k.first() == Some(&super::TAG_META))
            .map(|(k, v)| (&k[1..], v.as_deref()))
            .collect();
        store.write_batch(batch, &deltas, &meta, &signals)
    };
    // Keyspace events held for this batch go out (or, if it failed, are dropped) while its keys are still locked,
    // so events of one key keep the order of its writes.
    crate::notify::committed(result.is_ok());
    store.locks.release(held.iter());
    if let Some(e) = earlier {
        return Err(e);
    }
    result.map_err(|e| {
        tracing::error!("commit of a write batch failed: {e}");
        e
    })
}

/// True when this thread's scope has writes, held locks or a failure not committed yet.
pub fn has_pending() -> bool {
    with_scope(|sc| !sc.overlay.is_empty() || !sc.held.is_empty() || sc.error.is_some()).unwrap_or(false)
}

/// One turn's group commit: its outcome, shared with the tasks waiting for it.
#[derive(Default)]
struct Group {
    result: RefCell<Option<Result<(), String>>>,
    done: tokio::sync::Notify,
}

thread_local! {
    static GROUP: RefCell<Option<Rc<Group>>> = const { RefCell::new(None) };
}

/// Waits until every write pending on this thread is committed (see the module doc). Returns the commit's
/// outcome: on an error nothing of the turn was written and no reply built on it may be sent.
pub async fn group_commit() -> Result<(), String> {
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
    if leader {
        // Let the connections that are ready in this turn add their writes before the one WAL append.
        tokio::task::yield_now().await;
        let turn = loop {
            let committed = COMMITTED.notified();
            tokio::pin!(committed);
            committed.as_mut().enable();
            if let Some(turn) = COMMITTING.try_lock() {
                break turn;
            }
            committed.await;
        };
        GROUP.with(|g| g.borrow_mut().take());
        let result = commit_in_turn(turn);
        *group.result.borrow_mut() = Some(result.clone());
        group.done.notify_waiters();
        return result;
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
    SCOPE.with(|s| s.borrow_mut().take());
    r
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

/// Key and expiry count changes of this thread's scope for physical database `db`, not committed yet.
pub(crate) fn pending_counts(db: u16) -> (i64, i64) {
    with_scope(|sc| sc.deltas.iter().filter(|d| d.0 == db).fold((0, 0), |(k, e), d| (k + d.1, e + d.2)))
        .unwrap_or((0, 0))
}
