//! Configuration: SableDB's own options plus every Redis 7 parameter name, from `sabledb.ini`, the command line
//! (`--option value`, which wins over the file) and CONFIG SET at run time.
//!
//! Names compare with `-` and `_` as equals (`tls_port` is `tls-port`). Values are validated by type before
//! anything is opened or written, so a bad value stops start-up with a message naming it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::notify;
use crate::pubsub::BufferLimit;
use crate::storage::{StorageOptions, WalFsync};
use crate::util::glob::glob_match;

/// How a value is validated and normalised.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int(i64, i64),
    /// Bytes, accepting `kb mb gb` (and `k m g`) suffixes; CONFIG GET shows the byte count.
    Memory,
    /// A memory value or a percentage of `maxmemory` (`maxmemory-clients`).
    MemoryOrPercent,
    Enum(&'static [&'static str]),
    Str,
}

/// One option SableDB acts on.
struct OptionDef {
    name: &'static str,
    kind: Kind,
    default: &'static str,
    /// Settable with CONFIG SET while running.
    mutable: bool,
}

const fn opt(name: &'static str, kind: Kind, default: &'static str, mutable: bool) -> OptionDef {
    OptionDef { name, kind, default, mutable }
}

const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// SableDB's own options. Where Redis has the same parameter its name is used; the rest are ours.
const OPTIONS: &[OptionDef] = &[
    opt("bind", Kind::Str, "127.0.0.1", true),
    opt("port", Kind::Int(0, 65535), "6379", true),
    opt("unixsocket", Kind::Str, "", false),
    opt("unixsocketperm", Kind::Int(0, 777), "0", false),
    opt("tls-port", Kind::Int(0, 65535), "0", true),
    opt("tls-cert-file", Kind::Str, "", false),
    opt("tls-key-file", Kind::Str, "", false),
    opt("tls-ca-cert-file", Kind::Str, "", false),
    opt("tls-auth-clients", Kind::Enum(&["yes", "no", "optional"]), "yes", false),
    opt("databases", Kind::Int(1, 65535), "16", false),
    opt("proto-max-bulk-len", Kind::Memory, "536870912", true),
    opt("requirepass", Kind::Str, "", true),
    opt("maxclients", Kind::Int(1, i32::MAX as i64), "10000", true),
    opt("timeout", Kind::Int(0, i32::MAX as i64), "0", true),
    opt("db_path", Kind::Str, "sabledb.db", false),
    opt("workers", Kind::Int(0, 1024), "0", false),
    opt("wal_fsync", Kind::Enum(&["no", "everysec", "always"]), "everysec", false),
    opt("http_port", Kind::Int(0, 65535), "0", false),
    opt("log_level", Kind::Enum(LOG_LEVELS), "info", false),
    opt("block_cache_size", Kind::Memory, "268435456", false),
    opt("write_buffer_size", Kind::Memory, "4194304", false),
    opt("meta_cache_size", Kind::Memory, "67108864", false),
    opt("background_priority", Kind::Enum(&["low", "normal"]), "low", false),
    opt("active_expire_interval_ms", Kind::Int(1, 10_000), "10", false),
];

/// Redis parameters that take one of a fixed set of words.
const REDIS_ENUMS: &[(&str, &[&str])] = &[
    (
        "maxmemory-policy",
        &[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ],
    ),
    ("appendfsync", &["always", "everysec", "no"]),
    ("loglevel", &["debug", "verbose", "notice", "warning"]),
    ("supervised", &["upstart", "systemd", "auto", "no"]),
    ("repl-diskless-load", &["disabled", "on-empty-db", "swapdb"]),
    ("sanitize-dump-payload", &["no", "yes", "clients"]),
    ("acl-pubsub-default", &["allchannels", "resetchannels"]),
    ("enable-protected-configs", &["no", "yes", "local"]),
    ("enable-debug-command", &["no", "yes", "local"]),
    ("enable-module-command", &["no", "yes", "local"]),
    ("propagation-error-behavior", &["ignore", "panic", "panic-on-replicas"]),
    ("cluster-preferred-endpoint-type", &["ip", "hostname", "unknown-endpoint"]),
    ("oom-score-adj", &["no", "yes", "relative", "absolute"]),
];

/// Redis integer parameters with bounds of their own (Redis' limits, which CONFIG SET names when refusing a value).
const REDIS_RANGES: &[(&str, i64, i64)] = &[
    ("slowlog-log-slower-than", -1, i64::MAX),
    ("slowlog-max-len", 0, i64::MAX),
    ("latency-monitor-threshold", 0, i64::MAX),
];

/// Redis parameters that cannot change while running (CONFIG SET refuses them as Redis does).
const REDIS_IMMUTABLE: &[&str] = &[
    "daemonize",
    "io-threads",
    "io-threads-do-reads",
    "logfile",
    "pidfile",
    "syslog-enabled",
    "syslog-ident",
    "syslog-facility",
    "supervised",
    "cluster-enabled",
    "cluster-config-file",
    "aclfile",
    "appendfilename",
    "appenddirname",
    "always-show-logo",
    "set-proc-title",
    "disable-thp",
    "enable-protected-configs",
    "enable-debug-command",
    "enable-module-command",
    "tcp-backlog",
    "unixsocketgroup",
    "databases",
    "unixsocket",
    "unixsocketperm",
];

/// Redis' hidden parameters (`HIDDEN_CONFIG`, with their defaults): read and set by their exact name, never
/// listed by a pattern such as `CONFIG GET *`. They tune Redis' RDB and watchdog internals and have no effect here.
const HIDDEN: &[(&str, &str)] = &[
    ("use-exit-on-panic", "no"),
    ("rdb-key-save-delay", "0"),
    ("key-load-delay", "0"),
    ("watchdog-period", "0"),
    ("loading-process-events-interval-bytes", "2097152"),
];

/// Is `name` a memory-sized Redis parameter (accepts `1gb`)?
fn redis_memory_param(name: &str) -> bool {
    ["memory", "bytes", "size", "buffer-limit", "bulk-len"].iter().any(|w| name.contains(w))
        && !name.contains("entries")
        && name != "list-max-listpack-size"
        && name != "list-max-ziplist-size"
}

/// Every Redis 7.0 parameter with its stock default (made by `scripts/gen-command-meta.py`).
fn redis_defaults() -> &'static BTreeMap<String, String> {
    static DEFAULTS: std::sync::OnceLock<BTreeMap<String, String>> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| serde_json::from_str(include_str!("redis_defaults.json")).unwrap_or_default())
}

/// Redis parameters that are two names for one setting (the old ziplist names of the listpack limits, the old
/// `slave` names of the replica settings).
const ALIASES: &[(&str, &str)] = &[
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("cluster-slave-no-failover", "cluster-replica-no-failover"),
    ("cluster-slave-validity-factor", "cluster-replica-validity-factor"),
    ("min-slaves-max-lag", "min-replicas-max-lag"),
    ("min-slaves-to-write", "min-replicas-to-write"),
    ("repl-ping-slave-period", "repl-ping-replica-period"),
    ("slave-announce-ip", "replica-announce-ip"),
    ("slave-announce-port", "replica-announce-port"),
    ("slave-ignore-maxmemory", "replica-ignore-maxmemory"),
    ("slave-lazy-flush", "replica-lazy-flush"),
    ("slave-priority", "replica-priority"),
    ("slave-read-only", "replica-read-only"),
    ("slave-serve-stale-data", "replica-serve-stale-data"),
    ("slaveof", "replicaof"),
];

/// `client-output-buffer-limit`: groups of `<class> <hard> <soft> <soft seconds>`, parsed as Redis' own
/// `updateClientOutputBufferLimit` (classes `normal`, `slave`/`replica`, `pubsub`). A value sets only the classes
/// it names; the stored value lists all three, as CONFIG GET shows it. Only the `pubsub` class is enforced.
const BUFFER_LIMIT: &str = "client-output-buffer-limit";

/// The percentiles INFO latencystats reports: numbers from 0 to 100, separated by spaces.
const PERCENTILES: &str = "latency-tracking-info-percentiles";

/// A `latency-tracking-info-percentiles` value in Redis' canonical form (`50 99 99.9`), all numbers valid or an
/// error with Redis' text; empty means none.
fn parse_percentiles(value: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for word in value.split_whitespace() {
        let p = crate::util::parse_f64(word.as_bytes())
            .filter(|p| p.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
        }
        out.push(crate::util::fmt_f_trimmed(p));
    }
    Ok(out.join(" "))
}

/// Keyspace notifications: event class letters, parsed and shown as Redis does (see [`crate::notify`]).
const NOTIFY_EVENTS: &str = "notify-keyspace-events";
const BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Applies a `client-output-buffer-limit` value to the stored one: all groups valid, or nothing changes.
fn merge_buffer_limits(current: &str, value: &str) -> Result<String, String> {
    let mut limits = parse_buffer_limits(current);
    // Redis splits on single spaces: two spaces in a row make an empty (and so misplaced) argument.
    let args: Vec<&str> = if value.is_empty() { Vec::new() } else { value.split(' ').collect() };
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    for group in args.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        match (memtoull(group[1]), memtoull(group[2]), soft_seconds(group[3])) {
            (Some(hard), Some(soft), Some(secs)) => limits[class] = [hard, soft, secs],
            _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
        }
    }
    Ok(BUFFER_CLASSES
        .iter()
        .zip(limits)
        .map(|(name, [hard, soft, secs])| format!("{name} {hard} {soft} {secs}"))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The stored (already validated) value as `[hard, soft, seconds]` per class.
fn parse_buffer_limits(stored: &str) -> [[u64; 3]; 3] {
    let mut limits = [[0; 3]; 3];
    for group in stored.split(' ').collect::<Vec<_>>().chunks_exact(4) {
        if let Some(class) = BUFFER_CLASSES.iter().position(|c| *c == group[0]) {
            for (slot, v) in limits[class].iter_mut().zip(&group[1..]) {
                *slot = v.parse().unwrap_or(0);
            }
        }
    }
    limits
}

/// The multiplier of one of Redis' memory units (lowercase; none means bytes).
fn memory_unit(unit: &str) -> Option<u64> {
    Some(match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    })
}

/// Redis' `memtoull`: digits and an optional unit (`b k kb m mb g gb`, any case); an empty number is 0, a number
/// too large saturates and the unit multiplies with wrap-around, exactly as the C code does.
fn memtoull(v: &str) -> Option<u64> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, unit) = v.split_at(split);
    let mul = memory_unit(&unit.to_ascii_lowercase())?;
    if digits.len() >= 128 {
        return None;
    }
    let n = digits.bytes().fold(0u64, |n, d| n.saturating_mul(10).saturating_add((d - b'0') as u64));
    Some(n.wrapping_mul(mul))
}

/// The soft-limit seconds as Redis reads them: `strtoll` over the whole argument (leading white space and a sign
/// allowed, saturating), stored in a C `int` (so it wraps), and refused when negative.
fn soft_seconds(v: &str) -> Option<u64> {
    let body = v.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (neg, digits) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    if digits.is_empty() {
        // No number at all: `strtoll` stops at the start, which only an empty argument accepts (as 0).
        return v.is_empty().then_some(0);
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i128, |n, d| (n * 10 + (d - b'0') as i128).min(1 << 64));
    let n = if neg { -magnitude } else { magnitude }.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    u64::try_from(n as i32).ok()
}

/// Normalised comparison form of a name: lowercase, `_` as `-`.
fn norm(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// Parses `1gb`, `512mb`, `100k`, `42` as Redis' `memtoull` does.
pub fn parse_memory(v: &str) -> Option<i64> {
    let lower = v.trim().to_ascii_lowercase();
    let split = lower.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul = memory_unit(unit)? as i64;
    let n: i64 = num.parse().ok()?;
    n.checked_mul(mul)
}

/// The whole configuration: one value per parameter, by canonical name.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<String, String>,
    /// Normalised name → canonical name.
    names: BTreeMap<String, String>,
    /// The ini file the server started from (CONFIG REWRITE writes it back).
    pub file: Option<PathBuf>,
    /// `notify-keyspace-events` as parsed. Its stored value is Redis' canonical string, which can hide a class
    /// (an `n` next to `A`), so the flags are kept from the value as given.
    notify_flags: u32,
}

impl Default for Config {
    fn default() -> Self {
        let mut values = redis_defaults().clone();
        for o in OPTIONS {
            values.insert(o.name.to_string(), o.default.to_string());
        }
        // Redis keeps no special meaning for these in SableDB; report what a stock server reports.
        values.insert("dir".into(), String::new());
        for (name, default) in HIDDEN {
            values.insert(name.to_string(), default.to_string());
        }
        let names = values.keys().map(|k| (norm(k), k.clone())).collect();
        let mut c = Config { values, names, file: None, notify_flags: 0 };
        c.sync_derived();
        c
    }
}

impl Config {
    /// `sabledb [CONFIG.ini] [--option value …]`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                cfg.load_file(PathBuf::from(first))?;
                rest = &rest[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(format!("unexpected argument '{}': options are given as --name value", rest[i]));
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => {
                    let v = rest.get(i + 1).ok_or_else(|| format!("option '--{name}' needs a value"))?;
                    i += 1;
                    (name.to_string(), v.clone())
                }
            };
            cfg.set(&name, &value).map_err(|e| format!("bad option '--{name}': {e}"))?;
            i += 1;
        }
        Ok(cfg)
    }

    fn load_file(&mut self, path: PathBuf) -> Result<(), String> {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (lineno, line) in text.lines().enumerate() {
            let Some((name, value)) = parse_ini_line(line) else { continue };
            self.set(&name, &value)
                .map_err(|e| format!("{}:{}: bad option '{name}': {e}", path.display(), lineno + 1))?;
        }
        self.file = Some(path);
        Ok(())
    }

    fn canonical(&self, name: &str) -> Option<&str> {
        self.names.get(&norm(name)).map(String::as_str)
    }

    fn kind_of(name: &str) -> Kind {
        if let Some(o) = OPTIONS.iter().find(|o| o.name == name) {
            return o.kind;
        }
        if let Some((_, words)) = REDIS_ENUMS.iter().find(|(n, _)| *n == name) {
            return Kind::Enum(words);
        }
        if let Some(&(_, min, max)) = REDIS_RANGES.iter().find(|(n, ..)| *n == name) {
            return Kind::Int(min, max);
        }
        if name == "maxmemory-clients" {
            return Kind::MemoryOrPercent;
        }
        let default = Config::redis_default(name);
        if default == "yes" || default == "no" {
            Kind::Bool
        } else if default.parse::<i64>().is_ok() {
            if redis_memory_param(name) {
                Kind::Memory
            } else {
                Kind::Int(i64::MIN, i64::MAX)
            }
        } else {
            Kind::Str
        }
    }

    fn redis_default(name: &str) -> &'static str {
        redis_defaults()
            .get(name)
            .map(String::as_str)
            .or_else(|| HIDDEN.iter().find(|(n, _)| *n == name).map(|(_, d)| *d))
            .unwrap_or("")
    }

    /// Validates and stores a value (start-up: any parameter may be set).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let canonical = self.canonical(name).ok_or_else(|| "unknown option".to_string())?.to_string();
        let normalised = if canonical == BUFFER_LIMIT {
            merge_buffer_limits(self.str(BUFFER_LIMIT), value)?
        } else if canonical == "bind" {
            // Redis' list of addresses, shown separated by single spaces.
            let addrs: Vec<&str> = value.split_whitespace().collect();
            if addrs.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            addrs.join(" ")
        } else if canonical == PERCENTILES {
            parse_percentiles(value)?
        } else if canonical == NOTIFY_EVENTS {
            let flags = notify::parse_flags(value).ok_or(notify::INVALID_FLAGS)?;
            self.notify_flags = flags;
            notify::format_flags(flags)
        } else {
            validate(Config::kind_of(&canonical), value)?
        };
        if let Some(&(a, b)) = ALIASES.iter().find(|(a, b)| *a == canonical || *b == canonical) {
            let other = if a == canonical { b } else { a };
            self.values.insert(other.to_string(), normalised.clone());
        }
        self.values.insert(canonical, normalised);
        self.sync_derived();
        Ok(())
    }

    /// CONFIG SET: like [`Config::set`] but refuses unknown and start-up-only parameters, with Redis' texts.
    pub fn set_runtime(&mut self, name: &str, value: &str) -> Result<(), String> {
        let Some(canonical) = self.canonical(name).map(str::to_string) else {
            return Err(format!("Unknown option or number of arguments for CONFIG SET - '{name}'"));
        };
        let immutable =
            OPTIONS.iter().any(|o| o.name == canonical && !o.mutable) || REDIS_IMMUTABLE.contains(&canonical.as_str());
        if immutable {
            // Our own start-up options (db_path, workers…) take their current value, so a client writing back what CONFIG GET * returned does not fail on them.
            let ours = !REDIS_IMMUTABLE.contains(&canonical.as_str());
            let current = self.values.get(&canonical);
            if ours && validate(Config::kind_of(&canonical), value).is_ok_and(|v| Some(&v) == current) {
                return Ok(());
            }
            return Err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            ));
        }
        self.set(&canonical, value)
            .map_err(|e| format!("CONFIG SET failed (possibly related to argument '{name}') - {e}"))
    }

    /// Parameters whose canonical name matches the glob `pattern` (case-insensitive), in name order.
    pub fn matching(&self, pattern: &str) -> Vec<(String, String)> {
        let pat = pattern.to_ascii_lowercase();
        self.values
            .iter()
            .filter(|(k, _)| {
                if HIDDEN.iter().any(|(h, _)| h == k) {
                    return norm(&pat) == norm(k);
                }
                glob_match(pat.as_bytes(), k.as_bytes(), true)
                    || glob_match(pat.replace('_', "-").as_bytes(), norm(k).as_bytes(), true)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.canonical(name).and_then(|c| self.values.get(c)).map(String::as_str)
    }

    /// A value that was validated as a number (defaults are valid, so 0 is never reached in practice).
    pub fn int(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    pub fn str(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The classes of keyspace notifications on (see [`crate::notify`]).
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags
    }

    /// One class (`normal`, `slave`, `pubsub`) of `client-output-buffer-limit`.
    pub fn buffer_limit(&self, class: &str) -> BufferLimit {
        let limits = parse_buffer_limits(self.str(BUFFER_LIMIT));
        let [hard, soft, soft_secs] = BUFFER_CLASSES.iter().position(|c| *c == class).map_or([0; 3], |i| limits[i]);
        BufferLimit { hard, soft, soft_secs }
    }

    /// Keeps parameters that mirror others in step (`dir` shows where the data lives).
    fn sync_derived(&mut self) {
        let path = self.values.get("db_path").cloned().unwrap_or_default();
        let abs = std::fs::canonicalize(&path)
            .ok()
            .or_else(|| std::env::current_dir().ok().map(|d| d.join(&path)))
            .map(|p| p.display().to_string())
            .unwrap_or(path);
        self.values.insert("dir".into(), abs);
    }

    pub fn storage_options(&self) -> StorageOptions {
        StorageOptions {
            path: PathBuf::from(self.str("db_path")),
            databases: self.int("databases") as u16,
            wal_fsync: match self.str("wal_fsync") {
                "no" => WalFsync::No,
                "always" => WalFsync::Always,
                _ => WalFsync::EverySec,
            },
            block_cache_bytes: self.int("block_cache_size") as usize,
            write_buffer_bytes: self.int("write_buffer_size") as usize,
            meta_cache_bytes: self.int("meta_cache_size") as usize,
            background_low_priority: self.str("background_priority") == "low",
        }
    }

    /// Checks settings that depend on each other (TLS files, listeners).
    pub fn validate_all(&self) -> Result<(), String> {
        if self.int("tls-port") != 0 && (self.str("tls-cert-file").is_empty() || self.str("tls-key-file").is_empty()) {
            return Err("tls_port needs tls_cert_file and tls_key_file".into());
        }
        if self.int("port") == 0 && self.int("tls-port") == 0 && self.str("unixsocket").is_empty() {
            return Err("no listener: set port, tls_port or unixsocket".into());
        }
        Ok(())
    }

    /// CONFIG REWRITE: rewrites the start-up file with the current values, keeping its comments and layout and
    /// appending parameters that differ from their defaults but are not in the file.
    pub fn rewrite(&self) -> Result<(), String> {
        let path = self.file.as_ref().ok_or("The server is running without a config file")?;
        let text = std::fs::read_to_string(path).map_err(|e| format!("Rewriting config file: {e}"))?;
        let mut seen = std::collections::BTreeSet::new();
        let mut out = String::new();
        for line in text.lines() {
            match parse_ini_line(line).and_then(|(n, _)| self.canonical(&n).map(|c| (n, c.to_string()))) {
                Some((written, canonical)) => {
                    seen.insert(canonical.clone());
                    out.push_str(&format!("{written} = {}\n", quote(&self.values[&canonical])));
                }
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let defaults = Config::default();
        for (k, v) in &self.values {
            if !seen.contains(k) && defaults.values.get(k) != Some(v) && k != "dir" {
                out.push_str(&format!("{k} = {}\n", quote(v)));
            }
        }
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, out).map_err(|e| format!("Rewriting config file: {e}"))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("Rewriting config file: {e}"))
    }
}

fn quote(v: &str) -> String {
    if v.is_empty() || v.contains(char::is_whitespace) {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// `name = value` or `name value`; comments (`#`, `;`) and `[sections]` yield None.
fn parse_ini_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with(';') || line.starts_with('[') {
        return None;
    }
    let (name, value) = match line.split_once('=') {
        Some((n, v)) => (n.trim(), v.trim()),
        None => line.split_once(char::is_whitespace).map(|(n, v)| (n.trim(), v.trim())).unwrap_or((line, "")),
    };
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    Some((name.to_string(), value.to_string()))
}

fn validate(kind: Kind, value: &str) -> Result<String, String> {
    match kind {
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Int(min, max) => {
            let n: i64 = value.trim().parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < min || n > max {
                return Err(format!("argument must be between {min} and {max} inclusive"));
            }
            Ok(n.to_string())
        }
        Kind::Memory => parse_memory(value)
            .filter(|n| *n >= 0)
            .map(|n| n.to_string())
            .ok_or_else(|| "argument must be a memory value".into()),
        Kind::MemoryOrPercent => match value.strip_suffix('%') {
            Some(p) => match p.parse::<i64>() {
                Ok(n) if n > 100 => Err("percentage argument must be less or equal to 100".into()),
                Ok(n) if n >= 0 => Ok(format!("{n}%")),
                _ => Err("argument must be a memory or percent value".into()),
            },
            None => validate(Kind::Memory, value).map_err(|_| "argument must be a memory or percent value".into()),
        },
        Kind::Enum(words) => {
            let v = value.to_ascii_lowercase();
            if words.contains(&v.as_str()) {
                Ok(v)
            } else {
                Err(format!("argument(s) must be one of the following: {}", words.join(", ")))
            }
        }
        Kind::Str => Ok(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_wins_and_names_normalise() {
        let c = Config::from_args(&args(&["--port", "6380", "--db_path", "/tmp/x", "--tls_port=7000"])).unwrap();
        assert_eq!(c.int("port"), 6380);
        assert_eq!(c.str("db-path"), "/tmp/x");
        assert_eq!(c.int("tls_port"), 7000);
    }

    #[test]
    fn ziplist_names_are_aliases_of_the_listpack_limits() {
        let mut c = Config::from_args(&[]).unwrap();
        c.set_runtime("hash-max-ziplist-entries", "2").unwrap();
        assert_eq!(c.int("hash-max-listpack-entries"), 2);
        c.set_runtime("zset-max-listpack-value", "9").unwrap();
        assert_eq!(c.int("zset-max-ziplist-value"), 9);
        c.set_runtime("min-slaves-to-write", "3").unwrap();
        assert_eq!(c.int("min-replicas-to-write"), 3);
        c.set_runtime("replica-read-only", "no").unwrap();
        assert_eq!(c.get("slave-read-only"), Some("no"));
    }

    #[test]
    fn bad_values_name_the_option() {
        let e = Config::from_args(&args(&["--port", "http"])).unwrap_err();
        assert!(e.contains("'--port'"), "{e}");
        assert!(Config::from_args(&args(&["--nonsense", "1"])).unwrap_err().contains("unknown option"));
        assert!(Config::from_args(&args(&["--wal_fsync", "sometimes"])).is_err());
        assert!(Config::from_args(&args(&["--background_priority", "high"])).is_err());
        let low = Config::from_args(&args(&[])).unwrap().storage_options();
        let normal = Config::from_args(&args(&["--background_priority", "normal"])).unwrap().storage_options();
        assert!(low.background_low_priority && !normal.background_low_priority);
    }

    #[test]
    fn memory_units_and_redis_params() {
        let mut c = Config::from_args(&args(&["--proto-max-bulk-len", "1mb"])).unwrap();
        assert_eq!(c.get("proto-max-bulk-len"), Some("1048576"));
        assert_eq!(c.get("save"), Some("3600 1 300 100 60 10000"));
        c.set_runtime("maxmemory", "1gb").unwrap();
        assert_eq!(c.get("maxmemory"), Some("1073741824"));
        assert!(c.set_runtime("appendonly", "maybe").unwrap_err().contains("'yes' or 'no'"));
        // port, tls-port and bind change at run time (the listeners are rebound by CONFIG SET, see net).
        c.set_runtime("port", "1").unwrap();
        assert_eq!(c.int("port"), 1);
        assert!(c.set_runtime("port", "65536").unwrap_err().contains("between 0 and 65535"));
        c.set_runtime("tls-port", "0").unwrap();
        c.set_runtime("bind", "  127.0.0.1   -::1 ").unwrap();
        assert_eq!(c.get("bind"), Some("127.0.0.1 -::1"));
        let many = vec!["127.0.0.1"; 17].join(" ");
        assert!(c.set_runtime("bind", &many).unwrap_err().ends_with("Too many bind addresses specified."));
        assert!(c.set_runtime("workers", "3").unwrap_err().contains("immutable"));
        let workers = c.get("workers").unwrap_or_default().to_string();
        c.set_runtime("workers", &workers).unwrap();
        assert!(c.set_runtime("databases", "16").unwrap_err().contains("immutable"));
        assert!(c.set_runtime("hz", "x").is_err());
        assert_eq!(
            c.set_runtime("slowlog-log-slower-than", "-2").unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 \
             and 9223372036854775807 inclusive"
        );
        c.set_runtime("slowlog-log-slower-than", "-1").unwrap();
        assert!(c.set_runtime("latency-monitor-threshold", "-1").unwrap_err().contains("between 0 and"));
        assert_eq!(c.matching("key-load-delay"), [("key-load-delay".to_string(), "0".to_string())]);
        assert!(c.matching("*").iter().all(|(k, _)| !HIDDEN.iter().any(|(h, _)| h == k)));
        assert!(c.matching("key-load-*").is_empty());
        c.set_runtime("key-load-delay", "100").unwrap();
        assert_eq!(c.get("key-load-delay"), Some("100"));
        c.set_runtime("maxmemory-clients", "10%").unwrap();
        assert_eq!(c.get("maxmemory-clients"), Some("10%"));
        c.set_runtime("maxmemory-clients", "1mb").unwrap();
        assert_eq!(c.get("maxmemory-clients"), Some("1048576"));
        assert!(c.set_runtime("maxmemory-clients", "200%").unwrap_err().ends_with("must be less or equal to 100"));
        assert_eq!(c.matching("maxmemory-p*").len(), 1);
    }

    #[test]
    fn client_output_buffer_limit_sets_only_the_classes_given() {
        let mut c = Config::from_args(&args(&["--client-output-buffer-limit", "pubsub 1mb 512kb 60"])).unwrap();
        let get = |c: &Config| c.str("client-output-buffer-limit").to_string();
        assert_eq!(get(&c), "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 60");
        assert_eq!(c.buffer_limit("pubsub"), BufferLimit { hard: 1048576, soft: 524288, soft_secs: 60 });
        c.set_runtime("client-output-buffer-limit", "replica 1 2 3 NORMAL 4 5 6").unwrap();
        assert_eq!(get(&c), "normal 4 5 6 slave 1 2 3 pubsub 1048576 524288 60");
        c.set_runtime("client-output-buffer-limit", "").unwrap();
        c.set_runtime("client-output-buffer-limit", "pubsub 1 2 0 pubsub 1G 2k 4294967297").unwrap();
        assert_eq!(get(&c), "normal 4 5 6 slave 1 2 3 pubsub 1000000000 2000 1");
        for (bad, why) in [
            ("pubsub 1 2", "Wrong number"),
            ("pubsub  1 2 0", "Wrong number"),
            ("master 1 2 3", "Invalid client class"),
            ("pubsub 1 2 0 bogus 1 1 1", "Invalid client class"),
            ("pubsub -1 2 0", "Error in hard"),
            ("pubsub 1x 2 0", "Error in hard"),
            ("pubsub +1 2 0", "Error in hard"),
            ("pubsub 1 2 -3", "Error in hard"),
            ("pubsub 1 2 3x", "Error in hard"),
            ("pubsub 1 2 +", "Error in hard"),
            ("pubsub 1 2 2147483648", "Error in hard"),
            ("pubsub 1 2 99999999999999999999", "Error in hard"),
        ] {
            let e = c.set_runtime("client-output-buffer-limit", bad).unwrap_err();
            assert!(e.contains(why) && e.contains("buffer limit configuration."), "{bad}: {e}");
        }
        // Nothing of a refused value is applied.
        assert_eq!(get(&c), "normal 4 5 6 slave 1 2 3 pubsub 1000000000 2000 1");
        // Redis' quirks, kept: an empty number is 0, a huge one saturates, units wrap around.
        c.set_runtime("client-output-buffer-limit", "pubsub  1 \t5").unwrap();
        assert_eq!(c.buffer_limit("pubsub"), BufferLimit { hard: 0, soft: 1, soft_secs: 5 });
        c.set_runtime("client-output-buffer-limit", "pubsub 18446744073709551616 99999999999gb ").unwrap();
        assert_eq!(get(&c), "normal 4 5 6 slave 1 2 3 pubsub 18446744073709551615 15140462030378500096 0");
    }

    #[test]
    fn notify_keyspace_events_keep_their_flags_and_show_redis_string() {
        let mut c = Config::from_args(&args(&["--notify-keyspace-events", "KEA"])).unwrap();
        assert_eq!(c.get("notify-keyspace-events"), Some("AKE"));
        c.set_runtime("notify_keyspace_events", "AKEn").unwrap();
        assert_eq!(c.get("notify-keyspace-events"), Some("AKE"));
        assert_ne!(c.notify_flags() & notify::NEW, 0);
        assert_eq!(
            c.set_runtime("notify-keyspace-events", "KEQ").unwrap_err(),
            "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class \
             character. Use 'Ag$lshzxeKEtmdn'."
        );
        // A refused value changes nothing.
        assert_eq!(c.get("notify-keyspace-events"), Some("AKE"));
        assert_ne!(c.notify_flags() & notify::NEW, 0);
        c.set_runtime("notify-keyspace-events", "").unwrap();
        assert_eq!((c.get("notify-keyspace-events"), c.notify_flags()), (Some(""), 0));
    }

    #[test]
    fn ini_lines() {
        assert_eq!(parse_ini_line("port = 6379"), Some(("port".into(), "6379".into())));
        assert_eq!(parse_ini_line("save \"\""), Some(("save".into(), "".into())));
        assert_eq!(parse_ini_line("# comment"), None);
    }
}
