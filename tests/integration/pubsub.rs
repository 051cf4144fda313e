//! Pub/sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBE forms, PUBLISH, SPUBLISH, PUBSUB, subscriber
//! mode, delivery across worker threads and in publish order, and the pubsub output buffer limit. Reply bytes were
//! taken from redis-server 7.0.15.

use std::time::{Duration, Instant};

use crate::common::{array_of, bulks, int, Raw, Server};

/// Sends one command and reads `frames` reply frames (a SUBSCRIBE of n channels answers n confirmations).
fn cmd_n(r: &mut Raw, args: &[&str], frames: usize) -> String {
    let mut all = r.cmd(args);
    for _ in 1..frames {
        all.push_str(&r.read_reply());
    }
    all
}

/// A `[word, name, count]` confirmation (`>3` in RESP3).
fn confirm(push: &str, word: &str, name: Option<&str>, count: i64) -> String {
    let name = name.map_or(if push == ">" { "_\r\n".to_string() } else { "$-1\r\n".to_string() }, |n| {
        format!("${}\r\n{n}\r\n", n.len())
    });
    format!("{push}3\r\n${}\r\n{word}\r\n{name}:{count}\r\n", word.len())
}

fn message(push: &str, channel: &str, payload: &str) -> String {
    format!("{push}3\r\n$7\r\nmessage\r\n${}\r\n{channel}\r\n${}\r\n{payload}\r\n", channel.len(), payload.len())
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> String {
    array_of(&["pmessage", pattern, channel, payload])
}

/// Polls `f` until it returns true or 10 s pass.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

const SUBSCRIBER_MODE: &str =
    "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";

#[test]
fn resp2_confirmations_counts_and_messages() {
    let s = Server::start();
    let mut sub = s.raw();
    let mut publisher = s.raw();
    // Unsubscribing while subscribed to nothing: one confirmation with a nil name.
    assert_eq!(sub.cmd(&["UNSUBSCRIBE"]), confirm("*", "unsubscribe", None, 0));
    assert_eq!(sub.cmd(&["PUNSUBSCRIBE"]), confirm("*", "punsubscribe", None, 0));
    assert_eq!(sub.cmd(&["SUNSUBSCRIBE"]), confirm("*", "sunsubscribe", None, 0));
    // A channel given twice is confirmed twice; the count is of channels plus patterns.
    assert_eq!(
        cmd_n(&mut sub, &["SUBSCRIBE", "a", "b", "a"], 3),
        confirm("*", "subscribe", Some("a"), 1)
            + &confirm("*", "subscribe", Some("b"), 2)
            + &confirm("*", "subscribe", Some("a"), 2)
    );
    assert_eq!(
        cmd_n(&mut sub, &["PSUBSCRIBE", "h*", "h*", "x?"], 3),
        confirm("*", "psubscribe", Some("h*"), 3)
            + &confirm("*", "psubscribe", Some("h*"), 3)
            + &confirm("*", "psubscribe", Some("x?"), 4)
    );
    // Shard channels count apart.
    assert_eq!(sub.cmd(&["SSUBSCRIBE", "s1"]), confirm("*", "ssubscribe", Some("s1"), 1));

    assert_eq!(publisher.cmd(&["PUBLISH", "a", "hello"]), ":1\r\n");
    assert_eq!(sub.read_reply(), message("*", "a", "hello"));
    assert_eq!(publisher.cmd(&["PUBLISH", "hat", "p"]), ":1\r\n");
    assert_eq!(sub.read_reply(), pmessage("h*", "hat", "p"));
    assert_eq!(publisher.cmd(&["SPUBLISH", "s1", "shard"]), ":1\r\n");
    assert_eq!(sub.read_reply(), array_of(&["smessage", "s1", "shard"]));
    // Patterns never see shard messages, channels never see shard messages, and vice versa.
    assert_eq!(publisher.cmd(&["SPUBLISH", "hat", "x"]), ":0\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "s1", "x"]), ":0\r\n");
    // Binary-safe names and payloads.
    assert_eq!(sub.cmd(&["SUBSCRIBE", "bin\r\n\0"]), confirm("*", "subscribe", Some("bin\r\n\0"), 5));
    assert_eq!(publisher.cmd(&["PUBLISH", "bin\r\n\0", "\r\n"]), ":1\r\n");
    assert_eq!(sub.read_reply(), message("*", "bin\r\n\0", "\r\n"));
    assert_eq!(sub.cmd(&["UNSUBSCRIBE", "bin\r\n\0"]), confirm("*", "unsubscribe", Some("bin\r\n\0"), 4));

    // Unsubscribing from a channel never subscribed still confirms it, with the current count.
    assert_eq!(sub.cmd(&["UNSUBSCRIBE", "zz"]), confirm("*", "unsubscribe", Some("zz"), 4));
    // Without arguments: every channel (in no particular order in Redis), counting down.
    let all = cmd_n(&mut sub, &["UNSUBSCRIBE"], 2);
    let mut names = bulks(&all);
    assert!(all.contains(":3\r\n") && all.contains(":2\r\n"), "{all:?}");
    names.sort();
    assert_eq!(names, ["a", "b", "unsubscribe", "unsubscribe"]);
    assert_eq!(sub.cmd(&["UNSUBSCRIBE"]), confirm("*", "unsubscribe", None, 2));
    // Patterns go in subscription order, as Redis 7.0 keeps them in a list.
    assert_eq!(
        cmd_n(&mut sub, &["PUNSUBSCRIBE"], 2),
        confirm("*", "punsubscribe", Some("h*"), 1) + &confirm("*", "punsubscribe", Some("x?"), 0)
    );
    assert_eq!(
        cmd_n(&mut sub, &["SUNSUBSCRIBE", "s1", "s2"], 2),
        confirm("*", "sunsubscribe", Some("s1"), 0) + &confirm("*", "sunsubscribe", Some("s2"), 0)
    );
    // Subscribed to nothing: an ordinary client again.
    assert_eq!(sub.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(publisher.cmd(&["PUBLISH", "a", "gone"]), ":0\r\n");
}

#[test]
fn publish_counts_every_receiver() {
    let s = Server::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let mut p = s.raw();
    cmd_n(&mut a, &["SUBSCRIBE", "news"], 1);
    cmd_n(&mut a, &["PSUBSCRIBE", "n*", "*s"], 2);
    cmd_n(&mut b, &["PSUBSCRIBE", "n*"], 1);
    // a: the channel and two patterns; b: one pattern.
    assert_eq!(p.cmd(&["PUBLISH", "news", "m"]), ":4\r\n");
    // The channel subscription is delivered first; then each matching pattern (in no fixed order).
    assert_eq!(a.read_reply(), message("*", "news", "m"));
    let mut patterns = vec![a.read_reply(), a.read_reply()];
    patterns.sort();
    assert_eq!(patterns, [pmessage("*s", "news", "m"), pmessage("n*", "news", "m")]);
    assert_eq!(b.read_reply(), pmessage("n*", "news", "m"));
    // `*` does not match the empty channel name (Redis' stringmatchlen), but a subscription to "" does.
    cmd_n(&mut b, &["SUBSCRIBE", ""], 1);
    cmd_n(&mut b, &["PSUBSCRIBE", "*"], 1);
    assert_eq!(p.cmd(&["PUBLISH", "", "e"]), ":1\r\n");
    assert_eq!(b.read_reply(), message("*", "", "e"));
}

#[test]
fn resp3_push_frames() {
    let s = Server::start();
    let mut c = s.raw();
    let mut p = s.raw();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["UNSUBSCRIBE"]), confirm(">", "unsubscribe", None, 0));
    assert_eq!(c.cmd(&["SUBSCRIBE", "ch"]), confirm(">", "subscribe", Some("ch"), 1));
    assert_eq!(c.cmd(&["PSUBSCRIBE", "c*"]), confirm(">", "psubscribe", Some("c*"), 2));
    // Publishing to its own channel: the pushes come before PUBLISH's reply, as Redis writes them.
    c.send(&Raw::encode(&[b"PUBLISH", b"ch", b"self"]));
    let mut got = String::new();
    for _ in 0..3 {
        got.push_str(&c.read_reply());
    }
    assert_eq!(
        got,
        message(">", "ch", "self") + ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$4\r\nself\r\n" + ":2\r\n"
    );
    // Any command runs while subscribed; PING is a plain PONG.
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(p.cmd(&["SPUBLISH", "ch", "x"]), ":0\r\n");
    assert_eq!(c.cmd(&["SSUBSCRIBE", "ch"]), confirm(">", "ssubscribe", Some("ch"), 1));
    assert_eq!(p.cmd(&["SPUBLISH", "ch", "x"]), ":1\r\n");
    assert_eq!(c.read_reply(), ">3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$1\r\nx\r\n");
    assert_eq!(p.cmd(&["PUBLISH", "cx", "y"]), ":1\r\n");
    assert_eq!(c.read_reply(), ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncx\r\n$1\r\ny\r\n");
    assert_eq!(c.cmd(&["UNSUBSCRIBE"]), confirm(">", "unsubscribe", Some("ch"), 1));
    assert_eq!(c.cmd(&["PUNSUBSCRIBE"]), confirm(">", "punsubscribe", Some("c*"), 0));
    assert_eq!(c.cmd(&["PUNSUBSCRIBE"]), confirm(">", "punsubscribe", None, 0));
    assert_eq!(c.cmd(&["SUNSUBSCRIBE"]), confirm(">", "sunsubscribe", Some("ch"), 0));
    assert_eq!(c.cmd(&["SUNSUBSCRIBE"]), confirm(">", "sunsubscribe", None, 0));
    // Back to RESP2 while subscribed: subscriber mode applies.
    assert_eq!(c.cmd(&["SUBSCRIBE", "x"]), confirm(">", "subscribe", Some("x"), 1));
    c.cmd(&["HELLO", "2"]);
    assert_eq!(c.cmd(&["GET", "k"]), format!("-ERR Can't execute 'get': {SUBSCRIBER_MODE}"));
}

#[test]
fn resp2_subscriber_mode() {
    let s = Server::start();
    let mut c = s.raw();
    cmd_n(&mut c, &["SSUBSCRIBE", "s"], 1);
    for (args, name) in [
        (&["GET", "k"][..], "get"),
        (&["CONFIG", "GET", "x"], "config|get"),
        (&["CLIENT", "LIST"], "client|list"),
        (&["HELLO", "3"], "hello"),
        (&["PUBLISH", "s", "x"], "publish"),
        (&["PUBSUB", "NUMPAT"], "pubsub|numpat"),
    ] {
        assert_eq!(c.cmd(args), format!("-ERR Can't execute '{name}': {SUBSCRIBER_MODE}"), "{args:?}");
    }
    // Unknown commands and wrong arity are reported as such first.
    assert_eq!(c.cmd(&["nosuch"]), "-ERR unknown command 'nosuch', with args beginning with: \r\n");
    assert_eq!(c.cmd(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(c.cmd(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(c.cmd(&["PING", "x"]), "*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
    assert_eq!(c.cmd(&["PING", "x", "y"]), "-ERR wrong number of arguments for 'ping' command\r\n");
    // Leaving the last (shard) subscription leaves subscriber mode.
    assert_eq!(c.cmd(&["SUNSUBSCRIBE"]), confirm("*", "sunsubscribe", Some("s"), 0));
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    // RESET drops every subscription silently.
    cmd_n(&mut c, &["SUBSCRIBE", "a", "b"], 2);
    cmd_n(&mut c, &["PSUBSCRIBE", "p*"], 1);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
    let mut p = s.raw();
    assert_eq!(p.cmd(&["PUBLISH", "a", "x"]), ":0\r\n");
    assert_eq!(p.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");
    // QUIT is allowed and closes.
    cmd_n(&mut c, &["SUBSCRIBE", "a"], 1);
    assert_eq!(c.cmd(&["QUIT"]), "+OK\r\n");
    assert!(c.is_closed());
    eventually("the quitting subscriber to leave", || p.cmd(&["PUBLISH", "a", "x"]) == ":0\r\n");
}

#[test]
fn pubsub_introspection() {
    let s = Server::start();
    let mut a = s.raw();
    let mut b = s.raw();
    let mut q = s.raw();
    cmd_n(&mut a, &["SUBSCRIBE", "news", "sport"], 2);
    cmd_n(&mut a, &["PSUBSCRIBE", "n*", "*"], 2);
    cmd_n(&mut a, &["SSUBSCRIBE", "sh"], 1);
    cmd_n(&mut b, &["SUBSCRIBE", "news"], 1);
    cmd_n(&mut b, &["PSUBSCRIBE", "n*"], 1);

    let mut channels = bulks(&q.cmd(&["PUBSUB", "CHANNELS"]));
    channels.sort();
    assert_eq!(channels, ["news", "sport"]);
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS", "n*"]), array_of(&["news"]));
    assert_eq!(q.cmd(&["PUBSUB", "CHANNELS", "x*"]), "*0\r\n");
    assert_eq!(
        q.cmd(&["PUBSUB", "NUMSUB", "news", "sport", "none"]),
        "*6\r\n$4\r\nnews\r\n:2\r\n$5\r\nsport\r\n:1\r\n$4\r\nnone\r\n:0\r\n"
    );
    assert_eq!(q.cmd(&["PUBSUB", "NUMSUB"]), "*0\r\n");
    // Distinct patterns.
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT"]), ":2\r\n");
    assert_eq!(q.cmd(&["PUBSUB", "SHARDCHANNELS"]), array_of(&["sh"]));
    assert_eq!(q.cmd(&["PUBSUB", "SHARDCHANNELS", "x"]), "*0\r\n");
    assert_eq!(q.cmd(&["PUBSUB", "SHARDNUMSUB", "sh", "news"]), "*4\r\n$2\r\nsh\r\n:1\r\n$4\r\nnews\r\n:0\r\n");
    // NUMSUB stays a flat array in RESP3, as in Redis 7.0.
    let mut q3 = s.raw();
    q3.cmd(&["HELLO", "3"]);
    assert_eq!(q3.cmd(&["PUBSUB", "NUMSUB", "sport"]), "*2\r\n$5\r\nsport\r\n:1\r\n");
    // Errors.
    assert_eq!(
        q.cmd(&["PUBSUB", "CHANNELS", "a", "b"]),
        "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.\r\n"
    );
    assert_eq!(q.cmd(&["PUBSUB", "NUMPAT", "x"]), "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n");
    assert_eq!(q.cmd(&["PUBSUB", "BOGUS"]), "-ERR unknown subcommand 'BOGUS'. Try PUBSUB HELP.\r\n");
    assert_eq!(q.cmd(&["PUBSUB"]), "-ERR wrong number of arguments for 'pubsub' command\r\n");
    assert_eq!(q.cmd(&["SUBSCRIBE"]), "-ERR wrong number of arguments for 'subscribe' command\r\n");
    assert_eq!(q.cmd(&["PUBLISH", "a"]), "-ERR wrong number of arguments for 'publish' command\r\n");
    let help = q.cmd(&["PUBSUB", "HELP"]);
    assert!(help.starts_with("*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), "{help}");

    // INFO stats and CLIENT LIST.
    let info = q.cmd(&["INFO", "stats"]);
    for line in ["pubsub_channels:2\r\n", "pubsub_patterns:2\r\n", "pubsubshard_channels:1\r\n"] {
        assert!(info.contains(line), "{line} in {info}");
    }
    let list = q.cmd(&["CLIENT", "LIST"]);
    assert!(list.contains(" flags=P db=0 sub=2 psub=2 ssub=1 multi=-1 "), "{list}");
    assert!(list.contains(" flags=P db=0 sub=1 psub=1 ssub=0 multi=-1 "), "{list}");
    assert!(list.contains(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 "), "{list}");
    assert_eq!(q.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).matches("flags=P").count(), 2);
    let normal = q.cmd(&["CLIENT", "LIST", "TYPE", "normal"]);
    assert!(!normal.contains("flags=P") && normal.contains("cmd=client|list"), "{normal}");
    // CLIENT KILL TYPE pubsub kills the subscribers only, and their subscriptions go with them.
    assert_eq!(q.cmd(&["CLIENT", "KILL", "TYPE", "pubsub"]), ":2\r\n");
    assert!(a.is_closed() && b.is_closed());
    eventually("killed subscribers to leave the registry", || {
        q.cmd(&["INFO", "stats"]).contains("pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n")
    });
    assert_eq!(q.cmd(&["PUBLISH", "news", "x"]), ":0\r\n");
}

#[test]
fn disconnect_drops_subscriptions() {
    let s = Server::start();
    let mut p = s.raw();
    {
        let mut a = s.raw();
        cmd_n(&mut a, &["SUBSCRIBE", "c"], 1);
        cmd_n(&mut a, &["PSUBSCRIBE", "c*"], 1);
        assert_eq!(p.cmd(&["PUBLISH", "c", "x"]), ":2\r\n");
    }
    eventually("the closed subscriber to leave", || p.cmd(&["PUBLISH", "c", "x"]) == ":0\r\n");
    assert_eq!(p.cmd(&["PUBSUB", "NUMSUB", "c"]), "*2\r\n$1\r\nc\r\n:0\r\n");
    assert_eq!(p.cmd(&["PUBSUB", "NUMPAT"]), ":0\r\n");
}

/// The `redis` crate's pub/sub API; subscribers spread over both worker threads (the harness starts the server
/// with `--workers 2`, and connections are dealt round-robin), the publisher on either.
#[test]
fn redis_crate_delivery_across_workers() {
    let s = Server::start();
    let mut conns: Vec<redis::Connection> = (0..4).map(|_| s.conn()).collect();
    let mut subs: Vec<redis::PubSub> = conns.iter_mut().map(|c| c.as_pubsub()).collect();
    for (i, sub) in subs.iter_mut().enumerate() {
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if i % 2 == 0 {
            sub.subscribe("events").unwrap();
        } else {
            sub.psubscribe("ev*").unwrap();
        }
    }
    let mut publisher = s.conn();
    let n: i64 = redis::cmd("PUBLISH").arg("events").arg("hello").query(&mut publisher).unwrap();
    assert_eq!(n, 4);
    for (i, sub) in subs.iter_mut().enumerate() {
        let msg = sub.get_message().unwrap();
        assert_eq!(msg.get_channel_name(), "events");
        assert_eq!(msg.get_payload::<String>().unwrap(), "hello");
        if i % 2 == 1 {
            assert_eq!(msg.get_pattern::<String>().unwrap(), "ev*");
        }
    }
    subs[0].unsubscribe("events").unwrap();
    let n: i64 = redis::cmd("PUBLISH").arg("events").arg("again").query(&mut publisher).unwrap();
    assert_eq!(n, 3);
    for sub in &mut subs[1..] {
        assert_eq!(sub.get_message().unwrap().get_payload::<String>().unwrap(), "again");
    }
}

/// 1000 numbered messages from one publisher arrive in publish order, at subscribers on both workers.
#[test]
fn publish_order_is_kept() {
    let s = Server::start();
    let mut conns: Vec<redis::Connection> = (0..2).map(|_| s.conn()).collect();
    let mut subs: Vec<redis::PubSub> = conns.iter_mut().map(|c| c.as_pubsub()).collect();
    for sub in &mut subs {
        sub.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        sub.subscribe("seq").unwrap();
    }
    let mut publisher = s.conn();
    // Half one by one, half pipelined.
    for i in 0..500 {
        let n: i64 = redis::cmd("PUBLISH").arg("seq").arg(i).query(&mut publisher).unwrap();
        assert_eq!(n, 2);
    }
    let mut pipe = redis::pipe();
    for i in 500..1000 {
        pipe.cmd("PUBLISH").arg("seq").arg(i);
    }
    let counts: Vec<i64> = pipe.query(&mut publisher).unwrap();
    assert!(counts.iter().all(|&n| n == 2));
    for sub in &mut subs {
        for i in 0..1000 {
            assert_eq!(sub.get_message().unwrap().get_payload::<i64>().unwrap(), i);
        }
    }
}

/// Connections that run commands while messages arrive get them between replies, never inside one.
#[test]
fn messages_interleave_with_replies_of_a_resp3_subscriber() {
    let s = Server::start();
    let mut c = s.raw();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["SUBSCRIBE", "t"]);
    let port = s.port;
    let publisher = std::thread::spawn(move || {
        let mut p = Raw::connect(port);
        for i in 0..300 {
            assert_eq!(p.cmd(&["PUBLISH", "t", &i.to_string()]), ":1\r\n");
        }
    });
    let (mut replies, mut next) = (0, 0);
    while next < 300 {
        if replies < 300 {
            c.send(&Raw::encode(&[b"ECHO", b"reply"]));
        }
        loop {
            let frame = c.read_reply();
            if frame == "$5\r\nreply\r\n" {
                replies += 1;
                break;
            }
            assert_eq!(frame, message(">", "t", &next.to_string()));
            next += 1;
            if replies >= 300 && next == 300 {
                break;
            }
        }
    }
    publisher.join().unwrap();
}

/// A subscriber that never reads is disconnected once it passes the pubsub output buffer limit; the server's
/// memory stays bounded and publishers are not slowed down.
#[test]
fn output_buffer_limit_disconnects_a_subscriber_that_never_reads() {
    let s = Server::start();
    let mut p = s.raw();
    assert_eq!(p.cmd(&["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 60"]), "+OK\r\n");
    assert_eq!(
        bulks(&p.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]))[1],
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 60"
    );
    let mut reader = s.raw();
    cmd_n(&mut reader, &["SUBSCRIBE", "big"], 1);
    let mut sleeper = s.raw();
    cmd_n(&mut sleeper, &["SUBSCRIBE", "big"], 1);
    assert_eq!(p.cmd(&["PUBSUB", "NUMSUB", "big"]), "*2\r\n$3\r\nbig\r\n:2\r\n");

    let payload = "x".repeat(100 * 1024);
    let (base, _) = s.rss_kib();
    s.reset_peak_rss();
    // 400 MB published in all: without the limit the sleeper's mailbox would hold most of it.
    let started = Instant::now();
    let mut published = 0;
    let mut omem_seen = 0;
    while published < 4000 {
        let n = int(&p.cmd(&["PUBLISH", "big", &payload]));
        published += 1;
        // CLIENT LIST's omem counts the messages waiting in the sleeper's mailbox, as Redis counts its reply list.
        let list = p.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]);
        let omem = |line: &str| line.split(' ').find_map(|f| f.strip_prefix("omem=")?.parse::<u64>().ok());
        omem_seen = list.lines().filter_map(omem).max().unwrap_or(0).max(omem_seen);
        // The reader keeps up, so it is never disconnected.
        let got = reader.read_reply();
        assert!(got.starts_with("*3\r\n$7\r\nmessage\r\n$3\r\nbig\r\n$102400\r\n"), "{}", &got[..40.min(got.len())]);
        if n == 1 {
            break;
        }
    }
    assert!(published < 4000, "the subscriber that never reads was not disconnected");
    assert!(omem_seen >= 512 * 1024, "the sleeper's output never showed in CLIENT LIST (omem up to {omem_seen})");
    assert!(started.elapsed() < Duration::from_secs(60));
    let (_, peak) = s.rss_kib();
    assert!(peak < base + 64 * 1024, "RSS grew from {base} KiB to a peak of {peak} KiB");
    // The reader still gets everything; the publisher keeps working.
    for _ in 0..100 {
        assert_eq!(p.cmd(&["PUBLISH", "big", "small"]), ":1\r\n");
        assert_eq!(reader.read_reply(), message("*", "big", "small"));
    }
    assert_eq!(p.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(p.cmd(&["CLIENT", "LIST", "TYPE", "pubsub"]).matches("id=").count(), 1);
    // The disconnected subscriber's socket is closed once its buffered bytes are read.
    sleeper.stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut sink = vec![0u8; 1 << 20];
    loop {
        use std::io::Read;
        match sleeper.stream.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => panic!("the disconnected subscriber's socket stayed open: {e}"),
        }
    }
}

/// Over the soft limit for longer than its seconds disconnects too; the limit also comes from the command line.
#[test]
fn output_buffer_soft_limit_takes_its_seconds() {
    let s = Server::start_with(&["--client-output-buffer-limit", "pubsub 0 256kb 1"]);
    let mut p = s.raw();
    assert_eq!(
        bulks(&p.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]))[1],
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 0 262144 1"
    );
    let mut sleeper = s.raw();
    cmd_n(&mut sleeper, &["SUBSCRIBE", "c"], 1);
    let payload = "y".repeat(64 * 1024);
    let started = Instant::now();
    let mut disconnected = None;
    while started.elapsed() < Duration::from_secs(20) {
        if int(&p.cmd(&["PUBLISH", "c", &payload])) == 0 {
            disconnected = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let after = disconnected.expect("the subscriber over the soft limit was not disconnected");
    // Kernel buffers take the first megabytes; after that the soft limit must hold for more than a second.
    assert!(after > Duration::from_secs(1), "disconnected after {after:?}");
}

#[test]
fn a_resp3_subscriber_gets_its_messages_while_blocked() {
    let s = Server::start_with(&["--workers", "2"]);
    let mut sub = s.raw();
    sub.cmd(&["HELLO", "3"]);
    assert_eq!(sub.cmd(&["SUBSCRIBE", "c"]), confirm(">", "subscribe", Some("c"), 1));
    sub.send(&Raw::encode(&[b"BLPOP", b"l", b"0"]));
    let mut other = s.raw();
    eventually("the subscriber blocks", || other.cmd(&["INFO", "clients"]).contains("blocked_clients:1\r\n"));
    assert_eq!(other.cmd(&["PUBLISH", "c", "while-blocked"]), ":1\r\n");
    assert_eq!(sub.read_reply(), message(">", "c", "while-blocked"));
    assert_eq!(other.cmd(&["RPUSH", "l", "x"]), ":1\r\n");
    assert_eq!(sub.read_reply(), array_of(&["l", "x"]));
}
