//! SLOWLOG, LATENCY and MEMORY end to end. Exact replies (help texts, errors, reply shapes, doctor texts) were
//! taken from redis-server 7.0.15; durations, times and ports vary, so entries are parsed and checked field by
//! field.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{bulks, check, Raw, Server, SYNTAX};

/// A parsed RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Int(i64),
    Bulk(String),
    Simple(String),
    Err(String),
    Nil,
    Arr(Vec<V>),
}

impl V {
    fn parse(reply: &str) -> V {
        let mut lines = reply.split("\r\n");
        let v = V::next(&mut lines);
        assert_eq!(lines.collect::<Vec<_>>(), [""], "one reply in {reply:?}");
        v
    }

    fn next<'a>(lines: &mut impl Iterator<Item = &'a str>) -> V {
        let line = lines.next().expect("reply line");
        let (kind, rest) = line.split_at(1);
        match kind {
            ":" => V::Int(rest.parse().expect("integer")),
            "+" => V::Simple(rest.to_string()),
            "-" => V::Err(rest.to_string()),
            "$" if rest == "-1" => V::Nil,
            "*" if rest == "-1" => V::Nil,
            "$" => {
                // Bulk strings here never contain CRLF (verbatim texts use \n only).
                let text = lines.next().expect("bulk").to_string();
                assert_eq!(text.len(), rest.parse::<usize>().expect("length"), "{text:?}");
                V::Bulk(text)
            }
            "*" => V::Arr((0..rest.parse::<usize>().expect("count")).map(|_| V::next(lines)).collect()),
            _ => panic!("unexpected reply line {line:?}"),
        }
    }

    fn arr(&self) -> &[V] {
        match self {
            V::Arr(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }

    fn int(&self) -> i64 {
        match self {
            V::Int(n) => *n,
            other => panic!("not an integer: {other:?}"),
        }
    }

    fn text(&self) -> &str {
        match self {
            V::Bulk(s) | V::Simple(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    /// A flat RESP2 map as (key, value) pairs.
    fn pairs(&self) -> Vec<(String, V)> {
        self.arr().chunks(2).map(|p| (p[0].text().to_string(), p[1].clone())).collect()
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// One slow log entry.
#[derive(Debug)]
struct Entry {
    id: i64,
    time: i64,
    usec: i64,
    args: Vec<String>,
    peer: String,
    name: String,
}

fn slowlog(r: &mut Raw, args: &[&str]) -> Vec<Entry> {
    let mut cmd = vec!["SLOWLOG", "GET"];
    cmd.extend_from_slice(args);
    V::parse(&r.cmd(&cmd))
        .arr()
        .iter()
        .map(|e| {
            let f = e.arr();
            assert_eq!(f.len(), 6, "{e:?}");
            Entry {
                id: f[0].int(),
                time: f[1].int(),
                usec: f[2].int(),
                args: f[3].arr().iter().map(|a| a.text().to_string()).collect(),
                peer: f[4].text().to_string(),
                name: f[5].text().to_string(),
            }
        })
        .collect()
}

/// The arguments of each entry, newest first.
fn logged(r: &mut Raw, args: &[&str]) -> Vec<String> {
    slowlog(r, args).into_iter().map(|e| e.args.join(" ")).collect()
}

fn peer(r: &Raw) -> String {
    r.stream.local_addr().expect("local addr").to_string()
}

const SLOWLOG_HELP: &str = "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n\
+GET [<count>]\r\n+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n\
+    Entries are made of:\r\n\
+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n+    client name\r\n+LEN\r\n\
+    Return the length of the slowlog.\r\n+RESET\r\n+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n";

#[test]
fn slowlog_entries_are_redis_entries() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["SLOWLOG", "HELP"], SLOWLOG_HELP),
            (&["SLOWLOG", "GET", "x"], "-ERR count should be greater than or equal to -1\r\n"),
            (&["SLOWLOG", "GET", "-2"], "-ERR count should be greater than or equal to -1\r\n"),
            (&["SLOWLOG", "GET", "99999999999999999999"], "-ERR count should be greater than or equal to -1\r\n"),
            (
                &["SLOWLOG", "get", "1", "2"],
                "-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n",
            ),
            (&["SLOWLOG", "foo"], "-ERR unknown subcommand 'foo'. Try SLOWLOG HELP.\r\n"),
            (&["SLOWLOG"], "-ERR wrong number of arguments for 'slowlog' command\r\n"),
            (&["SLOWLOG", "LEN", "x"], "-ERR wrong number of arguments for 'slowlog|len' command\r\n"),
            (&["SLOWLOG", "HELP", "x"], "-ERR wrong number of arguments for 'slowlog|help' command\r\n"),
            (
                &["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
                "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be \
                 between -1 and 9223372036854775807 inclusive\r\n",
            ),
            (
                &["CONFIG", "SET", "slowlog-max-len", "-1"],
                "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be between 0 \
                 and 9223372036854775807 inclusive\r\n",
            ),
            (
                &["CONFIG", "GET", "slowlog*"],
                "*4\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n",
            ),
        ],
    );
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    assert_eq!(r.cmd(&["SLOWLOG", "RESET"]), "+OK\r\n");
    // SLOWLOG LEN answers before it is logged itself; RESET was logged after it cleared the log.
    assert_eq!(r.cmd(&["SLOWLOG", "LEN"]), ":1\r\n");
    let before = now_secs();
    r.cmd(&["CLIENT", "SETNAME", "foobar"]);
    r.cmd(&["SET", "k", "v"]);
    let entries = slowlog(&mut r, &["3"]);
    assert_eq!(entries.len(), 3);
    let args: Vec<String> = entries.iter().map(|e| e.args.join(" ")).collect();
    assert_eq!(args, ["SET k v", "CLIENT SETNAME foobar", "SLOWLOG LEN"]);
    // Newest first, ids one apart; the name is the client's at the time the command ended.
    assert_eq!(entries[0].id, entries[1].id + 1);
    assert_eq!(entries[1].id, entries[2].id + 1);
    assert_eq!(entries[1].name, "foobar");
    assert_eq!(entries[2].name, "");
    for e in &entries {
        assert_eq!(e.peer, peer(&r));
        assert!((before - 1..=now_secs() + 1).contains(&e.time), "{e:?}");
        assert!((0..10_000_000).contains(&e.usec), "{e:?}");
    }
    // Default count 10, -1 for all, 0 for none.
    for _ in 0..12 {
        r.cmd(&["PING"]);
    }
    assert_eq!(slowlog(&mut r, &[]).len(), 10);
    let len = V::parse(&r.cmd(&["SLOWLOG", "LEN"])).int();
    assert_eq!(slowlog(&mut r, &["-1"]).len() as i64, len + 1);
    assert_eq!(r.cmd(&["SLOWLOG", "GET", "0"]), "*0\r\n");
    // RESET keeps counting ids.
    let last = slowlog(&mut r, &["1"])[0].id;
    r.cmd(&["SLOWLOG", "RESET"]);
    let e = slowlog(&mut r, &[]);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].id, e[0].args.join(" ")), (last + 2, "SLOWLOG RESET".to_string()));
}

#[test]
fn slowlog_length_and_threshold() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    r.cmd(&["CONFIG", "SET", "slowlog-max-len", "10"]);
    for _ in 0..100 {
        r.cmd(&["PING"]);
    }
    assert_eq!(r.cmd(&["SLOWLOG", "LEN"]), ":10\r\n");
    assert_eq!(slowlog(&mut r, &["5"]).len(), 5);
    // A lower maximum trims at once (CONFIG SET is logged, then the log is cut).
    r.cmd(&["CONFIG", "SET", "slowlog-max-len", "3"]);
    assert_eq!(r.cmd(&["SLOWLOG", "LEN"]), ":3\r\n");
    assert_eq!(logged(&mut r, &["-1"])[..2], ["SLOWLOG LEN", "CONFIG SET slowlog-max-len 3"]);
    r.cmd(&["CONFIG", "SET", "slowlog-max-len", "0"]);
    assert_eq!(r.cmd(&["SLOWLOG", "LEN"]), ":0\r\n");
    r.cmd(&["CONFIG", "SET", "slowlog-max-len", "128"]);
    // Only commands at least as slow as the threshold are logged: one second is more than a PING takes.
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "1000000"]);
    r.cmd(&["SLOWLOG", "RESET"]);
    r.cmd(&["PING"]);
    assert_eq!(r.cmd(&["SLOWLOG", "LEN"]), ":0\r\n");
    // Negative: off, and the log is no longer trimmed.
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    r.cmd(&["SLOWLOG", "RESET"]);
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    r.cmd(&["PING"]);
    assert_eq!(logged(&mut r, &[]), ["SLOWLOG RESET"]);
}

#[test]
fn slowlog_cuts_redacts_and_skips_like_redis() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    r.cmd(&["SLOWLOG", "RESET"]);
    // At most 32 arguments, each at most 128 bytes.
    let members: Vec<String> = (3..=33).map(|i| i.to_string()).collect();
    let mut sadd = vec!["sadd", "set"];
    sadd.extend(members.iter().map(String::as_str));
    r.cmd(&sadd);
    let mut want: Vec<&str> = sadd[..31].to_vec();
    want.push("... (2 more arguments)");
    assert_eq!(slowlog(&mut r, &["1"])[0].args, want);
    let long = "A".repeat(129);
    r.cmd(&["sadd", "set", "foo", &long]);
    assert_eq!(slowlog(&mut r, &["1"])[0].args[3], format!("{}... (1 more bytes)", &long[..128]));
    // Secrets are redacted, failed commands logged; commands refused before running are not.
    r.cmd(&["SLOWLOG", "RESET"]);
    assert!(r.cmd(&["AUTH", "secret"]).starts_with("-ERR AUTH <password> called without"));
    assert!(r.cmd(&["AUTH", "user", "secret"]).starts_with("-WRONGPASS"));
    assert!(r.cmd(&["HELLO", "3", "AUTH", "user", "secret", "SETNAME", "n"]).starts_with("-WRONGPASS"));
    assert_eq!(r.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert!(r.cmd(&["NOSUCHCOMMAND", "secret"]).starts_with("-ERR unknown command"));
    assert!(r.cmd(&["GET"]).starts_with("-ERR wrong number"));
    assert_eq!(
        logged(&mut r, &[]),
        [
            "CONFIG SET requirepass (redacted)",
            "HELLO 3 AUTH (redacted) (redacted) SETNAME n",
            "AUTH (redacted) (redacted)",
            "AUTH (redacted)",
            "SLOWLOG RESET"
        ]
    );
    // EXEC is not logged, the commands it ran are; queueing them is not.
    r.cmd(&["SLOWLOG", "RESET"]);
    for (cmd, reply) in [
        (&["MULTI"][..], "+OK\r\n"),
        (&["SET", "a", "1"], "+QUEUED\r\n"),
        (&["GET", "a"], "+QUEUED\r\n"),
        (&["EXEC"], "*2\r\n+OK\r\n$1\r\n1\r\n"),
    ] {
        assert_eq!(r.cmd(cmd), reply);
    }
    assert_eq!(logged(&mut r, &[]), ["GET a", "SET a 1", "MULTI", "SLOWLOG RESET"]);
}

#[test]
fn slowlog_logs_a_blocking_command_when_it_is_served() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    r.cmd(&["SLOWLOG", "RESET"]);
    // Timed out: never logged.
    assert_eq!(r.cmd(&["BLPOP", "nolist", "0.05"]), "*-1\r\n");
    let mut waiter = s.raw();
    waiter.send(&Raw::encode(&[b"BLPOP", b"l", b"0"]));
    let start = Instant::now();
    while !r.cmd(&["INFO", "clients"]).contains("blocked_clients:1\r\n") {
        assert!(start.elapsed() < Duration::from_secs(10), "the BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(!logged(&mut r, &["-1"]).iter().any(|a| a.starts_with("BLPOP")));
    r.cmd(&["LPUSH", "l", "foo"]);
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nl\r\n$3\r\nfoo\r\n");
    let blpops: Vec<Entry> = slowlog(&mut r, &["-1"]).into_iter().filter(|e| e.args[0] == "BLPOP").collect();
    assert_eq!(blpops.len(), 1, "{blpops:?}");
    assert_eq!(blpops[0].args, ["BLPOP", "l", "0"]);
    assert_eq!(blpops[0].peer, peer(&waiter));
}

const LATENCY_HELP: &str = "*17\r\n+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n\
+    Return a human readable latency analysis report.\r\n+GRAPH <event>\r\n\
+    Return an ASCII latency graph for the <event> class.\r\n+HISTORY <event>\r\n\
+    Return time-latency samples for the <event> class.\r\n+LATEST\r\n\
+    Return the latest latency samples for all events.\r\n+RESET [<event> ...]\r\n\
+    Reset latency data of one or more <event> classes.\r\n\
+    (default: reset all data for all event classes)\r\n+HISTOGRAM [COMMAND ...]\r\n\
+    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.\r\n\
+    If no commands are specified then all histograms are replied.\r\n+HELP\r\n+    Prints this help.\r\n";

const DOCTOR_DISABLED: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis \
instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't \
in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";

const DOCTOR_NOTHING: &str = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in \
the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

#[test]
fn latency_monitor_events() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["LATENCY", "HELP"], LATENCY_HELP),
            (&["LATENCY", "help", "xxx"], "-ERR wrong number of arguments for 'latency|help' command\r\n"),
            (&["LATENCY", "foo"], "-ERR unknown subcommand 'foo'. Try LATENCY HELP.\r\n"),
            (&["LATENCY", "HISTORY"], "-ERR wrong number of arguments for 'latency|history' command\r\n"),
            (&["LATENCY", "LATEST"], "*0\r\n"),
            (&["LATENCY", "HISTORY", "command"], "*0\r\n"),
            (&["LATENCY", "GRAPH", "command"], "-ERR No samples available for event 'command'\r\n"),
            (&["LATENCY", "RESET"], ":0\r\n"),
            (&["LATENCY", "RESET", "blabla", "command"], ":0\r\n"),
            (&["LATENCY", "DOCTOR"], &bulk(DOCTOR_DISABLED)),
            (
                &["CONFIG", "SET", "latency-monitor-threshold", "-1"],
                "-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must \
                 be between 0 and 9223372036854775807 inclusive\r\n",
            ),
            // A threshold no command here reaches.
            (&["CONFIG", "SET", "latency-monitor-threshold", "10000"], "+OK\r\n"),
            (&["LATENCY", "DOCTOR"], &bulk(DOCTOR_NOTHING)),
            (&["CONFIG", "SET", "latency-monitor-threshold", "1"], "+OK\r\n"),
        ],
    );
    let before = now_secs();
    // A fast command (RPUSH) and a slow one (SORT) that take well over a millisecond.
    let elements: Vec<String> = (0..100_000).map(|i| format!("e{i}")).collect();
    let mut rpush = vec!["RPUSH", "big"];
    rpush.extend(elements.iter().map(String::as_str));
    assert_eq!(r.cmd(&rpush), ":100000\r\n");
    assert_eq!(r.cmd(&["SORT", "big", "ALPHA", "LIMIT", "0", "1"]), "*1\r\n$2\r\ne0\r\n");
    // Other commands may take a millisecond too on a busy machine: only these two events are certain.
    let latest = V::parse(&r.cmd(&["LATENCY", "LATEST"]));
    let events: Vec<&str> = latest.arr().iter().map(|e| e.arr()[0].text()).collect();
    // (The active expiry cycle can pass a millisecond too on a loaded machine: `expire-cycle` may sort between.)
    assert!(events.contains(&"command") && events.contains(&"fast-command"), "{events:?}");
    for e in latest.arr() {
        let [_, time, latency, max] = e.arr() else { panic!("{e:?}") };
        assert!((before - 1..=now_secs() + 1).contains(&time.int()), "{e:?}");
        assert!(latency.int() >= 1 && max.int() >= latency.int(), "{e:?}");
    }
    let history = V::parse(&r.cmd(&["LATENCY", "HISTORY", "fast-command"]));
    let sample = history.arr()[0].arr();
    assert_eq!(sample.len(), 2);
    assert_eq!(sample[0], latest.arr()[1].arr()[1]);
    // Event names are exact for HISTORY and GRAPH, any case for RESET.
    assert_eq!(r.cmd(&["LATENCY", "HISTORY", "COMMAND"]), "*0\r\n");
    let graph = V::parse(&r.cmd(&["LATENCY", "GRAPH", "command"]));
    let graph = graph.text();
    let lines: Vec<&str> = graph.lines().collect();
    assert!(lines[0].starts_with("command - high ") && lines[0].ends_with(" ms)"), "{graph}");
    assert_eq!(lines[1], "-".repeat(80));
    // Four rows of graph, a blank row, then the labels (seconds ago, written downwards).
    assert!(lines.len() >= 9 && lines[6].trim().is_empty(), "{graph}");
    assert!(lines.last().is_some_and(|l| l.contains('s')), "{graph}");
    let doctor = V::parse(&r.cmd(&["LATENCY", "DOCTOR"]));
    let doctor = doctor.text();
    assert!(
        doctor.starts_with(
            "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you \
             Dave?\n\n1. command: "
        ),
        "{doctor}"
    );
    assert!(doctor.contains("\n2. fast-command: "), "{doctor}");
    assert!(doctor.contains("- Check your Slow Log to understand"), "{doctor}");
    assert!(doctor.contains("- The system is slow to execute Redis code paths"), "{doctor}");
    assert_eq!(r.cmd(&["LATENCY", "RESET", "FAST-command", "nosuch"]), ":1\r\n");
    assert_eq!(r.cmd(&["LATENCY", "HISTORY", "fast-command"]), "*0\r\n");
    assert!(V::parse(&r.cmd(&["LATENCY", "RESET"])).int() >= 1);
    r.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "10000"]);
    assert_eq!(r.cmd(&["LATENCY", "LATEST"]), "*0\r\n");
    // RESP3: DOCTOR and GRAPH are verbatim text.
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["LATENCY", "DOCTOR"]), format!("={}\r\ntxt:{DOCTOR_NOTHING}\r\n", DOCTOR_NOTHING.len() + 4));
}

/// One command of a LATENCY HISTOGRAM reply: (name, calls, [(bound, cumulative count)]).
type Histogram = (String, i64, Vec<(i64, i64)>);

fn histogram(r: &mut Raw, names: &[&str]) -> Vec<Histogram> {
    let mut cmd = vec!["LATENCY", "HISTOGRAM"];
    cmd.extend_from_slice(names);
    V::parse(&r.cmd(&cmd))
        .pairs()
        .into_iter()
        .map(|(name, v)| {
            let fields = v.pairs();
            assert_eq!(fields.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["calls", "histogram_usec"]);
            let buckets = fields[1].1.arr().chunks(2).map(|p| (p[0].int(), p[1].int())).collect();
            (name, fields[0].1.int(), buckets)
        })
        .collect()
}

#[test]
fn latency_histograms_per_command() {
    let s = Server::start();
    let mut r = s.raw();
    // The reset is recorded itself.
    r.cmd(&["CONFIG", "RESETSTAT"]);
    let h = histogram(&mut r, &[]);
    assert_eq!(h.iter().map(|e| (e.0.as_str(), e.1)).collect::<Vec<_>>(), [("config|resetstat", 1)]);
    r.cmd(&["CONFIG", "RESETSTAT"]);
    r.cmd(&["SET", "a", "b"]);
    r.cmd(&["SET", "c", "d"]);
    r.cmd(&["CLIENT", "ID"]);
    r.cmd(&["CLIENT", "LIST"]);
    let all = histogram(&mut r, &[]);
    let names: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["client|id", "client|list", "config|resetstat", "set"]);
    let bounds = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266];
    for (name, calls, buckets) in &all {
        // Bounds are Redis' and increasing, counts cumulative up to the number of calls.
        assert!(buckets.iter().all(|(b, _)| bounds.contains(b) || *b > 135266), "{name}: {buckets:?}");
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{name}: {buckets:?}");
        assert_eq!(buckets.last().map(|b| b.1), Some(*calls), "{name}");
    }
    assert_eq!(all[3].1, 2);
    // Named commands: a container brings its subcommands; unknown names are skipped, duplicates repeated.
    let named = histogram(&mut r, &["client", "blabla", "set", "get", "SET"]);
    let named: Vec<(&str, i64)> = named.iter().map(|e| (e.0.as_str(), e.1)).collect();
    assert_eq!(named, [("client|id", 1), ("client|list", 1), ("set", 2), ("set", 2)]);
    assert_eq!(r.cmd(&["LATENCY", "HISTOGRAM", "blabla"]), "*0\r\n");
    let one = histogram(&mut r, &["client|id"]);
    assert_eq!(one.len(), 1);
    assert_eq!(
        r.cmd(&["LATENCY", "HISTOGRAM", "client|id"]),
        format!(
            "*2\r\n$9\r\nclient|id\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n*2\r\n:{}\r\n:1\r\n",
            one[0].2[0].0
        )
    );
    // latency-tracking no: nothing recorded.
    r.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    r.cmd(&["SET", "a", "b"]);
    r.cmd(&["CONFIG", "SET", "latency-tracking", "yes"]);
    assert_eq!(histogram(&mut r, &["set"])[0].1, 2);
    // RESP3 maps.
    r.cmd(&["CONFIG", "RESETSTAT"]);
    r.cmd(&["HELLO", "3"]);
    let reply = r.cmd(&["LATENCY", "HISTOGRAM", "config|resetstat"]);
    assert!(
        reply
            .starts_with("%1\r\n$16\r\nconfig|resetstat\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%1\r\n"),
        "{reply:?}"
    );
}

/// The text of `INFO <section>`.
fn info(r: &mut Raw, section: &str) -> String {
    let reply = r.cmd(&["INFO", section]);
    let (head, body) = reply.split_once("\r\n").expect("bulk header");
    body[..head[1..].parse::<usize>().expect("bulk length")].to_string()
}

/// The `latency_percentiles_usec_<name>` line of INFO latencystats: (label, µs) per percentile; None when the
/// command has no histogram.
fn percentiles(r: &mut Raw, name: &str) -> Option<Vec<(String, f64)>> {
    let info = info(r, "latencystats");
    assert!(info.starts_with("# Latencystats\r\n"), "{info:?}");
    let line = info.lines().find_map(|l| l.strip_prefix(&format!("latency_percentiles_usec_{name}:")))?;
    Some(
        line.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (label, v) = p.split_once('=').expect("label=value");
                // Three decimals, as Redis' %.3f.
                assert_eq!(v.split_once('.').map(|(_, d)| d.len()), Some(3), "{p}");
                (label.to_string(), v.parse().expect("µs"))
            })
            .collect(),
    )
}

#[test]
fn info_latencystats_reports_configured_percentiles() {
    let s = Server::start();
    let mut r = s.raw();
    let labels = |v: Option<Vec<(String, f64)>>| v.map(|v| v.into_iter().map(|(l, _)| l).collect::<Vec<_>>());
    r.cmd(&["CONFIG", "RESETSTAT"]);
    r.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    r.cmd(&["SET", "a", "b"]);
    assert_eq!(percentiles(&mut r, "set"), None);
    r.cmd(&["CONFIG", "SET", "latency-tracking", "yes"]);
    r.cmd(&["SET", "a", "b"]);
    r.cmd(&["CLIENT", "ID"]);
    assert_eq!(labels(percentiles(&mut r, "set")), Some(vec!["p50".into(), "p99".into(), "p99.9".into()]));
    assert!(percentiles(&mut r, "client|id").is_some(), "subcommands have their own line");
    assert!(percentiles(&mut r, "config|set").is_some());
    // Not part of the default sections, but of `all`.
    assert!(!info(&mut r, "default").contains("Latencystats"));
    assert!(info(&mut r, "all").contains("# Latencystats\r\nlatency_percentiles_usec_"));

    // Percentiles as configured, shown as Redis trims them; values ordered and each a histogram bound.
    check(
        &mut r,
        &[
            (&["CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0"], "+OK\r\n"),
            (
                &["CONFIG", "GET", "latency-tracking-info-percentiles"],
                "*2\r\n$33\r\nlatency-tracking-info-percentiles\r\n$8\r\n0 50 100\r\n",
            ),
        ],
    );
    for _ in 0..20 {
        r.cmd(&["GET", "a"]);
    }
    let get = percentiles(&mut r, "get").expect("GET ran");
    assert_eq!(get.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["p0", "p50", "p100"]);
    assert!(get[0].1 > 0.0 && get[0].1 <= get[1].1 && get[1].1 <= get[2].1, "{get:?}");
    // 0 µs is recorded as 1 ns; otherwise a value is the highest of its HDR counter, never a whole µs + 0.000 —
    // except below 2.048 µs, where the counters are 1 ns wide and a GET of exactly 1 µs reads 1.000.
    assert!(get.iter().all(|(_, v)| *v < 2.048 || !((v * 1000.0).round() as u64).is_multiple_of(1000)), "{get:?}");

    // Bad values change nothing and count as error replies.
    r.cmd(&["CONFIG", "RESETSTAT"]);
    for bad in ["10.0 50.0 a", "10.0 50.0 101.0", "-1", "nan"] {
        let e = r.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", bad]);
        assert!(
            e.starts_with("-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles')"),
            "{e}"
        );
    }
    let stats = info(&mut r, "stats");
    assert!(stats.contains("total_error_replies:4\r\n"), "{stats}");
    assert_eq!(
        bulks(&r.cmd(&["CONFIG", "GET", "latency-tracking-info-percentiles"])),
        ["latency-tracking-info-percentiles", "0 50 100"]
    );
    // None configured: the command's line has no values.
    r.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", ""]);
    assert_eq!(percentiles(&mut r, "config|set"), Some(vec![]));
    // RESETSTAT drops every histogram.
    r.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(percentiles(&mut r, "get"), None);
}

#[test]
fn a_blocking_command_has_latencystats_once_served() {
    let s = Server::start();
    let mut r = s.raw();
    let mut blocked = s.raw();
    r.cmd(&["CONFIG", "RESETSTAT"]);
    blocked.send(&Raw::encode(&[b"BLPOP", b"list1", b"0"]));
    // Served by a push once it blocks.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !info(&mut r, "clients").contains("blocked_clients:1\r\n") {
        assert!(Instant::now() < deadline, "BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(percentiles(&mut r, "blpop"), None, "not while blocked");
    r.cmd(&["LPUSH", "list1", "a"]);
    assert_eq!(blocked.read_reply(), "*2\r\n$5\r\nlist1\r\n$1\r\na\r\n");
    assert_eq!(percentiles(&mut r, "blpop").map(|p| p.len()), Some(3));
}

const MEMORY_HELP: &str = "*14\r\n+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n\
+    Return memory problems reports.\r\n+MALLOC-STATS\r\n\
+    Return internal statistics report from the memory allocator.\r\n+PURGE\r\n\
+    Attempt to purge dirty pages for reclamation by the allocator.\r\n+STATS\r\n\
+    Return information about the memory usage of the server.\r\n+USAGE <key> [SAMPLES <count>]\r\n\
+    Return memory in bytes used by <key> and its value. Nested values are\r\n\
+    sampled up to <count> times (default: 5, 0 means sample all).\r\n+HELP\r\n+    Prints this help.\r\n";

const MEMORY_EMPTY: &str = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't \
be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I \
will be back to our programming as soon as I finished rebooting.\n";

const MEMORY_FINE: &str =
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";

#[test]
fn memory_usage_estimates() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["MEMORY", "HELP"], MEMORY_HELP),
            (&["MEMORY", "USAGE", "nokey"], "$-1\r\n"),
            (&["MEMORY", "USAGE"], "-ERR wrong number of arguments for 'memory|usage' command\r\n"),
            (&["MEMORY", "USAGE", "nokey", "SAMPLES"], SYNTAX),
            (&["MEMORY", "USAGE", "nokey", "SAMPLES", "-1"], SYNTAX),
            (&["MEMORY", "USAGE", "nokey", "SAMPLES", "x"], "-ERR value is not an integer or out of range\r\n"),
            (&["MEMORY", "USAGE", "nokey", "bar", "1"], SYNTAX),
            (&["MEMORY", "foo"], "-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n"),
            (&["MEMORY", "DOCTOR", "x"], "-ERR wrong number of arguments for 'memory|doctor' command\r\n"),
            (&["MEMORY", "PURGE"], "+OK\r\n"),
            // Each record: its key and value bytes plus 32. A string: [db][key] → [type][expiry][value].
            (&["SET", "foo", "bar"], "+OK\r\n"),
            (&["MEMORY", "USAGE", "foo"], ":49\r\n"),
            (&["MEMORY", "usage", "foo", "samples", "0", "SAMPLES", "2"], ":49\r\n"),
            // With a TTL, its expiry index record too: [expiry][db][key].
            (&["EXPIRE", "foo", "100"], ":1\r\n"),
            (&["MEMORY", "USAGE", "foo"], ":94\r\n"),
            // Collections: the meta record ([db][key] → 33 bytes) and the elements ([uid][sub key] → value).
            (&["HSET", "h", "f1", "v1", "f2", "v2"], ":2\r\n"),
            // A hash field's value starts with its insertion ordinal (one byte here).
            (&["MEMORY", "USAGE", "h"], &format!(":{}\r\n", 68 + 2 * 45)),
            (&["RPUSH", "l", "a"], ":1\r\n"),
            (&["MEMORY", "USAGE", "l"], &format!(":{}\r\n", 68 + 49)),
            (&["SADD", "s", "a", "bb"], ":2\r\n"),
            (&["MEMORY", "USAGE", "s"], &format!(":{}\r\n", 68 + 41 + 42)),
            // A sorted set member is two records: by member ([0][member] → score) and by score.
            (&["ZADD", "z", "1", "m"], ":1\r\n"),
            (&["MEMORY", "USAGE", "z"], &format!(":{}\r\n", 68 + 50 + 50)),
        ],
    );
    // Sampling: the average of the first SAMPLES elements (in key order) times the count.
    let mut hset = vec!["HSET".to_string(), "big".to_string()];
    for i in 0..10 {
        hset.push(format!("f{i}"));
        hset.push("v".repeat(2 * i + 1));
    }
    let hset: Vec<&str> = hset.iter().map(String::as_str).collect();
    assert_eq!(r.cmd(&hset), ":10\r\n");
    let meta = 2 + 3 + 33 + 32;
    // A field's record: [uid][field] → [ordinal: 1 byte here][value].
    let element = |avg_value: usize| 8 + 2 + 1 + avg_value + 32;
    let usage = |r: &mut Raw, args: &[&str]| V::parse(&r.cmd(args)).int() as usize;
    assert_eq!(usage(&mut r, &["MEMORY", "USAGE", "big"]), meta + 10 * element(5));
    assert_eq!(usage(&mut r, &["MEMORY", "USAGE", "big", "SAMPLES", "1"]), meta + 10 * element(1));
    assert_eq!(usage(&mut r, &["MEMORY", "USAGE", "big", "SAMPLES", "0"]), meta + 10 * element(10));
    assert_eq!(usage(&mut r, &["MEMORY", "USAGE", "big", "SAMPLES", "1000"]), meta + 10 * element(10));
    // In another database, only that database's keys.
    assert_eq!(r.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(r.cmd(&["MEMORY", "USAGE", "foo"]), "$-1\r\n");
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["MEMORY", "USAGE", "foo"]), "_\r\n");
}

/// Redis 7.0's MEMORY STATS fields, in its order, for an instance with keys in databases 0 and 3.
const STATS_FIELDS: &[&str] = &[
    "peak.allocated",
    "total.allocated",
    "startup.allocated",
    "replication.backlog",
    "clients.slaves",
    "clients.normal",
    "cluster.links",
    "aof.buffer",
    "lua.caches",
    "functions.caches",
    "db.0",
    "db.3",
    "overhead.total",
    "keys.count",
    "keys.bytes-per-key",
    "dataset.bytes",
    "dataset.percentage",
    "peak.percentage",
    "allocator.allocated",
    "allocator.active",
    "allocator.resident",
    "allocator-fragmentation.ratio",
    "allocator-fragmentation.bytes",
    "allocator-rss.ratio",
    "allocator-rss.bytes",
    "rss-overhead.ratio",
    "rss-overhead.bytes",
    "fragmentation",
    "fragmentation.bytes",
];

#[test]
fn memory_stats_and_doctor() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["MEMORY", "DOCTOR"]), bulk(MEMORY_EMPTY));
    r.cmd(&["SET", "a", "1"]);
    r.cmd(&["SET", "b", "1", "EX", "100"]);
    r.cmd(&["SELECT", "3"]);
    r.cmd(&["SET", "c", "1"]);
    assert_eq!(r.cmd(&["MEMORY", "DOCTOR"]), bulk(MEMORY_FINE));
    let stats = V::parse(&r.cmd(&["MEMORY", "STATS"])).pairs();
    assert_eq!(stats.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), STATS_FIELDS);
    let get = |name: &str| stats.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect(name);
    let total = get("total.allocated").int();
    assert!(total > 0 && get("peak.allocated").int() >= total);
    assert!(get("startup.allocated").int() > 0);
    assert_eq!(get("keys.count").int(), 3);
    let db0: Vec<(String, i64)> = get("db.0").pairs().into_iter().map(|(k, v)| (k, v.int())).collect();
    let names: Vec<&str> = db0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["overhead.hashtable.main", "overhead.hashtable.expires", "overhead.hashtable.slot-to-keys"]);
    assert_eq!(db0.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [2 * 34, 42, 0]);
    assert_eq!(get("dataset.bytes").int(), total - get("overhead.total").int());
    for ratio in ["allocator-fragmentation.ratio", "allocator-rss.ratio", "rss-overhead.ratio", "fragmentation"] {
        assert_eq!(get(ratio), V::Bulk("1".into()), "{ratio}");
    }
    let malloc = V::parse(&r.cmd(&["MEMORY", "MALLOC-STATS"]));
    assert!(malloc.text().starts_with("___ Begin SableDB memory statistics ___\n"), "{malloc:?}");
    // RESP3: a map with doubles; DOCTOR is verbatim text.
    r.cmd(&["HELLO", "3"]);
    let reply = r.cmd(&["MEMORY", "STATS"]);
    assert!(reply.starts_with("%29\r\n$14\r\npeak.allocated\r\n:"), "{reply}");
    assert!(reply.contains("$13\r\nfragmentation\r\n,1\r\n$19\r\nfragmentation.bytes\r\n:0\r\n"), "{reply}");
    assert_eq!(r.cmd(&["MEMORY", "DOCTOR"]), format!("={}\r\ntxt:{MEMORY_FINE}\r\n", MEMORY_FINE.len() + 4));
}
