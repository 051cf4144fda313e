//! Bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO over string records.

use super::Handler;

pub const HANDLERS: &[(&str, Handler)] = &[];
