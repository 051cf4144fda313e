//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the queueing of commands between MULTI and EXEC.
//!
//! EXEC runs the queued commands holding the exec gate exclusively (no other command runs meanwhile, on any
//! thread, so nobody observes part of a transaction) with this thread's write scope pinned (all of its writes go
//! into one RocksDB write batch, committed before the reply like any other write: after a crash the
//! transaction is there whole or not at all). The one exception: FLUSHDB, FLUSHALL and SWAPDB write outside the
//! batch, so a transaction containing one is committed in two parts (still atomic for other clients).
//! Blocking commands behave as their non-blocking forms (see `block.rs`). WATCH marks are kept by storage
//! (`crate::watch`), so every write, expiry and flush counts.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::{flags, run, Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::client::Client;
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::scope;
use crate::watch::Watcher;

pub const HANDLERS: &[(&str, Handler)] =
    &[("multi", multi), ("exec", exec), ("discard", discard), ("watch", watch), ("unwatch", unwatch)];

/// The commands queued by MULTI.
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<(&'static Command, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC fails with EXECABORT.
    pub aborted: bool,
}

/// What a client watches: its dirty flag and the (logical db, key) pairs registered under it.
#[derive(Default)]
pub struct Watching {
    pub watcher: Arc<Watcher>,
    pub keys: Vec<(usize, Vec<u8>)>,
}

/// True for the commands that run at once inside MULTI instead of being queued.
pub fn runs_immediately(cmd: &Command) -> bool {
    matches!(cmd.name.as_str(), "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// Queues a command inside MULTI, or refuses it (which makes EXEC fail).
pub fn queue(client: &mut Client, out: &mut Reply, cmd: &'static Command, argv: &[Bytes]) -> Result<(), CmdError> {
    let Some(multi) = client.multi.as_mut() else { return Ok(()) };
    if cmd.has(flags::NO_MULTI) {
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    multi.queued.push((cmd, argv.to_vec()));
    client.info.multi_len.store(multi.queued.len() as i64, Ordering::Relaxed);
    out.simple("QUEUED");
    Ok(())
}

/// Whether a command arriving while the server is over `maxmemory` is refused, as in Redis' `processCommand`:
/// one that may add data; inside MULTI anything but EXEC, DISCARD, QUIT and RESET (queueing takes memory too);
/// an EXEC whose transaction holds a command that may add data.
pub fn denied_on_oom(server: &Server, client: &Client, cmd: &Command, argv: &[Bytes]) -> bool {
    let may_add_data = |cmd: &Command, argv: &[Bytes]| super::scripting::may_add_data(server, cmd, argv);
    match (&client.multi, cmd.name.as_str()) {
        (Some(multi), "exec") => multi.queued.iter().any(|(c, a)| may_add_data(c, a)),
        (Some(_), "discard" | "quit" | "reset") => false,
        (Some(_), _) => true,
        (None, _) => may_add_data(cmd, argv),
    }
}

/// Whether a command may write (for EXEC: a command of its transaction), as Redis' `processCommand` judges it.
pub fn writes(server: &Server, client: &Client, cmd: &Command, argv: &[Bytes]) -> bool {
    match (&client.multi, cmd.name.as_str()) {
        (Some(multi), "exec") => multi.queued.iter().any(|(c, a)| super::scripting::may_write(server, c, a)),
        _ => super::scripting::may_write(server, cmd, argv),
    }
}

/// A command refused before it ran (unknown, wrong arity, not allowed…): inside MULTI the transaction can no
/// longer run. Refusing EXEC itself ends the transaction with the reason. The error replied is counted here.
pub fn refused(server: &Server, client: &mut Client, out: &mut Reply, argv: &[Bytes], e: &CmdError) {
    if argv.first().is_some_and(|name| name.eq_ignore_ascii_case(b"exec")) {
        discard_state(server, client);
        let msg = e.message();
        let reason = msg.strip_prefix("ERR ").unwrap_or(&msg);
        let abort = CmdError::Raw(format!("EXECABORT Transaction discarded because of: {reason}"));
        server.stats.record_error(&abort);
        out.error(&abort.message());
        return;
    }
    server.stats.record_error(e);
    if let Some(multi) = client.multi.as_mut() {
        multi.aborted = true;
    }
    out.error(&e.message());
}

fn multi(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Multi::default());
    ctx.client.info.multi_len.store(0, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

fn discard(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    discard_state(ctx.server, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// Ends MULTI (if any) and drops every watch: DISCARD, EXEC, RESET, disconnect.
pub fn discard_state(server: &Server, client: &mut Client) {
    client.multi = None;
    client.info.multi_len.store(-1, Ordering::Relaxed);
    unwatch_all(server, client);
}

fn unwatch_all(server: &Server, client: &mut Client) {
    if let Some(w) = client.watching.take() {
        server.store.watches.unwatch(&w.watcher, &w.keys);
    }
}

fn watch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    // This thread's pending and in-flight writes are written first: they happened before the WATCH and must not
    // count.
    scope::drain();
    let db = ctx.client.db;
    for key in args.rest() {
        let expired = ctx.store.watch_state(db, key)? == Some(true);
        let w = ctx.client.watching.get_or_insert_with(Watching::default);
        if ctx.store.watches.watch(&w.watcher, db, key, expired) {
            w.keys.push((db, key.to_vec()));
        }
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    unwatch_all(ctx.server, ctx.client);
    ctx.out.ok();
    Ok(())
}

/// True when a watched key was modified, or expired since it was watched.
fn watched_changed(ctx: &Ctx) -> CmdResult<bool> {
    let Some(w) = &ctx.client.watching else { return Ok(false) };
    if w.watcher.is_dirty() {
        return Ok(true);
    }
    for (db, key) in &w.keys {
        if ctx.store.watch_state(*db, key)? == Some(true) && !ctx.store.watches.watched_expired(&w.watcher, *db, key) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Completes a large reply the command left to be streamed: inside a transaction or a script it is built whole,
/// as Redis does.
pub fn finish_stream(server: &Server, client: &mut Client, out: &mut Reply) {
    let Some(mut stream) = client.stream.take() else { return };
    loop {
        match stream.fill(server, out, usize::MAX) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                tracing::error!("reply inside EXEC or a script aborted, closing the connection: {}", e.message());
                client.close_after_reply = true;
                break;
            }
        }
    }
}

fn exec(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut gate = None;
    let result = exec_transaction(ctx, &mut gate);
    // EXEC's MONITOR line comes right after its commands', while no other command can run yet (a failed EXEC is
    // fed after its error reply, by `run`).
    if result.is_ok() && ctx.server.monitors.active() {
        ctx.server.monitors.feed(ctx.client, ctx.out, ctx.cmd, args.argv());
    }
    drop(gate);
    result
}

/// EXEC's work; the exclusive gate it takes is left in `gate` for the caller to release.
fn exec_transaction<'s>(ctx: &mut Ctx<'s>, gate: &mut Option<parking_lot::RwLockWriteGuard<'s, ()>>) -> CmdResult {
    let Some(multi) = ctx.client.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    // This thread's pending writes go first: their stripes may be what other commands wait for, and those must
    // finish before the gate can be had. Its in-flight batches must be written too: until then their writes
    // have not marked the watchers they concern.
    scope::drain();
    let store = ctx.store;
    *gate = Some(store.gate.exclusive());
    // A write of a watched key still pending on another thread holds the key's stripe until it is committed
    // (and its watchers marked): taking the stripes waits for those.
    let changed = match &ctx.client.watching {
        Some(w) => {
            let keys: Vec<&[u8]> = w.keys.iter().map(|(_, k)| k.as_slice()).collect();
            let _settled = ctx.store.locks.lock(&keys);
            watched_changed(ctx)
        }
        None => Ok(false),
    };
    discard_state(ctx.server, ctx.client);
    if multi.aborted {
        return Err(CmdError::Raw("EXECABORT Transaction discarded because of previous errors.".into()));
    }
    if changed? {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(multi.queued.len());
    ctx.client.in_exec = true;
    scope::pin();
    for (cmd, argv) in &multi.queued {
        // Permissions are checked again: the user's rules may have changed since the command was queued.
        if !ctx.client.user.unrestricted() {
            if let Err(denied) = crate::acl::check(&ctx.client.user.clone(), cmd, argv) {
                super::acl::log_denial(ctx.server, ctx.client, cmd, argv, denied, crate::acl::log::Context::Multi);
                let e = CmdError::NoPerm(super::acl::exec_denial_text(denied));
                ctx.server.stats.record_error(&e);
                ctx.out.error(&e.message());
                continue;
            }
        }
        run(ctx.server, ctx.client, ctx.out, cmd, argv);
        finish_stream(ctx.server, ctx.client, ctx.out);
    }
    scope::unpin();
    ctx.client.in_exec = false;
    Ok(())
}
