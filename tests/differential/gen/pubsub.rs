//! Generator of pub/sub commands for the differential tester: PUBLISH and SPUBLISH to channels the listeners
//! subscribe to (directly, through a pattern, or not at all; see `listen.rs`), and PUBSUB's introspection. The
//! deliveries are compared by the listeners; PUBSUB CHANNELS and SHARDCHANNELS list in hash order in Redis, so
//! they are compared unordered.

use super::{Check, Cmd, Gen};

const CHANNELS: &[&str] = &["ch1", "ch2", "ch3", "chx", "other", "", "__keyspace@0__:k1", "ch\x00bin"];
const SHARD_CHANNELS: &[&str] = &["sch", "sch2", "ch1"];
const PATTERNS: &[&str] = &["*", "ch*", "ch?", "s*", "nomatch*", "[cs]h*", "__key*"];

/// PUBLISH, SPUBLISH, PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP.
pub fn pubsub(g: &mut Gen) -> Cmd {
    match g.below(14) {
        0..=4 => Cmd::new("PUBLISH").arg(g.pick(CHANNELS)).arg(g.value()),
        5 | 6 => Cmd::new("SPUBLISH").arg(g.pick(SHARD_CHANNELS)).arg(g.value()),
        7 | 8 => {
            let sub = if g.pct(50) { "CHANNELS" } else { "SHARDCHANNELS" };
            let mut c = Cmd::new("PUBSUB").arg(g.word(sub));
            if g.pct(60) {
                c.push(g.pick(PATTERNS));
            }
            c.check(Check::Unordered)
        }
        9 | 10 => {
            let sub = if g.pct(50) { "NUMSUB" } else { "SHARDNUMSUB" };
            let mut c = Cmd::new("PUBSUB").arg(g.word(sub));
            for _ in 0..g.below(4) {
                let names = if g.pct(50) { CHANNELS } else { SHARD_CHANNELS };
                c.push(g.pick(names));
            }
            c
        }
        11 => Cmd::new("PUBSUB").arg(g.word("NUMPAT")),
        12 => Cmd::new("PUBSUB").arg(g.word("HELP")),
        // Errors; never cut short by a mutation, which could turn one into an unordered PUBSUB CHANNELS.
        _ => Cmd::new("PUBSUB").arg(g.pick(&["NOSUCH", "CHANNELS", "NUMPAT"])).arg(g.value()).arg(g.value()).fixed(),
    }
}
