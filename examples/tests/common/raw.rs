//! A raw HTTP/2 gRPC client on hyper, for what tonic clients never send: hand-made frames,
//! broken headers, odd paths. It reports the HTTP status and the `grpc-status` /
//! `grpc-message` from the headers (trailers-only answers) or the trailers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

/// The request body type of the raw client.
pub type RawBody = BoxBody<Bytes, Infallible>;

/// An HTTP/2 connection to the server.
pub async fn connect(addr: SocketAddr) -> SendRequest<RawBody> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(tcp))
        .await
        .expect("h2 handshake");
    tokio::spawn(conn);
    send
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub http: StatusCode,
    pub code: Option<i32>,
    pub message: String,
    pub body: Bytes,
}

impl Reply {
    /// The gRPC code as tonic names it (a missing `grpc-status` reads as `None`).
    pub fn grpc(&self) -> Option<tonic::Code> {
        self.code.map(tonic::Code::from_i32)
    }
}

/// A body of the given data frames, in order, then end of stream.
pub fn frames(chunks: Vec<Vec<u8>>) -> RawBody {
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = chunks
        .into_iter()
        .map(|c| Ok(Frame::data(Bytes::from(c))))
        .collect();
    BoxBody::new(StreamBody::new(futures_util::stream::iter(frames)))
}

/// No body at all: the request headers end the stream.
pub fn empty() -> RawBody {
    BoxBody::new(http_body_util::Empty::new())
}

/// One data frame.
pub fn body(bytes: Vec<u8>) -> RawBody {
    frames(vec![bytes])
}

/// A gRPC request builder: POST `path`, `content-type: application/grpc`, `te: trailers`.
pub fn grpc(path: &str) -> http::request::Builder {
    Request::builder()
        .method("POST")
        .uri(format!("http://127.0.0.1{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
}

/// Sends `req` and reads the whole answer (bounded by 10 s).
pub async fn send(send: &mut SendRequest<RawBody>, req: Request<RawBody>) -> Reply {
    tokio::time::timeout(Duration::from_secs(10), exchange(send, req))
        .await
        .expect("answered within 10 s")
        .expect("an HTTP answer")
}

/// Sends `req`; the HTTP error if there is no answer.
pub async fn exchange(
    send: &mut SendRequest<RawBody>,
    req: Request<RawBody>,
) -> Result<Reply, hyper::Error> {
    send.ready().await?;
    let response = send.send_request(req).await?;
    let (parts, body) = response.into_parts();
    let collected = body.collect().await?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let body = collected.to_bytes();
    let source = if parts.headers.contains_key("grpc-status") {
        &parts.headers
    } else {
        &trailers
    };
    Ok(reply(parts.status, source, body))
}

fn reply(http: StatusCode, headers: &HeaderMap, body: Bytes) -> Reply {
    let code = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let message = headers
        .get("grpc-message")
        .map(|v| percent_decode(v.as_bytes()))
        .unwrap_or_default();
    Reply {
        http,
        code,
        message,
        body,
    }
}

/// gRPC's percent-encoding of `grpc-message`.
fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One uncompressed gRPC frame.
pub fn frame(message: &[u8]) -> Vec<u8> {
    frame_with_flag(0, message)
}

/// One gRPC frame with the given compression flag.
pub fn frame_with_flag(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}
