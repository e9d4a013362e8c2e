//! `chess-import check`: a smoke test of the provider APIs, for CI. For each player it runs the
//! importer's own provider functions (profile, game export, archive list, newest month) with the
//! same client, base URLs, token and etiquette as `import`, through a sink that records what they
//! hand over instead of storing it; validates the games as the import's writer does; and reports
//! each request. It stores nothing.
//!
//! Besides "does it answer", it watches for what breaks an import quietly: drift (a field the
//! import relies on missing, or an enumerated field with a value it does not know) and a refused
//! User-Agent (Lichess answers 404 to crawler-like agents, so a known account answering 404 is
//! a block, not a missing player).

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::HumanCount;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::common::{Exit, watch_signals, write_stdout};
use crate::cli::{CHECK_PLAYERS, CheckArgs};
use crate::game::GameRecord;
use crate::http::{HttpError, Notice, human_duration};
use crate::pgn;
use crate::player::{Platform, Player};
use crate::providers::{self, Drift, ProviderError, Sink, SinkClosed, Source, Total};
use crate::resume::{Cursor, MonthValidator};
use crate::view::{Align, Screen, Table};

/// The whole check, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Every provider answered every request as expected.
    pub ok: bool,
    pub providers: Vec<ProviderReport>,
    pub elapsed_ms: u64,
    /// `--deadline` came before every request was answered.
    pub deadline_exceeded: bool,
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
    /// The provider refuses this client (its User-Agent, or a crawl it finds too heavy).
    Blocked,
    /// The answer came, but a field the import relies on is missing or has an unknown value.
    Drift,
    Failed,
    /// Not asked, because an earlier request of the player failed.
    Skipped,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::NotFound => "not found",
            Verdict::Blocked => "blocked",
            Verdict::Drift => "drift",
            Verdict::Failed => "failed",
            Verdict::Skipped => "skipped",
        }
    }

    /// Whether a later request of the same player is still worth asking.
    fn answered(self) -> bool {
        matches!(self, Verdict::Ok | Verdict::Drift)
    }
}

pub async fn exec(args: CheckArgs, screen: Screen) -> anyhow::Result<Exit> {
    let cancel = CancellationToken::new();
    let sources = args.providers.sources(&args.etiquette, &cancel)?;
    let signalled = watch_signals(cancel.clone(), screen.clone());
    let started = Instant::now();
    let players = crate::player::dedup(args.players);
    let checker = Checker {
        games: args.games.into(),
        user_agent: &args.providers.user_agent,
        screen,
        deadline: args.deadline,
        deadline_exceeded: AtomicBool::new(false),
    };
    let mut checks = std::pin::pin!(futures_util::future::join_all(
        players
            .iter()
            .map(|player| checker.player(sources.of(player.platform), player)),
    ));
    // At the deadline the requests still open are cancelled, and end saying why.
    let results = tokio::select! {
        results = &mut checks => results,
        _ = tokio::time::sleep(args.deadline) => {
            checker.deadline_exceeded.store(true, Ordering::SeqCst);
            cancel.cancel();
            checks.await
        }
    };
    let report = CheckReport::new(
        players.iter().zip(results).collect(),
        started.elapsed().as_millis() as u64,
        checker.deadline_exceeded.load(Ordering::SeqCst),
    );
    if let Some(path) = &args.junit {
        write_junit(path, &report)?;
    }
    let output = if args.json {
        let json = serde_json::to_string(&report).context("cannot write the JSON report")?;
        format!("{json}\n")
    } else {
        table(&report)
    };
    write_stdout(output.as_bytes(), "the report")?;
    Ok(if let Some(exit) = signalled.exit() {
        exit
    } else if report.ok {
        Exit::Success
    } else {
        Exit::PlayersFailed
    })
}

impl CheckReport {
    /// Groups each player's checks under its provider, providers in a fixed order.
    fn new(
        players: Vec<(&Player, Vec<EndpointCheck>)>,
        elapsed_ms: u64,
        deadline_exceeded: bool,
    ) -> Self {
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
            ok: providers.iter().all(|p| p.ok) && !deadline_exceeded,
            providers,
            elapsed_ms,
            deadline_exceeded,
        }
    }
}

struct Checker<'a> {
    games: u64,
    user_agent: &'a str,
    screen: Screen,
    deadline: Duration,
    /// Set when the deadline cancelled the requests still open.
    deadline_exceeded: AtomicBool,
}

impl Checker<'_> {
    async fn player(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        match player.platform {
            Platform::Lichess => self.lichess(source, player).await,
            Platform::Chesscom => self.chesscom(source, player).await,
        }
    }

    /// The profile, then the newest games through the import's export reader.
    async fn lichess(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        let name = player.username();
        let profile_request = format!("GET /api/user/{name}");
        let export_request = format!("GET /api/games/user/{name}?max={}", self.games);
        let mut recorder = self.recorder(player, &profile_request);
        let started = Instant::now();
        let answer = providers::lichess::profile(source, player, &mut |n| recorder.notice(n)).await;
        let profile = match answer {
            Ok(profile) => {
                let mut check = answered(player, &profile_request, started);
                match &profile.id {
                    Some(id) if !id.eq_ignore_ascii_case(name) => {
                        check.verdict = Verdict::Failed;
                        check.detail = Some(format!("the profile of {id:?} was served"));
                    }
                    _ => {
                        check.detail = profile
                            .count
                            .as_ref()
                            .and_then(|c| c.all)
                            .map(|n| format!("profile counts {} games", HumanCount(n)));
                        with_drift(&mut check, &profile.drift());
                    }
                }
                check
            }
            Err(error) => self.failed(player, &profile_request, started, &error, None),
        };
        if !profile.verdict.answered() {
            return vec![profile, skipped(player, &export_request)];
        }
        let mut recorder = self.recorder(player, &export_request);
        let started = Instant::now();
        let result = providers::lichess::newest_games(source, player, self.games, &mut recorder);
        let export = match result.await {
            Ok(()) => recorder.games_check(answered(player, &export_request, started)),
            // The profile was served, so the account exists: a 404 here is Lichess's answer
            // to an agent it takes for a crawler.
            Err(ProviderError::UserNotFound) => EndpointCheck {
                status: Some(404),
                verdict: Verdict::Blocked,
                detail: Some(format!(
                    "the profile is served but the export answers 404: Lichess refuses the \
                     User-Agent {:?} (it answers crawler-like agents so); set --user-agent to \
                     one naming the tool and a contact",
                    self.user_agent
                )),
                ..answered(player, &export_request, started)
            },
            Err(error) => self.failed(player, &export_request, started, &error, None),
        };
        vec![profile, export]
    }

    /// The profile, the archive list, then the newest month through the import's month reader.
    async fn chesscom(&self, source: &Source, player: &Player) -> Vec<EndpointCheck> {
        let name = player.username();
        let profile_request = format!("GET /pub/player/{name}");
        let archives_request = format!("GET /pub/player/{name}/games/archives");
        let newest_request = format!("GET /pub/player/{name}/games/YYYY/MM");
        let mut recorder = self.recorder(player, &profile_request);
        let started = Instant::now();
        let answer =
            providers::chesscom::profile(source, player, &mut |n| recorder.notice(n)).await;
        let profile = match answer {
            Ok(profile) => {
                let mut check = answered(player, &profile_request, started);
                match &profile.username {
                    Some(username) if !username.eq_ignore_ascii_case(name) => {
                        check.verdict = Verdict::Failed;
                        check.detail = Some(format!("the profile of {username:?} was served"));
                    }
                    Some(_) => {}
                    None => with_drift(&mut check, &[Drift::missing("username")]),
                }
                check
            }
            Err(error) => self.failed(player, &profile_request, started, &error, None),
        };
        if !profile.verdict.answered() {
            return vec![
                profile,
                skipped(player, &archives_request),
                skipped(player, &newest_request),
            ];
        }
        let mut recorder = self.recorder(player, &archives_request);
        let started = Instant::now();
        let months = providers::chesscom::archive_months(source, player, &mut recorder).await;
        let months = match months {
            Ok(months) => months,
            Err(error) => {
                let failed = self.failed(player, &archives_request, started, &error, None);
                return vec![profile, failed, skipped(player, &newest_request)];
            }
        };
        let archives = EndpointCheck {
            detail: Some(format!("{} months", HumanCount(months.len() as u64))),
            ..answered(player, &archives_request, started)
        };
        let Some(newest) = months.last() else {
            let none = EndpointCheck {
                detail: Some("the player has no games".into()),
                ..skipped(player, &newest_request)
            };
            return vec![profile, archives, none];
        };
        let month_request = format!("GET /pub/player/{name}/games/{}", newest.name);
        let mut recorder = self.recorder(player, &month_request);
        let started = Instant::now();
        let result = providers::chesscom::month_games(source, player, newest, &mut recorder);
        let month = match result.await {
            Ok(()) => recorder.games_check(answered(player, &month_request, started)),
            Err(error) => self.failed(player, &month_request, started, &error, None),
        };
        vec![profile, archives, month]
    }

    fn recorder(&self, player: &Player, request: &str) -> Recorder {
        Recorder {
            player: player.clone(),
            request: request.to_string(),
            screen: self.screen.clone(),
            keep: usize::try_from(self.games).unwrap_or(usize::MAX),
            games: VecDeque::new(),
            unreadable: 0,
            without_pgn: 0,
            drift: Vec::new(),
        }
    }

    /// The check of a request that ended in an error.
    fn failed(
        &self,
        player: &Player,
        request: &str,
        started: Instant,
        error: &ProviderError,
        status: Option<u16>,
    ) -> EndpointCheck {
        let mut check = EndpointCheck {
            status: status.or_else(|| status_of(error)),
            detail: Some(error.to_string()),
            verdict: Verdict::Failed,
            ..answered(player, request, started)
        };
        match error {
            ProviderError::UserNotFound if is_known_account(player) => {
                check.verdict = Verdict::Blocked;
                check.detail = Some(format!(
                    "{player} is a known account, so this 404 means the provider refuses the \
                     User-Agent {:?}; set --user-agent to one naming the tool and a contact",
                    self.user_agent
                ));
            }
            ProviderError::UserNotFound => {
                check.verdict = Verdict::NotFound;
                check.detail = Some("user not found".into());
            }
            ProviderError::Interrupted if self.deadline_exceeded.load(Ordering::SeqCst) => {
                check.detail = Some(format!(
                    "no answer within --deadline {}",
                    human_duration(self.deadline)
                ));
            }
            ProviderError::Refused(_)
            | ProviderError::Http {
                source: HttpError::Blocked(_),
                ..
            } => check.verdict = Verdict::Blocked,
            _ => {}
        }
        check
    }
}

/// The accounts `check` asks by default exist for sure, so a 404 for them is a block.
fn is_known_account(player: &Player) -> bool {
    CHECK_PLAYERS
        .iter()
        .any(|known| known.parse::<Player>().is_ok_and(|known| known == *player))
}

/// Turns a check into drift when anything drifted, naming the first few fields.
fn with_drift(check: &mut EndpointCheck, drift: &[Drift]) {
    if drift.is_empty() {
        return;
    }
    check.verdict = Verdict::Drift;
    let mut named: Vec<String> = drift.iter().take(3).map(Drift::to_string).collect();
    if drift.len() > 3 {
        named.push(format!("{} more", drift.len() - 3));
    }
    check.detail = Some(named.join("; "));
}

/// A request that was answered: status 200 (the providers' functions only return on a 2xx).
fn answered(player: &Player, request: &str, started: Instant) -> EndpointCheck {
    EndpointCheck {
        player: player.to_string(),
        request: request.to_string(),
        status: Some(200),
        latency_ms: Some(started.elapsed().as_millis() as u64),
        games: None,
        verdict: Verdict::Ok,
        detail: None,
    }
}

fn skipped(player: &Player, request: &str) -> EndpointCheck {
    EndpointCheck {
        player: player.to_string(),
        request: request.to_string(),
        status: None,
        latency_ms: None,
        games: None,
        verdict: Verdict::Skipped,
        detail: None,
    }
}

/// The status a failed request got, when it got one.
fn status_of(error: &ProviderError) -> Option<u16> {
    match error {
        ProviderError::UserNotFound => Some(404),
        ProviderError::Refused(_) => Some(403),
        ProviderError::Http { source, .. } => match source {
            HttpError::NotFound(_) => Some(404),
            HttpError::Gone => Some(410),
            HttpError::Forbidden(_) | HttpError::Blocked(_) => Some(403),
            HttpError::Unauthorized { .. } => Some(401),
            HttpError::WaitTooLong { .. } => Some(429),
            HttpError::TooLarge { .. } => Some(200),
            HttpError::RateLimited { .. } => Some(429),
            HttpError::Status { status, .. } => Some(status.as_u16()),
            HttpError::Transport { .. }
            | HttpError::Unavailable { .. }
            | HttpError::Request(_)
            | HttpError::Interrupted => None,
        },
        // The answer came (2xx) but was not what the import reads.
        ProviderError::BadResponse(_) | ProviderError::NotJson { .. } => Some(200),
        ProviderError::Chesscom(providers::chesscom::Failure::NotFound { .. }) => Some(404),
        _ => None,
    }
}

/// A sink that keeps what a provider hands over: the newest few games, to validate as the
/// import's writer does, and what could not be read or drifted.
struct Recorder {
    player: Player,
    request: String,
    screen: Screen,
    keep: usize,
    games: VecDeque<GameRecord>,
    unreadable: u64,
    without_pgn: u64,
    drift: Vec<Drift>,
}

impl Recorder {
    /// The verdict on the games handed over: ok when every game was read, validated, and no
    /// field drifted.
    fn games_check(self, mut check: EndpointCheck) -> EndpointCheck {
        let (mut valid, mut invalid) = (0, 0);
        for mut game in self.games {
            pgn::complete(&mut game);
            if game.valid {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        check.games = Some(valid);
        let bad = invalid + self.unreadable;
        if !self.drift.is_empty() {
            with_drift(&mut check, &self.drift);
        } else if bad > 0 {
            check.verdict = Verdict::Failed;
            check.detail = Some(format!(
                "{bad} of {} games could not be read or validated",
                valid + bad
            ));
        } else if self.without_pgn > 0 {
            check.detail = Some(format!("{} without PGN", self.without_pgn));
        }
        check
    }
}

impl Sink for Recorder {
    async fn game(&mut self, game: GameRecord, _cursor: Option<Cursor>) -> Result<(), SinkClosed> {
        // Chess.com months come oldest first: the newest are the last ones handed over.
        if self.games.len() == self.keep {
            self.games.pop_front();
        }
        self.games.push_back(game);
        Ok(())
    }

    async fn commit(
        &mut self,
        _cursor: Option<Cursor>,
        _month: Option<MonthValidator>,
    ) -> Result<(), SinkClosed> {
        Ok(())
    }

    fn ongoing(&mut self, _game_id: String, _cursor: Option<Cursor>) {}

    fn resolved(&mut self, _game_id: String) {}

    fn passed(&mut self, _cursor: Option<Cursor>) {}

    fn unreadable(&mut self, _reason: &str) {
        self.unreadable += 1;
    }

    fn skipped(&mut self, _reason: &str) {
        self.without_pgn += 1;
    }

    fn total(&mut self, _total: Total) {}

    fn month_done(&mut self) {}

    /// Retries and rate limits show like the import's, as lines (never under `-q` or `none`).
    fn notice(&mut self, notice: Notice) {
        if self.screen.shows_progress() {
            let line = format!("{}: {}: {notice}", self.player, self.request);
            self.screen.line(&line);
        }
    }

    fn drift(&mut self, drift: Drift) {
        if !self.drift.contains(&drift) {
            self.drift.push(drift);
        }
    }
}

/// The human report: one row per request, then one verdict per provider.
pub fn table(report: &CheckReport) -> String {
    let dash = || "-".to_string();
    let mut table = Table::new(&[
        ("player", Align::Left),
        ("request", Align::Left),
        ("status", Align::Right),
        ("latency", Align::Right),
        ("games", Align::Right),
        ("verdict", Align::Left),
    ]);
    for c in report.providers.iter().flat_map(|p| &p.checks) {
        let mut verdict = c.verdict.as_str().to_string();
        if let Some(detail) = &c.detail {
            verdict.push_str(&format!(" ({detail})"));
        }
        table.row([
            c.player.clone(),
            c.request.clone(),
            c.status.map_or_else(dash, |s| s.to_string()),
            c.latency_ms
                .map_or_else(dash, |ms| format!("{} ms", HumanCount(ms))),
            c.games.map_or_else(dash, |n| HumanCount(n).to_string()),
            verdict,
        ]);
    }
    let verdicts: Vec<String> = report
        .providers
        .iter()
        .map(|p| format!("{}: {}", p.platform, if p.ok { "ok" } else { "failed" }))
        .collect();
    format!("{table}{}\n", verdicts.join(" · "))
}

/// Writes the report as JUnit XML (one test suite per provider, one test case per request), to
/// a temporary file renamed over `path` once complete, so that a failed write leaves any
/// earlier report whole.
fn write_junit(path: &Path, report: &CheckReport) -> anyhow::Result<()> {
    let xml = junit(report);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let write = || -> std::io::Result<()> {
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(xml.as_bytes())?;
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write the JUnit report {}", path.display()))
}

fn junit(report: &CheckReport) -> String {
    let seconds = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let count = |checks: &mut dyn Iterator<Item = &EndpointCheck>, failures: bool| {
        checks
            .filter(|c| match c.verdict {
                Verdict::Ok => false,
                Verdict::Skipped => !failures,
                _ => failures,
            })
            .count()
    };
    let all = || report.providers.iter().flat_map(|p| p.checks.iter());
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"chess-import check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" \
         time=\"{}\">\n",
        all().count(),
        count(&mut all(), true),
        count(&mut all(), false),
        seconds(report.elapsed_ms),
    ));
    for provider in &report.providers {
        let checks = || provider.checks.iter();
        let time: u64 = checks().filter_map(|c| c.latency_ms).sum();
        xml.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">\n",
            provider.platform,
            checks().count(),
            count(&mut checks(), true),
            count(&mut checks(), false),
            seconds(time),
        ));
        for c in checks() {
            let attributes = format!(
                "classname=\"{}\" name=\"{}\" time=\"{}\"",
                xml_escape(&c.player),
                xml_escape(&c.request),
                seconds(c.latency_ms.unwrap_or(0)),
            );
            let detail = xml_escape(c.detail.as_deref().unwrap_or(""));
            let status = c.status.map_or_else(String::new, |s| format!("HTTP {s}: "));
            match c.verdict {
                Verdict::Ok => xml.push_str(&format!("    <testcase {attributes}/>\n")),
                Verdict::Skipped => xml.push_str(&format!(
                    "    <testcase {attributes}><skipped message=\"{detail}\"/></testcase>\n"
                )),
                verdict => xml.push_str(&format!(
                    "    <testcase {attributes}><failure type=\"{}\" message=\"{}\">{status}{detail}\
                     </failure></testcase>\n",
                    verdict.as_str(),
                    verdict.as_str(),
                )),
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Text as XML attribute or element content: markup characters escaped, and the control
/// characters XML 1.0 forbids dropped.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::DriftKind;

    fn ok(player: &Player, request: &str) -> EndpointCheck {
        answered(player, request, Instant::now())
    }

    fn sample() -> CheckReport {
        let alice: Player = "lichess:alice".parse().unwrap();
        let bob: Player = "chesscom:bob".parse().unwrap();
        let missing = EndpointCheck {
            status: Some(404),
            latency_ms: Some(12_345),
            verdict: Verdict::NotFound,
            detail: Some("user not found".into()),
            ..ok(&bob, "GET /pub/player/bob")
        };
        CheckReport::new(
            vec![
                (
                    &bob,
                    vec![missing, skipped(&bob, "GET /pub/player/bob/games/archives")],
                ),
                (&alice, vec![ok(&alice, "GET /api/user/alice")]),
            ],
            5,
            false,
        )
    }

    #[test]
    fn a_provider_is_ok_only_when_every_request_is() {
        let report = sample();
        assert!(!report.ok);
        assert_eq!(report.providers[0].platform, Platform::Lichess);
        assert!(report.providers[0].ok);
        assert!(!report.providers[1].ok);
    }

    #[test]
    fn the_table_keeps_its_columns_aligned_past_ten_seconds() {
        let table = table(&sample());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "player         request                             status    latency  games  verdict"
        );
        assert!(
            lines[1].starts_with("lichess:alice  GET /api/user/alice "),
            "{table}"
        );
        assert!(
            lines[2].ends_with("404  12,345 ms      -  not found (user not found)"),
            "{table}"
        );
        assert!(
            lines[3].ends_with("     -          -      -  skipped"),
            "{table}"
        );
        assert_eq!(lines[4], "lichess: ok · chesscom: failed");
        let columns = |line: &str| line.find("verdict").or_else(|| line.rfind("  "));
        assert_eq!(columns(lines[0]), Some(lines[0].len() - "verdict".len()));
    }

    #[test]
    fn drift_names_the_field_and_the_value() {
        let alice: Player = "lichess:alice".parse().unwrap();
        let mut check = ok(&alice, "GET /api/games/user/alice?max=5");
        with_drift(
            &mut check,
            &[
                Drift {
                    field: "speed",
                    kind: DriftKind::Unknown("hyperBullet".into()),
                },
                Drift::missing("createdAt"),
            ],
        );
        assert_eq!(check.verdict, Verdict::Drift);
        assert_eq!(
            check.detail.as_deref(),
            Some("`speed` has the unknown value \"hyperBullet\"; `createdAt` is missing")
        );
    }

    #[test]
    fn the_junit_report_has_a_case_per_request() {
        let xml = junit(&sample());
        assert!(xml.contains(
            "<testsuites name=\"chess-import check\" tests=\"3\" failures=\"1\" skipped=\"1\""
        ));
        assert!(xml.contains(
            "<testcase classname=\"chesscom:bob\" name=\"GET /pub/player/bob\" time=\"12.345\">\
             <failure type=\"not found\" message=\"not found\">HTTP 404: user not found</failure>"
        ));
        assert!(xml.contains("<skipped message=\"\"/>"));
        assert_eq!(
            xml_escape("a<b & \"c\"\u{1b}[0m"),
            "a&lt;b &amp; &quot;c&quot;[0m"
        );
    }

    #[test]
    fn the_default_players_are_known_accounts() {
        for spec in CHECK_PLAYERS {
            assert!(is_known_account(&spec.parse().unwrap()), "{spec}");
        }
        assert!(!is_known_account(&"lichess:alice".parse().unwrap()));
    }
}
