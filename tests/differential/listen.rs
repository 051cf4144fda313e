//! The listeners: beside the connection under test, each server gets a subscriber connection (in the protocol
//! under test) subscribed to the keyspace notification channels, to a few channels, a pattern and a shard
//! channel that the generated PUBLISH/SPUBLISH commands use. Their subscription confirmations must be identical,
//! and after every command each subscriber's messages are collected and compared byte for byte, so notification
//! payloads and pub/sub deliveries are checked as closely as replies.
//!
//! Collecting is exact, not timed: a third connection publishes a numbered message on a channel only the
//! subscriber listens to, and the subscriber reads up to it. Whatever the command published was published
//! before its reply was sent, so it is queued before the marker on both servers.

use crate::conn::{elements, escape, Conn};

/// The channel of the markers; no generated command publishes to it.
const SYNC: &[u8] = b"differential:sync";
/// Channels, patterns and shard channels the subscriber listens to (the pub/sub generator publishes to these
/// and to others).
pub const CHANNELS: &[&str] = &["ch1", "ch2"];
pub const PATTERNS: &[&str] = &["__key*__:*", "ch*"];
pub const SHARD_CHANNELS: &[&str] = &["sch"];

pub struct Listener {
    sub: Conn,
    sync: Conn,
    seq: u64,
    /// The subscription confirmations, as received (compared between the servers when a sequence starts).
    pub confirmations: Vec<u8>,
}

fn words(name: &str, items: &[&str]) -> Vec<Vec<u8>> {
    std::iter::once(name).chain(items.iter().copied()).map(|s| s.as_bytes().to_vec()).collect()
}

impl Listener {
    /// Connects and subscribes; every confirmation must arrive before the sequence starts.
    pub fn start(port: u16, resp3: bool) -> Result<Listener, String> {
        let connect = || Conn::connect(port).map_err(|e| format!("listener connect: {e}"));
        let (mut sub, sync) = (connect()?, connect()?);
        if resp3 {
            sub.hello3()?;
        }
        let mut channels: Vec<&str> = CHANNELS.to_vec();
        channels.push(std::str::from_utf8(SYNC).unwrap_or_default());
        let requests = [
            (words("SUBSCRIBE", &channels), channels.len()),
            (words("PSUBSCRIBE", PATTERNS), PATTERNS.len()),
            (words("SSUBSCRIBE", SHARD_CHANNELS), SHARD_CHANNELS.len()),
        ];
        let mut all = Vec::new();
        for (request, confirmations) in requests {
            sub.send(&request);
            for _ in 0..confirmations {
                let reply = sub.read();
                if !reply.starts_with(if resp3 { b">3\r\n" } else { b"*3\r\n" }) {
                    return Err(format!("listener: {} answered {}", escape(&request[0]), escape(&reply)));
                }
                all.extend_from_slice(&reply);
            }
        }
        Ok(Listener { sub, sync, seq: 0, confirmations: all })
    }

    /// The messages delivered since the last call, in order, as raw frames.
    pub fn drain(&mut self) -> Result<Vec<Vec<u8>>, String> {
        self.seq += 1;
        let marker = self.seq.to_string().into_bytes();
        let published = self.sync.call(&[b"PUBLISH".to_vec(), SYNC.to_vec(), marker.clone()]);
        if published != b":1\r\n" {
            return Err(format!("listener: PUBLISH of the marker answered {}", escape(&published)));
        }
        let mut messages = Vec::new();
        loop {
            let frame = self.sub.read();
            if frame.starts_with(b"<<") {
                return Err(format!("listener: {}", escape(&frame)));
            }
            let is_marker = elements(&frame, self.sub.resp3())
                .is_some_and(|e| e.len() == 3 && e[1].ends_with(&bulk(SYNC)) && e[2] == bulk(&marker).as_slice());
            if is_marker {
                return Ok(messages);
            }
            messages.push(frame);
        }
    }
}

/// `$len\r\nbytes\r\n`.
fn bulk(b: &[u8]) -> Vec<u8> {
    let mut v = format!("${}\r\n", b.len()).into_bytes();
    v.extend_from_slice(b);
    v.extend_from_slice(b"\r\n");
    v
}
