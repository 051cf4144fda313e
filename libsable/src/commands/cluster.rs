//! CLUSTER and the cluster-mode connection commands (READONLY, READWRITE, ASKING), answered as a Redis 7.0 server
//! with cluster support disabled answers them: after the usual arity and subcommand checks, every one of them is
//! `-ERR This instance has cluster support disabled`. SableDB has no cluster mode; cluster-aware clients probe
//! with these commands and fall back to a single node on exactly this error.

use super::{Args, CmdError, CmdResult, Ctx, Handler};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("readonly", disabled),
    ("readwrite", disabled),
    ("asking", disabled),
    ("cluster|addslots", disabled),
    ("cluster|addslotsrange", disabled),
    ("cluster|bumpepoch", disabled),
    ("cluster|count-failure-reports", disabled),
    ("cluster|countkeysinslot", disabled),
    ("cluster|delslots", disabled),
    ("cluster|delslotsrange", disabled),
    ("cluster|failover", disabled),
    ("cluster|flushslots", disabled),
    ("cluster|forget", disabled),
    ("cluster|getkeysinslot", disabled),
    ("cluster|help", disabled),
    ("cluster|info", disabled),
    ("cluster|keyslot", disabled),
    ("cluster|links", disabled),
    ("cluster|meet", disabled),
    ("cluster|myid", disabled),
    ("cluster|nodes", disabled),
    ("cluster|replicas", disabled),
    ("cluster|replicate", disabled),
    ("cluster|reset", disabled),
    ("cluster|saveconfig", disabled),
    ("cluster|set-config-epoch", disabled),
    ("cluster|setslot", disabled),
    ("cluster|shards", disabled),
    ("cluster|slaves", disabled),
    ("cluster|slots", disabled),
];

fn disabled(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("This instance has cluster support disabled"))
}
