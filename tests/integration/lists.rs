//! End-to-end tests of the lists family.
