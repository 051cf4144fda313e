//! The blocking forms of the list and sorted set pops: BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN,
//! BZPOPMAX, BZMPOP; and WAIT, which waits for replicas SableDB does not have. Each pop tries its non-blocking form on its keys in order; when all are empty it asks the
//! connection to suspend the client ([`crate::client::Block`]) and is run again when a key is signalled
//! (see [`crate::blocking`]). Keys of the wrong type fail the first run with WRONGTYPE, as in Redis, and count
//! as empty on the runs after a wake-up.

use std::time::{Duration, Instant};

use super::{collection, list, zset, Args, CmdError, CmdResult, Ctx, Handler};
use crate::client::{Block, Unserved};
use crate::storage::KeyType;
use crate::util::parse_f64;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("blpop", blpop),
    ("brpop", brpop),
    ("brpoplpush", brpoplpush),
    ("blmove", blmove),
    ("blmpop", blmpop),
    ("bzpopmin", bzpopmin),
    ("bzpopmax", bzpopmax),
    ("bzmpop", bzmpop),
    ("wait", wait),
];

/// A blocking timeout in seconds (fractions allowed) as Redis parses it: the deadline, or None for 0 (forever).
pub fn parse_timeout(arg: &[u8]) -> CmdResult<Option<Instant>> {
    let secs = parse_f64(arg).ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = secs * 1000.0;
    // Redis converts to a C long long: anything outside its range ends up negative.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if !(-LIMIT..LIMIT).contains(&ms) {
        return Err(CmdError::err("timeout is negative"));
    }
    let ms = ms as i64;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0 {
        return Ok(None);
    }
    // Redis 7.0 adds the current time without an overflow check; such a client waits for good, as here.
    Ok(Instant::now().checked_add(Duration::from_millis(ms as u64)))
}

/// Runs `attempt` on each key in order until one yields something. WRONGTYPE stops the first run only.
fn first_ready<T>(
    ctx: &mut Ctx,
    keys: &[Vec<u8>],
    mut attempt: impl FnMut(&mut Ctx, &[u8]) -> CmdResult<Option<T>>,
) -> CmdResult<Option<(Vec<u8>, T)>> {
    for key in keys {
        match attempt(ctx, key) {
            Ok(Some(v)) => return Ok(Some((key.clone(), v))),
            Ok(None) => {}
            Err(CmdError::WrongType) if ctx.client.woken => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Nothing to serve: suspend the client on `keys` until `deadline`.
/// Inside EXEC nothing may block: the command answers at once as if it had timed out (BLMOVE and BRPOPLPUSH
/// with a null bulk there, as Redis does).
fn block(ctx: &mut Ctx, keys: Vec<Vec<u8>>, deadline: Option<Instant>) {
    if ctx.client.in_exec {
        match ctx.cmd.name.as_str() {
            "blmove" | "brpoplpush" => ctx.out.null(),
            _ => ctx.out.null_array(),
        }
        return;
    }
    ctx.client.block = Some(Block { db: ctx.db(), keys, deadline, unserved: Unserved::NullArray });
}

/// WAIT `numreplicas timeout`: SableDB has no replicas, so none acknowledges. As Redis with none connected, it
/// answers 0 at once when no replica is asked for (or inside a transaction), else once the timeout (milliseconds,
/// 0: never) passes, or CLIENT UNBLOCK ends the wait.
fn wait(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let wanted = args.next_i64()?;
    let ms = crate::util::parse_i64(args.next_bytes()?)
        .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    const ACKED: i64 = 0;
    if wanted <= ACKED || ctx.client.in_exec {
        ctx.out.int(ACKED);
        return Ok(());
    }
    let deadline = if ms == 0 { None } else { Instant::now().checked_add(Duration::from_millis(ms as u64)) };
    ctx.client.block = Some(Block { db: ctx.db(), keys: Vec::new(), deadline, unserved: Unserved::Count(ACKED) });
    Ok(())
}

/// BLPOP and BRPOP: `key... timeout`, reply `[key, element]`.
fn bpop(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let mut keys: Vec<Vec<u8>> = args.rest().iter().map(|k| k.to_vec()).collect();
    let deadline = parse_timeout(&keys.pop().unwrap_or_default())?;
    match first_ready(ctx, &keys, |ctx, key| list::pop(ctx, key, left, 1))? {
        Some((key, mut popped)) => {
            ctx.out.array(2);
            ctx.out.bulk(&key);
            ctx.out.bulk(&popped.pop().unwrap_or_default());
        }
        None => block(ctx, keys, deadline),
    }
    Ok(())
}

fn blpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, true)
}

fn brpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, false)
}

/// BLMOVE and BRPOPLPUSH: the moved element, waiting for the source. After a wake-up, a source of another type
/// is not ready (the client waits on), but a destination of another type fails the client with WRONGTYPE and
/// the element stays in the source, as when Redis serves a blocked BLMOVE.
fn bmove(ctx: &mut Ctx, src: &[u8], dst: &[u8], src_left: bool, dst_left: bool, timeout: &[u8]) -> CmdResult {
    let deadline = parse_timeout(timeout)?;
    match list::lmove(ctx, src, dst, src_left, dst_left) {
        Ok(Some(element)) => ctx.out.bulk(&element),
        Ok(None) => block(ctx, vec![src.to_vec()], deadline),
        Err(CmdError::WrongType)
            if ctx.client.woken && matches!(collection::read(ctx, src, KeyType::List), Err(CmdError::WrongType)) =>
        {
            block(ctx, vec![src.to_vec()], deadline)
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn brpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let timeout = args.next_bytes()?;
    bmove(ctx, src, dst, false, true, timeout)
}

/// LEFT or RIGHT (a BLMOVE direction).
fn side(args: &mut Args) -> CmdResult<bool> {
    if args.eat("LEFT") {
        Ok(true)
    } else if args.eat("RIGHT") {
        Ok(false)
    } else {
        args.next_bytes()?;
        Err(CmdError::Syntax)
    }
}

fn blmove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let src_left = side(args)?;
    let dst_left = side(args)?;
    let timeout = args.next_bytes()?;
    bmove(ctx, src, dst, src_left, dst_left, timeout)
}

/// BLMPOP: `timeout numkeys key… LEFT|RIGHT [COUNT n]`; the timeout is checked after the rest, as in Redis.
fn blmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = args.next_bytes()?;
    let req = list::parse_mpop(args)?;
    let deadline = parse_timeout(timeout)?;
    let keys: Vec<Vec<u8>> = req.keys.iter().map(|k| k.to_vec()).collect();
    match first_ready(ctx, &keys, |ctx, key| list::pop(ctx, key, req.left, req.count))? {
        Some((key, popped)) => list::reply_mpop(ctx.out, &key, &popped),
        None => block(ctx, keys, deadline),
    }
    Ok(())
}

/// BZPOPMIN and BZPOPMAX: `key... timeout`, reply `[key, member, score]`.
fn bzpop(ctx: &mut Ctx, args: &mut Args, max: bool) -> CmdResult {
    let mut keys: Vec<Vec<u8>> = args.rest().iter().map(|k| k.to_vec()).collect();
    let deadline = parse_timeout(&keys.pop().unwrap_or_default())?;
    match first_ready(ctx, &keys, |ctx, key| zset::pop(ctx, key, max, 1))? {
        Some((key, popped)) => zset::write_popped(ctx.out, Some(&key), &popped, false),
        None => block(ctx, keys, deadline),
    }
    Ok(())
}

fn bzpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, false)
}

fn bzpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, true)
}

/// BZMPOP: `timeout numkeys key… MIN|MAX [COUNT n]`; the timeout is checked after the rest, as in Redis.
fn bzmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = args.next_bytes()?;
    let req = zset::parse_mpop(args)?;
    let deadline = parse_timeout(timeout)?;
    let keys: Vec<Vec<u8>> = req.keys.iter().map(|k| k.to_vec()).collect();
    match first_ready(ctx, &keys, |ctx, key| zset::pop(ctx, key, req.max, req.count))? {
        Some((key, popped)) => zset::write_mpop(ctx.out, &key, &popped),
        None => block(ctx, keys, deadline),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0").unwrap(), None);
        assert_eq!(parse_timeout(b"0.0001").unwrap(), None);
        assert_eq!(parse_timeout(b"-0.0001").unwrap(), None);
        assert!(parse_timeout(b"0.5").unwrap().is_some());
        assert!(parse_timeout(b"0x10").unwrap().is_some());
        let msg = |a: &[u8]| parse_timeout(a).unwrap_err().message();
        assert_eq!(msg(b"-1"), "ERR timeout is negative");
        assert_eq!(msg(b"inf"), "ERR timeout is negative");
        assert_eq!(msg(b"1e16"), "ERR timeout is negative");
        assert_eq!(msg(b"abc"), "ERR timeout is not a float or out of range");
        assert_eq!(msg(b" 1"), "ERR timeout is not a float or out of range");
        assert!(parse_timeout(b"9223372036854770").is_ok());
    }
}
