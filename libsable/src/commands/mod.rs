//! Commands: one module per family, one table mapping names to handlers, and the dispatcher.
//!
//! Each family module exports `HANDLERS`, a list of `(name, handler)` pairs (`"client|list"` for a subcommand).
//! [`CommandTable`] joins them with Redis' own metadata (arity, flags, key positions, docs, from `meta.json`), so
//! dispatch checks and COMMAND replies come from the same place.

pub mod acl;
pub mod args;
pub mod bitmap;
pub mod block;
pub mod chunked;
pub mod cluster;
pub mod collection;
pub mod connection;
pub mod debug;
pub mod diagnostics;
pub mod digest;
pub mod dump;
pub mod error;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keyspace;
pub mod list;
pub mod memory;
pub mod meta;
pub mod migrate;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transaction;
pub mod zset;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;

pub use args::Args;
pub use error::{CmdError, CmdResult};
use meta::{load_catalog, CommandMeta};

use crate::client::Client;
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::Store;

/// A command handler: parses its arguments, runs, and writes its reply into `ctx.out`.
pub type Handler = fn(&mut Ctx<'_>, &mut Args<'_>) -> CmdResult;

/// Everything a handler may touch while it runs.
pub struct Ctx<'a> {
    pub server: &'a Server,
    pub store: &'a Store,
    pub client: &'a mut Client,
    pub out: &'a mut Reply,
    /// The table entry being run (its name is the one errors and stats use).
    pub cmd: &'a Command,
}

impl Ctx<'_> {
    /// The physical database of the client's selected one. Writers call this after taking their locks.
    pub fn db(&self) -> u16 {
        self.store.phys(self.client.db)
    }
}

/// Command flags the dispatcher acts on, from the metadata's flag words.
pub mod flags {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const ADMIN: u32 = 1 << 2;
    pub const NO_AUTH: u32 = 1 << 3;
    pub const FAST: u32 = 1 << 4;
    pub const PUBSUB: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const NO_MULTI: u32 = 1 << 7;
    pub const LOADING: u32 = 1 << 8;
    /// Not written to the slow log (EXEC: its commands are, one by one).
    pub const SKIP_SLOWLOG: u32 = 1 << 9;
    /// Not shown to MONITOR (EVAL, FCALL: their commands are, one by one).
    pub const SKIP_MONITOR: u32 = 1 << 10;
    /// Runs only as `enable-debug-command` / `enable-module-command` allow (see `super::debug`); not a flag word
    /// of the metadata (Redis hides it too).
    pub const PROTECTED: u32 = 1 << 11;
    /// Refused inside a Lua script (`noscript`).
    pub const NO_SCRIPT: u32 = 1 << 12;
    /// Takes the exec gate exclusively itself (EXEC and the script runners); not a flag word of the metadata.
    pub const EXCLUSIVE: u32 = 1 << 13;
    /// May add data: refused while the server is over `maxmemory` (see `crate::maxmemory`).
    pub const DENYOOM: u32 = 1 << 14;

    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> u32 {
        words.into_iter().fold(0, |acc, w| {
            acc | match w {
                "write" => WRITE,
                "readonly" => READONLY,
                "admin" => ADMIN,
                "no_auth" => NO_AUTH,
                "fast" => FAST,
                "pubsub" => PUBSUB,
                "blocking" => BLOCKING,
                "no_multi" => NO_MULTI,
                "loading" => LOADING,
                "skip_slowlog" => SKIP_SLOWLOG,
                "skip_monitor" => SKIP_MONITOR,
                "noscript" => NO_SCRIPT,
                "denyoom" => DENYOOM,
                _ => 0,
            }
        })
    }
}

/// Per-command counters for INFO commandstats, and the command's latency histogram for INFO latencystats and
/// LATENCY HISTOGRAM. Aligned so that the counters every call touches (`calls`, `usec`, the histogram's pointer)
/// share one cache line.
#[derive(Default)]
#[repr(align(64))]
pub struct CmdStats {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub latency: crate::util::hdr::LatencyHistogram,
    pub failed: AtomicU64,
    pub rejected: AtomicU64,
}

impl CmdStats {
    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for n in [&self.calls, &self.usec, &self.failed, &self.rejected] {
            n.store(0, Ordering::Relaxed);
        }
        self.latency.reset();
    }
}

/// One entry of the table: a command, or a container (CLIENT, CONFIG…) whose subcommands are entries too.
pub struct Command {
    /// Lowercase, `parent|sub` for subcommands.
    pub name: String,
    pub handler: Option<Handler>,
    pub arity: i32,
    pub flags: u32,
    pub meta: CommandMeta,
    /// Subcommand name → index in the table.
    pub subcommands: HashMap<String, usize>,
    pub stats: CmdStats,
    /// Position in [`CommandTable::entries`].
    pub index: usize,
    /// Its bit in ACL command bitmaps (`crate::acl::catalog`).
    pub acl_id: usize,
}

impl Command {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// True when `argc` satisfies the arity (negative arity: at least that many).
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }

    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }
}

/// Every implemented command, by name.
pub struct CommandTable {
    pub entries: Vec<Command>,
    /// Looked up on every command: FxHash over trusted names (the table's own), not SipHash.
    by_name: rustc_hash::FxHashMap<String, usize>,
    pub redis_version: String,
}

/// All handlers, family by family.
fn all_handlers() -> impl Iterator<Item = &'static (&'static str, Handler)> {
    [
        connection::HANDLERS,
        acl::HANDLERS,
        string::HANDLERS,
        bitmap::HANDLERS,
        hyperloglog::HANDLERS,
        keyspace::HANDLERS,
        dump::HANDLERS,
        migrate::HANDLERS,
        server::HANDLERS,
        replication::HANDLERS,
        diagnostics::HANDLERS,
        debug::HANDLERS,
        cluster::HANDLERS,
        memory::HANDLERS,
        hash::HANDLERS,
        list::HANDLERS,
        set::HANDLERS,
        sort::HANDLERS,
        zset::HANDLERS,
        geo::HANDLERS,
        block::HANDLERS,
        transaction::HANDLERS,
        pubsub::HANDLERS,
        scripting::HANDLERS,
        stream::HANDLERS,
    ]
    .into_iter()
    .flatten()
}

impl CommandTable {
    fn build() -> CommandTable {
        let catalog = load_catalog();
        let mut table =
            CommandTable { entries: Vec::new(), by_name: Default::default(), redis_version: catalog.redis_version };
        for &(name, handler) in all_handlers() {
            let parent = name.split_once('|').map(|(p, _)| p);
            if let Some(parent) = parent {
                if !table.by_name.contains_key(parent) {
                    table.add(parent, None, &catalog.commands);
                }
            }
            // A container registered earlier by one of its subcommands may also have a handler of its own.
            if let Some(&existing) = table.by_name.get(name) {
                table.entries[existing].handler = Some(handler);
                continue;
            }
            let idx = table.add(name, Some(handler), &catalog.commands);
            if let Some(parent) = parent {
                let p = table.by_name[parent];
                let sub = name[parent.len() + 1..].to_string();
                table.entries[p].subcommands.insert(sub, idx);
            }
        }
        for name in debug::PROTECTED {
            if let Some(&i) = table.by_name.get(*name) {
                table.entries[i].flags |= flags::PROTECTED;
            }
        }
        for name in ["exec"].iter().chain(crate::scripting::RUNNERS) {
            if let Some(&i) = table.by_name.get(*name) {
                table.entries[i].flags |= flags::EXCLUSIVE;
            }
        }
        table
    }

    /// Every command of Redis' table, implemented or not, without handlers: what ACL DRYRUN resolves against (its
    /// key specifications find the keys of commands SableDB does not run yet, as Redis would).
    fn build_catalog() -> CommandTable {
        let catalog = load_catalog();
        let mut table = CommandTable {
            entries: Vec::new(),
            by_name: Default::default(),
            redis_version: catalog.redis_version.clone(),
        };
        let mut names: Vec<&String> = catalog.commands.keys().collect();
        // Parents before their subcommands.
        names.sort_by_key(|n| (n.contains('|'), n.as_str()));
        for name in names {
            let idx = table.add(name, None, &catalog.commands);
            if let Some((parent, sub)) = name.split_once('|') {
                if let Some(&p) = table.by_name.get(parent) {
                    table.entries[p].subcommands.insert(sub.to_string(), idx);
                }
            }
        }
        table
    }

    fn add(&mut self, name: &str, handler: Option<Handler>, catalog: &HashMap<String, CommandMeta>) -> usize {
        // A handler without Redis metadata is a bug the unit tests catch; it still gets a permissive entry.
        let meta = catalog.get(name).cloned().unwrap_or_else(|| CommandMeta {
            info: meta::MetaValue::Array(vec![]),
            docs: meta::MetaValue::Map(vec![]),
        });
        let entry = Command {
            name: name.to_string(),
            handler,
            arity: meta.arity(),
            flags: flags::from_words(meta.flags()),
            meta,
            subcommands: HashMap::new(),
            stats: CmdStats::default(),
            index: self.entries.len(),
            acl_id: crate::acl::catalog::catalog().id(name).unwrap_or(usize::MAX),
        };
        self.entries.push(entry);
        self.by_name.insert(name.to_string(), self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// Finds a command by name, case-insensitively, without allocating for names of ordinary length.
    pub fn lookup(&self, name: &[u8]) -> Option<&Command> {
        let mut buf = [0u8; 64];
        if name.len() > buf.len() {
            return None;
        }
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lower = std::str::from_utf8(&buf[..name.len()]).ok()?;
        self.by_name.get(lower).map(|&i| &self.entries[i])
    }

    /// A top-level command or a `parent|sub` name (COMMAND INFO accepts both).
    pub fn by_full_name(&self, name: &str) -> Option<&Command> {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.entries[i])
    }

    /// Top-level commands (not subcommands).
    pub fn top_level(&self) -> impl Iterator<Item = &Command> {
        self.entries.iter().filter(|c| !c.name.contains('|'))
    }

    /// The implemented subcommands of a container.
    pub fn subcommands_of<'a>(&'a self, cmd: &'a Command) -> impl Iterator<Item = &'a Command> {
        let mut idx: Vec<usize> = cmd.subcommands.values().copied().collect();
        idx.sort_by(|a, b| self.entries[*a].name.cmp(&self.entries[*b].name));
        idx.into_iter().map(move |i| &self.entries[i])
    }
}

/// The process-wide command table.
pub fn table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(CommandTable::build)
}

/// Every command of Redis 7.0's table, with metadata but no handler (see `CommandTable::build_catalog`).
pub fn catalog_table() -> &'static CommandTable {
    static TABLE: OnceLock<CommandTable> = OnceLock::new();
    TABLE.get_or_init(CommandTable::build_catalog)
}

/// Resolves `argv` to the entry that will run (the subcommand for containers), or the error to reply with.
pub fn resolve(argv: &[Bytes]) -> Result<&'static Command, CmdError> {
    let t = table();
    // `parent|sub` names the table's subcommand entries, never a command a client may call.
    let Some(cmd) = t.lookup(&argv[0]).filter(|_| !argv[0].contains(&b'|')) else {
        return Err(CmdError::UnknownCommand {
            name: argv[0].to_vec(),
            args: argv[1..].iter().map(|a| a.to_vec()).collect(),
        });
    };
    // A bare container with a handler of its own (COMMAND) runs it; otherwise argv[1] names a subcommand.
    if cmd.subcommands.is_empty() || (argv.len() == 1 && cmd.handler.is_some()) {
        if !cmd.arity_ok(argv.len()) {
            return Err(CmdError::WrongArity(cmd.name.clone()));
        }
        return Ok(cmd);
    }
    if argv.len() < 2 {
        return Err(CmdError::WrongArity(cmd.name.clone()));
    }
    let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
    let Some(&idx) = cmd.subcommands.get(&sub) else {
        return Err(CmdError::UnknownSubcommand {
            sub: argv[1].to_vec(),
            cmd: String::from_utf8_lossy(&argv[0]).into_owned(),
        });
    };
    let sub_cmd = &t.entries[idx];
    if !sub_cmd.arity_ok(argv.len()) {
        return Err(CmdError::WrongArity(sub_cmd.name.clone()));
    }
    Ok(sub_cmd)
}

/// Why writes are refused while `min-replicas-to-write` asks for replicas.
pub const NOREPLICAS: &str = "Not enough good replicas to write.";

/// Runs one command and writes its reply (inside MULTI: queues it). Errors become RESP errors here and only here.
pub fn execute(server: &Server, client: &mut Client, out: &mut Reply, argv: &[Bytes]) {
    // A refused command counts as a rejected call of what it resolved to (the container when it did not).
    let refuse_resolved = |client: &mut Client, out: &mut Reply, cmd: Option<&Command>, e: CmdError| {
        if let Some(c) = cmd.or_else(|| table().lookup(&argv[0])) {
            c.stats.rejected.fetch_add(1, Ordering::Relaxed);
        }
        transaction::refused(server, client, out, argv, &e);
    };
    let refuse = |client: &mut Client, out: &mut Reply, e: CmdError| refuse_resolved(client, out, None, e);
    let cmd = match resolve(argv) {
        Ok(c) => c,
        Err(e) => return refuse(client, out, e),
    };
    // Before authentication, as in Redis.
    if cmd.has(flags::PROTECTED) {
        if let Some(e) = debug::refusal(server, client, cmd) {
            return refuse(client, out, e);
        }
    }
    // Redis' `authRequired`: a client not authenticated may still run anything while the default user needs no
    // password (it connected while one was set, and `requirepass` was then cleared).
    if !client.authenticated() && !cmd.has(flags::NO_AUTH) && !server.acl.default_open() {
        return refuse(client, out, CmdError::Prefixed("NOAUTH", "Authentication required.".into()));
    }
    // ACL permissions (a NO_MULTI command inside MULTI is refused by the queueing first, as in Redis). An
    // unrestricted user (the default user) costs one flag load.
    if !(client.user.unrestricted() || (client.multi.is_some() && cmd.has(flags::NO_MULTI))) {
        if let Err(denied) = crate::acl::check(&client.user, cmd, argv) {
            let context = if client.multi.is_some() {
                crate::acl::log::Context::Multi
            } else {
                crate::acl::log::Context::Toplevel
            };
            acl::log_denial(server, client, cmd, argv, denied, context);
            // Counted as a rejected call of the command or subcommand refused, as Redis counts it.
            return refuse_resolved(client, out, Some(cmd), CmdError::NoPerm(acl::denial_text(cmd, denied)));
        }
    }
    // Over `maxmemory`, as Redis decides it when a command arrives; scripts remember it for their commands.
    client.oom_at_start = server.memory.exceeded();
    if client.oom_at_start && transaction::denied_on_oom(server, client, cmd, argv) {
        let e = CmdError::Prefixed("OOM", crate::maxmemory::OOM_MESSAGE.into());
        return refuse_resolved(client, out, Some(cmd), e);
    }
    if server.replicas_wanted.load(Ordering::Relaxed) && transaction::writes(server, client, cmd, argv) {
        return refuse_resolved(client, out, Some(cmd), CmdError::Prefixed("NOREPLICAS", NOREPLICAS.into()));
    }
    // RESP2 subscriber mode: only the pub/sub commands, PING, QUIT and RESET.
    if !out.resp3 && client.info.subs.any() && !crate::pubsub::allowed_in_subscriber_mode(&cmd.name) {
        let e = CmdError::err(format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this \
             context",
            cmd.name
        ));
        return refuse(client, out, e);
    }
    // A monitor is a replica to Redis, which may not use the keyspace.
    if client.monitor.is_some() && crate::monitor::refused(cmd) {
        return refuse(client, out, CmdError::err("Replica can't interact with the keyspace"));
    }
    if client.multi.is_some() && !transaction::runs_immediately(cmd) {
        if let Err(e) = transaction::queue(client, out, cmd, argv) {
            refuse(client, out, e);
        }
        return;
    }
    let tracked = client.tracking.as_ref().map(|t| t.opts.noloop);
    if let Some(noloop) = tracked {
        crate::tracking::set_current(client.id(), noloop);
    }
    if cmd.has(flags::EXCLUSIVE) {
        // EXEC and the script runners take the gate exclusively themselves.
        run(server, client, out, cmd, argv);
    } else {
        let _gate = server.store.gate.enter();
        run(server, client, out, cmd, argv);
    }
    if tracked.is_some() {
        crate::tracking::set_current(0, false);
        // CLIENT CACHING lasts one command (any CLIENT subcommand and MULTI's queueing keep it, as in Redis).
        if client.multi.is_none() && !cmd.name.starts_with("client|") {
            client.caching = false;
        }
    }
}

/// Redis' `trackingRememberKeys`: a tracking client (not BCAST) read the keys of a read-only command, unless
/// OPTIN without CACHING YES or OPTOUT with CACHING NO. Scripts' read-only runners are skipped: the commands the
/// script calls are remembered instead.
fn remember_keys(server: &Server, client: &Client, cmd: &Command, argv: &[Bytes]) {
    let Some(t) = &client.tracking else { return };
    // A script that called a read-only command: its declared keys are remembered (Redis 7.0 looks up the keys
    // of the caller's command, the EVAL).
    let script_read = crate::tracking::take_script_read();
    let read_only = cmd.has(flags::READONLY) && !matches!(cmd.name.as_str(), "eval_ro" | "evalsha_ro" | "fcall_ro");
    if t.opts.bcast
        || !(read_only || script_read)
        || (t.opts.optin && !client.caching)
        || (t.opts.optout && client.caching)
    {
        return;
    }
    let keys = server::command_key_positions(cmd, argv);
    if !keys.is_empty() {
        let keys: Vec<&[u8]> = keys.into_iter().filter_map(|p| argv.get(p)).map(|k| &k[..]).collect();
        // A key this connection's pending writes modified was read after those writes: it is remembered once they
        // are committed and have invalidated it, not before (they would invalidate the value it just read).
        let later = crate::storage::scope::remember_after_commit(client.id(), &keys);
        server.store.tracking.remember(client.id(), keys.into_iter().filter(|k| !later.contains(k)));
    }
}

/// Runs a resolved command: its handler, its statistics, its error reply.
fn run(server: &Server, client: &mut Client, out: &mut Reply, cmd: &'static Command, argv: &[Bytes]) {
    let Some(handler) = cmd.handler else { return };
    client.info.last_cmd.store(cmd.index + 1, Ordering::Relaxed);
    let skip = if cmd.name.contains('|') { 2 } else { 1 };
    let mut args = Args::new(argv, skip);
    let clock = crate::util::command_clock();
    let result = {
        let mut ctx = Ctx { server, store: &server.store, client, out, cmd };
        handler(&mut ctx, &mut args)
    };
    if crate::storage::Store::read_expired_keys() {
        if let Err(e) = server.store.expire_read_keys(server.pause.active_now()) {
            tracing::error!("lazy expiry of keys read expired failed: {}", e.message());
        }
    }
    // Events implied by the command's writes that it did not publish itself (DEL of an expired key, keys its
    // reads found expired).
    crate::notify::flush_facts(&server.notify);
    let usec = clock.elapsed_us();
    drop(clock);
    // A call, as Redis counts them: a command that ran (one of a transaction too), not one refused; a blocking
    // command once, when it first ran, not again when it runs after a wake-up.
    if !client.woken {
        cmd.stats.calls.fetch_add(1, Ordering::Relaxed);
        server.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
    }
    cmd.stats.usec.fetch_add(usec, Ordering::Relaxed);
    diagnostics::record(server, client, cmd, argv, usec);
    let failed = result.is_err();
    if let Err(e) = result {
        cmd.stats.failed.fetch_add(1, Ordering::Relaxed);
        if !matches!(e, CmdError::Counted(_)) {
            server.stats.record_error(&e);
        }
        out.error(&e.message());
    }
    if client.tracking.is_some() && !crate::tracking::in_script() {
        remember_keys(server, client, cmd, argv);
    }
    // MONITOR, after the reply as Redis' call() feeds it. An EXEC that ran feeds its own line, before it lets other
    // commands run.
    if server.monitors.active() && (failed || cmd.name != "exec") {
        server.monitors.feed(client, out, cmd, argv);
    }
}

/// Runs a command a Lua script calls (`redis.call`), already resolved and allowed there; large replies are built
/// whole, as inside a transaction.
pub(crate) fn run_for_script(
    server: &Server,
    client: &mut Client,
    out: &mut Reply,
    cmd: &'static Command,
    argv: &[Bytes],
) {
    let tracked = client.tracking.is_some();
    if tracked {
        crate::tracking::enter_script(true);
    }
    run(server, client, out, cmd, argv);
    if tracked {
        crate::tracking::enter_script(false);
        if cmd.has(flags::READONLY) {
            crate::tracking::note_script_read();
        }
    }
    transaction::finish_stream(server, client, out);
}

/// An argument vector from words, for unit tests.
#[cfg(test)]
pub(crate) fn test_argv(words: &[&str]) -> Vec<Bytes> {
    words.iter().map(|s| Bytes::copy_from_slice(s.as_bytes())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_has_redis_metadata() {
        let t = table();
        for &(name, _) in all_handlers() {
            let c = t.by_full_name(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(c.arity != 0, "{name} has no metadata in meta.json");
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert!(table().lookup(b"PiNg").is_some());
        assert!(table().lookup(b"nosuchcommand").is_none());
    }

    #[test]
    fn resolve_checks_arity_and_subcommands() {
        let argv = test_argv;
        assert_eq!(resolve(&argv(&["get"])).err(), Some(CmdError::WrongArity("get".into())));
        assert_eq!(resolve(&argv(&["client", "setname"])).err(), Some(CmdError::WrongArity("client|setname".into())));
        assert!(matches!(resolve(&argv(&["client", "bogus"])), Err(CmdError::UnknownSubcommand { .. })));
        assert_eq!(resolve(&argv(&["GET", "k"])).map(|c| c.name.as_str()), Ok("get"));
        for name in ["GET|", "GET|SET", "CONFIG|GET", "client|list"] {
            assert!(matches!(resolve(&argv(&[name, "x"])), Err(CmdError::UnknownCommand { .. })), "{name}");
        }
    }
}
