//! The envelope every Kubernetes object shares, generic over its spec.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// A document that claims a managed kind but does not fit its schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TypedError {
    pub message: String,
}

impl From<serde_json::Error> for TypedError {
    fn from(e: serde_json::Error) -> Self {
        Self { message: e.to_string() }
    }
}

/// `metadata`: name and namespace typed, everything else (labels, annotations...) kept as is.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl ObjectMeta {
    /// A label value, when it is a string.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.rest.get("labels")?.get(key)?.as_str()
    }
}

/// A Kubernetes object with a typed `spec`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object<S> {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub spec: Option<S>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl<S: Serialize + DeserializeOwned> Object<S> {
    /// Reads a document, with a message naming the field that does not fit (`spec.proxy: ...`).
    pub fn from_value(value: &Value) -> Result<Self, TypedError> {
        Self::deserialize(value).map_err(|e| TypedError { message: describe::<S>(value, &e) })
    }

    pub fn to_value(&self) -> Result<Value, TypedError> {
        Ok(serde_json::to_value(self)?)
    }
}

/// serde_json's messages do not say where; find the first field of the spec that fails alone.
fn describe<S: DeserializeOwned>(value: &Value, error: &serde_json::Error) -> String {
    if let Some(spec) = value.get("spec").and_then(Value::as_object) {
        for (key, field) in spec {
            let probe = Value::Object(Map::from_iter([(key.clone(), field.clone())]));
            if let Err(e) = S::deserialize(&probe) {
                return format!("spec.{key}: {e}");
            }
        }
    }
    error.to_string()
}
