//! MIGRATE: moves (or copies) keys to another server, as Redis 7.0's `migrateCommand` (cluster.c) does outside
//! cluster mode.
//!
//! The keys are looked up as reads, their DUMP payloads built by [`super::dump::payload`], and sent pipelined as
//! `RESTORE key ttl payload [REPLACE]` (after `AUTH` and a `SELECT` when the connection is not already on the
//! destination database); then the replies are read, one line each, and the keys the target accepted are deleted
//! here unless COPY was given. Replies and errors are Redis': `+NOKEY` when no key exists, `-IOERR …` on a socket
//! error or timeout (after one retry on a fresh connection when nothing was processed and it was not a timeout),
//! and the target's first error passed back as `-ERR Target instance replied with error: …`.
//!
//! Connections are cached per `host:port` ([`SocketCache`]) and closed after 10 seconds unused (the background
//! check calls [`SocketCache::close_idle`] once a second, as Redis' cron does), or on a socket error.
//!
//! The handler runs on its worker thread and blocks it, with the socket timeouts MIGRATE was given, as Redis blocks
//! its event loop. It holds the keys' locks from the lookups until the accepted keys are deleted, so the value sent
//! is the value deleted (Redis' MIGRATE is atomic too); other workers wait only for commands on those stripes.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

use super::string::lookup_read;
use super::{dump, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::storage::scope;
use crate::util::{eq_ic, parse_i64, wall_ms};

pub const HANDLERS: &[(&str, Handler)] = &[("migrate", migrate)];

/// At most this many cached connections; a new one then replaces one of them (`MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;
/// Seconds a cached connection may stay unused (`MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL_SECS: u64 = 10;
/// The request is written in chunks of this size, each within the timeout.
const WRITE_CHUNK: usize = 64 * 1024;
/// Redis reads each reply line into a 1024-byte buffer: at most 1023 bytes of it.
const LINE_MAX: usize = 1023;

/// A connection to a target instance.
struct Cached {
    conn: BufReader<TcpStream>,
    /// The database the connection has selected, or -1 when unknown (a new connection, or after an error).
    last_dbid: i64,
    /// Seconds since the epoch.
    last_use: u64,
}

/// MIGRATE's connections, by `host:port` as the command spelled them. A connection in use is out of the map (a
/// MIGRATE on another worker to the same target opens its own).
#[derive(Default)]
pub struct SocketCache {
    sockets: Mutex<HashMap<Vec<u8>, Cached>>,
}

impl SocketCache {
    /// INFO's `migrate_cached_sockets`.
    pub fn len(&self) -> usize {
        self.sockets.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the connections unused for more than 10 seconds (Redis' `migrateCloseTimedoutSockets`).
    pub fn close_idle(&self) {
        let now = wall_ms() / 1000;
        self.sockets.lock().retain(|_, c| now.saturating_sub(c.last_use) <= CACHE_TTL_SECS);
    }

    fn take(&self, name: &[u8]) -> Option<Cached> {
        self.sockets.lock().remove(name)
    }

    fn put(&self, name: Vec<u8>, c: Cached) {
        let mut map = self.sockets.lock();
        if map.len() >= CACHE_ITEMS && !map.contains_key(&name) {
            // Redis drops one at random.
            if let Some(victim) = map.keys().next().cloned() {
                map.remove(&victim);
            }
        }
        map.insert(name, c);
    }
}

/// MIGRATE's options (arguments from the sixth on).
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a Bytes>,
    password: Option<&'a Bytes>,
    /// The keys' positions in argv.
    first_key: usize,
    num_keys: usize,
}

fn parse_options(argv: &[Bytes]) -> CmdResult<Options<'_>> {
    let argc = argv.len();
    let mut o = Options { copy: false, replace: false, username: None, password: None, first_key: 3, num_keys: 1 };
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let a = &argv[j];
        if eq_ic(a, b"copy") {
            o.copy = true;
        } else if eq_ic(a, b"replace") {
            o.replace = true;
        } else if eq_ic(a, b"auth") {
            if more == 0 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            o.password = Some(&argv[j]);
        } else if eq_ic(a, b"auth2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            o.username = Some(&argv[j + 1]);
            o.password = Some(&argv[j + 2]);
            j += 2;
        } else if eq_ic(a, b"keys") {
            if !argv[3].is_empty() {
                return Err(CmdError::err(
                    "When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            o.first_key = j + 1;
            o.num_keys = argc - j - 1;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

fn io_error(what: &str) -> CmdError {
    CmdError::Prefixed("IOERR", format!("error or timeout {what} to target instance"))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// C's `atoi`: leading blanks, a sign, digits up to the first other byte; 0 when there are none.
fn atoi(s: &[u8]) -> i64 {
    let s = &s[s.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(s.len())..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, c| n.saturating_mul(10).saturating_add((c - b'0') as i64));
    if neg {
        -n
    } else {
        n
    }
}

/// What connecting gave.
enum Connect {
    Connected(TcpStream),
    /// The connection attempt started and then failed (refused, unreachable host): Redis' blocking connect only
    /// waits for the socket to become writable, so it goes on and fails writing.
    Dead,
    /// The name did not resolve, the attempt timed out or could not start: `-IOERR … connecting to the client`.
    Failed,
}

/// Redis' `connBlockingConnect`: the first address whose connection attempt starts is the one used.
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Connect {
    // The host is a C string to Redis.
    let host = &host[..host.iter().position(|&c| c == 0).unwrap_or(host.len())];
    let Ok(host) = std::str::from_utf8(host) else { return Connect::Failed };
    let Ok(port) = u16::try_from(atoi(port)) else { return Connect::Failed };
    let Ok(addrs) = (host, port).to_socket_addrs() else { return Connect::Failed };
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Connect::Connected(s),
            Err(e) if is_timeout(&e) => return Connect::Failed,
            // `connect` itself failed: Redis tries the next address.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::NetworkUnreachable | ErrorKind::AddrNotAvailable | ErrorKind::Unsupported
                ) => {}
            Err(_) => return Connect::Dead,
        }
    }
    Connect::Failed
}

/// Redis' `connSyncWrite` of 64 KiB chunks: each chunk written within `timeout`.
fn write_request(s: &mut TcpStream, request: &[u8], timeout: Duration) -> io::Result<()> {
    for chunk in request.chunks(WRITE_CHUNK) {
        let deadline = Instant::now() + timeout;
        let mut pos = 0;
        while pos < chunk.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            s.set_write_timeout(Some(left))?;
            match s.write(&chunk[pos..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => pos += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Redis' `connSyncReadLine` into a 1024-byte buffer: up to `\n` or 1023 bytes, a final `\r` dropped. A line of
/// no bytes at all (a bare `\n`) is a failure to Redis, as is the end of the stream.
fn read_line(r: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    while line.len() < LINE_MAX {
        let byte = {
            let buf = r.fill_buf()?;
            let Some(&b) = buf.first() else { return Err(ErrorKind::UnexpectedEof.into()) };
            b
        };
        r.consume(1);
        if byte == b'\n' {
            if line.is_empty() {
                return Err(ErrorKind::InvalidData.into());
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(line);
        }
        line.push(byte);
    }
    Ok(line)
}

fn bulk_count(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(s.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

fn is_error(line: &[u8]) -> bool {
    line.first() == Some(&b'-')
}

/// A key found by the lookups: its name, expiry (ms since the epoch, 0 for none) and DUMP payload.
struct Found<'a> {
    key: &'a Bytes,
    expire_at: u64,
    payload: Vec<u8>,
}

/// The request of one attempt: AUTH, SELECT when `select`, then a RESTORE for every key not expired by now; and
/// the indices (in `found`) of the keys it restores.
fn request(o: &Options, dbid: i64, select: bool, found: &[Found]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    if let Some(password) = o.password {
        bulk_count(&mut out, if o.username.is_some() { 3 } else { 2 });
        bulk(&mut out, b"AUTH");
        if let Some(user) = o.username {
            bulk(&mut out, user);
        }
        bulk(&mut out, password);
    }
    if select {
        bulk_count(&mut out, 2);
        bulk(&mut out, b"SELECT");
        bulk(&mut out, itoa::Buffer::new().format(dbid).as_bytes());
    }
    let now = wall_ms() as i64;
    let mut sent = Vec::new();
    for (i, f) in found.iter().enumerate() {
        let mut ttl = 0i64;
        if f.expire_at != 0 {
            ttl = (f.expire_at as i64).saturating_sub(now);
            if ttl < 0 {
                continue;
            }
            ttl = ttl.max(1);
        }
        sent.push(i);
        bulk_count(&mut out, if o.replace { 5 } else { 4 });
        bulk(&mut out, b"RESTORE");
        bulk(&mut out, f.key);
        bulk(&mut out, itoa::Buffer::new().format(ttl).as_bytes());
        bulk(&mut out, &f.payload);
        if o.replace {
            bulk(&mut out, b"REPLACE");
        }
    }
    (out, sent)
}

/// Deletes the keys the target accepted, in one write, and announces each with `del` as Redis' MIGRATE does
/// (once per acknowledged RESTORE, so a key named twice is announced twice).
fn delete_accepted(ctx: &Ctx, accepted: &[&Bytes]) -> CmdResult {
    let mut keys: Vec<&[u8]> = accepted.iter().map(|k| &k[..]).collect();
    keys.sort_unstable();
    keys.dedup();
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    for key in keys {
        if let Some(old) = txn.load(db, key)? {
            txn.delete(db, key, &old);
        }
    }
    txn.commit()?;
    for key in accepted {
        notify(ctx, notify::GENERIC, "del", key);
    }
    Ok(())
}

fn migrate(ctx: &mut Ctx, args: &mut super::Args) -> CmdResult {
    let argv = args.argv();
    let o = parse_options(argv)?;
    let timeout = parse_i64(&argv[5]).ok_or(CmdError::NotInteger)?;
    let dbid = parse_i64(&argv[4]).ok_or(CmdError::NotInteger)?;
    let timeout = if timeout <= 0 { 1000 } else { timeout };
    let timeout = Duration::from_millis(timeout.min(i32::MAX as i64) as u64);
    let (host, port) = (&argv[1], &argv[2]);
    let keys = &argv[o.first_key..o.first_key + o.num_keys];

    // The payloads read committed collection records; the locks are held until the accepted keys are deleted.
    scope::settle();
    let mut lock_keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
    lock_keys.sort_unstable();
    lock_keys.dedup();
    let _guard = ctx.store.locks.lock(&lock_keys);
    let mut found = Vec::new();
    for key in keys {
        if let Some(rec) = lookup_read(ctx, key)? {
            let view = rec.view();
            found.push(Found { key, expire_at: view.expire_at(), payload: dump::payload(ctx, &view)? });
        }
    }
    if found.is_empty() {
        ctx.out.simple("NOKEY");
        return Ok(());
    }

    let name: Vec<u8> = [&host[..], b":", &port[..]].concat();
    let cache = &ctx.server.migrate_sockets;
    let mut may_retry = true;
    loop {
        let mut cs = match cache.take(&name) {
            Some(mut cs) => {
                cs.last_use = wall_ms() / 1000;
                cs
            }
            None => match connect(host, port, timeout) {
                Connect::Connected(s) => {
                    let _ = s.set_nodelay(true);
                    Cached { conn: BufReader::new(s), last_dbid: -1, last_use: wall_ms() / 1000 }
                }
                Connect::Dead => {
                    // Its first write fails (not a timeout): retried once, then reported as a write error.
                    if may_retry {
                        may_retry = false;
                        continue;
                    }
                    return Err(io_error("writing"));
                }
                Connect::Failed => {
                    return Err(CmdError::Prefixed("IOERR", "error or timeout connecting to the client".into()))
                }
            },
        };
        let select = cs.last_dbid != dbid;
        let (req, sent) = request(&o, dbid, select, &found);

        // On a socket error the connection is dropped (closed, out of the cache); it is retried once on a new
        // one unless it timed out.
        if let Err(e) = write_request(cs.conn.get_mut(), &req, timeout) {
            if !is_timeout(&e) && may_retry {
                may_retry = false;
                continue;
            }
            return Err(io_error("writing"));
        }
        let read_timeout = cs.conn.get_ref().set_read_timeout(Some(timeout));
        let preamble = read_timeout.and_then(|()| {
            let auth = if o.password.is_some() { Some(read_line(&mut cs.conn)?) } else { None };
            let select = if select { Some(read_line(&mut cs.conn)?) } else { None };
            Ok((auth, select))
        });
        let (auth_reply, select_reply) = match preamble {
            Ok(replies) => replies,
            Err(e) if !is_timeout(&e) && may_retry => {
                may_retry = false;
                continue;
            }
            Err(_) => return Err(io_error("reading")),
        };

        let mut target_error: Option<Vec<u8>> = None;
        let mut socket_error: Option<io::Error> = None;
        let mut accepted: Vec<&Bytes> = Vec::new();
        let mut replies = 0;
        for &i in &sent {
            let line = match read_line(&mut cs.conn) {
                Ok(l) => l,
                Err(e) => {
                    socket_error = Some(e);
                    break;
                }
            };
            let first_error = [auth_reply.as_deref(), select_reply.as_deref(), Some(&line[..])]
                .into_iter()
                .flatten()
                .find(|l| is_error(l))
                .map(|l| l[1..].to_vec());
            match first_error {
                Some(text) if target_error.is_none() => {
                    cs.last_dbid = -1;
                    target_error = Some(text);
                }
                Some(_) => {}
                None if !o.copy => accepted.push(found[i].key),
                None => {}
            }
            replies += 1;
        }
        if target_error.is_none() && replies == 0 && may_retry && socket_error.as_ref().is_some_and(|e| !is_timeout(e))
        {
            may_retry = false;
            continue;
        }
        if !accepted.is_empty() {
            delete_accepted(ctx, &accepted)?;
        }
        let socket_ok = socket_error.is_none();
        match target_error {
            None if !socket_ok => return Err(io_error("reading")),
            None => {
                cs.last_dbid = dbid;
                cache.put(name, cs);
                ctx.out.ok();
                return Ok(());
            }
            Some(text) => {
                if socket_ok {
                    cache.put(name, cs);
                }
                let text: String = String::from_utf8_lossy(&text)
                    .chars()
                    .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                    .collect();
                return Err(CmdError::err(format!("Target instance replied with error: {text}")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::test_argv;

    #[test]
    fn options_parse_as_redis_does() {
        let argv = test_argv(&["migrate", "h", "1", "", "0", "10", "COPY", "auth2", "u", "p", "KEYS", "a", "b"]);
        let o = parse_options(&argv).unwrap();
        assert!(o.copy && !o.replace);
        assert_eq!((o.first_key, o.num_keys), (11, 2));
        assert_eq!(o.username.map(|u| &u[..]), Some(&b"u"[..]));
        let argv = test_argv(&["migrate", "h", "1", "k", "0", "10", "keys", "a"]);
        assert!(matches!(parse_options(&argv), Err(CmdError::Prefixed("ERR", m)) if m.contains("empty string")));
        for bad in [&["auth"][..], &["auth2", "u"], &["bogus"]] {
            let mut words = vec!["migrate", "h", "1", "k", "0", "10"];
            words.extend_from_slice(bad);
            assert_eq!(parse_options(&test_argv(&words)).err(), Some(CmdError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn atoi_is_cs() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" 12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b""), 0);
    }
}
