//! The page header: navigation and who is signed in.

use crate::data;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Header() -> impl IntoView {
    let session = Resource::new(|| (), |_| data::session());
    let status = Resource::new(|| (), |_| data::repo_status());
    let location = use_location();
    // Signing in comes back here (but not to the sign-in page itself).
    let sign_in = {
        let (back, path) = (crate::ui::sign_in_href(), location.pathname);
        move || {
            if path.get().starts_with("/login") {
                "/login".to_owned()
            } else {
                back()
            }
        }
    };
    let current = move |prefix: &'static str| {
        let path = location.pathname.get();
        let here = if prefix == "/apis" {
            path == "/" || path.starts_with("/apis") || path.starts_with("/oas")
        } else {
            path.starts_with(prefix)
        };
        if here { Some("page") } else { None }
    };
    view! {
        <header class="top">
            <a class="brand" href="/apis" aria-label="Tollgate home">
                <img class="logo" src="/assets/favicon.svg" alt="" width="22" height="22"/>
                "Tollgate"
            </a>
            <nav aria-label="Main">
                <a href="/apis" aria-current=move || current("/apis")>"APIs"</a>
                <a href="/policies" aria-current=move || current("/policies")>"Policies"</a>
                <a href="/changes" aria-current=move || current("/changes")>"Changes"</a>
                <a href="/status" aria-current=move || current("/status")>"Status"</a>
                <a href="/problems" aria-current=move || current("/problems")>
                    "Repo problems"
                    <Suspense fallback=|| ()>
                        {move || status.get().and_then(Result::ok).filter(|s| s.problems > 0).map(|s| view! {
                            <span class="count" aria-label=format!("{} problems", s.problems)>{s.problems}</span>
                        })}
                    </Suspense>
                </a>
            </nav>
            <div class="who">
                <Suspense fallback=|| ()>
                    {move || session.get().and_then(Result::ok).map(|s| match s.user {
                        Some(user) => view! {
                            <span class="user" title="Signed in">{user}</span>
                            <form method="post" action="/auth/logout" class="inline">
                                <button type="submit" class="link">"Sign out"</button>
                            </form>
                        }.into_any(),
                        None if s.demo_login => view! { <a href=sign_in.clone()>"Sign in"</a> }.into_any(),
                        None => ().into_any(),
                    })}
                </Suspense>
            </div>
        </header>
    }
}
