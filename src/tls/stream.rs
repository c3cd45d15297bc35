//! [`TlsServerStream`]: one connection accepted by [`TlsAcceptor`](super::TlsAcceptor), and
//! [`PeerConnectInfo`], what tonic hands every request of that connection.
//!
//! The peer's certificate is parsed once, right after the handshake, and the parsed
//! [`PeerIdentity`] travels with the connection: tonic asks the stream for its connect info
//! once per connection and clones it into each request's extensions, where the authorization
//! layer reads it. No call parses the certificate again, and nothing is kept beyond the
//! connection. The identity includes which configured CA the chain was verified to
//! (`anchors.rs`), for certificate rules bound to a CA.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

use super::anchors::ClientAnchors;
use crate::PeerIdentity;

/// A TLS connection accepted by [`TlsAcceptor`](super::TlsAcceptor), with its peer identity
/// parsed once; serve it with tonic's `serve_with_incoming`.
#[derive(Debug)]
pub struct TlsServerStream {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    info: PeerConnectInfo,
}

impl TlsServerStream {
    /// Wraps a completed handshake, parses the peer's certificate and finds which of
    /// `anchors` (the client CAs of the config that verified it) the chain ends at.
    pub(crate) fn new(
        inner: tokio_rustls::server::TlsStream<TcpStream>,
        anchors: &ClientAnchors,
    ) -> TlsServerStream {
        let tonic = inner.connect_info();
        let peer = tonic.peer_certs().and_then(|chain| {
            PeerIdentity::from_verified_chain(&chain, anchors.issuers_of(&chain))
        });
        TlsServerStream {
            inner,
            info: PeerConnectInfo { tonic, peer },
        }
    }

    /// The underlying tokio-rustls stream (e.g. to inspect the negotiated protocol).
    #[must_use]
    pub fn get_ref(&self) -> &tokio_rustls::server::TlsStream<TcpStream> {
        &self.inner
    }

    /// The underlying tokio-rustls stream.
    #[must_use]
    pub fn into_inner(self) -> tokio_rustls::server::TlsStream<TcpStream> {
        self.inner
    }
}

impl Connected for TlsServerStream {
    type ConnectInfo = PeerConnectInfo;

    fn connect_info(&self) -> PeerConnectInfo {
        self.info.clone()
    }
}

impl AsyncRead for TlsServerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsServerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What a request served through [`TlsAcceptor`](super::TlsAcceptor) finds in its extensions:
/// the peer identity parsed at the handshake, and tonic's own TLS connect info.
///
/// The authorization layer takes it out of the request and hands its identity to the claim
/// mapper; the request it forwards carries tonic's `TlsConnectInfo<TcpConnectInfo>` in its
/// place (so the service behind it can use `tonic::Request::remote_addr` and `peer_certs` as
/// with tonic's own TLS) and the caller's [`Claims`](crate::Claims).
#[derive(Clone, Debug)]
pub struct PeerConnectInfo {
    tonic: TlsConnectInfo<TcpConnectInfo>,
    peer: Option<PeerIdentity>,
}

impl PeerConnectInfo {
    /// The verified client certificate's identity; `None` without a client certificate (or
    /// when its leaf does not parse: an unreadable certificate gives no identity).
    #[must_use]
    pub fn peer_identity(&self) -> Option<&PeerIdentity> {
        self.peer.as_ref()
    }

    /// tonic's TLS connect info for this connection.
    #[must_use]
    pub fn tonic(&self) -> &TlsConnectInfo<TcpConnectInfo> {
        &self.tonic
    }

    /// tonic's TLS connect info and the peer identity, moved out.
    pub(crate) fn into_parts(self) -> (TlsConnectInfo<TcpConnectInfo>, Option<PeerIdentity>) {
        (self.tonic, self.peer)
    }

    /// The peer's certificate chain as presented, leaf first.
    #[must_use]
    pub fn peer_certs(&self) -> Option<Arc<Vec<CertificateDer<'static>>>> {
        self.tonic.peer_certs()
    }

    /// The client's address.
    #[must_use]
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.tonic.get_ref().remote_addr()
    }

    /// The local address the client connected to.
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.tonic.get_ref().local_addr()
    }
}
