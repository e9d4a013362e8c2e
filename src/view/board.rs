//! The live area as a plain model: fed with events and the current time, it computes every line
//! the bars show, fitted to the terminal's width, so that each can be unit-tested without a
//! terminal.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use console::{measure_text_width, truncate_str};
use indicatif::HumanCount;

use crate::import::{self, Activity, Event, Progress};
use crate::player::{Platform, Player};
use crate::providers::Total;
use crate::report::PlayerStatus;

/// How many queued players get a line of their own; the rest are one "… N more queued" line.
pub const QUEUED_LINES: usize = 3;

/// Rates are over the last this long: they say how fast the run goes now, where an average since
/// the start would stay low long after a pause for a rate limit.
const RATE_WINDOW: Duration = Duration::from_secs(10);

/// A bar's cells at most and at least; below that, the percentage alone says as much.
const BAR_CELLS: usize = 20;
const MIN_BAR_CELLS: usize = 8;

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
    /// The platforms of the players seen so far, each shown in the header with its players
    /// running against its limit.
    platforms: BTreeSet<Platform>,
    /// Players that finished without failing, and those that failed.
    done: u64,
    failed: u64,
    /// New games stored by players that have finished.
    finished_new: u64,
    stored_rate: Rate,
}

/// A running player's line.
#[derive(Debug)]
struct Live {
    player: Player,
    since: Instant,
    progress: Progress,
    rate: Rate,
}

/// The recent rate of a growing count, from samples taken at each redraw.
#[derive(Debug)]
struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

/// What a player's line shows, from the widest to the narrowest terminal.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// `waiting 42s (rate limited)` rather than `waiting 42s`.
    long_state: bool,
    rate: bool,
    /// The bar's cells, when there is a bar.
    bar: Option<usize>,
    percent: bool,
    eta: bool,
}

impl Layout {
    const WIDEST: Layout = Layout {
        long_state: true,
        rate: true,
        bar: Some(BAR_CELLS),
        percent: true,
        eta: true,
    };

    /// The order in which a narrower terminal takes things away: the bar shrinks first (see
    /// [`Board::player_rows`]), then the state is said shorter, then the player's rate goes (the
    /// header has the run's), then the bar, the ETA and the percentage.
    fn widest_first() -> [Layout; 6] {
        let short = Layout {
            long_state: false,
            ..Self::WIDEST
        };
        let no_rate = Layout {
            rate: false,
            ..short
        };
        let no_bar = Layout {
            bar: None,
            ..no_rate
        };
        let no_eta = Layout {
            eta: false,
            ..no_bar
        };
        let bare = Layout {
            percent: false,
            ..no_eta
        };
        [Self::WIDEST, short, no_rate, no_bar, no_eta, bare]
    }
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
            platforms: BTreeSet::new(),
            done: 0,
            failed: 0,
            finished_new: 0,
            stored_rate: Rate::new(now),
        }
    }

    pub fn apply(&mut self, event: Event, now: Instant) {
        match event {
            Event::Queued { player } => {
                let seq = self.next_in_queue;
                self.next_in_queue += 1;
                self.platforms.insert(player.platform);
                self.queue.insert(seq, player.clone());
                self.queued_as.insert(player, seq);
            }
            Event::Started { player } => {
                self.dequeue(&player);
                self.platforms.insert(player.platform);
                self.running.push(Live {
                    player,
                    since: now,
                    progress: Progress::default(),
                    rate: Rate::new(now),
                });
            }
            Event::Total { ref player, .. }
            | Event::Fetched { ref player, .. }
            | Event::Stored { ref player, .. }
            | Event::Notice { ref player, .. } => {
                if let Some(live) = self.live(player) {
                    live.progress.apply(&event, now);
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
                if report.status == PlayerStatus::Failed {
                    self.failed += 1;
                } else {
                    self.done += 1;
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

    fn stored(&self) -> u64 {
        self.finished_new + self.running.iter().map(|l| l.progress.new).sum::<u64>()
    }

    /// The live area, each line at most `width` columns: the header, a line per running player,
    /// then the next few queued ones. Each call is also a sample for the rates.
    pub fn rows(&mut self, now: Instant, width: usize) -> Vec<String> {
        self.stored_rate.sample(now, self.stored());
        for live in &mut self.running {
            live.rate.sample(now, live.progress.games);
        }
        let shown_queue = self.queue.values().take(QUEUED_LINES);
        let names = self
            .running
            .iter()
            .map(|live| &live.player)
            .chain(shown_queue.clone())
            .map(|p| p.to_string().len())
            .max()
            .unwrap_or(0)
            .clamp(12, 40);
        let mut rows = Vec::with_capacity(self.running.len() + QUEUED_LINES + 2);
        rows.push(self.header(now, width));
        rows.extend(self.player_rows(now, names, width));
        rows.extend(shown_queue.map(|p| cut(format!("  {:names$}  queued", p.to_string()), width)));
        if self.queue.len() > QUEUED_LINES {
            let more = (self.queue.len() - QUEUED_LINES) as u64;
            rows.push(cut(format!("  … {} more queued", HumanCount(more)), width));
        }
        rows
    }

    /// `importing · lichess 1/1 · chesscom 2/4 · 5 queued · 3 done · 1 failed · 1,234 games
    /// stored · 56/s · 4m 05s`, shortened to fit: the word `importing` goes first, then `games`;
    /// then fields go from the end (the elapsed time first).
    fn header(&self, now: Instant, width: usize) -> String {
        let lanes = self.platforms.iter().map(|&platform| {
            let running = self
                .running
                .iter()
                .filter(|l| l.player.platform == platform);
            let limit = import::players_at_once(platform, self.jobs);
            format!("{platform} {}/{limit}", running.count())
        });
        let stored = self.stored();
        let mut fields: Vec<String> = lanes
            .chain([
                format!("{} queued", HumanCount(self.queue.len() as u64)),
                format!("{} done", HumanCount(self.done)),
                format!("{} failed", HumanCount(self.failed)),
                format!("{} games stored", HumanCount(stored)),
                format!("{}/s", HumanCount(self.stored_rate.per_second(now, stored))),
                compact_duration(now.saturating_duration_since(self.started)),
            ])
            .collect();
        let fits = |line: &str| measure_text_width(line) <= width;
        let line = format!("importing · {}", fields.join(" · "));
        if fits(&line) {
            return line;
        }
        let line = fields.join(" · ");
        if fits(&line) {
            return line;
        }
        let stored_at = fields.len() - 3;
        fields[stored_at] = format!("{} stored", HumanCount(stored));
        while fields.len() > 1 && !fits(&fields.join(" · ")) {
            fields.pop();
        }
        cut(fields.join(" · "), width)
    }

    /// The running players' lines, all in the widest [`Layout`] in which every one fits; a bar
    /// takes what room is left, up to [`BAR_CELLS`].
    fn player_rows(&self, now: Instant, names: usize, width: usize) -> Vec<String> {
        let render = |layout: Layout| -> Vec<String> {
            self.running
                .iter()
                .map(|live| live.row(now, names, layout))
                .collect()
        };
        let fits = |rows: &[String]| rows.iter().all(|row| measure_text_width(row) <= width);
        let mut rows = Vec::new();
        for layout in Layout::widest_first() {
            let layout = match layout.bar {
                Some(_) => {
                    let bare = render(Layout {
                        bar: Some(0),
                        ..layout
                    });
                    let widest = bare.iter().map(|row| measure_text_width(row)).max();
                    let cells = width.saturating_sub(widest.unwrap_or(0)).min(BAR_CELLS);
                    let barred = self.running.iter().any(|live| live.progress().is_some());
                    if barred && cells < MIN_BAR_CELLS {
                        continue;
                    }
                    Layout {
                        bar: Some(cells),
                        ..layout
                    }
                }
                None => layout,
            };
            rows = render(layout);
            if fits(&rows) {
                return rows;
            }
        }
        rows.into_iter().map(|row| cut(row, width)).collect()
    }
}

impl Live {
    fn row(&self, now: Instant, names: usize, layout: Layout) -> String {
        let progress = &self.progress;
        let state = match progress.activity {
            Activity::Waiting { until } if until > now && layout.long_state => {
                format!("waiting {} (rate limited)", seconds(until - now))
            }
            Activity::Waiting { until } if until > now => {
                format!("waiting {}", seconds(until - now))
            }
            Activity::Retrying { attempt, max } => format!("retrying {attempt}/{max}"),
            Activity::HostBusy if layout.long_state => "waiting for this host".to_string(),
            Activity::HostBusy => "waiting".to_string(),
            _ => progress.phase(now).as_str().to_string(),
        };
        // One column for the state, whichever it is, so that what follows does not jump about.
        let states = if layout.long_state { 26 } else { 12 };
        let mut row = format!(
            "  {:names$}  {state:states$}  {:>7} games",
            self.player.to_string(),
            HumanCount(progress.games).to_string(),
        );
        if layout.rate {
            let rate = format!(
                "{}/s",
                HumanCount(self.rate.per_second(now, progress.games))
            );
            row.push_str(&format!("  {rate:>7}"));
        }
        if let Some((done, total)) = self.progress() {
            let mut parts = Vec::new();
            if let Some(cells) = layout.bar {
                parts.push(bar(done, total, cells));
            }
            if layout.percent {
                parts.push(format!("{:>3}%", done * 100 / total));
            }
            if layout.eta {
                let elapsed = now.saturating_duration_since(self.since);
                parts.push(format!("eta {}", eta(done, total, elapsed)));
            }
            if !parts.is_empty() {
                row.push_str("  ");
                row.push_str(&parts.join(" "));
            }
        }
        row
    }

    /// Done of total, when the size is known: games against the profile's count (an estimate,
    /// so the bar stops at 100%), or Chess.com months.
    fn progress(&self) -> Option<(u64, u64)> {
        let progress = &self.progress;
        let (done, total) = match progress.total? {
            Total::Games(total) => (progress.games, total),
            Total::Months(total) => (progress.months, total),
        };
        (total > 0).then_some((done.min(total), total))
    }
}

impl Rate {
    fn new(now: Instant) -> Self {
        Rate {
            samples: VecDeque::from([(now, 0)]),
        }
    }

    /// Keeps `count` at `now`, and of the older samples only those the window still needs: the
    /// newest one at least [`RATE_WINDOW`] old is where the window starts.
    fn sample(&mut self, now: Instant, count: u64) {
        self.samples.push_back((now, count));
        while self
            .samples
            .get(1)
            .is_some_and(|&(at, _)| now.saturating_duration_since(at) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Per second from the window's start to `now`, when the count is `count`.
    fn per_second(&self, now: Instant, count: u64) -> u64 {
        let Some(&(since, then)) = self.samples.front() else {
            return 0;
        };
        let seconds = now.saturating_duration_since(since).as_secs_f64();
        if seconds < 0.001 {
            return 0;
        }
        (count.saturating_sub(then) as f64 / seconds).round() as u64
    }
}

/// `[=========>          ]`: done of total in `cells`.
fn bar(done: u64, total: u64, cells: usize) -> String {
    let filled = (done * cells as u64 / total) as usize;
    let mut bar = "=".repeat(filled);
    if filled < cells {
        bar.push(if done > 0 { '>' } else { ' ' });
    }
    format!("[{bar:cells$}]")
}

/// The time left at the pace so far, or `?` before anything is done.
fn eta(done: u64, total: u64, elapsed: Duration) -> String {
    if done == 0 {
        return "?".to_string();
    }
    compact_duration(elapsed.mul_f64((total - done) as f64 / done as f64))
}

/// `line`, cut with `…` when it is wider than `width`.
fn cut(line: String, width: usize) -> String {
    match truncate_str(&line, width, "…") {
        std::borrow::Cow::Borrowed(_) => line,
        cut => cut.into_owned(),
    }
}

/// `42s`, rounded up, so that a wait never shows `0s` while it lasts.
pub(super) fn seconds(wait: Duration) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::testing::{player, report};
    use super::*;
    use crate::http::Notice;

    const WIDE: usize = 200;

    fn apply_all(board: &mut Board, events: impl IntoIterator<Item = Event>, now: Instant) {
        for event in events {
            board.apply(event, now);
        }
    }

    fn started(spec: &str) -> [Event; 2] {
        [
            Event::Queued {
                player: player(spec),
            },
            Event::Started {
                player: player(spec),
            },
        ]
    }

    fn fetched(spec: &str, games: u64, months: u64) -> Event {
        Event::Fetched {
            player: player(spec),
            games,
            months,
        }
    }

    fn total(spec: &str, total: Total) -> Event {
        Event::Total {
            player: player(spec),
            total,
        }
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
    fn bars_never_pass_their_total() {
        let second = Duration::from_secs(1);
        assert_eq!(bar(0, 10, 20), "[                    ]");
        assert_eq!(bar(5, 10, 20), "[==========>         ]");
        assert_eq!(bar(10, 10, 20), "[====================]");
        assert_eq!(bar(5, 10, 8), "[====>   ]");
        assert_eq!(eta(0, 10, second), "?");
        assert_eq!(eta(5, 10, second * 10), "10s");
        assert_eq!(eta(10, 10, second), "0s");
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
        let rows = board.rows(start + Duration::from_secs(2), WIDE);
        assert_eq!(rows.len(), 1 + 1 + QUEUED_LINES + 1, "{rows:#?}");
        assert!(
            rows[0].starts_with("importing · chesscom 1/2 · 249 queued · 0 done"),
            "{}",
            rows[0]
        );
        assert!(rows[2].contains("chesscom:player1") && rows[2].ends_with("queued"));
        assert_eq!(rows[5], "  … 246 more queued");
    }

    #[test]
    fn a_running_player_shows_state_rate_and_bar() {
        let start = Instant::now();
        let alice = || player("lichess:alice");
        let mut board = Board::new(4, start);
        apply_all(&mut board, started("lichess:alice"), start);
        apply_all(
            &mut board,
            [
                total("lichess:alice", Total::Games(200)),
                fetched("lichess:alice", 100, 0),
            ],
            start,
        );
        let at = start + Duration::from_secs(10);
        assert_eq!(
            board.rows(at, WIDE)[1],
            "  lichess:alice  writing                         100 games     10/s  \
             [==========>         ]  50% eta 10s"
        );
        board.apply(
            Event::Stored {
                player: alice(),
                new: 90,
                duplicate: 10,
                updated: 0,
                invalid: 0,
            },
            at,
        );
        let rows = board.rows(at, WIDE);
        assert!(rows[1].contains("fetching"));
        assert_eq!(
            rows[0],
            "importing · lichess 1/1 · 0 queued · 0 done · 0 failed · 90 games stored · 9/s · 10s"
        );
        board.apply(
            Event::Notice {
                player: alice(),
                notice: Notice::Waiting(Duration::from_secs(42)),
            },
            at,
        );
        assert!(board.rows(at, WIDE)[1].contains("waiting 42s (rate limited)"));
        // Once the pause is over, the line goes back to what the player does.
        assert!(board.rows(at + Duration::from_secs(43), WIDE)[1].contains("fetching"));
        board.apply(
            Event::Notice {
                player: alice(),
                notice: Notice::Retrying {
                    attempt: 2,
                    max: 5,
                    error: "HTTP 503".into(),
                },
            },
            at,
        );
        assert!(board.rows(at, WIDE)[1].contains("retrying 2/5"));
        // More games than the profile's estimate still show a full bar, never more.
        board.apply(fetched("lichess:alice", 250, 0), at);
        assert!(board.rows(at, WIDE)[1].contains("100% eta 0s"));
        let mut done = report("lichess:alice", PlayerStatus::Ok, None);
        done.new_games = 240;
        board.apply(Event::Finished { report: done }, at);
        let rows = board.rows(at, WIDE);
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].contains("lichess 0/1 · 0 queued · 1 done · 0 failed · 240 games"),
            "{}",
            rows[0]
        );
    }

    #[test]
    fn the_header_counts_players_per_provider_against_its_limit_and_failures_apart() {
        let start = Instant::now();
        let mut board = Board::new(4, start);
        for spec in [
            "lichess:alice",
            "lichess:carol",
            "chesscom:bob",
            "chesscom:dave",
        ] {
            board.apply(
                Event::Queued {
                    player: player(spec),
                },
                start,
            );
        }
        for spec in ["lichess:alice", "chesscom:bob", "chesscom:dave"] {
            board.apply(
                Event::Started {
                    player: player(spec),
                },
                start,
            );
        }
        let failed = report(
            "chesscom:dave",
            PlayerStatus::Failed,
            Some("user not found"),
        );
        board.apply(Event::Finished { report: failed }, start);
        assert!(
            board.rows(start, WIDE)[0].starts_with(
                "importing · lichess 1/1 · chesscom 1/4 · 1 queued · 0 done · 1 failed · "
            ),
            "{:?}",
            board.rows(start, WIDE)
        );
        // With --jobs 1, Lichess's limit is the run's.
        let mut single = Board::new(1, start);
        apply_all(&mut single, started("lichess:alice"), start);
        assert!(single.rows(start, WIDE)[0].starts_with("importing · lichess 1/1 · 0 queued"));
    }

    #[test]
    fn rates_are_over_the_last_seconds_not_since_the_start() {
        let start = Instant::now();
        let mut board = Board::new(2, start);
        apply_all(&mut board, started("chesscom:bob"), start);
        let second = Duration::from_secs(1);
        // 1,000 games in the first ten seconds, then a long pause.
        for s in 1..=10 {
            board.apply(
                fetched("chesscom:bob", s * 100, 0),
                start + second * s as u32,
            );
            board.apply(
                Event::Stored {
                    player: player("chesscom:bob"),
                    new: s * 100,
                    duplicate: 0,
                    updated: 0,
                    invalid: 0,
                },
                start + second * s as u32,
            );
            board.rows(start + second * s as u32, WIDE);
        }
        let rows = board.rows(start + second * 10, WIDE);
        assert!(
            rows[0].contains(" · 1,000 games stored · 100/s · "),
            "{}",
            rows[0]
        );
        assert!(rows[1].contains("1,000 games    100/s"), "{}", rows[1]);
        for s in 11..=25 {
            board.rows(start + second * s, WIDE);
        }
        let rows = board.rows(start + second * 25, WIDE);
        // An average since the start would still say 40/s.
        assert!(
            rows[0].contains(" · 1,000 games stored · 0/s · 25s"),
            "{}",
            rows[0]
        );
        assert!(rows[1].contains("1,000 games      0/s"), "{}", rows[1]);
    }

    /// Four players in every state, one with a long name, and more queued.
    fn busy_board(start: Instant) -> Board {
        let mut board = Board::new(4, start);
        apply_all(&mut board, started("lichess:alice"), start);
        apply_all(&mut board, started("chesscom:bob"), start);
        apply_all(&mut board, started("chesscom:someone_long_name"), start);
        apply_all(&mut board, started("chesscom:dave"), start);
        for i in 0..5 {
            board.apply(
                Event::Queued {
                    player: player(&format!("lichess:queued{i}")),
                },
                start,
            );
        }
        apply_all(
            &mut board,
            [
                total("lichess:alice", Total::Games(12_000)),
                fetched("lichess:alice", 4_321, 0),
                Event::Notice {
                    player: player("lichess:alice"),
                    notice: Notice::Waiting(Duration::from_secs(120)),
                },
                total("chesscom:bob", Total::Months(120)),
                fetched("chesscom:bob", 1_234, 30),
                Event::Notice {
                    player: player("chesscom:someone_long_name"),
                    notice: Notice::Retrying {
                        attempt: 2,
                        max: 5,
                        error: "HTTP 503".into(),
                    },
                },
                total("chesscom:dave", Total::Months(7)),
                fetched("chesscom:dave", 12, 7),
            ],
            start,
        );
        board
    }

    fn widest(rows: &[String]) -> usize {
        rows.iter()
            .map(|row| measure_text_width(row))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn at_200_columns_every_field_is_shown() {
        let start = Instant::now();
        let mut board = busy_board(start);
        let rows = board.rows(start + Duration::from_secs(65), 200);
        assert_eq!(
            rows,
            [
                "importing · lichess 1/1 · chesscom 3/4 · 5 queued · 0 done · 0 failed · \
                 0 games stored · 0/s · 1m 05s",
                "  lichess:alice               waiting 55s (rate limited)    4,321 games     66/s  \
                 [=======>            ]  36% eta 1m 55s",
                "  chesscom:bob                writing                       1,234 games     19/s  \
                 [=====>              ]  25% eta 3m 15s",
                "  chesscom:someone_long_name  retrying 2/5                      0 games      0/s",
                "  chesscom:dave               writing                          12 games      0/s  \
                 [====================] 100% eta 0s",
                "  lichess:queued0             queued",
                "  lichess:queued1             queued",
                "  lichess:queued2             queued",
                "  … 2 more queued",
            ]
        );
    }

    #[test]
    fn at_80_columns_the_least_useful_fields_go_first_and_nothing_wraps() {
        let start = Instant::now();
        let mut board = busy_board(start);
        let gone = report("chesscom:someone_long_name", PlayerStatus::Failed, None);
        board.apply(Event::Finished { report: gone }, start);
        let at = start + Duration::from_secs(65);
        // The header loses `importing`, then `games`, then its last fields; a player's line
        // says its state shorter and loses its rate, and the bar takes the room left.
        assert_eq!(
            board.rows(at, 80)[..4],
            [
                "lichess 1/1 · chesscom 2/4 · 5 queued · 0 done · 1 failed · 0 stored · 0/s",
                "  lichess:alice    waiting 55s     4,321 games  [=====>        ]  36% eta 1m 55s",
                "  chesscom:bob     writing         1,234 games  [===>          ]  25% eta 3m 15s",
                "  chesscom:dave    writing            12 games  [==============] 100% eta 0s",
            ]
        );
        // Narrower, the bar goes, then the ETA; the percentage stays longest.
        assert_eq!(
            board.rows(at, 60)[..2],
            [
                "lichess 1/1 · chesscom 2/4 · 5 queued · 0 done · 1 failed",
                "  lichess:alice    waiting 55s     4,321 games   36%",
            ]
        );
        // A long name takes the room of the bar.
        let mut board = busy_board(start);
        let rows = board.rows(at, 80);
        assert_eq!(
            rows[1],
            "  lichess:alice               waiting 55s     4,321 games   36% eta 1m 55s"
        );
        // Lines are cut only when even the names and states do not fit.
        for width in [80, 50, 30, 1] {
            let rows = board.rows(at, width);
            assert!(widest(&rows) <= width, "{width}: {rows:#?}");
        }
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
        assert_eq!(board.rows(start, WIDE).len(), 1);
    }
}
