//! One game on its way from a provider to a store.

use crate::player::Platform;

/// A game as it will be stored: what the provider's JSON said, completed from the game's own PGN
/// headers by [`crate::pgn::complete`].
///
/// Providers fill what their JSON knows for sure (id, url, rated, speed, variant, start time, and
/// names and ratings where served); `pgn::complete` fills every field still `None` from the PGN
/// tags, canonicalises `variant`, and sets `ply_count` and `valid` by replaying the moves.
#[derive(Clone, Debug, PartialEq)]
pub struct GameRecord {
    pub platform: Platform,
    /// Lichess: the 8-character game id. Chess.com: the game's `uuid`.
    pub game_id: String,
    pub url: Option<String>,
    pub white: Option<String>,
    pub black: Option<String>,
    pub white_elo: Option<i32>,
    pub black_elo: Option<i32>,
    /// `1-0`, `0-1`, `1/2-1/2` or `*`.
    pub result: Option<String>,
    pub termination: Option<String>,
    /// The provider's rules name before `pgn::complete`; its canonical name after.
    pub variant: Option<String>,
    pub time_control: Option<String>,
    pub speed: Option<String>,
    pub rated: Option<bool>,
    pub eco: Option<String>,
    pub opening: Option<String>,
    /// Game start, unix milliseconds UTC.
    pub played_at: Option<i64>,
    /// Half-moves replayed; `None` when the moves did not validate.
    pub ply_count: Option<u32>,
    pub valid: bool,
    /// The game's full PGN as served.
    pub pgn: String,
    /// When the last move was made, unix milliseconds UTC.
    pub ended_at: Option<i64>,
    /// What each side's rating changed by (Lichess, rated games).
    pub white_rating_diff: Option<i32>,
    pub black_rating_diff: Option<i32>,
    /// `GM`, `IM`, ... `BOT`.
    pub white_title: Option<String>,
    pub black_title: Option<String>,
    /// The provider's engine review of each side, where it made one.
    pub white_analysis: Analysis,
    pub black_analysis: Analysis,
    /// The plies where the middlegame and the endgame begin (Lichess's division).
    pub middlegame_ply: Option<u32>,
    pub endgame_ply: Option<u32>,
    /// How the game came about: Lichess `pool`, `arena`, `swiss`, `friend`, ...; Chess.com
    /// `live` or `daily`.
    pub source: Option<String>,
    /// The tournament, swiss, arena or match the game was part of.
    pub event_url: Option<String>,
    /// The position after the last move, from the replay; `None` when the moves did not
    /// validate.
    pub final_fen: Option<String>,
}

/// One side's engine review: Chess.com's Game Review gives the accuracy; Lichess's analysis all
/// of it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Analysis {
    /// 0-100.
    pub accuracy: Option<f64>,
    /// Average centipawn loss.
    pub acpl: Option<u32>,
    pub inaccuracies: Option<u32>,
    pub mistakes: Option<u32>,
    pub blunders: Option<u32>,
}

impl GameRecord {
    /// A record that knows only its key and PGN; everything else is still to be learnt.
    pub fn new(platform: Platform, game_id: impl Into<String>, pgn: impl Into<String>) -> Self {
        GameRecord {
            platform,
            game_id: game_id.into(),
            url: None,
            white: None,
            black: None,
            white_elo: None,
            black_elo: None,
            result: None,
            termination: None,
            variant: None,
            time_control: None,
            speed: None,
            rated: None,
            eco: None,
            opening: None,
            played_at: None,
            ply_count: None,
            valid: false,
            pgn: pgn.into(),
            ended_at: None,
            white_rating_diff: None,
            black_rating_diff: None,
            white_title: None,
            black_title: None,
            white_analysis: Analysis::default(),
            black_analysis: Analysis::default(),
            middlegame_ply: None,
            endgame_ply: None,
            source: None,
            event_url: None,
            final_fen: None,
        }
    }
}
