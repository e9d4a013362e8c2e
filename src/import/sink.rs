//! The batching sink: what a provider hands over for one player, gathered into batches for the
//! writer, each with the cursor it completes.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::event::Event;
use super::writer::{Failure, WriteRequest, Writer};
use crate::game::GameRecord;
use crate::http::Notice;
use crate::player::Player;
use crate::providers::{Drift, Sink, SinkClosed, Total};
use crate::resume::{Cursor, MonthValidator};

/// Collects a player's games into batches for the writer.
pub(super) struct PlayerSink {
    player: Player,
    writer: Writer,
    events: mpsc::UnboundedSender<Event>,
    /// Set by the writer when storing this player's games failed.
    failure: Failure,
    /// Whether the games bring stored ones up to date (see [`crate::store::Batch::refresh`]).
    refresh: bool,
    pending: Vec<GameRecord>,
    pending_cursor: Option<Cursor>,
    pending_ongoing: Vec<String>,
    pending_resolved: Vec<String>,
    pending_since: Option<Instant>,
    batch_size: usize,
    /// How old the oldest pending game may be when another arrives before the batch is handed
    /// on. Checked as games arrive: a game before a stall waits for the next game or for the
    /// stream's end or break, where the provider commits what it has.
    flush_interval: Duration,
    fetched: u64,
    months: u64,
    /// Records that could not be read at all, and games the store cannot take.
    pub(super) unreadable: u64,
    pub(super) skipped: u64,
    /// Drift already logged, so that a new field value is told once, not once per game.
    drift: HashSet<Drift>,
}

impl PlayerSink {
    pub(super) fn new(
        writer: &Writer,
        events: &mpsc::UnboundedSender<Event>,
        player: Player,
        failure: Failure,
        refresh: bool,
        batch_size: usize,
        flush_interval: Duration,
    ) -> Self {
        PlayerSink {
            player,
            writer: writer.clone(),
            events: events.clone(),
            failure,
            refresh,
            pending: Vec::with_capacity(batch_size),
            pending_cursor: None,
            pending_ongoing: Vec::new(),
            pending_resolved: Vec::new(),
            pending_since: None,
            batch_size: batch_size.max(1),
            flush_interval,
            fetched: 0,
            months: 0,
            unreadable: 0,
            skipped: 0,
            drift: HashSet::new(),
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
                refresh: self.refresh,
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

    fn drift(&mut self, drift: Drift) {
        if !self.drift.contains(&drift) {
            tracing::info!("{}: the provider's answer drifted: {drift}", self.player);
            self.drift.insert(drift);
        }
    }

    fn notice(&mut self, notice: Notice) {
        let _ = self.events.send(Event::Notice {
            player: self.player.clone(),
            notice,
        });
    }
}
