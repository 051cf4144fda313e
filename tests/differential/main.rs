//! Differential tester: sends the same generated command sequences to SableDB and to a real redis-server 7.0
//! and compares the replies byte for byte (see docs/compatibility.md).
//!
//! Usage (arguments after `--` of `cargo test --release -p sabledb --test differential`):
//! - `--seed S[,S…]` seeds to run (repeatable; default: a fixed list, bounded by `--time`),
//! - `--count N` commands per seed, `--time SECS` bound on the comparison time, `--resp 2|3|both`,
//! - `--keep-going` after a mismatch, start over from FLUSHALL and keep looking (one report per distinct
//!   mismatch) instead of stopping, `--shrink-time SECS` time budget for shrinking one mismatch,
//! - `--exclude NAME[,NAME…]` drop these commands from the generated sequences (to look past a known mismatch),
//! - `--only FAMILY[,FAMILY…]` draw commands only from these generator families (`gen::FAMILIES`: strings,
//!   bitmaps, keyspace, connection, hashes, lists, sets, zsets, transactions, pubsub, hll, geo),
//! - `--stats` print how often each command ran and how often redis-server rejected it (generator tuning),
//! - `--notify FLAGS` the servers' `notify-keyspace-events` (default `KEAn`).
//!
//! The process exits non-zero when any reply differed or the COMMAND table check failed. Modules: [`conn`]
//! (server processes, raw RESP), [`gen`] (the generator, one function per command family), [`compare`]
//! (running commands, the allowed normalisations), [`listen`] (the subscribers whose messages are compared after
//! every command: keyspace notifications, PUBLISH deliveries), [`shrink`] (delta debugging), [`shape`]
//! (COMMAND check).

// The integration tests' harness, for starting sabledb; it is their file, so rustfmt leaves it alone from here.
#[path = "../integration/common.rs"]
#[rustfmt::skip]
mod common;
mod compare;
mod conn;
mod gen;
mod listen;
mod shape;
mod shrink;

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use compare::{run_sequence, Mismatch, Outcome};
use conn::{brief, escape, proto, Pair};
use gen::Cmd;

/// The seeds a plain `cargo test` runs in this order, each in RESP2 and RESP3, with [`DEFAULT_COUNT`] commands,
/// until [`DEFAULT_TIME`] is up (a 2-core machine gets through most of them; a faster one through all).
const DEFAULT_SEEDS: std::ops::RangeInclusive<u64> = 1..=30;
const DEFAULT_COUNT: usize = 10_000;
/// The default run's time bound: with server start-up and the COMMAND check, ~45–60 s in all.
const DEFAULT_TIME: Duration = Duration::from_secs(48);
const DEFAULT_SHRINK_TIME: Duration = Duration::from_secs(60);
/// Keyspace events published during the comparison: every class, both channel kinds, and new keys (not
/// keymiss: SORT over a hash-table set looks its patterns up in the set's order, which differs).
const DEFAULT_NOTIFY: &str = "KEAn";
/// COMMAND table problems printed (a broken COMMAND INFO produces one per command).
const MAX_SHAPE_PROBLEMS: usize = 40;

struct Opts {
    seeds: Vec<u64>,
    count: usize,
    time: Option<Duration>,
    protocols: Vec<bool>,
    keep_going: bool,
    shrink_time: Duration,
    /// Upper-case command names removed from the generated sequences.
    exclude: Vec<String>,
    /// Generator families to draw from (all when empty).
    only: Vec<String>,
    stats: bool,
    /// `notify-keyspace-events` of both servers.
    notify: String,
}

/// What to do, from the command line. Options libtest would take (cargo passes them to every test target) are
/// tolerated; a name filter that does not select "differential" skips the run.
enum Parsed {
    Run(Opts),
    Skip,
    List,
}

fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut opts = Opts {
        seeds: Vec::new(),
        count: DEFAULT_COUNT,
        time: None,
        protocols: vec![false, true],
        keep_going: false,
        shrink_time: DEFAULT_SHRINK_TIME,
        exclude: Vec::new(),
        only: Vec::new(),
        stats: false,
        notify: DEFAULT_NOTIFY.into(),
    };
    let mut filters = Vec::new();
    let (mut exact, mut list, mut ignored_only) = (false, false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value =
            |what: &str| inline.clone().or_else(|| it.next().cloned()).ok_or(format!("{what} needs a value"));
        match flag {
            "--seed" => {
                for s in value("--seed")?.split(',') {
                    opts.seeds.push(s.trim().parse().map_err(|_| format!("bad seed {s:?}"))?);
                }
            }
            "--count" => opts.count = value("--count")?.parse().map_err(|_| "bad --count")?,
            "--time" => opts.time = Some(Duration::from_secs_f64(value("--time")?.parse().map_err(|_| "bad --time")?)),
            "--shrink-time" => {
                opts.shrink_time =
                    Duration::from_secs_f64(value("--shrink-time")?.parse().map_err(|_| "bad --shrink-time")?)
            }
            "--resp" => {
                opts.protocols = match value("--resp")?.as_str() {
                    "2" => vec![false],
                    "3" => vec![true],
                    "both" => vec![false, true],
                    other => return Err(format!("--resp takes 2, 3 or both, not {other:?}")),
                }
            }
            "--keep-going" => opts.keep_going = true,
            "--notify" => opts.notify = value("--notify")?,
            "--stats" => opts.stats = true,
            "--only" => opts.only.extend(value("--only")?.split(',').map(|n| n.trim().to_ascii_lowercase())),
            "--exclude" => opts.exclude.extend(value("--exclude")?.split(',').map(|n| n.trim().to_ascii_uppercase())),
            "--list" => list = true,
            "--exact" => exact = true,
            "--ignored" => ignored_only = true,
            "--test-threads" | "--skip" | "--color" | "--format" | "--logfile" | "--shuffle-seed" | "-Z" => {
                value(flag)?;
            }
            f if f.starts_with('-') => {}
            filter => filters.push(filter.to_string()),
        }
    }
    let selected = filters.is_empty()
        || filters.iter().any(|f| if exact { f == "differential" } else { "differential".contains(f.as_str()) });
    if list {
        return Ok(if selected { Parsed::List } else { Parsed::Skip });
    }
    if !selected || ignored_only {
        return Ok(Parsed::Skip);
    }
    if opts.seeds.is_empty() {
        opts.seeds = DEFAULT_SEEDS.collect();
        opts.time = opts.time.or(Some(DEFAULT_TIME));
    }
    Ok(Parsed::Run(opts))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::List) => {
            println!("differential: test");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Skip) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("differential: {e}");
            return ExitCode::from(2);
        }
    };
    let mut pair = match Pair::start() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("differential: {e}");
            return ExitCode::FAILURE;
        }
    };
    pair.notify = opts.notify.clone();
    let failures = run(&mut pair, &opts);
    drop(pair);
    if failures == 0 {
        println!("differential: all replies agree");
        ExitCode::SUCCESS
    } else {
        println!("differential: {failures} failure(s)");
        ExitCode::FAILURE
    }
}

/// Runs the COMMAND table check and every seed; returns the number of failures reported.
fn run(pair: &mut Pair, opts: &Opts) -> usize {
    let started = Instant::now();
    let mut failures = 0;
    let problems = shape::check(pair);
    if problems.is_empty() {
        println!("COMMAND table check: ok");
    } else {
        println!("COMMAND table check: {} problem(s)", problems.len());
        for p in problems.iter().take(MAX_SHAPE_PROBLEMS) {
            println!("  {p}");
        }
        if problems.len() > MAX_SHAPE_PROBLEMS {
            println!("  … and {} more", problems.len() - MAX_SHAPE_PROBLEMS);
        }
        failures += 1;
    }
    if opts.stats {
        pair.stats = Some(Default::default());
    }
    let deadline = opts.time.map(|t| started + t);
    let mut seen = HashSet::new();
    'seeds: for &seed in &opts.seeds {
        let mut cmds = gen::sequence(seed, opts.count, &opts.only);
        cmds.retain(|c| !opts.exclude.contains(&c.name()));
        for &resp3 in &opts.protocols {
            if deadline.is_some_and(|d| Instant::now() > d) {
                println!("time bound reached: seed {seed} RESP{} and later ones not run", proto(resp3));
                break 'seeds;
            }
            pair.resp3 = resp3;
            let t = Instant::now();
            let mut start = 0;
            let mut repeats = 0;
            while start < cmds.len() {
                match run_sequence(pair, &cmds[start..], deadline) {
                    Outcome::Clean { ran } => {
                        let end = start + ran;
                        let mut note = String::new();
                        if repeats > 0 {
                            note += &format!(", {repeats} mismatch(es) like earlier ones not reported again");
                        }
                        if end < cmds.len() {
                            note += " (stopped by the time bound)";
                        }
                        println!("seed {seed} RESP{}: {end} commands run in {:.1?}{note}", proto(resp3), t.elapsed());
                        break;
                    }
                    Outcome::Setup(e) => {
                        println!("seed {seed} RESP{}: cannot start the sequence: {e}", proto(resp3));
                        failures += 1;
                        break;
                    }
                    Outcome::Mismatch(m) => {
                        let (from, at) = (start, start + m.index);
                        start = at + 1;
                        if seen.insert(signature(&cmds[at], &m)) {
                            failures += 1;
                            report(pair, opts, seed, resp3, from, &cmds[from..=at], &m);
                            if !opts.keep_going {
                                break 'seeds;
                            }
                        } else {
                            repeats += 1;
                            println!(
                                "  (like an earlier mismatch) seed {seed} RESP{} #{at}: {}: sabledb {} / redis-server {}",
                                proto(resp3),
                                cmds[at].cli(),
                                brief(&m.replies.sable),
                                brief(&m.replies.redis)
                            );
                        }
                    }
                }
            }
        }
    }
    if let Some(stats) = &pair.stats {
        println!("command: times run, share answered with an error by redis-server");
        for (name, [n, errors]) in stats {
            println!("  {name:<12} {n:>7} {:>5.1}%", *errors as f64 * 100.0 / *n as f64);
        }
    }
    failures
}

/// Groups mismatches for `--keep-going`: the command name and the kind of each reply (an error's first three
/// words, which come before any quoted argument; a normalised reply's description up to its colon; the type byte
/// otherwise).
fn signature(cmd: &Cmd, m: &Mismatch) -> String {
    let kind = |r: &[u8]| -> String {
        let text = String::from_utf8_lossy(r);
        match r.first() {
            Some(b'-') => text.split(' ').take(3).collect::<Vec<_>>().join(" "),
            Some(b'<') => text.split(':').next().unwrap_or_default().to_string(),
            Some(&b) => (b as char).to_string(),
            None => String::new(),
        }
    };
    format!("{} {} {}", cmd.name(), kind(&m.replies.sable), kind(&m.replies.redis))
}

/// Shrinks `segment` (commands `from..` of the seed's sequence, run from empty servers, the last one disagreeing
/// with `m`) and prints the shortest reproduction found.
fn report(pair: &mut Pair, opts: &Opts, seed: u64, resp3: bool, from: usize, segment: &[Cmd], m: &Mismatch) {
    let at = from + m.index;
    println!();
    println!("=== MISMATCH: seed {seed}, RESP{}, command #{at}: {}", proto(resp3), segment[m.index].cli());
    print_replies(&m.replies.sable, &m.replies.redis);
    let mut rerun = format!("scripts/difftest.sh {seed} {} --resp {}", opts.count, proto(resp3));
    if !opts.exclude.is_empty() {
        rerun += &format!(" --exclude {}", opts.exclude.join(","));
    }
    println!("    rerun: {rerun}");
    let t = Instant::now();
    match shrink::shrink(pair, segment, opts.shrink_time) {
        Some(s) => {
            let how = if s.minimal { "" } else { " (shrink time budget ran out; may not be minimal)" };
            println!(
                "--- shrunk from {} to {} command(s) in {} replays, {:.1?}{how}; reproduce on empty servers with {}:",
                segment.len(),
                s.cmds.len(),
                s.tries,
                t.elapsed(),
                if resp3 { "redis-cli -3" } else { "redis-cli" }
            );
            println!("    FLUSHALL");
            for c in &s.cmds {
                println!("    {}", c.cli());
            }
            print_replies(&s.mismatch.replies.sable, &s.mismatch.replies.redis);
        }
        None => println!("--- did not reproduce when commands {from}..={at} were replayed from FLUSHALL"),
    }
    println!();
}

fn print_replies(sable: &[u8], redis: &[u8]) {
    println!("    sabledb:      {}", escape(sable));
    println!("    redis-server: {}", escape(redis));
}
