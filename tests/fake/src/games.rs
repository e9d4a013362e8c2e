//! Seeded generation of legal games shared by both fake providers.
//!
//! Everything here is a pure function of its seed: no wall clock, no global
//! RNG. That is what makes the fake's data reproducible between runs, so a
//! test can assert exact ids and a benchmark always serves the same bytes.

use std::fmt::Write as _;
use std::str::FromStr as _;

use shakmaty::fen::Fen;
use shakmaty::san::{San, SanPlus};
use shakmaty::{CastlingMode, Chess, Color, EnPassantMode, Position};

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash step.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over a string; stable across Rust versions, unlike `DefaultHasher`
/// whose algorithm std does not promise to keep.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Combine two seeds into a new independent one.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix(a ^ splitmix(b))
}

/// 128-bit content fingerprint rendered as 32 hex digits (chess.com ETags).
/// Two independent FNV-style lanes; not cryptographic, only "changes when the
/// content changes", which is all an ETag needs.
pub(crate) fn fingerprint(parts: &[&[u8]]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for part in parts {
        for chunk in part.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            let v = u64::from_le_bytes(w);
            a = (a ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
            b = (b ^ v.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
        a = splitmix(a ^ part.len() as u64);
        b = splitmix(b.wrapping_add(part.len() as u64));
    }
    format!("{:016x}{:016x}", splitmix(a), splitmix(b ^ a))
}

/// A named opening: its moves are played first, so ECO and name in the tags
/// are consistent with the movetext (a parser that classifies openings from
/// the moves will agree with the tags).
pub(crate) struct Opening {
    pub eco: &'static str,
    pub lichess_name: &'static str,
    pub chesscom_slug: &'static str,
    pub sans: &'static [&'static str],
}

pub(crate) static OPENINGS: &[Opening] = &[
    Opening {
        eco: "C50",
        lichess_name: "Italian Game",
        chesscom_slug: "Italian-Game",
        sans: &["e4", "e5", "Nf3", "Nc6", "Bc4"],
    },
    Opening {
        eco: "C65",
        lichess_name: "Ruy Lopez: Berlin Defense",
        chesscom_slug: "Ruy-Lopez-Opening-Berlin-Defense",
        sans: &["e4", "e5", "Nf3", "Nc6", "Bb5", "Nf6"],
    },
    Opening {
        eco: "B20",
        lichess_name: "Sicilian Defense",
        chesscom_slug: "Sicilian-Defense",
        sans: &["e4", "c5"],
    },
    Opening {
        eco: "C00",
        lichess_name: "French Defense",
        chesscom_slug: "French-Defense",
        sans: &["e4", "e6"],
    },
    Opening {
        eco: "B10",
        lichess_name: "Caro-Kann Defense",
        chesscom_slug: "Caro-Kann-Defense",
        sans: &["e4", "c6"],
    },
    Opening {
        eco: "D06",
        lichess_name: "Queen's Gambit",
        chesscom_slug: "Queens-Gambit",
        sans: &["d4", "d5", "c4"],
    },
    Opening {
        eco: "A10",
        lichess_name: "English Opening",
        chesscom_slug: "English-Opening",
        sans: &["c4"],
    },
    Opening {
        eco: "B01",
        lichess_name: "Scandinavian Defense",
        chesscom_slug: "Scandinavian-Defense",
        sans: &["e4", "d5"],
    },
    Opening {
        eco: "C42",
        lichess_name: "Russian Game",
        chesscom_slug: "Petrovs-Defense",
        sans: &["e4", "e5", "Nf3", "Nf6"],
    },
    Opening {
        eco: "A00",
        lichess_name: "Van't Kruijs Opening",
        chesscom_slug: "Vant-Kruijs-Opening",
        sans: &["e3"],
    },
    Opening {
        eco: "A45",
        lichess_name: "Indian Defense",
        chesscom_slug: "Indian-Game",
        sans: &["d4", "Nf6"],
    },
    Opening {
        eco: "C20",
        lichess_name: "King's Pawn Game",
        chesscom_slug: "Kings-Pawn-Opening",
        sans: &["e4", "e5"],
    },
];

/// How the move sequence itself ended (random play rarely mates, so most
/// games end `Open` and the caller picks resign/timeout/agreement).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoardEnd {
    Checkmate { winner: Color },
    Stalemate,
    Insufficient,
    Open,
}

/// The final result chosen for a game, provider-neutral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    Mate(Color),
    Resign(Color),
    Timeout(Color),
    Agreement,
    Stalemate,
    Insufficient,
}

impl Finish {
    pub fn winner(self) -> Option<Color> {
        match self {
            Finish::Mate(c) | Finish::Resign(c) | Finish::Timeout(c) => Some(c),
            _ => None,
        }
    }

    pub fn result(self) -> &'static str {
        match self.winner() {
            Some(Color::White) => "1-0",
            Some(Color::Black) => "0-1",
            None => "1/2-1/2",
        }
    }

    /// Decide the finish from the board, using the rng only when the board
    /// does not force one. A flag falls for the side to move (its clock was
    /// running), so its opponent wins on time.
    pub fn choose(played: &Played, rng: &mut fastrand::Rng) -> Finish {
        match played.end {
            BoardEnd::Checkmate { winner } => Finish::Mate(winner),
            BoardEnd::Stalemate => Finish::Stalemate,
            BoardEnd::Insufficient => Finish::Insufficient,
            BoardEnd::Open => match rng.u32(0..100) {
                0..60 => Finish::Resign(if rng.bool() {
                    Color::White
                } else {
                    Color::Black
                }),
                60..85 => Finish::Timeout(!played.turn),
                _ => Finish::Agreement,
            },
        }
    }
}

/// One played game: SAN movetext plus what both providers derive from it.
pub(crate) struct Played {
    /// SAN moves separated by single spaces (no move numbers), as lichess'
    /// `moves` field; SAN never contains spaces so splitting is safe.
    pub moves: String,
    pub plies: usize,
    /// FEN of the final position (6 fields).
    pub final_fen: String,
    pub end: BoardEnd,
    /// Side to move in the final position.
    pub turn: Color,
    pub opening: Option<&'static Opening>,
}

/// Play `target_plies` random legal moves from `start_fen` (standard start if
/// `None`), optionally beginning with a book opening. Stops early when the
/// game is over on the board.
pub(crate) fn play(
    rng: &mut fastrand::Rng,
    target_plies: usize,
    start_fen: Option<&str>,
    use_book: bool,
) -> Played {
    let mut pos: Chess = match start_fen {
        Some(fen) => Fen::from_str(fen)
            .ok()
            .and_then(|f| f.into_position(CastlingMode::Standard).ok())
            .unwrap_or_default(),
        None => Chess::default(),
    };
    let mut moves = String::with_capacity(target_plies * 5);
    let mut plies = 0usize;
    let mut opening = None;

    if use_book && start_fen.is_none() {
        let book = &OPENINGS[rng.usize(..OPENINGS.len())];
        if book.sans.len() <= target_plies {
            for s in book.sans {
                let Ok(san) = San::from_str(s) else { break };
                let Ok(m) = san.to_move(&pos) else { break };
                play_one(&mut pos, m, &mut moves);
                plies += 1;
            }
            if plies == book.sans.len() {
                opening = Some(book);
            }
        }
    }

    while plies < target_plies {
        let legal = pos.legal_moves();
        if legal.is_empty() || pos.is_insufficient_material() {
            break;
        }
        let m = legal[rng.usize(..legal.len())];
        play_one(&mut pos, m, &mut moves);
        plies += 1;
    }

    let end = if pos.is_checkmate() {
        BoardEnd::Checkmate {
            winner: !pos.turn(),
        }
    } else if pos.is_stalemate() {
        BoardEnd::Stalemate
    } else if pos.is_insufficient_material() {
        BoardEnd::Insufficient
    } else {
        BoardEnd::Open
    };

    Played {
        moves,
        plies,
        final_fen: Fen::from_position(&pos, EnPassantMode::Legal).to_string(),
        end,
        turn: pos.turn(),
        opening,
    }
}

fn play_one(pos: &mut Chess, m: shakmaty::Move, moves: &mut String) {
    let san = SanPlus::from_move_and_play_unchecked(pos, m);
    if !moves.is_empty() {
        moves.push(' ');
    }
    san.append_to_string(moves);
}

/// Remaining clock (in `unit`s) of the mover after each ply. The first move
/// of each side is free, as on both sites; thinking time is random but never
/// empties the clock (a timeout loss is written by the caller).
pub(crate) fn clocks(rng: &mut fastrand::Rng, plies: usize, initial: u32, inc: u32) -> Vec<u32> {
    let mut left = [initial, initial];
    let mut out = Vec::with_capacity(plies);
    for ply in 0..plies {
        let side = ply % 2;
        if ply >= 2 {
            let cap = (left[side] / 12).max(1);
            let think = rng.u32(0..cap);
            left[side] = left[side].saturating_sub(think).max(1) + inc;
        }
        out.push(left[side]);
    }
    out
}

/// Clock time both sides used, in the clocks' unit: what each started with
/// plus increments, minus what is left.
pub(crate) fn time_spent(clocks: &[u32], initial: u32, inc: u32) -> i64 {
    let mut spent = 0i64;
    for side in 0..2 {
        let moves = clocks.len().saturating_sub(side).div_ceil(2);
        let left = match moves {
            0 => initial,
            m => clocks[side + 2 * (m - 1)],
        };
        let moves = moves as i64;
        spent += i64::from(initial) + moves * i64::from(inc) - i64::from(left);
    }
    spent.max(0)
}

const ADJECTIVES: &[&str] = &[
    "Swift", "Quiet", "Bold", "Lazy", "Brave", "Clever", "Dark", "Bright", "Wild", "Calm", "Royal",
    "Silent", "Rapid", "Iron", "Golden", "Lucky",
];
const NOUNS: &[&str] = &[
    "Knight",
    "Rook",
    "Bishop",
    "Pawn",
    "Queen",
    "King",
    "Gambit",
    "Fianchetto",
    "Castle",
    "Zugzwang",
    "Tempo",
    "Outpost",
    "Fork",
    "Pin",
];

/// A plausible opponent username valid on both sites (3..=20 chars of
/// `[A-Za-z0-9_]`).
pub(crate) fn opponent_name(rng: &mut fastrand::Rng) -> String {
    let adj = ADJECTIVES[rng.usize(..ADJECTIVES.len())];
    let noun = NOUNS[rng.usize(..NOUNS.len())];
    match rng.u32(0..3) {
        0 => format!("{adj}{noun}{}", rng.u32(1..2000)),
        1 => format!("{}_{}", adj.to_lowercase(), noun.to_lowercase()),
        _ => format!("{noun}{adj}{}", rng.u32(10..100)),
    }
}

const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Lichess game id: 8 chars of `[A-Za-z0-9]`.
pub(crate) fn lichess_id(rng: &mut fastrand::Rng) -> String {
    (0..8)
        .map(|_| ID_CHARS[rng.usize(..ID_CHARS.len())] as char)
        .collect()
}

/// A version-1 (time-based) UUID for `unix_secs`, like chess.com's
/// `2f6c05fb-96ef-11ea-b6ee-eb3d40010001`. Clock sequence and node come from
/// the rng, so two games ending in the same second still differ.
pub(crate) fn time_uuid(rng: &mut fastrand::Rng, unix_secs: i64) -> String {
    // 100 ns ticks since 1582-10-15, the UUID v1 epoch.
    let ticks = (unix_secs.max(0) as u64)
        .wrapping_mul(10_000_000)
        .wrapping_add(0x01B2_1DD2_1381_4000)
        .wrapping_add(rng.u64(0..10_000_000));
    let time_low = ticks & 0xFFFF_FFFF;
    let time_mid = (ticks >> 32) & 0xFFFF;
    let time_hi = ((ticks >> 48) & 0x0FFF) | 0x1000;
    let clock_seq = (rng.u16(..) & 0x3FFF) | 0x8000;
    let node = rng.u64(..) & 0xFFFF_FFFF_FFFF;
    format!("{time_low:08x}-{time_mid:04x}-{time_hi:04x}-{clock_seq:04x}-{node:012x}")
}

/// PGN tag value escaping (backslash and double quote), as both sites do.
pub(crate) fn push_tag(out: &mut String, name: &str, value: &str) {
    out.push('[');
    out.push_str(name);
    out.push_str(" \"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("\"]\n");
}

/// `yyyy.MM.dd` and `HH:mm:ss` of a unix time in seconds (UTC).
pub(crate) fn utc_date_time(unix_secs: i64) -> (String, String) {
    let dt = chrono::DateTime::from_timestamp(unix_secs, 0).unwrap_or_default();
    (
        dt.format("%Y.%m.%d").to_string(),
        dt.format("%H:%M:%S").to_string(),
    )
}

/// `H:MM:SS` from whole seconds (lichess `[%clk]`).
pub(crate) fn push_hms(out: &mut String, secs: u32) {
    let _ = write!(
        out,
        "{}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
}
