//! Generator of hashes commands for the differential tester.

use super::{Cmd, Gen};

pub fn hashes(g: &mut Gen) -> Cmd {
    Cmd::new("HLEN").arg(g.key())
}
