//! The advanced editor: the resource's YAML as text, for every field the forms do not cover.
//! The server parses it (as kubectl would), validates it and applies it format-preservingly.
//! With `?draft={id}` it resumes a draft's edit of the resource, whatever form made it.
//!
//! The textarea works without JavaScript; once hydrated, `/pkg/yaml-editor.js` (CodeMirror,
//! loaded by this page only) puts an editor over it: it writes the text back to the textarea
//! and the parsed document to `#yaml-json`, and shows the issues this page finds with the
//! forms' rules (`data-issues`) at their lines, and a diff against `data-original`.

use super::changes::{DiffView, IssueList};
use super::draft::{draft_resource, edit_of, edit_text};
use super::propose::open_created;
use crate::api::{ApiError, ChangeView, CreateChangeRequest, EditRequest};
use crate::client::{self, Action};
use crate::data;
use crate::ui::{ErrorBox, SignInNotice, signed_in};
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

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
                        let original = detail.as_ref().ok().map(|d| d.yaml.clone());
                        match edit_of(&d, &kind, Some((namespace.as_str(), name.as_str()))).and_then(|e| edit_text(e, current)) {
                            Some(yaml) => view! {
                                <YamlForm kind namespace name yaml original title=d.title.clone() replaces=(d.edits.len() == 1).then_some(d.id)/>
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
                        view! { <YamlForm kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone() yaml=d.yaml.clone() original=Some(d.yaml.clone()) title/> }.into_any()
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
    /// The resource's YAML in the repo, for the editor's diff.
    original: Option<String>,
    title: String,
    /// The draft this form resumes, discarded once the new change is open.
    #[prop(optional_no_strip)]
    replaces: Option<i64>,
) -> impl IntoView {
    // The server renders the text inside the textarea too: it works without JavaScript.
    let initial = yaml.clone();
    let text = RwSignal::new(yaml);
    let title = RwSignal::new(title);
    let preview = RwSignal::new(None::<Result<ChangeView, ApiError>>);
    let error = RwSignal::new(None::<ApiError>);
    let (previewing, proposing) = (Action::new(), Action::new());
    let signed_in = signed_in();
    let signed_out = move || signed_in.get().flatten() != Some(true);
    let navigate = use_navigate();
    let heading = format!("Edit YAML of {kind} {namespace}/{name}");
    // The editor's parsed document (`null` while the YAML does not parse) and the issues the
    // forms' rules find in it, against the repo once its context has loaded.
    let parsed = RwSignal::new(None::<Value>);
    let context = LocalResource::new(data::validation_context);
    let in_repo = (namespace.clone(), name.clone());
    let rules_kind = kind.clone();
    let issues = Memo::new(move |_| {
        parsed.with(|doc| {
            let Some(doc) = doc else { return Vec::new() };
            let context = context.get().and_then(Result::ok);
            yaml_issues(&rules_kind, doc, context.as_ref(), &in_repo)
        })
    });
    // Set once the textarea is hydrated (its value set): the editor attaches then, not to the
    // server's inert markup.
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        if textarea.get().is_some() {
            hydrated.set(true);
        }
    });
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
        <div class="yaml-editor-host">
            <textarea node_ref=textarea id="yaml-text" class="yaml-editor" rows="24" spellcheck="false" data-yaml-editor="" data-original=original
                data-ready=move || hydrated.get().then_some("")
                data-issues=move || issues.with(|i| serde_json::to_string(i).unwrap_or_default())
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))>{initial}</textarea>
            <input type="hidden" id="yaml-json" on:input=move |ev| parsed.set(serde_json::from_str(&event_target_value(&ev)).ok().filter(|v: &Value| !v.is_null()))/>
        </div>
        <script type="module" src=crate::editor_script()></script>
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

/// The forms' rules for a document of `kind` edited as YAML: its own rules, then the
/// cross-resource ones against `context` (the repo), the document replacing `in_repo`.
fn yaml_issues(
    kind: &str,
    doc: &Value,
    context: Option<&validate::Environment>,
    in_repo: &(String, String),
) -> Vec<Issue> {
    let mut issues = match kind {
        "ApiDefinition" => validate::validate_api("yaml", doc),
        "SecurityPolicy" => validate::validate_policy("yaml", doc),
        // The OAS document lives in its ConfigMap, not in this text: the CR's own rules only
        // (the OAS form checks both, and the server every proposal).
        "TykOasApiDefinition" => {
            let mut issues = validate::validate_oas("yaml", doc, None);
            issues.retain(|i| i.code != "missing_configmap");
            return issues;
        }
        _ => return Vec::new(),
    };
    if let Some(context) = context {
        issues.extend(validate::validate_in_context(
            context,
            kind,
            Some((in_repo.0.as_str(), in_repo.1.as_str())),
            in_repo.0.as_str(),
            doc,
        ));
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(name: &str, listen_path: &str) -> Value {
        json!({
            "apiVersion": "tyk.tyk.io/v1alpha1",
            "kind": "ApiDefinition",
            "metadata": {"name": name, "namespace": "payments"},
            "spec": {
                "name": name, "protocol": "http", "active": true, "use_keyless": true,
                "proxy": {"listen_path": listen_path, "target_url": "http://a.svc:8080"}
            }
        })
    }

    fn codes(issues: &[Issue]) -> Vec<(&str, &str)> {
        issues
            .iter()
            .map(|i| (i.field.as_str(), i.code.as_str()))
            .collect()
    }

    #[test]
    fn the_forms_rules_run_on_the_yaml_document() {
        let key = ("payments".to_owned(), "refunds".to_owned());
        let mut doc = api("refunds", "/refunds/");
        assert_eq!(yaml_issues("ApiDefinition", &doc, None, &key), []);
        doc["spec"]["use_standard_auth"] = json!(true);
        let issues = yaml_issues("ApiDefinition", &doc, None, &key);
        assert!(codes(&issues).contains(&("spec.use_keyless", "auth_exclusive")));
        assert_eq!(yaml_issues("ConfigMap", &doc, None, &key), []);
        let oas = json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "TykOasApiDefinition",
            "metadata": {"name": "orders", "namespace": "payments"},
            "spec": {"tykOAS": {"configmapRef": {"name": "orders-oas", "keyName": "oas.json"}}}});
        assert_eq!(yaml_issues("TykOasApiDefinition", &oas, None, &key), []);
    }

    #[test]
    fn a_listen_path_another_api_uses_is_flagged_at_the_listen_path() {
        let key = ("payments".to_owned(), "refunds".to_owned());
        let mut context = validate::Environment::default();
        let other = api("invoices", "/invoices/");
        context.add("ApiDefinition", "payments", "invoices", &other);
        let own = api("refunds", "/refunds/");
        context.add("ApiDefinition", "payments", "refunds", &own);
        assert_eq!(yaml_issues("ApiDefinition", &own, Some(&context), &key), []);
        let taken = api("refunds", "/invoices/");
        let issues = yaml_issues("ApiDefinition", &taken, Some(&context), &key);
        assert_eq!(
            codes(&issues),
            [("spec.proxy.listen_path", "listen_path_taken")]
        );
    }
}
