//! The APIs list: filter as you type, namespace chips, paging. Works without JavaScript too
//! (the filter is a GET form; chips and pager are links).

use super::PAGE_SIZE;
use crate::api::{ResourceList, ResourceQuery, ResourceSummary};
use crate::data::{self, encode};
use crate::ui::{ActiveBadge, AuthBadge, ErrorBox};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// `?q=&namespace=&page=` of a list page.
pub fn list_url(base: &str, q: &str, namespace: &str, page: usize) -> String {
    let mut params = Vec::new();
    if !q.is_empty() {
        params.push(format!("q={}", encode(q)));
    }
    if !namespace.is_empty() {
        params.push(format!("namespace={}", encode(namespace)));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

/// The query-string state shared by the list pages.
#[derive(Clone, Copy)]
pub struct ListParams {
    pub q: Signal<String>,
    pub namespace: Signal<String>,
    pub page: Signal<usize>,
}

pub fn list_params() -> ListParams {
    let query = use_query_map();
    ListParams {
        q: Signal::derive(move || query.read().get("q").unwrap_or_default()),
        namespace: Signal::derive(move || query.read().get("namespace").unwrap_or_default()),
        page: Signal::derive(move || page_param(&query.read())),
    }
}

/// `?page=` as a 1-based page number (1 when absent or not a number).
pub fn page_param(query: &leptos_router::params::ParamsMap) -> usize {
    query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1)
}

pub fn list_resource(
    kind: &'static str,
    params: ListParams,
) -> Resource<Result<ResourceList, crate::api::ApiError>> {
    Resource::new(
        move || (params.q.get(), params.namespace.get(), params.page.get()),
        move |(q, namespace, page)| {
            data::list(ResourceQuery {
                kind: Some(kind.to_owned()),
                namespace: Some(namespace),
                q: Some(q),
                offset: Some((page - 1) * PAGE_SIZE),
                limit: Some(PAGE_SIZE),
                page: None,
            })
        },
    )
}

/// Filter box; typing updates the URL (and so the list) without a reload.
#[component]
pub fn FilterForm(
    base: &'static str,
    params: ListParams,
    placeholder: &'static str,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let url = list_url(base, &value, &params.namespace.get_untracked(), 1);
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <form method="get" action=base role="search" class="filters">
            <label for="filter">"Filter"</label>
            <input id="filter" type="search" name="q" autocomplete="off" placeholder=placeholder
                prop:value=move || params.q.get() on:input=on_input/>
            <input type="hidden" name="namespace" prop:value=move || params.namespace.get()/>
            <noscript><button type="submit">"Filter"</button></noscript>
        </form>
    }
}

/// Namespace chips and the pager around a list.
#[component]
pub fn ListFrame(
    base: &'static str,
    list: ResourceList,
    params: ListParams,
    noun: &'static str,
    children: Children,
) -> impl IntoView {
    let q = params.q.get_untracked();
    let current_ns = params.namespace.get_untracked();
    // The page served, not the one asked for: past the end, the server serves the last.
    let page = list.page;
    let first = if list.total == 0 { 0 } else { list.offset + 1 };
    let last = list.offset + list.items.len();
    let pages = list.total.div_ceil(PAGE_SIZE).max(1);
    let chip = |label: String, ns: String, current: bool| {
        let href = list_url(base, &q, &ns, 1);
        view! { <a class="chip" href=href aria-current=current.then_some("true")>{label}</a> }
    };
    let mut chips = vec![chip(
        "all namespaces".into(),
        String::new(),
        current_ns.is_empty(),
    )];
    chips.extend(
        list.namespaces
            .iter()
            .map(|ns| chip(ns.clone(), ns.clone(), *ns == current_ns)),
    );
    view! {
        <nav class="chips" aria-label="Namespaces">{chips}</nav>
        <p class="muted" aria-live="polite" id="result-count">
            {if list.total == 0 { format!("No {noun} match.") } else { format!("Showing {first}–{last} of {} {noun}", list.total) }}
        </p>
        {children()}
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a rel="prev" href=list_url(base, &q, &current_ns, page - 1)>"← Previous"</a> })}
            <span>{format!("Page {page} of {pages}")}</span>
            {(page < pages).then(|| view! { <a rel="next" href=list_url(base, &q, &current_ns, page + 1)>"Next →"</a> })}
        </nav>
    }
}

pub fn detail_href(s: &ResourceSummary) -> String {
    let section = match s.kind.as_str() {
        "TykOasApiDefinition" => "oas",
        "SecurityPolicy" => "policies",
        _ => "apis",
    };
    format!("/{section}/{}/{}", encode(&s.namespace), encode(&s.name))
}

#[component]
pub fn ApisPage() -> impl IntoView {
    let params = list_params();
    let list = list_resource("ApiDefinition,TykOasApiDefinition", params);
    view! {
        <Title text="APIs"/>
        <h1>"APIs" <a class="button primary small" href="/apis/new" id="new-api">"Add an API"</a></h1>
        <FilterForm base="/apis" params placeholder="Name, listen path, target, auth, tag…"/>
        <Transition fallback=|| view! { <p class="muted">"Loading APIs…"</p> }>
            {move || list.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(list) => view! {
                    <ListFrame base="/apis" list=list.clone() params noun="APIs">
                        <table class="list" id="apis">
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Namespace"</th>
                                <th scope="col">"Listen path"</th><th scope="col">"Target"</th>
                                <th scope="col">"Auth"</th><th scope="col">"State"</th>
                            </tr></thead>
                            <tbody>
                                {list.items.iter().map(|s| {
                                    let href = detail_href(s);
                                    let oas = s.kind == "TykOasApiDefinition";
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=href class="name">{s.name.clone()}</a>
                                                {oas.then(|| view! { <span class="badge kind" title="Tyk OAS API">"OAS"</span> })}
                                                <div class="sub">{s.title.clone()}</div>
                                            </td>
                                            <td>{s.namespace.clone()}</td>
                                            <td><code>{s.listen_path.clone()}</code></td>
                                            <td class="target">{s.target.clone()}</td>
                                            <td><AuthBadge mode=s.auth_mode.clone()/></td>
                                            <td><ApiState active=s.active clusters=s.clusters.clone()/></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </ListFrame>
                }.into_any(),
            })}
        </Transition>
    }
}

/// What an API's state is: off when `spec.active` is false; otherwise what the clusters make of
/// it (an API the operator rejects everywhere is *failed*, not a green "active"), one badge per
/// cluster; without clusters, `spec.active` alone.
#[component]
fn ApiState(active: Option<bool>, clusters: Vec<crate::api::ClusterState>) -> impl IntoView {
    if clusters.is_empty() || active == Some(false) {
        return view! { <ActiveBadge active/> }.into_any();
    }
    view! {
        <span class="cluster-states">
            {clusters.into_iter().map(|c| {
                let class = format!("badge sync-{}", c.state);
                let label = format!("{}: {}", c.cluster, c.state);
                let title = label.clone();
                view! { <span class=class title=title>{label}</span> " " }
            }).collect_view()}
        </span>
    }
    .into_any()
}
