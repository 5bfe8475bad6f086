//! The change store's contract, written once and run on SQLite and on PostgreSQL: drafts,
//! idempotency keys, proposals, approvals, events, merge and close, discard, listing. Writes of
//! several statements are shown to be atomic by making the database refuse their last statement
//! (a trigger) and finding nothing of them behind. This module holds the helpers; the stories
//! are in its submodules.

use frontend::api::ChangedResource;
use tollgate::changes::store;
use tollgate::db::{Db, DbError};

/// Each story as two tests, `<story>::sqlite` and `<story>::postgres`, in the module that
/// invokes it.
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

mod drafts;
mod list;
mod review;

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
    store::set_proposed(
        db, id, "base1", &branch, "head1", resources, "[]", "alice", id, "{}",
    )
    .await
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
