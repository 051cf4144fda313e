//! Lua scripting end to end: EVAL, EVALSHA, EVAL_RO, SCRIPT against the real binary. The exact replies below were
//! taken from redis-server 7.0.15 (same commands, same order).

use crate::common::{check, int, Server};

#[test]
fn scripts_answer_as_redis() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["eval", "return redis.call('nosuch')", "0"], "-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n"),
            (&["eval", "return redis.call('get')", "0"], "-ERR Wrong number of args calling Redis command from script script: f187dee77f607f7cff00bbabc9df38507582c78d, on @user_script:1.\r\n"),
            (&["eval", "return x", "0"], "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n"),
            (&["eval", "x = 1", "0"], "-ERR user_script:1: Attempt to modify a readonly table script: 34bce5f775de97f557a34088509c8bfe1ea17e52, on @user_script:1.\r\n"),
            (&["eval", "function f() end", "0"], "-ERR user_script:1: Attempt to modify a readonly table script: f37995b1d7c626139c9a239b83b074295e82ad29, on @user_script:1.\r\n"),
            (&["eval", "return redis.call('incr', KEYS[1])", "1", "s"], ":1\r\n"),
            (&["set", "s", "abc"], "+OK\r\n"),
            (&["eval", "return redis.call('incr', KEYS[1])", "1", "s"], "-ERR value is not an integer or out of range script: 2bab3b661081db58bd2341920e0ba7cf5dc77b25, on @user_script:1.\r\n"),
            (&["eval", "return redis.pcall('incr', KEYS[1])", "1", "s"], "-ERR value is not an integer or out of range\r\n"),
            (&["eval", "return {1,2,3.7,'x',nil,5}", "0"], "*4\r\n:1\r\n:2\r\n:3\r\n$1\r\nx\r\n"),
            (&["eval", "return {ok='fine'}", "0"], "+fine\r\n"),
            (&["eval", "return {err='bad thing'}", "0"], "-bad thing\r\n"),
            (&["eval", "return {err='a\r\nb'}", "0"], "-ERR Error compiling script (new function): user_script:1: unfinished string near ''a'\r\n"),
            (&["eval", "return redis.error_reply('My Error')", "0"], "-My Error\r\n"),
            (&["eval", "return redis.error_reply('x')", "0"], "-ERR x\r\n"),
            (&["eval", "local t = redis.error_reply('x'); return t.err", "0"], "$5\r\nERR x\r\n"),
            (&["eval", "return redis.status_reply('OK2')", "0"], "+OK2\r\n"),
            (&["eval", "return true", "0"], ":1\r\n"),
            (&["eval", "return false", "0"], "$-1\r\n"),
            (&["eval", "return nil", "0"], "$-1\r\n"),
            (&["eval", "return 3.99", "0"], ":3\r\n"),
            (&["eval", "return -3.99", "0"], ":-3\r\n"),
            (&["eval", "error('boom')", "0"], "-ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on @user_script:1.\r\n"),
            (&["eval", "error({err='CUSTOM boom'})", "0"], "-CUSTOM boom script: 04d39340f134fecca222bb279e1aa1d64359c655, on @user_script:1.\r\n"),
            (&["eval", "local x = 1\nlocal y = nil\nreturn x + y", "0"], "-ERR user_script:3: attempt to perform arithmetic on local 'y' (a nil value) script: bb6ad6315488cfc1e335cd6cbd6d68529992af81, on @user_script:3.\r\n"),
            (&["eval", "\n\nreturn redis.call('nosuch')", "0"], "-ERR Unknown Redis command called from script script: e2c9a1c42e13c6bc0335a2cc58b080e4afe38123, on @user_script:3.\r\n"),
            (&["eval", "return redis.call('subscribe','x')", "0"], "-ERR This Redis command is not allowed from script script: 2f334966be3d5602175118691c9d198b0a695e53, on @user_script:1.\r\n"),
            (&["eval", "return redis.call('blpop','nolist', 0)", "0"], "-ERR This Redis command is not allowed from script script: 1a3439041d20f7b3b7f1f8dec7f31f581bb93ead, on @user_script:1.\r\n"),
            (&["eval", "return redis.call('eval', 'return 1', 0)", "0"], "-ERR This Redis command is not allowed from script script: 310efa61ec0f2edf6c2e5b4007966dd555e75546, on @user_script:1.\r\n"),
            (&["eval", "return redis.sha1hex('')", "0"], "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"),
            (&["eval", "return redis.sha1hex()", "0"], "-ERR wrong number of arguments script: 3c7ce947ae74a835cc575b6ee87fb27503cb7ba4, on @user_script:1.\r\n"),
            (&["eval", "syntax error here", "0"], "-ERR Error compiling script (new function): user_script:1: '=' expected near 'error'\r\n"),
            (&["eval", "return 1", "-1"], "-ERR Number of keys can't be negative\r\n"),
            (&["eval", "return 1", "2", "a"], "-ERR Number of keys can't be greater than number of args\r\n"),
            (&["eval", "return 1", "abc"], "-ERR value is not an integer or out of range\r\n"),
            (&["evalsha", "ffffffffffffffffffffffffffffffffffffffff", "0"], "-NOSCRIPT No matching script. Please use EVAL.\r\n"),
            (&["script", "load", "return 1"], "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"),
            (&["script", "exists", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "ffffffffffffffffffffffffffffffffffffffff"], "*2\r\n:1\r\n:0\r\n"),
            (&["evalsha", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"], ":1\r\n"),
            (&["evalsha_ro", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"], ":1\r\n"),
            (&["eval_ro", "return redis.call('set','k','v')", "1", "k"], "-ERR Write commands are not allowed from read-only scripts. script: d223ed8c7345b684e8ed044ed472601f536fa58b, on @user_script:1.\r\n"),
            (&["eval_ro", "return redis.call('get','k')", "1", "k"], "$-1\r\n"),
            (&["eval", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", "0"], "-ERR Write commands are not allowed from read-only scripts. script: 6acb400a50fe96e33eca4e0af6e9dcfb21193726, on @user_script:2.\r\n"),
            (&["eval", "#!lua\nreturn redis.call('set','a','b')", "0"], "+OK\r\n"),
            (&["eval", "#!lua name=x\nreturn 1", "0"], "-ERR Unknown lua shebang option: name=x\r\n"),
            (&["eval", "return redis.call()", "0"], "-ERR Please specify at least one argument for this redis lib call script: 0a907e1429221a4d85516cab7fd219a82a9439d8, on @user_script:1.\r\n"),
            (&["eval", "return redis.call('set', {}, 1)", "0"], "-ERR Lua redis lib command arguments must be strings or integers script: 3928779ec4f970865782030139847c162e9acb05, on @user_script:1.\r\n"),
            (&["eval", "return redis.pcall('set', {}, 1)", "0"], "-ERR Lua redis lib command arguments must be strings or integers\r\n"),
            (&["eval", "return redis.call('set', 'n', 0.1)", "0"], "+OK\r\n"),
            (&["get", "n"], "$19\r\n0.10000000000000001\r\n"),
            (&["eval", "return redis.call('set', 'n', 3)", "0"], "+OK\r\n"),
            (&["get", "n"], "$1\r\n3\r\n"),
            (&["eval", "return redis.call('get', 'nokey')", "0"], "$-1\r\n"),
            (&["eval", "return type(redis.call('get', 'nokey'))", "0"], "$7\r\nboolean\r\n"),
            (&["eval", "local t = redis.call('ping'); return type(t) .. t.ok", "0"], "$9\r\ntablePONG\r\n"),
            (&["eval", "return {1, {2, {3}}, 'x'}", "0"], "*3\r\n:1\r\n*2\r\n:2\r\n*1\r\n:3\r\n$1\r\nx\r\n"),
            (&["eval", "return {ok='a', err='b'}", "0"], "-b\r\n"),
            (&["eval", "return {map={a=1}}", "0"], "*2\r\n$1\r\na\r\n:1\r\n"),
            (&["eval", "return {double=3.5}", "0"], "$3\r\n3.5\r\n"),
            (&["eval", "return {big_number='123'}", "0"], "$3\r\n123\r\n"),
            (&["eval", "redis.setresp(4)", "0"], "-ERR RESP version must be 2 or 3. script: 68e72e4d8a428b9f599dce492315f2455a425a82, on @user_script:1.\r\n"),
            (&["eval", "return redis.setresp(2)", "0"], "$-1\r\n"),
            (&["eval", "return tostring(os)", "0"], "-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: 19abc3a3c6e39bcbd69db9d57d6fd72cc4fcc793, on @user_script:1.\r\n"),
            (&["eval", "return tostring(print)", "0"], "-ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: 50e61e85eba593e1799109dab972c83f9ff690fc, on @user_script:1.\r\n"),
            (&["eval", "local ok, e = pcall(function() return redis.call('nosuch') end); return e", "0"], "$44\r\nERR Unknown Redis command called from script\r\n"),
            (&["eval", "local ok, e = pcall(function() error('x') end); return e", "0"], "$16\r\nuser_script:1: x\r\n"),
            (&["eval", "return redis.REDIS_VERSION", "0"], "$6\r\n7.0.15\r\n"),
            (&["eval", "return redis.REDIS_VERSION_NUM", "0"], ":458767\r\n"),
            (&["eval", "return cjson.encode({1,2,{a='x/y'}})", "0"], "$18\r\n[1,2,{\"a\":\"x\\/y\"}]\r\n"),
            (&["eval", "return cjson.encode({})", "0"], "$2\r\n{}\r\n"),
            (&["eval", "local t = cjson.decode('[1,2,{\"a\":null,\"b\":[true,false]}]'); return {t[1], t[2], type(t[3].a), tostring(t[3].b[1])}", "0"], "*4\r\n:1\r\n:2\r\n$8\r\nuserdata\r\n$4\r\ntrue\r\n"),
            (&["eval", "return {bit.band(7, 3), bit.tohex(255), bit.tohex(-1, -4), bit.lshift(1, 31), bit.bnot(0)}", "0"], "*5\r\n:3\r\n$8\r\n000000ff\r\n$4\r\nFFFF\r\n:-2147483648\r\n:-1\r\n"),
            (&["eval", "return KEYS[1] .. ARGV[1] .. #ARGV", "1", "k", "a1", "a2"], "$4\r\nka12\r\n"),
            (&["eval", "return redis.call('hset', 'h', 'b', 1, 'a', 2)", "0"], ":2\r\n"),
            (&["eval", "return redis.call('hgetall', 'h')", "0"], "*4\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n"),
            (&["eval", "return redis.call('zadd', 'z', 1.5, 'm')", "0"], ":1\r\n"),
            (&["eval", "return redis.call('zrange', 'z', 0, -1, 'withscores')", "0"], "*2\r\n$1\r\nm\r\n$3\r\n1.5\r\n"),
            (&["script", "flush", "bogus"], "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"),
            (&["script", "kill"], "-NOTBUSY No scripts in execution right now.\r\n"),
            (&["script", "debug", "no"], "+OK\r\n"),
            (&["script", "flush"], "+OK\r\n"),
            (&["evalsha", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"], "-NOSCRIPT No matching script. Please use EVAL.\r\n"),
        ],
    );
}

#[test]
fn scripts_answer_as_redis_in_resp3() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["HELLO", "3"]);
    check(
        &mut r,
        &[
            (&["eval", "return false", "0"], "_\r\n"),
            (&["eval", "return true", "0"], ":1\r\n"),
            (&["eval", "return nil", "0"], "_\r\n"),
            (&["eval", "redis.setresp(3); return true", "0"], "#t\r\n"),
            (&["eval", "redis.setresp(3); return redis.call('hgetall','h3')", "0"], "%0\r\n"),
            (&["eval", "redis.setresp(3); return redis.call('get','nokey')", "0"], "_\r\n"),
            (
                &["eval", "redis.setresp(3); local t = redis.call('hgetall','h3'); return type(t.map)", "0"],
                "$5\r\ntable\r\n",
            ),
            (&["eval", "return {double=3.5}", "0"], ",3.5\r\n"),
            (&["eval", "return {map={a=1}}", "0"], "%1\r\n$1\r\na\r\n:1\r\n"),
            (&["eval", "return {big_number='123'}", "0"], "(123\r\n"),
            (&["eval", "return {verbatim_string={format='txt', string='hi'}}", "0"], "=6\r\ntxt:hi\r\n"),
            (&["eval", "return {set={a=true}}", "0"], "~1\r\n$1\r\na\r\n"),
        ],
    );
}

#[test]
fn scripts_are_shared_and_flushed() {
    let s = Server::start();
    let (mut a, mut b) = (s.raw(), s.raw());
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    check(&mut a, &[(&["EVAL", "return 1", "0"], ":1\r\n")]);
    // EVAL caches the script for every connection (and every worker thread).
    check(&mut b, &[(&["EVALSHA", sha, "0"], ":1\r\n"), (&["SCRIPT", "FLUSH", "ASYNC"], "+OK\r\n")]);
    check(
        &mut a,
        &[
            (&["EVALSHA", sha, "0"], "-NOSCRIPT No matching script. Please use EVAL.\r\n"),
            (&["SCRIPT", "EXISTS", sha], "*1\r\n:0\r\n"),
            // A script that does not compile is not cached.
            (
                &["SCRIPT", "LOAD", "return ("],
                "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n",
            ),
            (&["SCRIPT", "EXISTS", "728acb63e2aaef0ee859ece5db586bff5d800d1e"], "*1\r\n:0\r\n"),
        ],
    );
}

#[test]
fn a_script_runs_in_the_callers_database_and_leaves_it_selected() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["SELECT", "2"], "+OK\r\n"),
            (&["EVAL", "redis.call('set', KEYS[1], 'two'); redis.call('select', 5); return redis.call('set', KEYS[1], 'five')", "1", "k"], "+OK\r\n"),
            (&["GET", "k"], "$3\r\ntwo\r\n"),
            (&["SELECT", "5"], "+OK\r\n"),
            (&["GET", "k"], "$4\r\nfive\r\n"),
        ],
    );
}

#[test]
fn scripts_inside_transactions_and_watch() {
    let s = Server::start();
    let (mut a, mut b) = (s.raw(), s.raw());
    check(
        &mut a,
        &[
            (&["MULTI"], "+OK\r\n"),
            (&["EVAL", "return redis.call('incr', KEYS[1])", "1", "c"], "+QUEUED\r\n"),
            (&["EVAL", "return redis.call('incrby', KEYS[1], 10)", "1", "c"], "+QUEUED\r\n"),
            (&["EXEC"], "*2\r\n:1\r\n:11\r\n"),
            (&["WATCH", "c"], "+OK\r\n"),
        ],
    );
    // A script of another client modifies the watched key: the transaction does not run.
    check(&mut b, &[(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "c"], ":12\r\n")]);
    check(&mut a, &[(&["MULTI"], "+OK\r\n"), (&["INCR", "c"], "+QUEUED\r\n"), (&["EXEC"], "*-1\r\n")]);
}

#[test]
fn large_replies_and_many_writes_inside_one_script() {
    let s = Server::start();
    let mut r = s.raw();
    // 20 000 writes in one script, then a reply far larger than one streamed chunk, read whole by the script.
    let fill = "for i = 1, 20000 do redis.call('hset', KEYS[1], 'field:' .. i, string.rep('v', 20)) end \
                return #redis.call('hgetall', KEYS[1])";
    check(&mut r, &[(&["EVAL", fill, "1", "h"], ":40000\r\n"), (&["HLEN", "h"], ":20000\r\n")]);
}

#[test]
fn script_writes_survive_a_crash() {
    let mut s = Server::start();
    let mut r = s.raw();
    let script = "for i = 1, 100 do redis.call('rpush', KEYS[1], i) end return redis.call('llen', KEYS[1])";
    check(&mut r, &[(&["EVAL", script, "1", "l"], ":100\r\n")]);
    s.restart();
    let mut r = s.raw();
    assert_eq!(int(&r.cmd(&["LLEN", "l"])), 100);
    check(&mut r, &[(&["LINDEX", "l", "-1"], "$3\r\n100\r\n")]);
}

#[test]
fn scripts_are_atomic() {
    // Several worker threads, so the clients' scripts really run at the same time but for the exec gate.
    let s = Server::start_with(&["--workers", "4"]);
    // Each script reads a counter, does some work, and writes it back: interleaved scripts would lose updates.
    let script = "local v = tonumber(redis.call('get', KEYS[1]) or '0'); \
                  for i = 1, 2000 do redis.call('get', KEYS[1]) end; \
                  return redis.call('set', KEYS[1], v + 1)";
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mut r = s.raw();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    assert_eq!(r.cmd(&["EVAL", script, "1", "counter"]), "+OK\r\n");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    assert_eq!(s.raw().cmd(&["GET", "counter"]), "$3\r\n100\r\n");
}

#[test]
fn a_script_that_never_ends_without_writing_is_stopped() {
    let s = Server::start();
    let mut r = s.raw();
    check(&mut r, &[(&["CONFIG", "SET", "busy-reply-threshold", "200"], "+OK\r\n")]);
    let reply = r.cmd(&["EVAL", "local i = 0\nwhile true do i = i + 1 end", "0"]);
    assert!(
        reply.starts_with("-ERR Script killed: it ran longer than busy-reply-threshold without writing")
            && reply.ends_with(", on @user_script:2.\r\n"),
        "{reply}"
    );
    // The server goes on; a script that wrote is left to finish.
    check(
        &mut r,
        &[
            (&["PING"], "+PONG\r\n"),
            (
                &[
                    "EVAL",
                    "redis.call('set', KEYS[1], 1); local t = redis.call('time'); local i = 0 \
                        while tonumber(redis.call('time')[1]) < tonumber(t[1]) + 1 do i = i + 1 end; return 1",
                    "1",
                    "k",
                ],
                ":1\r\n",
            ),
        ],
    );
}

#[test]
fn scripts_run_with_the_callers_acl_permissions() {
    let s = Server::start();
    let mut admin = s.raw();
    check(&mut admin, &[(&["ACL", "SETUSER", "bob", "on", ">123", "+@scripting", "+get", "~x*"], "+OK\r\n")]);
    let mut bob = s.raw();
    check(
        &mut bob,
        &[
            (&["AUTH", "bob", "123"], "+OK\r\n"),
            // Replies taken from redis-server 7.0.15.
            (
                &["EVAL", "return redis.call('set','x','1')", "0"],
                "-ERR The user executing the script can't run this command or subcommand script: \
                 8b2ae6dd76cda7fc3e27f97431ae27d7b08a221d, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return redis.pcall('get','y')", "0"],
                "-ERR The user executing the script can't access at least one of the keys mentioned in the command \
                 arguments\r\n",
            ),
            (
                &["EVAL", "return {redis.acl_check_cmd('get','x'), redis.acl_check_cmd('get','y')}", "0"],
                "*2\r\n:1\r\n$-1\r\n",
            ),
            (&["EVAL", "return redis.call('get','x')", "0"], "$-1\r\n"),
        ],
    );
    let log = admin.cmd(&["ACL", "LOG", "1"]);
    assert!(log.contains("$7\r\ncontext\r\n$3\r\nlua\r\n$6\r\nobject\r\n$1\r\ny\r\n"), "{log}");
}

#[test]
fn functions_answer_as_redis() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["function", "flush"], "+OK\r\n"),
            (&["function", "load", "return 1"], "-ERR Missing library metadata\r\n"),
            (&["function", "load", "#!lua\nreturn 1"], "-ERR Library name was not given\r\n"),
            (&["function", "load", "#!python name=x\nreturn 1"], "-ERR Engine 'python' not found\r\n"),
            (&["function", "load", "#!lua name=my-lib\nreturn 1"], "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n"),
            (&["function", "load", "#!lua name=mylib foo=bar\nreturn 1"], "-ERR Invalid metadata value given: foo=bar\r\n"),
            (&["function", "load", "#!lua name=mylib\nreturn 1"], "-ERR No functions registered\r\n"),
            (&["function", "load", "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)\nredis.register_function{function_name='f2', callback=function(keys, args) return #keys end, flags={'no-writes'}, description='counts keys'}"], "$5\r\nmylib\r\n"),
            (&["function", "load", "#!lua name=mylib\nredis.register_function('f3', function() return 1 end)"], "-ERR Library 'mylib' already exists\r\n"),
            (&["function", "load", "#!lua name=other\nredis.register_function('f1', function() return 1 end)"], "-ERR Function f1 already exists\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.register_function('f-1', function() return 1 end)"], "-ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.call('set','a','b')"], "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'\r\n"),
            (&["function", "load", "#!lua name=bad\nx = 1"], "-ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table\r\n"),
            (&["function", "load", "#!lua name=bad\nlocal x = "], "-ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.register_function('g', 5)"], "-ERR Error registering functions: ERR second argument to redis.register_function must be a function\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.register_function{function_name='g', callback=function() end, flags={'bogus'}}"], "-ERR Error registering functions: ERR unknown flag given\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.register_function{function_name='g', callback=function() end, foo=1}"], "-ERR Error registering functions: ERR unknown argument given to redis.register_function\r\n"),
            (&["function", "load", "#!lua name=bad\nredis.register_function('g', function() end)\nredis.register_function('g', function() end)"], "-ERR Error registering functions: ERR Function already exists in the library\r\n"),
            (&["fcall", "f1", "1", "k", "v"], "+OK\r\n"),
            (&["get", "k"], "$1\r\nv\r\n"),
            (&["fcall", "f2", "2", "a", "b"], ":2\r\n"),
            (&["fcall_ro", "f2", "0"], ":0\r\n"),
            (&["fcall_ro", "f1", "1", "k", "v"], "-ERR Can not execute a script with write flag using *_ro command.\r\n"),
            (&["fcall", "nosuch", "0"], "-ERR Function not found\r\n"),
            (&["fcall", "f1", "-1"], "-ERR Number of keys can't be negative\r\n"),
            (&["fcall", "f1", "5", "a"], "-ERR Number of keys can't be greater than number of args\r\n"),
            (&["function", "load", "#!lua name=errlib\nredis.register_function('boom', function(keys, args)\n  return redis.call('nosuch')\nend)"], "$6\r\nerrlib\r\n"),
            (&["fcall", "boom", "0"], "-ERR Unknown Redis command called from script script: boom, on @user_function:3.\r\n"),
            (&["function", "load", "#!lua name=errlib2\nredis.register_function('boom2', function(keys, args)\n  error('bad')\nend)"], "$7\r\nerrlib2\r\n"),
            (&["fcall", "boom2", "0"], "-ERR user_function:3: bad script: boom2, on @user_function:3.\r\n"),
            (&["function", "list", "libraryname", "errlib2", "withcode"], "*1\r\n*8\r\n$12\r\nlibrary_name\r\n$7\r\nerrlib2\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$5\r\nboom2\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n$12\r\nlibrary_code\r\n$92\r\n#!lua name=errlib2\nredis.register_function('boom2', function(keys, args)\n  error('bad')\nend)\r\n"),
            (&["function", "stats"], "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:3\r\n$15\r\nfunctions_count\r\n:4\r\n"),
            (&["function", "delete", "nosuch"], "-ERR Library not found\r\n"),
            (&["function", "delete", "errlib2"], "+OK\r\n"),
            (&["fcall", "boom2", "0"], "-ERR Function not found\r\n"),
            (&["function", "restore", "x"], "-ERR DUMP payload version or checksum are wrong\r\n"),
            (&["function", "restore", "abc", "bogus"], "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n"),
            (&["function", "list", "libraryname"], "-ERR library name argument was not given\r\n"),
            (&["function", "list", "bogus"], "-ERR Unknown argument bogus\r\n"),
            (&["function", "list", "withcode", "withcode"], "-ERR Unknown argument withcode\r\n"),
            (&["function", "kill"], "-NOTBUSY No scripts in execution right now.\r\n"),
            (&["function", "load", "replace", "#!lua name=mylib\nredis.register_function('f1', function(keys, args) return 'replaced' end)"], "$5\r\nmylib\r\n"),
            (&["fcall", "f1", "0"], "$8\r\nreplaced\r\n"),
            (&["fcall", "f2", "0"], "-ERR Function not found\r\n"),
            (&["function", "load", "#!lua name=ro\nredis.register_function{function_name='rw', callback=function(keys) return redis.call('set', keys[1], 1) end, flags={'no-writes'}}"], "$2\r\nro\r\n"),
            (&["fcall", "rw", "1", "x"], "-ERR Write commands are not allowed from read-only scripts. script: rw, on @user_function:2.\r\n"),
            (&["fcall_ro", "rw", "1", "x"], "-ERR Write commands are not allowed from read-only scripts. script: rw, on @user_function:2.\r\n"),
            (&["function", "load", "#!lua name=vars\nlocal count = 0\nredis.register_function('counter', function() count = count + 1 return count end)"], "$4\r\nvars\r\n"),
            (&["fcall", "counter", "0"], ":1\r\n"),
            (&["fcall", "counter", "0"], ":2\r\n"),
            (&["function", "load", "#!lua name=keysargs\nredis.register_function('ka', function(keys, args) return {keys[1], args[1], #keys, #args, type(KEYS)} end)"], "$8\r\nkeysargs\r\n"),
            (&["fcall", "ka", "1", "k1", "a1", "a2"], "-ERR user_function:2: Script attempted to access nonexistent global variable 'KEYS' script: ka, on @user_function:2.\r\n"),
            (&["function", "load", "#!lua name=keysargs2\nredis.register_function('ka2', function(keys, args) return redis.setresp(3) end)"], "$9\r\nkeysargs2\r\n"),
            (&["fcall", "ka2", "0"], "$-1\r\n"),
        ],
    );
}

#[test]
fn function_libraries_survive_a_crash_and_flushall_and_travel_by_dump() {
    let mut s = Server::start();
    let mut r = s.raw();
    let lib = "#!lua name=kept\nredis.register_function('double', function(keys, args) return args[1] * 2 end)";
    check(&mut r, &[(&["FUNCTION", "LOAD", lib], "$4\r\nkept\r\n"), (&["FLUSHALL"], "+OK\r\n")]);
    s.restart();
    let mut r = s.raw();
    check(&mut r, &[(&["FCALL", "double", "0", "21"], ":42\r\n")]);
    // FUNCTION DUMP / RESTORE: the payload carries the libraries (redis-server 7.0.15 loads it too).
    let mut conn = s.conn();
    let payload: Vec<u8> = redis::cmd("FUNCTION").arg("DUMP").query(&mut conn).expect("FUNCTION DUMP");
    check(
        &mut r,
        &[(&["FUNCTION", "FLUSH"], "+OK\r\n"), (&["FCALL", "double", "0", "1"], "-ERR Function not found\r\n")],
    );
    let restored: String = redis::cmd("FUNCTION").arg("RESTORE").arg(&payload).query(&mut conn).expect("RESTORE");
    assert_eq!(restored, "OK");
    check(
        &mut r,
        &[
            (&["FCALL", "double", "0", "5"], ":10\r\n"),
            (&["FUNCTION", "RESTORE", "bogus"], "-ERR DUMP payload version or checksum are wrong\r\n"),
        ],
    );
    let again: redis::RedisResult<String> = redis::cmd("FUNCTION").arg("RESTORE").arg(&payload).query(&mut conn);
    assert_eq!(
        again.unwrap_err().to_string(),
        "An error was signalled by the server - ResponseError: Library kept already exists"
    );
}

#[test]
fn a_function_cannot_register_functions_after_the_load() {
    let s = Server::start();
    let mut r = s.raw();
    let lib = "#!lua name=lib1\nlocal lib = redis\nlib.register_function('f1', function ()\n  lib.redis = redis\n  \
               return {ok='OK'}\nend)\nlib.register_function('f2', function ()\n  lib.register_function('f1', \
               function () return 1 end)\nend)";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", lib]), "$4\r\nlib1\r\n");
    // Replies of redis-server 7.0.15: the load-time API a function kept is read-only and refuses registering.
    assert_eq!(
        r.cmd(&["FCALL", "f1", "0"]),
        "-ERR user_function:4: Attempt to modify a readonly table script: f1, on @user_function:4.\r\n"
    );
    assert_eq!(
        r.cmd(&["FCALL", "f2", "0"]),
        "-ERR redis.register_function can only be called on FUNCTION LOAD command script: f2, on \
         @user_function:8.\r\n"
    );
}

/// Redis' `struct` library (lua_struct.c) and its errors, and lua-cmsgpack's errors, as redis-server 7.0.15 answers
/// them (every reply below was taken from it).
#[test]
fn struct_library_and_library_errors() {
    let s = Server::start();
    let mut r = s.raw();
    check(
        &mut r,
        &[
            (&["EVAL", "return struct.pack('c0', 'hello')", "0"], "$5\r\nhello\r\n"),
            (
                &["EVAL", "return struct.pack('c5', 'ab')", "0"],
                "-ERR user_script:1: bad argument #3 to 'pack' (string too short) script: cec53901ab5000b5eccda51f64e59e716bdfd4ba, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return struct.pack('z', 1)", "0"],
                "-ERR user_script:1: bad argument #1 to 'pack' (invalid format option 'z') script: b1a49a62278d772f47cfca6a679bc33c0fa64430, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return struct.pack('i40', 1)", "0"],
                "-ERR user_script:1: integral size 40 is larger than limit of 32 script: 652cabace7a9fdbd8e0c2489b1b804d19185ddc8, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return struct.pack('ii', 1)", "0"],
                "-ERR user_script:1: bad argument #3 to 'pack' (number expected, got nil) script: 2c85861ffbe8a6c7335e4a3239f2eafc62283cea, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return struct.pack()", "0"],
                "-ERR user_script:1: bad argument #1 to 'pack' (string expected, got no value) script: c9b8aed4f0633591e6252db264bf8b86b82828d5, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return {struct.unpack('<i2', '\\254\\255')}", "0"], "*2\r\n:-2\r\n:3\r\n"),
            (
                &["EVAL", "return {struct.unpack('BhHlLT', struct.pack('BhHlLT', 1, -2, 3, -4, 5, 6))}", "0"],
                "*7\r\n:1\r\n:-2\r\n:3\r\n:-4\r\n:5\r\n:6\r\n:30\r\n",
            ),
            (&["EVAL", "return {struct.unpack('c3', 'abcdef', 3)}", "0"], "*2\r\n$3\r\ncde\r\n:6\r\n"),
            (
                &["EVAL", "return {struct.unpack('c3', 'abcdef', 0)}", "0"],
                "-ERR user_script:1: bad argument #3 to 'unpack' (offset must be 1 or greater) script: 36ffcdb0ad6001dee19da2cbf728d34286db2fa5, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return {struct.unpack('s', 'hi\\0there')}", "0"], "*2\r\n$2\r\nhi\r\n:4\r\n"),
            (&["EVAL", "return {struct.unpack('b c0', '\\3abcdef')}", "0"], "*2\r\n$3\r\nabc\r\n:5\r\n"),
            (
                &["EVAL", "return {struct.unpack('c0', 'abc')}", "0"],
                "-ERR user_script:1: format 'c0' needs a previous size script: b3fd8e7c8bb6ee20854fafea5b84014791ec5cf5, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return {struct.unpack('i', 'ab')}", "0"],
                "-ERR user_script:1: bad argument #2 to 'unpack' (data string too short) script: 4ea259654b1cfa6b1fc999f3ae72bb6f48d476f4, on @user_script:1.\r\n",
            ),
            (&["EVAL", "return {struct.unpack('f', struct.pack('f', 1.5))}", "0"], "*2\r\n:1\r\n:5\r\n"),
            (&["EVAL", "return struct.size('bhlTfdc7i3x')", "0"], ":42\r\n"),
            (&["EVAL", "return struct.size('!8 b d')", "0"], ":16\r\n"),
            (
                &["EVAL", "return struct.size('s')", "0"],
                "-ERR user_script:1: bad argument #1 to 'size' (option 's' has no fixed size) script: a2a0525826ab7939ccd3f54427a862205642f28f, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return struct.size('!3')", "0"],
                "-ERR user_script:1: alignment 3 is not a power of 2 script: e85d1ac33cd35488c9a4f9b4f97cb56bbfae9248, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return cmsgpack.pack()", "0"],
                "-ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.) script: 6bc235afa55de88253e203cc5fe5844792e25209, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return cmsgpack.unpack('\\146')", "0"],
                "-ERR user_script:1: Missing bytes in input. script: 776baa28bfd841cfe9fc417b014a62f012a25cf1, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return cmsgpack.unpack_limit('a', -1)", "0"],
                "-ERR user_script:1: Invalid request to unpack with offset of 0 and limit of 1. script: 74c65c37f2c004fc74d17d2389135cd91149ce85, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "return cmsgpack.unpack_one('a', 5)", "0"],
                "-ERR user_script:1: Start offset 5 greater than input length 1. script: 7d7f6a1fe6fcc16f7174876571d15d4d5c5a122d, on @user_script:1.\r\n",
            ),
        ],
    );
    // Lua's loaders parse every chunk as text, as Redis' patched Lua does: bytecode fails on its first byte.
    check(
        &mut r,
        &[
            (
                &["EVAL", "return loadstring()", "0"],
                "-ERR user_script:1: bad argument #1 to 'loadstring' (string expected, got no value) script: d80723d7d8427f977d218ab648c910adce50e8a3, on @user_script:1.\r\n",
            ),
            (
                &["EVAL", "local f, e = loadstring(string.dump(function() return 1 end), 'nm') return {type(f), tostring(e)}", "0"],
                "*2\r\n$3\r\nnil\r\n$50\r\n[string \"nm\"]:1: unexpected symbol near 'char(27)'\r\n",
            ),
            (
                &["EVAL", "local d = string.dump(function() return 1 end) local done = false local f, e = load(function() if done then return nil end done = true return d end) return {type(f), tostring(e)}", "0"],
                "*2\r\n$3\r\nnil\r\n$43\r\n(load):1: unexpected symbol near 'char(27)'\r\n",
            ),
            (
                &["EVAL", "local n = 0 local f, e = load(function() n = n + 1 if n == 1 then return 'return ' elseif n == 2 then return '40+2' end end) return f()", "0"],
                ":42\r\n",
            ),
            (
                &["EVAL", "return {pcall(load)}", "0"],
                "*2\r\n$-1\r\n$56\r\nbad argument #1 to '?' (function expected, got no value)\r\n",
            ),
            (
                &["EVAL", "local p = struct.pack return p('z')", "0"],
                "-ERR user_script:1: bad argument #1 to 'p' (invalid format option 'z') script: ef443eb455fdae85ab6bede27741cc076a5d40d3, on @user_script:1.\r\n",
            ),
        ],
    );
    // Binary results, byte for byte.
    let mut c = s.conn();
    let packed = |c: &mut redis::Connection, script: &str| -> Vec<u8> {
        redis::cmd("EVAL").arg(script).arg(0).query(c).unwrap()
    };
    assert_eq!(packed(&mut c, "return struct.pack('>i2', 1)"), [0, 1]);
    assert_eq!(packed(&mut c, "return struct.pack('<i16', -1)"), [[0xff; 8], [0; 8]].concat());
    assert_eq!(
        packed(&mut c, "return struct.pack('BhHlLT', 1, -2, 3, -4, 5, 6)"),
        [
            &[1, 0xfe, 0xff, 3, 0][..],
            &[0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[5, 0, 0, 0, 0, 0, 0, 0],
            &[6, 0, 0, 0, 0, 0, 0, 0]
        ]
        .concat()
    );
    assert_eq!(packed(&mut c, "return struct.pack('>d', -0.25)"), [0xbf, 0xd0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(packed(&mut c, "return struct.pack('s', 'hi')"), b"hi\0");
    assert_eq!(packed(&mut c, "return struct.pack('!4 b i', 1, 2)"), [1, 0, 0, 0, 2, 0, 0, 0]);
}
