//! The terminal view: listens to the importer's events and draws them as live bars on a
//! terminal, as plain lines in a log, or not at all; and prints the final summary.
//!
//! What is shown is computed by [`Board`], a plain model of the run fed with events and the
//! current time, so that every line can be unit-tested; indicatif only draws those lines and
//! keeps log output from tearing them.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use crate::http::Notice;
use crate::import::Event;
use crate::player::Player;
use crate::providers::Total;
use crate::report::{PlayerReport, PlayerStatus, RunReport};

/// How progress is shown, decided once at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    Bars,
    Plain,
    Hidden,
}

impl Display {
    /// Bars on a terminal that can draw them, plain lines anywhere else.
    pub fn auto() -> Self {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !dumb {
            Display::Bars
        } else {
            Display::Plain
        }
    }
}

/// <https://no-color.org>: any non-empty `NO_COLOR` turns colours off.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// How often the live area is recomputed. The draw target is rate-limited as well, so a burst
/// of events never costs more than a few redraws a second.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
const REDRAWS_PER_SECOND: u8 = 10;

/// Where the live display draws; logs go through it so they never tear the bars.
#[derive(Clone)]
pub struct Screen {
    multi: MultiProgress,
    display: Display,
    quiet: bool,
    color: bool,
}

impl Screen {
    pub fn new(display: Display, quiet: bool) -> Self {
        // `-q` keeps only errors and the summary: no live area, whatever the mode.
        let target = if display == Display::Bars && !quiet {
            ProgressDrawTarget::stderr_with_hz(REDRAWS_PER_SECOND)
        } else {
            ProgressDrawTarget::hidden()
        };
        Screen {
            multi: MultiProgress::with_draw_target(target),
            display,
            quiet,
            color: display == Display::Bars && !no_color(),
        }
    }

    /// Whether live bars are drawn (so that the importer may spend requests on totals).
    pub fn shows_bars(&self) -> bool {
        self.display == Display::Bars && !self.quiet
    }

    /// Whether progress of any kind (bars or lines) is shown.
    pub fn shows_progress(&self) -> bool {
        self.display != Display::Hidden && !self.quiet
    }

    /// Whether escape codes may be written to stderr.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Prints a whole line to stderr above the bars. `suspend` rather than `println`, because
    /// `println` drops the line when the draw target is hidden.
    pub fn line(&self, text: &str) {
        self.multi.suspend(|| eprintln!("{text}"));
    }

    /// Writes raw log output to stderr without tearing the bars.
    pub fn write_log(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.multi.suspend(|| std::io::stderr().write_all(bytes))
    }

    /// Draws `events` until the importer drops its sender. `jobs` is the run's `--jobs`, for
    /// the header.
    pub async fn listen(self, mut events: mpsc::UnboundedReceiver<Event>, jobs: usize) {
        let mut view = View::new(self, jobs);
        let mut redraw = tokio::time::interval(REDRAW_EVERY);
        redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let live = view.screen.shows_bars();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => view.handle(event),
                    None => break,
                },
                _ = redraw.tick(), if live => view.draw(),
            }
        }
        view.finish();
    }
}

/// Draws the board with indicatif (bars) or prints one line per player event (plain).
struct View {
    screen: Screen,
    board: Board,
    /// One indicatif line per row of the live area, top to bottom.
    rows: Vec<ProgressBar>,
}

impl View {
    fn new(screen: Screen, jobs: usize) -> Self {
        View {
            screen,
            board: Board::new(jobs, Instant::now()),
            rows: Vec::new(),
        }
    }

    fn plain(&self) -> bool {
        self.screen.display == Display::Plain && !self.screen.quiet
    }

    fn handle(&mut self, event: Event) {
        let now = Instant::now();
        if self.plain()
            && let Some(line) = plain_line(&event)
        {
            self.screen.line(&line);
        }
        let finished = match &event {
            Event::Finished { report } => Some(report.clone()),
            _ => None,
        };
        self.board.apply(event, now);
        if let Some(report) = finished {
            // The player leaves the live area before its permanent line is printed above it.
            if self.screen.shows_bars() {
                self.draw();
            }
            if self.announces(&report) {
                self.screen.line(&result_line(&report, self.screen.color));
            }
        }
    }

    /// Whether a finished player gets its permanent line: always with bars or plain lines,
    /// and failures also under `-q` (they are errors), but nothing at all with `none`.
    fn announces(&self, report: &PlayerReport) -> bool {
        match self.screen.display {
            Display::Hidden => false,
            _ if self.screen.quiet => report.status == PlayerStatus::Failed,
            _ => true,
        }
    }

    /// Makes the live area show the board's rows now.
    fn draw(&mut self) {
        let lines = self.board.rows(Instant::now());
        while self.rows.len() > lines.len() {
            if let Some(bar) = self.rows.pop() {
                bar.finish_and_clear();
                self.screen.multi.remove(&bar);
            }
        }
        for (index, line) in lines.into_iter().enumerate() {
            match self.rows.get(index) {
                Some(bar) => bar.set_message(line),
                None => {
                    let bar = self.screen.multi.add(ProgressBar::new_spinner());
                    // `wide_msg` cuts the line at the terminal's width: a wrapped line would
                    // break the redraw of everything below it.
                    bar.set_style(
                        ProgressStyle::with_template("{wide_msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_message(line);
                    self.rows.push(bar);
                }
            }
        }
    }

    fn finish(self) {
        for bar in &self.rows {
            bar.finish_and_clear();
        }
        let _ = self.screen.multi.clear();
    }
}

/// The plain-mode line for an event, if it gets one (finished players are printed apart).
fn plain_line(event: &Event) -> Option<String> {
    match event {
        Event::Started { player } => Some(format!("{player}: started")),
        Event::Notice { player, notice } => Some(format!("{player}: {}", notice_text(notice))),
        _ => None,
    }
}

fn notice_text(notice: &Notice) -> String {
    match notice {
        Notice::Waiting(wait) => format!("waiting {} (rate limited)", seconds(*wait)),
        Notice::Retrying {
            attempt,
            max,
            error,
        } => format!("retrying {attempt}/{max} ({error})"),
    }
}

/// How many queued players get a line of their own; the rest are one "… N more queued" line.
pub const QUEUED_LINES: usize = 3;

/// The run as the live area shows it, updated from events.
#[derive(Debug)]
pub struct Board {
    jobs: usize,
    started: Instant,
    /// Queued players in the order they were queued (by a sequence number), and the way back.
    queue: BTreeMap<u64, Player>,
    queued_as: HashMap<Player, u64>,
    next_in_queue: u64,
    /// Players being imported, in the order they started, so that lines do not jump about.
    running: Vec<Live>,
    done: u64,
    failed: u64,
    /// New games stored by players that have finished.
    finished_new: u64,
}

/// A running player's line.
#[derive(Debug)]
struct Live {
    player: Player,
    since: Instant,
    /// Games handed to the writer so far.
    games: u64,
    /// Games the writer has stored (new or duplicate); fewer than `games` while it writes.
    written: u64,
    new: u64,
    months: u64,
    total: Option<Total>,
    activity: Activity,
}

/// What a running player is doing besides fetching, as its last notice said.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Activity {
    Fetching,
    Waiting { until: Instant },
    Retrying { attempt: u32, max: u32 },
}

impl Board {
    pub fn new(jobs: usize, now: Instant) -> Self {
        Board {
            jobs,
            started: now,
            queue: BTreeMap::new(),
            queued_as: HashMap::new(),
            next_in_queue: 0,
            running: Vec::new(),
            done: 0,
            failed: 0,
            finished_new: 0,
        }
    }

    pub fn apply(&mut self, event: Event, now: Instant) {
        match event {
            Event::Queued { player } => {
                let seq = self.next_in_queue;
                self.next_in_queue += 1;
                self.queue.insert(seq, player.clone());
                self.queued_as.insert(player, seq);
            }
            Event::Started { player } => {
                self.dequeue(&player);
                self.running.push(Live {
                    player,
                    since: now,
                    games: 0,
                    written: 0,
                    new: 0,
                    months: 0,
                    total: None,
                    activity: Activity::Fetching,
                });
            }
            Event::Total { player, total } => {
                if let Some(live) = self.live(&player) {
                    live.total = Some(total);
                }
            }
            Event::Fetched {
                player,
                games,
                months,
            } => {
                if let Some(live) = self.live(&player) {
                    live.games = games;
                    live.months = months;
                    // New games mean the request that was retried or waited for got through.
                    live.activity = Activity::Fetching;
                }
            }
            Event::Stored {
                player,
                new,
                duplicate,
                ..
            } => {
                if let Some(live) = self.live(&player) {
                    live.new = new;
                    live.written = new + duplicate;
                }
            }
            Event::Notice { player, notice } => {
                if let Some(live) = self.live(&player) {
                    live.activity = match notice {
                        Notice::Waiting(wait) => Activity::Waiting { until: now + wait },
                        Notice::Retrying { attempt, max, .. } => {
                            Activity::Retrying { attempt, max }
                        }
                    };
                }
            }
            Event::Finished { report } => {
                let is =
                    |p: &Player| p.platform == report.platform && p.username() == report.username;
                self.running.retain(|live| !is(&live.player));
                // Players interrupted before they started finish straight from the queue.
                if let Some(player) = self.queued_as.keys().find(|p| is(p)).cloned() {
                    self.dequeue(&player);
                }
                self.done += 1;
                if report.status == PlayerStatus::Failed {
                    self.failed += 1;
                }
                self.finished_new += report.new_games;
            }
        }
    }

    fn dequeue(&mut self, player: &Player) {
        if let Some(seq) = self.queued_as.remove(player) {
            self.queue.remove(&seq);
        }
    }

    fn live(&mut self, player: &Player) -> Option<&mut Live> {
        self.running.iter_mut().find(|live| &live.player == player)
    }

    /// The live area: the header, a line per running player, then the next few queued ones.
    pub fn rows(&self, now: Instant) -> Vec<String> {
        let shown_queue = self.queue.values().take(QUEUED_LINES);
        let width = self
            .running
            .iter()
            .map(|live| &live.player)
            .chain(shown_queue.clone())
            .map(|p| p.to_string().len())
            .max()
            .unwrap_or(0)
            .clamp(12, 40);
        let mut rows = Vec::with_capacity(self.running.len() + QUEUED_LINES + 2);
        rows.push(self.header(now));
        rows.extend(self.running.iter().map(|live| live.row(now, width)));
        rows.extend(shown_queue.map(|p| format!("  {:width$}  queued", p.to_string())));
        if self.queue.len() > QUEUED_LINES {
            rows.push(format!(
                "  … {} more queued",
                thousands((self.queue.len() - QUEUED_LINES) as u64)
            ));
        }
        rows
    }

    fn header(&self, now: Instant) -> String {
        let elapsed = now.saturating_duration_since(self.started);
        let stored = self.finished_new + self.running.iter().map(|l| l.new).sum::<u64>();
        format!(
            "importing · {}/{} busy · {} queued · {} done · {} failed · {} games stored · {} · {}",
            self.running.len(),
            self.jobs,
            thousands(self.queue.len() as u64),
            thousands(self.done),
            thousands(self.failed),
            thousands(stored),
            per_second(stored, elapsed),
            compact_duration(elapsed),
        )
    }
}

impl Live {
    fn row(&self, now: Instant, width: usize) -> String {
        let elapsed = now.saturating_duration_since(self.since);
        let state = match self.activity {
            Activity::Waiting { until } if until > now => {
                format!("waiting {} (rate limited)", seconds(until - now))
            }
            Activity::Retrying { attempt, max } => format!("retrying {attempt}/{max}"),
            _ if self.written < self.games => "writing".to_string(),
            _ => "fetching".to_string(),
        };
        let mut row = format!(
            "  {:width$}  {state:27}  {:>11} games  {:>7}",
            self.player.to_string(),
            thousands(self.games),
            per_second(self.games, elapsed),
        );
        let progress = match self.total {
            // The profile's count is an estimate: the bar stops at 100%.
            Some(Total::Games(total)) => Some((self.games.min(total), total)),
            Some(Total::Months(total)) => Some((self.months.min(total), total)),
            None => None,
        };
        if let Some((done, total)) = progress.filter(|&(_, total)| total > 0) {
            row.push_str("  ");
            row.push_str(&bar(done, total, elapsed));
        }
        row
    }
}

const BAR_WIDTH: u64 = 20;

/// `[=========>          ]  45% eta 1m 10s`: done of total, and the time left at the rate so
/// far.
fn bar(done: u64, total: u64, elapsed: Duration) -> String {
    let filled = (done * BAR_WIDTH / total) as usize;
    let mut cells = "=".repeat(filled);
    if filled < BAR_WIDTH as usize {
        cells.push(if done > 0 { '>' } else { ' ' });
    }
    let percent = done * 100 / total;
    let eta = if done == 0 {
        "?".to_string()
    } else {
        compact_duration(elapsed.mul_f64((total - done) as f64 / done as f64))
    };
    format!(
        "[{cells:BAR_WIDTH$}] {percent:>3}% eta {eta}",
        BAR_WIDTH = BAR_WIDTH as usize
    )
}

/// `123/s`: a count over a duration.
fn per_second(count: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds < 0.001 {
        return "0/s".to_string();
    }
    format!("{}/s", thousands((count as f64 / seconds).round() as u64))
}

/// `42s`, rounded up, so that a wait never shows `0s` while it lasts.
fn seconds(wait: Duration) -> String {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    format!("{whole}s")
}

/// `9s`, `4m 05s`, `2h 03m`: short enough for a line that is redrawn.
fn compact_duration(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs / 60 % 60),
    }
}

/// Wraps `text` in an SGR colour when colours are on.
fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The permanent line a finished player leaves, e.g.
/// `✔ lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s` or `✘ chesscom:bob  user not found`.
pub fn result_line(report: &PlayerReport, color: bool) -> String {
    let name = report.player_name();
    let counts = || {
        let mut counts = format!(
            "{} new · {} dup · {} invalid",
            thousands(report.new_games),
            thousands(report.duplicate_games),
            thousands(report.invalid_games),
        );
        if report.skipped_games > 0 {
            counts.push_str(&format!(" · {} skipped", thousands(report.skipped_games)));
        }
        counts.push_str(&format!(" · {:.1}s", report.elapsed_ms as f64 / 1000.0));
        counts
    };
    let error = report.error.as_deref();
    match report.status {
        PlayerStatus::Ok => format!("{} {name}  {}", paint("✔", "32", color), counts()),
        PlayerStatus::Failed => {
            let mut line = format!(
                "{} {name}  {}",
                paint("✘", "31", color),
                error.unwrap_or("failed")
            );
            // What was stored before the failure is kept; say so.
            if report.new_games + report.duplicate_games > 0 {
                line.push_str(&format!(" (after {})", counts()));
            }
            line
        }
        PlayerStatus::Interrupted => format!(
            "{} {name}  interrupted · {}",
            paint("✘", "33", color),
            counts()
        ),
        PlayerStatus::Skipped => format!(
            "{} {name}  skipped: {}",
            paint("–", "2", color),
            error.unwrap_or("import already in progress elsewhere")
        ),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The human summary table, the same in every progress mode.
pub fn summary_table(report: &RunReport) -> String {
    let width = report
        .players
        .iter()
        .map(|p| p.player_name().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "{:width$}  {:11}  {:>9}  {:>9}  {:>7}  {:>7}  {:>8}  error\n",
        "player", "status", "new", "duplicate", "invalid", "skipped", "time"
    );
    for p in &report.players {
        let row = format!(
            "{:width$}  {:11}  {:>9}  {:>9}  {:>7}  {:>7}  {:>7.1}s  {}",
            p.player_name(),
            p.status.as_str(),
            thousands(p.new_games),
            thousands(p.duplicate_games),
            thousands(p.invalid_games),
            thousands(p.skipped_games),
            p.elapsed_ms as f64 / 1000.0,
            p.error.as_deref().unwrap_or("")
        );
        out.push_str(row.trim_end());
        out.push('\n');
    }
    let players = report.players.len() as u64;
    let mut totals = format!(
        "{} new games from {} player{}; {} failed",
        thousands(report.new_games),
        thousands(players),
        if players == 1 { "" } else { "s" },
        thousands(report.failed_players),
    );
    if report.skipped_players > 0 {
        totals.push_str(&format!(", {} skipped", thousands(report.skipped_players)));
    }
    if report.interrupted {
        totals.push_str(", interrupted");
    }
    totals.push_str(&format!(" in {:.1}s\n", report.elapsed_ms as f64 / 1000.0));
    out.push_str(&totals);
    out
}

/// Sends log lines (warnings, retries, invalid games) to stderr through the screen, so that they
/// print above the bars. `RUST_LOG` overrides the level that `-q`/`-v` choose.
pub fn init_logging(verbose: u8, quiet: bool, screen: Screen) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("chess_import={level}")));
    // Plain output is for log files: no escape codes there, even on a terminal.
    let ansi = screen.color();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || LogWriter(screen.clone()))
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

struct LogWriter(Screen);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_log(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn player(spec: &str) -> Player {
        spec.parse().unwrap()
    }

    fn report(spec: &str, status: PlayerStatus, error: Option<&str>) -> PlayerReport {
        let mut report = PlayerReport::without_games(&player(spec), status, error.map(Into::into));
        report.elapsed_ms = 14_200;
        report
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn durations_are_compact() {
        assert_eq!(compact_duration(Duration::from_millis(9_900)), "9s");
        assert_eq!(compact_duration(Duration::from_secs(245)), "4m 05s");
        assert_eq!(compact_duration(Duration::from_secs(7380)), "2h 03m");
        assert_eq!(seconds(Duration::from_millis(41_200)), "42s");
        assert_eq!(seconds(Duration::from_secs(42)), "42s");
    }

    #[test]
    fn result_lines_say_what_happened() {
        let mut ok = report("lichess:alice", PlayerStatus::Ok, None);
        ok.new_games = 1234;
        ok.duplicate_games = 12;
        assert_eq!(
            result_line(&ok, false),
            "✔ lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s"
        );
        assert_eq!(
            result_line(&ok, true),
            "\x1b[32m✔\x1b[0m lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s"
        );
        let missing = report("chesscom:bob", PlayerStatus::Failed, Some("user not found"));
        assert_eq!(
            result_line(&missing, false),
            "✘ chesscom:bob  user not found"
        );
        let mut partly = report("lichess:carol", PlayerStatus::Failed, Some("HTTP 503"));
        partly.new_games = 3;
        partly.skipped_games = 1;
        assert_eq!(
            result_line(&partly, false),
            "✘ lichess:carol  HTTP 503 (after 3 new · 0 dup · 0 invalid · 1 skipped · 14.2s)"
        );
        let skipped = report("lichess:dave", PlayerStatus::Skipped, Some("held by x"));
        assert_eq!(
            result_line(&skipped, false),
            "– lichess:dave  skipped: held by x"
        );
    }

    #[test]
    fn bars_never_pass_their_total() {
        let second = Duration::from_secs(1);
        assert_eq!(bar(0, 10, second), "[                    ]   0% eta ?");
        assert_eq!(
            bar(5, 10, second * 10),
            "[==========>         ]  50% eta 10s"
        );
        assert_eq!(bar(10, 10, second), "[====================] 100% eta 0s");
    }

    #[test]
    fn queued_players_get_a_bounded_number_of_lines() {
        let start = Instant::now();
        let mut board = Board::new(2, start);
        for i in 0..250 {
            board.apply(
                Event::Queued {
                    player: player(&format!("chesscom:player{i}")),
                },
                start,
            );
        }
        board.apply(
            Event::Started {
                player: player("chesscom:player0"),
            },
            start,
        );
        let rows = board.rows(start + Duration::from_secs(2));
        assert_eq!(rows.len(), 1 + 1 + QUEUED_LINES + 1, "{rows:#?}");
        assert!(
            rows[0].contains("1/2 busy · 249 queued · 0 done"),
            "{}",
            rows[0]
        );
        assert!(rows[2].contains("chesscom:player1") && rows[2].ends_with("queued"));
        assert_eq!(rows[5], "  … 246 more queued");
    }

    #[test]
    fn a_running_player_shows_state_rate_and_bar() {
        let start = Instant::now();
        let alice = player("lichess:alice");
        let mut board = Board::new(4, start);
        let events = [
            Event::Queued {
                player: alice.clone(),
            },
            Event::Started {
                player: alice.clone(),
            },
            Event::Total {
                player: alice.clone(),
                total: Total::Games(200),
            },
            Event::Fetched {
                player: alice.clone(),
                games: 100,
                months: 0,
            },
        ];
        for event in events {
            board.apply(event, start);
        }
        let at = start + Duration::from_secs(10);
        let row = board.rows(at)[1].clone();
        assert_eq!(
            row,
            "  lichess:alice  writing                              100 games     10/s  \
             [==========>         ]  50% eta 10s"
        );
        board.apply(
            Event::Stored {
                player: alice.clone(),
                new: 90,
                duplicate: 10,
                invalid: 0,
            },
            at,
        );
        assert!(board.rows(at)[1].contains("fetching"));
        assert!(board.rows(at)[0].contains("90 games stored · 9/s · 10s"));
        board.apply(
            Event::Notice {
                player: alice.clone(),
                notice: Notice::Waiting(Duration::from_secs(42)),
            },
            at,
        );
        assert!(board.rows(at)[1].contains("waiting 42s (rate limited)"));
        // Once the pause is over, the line goes back to what the player does.
        assert!(board.rows(at + Duration::from_secs(43))[1].contains("fetching"));
        board.apply(
            Event::Notice {
                player: alice.clone(),
                notice: Notice::Retrying {
                    attempt: 2,
                    max: 5,
                    error: "HTTP 503".into(),
                },
            },
            at,
        );
        assert!(board.rows(at)[1].contains("retrying 2/5"));
        // More games than the profile's estimate still show a full bar, never more.
        board.apply(
            Event::Fetched {
                player: alice.clone(),
                games: 250,
                months: 0,
            },
            at,
        );
        assert!(board.rows(at)[1].contains("100% eta 0s"));
        let mut done = report("lichess:alice", PlayerStatus::Ok, None);
        done.new_games = 240;
        board.apply(Event::Finished { report: done }, at);
        let rows = board.rows(at);
        assert_eq!(rows.len(), 1);
        assert!(rows[0].contains("0/4 busy · 0 queued · 1 done · 0 failed · 240 games"));
    }

    #[test]
    fn players_interrupted_in_the_queue_leave_it() {
        let start = Instant::now();
        let mut board = Board::new(1, start);
        board.apply(
            Event::Queued {
                player: player("chesscom:bob"),
            },
            start,
        );
        board.apply(
            Event::Finished {
                report: report("chesscom:bob", PlayerStatus::Interrupted, None),
            },
            start,
        );
        assert_eq!(board.rows(start).len(), 1);
    }

    #[test]
    fn plain_lines_name_the_player_and_the_event() {
        let alice = player("lichess:alice");
        let started = Event::Started {
            player: alice.clone(),
        };
        assert_eq!(plain_line(&started).unwrap(), "lichess:alice: started");
        let waiting = Event::Notice {
            player: alice.clone(),
            notice: Notice::Waiting(Duration::from_secs(60)),
        };
        assert_eq!(
            plain_line(&waiting).unwrap(),
            "lichess:alice: waiting 60s (rate limited)"
        );
        let fetched = Event::Fetched {
            player: alice,
            games: 1,
            months: 0,
        };
        assert_eq!(plain_line(&fetched), None);
    }

    #[test]
    fn summary_table_lists_every_player_and_the_totals() {
        let mut ok = report("lichess:alice", PlayerStatus::Ok, None);
        ok.new_games = 1234;
        let failed = report("chesscom:bob", PlayerStatus::Failed, Some("user not found"));
        let skipped = report("lichess:carol", PlayerStatus::Skipped, Some("held by x"));
        let run = RunReport::new(vec![ok, failed, skipped], false, 15_000);
        assert_eq!(
            summary_table(&run),
            "player         status             new  duplicate  invalid  skipped      time  error\n\
             lichess:alice  ok               1,234          0        0        0     14.2s\n\
             chesscom:bob   failed               0          0        0        0     14.2s  user not found\n\
             lichess:carol  skipped              0          0        0        0     14.2s  held by x\n\
             1,234 new games from 3 players; 1 failed, 1 skipped in 15.0s\n"
        );
    }
}
