//! The database: SQLite (the embedded default) or PostgreSQL, with embedded migrations run at
//! start, and the session store on the same pool. Queries live here only.

use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// Database errors, with the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database ({url}): {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// A user row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub login: String,
    pub provider: String,
    pub sign_ins: i64,
}

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Connects, creating a SQLite file (and its folder) when needed.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let redacted = crate::config::redact_url(url);
        let err = |source| DbError::Connect {
            url: redacted.clone(),
            source,
        };
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(err)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(std::time::Duration::from_secs(5));
            if let Some(parent) = options
                .get_filename()
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|e| err(sqlx::Error::Io(e)))?;
            }
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(max_connections)
                .connect_with(options)
                .await
                .map_err(err)?;
            Ok(Self::Sqlite(pool))
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(std::time::Duration::from_secs(10))
                .connect(url)
                .await
                .map_err(err)?;
            Ok(Self::Postgres(pool))
        }
    }

    /// Applies pending migrations (ours and the session store's).
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        self.session_store().migrate().await
    }

    /// Cheap liveness check for `/readyz`.
    /// Closes the pool: its connections and background tasks end.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Self::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub fn session_store(&self) -> Sessions {
        match self {
            Self::Sqlite(pool) => Sessions::Sqlite(SqliteStore::new(pool.clone())),
            Self::Postgres(pool) => Sessions::Postgres(PostgresStore::new(pool.clone())),
        }
    }

    /// Records a sign-in: creates the user on first sight, counts later ones, and keeps the
    /// groups the provider gave.
    pub async fn record_sign_in(
        &self,
        login: &str,
        provider: &str,
        groups: &[String],
    ) -> Result<(), DbError> {
        let now = time::OffsetDateTime::now_utc();
        let groups = serde_json::to_string(groups).unwrap_or_else(|_| "[]".into());
        let sql = "INSERT INTO users (login, provider, first_seen, last_seen, groups) VALUES ($1, $2, $3, $3, $4)
                   ON CONFLICT (login) DO UPDATE SET last_seen = excluded.last_seen,
                   provider = excluded.provider, groups = excluded.groups,
                   sign_ins = users.sign_ins + 1";
        match self {
            Self::Sqlite(pool) => {
                let now = now
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default();
                sqlx::query(&sqlite_sql(sql))
                    .bind(login)
                    .bind(provider)
                    .bind(now)
                    .bind(groups)
                    .execute(pool)
                    .await?;
            }
            Self::Postgres(pool) => {
                sqlx::query(sql)
                    .bind(login)
                    .bind(provider)
                    .bind(now)
                    .bind(groups)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// How each of `logins` last signed in and the groups they had then (unknown: none).
    pub async fn groups_of(
        &self,
        logins: &[String],
    ) -> Result<Vec<(Option<String>, Vec<String>)>, DbError> {
        let mut out = Vec::with_capacity(logins.len());
        for login in logins {
            let row: Option<(String, String)> = crate::db_run!(
                self,
                fetch_optional,
                (String, String),
                "SELECT provider, groups FROM users WHERE lower(login) = lower($1)",
                login
            )?;
            out.push(match row {
                Some((provider, groups)) => (
                    Some(provider),
                    serde_json::from_str(&groups).unwrap_or_default(),
                ),
                None => (None, Vec::new()),
            });
        }
        Ok(out)
    }

    /// The login of the person `subject` at `provider`: the one given at their first sign-in,
    /// else `hint` (or `hint-2`, `hint-3`… when someone else has it), recorded now.
    pub async fn account_login(
        &self,
        provider: &str,
        subject: &str,
        hint: &str,
    ) -> Result<String, DbError> {
        let known: Option<(String,)> = crate::db_run!(
            self,
            fetch_optional,
            (String,),
            "SELECT login FROM accounts WHERE provider = $1 AND subject = $2",
            provider,
            subject
        )?;
        if let Some((login,)) = known {
            return Ok(login);
        }
        let mut last = None;
        for n in 1..=50 {
            let candidate = if n == 1 {
                hint.to_owned()
            } else {
                format!("{hint}-{n}")
            };
            // Taken by another account, or by someone who signed in another way (a demo name).
            let taken: Option<(String,)> = crate::db_run!(
                self,
                fetch_optional,
                (String,),
                "SELECT login FROM users WHERE lower(login) = lower($1) AND provider <> $2
                 UNION SELECT login FROM accounts WHERE lower(login) = lower($1)",
                &candidate,
                provider
            )?;
            if taken.is_some() {
                continue;
            }
            match crate::db_run!(
                self,
                execute,
                "INSERT INTO accounts (provider, subject, login) VALUES ($1, $2, $3)",
                provider,
                subject,
                &candidate
            ) {
                Ok(_) => return Ok(candidate),
                Err(e) => last = Some(e),
            }
        }
        Err(DbError::Query(last.unwrap_or(sqlx::Error::RowNotFound)))
    }

    pub async fn user(&self, login: &str) -> Result<Option<UserRecord>, DbError> {
        let row: Option<(String, String, i64)> = match self {
            Self::Sqlite(pool) => {
                sqlx::query_as("SELECT login, provider, sign_ins FROM users WHERE login = ?1")
                    .bind(login)
                    .fetch_optional(pool)
                    .await?
            }
            Self::Postgres(pool) => {
                sqlx::query_as("SELECT login, provider, sign_ins FROM users WHERE login = $1")
                    .bind(login)
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(row.map(|(login, provider, sign_ins)| UserRecord {
            login,
            provider,
            sign_ins,
        }))
    }
}

/// The session store of whichever database is configured.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(s) => s.migrate().await?,
            Self::Postgres(s) => s.migrate().await?,
        }
        Ok(())
    }

    /// Deletes expired sessions; run periodically.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        use tower_sessions::ExpiredDeletion;
        match self {
            Self::Sqlite(s) => s.delete_expired().await,
            Self::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}

/// SQLite reads `$1` as a named parameter; `?1` is its positional form. Store queries are
/// written once, with `$n`, for both databases.
pub fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

tokio::task_local! {
    static STATEMENTS: std::cell::Cell<u64>;
}

/// Runs `work`, counting the statements the store sends to the database for it: the query
/// budget of a read (a list takes the same number of queries for 1 change as for 500) is
/// tested with this. Counts only statements run by this task.
pub async fn count_statements<F: std::future::Future>(work: F) -> (F::Output, u64) {
    STATEMENTS
        .scope(std::cell::Cell::new(0), async {
            let out = work.await;
            (out, STATEMENTS.try_with(|n| n.get()).unwrap_or(0))
        })
        .await
}

/// Notes one statement for [`count_statements`]; [`db_run!`] and [`tx_run!`] call it, and so
/// must any store query that runs without them.
pub fn count_statement() {
    let _ = STATEMENTS.try_with(|n| n.set(n.get() + 1));
}

/// Runs a query on whichever database is configured: `db_run!(db, fetch_all, Row, "SQL", args..)`
/// for `query_as`, or `db_run!(db, execute, "SQL", args..)`.
#[macro_export]
macro_rules! db_run {
    ($db:expr, execute, $sql:expr $(, $arg:expr)* $(,)?) => {{
        $crate::db::count_statement();
        match $db {
            $crate::db::Db::Sqlite(pool) => sqlx::query(&$crate::db::sqlite_sql($sql))$(.bind($arg))*.execute(pool).await.map(|r| r.rows_affected()),
            $crate::db::Db::Postgres(pool) => sqlx::query($sql)$(.bind($arg))*.execute(pool).await.map(|r| r.rows_affected()),
        }
    }};
    ($db:expr, $fetch:ident, $row:ty, $sql:expr $(, $arg:expr)* $(,)?) => {{
        $crate::db::count_statement();
        match $db {
            $crate::db::Db::Sqlite(pool) => sqlx::query_as::<_, $row>(&$crate::db::sqlite_sql($sql))$(.bind($arg))*.$fetch(pool).await,
            $crate::db::Db::Postgres(pool) => sqlx::query_as::<_, $row>($sql)$(.bind($arg))*.$fetch(pool).await,
        }
    }};
}

/// How one database spells a query written with `$n` parameters.
pub trait Dialect {
    fn sql(sql: &str) -> std::borrow::Cow<'_, str>;
}

impl Dialect for sqlx::Sqlite {
    fn sql(sql: &str) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(sqlite_sql(sql))
    }
}

impl Dialect for sqlx::Postgres {
    fn sql(sql: &str) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(sql)
    }
}

/// Runs `$body` in one transaction on either database: `$tx` is the open transaction and `$d`
/// the database type (for [`Dialect`]); committed when the body succeeds, rolled back when it
/// returns early with an error. Statements inside use [`tx_run!`].
#[macro_export]
macro_rules! db_transaction {
    ($db:expr, |$tx:ident, $d:ident| $body:block) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => {
                type $d = sqlx::Sqlite;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::db::Db::Postgres(pool) => {
                type $d = sqlx::Postgres;
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// One statement inside [`db_transaction!`]; returns the rows affected.
#[macro_export]
macro_rules! tx_run {
    ($tx:ident, $d:ident, $sql:expr $(, $arg:expr)* $(,)?) => {{
        $crate::db::count_statement();
        sqlx::query(&<$d as $crate::db::Dialect>::sql($sql))
            $(.bind($arg))*
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected())
    }};
}
