//! Charts drawn as SVG text: the same markup on the server (so the pages work without
//! JavaScript) and in the browser (so hydration finds what the server sent). Every chart is an
//! image with a title and a description; the pages put a table of the same numbers beside it.

use crate::api::insights::{ClusterDrift, ClusterLive, WeekStat};
use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 36.0;
const MEDIAN: &str = "#2563eb";
const P90: &str = "#93c5fd";
const CHANGES: &str = "#0f766e";
const FAILED: &str = "#dc2626";
const DRIFT: &str = "#d97706";
const AXIS: &str = "#6b7280";

/// Text for SVG and HTML: `&`, `<`, `>` and quotes escaped.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A duration in the largest unit that reads well: `45 s`, `12 min`, `3.5 h`, `2.1 days`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let one = |v: f64| {
        let r = (v * 10.0).round() / 10.0;
        if r.fract() == 0.0 {
            format!("{r:.0}")
        } else {
            format!("{r:.1}")
        }
    };
    if s < 90.0 {
        format!("{} s", one(s))
    } else if s < 90.0 * 60.0 {
        format!("{} min", one(s / 60.0))
    } else if s < 48.0 * 3600.0 {
        format!("{} h", one(s / 3600.0))
    } else {
        format!("{} days", one(s / 86400.0))
    }
}

/// The unit a chart's axis counts in, for values up to `max` seconds.
fn unit(max: f64) -> (f64, &'static str) {
    if max < 120.0 {
        (1.0, "seconds")
    } else if max < 2.0 * 3600.0 {
        (60.0, "minutes")
    } else if max < 72.0 * 3600.0 {
        (3600.0, "hours")
    } else {
        (86400.0, "days")
    }
}

/// A round top for an axis reaching `max` (1, 2 or 5 times a power of ten).
fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|t| *t >= max)
        .unwrap_or(10.0 * p)
}

/// A round top for an axis counting whole things up to `max`: a multiple of the four steps
/// the axis draws, so every tick is a whole number.
fn count_top(max: usize) -> f64 {
    (max.max(1).div_ceil(4) * 4) as f64
}

/// An axis label: as few decimals as it needs, at most two (`0.25`, `0.5`, `3`).
fn number(v: f64) -> String {
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Opens an SVG image with its title and description.
fn open(out: &mut String, id: &str, title: &str, desc: &str, height: f64) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"{id}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
}

/// The value axis (left) from 0 to `top`, in `unit_name`, and the baseline.
fn axis(out: &mut String, top: f64, unit_name: &str) {
    let base = HEIGHT - BOTTOM;
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = base - (base - TOP) * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e7eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"{AXIS}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            number(v)
        );
    }
    let _ = write!(
        out,
        "<text x=\"10\" y=\"{:.1}\" font-size=\"10\" fill=\"{AXIS}\" transform=\"rotate(-90 10 {:.1})\" text-anchor=\"middle\">{unit_name}</text>",
        (base + TOP) / 2.0,
        (base + TOP) / 2.0
    );
}

/// Week labels under the bars: every one, or every few when there are many.
fn week_labels(out: &mut String, weeks: &[WeekStat], slot: f64) {
    let every = weeks.len().div_ceil(12).max(1);
    for (i, w) in weeks.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
            HEIGHT - BOTTOM + 14.0,
            escape(w.week.get(5..).unwrap_or(&w.week))
        );
    }
}

/// Where a bar goes: left edge and width, and the axis top it is drawn against.
#[derive(Clone, Copy)]
struct Slot {
    x: f64,
    width: f64,
    top: f64,
}

/// One bar of `value` (in axis units) with its class, colour and tooltip.
fn bar(out: &mut String, at: Slot, value: f64, (fill, class): (&str, &str), title: &str) {
    let Slot { x, width, top } = at;
    let base = HEIGHT - BOTTOM;
    let h = if top > 0.0 {
        (base - TOP) * value / top
    } else {
        0.0
    };
    let _ = write!(
        out,
        "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
        base - h,
        escape(title)
    );
}

fn legend(out: &mut String, items: &[(&str, &str)]) {
    let mut x = LEFT;
    for (fill, label) in items {
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{fill}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{AXIS}\">{}</text>",
            HEIGHT - 12.0,
            x + 14.0,
            HEIGHT - 3.0,
            escape(label)
        );
        x += 24.0 + 6.0 * label.len() as f64;
    }
}

/// Median and p90 lead time per week, as paired bars.
pub fn lead_time_chart(weeks: &[WeekStat]) -> String {
    let max = weeks
        .iter()
        .filter_map(|w| w.p90_seconds.or(w.median_seconds))
        .fold(0.0, f64::max);
    let (per, unit_name) = unit(max);
    let top = nice(max / per);
    let measured = weeks.iter().filter(|w| w.measured > 0).count();
    let mut out = String::new();
    open(
        &mut out,
        "lead-time-chart",
        "Lead time per week",
        &format!(
            "Median and 90th percentile lead time, from proposal to live, for {} weeks ({measured} with measured changes), in {unit_name}.",
            weeks.len()
        ),
        HEIGHT,
    );
    axis(&mut out, top, unit_name);
    let slot = (WIDTH - LEFT - RIGHT) / weeks.len().max(1) as f64;
    let width = (slot * 0.4).max(1.0);
    for (i, w) in weeks.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.1;
        if let Some(m) = w.median_seconds {
            bar(
                &mut out,
                Slot { x, width, top },
                m / per,
                (MEDIAN, "median"),
                &format!(
                    "Week of {}: median {} over {} changes",
                    w.week,
                    duration(m),
                    w.measured
                ),
            );
        }
        if let Some(p) = w.p90_seconds {
            bar(
                &mut out,
                Slot {
                    x: x + width,
                    width,
                    top,
                },
                p / per,
                (P90, "p90"),
                &format!("Week of {}: p90 {}", w.week, duration(p)),
            );
        }
    }
    week_labels(&mut out, weeks, slot);
    legend(&mut out, &[(MEDIAN, "median"), (P90, "p90")]);
    out.push_str("</svg>");
    out
}

/// Changes merged per week, with those that failed (a failed state or a restore within a day).
pub fn changes_chart(weeks: &[WeekStat]) -> String {
    let max = weeks.iter().map(|w| w.changes).max().unwrap_or(0);
    let top = count_top(max);
    let total: usize = weeks.iter().map(|w| w.changes).sum();
    let failed: usize = weeks.iter().map(|w| w.failed).sum();
    let mut out = String::new();
    open(
        &mut out,
        "changes-chart",
        "Changes per week",
        &format!(
            "{total} changes merged over {} weeks; {failed} followed by a failure or a restore within a day.",
            weeks.len()
        ),
        HEIGHT,
    );
    axis(&mut out, top, "changes");
    let slot = (WIDTH - LEFT - RIGHT) / weeks.len().max(1) as f64;
    let width = (slot * 0.4).max(1.0);
    for (i, w) in weeks.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.1;
        bar(
            &mut out,
            Slot { x, width, top },
            w.changes as f64,
            (CHANGES, "changes"),
            &format!("Week of {}: {} changes", w.week, w.changes),
        );
        bar(
            &mut out,
            Slot {
                x: x + width,
                width,
                top,
            },
            w.failed as f64,
            (FAILED, "failed"),
            &format!("Week of {}: {} failed", w.week, w.failed),
        );
    }
    week_labels(&mut out, weeks, slot);
    legend(&mut out, &[(CHANGES, "merged"), (FAILED, "failed")]);
    out.push_str("</svg>");
    out
}

/// Drift per cluster: one bar each, as long as the time its resources spent drifted.
pub fn drift_chart(drift: &[ClusterDrift]) -> String {
    let row = 28.0;
    let height = TOP + row * drift.len().max(1) as f64 + 24.0;
    let max = drift.iter().map(|d| d.total_seconds).fold(0.0, f64::max);
    let (per, unit_name) = unit(max);
    let top = nice(max / per);
    let mut out = String::new();
    let episodes: usize = drift.iter().map(|d| d.episodes).sum();
    open(
        &mut out,
        "drift-chart",
        "Drift episodes per cluster",
        &format!(
            "{episodes} drift episodes in {} clusters; bars show the total time drifted, in {unit_name}.",
            drift.len()
        ),
        height,
    );
    let left = 120.0;
    let span = WIDTH - left - RIGHT - 120.0;
    for (i, d) in drift.iter().enumerate() {
        let y = TOP + row * i as f64;
        let w = if top > 0.0 {
            span * d.total_seconds / per / top
        } else {
            0.0
        };
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"{AXIS}\">{}</text>\
             <rect class=\"drift\" x=\"{left}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"{DRIFT}\"><title>{}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{AXIS}\">{}</text>",
            left - 6.0,
            y + 13.0,
            escape(&d.cluster),
            escape(&format!(
                "{}: {} episodes, {} in all, median {}, longest {}",
                d.cluster,
                d.episodes,
                duration(d.total_seconds),
                duration(d.median_seconds),
                duration(d.longest_seconds)
            )),
            left + w + 6.0,
            y + 13.0,
            escape(&format!(
                "{} episodes · {}",
                d.episodes,
                duration(d.total_seconds)
            ))
        );
    }
    let _ = write!(
        out,
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"10\" fill=\"{AXIS}\">0 to {} {unit_name}</text></svg>",
        height - 6.0,
        number(top)
    );
    out
}

/// One step of a change's way: its name and when (absent: not yet).
pub struct Step {
    pub label: String,
    pub at: Option<String>,
}

/// The steps of a change: proposed, first approval, merged, then live in each cluster.
pub fn steps(
    proposed: Option<String>,
    approved: Option<String>,
    merged: Option<String>,
    live: &[ClusterLive],
) -> Vec<Step> {
    let mut steps = vec![
        Step {
            label: "Proposed".into(),
            at: proposed,
        },
        Step {
            label: "Approved".into(),
            at: approved,
        },
        Step {
            label: "Merged".into(),
            at: merged,
        },
    ];
    steps.extend(live.iter().map(|l| Step {
        label: format!("Live in {}", l.cluster),
        at: Some(l.at.clone()),
    }));
    steps
}

/// A change's way as a timeline: a dot per step (hollow when it has not happened), the time
/// under each, and the time taken between steps.
pub fn change_timeline(steps: &[Step]) -> String {
    let height = 84.0;
    let left = 50.0;
    let gap = (WIDTH - 2.0 * left) / (steps.len().max(2) - 1) as f64;
    let times: Vec<Option<i64>> = steps
        .iter()
        .map(|s| s.at.as_deref().and_then(crate::ui::seconds_since_epoch))
        .collect();
    let described: Vec<String> = steps
        .iter()
        .map(|s| match &s.at {
            Some(at) => format!("{} {}", s.label, crate::ui::exact_time(at)),
            None => format!("{}: not yet", s.label),
        })
        .collect();
    let mut out = String::new();
    open(
        &mut out,
        "change-timeline",
        "Lead time of this change",
        &described.join("; "),
        height,
    );
    let y = 28.0;
    let _ = write!(
        out,
        "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{AXIS}\" stroke-width=\"2\"/>",
        left + gap * (steps.len().max(2) - 1) as f64
    );
    let first = times.first().copied().flatten();
    for (i, s) in steps.iter().enumerate() {
        let x = left + gap * i as f64;
        let done = times[i].is_some();
        let _ = write!(
            out,
            "<circle class=\"{}\" cx=\"{x:.1}\" cy=\"{y}\" r=\"7\" fill=\"{}\" stroke=\"{MEDIAN}\" stroke-width=\"2\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
            if done { "step done" } else { "step" },
            if done { MEDIAN } else { "#ffffff" },
            y + 24.0,
            escape(&s.label),
            y + 38.0,
            escape(&match (&s.at, first, times[i]) {
                (Some(_), Some(f), Some(t)) if i > 0 => format!("+{}", duration((t - f) as f64)),
                (Some(at), _, _) => crate::ui::exact_time(at),
                (None, _, _) => "not yet".into(),
            })
        );
        if i > 0
            && let (Some(a), Some(b)) = (times[i - 1], times[i])
        {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"{AXIS}\">{}</text>",
                x - gap / 2.0,
                y - 10.0,
                escape(&duration((b - a) as f64))
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_fitting_unit() {
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(720.0), "12 min");
        assert_eq!(duration(2.0 * 3600.0), "2 h");
        assert_eq!(duration(3.5 * 3600.0), "3.5 h");
        assert_eq!(duration(3.0 * 86400.0), "3 days");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice(3.2), 5.0);
        assert_eq!(nice(10.0), 10.0);
        assert_eq!(nice(11.0), 20.0);
        assert_eq!(nice(0.0), 1.0);
        // Counts tick at whole numbers.
        assert_eq!(count_top(0), 4.0);
        assert_eq!(count_top(1), 4.0);
        assert_eq!(count_top(7), 8.0);
        assert_eq!(count_top(13), 16.0);
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(3.0), "3");
        // A lead time of seconds is drawn in seconds, not as fractions of a minute.
        assert_eq!(unit(1.3), (1.0, "seconds"));
        assert_eq!(unit(600.0), (60.0, "minutes"));
    }

    #[test]
    fn a_timeline_names_every_step_and_the_time_between() {
        let svg = change_timeline(&steps(
            Some("2026-01-05T10:00:00Z".into()),
            Some("2026-01-05T11:00:00Z".into()),
            None,
            &[],
        ));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(
            svg.contains(
                "Proposed 2026-01-05 10:00 UTC; Approved 2026-01-05 11:00 UTC; Merged: not yet"
            ),
            "{svg}"
        );
        assert!(
            svg.contains(">60 min<") && svg.contains(">+60 min<"),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"step done\"").count(), 2, "{svg}");
    }

    #[test]
    fn names_are_escaped() {
        let svg = drift_chart(&[ClusterDrift {
            cluster: "<prod>".into(),
            episodes: 1,
            total_seconds: 60.0,
            median_seconds: 60.0,
            longest_seconds: 60.0,
        }]);
        assert!(
            svg.contains("&lt;prod&gt;") && !svg.contains("<prod>"),
            "{svg}"
        );
    }
}
