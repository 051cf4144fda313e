//! ACL: users and their rules (ACL SETUSER / GETUSER / LIST in RESP2 and RESP3), AUTH and HELLO with users,
//! permission checks of commands, keys and channels with their NOPERM errors and ACL LOG entries, DELUSER and
//! CLIENT KILL USER disconnecting clients, `requirepass` as the default user's password, and the ACL file.
//! Expected replies were taken from redis-server 7.0.15 (the order of single commands in a rule description is
//! hash order in Redis; SableDB uses name order).

use crate::common::{array_of, bulks, expect, Raw, Server};

const USER_RULES: &str = "ACL SETUSER u on >pw1 #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 ~k* \
                          %R~r* &ch* +get +@hash -hset +config|get (+set %W~w*)";
const PW1: &str = "c592df4a86933b92addc9842402ddf198c638ea9be58916ee6e3734e1e3152f8";
const PASSWORD: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

fn set_user(r: &mut Raw) {
    let args: Vec<&str> = USER_RULES.split(' ').collect();
    assert_eq!(r.cmd(&args), "+OK\r\n");
}

#[test]
fn default_user_and_listing() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ACL WHOAMI", "$7\r\ndefault\r\n"),
            ("ACL USERS", &array_of(&["default"])),
            ("ACL LIST", &array_of(&["user default on nopass ~* &* +@all"])),
            (
                "ACL GETUSER default",
                "*12\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$6\r\nnopass\r\n$9\r\npasswords\r\n*0\r\n$8\r\ncommands\r\n$5\r\n\
                 +@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n$2\r\n&*\r\n$9\r\nselectors\r\n*0\r\n",
            ),
            ("ACL GETUSER nosuch", "$-1\r\n"),
            ("AUTH x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"),
            ("ACL DELUSER default", "-ERR The 'default' user cannot be removed\r\n"),
            ("ACL LOAD", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n"),
            ("ACL SAVE", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.\r\n"),
            ("HELLO 3", ""),
            ("ACL GETUSER nosuch", "_\r\n"),
        ],
    );
    let info = r.cmd(&["CLIENT", "INFO"]);
    assert!(info.contains(" user=default "), "{info}");
}

#[test]
fn setuser_and_getuser_in_both_protocols() {
    let s = Server::start();
    let mut r = s.raw();
    set_user(&mut r);
    let getuser2 = format!(
        "*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*2\r\n$64\r\n{PW1}\r\n$64\r\n{PASSWORD}\r\n$8\r\n\
         commands\r\n$35\r\n-@all +@hash +config|get +get -hset\r\n$4\r\nkeys\r\n$9\r\n~k* %R~r*\r\n$8\r\nchannels\r\n\
         $4\r\n&ch*\r\n$9\r\nselectors\r\n*1\r\n*6\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$5\r\n\
         %W~w*\r\n$8\r\nchannels\r\n$0\r\n\r\n"
    );
    assert_eq!(r.cmd(&["ACL", "GETUSER", "u"]), getuser2);
    let line = format!(
        "user u on #{PW1} #{PASSWORD} ~k* %R~r* resetchannels &ch* -@all +@hash +config|get +get -hset (%W~w* \
         resetchannels -@all +set)"
    );
    assert_eq!(r.cmd(&["ACL", "LIST"]), array_of(&["user default on nopass ~* &* +@all", &line]));
    assert_eq!(r.cmd(&["ACL", "USERS"]), array_of(&["default", "u"]));
    r.cmd(&["HELLO", "3"]);
    let getuser3 = format!(
        "%6\r\n$5\r\nflags\r\n~1\r\n$2\r\non\r\n$9\r\npasswords\r\n*2\r\n$64\r\n{PW1}\r\n$64\r\n{PASSWORD}\r\n$8\r\n\
         commands\r\n$35\r\n-@all +@hash +config|get +get -hset\r\n$4\r\nkeys\r\n$9\r\n~k* %R~r*\r\n$8\r\nchannels\r\n\
         $4\r\n&ch*\r\n$9\r\nselectors\r\n*1\r\n%3\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$5\r\n\
         %W~w*\r\n$8\r\nchannels\r\n$0\r\n\r\n"
    );
    assert_eq!(r.cmd(&["ACL", "GETUSER", "u"]), getuser3);
    // A reset user, and changes on top of existing rules.
    expect(
        &mut r,
        &[
            ("ACL SETUSER r reset", "+OK\r\n"),
            (
                "ACL GETUSER r",
                "%6\r\n$5\r\nflags\r\n~2\r\n$3\r\noff\r\n$16\r\nsanitize-payload\r\n$9\r\npasswords\r\n*0\r\n$8\r\n\
                 commands\r\n$5\r\n-@all\r\n$4\r\nkeys\r\n$0\r\n\r\n$8\r\nchannels\r\n$0\r\n\r\n$9\r\nselectors\r\n*0\r\n",
            ),
            ("ACL SETUSER r +@all -@dangerous allkeys %R~x", "-ERR Error in ACL SETUSER modifier '%R~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns\r\n"),
            ("ACL SETUSER r nopass <pw", "-ERR Error in ACL SETUSER modifier '<pw': The password you are trying to remove from the user does not exist\r\n"),
            ("ACL SETUSER r >a >b <a clearselectors", "+OK\r\n"),
            ("ACL DELUSER r nosuch", ":1\r\n"),
            ("ACL DELUSER r", ":0\r\n"),
        ],
    );
}

#[test]
fn setuser_errors_as_redis() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ACL SETUSER u bogus", "-ERR Error in ACL SETUSER modifier 'bogus': Syntax error\r\n"),
            ("ACL SETUSER u +nosuch", "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n"),
            ("ACL SETUSER u +@nosuch", "-ERR Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL\r\n"),
            ("ACL SETUSER u #abc", "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters\r\n"),
            ("ACL SETUSER u (+get", "-ERR Unmatched parenthesis in acl selector starting at '(+get'.\r\n"),
            ("ACL SETUSER u &* &x", "-ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels\r\n"),
            ("ACL SETUSER u +config|get|x", "-ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported\r\n"),
            ("ACL SETUSER u -select|0", "-ERR Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL\r\n"),
            ("ACL SETUSER u (+get ~x) (bogus)", "-ERR Error in ACL SETUSER modifier '(bogus)': Syntax error\r\n"),
            // Nothing was created by the failed commands.
            ("ACL USERS", &array_of(&["default"])),
            ("ACL CAT nosuch", "-ERR Unknown category 'nosuch'\r\n"),
            ("ACL GENPASS 0", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n"),
            ("ACL GENPASS 5000", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n"),
            ("ACL LOG x", "-ERR value is not an integer or out of range\r\n"),
            ("ACL LOG 1 2", "-ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.\r\n"),
            ("ACL NOSUCH", "-ERR unknown subcommand 'NOSUCH'. Try ACL HELP.\r\n"),
        ],
    );
    assert_eq!(r.cmd(&["ACL", "SETUSER", "a b"]), "-ERR Usernames can't contain spaces or null characters\r\n");
}

#[test]
fn cat_genpass_dryrun_help() {
    let s = Server::start();
    let mut r = s.raw();
    let cats = bulks(&r.cmd(&["ACL", "CAT"]));
    assert_eq!(cats.len(), 21);
    assert_eq!(cats[..3], ["keyspace", "read", "write"]);
    let geo = bulks(&r.cmd(&["ACL", "CAT", "GEO"]));
    assert_eq!(geo.len(), 10, "{geo:?}");
    assert!(geo.contains(&"geosearchstore".to_string()));
    // Subcommands are listed by their full name.
    assert!(bulks(&r.cmd(&["ACL", "CAT", "admin"])).contains(&"config|set".to_string()));
    for (bits, len) in [("256", 64), ("5", 2), ("4096", 1024)] {
        let p = bulks(&r.cmd(&["ACL", "GENPASS", bits]));
        assert_eq!(p[0].len(), len);
        assert!(p[0].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    set_user(&mut r);
    expect(
        &mut r,
        &[
            ("ACL DRYRUN nosuch get x", "-ERR User 'nosuch' not found\r\n"),
            ("ACL DRYRUN u nosuch", "-ERR Command 'nosuch' not found\r\n"),
            ("ACL DRYRUN u get", "-ERR wrong number of arguments for 'get' command\r\n"),
            ("ACL DRYRUN u get k1", "+OK\r\n"),
            ("ACL DRYRUN u get r1", "+OK\r\n"),
            ("ACL DRYRUN u get x", "$50\r\nThis user has no permissions to access the 'x' key\r\n"),
            ("ACL DRYRUN u set w1 v", "+OK\r\n"),
            ("ACL DRYRUN u set r1 v", "$51\r\nThis user has no permissions to access the 'r1' key\r\n"),
            ("ACL DRYRUN u lpush k1 v", "$55\r\nThis user has no permissions to run the 'lpush' command\r\n"),
            ("ACL DRYRUN u config get x", "+OK\r\n"),
            ("ACL DRYRUN u config set x y", "$60\r\nThis user has no permissions to run the 'config|set' command\r\n"),
            // Commands SableDB does not implement are still judged by Redis' key specifications.
            ("ACL DRYRUN u xlen k1", "$54\r\nThis user has no permissions to run the 'xlen' command\r\n"),
        ],
    );
    let help = r.cmd(&["ACL", "HELP"]);
    assert!(help.starts_with("*29\r\n+ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), "{help}");
}

#[test]
fn auth_as_users_and_auth_failures_logged() {
    let s = Server::start();
    let mut r = s.raw();
    set_user(&mut r);
    expect(&mut r, &[("ACL SETUSER off1 off nopass +@all", "+OK\r\n"), ("ACL LOG RESET", "+OK\r\n")]);
    let mut u = s.raw();
    expect(
        &mut u,
        &[
            ("AUTH u bad", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            ("AUTH nosuch x", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            ("auth off1 x", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            ("ACL WHOAMI", "$7\r\ndefault\r\n"),
            ("AUTH u password", "+OK\r\n"),
            ("ACL WHOAMI", "-NOPERM this user has no permissions to run the 'acl|whoami' command\r\n"),
            ("AUTH u pw1", "+OK\r\n"),
            ("HELLO 3 AUTH u nope", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
        ],
    );
    // HELLO AUTH authenticates and switches protocol at once.
    let mut h = s.raw();
    let reply = h.cmd(&["HELLO", "3", "AUTH", "u", "pw1", "SETNAME", "me"]);
    assert!(reply.starts_with("%7\r\n"), "{reply}");
    let list = r.cmd(&["CLIENT", "LIST"]);
    assert!(list.contains(" name=me ") && list.contains(" user=u "), "{list}");
    // The failures, newest first, each with the command name as typed and the user name tried.
    let log = r.cmd(&["ACL", "LOG"]);
    let fields = bulks(&log);
    let entry = |i: usize| -> Vec<&str> {
        // count is an integer, so each entry has 6 bulk fields names + 5 bulk values (age as bulk in RESP2).
        fields[i * 13..i * 13 + 13].iter().map(String::as_str).collect()
    };
    assert!(log.starts_with("*5\r\n*14\r\n$5\r\ncount\r\n:1\r\n"), "{log}");
    assert_eq!(entry(0)[..9], ["count", "reason", "auth", "context", "toplevel", "object", "HELLO", "username", "u"]);
    assert_eq!(entry(1)[2..9], ["command", "context", "toplevel", "object", "acl|whoami", "username", "u"]);
    assert_eq!(entry(2)[..9], ["count", "reason", "auth", "context", "toplevel", "object", "auth", "username", "off1"]);
    assert_eq!(entry(3)[6..9], ["AUTH", "username", "nosuch"]);
    assert_eq!(entry(4)[6..9], ["AUTH", "username", "u"]);
    assert_eq!(entry(4)[9], "age-seconds");
    assert_eq!(entry(4)[11], "client-info");
    assert!(entry(4)[12].contains(" cmd=auth user=default "), "{}", entry(4)[12]);
    // RESP3: a map per entry, age as a double.
    r.cmd(&["HELLO", "3"]);
    let log3 = r.cmd(&["ACL", "LOG", "1"]);
    assert!(log3.starts_with("*1\r\n%7\r\n$5\r\ncount\r\n:1\r\n$6\r\nreason\r\n$4\r\nauth\r\n"), "{log3}");
    assert!(log3.contains("$11\r\nage-seconds\r\n,"), "{log3}");
    assert_eq!(r.cmd(&["ACL", "LOG", "-5"]), "*0\r\n");
}

#[test]
fn requirepass_is_the_default_users_password() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("CONFIG SET requirepass foo", "+OK\r\n")]);
    let line = "user default on #2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae ~* &* +@all";
    assert_eq!(r.cmd(&["ACL", "LIST"]), array_of(&[line]));
    // The connection that was open stays authenticated; a new one is not.
    let mut n = s.raw();
    expect(
        &mut n,
        &[
            ("GET k", "-NOAUTH Authentication required.\r\n"),
            ("AUTH bar", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            ("AUTH foo", "+OK\r\n"),
            ("AUTH default foo", "+OK\r\n"),
            ("GET k", "$-1\r\n"),
        ],
    );
    // Other CONFIG SETs leave the password alone; ACL SETUSER default changes it like any user.
    expect(&mut r, &[("CONFIG SET timeout 0", "+OK\r\n"), ("ACL SETUSER default resetpass >other", "+OK\r\n")]);
    let mut m = s.raw();
    expect(
        &mut m,
        &[
            ("AUTH foo", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
            ("AUTH other", "+OK\r\n"),
        ],
    );
    let mut waiting = s.raw();
    assert_eq!(waiting.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    expect(&mut r, &[("CONFIG SET requirepass ''", "+OK\r\n")]);
    // As in Redis, a client that never authenticated needs no AUTH once the default user has no password.
    assert_eq!(waiting.cmd(&["GET", "k"]), "$-1\r\n");
    assert_eq!(r.cmd(&["ACL", "LIST"]), array_of(&["user default on nopass ~* &* +@all"]));
    let mut o = s.raw();
    assert_eq!(o.cmd(&["GET", "k"]), "$-1\r\n");
    // RESET goes back to the default user.
    expect(
        &mut r,
        &[
            ("ACL SETUSER u on nopass +acl", "+OK\r\n"),
            ("AUTH u x", "+OK\r\n"),
            ("RESET", "+RESET\r\n"),
            ("ACL WHOAMI", "$7\r\ndefault\r\n"),
        ],
    );
}

#[test]
fn commands_keys_and_channels_are_enforced_and_logged() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("ACL SETUSER u on nopass ~k* %R~r* %W~w* &ch* +get +set +@hash -hset +publish +subscribe +psubscribe +multi +exec +client|id +select|0 +copy", "+OK\r\n"),
            ("SET r1 v", "+OK\r\n"),
            ("ACL LOG RESET", "+OK\r\n"),
        ],
    );
    let mut u = s.raw();
    expect(
        &mut u,
        &[
            ("AUTH u x", "+OK\r\n"),
            ("GET k1", "$-1\r\n"),
            ("GET r1", "$1\r\nv\r\n"),
            ("GET x", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("SET r1 v", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("GET w1", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("SET w1 v", "+OK\r\n"),
            ("SET w1 v GET", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("COPY r1 w2", ":1\r\n"),
            ("COPY k1 r2", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("HGET k1 f", "$-1\r\n"),
            ("HSET k1 f v", "-NOPERM this user has no permissions to run the 'hset' command\r\n"),
            ("LPUSH k1 v", "-NOPERM this user has no permissions to run the 'lpush' command\r\n"),
            ("CLIENT LIST", "-NOPERM this user has no permissions to run the 'client|list' command\r\n"),
            ("SELECT 0", "+OK\r\n"),
            ("SELECT 1", "-NOPERM this user has no permissions to run the 'select' command\r\n"),
            ("PUBLISH ch1 m", ":0\r\n"),
            (
                "PUBLISH other m",
                "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n",
            ),
            (
                "PSUBSCRIBE ch1*",
                "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n",
            ),
            // Inside MULTI the refusal aborts the transaction.
            ("MULTI", "+OK\r\n"),
            ("GET k1", "+QUEUED\r\n"),
            ("GET nope", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
            ("MULTI", "+OK\r\n"),
            ("GET k1", "+QUEUED\r\n"),
        ],
    );
    // Rules changed between queueing and EXEC.
    expect(&mut r, &[("ACL SETUSER u -get", "+OK\r\n")]);
    assert_eq!(
        u.cmd(&["EXEC"]),
        "*1\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This \
         command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n"
    );
    let log = r.cmd(&["ACL", "LOG", "20"]);
    let f = bulks(&log);
    // (reason, context, object) of each entry, newest first; GET x/SET r1/GET w1/SET w1 GET are one object each.
    let triples: Vec<(&str, &str, &str)> =
        f.chunks(13).map(|e| (e[2].as_str(), e[4].as_str(), e[6].as_str())).collect();
    assert_eq!(
        triples,
        [
            ("command", "multi", "get"),
            ("key", "multi", "nope"),
            ("channel", "toplevel", "ch1*"),
            ("channel", "toplevel", "other"),
            ("command", "toplevel", "select"),
            ("command", "toplevel", "client|list"),
            ("command", "toplevel", "lpush"),
            ("command", "toplevel", "hset"),
            ("key", "toplevel", "r2"),
            ("key", "toplevel", "w1"),
            ("key", "toplevel", "r1"),
            ("key", "toplevel", "x"),
        ]
    );
    // GET w1 and SET w1 v GET were folded into one entry with a count of 2.
    assert!(log.contains("*14\r\n$5\r\ncount\r\n:2\r\n$6\r\nreason\r\n$3\r\nkey\r\n"), "{log}");
    assert!(f[12].contains(" cmd=exec user=u "), "{}", f[12]);
    // Refusals are rejected calls of the command or subcommand refused.
    let stats = r.cmd(&["INFO", "commandstats"]);
    assert!(
        stats.contains("cmdstat_client|list:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"),
        "{stats}"
    );
    let errors = r.cmd(&["INFO", "errorstats"]);
    assert!(errors.contains("errorstat_NOPERM:count=13"), "{errors}");
    // The default user is unaffected, and an unrestricted user skips every check.
    expect(&mut r, &[("GET x", "$-1\r\n"), ("ACL SETUSER u +@all allkeys allchannels", "+OK\r\n")]);
    expect(&mut u, &[("GET x", "$-1\r\n"), ("PSUBSCRIBE any*", "*3\r\n$10\r\npsubscribe\r\n$4\r\nany*\r\n:1\r\n")]);
}

#[test]
fn selectors_grant_alternatives() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("ACL SETUSER sel on nopass +get ~read* (+set ~write*) (+get %R~other*)", "+OK\r\n")]);
    let mut u = s.raw();
    expect(
        &mut u,
        &[
            ("AUTH sel x", "+OK\r\n"),
            ("GET read1", "$-1\r\n"),
            ("GET other1", "$-1\r\n"),
            ("SET write1 v", "+OK\r\n"),
            ("GET write1", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("SET read1 v", "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"),
            ("DEL read1", "-NOPERM this user has no permissions to run the 'del' command\r\n"),
        ],
    );
    expect(&mut r, &[("ACL SETUSER sel clearselectors", "+OK\r\n")]);
    assert_eq!(u.cmd(&["SET", "write1", "v"]), "-NOPERM this user has no permissions to run the 'set' command\r\n");
    // SORT's BY and GET read keys no check saw: they need read access to every key.
    expect(&mut r, &[("ACL SETUSER srt on nopass +sort ~mylist", "+OK\r\n"), ("RPUSH mylist 2 1", ":2\r\n")]);
    let mut t = s.raw();
    expect(
        &mut t,
        &[
            ("AUTH srt x", "+OK\r\n"),
            ("SORT mylist", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"),
            ("SORT mylist BY v*", "-ERR BY option of SORT denied due to insufficient ACL permissions.\r\n"),
            ("SORT mylist GET #", "-ERR GET option of SORT denied due to insufficient ACL permissions.\r\n"),
            ("SORT mylist BY nosort", "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"),
        ],
    );
}

#[test]
fn deleted_users_and_client_kill_user_disconnect() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("ACL SETUSER a on nopass +@all ~*", "+OK\r\n"), ("ACL SETUSER b on nopass +@all ~*", "+OK\r\n")]);
    let mut a1 = s.raw();
    let mut a2 = s.raw();
    let mut b = s.raw();
    for c in [&mut a1, &mut a2] {
        assert_eq!(c.cmd(&["AUTH", "a", "x"]), "+OK\r\n");
    }
    assert_eq!(b.cmd(&["AUTH", "b", "x"]), "+OK\r\n");
    let list = r.cmd(&["CLIENT", "LIST"]);
    assert_eq!(list.matches(" user=a ").count(), 2, "{list}");
    expect(
        &mut r,
        &[
            ("CLIENT KILL USER nosuch", "-ERR No such user 'nosuch'\r\n"),
            ("CLIENT KILL USER b", ":1\r\n"),
            // A disabled user keeps its connections (Redis 7.0).
            ("ACL SETUSER a off", "+OK\r\n"),
        ],
    );
    assert!(b.is_closed());
    assert_eq!(a1.cmd(&["PING"]), "+PONG\r\n");
    // DELUSER disconnects every client of the user, itself included after its reply.
    assert_eq!(a1.cmd(&["ACL", "DELUSER", "a"]), ":1\r\n");
    assert!(a1.is_closed());
    assert!(a2.is_closed());
    assert_eq!(r.cmd(&["ACL", "USERS"]), array_of(&["b", "default"]));
}

#[test]
fn subscribers_losing_a_channel_are_disconnected() {
    let s = Server::start();
    let mut r = s.raw();
    expect(&mut r, &[("ACL SETUSER ps on nopass +@all ~* resetchannels &news.* &sport", "+OK\r\n")]);
    let mut keep = s.raw();
    let mut lose = s.raw();
    assert_eq!(keep.cmd(&["AUTH", "ps", "x"]), "+OK\r\n");
    assert_eq!(lose.cmd(&["AUTH", "ps", "x"]), "+OK\r\n");
    assert_eq!(keep.cmd(&["SUBSCRIBE", "news.a"]), "*3\r\n$9\r\nsubscribe\r\n$6\r\nnews.a\r\n:1\r\n");
    assert_eq!(lose.cmd(&["SUBSCRIBE", "sport"]), "*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:1\r\n");
    // Adding channels kills nobody; taking `sport` away kills its subscriber only.
    expect(&mut r, &[("ACL SETUSER ps &more", "+OK\r\n"), ("ACL SETUSER ps resetchannels &news.*", "+OK\r\n")]);
    assert!(lose.is_closed());
    assert_eq!(r.cmd(&["PUBLISH", "news.a", "m"]), ":1\r\n");
}

#[test]
fn aclfile_load_and_save() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("users.acl");
    std::fs::write(&path, "user alice on >alice ~* &* +@all\nuser bob on >bob -@all +@set +acl ~set* &*\n").unwrap();
    let p = path.display().to_string();
    let s = Server::start_with(&["--aclfile", &p]);
    let mut r = s.raw();
    assert_eq!(r.cmd(&["ACL", "USERS"]), array_of(&["alice", "bob", "default"]));
    let mut bob = s.raw();
    expect(
        &mut bob,
        &[
            ("AUTH bob bob", "+OK\r\n"),
            ("SADD set1 a", ":1\r\n"),
            ("SET set1 x", "-NOPERM this user has no permissions to run the 'set' command\r\n"),
        ],
    );
    expect(&mut r, &[("ACL SETUSER eve on >eve +get allkeys", "+OK\r\n"), ("ACL SAVE", "+OK\r\n")]);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.starts_with("user alice on #"), "{saved}");
    assert!(saved.contains("\nuser eve on #"), "{saved}");
    assert!(saved.contains("\nuser default on nopass ~* &* +@all\n"), "{saved}");
    // A bad file changes nothing.
    std::fs::write(&path, "user alice on nopass\nuser alice off\nnonsense\nuser x +nosuch\n").unwrap();
    assert_eq!(
        r.cmd(&["ACL", "LOAD"]),
        format!(
            "-ERR WARNING: Duplicate user 'alice' found on line 2. {p}:3 should start with user keyword followed by \
             the username. {p}:4: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n"
        )
    );
    assert_eq!(r.cmd(&["ACL", "USERS"]), array_of(&["alice", "bob", "default", "eve"]));
    // A good one replaces every user; clients of replaced users are disconnected, the default user's are not.
    std::fs::write(&path, saved.replace("user eve", "user eva")).unwrap();
    assert_eq!(r.cmd(&["ACL", "LOAD"]), "+OK\r\n");
    assert!(bob.is_closed());
    assert_eq!(r.cmd(&["ACL", "USERS"]), array_of(&["alice", "bob", "default", "eva"]));
    std::fs::remove_file(&path).unwrap();
    let err = r.cmd(&["ACL", "LOAD"]);
    assert_eq!(err, format!("-ERR Error loading ACLs, opening file '{p}': No such file or directory\r\n"));
}
