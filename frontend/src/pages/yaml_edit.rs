//! The advanced editor: the resource's YAML as text, for every field the forms do not cover.
//! The server parses it (as kubectl would), validates it and applies it format-preservingly.
//! With `?draft={id}` it resumes a draft's edit of the resource, whatever form made it.

use super::changes::{DiffView, IssueList};
use super::draft::{draft_resource, edit_of, edit_text};
use super::propose::open_created;
use crate::api::{ApiError, ChangeView, CreateChangeRequest, EditRequest};
use crate::client::{self, Action};
use crate::data;
use crate::ui::{ErrorBox, SignInNotice, signed_in};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

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
    let draft = draft_resource();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let (kind, namespace, name) = key();
                Some(match (detail.get()?, draft.get()?) {
                    (_, Some(Err(error))) => view! { <h1>"Edit YAML"</h1><ErrorBox error/> }.into_any(),
                    (detail, Some(Ok(d))) => {
                        let current = detail.as_ref().ok().map(|d| &d.document);
                        match edit_of(&d, &kind, Some((namespace.as_str(), name.as_str()))).and_then(|e| edit_text(e, current)) {
                            Some(yaml) => view! {
                                <YamlForm kind namespace name yaml title=d.title.clone() replaces=(d.edits.len() == 1).then_some(d.id)/>
                            }.into_any(),
                            None => view! {
                                <h1>"Edit YAML"</h1>
                                <ErrorBox error=ApiError::new("not_found", format!("draft {} has no edit of {kind} {namespace}/{name} to resume", d.id))/>
                            }.into_any(),
                        }
                    }
                    (Err(error), None) => view! { <h1>"Edit YAML"</h1><ErrorBox error/> }.into_any(),
                    (Ok(d), None) => {
                        let title = crate::titles::change_title(crate::titles::Verb::Edit, &d.summary.kind, &d.summary.namespace, &d.summary.name);
                        view! { <YamlForm kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone() yaml=d.yaml.clone() title/> }.into_any()
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn YamlForm(
    kind: String,
    namespace: String,
    name: String,
    yaml: String,
    title: String,
    /// The draft this form resumes, discarded once the new change is open.
    #[prop(optional_no_strip)]
    replaces: Option<i64>,
) -> impl IntoView {
    let text = RwSignal::new(yaml);
    let title = RwSignal::new(title);
    let preview = RwSignal::new(None::<Result<ChangeView, ApiError>>);
    let error = RwSignal::new(None::<ApiError>);
    let (previewing, proposing) = (Action::new(), Action::new());
    let signed_in = signed_in();
    let signed_out = move || signed_in.get().flatten() != Some(true);
    let navigate = use_navigate();
    let heading = format!("Edit YAML of {kind} {namespace}/{name}");
    let request = move || CreateChangeRequest {
        title: title.get_untracked(),
        description: String::new(),
        edits: vec![EditRequest {
            kind: kind.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            document: None,
            merge_patch: None,
            yaml: Some(text.get_untracked()),
            delete: false,
        }],
    };
    let request2 = request.clone();
    view! {
        <Title text=heading.clone()/>
        <h1>{heading}</h1>
        <SignInNotice signed_in/>
        {replaces.map(|id| view! {
            <p class="notice" id="resuming">"Resuming draft " <a href=format!("/changes/{id}")>{format!("#{id}")}</a> ". Proposing it replaces the draft."</p>
        })}
        <p class="muted">"Every field is reachable here. Comments and layout outside the fields you change are kept."</p>
        <label for="yaml-text" class="sr-only">"YAML"</label>
        <textarea id="yaml-text" class="yaml-editor" rows="24" spellcheck="false" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        <div class="field">
            <label for="change-title">"Change title"</label>
            <input id="change-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
        </div>
        <div class="actions">
            <button type="button" id="preview" disabled=move || previewing.busy() || signed_out() on:click=move |_| {
                previewing.run(client::preview_change(&request()), move |answer| preview.set(Some(answer)));
            }>"Preview"</button>
            <button type="button" id="propose" class="primary" disabled=move || proposing.busy() || signed_out() on:click=move |_| {
                let navigate = navigate.clone();
                proposing.run(client::create_change(&request2()), move |answer| match answer {
                    Ok(created) => open_created(created.id, replaces, navigate),
                    Err(e) => error.set(Some(e)),
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
