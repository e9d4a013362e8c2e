//! Lichess: one NDJSON export stream per player, oldest game first, resumed from the `createdAt`
//! of the newest stored game.

use std::collections::HashSet;

use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;

use super::lines::{LineBuffer, Next};
use super::{Drift, DriftKind, Lenient, Plan, ProviderError, Sink, Source, Total};
use crate::game::{Analysis, GameRecord};
use crate::http::{HttpError, Notice, Transport, content_type};
use crate::player::{Platform, Player};
use crate::resume::Cursor;

/// Lichess serves one export stream per IP address at a time: one Lichess player at a time.
pub const MAX_STREAMS: usize = 1;

/// One line of the export. Only what the PGN does not say as reliably is read here; the rest
/// comes from the game's PGN tags.
///
/// The id and the PGN are what a game is; every other field is read leniently, so that a value
/// of an unexpected type costs that field (stored as NULL, logged), not the game.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportedGame {
    id: Option<String>,
    #[serde(default)]
    rated: Lenient<bool>,
    #[serde(default)]
    variant: Lenient<String>,
    #[serde(default)]
    speed: Lenient<String>,
    #[serde(default)]
    created_at: Lenient<i64>,
    #[serde(default)]
    status: Lenient<String>,
    pgn: Option<String>,
    error: Option<String>,
    #[serde(default)]
    last_move_at: Lenient<i64>,
    /// `pool`, `arena`, `swiss`, `friend`, `simul`, ...
    #[serde(default)]
    source: Lenient<String>,
    #[serde(default)]
    players: Lenient<Players>,
    /// Only with `division=true`.
    #[serde(default)]
    division: Lenient<Division>,
    #[serde(default)]
    arena_tour: Lenient<Event>,
    #[serde(default)]
    swiss_tour: Lenient<Event>,
    /// The arena's id, as older output gave it.
    #[serde(default)]
    tournament: Lenient<String>,
}

#[derive(Deserialize)]
struct Players {
    #[serde(default)]
    white: Lenient<GamePlayer>,
    #[serde(default)]
    black: Lenient<GamePlayer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GamePlayer {
    #[serde(default)]
    user: Lenient<User>,
    #[serde(default)]
    rating_diff: Lenient<i32>,
    /// Only with `evals=true` (and `accuracy=true` for the accuracy) once a game is analysed.
    #[serde(default)]
    analysis: Lenient<PlayerAnalysis>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    title: Lenient<String>,
}

#[derive(Deserialize)]
struct PlayerAnalysis {
    #[serde(default)]
    inaccuracy: Lenient<u32>,
    #[serde(default)]
    mistake: Lenient<u32>,
    #[serde(default)]
    blunder: Lenient<u32>,
    #[serde(default)]
    acpl: Lenient<u32>,
    #[serde(default)]
    accuracy: Lenient<f64>,
}

#[derive(Deserialize)]
struct Division {
    #[serde(default)]
    middle: Lenient<u32>,
    #[serde(default)]
    end: Lenient<u32>,
}

/// An arena or a swiss the game was played in.
#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: Lenient<String>,
}

super::lenient_objects!(Players, GamePlayer, User, PlayerAnalysis, Division, Event);

impl GamePlayer {
    /// Fills one side's title, rating change and analysis into `record`.
    fn fill(self, title: &mut Option<String>, diff: &mut Option<i32>, analysis: &mut Analysis) {
        if let Lenient::Value(user) = self.user {
            *title = user.title.ok();
        }
        *diff = self.rating_diff.ok();
        if let Lenient::Value(served) = self.analysis {
            *analysis = Analysis {
                accuracy: served.accuracy.ok(),
                acpl: served.acpl.ok(),
                inaccuracies: served.inaccuracy.ok(),
                mistakes: served.mistake.ok(),
                blunders: served.blunder.ok(),
            };
        }
    }
}

/// Where a game stands, from its `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Created or started: it may still finish, under its old `createdAt`.
    InProgress,
    /// Aborted before it really began; Lichess does not export these as games.
    Aborted,
    Finished,
}

impl Stage {
    fn of(status: Option<&str>) -> Stage {
        match status {
            Some("created" | "started") => Stage::InProgress,
            Some("aborted") => Stage::Aborted,
            _ => Stage::Finished,
        }
    }
}

/// How many ids `POST /api/games/export/_ids` takes at once.
pub const IDS_PER_REQUEST: usize = 300;

/// What chess-import reads of `GET /api/user/{name}`.
#[derive(Debug, Deserialize)]
pub struct Profile {
    pub id: Option<String>,
    pub count: Option<ProfileCount>,
    /// Closed accounts answer 200 with this set, and no counts.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
pub struct ProfileCount {
    /// Every game of the player, an approximate counter: the progress bar's total.
    pub all: Option<u64>,
    /// Games still being played, counted in `all` but not yet exported as games.
    pub playing: Option<u64>,
}

impl Profile {
    /// The fields the import relies on that are missing.
    pub fn drift(&self) -> Vec<Drift> {
        let mut drift = Vec::new();
        if self.id.is_none() {
            drift.push(Drift::missing("id"));
        }
        if !self.disabled && self.count.as_ref().and_then(|c| c.all).is_none() {
            drift.push(Drift::missing("count.all"));
        }
        drift
    }
}

/// The `variant` values of an export line, as the API documents them.
pub const VARIANTS: &[&str] = &[
    "standard",
    "chess960",
    "crazyhouse",
    "antichess",
    "atomic",
    "horde",
    "kingOfTheHill",
    "racingKings",
    "threeCheck",
    "fromPosition",
];
/// The `speed` values of an export line.
pub const SPEEDS: &[&str] = &[
    "ultraBullet",
    "bullet",
    "blitz",
    "rapid",
    "classical",
    "correspondence",
];
/// The `status` values of an export line; [`Stage::of`] sorts them.
pub const STATUSES: &[&str] = &[
    "created",
    "started",
    "aborted",
    "mate",
    "resign",
    "stalemate",
    "timeout",
    "draw",
    "outoftime",
    "cheat",
    "noStart",
    "unknownFinish",
    "insufficientMaterialClaim",
    "variantEnd",
];

impl ExportedGame {
    /// The fields the import relies on that are missing or hold a value it does not know.
    fn drift(&self) -> Vec<Drift> {
        let mut drift = Drift::missing_among(&[("pgn", self.pgn.is_some())]);
        drift.extend(Drift::of_lenient("createdAt", &self.created_at));
        drift.extend(Drift::of_lenient("rated", &self.rated));
        for (field, value, known) in [
            ("variant", &self.variant, VARIANTS),
            ("speed", &self.speed, SPEEDS),
            ("status", &self.status, STATUSES),
        ] {
            drift.extend(match value {
                Lenient::Value(value) => Drift::of_enum(field, Some(value), known),
                other => Drift::of_lenient(field, other),
            });
        }
        drift
    }
}

/// How one export request ended.
enum StreamEnd {
    /// The server ended the stream after the last game.
    Complete,
    /// The connection broke or stalled; what came before was handed on.
    Broken(Break),
}

/// Why a stream ended before its last game.
#[derive(Debug, thiserror::Error)]
pub enum Break {
    #[error("{host}: {}", Transport::of(.error).cause)]
    Transport {
        host: String,
        #[source]
        error: reqwest::Error,
    },
    /// The body ended without error, but in the middle of a game's line.
    #[error("the stream ended in the middle of a game")]
    MidGame,
    /// No whole game arrived for `--read-timeout`, though bytes may have.
    #[error("no whole game for {}", crate::http::human_duration(*.0))]
    Stalled(std::time::Duration),
    /// The server breaks off again and again without a newer game (or ignores `since`).
    #[error("the stream keeps breaking off without a newer game (last: {0})")]
    NoProgress(#[source] Box<Break>),
}

/// Where the games handed over so far end: the newest `createdAt`, and the ids of the games
/// with exactly that `createdAt`. Several games can share a millisecond (a simul's boards), so a
/// resume asks again from that millisecond, inclusive, and skips those ids, rather than from the
/// next one, which would lose the games of the millisecond not yet handed over.
#[derive(Clone, Debug, Default)]
struct Boundary {
    created_at: Option<i64>,
    ids: HashSet<String>,
}

impl Boundary {
    fn from_resume(resume: &crate::resume::ResumePoint) -> Self {
        Boundary {
            created_at: resume.last_created_at,
            ids: resume.boundary.iter().cloned().collect(),
        }
    }

    /// Whether the game was handed over already.
    fn covers(&self, created_at: Option<i64>, id: &str) -> bool {
        created_at.is_some() && created_at == self.created_at && self.ids.contains(id)
    }

    fn advance(&mut self, created_at: i64, id: &str) {
        match self.created_at {
            Some(newest) if newest > created_at => {}
            Some(newest) if newest == created_at => {
                self.ids.insert(id.to_string());
            }
            _ => {
                self.created_at = Some(created_at);
                self.ids.clear();
                self.ids.insert(id.to_string());
            }
        }
    }

    /// The `since` to ask from: the boundary's millisecond itself when its ids are known, so
    /// that they can be skipped; the one after it when they are not (a cursor stored without
    /// them).
    fn since(&self) -> Option<i64> {
        let created_at = self.created_at?;
        Some(if self.ids.is_empty() {
            created_at + 1
        } else {
            created_at
        })
    }
}

/// Where one stream left off.
#[derive(Default)]
struct Progress {
    /// Games handed over (those the boundary covered are not counted).
    games: u64,
    boundary: Boundary,
    /// Lenient fields found of another type, logged once per stream.
    odd: HashSet<&'static str>,
    /// The newest `createdAt` that may move the cursor: the stream's start plus a day of slack,
    /// read from the clock once per stream rather than once per game.
    latest_plausible: i64,
}

/// How many times a stream may break off in a row without a newer game before the player
/// fails: a stream that breaks after new games starts the count again.
fn max_fruitless_breaks(policy: &crate::http::RetryPolicy) -> u32 {
    policy.max_tries.max(1)
}

/// Imports every game of `player` that `plan` asks for.
pub async fn import(
    source: &Source,
    player: &Player,
    plan: &Plan,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    if plan.want_total
        && let Some(total) = profile_game_count(source, player, sink).await?
    {
        // The profile counts every game the player has; those stored already will not come.
        sink.total(Total::Games(total.saturating_sub(plan.stored_games)));
    }
    if !plan.resume.ongoing.is_empty() {
        // A remembered game that cannot be fetched now must not keep the player's new games
        // from being imported: it is asked again next time.
        if let Err(error) = refresh_ongoing(source, player, plan, sink).await {
            if matches!(error, ProviderError::Interrupted | ProviderError::Sink(_)) {
                return Err(error);
            }
            tracing::warn!("{player}: cannot fetch the remembered in-progress games: {error}");
        }
    }
    let mut boundary = Boundary::from_resume(&plan.resume);
    let resume_from = boundary.since();
    let mut since = match (resume_from, plan.since) {
        (Some(resume), Some(since)) => Some(resume.max(since)),
        (resume, since) => resume.or(since),
    };
    // The cursor may only advance over games fetched without a gap after the stored ones.
    let contiguous = match (plan.resume.last_created_at, plan.since) {
        (_, None) => true,
        (Some(stored), Some(since)) => since <= stored + 1,
        (None, Some(_)) => false,
    };
    let policy = &source.etiquette.policy;
    let mut received = 0;
    let mut fruitless_breaks = 0;
    loop {
        let remaining = plan.max_games.map(|max| max.saturating_sub(received));
        if remaining == Some(0) {
            return Ok(());
        }
        let newest_before = boundary.created_at;
        let mut progress = Progress {
            boundary: boundary.clone(),
            latest_plausible: latest_plausible(),
            ..Progress::default()
        };
        let request = ExportRequest {
            since,
            until: plan.until,
            max: remaining,
            newest_first: false,
            contiguous,
            with_analysis: plan.with_analysis,
            ids_only: plan.ids_only,
        };
        let end = export_stream(source, player, &request, sink, &mut progress).await?;
        received += progress.games;
        boundary = progress.boundary;
        let StreamEnd::Broken(error) = end else {
            return Ok(());
        };
        // Keep what arrived before the break, then ask again from where it ends.
        sink.commit(None, None).await?;
        if let Some(resume) = boundary.since() {
            since = Some(since.map_or(resume, |since| since.max(resume)));
        }
        let advanced = boundary.created_at > newest_before;
        fruitless_breaks = if advanced { 1 } else { fruitless_breaks + 1 };
        if fruitless_breaks >= max_fruitless_breaks(policy) {
            let last = if advanced {
                error
            } else {
                Break::NoProgress(Box::new(error))
            };
            return Err(ProviderError::ExportBroken {
                tries: fruitless_breaks,
                last,
            });
        }
        tracing::warn!("{player}: export stream broke ({error}); resuming");
        sink.notice(Notice::Retrying {
            attempt: fruitless_breaks + 1,
            max: max_fruitless_breaks(policy),
            error: error.to_string(),
        });
        source
            .etiquette
            .sleep(policy.backoff_for(fruitless_breaks))
            .await
            .map_err(|_| ProviderError::Interrupted)?;
    }
}

/// `GET /api/user/{name}`: the player's profile.
pub async fn profile(
    source: &Source,
    player: &Player,
    notify: &mut impl FnMut(Notice),
) -> Result<Profile, ProviderError> {
    let url = source.url(&format!("/api/user/{}", player.username()));
    let build = || authorized(source, source.client.get(&url));
    let answer = source
        .etiquette
        .fetch(build, notify, source.limits.document)
        .await
        .map_err(|e| ProviderError::from_http("profile", e))?;
    super::json(&answer, "profile")
}

/// The profile's game counter: an estimate, used only to draw a progress bar.
async fn profile_game_count(
    source: &Source,
    player: &Player,
    sink: &mut impl Sink,
) -> Result<Option<u64>, ProviderError> {
    match profile(source, player, &mut |n| sink.notice(n)).await {
        Ok(profile) => Ok(profile.count.and_then(|c| c.all)),
        Err(error @ (ProviderError::UserNotFound | ProviderError::Interrupted)) => Err(error),
        Err(error) => {
            tracing::warn!("{player}: profile unavailable ({error}); progress has no total");
            Ok(None)
        }
    }
}

fn authorized(source: &Source, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match &source.token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// What one export request asks for.
struct ExportRequest {
    since: Option<i64>,
    until: Option<i64>,
    max: Option<u64>,
    /// Newest games first (for `check`); an import reads oldest first, so that it can resume.
    newest_first: bool,
    /// Whether the games follow the stored ones without a gap, so that the cursor may move.
    contiguous: bool,
    with_analysis: bool,
    /// The games without moves or PGN (`verify --deep`): a fraction of the bytes.
    ids_only: bool,
}

/// What `--with-analysis` adds to an export's query: the analysis as `[%eval]` comments and
/// per-side summaries, each side's accuracy, and the game's phases.
const ANALYSIS: [(&str, &str); 3] = [
    ("evals", "true"),
    ("accuracy", "true"),
    ("division", "true"),
];

/// The player's newest `max` games, read by the import's own stream reader: what `check` asks.
/// A stream that breaks off is an error here, not resumed.
pub async fn newest_games(
    source: &Source,
    player: &Player,
    max: u64,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    let request = ExportRequest {
        since: None,
        until: None,
        max: Some(max),
        newest_first: true,
        contiguous: false,
        with_analysis: false,
        ids_only: false,
    };
    let mut progress = Progress {
        latest_plausible: latest_plausible(),
        ..Progress::default()
    };
    match export_stream(source, player, &request, sink, &mut progress).await? {
        StreamEnd::Complete => Ok(()),
        StreamEnd::Broken(last) => Err(ProviderError::ExportBroken { tries: 1, last }),
    }
}

/// One export request, read line by line as it arrives; never the whole body at once.
async fn export_stream(
    source: &Source,
    player: &Player,
    request: &ExportRequest,
    sink: &mut impl Sink,
    progress: &mut Progress,
) -> Result<StreamEnd, ProviderError> {
    let url = source.url(&format!("/api/games/user/{}", player.username()));
    let sort = if request.newest_first {
        "dateDesc"
    } else {
        "dateAsc"
    };
    let contiguous = request.contiguous;
    let mut query: Vec<(&str, String)> = if request.ids_only {
        // Finished games only (the export's default), as the import would store them.
        vec![
            ("sort", sort.into()),
            ("moves", "false".into()),
            ("tags", "false".into()),
            ("pgnInJson", "false".into()),
        ]
    } else {
        vec![
            ("sort", sort.into()),
            ("pgnInJson", "true".into()),
            ("clocks", "true".into()),
            ("opening", "true".into()),
            // In-progress games are listed too, so that they can be remembered and fetched once
            // finished: the cursor will have passed their `createdAt` by then.
            ("ongoing", "true".into()),
        ]
    };
    if request.with_analysis {
        query.extend(ANALYSIS.map(|(key, value)| (key, value.to_string())));
    }
    query.extend(request.since.map(|v| ("since", v.to_string())));
    query.extend(request.until.map(|v| ("until", v.to_string())));
    query.extend(request.max.map(|v| ("max", v.to_string())));
    let build = || {
        let request = source
            .client
            .get(&url)
            .header(ACCEPT, "application/x-ndjson")
            .query(&query);
        authorized(source, request)
    };
    let (response, _permit) = source
        .etiquette
        .send(build, &mut |n| sink.notice(n))
        .await
        .map_err(|e| ProviderError::from_http("game export", e))?;
    let content_type = content_type(&response);
    if !(content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/json"))
    {
        return Err(ProviderError::BadResponse(format!(
            "game export answered {} instead of NDJSON games",
            if content_type.is_empty() {
                "without a content type"
            } else {
                content_type.as_str()
            }
        )));
    }
    let cancel = &source.etiquette.cancel;
    let stall = source.etiquette.policy.read_timeout;
    let line_limit = source.limits.line;
    let mut body = response.bytes_stream();
    let mut lines = LineBuffer::new(line_limit);
    // Progress is a whole game, not a byte: a server trickling bytes under the client's read
    // timeout must not hold the one Lichess stream for longer than `stall` without one.
    let mut deadline = tokio::time::Instant::now() + stall;
    loop {
        let chunk = tokio::select! {
            chunk = tokio::time::timeout_at(deadline, body.next()) => match chunk {
                Ok(chunk) => chunk,
                Err(_) => return Ok(StreamEnd::Broken(Break::Stalled(stall))),
            },
            _ = cancel.cancelled() => return Err(ProviderError::Interrupted),
        };
        match chunk {
            None => break,
            Some(Err(error)) => {
                let host = reqwest::Url::parse(&url)
                    .ok()
                    .and_then(|url| url.host_str().map(str::to_string))
                    .unwrap_or_default();
                return Ok(StreamEnd::Broken(Break::Transport { host, error }));
            }
            Some(Ok(bytes)) => {
                lines.extend(&bytes);
                loop {
                    match lines.next() {
                        Next::Line(line) => {
                            handle_line(&source.base_url, player, line, contiguous, sink, progress)
                                .await?;
                            deadline = tokio::time::Instant::now() + stall;
                        }
                        Next::Overlong => {
                            let reason = format!(
                                "an export line longer than {} KB; skipped",
                                line_limit >> 10
                            );
                            tracing::warn!("{player}: {reason}");
                            sink.unreadable(&reason);
                        }
                        Next::Wait => break,
                    }
                }
            }
        }
    }
    // Lichess ends every game line with a newline, but not a bare error object; an unterminated
    // line that is not whole JSON means the stream was cut mid-game.
    let rest = lines.rest();
    let whole = rest.iter().all(u8::is_ascii_whitespace)
        || serde_json::from_slice::<serde::de::IgnoredAny>(rest).is_ok();
    if !whole {
        return Ok(StreamEnd::Broken(Break::MidGame));
    }
    handle_line(&source.base_url, player, rest, contiguous, sink, progress).await?;
    Ok(StreamEnd::Complete)
}

/// How far in the future a game may start and still move the cursor: clocks drift, but a game
/// dated beyond this is an absurd record, which must not freeze the player's later imports.
const FUTURE_SLACK_MS: i64 = 24 * 60 * 60 * 1000;

fn latest_plausible() -> i64 {
    chrono::Utc::now().timestamp_millis() + FUTURE_SLACK_MS
}

async fn handle_line(
    base_url: &str,
    player: &Player,
    line: &[u8],
    contiguous: bool,
    sink: &mut impl Sink,
    progress: &mut Progress,
) -> Result<(), ProviderError> {
    let trimmed = line.trim_ascii();
    // Blank lines, and the `{}` keep-alives older lila versions sent on a slow export.
    if trimmed.is_empty() || trimmed == b"{}" {
        return Ok(());
    }
    let parsed = serde_json::from_slice::<ExportedGame>(line).or_else(|error| {
        // Bytes that are not UTF-8 are replaced rather than costing the whole game.
        if std::str::from_utf8(line).is_ok() {
            return Err(error);
        }
        let game = serde_json::from_str(&String::from_utf8_lossy(line))?;
        tracing::warn!("{player}: an export line has bytes that are not UTF-8; replaced them");
        Ok(game)
    });
    let game = match parsed {
        Ok(game) => game,
        Err(error) => {
            let reason = format!("unreadable export line ({error})");
            tracing::warn!("{player}: {reason}");
            sink.unreadable(&reason);
            return Ok(());
        }
    };
    if let Some(error) = game.error {
        return Err(ProviderError::BadResponse(format!(
            "game export answered an error: {error}"
        )));
    }
    for drift in game.drift() {
        if drift.kind == DriftKind::OddType && progress.odd.insert(drift.field) {
            tracing::warn!(
                "{player}: {drift} in the export; the games keep it as NULL (logged once)"
            );
        }
        sink.drift(drift);
    }
    let created_at = game.created_at.get().copied();
    let stage = Stage::of(game.status.get().map(String::as_str));
    if let Some(id) = &game.id
        && progress.boundary.covers(created_at, id)
    {
        // Handed over before the resume: asked again only because its millisecond was.
        return Ok(());
    }
    let Some(record) = into_record(base_url, player, game, sink) else {
        return Ok(());
    };
    let cursor = created_at
        .filter(|&created_at| created_at <= progress.latest_plausible)
        .and_then(|created_at| {
            progress.boundary.advance(created_at, &record.game_id);
            contiguous.then_some(Cursor::CreatedAt(created_at))
        });
    match stage {
        Stage::Finished => {
            progress.games += 1;
            sink.game(record, cursor).await?;
        }
        Stage::InProgress => sink.ongoing(record.game_id, cursor),
        Stage::Aborted => sink.passed(cursor),
    }
    Ok(())
}

/// The record of a served game, or `None` (counted as unreadable) when it has no id.
fn into_record(
    base_url: &str,
    player: &Player,
    game: ExportedGame,
    sink: &mut impl Sink,
) -> Option<GameRecord> {
    let Some(id) = game.id.filter(|id| !id.is_empty()) else {
        let reason = "export line without a game id".to_string();
        tracing::warn!("{player}: {reason}");
        sink.unreadable(&reason);
        return None;
    };
    let mut record = GameRecord::new(Platform::Lichess, id, game.pgn.unwrap_or_default());
    record.rated = game.rated.ok();
    record.variant = game.variant.ok();
    record.speed = game.speed.ok();
    record.played_at = game.created_at.ok();
    record.ended_at = game.last_move_at.ok();
    record.source = game.source.ok();
    if let Lenient::Value(players) = game.players {
        if let Lenient::Value(white) = players.white {
            let r = &mut record;
            white.fill(
                &mut r.white_title,
                &mut r.white_rating_diff,
                &mut r.white_analysis,
            );
        }
        if let Lenient::Value(black) = players.black {
            let r = &mut record;
            black.fill(
                &mut r.black_title,
                &mut r.black_rating_diff,
                &mut r.black_analysis,
            );
        }
    }
    if let Lenient::Value(division) = game.division {
        record.middlegame_ply = division.middle.ok();
        record.endgame_ply = division.end.ok();
    }
    let arena = game.arena_tour.ok().and_then(|tour| tour.id.ok());
    let swiss = game.swiss_tour.ok().and_then(|tour| tour.id.ok());
    record.event_url = match (arena.or(game.tournament.ok()), swiss) {
        (Some(arena), _) => Some(format!("{base_url}/tournament/{arena}")),
        (None, Some(swiss)) => Some(format!("{base_url}/swiss/{swiss}")),
        (None, None) => None,
    };
    Some(record)
}

/// Fetches the remembered in-progress games by id: finished ones are stored, gone ones
/// forgotten, and those still in progress stay remembered.
async fn refresh_ongoing(
    source: &Source,
    player: &Player,
    plan: &Plan,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    for ids in plan.resume.ongoing.chunks(IDS_PER_REQUEST) {
        let what = "export of in-progress games";
        let served = export_by_ids(source, player, ids, plan.with_analysis, what, sink).await?;
        let mut answered = HashSet::new();
        for (stage, record) in served {
            answered.insert(record.game_id.clone());
            match stage {
                Stage::InProgress => {}
                Stage::Aborted => sink.resolved(record.game_id),
                Stage::Finished => {
                    sink.resolved(record.game_id.clone());
                    sink.game(record, None).await?;
                }
            }
        }
        for id in ids.iter().filter(|id| !answered.contains(id.as_str())) {
            tracing::info!("{player}: in-progress game {id} is no longer served; forgetting it");
            sink.resolved(id.clone());
        }
    }
    Ok(())
}

/// Fetches stored games again by id, with their analysis (`--refresh-analysis`), and hands the
/// finished ones over to bring the stored ones up to date; a game no longer served stays as it
/// is stored.
pub async fn refresh_analysis(
    source: &Source,
    player: &Player,
    ids: &[String],
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    for ids in ids.chunks(IDS_PER_REQUEST) {
        let what = "export of games to refresh";
        for (stage, record) in export_by_ids(source, player, ids, true, what, sink).await? {
            if stage == Stage::Finished {
                sink.game(record, None).await?;
            }
        }
    }
    Ok(())
}

/// `POST /api/games/export/_ids` of at most [`IDS_PER_REQUEST`] ids, asked as the export asks
/// (and for the analysis with `with_analysis`), through the etiquette's Lichess lane: each game
/// served, with where it stands. The answer is read whole, within [`super::Limits::archive`].
async fn export_by_ids(
    source: &Source,
    player: &Player,
    ids: &[String],
    with_analysis: bool,
    what: &'static str,
    sink: &mut impl Sink,
) -> Result<Vec<(Stage, GameRecord)>, ProviderError> {
    let url = source.url("/api/games/export/_ids");
    let mut query = vec![
        ("pgnInJson", "true"),
        ("clocks", "true"),
        ("opening", "true"),
    ];
    if with_analysis {
        query.extend(ANALYSIS);
    }
    let body = ids.join(",");
    let build = || {
        let request = source
            .client
            .post(&url)
            .header(ACCEPT, "application/x-ndjson")
            .header(CONTENT_TYPE, "text/plain")
            .query(&query)
            .body(body.clone());
        authorized(source, request)
    };
    let answer = source
        .etiquette
        .fetch(build, &mut |n| sink.notice(n), source.limits.archive)
        .await
        .map_err(|error| match error {
            HttpError::Interrupted => ProviderError::Interrupted,
            source => ProviderError::Http { what, source },
        })?;
    let mut served = Vec::with_capacity(ids.len());
    let lines = answer.body.split(|&b| b == b'\n');
    for line in lines.filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        let Ok(game) = serde_json::from_slice::<ExportedGame>(line) else {
            sink.unreadable(&format!("unreadable line in the {what}"));
            continue;
        };
        let stage = Stage::of(game.status.get().map(String::as_str));
        if let Some(record) = into_record(&source.base_url, player, game, sink) {
            served.push((stage, record));
        }
    }
    Ok(served)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::SinkClosed;
    use crate::resume::MonthValidator;

    /// Records what a provider hands over.
    #[derive(Default)]
    struct Recorder {
        games: Vec<(GameRecord, Option<Cursor>)>,
        ongoing: Vec<String>,
        unreadable: usize,
    }

    impl Sink for Recorder {
        async fn game(
            &mut self,
            game: GameRecord,
            cursor: Option<Cursor>,
        ) -> Result<(), SinkClosed> {
            self.games.push((game, cursor));
            Ok(())
        }
        async fn commit(
            &mut self,
            _cursor: Option<Cursor>,
            _month: Option<MonthValidator>,
        ) -> Result<(), SinkClosed> {
            Ok(())
        }
        fn ongoing(&mut self, game_id: String, _cursor: Option<Cursor>) {
            self.ongoing.push(game_id);
        }
        fn resolved(&mut self, _game_id: String) {}
        fn passed(&mut self, _cursor: Option<Cursor>) {}
        fn unreadable(&mut self, _reason: &str) {
            self.unreadable += 1;
        }
        fn skipped(&mut self, _reason: &str) {}
        fn total(&mut self, _total: Total) {}
        fn month_done(&mut self) {}
        fn notice(&mut self, _notice: Notice) {}
        fn drift(&mut self, _drift: Drift) {}
    }

    const LICHESS: &str = "https://lichess.org";

    async fn read(lines: &[&[u8]]) -> (Recorder, Result<(), ProviderError>) {
        let player: Player = "lichess:alice".parse().unwrap();
        let mut sink = Recorder::default();
        let mut progress = Progress {
            latest_plausible: latest_plausible(),
            ..Progress::default()
        };
        for line in lines {
            let handled = handle_line(LICHESS, &player, line, true, &mut sink, &mut progress);
            if let Err(error) = handled.await {
                return (sink, Err(error));
            }
        }
        (sink, Ok(()))
    }

    #[tokio::test]
    async fn reads_the_end_the_event_the_titles_and_the_analysis() {
        let line = br#"{"id":"q7ZvsdUF","rated":true,"variant":"standard","speed":"blitz",
            "createdAt":1700000000000,"lastMoveAt":1700000300000,"status":"mate","source":"arena",
            "players":{"white":{"user":{"name":"Lance5500","title":"LM","id":"lance5500"},
            "rating":2500,"ratingDiff":6,"analysis":{"inaccuracy":1,"mistake":2,"blunder":0,
            "acpl":23,"accuracy":91.5}},"black":{"user":{"name":"x","id":"x"},"rating":2400,
            "ratingDiff":-6,"analysis":{"inaccuracy":3,"mistake":"two","blunder":1,"acpl":58}}},
            "division":{"middle":28,"end":48},"arenaTour":{"id":"winter21","name":"Winter"},
            "pgn":"1. e4 *"}"#;
        // One line as lila writes it: the breaks above are for reading.
        let line: Vec<u8> = line.iter().copied().filter(|&b| b != b'\n').collect();
        let (sink, result) = read(&[&line]).await;
        result.unwrap();
        let game = &sink.games[0].0;
        assert_eq!(game.ended_at, Some(1_700_000_300_000));
        assert_eq!(game.source.as_deref(), Some("arena"));
        assert_eq!(game.white_title.as_deref(), Some("LM"));
        assert_eq!(game.black_title, None);
        assert_eq!(
            (game.white_rating_diff, game.black_rating_diff),
            (Some(6), Some(-6))
        );
        let white = Analysis {
            accuracy: Some(91.5),
            acpl: Some(23),
            inaccuracies: Some(1),
            mistakes: Some(2),
            blunders: Some(0),
        };
        assert_eq!(game.white_analysis, white);
        let black = Analysis {
            accuracy: None,
            acpl: Some(58),
            inaccuracies: Some(3),
            mistakes: None,
            blunders: Some(1),
        };
        assert_eq!(game.black_analysis, black, "an odd field costs only itself");
        assert_eq!(
            (game.middlegame_ply, game.endgame_ply),
            (Some(28), Some(48))
        );
        assert_eq!(
            game.event_url.as_deref(),
            Some("https://lichess.org/tournament/winter21")
        );
        let swiss =
            br#"{"id":"abcdefgh","createdAt":1,"status":"draw","swissTour":{"id":"s1"},"pgn":"*"}"#;
        let (sink, _) = read(&[swiss]).await;
        assert_eq!(
            sink.games[0].0.event_url.as_deref(),
            Some("https://lichess.org/swiss/s1")
        );
    }

    #[tokio::test]
    async fn reads_games_and_moves_the_cursor() {
        let line = br#"{"id":"abcdefgh","rated":true,"variant":"standard","speed":"blitz","createdAt":1700000000000,"status":"mate","pgn":"1. e4 *"}"#;
        let (sink, result) = read(&[line]).await;
        result.unwrap();
        let (game, cursor) = &sink.games[0];
        assert_eq!(game.game_id, "abcdefgh");
        assert_eq!(game.rated, Some(true));
        assert_eq!(game.played_at, Some(1_700_000_000_000));
        assert_eq!(cursor, &Some(Cursor::CreatedAt(1_700_000_000_000)));
    }

    #[tokio::test]
    async fn keeps_a_game_whose_line_has_bytes_that_are_not_utf8() {
        let line = b"{\"id\":\"abcdefgh\",\"createdAt\":1,\"status\":\"draw\",\"pgn\":\"[White \\\"Al\xffce\\\"]\\n\\n1. e4 *\"}";
        let (sink, result) = read(&[line]).await;
        result.unwrap();
        assert_eq!(sink.unreadable, 0);
        assert!(
            sink.games[0].0.pgn.contains("Al\u{fffd}ce"),
            "{}",
            sink.games[0].0.pgn
        );
    }

    #[tokio::test]
    async fn counts_unreadable_lines_and_lines_without_an_id() {
        let (sink, result) = read(&[b"{not json", br#"{"createdAt":5}"#, b"   "]).await;
        result.unwrap();
        assert_eq!(sink.unreadable, 2);
        assert!(sink.games.is_empty());
    }

    #[tokio::test]
    async fn remembers_games_in_progress_and_stops_on_an_error_object() {
        let started = br#"{"id":"ongoing1","createdAt":7,"status":"started","pgn":""}"#;
        let (sink, result) = read(&[started, br#"{"error":"Not found"}"#]).await;
        assert_eq!(sink.ongoing, ["ongoing1"]);
        assert!(sink.games.is_empty());
        assert!(result.unwrap_err().to_string().contains("Not found"));
    }
}
