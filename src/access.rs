//! [`ApiAccess`]: which role each API needs, as a table from method to scope and access.
//! The table itself knows nothing of Temporal: Temporal's rows, [`ApiAccess::temporal`], and
//! the `Default` impl that picks them live in `crate::temporal`; users add their own services'
//! methods.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Whose roles count for an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Only the system role counts (cluster-wide APIs).
    Cluster,
    /// The system role OR'ed with the role in the request's namespace counts.
    Namespace,
}

/// What an API does, and so which role it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Read-only: needs [`Role::READER`](crate::Role::READER) or above.
    Read,
    /// Changes state: needs [`Role::WRITER`](crate::Role::WRITER) or above.
    Write,
    /// Administration: needs [`Role::ADMIN`](crate::Role::ADMIN).
    Admin,
}

impl Access {
    /// The least role mask that satisfies this access (compared numerically, as Temporal).
    #[must_use]
    pub const fn required_role(self) -> crate::Role {
        match self {
            Access::Read => crate::Role::READER,
            Access::Write => crate::Role::WRITER,
            Access::Admin => crate::Role::ADMIN,
        }
    }
}

/// The scope and access of one API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MethodAccess {
    /// Whose roles count.
    pub scope: Scope,
    /// Which role is needed.
    pub access: Access,
}

/// A table from full gRPC method path to [`MethodAccess`].
///
/// [`ApiAccess::temporal`] holds Temporal's table; [`ApiAccess::try_with_method`] adds or overrides
/// an entry, [`ApiAccess::with_service`] covers every method of a service.
#[derive(Clone, Debug)]
pub struct ApiAccess {
    // Looked up on every call, so with a fast hasher; the keys are the table's own paths.
    methods: HashMap<Arc<str>, MethodAccess, FastHash>,
    services: HashMap<Arc<str>, MethodAccess, FastHash>,
}

type FastHash = crate::path_hash::PathHash;

impl ApiAccess {
    /// An empty table: every API is unknown (denied by the default authorizer).
    #[must_use]
    pub fn empty() -> ApiAccess {
        ApiAccess {
            methods: HashMap::default(),
            services: HashMap::default(),
        }
    }

    /// Adds (or replaces) one method, by full path `/pkg.Service/Method`.
    ///
    /// # Errors
    ///
    /// `path` is not `/` + a service name + `/` + a method name, both non-empty, with no
    /// other `/` and no whitespace or control characters: an entry under a path no call can
    /// have would leave the method it was meant for unlisted, and so denied, or covered by a
    /// broader service entry, without a word.
    pub fn try_with_method(
        mut self,
        path: &str,
        scope: Scope,
        access: Access,
    ) -> Result<ApiAccess, InvalidMethodPath> {
        if !is_method_path(path) {
            return Err(InvalidMethodPath {
                path: path.to_owned(),
            });
        }
        self.methods
            .insert(Arc::from(path), MethodAccess { scope, access });
        Ok(self)
    }

    /// Adds (or replaces) one method of a table generated from descriptors and checked by a
    /// test (`temporal/api.rs`), without checking the path again.
    pub(crate) fn with_table_method(
        mut self,
        path: &'static str,
        scope: Scope,
        access: Access,
    ) -> ApiAccess {
        self.methods
            .insert(Arc::from(path), MethodAccess { scope, access });
        self
    }

    /// Covers every method of a service (full name `pkg.Service`) not listed on its own.
    #[must_use]
    pub fn with_service(mut self, service: &str, scope: Scope, access: Access) -> ApiAccess {
        let prefix = format!("/{}/", service.trim_matches('/'));
        self.services
            .insert(Arc::from(prefix), MethodAccess { scope, access });
        self
    }

    /// The access of `path`, or `None` when the API is unknown.
    #[must_use]
    // Inlined into the layer's allowed path with its other steps (see `layer::call`).
    #[inline(always)]
    pub fn get(&self, path: &str) -> Option<MethodAccess> {
        if let Some(m) = self.methods.get(path) {
            return Some(*m);
        }
        let (service, _method) = path.rsplit_once('/')?;
        // `service` is "/pkg.Service"; the prefix key keeps its trailing slash.
        let prefix_len = service.len() + 1;
        self.services.get(&path[..prefix_len]).copied()
    }

    /// The interned path for a known method, so callers can share it without allocating.
    #[must_use]
    pub fn interned(&self, path: &str) -> Option<Arc<str>> {
        self.methods.get_key_value(path).map(|(k, _)| Arc::clone(k))
    }

    /// Every method listed by name (services covered by prefix are not enumerated).
    pub fn methods(&self) -> impl Iterator<Item = (&str, MethodAccess)> {
        self.methods.iter().map(|(k, v)| (&**k, *v))
    }
}

/// Whether `path` has the shape of a gRPC method path, `/pkg.Service/Method`.
fn is_method_path(path: &str) -> bool {
    let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return false;
    };
    let fine = |part: &str| {
        !part.is_empty()
            && !part
                .chars()
                .any(|c| c == '/' || c.is_whitespace() || c.is_control())
    };
    fine(service) && fine(method)
}

/// A method path [`ApiAccess::try_with_method`] refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMethodPath {
    path: String,
}

impl InvalidMethodPath {
    /// The refused path.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for InvalidMethodPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a gRPC method path of the form /package.Service/Method",
            self.path
        )
    }
}

impl StdError for InvalidMethodPath {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_paths_must_be_method_paths() {
        let table = ApiAccess::empty();
        for good in ["/shop.v1.Orders/Get", "/Orders/Get"] {
            let t = table
                .clone()
                .try_with_method(good, Scope::Namespace, Access::Read);
            assert!(t.is_ok_and(|t| t.get(good).is_some()), "{good}");
        }
        for bad in [
            "",
            "/",
            "shop.v1.Orders/Get",
            "/shop.v1.Orders",
            "/shop.v1.Orders/",
            "//Get",
            "/shop.v1.Orders/Get/",
            "/shop.v1.Orders/Get Now",
            "/shop.v1.Orders/Get\n",
        ] {
            let e = table
                .clone()
                .try_with_method(bad, Scope::Namespace, Access::Read)
                .map(|_| ())
                .unwrap_err();
            assert_eq!(e.path(), bad);
            assert!(e.to_string().contains("/package.Service/Method"), "{e}");
        }
    }

    #[test]
    fn a_service_name_is_an_error_not_a_panic() {
        let e = ApiAccess::empty()
            .try_with_method("shop.v1.Orders", Scope::Cluster, Access::Admin)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("is not a gRPC method path"), "{e}");
    }

    #[test]
    fn every_path_of_temporals_table_is_a_method_path() {
        let table = ApiAccess::temporal();
        let mut count = 0;
        for (path, _) in table.methods() {
            assert!(is_method_path(path), "{path}");
            count += 1;
        }
        assert!(count > 100, "{count}");
    }
}
