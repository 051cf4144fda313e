//! What the hash, list, set and sorted set families share: loading a collection for reading or for writing
//! (WRONGTYPE when the key holds another type) and writing it back, deleting it when it became empty; the cursors
//! and pages of SCAN, HSCAN, SSCAN and ZSCAN; and random picks (HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER,
//! RANDOMKEY): the count argument, the sampling helpers, and the trie descent that picks from a big collection
//! without walking it.

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;
use parking_lot::Mutex;

use super::{Args, CmdError, CmdResult, Ctx};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::storage::data::{expect_collection, DataCursor};
use crate::storage::encoding::Collection;
use crate::storage::{Existing, KeyType, Store, Txn};
use crate::util::glob::{glob_match, is_match_all};
use crate::util::random_u64;

/// The live collection at `key` for a reader (no lock): None when the key is missing, WRONGTYPE when it holds
/// another type. Counts a keyspace hit or miss.
pub fn read(ctx: &Ctx, key: &[u8], kind: KeyType) -> CmdResult<Option<Collection>> {
    let rec = super::string::lookup_read(ctx, key)?;
    rec.map(|r| expect_collection(&r.view(), kind)).transpose()
}

/// A collection loaded by a writer that holds the key's lock.
pub struct Loaded {
    /// The physical record, to pass to [`Txn::put`] / [`Txn::delete`] (may be expired).
    pub old: Option<Existing>,
    /// The live collection, if any.
    pub coll: Option<Collection>,
}

/// Loads `key` for writing: WRONGTYPE when a live key of another type is there.
pub fn load(txn: &Txn, db: u16, key: &[u8], kind: KeyType) -> CmdResult<Loaded> {
    let old = txn.load(db, key)?;
    let coll = old.as_ref().and_then(|o| o.live()).map(|m| expect_collection(&m, kind)).transpose()?;
    Ok(Loaded { old, coll })
}

/// Loads `key` for writing, or starts a new empty collection (with a fresh uid) when it is missing.
pub fn load_or_new(ctx: &Ctx, txn: &Txn, db: u16, key: &[u8], kind: KeyType) -> CmdResult<(Loaded, Collection)> {
    let loaded = load(txn, db, key, kind)?;
    let coll = match loaded.coll {
        Some(c) => c,
        None => Collection::new(kind, ctx.store.new_uid()?),
    };
    Ok((loaded, coll))
}

/// HLEN, LLEN, SCARD and ZCARD: the number of elements of the collection at the key argument, 0 when missing.
pub fn reply_len(ctx: &mut Ctx, args: &mut Args, kind: KeyType) -> CmdResult {
    let coll = read(ctx, args.next_bytes()?, kind)?;
    ctx.out.int(coll.map_or(0, |c| c.len as i64));
    Ok(())
}

/// The arguments of LMPOP, ZMPOP and their blocking forms from `numkeys` on: `numkeys key… END [COUNT count]`,
/// where END is one of `ends` (LEFT/RIGHT, MIN/MAX). Returns the keys, whether END is the first of `ends`, and
/// COUNT (1 when absent); Redis' errors in Redis' order.
pub fn parse_mpop<'a>(args: &mut Args<'a>, ends: [&str; 2]) -> CmdResult<(&'a [Bytes], bool, usize)> {
    let at_least_one = |n: i64| usize::try_from(n).ok().filter(|&n| n >= 1);
    let numkeys = args.next_i64().ok().and_then(at_least_one);
    let numkeys = numkeys.ok_or_else(|| CmdError::err("numkeys should be greater than 0"))?;
    let rest = args.rest();
    // END must follow the keys.
    if numkeys >= rest.len() {
        return Err(CmdError::Syntax);
    }
    let keys = &rest[..numkeys];
    for _ in keys {
        args.next_bytes()?;
    }
    let first = if args.eat(ends[0]) {
        true
    } else if args.eat(ends[1]) {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    while !args.is_empty() {
        if count.is_none() && args.remaining() >= 2 && args.eat("COUNT") {
            let n = args.next_i64().ok().and_then(at_least_one);
            count = Some(n.ok_or_else(|| CmdError::err("count should be greater than 0"))?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((keys, first, count.unwrap_or(1)))
}

/// Writes `coll` back as `key`'s record: deleted when it has no elements left (Redis never keeps an empty
/// collection), otherwise put (its expiry is the one in `coll`).
pub fn store(txn: &mut Txn, db: u16, key: &[u8], old: Option<&Existing>, coll: &Collection) {
    match (coll.len, old) {
        (0, Some(old)) => txn.delete(db, key, old),
        (0, None) => {}
        _ => txn.put(db, key, old, coll.encode()),
    }
}

/// Announces a change to the collection at `key` (`event` of `class`), then `del` when the change left it empty
/// (`len`), so deleted: Redis' order after every removal from a collection.
pub fn notify_change(ctx: &Ctx, class: u32, event: &str, key: &[u8], len: u64) {
    notify(ctx, class, event, key);
    if len == 0 {
        notify(ctx, notify::GENERIC, "del", key);
    }
}

/// Most scan cursors kept at once, and most bytes of keys and elements they may hold; the oldest go first.
const MAX_SCAN_CURSORS: usize = 100_000;
const MAX_SCAN_CURSOR_BYTES: usize = 64 << 20;

/// Where SCAN, HSCAN, SSCAN and ZSCAN resume, server-wide (`Server::scan_cursors`): a numeric cursor names
/// (logical db, key — none for SCAN itself —, last key or element examined), and the next call continues just
/// after that one in byte order, from any connection. So whatever is present for the whole scan is returned
/// exactly once and the scan always ends. An unknown or evicted cursor starts over, which SCAN's guarantees allow.
#[derive(Default)]
pub struct ScanCursors {
    inner: Mutex<CursorMap>,
}

#[derive(Default)]
struct CursorMap {
    by_id: HashMap<u64, SavedCursor>,
    /// Ids in issue order, for eviction.
    order: VecDeque<u64>,
    bytes: usize,
}

struct SavedCursor {
    db: usize,
    key: Option<Vec<u8>>,
    last: Vec<u8>,
}

impl SavedCursor {
    fn bytes(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len) + self.last.len()
    }
}

impl ScanCursors {
    /// Remembers that a scan of `key` (None: the keyspace) in logical database `db` stopped at `last`; returns
    /// the cursor naming it.
    fn save(&self, db: usize, key: Option<&[u8]>, last: Vec<u8>) -> u64 {
        let mut m = self.inner.lock();
        let id = loop {
            // Non-zero and below 2^63, so clients that parse cursors as signed integers work too.
            let id = random_u64() >> 1;
            if id != 0 && !m.by_id.contains_key(&id) {
                break id;
            }
        };
        let saved = SavedCursor { db, key: key.map(<[u8]>::to_vec), last };
        m.bytes += saved.bytes();
        m.by_id.insert(id, saved);
        m.order.push_back(id);
        while m.by_id.len() > MAX_SCAN_CURSORS || m.bytes > MAX_SCAN_CURSOR_BYTES {
            let Some(old) = m.order.pop_front() else { break };
            if let Some(gone) = m.by_id.remove(&old) {
                m.bytes -= gone.bytes();
            }
        }
        id
    }

    /// The last key or element examined under `id`, if that cursor is known and belongs to `key` in `db`.
    fn resume(&self, id: u64, db: usize, key: Option<&[u8]>) -> Option<Vec<u8>> {
        let m = self.inner.lock();
        m.by_id.get(&id).filter(|c| c.db == db && c.key.as_deref() == key).map(|c| c.last.clone())
    }
}

/// Parses a SCAN cursor as Redis' `strtoul(…, 10)` with its checks: no leading space, nothing after the digits,
/// no overflow; an optional sign (a `-` wraps, as in C) and the empty string (cursor 0) are accepted.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    if arg.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return None;
    }
    let v = crate::util::parse_digits(digits)?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// The cursor argument of SCAN, HSCAN, SSCAN and ZSCAN.
pub fn scan_cursor(args: &mut Args) -> CmdResult<u64> {
    parse_cursor(args.next_bytes()?).ok_or_else(|| CmdError::err("invalid cursor"))
}

/// The options of a scan: `[MATCH pattern] [COUNT count]`, and `[TYPE type]` for SCAN itself.
pub struct ScanOptions<'a> {
    /// How many keys or elements a page examines.
    pub count: u64,
    /// None when everything matches.
    pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

impl ScanOptions<'_> {
    /// Parses the options after the cursor with Redis' errors (`scanGenericCommand`): TYPE only with `keyspace`.
    pub fn parse<'a>(args: &mut Args<'a>, keyspace: bool) -> CmdResult<ScanOptions<'a>> {
        let mut opts = ScanOptions { count: 10, pattern: None, type_name: None };
        while !args.is_empty() {
            if args.remaining() >= 2 && args.eat("COUNT") {
                opts.count = u64::try_from(args.next_i64()?).ok().filter(|&n| n >= 1).ok_or(CmdError::Syntax)?;
            } else if args.remaining() >= 2 && args.eat("MATCH") {
                opts.pattern = Some(&args.next_bytes()?[..]).filter(|p| !is_match_all(p));
            } else if keyspace && args.remaining() >= 2 && args.eat("TYPE") {
                opts.type_name = Some(args.next_bytes()?);
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(opts)
    }

    /// Whether `s` matches the MATCH pattern.
    pub fn matches(&self, s: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, s, false))
    }
}

/// One reply of SCAN, HSCAN, SSCAN or ZSCAN being built: the caller walks keys or elements in byte order from
/// where the cursor left off, [`examine`](ScanPage::examine)s each and [`push`](ScanPage::push)es what it returns;
/// [`finish`](ScanPage::finish) writes `[next cursor, [items…]]`.
pub struct ScanPage {
    /// (logical db, key) the next cursor belongs to; None for a page that returns everything.
    owner: Option<(usize, Option<Vec<u8>>)>,
    budget: u64,
    examined: u64,
    last: Vec<u8>,
    more: bool,
    items: Reply,
    n: usize,
}

impl ScanPage {
    /// A page that returns the whole collection and ends the scan, whatever the cursor and COUNT (Redis does so
    /// for a listpack or an intset), or the empty page of a missing key.
    pub fn whole() -> ScanPage {
        ScanPage {
            owner: None,
            budget: u64::MAX,
            examined: 0,
            last: Vec::new(),
            more: false,
            items: Reply::new(false),
            n: 0,
        }
    }

    /// A page of up to `count` keys or elements of `key` (None: the keyspace) in the client's database, where
    /// `cursor` left off. Returns it with where to walk from: just after the last one the cursor names, or the
    /// start for cursor 0 or an unknown cursor.
    pub fn resume(ctx: &Ctx, key: Option<&[u8]>, cursor: u64, count: u64) -> (ScanPage, Vec<u8>) {
        let db = ctx.client.db;
        let resumed = match cursor {
            0 => None,
            id => ctx.server.scan_cursors.resume(id, db, key),
        };
        // The smallest byte string after the last one examined (which may be the empty one).
        let from = resumed.map_or_else(Vec::new, |mut last| {
            last.push(0);
            last
        });
        let page = ScanPage { owner: Some((db, key.map(<[u8]>::to_vec))), budget: count, ..ScanPage::whole() };
        (page, from)
    }

    /// Counts `id` (a key, or an element's sub key) as examined, in walk order; false, and it is not examined,
    /// when the page is full: the walk stops there.
    pub fn examine(&mut self, id: &[u8]) -> bool {
        if self.examined == self.budget {
            self.more = true;
            return false;
        }
        self.examined += 1;
        if self.owner.is_some() {
            self.last.clear();
            self.last.extend_from_slice(id);
        }
        true
    }

    /// Adds one bulk string to the page's items.
    pub fn push(&mut self, item: &[u8]) {
        self.items.bulk(item);
        self.n += 1;
    }

    /// Writes the reply: the cursor naming the last one examined while more remain, else 0; then the items.
    pub fn finish(self, ctx: &mut Ctx) {
        let next = match self.owner {
            Some((db, key)) if self.more => ctx.server.scan_cursors.save(db, key.as_deref(), self.last),
            _ => 0,
        };
        ctx.out.array(2);
        ctx.out.bulk_int(next as i64);
        ctx.out.array(self.n);
        ctx.out.raw(&self.items.buf);
    }
}

/// Most elements SRANDMEMBER and ZRANDMEMBER return for a negative count: Redis builds any reply, even one of 2^63
/// elements (it runs out of memory); their picks are made in memory, so a bound keeps one command from exhausting
/// the server. (HRANDFIELD streams its picks and takes any count.)
pub const MAX_RANDOM_PICKS: u64 = 1 << 25;

/// The count of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER: a `long` in `-LONG_MAX ..= LONG_MAX`, as Redis'
/// `getRangeLongFromObjectOrReply`; with `with_word` (WITHVALUES, WITHSCORES) also the optional word after it,
/// and Redis' bound that keeps the RESP2 reply's 2 × count elements within a `long`. Returns the count and
/// whether the word was given.
pub fn random_count(args: &mut Args, with_word: Option<&str>) -> CmdResult<(i64, bool)> {
    let count = args.next_i64()?;
    if count == i64::MIN {
        return Err(CmdError::err(format!("value is out of range, value must between {} and {}", -i64::MAX, i64::MAX)));
    }
    let Some(word) = with_word else { return Ok((count, false)) };
    let with = match args.rest() {
        [] => false,
        [w] if w.eq_ignore_ascii_case(word.as_bytes()) => true,
        _ => return Err(CmdError::Syntax),
    };
    if with && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(out_of_range());
    }
    Ok((count, with))
}

/// Checks the number of picks of a negative count against [`MAX_RANDOM_PICKS`].
pub fn repeated_picks(count: i64) -> CmdResult<u64> {
    let n = count.unsigned_abs();
    if n > MAX_RANDOM_PICKS {
        return Err(out_of_range());
    }
    Ok(n)
}

/// Redis 7.0's own message for HRANDFIELD and ZRANDMEMBER counts it refuses.
fn out_of_range() -> CmdError {
    CmdError::err("value is out of range")
}

/// A random number below `n` (`n` > 0; the modulo bias is negligible for collection sizes).
pub fn random_below(n: u64) -> u64 {
    random_u64() % n.max(1)
}

/// Shuffles `v` uniformly (Fisher–Yates), for random picks gathered in collection order.
pub fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        v.swap(i, random_below(i as u64 + 1) as usize);
    }
}

/// Picks walk a collection, exactly uniformly, unless it has more elements than this per pick: then
/// [`TriePicker`] picks are cheaper. One costs about as much as walking 250 elements (a few dozen seeks against a
/// step each), and a single pick by a walk walks half the collection on average.
const WALK_PER_PICK: u64 = 500;

/// Whether `n` picks among `len` elements are cheaper by trie descents than by one walk.
pub fn sparse(len: u64, n: u64) -> bool {
    len > n.saturating_mul(WALK_PER_PICK)
}

/// How `n` picks with repeats (a negative count) among `len` elements are made.
pub enum RepeatPlan {
    /// Read every element and pick from memory: the collection is small, or no bigger than the reply.
    Memory,
    /// One walk that meets sorted random ranks ([`Ranks`]).
    Ranked,
    /// One [`TriePicker`] pick each: the collection is much bigger than the reply.
    Trie,
}

impl RepeatPlan {
    pub fn of(len: u64, n: u64) -> RepeatPlan {
        if len <= n || !sparse(len, 1) {
            RepeatPlan::Memory
        } else if sparse(len, n) {
            RepeatPlan::Trie
        } else {
            RepeatPlan::Ranked
        }
    }
}

/// Most branches [`TriePicker`] lists at one fork (one seek each); a fork with more is sampled by rejection.
const MAX_BRANCHES: usize = 16;
/// Most random bytes tried at a fork with more than [`MAX_BRANCHES`] branches (each a seek at worst); about 256 /
/// [`MAX_BRANCHES`] are needed on average at the worst.
const MAX_BRANCH_TRIES: usize = 1024;

/// The smallest byte string above every string that starts with `prefix`; None when there is none (all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Random elements of a big collection (or keys of a database), found without walking it: each pick descends
/// the trie of the elements' byte strings, jumping over the stretch all strings under the current prefix share,
/// and at each fork chooses one branch uniformly (a next byte present under the prefix, or the prefix itself when
/// it is an element), until one element is left. Every element can come out, though one behind a fork with few
/// branches comes out more often than under a uniform pick; unlike a seek to a random byte position, an element
/// right after a small gap (`bar` before `baz`) is as likely as others. A pick costs a few dozen seeks per fork
/// at most, all forward (backward ones are slow over the tombstones a drained collection leaves behind), on ONE
/// iterator: its snapshot is taken once, however many picks it makes, so what a seek found stays true and later
/// picks reuse it.
pub struct TriePicker<'a, L> {
    cur: DataCursor<'a>,
    /// Whether a record's value is live (expired keys are skipped).
    live: L,
    /// The first live element at or after each sub key sought so far.
    found: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

/// Most seeks a [`TriePicker`] remembers; past it, it forgets them all.
const MAX_REMEMBERED_SEEKS: usize = 1 << 16;

impl<'a> TriePicker<'a, fn(&[u8]) -> bool> {
    /// Picks among the elements of collection `uid` whose sub keys are in `from .. to` (None: to the end).
    pub fn elements(store: &'a Store, uid: u64, from: &[u8], to: Option<&[u8]>) -> Self {
        TriePicker::new(store.data_range(uid, from, to, false), |_| true)
    }
}

impl<'a, L: FnMut(&[u8]) -> bool> TriePicker<'a, L> {
    /// Picks among the records `cur` walks forward whose values are `live`.
    pub fn new(cur: DataCursor<'a>, live: L) -> Self {
        TriePicker { cur, live, found: HashMap::new() }
    }

    /// The first live element at or after `from`, and below `end` when given.
    fn first_from(&mut self, from: &[u8], end: Option<&[u8]>) -> CmdResult<Option<Vec<u8>>> {
        let found = match self.found.get(from) {
            Some(found) => found.clone(),
            None => {
                let found = self.seek_live(from)?;
                if self.found.len() == MAX_REMEMBERED_SEEKS {
                    self.found.clear();
                }
                self.found.insert(from.to_vec(), found.clone());
                found
            }
        };
        Ok(found.filter(|e| end.is_none_or(|end| e.as_slice() < end)))
    }

    /// The first live element at or after `from`.
    fn seek_live(&mut self, from: &[u8]) -> CmdResult<Option<Vec<u8>>> {
        self.cur.seek(from);
        while let Some((sub, value)) = self.cur.next()? {
            if (self.live)(value) {
                return Ok(Some(sub.to_vec()));
            }
        }
        Ok(None)
    }

    /// The value of element `sub`, picked from the same snapshot.
    fn value(&mut self, sub: &[u8]) -> CmdResult<Vec<u8>> {
        self.cur.seek(sub);
        let found = self.cur.next()?.filter(|(s, _)| *s == sub).map(|(_, v)| v.to_vec());
        found.ok_or_else(|| CmdError::Storage("picked element missing from its snapshot".into()))
    }

    /// One random element with its value; None when there is none.
    pub fn pick_entry(&mut self) -> CmdResult<Option<(Vec<u8>, Vec<u8>)>> {
        let Some(sub) = self.pick()? else { return Ok(None) };
        let value = self.value(&sub)?;
        Ok(Some((sub, value)))
    }

    /// The elements `picked` (by this picker) with their values.
    pub fn with_values(&mut self, picked: Vec<Vec<u8>>) -> CmdResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::with_capacity(picked.len());
        for sub in picked {
            let value = self.value(&sub)?;
            out.push((sub, value));
        }
        Ok(out)
    }

    /// One random element; None when there is none.
    pub fn pick(&mut self) -> CmdResult<Option<Vec<u8>>> {
        let mut prefix = Vec::new();
        // The first element under `prefix`.
        let Some(mut first) = self.first_from(&prefix, None)? else { return Ok(None) };
        loop {
            let end = prefix_end(&prefix);
            let mut after_first = first.clone();
            after_first.push(0);
            let Some(second) = self.first_from(&after_first, end.as_deref())? else { return Ok(Some(first)) };
            let shared = self.shared_len(prefix.len(), &first, &second, end.as_deref())?;
            prefix = first[..shared].to_vec();
            match self.choose_branch(&prefix, &first, end.as_deref())? {
                // The prefix itself is an element: `first`.
                (None, _) => return Ok(Some(first)),
                (Some(b), branch_first) => {
                    prefix.push(b);
                    first = branch_first;
                }
            }
        }
    }

    /// How many leading bytes of `first` every element from it up to `end` shares, given that they all share the
    /// first `depth` and that `second` is the element after `first`: at most the common prefix of the two; less
    /// when an element past that stretch comes before `end`, found by a binary search of forward seeks.
    fn shared_len(&mut self, depth: usize, first: &[u8], second: &[u8], end: Option<&[u8]>) -> CmdResult<usize> {
        let common = first.iter().zip(second).take_while(|(a, b)| a == b).count();
        if common <= depth || self.all_share(first, common, end)? {
            return Ok(common.max(depth));
        }
        // `first[..lo]` is shared, `first[..hi]` is not.
        let (mut lo, mut hi) = (depth, common);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.all_share(first, mid, end)? {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Whether every element from `first` up to `end` starts with `first[..n]`: none comes after every string
    /// that does.
    fn all_share(&mut self, first: &[u8], n: usize, end: Option<&[u8]>) -> CmdResult<bool> {
        match prefix_end(&first[..n]) {
            Some(past) => Ok(self.first_from(&past, end)?.is_none()),
            None => Ok(true),
        }
    }

    /// One branch under `prefix` (whose first element is `first` and whose elements all sort before `end`), chosen
    /// uniformly, with its first element: a next byte present under the prefix, or None for the prefix itself
    /// when it is an element. Up to [`MAX_BRANCHES`] branches are listed, one seek each; past that many, random
    /// bytes are tried until one is a branch.
    fn choose_branch(&mut self, prefix: &[u8], first: &[u8], end: Option<&[u8]>) -> CmdResult<(Option<u8>, Vec<u8>)> {
        let depth = prefix.len();
        let mut branches: Vec<(Option<u8>, Vec<u8>)> = Vec::new();
        let mut next = Some(first.to_vec());
        let mut from = prefix.to_vec();
        while let Some(element) = next.take() {
            if branches.len() == MAX_BRANCHES {
                return self.sample_branch(prefix, branches, end);
            }
            let branch = element.get(depth).copied();
            // Just past this branch (the prefix's own element is followed by `prefix + [0]`).
            let past = match branch {
                None => Some(0),
                Some(b) => b.checked_add(1),
            };
            branches.push((branch, element));
            if let Some(past) = past {
                from.truncate(depth);
                from.push(past);
                next = self.first_from(&from, end)?;
            }
        }
        let i = random_below(branches.len() as u64) as usize;
        Ok(branches.swap_remove(i.min(branches.len().saturating_sub(1))))
    }

    /// A uniform choice among more than [`MAX_BRANCHES`] branches, given the first ones in order: a random slot
    /// (the prefix itself if it is an element, or a byte from the first branch's on) until it holds a branch,
    /// by rejection, which is exact where a seek to the random byte would favour branches after gaps. Tries are
    /// about (256 - first byte) / branches, so few; after [`MAX_BRANCH_TRIES`], one of the listed ones is taken.
    fn sample_branch(
        &mut self,
        prefix: &[u8],
        mut listed: Vec<(Option<u8>, Vec<u8>)>,
        end: Option<&[u8]>,
    ) -> CmdResult<(Option<u8>, Vec<u8>)> {
        let own = listed.first().is_some_and(|(b, _)| b.is_none());
        let low = listed.iter().find_map(|(b, _)| *b).unwrap_or(0) as u64;
        let last = listed.last().and_then(|(b, _)| *b).unwrap_or(0);
        let slots = 256 - low + own as u64;
        let mut from = prefix.to_vec();
        for _ in 0..MAX_BRANCH_TRIES {
            let slot = random_below(slots);
            if own && slot == 0 {
                return Ok(listed.swap_remove(0));
            }
            let byte = (low + slot - own as u64) as u8;
            if byte <= last {
                if let Some(i) = listed.iter().position(|(b, _)| *b == Some(byte)) {
                    return Ok(listed.swap_remove(i));
                }
                continue;
            }
            from.truncate(prefix.len());
            from.push(byte);
            if let Some(element) = self.first_from(&from, end)? {
                if element.get(prefix.len()) == Some(&byte) {
                    return Ok((Some(byte), element));
                }
            }
        }
        let i = random_below(listed.len() as u64) as usize;
        Ok(listed.swap_remove(i.min(listed.len().saturating_sub(1))))
    }

    /// `count` distinct picks, in random order (Redis' own strategy for a count small next to the collection);
    /// None when the picks keep landing on the same elements, for the caller to walk the collection instead.
    pub fn distinct(&mut self, count: u64) -> CmdResult<Option<Vec<Vec<u8>>>> {
        let mut seen = HashSet::new();
        let mut picked = Vec::new();
        let mut attempts = count.saturating_mul(16).saturating_add(64);
        while (picked.len() as u64) < count {
            if attempts == 0 {
                return Ok(None);
            }
            attempts -= 1;
            match self.pick()? {
                Some(e) if seen.insert(e.clone()) => picked.push(e),
                Some(_) => {}
                None => return Ok(None),
            }
        }
        Ok(Some(picked))
    }
}

/// The sub key of one random element of collection `uid` whose `len` elements have sub keys in `from .. to`:
/// exactly uniform by a walk to a random index, or a [`TriePicker`] pick when the collection is big. None only
/// when the collection changed under the walk.
pub fn random_element(store: &Store, uid: u64, len: u64, from: &[u8], to: Option<&[u8]>) -> CmdResult<Option<Vec<u8>>> {
    if sparse(len, 1) {
        return TriePicker::elements(store, uid, from, to).pick();
    }
    let mut skip = random_below(len);
    let mut cur = store.data_range(uid, from, to, false);
    while let Some((sub, _)) = cur.next()? {
        if skip == 0 {
            return Ok(Some(sub.to_vec()));
        }
        skip -= 1;
    }
    Ok(None)
}

/// `n` picks with repeats among `len` elements, made in one walk: random ranks, sorted; the walk asks at each
/// element how many picks fell on it, and stops after the last.
pub struct Ranks {
    ranks: Vec<u64>,
    next: usize,
    rank: u64,
}

impl Ranks {
    pub fn new(len: u64, n: u64) -> Ranks {
        let mut ranks: Vec<u64> = (0..n).map(|_| random_below(len)).collect();
        ranks.sort_unstable();
        Ranks { ranks, next: 0, rank: 0 }
    }

    /// How many picks fell on the next element walked.
    pub fn step(&mut self) -> usize {
        let from = self.next;
        while self.ranks.get(self.next) == Some(&self.rank) {
            self.next += 1;
        }
        self.rank += 1;
        self.next - from
    }

    /// True once every pick was met.
    pub fn done(&self) -> bool {
        self.next == self.ranks.len()
    }
}

/// `needed` distinct picks among `len` elements, made in one walk by selection sampling (Knuth's Algorithm S):
/// each element is taken with probability needed/left, which takes exactly `needed` of them, uniformly, in walk
/// order.
pub struct Selection {
    needed: u64,
    left: u64,
}

impl Selection {
    pub fn new(needed: u64, len: u64) -> Selection {
        Selection { needed: needed.min(len), left: len }
    }

    /// Whether the next element walked is taken.
    pub fn take(&mut self) -> bool {
        let take = self.needed > 0 && random_below(self.left) < self.needed;
        self.left = self.left.saturating_sub(1);
        if take {
            self.needed -= 1;
        }
        take
    }

    /// True once every pick was made.
    pub fn done(&self) -> bool {
        self.needed == 0
    }
}

/// A small store in `dir`, for unit tests that need real elements.
#[cfg(test)]
pub fn test_store(dir: &std::path::Path) -> Store {
    use crate::storage::{StorageOptions, WalFsync};
    Store::open(&StorageOptions {
        path: dir.to_path_buf(),
        databases: 1,
        wal_fsync: WalFsync::No,
        block_cache_bytes: 1 << 20,
        write_buffer_bytes: 1 << 20,
        meta_cache_bytes: 0,
        background_low_priority: false,
    })
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [&b"18446744073709551616"[..], b" 1", b"1 ", b"0x1", b"-", b"+", b"abc"] {
            assert_eq!(parse_cursor(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn scan_cursors_belong_to_their_key_and_db() {
        let c = ScanCursors::default();
        let id = c.save(0, Some(b"k"), b"m".to_vec());
        assert!(id != 0 && id < 1 << 63);
        assert_eq!(c.resume(id, 0, Some(b"k")), Some(b"m".to_vec()));
        assert_eq!(c.resume(id, 1, Some(b"k")), None);
        assert_eq!(c.resume(id, 0, Some(b"other")), None);
        assert_eq!(c.resume(id, 0, None), None, "not a keyspace cursor");
        assert_eq!(c.resume(id ^ 1, 0, Some(b"k")), None);
        let keys = c.save(3, None, b"k".to_vec());
        assert_eq!(c.resume(keys, 3, None), Some(b"k".to_vec()));
        assert_eq!(c.resume(keys, 3, Some(b"")), None, "not the empty key's");
    }

    #[test]
    fn scan_cursors_are_bounded() {
        let c = ScanCursors::default();
        let first = c.save(0, None, vec![]);
        let ids: Vec<u64> = (0..MAX_SCAN_CURSORS).map(|_| c.save(0, Some(b"k"), vec![])).collect();
        assert_eq!(c.resume(first, 0, None), None, "oldest evicted");
        assert_eq!(c.resume(ids[0], 0, Some(b"k")), Some(vec![]));
        assert_eq!(c.inner.lock().by_id.len(), MAX_SCAN_CURSORS);
        let big = c.save(2, None, vec![0; MAX_SCAN_CURSOR_BYTES + 1]);
        assert_eq!(c.resume(big, 2, None), None);
        assert_eq!(c.inner.lock().bytes, 0);
    }

    #[test]
    fn prefix_ends_bound_every_extension() {
        assert_eq!(prefix_end(b""), None);
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff"), None);
    }

    #[test]
    fn shuffle_keeps_every_element() {
        let mut v: Vec<u32> = (0..100).collect();
        shuffle(&mut v);
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn ranks_make_every_pick_in_one_walk() {
        let mut r = Ranks::new(10, 50);
        let mut picks = 0;
        let mut walked = 0;
        while !r.done() {
            picks += r.step();
            walked += 1;
        }
        assert_eq!(picks, 50);
        assert!(walked <= 10);
        assert!(Ranks::new(5, 0).done());
    }

    #[test]
    fn selection_takes_exactly_what_is_needed() {
        for (needed, len) in [(0, 5), (3, 10), (10, 10), (12, 10)] {
            let mut s = Selection::new(needed, len);
            let taken = (0..len).filter(|_| s.take()).count() as u64;
            assert_eq!(taken, needed.min(len));
            assert!(s.done());
        }
    }

    #[test]
    fn trie_picks_reach_every_live_element() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(dir.path());
        let uid = 7;
        // Dense binary elements (every byte value at a fork), long ones sharing a prefix, a chain of prefixes of
        // one another and the empty element; then every third dense one deleted.
        let mut all: Vec<Vec<u8>> = (0u16..600).map(|i| i.to_be_bytes().to_vec()).collect();
        all.extend((0..100).map(|i| format!("shared-prefix-{i:04}").into_bytes()));
        all.extend([&b""[..], b"a", b"ab", b"abc"].map(<[u8]>::to_vec));
        let mut txn = store.txn();
        for e in &all {
            txn.data_put(uid, e, b"v");
        }
        txn.commit().unwrap();
        let mut txn = store.txn();
        for e in all.iter().take(600).step_by(3) {
            txn.data_delete(uid, e);
        }
        txn.commit().unwrap();
        let live: HashSet<Vec<u8>> =
            all.iter().enumerate().filter(|(i, _)| i % 3 != 0 || *i >= 600).map(|(_, e)| e.clone()).collect();

        let mut picker = TriePicker::elements(&store, uid, &[], None);
        let mut seen = HashSet::new();
        // Each dense element under [0] comes out with probability 1/6 × 1/170.
        for _ in 0..20_000 {
            let e = picker.pick().unwrap().unwrap();
            assert!(live.contains(&e), "{e:?}");
            seen.insert(e);
        }
        for e in [&b""[..], b"a", b"ab", b"abc", b"shared-prefix-0042", &[0, 1], &[2, 0x57]] {
            assert!(seen.contains(e), "{e:?} never picked");
        }
        assert!(seen.len() > 300, "{} distinct", seen.len());
        let (e, v) = picker.pick_entry().unwrap().unwrap();
        assert!(live.contains(&e) && v == b"v");
        assert!(picker.value(&[0, 0]).is_err(), "deleted");
        let distinct = picker.distinct(50).unwrap().unwrap();
        assert_eq!(distinct.iter().collect::<HashSet<_>>().len(), 50);
        assert!(distinct.iter().all(|e| live.contains(e)));
        let entries = picker.with_values(distinct.clone()).unwrap();
        assert_eq!(entries.into_iter().map(|(e, _)| e).collect::<Vec<_>>(), distinct);

        // A section of the sub keys, one element, none.
        let mut section = TriePicker::elements(&store, uid, b"shared", Some(b"shared\xff"));
        assert!(section.pick().unwrap().unwrap().starts_with(b"shared-prefix-"));
        let mut one = TriePicker::elements(&store, uid, b"abc", Some(b"abd"));
        assert_eq!(one.pick().unwrap(), Some(b"abc".to_vec()));
        assert_eq!(TriePicker::elements(&store, uid + 1, &[], None).pick().unwrap(), None);
        // A fork with more branches than are listed: still a uniform choice (40 branches, 8000 picks, 200 each
        // expected; a seek to a random byte would give the first of them about 200 / 256 of that).
        let mut txn = store.txn();
        for b in b'A'..b'A' + 40 {
            txn.data_put(uid + 2, &[b'x', b], b"");
        }
        txn.commit().unwrap();
        let mut wide = TriePicker::elements(&store, uid + 2, &[], None);
        let mut counts = HashMap::new();
        for _ in 0..8000 {
            *counts.entry(wide.pick().unwrap().unwrap()).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 40);
        assert!(counts.values().all(|&n| (100..=320).contains(&n)), "{counts:?}");
        // A value filter hides records.
        let mut filtered = TriePicker::new(store.data_range(uid, &[], None, false), |v: &[u8]| v != b"v");
        assert_eq!(filtered.pick().unwrap(), None);
    }
}
