//! How a stream is kept (see `docs/design/encoding.md`, "Streams"): the meta record's body ([`StreamMeta`]) and the
//! `data` records under the stream's uid — entries, consumer groups, their pending entries (PEL), consumers and
//! per-consumer PEL index — with their sub keys and values, and the helpers that read and write them.

use super::id::StreamId;
use crate::commands::{CmdError, CmdResult, Ctx};
use crate::storage::encoding::{MetaView, META_HEADER};
use crate::storage::{Existing, KeyType, Store, Txn};

/// Sub key tags under the stream's uid.
pub const ENTRY: u8 = 0;
pub const GROUP: u8 = 1;
pub const NACK: u8 = 2;
pub const CONSUMER: u8 = 3;
pub const CONSUMER_PEL: u8 = 4;
pub const NODE: u8 = 5;

/// Redis' `SCG_INVALID_ENTRIES_READ`.
pub const INVALID_READ: i64 = -1;

/// A stream's meta record: `[type 6][expire_at][uid][len][0: u64][last][first][max deleted][entries added]
/// [tail node][tail count][tail live][tail bytes]`, IDs as 16 big-endian bytes. The first three words are a
/// collection's, so the generic code (deletion, GC, RENAME, COPY's element copy) handles streams too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMeta {
    pub expire_at: u64,
    pub uid: u64,
    pub len: u64,
    pub last: StreamId,
    /// Redis' `first_id` (0-0 when empty).
    pub first: StreamId,
    pub max_deleted: StreamId,
    pub entries_added: u64,
    /// The master ID of the node Redis would append to (its listpack's first entry), to emulate whole-node
    /// trimming and `radix-tree-keys`.
    pub tail: StreamId,
    /// Entries ever put in the tail node, deleted ones included (Redis' node fill test); 0: there is no tail node
    /// (none yet, or it was trimmed whole or emptied by XDEL), the next XADD starts one.
    pub tail_count: u64,
    /// Live entries of the tail node (0 with a tail node: exact trimming deleted them all, the node lives on).
    pub tail_live: u64,
    /// Approximate listpack bytes of the tail node (Redis' `stream-node-max-bytes` test).
    pub tail_bytes: u64,
    /// The master ID of the first node (0-0: no node), so trimming that removes nothing costs point reads only.
    pub head: StreamId,
}

const BODY: usize = 24 + 16 * 3 + 8 + 16 + 8 * 3 + 16;

impl StreamMeta {
    pub fn new(uid: u64) -> Self {
        StreamMeta {
            expire_at: 0,
            uid,
            len: 0,
            last: StreamId::default(),
            first: StreamId::default(),
            max_deleted: StreamId::default(),
            entries_added: 0,
            tail: StreamId::default(),
            tail_count: 0,
            tail_live: 0,
            tail_bytes: 0,
            head: StreamId::default(),
        }
    }

    pub fn from_view(m: &MetaView) -> Option<Self> {
        let b = m.body();
        if m.key_type() != KeyType::Stream || b.len() < BODY {
            return None;
        }
        let word = |at: usize| u64::from_be_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        let id = |at: usize| StreamId::from_bytes(&b[at..at + 16]).unwrap_or_default();
        Some(StreamMeta {
            expire_at: m.expire_at(),
            uid: word(0),
            len: word(8),
            last: id(24),
            first: id(40),
            max_deleted: id(56),
            entries_added: word(72),
            tail: id(80),
            tail_count: word(96),
            tail_live: word(104),
            tail_bytes: word(112),
            head: id(120),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_HEADER + BODY);
        v.push(KeyType::Stream as u8);
        v.extend_from_slice(&self.expire_at.to_be_bytes());
        for w in [self.uid, self.len, 0] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for id in [self.last, self.first, self.max_deleted] {
            v.extend_from_slice(&id.to_bytes());
        }
        v.extend_from_slice(&self.entries_added.to_be_bytes());
        v.extend_from_slice(&self.tail.to_bytes());
        for w in [self.tail_count, self.tail_live, self.tail_bytes] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v.extend_from_slice(&self.head.to_bytes());
        v
    }
}

fn corrupt() -> CmdError {
    CmdError::Storage("corrupt stream record".into())
}

/// The stream in a live meta record, WRONGTYPE for another type.
pub fn expect_stream(m: &MetaView) -> CmdResult<StreamMeta> {
    if m.key_type() != KeyType::Stream {
        return Err(CmdError::WrongType);
    }
    StreamMeta::from_view(m).ok_or_else(corrupt)
}

/// The live stream at `key` for a reader (no lock): None when missing, WRONGTYPE for another type.
pub fn read(ctx: &Ctx, key: &[u8]) -> CmdResult<Option<StreamMeta>> {
    let rec = crate::commands::string::lookup_read(ctx, key)?;
    rec.map(|r| expect_stream(&r.view())).transpose()
}

/// A stream loaded by a writer under the key's lock.
pub struct Loaded {
    pub old: Option<Existing>,
    pub meta: Option<StreamMeta>,
}

pub fn load(txn: &Txn, db: u16, key: &[u8]) -> CmdResult<Loaded> {
    let old = txn.load(db, key)?;
    let meta = old.as_ref().and_then(|o| o.live()).map(|m| expect_stream(&m)).transpose()?;
    Ok(Loaded { old, meta })
}

// ---- sub keys ----

pub fn entry_sub(id: StreamId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = ENTRY;
    k[1..].copy_from_slice(&id.to_bytes());
    k
}

/// `[5][master id]` → the node's [`NodeRec`].
pub fn node_sub(node: StreamId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = NODE;
    k[1..].copy_from_slice(&node.to_bytes());
    k
}

/// A node record: the last ID ever put in the node (deleted entries stay in a Redis node: its last ID is what MINID
/// trimming compares) and its live entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRec {
    pub last: StreamId,
    pub live: u64,
}

impl NodeRec {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.last.to_bytes().to_vec();
        v.extend_from_slice(&self.live.to_be_bytes());
        v
    }

    pub fn decode(v: &[u8]) -> Option<NodeRec> {
        let last = StreamId::from_bytes(v)?;
        let live = u64::from_be_bytes(v.get(16..24)?.try_into().ok()?);
        Some(NodeRec { last, live })
    }
}

/// A node's record as `txn` sees it.
pub fn get_node(txn: &Txn, uid: u64, node: StreamId) -> CmdResult<Option<NodeRec>> {
    Ok(txn.data_get(uid, &node_sub(node))?.and_then(|v| NodeRec::decode(&v)))
}

pub fn group_sub(group: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + group.len());
    k.push(GROUP);
    k.extend_from_slice(group);
    k
}

/// `[tag][group len: u32][group]`: the prefix of a group's NACK, CONSUMER and CONSUMER_PEL records.
pub fn group_prefix(tag: u8, group: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(5 + group.len() + 40);
    k.push(tag);
    k.extend_from_slice(&(group.len() as u32).to_be_bytes());
    k.extend_from_slice(group);
    k
}

pub fn nack_sub(group: &[u8], id: StreamId) -> Vec<u8> {
    let mut k = group_prefix(NACK, group);
    k.extend_from_slice(&id.to_bytes());
    k
}

pub fn consumer_sub(group: &[u8], consumer: &[u8]) -> Vec<u8> {
    let mut k = group_prefix(CONSUMER, group);
    k.extend_from_slice(consumer);
    k
}

/// `[4][group len][group][consumer len: u32][consumer]`: the prefix of a consumer's PEL index.
pub fn consumer_pel_prefix(group: &[u8], consumer: &[u8]) -> Vec<u8> {
    let mut k = group_prefix(CONSUMER_PEL, group);
    k.extend_from_slice(&(consumer.len() as u32).to_be_bytes());
    k.extend_from_slice(consumer);
    k
}

pub fn consumer_pel_sub(group: &[u8], consumer: &[u8], id: StreamId) -> Vec<u8> {
    let mut k = consumer_pel_prefix(group, consumer);
    k.extend_from_slice(&id.to_bytes());
    k
}

/// The first byte string after every one starting with `prefix` (None: no such bound).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    crate::commands::collection::prefix_end(prefix)
}

// ---- values ----

/// An entry's value: `[node master id][n: u32]([len: u32][bytes])*2n`.
pub fn encode_entry(node: StreamId, pairs: &[impl AsRef<[u8]>]) -> Vec<u8> {
    let size: usize = pairs.iter().map(|p| 4 + p.as_ref().len()).sum();
    let mut v = Vec::with_capacity(20 + size);
    v.extend_from_slice(&node.to_bytes());
    v.extend_from_slice(&((pairs.len() / 2) as u32).to_be_bytes());
    for p in pairs {
        v.extend_from_slice(&(p.as_ref().len() as u32).to_be_bytes());
        v.extend_from_slice(p.as_ref());
    }
    v
}

/// The node an entry value belongs to.
pub fn entry_node(v: &[u8]) -> StreamId {
    StreamId::from_bytes(v).unwrap_or_default()
}

/// The field/value strings of an entry value, in order.
pub fn entry_fields(v: &[u8]) -> CmdResult<Vec<&[u8]>> {
    let n = v.get(16..20).ok_or_else(corrupt)?;
    let n = u32::from_be_bytes(n.try_into().map_err(|_| corrupt())?) as usize;
    let mut out = Vec::with_capacity(2 * n.min(1 << 16));
    let mut at = 20;
    for _ in 0..2 * n {
        let len = v.get(at..at + 4).ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(len.try_into().map_err(|_| corrupt())?) as usize;
        out.push(v.get(at + 4..at + 4 + len).ok_or_else(corrupt)?);
        at += 4 + len;
    }
    Ok(out)
}

/// A consumer group's record value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub last: StreamId,
    pub entries_read: i64,
}

impl Group {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = self.last.to_bytes().to_vec();
        v.extend_from_slice(&self.entries_read.to_be_bytes());
        v
    }

    pub fn decode(v: &[u8]) -> CmdResult<Group> {
        let last = StreamId::from_bytes(v).ok_or_else(corrupt)?;
        let read = v.get(16..24).ok_or_else(corrupt)?;
        Ok(Group { last, entries_read: i64::from_be_bytes(read.try_into().map_err(|_| corrupt())?) })
    }
}

/// A pending entry: `[delivery time ms][delivery count][consumer]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nack {
    pub delivery_time: u64,
    pub delivery_count: u64,
    pub consumer: Vec<u8>,
}

impl Nack {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(16 + self.consumer.len());
        v.extend_from_slice(&self.delivery_time.to_be_bytes());
        v.extend_from_slice(&self.delivery_count.to_be_bytes());
        v.extend_from_slice(&self.consumer);
        v
    }

    pub fn decode(v: &[u8]) -> CmdResult<Nack> {
        let w = |at: usize| -> CmdResult<u64> {
            Ok(u64::from_be_bytes(v.get(at..at + 8).ok_or_else(corrupt)?.try_into().map_err(|_| corrupt())?))
        };
        Ok(Nack { delivery_time: w(0)?, delivery_count: w(8)?, consumer: v[16..].to_vec() })
    }
}

/// A consumer's value: its seen time (ms).
pub fn decode_seen(v: &[u8]) -> u64 {
    v.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes).unwrap_or(0)
}

// ---- reads ----

/// A consumer group, as `txn` sees it.
pub fn get_group(txn: &Txn, uid: u64, group: &[u8]) -> CmdResult<Option<Group>> {
    txn.data_get(uid, &group_sub(group))?.map(|v| Group::decode(&v)).transpose()
}

/// A consumer group, for a reader.
pub fn read_group(store: &Store, uid: u64, group: &[u8]) -> CmdResult<Option<Group>> {
    store.data_get(uid, &group_sub(group))?.map(|v| Group::decode(&v)).transpose()
}

/// Every (sub key without `prefix`, value) under `prefix`, in order (committed records).
pub fn records_under(store: &Store, uid: u64, prefix: &[u8], limit: usize) -> CmdResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let end = prefix_end(prefix);
    let mut cur = store.data_range(uid, prefix, end.as_deref(), false);
    let mut out = Vec::new();
    while out.len() < limit {
        let Some((k, v)) = cur.next()? else { break };
        out.push((k[prefix.len()..].to_vec(), v.to_vec()));
    }
    Ok(out)
}

/// Number of records under `prefix`.
pub fn count_under(store: &Store, uid: u64, prefix: &[u8]) -> CmdResult<u64> {
    let end = prefix_end(prefix);
    let mut cur = store.data_range(uid, prefix, end.as_deref(), false);
    let mut n = 0;
    while cur.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// Entries with IDs in `start ..= end`, up to `count` (0: all), forward or backward: (id, value).
pub fn entries(
    store: &Store,
    uid: u64,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> CmdResult<Vec<(StreamId, Vec<u8>)>> {
    let mut out = Vec::new();
    if start > end {
        return Ok(out);
    }
    let lo = entry_sub(start);
    let hi = match end.incr() {
        Some(past) => entry_sub(past).to_vec(),
        None => vec![ENTRY + 1],
    };
    let mut cur = store.data_range(uid, &lo, Some(&hi), rev);
    while count == 0 || out.len() < count {
        let Some((k, v)) = cur.next()? else { break };
        let id = StreamId::from_bytes(&k[1..]).ok_or_else(corrupt)?;
        out.push((id, v.to_vec()));
    }
    Ok(out)
}

/// The first (or last) entry's ID, if any.
pub fn edge_id(store: &Store, uid: u64, last: bool) -> CmdResult<Option<StreamId>> {
    Ok(entries(store, uid, super::id::MIN_ID, super::id::MAX_ID, 1, last)?.first().map(|(id, _)| *id))
}

/// Group names in order.
pub fn group_names(store: &Store, uid: u64) -> CmdResult<Vec<(Vec<u8>, Group)>> {
    records_under(store, uid, &[GROUP], usize::MAX)?
        .into_iter()
        .map(|(name, v)| Ok((name, Group::decode(&v)?)))
        .collect()
}

/// Redis' `streamRangeHasTombstones` from `start` to the end.
pub fn has_tombstones_after(s: &StreamMeta, start: StreamId) -> bool {
    if s.len == 0 || s.max_deleted.is_zero() || s.first > s.max_deleted {
        return false;
    }
    start <= s.max_deleted
}

/// Redis' `streamEstimateDistanceFromFirstEverEntry`.
pub fn estimate_distance(s: &StreamMeta, id: StreamId) -> i64 {
    if s.entries_added == 0 {
        return 0;
    }
    if s.len == 0 && id <= s.last {
        return s.entries_added as i64;
    }
    if id == s.last {
        return s.entries_added as i64;
    } else if id > s.last {
        return INVALID_READ;
    }
    if s.max_deleted.is_zero() || s.max_deleted < s.first {
        if id < s.first {
            return s.entries_added.saturating_sub(s.len) as i64;
        } else if id == s.first {
            return s.entries_added.saturating_sub(s.len).saturating_add(1) as i64;
        }
    }
    INVALID_READ
}

/// A group's lag (Redis' `streamReplyWithCGLag`); None when it cannot be known.
pub fn lag(s: &StreamMeta, g: &Group) -> Option<i64> {
    if s.entries_added == 0 {
        return Some(0);
    }
    if g.entries_read != INVALID_READ && !has_tombstones_after(s, g.last) {
        return Some((s.entries_added as i64).saturating_sub(g.entries_read));
    }
    match estimate_distance(s, g.last) {
        INVALID_READ => None,
        read => Some((s.entries_added as i64).saturating_sub(read)),
    }
}

/// Writes one entry `[id, [field, value…]]` (or `[id, nil]` for a missing one in RESP2 `*-1`).
pub fn reply_entry(out: &mut crate::resp::reply::Reply, id: StreamId, value: &[u8]) -> CmdResult {
    let fields = entry_fields(value)?;
    out.array(2);
    out.bulk(id.text().as_bytes());
    out.array(fields.len());
    for f in fields {
        out.bulk(f);
    }
    Ok(())
}

pub fn reply_id(out: &mut crate::resp::reply::Reply, id: StreamId) {
    out.bulk(id.text().as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trip() {
        let mut m = StreamMeta::new(42);
        m.len = 3;
        m.last = StreamId::new(5, 6);
        m.first = StreamId::new(1, 1);
        m.max_deleted = StreamId::new(2, 0);
        m.entries_added = 9;
        m.tail = StreamId::new(4, 0);
        m.tail_count = 7;
        m.tail_live = 2;
        m.tail_bytes = 300;
        m.head = StreamId::new(2, 0);
        m.expire_at = 77;
        let raw = m.encode();
        let view = MetaView::parse(&raw).unwrap();
        assert_eq!(StreamMeta::from_view(&view), Some(m));
        let c = crate::storage::encoding::Collection::from_view(&view).unwrap();
        assert_eq!((c.kind, c.uid, c.len), (KeyType::Stream, 42, 3));
    }

    #[test]
    fn values_round_trip() {
        let v = encode_entry(StreamId::new(1, 2), &[&b"f"[..], b"", b"g", b"value"]);
        assert_eq!(entry_node(&v), StreamId::new(1, 2));
        assert_eq!(entry_fields(&v).unwrap(), vec![&b"f"[..], b"", b"g", b"value"]);
        assert!(entry_fields(&v[..v.len() - 1]).is_err());
        let n = Nack { delivery_time: 5, delivery_count: 2, consumer: b"alice".to_vec() };
        assert_eq!(Nack::decode(&n.encode()).unwrap(), n);
        let g = Group { last: StreamId::new(3, 3), entries_read: -1 };
        assert_eq!(Group::decode(&g.encode()).unwrap(), g);
        assert!(nack_sub(b"g", StreamId::new(1, 0)) < nack_sub(b"g", StreamId::new(2, 0)));
        assert!(consumer_pel_sub(b"g", b"a", StreamId::new(9, 0)) < consumer_pel_sub(b"g", b"ab", MIN));
    }
    const MIN: StreamId = super::super::id::MIN_ID;
}
