//! Generator of zsets commands for the differential tester.

use super::{Cmd, Gen};

pub fn zsets(g: &mut Gen) -> Cmd {
    Cmd::new("ZCARD").arg(g.key())
}
