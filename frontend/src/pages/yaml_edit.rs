//! The advanced editor: the resource's YAML as text, for every field the forms do not cover.
//! The server parses it (as kubectl would), validates it and applies it format-preservingly.

use super::changes::{DiffView, IssueList};
use crate::api::{ApiError, ChangeView, CreatedChange};
use crate::data;
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::json;

#[component]
pub fn YamlEditPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("kind").unwrap_or_default(),
            p.get("namespace").unwrap_or_default(),
            p.get("name").unwrap_or_default(),
        )
    };
    let detail = Resource::new(key, |(k, ns, n)| data::detail(k, ns, n));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(error) => view! { <h1>"Edit YAML"</h1><ErrorBox error/> }.into_any(),
                Ok(d) => view! { <YamlForm kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone() yaml=d.yaml.clone()/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn YamlForm(kind: String, namespace: String, name: String, yaml: String) -> impl IntoView {
    let text = RwSignal::new(yaml);
    let title = RwSignal::new(format!("Update {namespace}/{name}"));
    let preview = RwSignal::new(None::<Result<ChangeView, ApiError>>);
    let error = RwSignal::new(None::<ApiError>);
    let navigate = use_navigate();
    let heading = format!("Edit YAML of {kind} {namespace}/{name}");
    let body = move || json!({"title": title.get_untracked(), "edits": [{"kind": kind, "namespace": namespace, "name": name, "yaml": text.get_untracked()}]});
    let body2 = body.clone();
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <p class="muted">"Every field is reachable here. Comments and layout outside the fields you change are kept."</p>
        <label for="yaml-text" class="sr-only">"YAML"</label>
        <textarea id="yaml-text" class="yaml-editor" rows="24" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        <div class="field">
            <label for="change-title">"Change title"</label>
            <input id="change-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
        </div>
        <div class="actions">
            <button type="button" id="preview" on:click=move |_| {
                let b = body();
                leptos::task::spawn_local(async move { preview.set(Some(data::post_json::<ChangeView>("/api/v1/changes/preview", &b, None).await)); });
            }>"Preview"</button>
            <button type="button" id="propose" class="primary" on:click=move |_| {
                let b = body2();
                let navigate = navigate.clone();
                leptos::task::spawn_local(async move {
                    match data::post_json::<CreatedChange>("/api/v1/changes", &b, None).await {
                        Ok(c) => navigate(&format!("/changes/{}", c.id), Default::default()),
                        Err(e) => error.set(Some(e)),
                    }
                });
            }>"Propose change"</button>
        </div>
        {move || error.get().map(|error| view! { <ErrorBox error/> })}
        {move || preview.get().map(|p| match p {
            Err(error) => view! { <ErrorBox error/> }.into_any(),
            Ok(v) => view! { <h2>"Preview"</h2><IssueList issues=v.issues.clone()/><DiffView files=v.files.clone()/> }.into_any(),
        })}
    }
}
