//! The lists family.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
