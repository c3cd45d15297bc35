//! `frontend can-i`: would this caller be allowed this call? For operators answering "why was
//! I refused".
//!
//! It builds the authorization layer from the running configuration file (the same claim
//! mapper, JWT keys, certificate rules and authorizer the frontend uses), describes one call
//! (an API, a namespace, optionally request fields such as `taskQueue=q`, encoded into the
//! request message as a client would), and prints the decision, the caller's claims, and why:
//! the role the API needs against the role the caller has, and for `authorizer: cedar` the
//! policies that decided. Exit status 0 when allowed, 1 when denied.
//!
//! ```text
//! frontend can-i --config frontend.yaml --token "$TOKEN" --api StartWorkflowExecution \
//!     --namespace default --field workflowType=OrderWorkflow
//! ```
//!
//! Credentials: `--token` (a JWT, sent as `Bearer <token>`), `--api-key` (sent the same way, as
//! Temporal clients send API keys; it is understood only by a configuration whose claim mapper
//! accepts API keys), `--cert FILE` (a PEM client certificate, as if it were the verified TLS
//! peer; its chain is not verified here, the frontend's TLS does that).

use std::fmt::Write as _;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Args;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tonic_authz::config::{AuthorizerKind, Config};
use tonic_authz::{
    ApiAccess, AuthInfo, AuthzLayer, CallTarget, CedarAuthorizer, Claims, Decision, PeerIdentity,
    RequestMessage, Role, Scope, temporal_namespace_fields, temporal_request_fields,
};

/// `frontend can-i` arguments.
#[derive(Debug, Args)]
pub struct CanIArgs {
    /// The frontend's configuration file (`global.authorization`).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// A JWT, sent as `Bearer <token>`.
    #[arg(long, conflicts_with = "api_key")]
    pub token: Option<String>,
    /// An API key, sent as `Bearer <key>` (needs a claim mapper that accepts API keys).
    #[arg(long)]
    pub api_key: Option<String>,
    /// A PEM client certificate, taken as the verified TLS peer.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// The API: a method name (`StartWorkflowExecution`) or a full gRPC path.
    #[arg(long)]
    pub api: String,
    /// The namespace of the call.
    #[arg(long, default_value = "")]
    pub namespace: String,
    /// A request field, `name=value` (`taskQueue`, `workflowType`, `workflowId`, ...);
    /// repeatable.
    #[arg(long = "field", value_name = "NAME=VALUE", value_parser = parse_field)]
    pub fields: Vec<(String, String)>,
}

fn parse_field(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(n, v)| (n.trim().to_owned(), v.to_owned()))
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))
}

/// The answer: whether the call is allowed, and the report printed for it.
#[derive(Debug)]
pub struct CanI {
    /// True when the call would be forwarded.
    pub allowed: bool,
    /// What to print: decision, claims, and why.
    pub report: String,
}

/// Answers the question.
///
/// # Errors
/// A configuration that does not load or build, an unknown API or field, an unreadable
/// certificate.
pub async fn can_i(args: &CanIArgs) -> Result<CanI, String> {
    let config = Config::load_file(&args.config).map_err(|e| e.to_string())?;
    let layer = AuthzLayer::from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    let api = resolve_api(&args.api)?;
    let message = encode_request(&api, &args.namespace, &args.fields)?;
    let target = CallTarget::new(api.as_str(), args.namespace.as_str())
        .with_request(RequestMessage::new(Bytes::from(message)));
    let info = auth_info(args)?;
    let outcome = layer.check(info, &target).await;

    let mut report = String::new();
    let allowed = outcome.is_allowed();
    let _ = writeln!(
        report,
        "decision: {}",
        if allowed { "allowed" } else { "denied" }
    );
    let _ = writeln!(report, "api: {api}");
    let _ = writeln!(report, "namespace: {:?}", args.namespace);
    let claims = match &outcome.claims {
        Ok(Some(c)) => {
            let _ = writeln!(report, "claims: {}", describe_claims(c));
            Some(c)
        }
        Ok(None) => {
            let _ = writeln!(report, "claims: none (no credentials)");
            None
        }
        Err(e) => {
            let _ = writeln!(report, "claims: refused by the claim mapper: {e}");
            None
        }
    };
    let _ = writeln!(report, "needs: {}", needs(&api, &args.namespace, claims));
    match &outcome.decision {
        Some(Ok(Decision::Deny {
            reason: Some(reason),
        })) => {
            let _ = writeln!(report, "reason: {reason}");
        }
        Some(Err(status)) => {
            let _ = writeln!(report, "authorizer failed: {}", status.message());
        }
        _ => {}
    }
    let a = &config.global.authorization;
    let decided_by = match a.authorizer {
        AuthorizerKind::Cedar => cedar_reason(&config, claims, &target)?,
        AuthorizerKind::Noop => "the no-op authorizer (allows every call)".to_owned(),
        _ if a.worker_role => "the default authorizer, with the Worker role".to_owned(),
        _ => "the default authorizer".to_owned(),
    };
    let _ = writeln!(report, "decided by: {decided_by}");
    Ok(CanI { allowed, report })
}

/// A method name or a full path, as a full path of a known Temporal API (or as given).
fn resolve_api(api: &str) -> Result<String, String> {
    if api.starts_with('/') {
        return Ok(api.to_owned());
    }
    let suffix = format!("/{api}");
    let mut found: Vec<String> = ApiAccess::temporal()
        .methods()
        .map(|(p, _)| p)
        .filter(|p| p.ends_with(&suffix))
        .map(str::to_owned)
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "unknown API {api:?}: give a Temporal method name or a full gRPC path"
        )),
        _ => Err(format!("ambiguous API {api:?}: {}", found.join(", "))),
    }
}

/// The request message a client would send: the namespace and the given fields, each at its
/// place in the API's request message.
fn encode_request(
    api: &str,
    namespace: &str,
    fields: &[(String, String)],
) -> Result<Vec<u8>, String> {
    let mut message = Vec::new();
    if let Some((_, number)) = temporal_namespace_fields().find(|(p, _)| *p == api) {
        message.extend(string_at(&[number], namespace));
    }
    for (name, value) in fields {
        let path = temporal_request_fields()
            .find(|(p, n, _)| *p == api && n == name)
            .map(|(_, _, path)| path)
            .ok_or_else(|| {
                let known: Vec<&str> = temporal_request_fields()
                    .filter(|(p, ..)| *p == api)
                    .map(|(_, n, _)| n)
                    .collect();
                format!(
                    "{api} has no request field {name:?} (it has: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )
            })?;
        message.extend(string_at(path, value));
    }
    Ok(message)
}

/// A string at a path of field numbers, as nested length-delimited fields.
fn string_at(path: &[u32], value: &str) -> Vec<u8> {
    let mut bytes = value.as_bytes().to_vec();
    for &number in path.iter().rev() {
        let mut outer = Vec::with_capacity(bytes.len() + 8);
        varint(&mut outer, u64::from(number) << 3 | 2);
        varint(&mut outer, bytes.len() as u64);
        outer.extend_from_slice(&bytes);
        bytes = outer;
    }
    bytes
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The credentials, as the layer would read them from the call.
fn auth_info(args: &CanIArgs) -> Result<Option<AuthInfo>, String> {
    let token = match (&args.token, &args.api_key) {
        (Some(t), _) | (None, Some(t)) => format!("Bearer {t}"),
        (None, None) => String::new(),
    };
    let mut info = AuthInfo::with_token(token);
    if let Some(file) = &args.cert {
        let cert =
            CertificateDer::from_pem_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let peer = PeerIdentity::from_chain(&[cert])
            .ok_or_else(|| format!("{}: the certificate does not parse", file.display()))?;
        info.tls_subject = Some(peer.subject().clone());
        info.tls_connection = Some(peer.connection().clone());
    }
    let empty = info.auth_token.is_empty() && info.tls_subject.is_none();
    Ok((!empty).then_some(info))
}

fn describe_claims(c: &Claims) -> String {
    let mut namespaces: Vec<String> = c
        .namespaces()
        .iter()
        .map(|(n, r)| format!("{n}:{r}"))
        .collect();
    namespaces.sort();
    let mut text = format!("subject={:?} authType={:?}", c.subject(), c.auth_type());
    if let Some(issuer) = c.issuer() {
        let _ = write!(text, " issuer={issuer:?}");
    }
    let _ = write!(
        text,
        " system={} namespaces=[{}]",
        c.system(),
        namespaces.join(", ")
    );
    if !c.groups().is_empty() {
        let _ = write!(text, " groups={:?}", c.groups());
    }
    text
}

/// Which role the API needs, and which the caller has where it counts.
fn needs(api: &str, namespace: &str, claims: Option<&Claims>) -> String {
    if tonic_authz::is_health_check_api(api) {
        return "nothing (always allowed)".to_owned();
    }
    let Some(method) = ApiAccess::temporal().get(api) else {
        return "unknown API (denied by the default rules)".to_owned();
    };
    let required = method.access.required_role();
    let has = |c: &Claims| match method.scope {
        Scope::Cluster => c.system(),
        _ => c.system() | c.namespace_role(namespace),
    };
    let held = claims.map_or(Role::UNDEFINED, has);
    let worker = if tonic_authz::is_worker_api(api) {
        " (or worker, with the Worker role on)"
    } else {
        ""
    };
    match method.scope {
        Scope::Cluster => format!("system role {required} or above{worker}; caller has {held}"),
        _ => format!(
            "role {required} or above in {namespace:?} or system-wide{worker}; caller has {held}"
        ),
    }
}

/// The policies that decided, for `authorizer: cedar`.
fn cedar_reason(
    config: &Config,
    claims: Option<&Claims>,
    target: &CallTarget,
) -> Result<String, String> {
    let file = &config.global.authorization.cedar.policy_file;
    let cedar = CedarAuthorizer::from_policy_file(file).map_err(|e| e.to_string())?;
    let (allow, ids) = cedar
        .explain(claims, target)
        .map_err(|e| e.message().to_owned())?;
    Ok(match (allow, ids.is_empty()) {
        (true, _) => format!("cedar policies {file}: permitted by {}", ids.join(", ")),
        (false, true) => format!("cedar policies {file}: no policy permits the call"),
        (false, false) => format!("cedar policies {file}: forbidden by {}", ids.join(", ")),
    })
}
