//! Listing changes: by state, with approval counts and resources, in a fixed number of queries.

use super::{draft, propose, resource};
use tollgate::changes::store::{self, ChangeState};
use tollgate::db::Db;
use tollgate::db::count_statements;

on_both!(listing);

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
            let (listed, queries) = count_statements(changes.list(None, None)).await;
            assert_eq!(listed.expect("list").len(), n + 1);
            counts.push(queries);
        }
    }
    assert_eq!(counts, [2, 2]);
    app.stop().await;
}
