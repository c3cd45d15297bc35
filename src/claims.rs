//! The caller's identity as the authorizer sees it: [`Role`] bits and [`Claims`].
//!
//! `Claims` is shared, not copied: it wraps its data in an `Arc`, so putting it in request
//! extensions or a token cache costs one reference-count increment, never a string clone.

use std::collections::HashMap;
use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};
use std::sync::Arc;

/// A set of Temporal roles, as a bit mask (`WORKER=1, READER=2, WRITER=4, ADMIN=8`).
///
/// Roles combine with `|`. The default authorizer compares masks numerically, exactly as
/// Temporal does, so `WORKER` alone grants nothing and `WORKER | READER` grants read only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Role(u16);

impl Role {
    /// No role at all.
    pub const UNDEFINED: Role = Role(0);
    /// Temporal's worker role (bit 0). Grants nothing on its own in the default authorizer.
    pub const WORKER: Role = Role(1);
    /// Read-only access.
    pub const READER: Role = Role(2);
    /// Read and write access.
    pub const WRITER: Role = Role(4);
    /// Full access, including namespace and cluster administration.
    pub const ADMIN: Role = Role(8);

    const ALL_BITS: u16 = 0b1111;

    /// A role from raw bits; bits outside the four known roles are kept (see [`Role::is_valid`]).
    #[must_use]
    pub const fn from_bits(bits: u16) -> Role {
        Role(bits)
    }

    /// The raw bit mask.
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// True iff no bit outside the four known roles is set (Temporal's `IsValid`).
    #[must_use]
    pub const fn is_valid(self) -> bool {
        self.0 & !Self::ALL_BITS == 0
    }

    /// True iff every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Role) -> bool {
        self.0 & other.0 == other.0
    }

    /// True iff no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The role named by a permission string: `read`, `write`, `admin` or `worker`,
    /// compared case-insensitively; anything else is [`Role::UNDEFINED`] (as Temporal).
    #[must_use]
    pub fn from_permission_name(name: &str) -> Role {
        if name.eq_ignore_ascii_case("read") {
            Role::READER
        } else if name.eq_ignore_ascii_case("write") {
            Role::WRITER
        } else if name.eq_ignore_ascii_case("admin") {
            Role::ADMIN
        } else if name.eq_ignore_ascii_case("worker") {
            Role::WORKER
        } else {
            Role::UNDEFINED
        }
    }
}

impl BitOr for Role {
    type Output = Role;
    fn bitor(self, rhs: Role) -> Role {
        Role(self.0 | rhs.0)
    }
}

impl BitOrAssign for Role {
    fn bitor_assign(&mut self, rhs: Role) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Role {
    type Output = Role;
    fn bitand(self, rhs: Role) -> Role {
        Role(self.0 & rhs.0)
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("undefined");
        }
        let mut first = true;
        for (bit, name) in [(1, "worker"), (2, "reader"), (4, "writer"), (8, "admin")] {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let rest = self.0 & !Self::ALL_BITS;
        if rest != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// What a [`ClaimMapper`](crate::ClaimMapper) knows about a caller.
///
/// Cheap to clone (one `Arc`). Handlers read it from request extensions after an allow:
/// `request.extensions().get::<Claims>()`.
#[derive(Clone, Default)]
pub struct Claims {
    inner: Arc<ClaimsData>,
}

/// Up to this many namespaces, [`Claims::namespace_role`] compares names instead of hashing.
const FEW_NAMESPACES: usize = 8;

#[derive(Clone, Default)]
struct ClaimsData {
    subject: String,
    system: Role,
    namespaces: HashMap<String, Role>,
    auth_type: String,
    issuer: Option<String>,
    groups: Vec<String>,
    extensions: http::Extensions,
}

impl Claims {
    /// The same claims with data of their own: a clone shares its data, and with it one
    /// reference count.
    pub(crate) fn unshared(&self) -> Claims {
        Claims {
            inner: Arc::new((*self.inner).clone()),
        }
    }

    /// Whether `self` and `other` share their data (one is a clone of the other).
    #[cfg(test)]
    pub(crate) fn shares_data_with(&self, other: &Claims) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Empty claims: no subject, no roles.
    #[must_use]
    pub fn new() -> Claims {
        Claims::default()
    }

    /// Claims that make the caller system admin (what Temporal's no-op claim mapper returns).
    #[must_use]
    pub fn system_admin() -> Claims {
        Claims::new().with_system(Role::ADMIN)
    }

    /// Sets the subject (the caller's identity, e.g. the JWT `sub`).
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Claims {
        self.data_mut().subject = subject.into();
        self
    }

    /// Sets the system-wide role (applies to every namespace and to cluster APIs).
    #[must_use]
    pub fn with_system(mut self, role: Role) -> Claims {
        self.data_mut().system = role;
        self
    }

    /// Adds `role` to the caller's role in `namespace` (OR'ed with what is there).
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>, role: Role) -> Claims {
        self.add_namespace_role(namespace, role);
        self
    }

    /// Sets the authentication method that produced these claims (`jwt` for the JWT mapper).
    #[must_use]
    pub fn with_auth_type(mut self, auth_type: impl Into<String>) -> Claims {
        self.data_mut().auth_type = auth_type.into();
        self
    }

    /// Sets the issuer that vouched for the caller (for a JWT, the trusted issuer's `iss`).
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Claims {
        self.data_mut().issuer = Some(issuer.into());
        self
    }

    /// Sets the groups the caller is in (for a JWT, the values of the permissions claim that
    /// are not permissions themselves, such as an identity provider's group or role names),
    /// replacing any set before. Duplicates are dropped; the order is kept.
    #[must_use]
    pub fn with_groups<I, S>(mut self, groups: I) -> Claims
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let data = self.data_mut();
        data.groups.clear();
        for group in groups {
            push_unique(&mut data.groups, group.into());
        }
        self
    }

    /// Stores a free-form value for custom authorizers (Temporal's `Extensions`).
    #[must_use]
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Claims {
        self.data_mut().extensions.insert(value);
        self
    }

    /// The caller's identity (may be empty).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// The system-wide role.
    #[must_use]
    pub fn system(&self) -> Role {
        self.inner.system
    }

    /// Per-namespace roles, keyed by exact, case-sensitive namespace name.
    #[must_use]
    pub fn namespaces(&self) -> &HashMap<String, Role> {
        &self.inner.namespaces
    }

    /// The role in one namespace (exact match); [`Role::UNDEFINED`] when absent.
    #[must_use]
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub fn namespace_role(&self, namespace: &str) -> Role {
        let namespaces = &self.inner.namespaces;
        // The few namespaces a caller usually has are found sooner by comparing names than by
        // hashing one (the map's hasher is SipHash, which costs more than a dozen compares).
        if namespaces.len() <= FEW_NAMESPACES {
            return namespaces
                .iter()
                .find_map(|(name, role)| (name == namespace).then_some(*role))
                .unwrap_or_default();
        }
        namespaces.get(namespace).copied().unwrap_or_default()
    }

    /// How the caller authenticated (`jwt`, `certificate`, or empty for the no-op mapper).
    #[must_use]
    pub fn auth_type(&self) -> &str {
        &self.inner.auth_type
    }

    /// The issuer that vouched for the caller, when known: the trusted issuer a JWT was
    /// matched to (`None` for certificates, API keys, the no-op mapper, and tokens of a
    /// default issuer configured without an `iss` check).
    #[must_use]
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The groups the caller is in (empty when the mapper knows none).
    #[must_use]
    pub fn groups(&self) -> &[String] {
        &self.inner.groups
    }

    /// Free-form values put there by a claim mapper.
    #[must_use]
    pub fn extensions(&self) -> &http::Extensions {
        &self.inner.extensions
    }

    /// Sets the system role in place.
    pub fn set_system(&mut self, role: Role) {
        self.data_mut().system = role;
    }

    /// ORs `role` into the system role in place.
    pub fn add_system_role(&mut self, role: Role) {
        self.data_mut().system |= role;
    }

    /// ORs `role` into the role of `namespace`, creating the entry even when `role` is empty
    /// (as Temporal's JWT mapper does).
    pub fn add_namespace_role(&mut self, namespace: impl Into<String>, role: Role) {
        *self
            .data_mut()
            .namespaces
            .entry(namespace.into())
            .or_default() |= role;
    }

    /// Sets the subject in place.
    pub fn set_subject(&mut self, subject: impl Into<String>) {
        self.data_mut().subject = subject.into();
    }

    /// Mutable access to the extensions.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.data_mut().extensions
    }

    /// Merges another caller's claims into these: roles are OR'ed and groups added; the
    /// subject, auth type and issuer are taken from `other` only where these are empty.
    pub fn merge(&mut self, other: &Claims) {
        let data = self.data_mut();
        data.system |= other.inner.system;
        for (ns, role) in &other.inner.namespaces {
            *data.namespaces.entry(ns.clone()).or_default() |= *role;
        }
        if data.subject.is_empty() {
            data.subject.clone_from(&other.inner.subject);
        }
        if data.auth_type.is_empty() {
            data.auth_type.clone_from(&other.inner.auth_type);
        }
        if data.issuer.is_none() {
            data.issuer.clone_from(&other.inner.issuer);
        }
        for group in &other.inner.groups {
            push_unique(&mut data.groups, group.clone());
        }
    }

    fn data_mut(&mut self) -> &mut ClaimsData {
        Arc::make_mut(&mut self.inner)
    }
}

fn push_unique(groups: &mut Vec<String>, group: String) {
    if !groups.contains(&group) {
        groups.push(group);
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Claims) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.subject == other.inner.subject
                && self.inner.system == other.inner.system
                && self.inner.namespaces == other.inner.namespaces
                && self.inner.auth_type == other.inner.auth_type
                && self.inner.issuer == other.inner.issuer
                && self.inner.groups == other.inner.groups)
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("subject", &self.inner.subject)
            .field("system", &self.inner.system)
            .field("namespaces", &self.inner.namespaces)
            .field("auth_type", &self.inner.auth_type)
            .field("issuer", &self.inner.issuer)
            .field("groups", &self.inner.groups)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_role_is_an_exact_match_with_few_or_many_namespaces() {
        for count in [0, 1, FEW_NAMESPACES, FEW_NAMESPACES + 1, 40] {
            let mut claims = Claims::new();
            for i in 0..count {
                claims.add_namespace_role(format!("ns{i}"), Role::from_bits(1 << (i % 4)));
            }
            for i in 0..count {
                let expected = Role::from_bits(1 << (i % 4));
                assert_eq!(
                    claims.namespace_role(&format!("ns{i}")),
                    expected,
                    "{count}"
                );
            }
            for absent in ["", "ns", "NS0", "ns0 ", &format!("ns{count}")] {
                assert_eq!(claims.namespace_role(absent), Role::UNDEFINED, "{absent:?}");
            }
        }
    }

    #[test]
    fn role_validity_matches_temporal() {
        for bad in [32u16, 33, 64, 125] {
            assert!(!Role::from_bits(bad).is_valid(), "{bad} must be invalid");
        }
        let (w, r, wr, a) = (Role::WORKER, Role::READER, Role::WRITER, Role::ADMIN);
        for good in [
            Role::UNDEFINED,
            w,
            r,
            wr,
            a,
            w | r,
            w | wr,
            w | a,
            w | r | wr,
            w | r | a,
            w | r | wr | a,
            r | wr,
            r | a,
            r | wr | a,
        ] {
            assert!(good.is_valid(), "{good} must be valid");
        }
    }

    #[test]
    fn permission_names_are_case_insensitive() {
        assert_eq!(Role::from_permission_name("READ"), Role::READER);
        assert_eq!(Role::from_permission_name("Write"), Role::WRITER);
        assert_eq!(Role::from_permission_name("admin"), Role::ADMIN);
        assert_eq!(Role::from_permission_name("wOrKeR"), Role::WORKER);
        assert_eq!(Role::from_permission_name(" read"), Role::UNDEFINED);
        assert_eq!(Role::from_permission_name("read:x"), Role::UNDEFINED);
    }

    #[test]
    fn claims_share_and_copy_on_write() {
        let a = Claims::new()
            .with_subject("alice")
            .with_namespace("ns", Role::READER);
        let mut b = a.clone();
        b.add_namespace_role("ns", Role::WRITER);
        assert_eq!(a.namespace_role("ns"), Role::READER);
        assert_eq!(b.namespace_role("ns"), Role::READER | Role::WRITER);
        assert_eq!(b.namespace_role("NS"), Role::UNDEFINED);
        assert_ne!(a, b);
    }

    #[test]
    fn merge_ors_roles_and_keeps_subject() {
        let mut a = Claims::new()
            .with_subject("alice")
            .with_system(Role::READER);
        let b = Claims::new()
            .with_subject("cert")
            .with_auth_type("certificate")
            .with_namespace("billing", Role::WRITER);
        a.merge(&b);
        assert_eq!(a.subject(), "alice");
        assert_eq!(a.auth_type(), "certificate");
        assert_eq!(a.system(), Role::READER);
        assert_eq!(a.namespace_role("billing"), Role::WRITER);
        assert_eq!(a.issuer(), None);
    }

    #[test]
    fn issuer_and_groups_are_shared_and_merged() {
        let a = Claims::new()
            .with_issuer("https://idp.example")
            .with_groups(["ops", "dev", "ops"]);
        assert_eq!(a.issuer(), Some("https://idp.example"));
        assert_eq!(a.groups(), ["ops", "dev"]);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.inner, &b.inner), "a clone shares the data");
        let mut c = Claims::new()
            .with_issuer("https://other.example")
            .with_groups(["dev", "qa"]);
        c.merge(&a);
        assert_eq!(c.issuer(), Some("https://other.example"));
        assert_eq!(c.groups(), ["dev", "qa", "ops"]);
        let mut d = Claims::new();
        d.merge(&a);
        assert_eq!(d.issuer(), Some("https://idp.example"));
        assert_ne!(a, Claims::new().with_groups(["ops", "dev"]));
        assert_eq!(
            a,
            Claims::new()
                .with_issuer("https://idp.example")
                .with_groups(["ops", "dev"])
        );
    }
}
