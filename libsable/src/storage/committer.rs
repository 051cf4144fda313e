//! The committer thread: writes the sealed write scopes of every worker thread to RocksDB, in the order they are
//! sealed, while the workers go on running commands.
//!
//! A worker seals its scope into a [`Batch`] (see [`super::scope`]) and hands it over; the committer takes every
//! batch waiting, writes those of one store as one `WriteBatch` (one WAL append), then for each: publishes the
//! keyspace events held for it, releases the stripes it still holds and wakes whoever waits for it, a connection
//! task asynchronously or a thread that must see the write at once (`scope::settle`) blocking. A worker with no
//! batch in flight writes a small group itself the same way ([`write_here`]).
//!
//! Until it is released, a batch is "in flight": its stripes stay locked, and the worker that sealed it reads its
//! overlay for the keys it wrote (a later command of the same worker may take a stripe over from it, see
//! `ShardLocks::lock`). A scope that read from or took over from an in-flight batch depends on it: batches are
//! written in order, so it is never written before what it depends on, and if that fails it fails too, unwritten.
//! The committer itself never waits for a worker, so a stripe held by an in-flight batch is always freed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Condvar, Mutex};
use rustc_hash::FxHashMap;

use super::locks::StripeSet;
use super::{Signals, Store};
use crate::notify::Held;

/// `[column family tag][key]` → the value written (None: deleted).
pub(crate) type Overlay = FxHashMap<Vec<u8>, Option<Vec<u8>>>;

/// What the committer consumes of a batch besides its overlay.
pub(crate) struct Work {
    /// (physical db, key count delta, expire count delta)
    pub deltas: Vec<(u16, i64, i64)>,
    pub signals: Signals,
    /// Pub/sub messages and keyspace events held until the batch is written.
    pub messages: Vec<Held>,
    /// A failure of the scope before it was sealed: the batch is written, but reported failed.
    pub earlier: Option<String>,
    /// In-flight batches this one read from or took stripes over from (dropped once it is judged, so batches
    /// built on each other do not keep each other alive).
    pub deps: Vec<Arc<Batch>>,
}

/// One sealed write scope.
pub(crate) struct Batch {
    pub store: Arc<Store>,
    pub overlay: Overlay,
    work: Mutex<Option<Work>>,
    /// The stripes it still holds: the committer releases them; its worker may take one over first.
    stripes: Mutex<StripeSet>,
    released: AtomicBool,
    /// Its writes did not reach RocksDB: a batch that read them must not be written either.
    lost: AtomicBool,
    outcome: Mutex<Option<Result<(), String>>>,
    finished: Condvar,
    done: tokio::sync::Notify,
}

impl Batch {
    pub fn new(store: Arc<Store>, overlay: Overlay, work: Work, stripes: StripeSet) -> Self {
        Batch {
            store,
            overlay,
            work: Mutex::new(Some(work)),
            stripes: Mutex::new(stripes),
            released: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            outcome: Mutex::new(None),
            finished: Condvar::new(),
            done: tokio::sync::Notify::new(),
        }
    }

    /// True once written (or failed) and its stripes are free: its overlay no longer speaks for those keys.
    pub fn released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    /// Takes stripe `s` over from this batch if it still holds it: the caller then owns the lock.
    pub fn take_over(&self, s: usize) -> bool {
        let mut held = self.stripes.lock();
        if self.released() || !held.contains(s) {
            return false;
        }
        held.remove(s);
        true
    }

    /// Blocks the thread until the batch is written.
    pub fn wait(&self) -> Result<(), String> {
        let mut outcome = self.outcome.lock();
        loop {
            if let Some(r) = outcome.as_ref() {
                return r.clone();
            }
            self.finished.wait(&mut outcome);
        }
    }

    /// The outcome, once the batch is written (or lost).
    pub fn outcome(&self) -> Option<Result<(), String>> {
        self.outcome.lock().clone()
    }

    /// Waits, without blocking the thread, until the batch is written.
    pub async fn finished(&self) -> Result<(), String> {
        loop {
            let done = self.done.notified();
            tokio::pin!(done);
            // Registered before the check, so a completion in between is not missed.
            done.as_mut().enable();
            if let Some(r) = self.outcome.lock().clone() {
                return r;
            }
            done.await;
        }
    }

    /// Publishes (or drops) its held messages, frees its stripes and wakes its waiters. `earlier` fails the
    /// batch's connections though its writes went through (a commit of their scope before it was sealed failed).
    pub(super) fn finish(&self, written: Result<(), String>, messages: Vec<Held>, earlier: Option<String>) {
        self.lost.store(written.is_err(), Ordering::Release);
        // Events go out while the keys are still locked, so events of one key keep the order of its writes.
        crate::notify::deliver_held(messages, written.is_ok());
        {
            let mut held = self.stripes.lock();
            self.released.store(true, Ordering::Release);
            self.store.locks.release(held.iter());
            *held = StripeSet::default();
        }
        let result = match earlier {
            Some(e) => Err(e),
            None => written,
        };
        *self.outcome.lock() = Some(result);
        self.finished.notify_all();
        self.done.notify_waiters();
    }
}

/// A Bloom filter of a batch's overlay keys, kept by its worker beside its other in-flight batches: a point read
/// skips a batch that cannot hold the key without touching the batch (whose lines the committer writes).
pub(crate) struct KeyFilter([u64; 8]);

impl KeyFilter {
    pub fn of(overlay: &Overlay) -> KeyFilter {
        let mut words = [0u64; 8];
        for k in overlay.keys() {
            for bit in Self::bits(Self::hash(k)) {
                words[bit / 64] |= 1 << (bit % 64);
            }
        }
        KeyFilter(words)
    }

    /// The hash of an overlay key (`[tag][key]`) for [`KeyFilter::may_hold`].
    pub fn hash(key: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut h = rustc_hash::FxHasher::default();
        h.write(key);
        h.finish()
    }

    /// False when the overlay certainly has no entry for the key of hash `h`.
    pub fn may_hold(&self, h: u64) -> bool {
        Self::bits(h).into_iter().all(|bit| self.0[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// Two bits of 512: a batch of a few dozen keys answers "maybe" for ~2 % of the keys it lacks.
    fn bits(h: u64) -> [usize; 2] {
        [(h >> 40) as usize % 512, (h >> 52) as usize % 512]
    }
}

struct Queue {
    waiting: Mutex<VecDeque<Arc<Batch>>>,
    wake: Condvar,
}

/// The committer's queue, started on first use; None if the thread could not be started (the OS refused a
/// thread), and then every batch is written by the thread that seals it.
fn queue() -> Option<&'static Queue> {
    static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();
    QUEUE
        .get_or_init(|| match std::thread::Builder::new().name("sable-commit".into()).spawn(run) {
            Ok(_) => Some(Queue { waiting: Mutex::new(VecDeque::new()), wake: Condvar::new() }),
            Err(e) => {
                tracing::error!("cannot start the committer thread, workers write their own batches: {e}");
                None
            }
        })
        .as_ref()
}

/// Writes a sealed batch on the calling thread, for a worker with no batch in flight (nothing of its own to
/// wait for): a handover costs two wake-ups, which a small group does not earn back.
pub(crate) fn write_here(batch: &Arc<Batch>) {
    write_together(std::slice::from_ref(batch));
}

/// Hands a sealed batch to the committer.
pub(crate) fn submit(batch: Arc<Batch>) {
    match queue() {
        Some(q) => {
            q.waiting.lock().push_back(batch);
            q.wake.notify_one();
        }
        None => write_here(&batch),
    }
}

fn run() {
    // Runs only once the queue exists: `queue()` waits here until the thread that started this one has made it.
    let Some(q) = queue() else { return };
    loop {
        let taken: Vec<Arc<Batch>> = {
            let mut waiting = q.waiting.lock();
            while waiting.is_empty() {
                q.wake.wait(&mut waiting);
            }
            waiting.drain(..).collect()
        };
        // Consecutive batches of one store share a write.
        let mut rest = taken.as_slice();
        while let Some(first) = rest.first() {
            let n = rest.iter().take_while(|b| Arc::ptr_eq(&b.store, &first.store)).count();
            write_together(&rest[..n]);
            rest = &rest[n..];
        }
    }
}

/// Writes batches of one store as one RocksDB write; a batch whose dependency failed is dropped unwritten.
fn write_together(batches: &[Arc<Batch>]) {
    let store = &batches[0].store;
    let mut deltas = Vec::new();
    let mut signals = Signals::default();
    let mut included: Vec<(&Batch, Vec<Held>, Option<String>)> = Vec::new();
    let mut dropped: Vec<(&Batch, Vec<Held>)> = Vec::new();
    for b in batches {
        let Some(work) = b.work.lock().take() else { continue };
        // A dependency was written (or lost) earlier, or is in this write and shares its fate, or was dropped
        // just now.
        let doomed = work
            .deps
            .iter()
            .any(|d| d.lost.load(Ordering::Acquire) || dropped.iter().any(|(x, _)| std::ptr::eq(*x, &**d)));
        if doomed {
            dropped.push((b, work.messages));
            continue;
        }
        deltas.extend_from_slice(&work.deltas);
        signals.append(work.signals);
        included.push((b, work.messages, work.earlier));
    }
    let written = match store.batch_of(included.iter().map(|(b, ..)| &b.overlay)) {
        Ok((write, _)) if write.is_empty() => Ok(()),
        Ok((write, meta)) => store.write_batch(write, &deltas, &meta, &signals),
        Err(e) => {
            store.forget_pops();
            Err(e)
        }
    };
    if let Err(e) = &written {
        tracing::error!("commit of a write batch failed: {e}");
    }
    if !dropped.is_empty() {
        store.forget_pops();
    }
    for (b, messages, earlier) in included {
        b.finish(written.clone(), messages, earlier);
    }
    for (b, messages) in dropped {
        b.finish(Err("a write it depended on failed".into()), messages, None);
    }
}
