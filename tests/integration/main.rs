//! End-to-end tests against the real `sabledb` binary: one module per area.

mod common;
mod connection;
mod durability;
