//! `client-output-buffer-limit` for command replies: the `normal` class, or `pubsub` for a subscribed client (a
//! subscriber's messages are limited in its mailbox, `crate::pubsub`).
//!
//! Redis keeps all the replies of an event-loop turn in memory until the turn ends, and frees a client whose
//! buffered output passes the hard limit, or stays above the soft limit for longer than its seconds, without
//! writing any more of it: a client over its hard limit gets no reply of that turn at all. A writer here keeps the
//! replies of a turn (the commands of what the reader has parsed) in one buffer too, but writes it out whenever it
//! passes `FLUSH_AT` and streams large replies; so while a limit is set it counts every byte the turn produced,
//! written or not, and while a hard limit is set it writes nothing before the turn ends — which is then at each
//! batch the reader hands over, as Redis writes after each read — so the buffer grows at most to that limit, and a
//! client that passes it is closed having received none of the turn's replies.
//! Streams stop at the limit too (HRANDFIELD with a huge negative count, KEYS of a big keyspace).

use std::time::Instant;

use crate::client::ClientInfo;
use crate::pubsub::BufferLimit;
use crate::server::Server;

/// The limit of one turn of a connection's writer, and what the turn has produced so far.
pub(crate) struct TurnOutput {
    limit: BufferLimit,
    /// Bytes of this turn already written (early writes, made only while no hard limit is set).
    written: u64,
    soft_since: Option<Instant>,
}

impl TurnOutput {
    /// A new turn, under the limit of the client's class as configured now.
    pub fn start(server: &Server, info: &ClientInfo) -> TurnOutput {
        TurnOutput { limit: class_limit(server, info), written: 0, soft_since: None }
    }

    /// Whether replies may be written before the turn ends (see the module's doc).
    pub fn may_write_early(&self) -> bool {
        self.limit.hard == 0
    }

    /// `bytes` of the turn's replies are being written before the turn ends.
    pub fn wrote_early(&mut self, bytes: usize) {
        self.written += bytes as u64;
    }

    /// True when the client is over its limit with `pending` bytes not yet written: it must be closed without
    /// writing them.
    pub fn over(&mut self, pending: usize) -> bool {
        if self.limit == BufferLimit::default() {
            return false;
        }
        self.limit.exceeded(self.written + pending as u64, &mut self.soft_since, Instant::now())
    }
}

/// The limit of the client's class as configured now: `pubsub` for a subscribed client, else `normal` (Redis'
/// `getClientType` for a server without replicas).
pub(crate) fn class_limit(server: &Server, info: &ClientInfo) -> BufferLimit {
    let (normal, pubsub) = *server.output_limits.read();
    if info.subs.any() {
        pubsub
    } else {
        normal
    }
}

/// Logs and kills a client closed for its output, as Redis logs it.
pub(crate) fn close_over_limit(info: &ClientInfo) {
    tracing::warn!("Client id={} addr={} closed for overcoming of output buffer limits.", info.id, info.addr);
    info.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(hard: u64, soft: u64, soft_secs: u64) -> TurnOutput {
        TurnOutput { limit: BufferLimit { hard, soft, soft_secs }, written: 0, soft_since: None }
    }

    #[test]
    fn no_limit_never_closes_and_writes_early() {
        let mut t = turn(0, 0, 0);
        assert!(t.may_write_early());
        t.wrote_early(usize::MAX / 2);
        assert!(!t.over(usize::MAX / 2));
    }

    #[test]
    fn a_hard_limit_counts_the_whole_turn_and_holds_its_writes() {
        let mut t = turn(100, 0, 0);
        assert!(!t.may_write_early());
        assert!(!t.over(99));
        assert!(t.over(100));
        let mut t = turn(0, 100, 60);
        assert!(t.may_write_early());
        t.wrote_early(80);
        // Over the soft limit: closed only once it has stayed over it for its seconds.
        assert!(!t.over(30));
        assert!(!t.over(30));
        // Below the soft limit again: its clock starts over.
        assert!(!t.over(10));
        assert!(t.soft_since.is_none());
    }
}
