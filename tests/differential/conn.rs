//! The two servers under comparison and raw RESP connections to them.
//!
//! Requests are written as multibulk bytes and exactly one reply frame is read back (frame lengths from the
//! `redis-protocol` crate, RESP2 or RESP3 parser by the connection's protocol), so replies are compared as the
//! exact bytes each server sent. A connection that fails (closed, timed out, unparseable bytes) yields a
//! synthetic `<<…>>` reply, which is never valid RESP and therefore always a mismatch.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{answers_as, free_port, Raw, Server};
use crate::listen::Listener;

/// How long one reply may take before the server is considered stuck.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);
/// The same for FLUSHALL when a sequence starts (it may have a lot to drop).
const FLUSH_TIMEOUT: Duration = Duration::from_secs(20);

/// One raw connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    resp3: bool,
    timeout: Duration,
    /// Set after a transport failure: the stream's position in the reply stream is unknown from then on.
    broken: bool,
}

impl Conn {
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        // Reads wake up at least this often, so the per-reply deadline (longer for FLUSHALL) is checked.
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::new(), resp3: false, timeout: REPLY_TIMEOUT, broken: false })
    }

    /// Writes one request; a failure shows up as the reply of the following [`Conn::read`].
    pub fn send(&mut self, args: &[Vec<u8>]) {
        if self.broken {
            return;
        }
        let parts: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        if self.stream.write_all(&Raw::encode(&parts)).is_err() {
            self.broken = true;
        }
    }

    /// Reads exactly one reply frame.
    pub fn read(&mut self) -> Vec<u8> {
        if self.broken {
            return b"<<connection unusable after an earlier failure>>".to_vec();
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            match frame_len(&self.buf, self.resp3) {
                Ok(Some(n)) => return self.buf.drain(..n).collect(),
                Ok(None) => {}
                Err(e) => {
                    return self.fail(format!("invalid RESP{} ({e}) in {}", proto(self.resp3), escape(&self.buf)))
                }
            }
            if Instant::now() > deadline {
                return self.fail(format!("no complete reply within {:?}; have {}", self.timeout, escape(&self.buf)));
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return self.fail(format!("connection closed; have {}", escape(&self.buf))),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return self.fail(format!("read failed ({e}); have {}", escape(&self.buf))),
            }
        }
    }

    pub fn call(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        self.send(args);
        self.read()
    }

    /// `HELLO 3`; its reply (which carries the connection id) is only checked for success.
    pub fn hello3(&mut self) -> Result<(), String> {
        self.send(&[b"HELLO".to_vec(), b"3".to_vec()]);
        self.resp3 = true;
        let reply = self.read();
        if reply.first() != Some(&b'%') {
            return Err(format!("HELLO 3 answered {}", escape(&reply)));
        }
        Ok(())
    }

    pub fn resp3(&self) -> bool {
        self.resp3
    }

    fn fail(&mut self, why: String) -> Vec<u8> {
        self.broken = true;
        format!("<<{why}>>").into_bytes()
    }
}

/// The protocol's number, for messages.
pub fn proto(resp3: bool) -> u8 {
    if resp3 {
        3
    } else {
        2
    }
}

/// True for the synthetic replies [`Conn`] makes up when the transport fails.
pub fn is_transport_failure(reply: &[u8]) -> bool {
    reply.starts_with(b"<<")
}

/// The length of the complete frame at the start of `buf`, `None` while it is incomplete. The `decode_range`
/// variants run the same parser as `decode` without building owned frames, which would reject error messages
/// that are not UTF-8 (Redis echoes arguments into errors byte for byte).
pub fn frame_len(buf: &[u8], resp3: bool) -> Result<Option<usize>, String> {
    if buf.is_empty() {
        return Ok(None);
    }
    let r = if resp3 {
        redis_protocol::resp3::decode::complete::decode_range(buf).map(|o| o.map(|(_, n)| n))
    } else {
        redis_protocol::resp2::decode::decode_range(buf).map(|o| o.map(|(_, n)| n))
    };
    r.map_err(|e| e.to_string())
}

/// The raw elements of an aggregate reply (array, set, push; a map's keys and values alternate), or `None` for
/// anything else (including nil arrays).
pub fn elements(raw: &[u8], resp3: bool) -> Option<Vec<&[u8]>> {
    let kind = *raw.first()?;
    if !matches!(kind, b'*' | b'~' | b'>' | b'%') {
        return None;
    }
    let eol = raw.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&raw[1..eol]).ok()?.parse().ok()?;
    let n = if kind == b'%' { n * 2 } else { n };
    let mut rest = &raw[eol + 2..];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = frame_len(rest, resp3).ok()??;
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    Some(out)
}

/// The payload of a bulk (`$`) or simple (`+`) string reply.
pub fn string(raw: &[u8]) -> Option<&[u8]> {
    let end = raw.len().checked_sub(2)?;
    match raw.first()? {
        b'+' => raw.get(1..end),
        b'$' => {
            let eol = raw.windows(2).position(|w| w == b"\r\n")?;
            raw.get(eol + 2..end)
        }
        _ => None,
    }
}

/// The value of an integer (`:`) reply.
pub fn integer(raw: &[u8]) -> Option<i64> {
    let body = raw.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    std::str::from_utf8(body).ok()?.parse().ok()
}

pub fn is_error(raw: &[u8]) -> bool {
    matches!(raw.first(), Some(b'-' | b'!'))
}

/// The nil bulk string of either protocol.
pub fn is_nil(raw: &[u8]) -> bool {
    raw == b"$-1\r\n" || raw == b"_\r\n"
}

/// Bytes as a double-quoted string with C-style escapes (the form redis-cli reads back).
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// [`escape`], cut short for replies that can be kilobytes long.
pub fn brief(bytes: &[u8]) -> String {
    const MAX: usize = 160;
    if bytes.len() <= MAX {
        return escape(bytes);
    }
    format!("{}… ({} bytes)", escape(&bytes[..MAX]), bytes.len())
}

/// A redis-server process with a temporary working directory, no persistence.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    pub fn start() -> Result<RedisServer, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        for _attempt in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot run redis-server (apt-get install redis-server): {e}"))?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if answers_as(port, child.id(), None) {
                    return Ok(RedisServer { child, port, _dir: dir });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err("redis-server did not start".into())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both servers, with one connection to each in the protocol under test.
pub struct Pair {
    pub sable: Server,
    pub redis: RedisServer,
    pub a: Conn,
    pub b: Conn,
    pub resp3: bool,
    /// With `--stats`: per command name, how many ran and how many redis-server answered with an error.
    pub stats: Option<BTreeMap<String, [u64; 2]>>,
    /// `notify-keyspace-events` for both servers (empty: none), set when a sequence starts.
    pub notify: String,
    /// The subscribers whose messages are compared after every command (sabledb's, redis-server's).
    pub listeners: Option<[Listener; 2]>,
    /// The payloads redis-server returned to the DUMPs of the running sequence, for RESTORE's
    /// [`crate::gen::CAPTURED`].
    pub captured: Vec<Vec<u8>>,
}

impl Pair {
    pub fn start() -> Result<Pair, String> {
        let redis = RedisServer::start()?;
        let sable = Server::start();
        let a = Conn::connect(sable.port).map_err(|e| format!("connect to sabledb: {e}"))?;
        let b = Conn::connect(redis.port).map_err(|e| format!("connect to redis-server: {e}"))?;
        Ok(Pair {
            sable,
            redis,
            a,
            b,
            resp3: false,
            stats: None,
            notify: String::new(),
            listeners: None,
            captured: Vec::new(),
        })
    }

    /// Fresh connections (database 0, the protocol under test) to two empty servers. A sabledb that stopped
    /// answering (crashed) is restarted on its data directory first.
    pub fn reset(&mut self) -> Result<(), String> {
        self.captured.clear();
        self.a = match Conn::connect(self.sable.port) {
            Ok(c) => c,
            Err(_) => {
                self.sable.restart();
                Conn::connect(self.sable.port).map_err(|e| format!("reconnect to restarted sabledb: {e}"))?
            }
        };
        self.b = Conn::connect(self.redis.port).map_err(|e| format!("reconnect to redis-server: {e}"))?;
        for (who, c) in [("sabledb", &mut self.a), ("redis-server", &mut self.b)] {
            c.timeout = FLUSH_TIMEOUT;
            let r = c.call(&[b"FLUSHALL".to_vec()]);
            c.timeout = REPLY_TIMEOUT;
            if r != b"+OK\r\n" {
                return Err(format!("{who}: FLUSHALL answered {}", escape(&r)));
            }
            if self.resp3 {
                c.hello3().map_err(|e| format!("{who}: {e}"))?;
            }
            let notify = [
                b"CONFIG".to_vec(),
                b"SET".to_vec(),
                b"notify-keyspace-events".to_vec(),
                self.notify.clone().into_bytes(),
            ];
            let r = c.call(&notify);
            if r != b"+OK\r\n" {
                return Err(format!("{who}: CONFIG SET notify-keyspace-events answered {}", escape(&r)));
            }
        }
        self.listeners = None;
        let (x, y) = (Listener::start(self.sable.port, self.resp3)?, Listener::start(self.redis.port, self.resp3)?);
        if x.confirmations != y.confirmations {
            return Err(format!(
                "the listeners' subscriptions were confirmed differently: sabledb {} / redis-server {}",
                escape(&x.confirmations),
                escape(&y.confirmations)
            ));
        }
        self.listeners = Some([x, y]);
        Ok(())
    }

    /// Sends the request to both servers before reading either reply, so they work in parallel.
    pub fn call_both(&mut self, args: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
        self.a.send(args);
        self.b.send(args);
        (self.a.read(), self.b.read())
    }
}
