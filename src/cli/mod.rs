//! The command line: clap definitions and the environment variables behind them, and (in
//! [`options`]) how they become the library's options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::formats::Format;
use crate::player::Player;

mod options;

pub const DEFAULT_USER_AGENT: &str = concat!(
    "chess-import/",
    env!("CARGO_PKG_VERSION"),
    " (+",
    env!("CARGO_PKG_REPOSITORY"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "chess-import",
    version,
    about,
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// How to show progress: bars on a terminal, plain lines for logs, or nothing.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, global = true,
          help_heading = GLOBAL)]
    pub progress: ProgressMode,

    /// Only print errors and the final summary.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,

    /// Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = GLOBAL)]
    pub verbose: u8,
}

/// The heading of the options every subcommand takes, listed last.
const GLOBAL: &str = "Global options";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// Bars on a terminal, plain lines otherwise.
    Auto,
    /// Live per-player bars on stderr.
    Bars,
    /// One line per player event, without escape codes: for log files.
    Plain,
    /// Nothing but log messages and the summary.
    None,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download every game of the given players and store the new ones.
    Import(ImportArgs),
    /// Smoke-test the provider APIs with a few players; nothing is stored.
    Check(CheckArgs),
    /// Show, per imported player, the games stored and how its last import went.
    Status(StatusArgs),
    /// Write the stored games, oldest first, as one PGN file.
    Export(ExportArgs),
    /// Compare what is stored of each imported player with what the provider has; report gaps.
    Verify(VerifyArgs),
    /// Fetch a window of players' games again and store what is missing; nothing is deleted.
    Rescan(RescanArgs),
    /// Add players to the import queue that workers share (PostgreSQL only).
    Enqueue(EnqueueArgs),
    /// Remove players' queued jobs; running ones finish, and are not queued again.
    Dequeue(DequeueArgs),
    /// Put failed jobs back in the queue.
    Requeue(RequeueArgs),
    /// Import the players of the shared queue, alongside workers on other machines.
    Worker(WorkerArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub players: PlayerArgs,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub window: DayArgs,

    /// At most this many games per player (oldest first), e.g. for a quick smoke run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_games: Option<u64>,

    /// Also bring the games of the last DAYS (1-365) up to date with the reviews and analyses
    /// made since they were stored: Chess.com months asked again conditionally, Lichess games
    /// without analysis asked again by id. Implies --with-analysis.
    #[arg(long, value_name = "DAYS", conflicts_with_all = ["since", "until", "max_games"],
          value_parser = clap::value_parser!(u16).range(1..=MAX_REFRESH_DAYS))]
    pub refresh_analysis: Option<u16>,

    #[command(flatten)]
    pub fresh: FreshArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

/// The cache of recently imported players, for `import` and `worker`.
#[derive(Debug, Args)]
pub struct FreshArgs {
    /// Do not fetch a player whose last successful import ended less than this long ago; its
    /// status is `fresh` (1s-365d) [default: always fetch].
    #[arg(long, value_name = "DURATION", value_parser = duration_in(Duration::from_secs(1), 365 * DAY))]
    pub fresh_for: Option<Duration>,
}

/// The longest window `--refresh-analysis` takes: reviews and analyses come within days of a
/// game, and a year already re-asks thirteen months per Chess.com player.
pub const MAX_REFRESH_DAYS: i64 = 365;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Players to verify, as PLATFORM:USERNAME [default: every imported player].
    #[arg(value_name = "PLAYER", value_parser = parse_player)]
    pub players: Vec<Player>,

    // The database to compare, and for a repair to write to.
    #[command(flatten)]
    pub store: StoreArgs,

    /// Lichess: compare the game ids themselves, by streaming the player's games without
    /// moves (one export per player), rather than the profile's approximate counts.
    #[arg(long)]
    pub deep: bool,

    /// Rescan exactly the months and windows found short, store what is missing, and verify
    /// those again.
    #[arg(long)]
    pub repair: bool,

    // How many players are verified (and repaired) at once, --json for the report, and how a
    // repair talks to the providers.
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct RescanArgs {
    #[command(flatten)]
    pub players: PlayerArgs,

    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub window: DayArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    #[command(flatten)]
    pub players: PlayerArgs,

    #[command(flatten)]
    pub db: QueueDbArgs,

    /// Print one JSON object on stdout: {"queued":N,"unchanged":N}, or {"refused":{...},
    /// "reason":"..."}.
    #[arg(long)]
    pub json: bool,

    /// Higher runs first (-1000000 to 1000000).
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i32).range(-1_000_000..=1_000_000))]
    pub priority: i32,

    /// Who asks (e.g. an application's user id): within a priority, workers serve requesters
    /// in turn.
    #[arg(long, value_name = "ID", value_parser = parse_requester)]
    pub requested_by: Option<String>,

    /// Not claimed before then: an RFC 3339 time (2026-12-01T22:00:00Z) or +DURATION from now
    /// (+30m, up to a year).
    #[arg(long, value_name = "WHEN", value_parser = parse_not_before)]
    pub not_before: Option<i64>,

    /// Recurring: when a run ends (done or failed), queue the player again this long after it,
    /// with the same priority and requester (1m-365d).
    #[arg(long, value_name = "DURATION", value_parser = duration_in(MINUTE, 365 * DAY))]
    pub every: Option<Duration>,

    /// Refuse the enqueue (exit 1, queueing none of its players) if it would leave the
    /// requester more than N jobs queued or running (1-1000000).
    #[arg(long, value_name = "N", requires = "requested_by",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_queued_per_requester: Option<u64>,
}

#[derive(Debug, Args)]
pub struct DequeueArgs {
    #[command(flatten)]
    pub players: PlayerArgs,

    #[command(flatten)]
    pub db: QueueDbArgs,

    /// Print one JSON object on stdout: what became of each player's job.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RequeueArgs {
    /// Players whose failed jobs to queue again, as PLATFORM:USERNAME [default: every failed
    /// job].
    #[arg(value_name = "PLAYER", value_parser = parse_player)]
    pub players: Vec<Player>,

    /// The jobs to put back: the failed ones.
    #[arg(long, required = true)]
    pub failed: bool,

    #[command(flatten)]
    pub db: QueueDbArgs,

    /// Print one JSON object on stdout: what became of each player's job.
    #[arg(long)]
    pub json: bool,
}

/// A requester id: printable text, at most 200 characters.
fn parse_requester(value: &str) -> Result<String, String> {
    if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err("must be 1 to 200 printable characters".into());
    }
    Ok(value.to_string())
}

/// `+30m` from now, or an RFC 3339 instant, as unix ms.
fn parse_not_before(value: &str) -> Result<i64, String> {
    let now = chrono::Utc::now().timestamp_millis();
    if let Some(relative) = value.strip_prefix('+') {
        let wait = duration_in(Duration::ZERO, 365 * DAY)(relative)?;
        return Ok(now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)));
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|when| when.timestamp_millis())
        .map_err(|_| "must be an RFC 3339 time (2026-12-01T22:00:00Z) or +DURATION (+30m)".into())
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub db: QueueDbArgs,

    /// Exit once no job is running or due within a poll, instead of waiting for new jobs (for
    /// cron); jobs put off for later stay queued.
    #[arg(long)]
    pub once: bool,

    /// How often an idle worker looks for new jobs, besides when told of one (10ms-1h).
    #[arg(long, value_name = "DURATION", default_value = "5s",
          value_parser = duration_in(Duration::from_millis(10), HOUR))]
    pub poll_interval: Duration,

    /// Attempts of a job that fails for a transient reason (the provider unreachable or rate
    /// limiting past --max-wait, a database error), put off longer each time, before it fails
    /// for good (1-100).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,

    #[command(flatten)]
    pub fresh: FreshArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

/// What `import` and `worker` share: how many players at once, the summary, the providers and
/// how the run treats them, and the per-player lease.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many players are imported at once (1-256).
    #[arg(short, long, env = "MAX_CONCURRENT_IMPORTS", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,

    /// Print one JSON summary object on stdout at the end.
    #[arg(long)]
    pub json: bool,

    /// How long a player's lease lasts without renewal; a crashed run's players are free again
    /// after it (1s-1d).
    #[arg(long, value_name = "DURATION", default_value = "60s",
          value_parser = duration_in(Duration::from_secs(1), DAY))]
    pub lease_ttl: Duration,

    /// Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss,
    /// mistakes, the game's phases, and [%eval] comments in the PGN.
    #[arg(long)]
    pub with_analysis: bool,

    #[command(flatten)]
    pub providers: ProviderArgs,

    #[command(flatten)]
    pub etiquette: EtiquetteArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Players whose profile and newest games to fetch, as PLATFORM:USERNAME.
    #[arg(
        value_name = "PLAYER",
        value_parser = parse_player,
        default_values = CHECK_PLAYERS
    )]
    pub players: Vec<Player>,

    /// How many of each player's newest games to fetch and parse.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub games: u16,

    /// Print one JSON report on stdout instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Also write the report as JUnit XML to this file, one test case per request.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// The longest the whole check may take (1s-24h); requests still open then fail, so that a
    /// CI job always ends.
    #[arg(long, value_name = "DURATION", default_value = "2m",
          value_parser = duration_in(Duration::from_secs(1), DAY))]
    pub deadline: Duration,

    #[command(flatten)]
    pub providers: ProviderArgs,

    #[command(flatten)]
    pub etiquette: EtiquetteArgs,
}

/// The accounts `check` asks when given none: long-standing accounts that exist for sure.
pub const CHECK_PLAYERS: [&str; 2] = ["lichess:thibault", "chesscom:hikaru"];

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// Only games of these players (repeat for more), as PLATFORM:USERNAME.
    #[arg(short, long = "player", value_name = "PLAYER", value_parser = parse_player)]
    pub players: Vec<Player>,

    #[command(flatten)]
    pub window: DayArgs,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// pgn: the games' PGNs; ndjson: one JSON object per row with every column; csv: RFC 4180
    /// with a header row, every column but the PGN.
    #[arg(long, value_enum, default_value_t = Format::Pgn)]
    pub format: Format,

    /// With --format csv: the PGN column too.
    #[arg(long)]
    pub with_pgn: bool,

    /// games: one row per game; players: one row per imported player and game, from that
    /// player's side (player_games_view); ndjson or csv only.
    #[arg(long, value_enum, default_value_t = ExportView::Games)]
    pub view: ExportView,
}

/// What `export --view` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportView {
    Games,
    Players,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// A window of days, both included: which games `import`, `rescan` and `export` take.
#[derive(Debug, Args)]
pub struct DayArgs {
    /// Only games started on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<chrono::NaiveDate>,

    /// Only games started on or before this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<chrono::NaiveDate>,
}

/// Who to import or queue: players named on the command line and in files.
#[derive(Debug, Args)]
pub struct PlayerArgs {
    /// Players as PLATFORM:USERNAME, e.g. lichess:alice or chesscom:bob.
    #[arg(value_name = "PLAYER", value_parser = parse_player)]
    pub players: Vec<Player>,

    /// Read more players from a file, one per line ('-' for stdin; '#' starts a comment).
    #[arg(short, long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
}

/// The database `import` writes to and `status` and `export` read.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq
    /// key=value string (host=... dbname=...).
    #[arg(
        long = "db",
        value_name = "TARGET",
        env = "CHESS_IMPORT_DB",
        hide_env_values = true,
        default_value = "games.sqlite",
        value_parser = parse_db_target
    )]
    pub target: String,
}

/// The database a run writes games to, and how long its writes wait for another process's.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    pub db: DbArgs,

    /// How long an SQLite write waits for another process's transaction before it fails
    /// (0s-1h).
    #[arg(long, value_name = "DURATION", default_value = "10s",
          value_parser = duration_in(Duration::ZERO, HOUR))]
    pub busy_timeout: Duration,
}

/// The PostgreSQL database whose job queue `enqueue` and `worker` share; no default, since a
/// queue has no SQLite form.
#[derive(Debug, Args)]
pub struct QueueDbArgs {
    /// The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value
    /// string.
    #[arg(
        long = "db",
        value_name = "URL",
        env = "CHESS_IMPORT_DB",
        hide_env_values = true
    )]
    pub target: String,
}

#[derive(Debug, Args)]
pub struct ProviderArgs {
    /// Base URL of Lichess.
    #[arg(
        long,
        value_name = "URL",
        env = "LICHESS_URL",
        default_value = "https://lichess.org"
    )]
    pub lichess_url: String,

    /// Base URL of the Chess.com Published-Data API.
    #[arg(
        long,
        value_name = "URL",
        env = "CHESSCOM_URL",
        default_value = "https://api.chess.com"
    )]
    pub chesscom_url: String,

    /// Lichess personal API token (no scope needed): a faster export rate.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "LICHESS_TOKEN",
        hide_env_values = true
    )]
    pub lichess_token: Option<String>,

    /// User-Agent of every request. Chess.com asks for contact details in it.
    #[arg(long, value_name = "AGENT", env = "CHESS_IMPORT_USER_AGENT", default_value = DEFAULT_USER_AGENT)]
    pub user_agent: String,

    /// Where the chess-import processes of this host share the providers' lanes (lock files)
    /// [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]
    #[arg(long, value_name = "DIR", env = "CHESS_IMPORT_LOCK_DIR")]
    pub lock_dir: Option<std::path::PathBuf>,

    /// Lowers every cap on what is read of an answer to this many bytes: a knob for tests,
    /// which then need not send megabytes to reach a cap.
    #[arg(long, value_name = "BYTES", hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub body_limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct EtiquetteArgs {
    /// Retries of a request after its first try, before the player fails (5xx, dropped
    /// connections, 429s).
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,

    /// First wait before a retry; it doubles each try (1ms-10m).
    #[arg(long, value_name = "DURATION", default_value = "1s",
          value_parser = duration_in(Duration::from_millis(1), 10 * MINUTE))]
    pub retry_backoff: Duration,

    /// Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h).
    #[arg(long, value_name = "DURATION", default_value = "60s",
          value_parser = duration_in(Duration::from_millis(1), HOUR))]
    pub rate_limit_wait: Duration,

    /// Longest wait a provider may ask for (Retry-After, a rate-limit body) before its
    /// remaining players fail instead (0s-7d).
    #[arg(long, value_name = "DURATION", default_value = "15m",
          value_parser = duration_in(Duration::ZERO, 7 * DAY))]
    pub max_wait: Duration,

    /// Longest a download may go without a complete game (Lichess) or body (Chess.com)
    /// before it is dropped and resumed (100ms-1h).
    #[arg(long, value_name = "DURATION", default_value = "60s",
          value_parser = duration_in(Duration::from_millis(100), HOUR))]
    pub read_timeout: Duration,

    /// Longest wait for a connection to a provider (100ms-10m).
    #[arg(long, value_name = "DURATION", default_value = "10s",
          value_parser = duration_in(Duration::from_millis(100), 10 * MINUTE))]
    pub connect_timeout: Duration,
}

fn parse_player(spec: &str) -> Result<Player, String> {
    spec.parse()
        .map_err(|e: crate::player::PlayerError| e.to_string())
}

/// A `--db` (or `CHESS_IMPORT_DB`) that names a place where games would be kept; the message
/// names both, since clap names only the option when the value came from the environment.
fn parse_db_target(target: &str) -> Result<String, String> {
    crate::store::sqlite::check_target(target)
        .map(|()| target.to_string())
        .map_err(|why| format!("{why} (from --db or CHESS_IMPORT_DB)"))
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date of the form YYYY-MM-DD"))
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// A parser of durations between `min` and `max`, both included.
fn duration_in(
    min: Duration,
    max: Duration,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| {
        let duration = parse_duration(text)?;
        if duration < min || duration > max {
            return Err(format!(
                "{text:?} is out of range: give {} to {}",
                show_duration(min),
                show_duration(max)
            ));
        }
        Ok(duration)
    }
}

/// A duration as this parser reads it back: `0s`, `100ms`, `10m`, `7d`.
fn show_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    if ms == 0 {
        "0s".into()
    } else {
        format!("{ms}ms")
    }
}

/// Reads `250ms`, `2s`, `1m`, `1h`, `2d` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 2s or 1m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86_400.0,
        _ => return Err(format!("{text:?} is not a duration like 500ms, 2s or 1m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is too long a duration"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_accept_common_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("1e400").is_err());
    }

    #[test]
    fn durations_out_of_range_name_the_range() {
        let busy = duration_in(Duration::ZERO, HOUR);
        assert_eq!(busy("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(
            busy("1000h"),
            Err("\"1000h\" is out of range: give 0s to 1h".into())
        );
        assert_eq!(
            duration_in(Duration::from_millis(100), 10 * MINUTE)("0"),
            Err("\"0\" is out of range: give 100ms to 10m".into())
        );
        assert!(busy("99999999999999999999d").is_err());
    }
}
