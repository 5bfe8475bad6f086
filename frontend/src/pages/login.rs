//! Sign in. In the demo: pick a person (no password), so review flows can show two people.

use crate::data;
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Resource::new(|| (), |_| data::session());
    // Where to return after signing in; the server accepts only a local path.
    let query = leptos_router::hooks::use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <Title text="Sign in"/>
        <h1>"Sign in"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || session.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(s) if !s.demo_login && s.providers.is_empty() => view! {
                    <p>"No sign-in method is configured on this server."</p>
                }.into_any(),
                Ok(s) => view! {
                    {s.user.clone().map(|u| view! { <p>"You are signed in as " <strong>{u}</strong> {s.role.map(|r| format!(" ({r})"))} "."</p> })}
                    {(!s.providers.is_empty()).then(|| view! {
                        <div class="providers" id="providers">
                            {s.providers.iter().map(|p| {
                                let name = p.clone();
                                view! {
                                    <a class="button primary" rel="external" href=move || format!("/auth/{}/login?next={}", name, crate::data::encode(&next()))>{format!("Sign in with {p}")}</a>
                                }
                            }).collect_view()}
                        </div>
                    })}
                    {s.demo_login.then(|| view! {
                    <p class="muted">"Demo sign-in: choose who you are. There is no password; do not use this in production."</p>
                    <div class="demo-users">
                        {s.demo_users.iter().map(|u| view! {
                            <form method="post" action="/auth/demo" class="inline">
                                <input type="hidden" name="user" value=u.clone()/>
                                <input type="hidden" name="next" value=next/>
                                <button type="submit">{format!("Continue as {u}")}</button>
                            </form>
                        }).collect_view()}
                    </div>
                    <form method="post" action="/auth/demo" class="other-user">
                        <label for="user">"Or another name"</label>
                        <input type="hidden" name="next" value=next/>
                        <input id="user" name="user" required pattern="[A-Za-z0-9._\\-]{1,64}" autocomplete="username"/>
                        <button type="submit">"Sign in"</button>
                    </form>
                    })}
                }.into_any(),
            })}
        </Suspense>
    }
}
