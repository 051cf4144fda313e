//! The libraries Redis 7.0 gives scripts besides Lua's own: the Rust half of `redis` (the rest is in
//! `prelude.lua`), `bit` (LuaBitOp's 32-bit operations) and `cjson` (JSON as lua-cjson writes and reads it).

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value, Variadic};

use super::convert::{error_table, error_text};

/// An error raised by one of our functions: Redis' error table (`err`, and where the calling user code stood),
/// carried through Lua as mlua's error userdata and turned back into the table by [`unwrap_error`].
#[derive(Debug)]
pub struct Raised {
    err: Vec<u8>,
    source: Option<String>,
    line: Option<i32>,
    /// Already counted in the error statistics (see `convert::mark_counted`).
    counted: bool,
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.err))
    }
}

impl std::error::Error for Raised {}

/// Raises `err` (`CODE message`) from a Rust function, at the position of the Lua code that called it.
pub fn raise(lua: &Lua, err: &[u8]) -> mlua::Error {
    raise_error(lua, err, false)
}

/// [`raise`] for an error already counted in the error statistics (a command's, see `convert::mark_counted`).
pub fn raise_counted(lua: &Lua, err: &[u8]) -> mlua::Error {
    raise_error(lua, err, true)
}

/// `luaL_error` from a library function (`struct`, `cmsgpack`): the message, at the position of the Lua code that
/// called the function, as a plain Lua error.
pub fn lua_error(lua: &Lua, msg: &str) -> mlua::Error {
    let at = match lua.inspect_stack(1) {
        Some(d) if d.curr_line() > 0 => {
            format!("{}:{}: ", d.source().short_src.unwrap_or_default(), d.curr_line())
        }
        _ => String::new(),
    };
    mlua::Error::RuntimeError(format!("{at}{msg}"))
}

/// `luaL_typerror`: argument `arg` is `got` (None: absent, "no value") where `expected` was wanted.
pub fn type_error(lua: &Lua, arg: i32, expected: &str, got: Option<&Value>) -> mlua::Error {
    let got = got.map_or("no value", Value::type_name);
    arg_error(lua, arg, &format!("{expected} expected, got {got}"))
}

/// `luaL_argerror` about argument `arg` of the running library function, named as its caller named it (`pack`,
/// a local alias, or `?` through `pcall`), as Lua names it.
pub fn arg_error(lua: &Lua, arg: i32, msg: &str) -> mlua::Error {
    let name = lua.inspect_stack(0).and_then(|d| d.names().name.map(|n| n.into_owned()));
    lua_error(lua, &format!("bad argument #{arg} to '{}' ({msg})", name.as_deref().unwrap_or("?")))
}

fn raise_error(lua: &Lua, err: &[u8], counted: bool) -> mlua::Error {
    // Level 1: the caller of the (C) function that raises, which Lua never replaces by a tail call.
    let (source, line) = match lua.inspect_stack(1) {
        Some(d) => (d.source().source.map(|s| s.into_owned()), Some(d.curr_line())),
        None => (None, None),
    };
    mlua::Error::external(Raised { err: err.to_vec(), source, line, counted })
}

/// `hooks.unwrap`: what a Rust function raised, as the prelude's handler and `pcall` want it: our error table
/// for a [`Raised`], the message for any other error; other values as they are.
fn unwrap_error(lua: &Lua, value: Value) -> mlua::Result<Value> {
    let Value::Error(error) = value else { return Ok(value) };
    let mut e: &mlua::Error = &error;
    loop {
        match e {
            mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => e = cause,
            mlua::Error::ExternalError(inner) => {
                let Some(r) = inner.downcast_ref::<Raised>() else {
                    return Ok(Value::String(lua.create_string(inner.to_string())?));
                };
                let t = error_table(lua, &r.err)?;
                if r.counted {
                    super::convert::mark_counted(&t)?;
                }
                if let (Some(source), Some(line)) = (&r.source, r.line) {
                    t.raw_set("source", source.as_str())?;
                    t.raw_set("line", line)?;
                }
                return Ok(Value::Table(t));
            }
            mlua::Error::RuntimeError(msg) => return Ok(Value::String(lua.create_string(msg)?)),
            other => return Ok(Value::String(lua.create_string(other.to_string())?)),
        }
    }
}

/// The Rust functions of the prelude's `hooks` table besides `call`: `unwrap` (see [`unwrap_error`]).
pub fn fill_hooks(lua: &Lua, hooks: &Table) -> mlua::Result<()> {
    hooks.raw_set("unwrap", lua.create_function(unwrap_error)?)?;
    fill_loaders(lua, hooks)
}

/// `hooks.loadstring` and `hooks.load`: Lua's own loaders as Redis' patched Lua has them, parsing every chunk as
/// text, so a precompiled one (Lua 5.1 does not verify bytecode) fails on its first byte, with Redis' message.
/// They are Rust (C) functions like the ones they wrap, so their argument errors point at the script's line even
/// when the script returns their call (a Lua wrapper would have been replaced by the tail call).
fn fill_loaders(lua: &Lua, hooks: &Table) -> mlua::Result<()> {
    let loadstring: Function = lua.globals().get("loadstring")?;
    hooks.raw_set(
        "loadstring",
        lua.create_function(move |lua, args: MultiValue| {
            let chunk = match args.front() {
                Some(Value::String(s)) => s.clone(),
                Some(v @ (Value::Number(_) | Value::Integer(_))) => {
                    lua.coerce_string(v.clone())?.ok_or_else(|| arg_error(lua, 1, "string expected"))?
                }
                other => return Err(type_error(lua, 1, "string", other)),
            };
            let name = args.get(1).cloned().unwrap_or(Value::Nil);
            if chunk.as_bytes().first() != Some(&27) {
                return loadstring.call::<MultiValue>((chunk, name));
            }
            // Parsed as text after a line break (on its first byte Lua would take it for bytecode); the chunk keeps
            // its name, and the error its line.
            let name = if name.is_nil() { Value::String(chunk.clone()) } else { name };
            let text = lua.create_string([&b"\n"[..], &chunk.as_bytes()].concat())?;
            first_line(lua, loadstring.call::<MultiValue>((text, name))?)
        })?,
    )?;
    let load: Function = lua.globals().get("load")?;
    hooks.raw_set(
        "load",
        lua.create_function(move |lua, args: MultiValue| {
            let reader = match args.front() {
                Some(Value::Function(f)) => f.clone(),
                other => return Err(type_error(lua, 1, "function", other)),
            };
            let name = args.get(1).cloned().unwrap_or(Value::Nil);
            let binary = std::rc::Rc::new(std::cell::Cell::new(None::<bool>));
            let seen = binary.clone();
            let pieces = lua.create_function(move |lua, ()| {
                let piece: Value = reader.call(())?;
                if seen.get().is_none() {
                    if let Value::String(s) = &piece {
                        if let Some(&first) = s.as_bytes().first() {
                            seen.set(Some(first == 27));
                            if first == 27 {
                                return Ok(Value::String(lua.create_string([&b"\n"[..], &s.as_bytes()].concat())?));
                            }
                        }
                    }
                }
                Ok(piece)
            })?;
            let loaded = load.call::<MultiValue>((pieces, name))?;
            if binary.get() == Some(true) {
                first_line(lua, loaded)
            } else {
                Ok(loaded)
            }
        })?,
    )?;
    Ok(())
}

/// A loader's results for a chunk parsed one line down: its error's line put back to 1.
fn first_line(lua: &Lua, results: MultiValue) -> mlua::Result<MultiValue> {
    let mut values: Vec<Value> = results.into_iter().collect();
    if let Some(Value::String(e)) = values.get(1) {
        let msg = e.to_str()?.to_string();
        if let Some(i) = msg.find(":2: ") {
            let fixed = format!("{}:1: {}", &msg[..i], &msg[i + 4..]);
            values[1] = Value::String(lua.create_string(&fixed)?);
        }
    }
    Ok(MultiValue::from_iter(values))
}

/// `redis`: the reply helpers, `setresp` (kept in `hooks.resp`), `sha1hex`, `log`, the replication stubs and the
/// constants. `call` and `pcall` are added for each script run (they reach the running client).
pub fn redis_table(lua: &Lua, hooks: &Table) -> mlua::Result<Table> {
    let redis = lua.create_table()?;
    let resp = hooks.clone();
    redis.raw_set(
        "setresp",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise(lua, b"ERR redis.setresp() requires one argument."));
            }
            match args.front() {
                Some(Value::Integer(n @ (2 | 3))) => resp.raw_set("resp", *n),
                _ => Err(raise(lua, b"ERR RESP version must be 2 or 3.")),
            }
        })?,
    )?;
    // Both return an error table (they do not raise) when misused, as Redis' luaPushError does.
    redis.raw_set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| match single_string(&args) {
            Some(msg) => {
                let mut raw = msg.to_vec();
                if raw.first() != Some(&b'-') {
                    raw.insert(0, b'-');
                }
                error_table(lua, &error_text(&raw))
            }
            None => error_table(lua, b"ERR wrong number or type of arguments"),
        })?,
    )?;
    redis.raw_set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| match single_string(&args) {
            Some(msg) => {
                let t = lua.create_table()?;
                t.raw_set("ok", lua.create_string(msg)?)?;
                Ok(t)
            }
            None => error_table(lua, b"ERR wrong number or type of arguments"),
        })?,
    )?;
    redis.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            let text = match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => s.as_bytes().to_vec(),
                (1, Some(Value::Integer(n))) => n.to_string().into_bytes(),
                (1, Some(Value::Number(n))) => super::convert::number_arg(*n).into_bytes(),
                _ => return Err(raise(lua, b"ERR wrong number of arguments")),
            };
            Ok(super::ScriptCache::sha_of(&text))
        })?,
    )?;
    redis.raw_set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() < 2 {
                return Err(raise(lua, b"ERR redis.log() requires two arguments or more."));
            }
            let level = match args.front() {
                Some(Value::Integer(n)) if (0..=3).contains(n) => *n,
                _ => return Err(raise(lua, b"ERR Invalid debug level.")),
            };
            let text: Vec<String> = args
                .iter()
                .skip(1)
                .map(|v| match v {
                    Value::String(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                    Value::Integer(n) => n.to_string(),
                    Value::Number(n) => super::convert::number_arg(*n),
                    _ => String::new(),
                })
                .collect();
            let text = text.join(" ");
            match level {
                0 => tracing::debug!(target: "script", "{text}"),
                1 | 2 => tracing::info!(target: "script", "{text}"),
                _ => tracing::warn!(target: "script", "{text}"),
            }
            Ok(())
        })?,
    )?;
    // Replication and the debugger mean nothing here: accepted, as a master without replicas does.
    redis.raw_set("set_repl", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    redis.raw_set("replicate_commands", lua.create_function(|_, _: MultiValue| Ok(true))?)?;
    redis.raw_set("breakpoint", lua.create_function(|_, _: MultiValue| Ok(false))?)?;
    redis.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    for (name, value) in [
        ("LOG_DEBUG", 0),
        ("LOG_VERBOSE", 1),
        ("LOG_NOTICE", 2),
        ("LOG_WARNING", 3),
        ("REPL_NONE", 0),
        ("REPL_AOF", 1),
        ("REPL_SLAVE", 2),
        ("REPL_REPLICA", 2),
        ("REPL_ALL", 3),
    ] {
        redis.raw_set(name, value)?;
    }
    let version = &crate::commands::table().redis_version;
    let num = version.split('.').take(3).fold(0i64, |acc, p| acc * 256 + p.parse::<i64>().unwrap_or(0));
    redis.raw_set("REDIS_VERSION", version.as_str())?;
    redis.raw_set("REDIS_VERSION_NUM", num)?;
    Ok(redis)
}

fn single_string(args: &MultiValue) -> Option<Vec<u8>> {
    match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

/// LuaBitOp's normalisation: the number rounded to an integer, taken modulo 2^32, as a signed 32-bit value.
fn tobit(v: &Value) -> mlua::Result<i32> {
    let d = match v {
        Value::Integer(n) => *n as f64,
        Value::Number(d) => *d,
        Value::String(s) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or_else(|| mlua::Error::RuntimeError("bad argument (number expected)".into()))?,
        _ => return Err(mlua::Error::RuntimeError("bad argument (number expected)".into())),
    };
    Ok(d.round_ties_even().rem_euclid(4294967296.0) as u32 as i32)
}

/// `bit`: LuaBitOp 1.0.2, as Redis bundles it.
pub fn bit_table(lua: &Lua) -> mlua::Result<Table> {
    let bit = lua.create_table()?;
    let fold = |f: fn(i32, i32) -> i32| {
        move |_: &Lua, args: Variadic<Value>| -> mlua::Result<i32> {
            let mut it = args.iter();
            let first = tobit(it.next().unwrap_or(&Value::Nil))?;
            it.try_fold(first, |acc, v| Ok(f(acc, tobit(v)?)))
        }
    };
    bit.raw_set("band", lua.create_function(fold(|a, b| a & b))?)?;
    bit.raw_set("bor", lua.create_function(fold(|a, b| a | b))?)?;
    bit.raw_set("bxor", lua.create_function(fold(|a, b| a ^ b))?)?;
    bit.raw_set("tobit", lua.create_function(|_, v: Value| tobit(&v))?)?;
    bit.raw_set("bnot", lua.create_function(|_, v: Value| Ok(!tobit(&v)?))?)?;
    bit.raw_set("bswap", lua.create_function(|_, v: Value| Ok(tobit(&v)?.swap_bytes()))?)?;
    let shift = |f: fn(i32, u32) -> i32| {
        move |_: &Lua, (v, n): (Value, Value)| -> mlua::Result<i32> { Ok(f(tobit(&v)?, tobit(&n)? as u32 & 31)) }
    };
    bit.raw_set("lshift", lua.create_function(shift(|x, n| ((x as u32) << n) as i32))?)?;
    bit.raw_set("rshift", lua.create_function(shift(|x, n| ((x as u32) >> n) as i32))?)?;
    bit.raw_set("arshift", lua.create_function(shift(|x, n| x >> n))?)?;
    bit.raw_set("rol", lua.create_function(shift(|x, n| (x as u32).rotate_left(n) as i32))?)?;
    bit.raw_set("ror", lua.create_function(shift(|x, n| (x as u32).rotate_right(n) as i32))?)?;
    bit.raw_set(
        "tohex",
        lua.create_function(|_, (v, n): (Value, Option<Value>)| {
            let x = tobit(&v)? as u32;
            let n = match n {
                Some(n) => tobit(&n)?,
                None => 8,
            };
            let upper = n < 0;
            let digits = n.unsigned_abs().min(8) as usize;
            let text = if upper { format!("{x:08X}") } else { format!("{x:08x}") };
            Ok(text[8 - digits..].to_string())
        })?,
    )?;
    Ok(bit)
}

/// lua-cjson's settings, changed by its `encode_*` / `decode_*` functions for the life of the Lua state.
#[derive(Clone, Copy)]
struct CjsonConfig {
    encode_max_depth: i64,
    decode_max_depth: i64,
    precision: i64,
    encode_invalid_numbers: bool,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    /// encode_sparse_array: convert excessively sparse arrays to objects, ratio, safe size.
    sparse: (bool, i64, i64),
}

impl Default for CjsonConfig {
    fn default() -> Self {
        CjsonConfig {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            precision: 14,
            encode_invalid_numbers: false,
            decode_invalid_numbers: true,
            keep_buffer: true,
            sparse: (false, 2, 10),
        }
    }
}

type SharedConfig = std::rc::Rc<std::cell::Cell<CjsonConfig>>;

fn flag(v: &Value) -> mlua::Result<bool> {
    match v {
        Value::Boolean(b) => Ok(*b),
        Value::String(s) if s.as_bytes().as_ref() == b"on" => Ok(true),
        Value::String(s) if s.as_bytes().as_ref() == b"off" => Ok(false),
        _ => Err(mlua::Error::RuntimeError("bad argument #1 (boolean expected)".into())),
    }
}

fn count(v: &Value, lo: i64, hi: i64) -> mlua::Result<i64> {
    match v {
        Value::Integer(n) if (lo..=hi).contains(n) => Ok(*n),
        Value::Number(d) if d.fract() == 0.0 && (lo as f64..=hi as f64).contains(d) => Ok(*d as i64),
        _ => Err(mlua::Error::RuntimeError(format!("bad argument #1 (expected integer between {lo} and {hi})"))),
    }
}

/// `cjson`: `encode`, `decode`, `null` and lua-cjson's settings.
pub fn cjson_table(lua: &Lua) -> mlua::Result<Table> {
    let cjson = lua.create_table()?;
    let config = SharedConfig::default();
    let c = config.clone();
    cjson.raw_set(
        "encode",
        lua.create_function(move |_, v: Value| {
            let mut out = Vec::new();
            encode(&v, &mut out, 0, &c.get())?;
            Ok(mlua::BString::from(out))
        })?,
    )?;
    let c = config.clone();
    cjson.raw_set(
        "decode",
        lua.create_function(move |lua, text: mlua::String| {
            let parsed: serde_json::Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|e| mlua::Error::RuntimeError(format!("Expected value but found invalid token: {e}")))?;
            decode(lua, &parsed, 1, c.get().decode_max_depth)
        })?,
    )?;
    cjson.raw_set("null", Value::LightUserData(LightUserData(std::ptr::null_mut())))?;
    type Setter = fn(&mut CjsonConfig, &MultiValue) -> mlua::Result<()>;
    type Getter = fn(&CjsonConfig) -> Vec<Value>;
    let settings: [(&str, Setter, Getter); 7] = [
        (
            "encode_keep_buffer",
            |c, a| {
                c.keep_buffer = flag(&a[0])?;
                Ok(())
            },
            |c| vec![Value::Boolean(c.keep_buffer)],
        ),
        (
            "encode_max_depth",
            |c, a| {
                c.encode_max_depth = count(&a[0], 1, i32::MAX as i64)?;
                Ok(())
            },
            |c| vec![Value::Integer(c.encode_max_depth)],
        ),
        (
            "decode_max_depth",
            |c, a| {
                c.decode_max_depth = count(&a[0], 1, i32::MAX as i64)?;
                Ok(())
            },
            |c| vec![Value::Integer(c.decode_max_depth)],
        ),
        (
            "encode_number_precision",
            |c, a| {
                c.precision = count(&a[0], 1, 14)?;
                Ok(())
            },
            |c| vec![Value::Integer(c.precision)],
        ),
        (
            "encode_invalid_numbers",
            |c, a| {
                c.encode_invalid_numbers = flag(&a[0])?;
                Ok(())
            },
            |c| vec![Value::Boolean(c.encode_invalid_numbers)],
        ),
        (
            "decode_invalid_numbers",
            |c, a| {
                c.decode_invalid_numbers = flag(&a[0])?;
                Ok(())
            },
            |c| vec![Value::Boolean(c.decode_invalid_numbers)],
        ),
        (
            "encode_sparse_array",
            |c, a| {
                c.sparse.0 = flag(&a[0])?;
                if let Some(ratio) = a.get(1) {
                    c.sparse.1 = count(ratio, 0, i32::MAX as i64)?;
                }
                if let Some(safe) = a.get(2) {
                    c.sparse.2 = count(safe, 0, i32::MAX as i64)?;
                }
                Ok(())
            },
            |c| vec![Value::Boolean(c.sparse.0), Value::Integer(c.sparse.1), Value::Integer(c.sparse.2)],
        ),
    ];
    for (name, set, get) in settings {
        let c = config.clone();
        cjson.raw_set(
            name,
            lua.create_function(move |_, args: MultiValue| {
                let mut now = c.get();
                if !args.is_empty() {
                    set(&mut now, &args)?;
                    c.set(now);
                }
                Ok(MultiValue::from_iter(get(&now)))
            })?,
        )?;
    }
    Ok(cjson)
}

fn encode_error(what: &str) -> mlua::Error {
    mlua::Error::RuntimeError(format!("Cannot serialise {what}"))
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: i64, c: &CjsonConfig) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(crate::util::fmt_g(*n as f64, c.precision as usize).as_bytes()),
        Value::Number(d) => {
            if (d.is_nan() || d.is_infinite()) && !c.encode_invalid_numbers {
                return Err(encode_error("number: must not be NaN or Inf"));
            }
            out.extend_from_slice(crate::util::fmt_g(*d, c.precision as usize).as_bytes());
        }
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth >= c.encode_max_depth {
                return Err(mlua::Error::RuntimeError(format!("Cannot serialise, excessive nesting ({})", depth + 1)));
            }
            encode_table(t, out, depth + 1, c)?;
        }
        Value::Function(_) => return Err(encode_error("function: type not supported")),
        _ => return Err(encode_error("userdata: type not supported")),
    }
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// An array when every key is a positive integer (holes become nulls) and it is not excessively sparse, else
/// an object; an empty table is `{}`, as lua-cjson writes them.
fn encode_table(t: &Table, out: &mut Vec<u8>, depth: i64, c: &CjsonConfig) -> mlua::Result<()> {
    // Two walks, holding no values: a table of a million entries would not fit mlua's reference stack.
    let (mut len, mut max, mut only_indexes) = (0usize, 0usize, true);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        len += 1;
        match k {
            Value::Integer(n) if n >= 1 => max = max.max(n as usize),
            _ => only_indexes = false,
        }
    }
    let is_array = len > 0 && only_indexes;
    let (convert, ratio, safe) = c.sparse;
    let sparse = is_array && ratio > 0 && max as i64 > safe && max as i64 > len as i64 * ratio;
    if sparse && !convert {
        return Err(encode_error("table: excessively sparse array"));
    }
    if is_array && !sparse {
        out.push(b'[');
        for i in 1..=max {
            if i > 1 {
                out.push(b',');
            }
            encode(&t.raw_get::<Value>(i)?, out, depth, c)?;
        }
        out.push(b']');
        return Ok(());
    }
    out.push(b'{');
    for (i, pair) in t.pairs::<Value, Value>().enumerate() {
        let (k, v) = pair?;
        if i > 0 {
            out.push(b',');
        }
        match &k {
            Value::String(s) => encode_string(&s.as_bytes(), out),
            Value::Integer(_) | Value::Number(_) => {
                let mut key = Vec::new();
                encode(&k, &mut key, depth, c)?;
                encode_string(&key, out);
            }
            _ => return Err(encode_error("table: table key must be a number or string")),
        }
        out.push(b':');
        encode(&v, out, depth, c)?;
    }
    out.push(b'}');
    Ok(())
}

fn decode(lua: &Lua, v: &serde_json::Value, depth: i64, max_depth: i64) -> mlua::Result<Value> {
    let nested = matches!(v, serde_json::Value::Array(_) | serde_json::Value::Object(_));
    if nested && depth > max_depth {
        return Err(mlua::Error::RuntimeError(format!("Found too many nested data structures ({depth})")));
    }
    Ok(match v {
        serde_json::Value::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(lua.create_string(s)?),
        serde_json::Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, item, depth + 1, max_depth)?)?;
            }
            Value::Table(t)
        }
        serde_json::Value::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(lua.create_string(k)?, decode(lua, item, depth + 1, max_depth)?)?;
            }
            Value::Table(t)
        }
    })
}
