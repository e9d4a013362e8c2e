//! One module per subcommand, each wiring options, a store, the view and the library together,
//! and the dispatch between them; what they share is in [`common`].

use anyhow::Context;

use crate::cli::{Cli, Command};
use crate::view::Screen;

mod check;
mod common;
mod completions;
mod dequeue;
mod enqueue;
mod export;
mod import;
mod requeue;
mod rescan;
mod status;
mod verify;
mod worker;

pub use common::Exit;

/// Runs the command. An `Err` is a usage or configuration error (exit 2).
pub fn run(cli: Cli, screen: Screen) -> anyhow::Result<Exit> {
    // Only the commands that talk to the providers or the queue need the async runtime.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
    };
    match cli.command {
        Command::Import(args) => runtime()?.block_on(import::exec(args, screen)),
        Command::Worker(args) => runtime()?.block_on(worker::exec(args, screen)),
        Command::Check(args) => runtime()?.block_on(check::exec(args, screen)),
        Command::Verify(args) => verify::exec(args, screen, &runtime()?),
        Command::Rescan(args) => runtime()?.block_on(rescan::exec(args, screen)),
        Command::Enqueue(args) => runtime()?.block_on(enqueue::exec(args)),
        Command::Dequeue(args) => runtime()?.block_on(dequeue::exec(args)),
        Command::Requeue(args) => runtime()?.block_on(requeue::exec(args)),
        Command::Status(args) => status::exec(&args),
        Command::Export(args) => export::exec(args, cli.quiet),
        Command::Completions(args) => completions::exec(args.shell),
    }
}
