//! Where a player's import resumes: the cursors and validators a provider starts from and hands
//! back with the games that prove them. Plain data that both the providers and the stores use, so
//! that neither has to know the other.

use std::collections::HashMap;

/// What the previous runs left for a player's next import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResumePoint {
    /// Lichess: `createdAt` (unix ms) of the newest game stored without a gap before it.
    pub last_created_at: Option<i64>,
    /// Lichess: the ids of the player's stored games that started at `last_created_at`, so
    /// that a resume can ask from that millisecond again and skip only them. Empty when not
    /// known; the resume then starts a millisecond later.
    pub boundary: Vec<String>,
    /// Chess.com: the newest archive month (`YYYY/MM`) stored completely without a gap before it.
    pub last_month: Option<String>,
    /// Chess.com: the validators of each month stored completely, by month, to ask for it again
    /// conditionally.
    pub months: HashMap<String, MonthValidator>,
    /// Lichess: games seen still in progress, to fetch by id once they have finished (their
    /// `createdAt` is behind the cursor, so the export will not serve them again).
    pub ongoing: Vec<String>,
}

impl ResumePoint {
    /// Where a rescan starts: nowhere, so that it asks its whole window again, months and games
    /// behind the cursors included, and unconditionally (a month unchanged at the provider may
    /// still have lost rows here). Only the remembered in-progress games are kept, to be asked
    /// as the import would. The stores only ever move a cursor forward, so starting from
    /// nothing cannot move one back.
    pub fn for_rescan(self) -> Self {
        ResumePoint {
            ongoing: self.ongoing,
            ..ResumePoint::default()
        }
    }
}

/// How far a player's games are stored without a gap, saved with the games that prove it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    CreatedAt(i64),
    Month(String),
}

/// The validators of a Chess.com month that was stored completely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthValidator {
    pub month: String,
    pub etag: String,
    /// Kept verbatim: Chess.com's `Last-Modified` is not an RFC date.
    pub last_modified: Option<String>,
}
