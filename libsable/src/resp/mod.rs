//! The RESP wire protocol: requests in ([`parser`]), replies out ([`reply`]).

pub mod parser;
pub mod reply;
