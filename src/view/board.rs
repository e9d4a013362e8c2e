//! The live area as a plain model: fed with events and the current time, it computes every line
//! the bars show, so that each can be unit-tested without a terminal.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use indicatif::HumanCount;

use crate::http::Notice;
use crate::import::Event;
use crate::player::Player;
use crate::providers::Total;
use crate::report::PlayerStatus;

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
                HumanCount((self.queue.len() - QUEUED_LINES) as u64)
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
            HumanCount(self.queue.len() as u64),
            HumanCount(self.done),
            HumanCount(self.failed),
            HumanCount(stored),
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
            HumanCount(self.games).to_string(),
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
    format!("{}/s", HumanCount((count as f64 / seconds).round() as u64))
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
}
