//! Connection family: PING, ECHO, QUIT, AUTH, HELLO, SELECT, RESET, CLIENT and MONITOR (see `crate::monitor`).

use std::sync::atomic::Ordering;

use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::util::eq_ic;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("ping", ping),
    ("echo", echo),
    ("quit", quit),
    ("auth", auth),
    ("hello", hello),
    ("select", select),
    ("reset", reset),
    ("monitor", monitor),
    ("client|id", client_id),
    ("client|setname", client_setname),
    ("client|getname", client_getname),
    ("client|list", client_list),
    ("client|info", client_info),
    ("client|kill", client_kill),
    ("client|unblock", client_unblock),
    ("client|reply", client_reply),
    ("client|no-evict", client_no_evict),
    ("client|pause", client_pause),
    ("client|unpause", client_unpause),
    ("client|getredir", client_getredir),
    ("client|tracking", client_tracking),
    ("client|caching", client_caching),
    ("client|trackinginfo", client_trackinginfo),
    ("client|help", client_help),
];

fn ping(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 {
        return Err(CmdError::WrongArity("ping".into()));
    }
    // A RESP2 subscriber can only read arrays: it gets `[pong, argument or ""]`.
    if !ctx.out.resp3 && ctx.client.info.subs.any() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        ctx.out.bulk(args.peek().map_or(&b""[..], |a| &a[..]));
        return Ok(());
    }
    match args.peek() {
        None => ctx.out.simple("PONG"),
        Some(arg) => ctx.out.bulk(arg),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ctx.out.bulk(args.next_bytes()?);
    Ok(())
}

fn quit(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// AUTH / HELLO … AUTH: authenticates the client as `user`, or logs the failure (reason `auth`, the command
/// name as typed) and returns WRONGPASS.
fn authenticate(ctx: &mut Ctx, argv: &[bytes::Bytes], user: &[u8], pass: &[u8]) -> CmdResult {
    match ctx.server.acl.authenticate(user, pass) {
        Some(u) => {
            super::acl::set_user(ctx.client, u);
            Ok(())
        }
        None => {
            super::acl::log_auth_failure(ctx, argv, user);
            Err(CmdError::WrongPass)
        }
    }
}

fn auth(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv();
    let (user, pass) = match args.remaining() {
        1 => {
            if ctx.server.acl.default_user().state().has(crate::acl::user::NOPASS) {
                return Err(CmdError::err(
                    "AUTH <password> called without any password configured for the default user. Are you sure \
                     your configuration is correct?",
                ));
            }
            (&b"default"[..], args.next_bytes()?)
        }
        2 => (&args.next_bytes()?[..], args.next_bytes()?),
        _ => return Err(CmdError::Syntax),
    };
    authenticate(ctx, argv, user, pass)?;
    ctx.out.ok();
    Ok(())
}

fn hello(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut proto = None;
    if !args.is_empty() {
        let v = args.next_i64().map_err(|_| CmdError::err("Protocol version is not an integer or out of range"))?;
        if v != 2 && v != 3 {
            return Err(CmdError::Prefixed("NOPROTO", "unsupported protocol version".into()));
        }
        proto = Some(v);
    }
    let mut name = None;
    while !args.is_empty() {
        let opt = args.next_bytes()?;
        if eq_ic(opt, b"AUTH") && args.remaining() >= 2 {
            let user = args.next_bytes()?;
            let pass = args.next_bytes()?;
            // At once, as Redis does: a later bad option fails the command with the client authenticated.
            authenticate(ctx, args.argv(), user, pass)?;
        } else if eq_ic(opt, b"SETNAME") && !args.is_empty() {
            name = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::err(format!("Syntax error in HELLO option '{}'", crate::util::arg_text(opt))));
        }
    }
    if !ctx.client.authenticated() {
        return Err(CmdError::Prefixed(
            "NOAUTH",
            "HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> \
             <pass> option can be used to authenticate the client and select the RESP protocol version at the same \
             time"
                .into(),
        ));
    }
    if let Some(n) = name {
        set_name(ctx, n)?;
    }
    if let Some(p) = proto {
        ctx.out.resp3 = p == 3;
        ctx.client.info.resp.store(p as u8, Ordering::Relaxed);
        if p == 3 {
            // A RESP3 client may be the redirect target of another client's tracking: its invalidation pushes
            // arrive in its mailbox, subscribed or not.
            let (info, registry) = (&ctx.client.info, &ctx.server.pubsub);
            ctx.client.pubsub.get_or_insert_with(|| crate::pubsub::Subscriber::new(registry.clone(), info.clone()));
        }
    }
    let version = super::table().redis_version.clone();
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(version.as_bytes());
    out.bulk(b"proto");
    out.int(if out.resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(ctx.client.id() as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn select(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let db = args.next_i64()?;
    if db < 0 || db >= ctx.store.databases() as i64 {
        return Err(CmdError::err("DB index is out of range"));
    }
    ctx.client.select(db as usize);
    ctx.out.ok();
    Ok(())
}

fn reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.client.monitor = None;
    if ctx.client.tracking.take().is_some() {
        ctx.server.store.tracking.disable(&ctx.client.info);
    }
    ctx.client.caching = false;
    super::transaction::discard_state(ctx.server, ctx.client);
    ctx.client.select(0);
    ctx.out.resp3 = false;
    ctx.client.info.resp.store(2, Ordering::Relaxed);
    *ctx.client.info.name.lock() = None;
    // Back to the default user, authenticated only if it needs no password (Redis' `clientSetDefaultAuth`).
    let default = ctx.server.acl.default_user().clone();
    *ctx.client.info.user.lock() = Some(default.clone());
    ctx.client.user = default;
    ctx.client.set_authenticated(ctx.server.acl.default_open());
    if let Some(sub) = ctx.client.pubsub.as_mut() {
        sub.clear();
    }
    // CLIENT REPLY OFF ends (a SKIP running now still drops this reply, as in Redis).
    if ctx.client.replies == crate::client::Replies::Off {
        ctx.client.replies = crate::client::Replies::On;
    }
    ctx.out.simple("RESET");
    Ok(())
}

/// MONITOR: from now on the client receives a line for every command any client runs (see `crate::monitor`).
fn monitor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    // Redis' CLIENT_DENY_BLOCKING: a transaction's client expects one reply per command.
    if ctx.client.in_exec {
        return Err(CmdError::err("MONITOR isn't allowed for DENY BLOCKING client"));
    }
    // Already monitoring: ignored, without a reply, as in Redis.
    if ctx.client.monitor.is_some() {
        return Ok(());
    }
    let info = &ctx.client.info;
    let registry = &ctx.server.pubsub;
    let sub = ctx.client.pubsub.get_or_insert_with(|| crate::pubsub::Subscriber::new(registry.clone(), info.clone()));
    let monitor = ctx.server.monitors.register(info.clone(), sub.mailbox.clone());
    monitor.set_muted(ctx.client.replies == crate::client::Replies::Off);
    ctx.client.monitor = Some(monitor);
    ctx.out.ok();
    Ok(())
}

fn client_id(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.int(ctx.client.id() as i64);
    Ok(())
}

fn set_name(ctx: &mut Ctx, name: &[u8]) -> CmdResult {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err("Client names cannot contain spaces, newlines or special characters."));
    }
    *ctx.client.info.name.lock() = (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned());
    Ok(())
}

fn client_setname(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_name(ctx, args.next_bytes()?)?;
    ctx.out.ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let name = ctx.client.info.name.lock().clone();
    ctx.out.opt_bulk(name.as_deref().map(str::as_bytes));
    Ok(())
}

fn client_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut type_filter: Option<String> = None;
    while !args.is_empty() {
        if args.eat("TYPE") {
            let t = args.next_string()?.to_ascii_lowercase();
            if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                return Err(CmdError::err(format!("Unknown client type '{t}'")));
            }
            type_filter = Some(t);
        } else if args.eat("ID") {
            let mut v = Vec::new();
            while let Some(a) = args.peek() {
                match crate::util::parse_i64(a) {
                    Some(id) if id > 0 => v.push(id as u64),
                    _ => return Err(CmdError::err("Invalid client ID")),
                }
                args.next_bytes()?;
            }
            if v.is_empty() {
                return Err(CmdError::Syntax);
            }
            ids = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut text = String::new();
    let own = ctx.client.info.id;
    for c in ctx.server.clients.all() {
        if ids.as_ref().is_some_and(|v| !v.contains(&c.id)) || type_filter.as_ref().is_some_and(|t| t != c.kind()) {
            continue;
        }
        text.push_str(&c.describe(if c.id == own { frame_len(args.argv()) } else { 0 }));
        text.push('\n');
    }
    ctx.out.verbatim(&text);
    Ok(())
}

fn client_info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let line = ctx.client.info.describe(frame_len(args.argv())) + "\n";
    ctx.out.verbatim(&line);
    Ok(())
}

/// The bytes of `argv` as a RESP request: what the running command occupies in Redis' query buffer.
pub(crate) fn frame_len(argv: &[bytes::Bytes]) -> usize {
    let digits = |n: usize| n.to_string().len();
    3 + digits(argv.len()) + argv.iter().map(|a| 5 + digits(a.len()) + a.len()).sum::<usize>()
}

/// CLIENT REPLY ON|OFF|SKIP: whether this client's replies are sent. OFF and SKIP have no reply of their own;
/// the connection drops the silenced replies, never pushes (pub/sub messages and confirmations).
fn client_reply(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mode = args.next_bytes()?;
    if eq_ic(mode, b"on") {
        ctx.client.replies = crate::client::Replies::On;
        ctx.out.ok();
    } else if eq_ic(mode, b"off") {
        ctx.client.replies = crate::client::Replies::Off;
    } else if eq_ic(mode, b"skip") {
        if ctx.client.replies != crate::client::Replies::Off {
            ctx.client.replies = crate::client::Replies::SkipNext;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    if let Some(m) = &ctx.client.monitor {
        m.set_muted(ctx.client.replies == crate::client::Replies::Off);
    }
    Ok(())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's blocking command, as a timeout or with an error.
fn client_unblock(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 2 {
        return Err(CmdError::subcommand_syntax(args.argv(), "CLIENT"));
    }
    let id = args.next_bytes()?;
    let error = if args.eat("ERROR") {
        true
    } else if args.is_empty() || args.eat("TIMEOUT") {
        false
    } else {
        return Err(CmdError::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
    };
    let id = crate::util::parse_i64(id).ok_or(CmdError::NotInteger)?;
    let target = u64::try_from(id).ok().and_then(|id| ctx.server.clients.get(id));
    let unblocked = match target {
        Some(t) if t.blocked.load(Ordering::Relaxed) => {
            t.unblock_error.store(error, Ordering::Relaxed);
            t.unblock_signal.notify_one();
            true
        }
        _ => false,
    };
    ctx.out.int(unblocked as i64);
    Ok(())
}

fn client_kill(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    // Old form: CLIENT KILL addr:port.
    if args.remaining() == 1 {
        let addr = args.next_string()?;
        let Some(target) = ctx.server.clients.all().into_iter().find(|c| c.addr == addr) else {
            return Err(CmdError::err("No such client"));
        };
        kill(ctx, &target);
        ctx.out.ok();
        return Ok(());
    }
    let (mut id, mut addr, mut laddr, mut skipme, mut user) = (None, None, None, true, None);
    let mut type_filter: Option<String> = None;
    while !args.is_empty() {
        if args.remaining() < 2 {
            return Err(CmdError::Syntax);
        }
        if args.eat("ID") {
            match crate::util::parse_i64(args.next_bytes()?) {
                Some(v) if v > 0 => id = Some(v as u64),
                _ => return Err(CmdError::err("client-id should be greater than 0")),
            }
        } else if args.eat("ADDR") {
            addr = Some(args.next_string()?);
        } else if args.eat("LADDR") {
            laddr = Some(args.next_string()?);
        } else if args.eat("USER") {
            user = Some(args.next_string()?);
        } else if args.eat("TYPE") {
            let t = args.next_string()?.to_ascii_lowercase();
            if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                return Err(CmdError::err(format!("Unknown client type '{t}'")));
            }
            type_filter = Some(t);
        } else if args.eat("SKIPME") {
            let v = args.next_bytes()?;
            if eq_ic(v, b"yes") {
                skipme = true;
            } else if eq_ic(v, b"no") {
                skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let user = match user {
        Some(name) => match ctx.server.acl.get(name.as_bytes()) {
            Some(u) => Some(u),
            None => return Err(CmdError::err(format!("No such user '{name}'"))),
        },
        None => None,
    };
    let me = ctx.client.id();
    let mut killed = 0;
    for c in ctx.server.clients.all() {
        let matches = id.is_none_or(|i| c.id == i)
            && addr.as_ref().is_none_or(|a| &c.addr == a)
            && laddr.as_ref().is_none_or(|a| &c.laddr == a)
            && type_filter.as_ref().is_none_or(|t| t == c.kind())
            && user.as_ref().is_none_or(|u| c.is_user(u))
            && !(skipme && c.id == me);
        if matches {
            kill(ctx, &c);
            killed += 1;
        }
    }
    ctx.out.int(killed);
    Ok(())
}

fn kill(ctx: &mut Ctx, target: &crate::client::ClientInfo) {
    if target.id == ctx.client.id() {
        ctx.client.close_after_reply = true;
    } else {
        target.kill();
    }
}

/// CLIENT NO-EVICT ON|OFF: SableDB never evicts clients for memory, so this only sets the CLIENT LIST flag `e`.
fn client_no_evict(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let on = if args.eat("on") {
        true
    } else if args.eat("off") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.client.info.no_evict.store(on, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the timeout, as Redis does; the pause starts
/// after this reply (see [`crate::server::ClientPause`]).
fn client_pause(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 2 {
        return Err(CmdError::subcommand_syntax(args.argv(), "CLIENT"));
    }
    let timeout = args.next_bytes()?;
    let all = match args.peek() {
        None => true,
        Some(_) if args.eat("write") => false,
        Some(_) if args.eat("all") => true,
        Some(_) => return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms =
        crate::util::parse_i64(timeout).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let now = crate::util::now_ms() as i64;
    if ms > i64::MAX - now {
        return Err(CmdError::err("timeout is out of range"));
    }
    // 0 is an end in the past, as in Redis: nothing is paused.
    let until = if ms > 0 { now + ms } else { 0 };
    ctx.server.pause.pause(until as u64, all);
    ctx.out.ok();
    Ok(())
}

/// CLIENT UNPAUSE: ends a CLIENT PAUSE; the clients waiting run their commands.
fn client_unpause(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.pause.unpause();
    ctx.out.ok();
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p …] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis' checks in
/// Redis' order (see `crate::tracking`).
fn client_tracking(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    use crate::tracking::{Options, Tracker};
    let mode = args.next_bytes()?;
    let mut opts = Options::default();
    let mut redirect = None;
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    while let Some(word) = args.peek() {
        let more = args.remaining() > 1;
        if word.eq_ignore_ascii_case(b"redirect") && more {
            args.next_bytes()?;
            if opts.redirect != 0 {
                return Err(CmdError::err("A client can only redirect to a single other client"));
            }
            let id = crate::util::parse_i64(args.next_bytes()?).ok_or(CmdError::NotInteger)?;
            let target = u64::try_from(id).ok().and_then(|id| ctx.server.clients.get(id));
            let Some(target) = target else {
                return Err(CmdError::err("The client ID you want redirect to does not exist"));
            };
            opts.redirect = id as u64;
            redirect = Some(target);
        } else if args.eat("bcast") {
            opts.bcast = true;
        } else if args.eat("optin") {
            opts.optin = true;
        } else if args.eat("optout") {
            opts.optout = true;
        } else if args.eat("noloop") {
            opts.noloop = true;
        } else if word.eq_ignore_ascii_case(b"prefix") && more {
            args.next_bytes()?;
            prefixes.push(args.next_bytes()?.to_vec());
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if mode.eq_ignore_ascii_case(b"on") {
        if !opts.bcast && !prefixes.is_empty() {
            return Err(CmdError::err("PREFIX option requires BCAST mode to be enabled"));
        }
        let current = ctx.client.tracking.as_ref().map(|t| t.opts.clone());
        if current.as_ref().is_some_and(|c| c.bcast != opts.bcast) {
            return Err(CmdError::err(
                "You can't switch BCAST mode on/off before disabling tracking for this client, and then \
                 re-enabling it with a different mode.",
            ));
        }
        if opts.bcast && (opts.optin || opts.optout) {
            return Err(CmdError::err("OPTIN and OPTOUT are not compatible with BCAST"));
        }
        if opts.optin && opts.optout {
            return Err(CmdError::err("You can't specify both OPTIN mode and OPTOUT mode"));
        }
        if current.as_ref().is_some_and(|c| (opts.optin && c.optout) || (opts.optout && c.optin)) {
            return Err(CmdError::err(
                "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then \
                 re-enabling it with a different mode.",
            ));
        }
        if opts.bcast {
            let existing = current.as_ref().map(|c| c.prefixes.as_slice()).unwrap_or_default();
            check_prefix_collisions(existing, &prefixes)?;
            if prefixes.is_empty() {
                prefixes.push(Vec::new());
            }
            prefixes.sort();
            prefixes.dedup();
            opts.prefixes = prefixes;
        }
        // Invalidations for a RESP3 client without redirection arrive in its mailbox.
        let info = ctx.client.info.clone();
        let registry = &ctx.server.pubsub;
        ctx.client.pubsub.get_or_insert_with(|| crate::pubsub::Subscriber::new(registry.clone(), info.clone()));
        info.tracking_redir.store(opts.redirect, Ordering::Relaxed);
        let tracker = ctx.server.store.tracking.enable(Tracker { info, opts, redirect });
        ctx.client.tracking = Some(tracker);
    } else if mode.eq_ignore_ascii_case(b"off") {
        if ctx.client.tracking.take().is_some() {
            ctx.server.store.tracking.disable(&ctx.client.info);
        }
        ctx.client.caching = false;
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.out.ok();
    Ok(())
}

/// Redis' `checkPrefixCollisionsOrReply`: no new prefix may be a prefix of an existing one or of another new
/// one, or the other way round.
fn check_prefix_collisions(existing: &[Vec<u8>], new: &[Vec<u8>]) -> CmdResult {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(CmdError::err(format!(
                "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(e)
            )));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(CmdError::err(format!(
                "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not \
                 overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(q)
            )));
        }
    }
    Ok(())
}

/// CLIENT CACHING YES|NO: whether the next command's keys are tracked, in OPTIN / OPTOUT mode.
fn client_caching(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let Some(t) = &ctx.client.tracking else {
        return Err(CmdError::err(
            "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
        ));
    };
    let (optin, optout) = (t.opts.optin, t.opts.optout);
    if args.eat("yes") {
        if !optin {
            return Err(CmdError::err("CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if args.eat("no") {
        if !optout {
            return Err(CmdError::err("CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.client.caching = true;
    ctx.out.ok();
    Ok(())
}

/// CLIENT GETREDIR: the client tracking redirects to, 0 when tracking without redirection, -1 when not tracking.
fn client_getredir(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let redir = ctx.client.tracking.as_ref().map_or(-1, |t| t.opts.redirect as i64);
    ctx.out.int(redir);
    Ok(())
}

/// CLIENT TRACKINGINFO: flags, redirection and BCAST prefixes, as Redis shapes them.
fn client_trackinginfo(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let t = ctx.client.tracking.clone();
    let caching = ctx.client.caching;
    let broken = ctx.client.info.tracking.load(Ordering::Relaxed) & crate::tracking::FLAG_BROKEN_REDIR != 0;
    let mut flags: Vec<&[u8]> = vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = &t {
        let o = &t.opts;
        if o.bcast {
            flags.push(b"bcast");
        }
        if o.optin {
            flags.push(b"optin");
            if caching {
                flags.push(b"caching-yes");
            }
        }
        if o.optout {
            flags.push(b"optout");
            if caching {
                flags.push(b"caching-no");
            }
        }
        if o.noloop {
            flags.push(b"noloop");
        }
        if broken {
            flags.push(b"broken_redirect");
        }
    }
    let out = &mut *ctx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.bulk(f);
    }
    out.bulk(b"redirect");
    out.int(t.as_ref().map_or(-1, |t| t.opts.redirect as i64));
    out.bulk(b"prefixes");
    let prefixes = t.as_ref().map(|t| t.opts.prefixes.clone()).unwrap_or_default();
    out.array(prefixes.len());
    for p in prefixes {
        out.bulk(&p);
    }
    Ok(())
}

fn client_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    const LINES: &[&str] = &[
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "    * ID <client-id>",
        "      Kill connections by client id.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Print this help.",
    ];
    help_reply(ctx, LINES);
    Ok(())
}

/// Replies with HELP text lines as status replies, as Redis' `addReplyHelp` does.
pub fn help_reply(ctx: &mut Ctx, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
}
