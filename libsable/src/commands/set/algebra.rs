//! SINTER, SUNION and SDIFF replies computed by walking the input sets together, so that a big result is streamed
//! (see `commands::chunked`) instead of being built in memory.
//!
//! Every input set is read through its own cursor, made under the keys' locks: the cursors' snapshots are one
//! state of all the sets. Members come in byte order: SUNION merges the cursors, SINTER and SDIFF walk the first
//! set (the smallest one for SINTER, as Redis) and seek each member in the others. A first pass counts the result
//! (the reply's header needs it), a second writes it over the same snapshots. A result Redis would hold as an
//! intset (at most `set-max-intset-entries` integers) is small and comes in numeric order, built in memory.

use bytes::Bytes;

use super::{int_member, intset_order, max_intset, read_all, write_members};
use crate::commands::chunked::{self, ReplyStream};
use crate::commands::{CmdResult, Ctx};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::data::{owned_range, OwnedDataCursor};
use crate::storage::encoding::Collection;
use crate::storage::scope;

#[derive(Clone, Copy, PartialEq)]
pub enum Op {
    Inter,
    Union,
    Diff,
}

/// The members of a set operation, one at a time, in byte order.
struct Merge {
    op: Op,
    /// Inter and Diff: the walked set first. Union: every set present.
    cursors: Vec<OwnedDataCursor>,
    /// Union: each cursor's next member.
    heads: Vec<Option<Vec<u8>>>,
    started: bool,
}

impl Merge {
    fn rewind(&mut self) {
        self.cursors.iter_mut().for_each(OwnedDataCursor::rewind);
        self.started = false;
    }

    /// The next member of the result, and whether the walked set's member was an integer (every walked member
    /// is reported through `walked`, result or not: SDIFF's intset decision depends on the first set's).
    fn next(&mut self, walked: &mut impl FnMut(&[u8])) -> CmdResult<Option<Vec<u8>>> {
        if self.op == Op::Union {
            return self.next_union();
        }
        let Some((first, others)) = self.cursors.split_first_mut() else { return Ok(None) };
        'walk: while let Some((member, _)) = first.next()? {
            walked(member);
            for other in others.iter_mut() {
                other.seek(member);
                let found = other.next()?.is_some_and(|(m, _)| m == member);
                if found != (self.op == Op::Inter) {
                    continue 'walk;
                }
            }
            return Ok(Some(member.to_vec()));
        }
        Ok(None)
    }

    fn next_union(&mut self) -> CmdResult<Option<Vec<u8>>> {
        if !self.started {
            self.heads = Vec::with_capacity(self.cursors.len());
            for c in &mut self.cursors {
                self.heads.push(c.next()?.map(|(m, _)| m.to_vec()));
            }
            self.started = true;
        }
        let Some(min) = self.heads.iter().flatten().min().cloned() else { return Ok(None) };
        for (head, cursor) in self.heads.iter_mut().zip(&mut self.cursors) {
            if head.as_ref() == Some(&min) {
                *head = cursor.next()?.map(|(m, _)| m.to_vec());
            }
        }
        Ok(Some(min))
    }
}

impl ReplyStream for (Merge, u64) {
    fn fill(&mut self, _server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        let (merge, remaining) = self;
        while *remaining > 0 && out.len() < budget {
            let member = merge.next(&mut |_| {})?.ok_or_else(chunked::changed)?;
            out.bulk(&member);
            *remaining -= 1;
        }
        Ok(*remaining > 0)
    }
}

/// Replies to SINTER, SUNION or SDIFF of `keys`.
pub fn reply(ctx: &mut Ctx, keys: &[Bytes], op: Op) -> CmdResult {
    // This thread's pending writes first: the lock below must not be one its scope already holds.
    scope::settle();
    let (mut merge, chosen) = {
        let _guard = ctx.store.locks.lock(keys);
        let sets = read_all(ctx, keys)?;
        let chosen: Vec<Collection> = match op {
            Op::Inter => match sets.iter().copied().collect::<Option<Vec<Collection>>>() {
                Some(mut all) => {
                    // Stable, as Redis' qsort (glibc's merge sort): of equal sizes the first key given is walked.
                    all.sort_by_key(|c| c.len);
                    all
                }
                None => Vec::new(),
            },
            Op::Union => sets.iter().flatten().copied().collect(),
            Op::Diff => match sets.first() {
                Some(Some(_)) => sets.iter().flatten().copied().collect(),
                _ => Vec::new(),
            },
        };
        let store = &ctx.server.store;
        let cursors = chosen.iter().map(|c| owned_range(store, c.uid, &[], None, false)).collect();
        (Merge { op, cursors, heads: Vec::new(), started: false }, chosen)
    };
    let (mut n, mut all_int, mut walked_int) = (0u64, true, true);
    while let Some(m) = merge.next(&mut |w| walked_int &= int_member(w))? {
        n += 1;
        all_int &= int_member(&m);
    }
    merge.rewind();
    let max = max_intset(ctx);
    let fits = n <= max && all_int;
    let big = match (op, chosen.first()) {
        (_, None) => false,
        // The walked (smallest) set's encoding: its members come in its order.
        (Op::Inter, Some(first)) => first.big,
        (Op::Union, _) => !fits,
        // Redis picks its second algorithm when it is cheaper: it starts from the whole first set, and a
        // conversion to a hash table is never undone; the first builds the result from scratch.
        (Op::Diff, Some(first)) => {
            let one_work = (first.len as u128 * chosen.len() as u128) / 2;
            let two_work: u128 = chosen.iter().map(|c| c.len as u128).sum();
            if one_work > two_work {
                !(walked_int && first.len <= max)
            } else {
                !fits
            }
        }
    };
    if !big {
        let mut members = Vec::new();
        while let Some(m) = merge.next(&mut |_| {})? {
            members.push(m);
        }
        intset_order(&mut members);
        write_members(ctx.out, &members, true);
        return Ok(());
    }
    ctx.out.set(n as usize);
    chunked::send(ctx, (merge, n))
}
