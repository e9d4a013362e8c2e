//! What we store from one game's PGN: the tags that fill the gaps a provider's JSON left in a
//! [`GameRecord`], and a replay of the main line under the game's rules, which tells whether the
//! moves are legal and how many plies were played.
//!
//! Each PGN is read exactly once, without copying it and without allocating per move. A
//! [`pgn_reader::Reader`] parses the tags (quoting, escapes, tag syntax) and hands back the
//! place where the movetext starts; [`replay`] then plays every move on a [`VariantPosition`] as
//! it reads it, skipping comments (the `[%clk]` on every move), NAGs and variations. The movetext
//! is not left to pgn-reader's own parser because that one silently drops any token it cannot
//! read as SAN: a garbled last move (`Qe9`, a German `Sf3`) would vanish and the game would still
//! count as valid.

use std::borrow::Cow;
use std::convert::Infallible;
use std::ops::ControlFlow;

use chrono::{NaiveDate, NaiveTime};
use pgn_reader::{RawTag, Reader, Visitor};
use shakmaty::fen::{Fen, ParseFenError};
use shakmaty::san::SanPlus;
use shakmaty::variant::{Variant, VariantPosition};
use shakmaty::{CastlingMode, Position, PositionError};

use crate::game::GameRecord;

/// Fills every field of `record` that is still `None` from the game's PGN tags, canonicalises
/// `record.variant`, and replays the moves to set `ply_count` and `valid`.
///
/// The rules come from `record.variant` as the provider gave it, else the PGN's `[Variant]` tag,
/// else standard chess; the start position from the `[FEN]` tag, else the variant's own. Only
/// the first game of the PGN is read. A game whose moves cannot all be replayed (an illegal or
/// unreadable move, a bad FEN, unknown rules, no termination marker, a syntax error, no game at
/// all) gets `valid == false` and `ply_count == None`, and every tag that could be read is still
/// filled in.
pub fn complete(record: &mut GameRecord) {
    // The tag reader borrows the PGN while it writes the other fields: moving the string out for
    // the duration keeps the two borrows apart without copying it.
    let pgn = std::mem::take(&mut record.pgn);
    let mut tags = TagReader::new(record);
    let movetext = tags.read(pgn.as_bytes());
    let fen = tags.finish();
    let plies = movetext.and_then(|movetext| {
        let start = start_position(record.variant.as_deref(), fen)?;
        replay(movetext, start)
    });
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
/// own name so that those games stay recognisable.
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
/// Lichess JSON uses camelCase keys, Lichess PGN title case with spaces or hyphens, Chess.com
/// lowercase, and `Fischerandom` is the traditional PGN name of Chess960.
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

/// The position the moves start from: `fen` when the PGN has one, else the variant's own start.
/// `None` when the rules are unknown or the FEN cannot be set up.
fn start_position(
    rules_name: Option<&str>,
    fen: Option<Result<Fen, ParseFenError>>,
) -> Option<VariantPosition> {
    let rules = match rules_name {
        Some(name) => Rules::from_name(name)?,
        None => Rules::Standard,
    };
    let Some(fen) = fen else {
        return Some(VariantPosition::new(rules.variant()));
    };
    let setup = fen.ok()?.into_setup();
    // Chess960 FENs come with Shredder castling letters (`GAga`) or with KQkq; `detect` also
    // reads a 960 castling setup served under another name (a "From Position" game, say).
    let mode = if rules == Rules::Chess960 {
        CastlingMode::Chess960
    } else {
        CastlingMode::detect(&setup)
    };
    VariantPosition::from_setup(rules.variant(), setup, mode)
        // Board editors and odds setups let these through, and none of them keeps the moves from
        // being replayed.
        .or_else(PositionError::ignore_invalid_ep_square)
        .or_else(PositionError::ignore_too_much_material)
        .or_else(PositionError::ignore_impossible_check)
        .ok()
}

/// Reads the tags of a PGN's first game into a [`GameRecord`].
///
/// What the tags say about the start position and the start time is kept here rather than in
/// [`Visitor::Tags`], so that it survives a syntax error part-way through the tags.
struct TagReader<'r> {
    record: &'r mut GameRecord,
    fen: Option<Result<Fen, ParseFenError>>,
    utc_date: Option<NaiveDate>,
    utc_time: Option<NaiveTime>,
    date: Option<NaiveDate>,
    start_time: Option<NaiveTime>,
}

impl<'r> TagReader<'r> {
    fn new(record: &'r mut GameRecord) -> Self {
        TagReader {
            record,
            fen: None,
            utc_date: None,
            utc_time: None,
            date: None,
            start_time: None,
        }
    }

    /// Reads the tags of the first game of `pgn` and returns its movetext (running on to the end
    /// of `pgn`), or `None` when there is no game or its tags are malformed.
    fn read<'p>(&mut self, pgn: &'p [u8]) -> Option<&'p [u8]> {
        let mut reader = Reader::new(pgn);
        // A byte slice cannot fail to read: an error is a syntax error, such as an unterminated
        // tag.
        reader.read_game(self).ok()??;
        // The reader stopped right at the movetext, which is what it still holds in its buffer
        // followed by what it has not read from the slice yet.
        let buffered = reader.buffer().len();
        let unread = reader.into_inner().len();
        pgn.get(pgn.len().checked_sub(buffered + unread)?..)
    }

    /// Sets `played_at` from the date tags and hands back the `[FEN]` tag, if there was one.
    fn finish(self) -> Option<Result<Fen, ParseFenError>> {
        if self.record.played_at.is_none() {
            // UTCDate+UTCTime when the PGN has them, else Date (+ StartTime).
            let start = match (self.utc_date, self.date) {
                (Some(utc_date), _) => Some((utc_date, self.utc_time)),
                (None, Some(date)) => Some((date, self.start_time)),
                (None, None) => None,
            };
            self.record.played_at = start.map(|(date, time)| {
                let start = date.and_time(time.unwrap_or(NaiveTime::MIN));
                start.and_utc().timestamp_millis()
            });
        }
        self.fen
    }
}

impl Visitor for TagReader<'_> {
    type Tags = ();
    type Movetext = Infallible;
    type Output = ();

    fn begin_tags(&mut self) -> ControlFlow<Self::Output, Self::Tags> {
        ControlFlow::Continue(())
    }

    fn tag(&mut self, _tags: &mut (), name: &[u8], value: RawTag<'_>) -> ControlFlow<Self::Output> {
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
        ControlFlow::Continue(())
    }

    fn begin_movetext(&mut self, _tags: ()) -> ControlFlow<Self::Output, Self::Movetext> {
        ControlFlow::Break(())
    }

    fn end_game(&mut self, movetext: Infallible) -> Self::Output {
        match movetext {}
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

/// Plays the main line of `movetext` from `pos` and returns the number of plies, or `None` when
/// a move is illegal or unreadable, or the game ends (end of input, a blank line, the next
/// game's tags) before its termination marker (`1-0`, `0-1`, `1/2-1/2`, `*`). Every PGN the
/// providers serve has that marker, even with no moves at all (` 0-1`).
fn replay(movetext: &[u8], mut pos: VariantPosition) -> Option<u32> {
    let mut plies = 0;
    let mut rest = movetext;
    while let Some((&first, tail)) = rest.split_first() {
        rest = match first {
            b' ' | b'\t' | b'\r' | b'.' | b'!' | b'?' => tail,
            b'\n' if ends_game(tail) => return None,
            b'\n' => tail,
            b'{' => skip_past(tail, b'}')?,
            b';' => skip_past(tail, b'\n').unwrap_or_default(),
            b'(' => skip_variation(tail)?,
            b'$' => skip_while(tail, |b| b.is_ascii_digit()),
            b'*' => return Some(plies),
            b'0'..=b'9'
                if [&b"1-0"[..], b"0-1", b"1/2-1/2"]
                    .iter()
                    .any(|outcome| rest.starts_with(outcome)) =>
            {
                return Some(plies);
            }
            // A move number: `12.`, or `12...` before a black move.
            b'0'..=b'9' => skip_while(skip_while(tail, |b| b.is_ascii_digit()), |b| b == b'.'),
            _ => {
                let end = rest
                    .iter()
                    .position(|&b| ends_token(b))
                    .unwrap_or(rest.len());
                let (token, after) = rest.split_at(end);
                let m = SanPlus::from_ascii(token).ok()?.san.to_move(&pos).ok()?;
                pos.play_unchecked(m);
                plies += 1;
                after
            }
        };
    }
    None
}

/// Skips a variation whose `(` has been read, with any variations and comments inside it.
fn skip_variation(mut rest: &[u8]) -> Option<&[u8]> {
    let mut depth = 1_u32;
    while let Some((&first, tail)) = rest.split_first() {
        rest = match first {
            b'(' => {
                depth += 1;
                tail
            }
            b')' if depth == 1 => return Some(tail),
            b')' => {
                depth -= 1;
                tail
            }
            b'{' => skip_past(tail, b'}')?,
            b';' => skip_past(tail, b'\n')?,
            b'\n' if ends_game(tail) => return None,
            _ => tail,
        };
    }
    None
}

/// Whether a line break followed by `after` ends the game's movetext, as in pgn-reader: a blank
/// line or the next game's tags.
fn ends_game(after: &[u8]) -> bool {
    matches!(after, [b'\n' | b'[', ..] | [b'\r', b'\n', ..])
}

/// The bytes that end a SAN token, as in pgn-reader.
fn ends_token(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b'{'
            | b'}'
            | b'('
            | b')'
            | b'!'
            | b'?'
            | b'$'
            | b';'
            | b'.'
            | b'*'
    )
}

/// What follows the first `byte` in `bytes`, or `None` when there is none.
fn skip_past(bytes: &[u8], byte: u8) -> Option<&[u8]> {
    let at = bytes.iter().position(|&b| b == byte)?;
    Some(&bytes[at + 1..])
}

fn skip_while(bytes: &[u8], skip: impl Fn(u8) -> bool) -> &[u8] {
    let at = bytes.iter().position(|&b| !skip(b)).unwrap_or(bytes.len());
    &bytes[at..]
}
