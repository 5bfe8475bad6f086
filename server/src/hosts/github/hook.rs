//! GitHub webhooks: `X-Hub-Signature-256` checked over the raw body before anything is parsed,
//! then the event mapped to what Tollgate does about it.

use crate::hosts::remote::{Secret, branch_of, delivery_id, header, payload};
use crate::hosts::{Delivery, Hook, HookError};
use serde_json::Value;

pub fn delivery(
    secret: &Secret,
    headers: &::http::HeaderMap,
    body: &[u8],
) -> Result<Delivery, HookError> {
    let signature = header(headers, "x-hub-signature-256").and_then(|s| s.strip_prefix("sha256="));
    secret.verify_hmac_hex(signature, body)?;
    let id = delivery_id(headers, &["x-github-delivery"], body);
    let event = header(headers, "x-github-event").unwrap_or_default();
    let hook = event_hook(event, &payload(body)?)?;
    Ok(Delivery { id, hook })
}

fn event_hook(event: &str, v: &Value) -> Result<Hook, HookError> {
    let text = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| HookError::Payload(format!("{event}: no {what}")))
    };
    Ok(match event {
        "pull_request"
        | "pull_request_review"
        | "pull_request_review_comment"
        | "pull_request_review_thread" => {
            let number = v["pull_request"]["number"]
                .as_u64()
                .or_else(|| v["number"].as_u64())
                .ok_or_else(|| HookError::Payload(format!("{event}: no pull request number")))?;
            Hook::Request { number }
        }
        "status" => Hook::Commit {
            sha: text(&v["sha"], "sha")?,
        },
        "check_run" => Hook::Commit {
            sha: text(&v["check_run"]["head_sha"], "check_run.head_sha")?,
        },
        "check_suite" => Hook::Commit {
            sha: text(&v["check_suite"]["head_sha"], "check_suite.head_sha")?,
        },
        "push" => {
            let git_ref = text(&v["ref"], "ref")?;
            match branch_of(&git_ref) {
                Some(branch) => Hook::Push {
                    branch: branch.to_owned(),
                    after: text(&v["after"], "after")?,
                },
                None => Hook::Other,
            }
        }
        _ => Hook::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    const SECRET: &str = "It's a Secret to Everybody";

    fn signed(event: &str, body: &str, secret: &str) -> ::http::HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let sig = hex::encode(mac.finalize().into_bytes());
        let mut h = ::http::HeaderMap::new();
        h.insert("x-github-event", event.parse().unwrap());
        h.insert(
            "x-github-delivery",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap(),
        );
        h.insert(
            "x-hub-signature-256",
            format!("sha256={sig}").parse().unwrap(),
        );
        h.insert("content-type", "application/json".parse().unwrap());
        h
    }

    fn deliver(event: &str, body: &str) -> Result<Delivery, HookError> {
        delivery(
            &Secret(SECRET.into()),
            &signed(event, body, SECRET),
            body.as_bytes(),
        )
    }

    #[test]
    fn signatures_are_checked_before_parsing() {
        let body = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
        assert_eq!(
            deliver("ping", body).unwrap(),
            Delivery {
                id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
                hook: Hook::Other
            }
        );
        let secret = Secret(SECRET.into());
        // Forged with another secret, tampered with, unsigned, or the legacy SHA-1 header only.
        let forged = signed("ping", body, "guess");
        assert_eq!(
            delivery(&secret, &forged, body.as_bytes()),
            Err(HookError::Signature)
        );
        let h = signed("ping", body, SECRET);
        assert_eq!(
            delivery(&secret, &h, br#"{"zen":"changed"}"#),
            Err(HookError::Signature)
        );
        let mut unsigned = h.clone();
        unsigned.remove("x-hub-signature-256");
        unsigned.insert("x-hub-signature", "sha1=abc".parse().unwrap());
        assert_eq!(
            delivery(&secret, &unsigned, body.as_bytes()),
            Err(HookError::Signature)
        );
        // A signed body that is not JSON is a payload error, not a signature one.
        let garbage = signed("push", "not json", SECRET);
        assert!(matches!(
            delivery(&secret, &garbage, b"not json"),
            Err(HookError::Payload(_))
        ));
    }

    #[test]
    fn events_map_to_hooks() {
        let pr = r#"{"action":"closed","number":12,"pull_request":{"number":12,"merged":true,
            "head":{"ref":"tollgate/12-x","sha":"aaa"}},"repository":{"full_name":"acme/apis"}}"#;
        assert_eq!(
            deliver("pull_request", pr).unwrap().hook,
            Hook::Request { number: 12 }
        );
        let review = r#"{"action":"submitted","review":{"state":"approved","user":{"login":"bob"}},
            "pull_request":{"number":3}}"#;
        assert_eq!(
            deliver("pull_request_review", review).unwrap().hook,
            Hook::Request { number: 3 }
        );
        let status = r#"{"sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","state":"success","context":"ci"}"#;
        assert_eq!(
            deliver("status", status).unwrap().hook,
            Hook::Commit {
                sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e".into()
            }
        );
        let run = r#"{"action":"completed","check_run":{"head_sha":"ce587453ced02b1526dfb4cb910479d431683101"}}"#;
        assert!(matches!(
            deliver("check_run", run).unwrap().hook,
            Hook::Commit { .. }
        ));
        let suite = r#"{"action":"completed","check_suite":{"head_sha":"abc"}}"#;
        assert_eq!(
            deliver("check_suite", suite).unwrap().hook,
            Hook::Commit { sha: "abc".into() }
        );
        let push = r#"{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",
            "after":"b0b0"}"#;
        assert_eq!(
            deliver("push", push).unwrap().hook,
            Hook::Push {
                branch: "main".into(),
                after: "b0b0".into()
            }
        );
        let tag = r#"{"ref":"refs/tags/v1","before":"0","after":"1"}"#;
        assert_eq!(deliver("push", tag).unwrap().hook, Hook::Other);
        assert!(matches!(
            deliver("pull_request", r#"{"action":"opened"}"#),
            Err(HookError::Payload(_))
        ));
    }
}
