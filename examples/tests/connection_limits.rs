//! The Frontend's connection limits on a real loopback server: it advertises its
//! `MAX_CONCURRENT_STREAMS` (1000 by default) and asks a connection to go away once it reaches
//! its maximum age, so every client is checked again at a new handshake.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic_authz_examples::connections::ConnectionLimits;
use tonic_authz_examples::{Backend, BackendConfig, Frontend};

/// The `MAX_CONCURRENT_STREAMS` value of the server's first SETTINGS frame, read off the wire.
async fn advertised_max_streams(frontend: Frontend) -> Option<u32> {
    let running = frontend
        .spawn("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let mut tcp = TcpStream::connect(running.addr()).await.expect("connect");
    // The client preface and an empty SETTINGS frame.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .expect("preface");
    let read = async {
        let mut header = [0_u8; 9];
        tcp.read_exact(&mut header).await.expect("frame header");
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        assert_eq!(header[3], 0x4, "the server speaks first with SETTINGS");
        let mut payload = vec![0_u8; len];
        tcp.read_exact(&mut payload).await.expect("settings");
        payload.chunks_exact(6).find_map(|s| {
            (u16::from_be_bytes([s[0], s[1]]) == 0x3)
                .then(|| u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
        })
    };
    let value = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("settings in time");
    // Closed first: a graceful shutdown waits for open connections.
    drop(tcp);
    running.shutdown().await.expect("stops");
    value
}

#[tokio::test]
async fn max_concurrent_streams_is_advertised() {
    let backend = || Backend::new(BackendConfig::default());
    assert_eq!(
        advertised_max_streams(Frontend::new(backend())).await,
        Some(1000)
    );
    let mut limits = ConnectionLimits::default();
    limits.max_concurrent_streams = 7;
    let frontend = Frontend::new(backend()).with_connection_limits(limits);
    assert_eq!(advertised_max_streams(frontend).await, Some(7));
}

#[tokio::test]
async fn a_connection_is_closed_after_its_maximum_age() {
    let mut limits = ConnectionLimits::default();
    limits.max_connection_age = Duration::from_millis(300);
    limits.max_connection_age_grace = Duration::from_millis(300);
    let running = Frontend::new(Backend::new(BackendConfig::default()))
        .with_connection_limits(limits)
        .spawn("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("bind");
    let tcp = TcpStream::connect(running.addr()).await.expect("connect");
    let (_send, connection) = hyper::client::conn::http2::handshake::<
        _,
        _,
        http_body_util::Empty<bytes::Bytes>,
    >(TokioExecutor::new(), TokioIo::new(tcp))
    .await
    .expect("http/2");
    // The connection ends on its own (GOAWAY, then close) well before the test's bound; how
    // hyper words the close does not matter.
    let _closed = tokio::time::timeout(Duration::from_secs(5), connection)
        .await
        .expect("closed by the server after its maximum age");
    running.shutdown().await.expect("stops");
}
