//! The terminal view: listens to the importer's events and draws them as live bars on a
//! terminal, as plain lines in a log, or not at all; and prints the final summary.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use crate::cli::ProgressMode;
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
    /// `auto` means bars on a terminal that can draw them, plain lines anywhere else.
    pub fn resolve(mode: ProgressMode) -> Self {
        match mode {
            ProgressMode::Bars => Display::Bars,
            ProgressMode::Plain => Display::Plain,
            ProgressMode::None => Display::Hidden,
            ProgressMode::Auto => {
                let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
                if std::io::stderr().is_terminal() && !dumb {
                    Display::Bars
                } else {
                    Display::Plain
                }
            }
        }
    }
}

/// Where the live display draws; logs go through it so they never tear the bars.
#[derive(Clone)]
pub struct Screen {
    multi: MultiProgress,
    display: Display,
    quiet: bool,
}

impl Screen {
    pub fn new(display: Display, quiet: bool) -> Self {
        let target = if display == Display::Bars {
            // A few redraws a second are plenty to read and cost nothing measurable.
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        };
        Screen {
            multi: MultiProgress::with_draw_target(target),
            display,
            quiet,
        }
    }

    pub fn display(&self) -> Display {
        self.display
    }

    /// Prints a whole line to stderr above the bars.
    pub fn line(&self, text: &str) {
        if self.display == Display::Bars {
            self.multi.suspend(|| eprintln!("{text}"));
        } else {
            eprintln!("{text}");
        }
    }

    /// Writes raw log output to stderr without tearing the bars.
    pub fn write_log(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.multi.suspend(|| std::io::stderr().write_all(bytes))
    }

    /// Draws `events` until the importer drops its sender.
    pub async fn listen(self, mut events: mpsc::UnboundedReceiver<Event>) {
        let mut state = ViewState::new(self);
        while let Some(event) = events.recv().await {
            state.handle(event);
        }
        state.finish();
    }
}

/// One player's live line.
struct PlayerLine {
    bar: ProgressBar,
    games: u64,
    total: Option<Total>,
}

struct ViewState {
    screen: Screen,
    header: Option<ProgressBar>,
    lines: HashMap<Player, PlayerLine>,
    started: Instant,
    queued: u64,
    running: u64,
    done: u64,
    failed: u64,
    stored: HashMap<Player, u64>,
}

impl ViewState {
    fn new(screen: Screen) -> Self {
        let header = (screen.display == Display::Bars).then(|| {
            let bar = screen.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        ViewState {
            screen,
            header,
            lines: HashMap::new(),
            started: Instant::now(),
            queued: 0,
            running: 0,
            done: 0,
            failed: 0,
            stored: HashMap::new(),
        }
    }

    fn plain(&self) -> bool {
        self.screen.display == Display::Plain && !self.screen.quiet
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Queued { .. } => self.queued += 1,
            Event::Started { player } => {
                self.queued = self.queued.saturating_sub(1);
                self.running += 1;
                if self.plain() {
                    self.screen.line(&format!("{player}: started"));
                }
                if self.screen.display == Display::Bars {
                    let bar = self.screen.multi.add(ProgressBar::new_spinner());
                    bar.set_style(spinner_style());
                    bar.set_prefix(player.to_string());
                    bar.set_message("fetching");
                    self.lines.insert(
                        player,
                        PlayerLine {
                            bar,
                            games: 0,
                            total: None,
                        },
                    );
                }
            }
            Event::Total { player, total } => {
                if let Some(line) = self.lines.get_mut(&player) {
                    line.total = Some(total);
                    let length = match total {
                        Total::Games(games) => games,
                        Total::Months(months) => months,
                    };
                    line.bar.set_length(length.max(1));
                    line.bar.set_style(bar_style(total));
                }
            }
            Event::Fetched {
                player,
                games,
                months,
            } => {
                if let Some(line) = self.lines.get_mut(&player) {
                    line.games = games;
                    line.bar
                        .set_message(format!("fetching · {} games", thousands(games)));
                    match line.total {
                        Some(Total::Months(_)) => line.bar.set_position(months),
                        Some(Total::Games(total)) => line.bar.set_position(games.min(total)),
                        None => line.bar.tick(),
                    }
                }
            }
            Event::Stored { player, new, .. } => {
                self.stored.insert(player, new);
            }
            Event::Notice { player, notice } => {
                let text = match &notice {
                    Notice::Waiting(wait) => format!("waiting {}s (rate limited)", wait.as_secs()),
                    Notice::Retrying {
                        attempt,
                        max,
                        error,
                    } => format!("retrying {attempt}/{max} ({error})"),
                };
                if let Some(line) = self.lines.get(&player) {
                    line.bar.set_message(text.clone());
                }
                if self.plain() {
                    self.screen.line(&format!("{player}: {text}"));
                }
            }
            Event::Finished { report } => {
                self.running = self.running.saturating_sub(1);
                self.done += 1;
                if report.status == PlayerStatus::Failed {
                    self.failed += 1;
                }
                let player: Option<Player> = self
                    .lines
                    .keys()
                    .find(|p| p.platform == report.platform && p.username() == report.username)
                    .cloned();
                if let Some(line) = player.and_then(|p| self.lines.remove(&p)) {
                    line.bar.finish_and_clear();
                    self.screen.multi.remove(&line.bar);
                }
                let failed = report.status == PlayerStatus::Failed;
                if self.screen.display == Display::Bars
                    || self.plain()
                    || (failed && self.screen.display != Display::Hidden)
                {
                    self.screen.line(&result_line(&report));
                }
            }
        }
        self.draw_header();
    }

    fn draw_header(&self) {
        let Some(header) = &self.header else {
            return;
        };
        let games: u64 = self.stored.values().sum();
        let elapsed = self.started.elapsed();
        let rate = games as f64 / elapsed.as_secs_f64().max(0.001);
        header.set_message(format!(
            "{} running · {} queued · {} done · {} failed · {} games · {:.0}/s · {}",
            self.running,
            self.queued,
            self.done,
            self.failed,
            thousands(games),
            rate,
            indicatif::HumanDuration(elapsed),
        ));
    }

    fn finish(self) {
        if let Some(header) = &self.header {
            header.finish_and_clear();
        }
        for line in self.lines.values() {
            line.bar.finish_and_clear();
        }
        let _ = self.screen.multi.clear();
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:28} {msg:32} {per_sec:>10}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style(total: Total) -> ProgressStyle {
    let unit = match total {
        Total::Games(_) => "games",
        Total::Months(_) => "months",
    };
    ProgressStyle::with_template(&format!(
        "{{spinner}} {{prefix:28}} {{msg:32}} [{{bar:20}}] {{pos}}/{{len}} {unit} {{percent:>3}}% eta {{eta}}"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

/// The permanent line a finished player leaves.
pub fn result_line(report: &PlayerReport) -> String {
    let name = report.player_name();
    match report.status {
        PlayerStatus::Ok => format!(
            "✔ {name}  {} new · {} dup · {} invalid · {:.1}s",
            thousands(report.new_games),
            thousands(report.duplicate_games),
            thousands(report.invalid_games),
            report.elapsed_ms as f64 / 1000.0
        ),
        _ => format!(
            "✘ {name}  {}: {}",
            report.status.as_str(),
            report.error.as_deref().unwrap_or("no reason given")
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
        out.push_str(&format!(
            "{:width$}  {:11}  {:>9}  {:>9}  {:>7}  {:>7}  {:>7.1}s  {}\n",
            p.player_name(),
            p.status.as_str(),
            thousands(p.new_games),
            thousands(p.duplicate_games),
            thousands(p.invalid_games),
            thousands(p.skipped_games),
            p.elapsed_ms as f64 / 1000.0,
            p.error.as_deref().unwrap_or("")
        ));
    }
    out.push_str(&format!(
        "{} new games from {} players; {} failed{}{} in {:.1}s\n",
        thousands(report.new_games),
        report.players.len(),
        report.failed_players,
        if report.skipped_players > 0 {
            format!(", {} skipped", report.skipped_players)
        } else {
            String::new()
        },
        if report.interrupted {
            ", interrupted"
        } else {
            ""
        },
        report.elapsed_ms as f64 / 1000.0
    ));
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
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
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

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
