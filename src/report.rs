//! What a run did, per player and in total: the summary table and the `--json` object.

use std::time::Duration;

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
    /// Imported successfully within `--fresh-for`: not fetched at all.
    Fresh,
}

impl PlayerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerStatus::Ok => "ok",
            PlayerStatus::Failed => "failed",
            PlayerStatus::Skipped => "skipped",
            PlayerStatus::Interrupted => "interrupted",
            PlayerStatus::Fresh => "fresh",
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
    /// Stored games that `--refresh-analysis` brought up to date.
    pub updated_games: u64,
    pub invalid_games: u64,
    /// Games served without anything to store, e.g. Chess.com bughouse games without PGN.
    pub skipped_games: u64,
    pub elapsed_ms: u64,
    pub error: Option<String>,
    /// Set when the player failed: whether another attempt may succeed, and how soon. A queue
    /// job goes back to the queue for a later attempt, or fails for good.
    #[serde(skip)]
    pub retry: Option<Retry>,
}

/// Whether a failed player is worth importing again, as the error that failed it tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The answer was about the player (not found, closed) or this client (refused, a bad
    /// token): another attempt gets the same.
    Never,
    /// The provider, the network or the database failed, not the player: another attempt may
    /// succeed, no sooner than `after` when the provider is known to be down for that long or
    /// asked for so long a wait.
    Later { after: Option<Duration> },
}

/// Text that came from a provider (an error body, a message) made safe for a terminal, a log
/// file and `status`: escape sequences are dropped whole, other control characters become
/// spaces, so that no server can move the cursor, recolour the screen or forge a log line.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // CSI: ESC [ parameters, then one final byte in @..~.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\u{1b}' => {
                chars.next();
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
            updated_games: 0,
            invalid_games: 0,
            skipped_games: 0,
            elapsed_ms: 0,
            error: error.map(|error| printable(&error)),
            retry: None,
        }
    }

    /// A player that failed before any game was handled, for a reason `retry` tells.
    pub fn failed(player: &Player, error: String, retry: Retry) -> Self {
        PlayerReport {
            retry: Some(retry),
            ..PlayerReport::without_games(player, PlayerStatus::Failed, Some(error))
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
    pub updated_games: u64,
    pub invalid_games: u64,
    pub skipped_players: u64,
    /// Players not fetched, imported successfully within `--fresh-for`.
    pub fresh_players: u64,
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
            updated_games: sum(|p| p.updated_games),
            invalid_games: sum(|p| p.invalid_games),
            failed_players: count(PlayerStatus::Failed),
            skipped_players: count(PlayerStatus::Skipped),
            fresh_players: count(PlayerStatus::Fresh),
            interrupted,
            elapsed_ms,
            players,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_loses_its_escape_sequences_and_control_characters() {
        assert_eq!(
            printable("Blocked\u{1b}[2J\u{1b}[31m: go\raway\n\u{7}x"),
            "Blocked: go away  x"
        );
        assert_eq!(printable("plain, ünïcode"), "plain, ünïcode");
    }
}
