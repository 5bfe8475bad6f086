//! Wire types of `/insights` and `GET /api/v1/insights`: lead time, changes per week, drift
//! episodes and change failure over a range of weeks.

use serde::{Deserialize, Serialize};

/// `?from=&to=` (dates `YYYY-MM-DD` or RFC 3339 times, UTC) or `?weeks=` (the last N weeks,
/// 1 to 104). Without any, the last 12 weeks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
pub struct InsightsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub weeks: Option<u32>,
}

/// One week (Monday 00:00 UTC to the next Monday) of merged changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WeekStat {
    /// The Monday that starts the week, `YYYY-MM-DD`.
    pub week: String,
    /// Changes merged in the week.
    pub changes: usize,
    /// Of those, the ones whose lead time is known (live everywhere it went, or merged when no
    /// cluster is watched).
    pub measured: usize,
    /// Median lead time in seconds, propose to live (or to merged when no cluster watches).
    pub median_seconds: Option<f64>,
    /// 90th percentile of the same.
    pub p90_seconds: Option<f64>,
    /// Changes followed within a day by a failed state or a restore.
    pub failed: usize,
    /// Restores proposed in the week.
    pub restores: usize,
}

/// One drift episode of one resource in one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DriftEpisodeView {
    pub cluster: String,
    /// `Kind/namespace/name`, when known.
    pub resource: String,
    pub started: String,
    /// `None` while it lasts.
    pub ended: Option<String>,
    /// To its end, or to the end of the range while it lasts.
    pub seconds: f64,
}

/// Drift episodes of one cluster in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterDrift {
    pub cluster: String,
    pub episodes: usize,
    pub total_seconds: f64,
    pub median_seconds: f64,
    pub longest_seconds: f64,
}

/// The times of one change: proposed, first approval, merged, and live in each cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeLeadTime {
    pub id: i64,
    pub title: String,
    pub proposed: Option<String>,
    pub approved: Option<String>,
    pub merged: Option<String>,
    pub live: Vec<ClusterLive>,
    /// Propose to live (or to merged without clusters), when known.
    pub lead_seconds: Option<f64>,
    /// Followed within a day by a failed state or a restore.
    pub failed: bool,
    /// Made by restoring an earlier version.
    pub restore: bool,
}

/// When a change went live in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClusterLive {
    pub cluster: String,
    pub at: String,
}

/// `GET /api/v1/insights`: everything the `/insights` page draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InsightsReport {
    /// The range, RFC 3339, `from` included and `to` excluded.
    pub from: String,
    pub to: String,
    /// Every week the range touches, oldest first.
    pub weeks: Vec<WeekStat>,
    /// Over the whole range.
    pub changes: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub failed: usize,
    pub drift: Vec<ClusterDrift>,
    /// Every episode in the range, oldest first (at most 500, the longest kept).
    pub episodes: Vec<DriftEpisodeView>,
    /// The latest changes merged in the range (at most 200), newest first.
    pub lead_times: Vec<ChangeLeadTime>,
    /// Whether any cluster is watched: without one, lead time ends at the merge.
    pub clusters: bool,
}
