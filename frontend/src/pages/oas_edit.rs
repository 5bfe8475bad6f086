//! The OAS API form: the `TykOasApiDefinition` and, inside the OAS document its ConfigMap holds,
//! the name, state, listen path, upstream and authentication. Both objects change in one commit;
//! the JSON document keeps its indentation, so the diff shows only the changed lines.

use super::api_edit::{Messages, Text, get, set};
use super::form::FormState;
use super::propose::ProposeBox;
use crate::data;
use crate::ui::ErrorBox;
use crate::validate;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::Serialize;
use serde_json::{Value, json};

/// JSON text with the indentation of `original` (2 spaces if unknown) and its final newline.
fn json_like(value: &Value, original: &str) -> String {
    let indent = original
        .lines()
        .nth(1)
        .map(|l| l.len() - l.trim_start().len())
        .filter(|n| (1..=8).contains(n))
        .unwrap_or(2);
    let pad = " ".repeat(indent);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes()),
    );
    if value.serialize(&mut ser).is_err() {
        return value.to_string();
    }
    let mut text = String::from_utf8(out).unwrap_or_default();
    if original.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn oas_template(name: &str) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": name, "version": "1.0.0"},
        "paths": {},
        "x-tyk-api-gateway": {
            "info": {"name": name, "state": {"active": true}},
            "upstream": {"url": ""},
            "server": {"listenPath": {"value": "/", "strip": true}, "authentication": {"enabled": false}}
        }
    })
}

#[component]
pub fn OasEditPage() -> impl IntoView {
    let params = use_params_map();
    let target = move || {
        let p = params.read();
        p.get("namespace").zip(p.get("name"))
    };
    let loaded = Resource::new(target, |t| async move {
        let Some((ns, name)) = t else { return Ok(None) };
        let cr = data::detail("TykOasApiDefinition".into(), ns.clone(), name)
            .await?
            .document;
        let cm_ref = &cr["spec"]["tykOAS"]["configmapRef"];
        let cm_ns = cm_ref["namespace"].as_str().unwrap_or(&ns).to_owned();
        let cm_name = cm_ref["name"].as_str().unwrap_or_default().to_owned();
        let cm = data::detail("ConfigMap".into(), cm_ns, cm_name)
            .await?
            .document;
        Ok::<_, crate::api::ApiError>(Some((cr, cm)))
    });
    let context = super::api_edit::validation_context();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Some(match (loaded.get()?, context.get()?) {
                (Err(error), _) | (_, Err(error)) => view! { <h1>"Edit OAS API"</h1><ErrorBox error/> }.into_any(),
                (Ok(original), Ok(context)) => view! { <OasForm original context/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn OasForm(original: Option<(Value, Value)>, context: validate::Environment) -> impl IntoView {
    let namespaces = context.namespaces();
    let is_new = original.is_none();
    let (cr0, cm0) = original.unwrap_or_else(|| {
        let cr = json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "TykOasApiDefinition",
            "metadata": {"name": "", "namespace": "default"},
            "spec": {"tykOAS": {"configmapRef": {"name": "", "namespace": "default", "keyName": "oas.json"}}}});
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "", "namespace": "default"},
            "data": {"oas.json": json_like(&oas_template(""), "{\n  \"\n}\n")}});
        (cr, cm)
    });
    let key_name = cr0["spec"]["tykOAS"]["configmapRef"]["keyName"]
        .as_str()
        .unwrap_or("oas.json")
        .to_owned();
    let original_text = cm0["data"][&key_name]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let oas0: Value = serde_json::from_str(&original_text).unwrap_or_else(|_| oas_template(""));
    let cr_key = (
        cr0["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned(),
        cr0["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let cm_key = (
        cm0["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned(),
        cm0["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let cr = RwSignal::new(cr0);
    let oas = RwSignal::new(oas0.clone());
    let cm = StoredValue::new(cm0);
    let signed_in = crate::ui::signed_in();
    let form = FormState::provide();
    let in_repo = (!is_new).then(|| cr_key.clone());
    // The repo with the change collected so far (Add to change).
    let context = crate::basket::use_basket().context(context);
    let issues = Memo::new(move |_| {
        let c = cr.get();
        oas.with(|o| {
            let mut issues = validate::validate_oas("form", &c, Some(o));
            let original = in_repo.as_ref().map(|(ns, n)| (ns.as_str(), n.as_str()));
            issues
                .extend(context.with(|env| {
                    validate::validate_oas_in_context(env, original, "default", &c, o)
                }));
            issues
        })
    });
    // The server's last answer is about the documents as they were.
    Effect::new(move |_| {
        cr.track();
        oas.track();
        form.edited();
    });
    let heading = if is_new {
        "Add an OAS API".to_owned()
    } else {
        format!("Edit OAS API {}/{}", cr_key.0, cr_key.1)
    };
    let default_title = super::form::title_for(
        "TykOasApiDefinition",
        None,
        (!is_new).then_some(&cr_key),
        cr,
    );
    let edits = Callback::new(move |()| {
        let c = cr.get_untracked();
        let mut m = cm.get_value();
        let o = oas.get_untracked();
        let unchanged = o == oas0;
        let text = if unchanged {
            original_text.clone()
        } else {
            json_like(&o, &original_text)
        };
        let (ns, name) = if is_new {
            (
                c["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned(),
                c["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        } else {
            cr_key.clone()
        };
        let (cm_ns, cm_name) = if is_new {
            (ns.clone(), format!("{name}-oas"))
        } else {
            cm_key.clone()
        };
        let mut c = c;
        if is_new {
            set(
                &mut c,
                &["spec", "tykOAS", "configmapRef", "name"],
                Some(Value::String(cm_name.clone())),
            );
            set(
                &mut c,
                &["spec", "tykOAS", "configmapRef", "namespace"],
                Some(Value::String(cm_ns.clone())),
            );
            set(
                &mut m,
                &["metadata", "name"],
                Some(Value::String(cm_name.clone())),
            );
            set(
                &mut m,
                &["metadata", "namespace"],
                Some(Value::String(cm_ns.clone())),
            );
        }
        let key = c["spec"]["tykOAS"]["configmapRef"]["keyName"]
            .as_str()
            .unwrap_or("oas.json")
            .to_owned();
        if let Some(data) = m.get_mut("data").and_then(Value::as_object_mut) {
            data.insert(key, Value::String(text));
        }
        json!([
            {"kind": "ConfigMap", "namespace": cm_ns, "name": cm_name, "document": m},
            {"kind": "TykOasApiDefinition", "namespace": ns, "name": name, "document": c}
        ])
    });
    let gw = |path: &'static [&'static str]| -> Vec<&'static str> {
        [&["x-tyk-api-gateway"][..], path].concat()
    };
    let text_field = move |path: &'static [&'static str],
                           id: &'static str,
                           label: &'static str,
                           placeholder: &'static str| {
        let full = gw(path);
        let full2 = full.clone();
        let field = full.join(".");
        let (touched, touched2) = (field.clone(), field.clone());
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id type="text" placeholder=placeholder
                    prop:value=move || oas.with(|o| get(o, &full).as_str().unwrap_or_default().to_owned())
                    on:blur=move |_| form.touch(&touched)
                    on:input=move |ev| { form.touch(&touched2); let v = event_target_value(&ev); oas.update(|o| set(o, &full2, Some(Value::String(v)))); }/>
                <Messages id=format!("{id}-errors") issues field/>
            </div>
        }
    };
    let check_field = move |path: &'static [&'static str],
                            id: &'static str,
                            label: &'static str| {
        let full = gw(path);
        let full2 = full.clone();
        view! {
            <div class="field check">
                <input id=id type="checkbox" prop:checked=move || oas.with(|o| get(o, &full).as_bool() == Some(true))
                    on:change=move |ev| { let on = event_target_checked(&ev); oas.update(|o| set(o, &full2, Some(Value::Bool(on)))); }/>
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <crate::ui::SignInNotice signed_in/>
        <form class="edit" on:submit=|ev| ev.prevent_default() novalidate>
            <fieldset>
                <legend>"Resource"</legend>
                <Text doc=cr issues path=&["metadata", "name"] label="Resource name" placeholder="pet-store"/>
                <Text doc=cr issues path=&["metadata", "namespace"] label="Namespace" placeholder="default" suggestions=namespaces.clone()/>
                <Text doc=cr issues path=&["spec", "categories"] label="Categories (comma-separated)" list=true/>
            </fieldset>
            <fieldset>
                <legend>"Gateway (in the OAS document)"</legend>
                {text_field(&["info", "name"], "oas-name", "API name", "Pet Store")}
                {check_field(&["info", "state", "active"], "oas-active", "Active")}
                {text_field(&["server", "listenPath", "value"], "oas-listen-path", "Listen path", "/pets/")}
                {check_field(&["server", "listenPath", "strip"], "oas-strip", "Strip the listen path")}
                {text_field(&["upstream", "url"], "oas-upstream", "Upstream URL", "http://pets.default.svc:8080")}
                {check_field(&["server", "authentication", "enabled"], "oas-auth", "Require authentication")}
            </fieldset>
            <ProposeBox edits issues default_title signed_in/>
        </form>
    }
}
