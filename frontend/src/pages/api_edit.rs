//! The API form: create or edit an `ApiDefinition`, with validation as you type (the same rules
//! the server runs), a preview of the YAML diff, and proposing the change for review.

use super::draft::{Resume, resume_of};
use super::form::{FormState, at_field, use_form};
use super::propose::ProposeBox;
use crate::api::{ApiError, ResourceQuery};
use crate::data;
use crate::ui::ErrorBox;
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
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

/// What to show next to one field: its findings (required ones once touched) and the
/// server's answer about it.
fn field_errors(
    issues: Memo<Vec<Issue>>,
    field: String,
) -> impl Fn() -> Vec<Issue> + Send + Sync + Clone + 'static {
    let form = use_form();
    move || {
        issues.with(|all| match form {
            Some(form) => form.at(all, &field),
            None => all
                .iter()
                .filter(|i| at_field(i, &field))
                .cloned()
                .collect(),
        })
    }
}

#[component]
pub(super) fn Messages(id: String, issues: Memo<Vec<Issue>>, field: String) -> impl IntoView {
    let errors = field_errors(issues, field);
    view! {
        <div class="field-errors" id=id aria-live="polite">
            {move || errors().into_iter().map(|i| { let class = format!("field-{}", i.severity_label()); view! { <p class=class>{i.message}</p> } }).collect_view()}
        </div>
    }
}

/// A text input bound to a path of the document; empty removes the key.
#[component]
pub(super) fn Text(
    doc: RwSignal<Value>,
    issues: Memo<Vec<Issue>>,
    path: &'static [&'static str],
    label: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] list: bool,
    #[prop(optional)] number: bool,
    /// Values offered as the field is typed in (a `<datalist>`); free text is still allowed.
    #[prop(optional)]
    suggestions: Vec<String>,
) -> impl IntoView {
    let id = field_id(path);
    let options_id = (!suggestions.is_empty()).then(|| format!("{id}-options"));
    let err_id = format!("{id}-errors");
    let field = path.join(".");
    let has_error = field_errors(issues, field.clone());
    let form = use_form();
    let touch = {
        let field = field.clone();
        move || {
            if let Some(form) = form {
                form.touch(&field);
            }
        }
    };
    let on_blur = {
        let touch = touch.clone();
        move |_: leptos::ev::FocusEvent| touch()
    };
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
        touch();
        doc.update(|d| set(d, path, v));
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=if number { "number" } else { "text" } placeholder=placeholder prop:value=value on:input=on_input on:blur=on_blur
                list=options_id.clone()
                aria-describedby=err_id.clone() aria-invalid=move || if has_error().is_empty() { "false" } else { "true" }/>
            {options_id.map(|options_id| view! {
                <datalist id=options_id>
                    {suggestions.into_iter().map(|s| view! { <option value=s/> }).collect_view()}
                </datalist>
            })}
            <Messages id=err_id issues field/>
        </div>
    }
}

/// A checkbox bound to a boolean path; unchecked writes `false`.
#[component]
pub(super) fn Check(
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

const AUTH_FLAGS: [(&str, &str); 6] = [
    ("keyless", "use_keyless"),
    ("auth-token", "use_standard_auth"),
    ("jwt", "enable_jwt"),
    ("oauth2", "use_oauth2"),
    ("basic", "use_basic_auth"),
    ("mtls", "use_mutual_tls_auth"),
];

fn auth_mode(doc: &Value) -> &'static str {
    let on = |k: &str| doc["spec"][k].as_bool() == Some(true);
    // The gateway's precedence: keyless, then JWT, OAuth2, basic, mTLS, auth token.
    for mode in ["keyless", "jwt", "oauth2", "basic", "mtls", "auth-token"] {
        if AUTH_FLAGS.iter().any(|(m, flag)| *m == mode && on(flag)) {
            return mode;
        }
    }
    "other"
}

fn set_auth_mode(doc: &mut Value, mode: &str) {
    // Flags the file has are switched off explicitly; others stay absent.
    for (m, flag) in AUTH_FLAGS {
        if m == mode {
            set(doc, &["spec", flag], Some(Value::Bool(true)));
        } else if doc["spec"].get(flag).is_some() {
            set(doc, &["spec", flag], Some(Value::Bool(false)));
        }
    }
    match mode {
        "auth-token"
            if get(
                doc,
                &["spec", "auth_configs", "authToken", "auth_header_name"],
            )
            .is_null() =>
        {
            set(
                doc,
                &["spec", "auth_configs", "authToken", "auth_header_name"],
                Some(json!("Authorization")),
            );
        }
        "jwt" if get(doc, &["spec", "jwt_signing_method"]).is_null() => {
            set(doc, &["spec", "jwt_signing_method"], Some(json!("rsa")));
        }
        "oauth2" if get(doc, &["spec", "oauth_meta"]).is_null() => {
            set(
                doc,
                &["spec", "oauth_meta"],
                Some(
                    json!({"allowed_access_types": ["authorization_code", "refresh_token"], "allowed_authorize_types": ["code"], "auth_login_redirect": ""}),
                ),
            );
        }
        _ => {}
    }
}

/// Named versions with expiry, and the default one.
#[component]
fn Versions(doc: RwSignal<Value>, issues: Memo<Vec<Issue>>) -> impl IntoView {
    let versioned = move || {
        doc.with(|d| get(d, &["spec", "version_data", "not_versioned"]).as_bool() == Some(false))
    };
    let names = Memo::new(move |_| {
        doc.with(|d| {
            get(d, &["spec", "version_data", "versions"])
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let new_name = RwSignal::new(String::new());
    view! {
        <div class="field check">
            <input id="versioned" type="checkbox" prop:checked=versioned on:change=move |ev| {
                let on = event_target_checked(&ev);
                doc.update(|d| {
                    set(d, &["spec", "version_data", "not_versioned"], Some(Value::Bool(!on)));
                    if get(d, &["spec", "version_data", "versions"]).as_object().is_none_or(|m| m.is_empty()) {
                        set(d, &["spec", "version_data", "versions"], Some(json!({"Default": {"name": "Default"}})));
                        set(d, &["spec", "version_data", "default_version"], Some(json!("Default")));
                    }
                });
            }/>
            <label for="versioned">"Versioned API"</label>
        </div>
        {move || versioned().then(|| view! {
            <table class="list versions">
                <thead><tr><th scope="col">"Version"</th><th scope="col">"Expires"</th><th scope="col">"Default"</th><th></th></tr></thead>
                <tbody>
                    <For each=move || names.get() key=|n| n.clone() let:name>
                        {
                            let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
                            view! {
                                <tr>
                                    <td>{name.clone()}</td>
                                    <td><input type="text" aria-label=format!("Expiry of {name}") placeholder="2027-06-30 00:00"
                                        prop:value=move || doc.with(|d| d["spec"]["version_data"]["versions"][&n1]["expires"].as_str().unwrap_or_default().to_owned())
                                        on:input=move |ev| { let v = event_target_value(&ev); let n = n2.clone(); doc.update(|d| {
                                            if let Some(ver) = d["spec"]["version_data"]["versions"].get_mut(&n).and_then(Value::as_object_mut) {
                                                if v.is_empty() { ver.remove("expires"); } else { ver.insert("expires".into(), Value::String(v)); }
                                            }
                                        }); }/></td>
                                    <td><input type="radio" name="default-version" aria-label=format!("{name} is the default")
                                        prop:checked=move || doc.with(|d| d["spec"]["version_data"]["default_version"].as_str() == Some(n3.as_str()))
                                        on:change=move |_| { let n = n4.clone(); doc.update(|d| set(d, &["spec", "version_data", "default_version"], Some(Value::String(n)))); }/></td>
                                    <td><button type="button" class="link-danger" on:click={ let n = name.clone(); move |_| { let n = n.clone(); doc.update(|d| {
                                        if let Some(m) = d["spec"]["version_data"]["versions"].as_object_mut() { m.remove(&n); }
                                    }); } }>"Remove"</button></td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
            <div class="actions">
                <input type="text" aria-label="New version name" placeholder="v2" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <button type="button" on:click=move |_| {
                    let n = new_name.get_untracked().trim().to_owned();
                    if n.is_empty() { return; }
                    doc.update(|d| {
                        if let Some(m) = d["spec"]["version_data"]["versions"].as_object_mut() {
                            m.insert(n.clone(), json!({"name": n}));
                        }
                    });
                    new_name.set(String::new());
                }>"Add version"</button>
            </div>
            <Messages id="versions-errors".into() issues field="spec.version_data.versions".into()/>
            <Messages id="default-version-errors".into() issues field="spec.version_data.default_version".into()/>
        })}
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

/// The resource an edit page edits: the one named by the route, or `None` for a new one.
pub(super) fn edited_resource(
    kind: &'static str,
) -> Resource<Result<Option<crate::api::ResourceDetail>, ApiError>> {
    let params = use_params_map();
    let target = move || {
        let p = params.read();
        p.get("namespace").zip(p.get("name"))
    };
    Resource::new(target, move |t| async move {
        match t {
            Some((ns, name)) => data::detail(kind.into(), ns, name).await.map(Some),
            None => Ok(None),
        }
    })
}

/// Resources a form offers to pick from (kinds comma-separated).
pub(super) fn choices(kinds: &'static str) -> Resource<Result<crate::api::ResourceList, ApiError>> {
    Resource::new(
        || (),
        move |_| {
            data::list(ResourceQuery {
                kind: Some(kinds.into()),
                limit: Some(500),
                ..Default::default()
            })
        },
    )
}

/// What the cross-resource rules need of the repo, loaded once per form.
pub(super) fn validation_context() -> Resource<Result<validate::Environment, ApiError>> {
    Resource::new(|| (), |_| data::validation_context())
}

/// The issues of a form's document: its own rules, then the cross-resource rules against
/// `context` (the repo as it is), with the document in place of `original`.
pub(super) fn form_issues(
    kind: &str,
    own: Vec<Issue>,
    context: &validate::Environment,
    original: Option<&(String, String)>,
    doc: &Value,
) -> Vec<Issue> {
    let mut issues = own;
    issues.extend(validate::validate_in_context(
        context,
        kind,
        original.map(|(ns, name)| (ns.as_str(), name.as_str())),
        "default",
        doc,
    ));
    issues
}

#[component]
pub fn ApiEditPage() -> impl IntoView {
    let detail = edited_resource("ApiDefinition");
    let policies = choices("SecurityPolicy");
    let context = validation_context();
    let draft = super::draft::draft_resource();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                // A resumed draft's document; the draft may create an API the repo lacks.
                let resume = match resume_of(draft.get()?, "ApiDefinition") {
                    Err(error) => return Some(view! { <h1>"Edit API"</h1><ErrorBox error/> }.into_any()),
                    Ok(resume) => resume,
                };
                let names = |list: crate::api::ResourceList| list.items.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect::<Vec<_>>();
                let context = match context.get()? {
                    Ok(context) => context,
                    Err(error) => return Some(view! { <h1>"Edit API"</h1><ErrorBox error/> }.into_any()),
                };
                Some(match (detail.get()?, policies.get()?) {
                    (Err(error), Ok(policies)) if resume.is_some() && error.code == "not_found" => {
                        view! { <ApiForm original=None policies=names(policies) resume context/> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <h1>"Edit API"</h1><ErrorBox error/> }.into_any(),
                    (Ok(original), Ok(policies)) => {
                        view! { <ApiForm original=original.map(|d| d.document) policies=names(policies) resume context/> }.into_any()
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn ApiForm(
    original: Option<Value>,
    policies: Vec<String>,
    resume: Option<Resume>,
    context: validate::Environment,
) -> impl IntoView {
    let namespaces = context.namespaces();
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
    let replaces = resume.as_ref().and_then(|r| r.id);
    let doc = RwSignal::new(match &resume {
        Some(r) => r.doc.clone(),
        None => original.clone().unwrap_or_else(new_api),
    });
    let signed_in = crate::ui::signed_in();
    let form = FormState::provide();
    let in_repo = original_key.clone();
    // The repo with the change collected so far (Add to change).
    let context = crate::basket::use_basket().context(context);
    let issues = Memo::new(move |_| {
        doc.with(|d| {
            let own = validate::validate_api("form", d);
            context.with(|c| form_issues("ApiDefinition", own, c, in_repo.as_ref(), d))
        })
    });
    // The server's last answer is about the document as it was.
    Effect::new(move |_| {
        doc.track();
        form.edited();
    });
    let default_title = super::form::title_for(
        "ApiDefinition",
        resume.as_ref().map(|r| r.title.clone()),
        original_key.as_ref(),
        doc,
    );
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
    let edits = Callback::new(move |()| {
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
        json!([{"kind": "ApiDefinition", "namespace": ns, "name": name, "document": d}])
    });
    let mode = move || doc.with(auth_mode);
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <crate::ui::SignInNotice signed_in/>
        <form class="edit" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset>
                <legend>"Identity"</legend>
                <Text doc issues path=&["metadata", "name"] label="Resource name" placeholder="orders"/>
                <Text doc issues path=&["metadata", "namespace"] label="Namespace" placeholder="default" suggestions=namespaces.clone()/>
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
                <Check doc path=&["spec", "proxy", "enable_load_balancing"] label="Load-balance across several targets"/>
                {move || doc.with(|d| get(d, &["spec", "proxy", "enable_load_balancing"]).as_bool() == Some(true)).then(|| view! {
                    <Text doc issues path=&["spec", "proxy", "target_list"] label="Targets (comma-separated URLs)" list=true/>
                })}
            </fieldset>
            <fieldset>
                <legend>"Versions"</legend>
                <Versions doc issues/>
            </fieldset>
            <fieldset>
                <legend>"Authentication"</legend>
                <div class="radios" role="radiogroup" aria-label="Authentication mode">
                    {[("keyless", "Keyless (open)"), ("auth-token", "Auth token"), ("jwt", "JWT"), ("oauth2", "Tyk as OAuth2 provider"), ("basic", "Basic auth"), ("mtls", "Client mTLS")].map(|(value, label)| {
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
                {move || (mode() == "oauth2").then(|| view! {
                    <Text doc issues path=&["spec", "oauth_meta", "auth_login_redirect"] label="Login redirect URL" placeholder="https://login.example.com/"/>
                    <Text doc issues path=&["spec", "oauth_meta", "allowed_access_types"] label="Grant types (comma-separated)" list=true/>
                })}
                {move || (mode() == "mtls").then(|| view! {
                    <Text doc issues path=&["spec", "client_certificate_refs"] label="Client certificate Secrets (comma-separated)" list=true/>
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
                                <Messages id="jwt-default-policies-errors".into() issues field="spec.jwt_default_policies".into()/>
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
                <Text doc issues path=&["spec", "CORS", "allowed_methods"] label="Allowed methods (comma-separated)" list=true/>
                <Text doc issues path=&["spec", "CORS", "allowed_headers"] label="Allowed headers (comma-separated)" list=true/>
                <Check doc path=&["spec", "CORS", "allow_credentials"] label="Allow credentials"/>
                <Check doc path=&["spec", "enable_ip_whitelisting"] label="Only allow listed IPs"/>
                <Text doc issues path=&["spec", "allowed_ips"] label="Allowed IPs and CIDR ranges (comma-separated)" list=true/>
                <Check doc path=&["spec", "enable_ip_blacklisting"] label="Block listed IPs"/>
                <Text doc issues path=&["spec", "blacklisted_ips"] label="Blocked IPs and CIDR ranges (comma-separated)" list=true/>
            </fieldset>
            <ProposeBox edits issues default_title signed_in replaces/>
        </form>
    }
}
