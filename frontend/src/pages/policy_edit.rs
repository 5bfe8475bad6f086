//! The policy form: state, limits, quotas, throttling, key expiry, tags, metadata, and the APIs
//! it grants (picked from the existing ones) with versions, allowed URLs and per-API limits.

use super::api_edit::{
    Check, Messages, Text, choices, edited_resource, form_issues, get, set, validation_context,
};
use super::draft::{Resume, draft_resource, resume_of};
use super::form::{FormState, use_form};
use super::propose::ProposeBox;
use crate::ui::ErrorBox;
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::{Value, json};

fn new_policy() -> Value {
    json!({
        "apiVersion": "tyk.tyk.io/v1alpha1",
        "kind": "SecurityPolicy",
        "metadata": {"name": "", "namespace": "default"},
        "spec": {"name": "", "state": "active", "active": true, "access_rights_array": []}
    })
}

#[component]
pub fn PolicyEditPage() -> impl IntoView {
    let detail = edited_resource("SecurityPolicy");
    let apis = choices("ApiDefinition,TykOasApiDefinition");
    let context = validation_context();
    let draft = draft_resource();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                // A resumed draft's document; the draft may create a policy the repo lacks.
                let resume = match resume_of(draft.get()?, "SecurityPolicy") {
                    Err(error) => return Some(view! { <h1>"Edit policy"</h1><ErrorBox error/> }.into_any()),
                    Ok(resume) => resume,
                };
                let choices = |list: crate::api::ResourceList| list.items.iter().map(|a| (a.kind.clone(), a.namespace.clone(), a.name.clone())).collect::<Vec<_>>();
                let context = match context.get()? {
                    Ok(context) => context,
                    Err(error) => return Some(view! { <h1>"Edit policy"</h1><ErrorBox error/> }.into_any()),
                };
                Some(match (detail.get()?, apis.get()?) {
                    (Err(e), Ok(apis)) if resume.is_some() && e.code == "not_found" => {
                        view! { <PolicyForm original=None apis=choices(apis) resume context/> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <h1>"Edit policy"</h1><ErrorBox error/> }.into_any(),
                    (Ok(original), Ok(apis)) => {
                        view! { <PolicyForm original=original.map(|d| d.document) apis=choices(apis) resume context/> }.into_any()
                    }
                })
            }}
        </Transition>
    }
}

/// `GET,POST /path` per line ↔ `allowed_urls`.
fn urls_text(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|u| {
                    let methods: Vec<&str> = u["methods"]
                        .as_array()
                        .map(|m| m.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!(
                        "{} {}",
                        methods.join(","),
                        u["url"].as_str().unwrap_or_default()
                    )
                    .trim()
                    .to_owned()
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn text_urls(text: &str) -> Option<Value> {
    let items: Vec<Value> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(' ') {
            Some((methods, url)) if methods.chars().all(|c| c.is_ascii_uppercase() || c == ',') => {
                json!({"url": url.trim(), "methods": methods.split(',').filter(|m| !m.is_empty()).collect::<Vec<_>>()})
            }
            _ => json!({"url": l, "methods": []}),
        })
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// `tier=gold, team=a` ↔ `meta_data`.
fn meta_text(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn text_meta(text: &str) -> Option<Value> {
    let map: serde_json::Map<String, Value> = text
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned())))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

fn right_path(i: usize, key: &str) -> [String; 4] {
    [
        "spec".into(),
        "access_rights_array".into(),
        i.to_string(),
        key.into(),
    ]
}

fn get_at(doc: &Value, path: &[String]) -> Value {
    path.iter()
        .fold(doc, |n, k| match n {
            Value::Array(a) => k
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&Value::Null),
            _ => n.get(k.as_str()).unwrap_or(&Value::Null),
        })
        .clone()
}

fn set_right(doc: &mut Value, i: usize, key: &str, value: Option<Value>) {
    if let Some(right) = doc["spec"]["access_rights_array"]
        .get_mut(i)
        .and_then(Value::as_object_mut)
    {
        match value {
            Some(v) => {
                right.insert(key.to_owned(), v);
            }
            None => {
                right.remove(key);
            }
        }
    }
}

#[component]
fn PolicyForm(
    original: Option<Value>,
    apis: Vec<(String, String, String)>,
    resume: Option<Resume>,
    context: validate::Environment,
) -> impl IntoView {
    let namespaces = context.namespaces();
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
    let resume_title = resume.as_ref().map(|r| r.title.clone());
    let doc = RwSignal::new(match resume {
        Some(r) => r.doc,
        None => original.unwrap_or_else(new_policy),
    });
    let default_title =
        super::form::title_for("SecurityPolicy", resume_title, original_key.as_ref(), doc);
    let signed_in = crate::ui::signed_in();
    let form = FormState::provide();
    let in_repo = original_key.clone();
    // The repo with the change collected so far (Add to change), and its APIs to grant.
    let basket = crate::basket::use_basket();
    let context = basket.context(context);
    let in_repo_apis = apis.clone();
    let collected = Memo::new(move |_| {
        basket.with(|b| {
            b.apis()
                .into_iter()
                .map(|a| (a.kind, a.namespace, a.name))
                .filter(|a| !in_repo_apis.contains(a))
                .collect::<Vec<_>>()
        })
    });
    let issues = Memo::new(move |_| {
        doc.with(|d| {
            let own = validate::validate_policy("form", d);
            context.with(|c| form_issues("SecurityPolicy", own, c, in_repo.as_ref(), d))
        })
    });
    // The server's last answer is about the document as it was.
    Effect::new(move |_| {
        doc.track();
        form.edited();
    });
    let heading = match &original_key {
        Some((ns, n)) => format!("Edit policy {ns}/{n}"),
        None => "Add a policy".to_owned(),
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
        json!([{"kind": "SecurityPolicy", "namespace": ns, "name": name, "document": d}])
    });
    let count = Memo::new(move |_| {
        doc.with(|d| {
            d["spec"]["access_rights_array"]
                .as_array()
                .map_or(0, Vec::len)
        })
    });
    let add_right = move |_| {
        doc.update(|d| {
            let ns = d["metadata"]["namespace"].as_str().unwrap_or("default").to_owned();
            if !d["spec"]["access_rights_array"].is_array() {
                set(d, &["spec", "access_rights_array"], Some(json!([])));
            }
            if let Some(list) = d["spec"]["access_rights_array"].as_array_mut() {
                list.push(json!({"name": "", "namespace": ns, "kind": "ApiDefinition", "versions": ["Default"]}));
            }
        });
    };
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <crate::ui::SignInNotice signed_in/>
        <form class="edit" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset>
                <legend>"Identity and state"</legend>
                <Text doc issues path=&["metadata", "name"] label="Resource name" placeholder="gold"/>
                <Text doc issues path=&["metadata", "namespace"] label="Namespace" placeholder="default" suggestions=namespaces.clone()/>
                <Text doc issues path=&["spec", "name"] label="Display name" placeholder="Gold plan"/>
                <div class="field">
                    <label for="spec-state">"State"</label>
                    <select id="spec-state" prop:value=move || doc.with(|d| get(d, &["spec", "state"]).as_str().unwrap_or("active").to_owned())
                        on:change=move |ev| { let v = event_target_value(&ev); doc.update(|d| set(d, &["spec", "state"], Some(Value::String(v)))); }>
                        <option value="active">"active: keys work, new keys can be issued"</option>
                        <option value="draft">"draft: existing keys work, no new keys"</option>
                        <option value="deny">"deny: every key is refused"</option>
                    </select>
                    <Messages id="spec-state-errors".into() issues field="spec.state".into()/>
                </div>
                <Check doc path=&["spec", "active"] label="Active (loaded by Tyk)"/>
                <Text doc issues path=&["spec", "tags"] label="Tags (comma-separated)" list=true/>
                <div class="field">
                    <label for="spec-meta_data">"Metadata (key=value, comma-separated)"</label>
                    <input id="spec-meta_data" type="text"
                        prop:value=move || doc.with(|d| meta_text(&get(d, &["spec", "meta_data"])))
                        on:change=move |ev| { let t = event_target_value(&ev); doc.update(|d| set(d, &["spec", "meta_data"], text_meta(&t))); }/>
                </div>
            </fieldset>
            <fieldset>
                <legend>"Limits"</legend>
                <Text doc issues path=&["spec", "rate"] label="Rate: requests (-1 unlimited)" number=true/>
                <Text doc issues path=&["spec", "per"] label="Rate: per seconds" number=true/>
                <Text doc issues path=&["spec", "quota_max"] label="Quota: requests (-1 unlimited)" number=true/>
                <Text doc issues path=&["spec", "quota_renewal_rate"] label="Quota: renews every seconds" number=true/>
                <Text doc issues path=&["spec", "throttle_interval"] label="Throttle: retry every seconds" number=true/>
                <Text doc issues path=&["spec", "throttle_retry_limit"] label="Throttle: retries" number=true/>
                <Text doc issues path=&["spec", "key_expires_in"] label="Keys expire after seconds (0 never)" number=true/>
            </fieldset>
            <fieldset>
                <legend>"APIs granted"</legend>
                <For each=move || 0..count.get() key=|i| *i let:i>
                    <AccessRight doc issues apis=apis.clone() collected i/>
                </For>
                <button type="button" id="add-right" on:click=add_right>"Grant another API"</button>
            </fieldset>
            <ProposeBox edits issues default_title signed_in replaces/>
        </form>
    }
}

#[component]
fn AccessRight(
    doc: RwSignal<Value>,
    issues: Memo<Vec<Issue>>,
    apis: Vec<(String, String, String)>,
    collected: Memo<Vec<(String, String, String)>>,
    i: usize,
) -> impl IntoView {
    let selected = move || {
        doc.with(|d| {
            let r = &d["spec"]["access_rights_array"][i];
            format!(
                "{}/{}/{}",
                r["kind"].as_str().unwrap_or("ApiDefinition"),
                r["namespace"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default()
            )
        })
    };
    let id = format!("right-{i}");
    let field = format!("spec.access_rights_array[{i}]");
    let form = use_form();
    let touched = field.clone();
    view! {
        <div class="access-right" role="group" aria-label=format!("Granted API {}", i + 1)>
            <div class="field">
                <label for=format!("{id}-api")>"API"</label>
                <select id=format!("{id}-api") prop:value=selected on:change=move |ev| {
                    if let Some(form) = form {
                        form.touch(&touched);
                    }
                    let v = event_target_value(&ev);
                    let mut parts = v.splitn(3, '/');
                    let (kind, ns, name) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
                    doc.update(|d| {
                        set_right(d, i, "kind", Some(Value::String(kind)));
                        set_right(d, i, "namespace", Some(Value::String(ns)));
                        set_right(d, i, "name", Some(Value::String(name)));
                    });
                }>
                    <option value="ApiDefinition//">"Choose an API…"</option>
                    {apis.into_iter().map(|(k, ns, n)| {
                        let value = format!("{k}/{ns}/{n}");
                        let label = if k == "TykOasApiDefinition" { format!("{ns}/{n} (OAS)") } else { format!("{ns}/{n}") };
                        view! { <option value=value>{label}</option> }
                    }).collect_view()}
                    // The APIs of the collected change, known once the app runs in the browser:
                    // selected by their own flag, as they come after the select's value.
                    {move || collected.get().into_iter().map(|(k, ns, n)| {
                        let value = format!("{k}/{ns}/{n}");
                        let label = if k == "TykOasApiDefinition" { format!("{ns}/{n} (OAS, in your change)") } else { format!("{ns}/{n} (in your change)") };
                        let this = value.clone();
                        view! { <option value=value prop:selected=move || selected() == this>{label}</option> }
                    }).collect_view()}
                </select>
                <Messages id=format!("{id}-errors") issues field=field/>
            </div>
            <div class="field">
                <label for=format!("{id}-versions")>"Versions (comma-separated)"</label>
                <input id=format!("{id}-versions") type="text"
                    prop:value=move || doc.with(|d| get_at(d, &right_path(i, "versions")).as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default())
                    on:input=move |ev| {
                        let list: Vec<Value> = event_target_value(&ev).split(',').map(str::trim).filter(|v| !v.is_empty()).map(|v| Value::String(v.to_owned())).collect();
                        doc.update(|d| set_right(d, i, "versions", (!list.is_empty()).then_some(Value::Array(list))));
                    }/>
            </div>
            <div class="field">
                <label for=format!("{id}-urls")>"Allowed URLs (one per line: GET,POST /path)"</label>
                <textarea id=format!("{id}-urls") rows="2"
                    prop:value=move || doc.with(|d| urls_text(&get_at(d, &right_path(i, "allowed_urls"))))
                    on:change=move |ev| { let t = event_target_value(&ev); doc.update(|d| set_right(d, i, "allowed_urls", text_urls(&t))); }></textarea>
            </div>
            <div class="field">
                <label for=format!("{id}-rate")>"Per-API rate (requests per 60 s; empty: the policy's)"</label>
                <input id=format!("{id}-rate") type="number"
                    prop:value=move || doc.with(|d| get_at(d, &right_path(i, "limit")).get("rate").map(Value::to_string).unwrap_or_default())
                    on:input=move |ev| {
                        let v = event_target_value(&ev).trim().parse::<i64>().ok();
                        doc.update(|d| set_right(d, i, "limit", v.map(|rate| json!({"rate": rate, "per": 60, "quota_max": -1, "quota_renewal_rate": -1, "throttle_interval": -1, "throttle_retry_limit": -1}))));
                    }/>
            </div>
            <button type="button" class="link-danger" on:click=move |_| doc.update(|d| {
                if let Some(list) = d["spec"]["access_rights_array"].as_array_mut().filter(|l| i < l.len()) {
                    list.remove(i);
                }
            })>"Remove this grant"</button>
        </div>
    }
}
