//! XREAD and XREADGROUP (Redis' `xreadCommand`): parsing in Redis' order, serving each stream that has something
//! for the caller, and blocking (`BLOCK ms`) through the same mechanism as BLPOP (`crate::blocking`): a blocked
//! client is woken by every XADD to one of its streams (and by XGROUP DESTROY or the stream's deletion) and runs
//! the command again, with the IDs it resolved when it first ran (`$` stays the last ID of that moment).

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::id::{parse_strict, StreamId, MAX_ID};
use super::store::{self, Group, Nack, StreamMeta, INVALID_READ};
use crate::client::{Block, Unserved};
use crate::commands::{CmdError, CmdResult, Ctx};
use crate::notify::{self, notify};
use crate::storage::Txn;
use crate::util::{eq_ic, now_ms, parse_i64};

/// Entries a blocked read without COUNT gets when woken (Redis' `XREAD_BLOCKED_DEFAULT_COUNT`).
const BLOCKED_DEFAULT_COUNT: usize = 1000;

struct Request<'a> {
    count: usize,
    /// None: no BLOCK; Some(None): block forever.
    block: Option<Option<Instant>>,
    keys: &'a [Bytes],
    ids: &'a [Bytes],
    group: Option<(&'a Bytes, &'a Bytes)>,
    noack: bool,
}

fn parse<'a>(argv: &'a [Bytes], readgroup: bool) -> CmdResult<Request<'a>> {
    let mut r = Request { count: 0, block: None, keys: &[], ids: &[], group: None, noack: false };
    let mut streams_at = None;
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = &argv[i];
        if eq_ic(o, b"BLOCK") && more > 0 {
            i += 1;
            let ms = parse_i64(&argv[i]).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(CmdError::err("timeout is negative"));
            }
            let now = now_ms() as i64;
            if ms > 0 && ms > i64::MAX - now {
                return Err(CmdError::err("timeout is out of range"));
            }
            r.block = Some(if ms == 0 { None } else { Instant::now().checked_add(Duration::from_millis(ms as u64)) });
        } else if eq_ic(o, b"COUNT") && more > 0 {
            i += 1;
            let n = parse_i64(&argv[i]).ok_or(CmdError::NotInteger)?;
            r.count = n.max(0) as usize;
        } else if eq_ic(o, b"STREAMS") && more > 0 {
            let rest = &argv[i + 1..];
            if !rest.len().is_multiple_of(2) {
                return Err(CmdError::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            streams_at = Some(i + 1);
            r.keys = &rest[..rest.len() / 2];
            r.ids = &rest[rest.len() / 2..];
            break;
        } else if eq_ic(o, b"GROUP") && more >= 2 {
            if !readgroup {
                return Err(CmdError::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.group = Some((&argv[i + 1], &argv[i + 2]));
            i += 2;
        } else if eq_ic(o, b"NOACK") {
            if !readgroup {
                return Err(CmdError::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            r.noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_at.is_none() {
        return Err(CmdError::Syntax);
    }
    if readgroup && r.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

pub fn xread(ctx: &mut Ctx, args: &mut crate::commands::Args) -> CmdResult {
    read(ctx, args.argv(), false)
}

pub fn xreadgroup(ctx: &mut Ctx, args: &mut crate::commands::Args) -> CmdResult {
    read(ctx, args.argv(), true)
}

/// Entries given to a reader: (ID, value), no value for a pending entry deleted from the stream.
type Entries = Vec<(StreamId, Option<Vec<u8>>)>;

/// What one stream gives a reader.
type Served = (Bytes, Entries);

fn read(ctx: &mut Ctx, argv: &[Bytes], readgroup: bool) -> CmdResult {
    let r = parse(argv, readgroup)?;
    if r.block.is_some() && ctx.client.in_script {
        return Err(CmdError::err(format!(
            "{} command is not allowed with BLOCK option from scripts",
            String::from_utf8_lossy(&argv[0])
        )));
    }
    let woken = ctx.client.woken;
    if woken && readgroup {
        // Redis tells a blocked consumer that its stream or group went away.
        if let Some((group, _)) = r.group {
            for key in r.keys {
                let s = match store::read(ctx, key) {
                    Ok(Some(s)) => s,
                    Ok(None) | Err(CmdError::WrongType) => {
                        return Err(CmdError::Raw("UNBLOCKED the stream key no longer exists".into()))
                    }
                    Err(e) => return Err(e),
                };
                if store::read_group(ctx.store, s.uid, group)?.is_none() {
                    return Err(CmdError::Raw(
                        "NOGROUP the consumer group this client was blocked on no longer exists".into(),
                    ));
                }
            }
        }
    }
    // Resolve every stream's ID (and group), with Redis' errors in its order.
    let mut from: Vec<StreamId> = Vec::with_capacity(r.keys.len());
    let mut metas: Vec<Option<StreamMeta>> = Vec::with_capacity(r.keys.len());
    for (key, id_arg) in r.keys.iter().zip(r.ids) {
        let s = match store::read(ctx, key) {
            Err(CmdError::WrongType) if woken => None,
            other => other?,
        };
        if let Some((group, _)) = r.group {
            let found = match &s {
                Some(s) => store::read_group(ctx.store, s.uid, group)?,
                None => None,
            };
            if found.is_none() {
                return Err(CmdError::Raw(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    crate::util::arg_text(key),
                    crate::util::arg_text(group)
                )));
            }
        }
        let id = if &id_arg[..] == b"$" {
            if readgroup {
                return Err(CmdError::err(
                    "The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this \
                     consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just \
                     return an empty result set.",
                ));
            }
            s.as_ref().map_or(StreamId::default(), |s| s.last)
        } else if &id_arg[..] == b">" {
            if !readgroup {
                return Err(CmdError::err(
                    "The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> \
                     option.",
                ));
            }
            MAX_ID
        } else {
            parse_strict(id_arg)?
        };
        from.push(id);
        metas.push(s);
    }
    // A blocked XREAD keeps the IDs it resolved when it first ran.
    if woken && !readgroup {
        if let Some(saved) = &ctx.client.xread_from {
            if saved.len() == from.len() {
                from = saved.iter().map(|&(ms, seq)| StreamId::new(ms, seq)).collect();
            }
        }
    }
    let count = if woken && r.count == 0 { BLOCKED_DEFAULT_COUNT } else { r.count };
    let mut served: Vec<Served> = Vec::new();
    for (i, key) in r.keys.iter().enumerate() {
        let Some(s) = &metas[i] else { continue };
        let got = match r.group {
            None => serve_plain(ctx, s, from[i], count)?,
            Some((group, consumer)) => serve_group(ctx, key, group, consumer, from[i], count, r.noack)?,
        };
        if let Some(entries) = got {
            served.push((key.clone(), entries));
            // A woken client is served one stream, as Redis serves the stream that became ready.
            if woken {
                break;
            }
        }
    }
    if !served.is_empty() {
        ctx.client.xread_from = None;
        write_served(ctx, &served);
        return Ok(());
    }
    match r.block {
        Some(deadline) if !ctx.client.in_exec => {
            ctx.client.xread_from = Some(from.iter().map(|id| (id.ms, id.seq)).collect());
            let keys = r.keys.iter().map(|k| k.to_vec()).collect();
            ctx.client.block = Some(Block { db: ctx.db(), keys, deadline, unserved: Unserved::NullArray });
        }
        _ => {
            ctx.client.xread_from = None;
            ctx.out.null_array();
        }
    }
    Ok(())
}

fn write_served(ctx: &mut Ctx, served: &[Served]) {
    let resp3 = ctx.out.resp3;
    if resp3 {
        ctx.out.map(served.len());
    } else {
        ctx.out.array(served.len());
    }
    for (key, entries) in served {
        if !resp3 {
            ctx.out.array(2);
        }
        ctx.out.bulk(key);
        ctx.out.array(entries.len());
        for (id, v) in entries {
            match v {
                Some(v) => {
                    if store::reply_entry(ctx.out, *id, v).is_err() {
                        ctx.out.array(2);
                        store::reply_id(ctx.out, *id);
                        ctx.out.null_array();
                    }
                }
                None => {
                    ctx.out.array(2);
                    store::reply_id(ctx.out, *id);
                    ctx.out.null_array();
                }
            }
        }
    }
}

/// XREAD of one stream: its entries after `gt`, if it has any.
fn serve_plain(ctx: &Ctx, s: &StreamMeta, gt: StreamId, count: usize) -> CmdResult<Option<Entries>> {
    if s.len == 0 || gt >= s.last {
        return Ok(None);
    }
    let Some(start) = gt.incr() else { return Ok(None) };
    let got = store::entries(ctx.store, s.uid, start.max(s.first), MAX_ID, count, false)?;
    if got.is_empty() {
        return Ok(None);
    }
    Ok(Some(got.into_iter().map(|(id, v)| (id, Some(v))).collect()))
}

/// XREADGROUP of one stream, under its lock: the consumer's history after `gt` (any ID but `>`), or new entries
/// (`>`, given as [`MAX_ID`]) which join the group's and the consumer's PEL unless `noack`.
fn serve_group(
    ctx: &Ctx,
    key: &[u8],
    group: &[u8],
    consumer: &[u8],
    gt: StreamId,
    count: usize,
    noack: bool,
) -> CmdResult<Option<Entries>> {
    let store = ctx.store;
    let now = now_ms();
    let history = gt != MAX_ID;
    let out = super::modify(ctx, key, false, |txn, s, _| {
        let Some(mut g) = store::get_group(txn, s.uid, group)? else { return Ok((false, (None, false))) };
        if !history {
            if s.len == 0 {
                return Ok((false, (None, false)));
            }
            let top = store::edge_id(store, s.uid, true)?;
            if top.is_none_or(|top| top <= g.last) {
                return Ok((false, (None, false)));
            }
        }
        let created = touch_consumer(txn, s.uid, group, consumer, now)?;
        let mut got = Vec::new();
        if history {
            let start = gt.incr().unwrap_or(MAX_ID);
            let prefix = store::consumer_pel_prefix(group, consumer);
            let mut from = prefix.clone();
            from.extend_from_slice(&start.to_bytes());
            let end = store::prefix_end(&prefix);
            let mut cur = store.data_range(s.uid, &from, end.as_deref(), false);
            while count == 0 || got.len() < count {
                let Some((k, _)) = cur.next()? else { break };
                let Some(id) = StreamId::from_bytes(&k[prefix.len()..]) else { continue };
                match txn.data_get(s.uid, &store::entry_sub(id))? {
                    Some(v) => {
                        let nack_key = store::nack_sub(group, id);
                        if let Some(nv) = txn.data_get(s.uid, &nack_key)? {
                            let mut nack = Nack::decode(&nv)?;
                            nack.delivery_time = now;
                            nack.delivery_count += 1;
                            txn.data_put(s.uid, &nack_key, &nack.encode());
                        }
                        got.push((id, Some(v)));
                    }
                    None => got.push((id, None)),
                }
            }
        } else {
            let start = g.last.incr().unwrap_or(MAX_ID).max(s.first);
            let entries = store::entries(store, s.uid, start, MAX_ID, count, false)?;
            for (id, v) in entries {
                advance_group(s, &mut g, id);
                if !noack {
                    add_nack(txn, s.uid, group, consumer, id, now)?;
                }
                got.push((id, Some(v)));
            }
            txn.data_put(s.uid, &store::group_sub(group), &g.encode());
        }
        Ok((false, (Some(got), created)))
    })?;
    let Some((got, created)) = out else { return Ok(None) };
    if created {
        notify(ctx, notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(got)
}

/// The group delivered entry `id` (above its last one): its last ID and read counter move as in Redis'
/// `streamReplyWithRange`.
pub fn advance_group(s: &StreamMeta, g: &mut Group, id: StreamId) {
    if id <= g.last {
        return;
    }
    if g.entries_read != INVALID_READ && !store::has_tombstones_after(s, id) {
        g.entries_read = g.entries_read.saturating_add(1);
    } else if s.entries_added != 0 {
        g.entries_read = store::estimate_distance(s, id);
    }
    g.last = id;
}

/// Looks up `consumer` (refreshing its seen time), creating it when missing; true when created.
pub fn touch_consumer(txn: &mut Txn, uid: u64, group: &[u8], consumer: &[u8], now: u64) -> CmdResult<bool> {
    let k = store::consumer_sub(group, consumer);
    let created = txn.data_get(uid, &k)?.is_none();
    txn.data_put(uid, &k, &now.to_be_bytes());
    Ok(created)
}

/// Gives pending entry `id` to `consumer` (a new NACK, or one taken from its previous owner), delivered now once.
pub fn add_nack(txn: &mut Txn, uid: u64, group: &[u8], consumer: &[u8], id: StreamId, now: u64) -> CmdResult {
    let k = store::nack_sub(group, id);
    if let Some(old) = txn.data_get(uid, &k)? {
        let old = Nack::decode(&old)?;
        txn.data_delete(uid, &store::consumer_pel_sub(group, &old.consumer, id));
    }
    let nack = Nack { delivery_time: now, delivery_count: 1, consumer: consumer.to_vec() };
    txn.data_put(uid, &k, &nack.encode());
    txn.data_put(uid, &store::consumer_pel_sub(group, consumer, id), &[]);
    Ok(())
}
