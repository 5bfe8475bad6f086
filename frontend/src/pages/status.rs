//! The ops status board: every API and policy × every cluster, with counts per state and
//! filters. Rendered on the server (works without JavaScript, e.g. on a wall screen), then live:
//! a server-sent event announces each new report and the board refetches it.

use crate::api::{StatusCell, StatusQuery};
use crate::data::{self, encode};
use crate::links::{CommitSha, ResourceLink};
use crate::ui::{ErrorBox, Time, exact_time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn board_url(namespace: &str, state: &str, cluster: &str) -> String {
    page_url(namespace, state, cluster, 1)
}

fn page_url(namespace: &str, state: &str, cluster: &str, page: usize) -> String {
    let mut params = Vec::new();
    for (k, v) in [
        ("namespace", namespace),
        ("state", state),
        ("cluster", cluster),
    ] {
        if !v.is_empty() {
            params.push(format!("{k}={}", encode(v)));
        }
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        "/status".into()
    } else {
        format!("/status?{}", params.join("&"))
    }
}

/// Opens the event stream once hydrated; each event bumps `tick`.
pub(crate) fn listen(tick: RwSignal<u64>) {
    listen_on("/api/v1/status/events", "status", move || {
        tick.update(|t| *t += 1)
    });
}

/// Once hydrated, calls `on` for every `event` of the event stream at `url`; the stream closes
/// with the page.
pub(crate) fn listen_on(url: &'static str, event: &'static str, on: impl Fn() + 'static) {
    listen_at(move || url.to_owned(), event, on);
}

/// [`listen_on`] with a URL computed once hydrated.
pub(crate) fn listen_at(
    url: impl Fn() -> String + 'static,
    event: &'static str,
    on: impl Fn() + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        let on = std::rc::Rc::new(on);
        Effect::new(move |_| {
            use wasm_bindgen::JsCast;
            use wasm_bindgen::closure::Closure;
            let Ok(source) = web_sys::EventSource::new(&url()) else {
                return;
            };
            let on = std::rc::Rc::clone(&on);
            let callback = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |_: web_sys::MessageEvent| on(),
            );
            let _ =
                source.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
            callback.forget();
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || source.close());
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, event, on);
}

fn cell_detail(c: &StatusCell) -> Option<String> {
    match c.state.as_str() {
        "drifted" => Some(
            c.drift
                .iter()
                .map(|d| {
                    let who = match (&d.manager, &d.time) {
                        (Some(m), Some(t)) => format!(" (changed by {m} at {})", exact_time(t)),
                        (Some(m), None) => format!(" (changed by {m})"),
                        _ => String::new(),
                    };
                    let show = |v: &Option<serde_json::Value>| {
                        v.as_ref()
                            .map_or_else(|| "absent".to_owned(), ToString::to_string)
                    };
                    format!(
                        "{}: Git {} → live {}{who}",
                        d.path,
                        show(&d.desired),
                        show(&d.live)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        "failed" => c.error.clone(),
        "unknown" => Some(format!(
            "cluster unreachable; last {} seen {}",
            c.last_known
                .clone()
                .unwrap_or_else(|| "state unknown".into()),
            c.last_seen
                .as_deref()
                .map_or_else(|| "never".into(), exact_time)
        )),
        _ => None,
    }
}

/// A cluster's resources as one bar, a segment per state: the picture a wall screen needs.
fn state_bar(counts: &[crate::api::StateCount]) -> impl IntoView + use<> {
    let total: usize = counts.iter().map(|c| c.count).sum();
    let label = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| format!("{} {}", c.count, c.state))
        .collect::<Vec<_>>()
        .join(", ");
    let segments = counts
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| {
            // Hundredths of a percent, in integers: no float formatting in the main module.
            let share = c.count * 10_000 / total.max(1);
            let width = format!("width: {}.{:02}%", share / 100, share % 100);
            view! { <span class=format!("segment state-{}", c.state) style=width title=format!("{} {}", c.count, c.state)></span> }
        })
        .collect_view();
    (total > 0).then(|| {
        view! {
            <div class="state-bar" role="img" aria-label=label>{segments}</div>
        }
    })
}

/// "Rows 101–200 of 10,000" with links to the neighbouring pages.
fn pager(
    ns: &str,
    st: &str,
    cl: &str,
    page: usize,
    per_page: usize,
    total: usize,
) -> impl IntoView {
    let first = (page - 1) * per_page + 1;
    let last = (page * per_page).min(total);
    let pages = total.div_ceil(per_page.max(1));
    view! {
        <nav class="pager" aria-label="Pages" id="pager">
            {(page > 1).then(|| view! { <a rel="prev" href=page_url(ns, st, cl, page - 1)>"← Previous"</a> })}
            <span class="muted">{if total == 0 { "No rows".to_owned() } else { format!("Rows {first}–{last} of {total}") }}</span>
            {(page < pages).then(|| view! { <a rel="next" href=page_url(ns, st, cl, page + 1)>"Next →"</a> })}
        </nav>
    }
}

/// "Adopt into Git": the live values become a change request (admins; the pages offer it
/// only to them). Everything a click does is in [`adopt`], loaded on the first click, so the
/// board's first load carries none of it; as every action, a second click while it is in
/// flight does nothing and a retry sends the same `Idempotency-Key`.
#[component]
pub(crate) fn AdoptButton(request: crate::api::AdoptRequest) -> impl IntoView {
    let failed = RwSignal::new(None::<crate::api::ApiError>);
    let adopting = crate::client::Action::new();
    let navigate = leptos_router::hooks::use_navigate();
    let go = Callback::new(move |to: String| navigate(&to, Default::default()));
    let on_click = move |_| leptos::task::spawn_local(adopt(request.clone(), adopting, failed, go));
    view! {
        <button type="button" class="adopt small" disabled=move || adopting.busy() on:click=on_click title="Propose a change that makes Git match the cluster">"Adopt into Git"</button>
        {move || failed.get().map(|error| view! { <ErrorBox error/> })}
    }
}

/// `POST /api/v1/status/adopt` through `adopting` (a click while one is in flight does
/// nothing: the clicks that raced the loading of this code find it busy); then to the change
/// request it made, or the error in `failed`.
#[cfg_attr(not(test), leptos::lazy)]
async fn adopt(
    request: crate::api::AdoptRequest,
    adopting: crate::client::Action,
    failed: RwSignal<Option<crate::api::ApiError>>,
    go: Callback<String>,
) {
    let fingerprint = format!(
        "adopt {}/{}/{}/{}",
        request.cluster, request.kind, request.namespace, request.name
    );
    adopting.run_with(
        fingerprint,
        move |key| async move {
            crate::client::send(crate::client::adopt(&request), &key)
                .await
                .map(|created| created.id)
        },
        move |answer| match answer {
            Ok(id) => go.run(format!("/changes/{id}")),
            Err(e) => failed.set(Some(e)),
        },
    );
}

#[component]
pub fn StatusPage() -> impl IntoView {
    let query = use_query_map();
    let tick = RwSignal::new(0u64);
    listen(tick);
    let params = move || {
        let q = query.read();
        (
            q.get("namespace").unwrap_or_default(),
            q.get("state").unwrap_or_default(),
            q.get("cluster").unwrap_or_default(),
        )
    };
    let page = move || super::apis::page_param(&query.read());
    let report = Resource::new(
        move || (params(), page(), tick.get()),
        |((namespace, state, cluster), page, _)| {
            data::sync_status(StatusQuery {
                namespace: Some(namespace),
                state: Some(state),
                cluster: Some(cluster),
                page: Some(page),
                ..Default::default()
            })
        },
    );
    // Adopting drift is for admins (the server checks too): a viewer's board has no buttons.
    let session = Resource::new(|| (), |_| data::session());
    view! {
        <Title text="Status"/>
        <h1>"Status"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || report.get().map(|r| match r {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(report) if report.clusters.is_empty() && params() == Default::default() => view! {
                    <p class="muted" id="no-clusters">"No clusters are configured. Add [[clusters]] to the configuration to see what runs where."</p>
                }.into_any(),
                Ok(report) => {
                    let (ns, st, cl) = params();
                    let clusters = report.clusters.clone();
                    let can_adopt = session.get().and_then(Result::ok).is_some_and(|s| s.at_least(crate::api::Role::Admin));
                    view! {
                        <div class="clusters" role="list" aria-label="Clusters">
                            {clusters.iter().map(|c| view! {
                                <div role="listitem" class=if c.reachable { "cluster up" } else { "cluster down" }>
                                    <strong>{c.name.clone()}</strong>
                                    <span class="sub">{format!(" {} · {}", c.environment, if c.reachable { "reachable" } else { "unreachable" })}</span>
                                    <div class="sub">{c.applied_revision.clone().map(|sha| view! { "applied " <CommitSha sha/> })}
                                        {c.head_revision.clone().filter(|h| Some(h) != c.applied_revision.as_ref()).map(|sha| view! { {if c.applied_revision.is_some() { " · head " } else { "head " }} <CommitSha sha/> })}</div>
                                    <div class="sub">{match c.last_seen.clone() { Some(at) => view! { "last seen " <Time at/> }.into_any(), None => "never seen".into_any() }}</div>
                                    {state_bar(&c.counts)}
                                    {c.error.clone().filter(|_| !c.reachable).map(|e| view! { <div class="sub cell-detail">{e}</div> })}
                                </div>
                            }).collect_view()}
                        </div>
                        <nav class="chips" aria-label="States" id="state-counts">
                            <a class="chip" href=board_url(&ns, "", &cl) aria-current=st.is_empty().then_some("true")>"all"</a>
                            {
                                let problems: usize = report.counts.iter().filter(|c| c.state != "synced").map(|c| c.count).sum();
                                (problems > 0 || st == "problems").then(|| view! {
                                    <a class="chip state-problems" href=board_url(&ns, "problems", &cl) aria-current=(st == "problems").then_some("true")
                                        title="Everything not synced">{format!("problems {problems}")}</a>
                                })
                            }
                            {report.counts.iter().filter(|c| c.count > 0 || st == c.state).map(|c| view! {
                                <a class=format!("chip state-{}", c.state) href=board_url(&ns, &c.state, &cl) aria-current=(st == c.state).then_some("true")>
                                    {format!("{} {}", c.state, c.count)}
                                </a>
                            }).collect_view()}
                        </nav>
                        <table class="list board" id="board">
                            <thead><tr>
                                <th scope="col">"Resource"</th>
                                {clusters.iter().map(|c| view! { <th scope="col"><a href=board_url(&ns, &st, &c.name)>{c.name.clone()}</a></th> }).collect_view()}
                            </tr></thead>
                            <tbody>
                                {report.rows.iter().map(|row| view! {
                                    <tr data-resource=format!("{}/{}/{}", row.kind, row.namespace, row.name)>
                                        <td><span class="badge kind">{row.kind.clone()}</span> " " {match &row.oas {
                                            Some(oas) => view! { <a class="resource-link" href=crate::links::resource_href(&oas.kind, &oas.namespace, &oas.name) title=format!("OAS API {}/{}", oas.namespace, oas.name)>{format!("{}/{}", row.namespace, row.name)}</a> }.into_any(),
                                            None => view! { <ResourceLink kind=row.kind.clone() namespace=row.namespace.clone() name=row.name.clone()/> }.into_any(),
                                        }}</td>
                                        {row.cells.iter().map(|c| {
                                            let detail = cell_detail(c);
                                            let adopt = (can_adopt && c.state == "drifted").then(|| {
                                                let request = crate::api::AdoptRequest { cluster: c.cluster.clone(), kind: row.kind.clone(), namespace: row.namespace.clone(), name: row.name.clone() };
                                                view! { <AdoptButton request/> }
                                            });
                                            view! {
                                                <td data-cluster=c.cluster.clone()>
                                                    <span class=format!("badge sync-{}", c.state)>{c.state.clone()}</span>
                                                    {detail.map(|d| view! { <div class="sub cell-detail">{d}</div> })}
                                                    {c.change.clone().filter(|_| c.state == "pending").map(|ch| view! {
                                                        <div class="sub cell-detail rollout">"rolling out " <a href=format!("/changes/{}", ch.id)>{format!("#{} {}", ch.id, ch.title)}</a></div>
                                                    })}
                                                    {adopt}
                                                </td>
                                            }
                                        }).collect_view()}
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {pager(&ns, &st, &cl, report.page, report.per_page, report.total_rows)}
                        <p class="muted">{format!("Report {}, made ", report.version)} <Time at=report.generated_at.clone()/></p>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
