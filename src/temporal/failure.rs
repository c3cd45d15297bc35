//! The detail Temporal attaches to every denial: `grpc-status-details-bin` holding a
//! `google.rpc.Status` with one `temporal.api.errordetails.v1.PermissionDeniedFailure{reason}`,
//! exactly as Temporal's server sends it, so Temporal clients recognise the error.

use bytes::Bytes;
use prost::Message;
use tonic::Code;

/// The message of every denial (Temporal's text, capital R and trailing period).
pub(crate) const UNAUTHORIZED_MESSAGE: &str = "Request unauthorized.";

const PERMISSION_DENIED_FAILURE_URL: &str =
    "type.googleapis.com/temporal.api.errordetails.v1.PermissionDeniedFailure";

/// `google.rpc.Status`, the message carried in `grpc-status-details-bin`.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `temporal.api.errordetails.v1.PermissionDeniedFailure`.
#[derive(Clone, PartialEq, Message)]
struct PermissionDeniedFailure {
    #[prost(string, tag = "1")]
    reason: String,
}

/// The `grpc-status-details-bin` bytes of a denial with `reason` (empty for the generic one).
pub(crate) fn permission_denied_details(reason: &str) -> Bytes {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_is_one_permission_denied_failure() {
        let decoded = RpcStatus::decode(permission_denied_details("nope")).expect("status decodes");
        assert_eq!(decoded.code, 7);
        assert_eq!(decoded.message, "Request unauthorized.");
        assert_eq!(decoded.details.len(), 1);
        assert_eq!(decoded.details[0].type_url, PERMISSION_DENIED_FAILURE_URL);
        let failure =
            PermissionDeniedFailure::decode(&decoded.details[0].value[..]).expect("detail");
        assert_eq!(failure.reason, "nope");
        let generic = RpcStatus::decode(permission_denied_details("")).expect("decodes");
        assert_eq!(generic.details.len(), 1);
    }
}
