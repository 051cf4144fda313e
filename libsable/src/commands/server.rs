//! Server family: COMMAND, INFO, CONFIG, TIME, SHUTDOWN, LASTSAVE, FUNCTION.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
