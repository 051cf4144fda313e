//! Keyspace family: DEL, EXISTS, TYPE, expiry commands, RENAME, COPY, MOVE, KEYS, SCAN, DBSIZE, FLUSHDB…

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];

/// Server-wide SCAN cursors: a numeric cursor names the last key a SCAN returned, from any connection.
#[derive(Default)]
pub struct ScanCursors {}
