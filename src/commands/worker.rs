//! `chess-import worker`: imports the players of the shared PostgreSQL queue, alongside workers
//! on other machines.

use anyhow::bail;
use tokio_util::sync::CancellationToken;

use super::common::Exit;
use super::import::{postgres_store, print_report, run};
use crate::cli::WorkerArgs;
use crate::import;
use crate::lease::process_owner;
use crate::store;
use crate::store::postgres::queue;
use crate::view::Screen;

pub async fn exec(args: WorkerArgs, screen: Screen) -> anyhow::Result<Exit> {
    if !store::is_postgres_url(&args.db.target) {
        bail!("a worker needs the shared queue of a PostgreSQL database: give --db postgres://...");
    }
    let store = postgres_store(&args.db.target)?;
    let cancel = CancellationToken::new();
    // Totals on or off the terminal: the job rows' progress needs them.
    let mut options = args.run.import_options(process_owner(), true, &cancel)?;
    options.fresh_for = args.fresh.fresh_for;
    let queue = queue::JobQueue::open(
        &args.db.target,
        queue::WorkerOptions {
            worker: options.owner.clone(),
            lease: args.run.lease_ttl,
            poll: args.poll_interval,
            once: args.once,
            max_attempts: args.max_attempts,
        },
    )
    .await?;
    let stopped = queue.stopped();
    let progress = queue.progress();
    let presence = queue.presence();
    let watcher = Box::new(move |event: &import::Event| progress.see(event));
    let (report, signalled) = run(queue, options, Box::new(store), &screen, cancel, watcher).await;
    presence.leave().await;
    let exit = print_report(&report, &signalled, args.run.json)?;
    // A worker that lost its queue ends with the reason, after the report of what it did.
    match stopped.take() {
        Some(lost) => Err(lost.into()),
        None => Ok(exit),
    }
}
