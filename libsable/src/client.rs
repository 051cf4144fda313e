//! Per-connection client state, and the server-wide registry CLIENT LIST / CLIENT KILL / INFO clients read.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::pubsub::{SubCounts, Subscriber};
use crate::util::now_ms;

/// The part of a client other threads may read (CLIENT LIST) or signal (CLIENT KILL).
pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub created: Instant,
    pub name: Mutex<Option<String>>,
    pub db: AtomicUsize,
    pub resp: AtomicU8,
    /// Last interaction, ms since the epoch (idle time).
    pub last_active_ms: AtomicU64,
    /// The last command run: its index in the command table plus one (0: none yet).
    pub last_cmd: AtomicUsize,
    /// Queries not yet executed and reply bytes not yet written, for CLIENT LIST.
    pub qbuf: AtomicUsize,
    pub omem: AtomicUsize,
    /// Pub/sub messages and MONITOR lines waiting in the client's mailbox (`crate::pubsub`): output too.
    pub mail: AtomicUsize,
    pub blocked: AtomicBool,
    /// Commands queued by MULTI (-1: not in MULTI), for CLIENT LIST.
    pub multi_len: AtomicI64,
    pub killed: AtomicBool,
    pub kill_signal: Notify,
    /// CLIENT UNBLOCK: wakes the client's blocked command; `unblock_error` says whether it fails with
    /// `-UNBLOCKED` (ERROR) or ends as if it timed out (TIMEOUT).
    pub unblock_signal: Notify,
    pub unblock_error: AtomicBool,
    /// The reader saw the peer close the connection (a blocked command stops waiting).
    pub peer_gone: Notify,
    pub is_unix: bool,
    /// MONITOR: the client receives every command (CLIENT LIST flag `O`, no idle timeout).
    pub monitor: AtomicBool,
    /// Pub/sub subscription counts (CLIENT LIST `sub=`/`psub=`/`ssub=`, flag `P`, RESP2 subscriber mode).
    pub subs: SubCounts,
    /// AUTH passed, or no password is required. Shared with the reader, which holds an unauthenticated client to
    /// Redis' tighter request limits.
    pub authenticated: AtomicBool,
    /// AUTH and HELLO requests the reader has passed on and the writer has not run yet: the requests after them
    /// are parsed with the normal limits, as Redis parses them after running the AUTH.
    pub auth_in_flight: AtomicUsize,
    /// CLIENT NO-EVICT ON (CLIENT LIST flag `e`). SableDB never evicts clients; the flag is kept for Redis' replies.
    pub no_evict: AtomicBool,
    /// The ACL user the client is authenticated as (CLIENT LIST `user=`, CLIENT KILL USER, ACL DELUSER); `None`
    /// until the connection's [`Client`] exists, shown as `default`. The writer's own copy is [`Client::user`].
    pub user: Mutex<Option<Arc<crate::acl::User>>>,
    /// CLIENT TRACKING flags (`crate::tracking::FLAG_*`: CLIENT LIST `t`, `R`, `B`) and the redirect id.
    pub tracking: AtomicU8,
    pub tracking_redir: AtomicU64,
    /// The connection closed (a tracking client redirecting here finds its redirection broken).
    pub gone: AtomicBool,
    /// The connection's pub/sub mailbox once it has one (invalidations for it are delivered there).
    pub mailbox: Mutex<Option<std::sync::Weak<crate::pubsub::Mailbox>>>,
}

impl ClientInfo {
    /// Asks the connection to close; it stops after the command it is running.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.kill_signal.notify_waiters();
        self.kill_signal.notify_one();
    }

    /// The name of the client's user.
    pub fn user_name(&self) -> String {
        self.user.lock().as_ref().map_or_else(|| "default".to_string(), |u| u.name.clone())
    }

    /// True when the client is authenticated as `user` (the same user, not one of the same name).
    pub fn is_user(&self, user: &Arc<crate::acl::User>) -> bool {
        self.user.lock().as_ref().is_some_and(|u| Arc::ptr_eq(u, user))
    }

    /// Output not yet written to the socket: what the writer holds and what waits in the mailbox (CLIENT
    /// LIST's `omem`).
    pub fn output_bytes(&self) -> usize {
        self.omem.load(Ordering::Relaxed) + self.mail.load(Ordering::Relaxed)
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// The client's type for CLIENT LIST / CLIENT KILL `TYPE`.
    pub fn kind(&self) -> &'static str {
        if self.subs.any() {
            "pubsub"
        } else {
            "normal"
        }
    }

    /// One CLIENT LIST / CLIENT INFO line, in Redis 7.0's field order.
    /// The CLIENT LIST line. `running`: bytes of the command this client is running now (the caller's own
    /// line), counted in `qbuf` as Redis does, whose query buffer still holds the command while it runs.
    pub fn describe(&self, running: usize) -> String {
        let now = now_ms();
        let idle = now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000;
        // Redis' flag letters in its order: O (monitor), P (subscribed), x (in MULTI), b (blocked), U (Unix
        // socket), e (no-evict); N when none applies.
        let multi = self.multi_len.load(Ordering::Relaxed);
        let mut flags = String::new();
        if self.monitor.load(Ordering::Relaxed) {
            flags.push('O');
        }
        if self.subs.any() {
            flags.push('P');
        }
        if multi >= 0 {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        let tracking = self.tracking.load(Ordering::Relaxed);
        for (bit, letter) in [
            (crate::tracking::FLAG_ON, 't'),
            (crate::tracking::FLAG_BROKEN_REDIR, 'R'),
            (crate::tracking::FLAG_BCAST, 'B'),
        ] {
            if tracking & bit != 0 {
                flags.push(letter);
            }
        }
        if self.is_unix {
            flags.push('U');
        }
        if self.no_evict.load(Ordering::Relaxed) {
            flags.push('e');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} \
             qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r \
             cmd={} user={} redir={} resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.id + 7,
            self.name.lock().clone().unwrap_or_default(),
            self.created.elapsed().as_secs(),
            idle,
            flags,
            self.db.load(Ordering::Relaxed),
            self.subs.channels.load(Ordering::Relaxed),
            self.subs.patterns.load(Ordering::Relaxed),
            self.subs.shard.load(Ordering::Relaxed),
            multi,
            self.qbuf.load(Ordering::Relaxed) + running,
            self.output_bytes(),
            16384 + self.output_bytes(),
            match self.last_cmd.load(Ordering::Relaxed) {
                0 => "NULL",
                i => crate::commands::table().entries.get(i - 1).map(|c| c.name.as_str()).unwrap_or("NULL"),
            },
            self.user_name(),
            if tracking & crate::tracking::FLAG_ON != 0 {
                self.tracking_redir.load(Ordering::Relaxed) as i64
            } else {
                -1
            },
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// Every connected client by id.
#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
}

impl ClientRegistry {
    /// Registers a new connection and returns its shared record.
    pub fn register(&self, addr: String, laddr: String, is_unix: bool) -> Arc<ClientInfo> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let info = Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            created: Instant::now(),
            name: Mutex::new(None),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_active_ms: AtomicU64::new(now_ms()),
            last_cmd: AtomicUsize::new(0),
            qbuf: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            mail: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
            multi_len: AtomicI64::new(-1),
            killed: AtomicBool::new(false),
            kill_signal: Notify::new(),
            unblock_signal: Notify::new(),
            unblock_error: AtomicBool::new(false),
            peer_gone: Notify::new(),
            is_unix,
            monitor: AtomicBool::new(false),
            subs: SubCounts::default(),
            authenticated: AtomicBool::new(false),
            auth_in_flight: AtomicUsize::new(0),
            no_evict: AtomicBool::new(false),
            user: Mutex::new(None),
            tracking: AtomicU8::new(0),
            tracking_redir: AtomicU64::new(0),
            gone: AtomicBool::new(false),
            mailbox: Mutex::new(None),
        });
        self.clients.lock().insert(id, info.clone());
        self.total_connections.fetch_add(1, Ordering::Relaxed);
        info
    }

    pub fn unregister(&self, id: u64) {
        if let Some(c) = self.clients.lock().remove(&id) {
            c.gone.store(true, Ordering::Release);
        }
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    pub fn blocked_count(&self) -> usize {
        self.clients.lock().values().filter(|c| c.blocked.load(Ordering::Relaxed)).count()
    }

    /// A snapshot of all clients, ordered by id.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }
}

/// What the executing connection knows about itself; owned by its writer task.
pub struct Client {
    pub info: Arc<ClientInfo>,
    /// Logical database selected with SELECT.
    pub db: usize,
    /// Set by QUIT or a fatal error: close once pending replies are written.
    pub close_after_reply: bool,
    /// Set by a blocking command that found nothing: the writer suspends the client until one of the keys is
    /// signalled, the deadline passes or CLIENT UNBLOCK, then runs the command again.
    pub block: Option<Block>,
    /// True while a blocking command runs again after a wake-up: keys of the wrong type count as empty then
    /// (Redis only checks types when the command first runs).
    pub woken: bool,
    /// A blocked XREAD's IDs (`ms`, `seq`) per stream as resolved when it first ran (`$` is the last ID then), kept
    /// across its wake-ups.
    pub xread_from: Option<Vec<(u64, u64)>>,
    /// The rest of a large reply, written by the connection chunk by chunk (see `commands::chunked`).
    pub stream: Option<Box<dyn crate::commands::chunked::ReplyStream>>,
    /// Between MULTI and EXEC: the queued commands.
    pub multi: Option<crate::commands::transaction::Multi>,
    /// True while EXEC runs the queued commands (nothing may block).
    pub in_exec: bool,
    /// True while a Lua script or function runs its commands.
    pub in_script: bool,
    /// The server was over `maxmemory` when the running command arrived (Redis' `pre_command_oom_state`).
    pub oom_at_start: bool,
    /// The keys WATCHed, if any.
    pub watching: Option<crate::commands::transaction::Watching>,
    /// Pub/sub subscriptions and the mailbox publishers (and MONITOR) deliver to; created by the first subscribe
    /// or MONITOR.
    pub pubsub: Option<Subscriber>,
    /// CLIENT REPLY: whether replies are sent.
    pub replies: Replies,
    /// Set by MONITOR (its lines arrive in the `pubsub` mailbox); RESET or disconnecting drops it.
    pub monitor: Option<crate::monitor::Monitor>,
    /// The ACL user whose permissions the dispatcher checks (shared with every client of that user, so rule
    /// changes apply at once).
    pub user: Arc<crate::acl::User>,
    /// CLIENT TRACKING: the client's registration in the tracking table, and CLIENT CACHING YES/NO given for
    /// the next command.
    pub tracking: Option<Arc<crate::tracking::Tracker>>,
    pub caching: bool,
}

/// The CLIENT REPLY state. Pushes (pub/sub messages and subscription confirmations) are sent in every state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replies {
    On,
    Off,
    /// CLIENT REPLY SKIP ran in this command: the next command's reply is dropped.
    SkipNext,
    /// The running command's reply is dropped.
    Skip,
}

impl Replies {
    /// True when the reply of the command that just ran is dropped.
    pub fn silenced(self) -> bool {
        matches!(self, Replies::Off | Replies::Skip)
    }

    /// The state for the next command: a SKIP lasts one command.
    pub fn after_command(self) -> Replies {
        match self {
            Replies::Skip => Replies::On,
            Replies::SkipNext => Replies::Skip,
            other => other,
        }
    }
}

/// What a blocked command waits for.
pub struct Block {
    /// Physical database of the keys.
    pub db: u16,
    pub keys: Vec<Vec<u8>>,
    /// None: wait forever.
    pub deadline: Option<Instant>,
    /// The reply when the wait ends unserved (timeout, CLIENT UNBLOCK).
    pub unserved: Unserved,
}

/// The reply of a blocked command that was not served.
#[derive(Clone, Copy)]
pub enum Unserved {
    /// The pops and moves (BLMOVE too, as in Redis).
    NullArray,
    /// WAIT: the number of replicas that acknowledged.
    Count(i64),
}

impl Unserved {
    pub fn write(self, out: &mut crate::resp::reply::Reply) {
        match self {
            Unserved::NullArray => out.null_array(),
            Unserved::Count(n) => out.int(n),
        }
    }
}

impl Client {
    pub fn new(info: Arc<ClientInfo>, user: Arc<crate::acl::User>, authenticated: bool) -> Self {
        info.authenticated.store(authenticated, Ordering::Relaxed);
        *info.user.lock() = Some(user.clone());
        Self {
            info,
            db: 0,
            close_after_reply: false,
            block: None,
            woken: false,
            xread_from: None,
            stream: None,
            multi: None,
            in_exec: false,
            in_script: false,
            oom_at_start: false,
            watching: None,
            pubsub: None,
            replies: Replies::On,
            monitor: None,
            user,
            tracking: None,
            caching: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn authenticated(&self) -> bool {
        self.info.authenticated.load(Ordering::Relaxed)
    }

    pub fn set_authenticated(&self, yes: bool) {
        self.info.authenticated.store(yes, Ordering::Relaxed);
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }
}
