//! The PostgreSQL store: the SQLite store's logical schema and contract.
//!
//! One connection, not a pool: the store is driven by one writer thread that issues one request
//! at a time, so a pool's concurrency would buy nothing. A connection the server dropped is
//! replaced, and the call that found it lost runs again on the new one.
//!
//! A batch is one transaction: its games are `COPY`ed (binary) into a staging table that the
//! transaction creates and drops, then merged into `games` with `INSERT ... ON CONFLICT DO
//! NOTHING`, with the player's cursor. Nothing outlives the transaction, so that the next one may
//! run on another server connection, as it does behind a transaction pooler.

use std::borrow::Cow;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use bytes::BytesMut;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, IsolationLevel};

use super::Connection;
use crate::game::GameRecord;
use crate::player::{Platform, Player};
use crate::resume::{Cursor, MonthValidator};
use crate::store::schema::{self, Cell, Column, Fill, GAME_COLUMNS};
use crate::store::{
    Batch, Cause, Lease, PlayerState, Store, StoreError, WriteCounts, count, millis,
};

/// The staging table a batch is `COPY`ed into before it is merged into `games`, and the SQL
/// around it, built from [`GAME_COLUMNS`].
struct Staging {
    /// Creates the table, for one transaction.
    create: String,
    copy: String,
    /// The column types of `copy`, in order.
    types: Vec<Type>,
    /// Keeps the first occurrence of a game served twice in one batch, as the SQLite store does,
    /// and inserts in key order: two importers storing overlapping batches then take the key
    /// locks in the same order and cannot deadlock. The row count is the number of new games.
    merge: String,
}

/// The columns a batch stages: a game's own; the platform is the batch's, and `imported_at`
/// the server's clock at the merge.
fn staged() -> impl Iterator<Item = (&'static Column, fn(&GameRecord) -> Cell<'_>)> {
    GAME_COLUMNS.iter().filter_map(|column| match column.fill {
        Fill::Game(value) => Some((column, value)),
        Fill::Platform | Fill::ImportedAt => None,
    })
}

static STAGING: LazyLock<Staging> = LazyLock::new(|| {
    let definitions: String = staged()
        .map(|(column, _)| {
            let definition = schema::definition(column, column.kind.postgres());
            format!(",\n    {definition}")
        })
        .collect();
    let values: Vec<&str> = GAME_COLUMNS
        .iter()
        .map(|column| match column.fill {
            Fill::Platform => "$1",
            Fill::ImportedAt => transaction_ms!(),
            Fill::Game(_) => column.name,
        })
        .collect();
    Staging {
        create: format!(
            "CREATE TEMPORARY TABLE chess_import_staging (\n    \
             ord          bigint  NOT NULL{definitions}\n) ON COMMIT DROP"
        ),
        copy: format!(
            "COPY pg_temp.chess_import_staging (ord, {}) FROM STDIN (FORMAT binary)",
            schema::names(staged().map(|(column, _)| column))
        ),
        types: std::iter::once(Type::INT8)
            .chain(staged().map(|(column, _)| column.kind.copy_type()))
            .collect(),
        merge: format!(
            "INSERT INTO games ({})
             SELECT {}
             FROM (SELECT DISTINCT ON (game_id) * FROM pg_temp.chess_import_staging
                   ORDER BY game_id, ord) AS batch
             ORDER BY game_id
             ON CONFLICT (platform, game_id) DO NOTHING",
            schema::names(GAME_COLUMNS),
            values.join(", ")
        ),
    }
});

/// What a refreshing batch does before its merge, on the staging table: lock the stored games it
/// updates, in key order as the merge inserts, so that two refreshes of a shared game cannot
/// deadlock; then update them (see [`schema::update`]), the first occurrence of a game served
/// twice, as the merge keeps. The update's row count is the number of games changed.
static REFRESH: LazyLock<[String; 2]> = LazyLock::new(|| {
    let update = schema::update(|_, column| format!("new.{}", column.name));
    [
        "SELECT 1 FROM games
         WHERE platform = $1 AND game_id IN (SELECT game_id FROM pg_temp.chess_import_staging)
         ORDER BY game_id
         FOR UPDATE"
            .to_string(),
        format!(
            "UPDATE games SET {}
             FROM (SELECT DISTINCT ON (game_id) * FROM pg_temp.chess_import_staging
                   ORDER BY game_id, ord) AS new
             WHERE games.platform = $1 AND games.game_id = new.game_id AND ({})",
            update.set, update.changed
        ),
    ]
});

/// The player's stored games without analysis since `$3`, after `$4`, `$5` at most, in bytewise
/// order, as SQLite sorts.
static UNANALYSED_GAMES: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"SELECT g.game_id FROM games g
           WHERE g.platform = $1 AND g.played_at >= $3 AND g.game_id COLLATE "C" > $4 AND {}
             AND EXISTS (SELECT 1 FROM player_games p
                         WHERE p.platform = $1 AND p.username = $2 AND p.game_id = g.game_id)
           ORDER BY g.game_id COLLATE "C"
           LIMIT $5"#,
        crate::store::UNANALYSED
    )
});

/// PostgreSQL's text cannot hold NUL, which SQLite stores: see [`text`]. A 32-bit column gets
/// its value checked rather than cut.
impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Cell::Text(value) => value.map(text).to_sql_checked(ty, out),
            Cell::Int(value) if *ty == Type::INT4 => value
                .map(i32::try_from)
                .transpose()?
                .to_sql_checked(ty, out),
            Cell::Int(value) => value.to_sql_checked(ty, out),
            Cell::Bool(value) => value.to_sql_checked(ty, out),
            Cell::Real(value) => value.to_sql_checked(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [Type::TEXT, Type::INT4, Type::INT8, Type::BOOL, Type::FLOAT8].contains(ty)
    }

    to_sql_checked!();
}

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
    transaction_ms!(),
    ")
     ON CONFLICT (username, month) DO UPDATE SET etag = excluded.etag,
         last_modified = excluded.last_modified, fetched_at = excluded.fetched_at"
);

const RECORD_RESULT: &str = concat!(
    "INSERT INTO import_state (platform, username, last_success_at, last_attempt_at, last_error)
     VALUES ($1, $2, CASE WHEN $3::text IS NULL THEN ",
    transaction_ms!(),
    " END, ",
    transaction_ms!(),
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
    transaction_ms!(),
    " + $4)
     ON CONFLICT (platform, username) DO UPDATE SET owner = excluded.owner,
         expires_at = excluded.expires_at
     WHERE import_leases.owner = excluded.owner OR import_leases.expires_at <= ",
    transaction_ms!(),
    "
     RETURNING owner"
);

const LEASE_HOLDER: &str =
    "SELECT owner, expires_at FROM import_leases WHERE platform = $1 AND username = $2";

/// Takes the lease of a holder found dead, on the row `TAKE_LEASE` left locked.
const TAKE_OVER_LEASE: &str = concat!(
    "UPDATE import_leases SET owner = $3, expires_at = ",
    transaction_ms!(),
    " + $4 WHERE platform = $1 AND username = $2 AND owner = $5"
);

const RENEW_LEASES: &str = concat!(
    "UPDATE import_leases SET expires_at = ",
    transaction_ms!(),
    " + $2 WHERE owner = $1"
);

const RELEASE_LEASE: &str =
    "DELETE FROM import_leases WHERE platform = $1 AND username = $2 AND owner = $3";

pub struct PostgresStore {
    runtime: Handle,
    connection: Connection,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://` or `postgresql://`, TCP or unix socket)
    /// and migrates it. The connection's I/O runs as a task on `runtime` (multi-thread); the
    /// store's methods block the calling thread, which is meant to be outside the runtime (the
    /// writer thread). `connect` itself may also be called from async code on that runtime.
    pub fn connect(url: &str, runtime: Handle) -> Result<Self, StoreError> {
        let connection = block_on(&runtime, Connection::open(url, runtime.clone()))?;
        Ok(PostgresStore {
            runtime,
            connection,
        })
    }

    /// Runs `work` with the connection, again on a new one if the server dropped it midway:
    /// every call of the store is one transaction or one statement that is safe to repeat. A
    /// batch whose `COMMIT` was lost after the server made it durable is counted as duplicates
    /// the second time, and still stored once.
    fn run<T>(
        &mut self,
        work: impl AsyncFnMut(&mut Client) -> Result<T, Cause>,
    ) -> Result<T, StoreError> {
        let result = block_on(&self.runtime, self.connection.retrying(work));
        result.map_err(|cause| StoreError::Query {
            target: self.connection.target().to_string(),
            cause,
        })
    }
}

impl Store for PostgresStore {
    /// Each batch is a transaction and a round trip of its own: a thousand games (a few
    /// megabytes) a batch keeps the round trips a small part of the import (half as many make
    /// the benchmark's import 15% slower).
    fn batch_size(&self) -> usize {
        1000
    }

    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let chesscom = player.platform == Platform::Chesscom;
        self.run(async |client| {
            let player: [(&(dyn ToSql + Sync), Type); 2] =
                [(&platform, Type::TEXT), (&username, Type::TEXT)];
            // One snapshot, so that the cursor and the games agree however other importers write.
            let tx = client
                .build_transaction()
                .read_only(true)
                .isolation_level(IsolationLevel::RepeatableRead)
                .start()
                .await?;
            let row = tx
                .query_typed_opt(
                    "SELECT last_created_at, last_month, last_success_at FROM import_state
                     WHERE platform = $1 AND username = $2",
                    &player,
                )
                .await?;
            let mut state = PlayerState::default();
            if let Some(row) = row {
                state.resume.last_created_at = row.try_get(0)?;
                state.resume.last_month = row.try_get(1)?;
                state.last_success_at = row.try_get(2)?;
            }
            let stored_games: i64 = tx
                .query_typed_one(
                    "SELECT count(*) FROM player_games WHERE platform = $1 AND username = $2",
                    &player,
                )
                .await
                .and_then(|row| row.try_get(0))?;
            state.stored_games = count(stored_games);
            // Bytewise order, as SQLite sorts.
            let rows = tx
                .query_typed(
                    r#"SELECT game_id FROM ongoing_games WHERE platform = $1 AND username = $2
                       ORDER BY game_id COLLATE "C""#,
                    &player,
                )
                .await?;
            state.resume.ongoing = rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?;
            // The games of the cursor's own millisecond, which a Lichess resume asks for again.
            if let Some(created_at) = state.resume.last_created_at {
                let rows = tx
                    .query_typed(
                        r#"SELECT g.game_id FROM player_games p
                           JOIN games g ON g.platform = p.platform AND g.game_id = p.game_id
                           WHERE p.platform = $1 AND p.username = $2 AND g.played_at = $3
                           ORDER BY g.game_id COLLATE "C""#,
                        &[
                            (&platform, Type::TEXT),
                            (&username, Type::TEXT),
                            (&created_at, Type::INT8),
                        ],
                    )
                    .await?;
                state.resume.boundary = rows
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
            }
            if chesscom {
                let rows = tx
                    .query_typed(
                        "SELECT month, etag, last_modified FROM chesscom_months
                         WHERE username = $1",
                        &[(&username, Type::TEXT)],
                    )
                    .await?;
                for row in rows {
                    let month: String = row.try_get(0)?;
                    let validator = MonthValidator {
                        month: month.clone(),
                        etag: row.try_get(1)?,
                        last_modified: row.try_get(2)?,
                    };
                    state.resume.months.insert(month, validator);
                }
            }
            tx.commit().await?;
            Ok(state)
        })
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError> {
        self.run(async |client| write_batch(client, batch).await)
    }

    /// Each batch is its own transaction here: the COPY into the staging table already makes a
    /// batch cheap, and a transaction held open would hold its row locks against other workers.
    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn unanalysed_games(
        &mut self,
        player: &Player,
        since: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let after = text(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(async |client| {
            let rows = client
                .query_typed(
                    &UNANALYSED_GAMES,
                    &[
                        (&platform, Type::TEXT),
                        (&username, Type::TEXT),
                        (&since, Type::INT8),
                        (&after, Type::TEXT),
                        (&limit, Type::INT8),
                    ],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?)
        })
    }

    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let error = error.map(text);
        self.run(async |client| {
            client
                .execute_typed(
                    RECORD_RESULT,
                    &[
                        (&platform, Type::TEXT),
                        (&username, Type::TEXT),
                        (&error, Type::TEXT),
                    ],
                )
                .await?;
            Ok(())
        })
    }

    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Result<Lease, StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        let ttl = millis(ttl);
        let target = player.to_string();
        self.run(async |client| {
            let tx = client.transaction().await?;
            let taken = tx
                .query_typed_opt(
                    TAKE_LEASE,
                    &[
                        (&platform, Type::TEXT),
                        (&username, Type::TEXT),
                        (&owner, Type::TEXT),
                        (&ttl, Type::INT8),
                    ],
                )
                .await?;
            let lease = if taken.is_some() {
                Lease::Acquired
            } else {
                let holder = tx
                    .query_typed_opt(
                        LEASE_HOLDER,
                        &[(&platform, Type::TEXT), (&username, Type::TEXT)],
                    )
                    .await?
                    .ok_or_else(|| {
                        Cause::Found(format!("the lease of {target} vanished while locked"))
                    })?;
                let (holder, until): (String, i64) = (holder.try_get(0)?, holder.try_get(1)?);
                if dead(&holder) {
                    tx.execute(
                        TAKE_OVER_LEASE,
                        &[&platform, &username, &owner, &ttl, &holder],
                    )
                    .await?;
                    Lease::TakenOver(holder)
                } else {
                    Lease::HeldBy {
                        owner: holder,
                        until,
                    }
                }
            };
            tx.commit().await?;
            Ok(lease)
        })
    }

    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError> {
        let ttl = millis(ttl);
        self.run(async |client| {
            client
                .execute_typed(RENEW_LEASES, &[(&owner, Type::TEXT), (&ttl, Type::INT8)])
                .await?;
            Ok(())
        })
    }

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError> {
        let platform = player.platform.as_str();
        let username = player.username();
        self.run(async |client| {
            client
                .execute_typed(
                    RELEASE_LEASE,
                    &[
                        (&platform, Type::TEXT),
                        (&username, Type::TEXT),
                        (&owner, Type::TEXT),
                    ],
                )
                .await?;
            Ok(())
        })
    }
}

/// One transaction: `COPY` the games into the staging table, merge them into `games` and
/// `player_games`, advance the cursor, remember and forget in-progress games, and save the
/// month's validators.
async fn write_batch(client: &mut Client, batch: &Batch<'_>) -> Result<WriteCounts, Cause> {
    let platform = batch.player.platform.as_str();
    let username = batch.player.username();
    let player: [(&(dyn ToSql + Sync), Type); 2] =
        [(&platform, Type::TEXT), (&username, Type::TEXT)];
    let tx = client.transaction().await?;
    let mut counts = WriteCounts::default();
    if !batch.games.is_empty() {
        tx.batch_execute(&STAGING.create).await?;
        // COPY has no unnamed form in tokio-postgres: its statement is prepared by name, and
        // closed when the writer is dropped, at the end of this block, inside the transaction.
        let sink = tx.copy_in(&STAGING.copy).await?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &STAGING.types));
        let mut row = Vec::with_capacity(STAGING.types.len());
        for (ord, game) in (0_i64..).zip(batch.games) {
            row.clear();
            row.push(Cell::Int(Some(ord)));
            row.extend(staged().map(|(_, value)| value(game)));
            writer.as_mut().write_raw(&row).await?;
        }
        writer.as_mut().finish().await?;
        if batch.refresh {
            let [lock, update] = &*REFRESH;
            tx.execute_typed(lock, &[(&platform, Type::TEXT)]).await?;
            counts.updated = tx.execute_typed(update, &[(&platform, Type::TEXT)]).await?;
        }
        counts.new = tx
            .execute_typed(&STAGING.merge, &[(&platform, Type::TEXT)])
            .await?;
        counts.duplicate = (batch.games.len() as u64).saturating_sub(counts.new + counts.updated);
        tx.execute_typed(LINK_GAMES, &player).await?;
    }
    match &batch.cursor {
        Some(Cursor::CreatedAt(created_at)) => {
            tx.execute_typed(
                ADVANCE_CREATED_AT,
                &with_player(&player, created_at, Type::INT8),
            )
            .await?;
        }
        Some(Cursor::Month(month)) => {
            let month = text(month);
            tx.execute_typed(ADVANCE_MONTH, &with_player(&player, &month, Type::TEXT))
                .await?;
        }
        None => {}
    }
    if !batch.ongoing.is_empty() {
        let ongoing: Vec<Cow<'_, str>> = batch.ongoing.iter().map(|id| text(id)).collect();
        tx.execute_typed(
            REMEMBER_ONGOING,
            &with_player(&player, &ongoing, Type::TEXT_ARRAY),
        )
        .await?;
    }
    if !batch.resolved.is_empty() {
        let resolved: Vec<Cow<'_, str>> = batch.resolved.iter().map(|id| text(id)).collect();
        tx.execute_typed(
            FORGET_RESOLVED,
            &with_player(&player, &resolved, Type::TEXT_ARRAY),
        )
        .await?;
    }
    if let Some(month) = &batch.month {
        let last_modified = month.last_modified.as_deref().map(text);
        tx.execute_typed(
            SAVE_MONTH,
            &[
                (&username, Type::TEXT),
                (&text(&month.month), Type::TEXT),
                (&text(&month.etag), Type::TEXT),
                (&last_modified, Type::TEXT),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(counts)
}

/// The player's two parameters, then a third.
fn with_player<'p>(
    player: &[(&'p (dyn ToSql + Sync), Type); 2],
    value: &'p (dyn ToSql + Sync),
    ty: Type,
) -> [(&'p (dyn ToSql + Sync), Type); 3] {
    [player[0].clone(), player[1].clone(), (value, ty)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract::Database;
    use crate::store::open_catalog;
    use crate::store::postgres::testing;

    fn fresh_database() -> Option<Database> {
        let url = testing::database()?;
        // The store's connection runs on a multi-thread runtime, as in the importer.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (target, handle) = (url.clone(), runtime.handle().clone());
        let open = move || -> Box<dyn Store> {
            Box::new(PostgresStore::connect(&target, handle.clone()).unwrap())
        };
        Some(Database::new(url, open, runtime))
    }

    mod contract {
        crate::store::contract::contract_tests!(super::fresh_database);
    }

    #[test]
    fn records_nul_which_postgres_text_cannot_hold_as_the_replacement_character() {
        let Some(database) = testing::database() else {
            return;
        };
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut store = PostgresStore::connect(&database, runtime.handle().clone()).unwrap();
        let alice: Player = "lichess:alice".parse().unwrap();
        store
            .record_result(&alice, Some("HTTP 500\0 twice"))
            .unwrap();
        let players = open_catalog(&database, Duration::from_secs(1))
            .unwrap()
            .players()
            .unwrap();
        let errors: Vec<_> = players.iter().map(|p| p.last_error.as_deref()).collect();
        assert_eq!(errors, [Some("HTTP 500\u{FFFD} twice")]);
    }

    #[test]
    fn replaces_nul_which_postgres_text_cannot_hold() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
        assert!(matches!(text("é ♞"), Cow::Borrowed("é ♞")));
    }
}
