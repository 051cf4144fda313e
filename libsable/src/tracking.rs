//! Client-side caching (CLIENT TRACKING), as Redis 7.0's `tracking.c`.
//!
//! A tracking client in the default mode has the keys its read-only commands read remembered in one server-wide
//! table (key name → client ids; as in Redis the database is ignored). When a committed write modifies a key
//! (storage calls [`Tracking::invalidate`] from `Store::write_batch`, after the write is durable and visible, as it
//! marks WATCH watchers), every client that remembered it gets one invalidation and the key is forgotten. BCAST
//! clients register prefixes instead and hear of every modified key under one of them. FLUSHDB/FLUSHALL send a null
//! invalidation to every tracking client ([`Tracking::flush`]).
//!
//! Delivery goes through the receiving connection's pub/sub mailbox (`crate::pubsub::Mailbox`), already encoded:
//! a RESP3 receiver gets the push `invalidate`, a RESP2 redirect client subscribed to anything gets a `message`
//! on `__redis__:invalidate`, a RESP2 client without redirection gets nothing (as in Redis). An invalidation for
//! the client whose command is running on this thread (its own write) is held and written after that command's
//! reply, as Redis' `tracking_pending_keys`. With nobody tracking, a write costs one relaxed load ([`Tracking::active`]).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

use crate::client::ClientInfo;
use crate::resp::reply::Reply;

fn message(resp3: bool) -> Reply {
    Reply { buf: bytes::BytesMut::with_capacity(64), resp3 }
}

/// CLIENT LIST flag bits kept in `ClientInfo::tracking`.
pub const FLAG_ON: u8 = 1;
pub const FLAG_BROKEN_REDIR: u8 = 2;
pub const FLAG_BCAST: u8 = 4;

/// The options of CLIENT TRACKING ON.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// 0: no redirection.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// BCAST prefixes, sorted (Redis keeps them in a radix tree).
    pub prefixes: Vec<Vec<u8>>,
}

/// A tracking client, as the table sees it.
pub struct Tracker {
    pub info: Arc<ClientInfo>,
    pub opts: Options,
    /// The redirect client, looked up when tracking was turned on (Redis requires it to exist then).
    pub redirect: Option<Arc<ClientInfo>>,
}

/// What an invalidation carries.
enum Payload<'a> {
    Keys(&'a [&'a [u8]]),
    /// FLUSHDB/FLUSHALL: everything.
    Null,
}

#[derive(Default)]
struct Inner {
    /// Key → ids of the clients that read it.
    table: FxHashMap<Vec<u8>, Vec<u64>>,
    /// Entries of `table`, summed (INFO `tracking_total_items`).
    items: usize,
    /// BCAST prefix → client ids.
    prefixes: BTreeMap<Vec<u8>, Vec<u64>>,
    clients: FxHashMap<u64, Arc<Tracker>>,
}

#[derive(Default)]
pub struct Tracking {
    /// Tracking clients: with none, writes skip everything else.
    count: AtomicUsize,
    /// `tracking-table-max-keys` (0: no limit).
    max_keys: AtomicUsize,
    inner: Mutex<Inner>,
}

thread_local! {
    /// The tracking client whose command runs on this thread (0: none), and whether it uses NOLOOP.
    static CURRENT: Cell<(u64, bool)> = const { Cell::new((0, false)) };
    /// Invalidations for the running client, written after its reply: (client id, encoded message).
    static PENDING: RefCell<Vec<(u64, Bytes)>> = const { RefCell::new(Vec::new()) };
}

thread_local! {
    /// A tracking client's script is calling a command (`redis.call`), and whether one of them was read-only.
    static SCRIPT: Cell<(bool, bool)> = const { Cell::new((false, false)) };
}

/// A script's `redis.call` of a tracking client starts (true) or ends (false).
pub fn enter_script(yes: bool) {
    SCRIPT.with(|s| s.set((yes, s.get().1)));
}

pub fn in_script() -> bool {
    SCRIPT.with(|s| s.get().0)
}

/// The script called a read-only command: its declared keys are remembered when it ends.
pub fn note_script_read() {
    SCRIPT.with(|s| s.set((s.get().0, true)));
}

pub fn take_script_read() -> bool {
    SCRIPT.with(|s| {
        let (inside, read) = s.get();
        s.set((inside, false));
        read
    })
}

/// Marks the tracking client `id` as running a command on this thread (0 when its command ends).
pub fn set_current(id: u64, noloop: bool) {
    CURRENT.with(|c| c.set((id, noloop)));
}

/// The running tracking client when it uses NOLOOP: its writes do not invalidate its own keys.
pub fn current_noloop() -> Option<u64> {
    CURRENT.with(|c| {
        let (id, noloop) = c.get();
        (id != 0 && noloop).then_some(id)
    })
}

/// Appends the invalidations held for client `id` after its reply (anything held for another client goes to that
/// client's mailbox).
pub fn flush_pending(id: u64, out: &mut Reply) {
    let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    for (owner, msg) in pending {
        if owner == id {
            out.raw(&msg);
        }
    }
}

impl Tracking {
    /// True when some client tracks: the only cost of a write otherwise.
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// `tracking-table-max-keys`; a lower limit takes effect at once, as Redis' cron applies it while idle.
    pub fn set_max_keys(&self, n: usize) {
        self.max_keys.store(n, Ordering::Relaxed);
        self.limit(&mut self.inner.lock());
    }

    /// Forgets (and invalidates) keys beyond `tracking-table-max-keys`.
    fn limit(&self, inner: &mut Inner) {
        let max = self.max_keys.load(Ordering::Relaxed);
        while max > 0 && inner.table.len() > max {
            let Some(key) = inner.table.keys().next().cloned() else { break };
            invalidate_key(inner, &key, &|_, _| false);
        }
    }

    /// CLIENT TRACKING ON: registers (or updates) the client's tracking. BCAST prefixes add to those it has.
    pub fn enable(&self, tracker: Tracker) -> Arc<Tracker> {
        let mut inner = self.inner.lock();
        let id = tracker.info.id;
        let mut tracker = tracker;
        if let Some(old) = inner.clients.get(&id) {
            if old.opts.bcast && tracker.opts.bcast {
                let mut all = old.opts.prefixes.clone();
                all.extend(tracker.opts.prefixes.iter().cloned());
                all.sort();
                all.dedup();
                tracker.opts.prefixes = all;
            }
        } else {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        for p in &tracker.opts.prefixes {
            let ids = inner.prefixes.entry(p.clone()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut flags = FLAG_ON;
        if tracker.opts.bcast {
            flags |= FLAG_BCAST;
        }
        tracker.info.tracking.store(flags, Ordering::Relaxed);
        let tracker = Arc::new(tracker);
        inner.clients.insert(id, tracker.clone());
        tracker
    }

    /// CLIENT TRACKING OFF, RESET, disconnect. Keys the client read stay in the table until modified (as in Redis).
    pub fn disable(&self, info: &ClientInfo) {
        let mut inner = self.inner.lock();
        let Some(old) = inner.clients.remove(&info.id) else { return };
        self.count.fetch_sub(1, Ordering::Relaxed);
        for p in &old.opts.prefixes {
            if let Some(ids) = inner.prefixes.get_mut(p) {
                ids.retain(|&i| i != info.id);
                if ids.is_empty() {
                    inner.prefixes.remove(p);
                }
            }
        }
        info.tracking.store(0, Ordering::Relaxed);
    }

    /// The tracking client `id`'s read-only command read `keys`.
    pub fn remember<'k>(&self, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
        let mut inner = self.inner.lock();
        for key in keys {
            let ids = inner.table.entry(key.to_vec()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
                inner.items += 1;
            }
        }
        self.limit(&mut inner);
    }

    /// A committed write modified `keys`; `written_by(client, key)` tells whether a NOLOOP client wrote the key
    /// itself.
    pub fn invalidate<'k>(&self, keys: impl Iterator<Item = &'k [u8]>, written_by: &dyn Fn(u64, &[u8]) -> bool) {
        let mut inner = self.inner.lock();
        // BCAST: per prefix, the keys modified under it (sorted, once each, as Redis' radix tree).
        let mut bcast: Vec<(Vec<u8>, Vec<&[u8]>)> = Vec::new();
        for key in keys {
            if !inner.prefixes.is_empty() {
                for p in inner.prefixes.keys() {
                    if key.starts_with(p) {
                        match bcast.iter_mut().find(|(q, _)| q == p) {
                            Some((_, ks)) => ks.push(key),
                            None => bcast.push((p.clone(), vec![key])),
                        }
                    }
                }
            }
            if inner.table.contains_key(key) {
                invalidate_key(&mut inner, key, written_by);
            }
        }
        bcast.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (prefix, mut keys) in bcast {
            keys.sort_unstable();
            keys.dedup();
            let ids = inner.prefixes.get(&prefix).cloned().unwrap_or_default();
            for id in ids {
                let Some(t) = inner.clients.get(&id) else { continue };
                if t.opts.noloop {
                    let own: Vec<&[u8]> = keys.iter().copied().filter(|k| !written_by(id, k)).collect();
                    if !own.is_empty() {
                        deliver(t, Payload::Keys(&own));
                    }
                } else {
                    deliver(t, Payload::Keys(&keys));
                }
            }
        }
    }

    /// FLUSHDB/FLUSHALL: a null invalidation to every tracking client, and the table is emptied.
    pub fn flush(&self) {
        if !self.active() && self.inner.lock().table.is_empty() {
            return;
        }
        let mut inner = self.inner.lock();
        for t in inner.clients.values() {
            deliver(t, Payload::Null);
        }
        inner.table.clear();
        inner.items = 0;
    }

    /// INFO: tracking clients, keys, items, prefixes.
    pub fn stats(&self) -> (usize, usize, usize, usize) {
        let inner = self.inner.lock();
        (self.count.load(Ordering::Relaxed), inner.table.len(), inner.items, inner.prefixes.len())
    }
}

/// Sends the invalidation of `key` to the clients that remembered it and forgets it.
fn invalidate_key(inner: &mut Inner, key: &[u8], written_by: &dyn Fn(u64, &[u8]) -> bool) {
    let Some(ids) = inner.table.remove(key) else { return };
    inner.items -= ids.len();
    for id in ids {
        // Gone, no longer tracking, or switched to BCAST since it read the key: nothing to send.
        let Some(t) = inner.clients.get(&id) else { continue };
        if t.opts.bcast || (t.opts.noloop && written_by(id, key)) {
            continue;
        }
        deliver(t, Payload::Keys(&[key]));
    }
}

/// Redis' `sendTrackingMessage`: to the redirect client if any (or `tracking-redir-broken` when it is gone),
/// as a RESP3 push or a RESP2 `__redis__:invalidate` message.
fn deliver(t: &Tracker, payload: Payload<'_>) {
    let own_resp3 = t.info.resp.load(Ordering::Relaxed) >= 3;
    let target = match &t.redirect {
        Some(r) if r.gone.load(Ordering::Acquire) => {
            t.info.tracking.fetch_or(FLAG_BROKEN_REDIR, Ordering::Relaxed);
            if own_resp3 {
                let mut out = message(true);
                out.push(2);
                out.bulk(b"tracking-redir-broken");
                out.int(t.opts.redirect as i64);
                send(&t.info, out);
            }
            return;
        }
        Some(r) => r,
        None => &t.info,
    };
    let resp3 = target.resp.load(Ordering::Relaxed) >= 3;
    let mut out = message(resp3);
    if resp3 {
        out.push(2);
        out.bulk(b"invalidate");
    } else if t.redirect.is_some() && target.subs.any() {
        out.push(3);
        out.bulk(b"message");
        out.bulk(b"__redis__:invalidate");
    } else {
        return;
    }
    match payload {
        Payload::Keys(keys) => {
            out.array(keys.len());
            for k in keys {
                out.bulk(k);
            }
        }
        // The null of the tracking client's protocol, as Redis writes `shared.null[c->resp]`.
        Payload::Null => out.raw(if own_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
    }
    send(target, out);
}

fn send(target: &ClientInfo, out: Reply) {
    let msg = out.buf.freeze();
    let (current, _) = CURRENT.with(|c| c.get());
    if current == target.id {
        PENDING.with(|p| p.borrow_mut().push((target.id, msg)));
        return;
    }
    let mailbox = target.mailbox.lock().as_ref().and_then(std::sync::Weak::upgrade);
    if let Some(m) = mailbox {
        m.push_line(msg, crate::pubsub::BufferLimit::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;

    fn tracker(clients: &ClientRegistry, opts: Options) -> Tracker {
        Tracker { info: clients.register("a:1".into(), "b:2".into(), false), opts, redirect: None }
    }

    #[test]
    fn keys_are_remembered_once_and_forgotten_when_invalidated() {
        let clients = ClientRegistry::default();
        let t = Tracking::default();
        assert!(!t.active());
        let a = t.enable(tracker(&clients, Options::default()));
        let b = t.enable(tracker(&clients, Options::default()));
        assert!(t.active());
        t.remember(a.info.id, [&b"k"[..], b"k", b"j"].into_iter());
        t.remember(b.info.id, [&b"k"[..]].into_iter());
        assert_eq!(t.stats(), (2, 2, 3, 0));
        t.invalidate([&b"k"[..]].into_iter(), &|_, _| false);
        assert_eq!(t.stats(), (2, 1, 1, 0));
        t.flush();
        assert_eq!(t.stats(), (2, 0, 0, 0));
        t.disable(&a.info);
        t.disable(&b.info);
        assert!(!t.active());
        assert_eq!(a.info.tracking.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn bcast_prefixes_are_counted_and_released() {
        let clients = ClientRegistry::default();
        let t = Tracking::default();
        let opts = Options { bcast: true, prefixes: vec![b"a".to_vec(), b"b".to_vec()], ..Options::default() };
        let a = t.enable(tracker(&clients, opts));
        assert_eq!(a.info.tracking.load(Ordering::Relaxed), FLAG_ON | FLAG_BCAST);
        assert_eq!(t.stats().3, 2);
        t.disable(&a.info);
        assert_eq!(t.stats(), (0, 0, 0, 0));
    }

    #[test]
    fn the_table_keeps_to_its_maximum() {
        let clients = ClientRegistry::default();
        let t = Tracking::default();
        t.set_max_keys(2);
        let a = t.enable(tracker(&clients, Options::default()));
        t.remember(a.info.id, [&b"x"[..], b"y", b"z"].into_iter());
        assert_eq!(t.stats().1, 2);
    }
}
