//! `TykOasApiDefinition` and the ConfigMap that holds its OAS document.

use super::identity::Target;
use super::object::{ObjectMeta, TypedError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The spec of a `TykOasApiDefinition`: where its OAS document is, plus CR-level settings.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TykOasApiDefinitionSpec {
    #[serde(rename = "tykOAS")]
    pub tyk_oas: Option<TykOasRef>,
    #[serde(rename = "contextRef")]
    pub context_ref: Option<Target>,
    pub categories: Option<Vec<String>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.tykOAS`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TykOasRef {
    #[serde(rename = "configmapRef")]
    pub configmap_ref: Option<ConfigMapRef>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.tykOAS.configmapRef`: the ConfigMap and the key holding the document.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConfigMapRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    #[serde(rename = "keyName")]
    pub key_name: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A ConfigMap with at least one data value that is a Tyk OAS document (JSON or YAML text
/// with an `x-tyk-api-gateway` object).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OasConfigMap {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub data: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
    #[serde(skip)]
    pub nulls: super::object::NullKeys,
}

/// What the list and detail pages show of an OAS document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OasSummary {
    pub name: Option<String>,
    pub id: Option<String>,
    pub active: Option<bool>,
    pub listen_path: Option<String>,
    pub strip_listen_path: Option<bool>,
    pub upstream_url: Option<String>,
    pub authentication: Option<bool>,
}

impl OasConfigMap {
    /// `Ok(None)` for a ConfigMap that holds no OAS document: Tollgate does not index those.
    pub fn from_value(value: &Value) -> Result<Option<Self>, TypedError> {
        let mut cm: Self = Self::deserialize(value)?;
        cm.nulls = super::object::NullKeys::of(value);
        let holds_oas = cm
            .data
            .iter()
            .flatten()
            .any(|(_, v)| v.as_str().is_some_and(|s| parse_oas(s).is_some()));
        Ok(holds_oas.then_some(cm))
    }

    pub fn to_value(&self) -> Result<Value, TypedError> {
        let mut value = serde_json::to_value(self)?;
        self.nulls.restore(&mut value);
        Ok(value)
    }

    /// The OAS document under `key`, parsed.
    pub fn document(&self, key: &str) -> Option<Value> {
        parse_oas(self.data.as_ref()?.get(key)?.as_str()?)
    }
}

/// Parses a document text (JSON, the usual form; YAML accepted) and checks it is Tyk OAS.
fn parse_oas(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).ok()?
    } else {
        crate::yaml::parse_document(text, 1).ok()?
    };
    value.get("x-tyk-api-gateway")?.is_object().then_some(value)
}

impl OasSummary {
    pub fn of(document: &Value) -> Self {
        let gw = &document["x-tyk-api-gateway"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Self {
            name: text(&gw["info"]["name"]).or_else(|| text(&document["info"]["title"])),
            id: text(&gw["info"]["id"]),
            active: gw["info"]["state"]["active"].as_bool(),
            listen_path: text(&gw["server"]["listenPath"]["value"]),
            strip_listen_path: gw["server"]["listenPath"]["strip"].as_bool(),
            upstream_url: text(&gw["upstream"]["url"]),
            authentication: gw["server"]["authentication"]["enabled"].as_bool(),
        }
    }
}
