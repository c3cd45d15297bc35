//! One call as a Cedar request: the caller as the principal entity, the API as an action
//! entity in its groups, the namespace as the resource entity, and the context (the roles that
//! count, and the request fields the policies refer to, read from the buffered first message).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
};

use super::cache::{CallEntities, CallKey, EntityCache, role_bits};
use super::decisions::Fields;
use super::error::CedarError;
use super::policies::CONTEXT_FIELDS;
use super::schema::{action_groups, action_id, action_uid, type_name};
use crate::layer::scan_string_path;
use crate::temporal::REQUEST_FIELDS;
use crate::{ApiAccess, CallTarget, Claims, Role, Scope};

/// The entity types, parsed once.
#[derive(Debug)]
pub(super) struct Names {
    caller: EntityTypeName,
    anonymous: EntityTypeName,
    namespace: EntityTypeName,
    action: EntityTypeName,
}

impl Names {
    pub(super) fn new() -> Result<Names, CedarError> {
        Ok(Names {
            caller: type_name("Caller")?,
            anonymous: type_name("Anonymous")?,
            namespace: type_name("Namespace")?,
            action: type_name("Action")?,
        })
    }
}

/// What the authorizer settles once per API (the action entity and where its request fields
/// are), and the entities of recent calls.
#[derive(Debug)]
pub(super) struct Actions {
    names: Names,
    access: ApiAccess,
    known: HashMap<Box<str>, Entity>,
    fields: HashMap<&'static str, Vec<(usize, &'static [u32])>>,
    cache: EntityCache,
}

impl Actions {
    pub(super) fn new(access: ApiAccess) -> Result<Actions, CedarError> {
        let names = Names::new()?;
        let known = access
            .methods()
            .map(|(path, m)| (path.into(), action_entity(&names, path, Some(m))))
            .collect();
        let mut fields: HashMap<&'static str, Vec<(usize, &'static [u32])>> = HashMap::new();
        for &(api, name, path) in REQUEST_FIELDS {
            if let Some(i) = CONTEXT_FIELDS.iter().position(|f| *f == name) {
                fields.entry(api).or_default().push((i, path));
            }
        }
        Ok(Actions {
            names,
            access,
            known,
            fields,
            cache: EntityCache::default(),
        })
    }

    /// Every known API's action and action groups, for the policy index.
    pub(super) fn scopes(&self) -> Vec<super::policies::ActionScope<'_>> {
        self.known
            .iter()
            .map(|(api, entity)| {
                let (uid, _, groups) = entity.clone().into_inner();
                super::policies::ActionScope { api, uid, groups }
            })
            .collect()
    }

    /// The access table the action groups come from.
    pub(super) fn access(&self) -> &ApiAccess {
        &self.access
    }

    /// True when `api` carries one of the request fields in `wanted` (a bit set over
    /// [`CONTEXT_FIELDS`]).
    pub(super) fn has_fields(&self, api: &str, wanted: u16) -> bool {
        self.fields
            .get(api)
            .is_some_and(|f| f.iter().any(|(i, _)| wanted & (1 << i) != 0))
    }

    /// The entities and base context of one call (from the entity cache).
    ///
    /// # Errors
    /// A value Cedar refuses (a bug).
    pub(super) fn entities(
        &self,
        claims: Option<&Claims>,
        target: &CallTarget,
    ) -> Result<Arc<CallEntities>, tonic::Status> {
        let api = target.api_name();
        let method = self.access.get(api);
        let namespace = target.namespace();
        let (role, namespace_role) = match claims {
            None => (Role::UNDEFINED, Role::UNDEFINED),
            Some(c) => {
                let ns = c.namespace_role(namespace);
                let role = match method.map(|m| m.scope) {
                    Some(Scope::Cluster) => c.system(),
                    _ => c.system() | ns,
                };
                (role, ns)
            }
        };
        let key = CallKey {
            api,
            namespace,
            claims,
            role: role_bits(role),
            namespace_role: role_bits(namespace_role),
        };
        self.cache.get_or_build(&key, || self.build(&key, method))
    }

    /// The request fields in `wanted` (a bit set over [`CONTEXT_FIELDS`]) that the call's
    /// first message carries, non-empty.
    ///
    /// # Errors
    /// A field that is malformed on its path: the call is refused.
    pub(super) fn fields<'t>(
        &self,
        target: &'t CallTarget,
        wanted: u16,
    ) -> Result<Fields<'t>, tonic::Status> {
        let mut out: Fields<'t> = [None; CONTEXT_FIELDS.len()];
        if let (Some(fields), Some(message)) =
            (self.fields.get(target.api_name()), target.request())
        {
            for &(i, path) in fields.iter().filter(|(i, _)| wanted & (1 << i) != 0) {
                let value = scan_string_path(message.bytes(), path).map_err(|e| {
                    tonic::Status::invalid_argument(format!(
                        "malformed request message ({}): {e}",
                        CONTEXT_FIELDS[i]
                    ))
                })?;
                out[i] = value.filter(|v| !v.is_empty());
            }
        }
        Ok(out)
    }

    /// The Cedar request of a call with these entities and request fields.
    ///
    /// # Errors
    /// A value Cedar refuses (a bug).
    pub(super) fn request(
        call: &CallEntities,
        fields: &Fields<'_>,
    ) -> Result<Request, tonic::Status> {
        let context = if fields.iter().all(Option::is_none) {
            call.context.clone()
        } else {
            let extra = fields.iter().enumerate().filter_map(|(i, value)| {
                value.map(|v| {
                    (
                        CONTEXT_FIELDS[i].to_owned(),
                        RestrictedExpression::new_string(v.to_owned()),
                    )
                })
            });
            Context::from_pairs(call.pairs.iter().cloned().chain(extra)).map_err(internal)?
        };
        Request::new(
            call.principal.clone(),
            call.action.clone(),
            call.resource.clone(),
            context,
            None,
        )
        .map_err(internal)
    }

    /// The entities and base context of a call not in the cache.
    fn build(
        &self,
        key: &CallKey<'_>,
        method: Option<crate::MethodAccess>,
    ) -> Result<CallEntities, tonic::Status> {
        let api = key.api;
        let namespace = key.namespace;
        let action = match self.known.get(api) {
            Some(entity) => entity.clone(),
            None => action_entity(&self.names, api, method),
        };
        let pairs = vec![
            (
                "api".to_owned(),
                RestrictedExpression::new_string(api.to_owned()),
            ),
            ("role".to_owned(), long(key.role)),
            ("namespaceRole".to_owned(), long(key.namespace_role)),
        ];
        let context = Context::from_pairs(pairs.iter().cloned()).map_err(internal)?;
        let principal = match key.claims {
            None => Entity::new_no_attrs(
                EntityUid::from_type_name_and_id(self.names.anonymous.clone(), EntityId::new("")),
                HashSet::new(),
            ),
            Some(c) => Entity::new(
                EntityUid::from_type_name_and_id(
                    self.names.caller.clone(),
                    EntityId::new(c.subject()),
                ),
                HashMap::from([
                    (
                        "subject".to_owned(),
                        RestrictedExpression::new_string(c.subject().to_owned()),
                    ),
                    (
                        "authType".to_owned(),
                        RestrictedExpression::new_string(c.auth_type().to_owned()),
                    ),
                    ("systemRole".to_owned(), long(role_bits(c.system()))),
                    (
                        "issuer".to_owned(),
                        RestrictedExpression::new_string(c.issuer().unwrap_or("").to_owned()),
                    ),
                    (
                        "groups".to_owned(),
                        RestrictedExpression::new_set(
                            c.groups()
                                .iter()
                                .map(|g| RestrictedExpression::new_string(g.clone())),
                        ),
                    ),
                ]),
                HashSet::new(),
            )
            .map_err(internal)?,
        };
        let resource = Entity::new(
            EntityUid::from_type_name_and_id(
                self.names.namespace.clone(),
                EntityId::new(namespace),
            ),
            HashMap::from([(
                "name".to_owned(),
                RestrictedExpression::new_string(namespace.to_owned()),
            )]),
            HashSet::new(),
        )
        .map_err(internal)?;
        let (principal_uid, action_uid, resource_uid) =
            (principal.uid(), action.uid(), resource.uid());
        let entities =
            Entities::from_entities([principal, action, resource], None).map_err(internal)?;
        Ok(CallEntities {
            entities,
            principal: principal_uid,
            action: action_uid,
            resource: resource_uid,
            context,
            pairs,
        })
    }
}

/// The action entity of an API, in its groups.
fn action_entity(names: &Names, path: &str, access: Option<crate::MethodAccess>) -> Entity {
    let parents: HashSet<EntityUid> = action_groups(path, access)
        .into_iter()
        .map(|g| action_uid(&names.action, g))
        .collect();
    Entity::new_no_attrs(action_uid(&names.action, action_id(path)), parents)
}

/// Four role bits (see [`role_bits`]) as a Cedar number.
fn long(bits: u16) -> RestrictedExpression {
    RestrictedExpression::new_long(i64::from(bits))
}

fn internal(error: impl std::fmt::Display) -> tonic::Status {
    tonic::Status::internal(format!("cedar request: {error}"))
}
