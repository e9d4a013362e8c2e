//! PostgreSQL, for importers on several hosts sharing one server: the store (the SQLite store's
//! logical schema and contract), its reading side, and the job queue that workers share; and what
//! the three have in common, here: connecting, the migration runner, the error texts and the SQL
//! helpers.
//!
//! Every timestamp written (`imported_at`, `fetched_at`, `last_*_at`, leases, the queue's times)
//! is the server's clock: importers on hosts whose clocks disagree still agree on when a lease
//! expires.
//!
//! The migration runner is this program's own rather than a crate's: it serialises processes
//! starting at once with an advisory lock, and reads the version before creating anything, so
//! that a role with only the rights to read and write the tables can use an up-to-date database.

use std::time::Duration;

use tokio::runtime::Handle;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row};

use super::schema::POSTGRES_MIGRATIONS;
use super::upgrade;
use super::{Cause, SCHEMA_VERSION, StoreError};

/// The server's clock as unix ms at the start of the transaction: every row a transaction writes
/// gets the same time, as every row of a batch does in the SQLite store. For the store and the
/// catalog.
macro_rules! transaction_ms {
    () => {
        "(floor(extract(epoch FROM now()) * 1000))::bigint"
    };
}

/// The server's clock as unix ms when the statement reads it, for the queue: a statement that
/// waited for a row lock (a `FINISH` behind another worker's `CLAIM`) still measures its lease
/// from the moment it writes it, not from the moment it was sent.
macro_rules! statement_ms {
    () => {
        "(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint"
    };
}

mod catalog;
pub mod queue;
mod store;

pub use catalog::PostgresCatalog;
pub use store::PostgresStore;

/// The version table. Named after the program, not `schema_migrations`, so that it cannot be
/// mistaken for another tool's table in a shared database.
const VERSION_TABLE: &str = "chess_import_migrations";

/// Serialises migrations of one database between processes (advisory locks are per database).
/// The bytes spell "chessimp".
const MIGRATION_LOCK: i64 = 0x6368_6573_7369_6d70;

/// How long a connection attempt may take, unless the URL sets `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long to wait before each new attempt to connect after a connection was lost: a server
/// restarting or failing over is back within seconds. Six attempts in all, the first at once,
/// 3.1 s of waiting plus each attempt's connect timeout; then the call fails with the last
/// attempt's error, and the next call starts over.
const RECONNECT_DELAYS: [Duration; 5] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_millis(1600),
];

/// How many times [`Connection::retrying`] starts work whose connection was lost midway, the
/// first included: once more on a new connection is what a dropped connection needs, and a
/// third covers one dropped again right after it was replaced.
const RUNS: u32 = 3;

/// Whether [`Connection::query`] runs a statement again on a new connection when the connection
/// was lost midway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rerun {
    /// Its effect would be repeated.
    Never,
    /// A second run changes nothing more.
    WhenLost,
}

/// One connection to one database, replaced when the server drops it: the store, the catalog
/// and the job queue each hold one. Not a pool: each of them issues one request at a time, and
/// a single connection keeps per-connection state (the store's staging table) simple.
pub(crate) struct Connection {
    config: Config,
    /// The URL as given, password masked: how errors name the database.
    target: String,
    /// Where the connection's I/O task runs.
    runtime: Handle,
    /// Run on every new connection: per-connection state, such as the store's staging table.
    setup: &'static str,
    client: Client,
    /// The client's connection was seen lost, possibly before the client noticed: it is
    /// replaced before its next use.
    lost: bool,
}

impl Connection {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`, TCP or unix socket)
    /// and migrates it; one attempt, since a server that cannot be reached at the start is a
    /// configuration to fix. The connection's I/O runs as a task on `runtime`; `setup` runs on
    /// every new connection.
    pub(crate) async fn open(
        url: &str,
        runtime: Handle,
        setup: &'static str,
    ) -> Result<Self, StoreError> {
        let target = mask_password(url);
        let connected = async {
            let config = parse_config(
                url,
                std::env::var("PGPASSWORD").ok(),
                std::env::var("PGUSER")
                    .or_else(|_| std::env::var("USER"))
                    .ok(),
            )?;
            let mut client = open_connection(&config, &runtime, setup).await?;
            migrate(&mut client).await?;
            Ok((config, client))
        };
        match connected.await {
            Ok((config, client)) => Ok(Connection {
                config,
                target,
                runtime,
                setup,
                client,
                lost: false,
            }),
            Err(cause) => Err(StoreError::Open { target, cause }),
        }
    }

    /// The database as messages name it (password masked).
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Runs `work` once with the client, connecting again first if the connection was lost
    /// (see [`RECONNECT_DELAYS`]). For work that must not run twice, such as a statement whose
    /// effect a second run would repeat.
    pub(crate) async fn once<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Client) -> Result<T, Cause>,
    ) -> Result<T, Cause> {
        let result = work(self.client().await?).await;
        self.note(&result);
        result
    }

    /// Runs `work` as [`Connection::once`] does, and again on a new connection when the
    /// connection was lost midway, [`RUNS`] times at most: for work that is safe to run again,
    /// a transaction (the server rolled back what the lost connection left unfinished) or a
    /// statement that a second run changes nothing more by.
    pub(crate) async fn retrying<T>(
        &mut self,
        mut work: impl AsyncFnMut(&mut Client) -> Result<T, Cause>,
    ) -> Result<T, Cause> {
        let mut runs = 1;
        loop {
            match self.once(&mut work).await {
                Err(cause) if self.run_again(&mut runs, &cause) => {}
                result => return result,
            }
        }
    }

    /// One statement's rows, for callers whose futures must be `Send` (the queue, on the
    /// import's runtime), which a future of an async closure cannot promise yet. A lost
    /// connection is handled as by [`Connection::once`], or by [`Connection::retrying`] with
    /// [`Rerun::WhenLost`].
    pub(crate) async fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        rerun: Rerun,
    ) -> Result<Vec<Row>, Cause> {
        let mut runs = 1;
        loop {
            let result = self.client().await?.query(sql, params).await;
            let result = result.map_err(Cause::from);
            self.note(&result);
            match result {
                Err(cause) if rerun == Rerun::WhenLost && self.run_again(&mut runs, &cause) => {}
                result => return result,
            }
        }
    }

    /// The client, on a new connection if the last one was lost.
    async fn client(&mut self) -> Result<&mut Client, Cause> {
        if self.lost || self.client.is_closed() {
            self.reconnect().await?;
        }
        Ok(&mut self.client)
    }

    /// Remembers whether `result` says the connection was lost.
    fn note<T>(&mut self, result: &Result<T, Cause>) {
        if let Err(Cause::Postgres(error)) = result {
            self.lost = is_lost(error) || self.client.is_closed();
        }
    }

    /// Whether work that failed with `cause` is run again: the connection was lost under it
    /// (not before it, when connecting again already had its tries), and `runs` (counting this
    /// one) is under [`RUNS`].
    fn run_again(&self, runs: &mut u32, cause: &Cause) -> bool {
        if !self.lost || matches!(cause, Cause::Reconnect { .. }) || *runs >= RUNS {
            return false;
        }
        tracing::warn!("{}: {cause}; trying again", self.target);
        *runs += 1;
        true
    }

    /// Replaces the lost connection, trying [`RECONNECT_DELAYS`] apart.
    async fn reconnect(&mut self) -> Result<(), Cause> {
        tracing::warn!("{}: connection lost; connecting again", self.target);
        let mut tries = 0;
        loop {
            tries += 1;
            let cause = match open_connection(&self.config, &self.runtime, self.setup).await {
                Ok(client) => {
                    self.client = client;
                    self.lost = false;
                    return Ok(());
                }
                Err(cause) => cause,
            };
            let Some(&delay) = RECONNECT_DELAYS.get(tries - 1) else {
                return Err(Cause::Reconnect {
                    tries,
                    last: Box::new(cause),
                });
            };
            tracing::debug!("{}: cannot connect again ({cause}); waiting", self.target);
            tokio::time::sleep(delay).await;
        }
    }
}

/// Whether `error` means the connection is gone: closed, broken, or ended by the server (an
/// administrator's `pg_terminate_backend`, a shutdown, a crash, a failed connection).
fn is_lost(error: &tokio_postgres::Error) -> bool {
    let ended = [
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
    ];
    error.is_closed()
        || io_error(error).is_some()
        || error
            .code()
            .is_some_and(|code| ended.contains(code) || code.code().starts_with("08"))
}

/// Connects (one attempt, within the connect timeout), starts the connection's I/O task on
/// `runtime` and runs `setup` (per-connection state, such as the store's staging table).
async fn open_connection(config: &Config, runtime: &Handle, setup: &str) -> Result<Client, Cause> {
    let limit = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let (client, connection) = tokio::time::timeout(limit, config.connect(NoTls))
        .await
        .map_err(|_| Cause::NoAnswer {
            endpoint: endpoint(config),
            limit,
        })?
        .map_err(|error| Cause::Connect {
            endpoint: endpoint(config),
            error,
        })?;
    runtime.spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("PostgreSQL connection ended: {error}");
        }
    });
    if !setup.is_empty() {
        client.batch_execute(setup).await?;
    }
    Ok(client)
}

/// Applies missing migrations in one transaction under an advisory lock, so that two processes
/// starting at once on a fresh database apply them once, the second waiting for the first.
async fn migrate(client: &mut Client) -> Result<(), Cause> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // Checked before creating, so that a user without CREATE rights can use an up-to-date
    // database.
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&VERSION_TABLE])
        .await?
        .try_get(0)?;
    let version: i64 = if exists {
        tx.query_one(
            &format!("SELECT coalesce(max(version), 0)::bigint FROM {VERSION_TABLE}"),
            &[],
        )
        .await?
        .try_get(0)?
    } else {
        tx.batch_execute(&format!(
            "CREATE TABLE {VERSION_TABLE} (
                 version    bigint      PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )"
        ))
        .await?;
        0
    };
    if version > SCHEMA_VERSION {
        return Err(Cause::newer_schema(version));
    }
    for (applied, migration) in (1_i64..)
        .zip(POSTGRES_MIGRATIONS.iter())
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(migration).await?;
        if applied == upgrade::BACKFILLED_BY {
            let games = upgrade::postgres(&tx).await?;
            tracing::info!("upgraded {games} games to schema {applied}");
        }
        tx.execute(
            &format!("INSERT INTO {VERSION_TABLE} (version) VALUES ($1)"),
            &[&applied],
        )
        .await?;
    }
    Ok(tx.commit().await?)
}

/// The connection settings of `url`, completed as libpq would: the password from `PGPASSWORD`
/// and the user from `PGUSER`/`USER` when the URL has none (both passed in, for testing).
fn parse_config(
    url: &str,
    env_password: Option<String>,
    env_user: Option<String>,
) -> Result<Config, Cause> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(Cause::Found(
            "not a postgres:// or postgresql:// URL".into(),
        ));
    }
    // Refused before parsing, which rejects verify-ca/verify-full with a vaguer message. The
    // modes left, disable and prefer, both connect in plain text: without a TLS implementation,
    // prefer does not try TLS.
    if let Some(mode) = query_param(url, "sslmode")
        && matches!(mode, "require" | "verify-ca" | "verify-full")
    {
        return Err(Cause::Found(format!(
            "sslmode={mode} needs TLS, which this build of chess-import does not support \
             (use sslmode=disable or prefer, a unix socket, or an SSH tunnel)"
        )));
    }
    let mut config: Config = url.parse().map_err(Cause::Url)?;
    if config.get_password().is_none()
        && let Some(password) = env_password
    {
        config.password(password);
    }
    if config.get_user().is_none() {
        let user = env_user.filter(|user| !user.is_empty()).ok_or_else(|| {
            Cause::Found("no user name: put it in the URL (postgresql://USER@HOST/DATABASE)".into())
        })?;
        config.user(user);
    }
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        // libpq's default on Debian.
        config.host_path("/var/run/postgresql");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("chess-import");
    }
    Ok(config)
}

/// The first value of query parameter `name` in `url`, undecoded.
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `url` with its password, if any, replaced by `***`, both the `user:password@` form and a
/// `password=` parameter, for naming the database in messages and logs. A malformed URL (an
/// unescaped `@`, `?` or `/` in the password) has too much masked rather than too little.
pub fn mask_password(url: &str) -> String {
    let mut masked = mask_password_params(url);
    let Some(scheme_end) = masked.find("://").map(|index| index + 3) else {
        return masked;
    };
    let rest = &masked[scheme_end..];
    // The query starts at the first `?` after the last `/`, if what follows is `key=value` pairs;
    // an `@` in it (`application_name=me@host`) does not end the credentials.
    let query_start = rest
        .rfind('/')
        .and_then(|slash| rest[slash..].find('?').map(|index| slash + index))
        .filter(|&start| {
            rest[start + 1..]
                .split('&')
                .all(|pair| pair.split_once('=').is_some_and(|(key, _)| !key.is_empty()))
        });
    let before_query = &rest[..query_start.unwrap_or(rest.len())];
    let Some(at) = before_query.rfind('@').or_else(|| rest.rfind('@')) else {
        return masked;
    };
    if let Some(colon) = rest[..at].find(':') {
        masked.replace_range(scheme_end + colon + 1..scheme_end + at, "***");
    }
    masked
}

/// Masks the value of every `password=` parameter, wherever the query seems to start.
fn mask_password_params(url: &str) -> String {
    const KEY: &str = "password=";
    let mut masked = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(found) = rest.to_ascii_lowercase().find(KEY) {
        let is_param = found > 0 && matches!(rest.as_bytes()[found - 1], b'?' | b'&');
        let value_start = found + KEY.len();
        masked.push_str(&rest[..value_start]);
        rest = &rest[value_start..];
        if is_param {
            masked.push_str("***");
            rest = &rest[rest.find('&').unwrap_or(rest.len())..];
        }
    }
    masked.push_str(rest);
    masked
}

/// Where the server was looked for, for connection errors: the URL may not say it plainly
/// (an encoded socket path, or a default).
fn endpoint(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(index, host)| {
            let port = ports
                .get(index)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
            }
        })
        .collect();
    hosts.join(", ")
}

/// A failed connection: the server's own answer (wrong password, no such database...), or why
/// it could not be reached, naming where it was looked for.
pub(super) fn connect_message(error: &tokio_postgres::Error, endpoint: &str) -> String {
    match (error.as_db_error(), io_error(error)) {
        (Some(_), _) => message(error),
        (None, Some(io)) => format!("cannot connect to {endpoint}: {io}"),
        (None, None) => format!("cannot connect to {endpoint}: {}", message(error)),
    }
}

pub(super) fn connect_advice(error: &tokio_postgres::Error) -> &'static str {
    if error.as_db_error().is_some() {
        return advice(error);
    }
    match io_error(error).map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound) => {
            " (is the server running and accepting connections there?)"
        }
        Some(std::io::ErrorKind::PermissionDenied) => {
            " (check the permissions of the socket directory)"
        }
        _ => "",
    }
}

fn io_error(error: &tokio_postgres::Error) -> Option<&std::io::Error> {
    std::error::Error::source(error).and_then(|source| source.downcast_ref())
}

/// What went wrong, on one line: the server's message, or the client's with every cause it
/// wraps ("error connecting to server" alone does not say what).
pub(super) fn message(error: &tokio_postgres::Error) -> String {
    let text = match error.as_db_error() {
        Some(db) => db.message().to_string(),
        None => crate::errors::with_causes(error),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The advice an operator needs for the server's common answers, or nothing.
pub(super) fn advice(error: &tokio_postgres::Error) -> &'static str {
    match error.code() {
        Some(&SqlState::INVALID_PASSWORD) => " (check the password in the URL or PGPASSWORD)",
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION) => {
            " (check the user name, and that the server's pg_hba.conf lets it in)"
        }
        Some(&SqlState::INVALID_CATALOG_NAME) => " (create it first, e.g. with createdb)",
        Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            " (the user needs CREATE on the schema to set up the tables, and to read and write \
             them afterwards; or connect as the database's owner)"
        }
        Some(&SqlState::TOO_MANY_CONNECTIONS) => {
            " (the server is at its connection limit; try again later)"
        }
        Some(&SqlState::CANNOT_CONNECT_NOW) => " (the server is starting or stopping; try again)",
        Some(&SqlState::READ_ONLY_SQL_TRANSACTION) => {
            " (this server is read-only, e.g. a standby; connect to the primary)"
        }
        Some(&SqlState::DISK_FULL) => " (free some disk space on the server)",
        _ => "",
    }
}

/// Fresh databases for the unit tests, on the server `CHESS_IMPORT_TEST_PG` names, made as the
/// integration tests make them and skipped by the same rule: without a server they fail, unless
/// `CHESS_IMPORT_SKIP_PG=1` skips them on purpose (loudly, and never in CI).
#[cfg(test)]
pub(crate) mod testing {
    use std::io::Write;
    use std::sync::Once;

    use tokio_postgres::{Config, NoTls, Row};

    const ENV: &str = "CHESS_IMPORT_TEST_PG";

    /// A URL of a new, empty database, or `None` when the tests are skipped on purpose.
    pub(crate) fn database() -> Option<String> {
        let Some(server) = std::env::var(ENV).ok().filter(|url| !url.is_empty()) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{ENV} is not set, and in CI the PostgreSQL tests must run"
            );
            assert!(
                std::env::var_os("CHESS_IMPORT_SKIP_PG").is_some_and(|v| v == "1"),
                "{ENV} is not set: start a PostgreSQL server with \
                 `eval \"$(.ci/start-postgres)\"`, or skip these tests on purpose with \
                 CHESS_IMPORT_SKIP_PG=1"
            );
            static SKIPPED: Once = Once::new();
            SKIPPED.call_once(|| {
                // The harness swallows `eprintln!` of passing tests, and a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: PostgreSQL unit tests need {ENV}"
                );
            });
            return None;
        };
        let name = format!("test_{:016x}", fastrand::u64(..));
        runtime().block_on(async {
            let config: Config = server.parse().unwrap();
            let (client, connection) = config.connect(NoTls).await.unwrap();
            let connection = tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            drop(client);
            connection.await.unwrap().unwrap();
        });
        // A `dbname` parameter overrides the URL's path.
        let separator = if server.contains('?') { '&' } else { '?' };
        Some(format!("{server}{separator}dbname={name}"))
    }

    /// The rows of `sql` on `url`, each made into a `T`, read on a connection of this program's
    /// own, so a fresh database is migrated first.
    pub(crate) fn query<T>(url: &str, sql: &str, each: impl Fn(&Row) -> T) -> Vec<T> {
        let runtime = runtime();
        runtime.block_on(async {
            let mut connection = super::Connection::open(url, runtime.handle().clone(), "")
                .await
                .unwrap();
            let rows = connection
                .once(async |client| Ok(client.query(sql, &[]).await?))
                .await
                .unwrap();
            rows.iter().map(each).collect()
        })
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_password_of_a_url() {
        let cases = [
            (
                "postgres://alice:s3cret@db.example:5432/games",
                "postgres://alice:***@db.example:5432/games",
            ),
            (
                "postgresql://alice:s3cret@%2Ftmp%2Fpg/games?sslmode=disable",
                "postgresql://alice:***@%2Ftmp%2Fpg/games?sslmode=disable",
            ),
            (
                "postgresql://alice@localhost/games",
                "postgresql://alice@localhost/games",
            ),
            (
                "postgresql:///games?host=/tmp",
                "postgresql:///games?host=/tmp",
            ),
            (
                "postgresql://alice@/games?host=/tmp&password=s3cret&x=1",
                "postgresql://alice@/games?host=/tmp&password=***&x=1",
            ),
            // Malformed passwords are masked whole, not cut at the character that breaks them.
            (
                "postgres://alice:p@ss?w/rd@localhost/games",
                "postgres://alice:***@localhost/games",
            ),
            (
                "postgres://alice:pw@localhost/games?application_name=a@b",
                "postgres://alice:***@localhost/games?application_name=a@b",
            ),
            (
                "postgres://alice:p@ss@localhost/games?host=/tmp&application_name=a@b",
                "postgres://alice:***@b",
            ),
            ("postgres://alice:pa?s@s@host", "postgres://alice:***@host"),
            (
                "postgres://alice:pa?ss@host/db?PASSWORD=x&sslmode=disable",
                "postgres://alice:***@host/db?PASSWORD=***&sslmode=disable",
            ),
            (
                "postgres://alice:@localhost/games",
                "postgres://alice:***@localhost/games",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(mask_password(url), expected, "{url}");
        }
    }

    #[test]
    fn completes_the_url_like_libpq() {
        let config = parse_config(
            "postgresql://alice@%2Ftmp%2Fpg%20dir/games",
            Some("from-env".into()),
            Some("bob".into()),
        )
        .unwrap();
        assert_eq!(config.get_user(), Some("alice"));
        assert_eq!(config.get_password(), Some(&b"from-env"[..]));
        assert_eq!(config.get_dbname(), Some("games"));
        assert_eq!(endpoint(&config), "/tmp/pg dir/.s.PGSQL.5432");
        assert_eq!(config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));

        let config = parse_config(
            "postgres://alice:in-url@/games?host=/run/pg&port=5433&connect_timeout=2",
            Some("from-env".into()),
            None,
        )
        .unwrap();
        assert_eq!(config.get_password(), Some(&b"in-url"[..]));
        assert_eq!(endpoint(&config), "/run/pg/.s.PGSQL.5433");
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(2)));

        let config = parse_config("postgres:///games", None, Some("bob".into())).unwrap();
        assert_eq!(config.get_user(), Some("bob"));
        assert_eq!(endpoint(&config), "/var/run/postgresql/.s.PGSQL.5432");
    }

    #[test]
    fn refuses_tls_and_other_schemes_clearly() {
        for mode in ["require", "verify-full"] {
            let url = format!("postgres://alice@db.example/games?sslmode={mode}");
            let error = parse_config(&url, None, None).unwrap_err().to_string();
            assert!(error.contains("does not support"), "{error}");
        }
        for mode in ["disable", "prefer"] {
            let url = format!("postgres://alice@db.example/games?sslmode={mode}");
            assert!(parse_config(&url, None, None).is_ok(), "{mode}");
        }
        let error = parse_config("mysql://alice@db/games", None, None).unwrap_err();
        assert!(error.to_string().contains("postgres://"), "{error}");
        let error = parse_config("postgres://db.example/games", None, None).unwrap_err();
        assert!(error.to_string().contains("no user name"), "{error}");
    }
}
