//! Trusted issuers: each identity provider's own settings (key source, audiences, subject
//! claim, permissions claim path and format, group mapping, algorithms) and the routing of a
//! token to exactly one of them by its `iss` claim.
//!
//! A token is verified only with the keys of the issuer it names, so a key of issuer A never
//! verifies a token claiming issuer B. The mapper's original single key provider (Temporal's
//! `jwtKeyProvider`) is the *default issuer*: tokens whose `iss` names no trusted issuer go
//! there, checked as before (no `iss` check unless one is configured).
//!
//! # Example
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use tonic_authz::{JwtClaimMapper, StaticKeyProvider, TrustedIssuer};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Arc::new(StaticKeyProvider::new());
//! let keycloak = TrustedIssuer::builder("https://idp.example/realms/acme", keys)
//!     .audiences(["temporal"])
//!     .subject_claim("azp")
//!     .permissions_claim("realm_access.roles")
//!     .group_permissions(HashMap::from([(
//!         "temporal-admins".to_owned(),
//!         vec!["temporal-system:admin".to_owned()],
//!     )]))
//!     .build()?;
//! let mapper = JwtClaimMapper::multi_issuer().trusted_issuer(keycloak).build();
//! # let _ = mapper;
//! # Ok(()) }
//! # run().unwrap();
//! ```

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use regex::Regex;
use serde_json::{Map, Value};

use super::checks::Audience;
use super::claim_path::{ClaimPath, claim_strings};
use crate::keys::{JwtAlgorithm, TokenKeyProvider};
use crate::permission::{
    DEFAULT_SYSTEM_NAMESPACES, PermissionFormat, PermissionParser, apply_permissions,
};
use crate::{Claims, ClaimsError, ClaimsErrorKind, Role};

/// A trusted issuer's settings that do not build: a blank issuer, a bad claim path, regex or
/// group permission. The message names the setting.
#[derive(Debug, Clone)]
pub struct IssuerError {
    message: String,
}

impl IssuerError {
    fn new(message: impl Into<String>) -> IssuerError {
        IssuerError {
            message: message.into(),
        }
    }

    /// The message, naming the setting at fault.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for IssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for IssuerError {}

/// Builds a [`TrustedIssuer`]; see each setter for its default.
#[must_use]
pub struct TrustedIssuerBuilder {
    issuer: String,
    keys: Arc<dyn TokenKeyProvider>,
    audiences: Vec<String>,
    subject_claim: String,
    permissions_claim: String,
    permissions_regex: Option<String>,
    group_permissions: HashMap<String, Vec<String>>,
    algorithms: Vec<JwtAlgorithm>,
    system_namespaces: Vec<String>,
}

impl TrustedIssuerBuilder {
    /// The audiences a token must name one of (`aud`, a string or an array). Default: none,
    /// which leaves only the layer's own `audience` check.
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The claim holding the caller's name (a string), as a dotted path. Default: `sub`.
    pub fn subject_claim(mut self, path: impl Into<String>) -> Self {
        self.subject_claim = path.into();
        self
    }

    /// The claim holding permissions or groups, as a dotted path into nested objects
    /// (`realm_access.roles`; `\.` for a dot inside a key). Its value is an array of strings
    /// or one space-separated string (`scope`). Default: `permissions`.
    pub fn permissions_claim(mut self, path: impl Into<String>) -> Self {
        self.permissions_claim = path.into();
        self
    }

    /// A regex with named groups `namespace` and `role` read from each permission, as
    /// Temporal's `permissionsRegex`; here a regex that does not compile or lacks a group is
    /// an error. Default: none (`namespace:role`).
    pub fn permissions_regex(mut self, regex: impl Into<String>) -> Self {
        self.permissions_regex = Some(regex.into());
        self
    }

    /// A table from claim values (a group or role name the provider issues) to the
    /// permissions they grant (`temporal-admins → ["temporal-system:admin"]`). Mapped and
    /// direct permissions add up. Default: empty.
    pub fn group_permissions(mut self, table: HashMap<String, Vec<String>>) -> Self {
        self.group_permissions = table;
        self
    }

    /// The algorithms this issuer's tokens may use. Default: RS256 and ES256.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = JwtAlgorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The namespaces whose permissions grant system roles. Default: `temporal-system` and
    /// `system`.
    pub fn system_namespaces<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.system_namespaces = names.into_iter().map(Into::into).collect();
        self
    }

    /// Checks every setting and builds the issuer.
    ///
    /// # Errors
    /// A blank issuer or audience, a claim path that does not parse, a regex that does not
    /// compile or lacks a group, no algorithm, or a group permission that is not a
    /// `namespace:role` with a known role.
    pub fn build(self) -> Result<TrustedIssuer, IssuerError> {
        if self.issuer.trim().is_empty() {
            return Err(IssuerError::new("issuer: must not be blank"));
        }
        if self.audiences.iter().any(|a| a.trim().is_empty()) {
            return Err(IssuerError::new("audience: an entry is blank"));
        }
        if self.algorithms.is_empty() {
            return Err(IssuerError::new("algorithms: must not be empty"));
        }
        let subject_claim = ClaimPath::parse(&self.subject_claim)
            .map_err(|e| IssuerError::new(format!("subjectClaim: {e}")))?;
        let permissions_claim = ClaimPath::parse(&self.permissions_claim)
            .map_err(|e| IssuerError::new(format!("permissionsClaimName: {e}")))?;
        let regex = self.permissions_regex.filter(|r| !r.is_empty());
        if let Some(pattern) = &regex {
            let re = Regex::new(pattern)
                .map_err(|e| IssuerError::new(format!("permissionsRegex: {e}")))?;
            let has = |name: &str| re.capture_names().flatten().any(|n| n == name);
            if !(has("namespace") && has("role")) {
                return Err(IssuerError::new(
                    "permissionsRegex: needs the named groups `namespace` and `role`",
                ));
            }
        }
        let permissions = PermissionParser::new(
            PermissionFormat::new(regex.as_deref()),
            self.system_namespaces,
        );
        // Group permissions are written by the operator: each must be a known grant, so a
        // typo fails at start instead of silently granting nothing.
        let table_parser = PermissionParser::new(
            PermissionFormat::NamespaceColonRole,
            permissions.system_namespaces().iter().cloned(),
        );
        for (group, granted) in &self.group_permissions {
            for permission in granted {
                let ok = table_parser
                    .parse(permission)
                    .is_some_and(|g| g.role != Role::UNDEFINED && !g.namespace.is_empty());
                if !ok {
                    return Err(IssuerError::new(format!(
                        "groupPermissions.{group}: {permission:?} is not `namespace:role` with role read, write, admin or worker"
                    )));
                }
            }
        }
        Ok(TrustedIssuer {
            policy: IssuerPolicy {
                issuer: Some(self.issuer),
                keys: self.keys,
                algorithms: self.algorithms,
                audiences: self.audiences,
                subject_claim,
                permissions_claim,
                split_strings: true,
                permissions,
                groups: self.group_permissions,
                group_parser: table_parser,
            },
        })
    }
}

impl fmt::Debug for TrustedIssuerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedIssuerBuilder")
            .field("issuer", &self.issuer)
            .field("permissions_claim", &self.permissions_claim)
            .finish_non_exhaustive()
    }
}

/// One identity provider the [`JwtClaimMapper`](crate::JwtClaimMapper) trusts, matched by the
/// token's `iss` (exactly) and verified only with its own keys.
pub struct TrustedIssuer {
    pub(crate) policy: IssuerPolicy,
}

impl TrustedIssuer {
    /// A builder for the issuer `issuer` (compared exactly with `iss`), verified with `keys`
    /// (for an OIDC provider, a [`DiscoveryKeyProvider`](crate::DiscoveryKeyProvider)).
    pub fn builder(
        issuer: impl Into<String>,
        keys: Arc<dyn TokenKeyProvider>,
    ) -> TrustedIssuerBuilder {
        TrustedIssuerBuilder {
            issuer: issuer.into(),
            keys,
            audiences: Vec::new(),
            subject_claim: "sub".to_owned(),
            permissions_claim: "permissions".to_owned(),
            permissions_regex: None,
            group_permissions: HashMap::new(),
            algorithms: vec![JwtAlgorithm::RS256, JwtAlgorithm::ES256],
            system_namespaces: DEFAULT_SYSTEM_NAMESPACES
                .into_iter()
                .map(String::from)
                .collect(),
        }
    }

    /// The issuer, as `iss` must spell it.
    #[must_use]
    pub fn issuer(&self) -> &str {
        self.policy.issuer.as_deref().unwrap_or("")
    }
}

impl fmt::Debug for TrustedIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.policy.fmt(f)
    }
}

/// How tokens of one issuer are checked and mapped.
pub(crate) struct IssuerPolicy {
    /// The `iss` a token must carry; `None` for a default issuer without that check.
    pub(crate) issuer: Option<String>,
    pub(crate) keys: Arc<dyn TokenKeyProvider>,
    pub(crate) algorithms: Vec<JwtAlgorithm>,
    audiences: Vec<String>,
    subject_claim: ClaimPath,
    permissions_claim: ClaimPath,
    /// Whether a string claim is read as space-separated permissions (Temporal reads arrays
    /// only, so the default issuer keeps that).
    split_strings: bool,
    pub(crate) permissions: PermissionParser,
    groups: HashMap<String, Vec<String>>,
    group_parser: PermissionParser,
}

impl IssuerPolicy {
    /// Temporal's single issuer: keys, a top-level permissions claim, `sub`, no group table.
    pub(crate) fn default_issuer(
        keys: Arc<dyn TokenKeyProvider>,
        issuer: Option<String>,
        claim_name: &str,
        permissions: PermissionParser,
        algorithms: Vec<JwtAlgorithm>,
    ) -> IssuerPolicy {
        IssuerPolicy {
            issuer,
            keys,
            algorithms,
            audiences: Vec::new(),
            subject_claim: ClaimPath::top_level("sub"),
            permissions_claim: ClaimPath::top_level(claim_name),
            split_strings: false,
            group_parser: permissions.clone(),
            permissions,
            groups: HashMap::new(),
        }
    }

    pub(crate) fn permissions_claim(&self) -> &str {
        self.permissions_claim.as_str()
    }

    /// Checks the token's audience against this issuer's list (none configured: no check).
    pub(crate) fn check_audience(&self, audience: &Audience) -> Result<(), ClaimsError> {
        if self.audiences.is_empty() || self.audiences.iter().any(|a| audience.check(a).is_ok()) {
            Ok(())
        } else {
            Err(ClaimsError::new(
                ClaimsErrorKind::Audience,
                "audience mismatch",
            ))
        }
    }

    /// The subject, roles, issuer and groups a verified payload maps to.
    ///
    /// The issuer is this policy's configured `iss` (`None` for a default issuer without an
    /// `iss` check: the token's own `iss` is then unchecked and not reported). The groups are
    /// the strings of the permissions claim that grant no role themselves (group or role names
    /// such as `temporal-admins`, whether or not the group table maps them), so a Cedar policy
    /// can test `principal.groups.contains(..)` without a table entry.
    pub(crate) fn claims(&self, payload: &Map<String, Value>) -> Result<Claims, ClaimsError> {
        let Some(Value::String(subject)) = self.subject_claim.resolve(payload) else {
            return Err(ClaimsError::new(
                ClaimsErrorKind::Claim,
                format!(
                    "unexpected value type of {:?} claim",
                    self.subject_claim.as_str()
                ),
            ));
        };
        let mut claims = Claims::new().with_subject(subject).with_auth_type("jwt");
        if let Some(issuer) = &self.issuer {
            claims = claims.with_issuer(issuer.as_str());
        }
        let value = self.permissions_claim.resolve(payload);
        let groups = claim_strings(value, self.split_strings).filter(|entry| {
            self.groups.contains_key(*entry)
                || self
                    .permissions
                    .parse(entry)
                    .is_none_or(|g| g.role == Role::UNDEFINED)
        });
        claims = claims.with_groups(groups);
        if !self.split_strings && self.groups.is_empty() {
            // Temporal's reading, unchanged.
            apply_permissions(&mut claims, value, &self.permissions);
            return Ok(claims);
        }
        for entry in claim_strings(value, self.split_strings) {
            if let Some(granted) = self.groups.get(entry) {
                for permission in granted {
                    if let Some(grant) = self.group_parser.parse(permission) {
                        grant.apply(&mut claims);
                    }
                }
            }
            if let Some(grant) = self.permissions.parse(entry) {
                grant.apply(&mut claims);
            }
        }
        Ok(claims)
    }
}

impl fmt::Debug for IssuerPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedIssuer")
            .field("issuer", &self.issuer)
            .field("algorithms", &self.algorithms)
            .field("audiences", &self.audiences)
            .field("subject_claim", &self.subject_claim)
            .field("permissions_claim", &self.permissions_claim)
            .field("permissions_regex", &self.permissions.is_regex())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

/// The issuers a mapper trusts and which one a token belongs to.
#[derive(Debug)]
pub(crate) struct IssuerRouter {
    policies: Vec<IssuerPolicy>,
    by_iss: HashMap<String, usize>,
    default: Option<usize>,
    /// Every algorithm any issuer accepts: what the token's header may name before routing.
    algorithms: Vec<JwtAlgorithm>,
}

impl IssuerRouter {
    /// A router over `trusted` issuers (a later one with the same `iss` replaces an earlier
    /// one) and an optional default issuer.
    pub(crate) fn new(default: Option<IssuerPolicy>, trusted: Vec<TrustedIssuer>) -> IssuerRouter {
        let mut policies = Vec::new();
        let mut by_iss = HashMap::new();
        let default = default.map(|policy| {
            policies.push(policy);
            0
        });
        for issuer in trusted {
            let iss = issuer.issuer().to_owned();
            by_iss.insert(iss, policies.len());
            policies.push(issuer.policy);
        }
        let mut algorithms: Vec<JwtAlgorithm> = Vec::new();
        for alg in policies.iter().flat_map(|p| p.algorithms.iter().copied()) {
            if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        IssuerRouter {
            policies,
            by_iss,
            default,
            algorithms,
        }
    }

    pub(crate) fn algorithms(&self) -> &[JwtAlgorithm] {
        &self.algorithms
    }

    pub(crate) fn default_policy(&self) -> Option<&IssuerPolicy> {
        self.default.map(|i| &self.policies[i])
    }

    pub(crate) fn trusted_count(&self) -> usize {
        self.by_iss.len()
    }

    /// The policy at `index` (an index [`route`](Self::route) returned).
    pub(crate) fn get(&self, index: usize) -> &IssuerPolicy {
        &self.policies[index]
    }

    /// The issuer a payload belongs to: the trusted issuer its `iss` names, else the default
    /// issuer, else none (refused).
    pub(crate) fn route(&self, payload: &Map<String, Value>) -> Result<usize, ClaimsError> {
        if let Some(Value::String(iss)) = payload.get("iss")
            && let Some(&index) = self.by_iss.get(iss)
        {
            return Ok(index);
        }
        if let Some(index) = self.default {
            return Ok(index);
        }
        Err(match payload.get("iss") {
            None => ClaimsError::new(ClaimsErrorKind::Issuer, "token has no \"iss\" claim"),
            Some(_) => ClaimsError::new(ClaimsErrorKind::Issuer, "untrusted issuer"),
        })
    }
}
