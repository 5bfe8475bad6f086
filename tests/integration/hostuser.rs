//! Acting as the user on the Git host, against the emulator's GitHub with its OAuth app
//! endpoints: someone who signed in through the host's own login opens their pull requests and
//! approves as themselves (the host records them as author and reviewer); anyone else's go
//! through Tollgate's service token, named in the description. Their tokens are sealed in the
//! database and refreshed before they expire. The owners of the touched namespaces are listed in
//! the description and asked to review. The token store's contract runs on SQLite and
//! PostgreSQL.

use crate::changes::{change, patch};
use crate::support::TestApp;
use serde_json::{Value, json};
use tollgate::auth::Role;
use tollgate::auth::host_tokens::{Grant, HostTokens};
use tollgate::config::{
    Config, DemoUser, OwnershipConfig, ProviderConfig, ProviderKind, RoleMapping, TokenKey,
};
use tollgate::db::Db;
use tollgate::hosts::{AsUser, HostKind};
use tollgate_emulator::githost::{Flavour, GitHost};

const REPO: &str = "acme/config";
const SECRET: &str = "webhook-secret-for-tests";
const KEY: &str = "5f2b8c0e1d4a69b7c3e8f01a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn linked_provider(github: &str, api: &str) -> ProviderConfig {
    ProviderConfig {
        name: "gh".into(),
        kind: ProviderKind::Github,
        client_id: "tg-client".into(),
        client_secret: "tg-secret".into(),
        github_url: github.into(),
        github_api_url: api.into(),
        host: true,
        ..crate::oidc::provider("")
    }
}

struct Setup {
    host: GitHost,
    app: TestApp,
    _dir: tempfile::TempDir,
}

/// The emulated GitHub holding the demo repo, with an OAuth app whose user tokens live
/// `ttl` seconds, and Tollgate following it with sign-in through it (`host = true`).
async fn setup(ttl: Option<i64>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = GitHost::start(&dir.path().join("host"))
        .await
        .expect("emulator");
    let files = crate::hosts::demo_files();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    host.create_repo(REPO, &refs).expect("repo");
    let token = host.add_user("tollgate-bot");
    host.register_oauth_app("tg-client", "tg-secret", ttl);
    for who in ["octo", "hubert"] {
        host.add_user(who);
        host.set_teams(who, &["acme/payments"]);
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let (web, api) = (host.url(), host.api_url(Flavour::GitHub));
    let app = TestApp::start(
        move |c| {
            c.server.bind = format!("127.0.0.1:{port}").parse().expect("addr");
            c.server.public_url = base;
            c.host.kind = HostKind::Github;
            c.host.api_url = api.clone();
            c.host.repo = REPO.into();
            c.host.token = token;
            c.host.webhook_secret = SECRET.into();
            c.host.poll_interval_secs = 60;
            c.auth.providers = vec![linked_provider(&web, &api)];
            c.auth.token_key = TokenKey(KEY.into());
            c.auth.roles = vec![RoleMapping {
                group: "acme/payments".into(),
                role: Role::Approver,
            }];
            c.auth.demo_users.push(DemoUser::Entry {
                name: "dave".into(),
                role: Role::Approver,
                groups: vec!["acme/payments".into()],
            });
            c.ownership = vec![OwnershipConfig {
                namespaces: vec!["payments".into()],
                groups: vec!["acme/payments".into()],
            }];
        },
        false,
    )
    .await;
    host.set_webhook(Flavour::GitHub, &app.url("/api/v1/hooks/github"), SECRET);
    Setup {
        host,
        app,
        _dir: dir,
    }
}

fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tollgate_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// `login` signs in at the emulated host, then in Tollgate through its OAuth app (the login
/// provider `gh`); returns the session cookie.
pub async fn sign_in_through_github(app: &TestApp, host: &GitHost, login: &str) -> String {
    host.sign_in_at_host(login);
    let resp = app.get("/auth/gh/login?next=/changes").await;
    assert_eq!(resp.status(), 303);
    let pending = session_cookie(&resp).expect("pending sign-in");
    let to = resp.headers()["location"].to_str().expect("loc").to_owned();
    let resp = app.client.get(&to).send().await.expect("authorize");
    assert_eq!(resp.status(), 302, "{:?}", resp.text().await);
    let back = resp.headers()["location"].to_str().expect("loc").to_owned();
    let resp = app
        .client
        .get(&back)
        .header("cookie", &pending)
        .send()
        .await
        .expect("callback");
    assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
    session_cookie(&resp).expect("session")
}

impl Setup {
    /// `login` signs in at the host, then in Tollgate through the host's OAuth app, which asks
    /// for the repository scope.
    async fn sign_in_through_host(&self, login: &str) -> String {
        let resp = self.app.get("/auth/gh/login").await;
        let to = resp.headers()["location"].to_str().expect("loc").to_owned();
        assert!(to.contains("repo"), "the repository scope is asked: {to}");
        sign_in_through_github(&self.app, &self.host, login).await
    }

    async fn propose(&self, cookie: &str, title: &str, target: &str) -> Value {
        let body = change(
            title,
            vec![patch(
                "ApiDefinition",
                "payments",
                "payments-api",
                json!({"spec": {"proxy": {"target_url": target}}}),
            )],
        );
        let (status, created) = self
            .app
            .call("POST", "/api/v1/changes", Some(cookie), Some(body), None)
            .await;
        assert_eq!(status, 201, "{created}");
        created
    }

    fn pull_by_title(&self, title: &str) -> tollgate_emulator::githost::PullInfo {
        self.host
            .pulls(REPO)
            .into_iter()
            .find(|p| p.title == title)
            .expect("the pull request")
    }

    /// Every sealed token in the database.
    async fn sealed(&self) -> Vec<(String, String)> {
        let db = Db::connect(&self.app.config.database.url, 1)
            .await
            .expect("db");
        let Db::Sqlite(pool) = &db else {
            panic!("sqlite")
        };
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT login, sealed FROM host_tokens ORDER BY login")
                .fetch_all(pool)
                .await
                .expect("host_tokens");
        db.close().await;
        rows
    }
}

#[tokio::test]
async fn pull_requests_and_approvals_are_made_as_the_user_who_signed_in_through_the_host() {
    let s = setup(None).await;
    let octo = s.sign_in_through_host("octo").await;
    let me: Value = s
        .app
        .client
        .get(s.app.url("/api/v1/session"))
        .header("cookie", &octo)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    assert_eq!(me["user"], "octo", "{me}");

    // octo's pull request is theirs on the host.
    let mine = s
        .propose(
            &octo,
            "Octo points payments at v2",
            "http://payments-v2.payments.svc:8080",
        )
        .await;
    let pull = s.pull_by_title("Octo points payments at v2");
    assert_eq!(pull.author, "octo");
    // The owners of `payments` are named and asked to review.
    assert!(
        pull.body.contains("Owners who must approve") && pull.body.contains("acme/payments"),
        "{}",
        pull.body
    );
    assert_eq!(pull.requested_teams, vec!["payments".to_owned()]);

    // dave signed in another way: Tollgate's own token opens it, and the description names him.
    let dave = s.app.login("dave").await;
    let theirs = s
        .propose(
            &dave,
            "Dave points payments at v3",
            "http://payments-v3.payments.svc:8080",
        )
        .await;
    let pull = s.pull_by_title("Dave points payments at v3");
    assert_eq!(pull.author, "tollgate-bot");
    assert!(pull.body.contains("Proposed by dave"), "{}", pull.body);

    // hubert approves dave's change in Tollgate: the host records hubert's own review.
    let hubert = s.sign_in_through_host("hubert").await;
    let (status, view) = s
        .app
        .call(
            "POST",
            &format!("/api/v1/changes/{}/approve", theirs["id"]),
            Some(&hubert),
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{view}");
    let pull = s.pull_by_title("Dave points payments at v3");
    let reviews: Vec<(String, String)> = pull
        .reviews
        .iter()
        .map(|r| (r.user.clone(), format!("{:?}", r.state)))
        .collect();
    assert_eq!(reviews, vec![("hubert".to_owned(), "Approved".to_owned())]);

    // dave approving octo's change has no host token: a comment names him instead.
    let (status, view) = s
        .app
        .call(
            "POST",
            &format!("/api/v1/changes/{}/approve", mine["id"]),
            Some(&dave),
            Some(json!({})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert!(
        s.pull_by_title("Octo points payments at v2")
            .reviews
            .is_empty()
    );

    // The tokens are sealed: no issued token appears in the database.
    let issued = s.host.oauth_tokens();
    assert_eq!(issued.len(), 2);
    assert_eq!(
        s.host.oauth_refreshes(),
        0,
        "tokens that never expire are not refreshed"
    );
    let sealed = s.sealed().await;
    assert_eq!(
        sealed.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        vec!["hubert", "octo"]
    );
    for (_, value) in &sealed {
        for token in &issued {
            assert!(!value.contains(token.as_str()));
        }
    }
    let file =
        std::fs::read(s.app.config.database.url.trim_start_matches("sqlite://")).expect("db file");
    for token in &issued {
        assert!(
            !file.windows(token.len()).any(|w| w == token.as_bytes()),
            "a plain token in the database file"
        );
    }
    s.app.stop().await;
}

#[tokio::test]
async fn an_expiring_user_token_is_refreshed_before_it_is_used() {
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&logs);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || crate::access::Sink(std::sync::Arc::clone(&sink)))
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    // Tokens live 30 s: within the refresh margin, so the first use refreshes.
    let s = setup(Some(30)).await;
    let octo = s.sign_in_through_host("octo").await;
    let before = s.sealed().await;
    assert_eq!(s.host.oauth_refreshes(), 0);
    s.propose(
        &octo,
        "Octo points payments at v4",
        "http://payments-v4.payments.svc:8080",
    )
    .await;
    assert_eq!(s.host.oauth_refreshes(), 1);
    assert_eq!(s.pull_by_title("Octo points payments at v4").author, "octo");
    let issued = s.host.oauth_tokens();
    assert_eq!(issued.len(), 2, "the sign-in's token and the refreshed one");
    let after = s.sealed().await;
    assert_ne!(before, after, "the refreshed token replaced the old one");
    for (_, value) in &after {
        for token in &issued {
            assert!(!value.contains(token.as_str()));
        }
    }
    s.app.stop().await;
    drop(guard);
    // Signing in, refreshing and acting as the user logged none of the user's tokens, nor the
    // OAuth app's secret.
    let logs = String::from_utf8_lossy(&logs.lock().expect("lock")).into_owned();
    assert!(
        logs.contains("refreshed the user's host token"),
        "the logs were captured"
    );
    assert!(logs.contains("opened the request as its author"), "{logs}");
    for secret in issued.iter().map(String::as_str).chain(["tg-secret"]) {
        assert!(!logs.contains(secret), "a secret in the logs");
    }
}

/// Each provider's client, driven directly: with a user's token the request's author and the
/// approval's reviewer are that user; a refused user token is an `Unauthorized` error (the
/// change flow then falls back to the service token); owners are requested as team reviewers
/// where the host can (GitHub, Gitea), and GitLab asks nobody.
#[tokio::test]
async fn every_host_opens_and_approves_as_the_user() {
    use tollgate::hosts::{HostErrorKind, Publication};
    for flavour in [Flavour::GitHub, Flavour::GitLab, Flavour::Gitea] {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = GitHost::start(&dir.path().join("host"))
            .await
            .expect("emulator");
        host.create_repo(REPO, &[("README.md", "hello\n")])
            .expect("repo");
        let service = host.add_user("tollgate-bot");
        let (octo, hubert) = (host.add_user("octo"), host.add_user("hubert"));
        host.push_files(
            REPO,
            "tollgate/1-add-a",
            &[("a.txt", Some("a\n"))],
            "Add a",
            "tollgate-bot",
        )
        .expect("branch");
        let mut config = Config::default().host;
        config.kind = match flavour {
            Flavour::GitHub => HostKind::Github,
            Flavour::GitLab => HostKind::Gitlab,
            Flavour::Gitea => HostKind::Gitea,
        };
        config.api_url = host.api_url(flavour);
        config.repo = REPO.into();
        config.token = service;
        config.webhook_secret = SECRET.into();
        let client = tollgate::hosts::remote(&config).expect("client");
        let null = gix::ObjectId::null(gix::hash::Kind::Sha1);
        let p = Publication {
            change: 1,
            branch: "tollgate/1-add-a".into(),
            base_branch: "main".into(),
            base: null,
            base_tree: null,
            files: Vec::new(),
            message: "Add a".into(),
            author: tollgate::repo::Person {
                name: "octo".into(),
                email: "octo@example.test".into(),
            },
            title: "Add a".into(),
            body: "Proposed by octo".into(),
        };
        let opened = client
            .open_as(&p, &AsUser::new(&octo))
            .await
            .unwrap_or_else(|e| panic!("{flavour:?}: {e}"));
        assert_eq!(host.pulls(REPO)[0].author, "octo", "{flavour:?}");
        // Opening again finds it, whoever asks.
        assert_eq!(client.open(&p).await.expect("found").number, opened.number);
        let wrong = client
            .approve_as(
                opened.number,
                "Approved in Tollgate.",
                &AsUser::new("not-a-token"),
            )
            .await
            .expect_err("a wrong token");
        assert_eq!(
            wrong.kind,
            HostErrorKind::Unauthorized,
            "{flavour:?}: {wrong}"
        );
        assert!(!wrong.message.contains("not-a-token"), "{wrong}");
        client
            .approve_as(
                opened.number,
                "Approved in Tollgate.",
                &AsUser::new(&hubert),
            )
            .await
            .unwrap_or_else(|e| panic!("{flavour:?}: {e}"));
        let read = client.read(opened.number).await.expect("read");
        assert_eq!(
            read.approvers().collect::<Vec<_>>(),
            vec!["hubert"],
            "{flavour:?}"
        );
        let asked = client
            .request_reviews(
                opened.number,
                &["acme/payments".into(), "other/ops".into(), "plain".into()],
            )
            .await
            .unwrap_or_else(|e| panic!("{flavour:?}: {e}"));
        let teams = host.pulls(REPO)[0].requested_teams.clone();
        if flavour == Flavour::GitLab {
            assert!(asked.is_empty() && teams.is_empty());
        } else {
            assert_eq!(asked, vec!["acme/payments".to_owned()], "{flavour:?}");
            assert_eq!(teams, vec!["payments".to_owned()], "{flavour:?}");
        }
    }
}

/// A configuration with the linked provider and a key, for the store alone.
fn store_config() -> Config {
    let mut c = Config::default();
    c.host.kind = HostKind::Github;
    c.auth.providers = vec![linked_provider("http://127.0.0.1:9", "http://127.0.0.1:9")];
    c.auth.token_key = TokenKey(KEY.into());
    c
}

async fn token_store(db: &Db) {
    let tokens = HostTokens::new(&store_config(), db.clone()).expect("tokens");
    assert_eq!(tokens.for_user("alice").await.expect("none yet"), None);
    let grant = Grant {
        access: "gho_plaintext_alice".into(),
        refresh: None,
        expires_at: None,
    };
    tokens.save("alice", "gh", &grant).await.expect("save");
    // Another provider's grant is not kept.
    tokens.save("bob", "sso", &grant).await.expect("ignored");
    assert_eq!(
        tokens.for_user("alice").await.expect("alice"),
        Some(AsUser::new("gho_plaintext_alice"))
    );
    assert_eq!(tokens.for_user("bob").await.expect("bob"), None);
    let sealed: Vec<(String, String)> = match db {
        Db::Sqlite(p) => sqlx::query_as("SELECT login, sealed FROM host_tokens")
            .fetch_all(p)
            .await
            .expect("rows"),
        Db::Postgres(p) => sqlx::query_as("SELECT login, sealed FROM host_tokens")
            .fetch_all(p)
            .await
            .expect("rows"),
    };
    assert_eq!(sealed.len(), 1);
    assert!(!sealed[0].1.contains("plaintext"), "{}", sealed[0].1);
    // Saved again: replaced, not added.
    let newer = Grant {
        access: "gho_second".into(),
        ..grant.clone()
    };
    tokens.save("alice", "gh", &newer).await.expect("save");
    assert_eq!(
        tokens.for_user("alice").await.expect("alice"),
        Some(AsUser::new("gho_second"))
    );
    // With another key the sealed token cannot be opened: an error, never a wrong token.
    let mut other = store_config();
    other.auth.token_key = TokenKey("11".repeat(32));
    let wrong = HostTokens::new(&other, db.clone()).expect("tokens");
    assert!(wrong.for_user("alice").await.is_err());
    // ...and it is forgotten.
    assert_eq!(tokens.for_user("alice").await.expect("alice"), None);
    tokens.save("alice", "gh", &newer).await.expect("save");
    // Expired with nothing to refresh it: forgotten.
    let expired = Grant {
        access: "gho_old".into(),
        refresh: None,
        expires_at: Some(1),
    };
    tokens.save("carol", "gh", &expired).await.expect("save");
    assert_eq!(tokens.for_user("carol").await.expect("carol"), None);
    tokens.forget("alice").await.expect("forget");
    assert_eq!(tokens.for_user("alice").await.expect("alice"), None);
}

#[tokio::test]
async fn sqlite_token_store() {
    crate::db::on_sqlite(|db| async move {
        db.migrate().await.expect("migrate");
        token_store(&db).await;
    })
    .await;
}

#[tokio::test]
async fn postgres_token_store() {
    crate::db::on_postgres(|db| async move {
        db.migrate().await.expect("migrate");
        token_store(&db).await;
    })
    .await;
}

#[test]
fn a_host_login_needs_the_hosts_kind_a_repository_scope_and_a_key() {
    let check = |c: Config| {
        tollgate::auth::check_config(&c)
            .err()
            .map(|e| e.to_string())
    };
    let mut c = store_config();
    c.host.api_url = "http://127.0.0.1:9/api/v3".into();
    c.host.repo = REPO.into();
    assert_eq!(check(c.clone()), None);
    let mut gitlab = c.clone();
    gitlab.host.kind = HostKind::Gitlab;
    assert!(
        check(gitlab).is_some_and(|e| e.contains("host = true needs the Git host's own login"))
    );
    let mut no_key = c.clone();
    no_key.auth.token_key = TokenKey::default();
    assert!(check(no_key).is_some_and(|e| e.contains("auth.token_key")));
    let mut short = c.clone();
    short.auth.token_key = TokenKey("abcd".into());
    assert!(check(short).is_some_and(|e| e.contains("32 bytes")));
    let mut no_scope = c.clone();
    no_scope.auth.providers[0].scopes = vec!["read:user".into()];
    assert!(check(no_scope).is_some_and(|e| e.contains("repository scope")));
    let mut oidc = c;
    oidc.host.kind = HostKind::Gitlab;
    oidc.auth.providers[0].kind = ProviderKind::Oidc;
    oidc.auth.providers[0].issuer = "https://gitlab.example".into();
    oidc.auth.providers[0].scopes = vec!["openid".into(), "api".into()];
    assert_eq!(check(oidc), None);
}
