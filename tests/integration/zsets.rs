//! End-to-end tests of the zsets family.
