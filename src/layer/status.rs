//! The denial on the wire: `PERMISSION_DENIED`, `Request unauthorized.`, and the
//! `PermissionDeniedFailure` detail Temporal clients expect (encoded in [`crate::temporal`]);
//! and `UNAUTHENTICATED` for the gRPC convention (`DenialStyle::Grpc`).

use std::sync::OnceLock;

use bytes::Bytes;
use tonic::{Code, Status};

use crate::temporal::UNAUTHORIZED_MESSAGE;
use crate::temporal::permission_denied_details;

/// The denial Temporal clients expect, with `reason` in the detail (empty for the generic one).
#[must_use]
pub(crate) fn permission_denied(reason: &str) -> Status {
    let bytes = if reason.is_empty() {
        // The generic denial is by far the most common: encode it once.
        static GENERIC: OnceLock<Bytes> = OnceLock::new();
        GENERIC
            .get_or_init(|| permission_denied_details(""))
            .clone()
    } else {
        permission_denied_details(reason)
    };
    Status::with_details(Code::PermissionDenied, UNAUTHORIZED_MESSAGE, bytes)
}

/// The message of `UNAUTHENTICATED` answers (`DenialStyle::Grpc`).
pub(crate) const UNAUTHENTICATED_MESSAGE: &str = "Request unauthenticated.";

/// The gRPC convention's answer to missing or invalid credentials.
#[must_use]
pub(crate) fn unauthenticated() -> Status {
    Status::unauthenticated(UNAUTHENTICATED_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_carries_the_detail() {
        let status = permission_denied("nope");
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(status.message(), "Request unauthorized.");
        assert_eq!(status.details(), permission_denied_details("nope"));
        let generic = permission_denied("");
        assert_eq!(generic.details(), permission_denied_details(""));
    }
}
