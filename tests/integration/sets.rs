//! End-to-end tests of the sets family.
