//! Networking: an acceptor thread owns the listeners (TCP, TLS, Unix socket, HTTP) and deals connections
//! round-robin to worker threads, each a current-thread tokio runtime with a `LocalSet` running one task pair per
//! connection (see [`connection`]). Nothing here touches storage.

pub mod connection;
pub mod http;
mod output_limit;
pub mod tls;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::server::Server;

/// A connection accepted by the acceptor, on its way to a worker. A TLS connection carries the acceptor of the
/// listener it came from (CONFIG SET tls-port may configure TLS while running).
enum NewConn {
    Tcp { stream: std::net::TcpStream, tls: Option<TlsAcceptor> },
    Unix(std::os::unix::net::UnixStream),
}

/// CONFIG SET `port`, `tls-port` or `bind`: the new TCP listeners of one kind (plain or TLS), bound by the worker
/// running the command, for the acceptor thread to serve in place of the old ones (an empty list stops listening).
/// The acceptor answers on `done` once the old listeners are closed and the new ones accept.
pub struct ListenerChange {
    tls: bool,
    listeners: Vec<std::net::TcpListener>,
    /// The TLS acceptor for new TLS listeners when TLS was not configured before (None keeps the current one).
    acceptor: Option<TlsAcceptor>,
    done: std::sync::mpsc::SyncSender<()>,
}

/// Redis' error texts for a listener CONFIG SET could not apply.
const PORT_FAILED: &str = "Unable to listen on this port. Check server logs.";
const BIND_FAILED: &str = "Failed to bind to specified addresses.";
const TLS_FAILED: &str = "Unable to update TLS configuration. Check server logs.";

/// Opens storage, starts the workers and background jobs, binds every listener and serves until SHUTDOWN or a
/// signal. Returns an error (naming the cause) when start-up fails.
pub fn run(config: Config) -> Result<(), String> {
    let server = Arc::new(Server::new(config)?);
    let tls = {
        let cfg = server.config.read();
        if cfg.int("tls-port") != 0 {
            Some(tls::acceptor(&cfg)?)
        } else {
            None
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the acceptor runtime: {e}"))?;
    rt.block_on(async {
        let cfg = server.config.read().clone();
        let listeners = bind_all(&cfg).await?;
        server.start_background();
        let workers = start_workers(&server)?;
        let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
        *server.listener_ctl.lock() = Some(ctl_tx);
        tracing::info!("SableDB ready to accept connections ({} workers)", server.workers);
        serve_listeners(server, listeners, workers, tls, ctl_rx).await;
        Ok(())
    })
}

struct Listeners {
    plain: Vec<std::net::TcpListener>,
    tls: Vec<std::net::TcpListener>,
    unix: Option<UnixListener>,
    http: Option<TcpListener>,
}

/// Linux errno values for which Redis' `listenToPort` skips an address instead of failing: the protocol or
/// address family is not available on this host (an IPv6 address without IPv6).
const UNSUPPORTED_ERRNO: [i32; 5] = [92 /* ENOPROTOOPT */, 93, 94, 96, 97 /* EAFNOSUPPORT */];

/// One listening socket on `host:port`, as Redis makes it: SO_REUSEADDR, IPV6_V6ONLY for IPv6, non-blocking.
fn listen_one(host: &str, port: u16) -> std::io::Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    // Redis' wildcards: `*` is every IPv4 address, `::*` every IPv6 one.
    let host = match host {
        "*" => "0.0.0.0",
        "::*" => "::",
        h => h,
    };
    let mut last = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, "no address to bind");
    for addr in (host, port).to_socket_addrs()? {
        let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
        let bound = (|| {
            socket.set_reuse_address(true)?;
            if addr.is_ipv6() {
                socket.set_only_v6(true)?;
            }
            socket.bind(&addr.into())?;
            socket.listen(1024)?;
            socket.set_nonblocking(true)
        })();
        match bound {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Binds `port` on every address of `bind` (Redis' `listenToPort`): none when the port is 0 or `bind` is empty;
/// an address prefixed `-` is skipped when it is not available, as is one of an unsupported family. Any other
/// failure closes what was bound and names the address.
pub fn bind_tcp(bind: &str, port: i64, tls: bool) -> Result<Vec<std::net::TcpListener>, String> {
    let mut out = Vec::new();
    let Ok(port) = u16::try_from(port) else { return Err(format!("invalid port {port}")) };
    if port == 0 {
        return Ok(out);
    }
    for addr in bind.split_whitespace() {
        let optional = addr.starts_with('-');
        let host = addr.trim_start_matches('-');
        let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        match listen_one(host, port) {
            Ok(l) => {
                tracing::info!("listening on {target}{}", if tls { " (TLS)" } else { "" });
                out.push(l);
            }
            Err(e) => {
                tracing::warn!("Could not create server TCP listening socket {target}: {e}");
                let unsupported = e.raw_os_error().is_some_and(|n| UNSUPPORTED_ERRNO.contains(&n));
                if unsupported || (optional && e.kind() == std::io::ErrorKind::AddrNotAvailable) {
                    continue;
                }
                return Err(format!("cannot listen on {target}: {e}"));
            }
        }
    }
    Ok(out)
}

/// Both kinds of TCP listeners of `cfg` (plain, TLS).
fn bind_both(cfg: &Config) -> Result<(Vec<std::net::TcpListener>, Vec<std::net::TcpListener>), String> {
    let plain = bind_tcp(cfg.str("bind"), cfg.int("port"), false)?;
    let tls = bind_tcp(cfg.str("bind"), cfg.int("tls-port"), true)?;
    Ok((plain, tls))
}

async fn bind_all(cfg: &Config) -> Result<Listeners, String> {
    let addrs: Vec<String> = cfg.str("bind").split_whitespace().map(str::to_string).collect();
    let (plain, tls) = bind_both(cfg)?;
    let unix = match cfg.str("unixsocket") {
        "" => None,
        path => {
            let _ = std::fs::remove_file(path);
            let l = UnixListener::bind(path).map_err(|e| format!("cannot listen on unix socket {path}: {e}"))?;
            let perm = u32::from_str_radix(&cfg.int("unixsocketperm").to_string(), 8).unwrap_or(0);
            if perm != 0 {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))
                    .map_err(|e| format!("cannot set unixsocketperm on {path}: {e}"))?;
            }
            tracing::info!("listening on unix socket {path}");
            Some(l)
        }
    };
    let http = match cfg.int("http_port") {
        0 => None,
        port => {
            let host = addrs.first().map(|a| a.trim_start_matches('-').to_string()).unwrap_or("127.0.0.1".into());
            let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
            let l = TcpListener::bind(&target).await.map_err(|e| format!("cannot listen on {target}: {e}"))?;
            tracing::info!("HTTP metrics and health on {target}");
            Some(l)
        }
    };
    Ok(Listeners { plain, tls, unix, http })
}

/// Sends one change to the acceptor thread and waits until it is in effect.
fn send_change(
    ctl: &mpsc::UnboundedSender<ListenerChange>,
    tls: bool,
    listeners: Vec<std::net::TcpListener>,
    acceptor: Option<TlsAcceptor>,
) {
    let (done, applied) = std::sync::mpsc::sync_channel(1);
    if ctl.send(ListenerChange { tls, listeners, acceptor, done }).is_ok() {
        // The acceptor thread never waits on a worker, so this wait is short.
        let _ = applied.recv();
    }
}

/// CONFIG SET's apply step for `port`, `tls-port` and `bind` (Redis' `updatePort`, `updateTLSPort`,
/// `applyBind`), run on the worker executing the command before the new config is stored: binds the new
/// listeners here and hands them to the acceptor thread, which closes the old ones. On failure the listeners are
/// as before and the error is `(parameter, Redis' message)`. `order` is the canonical names of the command, in
/// order: the first listener parameter among them that changed is the one a failure is reported against.
pub fn apply_listeners(server: &Server, old: &Config, new: &Config, order: &[String]) -> Result<(), (String, String)> {
    let bind_changed = old.str("bind") != new.str("bind");
    let changed = |name: &str| match name {
        "bind" => bind_changed,
        "port" | "tls-port" => old.int(name) != new.int(name),
        _ => false,
    };
    if !["bind", "port", "tls-port"].iter().any(|n| changed(n)) {
        return Ok(());
    }
    let Some(ctl) = server.listener_ctl.lock().clone() else {
        // Not serving (a server built without the acceptor): there is nothing to rebind.
        return Ok(());
    };
    let blame = |fallback: &str| {
        let name = order.iter().find(|n| changed(n)).map_or(fallback, String::as_str).to_string();
        let msg = if name == "bind" { BIND_FAILED } else { PORT_FAILED };
        (name, msg.to_string())
    };
    // TLS is configured when it is first needed (the certificate files are read now).
    let new_tls_port = new.int("tls-port");
    let acceptor = if new_tls_port != 0 && old.int("tls-port") == 0 {
        match tls::acceptor(new) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("CONFIG SET tls-port: {e}");
                return Err(("tls-port".into(), TLS_FAILED.into()));
            }
        }
    } else {
        None
    };
    if bind_changed {
        // As Redis: the old listeners are closed first, since the new addresses may overlap them (the same
        // address, or a wildcard); when the new ones cannot all be bound, the old ones are bound again.
        send_change(&ctl, false, Vec::new(), None);
        send_change(&ctl, true, Vec::new(), None);
        match bind_both(new) {
            Ok((plain, tls)) => {
                send_change(&ctl, false, plain, None);
                send_change(&ctl, true, tls, acceptor);
                Ok(())
            }
            Err(e) => {
                tracing::warn!("CONFIG SET bind: {e}; restoring the previous listeners");
                match bind_both(old) {
                    Ok((plain, tls)) => {
                        send_change(&ctl, false, plain, None);
                        send_change(&ctl, true, tls, None);
                    }
                    Err(e) => tracing::error!("cannot listen again on the previous addresses: {e}"),
                }
                Err(blame("bind"))
            }
        }
    } else {
        // Another port: the new listeners are bound before the old ones close, so a failure changes nothing.
        let bind = new.str("bind");
        let plain = match changed("port") {
            true => Some(bind_tcp(bind, new.int("port"), false).map_err(|e| {
                tracing::warn!("CONFIG SET port: {e}");
                ("port".to_string(), PORT_FAILED.to_string())
            })?),
            false => None,
        };
        let tls = match changed("tls-port") {
            true => Some(bind_tcp(bind, new_tls_port, true).map_err(|e| {
                tracing::warn!("CONFIG SET tls-port: {e}");
                ("tls-port".to_string(), PORT_FAILED.to_string())
            })?),
            false => None,
        };
        if let Some(plain) = plain {
            send_change(&ctl, false, plain, None);
        }
        if let Some(tls) = tls {
            send_change(&ctl, true, tls, acceptor);
        }
        Ok(())
    }
}

fn start_workers(server: &Arc<Server>) -> Result<Vec<mpsc::UnboundedSender<NewConn>>, String> {
    let mut senders = Vec::new();
    for i in 0..server.workers {
        let (tx, rx) = mpsc::unbounded_channel();
        let server = server.clone();
        std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker_main(server, rx))
            .map_err(|e| format!("cannot start worker thread: {e}"))?;
        senders.push(tx);
    }
    Ok(senders)
}

fn worker_main(server: Arc<Server>, mut rx: mpsc::UnboundedReceiver<NewConn>) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start a worker runtime: {e}");
            return;
        }
    };
    // This thread's write scope: every connection it serves commits through it (see storage::scope).
    crate::storage::scope::begin(&server.store);
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        while let Some(conn) = rx.recv().await {
            tokio::task::spawn_local(handle(server.clone(), conn));
        }
    });
}

async fn handle(server: Arc<Server>, conn: NewConn) {
    match conn {
        NewConn::Tcp { stream, tls } => {
            let Ok(stream) = TcpStream::from_std(stream) else { return };
            let _ = stream.set_nodelay(true);
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let info = server.clients.register(peer, local, false);
            match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        let (r, w) = tokio::io::split(tls_stream);
                        connection::serve(server, r, w, info).await;
                    }
                    Err(e) => {
                        tracing::debug!("TLS handshake failed: {e}");
                        server.clients.unregister(info.id);
                    }
                },
                None => {
                    let (r, w) = stream.into_split();
                    connection::serve(server, r, w, info).await;
                }
            }
        }
        NewConn::Unix(stream) => {
            let Ok(stream) = UnixStream::from_std(stream) else { return };
            let path = server.config.read().str("unixsocket").to_string();
            let info = server.clients.register(format!("{path}:0"), format!("{path}:0"), true);
            let (r, w) = stream.into_split();
            connection::serve(server, r, w, info).await;
        }
    }
}

/// Starts one accept loop per listener of a kind into `tasks`.
fn spawn_tcp<D>(
    tasks: &mut tokio::task::JoinSet<()>,
    listeners: Vec<std::net::TcpListener>,
    acceptor: Option<TlsAcceptor>,
    dispatch: &D,
) where
    D: Fn(NewConn) + Clone + Send + 'static,
{
    for listener in listeners {
        let listener = match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("cannot serve a listener: {e}");
                continue;
            }
        };
        let dispatch = dispatch.clone();
        let acceptor = acceptor.clone();
        tasks.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((s, _)) => {
                        if let Ok(stream) = s.into_std() {
                            dispatch(NewConn::Tcp { stream, tls: acceptor.clone() });
                        }
                    }
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
}

async fn serve_listeners(
    server: Arc<Server>,
    listeners: Listeners,
    workers: Vec<mpsc::UnboundedSender<NewConn>>,
    mut tls: Option<TlsAcceptor>,
    mut ctl: mpsc::UnboundedReceiver<ListenerChange>,
) {
    let workers = Arc::new(workers);
    let next = Arc::new(AtomicUsize::new(0));
    let dispatch = {
        let server = server.clone();
        let workers = workers.clone();
        let next = next.clone();
        move |conn: NewConn| {
            let max = server.config.read().int("maxclients") as usize;
            if server.clients.count() >= max {
                server.clients.rejected_connections.fetch_add(1, Ordering::Relaxed);
                reject(conn);
                return;
            }
            let i = next.fetch_add(1, Ordering::Relaxed) % workers.len();
            let _ = workers[i].send(conn);
        }
    };
    // The accept loops of the plain and TLS listeners, each kind replaced as a whole by CONFIG SET.
    let mut plain_tasks = tokio::task::JoinSet::new();
    let mut tls_tasks = tokio::task::JoinSet::new();
    spawn_tcp(&mut plain_tasks, listeners.plain, None, &dispatch);
    spawn_tcp(&mut tls_tasks, listeners.tls, tls.clone(), &dispatch);
    let mut other = tokio::task::JoinSet::new();
    if let Some(listener) = listeners.unix {
        let dispatch = dispatch.clone();
        other.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((s, _)) => {
                        if let Ok(stream) = s.into_std() {
                            dispatch(NewConn::Unix(stream));
                        }
                    }
                    Err(e) => {
                        tracing::warn!("accept (unix): {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    if let Some(listener) = listeners.http {
        other.spawn(http::serve(server.clone(), listener));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => break,
            Some(change) = ctl.recv() => {
                let tasks = if change.tls { &mut tls_tasks } else { &mut plain_tasks };
                // Waiting for the aborted loops to end drops (closes) their listeners before the reply.
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                if change.acceptor.is_some() {
                    tls = change.acceptor;
                }
                let acceptor = if change.tls { tls.clone() } else { None };
                spawn_tcp(tasks, change.listeners, acceptor, &dispatch);
                let _ = change.done.send(());
            }
        }
    }
    tracing::info!("received a shutdown signal");
    server.shutdown();
}

/// Refuses a connection over `maxclients` with Redis' error line.
fn reject(conn: NewConn) {
    use std::io::Write;
    let msg = b"-ERR max number of clients reached\r\n";
    match conn {
        NewConn::Tcp { mut stream, tls: None } => {
            let _ = stream.write_all(msg);
        }
        NewConn::Unix(mut stream) => {
            let _ = stream.write_all(msg);
        }
        NewConn::Tcp { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port_of(l: &std::net::TcpListener) -> u16 {
        l.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    #[test]
    fn bind_tcp_follows_redis_listen_to_port() {
        // Port 0 or no address: no listener.
        assert!(bind_tcp("127.0.0.1", 0, false).unwrap().is_empty());
        assert!(bind_tcp("", 6379, false).unwrap().is_empty());
        // A port the kernel picks for a probe, then bound on two addresses (the wildcard `*` is 0.0.0.0).
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = port_of(&probe);
        drop(probe);
        let got = bind_tcp("-192.0.2.1 127.0.0.1", port as i64, false).unwrap();
        assert_eq!(got.len(), 1, "the unavailable optional address is skipped");
        assert_eq!(port_of(&got[0]), port);
        // In use (by the listener above): refused, naming the address.
        let e = bind_tcp("127.0.0.1", port as i64, false).unwrap_err();
        assert!(e.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")), "{e}");
        assert!(bind_tcp("*", port as i64, false).is_err());
        drop(got);
        let star = bind_tcp("*", port as i64, false).unwrap();
        assert_eq!(star[0].local_addr().unwrap().to_string(), format!("0.0.0.0:{port}"));
        drop(star);
        // Not available and not optional, or not an address at all: refused.
        assert!(bind_tcp("192.0.2.1", port as i64, false).is_err());
        assert!(bind_tcp("999.999.999.999", port as i64, false).is_err());
        assert!(bind_tcp("127.0.0.1", 70000, false).is_err());
    }
}
