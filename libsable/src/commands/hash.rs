//! Hash family: every Redis 7.0 hash command (HSET … HSCAN). A hash is a collection whose elements are its fields:
//! one `data` record per field, sub key = the field's bytes, value = the value's bytes, so fields come back in
//! byte order. `coll.big` says whether Redis would hold the hash as a hash table rather than a listpack, which
//! OBJECT ENCODING reports and HSCAN follows (a listpack is scanned in one call).
//!
//! HRANDFIELD picks exactly uniformly, by walking the hash, unless the hash is so much bigger than the number of
//! picks that descending its byte trie once per pick is cheaper (see [`WALK_PER_PICK`] and [`trie_pick`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use rustc_apfloat::Float;

use super::keyspace::parse_cursor;
use super::stream::{self, Elements, Emit, ReplyStream};
use super::string::long_double;
use super::{collection, Args, CmdError, CmdResult, Ctx, Handler};
use crate::resp::reply::Reply;
use crate::storage::data::OwnedDataCursor;
use crate::storage::encoding::Collection;
use crate::storage::{KeyType, Store, Txn};
use crate::util::glob::{glob_match, is_match_all};
use crate::util::{parse_i64, random_u64};

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
/// back (the key deleted when no field is left) in the same transaction. A missing key is created when `create`,
/// otherwise nothing runs and the result is None.
fn modify<T>(
    ctx: &Ctx,
    key: &[u8],
    create: bool,
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
    let added = modify(ctx, key, true, |txn, coll| {
        let mut added = 0;
        for pair in pairs.chunks_exact(2) {
            if txn.data_get(coll.uid, &pair[0])?.is_none() {
                added += 1;
                coll.len += 1;
            }
            txn.data_put(coll.uid, &pair[0], &pair[1]);
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
    let set = modify(ctx, key, true, |txn, coll| {
        if txn.data_get(coll.uid, field)?.is_some() {
            return Ok((false, false));
        }
        txn.data_put(coll.uid, field, value);
        coll.len += 1;
        limits.apply(coll, &[field, value]);
        Ok((true, true))
    })?;
    ctx.out.int(set.unwrap_or(false) as i64);
    Ok(())
}

fn hdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let deleted = modify(ctx, key, false, |txn, coll| {
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
    let n = modify(ctx, key, true, |txn, coll| {
        let current = txn.data_get(coll.uid, field)?;
        let old = match &current {
            Some(v) => parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
            None => 0,
        };
        let n = old.checked_add(by).ok_or(CmdError::Overflow)?;
        let text = itoa::Buffer::new().format(n).as_bytes().to_vec();
        set_field(txn, coll, &limits, field, &text, current.is_none());
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
    let text = modify(ctx, key, true, |txn, coll| {
        let current = txn.data_get(coll.uid, field)?;
        let old = match &current {
            Some(v) => long_double::parse(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
            None => long_double::ZERO,
        };
        let sum = long_double::add(old, by).ok_or_else(|| CmdError::err("increment would produce NaN or Infinity"))?;
        let text = long_double::format(sum);
        set_field(txn, coll, &limits, field, text.as_bytes(), current.is_none());
        Ok((true, text))
    })?;
    ctx.out.bulk(text.unwrap_or_default().as_bytes());
    Ok(())
}

/// Writes one field's new value (HINCRBY, HINCRBYFLOAT); `is_new` when the field did not exist.
fn set_field(txn: &mut Txn, coll: &mut Collection, limits: &Limits, field: &[u8], value: &[u8], is_new: bool) {
    txn.data_put(coll.uid, field, value);
    if is_new {
        coll.len += 1;
    }
    limits.apply(coll, &[field, value]);
}

fn hget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = match read(ctx, key)? {
        Some(coll) => ctx.store.data_get(coll.uid, field)?,
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
        .map(|f| coll.as_ref().map_or(Ok(None), |c| ctx.store.data_get(c.uid, f)))
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
        Some(coll) => ctx.store.data_get(coll.uid, field)?.map_or(0, |v| v.len()),
        None => 0,
    };
    ctx.out.int(len as i64);
    Ok(())
}

fn hlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let len = read(ctx, key)?.map_or(0, |c| c.len);
    ctx.out.int(len as i64);
    Ok(())
}

fn emit_pair(out: &mut Reply, field: &[u8], value: &[u8]) {
    out.bulk(field);
    out.bulk(value);
}

fn emit_field(out: &mut Reply, field: &[u8], _value: &[u8]) {
    out.bulk(field);
}

fn emit_value(out: &mut Reply, _field: &[u8], value: &[u8]) {
    out.bulk(value);
}

/// A field with its value as HRANDFIELD WITHVALUES returns it: a two-element array in RESP3, flat in RESP2.
fn emit_random_pair(out: &mut Reply, field: &[u8], value: &[u8]) {
    if out.resp3 {
        out.array(2);
    }
    emit_pair(out, field, value);
}

/// Replies with every field of the hash at `key` (HGETALL, HKEYS, HVALS): `header` gets the number of fields
/// (0 for a missing key), then each field is written by `emit`, streamed from one consistent view of the hash.
/// Every whole-hash walk goes through here.
fn send_all(ctx: &mut Ctx, key: &[u8], header: fn(&mut Reply, usize), emit: Emit) -> CmdResult {
    let Some((coll, cursor)) = stream::open(ctx, key, KeyType::Hash, &[], None, false)? else {
        header(ctx.out, 0);
        return Ok(());
    };
    header(ctx.out, coll.len as usize);
    stream::send(ctx, Elements::new(cursor, 0, coll.len, emit))
}

fn hgetall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::map, emit_pair)
}

fn hkeys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::array, emit_field)
}

fn hvals(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    send_all(ctx, key, Reply::array, emit_value)
}

/// One [`trie_pick`] costs about as much as walking this many fields (its few dozen seeks against a step each):
/// HRANDFIELD walks the hash, picking exactly uniformly, unless it has more fields than this per pick.
const WALK_PER_PICK: u64 = 1000;

/// Most fields a negative HRANDFIELD count may ask for: Redis would produce such a reply for as long as it takes
/// (or until it runs out of memory); beyond this it is refused.
const MAX_REPEATED_PICKS: u64 = 10_000_000;

/// Most branches [`trie_pick`] examines at one fork: all of them when there are fewer, else a run of this many
/// from a random byte, which bounds the seeks on dense (binary) fields while keeping the choice close to uniform.
const MAX_BRANCHES: usize = 16;

/// A random number below `n` (> 0).
fn random_below(n: u64) -> u64 {
    random_u64() % n
}

/// Shuffles `v` uniformly (Fisher–Yates).
fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, random_below(i as u64 + 1) as usize);
    }
}

/// One field and its value.
type Entry = (Vec<u8>, Vec<u8>);

/// The sub key of the first element of collection `uid` in `from .. to` (the last one with `reverse`).
fn first_in(store: &Store, uid: u64, from: &[u8], to: Option<&[u8]>, reverse: bool) -> CmdResult<Option<Vec<u8>>> {
    Ok(store.data_range(uid, from, to, reverse).next()?.map(|(sub, _)| sub.to_vec()))
}

/// The smallest byte string above every string that starts with `prefix`; None when there is none (all `0xff`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A random element of a big collection, found without walking it: descend the trie of the sub keys' bytes,
/// jumping over the stretch all sub keys under the current prefix share, and at each fork choose one branch
/// uniformly (a next byte present under the prefix, or the prefix itself when it is a sub key). Every element
/// can come out, though one behind a fork with few branches comes out more often than under a uniform pick;
/// unlike a seek to a random byte position, an element right after a small gap (`bar` before `baz`) is as likely
/// as others. Costs O(depth × [`MAX_BRANCHES`]) seeks. Returns the element's sub key; None when the collection is
/// empty.
fn trie_pick(store: &Store, uid: u64) -> CmdResult<Option<Vec<u8>>> {
    let mut prefix = Vec::new();
    loop {
        let end = prefix_end(&prefix);
        let Some(first) = first_in(store, uid, &prefix, end.as_deref(), false)? else { return Ok(None) };
        let Some(last) = first_in(store, uid, &prefix, end.as_deref(), true)? else { return Ok(None) };
        if first == last {
            return Ok(Some(first));
        }
        let common = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
        prefix = first[..common].to_vec();
        let branches = branches_under(store, uid, &prefix, end.as_deref())?;
        match branches.get(random_below(branches.len().max(1) as u64) as usize) {
            Some(Some(b)) => prefix.push(*b),
            // The prefix itself is an element: the first one under it.
            _ => return Ok(Some(first)),
        }
    }
}

/// Up to [`MAX_BRANCHES`] branches under `prefix` (whose elements all sort before `end`), one seek each: from a
/// random next byte up, then round from the prefix itself (`None` when it is an element) to just below the start.
fn branches_under(store: &Store, uid: u64, prefix: &[u8], end: Option<&[u8]>) -> CmdResult<Vec<Option<u8>>> {
    let depth = prefix.len();
    let start = random_u64() as u8;
    let mut branches = Vec::new();
    let mut from = [prefix, &[start]].concat();
    let mut wrapped = false;
    while branches.len() < MAX_BRANCHES {
        let found = first_in(store, uid, &from, end, false)?.map(|sub| sub.get(depth).copied());
        let branch = match found {
            // After wrapping, the run stops where it began.
            Some(b) if !(wrapped && b.is_some_and(|b| b >= start)) => b,
            _ if wrapped => break,
            _ => {
                wrapped = true;
                from = prefix.to_vec();
                continue;
            }
        };
        branches.push(branch);
        from.truncate(depth);
        match branch {
            None => from.push(0),
            Some(b) => match b.checked_add(1) {
                Some(next) => from.push(next),
                // Past byte 255 only the wrap is left (the wrapped run stops before `start`, so never gets here).
                None => wrapped = true,
            },
        }
    }
    Ok(branches)
}

/// A random field of a big hash with its value (see [`trie_pick`]).
fn trie_pick_entry(store: &Store, uid: u64) -> CmdResult<Option<Entry>> {
    let Some(field) = trie_pick(store, uid)? else { return Ok(None) };
    Ok(store.data_get(uid, &field)?.map(|value| (field, value)))
}

/// HRANDFIELD's distinct picks over one walk of the hash, by selection sampling (Knuth's Algorithm S): each
/// field is taken with probability needed/left, which takes exactly `needed` fields, uniformly, in byte order.
struct Selection {
    cursor: OwnedDataCursor,
    needed: u64,
    left: u64,
    emit: Emit,
}

impl ReplyStream for Selection {
    fn fill(&mut self, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        while self.needed > 0 && out.len() < budget {
            let Some((field, value)) = self.cursor.next()? else {
                return Err(CmdError::Storage("hash changed while its random fields were streamed".into()));
            };
            if random_below(self.left.max(1)) < self.needed {
                (self.emit)(out, field, value);
                self.needed -= 1;
            }
            self.left = self.left.saturating_sub(1);
        }
        Ok(self.needed > 0)
    }
}

/// Where HRANDFIELD's repeated picks come from.
enum Source {
    /// The whole hash: exactly uniform picks.
    Loaded(Vec<Entry>),
    /// A big one: a [`trie_pick`] each, or `fallback` (picked earlier) should the hash be gone meanwhile.
    Sampled { store: Arc<Store>, uid: u64, fallback: Entry },
}

/// HRANDFIELD's picks with repeats (a negative count), produced as the reply is written.
struct Repeats {
    source: Source,
    left: u64,
    emit: Emit,
}

impl ReplyStream for Repeats {
    fn fill(&mut self, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        while self.left > 0 && out.len() < budget {
            match &self.source {
                Source::Loaded(all) => {
                    let (field, value) = &all[random_below(all.len() as u64) as usize];
                    (self.emit)(out, field, value);
                }
                Source::Sampled { store, uid, fallback } => {
                    let picked = trie_pick_entry(store, *uid)?;
                    let (field, value) = picked.as_ref().unwrap_or(fallback);
                    (self.emit)(out, field, value);
                }
            }
            self.left -= 1;
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
            Some(coll) => random_field(ctx, &coll)?,
            None => None,
        };
        ctx.out.opt_bulk(picked.as_deref());
        return Ok(());
    }
    let count = args.next_i64()?;
    if count == i64::MIN {
        return Err(CmdError::err(format!("value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)));
    }
    let with_values = match args.rest() {
        [] => false,
        [w] if w.eq_ignore_ascii_case(b"WITHVALUES") => true,
        _ => return Err(CmdError::Syntax),
    };
    // Redis' bound, so that the RESP2 reply's 2 × count elements fit in a long.
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::err("value is out of range"));
    }
    let Some((coll, cursor)) = stream::open(ctx, key, KeyType::Hash, &[], None, false)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let emit: Emit = if with_values { emit_random_pair } else { emit_field };
    let n = count.unsigned_abs();
    let walk = coll.len <= n.saturating_mul(WALK_PER_PICK);
    if count < 0 {
        if n > MAX_REPEATED_PICKS {
            return Err(CmdError::err("value is out of range"));
        }
        let source = if coll.len <= n.max(WALK_PER_PICK) {
            // The hash is no bigger than the reply (or small): read it whole, pick from memory.
            Source::Loaded(read_all(cursor)?)
        } else if walk {
            let picked = ranked_picks(cursor, coll.len, n)?;
            random_header(ctx.out, picked.len() as u64, with_values);
            picked.iter().for_each(|(field, value)| emit(ctx.out, field, value));
            return Ok(());
        } else {
            match trie_pick_entry(ctx.store, coll.uid)? {
                Some(fallback) => Source::Sampled { store: ctx.server.store.clone(), uid: coll.uid, fallback },
                None => Source::Loaded(Vec::new()),
            }
        };
        if matches!(&source, Source::Loaded(all) if all.is_empty()) {
            ctx.out.array(0);
            return Ok(());
        }
        random_header(ctx.out, n, with_values);
        return stream::send(ctx, Repeats { source, left: n, emit });
    }
    if n >= coll.len {
        random_header(ctx.out, coll.len, with_values);
        return stream::send(ctx, Elements::new(cursor, 0, coll.len, emit));
    }
    if !walk {
        if let Some(picked) = sparse_distinct(ctx.store, coll.uid, n)? {
            random_header(ctx.out, n, with_values);
            picked.iter().for_each(|(field, value)| emit(ctx.out, field, value));
            return Ok(());
        }
    }
    random_header(ctx.out, n, with_values);
    stream::send(ctx, Selection { cursor, needed: n, left: coll.len, emit })
}

/// Every field and value `cursor` walks over.
fn read_all(mut cursor: OwnedDataCursor) -> CmdResult<Vec<Entry>> {
    let mut all = Vec::new();
    while let Some((f, v)) = cursor.next()? {
        all.push((f.to_vec(), v.to_vec()));
    }
    Ok(all)
}

/// `n` uniform picks with repeats among the `len` fields `cursor` walks over, in random order: random ranks,
/// sorted, met in one walk that stops at the last of them.
fn ranked_picks(mut cursor: OwnedDataCursor, len: u64, n: u64) -> CmdResult<Vec<Entry>> {
    let mut ranks: Vec<u64> = (0..n).map(|_| random_below(len.max(1))).collect();
    ranks.sort_unstable();
    let mut picked: Vec<Entry> = Vec::with_capacity(ranks.len());
    let (mut rank, mut next) = (0, 0);
    while next < ranks.len() {
        let Some((field, value)) = cursor.next()? else { break };
        while ranks.get(next) == Some(&rank) {
            picked.push((field.to_vec(), value.to_vec()));
            next += 1;
        }
        rank += 1;
    }
    shuffle(&mut picked);
    Ok(picked)
}

/// `count` distinct fields of a big hash by repeated [`trie_pick`]s (Redis' own strategy when the count is
/// small next to the hash), in random order; None when the picks keep landing on the same fields, for the
/// caller to walk the hash instead.
fn sparse_distinct(store: &Store, uid: u64, count: u64) -> CmdResult<Option<Vec<Entry>>> {
    let mut seen = HashSet::new();
    let mut picked = Vec::new();
    let mut attempts = count.saturating_mul(16).saturating_add(64);
    while (picked.len() as u64) < count {
        if attempts == 0 {
            return Ok(None);
        }
        attempts -= 1;
        match trie_pick_entry(store, uid)? {
            Some(entry) if seen.insert(entry.0.clone()) => picked.push(entry),
            Some(_) => {}
            None => return Ok(None),
        }
    }
    shuffle(&mut picked);
    Ok(Some(picked))
}

/// One random field of `coll` (None only when the hash changed under the walk).
fn random_field(ctx: &Ctx, coll: &Collection) -> CmdResult<Option<Vec<u8>>> {
    if coll.len > WALK_PER_PICK {
        return trie_pick(ctx.store, coll.uid);
    }
    let mut skip = random_below(coll.len.max(1));
    let mut cursor = ctx.store.data_range(coll.uid, &[], None, false);
    while let Some((field, _)) = cursor.next()? {
        if skip == 0 {
            return Ok(Some(field.to_vec()));
        }
        skip -= 1;
    }
    Ok(None)
}

/// Most HSCAN cursors kept at once, and most field bytes they may hold; the oldest go first.
const MAX_CURSORS: usize = 100_000;
const MAX_CURSOR_BYTES: usize = 64 << 20;

/// Where the HSCANs of big hashes resume, server-wide: a cursor names (the hash's uid, the last field examined),
/// and the next call continues just after that field. Fields are walked in byte order, so a field present for
/// the whole scan is returned exactly once and the scan always ends. A cursor that is unknown, evicted, or
/// issued for another incarnation of the key (uids are never reused) starts over, which SCAN's guarantees allow.
#[derive(Default)]
struct FieldCursors {
    by_id: HashMap<u64, (u64, Vec<u8>)>,
    /// Ids in issue order, for eviction.
    order: VecDeque<u64>,
    bytes: usize,
}

fn field_cursors() -> &'static Mutex<FieldCursors> {
    static CURSORS: OnceLock<Mutex<FieldCursors>> = OnceLock::new();
    CURSORS.get_or_init(Default::default)
}

impl FieldCursors {
    /// Remembers that a scan of collection `uid` stopped at `last` and returns the cursor naming it.
    fn save(&mut self, uid: u64, last: Vec<u8>) -> u64 {
        let id = loop {
            // Non-zero and below 2^63, so clients that parse cursors as signed integers work too.
            let id = random_u64() >> 1;
            if id != 0 && !self.by_id.contains_key(&id) {
                break id;
            }
        };
        self.bytes += last.len();
        self.by_id.insert(id, (uid, last));
        self.order.push_back(id);
        while self.by_id.len() > MAX_CURSORS || self.bytes > MAX_CURSOR_BYTES {
            let Some(old) = self.order.pop_front() else { break };
            if let Some((_, f)) = self.by_id.remove(&old) {
                self.bytes -= f.len();
            }
        }
        id
    }

    /// The last field examined under cursor `id`, if it is known and belongs to collection `uid`.
    fn resume(&self, id: u64, uid: u64) -> Option<Vec<u8>> {
        self.by_id.get(&id).filter(|(u, _)| *u == uid).map(|(_, f)| f.clone())
    }
}

fn hscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(args.next_bytes()?).ok_or_else(|| CmdError::err("invalid cursor"))?;
    // As Redis: the cursor is checked first, then the key, and options only for a hash that exists.
    let Some(coll) = read(ctx, key)? else {
        write_scan_page(ctx.out, 0, 0, &Reply::new(false));
        return Ok(());
    };
    let (mut count, mut pattern) = (10i64, None);
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("COUNT") {
            count = args.next_i64()?;
            if count < 1 {
                return Err(CmdError::Syntax);
            }
        } else if args.remaining() >= 2 && args.eat("MATCH") {
            pattern = Some(args.next_bytes()?).filter(|p| !is_match_all(p));
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // A hash Redis keeps as a listpack is returned whole, whatever the cursor and COUNT.
    let (from, budget) = if coll.big {
        let resumed = match cursor {
            0 => None,
            id => field_cursors().lock().resume(id, coll.uid),
        };
        // Just after the last field examined.
        let from = resumed.map(|mut last| {
            last.push(0);
            last
        });
        (from.unwrap_or_default(), count as u64)
    } else {
        (Vec::new(), u64::MAX)
    };
    let mut items = Reply::new(ctx.out.resp3);
    let (mut n, mut examined, mut last) = (0, 0u64, None);
    let mut more = false;
    let mut walk = ctx.store.data_range(coll.uid, &from, None, false);
    while let Some((field, value)) = walk.next()? {
        if examined == budget {
            more = true;
            break;
        }
        examined += 1;
        if pattern.is_none_or(|p| glob_match(p, field, false)) {
            emit_pair(&mut items, field, value);
            n += 2;
        }
        last = Some(field.to_vec());
    }
    let next = match last {
        Some(last) if more => field_cursors().lock().save(coll.uid, last),
        _ => 0,
    };
    write_scan_page(ctx.out, next, n, &items);
    Ok(())
}

/// A SCAN-style page: the next cursor (a bulk string) and the `n` elements already encoded in `items`.
fn write_scan_page(out: &mut Reply, cursor: u64, n: usize, items: &Reply) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
    out.array(n);
    out.raw(&items.buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_bound_every_extension() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn cursors_resume_only_their_collection() {
        let mut c = FieldCursors::default();
        let id = c.save(7, b"f10".to_vec());
        assert_ne!(id, 0);
        assert!(id < 1 << 63);
        assert_eq!(c.resume(id, 7), Some(b"f10".to_vec()));
        assert_eq!(c.resume(id, 8), None);
        assert_eq!(c.resume(id + 1, 7), None);
    }

    #[test]
    fn cursors_are_bounded() {
        let mut c = FieldCursors::default();
        let first = c.save(1, vec![]);
        for _ in 0..MAX_CURSORS {
            c.save(1, vec![]);
        }
        assert_eq!(c.by_id.len(), MAX_CURSORS);
        assert_eq!(c.resume(first, 1), None);
        let big = c.save(2, vec![0; MAX_CURSOR_BYTES + 1]);
        assert_eq!(c.resume(big, 2), None);
        assert_eq!(c.bytes, 0);
    }

    #[test]
    fn shuffle_keeps_the_elements() {
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut v);
        v.sort();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
