//! Chess.com: the list of monthly archives, then each month not yet stored completely, asked for
//! conditionally with the `ETag` kept from the last time it was stored.

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Drift, Plan, ProviderError, Sink, Source, Total};
use crate::game::GameRecord;
use crate::http::{HttpError, Notice};
use crate::player::{Platform, Player};
use crate::resume::{Cursor, MonthValidator};

/// Chess.com refuses parallel bursts: two requests in flight at most.
pub const MAX_IN_FLIGHT: usize = 2;

#[derive(Deserialize)]
struct Archives {
    archives: Vec<String>,
}

#[derive(Deserialize)]
struct MonthArchive<'a> {
    #[serde(borrow)]
    games: Vec<&'a RawValue>,
}

/// One game of a monthly archive. Every field is optional: the archive is read game by game so
/// that one odd game cannot spoil its month.
#[derive(Deserialize)]
struct ArchivedGame {
    uuid: Option<String>,
    url: Option<String>,
    pgn: Option<String>,
    time_control: Option<String>,
    time_class: Option<String>,
    rules: Option<String>,
    rated: Option<bool>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    white: Option<Side>,
    black: Option<Side>,
}

#[derive(Deserialize)]
struct Side {
    username: Option<String>,
    rating: Option<i32>,
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
    /// The fields the import relies on that are missing or hold a value it does not know.
    fn drift(&self) -> Vec<Drift> {
        let mut drift = Drift::missing_among(&[
            ("url", self.url.is_some()),
            ("time_control", self.time_control.is_some()),
            ("rated", self.rated.is_some()),
            ("end_time", self.end_time.is_some()),
            // Bughouse games come without PGN; every other game has one.
            (
                "pgn",
                self.pgn.is_some() || self.rules.as_deref() == Some("bughouse"),
            ),
        ]);
        for (field, side) in [("white", &self.white), ("black", &self.black)] {
            match side {
                None => drift.push(Drift::missing(field)),
                Some(side) => {
                    if side.username.is_none() {
                        drift.push(Drift::missing(side_field(field, "username")));
                    }
                    if side.rating.is_none() {
                        drift.push(Drift::missing(side_field(field, "rating")));
                    }
                }
            }
        }
        drift.extend(Drift::of_enum("rules", self.rules.as_deref(), RULES));
        drift.extend(Drift::of_enum(
            "time_class",
            self.time_class.as_deref(),
            TIME_CLASSES,
        ));
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

/// `GET /pub/player/{name}`: the player's profile. The import does not need it; `check` asks it
/// to tell a missing player from a missing archive.
pub async fn profile(
    source: &Source,
    player: &Player,
    notify: &mut impl FnMut(Notice),
) -> Result<Profile, ProviderError> {
    let url = source.url(&format!("/pub/player/{}", player.username()));
    let answer = source
        .etiquette
        .fetch(|| source.client.get(&url), notify, source.limits.document)
        .await
        .map_err(|error| request_error(source, "profile", error))?;
    super::json(&answer, "profile")
}

/// The player's monthly archives, oldest first, from the archive list.
pub async fn archive_months(
    source: &Source,
    player: &Player,
    sink: &mut impl Sink,
) -> Result<Vec<Month>, ProviderError> {
    let list_url = source.url(&format!("/pub/player/{}/games/archives", player.username()));
    let Fetched::Body { bytes, .. } = fetch(
        source,
        &list_url,
        source.limits.document,
        None,
        "archive list",
        sink,
    )
    .await?
    else {
        return Err(ProviderError::BadResponse(
            "archive list answered 304 to an unconditional request".into(),
        ));
    };
    let archives: Archives =
        serde_json::from_slice(&bytes).map_err(|source| ProviderError::NotJson {
            what: "archive list",
            source,
        })?;
    let mut months = archives
        .archives
        .iter()
        .map(|url| {
            parse_archive_url(source, url).ok_or_else(|| {
                ProviderError::BadResponse(format!("archive list holds an unexpected URL {url:?}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    months.sort_by(|a, b| a.name.cmp(&b.name));
    months.dedup();
    Ok(months)
}

/// Every game of one month, read by the import's own parser: what `check` asks.
pub async fn month_games(
    source: &Source,
    player: &Player,
    month: &Month,
    sink: &mut impl Sink,
) -> Result<(), ProviderError> {
    let Fetched::Body { bytes, .. } = fetch(
        source,
        &month.url,
        source.limits.archive,
        None,
        "monthly archive",
        sink,
    )
    .await?
    else {
        return Err(ProviderError::BadResponse(
            "monthly archive answered 304 to an unconditional request".into(),
        ));
    };
    let mut received = 0;
    store_month(
        player,
        &Plan::default(),
        &month.name,
        &bytes,
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
    let stored = plan.resume.last_month.as_deref();
    let first_wanted = plan.since.map(month_of);
    let last_wanted = plan.until.map(|until| month_of(until - 1));
    let mut months = Vec::new();
    for month in archive_months(source, player, sink).await? {
        // Months before the newest stored one are complete; it and later ones may have grown.
        let before_stored = stored.is_some_and(|stored| month.name.as_str() < stored);
        let before_wanted = first_wanted
            .as_ref()
            .is_some_and(|first| &month.name < first);
        let after_wanted = last_wanted.as_ref().is_some_and(|last| &month.name > last);
        if !(before_stored || before_wanted || after_wanted) {
            months.push(month);
        }
    }
    // Without a stored month, the cursor may only start moving if nothing before was skipped.
    let mut cursor_open = stored.is_some() || first_wanted.is_none();
    if let (Some(stored), Some(first)) = (stored, &first_wanted) {
        cursor_open = first.as_str() <= stored;
    }
    sink.total(Total::Months(months.len() as u64));
    let mut received = 0;
    for month in &months {
        let known = plan.resume.months.get(&month.name);
        let fetched = fetch(
            source,
            &month.url,
            source.limits.archive,
            known,
            "monthly archive",
            sink,
        )
        .await?;
        let (complete, validator) = match fetched {
            Fetched::NotModified => (true, None),
            Fetched::Body {
                bytes,
                etag,
                last_modified,
            } => {
                let complete =
                    store_month(player, plan, &month.name, &bytes, &mut received, sink).await?;
                let validator = etag.filter(|_| complete).map(|etag| MonthValidator {
                    month: month.name.clone(),
                    etag,
                    last_modified,
                });
                (complete, validator)
            }
        };
        let already_stored = stored.is_some_and(|stored| month.name.as_str() <= stored);
        cursor_open &= complete || already_stored;
        let cursor = cursor_open.then(|| Cursor::Month(month.name.clone()));
        sink.commit(cursor, validator).await?;
        sink.month_done();
        if plan.max_games.is_some_and(|max| received >= max) {
            break;
        }
    }
    Ok(())
}

/// Hands a month's games to the sink. Returns whether every game of the month was taken, which
/// is what lets the cursor and the `ETag` move past it.
async fn store_month(
    player: &Player,
    plan: &Plan,
    month: &str,
    bytes: &[u8],
    received: &mut u64,
    sink: &mut impl Sink,
) -> Result<bool, ProviderError> {
    let archive: MonthArchive<'_> = serde_json::from_slice(bytes).map_err(|error| {
        ProviderError::BadResponse(format!(
            "archive {month} is not the expected JSON ({error})"
        ))
    })?;
    let mut complete = true;
    for (index, raw) in archive.games.iter().enumerate() {
        if plan.max_games.is_some_and(|max| *received >= max) {
            return Ok(false);
        }
        let game: ArchivedGame = match serde_json::from_str(raw.get()) {
            Ok(game) => game,
            Err(error) => {
                let reason = format!("unreadable game #{} of {month} ({error})", index + 1);
                tracing::warn!("{player}: {reason}");
                sink.unreadable(&reason);
                continue;
            }
        };
        for drift in game.drift() {
            sink.drift(drift);
        }
        let Some(uuid) = game.uuid.filter(|uuid| !uuid.is_empty()) else {
            let reason = format!("game #{} of {month} has no uuid", index + 1);
            tracing::warn!("{player}: {reason}");
            sink.unreadable(&reason);
            continue;
        };
        let started = game.start_time.or(game.end_time).map(|s| s * 1000);
        let in_range = started.is_none_or(|started| {
            plan.since.is_none_or(|since| started >= since)
                && plan.until.is_none_or(|until| started < until)
        });
        if !in_range {
            complete = false;
            continue;
        }
        let Some(pgn) = game.pgn else {
            let rules = game.rules.as_deref().unwrap_or("unknown rules");
            tracing::debug!("{player}: skipping {uuid}: a {rules} game without PGN");
            sink.skipped(rules);
            continue;
        };
        let mut record = GameRecord::new(Platform::Chesscom, uuid, pgn);
        record.url = game.url;
        record.rated = game.rated;
        record.variant = game.rules;
        record.speed = game.time_class;
        record.time_control = game.time_control;
        record.played_at = game.start_time.map(|s| s * 1000);
        if let Some(white) = game.white {
            record.white = white.username;
            record.white_elo = white.rating;
        }
        if let Some(black) = game.black {
            record.black = black.username;
            record.black_elo = black.rating;
        }
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
    what: &'static str,
    sink: &mut impl Sink,
) -> Result<Fetched, ProviderError> {
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
    let answer = source
        .etiquette
        .fetch(build, &mut |n| sink.notice(n), limit)
        .await
        .map_err(|error| request_error(source, what, error))?;
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

/// Turns Chess.com's "crawl too heavy" refusal into a stop for every Chess.com request of the
/// run, rather than letting the other players hammer on.
fn request_error(source: &Source, what: &'static str, error: HttpError) -> ProviderError {
    match error {
        HttpError::Forbidden(body) if body.starts_with("Blocked") => {
            let reason = format!("Chess.com blocked this run: {body}");
            source.etiquette.lane.block(&reason);
            ProviderError::Http {
                what,
                source: HttpError::Blocked(reason),
            }
        }
        HttpError::Forbidden(_) => ProviderError::Refused(format!(
            "{what}: Chess.com refused the request (HTTP 403); make sure --user-agent names the \
             tool and a contact"
        )),
        error => ProviderError::from_http(what, error),
    }
}

/// Reads `https://api.chess.com/pub/player/x/games/2024/03` as month `2024/03`, to be asked at the
/// configured base with the same path.
fn parse_archive_url(source: &Source, url: &str) -> Option<Month> {
    let path = &url[url.find("/pub/")?..];
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let month = segments.next()?;
    let year = segments.next()?;
    let valid = year.len() == 4
        && month.len() == 2
        && year
            .bytes()
            .chain(month.bytes())
            .all(|b| b.is_ascii_digit());
    valid.then(|| Month {
        name: format!("{year}/{month}"),
        url: source.url(path),
    })
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
}
