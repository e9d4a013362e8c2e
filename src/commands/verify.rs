//! `chess-import verify`: for each imported player, what is stored compared with what the
//! provider has, and the gaps named per player and month; with `--repair`, a rescan of exactly
//! those months and windows, then the same gaps checked again in the store.
//!
//! - Chess.com, exactly: the archive list, then every month, read by the import's own parser
//!   through a sink that compares each served game (those with a PGN: the import skips the
//!   others) with the player's stored ids. Months are asked unconditionally: a `304` would only
//!   say that the month has not changed at Chess.com since it was stored, not that every row of
//!   it is still in this database, which is what is being checked.
//! - Lichess, by the profile's counters (`count.all` less `count.playing`) with a tolerance,
//!   since Lichess's counters are approximate; with `--deep`, exactly, by streaming the player's
//!   finished games without moves or PGN through the Lichess lane and comparing ids.
//!
//! Games stored but no longer served are not gaps: nothing is ever deleted. Verify writes
//! nothing unless `--repair` is given; the database is opened for reading as `status` opens it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::Context;
use indicatif::HumanCount;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::common::{Exit, READ_BUSY_TIMEOUT, watch_signals, write_stdout};
use super::import::{open_store, run_players};
use crate::cli::VerifyArgs;
use crate::errors::with_causes;
use crate::game::GameRecord;
use crate::http::Notice;
use crate::player::{Platform, Player};
use crate::providers::{
    self, Drift, Plan, ProviderError, Sink, SinkClosed, Source, Sources, Total,
};
use crate::report::printable;
use crate::resume::{Cursor, MonthValidator};
use crate::store::{self, Catalog, PlayerSummary};
use crate::view::{Align, Screen, Table};

/// How many missing ids a row of the table names; `--json` names them all.
const SHOWN_IDS: usize = 5;

/// The whole audit, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    /// No gap (or, after `--repair`, none left) and every player verified.
    pub ok: bool,
    pub players: Vec<PlayerAudit>,
    /// Whether `--repair` ran.
    pub repaired: bool,
    pub interrupted: bool,
}

/// One player: how it was compared, the counts, and its gaps.
#[derive(Debug, Serialize)]
pub struct PlayerAudit {
    pub platform: Platform,
    pub username: String,
    pub method: Method,
    /// Games of the player in the database.
    pub stored: u64,
    /// Games the provider has (an estimate for `counts`); `None` when it could not tell.
    pub provider: Option<u64>,
    pub gaps: Vec<Gap>,
    /// Why the player could not be verified.
    pub error: Option<String>,
    /// With `--repair`: games its rescans stored.
    pub stored_by_repair: Option<u64>,
    /// With `--repair`: why a rescan of the player failed.
    pub repair_error: Option<String>,
}

/// How a player was compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Chess.com: every month's game ids.
    Months,
    /// Lichess: the profile's counters.
    Counts,
    /// Lichess `--deep`: every finished game's id.
    Ids,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Months => "months",
            Method::Counts => "counts",
            Method::Ids => "ids",
        }
    }
}

/// Games the provider has that are not stored.
#[derive(Debug, Serialize)]
pub struct Gap {
    /// The UTC month (`YYYY/MM`): Chess.com's archive month, or the month the Lichess games
    /// started; `None` for a shortfall of the Lichess counters, which say no more.
    pub month: Option<String>,
    /// Games of the month stored (the player's stored games, for a count gap).
    pub stored: u64,
    /// Games of the month served (the profile's count, for a count gap).
    pub provider: u64,
    /// The ids of the missing games; empty for a count gap.
    pub missing: Vec<String>,
    /// With `--repair`: whether the store holds them now.
    pub closed: Option<bool>,
    /// The window a rescan asks again (unix ms, either open).
    #[serde(skip)]
    window: Window,
}

/// A rescan's window, `(since, until)` in unix ms; `(None, None)` is the whole history.
type Window = (Option<i64>, Option<i64>);

/// A player as the database holds it.
struct StoredPlayer {
    player: Player,
    games: u64,
    /// Stored game ids, read only where they are compared (Chess.com, Lichess `--deep`).
    ids: HashSet<String>,
}

/// Why a player could not be verified.
#[derive(Debug, thiserror::Error)]
enum AuditError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("the profile has no game count{}", if *.closed { " (the account is closed)" } else { "" })]
    NoCount { closed: bool },
    /// A Chess.com month that could not be read: the player is not verified, whatever the
    /// other months say.
    #[error("month {month}")]
    Month {
        month: String,
        #[source]
        source: ProviderError,
    },
}

/// Runs the audit (and the repair) on `runtime`; the database is read between, outside it,
/// since a PostgreSQL catalog runs a runtime of its own. Players go `--jobs` at a time, so that
/// only their stored ids are in memory at once, however many players there are.
pub fn exec(
    args: VerifyArgs,
    screen: Screen,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Exit> {
    let mut catalog = store::open_catalog(&args.store.db.target, READ_BUSY_TIMEOUT)?;
    let players = players(catalog.as_mut(), &args.players)?;
    let cancel = CancellationToken::new();
    let (sources, signalled) = runtime.block_on(async {
        let sources = args.run.providers.sources(&args.run.etiquette, &cancel)?;
        anyhow::Ok((sources, watch_signals(cancel.clone(), screen.clone())))
    })?;
    let jobs = usize::from(args.run.jobs).max(1);
    let mut audits = Vec::with_capacity(players.len());
    for chunk in players.chunks(jobs) {
        if cancel.is_cancelled() {
            break;
        }
        let stored = chunk
            .iter()
            .map(|(player, games)| stored(catalog.as_mut(), player, *games, args.deep))
            .collect::<anyhow::Result<Vec<_>>>()?;
        audits.extend(runtime.block_on(audit_all(&sources, &stored, args.deep, &screen)));
    }
    let gaps = audits.iter().any(|audit| !audit.gaps.is_empty());
    let repaired = args.repair && gaps && signalled.exit().is_none();
    if repaired {
        runtime.block_on(repair(&args, &mut audits, &screen, &cancel))?;
        // A fresh read: the repair's writes are in other connections' transactions.
        let mut catalog = store::open_catalog(&args.store.db.target, READ_BUSY_TIMEOUT)?;
        recheck(catalog.as_mut(), &mut audits)?;
    }
    let interrupted = signalled.exit().is_some();
    let ok = !interrupted
        && audits.iter().all(|audit| {
            audit.error.is_none() && audit.gaps.iter().all(|gap| gap.closed == Some(true))
        });
    let report = VerifyReport {
        ok,
        players: audits,
        repaired,
        interrupted,
    };
    let output = if args.run.json {
        let json = serde_json::to_string(&report).context("cannot write the JSON report")?;
        format!("{json}\n")
    } else {
        table(&report)
    };
    write_stdout(output.as_bytes(), "the report")?;
    Ok(match signalled.exit() {
        Some(exit) => exit,
        None if report.ok => Exit::Success,
        None => Exit::PlayersFailed,
    })
}

/// The players to verify, each with its stored game count: those `named`, else every imported
/// player.
fn players(catalog: &mut dyn Catalog, named: &[Player]) -> anyhow::Result<Vec<(Player, u64)>> {
    let imported = catalog.players()?;
    if !named.is_empty() {
        let named = crate::player::dedup(named.to_vec());
        return Ok(named
            .into_iter()
            .map(|player| {
                let games = games_of(&imported, &player);
                (player, games)
            })
            .collect());
    }
    Ok(imported
        .iter()
        .filter_map(|p| {
            let player = p
                .platform
                .parse()
                .ok()
                .and_then(|platform| Player::new(platform, &p.username).ok());
            if player.is_none() {
                tracing::warn!("skipping {}:{}: not a player name", p.platform, p.username);
            }
            Some((player?, p.games))
        })
        .collect())
}

/// The games stored of `player`, by the catalog's list of imported players.
fn games_of(imported: &[PlayerSummary], player: &Player) -> u64 {
    imported
        .iter()
        .find(|p| {
            p.platform == player.platform.as_str()
                && p.username.eq_ignore_ascii_case(player.username())
        })
        .map_or(0, |p| p.games)
}

/// What is stored of `player`: its ids, read only where they are compared (Chess.com, Lichess
/// `--deep`).
fn stored(
    catalog: &mut dyn Catalog,
    player: &Player,
    games: u64,
    deep: bool,
) -> anyhow::Result<StoredPlayer> {
    let compared = player.platform == Platform::Chesscom || deep;
    Ok(StoredPlayer {
        player: player.clone(),
        games,
        ids: if compared {
            stored_ids(catalog, player)?
        } else {
            HashSet::new()
        },
    })
}

fn stored_ids(catalog: &mut dyn Catalog, player: &Player) -> anyhow::Result<HashSet<String>> {
    let mut ids = HashSet::new();
    catalog.for_each_game_id(player, &mut |id| {
        ids.insert(id.to_string());
    })?;
    Ok(ids)
}

/// The audits of `stored`, all at once, in the order given; a provider's lane keeps them to
/// what it allows (one Lichess stream).
async fn audit_all(
    sources: &Sources,
    stored: &[StoredPlayer],
    deep: bool,
    screen: &Screen,
) -> Vec<PlayerAudit> {
    futures_util::future::join_all(
        stored
            .iter()
            .map(|stored| audit(sources.of(stored.player.platform), stored, deep, screen)),
    )
    .await
}

async fn audit(source: &Source, stored: &StoredPlayer, deep: bool, screen: &Screen) -> PlayerAudit {
    let player = &stored.player;
    let method = match (player.platform, deep) {
        (Platform::Chesscom, _) => Method::Months,
        (Platform::Lichess, false) => Method::Counts,
        (Platform::Lichess, true) => Method::Ids,
    };
    let mut audit = PlayerAudit {
        platform: player.platform,
        username: player.username().to_string(),
        method,
        stored: stored.games,
        provider: None,
        gaps: Vec::new(),
        error: None,
        stored_by_repair: None,
        repair_error: None,
    };
    let mut recorder = Recorder {
        player,
        stored: &stored.ids,
        screen: screen.clone(),
        served: 0,
        served_by_month: BTreeMap::new(),
        missing: Vec::new(),
    };
    let result = match method {
        Method::Months => chesscom(source, &mut recorder).await,
        Method::Counts => lichess_counts(source, stored.games, &mut recorder).await,
        Method::Ids => lichess_ids(source, &mut recorder).await,
    };
    match result {
        Ok((provider, gaps)) => {
            audit.provider = Some(provider);
            audit.gaps = gaps;
        }
        Err(error) => audit.error = Some(printable(&with_causes(&error))),
    }
    audit
}

/// Chess.com, month by month: the games served that are not stored.
async fn chesscom(
    source: &Source,
    recorder: &mut Recorder<'_>,
) -> Result<(u64, Vec<Gap>), AuditError> {
    let player = recorder.player;
    let months = providers::chesscom::archive_months(source, player, recorder).await?;
    let mut served = 0;
    let mut gaps = Vec::new();
    for month in months {
        providers::chesscom::month_games(source, player, &month, recorder)
            .await
            .map_err(|source| AuditError::Month {
                month: month.name.clone(),
                source,
            })?;
        let (games, missing) = recorder.take();
        served += games;
        if !missing.is_empty() {
            gaps.push(Gap::of(Some(month.name), games, missing));
        }
    }
    Ok((served, gaps))
}

/// Lichess by the profile's counters: a gap when fewer games are stored than the counters say,
/// beyond what their inaccuracy explains.
async fn lichess_counts(
    source: &Source,
    stored: u64,
    recorder: &mut Recorder<'_>,
) -> Result<(u64, Vec<Gap>), AuditError> {
    let profile =
        providers::lichess::profile(source, recorder.player, &mut |n| recorder.notice(n)).await?;
    let count = profile.count.as_ref();
    let Some(all) = count.and_then(|c| c.all) else {
        return Err(AuditError::NoCount {
            closed: profile.disabled,
        });
    };
    let finished = all.saturating_sub(count.and_then(|c| c.playing).unwrap_or(0));
    let mut gaps = Vec::new();
    if stored.saturating_add(count_tolerance(finished)) < finished {
        gaps.push(Gap {
            month: None,
            stored,
            provider: finished,
            missing: Vec::new(),
            closed: None,
            window: (None, None),
        });
    }
    Ok((finished, gaps))
}

/// How far Lichess's counters may be off without a gap: they drift by a few games, and by a
/// fraction of a percent on long histories (lila#7333).
fn count_tolerance(games: u64) -> u64 {
    (games / 200).max(2)
}

/// Lichess `--deep`: every finished game's id, through the import's own stream reader (which
/// resumes a broken stream), without moves or PGN; the missing ones by the month they started.
async fn lichess_ids(
    source: &Source,
    recorder: &mut Recorder<'_>,
) -> Result<(u64, Vec<Gap>), AuditError> {
    let plan = Plan {
        ids_only: true,
        ..Plan::default()
    };
    providers::lichess::import(source, recorder.player, &plan, recorder).await?;
    let served_by_month = std::mem::take(&mut recorder.served_by_month);
    let (served, missing) = recorder.take();
    let mut by_month: BTreeMap<String, Vec<Missing>> = BTreeMap::new();
    for game in missing {
        by_month.entry(game.month()).or_default().push(game);
    }
    let gaps = by_month
        .into_iter()
        .map(|(month, missing)| {
            let served = served_by_month.get(&month).copied().unwrap_or(0);
            Gap::of(Some(month), served, missing)
        })
        .collect();
    Ok((served, gaps))
}

/// A missing game, with what places it in a rescan's window.
#[derive(Debug)]
struct Missing {
    id: String,
    /// Unix ms.
    started: Option<i64>,
    ended: Option<i64>,
}

impl Missing {
    /// The UTC month the game started in (ended in, if its start is unknown).
    fn month(&self) -> String {
        self.started
            .or(self.ended)
            .map_or_else(|| "unknown".into(), month_of)
    }
}

impl Gap {
    /// The gap of a month whose `served` games include the `missing` ones.
    fn of(month: Option<String>, served: u64, missing: Vec<Missing>) -> Self {
        Gap {
            month,
            stored: served.saturating_sub(missing.len() as u64),
            provider: served,
            window: window_of(&missing),
            missing: missing.into_iter().map(|game| game.id).collect(),
            closed: None,
        }
    }
}

/// The window that holds every missing game: from the first start to past the last end. The
/// providers select games by their start, and Chess.com's months by their end, so this asks
/// again every month that can hold them and no game outside the window's starts.
fn window_of(missing: &[Missing]) -> Window {
    let mut window: Option<(i64, i64)> = None;
    for game in missing {
        let Some(start) = game.started.or(game.ended) else {
            // Nothing places it: only the whole history surely holds it.
            return (None, None);
        };
        let end = game.ended.unwrap_or(start).max(start);
        window = Some(match window {
            Some((since, until)) => (since.min(start), until.max(end)),
            None => (start, end),
        });
    }
    match window {
        Some((since, until)) => (Some(since), Some(until.saturating_add(1))),
        None => (None, None),
    }
}

/// The month (`YYYY/MM`, UTC) holding the instant `ms`.
fn month_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| "unknown".into(), |t| t.format("%Y/%m").to_string())
}

/// Rescans each player with gaps over the windows that hold them (the whole history for a
/// count gap), one run per window, and records what each stored.
async fn repair(
    args: &VerifyArgs,
    audits: &mut [PlayerAudit],
    screen: &Screen,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let mut runs: BTreeMap<Window, Vec<Player>> = BTreeMap::new();
    for audit in audits.iter_mut().filter(|audit| !audit.gaps.is_empty()) {
        let Ok(player) = Player::new(audit.platform, &audit.username) else {
            continue;
        };
        let mut windows: BTreeSet<Window> = audit.gaps.iter().map(|gap| gap.window).collect();
        if windows.contains(&(None, None)) {
            windows = BTreeSet::from([(None, None)]);
        }
        for window in windows {
            runs.entry(window).or_default().push(player.clone());
        }
        audit.stored_by_repair = Some(0);
    }
    for (window, players) in runs {
        if cancel.is_cancelled() {
            break;
        }
        let options = super::rescan::options(&args.run, window, screen, cancel)?;
        let store = open_store(&args.store)?;
        let report = run_players(players, options, store, screen, cancel.clone()).await;
        for done in report.players {
            let Some(audit) = audits
                .iter_mut()
                .find(|audit| audit.platform == done.platform && audit.username == done.username)
            else {
                continue;
            };
            audit.stored_by_repair = Some(audit.stored_by_repair.unwrap_or(0) + done.new_games);
            if let Some(error) = done.error {
                audit.repair_error = Some(error);
            }
        }
    }
    Ok(())
}

/// Marks each gap closed or not by what the store holds after the repair: its missing ids, or
/// for a count gap, enough games. Reads one player's ids at a time.
fn recheck(catalog: &mut dyn Catalog, audits: &mut [PlayerAudit]) -> anyhow::Result<()> {
    let imported = catalog.players()?;
    for audit in audits.iter_mut().filter(|audit| !audit.gaps.is_empty()) {
        let Ok(player) = Player::new(audit.platform, &audit.username) else {
            continue;
        };
        audit.stored = games_of(&imported, &player);
        let ids = if audit.method == Method::Counts {
            HashSet::new()
        } else {
            stored_ids(catalog, &player)?
        };
        for gap in &mut audit.gaps {
            let closed = if audit.method == Method::Counts {
                audit.stored.saturating_add(count_tolerance(gap.provider)) >= gap.provider
            } else {
                gap.missing.iter().all(|id| ids.contains(id))
            };
            gap.closed = Some(closed);
        }
    }
    Ok(())
}

/// A sink that compares each game a provider hands over with the stored ids, keeping only the
/// missing ones: memory grows with the gaps, not with the history.
struct Recorder<'a> {
    player: &'a Player,
    stored: &'a HashSet<String>,
    screen: Screen,
    served: u64,
    /// Games served by the UTC month they started in: what a Lichess gap's month compares.
    served_by_month: BTreeMap<String, u64>,
    missing: Vec<Missing>,
}

impl Recorder<'_> {
    /// The games served and those missing since the last call.
    fn take(&mut self) -> (u64, Vec<Missing>) {
        (
            std::mem::take(&mut self.served),
            std::mem::take(&mut self.missing),
        )
    }
}

impl Sink for Recorder<'_> {
    async fn game(&mut self, game: GameRecord, _cursor: Option<Cursor>) -> Result<(), SinkClosed> {
        self.served += 1;
        let game = Missing {
            id: game.game_id,
            started: game.played_at,
            ended: game.ended_at,
        };
        *self.served_by_month.entry(game.month()).or_default() += 1;
        if !self.stored.contains(&game.id) {
            self.missing.push(game);
        }
        Ok(())
    }

    async fn commit(
        &mut self,
        _cursor: Option<Cursor>,
        _month: Option<MonthValidator>,
    ) -> Result<(), SinkClosed> {
        Ok(())
    }

    // In-progress and aborted games are not stored by an import either: not gaps.
    fn ongoing(&mut self, _game_id: String, _cursor: Option<Cursor>) {}

    fn resolved(&mut self, _game_id: String) {}

    fn passed(&mut self, _cursor: Option<Cursor>) {}

    fn unreadable(&mut self, _reason: &str) {}

    /// A game without PGN (bughouse): the import skips it, so it cannot be missing.
    fn skipped(&mut self, _reason: &str) {}

    fn total(&mut self, _total: Total) {}

    fn month_done(&mut self) {}

    /// Retries and rate limits show like the import's, as lines (never under `-q` or `none`).
    fn notice(&mut self, notice: Notice) {
        if self.screen.shows_progress() {
            self.screen.line(&format!("{}: {notice}", self.player));
        }
    }

    fn drift(&mut self, _drift: Drift) {}
}

/// The human report: a row per player, then one per gap, then the verdict.
fn table(report: &VerifyReport) -> String {
    let mut table = Table::new(&[
        ("player", Align::Left),
        ("compared", Align::Left),
        ("stored", Align::Right),
        ("provider", Align::Right),
        ("verdict", Align::Left),
    ]);
    let count = |n: u64| HumanCount(n).to_string();
    let mut gaps = 0;
    for audit in &report.players {
        let name = format!("{}:{}", audit.platform, audit.username);
        let missing: u64 = audit.gaps.iter().map(|gap| gap.provider - gap.stored).sum();
        let mut verdict = match &audit.error {
            Some(error) => format!("not verified: {error}"),
            None if audit.gaps.is_empty() => "ok".into(),
            None if audit.method == Method::Counts => {
                format!("{} fewer stored than the profile counts", count(missing))
            }
            None => format!("{} missing", count(missing)),
        };
        if let Some(new) = audit.stored_by_repair {
            verdict.push_str(&format!("; repair stored {}", count(new)));
        }
        if let Some(error) = &audit.repair_error {
            verdict.push_str(&format!(" (repair failed: {error})"));
        }
        table.row([
            name,
            audit.method.as_str().to_string(),
            count(audit.stored),
            audit.provider.map_or_else(|| "-".into(), count),
            verdict,
        ]);
        for gap in &audit.gaps {
            gaps += 1;
            let mut ids: Vec<&str> = gap
                .missing
                .iter()
                .take(SHOWN_IDS)
                .map(String::as_str)
                .collect();
            let more = gap.missing.len().saturating_sub(SHOWN_IDS);
            let more = format!("{more} more");
            if gap.missing.len() > SHOWN_IDS {
                ids.push(&more);
            }
            let mut verdict = if ids.is_empty() {
                "short".to_string()
            } else {
                format!("missing {}", ids.join(", "))
            };
            match gap.closed {
                Some(true) => verdict.push_str(" (repaired)"),
                Some(false) => verdict.push_str(" (still missing)"),
                None => {}
            }
            table.row([
                format!("  {}", gap.month.as_deref().unwrap_or("all games")),
                String::new(),
                count(gap.stored),
                count(gap.provider),
                verdict,
            ]);
        }
    }
    let verdict = if report.ok {
        if report.repaired {
            "every gap repaired".to_string()
        } else {
            "no gap".to_string()
        }
    } else if report.interrupted {
        "interrupted".to_string()
    } else {
        let failed = report.players.iter().filter(|a| a.error.is_some()).count();
        let mut parts = Vec::new();
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if gaps > 0 {
            parts.push(plural(gaps, "gap", "gaps"));
        }
        if failed > 0 {
            parts.push(plural(
                failed,
                "player not verified",
                "players not verified",
            ));
        }
        parts.join(", ")
    };
    format!("{table}{verdict}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(id: &str, started: Option<i64>, ended: Option<i64>) -> Missing {
        Missing {
            id: id.into(),
            started,
            ended,
        }
    }

    #[test]
    fn a_window_holds_every_missing_game_by_start_and_end() {
        let games = [
            missing("a", Some(100), Some(150)),
            missing("b", Some(50), None),
            missing("c", Some(120), Some(400)),
        ];
        assert_eq!(window_of(&games), (Some(50), Some(401)));
        let unplaced = [missing("a", Some(100), None), missing("d", None, None)];
        assert_eq!(window_of(&unplaced), (None, None));
    }

    #[test]
    fn the_counters_tolerate_a_few_games_and_half_a_percent() {
        assert_eq!(count_tolerance(0), 2);
        assert_eq!(count_tolerance(100), 2);
        assert_eq!(count_tolerance(10_000), 50);
    }

    #[test]
    fn months_are_utc() {
        assert_eq!(month_of(1_709_251_200_000), "2024/03");
        assert_eq!(month_of(1_709_251_199_999), "2024/02");
    }
}
