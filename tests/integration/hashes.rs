//! End-to-end tests of the hashes family.
