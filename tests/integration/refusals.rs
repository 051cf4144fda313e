//! Commands the server refuses before they run, and how refusals and script errors are counted: `maxmemory` over
//! the limit (-OOM for plain commands, MULTI/EXEC, scripts and functions; only under `noeviction`) and
//! `min-replicas-to-write` without replicas (-NOREPLICAS). Every reply was taken from redis-server 7.0.15 in the
//! same state (`CONFIG SET maxmemory 1`: both servers use more than one byte).

use crate::common::{check, Raw, Server};

const OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// The lines of an INFO section that start with `prefix`, sorted.
fn info_lines(r: &mut Raw, section: &str, prefix: &str) -> Vec<String> {
    let reply = r.cmd(&["INFO", section]);
    let mut lines: Vec<String> = reply.lines().filter(|l| l.starts_with(prefix)).map(str::to_string).collect();
    lines.sort();
    lines
}

/// `cmdstat_<name>:calls=…,rejected_calls=…,failed_calls=…` without the timings.
fn calls(r: &mut Raw, name: &str) -> String {
    let line = info_lines(r, "commandstats", &format!("cmdstat_{name}:")).pop().unwrap_or_default();
    line.split(',').filter(|f| !f.starts_with("usec")).collect::<Vec<_>>().join(",")
}

fn limit(r: &mut Raw, bytes: &str) {
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", bytes]), "+OK\r\n");
}

#[test]
fn commands_that_may_add_data_are_refused_and_counted() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "x", "123"]);
    r.cmd(&["CONFIG", "RESETSTAT"]);
    limit(&mut r, "1");
    check(
        &mut r,
        &[
            (&["SET", "a", "b"], OOM),
            (&["GET", "x"], "$3\r\n123\r\n"),
            (&["INCR", "x"], OOM),
            (&["LPUSH", "l", "1"], OOM),
            (&["APPEND", "x", "1"], OOM),
            (&["SETEX", "q", "10", "v"], OOM),
            (&["EXPIRE", "x", "10"], ":1\r\n"),
            (&["PUBLISH", "c", "m"], ":0\r\n"),
            (&["PFADD", "h", "a"], OOM),
            (&["XADD", "s", "*", "a", "1"], OOM),
            (&["RESTORE", "r", "0", "junk"], OOM),
            (&["DEL", "x"], ":1\r\n"),
            (&["PING"], "+PONG\r\n"),
        ],
    );
    assert_eq!(info_lines(&mut r, "errorstats", "errorstat"), ["errorstat_OOM:count=8"]);
    assert_eq!(info_lines(&mut r, "stats", "total_error_replies"), ["total_error_replies:8"]);
    assert_eq!(calls(&mut r, "set"), "cmdstat_set:calls=0,rejected_calls=1,failed_calls=0");
    assert_eq!(calls(&mut r, "get"), "cmdstat_get:calls=1,rejected_calls=0,failed_calls=0");
    // Other policies evict in Redis; SableDB keeps its data on disk and never refuses under them.
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "a", "b"]), "+OK\r\n");
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "a", "c"]), OOM);
    // A limit above what the server uses refuses nothing; no limit neither.
    limit(&mut r, "1099511627776");
    assert_eq!(r.cmd(&["SET", "a", "d"]), "+OK\r\n");
    limit(&mut r, "0");
    assert_eq!(r.cmd(&["SET", "a", "e"]), "+OK\r\n");
    assert_eq!(r.cmd(&["GET", "a"]), "$1\r\ne\r\n");
}

#[test]
fn transactions_over_the_limit() {
    let s = Server::start();
    let mut r = s.raw();
    let mut admin = s.raw();
    r.cmd(&["SET", "x", "value"]);
    limit(&mut admin, "1");
    // Queueing takes memory: everything but EXEC, DISCARD, QUIT and RESET is refused inside MULTI.
    check(
        &mut r,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["SET", "x", "1"], OOM),
            (&["GET", "x"], OOM),
            (&["DISCARD"], "+OK\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["WATCH", "x"], OOM),
            (&["MULTI"], OOM),
            (&["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n"),
        ],
    );
    // Queued before the limit: an EXEC with a command that may add data is refused, one without runs.
    limit(&mut admin, "0");
    check(&mut r, &[(&["MULTI"], "+OK\r\n"), (&["SET", "x", "1"], "+QUEUED\r\n"), (&["GET", "x"], "+QUEUED\r\n")]);
    limit(&mut admin, "1");
    assert_eq!(
        r.cmd(&["EXEC"]),
        "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    limit(&mut admin, "0");
    check(&mut r, &[(&["MULTI"], "+OK\r\n"), (&["GET", "x"], "+QUEUED\r\n"), (&["PING"], "+QUEUED\r\n")]);
    limit(&mut admin, "1");
    assert_eq!(r.cmd(&["EXEC"]), "*2\r\n$5\r\nvalue\r\n+PONG\r\n");
    assert_eq!(info_lines(&mut r, "errorstats", "errorstat_EXECABORT"), ["errorstat_EXECABORT:count=2"]);
}

#[test]
fn scripts_and_functions_over_the_limit() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "x", "123"]);
    let lib = "#!lua name=t\nredis.register_function('f1', function() return redis.call('set', 'x', '1') end)\n\
               redis.register_function{function_name='f2', callback=function() return 'hello' end, \
               flags={'no-writes'}}\nredis.register_function{function_name='f3', callback=function() return \
               redis.call('set','y','2') end, flags={'allow-oom'}}";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", lib]), "$1\r\nt\r\n");
    r.cmd(&["CONFIG", "RESETSTAT"]);
    limit(&mut r, "1");
    let set_script = "redis.call('set', KEYS[1], 1) return 1";
    check(
        &mut r,
        &[
            // No shebang: judged by the commands it calls — its first one that may add data is refused.
            (
                &["EVAL", set_script, "1", "x"],
                "-OOM command not allowed when used memory > 'maxmemory'. script: \
                 6cb2873c2525e11a6090962dc55b2502099d6dbf, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return redis.call('get', KEYS[1])", "1", "x"], "$3\r\n123\r\n"),
            // Once it has written, it goes on.
            (&["EVAL", "redis.call('del','nosuch') redis.call('set','x','9') return 1", "1", "x"], ":1\r\n"),
            (
                &["EVAL", "local t = redis.pcall('set','x','y') return t['err']", "1", "x"],
                "$55\r\nOOM command not allowed when used memory > 'maxmemory'.\r\n",
            ),
            // A shebang without allow-oom or no-writes: refused before it runs.
            (&["EVAL", "#!lua flags=\nreturn 1", "0"], OOM),
            (&["EVAL", "#!lua\nreturn 1", "0"], OOM),
            (&["EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1) return 1", "1", "x"], ":1\r\n"),
            (&["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"], "$1\r\n1\r\n"),
            (&["EVAL_RO", "return redis.call('get','x')", "1", "x"], "$1\r\n1\r\n"),
            (&["FCALL", "f1", "1", "k"], OOM),
            (&["FCALL", "f2", "1", "k"], "$5\r\nhello\r\n"),
            (&["FCALL_RO", "f2", "1", "k"], "$5\r\nhello\r\n"),
            (&["FCALL", "f3", "0"], "+OK\r\n"),
            (&["FUNCTION", "LOAD", "#!lua name=z\nredis.register_function('z', function() return 1 end)"], OOM),
            (&["FUNCTION", "DELETE", "t"], "+OK\r\n"),
        ],
    );
    // Each refusal counted once: the script's error reply is not counted again.
    assert_eq!(info_lines(&mut r, "errorstats", "errorstat"), ["errorstat_OOM:count=6"]);
    assert_eq!(calls(&mut r, "set"), "cmdstat_set:calls=3,rejected_calls=2,failed_calls=0");
    assert_eq!(calls(&mut r, "eval"), "cmdstat_eval:calls=6,rejected_calls=2,failed_calls=1");
    assert_eq!(calls(&mut r, "function|load"), "cmdstat_function|load:calls=0,rejected_calls=1,failed_calls=0");
}

#[test]
fn a_script_s_command_errors_are_counted_once() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "k", "v"]);
    r.cmd(&["CONFIG", "RESETSTAT"]);
    check(
        &mut r,
        &[
            (
                &["EVAL", "return redis.call('lpush',KEYS[1],1)", "1", "k"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value script: \
                 1d46b31d0f1004fa6d1ae8c21bd9f91abb4b69bd, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.pcall('lpush',KEYS[1],1)", "1", "k"],
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (&["EVAL", "local t = redis.pcall('lpush',KEYS[1],1); return 1", "1", "k"], ":1\r\n"),
            (
                &["EVAL", "return redis.call('get')", "0"],
                "-ERR Wrong number of args calling Redis command from script script: \
                 f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return redis.pcall('nosuchcmd')", "0"], "-ERR Unknown Redis command called from script\r\n"),
            (
                &["EVAL", "return redis.call({})", "0"],
                "-ERR Lua redis lib command arguments must be strings or integers script: \
                 80747816df1f4411f7c442b928fce6a814214839, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return {err='MY thing'}", "0"], "-MY thing\r\n"),
        ],
    );
    assert_eq!(
        info_lines(&mut r, "errorstats", "errorstat"),
        ["errorstat_ERR:count=3", "errorstat_MY:count=1", "errorstat_WRONGTYPE:count=3"]
    );
    assert_eq!(info_lines(&mut r, "stats", "total_error_replies"), ["total_error_replies:7"]);
    assert_eq!(calls(&mut r, "lpush"), "cmdstat_lpush:calls=3,rejected_calls=0,failed_calls=3");
    assert_eq!(calls(&mut r, "get"), "cmdstat_get:calls=0,rejected_calls=1,failed_calls=0");
    assert_eq!(calls(&mut r, "eval"), "cmdstat_eval:calls=7,rejected_calls=0,failed_calls=6");
}

#[test]
fn writes_need_the_replicas_min_replicas_to_write_asks_for() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "x", "some value"]);
    r.cmd(&["CONFIG", "RESETSTAT"]);
    const NOREPLICAS: &str = "-NOREPLICAS Not enough good replicas to write.\r\n";
    check(
        &mut r,
        &[
            // The old name is an alias, as in Redis.
            (&["CONFIG", "SET", "min-slaves-to-write", "1"], "+OK\r\n"),
            (&["CONFIG", "GET", "min-replicas-to-write"], "*2\r\n$21\r\nmin-replicas-to-write\r\n$1\r\n1\r\n"),
            (&["SET", "a", "b"], NOREPLICAS),
            (&["GET", "x"], "$10\r\nsome value\r\n"),
            (&["DEL", "x"], NOREPLICAS),
            (&["PUBLISH", "c", "m"], ":0\r\n"),
            (&["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x"], "$10\r\nsome value\r\n"),
            (&["EVAL", "return redis.call('get','x')", "1", "x"], "$10\r\nsome value\r\n"),
            (&["EVAL", "#!lua\nreturn redis.call('get','x')", "1", "x"], NOREPLICAS),
            (
                &["EVAL", "return redis.call('set','x', 1)", "1", "x"],
                "-NOREPLICAS Not enough good replicas to write. script: edc6c778efe97d7b082a13bb199c772df244ec15, on \
                 @user_script:1.\r\n",
            ),
            (&["MULTI"], "+OK\r\n"),
            (&["SET", "x", "1"], NOREPLICAS),
            (&["GET", "x"], "+QUEUED\r\n"),
            (&["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n"),
            (&["MULTI"], "+OK\r\n"),
            (&["GET", "x"], "+QUEUED\r\n"),
            (&["EXEC"], "*1\r\n$10\r\nsome value\r\n"),
            // No lag allowed means no check, as in Redis.
            (&["CONFIG", "SET", "min-replicas-max-lag", "0"], "+OK\r\n"),
            (&["SET", "a", "b"], "+OK\r\n"),
            (&["CONFIG", "SET", "min-replicas-max-lag", "10"], "+OK\r\n"),
            (&["CONFIG", "SET", "min-replicas-to-write", "0"], "+OK\r\n"),
            (&["SET", "a", "c"], "+OK\r\n"),
        ],
    );
    assert_eq!(
        info_lines(&mut r, "errorstats", "errorstat"),
        ["errorstat_EXECABORT:count=1", "errorstat_NOREPLICAS:count=5"]
    );
    assert_eq!(calls(&mut r, "set"), "cmdstat_set:calls=2,rejected_calls=3,failed_calls=0");
}
