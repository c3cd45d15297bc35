//! Certificates made at test time with rcgen: CAs and leaf certificates with any subject,
//! SANs and validity, as PEM strings, DER and files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

/// A certificate authority that can sign leaves.
pub struct Ca {
    /// The CA certificate in PEM.
    pub pem: String,
    /// The CA certificate in DER.
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed root CA with this common name, valid from yesterday for a year.
    pub fn new(common_name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        let key = KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf builder to be signed by this CA.
    pub fn leaf(&self) -> LeafBuilder<'_> {
        let now = OffsetDateTime::now_utc();
        let mut params = CertificateParams::default();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(30);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        LeafBuilder { ca: self, params }
    }

    /// A server leaf for `names` (DNS names or IPs), CN = first name.
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
    pub fn client(&self, common_name: &str) -> Leaf {
        self.leaf().cn(common_name).client_auth().sign()
    }
}

/// Parameters of a leaf certificate under construction.
pub struct LeafBuilder<'a> {
    ca: &'a Ca,
    params: CertificateParams,
}

impl LeafBuilder<'_> {
    pub fn cn(mut self, v: &str) -> Self {
        self.params.distinguished_name.push(DnType::CommonName, v);
        self
    }
    pub fn org(mut self, v: &str) -> Self {
        self.params
            .distinguished_name
            .push(DnType::OrganizationName, v);
        self
    }
    pub fn ou(mut self, v: &str) -> Self {
        self.params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, v);
        self
    }
    pub fn country(mut self, v: &str) -> Self {
        self.params.distinguished_name.push(DnType::CountryName, v);
        self
    }
    pub fn province(mut self, v: &str) -> Self {
        self.params
            .distinguished_name
            .push(DnType::StateOrProvinceName, v);
        self
    }
    pub fn locality(mut self, v: &str) -> Self {
        self.params.distinguished_name.push(DnType::LocalityName, v);
        self
    }
    pub fn dns(mut self, v: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::DnsName(v.try_into().expect("dns name")));
        self
    }
    pub fn uri(mut self, v: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::URI(v.try_into().expect("uri")));
        self
    }
    pub fn email(mut self, v: &str) -> Self {
        self.params
            .subject_alt_names
            .push(SanType::Rfc822Name(v.try_into().expect("email")));
        self
    }
    pub fn ip(mut self, v: IpAddr) -> Self {
        self.params.subject_alt_names.push(SanType::IpAddress(v));
        self
    }
    pub fn client_auth(mut self) -> Self {
        self.params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ClientAuth);
        self
    }
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
    pub fn sign(self) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let cert = self
            .params
            .signed_by(&key, &self.ca.issuer)
            .expect("leaf cert");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// A signed leaf certificate and its key.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

/// Writes `contents` to `dir/name` and returns the path as a string.
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

impl Ca {
    /// A root CA valid from `from` to `until` (relative to now).
    pub fn with_validity(common_name: &str, from: Duration, until: Duration) -> Ca {
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now + from;
        params.not_after = now + until;
        let key = KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }
}
