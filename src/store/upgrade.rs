//! What schema version 2 fills in for the games stored before it: every column the game's own
//! PGN can tell (the final position from a replay, the end from `EndDate`/`EndTime`, Chess.com's
//! opening from its `ECOUrl` and its live/daily from `Link`, rating changes, titles, the event
//! page), read with the same [`pgn::complete`] a new game goes through. What only a provider's
//! JSON knows (accuracies, Lichess's analysis and end) stays NULL; `--refresh-analysis` is how
//! those arrive.
//!
//! It runs inside the migration's transaction, in pages of [`PAGE`] games in key order, so that
//! a database of any size is upgraded in bounded memory and an interrupted upgrade leaves
//! version 1 as it was.

use tokio_postgres::types::{ToSql, Type};

use crate::game::GameRecord;
use crate::pgn;
use crate::player::Platform;

/// The migration after which the backfill runs: the one that adds its columns.
pub(crate) const BACKFILLED_BY: i64 = 2;

/// How many games are read, derived and written back at a time.
const PAGE: usize = 500;

/// The columns the backfill sets, in the order [`derive`] gives their values.
const FILLED: [&str; 9] = [
    "final_fen",
    "ended_at",
    "opening",
    "source",
    "white_rating_diff",
    "black_rating_diff",
    "white_title",
    "black_title",
    "event_url",
];

/// A stored game as the backfill reads it: its key, its rules and its PGN.
struct Stored {
    platform: String,
    game_id: String,
    variant: Option<String>,
    opening: Option<String>,
    pgn: String,
}

/// What the PGN of `stored` says of the columns [`FILLED`] names. An opening already stored
/// (Lichess's, from its JSON) is kept.
fn derive(stored: Stored) -> Derived {
    // What a PGN tells does not depend on the platform, which the record only carries: a row
    // whose platform was written by hand as something else is read all the same.
    let platform = stored.platform.parse().unwrap_or(Platform::Lichess);
    let mut record = GameRecord::new(platform, stored.game_id, stored.pgn);
    record.variant = stored.variant;
    record.opening = stored.opening;
    pgn::complete(&mut record);
    Derived {
        platform: stored.platform,
        game_id: record.game_id,
        final_fen: record.final_fen,
        ended_at: record.ended_at,
        opening: record.opening,
        source: record.source,
        white_rating_diff: record.white_rating_diff,
        black_rating_diff: record.black_rating_diff,
        white_title: record.white_title,
        black_title: record.black_title,
        event_url: record.event_url,
    }
}

struct Derived {
    platform: String,
    game_id: String,
    final_fen: Option<String>,
    ended_at: Option<i64>,
    opening: Option<String>,
    source: Option<String>,
    white_rating_diff: Option<i32>,
    black_rating_diff: Option<i32>,
    white_title: Option<String>,
    black_title: Option<String>,
    event_url: Option<String>,
}

/// `final_fen = <placeholder 0>, ended_at = <placeholder 1>, ...`: what an `UPDATE` sets.
fn assignments(placeholder: impl Fn(usize) -> String) -> String {
    FILLED
        .iter()
        .enumerate()
        .map(|(index, column)| format!("{column} = {}", placeholder(index)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills the version-2 columns of every game in an SQLite database, in `tx`. Returns how many
/// games it read.
pub(crate) fn sqlite(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<u64> {
    let mut read = tx.prepare(&format!(
        "SELECT platform, game_id, variant, opening, pgn FROM games
         WHERE (platform, game_id) > (?1, ?2) ORDER BY platform, game_id LIMIT {PAGE}"
    ))?;
    let sql = format!(
        "UPDATE games SET {} WHERE platform = ?{} AND game_id = ?{}",
        assignments(|index| format!("?{}", index + 1)),
        FILLED.len() + 1,
        FILLED.len() + 2
    );
    let mut write = tx.prepare(&sql)?;
    let (mut after_platform, mut after_id) = (String::new(), String::new());
    let mut games = 0;
    loop {
        let page = read
            .query_map([&after_platform, &after_id], |row| {
                Ok(Stored {
                    platform: row.get(0)?,
                    game_id: row.get(1)?,
                    variant: row.get(2)?,
                    opening: row.get(3)?,
                    pgn: row.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let Some(last) = page.last() else {
            return Ok(games);
        };
        (after_platform, after_id) = (last.platform.clone(), last.game_id.clone());
        for stored in page {
            let d = derive(stored);
            write.execute(rusqlite::params![
                d.final_fen,
                d.ended_at,
                d.opening,
                d.source,
                d.white_rating_diff,
                d.black_rating_diff,
                d.white_title,
                d.black_title,
                d.event_url,
                d.platform,
                d.game_id,
            ])?;
            games += 1;
        }
    }
}

/// Fills the version-2 columns of every game in a PostgreSQL database, in `tx`: a page is read,
/// then written back by one `UPDATE ... FROM unnest(...)`. Returns how many games it read.
pub(crate) async fn postgres(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let read = format!(
        "SELECT platform, game_id, variant, opening, pgn FROM games
         WHERE (platform, game_id) > ($1, $2) ORDER BY platform, game_id LIMIT {PAGE}"
    );
    let types = [
        "text", "bigint", "text", "text", "integer", "integer", "text", "text", "text",
    ];
    let columns: Vec<String> = FILLED
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (_, ty))| format!("${}::{ty}[]", index + 1))
        .collect();
    let write = format!(
        "UPDATE games SET {}
         FROM unnest({}, ${}::text[], ${}::text[]) AS page ({}, key_platform, key_id)
         WHERE games.platform = page.key_platform AND games.game_id = page.key_id",
        assignments(|index| format!("page.{}", FILLED[index])),
        columns.join(", "),
        FILLED.len() + 1,
        FILLED.len() + 2,
        FILLED.join(", ")
    );
    let (mut after_platform, mut after_id) = (String::new(), String::new());
    let mut games = 0;
    loop {
        // Typed and unnamed: no statement outlives its use, as a transaction pooler needs.
        let key: [(&(dyn ToSql + Sync), Type); 2] =
            [(&after_platform, Type::TEXT), (&after_id, Type::TEXT)];
        let rows = tx.query_typed(&read, &key).await?;
        let Some(last) = rows.last() else {
            return Ok(games);
        };
        (after_platform, after_id) = (last.try_get(0)?, last.try_get(1)?);
        let mut page = Page::default();
        for row in &rows {
            page.push(derive(Stored {
                platform: row.try_get(0)?,
                game_id: row.try_get(1)?,
                variant: row.try_get(2)?,
                opening: row.try_get(3)?,
                pgn: row.try_get(4)?,
            }));
        }
        let params: [(&(dyn ToSql + Sync), Type); 11] = [
            (&page.final_fen, Type::TEXT_ARRAY),
            (&page.ended_at, Type::INT8_ARRAY),
            (&page.opening, Type::TEXT_ARRAY),
            (&page.source, Type::TEXT_ARRAY),
            (&page.white_rating_diff, Type::INT4_ARRAY),
            (&page.black_rating_diff, Type::INT4_ARRAY),
            (&page.white_title, Type::TEXT_ARRAY),
            (&page.black_title, Type::TEXT_ARRAY),
            (&page.event_url, Type::TEXT_ARRAY),
            (&page.platform, Type::TEXT_ARRAY),
            (&page.game_id, Type::TEXT_ARRAY),
        ];
        tx.execute_typed(&write, &params).await?;
        games += rows.len() as u64;
    }
}

/// A page of derived games, a column at a time, for `unnest`.
#[derive(Default)]
struct Page {
    platform: Vec<String>,
    game_id: Vec<String>,
    final_fen: Vec<Option<String>>,
    ended_at: Vec<Option<i64>>,
    opening: Vec<Option<String>>,
    source: Vec<Option<String>>,
    white_rating_diff: Vec<Option<i32>>,
    black_rating_diff: Vec<Option<i32>>,
    white_title: Vec<Option<String>>,
    black_title: Vec<Option<String>>,
    event_url: Vec<Option<String>>,
}

impl Page {
    fn push(&mut self, d: Derived) {
        self.platform.push(d.platform);
        self.game_id.push(d.game_id);
        self.final_fen.push(d.final_fen);
        self.ended_at.push(d.ended_at);
        self.opening.push(d.opening);
        self.source.push(d.source);
        self.white_rating_diff.push(d.white_rating_diff);
        self.black_rating_diff.push(d.black_rating_diff);
        self.white_title.push(d.white_title);
        self.black_title.push(d.black_title);
        self.event_url.push(d.event_url);
    }
}
