//! The page header: navigation and who is signed in. On a phone the navigation collapses into
//! a `<details>` menu, which opens by touch or keyboard before the app hydrates (or without
//! JavaScript); on wider screens the stylesheet shows its content and hides its summary.

use crate::data;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Header() -> impl IntoView {
    let session = Resource::new(|| (), |_| data::session());
    let status = Resource::new(|| (), |_| data::repo_problems());
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
        } else if prefix == "/changes" {
            // `/changes/new` is the collected change, linked on its own.
            path.starts_with(prefix) && path != "/changes/new"
        } else {
            path.starts_with(prefix)
        };
        if here { Some("page") } else { None }
    };
    // Following a link of the open phone menu closes it (a client-side navigation keeps the
    // header, so the menu would otherwise stay open over the new page).
    let menu = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        #[cfg(feature = "hydrate")]
        if previous.is_some_and(|p| p != path)
            && let Some(menu) = menu.get_untracked()
        {
            let _ = menu.remove_attribute("open");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (previous, menu);
        path
    });
    view! {
        <header class="top">
            <a class="brand" href="/apis" aria-label="Tollgate home">
                <img class="logo" src="/assets/favicon.svg" alt="" width="22" height="22"/>
                "Tollgate"
            </a>
            <details class="menu" node_ref=menu>
                <summary>"Menu"</summary>
                <div class="menu-body">
                    <nav aria-label="Main">
                        <a href="/apis" aria-current=move || current("/apis")>"APIs"</a>
                        <a href="/policies" aria-current=move || current("/policies")>"Policies"</a>
                        <a href="/changes" aria-current=move || current("/changes")>"Changes"</a>
                        <crate::pages::BasketLink/>
                        <a href="/status" aria-current=move || current("/status")>"Status"</a>
                        <a href="/activity" aria-current=move || current("/activity")>"Activity"</a>
                        <a href="/insights" aria-current=move || current("/insights")>"Insights"</a>
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
                                    <span class="user" title=s.role.map_or_else(|| "Signed in".to_owned(), |r| format!("Signed in ({r})"))>{user}</span>
                                    <a href="/settings/tokens" id="nav-tokens" aria-current=move || current("/settings")>"Tokens"</a>
                                    <form method="post" action="/auth/logout" class="inline">
                                        <input type="hidden" name="csrf_token" value=s.csrf_token.clone().unwrap_or_default()/>
                                        <button type="submit" class="link">"Sign out"</button>
                                    </form>
                                }.into_any(),
                                None if s.demo_login => view! { <a href=sign_in.clone()>"Sign in"</a> }.into_any(),
                                None => ().into_any(),
                            })}
                        </Suspense>
                    </div>
                </div>
            </details>
        </header>
        // While the Git host cannot be reached, pages read Tollgate's mirror as last fetched.
        <Suspense fallback=|| ()>
            {move || status.get().and_then(Result::ok).and_then(|s| s.host).and_then(|h| {
                let error = h.error?;
                let since = match (h.fetched_commit, h.fetched_at) {
                    (Some(commit), at) => {
                        let short = commit.get(..8).unwrap_or(&commit).to_owned();
                        view! {
                            {format!("Showing {} as last fetched: commit {short}", h.repo)}
                            {at.map(|at| view! { ", fetched " <crate::ui::Time at/> })}
                            "."
                        }
                        .into_any()
                    }
                    _ => format!("Nothing has been fetched from {} yet.", h.repo).into_any(),
                };
                Some(view! {
                    <div class="notice host-down" role="status" id="host-banner">
                        <strong>{format!("The {} host cannot be reached. ", h.kind)}</strong>
                        {since} " " <span class="muted">{error}</span>
                    </div>
                })
            })}
        </Suspense>
    }
}
