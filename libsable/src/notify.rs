//! Keyspace notifications (`notify-keyspace-events`): the event classes and their flag letters, the switch the
//! server holds ([`Notifier`]), and the publication of an event as Redis' `notifyKeyspaceEvent` does it:
//! `__keyspace@<db>__:<key>` → event name (flag `K`) and `__keyevent@<db>__:<event>` → key name (flag `E`), through
//! the pub/sub registry, `db` being the logical database the client selected.
//!
//! Commands call [`notify`] after their writes, in Redis' order. Two kinds of events come from storage instead,
//! because only a write transaction knows them for every command (see `Txn::put` and `Txn::delete`):
//! - `expired` (class `x`): a record replaced or deleted by a writer (or by active expiry) had expired. Redis
//!   publishes it when a command looks the key up and lazily expires it; here the writer that removes the
//!   expired record does, so every expired key is announced exactly once.
//! - `new` (class `n`): a key was created (Redis' `dbAdd`).
//!
//! A committed transaction leaves these "facts" on its thread; they are published just before the next event of
//! the same key (so `expired`, `new`, then the command's `set`, as in Redis), and whatever is left when the
//! command ends goes out then ([`flush_facts`]).
//!
//! Timing: inside a worker's write scope, writes reach RocksDB with the turn's group commit (`storage::scope`),
//! so events are held until that commit and published just before the scope releases its locks: a subscriber
//! never hears of a write that is not durable and visible, and events of one key keep the order of its writes.
//! Without pending writes (a read's `keymiss`, the background expiry thread) an event is published at once.
//! PUBLISH and SPUBLISH follow the same rule ([`publish_in_order`]), so a message keeps its place among the
//! events of the commands around it, as in Redis.
//!
//! When notifications are off, a write costs one relaxed atomic load here and nothing is allocated.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::commands::Ctx;
use crate::pubsub::{Kind, PubSub};

/// `K`: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: DEL, EXPIRE, RENAME… (type-agnostic commands).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key expired.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key was evicted (SableDB never evicts: accepted, never published).
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands (SableDB has no streams: accepted, never published).
pub const STREAM: u32 = 1 << 10;
/// `m`: a read found no key.
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module events (no modules: accepted, never published).
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created.
pub const NEW: u32 = 1 << 14;
/// `A`: every class but `m` and `n`.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The classes storage records as facts (see the module doc).
const FACTS: u32 = EXPIRED | NEW;

/// Redis' error for a letter outside the alphabet (CONFIG SET adds its own prefix).
pub const INVALID_FLAGS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Parses a `notify-keyspace-events` value as Redis' `keyspaceEventsStringToFlags`: letters in any order and
/// repeated at will; None for any other character.
pub fn parse_flags(value: &str) -> Option<u32> {
    value.chars().try_fold(0, |flags, c| {
        let class = match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
        Some(flags | class)
    })
}

/// The canonical string CONFIG GET shows, as Redis' `keyspaceEventsFlagsToString`: `A` when every class of `A`
/// is on (and then, as in Redis, an `n` is not shown), else the class letters, followed by `K`, `E` and `m`.
pub fn format_flags(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (class, letter) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & class != 0 {
                s.push(letter);
            }
        }
    }
    for (class, letter) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & class != 0 {
            s.push(letter);
        }
    }
    s
}

/// The server's notification switch: the parsed `notify-keyspace-events` and the registry events go to.
pub struct Notifier {
    /// The classes on, or 0 when nothing can be published (neither `K` nor `E`): the one check of a write.
    flags: AtomicU32,
    pubsub: Arc<PubSub>,
}

impl Notifier {
    pub fn new(pubsub: Arc<PubSub>) -> Notifier {
        Notifier { flags: AtomicU32::new(0), pubsub }
    }

    /// Applies a parsed `notify-keyspace-events` (CONFIG SET, start-up).
    pub fn set_flags(&self, flags: u32) {
        let effective = if flags & (KEYSPACE | KEYEVENT) == 0 { 0 } else { flags };
        self.flags.store(effective, Ordering::Relaxed);
    }

    /// True when events of `class` are published.
    pub fn wants(&self, class: u32) -> bool {
        self.flags.load(Ordering::Relaxed) & class != 0
    }

    /// Publishes one event of `class` (already known to be on) unless nobody could receive it.
    fn publish(&self, flags: u32, event: &str, db: usize, key: &[u8]) {
        if !self.pubsub.any() {
            return;
        }
        let mut digits = itoa::Buffer::new();
        let db = digits.format(db);
        if flags & KEYSPACE != 0 {
            let channel = [b"__keyspace@", db.as_bytes(), b"__:", key].concat();
            emit(&self.pubsub, channel, event.as_bytes().to_vec());
        }
        if flags & KEYEVENT != 0 {
            let channel = [b"__keyevent@", db.as_bytes(), b"__:", event.as_bytes()].concat();
            emit(&self.pubsub, channel, key.to_vec());
        }
    }
}

/// A fact left by a committed transaction: (logical db, key, class `EXPIRED` or `NEW`).
type Fact = (usize, Vec<u8>, u32);

/// A message held until this thread's write scope commits: to a channel (and the patterns matching it) or to a
/// shard channel.
pub(crate) type Held = (Arc<PubSub>, Kind, Vec<u8>, Vec<u8>);

thread_local! {
    static FACTS_LEFT: RefCell<Vec<Fact>> = const { RefCell::new(Vec::new()) };
    static HELD: RefCell<Vec<Held>> = const { RefCell::new(Vec::new()) };
}

/// Records that a transaction just committed on this thread expired (`EXPIRED`) or created (`NEW`) `key` in
/// logical database `db`. Storage calls this only for the classes [`Notifier::wants`].
pub fn fact(db: usize, key: &[u8], class: u32) {
    FACTS_LEFT.with(|f| f.borrow_mut().push((db, key.to_vec(), class)));
}

/// Publishes `event` of `class` about `key` in the client's database (after the facts recorded about it).
pub fn notify(ctx: &Ctx, class: u32, event: &str, key: &[u8]) {
    notify_db(&ctx.server.notify, class, event, ctx.client.db, key);
}

/// [`notify`] for logical database `db`. An `expired` or `new` event the key's facts just announced is not
/// published twice, so a command may name one whether or not storage recorded it.
pub fn notify_db(n: &Notifier, class: u32, event: &str, db: usize, key: &[u8]) {
    let flags = n.flags.load(Ordering::Relaxed);
    if flags == 0 {
        return;
    }
    let mut announced = 0;
    if flags & FACTS != 0 {
        announced = publish_facts(n, |d, k| d == db && k == key);
    }
    if flags & class != 0 && announced & class == 0 {
        n.publish(flags, event, db, key);
    }
}

/// Publishes the facts left on this thread that `select` picks, in the order they happened, and returns the
/// classes published.
fn publish_facts(n: &Notifier, mut select: impl FnMut(usize, &[u8]) -> bool) -> u32 {
    let picked: Vec<Fact> = FACTS_LEFT.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_empty() {
            return Vec::new();
        }
        let (picked, kept) = f.drain(..).partition(|(db, key, _)| select(*db, key));
        *f = kept;
        picked
    });
    let flags = n.flags.load(Ordering::Relaxed);
    let mut announced = 0;
    for (db, key, class) in picked {
        if flags & class != 0 {
            n.publish(flags, if class == NEW { "new" } else { "expired" }, db, &key);
            announced |= class;
        }
    }
    announced
}

/// Publishes every fact still left on this thread: at the end of each command, and by active expiry after each
/// key it removes.
pub fn flush_facts(n: &Notifier) {
    if FACTS_LEFT.with(|f| !f.borrow().is_empty()) {
        publish_facts(n, |_, _| true);
    }
}

/// Publishes a keyspace event now, or holds it until this thread's write scope commits when writes are pending
/// there (they may be what it announces, and are not visible to other clients yet).
fn emit(pubsub: &Arc<PubSub>, channel: Vec<u8>, message: Vec<u8>) {
    if crate::storage::scope::has_pending() {
        HELD.with(|h| h.borrow_mut().push((pubsub.clone(), Kind::Channel, channel, message)));
    } else {
        deliver(pubsub, Kind::Channel, &channel, &message);
    }
}

/// Delivers a message now to the receivers of a channel (and patterns) or of a shard channel; returns how many.
fn deliver(pubsub: &PubSub, kind: Kind, channel: &[u8], message: &[u8]) -> usize {
    match kind {
        Kind::Shard => pubsub.publish_shard(channel, message),
        _ => pubsub.publish(channel, message),
    }
}

/// PUBLISH (`Kind::Channel`) and SPUBLISH (`Kind::Shard`): under the same rule as keyspace events, so that a
/// message never overtakes the events of the writes before it (a pipeline or a transaction that writes, then
/// publishes) and is never heard before those writes are visible. Returns the receivers it has now.
pub fn publish_in_order(pubsub: &Arc<PubSub>, kind: Kind, channel: &[u8], message: &[u8]) -> usize {
    if !crate::storage::scope::has_pending() {
        return deliver(pubsub, kind, channel, message);
    }
    let receivers = match kind {
        Kind::Shard => pubsub.subscribers(Kind::Shard, channel),
        _ => pubsub.receivers(channel),
    };
    if receivers > 0 {
        HELD.with(|h| h.borrow_mut().push((pubsub.clone(), kind, channel.to_vec(), message.to_vec())));
    }
    receivers
}

/// For a connection that is subscribed as well as writing (RESP3): commits this thread's write scope when
/// messages are held for it, so that the client's own events (and PUBLISH messages) reach its mailbox before the
/// reply of the command that caused them, as in Redis. Only such a connection gives up the group commit.
pub fn release_held() {
    if HELD.with(|h| !h.borrow().is_empty()) {
        crate::storage::scope::settle();
    }
}

/// The messages held on this thread, for the batch its write scope is sealed into.
pub(crate) fn take_held() -> Vec<Held> {
    HELD.with(|h| std::mem::take(&mut *h.borrow_mut()))
}

/// A batch's messages once it is written (`ok`): published, or dropped (what they announced was not written).
pub(crate) fn deliver_held(held: Vec<Held>, ok: bool) {
    if ok {
        for (pubsub, kind, channel, message) in held {
            deliver(&pubsub, kind, &channel, &message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_format_like_redis() {
        // Checked against redis-server 7.0.15: CONFIG SET then CONFIG GET.
        for (set, get) in [
            ("KEA", "AKE"),
            ("Ex", "xE"),
            ("", ""),
            ("A", "A"),
            ("g$lshzxetd", "A"),
            ("g$lshzxet", "g$lshzxet"),
            ("AKEnm", "AKEm"),
            ("nmKE", "nKEm"),
            ("KEd", "dKE"),
            ("zzK", "zK"),
            ("EK", "KE"),
            ("Kl", "lK"),
        ] {
            assert_eq!(parse_flags(set).map(format_flags).as_deref(), Some(get), "{set}");
        }
        for bad in ["KEQ", "K E", "a", "KEé", "\0"] {
            assert_eq!(parse_flags(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_expands_to_every_class_but_new_and_keymiss() {
        let all = parse_flags("A").unwrap();
        assert_eq!(all, ALL);
        assert_eq!(all & (NEW | KEY_MISS | KEYSPACE | KEYEVENT), 0);
        // The hidden `n` of "AKEn" is still on, though the canonical string does not show it.
        let flags = parse_flags("AKEn").unwrap();
        assert_ne!(flags & NEW, 0);
        assert_eq!(parse_flags(&format_flags(flags)).unwrap() & NEW, 0);
        // Every class letter round-trips on its own.
        for c in "g$lshzxetdnm".chars() {
            let one = parse_flags(&format!("K{c}")).unwrap();
            assert_eq!(parse_flags(&format_flags(one)), Some(one), "{c}");
        }
    }

    #[test]
    fn nothing_is_published_without_k_or_e() {
        let n = Notifier::new(Arc::new(PubSub::default()));
        n.set_flags(parse_flags("A").unwrap());
        assert!(!n.wants(STRING));
        n.set_flags(parse_flags("E$").unwrap());
        assert!(n.wants(STRING) && !n.wants(LIST));
    }
}
