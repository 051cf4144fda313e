//! MONITOR: the lines fed for each command (format, quoting, redaction, what is left out), transactions and
//! blocking commands, scripts, a monitor's own commands, monitors on several workers, Unix-socket clients, the output
//! buffer limit and the idle timeout. Expected lines were taken from redis-server 7.0.15 (timestamps and client
//! ports aside).

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{int, Raw, Server};

/// How a client is named in MONITOR lines: `127.0.0.1:<its port>`.
fn addr(r: &Raw) -> String {
    format!("127.0.0.1:{}", r.stream.local_addr().expect("local address").port())
}

/// Checks the timestamp of a MONITOR line (`+<seconds>.<6 digits> `, about now) and returns the rest.
fn untimed(frame: &str) -> String {
    let body = frame.strip_prefix('+').and_then(|f| f.strip_suffix("\r\n"));
    let (time, rest) = body.and_then(|b| b.split_once(' ')).unwrap_or_else(|| panic!("not a MONITOR line: {frame:?}"));
    let (secs, micros) = time.split_once('.').unwrap_or_else(|| panic!("no microseconds in {frame:?}"));
    assert!(micros.len() == 6 && micros.bytes().all(|b| b.is_ascii_digit()), "{frame:?}");
    let secs: u64 = secs.parse().unwrap_or_else(|_| panic!("bad seconds in {frame:?}"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(secs + 60 >= now && secs <= now + 1, "{frame:?} is not about now ({now})");
    rest.to_string()
}

/// Reads one MONITOR line, without its timestamp: `[db addr] "arg" …`.
fn line(m: &mut Raw) -> String {
    untimed(&m.read_reply())
}

/// Replaces every MONITOR timestamp in `text` by `T`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('+') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let secs = digits(rest);
        if secs > 0 && rest[secs..].starts_with('.') && digits(&rest[secs + 1..]) == 6 {
            out.push('T');
            rest = &rest[secs + 7..];
        }
    }
    out + rest
}

/// Polls `f` until it returns true or 10 s pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A new connection that monitors.
fn monitor(s: &Server) -> Raw {
    let mut m = s.raw();
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    m
}

const REPLICA: &str = "-ERR Replica can't interact with the keyspace\r\n";

#[test]
fn lines_quote_arguments_and_leave_out_what_redis_hides() {
    let s = Server::start();
    let mut m = monitor(&s);
    let mut c = s.raw();
    let a = addr(&c);
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["get", "foo"]);
    c.cmd(&["select", "3"]);
    c.send(&Raw::encode(&[b"set", b"a\n\r\t\x07\x08\"\\\x00\x7f\xc3\xbf \xc3\xa9~", b"1"]));
    c.read_reply();
    c.cmd(&["select", "0"]);
    // Refused before running: not fed.
    c.cmd(&["nosuch", "x"]);
    c.cmd(&["get"]);
    c.cmd(&["client", "nosub"]);
    // Admin commands: not fed.
    c.cmd(&["CONFIG", "GET", "port"]);
    c.cmd(&["CONFIG", "SET", "requirepass", ""]);
    c.cmd(&["CLIENT", "LIST"]);
    c.cmd(&["SLOWLOG", "LEN"]);
    c.cmd(&["LATENCY", "LATEST"]);
    // Run and failed: fed. Secrets: redacted.
    c.cmd(&["select", "99"]);
    c.cmd(&["auth", "x"]);
    c.cmd(&["auth", "a", "b"]);
    c.cmd(&["auth", "a", "b", "c"]);
    c.cmd(&["hello", "2", "AUTH", "a", "b", "setname", "x"]);
    // Inline commands are fed as parsed.
    c.send(b"PING inline\r\n");
    c.read_reply();
    c.send(b"set  \"a b\" 'c\\x41d'\r\n");
    c.read_reply();
    c.cmd(&["ping", "end"]);
    let want = [
        (0, r#""SET" "foo" "bar""#),
        (0, r#""get" "foo""#),
        (3, r#""select" "3""#),
        (3, r#""set" "a\n\r\t\a\b\"\\\x00\x7f\xc3\xbf \xc3\xa9~" "1""#),
        (0, r#""select" "0""#),
        (0, r#""select" "99""#),
        (0, r#""auth" "(redacted)""#),
        (0, r#""auth" "(redacted)" "(redacted)""#),
        (0, r#""auth" "a" "b" "c""#),
        (0, r#""hello" "2" "AUTH" "(redacted)" "(redacted)" "setname" "x""#),
        (0, r#""PING" "inline""#),
        (0, r#""set" "a b" "c\\x41d""#),
        (0, r#""ping" "end""#),
    ];
    for (db, args) in want {
        assert_eq!(line(&mut m), format!("[{db} {a}] {args}"));
    }
}

#[test]
fn transactions_are_fed_as_exec_runs_them() {
    let s = Server::start();
    let mut m = monitor(&s);
    let mut c = s.raw();
    let mut other = s.raw();
    let (a, o) = (addr(&c), addr(&other));
    // The queued commands are fed when EXEC runs them, before EXEC itself.
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n+OK\r\n$1\r\nv\r\n");
    // A transaction refused at EXEC: only MULTI and EXEC.
    c.cmd(&["MULTI"]);
    c.cmd(&["nosuch"]);
    assert!(c.cmd(&["EXEC"]).starts_with("-EXECABORT"));
    assert_eq!(c.cmd(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    // A watched key changed: EXEC runs nothing.
    c.cmd(&["WATCH", "w"]);
    other.cmd(&["SET", "w", "1"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["GET", "w"]);
    assert_eq!(c.cmd(&["EXEC"]), "*-1\r\n");
    // MONITOR inside a transaction is refused (and, an admin command, not fed).
    c.cmd(&["MULTI"]);
    c.cmd(&["MONITOR"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n");
    c.cmd(&["PING"]);
    let want = [
        (&a, r#""MULTI""#),
        (&a, r#""SET" "k" "v""#),
        (&a, r#""GET" "k""#),
        (&a, r#""EXEC""#),
        (&a, r#""MULTI""#),
        (&a, r#""EXEC""#),
        (&a, r#""EXEC""#),
        (&a, r#""WATCH" "w""#),
        (&o, r#""SET" "w" "1""#),
        (&a, r#""MULTI""#),
        (&a, r#""EXEC""#),
        (&a, r#""MULTI""#),
        (&a, r#""EXEC""#),
        (&a, r#""PING""#),
    ];
    for (who, args) in want {
        assert_eq!(line(&mut m), format!("[0 {who}] {args}"));
    }
}

#[test]
fn script_runners_come_before_the_commands_their_scripts_call() {
    let s = Server::start();
    let mut c = s.raw();
    let lib = "#!lua name=mylib\nredis.register_function('test', function(keys, args) return \
               redis.call('set', keys[1], args[1]) end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), "$5\r\nmylib\r\n");
    let mut m = monitor(&s);
    let a = addr(&c);
    let script = "redis.call('set',KEYS[1],ARGV[1]); redis.call('select','2'); redis.call('set','x','1')";
    assert_eq!(c.cmd(&["EVAL", script, "1", "foo", "bar"]), "$-1\r\n");
    // Fed before their arguments are checked, so also when they fail.
    assert!(c.cmd(&["EVAL", "return 1", "-1"]).starts_with("-ERR"));
    assert!(c.cmd(&["EVALSHA", "abc", "0"]).starts_with("-NOSCRIPT"));
    assert!(c.cmd(&["FCALL", "nosuch", "0"]).starts_with("-ERR"));
    assert_eq!(c.cmd(&["FCALL", "test", "1", "k", "v"]), "+OK\r\n");
    c.cmd(&["MULTI"]);
    c.cmd(&["EVAL_RO", "return redis.call('get','foo')", "0"]);
    assert_eq!(c.cmd(&["EXEC"]), "*1\r\n$3\r\nbar\r\n");
    // Lines as redis-server 7.0.15 feeds them: the script's commands come from `lua`, in the script's database.
    let want = [
        format!("[0 {a}] \"EVAL\" \"{script}\" \"1\" \"foo\" \"bar\""),
        r#"[0 lua] "set" "foo" "bar""#.into(),
        r#"[2 lua] "select" "2""#.into(),
        r#"[2 lua] "set" "x" "1""#.into(),
        format!(r#"[0 {a}] "EVAL" "return 1" "-1""#),
        format!(r#"[0 {a}] "EVALSHA" "abc" "0""#),
        format!(r#"[0 {a}] "FCALL" "nosuch" "0""#),
        format!(r#"[0 {a}] "FCALL" "test" "1" "k" "v""#),
        r#"[0 lua] "set" "k" "v""#.into(),
        format!(r#"[0 {a}] "MULTI""#),
        format!(r#"[0 {a}] "EVAL_RO" "return redis.call('get','foo')" "0""#),
        r#"[0 lua] "get" "foo""#.into(),
        format!(r#"[0 {a}] "EXEC""#),
    ];
    for want in want {
        assert_eq!(line(&mut m), want);
    }
}

#[test]
fn a_blocking_command_is_fed_once() {
    let s = Server::start();
    let mut m = monitor(&s);
    let mut c = s.raw();
    let mut other = s.raw();
    let (a, o) = (addr(&c), addr(&other));
    let id = int(&c.cmd(&["CLIENT", "ID"])).to_string();
    // Timed out: fed once, when it blocked.
    assert_eq!(c.cmd(&["BLPOP", "nolist", "0.1"]), "*-1\r\n");
    // Served after a wake-up: fed once, when it blocked.
    c.send(&Raw::encode(&[b"BLPOP", b"l", b"5"]));
    eventually("the client blocks", || other.cmd(&["CLIENT", "LIST", "ID", &id]).contains("flags=b"));
    // A wake-up that finds nothing (the pushed list is emptied first) runs BLPOP again: not fed again.
    other.cmd(&["MULTI"]);
    other.cmd(&["RPUSH", "l", "x"]);
    other.cmd(&["DEL", "l"]);
    other.cmd(&["EXEC"]);
    assert_eq!(other.cmd(&["RPUSH", "l", "y"]), ":1\r\n");
    assert_eq!(c.read_reply(), "*2\r\n$1\r\nl\r\n$1\r\ny\r\n");
    other.cmd(&["PING"]);
    let want = [
        (&a, r#""CLIENT" "ID""#),
        (&a, r#""BLPOP" "nolist" "0.1""#),
        (&a, r#""BLPOP" "l" "5""#),
        (&o, r#""MULTI""#),
        (&o, r#""RPUSH" "l" "x""#),
        (&o, r#""DEL" "l""#),
        (&o, r#""EXEC""#),
        (&o, r#""RPUSH" "l" "y""#),
        (&o, r#""PING""#),
    ];
    for (who, args) in want {
        assert_eq!(line(&mut m), format!("[0 {who}] {args}"));
    }
}

#[test]
fn a_monitor_s_own_commands() {
    let s = Server::start();
    let mut m = monitor(&s);
    let me = addr(&m);
    let mut c = s.raw();
    let id = int(&m.cmd(&["CLIENT", "ID"]));
    assert_eq!(untimed(&m.read_reply()), format!("[0 {me}] \"CLIENT\" \"ID\""));
    // Its own line follows the reply.
    assert_eq!(m.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(line(&mut m), format!("[0 {me}] \"PING\""));
    // The keyspace is out of bounds, and these refusals are not fed.
    assert_eq!(m.cmd(&["GET", "x"]), REPLICA);
    assert_eq!(m.cmd(&["PUBLISH", "ch", "x"]), REPLICA);
    // MONITOR again: no reply at all.
    m.send(&Raw::encode(&[b"MONITOR"]));
    assert_eq!(m.cmd(&["ECHO", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(line(&mut m), format!("[0 {me}] \"ECHO\" \"hi\""));
    // In a transaction: a refused command aborts it.
    assert_eq!(m.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(line(&mut m), format!("[0 {me}] \"MULTI\""));
    assert_eq!(m.cmd(&["GET", "x"]), REPLICA);
    assert_eq!(m.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(m.cmd(&["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_eq!(line(&mut m), format!("[0 {me}] \"EXEC\""));
    // Lines of the commands EXEC runs land inside its reply, as Redis writes them.
    for request in [&[&b"MULTI"[..]][..], &[b"PING"], &[b"ECHO", b"x"], &[b"EXEC"]] {
        m.send(&Raw::encode(request));
    }
    let frames: String = (0..8).map(|_| m.read_reply()).collect();
    assert_eq!(
        masked(&frames),
        format!(
            "+OK\r\n+T [0 {me}] \"MULTI\"\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n+T [0 {me}] \"PING\"\r\n$1\r\nx\r\n\
             +T [0 {me}] \"ECHO\" \"x\"\r\n+T [0 {me}] \"EXEC\"\r\n"
        )
    );
    // CLIENT REPLY OFF drops every line, its own and the others'.
    m.send(&Raw::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    eventually("CLIENT REPLY OFF runs", || {
        c.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]).contains("cmd=client|reply")
    });
    assert_eq!(c.cmd(&["SET", "during", "off"]), "+OK\r\n");
    m.send(&Raw::encode(&[b"PING"]));
    assert_eq!(m.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(line(&mut m), format!("[0 {me}] \"CLIENT\" \"REPLY\" \"ON\""));
    // A monitor is a normal client with flag O.
    let listed = c.cmd(&["CLIENT", "LIST", "TYPE", "normal"]);
    assert!(listed.contains(&format!("id={id} addr={me} ")) && listed.contains(" flags=O db=0 "), "{listed}");
    // RESET ends monitoring.
    assert_eq!(m.cmd(&["RESET"]), "+RESET\r\n");
    c.cmd(&["SET", "after", "reset"]);
    assert_eq!(m.cmd(&["PING"]), "+PONG\r\n");
    assert!(c.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]).contains(" flags=N "));
    // QUIT: its reply, then nothing.
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    assert_eq!(m.cmd(&["QUIT"]), "+OK\r\n");
    assert!(m.is_closed());
    // A RESP2 subscriber may not monitor.
    let mut sub = s.raw();
    sub.cmd(&["SUBSCRIBE", "x"]);
    assert!(sub.cmd(&["MONITOR"]).starts_with("-ERR Can't execute 'monitor'"));
}

#[test]
fn monitors_on_every_worker_see_one_order() {
    let s = Server::start_with(&["--workers", "2"]);
    let mut monitors = [monitor(&s), monitor(&s), monitor(&s)];
    let port = s.port;
    let clients: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                for j in 0..200 {
                    assert_eq!(c.cmd(&["SET", &format!("k{i}"), &j.to_string()]), "+OK\r\n");
                }
                addr(&c)
            })
        })
        .collect();
    let addrs: Vec<String> = clients.into_iter().map(|t| t.join().unwrap()).collect();
    let mut c = s.raw();
    c.cmd(&["PING", "done"]);
    let end = format!("[0 {}] \"PING\" \"done\"", addr(&c));
    let seen: Vec<Vec<String>> = monitors
        .iter_mut()
        .map(|m| {
            let mut lines = Vec::new();
            loop {
                let frame = m.read_reply();
                if untimed(&frame) == end {
                    break lines;
                }
                lines.push(frame);
            }
        })
        .collect();
    assert_eq!(seen[0].len(), 800);
    assert!(seen.iter().all(|l| *l == seen[0]), "the monitors saw different orders");
    // Each client's commands in its order; times never go back.
    let mut next = [0; 4];
    let mut last = String::new();
    for frame in &seen[0] {
        let time = frame[1..frame.find(' ').unwrap()].to_string();
        assert!(time.len() > last.len() || (time.len() == last.len() && time >= last), "{last} then {time}");
        last = time;
        let rest = untimed(frame);
        let i = addrs.iter().position(|a| rest.starts_with(&format!("[0 {a}] "))).expect("a known client");
        assert_eq!(rest, format!("[0 {}] \"SET\" \"k{i}\" \"{}\"", addrs[i], next[i]));
        next[i] += 1;
    }
}

#[test]
fn unix_socket_clients_are_named_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock").display().to_string();
    let s = Server::start_with(&["--unixsocket", &sock]);
    let mut m = monitor(&s);
    let mut u = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    u.write_all(&Raw::encode(&[b"PING"])).unwrap();
    let mut reply = [0u8; 7];
    u.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+PONG\r\n");
    assert_eq!(line(&mut m), format!("[0 unix:{sock}] \"PING\""));
}

#[test]
fn a_monitor_that_never_reads_is_dropped_at_the_normal_limit() {
    let s = Server::start();
    let mut p = s.raw();
    assert_eq!(p.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 512kb 60"]), "+OK\r\n");
    let mut reader = monitor(&s);
    let sleeper = monitor(&s);
    let payload = "x".repeat(100 * 1024);
    let (base, _) = s.rss_kib();
    s.reset_peak_rss();
    let mut sent = 0;
    // 400 MB of lines at most: without the limit the sleeper's mailbox would hold most of it.
    while sent < 4000 {
        assert_eq!(p.cmd(&["ECHO", &payload]).len(), payload.len() + 11);
        sent += 1;
        // The reader keeps up, so it stays.
        assert!(reader.read_reply().ends_with(&format!(" \"ECHO\" \"{payload}\"\r\n")));
        if sent % 20 == 0 && p.cmd(&["CLIENT", "LIST"]).matches("flags=O").count() == 1 {
            break;
        }
    }
    assert!(sent < 4000, "the monitor that never reads was not disconnected");
    let (_, peak) = s.rss_kib();
    assert!(peak < base + 64 * 1024, "RSS grew from {base} KiB to a peak of {peak} KiB");
    assert_eq!(p.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(line(&mut reader), format!("[0 {}] \"PING\"", addr(&p)));
    drop(sleeper);
}

#[test]
fn the_idle_timeout_spares_monitors() {
    let s = Server::start();
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CONFIG", "SET", "timeout", "1"]), "+OK\r\n");
    let mut m = monitor(&s);
    std::thread::sleep(Duration::from_millis(2500));
    let mut fresh = s.raw();
    assert_eq!(fresh.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(line(&mut m), format!("[0 {}] \"PING\"", addr(&fresh)));
}
