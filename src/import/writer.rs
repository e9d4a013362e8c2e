//! The storage pipeline: a parser thread that replays each game's PGN, then a writer thread that
//! stores the batches in order, off the async runtime. The parser belongs here rather than in
//! front of the channel: it is a stage of storing, and running it on its own thread lets parsing
//! and the database use both cores.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::event::Event;
use crate::errors::with_causes;
use crate::game::GameRecord;
use crate::lease;
use crate::pgn;
use crate::player::Player;
use crate::providers::SinkClosed;
use crate::resume::{Cursor, MonthValidator};
use crate::store::{Batch, Lease, PlayerState, Store, StoreError};

/// Set by the writer thread once storing a player's games has failed, and read by that player's
/// sink, which then stops its provider.
pub(super) type Failure = Arc<OnceLock<WriteError>>;

/// Why the writer could not do what it was asked. Shared, since one store error is both the
/// player's report and the reason its sink stops.
#[derive(Clone, Debug, thiserror::Error)]
pub(super) enum WriteError {
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The writer thread has ended (after a store error elsewhere, or at the end of the run).
    #[error(transparent)]
    Closed(#[from] SinkClosed),
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> Self {
        WriteError::Store(Arc::new(error))
    }
}

/// When the writer commits the batches it has written: as soon as anything else is to be done,
/// after `when_idle` without another batch, or `interval` after the first uncommitted one.
#[derive(Clone, Copy, Debug)]
pub(super) struct CommitPolicy {
    pub(super) interval: Duration,
    pub(super) when_idle: Duration,
}

impl Default for CommitPolicy {
    /// A player's batches may wait half a second for their commit while more keep coming. The
    /// idle wait is longer than the parser needs for a batch, so that a busy import keeps its
    /// transaction open, and short enough that a slow download's games are committed as they
    /// arrive.
    fn default() -> Self {
        CommitPolicy {
            interval: Duration::from_millis(500),
            when_idle: Duration::from_millis(50),
        }
    }
}

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
        failure: Failure,
        reply: oneshot::Sender<Result<PlayerState, StoreError>>,
    },
    Batch {
        player: Player,
        games: Vec<GameRecord>,
        cursor: Option<Cursor>,
        month: Option<MonthValidator>,
        ongoing: Vec<String>,
        resolved: Vec<String>,
        /// Bring the games already stored up to date (see [`Batch::refresh`]).
        refresh: bool,
        /// Games whose PGN did not parse or validate, counted by the parser thread.
        invalid: u64,
    },
    Unanalysed {
        player: Player,
        since: i64,
        after: String,
        limit: usize,
        /// Dropped without an answer when the store fails: the player's storing has failed.
        reply: oneshot::Sender<Vec<String>>,
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
    pub(super) updated: u64,
    pub(super) invalid: u64,
    /// Why storing the player's games failed, if it did.
    pub(super) write_error: Option<WriteError>,
}

/// The handle to the writer thread.
#[derive(Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<WriteRequest>,
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
        policy: CommitPolicy,
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
                write_loop(store, parsed_receiver, events, policy);
                let _ = parser.join();
            })
            .unwrap_or_else(|error| panic!("cannot start the writer thread: {error}"));
        (Writer { requests }, thread)
    }

    pub(super) async fn send(&self, request: WriteRequest) -> Result<(), SinkClosed> {
        self.requests.send(request).await.map_err(|_| SinkClosed)
    }

    pub(super) async fn lease(
        &self,
        player: &Player,
        owner: &str,
        ttl: Duration,
    ) -> Result<Lease, WriteError> {
        self.ask(|reply| WriteRequest::Lease {
            player: player.clone(),
            owner: owner.to_string(),
            ttl,
            reply,
        })
        .await
    }

    /// Where the player's import resumes, and the slot through which the writer will tell its
    /// sink that storing its games failed.
    pub(super) async fn state(
        &self,
        player: &Player,
    ) -> Result<(PlayerState, Failure), WriteError> {
        let failure = Failure::default();
        let state = self
            .ask(|reply| WriteRequest::State {
                player: player.clone(),
                failure: failure.clone(),
                reply,
            })
            .await?;
        Ok((state, failure))
    }

    /// Sends the request `make` builds around a reply channel, and waits for the store's answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> WriteRequest,
    ) -> Result<T, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply)).await?;
        Ok(answer.await.map_err(|_| SinkClosed)??)
    }

    /// A page of the player's stored games without analysis (see [`Store::unanalysed_games`]).
    /// A store error fails the player's storing, as a batch's does: its totals say why.
    pub(super) async fn unanalysed(
        &self,
        player: &Player,
        since: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, SinkClosed> {
        let (reply, answer) = oneshot::channel();
        self.send(WriteRequest::Unanalysed {
            player: player.clone(),
            since,
            after: after.to_string(),
            limit,
            reply,
        })
        .await?;
        answer.await.map_err(|_| SinkClosed)
    }

    pub(super) async fn release(&self, player: &Player, owner: &str) {
        let _ = self
            .send(WriteRequest::Release {
                player: player.clone(),
                owner: owner.to_string(),
            })
            .await;
    }

    /// Records the end of the player's import and returns what was stored for it. A writer
    /// that has gone away stored nothing more, which the totals say.
    pub(super) async fn finish(&self, player: &Player, error: Option<String>) -> Totals {
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest::Finish {
            player: player.clone(),
            error,
            reply,
        };
        if self.send(request).await.is_ok()
            && let Ok(totals) = answer.await
        {
            return totals;
        }
        Totals {
            write_error: Some(SinkClosed.into()),
            ..Totals::default()
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
    policy: CommitPolicy,
) {
    use std::sync::mpsc::RecvTimeoutError;

    let mut players: HashMap<Player, (Totals, Failure)> = HashMap::new();
    let mut open: Option<Uncommitted> = None;
    loop {
        let request = match &open {
            None => match requests.recv() {
                Ok(request) => request,
                Err(_) => break,
            },
            Some(uncommitted) => {
                let left = policy.interval.saturating_sub(uncommitted.since.elapsed());
                match requests.recv_timeout(left.min(policy.when_idle)) {
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
                let _ = reply.send(store.try_lease(&player, &owner, ttl, &lease::is_dead));
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
                refresh,
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
                    refresh,
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
                        uncommitted.counts.updated += counts.updated;
                        uncommitted.counts.invalid += invalid;
                    }
                    Err(error) => {
                        // The store rolled back the open transaction: none of it was stored.
                        open = None;
                        fail(&player, totals, failure, error);
                    }
                }
            }
            WriteRequest::Unanalysed {
                player,
                since,
                after,
                limit,
                reply,
            } => match store.unanalysed_games(&player, since, &after, limit) {
                Ok(ids) => {
                    let _ = reply.send(ids);
                }
                Err(error) => match players.get_mut(&player) {
                    Some((totals, failure)) => fail(&player, totals, failure, error),
                    None => tracing::error!("{player}: {}", with_causes(&error)),
                },
            },
            WriteRequest::Finish {
                player,
                error,
                reply,
            } => {
                let (totals, _) = players.remove(&player).unwrap_or_default();
                let write_error = totals.write_error.as_ref().map(|e| with_causes(e));
                let error = write_error.or(error);
                if let Err(record_error) = store.record_result(&player, error.as_deref()) {
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
    players: &mut HashMap<Player, (Totals, Failure)>,
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
            tracing::info!(
                "{player}: committed {} new, {} updated and {} duplicate games",
                counts.new,
                counts.updated,
                counts.duplicate
            );
            totals.new += counts.new;
            totals.duplicate += counts.duplicate;
            totals.updated += counts.updated;
            totals.invalid += counts.invalid;
            let _ = events.send(Event::Stored {
                player,
                new: totals.new,
                duplicate: totals.duplicate,
                updated: totals.updated,
                invalid: totals.invalid,
            });
        }
        Err(error) => fail(&player, totals, failure, error),
    }
}

/// Storing the player's games failed: its provider stops, and its report says why.
fn fail(player: &Player, totals: &mut Totals, failure: &Failure, error: StoreError) {
    tracing::error!("{player}: {}", with_causes(&error));
    let error = WriteError::from(error);
    let _ = failure.set(error.clone());
    totals.write_error = Some(error);
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;
    use crate::import::sink::PlayerSink;
    use crate::player::Platform;
    use crate::providers::Sink;
    use crate::store::WriteCounts;

    const PGN: &str = "[Result \"1-0\"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n";

    /// What the store saw, for the test to read after the writer has done its work.
    #[derive(Default)]
    struct Log {
        commits: Vec<String>,
        stored: HashSet<String>,
    }

    /// A store in memory that can be told to fail a player's commit.
    struct MemoryStore {
        log: Arc<Mutex<Log>>,
        pending: Vec<(String, String)>,
        fail_commit_of: Option<String>,
    }

    impl MemoryStore {
        fn new(fail_commit_of: Option<&str>) -> (Self, Arc<Mutex<Log>>) {
            let log = Arc::new(Mutex::new(Log::default()));
            let store = MemoryStore {
                log: log.clone(),
                pending: Vec::new(),
                fail_commit_of: fail_commit_of.map(str::to_string),
            };
            (store, log)
        }
    }

    fn failure(reason: &str) -> StoreError {
        StoreError::Query {
            target: "memory".into(),
            cause: crate::store::Cause::Found(reason.into()),
        }
    }

    impl Store for MemoryStore {
        fn batch_size(&self) -> usize {
            1000
        }

        fn player_state(&mut self, _player: &Player) -> Result<PlayerState, StoreError> {
            Ok(PlayerState::default())
        }

        fn write_batch(&mut self, batch: &Batch<'_>) -> Result<WriteCounts, StoreError> {
            let log = self.log.lock().unwrap();
            let mut counts = WriteCounts::default();
            for game in batch.games {
                let known = log.stored.contains(&game.game_id)
                    || self.pending.iter().any(|(_, id)| *id == game.game_id);
                if known {
                    counts.duplicate += 1;
                } else {
                    counts.new += 1;
                    self.pending
                        .push((batch.player.to_string(), game.game_id.clone()));
                }
            }
            Ok(counts)
        }

        fn commit(&mut self) -> Result<(), StoreError> {
            let pending = std::mem::take(&mut self.pending);
            let Some((player, _)) = pending.first() else {
                return Ok(());
            };
            if self.fail_commit_of.as_ref() == Some(player) {
                return Err(failure("disk full"));
            }
            let mut log = self.log.lock().unwrap();
            log.commits.push(player.clone());
            log.stored.extend(pending.into_iter().map(|(_, id)| id));
            Ok(())
        }

        fn unanalysed_games(
            &mut self,
            _: &Player,
            _: i64,
            _: &str,
            _: usize,
        ) -> Result<Vec<String>, StoreError> {
            Ok(Vec::new())
        }

        fn record_result(&mut self, _: &Player, _: Option<&str>) -> Result<(), StoreError> {
            Ok(())
        }

        fn try_lease(
            &mut self,
            _: &Player,
            _: &str,
            _: Duration,
            _: &dyn Fn(&str) -> bool,
        ) -> Result<Lease, StoreError> {
            Ok(Lease::Acquired)
        }

        fn renew_leases(&mut self, _: &str, _: Duration) -> Result<(), StoreError> {
            Ok(())
        }

        fn release_lease(&mut self, _: &Player, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
    }

    /// Commits only when the writer has something else to do: no timer decides for the test.
    const PATIENT: CommitPolicy = CommitPolicy {
        interval: Duration::from_secs(3600),
        when_idle: Duration::from_secs(3600),
    };

    fn player(spec: &str) -> Player {
        spec.parse().unwrap()
    }

    async fn batch(writer: &Writer, player: &Player, ids: &[&str]) {
        let games = ids
            .iter()
            .map(|id| GameRecord::new(Platform::Lichess, *id, PGN))
            .collect();
        let request = WriteRequest::Batch {
            player: player.clone(),
            games,
            cursor: None,
            month: None,
            ongoing: Vec::new(),
            resolved: Vec::new(),
            refresh: false,
            invalid: 0,
        };
        writer.send(request).await.unwrap();
    }

    fn spawn(store: MemoryStore) -> (Writer, std::thread::JoinHandle<()>) {
        let (events, _) = mpsc::unbounded_channel();
        Writer::spawn(Box::new(store), events, PATIENT)
    }

    #[tokio::test]
    async fn two_batches_of_one_player_share_one_commit() {
        let (store, log) = MemoryStore::new(None);
        let (writer, thread) = spawn(store);
        let alice = player("lichess:alice");
        writer.state(&alice).await.unwrap();
        batch(&writer, &alice, &["a1", "a2"]).await;
        batch(&writer, &alice, &["a3", "a1"]).await;
        let totals = writer.finish(&alice, None).await;
        assert_eq!((totals.new, totals.duplicate), (3, 1));
        assert!(totals.write_error.is_none());
        drop(writer);
        thread.join().unwrap();
        assert_eq!(log.lock().unwrap().commits, ["lichess:alice"]);
    }

    #[tokio::test]
    async fn a_batch_of_another_player_commits_the_first() {
        let (store, log) = MemoryStore::new(None);
        let (writer, thread) = spawn(store);
        let (alice, bob) = (player("lichess:alice"), player("chesscom:bob"));
        writer.state(&alice).await.unwrap();
        writer.state(&bob).await.unwrap();
        batch(&writer, &alice, &["a1"]).await;
        batch(&writer, &bob, &["b1"]).await;
        batch(&writer, &alice, &["a2"]).await;
        assert_eq!(writer.finish(&alice, None).await.new, 2);
        assert_eq!(writer.finish(&bob, None).await.new, 1);
        drop(writer);
        thread.join().unwrap();
        assert_eq!(
            log.lock().unwrap().commits,
            ["lichess:alice", "chesscom:bob", "lichess:alice"]
        );
    }

    #[tokio::test]
    async fn a_failed_commit_fails_only_its_player_and_stops_its_sink() {
        let (store, log) = MemoryStore::new(Some("chesscom:bob"));
        let (writer, thread) = spawn(store);
        let (alice, bob) = (player("lichess:alice"), player("chesscom:bob"));
        writer.state(&alice).await.unwrap();
        let (_, bob_failure) = writer.state(&bob).await.unwrap();
        let (events, _) = mpsc::unbounded_channel();
        let mut bob_sink = PlayerSink::new(
            &writer,
            &events,
            bob.clone(),
            bob_failure.clone(),
            false,
            10,
            Duration::from_secs(3600),
        );
        bob_sink
            .game(GameRecord::new(Platform::Chesscom, "b1", PGN), None)
            .await
            .unwrap();
        // Handing bob's batch over, then alice's, makes the writer commit bob's: it fails.
        bob_sink.commit(None, None).await.unwrap();
        batch(&writer, &alice, &["a1"]).await;
        let alice_totals = writer.finish(&alice, None).await;
        assert_eq!(alice_totals.new, 1);
        assert!(alice_totals.write_error.is_none());
        assert!(bob_failure.get().is_some(), "bob's sink is told");
        let next = GameRecord::new(Platform::Chesscom, "b2", PGN);
        assert!(
            bob_sink.game(next, None).await.is_err(),
            "bob's provider stops"
        );
        let bob_totals = writer.finish(&bob, None).await;
        assert_eq!(bob_totals.new, 0, "nothing of bob's was committed");
        let error = bob_totals.write_error.expect("bob failed");
        let error = crate::errors::with_causes(&error);
        assert!(error.contains("disk full"), "{error}");
        drop((writer, bob_sink));
        thread.join().unwrap();
        assert_eq!(log.lock().unwrap().commits, ["lichess:alice"]);
    }

    #[tokio::test]
    async fn a_writer_that_is_gone_reports_it_instead_of_hanging() {
        let alice = player("lichess:alice");
        // A writer thread that has ended: nobody receives its requests any more.
        let (requests, receiver) = mpsc::channel(1);
        drop(receiver);
        let gone = Writer { requests };
        assert!(matches!(
            gone.state(&alice).await,
            Err(WriteError::Closed(_))
        ));
        let totals = gone.finish(&alice, None).await;
        assert!(matches!(totals.write_error, Some(WriteError::Closed(_))));
    }
}
