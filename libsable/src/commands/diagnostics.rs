//! Diagnostics: SLOWLOG (GET, LEN, RESET, HELP) and LATENCY (LATEST, HISTORY, RESET, DOCTOR, GRAPH, HISTOGRAM,
//! HELP), with the state they read ([`Diagnostics`], one per server) and the hook every command passes through
//! ([`record`]).
//!
//! As in Redis 7.0:
//! - The slow log keeps the newest `slowlog-max-len` commands whose execution took at least
//!   `slowlog-log-slower-than` microseconds (negative: off, 0: every command). An entry is `[id, unix time,
//!   duration µs, argv, client ip:port, client name]`; at most 32 arguments are kept (the last one then says how
//!   many more there were) and each is cut to 128 bytes. Secrets are redacted as Redis does (AUTH, HELLO … AUTH,
//!   CONFIG SET requirepass/masterauth/masteruser, MIGRATE AUTH/AUTH2, ACL SETUSER). Commands flagged
//!   `skip_slowlog` (EXEC) are not logged, the commands of a transaction are, one by one. A blocking command is
//!   logged when it is served, not when it blocks, and not at all when it times out.
//! - The latency monitor (`latency-monitor-threshold` ms, 0: off) keeps, per event, the worst latency of each
//!   second for the last 160 seconds in which it fired, and the all-time worst. SableDB's events are `command`
//!   (and `fast-command` for commands flagged `fast`), measured around each command as Redis' `call()` does, and
//!   `expire-cycle` (one pass of the active expiry job).
//! - Each command keeps Redis' HDR latency histogram ([`crate::util::hdr`], one relaxed increment a call;
//!   `latency-tracking no` turns it off, CONFIG RESETSTAT clears it). LATENCY HISTOGRAM reports, per command,
//!   Redis' exact reply: `calls` and `histogram_usec`, the cumulative count at each of Redis' bucket bounds (1, 2,
//!   4, 8, 16, 33, 66… µs: the power-of-two nanosecond buckets of the histogram as it prints them). INFO
//!   latencystats prints the percentiles of `latency-tracking-info-percentiles` ([`Diagnostics::latency_stats`]).
//!
//! The per-command cost when nothing is logged is three relaxed loads and compares (see [`record`]).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use super::connection::help_reply;
use super::{flags, table, Args, CmdError, CmdResult, Command, Ctx, Handler};
use crate::client::Client;
use crate::config::Config;
use crate::server::Server;
use crate::util::{arg_text, eq_ic, now_us, parse_i64};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("slowlog|get", slowlog_get),
    ("slowlog|len", slowlog_len),
    ("slowlog|reset", slowlog_reset),
    ("slowlog|help", slowlog_help),
    ("latency|latest", latency_latest),
    ("latency|history", latency_history),
    ("latency|reset", latency_reset),
    ("latency|doctor", latency_doctor),
    ("latency|graph", latency_graph),
    ("latency|histogram", latency_histogram),
    ("latency|help", latency_help),
];

/// Arguments kept per slow log entry, and bytes kept per argument (Redis' `SLOWLOG_ENTRY_MAX_ARGC`/`_STRING`).
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

/// Seconds of history per latency event (Redis' `LATENCY_TS_LEN`).
const LATENCY_TS_LEN: usize = 160;

/// Buckets LATENCY HISTOGRAM prints (see [`histogram_bucket`]).
const HISTOGRAM_BUCKETS: usize = 21;

/// The bound Redis prints for histogram bucket `k`: its HDR histogram (1 ns to 1 s, two significant digits) read
/// with a logarithmic iterator from 1024 ns, base 2, labels each bucket with the highest value equivalent to
/// `1024·2^k` ns (that value plus its sub-bucket width minus one), in whole microseconds.
const fn histogram_bound(k: usize) -> u64 {
    ((1u64 << (10 + k)) + (1u64 << (3 + k)) - 1) / 1000
}

/// [`histogram_bound`] of every bucket: 1, 2, 4, 8, 16, 33, 66, 132 … 1082130.
const HISTOGRAM_BOUNDS: [u64; HISTOGRAM_BUCKETS] = {
    let mut b = [0; HISTOGRAM_BUCKETS];
    let mut k = 0;
    while k < HISTOGRAM_BUCKETS {
        b[k] = histogram_bound(k);
        k += 1;
    }
    b
};

/// The bucket a duration of `usec` falls in: the first whose bound is at least `usec` (Redis records durations
/// in nanoseconds clamped to 1 s, so longer ones land in the last bucket).
fn histogram_bucket(usec: u64) -> usize {
    let usec = usec.min(1_000_000);
    if usec <= 1 {
        return 0;
    }
    // The first power of two at or above `usec`; the bound just below it is a little above the power of two
    // before, so it may hold `usec` too.
    let k = (u64::BITS - (usec - 1).leading_zeros()) as usize;
    if usec <= HISTOGRAM_BOUNDS[k - 1] {
        k - 1
    } else {
        k.min(HISTOGRAM_BUCKETS - 1)
    }
}

/// One slow log entry.
struct SlowEntry {
    id: u64,
    time: i64,
    usec: u64,
    argv: Vec<Bytes>,
    peer: String,
    name: String,
}

#[derive(Default)]
struct SlowLog {
    /// Newest first.
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

/// One latency sample: the unix second it happened in and the worst latency of that second, in ms.
#[derive(Clone, Copy, Default)]
struct Sample {
    time: i32,
    latency: u32,
}

/// Redis' `latencyTimeSeries`: a ring of the last [`LATENCY_TS_LEN`] samples and the all-time maximum.
struct TimeSeries {
    /// Where the next sample goes.
    idx: usize,
    max: u32,
    samples: [Sample; LATENCY_TS_LEN],
}

impl TimeSeries {
    fn new() -> Self {
        TimeSeries { idx: 0, max: 0, samples: [Sample::default(); LATENCY_TS_LEN] }
    }

    fn add(&mut self, now: i32, latency: u32) {
        self.max = self.max.max(latency);
        let prev = (self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        // A second already sampled keeps its worst latency.
        if self.samples[prev].time == now {
            self.samples[prev].latency = self.samples[prev].latency.max(latency);
            return;
        }
        self.samples[self.idx] = Sample { time: now, latency };
        self.idx = (self.idx + 1) % LATENCY_TS_LEN;
    }

    /// The samples taken, oldest first.
    fn in_order(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..LATENCY_TS_LEN).map(|j| self.samples[(self.idx + j) % LATENCY_TS_LEN]).filter(|s| s.time != 0)
    }

    fn latest(&self) -> Sample {
        self.samples[(self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
    }
}

/// Slow log, latency events and the configuration they act on (hot copies, refreshed by
/// [`Diagnostics::configure`] after every CONFIG SET).
pub struct Diagnostics {
    /// `slowlog-log-slower-than` in µs; `u64::MAX` when the slow log is off.
    slow_usec: AtomicU64,
    slow_max_len: AtomicU64,
    /// `latency-monitor-threshold` in µs; `u64::MAX` when the monitor is off.
    latency_usec: AtomicU64,
    /// `latency-tracking`: per-command histograms on.
    tracking: AtomicBool,
    /// `latency-tracking-info-percentiles`, as INFO latencystats labels them (`50`, `99.9`) and their values.
    percentiles: Mutex<Vec<(String, f64)>>,
    slowlog: Mutex<SlowLog>,
    /// Event name → its samples.
    events: Mutex<BTreeMap<String, TimeSeries>>,
    /// The process' resident memory when the server had started (MEMORY STATS `startup.allocated`).
    pub startup_rss: u64,
}

impl Default for Diagnostics {
    fn default() -> Self {
        Diagnostics::new(0)
    }
}

impl Diagnostics {
    pub fn new(startup_rss: u64) -> Self {
        Diagnostics {
            slow_usec: AtomicU64::new(u64::MAX),
            slow_max_len: AtomicU64::new(128),
            latency_usec: AtomicU64::new(u64::MAX),
            tracking: AtomicBool::new(true),
            percentiles: Mutex::new(Vec::new()),
            slowlog: Mutex::new(SlowLog::default()),
            events: Mutex::new(BTreeMap::new()),
            startup_rss,
        }
    }

    /// Takes the current values of the parameters it acts on.
    pub fn configure(&self, cfg: &Config) {
        let slower = cfg.int("slowlog-log-slower-than");
        self.slow_usec.store(u64::try_from(slower).unwrap_or(u64::MAX), Ordering::Relaxed);
        let max_len = cfg.int("slowlog-max-len").max(0) as u64;
        self.slow_max_len.store(max_len, Ordering::Relaxed);
        let ms = cfg.int("latency-monitor-threshold").max(0) as u64;
        self.latency_usec.store(if ms == 0 { u64::MAX } else { ms.saturating_mul(1000) }, Ordering::Relaxed);
        self.tracking.store(cfg.str("latency-tracking") == "yes", Ordering::Relaxed);
        // Stored in its canonical form (see `config`): numbers in range, shown as Redis trims them.
        *self.percentiles.lock() = cfg
            .str("latency-tracking-info-percentiles")
            .split_whitespace()
            .filter_map(|p| Some((p.to_string(), p.parse().ok()?)))
            .collect();
        // Redis trims the log to a lowered length with the next command it considers (itself, CONFIG SET); with
        // the log off it considers none.
        if slower >= 0 {
            let mut log = self.slowlog.lock();
            log.entries.truncate(max_len.try_into().unwrap_or(usize::MAX));
        }
    }

    /// INFO latencystats: for each command with a histogram, `latency_percentiles_usec_<name>:p50=…,p99=…` in
    /// microseconds with three decimals (Redis' `fillPercentileDistributionLatencies`).
    pub fn latency_stats(&self, s: &mut String) {
        let percentiles = self.percentiles.lock().clone();
        for cmd in &table().entries {
            let Some(hist) = cmd.stats.latency.snapshot() else { continue };
            let _ = write!(s, "latency_percentiles_usec_{}:", cmd.name);
            for (i, (label, p)) in percentiles.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(s, "{sep}p{label}={:.3}", hist.value_at_percentile(*p) as f64 / 1000.0);
            }
            s.push_str("\r\n");
        }
    }

    /// True when events of `ms` milliseconds are recorded (`latencyAddSampleIfNeeded`'s test).
    pub fn latency_monitored(&self, ms: u64) -> bool {
        ms.saturating_mul(1000) >= self.latency_usec.load(Ordering::Relaxed)
    }

    /// Records a latency sample of `ms` milliseconds for `event` (the caller checked the threshold).
    #[cold]
    pub fn latency_event(&self, event: &str, ms: u64) {
        let now = (now_us() / 1_000_000) as i32;
        let latency = u32::try_from(ms).unwrap_or(u32::MAX);
        let mut events = self.events.lock();
        match events.get_mut(event) {
            Some(ts) => ts.add(now, latency),
            None => {
                let mut ts = TimeSeries::new();
                ts.add(now, latency);
                events.insert(event.to_string(), ts);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn log_slow(&self, client: &Client, cmd: &Command, argv: &[Bytes], usec: u64) {
        if cmd.has(flags::SKIP_SLOWLOG) {
            return;
        }
        let max_len = usize::try_from(self.slow_max_len.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let entry_argv = slowlog_argv(&cmd.name, argv);
        let peer = client.info.addr.clone();
        let name = client.info.name.lock().clone().unwrap_or_default();
        let time = (now_us() / 1_000_000) as i64;
        let mut log = self.slowlog.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(SlowEntry { id, time, usec, argv: entry_argv, peer, name });
        log.entries.truncate(max_len);
    }
}

/// What every command reports once it has run (from `commands::run`): its latency histogram, a latency event
/// when it took the monitor's threshold or more, a slow log entry when it took the slow log's. A command that
/// blocked (it runs again when served) counts for neither the histogram nor the slow log, as in Redis.
#[inline]
pub fn record(server: &Server, client: &Client, cmd: &Command, argv: &[Bytes], usec: u64) {
    let d = &server.diag;
    let blocked = client.block.is_some();
    if d.tracking.load(Ordering::Relaxed) && !blocked {
        cmd.stats.latency.record(usec);
    }
    if usec >= d.latency_usec.load(Ordering::Relaxed) {
        d.latency_event(if cmd.has(flags::FAST) { "fast-command" } else { "command" }, usec / 1000);
    }
    if usec >= d.slow_usec.load(Ordering::Relaxed) && !blocked {
        d.log_slow(client, cmd, argv, usec);
    }
}

/// The configuration parameters whose values Redis never shows (`SENSITIVE_CONFIG`).
const SENSITIVE_CONFIGS: &[&str] = &["requirepass", "masterauth", "masteruser"];

/// Which arguments of `argv` (a run of the command named `name`) Redis replaces with `(redacted)` in what it logs
/// (`redactClientCommandArgument`: the slow log and MONITOR), following each command's own parsing up to where it
/// would stop.
pub(crate) fn redacted(name: &str, argv: &[Bytes]) -> Vec<usize> {
    let argc = argv.len();
    let mut out = Vec::new();
    match name {
        "auth" if argc <= 3 => out.extend(1..argc),
        "hello" if argc >= 2 => {
            if !parse_i64(&argv[1]).is_some_and(|v| (2..=3).contains(&v)) {
                return out;
            }
            let mut j = 2;
            while j < argc {
                let more = argc - 1 - j;
                if eq_ic(&argv[j], b"auth") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 2;
                } else if eq_ic(&argv[j], b"setname") && more >= 1 {
                    j += 1;
                } else {
                    break;
                }
                j += 1;
            }
        }
        "config|set" if argc.is_multiple_of(2) => {
            for j in (2..argc.saturating_sub(1)).step_by(2) {
                if SENSITIVE_CONFIGS.iter().any(|c| eq_ic(&argv[j], c.as_bytes())) {
                    out.push(j + 1);
                }
            }
        }
        "migrate" => {
            let mut j = 6;
            while j < argc {
                let more = argc - 1 - j;
                let a = &argv[j];
                if eq_ic(a, b"copy") || eq_ic(a, b"replace") {
                } else if eq_ic(a, b"auth") && more >= 1 {
                    j += 1;
                    out.push(j);
                } else if eq_ic(a, b"auth2") && more >= 2 {
                    out.extend([j + 1, j + 2]);
                    j += 2;
                } else {
                    break;
                }
                j += 1;
            }
        }
        "acl|setuser" => out.extend(2..argc),
        _ => {}
    }
    out
}

/// The arguments a slow log entry keeps of `argv` (Redis' `slowlogCreateEntry`).
fn slowlog_argv(name: &str, argv: &[Bytes]) -> Vec<Bytes> {
    let argc = argv.len();
    let kept = argc.min(SLOWLOG_MAX_ARGC);
    let hidden = redacted(name, argv);
    (0..kept)
        .map(|j| {
            if kept != argc && j == kept - 1 {
                Bytes::from(format!("... ({} more arguments)", argc - kept + 1))
            } else if hidden.contains(&j) {
                Bytes::from_static(b"(redacted)")
            } else if argv[j].len() > SLOWLOG_MAX_STRING {
                let mut s = argv[j][..SLOWLOG_MAX_STRING].to_vec();
                s.extend_from_slice(format!("... ({} more bytes)", argv[j].len() - SLOWLOG_MAX_STRING).as_bytes());
                Bytes::from(s)
            } else {
                // A copy: the argument may be a slice of a large input buffer the entry must not keep alive.
                Bytes::copy_from_slice(&argv[j])
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// SLOWLOG
// ---------------------------------------------------------------------------------------------------------------

fn slowlog_get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let count = match args.rest() {
        [] => 10,
        [n] => match parse_i64(n) {
            Some(-1) => u64::MAX,
            Some(n) if n >= 0 => n as u64,
            _ => return Err(CmdError::err("count should be greater than or equal to -1")),
        },
        _ => return Err(CmdError::subcommand_syntax(args.argv(), "SLOWLOG")),
    };
    let log = ctx.server.diag.slowlog.lock();
    let entries: Vec<&SlowEntry> = log.entries.iter().take(count.try_into().unwrap_or(usize::MAX)).collect();
    let out = &mut *ctx.out;
    out.array(entries.len());
    for e in entries {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.usec as i64);
        out.array(e.argv.len());
        e.argv.iter().for_each(|a| out.bulk(a));
        out.bulk(e.peer.as_bytes());
        out.bulk(e.name.as_bytes());
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let len = ctx.server.diag.slowlog.lock().entries.len();
    ctx.out.int(len as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    // Entry ids keep counting, as in Redis.
    ctx.server.diag.slowlog.lock().entries.clear();
    ctx.out.ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// LATENCY
// ---------------------------------------------------------------------------------------------------------------

fn latency_latest(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let events = ctx.server.diag.events.lock();
    let out = &mut *ctx.out;
    out.array(events.len());
    for (name, ts) in events.iter() {
        let last = ts.latest();
        out.array(4);
        out.bulk(name.as_bytes());
        out.int(last.time as i64);
        out.int(last.latency as i64);
        out.int(ts.max as i64);
    }
    Ok(())
}

/// The event an argument names, exactly (Redis looks events up case-sensitively, except for RESET).
fn event_name(arg: &[u8]) -> Option<&str> {
    std::str::from_utf8(arg).ok()
}

fn latency_history(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = args.next_bytes()?;
    let events = ctx.server.diag.events.lock();
    let samples: Vec<Sample> =
        event_name(name).and_then(|n| events.get(n)).map(|ts| ts.in_order().collect()).unwrap_or_default();
    let out = &mut *ctx.out;
    out.array(samples.len());
    for s in samples {
        out.array(2);
        out.int(s.time as i64);
        out.int(s.latency as i64);
    }
    Ok(())
}

fn latency_reset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut events = ctx.server.diag.events.lock();
    let resets = if args.is_empty() {
        let n = events.len();
        events.clear();
        n
    } else {
        let mut n = 0;
        for name in args.rest() {
            let before = events.len();
            events.retain(|event, _| !eq_ic(event.as_bytes(), name));
            n += before - events.len();
        }
        n
    };
    ctx.out.int(resets as i64);
    Ok(())
}

fn latency_graph(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = args.next_bytes()?;
    let now = (now_us() / 1_000_000) as i64;
    let graph = {
        let events = ctx.server.diag.events.lock();
        let Some((event, ts)) = event_name(name).and_then(|n| events.get_key_value(n)) else {
            return Err(CmdError::err(format!("No samples available for event '{}'", arg_text(name))));
        };
        sparkline_graph(event, ts, now)
    };
    ctx.out.verbatim(&graph);
    Ok(())
}

/// Redis' `latencyCommandGenSparkeline`: a header, a rule, then the samples as an 80-column, 4-row sparkline
/// labelled with how long ago each was taken.
fn sparkline_graph(event: &str, ts: &TimeSeries, now: i64) -> String {
    let samples: Vec<Sample> = ts.in_order().collect();
    let min = samples.iter().map(|s| s.latency).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let points: Vec<(f64, String)> = samples
        .iter()
        .map(|s| {
            let elapsed = now - s.time as i64;
            let label = match elapsed {
                e if e < 60 => format!("{e}s"),
                e if e < 3600 => format!("{}m", e / 60),
                e if e < 86400 => format!("{}h", e / 3600),
                e => format!("{}d", e / 86400),
            };
            (s.latency as f64, label)
        })
        .collect();
    let mut graph = format!("{event} - high {max} ms, low {min} ms (all time high {} ms)\n", ts.max);
    graph.push_str(&"-".repeat(80));
    graph.push('\n');
    sparkline(&mut graph, &points, 80, 4);
    graph
}

/// Redis' `sparklineRender` with `SPARKLINE_FILL`: each run of up to `columns` samples as `rows` rows of
/// `_o#` (and `|` below the top), then a blank row and the labels written downwards.
fn sparkline(out: &mut String, points: &[(f64, String)], columns: usize, rows: usize) {
    const FILL: [char; 3] = ['_', 'o', '#'];
    let min = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    let has_labels = points.iter().any(|p| !p.1.is_empty());
    for (n, range) in points.chunks(columns).enumerate() {
        if n != 0 {
            out.push('\n');
        }
        let step_of = |v: f64| -> i64 {
            // C: `(int)(relval*steps)/relmax`, then truncated into an int.
            let step = (((v - min) * steps as f64).trunc() / relmax) as i64;
            step.clamp(0, steps - 1)
        };
        let mut row = 0;
        loop {
            let mut line = vec![' '; range.len()];
            let mut more = false;
            for (j, (value, label)) in range.iter().enumerate() {
                if row < rows {
                    more = true;
                    let charidx = step_of(*value) - ((rows - row - 1) * FILL.len()) as i64;
                    if (0..FILL.len() as i64).contains(&charidx) {
                        line[j] = FILL[charidx as usize];
                    } else if charidx >= FILL.len() as i64 {
                        line[j] = '|';
                    }
                } else {
                    // One blank row between the graph and its labels.
                    if has_labels && row - rows < 1 {
                        more = true;
                        break;
                    }
                    if let Some(c) = (row - rows).checked_sub(1).and_then(|i| label.chars().nth(i)) {
                        more = true;
                        line[j] = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.extend(line);
            out.push('\n');
        }
    }
}

fn latency_doctor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let (slower_than, threshold) = {
        let cfg = ctx.server.config.read();
        (cfg.int("slowlog-log-slower-than"), cfg.int("latency-monitor-threshold"))
    };
    let now = (now_us() / 1_000_000) as i64;
    let report = {
        let events = ctx.server.diag.events.lock();
        latency_report(&events, slower_than, threshold, now)
    };
    ctx.out.verbatim(&report);
    Ok(())
}

/// Redis' `analyzeLatencyForEvent`: (samples, average, mean deviation, seconds since the oldest sample).
fn analyze(ts: &TimeSeries, now: i64) -> (u64, u64, u64, i64) {
    let samples: Vec<Sample> = ts.in_order().collect();
    if samples.is_empty() {
        return (0, 0, 0, 0);
    }
    let n = samples.len() as u64;
    let avg = samples.iter().map(|s| s.latency as u64).sum::<u64>() / n;
    let mad = samples.iter().map(|s| (avg as i64 - s.latency as i64).unsigned_abs()).sum::<u64>() / n;
    let oldest = samples.iter().map(|s| s.time as i64).min().unwrap_or(now);
    let period = (now - oldest).max(0);
    (n, avg, mad, if period == 0 { 1 } else { period })
}

/// Redis' `createLatencyReport`, for the events SableDB records. Its advice about transparent huge pages is left
/// out: what makes them a source of latency in Redis is the copy-on-write after `fork()`, and SableDB never forks;
/// so is the advice to raise `hz` after `expire-cycle` spikes (SableDB's expiry job does not run at `hz`).
fn latency_report(events: &BTreeMap<String, TimeSeries>, slower_than: i64, threshold: i64, now: i64) -> String {
    if events.is_empty() && threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may \
                use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't \
                in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
            .into();
    }
    let (mut slowlog_enabled, mut slowlog_tuning, mut slowlog_inspect) = (false, false, false);
    let (mut scheduler, mut large_objects) = (false, false);
    let mut advices = 0;
    let mut report = String::new();
    for (n, (event, ts)) in events.iter().enumerate() {
        if n == 0 {
            report.push_str(
                "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do \
                 you Dave?\n\n",
            );
        }
        let (samples, avg, mad, period) = analyze(ts, now);
        let _ = write!(
            report,
            "{}. {event}: {samples} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). \
             Worst all time event {}ms.",
            n + 1,
            period as f64 / samples.max(1) as f64,
            ts.max
        );
        match event.to_ascii_lowercase().as_str() {
            "command" => {
                if slower_than < 0 {
                    slowlog_enabled = true;
                    advices += 1;
                } else if slower_than / 1000 > threshold {
                    slowlog_tuning = true;
                    advices += 1;
                }
                slowlog_inspect = true;
                large_objects = true;
                advices += 2;
            }
            "fast-command" => {
                scheduler = true;
                advices += 1;
            }
            "expire-cycle" => {
                large_objects = true;
                advices += 1;
            }
            _ => {}
        }
        report.push('\n');
    }
    if events.is_empty() && advices == 0 {
        report.push_str(
            "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest \
             bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n",
        );
        return report;
    }
    if advices == 0 {
        report.push_str(
            "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis \
             community to get some help, providing this report in your help request.\n",
        );
        return report;
    }
    report.push_str("\nI have a few advices for you:\n\n");
    let suggested = threshold.max(0) as u64 * 1000;
    if slowlog_enabled {
        let _ = writeln!(
            report,
            "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log \
             Redis feature using the command 'CONFIG SET slowlog-log-slower-than {suggested}'. If the Slow log is \
             disabled Redis is not able to log slow commands execution for you."
        );
    }
    if slowlog_tuning {
        let _ = writeln!(
            report,
            "- Your current Slow Log configuration only logs events that are slower than your configured latency \
             monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {suggested}'."
        );
    }
    if slowlog_inspect {
        report.push_str(
            "- Check your Slow Log to understand what are the commands you are running which are too slow to \
             execute. Please check https://redis.io/commands/slowlog for more information.\n",
        );
    }
    if scheduler {
        report.push_str(
            "- The system is slow to execute Redis code paths not containing system calls. This usually means the \
             system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the \
             system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same \
             system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli \
             --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is \
             allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may \
             create fragmentation problems.\n",
        );
    }
    if large_objects {
        report.push_str(
            "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. \
             If you have very large objects that are often deleted, expired, or evicted, try to fragment those \
             objects into multiple smaller objects.\n",
        );
    }
    report
}

/// LATENCY HISTOGRAM [command …]: all commands with data, or those named (a container: its subcommands too);
/// unknown names are skipped.
fn latency_histogram(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let t = table();
    let mut chosen: Vec<&Command> = Vec::new();
    if args.is_empty() {
        let mut all: Vec<&Command> = t.entries.iter().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        chosen = all;
    } else {
        for name in args.rest() {
            let Some(cmd) = std::str::from_utf8(name).ok().and_then(|n| t.by_full_name(n)) else { continue };
            chosen.extend(std::iter::once(cmd).chain(t.subcommands_of(cmd)));
        }
    }
    let histograms: Vec<_> = chosen.into_iter().filter_map(|c| Some((c, c.stats.latency.snapshot()?))).collect();
    let out = &mut *ctx.out;
    out.map(histograms.len());
    for (cmd, hist) in histograms {
        // Recorded durations are whole microseconds in nanoseconds (or 1 ns for 0 µs), and Redis' power-of-two
        // buckets end where the histogram's counters do, so each counter's lowest value names its bucket.
        let mut counts = [0u64; HISTOGRAM_BUCKETS];
        for (ns, n) in hist.values() {
            counts[histogram_bucket(ns.div_ceil(1000))] += n;
        }
        out.bulk(cmd.name.as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(hist.total() as i64);
        out.bulk(b"histogram_usec");
        out.map(counts.iter().filter(|&&n| n > 0).count());
        let mut cumulative = 0;
        for (bound, n) in HISTOGRAM_BOUNDS.iter().zip(counts) {
            if n > 0 {
                cumulative += n;
                out.int(*bound as i64);
                out.int(cumulative as i64);
            }
        }
    }
    Ok(())
}

fn latency_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command \
             names.",
            "    If no commands are specified then all histograms are replied.",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::commands::test_argv as argv;

    fn logged(name: &str, args: &[&str]) -> Vec<String> {
        slowlog_argv(name, &argv(args)).iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    #[test]
    fn histogram_bounds_and_buckets_are_redis() {
        assert_eq!(
            HISTOGRAM_BOUNDS[..8],
            [1, 2, 4, 8, 16, 33, 66, 132],
            "the labels redis-server 7.0 prints for its HDR histogram"
        );
        assert_eq!(HISTOGRAM_BOUNDS[20], 1_082_130);
        for (usec, bucket) in
            [(0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (16, 4), (17, 5), (33, 5), (34, 6), (66, 6), (67, 7)]
        {
            assert_eq!(histogram_bucket(usec), bucket, "{usec}");
        }
        assert_eq!(histogram_bucket(1_000_000), 20);
        assert_eq!(histogram_bucket(u64::MAX), 20);
        // Every duration goes to the first bucket whose bound holds it.
        for usec in 0..200_000u64 {
            let b = histogram_bucket(usec);
            assert!(usec <= HISTOGRAM_BOUNDS[b] && (b == 0 || usec > HISTOGRAM_BOUNDS[b - 1]), "{usec}");
        }
    }

    #[test]
    fn slowlog_arguments_are_cut_like_redis() {
        let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut args = vec!["sadd", "set"];
        args.extend(many.iter().map(String::as_str));
        let got = logged("sadd", &args);
        assert_eq!(got.len(), 32);
        assert_eq!(got[30], "28");
        assert_eq!(got[31], "... (11 more arguments)");
        let long = "A".repeat(129);
        assert_eq!(logged("sadd", &["sadd", "set", &long])[2], format!("{}... (1 more bytes)", &long[..128]));
        assert_eq!(logged("sadd", &["sadd", "set", &long[..128]])[2], long[..128]);
    }

    #[test]
    fn secrets_are_redacted_where_redis_redacts_them() {
        let r = "(redacted)";
        assert_eq!(logged("auth", &["AUTH", "pw"]), ["AUTH", r]);
        assert_eq!(logged("auth", &["auth", "u", "pw"]), ["auth", r, r]);
        assert_eq!(logged("auth", &["auth", "a", "b", "c"]), ["auth", "a", "b", "c"]);
        assert_eq!(
            logged("hello", &["hello", "3", "AUTH", "u", "p", "SETNAME", "n"]),
            ["hello", "3", "AUTH", r, r, "SETNAME", "n"]
        );
        assert_eq!(logged("hello", &["hello", "4", "auth", "u", "p"]), ["hello", "4", "auth", "u", "p"]);
        assert_eq!(logged("hello", &["hello", "2", "x", "auth", "u", "p"]), ["hello", "2", "x", "auth", "u", "p"]);
        assert_eq!(
            logged("config|set", &["config", "set", "maxmemory", "1", "REQUIREPASS", "pw"]),
            ["config", "set", "maxmemory", "1", "REQUIREPASS", r]
        );
        assert_eq!(logged("config|set", &["config", "set", "requirepass"]), ["config", "set", "requirepass"]);
        assert_eq!(
            logged("migrate", &["migrate", "h", "1", "", "0", "10", "COPY", "AUTH2", "u", "p", "KEYS", "a"]),
            ["migrate", "h", "1", "", "0", "10", "COPY", "AUTH2", r, r, "KEYS", "a"]
        );
        assert_eq!(
            logged("migrate", &["migrate", "h", "1", "k", "0", "10", "auth", "p"]),
            ["migrate", "h", "1", "k", "0", "10", "auth", r]
        );
        assert_eq!(logged("set", &["set", "requirepass", "x"]), ["set", "requirepass", "x"]);
    }

    #[test]
    fn time_series_keeps_the_worst_of_each_second() {
        let mut ts = TimeSeries::new();
        ts.add(100, 5);
        ts.add(100, 9);
        ts.add(100, 7);
        ts.add(101, 3);
        let got: Vec<(i32, u32)> = ts.in_order().map(|s| (s.time, s.latency)).collect();
        assert_eq!(got, [(100, 9), (101, 3)]);
        assert_eq!(ts.max, 9);
        for t in 0..200 {
            ts.add(1000 + t, t as u32);
        }
        assert_eq!(ts.in_order().count(), LATENCY_TS_LEN);
        assert_eq!(ts.in_order().next().map(|s| s.time), Some(1040));
        assert_eq!(ts.latest().time, 1199);
        assert_eq!(ts.max, 199);
    }

    /// The graph redis-server 7.0.15 drew for samples of 300, 150 and 200 ms taken 4, 2 and 0 seconds ago.
    #[test]
    fn graph_is_redis_sparkline() {
        let mut ts = TimeSeries::new();
        ts.add(96, 300);
        ts.add(98, 150);
        ts.add(100, 200);
        assert_eq!(
            sparkline_graph("command", &ts, 100),
            format!(
                "command - high 300 ms, low 150 ms (all time high 300 ms)\n{}\n#  \n|  \n| o\n|_|\n   \n420\nsss\n",
                "-".repeat(80)
            )
        );
    }

    #[test]
    fn doctor_texts() {
        let mut events = BTreeMap::new();
        assert!(latency_report(&events, 10000, 0, 0).starts_with("I'm sorry, Dave"));
        assert!(latency_report(&events, 10000, 5, 0).starts_with("Dave, no latency spike"));
        let mut ts = TimeSeries::new();
        ts.add(96, 300);
        ts.add(98, 150);
        ts.add(100, 200);
        events.insert("command".to_string(), ts);
        // As redis-server 7.0.15 wrote it for these samples (threshold 100 ms, slow log at 10 ms, then off).
        let report = latency_report(&events, 10000, 100, 100);
        assert_eq!(
            report,
            "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you \
             Dave?\n\n1. command: 3 latency spikes (average 216ms, mean deviation 55ms, period 1.33 sec). Worst all \
             time event 300ms.\n\nI have a few advices for you:\n\n- Check your Slow Log to understand what are the \
             commands you are running which are too slow to execute. Please check \
             https://redis.io/commands/slowlog for more information.\n- Deleting, expiring or evicting (because of \
             maxmemory policy) large objects is a blocking operation. If you have very large objects that are often \
             deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"
        );
        let off = latency_report(&events, -1, 100, 100);
        assert!(off.contains("'CONFIG SET slowlog-log-slower-than 100000'. If the Slow log is disabled"), "{off}");
    }
}
