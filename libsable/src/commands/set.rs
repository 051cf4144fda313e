//! The sets family: SADD, SCARD, SDIFF, SDIFFSTORE, SINTER, SINTERCARD, SINTERSTORE, SISMEMBER, SMEMBERS,
//! SMISMEMBER, SMOVE, SPOP, SRANDMEMBER, SREM, SSCAN, SUNION, SUNIONSTORE.
//!
//! A set is a collection record whose members are `data` records `[uid][member]` with an empty value: a
//! membership test is one point read, and a walk returns the members in byte order. `Collection::big` says whether
//! Redis would hold the set as a hash table rather than an intset (see [`fits_intset`]). Replies follow Redis'
//! order where it is deterministic — an intset iterates its integers in numeric order — and byte order where
//! Redis' order is its hash table's.

mod algebra;

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};

use bytes::Bytes;

use super::chunked::{self, emit_sub, Elements};
use super::collection::{
    self, random_below, shuffle, sparse, Ranks, RepeatPlan, ScanOptions, ScanPage, Selection, TriePicker,
};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::storage::encoding::Collection;
use crate::storage::{KeyType, Txn};
use crate::util::parse_i64;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("sadd", sadd),
    ("scard", scard),
    ("sdiff", sdiff),
    ("sdiffstore", sdiffstore),
    ("sinter", sinter),
    ("sintercard", sintercard),
    ("sinterstore", sinterstore),
    ("sismember", sismember),
    ("smembers", smembers),
    ("smismember", smismember),
    ("smove", smove),
    ("spop", spop),
    ("srandmember", srandmember),
    ("srem", srem),
    ("sscan", sscan),
    ("sunion", sunion),
    ("sunionstore", sunionstore),
];

/// Redis' `set-max-intset-entries`.
fn max_intset(ctx: &Ctx) -> u64 {
    ctx.server.config.read().int("set-max-intset-entries").max(0) as u64
}

/// True when Redis' intset can hold `member`: a canonical 64-bit integer (`string2ll` rules).
fn int_member(member: &[u8]) -> bool {
    parse_i64(member).is_some()
}

/// Whether the set Redis builds from scratch for a command's result (`createIntsetObject` plus `setTypeAdd`)
/// would still be an intset: every member an integer, and no more than `set-max-intset-entries` of them.
fn fits_intset(ctx: &Ctx, members: &[Vec<u8>]) -> bool {
    members.len() as u64 <= max_intset(ctx) && members.iter().all(|m| int_member(m))
}

/// Puts integer members into an intset's iteration order (ascending).
fn intset_order(members: &mut [Vec<u8>]) {
    members.sort_by_key(|m| parse_i64(m).unwrap_or(0));
}

/// Records that `coll` just gained `member` (its `len` already counts it): Redis converts an intset to a hash
/// table when the member is not an integer or the intset outgrew `set-max-intset-entries`, and never back.
fn note_added(coll: &mut Collection, member: &[u8], max: u64) {
    if !int_member(member) || coll.len > max {
        coll.big = true;
    }
}

/// Calls `f` on the members of `coll` from `from` on, in byte order, until it returns false. Every walk over a
/// set's members goes through here, except SMEMBERS, which streams its reply (`chunked::open`).
fn walk(ctx: &Ctx, coll: &Collection, from: &[u8], mut f: impl FnMut(&[u8]) -> CmdResult<bool>) -> CmdResult {
    let mut cur = ctx.store.data_range(coll.uid, from, None, false);
    while let Some((member, _)) = cur.next()? {
        if !f(member)? {
            break;
        }
    }
    Ok(())
}

/// Every member, in the order Redis iterates the set: numeric for a set it holds as an intset, else byte order.
pub fn members(ctx: &Ctx, coll: &Collection) -> CmdResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    walk(ctx, coll, &[], |m| {
        out.push(m.to_vec());
        Ok(true)
    })?;
    if !coll.big {
        intset_order(&mut out);
    }
    Ok(out)
}

/// Writes `members` as a set reply (`~` in RESP3) or, with `as_set` false, as an array.
fn write_members(out: &mut Reply, members: &[Vec<u8>], as_set: bool) {
    if as_set {
        out.set(members.len());
    } else {
        out.array(members.len());
    }
    for m in members {
        out.bulk(m);
    }
}

fn sadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let (loaded, mut coll) = collection::load_or_new(ctx, &txn, db, key, KeyType::Set)?;
    let max = max_intset(ctx);
    let mut added = 0;
    for m in args.rest() {
        if txn.data_get(coll.uid, m)?.is_none() {
            txn.data_put(coll.uid, m, b"");
            coll.len += 1;
            added += 1;
            note_added(&mut coll, m, max);
        }
    }
    if added > 0 {
        collection::store(&mut txn, db, key, loaded.old.as_ref(), &coll);
        txn.commit()?;
        notify(ctx, notify::SET, "sadd", key);
    }
    ctx.out.int(added);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let loaded = collection::load(&txn, db, key, KeyType::Set)?;
    let Some(mut coll) = loaded.coll else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in args.rest() {
        if txn.data_get(coll.uid, m)?.is_some() {
            txn.data_delete(coll.uid, m);
            coll.len -= 1;
            removed += 1;
        }
    }
    if removed > 0 {
        collection::store(&mut txn, db, key, loaded.old.as_ref(), &coll);
        txn.commit()?;
        collection::notify_change(ctx, notify::SET, "srem", key, coll.len);
    }
    ctx.out.int(removed);
    Ok(())
}

fn scard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    collection::reply_len(ctx, args, KeyType::Set)
}

fn sismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let found = match collection::read(ctx, key, KeyType::Set)? {
        Some(c) => ctx.store.data_get(c.uid, member)?.is_some(),
        None => false,
    };
    ctx.out.int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let coll = collection::read(ctx, args.next_bytes()?, KeyType::Set)?;
    let members = args.rest();
    ctx.out.array(members.len());
    for m in members {
        let found = match &coll {
            Some(c) => ctx.store.data_get(c.uid, m)?.is_some(),
            None => false,
        };
        ctx.out.int(found as i64);
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let Some((coll, mut cursor)) = chunked::open(ctx, key, KeyType::Set, &[], None, false)? else {
        ctx.out.set(0);
        return Ok(());
    };
    ctx.out.set(coll.len as usize);
    if coll.big {
        return chunked::send(ctx, Elements::new(cursor, 0, coll.len, emit_sub));
    }
    // An intset (at most `set-max-intset-entries` members) is put in its numeric order first.
    let mut all = Vec::with_capacity(coll.len as usize);
    while let Some((m, _)) = cursor.next()? {
        all.push(m.to_vec());
    }
    intset_order(&mut all);
    for m in &all {
        ctx.out.bulk(m);
    }
    Ok(())
}

fn smove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let member = args.next_bytes()?;
    let _g = ctx.store.locks.lock(&[src, dst]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    // A missing source answers 0 before the destination's type is looked at, as in Redis.
    let from = collection::load(&txn, db, src, KeyType::Set)?;
    let Some(mut from_coll) = from.coll else {
        ctx.out.int(0);
        return Ok(());
    };
    let to = collection::load(&txn, db, dst, KeyType::Set)?;
    let present = txn.data_get(from_coll.uid, member)?.is_some();
    if src == dst || !present {
        ctx.out.int(present as i64);
        return Ok(());
    }
    txn.data_delete(from_coll.uid, member);
    from_coll.len -= 1;
    collection::store(&mut txn, db, src, from.old.as_ref(), &from_coll);
    let mut to_coll = match to.coll {
        Some(c) => c,
        None => Collection::new(KeyType::Set, ctx.store.new_uid()?),
    };
    let added = txn.data_get(to_coll.uid, member)?.is_none();
    if added {
        txn.data_put(to_coll.uid, member, b"");
        to_coll.len += 1;
        note_added(&mut to_coll, member, max_intset(ctx));
        collection::store(&mut txn, db, dst, to.old.as_ref(), &to_coll);
    }
    txn.commit()?;
    collection::notify_change(ctx, notify::SET, "srem", src, from_coll.len);
    if added {
        notify(ctx, notify::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

/// A computed set: its members, and whether the set has (or Redis' result object would have) a hash table.
type Computed = CmdResult<(Vec<Vec<u8>>, bool)>;

/// The sets at `keys` (None for a missing key); WRONGTYPE when any of them holds another type.
fn read_all(ctx: &Ctx, keys: &[Bytes]) -> CmdResult<Vec<Option<Collection>>> {
    keys.iter().map(|k| collection::read(ctx, k, KeyType::Set)).collect()
}

/// Calls `f` with each member common to every one of `sets` (all present) until it returns false: the smallest
/// set is walked and each of its members point-read in the others. Returns whether the walked set is a hash table
/// (its members then come in byte order, where Redis' come in numeric order from an intset).
fn intersect(ctx: &Ctx, sets: &[Collection], mut f: impl FnMut(&[u8]) -> bool) -> CmdResult<bool> {
    let mut by_size: Vec<&Collection> = sets.iter().collect();
    // Stable, as Redis' qsort (glibc's merge sort): of equal sizes the first key given is walked.
    by_size.sort_by_key(|c| c.len);
    let Some((&smallest, others)) = by_size.split_first() else { return Ok(false) };
    walk(ctx, smallest, &[], |m| {
        for o in others {
            if o.uid != smallest.uid && ctx.store.data_get(o.uid, m)?.is_none() {
                return Ok(true);
            }
        }
        Ok(f(m))
    })?;
    Ok(smallest.big)
}

/// SINTER's result (empty when any key is missing), in Redis' order.
fn inter_of(ctx: &Ctx, sets: &[Option<Collection>]) -> Computed {
    let Some(sets) = sets.iter().copied().collect::<Option<Vec<Collection>>>() else {
        return Ok((Vec::new(), false));
    };
    let mut out = Vec::new();
    let big = intersect(ctx, &sets, |m| {
        out.push(m.to_vec());
        true
    })?;
    if !big {
        intset_order(&mut out);
    }
    Ok((out, big))
}

/// SUNION's result in byte order (missing keys are empty sets).
fn union_of(ctx: &Ctx, sets: &[Option<Collection>]) -> CmdResult<Vec<Vec<u8>>> {
    let mut all = BTreeSet::new();
    for c in sets.iter().flatten() {
        walk(ctx, c, &[], |m| {
            if !all.contains(m) {
                all.insert(m.to_vec());
            }
            Ok(true)
        })?;
    }
    Ok(all.into_iter().collect())
}

/// SDIFF's result in byte order: the members of the first set in none of the others. Also says whether Redis'
/// result object would be a hash table, which depends on which of its two algorithms Redis picks: the second
/// one adds the whole first set before removing the others' members, and a conversion is never undone.
fn diff_of(ctx: &Ctx, sets: &[Option<Collection>]) -> Computed {
    let Some(Some(first)) = sets.first().copied() else { return Ok((Vec::new(), false)) };
    let present: Vec<Collection> = sets.iter().flatten().copied().collect();
    let others = &present[1..];
    // Redis' choice: algorithm 1 unless (|first| × sets present) / 2 exceeds the sum of the sets' sizes.
    let one_work = (first.len as u128 * present.len() as u128) / 2;
    let two_work: u128 = present.iter().map(|c| c.len as u128).sum();
    let mut out = Vec::new();
    let mut all_int = true;
    walk(ctx, &first, &[], |m| {
        all_int &= int_member(m);
        for o in others {
            if o.uid == first.uid || ctx.store.data_get(o.uid, m)?.is_some() {
                return Ok(true);
            }
        }
        out.push(m.to_vec());
        Ok(true)
    })?;
    let big = if one_work > two_work { !(all_int && first.len <= max_intset(ctx)) } else { !fits_intset(ctx, &out) };
    Ok((out, big))
}

fn sinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    algebra::reply(ctx, args.rest(), algebra::Op::Inter)
}

fn sunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    algebra::reply(ctx, args.rest(), algebra::Op::Union)
}

fn sdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    algebra::reply(ctx, args.rest(), algebra::Op::Diff)
}

fn sintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let numkeys = parse_i64(args.next_bytes()?)
        .filter(|&n| n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    if numkeys as u64 > args.remaining() as u64 {
        return Err(CmdError::err("Number of keys can't be greater than number of args"));
    }
    let keys = &args.rest()[..numkeys as usize];
    for _ in 0..numkeys {
        args.next_bytes()?;
    }
    let mut limit = 0;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("LIMIT") {
            limit = parse_i64(args.next_bytes()?)
                .filter(|&l| l >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let _g = ctx.store.locks.lock(keys);
    let sets = read_all(ctx, keys)?;
    let limit = if limit == 0 { i64::MAX } else { limit };
    let mut n = 0;
    if let Some(sets) = sets.into_iter().collect::<Option<Vec<Collection>>>() {
        intersect(ctx, &sets, |_| {
            n += 1;
            n < limit
        })?;
    }
    ctx.out.int(n);
    Ok(())
}

/// Replaces `dest` with a new set of `members` (deleting it when there are none), whatever it held before.
/// Returns the event that announces it: `event` (the command's name), `del` for a live key deleted, or none.
fn store_set(
    ctx: &Ctx,
    txn: &mut Txn,
    dest: &[u8],
    members: &[Vec<u8>],
    big: bool,
    event: &'static str,
) -> CmdResult<Option<(u32, &'static str)>> {
    let db = ctx.db();
    let old = txn.load(db, dest)?;
    if members.is_empty() {
        let Some(old) = &old else { return Ok(None) };
        txn.delete(db, dest, old);
        return Ok(old.live().map(|_| (notify::GENERIC, "del")));
    }
    let mut coll = Collection::new(KeyType::Set, ctx.store.new_uid()?);
    coll.len = members.len() as u64;
    coll.big = big;
    for m in members {
        txn.data_put(coll.uid, m, b"");
    }
    txn.put(db, dest, old.as_ref(), coll.encode());
    Ok(Some((notify::SET, event)))
}

/// The common shape of SINTERSTORE, SUNIONSTORE and SDIFFSTORE: `op` computes the result (and whether Redis'
/// result object would be a hash table) from the source sets.
fn store_generic(
    ctx: &mut Ctx,
    args: &mut Args,
    event: &'static str,
    op: fn(&Ctx, &[Option<Collection>]) -> Computed,
) -> CmdResult {
    let dest = args.next_bytes()?;
    let keys = args.rest();
    let mut all: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    all.push(dest);
    let _g = ctx.store.locks.lock(&all);
    let sets = read_all(ctx, keys)?;
    let (members, big) = op(ctx, &sets)?;
    let mut txn = ctx.store.txn();
    let event = store_set(ctx, &mut txn, dest, &members, big, event)?;
    txn.commit()?;
    if let Some((class, name)) = event {
        notify(ctx, class, name, dest);
    }
    ctx.out.int(members.len() as i64);
    Ok(())
}

fn sinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    store_generic(ctx, args, "sinterstore", |ctx, sets| {
        let (members, _) = inter_of(ctx, sets)?;
        let big = !fits_intset(ctx, &members);
        Ok((members, big))
    })
}

fn sunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    store_generic(ctx, args, "sunionstore", |ctx, sets| {
        let members = union_of(ctx, sets)?;
        let big = !fits_intset(ctx, &members);
        Ok((members, big))
    })
}

fn sdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    store_generic(ctx, args, "sdiffstore", diff_of)
}

/// One random member (None only when the set changed under the walk).
fn random_member(ctx: &Ctx, coll: &Collection) -> CmdResult<Option<Vec<u8>>> {
    collection::random_element(ctx.store, coll.uid, coll.len, &[], None)
}

/// `count` distinct random members (`count` below the set's size), in random order.
fn sample_distinct(ctx: &Ctx, coll: &Collection, count: u64) -> CmdResult<Vec<Vec<u8>>> {
    if sparse(coll.len, count) {
        if let Some(picked) = TriePicker::elements(ctx.store, coll.uid, &[], None).distinct(count)? {
            return Ok(picked);
        }
    }
    let mut selection = Selection::new(count, coll.len);
    let mut out = Vec::new();
    walk(ctx, coll, &[], |m| {
        if selection.take() {
            out.push(m.to_vec());
        }
        Ok(!selection.done())
    })?;
    shuffle(&mut out);
    Ok(out)
}

/// `count` random members, repeats allowed (SRANDMEMBER with a negative count), in random order.
fn sample_repeated(ctx: &Ctx, coll: &Collection, count: u64) -> CmdResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    match RepeatPlan::of(coll.len, count) {
        RepeatPlan::Memory => {
            let all = members(ctx, coll)?;
            if !all.is_empty() {
                out.extend((0..count).map(|_| all[random_below(all.len() as u64) as usize].clone()));
            }
        }
        RepeatPlan::Ranked => {
            let mut ranks = Ranks::new(coll.len, count);
            walk(ctx, coll, &[], |m| {
                out.extend(std::iter::repeat_n(m, ranks.step()).map(<[u8]>::to_vec));
                Ok(!ranks.done())
            })?;
            shuffle(&mut out);
        }
        RepeatPlan::Trie => {
            let mut picker = TriePicker::elements(ctx.store, coll.uid, &[], None);
            for _ in 0..count {
                out.extend(picker.pick()?);
            }
        }
    }
    Ok(out)
}

/// The whole set as Redis returns it when a count covers it (SPOP, SRANDMEMBER): through a set built from
/// scratch, so in numeric order exactly when that set would be an intset.
fn whole_set(ctx: &Ctx, coll: &Collection) -> CmdResult<Vec<Vec<u8>>> {
    let mut all = members(ctx, coll)?;
    if coll.big && fits_intset(ctx, &all) {
        intset_order(&mut all);
    }
    Ok(all)
}

fn spop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::Syntax);
    }
    let count = match args.peek() {
        Some(c) => Some(
            parse_i64(c).filter(|&n| n >= 0).ok_or_else(|| CmdError::err("value is out of range, must be positive"))?
                as u64,
        ),
        None => None,
    };
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let loaded = collection::load(&txn, db, key, KeyType::Set)?;
    let Some(mut coll) = loaded.coll else {
        match count {
            Some(_) => ctx.out.set(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let Some(count) = count else {
        let Some(m) = random_member(ctx, &coll)? else {
            ctx.out.null();
            return Ok(());
        };
        txn.data_delete(coll.uid, &m);
        coll.len -= 1;
        collection::store(&mut txn, db, key, loaded.old.as_ref(), &coll);
        txn.commit()?;
        collection::notify_change(ctx, notify::SET, "spop", key, coll.len);
        ctx.out.bulk(&m);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    if count >= coll.len {
        let all = whole_set(ctx, &coll)?;
        if let Some(old) = &loaded.old {
            txn.delete(db, key, old);
        }
        txn.commit()?;
        collection::notify_change(ctx, notify::SET, "spop", key, 0);
        write_members(ctx.out, &all, true);
        return Ok(());
    }
    let popped = sample_distinct(ctx, &coll, count)?;
    for m in &popped {
        txn.data_delete(coll.uid, m);
    }
    let remaining = coll.len - popped.len() as u64;
    // When few members stay, Redis moves them into a new set, whose encoding starts over from them.
    if remaining.saturating_mul(5) <= count {
        let mut all_int = true;
        if coll.big {
            let gone: HashSet<&[u8]> = popped.iter().map(|m| m.as_slice()).collect();
            walk(ctx, &coll, &[], |m| {
                all_int &= gone.contains(m) || int_member(m);
                Ok(all_int)
            })?;
        }
        coll.big = !(all_int && remaining <= max_intset(ctx));
    }
    coll.len = remaining;
    collection::store(&mut txn, db, key, loaded.old.as_ref(), &coll);
    txn.commit()?;
    collection::notify_change(ctx, notify::SET, "spop", key, coll.len);
    write_members(ctx.out, &popped, true);
    Ok(())
}

fn srandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::Syntax);
    }
    if args.is_empty() {
        match collection::read(ctx, key, KeyType::Set)? {
            Some(c) => match random_member(ctx, &c)? {
                Some(m) => ctx.out.bulk(&m),
                None => ctx.out.null(),
            },
            None => ctx.out.null(),
        }
        return Ok(());
    }
    let (count, _) = collection::random_count(args, None)?;
    let Some(coll) = collection::read(ctx, key, KeyType::Set)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let picked = match count.cmp(&0) {
        Ordering::Equal => Vec::new(),
        Ordering::Less => sample_repeated(ctx, &coll, collection::repeated_picks(count)?)?,
        Ordering::Greater if count as u64 >= coll.len => whole_set(ctx, &coll)?,
        Ordering::Greater => sample_distinct(ctx, &coll, count as u64)?,
    };
    write_members(ctx.out, &picked, false);
    Ok(())
}

fn sscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = collection::scan_cursor(args)?;
    let Some(coll) = collection::read(ctx, key, KeyType::Set)? else {
        ScanPage::whole().finish(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(args, false)?;
    // Redis returns an intset whole, in its order, whatever the cursor and COUNT.
    if !coll.big {
        let mut page = ScanPage::whole();
        members(ctx, &coll)?.iter().filter(|m| opts.matches(m)).for_each(|m| page.push(m));
        page.finish(ctx);
        return Ok(());
    }
    let (mut page, from) = ScanPage::resume(ctx, Some(key), cursor, opts.count);
    walk(ctx, &coll, &from, |m| {
        if !page.examine(m) {
            return Ok(false);
        }
        if opts.matches(m) {
            page.push(m);
        }
        Ok(true)
    })?;
    page.finish(ctx);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_members_are_canonical_integers() {
        for ok in ["0", "-1", "9223372036854775807", "-9223372036854775808", "12"] {
            assert!(int_member(ok.as_bytes()), "{ok}");
        }
        for bad in ["-0", "01", "+1", " 1", "1 ", "9223372036854775808", "1.0", "", "0x10"] {
            assert!(!int_member(bad.as_bytes()), "{bad}");
        }
        let mut v: Vec<Vec<u8>> = ["10", "-3", "7", "100"].iter().map(|s| s.as_bytes().to_vec()).collect();
        intset_order(&mut v);
        assert_eq!(v, [&b"-3"[..], b"7", b"10", b"100"]);
    }

    #[test]
    fn conversion_is_one_way() {
        let mut c = Collection::new(KeyType::Set, 1);
        c.len = 2;
        note_added(&mut c, b"5", 512);
        assert!(!c.big);
        note_added(&mut c, b"x", 512);
        assert!(c.big);
        note_added(&mut c, b"6", 512);
        assert!(c.big);
        let mut c = Collection::new(KeyType::Set, 1);
        c.len = 3;
        note_added(&mut c, b"5", 2);
        assert!(c.big);
    }
}
