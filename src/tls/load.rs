//! Loading certificates, keys and CA bundles from files or base64 data (Temporal's `*File`/`*Data` pairs), with errors
//! that name the configuration key and the file.
//!
//! Everything is read eagerly (at start-up and on each reload) so a bad file fails loudly when
//! it is configured, not on the first handshake.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::config::ServerTls;
use super::error::{TlsError, TlsErrorKind};

/// Where a PEM blob comes from, for error messages.
enum Origin<'a> {
    File(&'a str),
    Data,
}

impl Origin<'_> {
    fn describe(&self) -> String {
        match self {
            Origin::File(p) => p.to_string(),
            Origin::Data => "data".to_owned(),
        }
    }
}

/// Reads one PEM source: a file path or base64 data.
fn read_source(origin: &Origin<'_>, value: &str, field: &str) -> Result<Vec<u8>, TlsError> {
    match origin {
        Origin::File(path) => std::fs::read(path).map_err(|e| {
            TlsError::new(
                TlsErrorKind::Read,
                field,
                format!("cannot read {path}: {e}"),
            )
            .with_path(Path::new(path))
            .with_source(e)
        }),
        Origin::Data => STANDARD.decode(value.trim()).map_err(|e| {
            TlsError::new(TlsErrorKind::Parse, field, format!("invalid base64: {e}")).with_source(e)
        }),
    }
}

fn with_origin_path(err: TlsError, origin: &Origin<'_>) -> TlsError {
    match origin {
        Origin::File(p) => err.with_path(Path::new(p)),
        Origin::Data => err,
    }
}

/// Parses every PEM certificate in `bytes`; refuses an empty result and anything x509-parser
/// cannot read (so expiry checks and peer identity never meet an unreadable certificate).
fn parse_certs(
    bytes: &[u8],
    origin: &Origin<'_>,
    field: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            with_origin_path(
                TlsError::new(
                    TlsErrorKind::Parse,
                    field,
                    format!("invalid PEM in {}: {e}", origin.describe()),
                ),
                origin,
            )
        })?;
    if certs.is_empty() {
        return Err(with_origin_path(
            TlsError::new(
                TlsErrorKind::Parse,
                field,
                format!("no PEM certificate in {}", origin.describe()),
            ),
            origin,
        ));
    }
    for cert in &certs {
        if let Err(e) = X509Certificate::from_der(cert.as_ref()) {
            return Err(with_origin_path(
                TlsError::new(
                    TlsErrorKind::Parse,
                    field,
                    format!("invalid certificate in {}: {e}", origin.describe()),
                ),
                origin,
            ));
        }
    }
    Ok(certs)
}

/// The certificate chain from `certFile` or `certData`.
pub(crate) fn load_cert_chain(
    file: &str,
    data: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let (origin, field) = if file.is_empty() {
        (Origin::Data, "certData")
    } else {
        (Origin::File(file), "certFile")
    };
    let bytes = read_source(&origin, data, field)?;
    parse_certs(&bytes, &origin, field)
}

/// The private key from `keyFile` or `keyData`.
pub(crate) fn load_key(file: &str, data: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    let (origin, field) = if file.is_empty() {
        (Origin::Data, "keyData")
    } else {
        (Origin::File(file), "keyFile")
    };
    let bytes = read_source(&origin, data, field)?;
    // The key error never includes the key bytes, only where they came from.
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        with_origin_path(
            TlsError::new(
                TlsErrorKind::Parse,
                field,
                format!("no usable PEM private key in {}: {e}", origin.describe()),
            ),
            &origin,
        )
    })
}

/// CA bundles: one entry per file or data item, each holding at least one certificate.
pub(crate) fn load_cas(
    files: &[String],
    data: &[String],
    files_field: &str,
    data_field: &str,
) -> Result<Vec<Vec<CertificateDer<'static>>>, TlsError> {
    let mut out = Vec::with_capacity(files.len() + data.len());
    for (i, path) in files.iter().enumerate() {
        let origin = Origin::File(path);
        let field = format!("{files_field}[{i}]");
        let bytes = read_source(&origin, "", &field)?;
        out.push(parse_certs(&bytes, &origin, &field)?);
    }
    for (i, value) in data.iter().enumerate() {
        let field = format!("{data_field}[{i}]");
        let bytes = read_source(&Origin::Data, value, &field)?;
        out.push(parse_certs(&bytes, &Origin::Data, &field)?);
    }
    Ok(out)
}

/// Everything one `ServerTls` section loads to.
pub(crate) struct ServerMaterial {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    pub(crate) client_cas: Vec<Vec<CertificateDer<'static>>>,
    pub(crate) require_client_auth: bool,
}

impl ServerMaterial {
    pub(crate) fn load(server: &ServerTls) -> Result<ServerMaterial, TlsError> {
        Ok(ServerMaterial {
            chain: load_cert_chain(&server.cert_file, &server.cert_data)?,
            key: load_key(&server.key_file, &server.key_data)?,
            client_cas: load_cas(
                &server.client_ca_files,
                &server.client_ca_data,
                "clientCaFiles",
                "clientCaData",
            )?,
            require_client_auth: server.require_client_auth,
        })
    }

    /// A digest of all material, to tell whether a reload changed anything.
    pub(crate) fn digest_into(&self, hasher: &mut Sha256) {
        for cert in &self.chain {
            hasher.update(cert.as_ref());
        }
        hasher.update(self.key.secret_der());
        for entry in &self.client_cas {
            for cert in entry {
                hasher.update(cert.as_ref());
            }
        }
        hasher.update([u8::from(self.require_client_auth)]);
    }
}
