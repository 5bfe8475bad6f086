//! The API form: create or edit an `ApiDefinition`, with validation as you type (the same rules
//! the server runs), a preview of the YAML diff, and proposing the change for review.

use super::changes::{DiffView, IssueList};
use crate::api::{ApiError, ChangeView, CreatedChange, ResourceQuery};
use crate::data;
use crate::ui::ErrorBox;
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::{Value, json};

pub fn get(doc: &Value, path: &[&str]) -> Value {
    path.iter()
        .fold(doc, |node, key| node.get(*key).unwrap_or(&Value::Null))
        .clone()
}

/// Sets (or with `None`, removes) the value at `path`, creating mappings on the way.
pub fn set(doc: &mut Value, path: &[&str], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = doc;
    for key in parents {
        if !node.get(*key).is_some_and(Value::is_object) {
            if value.is_none() {
                return;
            }
            if let Some(map) = node.as_object_mut() {
                map.insert((*key).to_owned(), json!({}));
            }
        }
        let Some(next) = node.get_mut(*key) else {
            return;
        };
        node = next;
    }
    if let Some(map) = node.as_object_mut() {
        match value {
            Some(v) => {
                map.insert((*last).to_owned(), v);
            }
            None => {
                map.remove(*last);
            }
        }
    }
}

fn list_text(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn text_list(s: &str) -> Option<Value> {
    let items: Vec<Value> = s
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Value::String(t.to_owned()))
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

fn field_id(path: &[&str]) -> String {
    path.join("-")
}

/// Errors for one field, shown next to it.
fn field_errors(
    issues: Memo<Vec<Issue>>,
    field: String,
) -> impl Fn() -> Vec<Issue> + Send + Sync + Clone + 'static {
    move || {
        issues.with(|all| {
            all.iter()
                .filter(|i| i.field == field || i.field.starts_with(&format!("{field}[")))
                .cloned()
                .collect()
        })
    }
}

#[component]
fn Messages(id: String, issues: Memo<Vec<Issue>>, field: String) -> impl IntoView {
    let errors = field_errors(issues, field);
    view! {
        <div class="field-errors" id=id aria-live="polite">
            {move || errors().into_iter().map(|i| { let class = format!("field-{}", i.severity_label()); view! { <p class=class>{i.message}</p> } }).collect_view()}
        </div>
    }
}

/// A text input bound to a path of the document; empty removes the key.
#[component]
fn Text(
    doc: RwSignal<Value>,
    issues: Memo<Vec<Issue>>,
    path: &'static [&'static str],
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] list: bool,
    #[prop(optional)] number: bool,
) -> impl IntoView {
    let id = field_id(path);
    let err_id = format!("{id}-errors");
    let field = path.join(".");
    let has_error = field_errors(issues, field.clone());
    let value = move || {
        let v = doc.with(|d| get(d, path));
        if list {
            list_text(&v)
        } else {
            match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            }
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let v = if list {
            text_list(&text)
        } else if number {
            text.trim()
                .parse::<i64>()
                .ok()
                .map(Value::from)
                .or_else(|| (!text.trim().is_empty()).then(|| Value::String(text.clone())))
        } else if text.is_empty() {
            None
        } else {
            Some(Value::String(text))
        };
        doc.update(|d| set(d, path, v));
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=if number { "number" } else { "text" } placeholder=placeholder prop:value=value on:input=on_input
                aria-describedby=err_id.clone() aria-invalid=move || if has_error().is_empty() { "false" } else { "true" }/>
            <Messages id=err_id issues field/>
        </div>
    }
}

/// A checkbox bound to a boolean path; unchecked writes `false`.
#[component]
fn Check(
    doc: RwSignal<Value>,
    path: &'static [&'static str],
    label: &'static str,
) -> impl IntoView {
    let id = field_id(path);
    view! {
        <div class="field check">
            <input id=id.clone() type="checkbox" prop:checked=move || doc.with(|d| get(d, path).as_bool() == Some(true))
                on:change=move |ev| { let on = event_target_checked(&ev); doc.update(|d| set(d, path, Some(Value::Bool(on)))); }/>
            <label for=id>{label}</label>
        </div>
    }
}

fn auth_mode(doc: &Value) -> &'static str {
    let on = |k: &str| doc["spec"][k].as_bool() == Some(true);
    if on("use_keyless") {
        "keyless"
    } else if on("enable_jwt") {
        "jwt"
    } else if on("use_standard_auth") {
        "auth-token"
    } else {
        "other"
    }
}

fn set_auth_mode(doc: &mut Value, mode: &str) {
    let had_keyless = doc["spec"].get("use_keyless").is_some();
    match mode {
        "keyless" => {
            set(doc, &["spec", "use_keyless"], Some(Value::Bool(true)));
            set(doc, &["spec", "use_standard_auth"], None);
            set(doc, &["spec", "enable_jwt"], None);
        }
        "auth-token" => {
            set(
                doc,
                &["spec", "use_keyless"],
                had_keyless.then_some(Value::Bool(false)),
            );
            set(doc, &["spec", "enable_jwt"], None);
            set(doc, &["spec", "use_standard_auth"], Some(Value::Bool(true)));
            if get(
                doc,
                &["spec", "auth_configs", "authToken", "auth_header_name"],
            )
            .is_null()
            {
                set(
                    doc,
                    &["spec", "auth_configs", "authToken", "auth_header_name"],
                    Some(json!("Authorization")),
                );
            }
        }
        _ => {
            set(
                doc,
                &["spec", "use_keyless"],
                had_keyless.then_some(Value::Bool(false)),
            );
            set(doc, &["spec", "use_standard_auth"], None);
            set(doc, &["spec", "enable_jwt"], Some(Value::Bool(true)));
            if get(doc, &["spec", "jwt_signing_method"]).is_null() {
                set(doc, &["spec", "jwt_signing_method"], Some(json!("rsa")));
            }
        }
    }
}

fn new_api() -> Value {
    json!({
        "apiVersion": "tyk.tyk.io/v1alpha1",
        "kind": "ApiDefinition",
        "metadata": {"name": "", "namespace": "default"},
        "spec": {"name": "", "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": "/", "target_url": "", "strip_listen_path": true}}
    })
}

fn random_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        format!(
            "{:x}{:x}",
            (js_sys::Math::random() * 1e15) as u64,
            js_sys::Date::now() as u64
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
pub fn ApiEditPage() -> impl IntoView {
    let params = use_params_map();
    let target = move || {
        let p = params.read();
        p.get("namespace").zip(p.get("name"))
    };
    let detail = Resource::new(target, |t| async move {
        match t {
            Some((ns, name)) => data::detail("ApiDefinition".into(), ns, name)
                .await
                .map(Some),
            None => Ok(None),
        }
    });
    let policies = Resource::new(
        || (),
        |_| {
            data::list(ResourceQuery {
                kind: Some("SecurityPolicy".into()),
                limit: Some(500),
                ..Default::default()
            })
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Some(match (detail.get()?, policies.get()?) {
                (Err(error), _) | (_, Err(error)) => view! { <h1>"Edit API"</h1><ErrorBox error/> }.into_any(),
                (Ok(original), Ok(policies)) => {
                    let names = policies.items.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
                    view! { <ApiForm original=original.map(|d| d.document) policies=names/> }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn ApiForm(original: Option<Value>, policies: Vec<String>) -> impl IntoView {
    let is_new = original.is_none();
    let original_key = original.as_ref().map(|d| {
        (
            d["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned(),
            d["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    });
    let doc = RwSignal::new(original.clone().unwrap_or_else(new_api));
    let issues = Memo::new(move |_| doc.with(|d| validate::validate_api("form", d)));
    let title = RwSignal::new(match &original_key {
        Some((ns, name)) => format!("Update {ns}/{name}"),
        None => "Add an API".to_owned(),
    });
    let preview = RwSignal::new(None::<Result<ChangeView, ApiError>>);
    let proposing = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let key = StoredValue::new(String::new());
    let navigate = use_navigate();

    let heading = if is_new {
        "Add an API".to_owned()
    } else {
        format!(
            "Edit {}",
            original_key
                .as_ref()
                .map(|k| format!("{}/{}", k.0, k.1))
                .unwrap_or_default()
        )
    };
    let edit = move || {
        let d = doc.get_untracked();
        let (ns, name) = original_key.clone().unwrap_or_else(|| {
            (
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned(),
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        });
        json!({"title": title.get_untracked(), "description": "", "edits": [{"kind": "ApiDefinition", "namespace": ns, "name": name, "document": d}]})
    };
    let edit_for_preview = edit.clone();
    let on_preview = move |_| {
        let body = edit_for_preview();
        busy.set(true);
        leptos::task::spawn_local(async move {
            preview.set(Some(
                data::post_json::<ChangeView>("/api/v1/changes/preview", &body, None).await,
            ));
            busy.set(false);
        });
    };
    let on_propose = move |_| {
        if key.get_value().is_empty() {
            key.set_value(random_key());
        }
        let body = edit();
        let k = key.get_value();
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match data::post_json::<CreatedChange>("/api/v1/changes", &body, Some(&k)).await {
                Ok(created) => navigate(&format!("/changes/{}", created.id), Default::default()),
                Err(e) => proposing.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let blocked = move || validate::has_errors(&issues.get());
    let mode = move || doc.with(auth_mode);
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <form class="edit" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset>
                <legend>"Identity"</legend>
                <Text doc issues path=&["metadata", "name"] label="Resource name" placeholder="orders"/>
                <Text doc issues path=&["metadata", "namespace"] label="Namespace" placeholder="default"/>
                <Text doc issues path=&["spec", "name"] label="Display name" placeholder="Orders API"/>
                <Check doc path=&["spec", "active"] label="Active (loaded on the gateways)"/>
                <div class="field">
                    <label for="spec-protocol">"Protocol"</label>
                    <select id="spec-protocol" prop:value=move || doc.with(|d| get(d, &["spec", "protocol"]).as_str().unwrap_or("http").to_owned())
                        on:change=move |ev| { let v = event_target_value(&ev); doc.update(|d| set(d, &["spec", "protocol"], Some(Value::String(v)))); }>
                        {["http", "https", "h2c", "tcp", "tls"].map(|p| view! { <option value=p>{p}</option> })}
                    </select>
                </div>
                <Text doc issues path=&["spec", "domain"] label="Domain" placeholder="api.example.com"/>
                <Text doc issues path=&["spec", "tags"] label="Gateway tags (comma-separated)" list=true/>
            </fieldset>
            <fieldset>
                <legend>"Proxy"</legend>
                <Text doc issues path=&["spec", "proxy", "listen_path"] label="Listen path" placeholder="/orders/"/>
                <Text doc issues path=&["spec", "proxy", "target_url"] label="Target URL" placeholder="http://orders.shop.svc:8080"/>
                <Check doc path=&["spec", "proxy", "strip_listen_path"] label="Strip the listen path"/>
            </fieldset>
            <fieldset>
                <legend>"Authentication"</legend>
                <div class="radios" role="radiogroup" aria-label="Authentication mode">
                    {[("keyless", "Keyless (open)"), ("auth-token", "Auth token"), ("jwt", "JWT")].map(|(value, label)| {
                        let id = format!("auth-{value}");
                        view! {
                            <span class="radio">
                                <input type="radio" name="auth" id=id.clone() value=value prop:checked=move || mode() == value
                                    on:change=move |_| doc.update(|d| set_auth_mode(d, value))/>
                                <label for=id>{label}</label>
                            </span>
                        }
                    })}
                </div>
                <Messages id="auth-errors".into() issues field="spec.use_keyless".into()/>
                <Messages id="auth-token-errors".into() issues field="spec.auth_configs.authToken".into()/>
                {move || (mode() == "auth-token").then(|| view! {
                    <Text doc issues path=&["spec", "auth_configs", "authToken", "auth_header_name"] label="Header name" placeholder="Authorization"/>
                })}
                {
                    let policies = policies.clone();
                    move || (mode() == "jwt").then(|| {
                        let policies = policies.clone();
                        view! {
                            <div class="field">
                                <label for="spec-jwt_signing_method">"Signing method"</label>
                                <select id="spec-jwt_signing_method" prop:value=move || doc.with(|d| get(d, &["spec", "jwt_signing_method"]).as_str().unwrap_or("rsa").to_owned())
                                    on:change=move |ev| { let v = event_target_value(&ev); doc.update(|d| set(d, &["spec", "jwt_signing_method"], Some(Value::String(v)))); }>
                                    {["rsa", "hmac", "ecdsa"].map(|p| view! { <option value=p>{p}</option> })}
                                </select>
                            </div>
                            <Text doc issues path=&["spec", "jwt_source"] label="JWKS URL or base64 key"/>
                            <Text doc issues path=&["spec", "jwt_identity_base_field"] label="Identity claim" placeholder="sub"/>
                            <fieldset class="policies">
                                <legend>"Default policies"</legend>
                                {policies.into_iter().map(|p| {
                                    let id = format!("policy-{}", p.replace('/', "-"));
                                    let (p1, p2) = (p.clone(), p.clone());
                                    view! {
                                        <span class="check">
                                            <input type="checkbox" id=id.clone()
                                                prop:checked=move || doc.with(|d| get(d, &["spec", "jwt_default_policies"]).as_array().is_some_and(|a| a.iter().any(|x| x.as_str() == Some(p1.as_str()))))
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    let p = p2.clone();
                                                    doc.update(|d| {
                                                        let mut list: Vec<Value> = get(d, &["spec", "jwt_default_policies"]).as_array().cloned().unwrap_or_default();
                                                        list.retain(|x| x.as_str() != Some(p.as_str()));
                                                        if on { list.push(Value::String(p)); }
                                                        set(d, &["spec", "jwt_default_policies"], (!list.is_empty()).then_some(Value::Array(list)));
                                                    });
                                                }/>
                                            <label for=id>{p}</label>
                                        </span>
                                    }
                                }).collect_view()}
                            </fieldset>
                        }
                    })
                }
            </fieldset>
            <fieldset>
                <legend>"Rate limit"</legend>
                <Text doc issues path=&["spec", "global_rate_limit", "rate"] label="Requests" number=true/>
                <Text doc issues path=&["spec", "global_rate_limit", "per"] label="Per seconds" number=true/>
            </fieldset>
            <fieldset>
                <legend>"CORS and IP lists"</legend>
                <Check doc path=&["spec", "CORS", "enable"] label="Enable CORS"/>
                <Text doc issues path=&["spec", "CORS", "allowed_origins"] label="Allowed origins (comma-separated)" list=true/>
                <Check doc path=&["spec", "enable_ip_whitelisting"] label="Only allow listed IPs"/>
                <Text doc issues path=&["spec", "allowed_ips"] label="Allowed IPs and CIDR ranges (comma-separated)" list=true/>
            </fieldset>
            <fieldset>
                <legend>"Propose"</legend>
                <div class="field">
                    <label for="change-title">"Change title"</label>
                    <input id="change-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                </div>
                <p class="muted" id="form-status" aria-live="polite">
                    {move || { let n = issues.with(|i| i.iter().filter(|i| i.severity == validate::Severity::Error).count()); if n == 0 { "No problems found.".to_owned() } else { format!("{n} problem(s) to fix before proposing.") } }}
                </p>
                <div class="actions">
                    <button type="button" id="preview" on:click=on_preview disabled=move || busy.get()>"Preview"</button>
                    <button type="button" id="propose" class="primary" on:click=on_propose disabled=move || busy.get() || blocked()>"Propose change"</button>
                </div>
                {move || proposing.get().map(|error| view! { <ErrorBox error/> })}
            </fieldset>
        </form>
        <section id="preview-panel" aria-live="polite">
            {move || preview.get().map(|p| match p {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(view) => view! {
                    <h2>"Preview"</h2>
                    <IssueList issues=view.issues.clone()/>
                    <DiffView files=view.files.clone()/>
                }.into_any(),
            })}
        </section>
    }
}
