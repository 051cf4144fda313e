//! Hash family: every Redis 7.0 hash command (HSET … HSCAN). A hash is a collection whose elements are its fields:
//! one `data` record per field, sub key = the field's bytes, value = the field's insertion ordinal and the value's
//! bytes (`encoding::hash_field_value`). `coll.big` says whether Redis would hold the hash as a hash table rather
//! than a listpack, which OBJECT ENCODING reports. A hash Redis keeps as a listpack lists its fields as Redis
//! does, in insertion order (a new field goes last, a rewritten one keeps its place), and HSCAN returns it in one
//! call; a hash table's order is Redis' hashing, which no client can rely on, so ours is byte order, streamed.
//!
//! HRANDFIELD picks exactly uniformly, by walking the hash, unless the hash is so much bigger than the number of
//! picks that descending its byte trie once per pick is cheaper (see `collection::sparse` and [`TriePicker`]).

use std::sync::Arc;

use rustc_apfloat::Float;

use super::chunked::{self, emit_sub, Elements, Emit, ReplyStream};
use super::collection::{
    self, random_below, shuffle, sparse, Ranks, RepeatPlan, ScanOptions, ScanPage, Selection, TriePicker,
};
use super::string::long_double;
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify;
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::data::{owned_range, OwnedDataCursor};
use crate::storage::encoding::{hash_field_value, split_hash_field, Collection};
use crate::storage::{KeyType, Store, Txn};
use crate::util::parse_i64;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("hdel", hdel),
    ("hexists", hexists),
    ("hget", hget),
    ("hgetall", hgetall),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hkeys", hkeys),
    ("hlen", hlen),
    ("hmget", hmget),
    ("hmset", hmset),
    ("hrandfield", hrandfield),
    ("hscan", hscan),
    ("hset", hset),
    ("hsetnx", hsetnx),
    ("hstrlen", hstrlen),
    ("hvals", hvals),
];

/// Redis' listpack limits for hashes (`hash-max-listpack-entries`, `hash-max-listpack-value`): past either, it
/// converts the hash to a hash table for good.
struct Limits {
    entries: u64,
    value: usize,
}

impl Limits {
    fn of(ctx: &Ctx) -> Limits {
        let config = ctx.server.config.read();
        let entries = config.int("hash-max-listpack-entries").max(0) as u64;
        let value = config.int("hash-max-listpack-value").max(0) as usize;
        Limits { entries, value }
    }

    /// Marks `coll` big when a string it now holds is too long for a listpack entry or it has too many fields.
    fn apply(&self, coll: &mut Collection, strings: &[&[u8]]) {
        if coll.len > self.entries || strings.iter().any(|s| s.len() > self.value) {
            coll.big = true;
        }
    }
}

/// The hash at `key` for a reader: None when missing, WRONGTYPE for another type.
fn read(ctx: &Ctx, key: &[u8]) -> CmdResult<Option<Collection>> {
    collection::read(ctx, key, KeyType::Hash)
}

/// A write to the hash at `key` under its lock. `f` changes fields through the transaction, keeping `coll.len`
/// and `coll.big` right, and says whether it changed anything besides its reply; the meta record is then written
/// back (the key deleted when no field is left) in the same transaction, and the change announced as `event`
/// (then `del` for a deleted key). A missing key is created when `create`, otherwise nothing runs and the result
/// is None.
fn modify<T>(
    ctx: &Ctx,
    key: &[u8],
    create: bool,
    event: &str,
    f: impl FnOnce(&mut Txn, &mut Collection) -> CmdResult<(bool, T)>,
) -> CmdResult<Option<T>> {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let (old, mut coll) = if create {
        let (loaded, coll) = collection::load_or_new(ctx, &txn, db, key, KeyType::Hash)?;
        (loaded.old, coll)
    } else {
        let loaded = collection::load(&txn, db, key, KeyType::Hash)?;
        match loaded.coll {
            Some(coll) => (loaded.old, coll),
            None => return Ok(None),
        }
    };
    let (changed, out) = f(&mut txn, &mut coll)?;
    if changed {
        collection::store(&mut txn, db, key, old.as_ref(), &coll);
        txn.commit()?;
        collection::notify_change(ctx, notify::HASH, event, key, coll.len);
    }
    Ok(Some(out))
}

fn hset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let added = set_pairs(ctx, args)?;
    ctx.out.int(added as i64);
    Ok(())
}

fn hmset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_pairs(ctx, args)?;
    ctx.out.ok();
    Ok(())
}

/// HSET / HMSET: sets every field/value pair in order (the last value of a repeated field wins) and returns how
/// many fields are new.
fn set_pairs(ctx: &Ctx, args: &mut Args) -> CmdResult<u64> {
    let key = args.next_bytes()?;
    let pairs = args.rest();
    if !pairs.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(ctx.cmd.name.clone()));
    }
    let limits = Limits::of(ctx);
    // HMSET's event is `hset` too.
    let added = modify(ctx, key, true, "hset", |txn, coll| {
        let mut added = 0;
        for pair in pairs.chunks_exact(2) {
            let ordinal = match txn.data_get(coll.uid, &pair[0])? {
                Some(raw) => split_hash_field(&raw).0,
                None => {
                    added += 1;
                    coll.len += 1;
                    coll.next_ordinal()
                }
            };
            txn.data_put(coll.uid, &pair[0], &hash_field_value(ordinal, &pair[1]));
        }
        // Redis checks every argument's length before setting any, so even an overwritten pair counts.
        let strings: Vec<&[u8]> = pairs.iter().map(|a| &a[..]).collect();
        limits.apply(coll, &strings);
        Ok((true, added))
    })?;
    Ok(added.unwrap_or(0))
}

fn hsetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    let limits = Limits::of(ctx);
    let set = modify(ctx, key, true, "hset", |txn, coll| {
        if txn.data_get(coll.uid, field)?.is_some() {
            return Ok((false, false));
        }
        set_field(txn, coll, &limits, field, value, None);
        Ok((true, true))
    })?;
    ctx.out.int(set.unwrap_or(false) as i64);
    Ok(())
}

fn hdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let deleted = modify(ctx, key, false, "hdel", |txn, coll| {
        let mut deleted = 0;
        for field in fields {
            // The transaction sees its own deletes, so a field named twice counts once.
            if txn.data_get(coll.uid, field)?.is_some() {
                txn.data_delete(coll.uid, field);
                coll.len = coll.len.saturating_sub(1);
                deleted += 1;
            }
        }
        Ok((deleted > 0, deleted))
    })?;
    ctx.out.int(deleted.unwrap_or(0));
    Ok(())
}

fn hincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let by = args.next_i64()?;
    let limits = Limits::of(ctx);
    let n = modify(ctx, key, true, "hincrby", |txn, coll| {
        let current = txn.data_get(coll.uid, field)?;
        let current = current.as_deref().map(split_hash_field);
        let old = match current {
            Some((_, v)) => parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
            None => 0,
        };
        let n = old.checked_add(by).ok_or(CmdError::Overflow)?;
        let text = itoa::Buffer::new().format(n).as_bytes().to_vec();
        set_field(txn, coll, &limits, field, &text, current.map(|(ordinal, _)| ordinal));
        Ok((true, n))
    })?;
    ctx.out.int(n.unwrap_or(0));
    Ok(())
}

fn hincrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    // Redis' long double arithmetic and formatting, as INCRBYFLOAT; an infinite increment is refused up front.
    let by = long_double::parse(args.next_bytes()?).ok_or(CmdError::NotFloat)?;
    if by.is_nan() || by.is_infinite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let limits = Limits::of(ctx);
    let text = modify(ctx, key, true, "hincrbyfloat", |txn, coll| {
        let current = txn.data_get(coll.uid, field)?;
        let current = current.as_deref().map(split_hash_field);
        let old = match current {
            Some((_, v)) => long_double::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
            None => long_double::ZERO,
        };
        let sum = long_double::add(old, by).ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
        let text = long_double::format(sum);
        set_field(txn, coll, &limits, field, text.as_bytes(), current.map(|(ordinal, _)| ordinal));
        Ok((true, text))
    })?;
    ctx.out.bulk(text.unwrap_or_default().as_bytes());
    Ok(())
}

/// Writes one field's new value (HSETNX, HINCRBY, HINCRBYFLOAT) at `ordinal`, its place in the hash; None for a
/// field that did not exist, which goes last.
fn set_field(txn: &mut Txn, coll: &mut Collection, limits: &Limits, field: &[u8], value: &[u8], ordinal: Option<u64>) {
    let ordinal = ordinal.unwrap_or_else(|| {
        coll.len += 1;
        coll.next_ordinal()
    });
    txn.data_put(coll.uid, field, &hash_field_value(ordinal, value));
    limits.apply(coll, &[field, value]);
}

/// The value of `field` in the hash `coll`.
fn field_value(store: &Store, coll: &Collection, field: &[u8]) -> CmdResult<Option<Vec<u8>>> {
    Ok(store.data_get(coll.uid, field)?.map(|mut raw| {
        let ordinal_len = raw.len() - split_hash_field(&raw).1.len();
        raw.drain(..ordinal_len);
        raw
    }))
}

fn hget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = match read(ctx, key)? {
        Some(coll) => field_value(ctx.store, &coll, field)?,
        None => None,
    };
    ctx.out.opt_bulk(value.as_deref());
    Ok(())
}

fn hmget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let coll = read(ctx, key)?;
    // Read everything first so a storage error cannot leave a half-written array.
    let values = fields
        .iter()
        .map(|f| coll.as_ref().map_or(Ok(None), |c| field_value(ctx.store, c, f)))
        .collect::<CmdResult<Vec<_>>>()?;
    ctx.out.array(values.len());
    for v in &values {
        ctx.out.opt_bulk(v.as_deref());
    }
    Ok(())
}

fn hexists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let found = match read(ctx, key)? {
        Some(coll) => ctx.store.data_get(coll.uid, field)?.is_some(),
        None => false,
    };
    ctx.out.int(found as i64);
    Ok(())
}

fn hstrlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let len = match read(ctx, key)? {
        Some(coll) => field_value(ctx.store, &coll, field)?.map_or(0, |v| v.len()),
        None => 0,
    };
    ctx.out.int(len as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    collection::reply_len(ctx, args, KeyType::Hash)
}

// The emitters below get a field and its record's raw value (`hash_field_value`).

fn emit_pair(out: &mut Reply, field: &[u8], raw: &[u8]) {
    out.bulk(field);
    out.bulk(split_hash_field(raw).1);
}

fn emit_value(out: &mut Reply, _field: &[u8], raw: &[u8]) {
    out.bulk(split_hash_field(raw).1);
}

/// A field with its value as HRANDFIELD WITHVALUES returns it: a two-element array in RESP3, flat in RESP2.
fn emit_random_pair(out: &mut Reply, field: &[u8], raw: &[u8]) {
    if out.resp3 {
        out.array(2);
    }
    emit_pair(out, field, raw);
}

/// Replies with every field of the hash at `key` (HGETALL, HKEYS, HVALS): `header` gets the number of fields
/// (0 for a missing key), then each field is written by `emit`, from one consistent view of the hash: a listpack
/// in insertion order, a hash table streamed. Every whole-hash walk goes through here.
fn send_all(ctx: &mut Ctx, key: &[u8], header: fn(&mut Reply, usize), emit: Emit) -> CmdResult {
    let Some((coll, cursor)) = chunked::open(ctx, key, KeyType::Hash, &[], None, false)? else {
        header(ctx.out, 0);
        return Ok(());
    };
    if !coll.big {
        let entries = in_insertion_order(cursor)?;
        header(ctx.out, entries.len());
        entries.iter().for_each(|(field, raw)| emit(ctx.out, field, raw));
        return Ok(());
    }
    header(ctx.out, coll.len as usize);
    chunked::send(ctx, Elements::new(cursor, 0, coll.len, emit))
}

/// Every field of a hash Redis keeps as a listpack, with its raw value, in insertion order (Redis' listpack order).
fn in_insertion_order(cursor: OwnedDataCursor) -> CmdResult<Vec<Entry>> {
    let mut all = read_all(cursor)?;
    all.sort_by_cached_key(|(_, raw)| split_hash_field(raw).0);
    Ok(all)
}

fn hgetall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::map, emit_pair)
}

fn hkeys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::array, emit_sub)
}

fn hvals(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::array, emit_value)
}

/// One field and its record's raw value.
type Entry = (Vec<u8>, Vec<u8>);

/// HRANDFIELD's distinct picks over one walk of the hash (see [`Selection`]), in byte order.
struct Distinct {
    cursor: OwnedDataCursor,
    selection: Selection,
    emit: Emit,
}

impl ReplyStream for Distinct {
    fn fill(&mut self, _server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        while !self.selection.done() && out.len() < budget {
            let Some((field, value)) = self.cursor.next()? else {
                return Err(CmdError::Storage("hash changed while its random fields were streamed".into()));
            };
            if self.selection.take() {
                (self.emit)(out, field, value);
            }
        }
        Ok(!self.selection.done())
    }
}

/// Where HRANDFIELD's repeated picks come from.
enum Source {
    /// The whole hash: exactly uniform picks.
    Loaded(Vec<Entry>),
    /// A big one: [`TriePicker`] picks, or `fallback` (picked earlier) should the hash be gone meanwhile.
    Sampled { store: Arc<Store>, uid: u64, fallback: Entry },
}

/// HRANDFIELD's picks with repeats (a negative count), produced as the reply is written.
struct Repeats {
    source: Source,
    left: u64,
    emit: Emit,
}

impl ReplyStream for Repeats {
    fn fill(&mut self, _server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        match &self.source {
            Source::Loaded(all) => {
                while self.left > 0 && out.len() < budget {
                    let (field, value) = &all[random_below(all.len() as u64) as usize];
                    (self.emit)(out, field, value);
                    self.left -= 1;
                }
            }
            Source::Sampled { store, uid, fallback } => {
                // One snapshot per chunk: the hash may change between chunks, as between commands.
                let mut picker = TriePicker::elements(store, *uid, &[], None);
                while self.left > 0 && out.len() < budget {
                    let picked = picker.pick_entry()?;
                    let (field, value) = picked.as_ref().unwrap_or(fallback);
                    (self.emit)(out, field, value);
                    self.left -= 1;
                }
            }
        }
        Ok(self.left > 0)
    }
}

/// The header of HRANDFIELD's reply of `n` picks: with values, a flat array of 2n in RESP2 and an array of n
/// pairs in RESP3.
fn random_header(out: &mut Reply, n: u64, with_values: bool) {
    let flat = with_values && !out.resp3;
    out.array(if flat { 2 * n as usize } else { n as usize });
}

fn hrandfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let picked = match read(ctx, key)? {
            Some(coll) => collection::random_element(ctx.store, coll.uid, coll.len, &[], None)?,
            None => None,
        };
        ctx.out.opt_bulk(picked.as_deref());
        return Ok(());
    }
    let (count, with_values) = collection::random_count(args, Some("WITHVALUES"))?;
    let Some((coll, cursor)) = chunked::open(ctx, key, KeyType::Hash, &[], None, false)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let emit: Emit = if with_values { emit_random_pair } else { emit_sub };
    if count < 0 {
        // Any count, as in Redis: the picks are streamed (the memory a plan holds is bounded by the hash's size),
        // and `client-output-buffer-limit` stops a reply too big for the client, as it stops Redis' mid-run.
        let n = count.unsigned_abs();
        let source = match RepeatPlan::of(coll.len, n) {
            RepeatPlan::Memory => Source::Loaded(read_all(cursor)?),
            RepeatPlan::Ranked => {
                let picked = ranked_picks(cursor, coll.len, n)?;
                random_header(ctx.out, picked.len() as u64, with_values);
                picked.iter().for_each(|(field, value)| emit(ctx.out, field, value));
                return Ok(());
            }
            RepeatPlan::Trie => match TriePicker::elements(ctx.store, coll.uid, &[], None).pick_entry()? {
                Some(fallback) => Source::Sampled { store: ctx.server.store.clone(), uid: coll.uid, fallback },
                None => Source::Loaded(Vec::new()),
            },
        };
        if matches!(&source, Source::Loaded(all) if all.is_empty()) {
            ctx.out.array(0);
            return Ok(());
        }
        random_header(ctx.out, n, with_values);
        return chunked::send(ctx, Repeats { source, left: n, emit });
    }
    let n = count as u64;
    if !coll.big {
        // Redis 7.0 returns a whole listpack in its order, and distinct picks from one in random order.
        let mut entries = in_insertion_order(cursor)?;
        if n < entries.len() as u64 {
            let mut selection = Selection::new(n, entries.len() as u64);
            entries.retain(|_| selection.take());
            shuffle(&mut entries);
        }
        random_header(ctx.out, entries.len() as u64, with_values);
        entries.iter().for_each(|(field, raw)| emit(ctx.out, field, raw));
        return Ok(());
    }
    if n >= coll.len {
        random_header(ctx.out, coll.len, with_values);
        return chunked::send(ctx, Elements::new(cursor, 0, coll.len, emit));
    }
    if sparse(coll.len, n) {
        let mut picker = TriePicker::elements(ctx.store, coll.uid, &[], None);
        if let Some(fields) = picker.distinct(n)? {
            let picked = picker.with_values(fields)?;
            random_header(ctx.out, n, with_values);
            picked.iter().for_each(|(field, value)| emit(ctx.out, field, value));
            return Ok(());
        }
    }
    random_header(ctx.out, n, with_values);
    chunked::send(ctx, Distinct { cursor, selection: Selection::new(n, coll.len), emit })
}

/// Every field and value `cursor` walks over.
fn read_all(mut cursor: OwnedDataCursor) -> CmdResult<Vec<Entry>> {
    let mut all = Vec::new();
    while let Some((f, v)) = cursor.next()? {
        all.push((f.to_vec(), v.to_vec()));
    }
    Ok(all)
}

/// `n` uniform picks with repeats among the `len` fields `cursor` walks over (see [`Ranks`]), in random order.
fn ranked_picks(mut cursor: OwnedDataCursor, len: u64, n: u64) -> CmdResult<Vec<Entry>> {
    let mut ranks = Ranks::new(len, n);
    let mut picked: Vec<Entry> = Vec::with_capacity(n as usize);
    while !ranks.done() {
        let Some((field, value)) = cursor.next()? else { break };
        for _ in 0..ranks.step() {
            picked.push((field.to_vec(), value.to_vec()));
        }
    }
    shuffle(&mut picked);
    Ok(picked)
}

fn hscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = collection::scan_cursor(args)?;
    // As Redis: the cursor is checked first, then the key, and options only for a hash that exists.
    let Some(coll) = read(ctx, key)? else {
        ScanPage::whole().finish(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(args, false)?;
    // A hash Redis keeps as a listpack is returned whole, in its order, whatever the cursor and COUNT.
    if !coll.big {
        let mut page = ScanPage::whole();
        for (field, raw) in in_insertion_order(owned_range(&ctx.server.store, coll.uid, &[], None, false))? {
            if opts.matches(&field) {
                page.push(&field);
                page.push(split_hash_field(&raw).1);
            }
        }
        page.finish(ctx);
        return Ok(());
    }
    let (mut page, from) = ScanPage::resume(ctx, Some(key), cursor, opts.count);
    let mut walk = ctx.store.data_range(coll.uid, &from, None, false);
    while let Some((field, raw)) = walk.next()? {
        if !page.examine(field) {
            break;
        }
        if opts.matches(field) {
            page.push(field);
            page.push(split_hash_field(raw).1);
        }
    }
    drop(walk);
    page.finish(ctx);
    Ok(())
}
