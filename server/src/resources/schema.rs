//! Validation against the CRDs' own OpenAPI schemas (`spec.versions[].schema.openAPIV3Schema`),
//! when Tollgate is given the CRD files. This catches what the API server would refuse: wrong
//! types, values outside an enum, missing required fields, in every field, typed or not.

use super::Kind;
use frontend::validate::{Issue, Severity};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Compiled schemas, by kind.
#[derive(Default)]
pub struct CrdSchemas {
    by_kind: HashMap<Kind, jsonschema::Validator>,
}

impl std::fmt::Debug for CrdSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrdSchemas")
            .field("kinds", &self.by_kind.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// OpenAPI v3 schema → JSON Schema draft 4: `nullable` becomes a `null` type and
/// `x-kubernetes-int-or-string` an integer-or-string type.
fn to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let converted = match k.as_str() {
                    "properties" | "patternProperties" | "definitions" => match v {
                        Value::Object(props) => Value::Object(
                            props
                                .iter()
                                .map(|(p, s)| (p.clone(), to_json_schema(s)))
                                .collect(),
                        ),
                        other => other.clone(),
                    },
                    "items" | "additionalProperties" | "not" => to_json_schema(v),
                    "allOf" | "anyOf" | "oneOf" => match v {
                        Value::Array(list) => {
                            Value::Array(list.iter().map(to_json_schema).collect())
                        }
                        other => other.clone(),
                    },
                    _ => v.clone(),
                };
                out.insert(k.clone(), converted);
            }
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
                out.insert("type".into(), serde_json::json!(["integer", "string"]));
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = out.get("type").cloned() {
                    out.insert("type".into(), serde_json::json!([t, "null"]));
                }
                if let Some(Value::Array(list)) = out.get("enum").cloned() {
                    let mut list = list;
                    list.push(Value::Null);
                    out.insert("enum".into(), Value::Array(list));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

impl CrdSchemas {
    /// Reads the Tyk CRDs among `documents` (other kinds and groups are skipped), using the
    /// storage version's schema. Returns the kinds found.
    pub fn from_documents(documents: &[Value]) -> Result<Self, String> {
        let mut by_kind = HashMap::new();
        for crd in documents {
            if crd["kind"] != "CustomResourceDefinition"
                || crd["spec"]["group"] != super::identity::TYK_GROUP
            {
                continue;
            }
            let Some(kind) = crd["spec"]["names"]["kind"].as_str().and_then(Kind::parse) else {
                continue;
            };
            let versions = crd["spec"]["versions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let version = versions
                .iter()
                .find(|v| v["storage"] == Value::Bool(true))
                .or_else(|| versions.first())
                .ok_or_else(|| format!("CRD for {kind} has no versions"))?;
            let schema = &version["schema"]["openAPIV3Schema"];
            if !schema.is_object() {
                continue;
            }
            let validator = jsonschema::draft4::new(&to_json_schema(schema))
                .map_err(|e| format!("the CRD schema for {kind} does not compile: {e}"))?;
            by_kind.insert(kind, validator);
        }
        Ok(Self { by_kind })
    }

    pub fn kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = self.by_kind.keys().copied().collect();
        kinds.sort();
        kinds
    }

    /// Schema findings for one document (none when no schema is known for its kind).
    pub fn validate(&self, kind: Kind, resource: &str, doc: &Value) -> Vec<Issue> {
        self.findings(kind, doc)
            .into_iter()
            .map(|(field, message)| schema_issue(resource, field, &message, ""))
            .collect()
    }

    /// `(field, message)` for each way the document breaks the schema of its kind.
    fn findings(&self, kind: Kind, doc: &Value) -> Vec<(String, String)> {
        let Some(validator) = self.by_kind.get(&kind) else {
            return Vec::new();
        };
        // The API server prunes `null` fields before validating (they read as absent).
        let doc = without_nulls(doc);
        validator
            .iter_errors(&doc)
            .take(20)
            .map(|e| {
                let path = e.instance_path().to_string();
                let field = path.trim_start_matches('/').replace('/', ".");
                let mut message = e.to_string();
                if message.len() > 300 {
                    let mut end = 300;
                    while !message.is_char_boundary(end) {
                        end -= 1;
                    }
                    message.truncate(end);
                    message.push('…');
                }
                (field, message)
            })
            .collect()
    }
}

fn schema_issue(resource: &str, field: String, message: &str, whose: &str) -> Issue {
    Issue {
        resource: resource.to_owned(),
        field: if field.is_empty() {
            "(document)".into()
        } else {
            field
        },
        severity: Severity::Error,
        code: "schema".into(),
        message: format!("the CRD schema{whose} refuses this: {message}"),
    }
}

/// The CRD schemas installed in one watched cluster, as its watch last saw them.
pub type ClusterSchemaSlot = Arc<RwLock<Option<Arc<CrdSchemas>>>>;

struct ClusterSource {
    name: String,
    /// The repo path prefix of the cluster's environment.
    path: String,
    schemas: ClusterSchemaSlot,
}

/// What edits are checked against: the configured CRD files, and the Tyk CRDs that each watched
/// cluster has installed, for the files under that cluster's environment path, so a change is
/// refused for what the operator version a cluster runs would refuse.
#[derive(Default)]
pub struct SchemaSources {
    files: CrdSchemas,
    clusters: RwLock<Vec<ClusterSource>>,
}

impl std::fmt::Debug for SchemaSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSources")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl SchemaSources {
    pub fn new(files: CrdSchemas) -> Self {
        Self {
            files,
            clusters: RwLock::default(),
        }
    }

    /// Also checks files under `path` against the CRDs cluster `name` has installed.
    pub fn add_cluster(&self, name: &str, path: &str, schemas: ClusterSchemaSlot) {
        self.clusters
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(ClusterSource {
                name: name.to_owned(),
                path: path.trim_matches('/').to_owned(),
                schemas,
            });
    }

    /// Which cluster schemas are in use: it changes when a cluster's watch sees other CRDs, so
    /// results computed with the previous ones are not reused.
    pub fn fingerprint(&self) -> Vec<usize> {
        self.clusters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|c| {
                c.schemas
                    .read()
                    .ok()
                    .and_then(|s| s.as_ref().map(|s| Arc::as_ptr(s) as usize))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Schema findings for a document that lives at `file` in the repo. A finding several
    /// sources share is reported once, naming them.
    pub fn validate(&self, kind: Kind, resource: &str, file: &str, doc: &Value) -> Vec<Issue> {
        let mut found: Vec<((String, String), Vec<String>)> = Vec::new();
        let mut add = |findings: Vec<(String, String)>, source: String| {
            for f in findings {
                match found.iter_mut().find(|(k, _)| *k == f) {
                    Some((_, sources)) => sources.push(source.clone()),
                    None => found.push((f, vec![source.clone()])),
                }
            }
        };
        add(self.files.findings(kind, doc), String::new());
        let clusters = self
            .clusters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for c in clusters.iter() {
            let covers =
                c.path.is_empty() || file == c.path || file.starts_with(&format!("{}/", c.path));
            let schemas = c.schemas.read().ok().and_then(|s| s.clone());
            if let (true, Some(schemas)) = (covers, schemas) {
                add(schemas.findings(kind, doc), c.name.clone());
            }
        }
        found
            .into_iter()
            .map(|((field, message), sources)| {
                let clusters: Vec<String> = sources
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| format!("`{s}`"))
                    .collect();
                let whose = match clusters.len() {
                    0 => String::new(),
                    1 => format!(" of cluster {}", clusters[0]),
                    _ => format!(" of clusters {}", clusters.join(", ")),
                };
                schema_issue(resource, field, &message, &whose)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({"kind": "CustomResourceDefinition", "spec": {"group": "tyk.tyk.io", "names": {"kind": "ApiDefinition"},
        "versions": [{"name": "v1alpha1", "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"},
                "protocol": {"type": "string", "enum": ["http", "https"]},
                "config_data": {"type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true}
            }}}}}}]}})
    }

    #[test]
    fn schema_errors_name_the_field() {
        let schemas = CrdSchemas::from_documents(&[crd()]).unwrap();
        assert_eq!(schemas.kinds(), vec![Kind::ApiDefinition]);
        let ok =
            json!({"spec": {"name": "a", "protocol": "http", "config_data": null, "port": "8080"}});
        assert!(schemas.validate(Kind::ApiDefinition, "a", &ok).is_empty());
        let bad = json!({"spec": {"protocol": "ftp", "port": true}});
        let issues = schemas.validate(Kind::ApiDefinition, "a", &bad);
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert!(
            fields.contains(&"spec")
                && fields.contains(&"spec.protocol")
                && fields.contains(&"spec.port"),
            "{issues:?}"
        );
        assert!(
            schemas.validate(Kind::SecurityPolicy, "p", &bad).is_empty(),
            "no schema, no findings"
        );
    }
}
