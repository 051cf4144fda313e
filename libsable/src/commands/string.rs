//! String family: GET, SET and the rest of Redis' string commands over string records.

use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::storage::encoding::{encode_string, MetaView};
use crate::storage::KeyType;
use crate::util::now_ms;

pub const HANDLERS: &[(&str, Handler)] = &[("get", get), ("set", set)];

/// The value of a live string record, or WRONGTYPE for another type.
pub fn string_body<'a>(m: &MetaView<'a>) -> CmdResult<&'a [u8]> {
    if m.key_type() != KeyType::String {
        return Err(CmdError::WrongType);
    }
    Ok(m.body())
}

fn get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let rec = ctx.store.get(ctx.db(), key)?;
    ctx.server.stats.hit(rec.is_some());
    match rec {
        Some(r) => ctx.out.bulk(string_body(&r.view())?),
        None => ctx.out.null(),
    }
    Ok(())
}

/// Expiry options shared by SET and GETEX.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Expiry {
    /// Absolute time in ms.
    At(u64),
    Keep,
    Persist,
    None,
}

/// Converts a relative or absolute expiry argument to an absolute ms time, with Redis' range checks.
pub fn expiry_from(value: i64, unit_ms: i64, absolute: bool, cmd: &str) -> CmdResult<u64> {
    if value <= 0 {
        return Err(CmdError::err(format!("invalid expire time in '{cmd}' command")));
    }
    let ms = value.checked_mul(unit_ms).ok_or_else(|| CmdError::err(format!("invalid expire time in '{cmd}' command")))?;
    let at = if absolute { ms } else { (now_ms() as i64).checked_add(ms).ok_or_else(|| CmdError::err(format!("invalid expire time in '{cmd}' command")))? };
    Ok(at as u64)
}

fn set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let (mut nx, mut xx, mut get_old) = (false, false, false);
    let mut expiry = Expiry::None;
    while !args.is_empty() {
        let has_expiry = expiry != Expiry::None;
        if args.eat("NX") && !xx {
            nx = true;
        } else if args.eat("XX") && !nx {
            xx = true;
        } else if args.eat("GET") {
            get_old = true;
        } else if args.eat("KEEPTTL") && !has_expiry {
            expiry = Expiry::Keep;
        } else if !has_expiry && args.remaining() >= 2 && args.peek().is_some_and(|a| a.len() == 2 || a.len() == 4) {
            let opt = args.next_string()?.to_ascii_uppercase();
            let (unit, absolute) = match opt.as_str() {
                "EX" => (1000, false),
                "PX" => (1, false),
                "EXAT" => (1000, true),
                "PXAT" => (1, true),
                _ => return Err(CmdError::Syntax),
            };
            let v = args.next_i64()?;
            expiry = Expiry::At(expiry_from(v, unit, absolute, "set")?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let live = old.as_ref().and_then(|o| o.live());
    let old_value = match (get_old, live) {
        (true, Some(m)) => Some(string_body(&m)?.to_vec()),
        _ => None,
    };
    let proceed = !(nx && live.is_some() || xx && live.is_none());
    if proceed {
        let at = match expiry {
            Expiry::At(at) => at,
            Expiry::Keep => live.map(|m| m.expire_at()).unwrap_or(0),
            _ => 0,
        };
        txn.put(db, key, old.as_ref(), &encode_string(at, value));
        txn.commit()?;
    }
    match (get_old, proceed) {
        (true, _) => ctx.out.opt_bulk(old_value.as_deref()),
        (false, true) => ctx.out.ok(),
        (false, false) => ctx.out.null(),
    }
    Ok(())
}
