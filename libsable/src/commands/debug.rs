//! DEBUG, in the part of Redis' debugging command that means something for SableDB (ERROR, LOG, SLEEP,
//! SET-ACTIVE-EXPIRE, PROTOCOL, HELP), and the gate of the commands Redis 7 protects: DEBUG, and MODULE LOAD,
//! LOADEX and UNLOAD. `enable-debug-command` / `enable-module-command` allow them (`yes`), allow them from local
//! connections only (`local`: a Unix socket or a loopback address) or refuse them (`no`, the default), with
//! Redis' error, before the authentication check as in Redis' `processCommand`.
//!
//! The other DEBUG subcommands (RELOAD, OBJECT, DIGEST…) act on Redis' in-memory structures and are answered as
//! unknown, with Redis' error for those.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::connection::help_reply;
use super::{Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::client::Client;
use crate::server::Server;
use crate::util::{eq_ic, parse_f64};

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
            // Redis' atoi, of which only zero or not matters: the digits after an optional sign (`-1` is on,
            // `x` off).
            let text = String::from_utf8_lossy(on);
            let text = text.trim_start();
            let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
            let enabled = digits.chars().take_while(char::is_ascii_digit).any(|c| c != '0');
            ctx.server.active_expire.store(enabled, Ordering::Relaxed);
            ctx.out.ok();
        }
        Some(kind) if eq_ic(sub, b"protocol") => protocol(ctx, kind)?,
        _ => return Err(syntax_error(sub)),
    }
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
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Print this help.",
];
