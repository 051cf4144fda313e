//! The hashes family.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
