//! The PostgreSQL store: the SQLite store's logical schema and contract, for importers on several
//! hosts sharing one server.
//!
//! One connection, not a pool: the store is driven by one writer thread that issues one request
//! at a time, so a pool's concurrency would buy nothing, while the per-connection state (the
//! temporary staging table) is simplest to keep on a single connection. A connection the server
//! dropped is replaced, with one attempt, at the next call.
//!
//! Every timestamp this store writes (`imported_at`, `fetched_at`, `last_*_at`, lease expiries)
//! is the server's clock, as unix ms of the transaction's start: importers on hosts whose clocks
//! disagree still agree on when a lease expires.

use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

use super::{Batch, Cursor, Lease, PlayerState, SCHEMA_VERSION, Store, StoreError, WriteCounts};
use crate::player::{Platform, Player};

/// The schema users query directly; see the README. Each entry migrates from the version before;
/// entry N takes the database to version N + 1.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE games (
    platform     text    NOT NULL,
    game_id      text    NOT NULL,
    url          text,
    white        text,
    black        text,
    white_elo    integer,
    black_elo    integer,
    result       text,
    termination  text,
    variant      text,
    time_control text,
    speed        text,
    rated        boolean,
    eco          text,
    opening      text,
    played_at    bigint,
    ply_count    integer,
    valid        boolean NOT NULL,
    pgn          text    NOT NULL,
    imported_at  bigint  NOT NULL,
    PRIMARY KEY (platform, game_id)
);
CREATE INDEX games_played_at ON games (played_at);
CREATE TABLE player_games (
    platform text NOT NULL,
    username text NOT NULL,
    game_id  text NOT NULL,
    PRIMARY KEY (platform, username, game_id)
);
CREATE TABLE import_state (
    platform        text NOT NULL,
    username        text NOT NULL,
    last_created_at bigint,
    last_month      text,
    last_success_at bigint,
    last_attempt_at bigint,
    last_error      text,
    PRIMARY KEY (platform, username)
);
CREATE TABLE chesscom_months (
    username      text   NOT NULL,
    month         text   NOT NULL,
    etag          text   NOT NULL,
    last_modified text,
    fetched_at    bigint NOT NULL,
    PRIMARY KEY (username, month)
);
CREATE TABLE ongoing_games (
    platform text NOT NULL,
    username text NOT NULL,
    game_id  text NOT NULL,
    PRIMARY KEY (platform, username, game_id)
);
CREATE TABLE import_leases (
    platform   text   NOT NULL,
    username   text   NOT NULL,
    owner      text   NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (platform, username)
);
"#];

/// The version table. Named after the program, not `schema_migrations`, so that it cannot be
/// mistaken for another tool's table in a shared database.
const VERSION_TABLE: &str = "chess_import_migrations";

/// Serialises migrations of one database between processes (advisory locks are per database).
/// The bytes spell "chessimp".
const MIGRATION_LOCK: i64 = 0x6368_6573_7369_6d70;

/// How long a connection attempt may take, unless the URL sets `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server's clock as unix ms: `now()` is the transaction's start, so every row a transaction
/// writes gets the same time, as in the SQLite store.
macro_rules! now_ms {
    () => {
        "(floor(extract(epoch FROM now()) * 1000))::bigint"
    };
}

/// Where a batch is `COPY`ed before it is merged into `games`: created once per connection, and
/// emptied by every commit or rollback.
const CREATE_STAGING: &str = "
CREATE TEMPORARY TABLE IF NOT EXISTS chess_import_staging (
    ord          bigint  NOT NULL,
    game_id      text    NOT NULL,
    url          text,
    white        text,
    black        text,
    white_elo    integer,
    black_elo    integer,
    result       text,
    termination  text,
    variant      text,
    time_control text,
    speed        text,
    rated        boolean,
    eco          text,
    opening      text,
    played_at    bigint,
    ply_count    integer,
    valid        boolean NOT NULL,
    pgn          text    NOT NULL
) ON COMMIT DELETE ROWS";

const COPY_STAGING: &str = "
COPY pg_temp.chess_import_staging (ord, game_id, url, white, black, white_elo, black_elo, result,
    termination, variant, time_control, speed, rated, eco, opening, played_at, ply_count, valid,
    pgn)
FROM STDIN (FORMAT binary)";

/// The column types of [`COPY_STAGING`], in order.
const STAGING_TYPES: &[Type] = &[
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT4,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::BOOL,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT4,
    Type::BOOL,
    Type::TEXT,
];

/// Keeps the first occurrence of a game served twice in one batch, as the SQLite store does, and
/// inserts in key order: two importers storing overlapping batches then take the key locks in the
/// same order and cannot deadlock. The row count is the number of new games.
const MERGE_GAMES: &str = concat!(
    "INSERT INTO games (platform, game_id, url, white, black, white_elo, black_elo, result,
         termination, variant, time_control, speed, rated, eco, opening, played_at, ply_count,
         valid, pgn, imported_at)
     SELECT $1, game_id, url, white, black, white_elo, black_elo, result, termination, variant,
         time_control, speed, rated, eco, opening, played_at, ply_count, valid, pgn, ",
    now_ms!(),
    "
     FROM (SELECT DISTINCT ON (game_id) * FROM pg_temp.chess_import_staging
           ORDER BY game_id, ord) AS batch
     ORDER BY game_id
     ON CONFLICT (platform, game_id) DO NOTHING"
);

const LINK_GAMES: &str = "
INSERT INTO player_games (platform, username, game_id)
SELECT $1, $2, game_id
FROM (SELECT DISTINCT game_id FROM pg_temp.chess_import_staging) AS batch
ORDER BY game_id
ON CONFLICT DO NOTHING";

/// `GREATEST` ignores NULLs, so a first cursor is taken as is and later ones only move it forward.
const ADVANCE_CREATED_AT: &str = "
INSERT INTO import_state (platform, username, last_created_at) VALUES ($1, $2, $3)
ON CONFLICT (platform, username) DO UPDATE SET
    last_created_at = GREATEST(import_state.last_created_at, excluded.last_created_at)";

/// Months (`YYYY/MM`) compare bytewise, whatever the database's collation.
const ADVANCE_MONTH: &str = r#"
INSERT INTO import_state (platform, username, last_month) VALUES ($1, $2, $3)
ON CONFLICT (platform, username) DO UPDATE SET
    last_month = GREATEST(import_state.last_month COLLATE "C", excluded.last_month COLLATE "C")"#;

const REMEMBER_ONGOING: &str = "
INSERT INTO ongoing_games (platform, username, game_id) SELECT $1, $2, unnest($3::text[])
ON CONFLICT DO NOTHING";

const FORGET_RESOLVED: &str = "
DELETE FROM ongoing_games WHERE platform = $1 AND username = $2 AND game_id = ANY($3::text[])";

const SAVE_MONTH: &str = concat!(
    "INSERT INTO chesscom_months (username, month, etag, last_modified, fetched_at)
     VALUES ($1, $2, $3, $4, ",
    now_ms!(),
    ")
     ON CONFLICT (username, month) DO UPDATE SET etag = excluded.etag,
         last_modified = excluded.last_modified, fetched_at = excluded.fetched_at"
);

const RECORD_RESULT: &str = concat!(
    "INSERT INTO import_state (platform, username, last_success_at, last_attempt_at, last_error)
     VALUES ($1, $2, CASE WHEN $3::text IS NULL THEN ",
    now_ms!(),
    " END, ",
    now_ms!(),
    ", $3)
     ON CONFLICT (platform, username) DO UPDATE SET
         last_success_at = coalesce(excluded.last_success_at, import_state.last_success_at),
         last_attempt_at = excluded.last_attempt_at,
         last_error = excluded.last_error"
);

/// Takes the lease when it is free, expired or already ours; returns no row otherwise. A lease is
/// live while `expires_at > now`, as in the SQLite store. When the `WHERE` fails, the existing row
/// is still locked until the transaction ends, so its holder can be read reliably next.
const TAKE_LEASE: &str = concat!(
    "INSERT INTO import_leases (platform, username, owner, expires_at)
     VALUES ($1, $2, $3, ",
    now_ms!(),
    " + $4)
     ON CONFLICT (platform, username) DO UPDATE SET owner = excluded.owner,
         expires_at = excluded.expires_at
     WHERE import_leases.owner = excluded.owner OR import_leases.expires_at <= ",
    now_ms!(),
    "
     RETURNING owner"
);

const LEASE_HOLDER: &str = "SELECT owner FROM import_leases WHERE platform = $1 AND username = $2";

const RENEW_LEASES: &str = concat!(
    "UPDATE import_leases SET expires_at = ",
    now_ms!(),
    " + $2 WHERE owner = $1"
);

const RELEASE_LEASE: &str =
    "DELETE FROM import_leases WHERE platform = $1 AND username = $2 AND owner = $3";

pub struct PostgresStore {
    runtime: Handle,
    config: Config,
    /// The URL as given, password masked: how errors name the database.
    target: String,
    client: Client,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`, TCP or unix socket)
    /// and migrates it. The connection's I/O runs as a task on `runtime` (multi-thread); the
    /// store's methods block the calling thread, which is meant to be outside the runtime (the
    /// writer thread). `connect` itself may also be called from async code on that runtime.
    pub fn connect(url: &str, runtime: Handle) -> Result<Self, StoreError> {
        let target = mask_password(url);
        let open_error = |reason: String| StoreError::Open {
            target: target.clone(),
            reason,
        };
        let config = parse_config(
            url,
            std::env::var("PGPASSWORD").ok(),
            std::env::var("PGUSER")
                .or_else(|_| std::env::var("USER"))
                .ok(),
        )
        .map_err(open_error)?;
        let mut client =
            block_on(&runtime, open_connection(&config, &runtime)).map_err(open_error)?;
        block_on(&runtime, migrate(&mut client)).map_err(open_error)?;
        Ok(PostgresStore {
            runtime,
            config,
            target,
            client,
        })
    }

    fn query_error(&self, reason: String) -> StoreError {
        StoreError::Query {
            target: self.target.clone(),
            reason,
        }
    }

    /// Runs `work` with the connection, first replacing it (one attempt) if the server dropped it.
    fn run<T>(
        &mut self,
        work: impl AsyncFnOnce(&mut Client) -> Result<T, String>,
    ) -> Result<T, StoreError> {
        if self.client.is_closed() {
            tracing::warn!("{}: connection lost; reconnecting", self.target);
            match block_on(&self.runtime, open_connection(&self.config, &self.runtime)) {
                Ok(client) => self.client = client,
                Err(reason) => return Err(self.query_error(format!("reconnecting: {reason}"))),
            }
        }
        let result = block_on(&self.runtime, work(&mut self.client));
        result.map_err(|reason| self.query_error(reason))
    }
}

impl Store for PostgresStore {
    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let chesscom = player.platform == Platform::Chesscom;
        self.run(async |client| {
            let row = client
                .query_opt(
                    "SELECT last_created_at, last_month FROM import_state
                     WHERE platform = $1 AND username = $2",
                    &[&platform, &username],
                )
                .await
                .map_err(explain)?;
            let mut state = PlayerState::default();
            if let Some(row) = row {
                state.last_created_at = row.try_get(0).map_err(explain)?;
                state.last_month = row.try_get(1).map_err(explain)?;
            }
            // Bytewise order, as SQLite sorts.
            let rows = client
                .query(
                    r#"SELECT game_id FROM ongoing_games WHERE platform = $1 AND username = $2
                       ORDER BY game_id COLLATE "C""#,
                    &[&platform, &username],
                )
                .await
                .map_err(explain)?;
            state.ongoing = rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()
                .map_err(explain)?;
            if chesscom {
                let rows = client
                    .query(
                        "SELECT month, etag FROM chesscom_months WHERE username = $1",
                        &[&username],
                    )
                    .await
                    .map_err(explain)?;
                for row in rows {
                    state.month_etags.insert(
                        row.try_get(0).map_err(explain)?,
                        row.try_get(1).map_err(explain)?,
                    );
                }
            }
            Ok(state)
        })
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError> {
        self.run(async |client| write_batch(client, batch).await)
    }

    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let error = error.map(text);
        self.run(async |client| {
            client
                .execute(RECORD_RESULT, &[&platform, &username, &error])
                .await
                .map(drop)
                .map_err(explain)
        })
    }

    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let ttl = millis(ttl);
        let target = player.to_string();
        self.run(async |client| {
            let tx = client.transaction().await.map_err(explain)?;
            let taken = tx
                .query_opt(TAKE_LEASE, &[&platform, &username, &owner, &ttl])
                .await
                .map_err(explain)?;
            let lease = if taken.is_some() {
                Lease::Acquired
            } else {
                let holder = tx
                    .query_opt(LEASE_HOLDER, &[&platform, &username])
                    .await
                    .map_err(explain)?
                    .ok_or_else(|| format!("the lease of {target} vanished while locked"))?;
                Lease::HeldBy(holder.try_get(0).map_err(explain)?)
            };
            tx.commit().await.map_err(explain)?;
            Ok(lease)
        })
    }

    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError> {
        let ttl = millis(ttl);
        self.run(async |client| {
            client
                .execute(RENEW_LEASES, &[&owner, &ttl])
                .await
                .map(drop)
                .map_err(explain)
        })
    }

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        self.run(async |client| {
            client
                .execute(RELEASE_LEASE, &[&platform, &username, &owner])
                .await
                .map(drop)
                .map_err(explain)
        })
    }
}

/// One transaction: `COPY` the games into the staging table, merge them into `games` and
/// `player_games`, advance the cursor, remember and forget in-progress games, and save the
/// month's validators.
async fn write_batch(client: &mut Client, batch: &Batch<'_>) -> Result<WriteCounts, String> {
    let platform = batch.player.platform.as_str();
    let username = batch.player.username();
    let tx = client.transaction().await.map_err(explain)?;
    let mut counts = WriteCounts::default();
    if !batch.games.is_empty() {
        let sink = tx.copy_in(COPY_STAGING).await.map_err(explain)?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, STAGING_TYPES));
        for (ord, game) in (0_i64..).zip(batch.games) {
            let ply_count = game
                .ply_count
                .map(i32::try_from)
                .transpose()
                .map_err(|_| format!("game {}: ply count out of range", game.game_id))?;
            let game_id = text(&game.game_id);
            let [
                url,
                white,
                black,
                result,
                termination,
                variant,
                time_control,
                speed,
                eco,
                opening,
            ] = [
                &game.url,
                &game.white,
                &game.black,
                &game.result,
                &game.termination,
                &game.variant,
                &game.time_control,
                &game.speed,
                &game.eco,
                &game.opening,
            ]
            .map(|field| field.as_deref().map(text));
            let pgn = text(&game.pgn);
            let row: [&(dyn ToSql + Sync); 19] = [
                &ord,
                &game_id,
                &url,
                &white,
                &black,
                &game.white_elo,
                &game.black_elo,
                &result,
                &termination,
                &variant,
                &time_control,
                &speed,
                &game.rated,
                &eco,
                &opening,
                &game.played_at,
                &ply_count,
                &game.valid,
                &pgn,
            ];
            writer.as_mut().write(&row).await.map_err(explain)?;
        }
        writer.as_mut().finish().await.map_err(explain)?;
        counts.new = tx
            .execute(MERGE_GAMES, &[&platform])
            .await
            .map_err(explain)?;
        counts.duplicate = (batch.games.len() as u64).saturating_sub(counts.new);
        tx.execute(LINK_GAMES, &[&platform, &username])
            .await
            .map_err(explain)?;
    }
    match &batch.cursor {
        Some(Cursor::CreatedAt(created_at)) => {
            tx.execute(ADVANCE_CREATED_AT, &[&platform, &username, created_at])
                .await
                .map_err(explain)?;
        }
        Some(Cursor::Month(month)) => {
            tx.execute(ADVANCE_MONTH, &[&platform, &username, &text(month)])
                .await
                .map_err(explain)?;
        }
        None => {}
    }
    if !batch.ongoing.is_empty() {
        let ongoing: Vec<Cow<'_, str>> = batch.ongoing.iter().map(|id| text(id)).collect();
        tx.execute(REMEMBER_ONGOING, &[&platform, &username, &ongoing])
            .await
            .map_err(explain)?;
    }
    if !batch.resolved.is_empty() {
        let resolved: Vec<Cow<'_, str>> = batch.resolved.iter().map(|id| text(id)).collect();
        tx.execute(FORGET_RESOLVED, &[&platform, &username, &resolved])
            .await
            .map_err(explain)?;
    }
    if let Some(month) = &batch.month {
        let last_modified = month.last_modified.as_deref().map(text);
        tx.execute(
            SAVE_MONTH,
            &[
                &username,
                &text(&month.month),
                &text(&month.etag),
                &last_modified,
            ],
        )
        .await
        .map_err(explain)?;
    }
    tx.commit().await.map_err(explain)?;
    Ok(counts)
}

/// Connects (one attempt, within the connect timeout), starts the connection's I/O task on
/// `runtime` and creates the connection's staging table.
async fn open_connection(config: &Config, runtime: &Handle) -> Result<Client, String> {
    let limit = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let (client, connection) = tokio::time::timeout(limit, config.connect(NoTls))
        .await
        .map_err(|_| {
            format!(
                "no answer from {} within {} s (is the host reachable and the port right?)",
                endpoint(config),
                limit.as_secs_f64()
            )
        })?
        .map_err(|error| explain_connect(&error, config))?;
    runtime.spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("PostgreSQL connection ended: {error}");
        }
    });
    client
        .batch_execute(CREATE_STAGING)
        .await
        .map_err(explain)?;
    Ok(client)
}

/// Applies missing migrations in one transaction under an advisory lock, so that two processes
/// starting at once on a fresh database apply them once, the second waiting for the first.
async fn migrate(client: &mut Client) -> Result<(), String> {
    let tx = client.transaction().await.map_err(explain)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(explain)?;
    // Checked before creating, so that a user without CREATE rights can use an up-to-date
    // database.
    let exists: bool = tx
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&VERSION_TABLE])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(explain)?;
    let version: i64 = if exists {
        tx.query_one(
            &format!("SELECT coalesce(max(version), 0)::bigint FROM {VERSION_TABLE}"),
            &[],
        )
        .await
        .and_then(|row| row.try_get(0))
        .map_err(explain)?
    } else {
        tx.batch_execute(&format!(
            "CREATE TABLE {VERSION_TABLE} (
                 version    bigint      PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )"
        ))
        .await
        .map_err(explain)?;
        0
    };
    if version > SCHEMA_VERSION {
        return Err(format!(
            "it has schema version {version}, written by a newer chess-import (this one knows {SCHEMA_VERSION})"
        ));
    }
    for (applied, migration) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(migration).await.map_err(explain)?;
        tx.execute(
            &format!("INSERT INTO {VERSION_TABLE} (version) VALUES ($1)"),
            &[&applied],
        )
        .await
        .map_err(explain)?;
    }
    tx.commit().await.map_err(explain)
}

/// The connection settings of `url`, completed as libpq would: the password from `PGPASSWORD`
/// and the user from `PGUSER`/`USER` when the URL has none (both passed in, for testing).
fn parse_config(
    url: &str,
    env_password: Option<String>,
    env_user: Option<String>,
) -> Result<Config, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("not a postgres:// or postgresql:// URL".into());
    }
    // Refused before parsing, which rejects verify-ca/verify-full with a vaguer message. The
    // modes left, disable and prefer, both connect in plain text: without a TLS implementation,
    // prefer does not try TLS.
    if let Some(mode) = query_param(url, "sslmode")
        && matches!(mode, "require" | "verify-ca" | "verify-full")
    {
        return Err(format!(
            "sslmode={mode} needs TLS, which this build of chess-import does not support \
             (use sslmode=disable or prefer, a unix socket, or an SSH tunnel)"
        ));
    }
    let mut config: Config = url
        .parse()
        .map_err(|error| format!("invalid URL: {}", explain(error)))?;
    if config.get_password().is_none()
        && let Some(password) = env_password
    {
        config.password(password);
    }
    if config.get_user().is_none() {
        let user = env_user
            .filter(|user| !user.is_empty())
            .ok_or("no user name: put it in the URL (postgresql://USER@HOST/DATABASE)")?;
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

/// PostgreSQL's text cannot hold NUL, which SQLite stores: rather than fail a whole batch over one
/// odd game, NUL is stored as U+FFFD, the replacement character.
fn text(value: &str) -> Cow<'_, str> {
    if value.contains('\0') {
        Cow::Owned(value.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A duration as the milliseconds added to a bigint clock; absurd ones are capped at a century so
/// that the sum cannot overflow.
fn millis(duration: Duration) -> i64 {
    const CENTURY_MS: i64 = 100 * 366 * 24 * 60 * 60 * 1000;
    i64::try_from(duration.as_millis()).map_or(CENTURY_MS, |ms| ms.min(CENTURY_MS))
}

/// Runs `future` to completion on `runtime` from synchronous code. The writer thread is outside
/// the runtime and blocks directly; a caller on a worker of a multi-thread runtime (`connect`
/// called from async code) first hands the worker's other tasks to another thread, so that the
/// connection's own task keeps running meanwhile.
fn block_on<F: Future>(runtime: &Handle, future: F) -> F::Output {
    match Handle::try_current() {
        Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| runtime.block_on(future))
        }
        _ => runtime.block_on(future),
    }
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
fn explain_connect(error: &tokio_postgres::Error, config: &Config) -> String {
    if error.as_db_error().is_some() {
        return explain(error);
    }
    let Some(io) =
        std::error::Error::source(error).and_then(|source| source.downcast_ref::<std::io::Error>())
    else {
        return format!("cannot connect to {}: {}", endpoint(config), explain(error));
    };
    let advice = match io.kind() {
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound => {
            " (is the server running and accepting connections there?)"
        }
        std::io::ErrorKind::PermissionDenied => " (check the permissions of the socket directory)",
        _ => "",
    };
    format!("cannot connect to {}: {io}{advice}", endpoint(config))
}

/// One line saying what went wrong, with the advice an operator needs for the common cases.
fn explain(error: impl std::borrow::Borrow<tokio_postgres::Error>) -> String {
    let error = error.borrow();
    let text = match error.as_db_error() {
        Some(db) => {
            let advice = match *db.code() {
                SqlState::INVALID_PASSWORD => " (check the password in the URL or PGPASSWORD)",
                SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                    " (check the user name, and that the server's pg_hba.conf lets it in)"
                }
                SqlState::INVALID_CATALOG_NAME => " (create it first, e.g. with createdb)",
                SqlState::INSUFFICIENT_PRIVILEGE => {
                    " (the user needs CREATE on the schema to set up the tables, and to read \
                     and write them afterwards; or connect as the database's owner)"
                }
                SqlState::TOO_MANY_CONNECTIONS => {
                    " (the server is at its connection limit; try again later)"
                }
                SqlState::CANNOT_CONNECT_NOW => " (the server is starting or stopping; try again)",
                SqlState::READ_ONLY_SQL_TRANSACTION => {
                    " (this server is read-only, e.g. a standby; connect to the primary)"
                }
                SqlState::DISK_FULL => " (free some disk space on the server)",
                _ => "",
            };
            format!("{}{advice}", db.message())
        }
        None => {
            // The error's own Display omits its cause ("error connecting to server").
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
            let error = parse_config(&url, None, None).unwrap_err();
            assert!(error.contains("does not support"), "{error}");
        }
        for mode in ["disable", "prefer"] {
            let url = format!("postgres://alice@db.example/games?sslmode={mode}");
            assert!(parse_config(&url, None, None).is_ok(), "{mode}");
        }
        let error = parse_config("mysql://alice@db/games", None, None).unwrap_err();
        assert!(error.contains("postgres://"), "{error}");
        let error = parse_config("postgres://db.example/games", None, None).unwrap_err();
        assert!(error.contains("no user name"), "{error}");
    }

    #[test]
    fn replaces_nul_which_postgres_text_cannot_hold() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
        assert!(matches!(text("é ♞"), Cow::Borrowed("é ♞")));
    }

    #[test]
    fn caps_absurd_durations() {
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert!(millis(Duration::MAX) < i64::MAX / 2);
    }
}
