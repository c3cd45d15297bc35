//! Dev mode: everything a secured Frontend needs, made on first start and kept in a dev
//! directory, so `cargo run -p tonic-authz-examples --bin frontend` gives a newcomer mutual
//! TLS, JWTs and Temporal's default authorizer with no setup at all.
//!
//! - [`ensure_certificates`]: a dev CA, a server certificate for `localhost` / `127.0.0.1`,
//!   an ordinary client certificate and an admin client certificate (reused while valid).
//! - [`SigningKey`]: the EC P-256 key that signs dev tokens (ES256), kept across restarts so
//!   tokens stay valid; [`SigningKey::jwks`] publishes its public half.
//! - [`JwksServer`]: the embedded issuer, a loopback HTTP server publishing OpenID discovery
//!   metadata and that JWK Set; the Frontend trusts it by its URL alone, through discovery,
//!   and the tokens printed at start name that URL as their `iss`.
//! - [`DevSetup`]: the above together, plus the TLS settings, the security settings and the
//!   ready-made tokens; [`guide`] is the text the binary prints.
//!
//! Nothing here is fit for production: the CA key sits next to the certificates and the
//! printed tokens are bearer credentials.

mod banner;
mod certs;
mod dir;
mod error;
mod files;
mod jwks_server;
mod signing;

use std::{path::PathBuf, time::Duration};

use tonic_authz::{CertificateField, CertificateRule, tls::GroupTls};

pub use banner::guide;
pub use certs::{ADMIN_COMMON_NAME, CLIENT_COMMON_NAME, CertificatesOrigin, ensure_certificates};
pub use dir::DevDir;
pub use error::DevError;
pub use jwks_server::{JWKS_PATH, JwksServer};
pub use signing::{DEV_ISSUER, SYSTEM_NAMESPACE, SigningKey, TokenRequest};

use crate::security::SecuritySettings;

/// How long the ready-made tokens printed at start are valid.
pub const READY_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A token made at start for one typical caller.
#[derive(Clone, Debug)]
pub struct ReadyToken {
    /// What the caller may do, for people (`system admin`, `default writer`, …).
    pub label: &'static str,
    /// Short name, also the file name (`admin`, `writer`, `reader`).
    pub name: &'static str,
    /// The token.
    pub token: String,
    /// Where it was written.
    pub path: PathBuf,
}

/// The dev directory with its certificates and signing key in place.
#[derive(Debug)]
pub struct DevSetup {
    dir: DevDir,
    certificates: CertificatesOrigin,
    signing_key: SigningKey,
}

impl DevSetup {
    /// Makes or reuses the certificates and the signing key in `dir`.
    ///
    /// # Errors
    ///
    /// A file cannot be read or written, or the signing key file is corrupt.
    pub fn prepare(dir: DevDir) -> Result<DevSetup, DevError> {
        let certificates = ensure_certificates(&dir)?;
        let signing_key = SigningKey::load_or_create(&dir)?;
        Ok(DevSetup {
            dir,
            certificates,
            signing_key,
        })
    }

    /// The dev directory.
    pub fn dir(&self) -> &DevDir {
        &self.dir
    }

    /// Whether the certificates were reused or made at this start.
    pub fn certificates(&self) -> CertificatesOrigin {
        self.certificates
    }

    /// The token signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The Frontend's TLS: the dev server certificate, and client certificates from the dev
    /// CA required on every connection.
    pub fn tls_group(&self) -> GroupTls {
        let mut group = GroupTls::default();
        group.server.cert_file = self.dir.server_cert().display().to_string();
        group.server.key_file = self.dir.server_key().display().to_string();
        group.server.client_ca_files = vec![self.dir.ca_cert().display().to_string()];
        group.server.require_client_auth = true;
        group
    }

    /// JWTs from the embedded issuer at `issuer` (its URL, trusted through OpenID discovery),
    /// and tokens minted offline with [`DEV_ISSUER`] checked against the same key's JWK Set
    /// at `jwks_uri`; plus the admin certificate as system admin, decided by Temporal's
    /// default authorizer.
    pub fn security_settings(
        &self,
        issuer: String,
        jwks_uri: String,
        namespaces: &[String],
    ) -> SecuritySettings {
        SecuritySettings {
            jwks_uris: vec![jwks_uri],
            issuer: Some(DEV_ISSUER.to_owned()),
            discovery_issuers: vec![issuer],
            certificate_rules: vec![CertificateRule::new(
                CertificateField::CommonName,
                ADMIN_COMMON_NAME,
                [format!("{SYSTEM_NAMESPACE}:admin")],
            )],
            known_namespaces: namespaces.to_vec(),
            ..SecuritySettings::default()
        }
    }

    /// Mints the system admin, `default` writer and `default` reader tokens (valid for
    /// [`READY_TOKEN_TTL`]), with `issuer` (the embedded issuer's URL) as `iss`, and writes
    /// each to its file in the dev directory.
    ///
    /// # Errors
    ///
    /// Signing or writing failed.
    pub fn ready_made_tokens(&self, issuer: &str) -> Result<Vec<ReadyToken>, DevError> {
        let admin = format!("{SYSTEM_NAMESPACE}:admin");
        let specs: [(&'static str, &'static str, &str); 3] = [
            ("system admin", "admin", admin.as_str()),
            ("default writer", "writer", "default:write"),
            ("default reader", "reader", "default:read"),
        ];
        specs
            .into_iter()
            .map(|(label, name, permission)| {
                let token = self.signing_key.mint(
                    &TokenRequest::new(format!("dev-{name}"), [permission], READY_TOKEN_TTL)
                        .with_issuer(issuer),
                )?;
                let path = self.dir.token(name);
                files::write(&path, &token, true)?;
                Ok(ReadyToken {
                    label,
                    name,
                    token,
                    path,
                })
            })
            .collect()
    }
}
