//! Server family: COMMAND (INFO, DOCS, COUNT, LIST, GETKEYS, HELP), INFO, CONFIG (GET, SET, RESETSTAT, REWRITE,
//! HELP), TIME, LASTSAVE and SHUTDOWN.
//!
//! COMMAND replies render Redis 7.0's own metadata (`meta.json`) but advertise only what SableDB implements: the
//! top-level list is the command table, and a container's subcommand list (COMMAND INFO element 10, the COMMAND
//! DOCS `subcommands` map) is rebuilt from the table's implemented subcommands. INFO uses Redis 7.0's section and
//! field names so clients and tools parse it unchanged; values SableDB has no notion of (forks, replication,
//! defragmentation) are reported as a stock standalone Redis reports them when idle.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;

use super::connection::help_reply;
use super::meta::MetaValue;
use super::{table, Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::config::Config;
use crate::resp::reply::Reply;
use crate::util::glob::glob_match;
use crate::util::random_hex;
use crate::util::{arg_text, eq_ic, now_ms, now_us, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    // `command` comes before its subcommands so the table keeps its own handler (plain COMMAND).
    ("command", command),
    ("command|count", command_count),
    ("command|info", command_info),
    ("command|docs", command_docs),
    ("command|list", command_list),
    ("command|getkeys", command_getkeys),
    ("command|getkeysandflags", command_getkeysandflags),
    ("command|help", command_help),
    ("info", info),
    ("config|get", config_get),
    ("config|set", config_set),
    ("config|resetstat", config_resetstat),
    ("config|rewrite", config_rewrite),
    ("config|help", config_help),
    ("time", time),
    ("lastsave", lastsave),
    ("save", save),
    ("bgsave", bgsave),
    ("bgrewriteaof", bgrewriteaof),
    ("lolwut", lolwut),
    ("module|list", module_list),
    ("module|load", module_load),
    ("module|loadex", module_load),
    ("module|unload", module_unload),
    ("module|help", module_help),
    ("shutdown", shutdown),
];

// ---------------------------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------------------------

/// Index of the subcommand list in a COMMAND INFO entry.
const INFO_SUBCOMMANDS: usize = 9;

/// One COMMAND INFO entry; a container lists only its implemented subcommands.
fn render_info(cmd: &Command, out: &mut Reply) {
    let items = cmd.meta.info.items();
    if cmd.subcommands.is_empty() || items.len() <= INFO_SUBCOMMANDS {
        cmd.meta.info.render(out);
        return;
    }
    out.array(items.len());
    for (i, item) in items.iter().enumerate() {
        if i == INFO_SUBCOMMANDS {
            let subs: Vec<&Command> = table().subcommands_of(cmd).collect();
            out.array(subs.len());
            subs.into_iter().for_each(|s| render_info(s, out));
        } else {
            item.render(out);
        }
    }
}

/// One COMMAND DOCS entry; a container's `subcommands` map holds only its implemented subcommands.
fn render_docs(cmd: &Command, out: &mut Reply) {
    let MetaValue::Map(pairs) = &cmd.meta.docs else {
        cmd.meta.docs.render(out);
        return;
    };
    out.map(pairs.len());
    for (k, v) in pairs {
        k.render(out);
        if cmd.subcommands.is_empty() || k.as_str() != Some("subcommands") {
            v.render(out);
            continue;
        }
        let subs: Vec<&Command> = table().subcommands_of(cmd).collect();
        out.map(subs.len());
        for s in subs {
            out.bulk(s.name.as_bytes());
            render_docs(s, out);
        }
    }
}

/// COMMAND INFO / DOCS names: a top-level command or `container|sub`, case-insensitively.
fn lookup_full_name(name: &[u8]) -> Option<&'static Command> {
    table().by_full_name(std::str::from_utf8(name).ok()?)
}

fn command(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    all_info(ctx.out);
    Ok(())
}

fn all_info(out: &mut Reply) {
    let cmds: Vec<&Command> = table().top_level().collect();
    out.array(cmds.len());
    cmds.into_iter().for_each(|c| render_info(c, out));
}

fn command_count(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.int(table().top_level().count() as i64);
    Ok(())
}

fn command_info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.is_empty() {
        all_info(ctx.out);
        return Ok(());
    }
    let names = args.rest();
    ctx.out.array(names.len());
    for name in names {
        match lookup_full_name(name) {
            Some(c) => render_info(c, ctx.out),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn command_docs(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let cmds: Vec<&Command> = if args.is_empty() {
        table().top_level().collect()
    } else {
        // Unknown names are left out of the map.
        args.rest().iter().filter_map(|n| lookup_full_name(n)).collect()
    };
    ctx.out.map(cmds.len());
    for c in cmds {
        ctx.out.bulk(c.name.as_bytes());
        render_docs(c, ctx.out);
    }
    Ok(())
}

/// A COMMAND LIST filter.
enum ListFilter<'a> {
    /// SableDB loads no modules, so this matches nothing.
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

impl ListFilter<'_> {
    fn keeps(&self, cmd: &Command) -> bool {
        match self {
            ListFilter::Module => false,
            ListFilter::AclCat(cat) => {
                cmd.meta.acl_categories().iter().any(|c| eq_ic(c.strip_prefix('@').unwrap_or(c).as_bytes(), cat))
            }
            ListFilter::Pattern(p) => glob_match(p, cmd.name.as_bytes(), true),
        }
    }
}

fn command_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let filter = match args.rest() {
        [] => None,
        [by, kind, arg] if eq_ic(by, b"filterby") => Some(if eq_ic(kind, b"module") {
            ListFilter::Module
        } else if eq_ic(kind, b"aclcat") {
            ListFilter::AclCat(arg)
        } else if eq_ic(kind, b"pattern") {
            ListFilter::Pattern(arg)
        } else {
            return Err(CmdError::Syntax);
        }),
        _ => return Err(CmdError::Syntax),
    };
    let t = table();
    let names: Vec<&str> = t
        .top_level()
        .flat_map(|c| std::iter::once(c).chain(t.subcommands_of(c)))
        .filter(|c| filter.as_ref().is_none_or(|f| f.keeps(c)))
        .map(|c| c.name.as_str())
        .collect();
    ctx.out.array(names.len());
    names.into_iter().for_each(|n| ctx.out.bulk(n.as_bytes()));
    Ok(())
}

/// True when a key specification carries `flag` (flag words compare case-insensitively: `RO`, `not_key`…).
fn spec_has(spec: &MetaValue, flag: &str) -> bool {
    spec.get("flags")
        .is_some_and(|f| f.items().iter().any(|w| w.as_str().is_some_and(|w| w.eq_ignore_ascii_case(flag))))
}

/// An integer field of a key specification's `begin_search` or `find_keys` part.
fn spec_int(part: &MetaValue, field: &str) -> Option<i64> {
    part.get("spec")?.get(field)?.as_int()
}

/// Positions of the keys in `argv` (`argv[0]` is the command name) by Redis' key specifications, computed as
/// Redis' `getKeysUsingKeySpecs` does. `None` when a specification cannot be applied (unknown or incomplete, a
/// bad key count, out of bounds): Redis then asks the command's own key finder, which for these arguments finds
/// no keys either.
#[cfg(test)]
fn key_positions(specs: &[MetaValue], argv: &[Bytes]) -> Option<Vec<usize>> {
    Some(keys_with_specs(specs, argv)?.into_iter().map(|(pos, _)| pos).collect())
}

/// [`key_positions`] with, for each key, the specification that found it (its flags: COMMAND GETKEYSANDFLAGS).
fn keys_with_specs<'a>(specs: &'a [MetaValue], argv: &[Bytes]) -> Option<Vec<(usize, &'a MetaValue)>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in specs {
        if spec_has(spec, "not_key") {
            continue;
        }
        let begin = spec.get("begin_search")?;
        let first = match begin.get("type")?.as_str()? {
            "index" => spec_int(begin, "index")?,
            "keyword" => {
                let keyword = begin.get("spec")?.get("keyword")?.as_str()?.as_bytes();
                let startfrom = spec_int(begin, "startfrom")?;
                let (start, end) = if startfrom > 0 { (startfrom, argc - 1) } else { (argc + startfrom, 1) };
                let mut found = 0;
                let mut i = start;
                while i != end && i >= 1 && i < argc {
                    if eq_ic(&argv[i as usize], keyword) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    // No keyword: this specification names no keys.
                    continue;
                }
                found
            }
            _ => return None,
        };
        let find = spec.get("find_keys")?;
        let (first, last, step) = match find.get("type")?.as_str()? {
            "range" => {
                let lastkey = spec_int(find, "lastkey")?;
                let limit = spec_int(find, "limit")?;
                let last = if lastkey >= 0 {
                    first.checked_add(lastkey)?
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (first, last, spec_int(find, "keystep")?)
            }
            "keynum" => {
                let idx = first.checked_add(spec_int(find, "keynumidx")?)?;
                if idx < 0 || idx >= argc {
                    return None;
                }
                let numkeys = parse_i64(&argv[idx as usize]).filter(|n| *n >= 0)?;
                let first = first.checked_add(spec_int(find, "firstkey")?)?;
                (first, first.checked_add(numkeys)? - 1, spec_int(find, "keystep")?)
            }
            _ => return None,
        };
        if last >= argc || last < first || first >= argc || first < 0 {
            return None;
        }
        keys.extend((first..=last).step_by(step.max(1) as usize).map(|i| (i as usize, spec)));
        if spec_has(spec, "incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// SORT's keys, whose STORE option its key specs cannot describe (Redis' `sortGetKeys`): the sorted key and the
/// destination of the last STORE, the arguments of LIMIT, GET and BY skipped.
fn sort_keys(argv: &[Bytes]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let word = &argv[i];
        if word.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if word.eq_ignore_ascii_case(b"get") || word.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if word.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// MIGRATE's keys (Redis' `migrateGetKeys`): the key argument, or with KEYS (and an empty key argument) every
/// argument after it; AUTH and AUTH2 skip their credentials.
fn migrate_keys(argv: &[Bytes]) -> Vec<usize> {
    let (mut first, mut num) = (3, 1);
    if argv.len() > 6 {
        let mut i = 6;
        while i < argv.len() {
            let w = &argv[i];
            if w.eq_ignore_ascii_case(b"keys") {
                if !argv[3].is_empty() {
                    return Vec::new();
                }
                first = i + 1;
                num = argv.len() - first;
                break;
            }
            if w.eq_ignore_ascii_case(b"auth") {
                i += 1;
            } else if w.eq_ignore_ascii_case(b"auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    (first..first + num).filter(|&p| p < argv.len()).collect()
}

/// Key flags of SORT's keys as Redis' `sortGetKeys` sets them: the sorted key, then the STORE destination.
const SORT_KEY_FLAGS: [&[&str]; 2] = [&["RO", "access"], &["OW", "update"]];

/// SET's key flags, which its key spec leaves variable (Redis' `setGetKeys`): with a GET option the old value is
/// read, `RW access update`; without, `OW update`.
fn set_key_flags(argv: &[Bytes]) -> &'static [&'static str] {
    if argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get")) {
        &["RW", "access", "update"]
    } else {
        &["OW", "update"]
    }
}

/// BITFIELD's key flags (Redis' `bitfieldGetKeys`): `RO access` when every operation is a GET (OVERFLOW
/// allowed), else `RW access update` (a malformed list too, as Redis assumes the worse).
fn bitfield_key_flags(argv: &[Bytes]) -> &'static [&'static str] {
    let mut i = 2;
    while i < argv.len() {
        let rest = argv.len() - i - 1;
        let op = &argv[i];
        if op.eq_ignore_ascii_case(b"get") && rest >= 2 {
            i += 3;
        } else if op.eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            i += 2;
        } else {
            return &["RW", "access", "update"];
        }
    }
    &["RO", "access"]
}

/// A key specification's flag words, in Redis' order (`RW`, `access`, `delete`…).
fn spec_flags(spec: &MetaValue) -> Vec<&str> {
    spec.get("flags").map(|f| f.items().iter().filter_map(|w| w.as_str()).collect()).unwrap_or_default()
}

/// The keys of `argv` (a full command, already resolved to `cmd`), each with its key flags, as Redis'
/// `getKeysFromCommandWithSpecs` finds them: COMMAND GETKEYS and the ACL key checks.
fn command_keys<'a>(cmd: &'a Command, argv: &[Bytes]) -> Vec<(usize, Vec<&'a str>)> {
    let specs = cmd.meta.key_specs();
    // SORT's and SORT_RO's BY/GET patterns are key specs of unknown position, and SET's and BITFIELD's key flags
    // depend on their options: Redis has a function for each.
    let keys: Option<Vec<(usize, Vec<&str>)>> = match cmd.name.as_str() {
        "set" if argv.len() > 1 => Some(vec![(1, set_key_flags(argv).to_vec())]),
        "bitfield" if argv.len() > 1 => Some(vec![(1, bitfield_key_flags(argv).to_vec())]),
        "sort" if argv.len() > 1 => {
            Some(sort_keys(argv).into_iter().zip(SORT_KEY_FLAGS).map(|(p, f)| (p, f.to_vec())).collect())
        }
        "sort_ro" if argv.len() > 1 => Some(vec![(1, SORT_KEY_FLAGS[0].to_vec())]),
        "migrate" => Some(migrate_keys(argv).into_iter().map(|p| (p, vec!["RW", "access", "delete"])).collect()),
        _ => keys_with_specs(specs, argv).map(|keys| keys.into_iter().map(|(p, spec)| (p, spec_flags(spec))).collect()),
    };
    keys.unwrap_or_default()
}

/// The keys an ACL check looks at: (position in `argv`, permissions needed). A key spec's `access` flag needs
/// read permission, `insert`, `delete` and `update` need write permission (Redis' `ACLSelectorCheckKey`).
pub fn key_permissions(cmd: &Command, argv: &[Bytes]) -> Vec<(usize, u8)> {
    use crate::acl::selector::{READ, WRITE};
    command_keys(cmd, argv)
        .into_iter()
        .map(|(pos, flags)| {
            let perms = flags.iter().fold(0, |p, f| {
                p | match *f {
                    "access" => READ,
                    "insert" | "delete" | "update" => WRITE,
                    _ => 0,
                }
            });
            (pos, perms)
        })
        .collect()
}

/// The positions in `argv` of the keys of a resolved command (client-side caching remembers them).
pub fn command_key_positions(cmd: &Command, argv: &[Bytes]) -> Vec<usize> {
    command_keys(cmd, argv).into_iter().map(|(pos, _)| pos).collect()
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of `argv` (a full command), each with its key flags.
fn getkeys(argv: &[Bytes]) -> Result<Vec<(&Bytes, Vec<&str>)>, CmdError> {
    let t = table();
    // As Redis' lookupCommand: a top-level name, then a subcommand word when the command has subcommands.
    let base = std::str::from_utf8(&argv[0]).ok().filter(|n| !n.contains('|')).and_then(|n| t.by_full_name(n));
    let cmd = match (base, argv.get(1)) {
        (Some(b), Some(sub)) if !b.subcommands.is_empty() => std::str::from_utf8(sub)
            .ok()
            .and_then(|s| b.subcommands.get(&s.to_ascii_lowercase()))
            .map(|&i| &t.entries[i]),
        (b, _) => b,
    };
    let Some(cmd) = cmd else {
        return Err(CmdError::err("Invalid command specified"));
    };
    if !cmd.meta.key_specs().iter().any(|s| !spec_has(s, "not_key")) {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !cmd.arity_ok(argv.len()) {
        return Err(CmdError::err("Invalid number of arguments specified for command"));
    }
    let keys = command_keys(cmd, argv);
    if keys.is_empty() && !cmd.meta.flags().contains(&"no_mandatory_keys") {
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    Ok(keys.into_iter().map(|(p, f)| (&argv[p], f)).collect())
}

fn command_getkeys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = getkeys(args.rest())?;
    ctx.out.array(keys.len());
    keys.into_iter().for_each(|(k, _)| ctx.out.bulk(k));
    Ok(())
}

/// COMMAND GETKEYSANDFLAGS: `[[key, {flag…}]…]`, the flags as status strings in a set, as Redis replies.
fn command_getkeysandflags(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = getkeys(args.rest())?;
    ctx.out.array(keys.len());
    for (key, flags) in keys {
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.set(flags.len());
        flags.into_iter().for_each(|f| ctx.out.simple(f));
    }
    Ok(())
}

fn command_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------------------------

/// Writes the lines of one INFO section (without its header).
type SectionFn = fn(&Ctx, &mut String);

/// INFO sections in Redis' output order: (name, header, part of `default`, writer).
const SECTIONS: &[(&str, &str, bool, SectionFn)] = &[
    ("server", "Server", true, info_server),
    ("clients", "Clients", true, info_clients),
    ("memory", "Memory", true, info_memory),
    ("persistence", "Persistence", true, info_persistence),
    ("stats", "Stats", true, info_stats),
    ("replication", "Replication", true, info_replication),
    ("cpu", "CPU", true, info_cpu),
    ("modules", "Modules", true, |_, _| {}),
    ("commandstats", "Commandstats", false, info_commandstats),
    ("errorstats", "Errorstats", true, info_errorstats),
    ("latencystats", "Latencystats", false, |ctx, s| ctx.server.diag.latency_stats(s)),
    ("cluster", "Cluster", true, |_, s| field(s, "cluster_enabled", 0)),
    ("keyspace", "Keyspace", true, info_keyspace),
];

/// Which of [`SECTIONS`] INFO's arguments select: none means `default`; `all` and `everything` mean all of them;
/// names are case-insensitive and unknown ones select nothing.
fn selected_sections(args: &[Bytes]) -> Vec<bool> {
    let mut on = vec![false; SECTIONS.len()];
    if args.is_empty() {
        return SECTIONS.iter().map(|s| s.2).collect();
    }
    for a in args {
        for (i, s) in SECTIONS.iter().enumerate() {
            if eq_ic(a, b"all") || eq_ic(a, b"everything") || (eq_ic(a, b"default") && s.2) || eq_ic(a, s.0.as_bytes())
            {
                on[i] = true;
            }
        }
    }
    on
}

fn info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut text = String::new();
    for (on, (_, header, _, write)) in selected_sections(args.rest()).into_iter().zip(SECTIONS) {
        if !on {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        text.push_str("# ");
        text.push_str(header);
        text.push_str("\r\n");
        write(ctx, &mut text);
    }
    ctx.out.verbatim(&text);
    Ok(())
}

/// One `name:value` line.
fn field(s: &mut String, name: &str, value: impl Display) {
    use std::fmt::Write;
    let _ = write!(s, "{name}:{value}\r\n");
}

/// A byte count as Redis' `bytesToHuman` writes it (`967.34K`, `1.50G`).
fn bytes_to_human(n: u64) -> String {
    const UNITS: &[&str] = &["K", "M", "G", "T", "P"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut scale = 1024f64;
    for unit in UNITS {
        if (n as f64) < scale * 1024.0 {
            return format!("{:.2}{unit}", n as f64 / scale);
        }
        scale *= 1024.0;
    }
    format!("{n}B")
}

/// A `Key: N kB` line of a /proc status file, in bytes.
pub(super) fn proc_kb(path: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// `utime stime cutime cstime` of a /proc stat file, in clock ticks.
fn proc_cpu_ticks(path: &str) -> [u64; 4] {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // The command name in parentheses may contain spaces; the numeric fields start after the last ')'.
    let after = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<u64> = after.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
    // Fields 14..17 of stat(5); `after` starts at field 3.
    [11, 12, 13, 14].map(|i| f.get(i).copied().unwrap_or(0))
}

/// Clock ticks as Redis prints CPU seconds (`0.062031`). /proc reports in USER_HZ, 100 on Linux.
fn ticks_to_secs(ticks: u64) -> String {
    format!("{}.{:06}", ticks / 100, (ticks % 100) * 10_000)
}

fn info_server(ctx: &Ctx, s: &mut String) {
    let cfg = ctx.server.config.read();
    let uptime = ctx.server.started.elapsed().as_secs();
    let os = |f: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{f}")).unwrap_or_default().trim().to_string();
    field(s, "redis_version", &table().redis_version);
    field(s, "redis_git_sha1", "00000000");
    field(s, "redis_git_dirty", 0);
    field(s, "redis_build_id", 0);
    field(s, "redis_mode", "standalone");
    field(s, "os", format!("{} {} {}", os("ostype"), os("osrelease"), std::env::consts::ARCH));
    field(s, "arch_bits", usize::BITS);
    field(s, "monotonic_clock", "POSIX clock_gettime");
    field(s, "multiplexing_api", "epoll");
    field(s, "atomicvar_api", "c11-builtin");
    field(s, "gcc_version", "0.0.0");
    field(s, "process_id", std::process::id());
    field(s, "process_supervised", "no");
    field(s, "run_id", &ctx.server.run_id);
    field(s, "tcp_port", cfg.int("port"));
    field(s, "server_time_usec", now_us());
    field(s, "uptime_in_seconds", uptime);
    field(s, "uptime_in_days", uptime / 86400);
    field(s, "hz", cfg.int("hz"));
    field(s, "configured_hz", cfg.int("hz"));
    field(s, "lru_clock", (now_ms() / 1000) & ((1 << 24) - 1));
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    field(s, "executable", exe);
    let file = cfg.file.as_ref().map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()).display().to_string());
    field(s, "config_file", file.unwrap_or_default());
    field(s, "io_threads_active", 0);
    field(s, "sabledb_version", env!("CARGO_PKG_VERSION"));
}

fn info_clients(ctx: &Ctx, s: &mut String) {
    let clients = ctx.server.clients.all();
    let max_in = clients.iter().map(|c| c.qbuf.load(Ordering::Relaxed)).max().unwrap_or(0);
    let max_out = clients.iter().map(|c| c.output_bytes()).max().unwrap_or(0);
    field(s, "connected_clients", clients.len());
    field(s, "cluster_connections", 0);
    field(s, "maxclients", ctx.server.config.read().int("maxclients"));
    field(s, "client_recent_max_input_buffer", max_in);
    field(s, "client_recent_max_output_buffer", max_out);
    field(s, "blocked_clients", clients.iter().filter(|c| c.blocked.load(Ordering::Relaxed)).count());
    field(s, "tracking_clients", ctx.store.tracking.stats().0);
    field(s, "clients_in_timeout_table", 0);
}

/// The highest resident set size INFO has seen (Redis samples its peak in its cron; SableDB when asked).
pub(super) static RSS_PEAK: AtomicU64 = AtomicU64::new(0);

fn info_memory(ctx: &Ctx, s: &mut String) {
    let store = ctx.store;
    let prop = |name: &str| store.property(name).unwrap_or(0);
    // The process is SableDB's memory: RocksDB's caches and memtables plus connection buffers. There is no
    // separate allocator figure, so the allocator's and the resident set's fields are the resident set.
    let rss = proc_kb("/proc/self/status", "VmRSS");
    let peak = RSS_PEAK.fetch_max(rss, Ordering::Relaxed).max(rss);
    let startup = ctx.server.diag.startup_rss;
    let cache = prop("rocksdb.block-cache-usage");
    let memtables = prop("rocksdb.cur-size-all-mem-tables");
    let readers = prop("rocksdb.estimate-table-readers-mem");
    let overhead = cache + memtables + readers;
    // The data set is on disk; what is in memory beyond RocksDB's structures is the process' own.
    let dataset = rss.saturating_sub(overhead);
    let net = rss.saturating_sub(startup);
    let total = proc_kb("/proc/meminfo", "MemTotal");
    let cfg = ctx.server.config.read();
    let maxmemory = cfg.int("maxmemory").max(0) as u64;
    let percent =
        |part: u64, whole: u64| format!("{:.2}%", if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 });
    field(s, "used_memory", rss);
    field(s, "used_memory_human", bytes_to_human(rss));
    field(s, "used_memory_rss", rss);
    field(s, "used_memory_rss_human", bytes_to_human(rss));
    field(s, "used_memory_peak", peak);
    field(s, "used_memory_peak_human", bytes_to_human(peak));
    field(s, "used_memory_peak_perc", percent(rss, peak));
    field(s, "used_memory_overhead", overhead);
    field(s, "used_memory_startup", startup);
    field(s, "used_memory_dataset", dataset);
    field(s, "used_memory_dataset_perc", percent(dataset.min(net), net));
    for name in ["allocator_allocated", "allocator_active", "allocator_resident"] {
        field(s, name, rss);
    }
    field(s, "total_system_memory", total);
    field(s, "total_system_memory_human", bytes_to_human(total));
    // One Lua state per worker thread runs both EVAL scripts and functions; this is the one of the thread
    // answering INFO.
    let lua = crate::scripting::vm_memory() as u64;
    field(s, "used_memory_lua", lua);
    field(s, "used_memory_vm_eval", lua);
    field(s, "used_memory_lua_human", bytes_to_human(lua));
    let (scripts, script_bytes) = ctx.server.scripts.usage();
    field(s, "used_memory_scripts_eval", script_bytes);
    field(s, "number_of_cached_scripts", scripts);
    let (libraries, functions) = ctx.server.functions.counts();
    field(s, "number_of_functions", functions);
    field(s, "number_of_libraries", libraries);
    field(s, "used_memory_vm_functions", 0);
    field(s, "used_memory_vm_total", lua);
    field(s, "used_memory_vm_total_human", bytes_to_human(lua));
    let function_bytes = ctx.server.functions.usage();
    field(s, "used_memory_functions", function_bytes);
    field(s, "used_memory_scripts", script_bytes + function_bytes);
    field(s, "used_memory_scripts_human", bytes_to_human((script_bytes + function_bytes) as u64));
    field(s, "maxmemory", maxmemory);
    field(s, "maxmemory_human", bytes_to_human(maxmemory));
    field(s, "maxmemory_policy", cfg.str("maxmemory-policy"));
    for (ratio, bytes) in [
        ("allocator_frag_ratio", "allocator_frag_bytes"),
        ("allocator_rss_ratio", "allocator_rss_bytes"),
        ("rss_overhead_ratio", "rss_overhead_bytes"),
        ("mem_fragmentation_ratio", "mem_fragmentation_bytes"),
    ] {
        field(s, ratio, "1.00");
        field(s, bytes, 0);
    }
    let buffers: usize =
        ctx.server.clients.all().iter().map(|c| c.qbuf.load(Ordering::Relaxed) + c.output_bytes()).sum();
    // Nothing is excluded from the maxmemory check (no replication backlog, no AOF buffer).
    for name in
        ["mem_not_counted_for_evict", "mem_replication_backlog", "mem_total_replication_buffers", "mem_clients_slaves"]
    {
        field(s, name, 0);
    }
    field(s, "mem_clients_normal", buffers);
    field(s, "mem_cluster_links", 0);
    field(s, "mem_aof_buffer", 0);
    field(s, "mem_allocator", "mimalloc");
    for name in ["active_defrag_running", "lazyfree_pending_objects", "lazyfreed_objects"] {
        field(s, name, 0);
    }
    field(s, "rocksdb_block_cache_usage", cache);
    field(s, "rocksdb_block_cache_capacity", prop("rocksdb.block-cache-capacity"));
    field(s, "rocksdb_memtables", memtables);
    field(s, "rocksdb_table_readers", readers);
}

fn info_persistence(ctx: &Ctx, s: &mut String) {
    for (name, value) in [
        ("loading", "0"),
        ("async_loading", "0"),
        ("current_cow_peak", "0"),
        ("current_cow_size", "0"),
        ("current_cow_size_age", "0"),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", "0"),
        ("current_save_keys_total", "0"),
    ] {
        field(s, name, value);
    }
    // Keys changed by commands; each of those changes was in the write-ahead log before its reply.
    field(s, "rdb_changes_since_last_save", ctx.store.changes.load(Ordering::Relaxed));
    let saves = &ctx.server.saves;
    let running = saves.in_progress.load(Ordering::Relaxed);
    field(s, "rdb_bgsave_in_progress", running as u8);
    field(s, "rdb_last_save_time", ctx.server.last_save.load(Ordering::Relaxed));
    let failed = saves.last_bgsave_failed.load(Ordering::Relaxed);
    field(s, "rdb_last_bgsave_status", if failed { "err" } else { "ok" });
    field(s, "rdb_last_bgsave_time_sec", saves.last_bgsave_secs.load(Ordering::Relaxed));
    let current = (now_ms() / 1000).saturating_sub(saves.started_at.load(Ordering::Relaxed));
    field(s, "rdb_current_bgsave_time_sec", if running { current as i64 } else { -1 });
    field(s, "rdb_saves", saves.count.load(Ordering::Relaxed));
    for (name, value) in [
        ("rdb_last_cow_size", "0"),
        ("rdb_last_load_keys_expired", "0"),
        ("rdb_last_load_keys_loaded", "0"),
        ("aof_enabled", "0"),
        ("aof_rewrite_in_progress", "0"),
        ("aof_rewrite_scheduled", "0"),
        ("aof_last_rewrite_time_sec", "-1"),
        ("aof_current_rewrite_time_sec", "-1"),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", "0"),
        ("aof_rewrites_consecutive_failures", "0"),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", "0"),
        ("module_fork_in_progress", "0"),
        ("module_fork_last_cow_size", "0"),
    ] {
        field(s, name, value);
    }
    field(s, "wal_fsync", ctx.server.config.read().str("wal_fsync"));
    field(s, "rocksdb_live_data_size", ctx.store.property("rocksdb.estimate-live-data-size").unwrap_or(0));
    field(s, "rocksdb_sst_files_size", ctx.store.property("rocksdb.total-sst-files-size").unwrap_or(0));
    field(s, "collections_pending_cleanup", ctx.store.garbage_pending());
}

fn info_stats(ctx: &Ctx, s: &mut String) {
    let st = &ctx.server.stats;
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    field(s, "total_connections_received", get(&ctx.server.clients.total_connections));
    field(s, "total_commands_processed", get(&st.commands_processed));
    field(s, "total_net_input_bytes", get(&st.net_input_bytes));
    field(s, "total_net_output_bytes", get(&st.net_output_bytes));
    field(s, "total_net_repl_input_bytes", 0);
    field(s, "total_net_repl_output_bytes", 0);
    field(s, "rejected_connections", get(&ctx.server.clients.rejected_connections));
    field(s, "sync_full", 0);
    field(s, "sync_partial_ok", 0);
    field(s, "sync_partial_err", 0);
    field(s, "expired_keys", get(&ctx.store.expired_keys));
    for name in ["evicted_keys", "evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time"] {
        field(s, name, 0);
    }
    field(s, "keyspace_hits", get(&st.keyspace_hits));
    field(s, "keyspace_misses", get(&st.keyspace_misses));
    let (channels, patterns, shard_channels) = ctx.server.pubsub.counts();
    field(s, "pubsub_channels", channels);
    field(s, "pubsub_patterns", patterns);
    field(s, "pubsubshard_channels", shard_channels);
    field(s, "latest_fork_usec", 0);
    field(s, "total_forks", 0);
    field(s, "migrate_cached_sockets", ctx.server.migrate_sockets.len());
    for name in [
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        field(s, name, 0);
    }
    let (_, keys, items, prefixes) = ctx.store.tracking.stats();
    field(s, "tracking_total_keys", keys);
    field(s, "tracking_total_items", items);
    field(s, "tracking_total_prefixes", prefixes);
    field(s, "unexpected_error_replies", 0);
    field(s, "total_error_replies", get(&st.error_replies));
    field(s, "dump_payload_sanitizations", 0);
    field(s, "io_threaded_reads_processed", 0);
    field(s, "io_threaded_writes_processed", 0);
}

fn info_replication(ctx: &Ctx, s: &mut String) {
    // A replication id is stable for the life of the process, as Redis' is until a failover.
    static REPLID: OnceLock<String> = OnceLock::new();
    field(s, "role", "master");
    field(s, "connected_slaves", 0);
    field(s, "master_failover_state", "no-failover");
    field(s, "master_replid", REPLID.get_or_init(|| random_hex(40)));
    field(s, "master_replid2", "0".repeat(40));
    field(s, "master_repl_offset", 0);
    field(s, "second_repl_offset", -1);
    field(s, "repl_backlog_active", 0);
    field(s, "repl_backlog_size", ctx.server.config.read().int("repl-backlog-size"));
    field(s, "repl_backlog_first_byte_offset", 0);
    field(s, "repl_backlog_histlen", 0);
}

fn info_cpu(_ctx: &Ctx, s: &mut String) {
    let [user, sys, cuser, csys] = proc_cpu_ticks("/proc/self/stat");
    let [muser, msys, _, _] = proc_cpu_ticks(&format!("/proc/self/task/{}/stat", std::process::id()));
    field(s, "used_cpu_sys", ticks_to_secs(sys));
    field(s, "used_cpu_user", ticks_to_secs(user));
    field(s, "used_cpu_sys_children", ticks_to_secs(csys));
    field(s, "used_cpu_user_children", ticks_to_secs(cuser));
    field(s, "used_cpu_sys_main_thread", ticks_to_secs(msys));
    field(s, "used_cpu_user_main_thread", ticks_to_secs(muser));
}

fn info_commandstats(_ctx: &Ctx, s: &mut String) {
    for c in &table().entries {
        let st = &c.stats;
        let (calls, usec) = (st.calls.load(Ordering::Relaxed), st.usec.load(Ordering::Relaxed));
        let (rejected, failed) = (st.rejected.load(Ordering::Relaxed), st.failed.load(Ordering::Relaxed));
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let per_call = if calls == 0 { 0.0 } else { usec as f64 / calls as f64 };
        field(
            s,
            &format!("cmdstat_{}", c.name),
            format!(
                "calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}"
            ),
        );
    }
}

fn info_errorstats(ctx: &Ctx, s: &mut String) {
    for (prefix, count) in ctx.server.stats.errors_by_prefix.lock().iter() {
        field(s, &format!("errorstat_{prefix}"), format!("count={count}"));
    }
}

fn info_keyspace(ctx: &Ctx, s: &mut String) {
    for db in 0..ctx.store.databases() as usize {
        let keys = ctx.store.key_count(db);
        if keys > 0 {
            field(s, &format!("db{db}"), format!("keys={keys},expires={},avg_ttl=0", ctx.store.expire_count(db)));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------------------------------------------

/// The canonical name of a parameter given exactly (not as a pattern), as CONFIG GET lists it.
fn canonical_name(cfg: &Config, name: &str) -> Option<String> {
    cfg.get(name)?;
    // Without glob characters a pattern matches exactly its own parameter (names compare as Config does).
    cfg.matching(name).into_iter().next().map(|(n, _)| n)
}

fn config_get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let cfg = ctx.server.config.read();
    let mut seen = std::collections::HashSet::new();
    let mut found: Vec<(Vec<u8>, String)> = Vec::new();
    for given in args.rest() {
        let pattern = String::from_utf8_lossy(given);
        if !pattern.contains(['[', '*', '?']) {
            // An exact name is answered under the name as given, as Redis does.
            if let (Some(name), Some(value)) = (canonical_name(&cfg, &pattern), cfg.get(&pattern)) {
                if seen.insert(name) {
                    found.push((given.to_vec(), value.to_string()));
                }
            }
            continue;
        }
        for (name, value) in cfg.matching(&pattern) {
            if seen.insert(name.clone()) {
                found.push((name.into_bytes(), value));
            }
        }
    }
    ctx.out.map(found.len());
    for (name, value) in found {
        ctx.out.bulk(&name);
        ctx.out.bulk(value.as_bytes());
    }
    Ok(())
}

/// CONFIG SET name value [name value …]: all or nothing. As Redis 7, the names are checked first (unknown,
/// immutable, given twice), then the values in order; the first failure is reported and nothing changes.
fn config_set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let rest = args.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(String, String)> = rest
        .chunks(2)
        .map(|p| (String::from_utf8_lossy(&p[0]).into_owned(), String::from_utf8_lossy(&p[1]).into_owned()))
        .collect();
    let raw_names = rest.iter().step_by(2);
    let _serial = ctx.server.config_set_serial.lock();
    let (old, next, names) = {
        let cfg = ctx.server.config.read();
        let mut next = cfg.clone();
        let mut names: Vec<String> = Vec::with_capacity(pairs.len());
        for ((name, _), raw) in pairs.iter().zip(raw_names) {
            let Some(canonical) = canonical_name(&cfg, name) else {
                return Err(CmdError::err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{}'",
                    arg_text(raw)
                )));
            };
            // Setting the current value refuses exactly the parameters that cannot change at run time.
            let current = cfg.get(name).unwrap_or_default().to_string();
            next.set_runtime(name, &current).map_err(CmdError::err)?;
            if names.contains(&canonical) {
                return Err(CmdError::err(format!(
                    "CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"
                )));
            }
            names.push(canonical);
        }
        for (canonical, (_, value)) in names.iter().zip(&pairs) {
            next.set_runtime(canonical, value).map_err(CmdError::err)?;
        }
        (cfg.clone(), next, names)
    };
    // The apply step: new listeners for port, tls-port and bind, bound here. It runs without the config lock
    // (the acceptor thread reads the config); a failure leaves every parameter of the command as it was.
    crate::net::apply_listeners(ctx.server, &old, &next, &names).map_err(|(name, msg)| {
        CmdError::err(format!("CONFIG SET failed (possibly related to argument '{name}') - {msg}"))
    })?;
    *ctx.server.config.write() = next;
    ctx.server.config_changed();
    ctx.out.ok();
    Ok(())
}

fn config_resetstat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.stats.reset();
    for c in [&ctx.server.clients.total_connections, &ctx.server.clients.rejected_connections, &ctx.store.expired_keys]
    {
        c.store(0, Ordering::Relaxed);
    }
    table().entries.iter().for_each(|c| c.stats.reset());
    ctx.out.ok();
    Ok(())
}

fn config_rewrite(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.server.config.read().rewrite().map_err(CmdError::err)?;
    ctx.out.ok();
    Ok(())
}

fn config_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// TIME, LASTSAVE, SHUTDOWN
// ---------------------------------------------------------------------------------------------------------------

fn time(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let us = now_us();
    ctx.out.array(2);
    ctx.out.bulk_int((us / 1_000_000) as i64);
    ctx.out.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

fn lastsave(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.int(ctx.server.last_save.load(Ordering::Relaxed) as i64);
    Ok(())
}

/// SAVE: SableDB writes no RDB file, and every write is in the WAL before its reply; a save syncs the WAL and
/// flushes every memtable to SST files (see [`crate::storage::Store::save`]), then LASTSAVE moves.
fn save(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let saves = &ctx.server.saves;
    if saves.in_progress.load(Ordering::Acquire) {
        return Err(CmdError::err("Background save already in progress"));
    }
    saves.count.fetch_add(1, Ordering::Relaxed);
    ctx.store.save()?;
    ctx.server.last_save.store(now_ms() / 1000, Ordering::Relaxed);
    ctx.out.ok();
    Ok(())
}

/// BGSAVE [SCHEDULE]: the work of SAVE on a thread of its own (INFO `rdb_bgsave_in_progress:1` while it runs).
/// Inside a transaction Redis only schedules it ("Background saving scheduled"); SableDB starts it at once.
/// BGREWRITEAOF: SableDB's append-only log is RocksDB's write-ahead log, which every acknowledged write is in;
/// its rewrite is a flush of the memtables to table files in the background, after which RocksDB drops the
/// log's old segments.
fn bgrewriteaof(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let store = ctx.server.store.clone();
    std::thread::Builder::new()
        .name("bgrewriteaof".into())
        .spawn(move || {
            if let Err(e) = store.flush_log() {
                tracing::error!("BGREWRITEAOF: {}", e.message());
            }
        })
        .map_err(|e| CmdError::err(format!("cannot start the log rewrite: {e}")))?;
    ctx.out.simple("Background append only file rewriting started");
    Ok(())
}

fn bgsave(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    match args.remaining() {
        0 => {}
        1 if args.eat("schedule") => {}
        _ => return Err(CmdError::Syntax),
    }
    let saves = ctx.server.saves.clone();
    if saves.in_progress.swap(true, Ordering::AcqRel) {
        return Err(CmdError::err("Background save already in progress"));
    }
    saves.count.fetch_add(1, Ordering::Relaxed);
    saves.started_at.store(now_ms() / 1000, Ordering::Relaxed);
    let store = ctx.server.store.clone();
    let last_save = ctx.server.last_save.clone();
    let state = saves.clone();
    let spawned = std::thread::Builder::new().name("bgsave".into()).spawn(move || {
        let started = std::time::Instant::now();
        let result = store.save();
        if let Err(e) = &result {
            tracing::error!("BGSAVE: {}", e.message());
        } else {
            last_save.store(now_ms() / 1000, Ordering::Relaxed);
        }
        state.last_bgsave_failed.store(result.is_err(), Ordering::Relaxed);
        state.last_bgsave_secs.store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
        state.in_progress.store(false, Ordering::Release);
    });
    if let Err(e) = spawned {
        saves.in_progress.store(false, Ordering::Release);
        return Err(CmdError::err(format!("cannot start a background save: {e}")));
    }
    ctx.out.simple(if ctx.client.in_exec { "Background saving scheduled" } else { "Background saving started" });
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// ROLE, LOLWUT, MODULE
// ---------------------------------------------------------------------------------------------------------------

/// A LOLWUT drawing surface: `width * height` pixels of color 0..=3.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize, color: u8) -> Canvas {
        Canvas { width, height, pixels: vec![color; width * height] }
    }

    fn set(&mut self, x: i64, y: i64, color: u8) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = color;
        }
    }

    fn get(&self, x: usize, y: usize) -> u8 {
        if x < self.width && y < self.height {
            self.pixels[y * self.width + x]
        } else {
            0
        }
    }

    /// Braille characters, 2x4 pixels each (LOLWUT 5's rendering).
    fn braille(&self) -> String {
        const BITS: [(usize, usize, u32); 8] =
            [(0, 0, 0), (0, 1, 1), (0, 2, 2), (1, 0, 3), (1, 1, 4), (1, 2, 5), (0, 3, 6), (1, 3, 7)];
        let mut text = String::new();
        for y in (0..self.height).step_by(4) {
            for x in (0..self.width).step_by(2) {
                let byte =
                    BITS.iter().filter(|(dx, dy, _)| self.get(x + dx, y + dy) != 0).map(|b| 1u32 << b.2).sum::<u32>();
                text.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
            }
            if y + 1 != self.height {
                text.push('\n');
            }
        }
        text
    }

    /// One colored space per pixel (LOLWUT 6's rendering).
    fn blocks(&self) -> String {
        let mut text = String::new();
        for y in 0..self.height {
            for x in 0..self.width {
                let escape = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"][self.get(x, y) as usize & 3];
                text.push_str(&format!("\x1b[{escape} \x1b[0m"));
            }
            if y + 1 != self.height {
                text.push('\n');
            }
        }
        text
    }
}

/// LOLWUT 5's art: Georg Nees' Schotter, squares on a grid. Redis turns and shifts the squares of the lower rows
/// at random; SableDB draws them in place, so its output is deterministic.
fn schotter(cols: i64, per_row: i64, per_col: i64) -> String {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32) as i64 + padding * 2;
    let mut canvas = Canvas::new(width as usize, height.max(0) as usize, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let cx = (x as f32 * side + side / 2.0) as i64 + padding;
            let cy = (y as f32 * side + side / 2.0) as i64 + padding;
            let half = (side / 2.0) as i64;
            for i in -half..=half {
                for (px, py) in [(cx + i, cy - half), (cx + i, cy + half), (cx - half, cy + i), (cx + half, cy + i)] {
                    canvas.set(px, py, 1);
                }
            }
        }
    }
    format!(
        "{}\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. {}\n",
        canvas.braille(),
        table().redis_version
    )
}

/// LOLWUT 6's art: a city skyline. Redis places buildings and lit windows at random; SableDB's are fixed.
fn skyline(cols: i64, rows: i64) -> String {
    let mut canvas = Canvas::new(cols as usize, rows as usize, 3);
    let (mut x, mut n) = (0i64, 0i64);
    while x < cols {
        let w = 3 + n % 4;
        let h = rows / 3 + (n * 7) % (rows / 2).max(1);
        for bx in x..(x + w).min(cols) {
            for by in (rows - h).max(0)..rows {
                let window = (bx - x) % 2 == 1 && (by - (rows - h)) % 2 == 1 && bx < x + w - 1;
                canvas.set(
                    bx,
                    by,
                    if window {
                        2
                    } else if n % 2 == 0 {
                        0
                    } else {
                        1
                    },
                );
            }
        }
        x += w + 1;
        n += 1;
    }
    format!(
        "{}\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by \
         hikikomori. Redis ver. {}\n",
        canvas.blocks(),
        table().redis_version
    )
}

/// LOLWUT [VERSION v] [arguments of that version]: as Redis' `lolwutCommand`, version 5 and 6 draw their art,
/// any other version (the default: 7) prints only `Redis ver. <version>`.
fn lolwut(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.rest();
    let (version, rest) = match argv {
        [kw, v, rest @ ..] if eq_ic(kw, b"version") => (Some(parse_i64(v).ok_or(CmdError::NotInteger)?), rest),
        _ => (None, argv),
    };
    // Redis formats the version as an unsigned int and looks at its first characters.
    let version = version.map(|v| v as u32);
    let nums = |defaults: &[i64]| -> Result<Vec<i64>, CmdError> {
        let mut v = defaults.to_vec();
        for (slot, arg) in v.iter_mut().zip(rest) {
            *slot = parse_i64(arg).ok_or(CmdError::NotInteger)?;
        }
        Ok(v)
    };
    let text = match version {
        Some(5) => {
            let n = nums(&[66, 8, 12])?;
            schotter(n[0].clamp(1, 1000), n[1].clamp(1, 200), n[2].clamp(1, 200))
        }
        Some(6) => {
            let n = nums(&[80, 20])?;
            skyline(n[0].clamp(1, 1000), n[1].clamp(1, 1000))
        }
        _ => format!("Redis ver. {}\n", table().redis_version),
    };
    ctx.out.verbatim(&text);
    Ok(())
}

/// MODULE LIST: SableDB loads no modules.
fn module_list(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.array(0);
    Ok(())
}

/// MODULE LOAD / LOADEX: SableDB cannot load Redis modules (they are built against Redis' own memory and object
/// layout), so every load fails with Redis' error for a module that did not load.
fn module_load(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("Error loading the extension. Please check the server logs."))
}

/// MODULE UNLOAD: no module is ever loaded.
fn module_unload(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("Error unloading module: no such module with that name"))
}

fn module_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. Every write is already in the WAL, so SAVE and NOSAVE end the
/// same way: the WAL is synced and the process exits without a reply, as Redis closes the connection.
fn shutdown(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (mut save, mut nosave, mut other, mut abort) = (false, false, false, false);
    while !args.is_empty() {
        if args.eat("nosave") {
            nosave = true;
        } else if args.eat("save") {
            save = true;
        } else if args.eat("now") || args.eat("force") {
            other = true;
        } else if args.eat("abort") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // A SHUTDOWN never waits (there are no replicas to catch up), so there is nothing to abort.
        return Err(CmdError::err("No shutdown in progress."));
    }
    ctx.server.shutdown()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commands::test_argv as argv;

    fn keys(cmd: &str, args: &[&str]) -> Option<Vec<usize>> {
        let meta = crate::commands::meta::load_catalog().commands.remove(cmd).expect("command in meta.json");
        key_positions(meta.key_specs(), &argv(args))
    }

    #[test]
    fn key_specs_ranges_keywords_and_keynums() {
        assert_eq!(keys("get", &["get", "k"]), Some(vec![1]));
        assert_eq!(keys("mset", &["mset", "a", "1", "b", "2"]), Some(vec![1, 3]));
        // Redis' range arithmetic: a missing value still counts its key.
        assert_eq!(keys("mset", &["mset", "a", "1", "b"]), Some(vec![1, 3]));
        assert_eq!(keys("bitop", &["bitop", "and", "d", "a", "b"]), Some(vec![2, 3, 4]));
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "2", "a", "b"]), Some(vec![1, 3, 4]));
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "x", "a"]), None);
        assert_eq!(keys("zunionstore", &["zunionstore", "d", "5", "a"]), None);
        assert_eq!(keys("xread", &["xread", "streams", "a", "b", "0", "0"]), Some(vec![2, 3]));
        assert_eq!(keys("georadius", &["georadius", "k", "0", "0", "1", "km", "store", "d"]), Some(vec![1, 7]));
        assert_eq!(keys("migrate", &["migrate", "h", "p", "", "0", "5", "keys", "a"]), None);
        assert_eq!(keys("sort", &["sort", "k"]), None);
    }

    #[test]
    fn key_flags_come_from_the_spec_that_found_the_key() {
        let meta = crate::commands::meta::load_catalog().commands.remove("lmove").expect("lmove in meta.json");
        let lmove = argv(&["lmove", "a", "b", "left", "left"]);
        let keys = keys_with_specs(meta.key_specs(), &lmove).expect("keys");
        let flags: Vec<(usize, Vec<&str>)> = keys.into_iter().map(|(p, s)| (p, spec_flags(s))).collect();
        assert_eq!(flags, vec![(1, vec!["RW", "access", "delete"]), (2, vec!["RW", "insert"])]);
        let sort_argv = argv(&["sort", "k", "store", "d"]);
        let sort = getkeys(&sort_argv).expect("sort keys");
        assert_eq!(
            sort.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(),
            vec![vec!["RO", "access"], vec!["OW", "update"]]
        );
        let ping = argv(&["ping", "x"]);
        assert!(getkeys(&ping).is_err());
    }

    #[test]
    fn lolwut_art_has_redis_sizes_and_captions() {
        // `LOLWUT VERSION 5 1`: one braille cell, all 8 dots, as redis-server 7.0.15 draws it.
        assert_eq!(
            schotter(1, 8, 12),
            "\u{283f}\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
        );
        let art = schotter(66, 8, 12);
        assert_eq!(art.lines().next().map(|l| l.chars().count()), Some(66));
        let sky = skyline(10, 3);
        assert_eq!(sky.lines().count(), 5);
        assert!(sky.ends_with("Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n"));
        assert_eq!(skyline(80, 20), skyline(80, 20));
    }

    #[test]
    fn info_section_selection() {
        let pick = |a: &[&str]| -> Vec<&str> {
            selected_sections(&argv(a)).into_iter().zip(SECTIONS).filter(|(on, _)| *on).map(|(_, s)| s.0).collect()
        };
        assert!(!pick(&[]).contains(&"commandstats"));
        assert_eq!(pick(&[]), pick(&["default"]));
        assert_eq!(pick(&["all"]).len(), SECTIONS.len());
        assert_eq!(pick(&["KEYSPACE", "server"]), vec!["server", "keyspace"]);
        assert!(pick(&["nosuch"]).is_empty());
        assert!(pick(&["default", "commandstats"]).contains(&"commandstats"));
    }

    #[test]
    fn human_sizes_like_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(990560), "967.34K");
        assert_eq!(bytes_to_human(6942720), "6.62M");
        assert_eq!(bytes_to_human(25276063744), "23.54G");
        assert_eq!(ticks_to_secs(1234), "12.340000");
    }

    #[test]
    fn containers_advertise_implemented_subcommands_only() {
        let t = table();
        let config = t.by_full_name("config").expect("config");
        let mut out = Reply::new(false);
        render_info(config, &mut out);
        let text = String::from_utf8_lossy(&out.buf).into_owned();
        assert!(text.contains("config|get") && !text.contains("config|no-such"));
        let listed = text.matches("\r\n*10\r\n").count();
        assert_eq!(listed, t.subcommands_of(config).count());
    }
}
