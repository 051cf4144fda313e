//! The sets family.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
