//! The replication commands of a server that is always a master without replicas (SableDB has no replication):
//! ROLE, REPLICAOF/SLAVEOF, FAILOVER, REPLCONF, SYNC and PSYNC, each answering as Redis 7.0 answers on a master
//! that no replica ever connected to, with its argument errors.

use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::util::{eq_ic, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("role", role),
    ("replicaof", replicaof),
    ("slaveof", replicaof),
    ("failover", failover),
    ("replconf", replconf),
    ("sync", sync),
    ("psync", sync),
];

/// Why a replica cannot follow this server, nor this server a master.
const NO_REPLICATION: &str = "replication is not supported: SableDB can only run as a master";

/// ROLE: a master at offset 0 without replicas.
fn role(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.array(3);
    ctx.out.bulk(b"master");
    ctx.out.int(0);
    ctx.out.array(0);
    Ok(())
}

/// REPLICAOF / SLAVEOF: `NO ONE` asks a replica to become a master, which this server always is (+OK, as
/// Redis answers on a master). Following a master is refused. The port is checked first, with Redis' error, as
/// Redis does before it connects anywhere.
fn replicaof(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let host = args.next_bytes()?;
    let port = args.next_bytes()?;
    if eq_ic(host, b"no") && eq_ic(port, b"one") {
        ctx.out.ok();
        return Ok(());
    }
    if !parse_i64(port).is_some_and(|p| (0..=65535).contains(&p)) {
        return Err(CmdError::err("Invalid master port"));
    }
    Err(CmdError::err(NO_REPLICATION))
}

/// FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]: Redis' parsing, then its refusal on a master without
/// replicas (no failover is ever in progress, so ABORT has nothing to abort).
fn failover(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() == 1 && args.peek().is_some_and(|a| eq_ic(a, b"abort")) {
        return Err(CmdError::err("No failover in progress."));
    }
    let (mut timeout, mut to, mut force) = (false, false, false);
    while !args.is_empty() {
        let word = args.next_bytes()?;
        if eq_ic(word, b"timeout") && args.remaining() >= 1 && !timeout {
            if args.next_i64()? <= 0 {
                return Err(CmdError::err("FAILOVER timeout must be greater than 0"));
            }
            timeout = true;
        } else if eq_ic(word, b"to") && args.remaining() >= 2 && !to {
            // The host is taken as it is; the port must be a number.
            args.next_bytes()?;
            args.next_i64()?;
            to = true;
        } else if eq_ic(word, b"force") && !force {
            force = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Err(CmdError::err("FAILOVER requires connected replicas."))
}

/// REPLCONF option value …: what a replica tells its master. Redis checks each pair and answers +OK; ACK (from a
/// client that is not a replica) and GETACK (on a server without a master) end the command without a reply.
fn replconf(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    while !args.is_empty() {
        let option = args.next_bytes()?;
        let value = args.next_bytes()?;
        if eq_ic(option, b"listening-port") {
            parse_i64(value).ok_or(CmdError::NotInteger)?;
        } else if eq_ic(option, b"ip-address") {
            // Redis' NET_HOST_STR_LEN.
            if value.len() >= 256 {
                return Err(CmdError::err(format!(
                    "REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    value.len()
                )));
            }
        } else if eq_ic(option, b"capa") {
            // Capabilities this master does not know are ignored, as Redis ignores them.
        } else if eq_ic(option, b"ack") || eq_ic(option, b"getack") {
            return Ok(());
        } else if eq_ic(option, b"rdb-only") {
            match parse_i64(value) {
                None => return Err(CmdError::NotInteger),
                Some(0 | 1) => {}
                Some(_) => return Err(CmdError::err("value is out of range, value must between 0 and 1")),
            }
        } else {
            return Err(CmdError::err(format!("Unrecognized REPLCONF option: {}", String::from_utf8_lossy(option))));
        }
    }
    ctx.out.ok();
    Ok(())
}

/// SYNC / PSYNC: a replica's request for the data set and the stream of writes, which SableDB cannot serve.
fn sync(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::err(NO_REPLICATION))
}
