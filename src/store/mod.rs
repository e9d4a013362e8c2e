//! Where games are kept. Both stores share one logical schema and one contract: a batch of games
//! and the player's cursor are written in one transaction, so the cursor never points past a game
//! that is not stored, and a game is stored once however often it is served.

use std::time::Duration;

use crate::game::GameRecord;
use crate::player::Player;
use crate::resume::{Cursor, MonthValidator, ResumePoint};

pub mod catalog;
pub mod postgres;
pub mod sqlite;

/// The schema version this build writes; stores refuse a newer one.
pub const SCHEMA_VERSION: i64 = 1;

/// What a store remembers of a player between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlayerState {
    /// Where the player's next import resumes.
    pub resume: ResumePoint,
    /// How many games are linked to the player: what a progress estimate starts from.
    pub stored_games: u64,
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
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub new: u64,
    pub duplicate: u64,
}

/// Whether this process may import a player now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lease {
    Acquired,
    /// Another process holds it; the string names the holder.
    HeldBy(String),
}

/// Why a store could not do its work. The target is named (with any password masked).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be used at all: missing directory, not a database, read-only,
    /// from a newer version. The run cannot start.
    #[error("cannot open database {target}: {reason}")]
    Open { target: String, reason: String },
    /// A statement failed on an open database.
    #[error("database {target}: {reason}")]
    Query { target: String, reason: String },
}

/// A store of games. Implementations are used from one writer thread; they know nothing of HTTP
/// or of the terminal.
pub trait Store: Send {
    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError>;

    /// Stores the games (ignoring those already stored), links them to the player and advances
    /// the cursor, all or nothing. A store may leave the batch in a transaction that stays open
    /// for the next batches (SQLite does, so that consecutive batches share one commit): the batch
    /// is durable once [`Store::commit`] returns, and a failed batch or commit loses everything
    /// written since the last commit, never part of a batch.
    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError>;

    /// Makes every batch written since the last commit durable.
    fn commit(&mut self) -> Result<(), StoreError>;

    /// Records the end of a player's import: a success time, or the error.
    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError>;

    /// Takes the player's lease for `ttl` unless a live lease of another owner exists.
    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError>;

    /// Extends every lease `owner` holds by `ttl` from now.
    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError>;

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError>;
}

/// Whether `--db` names a PostgreSQL server rather than an SQLite file.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
