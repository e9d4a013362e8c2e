//! The embedded SQLite store: one file in WAL mode, so that `status`, `export` and other runs can
//! read while an import writes, with consecutive batches of a player in one transaction (see
//! [`SqliteStore::write_batch`](Store::write_batch)); and its reading side, [`SqliteCatalog`].

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use anyhow::bail;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql, TransactionBehavior, params};

use super::schema::{self, Cell, Fill, GAME_COLUMNS, Kind, SQLITE_MIGRATIONS};
use super::upgrade;
use super::{
    self as store, Batch, Catalog, Cause, GameFilter, Lease, PlayerState, PlayerSummary, ReadError,
    SCHEMA_VERSION, Store, StoreError, StoredGame, View, WriteCounts, count, millis, now_ms,
};
use crate::game::GameRecord;
use crate::player::Player;
use crate::resume::{Cursor, MonthValidator, ResumePoint};
use crate::runtime_dir;

/// `INSERT INTO games (...) VALUES (?1, ...)`, a parameter per column of [`GAME_COLUMNS`] in
/// table order, bound by [`cells`]. A game stored before is left as it is.
static INSERT_GAME: LazyLock<String> = LazyLock::new(|| {
    let parameters: Vec<String> = (1..=GAME_COLUMNS.len()).map(|n| format!("?{n}")).collect();
    format!(
        "INSERT INTO games ({}) VALUES ({}) ON CONFLICT (platform, game_id) DO NOTHING",
        schema::names(GAME_COLUMNS),
        parameters.join(", ")
    )
});

/// `UPDATE games ...` of one stored game from a refreshing batch (see [`schema::update`]), with
/// the parameters of [`INSERT_GAME`]: each column's value is the parameter of its place.
static UPDATE_GAME: LazyLock<String> = LazyLock::new(|| {
    let update = schema::update(|index, _| format!("?{}", index + 1));
    format!(
        "UPDATE games SET {} WHERE platform = ?1 AND game_id = ?2 AND ({})",
        update.set, update.changed
    )
});

/// The player's stored games without analysis since `?3`, after `?4`, `?5` at most; through the
/// start-time index, since the window is recent.
static UNANALYSED_GAMES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT g.game_id FROM games g
         WHERE g.played_at >= ?3 AND +g.platform = ?1 AND g.game_id > ?4 AND {}
           AND EXISTS (SELECT 1 FROM player_games p
                       WHERE p.platform = ?1 AND p.username = ?2 AND p.game_id = g.game_id)
         ORDER BY g.game_id LIMIT ?5",
        store::UNANALYSED
    )
});

/// The values of one game's row, in table order.
fn cells<'a>(
    game: &'a GameRecord,
    platform: &'a str,
    imported_at: i64,
) -> impl Iterator<Item = Cell<'a>> {
    GAME_COLUMNS.iter().map(move |column| match column.fill {
        Fill::Platform => Cell::Text(Some(platform)),
        Fill::ImportedAt => Cell::Int(Some(imported_at)),
        Fill::Game(value) => value(game),
    })
}

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Cell::Text(value) => value.to_sql(),
            Cell::Int(value) => value.to_sql(),
            Cell::Bool(value) => value.to_sql(),
            Cell::Real(value) => value.to_sql(),
        }
    }
}

/// The mark of a chess-import database in its header (`PRAGMA application_id`), "ChIm": what tells
/// it from another application's database.
const APPLICATION_ID: i32 = i32::from_be_bytes(*b"ChIm");

/// The tables of chess-import's first schema, by which a database made before it had a mark is
/// still recognised.
const FIRST_TABLES: [&str; 3] = ["games", "import_state", "player_games"];

/// What a database file holds, as far as this program is concerned.
#[derive(Debug, PartialEq, Eq)]
enum Contents {
    /// No file, an empty one, or a database without tables: a new database.
    Empty,
    Ours,
    /// Another application's database, with these tables (maybe none, when only its mark says so).
    Foreign(Vec<String>),
}

/// Classifies the database `conn` is open on.
fn classify(conn: &Connection) -> rusqlite::Result<Contents> {
    let id: i32 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'
             ORDER BY name",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let unmarked_but_ours = version > 0
        && FIRST_TABLES
            .iter()
            .all(|t| tables.iter().any(|name| name == t));
    Ok(match id {
        APPLICATION_ID => Contents::Ours,
        0 if tables.is_empty() => Contents::Empty,
        0 if unmarked_but_ours => Contents::Ours,
        _ => Contents::Foreign(tables),
    })
}

/// What the file at `path` holds, read without changing anything: not its bytes, its journal
/// mode, or the files beside it (`immutable=1` makes SQLite read the main file alone, with no
/// locks and no `-wal` or `-shm`). A file that is not an SQLite database is an error.
fn inspect(path: &Path) -> Result<Contents, Cause> {
    use std::io::Read;

    // A missing file is a new database; for one that cannot be read, SQLite's own open says
    // best what is wrong.
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(Contents::Empty);
    };
    let mut magic = Vec::with_capacity(16);
    file.by_ref()
        .take(16)
        .read_to_end(&mut magic)
        .map_err(|os| Cause::Found(format!("cannot read it: {os}")))?;
    if magic.is_empty() {
        return Ok(Contents::Empty);
    }
    if magic != b"SQLite format 3\0" {
        return Err(Cause::Found(
            "it is not an SQLite database; choose another --db".into(),
        ));
    }
    // With a write-ahead log beside it, the main file alone may lack the latest tables (those of
    // a database just made, say): read it with its log, which adds no file that matters.
    let conn = if wal_of(path).exists() {
        Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?
    } else {
        open_immutable(path)?
    };
    Ok(classify(&conn)?)
}

/// The write-ahead log SQLite keeps beside the database at `path` while it is in use.
fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Reads the database at `path` as a file nobody writes: no locks, no `-wal`, no `-shm`.
fn open_immutable(path: &Path) -> Result<Connection, Cause> {
    let absolute = std::fs::canonicalize(path)
        .map_err(|os| Cause::Found(format!("cannot resolve its path: {os}")))?;
    let mut uri = String::from("file:");
    for &byte in absolute.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    Ok(Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// Why another application's database is left alone: a few of its tables, so that its owner
/// recognises it.
fn foreign(tables: &[String]) -> Cause {
    const SHOWN: usize = 3;
    let holds = match tables.len() {
        0 => "it belongs to another application (its header says so)".to_string(),
        n => {
            let mut names = tables[..n.min(SHOWN)].join(", ");
            if n > SHOWN {
                names.push_str(&format!(" and {} more", n - SHOWN));
            }
            let s = if n == 1 { "" } else { "s" };
            format!("it holds another application's table{s} ({names})")
        }
    };
    Cause::Found(format!(
        "not a chess-import database: {holds}; it was left as it is, choose another --db"
    ))
}

/// Refuses a `--db` that SQLite would not keep on disk, or would read as a URI: the empty name (a
/// temporary database, deleted on closing), `:memory:`, and `file:` URIs (this build of SQLite
/// reads any name starting with `file:` as one, whatever the open flags). A path is what the
/// rest of this program checks, locks and compares (`export --out`), so only paths are taken;
/// a file whose name starts with `file:` is still reachable as `./file:...`.
pub fn check_target(target: &str) -> Result<(), String> {
    const NOTHING_SAVED: &str = "nothing would be saved: give the path of a database file";
    if target.is_empty() {
        return Err(format!(
            "an empty database name is a temporary database; {NOTHING_SAVED}"
        ));
    }
    if target == ":memory:" {
        return Err(format!(
            ":memory: is an in-memory database; {NOTHING_SAVED}"
        ));
    }
    if let Some(uri) = target.strip_prefix("file:") {
        let (name, query) = uri.split_once('?').unwrap_or((uri, ""));
        let in_memory =
            name.starts_with(":memory:") || query.split('&').any(|pair| pair == "mode=memory");
        if in_memory {
            return Err(format!(
                "{target} is an in-memory database; {NOTHING_SAVED}"
            ));
        }
        return Err(format!(
            "{target} is an SQLite URI, which --db does not take: give a file path (./{target} \
             for a file of that name)"
        ));
    }
    Ok(())
}

/// The directory the database at `path` is in, which must exist.
fn directory(path: &Path) -> Result<&Path, Cause> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Cause::Found(format!(
            "directory {} does not exist",
            dir.display()
        )));
    }
    Ok(dir)
}

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// Whether `write_batch` left a write transaction open for the next batches; see there.
    open: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `path`. A write waits up to
    /// `busy_timeout` for another process's transaction before it fails.
    pub fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        Self::open_and_migrate(path, busy_timeout).map_err(|cause| StoreError::Open {
            target: path.display().to_string(),
            cause,
        })
    }

    /// Like [`SqliteStore::open`], except that a database that does not exist yet is only made
    /// by the first batch to store (see `Deferred`); only that the file could be made is
    /// checked now.
    pub fn open_on_first_write(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<Box<dyn Store>, StoreError> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Ok(Box::new(Self::open(path, busy_timeout)?));
        }
        let could_make = directory(path).and_then(|dir| {
            tempfile::Builder::new()
                .prefix(".chess-import-")
                .tempfile_in(dir)
                .map(drop)
                .map_err(|os| {
                    Cause::Found(format!("cannot create files in {}: {os}", dir.display()))
                })
        });
        could_make.map_err(|cause| StoreError::Open {
            target: path.display().to_string(),
            cause,
        })?;
        Ok(Box::new(Deferred {
            path: path.to_path_buf(),
            busy_timeout,
            store: None,
            leases: Vec::new(),
            results: Vec::new(),
        }))
    }

    fn open_and_migrate(path: &Path, busy_timeout: Duration) -> Result<Self, Cause> {
        directory(path)?;
        // SQLite's own message ("unable to open database file") does not say why; the system's
        // answer to opening the file for writing does ("Read-only file system").
        let failed = |error: rusqlite::Error| {
            let os = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .err()
                .filter(|_| path.exists());
            match os {
                Some(os) => Cause::SqliteOpen { error, os },
                None => Cause::Sqlite(error),
            }
        };
        // Before SQLite opens it for writing: that alone may switch its journal mode or add
        // `-wal` and `-shm` files beside it.
        if let Contents::Foreign(tables) = inspect(path)? {
            return Err(foreign(&tables));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
        // SQLite opens a file it may not write read-only, silently; an import would then fail
        // at its first write, after fetching.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            let os = std::fs::OpenOptions::new().append(true).open(path).err();
            return Err(Cause::Found(match os {
                Some(os) => format!("the file is read-only ({os})"),
                None => "SQLite opened it read-only".into(),
            }));
        }
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            open: false,
        };
        store.prepare(busy_timeout).map_err(failed)?;
        store.migrate()?;
        Ok(store)
    }

    fn prepare(&mut self, busy_timeout: Duration) -> rusqlite::Result<()> {
        self.conn.busy_timeout(busy_timeout)?;
        // Only takes effect on a new, empty file (before WAL mode and the first table): a game's
        // row is 2 to 3 KB, and 16 KB pages hold several of them where 4 KB pages waste up to
        // half of each page; fewer, larger pages also mean fewer reads and writes per game.
        self.conn.execute_batch("PRAGMA page_size = 16384;")?;
        // WAL lets readers (status, export, a second cron run) work while an import writes;
        // synchronous=NORMAL keeps every commit atomic and durable against a process kill,
        // and loses at most the last commits on power loss, which a re-run fetches again.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::debug!("{}: journal mode is {mode}, not WAL", self.path.display());
        }
        self.conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = OFF;
             PRAGMA cache_size = -8000;",
        )?;
        Ok(())
    }

    /// Applies missing migrations inside one immediate transaction, so two processes starting
    /// at once cannot both apply them.
    fn migrate(&mut self) -> Result<(), Cause> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The check `open` made before could only read the main file; a database whose tables
        // are all still in its write-ahead log is only seen whole here.
        if let Contents::Foreign(tables) = classify(&tx)? {
            return Err(foreign(&tables));
        }
        let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Cause::newer_schema(version));
        }
        let id: i32 = tx.query_row("PRAGMA application_id", [], |row| row.get(0))?;
        if id != APPLICATION_ID {
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        for (index, migration) in SQLITE_MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.execute_batch(migration)?;
            let version = index as i64 + 1;
            if version == upgrade::BACKFILLED_BY {
                let games = upgrade::sqlite(&tx)?;
                tracing::info!(
                    "{}: upgraded {games} games to schema {version}",
                    self.path.display()
                );
            }
            tx.pragma_update(None, "user_version", version)?;
        }
        Ok(tx.commit()?)
    }

    /// Records the end of a player's import as of `now` (unix ms).
    fn record_at(
        &mut self,
        player: &Player,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let success_at = error.is_none().then_some(now);
        self.committed(|conn| {
            conn.execute(
                "INSERT INTO import_state (platform, username, last_success_at, last_attempt_at,
                     last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (platform, username) DO UPDATE SET
                     last_success_at = coalesce(excluded.last_success_at, last_success_at),
                     last_attempt_at = excluded.last_attempt_at,
                     last_error = excluded.last_error",
                params![
                    player.platform.as_str(),
                    player.username(),
                    success_at,
                    now,
                    error
                ],
            )
            .map(drop)
        })
    }

    fn target(&self) -> String {
        self.path.display().to_string()
    }

    /// Commits what `write_batch` left open, then runs `work`: every call but `write_batch`
    /// makes the batches before it durable first. SQLite's error is mapped here, once.
    fn committed<T>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let result = self.commit_open().and_then(|()| work(&mut self.conn));
        result.map_err(|error| self.query_error(error))
    }

    fn query_error(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Query {
            target: self.target(),
            cause: Cause::Sqlite(error),
        }
    }

    fn write_batch_inner(&mut self, batch: &Batch<'_>) -> rusqlite::Result<WriteCounts> {
        let platform = batch.player.platform.as_str();
        let username = batch.player.username();
        let imported_at = now_ms();
        if !self.open {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.open = true;
        }
        let tx = &self.conn;
        let mut counts = WriteCounts::default();
        {
            let mut insert_game = tx.prepare_cached(&INSERT_GAME)?;
            let mut update_game = batch
                .refresh
                .then(|| tx.prepare_cached(&UPDATE_GAME))
                .transpose()?;
            let mut link = tx.prepare_cached(
                "INSERT INTO player_games (platform, username, game_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            // A game served twice in a refreshing batch is written as first served, as the
            // PostgreSQL store's merge keeps it.
            let mut seen = HashSet::new();
            for game in batch.games {
                let values = || rusqlite::params_from_iter(cells(game, platform, imported_at));
                let first = update_game.is_some() && seen.insert(game.game_id.as_str());
                if insert_game.execute(values())? == 1 {
                    counts.new += 1;
                } else if let Some(update) = &mut update_game
                    && first
                    && update.execute(values())? == 1
                {
                    counts.updated += 1;
                } else {
                    counts.duplicate += 1;
                }
                link.execute(params![platform, username, game.game_id])?;
            }
        }
        match &batch.cursor {
            Some(Cursor::CreatedAt(created_at)) => {
                tx.prepare_cached(
                    "INSERT INTO import_state (platform, username, last_created_at)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (platform, username) DO UPDATE SET last_created_at =
                         max(coalesce(last_created_at, excluded.last_created_at),
                             excluded.last_created_at)",
                )?
                .execute(params![platform, username, created_at])?;
            }
            Some(Cursor::Month(month)) => {
                tx.prepare_cached(
                    "INSERT INTO import_state (platform, username, last_month)
                     VALUES (?1, ?2, ?3)
                     ON CONFLICT (platform, username) DO UPDATE SET last_month =
                         max(coalesce(last_month, excluded.last_month), excluded.last_month)",
                )?
                .execute(params![platform, username, month])?;
            }
            None => {}
        }
        if !batch.ongoing.is_empty() {
            let mut remember = tx.prepare_cached(
                "INSERT INTO ongoing_games (platform, username, game_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            for game_id in batch.ongoing {
                remember.execute(params![platform, username, game_id])?;
            }
        }
        if !batch.resolved.is_empty() {
            let mut forget = tx.prepare_cached(
                "DELETE FROM ongoing_games WHERE platform = ?1 AND username = ?2 AND game_id = ?3",
            )?;
            for game_id in batch.resolved {
                forget.execute(params![platform, username, game_id])?;
            }
        }
        if let Some(month) = &batch.month {
            tx.prepare_cached(
                "INSERT INTO chesscom_months (username, month, etag, last_modified, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (username, month) DO UPDATE SET etag = excluded.etag,
                     last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
            )?
            .execute(params![
                username,
                month.month,
                month.etag,
                month.last_modified,
                imported_at
            ])?;
        }
        Ok(counts)
    }

    /// Commits the transaction `write_batch` left open, if any. On failure nothing of it is kept.
    fn commit_open(&mut self) -> rusqlite::Result<()> {
        if !std::mem::take(&mut self.open) {
            return Ok(());
        }
        self.conn
            .execute_batch("COMMIT")
            .inspect_err(|_| self.roll_back())
    }

    /// Ends the open transaction, if SQLite has not already, keeping nothing of it.
    fn roll_back(&mut self) {
        self.open = false;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Err(error) = self.commit_open() {
            tracing::error!(
                "{}: cannot commit the last games: {}",
                self.target(),
                Cause::Sqlite(error)
            );
        }
    }
}

/// SQLite keeps one transaction over a player's consecutive batches (see
/// [`Store::write_batch`]), so a batch only sets how many games wait between the parser and the
/// database: memory, a few megabytes a batch. Half a thousand keeps a 100,000-game import as
/// small as a 10,000-game one, at the same speed (the README's benchmark).
const SQLITE_BATCH: usize = 500;

impl Store for SqliteStore {
    fn batch_size(&self) -> usize {
        SQLITE_BATCH
    }

    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError> {
        self.committed(|conn| read_state(conn, player))
    }

    /// Writes the batch in the open write transaction, opening one if needed, and leaves it open:
    /// consecutive batches then share one commit, which matters because every commit rewrites
    /// each index page its games touched, and game ids are random keys. Every other call, and
    /// dropping the store, commits too. If a batch fails, the whole open transaction is rolled
    /// back: each batch's games and cursor are still kept or lost together.
    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError> {
        self.write_batch_inner(batch)
            .inspect_err(|_| self.roll_back())
            .map_err(|e| self.query_error(e))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.committed(|_| Ok(()))
    }

    fn unanalysed_games(
        &mut self,
        player: &Player,
        since: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let (platform, username) = (player.platform.as_str(), player.username());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.committed(|conn| {
            let mut statement = conn.prepare_cached(&UNANALYSED_GAMES)?;
            let ids = statement
                .query_map(params![platform, username, since, after, limit], |row| {
                    row.get(0)
                })?;
            ids.collect()
        })
    }

    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError> {
        self.record_at(player, error, now_ms())
    }

    /// A run on this host that found no database holds its leases as a [`PlayerLock`] until
    /// the database exists: the lock is asked first, and held while the row is written, so that
    /// such a run, which takes the lock before it looks for the database, sees the row.
    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Result<Lease, StoreError> {
        let _lock = match PlayerLock::take(&self.path, player, owner, ttl) {
            Ok(Ok(lock)) => Some(lock),
            Ok(Err(held)) => return Ok(held),
            Err(error) => {
                tracing::debug!("{player}: no lock file for the lease ({error})");
                None
            }
        };
        self.committed(|conn| take_lease(conn, player, owner, ttl, dead))
    }

    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError> {
        self.committed(|conn| {
            conn.execute(
                "UPDATE import_leases SET expires_at = ?2 WHERE owner = ?1",
                params![owner, now_ms() + millis(ttl)],
            )
            .map(drop)
        })
    }

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError> {
        self.committed(|conn| {
            conn.execute(
                "DELETE FROM import_leases WHERE platform = ?1 AND username = ?2 AND owner = ?3",
                params![player.platform.as_str(), player.username(), owner],
            )
            .map(drop)
        })
    }
}

/// An SQLite store whose database did not exist when the run started. It is made by the first
/// batch to store, so that a run that stores nothing (offline, say, or every player unknown)
/// leaves no empty database behind; deleting an empty one afterwards could delete it under
/// another run that has just opened it. Until then, results are kept here, and a lease is a
/// [`PlayerLock`] that other runs on this host see; both are written into the database once it
/// exists (the locks are let go only after the rows are in), and a database another run made
/// meanwhile is opened at once.
struct Deferred {
    path: PathBuf,
    busy_timeout: Duration,
    store: Option<SqliteStore>,
    /// Leases taken before the database existed: player, owner, time to live, and the lock that
    /// holds it meanwhile.
    leases: Vec<(Player, String, Duration, PlayerLock)>,
    /// Results recorded before the database existed: player, error and when.
    results: Vec<(Player, Option<String>, i64)>,
}

impl Deferred {
    /// The store, when the database exists: if another run has made it since, it is opened now.
    fn existing(&mut self) -> Result<Option<&mut SqliteStore>, StoreError> {
        if self.store.is_none() && std::fs::symlink_metadata(&self.path).is_ok() {
            self.create()?;
        }
        Ok(self.store.as_mut())
    }

    /// The store, making the database if it does not exist yet, with what was kept for it.
    fn create(&mut self) -> Result<&mut SqliteStore, StoreError> {
        let store = match self.store.take() {
            Some(store) => store,
            None => {
                let mut store = SqliteStore::open(&self.path, self.busy_timeout)?;
                // The rows go in while the locks are still held; only a run on another host,
                // which cannot see the locks, can hold one of the leases already.
                for (player, owner, ttl, _lock) in std::mem::take(&mut self.leases) {
                    let alive = |_: &str| false;
                    let lease =
                        store.committed(|conn| take_lease(conn, &player, &owner, ttl, &alive))?;
                    if let Lease::HeldBy { owner: holder, .. } = lease {
                        tracing::warn!(
                            "{player}: {} started importing it at the same time as this run; \
                             both go on (each game is stored once)",
                            crate::lease::describe(&holder)
                        );
                    }
                }
                for (player, error, at) in std::mem::take(&mut self.results) {
                    store.record_at(&player, error.as_deref(), at)?;
                }
                store
            }
        };
        Ok(self.store.insert(store))
    }
}

/// A player's lease while its database does not exist: an advisory lock (`flock`) on a file of
/// its own in a runtime directory, which the system lets go when the process ends however it
/// ends. The file holds the owner and the lease's end, for the skip message of a run that finds
/// it locked, and is removed by its holder while still locked; a run that locked a file removed
/// meanwhile sees it is no longer the one at that path and tries again.
#[derive(Debug)]
struct PlayerLock {
    path: PathBuf,
    file: std::fs::File,
}

impl PlayerLock {
    /// The lock of `player` in the database at `db`, or the lease of whoever holds it.
    fn take(
        db: &Path,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> io::Result<Result<Self, Lease>> {
        use std::io::{Read, Write};

        let path = Self::path(db, player)?;
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    file.read_to_string(&mut text)?;
                    let (holder, until) = text.split_once('\n').unwrap_or(("", ""));
                    return Ok(Err(Lease::HeldBy {
                        owner: Some(holder)
                            .filter(|h| !h.is_empty())
                            .unwrap_or("another chess-import on this host")
                            .to_string(),
                        until: until.trim().parse().unwrap_or_else(|_| now_ms()),
                    }));
                }
                Err(std::fs::TryLockError::Error(error)) => return Err(error),
            }
            let still_there = std::fs::metadata(&path)
                .is_ok_and(|at_path| same_file(&at_path, &file.metadata().ok()));
            if still_there {
                file.set_len(0)?;
                write!(file, "{owner}\n{}", now_ms() + millis(ttl))?;
                return Ok(Ok(PlayerLock { path, file }));
            }
        }
    }

    /// `leases/` in the user's runtime directory (see [`runtime_dir`]), a file per database and
    /// player, named by a hash of both (FNV-1a: the same in every build).
    fn path(db: &Path, player: &Player) -> io::Result<PathBuf> {
        let dir = runtime_dir::default().join("leases");
        runtime_dir::create_private(&dir)?;
        let name = db.file_name().unwrap_or_default();
        let database = std::fs::canonicalize(directory(db).map_err(io::Error::other)?)?.join(name);
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let player = player.to_string();
        let key = [
            database.as_os_str().as_encoded_bytes(),
            b"\0",
            player.as_bytes(),
        ];
        for byte in key.concat() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(dir.join(format!("{hash:016x}.lock")))
    }
}

impl Drop for PlayerLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &Option<std::fs::Metadata>) -> bool {
    use std::os::unix::fs::MetadataExt;
    b.as_ref()
        .is_some_and(|b| (a.dev(), a.ino()) == (b.dev(), b.ino()))
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, b: &Option<std::fs::Metadata>) -> bool {
    b.is_some()
}

impl Store for Deferred {
    fn batch_size(&self) -> usize {
        SQLITE_BATCH
    }

    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError> {
        match self.existing()? {
            Some(store) => store.player_state(player),
            None => Ok(PlayerState::default()),
        }
    }

    fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError> {
        self.create()?.write_batch(batch)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        match &mut self.store {
            Some(store) => store.commit(),
            None => Ok(()),
        }
    }

    fn unanalysed_games(
        &mut self,
        player: &Player,
        since: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        match self.existing()? {
            Some(store) => store.unanalysed_games(player, since, after, limit),
            None => Ok(Vec::new()),
        }
    }

    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError> {
        match self.existing()? {
            Some(store) => store.record_result(player, error),
            None => {
                let result = (player.clone(), error.map(str::to_string), now_ms());
                self.results.push(result);
                Ok(())
            }
        }
    }

    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Result<Lease, StoreError> {
        if let Some((_, by, _, _)) = self.leases.iter().find(|(held, ..)| held == player)
            && by == owner
        {
            return Ok(Lease::Acquired);
        }
        // The lock first, then a look for the database: a run that made the database and leased
        // the player there did so before it let go of its own lock.
        let lock = match PlayerLock::take(&self.path, player, owner, ttl) {
            Ok(Ok(lock)) => Some(lock),
            Ok(Err(held)) => return Ok(held),
            Err(error) => {
                tracing::debug!("{player}: no lock file for the lease ({error})");
                None
            }
        };
        match (self.existing()?, lock) {
            (Some(store), lock) => {
                // The store asks the lock again, from a file of its own.
                drop(lock);
                store.try_lease(player, owner, ttl, dead)
            }
            (None, Some(lock)) => {
                self.leases
                    .push((player.clone(), owner.to_string(), ttl, lock));
                Ok(Lease::Acquired)
            }
            (None, None) => Ok(Lease::Acquired),
        }
    }

    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError> {
        match self.existing()? {
            Some(store) => store.renew_leases(owner, ttl),
            None => Ok(()),
        }
    }

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError> {
        match self.existing()? {
            Some(store) => store.release_lease(player, owner),
            None => {
                self.leases
                    .retain(|(held, by, ..)| !(held == player && by == owner));
                Ok(())
            }
        }
    }
}

/// The player's games that started in the millisecond `?3`.
const BOUNDARY_GAMES: &str = "SELECT g.game_id FROM games g
     WHERE g.played_at = ?3 AND +g.platform = ?1
       AND EXISTS (SELECT 1 FROM player_games p
                   WHERE p.platform = ?1 AND p.username = ?2 AND p.game_id = g.game_id)
     ORDER BY g.game_id";

/// Where the player's next import resumes, and how many games it has.
fn read_state(conn: &Connection, player: &Player) -> rusqlite::Result<PlayerState> {
    let platform = player.platform.as_str();
    let username = player.username();
    let (last_created_at, last_month, last_success_at) = conn
        .query_row(
            "SELECT last_created_at, last_month, last_success_at FROM import_state
             WHERE platform = ?1 AND username = ?2",
            params![platform, username],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?
        .unwrap_or((None, None, None));
    let stored_games: i64 = conn
        .prepare_cached("SELECT count(*) FROM player_games WHERE platform = ?1 AND username = ?2")?
        .query_row([platform, username], |row| row.get(0))?;
    let ongoing = conn
        .prepare_cached(
            "SELECT game_id FROM ongoing_games WHERE platform = ?1 AND username = ?2
             ORDER BY game_id",
        )?
        .query_map([platform, username], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // The games of the cursor's own millisecond, which a Lichess resume asks for again. Found
    // through the `played_at` index (`+g.platform` keeps SQLite, which has no statistics, off
    // the primary key, where it would read every game of the platform for every player).
    let boundary = match last_created_at {
        Some(created_at) => conn
            .prepare_cached(BOUNDARY_GAMES)?
            .query_map(params![platform, username, created_at], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?,
        None => Vec::new(),
    };
    let months = if player.platform == crate::player::Platform::Chesscom {
        conn.prepare_cached(
            "SELECT month, etag, last_modified FROM chesscom_months WHERE username = ?1",
        )?
        .query_map([username], |row| {
            let month: String = row.get(0)?;
            let validator = MonthValidator {
                month: month.clone(),
                etag: row.get(1)?,
                last_modified: row.get(2)?,
            };
            Ok((month, validator))
        })?
        .collect::<rusqlite::Result<_>>()?
    } else {
        Default::default()
    };
    Ok(PlayerState {
        resume: ResumePoint {
            last_created_at,
            boundary,
            last_month,
            ongoing,
            months,
        },
        stored_games: count(stored_games),
        last_success_at,
    })
}

/// Takes the lease unless another owner's lease is live (not expired, its owner not `dead`), in
/// one immediate transaction.
fn take_lease(
    conn: &mut Connection,
    player: &Player,
    owner: &str,
    ttl: Duration,
    dead: &dyn Fn(&str) -> bool,
) -> rusqlite::Result<Lease> {
    let platform = player.platform.as_str();
    let username = player.username();
    let now = now_ms();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let holder: Option<(String, i64)> = tx
        .query_row(
            "SELECT owner, expires_at FROM import_leases
             WHERE platform = ?1 AND username = ?2",
            params![platform, username],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let mut lease = Lease::Acquired;
    if let Some((holder, expires_at)) = holder
        && holder != owner
        && expires_at > now
    {
        if !dead(&holder) {
            return Ok(Lease::HeldBy {
                owner: holder,
                until: expires_at,
            });
        }
        lease = Lease::TakenOver(holder);
    }
    tx.execute(
        "INSERT INTO import_leases (platform, username, owner, expires_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (platform, username) DO UPDATE SET owner = excluded.owner,
             expires_at = excluded.expires_at",
        params![platform, username, owner, now + millis(ttl)],
    )?;
    tx.commit()?;
    Ok(lease)
}

/// The advice an operator needs for SQLite's common errors, or nothing.
pub(super) fn advice(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            " (another process kept it locked longer than the busy timeout; try again later)"
        }
        Some(ErrorCode::ReadOnly) => " (check the file's and its directory's permissions)",
        Some(ErrorCode::DiskFull) => " (free some disk space and run again)",
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            " (is it an SQLite database? restore it from a backup or choose another --db)"
        }
        Some(ErrorCode::CannotOpen) => {
            " (check that the path and its directory exist and are writable)"
        }
        _ => "",
    }
}

/// The reading side of an SQLite file.
pub struct SqliteCatalog {
    conn: Connection,
    target: String,
}

impl SqliteCatalog {
    /// Opens an existing chess-import database for reading only; a missing file is an error, not
    /// a new database.
    ///
    /// Read-write without `CREATE` rather than read-only: a missing file is still an error, but the
    /// connection, when it is the last one, removes the `-wal` and `-shm` files on closing, where a
    /// read-only one would leave them behind. `query_only` keeps it from writing anything, and
    /// SQLite falls back to reading alone when the file is write-protected.
    pub fn open(path: &Path, busy_timeout: Duration) -> anyhow::Result<Self> {
        let target = path.display().to_string();
        if !path.exists() {
            bail!(
                "database {target} does not exist (import players into it first, or name another \
                 with --db)"
            );
        }
        if !path.is_file() {
            bail!("database {target} is not a file");
        }
        let opened = match inspect(path) {
            Ok(Contents::Ours) => open_for_reading(path, busy_timeout),
            Ok(Contents::Empty) => Err(Cause::Found(
                "it is empty, not a chess-import database".into(),
            )),
            Ok(Contents::Foreign(tables)) => Err(foreign(&tables)),
            Err(cause) => Err(cause),
        };
        match opened {
            Ok(conn) => Ok(SqliteCatalog { conn, target }),
            Err(cause) => Err(StoreError::Open { target, cause }.into()),
        }
    }

    fn error(&self, error: rusqlite::Error) -> ReadError {
        ReadError::Query {
            target: self.target.clone(),
            cause: Cause::Sqlite(error),
        }
    }
}

/// Opens a chess-import database to read, sharing it with any writer. In a directory this
/// process cannot write, where SQLite cannot make the `-shm` file that sharing needs, it reads the
/// file as immutable instead, when that is safe: see [`nobody_writes`].
fn open_for_reading(path: &Path, busy_timeout: Duration) -> Result<Connection, Cause> {
    let shared = || -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(busy_timeout)?;
        conn.pragma_update(None, "query_only", true)?;
        conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))?;
        Ok(conn)
    };
    let conn = match shared() {
        Ok(conn) => conn,
        Err(error)
            if error.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen)
                && nobody_writes(path) =>
        {
            tracing::debug!("{}: read as immutable ({error})", path.display());
            open_immutable(path)?
        }
        Err(error) => return Err(error.into()),
    };
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    match version {
        SCHEMA_VERSION => Ok(conn),
        0 => Err(Cause::Found("it is not a chess-import database".into())),
        newer if newer > SCHEMA_VERSION => Err(Cause::newer_schema(newer)),
        older => Err(Cause::Found(format!(
            "it has schema version {older}; run an import on it to upgrade it"
        ))),
    }
}

/// Whether no process can be writing the database at `path` now or while it is read, so that
/// reading it as immutable (without locks) cannot see a half-written page: it has no write-ahead
/// log (a writer keeps one while it is open, and its content would be missed), and its
/// filesystem is mounted read-only or its directory has no write permission for anyone, so that
/// no writer can start. A directory only this user may not write is not enough: its owner may
/// be importing.
fn nobody_writes(path: &Path) -> bool {
    if wal_of(path).exists() {
        return false;
    }
    let read_only_mount = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .is_err_and(|error| error.kind() == io::ErrorKind::ReadOnlyFilesystem);
    read_only_mount || unwritable_directory(path)
}

#[cfg(unix)]
fn unwritable_directory(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::metadata(dir).is_ok_and(|meta| meta.permissions().mode() & 0o222 == 0)
}

#[cfg(not(unix))]
fn unwritable_directory(_: &Path) -> bool {
    false
}

const PLAYERS: &str = concat!(players_query!(), " ORDER BY k.platform, k.username");

/// The ids of a player's stored games: linked to the player, and in `games`.
const GAME_IDS: &str = "SELECT p.game_id FROM player_games p
     JOIN games g ON g.platform = p.platform AND g.game_id = p.game_id
     WHERE p.platform = ?1 AND p.username = ?2";

impl SqliteCatalog {
    /// Runs an export query and hands its rows to `each`, one at a time; a database error ends
    /// the read, a write error too but is told apart.
    fn stream(
        &mut self,
        sql: &str,
        values: Vec<Value>,
        each: &mut dyn FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<io::Result<()>>,
    ) -> Result<u64, ReadError> {
        let mut statement = self.conn.prepare(sql).map_err(|e| self.error(e))?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(|e| self.error(e))?;
        let mut count = 0;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(error) => return Err(self.error(error)),
            };
            each(row).map_err(|e| self.error(e))??;
            count += 1;
        }
        Ok(count)
    }
}

impl Catalog for SqliteCatalog {
    fn target(&self) -> &str {
        &self.target
    }

    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
        let rows = self.conn.prepare(PLAYERS).and_then(|mut statement| {
            statement
                .query_map([], |row| {
                    Ok(PlayerSummary {
                        platform: row.get(0)?,
                        username: row.get(1)?,
                        games: count(row.get(2)?),
                        newest_game_at: row.get(3)?,
                        last_success_at: row.get(4)?,
                        last_attempt_at: row.get(5)?,
                        last_error: row.get(6)?,
                    })
                })?
                .collect()
        });
        rows.map_err(|e| self.error(e))
    }

    /// The ids alone, from the player's links and the games' primary key: no PGN is read.
    fn for_each_game_id(
        &mut self,
        player: &Player,
        each: &mut dyn FnMut(&str),
    ) -> Result<u64, ReadError> {
        let values = vec![
            Value::Text(player.platform.as_str().to_string()),
            Value::Text(player.username().to_string()),
        ];
        self.stream(GAME_IDS, values, &mut |row| {
            each(row.get_ref(0)?.as_str()?);
            Ok(Ok(()))
        })
    }

    fn for_each_game(
        &mut self,
        filter: &GameFilter,
        each: &mut dyn FnMut(StoredGame<'_>) -> io::Result<()>,
    ) -> Result<u64, ReadError> {
        let (sql, values) = export_query(filter);
        self.stream(&sql, values, &mut |row| {
            // Borrowed straight from SQLite's row buffer: no copy of the PGN is made.
            let game = StoredGame {
                platform: row.get_ref(0)?.as_str()?,
                game_id: row.get_ref(1)?.as_str()?,
                played_at: row.get(2)?,
                pgn: row.get_ref(3)?.as_str()?,
            };
            Ok(each(game))
        })
    }

    fn for_each_row(
        &mut self,
        filter: &GameFilter,
        view: View,
        each: &mut dyn FnMut(&[store::Value<'_>]) -> io::Result<()>,
    ) -> Result<u64, ReadError> {
        let kinds: Vec<Kind> = schema::view_columns(view)
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        let (sql, values) = rows_query(filter, view);
        self.stream(&sql, values, &mut |row| {
            let cells = kinds
                .iter()
                .enumerate()
                .map(|(index, &kind)| row.get_ref(index).and_then(|value| exported(value, kind)))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(each(&cells))
        })
    }
}

/// The export's SQL and its parameters. The rows come in the order of the `played_at` index,
/// so SQLite only ever sorts games that started in the same millisecond.
fn export_query(filter: &GameFilter) -> (String, Vec<Value>) {
    games_query(filter, "platform, game_id, played_at, pgn")
}

/// The games' export with the columns `select` names.
fn games_query(filter: &GameFilter, select: &str) -> (String, Vec<Value>) {
    let mut sql = format!("SELECT {select} FROM games g WHERE 1");
    let mut values = Vec::new();
    push_window(filter, "g", &mut sql, &mut values);
    if !filter.players.is_empty() {
        let mut any = Vec::new();
        for player in &filter.players {
            values.push(Value::Text(player.platform.as_str().to_string()));
            let platform = values.len();
            values.push(Value::Text(player.username().to_string()));
            let username = values.len();
            // An EXISTS rather than a join: a game between two chosen players is written once.
            // `+g.platform` keeps SQLite off the primary key, whose order would have to be
            // sorted again, PGNs and all: the `played_at` index stays the order of the scan.
            any.push(format!(
                "(+g.platform = ?{platform} AND EXISTS (SELECT 1 FROM player_games pg
                   WHERE pg.platform = ?{platform} AND pg.username = ?{username}
                     AND pg.game_id = g.game_id))"
            ));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    sql.push_str(" ORDER BY g.played_at, g.game_id, g.platform");
    (sql, values)
}

/// The export of `view`'s rows, every column, in the games' order.
fn rows_query(filter: &GameFilter, view: View) -> (String, Vec<Value>) {
    let select = names_of(view);
    if view == View::Games {
        return games_query(filter, &select);
    }
    let mut sql = format!("SELECT {select} FROM player_games_view v WHERE 1");
    let mut values = Vec::new();
    push_window(filter, "v", &mut sql, &mut values);
    if !filter.players.is_empty() {
        let mut any = Vec::new();
        for player in &filter.players {
            values.push(Value::Text(player.platform.as_str().to_string()));
            values.push(Value::Text(player.username().to_string()));
            let n = values.len();
            any.push(format!("(v.platform = ?{} AND v.username = ?{n})", n - 1));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    sql.push_str(" ORDER BY v.played_at, v.game_id, v.username");
    (sql, values)
}

/// Adds the filter's days to a query of `table` (an alias) with numbered parameters.
fn push_window(filter: &GameFilter, table: &str, sql: &mut String, values: &mut Vec<Value>) {
    for (bound, op) in [(filter.since, ">="), (filter.until, "<")] {
        if let Some(bound) = bound {
            values.push(Value::Integer(bound));
            sql.push_str(&format!(" AND {table}.played_at {op} ?{}", values.len()));
        }
    }
}

/// `view`'s columns as a select list.
fn names_of(view: View) -> String {
    view.columns().join(", ")
}

/// A column's value as an export hands it on: SQLite keeps booleans as integers.
fn exported(value: ValueRef<'_>, kind: Kind) -> rusqlite::Result<store::Value<'_>> {
    Ok(match value {
        ValueRef::Null => store::Value::Null,
        ValueRef::Integer(n) if kind == Kind::Boolean => store::Value::Bool(n != 0),
        ValueRef::Integer(n) => store::Value::Int(n),
        ValueRef::Real(x) => store::Value::Real(x),
        ValueRef::Text(_) | ValueRef::Blob(_) => store::Value::Text(value.as_str()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::with_causes;

    #[test]
    fn a_players_boundary_games_are_found_through_the_start_time_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let mut store = SqliteStore::open(&path, Duration::from_secs(1)).unwrap();
        store.commit().unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {BOUNDARY_GAMES}"))
            .unwrap();
        let steps: Vec<String> = plan
            .query_map(params!["lichess", "alice", 1], |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            steps[0].contains("USING INDEX games_played_at"),
            "not every game of the platform for every player: {steps:?}"
        );
    }
    use crate::player::Platform;
    use crate::store::contract::Database;

    const BUSY: Duration = Duration::from_secs(1);

    fn fresh_database() -> Option<Database> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let target = path.display().to_string();
        let open = move || -> Box<dyn Store> { Box::new(SqliteStore::open(&path, BUSY).unwrap()) };
        Some(Database::new(target, open, dir))
    }

    mod contract {
        crate::store::contract::contract_tests!(super::fresh_database);
    }

    #[test]
    fn refuses_files_that_are_not_databases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(
            &path,
            "these are not the games you are looking for\n".repeat(100),
        )
        .unwrap();
        let error = with_causes(&SqliteStore::open(&path, BUSY).err().unwrap());
        assert!(error.contains("notes.txt"), "{error}");
        assert!(error.contains("not an SQLite database"), "{error}");
    }

    #[test]
    fn refuses_targets_where_nothing_would_be_saved() {
        for target in [
            "",
            ":memory:",
            "file::memory:",
            "file:x?cache=shared&mode=memory",
        ] {
            let why = check_target(target).unwrap_err();
            assert!(why.contains("nothing would be saved"), "{target:?}: {why}");
        }
        let why = check_target("file:games.sqlite").unwrap_err();
        assert!(why.contains("./file:games.sqlite"), "{why}");
        for target in [
            "games.sqlite",
            "./file:games.sqlite",
            "FILE:x",
            "postgres://db/games",
        ] {
            assert_eq!(check_target(target), Ok(()), "{target:?}");
        }
    }

    #[test]
    fn a_missing_database_is_made_by_the_first_batch_with_what_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let alice: Player = "lichess:alice".parse().unwrap();
        let bob: Player = "lichess:bob".parse().unwrap();
        let mut store = SqliteStore::open_on_first_write(&path, BUSY).unwrap();
        let alive = |_: &str| false;
        assert_eq!(
            store.try_lease(&bob, "me", BUSY, &alive).unwrap(),
            Lease::Acquired
        );
        assert_eq!(store.player_state(&bob).unwrap(), PlayerState::default());
        store.record_result(&bob, Some("user not found")).unwrap();
        store.release_lease(&bob, "me").unwrap();
        store.try_lease(&alice, "me", BUSY, &alive).unwrap();
        store.commit().unwrap();
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "no file yet"
        );

        let games = [GameRecord::new(
            Platform::Lichess,
            "aaaaaaaa",
            "1. e4 *".to_string(),
        )];
        let batch = Batch {
            player: &alice,
            games: &games,
            cursor: None,
            month: None,
            ongoing: &[],
            resolved: &[],
            refresh: false,
        };
        assert_eq!(store.write_batch(&batch).unwrap().new, 1);
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let leases: Vec<(String, String)> = conn
            .prepare("SELECT username, owner FROM import_leases")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(leases, [("alice".to_string(), "me".to_string())]);
        let error: Option<String> = conn
            .query_row(
                "SELECT last_error FROM import_state WHERE username = 'bob'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(error.as_deref(), Some("user not found"));
    }

    #[test]
    fn a_database_another_run_made_meanwhile_is_used_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let alice: Player = "lichess:alice".parse().unwrap();
        let alive = |_: &str| false;
        let mut late = SqliteStore::open_on_first_write(&path, BUSY).unwrap();
        let mut other = SqliteStore::open(&path, BUSY).unwrap();
        other.try_lease(&alice, "other", BUSY, &alive).unwrap();
        match late.try_lease(&alice, "late", BUSY, &alive).unwrap() {
            Lease::HeldBy { owner, .. } => assert_eq!(owner, "other"),
            lease => panic!("{lease:?}"),
        }
    }

    #[test]
    fn a_lease_before_the_database_exists_excludes_other_runs_until_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let alice: Player = "lichess:alice".parse().unwrap();
        let alive = |_: &str| false;
        let mut first = SqliteStore::open_on_first_write(&path, BUSY).unwrap();
        let mut second = SqliteStore::open_on_first_write(&path, BUSY).unwrap();
        let lease =
            |store: &mut Box<dyn Store>, owner| store.try_lease(&alice, owner, BUSY, &alive);
        assert_eq!(lease(&mut first, "first").unwrap(), Lease::Acquired);
        assert_eq!(lease(&mut first, "first").unwrap(), Lease::Acquired);
        match lease(&mut second, "second").unwrap() {
            Lease::HeldBy { owner, until } => {
                assert_eq!(owner, "first");
                assert!(until > now_ms());
            }
            other => panic!("{other:?}"),
        }
        let lock = PlayerLock::path(&path, &alice).unwrap();
        assert!(lock.exists());
        first.release_lease(&alice, "first").unwrap();
        assert!(!lock.exists(), "the lock file goes with the lease");
        assert_eq!(lease(&mut second, "second").unwrap(), Lease::Acquired);
        drop(second);
        assert!(!lock.exists());
        assert!(!path.exists(), "no database was made");
    }

    #[test]
    fn refuses_a_missing_directory() {
        let error = SqliteStore::open(Path::new("/nonexistent-dir/games.sqlite"), BUSY).err();
        let error = with_causes(&error.unwrap());
        assert!(error.contains("/nonexistent-dir"), "{error}");
    }

    #[test]
    fn marks_its_databases_and_recognises_those_made_before_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let application_id = |path: &Path| -> i32 {
            Connection::open(path)
                .unwrap()
                .query_row("PRAGMA application_id", [], |row| row.get(0))
                .unwrap()
        };
        drop(SqliteStore::open(&path, BUSY).unwrap());
        assert_eq!(application_id(&path), APPLICATION_ID);
        assert_eq!(inspect(&path).unwrap(), Contents::Ours);
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "application_id", 0)
            .unwrap();
        assert_eq!(inspect(&path).unwrap(), Contents::Ours);
        drop(SqliteStore::open(&path, BUSY).unwrap());
        assert_eq!(application_id(&path), APPLICATION_ID);
        // The same tables without a schema version are someone else's.
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA application_id = 0; PRAGMA user_version = 0;")
            .unwrap();
        assert!(matches!(inspect(&path).unwrap(), Contents::Foreign(_)));
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        drop(SqliteStore::open(&path, BUSY).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let error = with_causes(&SqliteStore::open(&path, BUSY).err().unwrap());
        assert!(error.contains("newer chess-import"), "{error}");
    }

    /// The reading side, on a database the store wrote.
    mod reading {
        use super::*;
        use crate::store::open_catalog;

        fn played(platform: Platform, id: &str, played_at: Option<i64>) -> GameRecord {
            let mut game = GameRecord::new(platform, id, format!("[Site \"{id}\"]\n\n1. e4 *\n"));
            game.played_at = played_at;
            game
        }

        /// A database with alice and bob on Lichess (one game between them) and carol on Chess.com.
        fn database() -> (tempfile::TempDir, String) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("games.sqlite");
            let mut store = SqliteStore::open(&path, BUSY).unwrap();
            let write = |store: &mut SqliteStore, player: &str, games: &[GameRecord]| {
                let player: Player = player.parse().unwrap();
                store
                    .write_batch(&Batch {
                        player: &player,
                        games,
                        cursor: None,
                        month: None,
                        ongoing: &[],
                        resolved: &[],
                        refresh: false,
                    })
                    .unwrap();
                store.record_result(&player, None).unwrap();
            };
            let shared = played(Platform::Lichess, "shared01", Some(2_000));
            write(
                &mut store,
                "lichess:alice",
                &[
                    played(Platform::Lichess, "alice001", Some(3_000)),
                    shared.clone(),
                ],
            );
            write(&mut store, "lichess:bob", &[shared]);
            write(
                &mut store,
                "chesscom:carol",
                &[
                    played(Platform::Chesscom, "c-2", Some(1_000)),
                    played(Platform::Chesscom, "c-1", Some(1_000)),
                ],
            );
            let failed: Player = "chesscom:dave".parse().unwrap();
            store
                .record_result(&failed, Some("user not found"))
                .unwrap();
            drop(store);
            let target = path.display().to_string();
            (dir, target)
        }

        fn exported(target: &str, filter: &GameFilter) -> Vec<String> {
            let mut catalog = open_catalog(target, BUSY).unwrap();
            let mut ids = Vec::new();
            let count = catalog
                .for_each_game(filter, &mut |game| {
                    ids.push(game.game_id.to_string());
                    Ok(())
                })
                .unwrap();
            assert_eq!(count as usize, ids.len());
            ids
        }

        #[test]
        fn lists_every_player_with_games_and_outcome() {
            let (_dir, target) = database();
            let players = open_catalog(&target, BUSY).unwrap().players().unwrap();
            let rows: Vec<_> = players
                .iter()
                .map(|p| {
                    (
                        format!("{}:{}", p.platform, p.username),
                        p.games,
                        p.newest_game_at,
                        p.last_error.as_deref(),
                        p.last_success_at.is_some(),
                    )
                })
                .collect();
            assert_eq!(
                rows,
                [
                    ("chesscom:carol".into(), 2, Some(1_000), None, true),
                    (
                        "chesscom:dave".into(),
                        0,
                        None,
                        Some("user not found"),
                        false
                    ),
                    ("lichess:alice".into(), 2, Some(3_000), None, true),
                    ("lichess:bob".into(), 1, Some(2_000), None, true),
                ]
            );
        }

        #[test]
        fn exports_oldest_first_and_each_game_once() {
            let (_dir, target) = database();
            assert_eq!(
                exported(&target, &GameFilter::default()),
                ["c-1", "c-2", "shared01", "alice001"]
            );
            let players = vec![
                "lichess:alice".parse().unwrap(),
                "lichess:bob".parse().unwrap(),
            ];
            let filter = GameFilter {
                players,
                ..GameFilter::default()
            };
            assert_eq!(exported(&target, &filter), ["shared01", "alice001"]);
            let filter = GameFilter {
                since: Some(2_000),
                until: Some(3_000),
                ..GameFilter::default()
            };
            assert_eq!(exported(&target, &filter), ["shared01"]);
        }

        #[test]
        fn refuses_other_databases_and_leaves_no_files() {
            let dir = tempfile::tempdir().unwrap();
            let other = dir.path().join("other.sqlite");
            Connection::open(&other)
                .unwrap()
                .execute_batch("CREATE TABLE t (x)")
                .unwrap();
            let error = open_catalog(&other.display().to_string(), BUSY)
                .err()
                .unwrap();
            assert!(
                format!("{error:#}").contains("not a chess-import database"),
                "{error:#}"
            );
            let (dir, target) = database();
            drop(open_catalog(&target, BUSY).unwrap().players().unwrap());
            let mut files: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            files.sort();
            assert_eq!(files, ["games.sqlite"]);
        }

        #[test]
        fn never_creates_a_database() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("missing.sqlite");
            let error = open_catalog(&path.display().to_string(), BUSY)
                .err()
                .unwrap();
            assert!(error.to_string().contains("does not exist"), "{error}");
            assert!(!path.exists());
        }
    }
}
