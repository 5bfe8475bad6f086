//! Drafts: saving and correcting them, idempotency keys, discarding, and state decoding.

use super::{allow, draft, exec, is_unique_violation, kinds, propose, refuse, resource, row};
use tollgate::changes::store::{self, ChangeState};
use tollgate::db::Db;

on_both!(drafts, idempotency_keys, discard, unknown_states);

/// Drafts are saved, read back, corrected while they are drafts and only then.
async fn drafts(db: &Db) {
    let id = draft(db, "Raise the rate", "alice").await;
    let r = row(db, id).await;
    assert_eq!(
        (
            r.state,
            r.title.as_str(),
            r.author.as_str(),
            r.edits.as_str()
        ),
        (ChangeState::Draft, "Raise the rate", "alice", "[]")
    );
    assert_eq!(
        (r.base_commit.as_str(), r.branch, r.error),
        ("base0", None, None)
    );
    assert!(store::get(db, id + 1000).await.expect("get").is_none());

    store::set_error(db, id, Some("refused"), r#"[{"x":1}]"#)
        .await
        .expect("error");
    let r = row(db, id).await;
    assert_eq!(
        (r.error.as_deref(), r.issues.as_str()),
        (Some("refused"), r#"[{"x":1}]"#)
    );
    store::set_draft(db, id, "Raise it", "why", r#"[{"a":1}]"#)
        .await
        .expect("set draft");
    let r = row(db, id).await;
    assert_eq!(
        (
            r.title.as_str(),
            r.description.as_str(),
            r.edits.as_str(),
            r.error
        ),
        ("Raise it", "why", r#"[{"a":1}]"#, None)
    );

    propose(db, id, &[]).await.expect("propose");
    store::set_draft(db, id, "Too late", "", "[]")
        .await
        .expect("no-op");
    assert_eq!(
        row(db, id).await.title,
        "Raise it",
        "a proposed change is no draft"
    );
}

/// A key names one change per author, even when requests race.
async fn idempotency_keys(db: &Db) {
    let first = draft(db, "one", "alice").await;
    store::insert_draft(db, "a", "", "alice", "[]", "b", Some("k1"), None)
        .await
        .expect("k1");
    let again = store::insert_draft(db, "b", "", "alice", "[]", "b", Some("k1"), None).await;
    assert!(again.as_ref().is_err_and(is_unique_violation), "{again:?}");
    store::insert_draft(db, "c", "", "bob", "[]", "b", Some("k1"), None)
        .await
        .expect("another author may use the same key");
    store::insert_draft(db, "d", "", "alice", "[]", "b", None, None)
        .await
        .expect("no key");
    assert!(first > 0);
    let found = store::by_idempotency_key(db, "alice", "k1")
        .await
        .expect("by key");
    assert_eq!(found.map(|r| r.title), Some("a".to_owned()));
    assert!(
        store::by_idempotency_key(db, "carol", "k1")
            .await
            .expect("by key")
            .is_none()
    );

    let racers: Vec<_> = (0..8)
        .map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                let title = format!("racer {n}");
                store::insert_draft(&db, &title, "", "alice", "[]", "b", Some("race"), None).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for racer in racers {
        match racer.await.expect("join") {
            Ok(id) => won.push(id),
            Err(e) => assert!(is_unique_violation(&e), "{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one insert wins");
    let listed = store::list(db, None).await.expect("list");
    let racers = listed.iter().filter(|c| c.row.title.starts_with("racer "));
    assert_eq!(racers.map(|c| c.row.id).collect::<Vec<_>>(), won);
}

/// Discarding deletes a draft with its events and resources, all or nothing, and only a draft.
async fn discard(db: &Db) {
    let id = draft(db, "discard me", "alice").await;
    propose(db, id, &[resource("ApiDefinition", "cards")])
        .await
        .expect("propose");
    assert!(
        !store::delete_draft(db, id).await.expect("delete"),
        "an open change stays"
    );
    // Regenerated (a draft again) with its resources and events: the case discard must clean.
    store::set_edits(db, id, "[]", None, "alice")
        .await
        .expect("regenerate");
    store::add_event(db, id, "comment", "bob", "hm")
        .await
        .expect("comment");

    refuse(db, "no_delete", "DELETE", "changes", "OLD.id > 0").await;
    assert!(store::delete_draft(db, id).await.is_err());
    allow(db, "no_delete", "changes").await;
    assert_eq!(kinds(db, id).await.len(), 3, "events kept");
    assert_eq!(store::resources(db, id).await.expect("resources").len(), 1);

    assert!(store::delete_draft(db, id).await.expect("delete"));
    assert!(store::get(db, id).await.expect("get").is_none());
    assert!(kinds(db, id).await.is_empty());
    assert!(
        store::resources(db, id)
            .await
            .expect("resources")
            .is_empty()
    );
    assert!(!store::delete_draft(db, id).await.expect("delete again"));
}

/// A state the code does not know is an error, not a silent mismatch.
async fn unknown_states(db: &Db) {
    let id = draft(db, "odd", "alice").await;
    exec(
        db,
        &format!("UPDATE changes SET state = 'archived' WHERE id = {id}"),
    )
    .await;
    let got = store::get(db, id).await;
    assert!(
        got.as_ref()
            .is_err_and(|e| e.to_string().contains("archived")),
        "{got:?}"
    );
}
