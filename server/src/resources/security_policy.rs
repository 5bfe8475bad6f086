//! `SecurityPolicy` spec: limits, quotas and the APIs it grants.

use super::identity::Target;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The spec of a `SecurityPolicy`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SecurityPolicySpec {
    pub name: Option<String>,
    pub id: Option<String>,
    pub state: Option<String>,
    pub active: Option<bool>,
    pub rate: Option<i64>,
    pub per: Option<i64>,
    pub quota_max: Option<i64>,
    pub quota_renewal_rate: Option<i64>,
    pub throttle_interval: Option<i64>,
    pub throttle_retry_limit: Option<i64>,
    pub key_expires_in: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub meta_data: Option<Map<String, Value>>,
    #[serde(rename = "contextRef")]
    pub context_ref: Option<Target>,
    pub access_rights_array: Option<Vec<AccessRight>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One API a policy grants (`access_rights_array[]`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AccessRight {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub versions: Option<Vec<String>>,
    pub allowed_urls: Option<Vec<AllowedUrl>>,
    pub limit: Option<ApiLimit>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `allowed_urls[]`: a URL regex and the methods allowed on it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AllowedUrl {
    pub url: Option<String>,
    pub methods: Option<Vec<String>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// Per-API limits inside an access right (v1.x).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApiLimit {
    pub rate: Option<i64>,
    pub per: Option<i64>,
    pub quota_max: Option<i64>,
    pub quota_renewal_rate: Option<i64>,
    pub throttle_interval: Option<i64>,
    pub throttle_retry_limit: Option<i64>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl AccessRight {
    /// The kind of the granted API (`ApiDefinition` unless the entry says otherwise).
    pub fn target_kind(&self) -> super::Kind {
        match self.kind.as_deref() {
            Some("TykOasApiDefinition") => super::Kind::TykOasApiDefinition,
            _ => super::Kind::ApiDefinition,
        }
    }
}

impl SecurityPolicySpec {
    /// The Tyk policy id: `id` when set, else what the operator derives.
    pub fn policy_id(&self, namespace: &str, name: &str) -> String {
        match self.id.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => super::tyk_id(namespace, name),
        }
    }
}
