//! `chess-import check`: a smoke test of the provider APIs. For each player it asks the endpoints
//! an import relies on, with the same client, base URLs, token and etiquette as `import`, parses
//! the newest few games like an import would, and reports each answer. It stores nothing.

use std::time::Instant;

use anyhow::Context;
use indicatif::HumanCount;
use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Exit, watch_ctrl_c, write_stdout};
use crate::cli::CheckArgs;
use crate::game::GameRecord;
use crate::http::{HttpError, Notice};
use crate::pgn;
use crate::player::{Platform, Player};
use crate::providers::Source;
use crate::view::Screen;

/// The whole check, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Every provider answered every request as expected.
    pub ok: bool,
    pub providers: Vec<ProviderReport>,
    pub elapsed_ms: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProviderReport {
    pub platform: Platform,
    pub ok: bool,
    pub checks: Vec<EndpointCheck>,
}

/// One request and what came of it.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointCheck {
    /// `lichess:thibault`.
    pub player: String,
    /// `GET /api/user/thibault`, relative to the provider's base URL.
    pub request: String,
    /// The final HTTP status; `None` when no answer came (connection errors) or not asked.
    pub status: Option<u16>,
    /// Time to the whole answer, retries included.
    pub latency_ms: Option<u64>,
    /// Games read and validated from the answer, for the endpoints that serve games.
    pub games: Option<u64>,
    pub verdict: Verdict,
    /// What went wrong, or a note on what was seen.
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// The provider says the player does not exist.
    NotFound,
    Failed,
    /// Not asked, because an earlier request of the player failed.
    Skipped,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NotFound => "not found",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
        }
    }
}

pub async fn exec(args: CheckArgs, screen: Screen) -> anyhow::Result<Exit> {
    let cancel = CancellationToken::new();
    let sources = args.providers.sources(&args.etiquette, &cancel)?;
    watch_ctrl_c(cancel.clone(), screen.clone());
    let started = Instant::now();
    let players = crate::player::dedup(args.players);
    let checker = Checker {
        games: usize::from(args.games),
        screen,
    };
    let results = futures_util::future::join_all(
        players
            .iter()
            .map(|player| checker.player(sources.of(player.platform), player)),
    )
    .await;
    let report = CheckReport::new(
        players.iter().zip(results).collect(),
        started.elapsed().as_millis() as u64,
    );
    let output = if args.json {
        let json = serde_json::to_string(&report).context("cannot write the JSON report")?;
        format!("{json}\n")
    } else {
        table(&report)
    };
    write_stdout(output.as_bytes(), "the report")?;
    Ok(if cancel.is_cancelled() {
        Exit::Interrupted
    } else if report.ok {
        Exit::Success
    } else {
        Exit::PlayersFailed
    })
}

impl CheckReport {
    /// Groups each player's checks under its provider, providers in a fixed order.
    fn new(players: Vec<(&Player, Vec<EndpointCheck>)>, elapsed_ms: u64) -> Self {
        let providers: Vec<ProviderReport> = Platform::ALL
            .iter()
            .filter_map(|&platform| {
                let checks: Vec<EndpointCheck> = players
                    .iter()
                    .filter(|(player, _)| player.platform == platform)
                    .flat_map(|(_, checks)| checks.iter().cloned())
                    .collect();
                (!checks.is_empty()).then(|| ProviderReport {
                    platform,
                    ok: checks.iter().all(|c| c.verdict == Verdict::Ok),
                    checks,
                })
            })
            .collect();
        CheckReport {
            ok: providers.iter().all(|p| p.ok),
            providers,
            elapsed_ms,
        }
    }
}

struct Checker {
    games: usize,
    screen: Screen,
}

/// An answer's body, or the check that says why there is none.
type Answer = Result<(u16, bytes::Bytes), EndpointCheck>;

impl Checker {
    async fn player(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        match player.platform {
            Platform::Lichess => self.lichess(source, player).await,
            Platform::Chesscom => self.chesscom(source, player).await,
        }
    }

    /// `GET /api/user/{name}`, then the newest games as NDJSON, as the import asks for them.
    async fn lichess(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        let name = player.username();
        let profile_path = format!("/api/user/{name}");
        let started = Instant::now();
        let profile = self.get(source, player, &profile_path, None).await;
        let profile = match profile {
            Ok((status, body)) => {
                let checked = check(player, &profile_path, status, started, Verdict::Ok);
                match serde_json::from_slice::<LichessProfile>(&body) {
                    Ok(profile) if profile.id.eq_ignore_ascii_case(name) => EndpointCheck {
                        detail: profile
                            .count
                            .and_then(|c| c.all)
                            .map(|n| format!("profile counts {} games", HumanCount(n))),
                        ..checked
                    },
                    Ok(profile) => EndpointCheck {
                        verdict: Verdict::Failed,
                        detail: Some(format!("the profile of {:?} was served", profile.id)),
                        ..checked
                    },
                    Err(error) => EndpointCheck {
                        verdict: Verdict::Failed,
                        detail: Some(format!("not a profile: {error}")),
                        ..checked
                    },
                }
            }
            Err(failed) => failed,
        };
        let games_path = format!("/api/games/user/{name}");
        let request = format!("{games_path}?max={}", self.games);
        if profile.verdict != Verdict::Ok {
            return vec![profile, skipped(player, &request)];
        }
        let started = Instant::now();
        let query = [
            ("max", self.games.to_string()),
            ("pgnInJson", "true".into()),
            ("clocks", "true".into()),
            ("opening", "true".into()),
        ];
        let games = match self
            .get(source, player, &games_path, Some(&query[..]))
            .await
        {
            Ok((status, body)) => {
                let parsed = parse_lichess_games(&body);
                games_check(player, &request, status, started, parsed)
            }
            Err(failed) => EndpointCheck {
                request: format!("GET {request}"),
                ..failed
            },
        };
        vec![profile, games]
    }

    /// `GET /pub/player/{name}`, the archive list, then the newest month.
    async fn chesscom(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        let name = player.username();
        let profile_path = format!("/pub/player/{name}");
        let archives_path = format!("/pub/player/{name}/games/archives");
        let newest_path = format!("/pub/player/{name}/games/YYYY/MM");
        let started = Instant::now();
        let profile = match self.get(source, player, &profile_path, None).await {
            Ok((status, body)) => {
                let checked = check(player, &profile_path, status, started, Verdict::Ok);
                match serde_json::from_slice::<ChesscomProfile>(&body) {
                    Ok(profile) if profile.username.eq_ignore_ascii_case(name) => checked,
                    Ok(profile) => EndpointCheck {
                        verdict: Verdict::Failed,
                        detail: Some(format!("the profile of {:?} was served", profile.username)),
                        ..checked
                    },
                    Err(error) => EndpointCheck {
                        verdict: Verdict::Failed,
                        detail: Some(format!("not a profile: {error}")),
                        ..checked
                    },
                }
            }
            Err(failed) => failed,
        };
        if profile.verdict != Verdict::Ok {
            return vec![
                profile,
                skipped(player, &archives_path),
                skipped(player, &newest_path),
            ];
        }
        let started = Instant::now();
        let newest = match self.get(source, player, &archives_path, None).await {
            Ok((status, body)) => match serde_json::from_slice::<ChesscomArchives>(&body) {
                Ok(list) => {
                    let newest = list.archives.iter().filter_map(|url| month_path(url)).max();
                    let months = list.archives.len() as u64;
                    let archives = EndpointCheck {
                        detail: Some(format!("{} months", HumanCount(months))),
                        ..check(player, &archives_path, status, started, Verdict::Ok)
                    };
                    match newest {
                        Some(newest) => Ok((archives, newest)),
                        None if months == 0 => Err(vec![
                            archives,
                            EndpointCheck {
                                detail: Some("the player has no games".into()),
                                ..skipped(player, &newest_path)
                            },
                        ]),
                        None => Err(vec![
                            EndpointCheck {
                                verdict: Verdict::Failed,
                                detail: Some("the list holds no month URL".into()),
                                ..archives
                            },
                            skipped(player, &newest_path),
                        ]),
                    }
                }
                Err(error) => Err(vec![
                    EndpointCheck {
                        detail: Some(format!("not an archive list: {error}")),
                        ..check(player, &archives_path, status, started, Verdict::Failed)
                    },
                    skipped(player, &newest_path),
                ]),
            },
            Err(failed) => Err(vec![failed, skipped(player, &newest_path)]),
        };
        let (archives, month) = match newest {
            Ok(found) => found,
            Err(rest) => return [vec![profile], rest].concat(),
        };
        let started = Instant::now();
        let month = match self.get(source, player, &month, None).await {
            Ok((status, body)) => {
                let parsed = parse_chesscom_month(&body, self.games);
                games_check(player, &month, status, started, parsed)
            }
            Err(failed) => failed,
        };
        vec![profile, archives, month]
    }

    /// GETs `path` at the provider with the import's etiquette, and reads the whole body.
    async fn get(
        &self,
        source: &Source,
        player: &Player,
        path: &str,
        query: Option<&[(&str, String)]>,
    ) -> Answer {
        let started = Instant::now();
        let url = source.url(path);
        let build = || {
            let mut request = source.client.get(&url);
            if let Some(query) = query {
                request = request.query(query).header(ACCEPT, "application/x-ndjson");
            }
            match &source.token {
                Some(token) => request.bearer_auth(token),
                None => request,
            }
        };
        let mut notify = |notice: Notice| self.notice(player, path, &notice);
        let failed = |status: Option<u16>, verdict, detail: String| EndpointCheck {
            status,
            detail: Some(detail),
            ..check(player, path, 0, started, verdict)
        };
        let (response, _permit) = match source.etiquette.send(build, &mut notify).await {
            Ok(answer) => answer,
            Err(HttpError::NotFound) => {
                return Err(failed(
                    Some(404),
                    Verdict::NotFound,
                    "user not found".into(),
                ));
            }
            Err(error) => {
                return Err(failed(
                    status_of(&error),
                    Verdict::Failed,
                    error.to_string(),
                ));
            }
        };
        let status = response.status().as_u16();
        let content_type = crate::http::content_type(&response);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                let error = crate::http::describe_transport_error(&error);
                return Err(failed(
                    Some(status),
                    Verdict::Failed,
                    format!("the body broke off: {error}"),
                ));
            }
        };
        // Both providers answer JSON (or NDJSON); an HTML page is a portal or an error page.
        if !content_type.contains("json") {
            return Err(failed(
                Some(status),
                Verdict::Failed,
                format!(
                    "answered {} instead of JSON",
                    if content_type.is_empty() {
                        "without a content type"
                    } else {
                        &content_type
                    }
                ),
            ));
        }
        Ok((status, body))
    }

    /// Retries and rate limits show like the import's, as lines (never under `-q` or `none`).
    fn notice(&self, player: &Player, path: &str, notice: &Notice) {
        if !self.screen.shows_progress() {
            return;
        }
        let text = match notice {
            Notice::Waiting(wait) => format!("waiting {}s (rate limited)", wait.as_secs()),
            Notice::Retrying {
                attempt,
                max,
                error,
            } => format!("retrying {attempt}/{max} ({error})"),
        };
        self.screen.line(&format!("{player}: GET {path}: {text}"));
    }
}

/// The status a failed request got, when it got one.
fn status_of(error: &HttpError) -> Option<u16> {
    match error {
        HttpError::NotFound => Some(404),
        HttpError::Gone => Some(410),
        HttpError::Forbidden(_) | HttpError::Blocked(_) => Some(403),
        HttpError::RateLimited { .. } => Some(429),
        HttpError::Status { status, .. } => Some(status.as_u16()),
        HttpError::Transport { .. } | HttpError::Interrupted => None,
    }
}

fn check(
    player: &Player,
    path: &str,
    status: u16,
    started: Instant,
    verdict: Verdict,
) -> EndpointCheck {
    EndpointCheck {
        player: player.to_string(),
        request: format!("GET {path}"),
        status: Some(status),
        latency_ms: Some(started.elapsed().as_millis() as u64),
        games: None,
        verdict,
        detail: None,
    }
}

fn skipped(player: &Player, path: &str) -> EndpointCheck {
    EndpointCheck {
        player: player.to_string(),
        request: format!("GET {path}"),
        status: None,
        latency_ms: None,
        games: None,
        verdict: Verdict::Skipped,
        detail: None,
    }
}

/// What reading an answer's games found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    /// Games whose PGN parsed and whose moves are legal.
    valid: u64,
    /// Games that did not: the import would store them flagged invalid.
    invalid: u64,
    /// Records without the fields the import needs (id, PGN), or not JSON at all.
    unreadable: u64,
    /// Games the import skips by design (Chess.com variants without PGN).
    without_pgn: u64,
}

/// The check of an endpoint that serves games: ok when every game was read and validated.
fn games_check(
    player: &Player,
    path: &str,
    status: u16,
    started: Instant,
    parsed: Result<Parsed, String>,
) -> EndpointCheck {
    let mut check = check(player, path, status, started, Verdict::Ok);
    match parsed {
        Ok(parsed) => {
            check.games = Some(parsed.valid);
            let bad = parsed.invalid + parsed.unreadable;
            if bad > 0 {
                check.verdict = Verdict::Failed;
                check.detail = Some(format!(
                    "{bad} of {} games could not be read or validated",
                    parsed.valid + bad
                ));
            } else if parsed.without_pgn > 0 {
                check.detail = Some(format!("{} without PGN", parsed.without_pgn));
            }
        }
        Err(error) => {
            check.verdict = Verdict::Failed;
            check.detail = Some(error);
        }
    }
    check
}

/// The profile fields the check looks at: whose it is and the game counter the import's
/// progress bar uses.
#[derive(Deserialize)]
struct LichessProfile {
    id: String,
    count: Option<LichessCount>,
}

#[derive(Deserialize)]
struct LichessCount {
    all: Option<u64>,
}

/// A line of the Lichess export: the fields the import needs.
#[derive(Deserialize)]
struct LichessGame {
    id: String,
    pgn: String,
    variant: Option<String>,
}

fn parse_lichess_games(body: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the export is not UTF-8: {e}"))?;
    let mut parsed = Parsed::default();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        match serde_json::from_str::<LichessGame>(line) {
            Ok(game) => {
                let mut record = GameRecord::new(Platform::Lichess, game.id, game.pgn);
                record.variant = game.variant;
                parsed.count(record);
            }
            Err(_) => parsed.unreadable += 1,
        }
    }
    Ok(parsed)
}

#[derive(Deserialize)]
struct ChesscomProfile {
    username: String,
}

#[derive(Deserialize)]
struct ChesscomArchives {
    archives: Vec<String>,
}

#[derive(Deserialize)]
struct ChesscomMonth {
    games: Vec<serde_json::Value>,
}

/// A game of a monthly archive: the fields the import needs.
#[derive(Deserialize)]
struct ChesscomGame {
    uuid: String,
    pgn: Option<String>,
    rules: Option<String>,
}

/// Reads the newest `newest` games of a month (the archive lists them oldest first).
fn parse_chesscom_month(body: &[u8], newest: usize) -> Result<Parsed, String> {
    let month: ChesscomMonth =
        serde_json::from_slice(body).map_err(|e| format!("not a monthly archive: {e}"))?;
    let mut parsed = Parsed::default();
    let skip = month.games.len().saturating_sub(newest);
    for game in month.games.into_iter().skip(skip) {
        match serde_json::from_value::<ChesscomGame>(game) {
            Ok(ChesscomGame { pgn: None, .. }) => parsed.without_pgn += 1,
            Ok(ChesscomGame {
                uuid,
                pgn: Some(pgn),
                rules,
            }) => {
                let mut record = GameRecord::new(Platform::Chesscom, uuid, pgn);
                record.variant = rules;
                parsed.count(record);
            }
            Err(_) => parsed.unreadable += 1,
        }
    }
    Ok(parsed)
}

impl Parsed {
    /// Parses and replays the game exactly as the import's writer does.
    fn count(&mut self, mut record: GameRecord) {
        pgn::complete(&mut record);
        if record.valid {
            self.valid += 1;
        } else {
            self.invalid += 1;
        }
    }
}

/// `https://api.chess.com/pub/player/x/games/2024/03` as `/pub/player/x/games/2024/03`, to be
/// asked at the configured base URL, like the import does.
fn month_path(url: &str) -> Option<String> {
    let path = url.get(url.find("/pub/")?..)?.trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let month = segments.next()?;
    let year = segments.next()?;
    let digits = |s: &str, n| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (digits(year, 4) && digits(month, 2)).then(|| path.to_string())
}

/// The human report: one row per request, then one verdict per provider.
pub fn table(report: &CheckReport) -> String {
    let checks: Vec<&EndpointCheck> = report.providers.iter().flat_map(|p| &p.checks).collect();
    let player_width = checks
        .iter()
        .map(|c| c.player.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let request_width = checks
        .iter()
        .map(|c| c.request.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let mut out = format!(
        "{:player_width$}  {:request_width$}  {:>6}  {:>8}  {:>5}  verdict\n",
        "player", "request", "status", "latency", "games"
    );
    for c in &checks {
        let dash = || "-".to_string();
        let mut verdict = c.verdict.as_str().to_string();
        if let Some(detail) = &c.detail {
            verdict.push_str(&format!(" ({detail})"));
        }
        out.push_str(&format!(
            "{:player_width$}  {:request_width$}  {:>6}  {:>8}  {:>5}  {verdict}\n",
            c.player,
            c.request,
            c.status.map_or_else(dash, |s| s.to_string()),
            c.latency_ms
                .map_or_else(dash, |ms| format!("{} ms", HumanCount(ms))),
            c.games.map_or_else(dash, |n| HumanCount(n).to_string()),
        ));
    }
    let verdicts: Vec<String> = report
        .providers
        .iter()
        .map(|p| format!("{}: {}", p.platform, if p.ok { "ok" } else { "failed" }))
        .collect();
    out.push_str(&verdicts.join(" · "));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PGN: &str =
        "[Event \"Casual\"]\n[Result \"1-0\"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n";

    #[test]
    fn month_urls_keep_their_path() {
        assert_eq!(
            month_path("https://api.chess.com/pub/player/hikaru/games/2024/03").as_deref(),
            Some("/pub/player/hikaru/games/2024/03")
        );
        assert_eq!(month_path("https://api.chess.com/pub/player/hikaru"), None);
        assert_eq!(month_path("nonsense"), None);
    }

    #[test]
    fn lichess_games_are_validated_like_an_import() {
        let good = serde_json::json!({"id": "abcdefgh", "pgn": PGN, "variant": "standard"});
        let illegal = serde_json::json!({"id": "ijklmnop", "pgn": "1. e5 *\n"});
        let body = format!("{good}\n{illegal}\n{{\"id\": 1}}\n\n");
        assert_eq!(
            parse_lichess_games(body.as_bytes()).unwrap(),
            Parsed {
                valid: 1,
                invalid: 1,
                unreadable: 1,
                without_pgn: 0
            }
        );
    }

    #[test]
    fn only_the_newest_games_of_a_month_are_read() {
        let game = |uuid: &str, pgn: Option<&str>| serde_json::json!({"uuid": uuid, "pgn": pgn, "rules": "chess"});
        let month = serde_json::json!({"games": [
            game("old", Some("garbage")),
            game("bughouse", None),
            game("new", Some(PGN)),
        ]});
        let parsed = parse_chesscom_month(month.to_string().as_bytes(), 2).unwrap();
        assert_eq!(
            parsed,
            Parsed {
                valid: 1,
                without_pgn: 1,
                ..Parsed::default()
            }
        );
        assert!(parse_chesscom_month(b"<html>", 2).is_err());
    }

    #[test]
    fn a_provider_is_ok_only_when_every_request_is() {
        let alice: Player = "lichess:alice".parse().unwrap();
        let bob: Player = "chesscom:bob".parse().unwrap();
        let ok =
            |player: &Player, path: &str| check(player, path, 200, Instant::now(), Verdict::Ok);
        let missing = EndpointCheck {
            status: Some(404),
            verdict: Verdict::NotFound,
            detail: Some("user not found".into()),
            ..ok(&bob, "/pub/player/bob")
        };
        let report = CheckReport::new(
            vec![
                (
                    &bob,
                    vec![missing, skipped(&bob, "/pub/player/bob/games/archives")],
                ),
                (&alice, vec![ok(&alice, "/api/user/alice")]),
            ],
            5,
        );
        assert!(!report.ok);
        assert_eq!(report.providers[0].platform, Platform::Lichess);
        assert!(report.providers[0].ok);
        assert!(!report.providers[1].ok);
        let table = table(&report);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "player         request                             status   latency  games  verdict"
        );
        assert!(
            lines[1].starts_with("lichess:alice  GET /api/user/alice "),
            "{table}"
        );
        assert!(
            lines[2].ends_with("404      0 ms      -  not found (user not found)"),
            "{table}"
        );
        assert!(
            lines[3].ends_with("     -         -      -  skipped"),
            "{table}"
        );
        assert_eq!(lines[4], "lichess: ok · chesscom: failed");
    }
}
