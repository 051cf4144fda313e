//! Test harness: starts the real `sabledb` binary on a free port with a temporary data directory and talks to it
//! with the `redis` crate, raw sockets (exact bytes; frames delimited with the `redis-protocol` crate) and
//! `redis-cli`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sabledb");

/// A free TCP port on 127.0.0.1 for a server under test.
///
/// Ports come from 20000–31999, below the kernel's ephemeral range, walked from a per-process offset by a counter:
/// a port the kernel handed out for `:0` can be handed out again to a parallel test before our server binds it,
/// and the second server would then fail while its harness talked to the first one's.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = std::process::id().wrapping_mul(7919);
    loop {
        let candidate = 20000 + (offset.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 12000) as u16;
        if TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            return candidate;
        }
    }
}

/// A running sabledb process.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    extra: Vec<String>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    /// Starts with extra `--option value` arguments.
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut s = Server { child: None, port: 0, dir, extra: extra.iter().map(|s| s.to_string()).collect() };
        s.spawn();
        s
    }

    /// The nice value of each of the server's threads, by thread name.
    pub fn thread_nices(&self) -> Vec<(String, i64)> {
        let pid = self.child.as_ref().expect("server running").id();
        let mut out = Vec::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("proc tasks").flatten() {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            // `pid (comm) state ...`: the fields after the name's closing parenthesis; nice is the 19th field.
            let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
            let name = head.split_once(" (").map(|(_, n)| n.to_string()).unwrap_or_default();
            if let Some(nice) = rest.split(' ').nth(16).and_then(|n| n.parse().ok()) {
                out.push((name, nice));
            }
        }
        out
    }

    /// The server process' resident memory: (current, peak since the last [`Server::reset_peak_rss`]), in KiB.
    pub fn rss_kib(&self) -> (u64, u64) {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .expect("VmRSS/VmHWM")
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Resets the kernel's peak-RSS mark of the server process (`/proc/PID/clear_refs`, value 5).
    pub fn reset_peak_rss(&self) {
        let pid = self.child.as_ref().expect("server running").id();
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("clear_refs");
    }

    pub fn db_path(&self) -> String {
        self.dir.path().join("db").display().to_string()
    }

    fn spawn(&mut self) {
        for _attempt in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(BIN);
            cmd.args(["--port", &port.to_string(), "--db_path", &self.db_path(), "--workers", "2"])
                .args(["--log_level", "warn"])
                .args(&self.extra)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            let mut child = cmd.spawn().expect("start sabledb");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                // The port may have been taken by another process meanwhile (tests of other checkouts run on the
                // same machine): only a server that reports our child's pid is ours.
                let password = self.extra.iter().position(|a| a == "--requirepass").and_then(|i| self.extra.get(i + 1));
                if answers_as(port, child.id(), password.map(String::as_str)) {
                    self.port = port;
                    self.child = Some(child);
                    return;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sabledb did not start");
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same data directory (after [`Server::kill9`]).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Waits for the process to exit by itself (SHUTDOWN); returns its exit status code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = c.kill();
        None
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A synchronous `redis` crate connection.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url()).and_then(|c| c.get_connection()).expect("redis connection")
    }

    /// A raw socket speaking exact bytes.
    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// Runs `redis-cli -p PORT args…` and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli (apt-get install redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// True when a server listens on `port` and its `INFO server` reports process `pid` (after `AUTH password`).
pub fn answers_as(port: u16, pid: u32, password: Option<&str>) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut request = match password {
        Some(p) => Raw::encode(&[b"AUTH", p.as_bytes()]),
        None => Vec::new(),
    };
    request.extend_from_slice(&Raw::encode(&[b"INFO", b"server"]));
    if stream.write_all(&request).is_err() {
        return false;
    }
    let mut info = Vec::new();
    let mut chunk = [0u8; 8192];
    let want = format!("process_id:{pid}\r\n");
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        info.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&info);
        if text.contains(&want) {
            return true;
        }
        if text.contains("process_id:") && text.ends_with("\r\n\r\n") {
            break;
        }
    }
    false
}

/// A raw connection: send bytes, read whole replies back as exact text.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
    pub resp3: bool,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        Raw { stream, buf: Vec::new(), resp3: false }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Encodes `args` as a multibulk request.
    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Sends one command and returns its reply's exact bytes as text.
    pub fn cmd(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&Raw::encode(&args));
        // HELLO's own reply already uses the protocol it asks for.
        let was = self.resp3;
        if args.len() >= 2 && args[0].eq_ignore_ascii_case(b"hello") {
            self.resp3 = args[1] == b"3";
        }
        let reply = self.read_reply();
        if reply.starts_with('-') {
            self.resp3 = was;
        }
        reply
    }

    /// Reads exactly one reply frame.
    pub fn read_reply(&mut self) -> String {
        loop {
            if let Some(len) = self.frame_len() {
                let frame: Vec<u8> = self.buf.drain(..len).collect();
                return String::from_utf8_lossy(&frame).into_owned();
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).expect("read reply");
            assert!(
                n > 0,
                "connection closed while waiting for a reply; have {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn frame_len(&self) -> Option<usize> {
        if self.buf.is_empty() {
            return None;
        }
        if self.resp3 {
            redis_protocol::resp3::decode::complete::decode(&self.buf).expect("valid RESP3").map(|(_, n)| n)
        } else {
            redis_protocol::resp2::decode::decode(&self.buf).expect("valid RESP2").map(|(_, n)| n)
        }
    }

    /// True when the server closed the connection (reads EOF within the timeout).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

pub const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
pub const SYNTAX: &str = "-ERR syntax error\r\n";

/// Sends each `(arguments, expected reply)` pair and asserts the exact reply bytes.
pub fn check(r: &mut Raw, cases: &[(&[&str], &str)]) {
    for (args, want) in cases {
        assert_eq!(r.cmd(args), *want, "{args:?}");
    }
}

/// Sends each `(command line, expected reply)` pair and asserts the exact reply bytes. Arguments are separated
/// by single spaces, so two spaces (or `''`) make an empty argument. `HELLO` switches protocols; its reply names
/// the server, so it is not compared.
pub fn expect(r: &mut Raw, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        let args: Vec<&str> = line.split(' ').map(|a| if a == "''" { "" } else { a }).collect();
        let got = r.cmd(&args);
        if !args[0].eq_ignore_ascii_case("HELLO") {
            assert_eq!(got, *want, "{line}");
        }
    }
}

/// A RESP2 array of bulk strings.
pub fn array_of(items: &[&str]) -> String {
    let mut out = format!("*{}\r\n", items.len());
    for i in items {
        out.push_str(&format!("${}\r\n{}\r\n", i.len(), i));
    }
    out
}

/// The bulk strings of an aggregate reply, in reply order (nested aggregates are flattened, nulls skipped).
pub fn bulks(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = reply.split("\r\n");
    while let Some(line) = lines.next() {
        if line.starts_with('$') && line != "$-1" {
            out.push(lines.next().unwrap_or_default().to_string());
        }
    }
    out
}

/// Parses an integer reply.
pub fn int(reply: &str) -> i64 {
    reply.trim_start_matches(':').trim_end().parse().unwrap_or_else(|_| panic!("not an integer reply: {reply:?}"))
}

/// A throw-away CA and server certificate (`scripts/gen-certs.sh`) in a temporary directory: `ca.crt`,
/// `server.crt`, `server.key`.
pub fn gen_certs() -> tempfile::TempDir {
    let certs = tempfile::tempdir().expect("temp dir");
    let gen = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/gen-certs.sh"))
        .arg(certs.path())
        .output()
        .expect("run gen-certs.sh");
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));
    certs
}
