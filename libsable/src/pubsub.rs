//! Pub/sub: the server-wide registry of subscriptions (channels, patterns and shard channels → subscribers), each
//! subscriber's mailbox, and a connection's own view of what it subscribed to.
//!
//! PUBLISH runs on the publisher's worker thread and never touches another connection's state: it pushes the
//! message into the [`Mailbox`] of every receiver (one lock per mailbox, so one publisher's messages stay in
//! publish order) and signals the mailbox's `Notify`. The receiving connection's writer task waits on that signal
//! (`net::connection`), drains the mailbox into its reply buffer in the client's protocol (RESP2 arrays, RESP3
//! pushes) and writes it. Messages that arrive while the connection runs a command go out before that command's
//! reply, where Redis would have written them.
//!
//! A mailbox whose pending bytes (queued messages plus reply bytes its writer has not sent) pass the pubsub class
//! of `client-output-buffer-limit` is emptied and closed and its client killed, so a subscriber that never reads
//! cannot grow the server's memory without bound.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

use crate::client::ClientInfo;
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;

/// The three subscription namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The first word of the confirmation of a subscription.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// Commands a RESP2 client may run while it is subscribed to anything (Redis' subscriber mode).
pub fn allowed_in_subscriber_mode(command: &str) -> bool {
    matches!(
        command,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// One class of `client-output-buffer-limit`, in bytes and seconds; 0 disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

impl BufferLimit {
    /// Redis' `checkClientOutputBufferLimits`: over the hard limit, or over the soft limit for more than its
    /// seconds. `soft_since` is when the client was first seen over the soft limit (reset once it is below).
    pub fn exceeded(&self, used: u64, soft_since: &mut Option<Instant>, now: Instant) -> bool {
        let hard = self.hard > 0 && used >= self.hard;
        let soft = self.soft > 0 && used >= self.soft;
        if !soft {
            *soft_since = None;
            return hard;
        }
        let over_soft = match *soft_since {
            None => {
                *soft_since = Some(now);
                false
            }
            Some(since) => now.saturating_duration_since(since) > Duration::from_secs(self.soft_secs),
        };
        hard || over_soft
    }
}

/// A client's subscription counts, readable by other threads (CLIENT LIST, the subscriber-mode check).
#[derive(Default)]
pub struct SubCounts {
    pub channels: AtomicUsize,
    pub patterns: AtomicUsize,
    pub shard: AtomicUsize,
}

impl SubCounts {
    /// Subscribed to anything (Redis' `CLIENT_PUBSUB` flag: the `P` of CLIENT LIST, the `pubsub` client type).
    pub fn any(&self) -> bool {
        self.channels.load(Ordering::Relaxed)
            + self.patterns.load(Ordering::Relaxed)
            + self.shard.load(Ordering::Relaxed)
            > 0
    }
}

/// A message waiting in a mailbox. Channel and payload are shared by all the receivers of one publish.
struct Message {
    kind: Kind,
    /// The matching pattern of a `pmessage`, empty otherwise.
    pattern: Bytes,
    channel: Bytes,
    payload: Bytes,
}

impl Message {
    /// What the message costs the receiver's output buffer: its bytes plus the framing.
    fn size(&self) -> usize {
        self.pattern.len() + self.channel.len() + self.payload.len() + 48
    }

    fn write(&self, out: &mut Reply) {
        match self.kind {
            Kind::Channel => {
                out.push(3);
                out.bulk(b"message");
            }
            Kind::Pattern => {
                out.push(4);
                out.bulk(b"pmessage");
                out.bulk(&self.pattern);
            }
            Kind::Shard => {
                out.push(3);
                out.bulk(b"smessage");
            }
        }
        out.bulk(&self.channel);
        out.bulk(&self.payload);
    }
}

/// What waits in a mailbox: a message, or a MONITOR line (see `crate::monitor`), already encoded. One queue keeps
/// them in the order they were sent to a client that both subscribes and monitors.
enum Item {
    Message(Message),
    Line(Bytes),
}

impl Item {
    fn size(&self) -> usize {
        match self {
            Item::Message(m) => m.size(),
            Item::Line(line) => line.len(),
        }
    }

    fn write(&self, out: &mut Reply) {
        match self {
            Item::Message(m) => m.write(out),
            Item::Line(line) => out.raw(line),
        }
    }
}

#[derive(Default)]
struct Inbox {
    messages: VecDeque<Item>,
    bytes: usize,
    soft_since: Option<Instant>,
    /// The client went over its output buffer limit: it is being disconnected and receives nothing more.
    closed: bool,
}

/// Where publishers on any thread leave messages for one subscribed connection (and `crate::monitor` its lines for
/// a monitoring one).
pub struct Mailbox {
    client: Arc<ClientInfo>,
    inbox: Mutex<Inbox>,
    /// Signalled on every delivery; the connection's writer waits on it when idle.
    pub notify: Notify,
}

impl Mailbox {
    fn new(client: Arc<ClientInfo>) -> Mailbox {
        Mailbox { client, inbox: Mutex::new(Inbox::default()), notify: Notify::new() }
    }

    fn push(&self, msg: Message, limit: BufferLimit) {
        self.push_item(Item::Message(msg), limit);
    }

    /// Queues a MONITOR line (`crate::monitor`), checked against `limit` (the class of the client's type) as
    /// messages are.
    pub(crate) fn push_line(&self, line: Bytes, limit: BufferLimit) {
        self.push_item(Item::Line(line), limit);
    }

    fn push_item(&self, msg: Item, limit: BufferLimit) {
        let mut inbox = self.inbox.lock();
        if inbox.closed {
            return;
        }
        inbox.bytes += msg.size();
        inbox.messages.push_back(msg);
        self.client.mail.store(inbox.bytes, Ordering::Relaxed);
        if self.close_if_over(&mut inbox, limit) {
            return;
        }
        drop(inbox);
        self.notify.notify_one();
    }

    /// Redis' check of a client's output buffer limits, which its cron also makes while nothing new arrives (a
    /// soft limit expires without traffic): the writer calls this while a write of this client waits.
    pub fn enforce(&self, limit: BufferLimit) {
        let mut inbox = self.inbox.lock();
        if !inbox.closed {
            self.close_if_over(&mut inbox, limit);
        }
    }

    /// Over `limit`, counting the mailbox and what the writer holds: the mailbox is emptied and closed, and its
    /// client killed.
    fn close_if_over(&self, inbox: &mut Inbox, limit: BufferLimit) -> bool {
        let used = (inbox.bytes + self.client.omem.load(Ordering::Relaxed)) as u64;
        if !limit.exceeded(used, &mut inbox.soft_since, Instant::now()) {
            return false;
        }
        *inbox = Inbox { closed: true, ..Inbox::default() };
        self.client.mail.store(0, Ordering::Relaxed);
        tracing::warn!(
            "Client id={} addr={} closed for overcoming of output buffer limits.",
            self.client.id,
            self.client.addr
        );
        self.client.kill();
        true
    }

    pub fn is_empty(&self) -> bool {
        self.inbox.lock().messages.is_empty()
    }

    /// Moves waiting messages into `out`, encoded in its protocol, until `out` holds `max` bytes or none is left.
    pub fn drain_into(&self, out: &mut Reply, max: usize) {
        let mut inbox = self.inbox.lock();
        while out.len() < max {
            let Some(msg) = inbox.messages.pop_front() else { break };
            inbox.bytes -= msg.size();
            msg.write(out);
        }
        self.client.mail.store(inbox.bytes, Ordering::Relaxed);
    }

    /// Inserts every waiting message into `out` at byte `at`: messages that arrived before or while a command ran
    /// precede its reply, as in Redis (a RESP3 client publishing to its own channel gets the push, then `:1`).
    pub fn drain_before(&self, out: &mut Reply, at: usize) {
        if self.is_empty() {
            return;
        }
        let reply = out.buf.split_off(at);
        self.drain_into(out, usize::MAX);
        out.buf.unsplit(reply);
    }

    /// Waits for a delivery to the mailbox, if there is one; never returns otherwise.
    pub async fn wait(mailbox: Option<&Mailbox>) {
        match mailbox {
            Some(m) => m.notify.notified().await,
            None => std::future::pending().await,
        }
    }
}

type Subscribers = HashMap<Bytes, Vec<Arc<Mailbox>>>;

#[derive(Default)]
struct Maps {
    channels: Subscribers,
    patterns: Subscribers,
    shard: Subscribers,
}

impl Maps {
    fn of(&self, kind: Kind) -> &Subscribers {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> &mut Subscribers {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }
}

/// The server-wide registry: which mailboxes receive what. Held by `Server`; any thread may publish.
#[derive(Default)]
pub struct PubSub {
    maps: RwLock<Maps>,
    /// Subscriptions to channels and patterns, and to shard channels: a publish that nobody can receive returns
    /// without taking the registry lock (keyspace notifications publish on every write).
    subscriptions: AtomicUsize,
    shard_subscriptions: AtomicUsize,
    limit: RwLock<BufferLimit>,
}

impl PubSub {
    /// The pubsub class of `client-output-buffer-limit` (CONFIG SET applies it to the next message).
    pub fn set_limit(&self, limit: BufferLimit) {
        *self.limit.write() = limit;
    }

    /// The pubsub class of `client-output-buffer-limit`.
    pub fn limit(&self) -> BufferLimit {
        *self.limit.read()
    }

    fn counter(&self, kind: Kind) -> &AtomicUsize {
        match kind {
            Kind::Shard => &self.shard_subscriptions,
            _ => &self.subscriptions,
        }
    }

    fn add(&self, kind: Kind, name: &Bytes, mailbox: &Arc<Mailbox>) {
        let mut maps = self.maps.write();
        maps.of_mut(kind).entry(name.clone()).or_default().push(mailbox.clone());
        self.counter(kind).fetch_add(1, Ordering::Release);
    }

    fn remove<'a>(&self, kind: Kind, names: impl IntoIterator<Item = &'a Bytes>, mailbox: &Arc<Mailbox>) {
        let mut maps = self.maps.write();
        let map = maps.of_mut(kind);
        for name in names {
            let Some(list) = map.get_mut(name) else { continue };
            let before = list.len();
            list.retain(|m| !Arc::ptr_eq(m, mailbox));
            self.counter(kind).fetch_sub(before - list.len(), Ordering::Release);
            if list.is_empty() {
                map.remove(name);
            }
        }
    }

    /// True when some client subscribes to a channel or a pattern: a publisher that must build its channel name
    /// first (keyspace notifications) skips the work when nobody listens.
    pub fn any(&self) -> bool {
        self.subscriptions.load(Ordering::Acquire) != 0
    }

    /// PUBLISH: delivers to the channel's subscribers, then to every client whose pattern matches the channel
    /// (once per matching pattern), and returns how many deliveries that made, as Redis counts receivers.
    pub fn publish(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.subscriptions.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let maps = self.maps.read();
        let limit = *self.limit.read();
        // Copied once, on the first delivery, and shared by every receiver.
        let mut copies: Option<(Bytes, Bytes)> = None;
        let mut shared =
            || copies.get_or_insert_with(|| (Bytes::copy_from_slice(channel), Bytes::copy_from_slice(message))).clone();
        each_receiver(&maps, channel, |m, pattern| {
            let (channel, payload) = shared();
            let (kind, pattern) = match pattern {
                Some(p) => (Kind::Pattern, p.clone()),
                None => (Kind::Channel, Bytes::new()),
            };
            m.push(Message { kind, pattern, channel, payload }, limit);
        })
    }

    /// How many deliveries a PUBLISH to `channel` would make now (PUBLISH's reply when the message itself is
    /// delivered a moment later, see `crate::notify::publish_in_order`).
    pub fn receivers(&self, channel: &[u8]) -> usize {
        if self.subscriptions.load(Ordering::Acquire) == 0 {
            return 0;
        }
        each_receiver(&self.maps.read(), channel, |_, _| {})
    }

    /// SPUBLISH: delivers to the shard channel's subscribers only (patterns never match shard channels).
    pub fn publish_shard(&self, channel: &[u8], message: &[u8]) -> usize {
        if self.shard_subscriptions.load(Ordering::Acquire) == 0 {
            return 0;
        }
        let maps = self.maps.read();
        let Some(list) = maps.shard.get(channel) else { return 0 };
        let limit = *self.limit.read();
        let (channel, payload) = (Bytes::copy_from_slice(channel), Bytes::copy_from_slice(message));
        for m in list {
            m.push(
                Message {
                    kind: Kind::Shard,
                    pattern: Bytes::new(),
                    channel: channel.clone(),
                    payload: payload.clone(),
                },
                limit,
            );
        }
        list.len()
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: the channels with subscribers, those matching `pattern` if given.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let maps = self.maps.read();
        maps.of(kind).keys().filter(|c| pattern.is_none_or(|p| glob_match(p, c, false))).cloned().collect()
    }

    /// PUBSUB NUMSUB / SHARDNUMSUB: the subscribers of one channel (pattern subscriptions not counted).
    pub fn subscribers(&self, kind: Kind, name: &[u8]) -> usize {
        self.maps.read().of(kind).get(name).map_or(0, Vec::len)
    }

    /// The clients holding a subscription `revoked(client, kind, name)` refuses (ACL SETUSER taking channels
    /// away), each once.
    pub fn clients_with(&self, mut revoked: impl FnMut(&ClientInfo, Kind, &[u8]) -> bool) -> Vec<Arc<ClientInfo>> {
        let maps = self.maps.read();
        let mut out: Vec<Arc<ClientInfo>> = Vec::new();
        for kind in [Kind::Pattern, Kind::Channel, Kind::Shard] {
            for (name, list) in maps.of(kind) {
                for m in list {
                    if !out.iter().any(|c| c.id == m.client.id) && revoked(&m.client, kind, name) {
                        out.push(m.client.clone());
                    }
                }
            }
        }
        out
    }

    /// Distinct names with subscribers: channels, patterns (PUBSUB NUMPAT), shard channels (INFO stats).
    pub fn counts(&self) -> (usize, usize, usize) {
        let maps = self.maps.read();
        (maps.channels.len(), maps.patterns.len(), maps.shard.len())
    }
}

/// Calls `f` for every receiver of a message on `channel`, in Redis' order: the channel's subscribers, then the
/// clients whose pattern matches it, once per pattern (with the pattern). Returns how many it called.
fn each_receiver(maps: &Maps, channel: &[u8], mut f: impl FnMut(&Arc<Mailbox>, Option<&Bytes>)) -> usize {
    let mut receivers = 0;
    if let Some(list) = maps.channels.get(channel) {
        for m in list {
            f(m, None);
            receivers += 1;
        }
    }
    for (pattern, list) in &maps.patterns {
        if !glob_match(pattern, channel, false) {
            continue;
        }
        for m in list {
            f(m, Some(pattern));
            receivers += 1;
        }
    }
    receivers
}

/// What one connection subscribed to; owned by its writer task. Dropping it (disconnect) unsubscribes all.
pub struct Subscriber {
    registry: Arc<PubSub>,
    pub mailbox: Arc<Mailbox>,
    channels: BTreeSet<Bytes>,
    /// In subscription order: Redis 7.0 keeps a client's patterns in a list, and PUNSUBSCRIBE without arguments
    /// answers in that order.
    patterns: Vec<Bytes>,
    shard: BTreeSet<Bytes>,
}

impl Subscriber {
    pub fn new(registry: Arc<PubSub>, client: Arc<ClientInfo>) -> Subscriber {
        let mailbox = Arc::new(Mailbox::new(client.clone()));
        *client.mailbox.lock() = Some(Arc::downgrade(&mailbox));
        Subscriber { registry, mailbox, channels: BTreeSet::new(), patterns: Vec::new(), shard: BTreeSet::new() }
    }

    /// Subscribes to `name`; false when already subscribed.
    pub fn subscribe(&mut self, kind: Kind, name: &Bytes) -> bool {
        let added = match kind {
            Kind::Channel => self.channels.insert(name.clone()),
            Kind::Pattern => {
                !self.patterns.contains(name) && {
                    self.patterns.push(name.clone());
                    true
                }
            }
            Kind::Shard => self.shard.insert(name.clone()),
        };
        if added {
            self.registry.add(kind, name, &self.mailbox);
            self.update_counts();
        }
        added
    }

    /// Unsubscribes from `name`; false when not subscribed.
    pub fn unsubscribe(&mut self, kind: Kind, name: &Bytes) -> bool {
        let removed = match kind {
            Kind::Channel => self.channels.remove(name),
            Kind::Pattern => match self.patterns.iter().position(|p| p == name) {
                Some(i) => {
                    self.patterns.remove(i);
                    true
                }
                None => false,
            },
            Kind::Shard => self.shard.remove(name),
        };
        if removed {
            self.registry.remove(kind, [name], &self.mailbox);
            self.update_counts();
        }
        removed
    }

    /// The names subscribed to, in the order UNSUBSCRIBE without arguments answers.
    pub fn names(&self, kind: Kind) -> Vec<Bytes> {
        match kind {
            Kind::Channel => self.channels.iter().cloned().collect(),
            Kind::Pattern => self.patterns.clone(),
            Kind::Shard => self.shard.iter().cloned().collect(),
        }
    }

    /// The count the (un)subscribe confirmations carry: channels plus patterns, or shard channels.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// Drops every subscription without confirmations (RESET, disconnect).
    pub fn clear(&mut self) {
        let channels = std::mem::take(&mut self.channels);
        let patterns = std::mem::take(&mut self.patterns);
        let shard = std::mem::take(&mut self.shard);
        self.registry.remove(Kind::Channel, &channels, &self.mailbox);
        self.registry.remove(Kind::Pattern, &patterns, &self.mailbox);
        self.registry.remove(Kind::Shard, &shard, &self.mailbox);
        self.update_counts();
    }

    fn update_counts(&self) {
        let counts = &self.mailbox.client.subs;
        counts.channels.store(self.channels.len(), Ordering::Relaxed);
        counts.patterns.store(self.patterns.len(), Ordering::Relaxed);
        counts.shard.store(self.shard.len(), Ordering::Relaxed);
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;

    fn setup(n: usize) -> (Arc<PubSub>, Vec<Subscriber>) {
        let registry = Arc::new(PubSub::default());
        let clients = ClientRegistry::default();
        let subs = (0..n)
            .map(|_| Subscriber::new(registry.clone(), clients.register("a:1".into(), "b:2".into(), false)))
            .collect();
        (registry, subs)
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn drained(s: &Subscriber, resp3: bool) -> String {
        let mut out = Reply::new(resp3);
        s.mailbox.drain_into(&mut out, usize::MAX);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    #[test]
    fn subscribe_counts_and_duplicates() {
        let (registry, mut subs) = setup(1);
        let s = &mut subs[0];
        assert!(s.subscribe(Kind::Channel, &b("a")));
        assert!(!s.subscribe(Kind::Channel, &b("a")));
        assert!(s.subscribe(Kind::Pattern, &b("a*")));
        assert!(!s.subscribe(Kind::Pattern, &b("a*")));
        assert!(s.subscribe(Kind::Shard, &b("x")));
        assert_eq!((s.count(Kind::Channel), s.count(Kind::Pattern), s.count(Kind::Shard)), (2, 2, 1));
        assert!(s.mailbox.client.subs.any());
        assert_eq!(registry.counts(), (1, 1, 1));
        assert!(!s.unsubscribe(Kind::Channel, &b("nope")));
        assert!(s.unsubscribe(Kind::Channel, &b("a")));
        assert_eq!(s.count(Kind::Channel), 1);
        s.clear();
        assert!(!s.mailbox.client.subs.any());
        assert_eq!(registry.counts(), (0, 0, 0));
        assert_eq!(registry.subscriptions.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn publish_counts_channel_and_pattern_receivers() {
        let (registry, mut subs) = setup(3);
        subs[0].subscribe(Kind::Channel, &b("news"));
        subs[0].subscribe(Kind::Pattern, &b("n*"));
        subs[0].subscribe(Kind::Pattern, &b("*s"));
        subs[1].subscribe(Kind::Pattern, &b("n*"));
        subs[2].subscribe(Kind::Shard, &b("news"));
        assert_eq!(registry.publish(b"news", b"hi"), 4);
        assert_eq!(registry.publish(b"nope", b"x"), 2);
        assert_eq!(registry.publish(b"other", b"x"), 0);
        assert_eq!(registry.publish_shard(b"news", b"s"), 1);
        assert_eq!(registry.publish_shard(b"n", b"s"), 0);
        assert_eq!(registry.subscribers(Kind::Channel, b"news"), 1);
        assert_eq!(registry.subscribers(Kind::Shard, b"news"), 1);
        assert_eq!(registry.counts(), (1, 2, 1));
        let mut active = registry.active(Kind::Channel, None);
        active.sort();
        assert_eq!(active, vec![b("news")]);
        assert!(registry.active(Kind::Channel, Some(b"x*")).is_empty());
        assert_eq!(
            drained(&subs[1], false),
            "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n\
             *4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnope\r\n$1\r\nx\r\n"
        );
        assert_eq!(drained(&subs[2], true), ">3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$1\r\ns\r\n");
        // The channel subscription is delivered first, then the pattern ones.
        assert!(drained(&subs[0], false).starts_with("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n*4\r\n"));
        // Disconnecting leaves the registry.
        subs.clear();
        assert_eq!(registry.counts(), (0, 0, 0));
        assert_eq!(registry.publish(b"news", b"hi"), 0);
    }

    #[test]
    fn patterns_unsubscribe_in_subscription_order() {
        let (_registry, mut subs) = setup(1);
        for p in ["z*", "a*", "m*"] {
            subs[0].subscribe(Kind::Pattern, &b(p));
        }
        assert_eq!(subs[0].names(Kind::Pattern), vec![b("z*"), b("a*"), b("m*")]);
    }

    #[test]
    fn drain_before_puts_messages_ahead_of_the_reply() {
        let (registry, mut subs) = setup(1);
        subs[0].subscribe(Kind::Channel, &b("c"));
        registry.publish(b"c", b"m");
        let mut out = Reply::new(true);
        out.simple("X");
        let mark = out.len();
        out.int(1);
        subs[0].mailbox.drain_before(&mut out, mark);
        assert_eq!(&out.buf[..], b"+X\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n:1\r\n");
    }

    #[test]
    fn hard_limit_closes_the_mailbox_and_kills_the_client() {
        let (registry, mut subs) = setup(1);
        registry.set_limit(BufferLimit { hard: 1000, soft: 0, soft_secs: 0 });
        subs[0].subscribe(Kind::Channel, &b("c"));
        let big = vec![b'x'; 400];
        assert_eq!(registry.publish(b"c", &big), 1);
        assert_eq!(registry.publish(b"c", &big), 1);
        assert!(!subs[0].mailbox.client.is_killed());
        registry.publish(b"c", &big);
        assert!(subs[0].mailbox.client.is_killed());
        assert!(subs[0].mailbox.is_empty());
        registry.publish(b"c", &big);
        assert!(subs[0].mailbox.is_empty());
    }

    #[test]
    fn soft_limit_needs_its_seconds() {
        let limit = BufferLimit { hard: 0, soft: 100, soft_secs: 2 };
        let t0 = Instant::now();
        let mut since = None;
        assert!(!limit.exceeded(150, &mut since, t0));
        assert!(!limit.exceeded(150, &mut since, t0 + Duration::from_secs(2)));
        assert!(limit.exceeded(150, &mut since, t0 + Duration::from_secs(3)));
        // Going below the soft limit restarts the clock.
        assert!(!limit.exceeded(50, &mut since, t0 + Duration::from_secs(3)));
        assert_eq!(since, None);
        assert!(!limit.exceeded(150, &mut since, t0 + Duration::from_secs(4)));
        assert!(!BufferLimit::default().exceeded(u64::MAX, &mut None, t0));
    }

    #[test]
    fn subscriber_mode_commands() {
        assert!(allowed_in_subscriber_mode("ping"));
        assert!(allowed_in_subscriber_mode("reset"));
        assert!(!allowed_in_subscriber_mode("get"));
        assert!(!allowed_in_subscriber_mode("pubsub|channels"));
    }
}
