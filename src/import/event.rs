//! What the importer tells whoever draws its progress: one event per step of a player.

use crate::http::Notice;
use crate::player::Player;
use crate::providers::Total;
use crate::report::PlayerReport;

/// What the importer tells whoever draws its progress.
#[derive(Clone, Debug)]
pub enum Event {
    Queued {
        player: Player,
    },
    Started {
        player: Player,
    },
    Total {
        player: Player,
        total: Total,
    },
    /// Games fetched so far, and Chess.com months done.
    Fetched {
        player: Player,
        games: u64,
        months: u64,
    },
    /// Running totals of what the store did with them.
    Stored {
        player: Player,
        new: u64,
        duplicate: u64,
        /// Stored games brought up to date (`--refresh-analysis`).
        updated: u64,
        invalid: u64,
    },
    Notice {
        player: Player,
        notice: Notice,
    },
    Finished {
        report: PlayerReport,
    },
}
