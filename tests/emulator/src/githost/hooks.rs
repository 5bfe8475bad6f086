//! Webhooks: each state change becomes one event; every registered hook gets it in its
//! flavour's payload and headers, signed with its secret, delivered in order by one thread.

use super::client;
mod gitea;
mod github;
mod gitlab;

use super::state::{Flavour, Hook, State};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What happened to a pull.
#[derive(Clone, Debug)]
pub enum PullAction {
    Opened,
    Closed,
    Reopened,
    Edited,
    Merged,
    Synchronize { before: String },
}

/// A state change that webhooks report.
#[derive(Clone, Debug)]
pub enum Event {
    Push {
        repo: String,
        ref_name: String,
        before: String,
        after: String,
        pusher: String,
    },
    Pull {
        repo: String,
        number: u64,
        action: PullAction,
        actor: String,
    },
    Review {
        repo: String,
        number: u64,
        review_id: u64,
        actor: String,
    },
    Status {
        repo: String,
        status_id: u64,
        actor: String,
    },
    CheckRun {
        repo: String,
        check_run_id: u64,
        actor: String,
    },
    Comment {
        repo: String,
        comment_id: u64,
        actor: String,
    },
    Ping {
        hook_id: u64,
    },
}

impl Event {
    fn repo(&self) -> Option<&str> {
        match self {
            Event::Push { repo, .. }
            | Event::Pull { repo, .. }
            | Event::Review { repo, .. }
            | Event::Status { repo, .. }
            | Event::CheckRun { repo, .. }
            | Event::Comment { repo, .. } => Some(repo),
            Event::Ping { .. } => None,
        }
    }
}

/// One delivery: what was sent and what the receiver answered (`None` while queued, `Some(0)`
/// when it could not be reached).
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    pub hook_id: u64,
    pub flavour: Flavour,
    pub event: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: Option<u16>,
}

/// The delivery log and queue.
#[derive(Default)]
pub struct Outbox {
    log: Mutex<Vec<Delivery>>,
    sent: Condvar,
}

impl Outbox {
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn clear(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    /// Waits until every queued delivery was attempted, or the timeout passes.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let Ok(guard) = self.log.lock() else {
            return false;
        };
        self.sent
            .wait_timeout_while(guard, timeout, |l| l.iter().any(|d| d.status.is_none()))
            .map(|(_, t)| !t.timed_out())
            .unwrap_or(false)
    }
}

/// Starts the delivery thread; the sender queues log indexes.
pub fn start(outbox: Arc<Outbox>) -> std::sync::mpsc::Sender<usize> {
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    std::thread::spawn(move || {
        while let Ok(i) = rx.recv() {
            let Some(d) = outbox.log.lock().ok().and_then(|l| l.get(i).cloned()) else {
                continue;
            };
            let status = client::request(
                "POST",
                &d.url,
                &d.headers,
                d.body.as_bytes(),
                Duration::from_secs(5),
            )
            .map(|r| r.status)
            .unwrap_or(0);
            if let Ok(mut l) = outbox.log.lock()
                && let Some(entry) = l.get_mut(i)
            {
                entry.status = Some(status);
            }
            outbox.sent.notify_all();
        }
    });
    tx
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A random-looking UUID v4, unique in this process.
pub fn uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let a = h.finish();
    h.write_u64(a);
    let b = h.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex HMAC-SHA256 of `body` with `secret`.
pub fn sign256(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

fn sign1(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// Renders `events` for every matching hook and queues them.
pub fn dispatch(
    st: &State,
    outbox: &Outbox,
    tx: &std::sync::mpsc::Sender<usize>,
    events: &[Event],
) {
    for ev in events {
        for hook in &st.hooks {
            if let Some(r) = ev.repo()
                && hook.repo.as_deref().is_some_and(|h| h != r)
            {
                continue;
            }
            if let Event::Ping { hook_id } = ev
                && *hook_id != hook.id
            {
                continue;
            }
            let Some((event, kind, payload)) = render(st, hook, ev) else {
                continue;
            };
            let body = payload.to_string();
            let id = uuid();
            let headers = headers(hook, &event, &kind, &id, body.as_bytes());
            let Ok(mut log) = outbox.log.lock() else {
                return;
            };
            log.push(Delivery {
                id,
                hook_id: hook.id,
                flavour: hook.flavour,
                event,
                url: hook.url.clone(),
                headers,
                body,
                status: None,
            });
            let _ = tx.send(log.len() - 1);
        }
    }
}

fn headers(hook: &Hook, event: &str, kind: &str, id: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut h = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let mut add = |k: &str, v: String| h.push((k.to_owned(), v));
    match hook.flavour {
        Flavour::GitHub => {
            add("User-Agent", "GitHub-Hookshot/emulator".into());
            add("X-GitHub-Event", event.into());
            add("X-GitHub-Delivery", id.into());
            add("X-GitHub-Hook-ID", hook.id.to_string());
            add(
                "X-GitHub-Hook-Installation-Target-Type",
                "repository".into(),
            );
            if !hook.secret.is_empty() {
                add(
                    "X-Hub-Signature",
                    format!("sha1={}", sign1(&hook.secret, body)),
                );
                add(
                    "X-Hub-Signature-256",
                    format!("sha256={}", sign256(&hook.secret, body)),
                );
            }
        }
        Flavour::GitLab => {
            add("User-Agent", "GitLab/17.0.0".into());
            add("X-Gitlab-Event", event.into());
            add("X-Gitlab-Event-UUID", id.into());
            add("X-Gitlab-Webhook-UUID", format!("hook-{}", hook.id));
            add("X-Gitlab-Instance", "emulator".into());
            add("Idempotency-Key", id.into());
            if !hook.secret.is_empty() {
                add("X-Gitlab-Token", hook.secret.clone());
            }
        }
        Flavour::Gitea => {
            let sig = if hook.secret.is_empty() {
                String::new()
            } else {
                sign256(&hook.secret, body)
            };
            for p in ["Gitea", "Gogs", "Forgejo"] {
                add(&format!("X-{p}-Delivery"), id.into());
                add(&format!("X-{p}-Event"), event.into());
                add(&format!("X-{p}-Event-Type"), kind.into());
                add(&format!("X-{p}-Signature"), sig.clone());
            }
            add("X-GitHub-Delivery", id.into());
            add("X-GitHub-Event", event.into());
            add("X-GitHub-Event-Type", kind.into());
            if !hook.secret.is_empty() {
                add(
                    "X-Hub-Signature",
                    format!("sha1={}", sign1(&hook.secret, body)),
                );
                add("X-Hub-Signature-256", format!("sha256={sig}"));
            }
        }
    }
    h
}

/// `(event header, event type header, payload)` for one hook, or `None` when its flavour has
/// no such event.
fn render(st: &State, hook: &Hook, ev: &Event) -> Option<(String, String, Value)> {
    if let Event::Ping { hook_id } = ev {
        return ping(st, hook, *hook_id);
    }
    let repo = st.repos.get(ev.repo()?)?;
    match hook.flavour {
        Flavour::GitHub => github::render(st, repo, ev),
        Flavour::GitLab => gitlab::render(st, repo, ev),
        Flavour::Gitea => gitea::render(st, repo, ev),
    }
    .map(|(e, p)| (e.clone(), e, p))
    .map(|(e, k, p)| {
        if hook.flavour == Flavour::Gitea {
            let kind = gitea::kind(ev, st);
            (e, kind.unwrap_or(k), p)
        } else {
            (e, k, p)
        }
    })
}

/// GitHub pings a hook when it is created; GitLab and Gitea do not.
fn ping(st: &State, hook: &Hook, id: u64) -> Option<(String, String, Value)> {
    if hook.flavour != Flavour::GitHub {
        return None;
    }
    let config = json!({"url": hook.url, "content_type": "json", "insecure_ssl": "0"});
    let body = json!({"zen": "Keep it logically awesome.", "hook_id": id,
        "hook": {"id": id, "type": "Repository", "active": true, "events": ["*"], "config": config},
        "repository": hook.repo.as_ref().and_then(|r| st.repos.get(r)).map(|r| super::json::github::repo(st, r))});
    Some(("ping".into(), "ping".into(), body))
}
