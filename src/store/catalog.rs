//! The reading side of a store, for `status` and `export`: what was imported, the job queue and
//! the stored games one at a time, from SQLite or PostgreSQL behind the same calls. It never
//! writes games, and opening it never creates a database (on PostgreSQL, connecting sets up the
//! tables of an existing empty database, as every connection of this program does).

use std::io;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, IsolationLevel, Transaction};

use super::SCHEMA_VERSION;
use super::postgres::{PostgresStore, explain};
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

/// The job queue (`import_jobs`) as `status` shows it: how many jobs are in each state, and the
/// running and failed ones, each by platform then username.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueSummary {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    pub running_jobs: Vec<Job>,
    pub failed_jobs: Vec<Job>,
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

    /// The job queue, for stores that have one (PostgreSQL, where workers share it); `None`
    /// for the others.
    fn queue(&mut self) -> Result<Option<QueueSummary>, ReadError> {
        Ok(None)
    }
}

/// Opens `target` for reading. A file that does not exist is an error, not a new database; so is
/// a PostgreSQL database that does not exist. Call it outside async code: a PostgreSQL catalog
/// runs its own runtime.
pub fn open(target: &str, busy_timeout: Duration) -> anyhow::Result<Box<dyn Catalog>> {
    if super::is_postgres_url(target) {
        return Ok(Box::new(PostgresCatalog::connect(target)?));
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

/// Every imported player with its games and last outcome, in SQL both databases speak; each
/// appends its own `ORDER BY`. A player is known from its import state (every finished import
/// records one) or from its games; both sides are read through their primary keys.
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

const SQLITE_PLAYERS: &str = concat!(players_query!(), " ORDER BY k.platform, k.username");

impl Catalog for SqliteCatalog {
    fn target(&self) -> &str {
        &self.target
    }

    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
        let rows = self.conn.prepare(SQLITE_PLAYERS).and_then(|mut statement| {
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

/// How many rows of an export are fetched at once from PostgreSQL: enough to amortise the round
/// trip, few enough that memory stays small however big the PGNs and the export are.
const EXPORT_CHUNK: i32 = 500;

/// Names sort bytewise, as SQLite's `BINARY` collation does, whatever the database's collation.
const POSTGRES_PLAYERS: &str = concat!(
    players_query!(),
    r#" ORDER BY k.platform COLLATE "C", k.username COLLATE "C""#
);

/// One pass of the PostgreSQL export. Parameters: since, until (unix ms, or NULL), and the
/// chosen players' platforms and usernames as two arrays (empty: every game). An `EXISTS`
/// rather than a join, so that a game between two chosen players is written once.
macro_rules! postgres_export {
    ($which:literal, $order:literal) => {
        concat!(
            "SELECT platform, game_id, played_at, pgn FROM games g
             WHERE ",
            $which,
            "
               AND ($1::bigint IS NULL OR g.played_at >= $1)
               AND ($2::bigint IS NULL OR g.played_at < $2)
               AND (cardinality($3::text[]) = 0 OR EXISTS (
                   SELECT 1 FROM unnest($3::text[], $4::text[]) AS chosen (platform, username)
                   JOIN player_games pg
                     ON pg.platform = chosen.platform AND pg.username = chosen.username
                   WHERE pg.platform = g.platform AND pg.game_id = g.game_id))
             ORDER BY ",
            $order
        )
    };
}

/// SQLite's export order in two passes: SQLite sorts games without a start time first, where
/// PostgreSQL would put them last, and a single `NULLS FIRST` query could not follow the
/// `played_at` index. The second pass follows it, so the server only sorts games that started
/// in the same millisecond. Ids compare bytewise, as in SQLite.
const POSTGRES_EXPORT: [&str; 2] = [
    postgres_export!(
        "g.played_at IS NULL",
        r#"g.game_id COLLATE "C", g.platform COLLATE "C""#
    ),
    postgres_export!(
        "g.played_at IS NOT NULL",
        r#"g.played_at, g.game_id COLLATE "C", g.platform COLLATE "C""#
    ),
];

const QUEUE_COUNTS: &str = "
SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'running'),
       count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed')
FROM import_jobs";

/// A lease has expired once it is in the past, the rule by which the next worker claims the job
/// again; the past by the server's clock, the one workers write leases with, so a reader on a
/// host with a wrong clock judges them right.
const QUEUE_JOBS: &str = r#"
SELECT platform, username, status, worker, attempts, started_at, lease_expires_at,
       coalesce(lease_expires_at < (floor(extract(epoch FROM now()) * 1000))::bigint, false),
       finished_at, last_error
FROM import_jobs
WHERE status IN ('running', 'failed')
ORDER BY platform COLLATE "C", username COLLATE "C""#;

/// The reading side of a PostgreSQL database.
///
/// The reading commands are synchronous (the export hands each game to a blocking writer), so
/// the catalog owns a current-thread runtime and blocks on it for each request; the connection's
/// task runs while a request is awaited, which is all the work it has. It must therefore be used
/// outside async code.
struct PostgresCatalog {
    client: Client,
    target: String,
    runtime: Runtime,
}

impl PostgresCatalog {
    /// Connects to `url`; the errors are the store's (one line, password masked).
    fn connect(url: &str) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let (client, target) = runtime.block_on(PostgresStore::connect_client(url))?;
        Ok(PostgresCatalog {
            client,
            target,
            runtime,
        })
    }

    /// Runs `work` in a read-only transaction that sees one snapshot throughout, so that what
    /// it reads in several statements agrees.
    fn read<T>(
        &mut self,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, ReadError> {
        let PostgresCatalog {
            client,
            target,
            runtime,
        } = self;
        let result = runtime.block_on(async {
            let tx = snapshot(client).await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        });
        result.map_err(|error| query_error(target, error))
    }
}

/// A read-only transaction in which every statement sees the snapshot of the first (repeatable
/// read), whatever imports commit meanwhile.
async fn snapshot(client: &mut Client) -> Result<Transaction<'_>, tokio_postgres::Error> {
    client
        .build_transaction()
        .read_only(true)
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()
        .await
}

fn query_error(target: &str, error: tokio_postgres::Error) -> ReadError {
    ReadError::Query {
        target: target.to_string(),
        reason: explain(error),
    }
}

impl Catalog for PostgresCatalog {
    fn target(&self) -> &str {
        &self.target
    }

    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
        self.read(async |tx| {
            let rows = tx.query(POSTGRES_PLAYERS, &[]).await?;
            rows.iter()
                .map(|row| {
                    Ok(PlayerSummary {
                        platform: row.try_get(0)?,
                        username: row.try_get(1)?,
                        games: row.try_get::<_, i64>(2)?.max(0) as u64,
                        newest_game_at: row.try_get(3)?,
                        last_success_at: row.try_get(4)?,
                        last_attempt_at: row.try_get(5)?,
                        last_error: row.try_get(6)?,
                    })
                })
                .collect()
        })
    }

    fn for_each_game(
        &mut self,
        filter: &GameFilter,
        each: &mut dyn FnMut(StoredGame<'_>) -> io::Result<()>,
    ) -> Result<u64, ReadError> {
        let platforms: Vec<&str> = filter.players.iter().map(|p| p.platform.as_str()).collect();
        let usernames: Vec<&str> = filter.players.iter().map(Player::username).collect();
        let params: [&(dyn ToSql + Sync); 4] =
            [&filter.since, &filter.until, &platforms, &usernames];
        let PostgresCatalog {
            client,
            target,
            runtime,
        } = self;
        let error = |error: tokio_postgres::Error| query_error(target, error);
        // Both passes read one snapshot, as SQLite's single statement does: a game an import
        // commits meanwhile is left out of both.
        let tx = runtime.block_on(snapshot(client)).map_err(error)?;
        let mut count = 0;
        for sql in POSTGRES_EXPORT {
            // A portal is a server-side cursor: the rows come `EXPORT_CHUNK` at a time, each
            // chunk written out before the next is asked for.
            let portal = runtime.block_on(tx.bind(sql, &params)).map_err(error)?;
            loop {
                let rows = runtime
                    .block_on(tx.query_portal(&portal, EXPORT_CHUNK))
                    .map_err(error)?;
                for row in &rows {
                    // Borrowed from the row: no copy of the PGN is made.
                    let game = StoredGame {
                        platform: row.try_get(0).map_err(error)?,
                        game_id: row.try_get(1).map_err(error)?,
                        played_at: row.try_get(2).map_err(error)?,
                        pgn: row.try_get(3).map_err(error)?,
                    };
                    each(game)?;
                    count += 1;
                }
                // A short chunk is the portal's last.
                if rows.len() < EXPORT_CHUNK as usize {
                    break;
                }
            }
        }
        runtime.block_on(tx.commit()).map_err(error)?;
        Ok(count)
    }

    fn queue(&mut self) -> Result<Option<QueueSummary>, ReadError> {
        self.read(async |tx| {
            let counts = tx.query_one(QUEUE_COUNTS, &[]).await?;
            let count = |index| counts.try_get::<_, i64>(index).map(|n| n.max(0) as u64);
            let mut queue = QueueSummary {
                queued: count(0)?,
                running: count(1)?,
                done: count(2)?,
                failed: count(3)?,
                ..QueueSummary::default()
            };
            for row in tx.query(QUEUE_JOBS, &[]).await? {
                let job = Job {
                    platform: row.try_get(0)?,
                    username: row.try_get(1)?,
                    worker: row.try_get(3)?,
                    attempts: row.try_get::<_, i32>(4)?.max(0) as u32,
                    started_at: row.try_get(5)?,
                    lease_expires_at: row.try_get(6)?,
                    lease_expired: row.try_get(7)?,
                    finished_at: row.try_get(8)?,
                    last_error: row.try_get(9)?,
                };
                match row.try_get::<_, &str>(2)? {
                    "running" => queue.running_jobs.push(job),
                    _ => queue.failed_jobs.push(job),
                }
            }
            Ok(Some(queue))
        })
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
    }

    #[test]
    fn names_an_unreachable_server_without_its_password() {
        // Nothing listens on port 1: the connection is refused at once.
        let error = open("postgres://u:secret@127.0.0.1:1/db", BUSY)
            .err()
            .unwrap();
        let error = format!("{error:#}");
        assert!(
            error.starts_with(
                "cannot open database postgres://u:***@127.0.0.1:1/db: cannot connect to \
                 127.0.0.1:1"
            ),
            "{error}"
        );
        assert!(
            !error.contains("secret") && !error.contains('\n'),
            "{error}"
        );
    }
}
