//! Certificates made at run time with rcgen (EC P-256 keys): certificate authorities and leaf
//! certificates with any subject, subject alternative names and validity, as PEM and DER, plus
//! the small file and base64 helpers the TLS configuration tests need.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::Error;

/// A certificate authority that can sign leaves.
pub struct Ca {
    /// The CA certificate in PEM.
    pub pem: String,
    /// The CA certificate in DER.
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("Ca")
            .field("pem", &self.pem)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// A self-signed root CA with this common name, valid from yesterday for a year, with no
    /// limit on the length of the chains under it.
    ///
    /// # Panics
    ///
    /// The key or the certificate cannot be made (a broken test setup).
    pub fn new(common_name: &str) -> Ca {
        Ca::builder(common_name).build().expect("make a test CA")
    }

    /// A root CA valid from `from` to `until` (relative to now).
    ///
    /// # Panics
    ///
    /// The key or the certificate cannot be made (a broken test setup).
    pub fn with_validity(common_name: &str, from: Duration, until: Duration) -> Ca {
        Ca::builder(common_name)
            .validity(from, until)
            .build()
            .expect("make a test CA")
    }

    /// A builder for a root CA with this common name; by default valid from yesterday for a
    /// year, with no path length limit.
    pub fn builder(common_name: &str) -> CaBuilder {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        CaBuilder { params }
    }

    /// An intermediate CA with this common name, signed by this CA, with the same validity
    /// as [`Ca::new`]'s; its `pem` is its own certificate only (a client sending the chain
    /// appends it to the leaf's PEM).
    ///
    /// # Panics
    ///
    /// The key or the certificate cannot be made (a broken test setup).
    pub fn intermediate(&self, common_name: &str) -> Ca {
        let CaBuilder { params } = Ca::builder(common_name);
        let key = KeyPair::generate().expect("make a test CA key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign a test intermediate CA");
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA's private key in PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A leaf builder to be signed by this CA: no subject, key usage digital signature, valid
    /// from yesterday for 30 days.
    pub fn leaf(&self) -> LeafBuilder<'_> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(30);
        params.distinguished_name = DistinguishedName::new();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        LeafBuilder {
            ca: self,
            params,
            error: None,
        }
    }

    /// A server leaf for `names` (DNS names or IPs), CN = first name.
    ///
    /// # Panics
    ///
    /// A name is not a valid DNS name, or signing fails (a broken test setup).
    pub fn server(&self, names: &[&str]) -> Leaf {
        let mut b = self
            .leaf()
            .cn(names.first().copied().unwrap_or("server"))
            .server_auth();
        for n in names {
            b = match n.parse::<IpAddr>() {
                Ok(ip) => b.ip(ip),
                Err(_) => b.dns(n),
            };
        }
        b.sign()
    }

    /// A client leaf with this CN.
    ///
    /// # Panics
    ///
    /// Signing fails (a broken test setup).
    pub fn client(&self, common_name: &str) -> Leaf {
        self.leaf().cn(common_name).client_auth().sign()
    }
}

/// Parameters of a root CA under construction; [`CaBuilder::build`] makes it.
#[derive(Debug)]
#[must_use]
pub struct CaBuilder {
    params: CertificateParams,
}

impl CaBuilder {
    /// Valid from `from` to `until` (relative to now). Default: from a day ago for a year.
    pub fn validity(mut self, from: Duration, until: Duration) -> Self {
        let now = OffsetDateTime::now_utc();
        self.params.not_before = now + from;
        self.params.not_after = now + until;
        self
    }

    /// At most `len` intermediate CAs below this one (0: it signs leaves only). Default: no
    /// limit.
    pub fn path_len(mut self, len: u8) -> Self {
        self.params.is_ca = IsCa::Ca(BasicConstraints::Constrained(len));
        self
    }

    /// Makes the key and the self-signed certificate.
    ///
    /// # Errors
    ///
    /// rcgen cannot make the key or the certificate.
    pub fn build(self) -> Result<Ca, Error> {
        crate::crypto::install_defaults();
        let key = KeyPair::generate()?;
        let cert = self.params.self_signed(&key)?;
        Ok(Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(self.params, key),
        })
    }
}

/// Parameters of a leaf certificate under construction.
#[must_use]
pub struct LeafBuilder<'a> {
    ca: &'a Ca,
    params: CertificateParams,
    /// The first name that could not be used, reported by [`LeafBuilder::try_sign`].
    error: Option<rcgen::Error>,
}

impl std::fmt::Debug for LeafBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafBuilder")
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

impl LeafBuilder<'_> {
    /// Adds a common name (CN) to the subject.
    pub fn cn(self, v: &str) -> Self {
        self.subject(DnType::CommonName, v)
    }

    /// Adds an organization (O) to the subject.
    pub fn org(self, v: &str) -> Self {
        self.subject(DnType::OrganizationName, v)
    }

    /// Adds an organizational unit (OU) to the subject.
    pub fn ou(self, v: &str) -> Self {
        self.subject(DnType::OrganizationalUnitName, v)
    }

    /// Adds a country (C) to the subject.
    pub fn country(self, v: &str) -> Self {
        self.subject(DnType::CountryName, v)
    }

    /// Adds a state or province (ST) to the subject.
    pub fn province(self, v: &str) -> Self {
        self.subject(DnType::StateOrProvinceName, v)
    }

    /// Adds a locality (L) to the subject.
    pub fn locality(self, v: &str) -> Self {
        self.subject(DnType::LocalityName, v)
    }

    fn subject(mut self, field: DnType, v: &str) -> Self {
        self.params.distinguished_name.push(field, v);
        self
    }

    /// Adds a DNS name SAN.
    pub fn dns(self, v: &str) -> Self {
        let san = v.try_into().map(SanType::DnsName);
        self.san(san)
    }

    /// Adds a URI SAN.
    pub fn uri(self, v: &str) -> Self {
        let san = v.try_into().map(SanType::URI);
        self.san(san)
    }

    /// Adds an email (RFC 822 name) SAN.
    pub fn email(self, v: &str) -> Self {
        let san = v.try_into().map(SanType::Rfc822Name);
        self.san(san)
    }

    /// Adds an IP address SAN.
    pub fn ip(self, v: IpAddr) -> Self {
        self.san(Ok(SanType::IpAddress(v)))
    }

    fn san(mut self, san: Result<SanType, rcgen::Error>) -> Self {
        match san {
            Ok(san) => self.params.subject_alt_names.push(san),
            Err(error) => {
                self.error.get_or_insert(error);
            }
        }
        self
    }

    /// Adds the client authentication extended key usage.
    pub fn client_auth(mut self) -> Self {
        self.params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
        self
    }

    /// Adds the server authentication extended key usage.
    pub fn server_auth(mut self) -> Self {
        self.params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        self
    }

    /// Validity from `from` to `until` (relative to now).
    pub fn validity(mut self, from: Duration, until: Duration) -> Self {
        let now = OffsetDateTime::now_utc();
        self.params.not_before = now + from;
        self.params.not_after = now + until;
        self
    }

    /// Expired yesterday.
    pub fn expired(self) -> Self {
        self.validity(-Duration::days(30), -Duration::days(1))
    }

    /// Makes the key and the certificate signed by the CA.
    ///
    /// # Panics
    ///
    /// A name given to the builder was invalid, or signing fails (a broken test setup).
    pub fn sign(self) -> Leaf {
        self.try_sign().expect("sign a test certificate")
    }

    /// Makes the key and the certificate signed by the CA.
    ///
    /// # Errors
    ///
    /// A name given to the builder was invalid, or rcgen cannot make the key or sign.
    pub fn try_sign(self) -> Result<Leaf, Error> {
        if let Some(error) = self.error {
            return Err(error.into());
        }
        let key = KeyPair::generate()?;
        let cert = self.params.signed_by(&key, &self.ca.issuer)?;
        Ok(Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        })
    }
}

/// A signed leaf certificate and its key.
#[derive(Clone)]
pub struct Leaf {
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The private key in PKCS#8 PEM.
    pub key_pem: String,
    /// The certificate in DER.
    pub der: CertificateDer<'static>,
}

impl std::fmt::Debug for Leaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("Leaf")
            .field("cert_pem", &self.cert_pem)
            .finish_non_exhaustive()
    }
}

/// Writes `contents` to `dir/name` and returns the path as a string.
///
/// # Panics
///
/// The file cannot be written or the path is not UTF-8 (a broken test setup).
pub fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, contents).expect("write test file");
    path.to_str().expect("utf-8 temp path").to_owned()
}

/// Standard, padded base64 of `pem` (Temporal's `certData` / `*CaData` form).
pub fn b64(pem: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(pem)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn an_invalid_name_is_an_error_not_a_certificate() {
        let ca = Ca::new("test CA");
        let err = ca
            .leaf()
            .cn("x")
            .dns("caf\u{e9}.example")
            .try_sign()
            .unwrap_err();
        assert!(matches!(err, Error::Certificate(_)), "{err:?}");
        assert!(ca.leaf().cn("x").dns("example.com").try_sign().is_ok());
    }

    #[test]
    fn a_path_length_limit_is_written_into_the_ca() {
        let limited = Ca::builder("limited").path_len(0).build().unwrap();
        let open = Ca::new("open");
        // The DER of a basicConstraints with pathLenConstraint 0 ends in INTEGER 0.
        let marker = [0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00];
        let has = |der: &[u8]| der.windows(marker.len()).any(|w| w == marker);
        assert!(has(&limited.der));
        assert!(!has(&open.der));
        assert!(limited.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}
