//! Client-side caching: CLIENT TRACKING (default mode, BCAST, OPTIN/OPTOUT, NOLOOP, REDIRECT), CLIENT CACHING,
//! GETREDIR, TRACKINGINFO and the invalidation messages. Reply bytes were taken from redis-server 7.0.15.
//!
//! An invalidation is queued for its receiver when the write that causes it is committed, before the writer gets
//! its reply, so a PING sent by the receiver after that reply shows any invalidation ahead of its `+PONG`.

use crate::common::{int, Raw, Server};

fn invalidate(keys: &[&str]) -> String {
    let mut s = format!(">2\r\n$10\r\ninvalidate\r\n*{}\r\n", keys.len());
    for k in keys {
        s.push_str(&format!("${}\r\n{k}\r\n", k.len()));
    }
    s
}

const NULL_INVALIDATE: &str = ">2\r\n$10\r\ninvalidate\r\n_\r\n";

fn resp3(s: &Server) -> Raw {
    let mut r = s.raw();
    r.cmd(&["HELLO", "3"]);
    r
}

/// The next frames until `+PONG`, after sending PING.
fn until_pong(r: &mut Raw) -> String {
    let mut all = r.cmd(&["PING"]);
    while !all.ends_with("+PONG\r\n") {
        all.push_str(&r.read_reply());
    }
    all
}

#[test]
fn default_mode_invalidates_once_after_another_clients_write() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "_\r\n");
    assert_eq!(c.cmd(&["MGET", "b", "c"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(w.cmd(&["SET", "a", "1"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["a"]) + "+PONG\r\n");
    // Forgotten after one invalidation.
    assert_eq!(w.cmd(&["SET", "a", "2"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
    // Writes of any type and deletion invalidate, in another database too (the table ignores databases).
    assert_eq!(w.cmd(&["SELECT", "1"]), "+OK\r\n");
    assert_eq!(w.cmd(&["RPUSH", "b", "x"]), ":1\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["b"]) + "+PONG\r\n");
    // A write by the tracking client itself reaches it after its reply.
    assert_eq!(c.cmd(&["GET", "c"]), "_\r\n");
    assert_eq!(c.cmd(&["SET", "c", "1"]), "+OK\r\n");
    assert_eq!(c.read_reply(), invalidate(&["c"]));
    // Writes are not remembered, only reads.
    assert_eq!(w.cmd(&["SELECT", "0"]), "+OK\r\n");
    assert_eq!(w.cmd(&["SET", "c", "2"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
    let info = s.cli(&["INFO"]);
    assert!(info.contains("tracking_clients:1\r\n"), "{info}");
    assert!(info.contains("tracking_total_keys:0\r\n"), "{info}");
    // CLIENT TRACKING OFF: no more invalidations for keys read before (Redis skips non-tracking clients).
    assert_eq!(c.cmd(&["GET", "d"]), "_\r\n");
    assert!(s.cli(&["INFO", "stats"]).contains("tracking_total_keys:1\r\n"));
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(w.cmd(&["SET", "d", "1"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
}

#[test]
fn redirect_to_a_resp2_subscriber_and_broken_redirection() {
    let s = Server::start();
    let mut sub = s.raw();
    let mut c = resp3(&s);
    let mut w = s.raw();
    let id = int(&sub.cmd(&["CLIENT", "ID"]));
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "__redis__:invalidate"]),
        "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), format!(":{id}\r\n"));
    assert_eq!(c.cmd(&["GET", "k"]), "_\r\n");
    assert_eq!(w.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
    let list = c.cmd(&["CLIENT", "INFO"]);
    assert!(list.contains(" flags=t ") && list.contains(&format!(" redir={id} ")), "{list}");
    // FLUSHALL: a null for everyone tracking (`$-1` when the tracking client speaks RESP2).
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    let mut c2 = s.raw();
    assert_eq!(c2.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]), "+OK\r\n");
    assert_eq!(w.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(sub.read_reply(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
    assert_eq!(c2.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]), "+OK\r\n");
    // The redirect client goes away: the next invalidation tells the tracking client instead.
    assert_eq!(c.cmd(&["GET", "k"]), "_\r\n");
    drop(sub);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(w.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n") + "+PONG\r\n");
    let info = c.cmd(&["CLIENT", "TRACKINGINFO"]);
    assert_eq!(
        info,
        format!(
            "%3\r\n$5\r\nflags\r\n~2\r\n$2\r\non\r\n$15\r\nbroken_redirect\r\n$8\r\nredirect\r\n:{id}\r\n$8\r\nprefixes\r\n*0\r\n"
        )
    );
    assert!(c.cmd(&["CLIENT", "INFO"]).contains(" flags=tR "));
}

#[test]
fn bcast_with_prefixes_and_noloop() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:", "NOLOOP"]), "+OK\r\n");
    assert_eq!(w.cmd(&["MSET", "a:1", "x", "a:2", "y", "c:1", "z"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["a:1", "a:2"]) + "+PONG\r\n");
    assert_eq!(w.cmd(&["SET", "b:1", "x"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["b:1"]) + "+PONG\r\n");
    // NOLOOP: its own writes are not reported.
    assert_eq!(c.cmd(&["SET", "a:3", "x"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
    assert!(c.cmd(&["CLIENT", "INFO"]).contains(" flags=tB "));
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKINGINFO"]),
        "%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\nbcast\r\n$6\r\nnoloop\r\n$8\r\nredirect\r\n:0\r\n\
         $8\r\nprefixes\r\n*2\r\n$2\r\na:\r\n$2\r\nb:\r\n"
    );
    let stats = s.cli(&["INFO", "stats"]);
    assert!(stats.contains("tracking_total_prefixes:2\r\n"), "{stats}");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:b"]),
        "-ERR Prefix 'a:b' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap.\r\n"
    );
}

#[test]
fn noloop_in_default_mode() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "NOLOOP"]), "+OK\r\n");
    assert_eq!(c.cmd(&["MGET", "x", "y"]), "*2\r\n_\r\n_\r\n");
    assert_eq!(c.cmd(&["SET", "x", "1"]), "+OK\r\n");
    assert_eq!(w.cmd(&["SET", "y", "1"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["y"]) + "+PONG\r\n");
}

#[test]
fn optin_optout_and_caching() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode \
         enabled\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "no"]),
        "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );
    assert_eq!(c.cmd(&["GET", "a"]), "_\r\n");
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "yes"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKINGINFO"]),
        "%3\r\n$5\r\nflags\r\n~3\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$8\r\nredirect\r\n:0\r\n\
         $8\r\nprefixes\r\n*0\r\n"
    );
    assert_eq!(c.cmd(&["GET", "b"]), "_\r\n");
    assert_eq!(c.cmd(&["GET", "c"]), "_\r\n");
    assert_eq!(w.cmd(&["MSET", "a", "1", "b", "1", "c", "1"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["b"]) + "+PONG\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]),
        "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling \
         it with a different mode.\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "off"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.\r\n"
    );
    assert_eq!(c.cmd(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "no"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "b"]), "$1\r\n1\r\n");
    assert_eq!(w.cmd(&["MSET", "a", "2", "b", "2"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["a"]) + "+PONG\r\n");
}

#[test]
fn flush_and_expiry_invalidate() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    assert_eq!(w.cmd(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), NULL_INVALIDATE.to_string() + "+PONG\r\n");
    assert_eq!(w.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(until_pong(&mut c), NULL_INVALIDATE.to_string() + "+PONG\r\n");
    // Its own FLUSHALL: after the reply.
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(c.read_reply(), NULL_INVALIDATE);
    // Active expiry deletes the key it read.
    assert_eq!(w.cmd(&["SET", "e", "1", "PX", "50"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "e"]), "$1\r\n1\r\n");
    assert_eq!(c.read_reply(), invalidate(&["e"]));
}

#[test]
fn tracking_option_errors() {
    let s = Server::start();
    let mut c = s.raw();
    let cases: &[(&[&str], &str)] = &[
        (&["CLIENT", "TRACKING", "maybe"], "-ERR syntax error\r\n"),
        (&["CLIENT", "TRACKING", "on", "bogus"], "-ERR syntax error\r\n"),
        (&["CLIENT", "TRACKING", "on", "REDIRECT"], "-ERR syntax error\r\n"),
        (&["CLIENT", "TRACKING", "on", "REDIRECT", "x"], "-ERR value is not an integer or out of range\r\n"),
        (
            &["CLIENT", "TRACKING", "on", "REDIRECT", "9999"],
            "-ERR The client ID you want redirect to does not exist\r\n",
        ),
        (&["CLIENT", "TRACKING", "on", "PREFIX", "a"], "-ERR PREFIX option requires BCAST mode to be enabled\r\n"),
        (&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"], "-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"),
        (
            &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            "-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n",
        ),
        (
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
            "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not \
             overlap.\r\n",
        ),
        (&["CLIENT", "GETREDIR"], ":-1\r\n"),
        (&["CLIENT", "TRACKING", "on"], "+OK\r\n"),
        (&["CLIENT", "GETREDIR"], ":0\r\n"),
        (
            &["CLIENT", "TRACKING", "on", "BCAST"],
            "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then \
             re-enabling it with a different mode.\r\n",
        ),
        (
            &["CLIENT", "TRACKINGINFO"],
            "*6\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n",
        ),
        (&["CLIENT", "TRACKING", "off"], "+OK\r\n"),
        (
            &["CLIENT", "TRACKINGINFO"],
            "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n",
        ),
    ];
    crate::common::check(&mut c, cases);
}

#[test]
fn invalidations_follow_the_order_of_the_writes() {
    let s = Server::start();
    let mut c = resp3(&s);
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    // Keys declared by a script that reads are remembered.
    assert_eq!(c.cmd(&["EVAL", "redis.call('get', 'key3')", "2", "key1", "key2"]), "_\r\n");
    assert_eq!(c.cmd(&["MGET", "z", "a"]), "*2\r\n_\r\n_\r\n");
    // One MSET, written in argument order (a repeated key where it first appears), as Redis invalidates.
    assert_eq!(w.cmd(&["MSET", "key2", "2", "z", "1", "key1", "2", "key2", "3"]), "+OK\r\n");
    let want = invalidate(&["key2"]) + &invalidate(&["z"]) + &invalidate(&["key1"]) + "+PONG\r\n";
    assert_eq!(until_pong(&mut c), want);
    // A transaction's writes, in command order.
    w.cmd(&["MULTI"]);
    w.cmd(&["SET", "z", "1"]);
    w.cmd(&["DEL", "a"]);
    assert_eq!(c.cmd(&["MGET", "z", "a"]), "*2\r\n$1\r\n1\r\n_\r\n");
    w.cmd(&["SET", "a", "1"]);
    assert_eq!(w.cmd(&["EXEC"]), "*3\r\n+OK\r\n:0\r\n+OK\r\n");
    assert_eq!(until_pong(&mut c), invalidate(&["z"]) + &invalidate(&["a"]) + "+PONG\r\n");
}

#[test]
fn a_resp3_redirect_target_gets_pushes_without_subscribing() {
    let s = Server::start();
    let mut target = resp3(&s);
    let id = int(&target.cmd(&["CLIENT", "ID"]));
    let mut c = s.raw();
    let mut w = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "foo"]), "$-1\r\n");
    // Pushes are not replies: CLIENT REPLY OFF does not silence them (redis-server 7.0.15).
    target.send(&Raw::encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    assert_eq!(w.cmd(&["SET", "foo", "bar"]), "+OK\r\n");
    assert_eq!(target.read_reply(), invalidate(&["foo"]));
    assert_eq!(target.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(target.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn lowering_tracking_table_max_keys_evicts_at_once() {
    let s = Server::start();
    let mut sub = s.raw();
    let id = int(&sub.cmd(&["CLIENT", "ID"]));
    assert!(sub.cmd(&["SUBSCRIBE", "__redis__:invalidate"]).starts_with("*3\r\n"));
    let mut c = s.raw();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &id.to_string()]), "+OK\r\n");
    assert_eq!(c.cmd(&["MGET", "k1", "k2"]), "*2\r\n$-1\r\n$-1\r\n");
    // Nothing else is sent: the limit applies without waiting for another command.
    assert_eq!(c.cmd(&["CONFIG", "SET", "tracking-table-max-keys", "1"]), "+OK\r\n");
    let msg = sub.read_reply();
    assert!(
        msg == "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\nk1\r\n"
            || msg == "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\nk2\r\n",
        "{msg:?}"
    );
    assert!(s.cli(&["INFO", "stats"]).contains("tracking_total_keys:1\r\n"));
}

#[test]
fn a_read_after_its_own_pending_write_is_not_invalidated_by_it() {
    let s = Server::start();
    let mut c = resp3(&s);
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), "+OK\r\n");
    // Written and read in one transaction: the read comes after the write, which invalidates nothing (Redis).
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "y", "2"]);
    c.cmd(&["GET", "y"]);
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n+OK\r\n$1\r\n2\r\n");
    assert_eq!(until_pong(&mut c), "+PONG\r\n");
    // The read was remembered: a later write invalidates it, after the writer's own reply.
    assert_eq!(c.cmd(&["SET", "y", "3"]), "+OK\r\n");
    assert_eq!(c.read_reply(), invalidate(&["y"]));
}
