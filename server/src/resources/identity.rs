//! Resource identity: kinds, keys, references and the Tyk ids derived from them.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The group of the Tyk Operator's custom resources.
pub const TYK_GROUP: &str = "tyk.tyk.io";

/// The kinds Tollgate indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    ApiDefinition,
    SecurityPolicy,
    TykOasApiDefinition,
    /// A ConfigMap holding a Tyk OAS document.
    ConfigMap,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::ApiDefinition,
        Kind::SecurityPolicy,
        Kind::TykOasApiDefinition,
        Kind::ConfigMap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiDefinition => "ApiDefinition",
            Self::SecurityPolicy => "SecurityPolicy",
            Self::TykOasApiDefinition => "TykOasApiDefinition",
            Self::ConfigMap => "ConfigMap",
        }
    }

    /// Parses a kind name, case-insensitively, also accepting plurals and short names
    /// (`apidefinitions`, `tykapis`, `tykpolicies`, `tykoas`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "apidefinition" | "apidefinitions" | "tykapis" | "api" | "apis" => {
                Some(Self::ApiDefinition)
            }
            "securitypolicy" | "securitypolicies" | "tykpolicies" | "policy" | "policies" => {
                Some(Self::SecurityPolicy)
            }
            "tykoasapidefinition" | "tykoasapidefinitions" | "tykoas" | "oas" => {
                Some(Self::TykOasApiDefinition)
            }
            "configmap" | "configmaps" | "cm" => Some(Self::ConfigMap),
            _ => None,
        }
    }

    /// The managed kind of a parsed document, from `apiVersion` and `kind`.
    pub fn of_document(value: &Value) -> Option<Self> {
        let api_version = value.get("apiVersion")?.as_str()?;
        let kind = value.get("kind")?.as_str()?;
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        match (group, kind) {
            (TYK_GROUP, "ApiDefinition") => Some(Self::ApiDefinition),
            (TYK_GROUP, "SecurityPolicy") => Some(Self::SecurityPolicy),
            (TYK_GROUP, "TykOasApiDefinition") => Some(Self::TykOasApiDefinition),
            ("", "ConfigMap") if api_version == "v1" => Some(Self::ConfigMap),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `kind/namespace/name`: how a resource is found in the repo and in clusters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ResourceKey {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// A reference to another object (`contextRef`, `target_internal.target`, ...).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Target {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub kind: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// The id the Tyk Operator gives an object: base64url without padding of `namespace/name`.
pub fn tyk_id(namespace: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{namespace}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tyk_id_matches_the_operator() {
        // base64url("default/httpbin") without padding
        assert_eq!(tyk_id("default", "httpbin"), "ZGVmYXVsdC9odHRwYmlu");
    }

    #[test]
    fn kinds_are_recognised_by_group_and_kind() {
        let api = json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition"});
        let other = json!({"apiVersion": "example.com/v1", "kind": "ApiDefinition"});
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(Kind::of_document(&api), Some(Kind::ApiDefinition));
        assert_eq!(Kind::of_document(&other), None);
        assert_eq!(Kind::of_document(&cm), Some(Kind::ConfigMap));
        assert_eq!(Kind::parse("tykpolicies"), Some(Kind::SecurityPolicy));
        assert_eq!(Kind::parse("nope"), None);
    }
}
