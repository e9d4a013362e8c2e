//! The reading side of a store, for `status` and `export`: what was imported, and the stored
//! games one at a time. It is a trait so that PostgreSQL can be added beside SQLite behind the
//! same calls; it never writes, and opening it never creates a database.

use std::io;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::SCHEMA_VERSION;
use crate::player::Player;

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

/// Why reading games stopped: the database, or whoever was handed the games.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("database {target}: {reason}")]
    Query { target: String, reason: String },
    #[error(transparent)]
    Write(#[from] io::Error),
}

/// What reading commands ask of a store.
pub trait Catalog {
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
}

/// Opens `target` for reading. A file that does not exist is an error, not a new database.
pub fn open(target: &str, busy_timeout: Duration) -> anyhow::Result<Box<dyn Catalog>> {
    if target.starts_with("postgres://") || target.starts_with("postgresql://") {
        bail!("reading a PostgreSQL target is not supported yet; use an SQLite file path");
    }
    let path = Path::new(target);
    if !path.exists() {
        bail!(
            "database {target} does not exist (import players into it first, or name another \
             with --db)"
        );
    }
    if !path.is_file() {
        bail!("database {target} is not a file");
    }
    let conn = open_sqlite(path, busy_timeout)
        .with_context(|| format!("cannot open database {target}"))?;
    Ok(Box::new(SqliteCatalog {
        conn,
        target: target.to_string(),
    }))
}

/// Opens an existing chess-import database for reading only.
///
/// Read-write without `CREATE` rather than read-only: a missing file is still an error, but the
/// connection, when it is the last one, removes the `-wal` and `-shm` files on closing, where a
/// read-only one would leave them behind. `query_only` keeps it from writing anything, and
/// SQLite falls back to reading alone when the file is write-protected.
fn open_sqlite(path: &Path, busy_timeout: Duration) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "query_only", true)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    match version {
        SCHEMA_VERSION => Ok(conn),
        0 => bail!("it is not a chess-import database"),
        newer if newer > SCHEMA_VERSION => bail!(
            "it has schema version {newer}, written by a newer chess-import (this one knows \
             {SCHEMA_VERSION})"
        ),
        older => bail!("it has schema version {older}; run an import on it to upgrade it"),
    }
}

struct SqliteCatalog {
    conn: Connection,
    target: String,
}

impl SqliteCatalog {
    fn error(&self, error: rusqlite::Error) -> ReadError {
        ReadError::Query {
            target: self.target.clone(),
            reason: error.to_string(),
        }
    }
}

impl Catalog for SqliteCatalog {
    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
        // A player is known from its import state (every finished import records one) or from
        // its games; both sides are read through their primary keys.
        let sql = "
            WITH known AS (
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
            LEFT JOIN import_state s ON s.platform = k.platform AND s.username = k.username
            ORDER BY k.platform, k.username";
        let rows = self.conn.prepare(sql).and_then(|mut statement| {
            statement
                .query_map([], |row| {
                    Ok(PlayerSummary {
                        platform: row.get(0)?,
                        username: row.get(1)?,
                        games: row.get::<_, i64>(2)?.max(0) as u64,
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

    fn for_each_game(
        &mut self,
        filter: &GameFilter,
        each: &mut dyn FnMut(StoredGame<'_>) -> io::Result<()>,
    ) -> Result<u64, ReadError> {
        let (sql, values) = export_query(filter);
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.error(e))?;
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
            // Borrowed straight from SQLite's row buffer: no copy of the PGN is made.
            let game = (|| {
                Ok::<_, rusqlite::Error>(StoredGame {
                    platform: row.get_ref(0)?.as_str()?,
                    game_id: row.get_ref(1)?.as_str()?,
                    played_at: row.get(2)?,
                    pgn: row.get_ref(3)?.as_str()?,
                })
            })();
            let game = game.map_err(|e| ReadError::Query {
                target: self.target.clone(),
                reason: e.to_string(),
            })?;
            each(game)?;
            count += 1;
        }
        Ok(count)
    }
}

/// The export's SQL and its parameters. The rows come in the order of the `played_at` index,
/// so SQLite only ever sorts games that started in the same millisecond.
fn export_query(filter: &GameFilter) -> (String, Vec<Value>) {
    let mut sql = String::from("SELECT platform, game_id, played_at, pgn FROM games g WHERE 1");
    let mut values = Vec::new();
    if let Some(since) = filter.since {
        values.push(Value::Integer(since));
        sql.push_str(&format!(" AND g.played_at >= ?{}", values.len()));
    }
    if let Some(until) = filter.until {
        values.push(Value::Integer(until));
        sql.push_str(&format!(" AND g.played_at < ?{}", values.len()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::GameRecord;
    use crate::player::Platform;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{Batch, Store};

    const BUSY: Duration = Duration::from_secs(1);

    fn game(platform: Platform, id: &str, played_at: Option<i64>) -> GameRecord {
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
                })
                .unwrap();
            store.record_result(&player, None).unwrap();
        };
        let shared = game(Platform::Lichess, "shared01", Some(2_000));
        write(
            &mut store,
            "lichess:alice",
            &[
                game(Platform::Lichess, "alice001", Some(3_000)),
                shared.clone(),
            ],
        );
        write(&mut store, "lichess:bob", &[shared]);
        write(
            &mut store,
            "chesscom:carol",
            &[
                game(Platform::Chesscom, "c-2", Some(1_000)),
                game(Platform::Chesscom, "c-1", Some(1_000)),
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
        let mut catalog = open(target, BUSY).unwrap();
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
        let players = open(&target, BUSY).unwrap().players().unwrap();
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
        let error = open(&other.display().to_string(), BUSY).err().unwrap();
        assert!(
            format!("{error:#}").contains("not a chess-import database"),
            "{error:#}"
        );
        let (dir, target) = database();
        drop(open(&target, BUSY).unwrap().players().unwrap());
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
        let error = open(&path.display().to_string(), BUSY).err().unwrap();
        assert!(error.to_string().contains("does not exist"), "{error}");
        assert!(!path.exists());
        let error = open("postgres://u:secret@host/db", BUSY).err().unwrap();
        assert!(error.to_string().contains("not supported yet"), "{error}");
        assert!(!error.to_string().contains("secret"));
    }
}
