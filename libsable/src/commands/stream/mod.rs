//! Redis Streams (Redis 7.0): XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM and XSETID here; XREAD and XREADGROUP in
//! [`read`], the consumer group commands in [`group`], XINFO in [`info`]. IDs are in [`id`], the records in
//! [`store`]. A stream is a collection whose meta record carries the stream's counters (last ID, entries added…)
//! and whose `data` records hold entries, groups, pending entries and consumers (`docs/design/encoding.md`).
//!
//! Redis keeps entries in listpack nodes of up to `stream-node-max-entries` entries (and `stream-node-max-bytes`);
//! approximate trimming (`~`) removes whole nodes only. Each entry records the node Redis would have put it in,
//! so `~` trims exactly what Redis would.

pub mod group;
pub mod id;
pub mod info;
pub mod rdb;
pub mod read;
pub mod store;

use id::{parse_id_form, parse_strict, IdForm, StreamId, MAX_ID, MIN_ID};
use store::{entry_node, entry_sub, StreamMeta, ENTRY};

use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::storage::{Store, Txn};
use crate::util::{eq_ic, now_ms, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("xadd", xadd),
    ("xlen", xlen),
    ("xrange", xrange),
    ("xrevrange", xrevrange),
    ("xdel", xdel),
    ("xtrim", xtrim),
    ("xsetid", xsetid),
    ("xread", read::xread),
    ("xreadgroup", read::xreadgroup),
    ("xack", group::xack),
    ("xpending", group::xpending),
    ("xclaim", group::xclaim),
    ("xautoclaim", group::xautoclaim),
    ("xgroup|create", group::xgroup_create),
    ("xgroup|setid", group::xgroup_setid),
    ("xgroup|destroy", group::xgroup_destroy),
    ("xgroup|createconsumer", group::xgroup_createconsumer),
    ("xgroup|delconsumer", group::xgroup_delconsumer),
    ("xgroup|help", group::xgroup_help),
    ("xinfo|stream", info::xinfo_stream),
    ("xinfo|groups", info::xinfo_groups),
    ("xinfo|consumers", info::xinfo_consumers),
    ("xinfo|help", info::xinfo_help),
];

/// A write to the stream at `key` under its lock. `f` gets the transaction, the stream (a new empty one when the
/// key is missing and `create`) and whether it is new; it returns whether it changed the stream's record and its
/// result. The record is then written and the transaction committed. A missing key without `create` runs nothing
/// and gives None.
pub fn modify<T>(
    ctx: &Ctx,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut Txn, &mut StreamMeta, bool) -> CmdResult<(bool, T)>,
) -> CmdResult<Option<T>> {
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let loaded = store::load(&txn, db, key)?;
    let (mut meta, new) = match loaded.meta {
        Some(m) => (m, false),
        None if create => (StreamMeta::new(ctx.store.new_uid()?), true),
        None => return Ok(None),
    };
    let (changed, out) = f(&mut txn, &mut meta, new)?;
    if changed {
        txn.put(db, key, loaded.old.as_ref(), meta.encode());
    }
    txn.commit()?;
    Ok(Some(out))
}

/// How XADD and XTRIM trim.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// The trimming options of XADD and XTRIM (Redis' `streamParseAddOrTrimArgsOrReply`).
#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub strategy: Strategy,
    pub approx: bool,
    /// Most entries removed (0: no limit).
    pub limit: u64,
    pub no_mkstream: bool,
    /// XADD's ID, and whether its sequence was given.
    pub id: Option<(StreamId, bool)>,
}

/// Parses the options from the third argument on; for XADD, up to and including the ID (the cursor is left on
/// the first field). Errors in Redis' order.
fn parse_trim_args(ctx: &Ctx, args: &mut Args, xadd: bool) -> CmdResult<TrimArgs> {
    let mut t = TrimArgs { strategy: Strategy::None, approx: false, limit: 0, no_mkstream: false, id: None };
    let mut limit_given = false;
    const BOTH: &str = "syntax error, MAXLEN and MINID options at the same time are not compatible";
    while let Some(opt) = args.peek() {
        let more = args.remaining() - 1;
        if xadd && &opt[..] == b"*" {
            args.next_bytes()?;
            break;
        } else if eq_ic(opt, b"maxlen") && more > 0 {
            if t.strategy != Strategy::None {
                return Err(CmdError::err(BOTH));
            }
            args.next_bytes()?;
            t.approx = false;
            if more >= 2 && args.eat("~") {
                t.approx = true;
            } else if more >= 2 && args.eat("=") {
            }
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::err("The MAXLEN argument must be >= 0."));
            }
            t.strategy = Strategy::MaxLen(n as u64);
        } else if eq_ic(opt, b"minid") && more > 0 {
            if t.strategy != Strategy::None {
                return Err(CmdError::err(BOTH));
            }
            args.next_bytes()?;
            t.approx = false;
            if more >= 2 && args.eat("~") {
                t.approx = true;
            } else if more >= 2 && args.eat("=") {
            }
            t.strategy = Strategy::MinId(parse_strict(args.next_bytes()?)?);
        } else if eq_ic(opt, b"limit") && more > 0 {
            args.next_bytes()?;
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            t.limit = n as u64;
            limit_given = true;
        } else if xadd && eq_ic(opt, b"nomkstream") {
            args.next_bytes()?;
            t.no_mkstream = true;
        } else if xadd {
            let form = IdForm { strict: true, missing_seq: 0, seq_star: true };
            t.id = Some(parse_id_form(args.next_bytes()?, form)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if t.limit != 0 && t.strategy == Strategy::None {
        return Err(CmdError::err("syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && t.strategy == Strategy::None {
        return Err(CmdError::err("syntax error, XTRIM must be called with a trimming strategy"));
    }
    if limit_given {
        if !t.approx {
            return Err(CmdError::err("syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if t.approx {
        let per_node = ctx.server.config.read().int("stream-node-max-entries");
        let limit = per_node.saturating_mul(100);
        t.limit = if limit <= 0 { 10_000 } else { limit.min(1_000_000) as u64 };
    } else {
        t.limit = 0;
    }
    Ok(t)
}

/// Redis' node limits: `stream-node-max-entries` (0: none) and `stream-node-max-bytes` (0 or too big: 1 GiB).
fn node_limits(ctx: &Ctx) -> (u64, u64) {
    let config = ctx.server.config.read();
    let entries = config.int("stream-node-max-entries").max(0) as u64;
    let bytes = config.int("stream-node-max-bytes").max(0) as u64;
    const LP_MAX: u64 = 1 << 30;
    (entries, if bytes == 0 || bytes > LP_MAX { LP_MAX } else { bytes })
}

/// Appends an entry with ID `id` (already checked to be above the last one).
fn append(txn: &mut Txn, s: &mut StreamMeta, id: StreamId, pairs: &[bytes::Bytes], limits: (u64, u64)) {
    let elelen: u64 = pairs.iter().map(|p| p.len() as u64).sum();
    let (max_entries, max_bytes) = limits;
    let new_node =
        s.tail_count == 0 || s.tail_bytes + elelen >= max_bytes || (max_entries > 0 && s.tail_count >= max_entries);
    if new_node {
        s.tail = id;
        s.tail_count = 0;
        s.tail_live = 0;
        // The listpack header and master entry (counters, field names).
        s.tail_bytes = 16 + pairs.iter().step_by(2).map(|f| f.len() as u64 + 2).sum::<u64>();
        if s.head.is_zero() {
            s.head = id;
        }
    }
    s.tail_count += 1;
    s.tail_live += 1;
    s.tail_bytes += 8 + pairs.iter().skip(1).step_by(2).map(|v| v.len() as u64 + 2).sum::<u64>();
    txn.data_put(s.uid, &entry_sub(id), &store::encode_entry(s.tail, pairs));
    txn.data_put(s.uid, &store::node_sub(s.tail), &store::NodeRec { last: id, live: s.tail_live }.encode());
    if s.len == 0 {
        s.first = id;
    }
    s.len += 1;
    s.last = id;
    s.entries_added += 1;
}

/// Trims the stream as Redis' `streamTrim` does, node by node (the `[5]` node records, in order): whole nodes
/// first; then, unless `approx`, entries inside the first node that cannot go whole. `pending` is the entry XADD
/// just added in this transaction (committed reads do not see it, nor the tail node it may have started).
/// Returns how many entries were removed.
fn trim(store: &Store, txn: &mut Txn, s: &mut StreamMeta, t: &TrimArgs, pending: Option<StreamId>) -> CmdResult<u64> {
    match t.strategy {
        Strategy::None => return Ok(0),
        // Nothing to trim: no walk (a walk commits this thread's pending writes first).
        Strategy::MaxLen(max) if s.len <= max => return Ok(0),
        _ => {}
    }
    // When the first node stays whole and nothing inside it goes (always so with `~`), nothing is trimmed: decided
    // from its record, without a walk. (An empty first node is left to the walk, which removes it silently.)
    if let Some(head) = store::get_node(txn, s.uid, s.head)?.filter(|h| !s.head.is_zero() && h.live > 0) {
        let (whole, inside) = match t.strategy {
            Strategy::MaxLen(max) => (s.len.saturating_sub(head.live) >= max, true),
            Strategy::MinId(min) => (head.last < min, s.first < min),
            Strategy::None => (false, false),
        };
        if !whole && (t.approx || !inside) {
            return Ok(0);
        }
    }
    let tail = s.tail;
    // From the first node on (not the start of the records: removed nodes leave tombstones there).
    let mut node_cur = store.data_range(s.uid, &store::node_sub(s.head), Some(&[store::NODE + 1]), false);
    let next_node = |cur: &mut crate::storage::data::DataCursor| -> CmdResult<Option<StreamId>> {
        Ok(cur.next()?.and_then(|(k, _)| StreamId::from_bytes(&k[1..])))
    };
    let mut node = next_node(&mut node_cur)?;
    // A tail node XADD has just started is not committed yet: it comes last.
    let mut pending_node = pending.filter(|_| s.tail_count == 1).map(|_| tail);
    if node.is_none() {
        node = pending_node.take();
    }
    let mut deleted = 0u64;
    let mut last_deleted: Option<StreamId> = None;
    while let Some(this_node) = node {
        if let Strategy::MaxLen(max) = t.strategy {
            if s.len <= max {
                break;
            }
        }
        let following = match next_node(&mut node_cur)? {
            Some(n) => Some(n),
            None => pending_node.take().filter(|p| *p != this_node),
        };
        // The node's live entries: committed ones up to the next node, and XADD's own in the last node.
        let hi = match following {
            Some(n) => entry_sub(n).to_vec(),
            None => vec![ENTRY + 1],
        };
        let mut entries: Vec<StreamId> = Vec::new();
        // No live entry is below the stream's first one (deleted ones before it leave tombstones).
        let from = if s.len > 0 { this_node.max(s.first) } else { this_node };
        let mut cur = store.data_range(s.uid, &entry_sub(from), Some(&hi), false);
        while let Some((k, _)) = cur.next()? {
            entries.extend(StreamId::from_bytes(&k[1..]));
        }
        if let Some(p) = pending.filter(|p| *p >= this_node && following.is_none_or(|n| *p < n)) {
            if !entries.contains(&p) {
                entries.push(p);
            }
        }
        let live = entries.len() as u64;
        if t.limit != 0 && deleted + live > t.limit {
            break;
        }
        let remove = match t.strategy {
            Strategy::MaxLen(max) => s.len.saturating_sub(live) >= max,
            Strategy::MinId(min) => {
                // Redis compares the node's last entry, deleted or not.
                let last = txn.data_get(s.uid, &store::node_sub(this_node))?.and_then(|v| StreamId::from_bytes(&v));
                last.or(entries.last().copied()).unwrap_or(this_node) < min
            }
            Strategy::None => false,
        };
        if remove {
            for id in &entries {
                txn.data_delete(s.uid, &entry_sub(*id));
            }
            txn.data_delete(s.uid, &store::node_sub(this_node));
            // Nodes go from the first on: the next one is the first now.
            s.head = following.unwrap_or_default();
            if let Some(l) = entries.last() {
                last_deleted = Some(*l);
            }
            s.len = s.len.saturating_sub(live);
            deleted += live;
            if this_node == tail {
                // The tail node is gone: the next XADD starts a new one.
                s.tail_live = 0;
                s.tail_count = 0;
            }
            node = following;
            continue;
        }
        if t.approx {
            break;
        }
        let mut removed_here = 0;
        for id in &entries {
            let stop = match t.strategy {
                Strategy::MaxLen(max) => s.len <= max,
                Strategy::MinId(min) => *id >= min,
                Strategy::None => true,
            };
            if stop {
                break;
            }
            txn.data_delete(s.uid, &entry_sub(*id));
            last_deleted = Some(*id);
            s.len = s.len.saturating_sub(1);
            deleted += 1;
            removed_here += 1;
            if this_node == tail {
                s.tail_live = s.tail_live.saturating_sub(1);
            }
        }
        // The node keeps its deleted entries (and lives on even with none left).
        if let Some(mut rec) = store::get_node(txn, s.uid, this_node)? {
            rec.live = rec.live.saturating_sub(removed_here);
            txn.data_put(s.uid, &store::node_sub(this_node), &rec.encode());
        }
        break;
    }
    // Entries trimmed inside a node stay in it as deleted ones (even all of them): the node lives on.
    if s.len == 0 {
        s.first = MIN_ID;
    } else if let Some(after) = last_deleted {
        // Past the committed entries, the only one left is XADD's own.
        s.first = first_after(store, s.uid, after, |_| false)?.unwrap_or(s.last);
    }
    Ok(deleted)
}

/// XDEL removed an entry of `node`: one live entry less; Redis frees a node when its last live entry goes.
fn entry_removed(store: &Store, txn: &mut Txn, s: &mut StreamMeta, node: StreamId) -> CmdResult {
    let Some(mut rec) = store::get_node(txn, s.uid, node)? else { return Ok(()) };
    rec.live = rec.live.saturating_sub(1);
    if rec.live > 0 {
        txn.data_put(s.uid, &store::node_sub(node), &rec.encode());
        return Ok(());
    }
    txn.data_delete(s.uid, &store::node_sub(node));
    if node == s.tail {
        s.tail_live = 0;
        s.tail_count = 0;
    }
    if node == s.head {
        // The next node still there (committed records this transaction has not deleted).
        s.head = StreamId::default();
        let mut cur = store.data_range(s.uid, &store::node_sub(node), Some(&[store::NODE + 1]), false);
        while let Some((k, _)) = cur.next()? {
            if let Some(n) = StreamId::from_bytes(&k[1..]).filter(|n| *n > node) {
                if txn.data_get(s.uid, &store::node_sub(n))?.is_some() {
                    s.head = n;
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The first committed entry after `after` that `gone` does not exclude.
fn first_after(
    store: &Store,
    uid: u64,
    after: StreamId,
    gone: impl Fn(StreamId) -> bool,
) -> CmdResult<Option<StreamId>> {
    let Some(from) = after.incr() else { return Ok(None) };
    let mut cur = store.data_range(uid, &entry_sub(from), Some(&[ENTRY + 1]), false);
    while let Some((k, _)) = cur.next()? {
        let id = StreamId::from_bytes(&k[1..]).unwrap_or_default();
        if !gone(id) {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value …]
fn xadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let t = parse_trim_args(ctx, args, true)?;
    let pairs = args.rest();
    if pairs.len() < 2 || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    if let Some((id, true)) = t.id {
        if id.is_zero() {
            return Err(CmdError::err("The ID specified in XADD must be greater than 0-0"));
        }
    }
    let limits = node_limits(ctx);
    let db = ctx.db();
    let store = ctx.store;
    let done = modify(ctx, key, !t.no_mkstream, |txn, s, _| {
        if s.last == MAX_ID {
            return Err(CmdError::err("The stream has exhausted the last possible ID, unable to add more items"));
        }
        let smaller = || CmdError::err("The ID specified in XADD is equal or smaller than the target stream top item");
        let id = match t.id {
            Some((id, true)) => id,
            Some((id, false)) => {
                if s.last.ms == id.ms {
                    if s.last.seq == u64::MAX {
                        return Err(smaller());
                    }
                    StreamId::new(id.ms, s.last.seq + 1)
                } else {
                    id
                }
            }
            None => {
                let ms = now_ms();
                if ms > s.last.ms {
                    StreamId::new(ms, 0)
                } else {
                    s.last.incr().ok_or_else(smaller)?
                }
            }
        };
        if id <= s.last {
            return Err(smaller());
        }
        append(txn, s, id, pairs, limits);
        let trimmed = trim(store, txn, s, &t, Some(id))?;
        txn.signal_stream(db, key);
        Ok((true, (id, trimmed)))
    })?;
    let Some((id, trimmed)) = done else {
        ctx.out.null();
        return Ok(());
    };
    store::reply_id(ctx.out, id);
    notify(ctx, notify::STREAM, "xadd", key);
    if trimmed > 0 {
        notify(ctx, notify::STREAM, "xtrim", key);
    }
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let t = parse_trim_args(ctx, args, false)?;
    let store = ctx.store;
    let deleted = modify(ctx, key, false, |txn, s, _| {
        let n = trim(store, txn, s, &t, None)?;
        Ok((n > 0, n))
    })?
    .unwrap_or(0);
    if deleted > 0 {
        notify(ctx, notify::STREAM, "xtrim", key);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// XDEL key id [id …]
fn xdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    // Redis looks the key up first: a missing key answers 0 whatever the IDs.
    let exists = store::read(ctx, key)?.is_some();
    if !exists {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = args.rest().iter().map(|a| parse_strict(a)).collect::<CmdResult<Vec<_>>>()?;
    let store = ctx.store;
    let deleted = modify(ctx, key, false, |txn, s, _| {
        let mut gone: Vec<StreamId> = Vec::new();
        let mut first_entry = false;
        for id in &ids {
            let Some(v) = txn.data_get(s.uid, &entry_sub(*id))? else { continue };
            txn.data_delete(s.uid, &entry_sub(*id));
            let node = entry_node(&v);
            if node == s.tail {
                s.tail_live = s.tail_live.saturating_sub(1);
            }
            entry_removed(store, txn, s, node)?;
            s.len = s.len.saturating_sub(1);
            if *id == s.first {
                first_entry = true;
            }
            if *id > s.max_deleted {
                s.max_deleted = *id;
            }
            gone.push(*id);
        }
        if !gone.is_empty() {
            if s.len == 0 {
                s.first = MIN_ID;
            } else if first_entry {
                // The first entry left: from the deleted first one on (`first_after` starts past its argument).
                let before = s.first.decr().unwrap_or(MIN_ID);
                s.first = first_after(store, s.uid, before, |id| gone.contains(&id))?.unwrap_or(s.last);
            }
        }
        Ok((!gone.is_empty(), gone.len()))
    })?
    .unwrap_or(0);
    if deleted > 0 {
        notify(ctx, notify::STREAM, "xdel", key);
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

fn xlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let s = store::read(ctx, args.next_bytes()?)?;
    ctx.out.int(s.map_or(0, |s| s.len as i64));
    Ok(())
}

fn xrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range(ctx, args, false)
}

fn xrevrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range(ctx, args, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n].
fn range(ctx: &mut Ctx, args: &mut Args, rev: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let a = args.next_bytes()?;
    let b = args.next_bytes()?;
    let (start_arg, end_arg) = if rev { (b, a) } else { (a, b) };
    let start = id::range_start(start_arg)?;
    let end = id::range_end(end_arg)?;
    let mut count: i64 = -1;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("COUNT") {
            count = args.next_i64()?.max(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let Some(s) = store::read(ctx, key)? else {
        ctx.out.array(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.null_array();
        return Ok(());
    }
    let count = if count < 0 { 0 } else { count as usize };
    // Nothing live is below the first entry (a capped stream's front is a run of RocksDB tombstones).
    let start = if s.len > 0 { start.max(s.first) } else { start };
    let entries = store::entries(ctx.store, s.uid, start, end, count, rev)?;
    ctx.out.array(entries.len());
    for (id, v) in entries {
        store::reply_entry(ctx.out, id, &v)?;
    }
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
fn xsetid(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let id = parse_strict(args.next_bytes()?)?;
    let mut entries_added: i64 = -1;
    let mut max_deleted = MIN_ID;
    while let Some(opt) = args.peek() {
        let more = args.remaining() - 1;
        if eq_ic(opt, b"ENTRIESADDED") && more > 0 {
            args.next_bytes()?;
            entries_added = args.next_i64()?;
            if entries_added < 0 {
                return Err(CmdError::err("entries_added must be positive"));
            }
        } else if eq_ic(opt, b"MAXDELETEDID") && more > 0 {
            args.next_bytes()?;
            max_deleted = parse_strict(args.next_bytes()?)?;
            if id < max_deleted {
                return Err(CmdError::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let store = ctx.store;
    let done = modify(ctx, key, false, |_, s, _| {
        if s.len > 0 {
            let top = store::edge_id(store, s.uid, true)?.unwrap_or(s.last);
            if id < top {
                return Err(CmdError::err("The ID specified in XSETID is smaller than the target stream top item"));
            }
            if entries_added != -1 && s.len > entries_added as u64 {
                return Err(CmdError::err(
                    "The entries_added specified in XSETID is smaller than the target stream length",
                ));
            }
        }
        s.last = id;
        if entries_added != -1 {
            s.entries_added = entries_added as u64;
        }
        if !max_deleted.is_zero() {
            s.max_deleted = max_deleted;
        }
        Ok((true, ()))
    })?;
    if done.is_none() {
        return Err(CmdError::err("no such key"));
    }
    ctx.out.ok();
    notify(ctx, notify::STREAM, "xsetid", key);
    Ok(())
}

/// `parse_i64` for option values given as raw bytes.
pub fn int_arg(a: &[u8]) -> CmdResult<i64> {
    parse_i64(a).ok_or(CmdError::NotInteger)
}
