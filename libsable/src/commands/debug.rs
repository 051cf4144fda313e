//! DEBUG, in the part of Redis' debugging command that means something for SableDB, and the gate of the commands
//! Redis 7 protects: DEBUG, and MODULE LOAD, LOADEX and UNLOAD. `enable-debug-command` / `enable-module-command`
//! allow them (`yes`), allow them from local connections only (`local`: a Unix socket or a loopback address) or
//! refuse them (`no`, the default), with Redis' error, before the authentication check as in Redis'
//! `processCommand`.
//!
//! Subcommands: ERROR, LOG, SLEEP, SET-ACTIVE-EXPIRE, PAUSE-CRON, PROTOCOL, OBJECT, DIGEST and DIGEST-VALUE
//! (`super::digest`, Redis' exact digests), POPULATE, SET-DISABLE-DENY-SCRIPTS, HELP; and RELOAD and LOADAOF,
//! which in Redis save the data set and load it back: SableDB's data is always in RocksDB, so they commit what
//! the connection has pending and answer OK, the data being what a reload would give. QUICKLIST-PACKED-THRESHOLD,
//! REPLYBUFFER and CHANGE-REPL-ID are validated and accepted without effect (list node packing, reply buffer
//! resizing and replication IDs do not exist here). The others, which act on Redis' in-memory structures or
//! crash it on purpose, get Redis' unknown-subcommand error.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::connection::help_reply;
use super::{Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::client::Client;
use crate::server::Server;
use crate::storage::encoding::{encode_string_as, StrOrigin};
use crate::util::{eq_ic, parse_f64, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[("debug", debug)];

/// The commands behind a protection option, by table name.
pub const PROTECTED: &[&str] = &["debug", "module|load", "module|loadex", "module|unload"];

/// The error a protected command gets when its option does not allow this client; None when it may run.
pub fn refusal(server: &Server, client: &Client, cmd: &Command) -> Option<CmdError> {
    let (name, option) =
        if cmd.name == "debug" { ("DEBUG", "enable-debug-command") } else { ("MODULE", "enable-module-command") };
    let allowed = match server.config.read().str(option) {
        "yes" => true,
        "local" => is_local(client),
        _ => false,
    };
    (!allowed).then(|| {
        CmdError::err(format!(
            "{name} command not allowed. If the {option} option is set to \"local\", you can run it from a local \
             connection, otherwise you need to set this option in the configuration file, and then restart the \
             server."
        ))
    })
}

/// Redis' `islocalClient`: a Unix socket, or a peer at 127.0.0.1 or ::1.
fn is_local(client: &Client) -> bool {
    let info = &client.info;
    info.is_unix || info.addr.starts_with("127.0.0.1:") || info.addr.starts_with("[::1]:")
}

fn debug(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sub = args.next_bytes()?;
    let name = String::from_utf8_lossy(sub).to_ascii_lowercase();
    let rest = args.rest();
    match (name.as_str(), rest.len()) {
        ("object", 1) => return object(ctx, &rest[0]),
        ("digest", 0) => {
            let digest = super::digest::dataset(ctx)?;
            ctx.out.simple(&super::digest::hex(&digest));
            return Ok(());
        }
        ("digest-value", _) => return digest_values(ctx, rest),
        ("reload", _) => {
            for option in rest {
                if !["merge", "noflush", "nosave"].iter().any(|o| eq_ic(option, o.as_bytes())) {
                    return Err(CmdError::err("DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."));
                }
            }
            // Loading a data set over itself without MERGE conflicts on every library and key it has: Redis
            // fails such a load (on a key it even stops).
            let has = |o: &str| rest.iter().any(|r| eq_ic(r, o.as_bytes()));
            if has("noflush") && !has("merge") && !is_empty(ctx) {
                return Err(CmdError::err("Error trying to load the RDB dump, check server logs."));
            }
            return persisted(ctx);
        }
        ("loadaof", 0) => return persisted(ctx),
        ("populate", 1..=3) => return populate(ctx, rest),
        ("quicklist-packed-threshold", 1) => {
            let size = crate::config::parse_memory(&String::from_utf8_lossy(&rest[0]));
            if !size.is_some_and(|s| (0..=(1i64 << 32) - (1 << 20)).contains(&s)) {
                return Err(CmdError::err("argument must be a memory value bigger than 1 and smaller than 4gb"));
            }
            ctx.out.ok();
            return Ok(());
        }
        ("set-disable-deny-scripts", 1) => {
            ctx.server.scripts.allow_denied.store(atoi_nonzero(&rest[0]), Ordering::Relaxed);
            ctx.out.ok();
            return Ok(());
        }
        ("pause-cron", 1) => {
            ctx.server.cron_paused.store(atoi_nonzero(&rest[0]), Ordering::Relaxed);
            ctx.out.ok();
            return Ok(());
        }
        ("replybuffer", 2) => {
            let valid = if eq_ic(&rest[0], b"peak-reset-time") {
                eq_ic(&rest[1], b"never") || eq_ic(&rest[1], b"reset") || parse_i64(&rest[1]).is_some()
            } else {
                eq_ic(&rest[0], b"resizing")
            };
            if !valid {
                return Err(syntax_error(sub));
            }
            ctx.out.ok();
            return Ok(());
        }
        ("change-repl-id", 0) => {
            ctx.out.ok();
            return Ok(());
        }
        _ => {}
    }
    let arg = match args.remaining() {
        0 => None,
        1 => Some(args.next_bytes()?),
        _ => return Err(syntax_error(sub)),
    };
    match arg {
        None if eq_ic(sub, b"help") => help_reply(ctx, HELP),
        // The message is the whole error line, its code included, as Redis sends it.
        Some(msg) if eq_ic(sub, b"error") => {
            let line: String =
                String::from_utf8_lossy(msg).chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
            return Err(CmdError::Raw(line));
        }
        Some(msg) if eq_ic(sub, b"log") => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(msg));
            ctx.out.ok();
        }
        // Stops the worker thread, as Redis stops the server; a bad number sleeps 0 (Redis' strtod).
        Some(secs) if eq_ic(sub, b"sleep") => {
            let secs = parse_f64(secs).filter(|s| s.is_finite() && *s > 0.0).unwrap_or(0.0);
            std::thread::sleep(Duration::from_secs_f64(secs.min(u32::MAX as f64)));
            ctx.out.ok();
        }
        Some(on) if eq_ic(sub, b"set-active-expire") => {
            ctx.server.active_expire.store(atoi_nonzero(on), Ordering::Relaxed);
            ctx.out.ok();
        }
        Some(kind) if eq_ic(sub, b"protocol") => protocol(ctx, kind)?,
        _ => return Err(syntax_error(sub)),
    }
    Ok(())
}

/// Redis' `atoi`, of which only zero or not matters: the digits after an optional sign (`-1` is nonzero, `x`
/// zero).
fn atoi_nonzero(arg: &[u8]) -> bool {
    let text = String::from_utf8_lossy(arg);
    let text = text.trim_start();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    digits.chars().take_while(char::is_ascii_digit).any(|c| c != '0')
}

/// RELOAD and LOADAOF: what the connection wrote is committed, and the data set is what a reload would load.
fn persisted(ctx: &mut Ctx) -> CmdResult {
    crate::storage::scope::settle();
    ctx.out.ok();
    Ok(())
}

/// No key in any database and no function library.
fn is_empty(ctx: &Ctx) -> bool {
    let databases = ctx.server.config.read().int("databases").max(0) as usize;
    ctx.server.functions.counts().0 == 0 && (0..databases).all(|db| ctx.store.key_count(db) == 0)
}

/// The record of `key` as Redis' debugging subcommands find it (`dictFind`): logically expired or not.
fn raw_record(ctx: &Ctx, key: &[u8]) -> CmdResult<Option<crate::storage::Existing>> {
    ctx.store.txn().load(ctx.db(), key)
}

/// DEBUG OBJECT: Redis' line about the value. `at:` is the key's identity (its collection's id, or a hash of
/// its name for a string), stable while the key lives; `lru` is the LRU clock of its last access.
fn object(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let Some(existing) = raw_record(ctx, key)? else { return Err(CmdError::err("no such key")) };
    let m = existing.view();
    let at = match crate::storage::encoding::Collection::from_view(&m) {
        Some(c) => c.uid,
        None => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (ctx.db(), key).hash(&mut h);
            h.finish() >> 16
        }
    };
    let payload = super::dump::payload(ctx, &m)?;
    // The object without its type byte and DUMP's footer (version and CRC): Redis' `rdbSavedObjectLen`.
    let serialized = payload.len().saturating_sub(11);
    let idle = super::keyspace::idle_seconds(ctx, key);
    let lru = (crate::util::now_ms() / 1000).saturating_sub(idle) & ((1 << 24) - 1);
    let mut line = format!(
        "Value at:0x{at:x} refcount:{} encoding:{} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}",
        super::keyspace::refcount(ctx, &m),
        super::keyspace::encoding_name(&m)
    );
    let list = m.key_type() == crate::storage::KeyType::List;
    if let Some(super::dump::rdb::Value::List(elements)) = list.then(|| super::digest::decode(&payload)).transpose()? {
        let (fill, depth) = {
            let cfg = ctx.server.config.read();
            (cfg.int("list-max-listpack-size"), cfg.int("list-compress-depth"))
        };
        let nodes = super::dump::rdb::quicklist_nodes(&elements, fill);
        line.push_str(&format!(
            " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{fill} ql_compressed:{} ql_uncompressed_size:{}",
            nodes.len(),
            elements.len() as f64 / nodes.len().max(1) as f64,
            (depth != 0) as u8,
            nodes.iter().map(Vec::len).sum::<usize>()
        ));
    }
    ctx.out.simple(&line);
    Ok(())
}

/// DEBUG DIGEST-VALUE: each key's value digest; zeros for a missing key.
fn digest_values(ctx: &mut Ctx, keys: &[bytes::Bytes]) -> CmdResult {
    let mut digests = Vec::with_capacity(keys.len());
    for key in keys {
        let mut digest = super::digest::Digest::default();
        if let Some(existing) = raw_record(ctx, key)? {
            super::digest::mix_value(ctx, &existing.view(), &mut digest)?;
        }
        digests.push(super::digest::hex(&digest));
    }
    ctx.out.array(digests.len());
    for d in digests {
        ctx.out.simple(&d);
    }
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]: string keys `<prefix>:<n>` (`key:<n>`) with values `value:<n>`, cut or
/// padded with zero bytes to `size`; keys that exist are left alone.
fn populate(ctx: &mut Ctx, args: &[bytes::Bytes]) -> CmdResult {
    let positive = |arg: &[u8]| {
        parse_i64(arg).filter(|n| *n >= 0).ok_or_else(|| CmdError::err("value is out of range, must be positive"))
    };
    let count = positive(&args[0])?;
    let prefix = args.get(1).map_or(&b"key"[..], |p| &p[..]);
    let size = args.get(2).map(|s| positive(s)).transpose()?.map(|s| s as usize);
    // No value a client could not write itself (Redis would try to allocate anything, and die of it).
    if size.is_some_and(|s| s as i64 > ctx.server.max_bulk_len.load(Ordering::Relaxed)) {
        return Err(CmdError::err("value is out of range, must not exceed proto-max-bulk-len"));
    }
    let db = ctx.db();
    // In slices, so a large count is not one transaction held in memory.
    for start in (0..count).step_by(1000) {
        let names: Vec<Vec<u8>> =
            (start..(start + 1000).min(count)).map(|j| [prefix, b":", j.to_string().as_bytes()].concat()).collect();
        let keys: Vec<&[u8]> = names.iter().map(|k| &k[..]).collect();
        let _guard = ctx.store.locks.lock(&keys);
        let mut txn = ctx.store.txn();
        for (j, key) in (start..).zip(&keys) {
            let old = txn.load(db, key)?;
            if old.as_ref().is_some_and(|o| o.live().is_some()) {
                continue;
            }
            let mut value = format!("value:{j}").into_bytes();
            if let Some(size) = size.filter(|s| *s > 0) {
                value.resize(size, 0);
            }
            let record = encode_string_as(0, &value, StrOrigin::Created);
            txn.put(db, key, old.as_ref(), record);
        }
        txn.commit()?;
    }
    ctx.out.ok();
    Ok(())
}

/// Redis' `addReplySubcommandSyntaxError` for DEBUG.
fn syntax_error(sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
        crate::util::arg_text(&sub[..sub.len().min(128)])
    ))
}

/// DEBUG PROTOCOL: one test value of each RESP type, Redis' own.
fn protocol(ctx: &mut Ctx, kind: &[u8]) -> CmdResult {
    let out = &mut *ctx.out;
    let kind = String::from_utf8_lossy(kind).to_ascii_lowercase();
    match kind.as_str() {
        "string" => out.bulk(b"Hello World"),
        "integer" => out.int(12345),
        // Redis' test value, not π.
        #[allow(clippy::approx_constant)]
        "double" => out.double(3.141),
        "bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if out.resp3 {
                out.raw(b"(");
                out.raw(n);
                out.raw(b"\r\n");
            } else {
                out.bulk(n);
            }
        }
        "null" => out.null(),
        "array" | "set" => {
            if kind == "set" {
                out.set(3);
            } else {
                out.array(3);
            }
            (0..3).for_each(|j| out.int(j));
        }
        "map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        "attrib" => {
            // Attributes exist in RESP3 only; the real reply follows them.
            if out.resp3 {
                out.raw(b"|1\r\n");
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !out.resp3 {
                return Err(CmdError::err("RESP2 is not supported by this command"));
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            out.bulk(b"Some real reply following the push reply");
        }
        "true" => out.boolean(true),
        "false" => out.boolean(false),
        "verbatim" => out.verbatim("This is a verbatim\nstring"),
        _ => {
            return Err(CmdError::err(
                "Wrong protocol type name. Please use one of the following: \
                 string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    }
    Ok(())
}

/// Redis' help lines for the subcommands SableDB has.
const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "HELP",
    "    Print this help.",
];
