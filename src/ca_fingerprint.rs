//! [`CaFingerprint`]: the SHA-256 fingerprint of a CA certificate (of its DER), which binds a
//! certificate claim rule to the CA that must have issued the client certificate.
//!
//! Written as 64 hex digits, in either case, with or without colons between the bytes
//! (`openssl x509 -noout -fingerprint -sha256` prints the colon form); anything else is an
//! error, so a typo cannot leave a rule bound to no CA. Shown as lowercase hex without colons.
//!
//! # Example
//! ```
//! use tonic_authz::CaFingerprint;
//!
//! let a: CaFingerprint = "3A:7B:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD"
//!     .parse()
//!     .unwrap();
//! let b: CaFingerprint = "3a7b00112233445566778899aabbccddeeff00112233445566778899aabbccdd".parse().unwrap();
//! assert_eq!(a, b);
//! assert!("3a7b".parse::<CaFingerprint>().is_err());
//! assert_eq!(CaFingerprint::of_der(b"not a certificate, but any DER hashes").to_string().len(), 64);
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The SHA-256 fingerprint of a CA certificate's DER.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaFingerprint([u8; 32]);

impl CaFingerprint {
    /// The fingerprint of a certificate given as DER (for example a testkit `Ca`'s `der`, or
    /// `rustls_pki_types::CertificateDer::as_ref()`).
    #[must_use]
    pub fn of_der(der: &[u8]) -> CaFingerprint {
        CaFingerprint(Sha256::digest(der).into())
    }

    /// The 32 bytes of the digest.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for CaFingerprint {
    fn from(bytes: [u8; 32]) -> CaFingerprint {
        CaFingerprint(bytes)
    }
}

impl fmt::Display for CaFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CaFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaFingerprint({self})")
    }
}

/// A string that is not a SHA-256 fingerprint: not hex, or not 32 bytes long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaFingerprintError {
    message: String,
}

impl fmt::Display for CaFingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CaFingerprintError {}

impl FromStr for CaFingerprint {
    type Err = CaFingerprintError;

    /// 64 hex digits, either case, colons allowed between bytes (`ab:cd:..`) or none at all.
    fn from_str(text: &str) -> Result<CaFingerprint, CaFingerprintError> {
        let err = |why: &str| CaFingerprintError {
            message: format!(
                "invalid CA fingerprint {text:?}: {why}; expected the SHA-256 of the CA \
                 certificate's DER as 64 hex digits, colons allowed between bytes"
            ),
        };
        if let Some(bad) = text.chars().find(|c| *c != ':' && !c.is_ascii_hexdigit()) {
            return Err(err(&format!("{bad:?} is not a hex digit")));
        }
        let digits: Vec<u8> = if text.contains(':') {
            // With colons, every byte is exactly two digits.
            let mut out = Vec::with_capacity(64);
            for pair in text.split(':') {
                if pair.len() != 2 {
                    return Err(err("each byte between colons must be two hex digits"));
                }
                out.extend_from_slice(pair.as_bytes());
            }
            out
        } else {
            text.as_bytes().to_vec()
        };
        if digits.len() != 64 {
            return Err(err(&format!(
                "{} hex digits, not 64 (is it a SHA-1 fingerprint?)",
                digits.len()
            )));
        }
        let mut bytes = [0_u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            // Every digit is ASCII hex (checked above), so neither step can fail.
            let hex = std::str::from_utf8(pair).map_err(|_| err("not hex"))?;
            *byte = u8::from_str_radix(hex, 16).map_err(|_| err("not hex"))?;
        }
        Ok(CaFingerprint(bytes))
    }
}

impl Serialize for CaFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CaFingerprint, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn hex_in_either_case_with_or_without_colons() {
        let plain: CaFingerprint = HEX.parse().unwrap();
        assert_eq!(plain.to_string(), HEX);
        assert_eq!(plain.as_bytes()[1], 0x11);
        let upper: CaFingerprint = HEX.to_ascii_uppercase().parse().unwrap();
        let colons = HEX
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        let colons: CaFingerprint = colons.parse().unwrap();
        assert_eq!(plain, upper);
        assert_eq!(plain, colons);
        assert_eq!(
            serde_json::from_str::<CaFingerprint>(&format!("\"{HEX}\"")).unwrap(),
            plain
        );
        assert_eq!(serde_json::to_string(&plain).unwrap(), format!("\"{HEX}\""));
    }

    #[test]
    fn anything_else_is_refused() {
        let err = |s: &str| s.parse::<CaFingerprint>().unwrap_err().to_string();
        assert!(
            err(&HEX[..40]).contains("40 hex digits, not 64"),
            "{}",
            err(&HEX[..40])
        );
        assert!(err(&format!("{HEX}00")).contains("66 hex digits, not 64"));
        assert!(err(&HEX.replace('a', "g")).contains("'g' is not a hex digit"));
        assert!(err("").contains("0 hex digits"));
        assert!(err("001:12").contains("two hex digits"));
        assert!(err(&format!("{}:", &HEX[..2])).contains("two hex digits"));
        assert!(err(&format!(" {HEX}")).contains("' ' is not a hex digit"));
        assert!(err("é").contains("'é' is not a hex digit"));
        assert!(serde_json::from_str::<CaFingerprint>("\"abc\"").is_err());
    }

    #[test]
    fn of_der_is_the_sha256() {
        // SHA-256 of the empty string.
        assert_eq!(
            CaFingerprint::of_der(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
