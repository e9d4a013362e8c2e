//! The schema users query directly (see the README's schema sections), for both databases.
//!
//! The `games` columns are one table, [`GAME_COLUMNS`]: both stores' DDL, the PostgreSQL staging
//! table and its `COPY`, both `INSERT`s and the SQLite store's parameters are built from it, so
//! that a new column is one entry here, with the field of [`GameRecord`] it stores. The other
//! tables are few, rarely change and differ per dialect (`WITHOUT ROWID`, the job queue), so they
//! are written out.
//!
//! A migration, once released, must produce the same schema forever: a column added later says
//! so with [`Column::since`], and comes as an `ALTER TABLE` in that version's migration, while
//! the first migration keeps creating the table exactly as it always did.

use std::sync::LazyLock;

use tokio_postgres::types::Type;

use super::View;
use crate::game::GameRecord;

/// What a column holds, and so its type in each database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    /// A 32-bit number: a rating, the ply count.
    Integer,
    /// A 64-bit number: unix milliseconds.
    BigInt,
    /// SQLite keeps it as 0 or 1.
    Boolean,
    /// A fraction: an accuracy.
    Real,
}

impl Kind {
    pub(crate) fn sqlite(self) -> &'static str {
        match self {
            Kind::Text => "TEXT",
            Kind::Integer | Kind::BigInt | Kind::Boolean => "INTEGER",
            Kind::Real => "REAL",
        }
    }

    /// The type's name in PostgreSQL, as `information_schema.columns` spells it.
    pub(crate) fn postgres(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Integer => "integer",
            Kind::BigInt => "bigint",
            Kind::Boolean => "boolean",
            Kind::Real => "double precision",
        }
    }

    /// The type a binary `COPY` sends it as.
    pub(crate) fn copy_type(self) -> Type {
        match self {
            Kind::Text => Type::TEXT,
            Kind::Integer => Type::INT4,
            Kind::BigInt => Type::INT8,
            Kind::Boolean => Type::BOOL,
            Kind::Real => Type::FLOAT8,
        }
    }
}

/// A column's value, as either store binds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
}

/// Where a column's value comes from.
#[derive(Clone, Copy)]
pub(crate) enum Fill {
    /// The platform of the batch's player: half of the key.
    Platform,
    /// When the row is written: the SQLite store's clock, the PostgreSQL server's.
    ImportedAt,
    /// A field of the game.
    Game(for<'a> fn(&'a GameRecord) -> Cell<'a>),
}

/// One column of `games`.
#[derive(Clone, Copy)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) not_null: bool,
    /// The schema version that added the column. One added after the first must allow NULL:
    /// the rows already stored have no value for it.
    pub(crate) since: i64,
    pub(crate) fill: Fill,
}

impl Column {
    const fn new(name: &'static str, kind: Kind, fill: Fill) -> Self {
        Column {
            name,
            kind,
            not_null: false,
            since: 1,
            fill,
        }
    }

    /// A column that stores a field of the game.
    const fn game(
        name: &'static str,
        kind: Kind,
        value: for<'a> fn(&'a GameRecord) -> Cell<'a>,
    ) -> Self {
        Column::new(name, kind, Fill::Game(value))
    }

    const fn not_null(self) -> Self {
        Column {
            not_null: true,
            ..self
        }
    }

    /// A column added by migration `version`.
    const fn since(self, version: i64) -> Self {
        Column {
            since: version,
            ..self
        }
    }
}

/// A count or a ply number, as a column holds it.
fn count(value: Option<u32>) -> Cell<'static> {
    Cell::Int(value.map(i64::from))
}

fn rating(value: Option<i32>) -> Cell<'static> {
    Cell::Int(value.map(i64::from))
}

/// The columns of `games`, in table order; `(platform, game_id)` is the key.
#[rustfmt::skip]
pub(crate) const GAME_COLUMNS: &[Column] = &[
    Column::new( "platform",     Kind::Text,    Fill::Platform).not_null(),
    Column::game("game_id",      Kind::Text,    |g| Cell::Text(Some(&g.game_id))).not_null(),
    Column::game("url",          Kind::Text,    |g| Cell::Text(g.url.as_deref())),
    Column::game("white",        Kind::Text,    |g| Cell::Text(g.white.as_deref())),
    Column::game("black",        Kind::Text,    |g| Cell::Text(g.black.as_deref())),
    Column::game("white_elo",    Kind::Integer, |g| Cell::Int(g.white_elo.map(i64::from))),
    Column::game("black_elo",    Kind::Integer, |g| Cell::Int(g.black_elo.map(i64::from))),
    Column::game("result",       Kind::Text,    |g| Cell::Text(g.result.as_deref())),
    Column::game("termination",  Kind::Text,    |g| Cell::Text(g.termination.as_deref())),
    Column::game("variant",      Kind::Text,    |g| Cell::Text(g.variant.as_deref())),
    Column::game("time_control", Kind::Text,    |g| Cell::Text(g.time_control.as_deref())),
    Column::game("speed",        Kind::Text,    |g| Cell::Text(g.speed.as_deref())),
    Column::game("rated",        Kind::Boolean, |g| Cell::Bool(g.rated)),
    Column::game("eco",          Kind::Text,    |g| Cell::Text(g.eco.as_deref())),
    Column::game("opening",      Kind::Text,    |g| Cell::Text(g.opening.as_deref())),
    Column::game("played_at",    Kind::BigInt,  |g| Cell::Int(g.played_at)),
    Column::game("ply_count",    Kind::Integer, |g| Cell::Int(g.ply_count.map(i64::from))),
    Column::game("valid",        Kind::Boolean, |g| Cell::Bool(Some(g.valid))).not_null(),
    Column::game("pgn",          Kind::Text,    |g| Cell::Text(Some(&g.pgn))).not_null(),
    Column::new( "imported_at",  Kind::BigInt,  Fill::ImportedAt).not_null(),
    Column::game("ended_at",           Kind::BigInt,  |g| Cell::Int(g.ended_at)).since(2),
    Column::game("white_rating_diff",  Kind::Integer, |g| rating(g.white_rating_diff)).since(2),
    Column::game("black_rating_diff",  Kind::Integer, |g| rating(g.black_rating_diff)).since(2),
    Column::game("white_accuracy",     Kind::Real,    |g| Cell::Real(g.white_analysis.accuracy)).since(2),
    Column::game("black_accuracy",     Kind::Real,    |g| Cell::Real(g.black_analysis.accuracy)).since(2),
    Column::game("white_acpl",         Kind::Integer, |g| count(g.white_analysis.acpl)).since(2),
    Column::game("black_acpl",         Kind::Integer, |g| count(g.black_analysis.acpl)).since(2),
    Column::game("white_inaccuracies", Kind::Integer, |g| count(g.white_analysis.inaccuracies)).since(2),
    Column::game("white_mistakes",     Kind::Integer, |g| count(g.white_analysis.mistakes)).since(2),
    Column::game("white_blunders",     Kind::Integer, |g| count(g.white_analysis.blunders)).since(2),
    Column::game("black_inaccuracies", Kind::Integer, |g| count(g.black_analysis.inaccuracies)).since(2),
    Column::game("black_mistakes",     Kind::Integer, |g| count(g.black_analysis.mistakes)).since(2),
    Column::game("black_blunders",     Kind::Integer, |g| count(g.black_analysis.blunders)).since(2),
    Column::game("middlegame_ply",     Kind::Integer, |g| count(g.middlegame_ply)).since(2),
    Column::game("endgame_ply",        Kind::Integer, |g| count(g.endgame_ply)).since(2),
    Column::game("source",             Kind::Text,    |g| Cell::Text(g.source.as_deref())).since(2),
    Column::game("event_url",          Kind::Text,    |g| Cell::Text(g.event_url.as_deref())).since(2),
    Column::game("final_fen",          Kind::Text,    |g| Cell::Text(g.final_fen.as_deref())).since(2),
    Column::game("white_title",        Kind::Text,    |g| Cell::Text(g.white_title.as_deref())).since(2),
    Column::game("black_title",        Kind::Text,    |g| Cell::Text(g.black_title.as_deref())).since(2),
];

/// The schema version this build writes: the newest column's.
pub(crate) const VERSION: i64 = {
    let mut version = 1;
    let mut index = 0;
    while index < GAME_COLUMNS.len() {
        if GAME_COLUMNS[index].since > version {
            version = GAME_COLUMNS[index].since;
        }
        index += 1;
    }
    version
};

/// The names of `columns`, comma-separated, for a column list.
pub(crate) fn names<'a>(columns: impl IntoIterator<Item = &'a Column>) -> String {
    let names: Vec<&str> = columns.into_iter().map(|column| column.name).collect();
    names.join(", ")
}

/// How an update of a stored game (`import --refresh-analysis`) writes the columns, in SQL both
/// databases speak, given how the statement names each column's new value (`value`).
///
/// It writes a game's own fields but its id, the key: the platform is the key's other half, and
/// `imported_at` stays when the game was first stored. A value the provider no longer sends
/// (NULL) keeps what was stored, and a value equal to the stored one keeps the stored one
/// itself, so that an unchanged `pgn` is never written (PostgreSQL keeps its TOAST as it is).
pub(crate) struct Update {
    /// `column = ...` for each column, comma-separated.
    pub(crate) set: String,
    /// True when some column has a new value: rows where it is false are not updated at all.
    pub(crate) changed: String,
}

pub(crate) fn update(value: impl Fn(usize, &Column) -> String) -> Update {
    let (set, changed): (Vec<String>, Vec<String>) = GAME_COLUMNS
        .iter()
        .enumerate()
        .filter(|(_, column)| matches!(column.fill, Fill::Game(_)) && column.name != "game_id")
        .map(|(index, column)| {
            let (name, new) = (column.name, value(index, column));
            let differs = format!("({new} IS NOT NULL AND {new} IS DISTINCT FROM games.{name})");
            let set = format!("{name} = CASE WHEN {differs} THEN {new} ELSE games.{name} END");
            (set, differs)
        })
        .unzip();
    Update {
        set: set.join(", "),
        changed: changed.join(" OR "),
    }
}

/// `name type [NOT NULL]`, aligned as the first schema was written: SQLite keeps a table's
/// `CREATE` text as it was given, so a new database's text stays the same as an old one's.
pub(crate) fn definition(column: &Column, sql_type: &str) -> String {
    let name = column.name;
    if column.not_null {
        format!("{name:<12} {sql_type:<7} NOT NULL")
    } else {
        format!("{name:<12} {sql_type}")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn sql_type(self, kind: Kind) -> &'static str {
        match self {
            Dialect::Sqlite => kind.sqlite(),
            Dialect::Postgres => kind.postgres(),
        }
    }
}

/// The SQLite schema's migrations: entry N takes a database from version N to N + 1.
pub(crate) static SQLITE_MIGRATIONS: LazyLock<Vec<String>> =
    LazyLock::new(|| migrations(Dialect::Sqlite));

/// The PostgreSQL schema's migrations: entry N takes a database from version N to N + 1.
pub(crate) static POSTGRES_MIGRATIONS: LazyLock<Vec<String>> =
    LazyLock::new(|| migrations(Dialect::Postgres));

fn migrations(dialect: Dialect) -> Vec<String> {
    (1..=VERSION)
        .map(|version| {
            let mut sql = games_migration(GAME_COLUMNS, dialect, version);
            match version {
                1 => sql.push_str(match dialect {
                    Dialect::Sqlite => SQLITE_TABLES,
                    Dialect::Postgres => POSTGRES_TABLES,
                }),
                2 => {
                    sql.push_str(PLAYER_GAMES_VIEW);
                    if dialect == Dialect::Postgres {
                        sql.push_str(POSTGRES_QUEUE_V2);
                        sql.push_str(IMPORT_QUEUE_VIEW);
                        sql.push_str(JOBS_NOTIFY);
                    }
                }
                _ => {}
            }
            sql
        })
        .collect()
}

/// What `version` does to `games`: creates it with the first columns, or adds the later ones.
fn games_migration(columns: &[Column], dialect: Dialect, version: i64) -> String {
    if version > 1 {
        return columns
            .iter()
            .filter(|column| column.since == version)
            .map(|column| {
                let sql_type = dialect.sql_type(column.kind);
                format!("ALTER TABLE games ADD COLUMN {} {sql_type};\n", column.name)
            })
            .collect();
    }
    let definitions: Vec<String> = columns
        .iter()
        .filter(|column| column.since == 1)
        .map(|column| format!("    {}", definition(column, dialect.sql_type(column.kind))))
        .collect();
    format!(
        "\nCREATE TABLE games (\n{},\n    PRIMARY KEY (platform, game_id)\n);\n\
         CREATE INDEX games_played_at ON games (played_at);\n",
        definitions.join(",\n")
    )
}

/// The columns of [`PLAYER_GAMES_VIEW`], in its order: what `export --view players` writes.
pub(crate) const PLAYER_VIEW_COLUMNS: &[(&str, Kind)] = &[
    ("platform", Kind::Text),
    ("username", Kind::Text),
    ("game_id", Kind::Text),
    ("played_at", Kind::BigInt),
    ("ended_at", Kind::BigInt),
    ("color", Kind::Text),
    ("result", Kind::Text),
    ("rating", Kind::Integer),
    ("rating_diff", Kind::Integer),
    ("opponent", Kind::Text),
    ("opponent_rating", Kind::Integer),
    ("accuracy", Kind::Real),
    ("opponent_accuracy", Kind::Real),
    ("speed", Kind::Text),
    ("time_control", Kind::Text),
    ("variant", Kind::Text),
    ("rated", Kind::Boolean),
    ("eco", Kind::Text),
    ("opening", Kind::Text),
    ("url", Kind::Text),
];

/// The columns an export of `view` reads, with what each holds.
pub(crate) fn view_columns(view: View) -> Vec<(&'static str, Kind)> {
    match view {
        View::Games => GAME_COLUMNS.iter().map(|c| (c.name, c.kind)).collect(),
        View::Players => PLAYER_VIEW_COLUMNS.to_vec(),
    }
}

/// A player's-eye view of the games, one row per imported player and game: the second
/// migration's. The player's side is the one whose name is theirs, ignoring case (the providers
/// keep the display case in games, chess-import the lowercase in `player_games`).
const PLAYER_GAMES_VIEW: &str = "CREATE VIEW player_games_view AS
SELECT platform, username, game_id, played_at, ended_at, color,
    CASE
        WHEN result = '1/2-1/2' THEN 'draw'
        WHEN color IS NULL OR result NOT IN ('1-0', '0-1') THEN NULL
        WHEN (result = '1-0') = (color = 'white') THEN 'win'
        ELSE 'loss'
    END AS result,
    CASE color WHEN 'white' THEN white_elo WHEN 'black' THEN black_elo END AS rating,
    CASE color WHEN 'white' THEN white_rating_diff WHEN 'black' THEN black_rating_diff END
        AS rating_diff,
    CASE color WHEN 'white' THEN black WHEN 'black' THEN white END AS opponent,
    CASE color WHEN 'white' THEN black_elo WHEN 'black' THEN white_elo END AS opponent_rating,
    CASE color WHEN 'white' THEN white_accuracy WHEN 'black' THEN black_accuracy END
        AS accuracy,
    CASE color WHEN 'white' THEN black_accuracy WHEN 'black' THEN white_accuracy END
        AS opponent_accuracy,
    speed, time_control, variant, rated, eco, opening, url
FROM (
    SELECT p.platform, p.username, g.game_id, g.played_at, g.ended_at, g.result,
        CASE
            WHEN lower(g.white) = lower(p.username) THEN 'white'
            WHEN lower(g.black) = lower(p.username) THEN 'black'
        END AS color,
        g.white, g.black, g.white_elo, g.black_elo, g.white_rating_diff, g.black_rating_diff,
        g.white_accuracy, g.black_accuracy, g.speed, g.time_control, g.variant, g.rated, g.eco,
        g.opening, g.url
    FROM player_games AS p
    JOIN games AS g ON g.platform = p.platform AND g.game_id = p.game_id
) AS sides;
";

/// When the requester of `job` was last served: the key by which workers take turns between
/// requesters, in the claim and in [`IMPORT_QUEUE_VIEW`]'s order alike. Jobs without a
/// requester have never been served.
macro_rules! last_served {
    () => {
        "(SELECT max(served.started_at) FROM import_jobs AS served
          WHERE served.requested_by = job.requested_by)"
    };
}
pub(crate) use last_served;

/// The queue's second version: priorities, requesters (served in turn within a priority),
/// recurring jobs (`every_ms`: queued again that long after each run ends), a done job's `note`
/// (why nothing was fetched), defaults that let an application enqueue with a plain `INSERT` of
/// the columns it knows, the live progress a running job's worker keeps in its row, and the
/// workers' heartbeats.
const POSTGRES_QUEUE_V2: &str = "ALTER TABLE import_jobs
    ADD COLUMN priority integer NOT NULL DEFAULT 0,
    ADD COLUMN requested_by text,
    ADD COLUMN every_ms bigint CHECK (every_ms > 0),
    ADD COLUMN note text,
    ADD COLUMN phase text CHECK (phase IN ('fetching', 'writing', 'waiting', 'retrying')),
    ADD COLUMN games_done bigint,
    ADD COLUMN games_total bigint,
    ADD COLUMN progress_at bigint,
    ALTER COLUMN status SET DEFAULT 'queued',
    ALTER COLUMN enqueued_at SET DEFAULT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint,
    ALTER COLUMN available_at SET DEFAULT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint;
CREATE INDEX import_jobs_requester ON import_jobs (requested_by, started_at);
CREATE TABLE import_workers (
    worker       text   PRIMARY KEY,
    host         text,
    pid          bigint,
    started_at   bigint NOT NULL,
    heartbeat_at bigint NOT NULL,
    expires_at   bigint NOT NULL
);
";

/// The channel on which a job that becomes queued is announced, to wake idle workers.
macro_rules! jobs_channel {
    () => {
        "chess_import_jobs"
    };
}
pub(crate) use jobs_channel;

/// Announces every job that becomes queued, however it was queued (`enqueue`, an application's
/// own `INSERT`, a job put back), on [`jobs_channel`]. The server sends one notification of a
/// transaction however many jobs it queued, since they are all alike.
const JOBS_NOTIFY: &str = concat!(
    "CREATE FUNCTION import_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('",
    jobs_channel!(),
    "', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER import_jobs_notify AFTER INSERT OR UPDATE OF status, available_at ON import_jobs
    FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION import_jobs_notify();
"
);

/// Every queued and running job, in the order workers will take the queued ones, with when
/// each should start and finish (see the README's estimation rule). A claim takes the ready job
/// first by priority, then by its requester's [`last_served`], then by `seq`; taking it makes
/// its requester the last served, so successive claims serve each requester's first job, then
/// each one's second: the `turn` here. Jobs without a requester are never served, and each is
/// in the first turn. Jobs not ready yet come after the ready ones, by the time they are.
///
/// A provider's rate is measured over its last runs: a running job's so far, a finished one's,
/// also a recurring job's queued again, whose row keeps its last run. A row whose end is not
/// after its start measures nothing: a recurring job claimed again, or put back, keeps the
/// `finished_at` of the run before.
const IMPORT_QUEUE_VIEW: &str = concat!(
    "CREATE VIEW import_queue AS
WITH clock AS (
    SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint AS now_ms
),
live AS (
    SELECT greatest(count(*), 1) AS workers FROM import_workers, clock WHERE expires_at >= now_ms
),
runs AS (
    SELECT platform, games_done, started_at,
        CASE WHEN status = 'running' THEN progress_at ELSE finished_at END AS until
    FROM import_jobs
    WHERE status IN ('done', 'running', 'queued') AND games_done > 0
),
recent AS (
    SELECT platform, games_done, until - started_at AS spent_ms,
        row_number() OVER (PARTITION BY platform ORDER BY until DESC) AS recency
    FROM runs
    WHERE until > started_at
),
rate AS (
    SELECT platform, sum(games_done)::float8 * 1000 / greatest(sum(spent_ms), 1) AS games_per_s
    FROM recent WHERE recency <= 20 GROUP BY platform
),
provider (platform, games, games_per_s) AS (
    VALUES ('lichess', 1000, 20.0::float8), ('chesscom', 1000, 20.0::float8)
),
jobs AS (
    SELECT job.*, clock.now_ms,
        greatest(coalesce(job.games_total,
                          nullif((SELECT count(*) FROM player_games AS stored
                                  WHERE stored.platform = job.platform
                                    AND stored.username = job.username), 0),
                          provider.games, 1000),
                 CASE WHEN job.status = 'running' THEN coalesce(job.games_done, 0) ELSE 0 END)
            AS expected_games,
        coalesce(rate.games_per_s, provider.games_per_s, 20.0) AS games_per_s,
        CASE WHEN job.status = 'queued' THEN ",
    last_served!(),
    " END AS last_served
    FROM import_jobs AS job
    CROSS JOIN clock
    LEFT JOIN provider ON provider.platform = job.platform
    LEFT JOIN rate ON rate.platform = job.platform
    WHERE job.status IN ('queued', 'running')
),
turns AS (
    SELECT jobs.*,
        CASE WHEN requested_by IS NULL THEN 1
             ELSE rank() OVER (PARTITION BY status, priority, requested_by ORDER BY seq)
        END AS turn
    FROM jobs
),
work AS (
    SELECT turns.*,
        CASE WHEN status = 'running'
             THEN least(coalesce(games_done, 0)::float8 / expected_games, 1.0) END AS progress,
        (expected_games - CASE WHEN status = 'running' THEN coalesce(games_done, 0) ELSE 0 END)
            * 1000 / games_per_s AS work_ms,
        CASE WHEN status = 'queued' THEN row_number() OVER (
            ORDER BY status <> 'queued', available_at > now_ms,
                CASE WHEN available_at > now_ms THEN available_at END, priority DESC, turn,
                last_served NULLS FIRST, seq) END AS position
    FROM turns
),
ahead AS (
    SELECT work.*,
        (SELECT coalesce(sum(running.work_ms), 0) FROM work AS running
         WHERE running.status = 'running') AS running_ms,
        coalesce(sum(work_ms) FILTER (WHERE status = 'queued') OVER (
            ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS queued_ms
    FROM work
)
SELECT position, platform, username, status, priority, requested_by, worker, phase, games_done,
    games_total, expected_games, progress, enqueued_at, available_at, started_at, progress_at,
    CASE WHEN status = 'running' THEN started_at
         ELSE greatest(now_ms + ((running_ms + queued_ms) / live.workers)::bigint, available_at)
    END AS estimated_start,
    CASE WHEN status = 'running' THEN now_ms + work_ms::bigint
         ELSE greatest(now_ms + ((running_ms + queued_ms) / live.workers)::bigint, available_at)
             + work_ms::bigint
    END AS estimated_finish
FROM ahead CROSS JOIN live
ORDER BY position NULLS FIRST, started_at;
"
);

/// The SQLite tables beside `games`, as the first migration creates them.
const SQLITE_TABLES: &str = "CREATE TABLE player_games (
    platform TEXT NOT NULL,
    username TEXT NOT NULL,
    game_id  TEXT NOT NULL,
    PRIMARY KEY (platform, username, game_id)
) WITHOUT ROWID;
CREATE TABLE import_state (
    platform        TEXT NOT NULL,
    username        TEXT NOT NULL,
    last_created_at INTEGER,
    last_month      TEXT,
    last_success_at INTEGER,
    last_attempt_at INTEGER,
    last_error      TEXT,
    PRIMARY KEY (platform, username)
);
CREATE TABLE chesscom_months (
    username      TEXT NOT NULL,
    month         TEXT NOT NULL,
    etag          TEXT NOT NULL,
    last_modified TEXT,
    fetched_at    INTEGER NOT NULL,
    PRIMARY KEY (username, month)
);
CREATE TABLE ongoing_games (
    platform TEXT NOT NULL,
    username TEXT NOT NULL,
    game_id  TEXT NOT NULL,
    PRIMARY KEY (platform, username, game_id)
) WITHOUT ROWID;
CREATE TABLE import_leases (
    platform   TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (platform, username)
);
";

/// The PostgreSQL tables beside `games`, as the first migration creates them; `import_jobs` is
/// the queue workers share.
const POSTGRES_TABLES: &str = "CREATE TABLE player_games (
    platform text NOT NULL,
    username text NOT NULL,
    game_id  text NOT NULL,
    PRIMARY KEY (platform, username, game_id)
);
CREATE TABLE import_state (
    platform        text NOT NULL,
    username        text NOT NULL,
    last_created_at bigint,
    last_month      text,
    last_success_at bigint,
    last_attempt_at bigint,
    last_error      text,
    PRIMARY KEY (platform, username)
);
CREATE TABLE chesscom_months (
    username      text   NOT NULL,
    month         text   NOT NULL,
    etag          text   NOT NULL,
    last_modified text,
    fetched_at    bigint NOT NULL,
    PRIMARY KEY (username, month)
);
CREATE TABLE ongoing_games (
    platform text NOT NULL,
    username text NOT NULL,
    game_id  text NOT NULL,
    PRIMARY KEY (platform, username, game_id)
);
CREATE TABLE import_leases (
    platform   text   NOT NULL,
    username   text   NOT NULL,
    owner      text   NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (platform, username)
);
CREATE TABLE import_jobs (
    seq              bigint  GENERATED BY DEFAULT AS IDENTITY,
    platform         text    NOT NULL,
    username         text    NOT NULL,
    status           text    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    worker           text,
    attempts         integer NOT NULL DEFAULT 0,
    enqueued_at      bigint  NOT NULL,
    available_at     bigint  NOT NULL,
    started_at       bigint,
    lease_expires_at bigint,
    finished_at      bigint,
    new_games        bigint,
    last_error       text,
    PRIMARY KEY (platform, username)
);
CREATE INDEX import_jobs_claim ON import_jobs (status, seq);
";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rusqlite::Connection;

    use super::*;
    use crate::store::postgres::testing;
    use crate::store::sqlite::SqliteStore;

    /// `games` as the first release created it, in each dialect, verbatim: what every existing
    /// database of schema version 1 has.
    const RELEASED_SQLITE_GAMES: &str = "
CREATE TABLE games (
    platform     TEXT    NOT NULL,
    game_id      TEXT    NOT NULL,
    url          TEXT,
    white        TEXT,
    black        TEXT,
    white_elo    INTEGER,
    black_elo    INTEGER,
    result       TEXT,
    termination  TEXT,
    variant      TEXT,
    time_control TEXT,
    speed        TEXT,
    rated        INTEGER,
    eco          TEXT,
    opening      TEXT,
    played_at    INTEGER,
    ply_count    INTEGER,
    valid        INTEGER NOT NULL,
    pgn          TEXT    NOT NULL,
    imported_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, game_id)
);
CREATE INDEX games_played_at ON games (played_at);
";
    const RELEASED_POSTGRES_GAMES: &str = "
CREATE TABLE games (
    platform     text    NOT NULL,
    game_id      text    NOT NULL,
    url          text,
    white        text,
    black        text,
    white_elo    integer,
    black_elo    integer,
    result       text,
    termination  text,
    variant      text,
    time_control text,
    speed        text,
    rated        boolean,
    eco          text,
    opening      text,
    played_at    bigint,
    ply_count    integer,
    valid        boolean NOT NULL,
    pgn          text    NOT NULL,
    imported_at  bigint  NOT NULL,
    PRIMARY KEY (platform, game_id)
);
CREATE INDEX games_played_at ON games (played_at);
";

    fn expected(dialect: Dialect) -> Vec<(String, String, bool)> {
        GAME_COLUMNS
            .iter()
            .map(|c| (c.name.into(), dialect.sql_type(c.kind).into(), c.not_null))
            .collect()
    }

    #[test]
    fn the_first_migration_creates_games_as_the_first_release_did() {
        assert_eq!(
            SQLITE_MIGRATIONS[0],
            format!("{RELEASED_SQLITE_GAMES}{SQLITE_TABLES}")
        );
        assert_eq!(
            POSTGRES_MIGRATIONS[0],
            format!("{RELEASED_POSTGRES_GAMES}{POSTGRES_TABLES}")
        );
    }

    #[test]
    fn a_fresh_sqlite_database_has_the_columns_of_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("games.sqlite");
        drop(SqliteStore::open(&path, Duration::from_secs(1)).unwrap());
        let conn = Connection::open(&path).unwrap();
        let mut statement = conn.prepare("PRAGMA table_info(games)").unwrap();
        let columns: Vec<(String, String, bool)> = statement
            .query_map([], |row| Ok((row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(columns, expected(Dialect::Sqlite));
    }

    #[test]
    fn a_fresh_postgres_database_has_the_columns_of_the_table() {
        let Some(url) = testing::database() else {
            return;
        };
        let columns = testing::query(
            &url,
            "SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = 'games'
             ORDER BY ordinal_position",
            |row| (row.get(0), row.get(1), row.get(2)),
        );
        assert_eq!(columns, expected(Dialect::Postgres));
    }

    #[test]
    fn a_column_added_later_comes_by_its_own_migration() {
        let mut columns = GAME_COLUMNS.to_vec();
        let next = VERSION + 1;
        columns
            .push(Column::game("extra", Kind::Text, |g| Cell::Text(g.eco.as_deref())).since(next));
        for version in 1..=VERSION {
            assert_eq!(
                games_migration(&columns, Dialect::Sqlite, version),
                games_migration(GAME_COLUMNS, Dialect::Sqlite, version)
            );
        }
        let added = games_migration(&columns, Dialect::Postgres, next);
        assert_eq!(added, "ALTER TABLE games ADD COLUMN extra text;\n");
        let conn = Connection::open_in_memory().unwrap();
        for version in 1..=next {
            conn.execute_batch(&games_migration(&columns, Dialect::Sqlite, version))
                .unwrap();
        }
        let last: String = conn
            .query_row(
                "SELECT name FROM pragma_table_info('games') ORDER BY cid DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(last, "extra");
    }

    #[test]
    fn the_players_view_has_the_columns_its_export_reads() {
        let conn = Connection::open_in_memory().unwrap();
        for migration in SQLITE_MIGRATIONS.iter() {
            conn.execute_batch(migration).unwrap();
        }
        let mut statement = conn
            .prepare("SELECT name FROM pragma_table_info('player_games_view')")
            .unwrap();
        let names: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(names, View::Players.columns());
    }

    #[test]
    fn columns_added_later_allow_null() {
        for column in GAME_COLUMNS {
            assert!(column.since >= 1, "{}", column.name);
            assert!(column.since == 1 || !column.not_null, "{}", column.name);
        }
    }
}
