//! From settings to a running proxy: the `upstream` section (or the `--upstream*` flags, which
//! fill the same section) becomes a [`Pool`], the credentials policy and the routes of the
//! forwarded services. Everything is checked here, at start-up: a blank address, an
//! unreadable certificate or credential file, an unset credential variable or a client
//! certificate without client TLS is an error naming the key and where it came from, never a
//! proxy that starts with less than was configured.

use std::{fmt, path::PathBuf};

use tonic::service::Routes;
use tonic_authz::{
    config::{Upstream, UpstreamCredentials as CredentialsSetting},
    tls::GroupTls,
};

use super::{
    connector::UpstreamTls,
    credentials::UpstreamCredentials,
    forward::{Forward, names},
    pool::Pool,
};

/// Where the upstream settings came from, so errors name the file and key, or the flag.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Origin {
    /// The `upstream` section of this configuration file.
    File(PathBuf),
    /// The `--upstream*` command-line flags.
    Flags,
}

impl Origin {
    /// How a key of the `upstream` section is named to the operator.
    fn name(&self, key: &str) -> String {
        match self {
            Origin::File(path) => format!("{}: upstream.{key}", path.display()),
            Origin::Flags => {
                let flag = match key {
                    "address" => "--upstream",
                    "connections" => "--upstream-connections",
                    "connectTimeout" => "--upstream-connect-timeout",
                    "credentials" => "--upstream-credentials",
                    "staticCredentialFile" => "--upstream-credential-file",
                    "staticCredentialEnv" => "--upstream-credential-env",
                    "tls.certFile" => "--upstream-tls-cert",
                    "tls.keyFile" => "--upstream-tls-key",
                    _ => "--upstream-tls-*",
                };
                flag.to_owned()
            }
        }
    }
}

/// The proxy could not be set up.
#[derive(Debug)]
pub struct ProxyError {
    message: String,
}

impl ProxyError {
    pub(crate) fn new(message: impl Into<String>) -> ProxyError {
        ProxyError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProxyError {}

/// The forwarding side of the Frontend: the pool, the credentials policy and which services
/// go through.
#[derive(Clone, Debug)]
pub struct Proxy {
    forward: Forward,
    pool: Pool,
    forward_admin_service: bool,
}

impl Proxy {
    /// Builds the proxy from `upstream`, reading the credential and TLS files now. Nothing is
    /// dialed until the first call.
    ///
    /// # Errors
    ///
    /// Invalid settings, an unreadable file, an unset variable; the message names the key (or
    /// flag) and the file.
    pub fn from_config(upstream: &Upstream, origin: &Origin) -> Result<Proxy, ProxyError> {
        upstream.validate().map_err(|e| {
            let key = e.key_path().unwrap_or("upstream");
            let key = key.strip_prefix("upstream.").unwrap_or(key);
            ProxyError::new(format!("{}: {}", origin.name(key), e.message()))
        })?;
        let credentials = credentials(upstream, origin)?;
        let tls = tls(upstream, origin)?;
        let address = upstream.address.trim();
        let pool = Pool::new(address, upstream.connections, upstream.connect_timeout, tls)
            .map_err(|e| ProxyError::new(format!("{}: {e}", origin.name("address"))))?;
        Ok(Proxy {
            forward: Forward::new(pool.clone(), credentials),
            pool,
            forward_admin_service: upstream.forward_admin_service,
        })
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The forwarding service, for use outside a tonic router.
    pub fn forward(&self) -> &Forward {
        &self.forward
    }

    /// The routes of the forwarded services: `WorkflowService`, `OperatorService`,
    /// `grpc.health.v1.Health`, and `AdminService` when configured.
    pub fn routes(&self) -> Routes {
        let routes = Routes::new(self.forward.named::<names::Workflow>())
            .add_service(self.forward.named::<names::Operator>())
            .add_service(self.forward.named::<names::Health>());
        if self.forward_admin_service {
            routes.add_service(self.forward.named::<names::Admin>())
        } else {
            routes
        }
    }
}

fn credentials(upstream: &Upstream, origin: &Origin) -> Result<UpstreamCredentials, ProxyError> {
    match upstream.credentials {
        CredentialsSetting::Forward => Ok(UpstreamCredentials::Forward),
        CredentialsSetting::Drop => Ok(UpstreamCredentials::Drop),
        CredentialsSetting::Static if !upstream.static_credential_file.trim().is_empty() => {
            let key = origin.name("staticCredentialFile");
            let path = upstream.static_credential_file.trim();
            let text = std::fs::read_to_string(path)
                .map_err(|e| ProxyError::new(format!("{key}: cannot read {path}: {e}")))?;
            UpstreamCredentials::static_value(&text, format!("file {path}"))
                .map_err(|e| ProxyError::new(format!("{key}: {e}")))
        }
        CredentialsSetting::Static => {
            let key = origin.name("staticCredentialEnv");
            let name = upstream.static_credential_env.trim();
            let text = std::env::var(name).map_err(|_| {
                ProxyError::new(format!("{key}: environment variable {name} is not set"))
            })?;
            UpstreamCredentials::static_value(&text, format!("environment variable {name}"))
                .map_err(|e| ProxyError::new(format!("{key}: {e}")))
        }
        _ => Err(ProxyError::new(format!(
            "{}: unsupported setting",
            origin.name("credentials")
        ))),
    }
}

/// TLS towards the upstream, or `None` for plaintext.
fn tls(upstream: &Upstream, origin: &Origin) -> Result<Option<UpstreamTls>, ProxyError> {
    let settings = &upstream.tls;
    let has_cert = !settings.cert_file.is_empty() || !settings.cert_data.is_empty();
    let has_key = !settings.key_file.is_empty() || !settings.key_data.is_empty();
    if has_cert != has_key {
        let missing = if has_cert {
            "tls.keyFile"
        } else {
            "tls.certFile"
        };
        return Err(ProxyError::new(format!(
            "{}: a client certificate needs both certFile (or certData) and keyFile (or keyData)",
            origin.name(missing)
        )));
    }
    // Temporal presents a group's server certificate as its client certificate when the
    // group's server requires client authentication; the library's client config follows
    // that rule, so the proxy's certificate goes there.
    let mut group = GroupTls::default();
    group.client = settings.client.clone();
    group.server.cert_file = settings.cert_file.clone();
    group.server.key_file = settings.key_file.clone();
    group.server.cert_data = settings.cert_data.clone();
    group.server.key_data = settings.key_data.clone();
    group.server.require_client_auth = has_cert;
    let address = upstream.address.trim();
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    match UpstreamTls::new(group, host) {
        Ok(Some(config)) => Ok(Some(config)),
        Ok(None) if has_cert => Err(ProxyError::new(format!(
            "{}: a client certificate is set but TLS to the upstream is off (set \
             tls.client.rootCaFiles or rootCaData)",
            origin.name("tls.certFile")
        ))),
        Ok(None) => Ok(None),
        // The certificate sits in the group's `server` slot only to reuse that rule; name it
        // as the operator wrote it.
        Err(e) => Err(ProxyError::new(format!(
            "{}: {}",
            origin.name("tls"),
            e.to_string().replace("server.", "")
        ))),
    }
}
