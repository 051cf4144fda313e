//! Generator of ACL commands for the differential tester: ACL SETUSER with random rule words (valid and invalid:
//! passwords, hashes, commands, subcommands, first arguments, categories, key and channel patterns, selectors,
//! resets) on a few users (never `default`, which the tester's own connection is), ACL GETUSER and ACL LIST
//! (compared with the single-command words of rule descriptions sorted: Redis emits them in hash order), ACL
//! DRYRUN of commands with keys and channels, ACL CAT, USERS, WHOAMI, DELUSER, GENPASS (sized), and errors.

use super::{Check, Cmd, Gen};

const USERS: &[&str] = &["acl-a", "acl-b", "acl-c"];

const RULES: &[&str] = &[
    "on",
    "off",
    "nopass",
    "resetpass",
    ">pw",
    ">other",
    "<pw",
    "<nosuch",
    "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
    "#abc",
    "+get",
    "-get",
    "+set",
    "+GET",
    "+config|get",
    "-config|get",
    "+config",
    "-config",
    "+select|0",
    "-select|0",
    "+client|kill",
    "-client",
    "+config|get|x",
    "+get|x",
    "+nosuch",
    "+@read",
    "-@read",
    "+@write",
    "-@write",
    "+@all",
    "-@all",
    "+@hash",
    "-@dangerous",
    "+@admin",
    "+@pubsub",
    "+@nosuch",
    "allcommands",
    "nocommands",
    "~*",
    "~k*",
    "%R~k1",
    "%W~k2",
    "%RW~str:*",
    "%~x",
    "%X~x",
    "%R",
    "allkeys",
    "resetkeys",
    "&*",
    "&ch*",
    "allchannels",
    "resetchannels",
    "reset",
    "clearselectors",
    "(+get ~k0)",
    "(+set %W~k*)",
    "(",
    "+get",
    ")",
    "(bogus)",
    "sanitize-payload",
    "skip-sanitize-payload",
    "",
    "get",
    "~a b",
];

/// Commands ACL DRYRUN is asked about: keys of every access kind, channels, subcommands, first arguments.
const DRYRUN: &[&[&str]] = &[
    &["get", "k1"],
    &["get", "k0"],
    &["set", "k2", "v"],
    &["set", "k1", "v", "GET"],
    &["copy", "k1", "k2"],
    &["lmove", "k1", "str:a", "LEFT", "RIGHT"],
    &["del", "k0", "k1"],
    &["exists", "k5"],
    &["hset", "k1", "f", "v"],
    &["sort", "k1", "STORE", "k2"],
    &["config", "get", "x"],
    &["config", "set", "x", "y"],
    &["client", "kill", "1.2.3.4:5"],
    &["select", "0"],
    &["select", "1"],
    &["publish", "ch1", "m"],
    &["publish", "other", "m"],
    &["subscribe", "ch1", "x"],
    &["psubscribe", "ch*"],
    &["eval", "s", "1", "k1"],
    &["xadd", "k2", "*", "f", "v"],
    &["ping"],
    &["get"],
    &["nosuch"],
];

pub fn acl(g: &mut Gen) -> Cmd {
    let user = g.pick(USERS);
    match g.below(20) {
        0..=7 => {
            let mut c = Cmd::new("ACL").arg(g.word("SETUSER")).arg(user);
            for _ in 0..g.range(0, 5) {
                c.push(g.pick(RULES));
            }
            c
        }
        8..=10 => Cmd::new("ACL").arg(g.word("GETUSER")).arg(user).check(Check::AclRules),
        11 => Cmd::new("ACL").arg(g.word("LIST")).check(Check::AclRules),
        12..=14 => {
            let mut c = Cmd::new("ACL").arg(g.word("DRYRUN")).arg(if g.pct(90) { user } else { "nosuch" });
            for a in g.pick(DRYRUN) {
                c.push(a);
            }
            c
        }
        15 => Cmd::new("ACL").arg(g.word("USERS")),
        16 => Cmd::new("ACL").arg(g.word("DELUSER")).arg(user).arg(g.pick(USERS)),
        17 => match g.below(3) {
            0 => Cmd::new("ACL").arg(g.word("CAT")),
            1 => Cmd::new("ACL")
                .arg(g.word("CAT"))
                .arg(g.pick(&["read", "GEO", "nosuch", "admin"]))
                .check(Check::Unordered),
            _ => Cmd::new("ACL").arg(g.word("WHOAMI")),
        },
        18 => Cmd::new("ACL")
            .arg(g.word("GENPASS"))
            .arg(g.pick(&["1", "256", "0", "5000", "abc", "-1"]))
            .check(Check::Sized),
        _ => Cmd::new("ACL").arg(g.pick(&["NOSUCH", "LOAD", "SAVE", "HELP", "LOG"])).arg(g.pick(&["", "x", "RESET"])),
    }
}
