//! The reading side of a PostgreSQL database, for `status` and `export`.

use std::io;
use std::sync::LazyLock;

use anyhow::Context;
use tokio::runtime::Runtime;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, IsolationLevel, Row, Transaction};

use super::{Connection, answered};
use crate::player::Player;
use crate::store::schema::{self, Kind};
use crate::store::{
    Catalog, Cause, GameFilter, Job, LISTED_JOBS, Place, PlayerSummary, QueueSummary, ReadError,
    StoredGame, Value, View, Worker, count,
};

/// How many rows of an export are fetched at once from PostgreSQL: enough to amortise the round
/// trip, few enough that memory stays small however big the PGNs and the export are.
const EXPORT_CHUNK: i32 = 500;

/// Names sort bytewise, as SQLite's `BINARY` collation does, whatever the database's collation.
const POSTGRES_PLAYERS: &str = concat!(
    players_query!(),
    r#" ORDER BY k.platform COLLATE "C", k.username COLLATE "C""#
);

/// The PostgreSQL export of the games' columns `select`, in SQLite's order and in two passes:
/// SQLite sorts games without a start time first, where PostgreSQL would put them last, and a
/// single `NULLS FIRST` query could not follow the `played_at` index. The second pass follows it,
/// so the server only sorts games that started in the same millisecond. Ids compare bytewise, as
/// in SQLite. Parameters: since, until (unix ms, or NULL), and the chosen players' platforms and
/// usernames as two arrays (empty: every game). An `EXISTS` rather than a join, so that a game
/// between two chosen players is written once.
fn games_export(select: &str) -> [String; 2] {
    let pass = |which: &str, order: &str| {
        format!(
            "SELECT {select} FROM games g
             WHERE {which}
               AND ($1::bigint IS NULL OR g.played_at >= $1)
               AND ($2::bigint IS NULL OR g.played_at < $2)
               AND (cardinality($3::text[]) = 0 OR EXISTS (
                   SELECT 1 FROM unnest($3::text[], $4::text[]) AS chosen (platform, username)
                   JOIN player_games pg
                     ON pg.platform = chosen.platform AND pg.username = chosen.username
                   WHERE pg.platform = g.platform AND pg.game_id = g.game_id))
             ORDER BY {order}"
        )
    };
    [
        pass(
            "g.played_at IS NULL",
            r#"g.game_id COLLATE "C", g.platform COLLATE "C""#,
        ),
        pass(
            "g.played_at IS NOT NULL",
            r#"g.played_at, g.game_id COLLATE "C", g.platform COLLATE "C""#,
        ),
    ]
}

/// The PGN export's passes.
static POSTGRES_EXPORT: LazyLock<[String; 2]> =
    LazyLock::new(|| games_export("platform, game_id, played_at, pgn"));

/// The ids of the chosen players' stored games, in no given order, with the export's parameters:
/// from the players' links and the games' primary key, so that no PGN is read.
const GAME_IDS: &str = "SELECT p.game_id FROM player_games p
     JOIN games g ON g.platform = p.platform AND g.game_id = p.game_id
     WHERE (p.platform, p.username) IN (SELECT * FROM unnest($3::text[], $4::text[]))
       AND ($1::bigint IS NULL OR g.played_at >= $1)
       AND ($2::bigint IS NULL OR g.played_at < $2)";

/// The export of `view`'s rows, every column, with the games' parameters and order.
fn rows_query(view: View) -> Vec<String> {
    let select = view.columns().join(", ");
    match view {
        View::Games => games_export(&select).into(),
        View::Players => vec![format!(
            r#"SELECT {select} FROM player_games_view v
               WHERE ($1::bigint IS NULL OR v.played_at >= $1)
                 AND ($2::bigint IS NULL OR v.played_at < $2)
                 AND (cardinality($3::text[]) = 0 OR (v.platform, v.username) IN (
                     SELECT * FROM unnest($3::text[], $4::text[])))
               ORDER BY v.played_at NULLS FIRST, v.game_id COLLATE "C", v.username COLLATE "C""#
        )],
    }
}

/// The `index`th column of `row`, which holds a `kind`.
fn value(
    row: &tokio_postgres::Row,
    index: usize,
    kind: Kind,
) -> Result<Value<'_>, tokio_postgres::Error> {
    let value = match kind {
        Kind::Text => row.try_get::<_, Option<&str>>(index)?.map(Value::Text),
        Kind::Integer => row
            .try_get::<_, Option<i32>>(index)?
            .map(|n| Value::Int(n.into())),
        Kind::BigInt => row.try_get::<_, Option<i64>>(index)?.map(Value::Int),
        Kind::Boolean => row.try_get::<_, Option<bool>>(index)?.map(Value::Bool),
        Kind::Real => row.try_get::<_, Option<f64>>(index)?.map(Value::Real),
    };
    Ok(value.unwrap_or(Value::Null))
}

const QUEUE_COUNTS: &str = "
SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'running'),
       count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed'),
       (SELECT max(estimated_finish) FROM import_queue)
FROM import_jobs";

/// The first `$1` jobs of each status, queued, running and failed, in the order `status` lists
/// them: a queue of a hundred thousand players is counted, not listed.
///
/// A lease has expired once it is in the past (the next worker claims the job a third of a lease
/// later); the past by the server's clock, the one workers write leases with, so a reader on a
/// host with a wrong clock judges them right.
const QUEUE_JOBS: &str = concat!(
    "SELECT * FROM (
     SELECT job.platform, job.username, job.status, job.worker, job.attempts, job.started_at,
         job.lease_expires_at, coalesce(job.lease_expires_at < ",
    transaction_ms!(),
    r#", false), job.finished_at, job.last_error, place.position, place.priority, place.phase,
         place.games_done, place.expected_games, place.progress, place.estimated_start,
         place.estimated_finish,
         row_number() OVER (PARTITION BY job.status ORDER BY place.position NULLS FIRST,
             job.platform COLLATE "C", job.username COLLATE "C") AS listed
     FROM import_jobs AS job
     LEFT JOIN import_queue AS place
         ON place.platform = job.platform AND place.username = job.username
     WHERE job.status IN ('queued', 'running', 'failed')) AS jobs
     WHERE listed <= $1
     ORDER BY position NULLS FIRST, platform COLLATE "C", username COLLATE "C""#
);

/// A worker is dead once its heartbeat has expired, by the server's clock as for leases.
const QUEUE_WORKERS: &str = concat!(
    "SELECT w.worker, w.host, w.pid,
         (SELECT count(*) FROM import_jobs AS job
          WHERE job.status = 'running' AND job.worker = w.worker),
         w.started_at, w.heartbeat_at, w.expires_at < ",
    transaction_ms!(),
    r#"
     FROM import_workers AS w
     ORDER BY w.host COLLATE "C", w.pid, w.worker COLLATE "C""#
);

/// The `import_queue` columns of a [`QUEUE_JOBS`] row, when the job is queued or running.
fn place(row: &Row) -> Result<Option<Place>, tokio_postgres::Error> {
    let Some(expected_games) = row.try_get::<_, Option<i64>>(14)? else {
        return Ok(None);
    };
    let positive = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(Some(Place {
        position: row.try_get::<_, Option<i64>>(10)?.map(positive),
        priority: row.try_get(11)?,
        phase: row.try_get(12)?,
        games_done: row.try_get::<_, Option<i64>>(13)?.map(positive),
        expected_games: positive(expected_games),
        percent: row.try_get::<_, Option<f64>>(15)?.map(percent),
        estimated_start: row.try_get(16)?,
        estimated_finish: row.try_get(17)?,
    }))
}

/// A fraction done as whole percent, floored and capped: never past 100 however far an
/// estimate was exceeded, never below 0.
fn percent(fraction: f64) -> u8 {
    (fraction * 100.0).floor().clamp(0.0, 100.0) as u8
}

/// The reading side of a PostgreSQL database.
///
/// The reading commands are synchronous (the export hands each game to a blocking writer), so
/// the catalog owns a current-thread runtime and blocks on it for each request; the connection's
/// task runs while a request is awaited, which is all the work it has. It must therefore be used
/// outside async code.
pub struct PostgresCatalog {
    connection: Connection,
    runtime: Runtime,
}

/// What an export does with one row: a database error ends the read, a write error too but is
/// told apart.
type EachRow<'e> =
    dyn FnMut(&tokio_postgres::Row) -> Result<io::Result<()>, tokio_postgres::Error> + 'e;

impl PostgresCatalog {
    /// Runs each of `passes` (export queries taking the filter's four parameters) in turn and
    /// hands their rows to `each`. Every pass reads one snapshot, as SQLite's single statement
    /// does: a game an import commits meanwhile is left out of all. Not run again on a lost
    /// connection: the rows handed out so far would be handed out twice.
    fn stream<S: AsRef<str>>(
        &mut self,
        passes: &[S],
        filter: &GameFilter,
        each: &mut EachRow<'_>,
    ) -> Result<u64, ReadError> {
        let platforms: Vec<&str> = filter.players.iter().map(|p| p.platform.as_str()).collect();
        let usernames: Vec<&str> = filter.players.iter().map(Player::username).collect();
        let params: [&(dyn ToSql + Sync); 4] =
            [&filter.since, &filter.until, &platforms, &usernames];
        // The export takes as long as its reader does; each request to the server is bounded.
        let limit = self.connection.answer_timeout();
        let read = self
            .runtime
            .block_on(self.connection.streaming(async |client| {
                let tx = answered(limit, snapshot(client)).await??;
                let mut count = 0;
                for sql in passes {
                    // A portal is a server-side cursor: the rows come `EXPORT_CHUNK` at a time, each
                    // chunk written out before the next is asked for. It and its statement, prepared
                    // by name, are closed at the end of the pass, inside the transaction, as a
                    // transaction pooler needs.
                    let portal = answered(limit, tx.bind(sql.as_ref(), &params)).await??;
                    loop {
                        let rows =
                            answered(limit, tx.query_portal(&portal, EXPORT_CHUNK)).await??;
                        for row in &rows {
                            if let Err(error) = each(row)? {
                                return Ok(Err(error));
                            }
                            count += 1;
                        }
                        // A short chunk is the portal's last.
                        if rows.len() < EXPORT_CHUNK as usize {
                            break;
                        }
                    }
                }
                answered(limit, tx.commit()).await??;
                Ok(Ok(count))
            }));
        match read {
            Ok(written) => Ok(written?),
            Err(cause) => Err(self.query_error(cause)),
        }
    }

    /// Connects to `url`; the errors are the store's (one line, password masked).
    pub fn connect(url: &str) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let connection = runtime.block_on(Connection::open(url, runtime.handle().clone()))?;
        Ok(PostgresCatalog {
            connection,
            runtime,
        })
    }

    /// Runs `work` in a read-only transaction that sees one snapshot throughout, so that what
    /// it reads in several statements agrees; again on a new connection if the server dropped
    /// it midway.
    fn read<T>(
        &mut self,
        mut work: impl AsyncFnMut(&Transaction<'_>) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, ReadError> {
        let result = self
            .runtime
            .block_on(self.connection.retrying(async |client| {
                let tx = snapshot(client).await?;
                let value = work(&tx).await?;
                tx.commit().await?;
                Ok(value)
            }));
        result.map_err(|cause| self.query_error(cause))
    }

    fn query_error(&self, cause: Cause) -> ReadError {
        ReadError::Query {
            target: self.connection.target().to_string(),
            cause,
        }
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

impl Catalog for PostgresCatalog {
    fn target(&self) -> &str {
        self.connection.target()
    }

    fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
        self.read(async |tx| {
            let rows = tx.query_typed(POSTGRES_PLAYERS, &[]).await?;
            rows.iter()
                .map(|row| {
                    Ok(PlayerSummary {
                        platform: row.try_get(0)?,
                        username: row.try_get(1)?,
                        games: count(row.try_get(2)?),
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
        self.stream(&*POSTGRES_EXPORT, filter, &mut |row| {
            // Borrowed from the row: no copy of the PGN is made.
            let game = StoredGame {
                platform: row.try_get(0)?,
                game_id: row.try_get(1)?,
                played_at: row.try_get(2)?,
                pgn: row.try_get(3)?,
            };
            Ok(each(game))
        })
    }

    fn for_each_row(
        &mut self,
        filter: &GameFilter,
        view: View,
        each: &mut dyn FnMut(&[Value<'_>]) -> io::Result<()>,
    ) -> Result<u64, ReadError> {
        let columns = schema::view_columns(view);
        self.stream(&rows_query(view), filter, &mut |row| {
            let cells = columns
                .iter()
                .enumerate()
                .map(|(index, &(_, kind))| value(row, index, kind))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(each(&cells))
        })
    }

    /// The ids alone, streamed as an export is: no PGN is read.
    fn for_each_game_id(
        &mut self,
        player: &Player,
        each: &mut dyn FnMut(&str),
    ) -> Result<u64, ReadError> {
        let filter = GameFilter {
            players: vec![player.clone()],
            ..GameFilter::default()
        };
        self.stream(&[GAME_IDS], &filter, &mut |row| {
            each(row.try_get(0)?);
            Ok(Ok(()))
        })
    }

    fn queue(&mut self) -> Result<Option<QueueSummary>, ReadError> {
        self.read(async |tx| {
            let counts = tx.query_typed_one(QUEUE_COUNTS, &[]).await?;
            let column = |index| counts.try_get(index).map(count);
            let mut queue = QueueSummary {
                queued: column(0)?,
                running: column(1)?,
                done: column(2)?,
                failed: column(3)?,
                drains_at: counts.try_get(4)?,
                ..QueueSummary::default()
            };
            let listed = i64::try_from(LISTED_JOBS).unwrap_or(i64::MAX);
            for row in tx.query_typed(QUEUE_JOBS, &[(&listed, Type::INT8)]).await? {
                let job = Job {
                    platform: row.try_get(0)?,
                    username: row.try_get(1)?,
                    worker: row.try_get(3)?,
                    attempts: u32::try_from(row.try_get::<_, i32>(4)?).unwrap_or(0),
                    started_at: row.try_get(5)?,
                    lease_expires_at: row.try_get(6)?,
                    lease_expired: row.try_get(7)?,
                    finished_at: row.try_get(8)?,
                    last_error: row.try_get(9)?,
                    place: place(&row)?,
                };
                match row.try_get::<_, &str>(2)? {
                    "queued" => queue.queued_jobs.push(job),
                    "running" => queue.running_jobs.push(job),
                    _ => queue.failed_jobs.push(job),
                }
            }
            for row in tx.query_typed(QUEUE_WORKERS, &[]).await? {
                queue.workers.push(Worker {
                    worker: row.try_get(0)?,
                    host: row.try_get(1)?,
                    pid: row.try_get(2)?,
                    jobs: count(row.try_get(3)?),
                    started_at: row.try_get(4)?,
                    heartbeat_at: row.try_get(5)?,
                    dead: row.try_get(6)?,
                });
            }
            Ok(Some(queue))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::percent;

    #[test]
    fn progress_is_capped_to_whole_percent_between_0_and_100() {
        assert_eq!(percent(0.615), 61);
        assert_eq!(percent(1.0), 100);
        assert_eq!(percent(1.7), 100);
        assert_eq!(percent(-0.2), 0);
        assert_eq!(percent(f64::NAN), 0);
    }

    use crate::store::open_catalog;

    #[test]
    fn names_an_unreachable_server_without_its_password() {
        // Nothing listens on port 1: the connection is refused at once.
        let error = open_catalog("postgres://u:secret@127.0.0.1:1/db", Duration::from_secs(1))
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
