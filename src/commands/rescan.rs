//! `chess-import rescan`: a window of players' games fetched again, behind the cursors too, and
//! what is missing stored. It is an import that starts from nothing: the store's dedup absorbs
//! the games it has, nothing is deleted, and a cursor only moves forward, and only over games
//! fetched without a gap from the player's first (never for a window with `--since`).

use tokio_util::sync::CancellationToken;

use super::common::{Exit, watch_signals};
use super::import::{open_store, print_report, run_players};
use crate::cli::{RescanArgs, RunArgs};
use crate::import::ImportOptions;
use crate::lease;
use crate::view::Screen;

pub async fn exec(args: RescanArgs, screen: Screen) -> anyhow::Result<Exit> {
    let players = args.players.collect()?;
    let cancel = CancellationToken::new();
    let window = args.window.millis()?;
    let options = options(&args.run, window, &screen, &cancel)?;
    let store = open_store(&args.store)?;
    let signalled = watch_signals(cancel.clone(), screen.clone());
    let report = run_players(players, options, store, &screen, cancel).await;
    print_report(&report, &signalled, args.run.json)
}

/// The settings of a rescan of the window `(since, until)` (unix ms, either open).
pub(super) fn options(
    run: &RunArgs,
    (since, until): (Option<i64>, Option<i64>),
    screen: &Screen,
    cancel: &CancellationToken,
) -> anyhow::Result<ImportOptions> {
    let mut options = run.import_options(lease::process_owner(), screen.shows_bars(), cancel)?;
    options.since = since;
    options.until = until;
    options.rescan = true;
    Ok(options)
}
