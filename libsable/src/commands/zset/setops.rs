//! ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and ZINTERCARD: Redis'
//! `zunionInterDiffGenericCommand`. Plain sets are accepted as inputs, each member scoring 1.
//!
//! The inputs are read (and checked for WRONGTYPE) before the options are parsed, as Redis does. ZUNION and
//! ZINTER take the inputs from the smallest to the largest (a stable sort, as glibc's `qsort` is for a handful
//! of inputs), which fixes the order scores are added in.

use std::collections::HashMap;

use super::{insert, Entries, EntryReply, Limits, Walk};
use crate::commands::string::lookup_read;
use crate::commands::{Args, CmdError, CmdResult, Ctx};
use crate::notify::{self, notify};
use crate::storage::data::expect_collection;
use crate::storage::encoding::Collection;
use crate::storage::{KeyType, Store};

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis' `zunionInterAggregate`: a sum that is NaN (inf + -inf) is 0; MIN and MAX keep the target when the
    /// comparison fails (a NaN value).
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => *target = if val < *target { val } else { *target },
            Aggregate::Max => *target = if val > *target { val } else { *target },
        }
    }
}

/// One input key: a sorted set, a set, or missing (empty).
struct Source<'a> {
    key: &'a [u8],
    coll: Option<Collection>,
    weight: f64,
}

impl Source<'_> {
    fn len(&self) -> u64 {
        self.coll.map_or(0, |c| c.len)
    }

    /// Visits every member with its score (1 for a set member).
    fn each(&self, store: &Store, f: &mut dyn FnMut(&[u8], f64) -> CmdResult) -> CmdResult {
        let Some(coll) = self.coll else { return Ok(()) };
        if coll.kind == KeyType::Set {
            // A set member's record is keyed by the member itself.
            let mut cur = store.data_range(coll.uid, &[], None, false);
            while let Some((member, _)) = cur.next()? {
                f(member, 1.0)?;
            }
            return Ok(());
        }
        let mut walk = Walk::all(store, &coll, false);
        while let Some((member, score)) = walk.next()? {
            f(member, score)?;
        }
        Ok(())
    }

    /// The score of `member` in this input, if it is there.
    fn find(&self, store: &Store, member: &[u8]) -> CmdResult<Option<f64>> {
        match self.coll {
            None => Ok(None),
            Some(c) if c.kind == KeyType::Set => Ok(store.data_get(c.uid, member)?.map(|_| 1.0)),
            Some(c) => super::score_of(store, c.uid, member),
        }
    }
}

/// The input at `key`: a sorted set or a set, WRONGTYPE for anything else.
fn source<'a>(ctx: &Ctx, key: &'a [u8]) -> CmdResult<Source<'a>> {
    let coll = match lookup_read(ctx, key)? {
        None => None,
        Some(rec) => {
            let m = rec.view();
            let kind = if m.key_type() == KeyType::Set { KeyType::Set } else { KeyType::ZSet };
            Some(expect_collection(&m, kind)?)
        }
    };
    Ok(Source { key, coll, weight: 1.0 })
}

pub(super) fn zunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    generic(ctx, args, None, Op::Union, false)
}

pub(super) fn zinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    generic(ctx, args, None, Op::Inter, false)
}

pub(super) fn zdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    generic(ctx, args, None, Op::Diff, false)
}

pub(super) fn zintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    generic(ctx, args, None, Op::Inter, true)
}

pub(super) fn zunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    generic(ctx, args, Some(dst), Op::Union, false)
}

pub(super) fn zinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    generic(ctx, args, Some(dst), Op::Inter, false)
}

pub(super) fn zdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    generic(ctx, args, Some(dst), Op::Diff, false)
}

/// The parsed tail of the command after the input keys.
struct Options {
    aggregate: Aggregate,
    withscores: bool,
    /// ZINTERCARD's LIMIT (0: none).
    limit: u64,
}

fn parse_options(args: &mut Args, sources: &mut [Source], store: bool, op: Op, card: bool) -> CmdResult<Options> {
    let mut o = Options { aggregate: Aggregate::Sum, withscores: false, limit: 0 };
    let scored = op != Op::Diff && !card;
    while !args.is_empty() {
        if scored && args.remaining() > sources.len() && args.eat("WEIGHTS") {
            for s in sources.iter_mut() {
                let w = super::parse_score(args.next_bytes()?);
                s.weight = w.ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
        } else if scored && args.remaining() >= 2 && args.eat("AGGREGATE") {
            o.aggregate = if args.eat("SUM") {
                Aggregate::Sum
            } else if args.eat("MIN") {
                Aggregate::Min
            } else if args.eat("MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
        } else if !store && !card && args.eat("WITHSCORES") {
            o.withscores = true;
        } else if card && args.remaining() >= 2 && args.eat("LIMIT") {
            let limit = args.next_i64().ok().filter(|&l| l >= 0);
            o.limit = limit.ok_or_else(|| CmdError::err("LIMIT can't be negative"))? as u64;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

fn generic(ctx: &mut Ctx, args: &mut Args, dst: Option<&[u8]>, op: Op, card: bool) -> CmdResult {
    let numkeys = args.next_i64()?;
    if numkeys < 1 {
        return Err(CmdError::err(format!("at least 1 input key is needed for '{}' command", ctx.cmd.name)));
    }
    if numkeys > args.remaining() as i64 {
        return Err(CmdError::Syntax);
    }
    let keys: Vec<&[u8]> = (0..numkeys).map(|_| args.next_bytes().map(|k| &k[..])).collect::<CmdResult<_>>()?;
    // Every key is locked, the inputs too: the result is computed from one state of them all, as in Redis.
    let _g = ctx.store.locks.lock(&[dst.as_slice(), &keys[..]].concat());
    let mut sources = keys.iter().map(|k| source(ctx, k)).collect::<CmdResult<Vec<_>>>()?;
    let opts = parse_options(args, &mut sources, dst.is_some(), op, card)?;
    if op != Op::Diff {
        sources.sort_by_key(|s| s.len());
    }
    let store = ctx.store;
    if card {
        let n = intersect(store, &sources, opts.aggregate, opts.limit, &mut |_, _| {})?;
        ctx.out.int(n as i64);
        return Ok(());
    }
    let mut result: Entries = Vec::new();
    match op {
        Op::Inter => {
            intersect(store, &sources, opts.aggregate, 0, &mut |m, s| result.push((m.to_vec(), s)))?;
        }
        Op::Union => result = union(store, &sources, opts.aggregate)?,
        Op::Diff => result = diff(store, &sources)?,
    }
    // The order of Redis' skiplist; scores are never NaN here, and -0 sorts with 0.
    result.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
    match dst {
        Some(dst) => {
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            store_result(ctx, dst, &result, event)
        }
        None => {
            let mut reply = EntryReply::scores(ctx, opts.withscores);
            result.iter().for_each(|(m, s)| reply.push(m, *s));
            reply.finish(ctx.out);
            Ok(())
        }
    }
}

/// The members of every input (the smallest first), with their aggregated weighted scores; stops after
/// `limit` members when it is not 0. Returns how many were found.
fn intersect(
    store: &Store,
    sources: &[Source],
    agg: Aggregate,
    limit: u64,
    found: &mut dyn FnMut(&[u8], f64),
) -> CmdResult<u64> {
    let Some(first) = sources.first().filter(|s| s.len() > 0) else { return Ok(0) };
    let mut n = 0u64;
    let mut done = false;
    first.each(store, &mut |member, s0| {
        if done {
            return Ok(());
        }
        let mut score = first.weight * s0;
        if score.is_nan() {
            score = 0.0;
        }
        for other in &sources[1..] {
            let value = if other.key == first.key { Some(s0) } else { other.find(store, member)? };
            match value {
                Some(v) => agg.apply(&mut score, v * other.weight),
                None => return Ok(()),
            }
        }
        found(member, score);
        n += 1;
        done = limit != 0 && n >= limit;
        Ok(())
    })?;
    Ok(n)
}

fn union(store: &Store, sources: &[Source], agg: Aggregate) -> CmdResult<Entries> {
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
    for src in sources {
        src.each(store, &mut |member, s| {
            let mut score = src.weight * s;
            if score.is_nan() {
                score = 0.0;
            }
            match acc.get_mut(member) {
                Some(total) => agg.apply(total, score),
                None => {
                    acc.insert(member.to_vec(), score);
                }
            }
            Ok(())
        })?;
    }
    Ok(acc.into_iter().collect())
}

/// The members of the first input that no other input has, with their scores (weights do not apply).
fn diff(store: &Store, sources: &[Source]) -> CmdResult<Entries> {
    let mut out = Vec::new();
    let first = &sources[0];
    if sources[1..].iter().any(|s| s.key == first.key) {
        return Ok(out);
    }
    first.each(store, &mut |member, score| {
        for other in &sources[1..] {
            if other.find(store, member)?.is_some() {
                return Ok(());
            }
        }
        out.push((member.to_vec(), score));
        Ok(())
    })?;
    Ok(out)
}

/// Writes a …STORE result as a new sorted set at `dst` (Redis builds a skiplist and converts it to a listpack
/// when the result is within the limits); an empty result deletes `dst`. `event` is the keyspace event of a
/// non-empty result; the caller holds `dst`'s lock, and the members are distinct. GEORADIUS's and GEOSEARCHSTORE's
/// STORE write their results through it too.
pub(in crate::commands) fn store_result(
    ctx: &mut Ctx,
    dst: &[u8],
    result: &[(Vec<u8>, f64)],
    event: &str,
) -> CmdResult {
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, dst)?;
    if result.is_empty() {
        if let Some(old) = &old {
            txn.delete(db, dst, old);
            txn.commit()?;
            if old.live().is_some() {
                notify(ctx, notify::GENERIC, "del", dst);
            }
        }
        ctx.out.int(0);
        return Ok(());
    }
    let limits = Limits::read(ctx);
    let mut coll = Collection::new(KeyType::ZSet, ctx.store.new_uid()?);
    let longest = result.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    coll.big = limits.exceeded(result.len() as u64, longest);
    for (member, score) in result {
        insert(&mut txn, &mut coll, limits, member, *score);
    }
    txn.put(db, dst, old.as_ref(), coll.encode());
    txn.commit()?;
    notify(ctx, notify::ZSET, event, dst);
    ctx.out.int(coll.len as i64);
    Ok(())
}
