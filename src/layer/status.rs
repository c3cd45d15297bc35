//! The denial on the wire: `PERMISSION_DENIED`, `Request unauthorized.`, and a
//! `grpc-status-details-bin` holding `google.rpc.Status` with one
//! `temporal.api.errordetails.v1.PermissionDeniedFailure{reason}`, exactly as Temporal sends it.

use std::sync::OnceLock;

use bytes::Bytes;
use prost::Message;
use tonic::{Code, Status};

/// The message of every denial (Temporal's text, capital R and trailing period).
pub const UNAUTHORIZED_MESSAGE: &str = "Request unauthorized.";

const PERMISSION_DENIED_FAILURE_URL: &str =
    "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure";

#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

#[derive(Clone, PartialEq, Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct PermissionDeniedFailure {
    #[prost(string, tag = "1")]
    reason: String,
}

fn details(reason: &str) -> Bytes {
    let failure = PermissionDeniedFailure {
        reason: reason.to_owned(),
    };
    RpcStatus {
        code: Code::PermissionDenied as i32,
        message: UNAUTHORIZED_MESSAGE.to_owned(),
        details: vec![Any {
            type_url: PERMISSION_DENIED_FAILURE_URL.to_owned(),
            value: failure.encode_to_vec(),
        }],
    }
    .encode_to_vec()
    .into()
}

/// The denial Temporal clients expect, with `reason` in the detail (empty for the generic one).
#[must_use]
pub fn permission_denied(reason: &str) -> Status {
    let bytes = if reason.is_empty() {
        // The generic denial is by far the most common: encode it once.
        static GENERIC: OnceLock<Bytes> = OnceLock::new();
        GENERIC.get_or_init(|| details("")).clone()
    } else {
        details(reason)
    };
    Status::with_details(Code::PermissionDenied, UNAUTHORIZED_MESSAGE, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_carries_the_detail() {
        let status = permission_denied("nope");
        assert_eq!(status.code(), Code::PermissionDenied);
        assert_eq!(status.message(), "Request unauthorized.");
        let decoded = RpcStatus::decode(status.details()).expect("status decodes");
        assert_eq!(decoded.code, 7);
        assert_eq!(decoded.details.len(), 1);
        assert_eq!(decoded.details[0].type_url, PERMISSION_DENIED_FAILURE_URL);
        let failure =
            PermissionDeniedFailure::decode(&decoded.details[0].value[..]).expect("detail");
        assert_eq!(failure.reason, "nope");
        let generic = RpcStatus::decode(permission_denied("").details()).expect("decodes");
        assert_eq!(generic.details.len(), 1);
    }
}
