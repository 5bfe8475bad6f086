//! `ApiDefinition` (Tyk Classic API) spec: the fields a form edits, typed; the rest kept.

use super::identity::Target;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The spec of an `ApiDefinition`, following the v1.x CRD's field names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ApiDefinitionSpec {
    pub name: Option<String>,
    pub api_id: Option<String>,
    pub active: Option<bool>,
    pub internal: Option<bool>,
    pub protocol: Option<String>,
    pub listen_port: Option<i64>,
    pub domain: Option<String>,
    pub tags: Option<Vec<String>>,
    #[serde(rename = "contextRef")]
    pub context_ref: Option<Target>,
    pub proxy: Option<Proxy>,

    pub use_keyless: Option<bool>,
    pub use_standard_auth: Option<bool>,
    pub auth_configs: Option<BTreeMap<String, AuthConfig>>,
    pub enable_jwt: Option<bool>,
    pub jwt_signing_method: Option<String>,
    pub jwt_source: Option<String>,
    pub jwt_identity_base_field: Option<String>,
    pub jwt_policy_field_name: Option<String>,
    pub jwt_default_policies: Option<Vec<String>>,
    pub use_oauth2: Option<bool>,
    pub use_basic_auth: Option<bool>,
    pub use_mutual_tls_auth: Option<bool>,
    pub client_certificate_refs: Option<Vec<String>>,

    pub global_rate_limit: Option<RateLimit>,
    pub version_data: Option<VersionData>,
    #[serde(rename = "CORS")]
    pub cors: Option<Cors>,
    pub enable_ip_whitelisting: Option<bool>,
    pub allowed_ips: Option<Vec<String>>,
    pub enable_ip_blacklisting: Option<bool>,
    pub blacklisted_ips: Option<Vec<String>>,

    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.proxy`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Proxy {
    pub listen_path: Option<String>,
    pub target_url: Option<String>,
    pub strip_listen_path: Option<bool>,
    pub preserve_host_header: Option<bool>,
    pub enable_load_balancing: Option<bool>,
    pub target_list: Option<Vec<String>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One entry of `spec.auth_configs` (the key `authToken` is the one standard auth uses).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuthConfig {
    pub auth_header_name: Option<String>,
    pub use_param: Option<bool>,
    pub param_name: Option<String>,
    pub use_cookie: Option<bool>,
    pub cookie_name: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.global_rate_limit`: `rate` requests per `per` seconds.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RateLimit {
    pub rate: Option<i64>,
    pub per: Option<i64>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.version_data`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VersionData {
    pub not_versioned: Option<bool>,
    pub default_version: Option<String>,
    pub versions: Option<BTreeMap<String, VersionInfo>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One entry of `spec.version_data.versions`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VersionInfo {
    pub name: Option<String>,
    pub expires: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `spec.CORS`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cors {
    pub enable: Option<bool>,
    pub allowed_origins: Option<Vec<String>>,
    pub allowed_methods: Option<Vec<String>>,
    pub allowed_headers: Option<Vec<String>>,
    pub exposed_headers: Option<Vec<String>>,
    pub allow_credentials: Option<bool>,
    pub max_age: Option<i64>,
    pub options_passthrough: Option<bool>,
    pub debug: Option<bool>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// How clients authenticate to an API, from the spec's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Keyless,
    AuthToken,
    Jwt,
    OAuth2,
    Basic,
    MutualTls,
    /// Plugins, chained or an unusual combination.
    Other,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyless => "keyless",
            Self::AuthToken => "auth-token",
            Self::Jwt => "jwt",
            Self::OAuth2 => "oauth2",
            Self::Basic => "basic",
            Self::MutualTls => "mtls",
            Self::Other => "other",
        }
    }
}

impl ApiDefinitionSpec {
    /// The auth mode the gateway applies. JWT, OAuth2, basic and mTLS take precedence over the
    /// standard auth token, as in Tyk's middleware chain.
    pub fn auth_mode(&self) -> AuthMode {
        let on = |b: Option<bool>| b == Some(true);
        if on(self.use_keyless) {
            AuthMode::Keyless
        } else if on(self.enable_jwt) {
            AuthMode::Jwt
        } else if on(self.use_oauth2) {
            AuthMode::OAuth2
        } else if on(self.use_basic_auth) {
            AuthMode::Basic
        } else if on(self.use_mutual_tls_auth) {
            AuthMode::MutualTls
        } else if on(self.use_standard_auth) {
            AuthMode::AuthToken
        } else {
            AuthMode::Other
        }
    }

    /// The Tyk API id: `api_id` when set, else what the operator derives.
    pub fn api_id(&self, namespace: &str, name: &str) -> String {
        match self.api_id.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => super::tyk_id(namespace, name),
        }
    }

    /// `jwt_default_policies` entries as `(namespace, name)`; `ns/name`, or a bare name in the
    /// API's namespace.
    pub fn jwt_default_policy_refs(&self, own_namespace: &str) -> Vec<(String, String)> {
        self.jwt_default_policies
            .iter()
            .flatten()
            .map(|r| match r.split_once('/') {
                Some((ns, name)) => (ns.to_owned(), name.to_owned()),
                None => (own_namespace.to_owned(), r.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let v = json!({"name": "a", "proxy": {"listen_path": "/a", "transport": {"ssl_min_version": 771}},
            "custom_middleware": {"driver": "otto"}, "CORS": {"enable": true, "x": 1}});
        let spec: ApiDefinitionSpec = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(spec.cors.as_ref().and_then(|c| c.enable), Some(true));
        assert_eq!(serde_json::to_value(&spec).unwrap(), v);
    }

    #[test]
    fn auth_mode_follows_the_flags() {
        let mode = |v: serde_json::Value| {
            serde_json::from_value::<ApiDefinitionSpec>(v)
                .unwrap()
                .auth_mode()
        };
        assert_eq!(mode(json!({"use_keyless": true})), AuthMode::Keyless);
        assert_eq!(
            mode(json!({"use_standard_auth": true})),
            AuthMode::AuthToken
        );
        assert_eq!(
            mode(json!({"use_standard_auth": true, "enable_jwt": true})),
            AuthMode::Jwt
        );
        assert_eq!(mode(json!({})), AuthMode::Other);
    }

    #[test]
    fn api_id_defaults_to_the_operator_id() {
        let spec = ApiDefinitionSpec::default();
        assert_eq!(spec.api_id("default", "httpbin"), "ZGVmYXVsdC9odHRwYmlu");
        let set = ApiDefinitionSpec {
            api_id: Some("abc".into()),
            ..Default::default()
        };
        assert_eq!(set.api_id("default", "httpbin"), "abc");
    }
}
