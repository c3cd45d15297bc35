//! Shared helpers for the end-to-end tests: start a Frontend on `127.0.0.1:0` (optionally
//! behind an `AuthzLayer`) and connect real generated Temporal clients to it.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::net::{Ipv4Addr, SocketAddr};

use tonic::transport::Channel;
use tonic_authz::AuthzLayer;
use tonic_authz_examples::{
    Backend, BackendConfig, Frontend, RunningFrontend, operator_client,
    temporal::{
        operatorservice::operator_service_client::OperatorServiceClient,
        workflowservice::workflow_service_client::WorkflowServiceClient,
    },
    workflow_client,
};

pub const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A running Frontend and clients connected to it.
pub struct Harness {
    pub server: RunningFrontend,
    pub channel: Channel,
}

impl Harness {
    pub fn backend(&self) -> &Backend {
        self.server.backend()
    }

    pub fn workflow(&self, gzip: bool) -> WorkflowServiceClient<Channel> {
        workflow_client(self.channel.clone(), gzip)
    }

    pub fn operator(&self, gzip: bool) -> OperatorServiceClient<Channel> {
        operator_client(self.channel.clone(), gzip)
    }
}

/// Starts a Frontend over a fresh backend, behind `layer` when given.
pub async fn start(config: BackendConfig, layer: Option<AuthzLayer>) -> Harness {
    let mut frontend = Frontend::new(Backend::new(config));
    if let Some(layer) = layer {
        frontend = frontend.with_authz(layer);
    }
    let server = frontend.spawn(LOOPBACK).await.expect("bind loopback");
    let channel = server.channel().await.expect("connect to the frontend");
    Harness { server, channel }
}
