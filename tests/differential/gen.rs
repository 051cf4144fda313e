//! The command generator: a seeded, reproducible stream of commands over a deliberately small key space, so
//! that commands of every family collide on the same keys (wrong types, overwrites, renames onto live keys).
//!
//! One function per command family ([`strings`], [`bitmaps`], [`keyspace`], [`connection`]), listed with a
//! weight in [`FAMILIES`]; a new family is one more function and one more line there. Families draw their
//! arguments from the shared pools on [`Gen`] (keys, values, integers, floats, indexes, expiry times), which mix
//! ordinary values with the edge cases Redis is picky about: bad integers and floats, huge and negative numbers,
//! out-of-range indexes, binary and empty strings. On top of that every command may get its name in lower case
//! or its argument count broken (wrong arity).
//!
//! Determinism: nothing generated depends on timing. Relative TTLs are long and pairwise at least 1000 s apart
//! (so `GT`/`LT` comparisons between two relative expiries never hinge on the milliseconds between the two
//! servers), absolute times are either far in the future or in the past (which deletes the key on the spot in
//! both servers), and SET is never given a past absolute time (Redis would keep the dead key until its expiry
//! cycle runs, making DBSIZE timing-dependent).

mod acl;
mod dump;
mod geo;
mod hashes;
mod hll;
mod lists;
mod pubsub;
mod sets;
mod streams;
mod transactions;
mod zsets;

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How the two replies to a command are compared: byte for byte unless the command is one of the few whose
/// replies legitimately differ (each variant documents why; docs/compatibility.md lists them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    Exact,
    /// TTL, PTTL, EXPIRETIME, PEXPIRETIME: non-negative results may differ by up to this much, because a
    /// relative expiry is anchored to each server's own clock at a slightly different moment. -1 and -2 (and
    /// anything that is not an integer) must match exactly.
    Within(i64),
    /// KEYS: Redis lists keys in hash-table order, which depends on a hash seed chosen randomly at startup (two
    /// redis-servers disagree with each other); the elements are compared as a sorted list.
    Unordered,
    /// RANDOMKEY: each reply is checked for validity on its own server (a key that EXISTS, or nil iff DBSIZE is 0).
    RandomKey,
    /// SCAN, HSCAN, SSCAN, ZSCAN from cursor 0: cursors are opaque; each server's scan is followed to completion
    /// and the sorted unions of what they returned compared.
    ScanUnion,
    /// HGETALL, and the WITHSCORES/WITHVALUES forms of unordered replies: a flat array (RESP3: a map or an array
    /// of pairs) of pairs in Redis' hash-table order; the pairs are compared as a sorted list.
    UnorderedPairs,
    /// SRANDMEMBER, HRANDFIELD, ZRANDMEMBER: the elements are random, so only the reply's type and number of
    /// elements are compared (errors and nil byte for byte).
    Sized,
    /// DUMP: byte for byte, except payloads of a hash-table hash or set, whose element order is Redis' hashing
    /// order, which SableDB does not keep: their RDB type byte is compared. A
    /// sorted set's listpack against a skiplist passes: Redis' SORT converts the sorted set it sorts, SableDB's
    /// does not (docs/compatibility.md).
    Dump,
    /// ACL GETUSER and ACL LIST: byte for byte, except that the words of a rule description (`-@all +get +set`)
    /// are compared sorted: Redis emits single commands in its command dictionary's hash order.
    AclRules,
    /// XINFO STREAM: byte for byte except the value of `radix-tree-nodes`, the count of Redis' radix tree nodes
    /// (inner nodes included), which SableDB estimates (`radix-tree-keys`, the listpack nodes, is compared).
    StreamInfo,
}

/// One generated command.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub args: Vec<Vec<u8>>,
    pub check: Check,
    /// Never given a broken argument count: a blocking command whose timeout could become 0 would hang both
    /// servers, and a random pop cut short of its count would make their states diverge.
    pub fixed: bool,
}

impl Cmd {
    fn new(name: &str) -> Cmd {
        Cmd { args: vec![name.as_bytes().to_vec()], check: Check::Exact, fixed: false }
    }

    fn arg(mut self, a: impl AsRef<[u8]>) -> Cmd {
        self.args.push(a.as_ref().to_vec());
        self
    }

    fn push(&mut self, a: impl AsRef<[u8]>) {
        self.args.push(a.as_ref().to_vec());
    }

    fn fixed(mut self) -> Cmd {
        self.fixed = true;
        self
    }

    fn check(mut self, check: Check) -> Cmd {
        self.check = check;
        self
    }

    /// True when the command's reply inside EXEC can be compared byte for byte: compared exactly, and not
    /// OBJECT REFCOUNT (inside EXEC, Redis counts the reference the queued command's arguments still hold on a
    /// value stored by it, docs/compatibility.md).
    fn fits_in_transaction(&self) -> bool {
        let refcount = self.args.get(1).is_some_and(|a| a.eq_ignore_ascii_case(b"REFCOUNT"));
        self.check == Check::Exact && !(self.name() == "OBJECT" && refcount)
    }

    /// The command name in upper case (how mismatches are grouped).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(&self.args[0]).to_ascii_uppercase()
    }

    /// The command as a redis-cli input line.
    pub fn cli(&self) -> String {
        self.args.iter().map(|a| cli_word(a)).collect::<Vec<_>>().join(" ")
    }
}

/// One argument for redis-cli: bare when that is unambiguous, otherwise double-quoted with escapes.
fn cli_word(a: &[u8]) -> String {
    if !a.is_empty() && a.iter().all(|&b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\')) {
        String::from_utf8_lossy(a).into_owned()
    } else {
        crate::conn::escape(a)
    }
}

/// A command family: builds one random command.
pub type Family = fn(&mut Gen) -> Cmd;

/// Every family with its relative weight.
pub const FAMILIES: &[(&str, u32, Family)] = &[
    ("strings", 40, strings),
    ("bitmaps", 22, bitmaps),
    ("keyspace", 34, keyspace),
    ("connection", 4, connection),
    ("hashes", 30, hashes::hashes),
    ("lists", 30, lists::lists),
    ("sets", 30, sets::sets),
    ("zsets", 30, zsets::zsets),
    ("transactions", 12, transactions::transactions),
    ("pubsub", 6, pubsub::pubsub),
    ("hll", 16, hll::hll),
    ("geo", 16, geo::geo),
    ("dump", 16, dump::dump),
    ("acl", 8, acl::acl),
    ("streams", 24, streams::streams),
];

pub use dump::CAPTURED;

/// The shared key space: eight keys every family uses, a few per-type ones, and odd names (empty, glob
/// metacharacters, binary, UTF-8) that KEYS and SCAN patterns have to treat literally.
const KEYS: &[&str] = &["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
const TYPED_KEYS: &[&str] = &["str:a", "str:b", "bit:a", "bit:b"];
const ODD_KEYS: &[&[u8]] = &[b"", b"k*", b"k?x", b"k[1]", b"K0", b"k\\0", b"bin\x00\r\nkey", "cl\u{e9}".as_bytes()];

/// Values: numbers in every form Redis parses or rejects, binary, UTF-8, empty, and strings past the 44-byte
/// embedded-string limit.
const VALUES: &[&[u8]] = &[
    b"",
    b"0",
    b"1",
    b"-1",
    b"7",
    b"10",
    b"100",
    b"-100",
    b"abc",
    b"hello",
    b"hello world",
    b"foobar",
    b"ohmytext",
    b"mynewtext",
    b"\x00",
    b"a\x00b",
    b"\r\n",
    b"line1\r\nline2",
    "cl\u{e9} \u{fc} \u{65e5}\u{672c}".as_bytes(),
    b"\xff\xfe\x80",
    b"3.14",
    b"-2.5",
    b"1e3",
    b"1e400",
    b"inf",
    b"-inf",
    b"nan",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775808",
    b" 1",
    b"1 ",
    b"0x10",
    b"+1",
    b"007",
    b"1.5",
    b"12345678901234567890123456789012345678901234",
    b"123456789012345678901234567890123456789012345",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Integer arguments Redis must reject or treat specially.
const BAD_INTS: &[&str] = &[
    "abc",
    "1.5",
    "",
    " 1",
    "1 ",
    "+5",
    "0x1",
    "1e3",
    "inf",
    "-inf",
    "1e400",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "4294967296",
    "-4294967296",
    "2147483648",
    "00",
    "-0",
];

const FLOATS: &[&str] = &[
    "0",
    "1",
    "-1",
    "1.5",
    "-2.25",
    "0.1",
    "0.2",
    "3.0e1",
    "1e3",
    "1e-3",
    "5e-324",
    "1e308",
    "1.7976931348623157e308",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "1e400",
    "nan",
    "abc",
    "",
    " 1",
    "1.",
    ".5",
    "-0",
    "10",
    "1_0",
    "0x10",
    "123456789012345678",
    "17.5",
];

/// Far-future absolute times (unix seconds): past 2100, never near "now + a relative TTL".
const FUTURE_SECS: u64 = 4_102_444_800;
/// Absolute times in the past: applying one deletes the key immediately.
const PAST_SECS: &[&str] = &["1", "1000000000", "1600000000"];

/// Timeouts of blocking commands: short ones (every generated blocking command may find its keys empty, and
/// then both servers wait this long) and invalid ones. Never 0 or anything below a millisecond: that waits forever.
const BLOCK_TIMEOUTS: &[&str] = &["0.01", "0.01", "0.02", ".01", "1e-2", "-1", "abc", "nan", "-inf", "inf", ""];

/// Invalid or out-of-range expiry arguments.
const BAD_EXPIRY: &[&str] =
    &["0", "-1", "-1000", "abc", "1.5", "", "9223372036854775807", "-9223372036854775808", "9223372036854775808"];

/// The random state plus the pools every family draws from.
pub struct Gen {
    rng: StdRng,
    /// Relative TTLs handed out so far (in thousands of seconds): each is used once, see the module doc.
    used_ttls: HashSet<u64>,
    /// A MULTI is open (see `gen/transactions.rs`).
    in_multi: bool,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen { rng: StdRng::seed_from_u64(seed), used_ttls: HashSet::new(), in_multi: false }
    }

    /// True with probability `p` percent.
    fn pct(&mut self, p: u32) -> bool {
        self.rng.gen_range(0..100) < p
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.gen_range(0..n)
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo..=hi)
    }

    /// A blocking command's timeout (see [`BLOCK_TIMEOUTS`]).
    fn block_timeout(&mut self) -> &'static str {
        self.pick(BLOCK_TIMEOUTS)
    }

    /// A keyword, sometimes in lower or mixed case (Redis matches options case-insensitively).
    fn word(&mut self, w: &str) -> String {
        match self.below(10) {
            0 => w.to_ascii_lowercase(),
            1 => w.chars().enumerate().map(|(i, c)| if i % 2 == 0 { c.to_ascii_lowercase() } else { c }).collect(),
            _ => w.to_string(),
        }
    }

    /// One of `options`, through [`Gen::word`].
    fn keyword(&mut self, options: &[&str]) -> String {
        let w = self.pick(options);
        self.word(w)
    }

    pub fn key(&mut self) -> Vec<u8> {
        match self.below(20) {
            0..=15 => self.pick(KEYS).as_bytes().to_vec(),
            16 | 17 => self.pick(TYPED_KEYS).as_bytes().to_vec(),
            _ => self.pick(ODD_KEYS).to_vec(),
        }
    }

    fn keys(&mut self, min: usize, max: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(min..=max);
        (0..n).map(|_| self.key()).collect()
    }

    fn value(&mut self) -> Vec<u8> {
        match self.below(10) {
            0..=6 => self.pick(VALUES).to_vec(),
            7 | 8 => {
                // Short random strings over a tiny alphabet, so LCS and BITOP have something in common to find.
                let n = self.below(9);
                (0..n).map(|_| self.pick(b"ab01 \x00\xff")).collect()
            }
            _ => self.range(-1000, 1000).to_string().into_bytes(),
        }
    }

    /// An integer argument: mostly small and valid, sometimes extreme or malformed.
    fn int(&mut self) -> Vec<u8> {
        match self.below(10) {
            0..=6 => self.range(-5, 20).to_string().into_bytes(),
            7 => self.range(-100_000, 100_000).to_string().into_bytes(),
            _ => self.pick(BAD_INTS).as_bytes().to_vec(),
        }
    }

    /// A range index (GETRANGE, BITCOUNT…): around the length of typical values, sometimes extreme or malformed.
    fn index(&mut self) -> Vec<u8> {
        match self.below(12) {
            0..=9 => self.range(-12, 12).to_string().into_bytes(),
            10 => self.pick(&["-100", "100", "9223372036854775807", "-9223372036854775808"]).as_bytes().to_vec(),
            _ => self.pick(BAD_INTS).as_bytes().to_vec(),
        }
    }

    fn float(&mut self) -> Vec<u8> {
        if self.pct(30) {
            return format!("{}.{}", self.range(-50, 50), self.range(0, 99)).into_bytes();
        }
        self.pick(FLOATS).as_bytes().to_vec()
    }

    /// A relative TTL in seconds: a multiple of 1000 s not used before in this sequence, at most ~3 years (far
    /// from the absolute [`FUTURE_SECS`]). Once random picks keep colliding, fresh values continue past the range.
    fn rel_secs(&mut self) -> u64 {
        for _ in 0..100 {
            let k = self.rng.gen_range(1..=100_000u64);
            if self.used_ttls.insert(k) {
                return k * 1000;
            }
        }
        let k = 100_001 + self.used_ttls.len() as u64;
        self.used_ttls.insert(k);
        k * 1000
    }

    /// A valid expiry argument, or (sometimes) an invalid one. `ms` selects milliseconds; `absolute` unix time.
    /// Past absolute times are only offered when `past_ok` (they delete the key).
    fn expiry(&mut self, ms: bool, absolute: bool, past_ok: bool) -> Vec<u8> {
        let scale = if ms { 1000 } else { 1 };
        match self.below(10) {
            0..=5 if absolute => (FUTURE_SECS * scale + self.range(0, 1000) as u64 * scale).to_string().into_bytes(),
            0..=5 => (self.rel_secs() * scale).to_string().into_bytes(),
            6 | 7 if past_ok && absolute => {
                let s: u64 = self.pick(PAST_SECS).parse().unwrap_or(1);
                (s * scale).to_string().into_bytes()
            }
            6 | 7 if past_ok => self.pick(&["0", "-1", "-1000"]).as_bytes().to_vec(),
            _ => self.pick(BAD_EXPIRY).as_bytes().to_vec(),
        }
    }

    /// A database index: mostly 0..3, sometimes out of range or malformed.
    fn db(&mut self) -> Vec<u8> {
        if self.pct(85) {
            return self.range(0, 3).to_string().into_bytes();
        }
        self.pick(&["16", "15", "-1", "abc", "1.5", "", "9223372036854775808"]).as_bytes().to_vec()
    }

    fn pattern(&mut self) -> Vec<u8> {
        const PATTERNS: &[&[u8]] = &[
            b"*",
            b"k*",
            b"k?",
            b"k[0-3]",
            b"k[^0-3]",
            b"k[a-c]",
            b"k[3-0]",
            b"k[!1]",
            b"k\\*",
            b"k\\?x",
            b"k\\[1\\]",
            b"k[[]1]",
            b"\\k*",
            b"*:*",
            b"str:?",
            b"bit:*",
            b"K*",
            b"*\x00*",
            b"cl*",
            b"",
            b"**",
            b"k[",
            b"k[0-",
            b"[",
            b"*\\",
            b"?",
            b"???",
            b"k[\\]]",
            b"*a",
        ];
        self.pick(PATTERNS).to_vec()
    }

    /// Mutations applied to every generated command: lower-case name, broken argument count.
    fn mutate(&mut self, mut cmd: Cmd) -> Cmd {
        if self.pct(10) {
            cmd.args[0] = cmd.args[0].to_ascii_lowercase();
        }
        if self.pct(3) && !cmd.fixed {
            if cmd.args.len() > 1 && self.pct(60) {
                let n = self.rng.gen_range(1..cmd.args.len());
                cmd.args.truncate(n);
            } else {
                let extra = self.value();
                cmd.push(extra);
            }
        }
        cmd
    }
}

/// A reproducible sequence of `count` commands, drawn from the named families (all when `only` is empty).
pub fn sequence(seed: u64, count: usize, only: &[String]) -> Vec<Cmd> {
    let mut g = Gen::new(seed);
    let families: Vec<&(&str, u32, Family)> =
        FAMILIES.iter().filter(|f| only.is_empty() || only.iter().any(|o| o == f.0)).collect();
    let total: u32 = families.iter().map(|f| f.1).sum();
    (0..count)
        .map(|_| {
            loop {
                let mut r = g.rng.gen_range(0..total.max(1));
                let mut family = FAMILIES[0].2;
                for &&(_, weight, f) in &families {
                    if r < weight {
                        family = f;
                        break;
                    }
                    r -= weight;
                }
                let cmd = family(&mut g);
                // Inside MULTI a reply is part of EXEC's, compared byte for byte: only exact commands go in.
                if !g.in_multi || cmd.fits_in_transaction() {
                    return g.mutate(cmd);
                }
            }
        })
        .collect()
}

/// GET, SET (every option), APPEND, INCR/DECR/INCRBY/DECRBY/INCRBYFLOAT, GETRANGE, SETRANGE, STRLEN, MGET, MSET,
/// MSETNX, GETSET, GETDEL, GETEX, SETNX, SETEX, PSETEX, LCS, SUBSTR.
pub fn strings(g: &mut Gen) -> Cmd {
    let k = g.key();
    match g.below(26) {
        0..=2 => Cmd::new("GET").arg(k),
        3..=6 => set(g, k),
        7 => Cmd::new("APPEND").arg(k).arg(g.value()),
        8 => Cmd::new("INCR").arg(k),
        9 => Cmd::new("DECR").arg(k),
        10 => Cmd::new("INCRBY").arg(k).arg(g.int()),
        11 => Cmd::new("DECRBY").arg(k).arg(g.int()),
        12 => Cmd::new("INCRBYFLOAT").arg(k).arg(g.float()),
        13 => Cmd::new("GETRANGE").arg(k).arg(g.index()).arg(g.index()),
        14 => Cmd::new("SUBSTR").arg(k).arg(g.index()).arg(g.index()),
        15 => {
            let offset = match g.below(10) {
                0..=7 => g.range(0, 40).to_string().into_bytes(),
                8 => g.pick(&["-1", "536870912", "4294967296", "9223372036854775807"]).as_bytes().to_vec(),
                _ => g.pick(BAD_INTS).as_bytes().to_vec(),
            };
            Cmd::new("SETRANGE").arg(k).arg(offset).arg(g.value())
        }
        16 => Cmd::new("STRLEN").arg(k),
        17 => {
            let mut c = Cmd::new("MGET").arg(k);
            for key in g.keys(0, 4) {
                c.push(key);
            }
            c
        }
        18 | 19 => {
            let mut c = Cmd::new(if g.pct(60) { "MSET" } else { "MSETNX" });
            c.push(k);
            c.push(g.value());
            for _ in 0..g.below(3) {
                c.push(g.key());
                c.push(g.value());
            }
            c
        }
        20 => Cmd::new("GETSET").arg(k).arg(g.value()),
        21 => Cmd::new("GETDEL").arg(k),
        22 => getex(g, k),
        23 => Cmd::new("SETNX").arg(k).arg(g.value()),
        24 => {
            if g.pct(50) {
                Cmd::new("SETEX").arg(k).arg(g.expiry(false, false, false)).arg(g.value())
            } else {
                Cmd::new("PSETEX").arg(k).arg(g.expiry(true, false, false)).arg(g.value())
            }
        }
        _ => lcs(g, k),
    }
}

/// SET with a random subset of its options, in random order, sometimes conflicting or malformed.
fn set(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("SET").arg(k).arg(g.value());
    for _ in 0..g.below(4) {
        match g.below(9) {
            0 => c.push(g.word("NX")),
            1 => c.push(g.word("XX")),
            2 => c.push(g.word("GET")),
            3 => c.push(g.word("KEEPTTL")),
            4 => {
                c.push(g.word("EX"));
                c.push(g.expiry(false, false, false));
            }
            5 => {
                c.push(g.word("PX"));
                c.push(g.expiry(true, false, false));
            }
            6 => {
                c.push(g.word("EXAT"));
                c.push(g.expiry(false, true, false));
            }
            7 => {
                c.push(g.word("PXAT"));
                c.push(g.expiry(true, true, false));
            }
            _ => c.push(g.pick(&["EX", "PX", "FOO", "NXX", ""])),
        }
    }
    c
}

fn getex(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("GETEX").arg(k);
    match g.below(8) {
        0 | 1 => {}
        2 => {
            c.push(g.word("EX"));
            c.push(g.expiry(false, false, false));
        }
        3 => {
            c.push(g.word("PX"));
            c.push(g.expiry(true, false, false));
        }
        4 => {
            c.push(g.word("EXAT"));
            c.push(g.expiry(false, true, true));
        }
        5 => {
            c.push(g.word("PXAT"));
            c.push(g.expiry(true, true, true));
        }
        6 => c.push(g.word("PERSIST")),
        _ => {
            // Conflicting or malformed options.
            c.push(g.pick(&["PERSIST", "EX", "FOO"]));
            c.push(g.pick(&["EX", "PERSIST", "100000", "KEEPTTL"]));
        }
    }
    c
}

fn lcs(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let mut c = Cmd::new("LCS").arg(k).arg(g.key());
    for _ in 0..g.below(4) {
        match g.below(5) {
            0 => c.push(g.word("LEN")),
            1 => c.push(g.word("IDX")),
            2 => c.push(g.word("WITHMATCHLEN")),
            3 => {
                c.push(g.word("MINMATCHLEN"));
                c.push(if g.pct(80) { g.range(-1, 4).to_string().into_bytes() } else { g.int() });
            }
            _ => c.push(g.pick(&["FOO", "MINMATCHLEN"])),
        }
    }
    c
}

/// A bit offset: small, sometimes negative, past 2^32 bits, or malformed. Only reads get the largest valid
/// offset: writing there makes Redis allocate a 512 MB string.
fn bit_offset(g: &mut Gen, read: bool) -> Vec<u8> {
    match g.below(10) {
        0..=7 => g.range(0, 70).to_string().into_bytes(),
        8 if read && g.pct(30) => b"4294967295".to_vec(),
        8 => g.pick(&["-1", "4294967296", "9223372036854775807"]).as_bytes().to_vec(),
        // 2^31 is a valid offset too (a 256 MB string): reads only.
        _ => loop {
            let v = g.pick(BAD_INTS);
            if read || v != "2147483648" {
                break v.as_bytes().to_vec();
            }
        },
    }
}

/// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
pub fn bitmaps(g: &mut Gen) -> Cmd {
    let k = if g.pct(30) { g.pick(&["bit:a", "bit:b"]).as_bytes().to_vec() } else { g.key() };
    match g.below(12) {
        0..=2 => {
            let bit = if g.pct(90) { g.pick(&["0", "1"]) } else { g.pick(&["2", "-1", "abc", ""]) };
            Cmd::new("SETBIT").arg(k).arg(bit_offset(g, false)).arg(bit)
        }
        3 => Cmd::new("GETBIT").arg(k).arg(bit_offset(g, true)),
        4 | 5 => {
            let mut c = Cmd::new("BITCOUNT").arg(k);
            if g.pct(70) {
                c.push(g.index());
                c.push(g.index());
                if g.pct(40) {
                    c.push(g.keyword(&["BYTE", "BIT", "BITS"]));
                }
            } else if g.pct(20) {
                c.push(g.index());
            }
            c
        }
        6 | 7 => {
            let bit = if g.pct(90) { g.pick(&["0", "1"]) } else { g.pick(&["2", "-1", "x"]) };
            let mut c = Cmd::new("BITPOS").arg(k).arg(bit);
            for _ in 0..g.below(3) {
                c.push(g.index());
            }
            if c.args.len() >= 4 && g.pct(40) {
                if c.args.len() == 4 {
                    c.push(g.index());
                }
                c.push(g.keyword(&["BYTE", "BIT", "BITS"]));
            }
            c
        }
        8 => {
            let op = g.keyword(&["AND", "OR", "XOR", "NOT", "NAND"]);
            let mut c = Cmd::new("BITOP").arg(op).arg(k);
            for key in g.keys(1, 3) {
                c.push(key);
            }
            c
        }
        9 | 10 => bitfield(g, k, "BITFIELD"),
        _ => bitfield(g, k, "BITFIELD_RO"),
    }
}

fn bitfield(g: &mut Gen, k: Vec<u8>, name: &str) -> Cmd {
    const TYPES: &[&str] = &["u1", "u8", "i8", "u16", "i16", "u32", "i32", "u63", "i64", "i1", "u5", "i13"];
    const BAD_TYPES: &[&str] = &["u64", "i65", "x8", "u0", "i", ""];
    let mut c = Cmd::new(name).arg(k);
    let read_only = name == "BITFIELD_RO";
    for _ in 0..g.range(0, 3) {
        let ty = if g.pct(92) { g.pick(TYPES) } else { g.pick(BAD_TYPES) };
        let offset = match g.below(10) {
            0..=6 => g.range(0, 40).to_string(),
            7 | 8 => format!("#{}", g.range(0, 5)),
            _ => g.pick(&["-1", "#-1", "abc", "4294967296"]).to_string(),
        };
        let sub = if read_only && g.pct(85) { 0 } else { g.below(4) };
        match sub {
            0 => {
                c.push(g.word("GET"));
                c.push(ty);
                c.push(offset);
            }
            1 => {
                c.push(g.word("SET"));
                c.push(ty);
                c.push(offset);
                c.push(g.int());
            }
            2 => {
                c.push(g.word("INCRBY"));
                c.push(ty);
                c.push(offset);
                c.push(g.int());
            }
            _ => {
                c.push(g.word("OVERFLOW"));
                c.push(g.keyword(&["WRAP", "SAT", "FAIL", "BOGUS"]));
            }
        }
    }
    c
}

/// DEL, UNLINK, EXISTS, TOUCH, TYPE, the expiry commands, PERSIST, RENAME, RENAMENX, COPY, MOVE, KEYS, SCAN,
/// DBSIZE, RANDOMKEY, SELECT, SWAPDB, FLUSHDB, OBJECT ENCODING/REFCOUNT.
pub fn keyspace(g: &mut Gen) -> Cmd {
    let k = g.key();
    match g.below(100) {
        0..=5 => {
            let mut c = Cmd::new(if g.pct(70) { "DEL" } else { "UNLINK" }).arg(k);
            for key in g.keys(0, 2) {
                c.push(key);
            }
            c
        }
        6..=11 => {
            let mut c = Cmd::new(if g.pct(75) { "EXISTS" } else { "TOUCH" }).arg(k.clone());
            for key in g.keys(0, 3) {
                c.push(key);
            }
            if g.pct(20) {
                c.push(k); // the same key twice counts twice
            }
            c
        }
        12..=16 => Cmd::new("TYPE").arg(k),
        17..=34 => expire(g, k),
        35..=44 => {
            let name = g.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]);
            let tolerance = if name.starts_with('P') { 2000 } else { 2 };
            Cmd::new(name).arg(k).check(Check::Within(tolerance))
        }
        45..=47 => Cmd::new("PERSIST").arg(k),
        48..=51 => Cmd::new(if g.pct(60) { "RENAME" } else { "RENAMENX" }).arg(k).arg(g.key()),
        52..=56 => {
            let mut c = Cmd::new("COPY").arg(k).arg(g.key());
            for _ in 0..g.below(3) {
                if g.pct(50) {
                    c.push(g.word("REPLACE"));
                } else {
                    c.push(g.word("DB"));
                    c.push(g.db());
                }
            }
            if g.pct(5) {
                c.push("BOGUS");
            }
            c
        }
        57..=59 => Cmd::new("MOVE").arg(k).arg(g.db()),
        60..=64 => Cmd::new("KEYS").arg(g.pattern()).check(Check::Unordered),
        65..=70 => {
            let cursor = if g.pct(92) { "0" } else { g.pick(&["abc", "", " 0", "0x", "1.5", "18446744073709551616"]) };
            let mut c = Cmd::new("SCAN").arg(cursor).check(Check::ScanUnion);
            for _ in 0..g.below(3) {
                match g.below(4) {
                    0 | 1 => {
                        c.push(g.word("MATCH"));
                        c.push(g.pattern());
                    }
                    2 => {
                        c.push(g.word("COUNT"));
                        c.push(if g.pct(80) { g.range(1, 20).to_string().into_bytes() } else { g.int() });
                    }
                    _ => {
                        c.push(g.word("TYPE"));
                        c.push(g.pick(&["string", "STRING", "list", "hash", "set", "zset", "stream", "bogus"]));
                    }
                }
            }
            c
        }
        71..=74 => Cmd::new("DBSIZE"),
        75..=77 => Cmd::new("RANDOMKEY").check(Check::RandomKey),
        78..=83 => Cmd::new("SELECT").arg(g.db()),
        84..=86 => Cmd::new("SWAPDB").arg(g.db()).arg(g.db()),
        87 => {
            let mut c = Cmd::new("FLUSHDB");
            if g.pct(50) {
                c.push(g.keyword(&["ASYNC", "SYNC", "BOGUS"]));
            }
            c
        }
        88..=92 => Cmd::new("OBJECT").arg(g.word("ENCODING")).arg(k),
        93..=95 => Cmd::new("OBJECT").arg(g.word("REFCOUNT")).arg(k),
        // The rest: more string keys for everything else to act on.
        _ => Cmd::new("SET").arg(k).arg(g.value()),
    }
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT (sometimes conflicting or unknown options).
fn expire(g: &mut Gen, k: Vec<u8>) -> Cmd {
    let (name, ms, absolute) = g.pick(&[
        ("EXPIRE", false, false),
        ("PEXPIRE", true, false),
        ("EXPIREAT", false, true),
        ("PEXPIREAT", true, true),
    ]);
    let mut c = Cmd::new(name).arg(k).arg(g.expiry(ms, absolute, true));
    match g.below(20) {
        0..=11 => {}
        12..=18 => c.push(g.keyword(&["NX", "XX", "GT", "LT"])),
        _ => {
            c.push(g.keyword(&["NX", "XX", "GT", "LT", "FOO"]));
            c.push(g.keyword(&["NX", "XX", "GT", "LT"]));
        }
    }
    c
}

/// PING, ECHO, and names no server knows (their errors quote the name and arguments back).
pub fn connection(g: &mut Gen) -> Cmd {
    match g.below(8) {
        0..=2 => Cmd::new("PING"),
        3 | 4 => Cmd::new("PING").arg(g.value()),
        5 | 6 => Cmd::new("ECHO").arg(g.value()),
        _ => {
            let mut c =
                if g.pct(50) { Cmd::new("NOSUCHCMD") } else { Cmd::new("OBJECT").arg(g.keyword(&["NOSUCH", "GET"])) };
            for _ in 0..g.below(4) {
                c.push(g.value());
            }
            c
        }
    }
}
