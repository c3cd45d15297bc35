//! The dev certificates: a CA, a server certificate for `localhost` / `127.0.0.1`, and two
//! client certificates, all made with the testkit's rcgen helpers (EC P-256) and kept in the
//! dev directory.
//!
//! They are reused while every file is present and more than a day from expiry; otherwise
//! the whole set is made afresh, so a CA and the certificates it signed never drift apart.

use std::{
    net::{IpAddr, Ipv4Addr},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tonic_authz_testkit::certs::{Ca, LeafBuilder};

use super::{DevDir, DevError, files};

/// Common name of the ordinary client certificate.
pub const CLIENT_COMMON_NAME: &str = "tonic-authz-dev-client";

/// Common name of the admin client certificate (mapped to system admin in dev mode).
pub const ADMIN_COMMON_NAME: &str = "tonic-authz-dev-admin";

/// How long new certificates are valid.
const VALIDITY: time::Duration = time::Duration::days(365);

/// Certificates closer than this to expiry are replaced at start.
const RENEW_BEFORE: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether the certificates were reused or made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificatesOrigin {
    /// Every file was present and valid for more than a day.
    Reused,
    /// The set was made (first start, a file missing or unreadable, or near expiry).
    Generated,
}

/// Makes sure the dev directory holds a valid certificate set.
///
/// # Errors
///
/// A file cannot be read or written, or a certificate cannot be made.
pub fn ensure_certificates(dir: &DevDir) -> Result<CertificatesOrigin, DevError> {
    if certificates_fresh(dir, SystemTime::now())? {
        return Ok(CertificatesOrigin::Reused);
    }
    generate_certificates(dir)?;
    Ok(CertificatesOrigin::Generated)
}

/// True when every certificate and key file exists and no certificate expires within a day.
fn certificates_fresh(dir: &DevDir, now: SystemTime) -> Result<bool, DevError> {
    for key in [
        dir.ca_key(),
        dir.server_key(),
        dir.client_key(),
        dir.admin_key(),
    ] {
        if files::read_optional(&key)?.is_none() {
            return Ok(false);
        }
    }
    for cert in [
        dir.ca_cert(),
        dir.server_cert(),
        dir.client_cert(),
        dir.admin_cert(),
    ] {
        let Some(pem) = files::read_optional(&cert)? else {
            return Ok(false);
        };
        match not_after(&pem) {
            Some(expiry) if expiry > now + RENEW_BEFORE => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// The expiry of the first certificate in `pem`, or `None` if it does not parse.
fn not_after(pem: &str) -> Option<SystemTime> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    let secs = u64::try_from(cert.validity().not_after.timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

fn generate_certificates(dir: &DevDir) -> Result<(), DevError> {
    // Backdated an hour so a client with a slightly slow clock accepts them.
    let validity = (-time::Duration::hours(1), VALIDITY);
    let ca = Ca::builder("tonic-authz dev CA")
        .validity(validity.0, validity.1)
        .path_len(0)
        .build()
        .map_err(cert_error)?;
    let sign = |leaf: LeafBuilder<'_>| {
        leaf.validity(validity.0, validity.1)
            .try_sign()
            .map_err(cert_error)
    };
    let server = sign(
        ca.leaf()
            .cn("localhost")
            .server_auth()
            .dns("localhost")
            .ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
    )?;
    let client = sign(ca.leaf().cn(CLIENT_COMMON_NAME).client_auth())?;
    let admin = sign(ca.leaf().cn(ADMIN_COMMON_NAME).client_auth())?;

    // Keys first, certificates last: an interrupted run leaves no certificate without its key.
    write_pair(&dir.ca_cert(), &ca.pem, &dir.ca_key(), &ca.key_pem())?;
    for (leaf, cert, key) in [
        (&server, dir.server_cert(), dir.server_key()),
        (&client, dir.client_cert(), dir.client_key()),
        (&admin, dir.admin_cert(), dir.admin_key()),
    ] {
        write_pair(&cert, &leaf.cert_pem, &key, &leaf.key_pem)?;
    }
    Ok(())
}

fn write_pair(cert: &Path, cert_pem: &str, key: &Path, key_pem: &str) -> Result<(), DevError> {
    files::write(key, key_pem, true)?;
    files::write(cert, cert_pem, false)
}

fn cert_error(error: tonic_authz_testkit::Error) -> DevError {
    DevError::new("cannot make a dev certificate").with_source(error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn certificates_are_made_once_then_reused_and_remade_when_a_file_is_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DevDir::new(tmp.path());
        assert_eq!(
            ensure_certificates(&dir).unwrap(),
            CertificatesOrigin::Generated
        );
        let first = std::fs::read_to_string(dir.server_cert()).unwrap();
        assert_eq!(
            ensure_certificates(&dir).unwrap(),
            CertificatesOrigin::Reused
        );
        assert_eq!(std::fs::read_to_string(dir.server_cert()).unwrap(), first);

        std::fs::remove_file(dir.client_key()).unwrap();
        assert_eq!(
            ensure_certificates(&dir).unwrap(),
            CertificatesOrigin::Generated
        );
        assert_ne!(std::fs::read_to_string(dir.server_cert()).unwrap(), first);
    }

    #[test]
    fn certificates_near_expiry_are_not_fresh() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DevDir::new(tmp.path());
        ensure_certificates(&dir).unwrap();
        let now = SystemTime::now();
        assert!(certificates_fresh(&dir, now).unwrap());
        let in_364_days = now + Duration::from_secs(364 * 24 * 3600 + 3600);
        assert!(!certificates_fresh(&dir, in_364_days).unwrap());

        std::fs::write(dir.ca_cert(), "not a certificate").unwrap();
        assert!(!certificates_fresh(&dir, now).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn private_keys_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = DevDir::new(tmp.path());
        ensure_certificates(&dir).unwrap();
        let mode = std::fs::metadata(dir.server_key())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
