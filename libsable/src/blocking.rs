//! Clients blocked on keys (BLPOP, BZPOPMIN, BLMOVE…): per key, a first-come-first-served queue of waiters.
//!
//! A blocked client's writer task registers one [`Waiter`] on each of its keys and awaits it; no thread and no
//! lock is held meanwhile. A committed write that turns a key into a list or sorted set signals the key
//! ([`Waiters::signal`], called by storage after the batch is durable), which wakes only the waiter at the head
//! of that key's queue. The woken client runs its command again: when it is served it leaves every queue and
//! signals its keys again, so the next waiter checks whatever is left; when it finds nothing it keeps its place.
//! A waiter that disconnects leaves its queues and passes its signal on, so an element is never left behind.
//!
//! As in Redis, where the clients a command unblocks are served before any reply goes out, a woken client counts
//! as being served ([`Waiters::settled`]) from its wake-up until its own writes are committed (so the clients
//! those writes wake count before it stops: a chain of BLMOVEs settles as a whole). Connections wait for that
//! before they send replies: a client that pushed reads, after its reply, what the served clients left.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use tokio::sync::Notify;

/// The longest a reply waits for the clients a write woke ([`Waiters::settled`]).
pub const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One blocked client.
#[derive(Default)]
pub struct Waiter {
    pub wake: Notify,
    /// Woken and not yet done ([`Waiters::served`]): counted in `Waiters::serving`.
    pending: AtomicBool,
    /// Busy with something that may take long (writing to a peer that does not read): not counted when woken.
    busy: AtomicBool,
}

/// A key: (physical db, user key).
type KeyId = (u16, Vec<u8>);

#[derive(Default)]
pub struct Waiters {
    /// Registered waiters, so a write with nobody blocked skips the map lock.
    count: AtomicUsize,
    queues: Mutex<FxHashMap<KeyId, VecDeque<Arc<Waiter>>>>,
    /// Woken waiters not yet done.
    serving: AtomicUsize,
    /// Notified when `serving` falls to 0.
    idle: Notify,
}

impl Waiters {
    /// Queues a new waiter behind the others on each key of physical database `db`.
    pub fn register(&self, db: u16, keys: &[Vec<u8>]) -> Arc<Waiter> {
        let w = Arc::new(Waiter::default());
        let mut q = self.queues.lock();
        for k in keys {
            q.entry((db, k.clone())).or_default().push_back(w.clone());
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        w
    }

    /// Removes `w` from its keys' queues and wakes the new head of each, which may now have data to take.
    pub fn unregister(&self, db: u16, keys: &[Vec<u8>], w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
        for k in keys {
            let id = (db, k.clone());
            if let Some(queue) = q.get_mut(&id) {
                queue.retain(|x| !Arc::ptr_eq(x, w));
                match queue.front() {
                    Some(head) => self.wake(head),
                    None => {
                        q.remove(&id);
                    }
                }
            }
        }
        self.count.fetch_sub(1, Ordering::Relaxed);
    }

    /// `key` of physical database `db` may have data: wakes the first client waiting for it.
    pub fn signal(&self, db: u16, key: &[u8]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        if let Some(head) = q.get(&(db, key.to_vec())).and_then(|queue| queue.front()) {
            self.wake(head);
        }
    }

    /// The stream `key` of physical database `db` got entries (or lost a group): wakes every client waiting for
    /// it, since readers of a stream do not consume what the others read. Each runs its command again; one that
    /// finds nothing for it keeps its place.
    pub fn signal_all(&self, db: u16, key: &[u8]) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        if let Some(queue) = q.get(&(db, key.to_vec())) {
            for w in queue {
                self.wake(w);
            }
        }
    }

    /// Every key of physical database `db` may have changed (SWAPDB gave its logical database another one): wakes
    /// the first client waiting on each. A woken client that blocks again moves its place to the physical
    /// database its logical one now maps to, and leaving the old queue wakes the next one there.
    pub fn signal_db(&self, db: u16) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        for head in q.iter().filter(|((d, _), _)| *d == db).filter_map(|(_, queue)| queue.front()) {
            self.wake(head);
        }
    }

    /// Every key of physical database `db` was removed (FLUSHDB, FLUSHALL): wakes every client waiting there, so
    /// those blocked on a stream's group learn it is gone; the others find nothing and wait on.
    pub fn signal_db_all(&self, db: u16) {
        if self.count.load(Ordering::Relaxed) == 0 {
            return;
        }
        let q = self.queues.lock();
        for w in q.iter().filter(|((d, _), _)| *d == db).flat_map(|(_, queue)| queue.iter()) {
            self.wake(w);
        }
    }

    fn wake(&self, w: &Waiter) {
        if !w.busy.load(Ordering::Acquire) && !w.pending.swap(true, Ordering::AcqRel) {
            self.serving.fetch_add(1, Ordering::AcqRel);
        }
        w.wake.notify_one();
    }

    /// Marks a waiter busy with something that may take long (or done with it): while busy it does not count as
    /// being served, so a client whose peer does not read cannot hold every connection's replies. A wake-up
    /// meanwhile is kept; the client is served after, only without the others waiting for it.
    pub fn set_busy(&self, w: &Waiter, busy: bool) {
        w.busy.store(busy, Ordering::Release);
        if busy {
            self.served(w);
        }
    }

    /// A woken waiter is done: served (and its writes committed), back to waiting, or gone.
    pub fn served(&self, w: &Waiter) {
        if w.pending.swap(false, Ordering::AcqRel) && self.serving.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Returns once no woken waiter is still being served, or after [`SETTLE_LIMIT`] at most: a woken client
    /// runs and commits on its own connection's task, which nothing else holds up, so the bound only turns a
    /// mistake into a delay instead of a server that stops replying.
    pub async fn settled(&self) {
        if self.serving.load(Ordering::Acquire) == 0 {
            return;
        }
        if tokio::time::timeout(SETTLE_LIMIT, self.until_idle()).await.is_err() {
            tracing::debug!("woken blocked clients still being served after {SETTLE_LIMIT:?}; replying anyway");
        }
    }

    async fn until_idle(&self) {
        while self.serving.load(Ordering::Acquire) != 0 {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the check, so a fall to 0 in between is not missed.
            idle.as_mut().enable();
            if self.serving.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Clients blocked on keys (INFO `blocked_clients` counts clients, this counts keys being waited on).
    pub fn keys_waited(&self) -> usize {
        self.queues.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn head_is_woken_then_the_next() {
        let ws = Waiters::default();
        let keys = vec![b"k".to_vec()];
        let a = ws.register(0, &keys);
        let b = ws.register(0, &keys);
        ws.signal(0, b"k");
        a.wake.notified().await;
        ws.unregister(0, &keys, &a);
        // Leaving passed the signal on to b.
        b.wake.notified().await;
        ws.unregister(0, &keys, &b);
        assert_eq!(ws.keys_waited(), 0);
        ws.signal(0, b"k");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn woken_waiters_are_served_before_settling() {
        let ws = Waiters::default();
        ws.settled().await;
        let a = ws.register(0, &[b"k".to_vec()]);
        let b = ws.register(0, &[b"j".to_vec()]);
        // Two signals of one head count it once.
        ws.signal(0, b"k");
        ws.signal(0, b"k");
        assert_eq!(ws.serving.load(Ordering::Acquire), 1);
        // Serving `a` wakes `b` (a chain) before `a` is done: only then does everything settle.
        ws.signal(0, b"j");
        ws.served(&a);
        let settled = ws.settled();
        tokio::pin!(settled);
        assert!(futures_poll(settled.as_mut()).is_pending());
        ws.served(&b);
        settled.await;
        // Done twice, or done without a wake-up, counts nothing.
        ws.served(&b);
        assert_eq!(ws.serving.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_waiter_holds_nobody_and_keeps_its_wake_up() {
        let ws = Waiters::default();
        let a = ws.register(0, &[b"k".to_vec()]);
        ws.signal(0, b"k");
        assert_eq!(ws.serving.load(Ordering::Acquire), 1);
        ws.set_busy(&a, true);
        assert_eq!(ws.serving.load(Ordering::Acquire), 0);
        ws.signal(0, b"k");
        assert_eq!(ws.serving.load(Ordering::Acquire), 0);
        ws.settled().await;
        ws.set_busy(&a, false);
        a.wake.notified().await;
        ws.served(&a);
        assert_eq!(ws.serving.load(Ordering::Acquire), 0);
    }

    /// Polls a future once.
    fn futures_poll<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::noop();
        f.poll(&mut std::task::Context::from_waker(waker))
    }
}
