//! The change store's contract, written once and run on SQLite and on PostgreSQL: drafts,
//! idempotency keys, proposals, approvals, events, merge and close, discard, listing. Writes of
//! several statements are shown to be atomic by making the database refuse their last statement
//! (a trigger) and finding nothing of them behind.

use frontend::api::ChangedResource;
use tollgate::changes::store::{self, ChangeState};
use tollgate::db::{Db, DbError, count_statements};

/// Each story as two tests, `store::<story>::sqlite` and `store::<story>::postgres`.
macro_rules! on_both {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                crate::db::on_sqlite(|db| async move {
                    db.migrate().await.expect("migrate");
                    super::$story(&db).await;
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                crate::db::on_postgres(|db| async move {
                    db.migrate().await.expect("migrate");
                    super::$story(&db).await;
                })
                .await;
            }
        }
    )*};
}

on_both!(
    drafts,
    idempotency_keys,
    proposals,
    approvals,
    events_in_order,
    merge_close_and_conflict,
    discard,
    listing,
    unknown_states,
);

async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Makes the database refuse a row of `table` (`when` is `INSERT` or `DELETE`, `condition`
/// the trigger's WHEN), until [`allow`].
async fn refuse(db: &Db, name: &str, when: &str, table: &str, condition: &str) {
    match db {
        Db::Sqlite(_) => {
            exec(
                db,
                &format!(
                    "CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW WHEN {condition}
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                ),
            )
            .await;
        }
        Db::Postgres(_) => {
            exec(db, "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$").await;
            exec(db, &format!(
                "CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION refuse()"
            ))
            .await;
        }
    }
}

async fn allow(db: &Db, name: &str, table: &str) {
    match db {
        Db::Sqlite(_) => exec(db, &format!("DROP TRIGGER {name}")).await,
        Db::Postgres(_) => exec(db, &format!("DROP TRIGGER {name} ON {table}")).await,
    }
}

async fn draft(db: &Db, title: &str, author: &str) -> i64 {
    store::insert_draft(db, title, "", author, "[]", "base0", None, None)
        .await
        .expect("insert draft")
}

fn resource(kind: &str, name: &str) -> ChangedResource {
    ChangedResource {
        kind: kind.into(),
        namespace: "payments".into(),
        name: name.into(),
        action: "update".into(),
        path: format!("apis/payments/{name}.yaml"),
    }
}

async fn propose(db: &Db, id: i64, resources: &[ChangedResource]) -> Result<(), DbError> {
    let branch = format!("tollgate/{id}");
    store::set_proposed(db, id, "base1", &branch, "head1", resources, "[]", "alice").await
}

async fn row(db: &Db, id: i64) -> store::ChangeRow {
    store::get(db, id)
        .await
        .expect("get")
        .expect("the change exists")
}

async fn kinds(db: &Db, id: i64) -> Vec<(String, String)> {
    let events = store::events(db, id).await.expect("events");
    events.into_iter().map(|e| (e.kind, e.author)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, a)| ((*k).into(), (*a).into()))
        .collect()
}

fn is_unique_violation(e: &DbError) -> bool {
    matches!(e, DbError::Query(sqlx::Error::Database(d)) if d.is_unique_violation())
}

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

/// The list: newest first, by state, with approval counts and resources, in two queries
/// whether it holds one change or fifty.
async fn listing(db: &Db) {
    let (empty, n) = count_statements(store::list(db, None)).await;
    assert!(empty.expect("list").is_empty());
    assert_eq!(n, 1, "no resources query for no changes");

    let d = draft(db, "draft", "alice").await;
    let (one, one_n) = count_statements(store::list(db, None)).await;
    assert_eq!(one.expect("list").len(), 1);

    let open = draft(db, "open", "alice").await;
    propose(
        db,
        open,
        &[
            resource("SecurityPolicy", "gold"),
            resource("ApiDefinition", "cards"),
        ],
    )
    .await
    .expect("propose");
    store::add_event(db, open, "approval", "bob", "")
        .await
        .expect("approve");
    store::add_event(db, open, "approval", "carol", "")
        .await
        .expect("approve");
    store::add_event(db, open, "comment", "dave", "")
        .await
        .expect("comment");
    let merged = draft(db, "merged", "bob").await;
    propose(db, merged, &[resource("ApiDefinition", "refunds")])
        .await
        .expect("propose");
    store::add_event(db, merged, "approval", "alice", "")
        .await
        .expect("approve");
    store::set_edits(db, merged, "[]", None, "bob")
        .await
        .expect("regenerate");
    propose(db, merged, &[resource("ApiDefinition", "refunds")])
        .await
        .expect("propose");
    store::set_merged(db, merged, "m", "bob")
        .await
        .expect("merge");

    let all = store::list(db, None).await.expect("list");
    let summary: Vec<(i64, ChangeState, i64, Vec<String>)> = all
        .iter()
        .map(|c| {
            (
                c.row.id,
                c.row.state,
                c.approvals,
                c.resources.iter().map(|r| r.name.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (merged, ChangeState::Merged, 0, vec!["refunds".to_owned()]),
            (
                open,
                ChangeState::Open,
                2,
                vec!["cards".to_owned(), "gold".to_owned()]
            ),
            (d, ChangeState::Draft, 0, vec![]),
        ],
        "newest first; dismissed approvals do not count; resources by kind, namespace, name"
    );
    let opened = store::list(db, Some(ChangeState::Open))
        .await
        .expect("list");
    assert_eq!(opened.iter().map(|c| c.row.id).collect::<Vec<_>>(), [open]);
    assert!(
        store::list(db, Some(ChangeState::Closed))
            .await
            .expect("list")
            .is_empty()
    );

    for n in 0..50 {
        let id = draft(db, &format!("more {n}"), "alice").await;
        propose(db, id, &[resource("ApiDefinition", &format!("api-{n}"))])
            .await
            .expect("propose");
        store::add_event(db, id, "approval", "bob", "")
            .await
            .expect("approve");
    }
    let (many, many_n) = count_statements(store::list(db, None)).await;
    let many = many.expect("list");
    assert_eq!(many.len(), 53);
    assert!(
        many.iter()
            .take(50)
            .all(|c| c.approvals == 1 && c.resources.len() == 1)
    );
    assert_eq!(
        (one_n, many_n),
        (2, 2),
        "one query for the rows and counts, one for resources"
    );
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

/// The service's list reads in the same fixed number of queries as the store's.
#[tokio::test]
async fn the_change_list_takes_the_same_queries_for_one_change_or_fifty() {
    let app = crate::support::TestApp::demo().await;
    let running = app.running.as_ref().expect("running");
    let (db, changes) = (&running.app.db, &running.app.changes);
    let mut counts = Vec::new();
    for n in 0..50 {
        let title = format!("change {n}");
        let id = store::insert_draft(db, &title, "", "alice", "[]", "b", None, None)
            .await
            .expect("draft");
        propose(db, id, &[resource("ApiDefinition", &format!("api-{n}"))])
            .await
            .expect("propose");
        if n == 0 || n == 49 {
            let (listed, queries) = count_statements(changes.list(None)).await;
            assert_eq!(listed.expect("list").len(), n + 1);
            counts.push(queries);
        }
    }
    assert_eq!(counts, [2, 2]);
    app.stop().await;
}
