//! Fake lichess.org: `/api/games/user/{name}`, `/api/games/export/_ids` and
//! `/api/user/{name}`, the endpoints the importer calls.
//!
//! Behaviour follows lila (see the research notes): NDJSON only for an exact
//! `application/x-ndjson` Accept (or one starting with `application/json`),
//! PGN otherwise; `createdAt` desc order; `since` inclusive and `until`
//! exclusive in ms; unparsable numbers ignored; trueish booleans; 404 for
//! unknown/closed users and crawler User-Agents; 429 without Retry-After for
//! a concurrent stream.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;
use shakmaty::Color;

use super::games::{self, Finish, Opening};
use super::{
    BodyPlan, Endpoint, FakeServer, InFlight, Route, Shared, StreamFault, lock, query_pairs,
    simple, stream_body,
};

/// A hand-made Lichess game. Unset fields are derived from the seed.
#[derive(Clone, Debug)]
pub struct LichessGameSpec {
    /// 8 chars `[A-Za-z0-9]`; generated when `None`.
    pub id: Option<String>,
    pub white: String,
    pub black: String,
    pub created_at_ms: i64,
    /// Number of plies; random 20..=80 when `None`. Random play may end
    /// earlier on mate or stalemate.
    pub plies: Option<usize>,
    pub seed: Option<u64>,
    pub rated: bool,
    /// `(initial seconds, increment seconds)`; `None` = correspondence.
    pub time_control: Option<(u32, u32)>,
    /// Status `started` until [`FakeServer::finish_lichess_game`].
    pub ongoing: bool,
    pub white_rating: Option<u32>,
    pub black_rating: Option<u32>,
    /// `players.<color>.user.title` and the `WhiteTitle`/`BlackTitle` tags.
    pub white_title: Option<String>,
    pub black_title: Option<String>,
    /// Whether the game has a computer analysis (served with `evals`/`accuracy`).
    pub analysed: bool,
    /// The arena (`arenaTour`) or swiss (`swissTour`) the game was played in.
    pub event: Option<LichessEvent>,
}

/// A tournament a Lichess game belongs to.
#[derive(Clone, Debug)]
pub enum LichessEvent {
    Arena(String),
    Swiss(String),
}

impl LichessGameSpec {
    pub fn new(white: &str, black: &str, created_at_ms: i64) -> Self {
        Self {
            id: None,
            white: white.to_string(),
            black: black.to_string(),
            created_at_ms,
            plies: None,
            seed: None,
            rated: true,
            time_control: Some((180, 2)),
            ongoing: false,
            white_rating: None,
            black_rating: None,
            white_title: None,
            black_title: None,
            analysed: false,
            event: None,
        }
    }

    pub fn titles(mut self, white: Option<&str>, black: Option<&str>) -> Self {
        self.white_title = white.map(str::to_string);
        self.black_title = black.map(str::to_string);
        self
    }

    pub fn analysed(mut self) -> Self {
        self.analysed = true;
        self
    }

    pub fn event(mut self, event: LichessEvent) -> Self {
        self.event = Some(event);
        self
    }

    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }

    pub fn casual(mut self) -> Self {
        self.rated = false;
        self
    }

    pub fn time_control(mut self, initial_secs: u32, increment_secs: u32) -> Self {
        self.time_control = Some((initial_secs, increment_secs));
        self
    }

    pub fn correspondence(mut self) -> Self {
        self.time_control = None;
        self
    }

    pub fn ongoing(mut self) -> Self {
        self.ongoing = true;
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Started,
    Mate,
    Resign,
    Stalemate,
    Outoftime,
    Draw,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Started => "started",
            Status::Mate => "mate",
            Status::Resign => "resign",
            Status::Stalemate => "stalemate",
            Status::Outoftime => "outoftime",
            Status::Draw => "draw",
        }
    }

    pub(crate) fn finished(self) -> bool {
        self != Status::Started
    }

    fn termination(self) -> &'static str {
        match self {
            Status::Started => "Unterminated",
            Status::Outoftime => "Time forfeit",
            _ => "Normal",
        }
    }

    fn from_finish(f: Finish) -> Self {
        match f {
            Finish::Mate(_) => Status::Mate,
            Finish::Resign(_) => Status::Resign,
            Finish::Timeout(_) => Status::Outoftime,
            Finish::Stalemate => Status::Stalemate,
            Finish::Agreement | Finish::Insufficient => Status::Draw,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Player {
    pub name: String,
    pub id: String,
    pub rating: u32,
    pub rating_diff: Option<i32>,
    pub title: Option<String>,
    /// The side's summary of the game's analysis, when it has one.
    pub analysis: Option<SideAnalysis>,
}

/// `players.<color>.analysis`, as lila sends it.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct SideAnalysis {
    pub inaccuracy: u32,
    pub mistake: u32,
    pub blunder: u32,
    pub acpl: u32,
    /// Sent only with `accuracy=true`.
    #[serde(skip)]
    pub accuracy: u32,
}

/// Output flags that change the rendered bytes.
#[derive(Clone, Copy, Debug)]
struct Flags {
    pgn_in_json: bool,
    clocks: bool,
    opening: bool,
    moves: bool,
    evals: bool,
    accuracy: bool,
    division: bool,
}

impl Flags {
    fn ndjson_slot(self) -> usize {
        usize::from(self.pgn_in_json)
            | usize::from(self.clocks) << 1
            | usize::from(self.opening) << 2
            | usize::from(self.moves) << 3
    }

    fn pgn_slot(self) -> usize {
        16 + (usize::from(self.clocks) | usize::from(self.opening) << 1)
    }

    /// What importers ask for; pre-rendered at generation time.
    const COMMON: Flags = Flags {
        pgn_in_json: true,
        clocks: true,
        opening: true,
        moves: true,
        evals: false,
        accuracy: false,
        division: false,
    };

    /// Whether the analysis flags are off: only those renderings are cached.
    fn cacheable(self) -> bool {
        !(self.evals || self.accuracy || self.division)
    }
}

pub(crate) struct LichessGame {
    pub id: String,
    pub seq: u64,
    pub rated: bool,
    pub speed: &'static str,
    pub source: &'static str,
    pub created_at: i64,
    pub last_move_at: i64,
    pub status: Status,
    pub white: Player,
    pub black: Player,
    pub winner: Option<Color>,
    pub opening: Option<&'static Opening>,
    pub moves: String,
    /// Centiseconds left after each ply; `None` without a clock.
    pub clocks: Option<Vec<u32>>,
    pub clock: Option<(u32, u32)>,
    pub days_per_turn: Option<u32>,
    /// The engine's evaluation after each ply, in centipawns, when the game is analysed.
    pub evals: Option<Vec<i32>>,
    /// Where the middlegame and the endgame begin, in plies (`division`).
    pub division: (Option<usize>, Option<usize>),
    pub event: Option<LichessEvent>,
    /// For an ongoing game: the version that [`FakeServer::finish_lichess_game`] installs.
    pub finished_version: Option<Arc<LichessGame>>,
    /// Rendered bytes per flag combination: 16 NDJSON + 4 PGN slots.
    cache: [OnceLock<Bytes>; 20],
}

fn speed_of(clock: Option<(u32, u32)>) -> &'static str {
    match clock {
        None => "correspondence",
        Some((initial, inc)) => match initial + 40 * inc {
            0..30 => "ultraBullet",
            30..180 => "bullet",
            180..480 => "blitz",
            480..1500 => "rapid",
            _ => "classical",
        },
    }
}

pub(crate) fn rating_base(name: &str) -> u32 {
    1200 + (games::hash_str(&name.to_lowercase()) % 1000) as u32
}

/// A computer analysis of a game of `plies`: the evaluation after each ply, and each side's
/// summary.
fn analyse(rng: &mut fastrand::Rng, plies: usize) -> (Vec<i32>, SideAnalysis, SideAnalysis) {
    let mut eval = 20;
    let evals = (0..plies)
        .map(|_| {
            eval += rng.i32(-60..61);
            eval
        })
        .collect();
    let mut side = || SideAnalysis {
        inaccuracy: rng.u32(0..5),
        mistake: rng.u32(0..3),
        blunder: rng.u32(0..2),
        acpl: rng.u32(5..90),
        accuracy: rng.u32(50..100),
    };
    let white = side();
    (evals, white, side())
}

impl LichessGame {
    /// This finished game, analysed now: what lila serves once someone asks for a computer
    /// analysis after the game.
    fn analysed(&self, seed: u64) -> LichessGame {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (evals, white, black) = analyse(&mut rng, self.ply_count());
        LichessGame {
            id: self.id.clone(),
            seq: self.seq,
            rated: self.rated,
            speed: self.speed,
            source: self.source,
            created_at: self.created_at,
            last_move_at: self.last_move_at,
            status: self.status,
            white: Player {
                analysis: Some(white),
                ..self.white.clone()
            },
            black: Player {
                analysis: Some(black),
                ..self.black.clone()
            },
            winner: self.winner,
            opening: self.opening,
            moves: self.moves.clone(),
            clocks: self.clocks.clone(),
            clock: self.clock,
            days_per_turn: self.days_per_turn,
            evals: Some(evals),
            division: self.division,
            event: self.event.clone(),
            finished_version: None,
            cache: Default::default(),
        }
    }

    fn generate(spec: &LichessGameSpec, seed: u64, id: String, seq: u64) -> LichessGame {
        let mut rng = fastrand::Rng::with_seed(seed);
        let target = spec.plies.unwrap_or_else(|| rng.usize(20..=80));
        let played = games::play(&mut rng, target, None, true);
        let finish = Finish::choose(&played, &mut rng);
        let status = Status::from_finish(finish);
        let winner = finish.winner();

        let clocks = spec.clock_values(&mut rng, played.plies);
        let duration_ms = match (&clocks, spec.time_control) {
            (Some(c), Some((initial, inc))) => {
                games::time_spent(c, initial * 100, inc * 100) * 10 + rng.i64(0..1000)
            }
            _ => played.plies as i64 * rng.i64(600_000..28_800_000),
        };

        let mut player = |name: &str, rating: Option<u32>, title: &Option<String>| Player {
            name: name.to_string(),
            id: name.to_lowercase(),
            rating: rating.unwrap_or_else(|| rating_base(name) + rng.u32(0..80) - 40),
            rating_diff: None,
            title: title.clone(),
            analysis: None,
        };
        let mut white = player(&spec.white, spec.white_rating, &spec.white_title);
        let mut black = player(&spec.black, spec.black_rating, &spec.black_title);
        let evals = spec.analysed.then(|| {
            let (evals, white_side, black_side) = analyse(&mut rng, played.plies);
            white.analysis = Some(white_side);
            black.analysis = Some(black_side);
            evals
        });
        let division = match played.plies {
            0..20 => (None, None),
            plies => (Some(plies / 3), Some(plies * 2 / 3)),
        };
        if spec.rated {
            let d = rng.i32(3..13);
            let (wd, bd) = match winner {
                Some(Color::White) => (d, -d),
                Some(Color::Black) => (-d, d),
                None => {
                    let small = rng.i32(-2..3);
                    (small, -small)
                }
            };
            white.rating_diff = Some(wd);
            black.rating_diff = Some(bd);
        }

        LichessGame {
            id,
            seq,
            rated: spec.rated,
            speed: speed_of(spec.time_control),
            source: match (&spec.event, rng.u32(0..10)) {
                (Some(LichessEvent::Arena(_)), _) => "arena",
                (Some(LichessEvent::Swiss(_)), _) => "swiss",
                (None, 0..7) => "pool",
                (None, 7..9) => "lobby",
                (None, _) => "friend",
            },
            created_at: spec.created_at_ms,
            last_move_at: spec.created_at_ms + duration_ms,
            status,
            white,
            black,
            winner,
            opening: played.opening,
            moves: played.moves,
            clocks,
            clock: spec.time_control,
            days_per_turn: if spec.time_control.is_none() {
                Some(3)
            } else {
                None
            },
            evals,
            division,
            event: spec.event.clone(),
            finished_version: None,
            cache: Default::default(),
        }
    }

    /// The in-progress view of a finished game: first half of the moves, no
    /// result, no rating changes; remembers the full game for later.
    fn ongoing_view(full: Arc<LichessGame>) -> LichessGame {
        let plies = full.ply_count();
        let shown = plies / 2;
        let moves = full
            .moves
            .split(' ')
            .filter(|s| !s.is_empty())
            .take(shown)
            .collect::<Vec<_>>()
            .join(" ");
        let strip = |p: &Player| Player {
            rating_diff: None,
            analysis: None,
            ..p.clone()
        };
        LichessGame {
            id: full.id.clone(),
            seq: full.seq,
            rated: full.rated,
            speed: full.speed,
            source: full.source,
            created_at: full.created_at,
            last_move_at: full.created_at + (full.last_move_at - full.created_at) / 2,
            status: Status::Started,
            white: strip(&full.white),
            black: strip(&full.black),
            winner: None,
            opening: full.opening.filter(|o| o.sans.len() <= shown),
            moves,
            clocks: full
                .clocks
                .as_ref()
                .map(|c| c[..shown.min(c.len())].to_vec()),
            clock: full.clock,
            days_per_turn: full.days_per_turn,
            evals: None,
            division: (None, None),
            event: full.event.clone(),
            finished_version: Some(full),
            cache: Default::default(),
        }
    }

    fn ply_count(&self) -> usize {
        if self.moves.is_empty() {
            0
        } else {
            self.moves.split(' ').count()
        }
    }

    fn result(&self) -> &'static str {
        match (self.status.finished(), self.winner) {
            (false, _) => "*",
            (true, Some(Color::White)) => "1-0",
            (true, Some(Color::Black)) => "0-1",
            (true, None) => "1/2-1/2",
        }
    }

    /// The PGN text exactly as lila renders it, without the trailing
    /// `"\n\n\n"` separator.
    fn pgn(&self, clocks: bool, opening: bool, evals: bool) -> String {
        let mut out = String::with_capacity(700 + self.moves.len() * 3);
        let (date, time) = games::utc_date_time(self.created_at.div_euclid(1000));
        let event = format!(
            "{} {} game",
            if self.rated { "rated" } else { "casual" },
            self.speed
        );
        games::push_tag(&mut out, "Event", &event);
        games::push_tag(
            &mut out,
            "Site",
            &format!("https://lichess.org/{}", self.id),
        );
        games::push_tag(&mut out, "Date", &date);
        games::push_tag(&mut out, "Round", "-");
        games::push_tag(&mut out, "White", &self.white.name);
        games::push_tag(&mut out, "Black", &self.black.name);
        games::push_tag(&mut out, "Result", self.result());
        if let Some(title) = &self.white.title {
            games::push_tag(&mut out, "WhiteTitle", title);
        }
        if let Some(title) = &self.black.title {
            games::push_tag(&mut out, "BlackTitle", title);
        }
        games::push_tag(&mut out, "GameId", &self.id);
        games::push_tag(&mut out, "UTCDate", &date);
        games::push_tag(&mut out, "UTCTime", &time);
        games::push_tag(&mut out, "WhiteElo", &self.white.rating.to_string());
        games::push_tag(&mut out, "BlackElo", &self.black.rating.to_string());
        if let Some(d) = self.white.rating_diff {
            games::push_tag(&mut out, "WhiteRatingDiff", &format!("{d:+}"));
        }
        if let Some(d) = self.black.rating_diff {
            games::push_tag(&mut out, "BlackRatingDiff", &format!("{d:+}"));
        }
        games::push_tag(&mut out, "Variant", "Standard");
        let tc = match self.clock {
            Some((i, inc)) => format!("{i}+{inc}"),
            None => "-".to_string(),
        };
        games::push_tag(&mut out, "TimeControl", &tc);
        games::push_tag(&mut out, "ECO", self.opening.map_or("?", |o| o.eco));
        if opening && let Some(o) = self.opening {
            games::push_tag(&mut out, "Opening", o.lichess_name);
        }
        games::push_tag(&mut out, "Termination", self.status.termination());
        out.push('\n');

        let clock_list = if clocks { self.clocks.as_deref() } else { None };
        let eval_list = if evals { self.evals.as_deref() } else { None };
        for (i, san) in self.moves.split(' ').filter(|s| !s.is_empty()).enumerate() {
            if i % 2 == 0 {
                if i > 0 {
                    out.push(' ');
                }
                let _ = write!(out, "{}. ", i / 2 + 1);
            } else {
                out.push(' ');
            }
            out.push_str(san);
            // lila merges both into one comment: `{ [%eval 0.17] [%clk 0:00:30] }`.
            let eval = eval_list.and_then(|e| e.get(i));
            let clock = clock_list.and_then(|c| c.get(i));
            if eval.is_some() || clock.is_some() {
                out.push_str(" {");
                if let Some(e) = eval {
                    let _ = write!(out, " [%eval {:.2}]", f64::from(*e) / 100.0);
                }
                if let Some(c) = clock {
                    out.push_str(" [%clk ");
                    games::push_hms(&mut out, c / 100);
                    out.push(']');
                }
                out.push_str(" }");
            }
        }
        // lila writes the result after a space even with no moves: " 0-1".
        out.push(' ');
        out.push_str(self.result());
        out
    }

    fn ndjson(&self, f: Flags) -> Bytes {
        if !f.cacheable() {
            return self.render_ndjson(f);
        }
        self.cache[f.ndjson_slot()]
            .get_or_init(|| self.render_ndjson(f))
            .clone()
    }

    fn render_ndjson(&self, f: Flags) -> Bytes {
        let pgn = f
            .pgn_in_json
            .then(|| self.pgn(f.clocks, f.opening, f.evals) + "\n\n\n");
        let json = GameJson {
            id: &self.id,
            rated: self.rated,
            variant: "standard",
            speed: self.speed,
            perf: self.speed,
            created_at: self.created_at,
            last_move_at: self.last_move_at,
            status: self.status.name(),
            source: self.source,
            players: PlayersJson {
                white: PlayerJson::of(&self.white, f),
                black: PlayerJson::of(&self.black, f),
            },
            winner: self.winner.map(|c| match c {
                Color::White => "white",
                Color::Black => "black",
            }),
            opening: self.opening.filter(|_| f.opening).map(|o| OpeningJson {
                eco: o.eco,
                name: o.lichess_name,
                ply: o.sans.len(),
            }),
            moves: f.moves.then_some(self.moves.as_str()),
            clocks: self.clocks.as_deref().filter(|_| f.clocks),
            pgn: pgn.as_deref(),
            days_per_turn: self.days_per_turn,
            clock: self.clock.map(|(initial, increment)| ClockJson {
                initial,
                increment,
                total_time: initial + 40 * increment,
            }),
            analysis: self
                .evals
                .as_deref()
                .filter(|_| f.evals)
                .map(|evals| evals.iter().map(|&eval| EvalJson { eval }).collect()),
            division: f.division.then_some(DivisionJson {
                middle: self.division.0,
                end: self.division.1,
            }),
            arena_tour: match &self.event {
                Some(LichessEvent::Arena(id)) => Some(TourJson { id, name: Some(id) }),
                _ => None,
            },
            swiss_tour: match &self.event {
                Some(LichessEvent::Swiss(id)) => Some(TourJson { id, name: None }),
                _ => None,
            },
        };
        let mut v = serde_json::to_vec(&json).unwrap_or_default();
        v.push(b'\n');
        Bytes::from(v)
    }

    fn pgn_item(&self, f: Flags) -> Bytes {
        let render = || Bytes::from(self.pgn(f.clocks, f.opening, f.evals) + "\n\n\n");
        if !f.cacheable() {
            return render();
        }
        self.cache[f.pgn_slot()].get_or_init(render).clone()
    }
}

impl LichessGameSpec {
    fn clock_values(&self, rng: &mut fastrand::Rng, plies: usize) -> Option<Vec<u32>> {
        let (initial, inc) = self.time_control?;
        Some(games::clocks(rng, plies, initial * 100, inc * 100))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GameJson<'a> {
    id: &'a str,
    rated: bool,
    variant: &'a str,
    speed: &'a str,
    perf: &'a str,
    created_at: i64,
    last_move_at: i64,
    status: &'a str,
    source: &'a str,
    players: PlayersJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    winner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opening: Option<OpeningJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    moves: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clocks: Option<&'a [u32]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pgn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days_per_turn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock: Option<ClockJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Vec<EvalJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    division: Option<DivisionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arena_tour: Option<TourJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    swiss_tour: Option<TourJson<'a>>,
}

#[derive(Serialize)]
struct EvalJson {
    eval: i32,
}

/// `{}` when the game is too short to have phases, as lila sends it.
#[derive(Serialize)]
struct DivisionJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    middle: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<usize>,
}

#[derive(Serialize)]
struct TourJson<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct PlayersJson<'a> {
    white: PlayerJson<'a>,
    black: PlayerJson<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlayerJson<'a> {
    user: UserRef<'a>,
    rating: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    rating_diff: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<AnalysisJson>,
}

/// A side's analysis: with `evals` or `accuracy`, once the game has one; the accuracy only with
/// `accuracy`.
#[derive(Serialize)]
struct AnalysisJson {
    #[serde(flatten)]
    counts: SideAnalysis,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<u32>,
}

impl<'a> PlayerJson<'a> {
    fn of(p: &'a Player, f: Flags) -> Self {
        Self {
            user: UserRef {
                name: &p.name,
                title: p.title.as_deref(),
                id: &p.id,
            },
            rating: p.rating,
            rating_diff: p.rating_diff,
            analysis: p
                .analysis
                .filter(|_| f.evals || f.accuracy)
                .map(|counts| AnalysisJson {
                    counts,
                    accuracy: f.accuracy.then_some(counts.accuracy),
                }),
        }
    }
}

#[derive(Serialize)]
struct UserRef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    id: &'a str,
}

#[derive(Serialize)]
struct OpeningJson {
    eco: &'static str,
    name: &'static str,
    ply: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClockJson {
    initial: u32,
    increment: u32,
    total_time: u32,
}

/// A verbatim line in a user's export (real fixtures, malformed data).
pub(crate) struct RawLine {
    created_at: i64,
    seq: u64,
    finished: bool,
    /// The line, newline-terminated.
    line: Bytes,
    /// The `pgn` field if the line is JSON with one, for PGN-format exports.
    pgn: Option<Bytes>,
}

#[derive(Clone)]
enum Entry {
    Game(String),
    Raw(Arc<RawLine>),
}

#[derive(Clone)]
enum Item {
    Game(Arc<LichessGame>),
    Raw(Arc<RawLine>),
}

impl Item {
    fn key(&self) -> (i64, u64) {
        match self {
            Item::Game(g) => (g.created_at, g.seq),
            Item::Raw(r) => (r.created_at, r.seq),
        }
    }

    fn finished(&self) -> bool {
        match self {
            Item::Game(g) => g.status.finished(),
            Item::Raw(r) => r.finished,
        }
    }

    fn render(&self, ndjson: bool, f: Flags) -> Bytes {
        match (self, ndjson) {
            (Item::Game(g), true) => g.ndjson(f),
            (Item::Game(g), false) => g.pgn_item(f),
            (Item::Raw(r), true) => r.line.clone(),
            (Item::Raw(r), false) => r.pgn.clone().unwrap_or_else(|| r.line.clone()),
        }
    }
}

pub(crate) struct User {
    id: String,
    username: String,
    closed: bool,
    created_at: i64,
}

#[derive(Default)]
pub(crate) struct Data {
    users: HashMap<String, User>,
    games: HashMap<String, Arc<LichessGame>>,
    by_user: HashMap<String, Vec<Entry>>,
    seq: u64,
    /// Bumped by every change through [`FakeServer::lichess_mut`], so cached answers go stale.
    version: u64,
    /// `/api/user` answers by user, with the version they were made at: lila keeps its counters
    /// in the user document and answers at once, so the fake must not walk 100,000 games each
    /// time either.
    profiles: HashMap<String, (u64, String)>,
}

impl Data {
    fn ensure_user(&mut self, name: &str) {
        let id = name.to_lowercase();
        self.users.entry(id.clone()).or_insert_with(|| User {
            created_at: 1_420_070_400_000 + (games::hash_str(&id) % 150_000_000) as i64 * 1000,
            id,
            username: name.to_string(),
            closed: false,
        });
    }

    /// Display name of a registered user, else the name as given.
    fn display(&self, name: &str) -> String {
        self.users
            .get(&name.to_lowercase())
            .map_or_else(|| name.to_string(), |u| u.username.clone())
    }

    fn insert(&mut self, game: LichessGame) -> String {
        let id = game.id.clone();
        let game = Arc::new(game);
        for p in [&game.white.id, &game.black.id] {
            let list = self.by_user.entry(p.clone()).or_default();
            list.push(Entry::Game(id.clone()));
        }
        self.games.insert(id.clone(), game);
        id
    }

    fn items(&self, user: &str) -> Vec<Item> {
        let mut seen = std::collections::HashSet::new();
        self.by_user
            .get(user)
            .into_iter()
            .flatten()
            .filter_map(|e| match e {
                // A game between a user and themself is indexed twice.
                Entry::Game(id) => seen
                    .insert(id.as_str())
                    .then(|| self.games.get(id).cloned().map(Item::Game))
                    .flatten(),
                Entry::Raw(r) => Some(Item::Raw(r.clone())),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Builder API.

impl FakeServer {
    /// The Lichess data, for a change: cached answers made before it go stale.
    fn lichess_mut(&self) -> std::sync::MutexGuard<'_, Data> {
        let mut data = lock(&self.shared.lichess);
        data.version += 1;
        data
    }

    /// Register a Lichess account (idempotent; keeps the first spelling as
    /// the display name).
    pub fn add_lichess_user(&self, name: &str) {
        self.lichess_mut().ensure_user(name);
    }

    /// Close (or reopen) an account: exports then 404, `/api/user` says
    /// `"disabled":true`.
    pub fn set_lichess_user_closed(&self, name: &str, closed: bool) {
        let mut d = self.lichess_mut();
        d.ensure_user(name);
        if let Some(u) = d.users.get_mut(&name.to_lowercase()) {
            u.closed = closed;
        }
    }

    /// Generate `n` finished games for `name` against random opponents,
    /// created at `first_created_at_ms + i * step_ms`. Returns the ids in
    /// that order. Registers the user if needed.
    pub fn add_lichess_games(
        &self,
        name: &str,
        n: usize,
        first_created_at_ms: i64,
        step_ms: i64,
    ) -> Vec<String> {
        let call = self.next_call();
        let (display, seq0) = {
            let mut d = self.lichess_mut();
            d.ensure_user(name);
            let seq0 = d.seq;
            d.seq += n as u64;
            (d.display(name), seq0)
        };
        let base = games::mix(
            games::mix(self.shared.seed, games::hash_str(&name.to_lowercase())),
            call,
        );
        let make = |i: usize| {
            let seed = games::mix(base, i as u64);
            let mut rng = fastrand::Rng::with_seed(seed);
            let opponent = games::opponent_name(&mut rng);
            let (white, black) = if rng.bool() {
                (display.as_str(), opponent.as_str())
            } else {
                (opponent.as_str(), display.as_str())
            };
            let tc = [
                (60, 0),
                (180, 0),
                (180, 2),
                (300, 0),
                (300, 3),
                (600, 0),
                (600, 5),
                (900, 10),
                (1800, 0),
            ][rng.usize(..9)];
            let mut spec =
                LichessGameSpec::new(white, black, first_created_at_ms + i as i64 * step_ms)
                    .time_control(tc.0, tc.1);
            if rng.u32(0..100) < 3 {
                spec = spec.correspondence();
            }
            if rng.u32(0..100) < 20 {
                spec = spec.casual();
            }
            let id = games::lichess_id(&mut rng);
            let game = LichessGame::generate(&spec, rng.u64(..), id, seq0 + i as u64);
            // Pre-render what importers ask for, while we are in parallel.
            let _ = game.ndjson(Flags::COMMON);
            game
        };
        let generated = parallel_map(n, make);
        let mut d = self.lichess_mut();
        let mut ids = Vec::with_capacity(n);
        for mut game in generated {
            let mut attempt = 0u64;
            while d.games.contains_key(&game.id) {
                // Astronomically rare; re-roll the id and drop stale renders.
                attempt += 1;
                let mut rng = fastrand::Rng::with_seed(games::mix(base ^ attempt, game.seq));
                game.id = games::lichess_id(&mut rng);
                game.cache = Default::default();
            }
            ids.push(d.insert(game));
        }
        ids
    }

    /// Add one hand-made game (shared between two users when both are
    /// registered: it appears in both exports). Returns its id.
    pub fn add_lichess_game(&self, spec: LichessGameSpec) -> String {
        let call = self.next_call();
        let mut d = self.lichess_mut();
        let mut spec = spec;
        spec.white = d.display(&spec.white);
        spec.black = d.display(&spec.black);
        let seed = spec
            .seed
            .unwrap_or_else(|| games::mix(self.shared.seed ^ 0x11C4, call));
        let mut rng = fastrand::Rng::with_seed(seed);
        let id = match &spec.id {
            Some(id) => id.clone(),
            None => loop {
                let id = games::lichess_id(&mut rng);
                if !d.games.contains_key(&id) {
                    break id;
                }
            },
        };
        let seq = d.seq;
        d.seq += 1;
        let full = LichessGame::generate(&spec, rng.u64(..), id, seq);
        let game = if spec.ongoing {
            LichessGame::ongoing_view(Arc::new(full))
        } else {
            full
        };
        if let Some(old) = d.games.get(&game.id).cloned() {
            // Replacing a game with the same id: keep one index entry.
            for p in [&old.white.id, &old.black.id] {
                if let Some(list) = d.by_user.get_mut(p) {
                    list.retain(|e| !matches!(e, Entry::Game(g) if *g == old.id));
                }
            }
        }
        d.insert(game)
    }

    /// Shorthand for an ongoing game (status `started`).
    pub fn add_lichess_ongoing_game(&self, white: &str, black: &str, created_at_ms: i64) -> String {
        self.add_lichess_game(LichessGameSpec::new(white, black, created_at_ms).ongoing())
    }

    /// Finish an ongoing game: all moves, result, rating changes. Returns
    /// `false` if unknown or already finished.
    pub fn finish_lichess_game(&self, id: &str) -> bool {
        let mut d = self.lichess_mut();
        let Some(full) = d.games.get(id).and_then(|g| g.finished_version.clone()) else {
            return false;
        };
        d.games.insert(id.to_string(), full);
        true
    }

    /// Let Lichess analyse a finished game now, as when someone asks for a computer analysis
    /// after the game was exported: from now on its `evals` (in the PGN and the JSON),
    /// `accuracy` and each side's summary are served, when asked for. Returns `false` for an
    /// unknown, unfinished or already analysed game.
    pub fn analyse_lichess_game(&self, id: &str) -> bool {
        let mut d = self.lichess_mut();
        let Some(game) = d
            .games
            .get(id)
            .filter(|g| g.status.finished() && g.evals.is_none())
        else {
            return false;
        };
        let seed = games::mix(self.shared.seed ^ 0xA7A1, games::hash_str(id));
        let analysed = Arc::new(game.analysed(seed));
        d.games.insert(id.to_string(), analysed);
        true
    }

    /// Put a verbatim line into `name`'s export at `created_at_ms` (for
    /// malformed data or real fixture lines). Served as-is in NDJSON; in PGN
    /// format its `pgn` field is served if it is JSON with one, else the
    /// line itself. Always treated as a finished game.
    pub fn add_raw_lichess_line(&self, name: &str, created_at_ms: i64, line: &str) {
        let mut d = self.lichess_mut();
        d.ensure_user(name);
        let seq = d.seq;
        d.seq += 1;
        let text = line.trim_end_matches('\n');
        let pgn = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("pgn").and_then(|p| p.as_str()).map(str::to_string))
            .map(Bytes::from);
        let raw = Arc::new(RawLine {
            created_at: created_at_ms,
            seq,
            finished: true,
            line: Bytes::from(format!("{text}\n")),
            pgn,
        });
        d.by_user
            .entry(name.to_lowercase())
            .or_default()
            .push(Entry::Raw(raw));
    }

    /// Load the real recorded lichess.org lines of `fixtures/` (tests/fake/fixtures)
    /// as the export of user `Lance5500` (threeCheck, simul, zero-move and
    /// arena games). Returns their ids, newest first.
    pub fn add_lichess_fixture_games(&self) -> Vec<String> {
        self.add_lichess_user("Lance5500");
        let mut ids = Vec::new();
        for text in [
            include_str!("../fixtures/lichess/export-history-lance5500.ndjson"),
            include_str!("../fixtures/lichess/export-sample-clocks-Lr0wZGIA.ndjson"),
        ] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let created = v.get("createdAt").and_then(|c| c.as_i64()).unwrap_or(0);
                if let Some(id) = v.get("id").and_then(|i| i.as_str()) {
                    ids.push((created, id.to_string()));
                }
                self.add_raw_lichess_line("Lance5500", created, line);
            }
        }
        ids.sort_by_key(|(created, _)| std::cmp::Reverse(*created));
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// Ids of `name`'s generated games (any status), by `createdAt` ascending.
    pub fn lichess_game_ids(&self, name: &str) -> Vec<String> {
        let d = lock(&self.shared.lichess);
        let mut items = d.items(&name.to_lowercase());
        items.sort_by_key(Item::key);
        items
            .into_iter()
            .filter_map(|i| match i {
                Item::Game(g) => Some(g.id.clone()),
                Item::Raw(_) => None,
            })
            .collect()
    }

    /// The game's NDJSON line with `pgnInJson`, `clocks`, `opening` (no `\n`).
    pub fn lichess_game_json(&self, id: &str) -> Option<String> {
        let g = lock(&self.shared.lichess).games.get(id).cloned()?;
        let b = g.ndjson(Flags::COMMON);
        Some(String::from_utf8_lossy(&b).trim_end().to_string())
    }

    /// `createdAt` (ms) of a game.
    pub fn lichess_game_created_at(&self, id: &str) -> Option<i64> {
        lock(&self.shared.lichess)
            .games
            .get(id)
            .map(|g| g.created_at)
    }

    /// Status name (`started`, `mate`, `resign`, ...) of a game.
    pub fn lichess_game_status(&self, id: &str) -> Option<&'static str> {
        lock(&self.shared.lichess)
            .games
            .get(id)
            .map(|g| g.status.name())
    }
}

/// Map `0..n` in index order, on all cores for big batches. Each item's
/// data depends only on its index, so the result does not depend on the
/// thread count.
pub(crate) fn parallel_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    if n < 256 || threads < 2 {
        return (0..n).map(&f).collect();
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                s.spawn(move || (t * per..((t + 1) * per).min(n)).map(f).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

// ---------------------------------------------------------------------------
// HTTP.

pub(crate) fn classify(path: &str) -> Route {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (endpoint, user) = match segs.as_slice() {
        ["api", "games", "user", name] => (Endpoint::LichessExport, Some(*name)),
        ["api", "games", "export", "_ids"] => (Endpoint::LichessExportIds, None),
        ["api", "user", name] => (Endpoint::LichessUser, Some(*name)),
        _ => (Endpoint::Other, None),
    };
    Route {
        endpoint,
        user: user.map(super::percent_decode),
    }
}

/// lila's `HTTPRequest.crawlerMatcher` (a case-sensitive substring search;
/// the HTTP-library part of it and a few bots), plus a missing or blank
/// User-Agent, which is treated the same way.
fn is_crawler(h: &HeaderMap) -> bool {
    const CRAWLERS: &[&str] = &[
        "Googlebot",
        "bingbot",
        "HeadlessChrome",
        "okhttp",
        "axios",
        "undici",
        "wget",
        "curl",
        "python-requests",
        "aiohttp",
        "commons-httpclient",
        "python-urllib",
        "python-httpx",
        "Nessus",
        "imroc/req",
    ];
    match h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ua) if ua.trim().is_empty() => true,
        Some(ua) => CRAWLERS.iter().any(|c| ua.contains(c)),
    }
}

fn accept(h: &HeaderMap) -> &str {
    h.get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `HTTPRequest.acceptsNdJson` is an exact match; `acceptsJson` a prefix.
fn wants_ndjson(h: &HeaderMap) -> bool {
    let a = accept(h);
    a == "application/x-ndjson" || a.starts_with("application/json")
}

fn has_bearer(h: &HeaderMap) -> bool {
    h.get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

fn json(status: u16, body: impl Into<Body>) -> Response {
    simple(status, "application/json", body)
}

/// lila's `notFound`: JSON for API-looking requests, plain text otherwise.
fn not_found(h: &HeaderMap) -> Response {
    if has_bearer(h) || wants_ndjson(h) {
        json(404, r#"{"error":"Not found"}"#)
    } else {
        simple(404, "text/plain; charset=utf-8", "Not found")
    }
}

fn too_many_streams() -> Response {
    // Deliberately no Retry-After: lila never sends one.
    json(429, r#"{"error":"Please only run 1 request(s) at a time"}"#)
}

/// lila's `Form.trueish`.
fn trueish(v: &str) -> bool {
    matches!(v, "1" | "true" | "True" | "on" | "yes")
}

struct ExportQuery {
    since: Option<i64>,
    until: Option<i64>,
    max: Option<usize>,
    asc: bool,
    flags: Flags,
    ongoing: bool,
    finished: bool,
}

fn parse_query(q: &str) -> ExportQuery {
    let pairs = query_pairs(q);
    // Play's `getQueryString` returns the first value.
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let flag = |k: &str, default: bool| get(k).map_or(default, trueish);
    ExportQuery {
        since: get("since").and_then(|v| v.parse().ok()),
        until: get("until").and_then(|v| v.parse().ok()),
        max: get("max")
            .and_then(|v| v.parse::<i64>().ok())
            .map(|m| m.max(1) as usize),
        asc: get("sort") == Some("dateAsc"),
        flags: Flags {
            pgn_in_json: flag("pgnInJson", false),
            clocks: flag("clocks", false),
            opening: flag("opening", false),
            moves: flag("moves", true),
            evals: flag("evals", false),
            accuracy: flag("accuracy", false),
            division: flag("division", false),
        },
        ongoing: flag("ongoing", false),
        finished: flag("finished", true),
    }
}

pub(crate) async fn handle(
    shared: &Arc<Shared>,
    req: Request,
    route: &Route,
    fault: Option<StreamFault>,
    guard: InFlight,
) -> Response {
    match (req.method().clone(), route.endpoint) {
        (Method::GET, Endpoint::LichessExport) => export_user(shared, &req, route, fault, guard),
        (Method::POST, Endpoint::LichessExportIds) => export_ids(shared, req, fault, guard).await,
        (Method::GET, Endpoint::LichessUser) => user_profile(shared, route),
        _ => not_found(req.headers()),
    }
}

fn export_user(
    shared: &Arc<Shared>,
    req: &Request,
    route: &Route,
    fault: Option<StreamFault>,
    guard: InFlight,
) -> Response {
    let h = req.headers();
    if is_crawler(h) {
        return not_found(h);
    }
    let key = route.user_key().unwrap_or_default();
    let q = parse_query(req.uri().query().unwrap_or(""));
    let (username, items) = {
        let d = lock(&shared.lichess);
        let Some(user) = d.users.get(&key).filter(|u| !u.closed) else {
            return not_found(h);
        };
        let mut items: Vec<Item> = d
            .items(&key)
            .into_iter()
            .filter(|i| {
                let (created, _) = i.key();
                let status_ok = if !q.finished {
                    !i.finished()
                } else {
                    q.ongoing || i.finished()
                };
                status_ok
                    && q.since.is_none_or(|s| created >= s)
                    && q.until.is_none_or(|u| created < u)
            })
            .collect();
        items.sort_by_key(Item::key);
        if !q.asc {
            items.reverse();
        }
        if let Some(max) = q.max {
            items.truncate(max);
        }
        (user.username.clone(), items)
    };
    let Some(slot) = shared.try_stream_slot() else {
        return too_many_streams();
    };
    let ndjson = wants_ndjson(h);
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let ext = if ndjson { "json" } else { "pgn" };
    let mut resp = export_response(shared, items, ndjson, q.flags, fault, slot, guard);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=lichess_{username}_{date}.{ext}"
    )) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

fn export_response(
    shared: &Arc<Shared>,
    items: Vec<Item>,
    ndjson: bool,
    flags: Flags,
    fault: Option<StreamFault>,
    slot: super::StreamSlot,
    guard: InFlight,
) -> Response {
    let rate = lock(&shared.config).lichess_rate;
    let malformed: &[u8] = if ndjson {
        b"{\"id\":\"brokenLn\",\"rated\":true,\"variant\":\"standard\",\"players\":{\"white\":\n"
    } else {
        b"[Event \"rated blitz game\"]\n[Site \"https://lichess.org/brokenLn\n\n1. e4 e5 2. Qxf7# 1-0 {\n\n\n"
    };
    let plan = BodyPlan {
        prefix: Bytes::new(),
        suffix: Bytes::new(),
        separator: Bytes::new(),
        count: items.len(),
        item: Box::new(move |i| items[i].render(ndjson, flags)),
        malformed: Bytes::from_static(malformed),
        rate,
        fault,
        _guards: vec![Box::new(slot), Box::new(guard)],
    };
    let ct = if ndjson {
        "application/x-ndjson"
    } else {
        "application/x-chess-pgn"
    };
    let mut resp = simple(200, ct, stream_body(plan));
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

async fn read_ids(req: Request) -> Result<Vec<String>, Response> {
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| json(400, r#"{"error":"Invalid body"}"#))?;
    let text = String::from_utf8_lossy(&body);
    let ids: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.len() > 300 {
        return Err(json(
            400,
            format!(
                r#"{{"error":"Too many ids: {}, expected up to 300"}}"#,
                ids.len()
            ),
        ));
    }
    Ok(ids)
}

async fn export_ids(
    shared: &Arc<Shared>,
    req: Request,
    fault: Option<StreamFault>,
    guard: InFlight,
) -> Response {
    let ndjson = wants_ndjson(req.headers());
    let flags = parse_query(req.uri().query().unwrap_or("")).flags;
    let ids = match read_ids(req).await {
        Ok(ids) => ids,
        Err(resp) => return resp,
    };
    let items: Vec<Item> = {
        let d = lock(&shared.lichess);
        let mut seen = std::collections::HashSet::new();
        ids.iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| d.games.get(id.as_str()).cloned().map(Item::Game))
            .collect()
    };
    let Some(slot) = shared.try_stream_slot() else {
        return too_many_streams();
    };
    export_response(shared, items, ndjson, flags, fault, slot, guard)
}

#[derive(Default)]
struct Counts {
    all: usize,
    rated: usize,
    draw: usize,
    loss: usize,
    win: usize,
    playing: usize,
    /// perf -> (rated games, last rating)
    perfs: std::collections::BTreeMap<&'static str, (usize, u32)>,
}

/// The profile's counters. lila keeps them up to date in the user document, so its profile
/// answers at once; walking the index (rather than collecting, deduplicating and sorting every
/// game) keeps the fake about as quick for a user with 100,000 games.
fn counts(d: &Data, key: &str) -> Counts {
    let mut c = Counts::default();
    // The newest game of each perf gives its current rating.
    let mut newest: std::collections::HashMap<&'static str, (i64, u64)> = Default::default();
    let mut seen_self_games = std::collections::HashSet::new();
    for entry in d.by_user.get(key).into_iter().flatten() {
        let Entry::Game(id) = entry else { continue };
        let Some(g) = d.games.get(id) else { continue };
        // A game between a user and themself is indexed twice.
        if g.white.id == g.black.id && !seen_self_games.insert(id.as_str()) {
            continue;
        }
        c.all += 1;
        let me_white = g.white.id == key;
        let me = if me_white { &g.white } else { &g.black };
        let perf = c.perfs.entry(g.speed).or_insert((0, me.rating));
        let order = (g.created_at, g.seq);
        let latest = newest.entry(g.speed).or_insert(order);
        if order >= *latest {
            *latest = order;
            perf.1 = me.rating;
        }
        if g.rated {
            c.rated += 1;
            perf.0 += 1;
        }
        if !g.status.finished() {
            c.playing += 1;
            continue;
        }
        match g.winner {
            None => c.draw += 1,
            Some(Color::White) if me_white => c.win += 1,
            Some(Color::Black) if !me_white => c.win += 1,
            Some(_) => c.loss += 1,
        }
    }
    c
}

/// `/api/user` JSON, keys in lila's order (built as text because
/// serde_json's map would sort them).
fn user_json_string(d: &Data, user: &User) -> String {
    use serde_json::json;
    if user.closed {
        return format!(
            r#"{{"id":{},"username":{},"disabled":true}}"#,
            json!(user.id),
            json!(user.username)
        );
    }
    let c = counts(d, &user.id);
    let perfs: Vec<String> = c
        .perfs
        .iter()
        .map(|(perf, (games, rating))| {
            format!(r#""{perf}":{{"games":{games},"rating":{rating},"rd":45,"prog":0}}"#)
        })
        .collect();
    let seen_at = d
        .by_user
        .get(&user.id)
        .into_iter()
        .flatten()
        .filter_map(|entry| match entry {
            Entry::Game(id) => d.games.get(id).map(|g| g.last_move_at),
            Entry::Raw(r) => Some(r.created_at),
        })
        .max()
        .unwrap_or(user.created_at);
    let mut s = format!(
        r#"{{"id":{},"username":{},"perfs":{{{}}},"createdAt":{},"seenAt":{},"playTime":{{"total":{},"tv":0}},"url":{}"#,
        json!(user.id),
        json!(user.username),
        perfs.join(","),
        user.created_at,
        seen_at,
        c.all * 420,
        json!(format!("https://lichess.org/@/{}", user.username)),
    );
    let _ = write!(
        s,
        r#","count":{{"all":{},"rated":{},"ai":0,"draw":{},"drawH":{},"loss":{},"lossH":{},"win":{},"winH":{},"bookmark":0,"playing":{},"import":0,"me":0}}"#,
        c.all, c.rated, c.draw, c.draw, c.loss, c.loss, c.win, c.win, c.playing
    );
    s.push('}');
    s
}

fn user_profile(shared: &Arc<Shared>, route: &Route) -> Response {
    let key = route.user_key().unwrap_or_default();
    let mut d = lock(&shared.lichess);
    let version = d.version;
    if let Some((made_at, body)) = d.profiles.get(&key)
        && *made_at == version
    {
        return json(200, body.clone());
    }
    let Some(user) = d.users.get(&key) else {
        return json(404, r#"{"error":"Not found"}"#);
    };
    let body = user_json_string(&d, user);
    d.profiles.insert(key, (version, body.clone()));
    json(200, body)
}
