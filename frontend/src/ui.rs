//! Small shared components.

use crate::api::{ApiError, Limits};
use crate::data;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// An error box that says what went wrong.
#[component]
pub fn ErrorBox(error: ApiError) -> impl IntoView {
    // A page whose subject does not exist is a 404, not a 200 with an error on it.
    if error.code == "not_found" {
        crate::pages::not_found_status();
    }
    view! {
        <div class="error" role="alert">
            <strong>{error.code.replace('_', " ")}</strong>
            ": "
            {error.message}
            {error.field.map(|f| view! { " (" <code>{f}</code> ")" })}
            {(!error.issues.is_empty()).then(|| view! {
                <ul>
                    {error.issues.into_iter().map(|i| view! { <li><code>{i.resource}</code> " " <code>{i.field}</code> ": " {i.message}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// `/login?next=…` back to the current page (path and query).
pub fn sign_in_href() -> impl Fn() -> String + Send + Sync + Clone + 'static {
    let location = use_location();
    let (pathname, search) = (location.pathname, location.search);
    move || {
        let (path, search) = (pathname.get(), search.get());
        let here = if search.is_empty() || search.starts_with('?') {
            format!("{path}{search}")
        } else {
            format!("{path}?{search}")
        };
        format!("/login?next={}", data::encode(&here))
    }
}

/// Whether someone is signed in: `None` while the session loads. Read it inside a
/// `Suspense`/`Transition`, so the server renders what the browser hydrates.
pub fn signed_in() -> Resource<Option<bool>> {
    Resource::new(
        || (),
        |_| async { data::session().await.ok().map(|s| s.user.is_some()) },
    )
}

/// Said at the top of an edit form to someone signed out: writes need a sign-in first, and
/// signing in comes back here.
#[component]
pub fn SignInNotice(signed_in: Resource<Option<bool>>) -> impl IntoView {
    let href = sign_in_href();
    view! {
        <Suspense fallback=|| ()>
            {move || (signed_in.get().flatten() == Some(false)).then(|| view! {
                <div class="notice" role="note" id="sign-in-notice">
                    "You are not signed in. "
                    <a href=href.clone() id="sign-in-to-propose">"Sign in to propose changes"</a>
                    " — you will come back to this page."
                </div>
            })}
        </Suspense>
    }
}

/// Active / inactive badge.
#[component]
pub fn ActiveBadge(active: Option<bool>) -> impl IntoView {
    match active {
        Some(true) => view! { <span class="badge ok">"active"</span> }.into_any(),
        Some(false) => view! { <span class="badge off">"inactive"</span> }.into_any(),
        None => view! { <span class="badge muted">"—"</span> }.into_any(),
    }
}

/// Auth mode badge.
#[component]
pub fn AuthBadge(mode: Option<String>) -> impl IntoView {
    let mode = mode.unwrap_or_else(|| "—".into());
    let class = format!("badge auth auth-{mode}");
    view! { <span class=class>{mode}</span> }
}

/// The document as written in the repo.
#[component]
pub fn YamlBlock(yaml: String, path: String, line: u32) -> impl IntoView {
    view! {
        <section class="yaml" aria-labelledby="yaml-title">
            <h2 id="yaml-title">"YAML"</h2>
            <p class="muted">"From " <code>{format!("{path}:{line}")}</code></p>
            // It scrolls on its own: focusable, so a keyboard can scroll it too.
            <pre tabindex="0" role="region" aria-label="YAML text"><code>{yaml}</code></pre>
        </section>
    }
}

fn per(n: i64, per: Option<i64>) -> String {
    match per {
        Some(p) => format!("{n} per {p} s"),
        None => n.to_string(),
    }
}

/// Rate, quota and throttling as a readable list.
#[component]
pub fn LimitsList(limits: Limits) -> impl IntoView {
    let unlimited = |v: Option<i64>| matches!(v, None | Some(-1));
    let rate = if unlimited(limits.rate) {
        "unlimited".to_owned()
    } else {
        per(limits.rate.unwrap_or_default(), limits.per)
    };
    let quota = if unlimited(limits.quota_max) {
        "unlimited".to_owned()
    } else {
        match limits.quota_renewal_rate {
            Some(r) => format!("{} per {r} s", limits.quota_max.unwrap_or_default()),
            None => limits.quota_max.unwrap_or_default().to_string(),
        }
    };
    let throttle = match (limits.throttle_interval, limits.throttle_retry_limit) {
        (Some(i), Some(r)) if i > 0 => format!("retry {r} times every {i} s"),
        _ => "off".to_owned(),
    };
    let expiry = match limits.key_expires_in {
        Some(s) if s > 0 => format!("{} days", s / 86_400),
        Some(_) => "never".to_owned(),
        None => "—".to_owned(),
    };
    view! {
        <dl class="limits">
            <dt>"Rate limit"</dt><dd>{rate}</dd>
            <dt>"Quota"</dt><dd>{quota}</dd>
            <dt>"Throttling"</dt><dd>{throttle}</dd>
            <dt>"Key expiry"</dt><dd>{expiry}</dd>
        </dl>
    }
}
