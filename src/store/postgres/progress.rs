//! The live progress of a worker's running jobs, in their rows of `import_jobs`: the worker
//! sees the import's events as the terminal's view does, keeps the latest state of each running
//! player, and writes all of them in one `UPDATE` per [`PROGRESS_EVERY`], however fast the
//! events come. A web page reads one row to draw a progress bar.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_postgres::types::Type;

use super::{Connection, Rerun};
use crate::import::{Event, Progress};
use crate::player::Player;

/// How often the running jobs' rows are written: within the two seconds a reader may expect
/// `progress_at` to be, with a second to spare for a claim that holds the queue's connection.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Only the rows of jobs this worker (`$1`) still runs: a job that has just ended keeps the
/// end its worker recorded.
const UPDATE: &str = concat!(
    "UPDATE import_jobs AS job SET phase = live.phase, games_done = live.games_done,
         games_total = live.games_total, progress_at = ",
    statement_ms!(),
    "
     FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
         AS live (platform, username, phase, games_done, games_total)
     WHERE job.platform = live.platform AND job.username = live.username
       AND job.worker = $1 AND job.status = 'running'"
);

/// The latest progress of each running player of one worker, fed with the import's events;
/// clones share it.
#[derive(Clone, Debug, Default)]
pub struct JobProgress(Arc<Mutex<HashMap<Player, Progress>>>);

impl JobProgress {
    /// Takes in `event`: a started player is tracked until it finishes.
    pub fn see(&self, event: &Event) {
        let mut live = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Started { player } => {
                live.insert(player.clone(), Progress::default());
            }
            Event::Finished { report } => live.retain(|player, _| {
                player.platform != report.platform || player.username() != report.username
            }),
            Event::Total { player, .. }
            | Event::Fetched { player, .. }
            | Event::Stored { player, .. }
            | Event::Notice { player, .. } => {
                if let Some(progress) = live.get_mut(player) {
                    progress.apply(event, std::time::Instant::now());
                }
            }
            Event::Queued { .. } => {}
        }
    }

    /// The columns [`UPDATE`] writes, one array each, as of `now`.
    fn columns(&self, now: std::time::Instant) -> Columns {
        let live = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut columns = Columns::default();
        for (player, progress) in live.iter() {
            columns.platforms.push(player.platform.as_str());
            columns.usernames.push(player.username().to_string());
            columns.phases.push(progress.phase(now).as_str());
            columns.games.push(count(progress.games));
            columns.totals.push(progress.games_total().map(count));
        }
        columns
    }
}

#[derive(Default)]
struct Columns {
    platforms: Vec<&'static str>,
    usernames: Vec<String>,
    phases: Vec<&'static str>,
    games: Vec<i64>,
    totals: Vec<Option<i64>>,
}

fn count(games: u64) -> i64 {
    i64::try_from(games).unwrap_or(i64::MAX)
}

/// Writes `progress` into the rows of `worker`'s running jobs every [`PROGRESS_EVERY`] while
/// any runs, until the task is aborted. A write that fails is logged and the next tick tries
/// again: the rows are only as stale as the failure lasts.
pub(super) async fn report_progress(
    connection: Arc<tokio::sync::Mutex<Connection>>,
    worker: String,
    progress: JobProgress,
) {
    let mut ticks = tokio::time::interval_at(Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let columns = progress.columns(std::time::Instant::now());
        if columns.platforms.is_empty() {
            continue;
        }
        let mut connection = connection.lock().await;
        let written = connection
            .query(
                UPDATE,
                &[
                    (&worker, Type::TEXT),
                    (&columns.platforms, Type::TEXT_ARRAY),
                    (&columns.usernames, Type::TEXT_ARRAY),
                    (&columns.phases, Type::TEXT_ARRAY),
                    (&columns.games, Type::INT8_ARRAY),
                    (&columns.totals, Type::INT8_ARRAY),
                ],
                Rerun::WhenLost,
            )
            .await;
        if let Err(cause) = written {
            tracing::warn!(
                "{}: cannot record job progress: {cause}",
                connection.target()
            );
        }
    }
}
