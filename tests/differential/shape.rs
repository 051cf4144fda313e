//! The reply-shape check of the command table: for every command (and subcommand) SableDB's COMMAND lists,
//! `COMMAND INFO name` must give redis-server's arity, flags and key positions; COMMAND COUNT must equal the
//! number of entries COMMAND returns; and every listed command must answer (not `unknown command`).
//!
//! "Answers" is probed with a request that cannot do anything: one argument too many for a fixed arity, or too
//! few for a minimum arity — both servers must then give the same wrong-arity error, byte for byte. Commands
//! that accept any number of arguments are sent one junk argument and only checked to be known, except the few
//! that would end the connection or the server whatever their arguments.

use crate::conn::{brief, elements, escape, integer, is_transport_failure, string, Pair};

/// Accept any argument count and act even when given junk: never sent.
const NEVER_SEND: &[&str] = &["quit", "shutdown", "failover"];

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

/// The fields of the single entry a `COMMAND INFO name` reply holds, if it is the entry of `name`.
fn info_fields<'a>(raw: &'a [u8], name: &str) -> Option<Vec<&'a [u8]>> {
    let outer = elements(raw, false)?;
    if outer.len() != 1 {
        return None;
    }
    let fields = elements(outer[0], false)?;
    (string(fields.first()?)? == name.as_bytes()).then_some(fields)
}

/// One listed command: its full name (`parent|sub` for subcommands) and SableDB's arity for it.
struct Listed {
    name: String,
    arity: i64,
}

/// The name and arity of one COMMAND entry, with all its fields.
fn listed_entry(entry: &[u8]) -> Option<(Listed, Vec<&[u8]>)> {
    let fields = elements(entry, false)?;
    let name = String::from_utf8_lossy(string(fields.first()?)?).into_owned();
    let arity = integer(fields.get(1)?)?;
    Some((Listed { name, arity }, fields))
}

/// Problems found; empty when the table matches.
pub fn check(pair: &mut Pair) -> Vec<String> {
    pair.resp3 = false;
    if let Err(e) = pair.reset() {
        return vec![e];
    }
    let all = pair.a.call(&argv(&[b"COMMAND"]));
    let Some(entries) = elements(&all, false) else {
        return vec![format!("COMMAND answered {}", brief(&all))];
    };
    let mut problems = Vec::new();
    let count = pair.a.call(&argv(&[b"COMMAND", b"COUNT"]));
    if integer(&count) != Some(entries.len() as i64) {
        problems.push(format!("COMMAND COUNT answered {} but COMMAND lists {} entries", brief(&count), entries.len()));
    }
    let mut listed = Vec::new();
    for entry in &entries {
        let Some((top, fields)) = listed_entry(entry) else {
            problems.push(format!("malformed COMMAND entry {}", brief(entry)));
            continue;
        };
        listed.push(top);
        for sub in fields.get(9).and_then(|f| elements(f, false)).unwrap_or_default() {
            match listed_entry(sub) {
                Some((cmd, _)) => listed.push(cmd),
                None => problems.push(format!("malformed COMMAND subcommand entry {}", brief(sub))),
            }
        }
    }
    for cmd in &listed {
        compare_info(pair, &cmd.name, &mut problems);
        probe(pair, cmd, &mut problems);
    }
    problems
}

/// `COMMAND INFO name` on both servers: arity, flags, first key, last key and key step must be identical.
fn compare_info(pair: &mut Pair, name: &str, problems: &mut Vec<String>) {
    let (a, b) = pair.call_both(&argv(&[b"COMMAND", b"INFO", name.as_bytes()]));
    let (Some(fa), Some(fb)) = (info_fields(&a, name), info_fields(&b, name)) else {
        problems.push(format!("COMMAND INFO {name}: sabledb {} vs redis-server {}", brief(&a), brief(&b)));
        return;
    };
    for (i, what) in [(1, "arity"), (2, "flags"), (3, "first key"), (4, "last key"), (5, "key step")] {
        let (x, y) = (fa.get(i).copied().unwrap_or_default(), fb.get(i).copied().unwrap_or_default());
        if x != y {
            problems.push(format!(
                "COMMAND INFO {name}: {what} is {} on sabledb, {} on redis-server",
                escape(x),
                escape(y)
            ));
        }
    }
}

/// Sends `cmd` a harmless request (see the module doc) and checks it is understood.
fn probe(pair: &mut Pair, cmd: &Listed, problems: &mut Vec<String>) {
    let words: Vec<&[u8]> = cmd.name.split('|').map(str::as_bytes).collect();
    let mut req = argv(&words);
    let forced = if cmd.arity > 0 {
        while req.len() <= cmd.arity as usize {
            req.push(b"x".to_vec());
        }
        true
    } else if (-cmd.arity) as usize > req.len() {
        true
    } else if NEVER_SEND.contains(&cmd.name.as_str()) {
        return;
    } else {
        req.push(b"__difftest__".to_vec());
        false
    };
    let (a, b) = pair.call_both(&req);
    let line = req.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect::<Vec<_>>().join(" ");
    if a.starts_with(b"-ERR unknown command") || (a.starts_with(b"-ERR unknown subcommand") && words.len() > 1) {
        problems.push(format!("{line}: listed by COMMAND but sabledb answers {}", brief(&a)));
    } else if forced && a != b {
        problems.push(format!("{line}: sabledb {} vs redis-server {}", brief(&a), brief(&b)));
    }
    if is_transport_failure(&a) || is_transport_failure(&b) {
        problems.push(format!("{line}: connection failed: sabledb {} / redis-server {}", brief(&a), brief(&b)));
        if let Err(e) = pair.reset() {
            problems.push(e);
        }
    }
}
