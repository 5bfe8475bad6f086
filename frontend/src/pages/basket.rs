//! `/changes/new`: the change collected with *Add to change* (kept in the browser): its edits,
//! each removable, checked together in the browser and by a combined Preview, and proposed as
//! one change request with one commit. Also the header's link to it.

use super::changes::IssueList;
use super::propose::ProposeBox;
use crate::api::EditRequest;
use crate::basket::{Basket, use_basket};
use crate::data;
use crate::validate::{self, Issue};
use leptos::prelude::*;
use leptos_meta::Title;

/// The header's link to the collected change, with how many edits it holds (only when it
/// holds some).
#[component]
pub fn BasketLink() -> impl IntoView {
    let basket = use_basket();
    let location = leptos_router::hooks::use_location();
    let here = move || (location.pathname.get() == "/changes/new").then_some("page");
    move || {
        let n = basket.len();
        (n > 0).then(|| {
            let label = if n == 1 {
                "1 edit".to_owned()
            } else {
                format!("{n} edits")
            };
            view! {
                <a href="/changes/new" id="basket-link" aria-current=here>
                    "Your change"
                    <span class="count held" aria-label=label>{n}</span>
                </a>
            }
        })
    }
}

/// What the browser finds in the collected edits: each document's own rules, then the
/// cross-resource rules on the repo with all of them.
fn collected_issues(basket: &Basket, repo: Option<&validate::Environment>) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut touched = Vec::new();
    for edit in &basket.edits {
        touched.push(format!("{}/{}/{}", edit.kind, edit.namespace, edit.name));
        let (Some(doc), Some(to)) = (&edit.document, Basket::result_of(edit)) else {
            continue;
        };
        let resource = format!("{}/{}/{}", to.kind, to.namespace, to.name);
        match edit.kind.as_str() {
            "ApiDefinition" => issues.extend(validate::validate_api(&resource, doc)),
            "SecurityPolicy" => issues.extend(validate::validate_policy(&resource, doc)),
            _ => {}
        }
        touched.push(resource);
    }
    if let Some(repo) = repo {
        issues.extend(validate::validate_environment(
            &basket.environment(repo),
            &touched,
        ));
    }
    issues
}

/// What an edit does, as the list says it.
fn described(edit: &EditRequest) -> String {
    if edit.delete {
        return "delete".to_owned();
    }
    match Basket::result_of(edit) {
        Some(to) if (to.namespace.as_str(), to.name.as_str()) != (&edit.namespace, &edit.name) => {
            format!("rename from {}/{}", edit.namespace, edit.name)
        }
        Some(_) => "edit".to_owned(),
        None => "edit".to_owned(),
    }
}

fn target(edit: &EditRequest) -> String {
    Basket::result_of(edit).map_or_else(
        || format!("{}/{}", edit.namespace, edit.name),
        |to| format!("{}/{}", to.namespace, to.name),
    )
}

#[component]
pub fn ChangeBasketPage() -> impl IntoView {
    let basket = use_basket();
    let signed_in = crate::ui::signed_in();
    // Loaded in the browser only: the collection is not known to the server.
    let context = LocalResource::new(data::validation_context);
    let issues = Memo::new(move |_| {
        let repo = context.get().and_then(Result::ok);
        basket.with(|b| collected_issues(b, repo.as_ref()))
    });
    let edits = Callback::new(move |()| {
        basket.with_untracked(|b| serde_json::to_value(&b.edits).unwrap_or_default())
    });
    let list_heading = NodeRef::<leptos::html::H2>::new();
    let remove = move |index: usize| {
        basket.update(|b| b.remove(index));
        // The removed row held the focus: it goes to the list's heading.
        #[cfg(feature = "hydrate")]
        if let Some(heading) = list_heading.get_untracked() {
            let _ = heading.focus();
        }
    };
    let rows = move || {
        basket.with(|b| {
            b.edits
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let (kind, what, target) = (e.kind.clone(), described(e), target(e));
                    let label = format!("Remove {kind} {target} from the change");
                    view! {
                        <tr>
                            <td>{kind}</td>
                            <td><code>{target}</code></td>
                            <td>{what}</td>
                            <td><button type="button" class="link-danger" aria-label=label on:click=move |_| remove(i)>"Remove"</button></td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <Title text="Your change"/>
        <h1>"Your change"</h1>
        <crate::ui::SignInNotice signed_in/>
        {move || {
            if !basket.loaded() {
                Some(view! { <p class="muted">"Loading your change…"</p> }.into_any())
            } else if basket.is_empty() {
                Some(view! {
                    <p id="basket-empty">
                        "Nothing collected yet. Use " <strong>"Add to change"</strong> " on the form of an "
                        <a href="/apis/new">"API"</a> ", a " <a href="/policies/new">"policy"</a> " or an "
                        <a href="/oas/new">"OAS API"</a>
                        " to collect edits of several resources here, then propose them together as one change."
                    </p>
                }.into_any())
            } else {
                None
            }
        }}
        <Show when=move || !basket.is_empty()>
            <p class="muted">
                "These edits are kept in this browser until you propose them. They are checked together: a policy may grant an API the same change creates."
            </p>
            <h2 node_ref=list_heading tabindex="-1">"Edits"</h2>
            <table class="list" id="basket-edits">
                <thead><tr><th scope="col">"Kind"</th><th scope="col">"Resource"</th><th scope="col">"Edit"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {move || issues.with(|i| (!i.is_empty()).then(|| view! { <IssueList issues=i.clone()/> }))}
            <form class="edit" on:submit=|ev| ev.prevent_default() novalidate>
                <ProposeBox edits issues default_title=basket.with_untracked(Basket::default_title) signed_in collected=true/>
            </form>
        </Show>
    }
}
