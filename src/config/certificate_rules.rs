//! Start-up warnings about `certificateClaimRules` set against the client CAs of
//! `global.tls.frontend`: a rule without `caFingerprint` while more than one CA is trusted
//! (any of them can issue a certificate with the same name, and so get the rule's
//! permissions), and a `caFingerprint` that names none of the trusted CAs (the rule can never
//! match).
//!
//! These are warnings, not errors: the same rules may serve behind a TLS setup this file does
//! not describe (tonic's own TLS, a ready-made rustls config), and a deployment may trust
//! several CAs on purpose. Each warning names the rule's key and the file.

use super::Config;
use crate::tls::trusted_client_cas;

/// One warning per questionable rule, in rule order; empty when there is nothing to say.
pub(crate) fn certificate_rule_warnings(config: &Config) -> Vec<String> {
    let rules = &config.global.authorization.certificate_claim_rules;
    if rules.is_empty() {
        return Vec::new();
    }
    let trusted = trusted_client_cas(&config.global.tls.frontend);
    let file = config
        .source_file()
        .map(|f| format!(" (in {})", f.display()))
        .unwrap_or_default();
    let mut warnings = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let key = format!("global.authorization.certificateClaimRules[{i}]");
        match &rule.ca_fingerprint {
            None if trusted.len() > 1 => warnings.push(format!(
                "{key}{file} has no caFingerprint while global.tls.frontend trusts {} client \
                 CAs: a certificate from any of them with a matching name gets its permissions; \
                 set caFingerprint to the issuing CA's SHA-256 fingerprint",
                trusted.len()
            )),
            Some(fingerprint) if !trusted.is_empty() && !trusted.contains(fingerprint) => {
                warnings.push(format!(
                    "{key}.caFingerprint{file} {fingerprint} is none of the client CAs \
                     global.tls.frontend trusts: the rule matches no certificate"
                ));
            }
            _ => {}
        }
    }
    warnings
}
