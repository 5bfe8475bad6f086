//! Lead time and the `/insights` read model (issue 12, item 4): for every change request,
//! proposed → first approval → merged → live in each cluster; per week over a range, the
//! median and p90 lead time, the changes merged, and change failure (a failed state or a
//! restore within a day); drift episodes per cluster. The [`recorder`] fills in the live and
//! failure times from the status board; [`report`] reads them for the page, the REST API and
//! `/metrics`.

pub mod recorder;
pub mod store;

use crate::db::{Db, DbError};
use crate::error::{Code, Error};
use frontend::api::insights::{
    ChangeLeadTime, ClusterDrift, ClusterLive, DriftEpisodeView, InsightsQuery, InsightsReport,
    WeekStat,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, Month, OffsetDateTime, Time};

/// The longest range a report covers.
pub const MAX_WEEKS: u32 = 104;
/// Weeks covered when the query names no range.
pub const DEFAULT_WEEKS: u32 = 12;
/// How long after its merge a failed state or a restore counts against a change.
pub const FAILURE_WINDOW: Duration = Duration::DAY;
/// Changes listed in a report.
const LISTED: usize = 200;
/// Drift episodes listed in a report.
const EPISODES: usize = 500;

/// A range of time: `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

fn bad(field: &str, message: impl Into<String>) -> Error {
    Error::new(Code::InvalidQuery, message).at(field)
}

fn db_err(e: DbError) -> Error {
    Error::new(Code::DatabaseUnavailable, "the database cannot be read").detail(e.to_string())
}

/// An RFC 3339 time as stored.
pub fn stamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Reads a stored time; `None` when it is not RFC 3339.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A `YYYY-MM-DD` date (midnight UTC) or an RFC 3339 time.
fn parse_bound(field: &str, s: &str) -> Result<OffsetDateTime, Error> {
    let s = s.trim();
    if let Some(t) = parse_time(s) {
        return Ok(t);
    }
    let parts: Vec<&str> = s.split('-').collect();
    let date = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>());
            match (y, m.ok().and_then(|m| Month::try_from(m).ok()), d) {
                (Ok(y), Some(m), Ok(d)) => Date::from_calendar_date(y, m, d).ok(),
                _ => None,
            }
        }
        _ => None,
    };
    date.map(|d| d.with_time(Time::MIDNIGHT).assume_utc())
        .ok_or_else(|| {
            bad(
                field,
                format!("{field} must be a date (YYYY-MM-DD) or an RFC 3339 time, not {s:?}"),
            )
        })
}

/// The range a query asks for, at `now`: `from`/`to`, or the last `weeks`, or the last
/// [`DEFAULT_WEEKS`]. A reversed, empty, mixed or longer than [`MAX_WEEKS`] range is refused.
pub fn range_of(q: &InsightsQuery, now: OffsetDateTime) -> Result<Range, Error> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let (from, to) = (given(&q.from), given(&q.to));
    if q.weeks.is_some() && from.is_some() {
        return Err(bad("weeks", "give either weeks or from, not both"));
    }
    let to = match &to {
        Some(t) => parse_bound("to", t)?,
        None => now,
    };
    let from = match (&from, q.weeks) {
        (Some(f), _) => parse_bound("from", f)?,
        (None, Some(w)) if !(1..=MAX_WEEKS).contains(&w) => {
            return Err(bad(
                "weeks",
                format!("weeks must be from 1 to {MAX_WEEKS}, not {w}"),
            ));
        }
        (None, w) => to - Duration::weeks(i64::from(w.unwrap_or(DEFAULT_WEEKS))),
    };
    if from >= to {
        return Err(bad("from", "from must be before to"));
    }
    if to - from > Duration::weeks(i64::from(MAX_WEEKS)) {
        return Err(bad(
            "from",
            format!("the range is at most {MAX_WEEKS} weeks"),
        ));
    }
    Ok(Range { from, to })
}

/// The Monday 00:00 UTC that starts the week of `t`.
pub fn week_of(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let back = i64::from(t.weekday().number_days_from_monday());
    (t.date() - Duration::days(back))
        .with_time(Time::MIDNIGHT)
        .assume_utc()
}

/// The value at quantile `q` of sorted `values`, nearest rank (the smallest value with at least
/// `q` of the values at or below it); the median of an even count is the mean of the middle two.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    if (q - 0.5).abs() < f64::EPSILON && n.is_multiple_of(2) {
        return Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0);
    }
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    Some(sorted[rank - 1])
}

fn seconds(d: Duration) -> f64 {
    d.as_seconds_f64()
}

/// One drift episode of one resource in one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftEpisode {
    pub cluster: String,
    /// `Kind/namespace/name`.
    pub resource: String,
    pub started: OffsetDateTime,
    /// `None` while it lasts.
    pub ended: Option<OffsetDateTime>,
}

/// Drift episodes overlapping `[from, to)`, oldest first: the one place the insights read
/// drift, from the episodes the cluster timeline ([`crate::timeline`]) keeps.
pub async fn drift_episodes(
    db: &Db,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<DriftEpisode>, DbError> {
    let rows = store::drift_between(db, &stamp(from), &stamp(to)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(cluster, kind, namespace, name, started, ended)| {
            Some(DriftEpisode {
                cluster,
                resource: format!("{kind}/{namespace}/{name}"),
                started: parse_time(&started)?,
                ended: ended.as_deref().and_then(parse_time),
            })
        })
        .collect())
}

/// The report over `range`. `clusters`: whether any cluster is watched (without one, lead
/// time ends at the merge).
pub async fn report(db: &Db, clusters: bool, range: Range) -> Result<InsightsReport, Error> {
    report_listing(db, clusters, range, LISTED).await
}

/// [`report`], listing the latest `listed` changes.
async fn report_listing(
    db: &Db,
    clusters: bool,
    range: Range,
    listed_max: usize,
) -> Result<InsightsReport, Error> {
    let now = OffsetDateTime::now_utc();
    let (from, to) = (stamp(range.from), stamp(range.to));
    let merged = store::merged_between(db, &from, &to)
        .await
        .map_err(db_err)?;
    let count = merged.len();
    // Titles and per-cluster live times are read for the listed changes only.
    let cutoff = match count.checked_sub(listed_max) {
        Some(skip) if skip > 0 => merged[skip].merged_at.clone(),
        _ => from.clone(),
    };
    let mut titles: HashMap<i64, String> = HashMap::new();
    let mut live: HashMap<i64, Vec<ClusterLive>> = HashMap::new();
    if count > 0 && listed_max > 0 {
        titles = store::titles_between(db, &cutoff, &to)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        for (id, cluster, at) in store::live_between(db, &cutoff, &to)
            .await
            .map_err(db_err)?
        {
            live.entry(id)
                .or_default()
                .push(ClusterLive { cluster, at });
        }
    }
    // Restores up to a day past the range can count against a change merged in it.
    let restored_before = stamp(range.to + FAILURE_WINDOW);
    let restores = store::restores_between(db, &from, &restored_before)
        .await
        .map_err(db_err)?;
    let mut touched: HashMap<i64, Vec<(String, String, String)>> = HashMap::new();
    if !restores.is_empty() {
        for (id, kind, ns, name) in
            store::restored_resources_merged_between(db, &from, &to, &restored_before)
                .await
                .map_err(db_err)?
        {
            touched.entry(id).or_default().push((kind, ns, name));
        }
    }
    let mut restores_of: HashMap<(String, String, String), Vec<(i64, OffsetDateTime)>> =
        HashMap::new();
    let mut restore_weeks: BTreeMap<OffsetDateTime, usize> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (id, created, kind, ns, name) in restores {
        let Some(at) = parse_time(&created) else {
            continue;
        };
        if seen.insert(id) && at < range.to {
            *restore_weeks.entry(week_of(at)).or_default() += 1;
        }
        restores_of
            .entry((kind, ns, name))
            .or_default()
            .push((id, at));
    }

    let mut weeks: BTreeMap<OffsetDateTime, (Vec<f64>, usize, usize)> = BTreeMap::new();
    let mut week = week_of(range.from);
    while week < range.to {
        weeks.insert(week, (Vec::new(), 0, 0));
        week += Duration::WEEK;
    }
    let mut all = Vec::new();
    let mut failed_total = 0;
    let mut listed = Vec::with_capacity(count.min(listed_max));
    for (i, row) in merged.into_iter().enumerate() {
        let Some(merged_at) = parse_time(&row.merged_at) else {
            continue;
        };
        let proposed = row.proposed_at.as_deref().and_then(parse_time);
        let end = match row.live_at.as_deref().and_then(parse_time) {
            Some(l) => Some(l),
            None => (!clusters).then_some(merged_at),
        };
        let lead = match (proposed, end) {
            (Some(p), Some(e)) => Some(seconds(e - p).max(0.0)),
            _ => None,
        };
        let restored = touched.get(&row.change_id).is_some_and(|resources| {
            resources.iter().any(|r| {
                restores_of.get(r).is_some_and(|list| {
                    list.iter().any(|(id, at)| {
                        *id != row.change_id
                            && *at >= merged_at
                            && *at <= merged_at + FAILURE_WINDOW
                    })
                })
            })
        });
        let failed = restored || row.failed > 0;
        let entry = weeks
            .entry(week_of(merged_at))
            .or_insert((Vec::new(), 0, 0));
        entry.1 += 1;
        if failed {
            entry.2 += 1;
            failed_total += 1;
        }
        if let Some(l) = lead {
            entry.0.push(l);
            all.push(l);
        }
        if count - i <= listed_max {
            listed.push(ChangeLeadTime {
                id: row.change_id,
                title: titles.remove(&row.change_id).unwrap_or_default(),
                proposed: row.proposed_at,
                approved: row.approved_at,
                merged: Some(row.merged_at),
                live: live.remove(&row.change_id).unwrap_or_default(),
                lead_seconds: lead,
                failed,
                restore: row.restore > 0,
            });
        }
    }
    listed.reverse();
    let sort = |v: &mut Vec<f64>| v.sort_by(f64::total_cmp);
    sort(&mut all);
    let weeks = weeks
        .into_iter()
        .map(|(start, (mut leads, changes, failed))| {
            sort(&mut leads);
            WeekStat {
                week: start.date().to_string(),
                changes,
                measured: leads.len(),
                median_seconds: quantile(&leads, 0.5),
                p90_seconds: quantile(&leads, 0.9),
                failed,
                restores: restore_weeks.get(&start).copied().unwrap_or(0),
            }
        })
        .collect();

    let episodes = drift_episodes(db, range.from, range.to)
        .await
        .map_err(db_err)?;
    let until = range.to.min(now);
    let mut per_cluster: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut views: Vec<DriftEpisodeView> = episodes
        .into_iter()
        .map(|e| {
            let secs = seconds(e.ended.unwrap_or(until) - e.started).max(0.0);
            per_cluster.entry(e.cluster.clone()).or_default().push(secs);
            DriftEpisodeView {
                cluster: e.cluster,
                resource: e.resource,
                started: stamp(e.started),
                ended: e.ended.map(stamp),
                seconds: secs,
            }
        })
        .collect();
    let cap = if listed_max == usize::MAX {
        usize::MAX
    } else {
        EPISODES
    };
    if views.len() > cap {
        let mut by_length: Vec<usize> = (0..views.len()).collect();
        by_length.sort_by(|a, b| views[*b].seconds.total_cmp(&views[*a].seconds));
        let keep: HashSet<usize> = by_length.into_iter().take(cap).collect();
        views = views
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, v)| v)
            .collect();
    }
    let drift = per_cluster
        .into_iter()
        .map(|(cluster, mut secs)| {
            sort(&mut secs);
            ClusterDrift {
                cluster,
                episodes: secs.len(),
                total_seconds: secs.iter().sum(),
                median_seconds: quantile(&secs, 0.5).unwrap_or(0.0),
                longest_seconds: secs.last().copied().unwrap_or(0.0),
            }
        })
        .collect();
    Ok(InsightsReport {
        from,
        to,
        weeks,
        changes: count,
        median_seconds: quantile(&all, 0.5),
        p90_seconds: quantile(&all, 0.9),
        failed: failed_total,
        drift,
        episodes: views,
        lead_times: listed,
        clusters,
    })
}

/// The report a query asks for, now.
pub async fn query(db: &Db, clusters: bool, q: &InsightsQuery) -> Result<InsightsReport, Error> {
    let range = range_of(q, OffsetDateTime::now_utc())?;
    report(db, clusters, range).await
}

mod metrics;
pub use metrics::metrics;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        parse_time(s).expect("time")
    }

    fn q(from: Option<&str>, to: Option<&str>, weeks: Option<u32>) -> InsightsQuery {
        InsightsQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            weeks,
        }
    }

    #[test]
    fn ranges_default_to_twelve_weeks_and_refuse_nonsense() {
        let now = at("2026-03-04T10:00:00Z");
        let r = range_of(&q(None, None, None), now).expect("default");
        assert_eq!((r.from, r.to), (now - Duration::weeks(12), now));
        let r = range_of(
            &q(Some("2026-01-05"), Some("2026-01-19T12:00:00Z"), None),
            now,
        )
        .expect("dates");
        assert_eq!(
            (r.from, r.to),
            (at("2026-01-05T00:00:00Z"), at("2026-01-19T12:00:00Z"))
        );
        assert_eq!(
            range_of(&q(None, None, Some(2)), now).expect("weeks").from,
            now - Duration::weeks(2)
        );
        for bad in [
            q(Some("2026-02-01"), Some("2026-01-01"), None),
            q(Some("2026-01-01"), Some("2026-01-01"), None),
            q(Some("2026-02-30"), None, None),
            q(Some("01/02/2026"), None, None),
            q(None, None, Some(0)),
            q(None, None, Some(105)),
            q(Some("2026-01-01"), None, Some(3)),
            q(Some("2020-01-01"), Some("2026-01-01"), None),
        ] {
            let e = range_of(&bad, now).expect_err("refused");
            assert_eq!(e.code, Code::InvalidQuery, "{bad:?}");
        }
    }

    #[test]
    fn weeks_start_on_monday_midnight_utc() {
        assert_eq!(
            week_of(at("2026-01-05T00:00:00Z")),
            at("2026-01-05T00:00:00Z")
        );
        assert_eq!(
            week_of(at("2026-01-11T23:59:59Z")),
            at("2026-01-05T00:00:00Z")
        );
        assert_eq!(
            week_of(at("2026-01-12T01:00:00+02:00")),
            at("2026-01-05T00:00:00Z")
        );
    }

    #[test]
    fn quantiles_by_nearest_rank_and_the_median_of_an_even_count() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[1.0, 2.0, 4.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[1.0, 2.0, 4.0], 0.9), Some(4.0));
        assert_eq!(quantile(&[0.5, 10.0], 0.5), Some(5.25));
        assert_eq!(
            quantile(&(1..=10).map(f64::from).collect::<Vec<_>>(), 0.9),
            Some(9.0)
        );
    }
}
