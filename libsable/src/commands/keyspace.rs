//! Keyspace family: DEL, UNLINK, EXISTS, TYPE, TOUCH, the expiry commands (EXPIRE…PEXPIRETIME, TTL, PTTL,
//! PERSIST), RENAME, RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB and OBJECT.
//!
//! Everything here works on whole records and is type-agnostic; the three operations that relocate a value
//! ([`copy_value`], [`rename_value`], [`move_value`]) are the single places a composite type's elements will
//! have to follow their record.

use std::sync::atomic::Ordering;

use super::collection::{self, ScanOptions, ScanPage, TriePicker};
use super::connection::help_reply;
use super::string::{count_lookup, lookup_read, lookup_read_untouched};
use super::{chunked, Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify, notify_db};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::data::{owned_keys, OwnedDataCursor};
use crate::storage::encoding::{with_expire, Collection, MetaView, StrOrigin};
use crate::storage::{Existing, KeyType, Txn};
use crate::util::glob::{glob_match, is_match_all};
use crate::util::{now_ms, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("del", del),
    ("unlink", del),
    ("exists", exists),
    ("touch", exists),
    ("type", type_),
    ("expire", expire),
    ("pexpire", pexpire),
    ("expireat", expireat),
    ("pexpireat", pexpireat),
    ("ttl", ttl),
    ("pttl", pttl),
    ("expiretime", expiretime),
    ("pexpiretime", pexpiretime),
    ("persist", persist),
    ("rename", rename),
    ("renamenx", renamenx),
    ("copy", copy),
    ("move", move_),
    ("keys", keys),
    ("scan", scan),
    ("randomkey", randomkey),
    ("dbsize", dbsize),
    ("flushdb", flushdb),
    ("flushall", flushall),
    ("swapdb", swapdb),
    ("object|encoding", object_encoding),
    ("object|refcount", object_refcount),
    ("object|idletime", object_idletime),
    ("object|freq", object_freq),
    ("object|help", object_help),
];

/// Deletes `key` (record `old`, possibly already expired) and says whether it was logically alive. Removing an
/// expired record counts it as expired, as Redis' lazy expiry does.
fn delete_key(ctx: &Ctx, txn: &mut Txn, db: u16, key: &[u8], old: &Existing) -> bool {
    txn.delete(db, key, old);
    let live = old.live().is_some();
    if !live {
        ctx.store.expired_keys.fetch_add(1, Ordering::Relaxed);
    }
    live
}

/// DEL and UNLINK (deletion is one batch either way, so UNLINK has nothing to defer).
fn del(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut keys: Vec<&[u8]> = args.rest().iter().map(|k| &k[..]).collect();
    keys.sort_unstable();
    keys.dedup();
    let _guard = ctx.store.locks.lock(&keys);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    // Each key removed, and whether it was alive (else it had expired).
    let mut removed = std::collections::HashMap::new();
    for key in keys {
        if let Some(old) = txn.load(db, key)? {
            removed.insert(key, delete_key(ctx, &mut txn, db, key, &old));
        }
    }
    txn.commit()?;
    let deleted = removed.values().filter(|live| **live).count();
    // In argument order, as Redis deletes them: `del` for a live key, `expired` for one that had expired.
    for key in args.rest() {
        match removed.remove(&key[..]) {
            Some(true) => notify(ctx, notify::GENERIC, "del", key),
            Some(false) => notify(ctx, notify::EXPIRED, "expired", key),
            None => {}
        }
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// EXISTS and TOUCH: how many of the arguments name a live key, repeats counted each time. TOUCH sets their
/// access time (OBJECT IDLETIME), EXISTS does not.
fn exists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let touch = ctx.cmd.name == "touch";
    let mut n = 0;
    for key in args.rest() {
        let rec = if touch { lookup_read(ctx, key)? } else { lookup_read_untouched(ctx, key)? };
        n += rec.is_some() as i64;
    }
    ctx.out.int(n);
    Ok(())
}

fn type_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let rec = lookup_read_untouched(ctx, args.next_bytes()?)?;
    ctx.out.simple(rec.map(|r| r.view().key_type().name()).unwrap_or("none"));
    Ok(())
}

/// The conditions EXPIRE's NX / XX / GT / LT options put on the current expiry.
#[derive(Default, Debug, PartialEq)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    /// Parses the options after the time, with Redis 7.0's messages and precedence (options before the number).
    fn parse(args: &mut Args) -> CmdResult<ExpireFlags> {
        let mut f = ExpireFlags::default();
        while let Some(opt) = args.peek() {
            if args.eat("NX") {
                f.nx = true;
            } else if args.eat("XX") {
                f.xx = true;
            } else if args.eat("GT") {
                f.gt = true;
            } else if args.eat("LT") {
                f.lt = true;
            } else {
                return Err(CmdError::err(format!("Unsupported option {}", crate::util::arg_text(opt))));
            }
        }
        if f.nx && (f.xx || f.gt || f.lt) {
            return Err(CmdError::err("NX and XX, GT or LT options at the same time are not compatible"));
        }
        if f.gt && f.lt {
            return Err(CmdError::err("GT and LT options at the same time are not compatible"));
        }
        Ok(f)
    }

    /// May the expiry change from `current` (ms, 0 = none) to `when`? No expiry counts as an infinite TTL.
    fn allow(&self, current: u64, when: i64) -> bool {
        let current = (current != 0).then_some(current as i64);
        !(self.nx && current.is_some()
            || self.xx && current.is_none()
            || self.gt && current.is_none_or(|c| when <= c)
            || self.lt && current.is_some_and(|c| when >= c))
    }
}

/// The absolute expiry time in ms of an EXPIRE-family argument, with Redis' overflow checks.
fn expire_time(value: i64, unit_ms: i64, base_ms: i64, cmd: &str) -> CmdResult<i64> {
    let invalid = || CmdError::err(format!("invalid expire time in '{cmd}' command"));
    value.checked_mul(unit_ms).and_then(|v| v.checked_add(base_ms)).ok_or_else(invalid)
}

/// EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT. A time already past deletes the key (and still replies 1).
fn expire_generic(ctx: &mut Ctx, args: &mut Args, unit_ms: i64, absolute: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let flags = ExpireFlags::parse(args)?;
    let value = parse_i64(value).ok_or(CmdError::NotInteger)?;
    let now = now_ms() as i64;
    let when = expire_time(value, unit_ms, if absolute { 0 } else { now }, &ctx.cmd.name)?;

    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Some(old) = txn.load(db, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(live) = old.live() else {
        ctx.out.int(0);
        return Ok(());
    };
    if !flags.allow(live.expire_at(), when) {
        ctx.out.int(0);
        return Ok(());
    }
    let event = if when <= now {
        delete_key(ctx, &mut txn, db, key, &old);
        "del"
    } else {
        txn.put(db, key, Some(&old), with_expire(live.0, when as u64));
        "expire"
    };
    txn.commit()?;
    notify(ctx, notify::GENERIC, event, key);
    ctx.out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, 1000, false)
}

fn pexpire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, 1, false)
}

fn expireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, 1000, true)
}

fn pexpireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, 1, true)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 without expiry; seconds are rounded as Redis does.
fn ttl_generic(ctx: &mut Ctx, args: &mut Args, in_ms: bool, absolute: bool) -> CmdResult {
    let Some(rec) = lookup_read_untouched(ctx, args.next_bytes()?)? else {
        ctx.out.int(-2);
        return Ok(());
    };
    let at = rec.view().expire_at();
    if at == 0 {
        ctx.out.int(-1);
        return Ok(());
    }
    let t = if absolute { at } else { at.saturating_sub(now_ms()) };
    let t = if in_ms { t } else { t.saturating_add(500) / 1000 };
    ctx.out.int(i64::try_from(t).unwrap_or(i64::MAX));
    Ok(())
}

fn ttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

fn persist(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let changed = match old.as_ref().and_then(|o| o.live()) {
        Some(live) if live.expire_at() != 0 => {
            txn.put(db, key, old.as_ref(), with_expire(live.0, 0));
            true
        }
        _ => false,
    };
    txn.commit()?;
    if changed {
        notify(ctx, notify::GENERIC, "persist", key);
    }
    ctx.out.int(changed as i64);
    Ok(())
}

/// Writes `src`'s value as `dst_key` in `dst_db` (replacing `dst_old`); the source stays. COPY's one operation: a
/// collection gets a new uid and a copy of every element.
fn copy_value(
    ctx: &Ctx,
    txn: &mut Txn,
    src: &MetaView,
    dst_db: u16,
    dst_key: &[u8],
    dst_old: Option<&Existing>,
) -> CmdResult {
    match Collection::from_view(src) {
        Some(mut coll) => {
            let from = coll.uid;
            coll.uid = ctx.store.new_uid()?;
            txn.copy_elements(from, coll.uid)?;
            // A stream's record holds more than `Collection` knows: only its uid changes.
            let record = if coll.kind == KeyType::Stream {
                crate::storage::encoding::with_uid(src.0, coll.uid)
            } else {
                coll.encode()
            };
            txn.put(dst_db, dst_key, dst_old, record);
        }
        // COPY duplicates the object: a shared small integer becomes a private one, as in Redis.
        None => txn.put(dst_db, dst_key, dst_old, crate::storage::encoding::copy_record(src.0)),
    }
    Ok(())
}

/// Gives `src_key`'s record the name `dst_key` in the same database (replacing `dst_old`). RENAME's one operation.
fn rename_value(txn: &mut Txn, db: u16, src_key: &[u8], src: &Existing, dst_key: &[u8], dst_old: Option<&Existing>) {
    txn.put(db, dst_key, dst_old, src.view().0);
    txn.carry_access(db, src_key, db, dst_key);
    txn.delete(db, src_key, src);
}

/// Moves `key`'s record from `src_db` to `dst_db` (where the key is absent or expired: `dst_old`). MOVE's one
/// operation.
fn move_value(txn: &mut Txn, key: &[u8], src_db: u16, src: &Existing, dst_db: u16, dst_old: Option<&Existing>) {
    txn.put(dst_db, key, dst_old, src.view().0);
    txn.carry_access(src_db, key, dst_db, key);
    txn.delete(src_db, key, src);
}

/// RENAME and RENAMENX.
fn rename_generic(ctx: &mut Ctx, args: &mut Args, nx: bool) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let _guard = ctx.store.locks.lock(&[src, dst]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let src_old = txn.load(db, src)?;
    let Some(src_rec) = src_old.as_ref().filter(|o| o.live().is_some()) else {
        return Err(CmdError::err("no such key"));
    };
    let done = if src == dst {
        !nx
    } else {
        let dst_old = txn.load(db, dst)?;
        if nx && dst_old.as_ref().is_some_and(|o| o.live().is_some()) {
            false
        } else {
            rename_value(&mut txn, db, src, src_rec, dst, dst_old.as_ref());
            txn.commit()?;
            // Redis deletes the destination and adds it anew, so it is `new` even when it existed.
            notify(ctx, notify::NEW, "new", dst);
            notify(ctx, notify::GENERIC, "rename_from", src);
            notify(ctx, notify::GENERIC, "rename_to", dst);
            true
        }
    };
    match (nx, done) {
        (false, _) => ctx.out.ok(),
        (true, d) => ctx.out.int(d as i64),
    }
    Ok(())
}

fn rename(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// A C `int` argument with Redis' `getIntFromObjectOrReply` errors.
fn parse_int(arg: &[u8]) -> CmdResult<i32> {
    let v = parse_i64(arg).ok_or(CmdError::NotInteger)?;
    i32::try_from(v)
        .map_err(|_| CmdError::err(format!("value is out of range, value must between {} and {}", i32::MIN, i32::MAX)))
}

/// A database index argument of COPY and MOVE, checked against `databases`.
fn target_db(ctx: &Ctx, arg: &[u8]) -> CmdResult<usize> {
    let db = parse_int(arg)?;
    if db < 0 || db >= ctx.store.databases() as i32 {
        return Err(CmdError::err("DB index is out of range"));
    }
    Ok(db as usize)
}

fn same_object() -> CmdError {
    CmdError::err("source and destination objects are the same")
}

fn copy(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let (mut replace, mut dst_logical) = (false, ctx.client.db);
    while !args.is_empty() {
        if args.eat("REPLACE") {
            replace = true;
        } else if args.remaining() >= 2 && args.eat("DB") {
            dst_logical = target_db(ctx, args.next_bytes()?)?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if dst_logical == ctx.client.db && src == dst {
        return Err(same_object());
    }
    let _guard = ctx.store.locks.lock(&[src, dst]);
    let src_db = ctx.db();
    let dst_db = ctx.store.phys(dst_logical);
    let mut txn = ctx.store.txn();
    let src_old = txn.load(src_db, src)?;
    let src_live = src_old.as_ref().and_then(|o| o.live());
    count_lookup(ctx, src, src_live.is_some());
    let Some(src_rec) = src_live else {
        ctx.out.int(0);
        return Ok(());
    };
    let dst_old = txn.load(dst_db, dst)?;
    if !replace && dst_old.as_ref().is_some_and(|o| o.live().is_some()) {
        ctx.out.int(0);
        return Ok(());
    }
    copy_value(ctx, &mut txn, &src_rec, dst_db, dst, dst_old.as_ref())?;
    txn.commit()?;
    // As RENAME's, a replaced destination is `new`.
    notify_db(&ctx.server.notify, notify::NEW, "new", dst_logical, dst);
    notify_db(&ctx.server.notify, notify::GENERIC, "copy_to", dst_logical, dst);
    ctx.out.int(1);
    Ok(())
}

fn move_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let dst_logical = target_db(ctx, args.next_bytes()?)?;
    if dst_logical == ctx.client.db {
        return Err(same_object());
    }
    let _guard = ctx.store.locks.lock(&[key]);
    let src_db = ctx.db();
    let dst_db = ctx.store.phys(dst_logical);
    let mut txn = ctx.store.txn();
    let src_old = txn.load(src_db, key)?;
    let Some(src_rec) = src_old.as_ref().filter(|o| o.live().is_some()) else {
        ctx.out.int(0);
        return Ok(());
    };
    let dst_old = txn.load(dst_db, key)?;
    if dst_old.as_ref().is_some_and(|o| o.live().is_some()) {
        ctx.out.int(0);
        return Ok(());
    }
    move_value(&mut txn, key, src_db, src_rec, dst_db, dst_old.as_ref());
    txn.commit()?;
    let n = &ctx.server.notify;
    notify_db(n, notify::NEW, "new", dst_logical, key);
    notify_db(n, notify::GENERIC, "move_from", ctx.client.db, key);
    notify_db(n, notify::GENERIC, "move_to", dst_logical, key);
    ctx.out.int(1);
    Ok(())
}

/// KEYS: one pass over a snapshot of the database counts the matches (the array header comes first), a second
/// over the same snapshot streams them, so the reply is never held whole in memory.
fn keys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pattern = args.next_bytes()?;
    let mut matching = MatchingKeys {
        cursor: owned_keys(&ctx.server.store, ctx.db()),
        pattern: (!is_match_all(pattern)).then(|| pattern.to_vec()),
        now: now_ms(),
        remaining: 0,
    };
    let mut n = 0;
    while let Some((key, meta)) = matching.cursor.next()? {
        n += wanted(&matching.pattern, matching.now, key, meta) as u64;
    }
    matching.cursor.rewind();
    matching.remaining = n;
    ctx.out.array(n as usize);
    chunked::send(ctx, matching)
}

/// The keys KEYS streams: live, and matching the pattern.
struct MatchingKeys {
    cursor: OwnedDataCursor,
    pattern: Option<Vec<u8>>,
    now: u64,
    remaining: u64,
}

/// A key KEYS lists: live at `now` and matching `pattern` (None: everything).
fn wanted(pattern: &Option<Vec<u8>>, now: u64, key: &[u8], meta: &[u8]) -> bool {
    MetaView::parse(meta).is_some_and(|m| !m.is_expired(now))
        && pattern.as_ref().is_none_or(|p| glob_match(p, key, false))
}

impl chunked::ReplyStream for MatchingKeys {
    fn fill(&mut self, _server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        while self.remaining > 0 && out.len() < budget {
            let Some((key, meta)) = self.cursor.next()? else {
                return Err(CmdError::Storage("keyspace snapshot changed during KEYS".into()));
            };
            if wanted(&self.pattern, self.now, key, meta) {
                out.bulk(key);
                self.remaining -= 1;
            }
        }
        Ok(self.remaining > 0)
    }
}

fn scan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let cursor = collection::scan_cursor(args)?;
    let opts = ScanOptions::parse(args, true)?;
    let (mut page, from) = ScanPage::resume(ctx, None, cursor, opts.count);
    // COUNT bounds the keys examined, as in Redis; MATCH and TYPE filter what was examined.
    ctx.store.for_each_key(ctx.db(), &from, |key, meta| {
        if !page.examine(key) {
            return false;
        }
        let type_ok = opts.type_name.is_none_or(|t| t.eq_ignore_ascii_case(meta.key_type().name().as_bytes()));
        if type_ok && opts.matches(key) {
            page.push(key);
        }
        true
    })?;
    page.finish(ctx);
    Ok(())
}

/// A random live key, by a descent of the key trie (see [`TriePicker`]): keys behind small gaps in the byte
/// space (`bar` right before `baz`) are as likely as others.
fn randomkey(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let now = now_ms();
    let live = |meta: &[u8]| MetaView::parse(meta).is_some_and(|m| !m.is_expired(now));
    let key = TriePicker::new(ctx.store.key_cursor(ctx.db()), live).pick()?;
    ctx.out.opt_bulk(key.as_deref());
    Ok(())
}

fn dbsize(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.int(ctx.store.key_count(ctx.client.db));
    Ok(())
}

/// FLUSHDB/FLUSHALL's optional ASYNC or SYNC (the range delete is immediate either way).
fn flush_mode(args: &mut Args) -> CmdResult {
    if args.remaining() == 1 && (args.eat("ASYNC") || args.eat("SYNC")) {
        return Ok(());
    }
    args.finish()
}

fn flushdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    let _guard = ctx.store.locks.lock_all();
    ctx.store.flush_db(ctx.db())?;
    ctx.store.tracking.flush();
    ctx.out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args)?;
    let _guard = ctx.store.locks.lock_all();
    for logical in 0..ctx.store.databases() as usize {
        ctx.store.flush_db(ctx.store.phys(logical))?;
    }
    ctx.store.tracking.flush();
    // Redis saves its RDB file after a FLUSHALL when save points are set, which zeroes its change counter.
    if !ctx.server.config.read().str("save").is_empty() {
        ctx.store.changes.store(0, Ordering::Relaxed);
    }
    ctx.out.ok();
    Ok(())
}

fn swapdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    // Redis replaces both of `getIntFromObjectOrReply`'s messages with its own here.
    let a = parse_int(args.next_bytes()?).map_err(|_| CmdError::err("invalid first DB index"))?;
    let b = parse_int(args.next_bytes()?).map_err(|_| CmdError::err("invalid second DB index"))?;
    let n = ctx.store.databases() as i32;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        return Err(CmdError::err("DB index is out of range"));
    }
    if a != b {
        let _guard = ctx.store.locks.lock_all();
        ctx.store.swap_db(a as usize, b as usize)?;
    }
    ctx.out.ok();
    Ok(())
}

/// Runs `f` on OBJECT's key, or replies nil when it is missing (Redis checks the key before anything else). The
/// lookup counts a hit or miss but, as in Redis, publishes no `keymiss`.
fn with_object(ctx: &mut Ctx, args: &mut Args, f: impl FnOnce(&mut Ctx, &[u8], &MetaView) -> CmdResult) -> CmdResult {
    let key = args.next_bytes()?;
    let rec = ctx.store.get_untouched(ctx.db(), key)?;
    ctx.server.stats.hit(rec.is_some());
    match rec {
        Some(r) => f(ctx, key, &r.view()),
        None => {
            ctx.out.null();
            Ok(())
        }
    }
}

/// Integers below this are Redis' shared objects (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;

/// The integer a string value would be stored as in Redis (`int` encoding): at most 20 bytes, `string2ll` rules.
fn int_encoded(value: &[u8]) -> Option<i64> {
    (value.len() <= 20).then(|| parse_i64(value)).flatten()
}

/// Longest string Redis stores as `embstr` (`OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
const EMBSTR_LIMIT: usize = 44;

/// The object Redis would hold for a string record, given how it was written: its encoding name, and whether it
/// is one of the shared integers (when sharing is on).
fn string_object(m: &MetaView) -> (&'static str, bool) {
    let body = m.body();
    let by_len = if body.len() <= EMBSTR_LIMIT { "embstr" } else { "raw" };
    match m.string_origin() {
        StrOrigin::Raw => ("raw", false),
        StrOrigin::Created => (by_len, false),
        origin @ (StrOrigin::Encoded | StrOrigin::Unshared) => match int_encoded(body) {
            Some(v) => ("int", origin == StrOrigin::Encoded && (0..SHARED_INTEGERS).contains(&v)),
            None => (by_len, false),
        },
    }
}

/// OBJECT ENCODING's name for a record, as Redis would store the same value: collections carry whether Redis
/// would have converted them to the big encoding (see `Collection::big`).
pub(crate) fn encoding_name(m: &MetaView) -> &'static str {
    let big = Collection::from_view(m).is_some_and(|c| c.big);
    match (m.key_type(), big) {
        (KeyType::String, _) => string_object(m).0,
        (KeyType::List, _) => "quicklist",
        (KeyType::Hash | KeyType::ZSet, false) => "listpack",
        (KeyType::Set, false) => "intset",
        (KeyType::Hash | KeyType::Set, true) => "hashtable",
        (KeyType::ZSet, true) => "skiplist",
        (KeyType::Stream, _) => "stream",
    }
}

/// The active `maxmemory-policy` is one of the LFU ones.
fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.server.config.read().str("maxmemory-policy").ends_with("-lfu")
}

fn object_encoding(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    with_object(ctx, args, |ctx, _, m| {
        ctx.out.bulk(encoding_name(m).as_bytes());
        Ok(())
    })
}

/// REFCOUNT: small integers stored through `tryObjectEncoding` are Redis' shared objects (refcount `INT_MAX`)
/// unless an LRU/LFU policy with a `maxmemory` limit disables sharing; every other value has one reference. The
/// policy is read now, while Redis applies it when the value is written: only a CONFIG SET between the two differs.
fn object_refcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    with_object(ctx, args, |ctx, _, m| {
        ctx.out.int(refcount(ctx, m));
        Ok(())
    })
}

/// The reference count Redis would report for record `m` (OBJECT REFCOUNT, DEBUG OBJECT).
pub(crate) fn refcount(ctx: &Ctx, m: &MetaView) -> i64 {
    let small = m.key_type() == KeyType::String && string_object(m).1;
    let sharing = {
        let cfg = ctx.server.config.read();
        let policy = cfg.str("maxmemory-policy");
        cfg.int("maxmemory") == 0 || !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
    };
    if small && sharing {
        i32::MAX as i64
    } else {
        1
    }
}

/// Seconds since the key was last read or written. Access times live in the meta cache (they are not stored,
/// as Redis does not keep them across a restart either): a key not accessed since it left the cache, or since
/// the server started, counts from the server's start, as a key Redis loaded from its RDB file at start-up.
fn object_idletime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    with_object(ctx, args, |ctx, key, _| {
        if lfu_policy(ctx) {
            return Err(CmdError::err(
                "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between \
                 policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        ctx.out.int(idle_seconds(ctx, key) as i64);
        Ok(())
    })
}

/// Seconds since `key` was last accessed (see OBJECT IDLETIME).
pub(crate) fn idle_seconds(ctx: &Ctx, key: &[u8]) -> u64 {
    let now = now_ms() / 1000;
    let started = now.saturating_sub(ctx.server.started.elapsed().as_secs());
    let at = ctx.store.accessed(ctx.db(), key).map_or(started, u64::from);
    now.saturating_sub(at)
}

fn object_freq(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    with_object(ctx, args, |ctx, key, _| {
        if !lfu_policy(ctx) {
            return Err(CmdError::err(
                "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when \
                 switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        ctx.out.int(ctx.store.frequency(ctx.db(), key) as i64);
        Ok(())
    })
}

fn object_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    help_reply(ctx, LINES);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::encoding::{encode_string, encode_string_as};

    #[test]
    fn expire_flags_follow_redis_7_0() {
        let f = |nx, xx, gt, lt| ExpireFlags { nx, xx, gt, lt };
        // GT treats "no expiry" as infinite: never greater. LT: any time is less than infinite.
        assert!(!f(false, false, true, false).allow(0, 100));
        assert!(f(false, false, false, true).allow(0, 100));
        assert!(f(false, false, true, false).allow(50, 100));
        assert!(!f(false, false, true, false).allow(100, 100));
        assert!(!f(false, false, false, true).allow(100, 100));
        assert!(f(true, false, false, false).allow(0, 1));
        assert!(!f(true, false, false, false).allow(5, 1));
        assert!(!f(false, true, false, false).allow(0, 1));
        assert!(!f(false, true, false, true).allow(0, 1));
    }

    #[test]
    fn expire_time_overflow_is_an_error() {
        assert_eq!(expire_time(5, 1000, 10, "expire"), Ok(5010));
        assert_eq!(expire_time(i64::MAX, 1, 0, "pexpireat"), Ok(i64::MAX));
        let err = Err(CmdError::err("invalid expire time in 'expire' command"));
        assert_eq!(expire_time(i64::MAX / 1000 + 1, 1000, 0, "expire"), err);
        assert_eq!(expire_time(i64::MIN / 1000 - 1, 1000, 0, "expire"), err);
        assert_eq!(expire_time(i64::MAX - 5, 1, 6, "expire"), err);
    }

    #[test]
    fn string_encodings_match_redis() {
        let enc = |v: &[u8]| encoding_name(&MetaView(&encode_string(0, v)));
        assert_eq!(enc(b"0"), "int");
        assert_eq!(enc(b"-9223372036854775808"), "int");
        assert_eq!(enc(b"12345678901234567890"), "embstr");
        assert_eq!(enc(b"01"), "embstr");
        assert_eq!(enc(&[b'a'; 44]), "embstr");
        assert_eq!(enc(&[b'a'; 45]), "raw");
    }

    #[test]
    fn string_objects_follow_their_origin() {
        let obj = |v: &[u8], origin| string_object(&MetaView(&encode_string_as(0, v, origin)));
        assert_eq!(obj(b"10", StrOrigin::Encoded), ("int", true));
        assert_eq!(obj(b"9999", StrOrigin::Encoded), ("int", true));
        assert_eq!(obj(b"10000", StrOrigin::Encoded), ("int", false));
        assert_eq!(obj(b"-1", StrOrigin::Encoded), ("int", false));
        assert_eq!(obj(b"10", StrOrigin::Raw), ("raw", false));
        assert_eq!(obj(b"", StrOrigin::Raw), ("raw", false));
        assert_eq!(obj(b"10", StrOrigin::Created), ("embstr", false));
        assert_eq!(obj(&[b'1'; 44], StrOrigin::Created), ("embstr", false));
        assert_eq!(obj(&[b'1'; 45], StrOrigin::Created), ("raw", false));
        assert_eq!(obj(b"10", StrOrigin::Unshared), ("int", false));
        assert_eq!(obj(b"abc", StrOrigin::Unshared), ("embstr", false));
        assert_eq!(obj(&[b'a'; 45], StrOrigin::Unshared), ("raw", false));
    }
}
