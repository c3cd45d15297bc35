//! Client side: a rustls `ClientConfig`, or tonic's `ClientTlsConfig`, from a
//! group's `client` section, for internode calls.
//!
//! The server certificate must chain to the configured roots (system roots when none are
//! given) and be valid for `serverName`, which is what stops a node from talking to an
//! impostor. When the group's server requires client certificates, the group's server
//! certificate is presented as the client certificate (Temporal uses one certificate for both).
//! `disableHostVerification` turns off all server verification, exactly as Temporal does; it
//! goes through [`DangerousNoServerVerification`] and is logged at warn level every time a
//! config is built with it.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::config::{ClientTls, GroupTls};
use super::error::{TlsError, TlsErrorKind};
use super::load::{load_cas, load_cert_chain, load_key};
use super::provider;

impl GroupTls {
    /// The rustls config for dialing this group's servers, or `None` when the group's client
    /// TLS is off (no roots and no `forceTLS`). ALPN is `h2`.
    ///
    /// # Errors
    /// An invalid section (Temporal's start-up checks), an unreadable root CA or client certificate, an invalid
    /// `serverName`, or an empty system root store when no roots are configured.
    pub fn client_config(&self) -> Result<Option<ClientConfig>, TlsError> {
        self.client.validate().map_err(|e| e.prefixed("client"))?;
        if !self.client.is_enabled() {
            return Ok(None);
        }
        if !self.client.server_name.is_empty() {
            server_name(&self.client)?;
        }
        let provider = provider()?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::new(TlsErrorKind::Build, "", e.to_string()))?;
        let builder = if self.client.disable_host_verification {
            tracing::warn!(
                server_name = %self.client.server_name,
                "disableHostVerification is set: server certificates are NOT verified; \
                 any server, including an attacker in the middle, will be trusted"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(DangerousNoServerVerification::new(
                    provider,
                )))
        } else {
            builder.with_root_certificates(root_store(&self.client)?)
        };
        let mut config = match self.client_identity()? {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
                TlsError::new(
                    TlsErrorKind::Build,
                    "server",
                    format!("unusable client certificate and key: {e}"),
                )
                .with_source(e)
            })?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Some(config))
    }

    /// tonic's `ClientTlsConfig` for dialing this group's servers (domain = `serverName`,
    /// the configured roots, the client certificate when the server requires one), or `None`
    /// when the group's client TLS is off. Use it with `Endpoint::tls_config` and an
    /// `https://` URI.
    ///
    /// # Errors
    /// As [`client_config`](Self::client_config); also `disableHostVerification` and
    /// `forceTLS` without roots, which tonic's config cannot express (use
    /// [`client_config`](Self::client_config) with your own connector for those).
    pub fn client_tls_config(&self) -> Result<Option<tonic::transport::ClientTlsConfig>, TlsError> {
        self.client.validate().map_err(|e| e.prefixed("client"))?;
        if !self.client.is_enabled() {
            return Ok(None);
        }
        if self.client.disable_host_verification {
            return Err(TlsError::invalid(
                "client.disableHostVerification",
                "disableHostVerification is not supported by tonic's ClientTlsConfig; use client_config",
            ));
        }
        let roots = load_cas(
            &self.client.root_ca_files,
            &self.client.root_ca_data,
            "rootCaFiles",
            "rootCaData",
        )
        .map_err(|e| e.prefixed("client"))?;
        if roots.is_empty() {
            return Err(TlsError::invalid(
                "client.forceTLS",
                "forceTLS without rootCaFiles or rootCaData needs system roots; use client_config",
            ));
        }
        let mut config = tonic::transport::ClientTlsConfig::new()
            .ca_certificates(
                roots
                    .iter()
                    .flatten()
                    .map(|c| tonic::transport::Certificate::from_pem(pem("CERTIFICATE", c))),
            )
            .assume_http2(true);
        if !self.client.server_name.is_empty() {
            server_name(&self.client)?;
            config = config.domain_name(self.client.server_name.clone());
        }
        if let Some((chain, key)) = self.client_identity()? {
            let cert_pem: String = chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
            let label = match &key {
                PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
                PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
                _ => "PRIVATE KEY",
            };
            let key_pem = pem(label, key.secret_der());
            config = config.identity(tonic::transport::Identity::from_pem(cert_pem, key_pem));
        }
        Ok(Some(config))
    }

    /// The group's server certificate, presented as client certificate iff the group's
    /// server requires client authentication (as Temporal's client
    /// does).
    #[allow(clippy::type_complexity)] // a (chain, key) pair, used only here
    fn client_identity(
        &self,
    ) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, TlsError> {
        let server = &self.server;
        if !server.require_client_auth || !server.is_enabled() {
            return Ok(None);
        }
        let chain = load_cert_chain(&server.cert_file, &server.cert_data)
            .map_err(|e| e.prefixed("server"))?;
        let key = load_key(&server.key_file, &server.key_data).map_err(|e| e.prefixed("server"))?;
        Ok(Some((chain, key)))
    }
}

impl ClientTls {
    /// The `serverName` as a rustls `ServerName`, for connecting with a `ClientConfig` built
    /// from this group.
    ///
    /// # Errors
    /// The name is neither a DNS name nor an IP address.
    pub fn rustls_server_name(&self) -> Result<ServerName<'static>, TlsError> {
        server_name(self)
    }
}

/// The `serverName` as a rustls `ServerName`, for connecting with a `ClientConfig`.
pub(crate) fn server_name(client: &ClientTls) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(client.server_name.clone()).map_err(|e| {
        TlsError::invalid(
            "client.serverName",
            format!("invalid server name {:?}: {e}", client.server_name),
        )
    })
}

fn root_store(client: &ClientTls) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let cas = load_cas(
        &client.root_ca_files,
        &client.root_ca_data,
        "rootCaFiles",
        "rootCaData",
    )
    .map_err(|e| e.prefixed("client"))?;
    if cas.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "cannot load a system root certificate");
        }
        let (added, _ignored) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            return Err(TlsError::invalid(
                "client.forceTLS",
                "forceTLS without rootCaFiles or rootCaData, and no system root certificates found",
            ));
        }
        return Ok(roots);
    }
    let field = if client.root_ca_files.is_empty() {
        "client.rootCaData"
    } else {
        "client.rootCaFiles"
    };
    for cert in cas.into_iter().flatten() {
        roots.add(cert).map_err(|e| {
            TlsError::new(TlsErrorKind::Build, field, format!("unusable CA: {e}")).with_source(e)
        })?;
    }
    Ok(roots)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A server certificate verifier that accepts **any** certificate for any name (Temporal's
/// `disableHostVerification`, Go's `InsecureSkipVerify`). Handshake signatures are still
/// checked, so the peer must hold the key of the certificate it shows, but nothing says who
/// that peer is. Only for tests and debugging.
pub(crate) struct DangerousNoServerVerification {
    provider: Arc<CryptoProvider>,
}

impl DangerousNoServerVerification {
    /// A verifier checking handshake signatures with `provider`'s algorithms.
    #[must_use]
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> DangerousNoServerVerification {
        DangerousNoServerVerification { provider }
    }
}

impl fmt::Debug for DangerousNoServerVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DangerousNoServerVerification")
    }
}

impl ServerCertVerifier for DangerousNoServerVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
