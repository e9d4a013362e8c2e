//! The import queue many workers on many machines share, kept in PostgreSQL's `import_jobs`:
//! `enqueue` adds players, each `worker` claims them with `FOR UPDATE SKIP LOCKED`, holds a lease
//! it renews while it works, and marks them done or failed. A job whose worker died is claimed
//! again once its lease has expired; the store's cursor, committed with the games, makes the
//! second attempt continue where the first stopped.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;

use tokio::runtime::Handle;

use super::millis;
use crate::import::Jobs;
use crate::player::{Platform, Player};
use crate::report::{PlayerReport, PlayerStatus};
use crate::store::{Cause, StoreError};

/// Players keep the order they were enqueued in: `seq` grows with every insert, and a player
/// queued again goes to the back.
const ENQUEUE: &str = concat!(
    "INSERT INTO import_jobs (platform, username, status, enqueued_at, available_at)
     SELECT platform, username, 'queued', ",
    statement_ms!(),
    ", ",
    statement_ms!(),
    "
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS new (platform, username, position)
     ORDER BY position
     ON CONFLICT (platform, username) DO UPDATE SET
         seq = excluded.seq, status = 'queued', worker = NULL, attempts = 0,
         enqueued_at = excluded.enqueued_at, available_at = excluded.available_at,
         started_at = NULL, lease_expires_at = NULL, finished_at = NULL, new_games = NULL,
         last_error = NULL
     WHERE import_jobs.status IN ('done', 'failed')"
);

const CLAIM: &str = concat!(
    "WITH next AS (
         SELECT platform, username FROM import_jobs
         WHERE platform = ANY($2::text[])
           AND ((status = 'queued' AND available_at <= ",
    statement_ms!(),
    ") OR (status = 'running' AND lease_expires_at < ",
    statement_ms!(),
    "))
         ORDER BY seq
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
     UPDATE import_jobs AS job SET status = 'running', worker = $1, attempts = job.attempts + 1,
         started_at = ",
    statement_ms!(),
    ", lease_expires_at = ",
    statement_ms!(),
    " + $3
     FROM next
     WHERE job.platform = next.platform AND job.username = next.username
     RETURNING job.platform, job.username"
);

const RENEW: &str = concat!(
    "UPDATE import_jobs SET lease_expires_at = ",
    statement_ms!(),
    " + $2 WHERE worker = $1 AND status = 'running'"
);

const FINISH: &str = concat!(
    "UPDATE import_jobs SET status = $4, finished_at = ",
    statement_ms!(),
    ", new_games = $5, last_error = $6, lease_expires_at = NULL
     WHERE platform = $1 AND username = $2 AND worker = $3 AND status = 'running'"
);

const REQUEUE: &str = concat!(
    "UPDATE import_jobs SET status = 'queued', worker = NULL, lease_expires_at = NULL,
         available_at = ",
    statement_ms!(),
    " + $4, last_error = $5
     WHERE platform = $1 AND username = $2 AND worker = $3 AND status = 'running'"
);

const PENDING: &str = "SELECT count(*) FROM import_jobs WHERE status IN ('queued', 'running')";

/// What `enqueue` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Enqueued {
    /// Players added, or queued again after they were done or failed.
    pub queued: u64,
    /// Players already queued or running, left as they were.
    pub unchanged: u64,
}

/// Adds `players` to the queue at `url`, in order; a player already queued or running is left
/// alone.
pub async fn enqueue(url: &str, players: &[Player]) -> Result<Enqueued, StoreError> {
    let (_, client, target) = super::connect(url, &Handle::current(), "").await?;
    let platforms: Vec<&str> = players.iter().map(|p| p.platform.as_str()).collect();
    let usernames: Vec<&str> = players.iter().map(Player::username).collect();
    let queued = client
        .execute(ENQUEUE, &[&platforms, &usernames])
        .await
        .map_err(|e| query_error(&target, e))?;
    Ok(Enqueued {
        queued,
        unchanged: players.len() as u64 - queued,
    })
}

/// How a worker takes its players from the queue.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Who the worker is, in `import_jobs.worker` (host, pid, tag).
    pub worker: String,
    /// How long a claimed job stays the worker's without renewal.
    pub lease: Duration,
    /// How often an idle worker looks for new jobs.
    pub poll: Duration,
    /// Stop once the queue is drained instead of waiting for more.
    pub once: bool,
}

/// The queue as one worker sees it: a source of players for [`crate::import::run`].
pub struct JobQueue {
    client: Arc<Client>,
    target: String,
    options: WorkerOptions,
    heartbeat: JoinHandle<()>,
}

impl JobQueue {
    pub async fn open(url: &str, options: WorkerOptions) -> Result<Self, StoreError> {
        let (_, client, target) = super::connect(url, &Handle::current(), "").await?;
        let client = Arc::new(client);
        let heartbeat = tokio::spawn(renew_leases(
            client.clone(),
            target.clone(),
            options.worker.clone(),
            options.lease,
        ));
        Ok(JobQueue {
            client,
            target,
            options,
            heartbeat,
        })
    }

    async fn claim(&self, open: &[Platform]) -> Result<Option<Player>, tokio_postgres::Error> {
        let platforms: Vec<&str> = open.iter().map(|p| p.as_str()).collect();
        let lease = millis(self.options.lease);
        let row = self
            .client
            .query_opt(CLAIM, &[&self.options.worker, &platforms, &lease])
            .await?;
        let Some(row) = row else {
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
                let message = format!("invalid job: {error}");
                tracing::warn!("{}: {platform}:{username}: {message}", self.target);
                self.client
                    .execute(
                        FINISH,
                        &[
                            &platform,
                            &username,
                            &self.options.worker,
                            &"failed",
                            &None::<i64>,
                            &Some(message),
                        ],
                    )
                    .await?;
                Ok(None)
            }
        }
    }

    async fn record(&self, report: &PlayerReport) -> Result<(), tokio_postgres::Error> {
        let platform = report.platform.as_str();
        let username = report.username.as_str();
        let worker = &self.options.worker;
        match report.status {
            PlayerStatus::Ok | PlayerStatus::Failed => {
                let status = if report.status == PlayerStatus::Ok {
                    "done"
                } else {
                    "failed"
                };
                let new_games = i64::try_from(report.new_games).unwrap_or(i64::MAX);
                self.client
                    .execute(
                        FINISH,
                        &[
                            &platform,
                            &username,
                            worker,
                            &status,
                            &Some(new_games),
                            &report.error,
                        ],
                    )
                    .await?;
            }
            // An `import` holds the player: try again once it may be done. An interrupted job
            // is free for any worker at once.
            PlayerStatus::Skipped | PlayerStatus::Interrupted => {
                let delay = if report.status == PlayerStatus::Skipped {
                    millis(self.options.poll)
                } else {
                    0
                };
                self.client
                    .execute(
                        REQUEUE,
                        &[&platform, &username, worker, &delay, &report.error],
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

impl Drop for JobQueue {
    fn drop(&mut self) {
        self.heartbeat.abort();
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
            Ok(player) => player,
            Err(error) => {
                tracing::warn!(
                    "{}: cannot claim a job: {}",
                    self.target,
                    Cause::from(error)
                );
                None
            }
        }
    }

    async fn done(&mut self, report: &PlayerReport) {
        if let Err(error) = self.record(report).await {
            tracing::warn!(
                "{}: cannot record the end of {}: {}",
                self.target,
                report.player_name(),
                Cause::from(error)
            );
        }
    }

    async fn wait(&mut self, cancel: &CancellationToken) -> bool {
        if self.options.once {
            // Drained means nothing queued and nothing running anywhere: a running job may yet
            // come back when its worker dies and its lease expires.
            match self.client.query_one(PENDING, &[]).await {
                Ok(row) if row.try_get::<_, i64>(0).unwrap_or(0) == 0 => return false,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(
                        "{}: cannot read the queue: {}",
                        self.target,
                        Cause::from(error)
                    );
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(self.options.poll) => true,
            _ = cancel.cancelled() => false,
        }
    }

    fn abandon(&mut self) -> Vec<Player> {
        // Unclaimed jobs stay in the queue for other workers.
        Vec::new()
    }
}

/// Keeps this worker's claimed jobs its own while it works on them.
async fn renew_leases(client: Arc<Client>, target: String, worker: String, lease: Duration) {
    let mut ticks = tokio::time::interval(lease / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = client.execute(RENEW, &[&worker, &millis(lease)]).await {
            tracing::warn!("{target}: cannot renew job leases: {}", Cause::from(error));
            if client.is_closed() {
                return;
            }
        }
    }
}

fn query_error(target: &str, error: tokio_postgres::Error) -> StoreError {
    StoreError::Query {
        target: target.to_string(),
        cause: Cause::Postgres(error),
    }
}
