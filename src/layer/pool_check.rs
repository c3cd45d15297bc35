//! Which namespace fields from a descriptor pool the layer can read the way the handler will.
//! The layer scans the wire for the field's last occurrence; that agrees with what the handler
//! decodes for a plain string field and for a proto3 `optional` one, but not for a field inside
//! a real `oneof` (a later member of the oneof clears it) or one with a proto2 default (absent
//! on the wire, present in the handler). Such a field is refused when the layer is built.

use std::error::Error as StdError;
use std::fmt;

use prost_reflect::FieldDescriptor;

/// A namespace field the layer cannot read reliably, found in a descriptor pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptorPoolError {
    method: String,
    field: String,
    reason: &'static str,
}

impl DescriptorPoolError {
    /// The method (`/pkg.Service/Method`) whose request holds the field.
    #[must_use]
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The field's full name.
    #[must_use]
    pub fn field(&self) -> &str {
        &self.field
    }
}

impl fmt::Display for DescriptorPoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: namespace field {} {}, so the layer cannot read it as the handler will",
            self.method, self.field, self.reason
        )
    }
}

impl StdError for DescriptorPoolError {}

/// `Err` when `field`, the namespace field of `method`'s request, cannot be read reliably.
pub(crate) fn check_namespace_field(
    method: &str,
    field: &FieldDescriptor,
) -> Result<(), DescriptorPoolError> {
    let reason = if field
        .containing_oneof()
        .is_some_and(|oneof| !oneof.is_synthetic())
    {
        Some("is a member of a oneof")
    } else if field.field_descriptor_proto().default_value.is_some() {
        Some("has a default value")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(DescriptorPoolError {
            method: method.to_owned(),
            field: field.full_name().to_owned(),
            reason,
        }),
    }
}
