//! Shrinking a failing sequence by delta debugging: drop chunks of commands (halves, quarters, … single
//! commands) for as long as the mismatch persists, replaying every candidate from FLUSHALL on both servers.
//!
//! "The mismatch persists" means a candidate still disagrees on a command with the same name as the original
//! disagreement, so shrinking does not wander off to a different bug; a candidate is cut right after its own
//! first disagreement.

use std::time::{Duration, Instant};

use crate::compare::{run_sequence, Mismatch, Outcome};
use crate::conn::Pair;
use crate::gen::Cmd;

pub struct Shrunk {
    pub cmds: Vec<Cmd>,
    pub mismatch: Mismatch,
    /// Candidates replayed.
    pub tries: usize,
    /// False when the time budget ran out first (the sequence is smaller but maybe not minimal).
    pub minimal: bool,
}

/// Shrinks `cmds`, whose last command disagreed. `None` when the full sequence does not disagree again when
/// replayed (a mismatch that depends on more than the commands, e.g. timing).
pub fn shrink(pair: &mut Pair, cmds: &[Cmd], budget: Duration) -> Option<Shrunk> {
    let deadline = Instant::now() + budget;
    let name = cmds.last()?.name();
    let mut tries = 0;
    let mut attempt = |pair: &mut Pair, candidate: Vec<Cmd>| -> Option<(Vec<Cmd>, Mismatch)> {
        tries += 1;
        match run_sequence(pair, &candidate, None) {
            Outcome::Mismatch(m) if candidate[m.index].name() == name => {
                let mut candidate = candidate;
                candidate.truncate(m.index + 1);
                Some((candidate, m))
            }
            _ => None,
        }
    };
    let (mut best, mut mismatch) = attempt(pair, cmds.to_vec())?;
    // Most disagreements need only the command itself; try that before splitting.
    if best.len() > 1 {
        if let Some(found) = attempt(pair, best[best.len() - 1..].to_vec()) {
            (best, mismatch) = found;
        }
    }
    let mut chunks = 2;
    let mut minimal = true;
    while best.len() > 1 {
        if Instant::now() > deadline {
            minimal = false;
            break;
        }
        let len = best.len();
        let size = len.div_ceil(chunks);
        let mut reduced = false;
        let mut start = 0;
        while start < len && Instant::now() <= deadline {
            let end = (start + size).min(len);
            let candidate: Vec<Cmd> = best[..start].iter().chain(&best[end..]).cloned().collect();
            if let Some(found) = attempt(pair, candidate) {
                (best, mismatch) = found;
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced && Instant::now() > deadline {
            minimal = false;
            break;
        }
        if reduced {
            chunks = (chunks - 1).max(2);
        } else if size == 1 {
            break;
        } else {
            chunks = (chunks * 2).min(len);
        }
    }
    Some(Shrunk { cmds: best, mismatch, tries, minimal })
}
