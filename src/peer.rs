//! Peer identity: the verified client certificate's subject and SANs (SPIFFE ids among them),
//! parsed with x509-parser into [`TlsSubject`] and [`TlsConnection`] for claim mappers.
//!
//! A connection's identity is parsed once and kept with the connection as a [`PeerIdentity`]:
//! this crate's TLS acceptor parses it right after the handshake and hands it to every request
//! of the connection through tonic's connect info, so no call parses the certificate again.
//! This file is data only: it knows nothing of the acceptor, the layer or the mappers.
//!
//! The two data types are always compiled (they are part of [`AuthInfo`](crate::AuthInfo));
//! the parsing, [`PeerIdentity`] and [`peer_identity`], needs the `tls` feature.

use std::net::IpAddr;
#[cfg(feature = "tls")]
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::CaFingerprint;
#[cfg(feature = "tls")]
use x509_parser::prelude::*;

/// The X.509 subject of a verified client certificate (Temporal's `TLSSubject`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSubject {
    /// Common name (CN), first value.
    pub common_name: String,
    /// Organization (O), every value in order.
    pub organization: Vec<String>,
    /// Organizational unit (OU), every value in order.
    pub organizational_unit: Vec<String>,
    /// Country (C).
    pub country: Vec<String>,
    /// State or province (ST).
    pub province: Vec<String>,
    /// Locality (L).
    pub locality: Vec<String>,
    /// The subject's serialNumber attribute (not the certificate serial).
    pub serial_number: String,
    /// The whole distinguished name in RFC 4514 form, e.g. `CN=worker-1,O=Example`.
    pub distinguished_name: String,
}

/// The verified TLS peer: its certificate chain and subject alternative names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConnection {
    /// The peer's certificate chain as presented, leaf first (DER).
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// The leaf certificate's serial number in lowercase hex.
    pub certificate_serial: String,
    /// DNS names from the SAN extension.
    pub dns_names: Vec<String>,
    /// IP addresses from the SAN extension.
    pub ip_addresses: Vec<IpAddr>,
    /// URIs from the SAN extension (SPIFFE IDs appear here).
    pub uris: Vec<String>,
    /// Email addresses from the SAN extension.
    pub emails: Vec<String>,
    /// The SHA-256 fingerprints of the configured CA certificates the chain was verified to:
    /// the trust anchor the verification ended at (and any other configured CA certificate
    /// with the same subject and key, such as a re-issued CA). Filled in only by this crate's
    /// [`TlsAcceptor`](crate::tls::TlsAcceptor) built from CA files or data; empty when the
    /// issuing CA is not known (tonic's own TLS, an acceptor over a ready-made rustls config),
    /// and then a [`CertificateRule`](crate::CertificateRule) bound to a CA does not match.
    pub ca_fingerprints: Vec<CaFingerprint>,
}

impl TlsConnection {
    /// The SPIFFE ID among the URI SANs, if any.
    #[must_use]
    pub fn spiffe_id(&self) -> Option<&str> {
        self.uris
            .iter()
            .map(String::as_str)
            .find(|u| u.starts_with("spiffe://"))
    }
}

/// Parses the leaf of a verified chain into subject and connection info.
///
/// Returns `None` when the chain is empty or the leaf does not parse: a certificate we cannot
/// read gives no identity rather than a made-up one.
#[cfg(feature = "tls")]
#[must_use]
pub fn peer_identity(chain: &[CertificateDer<'static>]) -> Option<(TlsSubject, TlsConnection)> {
    let leaf = chain.first()?;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let name = cert.subject();
    let strings = |iter: &mut dyn Iterator<Item = &AttributeTypeAndValue<'_>>| -> Vec<String> {
        iter.filter_map(|a| a.as_str().ok().map(str::to_owned))
            .collect()
    };
    let subject = TlsSubject {
        common_name: strings(&mut name.iter_common_name())
            .into_iter()
            .next()
            .unwrap_or_default(),
        organization: strings(&mut name.iter_organization()),
        organizational_unit: strings(&mut name.iter_organizational_unit()),
        country: strings(&mut name.iter_country()),
        province: strings(&mut name.iter_state_or_province()),
        locality: strings(&mut name.iter_locality()),
        serial_number: name
            .iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER)
            .find_map(|a| a.as_str().ok().map(str::to_owned))
            .unwrap_or_default(),
        distinguished_name: name.to_string(),
    };
    let mut conn = TlsConnection {
        peer_certificates: chain.to_vec(),
        certificate_serial: cert.raw_serial_as_string().replace(':', ""),
        ..TlsConnection::default()
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for gn in &san.value.general_names {
            match gn {
                GeneralName::DNSName(d) => conn.dns_names.push((*d).to_owned()),
                GeneralName::URI(u) => conn.uris.push((*u).to_owned()),
                GeneralName::RFC822Name(e) => conn.emails.push((*e).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(b) = <[u8; 4]>::try_from(*bytes) {
                        conn.ip_addresses.push(IpAddr::from(b));
                    } else if let Ok(b) = <[u8; 16]>::try_from(*bytes) {
                        conn.ip_addresses.push(IpAddr::from(b));
                    }
                }
                _ => {}
            }
        }
    }
    Some((subject, conn))
}

/// The identity of a verified TLS peer, parsed once per connection; cloning shares it.
#[cfg(feature = "tls")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerIdentity {
    subject: Arc<TlsSubject>,
    connection: Arc<TlsConnection>,
}

#[cfg(feature = "tls")]
impl PeerIdentity {
    /// Parses the leaf of a verified chain (see [`peer_identity`]); `None` when the chain is
    /// empty or its leaf does not parse.
    #[must_use]
    pub fn from_chain(chain: &[CertificateDer<'static>]) -> Option<PeerIdentity> {
        let (subject, connection) = peer_identity(chain)?;
        Some(PeerIdentity {
            subject: Arc::new(subject),
            connection: Arc::new(connection),
        })
    }

    /// As [`from_chain`](Self::from_chain), for a chain known to have been verified to the
    /// configured CA certificates with these fingerprints.
    pub(crate) fn from_verified_chain(
        chain: &[CertificateDer<'static>],
        ca_fingerprints: Vec<CaFingerprint>,
    ) -> Option<PeerIdentity> {
        let (subject, mut connection) = peer_identity(chain)?;
        connection.ca_fingerprints = ca_fingerprints;
        Some(PeerIdentity {
            subject: Arc::new(subject),
            connection: Arc::new(connection),
        })
    }

    /// The subject and the connection details, handed over without touching their counts.
    pub(crate) fn into_parts(self) -> (Arc<TlsSubject>, Arc<TlsConnection>) {
        (self.subject, self.connection)
    }

    /// The certificate's subject.
    #[must_use]
    pub fn subject(&self) -> &Arc<TlsSubject> {
        &self.subject
    }

    /// The certificate chain and its SANs.
    #[must_use]
    pub fn connection(&self) -> &Arc<TlsConnection> {
        &self.connection
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;

    #[test]
    fn no_identity_without_a_readable_leaf() {
        assert_eq!(PeerIdentity::from_chain(&[]), None);
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01]);
        assert_eq!(PeerIdentity::from_chain(&[garbage]), None);
    }
}
