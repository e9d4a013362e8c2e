//! A running player's progress as its events tell it: what the terminal's bars draw and what a
//! worker writes into the player's job row, from one reading of the events.

use std::time::Instant;

use crate::http::Notice;
use crate::import::Event;
use crate::providers::Total;

/// How far a running player has got.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Games handed to the writer so far.
    pub games: u64,
    /// Games the writer has stored (new, duplicate or updated); fewer than `games` while it
    /// writes.
    pub written: u64,
    pub new: u64,
    /// Chess.com months done.
    pub months: u64,
    pub total: Option<Total>,
    pub activity: Activity,
}

/// What a running player is doing besides fetching, as its last notice said.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activity {
    Fetching,
    Waiting {
        until: Instant,
    },
    Retrying {
        attempt: u32,
        max: u32,
    },
    /// Another process of this host holds the provider's lane.
    HostBusy,
}

/// What a running player is doing, in one word: the `phase` of its job row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Fetching,
    /// Fetched games are waiting for the writer.
    Writing,
    /// For a rate limit, or for the provider's lane held by another process of this host.
    Waiting,
    /// A request is tried again after an error.
    Retrying,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Fetching => "fetching",
            Phase::Writing => "writing",
            Phase::Waiting => "waiting",
            Phase::Retrying => "retrying",
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            games: 0,
            written: 0,
            new: 0,
            months: 0,
            total: None,
            activity: Activity::Fetching,
        }
    }
}

impl Progress {
    /// Takes in what `event` says of the player, at `now`; events of other kinds change nothing.
    pub fn apply(&mut self, event: &Event, now: Instant) {
        match *event {
            Event::Total { total, .. } => self.total = Some(total),
            Event::Fetched { games, months, .. } => {
                self.games = games;
                self.months = months;
                // New games mean the request that was retried or waited for got through.
                self.activity = Activity::Fetching;
            }
            Event::Stored {
                new,
                duplicate,
                updated,
                ..
            } => {
                self.new = new;
                self.written = new + duplicate + updated;
            }
            Event::Notice { ref notice, .. } => {
                self.activity = match *notice {
                    Notice::Waiting(wait) => Activity::Waiting { until: now + wait },
                    Notice::Retrying { attempt, max, .. } => Activity::Retrying { attempt, max },
                    Notice::HostBusy => Activity::HostBusy,
                };
            }
            Event::Queued { .. } | Event::Started { .. } | Event::Finished { .. } => {}
        }
    }

    /// What the player is doing at `now`: a wait that has run out is over.
    pub fn phase(&self, now: Instant) -> Phase {
        match self.activity {
            Activity::Waiting { until } if until > now => Phase::Waiting,
            Activity::HostBusy => Phase::Waiting,
            Activity::Retrying { .. } => Phase::Retrying,
            _ if self.written < self.games => Phase::Writing,
            _ => Phase::Fetching,
        }
    }

    /// The player's estimated game count, when its provider gave one (Lichess's profile
    /// counter; Chess.com counts months, not games).
    pub fn games_total(&self) -> Option<u64> {
        match self.total? {
            Total::Games(total) => Some(total),
            Total::Months(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::player::Player;

    fn player() -> Player {
        "lichess:alice".parse().unwrap()
    }

    #[test]
    fn the_phase_follows_the_last_events() {
        let now = Instant::now();
        let mut progress = Progress::default();
        assert_eq!(progress.phase(now), Phase::Fetching);
        let fetched = Event::Fetched {
            player: player(),
            games: 10,
            months: 0,
        };
        progress.apply(&fetched, now);
        assert_eq!(progress.phase(now), Phase::Writing);
        let stored = Event::Stored {
            player: player(),
            new: 7,
            duplicate: 2,
            updated: 1,
            invalid: 0,
        };
        progress.apply(&stored, now);
        assert_eq!(progress.phase(now), Phase::Fetching);
        let waiting = Event::Notice {
            player: player(),
            notice: Notice::Waiting(Duration::from_secs(60)),
        };
        progress.apply(&waiting, now);
        assert_eq!(progress.phase(now), Phase::Waiting);
        assert_eq!(
            progress.phase(now + Duration::from_secs(61)),
            Phase::Fetching
        );
        let retrying = Event::Notice {
            player: player(),
            notice: Notice::Retrying {
                attempt: 2,
                max: 5,
                error: "timed out".into(),
            },
        };
        progress.apply(&retrying, now);
        assert_eq!(progress.phase(now).as_str(), "retrying");
        progress.apply(&fetched, now);
        assert_eq!(progress.phase(now), Phase::Fetching);
    }

    #[test]
    fn only_a_game_count_is_a_games_total() {
        let mut progress = Progress::default();
        assert_eq!(progress.games_total(), None);
        progress.total = Some(Total::Months(12));
        assert_eq!(progress.games_total(), None);
        progress.total = Some(Total::Games(1234));
        assert_eq!(progress.games_total(), Some(1234));
    }
}
