//! What a run did, per player and in total: the summary table and the `--json` object.

use serde::Serialize;

use crate::player::{Platform, Player};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlayerStatus {
    /// Every game asked for is stored.
    Ok,
    /// The import stopped on an error; what was fetched before it is stored.
    Failed,
    /// Another process is importing this player right now.
    Skipped,
    /// Ctrl-C stopped the import; what was fetched before it is stored.
    Interrupted,
}

impl PlayerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerStatus::Ok => "ok",
            PlayerStatus::Failed => "failed",
            PlayerStatus::Skipped => "skipped",
            PlayerStatus::Interrupted => "interrupted",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlayerReport {
    pub platform: Platform,
    pub username: String,
    pub status: PlayerStatus,
    pub new_games: u64,
    pub duplicate_games: u64,
    pub invalid_games: u64,
    /// Games served without anything to store, e.g. Chess.com bughouse games without PGN.
    pub skipped_games: u64,
    pub elapsed_ms: u64,
    pub error: Option<String>,
}

impl PlayerReport {
    /// A player that ended before any game was handled.
    pub fn without_games(player: &Player, status: PlayerStatus, error: Option<String>) -> Self {
        PlayerReport {
            platform: player.platform,
            username: player.username().to_string(),
            status,
            new_games: 0,
            duplicate_games: 0,
            invalid_games: 0,
            skipped_games: 0,
            elapsed_ms: 0,
            error,
        }
    }

    pub fn player_name(&self) -> String {
        format!("{}:{}", self.platform, self.username)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub players: Vec<PlayerReport>,
    pub new_games: u64,
    pub failed_players: u64,
    pub duplicate_games: u64,
    pub invalid_games: u64,
    pub skipped_players: u64,
    pub interrupted: bool,
    pub elapsed_ms: u64,
}

impl RunReport {
    pub fn new(players: Vec<PlayerReport>, interrupted: bool, elapsed_ms: u64) -> Self {
        let sum = |f: fn(&PlayerReport) -> u64| players.iter().map(f).sum();
        let count = |status| players.iter().filter(|p| p.status == status).count() as u64;
        RunReport {
            new_games: sum(|p| p.new_games),
            duplicate_games: sum(|p| p.duplicate_games),
            invalid_games: sum(|p| p.invalid_games),
            failed_players: count(PlayerStatus::Failed),
            skipped_players: count(PlayerStatus::Skipped),
            interrupted,
            elapsed_ms,
            players,
        }
    }
}
