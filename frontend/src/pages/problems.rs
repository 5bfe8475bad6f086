//! Problems found in the config repo: syntax errors, schema mismatches, duplicates, and
//! resources the rules of an edit refuse (what the operator or the API server would reject).

use crate::data;
use crate::links::ResourceLink;
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProblemsPage() -> impl IntoView {
    let problems = Resource::new(|| (), |_| data::problems());
    view! {
        <Title text="Repo problems"/>
        <h1>"Repo problems"</h1>
        <p class="muted">"Files in the config repo that Tollgate could not read or that define the same resource twice, and resources that break the rules every edit is checked by (CRD schema, the operator's webhook, unique listen paths, references): the operator would reject them. The rest of the repo is still shown."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || problems.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(list) if list.items.is_empty() => view! { <p class="ok-note">"No problems: every file reads cleanly and every resource passes the rules."</p> }.into_any(),
                Ok(list) => view! {
                    <table class="list" id="problems">
                        <thead><tr><th scope="col">"File"</th><th scope="col">"Kind"</th><th scope="col">"Problem"</th></tr></thead>
                        <tbody>
                            {list.items.iter().map(|p| view! {
                                <tr>
                                    <td><code>{match p.line { Some(l) => format!("{}:{l}", p.path), None => p.path.clone() }}</code></td>
                                    <td><span class=format!("badge problem-{}", p.kind)>{p.kind.replace('_', " ")}</span></td>
                                    <td>
                                        {p.resource.clone().map(|r| view! { <span class="badge kind">{r.kind.clone()}</span> " " <ResourceLink kind=r.kind namespace=r.namespace name=r.name/> <br/> })}
                                        {p.message.clone()}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </Transition>
    }
}
