//! Pub/sub family: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBE forms, PUBLISH, SPUBLISH and PUBSUB.
//! The registry, the mailboxes and delivery live in `crate::pubsub`.

use bytes::Bytes;

use super::connection::help_reply;
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::pubsub::{Kind, Subscriber};
use crate::resp::reply::Reply;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("subscribe", subscribe),
    ("psubscribe", psubscribe),
    ("ssubscribe", ssubscribe),
    ("unsubscribe", unsubscribe),
    ("punsubscribe", punsubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish),
    ("spublish", spublish),
    ("pubsub|channels", pubsub_channels),
    ("pubsub|shardchannels", pubsub_shardchannels),
    ("pubsub|numsub", pubsub_numsub),
    ("pubsub|shardnumsub", pubsub_shardnumsub),
    ("pubsub|numpat", pubsub_numpat),
    ("pubsub|help", pubsub_help),
];

fn subscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscribe_to(ctx, args, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Shard)
}

/// One confirmation per name: `[subscribe, name, count]` (a push in RESP3), even for a name already subscribed.
fn subscribe_to(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let registry = &ctx.server.pubsub;
    let info = &ctx.client.info;
    let sub = ctx.client.pubsub.get_or_insert_with(|| Subscriber::new(registry.clone(), info.clone()));
    for name in args.rest() {
        sub.subscribe(kind, name);
        confirm(ctx.out, kind.subscribe_word(), Some(name), sub.count(kind));
    }
    Ok(())
}

/// Without names: every subscription of the kind, or one `[unsubscribe, nil, count]` when there is none.
fn unsubscribe_from(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let names: Vec<Bytes> = match (&ctx.client.pubsub, args.is_empty()) {
        (_, false) => args.rest().to_vec(),
        (Some(sub), true) => sub.names(kind),
        (None, true) => Vec::new(),
    };
    if names.is_empty() {
        let count = ctx.client.pubsub.as_ref().map_or(0, |s| s.count(kind));
        confirm(ctx.out, kind.unsubscribe_word(), None, count);
    }
    for name in &names {
        let count = match ctx.client.pubsub.as_mut() {
            Some(sub) => {
                sub.unsubscribe(kind, name);
                sub.count(kind)
            }
            None => 0,
        };
        confirm(ctx.out, kind.unsubscribe_word(), Some(name), count);
    }
    Ok(())
}

fn confirm(out: &mut Reply, word: &[u8], name: Option<&[u8]>, count: usize) {
    out.push(3);
    out.bulk(word);
    out.opt_bulk(name);
    out.int(count as i64);
}

fn publish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    let receivers = crate::notify::publish_in_order(&ctx.server.pubsub, Kind::Channel, channel, message);
    ctx.out.int(receivers as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let channel = args.next_bytes()?;
    let message = args.next_bytes()?;
    let receivers = crate::notify::publish_in_order(&ctx.server.pubsub, Kind::Shard, channel, message);
    ctx.out.int(receivers as i64);
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    active_channels(ctx, args, Kind::Channel)
}

fn pubsub_shardchannels(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    active_channels(ctx, args, Kind::Shard)
}

/// PUBSUB CHANNELS [pattern]: without a pattern every channel, even the empty name a `*` would not match.
fn active_channels(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    if args.remaining() > 1 {
        return Err(CmdError::subcommand_syntax(args.argv(), "PUBSUB"));
    }
    let names = ctx.server.pubsub.active(kind, args.peek().map(|p| &p[..]));
    ctx.out.array(names.len());
    for name in names {
        ctx.out.bulk(&name);
    }
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscriber_counts(ctx, args, Kind::Channel)
}

fn pubsub_shardnumsub(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    subscriber_counts(ctx, args, Kind::Shard)
}

/// A flat array of name, count pairs (an array in RESP3 too, as in Redis 7.0).
fn subscriber_counts(ctx: &mut Ctx, args: &mut Args, kind: Kind) -> CmdResult {
    let names = args.rest();
    ctx.out.array(names.len() * 2);
    for name in names {
        ctx.out.bulk(name);
        ctx.out.int(ctx.server.pubsub.subscribers(kind, name) as i64);
    }
    Ok(())
}

/// The number of distinct patterns subscribed to by any client.
fn pubsub_numpat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.int(ctx.server.pubsub.counts().1 as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}
