//! Lists family: LPUSH/RPUSH(X), LPOP/RPOP, LMPOP, LMOVE/RPOPLPUSH, LINDEX, LSET, LINSERT, LREM, LRANGE, LTRIM,
//! LLEN and LPOS, plus the primitives the blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) build on:
//! [`pop`], [`lmove`], [`parse_mpop`] and [`reply_mpop`].
//!
//! Layout: the `i`-th element (from the left) is the `data` record at sub key `list_sub(head + i)`, for `i` in
//! `0 .. len` of the list's [`Collection`]. Pushing on the left decrements `head`, pushing on the right writes at
//! `head + len`, so both ends are O(1) and an index is one point read. Inserting or removing in the middle
//! (LINSERT, LREM) renumbers the elements on the shorter side of the change only.

use bytes::Bytes;

use super::chunked::{self, emit_value, Elements};
use super::collection::{self, Loaded};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::storage::data::owned_range;
use crate::storage::encoding::{list_sub, Collection};
use crate::storage::{scope, KeyType, LockGuard, Store, Txn};
use crate::util::parse_i64;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("lindex", lindex),
    ("linsert", linsert),
    ("llen", llen),
    ("lmove", lmove_cmd),
    ("lmpop", lmpop),
    ("lpop", lpop),
    ("lpos", lpos),
    ("lpush", lpush),
    ("lpushx", lpushx),
    ("lrange", lrange),
    ("lrem", lrem),
    ("lset", lset),
    ("ltrim", ltrim),
    ("rpop", rpop),
    ("rpoplpush", rpoplpush),
    ("rpush", rpush),
    ("rpushx", rpushx),
];

/// Pops of up to this many elements read them one by one: a point read sees the open write scope without
/// committing it (a range walk commits it first, costing the pipeline its group commit).
const POINT_READ_POPS: u64 = 8;

/// The sub key of the `i`-th element. Indexes stay inside `head .. head + len`, which pushes keep below
/// `u64::MAX`; wrapping only matters for a corrupt record, which must not crash the server.
fn slot(coll: &Collection, i: u64) -> [u8; 8] {
    list_sub(coll.head.wrapping_add(i))
}

fn corrupt() -> CmdError {
    CmdError::Storage("corrupt list".into())
}

/// A list grows by one index per push in either direction from the middle of the u64 range, so this needs 2^63
/// pushes (or LINSERTs) to one list.
fn full() -> CmdError {
    CmdError::err("list index space exhausted")
}

/// Locks the keys of a command. One that will walk elements with a range cursor (`walk`) commits this thread's
/// write scope first: the walk would commit it anyway, which releases the stripes the scope holds, and a stripe
/// the scope already held when the command locked is not in its guard — it would be released in mid-command.
fn lock_keys<'s, K: AsRef<[u8]>>(store: &'s Store, keys: &[K], walk: bool) -> LockGuard<'s> {
    if walk {
        scope::settle();
    }
    store.locks.lock(keys)
}

/// Visits the elements at indexes `from .. from + n` with their index, first to last (last to first with
/// `reverse`), until `visit` returns false. Every walk but LRANGE's streamed reply goes through here. It reads
/// committed data, so a writer calls it before changing any element in its transaction; callers lock the key
/// with `walk`.
fn scan(
    store: &Store,
    coll: &Collection,
    from: u64,
    n: u64,
    reverse: bool,
    mut visit: impl FnMut(u64, &[u8]) -> CmdResult<bool>,
) -> CmdResult {
    if n == 0 {
        return Ok(());
    }
    let (lo, hi) = (slot(coll, from), slot(coll, from + n));
    let mut cur = store.data_range(coll.uid, &lo, Some(&hi), reverse);
    while let Some((sub, value)) = cur.next()? {
        let at = <[u8; 8]>::try_from(sub).map_err(|_| corrupt())?;
        if !visit(u64::from_be_bytes(at).wrapping_sub(coll.head), value)? {
            break;
        }
    }
    Ok(())
}

/// Adds `values` one after the other at one end (so LPUSH a b c leaves c first).
pub(super) fn push_all<V: AsRef<[u8]>>(txn: &mut Txn, coll: &mut Collection, values: &[V], left: bool) -> CmdResult {
    for v in values {
        if left {
            coll.head = coll.head.checked_sub(1).ok_or_else(full)?;
            txn.data_put(coll.uid, &slot(coll, 0), v.as_ref());
        } else {
            // The slot after the new element must be representable too (range walks end there).
            coll.len.checked_add(2).and_then(|n| coll.head.checked_add(n)).ok_or_else(full)?;
            txn.data_put(coll.uid, &slot(coll, coll.len), v.as_ref());
        }
        coll.len += 1;
    }
    Ok(())
}

/// Removes up to `count` elements from one end and returns them in the order they were popped. A list popped
/// empty keeps its element records: the caller deletes the key, and the collector reclaims them with its uid.
fn pop_from(store: &Store, txn: &mut Txn, coll: &mut Collection, left: bool, count: u64) -> CmdResult<Vec<Vec<u8>>> {
    let n = count.min(coll.len);
    let from = if left { 0 } else { coll.len - n };
    let mut popped = Vec::with_capacity(n as usize);
    if n <= POINT_READ_POPS {
        for k in 0..n {
            let i = if left { k } else { coll.len - 1 - k };
            popped.push(txn.data_get(coll.uid, &slot(coll, i))?.ok_or_else(corrupt)?);
        }
    } else {
        scan(store, coll, from, n, !left, |_, v| {
            popped.push(v.to_vec());
            Ok(true)
        })?;
        if popped.len() as u64 != n {
            return Err(corrupt());
        }
    }
    if n < coll.len {
        for i in from..from + n {
            txn.data_delete(coll.uid, &slot(coll, i));
        }
    }
    if left {
        coll.head += n;
    }
    coll.len -= n;
    Ok(popped)
}

/// Inserts `value` so that it becomes the element at index `at` (`0 ..= len`), moving the elements on the
/// shorter side of it by one slot.
fn insert_at(store: &Store, txn: &mut Txn, coll: &mut Collection, at: u64, value: &[u8]) -> CmdResult {
    let (uid, head) = (coll.uid, coll.head);
    if at < coll.len - at {
        let new_head = head.checked_sub(1).ok_or_else(full)?;
        scan(store, coll, 0, at, false, |i, v| {
            txn.data_put(uid, &list_sub(new_head + i), v);
            Ok(true)
        })?;
        coll.head = new_head;
    } else {
        coll.len.checked_add(2).and_then(|n| head.checked_add(n)).ok_or_else(full)?;
        scan(store, coll, at, coll.len - at, false, |i, v| {
            txn.data_put(uid, &list_sub(head + i + 1), v);
            Ok(true)
        })?;
    }
    txn.data_put(uid, &slot(coll, at), value);
    coll.len += 1;
    Ok(())
}

/// Removes the elements at `gone` (ascending, not empty), closing the gaps from the shorter side: either the
/// elements after the first removed one move towards the head, or those before the last one towards the tail.
fn remove_at(store: &Store, txn: &mut Txn, coll: &mut Collection, gone: &[u64]) -> CmdResult {
    let (Some(&first), Some(&last)) = (gone.first(), gone.last()) else { return Ok(()) };
    let (uid, head, len, k) = (coll.uid, coll.head, coll.len, gone.len() as u64);
    if k < len {
        if len - first <= last + 1 {
            let (mut next_gone, mut to) = (0, first);
            scan(store, coll, first, len - first, false, |i, v| {
                if gone.get(next_gone) == Some(&i) {
                    next_gone += 1;
                } else {
                    if to != i {
                        txn.data_put(uid, &list_sub(head + to), v);
                    }
                    to += 1;
                }
                Ok(true)
            })?;
            for i in len - k..len {
                txn.data_delete(uid, &slot(coll, i));
            }
        } else {
            let (mut left_gone, mut to) = (gone.len(), last);
            scan(store, coll, 0, last + 1, true, |i, v| {
                if left_gone > 0 && gone[left_gone - 1] == i {
                    left_gone -= 1;
                } else {
                    if to != i {
                        txn.data_put(uid, &list_sub(head + to), v);
                    }
                    // Ends at k - 1 after the last element kept, so never below 0.
                    to -= 1;
                }
                Ok(true)
            })?;
            for i in 0..k {
                txn.data_delete(uid, &slot(coll, i));
            }
            coll.head += k;
        }
    }
    coll.len -= k;
    Ok(())
}

/// Redis' LRANGE/LTRIM index rules over a list of `len` elements: negative indexes count from the end, the start
/// is clamped to 0 and the end to the last element. Returns the first index and the number of elements, or None
/// for an empty range.
fn list_range(len: u64, start: i64, end: i64) -> Option<(u64, u64)> {
    let len = len as i64;
    let start = if start < 0 { (len + start).max(0) } else { start };
    let end = if end < 0 { len + end } else { end.min(len - 1) };
    (start <= end && start < len).then(|| (start as u64, (end - start + 1) as u64))
}

/// Index `index` (negative: from the end) of a list of `len` elements, if it is inside it.
fn list_index(len: u64, index: i64) -> Option<u64> {
    let i = if index < 0 { index.checked_add(len as i64)? } else { index };
    (0..len as i64).contains(&i).then_some(i as u64)
}

/// LEFT or RIGHT (true for LEFT).
fn side(word: &[u8]) -> CmdResult<bool> {
    if word.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if word.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// A count Redis parses with `getPositiveLongFromObjectOrReply`: anything but an integer >= 0 gets `msg`.
fn non_negative(raw: &[u8], msg: &str) -> CmdResult<i64> {
    parse_i64(raw).filter(|n| *n >= 0).ok_or_else(|| CmdError::err(msg))
}

// ---- primitives shared with the blocking commands ----

/// Pops up to `count` elements from the left or right end of the list at `key` (locking it), in pop order. None
/// when the key is missing; WRONGTYPE as an error. A `count` of 0 pops nothing from an existing list.
pub fn pop(ctx: &mut Ctx, key: &[u8], left: bool, count: usize) -> CmdResult<Option<Vec<Vec<u8>>>> {
    let _g = lock_keys(ctx.store, &[key], count as u64 > POINT_READ_POPS);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::List)?;
    let Some(mut coll) = coll else { return Ok(None) };
    let popped = pop_from(ctx.store, &mut txn, &mut coll, left, count as u64)?;
    if !popped.is_empty() {
        collection::store(&mut txn, db, key, old.as_ref(), &coll);
        txn.commit()?;
        notify_popped(ctx, key, left, &coll);
    }
    Ok(Some(popped))
}

/// The events of a pop from `key` (Redis publishes one for any number of elements), and `del` if it emptied it.
fn notify_popped(ctx: &Ctx, key: &[u8], left: bool, coll: &Collection) {
    collection::notify_change(ctx, notify::LIST, if left { "lpop" } else { "rpop" }, key, coll.len);
}

/// The event of a push to `key`.
fn notify_pushed(ctx: &Ctx, key: &[u8], left: bool) {
    notify(ctx, notify::LIST, if left { "lpush" } else { "rpush" }, key);
}

/// Moves one element from an end of `src` to an end of `dst` (LMOVE, RPOPLPUSH, and their blocking forms),
/// locking both. None when `src` is missing (whatever `dst` holds); WRONGTYPE when either holds another type.
pub fn lmove(ctx: &mut Ctx, src: &[u8], dst: &[u8], src_left: bool, dst_left: bool) -> CmdResult<Option<Vec<u8>>> {
    let _g = ctx.store.locks.lock(&[src, dst]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let from = collection::load(&txn, db, src, KeyType::List)?;
    let Some(mut src_coll) = from.coll else { return Ok(None) };
    if src == dst {
        let value = if src_left == dst_left || src_coll.len == 1 {
            // Popped and pushed back where it was: the list does not change (Redis still announces both).
            let i = if src_left { 0 } else { src_coll.len - 1 };
            txn.data_get(src_coll.uid, &slot(&src_coll, i))?.ok_or_else(corrupt)?
        } else {
            let value = pop_from(ctx.store, &mut txn, &mut src_coll, src_left, 1)?.pop().ok_or_else(corrupt)?;
            push_all(&mut txn, &mut src_coll, &[&value], dst_left)?;
            collection::store(&mut txn, db, src, from.old.as_ref(), &src_coll);
            txn.commit()?;
            value
        };
        notify_pushed(ctx, dst, dst_left);
        notify_popped(ctx, src, src_left, &src_coll);
        return Ok(Some(value));
    }
    let (to, mut dst_coll) = collection::load_or_new(ctx, &txn, db, dst, KeyType::List)?;
    let value = pop_from(ctx.store, &mut txn, &mut src_coll, src_left, 1)?.pop().ok_or_else(corrupt)?;
    push_all(&mut txn, &mut dst_coll, &[&value], dst_left)?;
    collection::store(&mut txn, db, src, from.old.as_ref(), &src_coll);
    collection::store(&mut txn, db, dst, to.old.as_ref(), &dst_coll);
    txn.commit()?;
    // Redis pushes to the destination (creating it) before it announces the pop.
    notify_pushed(ctx, dst, dst_left);
    notify_popped(ctx, src, src_left, &src_coll);
    Ok(Some(value))
}

/// LMPOP's arguments from `numkeys` on; BLMPOP has the same ones after its timeout.
#[derive(Debug, PartialEq)]
pub struct Mpop<'a> {
    pub keys: &'a [Bytes],
    /// Pop from the left (LEFT) or the right (RIGHT).
    pub left: bool,
    /// COUNT, 1 when absent.
    pub count: usize,
}

/// Parses `numkeys key [key …] LEFT|RIGHT [COUNT count]` (see `collection::parse_mpop`; a blocking form checks
/// its timeout after this).
pub fn parse_mpop<'a>(args: &mut Args<'a>) -> CmdResult<Mpop<'a>> {
    let (keys, left, count) = collection::parse_mpop(args, ["LEFT", "RIGHT"])?;
    Ok(Mpop { keys, left, count })
}

/// The reply of LMPOP and BLMPOP: `[key, [element …]]`.
pub fn reply_mpop(out: &mut Reply, key: &[u8], elements: &[Vec<u8>]) {
    out.array(2);
    out.bulk(key);
    out.array(elements.len());
    for e in elements {
        out.bulk(e);
    }
}

// ---- commands ----

fn lpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_cmd(ctx, args, true, false)
}

fn rpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_cmd(ctx, args, false, false)
}

fn lpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_cmd(ctx, args, true, true)
}

fn rpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_cmd(ctx, args, false, true)
}

/// LPUSH, RPUSH, and with `existing_only` LPUSHX and RPUSHX (which reply 0 for a missing key).
fn push_cmd(ctx: &mut Ctx, args: &mut Args, left: bool, existing_only: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let values = args.rest();
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let (loaded, mut coll) = if existing_only {
        let loaded = collection::load(&txn, db, key, KeyType::List)?;
        match loaded.coll {
            Some(c) => (loaded, c),
            None => {
                ctx.out.int(0);
                return Ok(());
            }
        }
    } else {
        collection::load_or_new(ctx, &txn, db, key, KeyType::List)?
    };
    push_all(&mut txn, &mut coll, values, left)?;
    collection::store(&mut txn, db, key, loaded.old.as_ref(), &coll);
    txn.commit()?;
    notify_pushed(ctx, key, left);
    ctx.out.int(coll.len as i64);
    Ok(())
}

fn lpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_cmd(ctx, args, true)
}

fn rpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_cmd(ctx, args, false)
}

/// LPOP and RPOP: one element (a bulk string, nil when missing), or with a count an array (a nil array when
/// missing, empty for a count of 0).
fn pop_cmd(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::WrongArity(ctx.cmd.name.clone()));
    }
    let count = match args.peek() {
        Some(raw) => Some(non_negative(raw, "value is out of range, must be positive")? as usize),
        None => None,
    };
    let popped = pop(ctx, key, left, count.unwrap_or(1))?;
    match (popped, count) {
        (None, Some(_)) => ctx.out.null_array(),
        (None, None) => ctx.out.null(),
        (Some(elements), Some(_)) => {
            ctx.out.array(elements.len());
            for e in &elements {
                ctx.out.bulk(e);
            }
        }
        (Some(elements), None) => ctx.out.opt_bulk(elements.first().map(|e| e.as_slice())),
    }
    Ok(())
}

fn lmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let m = parse_mpop(args)?;
    let _g = lock_keys(ctx.store, m.keys, m.count as u64 > POINT_READ_POPS);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    for key in m.keys {
        let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::List)?;
        let Some(mut coll) = coll else { continue };
        let popped = pop_from(ctx.store, &mut txn, &mut coll, m.left, m.count as u64)?;
        collection::store(&mut txn, db, key, old.as_ref(), &coll);
        txn.commit()?;
        notify_popped(ctx, key, m.left, &coll);
        reply_mpop(ctx.out, key, &popped);
        return Ok(());
    }
    ctx.out.null_array();
    Ok(())
}

fn lmove_cmd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let src_left = side(args.next_bytes()?)?;
    let dst_left = side(args.next_bytes()?)?;
    let moved = lmove(ctx, src, dst, src_left, dst_left)?;
    ctx.out.opt_bulk(moved.as_deref());
    Ok(())
}

fn rpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let moved = lmove(ctx, src, dst, false, true)?;
    ctx.out.opt_bulk(moved.as_deref());
    Ok(())
}

fn llen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    collection::reply_len(ctx, args, KeyType::List)
}

fn lindex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    // Locked so that no write lands between reading the list's record and its element.
    let _g = lock_keys(ctx.store, &[key], false);
    let Some(coll) = collection::read(ctx, key, KeyType::List)? else {
        ctx.out.null();
        return Ok(());
    };
    let index = args.next_i64()?;
    let value = match list_index(coll.len, index) {
        Some(i) => ctx.store.data_get(coll.uid, &slot(&coll, i))?,
        None => None,
    };
    ctx.out.opt_bulk(value.as_deref());
    Ok(())
}

fn lrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    // As `chunked::open`, but the cursor's bounds depend on the list's head: the record is read and the cursor
    // opened under the key's lock, so the count in the header is what the cursor's snapshot holds.
    let guard = lock_keys(ctx.store, &[key], true);
    let coll = collection::read(ctx, key, KeyType::List)?;
    let Some((coll, (from, n))) = coll.and_then(|c| Some((c, list_range(c.len, start, end)?))) else {
        ctx.out.array(0);
        return Ok(());
    };
    let (lo, hi) = (slot(&coll, from), slot(&coll, from + n));
    let cursor = owned_range(&ctx.server.store, coll.uid, &lo, Some(&hi), false);
    drop(guard);
    ctx.out.array(n as usize);
    chunked::send(ctx, Elements::new(cursor, 0, n, emit_value))
}

fn lset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Some(coll) = collection::load(&txn, db, key, KeyType::List)?.coll else {
        return Err(CmdError::err("no such key"));
    };
    let index = args.next_i64()?;
    let value = args.next_bytes()?;
    let i = list_index(coll.len, index).ok_or_else(|| CmdError::err("index out of range"))?;
    txn.data_put(coll.uid, &slot(&coll, i), value);
    txn.commit()?;
    notify(ctx, notify::LIST, "lset", key);
    ctx.out.ok();
    Ok(())
}

fn linsert(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let where_ = args.next_bytes()?;
    let after = if where_.eq_ignore_ascii_case(b"after") {
        true
    } else if where_.eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let pivot = args.next_bytes()?;
    let value = args.next_bytes()?;
    let _g = lock_keys(ctx.store, &[key], true);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::List)?;
    let Some(mut coll) = coll else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut found = None;
    scan(ctx.store, &coll, 0, coll.len, false, |i, v| {
        if v == &pivot[..] {
            found = Some(i);
        }
        Ok(found.is_none())
    })?;
    let Some(p) = found else {
        ctx.out.int(-1);
        return Ok(());
    };
    insert_at(ctx.store, &mut txn, &mut coll, p + after as u64, value)?;
    collection::store(&mut txn, db, key, old.as_ref(), &coll);
    txn.commit()?;
    notify(ctx, notify::LIST, "linsert", key);
    ctx.out.int(coll.len as i64);
    Ok(())
}

fn lrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let value = args.next_bytes()?;
    let _g = lock_keys(ctx.store, &[key], true);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::List)?;
    let Some(mut coll) = coll else {
        ctx.out.int(0);
        return Ok(());
    };
    // A negative count removes from the tail; 0 removes every match.
    let limit = if count == 0 { u64::MAX } else { count.unsigned_abs() };
    let mut gone = Vec::new();
    scan(ctx.store, &coll, 0, coll.len, count < 0, |i, v| {
        if v == &value[..] {
            gone.push(i);
        }
        Ok((gone.len() as u64) < limit)
    })?;
    if count < 0 {
        gone.reverse();
    }
    if !gone.is_empty() {
        remove_at(ctx.store, &mut txn, &mut coll, &gone)?;
        collection::store(&mut txn, db, key, old.as_ref(), &coll);
        txn.commit()?;
        collection::notify_change(ctx, notify::LIST, "lrem", key, coll.len);
    }
    ctx.out.int(gone.len() as i64);
    Ok(())
}

fn ltrim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let _g = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Loaded { old, coll } = collection::load(&txn, db, key, KeyType::List)?;
    if let Some(mut coll) = coll {
        let (from, n) = list_range(coll.len, start, end).unwrap_or((0, 0));
        if n < coll.len {
            if n > 0 {
                // Emptied lists are deleted whole (see `collection::store`); otherwise the cut elements go here.
                for i in (0..from).chain(from + n..coll.len) {
                    txn.data_delete(coll.uid, &slot(&coll, i));
                }
            }
            coll.head += from;
            coll.len = n;
            collection::store(&mut txn, db, key, old.as_ref(), &coll);
            txn.commit()?;
        }
        // Redis announces a trim of an existing list even when it keeps everything.
        collection::notify_change(ctx, notify::LIST, "ltrim", key, coll.len);
    }
    ctx.out.ok();
    Ok(())
}

/// LPOS' matching rule with Redis 7.0's arithmetic, including its wrapping for `RANK -9223372036854775808`, which
/// it accepts as "from the tail", reports from the first match and never stops at COUNT.
struct PosSearch {
    /// The absolute rank: matches before the `rank`-th are skipped.
    rank: i64,
    /// COUNT (0: all matches); None when the option was not given (reply with one index, not an array).
    count: Option<i64>,
    matches: i64,
    found: Vec<u64>,
}

impl PosSearch {
    /// Records a match at `index`; false when the search is complete.
    fn matched(&mut self, index: u64) -> bool {
        self.matches += 1;
        if self.matches < self.rank {
            return true;
        }
        self.found.push(index);
        match self.count {
            None => false,
            Some(c) => c == 0 || self.matches.wrapping_sub(self.rank).wrapping_add(1) < c,
        }
    }
}

const RANK_ZERO: &str = "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                         negative to start from the end of the list";

fn lpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let element = args.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0i64);
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("RANK") {
            rank = args.next_i64()?;
            if rank == 0 {
                return Err(CmdError::err(RANK_ZERO));
            }
        } else if args.remaining() >= 2 && args.eat("COUNT") {
            count = Some(non_negative(args.next_bytes()?, "COUNT can't be negative")?);
        } else if args.remaining() >= 2 && args.eat("MAXLEN") {
            maxlen = non_negative(args.next_bytes()?, "MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Locked so that the walk sees the elements the list's record describes.
    let _g = lock_keys(ctx.store, &[key], true);
    let Some(coll) = collection::read(ctx, key, KeyType::List)? else {
        match count {
            Some(_) => ctx.out.array(0),
            None => ctx.out.null(),
        }
        return Ok(());
    };
    let reverse = rank < 0;
    let mut search = PosSearch { rank: rank.wrapping_abs(), count, matches: 0, found: Vec::new() };
    let n = if maxlen == 0 { coll.len } else { coll.len.min(maxlen as u64) };
    let from = if reverse { coll.len - n } else { 0 };
    scan(ctx.store, &coll, from, n, reverse, |i, v| Ok(v != &element[..] || search.matched(i)))?;
    match count {
        Some(_) => {
            ctx.out.array(search.found.len());
            for &i in &search.found {
                ctx.out.int(i as i64);
            }
        }
        None => match search.found.first() {
            Some(&i) => ctx.out.int(i as i64),
            None => ctx.out.null(),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::encoding::LIST_ORIGIN;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(list_range(6, 0, -1), Some((0, 6)));
        assert_eq!(list_range(6, -100, 100), Some((0, 6)));
        assert_eq!(list_range(6, 2, 3), Some((2, 2)));
        assert_eq!(list_range(6, -2, -1), Some((4, 2)));
        assert_eq!(list_range(6, 3, 1), None);
        assert_eq!(list_range(6, 6, 10), None);
        // Unlike GETRANGE, an end before the start of the list is not clamped to 0.
        assert_eq!(list_range(3, 0, -5), None);
        assert_eq!(list_range(3, i64::MIN, i64::MAX), Some((0, 3)));
        assert_eq!(list_range(3, i64::MAX, i64::MIN), None);
        assert_eq!(list_range(0, 0, -1), None);
        assert_eq!(list_index(3, -1), Some(2));
        assert_eq!(list_index(3, -4), None);
        assert_eq!(list_index(3, 3), None);
        assert_eq!(list_index(3, i64::MIN), None);
    }

    #[test]
    fn lpos_counts_like_redis() {
        let run = |rank: i64, count: Option<i64>, matches: &[u64]| {
            let mut s = PosSearch { rank, count, matches: 0, found: Vec::new() };
            for &m in matches {
                if !s.matched(m) {
                    break;
                }
            }
            s.found
        };
        assert_eq!(run(1, None, &[3, 5]), vec![3]);
        assert_eq!(run(2, None, &[3, 5, 7]), vec![5]);
        assert_eq!(run(2, Some(0), &[3, 5, 7]), vec![5, 7]);
        assert_eq!(run(1, Some(2), &[3, 5, 7]), vec![3, 5]);
        assert_eq!(run(4, Some(1), &[3, 5, 7]), Vec::<u64>::new());
        // RANK -2^63: |rank| wraps to itself; every match is reported whatever COUNT says.
        assert_eq!(run(i64::MIN.wrapping_abs(), Some(1), &[5, 3, 0]), vec![5, 3, 0]);
        assert_eq!(run(i64::MIN.wrapping_abs(), None, &[5, 3, 0]), vec![5]);
    }

    #[test]
    fn mpop_arguments() {
        let argv = crate::commands::test_argv;
        let parse = |v: &[&str]| {
            let a = argv(v);
            let mut args = Args::new(&a, 1);
            parse_mpop(&mut args).map(|m| (m.keys.len(), m.left, m.count))
        };
        assert_eq!(parse(&["lmpop", "2", "a", "b", "left"]), Ok((2, true, 1)));
        assert_eq!(parse(&["lmpop", "1", "a", "RIGHT", "count", "5"]), Ok((1, false, 5)));
        let numkeys = Err(CmdError::err("numkeys should be greater than 0"));
        assert_eq!(parse(&["lmpop", "0", "a", "left"]), numkeys);
        assert_eq!(parse(&["lmpop", "x", "a", "left"]), numkeys);
        assert_eq!(parse(&["lmpop", "2", "a", "left"]), Err(CmdError::Syntax));
        assert_eq!(parse(&["lmpop", "9223372036854775807", "a", "left"]), Err(CmdError::Syntax));
        assert_eq!(parse(&["lmpop", "1", "a", "up"]), Err(CmdError::Syntax));
        assert_eq!(parse(&["lmpop", "1", "a", "left", "count"]), Err(CmdError::Syntax));
        assert_eq!(parse(&["lmpop", "1", "a", "left", "count", "1", "count", "2"]), Err(CmdError::Syntax));
        let count = Err(CmdError::err("count should be greater than 0"));
        assert_eq!(parse(&["lmpop", "1", "a", "left", "count", "0"]), count);
        assert_eq!(parse(&["lmpop", "1", "a", "left", "count", "-1"]), count);
    }

    /// The list's elements as stored, checking that nothing is left outside `head .. head + len`.
    fn contents(store: &Store, coll: &Collection) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        scan(store, coll, 0, coll.len, false, |_, v| {
            all.push(v.to_vec());
            Ok(true)
        })
        .unwrap();
        assert_eq!(store.data_records(coll.uid).unwrap(), all.len());
        all
    }

    /// A list of `n` elements `"0"`, `"1"`… starting at an arbitrary head.
    fn build(store: &Store, uid: u64, n: u64) -> (Collection, Vec<Vec<u8>>) {
        let mut coll = Collection::new(KeyType::List, uid);
        coll.head = LIST_ORIGIN - 3;
        let model: Vec<Vec<u8>> = (0..n).map(|i| i.to_string().into_bytes()).collect();
        let mut txn = store.txn();
        push_all(&mut txn, &mut coll, &model, false).unwrap();
        txn.commit().unwrap();
        (coll, model)
    }

    #[test]
    fn insert_and_remove_shift_the_shorter_side() {
        let dir = tempfile::tempdir().unwrap();
        let store = collection::test_store(dir.path());
        let mut uid = 1;
        for n in 1..7u64 {
            for at in 0..=n {
                uid += 1;
                let (mut coll, mut model) = build(&store, uid, n);
                let mut txn = store.txn();
                insert_at(&store, &mut txn, &mut coll, at, b"new").unwrap();
                txn.commit().unwrap();
                model.insert(at as usize, b"new".to_vec());
                assert_eq!(contents(&store, &coll), model, "insert at {at} of {n}");
            }
            // Every subset of positions to remove.
            for mask in 1..(1u32 << n) {
                uid += 1;
                let (mut coll, model) = build(&store, uid, n);
                let gone: Vec<u64> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
                let mut txn = store.txn();
                remove_at(&store, &mut txn, &mut coll, &gone).unwrap();
                txn.commit().unwrap();
                let expect: Vec<Vec<u8>> =
                    model.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) == 0).map(|(_, v)| v).collect();
                assert_eq!(coll.len, expect.len() as u64);
                if coll.len > 0 {
                    assert_eq!(contents(&store, &coll), expect, "remove {gone:?} of {n}");
                }
            }
        }
    }

    #[test]
    fn pops_from_both_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = collection::test_store(dir.path());
        for (uid, count) in [(1, 3), (2, 20)] {
            let (mut coll, model) = build(&store, uid, 30);
            let mut txn = store.txn();
            let left = pop_from(&store, &mut txn, &mut coll, true, count).unwrap();
            let right = pop_from(&store, &mut txn, &mut coll, false, 2).unwrap();
            txn.commit().unwrap();
            assert_eq!(left, model[..count as usize].to_vec());
            assert_eq!(right, vec![model[29].clone(), model[28].clone()]);
            assert_eq!(contents(&store, &coll), model[count as usize..28].to_vec());
        }
    }
}
