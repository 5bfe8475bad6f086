//! Following the host: the mirror fetched on pushes and by polling, change requests re-read on
//! webhooks and by polling, and a merge or close made in the host applied to the change. The
//! page and REST read path never waits on any of it: they read the database and the mirror.

use super::{ChangeService, db_err, err, host_err, store};
use crate::error::{Code, Error};
use crate::hosts::{Hook, HookError, HostKind, RequestState, RequestStatus};
use frontend::api::{HostCheck, HostHealth, HostRequest, HostReview};
use std::sync::Mutex;
use std::time::Duration;

/// The mirror's last fetch, for the banner shown while the host is down.
pub(super) struct Mirror {
    health: Mutex<HostHealth>,
    /// One fetch at a time: a webhook burst fetches once or twice, not once per delivery.
    fetching: tokio::sync::Mutex<()>,
}

impl Mirror {
    pub(super) fn new(kind: HostKind, repo: String) -> Self {
        Self {
            health: Mutex::new(HostHealth {
                kind: kind.as_str().to_owned(),
                repo,
                ..HostHealth::default()
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn update(&self, f: impl FnOnce(&mut HostHealth)) {
        if let Ok(mut h) = self.health.lock() {
            f(&mut h);
        }
    }
}

/// What the change page shows of the host's answer.
pub(super) fn host_view(kind: HostKind, r: RequestState) -> HostRequest {
    HostRequest {
        kind: kind.as_str().to_owned(),
        number: r.number,
        url: r.url.clone(),
        state: word(&r.status),
        head_sha: r.head_sha.clone(),
        mergeable: r.mergeable,
        merge_status: r.merge_status.clone(),
        approvals: r.approvers().map(str::to_owned).collect(),
        reviews: r
            .reviews
            .iter()
            .map(|v| HostReview {
                login: v.login.clone(),
                state: word(&v.state),
            })
            .collect(),
        checks: r
            .checks
            .iter()
            .map(|c| HostCheck {
                name: c.name.clone(),
                state: word(&c.state),
                url: c.url.clone(),
            })
            .collect(),
    }
}

/// The wire word of a host enum (its serde name).
fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// What a webhook delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOutcome {
    Handled,
    /// A delivery id seen before: nothing done.
    Duplicate,
}

impl ChangeService {
    /// The host and the mirror's last fetch (`None` with the local host).
    pub fn host_health(&self) -> Option<HostHealth> {
        if !self.host.follows() {
            return None;
        }
        self.mirror.health.lock().ok().map(|h| h.clone())
    }

    /// Records the commit an earlier run left in the mirror, when this run could not fetch: the
    /// pages then say which commit they show (the time of that fetch is not known).
    pub fn serving_stale_mirror(&self, commit: String) {
        self.mirror.update(|h| {
            if h.fetched_commit.is_none() {
                h.fetched_commit = Some(commit);
            }
        });
    }

    /// Fetches the host's branches into the mirror and re-indexes when the branch moved.
    /// Nothing to do with the local host.
    pub async fn sync_mirror(&self) -> Result<(), Error> {
        let auth = match self.host.fetch_auth().await {
            Ok(Some(auth)) => auth,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.mirror.update(|h| h.error = Some(e.message.clone()));
                return Err(host_err(e));
            }
        };
        let _one = self.mirror.fetching.lock().await;
        let (url, authorization) = auth;
        let fetched = self
            .blocking(move |s| {
                s.repo
                    .fetch_from(&url, &authorization)
                    .and_then(|_| s.repo.head_of(&s.branch))
            })
            .await?;
        match fetched {
            Ok(head) => {
                let now = store::now();
                self.mirror.update(|h| {
                    h.fetched_at = Some(now);
                    h.fetched_commit = Some(head.to_string());
                    h.error = None;
                });
                self.reindex().await;
                Ok(())
            }
            Err(e) => {
                let message = format!(
                    "cannot fetch from the {} host: {e}",
                    self.host.kind().as_str()
                );
                self.mirror.update(|h| h.error = Some(message.clone()));
                Err(err(Code::HostUnavailable, message))
            }
        }
    }

    /// Re-reads a change's request from the host, stores the answer, and applies a merge or
    /// close made in the host. `true` when anything changed.
    pub async fn refresh(&self, row: &store::ChangeRow) -> Result<bool, Error> {
        let Some(number) = row.host_number.and_then(|n| u64::try_from(n).ok()) else {
            return Ok(false);
        };
        let state = match self.host.read(number).await {
            Ok(state) => state,
            Err(e) => {
                self.mirror.update(|h| h.error = Some(e.message.clone()));
                return Err(host_err(e));
            }
        };
        let json = serde_json::to_string(&state).map_err(Error::internal)?;
        let mut changed = store::set_host_state(&self.db, row.id, &json)
            .await
            .map_err(db_err)?;
        let by = self.host.kind().as_str();
        match state.status {
            RequestStatus::Merged => {
                let commit = state.merge_commit.as_deref().unwrap_or(&state.head_sha);
                if store::set_merged(&self.db, row.id, commit, by)
                    .await
                    .map_err(db_err)?
                {
                    tracing::info!(change = row.id, %commit, "merged on the host");
                    changed = true;
                    if let Err(e) = self.sync_mirror().await {
                        tracing::warn!(change = row.id, error = %e, "cannot fetch after a merge");
                    }
                }
            }
            RequestStatus::Closed => {
                if store::set_closed(&self.db, row.id, by)
                    .await
                    .map_err(db_err)?
                {
                    tracing::info!(change = row.id, "closed on the host");
                    changed = true;
                }
            }
            RequestStatus::Open => {}
        }
        if changed {
            let _ = self.updates.send(row.id);
        }
        Ok(changed)
    }

    /// `POST /api/v1/hooks/{provider}`: verified before anything is parsed; a repeated delivery
    /// id changes nothing.
    pub async fn hook(
        &self,
        provider: &str,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<HookOutcome, Error> {
        let kind = self.host.kind();
        if !self.host.follows() || kind.as_str() != provider {
            return Err(err(
                Code::NotFound,
                format!(
                    "this Tollgate takes no {provider} webhooks (its host is {})",
                    kind.as_str()
                ),
            ));
        }
        let delivery = self.host.webhook(headers, body).map_err(|e| match e {
            HookError::Signature => err(Code::InvalidSignature, e.to_string()),
            HookError::Payload(_) => err(Code::InvalidWebhook, e.to_string()),
        })?;
        if !store::first_delivery(&self.db, &delivery.id)
            .await
            .map_err(db_err)?
        {
            return Ok(HookOutcome::Duplicate);
        }
        let handled = self.handle(delivery.hook).await;
        if handled.is_err() {
            // Not handled: a redelivery of the same id must not be taken for a repeat.
            let _ = store::forget_delivery(&self.db, &delivery.id).await;
        }
        handled.map(|()| HookOutcome::Handled)
    }

    /// What a verified, first-seen delivery asks for.
    async fn handle(&self, hook: Hook) -> Result<(), Error> {
        match hook {
            Hook::Push { .. } => self.sync_mirror().await?,
            Hook::Request { number } => {
                let number = i64::try_from(number).unwrap_or(i64::MAX);
                if let Some(row) = store::by_host_number(&self.db, number)
                    .await
                    .map_err(db_err)?
                {
                    self.refresh(&row).await?;
                }
            }
            Hook::Commit { sha } => {
                for row in store::open_with_head(&self.db, &sha)
                    .await
                    .map_err(db_err)?
                {
                    self.refresh(&row).await?;
                }
            }
            Hook::Other => {}
        }
        Ok(())
    }

    /// One poll: fetch the mirror, re-read every open request. The first failure stops it (the
    /// host is down; the caller backs off).
    pub async fn poll(&self) -> Result<(), Error> {
        self.sync_mirror().await?;
        for row in store::open_on_host(&self.db).await.map_err(db_err)? {
            self.refresh(&row).await?;
        }
        Ok(())
    }

    /// Polls until `stop`, every `every`, backing off to 8× while the host fails.
    pub async fn follow(&self, every: Duration) {
        let mut wait = every;
        let mut failing: Option<String> = None;
        loop {
            tokio::time::sleep(wait).await;
            match self.poll().await {
                Ok(()) => {
                    if failing.take().is_some() {
                        tracing::info!("the Git host answers again");
                    }
                    wait = every;
                }
                Err(e) => {
                    if failing.as_deref() != Some(e.message.as_str()) {
                        tracing::warn!(error = %e.message, "cannot follow the Git host");
                    }
                    failing = Some(e.message);
                    wait = (wait * 2).min(every * 8);
                }
            }
        }
    }
}
