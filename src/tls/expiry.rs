//! Certificate expiration checks, as Temporal runs them: which configured certificates expire soon, logged
//! at warn or error level and exported as the gauges `certificates_expiring` and
//! `certificates_expired` (tag `operation="ServerTls"`), as Temporal names them, plus
//! `tonic_authz_certificate_expiry_seconds`, the time left on the configured certificate that
//! expires first (negative once expired), which charts and alerts on directly.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::config::ExpirationChecks;

#[cfg(feature = "metrics")]
const EXPIRY_SECONDS: &str = "tonic_authz_certificate_expiry_seconds";

#[cfg(feature = "metrics")]
/// Describes the expiry metrics to the installed recorder (help text and unit).
fn describe_metrics() {
    metrics::describe_gauge!(
        "certificates_expired",
        metrics::Unit::Count,
        "Configured certificates past their notAfter at the last check (Temporal's name)."
    );
    metrics::describe_gauge!(
        "certificates_expiring",
        metrics::Unit::Count,
        "Configured certificates expiring within the warning window at the last check \
         (Temporal's name)."
    );
    metrics::describe_gauge!(
        EXPIRY_SECONDS,
        metrics::Unit::Seconds,
        "Time left on the configured certificate that expires first, at the last check \
         (negative once expired)."
    );
}

/// Without an error window every flagged certificate is an error (Temporal: now + 10 years).
const NO_ERROR_WINDOW: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A certificate the checks look at, parsed once when loaded.
#[derive(Clone, Debug)]
pub(crate) struct TrackedCert {
    thumbprint: String,
    not_after: Option<SystemTime>,
    is_ca: bool,
    dns_names: Vec<String>,
    source: String,
}

impl TrackedCert {
    pub(crate) fn new(der: CertificateDer<'static>, source: String) -> TrackedCert {
        let thumbprint = Sha256::digest(der.as_ref())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut tracked = TrackedCert {
            thumbprint,
            not_after: None,
            is_ca: false,
            dns_names: Vec::new(),
            source,
        };
        if let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) {
            let secs = cert.validity().not_after.timestamp();
            tracked.not_after = Some(if secs >= 0 {
                UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
            } else {
                UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
            });
            tracked.is_ca = cert.is_ca();
            if let Ok(Some(san)) = cert.subject_alternative_name() {
                for name in &san.value.general_names {
                    if let GeneralName::DNSName(d) = name {
                        tracked.dns_names.push((*d).to_owned());
                    }
                }
            }
        }
        tracked
    }
}

/// The outcome of one expiration check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpirationReport {
    /// Certificates already past their `notAfter`.
    pub expired: usize,
    /// Certificates expiring within the window.
    pub expiring: usize,
}

/// Flags, logs and counts; sets the gauges. Nothing is checked when both windows are zero.
pub(crate) fn check_certificates(
    certs: &[TrackedCert],
    checks: &ExpirationChecks,
    now: SystemTime,
) -> ExpirationReport {
    #[cfg(feature = "metrics")]
    describe_metrics();
    #[cfg(feature = "metrics")]
    if let Some(not_after) = certs.iter().filter_map(|c| c.not_after).min() {
        let left = match not_after.duration_since(now) {
            Ok(left) => left.as_secs_f64(),
            Err(past) => -past.duration().as_secs_f64(),
        };
        metrics::gauge!(EXPIRY_SECONDS, "operation" => "ServerTls").set(left);
    }
    let window = if checks.warning_window.is_zero() {
        checks.error_window
    } else {
        checks.warning_window
    };
    let mut report = ExpirationReport::default();
    if window.is_zero() {
        return report;
    }
    let error_window = if checks.error_window.is_zero() {
        NO_ERROR_WINDOW
    } else {
        checks.error_window
    };
    for cert in certs {
        let Some(not_after) = cert.not_after else {
            continue;
        };
        if not_after >= now + window {
            continue;
        }
        let expired = not_after < now;
        if expired {
            report.expired += 1;
        } else {
            report.expiring += 1;
        }
        let when = humantime::format_rfc3339_seconds(not_after);
        let what = if expired {
            format!("has expired on {when}")
        } else {
            format!("will expire on {when}")
        };
        let message = format!(
            "certificate with thumbprint={} {what}, IsCA={}, DNS={:?}",
            cert.thumbprint, cert.is_ca, cert.dns_names
        );
        if expired || not_after < now + error_window {
            tracing::error!(source = %cert.source, "{message}");
        } else {
            tracing::warn!(source = %cert.source, "{message}");
        }
    }
    #[cfg(feature = "metrics")]
    #[allow(clippy::cast_precision_loss)] // counts of configured certificates are tiny
    {
        metrics::gauge!("certificates_expired", "operation" => "ServerTls")
            .set(report.expired as f64);
        metrics::gauge!("certificates_expiring", "operation" => "ServerTls")
            .set(report.expiring as f64);
    }
    report
}
