//! The activity feed: changes proposed and merged, rollouts per cluster, drift episodes,
//! failures and unreachable periods, newest first, filtered by namespace, cluster and kind.
//! Rendered on the server, then live: the feed's event stream announces new items and the page
//! refetches.

use crate::api::timeline::{ActivityItem, ActivityQuery};
use crate::data::{self, encode};
use crate::links::{CommitSha, ResourceLink};
use crate::ui::{ErrorBox, Time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn page_url(namespace: &str, cluster: &str, kind: &str, page: usize) -> String {
    let mut params = Vec::new();
    for (k, v) in [
        ("namespace", namespace),
        ("cluster", cluster),
        ("kind", kind),
    ] {
        if !v.is_empty() {
            params.push(format!("{k}={}", encode(v)));
        }
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/activity".into()
    } else {
        format!("/activity?{}", params.join("&"))
    }
}

fn headline(item: &ActivityItem) -> String {
    let cluster = item.cluster.clone().unwrap_or_default();
    match item.kind.as_str() {
        "proposed" => format!(
            "{} proposed a change",
            item.actor.as_deref().unwrap_or("someone")
        ),
        "merged" => format!(
            "{} merged a change",
            item.actor.as_deref().unwrap_or("someone")
        ),
        "rollout" => format!("{cluster} applied a new revision"),
        "drift" => format!("drift in {cluster}"),
        "failed" => format!("the operator failed in {cluster}"),
        "unreachable" => format!("{cluster} could not be reached"),
        other => other.to_owned(),
    }
}

#[component]
fn Item(item: ActivityItem) -> impl IntoView {
    let title = headline(&item);
    let drift = item
        .drift
        .iter()
        .map(|d| match &d.manager {
            Some(m) => format!("{} (changed by {m})", d.path),
            None => d.path.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <li class=format!("activity-item activity-{}", item.kind) data-kind=item.kind.clone()>
            <div class="entry-head">
                <span class=format!("badge activity-{}", item.kind)>{item.kind.clone()}</span>
                " " <strong>{title}</strong>
                {item.change.clone().map(|c| view! { " " <a href=format!("/changes/{}", c.id)>{format!("#{} {}", c.id, c.title)}</a> })}
            </div>
            <div class="sub">
                <Time at=item.at.clone()/>
                {item.ended_at.clone().map(|at| view! { " – ended " <Time at/> })}
                {(item.ended_at.is_none() && matches!(item.kind.as_str(), "drift" | "failed" | "unreachable")).then_some(" – ongoing")}
                {item.revision.clone().map(|sha| view! { " · " <CommitSha sha/> })}
                {item.resources.iter().map(|r| view! { " · " <span class="badge kind">{r.kind.clone()}</span> " " <ResourceLink kind=r.kind.clone() namespace=r.namespace.clone() name=r.name.clone()/> }).collect_view()}
            </div>
            {(!drift.is_empty()).then(|| view! { <div class="sub cell-detail">{drift}</div> })}
            {item.error.clone().map(|e| view! { <div class="sub cell-detail">{e}</div> })}
        </li>
    }
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let tick = RwSignal::new(0u64);
    super::status::listen_on("/api/v1/activity/events", "activity", move || {
        tick.update(|t| *t += 1)
    });
    let params = move || {
        let q = query.read();
        (
            q.get("namespace").unwrap_or_default(),
            q.get("cluster").unwrap_or_default(),
            q.get("kind").unwrap_or_default(),
        )
    };
    let page = move || super::apis::page_param(&query.read());
    let feed = Resource::new(
        move || (params(), page(), tick.get()),
        |((namespace, cluster, kind), page, _)| {
            data::activity(ActivityQuery {
                namespace: Some(namespace),
                cluster: Some(cluster),
                kind: Some(kind),
                page: Some(page),
                per_page: None,
            })
        },
    );
    view! {
        <Title text="Activity"/>
        <h1>"Activity"</h1>
        {move || {
            let (ns, cl, kind) = params();
            view! {
                <form class="filters" method="get" action="/activity" id="activity-filters">
                    <label>"Namespace " <input type="text" name="namespace" value=ns/></label>
                    <label>"Cluster " <input type="text" name="cluster" value=cl/></label>
                    <label>"Kind "
                        <select name="kind">
                            {["", "ApiDefinition", "SecurityPolicy", "TykOasApiDefinition", "ConfigMap"].into_iter().map(|k| view! {
                                <option value=k selected=kind == k>{if k.is_empty() { "any" } else { k }}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="submit">"Filter"</button>
                </form>
            }
        }}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || feed.get().map(|r| match r {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(feed) => {
                    let (ns, cl, kind) = params();
                    let empty = feed.items.is_empty();
                    view! {
                        {empty.then(|| view! { <p class="muted" id="no-activity">"Nothing has happened here yet."</p> })}
                        <ol class="history activity" id="activity">
                            {feed.items.into_iter().map(|item| view! { <Item item/> }).collect_view()}
                        </ol>
                        <nav class="pager" aria-label="Pages">
                            {(feed.page > 1).then(|| view! { <a rel="prev" href=page_url(&ns, &cl, &kind, feed.page - 1)>"← Newer"</a> })}
                            {feed.more.then(|| view! { <a rel="next" href=page_url(&ns, &cl, &kind, feed.page + 1)>"Older →"</a> })}
                        </nav>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
