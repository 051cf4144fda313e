//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP, with Redis 7.0's reply shapes and errors.
//!
//! SableDB keeps its data in RocksDB, so the figures are estimates of what a key costs there, and the process
//! figures are those INFO memory reports (resident memory, as `used_memory`):
//! - USAGE: a key's records as stored — its meta record (key, type and expiry header, value or collection
//!   header), its expiry index record if it has a TTL, and for a hash, list, set or sorted set the element count
//!   times the average size of up to SAMPLES elements (default 5, 0: all) read in key order — each record
//!   counted with [`RECORD_OVERHEAD`]. A sorted set member is two records (by member and by score).
//! - STATS: Redis' map. `total.allocated` is the resident memory, `peak.allocated` the highest INFO or MEMORY has
//!   seen, `startup.allocated` the resident memory once storage was open; the per-database `overhead.*` figures
//!   are the per-record cost of the keys and of their expiry index; `dataset.bytes` is what remains. SableDB does
//!   not see inside its allocator, so the `allocator.*` figures equal the resident memory and the fragmentation
//!   ratios are 1.
//! - DOCTOR: Redis' texts; an instance without keys is "empty", otherwise a peak above 150% of the current
//!   memory and client buffers above 200 KB per client on average are reported, as Redis does.
//! - MALLOC-STATS: the memory RocksDB and the process use, as text (Redis prints its allocator's report).
//! - PURGE: nothing to purge from outside the allocator: OK, as Redis answers with an allocator other than
//!   jemalloc.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::connection::help_reply;
use super::server::{proc_kb, RSS_PEAK};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::storage::encoding::{Collection, MetaView, ZSET_BY_MEMBER, ZSET_BY_SCORE};
use crate::storage::{KeyType, Store};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("memory|usage", memory_usage),
    ("memory|stats", memory_stats),
    ("memory|doctor", memory_doctor),
    ("memory|malloc-stats", memory_malloc_stats),
    ("memory|purge", memory_purge),
    ("memory|help", memory_help),
];

/// What RocksDB spends on one record besides its key and value bytes: the 8-byte sequence number and type of its
/// internal key, the length prefixes, and its share of the block index and bloom filter (an estimate).
pub const RECORD_OVERHEAD: u64 = 32;

/// Bytes of a meta key before the user key (the database), and of an expiry index key (expiry time and database).
const META_KEY_PREFIX: u64 = 2;
const EXPIRY_KEY_PREFIX: u64 = 10;
/// Bytes of a data key before the element's sub key (the collection's uid).
const DATA_KEY_PREFIX: u64 = 8;

/// Elements sampled when SAMPLES is not given (Redis' `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
const DEFAULT_SAMPLES: u64 = 5;

/// The process' resident memory in bytes.
pub fn process_rss() -> u64 {
    proc_kb("/proc/self/status", "VmRSS")
}

/// The resident memory now and the highest seen (shared with INFO memory's `used_memory_peak`).
fn rss_and_peak() -> (u64, u64) {
    let rss = process_rss();
    (rss, RSS_PEAK.fetch_max(rss, Ordering::Relaxed).max(rss))
}

fn record_size(key: u64, value: u64) -> u64 {
    key + value + RECORD_OVERHEAD
}

/// The estimated bytes of the key `key` whose meta record is `m` (see the module doc).
fn key_usage(store: &Store, key: &[u8], m: &MetaView, samples: u64) -> CmdResult<u64> {
    let key_len = key.len() as u64;
    let mut total = record_size(META_KEY_PREFIX + key_len, m.0.len() as u64);
    if m.expire_at() != 0 {
        total += record_size(EXPIRY_KEY_PREFIX + key_len, 0);
    }
    let Some(coll) = Collection::from_view(m) else { return Ok(total) };
    let zset = coll.kind == KeyType::ZSet;
    // A sorted set is walked in member order: one record per member, the by-score record is counted with it.
    let (from, to): (&[u8], Option<&[u8]>) =
        if zset { (&[ZSET_BY_MEMBER], Some(&[ZSET_BY_SCORE])) } else { (&[], None) };
    let mut cursor = store.data_range(coll.uid, from, to, false);
    let (mut seen, mut bytes) = (0u64, 0u64);
    while seen < samples {
        let Some((sub, value)) = cursor.next()? else { break };
        bytes += record_size(DATA_KEY_PREFIX + sub.len() as u64, value.len() as u64);
        if zset {
            // `[1][score: 8][member]` → empty; `sub` is `[0][member]`.
            bytes += record_size(DATA_KEY_PREFIX + 8 + sub.len() as u64, 0);
        }
        seen += 1;
    }
    if seen > 0 {
        total += (bytes as f64 / seen as f64 * coll.len as f64) as u64;
    }
    Ok(total)
}

/// MEMORY USAGE key [SAMPLES count]: the options are checked before the key is looked up, as in Redis.
fn memory_usage(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut samples = DEFAULT_SAMPLES;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("samples") {
            samples = match args.next_i64()? {
                n if n < 0 => return Err(CmdError::Syntax),
                0 => u64::MAX,
                n => n as u64,
            };
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Like Redis, no keyspace hit or miss is counted.
    match ctx.store.get(ctx.db(), key)? {
        Some(rec) => {
            let usage = key_usage(ctx.store, key, &rec.view(), samples)?;
            ctx.out.int(usage.try_into().unwrap_or(i64::MAX));
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// Redis' `redisMemOverhead`, as far as SableDB has its figures.
struct Overhead {
    peak: u64,
    total: u64,
    startup: u64,
    clients_normal: u64,
    clients: u64,
    /// (logical db, main overhead, expires overhead) of each database with keys.
    dbs: Vec<(usize, u64, u64)>,
    overhead_total: u64,
    keys: u64,
}

fn overhead(ctx: &Ctx) -> Overhead {
    let (total, peak) = rss_and_peak();
    let startup = ctx.server.diag.startup_rss;
    let clients = ctx.server.clients.all();
    let clients_normal: usize = clients.iter().map(|c| c.qbuf.load(Ordering::Relaxed) + c.output_bytes()).sum();
    let mut dbs = Vec::new();
    let mut keys = 0;
    for db in 0..ctx.store.databases() as usize {
        let n = ctx.store.key_count(db).max(0) as u64;
        if n == 0 {
            continue;
        }
        keys += n;
        let expires = ctx.store.expire_count(db).max(0) as u64;
        dbs.push((db, n * (RECORD_OVERHEAD + META_KEY_PREFIX), expires * (RECORD_OVERHEAD + EXPIRY_KEY_PREFIX)));
    }
    let overhead_total =
        startup + clients_normal as u64 + dbs.iter().map(|(_, main, expires)| main + expires).sum::<u64>();
    Overhead {
        peak,
        total,
        startup,
        clients_normal: clients_normal as u64,
        clients: clients.len() as u64,
        dbs,
        overhead_total,
        keys,
    }
}

/// A ratio as Redis computes it, in a C `float`, then replied as a double.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        (a as f32 / b as f32) as f64
    }
}

fn memory_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let mh = overhead(ctx);
    let net = mh.total.saturating_sub(mh.startup);
    let dataset = mh.total.saturating_sub(mh.overhead_total);
    let out = &mut *ctx.out;
    out.map(27 + mh.dbs.len());
    let int = |out: &mut crate::resp::reply::Reply, name: &str, n: u64| {
        out.bulk(name.as_bytes());
        out.int(n.try_into().unwrap_or(i64::MAX));
    };
    int(out, "peak.allocated", mh.peak);
    int(out, "total.allocated", mh.total);
    int(out, "startup.allocated", mh.startup);
    int(out, "replication.backlog", 0);
    int(out, "clients.slaves", 0);
    int(out, "clients.normal", mh.clients_normal);
    int(out, "cluster.links", 0);
    int(out, "aof.buffer", 0);
    int(out, "lua.caches", 0);
    int(out, "functions.caches", 0);
    for &(db, main, expires) in &mh.dbs {
        out.bulk(format!("db.{db}").as_bytes());
        out.map(3);
        int(out, "overhead.hashtable.main", main);
        int(out, "overhead.hashtable.expires", expires);
        int(out, "overhead.hashtable.slot-to-keys", 0);
    }
    int(out, "overhead.total", mh.overhead_total);
    int(out, "keys.count", mh.keys);
    int(out, "keys.bytes-per-key", net.checked_div(mh.keys).unwrap_or(0));
    int(out, "dataset.bytes", dataset);
    out.bulk(b"dataset.percentage");
    out.double(ratio(dataset * 100, net));
    out.bulk(b"peak.percentage");
    out.double(ratio(mh.total * 100, mh.peak));
    int(out, "allocator.allocated", mh.total);
    int(out, "allocator.active", mh.total);
    int(out, "allocator.resident", mh.total);
    for name in ["allocator-fragmentation", "allocator-rss", "rss-overhead"] {
        out.bulk(format!("{name}.ratio").as_bytes());
        out.double(1.0);
        int(out, &format!("{name}.bytes"), 0);
    }
    out.bulk(b"fragmentation");
    out.double(1.0);
    int(out, "fragmentation.bytes", 0);
    Ok(())
}

/// Redis' `getMemoryDoctorReport` over SableDB's figures (see the module doc).
fn doctor_report(mh: &Overhead) -> String {
    let empty = mh.keys == 0;
    let big_peak = !empty && ratio(mh.peak, mh.total) > 1.5;
    let big_client_buf = !empty && mh.clients > 0 && mh.clients_normal / mh.clients > 1024 * 200;
    if empty {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in \
                these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam \
                and I will be back to our programming as soon as I finished rebooting.\n"
            .into();
    }
    if !big_peak && !big_client_buf {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this \
                base.\n"
            .into();
    }
    let mut s = String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    if big_peak {
        s.push_str(
            " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The \
             allocator is normally not able to release memory after a peak, so you can expect to see a big \
             fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the \
             Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as \
             soon as you fill the Redis instance with more data. If the memory peak was only occasional and you \
             want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is \
             to shutdown and restart the instance.\n\n",
        );
    }
    if big_client_buf {
        s.push_str(
            " * Big client buffers: The clients output buffers in this instance are greater than 200K per client \
             (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot \
             not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients \
             sending commands with large replies or very large sequences of commands in the same pipeline. Please \
             use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, \
             or to understand better why certain clients are using a big amount of memory.\n\n",
        );
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

fn memory_doctor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let report = doctor_report(&overhead(ctx));
    ctx.out.verbatim(&report);
    Ok(())
}

fn memory_malloc_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let (rss, peak) = rss_and_peak();
    let prop = |name: &str| ctx.store.property(name).unwrap_or(0);
    let mut s = String::from("___ Begin SableDB memory statistics ___\n");
    let _ = writeln!(s, "process.resident: {rss}");
    let _ = writeln!(s, "process.resident.peak: {peak}");
    for name in [
        "rocksdb.block-cache-usage",
        "rocksdb.block-cache-pinned-usage",
        "rocksdb.block-cache-capacity",
        "rocksdb.cur-size-all-mem-tables",
        "rocksdb.size-all-mem-tables",
        "rocksdb.estimate-table-readers-mem",
    ] {
        let _ = writeln!(s, "{name}: {}", prop(name));
    }
    s.push_str("___ End SableDB memory statistics ___\n");
    ctx.out.verbatim(&s);
    Ok(())
}

fn memory_purge(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.out.ok();
    Ok(())
}

fn memory_help(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    help_reply(
        ctx,
        &[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Prints this help.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::collection::test_store;
    use crate::storage::encoding::encode_string;

    #[test]
    fn strings_cost_their_record_and_expiry() {
        let dir = tempfile::tempdir().expect("dir");
        let store = test_store(dir.path());
        let rec = encode_string(0, b"bar");
        // [db: 2][foo] + [type][expire: 8][bar] + overhead.
        assert_eq!(key_usage(&store, b"foo", &MetaView(&rec), 5).ok(), Some(5 + 12 + RECORD_OVERHEAD));
        let rec = encode_string(12345, b"bar");
        let with_ttl = 5 + 12 + RECORD_OVERHEAD + 13 + RECORD_OVERHEAD;
        assert_eq!(key_usage(&store, b"foo", &MetaView(&rec), 5).ok(), Some(with_ttl));
    }

    #[test]
    fn doctor_texts() {
        let mut mh = Overhead {
            peak: 100 << 20,
            total: 90 << 20,
            startup: 50 << 20,
            clients_normal: 0,
            clients: 1,
            dbs: vec![],
            overhead_total: 0,
            keys: 0,
        };
        assert!(doctor_report(&mh).starts_with("Hi Sam, this instance is empty"));
        mh.keys = 10;
        assert!(doctor_report(&mh).starts_with("Hi Sam, I can't find any memory issue"));
        mh.peak = 200 << 20;
        let report = doctor_report(&mh);
        assert!(report.contains(" * Peak memory:") && report.ends_with("I want to help you.\n"), "{report}");
    }
}
