//! `/insights`: lead time, changes per week, drift episodes and change failure over a range
//! chosen with a plain GET form. The charts are SVG drawn by [`crate::charts`] during server
//! rendering, each with a table of the same numbers.

use crate::api::insights::{InsightsQuery, InsightsReport};
use crate::charts::{self, duration};
use crate::data;
use crate::ui::ErrorBox;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn opt(seconds: Option<f64>) -> String {
    seconds.map(duration).unwrap_or_else(|| "–".into())
}

#[component]
fn Report(report: InsightsReport) -> impl IntoView {
    let lead_svg = charts::lead_time_chart(&report.weeks);
    let changes_svg = charts::changes_chart(&report.weeks);
    let drift_svg = charts::drift_chart(&report.drift);
    let ends = if report.clusters {
        "live"
    } else {
        "merged (no cluster is watched)"
    };
    view! {
        <p id="insights-summary">
            {format!(
                "{} merged from {} to {}: median lead time {}, p90 {}, {} failed.",
                if report.changes == 1 { "1 change".to_owned() } else { format!("{} changes", report.changes) },
                crate::ui::exact_time(&report.from),
                crate::ui::exact_time(&report.to),
                opt(report.median_seconds),
                opt(report.p90_seconds),
                report.failed
            )}
        </p>
        <section aria-labelledby="lead-heading">
            <h2 id="lead-heading">"Lead time per week"</h2>
            <p class="muted">{format!("From proposal to {ends}.")}</p>
            <figure inner_html=lead_svg></figure>
        </section>
        <section aria-labelledby="changes-heading">
            <h2 id="changes-heading">"Changes and change failure per week"</h2>
            <p class="muted">"A change failed when a failed state of one of its resources or a restore of one of them followed within a day of its merge."</p>
            <figure inner_html=changes_svg></figure>
            <h3 id="weeks-heading">"Per week"</h3>
            // On a phone the table scrolls sideways in its own box: focusable, so a keyboard can.
            <table class="list" id="weeks" aria-labelledby="weeks-heading" tabindex="0">
                <thead><tr>
                    <th scope="col">"Week of"</th><th scope="col">"Changes"</th><th scope="col">"Measured"</th>
                    <th scope="col">"Median"</th><th scope="col">"p90"</th><th scope="col">"Failed"</th><th scope="col">"Restores"</th>
                </tr></thead>
                <tbody>
                    {report.weeks.iter().map(|w| view! {
                        <tr>
                            <th scope="row">{w.week.clone()}</th>
                            <td>{w.changes}</td>
                            <td>{w.measured}</td>
                            <td>{opt(w.median_seconds)}</td>
                            <td>{opt(w.p90_seconds)}</td>
                            <td>{w.failed}</td>
                            <td>{w.restores}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="drift-heading">
            <h2 id="drift-heading">"Drift episodes per cluster"</h2>
            {if report.drift.is_empty() {
                view! { <p class="ok-note">"No drift episodes in this range."</p> }.into_any()
            } else {
                view! {
                    <figure inner_html=drift_svg></figure>
                    <table class="list" id="drift">
                        <caption>"Per cluster"</caption>
                        <thead><tr>
                            <th scope="col">"Cluster"</th><th scope="col">"Episodes"</th><th scope="col">"In all"</th>
                            <th scope="col">"Median"</th><th scope="col">"Longest"</th>
                        </tr></thead>
                        <tbody>
                            {report.drift.iter().map(|d| view! {
                                <tr>
                                    <th scope="row">{d.cluster.clone()}</th>
                                    <td>{d.episodes}</td>
                                    <td>{duration(d.total_seconds)}</td>
                                    <td>{duration(d.median_seconds)}</td>
                                    <td>{duration(d.longest_seconds)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="latest-heading">
            <h2 id="latest-heading">"Latest changes"</h2>
            <table class="list" id="lead-times">
                <thead><tr>
                    <th scope="col">"Change"</th><th scope="col">"Proposed"</th><th scope="col">"Merged"</th>
                    <th scope="col">"Lead time"</th><th scope="col">"Failed"</th>
                </tr></thead>
                <tbody>
                    {report.lead_times.iter().take(50).map(|c| view! {
                        <tr>
                            <td><a href=format!("/changes/{}", c.id)>{format!("#{} {}", c.id, c.title)}</a>
                                {c.restore.then_some(" (restore)")}</td>
                            <td>{c.proposed.as_deref().map(crate::ui::exact_time).unwrap_or_default()}</td>
                            <td>{c.merged.as_deref().map(crate::ui::exact_time).unwrap_or_default()}</td>
                            <td>{opt(c.lead_seconds)}</td>
                            <td>{if c.failed { "yes" } else { "" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn InsightsPage() -> impl IntoView {
    let params = use_query_map();
    let read = |p: &leptos_router::params::ParamsMap| {
        let get = |k: &str| p.get(k).filter(|v| !v.is_empty());
        let weeks = get("weeks");
        (
            InsightsQuery {
                from: get("from"),
                to: get("to"),
                weeks: weeks.as_deref().and_then(|w| w.trim().parse().ok()),
            },
            weeks,
        )
    };
    let query = move || params.with(read);
    let report = Resource::new(query, |(q, weeks)| async move {
        match weeks {
            Some(w) if q.weeks.is_none() => Err(crate::api::ApiError::new(
                "invalid_query",
                format!("weeks must be a whole number of weeks, not {w:?}"),
            )),
            _ => data::insights(q).await,
        }
    });
    // The form shows the range asked for (a new range is a new page load).
    let (q, weeks) = params.with_untracked(read);
    view! {
        <Title text="Insights"/>
        <h1>"Insights"</h1>
        <form method="get" action="/insights" class="filters" id="insights-range">
            <label>"Last " <input name="weeks" type="number" min="1" max="104" value=weeks.unwrap_or_default() placeholder="12"/> " weeks"</label>
            " or "
            <label>"From " <input name="from" type="date" value=q.from.unwrap_or_default()/></label>
            <label>"to " <input name="to" type="date" value=q.to.unwrap_or_default()/></label>
            <button type="submit">"Show"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || report.get().map(|result| match result {
                Err(error) => view! { <ErrorBox error/> }.into_any(),
                Ok(report) => view! { <Report report/> }.into_any(),
            })}
        </Transition>
    }
}
