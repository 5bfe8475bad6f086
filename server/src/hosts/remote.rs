//! Building the configured remote host, and what the three providers share: webhook
//! signature checks in constant time, delivery ids, and folding reviews into each reviewer's
//! latest verdict.

use super::http::Timing;
use super::{HookError, Host, HostKind, Review, ReviewState};
use crate::config::{ConfigError, HostConfig};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The client for `config.kind` (GitHub, GitLab or Gitea/Forgejo). Reads the token, the
/// webhook secret and a GitHub App's key now, so a bad file fails at start.
pub fn remote(config: &HostConfig) -> Result<Arc<dyn Host>, ConfigError> {
    remote_with(config, Timing::default())
}

/// [`remote`] with other timeouts and retries (tests).
pub fn remote_with(config: &HostConfig, timing: Timing) -> Result<Arc<dyn Host>, ConfigError> {
    let secret = Secret(config.webhook_secret()?);
    Ok(match config.kind {
        HostKind::Github => Arc::new(super::github::Github::new(config, secret, timing)?),
        HostKind::Gitlab => Arc::new(super::gitlab::Gitlab::new(config, secret, timing)?),
        HostKind::Gitea => Arc::new(super::gitea::Gitea::new(config, secret, timing)?),
        HostKind::Local => {
            return Err(ConfigError::new(
                "host.kind = \"local\" has no remote client",
            ));
        }
    })
}

/// A webhook secret; `Debug` never shows it.
#[derive(Clone, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

impl Secret {
    /// Checks a hex HMAC-SHA256 of `body` in constant time. An empty secret accepts nothing:
    /// unsigned deliveries would let anyone trigger work.
    pub fn verify_hmac_hex(
        &self,
        signature_hex: Option<&str>,
        body: &[u8],
    ) -> Result<(), HookError> {
        let signature = signature_hex
            .map(str::trim)
            .and_then(|s| hex::decode(s).ok())
            .ok_or(HookError::Signature)?;
        if self.0.is_empty() {
            return Err(HookError::Signature);
        }
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).map_err(|_| HookError::Signature)?;
        mac.update(body);
        mac.verify_slice(&signature)
            .map_err(|_| HookError::Signature)
    }

    /// Compares a token sent in plain text (GitLab's `X-Gitlab-Token`) in constant time: both
    /// sides are hashed first, so not even the length leaks.
    pub fn verify_plain(&self, token: Option<&str>) -> Result<(), HookError> {
        let token = token.ok_or(HookError::Signature)?;
        if self.0.is_empty() {
            return Err(HookError::Signature);
        }
        let ours = Sha256::digest(self.0.as_bytes());
        let theirs = Sha256::digest(token.as_bytes());
        if bool::from(ours.ct_eq(&theirs)) {
            Ok(())
        } else {
            Err(HookError::Signature)
        }
    }
}

/// A header's value as text.
pub fn header<'a>(headers: &'a ::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The first of `names` present, else a digest of the body (so a repeat is still recognised).
pub fn delivery_id(headers: &::http::HeaderMap, names: &[&str], body: &[u8]) -> String {
    names
        .iter()
        .find_map(|n| header(headers, n).filter(|v| !v.is_empty()))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sha256-{}", hex::encode(Sha256::digest(body))))
}

/// Parses a verified payload.
pub fn payload(body: &[u8]) -> Result<serde_json::Value, HookError> {
    serde_json::from_slice(body).map_err(|e| HookError::Payload(e.to_string()))
}

/// `refs/heads/x` → `x`; tags and other refs → `None`.
pub fn branch_of(git_ref: &str) -> Option<&str> {
    git_ref.strip_prefix("refs/heads/")
}

/// Folds reviews (oldest first) into each reviewer's latest verdict, in the order reviewers
/// first spoke. A plain comment does not undo an approval or a change request, as on GitHub
/// and Gitea; pending (unsubmitted) reviews are skipped by the caller.
pub fn latest_reviews(reviews: impl IntoIterator<Item = Review>) -> Vec<Review> {
    let mut out: Vec<Review> = Vec::new();
    for r in reviews {
        match out.iter_mut().find(|o| o.login == r.login) {
            Some(existing) => {
                let keeps = r.state == ReviewState::Commented
                    && matches!(
                        existing.state,
                        ReviewState::Approved | ReviewState::ChangesRequested
                    );
                if !keeps {
                    existing.state = r.state;
                }
            }
            None => out.push(r),
        }
    }
    out
}

/// Asks the teams among `groups` that belong to `owner` (`owner/team`) to review a pull
/// request, through `requested_reviewers` at `url` (GitHub's and Gitea's, which take team
/// names); answers the groups asked.
pub async fn request_team_reviews(
    http: &super::http::HostClient,
    url: String,
    owner: &str,
    groups: &[String],
) -> Result<Vec<String>, super::HostError> {
    let teams: Vec<(&String, &str)> = groups
        .iter()
        .filter_map(|g| {
            let (org, team) = g.split_once('/')?;
            (org.eq_ignore_ascii_case(owner) && !team.is_empty() && !team.contains('/'))
                .then_some((g, team))
        })
        .collect();
    if teams.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = teams.iter().map(|(_, t)| *t).collect();
    let resp = http
        .send_retrying(super::http::Req::post(
            url,
            serde_json::json!({"reviewers": [], "team_reviewers": names}),
        ))
        .await?;
    http.expect_ok(resp)?;
    Ok(teams.into_iter().map(|(g, _)| g.clone()).collect())
}

/// A commit message with `Co-authored-by: name <email>` for `author` unless it is already
/// there: joined to a final trailer block, else after one blank line.
pub fn with_co_author(message: &str, author: &crate::repo::Person) -> String {
    let name = author.name.trim();
    let email = author.email.trim();
    if name.is_empty() || email.is_empty() {
        return message.to_owned();
    }
    let trailer = format!("Co-authored-by: {name} <{email}>");
    if message
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case(&trailer))
    {
        return message.to_owned();
    }
    let body = message.trim_end();
    let paragraphs: Vec<&str> = body.split("\n\n").collect();
    let last_is_trailers = paragraphs.len() > 1
        && paragraphs.last().is_some_and(|p| {
            p.lines().all(|l| {
                l.split_once(": ").is_some_and(|(k, v)| {
                    !k.is_empty()
                        && !v.trim().is_empty()
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
            })
        });
    let joiner = if last_is_trailers { "\n" } else { "\n\n" };
    format!("{body}{joiner}{trailer}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::Person;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn hmac_is_checked_and_an_empty_secret_accepts_nothing() {
        let s = Secret("It's a Secret to Everybody".into());
        // GitHub's documented example signature for this secret and body.
        let body = b"Hello, World!";
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(&s.0, body), expected);
        assert_eq!(s.verify_hmac_hex(Some(expected), body), Ok(()));
        assert_eq!(
            s.verify_hmac_hex(Some(expected), b"Hello, World?"),
            Err(HookError::Signature)
        );
        assert_eq!(s.verify_hmac_hex(None, body), Err(HookError::Signature));
        assert_eq!(
            s.verify_hmac_hex(Some("zz"), body),
            Err(HookError::Signature)
        );
        assert_eq!(
            Secret(String::new()).verify_hmac_hex(Some(&sign("", body)), body),
            Err(HookError::Signature)
        );
        assert_eq!(format!("{s:?}"), "***");
    }

    #[test]
    fn plain_tokens_are_compared() {
        let s = Secret("hook-token".into());
        assert_eq!(s.verify_plain(Some("hook-token")), Ok(()));
        assert_eq!(
            s.verify_plain(Some("hook-tokeN")),
            Err(HookError::Signature)
        );
        assert_eq!(s.verify_plain(None), Err(HookError::Signature));
        assert_eq!(
            Secret::default().verify_plain(Some("")),
            Err(HookError::Signature)
        );
    }

    #[test]
    fn the_latest_verdict_per_reviewer_counts_and_comments_keep_approvals() {
        let r = |login: &str, state| Review {
            login: login.into(),
            state,
        };
        let folded = latest_reviews([
            r("bob", ReviewState::ChangesRequested),
            r("carol", ReviewState::Approved),
            r("bob", ReviewState::Approved),
            r("carol", ReviewState::Commented),
            r("dave", ReviewState::Commented),
            r("dave", ReviewState::Dismissed),
        ]);
        assert_eq!(
            folded,
            vec![
                r("bob", ReviewState::Approved),
                r("carol", ReviewState::Approved),
                r("dave", ReviewState::Dismissed),
            ]
        );
    }

    #[test]
    fn co_author_trailer_is_added_once() {
        let alice = Person {
            name: "Alice Doe".into(),
            email: "alice@example.com".into(),
        };
        assert_eq!(
            with_co_author("Edit petstore\n\nRaise the rate limit.\n", &alice),
            "Edit petstore\n\nRaise the rate limit.\n\nCo-authored-by: Alice Doe <alice@example.com>\n"
        );
        assert_eq!(
            with_co_author("Edit petstore", &alice),
            "Edit petstore\n\nCo-authored-by: Alice Doe <alice@example.com>\n"
        );
        let with_trailers = "Edit petstore\n\nBody.\n\nTollgate-Change: 12";
        assert_eq!(
            with_co_author(with_trailers, &alice),
            "Edit petstore\n\nBody.\n\nTollgate-Change: 12\nCo-authored-by: Alice Doe <alice@example.com>\n"
        );
        let already = "Edit\n\nCo-authored-by: Alice Doe <alice@example.com>\n";
        assert_eq!(with_co_author(already, &alice), already);
        let nobody = Person {
            name: "x".into(),
            email: String::new(),
        };
        assert_eq!(with_co_author("Edit", &nobody), "Edit");
    }

    #[test]
    fn delivery_ids_fall_back_to_a_digest() {
        let mut h = ::http::HeaderMap::new();
        h.insert("x-gitlab-event-uuid", "abc".parse().unwrap());
        assert_eq!(
            delivery_id(&h, &["X-Gitlab-Event-UUID", "Idempotency-Key"], b"{}"),
            "abc"
        );
        let empty = ::http::HeaderMap::new();
        let id = delivery_id(&empty, &["X-GitHub-Delivery"], b"{}");
        assert!(id.starts_with("sha256-") && id.len() > 20);
        assert_eq!(branch_of("refs/heads/tollgate/1-x"), Some("tollgate/1-x"));
        assert_eq!(branch_of("refs/tags/v1"), None);
    }
}

#[cfg(test)]
mod wire_tests;
