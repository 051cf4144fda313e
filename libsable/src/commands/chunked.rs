//! Replies too large to build in memory (HGETALL, SMEMBERS, LRANGE, ZRANGE… of a big collection): written from
//! a RocksDB iterator in bounded chunks. A handler writes the reply's header, then [`send`]s a [`ReplyStream`]:
//! what fits in one chunk is written at once; the rest is handed to the connection, which writes the reply out
//! chunk by chunk, flushing between chunks, so memory stays bounded whatever the collection's size.

use super::{collection, CmdError, CmdResult, Ctx};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::data::{owned_range, OwnedDataCursor};
use crate::storage::encoding::Collection;
use crate::storage::{scope, KeyType};

/// Bytes of reply produced per chunk.
pub const CHUNK: usize = 64 * 1024;

/// The rest of a reply, produced piece by piece.
pub trait ReplyStream {
    /// Appends the next elements to `out` until it holds about `budget` bytes. Returns true while more remain.
    /// `server` is there for streams that read more than their cursor while they write (SORT's GET lookups).
    fn fill(&mut self, server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool>;
}

/// Writes the elements of `stream` now up to one chunk and leaves the rest to the connection.
pub fn send(ctx: &mut Ctx, mut stream: impl ReplyStream + 'static) -> CmdResult {
    match stream.fill(ctx.server, ctx.out, CHUNK) {
        Ok(true) => ctx.client.stream = Some(Box::new(stream)),
        Ok(false) => {}
        Err(e) => {
            // The header is out already: the reply cannot be completed, so the connection closes after it.
            ctx.client.close_after_reply = true;
            return Err(e);
        }
    }
    Ok(())
}

/// Writes one element: the sub key and value of a `data` record.
pub type Emit = fn(&mut Reply, &[u8], &[u8]);

/// Writes an element's sub key: a hash field, a set member.
pub fn emit_sub(out: &mut Reply, sub: &[u8], _value: &[u8]) {
    out.bulk(sub);
}

/// Writes an element's value: a hash value, a list element.
pub fn emit_value(out: &mut Reply, _sub: &[u8], value: &[u8]) {
    out.bulk(value);
}

/// `count` consecutive elements of a collection, after skipping `skip`, each written by `emit`.
pub struct Elements {
    cursor: OwnedDataCursor,
    skip: u64,
    remaining: u64,
    emit: Emit,
}

impl Elements {
    pub fn new(cursor: OwnedDataCursor, skip: u64, count: u64, emit: Emit) -> Self {
        Elements { cursor, skip, remaining: count, emit }
    }
}

impl ReplyStream for Elements {
    fn fill(&mut self, _server: &Server, out: &mut Reply, budget: usize) -> CmdResult<bool> {
        if self.remaining == 0 {
            return Ok(false);
        }
        while self.skip > 0 {
            self.cursor.next()?.ok_or_else(changed)?;
            self.skip -= 1;
        }
        while self.remaining > 0 && out.len() < budget {
            let (sub, value) = self.cursor.next()?.ok_or_else(changed)?;
            (self.emit)(out, sub, value);
            self.remaining -= 1;
        }
        Ok(self.remaining > 0)
    }
}

/// The header promised more elements than the snapshot holds: cannot happen while meta record and elements are
/// written in one batch and read under the key's lock; reported (the connection closes) rather than sending a
/// malformed reply.
pub fn changed() -> CmdError {
    CmdError::Storage("collection changed while its reply was streamed".into())
}

/// The collection at `key` and a cursor over its elements in `from .. to`, as one consistent view: read under
/// the key's lock, so the element count in the meta record matches what the cursor yields.
pub fn open(
    ctx: &Ctx,
    key: &[u8],
    kind: KeyType,
    from: &[u8],
    to: Option<&[u8]>,
    reverse: bool,
) -> CmdResult<Option<(Collection, OwnedDataCursor)>> {
    // Writes of this thread's own scope are committed first: its held stripes would not block the lock below.
    scope::settle();
    let _guard = ctx.store.locks.lock(&[key]);
    let Some(coll) = collection::read(ctx, key, kind)? else { return Ok(None) };
    let cursor = owned_range(&ctx.server.store, coll.uid, from, to, reverse);
    Ok(Some((coll, cursor)))
}
