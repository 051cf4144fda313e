//! The server: shared state every connection sees, and start-up (storage, listeners, workers, background jobs).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use crate::client::ClientRegistry;
use crate::commands::collection::ScanCursors;
use crate::commands::diagnostics::Diagnostics;
use crate::commands::error::CmdError;
use crate::config::Config;
use crate::monitor::Monitors;
use crate::notify::Notifier;
use crate::pubsub::PubSub;
use crate::storage::{Store, WalFsync};
use crate::util::now_ms;

/// Server-wide counters for INFO stats.
#[derive(Default)]
pub struct Stats {
    pub commands_processed: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub error_replies: AtomicU64,
    /// Error prefix (`ERR`, `WRONGTYPE`…) → count, for INFO errorstats.
    pub errors_by_prefix: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Stats {
    pub fn record_error(&self, e: &CmdError) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let msg = e.message();
        let prefix = msg.split(' ').next().unwrap_or("ERR").to_string();
        *self.errors_by_prefix.lock().entry(prefix).or_insert(0) += 1;
    }

    pub fn hit(&self, found: bool) {
        if found {
            self.keyspace_hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.keyspace_misses.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for c in [
            &self.commands_processed,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.error_replies,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.errors_by_prefix.lock().clear();
    }
}

/// SAVE and BGSAVE state (INFO persistence). SableDB has no RDB file: a save syncs the WAL and flushes every
/// memtable to SST files (see [`Store::save`](crate::storage::Store::save)).
pub struct SaveState {
    /// A BGSAVE thread is running (`rdb_bgsave_in_progress`).
    pub in_progress: AtomicBool,
    /// Saves started, SAVE and BGSAVE (`rdb_saves`).
    pub count: AtomicU64,
    /// The last BGSAVE failed (`rdb_last_bgsave_status:err`).
    pub last_bgsave_failed: AtomicBool,
    /// Seconds the last BGSAVE took, -1 before the first (`rdb_last_bgsave_time_sec`).
    pub last_bgsave_secs: AtomicI64,
    /// Seconds since the epoch when the running BGSAVE started (`rdb_current_bgsave_time_sec`).
    pub started_at: AtomicU64,
}

impl Default for SaveState {
    fn default() -> Self {
        SaveState {
            in_progress: AtomicBool::new(false),
            count: AtomicU64::new(0),
            last_bgsave_failed: AtomicBool::new(false),
            last_bgsave_secs: AtomicI64::new(-1),
            started_at: AtomicU64::new(0),
        }
    }
}

/// CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE. While a pause lasts, a connection about to run a command
/// it covers (ALL: every command; WRITE: write commands, EXEC of a transaction holding one, and the commands
/// Redis marks `may_replicate`) awaits its end on its task: no thread blocks. Without a pause the check is one
/// relaxed load.
#[derive(Default)]
pub struct ClientPause {
    /// End of the pause, ms since the epoch; 0: none.
    until_ms: AtomicU64,
    /// ALL (every command) rather than WRITE.
    all: AtomicBool,
    /// Serialises PAUSE and UNPAUSE.
    change: Mutex<()>,
    /// Woken by CLIENT UNPAUSE.
    pub ended: tokio::sync::Notify,
}

/// Commands Redis 7.0 flags `CMD_MAY_REPLICATE` (a WRITE pause holds them too); COMMAND INFO does not show it.
pub(crate) const MAY_REPLICATE: &[&str] = &["pfcount", "publish", "spublish", "eval", "evalsha", "fcall"];

impl ClientPause {
    /// CLIENT PAUSE: until `until_ms`; a pause already running keeps the later end and the wider mode, as Redis.
    pub fn pause(&self, until_ms: u64, all: bool) {
        let _change = self.change.lock();
        let now = now_ms();
        let current = self.until_ms.load(Ordering::Relaxed);
        if current > now {
            self.all.fetch_or(all, Ordering::Relaxed);
            self.until_ms.store(current.max(until_ms), Ordering::Release);
        } else {
            self.all.store(all, Ordering::Relaxed);
            self.until_ms.store(until_ms, Ordering::Release);
        }
    }

    /// CLIENT UNPAUSE: ends the pause and wakes the clients waiting on it.
    pub fn unpause(&self) {
        let _change = self.change.lock();
        self.until_ms.store(0, Ordering::Release);
        self.ended.notify_waiters();
    }

    /// True while a pause runs.
    pub fn active_now(&self) -> bool {
        let until = self.until_ms.load(Ordering::Relaxed);
        until != 0 && until > now_ms()
    }

    /// True while a pause may be running (one relaxed load: the per-command check).
    #[inline]
    pub fn maybe_active(&self) -> bool {
        self.until_ms.load(Ordering::Relaxed) != 0
    }

    /// The end of the pause if it holds `argv` (a client's next command) now.
    pub fn holds(&self, server: &Server, client: &crate::client::Client, argv: &[bytes::Bytes]) -> Option<u64> {
        let until = self.until_ms.load(Ordering::Acquire);
        if until == 0 || until <= now_ms() {
            return None;
        }
        if self.all.load(Ordering::Relaxed) {
            return Some(until);
        }
        // Scripts with a shebang and functions are judged by their flags, as Redis' `getCommandFlags` does.
        let may_replicate =
            |c: &crate::commands::Command, a: &[bytes::Bytes]| match crate::commands::scripting::declared_flags(
                server, c, a,
            ) {
                Some(flags) => !flags.iter().any(|f| f == "no-writes"),
                None => c.has(crate::commands::flags::WRITE) || MAY_REPLICATE.contains(&c.name.as_str()),
            };
        let cmd = crate::commands::resolve(argv).ok()?;
        let writes = may_replicate(cmd, argv)
            || (cmd.name == "exec"
                && client.multi.as_ref().is_some_and(|m| m.queued.iter().any(|(c, a)| may_replicate(c, a))));
        writes.then_some(until)
    }
}

/// State shared by every worker thread and connection.
pub struct Server {
    pub config: RwLock<Config>,
    pub store: Arc<Store>,
    pub clients: ClientRegistry,
    /// Pub/sub subscriptions; any thread publishes through it.
    pub pubsub: Arc<PubSub>,
    /// Keyspace notifications (`notify-keyspace-events`); storage holds it too, for `expired` and `new`.
    pub notify: Arc<Notifier>,
    /// MONITOR clients; every command is fed to them (one relaxed load when there is none).
    pub monitors: Arc<Monitors>,
    pub stats: Stats,
    pub scan_cursors: ScanCursors,
    /// SLOWLOG and LATENCY state, with the hot copies of their parameters.
    pub diag: Diagnostics,
    pub started: Instant,
    pub run_id: String,
    /// Hot copies of config values read on every request.
    pub max_bulk_len: AtomicI64,
    pub idle_timeout_secs: AtomicU64,
    /// The `normal` and `pubsub` classes of `client-output-buffer-limit`, for the writers of command replies.
    pub output_limits: RwLock<(crate::pubsub::BufferLimit, crate::pubsub::BufferLimit)>,
    /// The `requirepass` last applied to the default user (CONFIG SET requirepass changes its password, as in
    /// Redis; other CONFIG SETs leave the user alone).
    pub requirepass: RwLock<Option<String>>,
    /// Users, their permissions and the ACL log.
    pub acl: crate::acl::Acl,
    pub shutting_down: AtomicBool,
    /// Seconds since the epoch of the last successful WAL sync (LASTSAVE).
    pub last_save: Arc<AtomicU64>,
    /// SAVE and BGSAVE: a background save running, how many ran, how the last one ended.
    pub saves: Arc<SaveState>,
    /// CLIENT PAUSE: commands wait while it lasts.
    pub pause: ClientPause,
    /// Active expiry runs (DEBUG SET-ACTIVE-EXPIRE turns it off and on).
    pub active_expire: std::sync::atomic::AtomicBool,
    /// DEBUG PAUSE-CRON: active expiry and the idle-client check stop, as Redis' cron does.
    pub cron_paused: AtomicBool,
    /// Lua scripts cached by EVAL and SCRIPT LOAD.
    pub scripts: crate::scripting::ScriptCache,
    /// Function libraries (FUNCTION LOAD), kept in RocksDB.
    pub functions: crate::scripting::functions::Functions,
    pub workers: usize,
    /// `maxmemory`: whether commands that may add data are refused.
    pub memory: crate::maxmemory::MemoryLimit,
    /// `min-replicas-to-write` (with `min-replicas-max-lag`) asks for more replicas than the none SableDB has:
    /// writes are refused with `-NOREPLICAS`, as a Redis primary without enough good replicas refuses them.
    pub replicas_wanted: AtomicBool,
    /// The acceptor thread's control channel, set when it starts serving: CONFIG SET `port`, `tls-port` and `bind`
    /// send it the listeners they bound (see [`crate::net::apply_listeners`]).
    pub listener_ctl: Mutex<Option<tokio::sync::mpsc::UnboundedSender<crate::net::ListenerChange>>>,
    /// Held through a whole CONFIG SET, which applies listener changes without holding `config` (the acceptor
    /// reads it), so two CONFIG SETs cannot interleave.
    pub config_set_serial: Mutex<()>,
    /// MIGRATE's cached connections to target instances.
    pub migrate_sockets: crate::commands::migrate::SocketCache,
}

impl Server {
    /// Opens storage for a validated config.
    pub fn new(config: Config) -> Result<Server, String> {
        config.validate_all()?;
        let store = Arc::new(Store::open(&config.storage_options())?);
        let workers = match config.int("workers") {
            // One per core but one: RocksDB's flushes and compactions (and, on a small machine, the clients) need a
            // core of their own; measured on 2 cores, a second worker only competed with them (docs/performance.md).
            0 => num_cpus::get().saturating_sub(1).max(1),
            n => n as usize,
        };
        let pubsub = Arc::new(PubSub::default());
        let notify = Arc::new(Notifier::new(pubsub.clone()));
        store.set_notifier(notify.clone());
        let server = Server {
            max_bulk_len: AtomicI64::new(config.int("proto-max-bulk-len")),
            idle_timeout_secs: AtomicU64::new(config.int("timeout") as u64),
            output_limits: Default::default(),
            requirepass: RwLock::new(None),
            acl: crate::acl::Acl::new(),
            config: RwLock::new(config),
            store,
            clients: ClientRegistry::default(),
            pubsub,
            notify,
            monitors: Arc::default(),
            stats: Stats::default(),
            scan_cursors: ScanCursors::default(),
            diag: Diagnostics::new(crate::commands::memory::process_rss()),
            started: Instant::now(),
            run_id: crate::util::random_hex(40),
            shutting_down: AtomicBool::new(false),
            last_save: Arc::new(AtomicU64::new(now_ms() / 1000)),
            saves: Arc::default(),
            pause: ClientPause::default(),
            active_expire: std::sync::atomic::AtomicBool::new(true),
            cron_paused: AtomicBool::new(false),
            scripts: Default::default(),
            functions: Default::default(),
            workers,
            memory: Default::default(),
            replicas_wanted: AtomicBool::new(false),
            listener_ctl: Mutex::new(None),
            config_set_serial: Mutex::new(()),
            migrate_sockets: Default::default(),
        };
        server.config_changed();
        // Users of the ACL file replace the default ones; an error stops start-up, as in Redis.
        let aclfile = server.config.read().str("aclfile").to_string();
        if !aclfile.is_empty() {
            let text =
                std::fs::read(&aclfile).map_err(|e| format!("Error loading ACLs, opening file '{aclfile}': {e}"))?;
            server
                .acl
                .load(&aclfile, &String::from_utf8_lossy(&text))
                .map_err(|e| format!("Aborting startup because of ACL errors: {e}"))?;
        }
        server
            .functions
            .load_stored(&server.store)
            .map_err(|e| format!("loading the function libraries: {}", e.message()))?;
        Ok(server)
    }

    /// Refreshes the hot copies after CONFIG SET.
    pub fn config_changed(&self) {
        let cfg = self.config.read();
        self.max_bulk_len.store(cfg.int("proto-max-bulk-len"), Ordering::Relaxed);
        self.idle_timeout_secs.store(cfg.int("timeout") as u64, Ordering::Relaxed);
        self.pubsub.set_limit(cfg.buffer_limit("pubsub"));
        *self.output_limits.write() = (cfg.buffer_limit("normal"), cfg.buffer_limit("pubsub"));
        self.store.configure_access(
            cfg.str("maxmemory-policy").ends_with("-lfu"),
            cfg.int("lfu-log-factor").clamp(0, u32::MAX as i64) as u32,
            cfg.int("lfu-decay-time").clamp(0, u32::MAX as i64) as u32,
        );
        self.monitors.set_limits(cfg.buffer_limit("normal"), cfg.buffer_limit("pubsub"));
        self.notify.set_flags(cfg.notify_flags());
        self.diag.configure(&cfg);
        self.store.tracking.set_max_keys(cfg.int("tracking-table-max-keys").max(0) as usize);
        let pass = cfg.str("requirepass");
        let pass = (!pass.is_empty()).then(|| pass.to_string());
        let mut applied = self.requirepass.write();
        if *applied != pass {
            self.acl.set_default_password(pass.as_deref().unwrap_or(""));
            *applied = pass;
        }
        drop(applied);
        self.acl.set_pubsub_default(cfg.str("acl-pubsub-default") == "allchannels");
        // As in Redis, a shorter log takes effect at the next entry.
        self.acl.log_max_len.store(cfg.int("acllog-max-len").max(0) as usize, Ordering::Relaxed);
        self.memory.configure(cfg.int("maxmemory").max(0) as u64, cfg.str("maxmemory-policy"));
        let wanted = cfg.int("min-replicas-to-write") > 0 && cfg.int("min-replicas-max-lag") > 0;
        self.replicas_wanted.store(wanted, Ordering::Relaxed);
    }

    /// Syncs the WAL and ends the process (SHUTDOWN, SIGTERM).
    pub fn shutdown(&self) -> ! {
        self.shutting_down.store(true, Ordering::SeqCst);
        // Commands of the batch that ran before SHUTDOWN are written before the process ends.
        if let Err(e) = crate::storage::scope::end() {
            tracing::error!("commit at shutdown failed: {e}");
        }
        if let Err(e) = self.store.sync_wal() {
            tracing::error!("WAL sync at shutdown failed: {e}");
        }
        tracing::info!("SableDB is now ready to exit, bye bye...");
        std::process::exit(0)
    }

    /// Closes the clients idle for `timeout` seconds or more (0 = never), as Redis' cron does once a second:
    /// blocked clients, subscribers and monitors never are. Checked here rather than by each connection, so a
    /// read costs no timer and a CONFIG SET of `timeout` applies to every client at once.
    fn close_idle_clients(&self) {
        let limit = self.idle_timeout_secs.load(Ordering::Relaxed);
        if limit == 0 {
            return;
        }
        let now = now_ms();
        for c in self.clients.all() {
            let idle_ms = now.saturating_sub(c.last_active_ms.load(Ordering::Relaxed));
            let exempt = c.blocked.load(Ordering::Relaxed) || c.monitor.load(Ordering::Relaxed) || c.subs.any();
            if idle_ms >= limit.saturating_mul(1000) && !exempt {
                c.kill();
            }
        }
    }

    /// Starts the background jobs: active expiry with the cleanup of dropped collections, the once-a-second check
    /// of idle clients and of MIGRATE's unused connections and, with `wal_fsync everysec`, the WAL syncer.
    pub fn start_background(self: &Arc<Self>) {
        let interval = Duration::from_millis(self.config.read().int("active_expire_interval_ms").max(1) as u64);
        let me = self.clone();
        std::thread::Builder::new()
            .name("active-expire".into())
            .spawn(move || loop {
                // A CLIENT PAUSE holds active expiry too (its deletions are writes), as Redis' expire cycle.
                if me.pause.active_now()
                    || !me.active_expire.load(Ordering::Relaxed)
                    || me.cron_paused.load(Ordering::Relaxed)
                {
                    std::thread::sleep(interval);
                    continue;
                }
                // The pass's own work (not its waits for the gate) is the latency monitor's `expire-cycle` event.
                let mut busy = Duration::ZERO;
                // Keep going while whole batches come back due, so a burst of expiries is cleared quickly.
                loop {
                    // Inside the exec gate: a transaction never sees a key expire halfway through.
                    let removed = {
                        let _gate = me.store.gate.enter();
                        let started = Instant::now();
                        let removed = me.store.expire_due(now_ms(), 512);
                        busy += started.elapsed();
                        removed
                    };
                    match removed {
                        Ok(removed) if removed.len() >= 512 => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!("active expiry: {e}");
                            break;
                        }
                    }
                }
                let ms = busy.as_millis() as u64;
                if me.diag.latency_monitored(ms) {
                    me.diag.latency_event("expire-cycle", ms);
                }
                // The elements of dropped collections go in the same rhythm, a bounded number per pass.
                if let Err(e) = me.store.collect_garbage(64) {
                    tracing::error!("collection cleanup: {e}");
                }
                std::thread::sleep(interval);
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start active expiry: {e}"));
        let me = self.clone();
        std::thread::Builder::new()
            .name("client-timeout".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(1));
                if me.cron_paused.load(Ordering::Relaxed) {
                    continue;
                }
                me.close_idle_clients();
                me.migrate_sockets.close_idle();
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the client timeout check: {e}"));
        if self.config.read().storage_options().wal_fsync == WalFsync::EverySec {
            let me = self.clone();
            std::thread::Builder::new()
                .name("wal-fsync".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(1));
                    match me.store.sync_wal() {
                        Ok(()) => me.last_save.store(now_ms() / 1000, Ordering::Relaxed),
                        Err(e) => tracing::error!("WAL fsync: {e}"),
                    }
                })
                .map(|_| ())
                .unwrap_or_else(|e| tracing::error!("cannot start the WAL syncer: {e}"));
        }
    }
}
