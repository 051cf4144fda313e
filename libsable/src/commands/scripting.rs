//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, HELP). The
//! engine is `crate::scripting`; this module parses the commands and makes each script run atomically.

use super::connection::help_reply;
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::scripting::Invocation;
use crate::storage::scope;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("eval", eval),
    ("evalsha", evalsha),
    ("eval_ro", eval_ro),
    ("evalsha_ro", evalsha_ro),
    ("script|load", script_load),
    ("script|exists", script_exists),
    ("script|flush", script_flush),
    ("script|kill", script_kill),
    ("script|debug", script_debug),
    ("script|help", script_help),
];

fn eval(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_body(ctx, args, false)
}

fn eval_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_body(ctx, args, true)
}

fn evalsha(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_cached(ctx, args, false)
}

fn evalsha_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_cached(ctx, args, true)
}

/// EVAL: the script is cached (as Redis does) and run.
fn eval_body(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let body = args.next_bytes()?.clone();
    let (keys, argv) = keys_and_args(args)?;
    let sha = ctx.server.scripts.load(&body)?;
    execute(ctx, Invocation { sha: &sha, body: &body, keys, args: argv, read_only })
}

fn eval_cached(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let sha = args.next_bytes()?;
    let (keys, argv) = keys_and_args(args)?;
    let Some((sha, body)) = ctx.server.scripts.get(sha) else {
        return Err(CmdError::Prefixed("NOSCRIPT", "No matching script. Please use EVAL.".into()));
    };
    execute(ctx, Invocation { sha: &sha, body: &body, keys, args: argv, read_only })
}

/// `numkeys key… arg…` with Redis' errors.
fn keys_and_args<'a>(args: &mut Args<'a>) -> CmdResult<(&'a [bytes::Bytes], &'a [bytes::Bytes])> {
    let n = args.next_i64()?;
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let rest = args.rest();
    if n as u64 > rest.len() as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    Ok(rest.split_at(n as usize))
}

/// Runs a script as a transaction runs (see `transaction::exec`): the thread's writes committed first, then the
/// exec gate held exclusively and the write scope pinned, so no other command runs meanwhile and the script's
/// writes reach the WAL as one batch. Inside EXEC, the transaction holds both already. As in Redis, the keys a
/// script uses must be named in KEYS: those are the ones whose last writes it is sure to read.
fn execute(ctx: &mut Ctx, inv: Invocation) -> CmdResult {
    let nested = ctx.client.in_exec;
    let store = ctx.store;
    let gate = if nested {
        None
    } else {
        scope::drain();
        let gate = store.gate.exclusive();
        // Writes of other threads to the script's keys that are still being written hold those keys' stripes:
        // waiting for them here means the script's lock-free reads see them (a script that read a counter
        // before another script's increment of it reached RocksDB would write back a lost update).
        drop(store.locks.lock(inv.keys));
        scope::pin();
        Some(gate)
    };
    ctx.client.in_exec = true;
    let result = crate::scripting::run(ctx.server, ctx.client, ctx.out, inv);
    ctx.client.in_exec = nested;
    if gate.is_some() {
        scope::unpin();
    }
    drop(gate);
    result
}

fn script_load(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sha = ctx.server.scripts.load(args.next_bytes()?)?;
    ctx.out.bulk(sha.as_bytes());
    Ok(())
}

fn script_exists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let shas = args.rest();
    ctx.out.array(shas.len());
    for sha in shas {
        ctx.out.int(ctx.server.scripts.get(sha).is_some() as i64);
    }
    Ok(())
}

fn script_flush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 || (args.remaining() == 1 && !(args.eat("sync") || args.eat("async"))) {
        return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.server.scripts.flush();
    ctx.out.ok();
    Ok(())
}

/// A script runs to its end on its worker thread before anything else runs, so none is ever seen running.
fn script_kill(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::Prefixed("NOTBUSY", "No scripts in execution right now.".into()))
}

/// Only `NO`: the Lua debugger (LDB) is not part of SableDB.
fn script_debug(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.eat("no") {
        ctx.out.ok();
        return Ok(());
    }
    if args.eat("yes") || args.eat("sync") {
        return Err(CmdError::err("SCRIPT DEBUG YES and SYNC (the Lua debugger) are not supported"));
    }
    Err(CmdError::err("Use SCRIPT DEBUG YES/SYNC/NO"))
}

fn script_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_argv;
    use crate::scripting::ScriptCache;

    #[test]
    fn numkeys_is_checked_as_redis_does() {
        let argv = test_argv(&["eval", "s", "2", "a", "b", "c"]);
        let mut args = Args::new(&argv, 2);
        let (keys, rest) = keys_and_args(&mut args).unwrap();
        assert_eq!((keys.len(), rest.len()), (2, 1));
        for (n, msg) in [
            ("-1", "ERR Number of keys can't be negative"),
            ("9", "ERR Number of keys can't be greater than number of args"),
            ("x", "ERR value is not an integer or out of range"),
        ] {
            let argv = test_argv(&["eval", "s", n, "a"]);
            let mut args = Args::new(&argv, 2);
            assert_eq!(keys_and_args(&mut args).unwrap_err().message(), msg);
        }
        assert_eq!(ScriptCache::sha_of(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
