//! The same store story on SQLite and on PostgreSQL: migrations, users, sessions (create,
//! load, save, delete, expiry), and the helpers that give every store test both databases.

use std::collections::HashMap;
use tollgate::db::Db;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

async fn story(db: &Db) {
    db.migrate().await.expect("migrate");
    db.migrate().await.expect("migrating twice is a no-op");
    db.ping().await.expect("ping");

    assert_eq!(db.user("alice").await.expect("query"), None);
    db.record_sign_in("alice", "demo", &[])
        .await
        .expect("sign in");
    db.record_sign_in("alice", "demo", &[])
        .await
        .expect("sign in again");
    db.record_sign_in("bob", "demo", &["team-x".to_owned()])
        .await
        .expect("bob");
    let alice = db
        .user("alice")
        .await
        .expect("query")
        .expect("alice exists");
    assert_eq!(
        (
            alice.login.as_str(),
            alice.provider.as_str(),
            alice.sign_ins
        ),
        ("alice", "demo", 2)
    );
    assert_eq!(
        db.user("bob").await.expect("query").map(|u| u.sign_ins),
        Some(1)
    );
    assert_eq!(
        db.groups_of(&["BOB".into(), "alice".into(), "nobody".into()])
            .await
            .expect("groups"),
        vec![
            (Some("demo".to_owned()), vec!["team-x".to_owned()]),
            (Some("demo".to_owned()), vec![]),
            (None, vec![])
        ]
    );

    access_story(db).await;

    let store = db.session_store();
    let mut data = HashMap::new();
    data.insert(
        "user".to_owned(),
        serde_json::json!({"login": "alice", "provider": "demo"}),
    );
    let mut record = Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.expect("create");
    let loaded = store
        .load(&record.id)
        .await
        .expect("load")
        .expect("present");
    assert_eq!(loaded.data["user"]["login"], "alice");
    record.data.insert("n".into(), serde_json::json!(2));
    store.save(&record).await.expect("save");
    assert_eq!(
        store
            .load(&record.id)
            .await
            .expect("load")
            .expect("present")
            .data["n"],
        2
    );
    store.delete(&record.id).await.expect("delete");
    assert!(store.load(&record.id).await.expect("load").is_none());

    let mut expired = Record {
        id: Id::default(),
        data: HashMap::new(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    };
    store.create(&mut expired).await.expect("create");
    assert!(
        store.load(&expired.id).await.expect("load").is_none(),
        "expired sessions do not load"
    );
    store.delete_expired().await.expect("cleanup");
}

/// Accounts, API tokens and the audit log, the same on both databases.
async fn access_story(db: &Db) {
    use tollgate::auth::{Role, User, audit, tokens};
    // A provider's subject keeps its login; a login taken by someone else gets a suffix.
    assert_eq!(
        db.account_login("sso", "s-1", "alice").await.unwrap(),
        "alice-2",
        "a demo user has alice"
    );
    assert_eq!(db.account_login("sso", "s-2", "zoe").await.unwrap(), "zoe");
    assert_eq!(
        db.account_login("sso", "s-1", "other").await.unwrap(),
        "alice-2"
    );
    assert_eq!(db.account_login("gh", "s-1", "zoe").await.unwrap(), "zoe-2");

    let owner = User {
        login: "zoe".into(),
        provider: "sso".into(),
        groups: vec!["g".into()],
        role: Role::Editor,
    };
    let (id, secret) = tokens::create(db, &owner, "ci", Role::Editor, 3)
        .await
        .unwrap();
    let (got, user) = tokens::authenticate(db, &secret, |_| Role::Viewer)
        .await
        .unwrap()
        .expect("valid");
    assert_eq!(
        (got, user.login.as_str(), user.role, user.groups.clone()),
        (id, "zoe", Role::Viewer, vec!["g".to_owned()]),
        "capped by the owner"
    );
    assert_eq!(tokens::list(db, Some("ZOE")).await.unwrap().len(), 1);
    assert_eq!(tokens::list(db, Some("bob")).await.unwrap().len(), 0);
    assert_eq!(tokens::list(db, None).await.unwrap().len(), 1);
    assert!(tokens::revoke(db, id).await.unwrap());
    assert!(!tokens::revoke(db, id).await.unwrap(), "once");
    assert!(
        tokens::authenticate(db, &secret, |_| Role::Admin)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        tokens::get(db, id)
            .await
            .unwrap()
            .and_then(|t| t.revoked_at)
            .is_some()
    );

    for (actor, action, outcome) in [
        ("zoe", "propose", "ok"),
        ("bob", "approve", "refused"),
        ("zoe", "merge", "ok"),
    ] {
        audit::record(
            db,
            actor,
            action,
            "change/1",
            outcome,
            if outcome == "ok" { "" } else { "forbidden" },
            "req-1",
        )
        .await;
    }
    let all = audit::list(db, &audit::AuditQuery::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["merge", "approve", "propose"]
    );
    let q = audit::AuditQuery {
        actor: Some("ZOE".into()),
        ..Default::default()
    };
    assert_eq!(audit::list(db, &q).await.unwrap().len(), 2);
    let q = audit::AuditQuery {
        outcome: Some("refused".into()),
        ..Default::default()
    };
    assert_eq!(audit::list(db, &q).await.unwrap()[0].code, "forbidden");
    let q = audit::AuditQuery {
        before: Some(all[0].id),
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(
        audit::list(db, &q)
            .await
            .unwrap()
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        vec!["approve"]
    );
}

#[tokio::test]
async fn sqlite_store() {
    on_sqlite(|db| async move { story(&db).await }).await;
}

#[tokio::test]
async fn postgres_store() {
    on_postgres(|db| async move { story(&db).await }).await;
}

/// Runs `story` on a fresh SQLite database in a nested folder of its own (created on connect).
pub async fn on_sqlite<F, Fut>(story: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("nested/dir/t.db").display());
    let db = Db::connect(&url, 4).await.expect("connect");
    story(db.clone()).await;
    db.close().await;
}

/// A fresh PostgreSQL database for one test, made from `TOLLGATE_TEST_POSTGRES_URL` (the test
/// command sets it) and dropped by [`Scratch::drop`]. Without the variable it says the test is
/// skipped, except in CI, where that is a failure.
pub struct Scratch {
    admin: Db,
    name: String,
    pub url: String,
}

impl Scratch {
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TOLLGATE_TEST_POSTGRES_URL") else {
            if std::env::var("CI").is_ok() {
                panic!("TOLLGATE_TEST_POSTGRES_URL must be set in CI");
            }
            eprintln!(
                "skipped: TOLLGATE_TEST_POSTGRES_URL is not set, so this PostgreSQL half did not run"
            );
            return None;
        };
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "tollgate_test_{}_{}_{}",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000,
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let admin = Db::connect(&admin_url, 1)
            .await
            .expect("connect to the admin database");
        let Db::Postgres(admin_pool) = &admin else {
            panic!("a postgres URL")
        };
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(admin_pool)
            .await
            .expect("create database");
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("URL without a database name"),
        };
        Some(Self { admin, name, url })
    }

    pub async fn drop(self) {
        let Db::Postgres(admin_pool) = &self.admin else {
            unreachable!("made from a postgres URL")
        };
        // FORCE: the server may not have ended the closed pool's sessions yet.
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(admin_pool)
            .await
            .expect("drop database");
        self.admin.close().await;
    }
}

/// Runs `story` on a fresh PostgreSQL database (see [`Scratch`]).
pub async fn on_postgres<F, Fut>(story: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let db = Db::connect(&scratch.url, 4).await.expect("connect");
    // On a task of its own, so a failing story still has its database dropped.
    let ran = tokio::spawn(story(db.clone())).await;
    db.close().await;
    scratch.drop().await;
    if let Err(failed) = ran {
        std::panic::resume_unwind(failed.into_panic());
    }
}

/// Runs `story` with the URL of a fresh PostgreSQL database (see [`Scratch`]): for a whole app.
pub async fn with_postgres_url<F, Fut>(story: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(scratch) = Scratch::create().await else {
        return;
    };
    let ran = tokio::spawn(story(scratch.url.clone())).await;
    scratch.drop().await;
    if let Err(failed) = ran {
        std::panic::resume_unwind(failed.into_panic());
    }
}
