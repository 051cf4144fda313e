//! XINFO STREAM (with FULL [COUNT n]), XINFO GROUPS, XINFO CONSUMERS and XINFO HELP, in Redis 7.0's reply shapes
//! (maps in RESP3, flat arrays in RESP2). `radix-tree-keys` counts the listpack nodes Redis would have (see the
//! node emulation in [`super`]); `radix-tree-nodes` is an estimate.

use super::id::{StreamId, MAX_ID, MIN_ID};
use super::store::{self, Nack, StreamMeta, INVALID_READ};
use crate::commands::connection::help_reply;
use crate::commands::{Args, CmdError, CmdResult, Ctx};
use crate::util::{eq_ic, now_ms};

fn stream_or_err(ctx: &Ctx, key: &[u8]) -> CmdResult<StreamMeta> {
    store::read(ctx, key)?.ok_or_else(|| CmdError::err("no such key"))
}

fn entries_read(ctx: &mut Ctx, read: i64) {
    if read == INVALID_READ {
        ctx.out.null();
    } else {
        ctx.out.int(read);
    }
}

/// A group's `last-delivered-id`, `entries-read` and `lag` fields (XINFO GROUPS and XINFO STREAM FULL).
fn progress(ctx: &mut Ctx, s: &StreamMeta, g: &store::Group) {
    ctx.out.bulk(b"last-delivered-id");
    store::reply_id(ctx.out, g.last);
    ctx.out.bulk(b"entries-read");
    entries_read(ctx, g.entries_read);
    ctx.out.bulk(b"lag");
    lag(ctx, s, g);
}

fn lag(ctx: &mut Ctx, s: &StreamMeta, g: &store::Group) {
    match store::lag(s, g) {
        Some(l) => ctx.out.int(l),
        None => ctx.out.null(),
    }
}

pub fn xinfo_stream(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv();
    let key = args.next_bytes()?;
    let opts = &argv[3..];
    let mut full = false;
    let mut count: i64 = 10;
    let s = stream_or_err(ctx, key)?;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !eq_ic(&opts[0], b"FULL") {
            return Err(CmdError::subcommand_syntax(argv, "XINFO"));
        }
        full = true;
        if opts.len() == 3 {
            if !eq_ic(&opts[1], b"COUNT") {
                return Err(CmdError::subcommand_syntax(argv, "XINFO"));
            }
            count = super::int_arg(&opts[2])?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let limit = if count == 0 { usize::MAX } else { count as usize };
    let nodes = store::count_under(ctx.store, s.uid, &[store::NODE])?;
    ctx.out.map(if full { 9 } else { 10 });
    ctx.out.bulk(b"length");
    ctx.out.int(s.len as i64);
    ctx.out.bulk(b"radix-tree-keys");
    ctx.out.int(nodes as i64);
    ctx.out.bulk(b"radix-tree-nodes");
    ctx.out.int(if nodes == 0 { 1 } else { nodes as i64 + 1 });
    ctx.out.bulk(b"last-generated-id");
    store::reply_id(ctx.out, s.last);
    ctx.out.bulk(b"max-deleted-entry-id");
    store::reply_id(ctx.out, s.max_deleted);
    ctx.out.bulk(b"entries-added");
    ctx.out.int(s.entries_added as i64);
    ctx.out.bulk(b"recorded-first-entry-id");
    store::reply_id(ctx.out, s.first);
    let groups = store::group_names(ctx.store, s.uid)?;
    if !full {
        ctx.out.bulk(b"groups");
        ctx.out.int(groups.len() as i64);
        for (label, last) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            ctx.out.bulk(label);
            match store::entries(ctx.store, s.uid, MIN_ID, MAX_ID, 1, last)?.first() {
                Some((id, v)) => store::reply_entry(ctx.out, *id, v)?,
                None => ctx.out.null(),
            }
        }
        return Ok(());
    }
    ctx.out.bulk(b"entries");
    let entries = store::entries(ctx.store, s.uid, MIN_ID, MAX_ID, if count == 0 { 0 } else { limit }, false)?;
    ctx.out.array(entries.len());
    for (id, v) in &entries {
        store::reply_entry(ctx.out, *id, v)?;
    }
    ctx.out.bulk(b"groups");
    ctx.out.array(groups.len());
    for (name, g) in &groups {
        ctx.out.map(7);
        ctx.out.bulk(b"name");
        ctx.out.bulk(name);
        progress(ctx, &s, g);
        let pel = store::records_under(ctx.store, s.uid, &store::group_prefix(store::NACK, name), usize::MAX)?;
        ctx.out.bulk(b"pel-count");
        ctx.out.int(pel.len() as i64);
        ctx.out.bulk(b"pending");
        let shown = pel.len().min(limit);
        ctx.out.array(shown);
        for (idb, v) in pel.iter().take(shown) {
            let nack = Nack::decode(v)?;
            ctx.out.array(4);
            store::reply_id(ctx.out, StreamId::from_bytes(idb).unwrap_or_default());
            ctx.out.bulk(&nack.consumer);
            ctx.out.int(nack.delivery_time as i64);
            ctx.out.int(nack.delivery_count as i64);
        }
        let consumers =
            store::records_under(ctx.store, s.uid, &store::group_prefix(store::CONSUMER, name), usize::MAX)?;
        ctx.out.bulk(b"consumers");
        ctx.out.array(consumers.len());
        for (cname, v) in &consumers {
            let cpel = store::records_under(ctx.store, s.uid, &store::consumer_pel_prefix(name, cname), usize::MAX)?;
            ctx.out.map(4);
            ctx.out.bulk(b"name");
            ctx.out.bulk(cname);
            ctx.out.bulk(b"seen-time");
            ctx.out.int(store::decode_seen(v) as i64);
            ctx.out.bulk(b"pel-count");
            ctx.out.int(cpel.len() as i64);
            ctx.out.bulk(b"pending");
            let shown = cpel.len().min(limit);
            ctx.out.array(shown);
            for (idb, _) in cpel.iter().take(shown) {
                let id = StreamId::from_bytes(idb).unwrap_or_default();
                let nack = match ctx.store.data_get(s.uid, &store::nack_sub(name, id))? {
                    Some(nv) => Nack::decode(&nv)?,
                    None => Nack { delivery_time: 0, delivery_count: 0, consumer: Vec::new() },
                };
                ctx.out.array(3);
                store::reply_id(ctx.out, id);
                ctx.out.int(nack.delivery_time as i64);
                ctx.out.int(nack.delivery_count as i64);
            }
        }
    }
    Ok(())
}

pub fn xinfo_groups(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let s = stream_or_err(ctx, key)?;
    let groups = store::group_names(ctx.store, s.uid)?;
    ctx.out.array(groups.len());
    for (name, g) in &groups {
        let consumers = store::count_under(ctx.store, s.uid, &store::group_prefix(store::CONSUMER, name))?;
        let pending = store::count_under(ctx.store, s.uid, &store::group_prefix(store::NACK, name))?;
        ctx.out.map(6);
        ctx.out.bulk(b"name");
        ctx.out.bulk(name);
        ctx.out.bulk(b"consumers");
        ctx.out.int(consumers as i64);
        ctx.out.bulk(b"pending");
        ctx.out.int(pending as i64);
        progress(ctx, &s, g);
    }
    Ok(())
}

pub fn xinfo_consumers(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let s = stream_or_err(ctx, key)?;
    if store::read_group(ctx.store, s.uid, group)?.is_none() {
        return Err(CmdError::Raw(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            crate::util::arg_text(group),
            crate::util::arg_text(key)
        )));
    }
    let consumers = store::records_under(ctx.store, s.uid, &store::group_prefix(store::CONSUMER, group), usize::MAX)?;
    let now = now_ms() as i64;
    ctx.out.array(consumers.len());
    for (name, v) in &consumers {
        let pending = store::count_under(ctx.store, s.uid, &store::consumer_pel_prefix(group, name))?;
        ctx.out.map(3);
        ctx.out.bulk(b"name");
        ctx.out.bulk(name);
        ctx.out.bulk(b"pending");
        ctx.out.int(pending as i64);
        ctx.out.bulk(b"idle");
        ctx.out.int(now.saturating_sub(store::decode_seen(v) as i64).max(0));
    }
    Ok(())
}

pub fn xinfo_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    const LINES: &[&str] = &[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ];
    help_reply(ctx, LINES);
    Ok(())
}
