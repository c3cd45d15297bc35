//! `global.authorization`: Temporal's authorization keys, spelled as Temporal spells
//! them, and this crate's additions beside them in the same camelCase style.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::duration;
use crate::{CertificateRule, JwtAlgorithm};

/// `global.authorization`.
///
/// Temporal's keys: `jwtKeyProvider`, `permissionsClaimName`, `permissionsRegex`, `authorizer`,
/// `claimMapper`, `authHeaderName`, `authExtraHeaderName`, `audience` (and `remoteClusterAuth`,
/// accepted and ignored: it concerns outbound cross-cluster calls). Every other key is this
/// crate's. Unknown keys are errors.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Authorization {
    /// Temporal's `jwtKeyProvider`: where the JWT verification keys come from.
    pub jwt_key_provider: JwtKeyProvider,
    /// Temporal's `permissionsClaimName`: the JWT claim holding `namespace:role` permissions.
    /// Default `permissions`; an empty string also means `permissions`, as in Temporal.
    pub permissions_claim_name: String,
    /// Temporal's `permissionsRegex`: a regular expression with named groups `namespace` and
    /// `role`, used to read permission entries instead of the `namespace:role` split.
    /// Default: empty (not used).
    pub permissions_regex: String,
    /// Temporal's `authorizer`: `noop` selects the no-op authorizer (allows every call, with a
    /// warning at start), `default` Temporal's default authorizer, and (ours) `cedar` the Cedar policy authorizer
    /// (see [`Authorization::cedar`]); compared case-insensitively.
    /// A blank value (`""`, null, an empty `${VAR}`) is an error (Temporal reads `""` as the
    /// no-op authorizer); anything else is the error `unknown authorizer: <value>`.
    /// Default when the key is absent: `default` (Temporal would select the no-op authorizer;
    /// this crate denies by default, so allowing everything must be asked for with `noop`).
    pub authorizer: AuthorizerKind,
    /// Temporal's `claimMapper`: `noop` selects the no-op claim mapper (every caller is a
    /// system admin, with a warning at start), `default` the JWT claim mapper (plus the
    /// certificate claim mapper when `certificateClaimRules` is set); compared
    /// case-insensitively. A blank value is an error (Temporal reads `""` as the no-op
    /// mapper); anything else is the error `unknown claim mapper: <value>`.
    /// Default when the key is absent: `default` (for the same reason as `authorizer`).
    pub claim_mapper: ClaimMapperKind,
    /// Temporal's `authHeaderName`: the request header carrying the bearer token.
    /// Default `authorization`; an empty string also means `authorization`.
    pub auth_header_name: String,
    /// Temporal's `authExtraHeaderName`: the header passed to the claim mapper as extra data.
    /// Default `authorization-extras`; an empty string also means `authorization-extras`.
    pub auth_extra_header_name: String,
    /// Temporal's `audience`: the audience a token must carry. Default: empty (not checked).
    pub audience: String,
    /// Temporal's `remoteClusterAuth`: accepted for compatibility and ignored (it configures
    /// tokens on outbound cross-cluster calls, which this crate does not make).
    #[serde(rename = "remoteClusterAuth")]
    remote_cluster_auth: Option<IgnoredAny>,

    /// Ours. The JWT signature algorithms accepted, by their registered names (e.g.
    /// `[RS256, ES256]`); an unknown name is an error.
    /// Default: unset, the JWT claim mapper's default (`RS256`, `ES256`, as Temporal).
    #[serde(deserialize_with = "deserialize_algorithms")]
    pub algorithms: Option<Vec<JwtAlgorithm>>,
    /// Ours. Clock skew tolerated on `exp`, `nbf` and `iat`, a Go duration (whole seconds).
    /// Default: unset, the JWT claim mapper's default (zero, as Temporal).
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub leeway: Option<Duration>,
    /// Ours. The issuer (`iss`) a token must carry. Default: unset (not checked, as in Temporal).
    pub issuer: Option<String>,
    /// Ours. Permission entries naming one of these namespaces grant *system* roles, in tokens
    /// and in `certificateClaimRules` alike.
    /// Default: unset, the claim mappers' default (`temporal-system` and `system`).
    pub system_permission_namespaces: Option<Vec<String>>,
    /// Ours. How many verified tokens to remember; `0` disables the cache.
    /// Default: unset, the JWT claim mapper's default (10 000).
    pub token_cache_size: Option<u64>,
    /// Ours. The longest time a verified token is remembered (never past its `exp`), a Go
    /// duration. Default: unset, the JWT claim mapper's default (`5m`).
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub token_cache_max_age: Option<Duration>,
    /// Ours. The largest request message (bytes, after decompression) read to find the
    /// namespace. Default: unset, the layer's default (4 MiB).
    pub max_message_size: Option<usize>,
    /// Ours. How long to wait for the first request message, a Go duration.
    /// Default: unset, the layer's default (`10s`).
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub body_timeout: Option<Duration>,
    /// Ours. Compute, log and count every decision, but let denied calls through.
    /// Default `false`. Announced at start-up at warn level and on every would-be denial.
    pub dry_run: bool,
    /// Ours, after Temporal's dynamic-config key `frontend.exposeAuthorizerErrors`: return an
    /// authorizer's own error to the client instead of the generic `PERMISSION_DENIED`.
    /// Default `false`.
    pub expose_authorizer_errors: bool,
    /// Ours, after Temporal's dynamic-config key `system.enableCrossNamespaceCommands`: authorize
    /// each workflow command of a `RespondWorkflowTaskCompleted` call that signals, starts or
    /// cancels a workflow in another namespace, as the API that does the same directly, in that
    /// namespace. Default `false`, as in Temporal.
    pub enable_cross_namespace_commands: bool,
    /// Ours. Rules mapping a verified client certificate to claims
    /// (`{field, value, permissions}`, see [`CertificateRule`]); when non-empty and
    /// `claimMapper` is `default`, callers with a verified client certificate get claims from
    /// them. Default: empty.
    pub certificate_claim_rules: Vec<CertificateRule>,
    /// Ours. The namespaces that may appear as the `namespace` metric label; any other name
    /// (one a caller made up, say) is reported as `_unknown_`, which bounds the label set.
    /// Default: empty (every namespace label is `_unknown_`).
    pub known_namespaces: Vec<String>,
    /// Ours. Identity providers trusted by `iss`, each with its own keys and claims; see
    /// [`IssuerConfig`](super::IssuerConfig). Default: empty.
    pub issuers: Vec<super::IssuerConfig>,
    /// Ours. Opaque API keys from a file of hashes; see [`ApiKeys`](super::ApiKeys).
    /// Default: none.
    pub api_keys: super::ApiKeys,
    /// Ours. With `authorizer: default`, the Worker role grants the APIs a worker needs in its
    /// namespace (see [`worker_apis`](crate::worker_apis)). Default `false` (as Temporal: the
    /// Worker role alone grants nothing). With another authorizer it is an error.
    pub worker_role: bool,
    /// Ours. The policies of `authorizer: cedar`.
    pub cedar: super::Cedar,
    /// Ours. The decision audit log. Default: unset (no audit log).
    pub audit: Option<super::Audit>,
}

impl Default for Authorization {
    fn default() -> Self {
        Authorization {
            jwt_key_provider: JwtKeyProvider::default(),
            permissions_claim_name: "permissions".to_owned(),
            permissions_regex: String::new(),
            authorizer: AuthorizerKind::Default,
            claim_mapper: ClaimMapperKind::Default,
            auth_header_name: "authorization".to_owned(),
            auth_extra_header_name: "authorization-extras".to_owned(),
            audience: String::new(),
            remote_cluster_auth: None,
            algorithms: None,
            leeway: None,
            issuer: None,
            system_permission_namespaces: None,
            token_cache_size: None,
            token_cache_max_age: None,
            max_message_size: None,
            body_timeout: None,
            dry_run: false,
            expose_authorizer_errors: false,
            enable_cross_namespace_commands: false,
            certificate_claim_rules: Vec::new(),
            known_namespaces: Vec::new(),
            issuers: Vec::new(),
            api_keys: super::ApiKeys::default(),
            worker_role: false,
            cedar: super::Cedar::default(),
            audit: None,
        }
    }
}

/// `global.authorization.jwtKeyProvider`: Temporal's JWKS key provider settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[non_exhaustive]
pub struct JwtKeyProvider {
    /// Temporal's `keySourceURIs`: JWKS documents to load (`https://`, `http://`, `file://`);
    /// blank entries are skipped. Default: empty (no keys: every token is refused).
    #[serde(rename = "keySourceURIs")]
    pub key_source_uris: Vec<String>,
    /// Temporal's `refreshInterval`: how often the key sets are re-fetched, a Go duration;
    /// `0` means never after start-up. Default `1m` (the value Temporal's shipped config
    /// templates use).
    #[serde(deserialize_with = "duration::deserialize")]
    pub refresh_interval: Duration,
    /// Ours. The shortest time between two re-fetches triggered by a token whose `kid` is not
    /// in the key set, a Go duration. Default: unset, the key provider's default (`30s`).
    #[serde(deserialize_with = "duration::deserialize_option")]
    pub kid_miss_cooldown: Option<Duration>,
}

impl Default for JwtKeyProvider {
    fn default() -> Self {
        JwtKeyProvider {
            key_source_uris: Vec::new(),
            refresh_interval: Duration::from_secs(60),
            kid_miss_cooldown: None,
        }
    }
}

/// Which authorizer to build; see [`Authorization::authorizer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthorizerKind {
    /// `noop`: [`NoopAuthorizer`](crate::NoopAuthorizer), which allows every call.
    Noop,
    /// `default`: [`DefaultAuthorizer`](crate::DefaultAuthorizer), Temporal's.
    Default,
    /// `cedar`: the Cedar policy authorizer (ours; needs the `cedar` feature).
    Cedar,
}

/// Which claim mapper to build; see [`Authorization::claim_mapper`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClaimMapperKind {
    /// `noop`: [`NoopClaimMapper`](crate::NoopClaimMapper), every caller is a system admin.
    Noop,
    /// `default`: the JWT claim mapper (and the certificate rules, when configured).
    Default,
}

/// Reads a selector: `default` or `noop`, case-insensitively. Stricter than Temporal, where an
/// empty string selects the no-op pair: here a blank value (`""`, null, or a `${VAR}` that
/// expands to nothing) is an error, so a slip in a file or an unset variable cannot turn
/// authorization off. An absent key is not read at all and keeps meaning `default`.
struct SelectorVisitor {
    what: &'static str,
    /// What the no-op choice does, for the error message.
    noop_means: &'static str,
}

impl Visitor<'_> for SelectorVisitor {
    /// `true` for `default`, `false` for `noop`.
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} name `default` or `noop`", self.what)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        if v.eq_ignore_ascii_case("default") {
            Ok(true)
        } else if v.eq_ignore_ascii_case("noop") {
            Ok(false)
        } else if v.trim().is_empty() {
            Err(self.blank())
        } else {
            // Temporal's exact start-up error text.
            Err(E::custom(format!("unknown {}: {v}", self.what)))
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Err(self.blank())
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Err(self.blank())
    }
}

impl SelectorVisitor {
    fn blank<E: de::Error>(&self) -> E {
        E::custom(format!(
            "is empty: write \"default\", or \"noop\" to {}",
            self.noop_means
        ))
    }
}

/// Reads `authorizer`: Temporal's two selectors, and `cedar`.
struct AuthorizerVisitor;

impl Visitor<'_> for AuthorizerVisitor {
    type Value = AuthorizerKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the authorizer name `default`, `cedar` or `noop`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AuthorizerKind, E> {
        if v.eq_ignore_ascii_case("cedar") {
            return Ok(AuthorizerKind::Cedar);
        }
        let default = SelectorVisitor {
            what: "authorizer",
            noop_means: "allow every call",
        }
        .visit_str(v)?;
        Ok(if default {
            AuthorizerKind::Default
        } else {
            AuthorizerKind::Noop
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<AuthorizerKind, E> {
        SelectorVisitor {
            what: "authorizer",
            noop_means: "allow every call",
        }
        .visit_unit()
        .map(|_| AuthorizerKind::Noop)
    }

    fn visit_none<E: de::Error>(self) -> Result<AuthorizerKind, E> {
        self.visit_unit()
    }
}

impl<'de> Deserialize<'de> for AuthorizerKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AuthorizerVisitor)
    }
}

impl<'de> Deserialize<'de> for ClaimMapperKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let default = deserializer.deserialize_any(SelectorVisitor {
            what: "claim mapper",
            noop_means: "let every caller act as system admin",
        })?;
        Ok(if default {
            ClaimMapperKind::Default
        } else {
            ClaimMapperKind::Noop
        })
    }
}

fn deserialize_algorithms<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<JwtAlgorithm>>, D::Error> {
    let names: Option<Vec<String>> = Option::deserialize(deserializer)?;
    let Some(names) = names else {
        return Ok(None);
    };
    names
        .iter()
        .map(|name| {
            JwtAlgorithm::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = JwtAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
                de::Error::custom(format!(
                    "unknown JWT algorithm: {name} (expected one of {})",
                    known.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
