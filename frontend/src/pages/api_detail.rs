//! An API's page: its fields, Tyk id, the policies that grant it, and its YAML.

use crate::api::{ResourceDetail, ResourceSummary};
use crate::data::{self, encode};
use crate::ui::{ActiveBadge, AuthBadge, ErrorBox, LimitsList, YamlBlock};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ApiDetailPage() -> impl IntoView {
    view! { <Detail kind="ApiDefinition"/> }
}

#[component]
pub fn OasDetailPage() -> impl IntoView {
    view! { <Detail kind="TykOasApiDefinition"/> }
}

/// Loads `kind/:namespace/:name` from the route.
pub fn detail_resource(
    kind: &'static str,
) -> Resource<Result<ResourceDetail, crate::api::ApiError>> {
    let params = use_params_map();
    Resource::new(
        move || {
            let p = params.read();
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        },
        move |(namespace, name)| data::detail(kind.to_owned(), namespace, name),
    )
}

#[component]
pub fn Heading(
    summary: ResourceSummary,
    tyk_id: Option<String>,
    label: &'static str,
) -> impl IntoView {
    view! {
        <Title text=summary.name.clone()/>
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href=if label == "Policy" { "/policies" } else { "/apis" }>{if label == "Policy" { "Policies" } else { "APIs" }}</a>
            " / " {summary.namespace.clone()}
        </nav>
        <h1>
            {summary.name.clone()}
            <span class="badge kind">{summary.kind.clone()}</span>
        </h1>
        <p class="sub">{summary.title.clone()}</p>
        <dl class="ids">
            <dt>"Namespace"</dt><dd>{summary.namespace.clone()}</dd>
            <dt>{format!("Tyk {} id", if label == "Policy" { "policy" } else { "API" })}</dt>
            <dd><code class="tyk-id">{tyk_id}</code></dd>
            <dt>"File"</dt><dd><code>{format!("{}:{}", summary.path, summary.line)}</code></dd>
        </dl>
    }
}

/// Where the resource runs: its state in each cluster, with the drift and who made it; live.
#[component]
pub fn ClusterStates(kind: String, namespace: String, name: String) -> impl IntoView {
    let query = crate::api::StatusQuery {
        kind: Some(kind.clone()),
        namespace: Some(namespace.clone()),
        name: Some(name.clone()),
        ..Default::default()
    };
    // Live: each status event refetches this resource's row.
    let tick = RwSignal::new(0u64);
    super::status::listen(tick);
    let report = Resource::new(
        move || tick.get(),
        move |_| data::sync_status(query.clone()),
    );
    // Adopting drift is for admins, as on the board (the server checks too).
    let session = Resource::new(|| (), |_| data::session());
    view! {
        <Transition fallback=|| ()>
            {move || report.get().and_then(Result::ok).filter(|r| !r.clusters.is_empty()).map(|r| {
                let cells = r.rows.iter().find(|row| row.kind == kind && row.name == name).map(|row| row.cells.clone()).unwrap_or_default();
                let can_adopt = session.get().and_then(Result::ok).is_some_and(|s| s.at_least(crate::api::Role::Admin));
                let adopt = |cluster: &str| crate::api::AdoptRequest { cluster: cluster.to_owned(), kind: kind.clone(), namespace: namespace.clone(), name: name.clone() };
                view! {
                    <section aria-labelledby="clusters-title" class="cluster-states">
                        <h2 id="clusters-title">"In the clusters"</h2>
                        <ul id="cluster-states">
                            {cells.into_iter().map(|c| view! {
                                <li>
                                    <strong>{c.cluster.clone()}</strong> " "
                                    <span class=format!("badge sync-{}", c.state)>{c.state.clone()}</span>
                                    {c.error.clone().map(|e| view! { <div class="sub">{e}</div> })}
                                    {(!c.drift.is_empty()).then(|| view! {
                                        <ul class="drift">
                                            {c.drift.iter().map(|d| {
                                                let show = |v: &Option<serde_json::Value>| v.as_ref().map_or_else(|| "absent".to_owned(), ToString::to_string);
                                                let who = d.manager.clone().map(|m| format!(" — changed by {m}{}", d.time.as_deref().map(|t| format!(" at {}", crate::ui::exact_time(t))).unwrap_or_default())).unwrap_or_default();
                                                view! { <li><code>{d.path.clone()}</code> ": Git " <code>{show(&d.desired)}</code> ", cluster " <code>{show(&d.live)}</code> {who}</li> }
                                            }).collect_view()}
                                        </ul>
                                    })}
                                    {(can_adopt && c.state == "drifted").then(|| {
                                        let request = adopt(&c.cluster);
                                        view! { <div class="adopt-drift"><super::status::AdoptButton request/></div> }
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                }
            })}
        </Transition>
    }
}

/// Edit buttons and the open change requests that touch the resource.
#[component]
pub fn EditLinks(kind: String, namespace: String, name: String) -> impl IntoView {
    let (k, ns, n) = (kind.clone(), namespace.clone(), name.clone());
    let open = Resource::new(
        || (),
        move |_| data::resource_changes(k.clone(), ns.clone(), n.clone()),
    );
    let form = crate::links::form_href(&kind, &namespace, &name);
    let yaml = format!(
        "/yaml/{}/{}/{}",
        encode(&kind),
        encode(&namespace),
        encode(&name)
    );
    let confirming = RwSignal::new(false);
    let failed = RwSignal::new(None::<crate::api::ApiError>);
    let deleting = crate::client::Action::new();
    // Proposing a delete needs a sign-in: offered only to someone signed in.
    let signed_in = crate::ui::signed_in();
    let signed_out = move || signed_in.get().flatten() != Some(true);
    let navigate = leptos_router::hooks::use_navigate();
    let request = crate::api::CreateChangeRequest {
        title: crate::titles::change_title(crate::titles::Verb::Delete, &kind, &namespace, &name),
        description: String::new(),
        edits: vec![crate::api::EditRequest {
            kind: kind.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            document: None,
            merge_patch: None,
            yaml: None,
            delete: true,
        }],
    };
    let key = (kind.clone(), namespace.clone(), name.clone());
    let kind_of_api = kind.clone();
    // Offered to someone signed out (the form asks them to sign in) and to those who may
    // propose changes to this namespace; not to a viewer or a non-owner (the server checks too).
    let session = Resource::new(|| (), |_| data::session());
    let offered = move || {
        session
            .get()
            .and_then(Result::ok)
            .map(|s| s.user.is_none() || s.may_propose_in(&namespace))
    };
    let delete = move |_| {
        let navigate = navigate.clone();
        deleting.run(
            crate::client::create_change(&request),
            move |answer| match answer {
                Ok(c) => navigate(&format!("/changes/{}", c.id), Default::default()),
                Err(e) => failed.set(Some(e)),
            },
        );
    };
    let actions = move || {
        if offered() != Some(true) {
            return None;
        }
        let (form, yaml, delete, key, kind_of_api) = (
            form.clone(),
            yaml.clone(),
            delete.clone(),
            key.clone(),
            kind_of_api.clone(),
        );
        Some(view! {
        <div class="actions edit-links">
            {form.map(|href| view! { <a class="button primary" id="edit" href=href>"Edit"</a> })}
            <a class="button" id="edit-yaml" href=yaml>"Edit YAML"</a>
            {move || if confirming.get() {
                let delete = delete.clone();
                // An API a policy grants: offer to remove the grants in the same change.
                let grants = matches!(kind_of_api.as_str(), "ApiDefinition" | "TykOasApiDefinition").then(|| {
                    let (kind, namespace, name) = key.clone();
                    view! { <super::delete_grants::RemoveGrants kind namespace name/> }
                });
                view! {
                    <span role="alert">"Propose deleting it?"</span>
                    <button type="button" id="confirm-delete" class="danger" disabled=move || deleting.busy() on:click=delete>"Propose delete"</button>
                    {grants}
                    <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                }.into_any()
            } else {
                view! { <button type="button" id="delete" disabled=signed_out title=move || signed_out().then_some("Sign in to propose changes") on:click=move |_| confirming.set(true)>"Delete…"</button> }.into_any()
            }}
        </div>
        })
    };
    view! {
        <Suspense fallback=|| ()>{actions}</Suspense>
        {move || failed.get().map(|error| view! { <ErrorBox error/> })}
        <Suspense fallback=|| ()>
            {move || open.get().and_then(Result::ok).map(|changes| {
                let (merged, open): (Vec<_>, Vec<_>) = changes.into_iter().partition(|c| c.state == "merged");
                let link = |c: crate::api::ChangeSummary| view! { <a href=format!("/changes/{}", c.id)>{format!("#{} {} ({})", c.id, c.title, c.author)}</a> " " };
                view! {
                    {(!open.is_empty()).then(|| view! {
                        <div class="open-changes" role="note">
                            <strong>"Open change requests: "</strong>
                            {open.into_iter().map(link).collect_view()}
                        </div>
                    })}
                    {(!merged.is_empty()).then(|| view! {
                        <div class="merged-changes" id="merged-changes">
                            <strong>"Merged changes: "</strong>
                            {merged.into_iter().map(link).collect_view()}
                        </div>
                    })}
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(kind: &'static str) -> impl IntoView {
    let detail = detail_resource(kind);
    let history = super::history::history_tab();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || detail.get().map(|result| match result {
                Err(error) => view! { <h1>"API"</h1><ErrorBox error/> }.into_any(),
                Ok(d) => {
                    let (k, ns, n) = (d.summary.kind.clone(), d.summary.namespace.clone(), d.summary.name.clone());
                    view! {
                    <Heading summary=d.summary.clone() tyk_id=d.tyk_id.clone() label="API"/>
                    <div class="badges">
                        <ActiveBadge active=d.summary.active/>
                        <AuthBadge mode=d.summary.auth_mode.clone()/>
                    </div>
                    <EditLinks kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone()/>
                    <super::history::ResourceTabs/>
                    <div id="overview" hidden=history>
                    <ClusterStates kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone()/>
                    <div class="columns">
                        <section aria-labelledby="fields-title">
                            <h2 id="fields-title">"Settings"</h2>
                            <dl class="fields">
                                {d.fields.iter().map(|f| view! { <dt>{f.label.clone()}</dt><dd>{f.value.clone()}</dd> }).collect_view()}
                            </dl>
                            {(!d.default_policies.is_empty()).then(|| view! {
                                <h3>"JWT default policies"</h3>
                                <ul>
                                    {d.default_policies.iter().map(|p| {
                                        let href = format!("/policies/{}", p.split('/').map(encode).collect::<Vec<_>>().join("/"));
                                        view! { <li><a href=href>{p.clone()}</a></li> }
                                    }).collect_view()}
                                </ul>
                            })}
                        </section>
                        <section aria-labelledby="granted-title">
                            <h2 id="granted-title">"Granted by policies"</h2>
                            {if d.grants.is_empty() {
                                view! { <p class="muted">"No policy grants this API."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="grants" id="granted-by">
                                        {d.grants.iter().map(|g| view! {
                                            <li>
                                                <a href=format!("/policies/{}/{}", encode(&g.namespace), encode(&g.name))>
                                                    {format!("{}/{}", g.namespace, g.name)}
                                                </a>
                                                <span class="sub">{g.title.clone()}</span>
                                                {(!g.versions.is_empty()).then(|| view! { <div class="muted">"Versions: " {g.versions.join(", ")}</div> })}
                                                {g.limits.clone().map(|limits| view! { <LimitsList limits/> })}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                    </div>
                    <YamlBlock yaml=d.yaml.clone() path=d.summary.path.clone() line=d.summary.line/>
                    </div>
                    {move || history().then(|| view! {
                        <super::history::ResourceHistory kind=k.clone() namespace=ns.clone() name=n.clone()/>
                    })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}
