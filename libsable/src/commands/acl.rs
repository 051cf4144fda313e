//! The ACL command (CAT, DELUSER, DRYRUN, GENPASS, GETUSER, LIST, LOAD, SAVE, LOG, SETUSER, USERS, WHOAMI, HELP)
//! and the dispatcher's helpers for ACL refusals (their error text and their ACL LOG entry). The users and rules
//! themselves are in `crate::acl`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::connection::help_reply;
use super::{Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::acl::catalog::{catalog, category_bit, CATEGORIES};
use crate::acl::log::{Context, Reason};
use crate::acl::{Denied, User};
use crate::client::Client;
use crate::server::Server;
use crate::util::arg_text;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("acl|cat", cat),
    ("acl|deluser", deluser),
    ("acl|dryrun", dryrun),
    ("acl|genpass", genpass),
    ("acl|getuser", getuser),
    ("acl|list", list),
    ("acl|load", load),
    ("acl|save", save),
    ("acl|log", log),
    ("acl|setuser", setuser),
    ("acl|users", users),
    ("acl|whoami", whoami),
    ("acl|help", help),
];

/// The text after `-NOPERM ` for a refused command.
pub fn denial_text(cmd: &Command, denied: Denied) -> String {
    match denied {
        Denied::Command => format!("this user has no permissions to run the '{}' command", cmd.name),
        Denied::Key(_) => "this user has no permissions to access one of the keys used as arguments".into(),
        Denied::Channel(_) => "this user has no permissions to access one of the channels used as arguments".into(),
    }
}

/// The text after `-NOPERM ` for a queued command EXEC no longer may run (Redis' `execCommand`).
pub fn exec_denial_text(denied: Denied) -> String {
    let reason = match denied {
        Denied::Command => "no permission to execute the command or subcommand",
        Denied::Key(_) => "no permission to touch the specified keys",
        Denied::Channel(_) => "no permission to access one of the channels used as arguments",
    };
    format!(
        "ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is \
         no longer allowed for the following reason: {reason}"
    )
}

/// The client as ACL LOG shows it (`client-info`): its CLIENT LIST line, the running command in its `qbuf`.
fn client_info(client: &Client, argv: &[Bytes]) -> String {
    client.info.describe(super::connection::frame_len(argv))
}

/// Adds a refusal to the ACL log: the command's full name, or the key or channel refused.
pub fn log_denial(server: &Server, client: &Client, cmd: &Command, argv: &[Bytes], denied: Denied, context: Context) {
    // Redis has already made the refused command the client's last one (inside EXEC, EXEC stays the last one).
    if !client.in_exec {
        client.info.last_cmd.store(cmd.index + 1, Ordering::Relaxed);
    }
    let (reason, object): (Reason, &[u8]) = match denied {
        Denied::Command => (Reason::Command, cmd.name.as_bytes()),
        Denied::Key(p) => (Reason::Key, &argv[p]),
        Denied::Channel(p) => (Reason::Channel, &argv[p]),
    };
    server.acl.log.add(
        reason,
        context,
        object,
        client.user.name.as_bytes(),
        client_info(client, argv),
        server.acl.log_max_len.load(Ordering::Relaxed),
    );
}

/// A failed AUTH or HELLO … AUTH: logged with the user name tried and the command name as typed.
pub fn log_auth_failure(ctx: &Ctx, argv: &[Bytes], username: &[u8]) {
    let argv0 = &argv[0];
    let context = if ctx.client.multi.is_some() || ctx.client.in_exec { Context::Multi } else { Context::Toplevel };
    ctx.server.acl.log.add(
        Reason::Auth,
        context,
        argv0,
        username,
        client_info(ctx.client, argv),
        ctx.server.acl.log_max_len.load(Ordering::Relaxed),
    );
}

/// Makes `user` the client's user and marks it authenticated.
pub fn set_user(client: &mut Client, user: Arc<User>) {
    *client.info.user.lock() = Some(user.clone());
    client.user = user;
    client.set_authenticated(true);
}

/// Disconnects the clients authenticated as one of `users` (ACL DELUSER, ACL LOAD), as Redis'
/// `ACLFreeUserAndKillClients`: the running client closes after this reply.
pub fn kill_clients_of(ctx: &mut Ctx, users: &[Arc<User>]) {
    if users.is_empty() {
        return;
    }
    let me = ctx.client.id();
    for c in ctx.server.clients.all() {
        if !users.iter().any(|u| c.is_user(u)) {
            continue;
        }
        *c.user.lock() = Some(ctx.server.acl.default_user().clone());
        c.authenticated.store(false, Ordering::Relaxed);
        if c.id == me {
            ctx.client.user = ctx.server.acl.default_user().clone();
            ctx.client.close_after_reply = true;
        } else {
            c.kill();
        }
    }
}

/// Disconnects the subscribers of `user` holding a subscription its new rules no longer allow (Redis 7.0's
/// `ACLKillPubsubClientsIfNeeded`).
fn kill_revoked_subscribers(ctx: &mut Ctx, user: &Arc<User>, old: &crate::acl::UserState) {
    let Some(allowed) = crate::acl::revoked_channels(old, &user.state()) else { return };
    let victims = ctx.server.pubsub.clients_with(|c, kind, name| {
        c.is_user(user)
            && crate::acl::subscription_refused(&allowed, name, matches!(kind, crate::pubsub::Kind::Pattern))
    });
    let me = ctx.client.id();
    for c in victims {
        if c.id == me {
            ctx.client.close_after_reply = true;
        } else {
            c.kill();
        }
    }
}

fn cat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax(args.argv(), "ACL"));
    }
    let Some(name) = args.peek() else {
        ctx.out.array(CATEGORIES.len());
        CATEGORIES.iter().for_each(|c| ctx.out.bulk(c.as_bytes()));
        return Ok(());
    };
    let Some(flag) = category_bit(name) else {
        return Err(CmdError::err(format!("Unknown category '{}'", arg_text(&name[..name.len().min(128)]))));
    };
    let cat = catalog();
    let names: Vec<&str> = cat.cmds.iter().filter(|c| c.categories & flag != 0).map(|c| c.name.as_str()).collect();
    ctx.out.array(names.len());
    names.into_iter().for_each(|n| ctx.out.bulk(n.as_bytes()));
    Ok(())
}

fn deluser(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let names = args.rest();
    if names.iter().any(|n| &n[..] == b"default") {
        return Err(CmdError::err("The 'default' user cannot be removed"));
    }
    let removed = ctx.server.acl.delete(names);
    kill_clients_of(ctx, &removed);
    ctx.out.int(removed.len() as i64);
    Ok(())
}

fn dryrun(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = args.next_bytes()?;
    let Some(user) = ctx.server.acl.get(name) else {
        return Err(CmdError::err(format!("User '{}' not found", arg_text(name))));
    };
    let argv = args.rest();
    // Any command of Redis' table, implemented or not, as Redis' own DRYRUN.
    let t = super::catalog_table();
    let base = t.lookup(&argv[0]).filter(|_| !argv[0].contains(&b'|'));
    let cmd = match base {
        Some(b) if argv.len() > 1 && b.is_container() => std::str::from_utf8(&argv[1])
            .ok()
            .and_then(|s| b.subcommands.get(&s.to_ascii_lowercase()))
            .map(|&i| &t.entries[i]),
        other => other,
    };
    let Some(cmd) = cmd else {
        return Err(CmdError::err(format!("Command '{}' not found", arg_text(&argv[0]))));
    };
    if !cmd.arity_ok(argv.len()) {
        return Err(CmdError::err(format!("wrong number of arguments for '{}' command", cmd.name)));
    }
    match crate::acl::check(&user, cmd, argv) {
        Ok(()) => ctx.out.ok(),
        Err(Denied::Command) => {
            ctx.out.bulk(format!("This user has no permissions to run the '{}' command", cmd.name).as_bytes())
        }
        Err(Denied::Key(p)) => {
            ctx.out.bulk(format!("This user has no permissions to access the '{}' key", arg_text(&argv[p])).as_bytes())
        }
        Err(Denied::Channel(p)) => ctx
            .out
            .bulk(format!("This user has no permissions to access the '{}' channel", arg_text(&argv[p])).as_bytes()),
    }
    Ok(())
}

fn genpass(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax(args.argv(), "ACL"));
    }
    let bits = if args.is_empty() { 256 } else { args.next_i64()? };
    if bits <= 0 || bits > 4096 {
        return Err(CmdError::err(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        ));
    }
    ctx.out.bulk(crate::acl::genpass(bits as usize).as_bytes());
    Ok(())
}

/// One selector's `commands`, `keys` and `channels` fields.
fn selector_fields(ctx: &mut Ctx, s: &crate::acl::selector::Selector) {
    ctx.out.bulk(b"commands");
    ctx.out.bulk(s.describe_commands().as_bytes());
    ctx.out.bulk(b"keys");
    ctx.out.bulk(&s.describe_keys());
    ctx.out.bulk(b"channels");
    ctx.out.bulk(&s.describe_channels());
}

fn getuser(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let Some(user) = ctx.server.acl.get(args.next_bytes()?) else {
        ctx.out.null();
        return Ok(());
    };
    let state = user.state().clone();
    ctx.out.map(6);
    ctx.out.bulk(b"flags");
    let flags: Vec<&str> =
        crate::acl::user::FLAG_NAMES.iter().filter(|(f, _)| state.flags & f != 0).map(|(_, n)| *n).collect();
    ctx.out.set(flags.len());
    flags.iter().for_each(|f| ctx.out.bulk(f.as_bytes()));
    ctx.out.bulk(b"passwords");
    ctx.out.array(state.passwords.len());
    state.passwords.iter().for_each(|p| ctx.out.bulk(p.as_bytes()));
    selector_fields(ctx, state.root());
    ctx.out.bulk(b"selectors");
    ctx.out.array(state.selectors.len() - 1);
    for s in &state.selectors[1..] {
        ctx.out.map(3);
        selector_fields(ctx, s);
    }
    Ok(())
}

fn list(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let lines = ctx.server.acl.list();
    ctx.out.array(lines.len());
    lines.iter().for_each(|l| ctx.out.bulk(l));
    Ok(())
}

fn users(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let users = ctx.server.acl.all();
    ctx.out.array(users.len());
    users.iter().for_each(|u| ctx.out.bulk(u.name.as_bytes()));
    Ok(())
}

fn whoami(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.bulk(ctx.client.user.name.as_bytes());
    Ok(())
}

/// The `aclfile` option, or Redis' error when there is none.
fn aclfile(ctx: &Ctx) -> CmdResult<String> {
    let file = ctx.server.config.read().str("aclfile").to_string();
    if file.is_empty() {
        return Err(CmdError::err(
            "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL \
             SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in \
             order to store users in the Redis configuration.",
        ));
    }
    Ok(file)
}

/// Text of an I/O error as C's `strerror` gives it (Rust appends ` (os error N)`).
fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn load(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let file = aclfile(ctx)?;
    let text = std::fs::read(&file)
        .map_err(|e| CmdError::err(format!("Error loading ACLs, opening file '{file}': {}", strerror(&e))))?;
    let replaced = ctx.server.acl.load(&file, &String::from_utf8_lossy(&text)).map_err(CmdError::err)?;
    kill_clients_of(ctx, &replaced);
    ctx.out.ok();
    Ok(())
}

fn save(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let file = aclfile(ctx)?;
    if let Err(e) = ctx.server.acl.save(&file) {
        tracing::warn!("ACL SAVE to {file}: {e}");
        return Err(CmdError::err(
            "There was an error trying to save the ACLs. Please check the server logs for more information",
        ));
    }
    ctx.out.ok();
    Ok(())
}

fn log(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax(args.argv(), "ACL"));
    }
    let mut count = 10;
    if let Some(a) = args.peek() {
        if a.eq_ignore_ascii_case(b"reset") {
            ctx.server.acl.log.reset();
            ctx.out.ok();
            return Ok(());
        }
        count = args.next_i64()?.max(0);
    }
    ctx.server.acl.log.render(ctx.out, count as usize);
    Ok(())
}

fn setuser(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = args.next_bytes()?;
    if crate::acl::invalid_name(name) {
        return Err(CmdError::err("Usernames can't contain spaces or null characters"));
    }
    let changed =
        ctx.server.acl.set_user(name, args.rest()).map_err(|e| CmdError::err(e.replace(['\r', '\n'], " ")))?;
    if let Some((user, old)) = changed {
        kill_revoked_subscribers(ctx, &user, &old);
    }
    ctx.out.ok();
    Ok(())
}

fn help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}
