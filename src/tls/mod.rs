//! TLS: peer identity for claim mappers (and, with the TLS configuration types, Temporal's
//! `frontend` / `internode` groups on rustls).

mod peer;

pub(crate) use peer::cached_peer_identity;
pub use peer::{TlsConnection, TlsSubject, peer_identity};
