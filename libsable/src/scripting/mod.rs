//! Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT): Redis 7.0's Lua 5.1 environment and semantics.
//!
//! - Scripts are cached by SHA-1 for the whole server ([`ScriptCache`]); each worker thread keeps its own Lua
//!   state ([`Vm`]), compiles a script the first time it runs there, and drops its compiled scripts when the
//!   cache is flushed (a generation count).
//! - A script runs as a transaction does (`commands::transaction`): holding the exec gate exclusively, so no
//!   other command runs anywhere meanwhile, with the thread's write scope pinned, so all its writes reach the WAL
//!   as one batch. Inside MULTI/EXEC the transaction already holds both.
//! - `redis.call` / `redis.pcall` resolve and run a command through the dispatcher's `run` with the caller's
//!   client (its database is restored afterwards: a SELECT in a script does not change the caller's), writing the
//!   reply into a buffer that [`convert`] turns into a Lua value; commands flagged `noscript` are refused, and
//!   writes in a read-only script.
//! - Errors carry Redis' text: `<message> script: <sha>, on @user_script:<line>.` — the line of the user code
//!   that raised them, found by an error handler that walks the Lua stack past our own frames (`=sable`).
//! - The environment: base (without `print`, `dofile`, `loadfile`), table, string, math, `redis`, `bit`, `cjson`
//!   ([`libs`]), `cmsgpack` ([`cmsgpack`]) and `struct` ([`structlib`]); globals are read-only, and reading an
//!   undefined one is an error, as in Redis.

mod cmsgpack;
pub mod convert;
pub mod functions;
mod libs;
mod structlib;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use mlua::{ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use parking_lot::RwLock;

use crate::acl::selector::Denied;
use crate::client::Client;
use crate::commands::{self, flags, CmdError, CmdResult, Command};
use crate::resp::reply::Reply;
use crate::server::Server;

/// The server's scripts by SHA-1 (lowercase hex), as SCRIPT LOAD and EVAL leave them.
#[derive(Default)]
pub struct ScriptCache {
    bodies: RwLock<HashMap<String, Arc<[u8]>>>,
    /// Bumped by SCRIPT FLUSH: threads drop the scripts they compiled.
    generation: AtomicU64,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call the commands flagged `noscript`.
    pub allow_denied: std::sync::atomic::AtomicBool,
}

impl ScriptCache {
    /// The SHA-1 of a script body, as lowercase hex.
    pub fn sha_of(body: &[u8]) -> String {
        sha1_smol::Sha1::from(body).digest().to_string()
    }

    /// Caches `body` (compiled on this thread first: a script that does not compile is not cached) and returns its
    /// SHA-1.
    pub fn load(&self, body: &[u8]) -> CmdResult<String> {
        let sha = Self::sha_of(body);
        with_vm(self, |vm| vm.compiled(&sha, body).map(|_| ()))?;
        self.bodies.write().entry(sha.clone()).or_insert_with(|| body.into());
        Ok(sha)
    }

    /// The body cached under `sha` (any case).
    pub fn get(&self, sha: &[u8]) -> Option<(String, Arc<[u8]>)> {
        let sha = std::str::from_utf8(sha).ok()?.to_ascii_lowercase();
        let body = self.bodies.read().get(&sha).cloned()?;
        Some((sha, body))
    }

    pub fn flush(&self) {
        self.bodies.write().clear();
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// (number of scripts, bytes of their bodies), for INFO memory.
    pub fn usage(&self) -> (usize, usize) {
        let bodies = self.bodies.read();
        (bodies.len(), bodies.values().map(|b| b.len()).sum())
    }
}

/// The commands that run scripts: the dispatcher lets them take the exec gate themselves (`flags::EXCLUSIVE`).
pub const RUNNERS: &[&str] = &["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"];

/// One worker thread's Lua state.
struct Vm {
    lua: Lua,
    /// Hidden from scripts: `handler`, `unwrap`, `resp` (the protocol `redis.setresp` chose).
    hooks: Table,
    /// The `redis` table, which gets `call` and `pcall` for each run.
    redis: Table,
    /// Runs `f` with KEYS and ARGV in a fresh environment, under the error handler (see `prelude.lua`).
    runner: Function,
    compiled: HashMap<String, Function>,
    generation: u64,
    /// Runs since the last garbage-collection step.
    runs: u32,
    /// The callbacks of the function libraries, run in this state.
    libraries: functions::ThreadLibraries,
}

thread_local! {
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's Lua state, made on first use and emptied of its scripts after a SCRIPT FLUSH.
fn with_vm<R>(cache: &ScriptCache, f: impl FnOnce(&mut Vm) -> CmdResult<R>) -> CmdResult<R> {
    with_library_vm(|vm| {
        let generation = cache.generation.load(Ordering::Relaxed);
        if vm.generation != generation {
            vm.compiled.clear();
            // SCRIPT FLUSH: the memory of the dropped scripts is given back now, as Redis' new Lua state does.
            let _ = vm.lua.gc_collect();
            vm.generation = generation;
        }
        f(vm)
    })
}

/// Bytes the Lua state of this thread uses (0 before its first script), for INFO's `used_memory_lua`.
pub fn vm_memory() -> usize {
    VM.with(|cell| cell.borrow().as_ref().map_or(0, |vm| vm.lua.used_memory()))
}

/// Runs `f` on this thread's Lua state (made on first use), whatever scripts it holds.
fn with_library_vm<R>(f: impl FnOnce(&mut Vm) -> CmdResult<R>) -> CmdResult<R> {
    VM.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Vm::new().map_err(|e| CmdError::err(format!("cannot start the Lua engine: {e}")))?);
        }
        let Some(vm) = slot.as_mut() else { return Err(CmdError::err("no Lua engine")) };
        f(vm)
    })
}

/// Our own Lua code, named `=sable` so that error positions skip it.
const PRELUDE: &str = include_str!("prelude.lua");

impl Vm {
    fn new() -> mlua::Result<Vm> {
        // The debug library is loaded for the error handler's stack walk, then hidden from scripts (as in Redis).
        let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG;
        // SAFETY: `debug` is only reachable by our prelude, which takes `debug.getinfo` and removes the library.
        let lua = unsafe { Lua::unsafe_new_with(libs, LuaOptions::default()) };
        let hooks = lua.create_table()?;
        hooks.raw_set("resp", 2)?;
        libs::fill_hooks(&lua, &hooks)?;
        let redis = libs::redis_table(&lua, &hooks)?;
        lua.globals().raw_set("bit", libs::bit_table(&lua)?)?;
        lua.globals().raw_set("cjson", libs::cjson_table(&lua)?)?;
        lua.globals().raw_set("cmsgpack", cmsgpack::cmsgpack_table(&lua)?)?;
        lua.globals().raw_set("struct", structlib::struct_table(&lua)?)?;
        let runner: Function =
            lua.load(PRELUDE).set_name("=sable").set_mode(ChunkMode::Text).call((hooks.clone(), redis.clone()))?;
        Ok(Vm {
            lua,
            hooks,
            redis,
            runner,
            compiled: HashMap::new(),
            generation: 0,
            runs: 0,
            libraries: Default::default(),
        })
    }

    /// Runs a library's code (FUNCTION LOAD, RESTORE, and each thread before its first FCALL of it) and returns
    /// its name and the functions it registered, with Redis' errors.
    fn register(&mut self, code: &[u8]) -> CmdResult<(String, Vec<functions::Registered>)> {
        let name = functions::library_name(code)?;
        let fail = |e: mlua::Error| CmdError::err(format!("Lua engine failure: {e}"));
        // The shebang line stays, empty, so that line numbers are the code's.
        let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
        let env: Table = self.hooks.get::<Function>("library_env").and_then(|f| f.call(())).map_err(fail)?;
        let chunk = self
            .lua
            .load(&code[end..])
            .set_name("@user_function")
            .set_mode(ChunkMode::Text)
            .set_environment(env)
            .into_function()
            .map_err(|e| {
                let msg = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                CmdError::err(format!("Error compiling function: {msg}"))
            })?;
        let registered = RefCell::new(Vec::new());
        let hooks = &self.hooks;
        let outcome: (bool, Value) = self
            .lua
            .scope(|scope| {
                let register =
                    scope.create_function(|lua, args: MultiValue| functions::register(lua, &registered, args))?;
                let api: Table = hooks.get("load_api")?;
                api.raw_set("register_function", register)?;
                hooks.raw_set("loading", true)?;
                load_watchdog(&self.lua);
                let outcome = hooks.get::<Function>("run_library")?.call(chunk);
                self.lua.remove_hook();
                hooks.raw_set("loading", Value::Nil)?;
                // A function that kept the load-time `redis` table finds this in it (Redis' same refusal).
                let refuse = self.lua.create_function(|lua, _: MultiValue| -> mlua::Result<()> {
                    Err(libs::raise(lua, b"ERR redis.register_function can only be called on FUNCTION LOAD command"))
                })?;
                api.raw_set("register_function", refuse)?;
                outcome
            })
            .map_err(fail)?;
        if let (false, value) = outcome {
            let err = convert::error_reply_of(&value).unwrap_or_else(|| "ERR unknown error".into());
            return Err(CmdError::err(format!("Error registering functions: {err}")));
        }
        let registered = registered.into_inner();
        if registered.is_empty() {
            return Err(CmdError::err("No functions registered"));
        }
        Ok((name, registered))
    }

    /// This thread's callback of function `name`, running the libraries' code again after any change.
    fn function(&mut self, all: &functions::Functions, name: &str) -> CmdResult<Function> {
        let generation = all.generation();
        if self.libraries.generation != generation || self.libraries.callbacks.is_empty() {
            let mut callbacks = HashMap::new();
            for lib in all.libraries() {
                for r in self.register(&lib.code)?.1 {
                    callbacks.insert(r.info.name.to_ascii_lowercase(), r.callback);
                }
            }
            self.libraries = functions::ThreadLibraries { generation, callbacks };
        }
        let key = name.to_ascii_lowercase();
        self.libraries.callbacks.get(&key).cloned().ok_or_else(|| CmdError::err("Function not found"))
    }

    /// The function of the script `sha`, compiled from `body` unless this thread did already.
    fn compiled(&mut self, sha: &str, body: &[u8]) -> CmdResult<Function> {
        if let Some(f) = self.compiled.get(sha) {
            return Ok(f.clone());
        }
        let f = self
            .lua
            .load(strip_shebang(body)?)
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                let msg = match &e {
                    mlua::Error::SyntaxError { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                CmdError::err(format!("Error compiling script (new function): {msg}"))
            })?;
        self.compiled.insert(sha.to_string(), f.clone());
        Ok(f)
    }
}

/// A script's body without its `#!lua` line (Redis 7 shebang; the line stays, empty, so line numbers hold).
fn strip_shebang(body: &[u8]) -> CmdResult<Vec<u8>> {
    if !body.starts_with(b"#!") {
        return Ok(body.to_vec());
    }
    let end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(CmdError::err(format!("Unexpected engine in script shebang: #!{engine}")));
    }
    for part in parts {
        let Some(names) = part.strip_prefix("flags=") else {
            return Err(CmdError::err(format!("Unknown lua shebang option: {part}")));
        };
        for flag in names.split(',').filter(|f| !f.is_empty()) {
            if !matches!(flag, "no-writes" | "allow-oom" | "allow-stale" | "no-cluster" | "allow-cross-slot-keys") {
                return Err(CmdError::err(format!("Unexpected flag in script shebang: {flag}")));
            }
        }
    }
    Ok(body[end..].to_vec())
}

/// The `flags=` of a script's shebang line, if it has one (None: a script without shebang, no restrictions).
pub(crate) fn shebang_flags(body: &[u8]) -> Option<Vec<String>> {
    let first = body.strip_prefix(b"#!lua")?;
    let end = first.iter().position(|&b| b == b'\n').unwrap_or(first.len());
    let line = String::from_utf8_lossy(&first[..end]);
    Some(
        line.split(' ')
            .filter_map(|p| p.strip_prefix("flags="))
            .flat_map(|names| names.split(',').filter(|f| !f.is_empty()).map(str::to_string))
            .collect(),
    )
}

/// What runs: an EVAL script (its SHA-1 and body) or a library function (FCALL).
pub enum Target<'a> {
    Script { sha: &'a str, body: &'a [u8] },
    Function { name: &'a str },
}

/// A script or function to run, and the KEYS and ARGV it gets.
pub struct Invocation<'a> {
    pub target: Target<'a>,
    pub keys: &'a [Bytes],
    pub args: &'a [Bytes],
    /// EVAL_RO / EVALSHA_RO, a `no-writes` script or function: write commands are refused.
    pub read_only: bool,
}

/// What `redis.call` needs while a script runs.
struct CallState<'a> {
    server: &'a Server,
    client: &'a mut Client,
    read_only: bool,
    /// The script or function has the `allow-oom` flag: it may write over `maxmemory`.
    allow_oom: bool,
    /// Set once the script ran a write command: from then on it is never stopped (see [`watchdog`]).
    wrote: std::rc::Rc<std::cell::Cell<bool>>,
    /// Reused for every command's reply.
    reply: Reply,
}

/// Runs a script for the client and writes its reply (or error) into `out`. The caller holds what makes it
/// atomic (see the module doc).
pub fn run(server: &Server, client: &mut Client, out: &mut Reply, inv: Invocation) -> CmdResult {
    let has_flag = |flag: &str| match inv.target {
        Target::Script { body, .. } => shebang_flags(body).is_some_and(|f| f.iter().any(|f| f == flag)),
        Target::Function { name } => {
            server.functions.find(name).is_some_and(|(_, info)| info.flags.iter().any(|f| f == flag))
        }
    };
    let read_only = inv.read_only || has_flag("no-writes");
    let allow_oom = has_flag("allow-oom");
    let saved_db = client.db;
    let result = with_vm(&server.scripts, |vm| {
        let (f, runner, label) = match inv.target {
            Target::Script { sha, body } => (vm.compiled(sha, body)?, vm.runner.clone(), sha),
            Target::Function { name } => {
                let f = vm.function(&server.functions, name)?;
                let call = vm.hooks.get::<Function>("call_function").map_err(|e| CmdError::err(e.to_string()))?;
                (f, call, name)
            }
        };
        let lua = &vm.lua;
        let fail = |e: mlua::Error| CmdError::err(format!("Lua engine failure: {e}"));
        let strings = |items: &[Bytes]| -> mlua::Result<Table> {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, lua.create_string(item)?)?;
            }
            Ok(t)
        };
        let (keys, argv) = (strings(inv.keys).map_err(fail)?, strings(inv.args).map_err(fail)?);
        vm.hooks.raw_set("resp", 2).map_err(fail)?;
        let wrote = std::rc::Rc::new(std::cell::Cell::new(false));
        watchdog(lua, server.config.read().int("busy-reply-threshold"), wrote.clone());
        let state = RefCell::new(CallState {
            server,
            client: &mut *client,
            read_only,
            allow_oom,
            wrote,
            reply: Reply::new(false),
        });
        let (hooks, redis) = (&vm.hooks, &vm.redis);
        lua.scope(|scope| {
            // Rust functions, not Lua wrappers: a `return redis.call(...)` would replace the caller's frame by a
            // tail call, and errors name the line of the user code that called them.
            let call = scope.create_function(|lua, args: MultiValue| match command(lua, hooks, &state, args)? {
                Ok(value) => Ok(value),
                Err(Failed { text, counted: false }) => Err(libs::raise(lua, &text)),
                Err(Failed { text, counted: true }) => Err(libs::raise_counted(lua, &text)),
            })?;
            let pcall = scope.create_function(|lua, args: MultiValue| match command(lua, hooks, &state, args)? {
                Ok(value) => Ok(value),
                Err(Failed { text, counted }) => {
                    let t = convert::error_table(lua, &text)?;
                    if counted {
                        convert::mark_counted(&t)?;
                    }
                    Ok(Value::Table(t))
                }
            })?;
            let acl_check = scope.create_function(|lua, args: MultiValue| acl_check_cmd(lua, &state, args))?;
            redis.raw_set("call", call)?;
            redis.raw_set("pcall", pcall)?;
            redis.raw_set("acl_check_cmd", acl_check)?;
            let outcome = runner.call((f, keys, argv));
            // Every run leaves an environment behind: a step of the collector every 50 runs keeps the state
            // small without a full cycle's pause (Redis' `LUA_GC_CYCLE_PERIOD`).
            vm.runs += 1;
            if vm.runs >= 50 {
                vm.runs = 0;
                let _ = lua.gc_step_kbytes(50);
            }
            lua.remove_hook();
            let (ok, value): (bool, Value) = outcome?;
            for name in ["call", "pcall", "acl_check_cmd"] {
                redis.raw_set(name, Value::Nil)?;
            }
            let resp: u8 = hooks.raw_get::<Option<u8>>("resp")?.unwrap_or(2);
            if ok {
                // An error reply is the command's error, as Redis counts it (errorstats, failed calls).
                if let Some(err) = convert::error_reply_of(&value) {
                    return Ok(Err(if convert::is_counted(&value) {
                        CmdError::Counted(err)
                    } else {
                        CmdError::Raw(err)
                    }));
                }
                convert::lua_to_reply(out, &value, resp);
                return Ok(Ok(()));
            }
            Ok(Err(script_error(&value, label)))
        })
        .map_err(fail)?
    });
    client.db = saved_db;
    result
}

/// A command's arguments from Lua values: strings as they are, numbers as Redis formats them; None if any is of
/// another type.
fn command_argv(args: &MultiValue) -> Option<Vec<Bytes>> {
    args.iter()
        .map(|arg| match arg {
            Value::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(n) => Some(Bytes::from(convert::number_arg(*n as f64))),
            Value::Number(d) => Some(Bytes::from(convert::number_arg(*d))),
            _ => None,
        })
        .collect()
}

/// `redis.acl_check_cmd(command, arg…)`: whether the script's user may run that command with those arguments.
fn acl_check_cmd(lua: &Lua, state: &RefCell<CallState>, args: MultiValue) -> mlua::Result<bool> {
    let Some(argv) = command_argv(&args) else {
        return Err(libs::raise(lua, b"ERR Lua redis lib command arguments must be strings or integers"));
    };
    if argv.is_empty() {
        return Err(libs::raise(lua, b"ERR Please specify at least one argument for this redis lib call"));
    }
    let Ok(cmd) = commands::resolve(&argv) else {
        return Err(libs::raise(lua, b"ERR Invalid command passed to redis.acl_check_cmd()"));
    };
    let st = state.borrow();
    Ok(crate::acl::check(&st.client.user, cmd, &argv).is_ok())
}

/// Stops a script that has run longer than `busy-reply-threshold` milliseconds (0: never) without writing. A
/// script runs to its end on its worker thread, so no SCRIPT KILL can reach it as in Redis (where other clients
/// get BUSY meanwhile); a script that wrote is never stopped, as Redis never kills one.
fn watchdog(lua: &Lua, limit_ms: i64, wrote: std::rc::Rc<std::cell::Cell<bool>>) {
    if limit_ms <= 0 {
        lua.remove_hook();
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(limit_ms as u64);
    let every = HookTriggers { every_nth_instruction: Some(100_000), ..HookTriggers::new() };
    lua.set_hook(every, move |_, _| {
        if wrote.get() || std::time::Instant::now() < deadline {
            return Ok(VmState::Continue);
        }
        // A plain message: the error handler places it at the user code the hook interrupted.
        Err(mlua::Error::RuntimeError(
            "Script killed: it ran longer than busy-reply-threshold without writing (SableDB cannot take SCRIPT \
             KILL while a script runs)"
                .into(),
        ))
    });
}

/// FUNCTION LOAD stops a library's code that runs longer than Redis' 500 ms load limit.
fn load_watchdog(lua: &Lua) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let every = HookTriggers { every_nth_instruction: Some(100_000), ..HookTriggers::new() };
    lua.set_hook(every, move |_, _| {
        if std::time::Instant::now() < deadline {
            return Ok(VmState::Continue);
        }
        Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()))
    });
}

/// The error a failed script replies with: `<err> script: <sha>, on <source>:<line>.`
fn script_error(value: &Value, sha: &str) -> CmdError {
    let Value::Table(t) = value else {
        return CmdError::err(format!("Error running script: {value:?}"));
    };
    let field = |name: &str| match t.raw_get::<Value>(name) {
        Ok(Value::String(s)) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
        Ok(Value::Integer(n)) => Some(n.to_string()),
        Ok(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let err = field("err").unwrap_or_else(|| "ERR unknown error".into());
    let msg = match (field("source"), field("line")) {
        (Some(source), Some(line)) => format!("{err} script: {sha}, on {source}:{line}."),
        _ => format!("{err} script: {sha}"),
    };
    if convert::is_counted(value) {
        CmdError::Counted(msg)
    } else {
        CmdError::Raw(msg)
    }
}

/// Why `redis.call` / `redis.pcall` failed: the error text (`CODE message`), and whether it is already counted
/// in the error statistics (see `convert::mark_counted`).
struct Failed {
    text: Vec<u8>,
    counted: bool,
}

/// `redis.call` / `redis.pcall`: runs a command for the script. Returns the command's reply as a Lua value, or
/// the error that `redis.call` raises and `redis.pcall` returns as a table.
fn command(
    lua: &Lua,
    hooks: &Table,
    state: &RefCell<CallState>,
    args: MultiValue,
) -> mlua::Result<Result<Value, Failed>> {
    let fail = |text: &str| Ok(Err(Failed { text: text.as_bytes().to_vec(), counted: false }));
    if args.is_empty() {
        return fail("ERR Please specify at least one argument for this redis lib call");
    }
    let Some(argv) = command_argv(&args) else {
        return fail("ERR Lua redis lib command arguments must be strings or integers");
    };
    let server = state.borrow().server;
    // A command refused to the script counts as an error reply and a rejected call, as in Redis' `scriptCall`.
    let refuse = |cmd: Option<&Command>, text: &str| {
        server.stats.record_error(&CmdError::Raw(text.to_string()));
        if let Some(cmd) = cmd {
            cmd.stats.rejected.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Err(Failed { text: text.as_bytes().to_vec(), counted: true }))
    };
    let cmd = match commands::resolve(&argv) {
        Ok(cmd) => cmd,
        Err(CmdError::WrongArity(_)) => {
            return refuse(
                commands::table().lookup(&argv[0]),
                "ERR Wrong number of args calling Redis command from script",
            )
        }
        Err(_) => return refuse(None, "ERR Unknown Redis command called from script"),
    };
    if cmd.has(flags::NO_SCRIPT) && !server.scripts.allow_denied.load(Ordering::Relaxed) {
        return refuse(Some(cmd), "ERR This Redis command is not allowed from script");
    }
    let mut guard = state.borrow_mut();
    let st = &mut *guard;
    if !st.client.user.unrestricted() {
        if let Err(denied) = crate::acl::check(&st.client.user, cmd, &argv) {
            let context = crate::acl::log::Context::Lua;
            crate::commands::acl::log_denial(st.server, st.client, cmd, &argv, denied, context);
            return refuse(Some(cmd), match denied {
                Denied::Command => "ERR The user executing the script can't run this command or subcommand",
                Denied::Key(_) => {
                    "ERR The user executing the script can't access at least one of the keys mentioned in the command \
                     arguments"
                }
                Denied::Channel(_) => {
                    "ERR The user executing the script can't publish to the channel mentioned in the command"
                }
            });
        }
    }
    // Commands that may replicate count as writes here, so read-only scripts can run during CLIENT PAUSE WRITE.
    if st.read_only && (cmd.has(flags::WRITE) || crate::server::MAY_REPLICATE.contains(&cmd.name.as_str())) {
        return refuse(Some(cmd), "ERR Write commands are not allowed from read-only scripts.");
    }
    // Once the script has written it goes on: it cannot be failed halfway on the server's state.
    if cmd.has(flags::WRITE) && !st.wrote.get() && st.server.replicas_wanted.load(Ordering::Relaxed) {
        return refuse(Some(cmd), &format!("NOREPLICAS {}", commands::NOREPLICAS));
    }
    // Over `maxmemory` when the script started, it may not begin to add data (once it has written, it must go on).
    if st.client.oom_at_start && !st.allow_oom && !st.wrote.get() && cmd.has(flags::DENYOOM) {
        return refuse(Some(cmd), &format!("OOM {}", crate::maxmemory::OOM_MESSAGE));
    }
    if cmd.has(flags::WRITE) {
        st.wrote.set(true);
    }
    let resp: u8 = hooks.raw_get::<Option<u8>>("resp")?.unwrap_or(2);
    st.reply.buf.clear();
    st.reply.resp3 = resp == 3;
    commands::run_for_script(st.server, st.client, &mut st.reply, cmd, &argv);
    let reply = &st.reply.buf;
    if reply.first() == Some(&b'-') {
        let end = reply.windows(2).position(|w| w == b"\r\n").unwrap_or(reply.len());
        // Counted when the command replied with it.
        return Ok(Err(Failed { text: convert::error_text(&reply[..end]), counted: true }));
    }
    Ok(Ok(convert::reply_to_lua(lua, reply)?.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_follow_redis() {
        assert_eq!(strip_shebang(b"return 1").unwrap(), b"return 1");
        assert_eq!(strip_shebang(b"#!lua\nreturn 1").unwrap(), b"\nreturn 1");
        assert_eq!(strip_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(), b"\nreturn 1");
        assert_eq!(
            strip_shebang(b"#!python\nx").unwrap_err().message(),
            "ERR Unexpected engine in script shebang: #!python"
        );
        assert_eq!(
            strip_shebang(b"#!lua flags=bogus\nx").unwrap_err().message(),
            "ERR Unexpected flag in script shebang: bogus"
        );
        assert_eq!(shebang_flags(b"#!lua flags=no-writes\nreturn 1"), Some(vec!["no-writes".to_string()]));
        assert_eq!(shebang_flags(b"return 1"), None);
    }

    #[test]
    fn sha1_of_scripts() {
        assert_eq!(ScriptCache::sha_of(b"return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }
}
