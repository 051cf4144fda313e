//! Running one generated command on both servers and deciding whether the replies agree, applying only the
//! normalisation its [`Check`] names (docs/compatibility.md lists them with their reasons).

use std::collections::HashSet;
use std::time::Instant;

use crate::conn::{elements, escape, integer, is_error, is_nil, is_transport_failure, string, Conn, Pair};
use crate::gen::{Check, Cmd};

/// The two replies, as compared: raw bytes for [`Check::Exact`] and [`Check::Within`], otherwise the normalised
/// rendering (which embeds the raw replies it was derived from).
pub struct Replies {
    pub sable: Vec<u8>,
    pub redis: Vec<u8>,
    pub agree: bool,
}

/// Runs `cmd` on both servers.
pub fn run(pair: &mut Pair, cmd: &Cmd) -> Replies {
    // RESTORE of a captured payload: the latest one redis-server gave (a fixed valid one before any).
    let args: Vec<Vec<u8>> = cmd
        .args
        .iter()
        .map(|a| match (a == crate::gen::CAPTURED, pair.captured.last()) {
            (true, Some(p)) => p.clone(),
            (true, None) => FIRST_PAYLOAD.to_vec(),
            _ => a.clone(),
        })
        .collect();
    let (a, b) = pair.call_both(&args);
    if cmd.name() == "DUMP" && b.starts_with(b"$") {
        if let Some(p) = string(&b) {
            pair.captured.push(p.to_vec());
        }
    }
    if let Some(stats) = pair.stats.as_mut() {
        let entry = stats.entry(cmd.name()).or_default();
        entry[0] += 1;
        entry[1] += is_error(&b) as u64;
    }
    let (sable, redis, agree) = match cmd.check {
        Check::Exact => {
            let agree = a == b;
            (a, b, agree)
        }
        Check::Within(tolerance) => {
            let agree = match (integer(&a), integer(&b)) {
                (Some(x), Some(y)) if x >= 0 && y >= 0 => x.abs_diff(y) <= tolerance as u64,
                _ => a == b,
            };
            (a, b, agree)
        }
        Check::Unordered => {
            let resp3 = pair.resp3;
            let (x, y) = (sorted(&a, resp3), sorted(&b, resp3));
            let agree = x == y;
            (x, y, agree)
        }
        Check::RandomKey => {
            let (x, y) = (random_key(&mut pair.a, a), random_key(&mut pair.b, b));
            let agree = x == y;
            (x, y, agree)
        }
        Check::UnorderedPairs => {
            let resp3 = pair.resp3;
            let (x, y) = (sorted_pairs(&a, resp3), sorted_pairs(&b, resp3));
            let agree = x == y;
            (x, y, agree)
        }
        Check::Dump => {
            let (x, y) = (dump_shape(&a), dump_shape(&b));
            let agree = x == y;
            (x, y, agree)
        }
        Check::Sized => {
            let resp3 = pair.resp3;
            let (x, y) = (sized(&a, resp3), sized(&b, resp3));
            let agree = x == y;
            (x, y, agree)
        }
        Check::AclRules => {
            let (x, y) = (acl_rules(&a), acl_rules(&b));
            let agree = x == y;
            (x, y, agree)
        }
        Check::StreamInfo => {
            let (x, y) = (without_radix_nodes(&a), without_radix_nodes(&b));
            let agree = x == y;
            (x, y, agree)
        }
        Check::ScanUnion => {
            let (x, y) = (scan_union(&mut pair.a, cmd, a), scan_union(&mut pair.b, cmd, b));
            let agree = x == y;
            (x, y, agree)
        }
    };
    let mut agree = agree && !is_transport_failure(&sable) && !is_transport_failure(&redis);
    let (mut sable, mut redis) = (sable, redis);
    if let Some([x, y]) = pair.listeners.as_mut() {
        let (x, y) = (published(x.drain()), published(y.drain()));
        if x != y {
            agree = false;
            sable.extend_from_slice(&x);
            redis.extend_from_slice(&y);
        }
    }
    Replies { sable, redis, agree }
}

/// A reply with the words of every rule description line (`+@all …`, `-@all …`, `user …`) sorted.
fn acl_rules(raw: &[u8]) -> Vec<u8> {
    let lines: Vec<Vec<u8>> = raw
        .split(|&c| c == b'\n')
        .map(|line| {
            if line.starts_with(b"-@all") || line.starts_with(b"+@all") || line.starts_with(b"user ") {
                let body = line.strip_suffix(b"\r").unwrap_or(line);
                let mut words: Vec<&[u8]> = body.split(|&c| c == b' ').collect();
                words.sort();
                let mut out = words.join(&b' ');
                out.extend_from_slice(&line[body.len()..]);
                out
            } else {
                line.to_vec()
            }
        })
        .collect();
    lines.join(&b'\n')
}

/// An XINFO STREAM reply with the value after `radix-tree-nodes` blanked (see `Check::StreamInfo`).
fn without_radix_nodes(reply: &[u8]) -> Vec<u8> {
    const FIELD: &[u8] = b"radix-tree-nodes\r\n";
    let Some(at) = reply.windows(FIELD.len()).position(|w| w == FIELD) else { return reply.to_vec() };
    let from = at + FIELD.len();
    let Some(len) = reply[from..].windows(2).position(|w| w == b"\r\n") else { return reply.to_vec() };
    let mut out = reply[..from].to_vec();
    out.extend_from_slice(b":N");
    out.extend_from_slice(&reply[from + len..]);
    out
}

/// What a listener received, rendered to follow a reply in a mismatch report.
fn published(messages: Result<Vec<Vec<u8>>, String>) -> Vec<u8> {
    match messages {
        Ok(m) if m.is_empty() => b" <then nothing published>".to_vec(),
        Ok(m) => [b" <then published: ".to_vec(), m.concat(), b">".to_vec()].concat(),
        Err(e) => format!(" <<{e}>>").into_bytes(),
    }
}

/// An aggregate reply with its elements sorted (same header, same element encodings); anything else unchanged.
fn sorted(raw: &[u8], resp3: bool) -> Vec<u8> {
    let Some(mut items) = elements(raw, resp3) else { return raw.to_vec() };
    items.sort();
    let header_end = raw.windows(2).position(|w| w == b"\r\n").map_or(0, |p| p + 2);
    let mut out = raw[..header_end].to_vec();
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// An aggregate reply of pairs with the pairs sorted: a map, a flat array of 2n elements, or (RESP3) an array of
/// two-element arrays. Anything else unchanged.
fn sorted_pairs(raw: &[u8], resp3: bool) -> Vec<u8> {
    let Some(items) = elements(raw, resp3) else { return raw.to_vec() };
    let mut pairs: Vec<Vec<u8>> = if items.iter().all(|i| i.starts_with(b"*2\r\n")) && raw.starts_with(b"*") && resp3 {
        items.iter().map(|i| i.to_vec()).collect()
    } else if items.len() % 2 == 0 {
        items.chunks(2).map(|c| c.concat()).collect()
    } else {
        return raw.to_vec();
    };
    pairs.sort();
    let header_end = raw.windows(2).position(|w| w == b"\r\n").map_or(0, |p| p + 2);
    let mut out = raw[..header_end].to_vec();
    for pair in pairs {
        out.extend_from_slice(&pair);
    }
    out
}

/// The reply's type and element count (an aggregate) or the reply itself (anything else).
/// RESTORE's payload before any DUMP: `SET k hello` on redis-server 7.0.15.
const FIRST_PAYLOAD: &[u8] = b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a";

/// A DUMP reply as compared: whole, except for a hash-table hash or set, where only the RDB type is (see
/// `Check::Dump`).
fn dump_shape(raw: &[u8]) -> Vec<u8> {
    match string(raw).filter(|_| raw.starts_with(b"$")).and_then(|p| p.first()) {
        Some(&t @ (2 | 4)) => format!("<a DUMP payload of RDB type {t}>").into_bytes(),
        _ => raw.to_vec(),
    }
}

fn sized(raw: &[u8], resp3: bool) -> Vec<u8> {
    match elements(raw, resp3) {
        Some(items) => format!("<{} with {} elements>", raw[0] as char, items.len()).into_bytes(),
        None if raw.starts_with(b"$") && !is_nil(raw) => b"<a bulk string>".to_vec(),
        None => raw.to_vec(),
    }
}

/// RANDOMKEY's reply if it is valid on its own server (a key that exists there, or nil with DBSIZE 0), else a
/// description of why it is not. Errors stay as they are (they are compared byte for byte).
fn random_key(conn: &mut Conn, reply: Vec<u8>) -> Vec<u8> {
    if is_error(&reply) || is_transport_failure(&reply) {
        return reply;
    }
    if is_nil(&reply) {
        let size = conn.call(&[b"DBSIZE".to_vec()]);
        return match integer(&size) {
            Some(0) => b"<nil, and DBSIZE is 0>".to_vec(),
            _ => format!("<INVALID: nil but DBSIZE answered {}>", escape(&size)).into_bytes(),
        };
    }
    let Some(key) = string(&reply).filter(|_| reply.starts_with(b"$")) else {
        return format!("<INVALID: not a bulk string: {}>", escape(&reply)).into_bytes();
    };
    let exists = conn.call(&[b"EXISTS".to_vec(), key.to_vec()]);
    if integer(&exists) == Some(1) {
        b"<a key that EXISTS>".to_vec()
    } else {
        format!("<INVALID: {} but EXISTS answered {}>", escape(&reply), escape(&exists)).into_bytes()
    }
}

/// Follows a SCAN (or HSCAN, SSCAN, ZSCAN) from its first reply to cursor 0 and renders the sorted,
/// deduplicated items it returned (HSCAN and ZSCAN items are field/value and member/score pairs). Errors stay as
/// they are; a malformed page or a scan that never ends is described.
fn scan_union(conn: &mut Conn, cmd: &Cmd, first: Vec<u8>) -> Vec<u8> {
    if is_error(&first) || is_transport_failure(&first) {
        return first;
    }
    let name = cmd.name();
    let cursor_at = if name == "SCAN" { 1 } else { 2 };
    let pairs = name == "HSCAN" || name == "ZSCAN";
    let resp3 = conn.resp3();
    let mut keys: Vec<String> = Vec::new();
    let mut reply = first;
    // The servers' state does not change during the scan, so a cursor seen twice means a scan that never ends.
    let mut cursors: HashSet<Vec<u8>> = HashSet::new();
    // A few hundred keys at most, so even COUNT 1 ends well within this many pages.
    for _page in 0..500 {
        let page = elements(&reply, resp3).filter(|e| e.len() == 2);
        let Some(page) = page else {
            return format!("<INVALID SCAN page: {}>", escape(&reply)).into_bytes();
        };
        let (Some(cursor), Some(items)) =
            (string(page[0]).filter(|_| page[0].starts_with(b"$")), elements(page[1], resp3))
        else {
            return format!("<INVALID SCAN page: {}>", escape(&reply)).into_bytes();
        };
        let mut words = Vec::with_capacity(items.len());
        for item in items {
            match string(item).filter(|_| item.starts_with(b"$")) {
                Some(k) => words.push(escape(k)),
                None => return format!("<INVALID SCAN item: {}>", escape(item)).into_bytes(),
            }
        }
        if pairs {
            if words.len() % 2 != 0 {
                return format!("<INVALID {name} page: odd item count in {}>", escape(&reply)).into_bytes();
            }
            keys.extend(words.chunks(2).map(|p| format!("{}={}", p[0], p[1])));
        } else {
            keys.extend(words);
        }
        if cursor == b"0" {
            keys.sort();
            keys.dedup();
            return format!("<{name} union: [{}]>", keys.join(", ")).into_bytes();
        }
        if !cursors.insert(cursor.to_vec()) {
            return format!("<SCAN loops: cursor {} came back>", escape(cursor)).into_bytes();
        }
        let mut next = cmd.args.clone();
        next[cursor_at] = cursor.to_vec();
        reply = conn.call(&next);
        if is_error(&reply) || is_transport_failure(&reply) {
            return format!("<SCAN continuation failed: {}>", escape(&reply)).into_bytes();
        }
    }
    b"<SCAN did not reach cursor 0 in 500 pages>".to_vec()
}

/// The first disagreement in a sequence.
pub struct Mismatch {
    /// Position of the disagreeing command in the sequence that was run.
    pub index: usize,
    pub replies: Replies,
}

pub enum Outcome {
    /// Every command agreed; `ran` is how many ran before the deadline.
    Clean {
        ran: usize,
    },
    Mismatch(Mismatch),
    /// The servers could not be brought to the starting state (fresh connections, FLUSHALL, HELLO 3).
    Setup(String),
}

/// Runs `cmds` from empty servers on fresh connections, stopping at the first disagreement or at `deadline`.
pub fn run_sequence(pair: &mut Pair, cmds: &[Cmd], deadline: Option<Instant>) -> Outcome {
    if let Err(e) = pair.reset() {
        return Outcome::Setup(e);
    }
    for (index, cmd) in cmds.iter().enumerate() {
        if deadline.is_some_and(|d| Instant::now() > d) {
            return Outcome::Clean { ran: index };
        }
        let replies = run(pair, cmd);
        if !replies.agree {
            return Outcome::Mismatch(Mismatch { index, replies });
        }
    }
    Outcome::Clean { ran: cmds.len() }
}
