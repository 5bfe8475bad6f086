//! The insights in Prometheus text: lead time per stage and drift episode durations as
//! histograms, merged and failed changes as counters, over everything recorded.

use super::{Range, parse_time, report_listing};
use crate::db::Db;
use crate::error::Error;
use std::fmt::Write as _;
use time::{Duration, OffsetDateTime};

/// Bucket bounds in seconds: 5 min, 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 day, 2 days, 1 week.
pub const BUCKETS: [f64; 10] = [
    300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 172_800.0, 604_800.0,
];

/// One histogram series: cumulative bucket counts, `+Inf`, sum and count.
fn histogram(out: &mut String, name: &str, labels: &str, values: &[f64]) {
    for bound in BUCKETS {
        let n = values.iter().filter(|v| **v <= bound).count();
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels},le=\"+Inf\"}} {}",
        values.len()
    );
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", values.iter().sum::<f64>());
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", values.len());
}

fn since(from: Option<&str>, to: Option<&str>) -> Option<f64> {
    let (from, to) = (parse_time(from?)?, parse_time(to?)?);
    Some((to - from).as_seconds_f64().max(0.0))
}

/// Lead time per stage (from the proposal to the first approval, the merge, and live in the
/// last cluster), drift episode durations per cluster (ended episodes), and the counts of
/// merged and failed changes, over everything recorded.
pub async fn metrics(db: &Db, clusters: bool) -> Result<String, Error> {
    let now = OffsetDateTime::now_utc();
    let range = Range {
        from: OffsetDateTime::UNIX_EPOCH,
        to: now + Duration::DAY,
    };
    let report = report_listing(db, clusters, range, usize::MAX).await?;
    let mut stages: [(&str, Vec<f64>); 3] = [
        ("approved", Vec::new()),
        ("merged", Vec::new()),
        ("live", Vec::new()),
    ];
    for c in &report.lead_times {
        let proposed = c.proposed.as_deref();
        if let Some(s) = since(proposed, c.approved.as_deref()) {
            stages[0].1.push(s);
        }
        if let Some(s) = since(proposed, c.merged.as_deref()) {
            stages[1].1.push(s);
        }
        let last = c.live.iter().map(|l| l.at.as_str()).max();
        if let Some(s) = since(proposed, last) {
            stages[2].1.push(s);
        }
    }
    let mut out = String::from(
        "# HELP tollgate_change_lead_time_seconds From a change's proposal to its first approval, its merge, and live in every cluster it reached.\n# TYPE tollgate_change_lead_time_seconds histogram\n",
    );
    for (stage, values) in &stages {
        histogram(
            &mut out,
            "tollgate_change_lead_time_seconds",
            &format!("stage=\"{stage}\""),
            values,
        );
    }
    out.push_str("# HELP tollgate_drift_episode_seconds How long ended drift episodes lasted, per cluster.\n# TYPE tollgate_drift_episode_seconds histogram\n");
    let mut per_cluster: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for e in report.episodes.iter().filter(|e| e.ended.is_some()) {
        per_cluster.entry(&e.cluster).or_default().push(e.seconds);
    }
    for (cluster, values) in per_cluster {
        histogram(
            &mut out,
            "tollgate_drift_episode_seconds",
            &format!(
                "cluster=\"{}\"",
                cluster.replace('\\', "\\\\").replace('"', "\\\"")
            ),
            &values,
        );
    }
    let _ = write!(
        out,
        "# HELP tollgate_changes_merged_total Changes merged.\n# TYPE tollgate_changes_merged_total counter\ntollgate_changes_merged_total {}\n\
         # HELP tollgate_change_failures_total Merged changes followed within a day by a failed state or a restore.\n# TYPE tollgate_change_failures_total counter\ntollgate_change_failures_total {}\n",
        report.changes, report.failed
    );
    Ok(out)
}
