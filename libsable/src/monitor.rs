//! MONITOR: the registry of monitoring connections and the lines fed to them.
//!
//! As in Redis 7.0 (`replicationFeedMonitors`, called from `call()`), every command that runs is sent to every
//! monitor once it has run, as one status line:
//!
//! ```text
//! +1700000000.123456 [0 127.0.0.1:50412] "set" "key" "va\"lue\n"
//! ```
//!
//! the time the line is made (seconds and microseconds), the database the client has selected after the command
//! (SELECT shows its new one), the client's `ip:port` (`unix:<path>` for a Unix-socket client), and each argument
//! quoted as Redis' `sdscatrepr` quotes it, with the secrets Redis redacts replaced by `(redacted)` (AUTH, HELLO …
//! AUTH; the same rules as the slow log). Not fed: commands refused before they run (unknown, wrong arity,
//! NOAUTH, not allowed in the context), commands queued by MULTI (fed when EXEC runs them, before EXEC's own
//! line), admin commands and those flagged `skip_monitor`, and a blocking command running again after a wake-up
//! (it was fed once, when it first ran). Script runners (EVAL, FCALL…) are fed before their script runs, and the
//! commands a script calls show `lua` as their origin (`[0 lua] "set" …`).
//!
//! Delivery: monitors may live on any worker thread. A line is built once and pushed into each monitor's mailbox
//! (`crate::pubsub::Mailbox`, shared with its pub/sub messages so that both keep their order), whose writer task
//! writes it, so the thread running the command never waits for a slow monitor. The mailbox counts the line against
//! the client's output buffer limit: the `normal` class (`pubsub` when the client is also subscribed), as Redis
//! classes monitors. One lock around the pushes gives every monitor the same order. The line of a command the
//! monitor runs itself goes straight into its own reply buffer after the command's reply, where Redis appends it
//! (inside EXEC's reply too), except after QUIT, and is dropped while its replies are off (CLIENT REPLY OFF drops
//! every line, as in Redis).
//!
//! With no monitor, a command pays one relaxed load ([`Monitors::active`]).
//!
//! A monitor is flagged as a replica in Redis, which gives it its other rules: it may not run commands that read
//! or write the keyspace or may replicate (PUBLISH) — `Replica can't interact with the keyspace` — nor MONITOR
//! inside EXEC (a transaction's client may not block); MONITOR again is ignored without a reply; RESET ends it;
//! the idle `timeout` spares it; CLIENT LIST shows flag `O` and counts it as a `normal` client.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use crate::client::{Client, ClientInfo};
use crate::commands::{flags, Command};
use crate::pubsub::{BufferLimit, Mailbox};
use crate::resp::reply::Reply;
use crate::util::now_us;

/// One monitoring connection, as the registry sees it.
struct Sink {
    client: Arc<ClientInfo>,
    mailbox: Arc<Mailbox>,
    /// CLIENT REPLY OFF: lines are dropped, not queued.
    muted: AtomicBool,
}

/// The server's monitors. Any thread feeds them.
#[derive(Default)]
pub struct Monitors {
    /// How many monitors are registered: the one load a command makes when there is none.
    count: AtomicUsize,
    sinks: Mutex<Vec<Arc<Sink>>>,
    /// The `normal` and `pubsub` classes of `client-output-buffer-limit`.
    limits: RwLock<(BufferLimit, BufferLimit)>,
}

/// A connection's registration as a monitor, kept in its `Client`. Dropping it (RESET, disconnect) ends it.
pub struct Monitor {
    registry: Arc<Monitors>,
    sink: Arc<Sink>,
}

impl Monitor {
    /// CLIENT REPLY OFF (true) or ON: whether lines are dropped instead of sent.
    pub fn set_muted(&self, muted: bool) {
        self.sink.muted.store(muted, Ordering::Relaxed);
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let mut sinks = self.registry.sinks.lock();
        sinks.retain(|s| !Arc::ptr_eq(s, &self.sink));
        self.registry.count.store(sinks.len(), Ordering::Relaxed);
        self.sink.client.monitor.store(false, Ordering::Relaxed);
    }
}

impl Monitors {
    /// The `normal` and `pubsub` classes of `client-output-buffer-limit` (CONFIG SET applies them to the next line).
    pub fn set_limits(&self, normal: BufferLimit, pubsub: BufferLimit) {
        *self.limits.write() = (normal, pubsub);
    }

    /// True when some client monitors: the only check a command makes when none does.
    #[inline]
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// MONITOR: lines go to `mailbox` (the client's pub/sub mailbox) until the returned registration is dropped.
    pub fn register(self: &Arc<Self>, client: Arc<ClientInfo>, mailbox: Arc<Mailbox>) -> Monitor {
        client.monitor.store(true, Ordering::Relaxed);
        let sink = Arc::new(Sink { client, mailbox, muted: AtomicBool::new(false) });
        let mut sinks = self.sinks.lock();
        sinks.push(sink.clone());
        self.count.store(sinks.len(), Ordering::Relaxed);
        Monitor { registry: self.clone(), sink }
    }

    /// Feeds the command `cmd` (run as `argv` by `client`) to every monitor, unless Redis would not show it.
    /// Called after the command ran and wrote its reply into `out`, and only when [`Monitors::active`].
    #[cold]
    #[inline(never)]
    pub fn feed(&self, client: &Client, out: &mut Reply, cmd: &Command, argv: &[Bytes]) {
        // Administrative commands are too dangerous to show (Redis); a woken blocking command was fed when it
        // first ran.
        if cmd.has(flags::ADMIN | flags::SKIP_MONITOR) || client.woken {
            return;
        }
        self.feed_line(client, out, &cmd.name, argv);
    }

    /// Feeds a script runner (EVAL, EVALSHA, FCALL and their `_RO` forms, flagged `skip_monitor`) before its
    /// script runs, as Redis' `evalCommand` does, so the commands the script calls come after it.
    #[cold]
    #[inline(never)]
    pub fn feed_script_runner(&self, client: &Client, out: &mut Reply, name: &str, argv: &[Bytes]) {
        self.feed_line(client, out, name, argv);
    }

    fn feed_line(&self, client: &Client, out: &mut Reply, name: &str, argv: &[Bytes]) {
        let hidden = crate::commands::diagnostics::redacted(name, argv);
        let mut args = Vec::with_capacity(argv.iter().map(|a| a.len() + 3).sum());
        for (j, arg) in argv.iter().enumerate() {
            if j > 0 {
                args.push(b' ');
            }
            if hidden.contains(&j) {
                args.extend_from_slice(b"\"(redacted)\"");
            } else {
                quote_into(&mut args, arg);
            }
        }
        // A command a script calls comes from Redis' script client.
        let origin = if client.in_script { "lua".to_string() } else { origin(&client.info) };
        let own = client.monitor.as_ref().map(|m| &m.sink);
        let (normal, pubsub) = *self.limits.read();
        // Under the lock, so that every monitor receives the lines in one order, the order of their times.
        let sinks = self.sinks.lock();
        let line = Bytes::from(line(now_us(), client.db, &origin, &args));
        for sink in sinks.iter() {
            if own.is_some_and(|own| Arc::ptr_eq(own, sink)) {
                // Not after QUIT's reply, nor while replies are off (Redis adds nothing to such a client's output).
                if !client.replies.silenced() && !client.close_after_reply {
                    out.raw(&line);
                }
            } else if !sink.muted.load(Ordering::Relaxed) {
                let limit = if sink.client.subs.any() { pubsub } else { normal };
                sink.mailbox.push_line(line.clone(), limit);
            }
        }
    }
}

/// Whether a monitor is refused `cmd`: Redis refuses a replica (which a monitor is flagged as) every command
/// that reads or writes the keyspace or may replicate (`CMD_MAY_REPLICATE`, which COMMAND INFO does not show).
pub fn refused(cmd: &Command) -> bool {
    cmd.has(flags::READONLY | flags::WRITE)
        || matches!(cmd.name.as_str(), "publish" | "spublish" | "pfcount" | "eval" | "evalsha" | "fcall")
}

/// How a client is named in its lines: `ip:port`, or `unix:<path>` for a Unix-socket client.
fn origin(info: &ClientInfo) -> String {
    if info.is_unix {
        // A Unix-socket client's address is `<path>:0`, as in CLIENT LIST.
        format!("unix:{}", info.addr.strip_suffix(":0").unwrap_or(&info.addr))
    } else {
        info.addr.clone()
    }
}

/// One line: `+<seconds>.<microseconds> [<db> <origin>] <quoted arguments>\r\n`.
fn line(time_us: u64, db: usize, origin: &str, args: &[u8]) -> Vec<u8> {
    let mut line = format!("+{}.{:06} [{} {}] ", time_us / 1_000_000, time_us % 1_000_000, db, origin).into_bytes();
    line.reserve(args.len() + 2);
    line.extend_from_slice(args);
    line.extend_from_slice(b"\r\n");
    line
}

/// Appends `arg` in double quotes as Redis' `sdscatrepr` writes it: `\\`, `\"`, `\n`, `\r`, `\t`, `\a` and `\b`
/// escaped, other bytes outside printable ASCII as `\xHH`.
pub fn quote_into(out: &mut Vec<u8>, arg: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &c in arg {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(c),
            _ => out.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientRegistry;
    use crate::commands::table;
    use crate::pubsub::{PubSub, Subscriber};

    fn quoted(arg: &[u8]) -> String {
        let mut out = Vec::new();
        quote_into(&mut out, arg);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn arguments_are_quoted_as_sdscatrepr() {
        // Checked against redis-server 7.0.15's MONITOR output.
        assert_eq!(quoted(b"foo"), r#""foo""#);
        assert_eq!(quoted(b""), r#""""#);
        assert_eq!(quoted(b"a b"), r#""a b""#);
        assert_eq!(
            quoted(b"a\n\r\t\x07\x08\"\\\x00\x7f\xc3\xbf \xc3\xa9~"),
            r#""a\n\r\t\a\b\"\\\x00\x7f\xc3\xbf \xc3\xa9~""#
        );
        assert_eq!(quoted(b"\x01\x1f\x0b\x0c\x1b"), r#""\x01\x1f\x0b\x0c\x1b""#);
    }

    #[test]
    fn lines_carry_time_db_and_origin() {
        let made = line(1_700_000_000_000_042, 3, "127.0.0.1:5000", br#""get" "k""#);
        assert_eq!(made, b"+1700000000.000042 [3 127.0.0.1:5000] \"get\" \"k\"\r\n");
        let clients = ClientRegistry::default();
        let tcp = clients.register("[::1]:6000".into(), "[::1]:6379".into(), false);
        let unix = clients.register("/tmp/s.sock:0".into(), "/tmp/s.sock:0".into(), true);
        assert_eq!(origin(&tcp), "[::1]:6000");
        assert_eq!(origin(&unix), "unix:/tmp/s.sock");
    }

    fn client(clients: &ClientRegistry) -> Client {
        let user = std::sync::Arc::new(crate::acl::User::new("default".into(), crate::acl::UserState::default_user()));
        Client::new(clients.register("127.0.0.1:5000".into(), "127.0.0.1:6379".into(), false), user, true)
    }

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    fn drained(sub: &Subscriber) -> String {
        let mut out = Reply::new(false);
        sub.mailbox.drain_into(&mut out, usize::MAX);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    fn masked(s: &str) -> String {
        s.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once(" [") {
                Some((time, rest)) if time.starts_with('+') && time.contains('.') => format!("+T [{rest}"),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn feeds_every_monitor_but_not_what_redis_hides() {
        let monitors = Arc::new(Monitors::default());
        let pubsub = Arc::new(PubSub::default());
        let clients = ClientRegistry::default();
        assert!(!monitors.active());
        let watcher = client(&clients);
        let sub = Subscriber::new(pubsub.clone(), watcher.info.clone());
        let registration = monitors.register(watcher.info.clone(), sub.mailbox.clone());
        assert!(monitors.active());
        assert!(watcher.info.monitor.load(Ordering::Relaxed));

        let mut runner = client(&clients);
        runner.select(2);
        let mut out = Reply::new(false);
        let t = table();
        let feed = |runner: &Client, out: &mut Reply, words: &[&str]| {
            let argv = argv(words);
            let cmd = crate::commands::resolve(&argv).unwrap();
            monitors.feed(runner, out, cmd, &argv);
        };
        feed(&runner, &mut out, &["SET", "k", "v w"]);
        feed(&runner, &mut out, &["config", "set", "maxmemory", "1"]);
        feed(&runner, &mut out, &["auth", "secret"]);
        feed(&runner, &mut out, &["hello", "3", "auth", "default", "pw", "setname", "x"]);
        runner.woken = true;
        feed(&runner, &mut out, &["blpop", "l", "0"]);
        runner.woken = false;
        assert!(t.lookup(b"monitor").is_some_and(|c| c.has(flags::ADMIN)));
        assert!(out.is_empty());
        assert_eq!(
            masked(&drained(&sub)),
            "+T [2 127.0.0.1:5000] \"SET\" \"k\" \"v w\"\n\
             +T [2 127.0.0.1:5000] \"auth\" \"(redacted)\"\n\
             +T [2 127.0.0.1:5000] \"hello\" \"3\" \"auth\" \"(redacted)\" \"(redacted)\" \"setname\" \"x\""
        );

        // Muted (CLIENT REPLY OFF): nothing is queued.
        registration.set_muted(true);
        feed(&runner, &mut out, &["get", "k"]);
        assert_eq!(drained(&sub), "");
        registration.set_muted(false);

        drop(registration);
        assert!(!monitors.active());
        assert!(!watcher.info.monitor.load(Ordering::Relaxed));
        feed(&runner, &mut out, &["get", "k"]);
        assert_eq!(drained(&sub), "");
    }

    #[test]
    fn a_monitor_gets_its_own_line_in_its_reply_unless_silenced() {
        let monitors = Arc::new(Monitors::default());
        let pubsub = Arc::new(PubSub::default());
        let clients = ClientRegistry::default();
        let mut me = client(&clients);
        let sub = Subscriber::new(pubsub.clone(), me.info.clone());
        me.monitor = Some(monitors.register(me.info.clone(), sub.mailbox.clone()));
        let mut out = Reply::new(false);
        out.simple("PONG");
        let ping = argv(&["ping"]);
        let cmd = crate::commands::resolve(&ping).unwrap();
        monitors.feed(&me, &mut out, cmd, &ping);
        assert_eq!(masked(&String::from_utf8_lossy(&out.buf)), "+PONG\n+T [0 127.0.0.1:5000] \"ping\"");
        assert_eq!(drained(&sub), "");
        me.replies = crate::client::Replies::Off;
        out.buf.clear();
        monitors.feed(&me, &mut out, cmd, &ping);
        assert!(out.is_empty());
        me.monitor = None;
        assert!(!monitors.active());
    }

    #[test]
    fn a_slow_monitor_is_dropped_at_its_output_buffer_limit() {
        let monitors = Arc::new(Monitors::default());
        let pubsub = Arc::new(PubSub::default());
        let clients = ClientRegistry::default();
        let watcher = client(&clients);
        let sub = Subscriber::new(pubsub.clone(), watcher.info.clone());
        let _registration = monitors.register(watcher.info.clone(), sub.mailbox.clone());
        monitors.set_limits(BufferLimit { hard: 1000, soft: 0, soft_secs: 0 }, BufferLimit::default());
        let runner = client(&clients);
        let big = argv(&["set", "k", &"x".repeat(400)]);
        let cmd = crate::commands::resolve(&big).unwrap();
        let mut out = Reply::new(false);
        monitors.feed(&runner, &mut out, cmd, &big);
        monitors.feed(&runner, &mut out, cmd, &big);
        assert!(!watcher.info.is_killed());
        monitors.feed(&runner, &mut out, cmd, &big);
        assert!(watcher.info.is_killed());
        assert!(sub.mailbox.is_empty());
    }

    #[test]
    fn monitors_may_not_touch_the_keyspace() {
        let t = table();
        for name in ["get", "set", "publish", "spublish", "dbsize", "keys", "flushall"] {
            assert!(refused(t.lookup(name.as_bytes()).unwrap()), "{name}");
        }
        for name in ["ping", "echo", "multi", "exec", "watch", "subscribe", "reset", "quit", "select", "auth"] {
            assert!(!refused(t.lookup(name.as_bytes()).unwrap()), "{name}");
        }
    }
}
