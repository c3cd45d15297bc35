//! Start-up validation of the TLS configuration, with Temporal's exact texts, plus
//! two checks of our own that turn silent misconfigurations into errors.
//!
//! Our additions: a certificate without a key (or a key without a certificate), which Temporal
//! silently treats as "TLS off", and `requireClientAuth` without client CAs, which Go would
//! verify against the system roots (any publicly trusted certificate would then be a valid
//! client identity).

use super::config::{ClientTls, GlobalTls, GroupTls, ServerTls, WorkerTls};
use super::error::TlsError;

impl GlobalTls {
    /// Checks the `internode`, `frontend` and `systemWorker` settings (not `remoteClusters`, as
    /// in Temporal). Files are not read here; loading reports unreadable files.
    ///
    /// # Errors
    /// The first problem found, its field prefixed with the group (`frontend.server: cannot
    /// specify CertFile and CertData at the same time`).
    pub fn validate(&self) -> Result<(), TlsError> {
        self.internode
            .validate()
            .map_err(|e| e.prefixed("internode"))?;
        self.frontend
            .validate()
            .map_err(|e| e.prefixed("frontend"))?;
        self.system_worker
            .validate()
            .map_err(|e| e.prefixed("systemWorker"))
    }
}

impl GroupTls {
    /// Checks the server side, the client side and each host override.
    ///
    /// # Errors
    /// The first problem found; the field is relative to the group (`server`, `client`,
    /// `hostOverrides.<host>`).
    pub fn validate(&self) -> Result<(), TlsError> {
        self.server.validate().map_err(|e| e.prefixed("server"))?;
        self.client.validate().map_err(|e| e.prefixed("client"))?;
        let mut hosts: Vec<_> = self.host_overrides.iter().collect();
        // Deterministic: the same config always reports the same first error.
        hosts.sort_by(|a, b| a.0.cmp(b.0));
        for (host, server) in hosts {
            if host.trim().is_empty() {
                return Err(TlsError::invalid(
                    "hostOverrides",
                    "host name cannot be empty string",
                ));
            }
            server
                .validate()
                .map_err(|e| e.prefixed(&format!("hostOverrides.{host}")))?;
        }
        Ok(())
    }
}

impl ServerTls {
    /// Temporal's `ServerTLS` checks plus ours (see the module docs).
    ///
    /// # Errors
    /// The first problem found; the field is relative to this section.
    pub fn validate(&self) -> Result<(), TlsError> {
        check_pair(
            &self.cert_file,
            &self.cert_data,
            &self.key_file,
            &self.key_data,
        )?;
        check_cas(
            &self.client_ca_data,
            "clientCaData",
            "ServerTLS.ClientCAData",
        )?;
        check_cas(
            &self.client_ca_files,
            "clientCaFiles",
            "ServerTLS.ClientCAFiles",
        )?;
        if !self.client_ca_files.is_empty() && !self.client_ca_data.is_empty() {
            return Err(TlsError::invalid(
                "",
                "cannot specify ClientCAFiles and ClientCAData at the same time",
            ));
        }
        if self.is_enabled()
            && self.require_client_auth
            && self.client_ca_files.is_empty()
            && self.client_ca_data.is_empty()
        {
            return Err(TlsError::invalid(
                "requireClientAuth",
                "requireClientAuth needs clientCaFiles or clientCaData",
            ));
        }
        Ok(())
    }
}

impl ClientTls {
    /// Temporal's `ClientTLS` checks.
    ///
    /// # Errors
    /// The first problem found; the field is relative to this section.
    pub fn validate(&self) -> Result<(), TlsError> {
        check_cas(&self.root_ca_data, "rootCaData", "ClientTLS.RootCAData")?;
        check_cas(&self.root_ca_files, "rootCaFiles", "ClientTLS.RootCAFiles")?;
        if !self.root_ca_files.is_empty() && !self.root_ca_data.is_empty() {
            return Err(TlsError::invalid(
                "",
                "cannot specify RootCAFiles and RootCAData at the same time",
            ));
        }
        Ok(())
    }
}

impl WorkerTls {
    /// Temporal's `WorkerTLS` checks: the certificate/key rules and the client section.
    ///
    /// # Errors
    /// The first problem found; the field is relative to this section.
    pub fn validate(&self) -> Result<(), TlsError> {
        check_pair(
            &self.cert_file,
            &self.cert_data,
            &self.key_file,
            &self.key_data,
        )?;
        self.client.validate().map_err(|e| e.prefixed("client"))
    }
}

fn check_pair(
    cert_file: &str,
    cert_data: &str,
    key_file: &str,
    key_data: &str,
) -> Result<(), TlsError> {
    if !cert_file.is_empty() && !cert_data.is_empty() {
        return Err(TlsError::invalid(
            "",
            "cannot specify CertFile and CertData at the same time",
        ));
    }
    if !key_file.is_empty() && !key_data.is_empty() {
        return Err(TlsError::invalid(
            "",
            "cannot specify KeyFile and KeyData at the same time",
        ));
    }
    let has_cert = !cert_file.is_empty() || !cert_data.is_empty();
    let has_key = !key_file.is_empty() || !key_data.is_empty();
    if has_cert && !has_key {
        return Err(TlsError::invalid(
            "",
            "cannot specify CertFile or CertData without KeyFile or KeyData",
        ));
    }
    if has_key && !has_cert {
        return Err(TlsError::invalid(
            "",
            "cannot specify KeyFile or KeyData without CertFile or CertData",
        ));
    }
    Ok(())
}

fn check_cas(entries: &[String], field: &str, temporal_name: &str) -> Result<(), TlsError> {
    if entries.iter().any(|e| e.trim().is_empty()) {
        return Err(TlsError::invalid(
            field,
            format!("invalid {temporal_name}: CA cannot be empty string"),
        ));
    }
    Ok(())
}
