//! A policy's page: its state, limits, the APIs it grants, and its YAML.

use super::api_detail::{ClusterStates, EditLinks, Heading, detail_resource};
use crate::data::encode;
use crate::ui::{ActiveBadge, ErrorBox, LimitsList, YamlBlock};
use leptos::prelude::*;

#[component]
pub fn PolicyDetailPage() -> impl IntoView {
    let detail = detail_resource("SecurityPolicy");
    let history = super::history::history_tab();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || detail.get().map(|result| match result {
                Err(error) => view! { <h1>"Policy"</h1><ErrorBox error/> }.into_any(),
                Ok(d) => {
                    let (k, ns, n) = (d.summary.kind.clone(), d.summary.namespace.clone(), d.summary.name.clone());
                    view! {
                    <Heading summary=d.summary.clone() tyk_id=d.tyk_id.clone() label="Policy"/>
                    <div class="badges">
                        <ActiveBadge active=d.summary.active/>
                        <span class=format!("badge state-{}", d.summary.state.clone().unwrap_or_default())>{d.summary.state.clone()}</span>
                    </div>
                    <EditLinks kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone()/>
                    <super::history::ResourceTabs/>
                    <div id="overview" hidden=history>
                    <ClusterStates kind=d.summary.kind.clone() namespace=d.summary.namespace.clone() name=d.summary.name.clone()/>
                    <div class="columns">
                        <section aria-labelledby="limits-title">
                            <h2 id="limits-title">"Limits"</h2>
                            {d.limits.clone().map(|limits| view! { <LimitsList limits/> })}
                            <dl class="fields">
                                {d.fields.iter().map(|f| view! { <dt>{f.label.clone()}</dt><dd>{f.value.clone()}</dd> }).collect_view()}
                            </dl>
                        </section>
                        <section aria-labelledby="grants-title">
                            <h2 id="grants-title">"APIs granted"</h2>
                            <table class="list" id="grants">
                                <thead><tr><th scope="col">"API"</th><th scope="col">"Versions"</th><th scope="col">"Allowed URLs"</th><th scope="col">"Per-API limits"</th></tr></thead>
                                <tbody>
                                    {d.grants.iter().map(|g| {
                                        let section = if g.kind == "TykOasApiDefinition" { "oas" } else { "apis" };
                                        let href = format!("/{section}/{}/{}", encode(&g.namespace), encode(&g.name));
                                        view! {
                                            <tr>
                                                <td>
                                                    {if g.exists {
                                                        view! { <a href=href>{format!("{}/{}", g.namespace, g.name)}</a> }.into_any()
                                                    } else {
                                                        view! { <span class="missing" title="Not in the config repo">{format!("{}/{} (missing)", g.namespace, g.name)}</span> }.into_any()
                                                    }}
                                                    <div class="sub">{g.title.clone()}</div>
                                                </td>
                                                <td>{g.versions.join(", ")}</td>
                                                <td>{g.allowed_urls.iter().map(|u| view! { <code class="url">{u.clone()}</code> }).collect_view()}</td>
                                                <td>{g.limits.clone().map_or_else(|| view! { <span class="muted">"policy limits"</span> }.into_any(), |limits| view! { <LimitsList limits/> }.into_any())}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
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
