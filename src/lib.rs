//! chess-import: bulk import of chess games from Lichess and Chess.com into SQLite or PostgreSQL.
//!
//! The binary only parses arguments and sets up output; everything else is here so that tests
//! can drive it.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub mod check;
pub mod cli;
pub mod errors;
pub mod export;
pub mod game;
pub mod http;
pub mod import;
pub mod pgn;
pub mod player;
pub mod providers;
pub mod queue;
pub mod report;
pub mod status;
pub mod store;
pub mod view;

use clap::CommandFactory;

use cli::{Cli, Command, EnqueueArgs, ImportArgs, ProviderArgs, WorkerArgs};
use http::{ClientConfig, Etiquette, Lane, RateLimitRule, RetryPolicy};
use player::Player;
use providers::Source;
use report::RunReport;
use store::Store;
use store::postgres::PostgresStore;
use store::sqlite::SqliteStore;
use view::Screen;

/// How a run ended, as the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every player succeeded (or was skipped because another run had it).
    Success = 0,
    /// At least one player failed; the others completed and were stored. For `check`: at least
    /// one provider did not answer as expected.
    PlayersFailed = 1,
    /// Bad usage or configuration; nothing was imported.
    Usage = 2,
    /// Ctrl-C; what was fetched before it is stored.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    fn of(report: &RunReport) -> Self {
        if report.interrupted {
            Exit::Interrupted
        } else if report.failed_players > 0 {
            Exit::PlayersFailed
        } else {
            Exit::Success
        }
    }
}

/// Runs the command. An `Err` is a usage or configuration error (exit 2).
pub fn run(cli: Cli, screen: Screen) -> anyhow::Result<Exit> {
    // Only the commands that talk to the providers need the async runtime.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
    };
    match cli.command {
        Command::Import(args) => runtime()?.block_on(import_command(args, screen)),
        Command::Check(args) => runtime()?.block_on(check::command(args, screen)),
        Command::Status(args) => status::command(&args),
        Command::Export(args) => export::command(args, cli.quiet),
        Command::Enqueue(args) => runtime()?.block_on(enqueue_command(args)),
        Command::Worker(args) => runtime()?.block_on(worker_command(args, screen)),
        Command::Completions(args) => completions_command(args.shell),
    }
}

/// Prints the completion script of `shell` for the whole command line.
fn completions_command(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "chess-import", &mut script);
    write_stdout(&script, "the completion script")?;
    Ok(Exit::Success)
}

/// Writes a command's whole output to stdout. A reader that went away (`| head`) has what it
/// wanted, so a closed pipe is not an error, unlike `print!`, which panics on it.
fn write_stdout(output: &[u8], what: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(output).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).with_context(|| format!("cannot write {what}"))
        }
        _ => Ok(()),
    }
}

async fn import_command(args: ImportArgs, screen: Screen) -> anyhow::Result<Exit> {
    let players = collect_players(&args.players)?;
    let store = open_store(&args.db)?;
    let cancel = CancellationToken::new();
    let mut options = import_options(
        &args.providers,
        &args.etiquette,
        args.jobs,
        &screen,
        &cancel,
    )?;
    options.since = args.since.map(start_of_day);
    options.until = args.until.map(|day| start_of_day(day) + DAY_MS);
    options.max_games = args.max_games;
    let order: std::collections::HashMap<(player::Platform, String), usize> = players
        .iter()
        .enumerate()
        .map(|(index, p)| ((p.platform, p.username().to_string()), index))
        .collect();
    let jobs = import::PlayerList::new(players);
    let mut report = run_import(jobs, options, store, &screen, cancel).await;
    // The summary lists players in the order they were given, not the order they finished.
    report
        .players
        .sort_by_cached_key(|done| order.get(&(done.platform, done.username.clone())).copied());
    print_report(&report, args.json)
}

async fn worker_command(args: WorkerArgs, screen: Screen) -> anyhow::Result<Exit> {
    if !store::is_postgres_url(&args.db.target) {
        bail!("a worker needs the shared queue of a PostgreSQL database: give --db postgres://...");
    }
    let store = open_store(&args.db)?;
    let cancel = CancellationToken::new();
    let options = import_options(
        &args.providers,
        &args.etiquette,
        args.jobs,
        &screen,
        &cancel,
    )?;
    let queue = queue::JobQueue::open(
        &args.db.target,
        queue::WorkerOptions {
            worker: options.owner.clone(),
            lease: args.etiquette.lease_ttl,
            poll: args.poll_interval,
            once: args.once,
        },
    )
    .await?;
    let report = run_import(queue, options, store, &screen, cancel).await;
    print_report(&report, args.json)
}

async fn enqueue_command(args: EnqueueArgs) -> anyhow::Result<Exit> {
    if !store::is_postgres_url(&args.db.target) {
        bail!("the import queue lives in PostgreSQL: give --db postgres://...");
    }
    let players = collect_players(&args.players)?;
    let enqueued = queue::enqueue(&args.db.target, &players).await?;
    if args.json {
        let json = serde_json::to_string(&enqueued).context("cannot write the JSON summary")?;
        write_stdout(format!("{json}\n").as_bytes(), "the JSON summary")?;
    } else {
        eprintln!(
            "queued {} players; {} already queued or running",
            enqueued.queued, enqueued.unchanged
        );
    }
    Ok(Exit::Success)
}

/// The settings `import` and `worker` share.
fn import_options(
    providers: &ProviderArgs,
    etiquette: &cli::EtiquetteArgs,
    jobs: u16,
    screen: &Screen,
    cancel: &CancellationToken,
) -> anyhow::Result<import::ImportOptions> {
    let (lichess, chesscom) = sources(providers, etiquette, cancel)?;
    Ok(import::ImportOptions {
        jobs: usize::from(jobs),
        lichess,
        chesscom,
        since: None,
        until: None,
        max_games: None,
        want_totals: screen.shows_bars(),
        owner: process_owner(),
        lease_ttl: etiquette.lease_ttl,
        batch_size: 1000,
        flush_interval: Duration::from_secs(1),
    })
}

/// Runs the importer with the view listening and Ctrl-C watched.
async fn run_import(
    jobs: impl import::Jobs,
    options: import::ImportOptions,
    store: Box<dyn Store>,
    screen: &Screen,
    cancel: CancellationToken,
) -> RunReport {
    watch_ctrl_c(cancel.clone(), screen.clone());
    let (events, receiver) = mpsc::unbounded_channel();
    let view = spawn_view(screen.clone(), receiver, options.jobs);
    let report = import::run(jobs, options, store, events, cancel).await;
    if let Ok(view) = view {
        let _ = tokio::task::spawn_blocking(move || view.join()).await;
    }
    report
}

/// Draws on a thread of its own: a terminal that is slow to take the output (a busy terminal
/// emulator, a paused pseudo-terminal) then delays only the drawing, never the import's runtime.
fn spawn_view(
    screen: Screen,
    events: mpsc::UnboundedReceiver<import::Event>,
    jobs: usize,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("view".into())
        .spawn(move || runtime.block_on(screen.listen(events, jobs)))
}

/// The final summary: JSON on stdout, or the table on stderr; and the exit status it means.
fn print_report(report: &RunReport, json: bool) -> anyhow::Result<Exit> {
    if json {
        let json = serde_json::to_string(report).context("cannot write the JSON summary")?;
        write_stdout(format!("{json}\n").as_bytes(), "the JSON summary")?;
    } else {
        eprint!("{}", view::summary_table(report));
    }
    Ok(Exit::of(report))
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Midnight UTC of `day`, in unix milliseconds.
fn start_of_day(day: chrono::NaiveDate) -> i64 {
    day.and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis()
}

/// Players from the arguments and files, each once, in the order given; at least one.
fn collect_players(args: &cli::PlayerArgs) -> anyhow::Result<Vec<Player>> {
    let mut players = args.players.clone();
    for path in &args.files {
        let listed = if path == Path::new("-") {
            player::read_players(std::io::stdin().lock(), "<stdin>")?
        } else {
            let file = File::open(path)
                .with_context(|| format!("cannot read player file {}", path.display()))?;
            player::read_players(BufReader::new(file), &path.display().to_string())?
        };
        players.extend(listed);
    }
    if players.is_empty() {
        bail!("no players given: name them as PLATFORM:USERNAME or with --file");
    }
    Ok(player::dedup(players))
}

fn open_store(db: &cli::DbArgs) -> anyhow::Result<Box<dyn Store>> {
    let target = db.target.as_str();
    if store::is_postgres_url(target) {
        let handle = tokio::runtime::Handle::current();
        return Ok(Box::new(PostgresStore::connect(target, handle)?));
    }
    Ok(Box::new(SqliteStore::open(
        Path::new(target),
        db.busy_timeout,
    )?))
}

/// The two providers, sharing one pooled client, with the etiquette of the command line; `import`
/// and `check` both talk to the providers through these.
fn sources(
    providers: &ProviderArgs,
    etiquette: &cli::EtiquetteArgs,
    cancel: &CancellationToken,
) -> anyhow::Result<(Source, Source)> {
    let policy = RetryPolicy {
        max_tries: etiquette.retries,
        backoff: etiquette.retry_backoff,
        max_backoff: Duration::from_secs(60).max(etiquette.retry_backoff),
        rate_limit_wait: etiquette.rate_limit_wait,
    };
    let client = http::build_client(&ClientConfig {
        user_agent: providers.user_agent.clone(),
        connect_timeout: Duration::from_secs(10),
        read_timeout: etiquette.read_timeout,
    })
    .context("cannot set up the HTTP client")?;
    let source = |base: &str, option: &str, token: Option<String>, lane, rule| {
        let url = reqwest::Url::parse(base)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .with_context(|| format!("{option} {base:?} is not an http(s) URL"))?;
        Ok::<_, anyhow::Error>(Source {
            client: client.clone(),
            base_url: url.as_str().trim_end_matches('/').to_string(),
            token,
            etiquette: Etiquette {
                lane: Arc::new(Lane::new(lane)),
                rule,
                policy: policy.clone(),
                cancel: cancel.clone(),
            },
        })
    };
    let lichess = source(
        &providers.lichess_url,
        "--lichess-url",
        providers.lichess_token.clone().filter(|t| !t.is_empty()),
        import::LICHESS_STREAMS,
        RateLimitRule::PauseLane,
    )?;
    let chesscom = source(
        &providers.chesscom_url,
        "--chesscom-url",
        None,
        import::CHESSCOM_REQUESTS,
        RateLimitRule::BackoffAndNarrow,
    )?;
    Ok((lichess, chesscom))
}

/// The first Ctrl-C stops the run gently (in-flight work is committed); the second quits at
/// once, which is safe because every transaction is all-or-nothing.
fn watch_ctrl_c(cancel: CancellationToken, screen: Screen) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        screen.line("interrupted: finishing what is in flight (Ctrl-C again to quit at once)");
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
    });
}

/// Who this process is in the lease table: host, pid and a random tag (pids are reused).
fn process_owner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{}:{:04x}", std::process::id(), fastrand::u16(..))
}
