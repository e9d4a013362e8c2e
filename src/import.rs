//! The scheduler: players run as tasks of a bounded `JoinSet`, providers hand their games to one
//! writer thread that parses and stores them in batches, and every step is told to the view as
//! an [`Event`].

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::game::GameRecord;
use crate::http::Notice;
use crate::pgn;
use crate::player::{Platform, Player};
use crate::providers::{self, Plan, ProviderError, Sink, SinkClosed, Source, Total};
use crate::report::{PlayerReport, PlayerStatus, RunReport};
use crate::store::{Batch, Cursor, Lease, MonthValidator, PlayerState, Store, StoreError};

/// Lichess allows one export stream per IP: one Lichess player at a time.
pub const LICHESS_STREAMS: usize = 1;
/// Chess.com refuses parallel bursts: two requests in flight at most.
pub const CHESSCOM_REQUESTS: usize = 2;

/// What the importer tells whoever draws its progress.
#[derive(Clone, Debug)]
pub enum Event {
    Queued {
        player: Player,
    },
    Started {
        player: Player,
    },
    Total {
        player: Player,
        total: Total,
    },
    /// Games fetched so far, and Chess.com months done.
    Fetched {
        player: Player,
        games: u64,
        months: u64,
    },
    /// Running totals of what the store did with them.
    Stored {
        player: Player,
        new: u64,
        duplicate: u64,
        invalid: u64,
    },
    Notice {
        player: Player,
        notice: Notice,
    },
    Finished {
        report: PlayerReport,
    },
}

/// Everything a run needs besides its players.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub jobs: usize,
    pub lichess: Source,
    pub chesscom: Source,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub max_games: Option<u64>,
    /// Spend a request per Lichess player on its game count, for progress bars.
    pub want_totals: bool,
    /// Who this process is in the lease table.
    pub owner: String,
    pub lease_ttl: Duration,
    pub batch_size: usize,
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
    let (writer, writer_thread) = Writer::spawn(store, events.clone());
    let heartbeat = tokio::spawn(renew_leases(
        writer.clone(),
        options.owner.clone(),
        options.lease_ttl,
    ));
    let shared = Arc::new(Shared {
        options,
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
                let report = PlayerReport::without_games(
                    &player,
                    PlayerStatus::Failed,
                    Some(format!("internal error: {error}")),
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

/// The platforms that can start another player now.
fn open_platforms(running: &HashMap<tokio::task::Id, Player>, slots: usize) -> Vec<Platform> {
    Platform::ALL
        .into_iter()
        .filter(|&platform| can_start(platform, running, slots))
        .collect()
}

/// A Lichess player waiting for the one export stream would hold a job slot for nothing, so
/// each provider only starts as many players as its lane can serve.
fn can_start(platform: Platform, running: &HashMap<tokio::task::Id, Player>, jobs: usize) -> bool {
    let busy = running.values().filter(|p| p.platform == platform).count();
    let limit = match platform {
        Platform::Lichess => LICHESS_STREAMS,
        Platform::Chesscom => jobs,
    };
    busy < limit
}

struct Shared {
    options: ImportOptions,
    writer: Writer,
    events: mpsc::UnboundedSender<Event>,
}

async fn import_player(shared: Arc<Shared>, player: Player) -> PlayerReport {
    let started = Instant::now();
    let options = &shared.options;
    let _ = shared.events.send(Event::Started {
        player: player.clone(),
    });
    let mut report = match prepare(&shared, &player).await {
        Ok(state) => fetch_and_store(&shared, &player, state).await,
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

/// Takes the player's lease and reads where its last import stopped.
async fn prepare(shared: &Shared, player: &Player) -> Result<PlayerState, PlayerReport> {
    let options = &shared.options;
    let failed =
        |error: String| PlayerReport::without_games(player, PlayerStatus::Failed, Some(error));
    match shared
        .writer
        .lease(player, &options.owner, options.lease_ttl)
        .await
    {
        Ok(Lease::Acquired) => {}
        Ok(Lease::HeldBy(holder)) => {
            return Err(PlayerReport::without_games(
                player,
                PlayerStatus::Skipped,
                Some(format!("import already in progress elsewhere ({holder})")),
            ));
        }
        Err(error) => return Err(failed(error)),
    }
    shared.writer.state(player).await.map_err(failed)
}

async fn fetch_and_store(shared: &Shared, player: &Player, state: PlayerState) -> PlayerReport {
    let options = &shared.options;
    let plan = Plan {
        state,
        since: options.since,
        until: options.until,
        max_games: options.max_games,
        want_total: options.want_totals,
    };
    let mut sink = PlayerSink::new(shared, player.clone());
    let result = match player.platform {
        Platform::Lichess => {
            providers::lichess::import(&options.lichess, player, &plan, &mut sink).await
        }
        Platform::Chesscom => {
            providers::chesscom::import(&options.chesscom, player, &plan, &mut sink).await
        }
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
        Some(error) => (PlayerStatus::Failed, Some(error.to_string())),
    };
    let totals = shared.writer.finish(player, message.clone()).await;
    // A store failure outranks what the provider said: it is why the provider stopped.
    let (status, message) = match totals.write_error {
        Some(error) => (PlayerStatus::Failed, Some(error)),
        None => (status, message),
    };
    PlayerReport {
        platform: player.platform,
        username: player.username().to_string(),
        status,
        new_games: totals.new,
        duplicate_games: totals.duplicate,
        invalid_games: totals.invalid + sink.unreadable,
        skipped_games: sink.skipped,
        elapsed_ms: 0,
        error: message,
    }
}

/// Collects a player's games into batches for the writer.
struct PlayerSink {
    player: Player,
    writer: Writer,
    events: mpsc::UnboundedSender<Event>,
    /// Set by the writer when storing this player's games failed.
    failure: Arc<OnceLock<String>>,
    pending: Vec<GameRecord>,
    pending_cursor: Option<Cursor>,
    pending_ongoing: Vec<String>,
    pending_resolved: Vec<String>,
    pending_since: Option<Instant>,
    batch_size: usize,
    flush_interval: Duration,
    fetched: u64,
    months: u64,
    unreadable: u64,
    skipped: u64,
}

impl PlayerSink {
    fn new(shared: &Shared, player: Player) -> Self {
        let failure = shared.writer.failure_slot(&player);
        PlayerSink {
            player,
            writer: shared.writer.clone(),
            events: shared.events.clone(),
            failure,
            pending: Vec::with_capacity(shared.options.batch_size),
            pending_cursor: None,
            pending_ongoing: Vec::new(),
            pending_resolved: Vec::new(),
            pending_since: None,
            batch_size: shared.options.batch_size.max(1),
            flush_interval: shared.options.flush_interval,
            fetched: 0,
            months: 0,
            unreadable: 0,
            skipped: 0,
        }
    }

    fn fetched_event(&self) {
        let _ = self.events.send(Event::Fetched {
            player: self.player.clone(),
            games: self.fetched,
            months: self.months,
        });
    }
}

impl Sink for PlayerSink {
    async fn game(&mut self, game: GameRecord, cursor: Option<Cursor>) -> Result<(), SinkClosed> {
        if self.failure.get().is_some() {
            return Err(SinkClosed);
        }
        self.pending.push(game);
        if cursor.is_some() {
            self.pending_cursor = cursor;
        }
        self.fetched += 1;
        let since = *self.pending_since.get_or_insert_with(Instant::now);
        if self.pending.len() >= self.batch_size || since.elapsed() >= self.flush_interval {
            self.commit(None, None).await?;
        }
        Ok(())
    }

    async fn commit(
        &mut self,
        cursor: Option<Cursor>,
        month: Option<MonthValidator>,
    ) -> Result<(), SinkClosed> {
        let cursor = cursor.or(self.pending_cursor.take());
        self.pending_since = None;
        if self.pending.is_empty()
            && cursor.is_none()
            && month.is_none()
            && self.pending_ongoing.is_empty()
            && self.pending_resolved.is_empty()
        {
            return Ok(());
        }
        let games = std::mem::replace(&mut self.pending, Vec::with_capacity(self.batch_size));
        self.writer
            .send(WriteRequest::Batch {
                player: self.player.clone(),
                games,
                cursor,
                month,
                ongoing: std::mem::take(&mut self.pending_ongoing),
                resolved: std::mem::take(&mut self.pending_resolved),
                invalid: 0,
            })
            .await?;
        self.fetched_event();
        if self.failure.get().is_some() {
            return Err(SinkClosed);
        }
        Ok(())
    }

    fn ongoing(&mut self, game_id: String, cursor: Option<Cursor>) {
        self.pending_ongoing.push(game_id);
        self.passed(cursor);
    }

    fn resolved(&mut self, game_id: String) {
        self.pending_resolved.push(game_id);
    }

    fn passed(&mut self, cursor: Option<Cursor>) {
        if cursor.is_some() {
            self.pending_cursor = cursor;
        }
    }

    fn unreadable(&mut self, _reason: &str) {
        self.unreadable += 1;
    }

    fn skipped(&mut self, _reason: &str) {
        self.skipped += 1;
    }

    fn total(&mut self, total: Total) {
        let _ = self.events.send(Event::Total {
            player: self.player.clone(),
            total,
        });
    }

    fn month_done(&mut self) {
        self.months += 1;
        self.fetched_event();
    }

    fn notice(&mut self, notice: Notice) {
        let _ = self.events.send(Event::Notice {
            player: self.player.clone(),
            notice,
        });
    }
}

/// Keeps every lease of this process alive while it works, so that a crashed process's leases
/// expire and a live one's do not.
async fn renew_leases(writer: Writer, owner: String, ttl: Duration) {
    let mut ticks = tokio::time::interval(ttl / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if writer
            .send(WriteRequest::RenewLeases {
                owner: owner.clone(),
                ttl,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// What the writer thread is asked to do; it does it in order.
enum WriteRequest {
    Lease {
        player: Player,
        owner: String,
        ttl: Duration,
        reply: oneshot::Sender<Result<Lease, StoreError>>,
    },
    RenewLeases {
        owner: String,
        ttl: Duration,
    },
    Release {
        player: Player,
        owner: String,
    },
    State {
        player: Player,
        failure: Arc<OnceLock<String>>,
        reply: oneshot::Sender<Result<PlayerState, StoreError>>,
    },
    Batch {
        player: Player,
        games: Vec<GameRecord>,
        cursor: Option<Cursor>,
        month: Option<MonthValidator>,
        ongoing: Vec<String>,
        resolved: Vec<String>,
        /// Games whose PGN did not parse or validate, counted by the parser thread.
        invalid: u64,
    },
    Finish {
        player: Player,
        error: Option<String>,
        reply: oneshot::Sender<Totals>,
    },
}

/// What the writer did for one player.
#[derive(Debug, Default)]
struct Totals {
    new: u64,
    duplicate: u64,
    invalid: u64,
    write_error: Option<String>,
}

/// The handle to the writer thread.
#[derive(Clone)]
struct Writer {
    requests: mpsc::Sender<WriteRequest>,
    failures: Arc<std::sync::Mutex<HashMap<Player, Arc<OnceLock<String>>>>>,
}

/// How many batches may wait for the parser thread: enough to keep it busy while providers
/// fetch, few enough to bound memory.
const WRITER_QUEUE: usize = 1;
/// How many parsed batches may wait for the writer thread.
const PARSED_QUEUE: usize = 1;

impl Writer {
    fn spawn(
        store: Box<dyn Store>,
        events: mpsc::UnboundedSender<Event>,
    ) -> (Self, std::thread::JoinHandle<()>) {
        let (requests, receiver) = mpsc::channel(WRITER_QUEUE);
        let (parsed, parsed_receiver) = std::sync::mpsc::sync_channel(PARSED_QUEUE);
        let parser = std::thread::Builder::new()
            .name("parser".into())
            .spawn(move || parse_loop(receiver, parsed))
            .unwrap_or_else(|error| panic!("cannot start the parser thread: {error}"));
        let thread = std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                write_loop(store, parsed_receiver, events);
                let _ = parser.join();
            })
            .unwrap_or_else(|error| panic!("cannot start the writer thread: {error}"));
        let writer = Writer {
            requests,
            failures: Arc::default(),
        };
        (writer, thread)
    }

    async fn send(&self, request: WriteRequest) -> Result<(), SinkClosed> {
        self.requests.send(request).await.map_err(|_| SinkClosed)
    }

    fn failure_slot(&self, player: &Player) -> Arc<OnceLock<String>> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.entry(player.clone()).or_default().clone()
    }

    async fn lease(&self, player: &Player, owner: &str, ttl: Duration) -> Result<Lease, String> {
        self.ask(|reply| WriteRequest::Lease {
            player: player.clone(),
            owner: owner.to_string(),
            ttl,
            reply,
        })
        .await
    }

    async fn state(&self, player: &Player) -> Result<PlayerState, String> {
        self.ask(|reply| WriteRequest::State {
            player: player.clone(),
            failure: self.failure_slot(player),
            reply,
        })
        .await
    }

    /// Sends the request `make` builds around a reply channel, and waits for the store's answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> WriteRequest,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply)).await.map_err(|e| e.to_string())?;
        match answer.await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err(SinkClosed.to_string()),
        }
    }

    async fn release(&self, player: &Player, owner: &str) {
        let _ = self
            .send(WriteRequest::Release {
                player: player.clone(),
                owner: owner.to_string(),
            })
            .await;
    }

    async fn finish(&self, player: &Player, error: Option<String>) -> Totals {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .send(WriteRequest::Finish {
                player: player.clone(),
                error,
                reply,
            })
            .await;
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(player);
        match sent {
            Ok(()) => answer.await.unwrap_or_else(|_| Totals {
                write_error: Some(SinkClosed.to_string()),
                ..Totals::default()
            }),
            Err(error) => Totals {
                write_error: Some(error.to_string()),
                ..Totals::default()
            },
        }
    }
}

/// The parser thread: replays each game's PGN ([`pgn::complete`]) while the writer thread stores
/// the batches before it, so that parsing and the database use both cores. Every request passes
/// through in order, so the writer sees them as the providers sent them.
fn parse_loop(
    mut requests: mpsc::Receiver<WriteRequest>,
    parsed: std::sync::mpsc::SyncSender<WriteRequest>,
) {
    while let Some(mut request) = requests.blocking_recv() {
        if let WriteRequest::Batch {
            player,
            games,
            invalid,
            ..
        } = &mut request
        {
            for game in games.iter_mut() {
                pgn::complete(game);
                if !game.valid {
                    *invalid += 1;
                    tracing::warn!(
                        "{player}: game {} does not parse or validate; stored flagged invalid",
                        game.game_id
                    );
                }
            }
        }
        if parsed.send(request).is_err() {
            return;
        }
    }
}

/// The writer thread: stores parsed batches, off the async runtime.
///
/// Consecutive batches of one player may share a transaction (see [`Store::write_batch`]): the
/// writer commits as soon as anything else is to be done, no batch came for [`COMMIT_WHEN_IDLE`],
/// or [`COMMIT_INTERVAL`] has passed. A busy import thus commits a few times a second, not once
/// per batch: every commit rewrites each index page that a game touched, and the keys (game ids)
/// are random. Each batch's games still go in with its cursor, all or nothing, and a player's
/// counts only grow once they are committed.
fn write_loop(
    mut store: Box<dyn Store>,
    requests: std::sync::mpsc::Receiver<WriteRequest>,
    events: mpsc::UnboundedSender<Event>,
) {
    use std::sync::mpsc::RecvTimeoutError;

    let mut players: HashMap<Player, (Totals, Arc<OnceLock<String>>)> = HashMap::new();
    let mut open: Option<Uncommitted> = None;
    loop {
        let request = match &open {
            None => match requests.recv() {
                Ok(request) => request,
                Err(_) => break,
            },
            Some(uncommitted) => {
                let left = COMMIT_INTERVAL.saturating_sub(uncommitted.since.elapsed());
                match requests.recv_timeout(left.min(COMMIT_WHEN_IDLE)) {
                    Ok(request) => request,
                    Err(RecvTimeoutError::Timeout) => {
                        commit(&mut *store, &mut open, &mut players, &events);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        let same_player = matches!(
            (&request, &open),
            (WriteRequest::Batch { player, .. }, Some(uncommitted)) if *player == uncommitted.player
        );
        if !same_player {
            commit(&mut *store, &mut open, &mut players, &events);
        }
        match request {
            WriteRequest::Lease {
                player,
                owner,
                ttl,
                reply,
            } => {
                let _ = reply.send(store.try_lease(&player, &owner, ttl));
            }
            WriteRequest::RenewLeases { owner, ttl } => {
                if let Err(error) = store.renew_leases(&owner, ttl) {
                    tracing::warn!("cannot renew leases: {error}");
                }
            }
            WriteRequest::Release { player, owner } => {
                if let Err(error) = store.release_lease(&player, &owner) {
                    tracing::warn!("{player}: cannot release lease: {error}");
                }
            }
            WriteRequest::State {
                player,
                failure,
                reply,
            } => {
                players.insert(player.clone(), (Totals::default(), failure));
                let _ = reply.send(store.player_state(&player));
            }
            WriteRequest::Batch {
                player,
                games,
                cursor,
                month,
                ongoing,
                resolved,
                invalid,
            } => {
                let Some((totals, failure)) = players.get_mut(&player) else {
                    continue;
                };
                if totals.write_error.is_some() {
                    continue;
                }
                let batch = Batch {
                    player: &player,
                    games: &games,
                    cursor,
                    month,
                    ongoing: &ongoing,
                    resolved: &resolved,
                };
                match store.write_batch(&batch) {
                    Ok(counts) => {
                        let uncommitted = open.get_or_insert_with(|| Uncommitted {
                            player: player.clone(),
                            since: std::time::Instant::now(),
                            counts: Totals::default(),
                        });
                        uncommitted.counts.new += counts.new;
                        uncommitted.counts.duplicate += counts.duplicate;
                        uncommitted.counts.invalid += invalid;
                    }
                    Err(error) => {
                        // The store rolled back the open transaction: none of it was stored.
                        open = None;
                        fail(&player, totals, failure, error.to_string());
                    }
                }
            }
            WriteRequest::Finish {
                player,
                error,
                reply,
            } => {
                let (totals, _) = players.remove(&player).unwrap_or_default();
                let error = totals.write_error.as_deref().or(error.as_deref());
                if let Err(record_error) = store.record_result(&player, error) {
                    tracing::warn!("{player}: cannot record the result: {record_error}");
                }
                let _ = reply.send(totals);
            }
        }
    }
    commit(&mut *store, &mut open, &mut players, &events);
}

/// How long a player's written batches may wait for their commit while more keep coming.
const COMMIT_INTERVAL: Duration = Duration::from_millis(500);
/// How long the writer waits for another batch before it commits what it wrote: longer than the
/// parser needs for a batch, so that a busy import keeps its transaction open, and short enough
/// that a slow download's games are committed as they arrive.
const COMMIT_WHEN_IDLE: Duration = Duration::from_millis(50);

/// Batches written into the store's open transaction, and what they did.
struct Uncommitted {
    player: Player,
    since: std::time::Instant,
    counts: Totals,
}

/// Ends the open transaction, if any, and counts what it stored for its player.
fn commit(
    store: &mut dyn Store,
    open: &mut Option<Uncommitted>,
    players: &mut HashMap<Player, (Totals, Arc<OnceLock<String>>)>,
    events: &mpsc::UnboundedSender<Event>,
) {
    let Some(Uncommitted { player, counts, .. }) = open.take() else {
        return;
    };
    let committed = store.commit();
    let Some((totals, failure)) = players.get_mut(&player) else {
        return;
    };
    match committed {
        Ok(_) => {
            totals.new += counts.new;
            totals.duplicate += counts.duplicate;
            totals.invalid += counts.invalid;
            let _ = events.send(Event::Stored {
                player,
                new: totals.new,
                duplicate: totals.duplicate,
                invalid: totals.invalid,
            });
        }
        Err(error) => fail(&player, totals, failure, error.to_string()),
    }
}

/// Storing the player's games failed: its provider stops, and its report says why.
fn fail(player: &Player, totals: &mut Totals, failure: &OnceLock<String>, message: String) {
    tracing::error!("{player}: {message}");
    let _ = failure.set(message.clone());
    totals.write_error = Some(message);
}
