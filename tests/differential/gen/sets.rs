//! Generator of sets commands for the differential tester.

use super::{Cmd, Gen};

pub fn sets(g: &mut Gen) -> Cmd {
    Cmd::new("SCARD").arg(g.key())
}
