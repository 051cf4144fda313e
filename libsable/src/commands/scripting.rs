//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT (LOAD, EXISTS, FLUSH, KILL, DEBUG, HELP), FCALL,
//! FCALL_RO and FUNCTION (LOAD, DELETE, LIST, STATS, FLUSH, DUMP, RESTORE, KILL, HELP). The engine is
//! `crate::scripting`; this module parses the commands and makes each script or function run atomically.

use super::connection::help_reply;
use super::dump::rdb;
use bytes::Bytes;

use super::{flags, Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::scripting::functions::RestorePolicy;
use crate::scripting::shebang_flags;
use crate::scripting::{Invocation, Target};
use crate::server::Server;
use crate::storage::scope;
use crate::util::{arg_text, glob::glob_match};

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
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
    ("function|load", function_load),
    ("function|delete", function_delete),
    ("function|list", function_list),
    ("function|stats", function_stats),
    ("function|flush", function_flush),
    ("function|dump", function_dump),
    ("function|restore", function_restore),
    ("function|kill", function_kill),
    ("function|help", function_help),
];

fn eval(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    eval_body(ctx, args, false)
}

fn eval_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    eval_body(ctx, args, true)
}

fn evalsha(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    eval_cached(ctx, args, false)
}

fn evalsha_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    eval_cached(ctx, args, true)
}

/// Whether a command may add data (`denyoom`). A script runner is judged as Redis judges it before its script
/// runs (`evalGetCommandFlags`, `fcallGetCommandFlags`): by the flags a shebang or a function declares, may add
/// data unless `allow-oom` or `no-writes`; a script without a shebang by the commands it calls instead.
pub fn may_add_data(server: &Server, cmd: &Command, argv: &[Bytes]) -> bool {
    cmd.has(flags::DENYOOM)
        || declared_flags(server, cmd, argv).is_some_and(|f| !f.iter().any(|f| f == "allow-oom" || f == "no-writes"))
}

/// Whether a command may write; a script runner judged as in [`may_add_data`]: writes unless `no-writes`.
pub fn may_write(server: &Server, cmd: &Command, argv: &[Bytes]) -> bool {
    cmd.has(flags::WRITE) || declared_flags(server, cmd, argv).is_some_and(|f| !f.iter().any(|f| f == "no-writes"))
}

/// The flags a script runner's script or function declares; None for other commands and scripts without one.
pub(crate) fn declared_flags(server: &Server, cmd: &Command, argv: &[Bytes]) -> Option<Vec<String>> {
    match cmd.name.as_str() {
        "eval" | "eval_ro" => argv.get(1).and_then(|body| shebang_flags(body)),
        "evalsha" | "evalsha_ro" => {
            argv.get(1).and_then(|sha| server.scripts.get(sha)).and_then(|(_, body)| shebang_flags(&body))
        }
        "fcall" | "fcall_ro" => {
            argv.get(1).and_then(|name| server.functions.find(&String::from_utf8_lossy(name))).map(|(_, f)| f.flags)
        }
        _ => None,
    }
}

/// Monitors see a script runner before the commands its script calls, whether or not it goes on to run.
fn feed_monitors(ctx: &mut Ctx, args: &Args) {
    if ctx.server.monitors.active() {
        ctx.server.monitors.feed_script_runner(ctx.client, ctx.out, &ctx.cmd.name, args.argv());
    }
}

/// EVAL: the script is cached (as Redis does) and run.
fn eval_body(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let body = args.next_bytes()?.clone();
    let (keys, argv) = keys_and_args(args)?;
    let sha = ctx.server.scripts.load(&body)?;
    execute(ctx, Invocation { target: Target::Script { sha: &sha, body: &body }, keys, args: argv, read_only })
}

fn eval_cached(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let sha = args.next_bytes()?;
    let (keys, argv) = keys_and_args(args)?;
    let Some((sha, body)) = ctx.server.scripts.get(sha) else {
        return Err(CmdError::Prefixed("NOSCRIPT", "No matching script. Please use EVAL.".into()));
    };
    execute(ctx, Invocation { target: Target::Script { sha: &sha, body: &body }, keys, args: argv, read_only })
}

fn fcall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    fcall_with(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    feed_monitors(ctx, args);
    fcall_with(ctx, args, true)
}

/// FCALL / FCALL_RO: a function without the `no-writes` flag may not run read-only; one with it may not write.
fn fcall_with(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    if args.peek().is_some_and(|n| crate::util::parse_i64(n).is_none()) {
        return Err(CmdError::err("Bad number of keys provided"));
    }
    let (keys, argv) = keys_and_args(args)?;
    let Some((_, info)) = ctx.server.functions.find(&name) else {
        return Err(CmdError::err("Function not found"));
    };
    let no_writes = info.flags.iter().any(|f| f == "no-writes");
    if read_only && !no_writes {
        return Err(CmdError::err("Can not execute a script with write flag using *_ro command."));
    }
    execute(ctx, Invocation { target: Target::Function { name: &name }, keys, args: argv, read_only: no_writes })
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
    ctx.client.in_script = true;
    let result = crate::scripting::run(ctx.server, ctx.client, ctx.out, inv);
    ctx.client.in_script = false;
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

fn function_load(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut replace = false;
    while args.remaining() > 1 {
        if args.eat("replace") {
            replace = true;
        } else {
            return Err(CmdError::err(format!("Unknown option given: {}", arg_text(args.next_bytes()?))));
        }
    }
    let name = ctx.server.functions.load(ctx.store, args.next_bytes()?, replace)?;
    ctx.out.bulk(name.as_bytes());
    Ok(())
}

fn function_delete(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    ctx.server.functions.delete(ctx.store, &name)?;
    ctx.out.ok();
    Ok(())
}

fn function_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (mut with_code, mut pattern) = (false, None);
    while let Some(arg) = args.peek() {
        if !with_code && args.eat("withcode") {
            with_code = true;
        } else if pattern.is_none() && args.eat("libraryname") {
            if args.is_empty() {
                return Err(CmdError::err("library name argument was not given"));
            }
            pattern = Some(args.next_bytes()?.clone());
        } else {
            return Err(CmdError::err(format!("Unknown argument {}", arg_text(arg))));
        }
    }
    let libraries: Vec<_> = ctx
        .server
        .functions
        .libraries()
        .into_iter()
        .filter(|lib| pattern.as_ref().is_none_or(|p| glob_match(p, lib.name.as_bytes(), false)))
        .collect();
    let out = &mut *ctx.out;
    out.array(libraries.len());
    for lib in &libraries {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            out.opt_bulk(f.description.as_deref().map(str::as_bytes));
            out.bulk(b"flags");
            out.set(f.flags.len());
            for flag in &f.flags {
                out.simple(flag);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_flush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    match args.remaining() {
        0 => {}
        1 if args.eat("sync") || args.eat("async") => {}
        1 => return Err(CmdError::err("FUNCTION FLUSH only supports SYNC|ASYNC option")),
        _ => return Err(CmdError::subcommand_syntax(args.argv(), "FUNCTION")),
    }
    ctx.server.functions.flush(ctx.store)?;
    ctx.out.ok();
    Ok(())
}

/// A function runs to its end on its worker thread before anything else runs, so none is ever seen running.
fn function_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let (libraries, functions) = ctx.server.functions.counts();
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"running_script");
    out.null();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(libraries as i64);
    out.bulk(b"functions_count");
    out.int(functions as i64);
    Ok(())
}

fn function_dump(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let compression = ctx.server.config.read().str("rdbcompression") != "no";
    let libraries = ctx.server.functions.libraries();
    ctx.out.bulk(&rdb::functions_payload(libraries.iter().map(|l| &l.code[..]), compression));
    Ok(())
}

fn function_restore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 2 {
        return Err(CmdError::subcommand_syntax(args.argv(), "FUNCTION"));
    }
    let payload = args.next_bytes()?.clone();
    let policy = if args.is_empty() || args.eat("append") {
        RestorePolicy::Append
    } else if args.eat("replace") {
        RestorePolicy::Replace
    } else if args.eat("flush") {
        RestorePolicy::Flush
    } else {
        return Err(CmdError::err("Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."));
    };
    if !args.is_empty() {
        return Err(CmdError::subcommand_syntax(args.argv(), "FUNCTION"));
    }
    if !rdb::verify(&payload) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let codes = rdb::function_codes(&payload).ok_or_else(|| CmdError::err("given type is not a function"))?;
    ctx.server.functions.restore(ctx.store, &codes, policy)?;
    ctx.out.ok();
    Ok(())
}

fn function_kill(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::Prefixed("NOTBUSY", "No scripts in execution right now.".into()))
}

fn function_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION \
             RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
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
