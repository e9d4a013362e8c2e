//! Where games are kept. Both stores share one logical schema and one contract: a batch of games
//! and the player's cursor are written in one transaction, so the cursor never points past a game
//! that is not stored, and a game is stored once however often it is served.
//!
//! The writing side is [`Store`], driven by the import's writer thread; the reading side is
//! [`Catalog`], for `status` and `export`. [`sqlite`] holds both for an SQLite file;
//! [`postgres`] holds both for a server, and the job queue that workers share, all over one
//! reconnecting connection type.

use std::io;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::game::GameRecord;
use crate::player::Player;
use crate::resume::{Cursor, MonthValidator, ResumePoint};

/// Every imported player with its games and last outcome, in SQL both databases speak; each
/// appends its own `ORDER BY`. A player is known from its import state (every finished import
/// records one) or from its games; both sides are read through their primary keys.
/// (Defined before the modules, which see a macro only after its definition.)
macro_rules! players_query {
    () => {
        "WITH known AS (
             SELECT platform, username FROM import_state
             UNION
             SELECT DISTINCT platform, username FROM player_games
         )
         SELECT k.platform, k.username,
             (SELECT count(*) FROM player_games pg
               WHERE pg.platform = k.platform AND pg.username = k.username),
             (SELECT max(g.played_at) FROM player_games pg
                JOIN games g ON g.platform = pg.platform AND g.game_id = pg.game_id
               WHERE pg.platform = k.platform AND pg.username = k.username),
             s.last_success_at, s.last_attempt_at, s.last_error
         FROM known k
         LEFT JOIN import_state s ON s.platform = k.platform AND s.username = k.username"
    };
}

#[cfg(test)]
mod contract;
pub mod postgres;
mod schema;
pub mod sqlite;
mod upgrade;

/// The schema version this build writes; stores refuse a newer one.
pub const SCHEMA_VERSION: i64 = schema::VERSION;

/// When a stored game has no engine analysis: neither side has an accuracy or an average
/// centipawn loss. A Lichess analysis gives each side both (the accuracy when asked for), a
/// Chess.com Game Review the accuracies.
pub const UNANALYSED: &str = "white_accuracy IS NULL AND black_accuracy IS NULL \
     AND white_acpl IS NULL AND black_acpl IS NULL";

/// What a store remembers of a player between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayerState {
    /// Where the player's next import resumes.
    pub resume: ResumePoint,
    /// How many games are linked to the player: what a progress estimate starts from.
    pub stored_games: u64,
    /// When its last successful import ended (unix ms): what `--fresh-for` measures.
    pub last_success_at: Option<i64>,
}

/// Games of one player to store in one transaction, with what they advance.
#[derive(Debug)]
pub struct Batch<'a> {
    pub player: &'a Player,
    pub games: &'a [GameRecord],
    pub cursor: Option<Cursor>,
    pub month: Option<MonthValidator>,
    /// Lichess games seen in progress, to remember.
    pub ongoing: &'a [String],
    /// Remembered in-progress games that have finished (and are in `games`) or are gone.
    pub resolved: &'a [String],
    /// Whether games already stored are brought up to date with these (`import
    /// --refresh-analysis`), rather than left as they are: see [`Store::write_batch`].
    pub refresh: bool,
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub new: u64,
    /// Games already stored, left as they were.
    pub duplicate: u64,
    /// Games already stored whose fields a refreshing batch changed.
    pub updated: u64,
}

/// Whether this process may import a player now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lease {
    Acquired,
    /// Acquired from this owner, whose lease had not expired but whose process is gone.
    TakenOver(String),
    /// Another process holds it, until `until` (unix ms, by the store's clock).
    HeldBy {
        owner: String,
        until: i64,
    },
}

/// Why a store could not do its work, naming the database (any password masked). What went
/// wrong underneath is the source, shown after it at the edge (`{:#}`, or
/// [`crate::errors::with_causes`] where a message is kept as text).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be used at all: missing directory, not a database, read-only,
    /// from a newer version, unreachable. The run cannot start.
    #[error("cannot open database {target}")]
    Open {
        target: String,
        #[source]
        cause: Cause,
    },
    /// A statement failed on an open database.
    #[error("database {target}")]
    Query {
        target: String,
        #[source]
        cause: Cause,
    },
}

/// What went wrong underneath a [`StoreError`] or a [`ReadError`]: the database library's error,
/// kept as it is so that code can ask what happened, or what the store itself found wrong.
///
/// Its text is made when it is shown: the library's message on one line, then the advice an
/// operator needs for the common cases. Since it shows its library error itself, it has no source
/// of its own: a chain shown at the edge names each thing once.
#[derive(Debug)]
pub enum Cause {
    Sqlite(rusqlite::Error),
    /// SQLite could not open the file; `os` is the system's reason, which SQLite's own message
    /// ("unable to open database file") leaves out.
    SqliteOpen {
        error: rusqlite::Error,
        os: io::Error,
    },
    Postgres(tokio_postgres::Error),
    /// The PostgreSQL connection string, or what the environment adds to it, cannot be used.
    Settings(postgres::Invalid),
    /// No connection could be made to the server looked for at `endpoint`.
    Connect {
        endpoint: String,
        error: tokio_postgres::Error,
    },
    /// The server looked for at `endpoint` did not answer within `limit`.
    NoAnswer {
        endpoint: String,
        limit: Duration,
    },
    /// The server took longer than `limit` to answer a request, which was given up.
    Unanswered {
        limit: Duration,
    },
    /// The connection was lost, and `tries` attempts to connect again failed; `last` is why the
    /// last one did.
    Reconnect {
        tries: usize,
        last: Box<Cause>,
    },
    /// What the store itself found wrong: a missing directory, a newer schema, a URL it cannot
    /// use.
    Found(String),
}

impl Cause {
    /// What an operator can do about it, as a parenthesis to append; empty when there is no
    /// advice to give.
    pub fn advice(&self) -> &'static str {
        match self {
            Cause::Sqlite(error) => sqlite::advice(error),
            Cause::Postgres(error) => postgres::advice(error),
            Cause::Connect { error, .. } => postgres::connect_advice(error),
            Cause::NoAnswer { .. } => " (is the host reachable and the port right?)",
            Cause::Unanswered { .. } => postgres::UNANSWERED_ADVICE,
            Cause::SqliteOpen { .. }
            | Cause::Settings(_)
            | Cause::Reconnect { .. }
            | Cause::Found(_) => "",
        }
    }

    /// A database written by a later version of this program, which this one must not touch.
    pub(crate) fn newer_schema(version: i64) -> Self {
        Cause::Found(format!(
            "it has schema version {version}, written by a newer chess-import (this one knows \
             {SCHEMA_VERSION})"
        ))
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Sqlite(error) => write!(f, "{error}"),
            Cause::SqliteOpen { error, os } => write!(f, "{error}: {os}"),
            Cause::Postgres(error) => f.write_str(&postgres::message(error)),
            Cause::Settings(invalid) => f.write_str(&crate::errors::with_causes(invalid)),
            Cause::Connect { endpoint, error } => {
                f.write_str(&postgres::connect_message(error, endpoint))
            }
            Cause::NoAnswer { endpoint, limit } => write!(
                f,
                "no answer from {endpoint} within {} s",
                limit.as_secs_f64()
            ),
            Cause::Unanswered { limit } => write!(
                f,
                "the server did not answer within {} s",
                limit.as_secs_f64()
            ),
            Cause::Reconnect { tries, last } => write!(
                f,
                "the connection was lost, and {tries} attempts to connect again failed; the \
                 last: {last}"
            ),
            Cause::Found(text) => f.write_str(text),
        }?;
        f.write_str(self.advice())
    }
}

impl std::error::Error for Cause {}

impl From<rusqlite::Error> for Cause {
    fn from(error: rusqlite::Error) -> Self {
        Cause::Sqlite(error)
    }
}

impl From<tokio_postgres::Error> for Cause {
    fn from(error: tokio_postgres::Error) -> Self {
        Cause::Postgres(error)
    }
}

/// A store of games. Implementations are used from one writer thread; they know nothing of HTTP
/// or of the terminal.
pub trait Store: Send {
    /// How many games a batch of [`Store::write_batch`] should hold at most: what suits this
    /// store's transactions.
    fn batch_size(&self) -> usize;

    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError>;

    /// Stores the games (ignoring those already stored), links them to the player and advances
    /// the cursor, all or nothing. A [`Batch::refresh`] batch updates the games already stored
    /// instead of ignoring them: each column the provider now sends with another value is
    /// written, one it no longer sends keeps its value, and `pgn` is written only when it changed;
    /// the key and `imported_at` stay. Either way a game is one row. A store may leave the batch in a transaction that stays open
    /// for the next batches (SQLite does, so that consecutive batches share one commit): the batch
    /// is durable once [`Store::commit`] returns, and a failed batch or commit loses everything
    /// written since the last commit, never part of a batch.
    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError>;

    /// Makes every batch written since the last commit durable.
    fn commit(&mut self) -> Result<(), StoreError>;

    /// The ids of `player`'s stored games that started at or after `since` (unix ms) and have
    /// no engine analysis ([`UNANALYSED`]), in bytewise order: the first `limit` after `after`
    /// (`""` for the first page). What `import --refresh-analysis` asks Lichess for again, a page
    /// at a time, so that memory does not grow with the window.
    fn unanalysed_games(
        &mut self,
        player: &Player,
        since: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Records the end of a player's import: a success time, or the error.
    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError>;

    /// Takes the player's lease for `ttl` unless another owner holds one that has not expired
    /// and is not `dead` (see [`crate::lease::is_dead`]).
    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Result<Lease, StoreError>;

    /// Extends every lease `owner` holds by `ttl` from now.
    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError>;

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError>;
}

/// One imported player, as `status` shows it. Times are unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlayerSummary {
    pub platform: String,
    pub username: String,
    pub games: u64,
    /// Start of the newest stored game of the player.
    pub newest_game_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    /// The error of the last import, `None` when it succeeded.
    pub last_error: Option<String>,
}

/// How many jobs of each status (queued, running, failed) a [`QueueSummary`] lists: its counts
/// count them all.
pub const LISTED_JOBS: usize = 100;

/// The job queue (`import_jobs`) as `status` shows it: how many jobs are in each state, and the
/// running and failed ones, each by platform then username.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueSummary {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    /// The first [`LISTED_JOBS`] running jobs, failed ones and queued ones (in the order workers
    /// will take them).
    pub running_jobs: Vec<Job>,
    pub failed_jobs: Vec<Job>,
    pub queued_jobs: Vec<Job>,
    /// When the last queued or running job should be done, by `import_queue`'s estimates.
    pub drains_at: Option<i64>,
    /// The workers that said they were alive in the last day, by host then pid.
    pub workers: Vec<Worker>,
}

impl QueueSummary {
    pub fn is_empty(&self) -> bool {
        self.queued + self.running + self.done + self.failed == 0
    }
}

/// One job of the queue. Times are unix milliseconds, of the server's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub platform: String,
    pub username: String,
    /// Who runs or last ran it.
    pub worker: Option<String>,
    pub attempts: u32,
    pub started_at: Option<i64>,
    pub lease_expires_at: Option<i64>,
    /// The lease had expired when the queue was read, by the server's clock (the one leases are
    /// written with): a running job whose worker stopped renewing it, most likely a dead worker.
    pub lease_expired: bool,
    pub finished_at: Option<i64>,
    pub last_error: Option<String>,
    /// Where a queued or running job stands, from `import_queue`.
    pub place: Option<Place>,
}

/// A queued or running job's row of `import_queue`: its place in line, its progress and its
/// estimates. Times are unix milliseconds, of the server's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// 1 for the next job a worker takes; `None` for a running one.
    pub position: Option<u64>,
    pub priority: i32,
    pub phase: Option<String>,
    pub games_done: Option<u64>,
    pub expected_games: u64,
    /// A running job's games done of its expected games, in whole percent, at most 100.
    pub percent: Option<u8>,
    pub estimated_start: i64,
    pub estimated_finish: i64,
}

/// A worker of the queue, as its heartbeats in `import_workers` tell it. Times are unix
/// milliseconds, of the server's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worker {
    /// Its name in `import_jobs.worker`.
    pub worker: String,
    pub host: Option<String>,
    pub pid: Option<i64>,
    /// The jobs it runs.
    pub jobs: u64,
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// Its heartbeat had expired when the queue was read, by the server's clock: the worker
    /// stopped without leaving, most likely killed or cut off.
    pub dead: bool,
}

/// Which games to export.
#[derive(Clone, Debug, Default)]
pub struct GameFilter {
    /// Games linked to any of these players; every game when empty.
    pub players: Vec<Player>,
    /// Games started at or after this instant (unix ms).
    pub since: Option<i64>,
    /// Games started before this instant (unix ms).
    pub until: Option<i64>,
}

/// One stored game, borrowed from the row being read.
#[derive(Clone, Copy, Debug)]
pub struct StoredGame<'a> {
    pub platform: &'a str,
    pub game_id: &'a str,
    pub played_at: Option<i64>,
    pub pgn: &'a str,
}

/// What an export reads: the games, one row each, or the players' view of them
/// (`player_games_view`), one row per imported player and game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Games,
    Players,
}

impl View {
    /// The columns of a row, in order.
    pub fn columns(self) -> Vec<&'static str> {
        schema::view_columns(self)
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
}

/// One value of an exported row, borrowed from the row being read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
}

/// Why reading games stopped: the database, or whoever was handed the games.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("database {target}")]
    Query {
        target: String,
        #[source]
        cause: Cause,
    },
    #[error(transparent)]
    Write(#[from] io::Error),
}

/// The reading side of a store, for `status` and `export`: what was imported, the job queue and
/// the stored games one at a time. It never writes games, and opening it never creates a
/// database (on PostgreSQL, connecting sets up the tables of an existing empty database, as
/// every connection of this program does).
pub trait Catalog {
    /// The database as messages name it (a URL's password masked).
    fn target(&self) -> &str;

    /// Every imported player, by platform then username.
    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError>;

    /// Hands each game that `filter` selects to `each`, oldest first (by start, then id), one
    /// row at a time so that memory stays constant however many there are. Returns how many
    /// were handed; stops at the first error `each` returns.
    fn for_each_game(
        &mut self,
        filter: &GameFilter,
        each: &mut dyn FnMut(StoredGame<'_>) -> io::Result<()>,
    ) -> Result<u64, ReadError>;

    /// Hands each row of `view` that `filter` selects to `each`, as [`Catalog::for_each_game`]
    /// does games: oldest first, one row at a time. The values follow [`View::columns`].
    fn for_each_row(
        &mut self,
        filter: &GameFilter,
        view: View,
        each: &mut dyn FnMut(&[Value<'_>]) -> io::Result<()>,
    ) -> Result<u64, ReadError>;

    /// Hands the id of each stored game linked to `player` to `each`, in no given order, one at
    /// a time and without reading the PGNs: what `verify` compares with a provider. Returns how
    /// many were handed.
    fn for_each_game_id(
        &mut self,
        player: &Player,
        each: &mut dyn FnMut(&str),
    ) -> Result<u64, ReadError>;

    /// The job queue, for stores that have one (PostgreSQL, where workers share it); `None`
    /// for the others.
    fn queue(&mut self) -> Result<Option<QueueSummary>, ReadError> {
        Ok(None)
    }
}

/// Opens `target` for reading. A file that does not exist is an error, not a new database; so is
/// a PostgreSQL database that does not exist. Call it outside async code: a PostgreSQL catalog
/// runs its own runtime.
pub fn open_catalog(target: &str, busy_timeout: Duration) -> anyhow::Result<Box<dyn Catalog>> {
    if is_postgres_url(target) {
        return Ok(Box::new(postgres::PostgresCatalog::connect(target)?));
    }
    Ok(Box::new(sqlite::SqliteCatalog::open(
        Path::new(target),
        busy_timeout,
    )?))
}

/// A count read from a database (`count(*)`, a bigint column) as the `u64` it is; a negative one,
/// which only a hand-edited row could hold, counts as none.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Whether `--db` names a PostgreSQL server rather than an SQLite file: a `postgres://` or
/// `postgresql://` URL, whatever the scheme's case, or a libpq `key=value` string.
pub fn is_postgres_url(target: &str) -> bool {
    postgres::is_conninfo(target)
}

/// A duration as the milliseconds added to a bigint clock; absurd ones are capped at a century so
/// that the sum cannot overflow.
pub(crate) fn millis(duration: Duration) -> i64 {
    const CENTURY_MS: i64 = 100 * 366 * 24 * 60 * 60 * 1000;
    i64::try_from(duration.as_millis()).map_or(CENTURY_MS, |ms| ms.min(CENTURY_MS))
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_absurd_durations() {
        assert_eq!(millis(Duration::from_millis(1500)), 1500);
        assert!(millis(Duration::MAX) < i64::MAX / 2);
    }
}
