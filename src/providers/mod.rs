//! The providers: what each site serves and how to walk a player's history there. A provider
//! hands games to a [`Sink`] and knows nothing of how they are stored or shown.

use std::future::Future;

use crate::game::GameRecord;
use crate::http::{Etiquette, HttpError, Notice};
use crate::player::Platform;
use crate::resume::{Cursor, MonthValidator, ResumePoint};

pub mod chesscom;
pub mod lichess;

/// One site as a run sees it: the shared client, where the site is, and its etiquette.
#[derive(Clone, Debug)]
pub struct Source {
    pub client: reqwest::Client,
    /// Base URL without a trailing slash, e.g. `https://lichess.org`.
    pub base_url: String,
    /// Sent as a Bearer token (Lichess only).
    pub token: Option<String>,
    pub etiquette: Etiquette,
}

impl Source {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Both sites of a run.
#[derive(Clone, Debug)]
pub struct Sources {
    pub lichess: Source,
    pub chesscom: Source,
}

impl Sources {
    pub fn of(&self, platform: Platform) -> &Source {
        match platform {
            Platform::Lichess => &self.lichess,
            Platform::Chesscom => &self.chesscom,
        }
    }
}

/// What to fetch for one player.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Where the previous runs stopped.
    pub resume: ResumePoint,
    /// Games of the player already stored, which a progress total need not count again.
    pub stored_games: u64,
    /// Only games started at or after this instant (unix ms).
    pub since: Option<i64>,
    /// Only games started before this instant (unix ms).
    pub until: Option<i64>,
    /// Stop after this many games.
    pub max_games: Option<u64>,
    /// Whether to spend a request learning how many games there are, for a progress bar.
    pub want_total: bool,
}

/// How much there is to fetch, when the provider can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// An estimate of the player's games (Lichess's profile counter).
    Games(u64),
    /// Monthly archives to fetch (Chess.com).
    Months(u64),
}

/// The writer went away (a store error); the provider should stop.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("storing games failed")]
pub struct SinkClosed;

/// Where a provider puts what it fetched.
pub trait Sink {
    /// A game to store. `cursor`, when given, is how far the player's games are stored without a
    /// gap once this game is.
    fn game(
        &mut self,
        game: GameRecord,
        cursor: Option<Cursor>,
    ) -> impl Future<Output = Result<(), SinkClosed>> + Send;

    /// Hands everything passed so far to the store now, with what it completes.
    fn commit(
        &mut self,
        cursor: Option<Cursor>,
        month: Option<MonthValidator>,
    ) -> impl Future<Output = Result<(), SinkClosed>> + Send;

    /// A Lichess game still in progress: remembered, to be fetched by id once finished.
    /// `cursor` may pass it, since it is remembered in the same commit.
    fn ongoing(&mut self, game_id: String, cursor: Option<Cursor>);

    /// A remembered in-progress game that has now been handed over as a game, or is gone.
    fn resolved(&mut self, game_id: String);

    /// A served record with nothing to store (an aborted game) that the cursor may pass.
    fn passed(&mut self, cursor: Option<Cursor>);

    /// A record that could not be read at all (no id, broken JSON): counted as invalid.
    fn unreadable(&mut self, reason: &str);

    /// A game the store cannot take (e.g. bughouse without PGN): counted as skipped.
    fn skipped(&mut self, reason: &str);

    fn total(&mut self, total: Total);

    /// A Chess.com month is done (stored or unchanged).
    fn month_done(&mut self);

    fn notice(&mut self, notice: Notice);
}

/// Why a player's import stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("user not found")]
    UserNotFound,
    #[error("{what}: {source}")]
    Http {
        what: &'static str,
        #[source]
        source: HttpError,
    },
    #[error("{0}")]
    BadResponse(String),
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Sink(#[from] SinkClosed),
}

impl ProviderError {
    /// Maps a request error, treating a 404 as the player not existing.
    fn from_http(what: &'static str, error: HttpError) -> Self {
        match error {
            HttpError::NotFound => ProviderError::UserNotFound,
            HttpError::Interrupted => ProviderError::Interrupted,
            source => ProviderError::Http { what, source },
        }
    }
}
