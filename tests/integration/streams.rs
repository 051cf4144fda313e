//! End-to-end tests of Redis Streams (XADD … XINFO): every reply compared byte for byte with what redis-server
//! 7.0.15 answers to the same commands (the expected texts were produced by it), in RESP2 and RESP3, error paths
//! included; approximate trimming by whole nodes; the keyspace (TYPE, OBJECT ENCODING, COPY, RENAME, SCAN TYPE,
//! EXPIRE, DUMP's refusal); blocking XREAD / XREADGROUP; keyspace notifications; a restart.

use std::time::{Duration, Instant};

use crate::common::{Raw, Server};

/// Replies with the parts that depend on the clock (idle times, delivery and seen times) and on Redis' radix tree
/// layout (`radix-tree-nodes`) blanked, so that recorded replies compare.
fn untimed(reply: &str) -> String {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let prev = if i > 0 { lines[i - 1] } else { "" };
        let next = lines.get(i + 1).copied().unwrap_or("");
        let big = l.starts_with(':') && l.len() > 12;
        let idle = l.starts_with(':') && (prev == "idle" || prev == "radix-tree-nodes");
        // XPENDING's idle time is followed by the delivery count.
        let pending_idle = l.starts_with(':') && next.starts_with(':') && !prev.starts_with(':');
        if big || idle || pending_idle {
            out.push(":0".into());
        } else {
            out.push(l.to_string());
        }
    }
    out.join("\r\n")
}

/// Sends each command line (arguments split on spaces) and compares the reply, clock-dependent parts aside.
fn expect(r: &mut Raw, cases: &[(&str, &str)]) {
    for (line, want) in cases {
        let args: Vec<&str> = line.split(' ').collect();
        let got = r.cmd(&args);
        if !args[0].eq_ignore_ascii_case("HELLO") {
            assert_eq!(untimed(&got), untimed(want), "{line}");
        }
    }
}

/// XADD's ID forms and errors, XRANGE/XREVRANGE bounds and COUNT, XDEL, XTRIM, XSETID, WRONGTYPE.
#[test]
fn entries_are_added_ranged_deleted_and_trimmed() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
            ("XADD s 1-* b 2", "$3\r\n1-2\r\n"),
            ("XADD s 1-* c 3", "$3\r\n1-3\r\n"),
            ("XADD s 2 d 4 e 5", "$3\r\n2-0\r\n"),
            ("XADD s 1-9 x y", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 2-0 x y", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 0-0 x y", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
            ("XADD s 0-* x y", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s abc x y", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s 1-1-1 x y", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s - x y", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XADD s * x", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s * x y z", "-ERR wrong number of arguments for 'xadd' command\r\n"),
            ("XADD s MAXLEN -1 * x y", "-ERR The MAXLEN argument must be >= 0.\r\n"),
            ("XADD s MAXLEN abc * x y", "-ERR value is not an integer or out of range\r\n"),
            ("XADD s MAXLEN 5 MINID 1 * x y", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
            ("XADD s LIMIT 5 * x y", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"),
            ("XADD s MAXLEN 5 LIMIT 5 * x y", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
            ("XADD s MAXLEN ~ 5 LIMIT -1 * x y", "-ERR The LIMIT argument must be >= 0.\r\n"),
            ("XADD nokey NOMKSTREAM * a b", "$-1\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("XLEN s", ":4\r\n"),
            ("XLEN nokey", ":0\r\n"),
            ("XRANGE s - +", "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XRANGE s - + COUNT 2", "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XRANGE s - + COUNT 0", "*-1\r\n"),
            ("XRANGE s - + COUNT -5", "*-1\r\n"),
            ("XRANGE nokey - + COUNT 0", "*0\r\n"),
            ("XRANGE s (1-1 (2-0", "*2\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XRANGE s 1 1", "*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XRANGE s 2 +", "*1\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XRANGE s (1-1 +", "*3\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XRANGE s (0-0 (0-1", "*0\r\n"),
            ("XRANGE s - (0-0", "-ERR invalid end ID for the interval\r\n"),
            ("XRANGE s (18446744073709551615-18446744073709551615 +", "-ERR invalid start ID for the interval\r\n"),
            ("XRANGE s (- +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s x +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XRANGE s - + COUNT", "-ERR syntax error\r\n"),
            ("XRANGE s - + LIMIT 1", "-ERR syntax error\r\n"),
            ("XREVRANGE s + - COUNT 2", "*2\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
            ("XREVRANGE s (2-0 -", "*3\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREVRANGE s 1 1-2", "*2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XDEL s 1-2 1-2 9-9", ":1\r\n"),
            ("XDEL s bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XDEL nokey bad", ":0\r\n"),
            ("XLEN s", ":3\r\n"),
            ("XTRIM s MAXLEN 2", ":1\r\n"),
            ("XRANGE s - +", "*2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"),
            ("XTRIM s", "-ERR wrong number of arguments for 'xtrim' command\r\n"),
            ("XTRIM s LIMIT 1", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"),
            ("XTRIM s MAXLEN 1 LIMIT 1", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
            ("XTRIM s FOO 1", "-ERR syntax error\r\n"),
            ("XTRIM nokey MAXLEN 0", ":0\r\n"),
            ("XTRIM s MINID 2", ":1\r\n"),
            ("XTRIM s MINID = 2-1", ":1\r\n"),
            ("XLEN s", ":0\r\n"),
            ("SET str x", "+OK\r\n"),
            ("XADD str * a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XLEN str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XRANGE str - +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XDEL str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XTRIM str MAXLEN 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XREAD STREAMS str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XINFO STREAM str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XSETID nokey 1", "-ERR no such key\r\n"),
            ("XSETID str 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("XSETID s 1", "+OK\r\n"),
            ("XSETID s 5 ENTRIESADDED 1", "+OK\r\n"),
            ("XSETID s 5 ENTRIESADDED -1", "-ERR entries_added must be positive\r\n"),
            ("XSETID s 5 MAXDELETEDID 6", "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"),
            ("XSETID s 5 FOO", "-ERR syntax error\r\n"),
            ("XSETID s 5 ENTRIESADDED 10 MAXDELETEDID 3", "+OK\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n5-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:10\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD s 5-0 a b", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
            ("XADD s 5-* a b", "$3\r\n5-1\r\n"),
            ("XSETID s 18446744073709551615-18446744073709551615", "+OK\r\n"),
            ("XADD s * a b", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
            ("XADD s 18446744073709551615-* a b", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
        ],
    );
}

/// XGROUP, XREADGROUP (new entries and history), XPENDING, XACK, XCLAIM, XAUTOCLAIM, lag and entries-read, XINFO, HELP.
#[test]
fn consumer_groups_follow_redis() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("XGROUP CREATE s g $", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n"),
            ("XGROUP CREATE s g $", "-BUSYGROUP Consumer Group name already exists\r\n"),
            ("XGROUP CREATE s g2 0 ENTRIESREAD -2", "-ERR value for ENTRIESREAD must be positive or -1\r\n"),
            ("XGROUP CREATE s g2 0 ENTRIESREAD x", "-ERR value is not an integer or out of range\r\n"),
            ("XGROUP CREATE s g2 0 FOO", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
            ("XGROUP CREATE s g3 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XGROUP SETID s nog 0", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
            ("XGROUP SETID s g 0 MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
            ("XGROUP CREATECONSUMER s nog c", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
            ("XGROUP DELCONSUMER nokey g c", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
            ("XGROUP DESTROY s nog", ":0\r\n"),
            ("XGROUP FOO s g", "-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"),
            ("XADD s 1-0 f 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 f 2", "$3\r\n2-0\r\n"),
            ("XADD s 3-0 f 3", "$3\r\n3-0\r\n"),
            ("XADD s 4-0 f 4", "$3\r\n4-0\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:4\r\n"),
            ("XREADGROUP GROUP g alice COUNT 1 STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:3\r\n"),
            ("XREADGROUP GROUP g bob STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nf\r\n$1\r\n4\r\n"),
            ("XREADGROUP GROUP g bob STREAMS s >", "*-1\r\n"),
            ("XREADGROUP GROUP g alice STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"),
            ("XREADGROUP GROUP g bob COUNT 1 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"),
            ("XREADGROUP GROUP g bob STREAMS s 2-0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nf\r\n$1\r\n4\r\n"),
            ("XREADGROUP GROUP nog bob STREAMS s >", "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"),
            ("XREADGROUP GROUP g bob STREAMS nokey >", "-NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
            ("XREADGROUP GROUP g bob STREAMS s $", "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n"),
            ("XREADGROUP STREAMS s >", "-ERR wrong number of arguments for 'xreadgroup' command\r\n"),
            ("XREAD GROUP g bob STREAMS s 0", "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
            ("XREAD NOACK STREAMS s 0", "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
            ("XREAD STREAMS s >", "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"),
            ("XREAD STREAMS s", "-ERR wrong number of arguments for 'xread' command\r\n"),
            ("XREAD COUNT x STREAMS s 0", "-ERR value is not an integer or out of range\r\n"),
            ("XREAD BLOCK -1 STREAMS s 0", "-ERR timeout is negative\r\n"),
            ("XREAD BLOCK x STREAMS s 0", "-ERR timeout is not an integer or out of range\r\n"),
            ("XREAD FOO STREAMS s 0", "-ERR syntax error\r\n"),
            ("XREAD COUNT 1", "-ERR wrong number of arguments for 'xread' command\r\n"),
            ("XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n*2\r\n$3\r\nbob\r\n$1\r\n3\r\n"),
            ("XPENDING s g - + 10", "*4\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:0\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:0\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$3\r\nbob\r\n:0\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:0\r\n:2\r\n"),
            ("XPENDING s g - + 10 bob", "*3\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:1\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$3\r\nbob\r\n:1\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:1\r\n:2\r\n"),
            ("XPENDING s g - + 10 nobody", "*0\r\n"),
            ("XPENDING s g (1-0 + 1", "*1\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:1\r\n:2\r\n"),
            ("XPENDING s g - + 0", "*0\r\n"),
            ("XPENDING s g IDLE 0 - + 10 alice", "*1\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:1\r\n:2\r\n"),
            ("XPENDING s g IDLE x - + 10", "-ERR value is not an integer or out of range\r\n"),
            ("XPENDING s g IDLE 0 - +", "-ERR syntax error\r\n"),
            ("XPENDING s g -", "-ERR syntax error\r\n"),
            ("XPENDING s nog", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XPENDING nokey g", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
            ("XPENDING s g - + x", "-ERR value is not an integer or out of range\r\n"),
            ("XPENDING s g x + 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XACK s g 1-0 1-0 9-0", ":1\r\n"),
            ("XACK s g bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XACK s nog bad", ":0\r\n"),
            ("XACK nokey g bad", ":0\r\n"),
            ("XPENDING s g", "*4\r\n:3\r\n$3\r\n2-0\r\n$3\r\n4-0\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n3\r\n"),
            ("XCLAIM s g carol 0 2-0 3-0 JUSTID", "*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n"),
            ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:0\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$5\r\ncarol\r\n:0\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:2\r\n:2\r\n"),
            ("XCLAIM s g carol 0 2-0 RETRYCOUNT 7", "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"),
            ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:0\r\n:7\r\n*4\r\n$3\r\n3-0\r\n$5\r\ncarol\r\n:0\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:2\r\n:2\r\n"),
            ("XCLAIM s g dave 3600000 2-0", "*0\r\n"),
            ("XCLAIM s g dave x 2-0", "-ERR Invalid min-idle-time argument for XCLAIM\r\n"),
            ("XCLAIM s g dave 0 2-0 FOO", "-ERR Unrecognized XCLAIM option 'FOO'\r\n"),
            ("XCLAIM s g dave 0 2-0 IDLE x", "-ERR Invalid IDLE option argument for XCLAIM\r\n"),
            ("XCLAIM s g dave 0 2-0 TIME x", "-ERR Invalid TIME option argument for XCLAIM\r\n"),
            ("XCLAIM s g dave 0 2-0 RETRYCOUNT x", "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n"),
            ("XCLAIM s g dave 0 2-0 LASTID x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XCLAIM s nog dave 0 2-0", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XCLAIM s g dave 0 1-0 JUSTID", "*0\r\n"),
            ("XCLAIM s g dave 0 1-0 FORCE JUSTID", "*1\r\n$3\r\n1-0\r\n"),
            ("XPENDING s g - + 10", "*4\r\n*4\r\n$3\r\n1-0\r\n$4\r\ndave\r\n:0\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:0\r\n:7\r\n*4\r\n$3\r\n3-0\r\n$5\r\ncarol\r\n:0\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:2\r\n:2\r\n"),
            ("XCLAIM s g dave 0 4-0 FORCE LASTID 9-0", "*1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nf\r\n$1\r\n4\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:4\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:0\r\n"),
            ("XDEL s 3-0", ":1\r\n"),
            ("XAUTOCLAIM s g erin 0 0 COUNT 1", "*3\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*0\r\n"),
            ("XAUTOCLAIM s g erin 0 0 COUNT 10 JUSTID", "*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n4-0\r\n*1\r\n$3\r\n3-0\r\n"),
            ("XAUTOCLAIM s g erin 0 (1-0", "*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nf\r\n$1\r\n4\r\n*0\r\n"),
            ("XAUTOCLAIM s g erin 0 0 COUNT 0", "-ERR COUNT must be > 0\r\n"),
            ("XAUTOCLAIM s g erin 0 0 COUNT x", "-ERR COUNT must be > 0\r\n"),
            ("XAUTOCLAIM s g erin 0 0 FOO", "-ERR syntax error\r\n"),
            ("XAUTOCLAIM s g erin x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"),
            ("XAUTOCLAIM s g erin 0 x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
            ("XAUTOCLAIM s nog erin 0 0", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
            ("XAUTOCLAIM nokey g erin 0 0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
            ("XPENDING s g", "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*1\r\n*2\r\n$4\r\nerin\r\n$1\r\n3\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n9-0\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:0\r\n"),
            ("XGROUP CREATECONSUMER s g frank", ":1\r\n"),
            ("XGROUP CREATECONSUMER s g frank", ":0\r\n"),
            ("XGROUP DELCONSUMER s g erin", ":3\r\n"),
            ("XGROUP DELCONSUMER s g erin", ":0\r\n"),
            ("XPENDING s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
            ("XGROUP SETID s g 1-0 ENTRIESREAD 1", "+OK\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n"),
            ("XGROUP SETID s g $", "+OK\r\n"),
            ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"),
            ("XGROUP DESTROY s g", ":1\r\n"),
            ("XGROUP DESTROY s g", ":0\r\n"),
            ("XINFO GROUPS s", "*0\r\n"),
            ("XINFO CONSUMERS s g", "-NOGROUP No such consumer group 'g' for key name 's'\r\n"),
            ("XINFO CONSUMERS nokey g", "-ERR no such key\r\n"),
            ("XINFO STREAM nokey", "-ERR no such key\r\n"),
            ("XINFO STREAM s FOO", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
            ("XINFO STREAM s FULL COUNT x", "-ERR value is not an integer or out of range\r\n"),
            ("XINFO STREAM s FULL FOO 1", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
            ("XINFO FOO s", "-ERR unknown subcommand 'FOO'. Try XINFO HELP.\r\n"),
            ("XINFO HELP", "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n"),
            ("XINFO HELP x", "-ERR wrong number of arguments for 'xinfo|help' command\r\n"),
            ("XGROUP HELP", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"),
            ("XGROUP HELP x", "-ERR wrong number of arguments for 'xgroup|help' command\r\n"),
        ],
    );
}

/// RESP3: XREAD's map, XINFO's maps, nulls.
#[test]
fn resp3_replies_are_maps_and_nulls() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("HELLO 3", ""),
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("XADD nokey NOMKSTREAM * a b", "_\r\n"),
            ("XRANGE s - + COUNT 0", "_\r\n"),
            ("XREAD COUNT 1 STREAMS s nokey 0 0", "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XREAD STREAMS s 2-0", "_\r\n"),
            ("XREAD STREAMS s $", "_\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("XPENDING s g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"),
            ("XREADGROUP GROUP g c STREAMS s >", "%1\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XPENDING s g", "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n2\r\n"),
            ("XINFO GROUPS s", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n"),
            ("XINFO STREAM s", "%10\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("XDEL s 1-0", ":1\r\n"),
            ("XINFO GROUPS s", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n"),
            ("XINFO STREAM s FULL", "%9\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n1-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n2-0\r\n$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$6\r\ngroups\r\n*1\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*4\r\n$3\r\n1-0\r\n$1\r\nc\r\n:1796617088493\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$1\r\nc\r\n:1796617088493\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n%4\r\n$4\r\nname\r\n$1\r\nc\r\n$9\r\nseen-time\r\n:1796617088493\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*3\r\n$3\r\n1-0\r\n:1796617088493\r\n:1\r\n*3\r\n$3\r\n2-0\r\n:1796617088493\r\n:1\r\n"),
            ("XAUTOCLAIM s g c2 0 0 JUSTID", "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n2-0\r\n*1\r\n$3\r\n1-0\r\n"),
            ("XREADGROUP GROUP g c STREAMS s 0", "%1\r\n$1\r\ns\r\n*0\r\n"),
            ("XGROUP CREATE s g2 1-0", "+OK\r\n"),
            ("XINFO GROUPS s", "*2\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:0\r\n%6\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:1\r\n"),
        ],
    );
}

/// `~` trims whole nodes of `stream-node-max-entries` entries, as Redis' radix tree does; LIMIT bounds it.
#[test]
fn approximate_trimming_removes_whole_nodes() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("CONFIG SET stream-node-max-entries 3", "+OK\r\n"),
            ("XADD t 1 a 1", "$3\r\n1-0\r\n"),
            ("XADD t 2 a 1", "$3\r\n2-0\r\n"),
            ("XADD t 3 a 1", "$3\r\n3-0\r\n"),
            ("XADD t 4 a 1", "$3\r\n4-0\r\n"),
            ("XADD t 5 a 1", "$3\r\n5-0\r\n"),
            ("XADD t 6 a 1", "$3\r\n6-0\r\n"),
            ("XADD t 7 a 1", "$3\r\n7-0\r\n"),
            ("XINFO STREAM t", "*20\r\n$6\r\nlength\r\n:7\r\n$15\r\nradix-tree-keys\r\n:3\r\n$16\r\nradix-tree-nodes\r\n:8\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XTRIM t MAXLEN ~ 5", ":0\r\n"),
            ("XLEN t", ":7\r\n"),
            ("XTRIM t MAXLEN ~ 2", ":3\r\n"),
            ("XLEN t", ":4\r\n"),
            ("XRANGE t - +", "*4\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XADD t MAXLEN ~ 1 8 a 1", "$3\r\n8-0\r\n"),
            ("XLEN t", ":2\r\n"),
            ("XADD t MINID ~ 8 9 a 1", "$3\r\n9-0\r\n"),
            ("XLEN t", ":3\r\n"),
            ("XADD t MINID 8 10 a 1", "$4\r\n10-0\r\n"),
            ("XRANGE t - +", "*3\r\n*2\r\n$3\r\n8-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$4\r\n10-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XTRIM t MAXLEN ~ 0 LIMIT 1", ":0\r\n"),
            ("XLEN t", ":3\r\n"),
            ("XTRIM t MAXLEN ~ 0 LIMIT 3", ":3\r\n"),
            ("XLEN t", ":0\r\n"),
            ("XTRIM t MAXLEN = 0", ":0\r\n"),
            ("XINFO STREAM t", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$4\r\n10-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:10\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD t 11 a 1", "$4\r\n11-0\r\n"),
            ("XINFO STREAM t", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$4\r\n11-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:11\r\n$23\r\nrecorded-first-entry-id\r\n$4\r\n11-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$4\r\n11-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$4\r\n11-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("CONFIG SET stream-node-max-entries 100", "+OK\r\n"),
        ],
    );
}

/// TYPE, OBJECT ENCODING, COPY (groups too), RENAME, SCAN TYPE, EXPIRE kept by XADD, DUMP refused, WRONGTYPE.
#[test]
fn streams_are_keys_like_any_other() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
            ("XGROUP CREATE s g 0", "+OK\r\n"),
            ("XREADGROUP GROUP g c STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("TYPE s", "+stream\r\n"),
            ("OBJECT ENCODING s", "$6\r\nstream\r\n"),
            ("COPY s s2", ":1\r\n"),
            ("XRANGE s2 - +", "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XPENDING s2 g", "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n"),
            ("XINFO STREAM s2", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("RENAME s2 s3", "+OK\r\n"),
            ("XLEN s3", ":1\r\n"),
            ("EXISTS s2", ":0\r\n"),
            ("SCAN 0 TYPE stream", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\ns\r\n$2\r\ns3\r\n"),
            ("DEL s3", ":1\r\n"),
            ("EXISTS s3", ":0\r\n"),
            ("XGROUP CREATE e g $ MKSTREAM", "+OK\r\n"),
            ("XLEN e", ":0\r\n"),
            ("TYPE e", "+stream\r\n"),
            ("EXPIRE s 100", ":1\r\n"),
            ("TTL s", ":100\r\n"),
            ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
            ("TTL s", ":100\r\n"),
            ("LPUSH s x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("SORT s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        ],
    );
}

/// Waits until the server reports `n` blocked clients.
fn wait_blocked(s: &Server, n: usize) {
    let mut c = s.raw();
    let want = format!("blocked_clients:{n}\r\n");
    let start = Instant::now();
    while !c.cmd(&["INFO", "clients"]).contains(&want) {
        assert!(start.elapsed() < Duration::from_secs(10), "never saw {want:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a command without reading its reply.
fn start(s: &Server, args: &[&str], resp3: bool) -> Raw {
    let mut c = s.raw();
    if resp3 {
        c.cmd(&["HELLO", "3"]);
    }
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    c.send(&Raw::encode(&args));
    c
}

const ENTRY_5: &str = "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";

#[test]
fn xread_block_is_woken_by_xadd_and_dollar_is_kept() {
    let s = Server::start();
    let mut w = s.raw();
    assert_eq!(w.cmd(&["XADD", "s", "1-0", "a", "1"]), "$3\r\n1-0\r\n");
    // `$` is 1-0 when the client blocks; an entry added to another key does not serve it.
    let mut c = start(&s, &["XREAD", "BLOCK", "0", "STREAMS", "other", "s", "$", "$"], false);
    let mut c3 = start(&s, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], true);
    wait_blocked(&s, 2);
    assert_eq!(w.cmd(&["XADD", "s", "5-0", "f", "v"]), "$3\r\n5-0\r\n");
    // Both readers are served (XADD wakes every reader of the stream, not only the first), each with the key that
    // became ready only.
    assert_eq!(c.read_reply(), ENTRY_5);
    assert_eq!(c3.read_reply(), "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    wait_blocked(&s, 0);
    // A reader from an ID past the new entry keeps waiting; the next entry serves it.
    let mut c = start(&s, &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "6"], false);
    wait_blocked(&s, 1);
    w.cmd(&["XADD", "s", "5-1", "g", "w"]);
    w.cmd(&["XADD", "s", "6-1", "h", "x"]);
    assert_eq!(c.read_reply(), "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\nh\r\n$1\r\nx\r\n");
    wait_blocked(&s, 0);
}

#[test]
fn blocking_reads_time_out_with_a_null_and_never_block_in_multi() {
    let s = Server::start();
    let mut c = s.raw();
    let began = Instant::now();
    assert_eq!(c.cmd(&["XREAD", "BLOCK", "50", "STREAMS", "s", "$"]), "*-1\r\n");
    assert!(began.elapsed() >= Duration::from_millis(50));
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["XREAD", "BLOCK", "10", "STREAMS", "s", "0"]), "_\r\n");
    c.cmd(&["HELLO", "2"]);
    assert_eq!(c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), "+OK\r\n");
    assert_eq!(c.cmd(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">"]), "*-1\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n*-1\r\n*-1\r\n");
    assert_eq!(c.cmd(&["XREAD", "BLOCK", "-1", "STREAMS", "s", "$"]), "-ERR timeout is negative\r\n");
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "1.5", "STREAMS", "s", "$"]),
        "-ERR timeout is not an integer or out of range\r\n"
    );
}

#[test]
fn xreadgroup_block_is_served_once_and_learns_of_a_destroyed_group_or_deleted_key() {
    let s = Server::start();
    let mut w = s.raw();
    assert_eq!(w.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]), "+OK\r\n");
    let mut a = start(&s, &["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"], false);
    wait_blocked(&s, 1);
    let mut b = start(&s, &["XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"], false);
    wait_blocked(&s, 2);
    // One entry: the first consumer gets it, the second keeps waiting for the next.
    w.cmd(&["XADD", "s", "5-0", "f", "v"]);
    assert_eq!(a.read_reply(), ENTRY_5);
    wait_blocked(&s, 1);
    assert_eq!(w.cmd(&["XPENDING", "s", "g", "-", "+", "10", "bob"]), "*0\r\n");
    w.cmd(&["XADD", "s", "6-0", "f", "v"]);
    assert_eq!(b.read_reply(), "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    wait_blocked(&s, 0);
    assert_eq!(w.cmd(&["XPENDING", "s", "g", "-", "+", "10", "bob"]).matches("6-0").count(), 1);

    let mut c = start(&s, &["XREADGROUP", "GROUP", "g", "carol", "BLOCK", "0", "STREAMS", "s", ">"], false);
    wait_blocked(&s, 1);
    assert_eq!(w.cmd(&["XGROUP", "DESTROY", "s", "g"]), ":1\r\n");
    assert_eq!(c.read_reply(), "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");

    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    let mut d = start(&s, &["XREADGROUP", "GROUP", "g", "dave", "BLOCK", "0", "STREAMS", "s", ">"], false);
    wait_blocked(&s, 1);
    assert_eq!(w.cmd(&["DEL", "s"]), ":1\r\n");
    assert_eq!(d.read_reply(), "-UNBLOCKED the stream key no longer exists\r\n");
    wait_blocked(&s, 0);
}

#[test]
fn keyspace_events_are_redis_ones() {
    let s = Server::start();
    let mut w = s.raw();
    assert_eq!(w.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]), "+OK\r\n");
    let mut sub = s.raw();
    sub.cmd(&["PSUBSCRIBE", "__keyevent*__:*"]);
    sub.cmd(&["SUBSCRIBE", "marker"]);
    let script: &[&[&str]] = &[
        &["XADD", "s", "1-0", "a", "1"],
        &["XADD", "s", "MAXLEN", "1", "2-0", "a", "1"],
        &["XTRIM", "s", "MAXLEN", "0"],
        &["XDEL", "s", "9-9"],
        &["XADD", "s", "3-0", "a", "1"],
        &["XDEL", "s", "3-0"],
        &["XGROUP", "CREATE", "s", "g", "$"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c"],
        &["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"],
        &["XADD", "s", "4-0", "a", "1"],
        &["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"],
        &["XCLAIM", "s", "g", "e", "0", "4-0"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XGROUP", "DELCONSUMER", "s", "g", "c"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XSETID", "s", "9-0"],
        &["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"],
        &["PUBLISH", "marker", "x"],
    ];
    for args in script {
        w.cmd(args);
    }
    // Recorded from redis-server 7.0.15 with the same script.
    let want = [
        "xadd s",
        "xadd s",
        "xtrim s",
        "xtrim s",
        "xadd s",
        "xdel s",
        "xgroup-create s",
        "xgroup-createconsumer s",
        "xadd s",
        "xgroup-createconsumer s",
        "xgroup-createconsumer s",
        "xgroup-setid s",
        "xgroup-delconsumer s",
        "xgroup-destroy s",
        "xsetid s",
        "xgroup-create m",
    ];
    let mut got = Vec::new();
    loop {
        let b = crate::common::bulks(&sub.read_reply());
        if b[0] == "message" {
            break;
        }
        got.push(format!("{} {}", b[2].rsplit(':').next().unwrap_or_default(), b[3]));
    }
    assert_eq!(got, want);
}

#[test]
fn streams_and_groups_survive_a_restart() {
    let mut s = Server::start();
    let mut r = s.raw();
    r.cmd(&["XADD", "s", "1-0", "a", "1"]);
    r.cmd(&["XADD", "s", "2-0", "b", "2"]);
    r.cmd(&["XDEL", "s", "1-0"]);
    r.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    r.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    let groups = r.cmd(&["XINFO", "GROUPS", "s"]);
    let info = r.cmd(&["XINFO", "STREAM", "s"]);
    let pending = r.cmd(&["XPENDING", "s", "g"]);
    drop(r);
    s.restart();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["XINFO", "GROUPS", "s"]), groups);
    assert_eq!(r.cmd(&["XINFO", "STREAM", "s"]), info);
    assert_eq!(r.cmd(&["XPENDING", "s", "g"]), pending);
    assert_eq!(pending, "*4\r\n:1\r\n$3\r\n2-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n1\r\n");
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0)).collect()
}

/// DUMP's payload as exact bytes.
fn dump_raw(s: &Server, key: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut t = std::net::TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    t.write_all(&Raw::encode(&[b"DUMP", key.as_bytes()])).expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = t.read(&mut chunk).expect("read");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let len: usize = std::str::from_utf8(&buf[1..i - 1]).unwrap().parse().unwrap();
            if buf.len() >= i + 1 + len + 2 {
                return buf[i + 1..i + 1 + len].to_vec();
            }
        }
    }
}

fn restore(r: &mut Raw, key: &str, payload: &[u8]) -> String {
    r.send(&Raw::encode(&[b"RESTORE", key.as_bytes(), b"0", payload]));
    r.read_reply()
}

/// Payloads recorded from redis-server 7.0.15: `p` (three entries, no group) and `s` (four entries, one deleted,
/// groups `g` — two pending entries of alice, consumer bob — and `h`).
const REDIS_P: &str = "130110000000000000000100000000000000003d3d0000001900030100010201816102816202000102010001000101\
010201050102010101000103010401050100010201000101018178028179020601ff0303000100000003000a00bb32af9db785586d";
const REDIS_S: &str = "13011000000000000000010000000000000000c34040404912490000001f00030101010201816102816202002009\
0000200140110105014019000020050004200b80190801018178028179020620270003201360270101ff0304000100020004020167030081ff\
ffffffffffffff0200000000000000010000000000000000ac80cb4ea20100000100000000000000030000000000000000ac80cb4ea2010000\
010205616c696365ac80cb4ea201000002000000000000000100000000000000000000000000000003000000000000000003626f62ad80cb4e\
a2010000000168040081ffffffffffffffff00000a00b5904e8b7f1079c9";

#[test]
fn dump_and_restore_speak_redis_stream_encoding() {
    let s = Server::start();
    let mut r = s.raw();
    for args in [["XADD", "p", "1-0", "a", "1", "b", "2"], ["XADD", "p", "2-0", "a", "3", "b", "4"]] {
        r.cmd(&args);
    }
    r.cmd(&["XADD", "p", "3-0", "x", "y"]);
    // Redis' bytes exactly: one node, the second entry sharing the master entry's fields.
    assert_eq!(dump_raw(&s, "p"), unhex(REDIS_P));
    assert_eq!(restore(&mut r, "fromredis", &unhex(REDIS_S)), "+OK\r\n");
    assert_eq!(
        r.cmd(&["XINFO", "GROUPS", "fromredis"]),
        "*2\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:2\r\n$17\r\n\
         last-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$1\r\n\
         h\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\n\
         entries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"
    );
    assert_eq!(
        r.cmd(&["XPENDING", "fromredis", "g"]),
        "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        r.cmd(&["XINFO", "STREAM", "fromredis"]),
        "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\n\
         last-generated-id\r\n$3\r\n4-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:4\r\n\
         $23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n\
         *4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n4-0\r\n*4\r\n$1\r\na\r\n\
         $1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    // Our own payload of it restores to the same stream (delivery and seen times included).
    let full = r.cmd(&["XINFO", "STREAM", "fromredis", "FULL"]);
    let again = dump_raw(&s, "fromredis");
    assert_eq!(restore(&mut r, "copy", &again), "+OK\r\n");
    assert_eq!(r.cmd(&["XINFO", "STREAM", "copy", "FULL"]), full);
    assert_eq!(restore(&mut r, "copy", &again), "-BUSYKEY Target key name already exists.\r\n");
    // A stream payload whose entries disagree with its length is refused (checksum recomputed).
    let mut bad = unhex(REDIS_P);
    let at = bad.len() - 10 - 9;
    bad[at] = 9; // length 3 → 9
    let n = bad.len();
    let crc = crc64(&bad[..n - 8]);
    bad[n - 8..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(restore(&mut r, "bad", &bad), "-ERR Bad data format\r\n");
}

/// Redis' CRC-64 (Jones, reflected), as DUMP payloads carry it.
fn crc64(data: &[u8]) -> u64 {
    let mut crc: u64 = 0;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5 } else { crc >> 1 };
        }
    }
    crc
}

/// Nodes live and die as in Redis: MINID compares a node's last entry even when deleted, exact trimming keeps a
/// node it empties (`radix-tree-keys`), XDEL of a node's last entry frees it.
#[test]
fn stream_nodes_live_and_die_as_in_redis() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("CONFIG SET stream-node-max-entries 3", "+OK\r\n"),
            ("XADD s 1 a 1", "$3\r\n1-0\r\n"),
            ("XADD s 2 a 1", "$3\r\n2-0\r\n"),
            ("XADD s 3 a 1", "$3\r\n3-0\r\n"),
            ("XADD s 4 a 1", "$3\r\n4-0\r\n"),
            ("XDEL s 3", ":1\r\n"),
            ("XTRIM s MINID ~ 3", ":0\r\n"),
            ("XTRIM s MINID = 3", ":2\r\n"),
            ("XLEN s", ":1\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:6\r\n$17\r\nlast-generated-id\r\n$3\r\n4-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n4-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XADD s 5 a 1", "$3\r\n5-0\r\n"),
            ("XADD s 6 a 1", "$3\r\n6-0\r\n"),
            ("XTRIM s MINID = 7", ":3\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n6-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:6\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD s 7 a 1", "$3\r\n7-0\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n7-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("XDEL s 7", ":1\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n7-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
            ("XADD s 8 a 1", "$3\r\n8-0\r\n"),
            ("XADD s 9 a 1", "$3\r\n9-0\r\n"),
            ("XTRIM s MAXLEN ~ 1", ":0\r\n"),
            ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n9-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n7-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n8-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n8-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
            ("CONFIG SET stream-node-max-entries 100", "+OK\r\n"),
        ],
    );
}
