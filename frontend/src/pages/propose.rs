//! Proposing from a form: the change title, the validation status, *Preview* and *Propose*,
//! shared by every edit form; and what happens once a change is open.

use super::changes::{DiffView, IssueList};
use super::form::{server_issues, use_form};
use crate::api::{ApiError, ChangeView, CreateChangeRequest};
use crate::client::{self, Action};
use crate::ui::ErrorBox;
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde_json::Value;

/// Title, validation status, Preview, Propose and *Add to change*: shared by every form. `edits`
/// gives the edits to send (a JSON array of `EditRequest`). Proposing needs a sign-in
/// (`signed_in`); a form resumed from a draft (`replaces`) discards that draft once the new
/// change is open. On `/changes/new` (`collected`) it proposes the collected change: no
/// *Add to change*, and the collection is emptied once the change is open.
#[component]
pub(super) fn ProposeBox(
    edits: Callback<(), Value>,
    issues: Memo<Vec<Issue>>,
    /// Follows the form (it names the resource being added) until the title is typed in.
    #[prop(into)]
    default_title: Signal<String>,
    signed_in: Resource<Option<bool>>,
    #[prop(optional_no_strip)] replaces: Option<i64>,
    #[prop(optional)] collected: bool,
) -> impl IntoView {
    let basket = crate::basket::use_basket();
    let added = RwSignal::new(false);
    let typed = RwSignal::new(None::<String>);
    let title = Signal::derive(move || typed.get().unwrap_or_else(|| default_title.get()));
    let preview = RwSignal::new(None::<Result<ChangeView, ApiError>>);
    let failed = RwSignal::new(None::<ApiError>);
    let (previewing, proposing) = (Action::new(), Action::new());
    let navigate = use_navigate();
    let request = move || CreateChangeRequest {
        title: title.get_untracked(),
        description: String::new(),
        edits: serde_json::from_value(edits.run(())).unwrap_or_default(),
    };
    // What the server answers goes to the fields it names, too (the form shows it there).
    let form = use_form();
    let answer = move |issues: Vec<Issue>| {
        if let Some(form) = form {
            form.answer(issues);
        }
    };
    // A preview or a refusal is about the document as it was: an edit puts it away (on
    // `/changes/new`, a change of the collection).
    if form.is_some() || collected {
        Effect::new(move |_| {
            if let Some(form) = form {
                form.revision();
            } else {
                basket.len();
            }
            if added.get_untracked() {
                added.set(false);
            }
            if preview.with_untracked(Option::is_some) {
                preview.set(None);
            }
            if failed.with_untracked(Option::is_some) {
                failed.set(None);
            }
        });
    }
    let on_preview = move |_| {
        if let Some(form) = form {
            form.attempt();
        }
        previewing.run(client::preview_change(&request()), move |reply| {
            answer(match &reply {
                Ok(view) => view.issues.clone(),
                Err(e) => server_issues(e),
            });
            preview.set(Some(reply));
        });
    };
    let on_propose = move |_| {
        if let Some(form) = form {
            form.attempt();
        }
        let navigate = navigate.clone();
        proposing.run(
            client::create_change(&request()),
            move |reply| match reply {
                Ok(created) => {
                    if collected {
                        basket.update(|b| *b = Default::default());
                    }
                    open_created(created.id, replaces, navigate);
                }
                Err(e) => {
                    answer(server_issues(&e));
                    failed.set(Some(e));
                }
            },
        );
    };
    let errors = move || match form {
        Some(form) => issues.with(|i| form.errors(i)),
        None => issues.with(|i| {
            i.iter()
                .filter(|i| i.severity == validate::Severity::Error)
                .count()
        }),
    };
    // Collected edits are this form's too: the same resource's earlier edit is replaced.
    let on_add = move |_| {
        if let Some(form) = form {
            form.attempt();
        }
        if untrack(errors) > 0 {
            return;
        }
        let edits = serde_json::from_value(edits.run(())).unwrap_or_default();
        basket.update(|b| b.put(edits));
        added.set(true);
    };
    let collection = move || {
        let n = basket.len();
        let held = if n == 1 {
            "1 edit".to_owned()
        } else {
            format!("{n} edits")
        };
        (!collected && n > 0).then(|| {
            if added.get() {
                view! {
                    {format!("Added to your change, which holds {held}. ")}
                    <a href="/changes/new">"Review and propose it"</a>
                }
                .into_any()
            } else {
                view! {
                    {format!("Your change holds {held}: Add to change puts this form's edit with them, Propose change sends this form alone. ")}
                    <a href="/changes/new">"Review your change"</a>
                }
                .into_any()
            }
        })
    };
    // Required fields not touched yet say nothing at the field: the status says why.
    let waiting = move || form.is_some_and(|form| issues.with(|i| form.waiting(i)));
    let signed_out = move || signed_in.get().flatten() != Some(true);
    // A signed-in viewer may not propose: the buttons say so rather than fail (the server
    // checks too, and names the namespace's owners to a non-owner).
    let session = Resource::new(|| (), |_| crate::data::session());
    let role_refusal = move || {
        session
            .get()
            .and_then(Result::ok)
            .filter(|s| s.user.is_some() && !s.at_least(crate::api::Role::Editor))
            .map(|s| {
                format!(
                    "Your role ({}) may not propose changes.",
                    s.role.map_or("none", crate::api::Role::as_str)
                )
            })
    };
    let refused = move || role_refusal().is_some();
    view! {
        <fieldset>
            <legend>"Propose"</legend>
            <Suspense fallback=|| ()>
                {move || role_refusal().map(|text| view! { <p class="notice" id="propose-role">{text}</p> })}
            </Suspense>
            <div class="field">
                <label for="change-title">"Change title"</label>
                <input id="change-title" type="text" prop:value=move || title.get() on:input=move |ev| typed.set(Some(event_target_value(&ev)))/>
            </div>
            <p class="muted" id="form-status" aria-live="polite">
                {move || match errors() {
                    0 => "No problems found.".to_owned(),
                    n if waiting() => format!("{n} problem(s) to fix before proposing: fill in the required fields."),
                    n => format!("{n} problem(s) to fix before proposing."),
                }}
            </p>
            <div class="actions">
                <button type="button" id="preview" on:click=on_preview disabled=move || previewing.busy() || signed_out() || refused()>"Preview"</button>
                <button type="button" id="propose" class="primary" on:click=on_propose disabled=move || { proposing.busy() || errors() > 0 || signed_out() || refused() }>"Propose change"</button>
                {(!collected).then(|| view! {
                    <button type="button" id="add-to-change" on:click=on_add disabled=move || { errors() > 0 }>"Add to change"</button>
                })}
            </div>
            <p class="muted" id="basket-status" aria-live="polite">{collection}</p>
            {move || failed.get().map(|error| view! { <ErrorBox error/> })}
        </fieldset>
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

/// Opens a change just created; a draft it was resumed from goes (best effort: if that fails,
/// the draft stays listed and can still be discarded by hand).
pub(super) fn open_created(
    id: i64,
    replaces: Option<i64>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    let go = move || navigate(&format!("/changes/{id}"), Default::default());
    match replaces.filter(|d| *d != id) {
        Some(draft) => leptos::task::spawn_local(async move {
            let _ = client::send(client::discard(draft), &client::new_key()).await;
            go();
        }),
        None => go(),
    }
}
