//! The sorted set family: every non-blocking Redis 7.0 sorted set command, and the primitives the blocking ones
//! (BZPOPMIN, BZPOPMAX, BZMPOP) are built on: [`pop`], [`pop_first`], [`write_popped`], [`write_mpop`] and
//! [`parse_mpop`].
//!
//! A member is two `data` records under the collection's uid: `[0][member]` → its score (the f64 bits,
//! big-endian), for point reads and random picks (ZRANDMEMBER samples this member-ordered section as HRANDFIELD
//! and SRANDMEMBER sample their elements), and `[1][score key][member]` → empty, whose byte order is Redis' order
//! (score, then member bytes), for ranges. Ranges by rank, score and lex live in [`range`]; ZUNION, ZINTER, ZDIFF and
//! their STORE forms in [`setops`].
//!
//! Redis keeps a small sorted set in a listpack and converts it to a skiplist past `zset-max-listpack-entries` /
//! `zset-max-listpack-value`; `Collection::big` mirrors that. Two visible details depend on it: a listpack stores
//! a score of -0 as the integer 0 (a skiplist keeps the sign), and ZSCAN returns a listpack whole, with scores
//! as the listpack holds them, while a skiplist is scanned in pages.

mod range;
mod setops;

pub(super) use setops::store_result;

use super::collection::{
    self, random_below, shuffle, sparse, Loaded, Ranks, RepeatPlan, ScanOptions, ScanPage, Selection, TriePicker,
};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::storage::data::DataCursor;
use crate::storage::encoding::{
    score_from_key, score_key, zset_member_sub, zset_score_sub, Collection, ZSET_BY_MEMBER, ZSET_BY_SCORE,
};
use crate::storage::{KeyType, LockGuard, Store, Txn};
use crate::util::{fmt_double, parse_f64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("zadd", zadd),
    ("zcard", zcard),
    ("zcount", range::zcount),
    ("zdiff", setops::zdiff),
    ("zdiffstore", setops::zdiffstore),
    ("zincrby", zincrby),
    ("zinter", setops::zinter),
    ("zintercard", setops::zintercard),
    ("zinterstore", setops::zinterstore),
    ("zlexcount", range::zlexcount),
    ("zmpop", zmpop),
    ("zmscore", zmscore),
    ("zpopmax", zpopmax),
    ("zpopmin", zpopmin),
    ("zrandmember", zrandmember),
    ("zrange", range::zrange),
    ("zrangebylex", range::zrangebylex),
    ("zrangebyscore", range::zrangebyscore),
    ("zrangestore", range::zrangestore),
    ("zrank", zrank),
    ("zrem", zrem),
    ("zremrangebylex", range::zremrangebylex),
    ("zremrangebyrank", range::zremrangebyrank),
    ("zremrangebyscore", range::zremrangebyscore),
    ("zrevrange", range::zrevrange),
    ("zrevrangebylex", range::zrevrangebylex),
    ("zrevrangebyscore", range::zrevrangebyscore),
    ("zrevrank", zrevrank),
    ("zscan", zscan),
    ("zscore", zscore),
    ("zunion", setops::zunion),
    ("zunionstore", setops::zunionstore),
];

/// Members and scores handed out by pops and built by the set operations.
pub type Entries = Vec<(Vec<u8>, f64)>;

/// `zset-max-listpack-entries` and `zset-max-listpack-value`, read once per command.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    pub(super) entries: u64,
    pub(super) value: usize,
}

impl Limits {
    fn read(ctx: &Ctx) -> Limits {
        let cfg = ctx.server.config.read();
        Limits {
            entries: cfg.int("zset-max-listpack-entries").max(0) as u64,
            value: cfg.int("zset-max-listpack-value").max(0) as usize,
        }
    }

    /// Whether a sorted set of `len` members whose longest member has `longest` bytes is past the limits.
    fn exceeded(self, len: u64, longest: usize) -> bool {
        len > self.entries || longest > self.value
    }
}

/// Redis' `getDoubleFromObject`: `strtod` over the whole argument, refusing NaN and results out of range (an
/// overflow to ±inf or an underflow to 0, though `inf` itself is fine).
pub(super) fn parse_score(s: &[u8]) -> Option<f64> {
    let v = parse_f64(s)?;
    let text = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+")).unwrap_or(s);
    let literal_inf = text.eq_ignore_ascii_case(b"inf") || text.eq_ignore_ascii_case(b"infinity");
    if v.is_infinite() && !literal_inf {
        return None;
    }
    if v == 0.0 && mantissa_nonzero(text) {
        return None;
    }
    Some(v)
}

/// True when a number's digits before its exponent are not all zeros (so a result of 0 was an underflow).
fn mantissa_nonzero(text: &[u8]) -> bool {
    let hex = text.len() > 1 && text[0] == b'0' && (text[1] | 0x20) == b'x';
    if hex {
        text[2..].iter().take_while(|&&c| (c | 0x20) != b'p').any(|&c| c.is_ascii_hexdigit() && c != b'0')
    } else {
        text.iter().take_while(|&&c| (c | 0x20) != b'e').any(|&c| (b'1'..=b'9').contains(&c))
    }
}

/// A score record's value: the f64 bits, big-endian.
fn decode_score(v: &[u8]) -> CmdResult<f64> {
    let bytes: [u8; 8] = v.try_into().map_err(|_| CmdError::Storage("corrupt sorted set score".into()))?;
    Ok(f64::from_bits(u64::from_be_bytes(bytes)))
}

/// The score a member gets stored with: a listpack has no negative zero (it stores the integer 0).
fn stored(coll: &Collection, score: f64) -> f64 {
    if !coll.big && score == 0.0 {
        0.0
    } else {
        score
    }
}

/// The score of `member` as a writer's transaction sees it.
fn score_in(txn: &Txn, uid: u64, member: &[u8]) -> CmdResult<Option<f64>> {
    txn.data_get(uid, &zset_member_sub(member))?.map(|v| decode_score(&v)).transpose()
}

/// The score of `member` for a reader.
pub(super) fn score_of(store: &Store, uid: u64, member: &[u8]) -> CmdResult<Option<f64>> {
    store.data_get(uid, &zset_member_sub(member))?.map(|v| decode_score(&v)).transpose()
}

/// Adds a member that is not in the set, converting the set first when the new member takes it past the
/// listpack limits (as Redis' `zsetAdd` does before inserting).
pub(super) fn insert(txn: &mut Txn, coll: &mut Collection, limits: Limits, member: &[u8], score: f64) {
    if !coll.big && limits.exceeded(coll.len + 1, member.len()) {
        coll.big = true;
    }
    let score = stored(coll, score);
    let sub = zset_score_sub(score, member);
    txn.store().inserting(coll.uid, &sub);
    txn.data_put(coll.uid, &zset_member_sub(member), &score.to_bits().to_be_bytes());
    txn.data_put(coll.uid, &sub, score_record(score));
    coll.len += 1;
}

/// The value of a score-ordered record: empty, except for -0 (kept by skiplists), which the key cannot tell from
/// 0, so that walks need not read the member record.
fn score_record(score: f64) -> &'static [u8] {
    const NEGATIVE_ZERO: [u8; 8] = [0x80, 0, 0, 0, 0, 0, 0, 0];
    if score == 0.0 && score.is_sign_negative() {
        &NEGATIVE_ZERO
    } else {
        &[]
    }
}

/// Moves a member from score `old` to `new`.
fn rescore(txn: &mut Txn, coll: &Collection, member: &[u8], old: f64, new: f64) {
    let new = stored(coll, new);
    let sub = zset_score_sub(new, member);
    txn.store().inserting(coll.uid, &sub);
    // Delete before put: -0 and 0 share one score key.
    txn.data_delete(coll.uid, &zset_score_sub(old, member));
    txn.data_put(coll.uid, &sub, score_record(new));
    txn.data_put(coll.uid, &zset_member_sub(member), &new.to_bits().to_be_bytes());
}

/// Removes a member whose score is `score`.
fn remove(txn: &mut Txn, coll: &mut Collection, member: &[u8], score: f64) {
    txn.data_delete(coll.uid, &zset_member_sub(member));
    txn.data_delete(coll.uid, &zset_score_sub(score, member));
    coll.len -= 1;
}

/// The first sub key of the member-ordered section (`[0][member]` → the score's bits).
const BY_MEMBER: &[u8] = &[ZSET_BY_MEMBER];
/// The first sub key of the score-ordered section, and the first one after it.
const BY_SCORE: &[u8] = &[ZSET_BY_SCORE];
const AFTER_SCORES: &[u8] = &[ZSET_BY_SCORE + 1];

/// The score-ordered sub key where entries of `score` start, or (`after`) the first one past all of them.
pub(super) fn score_bound(score: f64, after: bool) -> Vec<u8> {
    let key = u64::from_be_bytes(score_key(score));
    match if after { key.checked_add(1) } else { Some(key) } {
        Some(k) => {
            let mut v = BY_SCORE.to_vec();
            v.extend_from_slice(&k.to_be_bytes());
            v
        }
        None => AFTER_SCORES.to_vec(),
    }
}

/// The part of the sub key range `from .. to` that can hold live entries: past the tombstones that pops from
/// either end left behind (see `storage::data::Bounds`).
fn live_range(store: &Store, coll: &Collection, from: &[u8], to: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let bounds = store.live_bounds(coll.uid);
    let from = bounds.low.as_deref().map_or(from, |low| from.max(low));
    let to = bounds.high.as_deref().map_or(to, |high| to.min(high)).max(from);
    (from.to_vec(), to.to_vec())
}

/// A walk over a sorted set in Redis' order (score, then member), or backwards, between two score-ordered sub
/// keys. Readers and writers share it: a writer walks the committed members, which its lock keeps unchanged.
pub(super) struct Walk<'s> {
    store: &'s Store,
    cur: DataCursor<'s>,
    uid: u64,
    big: bool,
}

impl<'s> Walk<'s> {
    pub(super) fn between(store: &'s Store, coll: &Collection, from: &[u8], to: &[u8], rev: bool) -> Walk<'s> {
        let (from, to) = live_range(store, coll, from, to);
        Walk { store, cur: store.data_range(coll.uid, &from, Some(&to), rev), uid: coll.uid, big: coll.big }
    }

    fn all(store: &'s Store, coll: &Collection, rev: bool) -> Walk<'s> {
        Walk::between(store, coll, BY_SCORE, AFTER_SCORES, rev)
    }

    /// The next member and its score.
    pub(super) fn next(&mut self) -> CmdResult<Option<(&[u8], f64)>> {
        let store = self.store;
        let Some((sub, _)) = self.cur.next()? else { return Ok(None) };
        if sub.len() < 9 {
            return Err(CmdError::Storage("corrupt sorted set entry".into()));
        }
        let member = &sub[9..];
        let mut score = score_from_key(sub[1..9].try_into().unwrap_or([0; 8]));
        // The score key folds -0 into 0; a skiplist keeps the sign, which only the member record has.
        if score == 0.0 && self.big {
            score = score_of(store, self.uid, member)?.unwrap_or(score);
        }
        Ok(Some((member, score)))
    }
}

/// The entries of a reply as Redis writes them: members, each followed by its score with `withscores`; in
/// `nested` form each pair is an array of two (RESP3).
struct EntryReply {
    items: Reply,
    n: usize,
    withscores: bool,
    nested: bool,
}

impl EntryReply {
    fn new(ctx: &Ctx, withscores: bool, nested: bool) -> EntryReply {
        EntryReply { items: Reply::new(ctx.out.resp3), n: 0, withscores, nested: nested && withscores }
    }

    /// WITHSCORES replies: flat in RESP2, pairs in RESP3.
    fn scores(ctx: &Ctx, withscores: bool) -> EntryReply {
        EntryReply::new(ctx, withscores, ctx.out.resp3)
    }

    fn push(&mut self, member: &[u8], score: f64) {
        if self.nested {
            self.items.array(2);
        }
        self.items.bulk(member);
        if self.withscores {
            self.items.double(score);
        }
        self.n += 1;
    }

    fn finish(self, out: &mut Reply) {
        out.array(if self.withscores && !self.nested { 2 * self.n } else { self.n });
        out.raw(&self.items.buf);
    }
}

/// The sorted set at `key` for a reader that makes more than one read (its member count and a walk, or several
/// members), holding the key's lock meanwhile: no writer can change it between the reads, so the reply shows one
/// state of it, as Redis' would.
pub(super) fn read_locked<'s>(ctx: &Ctx<'s>, key: &[u8]) -> CmdResult<(Option<Collection>, LockGuard<'s>)> {
    let guard = ctx.store.locks.lock(&[key]);
    Ok((collection::read(ctx, key, KeyType::ZSet)?, guard))
}

fn zcard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    collection::reply_len(ctx, args, KeyType::ZSet)
}

fn zscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let score = match collection::read(ctx, key, KeyType::ZSet)? {
        Some(c) => score_of(ctx.store, c.uid, member)?,
        None => None,
    };
    match score {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

fn zmscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (coll, _g) = read_locked(ctx, args.next_bytes()?)?;
    let members = args.rest();
    ctx.out.array(members.len());
    for m in members {
        match coll.map(|c| score_of(ctx.store, c.uid, m)).transpose()?.flatten() {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank(ctx, args, false)
}

fn zrevrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank(ctx, args, true)
}

/// ZRANK/ZREVRANK: the members before this one are counted (Redis' listpack rank is O(N) too).
fn rank(ctx: &mut Ctx, args: &mut Args, rev: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let (coll, _g) = read_locked(ctx, key)?;
    let Some(coll) = coll else {
        ctx.out.null();
        return Ok(());
    };
    let Some(score) = score_of(ctx.store, coll.uid, member)? else {
        ctx.out.null();
        return Ok(());
    };
    let mut cur = ctx.store.data_range(coll.uid, BY_SCORE, Some(&zset_score_sub(score, member)), false);
    let mut before = 0u64;
    while cur.next()?.is_some() {
        before += 1;
    }
    let r = if rev { coll.len.saturating_sub(before + 1) } else { before };
    ctx.out.int(r as i64);
    Ok(())
}

/// ZADD's options.
#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
    ch: bool,
}

/// What adding one member did (Redis' `ZADD_OUT_*`).
#[derive(PartialEq)]
enum AddOutcome {
    Added,
    Updated,
    /// The member kept its score (the same score, or the score given by INCR).
    Kept,
    /// Not processed: NX on an existing member, XX on a missing one, a GT/LT comparison that failed.
    Nop,
}

/// Redis' `zsetAdd`: adds or updates one member under ZADD's flags; returns what happened and the member's new
/// score.
fn add_one(
    txn: &mut Txn,
    coll: &mut Collection,
    limits: Limits,
    member: &[u8],
    mut score: f64,
    f: AddFlags,
) -> CmdResult<(AddOutcome, f64)> {
    let nan = || CmdError::err("resulting score is not a number (NaN)");
    match score_in(txn, coll.uid, member)? {
        Some(_) if f.nx => Ok((AddOutcome::Nop, score)),
        Some(cur) => {
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return Err(nan());
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return Ok((AddOutcome::Nop, score));
            }
            if score == cur {
                return Ok((AddOutcome::Kept, score));
            }
            rescore(txn, coll, member, cur, score);
            Ok((AddOutcome::Updated, score))
        }
        None if f.xx => Ok((AddOutcome::Nop, score)),
        None => {
            insert(txn, coll, limits, member, score);
            Ok((AddOutcome::Added, score))
        }
    }
}

pub(super) fn zadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    add_generic(ctx, args, false)
}

/// ZINCRBY is ZADD with INCR set, and parses as ZADD does (an increment spelled like an option is one).
fn zincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    add_generic(ctx, args, true)
}

fn add_generic(ctx: &mut Ctx, args: &mut Args, incr: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let mut f = AddFlags { incr, ..AddFlags::default() };
    loop {
        let flag = if args.eat("NX") {
            &mut f.nx
        } else if args.eat("XX") {
            &mut f.xx
        } else if args.eat("CH") {
            &mut f.ch
        } else if args.eat("INCR") {
            &mut f.incr
        } else if args.eat("GT") {
            &mut f.gt
        } else if args.eat("LT") {
            &mut f.lt
        } else {
            break;
        };
        *flag = true;
    }
    let pairs = args.rest();
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::err("XX and NX options at the same time are not compatible"));
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err(CmdError::err("GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && pairs.len() > 2 {
        return Err(CmdError::err("INCR option supports a single increment-element pair"));
    }
    let scores =
        pairs.chunks(2).map(|p| parse_score(&p[0]).ok_or(CmdError::NotFloat)).collect::<CmdResult<Vec<_>>>()?;

    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::ZSet)?;
    let (mut added, mut updated, mut processed, mut last) = (0, 0, 0, 0.0);
    if coll.is_some() || !f.xx {
        let mut coll = match coll {
            Some(c) => c,
            None => Collection::new(KeyType::ZSet, ctx.store.new_uid()?),
        };
        let limits = Limits::read(ctx);
        for (pair, &score) in pairs.chunks(2).zip(&scores) {
            let (outcome, new) = add_one(&mut txn, &mut coll, limits, &pair[1], score, f)?;
            match outcome {
                AddOutcome::Added => added += 1,
                AddOutcome::Updated => updated += 1,
                AddOutcome::Kept | AddOutcome::Nop => {}
            }
            if outcome != AddOutcome::Nop {
                processed += 1;
            }
            last = new;
        }
        if added + updated > 0 {
            collection::store(&mut txn, db, key, old.as_ref(), &coll);
            txn.commit()?;
            notify(ctx, notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
        }
    }
    match (f.incr, processed > 0) {
        (true, true) => ctx.out.double(last),
        (true, false) => ctx.out.null(),
        (false, _) => ctx.out.int(if f.ch { added + updated } else { added }),
    }
    Ok(())
}

fn zrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::ZSet)?;
    let mut deleted = 0;
    if let Some(mut coll) = coll {
        for member in args.rest() {
            if let Some(score) = score_in(&txn, coll.uid, member)? {
                remove(&mut txn, &mut coll, member, score);
                deleted += 1;
                if coll.len == 0 {
                    break;
                }
            }
        }
        if deleted > 0 {
            collection::store(&mut txn, db, key, old.as_ref(), &coll);
            txn.commit()?;
            collection::notify_change(ctx, notify::ZSET, "zrem", key, coll.len);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

/// Pops up to `count` members with the lowest (or, with `max`, the highest) scores from the sorted set at `key`,
/// under the key's lock, deleting the key when it empties. None when the key is missing; WRONGTYPE as an error.
/// A `count` of 0 pops nothing from an existing key.
pub fn pop(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> CmdResult<Option<Entries>> {
    Ok(pop_first(ctx, &[key], max, count)?.map(|(_, popped)| popped))
}

/// [`pop`] from the first of `keys` that exists (Redis' `genericZpopCommand`): all the keys are locked at once,
/// so the choice and the pop are one atomic step. Returns the index of the key popped from. WRONGTYPE when the
/// first existing key is not a sorted set.
pub fn pop_first(ctx: &mut Ctx, keys: &[&[u8]], max: bool, count: usize) -> CmdResult<Option<(usize, Entries)>> {
    let _g = ctx.store.locks.lock(keys);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    for (i, key) in keys.iter().enumerate() {
        let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::ZSet)?;
        let Some(mut coll) = coll else { continue };
        let mut popped = Vec::new();
        let mut walk = Walk::all(ctx.store, &coll, max);
        while popped.len() < count {
            let Some((member, score)) = walk.next()? else { break };
            popped.push((member.to_vec(), score));
        }
        drop(walk);
        if let Some((member, score)) = popped.last() {
            ctx.store.popped_through(coll.uid, &zset_score_sub(*score, member), !max);
            for (member, score) in &popped {
                remove(&mut txn, &mut coll, member, *score);
            }
            collection::store(&mut txn, db, key, old.as_ref(), &coll);
            txn.commit()?;
            collection::notify_change(ctx, notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key, coll.len);
        }
        return Ok(Some((i, popped)));
    }
    Ok(None)
}

/// Writes popped members as ZPOPMIN/ZPOPMAX reply them: `[member, score, …]`, or `[[member, score], …]` when
/// `nested` (RESP3 with a COUNT argument). With `key` it is BZPOPMIN/BZPOPMAX's `[key, member, score]`.
pub fn write_popped(out: &mut Reply, key: Option<&[u8]>, popped: &[(Vec<u8>, f64)], nested: bool) {
    let n = if nested { popped.len() } else { 2 * popped.len() };
    out.array(n + key.is_some() as usize);
    if let Some(key) = key {
        out.bulk(key);
    }
    for (member, score) in popped {
        if nested {
            out.array(2);
        }
        out.bulk(member);
        out.double(*score);
    }
}

/// Writes ZMPOP/BZMPOP's reply: `[key, [[member, score], …]]` (nested pairs in RESP2 too).
pub fn write_mpop(out: &mut Reply, key: &[u8], popped: &[(Vec<u8>, f64)]) {
    out.array(2);
    out.bulk(key);
    out.array(popped.len());
    for (member, score) in popped {
        out.array(2);
        out.bulk(member);
        out.double(*score);
    }
}

fn zpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_command(ctx, args, false)
}

fn zpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_command(ctx, args, true)
}

fn pop_command(ctx: &mut Ctx, args: &mut Args, max: bool) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::Syntax);
    }
    let count = match args.peek() {
        Some(_) => {
            let n = args.next_i64().ok().filter(|&n| n >= 0);
            Some(n.ok_or_else(|| CmdError::err("value is out of range, must be positive"))?)
        }
        None => None,
    };
    let take = count.map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX));
    match pop(ctx, key, max, take)? {
        Some(popped) if !popped.is_empty() => write_popped(ctx.out, None, &popped, ctx.out.resp3 && count.is_some()),
        _ => ctx.out.array(0),
    }
    Ok(())
}

/// ZMPOP's (and BZMPOP's) arguments after `numkeys`'s position.
pub struct MpopArgs<'a> {
    pub keys: Vec<&'a [u8]>,
    pub max: bool,
    pub count: usize,
}

/// Parses `numkeys key… MIN|MAX [COUNT count]` from the cursor's position (see `collection::parse_mpop`).
pub fn parse_mpop<'a>(args: &mut Args<'a>) -> CmdResult<MpopArgs<'a>> {
    let (keys, max, count) = collection::parse_mpop(args, ["MAX", "MIN"])?;
    Ok(MpopArgs { keys: keys.iter().map(|k| &k[..]).collect(), max, count })
}

fn zmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let a = parse_mpop(args)?;
    match pop_first(ctx, &a.keys, a.max, a.count)? {
        Some((i, popped)) => write_mpop(ctx.out, a.keys[i], &popped),
        None => ctx.out.null_array(),
    }
    Ok(())
}

/// A member and its score from a record of the member-ordered section. Random picks walk and sample that
/// section, as they do the elements of hashes and sets.
fn member_entry(sub: &[u8], value: &[u8]) -> CmdResult<(Vec<u8>, f64)> {
    Ok((sub.get(1..).unwrap_or_default().to_vec(), decode_score(value)?))
}

/// `count` distinct random members with their scores (`count` below the set's size), in random order.
fn sample_distinct(store: &Store, coll: &Collection, count: u64) -> CmdResult<Entries> {
    if sparse(coll.len, count) {
        let mut picker = TriePicker::elements(store, coll.uid, BY_MEMBER, Some(BY_SCORE));
        if let Some(subs) = picker.distinct(count)? {
            return picker.with_values(subs)?.iter().map(|(sub, value)| member_entry(sub, value)).collect();
        }
    }
    let mut selection = Selection::new(count, coll.len);
    let mut picked = Vec::new();
    let mut cur = store.data_range(coll.uid, BY_MEMBER, Some(BY_SCORE), false);
    while !selection.done() {
        let Some((sub, value)) = cur.next()? else { break };
        if selection.take() {
            picked.push(member_entry(sub, value)?);
        }
    }
    shuffle(&mut picked);
    Ok(picked)
}

/// `n` random members with their scores, repeats allowed (a negative count), in random order.
fn sample_repeated(store: &Store, coll: &Collection, n: u64) -> CmdResult<Entries> {
    let mut picked = Vec::new();
    let mut cur = store.data_range(coll.uid, BY_MEMBER, Some(BY_SCORE), false);
    match RepeatPlan::of(coll.len, n) {
        RepeatPlan::Memory => {
            let mut all = Vec::new();
            while let Some((sub, value)) = cur.next()? {
                all.push(member_entry(sub, value)?);
            }
            if !all.is_empty() {
                picked.extend((0..n).map(|_| all[random_below(all.len() as u64) as usize].clone()));
            }
        }
        RepeatPlan::Ranked => {
            let mut ranks = Ranks::new(coll.len, n);
            while !ranks.done() {
                let Some((sub, value)) = cur.next()? else { break };
                let times = ranks.step();
                if times > 0 {
                    let entry = member_entry(sub, value)?;
                    picked.extend(std::iter::repeat_n(entry, times));
                }
            }
            shuffle(&mut picked);
        }
        RepeatPlan::Trie => {
            let mut picker = TriePicker::new(cur, |_: &[u8]| true);
            for _ in 0..n {
                if let Some((sub, value)) = picker.pick_entry()? {
                    picked.push(member_entry(&sub, &value)?);
                }
            }
        }
    }
    Ok(picked)
}

fn zrandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let (coll, _g) = read_locked(ctx, key)?;
        let picked = match coll {
            Some(c) => collection::random_element(ctx.store, c.uid, c.len, BY_MEMBER, Some(BY_SCORE))?,
            None => None,
        };
        ctx.out.opt_bulk(picked.as_deref().map(|sub| sub.get(1..).unwrap_or_default()));
        return Ok(());
    }
    let (count, withscores) = collection::random_count(args, Some("WITHSCORES"))?;
    let (coll, _g) = read_locked(ctx, key)?;
    let Some(coll) = coll else {
        ctx.out.array(0);
        return Ok(());
    };
    let mut reply = EntryReply::scores(ctx, withscores);
    if count < 0 {
        let picked = sample_repeated(ctx.store, &coll, collection::repeated_picks(count)?)?;
        picked.iter().for_each(|(m, s)| reply.push(m, *s));
    } else if count as u64 >= coll.len {
        // Everything, in the order Redis' set-operation iterator walks (highest first).
        let mut walk = Walk::all(ctx.store, &coll, true);
        while let Some((member, score)) = walk.next()? {
            reply.push(member, score);
        }
    } else if count > 0 {
        let picked = sample_distinct(ctx.store, &coll, count as u64)?;
        picked.iter().for_each(|(m, s)| reply.push(m, *s));
    }
    reply.finish(ctx.out);
    Ok(())
}

/// A score as a listpack holds it, which is what ZSCAN returns for a listpack: an integer when the score is
/// one within ±2^62 (Redis' `double2ll`), otherwise `%.17g`.
fn listpack_score(score: f64) -> String {
    let bound = (i64::MAX / 2) as f64;
    if (-bound..=bound).contains(&score) && (score as i64) as f64 == score {
        (score as i64).to_string()
    } else {
        fmt_double(score)
    }
}

fn zscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = collection::scan_cursor(args)?;
    let (coll, _g) = read_locked(ctx, key)?;
    let Some(coll) = coll else {
        ScanPage::whole().finish(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(args, false)?;
    if !coll.big {
        // A listpack is returned whole, in its (score) order, whatever the cursor and COUNT.
        let mut page = ScanPage::whole();
        let mut walk = Walk::all(ctx.store, &coll, false);
        while let Some((member, score)) = walk.next()? {
            if opts.matches(member) {
                page.push(member);
                page.push(listpack_score(score).as_bytes());
            }
        }
        drop(walk);
        page.finish(ctx);
        return Ok(());
    }
    // Pages in member order.
    let (mut page, after) = ScanPage::resume(ctx, Some(key), cursor, opts.count);
    let mut cur = ctx.store.data_range(coll.uid, &[BY_MEMBER, &after].concat(), Some(BY_SCORE), false);
    while let Some((sub, value)) = cur.next()? {
        let member = sub.get(1..).unwrap_or_default();
        if !page.examine(member) {
            break;
        }
        if opts.matches(member) {
            page.push(member);
            page.push(fmt_double(decode_score(value)?).as_bytes());
        }
    }
    drop(cur);
    page.finish(ctx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_get_double_from_object() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-0"), Some(-0.0));
        assert_eq!(parse_score(b"0e5"), Some(0.0));
        assert_eq!(parse_score(b"5e-324"), Some(5e-324));
        for bad in [&b"1e400"[..], b"-1e400", b"1e-400", b"0x1p-2000", b"nan", b"", b" 1", b"1 ", b"abc"] {
            assert_eq!(parse_score(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn listpack_scores_are_integers_when_they_can_be() {
        assert_eq!(listpack_score(1e18), "1000000000000000000");
        assert_eq!(listpack_score(4611686018427387904.0), "4611686018427387904");
        assert_eq!(listpack_score(1e19), "1e+19");
        assert_eq!(listpack_score(-0.0), "0");
        assert_eq!(listpack_score(0.1), "0.10000000000000001");
        assert_eq!(listpack_score(f64::INFINITY), "inf");
    }

    #[test]
    fn score_bounds_order() {
        assert!(score_bound(1.0, false) < score_bound(1.0, true));
        assert!(score_bound(1.0, true) <= score_bound(1.5, false));
        assert!(score_bound(f64::INFINITY, true) <= AFTER_SCORES.to_vec());
        assert_eq!(score_bound(-0.0, false), score_bound(0.0, false));
        assert!(zset_score_sub(2.0, b"\xff\xff") < score_bound(2.0, true));
    }
}
