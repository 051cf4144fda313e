//! Ranges of a sorted set by rank, score and lex: ZRANGE (every form), ZRANGESTORE, ZRANGEBYSCORE, ZRANGEBYLEX
//! and their REV forms, ZREVRANGE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
//!
//! Score ranges are seeks in the score-ordered records. Lex ranges follow Redis' listpack code, which walks the
//! members in score order and compares them as bytes: meaningful only when every score is equal, which is then
//! detected and turned into a seek as well.

use std::cmp::Ordering;

use super::{insert, live_range, read_locked, remove, score_bound, EntryReply, Limits, Walk, AFTER_SCORES, BY_SCORE};
use crate::commands::chunked::{self, Elements};
use crate::commands::collection::{self, Loaded};
use crate::commands::{Args, CmdError, CmdResult, Ctx};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::storage::data::owned_range;
use crate::storage::encoding::{score_from_key, score_key, Collection};
use crate::storage::{KeyType, Store};
use crate::util::parse_f64;

/// Redis' `zrangespec`: a score interval whose ends may be exclusive.
#[derive(Debug, PartialEq)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

/// `strtod` as `zslParseRange` calls it: the argument is read as a C string (up to a NUL byte), leading white
/// space is skipped, nothing may follow the number, an empty string reads as 0 and an overflow as ±inf; NaN is
/// refused.
fn c_strtod(s: &[u8]) -> Option<f64> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).unwrap_or(s.len());
    parse_f64(&s[start..])
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> CmdResult<ScoreRange> {
        let end = |arg: &[u8]| match arg.strip_prefix(b"(") {
            Some(rest) => c_strtod(rest).map(|v| (v, true)),
            None => c_strtod(arg).map(|v| (v, false)),
        };
        match (end(min), end(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange { min, max, minex, maxex }),
            _ => Err(CmdError::err("min or max is not a float")),
        }
    }

    /// The score-ordered sub keys holding exactly this range (from inclusive, to exclusive); None when empty.
    fn bounds(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let from = score_bound(self.min, self.minex);
        let to = score_bound(self.max, !self.maxex);
        (from < to).then_some((from, to))
    }
}

/// One end of a lex range; the derived order is Redis' `sdscmplex` (`-` below every string, `+` above).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum LexValue {
    Min,
    Bytes(Vec<u8>),
    Max,
}

/// Redis' `zlexrangespec`.
#[derive(Debug)]
struct LexRange {
    min: LexValue,
    max: LexValue,
    minex: bool,
    maxex: bool,
}

/// `-`, `+`, `(member` or `[member`; `-` and `+` are exclusive ends.
fn lex_item(arg: &[u8]) -> Option<(LexValue, bool)> {
    let alone = arg.get(1).is_none_or(|&c| c == 0);
    match arg.first()? {
        b'+' if alone => Some((LexValue::Max, true)),
        b'-' if alone => Some((LexValue::Min, true)),
        b'(' => Some((LexValue::Bytes(arg[1..].to_vec()), true)),
        b'[' => Some((LexValue::Bytes(arg[1..].to_vec()), false)),
        _ => None,
    }
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> CmdResult<LexRange> {
        match (lex_item(min), lex_item(max)) {
            (Some((min, minex)), Some((max, maxex))) => Ok(LexRange { min, max, minex, maxex }),
            _ => Err(CmdError::err("min or max not valid string range item")),
        }
    }

    fn cmp(member: &[u8], end: &LexValue) -> Ordering {
        match end {
            LexValue::Min => Ordering::Greater,
            LexValue::Max => Ordering::Less,
            LexValue::Bytes(b) => member.cmp(b),
        }
    }

    fn gte_min(&self, member: &[u8]) -> bool {
        let c = LexRange::cmp(member, &self.min);
        if self.minex {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    fn lte_max(&self, member: &[u8]) -> bool {
        let c = LexRange::cmp(member, &self.max);
        if self.maxex {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    fn is_empty(&self) -> bool {
        match self.min.cmp(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.minex || self.maxex,
            Ordering::Less => false,
        }
    }

    /// When every member has the score `score`, the score-ordered sub keys holding exactly this range.
    fn bounds_within(&self, score: f64) -> (Vec<u8>, Vec<u8>) {
        let at = |v: &LexValue, past: bool| {
            let mut k = vec![BY_SCORE[0]];
            k.extend_from_slice(&score_key(score));
            match v {
                LexValue::Min => {}
                LexValue::Max => return score_bound(score, true),
                LexValue::Bytes(b) => {
                    k.extend_from_slice(b);
                    if past {
                        k.push(0);
                    }
                }
            }
            k
        };
        (at(&self.min, self.minex), at(&self.max, !self.maxex))
    }
}

/// Where a range's entries go.
type Emit<'e> = &'e mut dyn FnMut(&[u8], f64) -> CmdResult;

/// Redis' start/stop rules for ranks over `len` members: negative counts from the end, clamped; None when empty.
fn rank_bounds(len: u64, start: i64, end: i64) -> Option<(u64, u64)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as u64, end.min(len - 1) as u64))
}

/// Emits the members ranked `start..=end` (counted from the top with `rev`).
fn rank_walk(store: &Store, coll: &Collection, (start, end): (u64, u64), rev: bool, emit: Emit) -> CmdResult {
    let mut walk = Walk::all(store, coll, rev);
    let mut rank = 0;
    while let Some((member, score)) = walk.next()? {
        if rank > end {
            break;
        }
        if rank >= start {
            emit(member, score)?;
        }
        rank += 1;
    }
    Ok(())
}

/// Emits the members in a score range, from the low end (or the high end with `rev`), skipping `offset` and
/// stopping after `limit` (negative: no limit), as Redis' `genericZrangebyscoreCommand`.
fn score_walk(
    store: &Store,
    coll: &Collection,
    range: &ScoreRange,
    rev: bool,
    (offset, limit): (i64, i64),
    emit: Emit,
) -> CmdResult {
    // A negative offset skips forever in Redis' loop: nothing is returned.
    if offset < 0 || (offset > 0 && offset as u64 >= coll.len) {
        return Ok(());
    }
    let Some((from, to)) = range.bounds() else { return Ok(()) };
    let mut walk = Walk::between(store, coll, &from, &to, rev);
    let (mut skipped, mut emitted) = (0, 0);
    while let Some((member, score)) = walk.next()? {
        if skipped < offset {
            skipped += 1;
            continue;
        }
        if limit >= 0 && emitted >= limit {
            break;
        }
        emit(member, score)?;
        emitted += 1;
    }
    Ok(())
}

/// Emits the members in a lex range as Redis' listpack code finds them: the range is empty unless the last
/// member (in score order) is above the minimum and the first below the maximum; the walk starts at the first
/// member above the minimum (the last below the maximum with `rev`) and goes on, after skipping `offset`,
/// while members stay in range, up to `limit` (negative: no limit).
fn lex_walk(
    store: &Store,
    coll: &Collection,
    range: &LexRange,
    rev: bool,
    (offset, limit): (i64, i64),
    emit: Emit,
) -> CmdResult {
    if range.is_empty() || offset < 0 {
        return Ok(());
    }
    let (first_score, last_score) = {
        let first = Walk::all(store, coll, false).next()?.map(|(m, s)| (range.lte_max(m), s));
        let last = Walk::all(store, coll, true).next()?.map(|(m, s)| (range.gte_min(m), s));
        match (first, last) {
            (Some((true, f)), Some((true, l))) => (f, l),
            _ => return Ok(()),
        }
    };
    // With one score for all, member order is score order: seek straight to the range.
    let mut walk = if first_score == last_score {
        let (from, to) = range.bounds_within(first_score);
        Walk::between(store, coll, &from, &to, rev)
    } else {
        Walk::all(store, coll, rev)
    };
    let starts = |m: &[u8]| if rev { range.lte_max(m) } else { range.gte_min(m) };
    let stays = |m: &[u8]| if rev { range.gte_min(m) } else { range.lte_max(m) };
    let (mut started, mut skipped, mut emitted) = (false, 0, 0);
    while let Some((member, score)) = walk.next()? {
        if !started {
            if !starts(member) {
                continue;
            }
            if !stays(member) {
                return Ok(());
            }
            started = true;
        }
        if skipped < offset {
            skipped += 1;
            continue;
        }
        if (limit >= 0 && emitted >= limit) || !stays(member) {
            break;
        }
        emit(member, score)?;
        emitted += 1;
    }
    Ok(())
}

/// A lex range over a sorted set whose members all have one score (how lex ranges are used) is one contiguous run
/// of the score-ordered records: its bounds (None: empty), for streaming. None when the scores differ, where
/// [`lex_walk`] follows Redis' listpack walk instead.
#[allow(clippy::type_complexity)]
fn lex_run(store: &Store, coll: &Collection, range: &LexRange) -> CmdResult<Option<Option<(Vec<u8>, Vec<u8>)>>> {
    if range.is_empty() {
        return Ok(Some(None));
    }
    let first = Walk::all(store, coll, false).next()?.map(|(_, s)| s);
    let last = Walk::all(store, coll, true).next()?.map(|(_, s)| s);
    Ok(match (first, last) {
        (Some(f), Some(l)) if f == l => Some(Some(range.bounds_within(f))),
        (Some(_), Some(_)) => None,
        _ => Some(None),
    })
}

/// How a ZRANGE-like command selects members.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// A parsed range of any kind.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Options of a ZRANGE-like command, parsed.
struct RangeQuery<'a> {
    key: &'a [u8],
    range: Range,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// Redis' `zrangeGenericCommand` argument parsing: `key min max` then options, which the command's own form
/// may fix (`by`, `rev`); a destination (ZRANGESTORE) refuses WITHSCORES.
fn parse_query<'a>(args: &mut Args<'a>, store: bool, mut by: By, mut rev: Option<bool>) -> CmdResult<RangeQuery<'a>> {
    let key = args.next_bytes()?;
    let mut lo = args.next_bytes()?;
    let mut hi = args.next_bytes()?;
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    while !args.is_empty() {
        if !store && args.eat("WITHSCORES") {
            withscores = true;
        } else if args.remaining() >= 3 && args.eat("LIMIT") {
            offset = args.next_i64()?;
            limit = args.next_i64()?;
        } else if rev.is_none() && args.eat("REV") {
            rev = Some(true);
        } else if by == By::Auto && args.eat("BYLEX") {
            by = By::Lex;
        } else if by == By::Auto && args.eat("BYSCORE") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let rev = rev.unwrap_or(false);
    let by = if by == By::Auto { By::Rank } else { by };
    // Redis tells LIMIT apart by its count: `LIMIT x -1` passes with a rank range (and is ignored).
    if limit != -1 && by == By::Rank {
        return Err(CmdError::err("syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::err("syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match by {
        By::Score => Range::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => Range::Lex(LexRange::parse(lo, hi)?),
        _ => {
            let parse = |a: &[u8]| crate::util::parse_i64(a).ok_or(CmdError::NotInteger);
            Range::Rank(parse(lo)?, parse(hi)?)
        }
    };
    Ok(RangeQuery { key, range, rev, withscores, offset, limit })
}

/// Runs a parsed query over `coll`. Returns the number of members a rank range selects (ZRANGESTORE sizes its
/// destination by it, as Redis does), or None for the other kinds.
fn run_query(store: &Store, coll: &Collection, q: &RangeQuery, emit: Emit) -> CmdResult<Option<u64>> {
    match &q.range {
        Range::Rank(start, end) => match rank_bounds(coll.len, *start, *end) {
            Some(b) => {
                rank_walk(store, coll, b, q.rev, emit)?;
                Ok(Some(b.1 - b.0 + 1))
            }
            None => Ok(Some(0)),
        },
        Range::Score(r) => score_walk(store, coll, r, q.rev, (q.offset, q.limit), emit).map(|_| None),
        Range::Lex(r) => lex_walk(store, coll, r, q.rev, (q.offset, q.limit), emit).map(|_| None),
    }
}

/// ZRANGE and the commands that are ZRANGE with fixed options. Rank and score ranges, and lex ranges over one
/// score, the ones that can be large, are one contiguous run of the score-ordered records: they are streamed
/// (see `commands::chunked`).
fn range_reply(ctx: &mut Ctx, args: &mut Args, by: By, rev: Option<bool>) -> CmdResult {
    let q = parse_query(args, false, by, rev)?;
    // Scope writes first: the lock below must not be one this thread's scope already holds.
    crate::storage::scope::settle();
    let (coll, guard) = read_locked(ctx, q.key)?;
    let Some(coll) = coll else {
        ctx.out.array(0);
        return Ok(());
    };
    let run = match &q.range {
        Range::Rank(start, end) => Some(
            rank_bounds(coll.len, *start, *end)
                .map(|(first, last)| (BY_SCORE.to_vec(), AFTER_SCORES.to_vec(), (first, Some(last - first + 1)))),
        ),
        Range::Score(r) if q.offset >= 0 => {
            Some(r.bounds().map(|(from, to)| (from, to, (q.offset as u64, u64::try_from(q.limit).ok()))))
        }
        Range::Lex(r) if q.offset >= 0 => lex_run(ctx.store, &coll, r)?
            .map(|run| run.map(|(from, to)| (from, to, (q.offset as u64, u64::try_from(q.limit).ok())))),
        _ => None,
    };
    if let Some(run) = run {
        let Some((from, to, (skip, limit))) = run else {
            ctx.out.array(0);
            return Ok(());
        };
        let (from, to) = live_range(ctx.store, &coll, &from, &to);
        let mut cursor = owned_range(&ctx.server.store, coll.uid, &from, Some(&to), q.rev);
        drop(guard);
        // The cursor's snapshot is the locked state: count what it holds in the range, then stream.
        let mut total = 0u64;
        while cursor.next()?.is_some() {
            total += 1;
        }
        cursor.rewind();
        let n = total.saturating_sub(skip).min(limit.unwrap_or(u64::MAX));
        let nested = q.withscores && ctx.out.resp3;
        ctx.out.array(if q.withscores && !nested { 2 * n as usize } else { n as usize });
        let emit: chunked::Emit = if q.withscores { emit_with_score } else { emit_member };
        return chunked::send(ctx, Elements::new(cursor, skip, n, emit));
    }
    let mut reply = EntryReply::scores(ctx, q.withscores);
    run_query(ctx.store, &coll, &q, &mut |m, s| {
        reply.push(m, s);
        Ok(())
    })?;
    reply.finish(ctx.out);
    Ok(())
}

/// A score-ordered record's member.
fn emit_member(out: &mut Reply, sub: &[u8], _value: &[u8]) {
    out.bulk(sub.get(9..).unwrap_or_default());
}

/// A score-ordered record's member and score (a pair in RESP3). The score is in the key, unless it is a
/// skiplist's -0, which the key folds into 0 and the record's value keeps.
fn emit_with_score(out: &mut Reply, sub: &[u8], value: &[u8]) {
    let exact = <[u8; 8]>::try_from(value).ok().map(|b| f64::from_bits(u64::from_be_bytes(b)));
    let score =
        exact.unwrap_or_else(|| score_from_key(sub.get(1..9).and_then(|k| k.try_into().ok()).unwrap_or([0; 8])));
    if out.resp3 {
        out.array(2);
    }
    emit_member(out, sub, value);
    out.double(score);
}

pub(super) fn zrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Auto, None)
}

pub(super) fn zrevrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Rank, Some(true))
}

pub(super) fn zrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Score, Some(false))
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Score, Some(true))
}

pub(super) fn zrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Lex, Some(false))
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_reply(ctx, args, By::Lex, Some(true))
}

/// ZRANGESTORE: the destination is built member by member as Redis' `zsetAdd` would (a listpack, unless a rank
/// range is known to exceed the entries limit), replacing whatever `dst` held; an empty result deletes `dst`.
pub(super) fn zrangestore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let q = parse_query(args, true, By::Auto, None)?;
    let _g = ctx.store.locks.lock(&[dst, q.key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let src = collection::read(ctx, q.key, KeyType::ZSet)?;
    let old = txn.load(db, dst)?;
    let mut out = Collection::new(KeyType::ZSet, ctx.store.new_uid()?);
    if let Some(src) = src {
        let limits = Limits::read(ctx);
        if let Range::Rank(start, end) = q.range {
            out.big = rank_bounds(src.len, start, end).is_some_and(|(s, e)| e - s + 1 > limits.entries);
        }
        run_query(ctx.store, &src, &q, &mut |m, s| {
            insert(&mut txn, &mut out, limits, m, s);
            Ok(())
        })?;
    }
    let event = match (out.len, &old) {
        (0, Some(old)) => {
            txn.delete(db, dst, old);
            old.live().map(|_| (notify::GENERIC, "del"))
        }
        (0, None) => None,
        _ => {
            txn.put(db, dst, old.as_ref(), out.encode());
            Some((notify::ZSET, "zrangestore"))
        }
    };
    txn.commit()?;
    if let Some((class, name)) = event {
        notify(ctx, class, name, dst);
    }
    ctx.out.int(out.len as i64);
    Ok(())
}

pub(super) fn zcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let mut n = 0;
    if let (Some(coll), _g) = read_locked(ctx, key)? {
        score_walk(ctx.store, &coll, &range, false, (0, -1), &mut |_, _| {
            n += 1;
            Ok(())
        })?;
    }
    ctx.out.int(n);
    Ok(())
}

pub(super) fn zlexcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = LexRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let mut n = 0;
    if let (Some(coll), _g) = read_locked(ctx, key)? {
        lex_walk(ctx.store, &coll, &range, false, (0, -1), &mut |_, _| {
            n += 1;
            Ok(())
        })?;
    }
    ctx.out.int(n);
    Ok(())
}

/// ZREMRANGEBY*: removes what a forward walk of the range meets.
fn remove_range(ctx: &mut Ctx, key: &[u8], range: Range) -> CmdResult {
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::ZSet)?;
    let mut deleted = 0;
    if let Some(mut coll) = coll {
        let walked = coll;
        let q = RangeQuery { key, range, rev: false, withscores: false, offset: 0, limit: -1 };
        run_query(ctx.store, &walked, &q, &mut |m, s| {
            remove(&mut txn, &mut coll, m, s);
            deleted += 1;
            Ok(())
        })?;
        if deleted > 0 {
            collection::store(&mut txn, db, key, old.as_ref(), &coll);
            txn.commit()?;
            let event = match q.range {
                Range::Rank(..) => "zremrangebyrank",
                Range::Score(_) => "zremrangebyscore",
                Range::Lex(_) => "zremrangebylex",
            };
            collection::notify_change(ctx, notify::ZSET, event, key, coll.len);
        }
    }
    ctx.out.int(deleted);
    Ok(())
}

pub(super) fn zremrangebyrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (start, end) = (args.next_i64()?, args.next_i64()?);
    remove_range(ctx, key, Range::Rank(start, end))
}

pub(super) fn zremrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    remove_range(ctx, key, Range::Score(range))
}

pub(super) fn zremrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let range = LexRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    remove_range(ctx, key, Range::Lex(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ranges_parse_with_strtod() {
        let r = ScoreRange::parse(b"(1.5", b"+inf").unwrap();
        assert_eq!(r, ScoreRange { min: 1.5, max: f64::INFINITY, minex: true, maxex: false });
        // strtod: empty is 0, leading space is skipped, a NUL ends the string, overflow is infinite.
        assert_eq!(ScoreRange::parse(b"", b"(").unwrap(), ScoreRange { min: 0.0, max: 0.0, minex: false, maxex: true });
        assert_eq!(ScoreRange::parse(b" 1", b"1e400").unwrap().max, f64::INFINITY);
        assert_eq!(ScoreRange::parse(b"2\x00junk", b"3").unwrap().min, 2.0);
        for bad in [&b"nan"[..], b"1 ", b"abc", b"  ", b"((1", b"-inf "] {
            assert!(ScoreRange::parse(bad, b"1").is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn score_range_bounds() {
        assert!(ScoreRange::parse(b"(1", b"1").unwrap().bounds().is_none());
        assert!(ScoreRange::parse(b"2", b"1").unwrap().bounds().is_none());
        assert!(ScoreRange::parse(b"1", b"1").unwrap().bounds().is_some());
        assert!(ScoreRange::parse(b"-inf", b"+inf").unwrap().bounds().is_some());
    }

    #[test]
    fn lex_ranges() {
        let r = LexRange::parse(b"[b", b"(d").unwrap();
        assert!(!r.gte_min(b"a") && r.gte_min(b"b") && r.lte_max(b"c") && !r.lte_max(b"d"));
        assert!(LexRange::parse(b"-", b"+").map(|r| !r.is_empty()).unwrap());
        assert!(LexRange::parse(b"+", b"+").map(|r| r.is_empty()).unwrap());
        assert!(LexRange::parse(b"(a", b"[a").map(|r| r.is_empty()).unwrap());
        assert!(LexRange::parse(b"[a", b"[a").map(|r| !r.is_empty()).unwrap());
        for bad in [&b""[..], b"a", b"+a", b"-1"] {
            assert!(LexRange::parse(bad, b"+").is_err());
        }
        assert!(LexRange::parse(b"+\x00x", b"+").is_ok());
    }

    #[test]
    fn ranks_follow_redis() {
        assert_eq!(rank_bounds(5, 0, -1), Some((0, 4)));
        assert_eq!(rank_bounds(5, -100, 100), Some((0, 4)));
        assert_eq!(rank_bounds(5, 3, 1), None);
        assert_eq!(rank_bounds(5, 5, 10), None);
        assert_eq!(rank_bounds(5, -2, -1), Some((3, 4)));
        assert_eq!(rank_bounds(0, 0, -1), None);
        assert_eq!(rank_bounds(5, i64::MIN, i64::MAX), Some((0, 4)));
    }
}
