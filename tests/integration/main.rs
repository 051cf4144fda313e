//! End-to-end tests against the real `sabledb` binary: one module per area.

mod acl;
mod blocking;
mod collections;
mod common;
mod concurrency;
mod connection;
mod diagnostics;
mod dump;
mod durability;
mod geo;
mod hashes;
mod hyperloglog;
mod keyspace;
mod listeners;
mod lists;

mod monitor;
mod notify;
mod pubsub;
mod redis_py;
mod refusals;
mod scripting;
mod server;
mod sets;
mod streams;
mod strings;
mod tracking;
mod transactions;
mod zsets;
