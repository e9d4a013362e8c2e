//! `chess-import status`: one row per imported player, from the database alone.

use anyhow::Context;
use serde::Serialize;

use crate::Exit;
use crate::cli::StatusArgs;
use crate::store::catalog::{self, PlayerSummary};
use crate::view::thousands;

pub fn command(args: &StatusArgs) -> anyhow::Result<Exit> {
    let mut catalog = catalog::open(&args.db.target, args.db.busy_timeout)?;
    let players = catalog.players()?;
    let output = if args.json {
        let json = serde_json::to_string(&StatusJson {
            players: players.iter().map(PlayerJson::from).collect(),
        })
        .context("cannot write the JSON status")?;
        format!("{json}\n")
    } else if players.is_empty() {
        format!("no player has been imported into {} yet\n", args.db.target)
    } else {
        table(&players)
    };
    crate::write_stdout(output.as_bytes(), "the status")?;
    Ok(Exit::Success)
}

#[derive(Serialize)]
struct StatusJson<'a> {
    players: Vec<PlayerJson<'a>>,
}

/// A player in `--json`: times as RFC 3339 UTC, `null` when there is none.
#[derive(Serialize)]
struct PlayerJson<'a> {
    platform: &'a str,
    username: &'a str,
    games: u64,
    newest_game: Option<String>,
    last_success: Option<String>,
    last_attempt: Option<String>,
    last_error: Option<&'a str>,
}

impl<'a> From<&'a PlayerSummary> for PlayerJson<'a> {
    fn from(p: &'a PlayerSummary) -> Self {
        let rfc3339 = |ms: Option<i64>| {
            ms.and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        PlayerJson {
            platform: &p.platform,
            username: &p.username,
            games: p.games,
            newest_game: rfc3339(p.newest_game_at),
            last_success: rfc3339(p.last_success_at),
            last_attempt: rfc3339(p.last_attempt_at),
            last_error: p.last_error.as_deref(),
        }
    }
}

/// `2024-03-01 12:00`, UTC, or `-`.
fn minute(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// The human table: times in UTC, to the minute.
pub fn table(players: &[PlayerSummary]) -> String {
    let names: Vec<String> = players
        .iter()
        .map(|p| format!("{}:{}", p.platform, p.username))
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0).max(6);
    let mut out = format!(
        "{:width$}  {:>9}  {:16}  {:16}  last error\n",
        "player", "games", "newest game", "last success"
    );
    for (p, name) in players.iter().zip(&names) {
        let row = format!(
            "{name:width$}  {:>9}  {:16}  {:16}  {}",
            thousands(p.games),
            minute(p.newest_game_at),
            minute(p.last_success_at),
            p.last_error.as_deref().unwrap_or("")
        );
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out.push_str("(times in UTC)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_one_row_per_player() {
        let players = [
            PlayerSummary {
                platform: "chesscom".into(),
                username: "bob".into(),
                games: 0,
                newest_game_at: None,
                last_success_at: None,
                last_attempt_at: Some(1_714_644_660_000),
                last_error: Some("user not found".into()),
            },
            PlayerSummary {
                platform: "lichess".into(),
                username: "alice".into(),
                games: 1234,
                newest_game_at: Some(1_709_294_400_000),
                last_success_at: Some(1_714_644_660_000),
                last_attempt_at: Some(1_714_644_660_000),
                last_error: None,
            },
        ];
        assert_eq!(
            table(&players),
            "player             games  newest game       last success      last error\n\
             chesscom:bob           0  -                 -                 user not found\n\
             lichess:alice      1,234  2024-03-01 12:00  2024-05-02 10:11\n\
             (times in UTC)\n"
        );
        let json = serde_json::to_value(PlayerJson::from(&players[1])).unwrap();
        assert_eq!(json["newest_game"], "2024-03-01T12:00:00Z");
        assert_eq!(json["last_error"], serde_json::Value::Null);
    }
}
