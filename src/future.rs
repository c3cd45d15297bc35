//! The boxed future type the plug-in traits return (they must stay object safe).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as returned by [`ClaimMapper`](crate::ClaimMapper) and
/// [`Authorizer`](crate::Authorizer).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
