//! The ACL log (ACL LOG): denied commands, keys, channels and failed authentications, newest first, similar
//! events within a minute folded into one entry with a count, as Redis 7.0 keeps it.

use parking_lot::Mutex;

use crate::resp::reply::Reply;
use crate::util::now_ms;

/// Why an entry was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    fn word(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the denied command ran: at top level or inside MULTI/EXEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    /// A command a Lua script ran (`redis.call`).
    Lua,
}

struct Entry {
    count: u64,
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
    ctime_ms: u64,
    client_info: String,
}

/// Redis' `ACL_LOG_GROUPING_MAX_TIME_DELTA`.
const GROUPING_MS: u64 = 60_000;

#[derive(Default)]
pub struct AclLog {
    entries: Mutex<std::collections::VecDeque<Entry>>,
}

impl AclLog {
    /// Records an event (`addACLLogEntry`): one of the 10 newest entries with the same reason, context, object
    /// and user, less than a minute apart, is counted up and moved to the front instead of adding a new one.
    pub fn add(
        &self,
        reason: Reason,
        context: Context,
        object: &[u8],
        username: &[u8],
        client_info: String,
        max_len: usize,
    ) {
        let now = now_ms();
        let mut entries = self.entries.lock();
        let found = entries.iter().take(10).position(|e| {
            e.reason == reason
                && e.context == context
                && e.ctime_ms.abs_diff(now) <= GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            if let Some(mut e) = entries.remove(i) {
                e.count += 1;
                e.ctime_ms = now;
                e.client_info = client_info;
                entries.push_front(e);
            }
            return;
        }
        entries.push_front(Entry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            ctime_ms: now,
            client_info,
        });
        entries.truncate(max_len);
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// ACL LOG [count]: the newest `count` entries as maps of Redis 7.0's seven fields.
    pub fn render(&self, out: &mut Reply, count: usize) {
        let now = now_ms();
        let entries = self.entries.lock();
        let n = count.min(entries.len());
        out.array(n);
        for e in entries.iter().take(n) {
            out.map(7);
            out.bulk(b"count");
            out.int(e.count as i64);
            out.bulk(b"reason");
            out.bulk(e.reason.word().as_bytes());
            out.bulk(b"context");
            out.bulk(match e.context {
                Context::Toplevel => b"toplevel",
                Context::Multi => b"multi",
                Context::Lua => b"lua",
            });
            out.bulk(b"object");
            out.bulk(&e.object);
            out.bulk(b"username");
            out.bulk(&e.username);
            out.bulk(b"age-seconds");
            out.double(now.saturating_sub(e.ctime_ms) as f64 / 1000.0);
            out.bulk(b"client-info");
            out.bulk(e.client_info.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_entries_are_counted() {
        let log = AclLog::default();
        log.add(Reason::Command, Context::Toplevel, b"get", b"u", "a".into(), 128);
        log.add(Reason::Key, Context::Toplevel, b"k", b"u", "b".into(), 128);
        log.add(Reason::Command, Context::Toplevel, b"get", b"u", "c".into(), 128);
        assert_eq!(log.len(), 2);
        let e = log.entries.lock();
        assert_eq!((e[0].count, e[0].client_info.as_str()), (2, "c"));
        assert_eq!(e[1].object, b"k");
        drop(e);
        log.add(Reason::Command, Context::Multi, b"get", b"u", "d".into(), 2);
        log.add(Reason::Auth, Context::Toplevel, b"AUTH", b"x", "e".into(), 2);
        assert_eq!(log.len(), 2);
    }
}
