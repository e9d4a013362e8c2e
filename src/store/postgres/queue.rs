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
use crate::report::{PlayerReport, PlayerStatus};
use crate::store::schema::last_served;
use crate::store::{Cause, StoreError, millis};

/// Players keep the order they were enqueued in: `seq` grows with every insert, and a player
/// queued again after it ended goes to the back. A player still queued stays one job, raised
/// to the higher priority and the earlier time of the two; one running is left alone.
const ENQUEUE: &str = concat!(
    "INSERT INTO import_jobs
         (platform, username, status, enqueued_at, available_at, priority, requested_by)
     SELECT platform, username, 'queued', ",
    statement_ms!(),
    ", greatest(",
    statement_ms!(),
    ", coalesce($3::bigint, 0)), $4::integer, $5::text
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
         started_at = NULL, lease_expires_at = NULL, finished_at = NULL, new_games = NULL,
         last_error = NULL
     WHERE import_jobs.status IN ('queued', 'done', 'failed')
       AND (import_jobs.status <> 'queued' OR excluded.priority > import_jobs.priority
            OR excluded.available_at < import_jobs.available_at)"
);

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
     RETURNING job.platform, job.username"
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

const FINISH: &str = concat!(
    "UPDATE import_jobs SET status = $4, finished_at = ",
    statement_ms!(),
    ", new_games = $5, last_error = $6, lease_expires_at = NULL,
         phase = NULL
     WHERE platform = $1 AND username = $2 AND worker = $3 AND status = 'running'"
);

const REQUEUE: &str = concat!(
    "UPDATE import_jobs SET status = 'queued', worker = NULL, lease_expires_at = NULL, phase = NULL,
         available_at = ",
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

/// The parameters of [`FINISH`].
fn finish_params<'p>(
    platform: &'p (dyn ToSql + Sync),
    username: &'p (dyn ToSql + Sync),
    worker: &'p (dyn ToSql + Sync),
    status: &'p (dyn ToSql + Sync),
    new_games: &'p Option<i64>,
    error: &'p Option<String>,
) -> [(&'p (dyn ToSql + Sync), Type); 6] {
    [
        (platform, Type::TEXT),
        (username, Type::TEXT),
        (worker, Type::TEXT),
        (status, Type::TEXT),
        (new_games, Type::INT8),
        (error, Type::TEXT),
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
    /// Players added, queued again after they were done or failed, or raised to a higher
    /// priority or an earlier time.
    pub queued: u64,
    /// Players already queued (as high and as soon) or running, left as they were.
    pub unchanged: u64,
}

/// Adds `players` to the queue at `url`, in order; a player already queued or running is left
/// alone.
pub async fn enqueue(url: &str, players: &[Player], job: &JobSpec) -> Result<Enqueued, StoreError> {
    let mut connection = Connection::open(url, Handle::current()).await?;
    let platforms: Vec<&str> = players.iter().map(|p| p.platform.as_str()).collect();
    let usernames: Vec<&str> = players.iter().map(Player::username).collect();
    // Once: after a lost connection the players may be queued, and a second run would count
    // them as unchanged.
    let queued = connection
        .once(async |client| {
            let params: [(&(dyn ToSql + Sync), Type); 5] = [
                (&platforms, Type::TEXT_ARRAY),
                (&usernames, Type::TEXT_ARRAY),
                (&job.not_before, Type::INT8),
                (&job.priority, Type::INT4),
                (&job.requested_by, Type::TEXT),
            ];
            Ok(client.execute_typed(ENQUEUE, &params).await?)
        })
        .await
        .map_err(|cause| StoreError::Query {
            target: connection.target().to_string(),
            cause,
        })?;
    Ok(Enqueued {
        queued,
        unchanged: (players.len() as u64).saturating_sub(queued),
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

    async fn claim(&self, open: &[Platform]) -> Result<Option<Player>, Cause> {
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
        let player = platform
            .parse::<Platform>()
            .and_then(|platform| Player::new(platform, &username));
        match player {
            Ok(player) => Ok(Some(player)),
            Err(error) => {
                // A row written by hand can hold anything; fail it rather than claim it forever.
                let message = Some(format!("invalid job: {error}"));
                tracing::warn!(
                    "{}: {platform}:{username}: invalid job: {error}",
                    self.target
                );
                let finish =
                    finish_params(&platform, &username, worker, &"failed", &None, &message);
                connection.query(FINISH, &finish, Rerun::WhenLost).await?;
                Ok(None)
            }
        }
    }

    async fn record(&self, report: &PlayerReport) -> Result<(), Cause> {
        let platform = report.platform.as_str();
        let username = report.username.as_str();
        let worker = &self.options.worker;
        let new_games = Some(i64::try_from(report.new_games).unwrap_or(i64::MAX));
        // An `import` holds the player: try again once it may be done. A provider that is down
        // failed the player, not the other way round: try again once it may be up. An
        // interrupted job is free for any worker at once.
        let delay = match (report.status, report.retry_in) {
            (PlayerStatus::Skipped, _) => millis(self.options.poll),
            (PlayerStatus::Failed, Some(retry_in)) => millis(retry_in),
            _ => 0,
        };
        let status = if report.status == PlayerStatus::Ok {
            "done"
        } else {
            "failed"
        };
        let finish = finish_params(
            &platform,
            &username,
            worker,
            &status,
            &new_games,
            &report.error,
        );
        let requeue: [(&(dyn ToSql + Sync), Type); 5] = [
            (&platform, Type::TEXT),
            (&username, Type::TEXT),
            (worker, Type::TEXT),
            (&delay, Type::INT8),
            (&report.error, Type::TEXT),
        ];
        let (sql, params): (&str, &Params<'_>) = match (report.status, report.retry_in) {
            (PlayerStatus::Failed, Some(_))
            | (PlayerStatus::Skipped | PlayerStatus::Interrupted, _) => (REQUEUE, &requeue),
            (PlayerStatus::Ok | PlayerStatus::Failed, _) => (FINISH, &finish),
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
            Ok(player) => {
                self.succeeded();
                player
            }
            Err(cause) => {
                self.failed("claim a job", cause);
                None
            }
        }
    }

    async fn done(&mut self, report: &PlayerReport) {
        match self.record(report).await {
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
