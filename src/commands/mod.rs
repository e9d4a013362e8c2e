//! One module per subcommand, each wiring options, a store, the view and the library together;
//! and what they share: how a run ends ([`Exit`]), writing to stdout, and watching for Ctrl-C.

use std::io::Write;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command};
use crate::report::RunReport;
use crate::view::Screen;

mod check;
mod completions;
mod enqueue;
mod export;
mod import;
mod status;
mod worker;

/// How long `status` and `export` wait for a writer that holds an SQLite database's lock (rare:
/// readers of a WAL database wait only while a checkpoint resets the log).
const READ_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

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
        Command::Enqueue(args) => runtime()?.block_on(enqueue::exec(args)),
        Command::Status(args) => status::exec(&args),
        Command::Export(args) => export::exec(args, cli.quiet),
        Command::Completions(args) => completions::exec(args.shell),
    }
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

/// The first Ctrl-C stops the run gently (in-flight work is committed); the second quits at
/// once, which is safe because every transaction is all-or-nothing. Both are read from one
/// signal stream, so a second signal that comes right after the first is not missed.
fn watch_ctrl_c(cancel: CancellationToken, screen: Screen) {
    tokio::spawn(async move {
        let mut interrupts = match Interrupts::listen() {
            Ok(interrupts) => interrupts,
            Err(error) => {
                tracing::warn!("cannot watch for Ctrl-C: {error}");
                return;
            }
        };
        if !interrupts.next().await {
            return;
        }
        screen.line("interrupted: finishing what is in flight (Ctrl-C again to quit at once)");
        cancel.cancel();
        if interrupts.next().await {
            screen.clear();
            std::process::exit(i32::from(Exit::Interrupted.code()));
        }
    });
}

/// SIGINT as a stream: every signal from the moment it is created on is seen.
#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);

#[cfg(unix)]
impl Interrupts {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::interrupt()).map(Interrupts)
    }

    async fn next(&mut self) -> bool {
        self.0.recv().await.is_some()
    }
}

#[cfg(not(unix))]
struct Interrupts;

#[cfg(not(unix))]
impl Interrupts {
    fn listen() -> std::io::Result<Self> {
        Ok(Interrupts)
    }

    async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
