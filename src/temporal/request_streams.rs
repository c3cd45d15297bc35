//! Temporal's methods that take a stream of request messages (client-streaming or
//! bidirectional), so the layer authorizes them at the headers and can tell the authorizer so.

/// Every Temporal frontend and admin method with a stream of request messages. The workflow,
/// operator and health services have none; the admin service has the replication stream.
pub(crate) const REQUEST_STREAMS: [&str; 1] =
    ["/temporal.server.api.adminservice.v1.AdminService/StreamWorkflowReplicationMessages"];
