//! Generator of transaction commands for the differential tester: MULTI, EXEC, DISCARD, WATCH and UNWATCH, with
//! their misuses (nesting, WATCH inside MULTI, EXEC/DISCARD without MULTI, wrong arities, refused commands that
//! make EXEC fail). The commands between MULTI and EXEC come from every other family: [`super::sequence`] keeps
//! only those compared exactly while a transaction is open, because EXEC's reply holds all of their replies
//! and no normalisation applies inside it. WATCHed keys are modified (or not) by the sequence itself, by this one
//! connection, before EXEC: a write, an expiry in the past, FLUSHDB, FLUSHALL, SWAPDB, MOVE and RENAME all come
//! from the other families. The generator follows whether a transaction is open ([`Gen::in_multi`]); these
//! commands are never mutated, so that it stays right.

use super::{Cmd, Gen};

/// One transaction command, depending on whether a transaction is open.
pub fn transactions(g: &mut Gen) -> Cmd {
    if !g.in_multi {
        return match g.below(20) {
            0..=8 => {
                g.in_multi = true;
                Cmd::new("MULTI")
            }
            9..=13 => watch(g),
            14 | 15 => Cmd::new("UNWATCH"),
            16 => Cmd::new("EXEC"),
            17 => Cmd::new("DISCARD"),
            18 => Cmd::new(g.pick(&["MULTI", "UNWATCH"])).arg(g.value()),
            _ => Cmd::new("WATCH"),
        }
        .fixed();
    }
    let cmd = match g.below(20) {
        0..=9 => {
            g.in_multi = false;
            Cmd::new("EXEC")
        }
        10 | 11 => {
            g.in_multi = false;
            Cmd::new("DISCARD")
        }
        12 => Cmd::new("MULTI"),
        13 => watch(g),
        14 => Cmd::new("UNWATCH"),
        // Refused while queueing (EXEC then fails with EXECABORT): wrong arity, unknown command. (SHUTDOWN, not
        // allowed in MULTI, is left to the integration tests: should the generator be wrong about the state, it
        // would stop the servers.)
        15 => Cmd::new(g.pick(&["GET", "SET", "EXPIRE"])),
        16 => Cmd::new("NOSUCH").arg(g.key()),
        17 => Cmd::new("DISCARD").arg(g.value()),
        // EXEC with an argument is refused and ends the transaction.
        18 => {
            g.in_multi = false;
            Cmd::new("EXEC").arg(g.value())
        }
        _ => Cmd::new("PING"),
    };
    cmd.fixed()
}

/// WATCH of one to three keys.
fn watch(g: &mut Gen) -> Cmd {
    let mut c = Cmd::new("WATCH");
    for _ in 0..g.range(1, 4) {
        c.push(g.key());
    }
    c
}
