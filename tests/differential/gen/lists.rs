//! Generator of lists commands for the differential tester.

use super::{Cmd, Gen};

pub fn lists(g: &mut Gen) -> Cmd {
    Cmd::new("LLEN").arg(g.key())
}
