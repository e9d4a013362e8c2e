//! PostgreSQL, for importers on several hosts sharing one server: the store (the SQLite store's
//! logical schema and contract), its reading side, and the job queue that workers share; and what
//! the three have in common, here: connecting (as libpq would: [`settings`], [`tls`]), the
//! migration runner, the error texts and the SQL helpers.
//!
//! Every connection works the same directly and through a transaction pooler (PgBouncer with
//! `pool_mode = transaction`), where consecutive transactions of one client may run on different
//! server connections: no statement is prepared by name outside the transaction that runs it
//! (statements are sent unnamed, with their parameters' types), and nothing is kept in the
//! session between transactions (the store's staging table lives for one transaction, the
//! migrations' advisory lock too).
//!
//! Every timestamp written (`imported_at`, `fetched_at`, `last_*_at`, leases, the queue's times)
//! is the server's clock: importers on hosts whose clocks disagree still agree on when a lease
//! expires.
//!
//! The migration runner is this program's own rather than a crate's: it serialises processes
//! starting at once with an advisory lock, and reads the version before creating anything, so
//! that a role with only the rights to read and write the tables can use an up-to-date database.

use std::path::PathBuf;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_postgres::config::{Host, SslMode as WireSslMode};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{AsyncMessage, CancelToken, Client, Config, Notification, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

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

/// The variable that sets the answer timeout (see [`settings::ANSWER_TIMEOUT`]), for the texts
/// that name it.
macro_rules! answer_timeout_env {
    () => {
        "CHESS_IMPORT_PG_TIMEOUT"
    };
}

mod cancel;
mod catalog;
mod conninfo;
mod listen;
mod progress;
pub mod queue;
mod settings;
mod store;
mod tls;

pub use catalog::PostgresCatalog;
pub use conninfo::{Malformed, is_conninfo, mask_password};
pub use progress::JobProgress;
pub use settings::{Invalid, SslMode};
pub use store::PostgresStore;

use settings::Settings;

/// A statement's parameters, each with its type: statements are sent unnamed, parsed with these
/// types, which a transaction pooler needs (see the module's documentation).
pub(crate) type Params<'a> = [(&'a (dyn ToSql + Sync), Type)];

/// The version table. Named after the program, not `schema_migrations`, so that it cannot be
/// mistaken for another tool's table in a shared database.
const VERSION_TABLE: &str = "chess_import_migrations";

/// Serialises migrations of one database between processes (advisory locks are per database).
/// The bytes spell "chessimp".
const MIGRATION_LOCK: i64 = 0x6368_6573_7369_6d70;

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

/// How long a schema upgrade may take, waiting for another process's included: the backfill
/// reads and rewrites every game once, minutes for millions of games.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(3600);

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

/// One connection to one database, replaced when the server (or a pooler) drops it: the store,
/// the catalog and the job queue each hold one. Not a pool: each of them issues one request at
/// a time.
pub(crate) struct Connection {
    link: Link,
    /// The connection string as given, password masked: how errors name the database.
    target: String,
    /// Where the connection's I/O task runs.
    runtime: Handle,
    client: Client,
    /// The client's connection's I/O task, stopped when a request goes unanswered: dropping the
    /// client alone would leave it waiting for the answer.
    io: AbortHandle,
    /// The client's connection was seen lost, possibly before the client noticed: it is
    /// replaced before its next use.
    lost: bool,
}

impl Connection {
    /// Connects to the database `target` names (a `postgres://` or `postgresql://` URL, or a
    /// `key=value` string, completed from the environment as libpq completes it) and migrates
    /// it; one attempt, since a server that cannot be reached at the start is a configuration to
    /// fix. The connection's I/O runs as a task on `runtime`.
    pub(crate) async fn open(target: &str, runtime: Handle) -> Result<Self, StoreError> {
        let masked = mask_password(target);
        let connected = async {
            let link = Link::new(target)?;
            let (mut client, io) = link.open(&runtime).await?;
            let cancel = client.cancel_token();
            let migrated = migrate(&mut client, link.settings.answer_timeout).await;
            if let Err(cause) = &migrated {
                link.abandon(cause, &io, cancel).await;
            }
            migrated?;
            Ok((link, client, io))
        };
        match connected.await {
            Ok((link, client, io)) => Ok(Connection {
                link,
                target: masked,
                runtime,
                client,
                io,
                lost: false,
            }),
            Err(cause) => Err(StoreError::Open {
                target: masked,
                cause,
            }),
        }
    }

    /// The database as messages name it (password masked).
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// How long the server may take to answer one request (see [`settings::ANSWER_TIMEOUT`]).
    pub(crate) fn answer_timeout(&self) -> Duration {
        self.link.settings.answer_timeout
    }

    /// Runs `work` once with the client, connecting again first if the connection was lost
    /// (see [`RECONNECT_DELAYS`]), and gives it up if it is not done within the answer timeout.
    /// For work that must not run twice, such as a statement whose effect a second run would
    /// repeat.
    pub(crate) async fn once<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Client) -> Result<T, Cause>,
    ) -> Result<T, Cause> {
        let limit = self.answer_timeout();
        self.streaming(async |client| answered(limit, work(client)).await?)
            .await
    }

    /// Runs `work` once as [`Connection::once`] does, but without a bound on the whole: for
    /// work that goes at a reader's pace, such as an export, which must bound each of its
    /// requests with [`answered`] instead.
    pub(crate) async fn streaming<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Client) -> Result<T, Cause>,
    ) -> Result<T, Cause> {
        let client = self.client().await?;
        let cancel = client.cancel_token();
        let result = work(client).await;
        self.note(&result, cancel).await;
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
        params: &Params<'_>,
        rerun: Rerun,
    ) -> Result<Vec<Row>, Cause> {
        let limit = self.answer_timeout();
        let mut runs = 1;
        loop {
            let client = self.client().await?;
            let cancel = client.cancel_token();
            let result = answered(limit, client.query_typed(sql, params)).await;
            let result = result.and_then(|rows| rows.map_err(Cause::from));
            self.note(&result, cancel).await;
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

    /// Remembers whether `result` says the connection was lost; one whose request went
    /// unanswered is abandoned, to be replaced before its next use.
    async fn note<T>(&mut self, result: &Result<T, Cause>, cancel: CancelToken) {
        match result {
            Err(Cause::Postgres(error)) => self.lost = is_lost(error) || self.client.is_closed(),
            Err(cause @ Cause::Unanswered { .. }) => {
                self.lost = true;
                self.link.abandon(cause, &self.io, cancel).await;
            }
            _ => {}
        }
    }

    /// Whether work that failed with `cause` is run again: the connection was lost under it
    /// (not before it, when connecting again already had its tries), and `runs` (counting this
    /// one) is under [`RUNS`].
    fn run_again(&self, runs: &mut u32, cause: &Cause) -> bool {
        // A server that did not answer in time is not expected to answer a second run sooner.
        let given_up = matches!(cause, Cause::Reconnect { .. } | Cause::Unanswered { .. });
        if !self.lost || given_up || *runs >= RUNS {
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
            let cause = match self.link.open(&self.runtime).await {
                Ok((client, io)) => {
                    self.client = client;
                    self.io = io;
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

/// How to reach the server: the settings, and the TLS connector their `sslmode` and
/// `sslrootcert` ask for.
struct Link {
    settings: Settings,
    tls: MakeRustlsConnect,
}

impl Link {
    fn new(target: &str) -> Result<Self, Cause> {
        let settings = Settings::from_environment(target).map_err(Cause::Settings)?;
        let tls = tls::connector(&settings.verify).map_err(Cause::Settings)?;
        Ok(Link { settings, tls })
    }

    /// Closes a connection whose work failed with `cause`; if the server did not answer, also
    /// cancels the request (on a connection of its own, as PostgreSQL's cancel requests go,
    /// within the connect timeout). A server does not notice a client gone while it waits, for
    /// a lock say: uncancelled, the request would hold its locks meanwhile and then take effect,
    /// after this program has reported it failed.
    ///
    /// The cancel goes first: a pooler forwards it only for a client still connected.
    async fn abandon(&self, cause: &Cause, io: &AbortHandle, token: CancelToken) {
        if matches!(cause, Cause::Unanswered { .. }) {
            let limit = self.connect_timeout();
            let config = &self.settings.config;
            let cancelled = cancel::cancel(&token, config, &self.tls);
            match tokio::time::timeout(limit, cancelled).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!("cannot cancel the request the server did not answer: {error}");
                }
                Err(_) => tracing::warn!(
                    "cannot cancel the request the server did not answer: no answer within {} s",
                    limit.as_secs_f64()
                ),
            }
        }
        io.abort();
    }

    fn connect_timeout(&self) -> Duration {
        let config = &self.settings.config;
        let timeout = config.get_connect_timeout().copied();
        timeout.unwrap_or(settings::CONNECT_TIMEOUT)
    }

    /// Connects (one attempt, within the connect timeout, two for `sslmode=allow`) and starts
    /// the connection's I/O task on `runtime`.
    async fn open(&self, runtime: &Handle) -> Result<(Client, AbortHandle), Cause> {
        self.open_sending(runtime, None).await
    }

    /// Connects as [`Link::open`] does; the I/O task passes the server's notifications to
    /// `notifications`, and drops it when the connection ends.
    async fn open_sending(
        &self,
        runtime: &Handle,
        notifications: Option<mpsc::Sender<Notification>>,
    ) -> Result<(Client, AbortHandle), Cause> {
        let config = &self.settings.config;
        let limit = self.connect_timeout();
        // libpq ignores sslmode on unix sockets, where PostgreSQL has no TLS.
        let unix = config
            .get_hosts()
            .iter()
            .all(|host| matches!(host, Host::Unix(_)))
            && config.get_hostaddrs().is_empty();
        let wire = match self.settings.ssl_mode {
            _ if unix => WireSslMode::Disable,
            SslMode::Disable | SslMode::Allow => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        };
        let attempts = async {
            match self.connect(wire, runtime, notifications.clone()).await {
                // `allow`: TLS once the server has refused plain text.
                Err(error)
                    if self.settings.ssl_mode == SslMode::Allow
                        && !unix
                        && error.as_db_error().is_some() =>
                {
                    self.connect(WireSslMode::Require, runtime, notifications)
                        .await
                }
                result => result,
            }
        };
        let client = tokio::time::timeout(limit, attempts)
            .await
            .map_err(|_| Cause::NoAnswer {
                endpoint: endpoint(config),
                limit,
            })?
            .map_err(|error| Cause::Connect {
                endpoint: endpoint(config),
                error,
            })?;
        Ok(client)
    }

    async fn connect(
        &self,
        mode: WireSslMode,
        runtime: &Handle,
        notifications: Option<mpsc::Sender<Notification>>,
    ) -> Result<(Client, AbortHandle), tokio_postgres::Error> {
        let mut config = self.settings.config.clone();
        config.ssl_mode(mode);
        let (client, mut connection) = config.connect(self.tls.clone()).await?;
        let Some(notifications) = notifications else {
            let io = runtime.spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!("PostgreSQL connection ended: {error}");
                }
            });
            return Ok((client, io.abort_handle()));
        };
        let io = runtime.spawn(async move {
            // Polled for its messages, which also drives it: the connection as a future drops
            // notifications.
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    // One left out when the listener is that far behind wakes nobody who is not
                    // woken already: the channel stays bounded however many jobs are queued at
                    // once, each notifying.
                    Some(Ok(AsyncMessage::Notification(notification))) => {
                        let _ = notifications.try_send(notification);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        tracing::debug!("PostgreSQL connection ended: {error}");
                        break;
                    }
                    None => break,
                }
            }
        });
        Ok((client, io.abort_handle()))
    }
}

/// Applies missing migrations in one transaction under an advisory lock, so that two processes
/// starting at once on a fresh database apply them once, the second waiting for the first.
///
/// Each request is bounded by `limit`, the answer timeout, but for the lock, which may wait for
/// another process's upgrade, and the upgrade itself: [`UPGRADE_TIMEOUT`] each.
async fn migrate(client: &mut Client, limit: Duration) -> Result<(), Cause> {
    let tx = answered(limit, client.transaction()).await??;
    let lock = tx.execute_typed(
        "SELECT pg_advisory_xact_lock($1)",
        &[(&MIGRATION_LOCK, Type::INT8)],
    );
    answered(UPGRADE_TIMEOUT, lock).await??;
    let version = answered(limit, async {
        // Checked before creating, so that a user without CREATE rights can use an up-to-date
        // database.
        let exists: bool = tx
            .query_typed_one(
                "SELECT to_regclass($1) IS NOT NULL",
                &[(&VERSION_TABLE, Type::TEXT)],
            )
            .await?
            .try_get(0)?;
        if !exists {
            tx.batch_execute(&format!(
                "CREATE TABLE {VERSION_TABLE} (
                     version    bigint      PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now()
                 )"
            ))
            .await?;
            return Ok(0);
        }
        let row = tx
            .query_typed_one(
                &format!("SELECT coalesce(max(version), 0)::bigint FROM {VERSION_TABLE}"),
                &[],
            )
            .await?;
        row.try_get::<_, i64>(0)
    })
    .await??;
    if version > SCHEMA_VERSION {
        return Err(Cause::newer_schema(version));
    }
    if version == SCHEMA_VERSION {
        return Ok(answered(limit, tx.commit()).await??);
    }
    answered(UPGRADE_TIMEOUT, async {
        for (applied, migration) in (1_i64..)
            .zip(POSTGRES_MIGRATIONS.iter())
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.batch_execute(migration).await?;
            if applied == upgrade::BACKFILLED_BY {
                let games = upgrade::postgres(&tx).await?;
                tracing::info!("upgraded {games} games to schema {applied}");
            }
            tx.execute_typed(
                &format!("INSERT INTO {VERSION_TABLE} (version) VALUES ($1)"),
                &[(&applied, Type::INT8)],
            )
            .await?;
        }
        Ok::<_, Cause>(tx.commit().await?)
    })
    .await?
}

/// What to do about [`Cause::Unanswered`].
pub(crate) const UNANSWERED_ADVICE: &str = concat!(
    " (is the server, or a pooler in front of it, paused or overloaded, or a lock held by \
     another session? set ",
    answer_timeout_env!(),
    " to the seconds to wait)"
);

/// `request`'s result, or [`Cause::Unanswered`] when the server has not answered within
/// `limit`. The connection is then in the middle of a request and must not be used again:
/// [`Connection`] replaces it.
pub(crate) async fn answered<T>(
    limit: Duration,
    request: impl Future<Output = T>,
) -> Result<T, Cause> {
    tokio::time::timeout(limit, request)
        .await
        .map_err(|_| Cause::Unanswered { limit })
}

/// One of the servers a configuration lists.
pub(super) enum Server {
    /// `address` is what to connect to (`hostaddr`, else the host), `name` what the host goes
    /// by: what TLS checks the certificate against, and messages show.
    Tcp {
        address: String,
        name: String,
        port: u16,
    },
    /// The socket's path.
    Unix(PathBuf),
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Server::Tcp { name, port, .. } => write!(f, "{name}:{port}"),
            Server::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The servers `config` lists, in the order they are tried.
pub(super) fn servers(config: &Config) -> Vec<Server> {
    let ports = config.get_ports();
    let port = |index: usize| {
        let port = ports.get(index).or_else(|| ports.first());
        port.copied().unwrap_or(5432)
    };
    let hosts = config.get_hosts();
    if !config.get_hostaddrs().is_empty() {
        let addresses = config.get_hostaddrs().iter().enumerate();
        return addresses
            .map(|(index, address)| Server::Tcp {
                address: address.to_string(),
                name: match hosts.get(index) {
                    Some(Host::Tcp(name)) => name.clone(),
                    _ => address.to_string(),
                },
                port: port(index),
            })
            .collect();
    }
    let hosts = hosts.iter().enumerate();
    hosts
        .map(|(index, host)| match host {
            Host::Tcp(name) => Server::Tcp {
                address: name.clone(),
                name: name.clone(),
                port: port(index),
            },
            Host::Unix(dir) => Server::Unix(dir.join(format!(".s.PGSQL.{}", port(index)))),
        })
        .collect()
}

/// Where the server was looked for, for connection errors: the URL may not say it plainly
/// (an encoded socket path, or a default).
fn endpoint(config: &Config) -> String {
    let servers: Vec<String> = servers(config).iter().map(Server::to_string).collect();
    servers.join(", ")
}

/// A failed connection: the server's own answer (wrong password, no such database...), or why
/// it could not be reached, naming where it was looked for.
pub(super) fn connect_message(error: &tokio_postgres::Error, endpoint: &str) -> String {
    if let Some(failure) = tls::failure(error) {
        return format!("cannot connect to {endpoint}: {failure}");
    }
    match (error.as_db_error(), io_error(error)) {
        (Some(_), _) => message(error),
        (None, Some(io)) => format!("cannot connect to {endpoint}: {io}"),
        (None, None) => format!("cannot connect to {endpoint}: {}", message(error)),
    }
}

pub(super) fn connect_advice(error: &tokio_postgres::Error) -> &'static str {
    if tls::failure(error).is_some() {
        return " (check sslrootcert, and that the host name is one the certificate names)";
    }
    if error.as_db_error().is_some() {
        return advice(error);
    }
    // tokio-postgres's words for a server that answered no to TLS.
    if message(error).contains("server does not support TLS") {
        return " (the server does not offer TLS: use sslmode=prefer or disable, or turn ssl on \
                 in its postgresql.conf)";
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

const CREATE_IT_FIRST: &str = " (create it first, e.g. with createdb)";
const CHECK_PASSWORD: &str =
    " (check the password: in the connection string, PGPASSWORD or the password file)";

/// The advice an operator needs for the server's (or a pooler's) common answers, or nothing.
pub(super) fn advice(error: &tokio_postgres::Error) -> &'static str {
    let said = error.as_db_error().map(|db| db.message());
    match error.code() {
        // PgBouncer's words for a wrong password, which it checks itself.
        Some(&SqlState::PROTOCOL_VIOLATION) if said == Some("SASL authentication failed") => {
            CHECK_PASSWORD
        }
        Some(&SqlState::INVALID_PASSWORD) => CHECK_PASSWORD,
        // PostgreSQL 14 and later say "no encryption", older ones "SSL off".
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)
            if error.as_db_error().is_some_and(|db| {
                db.message().ends_with("no encryption") || db.message().ends_with("SSL off")
            }) =>
        {
            " (the server accepts only TLS connections from here: use sslmode=require, \
             verify-ca or verify-full)"
        }
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION) => {
            " (check the user name, and that the server's pg_hba.conf lets it in)"
        }
        Some(&SqlState::INVALID_CATALOG_NAME) => CREATE_IT_FIRST,
        // PgBouncer passes the server's words on, with a code of its own.
        Some(&SqlState::PROTOCOL_VIOLATION)
            if said.is_some_and(|said| {
                said.starts_with("database \"") && said.ends_with("\" does not exist")
            }) =>
        {
            CREATE_IT_FIRST
        }
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
            let mut connection = super::Connection::open(url, runtime.handle().clone())
                .await
                .unwrap();
            let rows = connection
                .once(async |client| Ok(client.query_typed(sql, &[]).await?))
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
