//! `maxmemory`: the memory ceiling, and the commands it refuses.
//!
//! Redis counts its data set in `used_memory` and, over `maxmemory`, evicts keys as `maxmemory-policy` says or,
//! with `noeviction` (its default), refuses the commands that may add data (`denyoom`) with
//! `-OOM command not allowed when used memory > 'maxmemory'.` SableDB's data lives on disk, so writes do not grow
//! its memory and evicting keys would not shrink it: what it measures is the process' resident memory (INFO's
//! `used_memory`: caches, memtables, clients), and
//! - with `noeviction`, over the limit, it refuses what Redis refuses in the same state: `denyoom` commands, any
//!   command but EXEC / DISCARD / QUIT / RESET inside MULTI, an EXEC whose transaction holds one, a script with a
//!   shebang that lacks `allow-oom` or `no-writes` (and a function without those flags), and inside a script
//!   without a shebang its first `denyoom` command unless it has already written;
//! - with any other policy it never refuses and never evicts (docs/configuration.md).
//!
//! Whether the limit is passed is decided when a command arrives (Redis' `pre_command_oom_state`), from a sample
//! of the resident memory at most [`SAMPLE_MS`] old; a command costs one relaxed load while no limit is set.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::util::now_ms;

/// How old the memory sample may be when a command is checked.
const SAMPLE_MS: u64 = 100;

pub const OOM_MESSAGE: &str = "command not allowed when used memory > 'maxmemory'.";

#[derive(Default)]
pub struct MemoryLimit {
    /// Bytes; 0: nothing is ever refused (no `maxmemory`, or a policy other than `noeviction`).
    limit: AtomicU64,
    /// The resident memory last sampled, and when.
    used: AtomicU64,
    sampled_ms: AtomicU64,
}

impl MemoryLimit {
    /// Applies `maxmemory` and `maxmemory-policy` (CONFIG SET, start-up); the memory is sampled anew, so a limit
    /// set below it refuses the very next command.
    pub fn configure(&self, maxmemory: u64, policy: &str) {
        let limit = if policy == "noeviction" { maxmemory } else { 0 };
        self.limit.store(limit, Ordering::Relaxed);
        self.sampled_ms.store(0, Ordering::Relaxed);
    }

    /// True when a limit is set and the server's memory is over it.
    #[inline]
    pub fn exceeded(&self) -> bool {
        let limit = self.limit.load(Ordering::Relaxed);
        limit != 0 && self.used() > limit
    }

    #[cold]
    fn used(&self) -> u64 {
        let now = now_ms();
        if now.saturating_sub(self.sampled_ms.load(Ordering::Relaxed)) >= SAMPLE_MS {
            self.used.store(crate::commands::memory::process_rss(), Ordering::Relaxed);
            self.sampled_ms.store(now, Ordering::Relaxed);
        }
        self.used.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_noeviction_refuses_and_only_over_the_limit() {
        let m = MemoryLimit::default();
        assert!(!m.exceeded(), "no limit");
        m.configure(1, "noeviction");
        assert!(m.exceeded(), "a process uses more than one byte");
        m.configure(1, "allkeys-lru");
        assert!(!m.exceeded(), "policies that evict in Redis never refuse here");
        m.configure(1 << 50, "noeviction");
        assert!(!m.exceeded(), "a petabyte is not passed");
        m.configure(0, "noeviction");
        assert!(!m.exceeded());
    }
}
