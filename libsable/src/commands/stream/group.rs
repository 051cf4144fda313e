//! Consumer groups: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XACK, XPENDING, XCLAIM
//! and XAUTOCLAIM, following Redis 7.0's `t_stream.c` (argument order of errors, reply shapes, lag rules). The
//! group's PEL and each consumer's PEL index are `data` records (see [`super::store`]); XREADGROUP is in
//! [`super::read`].

use super::id::{self, parse_loose, parse_strict, StreamId, MIN_ID};
use super::read::touch_consumer;
use super::store::{self, Group, Nack, INVALID_READ};
use super::{int_arg, modify};
use crate::commands::connection::help_reply;
use crate::commands::{Args, CmdError, CmdResult, Ctx};
use crate::notify::{self, notify};
use crate::storage::Txn;
use crate::util::{eq_ic, now_ms};

fn text(b: &[u8]) -> String {
    crate::util::arg_text(b)
}

fn no_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Raw(format!("NOGROUP No such key '{}' or consumer group '{}'", text(key), text(group)))
}

/// What XGROUP's common part found (Redis parses options, then looks the key and group up, for every subcommand).
struct XgroupOpts {
    mkstream: bool,
    entries_read: i64,
}

/// Parses the options from the sixth argument on (MKSTREAM for CREATE, ENTRIESREAD for CREATE and SETID).
fn xgroup_opts(ctx: &Ctx, args: &Args) -> CmdResult<XgroupOpts> {
    let argv = args.argv();
    let sub = &argv[1];
    let create = eq_ic(sub, b"CREATE");
    let setid = eq_ic(sub, b"SETID");
    let mut o = XgroupOpts { mkstream: false, entries_read: INVALID_READ };
    let mut i = 5;
    while i < argv.len() {
        if create && eq_ic(&argv[i], b"MKSTREAM") {
            o.mkstream = true;
            i += 1;
        } else if (create || setid) && eq_ic(&argv[i], b"ENTRIESREAD") && i + 1 < argv.len() {
            let n = int_arg(&argv[i + 1])?;
            if n < 0 && n != INVALID_READ {
                return Err(CmdError::err("value for ENTRIESREAD must be positive or -1"));
            }
            o.entries_read = n;
            i += 2;
        } else {
            return Err(CmdError::subcommand_syntax(argv, "XGROUP"));
        }
    }
    let _ = ctx;
    Ok(o)
}

fn missing_key() -> CmdError {
    CmdError::err(
        "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM \
         option to create an empty stream automatically.",
    )
}

fn no_such_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Raw(format!("NOGROUP No such consumer group '{}' for key name '{}'", text(group), text(key)))
}

pub fn xgroup_create(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let o = xgroup_opts(ctx, args)?;
    let argv = args.argv();
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let id_arg = args.next_bytes()?;
    let created = modify(ctx, key, true, |txn, s, new| {
        if new && !o.mkstream {
            return Err(missing_key());
        }
        if !(5..=8).contains(&argv.len()) {
            return Err(CmdError::subcommand_syntax(argv, "XGROUP"));
        }
        let id = if &id_arg[..] == b"$" { s.last } else { parse_strict(id_arg)? };
        if store::get_group(txn, s.uid, group)?.is_some() {
            // A stream made by MKSTREAM is still written (Redis adds it before finding the group).
            return Ok((new, false));
        }
        txn.data_put(s.uid, &store::group_sub(group), &Group { last: id, entries_read: o.entries_read }.encode());
        Ok((true, true))
    })?;
    if created != Some(true) {
        return Err(CmdError::Raw("BUSYGROUP Consumer Group name already exists".into()));
    }
    ctx.out.ok();
    notify(ctx, notify::STREAM, "xgroup-create", key);
    Ok(())
}

pub fn xgroup_setid(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let o = xgroup_opts(ctx, args)?;
    let argv = args.argv();
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let id_arg = args.next_bytes()?;
    modify(ctx, key, false, |txn, s, _| {
        let Some(_) = store::get_group(txn, s.uid, group)? else { return Err(no_such_group(key, group)) };
        if argv.len() != 5 && argv.len() != 7 {
            return Err(CmdError::subcommand_syntax(argv, "XGROUP"));
        }
        let id = if &id_arg[..] == b"$" { s.last } else { parse_loose(id_arg, 0)? };
        txn.data_put(s.uid, &store::group_sub(group), &Group { last: id, entries_read: o.entries_read }.encode());
        Ok((false, ()))
    })?
    .ok_or_else(missing_key)?;
    ctx.out.ok();
    notify(ctx, notify::STREAM, "xgroup-setid", key);
    Ok(())
}

/// Deletes every record under `prefix` (committed ones; the caller has not written any there).
fn delete_under(ctx: &Ctx, txn: &mut Txn, uid: u64, prefix: &[u8]) -> CmdResult<u64> {
    let recs = store::records_under(ctx.store, uid, prefix, usize::MAX)?;
    for (k, _) in &recs {
        let mut full = prefix.to_vec();
        full.extend_from_slice(k);
        txn.data_delete(uid, &full);
    }
    Ok(recs.len() as u64)
}

pub fn xgroup_destroy(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    xgroup_opts(ctx, args)?;
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let db = ctx.db();
    let c = &*ctx;
    let destroyed = modify(c, key, false, |txn, s, _| {
        if store::get_group(txn, s.uid, group)?.is_none() {
            return Ok((false, false));
        }
        txn.data_delete(s.uid, &store::group_sub(group));
        for tag in [store::NACK, store::CONSUMER, store::CONSUMER_PEL] {
            delete_under(c, txn, s.uid, &store::group_prefix(tag, group))?;
        }
        // Clients blocked in XREADGROUP on this group get -NOGROUP.
        txn.signal_stream(db, key);
        Ok((false, true))
    })?
    .ok_or_else(missing_key)?;
    ctx.out.int(destroyed as i64);
    if destroyed {
        notify(ctx, notify::STREAM, "xgroup-destroy", key);
    }
    Ok(())
}

pub fn xgroup_createconsumer(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    xgroup_opts(ctx, args)?;
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let consumer = args.next_bytes()?;
    let now = now_ms();
    let created = modify(ctx, key, false, |txn, s, _| {
        if store::get_group(txn, s.uid, group)?.is_none() {
            return Err(no_such_group(key, group));
        }
        let k = store::consumer_sub(group, consumer);
        if txn.data_get(s.uid, &k)?.is_some() {
            return Ok((false, false));
        }
        txn.data_put(s.uid, &k, &now.to_be_bytes());
        Ok((false, true))
    })?
    .ok_or_else(missing_key)?;
    ctx.out.int(created as i64);
    if created {
        notify(ctx, notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(())
}

pub fn xgroup_delconsumer(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    xgroup_opts(ctx, args)?;
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let consumer = args.next_bytes()?;
    let c = &*ctx;
    let pending = modify(c, key, false, |txn, s, _| {
        if store::get_group(txn, s.uid, group)?.is_none() {
            return Err(no_such_group(key, group));
        }
        let k = store::consumer_sub(group, consumer);
        if txn.data_get(s.uid, &k)?.is_none() {
            return Ok((false, None));
        }
        txn.data_delete(s.uid, &k);
        let prefix = store::consumer_pel_prefix(group, consumer);
        let pel = store::records_under(c.store, s.uid, &prefix, usize::MAX)?;
        for (idb, _) in &pel {
            if let Some(id) = StreamId::from_bytes(idb) {
                txn.data_delete(s.uid, &store::nack_sub(group, id));
                txn.data_delete(s.uid, &store::consumer_pel_sub(group, consumer, id));
            }
        }
        Ok((false, Some(pel.len() as i64)))
    })?
    .ok_or_else(missing_key)?;
    ctx.out.int(pending.unwrap_or(0));
    if pending.is_some() {
        notify(ctx, notify::STREAM, "xgroup-delconsumer", key);
    }
    Ok(())
}

pub fn xgroup_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    const LINES: &[&str] = &[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ];
    help_reply(ctx, LINES);
    Ok(())
}

/// XACK key group id [id …]
pub fn xack(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let Some(s) = store::read(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    if store::read_group(ctx.store, s.uid, group)?.is_none() {
        ctx.out.int(0);
        return Ok(());
    }
    let ids = args.rest().iter().map(|a| parse_strict(a)).collect::<CmdResult<Vec<_>>>()?;
    let acked = modify(ctx, key, false, |txn, s, _| {
        if store::get_group(txn, s.uid, group)?.is_none() {
            return Ok((false, 0));
        }
        let mut n = 0;
        for id in &ids {
            let k = store::nack_sub(group, *id);
            if let Some(v) = txn.data_get(s.uid, &k)? {
                let nack = Nack::decode(&v)?;
                txn.data_delete(s.uid, &k);
                txn.data_delete(s.uid, &store::consumer_pel_sub(group, &nack.consumer, *id));
                n += 1;
            }
        }
        Ok((false, n))
    })?
    .unwrap_or(0);
    ctx.out.int(acked);
    Ok(())
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv();
    let key = &argv[1];
    let group = &argv[2];
    let argc = argv.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let mut range = None;
    if argc >= 6 {
        let mut at = 3;
        let mut minidle = 0i64;
        if eq_ic(&argv[3], b"IDLE") {
            minidle = int_arg(&argv[4])?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = int_arg(argv.get(at + 2).ok_or(CmdError::Syntax)?)?.max(0);
        let start = id::range_start(&argv[at])?;
        let end = id::range_end(&argv[at + 1])?;
        let consumer = argv.get(at + 3);
        range = Some((minidle, start, end, count as u64, consumer));
    }
    let s = store::read(ctx, key)?;
    let Some(s) = s else { return Err(no_group(key, group)) };
    if store::read_group(ctx.store, s.uid, group)?.is_none() {
        return Err(no_group(key, group));
    }
    let now = now_ms();
    let Some((minidle, start, end, count, consumer)) = range else {
        // Summary.
        let pel = store::records_under(ctx.store, s.uid, &store::group_prefix(store::NACK, group), usize::MAX)?;
        ctx.out.array(4);
        ctx.out.int(pel.len() as i64);
        if pel.is_empty() {
            ctx.out.null();
            ctx.out.null();
            ctx.out.null_array();
            return Ok(());
        }
        let first = StreamId::from_bytes(&pel[0].0).unwrap_or_default();
        let last = StreamId::from_bytes(&pel[pel.len() - 1].0).unwrap_or_default();
        store::reply_id(ctx.out, first);
        store::reply_id(ctx.out, last);
        let mut by_consumer: std::collections::BTreeMap<Vec<u8>, i64> = Default::default();
        for (_, v) in &pel {
            *by_consumer.entry(Nack::decode(v)?.consumer).or_default() += 1;
        }
        ctx.out.array(by_consumer.len());
        for (c, n) in by_consumer {
            ctx.out.array(2);
            ctx.out.bulk(&c);
            ctx.out.bulk_int(n);
        }
        return Ok(());
    };
    if let Some(c) = consumer {
        if ctx.store.data_get(s.uid, &store::consumer_sub(group, c))?.is_none() {
            ctx.out.array(0);
            return Ok(());
        }
    }
    let mut rows: Vec<(StreamId, Nack)> = Vec::new();
    if count > 0 && start <= end {
        let prefix = match consumer {
            Some(c) => store::consumer_pel_prefix(group, c),
            None => store::group_prefix(store::NACK, group),
        };
        let mut from = prefix.clone();
        from.extend_from_slice(&start.to_bytes());
        let pend = store::prefix_end(&prefix);
        let mut cur = ctx.store.data_range(s.uid, &from, pend.as_deref(), false);
        while (rows.len() as u64) < count {
            let Some((k, v)) = cur.next()? else { break };
            let Some(id) = StreamId::from_bytes(&k[prefix.len()..]) else { continue };
            if id > end {
                break;
            }
            let nack = match consumer {
                Some(_) => match ctx.store.data_get(s.uid, &store::nack_sub(group, id))? {
                    Some(nv) => Nack::decode(&nv)?,
                    None => continue,
                },
                None => Nack::decode(v)?,
            };
            if minidle != 0 && (now as i64).saturating_sub(nack.delivery_time as i64) < minidle {
                continue;
            }
            rows.push((id, nack));
        }
    }
    ctx.out.array(rows.len());
    for (id, nack) in rows {
        ctx.out.array(4);
        store::reply_id(ctx.out, id);
        ctx.out.bulk(&nack.consumer);
        ctx.out.int((now as i64).saturating_sub(nack.delivery_time as i64).max(0));
        ctx.out.int(nack.delivery_count as i64);
    }
    Ok(())
}

/// One claimed entry: its ID and, unless JUSTID, its value (None: the reply is the ID alone).
type Claimed = (StreamId, Option<Vec<u8>>);

fn write_claimed(ctx: &mut Ctx, claimed: &[Claimed], justid: bool) -> CmdResult {
    ctx.out.array(claimed.len());
    for (id, v) in claimed {
        match (justid, v) {
            (false, Some(v)) => store::reply_entry(ctx.out, *id, v)?,
            _ => store::reply_id(ctx.out, *id),
        }
    }
    Ok(())
}

fn custom_int(a: &[u8], msg: &str) -> CmdResult<i64> {
    crate::util::parse_i64(a).ok_or_else(|| CmdError::err(msg))
}

/// XCLAIM key group consumer min-idle-time id [id …] [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID]
/// [LASTID id]
pub fn xclaim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv();
    let key = &argv[1];
    let group = &argv[2];
    let consumer = &argv[3];
    let Some(s) = store::read(ctx, key)? else { return Err(no_group(key, group)) };
    if store::read_group(ctx.store, s.uid, group)?.is_none() {
        return Err(no_group(key, group));
    }
    let minidle = custom_int(&argv[4], "Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match parse_strict(&argv[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = now_ms() as i64;
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut last_id = MIN_ID;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        let opt = &argv[j];
        if eq_ic(opt, b"FORCE") {
            force = true;
        } else if eq_ic(opt, b"JUSTID") {
            justid = true;
        } else if eq_ic(opt, b"IDLE") && more > 0 {
            j += 1;
            deliverytime = now.wrapping_sub(custom_int(&argv[j], "Invalid IDLE option argument for XCLAIM")?);
        } else if eq_ic(opt, b"TIME") && more > 0 {
            j += 1;
            deliverytime = custom_int(&argv[j], "Invalid TIME option argument for XCLAIM")?;
        } else if eq_ic(opt, b"RETRYCOUNT") && more > 0 {
            j += 1;
            retrycount = custom_int(&argv[j], "Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if eq_ic(opt, b"LASTID") && more > 0 {
            j += 1;
            last_id = parse_strict(&argv[j])?;
        } else {
            return Err(CmdError::err(format!("Unrecognized XCLAIM option '{}'", text(opt))));
        }
        j += 1;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    let out = modify(ctx, key, false, |txn, s, _| {
        let Some(mut g) = store::get_group(txn, s.uid, group)? else { return Err(no_group(key, group)) };
        if last_id > g.last {
            g.last = last_id;
            txn.data_put(s.uid, &store::group_sub(group), &g.encode());
        }
        let mut claimed = Vec::new();
        let mut created = false;
        let mut have_consumer = false;
        for id in &ids {
            let nk = store::nack_sub(group, *id);
            let nack = txn.data_get(s.uid, &nk)?.map(|v| Nack::decode(&v)).transpose()?;
            let entry = txn.data_get(s.uid, &store::entry_sub(*id))?;
            let Some(entry) = entry else {
                if let Some(n) = nack {
                    txn.data_delete(s.uid, &nk);
                    txn.data_delete(s.uid, &store::consumer_pel_sub(group, &n.consumer, *id));
                }
                continue;
            };
            // A NACK FORCE creates has no owner yet.
            let (mut nack, owned) = match nack {
                Some(n) => (n, true),
                None if force => (Nack { delivery_time: now as u64, delivery_count: 1, consumer: Vec::new() }, false),
                None => continue,
            };
            if owned && minidle != 0 && now.saturating_sub(nack.delivery_time as i64) < minidle {
                continue;
            }
            if !have_consumer {
                created |= touch_consumer(txn, s.uid, group, consumer, now as u64)?;
                have_consumer = true;
            }
            if owned && nack.consumer != consumer[..] {
                txn.data_delete(s.uid, &store::consumer_pel_sub(group, &nack.consumer, *id));
            }
            nack.delivery_time = deliverytime as u64;
            if retrycount >= 0 {
                nack.delivery_count = retrycount as u64;
            } else if !justid {
                nack.delivery_count += 1;
            }
            nack.consumer = consumer.to_vec();
            txn.data_put(s.uid, &nk, &nack.encode());
            txn.data_put(s.uid, &store::consumer_pel_sub(group, consumer, *id), &[]);
            claimed.push((*id, Some(entry)));
        }
        Ok((false, (claimed, created)))
    })?;
    let Some((claimed, created)) = out else { return Err(no_group(key, group)) };
    write_claimed(ctx, &claimed, justid)?;
    if created {
        notify(ctx, notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(())
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv();
    let key = &argv[1];
    let group = &argv[2];
    let consumer = &argv[3];
    let minidle = custom_int(&argv[4], "Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = id::range_start(&argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if eq_ic(&argv[j], b"COUNT") && more > 0 {
            const MAX: i64 = i64::MAX / 16;
            count = crate::util::parse_i64(&argv[j + 1])
                .filter(|n| (1..=MAX).contains(n))
                .ok_or_else(|| CmdError::err("COUNT must be > 0"))?;
            j += 1;
        } else if eq_ic(&argv[j], b"JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let Some(s) = store::read(ctx, key)? else { return Err(no_group(key, group)) };
    if store::read_group(ctx.store, s.uid, group)?.is_none() {
        return Err(no_group(key, group));
    }
    let now = now_ms();
    let c = &*ctx;
    let out = modify(c, key, false, |txn, s, _| {
        if store::get_group(txn, s.uid, group)?.is_none() {
            return Err(no_group(key, group));
        }
        let prefix = store::group_prefix(store::NACK, group);
        let mut from = prefix.clone();
        from.extend_from_slice(&start.to_bytes());
        let pend = store::prefix_end(&prefix);
        let mut cur = c.store.data_range(s.uid, &from, pend.as_deref(), false);
        let mut attempts = count.saturating_mul(10);
        let mut count = count;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        let mut created = false;
        let mut have_consumer = false;
        let mut exhausted = false;
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some((k, v)) = cur.next()? else {
                exhausted = true;
                break;
            };
            let Some(id) = StreamId::from_bytes(&k[prefix.len()..]) else { continue };
            let mut nack = Nack::decode(v)?;
            let nk = store::nack_sub(group, id);
            let Some(entry) = txn.data_get(s.uid, &store::entry_sub(id))? else {
                txn.data_delete(s.uid, &nk);
                txn.data_delete(s.uid, &store::consumer_pel_sub(group, &nack.consumer, id));
                deleted.push(id);
                count -= 1;
                continue;
            };
            if minidle != 0 && (now as i64).saturating_sub(nack.delivery_time as i64) < minidle {
                continue;
            }
            if !have_consumer {
                created |= touch_consumer(txn, s.uid, group, consumer, now)?;
                have_consumer = true;
            }
            if nack.consumer != consumer[..] {
                txn.data_delete(s.uid, &store::consumer_pel_sub(group, &nack.consumer, id));
            }
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            nack.consumer = consumer.to_vec();
            txn.data_put(s.uid, &nk, &nack.encode());
            txn.data_put(s.uid, &store::consumer_pel_sub(group, consumer, id), &[]);
            claimed.push((id, Some(entry)));
            count -= 1;
        }
        let next = if exhausted {
            MIN_ID
        } else {
            match cur.next()? {
                Some((k, _)) => StreamId::from_bytes(&k[prefix.len()..]).unwrap_or_default(),
                None => MIN_ID,
            }
        };
        Ok((false, (next, claimed, deleted, created)))
    })?;
    let Some((next, claimed, deleted, created)) = out else { return Err(no_group(key, group)) };
    ctx.out.array(3);
    store::reply_id(ctx.out, next);
    write_claimed(ctx, &claimed, justid)?;
    ctx.out.array(deleted.len());
    for id in deleted {
        store::reply_id(ctx.out, id);
    }
    if created {
        notify(ctx, notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(())
}
