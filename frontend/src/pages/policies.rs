//! The policies list.

use super::apis::{FilterForm, ListFrame, detail_href, list_params, list_resource};
use crate::ui::{ActiveBadge, ErrorBox};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let params = list_params();
    let list = list_resource("SecurityPolicy", params);
    view! {
        <Title text="Policies"/>
        <h1>"Policies" <a class="button primary small" href="/policies/new" id="new-policy">"Add a policy"</a></h1>
        <FilterForm base="/policies" params placeholder="Name, namespace, tag…"/>
        <Transition fallback=|| view! { <p class="muted">"Loading policies…"</p> }>
            {move || list.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(list) => view! {
                    <ListFrame base="/policies" list=list.clone() params noun="policies">
                        <table class="list" id="policies">
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Namespace"</th>
                                <th scope="col">"State"</th><th scope="col">"APIs granted"</th>
                                <th scope="col">"Active"</th>
                            </tr></thead>
                            <tbody>
                                {list.items.iter().map(|s| view! {
                                    <tr>
                                        <td>
                                            <a href=detail_href(s) class="name">{s.name.clone()}</a>
                                            <div class="sub">{s.title.clone()}</div>
                                        </td>
                                        <td>{s.namespace.clone()}</td>
                                        <td><span class=format!("badge state-{}", s.state.clone().unwrap_or_default())>{s.state.clone()}</span></td>
                                        <td>{s.grants.unwrap_or_default()}</td>
                                        <td><ActiveBadge active=s.active/></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </ListFrame>
                }.into_any(),
            })}
        </Transition>
    }
}
