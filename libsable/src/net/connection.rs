//! One client connection: a reader task that parses requests and a writer task that runs them and replies.
//!
//! The reader parses every complete frame in its buffer and hands the writer a whole batch over a bounded channel
//! (backpressure: a client that never reads its replies stops being read). The writer runs a batch, keeps
//! replies in one buffer and writes it when no further batch is waiting or it grows past [`FLUSH_AT`], so a
//! pipeline costs one write, not one per command. An idle writer also waits for pub/sub messages in the client's
//! mailbox (see `crate::pubsub`) and writes them.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::client::{Block, Client, ClientInfo};
use crate::commands;
use crate::commands::chunked::ReplyStream;
use crate::net::output_limit::{class_limit, close_over_limit, TurnOutput};
use crate::pubsub::Mailbox;
use crate::resp::parser::{Argv, Parsed, RequestParser};
use crate::resp::reply::Reply;
use crate::server::Server;
use crate::storage::scope;
use crate::util::now_ms;

/// Replies are written once they reach this size even if more commands are waiting.
pub const FLUSH_AT: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// Batches the reader may run ahead of the writer.
const QUEUE_DEPTH: usize = 8;

/// What the reader hands the writer.
enum Request {
    Command(Argv),
    /// A malformed frame: reply `-ERR Protocol error: …` and close.
    ProtocolError(String),
}

/// Serves one connection until the peer closes, QUIT, CLIENT KILL or a protocol error.
pub async fn serve<R, W>(server: Arc<Server>, reader: R, writer: W, info: Arc<ClientInfo>)
where
    R: AsyncRead + Unpin + 'static,
    W: AsyncWrite + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    // Before the reader starts: it parses an unauthenticated client's requests with tighter limits.
    let authenticated = server.acl.default_open();
    let mut client = Client::new(info.clone(), server.acl.default_user().clone(), authenticated);
    let read_task = tokio::task::spawn_local(read_loop(server.clone(), reader, tx, info.clone()));
    write_loop(&server, writer, rx, &mut client).await;
    // Whatever way the connection ended, its watches go.
    commands::transaction::discard_state(&server, &mut client);
    if client.tracking.take().is_some() {
        server.store.tracking.disable(&info);
    }
    read_task.abort();
    server.clients.unregister(info.id);
}

async fn read_loop<R: AsyncRead + Unpin>(
    server: Arc<Server>,
    mut reader: R,
    tx: mpsc::Sender<Vec<Request>>,
    info: Arc<ClientInfo>,
) {
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let n = tokio::select! {
            r = reader.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    info.peer_gone.notify_one();
                    return;
                }
                Ok(n) => n,
            },
            _ = info.kill_signal.notified() => return,
        };
        server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        scope::reap();
        let max_bulk = server.max_bulk_len.load(Ordering::Relaxed);
        let mut batch = Vec::new();
        let mut fatal = false;
        loop {
            let strict = !info.authenticated.load(Ordering::Relaxed)
                && info.auth_in_flight.load(Ordering::Relaxed) == 0
                && !server.acl.default_open();
            let parser = if strict { RequestParser::unauthenticated(max_bulk) } else { RequestParser::new(max_bulk) };
            match parser.parse(&mut buf) {
                Ok(Parsed::Command(argv)) => {
                    if is_auth(&argv) {
                        info.auth_in_flight.fetch_add(1, Ordering::Relaxed);
                    }
                    batch.push(Request::Command(argv))
                }
                Ok(Parsed::Empty) => {}
                Ok(Parsed::Incomplete) => break,
                Err(e) => {
                    batch.push(Request::ProtocolError(e.0));
                    fatal = true;
                    break;
                }
            }
        }
        info.qbuf.store(buf.len(), Ordering::Relaxed);
        if !batch.is_empty() && tx.send(batch).await.is_err() {
            return;
        }
        if fatal {
            return;
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(
    server: &Server,
    mut writer: W,
    mut rx: mpsc::Receiver<Vec<Request>>,
    client: &mut Client,
) {
    let info = client.info.clone();
    let mut out = Reply::new(false);
    loop {
        let mailbox = client.pubsub.as_ref().map(|s| s.mailbox.clone());
        let batch = tokio::select! {
            b = rx.recv() => match b {
                Some(b) => b,
                None => break,
            },
            _ = info.kill_signal.notified() => break,
            _ = Mailbox::wait(mailbox.as_deref()) => {
                match mailbox {
                    Some(m) if deliver_mail(server, &mut writer, &mut out, &info, &m).await => continue,
                    _ => break,
                }
            }
        };
        scope::reap();
        let mut turn = TurnOutput::start(server, &info);
        let mut pending = Some(batch);
        // Commands run since the last commit: a pipeline lets its group go to the committer early.
        let mut ran = 0usize;
        while let Some(batch) = pending.take() {
            info.last_active_ms.store(now_ms(), Ordering::Relaxed);
            // A pipeline's first keys: their meta-cache slots load while the commands before them run.
            if batch.len() > 1 {
                for req in &batch {
                    if let Request::Command(argv) = req {
                        if let Some(key) = argv.get(1) {
                            server.store.prefetch(client.db, key);
                        }
                    }
                }
            }
            for req in batch {
                match req {
                    Request::Command(argv) => {
                        ran += 1;
                        if server.pause.maybe_active() && server.pause.holds(server, client, &argv).is_some() {
                            // The replies before the paused command go out before the client waits.
                            if !commit(server, &mut out, ran > 1).await
                                || flush(server, &mut writer, &mut out, &info).await.is_err()
                                || !wait_pause(server, client, &argv).await
                            {
                                let _ = flush(server, &mut writer, &mut out, &info).await;
                                return;
                            }
                        }
                        let reply_at = out.len();
                        commands::execute(server, client, &mut out, &argv);
                        if is_auth(&argv) {
                            info.auth_in_flight.fetch_sub(1, Ordering::Relaxed);
                        }
                        let silenced = client.replies.silenced() && !is_push_reply(&argv);
                        if silenced {
                            out.buf.truncate(reply_at);
                            client.stream = None;
                        }
                        if let Some(sub) = &client.pubsub {
                            // Messages the command published reach a subscriber (or monitor) before its reply;
                            // a client that is neither (a RESP3 client's mailbox awaiting redirected
                            // invalidations) cannot receive them, and costs no commit here.
                            if client.info.subs.any() || client.tracking.is_some() || client.monitor.is_some() {
                                crate::notify::release_held();
                            }
                            sub.mailbox.drain_before(&mut out, reply_at);
                        }
                        if client.tracking.is_some() {
                            // Invalidations of the client's own writes follow the reply, as in Redis.
                            crate::tracking::flush_pending(client.id(), &mut out);
                        }
                        if let Some(stream) = client.stream.take() {
                            if !send_stream(server, &mut writer, &mut out, &info, stream, &mut turn).await {
                                return;
                            }
                        }
                        if turn.over(out.len()) {
                            // A transaction or a script still ran whole; only its replies are dropped.
                            close_over_limit(&info);
                            let _ = commit(server, &mut out, ran > 1).await;
                            let _ = flush(server, &mut writer, &mut out, &info).await;
                            return;
                        }
                        if let Some(block) = client.block.take() {
                            // The replies before the blocking command go out before the client waits.
                            if !commit(server, &mut out, ran > 1).await
                                || flush(server, &mut writer, &mut out, &info).await.is_err()
                            {
                                let _ = flush(server, &mut writer, &mut out, &info).await;
                                return;
                            }
                            let reply_at = out.len();
                            if !wait_blocked(server, &mut writer, client, &mut out, &argv, block).await {
                                let _ = flush(server, &mut writer, &mut out, &info).await;
                                return;
                            }
                            if silenced {
                                out.buf.truncate(reply_at);
                            }
                        }
                        client.replies = client.replies.after_command();
                    }
                    Request::ProtocolError(msg) => {
                        out.error(&format!("ERR Protocol error: {msg}"));
                        client.close_after_reply = true;
                    }
                }
                if client.close_after_reply || info.is_killed() {
                    break;
                }
                if out.len() >= FLUSH_AT && turn.may_write_early() {
                    turn.wrote_early(out.len());
                    if !commit(server, &mut out, ran > 1).await
                        || flush(server, &mut writer, &mut out, &info).await.is_err()
                    {
                        let _ = flush(server, &mut writer, &mut out, &info).await;
                        return;
                    }
                }
            }
            if client.close_after_reply || info.is_killed() {
                break;
            }
            // Run whatever the reader has already queued before paying for a write.
            pending = rx.try_recv().ok();
            if pending.is_some() && !turn.may_write_early() {
                // Under a hard output limit a turn ends with each read, as Redis' event loop writes after each: a
                // long pipeline is not held (and closed) whole.
                if !commit(server, &mut out, ran > 1).await
                    || flush(server, &mut writer, &mut out, &info).await.is_err()
                {
                    let _ = flush(server, &mut writer, &mut out, &info).await;
                    return;
                }
                turn = TurnOutput::start(server, &info);
            }
        }
        if !commit(server, &mut out, ran > 1).await {
            let _ = flush(server, &mut writer, &mut out, &info).await;
            break;
        }
        if flush(server, &mut writer, &mut out, &info).await.is_err() || client.close_after_reply || info.is_killed() {
            break;
        }
    }
    let _ = flush(server, &mut writer, &mut out, &info).await;
    let _ = writer.shutdown().await;
}

/// AUTH and HELLO, which may authenticate the client (see `ClientInfo::auth_in_flight`).
fn is_auth(argv: &Argv) -> bool {
    argv.first().is_some_and(|name| name.eq_ignore_ascii_case(b"auth") || name.eq_ignore_ascii_case(b"hello"))
}

/// True for the commands whose replies are pushes (subscription confirmations), which CLIENT REPLY OFF and
/// SKIP do not silence.
fn is_push_reply(argv: &Argv) -> bool {
    const PUSHES: [&[u8]; 6] =
        [b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe", b"sunsubscribe"];
    argv.first().is_some_and(|name| PUSHES.iter().any(|p| name.eq_ignore_ascii_case(p)))
}

/// Writes the pub/sub messages waiting in an idle client's mailbox, chunk by chunk. A kill (the output buffer
/// limit, CLIENT KILL) interrupts a write the peer does not read and drops what is unsent, so a subscriber that
/// never reads cannot hold the connection open. False when the connection must close.
async fn deliver_mail<W: AsyncWrite + Unpin>(
    server: &Server,
    writer: &mut W,
    out: &mut Reply,
    info: &ClientInfo,
    mailbox: &Mailbox,
) -> bool {
    loop {
        if info.is_killed() {
            return false;
        }
        mailbox.drain_into(out, FLUSH_AT);
        if out.is_empty() {
            return true;
        }
        let sent = tokio::select! {
            // A write that completes at once is all most deliveries need: nothing else is polled (no timer).
            biased;
            r = flush(server, writer, out, info) => r.is_ok(),
            _ = info.kill_signal.notified() => false,
            _ = enforce_while_waiting(server, info, mailbox) => false,
        };
        if !sent {
            out.buf.clear();
            return false;
        }
    }
}

/// Redis' periodic check of a client's output buffer limits while a write to it waits: a soft limit expires
/// even when no new message arrives. Returns once the client is killed.
async fn enforce_while_waiting(server: &Server, info: &ClientInfo, mailbox: &Mailbox) {
    while !info.is_killed() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        mailbox.enforce(class_limit(server, info));
    }
}

/// Writes the rest of a streamed reply chunk by chunk (see `commands::chunked`). False when the connection must
/// close: a write failed, or the stream failed midway (the reply cannot be completed).
async fn send_stream<W: AsyncWrite + Unpin>(
    server: &Server,
    writer: &mut W,
    out: &mut Reply,
    info: &ClientInfo,
    mut stream: Box<dyn ReplyStream>,
    turn: &mut TurnOutput,
) -> bool {
    loop {
        if out.len() >= FLUSH_AT && turn.may_write_early() {
            turn.wrote_early(out.len());
            if !commit(server, out, false).await || flush(server, writer, out, info).await.is_err() {
                return false;
            }
        }
        // Held for the turn's end, the buffer grows a chunk per round until the stream ends or passes the limit.
        let budget = if turn.may_write_early() { FLUSH_AT } else { out.len() + FLUSH_AT };
        match stream.fill(server, out, budget) {
            Ok(true) if turn.over(out.len()) => {
                close_over_limit(info);
                let _ = flush(server, writer, out, info).await;
                return false;
            }
            Ok(true) => {}
            Ok(false) => return true,
            Err(e) => {
                tracing::error!("streamed reply aborted, closing the connection: {}", e.message());
                let _ = flush(server, writer, out, info).await;
                return false;
            }
        }
    }
}

/// Holds a client's next command while CLIENT PAUSE covers it (Redis' postponed clients, flag `b` in CLIENT LIST).
/// False when the client was killed meanwhile.
async fn wait_pause(server: &Server, client: &Client, argv: &[Bytes]) -> bool {
    let info = client.info.clone();
    info.blocked.store(true, Ordering::Relaxed);
    let mut alive = true;
    loop {
        // Registered before the check, so an UNPAUSE between the two is not missed.
        let ended = server.pause.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        let Some(until) = server.pause.holds(server, client, argv) else { break };
        let wait = Duration::from_millis(until.saturating_sub(now_ms()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut ended => {}
            _ = info.kill_signal.notified() => {
                alive = false;
                break;
            }
            _ = info.peer_gone.notified() => {
                alive = false;
                break;
            }
        }
        if info.is_killed() {
            alive = false;
            break;
        }
    }
    info.blocked.store(false, Ordering::Relaxed);
    alive
}

/// Suspends a client whose command blocked until it is served, times out, is unblocked, killed or disconnects;
/// its reply (if any) is left in `out`, its writes committed. See `crate::blocking` for the wake-up protocol.
/// False when the commit failed (the reply is then the error, and the connection closes).
async fn wait_blocked<W: AsyncWrite + Unpin>(
    server: &Server,
    writer: &mut W,
    client: &mut Client,
    out: &mut Reply,
    argv: &Argv,
    block: Block,
) -> bool {
    let info = client.info.clone();
    // A RESP3 subscriber keeps receiving its messages while it waits, as in Redis.
    let mailbox = client.pubsub.as_ref().map(|s| s.mailbox.clone());
    let waiters = &server.store.ready;
    let mut waiting_in = block.db;
    let mut waiter = waiters.register(waiting_in, &block.keys);
    info.blocked.store(true, Ordering::Relaxed);
    info.unblock_error.store(false, Ordering::Relaxed);
    let deadline = async {
        match block.deadline {
            Some(at) => tokio::time::sleep_until(at.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    // A push between the command's look and the registration above signalled nobody: look once more.
    let mut retry = true;
    loop {
        if retry {
            client.woken = true;
            commands::execute(server, client, out, argv);
            client.woken = false;
            match client.block.take() {
                None => break,
                // SWAPDB gave the client's database another physical one: wait there, after one more look (as
                // at the first registration, a push in between signalled nobody).
                Some(again) if again.db != waiting_in => {
                    waiters.unregister(waiting_in, &block.keys, &waiter);
                    waiters.served(&waiter);
                    waiting_in = again.db;
                    waiter = waiters.register(waiting_in, &block.keys);
                    continue;
                }
                // Nothing for it after all: it waits on, no longer being served.
                Some(_) => waiters.served(&waiter),
            }
        }
        retry = tokio::select! {
            _ = waiter.wake.notified() => true,
            _ = &mut deadline => {
                block.unserved.write(out);
                break;
            }
            _ = info.unblock_signal.notified() => {
                if info.unblock_error.load(Ordering::Relaxed) {
                    // A failed call of the blocked command, counted as Redis counts it (errorstats, failed_calls).
                    let e = commands::CmdError::Raw("UNBLOCKED client unblocked via CLIENT UNBLOCK".into());
                    server.stats.record_error(&e);
                    if let Ok(cmd) = commands::resolve(argv) {
                        cmd.stats.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    out.error(&e.message());
                } else {
                    block.unserved.write(out);
                }
                break;
            }
            _ = Mailbox::wait(mailbox.as_deref()) => match &mailbox {
                Some(m) => {
                    // The peer may not read: meanwhile nobody's replies wait for this client to be served.
                    waiters.set_busy(&waiter, true);
                    let delivered = deliver_mail(server, writer, out, &info, m).await;
                    waiters.set_busy(&waiter, false);
                    if !delivered {
                        break;
                    }
                    false
                }
                None => break,
            },
            _ = info.kill_signal.notified() => break,
            _ = info.peer_gone.notified() => break,
        };
    }
    info.blocked.store(false, Ordering::Relaxed);
    waiters.unregister(waiting_in, &block.keys, &waiter);
    // Committed before it stops counting as served, so the clients its own writes woke count first.
    let committed = commit_only(out, false).await;
    waiters.served(&waiter);
    committed
}

/// Waits for the commit of the writes the pending replies depend on (see `storage::scope`; `pipelined`: more
/// than one command ran since the last commit). When it fails nothing of them may be acknowledged: the replies
/// are replaced by one error and the connection closes.
/// Then, as Redis serves the clients a command unblocked before any reply goes out, it waits until the clients
/// woken by committed writes are served (see `crate::blocking`).
async fn commit(server: &Server, out: &mut Reply, pipelined: bool) -> bool {
    let committed = commit_only(out, pipelined).await;
    server.store.ready.settled().await;
    committed
}

/// [`commit`] without waiting for woken clients (a woken client's own commit).
async fn commit_only(out: &mut Reply, pipelined: bool) -> bool {
    match scope::group_commit(pipelined).await {
        Ok(()) => true,
        Err(e) => {
            out.buf.clear();
            out.error(&format!("ERR storage error, the last commands were not applied: {e}"));
            false
        }
    }
}

/// Writes the pending replies. A killed client (CLIENT KILL, the output buffer limit, the idle timeout) is closed
/// at once, its unsent output dropped, as Redis frees it: a peer that does not read cannot hold it open.
async fn flush<W: AsyncWrite + Unpin>(
    server: &Server,
    writer: &mut W,
    out: &mut Reply,
    info: &ClientInfo,
) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let killed = || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "client killed");
    if info.is_killed() {
        out.buf.clear();
        return Err(killed());
    }
    let write = async {
        writer.write_all(&out.buf).await?;
        writer.flush().await
    };
    // While it is written, the output is the client's `omem` (CLIENT LIST), which a subscriber's output buffer
    // limit also counts besides its mailbox.
    info.omem.store(out.len(), Ordering::Relaxed);
    let written = tokio::select! {
        r = write => r,
        _ = info.kill_signal.notified() => Err(killed()),
    };
    info.omem.store(0, Ordering::Relaxed);
    if let Err(e) = written {
        out.buf.clear();
        return Err(e);
    }
    server.stats.net_output_bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
    out.buf.clear();
    Ok(())
}
