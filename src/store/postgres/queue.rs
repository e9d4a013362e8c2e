//! The import queue many workers on many machines share, kept in PostgreSQL's `import_jobs`:
//! `enqueue` adds players, each `worker` claims them with `FOR UPDATE SKIP LOCKED`, holds a lease
//! it renews while it works, and marks them done or failed. A job whose worker died is claimed
//! again after its lease has expired; the store's cursor, committed with the games, makes the
//! second attempt continue where the first stopped.
//!
//! A worker holds one connection to the queue, shared by its claims, its heartbeat (leases and
//! `import_workers`) and its running jobs' progress ([`super::progress`]), and replaced when the
//! server drops it; and one that listens for new jobs ([`super::listen`]). A worker that cannot reach the queue for
//! [`MAX_FAILURES`] requests in a row stops with an error rather than polling a dead server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_postgres::types::{ToSql, Type};
use tokio_util::sync::CancellationToken;

use super::listen::Wakeups;
use super::progress::{JobProgress, report_progress};
use super::{Connection, Params, Rerun};
use crate::import::Jobs;
use crate::lease;
use crate::player::{Platform, Player};
use crate::report::{PlayerReport, PlayerStatus, Retry};
use crate::store::schema::last_served;
use crate::store::{Cause, StoreError, millis};

/// Players keep the order they were enqueued in: `seq` grows with every insert, and a player
/// queued again after it ended goes to the back. A player still queued stays one job, raised
/// to the higher priority and the earlier time of the two, and given the new `--every`; one
/// running is left alone (see [`RESCHEDULE`]). A queued job keeps its last run's outcome (a
/// recurring job waiting for its next run) until that run ends.
const ENQUEUE: &str = concat!(
    "INSERT INTO import_jobs
         (platform, username, status, enqueued_at, available_at, priority, requested_by,
          every_ms)
     SELECT platform, username, 'queued', ",
    statement_ms!(),
    ", greatest(",
    statement_ms!(),
    ", coalesce($3::bigint, 0)), $4::integer, $5::text, $6::bigint
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS new (platform, username, position)
     ORDER BY position
     ON CONFLICT (platform, username) DO UPDATE SET
         seq = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.seq ELSE excluded.seq END,
         status = 'queued', worker = NULL, attempts = 0,
         enqueued_at = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.enqueued_at
                       ELSE excluded.enqueued_at END,
         available_at = CASE WHEN import_jobs.status = 'queued'
                        THEN least(import_jobs.available_at, excluded.available_at)
                        ELSE excluded.available_at END,
         priority = CASE WHEN import_jobs.status = 'queued'
                    THEN greatest(import_jobs.priority, excluded.priority)
                    ELSE excluded.priority END,
         requested_by = coalesce(excluded.requested_by, import_jobs.requested_by),
         every_ms = coalesce(excluded.every_ms, import_jobs.every_ms),
         started_at = NULL, lease_expires_at = NULL,
         finished_at = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.finished_at END,
         new_games = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.new_games END,
         last_error = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.last_error END,
         note = CASE WHEN import_jobs.status = 'queued' THEN import_jobs.note END
     WHERE import_jobs.status IN ('queued', 'done', 'failed')
       AND (import_jobs.status <> 'queued' OR excluded.priority > import_jobs.priority
            OR excluded.available_at < import_jobs.available_at
            OR excluded.every_ms <> coalesce(import_jobs.every_ms, 0))"
);

/// Gives running jobs among the enqueued players the new `--every` (`$6`; the parameters are
/// [`ENQUEUE`]'s): they finish as they are, and are queued again on the new schedule.
const RESCHEDULE: &str = "UPDATE import_jobs SET every_ms = $6
     FROM unnest($1::text[], $2::text[]) AS new (platform, username)
     WHERE import_jobs.platform = new.platform AND import_jobs.username = new.username
       AND import_jobs.status = 'running' AND import_jobs.every_ms IS DISTINCT FROM $6";

/// The namespace of the requesters' advisory locks (the two-key form, apart from the
/// migrations' one-key lock): the bytes spell "reqs".
const REQUESTER_LOCK: i32 = 0x7265_7173;

const LOCK_REQUESTER: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

const HELD: &str =
    "SELECT count(*) FROM import_jobs WHERE requested_by = $1 AND status IN ('queued', 'running')";

/// Takes the next job (the first of `import_queue`'s order, which mirrors this one): the highest
/// priority first, within it the requester served least
/// recently (so that one requester's 500 players never starve another's one; jobs without a
/// requester count as one requester), then the oldest. A job is ready when it is queued and
/// available, or running with a lease expired for a third of a lease (`$3`, this worker's): the
/// dead worker's lease on the player, which its writer thread renews on a timer of its own and
/// behind the batches it writes, has then expired too, and the job is not taken only to find
/// the player still held.
const CLAIM: &str = concat!(
    "WITH next AS (
         SELECT platform, username FROM import_jobs AS job
         WHERE platform = ANY($2::text[])
           AND ((status = 'queued' AND available_at <= ",
    statement_ms!(),
    ") OR (status = 'running' AND lease_expires_at < ",
    statement_ms!(),
    " - $3::bigint / 3))
         ORDER BY priority DESC, ",
    last_served!(),
    " NULLS FIRST, seq
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
     UPDATE import_jobs AS job SET status = 'running', worker = $1, attempts = job.attempts + 1,
         started_at = ",
    statement_ms!(),
    ", lease_expires_at = ",
    statement_ms!(),
    " + $3, phase = 'fetching', games_done = 0, games_total = NULL, progress_at = ",
    statement_ms!(),
    "
     FROM next
     WHERE job.platform = next.platform AND job.username = next.username
     RETURNING job.platform, job.username, job.attempts"
);

/// Renews the leases of the worker's (`$1`) jobs for `$2` ms, and says it is alive in
/// `import_workers` (host `$3`, pid `$4`) until as long. Workers whose heartbeat stopped a day
/// ago are forgotten: `status` shows a dead one for that long, and the table stays as small as
/// the workers of a day.
const HEARTBEAT: &str = concat!(
    "WITH renewed AS (
         UPDATE import_jobs SET lease_expires_at = ",
    statement_ms!(),
    " + $2 WHERE worker = $1 AND status = 'running'),
     forgotten AS (
         DELETE FROM import_workers WHERE worker <> $1 AND expires_at < ",
    statement_ms!(),
    " - 86400000)
     INSERT INTO import_workers (worker, host, pid, started_at, heartbeat_at, expires_at)
     VALUES ($1, $3, $4, ",
    statement_ms!(),
    ", ",
    statement_ms!(),
    ", ",
    statement_ms!(),
    " + $2)
     ON CONFLICT (worker) DO UPDATE SET
         heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at"
);

/// A worker that ends cleanly leaves the table: only dead ones linger.
const LEAVE: &str = "DELETE FROM import_workers WHERE worker = $1";

/// Ends a job: `done` or `failed` (`$4`), with its outcome: new games, the error of a failed
/// one, the note of a done one (`$7`: why nothing was fetched). A recurring job is queued again
/// instead, `every_ms` after this moment, at the back of the queue, for a new round of attempts;
/// the outcome stays in the row while it waits.
const FINISH: &str = concat!(
    "UPDATE import_jobs SET
         status = CASE WHEN every_ms IS NULL THEN $4 ELSE 'queued' END,
         seq = CASE WHEN every_ms IS NULL THEN seq
               ELSE nextval(pg_get_serial_sequence('import_jobs', 'seq')) END,
         available_at = CASE WHEN every_ms IS NULL THEN available_at ELSE now.ms + every_ms END,
         attempts = CASE WHEN every_ms IS NULL THEN attempts ELSE 0 END,
         worker = CASE WHEN every_ms IS NULL THEN worker END,
         finished_at = now.ms, new_games = $5, last_error = $6, note = $7,
         lease_expires_at = NULL, phase = NULL
     FROM (SELECT ",
    statement_ms!(),
    " AS ms) AS now
     WHERE platform = $1 AND username = $2 AND worker = $3 AND status = 'running'"
);

/// Puts a job back for `$4` ms later, giving back `$6` attempts (1 for one that did not really
/// run, held by an `import` or interrupted).
const REQUEUE: &str = concat!(
    "UPDATE import_jobs SET status = 'queued', worker = NULL, lease_expires_at = NULL, phase = NULL,
         attempts = greatest(attempts - $6::integer, 0), available_at = ",
    statement_ms!(),
    " + $4, last_error = $5
     WHERE platform = $1 AND username = $2 AND worker = $3 AND status = 'running'"
);

/// Jobs a `--once` worker stays for: running ones (a dead worker's may come back), and queued
/// ones due within a poll (`$1`), such as a player an `import` held. One put off for longer, as
/// after its provider was down, waits for a later run rather than keeping a cron job alive.
const PENDING: &str = concat!(
    "SELECT count(*) FROM import_jobs
     WHERE status = 'running' OR (status = 'queued' AND available_at <= ",
    statement_ms!(),
    " + $1::bigint)"
);

/// The first wait of a job that failed for a transient reason, before its second attempt.
const FIRST_BACKOFF: Duration = Duration::from_secs(60);
/// The longest wait between two attempts of a job, whatever a provider asks.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);

/// How long a job that failed for a transient reason at its `attempts`th attempt waits for the
/// next: [`FIRST_BACKOFF`], doubling with each attempt, and never sooner than the provider may
/// answer again (`after`: it is down, or asked for a pause); at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32, after: Option<Duration>) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .max(after.unwrap_or_default())
        .min(MAX_BACKOFF)
}

/// The parameters of [`FINISH`].
fn finish_params<'p>(
    platform: &'p (dyn ToSql + Sync),
    username: &'p (dyn ToSql + Sync),
    worker: &'p (dyn ToSql + Sync),
    status: &'p (dyn ToSql + Sync),
    new_games: &'p Option<i64>,
    error: &'p Option<String>,
    note: &'p Option<String>,
) -> [(&'p (dyn ToSql + Sync), Type); 7] {
    [
        (platform, Type::TEXT),
        (username, Type::TEXT),
        (worker, Type::TEXT),
        (status, Type::TEXT),
        (new_games, Type::INT8),
        (error, Type::TEXT),
        (note, Type::TEXT),
    ]
}

/// How many requests to the queue in a row may fail before the worker stops. Each failure has
/// already spent about three seconds trying to connect again, so, with the polls between them,
/// the server has been gone for ten seconds or more: it is not coming back soon. A worker that
/// stops with the reason is seen by whatever runs it (cron, systemd), where one that kept polling
/// would only log a warning forever.
pub const MAX_FAILURES: u32 = 3;

/// What `enqueue` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Enqueued {
    /// Players added, queued again after they were done or failed, raised to a higher
    /// priority or an earlier time, or given a new `--every`.
    pub queued: u64,
    /// Players already queued (as high and as soon) or running, left as they were.
    pub unchanged: u64,
}

/// Adds `players` to the queue at `url`, in order; a player already queued or running is left
/// alone. With `max_queued` and a requester, all or none: an enqueue that would leave the
/// requester more than `max_queued` jobs queued or running queues none of its players.
pub async fn enqueue(
    url: &str,
    players: &[Player],
    job: &JobSpec,
    max_queued: Option<u64>,
) -> Result<Result<Enqueued, Refused>, StoreError> {
    let mut connection = Connection::open(url, Handle::current()).await?;
    let platforms: Vec<&str> = players.iter().map(|p| p.platform.as_str()).collect();
    let usernames: Vec<&str> = players.iter().map(Player::username).collect();
    let limit = job.requested_by.as_deref().zip(max_queued);
    // Once: after a lost connection the players may be queued, and a second run would count
    // them as unchanged.
    let queued = connection
        .once(async |client| {
            let tx = client.transaction().await?;
            // Two enqueues for one requester count its jobs one after the other, so that both
            // cannot find room for the same last place. A transaction's lock, which a
            // transaction pooler keeps on the one server connection that runs it.
            let held = match limit {
                Some((requester, _)) => {
                    let lock: [(&(dyn ToSql + Sync), Type); 2] =
                        [(&REQUESTER_LOCK, Type::INT4), (&requester, Type::TEXT)];
                    tx.execute_typed(LOCK_REQUESTER, &lock).await?;
                    held_jobs(&tx, requester).await?
                }
                None => 0,
            };
            let every = job.every.map(millis);
            let params: [(&(dyn ToSql + Sync), Type); 6] = [
                (&platforms, Type::TEXT_ARRAY),
                (&usernames, Type::TEXT_ARRAY),
                (&job.not_before, Type::INT8),
                (&job.priority, Type::INT4),
                (&job.requested_by, Type::TEXT),
                (&every, Type::INT8),
            ];
            let mut queued = tx.execute_typed(ENQUEUE, &params).await?;
            if every.is_some() {
                queued += tx.execute_typed(RESCHEDULE, &params).await?;
            }
            if let Some((requester, max)) = limit {
                // Counted after the fact, so that a player the requester already has, or one
                // another requester's job holds, counts as what the enqueue made of it.
                let after = held_jobs(&tx, requester).await?;
                if after > max && after > held {
                    tx.rollback().await?;
                    return Ok(Err(Refused {
                        requested_by: requester.to_string(),
                        held,
                        more: after - held,
                        max,
                    }));
                }
            }
            tx.commit().await?;
            Ok(Ok(queued))
        })
        .await
        .map_err(|cause| StoreError::Query {
            target: connection.target().to_string(),
            cause,
        })?;
    Ok(queued.map(|queued| Enqueued {
        queued,
        unchanged: (players.len() as u64).saturating_sub(queued),
    }))
}

/// The requester's jobs queued or running.
async fn held_jobs(tx: &tokio_postgres::Transaction<'_>, requester: &str) -> Result<u64, Cause> {
    let row = tx
        .query_typed_one(HELD, &[(&requester, Type::TEXT)])
        .await?;
    let held: i64 = row.try_get(0)?;
    Ok(u64::try_from(held).unwrap_or(0))
}

/// Why `enqueue` queued none of its players: they would have left the requester more jobs
/// queued or running than `--max-queued-per-requester` allows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error(
    "refused: {requested_by} has {held} jobs queued or running, and {more} more would pass \
     --max-queued-per-requester {max}; nothing was queued"
)]
pub struct Refused {
    pub requested_by: String,
    /// The requester's jobs queued or running before this enqueue.
    pub held: u64,
    /// How many more this enqueue would have made.
    pub more: u64,
    pub max: u64,
}

/// The players given to `dequeue` or `requeue`, in order (`$1`, `$2`); with none, `requeue`'s
/// are every failed job, in queue order.
const GIVEN: &str = "WITH given AS (
         SELECT platform, username, position
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS given (platform, username, position)
         UNION ALL
         SELECT platform, username, seq FROM import_jobs
         WHERE $3 AND cardinality($1::text[]) = 0 AND status = 'failed')";

/// What became of each given player, in order: `$4` when the change above took its job, else
/// the job's status as it was, or `none`.
const OUTCOMES: &str = "SELECT given.platform, given.username,
         CASE WHEN changed.username IS NOT NULL THEN $4
              ELSE coalesce((SELECT status FROM import_jobs AS job
                             WHERE job.platform = given.platform
                               AND job.username = given.username), 'none') END
     FROM given LEFT JOIN changed USING (platform, username)
     ORDER BY given.position";

/// Removes queued jobs. A running one is left to finish, but not queued again if it recurs.
const DEQUEUE: &str = ",
     changed AS (
         DELETE FROM import_jobs AS job USING given
         WHERE job.platform = given.platform AND job.username = given.username
           AND job.status = 'queued'
         RETURNING job.platform, job.username),
     finishing AS (
         UPDATE import_jobs AS job SET every_ms = NULL FROM given
         WHERE job.platform = given.platform AND job.username = given.username
           AND job.status = 'running' AND job.every_ms IS NOT NULL)
     ";

/// Puts failed jobs back, due now, at the back of the queue, for a new round of attempts; their
/// last error stays until the next run ends.
const REQUEUE_FAILED: &str = concat!(
    ",
     changed AS (
         UPDATE import_jobs AS job SET status = 'queued', worker = NULL, attempts = 0,
             seq = nextval(pg_get_serial_sequence('import_jobs', 'seq')),
             enqueued_at = ",
    statement_ms!(),
    ", available_at = ",
    statement_ms!(),
    ", started_at = NULL, lease_expires_at = NULL
         FROM given
         WHERE job.platform = given.platform AND job.username = given.username
           AND job.status = 'failed'
         RETURNING job.platform, job.username)
     "
);

/// What `dequeue` or `requeue` did to one player's job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JobChange {
    pub platform: String,
    pub username: String,
    /// `removed` or `requeued` when the command changed the job, else the job's status
    /// (`queued`, `running`, `done`, `failed`), or `none` when the player has no job.
    pub outcome: String,
}

/// Removes the players' queued jobs; running ones finish, and are not queued again.
pub async fn dequeue(url: &str, players: &[Player]) -> Result<Vec<JobChange>, StoreError> {
    change_jobs(url, players, Change::Dequeue).await
}

/// Puts the players' failed jobs back in the queue; every failed job when `players` is empty.
pub async fn requeue_failed(url: &str, players: &[Player]) -> Result<Vec<JobChange>, StoreError> {
    change_jobs(url, players, Change::RequeueFailed).await
}

/// What `dequeue` and `requeue` do to the jobs of their players.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Change {
    Dequeue,
    RequeueFailed,
}

impl Change {
    /// The statement's `changed` step.
    fn step(self) -> &'static str {
        match self {
            Change::Dequeue => DEQUEUE,
            Change::RequeueFailed => REQUEUE_FAILED,
        }
    }

    /// The outcome of a job it changed.
    fn outcome(self) -> &'static str {
        match self {
            Change::Dequeue => "removed",
            Change::RequeueFailed => "requeued",
        }
    }
}

/// Makes `change` to the jobs of `players`, telling what it did to each.
async fn change_jobs(
    url: &str,
    players: &[Player],
    change: Change,
) -> Result<Vec<JobChange>, StoreError> {
    let mut connection = Connection::open(url, Handle::current()).await?;
    let platforms: Vec<&str> = players.iter().map(|p| p.platform.as_str()).collect();
    let usernames: Vec<&str> = players.iter().map(Player::username).collect();
    let every_failed = change == Change::RequeueFailed;
    let outcome = change.outcome();
    let sql = format!("{GIVEN}{}{OUTCOMES}", change.step());
    let params: [(&(dyn ToSql + Sync), Type); 4] = [
        (&platforms, Type::TEXT_ARRAY),
        (&usernames, Type::TEXT_ARRAY),
        (&every_failed, Type::BOOL),
        (&outcome, Type::TEXT),
    ];
    // Never again: a second run would tell of the jobs the first changed as it left them.
    let rows = connection
        .query(&sql, &params, Rerun::Never)
        .await
        .map_err(|cause| StoreError::Query {
            target: connection.target().to_string(),
            cause,
        })?;
    rows.iter()
        .map(|row| {
            Ok(JobChange {
                platform: row.try_get(0)?,
                username: row.try_get(1)?,
                outcome: row.try_get(2)?,
            })
        })
        .collect::<Result<_, tokio_postgres::Error>>()
        .map_err(|error| StoreError::Query {
            target: connection.target().to_string(),
            cause: error.into(),
        })
}

/// What an enqueued job asks for, besides its player.
#[derive(Clone, Debug, Default)]
pub struct JobSpec {
    /// Higher runs first.
    pub priority: i32,
    /// Who asked (an application's user id): within a priority, requesters are served in turn.
    pub requested_by: Option<String>,
    /// Not claimed before this instant (unix ms).
    pub not_before: Option<i64>,
    /// Recurring: queued again this long after each run ends.
    pub every: Option<Duration>,
}

/// How a worker takes its players from the queue.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Who the worker is, in `import_jobs.worker` (host, pid, tag).
    pub worker: String,
    /// How long a claimed job stays the worker's without renewal.
    pub lease: Duration,
    /// How often an idle worker looks for new jobs, besides when it is told one was queued.
    pub poll: Duration,
    /// Stop once the queue is drained instead of waiting for more.
    pub once: bool,
    /// How many attempts a job failing for transient reasons gets before it fails for good.
    pub max_attempts: u32,
}

/// Why a worker stopped taking jobs before the queue was drained.
#[derive(Debug, thiserror::Error)]
#[error("the worker stopped: {failures} requests in a row to the job queue failed")]
pub struct QueueLost {
    failures: u32,
    #[source]
    last: StoreError,
}

/// Where a [`JobQueue`] leaves the reason it stopped early: the import run takes the queue, so
/// the worker keeps this to ask afterwards.
#[derive(Clone, Debug, Default)]
pub struct Stopped(Arc<Mutex<Option<QueueLost>>>);

impl Stopped {
    pub fn take(&self) -> Option<QueueLost> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn set(&self, lost: QueueLost) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(lost);
    }
}

/// The queue as one worker sees it: a source of players for [`crate::import::run`].
pub struct JobQueue {
    /// Shared with the heartbeat, which renews the leases between the worker's own requests.
    connection: Arc<tokio::sync::Mutex<Connection>>,
    target: String,
    options: WorkerOptions,
    heartbeat: JoinHandle<()>,
    progress: JobProgress,
    /// Writes `progress` into the running jobs' rows.
    reporter: JoinHandle<()>,
    /// Come when a job is queued, so that an idle worker need not wait for its next poll.
    wakeups: Wakeups,
    /// How many requests in a row failed, and why the last one did.
    failing: Option<(u32, Cause)>,
    /// The jobs this worker runs, with how many attempts each has had, this one included.
    claimed: HashMap<(Platform, String), u32>,
    stopped: Stopped,
}

impl JobQueue {
    pub async fn open(url: &str, options: WorkerOptions) -> Result<Self, StoreError> {
        let connection = Connection::open(url, Handle::current()).await?;
        let target = connection.target().to_string();
        let connection = Arc::new(tokio::sync::Mutex::new(connection));
        let heartbeat = tokio::spawn(heartbeat(
            connection.clone(),
            options.worker.clone(),
            options.lease,
        ));
        let wakeups = Wakeups::start(
            url,
            Handle::current(),
            connection.clone(),
            &options.worker,
            options.poll,
        );
        let progress = JobProgress::default();
        let reporter = tokio::spawn(report_progress(
            connection.clone(),
            options.worker.clone(),
            progress.clone(),
        ));
        Ok(JobQueue {
            connection,
            target,
            options,
            heartbeat,
            progress,
            reporter,
            wakeups,
            failing: None,
            claimed: HashMap::new(),
            stopped: Stopped::default(),
        })
    }

    /// How the worker, once its run is over, leaves `import_workers`.
    pub fn presence(&self) -> Presence {
        Presence {
            connection: self.connection.clone(),
            worker: self.options.worker.clone(),
        }
    }

    /// What the worker's running jobs show in their rows: to be fed with the import's events.
    pub fn progress(&self) -> JobProgress {
        self.progress.clone()
    }

    /// Where the queue will say why it stopped before the queue was drained, if it does.
    pub fn stopped(&self) -> Stopped {
        self.stopped.clone()
    }

    /// The next job, and how many attempts it has had, this one included.
    async fn claim(&self, open: &[Platform]) -> Result<Option<(Player, u32)>, Cause> {
        let platforms: Vec<&str> = open.iter().map(|p| p.as_str()).collect();
        let lease = millis(self.options.lease);
        let worker = &self.options.worker;
        let mut connection = self.connection.lock().await;
        // Never again: a claim the server committed before the connection was lost would leave
        // a second job running for this worker, renewed by its heartbeat and never finished.
        // The job whose claim is lost that way is claimed again once its lease expires.
        let rows = connection
            .query(
                CLAIM,
                &[
                    (worker, Type::TEXT),
                    (&platforms, Type::TEXT_ARRAY),
                    (&lease, Type::INT8),
                ],
                Rerun::Never,
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let platform: String = row.try_get(0)?;
        let username: String = row.try_get(1)?;
        let attempts: i32 = row.try_get(2)?;
        let player = platform
            .parse::<Platform>()
            .and_then(|platform| Player::new(platform, &username));
        match player {
            Ok(player) => Ok(Some((player, u32::try_from(attempts).unwrap_or(1)))),
            Err(error) => {
                // A row written by hand can hold anything; fail it rather than claim it forever.
                let message = Some(format!("invalid job: {error}"));
                tracing::warn!(
                    "{}: {platform}:{username}: invalid job: {error}",
                    self.target
                );
                let finish = finish_params(
                    &platform, &username, worker, &"failed", &None, &message, &None,
                );
                connection.query(FINISH, &finish, Rerun::WhenLost).await?;
                Ok(None)
            }
        }
    }

    /// Ends the job of the report's player, or puts it back for later; `attempts` is how many it
    /// has had, this one included.
    async fn record(&self, report: &PlayerReport, attempts: u32) -> Result<(), Cause> {
        let platform = report.platform.as_str();
        let username = report.username.as_str();
        let worker = &self.options.worker;
        let new_games = Some(i64::try_from(report.new_games).unwrap_or(i64::MAX));
        // Back to the queue, after how long, and with how many attempts given back: a player
        // an `import` holds once it may be done, an interrupted one at once, for any worker,
        // neither counted; one that failed for a transient reason after a backoff, while it
        // has attempts left.
        let later = match (report.status, report.retry) {
            (PlayerStatus::Skipped, _) => Some((self.options.poll, 1)),
            (PlayerStatus::Interrupted, _) => Some((Duration::ZERO, 1)),
            (PlayerStatus::Failed, Some(Retry::Later { after }))
                if attempts < self.options.max_attempts =>
            {
                Some((backoff(attempts, after), 0))
            }
            (PlayerStatus::Ok | PlayerStatus::Fresh | PlayerStatus::Failed, _) => None,
        };
        // A fresh player's job is done, its report's reason the job's note.
        let (status, error, note) = match report.status {
            PlayerStatus::Fresh => ("done", &None, &report.error),
            PlayerStatus::Failed => ("failed", &report.error, &None),
            _ => ("done", &report.error, &None),
        };
        let finish = finish_params(
            &platform, &username, worker, &status, &new_games, error, note,
        );
        let (delay, given_back) = later.map_or((0, 0), |(delay, back)| (millis(delay), back));
        let requeue: [(&(dyn ToSql + Sync), Type); 6] = [
            (&platform, Type::TEXT),
            (&username, Type::TEXT),
            (worker, Type::TEXT),
            (&delay, Type::INT8),
            (&report.error, Type::TEXT),
            (&given_back, Type::INT4),
        ];
        let (sql, params): (&str, &Params<'_>) = match later {
            Some(_) => (REQUEUE, &requeue),
            None => (FINISH, &finish),
        };
        // Both only change a job this worker still runs, so a second run changes nothing more.
        let mut connection = self.connection.lock().await;
        connection.query(sql, params, Rerun::WhenLost).await?;
        Ok(())
    }

    /// Counts a request that failed; after [`MAX_FAILURES`] in a row, [`JobQueue::wait`] ends the
    /// run.
    fn failed(&mut self, what: &str, cause: Cause) {
        tracing::warn!("{}: cannot {what}: {cause}", self.target);
        let failures = self.failing.take().map_or(0, |(failures, _)| failures);
        self.failing = Some((failures + 1, cause));
    }

    fn succeeded(&mut self) {
        self.failing = None;
    }

    /// Whether the worker gives up on the queue; if so, says why where [`JobQueue::stopped`]
    /// looks.
    fn gives_up(&mut self) -> bool {
        let enough = |(failures, _): &mut (u32, Cause)| *failures >= MAX_FAILURES;
        let Some((failures, cause)) = self.failing.take_if(enough) else {
            return false;
        };
        let target = self.target.clone();
        self.stopped.set(QueueLost {
            failures,
            last: StoreError::Query { target, cause },
        });
        true
    }

    /// Whether the queue is drained for a `--once` worker: nothing running anywhere, since a
    /// running job may yet come back when its worker dies and its lease expires, and nothing
    /// queued that is due within a poll.
    async fn drained(&self) -> Result<bool, Cause> {
        let poll = millis(self.options.poll);
        let mut connection = self.connection.lock().await;
        let rows = connection
            .query(PENDING, &[(&poll, Type::INT8)], Rerun::WhenLost)
            .await?;
        let pending: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        Ok(pending == 0)
    }
}

impl Drop for JobQueue {
    fn drop(&mut self) {
        self.heartbeat.abort();
        self.reporter.abort();
    }
}

impl Jobs for JobQueue {
    fn queued(&self) -> Vec<Player> {
        Vec::new()
    }

    async fn take(&mut self, open: &[Platform]) -> Option<Player> {
        if open.is_empty() {
            return None;
        }
        match self.claim(open).await {
            Ok(claimed) => {
                self.succeeded();
                let (player, attempts) = claimed?;
                let job = (player.platform, player.username().to_string());
                self.claimed.insert(job, attempts);
                Some(player)
            }
            Err(cause) => {
                self.failed("claim a job", cause);
                None
            }
        }
    }

    async fn done(&mut self, report: &PlayerReport) {
        let job = (report.platform, report.username.clone());
        let attempts = self.claimed.remove(&job).unwrap_or(1);
        match self.record(report, attempts).await {
            Ok(()) => self.succeeded(),
            Err(cause) => self.failed(
                &format!("record the end of {}", report.player_name()),
                cause,
            ),
        }
    }

    async fn wait(&mut self, cancel: &CancellationToken) -> bool {
        // A queue that cannot be read is not drained: try again after the poll. Not read when
        // the claim just failed, which says as much.
        if self.options.once && self.failing.is_none() {
            match self.drained().await {
                Ok(true) => return false,
                Ok(false) => {}
                Err(cause) => self.failed("read the queue", cause),
            }
        }
        if self.gives_up() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(self.options.poll) => true,
            () = self.wakeups.next() => true,
            _ = cancel.cancelled() => false,
        }
    }

    fn abandon(&mut self) -> Vec<Player> {
        // Unclaimed jobs stay in the queue for other workers.
        Vec::new()
    }
}

/// A worker's row in `import_workers`, to take out when it ends cleanly.
pub struct Presence {
    connection: Arc<tokio::sync::Mutex<Connection>>,
    worker: String,
}

impl Presence {
    /// Takes the worker out of `import_workers`; one that cannot is logged, and shows as dead
    /// once its heartbeat has expired.
    pub async fn leave(self) {
        let mut connection = self.connection.lock().await;
        let left = connection
            .query(LEAVE, &[(&self.worker, Type::TEXT)], Rerun::WhenLost)
            .await;
        if let Err(cause) = left {
            tracing::warn!(
                "{}: cannot leave import_workers: {cause}",
                connection.target()
            );
        }
    }
}

/// Keeps this worker's claimed jobs its own while it works on them, and the worker known as
/// alive, until the queue is dropped: at once, then every third of a lease. A heartbeat that
/// fails, after its attempts to connect again, is logged, and the next tick tries again: the
/// leases last three ticks.
async fn heartbeat(
    connection: Arc<tokio::sync::Mutex<Connection>>,
    worker: String,
    lease: Duration,
) {
    let mut ticks = tokio::time::interval(lease / 3);
    // A heartbeat that waited for a reconnection is not followed by a burst of catch-up ones.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ms = millis(lease);
    let (host, pid) = match lease::host_and_pid(&worker) {
        Some((host, pid)) => (Some(host.to_string()), Some(i64::from(pid))),
        None => (None, None),
    };
    loop {
        ticks.tick().await;
        let mut connection = connection.lock().await;
        let beat = connection
            .query(
                HEARTBEAT,
                &[
                    (&worker, Type::TEXT),
                    (&ms, Type::INT8),
                    (&host, Type::TEXT),
                    (&pid, Type::INT8),
                ],
                Rerun::WhenLost,
            )
            .await;
        if let Err(cause) = beat {
            tracing::warn!("{}: cannot renew job leases: {cause}", connection.target());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_backoff_doubles_from_a_minute_up_to_an_hour() {
        let waits: Vec<Duration> = (1..=8).map(|attempts| backoff(attempts, None)).collect();
        let minutes = [1, 2, 4, 8, 16, 32, 60, 60].map(|m| m * MINUTE);
        assert_eq!(waits, minutes);
        assert_eq!(backoff(u32::MAX, None), MAX_BACKOFF);
    }

    #[test]
    fn the_backoff_waits_for_a_provider_that_is_down_but_no_longer_than_an_hour() {
        assert_eq!(backoff(1, Some(5 * MINUTE)), 5 * MINUTE);
        assert_eq!(backoff(4, Some(5 * MINUTE)), 8 * MINUTE);
        assert_eq!(backoff(1, Some(30 * 24 * 60 * MINUTE)), MAX_BACKOFF);
    }
}
