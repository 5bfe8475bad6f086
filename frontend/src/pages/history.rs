//! The *History* tab of an API or policy page: the commits that changed the resource, newest
//! first, each with its author, change request, field diff, and *Restore this version*.

use crate::api::history::{FieldChange, HistoryEntry, RestoreRequest, RestoreResult};
use crate::client::{self, Action};
use crate::data::{self, encode};
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

/// Whether the page shows its *History* tab (`?tab=history`) rather than its overview.
pub fn history_tab() -> impl Fn() -> bool + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get("tab").as_deref() == Some("history")
}

/// The tabs of an API or policy page, as links: each tab has its own address, works without
/// JavaScript, and the current one is marked for assistive technology.
#[component]
pub fn ResourceTabs() -> impl IntoView {
    let history = history_tab();
    let path = use_location().pathname;
    view! {
        <nav class="tabs" aria-label="Sections of this page">
            <a id="overview-tab" href=move || path.get()
                aria-current=move || (!history()).then_some("page")>"Overview"</a>
            <a id="history-tab" href=move || format!("{}?tab=history", path.get())
                aria-current=move || history().then_some("page")>"History"</a>
        </nav>
    }
}

fn show(value: &Option<serde_json::Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

#[component]
fn FieldTable(fields: Vec<FieldChange>) -> impl IntoView {
    view! {
        <table class="list fields-diff">
            <thead><tr><th scope="col">"Field"</th><th scope="col">"From"</th><th scope="col">"To"</th></tr></thead>
            <tbody>
                {fields.into_iter().map(|f| view! {
                    <tr>
                        <td><code>{f.path.clone()}</code></td>
                        <td class="removed"><code>{show(&f.from)}</code></td>
                        <td class="added"><code>{show(&f.to)}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Entry(
    kind: String,
    namespace: String,
    name: String,
    entry: HistoryEntry,
    /// The newest entry: the version at the branch head, which there is nothing to restore to.
    current: bool,
    /// Whether *Restore* is offered (not to those who may not propose changes here).
    may_restore: bool,
) -> impl IntoView {
    let short: String = entry.commit.chars().take(10).collect();
    let version_href = format!(
        "/api/v1/resources/{}/{}/{}/at/{}",
        encode(&kind),
        encode(&namespace),
        encode(&name),
        entry.commit
    );
    let commit_href = entry.commit_url.clone().unwrap_or(version_href.clone());
    let pull = entry.pull_request.clone().map(|p| {
        let label = if p.number.is_empty() {
            p.change_id
                .map(|id| format!("change {id}"))
                .unwrap_or_default()
        } else {
            p.number.clone()
        };
        let href = p
            .url
            .clone()
            .or(p.change_id.map(|id| format!("/changes/{id}")))
            .or(p.change_url.clone());
        view! { " · " <a class="pull" href=href>{label}</a> }
    });
    let action = Action::new();
    let answer: RwSignal<Option<Result<RestoreResult, crate::api::ApiError>>> = RwSignal::new(None);
    let deleted = entry.action == "deleted";
    let navigate = use_navigate();
    let restore = {
        let (kind, namespace, name, commit) = (
            kind.clone(),
            namespace.clone(),
            name.clone(),
            entry.commit.clone(),
        );
        move |fields: Option<Vec<String>>| {
            let write = client::restore(
                &kind,
                &namespace,
                &name,
                &RestoreRequest {
                    commit: commit.clone(),
                    fields,
                },
            );
            let navigate = navigate.clone();
            action.run(write, move |result| match result {
                // Prepared: go to the change request, as proposing does.
                Ok(RestoreResult {
                    created: Some(created),
                    ..
                }) => {
                    navigate(&format!("/changes/{}", created.id), Default::default());
                }
                other => answer.set(Some(other)),
            });
        }
    };
    let restore_all = restore.clone();
    view! {
        <li class=format!("history-entry action-{}", entry.action)>
            <div class="entry-head">
                <span class=format!("badge action-{}", entry.action)>{entry.action.clone()}</span>
                " " <strong>{entry.title.clone()}</strong>
            </div>
            <div class="sub">
                <a class="commit" href=commit_href><code>{short}</code></a>
                " · " {entry.author.clone()}
                {(entry.committer != entry.author).then(|| format!(" (committed by {})", entry.committer))}
                " · " <time datetime=entry.date.clone()>{entry.date.clone()}</time>
                {pull}
                " · " <code>{entry.path.clone()}</code>
                {entry.moved_from.clone().map(|from| view! { " (moved from " <code>{from}</code> ")" })}
            </div>
            {(!entry.live.is_empty()).then(|| view! {
                <div class="sub live-in">
                    {entry.live.iter().map(|l| view! {
                        <span class="live" data-cluster=l.cluster.clone()>"live in " <strong>{l.cluster.clone()}</strong> " since " <crate::ui::Time at=l.since.clone()/></span> " "
                    }).collect_view()}
                </div>
            })}
            <details>
                <summary>{match entry.fields.len() { 1 => "1 field changed".to_owned(), n => format!("{n} fields changed") }}</summary>
                <FieldTable fields=entry.fields.clone()/>
            </details>
            {current.then(|| view! { <span class="badge current">"Current version"</span> })}
            {(!deleted && !current && may_restore).then(|| view! {
                <button type="button" class="restore" disabled=move || action.busy()
                    on:click=move |_| restore_all(None)>"Restore this version"</button>
            })}
            {move || answer.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(r) => match r.created {
                    Some(created) => view! {
                        <p class="ok">"Change request prepared: " <a href=format!("/changes/{}", created.id)>{format!("change {}", created.id)}</a></p>
                    }.into_any(),
                    None => {
                        let confirm = restore.clone();
                        let all: Vec<String> = r.fields.iter().map(|f| f.path.clone()).collect();
                        view! {
                            <div class="warning" role="alert">
                                <p>"A later commit also changed these fields; restoring them would undo it too:"</p>
                                <ul>
                                    {r.warnings.iter().map(|w| view! {
                                        <li><code>{w.path.clone()}</code> " — "
                                            {w.commits.iter().map(|c| format!("{} ({})", c.title, c.author)).collect::<Vec<_>>().join(", ")}</li>
                                    }).collect_view()}
                                </ul>
                                <button type="button" on:click=move |_| confirm(Some(all.clone()))>"Restore them too"</button>
                            </div>
                        }.into_any()
                    }
                },
            })}
        </li>
    }
}

/// The history section of a resource page.
#[component]
pub fn ResourceHistory(kind: String, namespace: String, name: String) -> impl IntoView {
    let page = RwSignal::new(1usize);
    let (k, ns, n) = (kind.clone(), namespace.clone(), name.clone());
    let history = Resource::new(
        move || page.get(),
        move |p| data::history(k.clone(), ns.clone(), n.clone(), p),
    );
    // Restoring proposes a change: not offered to those who may not propose here.
    let session = Resource::new(|| (), |_| data::session());
    let ns_of_session = namespace.clone();
    let may_restore = move || {
        session
            .get()
            .and_then(Result::ok)
            .is_none_or(|s| s.user.is_none() || s.may_propose_in(&ns_of_session))
    };
    view! {
        <section id="history" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || history.get().map(|result| match result {
                    // The page's subject exists; a missing history is not a missing page (no 404).
                    Err(error) if error.code == "not_found" => view! { <p class="muted">{error.message}</p> }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                    Ok(h) => {
                        let more = h.page * h.per_page < h.total;
                        let (kind, namespace, name) = (kind.clone(), namespace.clone(), name.clone());
                        let may_restore = may_restore();
                        view! {
                            <p class="sub" id="history-count">{if h.total == 1 { "1 commit changed it".to_owned() } else { format!("{} commits changed it", h.total) }}</p>
                            <ol class="history">
                                {h.items.into_iter().enumerate().map(|(i, entry)| {
                                    let current = h.page == 1 && i == 0 && entry.action != "deleted";
                                    view! { <Entry kind=kind.clone() namespace=namespace.clone() name=name.clone() entry current may_restore/> }
                                }).collect_view()}
                            </ol>
                            <nav class="pager">
                                {(h.page > 1).then(|| view! { <button type="button" on:click=move |_| page.update(|p| *p -= 1)>"Newer"</button> })}
                                {more.then(|| view! { <button type="button" on:click=move |_| page.update(|p| *p += 1)>"Older"</button> })}
                            </nav>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
