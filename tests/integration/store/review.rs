//! Review: proposing, approvals and their dismissal, events, merge, close and conflicts.

use super::{allow, draft, kinds, pairs, propose, refuse, resource, row};
use tollgate::changes::store::{self, ChangeState};
use tollgate::db::Db;

on_both!(
    proposals,
    approvals,
    events_in_order,
    merge_close_and_conflict
);

/// Proposing records branch, commit, resources and the propose event together.
async fn proposals(db: &Db) {
    let id = draft(db, "two apis", "alice").await;
    let both = [
        resource("ApiDefinition", "refunds"),
        resource("ApiDefinition", "cards"),
    ];
    propose(db, id, &both).await.expect("propose");
    let r = row(db, id).await;
    assert_eq!(
        (
            r.state,
            r.base_commit.as_str(),
            r.branch.as_deref(),
            r.head_commit.as_deref()
        ),
        (
            ChangeState::Open,
            "base1",
            Some(format!("tollgate/{id}").as_str()),
            Some("head1")
        )
    );
    let names: Vec<String> = store::resources(db, id)
        .await
        .expect("resources")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["cards", "refunds"]);
    assert_eq!(kinds(db, id).await, pairs(&[("propose", "alice")]));
    let touching = store::open_touching(db, "ApiDefinition", "payments", "cards")
        .await
        .expect("touching");
    assert_eq!(touching.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);

    // Proposing again replaces the resources.
    propose(db, id, &both[..1]).await.expect("propose again");
    assert_eq!(store::resources(db, id).await.expect("resources").len(), 1);
    assert!(
        store::open_touching(db, "ApiDefinition", "payments", "cards")
            .await
            .expect("touching")
            .is_empty()
    );

    // A proposal whose event cannot be written leaves the draft as it was.
    let other = draft(db, "refused", "alice").await;
    refuse(
        db,
        "no_propose",
        "INSERT",
        "change_events",
        "NEW.kind = 'propose'",
    )
    .await;
    assert!(propose(db, other, &both).await.is_err());
    allow(db, "no_propose", "change_events").await;
    let r = row(db, other).await;
    assert_eq!(
        (r.state, r.branch, r.head_commit),
        (ChangeState::Draft, None, None)
    );
    assert!(
        store::resources(db, other)
            .await
            .expect("resources")
            .is_empty()
    );
    assert!(kinds(db, other).await.is_empty());
}

/// One approval per person; regenerating a change dismisses them, with its rebase event.
async fn approvals(db: &Db) {
    let id = draft(db, "approve me", "alice").await;
    propose(db, id, &[resource("ApiDefinition", "cards")])
        .await
        .expect("propose");
    assert!(
        store::add_event(db, id, "approval", "bob", "")
            .await
            .expect("bob")
    );
    assert!(
        !store::add_event(db, id, "approval", "bob", "")
            .await
            .expect("bob again")
    );
    assert!(
        store::add_event(db, id, "approval", "carol", "")
            .await
            .expect("carol")
    );

    // A regeneration that cannot record its event changes nothing.
    refuse(
        db,
        "no_rebase",
        "INSERT",
        "change_events",
        "NEW.kind = 'rebase'",
    )
    .await;
    assert!(
        store::set_edits(db, id, r#"["new"]"#, None, "alice")
            .await
            .is_err()
    );
    allow(db, "no_rebase", "change_events").await;
    let r = row(db, id).await;
    assert_eq!((r.state, r.edits.as_str()), (ChangeState::Open, "[]"));
    assert_eq!(
        kinds(db, id).await,
        pairs(&[
            ("propose", "alice"),
            ("approval", "bob"),
            ("approval", "carol")
        ])
    );

    store::set_edits(db, id, r#"["new"]"#, Some(r#"{"a":1}"#), "alice")
        .await
        .expect("regenerate");
    let r = row(db, id).await;
    assert_eq!(
        (r.state, r.edits.as_str(), r.adoption.as_deref()),
        (ChangeState::Draft, r#"["new"]"#, Some(r#"{"a":1}"#))
    );
    assert_eq!(
        kinds(db, id).await,
        pairs(&[
            ("propose", "alice"),
            ("dismissed_approval", "bob"),
            ("dismissed_approval", "carol"),
            ("rebase", "alice")
        ])
    );
    store::set_edits(db, id, "[]", None, "alice")
        .await
        .expect("regenerate again");
    assert_eq!(
        row(db, id).await.adoption.as_deref(),
        Some(r#"{"a":1}"#),
        "kept without a new one"
    );
    assert!(
        store::add_event(db, id, "approval", "bob", "")
            .await
            .expect("approves anew")
    );
}

/// Events come back in the order they were written, each change its own.
async fn events_in_order(db: &Db) {
    let a = draft(db, "a", "alice").await;
    let b = draft(db, "b", "bob").await;
    for (id, who, body) in [
        (a, "bob", "first"),
        (b, "carol", "elsewhere"),
        (a, "alice", "second"),
        (a, "bob", "first"),
    ] {
        assert!(
            store::add_event(db, id, "comment", who, body)
                .await
                .expect("comment")
        );
    }
    let events = store::events(db, a).await.expect("events");
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.author.as_str(), e.body.as_str()))
        .collect();
    assert_eq!(
        seen,
        [("bob", "first"), ("alice", "second"), ("bob", "first")]
    );
    assert!(
        events
            .iter()
            .all(|e| e.kind == "comment" && !e.created_at.is_empty())
    );
    assert_eq!(store::events(db, b).await.expect("events").len(), 1);
}

/// Merging, closing and conflicts write their state with their event, or nothing.
async fn merge_close_and_conflict(db: &Db) {
    let id = draft(db, "merge me", "alice").await;
    propose(db, id, &[]).await.expect("propose");

    refuse(
        db,
        "no_conflict",
        "INSERT",
        "change_events",
        "NEW.kind = 'conflict'",
    )
    .await;
    assert!(store::set_conflict(db, id, "moved", "bob").await.is_err());
    allow(db, "no_conflict", "change_events").await;
    assert_eq!(row(db, id).await.conflict, None);
    store::set_conflict(db, id, "moved", "bob")
        .await
        .expect("conflict");
    assert_eq!(row(db, id).await.conflict.as_deref(), Some("moved"));

    refuse(
        db,
        "no_merge",
        "INSERT",
        "change_events",
        "NEW.kind = 'merge'",
    )
    .await;
    assert!(store::set_merged(db, id, "m1", "bob").await.is_err());
    allow(db, "no_merge", "change_events").await;
    let r = row(db, id).await;
    assert_eq!((r.state, r.merge_commit), (ChangeState::Open, None));

    store::set_merged(db, id, "m1", "bob").await.expect("merge");
    let r = row(db, id).await;
    assert_eq!(
        (r.state, r.merge_commit.as_deref(), r.conflict),
        (ChangeState::Merged, Some("m1"), None)
    );
    let events = store::events(db, id).await.expect("events");
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.body.as_str()))
        .collect();
    assert_eq!(
        seen,
        [("propose", ""), ("conflict", "moved"), ("merge", "m1")]
    );

    let other = draft(db, "close me", "alice").await;
    refuse(
        db,
        "no_close",
        "INSERT",
        "change_events",
        "NEW.kind = 'close'",
    )
    .await;
    assert!(store::set_closed(db, other, "alice").await.is_err());
    allow(db, "no_close", "change_events").await;
    assert_eq!(row(db, other).await.state, ChangeState::Draft);
    store::set_closed(db, other, "alice").await.expect("close");
    assert_eq!(row(db, other).await.state, ChangeState::Closed);
    assert_eq!(kinds(db, other).await, pairs(&[("close", "alice")]));
}
