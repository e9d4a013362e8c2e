//! The terminal view: listens to the importer's events and draws them as live bars on a
//! terminal, as plain lines in a log, or not at all; and prints the final summary.
//!
//! What is shown is computed by [`Board`], a plain model of the run fed with events and the
//! current time, so that every line can be unit-tested; indicatif only draws those lines and
//! keeps log output from tearing them.
//!
//! `board` is that model, `summary` the lines and table a run leaves behind, and [`Table`] lays
//! out the tables of every command.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use console::Term;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use tokio::sync::mpsc;

use crate::import::Event;
use crate::logging::timestamp;
use crate::report::{PlayerReport, PlayerStatus};

mod board;
mod summary;
mod table;

pub use board::{Board, QUEUED_LINES};
pub use summary::{result_line, summary_table};
pub use table::{Align, Table};

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
        if std::io::stderr().is_terminal() && !dumb_terminal() {
            Display::Bars
        } else {
            Display::Plain
        }
    }
}

/// stderr as indicatif draws on it, with the cursor put back at the start of the last line after
/// each draw. indicatif pads every line up to the last column and ends there, and a terminal
/// echoes Ctrl-C as `^C` where the cursor is: from the last column, the echo would wrap onto a
/// line indicatif does not know of, and every later redraw would leave the header behind. From
/// the start of the line, the echo lands in the line's indent and the next redraw clears it.
#[derive(Debug)]
struct LiveArea(Term);

impl TermLike for LiveArea {
    fn width(&self) -> u16 {
        self.0.size().1
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.0.write_line(line)
    }

    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.0.write_str(text)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> std::io::Result<()> {
        self.0.write_str("\r")?;
        self.0.flush()
    }
}

/// How many columns stderr's terminal has; `None` when stderr is not a terminal, where lines
/// may be as long as they are.
pub fn terminal_width() -> Option<usize> {
    Term::stderr()
        .size_checked()
        .map(|(_, columns)| usize::from(columns))
}

/// `TERM=dumb` cannot move the cursor, so it cannot redraw bars.
fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
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
    /// Whether lines say when they were printed: in a log file, not on a terminal.
    timestamps: bool,
}

impl Screen {
    pub fn new(display: Display, quiet: bool) -> Self {
        // `-q` keeps only errors and the summary: no live area, whatever the mode.
        let stderr = Term::buffered_stderr();
        let target = if display == Display::Bars && !quiet && stderr.is_term() && !dumb_terminal() {
            ProgressDrawTarget::term_like_with_hz(Box::new(LiveArea(stderr)), REDRAWS_PER_SECOND)
        } else {
            ProgressDrawTarget::hidden()
        };
        Screen {
            multi: MultiProgress::with_draw_target(target),
            display,
            quiet,
            color: display == Display::Bars && !no_color(),
            timestamps: !std::io::stderr().is_terminal(),
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

    /// Whether lines and log lines start with an RFC 3339 UTC timestamp.
    pub fn timestamps(&self) -> bool {
        self.timestamps
    }

    /// Prints a whole line to stderr above the bars, after a timestamp when stderr is not a
    /// terminal. `suspend` rather than `println`, because `println` drops the line when the draw
    /// target is hidden.
    pub fn line(&self, text: &str) {
        let stamp = if self.timestamps {
            format!("{} ", timestamp())
        } else {
            String::new()
        };
        self.multi.suspend(|| eprintln!("{stamp}{text}"));
    }

    /// Writes raw log output to stderr without tearing the bars.
    pub fn write_log(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.multi.suspend(|| std::io::stderr().write_all(bytes))
    }

    /// Wipes the live area, for a process that is about to quit without a summary.
    pub fn clear(&self) {
        let _ = self.multi.clear();
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
        let Some(width) = terminal_width() else {
            return;
        };
        let lines = self.board.rows(Instant::now(), width);
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
                    // The board fits its lines to the width, and `wide_msg` cuts them should the
                    // terminal narrow before they are drawn: a wrapped line would break the
                    // redraw of everything below it.
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
        Event::Notice { player, notice } => Some(format!("{player}: {notice}")),
        _ => None,
    }
}

#[cfg(test)]
mod testing {
    use crate::player::Player;
    use crate::report::{PlayerReport, PlayerStatus};

    pub(crate) fn player(spec: &str) -> Player {
        spec.parse().unwrap()
    }

    pub(crate) fn report(spec: &str, status: PlayerStatus, error: Option<&str>) -> PlayerReport {
        let mut report = PlayerReport::without_games(&player(spec), status, error.map(Into::into));
        report.elapsed_ms = 14_200;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::testing::player;
    use super::*;
    use crate::http::Notice;

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
}
