//! DUMP and RESTORE: a value in Redis 7.0's serialization (the RDB 10 object format, `cluster.c`'s
//! `createDumpPayload` / `restoreCommand`). The format lives in the submodules — [`rdb`] (object types, lengths,
//! strings, footer), [`listpack`], [`lzf`] and [`crc64`] — and this module maps stored values onto it.
//!
//! DUMP picks the RDB type from the encoding Redis would hold (the same decision OBJECT ENCODING reports): lists
//! are quicklists of listpacks filled as RPUSH fills them; a set is an intset unless its `big` bit is set; a hash or
//! sorted set is a listpack unless big. Element order follows what SableDB stores: sets, hashes and the sorted
//! sets' listpacks and skiplists in the orders Redis writes them where Redis' order is defined (intset: ascending;
//! sorted sets: by score then member; skiplist: from the tail), and byte order for hash fields and hash-table set
//! members, where Redis' order depends on insertion and hashing (so those payloads load the same but differ in
//! bytes; see docs/compatibility.md).
//!
//! RESTORE decodes every type Redis 7.0 loads (not modules or streams), checking every length, and writes the
//! value in one transaction under the key's lock with the encoding Redis would give the loaded object.

pub mod crc64;
pub mod listpack;
pub mod lzf;
pub mod rdb;

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use super::stream::rdb as stream_rdb;
use super::string::lookup_read;
use super::{list, zset, Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::storage::encoding::{
    encode_string, hash_field_value, list_sub, score_from_key, split_hash_field, zset_member_sub, Collection, MetaView,
    ZSET_BY_SCORE,
};
use crate::storage::{scope, Existing, KeyType, Txn};
use crate::util::{now_ms, parse_i64};
use rdb::{SaveOptions, Value};

/// RESTORE-ASKING is RESTORE for a cluster's slot migration (Redis runs the same command for both).
pub const HANDLERS: &[(&str, Handler)] = &[("dump", dump), ("restore", restore), ("restore-asking", restore)];

fn save_options(ctx: &Ctx) -> SaveOptions {
    let cfg = ctx.server.config.read();
    SaveOptions {
        compression: cfg.str("rdbcompression") != "no",
        list_fill: cfg.int("list-max-listpack-size"),
        list_compress_depth: cfg.int("list-compress-depth"),
    }
}

/// Every element record of collection `uid` from `from` on, in byte order.
fn records(ctx: &Ctx, uid: u64, from: &[u8], to: Option<&[u8]>) -> CmdResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut cur = ctx.store.data_range(uid, from, to, false);
    let mut out = Vec::new();
    while let Some((k, v)) = cur.next()? {
        out.push((k.to_vec(), v.to_vec()));
    }
    Ok(out)
}

fn corrupt() -> CmdError {
    CmdError::Storage("corrupt collection record".into())
}

/// The DUMP payload of the stored value `m`.
pub(crate) fn payload(ctx: &Ctx, m: &MetaView) -> CmdResult<Vec<u8>> {
    let opts = save_options(ctx);
    let Some(coll) = Collection::from_view(m) else {
        return Ok(rdb::dump(rdb::TYPE_STRING, &rdb::string_object(m.body(), &opts)));
    };
    Ok(match coll.kind {
        KeyType::String => return Err(corrupt()),
        // Redis' RDB stream encoding (listpacks in a radix tree with the groups' PELs) is not written yet: an
        // error, never bytes Redis would load differently.
        KeyType::Stream => {
            let s = super::stream::store::expect_stream(m)?;
            let object = super::stream::rdb::dump_object(ctx.store, &s, opts.compression)?;
            rdb::dump(super::stream::rdb::TYPE_STREAM_LISTPACKS_2, &object)
        }
        KeyType::List => {
            let (lo, hi) = (list_sub(coll.head), list_sub(coll.head.wrapping_add(coll.len)));
            let hi = (coll.head.checked_add(coll.len).is_some()).then_some(&hi[..]);
            let elements: Vec<Vec<u8>> = records(ctx, coll.uid, &lo, hi)?.into_iter().map(|(_, v)| v).collect();
            rdb::dump(rdb::TYPE_LIST_QUICKLIST_2, &rdb::list_object(&elements, &opts))
        }
        KeyType::Set => {
            let members = records(ctx, coll.uid, &[], None)?;
            if coll.big {
                let object = rdb::strings_object(members.len(), members.iter().map(|(k, _)| &k[..]), &opts);
                rdb::dump(rdb::TYPE_SET, &object)
            } else {
                let mut ints =
                    members.iter().map(|(k, _)| parse_i64(k).ok_or_else(corrupt)).collect::<CmdResult<Vec<i64>>>()?;
                ints.sort_unstable();
                rdb::dump(rdb::TYPE_SET_INTSET, &rdb::intset_object(&ints, &opts))
            }
        }
        KeyType::Hash => {
            let mut pairs = records(ctx, coll.uid, &[], None)?;
            if !coll.big {
                // A listpack keeps the hash's insertion order, and a RESTORE of it lists fields in that order.
                pairs.sort_by_cached_key(|(_, raw)| split_hash_field(raw).0);
            }
            let flat = pairs.iter().flat_map(|(f, raw)| [&f[..], split_hash_field(raw).1]);
            if coll.big {
                rdb::dump(rdb::TYPE_HASH, &rdb::strings_object(pairs.len(), flat, &opts))
            } else {
                rdb::dump(rdb::TYPE_HASH_LISTPACK, &rdb::listpack_object(flat, &opts))
            }
        }
        KeyType::ZSet => {
            let by_score = records(ctx, coll.uid, &[ZSET_BY_SCORE], Some(&[ZSET_BY_SCORE + 1]))?;
            let mut entries = Vec::with_capacity(by_score.len());
            for (sub, _) in by_score {
                let key: [u8; 8] = sub.get(1..9).and_then(|k| k.try_into().ok()).ok_or_else(corrupt)?;
                let member = sub[9..].to_vec();
                let mut score = score_from_key(key);
                if score == 0.0 {
                    // The score key folds -0 into 0; the member record keeps the sign.
                    if let Some(v) = ctx.store.data_get(coll.uid, &zset_member_sub(&member))? {
                        let bits: [u8; 8] = v.as_slice().try_into().map_err(|_| corrupt())?;
                        score = f64::from_bits(u64::from_be_bytes(bits));
                    }
                }
                entries.push((member, score));
            }
            if coll.big {
                entries.reverse();
                rdb::dump(rdb::TYPE_ZSET_2, &rdb::zset2_object(&entries, &opts))
            } else {
                let texts: Vec<(Vec<u8>, Vec<u8>)> =
                    entries.into_iter().map(|(m, s)| (m, rdb::score_text(s))).collect();
                let flat = texts.iter().flat_map(|(m, s)| [&m[..], &s[..]]);
                rdb::dump(rdb::TYPE_ZSET_LISTPACK, &rdb::listpack_object(flat, &opts))
            }
        }
    })
}

fn dump(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    scope::settle();
    let _guard = ctx.store.locks.lock(&[key]);
    let Some(rec) = lookup_read(ctx, key)? else {
        ctx.out.null();
        return Ok(());
    };
    let bytes = payload(ctx, &rec.view())?;
    ctx.out.bulk(&bytes);
    Ok(())
}

fn bad_format() -> CmdError {
    CmdError::err("Bad data format")
}

/// RESTORE's options, checked in Redis' order and with its messages.
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    /// IDLETIME: seconds since the key's last access, for OBJECT IDLETIME.
    idle: Option<u64>,
    /// FREQ: the LFU counter the key starts with.
    freq: Option<u8>,
}

fn parse_options(args: &mut Args) -> CmdResult<RestoreOptions> {
    let mut o = RestoreOptions { replace: false, absttl: false, idle: None, freq: None };
    let (mut idle, mut freq) = (false, false);
    while let Some(_opt) = args.peek() {
        let additional = args.remaining() - 1;
        if args.eat("REPLACE") {
            o.replace = true;
        } else if args.eat("ABSTTL") {
            o.absttl = true;
        } else if additional >= 1 && !freq && args.eat("IDLETIME") {
            let v = parse_i64(args.next_bytes()?).ok_or(CmdError::NotInteger)?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = true;
            o.idle = Some(v as u64);
        } else if additional >= 1 && !idle && args.eat("FREQ") {
            let v = parse_i64(args.next_bytes()?).ok_or(CmdError::NotInteger)?;
            let Ok(v) = u8::try_from(v) else {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            };
            freq = true;
            o.freq = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// The listpack / intset limits that decide whether Redis keeps a loaded collection small.
struct Limits {
    hash_entries: u64,
    hash_value: usize,
    zset_entries: u64,
    zset_value: usize,
    intset_entries: u64,
}

impl Limits {
    fn read(ctx: &Ctx) -> Limits {
        let c = ctx.server.config.read();
        let n = |name: &str| c.int(name).max(0) as u64;
        Limits {
            hash_entries: n("hash-max-listpack-entries"),
            hash_value: n("hash-max-listpack-value") as usize,
            zset_entries: n("zset-max-listpack-entries"),
            zset_value: n("zset-max-listpack-value") as usize,
            intset_entries: n("set-max-intset-entries"),
        }
    }
}

/// False when `items` repeats one (Redis refuses duplicate set members, hash fields and sorted set members).
fn distinct<'a>(items: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut seen = HashSet::new();
    items.into_iter().all(|i| seen.insert(i))
}

/// Writes `value`, loaded from an object of RDB type `rdb_type`, as `key` with expiry `expire_at` (replacing
/// `old`), in the encoding `rdbLoadObject` gives it: a listpack or ziplist hash or sorted set stays one unless it
/// has too many entries; one built entry by entry (hash table, skiplist) becomes small only when every entry fits
/// the listpack limits; a set is an intset when every member is an integer and there are few enough of them.
fn write_value(
    ctx: &Ctx,
    txn: &mut Txn,
    key: &[u8],
    old: Option<&Existing>,
    (rdb_type, value): (u8, Value),
    expire_at: u64,
) -> CmdResult {
    let db = ctx.db();
    let limits = Limits::read(ctx);
    let compact = matches!(
        rdb_type,
        rdb::TYPE_HASH_LISTPACK | rdb::TYPE_HASH_ZIPLIST | rdb::TYPE_ZSET_LISTPACK | rdb::TYPE_ZSET_ZIPLIST
    );
    let mut c = match &value {
        Value::String(s) => {
            txn.put(db, key, old, encode_string(expire_at, s));
            return Ok(());
        }
        Value::List(_) => Collection::new(KeyType::List, ctx.store.new_uid()?),
        Value::Set(_) => Collection::new(KeyType::Set, ctx.store.new_uid()?),
        Value::Hash(_) => Collection::new(KeyType::Hash, ctx.store.new_uid()?),
        Value::ZSet(_) => Collection::new(KeyType::ZSet, ctx.store.new_uid()?),
    };
    c.expire_at = expire_at;
    match value {
        Value::String(_) => {}
        Value::List(elements) => list::push_all(txn, &mut c, &elements, false)?,
        Value::Set(members) => {
            let all_int = members.iter().all(|m| parse_i64(m).is_some());
            c.big = !(all_int && members.len() as u64 <= limits.intset_entries);
            for m in &members {
                txn.data_put(c.uid, m, b"");
            }
            c.len = members.len() as u64;
        }
        Value::Hash(pairs) => {
            let long = || pairs.iter().any(|(f, v)| f.len() > limits.hash_value || v.len() > limits.hash_value);
            c.big = pairs.len() as u64 > limits.hash_entries || (!compact && long());
            for (f, v) in &pairs {
                let ordinal = c.next_ordinal();
                txn.data_put(c.uid, f, &hash_field_value(ordinal, v));
            }
            c.len = pairs.len() as u64;
        }
        Value::ZSet(entries) => {
            let long = || entries.iter().any(|(m, _)| m.len() > limits.zset_value);
            c.big = entries.len() as u64 > limits.zset_entries || (!compact && long());
            // The encoding is decided: `insert` must not convert on the way.
            let no_limit = zset::Limits { entries: u64::MAX, value: usize::MAX };
            for (m, s) in &entries {
                zset::insert(txn, &mut c, no_limit, m, *s);
            }
        }
    }
    txn.put(db, key, old, c.encode());
    Ok(())
}

/// Decodes a verified object and checks what SableDB's records need: no duplicates, no NaN scores.
fn decode(object: &[u8]) -> CmdResult<(u8, Value)> {
    let (rdb_type, value) = rdb::load(object).ok_or_else(bad_format)?;
    let ok = match &value {
        Value::String(_) | Value::List(_) => true,
        Value::Set(v) => distinct(v.iter().map(|m| &m[..])),
        Value::Hash(v) => distinct(v.iter().map(|(f, _)| &f[..])),
        Value::ZSet(v) => v.iter().all(|(_, s)| !s.is_nan()) && distinct(v.iter().map(|(m, _)| &m[..])),
    };
    if ok {
        Ok((rdb_type, value))
    } else {
        Err(bad_format())
    }
}

fn restore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let ttl_arg = args.next_bytes()?;
    let payload = args.next_bytes()?;
    let opts = parse_options(args)?;
    let _guard = ctx.store.locks.lock(&[key]);
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, key)?;
    let live = old.as_ref().is_some_and(|o| o.live().is_some());
    // Without REPLACE, `lookupKeyWrite` expires a key whose time has passed; with it, `dbDelete` removes
    // whatever record is there.
    let expired_old = !opts.replace && old.is_some() && !live;
    if !opts.replace && live {
        return Err(CmdError::Prefixed("BUSYKEY", "Target key name already exists.".into()));
    }
    let ttl = parse_i64(ttl_arg).ok_or(CmdError::NotInteger)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    if !rdb::verify(payload) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    // As Redis, the object is read from the whole payload: its reads may run into the footer.
    let stream = match payload[0] {
        t @ (stream_rdb::TYPE_STREAM_LISTPACKS | stream_rdb::TYPE_STREAM_LISTPACKS_2) => {
            let mut r = rdb::Reader::new(&payload[1..]);
            Some(stream_rdb::load(&mut r, t).ok_or_else(bad_format)?)
        }
        _ => None,
    };
    let value = match stream {
        Some(_) => None,
        None => Some(decode(payload)?),
    };
    let now = now_ms() as i64;
    let expire_at = if ttl != 0 && !opts.absttl { ttl.saturating_add(now) } else { ttl };
    if expired_old {
        ctx.store.expired_keys.fetch_add(1, Ordering::Relaxed);
    }
    if expire_at != 0 && expire_at <= now {
        // Already expired: the value is not created; a replaced key is deleted.
        let deleted = opts.replace && old.is_some();
        if let Some(o) = old.as_ref() {
            if deleted || expired_old {
                txn.delete(db, key, o);
            }
        }
        txn.commit()?;
        if expired_old {
            notify(ctx, notify::EXPIRED, "expired", key);
        }
        if deleted {
            notify(ctx, notify::GENERIC, "del", key);
        }
        ctx.out.ok();
        return Ok(());
    }
    match (stream, value) {
        (Some(loaded), _) => {
            let meta = stream_rdb::write(&mut txn, ctx.store.new_uid()?, loaded, expire_at as u64);
            txn.put(db, key, old.as_ref(), meta.encode());
        }
        (None, Some(value)) => write_value(ctx, &mut txn, key, old.as_ref(), value, expire_at as u64)?,
        (None, None) => return Err(bad_format()),
    }
    // As Redis' `objectSetLRUOrLFU`: the frequency counts under an LFU policy, the idle time under another.
    if ctx.store.lfu() {
        if let Some(freq) = opts.freq {
            txn.set_frequency(db, key, freq);
        }
    } else if let Some(idle) = opts.idle {
        txn.set_idle(db, key, idle);
    }
    txn.commit()?;
    if expired_old {
        notify(ctx, notify::EXPIRED, "expired", key);
    }
    // `dbAdd` announces the key as new (a replaced one was deleted first).
    notify(ctx, notify::NEW, "new", key);
    notify(ctx, notify::GENERIC, "restore", key);
    ctx.out.ok();
    Ok(())
}
