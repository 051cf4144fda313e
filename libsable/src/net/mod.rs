//! Networking: an acceptor thread owns the listeners (TCP, TLS, Unix socket, HTTP) and deals connections
//! round-robin to worker threads, each a current-thread tokio runtime with a `LocalSet` running one task pair per
//! connection (see [`connection`]). Nothing here touches storage.

pub mod connection;
pub mod http;
pub mod tls;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::server::Server;

/// A connection accepted by the acceptor, on its way to a worker.
enum NewConn {
    Tcp { stream: std::net::TcpStream, tls: bool },
    Unix(std::os::unix::net::UnixStream),
}

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
        let workers = start_workers(&server, tls)?;
        tracing::info!("SableDB ready to accept connections ({} workers)", server.workers);
        serve_listeners(server, listeners, workers).await;
        Ok(())
    })
}

struct Listeners {
    tcp: Vec<(TcpListener, bool)>,
    unix: Option<UnixListener>,
    http: Option<TcpListener>,
}

async fn bind_all(cfg: &Config) -> Result<Listeners, String> {
    let mut tcp = Vec::new();
    let addrs: Vec<String> = cfg.str("bind").split_whitespace().map(str::to_string).collect();
    for (port, tls) in [(cfg.int("port"), false), (cfg.int("tls-port"), true)] {
        if port == 0 {
            continue;
        }
        for addr in &addrs {
            let host = addr.trim_start_matches('-');
            let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
            let l = TcpListener::bind(&target).await.map_err(|e| format!("cannot listen on {target}: {e}"))?;
            tracing::info!("listening on {target}{}", if tls { " (TLS)" } else { "" });
            tcp.push((l, tls));
        }
    }
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
    Ok(Listeners { tcp, unix, http })
}

fn start_workers(
    server: &Arc<Server>,
    tls: Option<TlsAcceptor>,
) -> Result<Vec<mpsc::UnboundedSender<NewConn>>, String> {
    let mut senders = Vec::new();
    for i in 0..server.workers {
        let (tx, rx) = mpsc::unbounded_channel();
        let server = server.clone();
        let tls = tls.clone();
        std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker_main(server, rx, tls))
            .map_err(|e| format!("cannot start worker thread: {e}"))?;
        senders.push(tx);
    }
    Ok(senders)
}

fn worker_main(server: Arc<Server>, mut rx: mpsc::UnboundedReceiver<NewConn>, tls: Option<TlsAcceptor>) {
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
            tokio::task::spawn_local(handle(server.clone(), conn, tls.clone()));
        }
    });
}

async fn handle(server: Arc<Server>, conn: NewConn, tls: Option<TlsAcceptor>) {
    match conn {
        NewConn::Tcp { stream, tls: is_tls } => {
            let Ok(stream) = TcpStream::from_std(stream) else { return };
            let _ = stream.set_nodelay(true);
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
            let info = server.clients.register(peer, local, false);
            match (is_tls, tls) {
                (true, Some(acceptor)) => match acceptor.accept(stream).await {
                    Ok(tls_stream) => {
                        let (r, w) = tokio::io::split(tls_stream);
                        connection::serve(server, r, w, info).await;
                    }
                    Err(e) => {
                        tracing::debug!("TLS handshake failed: {e}");
                        server.clients.unregister(info.id);
                    }
                },
                _ => {
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

async fn serve_listeners(server: Arc<Server>, listeners: Listeners, workers: Vec<mpsc::UnboundedSender<NewConn>>) {
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
    let mut tasks = tokio::task::JoinSet::new();
    for (listener, tls) in listeners.tcp {
        let dispatch = dispatch.clone();
        tasks.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((s, _)) => {
                        if let Ok(stream) = s.into_std() {
                            dispatch(NewConn::Tcp { stream, tls });
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
    if let Some(listener) = listeners.unix {
        let dispatch = dispatch.clone();
        tasks.spawn(async move {
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
        tasks.spawn(http::serve(server.clone(), listener));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {},
        _ = async { while tasks.join_next().await.is_some() {} } => {},
    }
    tracing::info!("received a shutdown signal");
    server.shutdown();
}

/// Refuses a connection over `maxclients` with Redis' error line.
fn reject(conn: NewConn) {
    use std::io::Write;
    let msg = b"-ERR max number of clients reached\r\n";
    match conn {
        NewConn::Tcp { mut stream, tls: false } => {
            let _ = stream.write_all(msg);
        }
        NewConn::Unix(mut stream) => {
            let _ = stream.write_all(msg);
        }
        NewConn::Tcp { .. } => {}
    }
}
