//! Chess.com: the list of monthly archives, then each month not yet stored completely, asked for
//! conditionally with the `ETag` kept from the last time it was stored.
//!
//! A month that fails costs that month, not the player: the others are stored, the cursor stays
//! before the failed one, and a later run asks from there again (conditionally, for the months
//! that were stored meanwhile).

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;
use chrono::Datelike;
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Drift, DriftKind, Lenient, Plan, ProviderError, Sink, Source, Total};
use crate::game::GameRecord;
use crate::http::{HttpError, Notice, after};
use crate::pgn;
use crate::player::{Platform, Player};
use crate::resume::{Cursor, MonthValidator};

/// Chess.com refuses parallel bursts: two requests in flight at most.
pub const MAX_IN_FLIGHT: usize = 2;

/// How many months may fail one after the other before the player's remaining months are left
/// to a later run: failures in a row say that Chess.com is down or the player is gone, and
/// asking every remaining month, each with all its tries, would only hammer it.
const MAX_FAILED_MONTHS_IN_A_ROW: usize = 3;

/// How many failed months a player's report names; the others are counted.
const NAMED_FAILURES: usize = 5;

/// How many skipped archive URLs are warned of one by one; the others are counted. A hostile
/// list can hold thousands.
const NAMED_REJECTIONS: usize = 5;

/// How much of a skipped archive URL a warning shows.
const SHOWN_URL_CHARS: usize = 120;

#[derive(Deserialize)]
struct Archives {
    archives: Vec<Lenient<String>>,
}

#[derive(Deserialize)]
struct MonthArchive<'a> {
    #[serde(borrow)]
    games: Vec<&'a RawValue>,
}

/// One game of a monthly archive, read game by game so that one odd game cannot spoil its
/// month. The uuid and the PGN are what a game is; every other field is read leniently, so that
/// a value of an unexpected type costs that field (stored as NULL, logged), not the game.
#[derive(Deserialize)]
struct ArchivedGame {
    uuid: Option<String>,
    pgn: Option<String>,
    #[serde(default)]
    url: Lenient<String>,
    #[serde(default)]
    time_control: Lenient<String>,
    #[serde(default)]
    time_class: Lenient<String>,
    #[serde(default)]
    rules: Lenient<String>,
    #[serde(default)]
    rated: Lenient<bool>,
    #[serde(default)]
    start_time: Lenient<i64>,
    #[serde(default)]
    end_time: Lenient<i64>,
    #[serde(default)]
    white: Lenient<Side>,
    #[serde(default)]
    black: Lenient<Side>,
    /// Only when a Game Review was run.
    #[serde(default)]
    accuracies: Lenient<Accuracies>,
    /// The opening's page, `https://www.chess.com/openings/...`: Chess.com's only name of it.
    #[serde(default)]
    eco: Lenient<String>,
    #[serde(default)]
    tournament: Lenient<String>,
    #[serde(default, rename = "match")]
    team_match: Lenient<String>,
}

#[derive(Deserialize)]
struct Accuracies {
    #[serde(default)]
    white: Lenient<f64>,
    #[serde(default)]
    black: Lenient<f64>,
}

#[derive(Deserialize)]
struct Side {
    #[serde(default)]
    username: Lenient<String>,
    #[serde(default)]
    rating: Lenient<i32>,
}

super::lenient_objects!(Side, Accuracies);

impl ArchivedGame {
    /// The record of this game, whose `uuid` and `pgn` were taken out and checked, and whose
    /// start and end (seconds in the JSON) are `start_ms` and `end_ms`.
    fn into_record(
        self,
        uuid: String,
        pgn: String,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    ) -> GameRecord {
        let mut record = GameRecord::new(Platform::Chesscom, uuid, pgn);
        record.url = self.url.ok();
        record.rated = self.rated.ok();
        record.variant = self.rules.ok();
        record.speed = self.time_class.ok();
        record.time_control = self.time_control.ok();
        record.played_at = start_ms;
        record.ended_at = end_ms;
        record.opening = self.eco.get().and_then(|url| pgn::opening_of_eco_url(url));
        record.event_url = self.tournament.ok().or(self.team_match.ok());
        if let Lenient::Value(accuracies) = self.accuracies {
            record.white_analysis.accuracy = accuracies.white.ok();
            record.black_analysis.accuracy = accuracies.black.ok();
        }
        if let Lenient::Value(white) = self.white {
            record.white = white.username.ok();
            record.white_elo = white.rating.ok();
        }
        if let Lenient::Value(black) = self.black {
            record.black = black.username.ok();
            record.black_elo = black.rating.ok();
        }
        record
    }
}

/// A monthly archive's place: `YYYY/MM` and where to ask for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Month {
    pub name: String,
    pub url: String,
}

/// What chess-import reads of `GET /pub/player/{name}`.
#[derive(Debug, Deserialize)]
pub struct Profile {
    pub username: Option<String>,
}

/// The `rules` values of a game: the documented ones and `oddschess`, seen in the wild.
pub const RULES: &[&str] = &[
    "chess",
    "chess960",
    "bughouse",
    "kingofthehill",
    "threecheck",
    "crazyhouse",
    "oddschess",
];
/// The `time_class` values of a game.
pub const TIME_CLASSES: &[&str] = &["daily", "rapid", "blitz", "bullet"];

impl ArchivedGame {
    /// The fields the import relies on that are missing, of another type, or hold a value it
    /// does not know.
    fn drift(&self) -> Vec<Drift> {
        // Bughouse games come without PGN; every other game has one.
        let bughouse = self.rules.get().map(String::as_str) == Some("bughouse");
        let mut drift = Drift::missing_among(&[("pgn", self.pgn.is_some() || bughouse)]);
        drift.extend(Drift::of_lenient("url", &self.url));
        drift.extend(Drift::of_lenient("time_control", &self.time_control));
        drift.extend(Drift::of_lenient("rated", &self.rated));
        drift.extend(Drift::of_lenient("end_time", &self.end_time));
        // Only daily games have a start time: its absence is no drift, another type is.
        drift.extend(
            Drift::of_lenient("start_time", &self.start_time)
                .filter(|drift| drift.kind == DriftKind::OddType),
        );
        for (field, side) in [("white", &self.white), ("black", &self.black)] {
            match side {
                Lenient::Value(side) => {
                    drift.extend(Drift::of_lenient(
                        side_field(field, "username"),
                        &side.username,
                    ));
                    drift.extend(Drift::of_lenient(side_field(field, "rating"), &side.rating));
                }
                other => drift.extend(Drift::of_lenient(field, other)),
            }
        }
        for (field, value, known) in [
            ("rules", &self.rules, RULES),
            ("time_class", &self.time_class, TIME_CLASSES),
        ] {
            drift.extend(match value {
                Lenient::Value(value) => Drift::of_enum(field, Some(value), known),
                other => Drift::of_lenient(field, other),
            });
        }
        drift
    }
}

fn side_field(side: &str, field: &str) -> &'static str {
    match (side, field) {
        ("white", "username") => "white.username",
        ("white", _) => "white.rating",
        (_, "username") => "black.username",
        _ => "black.rating",
    }
}

/// A 404 whose body is not Chess.com's "user not found". Chess.com answers some of its own
/// errors so, for players that exist, so such a 404 is retried like a server error.
#[derive(Debug, thiserror::Error)]
#[error("HTTP 404 that is not \"user not found\" ({body}){}", after(*.tries))]
pub struct Unexplained404 {
    /// The first line of the body.
    pub body: String,
    pub tries: u32,
}

/// Why one month could not be stored this run.
#[derive(Debug, thiserror::Error)]
pub enum MonthError {
    #[error(transparent)]
    Http(HttpError),
    #[error(transparent)]
    NotFound(Unexplained404),
    /// A 304 says "unchanged since what you have", and nothing of the month was had.
    #[error("answered 304 Not Modified to a request without validators")]
    UnaskedNotModified,
    #[error("not the expected JSON ({0})")]
    NotJson(#[source] serde_json::Error),
}

/// The months of a player that failed this run, while the others were stored.
#[derive(Debug, Default)]
pub struct MonthFailures {
    /// Months this run set out to fetch.
    pub months: usize,
    /// The failed months, oldest first, each with why.
    pub failed: Vec<(String, MonthError)>,
    /// Months not asked at all, after too many failures in a row.
    pub not_asked: usize,
}

impl fmt::Display for MonthFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} months failed", self.failed.len(), self.months)?;
        for (index, (month, error)) in self.failed.iter().take(NAMED_FAILURES).enumerate() {
            let separator = if index == 0 { ": " } else { ", " };
            write!(f, "{separator}{month} ({error})")?;
        }
        let more = self.failed.len().saturating_sub(NAMED_FAILURES);
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        if self.not_asked > 0 {
            write!(
                f,
                "; {} later months not asked after {MAX_FAILED_MONTHS_IN_A_ROW} failures in a row",
                self.not_asked
            )?;
        }
        write!(f, "; a later run asks for them again")
    }
}

/// What ends a Chess.com player's import besides the errors every provider has.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Months(MonthFailures),
    #[error("{what}: {source}")]
    NotFound {
        what: &'static str,
        #[source]
        source: Unexplained404,
    },
}

/// Why a request gave nothing usable.
enum Failed {
    Http(HttpError),
    NotFound(Unexplained404),
}

impl From<Failed> for MonthError {
    fn from(failed: Failed) -> Self {
        match failed {
            Failed::Http(error) => MonthError::Http(error),
            Failed::NotFound(error) => MonthError::NotFound(error),
        }
    }
}

impl Failed {
    /// The error of a request whose failure ends the player's import.
    fn for_player(self, what: &'static str) -> ProviderError {
        match self {
            Failed::Http(error) => request_error(what, error),
            Failed::NotFound(error) => Failure::NotFound {
                what,
                source: error,
            }
            .into(),
        }
    }
}

/// `GET /pub/player/{name}`: the player's profile. The import does not need it; `check` asks it
/// to tell a missing player from a missing archive.
pub async fn profile(
    source: &Source,
    player: &Player,
    notify: &mut impl FnMut(Notice),
) -> Result<Profile, ProviderError> {
    let url = source.url(&format!("/pub/player/{}", player.username()));
    let answer = answer(
        source,
        &url,
        source.limits.document,
        || source.client.get(&url),
        notify,
    )
    .await
    .map_err(|failed| failed.for_player("profile"))?;
    super::json(&answer, "profile")
}

/// The player's monthly archives, oldest first, each once, from the archive list. URLs that
/// are not one of this player's months up to the current one are skipped with a warning.
pub async fn archive_months(
    source: &Source,
    player: &Player,
    sink: &mut impl Sink,
) -> Result<Vec<Month>, ProviderError> {
    let list_url = source.url(&format!("/pub/player/{}/games/archives", player.username()));
    let fetched = fetch(source, &list_url, source.limits.document, None, sink)
        .await
        .map_err(|failed| failed.for_player("archive list"))?;
    let Fetched::Body { bytes, .. } = fetched else {
        return Err(ProviderError::BadResponse(
            "archive list answered 304 to an unconditional request".into(),
        ));
    };
    let archives: Archives =
        serde_json::from_slice(&bytes).map_err(|source| ProviderError::NotJson {
            what: "archive list",
            source,
        })?;
    let listed = ArchiveList::read(player.username(), &archives.archives, current_month());
    for (url, rejection) in listed.rejected.iter().take(NAMED_REJECTIONS) {
        let shown: String = url.chars().take(SHOWN_URL_CHARS).collect();
        tracing::warn!("{player}: skipping the archive URL {shown:?}: {rejection}");
    }
    let more = listed.rejected.len().saturating_sub(NAMED_REJECTIONS);
    if more > 0 {
        tracing::warn!("{player}: skipping {more} more archive URLs of the same kinds");
    }
    if listed.repeated > 0 {
        tracing::warn!(
            "{player}: the archive list names some months more than once ({} repeats); each \
             is asked once",
            listed.repeated
        );
    }
    Ok(listed
        .months
        .into_iter()
        .map(|(year, month)| Month {
            name: format!("{year:04}/{month:02}"),
            url: source.url(&format!(
                "/pub/player/{}/games/{year:04}/{month:02}",
                player.username()
            )),
        })
        .collect())
}

/// Every game of one month, read by the import's own parser: what `check` asks.
pub async fn month_games(
    source: &Source,
    player: &Player,
    month: &Month,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    let fetched = fetch(source, &month.url, source.limits.archive, None, sink)
        .await
        .map_err(|failed| failed.for_player("monthly archive"))?;
    let Fetched::Body { bytes, .. } = fetched else {
        return Err(ProviderError::BadResponse(
            "monthly archive answered 304 to an unconditional request".into(),
        ));
    };
    let archive = read_month(&bytes).map_err(|source| ProviderError::NotJson {
        what: "monthly archive",
        source,
    })?;
    let mut received = 0;
    store_month(
        player,
        &Plan::default(),
        &month.name,
        &archive,
        &mut received,
        sink,
    )
    .await?;
    Ok(())
}

enum Fetched {
    NotModified,
    Body {
        bytes: Bytes,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Imports every game of `player` that `plan` asks for.
pub async fn import(
    source: &Source,
    player: &Player,
    plan: &Plan,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    let (year, month) = current_month();
    let this_month = format!("{year:04}/{month:02}");
    let stored = plan.resume.last_month.as_deref().filter(|stored| {
        // Only a month that has begun can have been stored; a cursor beyond it (left by a
        // version that trusted any listed month) would hide every real month behind it.
        let sane = *stored <= this_month.as_str();
        if !sane {
            tracing::warn!(
                "{player}: the stored month {stored} has not begun yet; asking every month again"
            );
        }
        sane
    });
    let first_wanted = plan.since.map(month_of);
    let last_wanted = plan.until.map(|until| month_of(until - 1));
    let first_refreshed = plan.refresh_since.map(month_of);
    let behind_stored = |month: &Month| stored.is_some_and(|stored| month.name.as_str() < stored);
    let mut months = Vec::new();
    for month in archive_months(source, player, sink).await? {
        // Months before the newest stored one are complete; it and later ones may have grown.
        // A complete month is asked again, conditionally, only when it is to be refreshed.
        let refreshed = first_refreshed
            .as_ref()
            .is_some_and(|first| &month.name >= first);
        let before_wanted = first_wanted
            .as_ref()
            .is_some_and(|first| &month.name < first);
        let after_wanted = last_wanted.as_ref().is_some_and(|last| &month.name > last);
        if !((behind_stored(&month) && !refreshed) || before_wanted || after_wanted) {
            months.push(month);
        }
    }
    // Without a stored month, the cursor may only start moving if nothing before was skipped.
    let mut cursor_open = stored.is_some() || first_wanted.is_none();
    if let (Some(stored), Some(first)) = (stored, &first_wanted) {
        cursor_open = first.as_str() <= stored;
    }
    sink.total(Total::Months(months.len() as u64));
    let mut failures = MonthFailures {
        months: months.len(),
        ..MonthFailures::default()
    };
    let mut received = 0;
    let mut failed_in_a_row = 0;
    for (index, month) in months.iter().enumerate() {
        if failed_in_a_row >= MAX_FAILED_MONTHS_IN_A_ROW {
            failures.not_asked = months.len() - index;
            break;
        }
        let (complete, validator) =
            match import_month(source, player, plan, month, &mut received, sink).await? {
                Ok(stored) => stored,
                Err(error) => {
                    tracing::warn!("{player}: month {} failed: {error}", month.name);
                    failed_in_a_row += 1;
                    // Not even a month stored before may be passed: it may have grown since. A
                    // month behind the cursor, asked only to refresh it, is not passed anyway.
                    cursor_open &= behind_stored(month);
                    failures.failed.push((month.name.clone(), error));
                    continue;
                }
            };
        failed_in_a_row = 0;
        let already_stored = stored.is_some_and(|stored| month.name.as_str() <= stored);
        cursor_open &= complete || already_stored;
        // A month behind the cursor, asked again to refresh it, leaves the cursor where it is.
        let cursor =
            (cursor_open && !behind_stored(month)).then(|| Cursor::Month(month.name.clone()));
        sink.commit(cursor, validator).await?;
        sink.month_done();
        if plan.max_games.is_some_and(|max| received >= max) {
            break;
        }
    }
    if failures.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Months(failures).into())
    }
}

/// Fetches one month and hands its games to the sink. The outer error ends the player's import
/// (interrupted, blocked, the store gone); the inner one fails only this month. On success, says
/// whether every game of the month was taken, and the validators to keep if so.
async fn import_month(
    source: &Source,
    player: &Player,
    plan: &Plan,
    month: &Month,
    received: &mut u64,
    sink: &mut impl Sink,
) -> Result<Result<(bool, Option<MonthValidator>), MonthError>, ProviderError> {
    let known = plan.resume.months.get(&month.name);
    let fetched = match fetch(source, &month.url, source.limits.archive, known, sink).await {
        Ok(fetched) => fetched,
        Err(Failed::Http(error)) if stops_the_player(&error) => {
            return Err(request_error("monthly archive", error));
        }
        Err(failed) => return Ok(Err(failed.into())),
    };
    let (bytes, etag, last_modified) = match fetched {
        Fetched::NotModified if known.is_some() => return Ok(Ok((true, None))),
        Fetched::NotModified => return Ok(Err(MonthError::UnaskedNotModified)),
        Fetched::Body {
            bytes,
            etag,
            last_modified,
        } => (bytes, etag, last_modified),
    };
    let archive = match read_month(&bytes) {
        Ok(archive) => archive,
        Err(error) => return Ok(Err(MonthError::NotJson(error))),
    };
    let complete = store_month(player, plan, &month.name, &archive, received, sink).await?;
    let validator = etag.filter(|_| complete).map(|etag| MonthValidator {
        month: month.name.clone(),
        etag,
        last_modified,
    });
    Ok(Ok((complete, validator)))
}

/// Whether a request's error says nothing of the month it asked for but of the whole run or
/// player: asking the next month would only get the same.
fn stops_the_player(error: &HttpError) -> bool {
    matches!(
        error,
        HttpError::Interrupted
            | HttpError::Blocked(_)
            | HttpError::Forbidden(_)
            | HttpError::Unauthorized { .. }
            | HttpError::WaitTooLong { .. }
            | HttpError::Unavailable { .. }
    )
}

fn read_month(bytes: &[u8]) -> Result<MonthArchive<'_>, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// Hands a month's games to the sink. Returns whether every game of the month was taken, which
/// is what lets the cursor and the `ETag` move past it.
async fn store_month(
    player: &Player,
    plan: &Plan,
    month: &str,
    archive: &MonthArchive<'_>,
    received: &mut u64,
    sink: &mut impl Sink,
) -> Result<bool, ProviderError> {
    let mut complete = true;
    // Fields found of another type, warned of once per month rather than once per game.
    let mut odd = HashSet::new();
    for (index, raw) in archive.games.iter().enumerate() {
        if plan.max_games.is_some_and(|max| *received >= max) {
            return Ok(false);
        }
        let mut game: ArchivedGame = match serde_json::from_str(raw.get()) {
            Ok(game) => game,
            Err(error) => {
                let reason = format!("unreadable game #{} of {month} ({error})", index + 1);
                tracing::warn!("{player}: {reason}");
                sink.unreadable(&reason);
                continue;
            }
        };
        for drift in game.drift() {
            if drift.kind == DriftKind::OddType && odd.insert(drift.field) {
                tracing::warn!(
                    "{player}: {drift} in archive {month}; the games keep it as NULL (logged \
                     once per month)"
                );
            }
            sink.drift(drift);
        }
        let Some(uuid) = game.uuid.take().filter(|uuid| !uuid.is_empty()) else {
            let reason = format!("game #{} of {month} has no uuid", index + 1);
            tracing::warn!("{player}: {reason}");
            sink.unreadable(&reason);
            continue;
        };
        // Seconds from the server: an absurd value must not overflow, it only goes unknown.
        let start_ms = game.start_time.get().and_then(|s| s.checked_mul(1000));
        let end_ms = game.end_time.get().and_then(|s| s.checked_mul(1000));
        let in_range = start_ms.or(end_ms).is_none_or(|started| {
            plan.since.is_none_or(|since| started >= since)
                && plan.until.is_none_or(|until| started < until)
        });
        if !in_range {
            complete = false;
            continue;
        }
        let Some(pgn) = game.pgn.take() else {
            let rules = game.rules.get().map_or("unknown rules", String::as_str);
            tracing::debug!("{player}: skipping {uuid}: a {rules} game without PGN");
            sink.skipped(rules);
            continue;
        };
        let record = game.into_record(uuid, pgn, start_ms, end_ms);
        *received += 1;
        sink.game(record, None).await?;
    }
    Ok(complete)
}

/// GETs `url` (conditionally when its validators are known) and reads the whole body.
async fn fetch(
    source: &Source,
    url: &str,
    limit: usize,
    known: Option<&MonthValidator>,
    sink: &mut impl Sink,
) -> Result<Fetched, Failed> {
    let build = || {
        let mut request = source.client.get(url);
        if let Some(known) = known {
            request = request.header(IF_NONE_MATCH, &known.etag);
            // Echoed verbatim: Chess.com's dates are not RFC dates, so only it can read them.
            if let Some(last_modified) = &known.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        request
    };
    let answer = answer(source, url, limit, build, &mut |n| sink.notice(n)).await?;
    if answer.status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    let header = |name| {
        answer
            .headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(Fetched::Body {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
        bytes: answer.body,
    })
}

/// Sends the request `build` makes through the etiquette, and tries again, like after a server
/// error and as many times, when a 404 is not Chess.com's "user not found". The etiquette's own
/// tries are within each of these, so a request is sent `max_tries²` times at the very most.
async fn answer(
    source: &Source,
    url: &str,
    limit: usize,
    build: impl Fn() -> reqwest::RequestBuilder,
    notify: &mut impl FnMut(Notice),
) -> Result<crate::http::Answer, Failed> {
    let etiquette = &source.etiquette;
    let max = etiquette.policy.max_tries.max(1);
    let mut tries = 1;
    loop {
        match etiquette.fetch(&build, &mut *notify, limit).await {
            Err(HttpError::NotFound(body)) if !is_user_not_found(&body) => {
                tracing::info!("GET {url}: a 404 that is not \"user not found\": {body}");
                if tries >= max {
                    return Err(Failed::NotFound(Unexplained404 { body, tries }));
                }
                notify(Notice::Retrying {
                    attempt: tries + 1,
                    max,
                    error: "HTTP 404 that is not \"user not found\"".into(),
                });
                etiquette
                    .sleep(etiquette.policy.backoff_for(tries))
                    .await
                    .map_err(Failed::Http)?;
                tries += 1;
            }
            answered => return answered.map_err(Failed::Http),
        }
    }
}

/// Whether a 404's body is Chess.com's answer for a player that does not exist:
/// `{"code":0,"message":"User \"x\" not found."}`.
fn is_user_not_found(body: &str) -> bool {
    #[derive(Deserialize)]
    struct NotFound {
        message: String,
    }
    serde_json::from_str::<NotFound>(body).is_ok_and(|body| {
        body.message.starts_with("User \"") && body.message.ends_with("\" not found.")
    })
}

/// The player's error for a request's: a 403 that did not block the run (the etiquette stops
/// the lane itself for Chess.com's "crawl too heavy") is a refusal of this client.
fn request_error(what: &'static str, error: HttpError) -> ProviderError {
    match error {
        HttpError::Forbidden(_) => ProviderError::Refused(format!(
            "{what}: Chess.com refused the request (HTTP 403); make sure --user-agent names the \
             tool and a contact"
        )),
        error => ProviderError::from_http(what, error),
    }
}

/// The months of an archive list worth asking for, and what was left out.
#[derive(Debug, Default, PartialEq, Eq)]
struct ArchiveList {
    /// `(year, month)`, oldest first, each once.
    months: Vec<(i32, u32)>,
    /// Each skipped entry, as listed, with why.
    rejected: Vec<(String, Rejection)>,
    /// Entries that named a month already listed.
    repeated: usize,
}

/// Why an entry of the archive list is not asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
enum Rejection {
    #[error("not a URL")]
    NotAString,
    #[error("not a monthly archive of the API")]
    NotAnArchive,
    #[error("its path climbs or hides dots or escapes")]
    Traversal,
    #[error("another player's archive")]
    OtherPlayer,
    #[error("no such month")]
    NoSuchMonth,
    #[error("a month that has not begun")]
    Future,
}

impl ArchiveList {
    /// Reads the entries of `player`'s archive list, `now` being the current `(year, month)`.
    fn read(player: &str, entries: &[Lenient<String>], now: (i32, u32)) -> Self {
        let mut list = ArchiveList::default();
        for entry in entries {
            let read = match entry {
                Lenient::Value(url) => {
                    archive_month(player, url, now).map_err(|rejection| (url.clone(), rejection))
                }
                _ => Err((String::new(), Rejection::NotAString)),
            };
            match read {
                Ok(month) => list.months.push(month),
                Err(rejected) => list.rejected.push(rejected),
            }
        }
        let listed = list.months.len();
        list.months.sort_unstable();
        list.months.dedup();
        list.repeated = listed - list.months.len();
        list
    }
}

/// Reads `https://api.chess.com/pub/player/x/games/2024/03` as `(2024, 3)` when it is one of
/// `player`'s months up to `now`. Only the path counts (it is asked at the configured base), and
/// it must be exactly that shape: a path that climbs (`..`, `%2e%2e`) or names another player
/// could make the import fetch, and store as this player's, whatever the list's author likes.
fn archive_month(player: &str, url: &str, now: (i32, u32)) -> Result<(i32, u32), Rejection> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
        None => url,
    };
    if path.contains(['%', '\\']) {
        return Err(Rejection::Traversal);
    }
    if path.contains(['?', '#']) {
        return Err(Rejection::NotAnArchive);
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    if segments
        .iter()
        .any(|segment| matches!(*segment, "." | ".."))
    {
        return Err(Rejection::Traversal);
    }
    let ["", "pub", "player", owner, "games", year, month] = segments.as_slice() else {
        return Err(Rejection::NotAnArchive);
    };
    if !owner.eq_ignore_ascii_case(player) {
        return Err(Rejection::OtherPlayer);
    }
    let digits =
        |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2)) {
        return Err(Rejection::NotAnArchive);
    }
    let (Ok(year), Ok(month)) = (year.parse::<i32>(), month.parse::<u32>()) else {
        return Err(Rejection::NotAnArchive);
    };
    if !(1..=12).contains(&month) {
        return Err(Rejection::NoSuchMonth);
    }
    if (year, month) > now {
        return Err(Rejection::Future);
    }
    Ok((year, month))
}

/// The current `(year, month)`, UTC: archive months are UTC months.
fn current_month() -> (i32, u32) {
    let now = chrono::Utc::now();
    (now.year(), now.month())
}

/// The archive month (`YYYY/MM`, UTC) holding the instant `ms`.
fn month_of(ms: i64) -> String {
    let date = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    date.format("%Y/%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_named_by_their_utc_month() {
        assert_eq!(month_of(0), "1970/01");
        // 2024-03-31T23:59:59.999Z and a millisecond later.
        assert_eq!(month_of(1_711_929_599_999), "2024/03");
        assert_eq!(month_of(1_711_929_600_000), "2024/04");
    }

    const NOW: (i32, u32) = (2024, 6);

    fn month(url: &str) -> Result<(i32, u32), Rejection> {
        archive_month("bob", url, NOW)
    }

    #[test]
    fn an_archive_url_is_read_by_its_path_alone() {
        assert_eq!(
            month("https://api.chess.com/pub/player/bob/games/2024/03"),
            Ok((2024, 3))
        );
        assert_eq!(
            month("http://elsewhere.example:8080/pub/player/bob/games/2009/10/"),
            Ok((2009, 10)),
            "any host, a trailing slash"
        );
        assert_eq!(month("/pub/player/BOB/games/2024/06"), Ok((2024, 6)));
    }

    #[test]
    fn archive_urls_that_climb_or_hide_dots_are_traversal() {
        for url in [
            "https://api.chess.com/pub/player/bob/games/../../alice/games/2024/03",
            "https://api.chess.com/pub/player/bob/games/2024/03/..",
            "https://api.chess.com/pub/player/bob/./games/2024/03",
            "https://api.chess.com/pub/player/bob/games/%2e%2e/%2E%2E/alice/games/2024/03",
            "https://api.chess.com/pub/player/b%6fb/games/2024/03",
            "https://api.chess.com/pub/player/bob/games/2024\\03",
        ] {
            assert_eq!(month(url), Err(Rejection::Traversal), "{url}");
        }
    }

    #[test]
    fn other_players_other_shapes_and_impossible_months_are_rejected() {
        let cases = [
            (
                "https://api.chess.com/pub/player/alice/games/2024/03",
                Rejection::OtherPlayer,
            ),
            (
                "https://api.chess.com/pub/player/bobby/games/2024/03",
                Rejection::OtherPlayer,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/13",
                Rejection::NoSuchMonth,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/00",
                Rejection::NoSuchMonth,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/07",
                Rejection::Future,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2999/01",
                Rejection::Future,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/3",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/24/03",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/+3",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/03/pgn",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/2024/03?x=1",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob/games/archives",
                Rejection::NotAnArchive,
            ),
            (
                "https://api.chess.com/pub/player/bob//games/2024/03",
                Rejection::NotAnArchive,
            ),
            ("https://api.chess.com", Rejection::NotAnArchive),
            ("", Rejection::NotAnArchive),
        ];
        for (url, rejection) in cases {
            assert_eq!(month(url), Err(rejection), "{url}");
        }
    }

    #[test]
    fn an_archive_list_is_sorted_deduplicated_and_says_what_it_skipped() {
        let entries: Vec<Lenient<String>> = serde_json::from_str(
            r#"["https://api.chess.com/pub/player/bob/games/2024/02",
                "https://api.chess.com/pub/player/bob/games/2023/11",
                "https://api.chess.com/pub/player/bob/games/2024/02",
                "https://api.chess.com/pub/player/Bob/games/2023/11",
                "https://api.chess.com/pub/player/bob/games/2024/13",
                42]"#,
        )
        .unwrap();
        let list = ArchiveList::read("bob", &entries, NOW);
        assert_eq!(list.months, [(2023, 11), (2024, 2)]);
        assert_eq!(list.repeated, 2);
        assert_eq!(
            list.rejected,
            [
                (
                    "https://api.chess.com/pub/player/bob/games/2024/13".to_string(),
                    Rejection::NoSuchMonth
                ),
                (String::new(), Rejection::NotAString),
            ]
        );
    }

    #[test]
    fn only_chesscoms_own_message_means_user_not_found() {
        assert!(is_user_not_found(
            r#"{"code":0,"message":"User \"nobody-zzqx-12345\" not found."}"#
        ));
        assert!(!is_user_not_found(
            r#"{"message":"An internal error has occurred. Please contact Chess.com Developer's Forum for further help https://www.chess.com/club/chess-com-developer-community ."}"#
        ));
        assert!(!is_user_not_found(""));
        assert!(!is_user_not_found("<html>404</html>"));
    }

    #[test]
    fn odd_incidental_fields_cost_only_themselves() {
        let game: ArchivedGame = serde_json::from_str(
            r#"{"uuid":"u1","pgn":"1. e4 *","rated":"yes","end_time":"1700000000",
                "white":"bob","black":{"username":"eve","rating":1500.5},
                "start_time":99999999999999999,"rules":"chess","time_class":7}"#,
        )
        .unwrap();
        assert_eq!(game.rated, Lenient::Odd);
        assert_eq!(game.end_time, Lenient::Odd);
        let odd: Vec<&str> = game
            .drift()
            .into_iter()
            .filter(|drift| drift.kind == DriftKind::OddType)
            .map(|drift| drift.field)
            .collect();
        assert_eq!(
            odd,
            ["rated", "end_time", "white", "black.rating", "time_class"]
        );
        assert_eq!(
            game.start_time.get().and_then(|s| s.checked_mul(1000)),
            None,
            "an absurd start overflows to unknown, not to a panic"
        );
        let essential: Result<ArchivedGame, _> = serde_json::from_str(r#"{"uuid":7,"pgn":"*"}"#);
        assert!(essential.is_err(), "a uuid of another type is no game");
    }

    #[test]
    fn reads_the_review_the_opening_page_and_the_event() {
        let game: ArchivedGame = serde_json::from_str(
            r#"{"uuid":"u1","pgn":"*","end_time":1700000000,"accuracies":{"white":83.51,"black":100},
                "eco":"https://www.chess.com/openings/Sicilian-Defense-Najdorf-Variation",
                "match":"https://api.chess.com/pub/match/12345","time_class":"daily"}"#,
        )
        .unwrap();
        let record = game.into_record("u1".into(), "*".into(), None, Some(1_700_000_000_000));
        assert_eq!(record.ended_at, Some(1_700_000_000_000));
        assert_eq!(record.white_analysis.accuracy, Some(83.51));
        assert_eq!(record.black_analysis.accuracy, Some(100.0));
        assert_eq!(
            record.opening.as_deref(),
            Some("Sicilian Defense Najdorf Variation")
        );
        assert_eq!(
            record.event_url.as_deref(),
            Some("https://api.chess.com/pub/match/12345")
        );
    }

    #[test]
    fn a_failure_report_names_a_few_months_and_counts_the_rest() {
        let failed = (1..=7)
            .map(|m| (format!("2024/{m:02}"), MonthError::UnaskedNotModified))
            .collect();
        let failures = MonthFailures {
            months: 14,
            failed,
            not_asked: 0,
        };
        let text = failures.to_string();
        assert!(
            text.starts_with("7 of 14 months failed: 2024/01 (answered 304"),
            "{text}"
        );
        assert!(
            text.contains("2024/05 (") && !text.contains("2024/06"),
            "{text}"
        );
        assert!(
            text.ends_with(" and 2 more; a later run asks for them again"),
            "{text}"
        );
    }
}
