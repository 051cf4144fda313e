//! Write scopes: the writes of a whole pipeline batch committed as one RocksDB `WriteBatch`.
//!
//! A connection's writer task opens a scope on its worker thread, runs every command of a batch, then closes the
//! scope — one WAL append for the batch — before it writes the replies, so every acknowledged write is in the WAL.
//! Inside a scope:
//! - [`super::Txn::commit`] appends to the scope's batch and to an overlay that later point reads of the same
//!   batch see (a pipelined `SET k v; GET k` reads its own write);
//! - a command's stripe locks are kept, not released, until the scope commits, so no other thread can build on a
//!   value that is not written yet; a later command that needs a stripe below one already held first commits the
//!   scope (releasing everything), which keeps the ascending lock order that prevents deadlock;
//! - anything that is not a point read (iterators, counters, range deletes, `lock_all`) commits the scope first.
//!
//! Without an open scope (background jobs, tests) a `Txn` writes at once, as before. The same mechanism gives
//! MULTI/EXEC its single write batch.

use std::cell::RefCell;
use std::sync::Arc;

use rocksdb::WriteBatch;

use super::Store;

/// Pending writes of the open scope on this thread.
pub(crate) struct Scope {
    pub store: Arc<Store>,
    pub batch: WriteBatch,
    /// `[column family tag][key]` → the value written (None: deleted), for reads inside the scope.
    pub overlay: rustc_hash::FxHashMap<Vec<u8>, Option<Vec<u8>>>,
    /// (physical db, key count delta, expire count delta)
    pub deltas: Vec<(u16, i64, i64)>,
    /// Stripes locked by committed commands of this scope, ascending; released when the scope commits.
    pub held: Vec<usize>,
    /// The first failure of an intermediate commit; reported when the scope ends.
    pub error: Option<String>,
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
                batch: WriteBatch::default(),
                overlay: Default::default(),
                deltas: Vec::new(),
                held: Vec::new(),
                error: None,
            });
        }
    });
}

/// Commits the pending writes of this thread's scope and releases its held locks; the scope stays open.
pub fn commit() -> Result<(), String> {
    let taken = SCOPE.with(|s| {
        s.borrow_mut().as_mut().map(|sc| {
            (
                sc.store.clone(),
                std::mem::take(&mut sc.batch),
                std::mem::take(&mut sc.deltas),
                std::mem::take(&mut sc.held),
                sc.error.take(),
            )
        })
    });
    let Some((store, batch, deltas, held, earlier)) = taken else { return Ok(()) };
    let result = if batch.is_empty() { Ok(()) } else { store.write_batch(batch, &deltas) };
    with_scope(|sc| sc.overlay.clear());
    store.locks.release(&held);
    if let Some(e) = earlier {
        return Err(e);
    }
    result.map_err(|e| {
        tracing::error!("commit of a write batch failed: {e}");
        e
    })
}

/// Commits and closes this thread's scope.
pub fn end() -> Result<(), String> {
    let r = commit();
    SCOPE.with(|s| s.borrow_mut().take());
    r
}

/// Commits the scope from inside storage code that needs committed data (iterators, counters); a failure is kept
/// and reported when the scope ends.
pub(crate) fn settle() {
    if !active() {
        return;
    }
    if let Err(e) = commit() {
        with_scope(|sc| {
            sc.error.get_or_insert(e);
        });
    }
}
