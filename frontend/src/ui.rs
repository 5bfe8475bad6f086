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

/// A moment as people read it ("3 min ago"), with the exact time on hover and for machines.
#[component]
pub fn Time(
    /// RFC 3339, as the API sends it.
    at: String,
) -> impl IntoView {
    let exact = exact_time(&at);
    let relative = seconds_since_epoch(&at)
        .map(|t| relative_time(now_seconds() - t))
        .unwrap_or_else(|| exact.clone());
    view! { <time datetime=at title=exact>{relative}</time> }
}

/// `2026-11-27T12:04:16.6Z` → `2026-11-27 12:04 UTC`.
pub fn exact_time(at: &str) -> String {
    match (seconds_since_epoch(at), at.get(..10), at.get(11..16)) {
        (Some(_), Some(d), Some(t)) if at.ends_with('Z') || at.ends_with("+00:00") => {
            format!("{d} {t} UTC")
        }
        _ => at.to_owned(),
    }
}

/// How long ago, in the largest unit that fits: `just now`, `3 min ago`, `5 h ago`, `2 days ago`.
fn relative_time(seconds: i64) -> String {
    match seconds {
        s if s < 45 => "just now".to_owned(),
        s if s < 90 * 60 => format!("{} min ago", (s + 30) / 60),
        s if s < 36 * 3600 => format!("{} h ago", (s + 1800) / 3600),
        s => format!("{} days ago", (s + 43_200) / 86_400),
    }
}

fn now_seconds() -> i64 {
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() / 1000.0;
    #[cfg(not(feature = "hydrate"))]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    now as i64
}

/// Seconds since 1970 of an RFC 3339 time (`Z` or `±hh:mm` offset, any fraction).
pub(crate) fn seconds_since_epoch(at: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| at.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if at.get(4..5)? != "-" || !matches!(at.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let zone = at
        .get(19..)?
        .trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "Z" | "z" => 0,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            let minutes =
                z.get(1..3)?.parse::<i64>().ok()? * 60 + z.get(4..6)?.parse::<i64>().ok()?;
            if z.starts_with('-') {
                -minutes * 60
            } else {
                minutes * 60
            }
        }
        _ => return None,
    };
    // Days from 1970-01-01 to the civil date (H. Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339() {
        assert_eq!(seconds_since_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            seconds_since_epoch("2026-11-27T12:04:16.6Z"),
            Some(1_795_781_056)
        );
        assert_eq!(
            seconds_since_epoch("2026-11-27T13:04:16+01:00"),
            Some(1_795_781_056)
        );
        assert_eq!(
            seconds_since_epoch("2000-03-01T00:00:00Z"),
            Some(951_868_800)
        );
        assert_eq!(seconds_since_epoch("yesterday"), None);
    }

    #[test]
    fn says_how_long_ago() {
        assert_eq!(relative_time(-5), "just now");
        assert_eq!(relative_time(44), "just now");
        assert_eq!(relative_time(3 * 60 + 10), "3 min ago");
        assert_eq!(relative_time(5 * 3600), "5 h ago");
        assert_eq!(relative_time(3 * 86_400), "3 days ago");
        assert_eq!(exact_time("2026-11-27T12:04:16.6Z"), "2026-11-27 12:04 UTC");
        assert_eq!(exact_time("not a time"), "not a time");
    }
}
