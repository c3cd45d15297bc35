//! What a call asks for ([`CallTarget`]) and what the authorizer answers ([`Decision`]).

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use smol_str::SmolStr;

/// The target of one call (Temporal's `CallTarget`).
#[derive(Clone, Debug)]
pub struct CallTarget {
    api_name: ApiName,
    // Inline up to 23 bytes: a call's namespace usually costs it no allocation.
    namespace: SmolStr,
    request: Option<RequestMessage>,
    request_stream: bool,
}

/// A method path as a [`CallTarget`] holds it. The paths of the layer's own tables are static
/// text, held without a reference count: every call of a method would otherwise count
/// references on one shared counter, whose cache line the server's cores then pass back and
/// forth on every call.
#[derive(Clone)]
pub(crate) enum ApiName {
    Static(&'static str),
    Shared(Arc<str>),
}

impl std::ops::Deref for ApiName {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            ApiName::Static(path) => path,
            ApiName::Shared(path) => path,
        }
    }
}

impl fmt::Debug for ApiName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl CallTarget {
    /// A target for `api_name` (the full gRPC path, `/pkg.Service/Method`) in `namespace`.
    #[must_use]
    pub fn new(api_name: impl Into<Arc<str>>, namespace: impl Into<String>) -> CallTarget {
        CallTarget {
            api_name: ApiName::Shared(api_name.into()),
            namespace: SmolStr::from(namespace.into()),
            request: None,
            request_stream: false,
        }
    }

    /// [`new`](Self::new) for the layer's own calls, whose namespace is already a
    /// [`SmolStr`].
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub(crate) fn in_namespace(api_name: ApiName, namespace: SmolStr) -> CallTarget {
        CallTarget {
            api_name,
            namespace,
            request: None,
            request_stream: false,
        }
    }

    /// Attaches the decoded request message.
    #[must_use]
    #[inline(always)]
    pub fn with_request(mut self, request: RequestMessage) -> CallTarget {
        self.request = Some(request);
        self
    }

    /// Marks the call as one with a stream of request messages (client-streaming or
    /// bidirectional), which is authorized at the headers. Default: not a stream.
    #[must_use]
    #[inline(always)]
    pub fn with_request_stream(mut self, request_stream: bool) -> CallTarget {
        self.request_stream = request_stream;
        self
    }

    /// Whether the call has a stream of request messages (client-streaming or
    /// bidirectional): it is authorized at the headers, so [`namespace`](Self::namespace) is
    /// empty because no message was read, not because the request named none. An authorizer
    /// that allows anything on the empty namespace should check this first.
    #[must_use]
    pub fn is_request_stream(&self) -> bool {
        self.request_stream
    }

    /// The full gRPC method path, e.g.
    /// `/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution`.
    #[must_use]
    pub fn api_name(&self) -> &str {
        &self.api_name
    }

    /// The method name: the text after the last `/` of the path.
    #[must_use]
    pub fn method_name(&self) -> &str {
        self.api_name
            .rsplit_once('/')
            .map_or(&*self.api_name, |(_, m)| m)
    }

    /// The namespace read from the request message; empty when the request has none, on
    /// client-streaming and bidi calls, and when the layer did not need to read the body.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The request message, when the layer read it (unary and server-streaming calls whose
    /// authorization needs the request).
    #[must_use]
    pub fn request(&self) -> Option<&RequestMessage> {
        self.request.as_ref()
    }
}

/// The first request message of a call, decompressed, exactly as the handler will decode it.
#[derive(Clone)]
pub struct RequestMessage {
    bytes: Bytes,
    descriptor: Option<MessageDescriptor>,
    /// Decoded on first use only (most authorizers read no field), so a message costs no
    /// allocation until then; a clone made after that carries the decoded copy along.
    dynamic: OnceLock<Result<DynamicMessage, prost::DecodeError>>,
}

impl RequestMessage {
    /// A message from its (decompressed) protobuf encoding.
    #[must_use]
    pub fn new(bytes: Bytes) -> RequestMessage {
        RequestMessage {
            bytes,
            descriptor: None,
            dynamic: OnceLock::new(),
        }
    }

    /// Attaches the message's descriptor so [`RequestMessage::dynamic`] can decode it.
    #[must_use]
    pub fn with_descriptor(mut self, descriptor: MessageDescriptor) -> RequestMessage {
        self.descriptor = Some(descriptor);
        self
    }

    /// The protobuf encoding of the message (after decompression).
    #[must_use]
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Decodes the message as `T`.
    ///
    /// # Errors
    /// When the bytes are not a valid encoding of `T`.
    pub fn decode<T: prost::Message + Default>(&self) -> Result<T, prost::DecodeError> {
        T::decode(self.bytes.clone())
    }

    /// The message decoded against its descriptor, when a descriptor pool is configured.
    /// Decoded at most once per call, on first use.
    #[must_use]
    pub fn dynamic(&self) -> Option<Result<&DynamicMessage, &prost::DecodeError>> {
        let descriptor = self.descriptor.as_ref()?;
        Some(
            self.dynamic
                .get_or_init(|| DynamicMessage::decode(descriptor.clone(), self.bytes.clone()))
                .as_ref(),
        )
    }
}

impl fmt::Debug for RequestMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestMessage")
            .field("len", &self.bytes.len())
            .field(
                "descriptor",
                &self.descriptor.as_ref().map(MessageDescriptor::full_name),
            )
            .finish()
    }
}

/// An authorizer's answer (Temporal's `Result.Decision` + `Reason`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The call proceeds.
    Allow,
    /// The call is refused with `PERMISSION_DENIED` / `Request unauthorized.`.
    Deny {
        /// Sent to the client as the `PermissionDeniedFailure.reason` detail when set.
        reason: Option<String>,
    },
}

impl Decision {
    /// A denial without a reason.
    #[must_use]
    pub const fn deny() -> Decision {
        Decision::Deny { reason: None }
    }

    /// A denial whose reason travels to the client in the `PermissionDeniedFailure` detail.
    #[must_use]
    pub fn deny_with_reason(reason: impl Into<String>) -> Decision {
        Decision::Deny {
            reason: Some(reason.into()),
        }
    }

    /// True for [`Decision::Allow`].
    #[must_use]
    pub const fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}
