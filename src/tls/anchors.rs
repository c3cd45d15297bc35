//! Which configured CA a verified client chain ends at: the fingerprints a
//! [`CertificateRule`](crate::CertificateRule) bound to a CA (`caFingerprint`) is matched against.
//!
//! rustls's client-certificate verifier answers only yes or no, and its verdict cannot carry
//! data to the connection. So right after a handshake that verified a client certificate, the
//! acceptor runs the same check again with the same parts: webpki's path building over the
//! same configured CA certificates, the presented intermediates, the provider's signature
//! algorithms and the client-auth usage. The trust anchor that path ends at is the issuing CA;
//! its fingerprint, and that of any other configured CA certificate with the same subject and
//! key (a re-issued CA is the same key, so the same issuer), go with the connection.
//!
//! Fail closed: when the check does not succeed again (a certificate that expired between the
//! two checks, say), the connection carries no fingerprint and CA-bound rules do not match it.
//! The cost is one path verification per connection, not per call.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};

#[cfg(feature = "config")]
use super::config::GroupTls;
#[cfg(feature = "config")]
use super::load::load_cas;
use crate::CaFingerprint;

/// The client CAs of one server config, ready to tell which of them a chain verifies to.
pub(crate) struct ClientAnchors {
    anchors: Vec<TrustAnchor<'static>>,
    /// `fingerprints[i]` is the fingerprint of the certificate `anchors[i]` came from.
    fingerprints: Vec<CaFingerprint>,
    provider: Option<Arc<CryptoProvider>>,
}

impl ClientAnchors {
    /// No known CAs: every chain gets no fingerprint (a ready-made rustls config, or a config
    /// that asks for no client certificate).
    pub(crate) fn none() -> ClientAnchors {
        ClientAnchors {
            anchors: Vec::new(),
            fingerprints: Vec::new(),
            provider: None,
        }
    }

    /// The CAs of `cas` (one entry per `clientCaFiles`/`clientCaData` item), checked with
    /// `provider`'s signature algorithms. A certificate webpki cannot use as an anchor is
    /// left out, as rustls's root store refuses it when the config is built.
    pub(crate) fn new(
        cas: &[Vec<CertificateDer<'static>>],
        provider: Arc<CryptoProvider>,
    ) -> ClientAnchors {
        let mut anchors = Vec::new();
        let mut fingerprints = Vec::new();
        for cert in cas.iter().flatten() {
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(cert) {
                anchors.push(anchor.to_owned());
                fingerprints.push(CaFingerprint::of_der(cert.as_ref()));
            }
        }
        ClientAnchors {
            anchors,
            fingerprints,
            provider: Some(provider),
        }
    }

    /// The fingerprints of the configured CA certificates `chain` (leaf first, as presented)
    /// verifies to now; empty when it verifies to none of them or there are none.
    pub(crate) fn issuers_of(&self, chain: &[CertificateDer<'static>]) -> Vec<CaFingerprint> {
        let Some(provider) = &self.provider else {
            return Vec::new();
        };
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Vec::new();
        };
        if self.anchors.is_empty() {
            return Vec::new();
        }
        let Ok(end_entity) = webpki::EndEntityCert::try_from(leaf) else {
            return Vec::new();
        };
        let path = match end_entity.verify_for_usage(
            provider.signature_verification_algorithms.all,
            &self.anchors,
            intermediates,
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        ) {
            Ok(path) => path,
            Err(error) => {
                tracing::debug!(%error, "client chain did not verify again: no issuing CA known");
                return Vec::new();
            }
        };
        let anchor = path.anchor();
        let mut out: Vec<CaFingerprint> = Vec::new();
        for (candidate, fingerprint) in self.anchors.iter().zip(&self.fingerprints) {
            if candidate.subject == anchor.subject
                && candidate.subject_public_key_info == anchor.subject_public_key_info
                && !out.contains(fingerprint)
            {
                out.push(*fingerprint);
            }
        }
        out
    }
}

/// The fingerprints of every client CA certificate `group` trusts, in its default server
/// section and its host overrides, without repeats; only sections that require client
/// certificates count. A section whose CAs do not load is left out: building the acceptor
/// reports that error.
#[cfg(feature = "config")]
pub(crate) fn trusted_client_cas(group: &GroupTls) -> Vec<CaFingerprint> {
    let mut out = Vec::new();
    let servers = std::iter::once(&group.server).chain(group.host_overrides.values());
    for server in servers.filter(|s| s.is_enabled() && s.require_client_auth) {
        let Ok(cas) = load_cas(
            &server.client_ca_files,
            &server.client_ca_data,
            "clientCaFiles",
            "clientCaData",
        ) else {
            continue;
        };
        for cert in cas.iter().flatten() {
            let fingerprint = CaFingerprint::of_der(cert.as_ref());
            if !out.contains(&fingerprint) {
                out.push(fingerprint);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn no_anchors_no_fingerprint() {
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(
            ClientAnchors::none()
                .issuers_of(std::slice::from_ref(&garbage))
                .is_empty()
        );
        let provider = crate::tls::provider().unwrap();
        let anchors = ClientAnchors::new(&[vec![garbage.clone()]], provider);
        assert!(anchors.anchors.is_empty());
        assert!(anchors.issuers_of(&[garbage]).is_empty());
        assert!(anchors.issuers_of(&[]).is_empty());
    }
}
