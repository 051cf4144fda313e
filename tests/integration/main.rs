//! End-to-end tests against the real `sabledb` binary: one module per area.

mod common;
mod concurrency;
mod connection;
mod durability;
mod keyspace;
mod server;
mod strings;
