//! The cross-resource rules: unique listen paths per domain, grants and default policies that
//! must point at something. They run on an [`Environment`], the few fields of every API and
//! policy they need: the server builds it from the repo (and serves it at
//! `GET /api/v1/validation-context`), the browser loads it once per form and checks each
//! keystroke against it with [`validate_in_context`], so both say the same thing in the same
//! words.

use super::{Issue, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// An API as the cross-resource rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `spec.domain`, empty when the API has none.
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub listen_path: Option<String>,
}

/// A policy as the cross-resource rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PolicyRef {
    pub namespace: String,
    pub name: String,
}

/// A policy's grant of an API (`spec.access_rights_array[index]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantRef {
    pub policy_namespace: String,
    pub policy_name: String,
    /// Position in the policy's `access_rights_array`.
    #[serde(default)]
    pub index: usize,
    pub api_kind: String,
    pub api_namespace: String,
    pub api_name: String,
}

/// A JWT API's default policy (`spec.jwt_default_policies`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DefaultPolicyRef {
    pub api_namespace: String,
    pub api_name: String,
    pub policy_namespace: String,
    pub policy_name: String,
}

/// Every API, policy, grant and default policy of a repo (as it is, or as it would be after a
/// change): what the cross-resource rules read, and nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Environment {
    pub apis: Vec<ApiRef>,
    pub policies: Vec<PolicyRef>,
    pub grants: Vec<GrantRef>,
    pub jwt_defaults: Vec<DefaultPolicyRef>,
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(v, |n, k| n.get(*k))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl Environment {
    /// Every namespace an API or a policy is in, sorted, once each: what a form offers for
    /// its namespace field.
    pub fn namespaces(&self) -> Vec<String> {
        let all: std::collections::BTreeSet<&str> = self
            .apis
            .iter()
            .map(|a| a.namespace.as_str())
            .chain(self.policies.iter().map(|p| p.namespace.as_str()))
            .filter(|ns| !ns.is_empty())
            .collect();
        all.into_iter().map(str::to_owned).collect()
    }

    /// Adds what the document of `kind` at `namespace/name` brings. Other kinds bring nothing.
    pub fn add(&mut self, kind: &str, namespace: &str, name: &str, doc: &Value) {
        match kind {
            "ApiDefinition" => {
                self.apis.push(ApiRef {
                    kind: kind.into(),
                    namespace: namespace.into(),
                    name: name.into(),
                    domain: text(doc, &["spec", "domain"]).unwrap_or_default(),
                    listen_path: text(doc, &["spec", "proxy", "listen_path"]),
                });
                for p in doc["spec"]["jwt_default_policies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let (ns, policy) = p.split_once('/').unwrap_or((namespace, p));
                    self.jwt_defaults.push(DefaultPolicyRef {
                        api_namespace: namespace.into(),
                        api_name: name.into(),
                        policy_namespace: ns.into(),
                        policy_name: policy.into(),
                    });
                }
            }
            "TykOasApiDefinition" => self.apis.push(ApiRef {
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
                domain: String::new(),
                listen_path: None,
            }),
            "SecurityPolicy" => {
                self.policies.push(PolicyRef {
                    namespace: namespace.into(),
                    name: name.into(),
                });
                for (index, right) in doc["spec"]["access_rights_array"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    // A grant without a name is the form's blank row: `required` says so.
                    let Some(api) = right["name"].as_str().filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    self.grants.push(GrantRef {
                        policy_namespace: namespace.into(),
                        policy_name: name.into(),
                        index,
                        api_kind: right["kind"].as_str().unwrap_or("ApiDefinition").into(),
                        api_namespace: right["namespace"]
                            .as_str()
                            .filter(|n| !n.is_empty())
                            .unwrap_or(namespace)
                            .into(),
                        api_name: api.into(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Adds a `TykOasApiDefinition` with the OAS document its ConfigMap holds (if found): its
    /// listen path (`x-tyk-api-gateway.server.listenPath.value`) and custom domain count like
    /// an `ApiDefinition`'s.
    pub fn add_oas(&mut self, namespace: &str, name: &str, document: Option<&Value>) {
        let server = document.map(|d| &d["x-tyk-api-gateway"]["server"]);
        let domain = server
            .filter(|s| s["customDomain"]["enabled"].as_bool() == Some(true))
            .and_then(|s| s["customDomain"]["name"].as_str())
            .unwrap_or_default();
        self.apis.push(ApiRef {
            kind: "TykOasApiDefinition".into(),
            namespace: namespace.into(),
            name: name.into(),
            domain: domain.into(),
            listen_path: server.and_then(|s| text(s, &["listenPath", "value"])),
        });
    }

    /// Removes everything the resource `kind/namespace/name` brought.
    pub fn remove(&mut self, kind: &str, namespace: &str, name: &str) {
        self.apis
            .retain(|a| !(a.kind == kind && a.namespace == namespace && a.name == name));
        if kind == "ApiDefinition" {
            self.jwt_defaults
                .retain(|d| !(d.api_namespace == namespace && d.api_name == name));
        }
        if kind == "SecurityPolicy" {
            self.policies
                .retain(|p| !(p.namespace == namespace && p.name == name));
            self.grants
                .retain(|g| !(g.policy_namespace == namespace && g.policy_name == name));
        }
    }

    /// Appends everything `other` holds.
    pub fn extend(&mut self, other: &Environment) {
        self.apis.extend(other.apis.iter().cloned());
        self.policies.extend(other.policies.iter().cloned());
        self.grants.extend(other.grants.iter().cloned());
        self.jwt_defaults.extend(other.jwt_defaults.iter().cloned());
    }
}

/// Cross-resource rules on the environment as it would be after the change. `touched` names
/// the resources the change edits (`Kind/ns/name`): only issues involving them are reported.
pub fn validate_environment(env: &Environment, touched: &[String]) -> Vec<Issue> {
    let touched: HashSet<&str> = touched.iter().map(String::as_str).collect();
    environment_issues(env, |kind, ns, name| {
        touched.contains(format!("{kind}/{ns}/{name}").as_str())
    })
}

/// Cross-resource rules on a whole environment (a repo as it is): every issue, whoever it
/// involves.
pub fn validate_whole_environment(env: &Environment) -> Vec<Issue> {
    environment_issues(env, |_, _, _| true)
}

/// The cross-resource rules for one document edited in a form, checked against `context`, the
/// repo as it is. The document replaces `original` (the `namespace/name` it had in the repo;
/// `None` for a new resource), so an edit never conflicts with itself, nor a rename with its
/// old self: this is the environment the server builds for the same edit. Issues about other
/// resources (a policy still granting an API renamed away) are put on `metadata.name`, naming
/// that resource.
pub fn validate_in_context(
    context: &Environment,
    kind: &str,
    original: Option<(&str, &str)>,
    default_namespace: &str,
    doc: &Value,
) -> Vec<Issue> {
    in_context(
        context,
        kind,
        original,
        default_namespace,
        doc,
        |env, ns, name| {
            env.add(kind, ns, name, doc);
        },
    )
}

/// [`validate_in_context`] for an OAS API: the `TykOasApiDefinition` and the OAS document its
/// ConfigMap will hold.
pub fn validate_oas_in_context(
    context: &Environment,
    original: Option<(&str, &str)>,
    default_namespace: &str,
    cr: &Value,
    document: &Value,
) -> Vec<Issue> {
    let kind = "TykOasApiDefinition";
    in_context(
        context,
        kind,
        original,
        default_namespace,
        cr,
        |env, ns, name| {
            env.add_oas(ns, name, Some(document));
        },
    )
}

fn in_context(
    context: &Environment,
    kind: &str,
    original: Option<(&str, &str)>,
    default_namespace: &str,
    doc: &Value,
    add: impl FnOnce(&mut Environment, &str, &str),
) -> Vec<Issue> {
    let namespace = text(doc, &["metadata", "namespace"])
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| default_namespace.to_owned());
    let name = text(doc, &["metadata", "name"]).unwrap_or_default();
    let id = format!("{kind}/{namespace}/{name}");
    let mut env = context.clone();
    let mut touched = vec![id.clone()];
    if let Some((ns, n)) = original {
        env.remove(kind, ns, n);
        touched.push(format!("{kind}/{ns}/{n}"));
    }
    env.remove(kind, &namespace, &name);
    add(&mut env, &namespace, &name);
    validate_environment(&env, &touched)
        .into_iter()
        .map(|issue| {
            if issue.resource == id {
                issue
            } else {
                Issue {
                    field: "metadata.name".into(),
                    message: format!("{}: {}", issue.resource, issue.message),
                    resource: id.clone(),
                    ..issue
                }
            }
        })
        .collect()
}

/// Where a kind keeps its listen path (an OAS API's is in its OAS document).
fn listen_path_field(kind: &str) -> &'static str {
    if kind == "TykOasApiDefinition" {
        "x-tyk-api-gateway.server.listenPath.value"
    } else {
        "spec.proxy.listen_path"
    }
}

/// The message for a listen path another API already uses: the browser shows it at the field,
/// the server answers it, word for word.
fn listen_path_taken(listen_path: &str, other: &ApiRef) -> String {
    let domain = if other.domain.is_empty() {
        String::new()
    } else {
        format!(" on {}", other.domain)
    };
    format!(
        "listen path {listen_path} is already used by {}/{}{domain}",
        other.namespace, other.name
    )
}

/// The cross-resource rules, reporting the issues `is_touched` lets through. Linear in the size
/// of the environment, so a repo of 10,000 APIs is checked at once.
fn environment_issues(
    env: &Environment,
    is_touched: impl Fn(&str, &str, &str) -> bool,
) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut seen: HashMap<(&str, &str), &ApiRef> = HashMap::new();
    for api in &env.apis {
        let Some(lp) = &api.listen_path else { continue };
        let key = (api.domain.as_str(), lp.trim_end_matches('/'));
        if let Some(other) = seen.get(&key) {
            for (a, b) in [(api, *other), (*other, api)] {
                if is_touched(&a.kind, &a.namespace, &a.name) {
                    issues.push(Issue {
                        resource: format!("{}/{}/{}", a.kind, a.namespace, a.name),
                        field: listen_path_field(&a.kind).into(),
                        severity: Severity::Error,
                        code: "listen_path_taken".into(),
                        message: listen_path_taken(a.listen_path.as_deref().unwrap_or(lp), b),
                    });
                }
            }
        } else {
            seen.insert(key, api);
        }
    }
    let apis: HashSet<(&str, &str, &str)> = env
        .apis
        .iter()
        .map(|a| (a.kind.as_str(), a.namespace.as_str(), a.name.as_str()))
        .collect();
    for g in &env.grants {
        let exists = apis.contains(&(
            g.api_kind.as_str(),
            g.api_namespace.as_str(),
            g.api_name.as_str(),
        ));
        if !exists
            && (is_touched("SecurityPolicy", &g.policy_namespace, &g.policy_name)
                || is_touched(&g.api_kind, &g.api_namespace, &g.api_name))
        {
            issues.push(Issue {
                resource: format!("SecurityPolicy/{}/{}", g.policy_namespace, g.policy_name),
                field: format!("spec.access_rights_array[{}]", g.index),
                severity: Severity::Error,
                code: "missing_api".into(),
                message: format!(
                    "grants {} {}/{}, which does not exist",
                    g.api_kind, g.api_namespace, g.api_name
                ),
            });
        }
    }
    let policies: HashSet<(&str, &str)> = env
        .policies
        .iter()
        .map(|p| (p.namespace.as_str(), p.name.as_str()))
        .collect();
    for d in &env.jwt_defaults {
        let exists = policies.contains(&(d.policy_namespace.as_str(), d.policy_name.as_str()));
        if !exists
            && (is_touched("ApiDefinition", &d.api_namespace, &d.api_name)
                || is_touched("SecurityPolicy", &d.policy_namespace, &d.policy_name))
        {
            issues.push(Issue {
                resource: format!("ApiDefinition/{}/{}", d.api_namespace, d.api_name),
                field: "spec.jwt_default_policies".into(),
                severity: Severity::Error,
                code: "missing_policy".into(),
                message: format!(
                    "default policy {}/{} does not exist",
                    d.policy_namespace, d.policy_name
                ),
            });
        }
    }
    issues
}
