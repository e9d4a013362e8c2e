//! `chess-import import`: the players of the command line, imported with the view listening and
//! Ctrl-C watched. `worker` runs the same way, fed by the queue.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::common::{Exit, Signalled, watch_signals, write_stdout};
use crate::cli::{ImportArgs, StoreArgs};
use crate::import::{self, Event, ImportOptions, Jobs, PlayerList};
use crate::lease;
use crate::player::{Platform, Player};
use crate::report::RunReport;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{self, Store};
use crate::view::{self, Screen};

pub async fn exec(args: ImportArgs, screen: Screen) -> anyhow::Result<Exit> {
    let players = args.players.collect()?;
    let cancel = CancellationToken::new();
    let mut options =
        args.run
            .import_options(lease::process_owner(), screen.shows_bars(), &cancel)?;
    (options.since, options.until) = args.window.millis()?;
    options.max_games = args.max_games;
    options.fresh_for = args.fresh.fresh_for;
    options.refresh_since = args.refresh_since();
    // The games this run brings come with their analysis, and are not asked twice.
    options.with_analysis |= options.refresh_since.is_some();
    let store = open_store(&args.store)?;
    let signalled = watch_signals(cancel.clone(), screen.clone());
    let report = run_players(players, options, store, &screen, cancel).await;
    print_report(&report, &signalled, args.run.json)
}

/// The store `--db` names, for a run that writes games: SQLite created on the first write.
pub(super) fn open_store(args: &StoreArgs) -> anyhow::Result<Box<dyn Store>> {
    let target = &args.db.target;
    Ok(if store::is_postgres_url(target) {
        Box::new(postgres_store(target)?)
    } else {
        SqliteStore::open_on_first_write(Path::new(target), args.busy_timeout)?
    })
}

/// Runs the importer over `players` with the view listening; the caller watches the signals.
/// The summary lists the players in the order they were given, not the order they finished.
pub(super) async fn run_players(
    players: Vec<Player>,
    options: ImportOptions,
    store: Box<dyn Store>,
    screen: &Screen,
    cancel: CancellationToken,
) -> RunReport {
    let order: HashMap<(Platform, String), usize> = players
        .iter()
        .enumerate()
        .map(|(index, p)| ((p.platform, p.username().to_string()), index))
        .collect();
    let players = PlayerList::new(players);
    let mut report = run_viewed(players, options, store, screen, cancel, None).await;
    report
        .players
        .sort_by_cached_key(|done| order.get(&(done.platform, done.username.clone())).copied());
    report
}

pub(super) fn postgres_store(target: &str) -> anyhow::Result<PostgresStore> {
    let handle = tokio::runtime::Handle::current();
    Ok(PostgresStore::connect(target, handle)?)
}

/// Something besides the view that sees every event, before the view does.
pub(super) type Watcher = Box<dyn FnMut(&Event) + Send>;

/// Runs the importer with the view and `watcher` listening and signals watched.
pub(super) async fn run(
    jobs: impl Jobs,
    options: ImportOptions,
    store: Box<dyn Store>,
    screen: &Screen,
    cancel: CancellationToken,
    watcher: Watcher,
) -> (RunReport, Signalled) {
    let signalled = watch_signals(cancel.clone(), screen.clone());
    let report = run_viewed(jobs, options, store, screen, cancel, Some(watcher)).await;
    (report, signalled)
}

/// Runs the importer with the view (and the watcher, if any) listening. Signals are the
/// caller's to watch, once per command: `verify --repair` runs several imports under one watch.
async fn run_viewed(
    jobs: impl Jobs,
    options: ImportOptions,
    store: Box<dyn Store>,
    screen: &Screen,
    cancel: CancellationToken,
    watcher: Option<Watcher>,
) -> RunReport {
    let (events, receiver) = mpsc::unbounded_channel();
    let receiver = match watcher {
        Some(watcher) => tee(receiver, watcher),
        None => receiver,
    };
    let view = spawn_view(screen.clone(), receiver, options.jobs);
    let report = import::run(jobs, options, store, events, cancel).await;
    if let Ok(view) = view {
        let _ = tokio::task::spawn_blocking(move || view.join()).await;
    }
    report
}

/// Shows each of `events` to `watcher`, then passes it on to the receiver returned; that one
/// ends when `events` does.
fn tee(
    mut events: mpsc::UnboundedReceiver<Event>,
    mut watcher: Watcher,
) -> mpsc::UnboundedReceiver<Event> {
    let (forward, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            watcher(&event);
            if forward.send(event).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Draws on a thread of its own: a terminal that is slow to take the output (a busy terminal
/// emulator, a paused pseudo-terminal) then delays only the drawing, never the import's runtime.
fn spawn_view(
    screen: Screen,
    events: mpsc::UnboundedReceiver<Event>,
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
pub(super) fn print_report(
    report: &RunReport,
    signalled: &Signalled,
    json: bool,
) -> anyhow::Result<Exit> {
    if json {
        let json = serde_json::to_string(report).context("cannot write the JSON summary")?;
        write_stdout(format!("{json}\n").as_bytes(), "the JSON summary")?;
    } else {
        eprint!("{}", view::summary_table(report, view::terminal_width()));
    }
    Ok(Exit::of(report, signalled))
}
