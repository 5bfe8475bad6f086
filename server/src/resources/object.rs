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
        Self {
            message: e.to_string(),
        }
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
    /// Keys written as explicit `null`, which typed `Option` fields would otherwise drop.
    #[serde(skip)]
    pub nulls: NullKeys,
}

impl<S: Serialize + DeserializeOwned> Object<S> {
    /// Reads a document, with a message naming the field that does not fit (`spec.proxy: ...`).
    pub fn from_value(value: &Value) -> Result<Self, TypedError> {
        let mut object = Self::deserialize(value).map_err(|e| TypedError {
            message: describe::<S>(value, &e),
        })?;
        object.nulls = NullKeys::of(value);
        Ok(object)
    }

    pub fn to_value(&self) -> Result<Value, TypedError> {
        let mut value = serde_json::to_value(self)?;
        self.nulls.restore(&mut value);
        Ok(value)
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Paths of mapping keys whose value is `null`. `key: null` and a missing key mean the same to
/// the API server, but a lossless model keeps the difference, so a round trip is exact.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NullKeys(Vec<Vec<Step>>);

impl NullKeys {
    pub fn of(value: &Value) -> Self {
        let mut found = Vec::new();
        collect_nulls(value, &mut Vec::new(), &mut found);
        Self(found)
    }

    /// Puts back each null key whose mapping still exists and lacks the key.
    pub fn restore(&self, value: &mut Value) {
        for path in &self.0 {
            restore_at(value, path);
        }
    }
}

fn restore_at(node: &mut Value, path: &[Step]) {
    match path {
        [Step::Key(key)] => {
            if let Some(map) = node.as_object_mut() {
                map.entry(key.clone()).or_insert(Value::Null);
            }
        }
        [first, rest @ ..] => {
            let next = match first {
                Step::Key(k) => node.get_mut(k.as_str()),
                Step::Index(i) => node.get_mut(*i),
            };
            if let Some(next) = next {
                restore_at(next, rest);
            }
        }
        [] => {}
    }
}

fn collect_nulls(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Step::Key(k.clone()));
                if v.is_null() {
                    out.push(path.clone());
                } else {
                    collect_nulls(v, path, out);
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                collect_nulls(v, path, out);
                path.pop();
            }
        }
        _ => {}
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
