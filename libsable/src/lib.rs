//! SableDB: a Redis 7 compatible server whose data lives in RocksDB.
//!
//! Map of the crate:
//! - [`net`]: acceptor thread, worker threads (current-thread tokio runtimes), per-connection reader and writer
//!   tasks, TLS, the HTTP metrics/health frontend.
//! - [`resp`]: the request parser (RESP multibulk and inline) and the RESP2/RESP3 reply encoder.
//! - [`commands`]: the command table (names → handlers, with Redis' arity, flags, key positions and docs), the
//!   dispatcher, the argument cursor, the error type, and one module per command family.
//! - [`storage`]: the RocksDB encoding of Redis types, striped locks, write transactions, expiry.
//! - [`config`]: options from `sabledb.ini`, the command line and CONFIG SET.
//! - [`blocking`]: the queues of clients blocked on keys (BLPOP and friends); [`watch`]: keys watched by WATCH.
//! - [`pubsub`]: the registry of pub/sub subscriptions and the subscribers' mailboxes; [`notify`]: keyspace
//!   notifications published through it; [`monitor`]: the MONITOR clients and the lines fed to them.
//! - [`scripting`]: the Lua engine behind EVAL and SCRIPT (Redis 7.0's environment and error texts).
//! - [`server`]: shared server state and background jobs; [`client`]: per-connection state and the registry.
//! - [`acl`]: ACL users and their rules, the permission check the dispatcher runs, the ACL log and file.
//! - [`maxmemory`]: the memory ceiling and the commands refused with `-OOM` over it.

pub mod acl;
pub mod blocking;
pub mod client;
pub mod commands;
pub mod config;
pub mod maxmemory;
pub mod monitor;
pub mod net;
pub mod notify;
pub mod pubsub;
pub mod resp;
pub mod scripting;
pub mod server;
pub mod storage;
pub mod tracking;
pub mod util;
pub mod watch;

pub use config::Config;
pub use net::run;
