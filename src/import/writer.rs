//! The storage pipeline: a parser thread that replays each game's PGN, then a writer thread that
//! stores the batches in order, off the async runtime. The parser belongs here rather than in
//! front of the channel: it is a stage of storing, and running it on its own thread lets parsing
//! and the database use both cores.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::Event;
use crate::errors::with_causes;
use crate::game::GameRecord;
use crate::pgn;
use crate::player::Player;
use crate::providers::SinkClosed;
use crate::resume::{Cursor, MonthValidator};
use crate::store::{Batch, Lease, PlayerState, Store, StoreError};

/// Keeps every lease of this process alive while it works, so that a crashed process's leases
/// expire and a live one's do not.
pub(super) async fn renew_leases(writer: Writer, owner: String, ttl: Duration) {
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
pub(super) enum WriteRequest {
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
pub(super) struct Totals {
    pub(super) new: u64,
    pub(super) duplicate: u64,
    pub(super) invalid: u64,
    pub(super) write_error: Option<String>,
}

/// The handle to the writer thread.
#[derive(Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<WriteRequest>,
    failures: Arc<std::sync::Mutex<HashMap<Player, Arc<OnceLock<String>>>>>,
}

/// How many batches may wait for the parser thread: enough to keep it busy while providers
/// fetch, few enough to bound memory.
const WRITER_QUEUE: usize = 1;
/// How many parsed batches may wait for the writer thread.
const PARSED_QUEUE: usize = 1;

impl Writer {
    pub(super) fn spawn(
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

    pub(super) async fn send(&self, request: WriteRequest) -> Result<(), SinkClosed> {
        self.requests.send(request).await.map_err(|_| SinkClosed)
    }

    pub(super) fn failure_slot(&self, player: &Player) -> Arc<OnceLock<String>> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.entry(player.clone()).or_default().clone()
    }

    pub(super) async fn lease(
        &self,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, String> {
        self.ask(|reply| WriteRequest::Lease {
            player: player.clone(),
            owner: owner.to_string(),
            ttl,
            reply,
        })
        .await
    }

    pub(super) async fn state(&self, player: &Player) -> Result<PlayerState, String> {
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
            Ok(result) => result.map_err(|e| with_causes(&e)),
            Err(_) => Err(SinkClosed.to_string()),
        }
    }

    pub(super) async fn release(&self, player: &Player, owner: &str) {
        let _ = self
            .send(WriteRequest::Release {
                player: player.clone(),
                owner: owner.to_string(),
            })
            .await;
    }

    pub(super) async fn finish(&self, player: &Player, error: Option<String>) -> Totals {
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
                    tracing::warn!("cannot renew leases: {}", with_causes(&error));
                }
            }
            WriteRequest::Release { player, owner } => {
                if let Err(error) = store.release_lease(&player, &owner) {
                    tracing::warn!("{player}: cannot release lease: {}", with_causes(&error));
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
                        fail(&player, totals, failure, with_causes(&error));
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
                    tracing::warn!(
                        "{player}: cannot record the result: {}",
                        with_causes(&record_error)
                    );
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
        Err(error) => fail(&player, totals, failure, with_causes(&error)),
    }
}

/// Storing the player's games failed: its provider stops, and its report says why.
fn fail(player: &Player, totals: &mut Totals, failure: &OnceLock<String>, message: String) {
    tracing::error!("{player}: {message}");
    let _ = failure.set(message.clone());
    totals.write_error = Some(message);
}
