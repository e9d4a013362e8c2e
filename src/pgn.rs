//! What we store from one game's PGN: the tags that fill the gaps a provider's JSON left in a
//! [`GameRecord`], and a replay of the main line under the game's rules, which tells whether the
//! moves are legal and how many plies were played.
//!
//! Each PGN is parsed exactly once: a [`pgn_reader::Reader`] drives a small visitor that writes
//! tag values straight into the record and plays every move on a [`VariantPosition`] as soon as
//! it is read. Comments (the `[%clk]` on every move), NAGs and variations are skipped by the
//! reader itself, so nothing is allocated per move.

use std::borrow::Cow;
use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveTime};
use pgn_reader::{RawTag, Reader, Visitor};
use shakmaty::fen::{Fen, ParseFenError};
use shakmaty::san::SanPlus;
use shakmaty::variant::{Variant, VariantPosition};
use shakmaty::{CastlingMode, Outcome, Position, PositionError};

use crate::game::GameRecord;

/// Fills every field of `record` that is still `None` from the game's PGN tags, canonicalises
/// `record.variant`, and replays the moves to set `ply_count` and `valid`.
///
/// The rules come from `record.variant` as the provider gave it, else the PGN's `[Variant]` tag,
/// else standard chess; the start position from the `[FEN]` tag, else the variant's own. Only
/// the first game of the PGN is read. A PGN whose moves cannot all be replayed (an illegal or
/// unreadable move, a bad FEN, unknown rules, no termination marker, a syntax error, nothing at
/// all) leaves `valid == false` and `ply_count == None`, with every tag read before the problem
/// still filled in.
pub fn complete(record: &mut GameRecord) {
    // The reader borrows the PGN while the visitor writes the other fields: moving the string out
    // for the duration keeps both borrows apart without copying it.
    let pgn = std::mem::take(&mut record.pgn);
    let mut extractor = Extractor::new(record);
    // Reading a byte slice cannot fail for I/O reasons; an error is a syntax error such as an
    // unterminated tag, which makes the game invalid like any other unreadable PGN.
    let plies = Reader::new(pgn.as_bytes())
        .read_game(&mut extractor)
        .ok()
        .flatten()
        .flatten();
    extractor.fill_played_at();
    record.pgn = pgn;
    record.ply_count = plies;
    record.valid = plies.is_some();

    let canonical = canonical_variant(record.variant.as_deref().unwrap_or("standard"));
    if record.variant.as_deref() != Some(&*canonical) {
        let canonical = canonical.into_owned();
        record.variant = Some(canonical);
    }
}

/// The name we store for a provider's or a PGN's rules name: `kingOfTheHill`, `King of the Hill`
/// and `kingofthehill` all give `king_of_the_hill`, `chess` and `Standard` give `standard`,
/// `fromPosition` and `From Position` give `from_position`. Names we do not know (Chess.com's
/// `bughouse`, say) are kept, lowercased.
pub fn canonical_variant(name: &str) -> Cow<'_, str> {
    match Rules::from_name(name) {
        Some(rules) => Cow::Borrowed(rules.canonical_name()),
        None if name.chars().any(char::is_uppercase) => Cow::Owned(name.to_lowercase()),
        None => Cow::Borrowed(name),
    }
}

/// The rule sets we can replay. Odds chess is standard chess from a handicap FEN, but keeps its
/// own name so that the games stay distinguishable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rules {
    Standard,
    Chess960,
    FromPosition,
    OddsChess,
    Crazyhouse,
    Antichess,
    Atomic,
    Horde,
    KingOfTheHill,
    RacingKings,
    ThreeCheck,
}

/// Every spelling we accept, as it reads once lowercased and stripped of spaces, `_` and `-`:
/// Lichess JSON uses camelCase keys, Lichess PGN title case with spaces or hyphens, and
/// Chess.com all lowercase.
const RULES_NAMES: [(&str, Rules); 13] = [
    ("standard", Rules::Standard),
    ("chess", Rules::Standard),
    ("chess960", Rules::Chess960),
    ("fischerandom", Rules::Chess960),
    ("fromposition", Rules::FromPosition),
    ("oddschess", Rules::OddsChess),
    ("crazyhouse", Rules::Crazyhouse),
    ("antichess", Rules::Antichess),
    ("atomic", Rules::Atomic),
    ("horde", Rules::Horde),
    ("kingofthehill", Rules::KingOfTheHill),
    ("racingkings", Rules::RacingKings),
    ("threecheck", Rules::ThreeCheck),
];

impl Rules {
    fn from_name(name: &str) -> Option<Rules> {
        RULES_NAMES
            .iter()
            .find(|(key, _)| loosely_equal(name, key))
            .map(|&(_, rules)| rules)
    }

    fn canonical_name(self) -> &'static str {
        match self {
            Rules::Standard => "standard",
            Rules::Chess960 => "chess960",
            Rules::FromPosition => "from_position",
            Rules::OddsChess => "oddschess",
            Rules::Crazyhouse => "crazyhouse",
            Rules::Antichess => "antichess",
            Rules::Atomic => "atomic",
            Rules::Horde => "horde",
            Rules::KingOfTheHill => "king_of_the_hill",
            Rules::RacingKings => "racing_kings",
            Rules::ThreeCheck => "three_check",
        }
    }

    fn variant(self) -> Variant {
        match self {
            Rules::Standard | Rules::Chess960 | Rules::FromPosition | Rules::OddsChess => {
                Variant::Chess
            }
            Rules::Crazyhouse => Variant::Crazyhouse,
            Rules::Antichess => Variant::Antichess,
            Rules::Atomic => Variant::Atomic,
            Rules::Horde => Variant::Horde,
            Rules::KingOfTheHill => Variant::KingOfTheHill,
            Rules::RacingKings => Variant::RacingKings,
            Rules::ThreeCheck => Variant::ThreeCheck,
        }
    }
}

/// Whether `name` spells `key` (lowercase, no separators) up to case, spaces, `_` and `-`,
/// without allocating a normalised copy.
fn loosely_equal(name: &str, key: &str) -> bool {
    let mut letters = name
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'_' | b'-'))
        .map(|b| b.to_ascii_lowercase());
    key.bytes().all(|k| letters.next() == Some(k)) && letters.next().is_none()
}

/// Visits the first game of a PGN on behalf of [`complete`].
///
/// Tag-derived state lives here rather than in [`Visitor::Tags`] so that it survives a syntax
/// error part-way through the tags: what was read before the error still counts.
struct Extractor<'r> {
    record: &'r mut GameRecord,
    fen: Option<Result<Fen, ParseFenError>>,
    utc_date: Option<NaiveDate>,
    utc_time: Option<NaiveTime>,
    date: Option<NaiveDate>,
    start_time: Option<NaiveTime>,
}

/// The main line being replayed.
struct Replay {
    pos: VariantPosition,
    plies: u32,
    /// A game termination marker (`1-0`, `0-1`, `1/2-1/2`, `*`) was read. Every PGN the providers
    /// serve has one, even with no moves (` 0-1`), and the reader silently skips text it cannot
    /// tokenise, so a "game" without one is almost certainly not a PGN at all.
    terminated: bool,
}

impl<'r> Extractor<'r> {
    fn new(record: &'r mut GameRecord) -> Self {
        Extractor {
            record,
            fen: None,
            utc_date: None,
            utc_time: None,
            date: None,
            start_time: None,
        }
    }

    fn read_tag(&mut self, name: &[u8], value: RawTag<'_>) {
        let record = &mut *self.record;
        match name {
            b"White" => fill(&mut record.white, value, text),
            b"Black" => fill(&mut record.black, value, text),
            b"WhiteElo" => fill(&mut record.white_elo, value, elo),
            b"BlackElo" => fill(&mut record.black_elo, value, elo),
            b"Result" => fill(&mut record.result, value, result),
            b"Termination" => fill(&mut record.termination, value, text),
            b"ECO" => fill(&mut record.eco, value, eco),
            b"Opening" => fill(&mut record.opening, value, text),
            b"TimeControl" => fill(&mut record.time_control, value, text),
            // Lichess puts the game's address in Site; Chess.com puts "Chess.com" there and the
            // address in Link.
            b"Site" | b"Link" => fill(&mut record.url, value, url),
            b"Variant" => fill(&mut record.variant, value, text),
            b"FEN" => {
                self.fen
                    .get_or_insert_with(|| Fen::from_ascii(value.as_bytes()));
            }
            b"UTCDate" => self.utc_date = self.utc_date.or_else(|| date(value.as_bytes())),
            b"UTCTime" => self.utc_time = self.utc_time.or_else(|| time(value.as_bytes())),
            b"Date" => self.date = self.date.or_else(|| date(value.as_bytes())),
            b"StartTime" => self.start_time = self.start_time.or_else(|| time(value.as_bytes())),
            _ => {}
        }
    }

    /// The position the moves start from, or `None` when the rules are unknown or the FEN
    /// cannot be set up.
    fn start_position(&mut self) -> Option<VariantPosition> {
        let rules = match self.record.variant.as_deref() {
            Some(name) => Rules::from_name(name)?,
            None => Rules::Standard,
        };
        let Some(fen) = self.fen.take() else {
            return Some(VariantPosition::new(rules.variant()));
        };
        let setup = fen.ok()?.into_setup();
        // Chess960 FENs may use Shredder castling letters (`GAga`) or KQkq; `detect` also catches
        // a non-standard castling setup under other rules' names (e.g. a "From Position" 960).
        let mode = if rules == Rules::Chess960 {
            CastlingMode::Chess960
        } else {
            CastlingMode::detect(&setup)
        };
        VariantPosition::from_setup(rules.variant(), setup, mode)
            // Board editors and odds setups let these through, and none of them stops the moves
            // from being replayed.
            .or_else(PositionError::ignore_invalid_ep_square)
            .or_else(PositionError::ignore_too_much_material)
            .or_else(PositionError::ignore_impossible_check)
            .ok()
    }

    /// UTCDate+UTCTime when the PGN has them, else Date (+ StartTime).
    fn fill_played_at(&mut self) {
        if self.record.played_at.is_some() {
            return;
        }
        let (date, time) = match (self.utc_date, self.date) {
            (Some(utc_date), _) => (utc_date, self.utc_time),
            (None, Some(date)) => (date, self.start_time),
            (None, None) => return,
        };
        let start = date.and_time(time.unwrap_or(NaiveTime::MIN));
        self.record.played_at = Some(start.and_utc().timestamp_millis());
    }
}

impl Visitor for Extractor<'_> {
    type Tags = ();
    type Movetext = Replay;
    /// The ply count, when the whole main line replayed.
    type Output = Option<u32>;

    fn begin_tags(&mut self) -> ControlFlow<Self::Output, Self::Tags> {
        ControlFlow::Continue(())
    }

    fn tag(&mut self, _tags: &mut (), name: &[u8], value: RawTag<'_>) -> ControlFlow<Self::Output> {
        self.read_tag(name, value);
        ControlFlow::Continue(())
    }

    fn begin_movetext(&mut self, _tags: ()) -> ControlFlow<Self::Output, Self::Movetext> {
        match self.start_position() {
            Some(pos) => ControlFlow::Continue(Replay {
                pos,
                plies: 0,
                terminated: false,
            }),
            None => ControlFlow::Break(None),
        }
    }

    fn san(&mut self, replay: &mut Replay, san_plus: SanPlus) -> ControlFlow<Self::Output> {
        match san_plus.san.to_move(&replay.pos) {
            Ok(m) => {
                replay.pos.play_unchecked(m);
                replay.plies += 1;
                ControlFlow::Continue(())
            }
            Err(_) => ControlFlow::Break(None),
        }
    }

    fn outcome(&mut self, replay: &mut Replay, _outcome: Outcome) -> ControlFlow<Self::Output> {
        replay.terminated = true;
        ControlFlow::Continue(())
    }

    fn end_game(&mut self, replay: Replay) -> Self::Output {
        replay.terminated.then_some(replay.plies)
    }
}

/// Sets `field` from a tag value unless the provider already did.
fn fill<T>(field: &mut Option<T>, value: RawTag<'_>, parse: fn(&str) -> Option<T>) {
    if field.is_none() {
        *field = parse(&value.decode_utf8_lossy());
    }
}

/// PGN's spelling of "unknown" is `?`.
fn text(value: &str) -> Option<String> {
    (!value.is_empty() && value != "?").then(|| value.to_owned())
}

fn elo(value: &str) -> Option<i32> {
    value.parse().ok().filter(|&rating| rating > 0)
}

fn result(value: &str) -> Option<String> {
    matches!(value, "1-0" | "0-1" | "1/2-1/2" | "*").then(|| value.to_owned())
}

fn eco(value: &str) -> Option<String> {
    matches!(value.as_bytes(), [b'A'..=b'E', b'0'..=b'9', b'0'..=b'9']).then(|| value.to_owned())
}

fn url(value: &str) -> Option<String> {
    value.starts_with("http").then(|| value.to_owned())
}

/// `YYYY.MM.DD`; PGN's unknown parts (`????.??.??`) give `None`.
fn date(value: &[u8]) -> Option<NaiveDate> {
    let &[y0, y1, y2, y3, b'.', m0, m1, b'.', d0, d1] = value else {
        return None;
    };
    let year = i32::try_from(digits(&[y0, y1, y2, y3])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&[m0, m1])?, digits(&[d0, d1])?)
}

/// `HH:MM:SS`.
fn time(value: &[u8]) -> Option<NaiveTime> {
    let &[h0, h1, b':', m0, m1, b':', s0, s1] = value else {
        return None;
    };
    NaiveTime::from_hms_opt(digits(&[h0, h1])?, digits(&[m0, m1])?, digits(&[s0, s1])?)
}

fn digits(ascii: &[u8]) -> Option<u32> {
    ascii.iter().try_fold(0, |number, &digit| {
        digit
            .is_ascii_digit()
            .then(|| number * 10 + u32::from(digit - b'0'))
    })
}
