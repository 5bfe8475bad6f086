//! The Tyk Operator resource model: identity, typed specs and reading documents into them.
//!
//! Pure domain code: no I/O. The typed structs cover what a form edits; every other field is
//! kept in a `rest` map, so reading and writing a resource never loses data.

mod api_definition;
mod identity;
mod oas;
mod object;
mod schema;
mod security_policy;

pub use api_definition::{
    ApiDefinitionSpec, AuthConfig, AuthMode, Cors, Proxy, RateLimit, VersionData, VersionInfo,
};
pub use frontend::validate::TYK_API_VERSION;
pub use identity::{Kind, ResourceKey, TYK_GROUP, Target, tyk_id};
pub use oas::{ConfigMapRef, OasConfigMap, OasSummary, TykOasApiDefinitionSpec, TykOasRef};
pub use object::{Object, ObjectMeta, TypedError};
pub use schema::{ClusterSchemaSlot, CrdSchemas, SchemaSources};
pub use security_policy::{AccessRight, AllowedUrl, ApiLimit, SecurityPolicySpec};

use serde_json::Value;

/// An `ApiDefinition` custom resource.
pub type ApiDefinition = Object<ApiDefinitionSpec>;
/// A `SecurityPolicy` custom resource.
pub type SecurityPolicy = Object<SecurityPolicySpec>;
/// A `TykOasApiDefinition` custom resource (its OAS document lives in a ConfigMap).
pub type TykOasApiDefinition = Object<TykOasApiDefinitionSpec>;

/// A document of one of the kinds Tollgate manages, typed. Held behind an `Arc` in the index,
/// so the size difference between variants costs nothing.
#[expect(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Api(ApiDefinition),
    Policy(SecurityPolicy),
    Oas(TykOasApiDefinition),
    ConfigMap(OasConfigMap),
}

impl Resource {
    /// Reads a parsed document. `Ok(None)` means a kind Tollgate does not manage (skipped);
    /// an error means the document claims a managed kind but does not fit its schema, or has an
    /// `apiVersion` of the Tyk group other than [`TYK_API_VERSION`].
    pub fn from_value(value: &Value) -> Result<Option<Self>, TypedError> {
        let Some(kind) = Kind::of_document(value) else {
            return Ok(None);
        };
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        if kind != Kind::ConfigMap && api_version != TYK_API_VERSION {
            // Another version's fields may mean other things: never read it as this one.
            return Err(TypedError {
                message: format!(
                    "apiVersion {api_version} is not one Tollgate knows (it reads {TYK_API_VERSION})"
                ),
            });
        }
        Ok(Some(match kind {
            Kind::ApiDefinition => Self::Api(Object::from_value(value)?),
            Kind::SecurityPolicy => Self::Policy(Object::from_value(value)?),
            Kind::TykOasApiDefinition => Self::Oas(Object::from_value(value)?),
            Kind::ConfigMap => match OasConfigMap::from_value(value)? {
                Some(cm) => Self::ConfigMap(cm),
                None => return Ok(None),
            },
        }))
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Api(_) => Kind::ApiDefinition,
            Self::Policy(_) => Kind::SecurityPolicy,
            Self::Oas(_) => Kind::TykOasApiDefinition,
            Self::ConfigMap(_) => Kind::ConfigMap,
        }
    }

    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Self::Api(o) => &o.metadata,
            Self::Policy(o) => &o.metadata,
            Self::Oas(o) => &o.metadata,
            Self::ConfigMap(o) => &o.metadata,
        }
    }

    /// The key, with an omitted namespace read as `default_namespace` (kubectl applies
    /// namespace-less manifests to the current namespace; Tollgate uses `default`).
    pub fn key(&self, default_namespace: &str) -> ResourceKey {
        let meta = self.meta();
        ResourceKey::new(
            self.kind(),
            meta.namespace.as_deref().unwrap_or(default_namespace),
            meta.name.as_deref().unwrap_or_default(),
        )
    }

    /// Serialises back to data; equal to what was read for any document read by `from_value`.
    pub fn to_value(&self) -> Result<Value, TypedError> {
        match self {
            Self::Api(o) => o.to_value(),
            Self::Policy(o) => o.to_value(),
            Self::Oas(o) => o.to_value(),
            Self::ConfigMap(o) => o.to_value(),
        }
    }
}
