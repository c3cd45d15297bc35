//! The decision audit log: who was allowed or refused what, and why, one record per call.
//!
//! The layer hands each record to an [`AuditSink`] (see [`AuthzLayerBuilder::audit`]); the
//! sink must not block. [`JsonLinesAuditSink`] is the one shipped: it queues records in a
//! bounded channel and a writer thread turns them into JSON lines on stdout or in a file, so
//! a slow disk never holds a call up. When the queue is full the record is dropped and counted
//! in `tonic_authz_audit_dropped_total`. A record carries the subject, never a token or a key.
//!
//! # Example
//! ```
//! use tonic_authz::{AuditDecisions, AuditRecord, AuthzLayer};
//!
//! // Any closure is a sink; this one counts denials.
//! let denials = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
//! let seen = denials.clone();
//! let layer = AuthzLayer::builder()
//!     .audit(move |_record: AuditRecord| {
//!         seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!     })
//!     .audit_decisions(AuditDecisions::Denied)
//!     .build();
//! # let _ = layer;
//! ```
//!
//! [`AuthzLayerBuilder::audit`]: crate::AuthzLayerBuilder::audit

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, SystemTime};

/// Counter of audit records dropped because the writer could not keep up.
pub const AUDIT_DROPPED: &str = "tonic_authz_audit_dropped_total";
/// Counter of audit records written.
pub const AUDIT_WRITTEN: &str = "tonic_authz_audit_written_total";

/// The default number of records the JSON-lines sink queues before it drops.
pub const DEFAULT_AUDIT_QUEUE: usize = 16 * 1024;

/// Which decisions are audited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditDecisions {
    /// Only calls that were refused (denied, failed claim mapping or authorization, malformed
    /// requests, and denials let through in dry-run mode).
    #[default]
    Denied,
    /// Every call.
    All,
}

/// One audited call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditRecord {
    /// When the decision was made.
    pub time: SystemTime,
    /// The caller's subject; empty without claims.
    pub subject: String,
    /// How the caller authenticated (the claims' auth type); empty without claims.
    pub auth_type: String,
    /// The issuer that vouched for the caller (the token's trusted `iss`); empty when none
    /// did (no claims, certificates, API keys, a single JWT key source without `issuer`).
    pub issuer: String,
    /// The peer's address, when the connection info is in the request.
    pub peer: Option<SocketAddr>,
    /// The full gRPC path.
    pub api: Arc<str>,
    /// The namespace read from the request; empty when there is none.
    pub namespace: String,
    /// `allowed`, `denied`, `dry_run_denied`, `claim_mapper_failed`, `authorizer_failed` or
    /// `malformed_request`.
    pub decision: &'static str,
    /// Why, when the call was not allowed (the internal reason, which clients may not see).
    pub reason: String,
    /// How long the layer took to decide, from the first header to the decision.
    pub latency: Duration,
}

impl AuditRecord {
    /// True for a call that went through as asked.
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        self.decision == "allowed"
    }

    /// The record as one JSON object (no trailing newline).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes the record as one JSON object, straight into `out` (no intermediate tree or
    /// string), the keys in the documented order.
    fn write_json(&self, out: &mut Vec<u8>) {
        // Serializing plain strings and numbers into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &JsonRecord(self));
    }
}

/// [`AuditRecord`] as JSON, written field by field.
struct JsonRecord<'a>(&'a AuditRecord);

impl serde::Serialize for JsonRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let r = self.0;
        let mut s = serializer.serialize_struct("AuditRecord", 10)?;
        s.serialize_field("time", &Display(humantime::format_rfc3339_micros(r.time)))?;
        s.serialize_field("subject", &r.subject)?;
        s.serialize_field("authType", &r.auth_type)?;
        s.serialize_field("issuer", &r.issuer)?;
        s.serialize_field("peer", &r.peer.map(Display))?;
        s.serialize_field("api", &*r.api)?;
        s.serialize_field("namespace", &r.namespace)?;
        s.serialize_field("decision", r.decision)?;
        s.serialize_field("reason", &r.reason)?;
        s.serialize_field(
            "latencyUs",
            &u64::try_from(r.latency.as_micros()).unwrap_or(u64::MAX),
        )?;
        s.end()
    }
}

/// A value serialized as the string its `Display` gives, without an intermediate `String`.
struct Display<T>(T);

impl<T: fmt::Display> serde::Serialize for Display<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Receives one record per audited call. Must not block: it runs on the call's path.
pub trait AuditSink: Send + Sync + 'static {
    /// Takes one record.
    fn record(&self, record: AuditRecord);
}

impl<F> AuditSink for F
where
    F: Fn(AuditRecord) + Send + Sync + 'static,
{
    fn record(&self, record: AuditRecord) {
        self(record);
    }
}

impl<S: AuditSink + ?Sized> AuditSink for Arc<S> {
    fn record(&self, record: AuditRecord) {
        (**self).record(record);
    }
}

enum Message {
    Record(AuditRecord),
    Flush(SyncSender<()>),
}

/// Writes records as JSON lines from a writer thread, through a bounded queue: a full queue
/// drops the record (counted in `tonic_authz_audit_dropped_total`) instead of waiting.
/// Cheap to clone; the thread ends when the last clone is dropped, after writing what is
/// queued.
#[derive(Clone)]
pub struct JsonLinesAuditSink {
    queue: SyncSender<Message>,
    target: Arc<str>,
}

impl JsonLinesAuditSink {
    /// Records on standard output.
    ///
    /// # Errors
    /// When the writer thread cannot be started.
    pub fn stdout(capacity: usize) -> io::Result<JsonLinesAuditSink> {
        JsonLinesAuditSink::new(io::stdout(), capacity, "-")
    }

    /// Records appended to `path` (created when missing).
    ///
    /// # Errors
    /// When the file cannot be opened for appending or the thread cannot be started.
    pub fn file(path: impl AsRef<Path>, capacity: usize) -> io::Result<JsonLinesAuditSink> {
        let path = path.as_ref();
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        JsonLinesAuditSink::new(file, capacity, &path.display().to_string())
    }

    /// Records written to any writer (`name` is how `Debug` shows it). `capacity` is how many
    /// records may wait for the writer (at least one).
    ///
    /// # Errors
    /// When the writer thread cannot be started.
    pub fn new(
        writer: impl Write + Send + 'static,
        capacity: usize,
        name: &str,
    ) -> io::Result<JsonLinesAuditSink> {
        #[cfg(feature = "metrics")]
        metrics::describe_counter!(
            AUDIT_DROPPED,
            "Audit records dropped because the audit writer could not keep up"
        );
        #[cfg(feature = "metrics")]
        metrics::describe_counter!(AUDIT_WRITTEN, "Audit records written");
        let (queue, receiver) = mpsc::sync_channel(capacity.max(1));
        std::thread::Builder::new()
            .name("tonic-authz-audit".to_owned())
            .spawn(move || write_loop(receiver, BufWriter::new(writer)))?;
        Ok(JsonLinesAuditSink {
            queue,
            target: Arc::from(name),
        })
    }

    /// Waits until every record queued so far is written and flushed (for shutdown and
    /// tests; never call it on a call's path).
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

impl AuditSink for JsonLinesAuditSink {
    fn record(&self, record: AuditRecord) {
        match self.queue.try_send(Message::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                #[cfg(feature = "metrics")]
                metrics::counter!(AUDIT_DROPPED).increment(1);
            }
        }
    }
}

impl fmt::Debug for JsonLinesAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesAuditSink")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// How long the writer waits for more records after the queue runs empty, before it blocks.
///
/// While it waits it is not blocked in `recv`, so the calls that queue records meanwhile do not
/// have to wake it (a system call each); under steady traffic the writer picks records up in
/// batches and calls pay only for the queueing. An idle writer blocks, so it costs nothing.
const BATCH_PAUSE: Duration = Duration::from_millis(2);

/// The writer thread: one line per record, flushed whenever the queue runs empty.
fn write_loop(receiver: Receiver<Message>, mut out: BufWriter<impl Write>) {
    let mut failed = false;
    let mut line = Vec::with_capacity(512);
    loop {
        let message = match receiver.try_recv() {
            Ok(m) => m,
            Err(TryRecvError::Empty) => {
                flush(&mut out, &mut failed);
                std::thread::sleep(BATCH_PAUSE);
                match receiver.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => match receiver.recv() {
                        Ok(m) => m,
                        Err(_) => break,
                    },
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match message {
            Message::Record(record) => {
                line.clear();
                record.write_json(&mut line);
                line.push(b'\n');
                if let Err(e) = out.write_all(&line) {
                    report(&e, &mut failed);
                } else {
                    #[cfg(feature = "metrics")]
                    metrics::counter!(AUDIT_WRITTEN).increment(1);
                }
            }
            Message::Flush(done) => {
                flush(&mut out, &mut failed);
                let _ = done.send(());
            }
        }
    }
    flush(&mut out, &mut failed);
}

fn flush(out: &mut impl Write, failed: &mut bool) {
    if let Err(e) = out.flush() {
        report(&e, failed);
    }
}

/// Logs a write failure once, not once per record.
fn report(error: &io::Error, failed: &mut bool) {
    if !*failed {
        tracing::error!(error = %error, "audit log write failed");
        *failed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_are_exact_and_escaped() {
        for peer in [None, Some(SocketAddr::from(([127, 0, 0, 1], 7233)))] {
            let record = AuditRecord {
                time: SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456),
                subject: "al\"ice\n\u{1F600}".to_owned(),
                auth_type: "jwt".to_owned(),
                issuer: "https://idp.example/".to_owned(),
                peer,
                api: Arc::from("/pkg.Service/Method"),
                namespace: "default".to_owned(),
                decision: "denied",
                reason: "no policy permits the call".to_owned(),
                latency: Duration::from_micros(42),
            };
            let peer_json = peer.map_or("null".to_owned(), |p| format!("\"{p}\""));
            let expected = format!(
                "{{\"time\":\"2023-11-14T22:13:20.123456Z\",\"subject\":\"al\\\"ice\\n\u{1F600}\",\"authType\":\"jwt\",\"issuer\":\"https://idp.example/\",\"peer\":{peer_json},\"api\":\"/pkg.Service/Method\",\"namespace\":\"default\",\"decision\":\"denied\",\"reason\":\"no policy permits the call\",\"latencyUs\":42}}"
            );
            assert_eq!(record.to_json(), expected);
            let parsed: serde_json::Value =
                serde_json::from_str(&record.to_json()).expect("valid JSON");
            assert_eq!(parsed["subject"], record.subject);
        }
    }
}
