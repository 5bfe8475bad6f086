//! Turning indexed resources into the wire views: list rows, detail pages, grants.

use crate::repo::{IndexedResource, RepoIndex};
use crate::resources::{
    AccessRight, ApiDefinitionSpec, Kind, OasSummary, RateLimit, Resource, ResourceKey,
    SecurityPolicySpec, TypedError,
};
use frontend::api::{Field, Grant, Limits, ResourceDetail, ResourceSummary};
use std::collections::HashMap;

/// The OAS summary of a `TykOasApiDefinition`, from the ConfigMap it references.
fn oas_summary(index: &RepoIndex, r: &IndexedResource) -> Option<OasSummary> {
    let Resource::Oas(oas) = r.resource.as_ref() else {
        return None;
    };
    let cm_ref = oas
        .spec
        .as_ref()?
        .tyk_oas
        .as_ref()?
        .configmap_ref
        .as_ref()?;
    let ns = cm_ref.namespace.as_deref().unwrap_or(&r.key.namespace);
    let key = ResourceKey::new(Kind::ConfigMap, ns, cm_ref.name.as_deref()?);
    let Resource::ConfigMap(cm) = index.get(&key)?.resource.as_ref() else {
        return None;
    };
    cm.document(cm_ref.key_name.as_deref()?)
        .map(|doc| OasSummary::of(&doc))
}

pub fn summary(index: &RepoIndex, r: &IndexedResource) -> ResourceSummary {
    let mut s = ResourceSummary {
        kind: r.key.kind.as_str().to_owned(),
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        title: None,
        listen_path: None,
        target: None,
        domain: None,
        auth_mode: None,
        active: None,
        state: None,
        grants: None,
        tags: Vec::new(),
        path: r.path.to_string(),
        line: r.line,
        clusters: Vec::new(),
    };
    match r.resource.as_ref() {
        Resource::Api(api) => {
            if let Some(spec) = &api.spec {
                let proxy = spec.proxy.as_ref();
                s.title = spec.name.clone();
                s.listen_path = proxy.and_then(|p| p.listen_path.clone());
                s.target = proxy.and_then(|p| p.target_url.clone());
                s.domain = spec.domain.clone();
                s.auth_mode = Some(spec.auth_mode().as_str().to_owned());
                s.active = spec.active;
                s.tags = spec.tags.clone().unwrap_or_default();
            }
        }
        Resource::Policy(policy) => {
            if let Some(spec) = &policy.spec {
                s.title = spec.name.clone();
                s.active = spec.active;
                s.state = spec.state.clone();
                s.grants = Some(spec.access_rights_array.as_ref().map_or(0, Vec::len));
                s.tags = spec.tags.clone().unwrap_or_default();
            }
        }
        Resource::Oas(oas) => {
            if let Some(doc) = oas_summary(index, r) {
                s.title = doc.name;
                s.listen_path = doc.listen_path;
                s.target = doc.upstream_url;
                s.active = doc.active;
                s.auth_mode = doc
                    .authentication
                    .map(|on| if on { "on" } else { "off" }.to_owned());
            }
            s.tags = oas
                .spec
                .as_ref()
                .and_then(|sp| sp.categories.clone())
                .unwrap_or_default();
        }
        Resource::ConfigMap(_) => {}
    }
    s
}

/// Lower-cased text a list filter searches.
pub fn search_text(s: &ResourceSummary) -> String {
    let mut text = format!("{} {}/{}", s.kind, s.namespace, s.name);
    for part in [&s.title, &s.listen_path, &s.target, &s.domain, &s.auth_mode]
        .into_iter()
        .flatten()
    {
        text.push(' ');
        text.push_str(part);
    }
    for tag in &s.tags {
        text.push(' ');
        text.push_str(tag);
    }
    text.to_lowercase()
}

fn access_rights(policy: &SecurityPolicySpec) -> &[AccessRight] {
    policy.access_rights_array.as_deref().unwrap_or_default()
}

fn right_key(right: &AccessRight, policy_ns: &str) -> Option<ResourceKey> {
    let ns = right.namespace.as_deref().unwrap_or(policy_ns);
    Some(ResourceKey::new(
        right.target_kind(),
        ns,
        right.name.as_deref()?,
    ))
}

/// API → policies granting it.
pub fn granted_by(index: &RepoIndex) -> HashMap<ResourceKey, Vec<ResourceKey>> {
    let mut map: HashMap<ResourceKey, Vec<ResourceKey>> = HashMap::new();
    for r in index.of_kind(Kind::SecurityPolicy) {
        let Resource::Policy(p) = r.resource.as_ref() else {
            continue;
        };
        let Some(spec) = &p.spec else { continue };
        for right in access_rights(spec) {
            if let Some(api) = right_key(right, &r.key.namespace) {
                let list = map.entry(api).or_default();
                if !list.contains(&r.key) {
                    list.push((*r.key).clone());
                }
            }
        }
    }
    map
}

fn limits_of(spec: &SecurityPolicySpec) -> Limits {
    Limits {
        rate: spec.rate,
        per: spec.per,
        quota_max: spec.quota_max,
        quota_renewal_rate: spec.quota_renewal_rate,
        throttle_interval: spec.throttle_interval,
        throttle_retry_limit: spec.throttle_retry_limit,
        key_expires_in: spec.key_expires_in,
    }
}

fn grant_of(
    right: &AccessRight,
    other: &ResourceKey,
    title: Option<String>,
    exists: bool,
) -> Grant {
    Grant {
        kind: other.kind.as_str().to_owned(),
        namespace: other.namespace.clone(),
        name: other.name.clone(),
        title,
        exists,
        versions: right.versions.clone().unwrap_or_default(),
        allowed_urls: right
            .allowed_urls
            .iter()
            .flatten()
            .map(|u| {
                let methods = u.methods.as_deref().unwrap_or_default().join(",");
                let url = u.url.as_deref().unwrap_or_default();
                if methods.is_empty() {
                    url.to_owned()
                } else {
                    format!("{methods} {url}")
                }
            })
            .collect(),
        limits: right.limit.as_ref().map(|l| Limits {
            rate: l.rate,
            per: l.per,
            quota_max: l.quota_max,
            quota_renewal_rate: l.quota_renewal_rate,
            throttle_interval: l.throttle_interval,
            throttle_retry_limit: l.throttle_retry_limit,
            key_expires_in: None,
        }),
    }
}

fn title_of(index: &RepoIndex, key: &ResourceKey) -> Option<String> {
    let r = index.get(key)?;
    summary(index, r).title
}

fn field(out: &mut Vec<Field>, label: &str, value: Option<String>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        out.push(Field {
            label: label.to_owned(),
            value,
        });
    }
}

fn yes_no(b: Option<bool>) -> Option<String> {
    b.map(|b| if b { "yes" } else { "no" }.to_owned())
}

fn api_fields(spec: &ApiDefinitionSpec) -> Vec<Field> {
    let mut f = Vec::new();
    let proxy = spec.proxy.clone().unwrap_or_default();
    field(&mut f, "Name", spec.name.clone());
    field(&mut f, "Active", yes_no(spec.active));
    field(&mut f, "Protocol", spec.protocol.clone());
    field(&mut f, "Domain", spec.domain.clone());
    field(&mut f, "Listen path", proxy.listen_path);
    field(&mut f, "Target URL", proxy.target_url);
    field(&mut f, "Strip listen path", yes_no(proxy.strip_listen_path));
    if proxy.enable_load_balancing == Some(true) {
        field(
            &mut f,
            "Load-balanced targets",
            proxy.target_list.map(|t| t.join(", ")),
        );
    }
    field(
        &mut f,
        "Authentication",
        Some(spec.auth_mode().as_str().to_owned()),
    );
    if let Some(header) = spec
        .auth_configs
        .as_ref()
        .and_then(|c| c.get("authToken"))
        .and_then(|c| c.auth_header_name.clone())
    {
        field(&mut f, "Auth header", Some(header));
    }
    if spec.enable_jwt == Some(true) {
        field(
            &mut f,
            "JWT signing method",
            spec.jwt_signing_method.clone(),
        );
        field(&mut f, "JWT source", spec.jwt_source.clone());
        field(
            &mut f,
            "JWT identity field",
            spec.jwt_identity_base_field.clone(),
        );
        field(
            &mut f,
            "JWT policy field",
            spec.jwt_policy_field_name.clone(),
        );
    }
    if let Some(RateLimit {
        rate: Some(rate),
        per: Some(per),
        ..
    }) = &spec.global_rate_limit
    {
        field(
            &mut f,
            "Rate limit",
            Some(format!("{rate} requests per {per} s")),
        );
    }
    if let Some(vd) = &spec.version_data {
        if vd.not_versioned == Some(false) {
            let names: Vec<String> = vd
                .versions
                .iter()
                .flatten()
                .map(|(name, v)| match &v.expires {
                    Some(exp) if !exp.is_empty() => format!("{name} (expires {exp})"),
                    _ => name.clone(),
                })
                .collect();
            field(&mut f, "Versions", Some(names.join(", ")));
            field(&mut f, "Default version", vd.default_version.clone());
        } else {
            field(&mut f, "Versioning", Some("not versioned".into()));
        }
    }
    if let Some(cors) = spec.cors.as_ref().filter(|c| c.enable == Some(true)) {
        field(
            &mut f,
            "CORS origins",
            Some(cors.allowed_origins.clone().unwrap_or_default().join(", ")),
        );
        field(
            &mut f,
            "CORS methods",
            cors.allowed_methods.as_ref().map(|m| m.join(", ")),
        );
    }
    if spec.enable_ip_whitelisting == Some(true) {
        field(
            &mut f,
            "IP allow list",
            spec.allowed_ips.as_ref().map(|l| l.join(", ")),
        );
    }
    if spec.enable_ip_blacklisting == Some(true) {
        field(
            &mut f,
            "IP block list",
            spec.blacklisted_ips.as_ref().map(|l| l.join(", ")),
        );
    }
    field(&mut f, "Tags", spec.tags.as_ref().map(|t| t.join(", ")));
    f
}

pub fn detail(
    index: &RepoIndex,
    r: &IndexedResource,
    granted_by: &[ResourceKey],
) -> Result<ResourceDetail, TypedError> {
    let summary = summary(index, r);
    let document = r.resource.to_value()?;
    let mut out = ResourceDetail {
        summary,
        tyk_id: None,
        fields: Vec::new(),
        limits: None,
        grants: Vec::new(),
        default_policies: Vec::new(),
        yaml: r.source.to_string(),
        document,
        commit: index.commit().map(|c| c.to_string()),
    };
    let (ns, name) = (&r.key.namespace, &r.key.name);
    match r.resource.as_ref() {
        Resource::Api(api) => {
            let spec = api.spec.clone().unwrap_or_default();
            out.tyk_id = Some(spec.api_id(ns, name));
            out.fields = api_fields(&spec);
            out.default_policies = spec
                .jwt_default_policy_refs(ns)
                .into_iter()
                .map(|(n, p)| format!("{n}/{p}"))
                .collect();
        }
        Resource::Oas(_) => {
            let doc = oas_summary(index, r).unwrap_or_default();
            out.tyk_id = Some(
                doc.id
                    .clone()
                    .unwrap_or_else(|| crate::resources::tyk_id(ns, name)),
            );
            let mut f = Vec::new();
            field(&mut f, "Name", doc.name);
            field(&mut f, "Active", yes_no(doc.active));
            field(&mut f, "Listen path", doc.listen_path);
            field(&mut f, "Strip listen path", yes_no(doc.strip_listen_path));
            field(&mut f, "Upstream URL", doc.upstream_url);
            field(&mut f, "Authentication", yes_no(doc.authentication));
            out.fields = f;
        }
        Resource::Policy(p) => {
            let spec = p.spec.clone().unwrap_or_default();
            out.tyk_id = Some(spec.policy_id(ns, name));
            let mut f = Vec::new();
            field(&mut f, "Name", spec.name.clone());
            field(&mut f, "State", spec.state.clone());
            field(&mut f, "Active", yes_no(spec.active));
            field(&mut f, "Tags", spec.tags.as_ref().map(|t| t.join(", ")));
            if let Some(meta) = &spec.meta_data {
                let pairs: Vec<String> = meta
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                        )
                    })
                    .collect();
                field(&mut f, "Metadata", Some(pairs.join(", ")));
            }
            out.fields = f;
            out.limits = Some(limits_of(&spec));
            out.grants = access_rights(&spec)
                .iter()
                .filter_map(|right| {
                    let key = right_key(right, ns)?;
                    let exists = index.get(&key).is_some();
                    Some(grant_of(right, &key, title_of(index, &key), exists))
                })
                .collect();
        }
        Resource::ConfigMap(_) => {}
    }
    if matches!(r.key.kind, Kind::ApiDefinition | Kind::TykOasApiDefinition) {
        out.grants = granted_by
            .iter()
            .filter_map(|pkey| {
                let Resource::Policy(p) = index.get(pkey)?.resource.as_ref() else {
                    return None;
                };
                let spec = p.spec.as_ref()?;
                let right = access_rights(spec)
                    .iter()
                    .find(|right| right_key(right, &pkey.namespace).as_ref() == Some(&r.key))?;
                let mut grant = grant_of(right, pkey, spec.name.clone(), true);
                if grant.limits.is_none() {
                    grant.limits = Some(limits_of(spec));
                }
                Some(grant)
            })
            .collect();
    }
    Ok(out)
}
