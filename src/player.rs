//! Who to import: platforms, validated usernames, and lists of players from arguments and files.

use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;
use std::str::FromStr;

use serde::Serialize;

/// A site games are imported from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Lichess,
    Chesscom,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Lichess, Platform::Chesscom];

    /// The name used in player specs, the database and the JSON summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Lichess => "lichess",
            Platform::Chesscom => "chesscom",
        }
    }

    /// Usernames both sites accept: letters, digits, `_` and `-`, within the site's lengths.
    fn username_lengths(self) -> (usize, usize) {
        match self {
            Platform::Lichess => (2, 30),
            Platform::Chesscom => (3, 25),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = PlayerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lichess" | "lichess.org" => Ok(Platform::Lichess),
            "chesscom" | "chess.com" => Ok(Platform::Chesscom),
            _ => Err(PlayerError::UnknownPlatform(shorten(s))),
        }
    }
}

/// What is wrong with a player spec; every message names the culprit.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlayerError {
    #[error("unknown platform {0:?} (expected lichess or chesscom)")]
    UnknownPlatform(String),
    #[error("{0:?} is not PLATFORM:USERNAME (e.g. lichess:alice or chesscom:bob)")]
    MissingPlatform(String),
    #[error("empty username in {0:?}")]
    EmptyUsername(String),
    #[error(
        "invalid {platform} username {username:?}: only letters, digits, '_' and '-' are allowed"
    )]
    InvalidCharacters {
        platform: Platform,
        username: String,
    },
    #[error("invalid {platform} username {username:?}: must be {min} to {max} characters long")]
    InvalidLength {
        platform: Platform,
        username: String,
        min: usize,
        max: usize,
    },
}

/// A player on one platform. The username is kept lowercase: both sites treat names
/// case-insensitively, and the lowercase form is the key in the database.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Player {
    pub platform: Platform,
    username: String,
}

impl Player {
    pub fn new(platform: Platform, username: &str) -> Result<Self, PlayerError> {
        let (min, max) = platform.username_lengths();
        if username.is_empty() {
            return Err(PlayerError::EmptyUsername(format!("{platform}:")));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if !username.chars().all(allowed) {
            return Err(PlayerError::InvalidCharacters {
                platform,
                username: shorten(username),
            });
        }
        if !(min..=max).contains(&username.len()) {
            return Err(PlayerError::InvalidLength {
                platform,
                username: shorten(username),
                min,
                max,
            });
        }
        Ok(Player {
            platform,
            username: username.to_ascii_lowercase(),
        })
    }

    pub fn username(&self) -> &str {
        &self.username
    }
}

impl fmt::Display for Player {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.username)
    }
}

impl FromStr for Player {
    type Err = PlayerError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        let Some((platform, username)) = spec.split_once(':') else {
            return Err(PlayerError::MissingPlatform(shorten(spec)));
        };
        let platform: Platform = platform.trim().parse()?;
        let username = username.trim();
        if username.is_empty() {
            return Err(PlayerError::EmptyUsername(spec.to_string()));
        }
        Player::new(platform, username)
    }
}

/// A culprit short enough to quote in a one-line message.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A player file that could not be read, with the line that was wrong.
#[derive(Debug, thiserror::Error)]
pub enum PlayerListError {
    #[error("{source_name}:{line}: {error}")]
    Invalid {
        source_name: String,
        line: usize,
        error: PlayerError,
    },
    #[error("cannot read {source_name}: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("{source_name}:{line}: longer than {MAX_LINE} bytes, which no player spec is")]
    LineTooLong { source_name: String, line: usize },
    #[error("{source_name}: more than {MAX_PLAYERS} players; split the list into several runs")]
    TooMany { source_name: String },
}

/// The longest line a players file may have: a spec is a platform and a 30-character name, and
/// a comment after it is kept short; a longer line is not a list of players.
const MAX_LINE: usize = 1024;
/// The most players one file may name, so that a wrong file (a log, a dump) fails at once
/// rather than filling memory.
const MAX_PLAYERS: usize = 1_000_000;

/// Reads one player per line; blank lines and `#` comments are skipped. `source_name` names the
/// file in error messages.
pub fn read_players(
    mut reader: impl BufRead,
    source_name: &str,
) -> Result<Vec<Player>, PlayerListError> {
    let mut players = Vec::new();
    let mut line = Vec::with_capacity(128);
    for index in 1.. {
        line.clear();
        let read = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|error| PlayerListError::Io {
                source_name: source_name.to_string(),
                error,
            })?;
        if read == 0 {
            break;
        }
        if line.len() > MAX_LINE {
            return Err(PlayerListError::LineTooLong {
                source_name: source_name.to_string(),
                line: index,
            });
        }
        let text = String::from_utf8_lossy(&line);
        // Editors on Windows start UTF-8 files with a byte-order mark.
        let text = if index == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            &text
        };
        let spec = text.split('#').next().unwrap_or_default().trim();
        if spec.is_empty() {
            continue;
        }
        if players.len() == MAX_PLAYERS {
            return Err(PlayerListError::TooMany {
                source_name: source_name.to_string(),
            });
        }
        let player = spec.parse().map_err(|error| PlayerListError::Invalid {
            source_name: source_name.to_string(),
            line: index,
            error,
        })?;
        players.push(player);
    }
    Ok(players)
}

/// Keeps the first occurrence of each player, in order.
pub fn dedup(players: Vec<Player>) -> Vec<Player> {
    let mut seen = HashSet::with_capacity(players.len());
    players
        .into_iter()
        .filter(|player| seen.insert(player.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platforms_and_aliases_case_insensitively() {
        for (spec, platform) in [
            ("lichess:alice", Platform::Lichess),
            ("Lichess.org:alice", Platform::Lichess),
            ("chesscom:bob", Platform::Chesscom),
            ("CHESS.COM:bob", Platform::Chesscom),
        ] {
            let player: Player = spec.parse().unwrap();
            assert_eq!(player.platform, platform, "{spec}");
        }
    }

    #[test]
    fn lowercases_usernames() {
        let player: Player = "lichess:DrNykterstein".parse().unwrap();
        assert_eq!(player.username(), "drnykterstein");
        assert_eq!(player.to_string(), "lichess:drnykterstein");
    }

    #[test]
    fn rejects_bad_specs_naming_the_culprit() {
        let cases = [
            ("alice", "not PLATFORM:USERNAME"),
            ("fics:alice", "unknown platform \"fics\""),
            ("lichess:", "empty username"),
            ("lichess:al ice", "\"al ice\""),
            ("lichess:a", "2 to 30"),
            ("chesscom:ab", "3 to 25"),
            ("lichess:ålice", "only letters"),
            ("chesscom:bob.smith", "only letters"),
        ];
        for (spec, expected) in cases {
            let error = spec.parse::<Player>().unwrap_err().to_string();
            assert!(error.contains(expected), "{spec}: {error}");
        }
        let long = format!("lichess:{}", "a".repeat(31));
        assert!(long.parse::<Player>().is_err());
    }

    #[test]
    fn reads_files_with_comments_and_blank_lines() {
        let text = "# my players\nlichess:alice\n\n  chesscom:bob  # the second\n";
        let players = read_players(text.as_bytes(), "players.txt").unwrap();
        let names: Vec<String> = players.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["lichess:alice", "chesscom:bob"]);
    }

    #[test]
    fn a_byte_order_mark_is_ignored_and_an_endless_line_refused() {
        let text = "\u{feff}lichess:alice\nchesscom:bob\n";
        let players = read_players(text.as_bytes(), "players.txt").unwrap();
        assert_eq!(players.len(), 2);
        let endless = std::io::repeat(b'x');
        let error = read_players(std::io::BufReader::new(endless), "dump.bin").unwrap_err();
        assert_eq!(
            error.to_string(),
            "dump.bin:1: longer than 1024 bytes, which no player spec is"
        );
    }

    #[test]
    fn file_errors_name_file_and_line() {
        let text = "lichess:alice\nlichess:b@d\n";
        let error = read_players(text.as_bytes(), "players.txt").unwrap_err();
        assert!(error.to_string().starts_with("players.txt:2: "), "{error}");
    }

    #[test]
    fn non_utf8_lines_are_reported_not_panicked_on() {
        let text = b"lichess:al\xffice\n";
        let error = read_players(&text[..], "players.txt").unwrap_err();
        assert!(error.to_string().contains("players.txt:1"), "{error}");
    }

    #[test]
    fn reads_a_hundred_thousand_players_and_names_the_one_bad_line() {
        let mut text: String = (0..100_000)
            .map(|i| format!("lichess:player{i}\n"))
            .collect();
        let players = read_players(text.as_bytes(), "big.txt").unwrap();
        assert_eq!(players.len(), 100_000);
        assert_eq!(dedup(players).len(), 100_000);
        text.push_str(&format!("chesscom:{}\n", "x".repeat(500)));
        text.push_str("lichess:caf\u{e9}\n");
        let error = read_players(text.as_bytes(), "big.txt")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("big.txt:100001: "), "{}", &error[..80]);
        assert!(error.contains("3 to 25 characters"));
        assert!(error.len() < 150, "the culprit is shortened: {error}");
    }

    #[test]
    fn dedup_keeps_first_occurrence_ignoring_case() {
        let players = [
            "lichess:Alice",
            "chesscom:bob",
            "lichess:alice",
            "lichess:carol",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let names: Vec<String> = dedup(players).iter().map(ToString::to_string).collect();
        assert_eq!(names, ["lichess:alice", "chesscom:bob", "lichess:carol"]);
    }
}
