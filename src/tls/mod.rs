//! TLS: peer identity for claim mappers (and, with the TLS configuration types, Temporal's
//! `frontend` / `internode` groups on rustls).

mod peer;

pub use peer::{TlsConnection, TlsSubject, peer_identity};
