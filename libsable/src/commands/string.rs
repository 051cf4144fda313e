//! String family: every Redis 7.0 string command (GET/SET and their variants, counters, ranges, MGET/MSET, LCS)
//! over string records, plus the read and read-modify-write helpers the bitmap family shares.
//!
//! INCRBYFLOAT reproduces Redis' C `long double` arithmetic exactly (see [`long_double`]).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::server::Server;
use crate::storage::encoding::{encode_string, encode_string_as, with_expire, MetaView, StrOrigin};
use crate::storage::{Existing, KeyType, Record, Txn};
use crate::util::{now_ms, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("append", append),
    ("decr", decr),
    ("decrby", decrby),
    ("get", get),
    ("getdel", getdel),
    ("getex", getex),
    ("getrange", getrange),
    ("getset", getset),
    ("incr", incr),
    ("incrby", incrby),
    ("incrbyfloat", incrbyfloat),
    ("lcs", lcs),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("psetex", psetex),
    ("set", set),
    ("setex", setex),
    ("setnx", setnx),
    ("setrange", setrange),
    ("strlen", strlen),
    ("substr", getrange),
];

/// The value of a live string record, or WRONGTYPE for another type.
pub fn string_body<'a>(m: &MetaView<'a>) -> CmdResult<&'a [u8]> {
    if m.key_type() != KeyType::String {
        return Err(CmdError::WrongType);
    }
    Ok(m.body())
}

/// A lock-free read that counts a keyspace hit or miss, as Redis' `lookupKeyRead` does (write-path lookups do
/// not count).
pub fn lookup_read<'s>(ctx: &Ctx<'s>, key: &[u8]) -> CmdResult<Option<Record<'s>>> {
    let rec = ctx.store.get(ctx.db(), key)?;
    count_lookup(ctx, key, rec.is_some());
    Ok(rec)
}

/// [`lookup_read`] that leaves the key's access time alone (Redis' `LOOKUP_NOTOUCH`: TYPE, TTL, EXISTS).
pub fn lookup_read_untouched<'s>(ctx: &Ctx<'s>, key: &[u8]) -> CmdResult<Option<Record<'s>>> {
    let rec = ctx.store.get_untouched(ctx.db(), key)?;
    count_lookup(ctx, key, rec.is_some());
    Ok(rec)
}

/// What Redis' `lookupKeyRead` does besides finding the key: count a keyspace hit or miss, and publish `keymiss`.
pub fn count_lookup(ctx: &Ctx, key: &[u8], found: bool) {
    count_lookup_in(ctx.server, ctx.client.db, key, found);
}

/// [`count_lookup`] for a lookup in logical database `db` outside a command's context (a streamed reply).
pub fn count_lookup_in(server: &Server, db: usize, key: &[u8], found: bool) {
    server.stats.hit(found);
    if !found {
        notify::notify_db(&server.notify, notify::KEY_MISS, "keymiss", db, key);
    }
}

/// Read-modify-write of one string key under its lock, keeping its TTL. `f` gets the current value (`None` when
/// the key is missing; WRONGTYPE is raised before it runs) and returns the value to store with how Redis would
/// have built it (`None`: write nothing) and what the reply needs. APPEND, SETRANGE, the INCR family, SETBIT and
/// BITFIELD all have this shape; each publishes its own keyspace event, as only it knows whether Redis would.
pub fn modify<T>(
    ctx: &Ctx,
    key: &[u8],
    f: impl FnOnce(Option<&[u8]>) -> CmdResult<(Option<(Vec<u8>, StrOrigin)>, T)>,
) -> CmdResult<T> {
    modify_string(ctx, key, false, |cur| f(cur.map(|(body, _)| body)))
}

/// [`modify`] for writers that also need to know how the current value was made (SETBIT only rewrites a value
/// it changes, or one whose encoding it changes); a value rewritten unchanged is not a modification (WATCH).
pub fn modify_with_origin<T>(
    ctx: &Ctx,
    key: &[u8],
    f: impl FnOnce(Option<(&[u8], StrOrigin)>) -> CmdResult<(Option<(Vec<u8>, StrOrigin)>, T)>,
) -> CmdResult<T> {
    modify_string(ctx, key, true, f)
}

fn modify_string<T>(
    ctx: &Ctx,
    key: &[u8],
    same_is_quiet: bool,
    f: impl FnOnce(Option<(&[u8], StrOrigin)>) -> CmdResult<(Option<(Vec<u8>, StrOrigin)>, T)>,
) -> CmdResult<T> {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let live = old.as_ref().and_then(|o| o.live());
    let current = live.as_ref().map(|m| string_body(m).map(|body| (body, m.string_origin()))).transpose()?;
    let (new, out) = f(current)?;
    if let Some((new, origin)) = new {
        let at = live.map_or(0, |m| m.expire_at());
        let raw = encode_string_as(at, &new, origin);
        if same_is_quiet && current.is_some_and(|(body, _)| body == new.as_slice()) {
            txn.put_quiet(db, key, old.as_ref(), raw);
        } else {
            txn.put(db, key, old.as_ref(), raw);
        }
        txn.commit()?;
    }
    Ok(out)
}

/// Redis' start/end index rules (GETRANGE, BITCOUNT, BITPOS): negative indexes count from the end of a value of
/// `len` units, both are clamped into it. Returns the inclusive range, or `None` when it is empty.
pub fn clamp_range(len: i64, start: i64, end: i64) -> Option<(i64, i64)> {
    let norm = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (start, end) = (norm(start), norm(end).min(len - 1));
    (start <= end).then_some((start, end))
}

/// Redis' limit on a string a command would build (`proto-max-bulk-len`).
fn check_size(ctx: &Ctx, size: u64) -> CmdResult {
    if size > ctx.server.max_bulk_len.load(Ordering::Relaxed).max(0) as u64 {
        return Err(CmdError::err("string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

fn get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    match lookup_read(ctx, key)? {
        Some(r) => ctx.out.bulk(string_body(&r.view())?),
        None => ctx.out.null(),
    }
    Ok(())
}

/// The expiry options of SET and GETEX.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ExpireOpt {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireOpt {
    const ALL: [(&'static str, ExpireOpt); 4] =
        [("EX", ExpireOpt::Ex), ("PX", ExpireOpt::Px), ("EXAT", ExpireOpt::ExAt), ("PXAT", ExpireOpt::PxAt)];

    /// The absolute expiry in ms for the option's argument, with Redis' range checks (`cmd` names the command in
    /// the error).
    fn at(self, raw: &[u8], cmd: &str) -> CmdResult<u64> {
        let v = parse_i64(raw).ok_or(CmdError::NotInteger)?;
        let (unit, absolute) = match self {
            ExpireOpt::Ex => (1000, false),
            ExpireOpt::Px => (1, false),
            ExpireOpt::ExAt => (1000, true),
            ExpireOpt::PxAt => (1, true),
        };
        let invalid = || CmdError::err(format!("invalid expire time in '{cmd}' command"));
        if v <= 0 {
            return Err(invalid());
        }
        let ms = v.checked_mul(unit).ok_or_else(invalid)?;
        let at = if absolute { ms } else { (now_ms() as i64).checked_add(ms).ok_or_else(invalid)? };
        Ok(at as u64)
    }
}

/// Parsed options of SET (and its variants) and GETEX.
#[derive(Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireOpt, &'a [u8])>,
}

/// Parses SET's (`for_set`) or GETEX's options with Redis' rules: conflicting options are a syntax error, but
/// repeating one is allowed (the last value wins), and expiry values are only checked after the whole parse.
fn parse_set_options<'a>(args: &mut Args<'a>, for_set: bool) -> CmdResult<SetOptions<'a>> {
    let mut o = SetOptions::default();
    'next: while !args.is_empty() {
        let kind = o.expire.map(|(k, _)| k);
        if for_set && !o.xx && args.eat("NX") {
            o.nx = true;
        } else if for_set && !o.nx && args.eat("XX") {
            o.xx = true;
        } else if for_set && args.eat("GET") {
            o.get = true;
        } else if for_set && kind.is_none() && args.eat("KEEPTTL") {
            o.keepttl = true;
        } else if !for_set && kind.is_none() && args.eat("PERSIST") {
            o.persist = true;
        } else {
            if !o.keepttl && !o.persist && args.remaining() >= 2 {
                for (word, opt) in ExpireOpt::ALL {
                    if kind.is_none_or(|k| k == opt) && args.eat(word) {
                        o.expire = Some((opt, args.next_bytes()?));
                        continue 'next;
                    }
                }
            }
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// What a successful or aborted SET-like command replies when GET was not asked for.
#[derive(Clone, Copy, PartialEq)]
enum SetReply {
    /// `OK` / nil (SET, SETEX, PSETEX).
    Ok,
    /// `1` / `0` (SETNX).
    Int,
}

/// The common core of SET, SETNX, SETEX, PSETEX and GETSET (Redis' setGenericCommand).
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    opts: &SetOptions,
    at: Option<u64>,
    reply: SetReply,
) -> CmdResult {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let live = old.as_ref().and_then(|o| o.live());
    let old_value = if opts.get {
        count_lookup(ctx, key, live.is_some());
        if live.is_some() {
            ctx.store.touch_again(db, key);
        }
        live.as_ref().map(string_body).transpose()?
    } else {
        None
    };
    let found = live.is_some();
    let proceed = !(opts.nx && found || opts.xx && !found);
    if proceed {
        let expire = match at {
            Some(at) => at,
            None if opts.keepttl => live.map_or(0, |m| m.expire_at()),
            None => 0,
        };
        let gone = expire != 0 && expire <= now_ms();
        if gone {
            // An absolute time already past: the key is set and expires at once, so it is simply gone.
            if let Some(old) = &old {
                txn.delete(db, key, old);
            }
        } else {
            txn.put(db, key, old.as_ref(), encode_string(expire, value));
        }
        txn.commit()?;
        // Redis' events: the key set (created if new), its expiry set, and the expiry it then meets.
        if gone && !found {
            notify(ctx, notify::NEW, "new", key);
        }
        notify(ctx, notify::STRING, "set", key);
        if at.is_some() {
            notify(ctx, notify::GENERIC, "expire", key);
        }
        if gone {
            notify(ctx, notify::EXPIRED, "expired", key);
        }
    }
    match (opts.get, reply) {
        (true, _) => ctx.out.opt_bulk(old_value),
        (false, SetReply::Int) => ctx.out.int(proceed as i64),
        (false, SetReply::Ok) if proceed => ctx.out.ok(),
        (false, SetReply::Ok) => ctx.out.null(),
    }
    Ok(())
}

fn set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let opts = parse_set_options(args, true)?;
    let at = opts.expire.map(|(kind, raw)| kind.at(raw, &ctx.cmd.name)).transpose()?;
    set_generic(ctx, key, value, &opts, at, SetReply::Ok)
}

fn setnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    set_generic(ctx, key, value, &SetOptions { nx: true, ..Default::default() }, None, SetReply::Int)
}

fn setex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_ttl(ctx, args, ExpireOpt::Ex)
}

fn psetex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_ttl(ctx, args, ExpireOpt::Px)
}

/// SETEX / PSETEX: `key ttl value`.
fn set_with_ttl(ctx: &mut Ctx, args: &mut Args, unit: ExpireOpt) -> CmdResult {
    let key = args.next_bytes()?;
    let ttl = args.next_bytes()?;
    let value = args.next_bytes()?;
    let at = unit.at(ttl, &ctx.cmd.name)?;
    set_generic(ctx, key, value, &SetOptions::default(), Some(at), SetReply::Ok)
}

/// GETSET is `SET key value GET`: it replies with the old value and clears the TTL.
fn getset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    set_generic(ctx, key, value, &SetOptions { get: true, ..Default::default() }, None, SetReply::Ok)
}

/// A keyspace event: its class and name.
type Event = (u32, &'static str);

/// GETDEL and GETEX: under the key's lock, reply with the live string's value (nil when missing) after `change`
/// has staged what happens to the key and named the event that announces it, if any.
fn get_and_change(
    ctx: &mut Ctx,
    key: &[u8],
    change: impl FnOnce(&mut Txn, u16, &Existing, MetaView) -> CmdResult<Option<Event>>,
) -> CmdResult {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let live = old.as_ref().and_then(|o| o.live());
    count_lookup(ctx, key, live.is_some());
    let (Some(old), Some(m)) = (&old, live) else {
        ctx.out.null();
        return Ok(());
    };
    let value = string_body(&m)?;
    let event = change(&mut txn, db, old, m)?;
    txn.commit()?;
    if let Some((class, name)) = event {
        notify(ctx, class, name, key);
    }
    ctx.out.bulk(value);
    Ok(())
}

fn getdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    get_and_change(ctx, key, |txn, db, old, _| {
        txn.delete(db, key, old);
        Ok(Some((notify::GENERIC, "del")))
    })
}

fn getex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let opts = parse_set_options(args, false)?;
    let cmd = ctx.cmd;
    get_and_change(ctx, key, |txn, db, old, m| {
        // Redis checks the expiry value only once it knows the key is a string.
        let at = opts.expire.map(|(kind, raw)| kind.at(raw, &cmd.name)).transpose()?;
        // Only the TTL changes: the value keeps the object (so the encoding) it had.
        Ok(match at {
            Some(at) if at <= now_ms() => {
                txn.delete(db, key, old);
                Some((notify::GENERIC, "del"))
            }
            Some(at) => {
                txn.put(db, key, Some(old), with_expire(m.0, at));
                Some((notify::GENERIC, "expire"))
            }
            None if opts.persist && m.expire_at() != 0 => {
                txn.put(db, key, Some(old), with_expire(m.0, 0));
                Some((notify::GENERIC, "persist"))
            }
            None => None,
        })
    })
}

fn getrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let Some(rec) = lookup_read(ctx, key)? else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let value = string_body(&rec.view())?;
    match clamp_range(value.len() as i64, start, end) {
        // Two negative indexes in the wrong order are empty even when both clamp to 0.
        Some((s, e)) if !(start < 0 && end < 0 && start > end) => ctx.out.bulk(&value[s as usize..=e as usize]),
        _ => ctx.out.bulk(b""),
    }
    Ok(())
}

fn strlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let len = match lookup_read(ctx, key)? {
        Some(rec) => string_body(&rec.view())?.len(),
        None => 0,
    };
    ctx.out.int(len as i64);
    Ok(())
}

fn mget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    // Locked so that the keys are read at one instant (never half of an MSET or of a transaction), as Redis'
    // single thread does.
    let _guard = ctx.store.locks.lock(keys);
    // Read everything first so a storage error cannot leave a half-written array.
    let recs = keys.iter().map(|k| lookup_read(ctx, k)).collect::<CmdResult<Vec<_>>>()?;
    ctx.out.array(recs.len());
    for rec in &recs {
        match rec.as_ref().map(|r| r.view()) {
            Some(m) if m.key_type() == KeyType::String => ctx.out.bulk(m.body()),
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    mset_generic(ctx, args, true)
}

/// MSET / MSETNX: all keys locked together and written in one transaction.
fn mset_generic(ctx: &mut Ctx, args: &mut Args, nx: bool) -> CmdResult {
    let rest = args.rest();
    if !rest.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.cmd.name.clone()));
    }
    // Redis sets the pairs in order, so the last value of a repeated key wins; each key is written once, where
    // it first appears (the order client-side caching's invalidations follow).
    let mut last: HashMap<&[u8], &[u8]> = HashMap::new();
    let mut order = Vec::new();
    for p in rest.chunks_exact(2) {
        if last.insert(&p[0][..], &p[1][..]).is_none() {
            order.push(&p[0][..]);
        }
    }
    let pairs: Vec<(&[u8], &[u8])> = order.into_iter().map(|k| (k, last[k])).collect();
    let keys: Vec<&[u8]> = pairs.iter().map(|(k, _)| *k).collect();
    let _guard = ctx.store.locks.lock(&keys);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let olds = keys.iter().map(|k| txn.load(db, k)).collect::<CmdResult<Vec<_>>>()?;
    if nx && olds.iter().flatten().any(|o| o.live().is_some()) {
        ctx.out.int(0);
        return Ok(());
    }
    for ((key, value), old) in pairs.iter().zip(&olds) {
        txn.put(db, key, old.as_ref(), encode_string(0, value));
    }
    txn.commit()?;
    // One event per pair given, repeats included, in argument order as Redis sets them.
    for pair in rest.chunks_exact(2) {
        notify(ctx, notify::STRING, "set", &pair[0]);
    }
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
    Ok(())
}

fn append(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let suffix = args.next_bytes()?;
    let len = modify(ctx, key, |cur| {
        let new = match cur {
            // A new key takes the argument as it is, with no size check, encoded as SET would (as Redis).
            None => (suffix.to_vec(), StrOrigin::Encoded),
            Some(cur) => {
                check_size(ctx, cur.len() as u64 + suffix.len() as u64)?;
                ([cur, &suffix[..]].concat(), StrOrigin::Raw)
            }
        };
        let len = new.0.len();
        Ok((Some(new), len))
    })?;
    notify(ctx, notify::STRING, "append", key);
    ctx.out.int(len as i64);
    Ok(())
}

fn setrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let value = args.next_bytes()?;
    let len = modify(ctx, key, |cur| {
        let cur = cur.unwrap_or_default();
        if value.is_empty() {
            return Ok((None, cur.len()));
        }
        let end = offset as u64 + value.len() as u64;
        check_size(ctx, end)?;
        let (offset, end) = (offset as usize, end as usize);
        let mut new = cur.to_vec();
        if new.len() < end {
            new.resize(end, 0);
        }
        new[offset..end].copy_from_slice(value);
        let len = new.len();
        // Redis writes into a raw string, a new one or an unshared copy of the old value.
        Ok((Some((new, StrOrigin::Raw)), len))
    })?;
    if !value.is_empty() {
        notify(ctx, notify::STRING, "setrange", key);
    }
    ctx.out.int(len as i64);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, key, 1)
}

fn decr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, key, -1)
}

fn incrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    incr_by(ctx, key, by)
}

fn decrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    let by = by.checked_neg().ok_or_else(|| CmdError::err("decrement would overflow"))?;
    incr_by(ctx, key, by)
}

/// The INCR family: the value must be a strict integer; the TTL is kept.
fn incr_by(ctx: &mut Ctx, key: &[u8], by: i64) -> CmdResult {
    let n = modify(ctx, key, |cur| {
        let cur = match cur {
            Some(v) => parse_i64(v).ok_or(CmdError::NotInteger)?,
            None => 0,
        };
        let n = cur.checked_add(by).ok_or(CmdError::Overflow)?;
        // Redis stores the result as an integer object (shared when small), as tryObjectEncoding would.
        Ok((Some((itoa::Buffer::new().format(n).as_bytes().to_vec(), StrOrigin::Encoded)), n))
    })?;
    // INCR, DECR and DECRBY are all `incrby` events, as in Redis.
    notify(ctx, notify::STRING, "incrby", key);
    ctx.out.int(n);
    Ok(())
}

fn incrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let by = args.next_bytes()?;
    let text = modify(ctx, key, |cur| {
        let cur = match cur {
            Some(v) => long_double::parse(v).ok_or(CmdError::NotFloat)?,
            None => long_double::ZERO,
        };
        let by = long_double::parse(by).ok_or(CmdError::NotFloat)?;
        let sum = long_double::add(cur, by).ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
        let text = long_double::format(sum);
        // Redis builds the result with createStringObject: never an integer, even when it reads as one.
        Ok((Some((text.clone().into_bytes(), StrOrigin::Created)), text))
    })?;
    notify(ctx, notify::STRING, "incrbyfloat", key);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

fn lcs(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key_a = args.next_bytes()?;
    let key_b = args.next_bytes()?;
    // Both read at one instant, as in Redis.
    let (rec_a, rec_b) = {
        let _guard = ctx.store.locks.lock(&[key_a, key_b]);
        (lookup_read(ctx, key_a)?, lookup_read(ctx, key_b)?)
    };
    let value = |rec: &Option<Record>| -> CmdResult<Vec<u8>> {
        match rec.as_ref().map(|r| r.view()) {
            Some(m) if m.key_type() != KeyType::String => {
                Err(CmdError::err("The specified keys must contain string values"))
            }
            Some(m) => Ok(m.body().to_vec()),
            None => Ok(Vec::new()),
        }
    };
    let (a, b) = (value(&rec_a)?, value(&rec_b)?);
    let (mut idx, mut len, mut with_len, mut min_len) = (false, false, false, 0i64);
    while !args.is_empty() {
        if args.eat("IDX") {
            idx = true;
        } else if args.eat("LEN") {
            len = true;
        } else if args.eat("WITHMATCHLEN") {
            with_len = true;
        } else if args.remaining() >= 2 && args.eat("MINMATCHLEN") {
            min_len = args.next_i64()?.max(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if idx && len {
        return Err(CmdError::err("If you want both the length and indexes, please just use IDX."));
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::err("String too long for LCS"));
    }
    // Redis bounds the DP table by proto-max-bulk-len, so a client cannot make the server allocate without limit.
    let table_bytes = (a.len() as u64 + 1) * (b.len() as u64 + 1) * 4;
    if table_bytes > ctx.server.max_bulk_len.load(Ordering::Relaxed).max(0) as u64 {
        return Err(CmdError::err("Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let result = lcs_compute(&a, &b, min_len as u64)
        .ok_or_else(|| CmdError::err("Insufficient memory, failed allocating transient memory for LCS"))?;
    if idx {
        ctx.out.map(2);
        ctx.out.bulk(b"matches");
        ctx.out.array(result.matches.len());
        for m in &result.matches {
            ctx.out.array(2 + with_len as usize);
            for (start, end) in [m.a, m.b] {
                ctx.out.array(2);
                ctx.out.int(start as i64);
                ctx.out.int(end as i64);
            }
            if with_len {
                ctx.out.int(m.len as i64);
            }
        }
        ctx.out.bulk(b"len");
        ctx.out.int(result.lcs.len() as i64);
    } else if len {
        ctx.out.int(result.lcs.len() as i64);
    } else {
        ctx.out.bulk(&result.lcs);
    }
    Ok(())
}

/// One matching run reported by LCS IDX: inclusive ranges in each string and the run's length.
#[derive(Debug, PartialEq)]
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
    len: u32,
}

#[derive(Debug, PartialEq)]
struct LcsResult {
    lcs: Vec<u8>,
    /// Runs of at least the minimum length, last first (Redis walks the table backwards).
    matches: Vec<LcsMatch>,
}

/// The longest common subsequence by Redis' dynamic programming table and backward walk, so ties resolve the
/// same way. `None` when the table cannot be allocated.
fn lcs_compute(a: &[u8], b: &[u8], min_len: u64) -> Option<LcsResult> {
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    let mut table: Vec<u32> = Vec::new();
    table.try_reserve_exact((alen + 1).checked_mul(width)?).ok()?;
    table.resize((alen + 1) * width, 0);
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen] as usize;
    let mut lcs = vec![0u8; total];
    let mut matches = Vec::new();
    let mut k = total;
    let (mut i, mut j) = (alen, blen);
    // The run being tracked, as (a_start, a_end, b_start, b_end); None between runs.
    let mut run: Option<(usize, usize, usize, usize)> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            lcs[k - 1] = a[i - 1];
            match &mut run {
                None => run = Some((i - 1, i - 1, j - 1, j - 1)),
                Some((a_start, _, b_start, _)) if *a_start == i && *b_start == j => {
                    *a_start -= 1;
                    *b_start -= 1;
                }
                Some(_) => emit = true,
            }
            // A run that reached the start of either string is complete.
            if run.is_some_and(|(a_start, _, b_start, _)| a_start == 0 || b_start == 0) {
                emit = true;
            }
            k -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = run.is_some();
        }
        if emit {
            if let Some((a_start, a_end, b_start, b_end)) = run.take() {
                let len = (a_end - a_start + 1) as u32;
                if min_len == 0 || len as u64 >= min_len {
                    matches.push(LcsMatch {
                        a: (a_start as u32, a_end as u32),
                        b: (b_start as u32, b_end as u32),
                        len,
                    });
                }
            }
        }
    }
    Some(LcsResult { lcs, matches })
}

/// Redis' INCRBYFLOAT numbers: C `long double` on x86-64, the x87 80-bit extended format. Parsing follows
/// `strtold` (through Redis' `string2ld` checks), addition rounds to nearest-even in 64-bit precision, and
/// results print as `%.17Lf` with trailing zeros removed.
pub mod long_double {
    use rustc_apfloat::ieee::X87DoubleExtended as F80;
    use rustc_apfloat::{Float, Round, Status};

    pub const ZERO: F80 = F80::ZERO;

    /// Redis refuses inputs of `MAX_LONG_DOUBLE_CHARS` bytes or more.
    const MAX_CHARS: usize = 5 * 1024;

    /// C `isspace` in the C locale.
    fn is_c_space(b: u8) -> bool {
        matches!(b, b' ' | b'\t'..=b'\r')
    }

    /// True when `body` (no sign) is one complete `strtold` number: decimal digits with an optional point and
    /// exponent, or `0x` hex digits with an optional point and binary exponent. Anything left over fails, as
    /// Redis requires strtold to consume the whole string.
    fn is_number(body: &[u8], hex: bool) -> bool {
        let (digit, exp_mark, mut i): (fn(&u8) -> bool, &[u8], usize) =
            if hex { (u8::is_ascii_hexdigit, b"pP", 2) } else { (u8::is_ascii_digit, b"eE", 0) };
        let mut digits = 0;
        while body.get(i).is_some_and(digit) {
            i += 1;
            digits += 1;
        }
        if body.get(i) == Some(&b'.') {
            i += 1;
            while body.get(i).is_some_and(digit) {
                i += 1;
                digits += 1;
            }
        }
        if digits == 0 {
            return false;
        }
        if i == body.len() {
            return true;
        }
        if !exp_mark.contains(&body[i]) {
            return false;
        }
        i += 1;
        if matches!(body.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while body.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i > exp_start && i == body.len()
    }

    /// Parses like Redis' `string2ld`: the whole input must be one number; values out of range (overflow, or
    /// underflow to zero) and NaN are refused, while an explicit `inf` is accepted.
    pub fn parse(s: &[u8]) -> Option<F80> {
        if s.is_empty() || s.len() >= MAX_CHARS || is_c_space(s[0]) {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(if neg { -F80::INFINITY } else { F80::INFINITY });
        }
        let hex = body.len() > 1 && body[..2].eq_ignore_ascii_case(b"0x");
        if !is_number(body, hex) {
            return None;
        }
        let text = std::str::from_utf8(s).ok()?;
        // strtold allows a hex float without a binary exponent; the parser below wants one.
        let text = if hex && !body.iter().any(|&c| c == b'p' || c == b'P') { format!("{text}p0") } else { text.into() };
        let r = F80::from_str_r(&text, Round::NearestTiesToEven).ok()?;
        if r.status.contains(Status::OVERFLOW) || (r.status.contains(Status::UNDERFLOW) && r.value.is_zero()) {
            return None;
        }
        Some(r.value)
    }

    /// `a + b`, or `None` when the sum is NaN or infinite.
    pub fn add(a: F80, b: F80) -> Option<F80> {
        let sum = a.add_r(b, Round::NearestTiesToEven).value;
        (!sum.is_nan() && !sum.is_infinite()).then_some(sum)
    }

    /// `%.17Lf` with trailing zeros (and a bare point) removed, and `-0` written as `0`: Redis' `ld2string` in
    /// human mode. Exact for every finite value, including those with thousands of integer digits.
    pub fn format(v: F80) -> String {
        let bits = v.to_bits();
        let neg = (bits >> 79) & 1 == 1;
        let exp_field = ((bits >> 64) & 0x7fff) as i32;
        let mant = bits as u64;
        // value = mant × 2^exp2; the format stores the integer bit explicitly and denormals use exponent 1.
        let exp2 = exp_field.max(1) - 16383 - 63;
        let mut out = String::new();
        if neg {
            out.push('-');
        }
        if exp2 >= 0 {
            out.push_str(&shifted_decimal(mant, exp2 as u32));
        } else {
            let (int_part, frac) = fixed17(mant, exp2.unsigned_abs());
            out.push_str(itoa::Buffer::new().format(int_part));
            if frac != 0 {
                let digits = format!("{frac:017}");
                out.push('.');
                out.push_str(digits.trim_end_matches('0'));
            }
        }
        if out == "-0" {
            out.remove(0);
        }
        out
    }

    /// `mant / 2^shift` as an integer part and 17 decimal digits, rounded half to even as glibc's printf does.
    fn fixed17(mant: u64, shift: u32) -> (u64, u64) {
        const SCALE: u128 = 100_000_000_000_000_000;
        let (mut int_part, frac) = if shift < 64 { (mant >> shift, mant & ((1u64 << shift) - 1)) } else { (0, mant) };
        // frac × 10^17 < 2^121: when shift ≥ 122 the fraction rounds to zero.
        if shift >= 122 {
            return (int_part, 0);
        }
        let scaled = frac as u128 * SCALE;
        let mut q = scaled >> shift;
        let rem = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q += 1;
        }
        if q == SCALE {
            int_part += 1;
            q = 0;
        }
        (int_part, q as u64)
    }

    /// `mant × 2^shift` in decimal, with base-10^9 limbs (up to ~4933 digits for the largest long double).
    fn shifted_decimal(mant: u64, shift: u32) -> String {
        const BASE: u64 = 1_000_000_000;
        let mut limbs = vec![mant % BASE, mant / BASE % BASE, mant / BASE / BASE];
        let mut left = shift;
        while left > 0 {
            let k = left.min(32);
            let mut carry = 0u64;
            for limb in limbs.iter_mut() {
                // limb < 2^30, so limb << 32 plus a carry below 2^33 stays under 2^63.
                let v = (*limb << k) + carry;
                *limb = v % BASE;
                carry = v / BASE;
            }
            while carry > 0 {
                limbs.push(carry % BASE);
                carry /= BASE;
            }
            left -= k;
        }
        while limbs.len() > 1 && limbs.last() == Some(&0) {
            limbs.pop();
        }
        let mut out = String::new();
        let mut it = limbs.iter().rev();
        if let Some(top) = it.next() {
            out.push_str(&top.to_string());
        }
        for limb in it {
            out.push_str(&format!("{limb:09}"));
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn incr(a: &str, b: &str) -> Option<String> {
            Some(format(add(parse(a.as_bytes())?, parse(b.as_bytes())?)?))
        }

        #[test]
        fn sums_print_like_redis() {
            assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
            assert_eq!(incr("10.50", "5.0e3").as_deref(), Some("5010.5"));
            assert_eq!(incr("0", "0.1").as_deref(), Some("0.1"));
            assert_eq!(incr("3", "-3").as_deref(), Some("0"));
            assert_eq!(incr("-0", "-0").as_deref(), Some("0"));
            assert_eq!(incr("1", "1e-18").as_deref(), Some("1"));
            assert_eq!(incr("0", "-1e-18").as_deref(), Some("0"));
            assert_eq!(incr("0", "1e20").as_deref(), Some("100000000000000000000"));
            assert_eq!(incr("0", "0x10").as_deref(), Some("16"));
            assert_eq!(incr("0", "1.5e300").map(|s| s.len()), Some(301));
            assert_eq!(incr("1.1", "2.2").as_deref(), Some("3.3"));
        }

        #[test]
        fn parse_follows_strtold() {
            for ok in ["1", "+1", "-1.", ".5", "1e5", "1E+5", "0x1p3", "0X.8P1", "inf", "-Infinity", "1e-4940"] {
                assert!(parse(ok.as_bytes()).is_some(), "{ok}");
            }
            for bad in ["", " 1", "1 ", "1e", "1e+", ".", "e5", "0x", "0x1p", "nan", "-nan", "1e5000", "1e-5000", "--1"]
            {
                assert!(parse(bad.as_bytes()).is_none(), "{bad}");
            }
            assert!(add(parse(b"inf").unwrap(), ZERO).is_none());
        }

        #[test]
        fn fixed_point_rounds_half_to_even() {
            // 2^-18 = 0.000003814697265625 and 3 × 2^-18 = 0.000011444091796875: the 18th digit is an exact half.
            assert_eq!(fixed17(1, 18), (0, 381_469_726_562));
            assert_eq!(fixed17(3, 18), (0, 1_144_409_179_688));
            assert_eq!(fixed17(5, 1), (2, 50_000_000_000_000_000));
            assert_eq!(shifted_decimal(1, 100), "1267650600228229401496703205376");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(clamp_range(5, 0, -1), Some((0, 4)));
        assert_eq!(clamp_range(5, -100, 100), Some((0, 4)));
        assert_eq!(clamp_range(5, 3, 1), None);
        assert_eq!(clamp_range(0, 0, -1), None);
        assert_eq!(clamp_range(5, i64::MIN, i64::MAX), Some((0, 4)));
        assert_eq!(clamp_range(5, 5, 10), None);
    }

    #[test]
    fn lcs_matches_redis_example() {
        let r = lcs_compute(b"ohmytext", b"mynewtext", 0).unwrap();
        assert_eq!(r.lcs, b"mytext");
        assert_eq!(
            r.matches,
            vec![LcsMatch { a: (4, 7), b: (5, 8), len: 4 }, LcsMatch { a: (2, 3), b: (0, 1), len: 2 }]
        );
        assert_eq!(lcs_compute(b"ohmytext", b"mynewtext", 3).unwrap().matches.len(), 1);
        assert_eq!(lcs_compute(b"", b"abc", 0).unwrap(), LcsResult { lcs: vec![], matches: vec![] });
    }
}
