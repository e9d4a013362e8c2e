//! The scheduler: players run as tasks of a bounded `JoinSet`, each provider starting only as
//! many players as its lane can serve; providers hand their games to a [`sink`] that batches them
//! for the [`writer`]'s parser and writer threads; and every step is told to the view as an
//! [`Event`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::errors::with_causes;
use crate::http::human_duration;
use crate::lease;
use crate::player::{Platform, Player};
use crate::providers::{self, Plan, ProviderError, Sink, Sources};
use crate::report::{PlayerReport, PlayerStatus, Retry, RunReport, printable};
use crate::store::{Lease, PlayerState, Store, now_ms};

mod event;
mod progress;
mod sink;
mod writer;

pub use event::Event;
pub use progress::{Activity, Phase, Progress};

use sink::PlayerSink;
use writer::{CommitPolicy, Failure, Writer};

/// Everything a run needs besides its players.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub jobs: usize,
    pub sources: Sources,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub max_games: Option<u64>,
    /// Spend a request per Lichess player on its game count, for progress bars.
    pub want_totals: bool,
    /// Ask Lichess for its engine analysis of each game.
    pub with_analysis: bool,
    /// `--refresh-analysis`: bring the stored games that started at or after this instant (unix
    /// ms) up to date, and every game served again.
    pub refresh_since: Option<i64>,
    /// Ask each player's window again from nothing, behind its cursors too (`rescan`).
    pub rescan: bool,
    /// A player whose last successful import ended less than this long ago is not fetched.
    pub fresh_for: Option<Duration>,
    /// Who this process is in the lease table.
    pub owner: String,
    pub lease_ttl: Duration,
    /// Longest time fetched games wait before they are committed.
    pub flush_interval: Duration,
}

/// Where a run's players come from: a list given at start, or a job queue shared with other
/// processes.
pub trait Jobs: Send {
    /// Players known to be waiting at the start, to show as queued.
    fn queued(&self) -> Vec<Player>;

    /// Takes the next player to import whose platform is in `open`; `None` when none is ready.
    fn take(&mut self, open: &[Platform]) -> impl Future<Output = Option<Player>> + Send;

    /// Called when the import of a taken player has ended.
    fn done(&mut self, report: &PlayerReport) -> impl Future<Output = ()> + Send;

    /// Called when nothing runs and nothing is ready: waits for more work, or returns `false` to
    /// end the run.
    fn wait(&mut self, cancel: &CancellationToken) -> impl Future<Output = bool> + Send;

    /// The players that will not be started because the run was cancelled.
    fn abandon(&mut self) -> Vec<Player>;
}

/// The players of one `import` command, taken in order as their provider has room.
pub struct PlayerList(VecDeque<Player>);

impl PlayerList {
    pub fn new(players: Vec<Player>) -> Self {
        PlayerList(players.into())
    }
}

impl Jobs for PlayerList {
    fn queued(&self) -> Vec<Player> {
        self.0.iter().cloned().collect()
    }

    async fn take(&mut self, open: &[Platform]) -> Option<Player> {
        let index = self.0.iter().position(|p| open.contains(&p.platform))?;
        self.0.remove(index)
    }

    async fn done(&mut self, _report: &PlayerReport) {}

    async fn wait(&mut self, _cancel: &CancellationToken) -> bool {
        false
    }

    fn abandon(&mut self) -> Vec<Player> {
        self.0.drain(..).collect()
    }
}

/// Imports the players `jobs` hands out into `store`, telling `events` as it goes. Ends early,
/// committing what was fetched, when `cancel` fires. Reports come in the order players finished.
pub async fn run(
    mut jobs: impl Jobs,
    options: ImportOptions,
    store: Box<dyn Store>,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> RunReport {
    let started = Instant::now();
    let batch_size = store.batch_size();
    let (writer, writer_thread) = Writer::spawn(store, events.clone(), CommitPolicy::default());
    let heartbeat = tokio::spawn(writer::renew_leases(
        writer.clone(),
        options.owner.clone(),
        options.lease_ttl,
    ));
    let shared = Arc::new(RunContext {
        options,
        batch_size,
        writer,
        events: events.clone(),
    });
    for player in jobs.queued() {
        let _ = events.send(Event::Queued { player });
    }
    let mut reports = Vec::new();
    let mut tasks = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Player> = HashMap::new();
    let slots = shared.options.jobs.max(1);
    let mut abandoned = false;
    loop {
        if cancel.is_cancelled() && !abandoned {
            abandoned = true;
            // Players not started yet never will be; the running ones wind down themselves.
            for player in jobs.abandon() {
                let report = PlayerReport::without_games(
                    &player,
                    PlayerStatus::Interrupted,
                    Some("interrupted before it started".into()),
                );
                let _ = events.send(Event::Finished {
                    report: report.clone(),
                });
                reports.push(report);
            }
        }
        while !cancel.is_cancelled() && tasks.len() < slots {
            let open = open_platforms(&running, slots);
            let Some(player) = jobs.take(&open).await else {
                break;
            };
            let task = tasks.spawn(import_player(shared.clone(), player.clone()));
            running.insert(task.id(), player);
        }
        if tasks.is_empty() {
            if cancel.is_cancelled() || !jobs.wait(&cancel).await {
                break;
            }
            continue;
        }
        let joined = tokio::select! {
            joined = tasks.join_next_with_id() => joined,
            _ = cancel.cancelled(), if !abandoned => continue,
        };
        let report = match joined {
            Some(Ok((id, report))) => {
                running.remove(&id);
                report
            }
            Some(Err(error)) => {
                let Some(player) = running.remove(&error.id()) else {
                    continue;
                };
                let report = PlayerReport::failed(
                    &player,
                    format!("internal error: {error}"),
                    Retry::Later { after: None },
                );
                let _ = events.send(Event::Finished {
                    report: report.clone(),
                });
                report
            }
            None => continue,
        };
        jobs.done(&report).await;
        reports.push(report);
    }
    heartbeat.abort();
    drop(shared);
    // The writer ends once every sender is gone; wait so that the last commit is on disk.
    let _ = tokio::task::spawn_blocking(move || writer_thread.join()).await;
    RunReport::new(
        reports,
        cancel.is_cancelled(),
        started.elapsed().as_millis() as u64,
    )
}

/// Asks Lichess again, by id, for the player's stored games since `since` that have no analysis
/// (`--refresh-analysis`), one export request per page of the store's ids, so that memory stays
/// constant and the requests are as many as the window's games need; the sink updates them.
async fn refresh_lichess(
    shared: &RunContext,
    player: &Player,
    since: i64,
    source: &providers::Source,
    sink: &mut PlayerSink,
) -> Result<(), ProviderError> {
    let page = providers::lichess::IDS_PER_REQUEST;
    let mut after = String::new();
    loop {
        // A store error is the writer's to report, as for a batch: the sink is closed.
        let ids = shared
            .writer
            .unanalysed(player, since, &after, page)
            .await?;
        let Some(last) = ids.last() else {
            return Ok(());
        };
        after.clone_from(last);
        providers::lichess::refresh_analysis(source, player, &ids, sink).await?;
        if ids.len() < page {
            return Ok(());
        }
    }
}

/// The platforms that can start another player now.
fn open_platforms(running: &HashMap<tokio::task::Id, Player>, slots: usize) -> Vec<Platform> {
    Platform::ALL
        .into_iter()
        .filter(|&platform| can_start(platform, running, slots))
        .collect()
}

fn can_start(platform: Platform, running: &HashMap<tokio::task::Id, Player>, jobs: usize) -> bool {
    let busy = running.values().filter(|p| p.platform == platform).count();
    busy < players_at_once(platform, jobs)
}

/// How many players of `platform` a run of `jobs` imports at once. A Lichess player waiting for
/// the one export stream would hold a job slot for nothing, so each provider only starts as many
/// players as its lane can serve.
pub fn players_at_once(platform: Platform, jobs: usize) -> usize {
    let jobs = jobs.max(1);
    match platform {
        Platform::Lichess => providers::lichess::MAX_STREAMS.min(jobs),
        Platform::Chesscom => jobs,
    }
}

/// What every player's task of a run shares.
struct RunContext {
    options: ImportOptions,
    /// How many games a batch for the writer holds: what suits the store.
    batch_size: usize,
    writer: Writer,
    events: mpsc::UnboundedSender<Event>,
}

async fn import_player(shared: Arc<RunContext>, player: Player) -> PlayerReport {
    let started = Instant::now();
    let options = &shared.options;
    let _ = shared.events.send(Event::Started {
        player: player.clone(),
    });
    let mut report = match prepare(&shared, &player).await {
        Ok((state, failure)) => match fresh(options.fresh_for, &state) {
            Some(note) => PlayerReport::without_games(&player, PlayerStatus::Fresh, Some(note)),
            None => fetch_and_store(&shared, &player, state, failure).await,
        },
        Err(report) => report,
    };
    if report.status != PlayerStatus::Skipped {
        shared.writer.release(&player, &options.owner).await;
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    let _ = shared.events.send(Event::Finished {
        report: report.clone(),
    });
    report
}

/// Why the player need not be fetched, if its last successful import ended within `fresh_for`.
fn fresh(fresh_for: Option<Duration>, state: &PlayerState) -> Option<String> {
    let (fresh_for, success) = (fresh_for?, state.last_success_at?);
    // A success a little in the future, by a database server's clock, is as fresh as can be.
    let age = u64::try_from(now_ms().saturating_sub(success)).unwrap_or(0);
    let age = Duration::from_millis(age);
    (age < fresh_for).then(|| {
        format!(
            "imported {} ago, within --fresh-for {}",
            human_duration(age),
            human_duration(fresh_for)
        )
    })
}

/// Takes the player's lease and reads where its last import stopped.
async fn prepare(
    shared: &RunContext,
    player: &Player,
) -> Result<(PlayerState, Failure), PlayerReport> {
    let options = &shared.options;
    // The store failed, not the player.
    let failed = |error: writer::WriteError| {
        PlayerReport::failed(player, with_causes(&error), Retry::Later { after: None })
    };
    match shared
        .writer
        .lease(player, &options.owner, options.lease_ttl)
        .await
    {
        Ok(Lease::Acquired) => {}
        Ok(Lease::TakenOver(holder)) => tracing::warn!(
            "{player}: took over the lease of {}, which is no longer running",
            lease::describe(&holder)
        ),
        Ok(Lease::HeldBy { owner, until }) => {
            let until = chrono::DateTime::from_timestamp_millis(until).map_or_else(
                || until.to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            );
            return Err(PlayerReport::without_games(
                player,
                PlayerStatus::Skipped,
                Some(format!(
                    "import already in progress elsewhere ({}, lease until {until})",
                    lease::describe(&owner)
                )),
            ));
        }
        Err(error) => return Err(failed(error)),
    }
    shared.writer.state(player).await.map_err(failed)
}

async fn fetch_and_store(
    shared: &RunContext,
    player: &Player,
    state: PlayerState,
    failure: Failure,
) -> PlayerReport {
    let options = &shared.options;
    let plan = Plan {
        resume: if options.rescan {
            state.resume.for_rescan()
        } else {
            state.resume
        },
        stored_games: state.stored_games,
        since: options.since,
        until: options.until,
        max_games: options.max_games,
        want_total: options.want_totals,
        with_analysis: options.with_analysis,
        refresh_since: options.refresh_since,
        ids_only: false,
    };
    let mut sink = PlayerSink::new(
        &shared.writer,
        &shared.events,
        player.clone(),
        failure,
        options.refresh_since.is_some(),
        shared.batch_size,
        options.flush_interval,
    );
    let source = options.sources.of(player.platform);
    let result = match player.platform {
        Platform::Lichess => {
            async {
                // The refresh first: the games the import then brings are asked with their
                // analysis already, and are not asked twice.
                let refreshed = match options.refresh_since {
                    Some(since) => refresh_lichess(shared, player, since, source, &mut sink).await,
                    None => Ok(()),
                };
                if let Err(ProviderError::Interrupted | ProviderError::Sink(_)) = refreshed {
                    return refreshed;
                }
                // A refresh that failed must not keep the player's new games from being
                // imported; the player still fails, with the refresh's reason.
                providers::lichess::import(source, player, &plan, &mut sink)
                    .await
                    .and(refreshed)
            }
            .await
        }
        Platform::Chesscom => providers::chesscom::import(source, player, &plan, &mut sink).await,
    };
    // Whatever happened, what was fetched completely is kept.
    let flushed = sink.commit(None, None).await;
    let error = match (result, flushed) {
        (Err(ProviderError::Sink(_)), _) | (Ok(()), Err(_)) => None,
        (Err(error), _) => Some(error),
        (Ok(()), Ok(())) => None,
    };
    let (status, message) = match &error {
        None => (PlayerStatus::Ok, None),
        Some(ProviderError::Interrupted) => {
            (PlayerStatus::Interrupted, Some("interrupted".to_string()))
        }
        Some(error) => (PlayerStatus::Failed, Some(printable(&error.to_string()))),
    };
    let totals = shared.writer.finish(player, message.clone()).await;
    // A store failure outranks what the provider said: it is why the provider stopped.
    let (status, message, retry) = match totals.write_error {
        Some(error) => (
            PlayerStatus::Failed,
            Some(printable(&with_causes(&error))),
            Some(Retry::Later { after: None }),
        ),
        None => (status, message, error.as_ref().map(ProviderError::retry)),
    };
    PlayerReport {
        platform: player.platform,
        username: player.username().to_string(),
        status,
        new_games: totals.new,
        duplicate_games: totals.duplicate,
        updated_games: totals.updated,
        invalid_games: totals.invalid + sink.unreadable,
        skipped_games: sink.skipped,
        elapsed_ms: 0,
        error: message,
        retry: retry.filter(|_| status == PlayerStatus::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_player_is_fresh_only_within_fresh_for_of_its_last_success() {
        let hour = Duration::from_secs(3600);
        let succeeded = |ms_ago: i64| PlayerState {
            last_success_at: Some(now_ms() - ms_ago),
            ..PlayerState::default()
        };
        assert_eq!(fresh(None, &succeeded(0)), None, "off unless given");
        assert_eq!(
            fresh(Some(hour), &PlayerState::default()),
            None,
            "never imported"
        );
        assert_eq!(fresh(Some(hour), &succeeded(2 * 3_600_000)), None);
        let note = fresh(Some(hour), &succeeded(60_000)).unwrap_or_default();
        assert!(note.starts_with("imported 1m"), "{note}");
        assert!(note.ends_with("ago, within --fresh-for 1h"), "{note}");
        // A database server's clock a little ahead of this host's.
        assert!(fresh(Some(hour), &succeeded(-5_000)).is_some());
    }
}
