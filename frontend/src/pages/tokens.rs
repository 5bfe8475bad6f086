//! `/settings/tokens`: API tokens for scripts and CI. Make one (a name, a role no higher than
//! your own, an expiry), see its secret once, list yours (an admin: everyone's) and revoke
//! them, through `/api/v1/tokens`.

use crate::api::{CreateTokenRequest, CreatedToken, Role, TokenView};
use crate::client::{self, Action};
use crate::data;
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;

/// `YYYY-MM-DD` (UTC) of Unix seconds (Howard Hinnant's days-to-civil).
fn date(unix: i64) -> String {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let tokens = Resource::new(move || refresh.get(), |_| data::tokens());
    let session = Resource::new(|| (), |_| data::session());
    let (name, role, days) = (
        RwSignal::new(String::new()),
        RwSignal::new(Role::Viewer),
        RwSignal::new("30".to_owned()),
    );
    let created = RwSignal::new(None::<CreatedToken>);
    let failed = RwSignal::new(None::<crate::api::ApiError>);
    let (creating, revoking) = (Action::new(), Action::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = CreateTokenRequest {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            expires_in_days: days.get_untracked().trim().parse().unwrap_or(0),
        };
        creating.run(client::create_token(&request), move |answer| match answer {
            Ok(token) => {
                failed.set(None);
                created.set(Some(token));
                name.set(String::new());
                refresh.update(|n| *n += 1);
            }
            Err(e) => failed.set(Some(e)),
        });
    };
    let revoke = move |id: i64| {
        revoking.run(client::revoke_token(id), move |answer| match answer {
            Ok(()) => {
                failed.set(None);
                refresh.update(|n| *n += 1);
            }
            Err(e) => failed.set(Some(e)),
        });
    };
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="sub">
            "For scripts and CI: send " <code>"Authorization: Bearer tg_…"</code>
            ". A token acts with its role, never above yours, until it expires or is revoked."
        </p>
        <form id="new-token" class="token-form" on:submit=create>
            <fieldset>
                <legend>"New token"</legend>
                <div class="field">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" type="text" required maxlength="100" placeholder="deploy-pipeline"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="token-role">"Role"</label>
                    <select id="token-role" on:change=move |ev| {
                        if let Some(r) = Role::parse(&event_target_value(&ev)) {
                            role.set(r);
                        }
                    }>
                        <Suspense fallback=|| ()>
                            {move || {
                                let mine = session.get().and_then(Result::ok).and_then(|s| s.role).unwrap_or(Role::Viewer);
                                Role::ALL.into_iter().filter(|r| *r <= mine).map(|r| view! {
                                    <option value=r.as_str() selected=move || role.get() == r>{r.as_str()}</option>
                                }).collect_view()
                            }}
                        </Suspense>
                    </select>
                </div>
                <div class="field">
                    <label for="token-days">"Expires in (days, 1 to 365)"</label>
                    <input id="token-days" type="number" min="1" max="365" required
                        prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
                </div>
                <div class="actions">
                    <button type="submit" id="create-token" class="primary" disabled=move || creating.busy()>"Create token"</button>
                </div>
            </fieldset>
        </form>
        {move || created.get().map(|t| view! {
            <div class="notice" id="token-secret" role="status">
                <strong>"Copy it now: it is not shown again. "</strong>
                <code>{t.token}</code>
            </div>
        })}
        {move || failed.get().map(|error| view! { <ErrorBox error/> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || tokens.get().map(|r| match r {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="muted" id="no-tokens">"No tokens yet."</p> }.into_any(),
                Ok(list) => view! {
                    <table id="tokens">
                        <thead><tr>
                            <th scope="col">"Name"</th><th scope="col">"Owner"</th><th scope="col">"Role"</th>
                            <th scope="col">"Created"</th><th scope="col">"Expires"</th><th scope="col">"State"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|t: TokenView| {
                                let id = t.id;
                                let state = match t.revoked_at {
                                    Some(at) => format!("revoked {}", date(at)),
                                    None => "active".to_owned(),
                                };
                                view! {
                                    <tr data-token=id>
                                        <td>{t.name}</td><td>{t.owner}</td><td>{t.role}</td>
                                        <td>{date(t.created_at)}</td><td>{date(t.expires_at)}</td><td>{state}</td>
                                        <td>{t.revoked_at.is_none().then(|| view! {
                                            <button type="button" class="small revoke" disabled=move || revoking.busy()
                                                on:click=move |_| revoke(id)>"Revoke"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(951_782_400), "2000-02-29");
        assert_eq!(super::date(1_798_761_599), "2026-12-31");
    }
}
