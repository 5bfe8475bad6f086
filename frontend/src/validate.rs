//! Validation of Tyk Operator resources: the same code runs in the browser (instantly, next to
//! the field) and on the server (authoritative, before anything is committed).
//!
//! Rules come from the CRD schema (required fields, enums), the operator's admission webhooks
//! (keyless and standard auth are exclusive, standard auth needs `auth_configs.authToken`, an
//! empty target URL only for GraphQL or internal targets), and cross-resource checks within the
//! environment (unique listen paths per domain, references that must exist).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How bad an issue is: errors block proposing, warnings are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, pointing at a field (`spec.proxy.target_url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Issue {
    /// Which resource (`ApiDefinition/ns/name`).
    pub resource: String,
    /// The field, as a dotted path.
    pub field: String,
    pub severity: Severity,
    /// Stable code, e.g. `auth_exclusive`.
    pub code: String,
    pub message: String,
}

impl Issue {
    /// `error` or `warning`.
    pub fn severity_label(&self) -> &'static str {
        match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

struct Out<'a> {
    resource: &'a str,
    issues: Vec<Issue>,
}

impl Out<'_> {
    fn error(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.push(field, Severity::Error, code, message);
    }
    fn warn(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.push(field, Severity::Warning, code, message);
    }
    /// A required, non-empty string field.
    fn require_text(&mut self, parent: &Value, prefix: &str, key: &str, message: &str) {
        if parent
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            self.error(&format!("{prefix}.{key}"), "required", message);
        }
    }
    fn push(&mut self, field: &str, severity: Severity, code: &str, message: impl Into<String>) {
        self.issues.push(Issue {
            resource: self.resource.to_owned(),
            field: field.to_owned(),
            severity,
            code: code.to_owned(),
            message: message.into(),
        });
    }
}

fn s<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |node, key| node.get(*key))
}

fn truthy(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

/// The `apiVersion` of the Tyk Operator kinds Tollgate knows.
pub const TYK_API_VERSION: &str = "tyk.tyk.io/v1alpha1";

/// A Kubernetes object name (RFC 1123 subdomain): at most 253 characters, dot-separated labels
/// of lowercase letters, digits and '-', each starting and ending with a letter or digit
/// (`a..b` and `a.-b` are not names).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            label.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && label.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// A Kubernetes namespace (RFC 1123 label).
pub fn valid_namespace(ns: &str) -> bool {
    valid_name(ns) && ns.len() <= 63 && !ns.contains('.')
}

fn check_meta(doc: &Value, out: &mut Out<'_>) {
    if let Some(version) = doc.get("apiVersion").and_then(Value::as_str)
        && version != TYK_API_VERSION
    {
        out.error(
            "apiVersion",
            "unknown_api_version",
            format!("Tollgate does not know {version}; use {TYK_API_VERSION}"),
        );
    }
    match s(doc, &["metadata", "name"]).and_then(Value::as_str) {
        None | Some("") => out.error("metadata.name", "required", "a name is required"),
        Some(n) if !valid_name(n) => out.error(
            "metadata.name",
            "invalid_name",
            "use at most 253 lowercase letters, digits, '-' and '.'; each part between dots starts and ends with a letter or digit",
        ),
        _ => {}
    }
    if let Some(ns) = s(doc, &["metadata", "namespace"]).and_then(Value::as_str)
        && !valid_namespace(ns)
    {
        out.error(
            "metadata.namespace",
            "invalid_namespace",
            "use lowercase letters, digits and '-' (at most 63)",
        );
    }
}

fn check_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    matches!(
        scheme,
        "http" | "https" | "ws" | "wss" | "tcp" | "tls" | "h2c" | "tyk"
    ) && !rest.is_empty()
        && !rest.contains(' ')
}

fn check_ip(value: &str) -> bool {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let (ok, max) = if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        (true, 32)
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        (true, 128)
    } else {
        (false, 0)
    };
    ok && prefix.is_none_or(|p| p.parse::<u8>().is_ok_and(|n| n <= max))
}

fn non_negative_int(v: Option<&Value>, field: &str, out: &mut Out<'_>) {
    if let Some(v) = v
        && (!v.is_i64() || v.as_i64().is_some_and(|n| n < -1))
    {
        out.error(
            field,
            "invalid_number",
            "must be a whole number (-1 for unlimited)",
        );
    }
}

/// The rules for one `ApiDefinition`.
pub fn validate_api(resource: &str, doc: &Value) -> Vec<Issue> {
    let mut out = Out {
        resource,
        issues: Vec::new(),
    };
    check_meta(doc, &mut out);
    let Some(spec) = doc.get("spec").filter(|v| v.is_object()) else {
        out.error("spec", "required", "spec is required");
        return out.issues;
    };
    out.require_text(spec, "spec", "name", "the API needs a name");
    match spec.get("protocol").and_then(Value::as_str) {
        None => out.error("spec.protocol", "required", "choose a protocol"),
        Some(p) if !matches!(p, "" | "h2c" | "tcp" | "tls" | "http" | "https") => out.error(
            "spec.protocol",
            "invalid_enum",
            "protocol must be http, https, h2c, tcp or tls",
        ),
        _ => {}
    }
    let graphql = truthy(s(spec, &["graphql", "enabled"]));
    let internal_target = s(spec, &["proxy", "target_internal"]).is_some_and(|v| !v.is_null());
    match spec.get("proxy") {
        None => out.error("spec.proxy", "required", "proxy settings are required"),
        Some(proxy) => {
            match proxy.get("target_url").and_then(Value::as_str) {
                None | Some("") if !(graphql || internal_target) => out.error(
                    "spec.proxy.target_url",
                    "target_required",
                    "a target URL is required (it may be empty only for GraphQL or internal targets)",
                ),
                Some(url) if !url.is_empty() && !check_url(url) => out.error(
                    "spec.proxy.target_url",
                    "invalid_url",
                    "the target must be a URL such as http://service.namespace.svc:8080",
                ),
                _ => {}
            }
            if let Some(lp) = proxy.get("listen_path").and_then(Value::as_str) {
                if !lp.starts_with('/') {
                    out.error(
                        "spec.proxy.listen_path",
                        "invalid_listen_path",
                        "the listen path must start with /",
                    );
                } else if lp.contains(char::is_whitespace) {
                    out.error(
                        "spec.proxy.listen_path",
                        "invalid_listen_path",
                        "the listen path must not contain spaces",
                    );
                }
            }
            if truthy(proxy.get("enable_load_balancing")) {
                let targets = proxy.get("target_list").and_then(Value::as_array);
                if targets.is_none_or(Vec::is_empty) {
                    out.error(
                        "spec.proxy.target_list",
                        "required",
                        "load balancing needs at least one target",
                    );
                }
                for (i, t) in targets.into_iter().flatten().enumerate() {
                    if !t.as_str().is_some_and(check_url) {
                        out.error(
                            &format!("spec.proxy.target_list[{i}]"),
                            "invalid_url",
                            "each target must be a URL",
                        );
                    }
                }
            }
        }
    }
    // The operator's validating webhook.
    if truthy(spec.get("use_keyless")) && truthy(spec.get("use_standard_auth")) {
        out.error(
            "spec.use_keyless",
            "auth_exclusive",
            "an API cannot be keyless and use standard auth at the same time",
        );
    }
    if truthy(spec.get("use_standard_auth"))
        && s(spec, &["auth_configs", "authToken"]).is_none_or(Value::is_null)
    {
        out.error(
            "spec.auth_configs.authToken",
            "auth_token_required",
            "standard auth needs auth_configs.authToken (its header name)",
        );
    }
    if truthy(spec.get("enable_jwt")) {
        match spec.get("jwt_signing_method").and_then(Value::as_str) {
            Some("rsa" | "hmac" | "ecdsa") => {}
            _ => out.error(
                "spec.jwt_signing_method",
                "invalid_enum",
                "JWT needs a signing method: rsa, hmac or ecdsa",
            ),
        }
        if spec
            .get("jwt_source")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            out.error(
                "spec.jwt_source",
                "required",
                "JWT needs a source: a JWKS URL or a base64 key",
            );
        }
        if spec
            .get("jwt_identity_base_field")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            out.warn(
                "spec.jwt_identity_base_field",
                "recommended",
                "without an identity field Tyk uses `sub`",
            );
        }
    }
    if let Some(rl) = spec.get("global_rate_limit").filter(|v| !v.is_null()) {
        non_negative_int(rl.get("rate"), "spec.global_rate_limit.rate", &mut out);
        non_negative_int(rl.get("per"), "spec.global_rate_limit.per", &mut out);
        if rl
            .get("rate")
            .and_then(Value::as_i64)
            .is_some_and(|r| r > 0)
            && rl.get("per").and_then(Value::as_i64).is_none_or(|p| p <= 0)
        {
            out.error(
                "spec.global_rate_limit.per",
                "invalid_number",
                "the period must be at least 1 second",
            );
        }
    }
    if let Some(vd) = spec.get("version_data").filter(|v| !v.is_null())
        && vd.get("not_versioned").and_then(Value::as_bool) == Some(false)
    {
        let versions = vd.get("versions").and_then(Value::as_object);
        if versions.is_none_or(|v| v.is_empty()) {
            out.error(
                "spec.version_data.versions",
                "required",
                "a versioned API needs at least one version",
            );
        }
        let default = vd
            .get("default_version")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if versions.is_some_and(|v| !v.contains_key(default)) {
            out.error(
                "spec.version_data.default_version",
                "unknown_version",
                "the default version must be one of the versions",
            );
        }
    }
    for (flag, list, label) in [
        ("enable_ip_whitelisting", "allowed_ips", "allowed"),
        ("enable_ip_blacklisting", "blacklisted_ips", "blocked"),
    ] {
        let ips = spec.get(list).and_then(Value::as_array);
        if truthy(spec.get(flag)) && ips.is_none_or(Vec::is_empty) {
            out.error(
                &format!("spec.{list}"),
                "required",
                format!("list at least one {label} IP or turn the list off"),
            );
        }
        for (i, ip) in ips.into_iter().flatten().enumerate() {
            if !ip.as_str().is_some_and(check_ip) {
                out.error(
                    &format!("spec.{list}[{i}]"),
                    "invalid_ip",
                    "not an IPv4/IPv6 address or CIDR range",
                );
            }
        }
    }
    if let Some(methods) = s(spec, &["CORS", "allowed_methods"]).and_then(Value::as_array) {
        for (i, m) in methods.iter().enumerate() {
            if !matches!(
                m.as_str(),
                Some(
                    "GET"
                        | "POST"
                        | "HEAD"
                        | "PUT"
                        | "DELETE"
                        | "PATCH"
                        | "OPTIONS"
                        | "CONNECT"
                        | "TRACE"
                )
            ) {
                out.error(
                    &format!("spec.CORS.allowed_methods[{i}]"),
                    "invalid_enum",
                    "not an HTTP method",
                );
            }
        }
    }
    out.issues
}

/// The rules for one `SecurityPolicy`.
pub fn validate_policy(resource: &str, doc: &Value) -> Vec<Issue> {
    let mut out = Out {
        resource,
        issues: Vec::new(),
    };
    check_meta(doc, &mut out);
    let Some(spec) = doc.get("spec").filter(|v| v.is_object()) else {
        out.error("spec", "required", "spec is required");
        return out.issues;
    };
    out.require_text(spec, "spec", "name", "the policy needs a name");
    match spec.get("state").and_then(Value::as_str) {
        Some("active" | "draft" | "deny") => {}
        _ => out.error(
            "spec.state",
            "invalid_enum",
            "state must be active, draft or deny",
        ),
    }
    if !spec.get("active").is_some_and(Value::is_boolean) {
        out.error("spec.active", "required", "active must be true or false");
    }
    for field in [
        "rate",
        "per",
        "quota_max",
        "quota_renewal_rate",
        "throttle_interval",
        "throttle_retry_limit",
        "key_expires_in",
    ] {
        non_negative_int(spec.get(field), &format!("spec.{field}"), &mut out);
    }
    for (i, right) in spec
        .get("access_rights_array")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for key in ["name", "namespace"] {
            if right
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                out.error(
                    &format!("spec.access_rights_array[{i}].{key}"),
                    "required",
                    format!("each granted API needs a {key}"),
                );
            }
        }
        if let Some(kind) = right.get("kind").and_then(Value::as_str)
            && !matches!(
                kind,
                "ApiDefinition"
                    | "TykOasApiDefinition"
                    | "TykStreamsApiDefinition"
                    | "TykMcpProxyDefinition"
            )
        {
            out.error(
                &format!("spec.access_rights_array[{i}].kind"),
                "invalid_enum",
                "kind must be ApiDefinition or TykOasApiDefinition",
            );
        }
    }
    out.issues
}

/// The rules for a `TykOasApiDefinition` and the OAS document its ConfigMap holds.
pub fn validate_oas(resource: &str, cr: &Value, document: Option<&Value>) -> Vec<Issue> {
    let mut out = Out {
        resource,
        issues: Vec::new(),
    };
    check_meta(cr, &mut out);
    for key in ["name", "keyName"] {
        if s(cr, &["spec", "tykOAS", "configmapRef", key])
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            out.error(
                &format!("spec.tykOAS.configmapRef.{key}"),
                "required",
                format!("the ConfigMap reference needs a {key}"),
            );
        }
    }
    let Some(doc) = document else {
        out.error(
            "spec.tykOAS.configmapRef",
            "missing_configmap",
            "the referenced ConfigMap key holds no OAS document",
        );
        return out.issues;
    };
    let Some(gw) = doc.get("x-tyk-api-gateway").filter(|v| v.is_object()) else {
        out.error("x-tyk-api-gateway", "required", "the OAS document needs an x-tyk-api-gateway section (the operator refuses it otherwise)");
        return out.issues;
    };
    if s(gw, &["info", "name"])
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.error(
            "x-tyk-api-gateway.info.name",
            "required",
            "the API needs a name",
        );
    }
    match s(gw, &["server", "listenPath", "value"]).and_then(Value::as_str) {
        Some(lp) if lp.starts_with('/') && !lp.contains(char::is_whitespace) => {}
        _ => out.error(
            "x-tyk-api-gateway.server.listenPath.value",
            "invalid_listen_path",
            "the listen path must start with / and have no spaces",
        ),
    }
    match s(gw, &["upstream", "url"]).and_then(Value::as_str) {
        Some(url) if check_url(url) => {}
        _ => out.error(
            "x-tyk-api-gateway.upstream.url",
            "invalid_url",
            "the upstream must be a URL such as http://service.namespace.svc:8080",
        ),
    }
    out.issues
}

/// Whether any issue blocks proposing.
pub fn has_errors(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity == Severity::Error)
}

mod environment;

pub use environment::{
    ApiRef, DefaultPolicyRef, Environment, GrantRef, PolicyRef, validate_environment,
    validate_in_context, validate_oas_in_context, validate_whole_environment,
};

#[cfg(test)]
mod tests;
