//! The HTTP frontend beside the RESP listeners: `GET /health` for liveness checks and `GET /metrics` in the
//! Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::commands::table;
use crate::server::Server;

pub async fn serve(server: Arc<Server>, listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let server = server.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut len = 0;
            // Read until the end of the request head (or the buffer is full: answer what we have).
            while len < buf.len() {
                match tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf[len..])).await {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                    Ok(Ok(n)) => len += n,
                }
                if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let path = head.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/health" => ("200 OK", "OK\n".to_string()),
                "/metrics" => ("200 OK", metrics(&server)),
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
        });
    }
}

/// Server counters in the Prometheus exposition format.
pub fn metrics(server: &Server) -> String {
    let mut m = String::new();
    let s = &server.stats;
    let _ = writeln!(m, "# TYPE sabledb_connected_clients gauge\nsabledb_connected_clients {}", server.clients.count());
    let _ = writeln!(
        m,
        "# TYPE sabledb_commands_processed_total counter\nsabledb_commands_processed_total {}",
        s.commands_processed.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        m,
        "# TYPE sabledb_keyspace_hits_total counter\nsabledb_keyspace_hits_total {}\n# TYPE sabledb_keyspace_misses_total counter\nsabledb_keyspace_misses_total {}",
        s.keyspace_hits.load(Ordering::Relaxed),
        s.keyspace_misses.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        m,
        "# TYPE sabledb_expired_keys_total counter\nsabledb_expired_keys_total {}",
        server.store.expired_keys.load(Ordering::Relaxed)
    );
    let _ = writeln!(m, "# TYPE sabledb_keys gauge");
    for db in 0..server.store.databases() as usize {
        let n = server.store.key_count(db);
        if n > 0 {
            let _ = writeln!(m, "sabledb_keys{{db=\"{db}\"}} {n}");
        }
    }
    let _ = writeln!(m, "# TYPE sabledb_command_calls_total counter");
    for c in &table().entries {
        let calls = c.stats.calls.load(Ordering::Relaxed);
        if calls > 0 {
            let _ = writeln!(m, "sabledb_command_calls_total{{cmd=\"{}\"}} {calls}", c.name);
        }
    }
    m
}
