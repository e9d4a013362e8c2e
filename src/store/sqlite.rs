//! The embedded SQLite store: one file, WAL mode, batched transactions.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{Batch, Lease, PlayerState, SCHEMA_VERSION, Store, StoreError, WriteCounts, now_ms};
use crate::player::Player;
use crate::resume::{Cursor, MonthValidator, ResumePoint};

/// The schema users query directly; see the README. Each entry migrates from the version before.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE games (
    platform     TEXT    NOT NULL,
    game_id      TEXT    NOT NULL,
    url          TEXT,
    white        TEXT,
    black        TEXT,
    white_elo    INTEGER,
    black_elo    INTEGER,
    result       TEXT,
    termination  TEXT,
    variant      TEXT,
    time_control TEXT,
    speed        TEXT,
    rated        INTEGER,
    eco          TEXT,
    opening      TEXT,
    played_at    INTEGER,
    ply_count    INTEGER,
    valid        INTEGER NOT NULL,
    pgn          TEXT    NOT NULL,
    imported_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, game_id)
);
CREATE INDEX games_played_at ON games (played_at);
CREATE TABLE player_games (
    platform TEXT NOT NULL,
    username TEXT NOT NULL,
    game_id  TEXT NOT NULL,
    PRIMARY KEY (platform, username, game_id)
) WITHOUT ROWID;
CREATE TABLE import_state (
    platform        TEXT NOT NULL,
    username        TEXT NOT NULL,
    last_created_at INTEGER,
    last_month      TEXT,
    last_success_at INTEGER,
    last_attempt_at INTEGER,
    last_error      TEXT,
    PRIMARY KEY (platform, username)
);
CREATE TABLE chesscom_months (
    username      TEXT NOT NULL,
    month         TEXT NOT NULL,
    etag          TEXT NOT NULL,
    last_modified TEXT,
    fetched_at    INTEGER NOT NULL,
    PRIMARY KEY (username, month)
);
CREATE TABLE ongoing_games (
    platform TEXT NOT NULL,
    username TEXT NOT NULL,
    game_id  TEXT NOT NULL,
    PRIMARY KEY (platform, username, game_id)
) WITHOUT ROWID;
CREATE TABLE import_leases (
    platform   TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (platform, username)
);
"#];

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
        let open_error = |reason: String| StoreError::Open {
            target: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(open_error(format!(
                "directory {} does not exist",
                dir.display()
            )));
        }
        // SQLite's own message ("unable to open database file") does not say why; the system's
        // answer to opening the file for writing does ("Read-only file system").
        let failed = |error: rusqlite::Error| {
            let why = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .err()
                .filter(|_| path.exists());
            open_error(match why {
                Some(os) => format!("{error}: {os}"),
                None => explain(&error),
            })
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
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
    fn migrate(&mut self) -> Result<(), StoreError> {
        let target = self.target();
        let open_error = |e: rusqlite::Error| StoreError::Open {
            target: target.clone(),
            reason: explain(&e),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open_error)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(open_error)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Open {
                target,
                reason: format!(
                    "it has schema version {version}, written by a newer chess-import (this one knows {SCHEMA_VERSION})"
                ),
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration).map_err(open_error)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(open_error)?;
        }
        tx.commit().map_err(open_error)
    }

    fn target(&self) -> String {
        self.path.display().to_string()
    }

    fn query_error(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Query {
            target: self.target(),
            reason: explain(&error),
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
            let mut insert_game = tx.prepare_cached(
                "INSERT INTO games (platform, game_id, url, white, black, white_elo, black_elo,
                     result, termination, variant, time_control, speed, rated, eco, opening,
                     played_at, ply_count, valid, pgn, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20)
                 ON CONFLICT (platform, game_id) DO NOTHING",
            )?;
            let mut link = tx.prepare_cached(
                "INSERT INTO player_games (platform, username, game_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            for game in batch.games {
                let inserted = insert_game.execute(params![
                    platform,
                    game.game_id,
                    game.url,
                    game.white,
                    game.black,
                    game.white_elo,
                    game.black_elo,
                    game.result,
                    game.termination,
                    game.variant,
                    game.time_control,
                    game.speed,
                    game.rated,
                    game.eco,
                    game.opening,
                    game.played_at,
                    game.ply_count,
                    game.valid,
                    game.pgn,
                    imported_at,
                ])?;
                if inserted == 1 {
                    counts.new += 1;
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
                explain(&error)
            );
        }
    }
}

impl Store for SqliteStore {
    fn player_state(&mut self, player: &Player) -> Result<PlayerState, StoreError> {
        self.commit()?;
        let platform = player.platform.as_str();
        let username = player.username();
        let row = self
            .conn
            .query_row(
                "SELECT last_created_at, last_month FROM import_state
                 WHERE platform = ?1 AND username = ?2",
                params![platform, username],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.query_error(e))?;
        let (last_created_at, last_month) = row.unwrap_or((None, None));
        let stored_games: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM player_games WHERE platform = ?1 AND username = ?2",
            )
            .and_then(|mut statement| statement.query_row([platform, username], |row| row.get(0)))
            .map_err(|e| self.query_error(e))?;
        let mut state = PlayerState {
            resume: ResumePoint {
                last_created_at,
                last_month,
                ..ResumePoint::default()
            },
            stored_games: stored_games.unsigned_abs(),
        };
        let query_error = |e: rusqlite::Error| StoreError::Query {
            target: self.path.display().to_string(),
            reason: explain(&e),
        };
        state.resume.ongoing = self
            .conn
            .prepare_cached(
                "SELECT game_id FROM ongoing_games WHERE platform = ?1 AND username = ?2
                 ORDER BY game_id",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([platform, username], |row| row.get(0))?
                    .collect()
            })
            .map_err(query_error)?;
        if player.platform == crate::player::Platform::Chesscom {
            let mut statement = self
                .conn
                .prepare_cached(
                    "SELECT month, etag, last_modified FROM chesscom_months WHERE username = ?1",
                )
                .map_err(|e| self.query_error(e))?;
            let rows = statement
                .query_map([username], |row| {
                    let month: String = row.get(0)?;
                    let validator = MonthValidator {
                        month: month.clone(),
                        etag: row.get(1)?,
                        last_modified: row.get(2)?,
                    };
                    Ok((month, validator))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<_>>());
            state.resume.months = rows.map_err(|e| StoreError::Query {
                target: self.path.display().to_string(),
                reason: explain(&e),
            })?;
        }
        Ok(state)
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
        self.commit_open().map_err(|e| self.query_error(e))
    }

    fn record_result(&mut self, player: &Player, error: Option<&str>) -> Result<(), StoreError> {
        self.commit()?;
        let now = now_ms();
        let success_at = error.is_none().then_some(now);
        self.conn
            .execute(
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
            .map_err(|e| self.query_error(e))
    }

    fn try_lease(
        &mut self,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.commit()?;
        let platform = player.platform.as_str();
        let username = player.username();
        let mut attempt = || -> rusqlite::Result<Lease> {
            let now = now_ms();
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let holder: Option<(String, i64)> = tx
                .query_row(
                    "SELECT owner, expires_at FROM import_leases
                     WHERE platform = ?1 AND username = ?2",
                    params![platform, username],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((holder, expires_at)) = holder
                && holder != owner
                && expires_at > now
            {
                return Ok(Lease::HeldBy(holder));
            }
            tx.execute(
                "INSERT INTO import_leases (platform, username, owner, expires_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (platform, username) DO UPDATE SET owner = excluded.owner,
                     expires_at = excluded.expires_at",
                params![platform, username, owner, now + ttl.as_millis() as i64],
            )?;
            tx.commit()?;
            Ok(Lease::Acquired)
        };
        attempt().map_err(|e| StoreError::Query {
            target: self.path.display().to_string(),
            reason: explain(&e),
        })
    }

    fn renew_leases(&mut self, owner: &str, ttl: Duration) -> Result<(), StoreError> {
        self.commit()?;
        self.conn
            .execute(
                "UPDATE import_leases SET expires_at = ?2 WHERE owner = ?1",
                params![owner, now_ms() + ttl.as_millis() as i64],
            )
            .map(drop)
            .map_err(|e| self.query_error(e))
    }

    fn release_lease(&mut self, player: &Player, owner: &str) -> Result<(), StoreError> {
        self.commit()?;
        self.conn
            .execute(
                "DELETE FROM import_leases WHERE platform = ?1 AND username = ?2 AND owner = ?3",
                params![player.platform.as_str(), player.username(), owner],
            )
            .map(drop)
            .map_err(|e| self.query_error(e))
    }
}

/// SQLite's messages, with the advice an operator needs for the common ones.
fn explain(error: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    let code = error.sqlite_error_code();
    let advice = match code {
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
    };
    format!("{error}{advice}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::GameRecord;
    use crate::player::Platform;

    const BUSY: Duration = Duration::from_secs(1);

    fn game(platform: Platform, id: &str) -> GameRecord {
        let mut game = GameRecord::new(platform, id, "1. e4 e5 *");
        game.valid = true;
        game.ply_count = Some(2);
        game
    }

    fn player(spec: &str) -> Player {
        spec.parse().unwrap()
    }

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("games.sqlite"), BUSY).unwrap();
        (dir, store)
    }

    #[test]
    fn counts_new_and_duplicate_games_and_links_both_players() {
        let (_dir, mut store) = open();
        let alice = player("lichess:alice");
        let bob = player("lichess:bob");
        let games = [
            game(Platform::Lichess, "aaaaaaaa"),
            game(Platform::Lichess, "bbbbbbbb"),
        ];
        let batch = |player| Batch {
            player,
            games: &games,
            cursor: None,
            month: None,
            ongoing: &[],
            resolved: &[],
        };
        assert_eq!(
            store.write_batch(&batch(&alice)).unwrap(),
            WriteCounts {
                new: 2,
                duplicate: 0
            }
        );
        assert_eq!(
            store.write_batch(&batch(&bob)).unwrap(),
            WriteCounts {
                new: 0,
                duplicate: 2
            }
        );
        let rows: i64 = store
            .conn
            .query_row("SELECT count(*) FROM games", [], |r| r.get(0))
            .unwrap();
        let links: i64 = store
            .conn
            .query_row("SELECT count(*) FROM player_games", [], |r| r.get(0))
            .unwrap();
        assert_eq!((rows, links), (2, 4));
        assert_eq!(store.player_state(&bob).unwrap().stored_games, 2);
        assert_eq!(
            store
                .player_state(&player("lichess:carol"))
                .unwrap()
                .stored_games,
            0
        );
    }

    #[test]
    fn cursors_only_move_forward_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        let alice = player("lichess:alice");
        let bob = player("chesscom:bob");
        {
            let mut store = SqliteStore::open(&path, BUSY).unwrap();
            for cursor in [Cursor::CreatedAt(200), Cursor::CreatedAt(100)] {
                store
                    .write_batch(&Batch {
                        player: &alice,
                        games: &[],
                        cursor: Some(cursor),
                        month: None,
                        ongoing: &[],
                        resolved: &[],
                    })
                    .unwrap();
            }
            store
                .write_batch(&Batch {
                    player: &bob,
                    games: &[],
                    cursor: Some(Cursor::Month("2024/03".into())),
                    month: Some(MonthValidator {
                        month: "2024/03".into(),
                        etag: "W/\"abc\"".into(),
                        last_modified: Some("Friday, 18-Oct-2024 01:24:09 GMT+0000".into()),
                    }),
                    ongoing: &[],
                    resolved: &[],
                })
                .unwrap();
        }
        let mut store = SqliteStore::open(&path, BUSY).unwrap();
        assert_eq!(
            store.player_state(&alice).unwrap().resume.last_created_at,
            Some(200)
        );
        let state = store.player_state(&bob).unwrap();
        assert_eq!(state.resume.last_month.as_deref(), Some("2024/03"));
        assert_eq!(state.resume.months["2024/03"].etag, "W/\"abc\"");
        assert_eq!(
            state.resume.months["2024/03"].last_modified.as_deref(),
            Some("Friday, 18-Oct-2024 01:24:09 GMT+0000")
        );
    }

    #[test]
    fn remembers_ongoing_games_until_resolved() {
        let (_dir, mut store) = open();
        let alice = player("lichess:alice");
        let write = |store: &mut SqliteStore, ongoing: &[String], resolved: &[String]| {
            store
                .write_batch(&Batch {
                    player: &alice,
                    games: &[],
                    cursor: None,
                    month: None,
                    ongoing,
                    resolved,
                })
                .unwrap();
        };
        write(&mut store, &["b2222222".into(), "a1111111".into()], &[]);
        assert_eq!(
            store.player_state(&alice).unwrap().resume.ongoing,
            ["a1111111", "b2222222"]
        );
        write(&mut store, &[], &["a1111111".into()]);
        assert_eq!(
            store.player_state(&alice).unwrap().resume.ongoing,
            ["b2222222"]
        );
        assert!(
            store
                .player_state(&player("lichess:bob"))
                .unwrap()
                .resume
                .ongoing
                .is_empty()
        );
    }

    #[test]
    fn leases_exclude_other_owners_until_they_expire() {
        let (_dir, mut store) = open();
        let alice = player("lichess:alice");
        let long = Duration::from_secs(60);
        assert_eq!(
            store.try_lease(&alice, "one", long).unwrap(),
            Lease::Acquired
        );
        assert_eq!(
            store.try_lease(&alice, "two", long).unwrap(),
            Lease::HeldBy("one".into())
        );
        store.release_lease(&alice, "one").unwrap();
        assert_eq!(
            store.try_lease(&alice, "two", Duration::ZERO).unwrap(),
            Lease::Acquired
        );
        // A lease that has expired no longer excludes anyone.
        assert_eq!(
            store.try_lease(&alice, "three", long).unwrap(),
            Lease::Acquired
        );
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
        let error = SqliteStore::open(&path, BUSY).err().unwrap().to_string();
        assert!(error.contains("notes.txt"), "{error}");
        assert!(error.contains("not a database"), "{error}");
    }

    #[test]
    fn refuses_a_missing_directory() {
        let error = SqliteStore::open(Path::new("/nonexistent-dir/games.sqlite"), BUSY)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("/nonexistent-dir"), "{error}");
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
        let error = SqliteStore::open(&path, BUSY).err().unwrap().to_string();
        assert!(error.contains("newer chess-import"), "{error}");
    }
}
