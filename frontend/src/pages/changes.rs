//! Change requests on the built-in local host: the list, and one change with its diff,
//! validation results, approvals, comments and actions.

use super::draft::resume_href;
use crate::api::{ChangeView, CommentRequest, FileDiff};
use crate::client::{self, Action, ReviewStep};
use crate::data;
use crate::links::{CommitSha, ResourceLink};
use crate::ui::{ErrorBox, Time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// The states the list filters by, in the order of their chips.
const STATES: [&str; 4] = ["open", "draft", "merged", "closed"];

/// The list's URL for a state (empty: every state) or, with `review`, for the changes waiting
/// for my review.
fn changes_url(state: &str, review: bool) -> String {
    match (state, review) {
        (_, true) => "/changes?review=me".to_owned(),
        ("", false) => "/changes".to_owned(),
        (s, false) => format!("/changes?state={s}"),
    }
}

#[component]
pub fn ChangesPage() -> impl IntoView {
    let query = use_query_map();
    let state = Signal::derive(move || query.read().get("state").unwrap_or_default());
    let review = Signal::derive(move || query.read().get("review").is_some_and(|r| r == "me"));
    let session = Resource::new(|| (), |_| data::session());
    let list = Resource::new(
        move || (state.get(), review.get()),
        |(state, review)| data::changes(Some(state).filter(|s| !s.is_empty()), review),
    );
    let chips = move || {
        let (st, rv) = (state.get(), review.get());
        let signed_in = session
            .get()
            .and_then(Result::ok)
            .and_then(|s| s.user)
            .is_some();
        let chip = |label: &'static str, href: String, current: bool| {
            view! { <a class="chip" href=href aria-current=current.then_some("true")>{label}</a> }
        };
        let mut chips = vec![chip("all", changes_url("", false), st.is_empty() && !rv)];
        chips.extend(STATES.map(|s| chip(s, changes_url(s, false), !rv && st == s)));
        if signed_in || rv {
            chips.push(chip("waiting for my review", changes_url("", true), rv));
        }
        chips
    };
    view! {
        <Title text="Change requests"/>
        <h1>"Change requests"</h1>
        <nav class="chips" aria-label="Filter changes" id="change-filters">
            <Transition fallback=|| ()>{chips}</Transition>
        </nav>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || list.get().map(|r| match r {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(items) if items.is_empty() => {
                    let empty = if review.get_untracked() {
                        "Nothing is waiting for your review."
                    } else if state.get_untracked().is_empty() {
                        "No change requests yet. Edit an API to propose one."
                    } else {
                        "No change requests in this state."
                    };
                    view! { <p class="muted">{empty}</p> }.into_any()
                }
                Ok(items) => view! {
                    <table class="list" id="changes">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"Title"</th><th scope="col">"Author"</th><th scope="col">"State"</th><th scope="col">"Created"</th><th scope="col">"Approvals"</th><th scope="col">"Resources"</th></tr></thead>
                        <tbody>
                            {items.into_iter().map(|c| view! {
                                <tr>
                                    <td>{c.id}</td>
                                    <td><a class="name" href=format!("/changes/{}", c.id)>{c.title}</a>
                                        {(c.state == "draft").then(|| view! { " " <span class="badge change-draft draft-badge" title="Not proposed: open it to resume or discard it">"Draft"</span> })}
                                        {c.conflict.then(|| view! { <span class="badge off">"conflict"</span> })}</td>
                                    <td>{c.author}</td>
                                    <td><span class=format!("badge change-{}", c.state)>{c.state.clone()}</span></td>
                                    <td class="sub"><Time at=c.created_at/></td>
                                    <td>{c.approvals}</td>
                                    <td class="sub">{c.resources.join(", ")}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </Transition>
    }
}

/// One side of a diff row: line number and text.
type Side = Option<(u32, String)>;

/// Rows of a side-by-side diff: removed lines paired with the added lines that replace them.
fn side_by_side(file: &FileDiff) -> Vec<(Side, Side, &'static str)> {
    let mut rows = Vec::new();
    let mut removed: Vec<(u32, String)> = Vec::new();
    let mut added: Vec<(u32, String)> = Vec::new();
    let flush =
        |rows: &mut Vec<_>, removed: &mut Vec<(u32, String)>, added: &mut Vec<(u32, String)>| {
            let n = removed.len().max(added.len());
            let (mut r, mut a) = (removed.drain(..), added.drain(..));
            for _ in 0..n {
                rows.push((r.next(), a.next(), "change"));
            }
        };
    for line in &file.lines {
        match line.kind.as_str() {
            "removed" => removed.push((line.old_line.unwrap_or_default(), line.text.clone())),
            "added" => added.push((line.new_line.unwrap_or_default(), line.text.clone())),
            "skip" => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push((None, None, "skip"));
            }
            _ => {
                flush(&mut rows, &mut removed, &mut added);
                rows.push((
                    line.old_line.map(|n| (n, line.text.clone())),
                    line.new_line.map(|n| (n, line.text.clone())),
                    "context",
                ));
            }
        }
    }
    flush(&mut rows, &mut removed, &mut added);
    rows
}

/// A side-by-side diff of each file.
#[component]
pub fn DiffView(files: Vec<FileDiff>) -> impl IntoView {
    view! {
        <div class="diffs">
            {files.into_iter().map(|f| {
                let rows = side_by_side(&f);
                view! {
                    <section class="diff-file">
                        <h3><code>{f.path.clone()}</code> " " <span class=format!("badge file-{}", f.status)>{f.status.clone()}</span></h3>
                        <table class="diff" aria-label=format!("Changes to {}", f.path)>
                            <tbody>
                                {rows.into_iter().map(|(old, new, kind)| {
                                    if kind == "skip" {
                                        return view! { <tr class="skip"><td colspan="4">"⋯"</td></tr> }.into_any();
                                    }
                                    let old_class = if kind == "change" && old.is_some() { "del" } else { "" };
                                    let new_class = if kind == "change" && new.is_some() { "add" } else { "" };
                                    view! {
                                        <tr>
                                            <td class="no">{old.as_ref().map(|o| o.0)}</td>
                                            <td class=format!("code {old_class}")><pre>{old.map(|o| o.1)}</pre></td>
                                            <td class="no">{new.as_ref().map(|n| n.0)}</td>
                                            <td class=format!("code {new_class}")><pre>{new.map(|n| n.1)}</pre></td>
                                        </tr>
                                    }.into_any()
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

/// Validation results of a change.
#[component]
pub fn IssueList(issues: Vec<crate::validate::Issue>) -> impl IntoView {
    if issues.is_empty() {
        return view! { <p class="ok-note" id="validation">"All checks passed."</p> }.into_any();
    }
    view! {
        <ul class="issues" id="validation">
            {issues.into_iter().map(|i| view! {
                <li class=format!("issue {}", i.severity_label())>
                    <strong>{i.severity_label()}</strong> " " <code>{i.resource.clone()}</code> " " <code>{i.field.clone()}</code> ": " {i.message.clone()}
                </li>
            }).collect_view()}
        </ul>
    }.into_any()
}

#[component]
pub fn ChangePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let refresh = RwSignal::new(0u32);
    let change = Resource::new(move || (id(), refresh.get()), |(id, _)| data::change(id));
    // Reviews, merges and closes made on the Git host (or by someone else) show up live.
    super::status::listen_at(
        move || format!("/api/v1/changes/{}/events", id()),
        "change",
        move || refresh.update(|n| *n += 1),
    );
    let session = Resource::new(|| (), |_| data::session());
    let action_error = RwSignal::new(None::<crate::api::ApiError>);
    let (reviewing, commenting, discarding) = (Action::new(), Action::new(), Action::new());
    let after = move |answer: Result<ChangeView, crate::api::ApiError>| match answer {
        Ok(_) => {
            action_error.set(None);
            refresh.update(|n| *n += 1);
        }
        Err(e) => action_error.set(Some(e)),
    };
    let act = move |step: ReviewStep| reviewing.run(client::review(id(), step), after);
    let navigate = use_navigate();
    let discard = move |_| {
        let navigate = navigate.clone();
        discarding.run(client::discard(id()), move |answer| match answer {
            Ok(()) => navigate("/changes", Default::default()),
            Err(e) => action_error.set(Some(e)),
        });
    };
    let sign_in = crate::ui::sign_in_href();
    let comment = RwSignal::new(String::new());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || change.get().map(|r| match r {
                Err(error) => view! { <h1>"Change request"</h1><ErrorBox error/> }.into_any(),
                Ok(c) => {
                    let info = session.get().and_then(Result::ok);
                    let role = info.as_ref().and_then(|s| s.role);
                    // Actions show only for the roles that may take them (the server checks too).
                    let may_propose = role.is_some_and(|r| r >= crate::api::Role::Editor);
                    // ...and approving needs an owner of a namespace it touches, when it touches owned ones.
                    let owns_one = c.owners.is_empty()
                        || info.as_ref().is_some_and(|s| c.owners.iter().any(|o| s.may_propose_in(&o.namespace)));
                    let may_merge = role.is_some_and(|r| r >= crate::api::Role::Approver);
                    let may_approve = may_merge && owns_one;
                    let signed_in = info.as_ref().is_some_and(|s| s.user.is_some());
                    let me = info.and_then(|s| s.user).filter(|_| may_propose);
                    let is_author = me.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(&c.author));
                    // Only the author and those who approved may close (the server checks too).
                    let may_close = is_author
                        || me.as_deref().is_some_and(|m| c.approvals.iter().any(|a| a.eq_ignore_ascii_case(m)));
                    let open = c.state == "open";
                    let stale = c.adoption.as_ref().and_then(|a| a.stale.clone()).filter(|_| open);
                    let draft = c.state == "draft";
                    let discard = discard.clone();
                    let approved = c.approvals.len() as u32 >= c.approvals_required && stale.is_none()
                        && c.host.as_ref().is_none_or(|h| h.mergeable != Some(false));
                    let i_approved = me.as_deref().is_some_and(|m| c.approvals.iter().any(|a| a.eq_ignore_ascii_case(m)));
                    let why = Why::of(&c, stale.as_deref());
                    let (why_merge, why_approve, why_rebase, why_close) = (why.merge.clone(), why.approve.clone(), why.rebase.clone(), why.close.clone());
                    view! {
                        <Title text=format!("#{} {}", c.id, c.title)/>
                        <nav class="crumbs" aria-label="Breadcrumb"><a href="/changes">"Change requests"</a> " / #" {c.id}</nav>
                        <h1>{c.title.clone()} <span class=format!("badge change-{}", c.state) id="change-state">{c.state.clone()}</span></h1>
                        <p class="sub">
                            {format!("#{} by {} · branch ", c.id, c.author)}
                            <code>{c.branch.clone().unwrap_or_else(|| "—".into())}</code>
                            {format!(" · {} of {} approvals", c.approvals.len(), c.approvals_required)}
                            {c.head_commit.clone().map(|sha| view! { " · head " <CommitSha sha/> })}
                            {c.merge_commit.clone().map(|sha| view! { " · merged as " <CommitSha sha/> })}
                        </p>
                        {(!draft).then(|| view! { <LeadTimeline change=c.clone()/> })}
                        // Rendered and sanitised on the server (CommonMark, no active content).
                        {(!c.description_html.is_empty()).then(|| view! { <div class="description markdown" id="description" inner_html=c.description_html.clone()></div> })}
                        {draft.then(|| view! {
                            <p class="notice" id="draft-note">"This is a draft: it was saved but not proposed. Resume it in its form, or discard it."</p>
                        })}
                        {c.error.clone().map(|e| view! { <div class="error" role="alert">{e}</div> })}
                        {c.conflict.clone().filter(|_| open).map(|e| view! { <div class="error conflict" role="alert"><strong>"Conflict: "</strong>{e}</div> })}
                        {c.host.clone().map(|h| view! { <HostPanel request=h/> })}
                        {c.adoption.clone().map(|a| view! { <AdoptionPanel adoption=a open/> })}
                        {move || action_error.get().map(|error| view! { <ErrorBox error/> })}
                        <div class="actions" role="group" aria-label="Review">
                            {(open && may_approve && !is_author).then(|| view! {
                                <button id="approve" disabled=move || i_approved || reviewing.busy() aria-describedby=i_approved.then_some("approve-why") on:click=move |_| act(ReviewStep::Approve)>"Approve"</button>
                                {i_approved.then(|| view! { <span class="muted why" id="approve-why">"You approved this."</span> })}
                            })}
                            {(open && is_author).then(|| view! { <span class="muted why" id="approve-why">{why_approve.clone()}</span> })}
                            {(open && may_merge).then(|| view! {
                                <button id="merge" class="primary" disabled=move || !approved || reviewing.busy() aria-describedby=why_merge.is_some().then_some("merge-why") on:click=move |_| act(ReviewStep::Merge)>"Merge"</button>
                                {why_merge.clone().map(|text| view! { <span class="muted why" id="merge-why">{text}</span> })}
                            })}
                            {(open && c.conflict.is_some() && me.is_some()).then(|| view! {
                                <button id="rebase" disabled=move || !is_author || reviewing.busy() aria-describedby=(!is_author).then_some("rebase-why") on:click=move |_| act(ReviewStep::Rebase)>"Regenerate from the new base"</button>
                            })}
                            {(open && stale.is_some() && me.is_some()).then(|| view! {
                                <button id="readopt" disabled=move || !is_author || reviewing.busy() aria-describedby=(!is_author).then_some("rebase-why") on:click=move |_| act(ReviewStep::Rebase)>"Regenerate from the cluster"</button>
                            })}
                            {(open && (c.conflict.is_some() || stale.is_some()) && me.is_some() && !is_author).then(|| view! {
                                <span class="muted why" id="rebase-why">{why_rebase.clone()}</span>
                            })}
                            {(open && may_close).then(|| view! {
                                <button id="close" disabled=move || reviewing.busy() on:click=move |_| act(ReviewStep::Close)>"Close"</button>
                            })}
                            {(open && me.is_some() && !may_close).then(|| view! {
                                <button id="close" disabled=true aria-describedby="close-why">"Close"</button>
                                <span class="muted why" id="close-why">{why_close.clone()}</span>
                            })}
                            {(draft && is_author).then(|| view! {
                                <button id="discard" class="danger" disabled=move || discarding.busy() on:click=discard>"Discard draft"</button>
                            })}
                            {(!signed_in).then(|| view! { <a href=sign_in.clone()>"Sign in to review"</a> })}
                        </div>
                        {draft.then(|| view! {
                            <h2>"Saved edits"</h2>
                            <ul class="resources" id="draft-edits">
                                {c.edits.iter().map(|e| {
                                    let what = if e.delete { "delete" } else if e.yaml.is_some() { "YAML" } else if e.merge_patch.is_some() { "patch" } else { "document" };
                                    view! {
                                        <li><span class="badge">{what}</span> " " {format!("{} {}/{}", e.kind, e.namespace, e.name)} " "
                                            {(!e.delete && is_author).then(|| view! { <a class="button small resume" href=resume_href(c.id, e)>"Resume"</a> })}</li>
                                    }
                                }).collect_view()}
                            </ul>
                        })}
                        {(!c.owners.is_empty()).then(|| view! {
                            <section id="owners" aria-labelledby="owners-heading">
                                <h2 id="owners-heading">"Owners"</h2>
                                <p class="muted">"An owner of each namespace, other than the author, must approve."</p>
                                <ul>
                                    {c.owners.iter().map(|o| view! {
                                        <li>
                                            <code>{o.namespace.clone()}</code> " — owned by " {o.groups.join(", ")} ": "
                                            {if o.approved_by.is_empty() {
                                                view! { <span class="badge">"needs an owner's approval"</span> }.into_any()
                                            } else {
                                                view! { <span>{format!("approved by {}", o.approved_by.join(", "))}</span> }.into_any()
                                            }}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        })}
                        <h2>"Resources"</h2>
                        <ul class="resources">
                            {c.resources.iter().map(|r| view! {
                                <li><span class="badge">{r.action.clone()}</span> " " {r.kind.clone()} " "
                                    {if r.action == "delete" {
                                        view! { <span>{format!("{}/{}", r.namespace, r.name)}</span> }.into_any()
                                    } else {
                                        view! { <ResourceLink kind=r.kind.clone() namespace=r.namespace.clone() name=r.name.clone()/> }.into_any()
                                    }}
                                    " " <code class="sub">{r.path.clone()}</code></li>
                            }).collect_view()}
                        </ul>
                        <h2>"Validation"</h2>
                        <IssueList issues=c.issues.clone()/>
                        <h2>"Changes"</h2>
                        <DiffView files=c.files.clone()/>
                        <h2>"Activity"</h2>
                        <ol class="events">
                            {c.events.iter().map(|e| view! {
                                <li><strong>{e.author.clone()}</strong> " " {e.kind.replace('_', " ")} " " <span class="muted"><Time at=e.at.clone()/></span>
                                    {(!e.body.is_empty() && e.kind == "merge").then(|| view! { " as " <CommitSha sha=e.body.clone()/> })}
                                    // Comments come as sanitised HTML from the server; other events as text.
                                    {(!e.body_html.is_empty()).then(|| view! { <div class="event-body markdown" inner_html=e.body_html.clone()></div> })}
                                    {(!e.body.is_empty() && e.kind != "merge" && e.body_html.is_empty()).then(|| view! { <p class="event-body">{e.body.clone()}</p> })}</li>
                            }).collect_view()}
                        </ol>
                        {me.is_some().then(|| view! {
                            <form class="comment" on:submit=move |ev| {
                                ev.prevent_default();
                                let body = comment.get_untracked();
                                commenting.run(client::comment(id(), &CommentRequest { body }), move |answer| {
                                    if answer.is_ok() {
                                        comment.set(String::new());
                                    }
                                    after(answer);
                                });
                            }>
                                <label for="comment-body">"Comment"</label>
                                <textarea id="comment-body" rows="3" prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))></textarea>
                                <button type="submit" disabled=move || commenting.busy()>"Comment"</button>
                            </form>
                        })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

/// Why each review action is unavailable, as text shown beside its button.
struct Why {
    merge: Option<String>,
    approve: String,
    rebase: String,
    close: String,
}

impl Why {
    fn of(c: &ChangeView, stale: Option<&str>) -> Self {
        let missing = (c.approvals_required as usize).saturating_sub(c.approvals.len());
        let host_refuses = c
            .host
            .as_ref()
            .filter(|h| h.mergeable == Some(false))
            .map(|h| {
                format!(
                    "Merge is blocked: {} reports the change cannot be merged{}.",
                    h.kind,
                    h.merge_status
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                )
            });
        let merge = match stale {
            Some(reason) => Some(format!("Merge is blocked: stale: {reason}")),
            None if missing == 0 && host_refuses.is_some() => host_refuses,
            None if missing > 0 => Some(format!(
                "Merge needs {missing} more approval{} from someone other than {}.",
                if missing == 1 { "" } else { "s" },
                c.author
            )),
            None => None,
        };
        Self {
            merge,
            approve: "You cannot approve your own change.".into(),
            rebase: format!("Only the author ({}) can regenerate this change.", c.author),
            close: format!(
                "Only the author ({}) and those who approved can close this change.",
                c.author
            ),
        }
    }
}

/// The change request on the Git host: link, number, state, reviews, checks, mergeability.
#[component]
fn HostPanel(request: crate::api::HostRequest) -> impl IntoView {
    let host = match request.kind.as_str() {
        "github" => "GitHub",
        "gitlab" => "GitLab",
        "gitea" => "Gitea",
        other => other,
    }
    .to_owned();
    let (noun, sign) = if request.kind == "gitlab" {
        ("Merge request", "!")
    } else {
        ("Pull request", "#")
    };
    let mergeable = match (request.mergeable, request.merge_status.clone()) {
        (_, _) if request.state != "open" => None,
        (Some(true), _) => Some(format!("{host} reports it mergeable.")),
        (Some(false), Some(status)) => {
            Some(format!("{host} reports it cannot be merged: {status}."))
        }
        (Some(false), None) => Some(format!("{host} reports it cannot be merged.")),
        (None, _) => Some(format!(
            "{host} is still checking whether it can be merged."
        )),
    };
    view! {
        <section class="host-request" id="host-request" aria-labelledby="host-heading">
            <h2 id="host-heading">
                <a href=request.url.clone() id="host-link" rel="noopener">{format!("{noun} {sign}{} on {host}", request.number)}</a>
                " " <span class=format!("badge change-{}", request.state) id="host-state">{request.state.clone()}</span>
            </h2>
            <p class="sub">"head " <code>{request.head_sha.get(..12).unwrap_or(&request.head_sha).to_owned()}</code>
                {mergeable.map(|m| view! { " · " <span id="host-mergeable">{m}</span> })}</p>
            {(!request.reviews.is_empty()).then(|| view! {
                <h3>"Reviews on " {host.clone()}</h3>
                <ul id="host-reviews">
                    {request.reviews.iter().map(|r| view! {
                        <li><strong>{r.login.clone()}</strong> " " {r.state.replace('_', " ")}</li>
                    }).collect_view()}
                </ul>
            })}
            {(!request.checks.is_empty()).then(|| view! {
                <h3>"Checks"</h3>
                <ul id="host-checks">
                    {request.checks.iter().map(|c| view! {
                        <li><span class=format!("badge check-{}", c.state)>{c.state.clone()}</span> " "
                            {match c.url.clone() {
                                Some(url) => view! { <a href=url rel="noopener">{c.name.clone()}</a> }.into_any(),
                                None => view! { <span>{c.name.clone()}</span> }.into_any(),
                            }}</li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

/// What an adopt-drift change takes from its cluster, who will run it once merged, and whether
/// the cluster still runs it.
#[component]
fn AdoptionPanel(adoption: crate::api::Adoption, open: bool) -> impl IntoView {
    let receivers = if adoption.receivers.is_empty() {
        "no configured cluster follows this path".to_owned()
    } else {
        adoption.receivers.join(", ")
    };
    view! {
        <section class="adoption" aria-labelledby="adoption-heading">
            <h2 id="adoption-heading">"Adopts drift from cluster " <code>{adoption.cluster.clone()}</code></h2>
            <p>
                {format!("{} {}/{}", adoption.kind, adoption.namespace, adoption.name)}
                {adoption.resource_version.clone().map(|v| format!(" at resourceVersion {v}"))}
            </p>
            <ul>
                {adoption.fields.iter().map(|f| view! {
                    <li><code>{f.path.clone()}</code> " = " <code>{f.live.as_ref().map_or_else(|| "(absent)".to_owned(), ToString::to_string)}</code>
                        {f.manager.clone().map(|m| view! { " (set by " <code>{m}</code> ")" })}</li>
                }).collect_view()}
            </ul>
            <p id="adoption-receivers"><strong>"Once merged, every cluster that follows it runs this: "</strong>{receivers}</p>
            {adoption.stale.clone().filter(|_| open).map(|reason| view! {
                <div class="error stale" role="alert" id="adoption-stale"><strong>"Stale: "</strong>{reason}</div>
            })}
        </section>
    }
}

/// The change's way from proposal to live in each cluster: a small SVG timeline, and the same
/// times as a list for those who cannot see it.
#[component]
fn LeadTimeline(change: ChangeView) -> impl IntoView {
    let first = |kinds: &[&str]| {
        change
            .events
            .iter()
            .filter(|e| kinds.contains(&e.kind.as_str()))
            .map(|e| e.at.clone())
            .min()
    };
    let steps = crate::charts::steps(
        first(&["propose"]),
        first(&["approval", "dismissed_approval"]),
        first(&["merge"]),
        &change.live,
    );
    let svg = crate::charts::change_timeline(&steps);
    view! {
        <section class="lead-time" aria-labelledby="lead-time-heading">
            <h2 id="lead-time-heading">"Lead time"</h2>
            <figure inner_html=svg></figure>
            <ol class="lead-time-steps" id="lead-time-steps">
                {steps.into_iter().map(|s| view! {
                    <li>{format!("{}: {}", s.label, s.at.as_deref().map(crate::ui::exact_time).unwrap_or_else(|| "not yet".into()))}</li>
                }).collect_view()}
            </ol>
        </section>
    }
}
