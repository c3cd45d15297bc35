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
/// [`permission_denied`] without a reason as a response, from headers built once: the
/// answer to most refusals, at the cost of one header-map clone. (Unlike
/// `Status::into_http`, the response carries no `Status` extension; nothing reads it.)
#[must_use]
pub(crate) fn generic_denial<B: Default>() -> http::Response<B> {
    static HEADERS: OnceLock<http::HeaderMap> = OnceLock::new();
    let headers = HEADERS.get_or_init(|| {
        let (parts, ()) = permission_denied("").into_http::<()>().into_parts();
        parts.headers
    });
    let mut response = http::Response::new(B::default());
    *response.headers_mut() = headers.clone();
    response
}

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

    #[test]
    fn the_generic_denial_is_the_status_as_tonic_writes_it() {
        let built: http::Response<()> = permission_denied("").into_http();
        let cached: http::Response<()> = generic_denial();
        assert_eq!(cached.status(), built.status());
        assert_eq!(cached.headers(), built.headers());
        assert_eq!(cached.headers().len(), 4, "{:?}", cached.headers());
        let status = Status::from_header_map(cached.headers()).expect("a gRPC status");
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(status.message(), "Request unauthorized.");
    }
}
