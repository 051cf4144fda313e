//! DUMP and RESTORE of a stream in Redis 7.0's RDB encoding (`RDB_TYPE_STREAM_LISTPACKS_2`, type 19; RESTORE
//! also reads the 6.x `RDB_TYPE_STREAM_LISTPACKS`, type 15): the listpack nodes of Redis' radix tree (a master
//! entry, then each entry as flags, ID deltas, fields and values), the stream's counters, and each consumer
//! group with its PEL and consumers (`rdb.c`'s `rdbSaveObject` / `rdbLoadObject`). DUMP writes one node per node
//! Redis would hold (see the node emulation in [`super`]), holding only live entries, so its bytes differ from
//! Redis' where Redis still keeps deleted entries flagged in a node; both servers load either payload the same.

use super::id::StreamId;
use super::store::{self, Group, Nack, StreamMeta};
use crate::commands::dump::listpack::{self, Builder};
use crate::commands::dump::rdb::{save_len, save_string, Reader};
use crate::commands::CmdResult;
use crate::storage::{Store, Txn};

pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// A node's master ID and its entries as (ID, stored value).
type StoredNode = (StreamId, Vec<(StreamId, Vec<u8>)>);
/// Entries decoded from a node: (ID, field/value strings).
type LoadedEntries = Vec<(StreamId, Vec<Vec<u8>>)>;

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn num(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

/// One listpack node: `[count][deleted][n][master fields…][0]`, then each entry.
fn node_listpack(master: StreamId, entries: &[(StreamId, Vec<u8>)]) -> CmdResult<Vec<u8>> {
    let mut b = Builder::new();
    let first = store::entry_fields(&entries[0].1)?;
    let master_fields: Vec<&[u8]> = first.iter().step_by(2).copied().collect();
    b.push(&num(entries.len() as i64));
    b.push(b"0");
    b.push(&num(master_fields.len() as i64));
    for f in &master_fields {
        b.push(f);
    }
    b.push(b"0");
    for (id, v) in entries {
        let fields = store::entry_fields(v)?;
        let n = fields.len() / 2;
        let same = n == master_fields.len() && fields.iter().step_by(2).zip(&master_fields).all(|(a, b)| a == b);
        b.push(&num(if same { FLAG_SAMEFIELDS } else { 0 }));
        b.push(&num(id.ms.wrapping_sub(master.ms) as i64));
        b.push(&num(id.seq.wrapping_sub(master.seq) as i64));
        if same {
            for v in fields.iter().skip(1).step_by(2) {
                b.push(v);
            }
        } else {
            b.push(&num(n as i64));
            for f in &fields {
                b.push(f);
            }
        }
        let lp_count = n as i64 + 3 + if same { 0 } else { n as i64 + 1 };
        b.push(&num(lp_count));
    }
    Ok(b.finish())
}

fn save_ms(out: &mut Vec<u8>, ms: u64) {
    out.extend_from_slice(&(ms as i64).to_le_bytes());
}

/// The object (after the type byte) of the stream `s`.
pub fn dump_object(store: &Store, s: &StreamMeta, compression: bool) -> CmdResult<Vec<u8>> {
    let all = store::entries(store, s.uid, super::id::MIN_ID, super::id::MAX_ID, 0, false)?;
    let mut nodes: Vec<StoredNode> = Vec::new();
    for (id, v) in all {
        let node = store::entry_node(&v);
        match nodes.last_mut() {
            Some((n, list)) if *n == node => list.push((id, v)),
            _ => nodes.push((node, vec![(id, v)])),
        }
    }
    let mut out = Vec::new();
    save_len(&mut out, nodes.len() as u64);
    for (master, entries) in &nodes {
        save_string(&mut out, &master.to_bytes(), compression);
        save_string(&mut out, &node_listpack(*master, entries)?, compression);
    }
    for n in [s.len, s.last.ms, s.last.seq, s.first.ms, s.first.seq, s.max_deleted.ms, s.max_deleted.seq] {
        save_len(&mut out, n);
    }
    save_len(&mut out, s.entries_added);
    let groups = store::group_names(store, s.uid)?;
    save_len(&mut out, groups.len() as u64);
    for (name, g) in &groups {
        save_string(&mut out, name, compression);
        save_len(&mut out, g.last.ms);
        save_len(&mut out, g.last.seq);
        save_len(&mut out, g.entries_read as u64);
        let pel = store::records_under(store, s.uid, &store::group_prefix(store::NACK, name), usize::MAX)?;
        save_len(&mut out, pel.len() as u64);
        for (idb, v) in &pel {
            let nack = Nack::decode(v)?;
            out.extend_from_slice(idb);
            save_ms(&mut out, nack.delivery_time);
            save_len(&mut out, nack.delivery_count);
        }
        let consumers = store::records_under(store, s.uid, &store::group_prefix(store::CONSUMER, name), usize::MAX)?;
        save_len(&mut out, consumers.len() as u64);
        for (cname, v) in &consumers {
            save_string(&mut out, cname, compression);
            save_ms(&mut out, store::decode_seen(v));
            let cpel = store::records_under(store, s.uid, &store::consumer_pel_prefix(name, cname), usize::MAX)?;
            save_len(&mut out, cpel.len() as u64);
            for (idb, _) in &cpel {
                out.extend_from_slice(idb);
            }
        }
    }
    Ok(out)
}

/// A stream decoded from a payload.
pub struct Loaded {
    /// (node master ID, its live entries as (ID, field/value strings)), in ID order.
    /// (master ID, live entries, last ID ever in the node).
    nodes: Vec<(StreamId, LoadedEntries, StreamId)>,
    /// Entries of the last node, deleted ones included, and its listpack size.
    tail_count: u64,
    tail_bytes: u64,
    len: u64,
    last: StreamId,
    first: Option<StreamId>,
    max_deleted: StreamId,
    entries_added: Option<u64>,
    groups: Vec<LoadedGroup>,
}

struct LoadedGroup {
    name: Vec<u8>,
    last: StreamId,
    entries_read: Option<i64>,
    /// (ID, delivery time, delivery count, owner).
    pel: Vec<(StreamId, u64, u64, Option<Vec<u8>>)>,
    consumers: Vec<(Vec<u8>, u64)>,
}

fn int(s: &[u8]) -> Option<i64> {
    crate::util::parse_i64(s)
}

/// Decodes one node's listpack into its live entries; with its entry count (deleted included).
fn load_node(master: StreamId, lp: &[u8]) -> Option<(LoadedEntries, u64, Option<StreamId>)> {
    let items = listpack::entries(lp)?;
    let mut it = items.into_iter();
    let mut next = || it.next();
    let count = int(&next()?)?;
    let deleted = int(&next()?)?;
    let nmaster = usize::try_from(int(&next()?)?).ok()?;
    let mut master_fields = Vec::with_capacity(nmaster.min(1024));
    for _ in 0..nmaster {
        master_fields.push(next()?);
    }
    if int(&next()?)? != 0 {
        return None;
    }
    let total = u64::try_from(count.checked_add(deleted)?).ok()?;
    let mut live = Vec::new();
    let mut last: Option<StreamId> = None;
    for _ in 0..total {
        let flags = int(&next()?)?;
        let ms = master.ms.wrapping_add(int(&next()?)? as u64);
        let seq = master.seq.wrapping_add(int(&next()?)? as u64);
        let id = StreamId::new(ms, seq);
        if last.is_some_and(|l| l >= id) {
            return None;
        }
        last = Some(id);
        let mut pairs = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                pairs.push(f.clone());
                pairs.push(next()?);
            }
        } else {
            let n = usize::try_from(int(&next()?)?).ok()?;
            for _ in 0..n.saturating_mul(2) {
                pairs.push(next()?);
            }
        }
        next()?; // lp-count
        if pairs.is_empty() {
            return None;
        }
        if flags & FLAG_DELETED == 0 {
            live.push((id, pairs));
        }
    }
    if next().is_some() || live.len() as i64 != count {
        return None;
    }
    Some((live, total, last))
}

/// Decodes a stream object of RDB type `t` (after the type byte); None when malformed or inconsistent.
pub fn load(r: &mut Reader, t: u8) -> Option<Loaded> {
    let n = r.count()?;
    let mut nodes = Vec::new();
    let (mut tail_count, mut tail_bytes) = (0, 0);
    let mut prev: Option<StreamId> = None;
    for _ in 0..n {
        let key = r.string()?;
        if key.len() != 16 {
            return None;
        }
        let master = StreamId::from_bytes(&key)?;
        let lp = r.string()?;
        let (entries, total, node_last) = load_node(master, &lp)?;
        if entries.first().is_some_and(|(id, _)| prev.is_some_and(|p| *id <= p)) {
            return None;
        }
        if let Some((id, _)) = entries.last() {
            prev = Some(*id);
        }
        tail_count = total;
        tail_bytes = lp.len() as u64;
        // A node whose entries are all deleted is still a node (exact trimming leaves such nodes).
        nodes.push((master, entries, node_last.unwrap_or(master)));
    }
    let len = r.len()?;
    let last = StreamId::new(r.len()?, r.len()?);
    let (first, max_deleted, entries_added) = if t == TYPE_STREAM_LISTPACKS_2 {
        let first = StreamId::new(r.len()?, r.len()?);
        let max_deleted = StreamId::new(r.len()?, r.len()?);
        (Some(first), max_deleted, Some(r.len()?))
    } else {
        (None, StreamId::default(), None)
    };
    let live: usize = nodes.iter().map(|(_, e, _)| e.len()).sum();
    if live as u64 != len || prev.is_some_and(|p| p > last) {
        return None;
    }
    let ngroups = r.count()?;
    let mut groups: Vec<LoadedGroup> = Vec::new();
    for _ in 0..ngroups {
        let name = r.string()?;
        if groups.iter().any(|g| g.name == name) {
            return None;
        }
        let glast = StreamId::new(r.len()?, r.len()?);
        let entries_read = if t == TYPE_STREAM_LISTPACKS_2 { Some(r.len()? as i64) } else { None };
        let npel = r.count()?;
        let mut pel: Vec<(StreamId, u64, u64, Option<Vec<u8>>)> = Vec::new();
        for _ in 0..npel {
            let id = StreamId::from_bytes(r.bytes(16)?)?;
            let time = i64::from_le_bytes(r.bytes(8)?.try_into().ok()?) as u64;
            let count = r.len()?;
            pel.push((id, time, count, None));
        }
        pel.sort_by_key(|p| p.0);
        if pel.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let ncons = r.count()?;
        let mut consumers: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut owned = 0;
        for _ in 0..ncons {
            let cname = r.string()?;
            if consumers.iter().any(|(c, _)| *c == cname) {
                return None;
            }
            let seen = i64::from_le_bytes(r.bytes(8)?.try_into().ok()?) as u64;
            let ncpel = r.count()?;
            for _ in 0..ncpel {
                let id = StreamId::from_bytes(r.bytes(16)?)?;
                let i = pel.binary_search_by_key(&id, |p| p.0).ok()?;
                if pel[i].3.is_some() {
                    return None;
                }
                pel[i].3 = Some(cname.clone());
                owned += 1;
            }
            consumers.push((cname, seen));
        }
        // Every pending entry must have an owner (Redis' sanitizer requires it too).
        if owned != pel.len() {
            return None;
        }
        groups.push(LoadedGroup { name, last: glast, entries_read, pel, consumers });
    }
    Some(Loaded { nodes, tail_count, tail_bytes, len, last, first, max_deleted, entries_added, groups })
}

/// Writes a decoded stream's records under the new uid `uid`; returns its meta.
pub fn write(txn: &mut Txn, uid: u64, l: Loaded, expire_at: u64) -> StreamMeta {
    let mut s = StreamMeta::new(uid);
    s.expire_at = expire_at;
    s.len = l.len;
    s.last = l.last;
    s.max_deleted = l.max_deleted;
    let first_live = l.nodes.iter().find_map(|(_, e, _)| e.first()).map(|(id, _)| *id);
    s.first = l.first.unwrap_or_else(|| first_live.unwrap_or_default());
    s.entries_added = l.entries_added.unwrap_or(l.len);
    if let Some((head, _, _)) = l.nodes.first() {
        s.head = *head;
    }
    if let Some((tail, entries, _)) = l.nodes.last() {
        s.tail = *tail;
        s.tail_live = entries.len() as u64;
        s.tail_count = l.tail_count.max(s.tail_live);
        s.tail_bytes = l.tail_bytes;
    }
    for (node, entries, node_last) in &l.nodes {
        for (id, pairs) in entries {
            txn.data_put(uid, &store::entry_sub(*id), &store::encode_entry(*node, pairs));
        }
        let rec = store::NodeRec { last: *node_last, live: entries.len() as u64 };
        txn.data_put(uid, &store::node_sub(*node), &rec.encode());
    }
    for g in l.groups {
        let entries_read = g.entries_read.unwrap_or_else(|| store::estimate_distance(&s, g.last));
        txn.data_put(uid, &store::group_sub(&g.name), &Group { last: g.last, entries_read }.encode());
        for (id, time, count, owner) in &g.pel {
            let owner = owner.as_deref().unwrap_or_default();
            let nack = Nack { delivery_time: *time, delivery_count: *count, consumer: owner.to_vec() };
            txn.data_put(uid, &store::nack_sub(&g.name, *id), &nack.encode());
            txn.data_put(uid, &store::consumer_pel_sub(&g.name, owner, *id), &[]);
        }
        for (cname, seen) in &g.consumers {
            txn.data_put(uid, &store::consumer_sub(&g.name, cname), &seen.to_be_bytes());
        }
    }
    s
}
