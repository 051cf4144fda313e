//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted numerically or (ALPHA) as strings, by
//! themselves or by weights read through a `BY` pattern (`*` is replaced by the element, `->field` reads a hash
//! field), optionally cut by LIMIT, projected through GET patterns and stored as a list (STORE).
//!
//! The elements are read from the storage layout directly: a list's element `i` is the `data` record
//! `list_sub(head + i)`, a sorted set's members in score order are its `zset_score_sub` records, a set's members
//! its sub keys. Redis' comparisons and sort algorithms are reproduced, so even elements that compare equal come
//! out in Redis' order: a stable merge sort (glibc's `qsort`) and, with BY and LIMIT, Redis' partial quicksort
//! ([`crate::util::pqsort`]). Without sorting (`BY` a pattern with no `*`), a list or sorted set keeps its own order; a set
//! comes in its iteration order, which for a hash-table set is Redis' hash order — unknowable, so byte order
//! here (Kvrocks does the same).
//!
//! Not reproduced: Redis 7.0 tests a stale `errno` after `strtod`, so once any `strtod` in the server overflowed
//! or underflowed (a SORT weight like `1e400`, a ZRANGEBYSCORE bound…) and until a command resets `errno` (ZADD,
//! INCRBYFLOAT…), it fails every numeric SORT that parses a weight from a string (not from an integer-encoded
//! object) with "One or more scores can't be converted into double". Here only a bad weight fails.

use super::chunked::{self, ReplyStream};
use super::set;
use super::string::{count_lookup_in, lookup_read};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::notify::{self, notify};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::data::expect_collection;
use crate::storage::encoding::{list_sub, split_hash_field, Collection, LIST_ORIGIN, ZSET_BY_SCORE};
use crate::storage::KeyType;
use crate::util::parse_f64;
use crate::util::pqsort::pqsort;

pub const HANDLERS: &[(&str, Handler)] = &[("sort", sort), ("sort_ro", sort_ro)];

fn sort(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    sort_generic(ctx, args, false)
}

fn sort_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// SORT's options, parsed as Redis does: left to right, the last of a repeated option wins.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count (count -1: to the end).
    limit: (i64, i64),
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// A BY pattern without `*` was given (sticky even if a later BY has one, as in Redis).
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

/// `full_key_access`: the user may read every key (Redis' `ACLUserCheckCmdWithUnrestrictedKeyAccess`); without it
/// BY with a pattern and GET are refused, since they read keys no ACL check saw.
fn parse<'a>(args: &mut Args<'a>, readonly: bool, full_key_access: bool) -> CmdResult<Options<'a>> {
    let mut o =
        Options { desc: false, alpha: false, limit: (0, -1), store: None, by: None, dontsort: false, gets: Vec::new() };
    while !args.is_empty() {
        let left = args.remaining() - 1;
        if args.eat("ASC") {
            o.desc = false;
        } else if args.eat("DESC") {
            o.desc = true;
        } else if args.eat("ALPHA") {
            o.alpha = true;
        } else if left >= 2 && args.eat("LIMIT") {
            o.limit = (args.next_i64()?, args.next_i64()?);
        } else if !readonly && left >= 1 && args.eat("STORE") {
            o.store = Some(args.next_bytes()?);
        } else if left >= 1 && args.eat("BY") {
            let pattern = args.next_bytes()?;
            o.by = Some(pattern);
            if !c_str(pattern).contains(&b'*') {
                o.dontsort = true;
            } else if !full_key_access {
                return Err(CmdError::err("BY option of SORT denied due to insufficient ACL permissions."));
            }
        } else if left >= 1 && args.eat("GET") {
            if !full_key_access {
                return Err(CmdError::err("GET option of SORT denied due to insufficient ACL permissions."));
            }
            o.gets.push(args.next_bytes()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// The bytes a C string function sees: up to the first NUL. Redis reads patterns and compares ALPHA values
/// (`strcoll` in the C.UTF-8 or C locale, which is `strcmp`) that way.
fn c_str(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// The inclusive range of positions LIMIT selects among `n` elements, as Redis computes it (end < start: none).
fn limit_range(n: i64, (offset, count): (i64, i64)) -> (i64, i64) {
    let mut start = offset.clamp(0, n);
    let count = count.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    (start, end.min(n - 1))
}

/// The weight SORT reads from a value: C's `strtod` over the bytes up to the first NUL, which skips leading
/// whitespace and must use up the rest; NaN, overflow and underflow (`ERANGE`) are errors. An empty value weighs 0
/// (`strtod` converts nothing and stops at the terminator).
fn weight(value: &[u8]) -> Option<f64> {
    let s = c_str(value);
    if s.is_empty() {
        return Some(0.0);
    }
    let body = &s[s.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?..];
    let v = parse_f64(body)?;
    let unsigned = body.strip_prefix(b"+").or_else(|| body.strip_prefix(b"-")).unwrap_or(body);
    if v.is_infinite() && !unsigned.first().is_some_and(|c| c.eq_ignore_ascii_case(&b'i')) {
        return None;
    }
    if v == 0.0 || v.is_subnormal() {
        // Underflow: a non-zero mantissa that came out as zero or subnormal.
        let hex = unsigned.len() > 1 && unsigned[1].eq_ignore_ascii_case(&b'x');
        let mantissa = if hex {
            unsigned[2..].split(|c| c.eq_ignore_ascii_case(&b'p')).next().unwrap_or(b"")
        } else {
            unsigned.split(|c| c.eq_ignore_ascii_case(&b'e')).next().unwrap_or(b"")
        };
        if mantissa.iter().any(|c| c.is_ascii_hexdigit() && *c != b'0') {
            return None;
        }
    }
    Some(v)
}

/// Redis' `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is replaced by the element
/// and the string at that key is read or, when `->field` follows the `*`, that field of the hash at the key.
/// None when the pattern has no `*` or the key, field or type is not there.
fn lookup(ctx: &Ctx, pattern: &[u8], elem: &[u8]) -> CmdResult<Option<Vec<u8>>> {
    lookup_in(ctx.server, ctx.client.db, pattern, elem)
}

/// [`lookup`] in logical database `db`, outside a command's context (the streamed reply's GET lookups).
fn lookup_in(server: &Server, db: usize, pattern: &[u8], elem: &[u8]) -> CmdResult<Option<Vec<u8>>> {
    let c = c_str(pattern);
    if c == b"#" {
        return Ok(Some(elem.to_vec()));
    }
    let Some(star) = c.iter().position(|&b| b == b'*') else { return Ok(None) };
    let arrow = c[star + 1..].windows(2).position(|w| w == b"->").map(|i| star + 1 + i).filter(|&a| a + 2 < c.len());
    let (postfix_end, field) = match arrow {
        Some(a) => (a, Some(&pattern[a + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..postfix_end]);
    let store = &server.store;
    let rec = store.get(store.phys(db), &key)?;
    count_lookup_in(server, db, &key, rec.is_some());
    let Some(rec) = rec else { return Ok(None) };
    let view = rec.view();
    match (field, view.key_type()) {
        (None, KeyType::String) => Ok(Some(view.body().to_vec())),
        (Some(field), KeyType::Hash) => {
            let hash = expect_collection(&view, KeyType::Hash)?;
            Ok(store.data_get(hash.uid, field)?.map(|raw| split_hash_field(&raw).1.to_vec()))
        }
        _ => Ok(None),
    }
}

/// SORT's reply, written in chunks: the sorted elements, each followed by (or replaced with) what its GET
/// patterns look up, read as the chunk is written.
struct SortedReply {
    elems: std::vec::IntoIter<Vec<u8>>,
    gets: Vec<Vec<u8>>,
    /// The client's logical database.
    db: usize,
}

impl ReplyStream for SortedReply {
    fn fill(&mut self, server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        while out.len() < budget {
            let Some(elem) = self.elems.next() else { return Ok(false) };
            if self.gets.is_empty() {
                out.bulk(&elem);
            }
            for pattern in &self.gets {
                match lookup_in(server, self.db, pattern, &elem)? {
                    Some(v) => out.bulk(&v),
                    None => out.null(),
                }
            }
        }
        Ok(self.elems.len() > 0)
    }
}

/// One element being sorted, with what it is compared by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the weight read through the pattern (None sorts first).
    by: Option<Vec<u8>>,
}

/// Loads positions `start..=end` of a list or sorted set in its own order (from its end with `desc`).
fn load_range(ctx: &Ctx, coll: &Collection, start: i64, end: i64, desc: bool) -> CmdResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    if end < start {
        return Ok(out);
    }
    let want = (end - start + 1) as usize;
    if coll.kind == KeyType::List {
        let (first, last) =
            if desc { (coll.len - 1 - end as u64, coll.len - 1 - start as u64) } else { (start as u64, end as u64) };
        let (from, to) = (coll.head.wrapping_add(first), coll.head.wrapping_add(last).wrapping_add(1));
        let mut cur = ctx.store.data_range(coll.uid, &list_sub(from), Some(&list_sub(to)), desc);
        while let Some((_, v)) = cur.next()? {
            out.push(v.to_vec());
        }
        return Ok(out);
    }
    // A sorted set in score order (from the end with `desc`), skipping the first `start` positions.
    let mut cur = ctx.store.data_range(coll.uid, &[ZSET_BY_SCORE], Some(&[ZSET_BY_SCORE + 1]), desc);
    let mut skip = start as u64;
    while let Some((sub, _)) = cur.next()? {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        out.push(sub.get(9..).unwrap_or_default().to_vec());
        if out.len() == want {
            break;
        }
    }
    Ok(out)
}

/// Every element: a list in order, a sorted set in score order, a set in its iteration order.
fn load_all(ctx: &Ctx, coll: &Collection) -> CmdResult<Vec<Vec<u8>>> {
    match coll.kind {
        KeyType::List | KeyType::ZSet => load_range(ctx, coll, 0, coll.len as i64 - 1, false),
        _ => set::members(ctx, coll),
    }
}

/// Redis' SORT (SORT_RO too) converts the sorted set it sorts to a skiplist (`zsetConvert` in
/// `sortCommandGeneric`), which OBJECT ENCODING and DUMP show afterwards: the big-encoding bit is set, quietly (the
/// value does not change, so it is no modification for WATCH). The caller holds the key's lock.
fn convert_to_skiplist(ctx: &Ctx, key: &[u8]) -> CmdResult {
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let Some(old) = txn.load(db, key)? else { return Ok(()) };
    let Some(view) = old.live() else { return Ok(()) };
    if view.key_type() != KeyType::ZSet {
        return Ok(());
    }
    let mut coll = expect_collection(&view, KeyType::ZSet)?;
    if coll.big {
        return Ok(());
    }
    coll.big = true;
    txn.put_quiet(db, key, Some(&old), coll.encode());
    txn.commit()
}

fn sort_generic(ctx: &mut Ctx, args: &mut Args, readonly: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let full = ctx.client.user.unrestricted()
        || crate::acl::full_key_access(&ctx.client.user, ctx.cmd, args.argv(), crate::acl::selector::READ);
    let mut o = parse(args, readonly, full)?;
    // STORE writes its destination from what it read: both keys stay locked meanwhile.
    let _g = o.store.map(|dest| ctx.store.locks.lock(&[&key[..], dest]));
    let coll = match lookup_read(ctx, key)? {
        Some(rec) => {
            let view = rec.view();
            match view.key_type() {
                kind @ (KeyType::List | KeyType::Set | KeyType::ZSet) => Some(expect_collection(&view, kind)?),
                _ => return Err(CmdError::WrongType),
            }
        }
        None => None,
    };
    if coll.is_some_and(|c| c.kind == KeyType::ZSet && !c.big) {
        // With STORE the key is locked already.
        let _own = o.store.is_none().then(|| ctx.store.locks.lock(&[key]));
        convert_to_skiplist(ctx, key)?;
    }
    // A stored result must not depend on a set's iteration order: Redis sorts it as strings then.
    if o.dontsort && o.store.is_some() && coll.is_some_and(|c| c.kind == KeyType::Set) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let n = coll.map_or(0, |c| c.len as i64);
    let (mut start, mut end) = limit_range(n, o.limit);
    let elems = match coll {
        None => Vec::new(),
        Some(c) if o.dontsort && c.kind != KeyType::Set => {
            let range = load_range(ctx, &c, start, end, o.desc)?;
            end -= start;
            start = 0;
            range
        }
        Some(c) => load_all(ctx, &c)?,
    };
    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect();
    if !o.dontsort {
        let mut bad_weight = false;
        for it in &mut items {
            let value = match o.by {
                Some(p) => match lookup(ctx, p, &it.elem)? {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    it.by = Some(value);
                }
            } else {
                match weight(&value) {
                    Some(w) => it.score = w,
                    None => bad_weight = true,
                }
            }
        }
        if bad_weight {
            return Err(CmdError::err("One or more scores can't be converted into double"));
        }
        let (alpha, by, store, desc) = (o.alpha, o.by.is_some(), o.store.is_some(), o.desc);
        let cmp = |a: &Item, b: &Item| {
            let c = if !alpha {
                a.score.partial_cmp(&b.score).filter(|c| c.is_ne()).unwrap_or_else(|| a.elem.cmp(&b.elem))
            } else {
                let (x, y) =
                    if by { (a.by.as_deref(), b.by.as_deref()) } else { (Some(&a.elem[..]), Some(&b.elem[..])) };
                match (x, y) {
                    (Some(x), Some(y)) if store => x.cmp(y),
                    (Some(x), Some(y)) => c_str(x).cmp(c_str(y)),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                }
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        if by && (start != 0 || end != items.len() as i64 - 1) {
            pqsort(&mut items, &cmp, start, end);
        } else {
            items.sort_by(cmp);
        }
    }
    let selected = if end >= start { &items[start as usize..=end as usize] } else { &items[..0] };
    match o.store {
        None => {
            let per = o.gets.len().max(1);
            ctx.out.array(selected.len() * per);
            let range = if end >= start { start as usize..end as usize + 1 } else { 0..0 };
            let elems: Vec<Vec<u8>> = items.drain(range).map(|it| it.elem).collect();
            drop(items);
            let gets = o.gets.iter().map(|g| g.to_vec()).collect();
            return chunked::send(ctx, SortedReply { elems: elems.into_iter(), gets, db: ctx.client.db });
        }
        Some(dest) => {
            let mut values = Vec::with_capacity(selected.len() * o.gets.len().max(1));
            for it in selected {
                if o.gets.is_empty() {
                    values.push(it.elem.clone());
                }
                for pattern in &o.gets {
                    values.push(lookup(ctx, pattern, &it.elem)?.unwrap_or_default());
                }
            }
            store_list(ctx, dest, &values)?;
            ctx.out.int(values.len() as i64);
        }
    }
    Ok(())
}

/// Replaces `dest` with a new list of `values`, or deletes it when there are none, and announces it.
fn store_list(ctx: &Ctx, dest: &[u8], values: &[Vec<u8>]) -> CmdResult {
    let db = ctx.db();
    let mut txn = ctx.store.txn();
    let old = txn.load(db, dest)?;
    let event = if values.is_empty() {
        let Some(old) = &old else { return Ok(()) };
        txn.delete(db, dest, old);
        old.live().map(|_| (notify::GENERIC, "del"))
    } else {
        let mut list = Collection::new(KeyType::List, ctx.store.new_uid()?);
        for (i, v) in values.iter().enumerate() {
            txn.data_put(list.uid, &list_sub(LIST_ORIGIN + i as u64), v);
        }
        list.len = values.len() as u64;
        txn.put(db, dest, old.as_ref(), list.encode());
        Some((notify::LIST, "sortstore"))
    };
    txn.commit()?;
    if let Some((class, name)) = event {
        notify(ctx, class, name, dest);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_strtod() {
        for (s, w) in [
            ("", 0.0),
            ("1", 1.0),
            (" 1", 1.0),
            ("\t-2.5", -2.5),
            ("0x10", 16.0),
            ("0x1p3", 8.0),
            ("inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            (".5", 0.5),
            ("1.", 1.0),
            ("+1", 1.0),
            ("-0", 0.0),
            ("0e-500", 0.0),
            ("1\x002", 1.0),
            ("\x00abc", 0.0),
            ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ] {
            assert_eq!(weight(s.as_bytes()), Some(w), "{s:?}");
        }
        for s in ["1 ", " ", "abc", "nan", "-nan", "1e400", "1e-400", "5e-324", "1e-310", "0x", "1e", "1e+", "1_0"] {
            assert_eq!(weight(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn limits_match_redis() {
        assert_eq!(limit_range(6, (0, -1)), (0, 5));
        assert_eq!(limit_range(6, (1, 2)), (1, 2));
        assert_eq!(limit_range(6, (-1, 2)), (0, 1));
        assert_eq!(limit_range(6, (10, 2)), (5, 4));
        assert_eq!(limit_range(6, (0, 0)), (0, -1));
        assert_eq!(limit_range(6, (i64::MAX, i64::MAX)), (5, 4));
        assert_eq!(limit_range(6, (1, i64::MAX)), (1, 5));
        assert_eq!(limit_range(0, (0, -1)), (-1, -2));
    }

    #[test]
    fn patterns_read_like_c_strings() {
        assert_eq!(c_str(b"a\x00*"), b"a");
        assert_eq!(c_str(b"abc"), b"abc");
    }
}
