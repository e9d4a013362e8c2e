//! What every command shares: how a run ends ([`Exit`], the signals that stop it) and how its
//! output reaches stdout.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::report::{RunReport, printable};
use crate::store::postgres::queue::JobChange;
use crate::view::Screen;

/// How long `status` and `export` wait for a writer that holds an SQLite database's lock (rare:
/// readers of a WAL database wait only while a checkpoint resets the log).
pub(super) const READ_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How a run ended, as the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every player succeeded (or was skipped because another run had it).
    Success = 0,
    /// At least one player failed; the others completed and were stored. For `check`: at least
    /// one provider did not answer as expected. For `enqueue`: refused, the requester having as
    /// many jobs as `--max-queued-per-requester` allows.
    PlayersFailed = 1,
    /// Bad usage or configuration; nothing was imported.
    Usage = 2,
    /// SIGHUP (the terminal went away); what was fetched before it is stored.
    HungUp = 129,
    /// Ctrl-C (SIGINT); what was fetched before it is stored.
    Interrupted = 130,
    /// SIGTERM (a service manager, `kill`); what was fetched before it is stored.
    Terminated = 143,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit status of a run that `signal` stopped, or that ended as `report` says.
    pub(super) fn of(report: &RunReport, signal: &Signalled) -> Self {
        if let Some(exit) = signal.exit() {
            exit
        } else if report.failed_players > 0 {
            Exit::PlayersFailed
        } else {
            Exit::Success
        }
    }
}

/// Writes a command's whole output to stdout. A reader that went away (`| head`) has what it
/// wanted, so a closed pipe is not an error, unlike `print!`, which panics on it.
pub(super) fn write_stdout(output: &[u8], what: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(output).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).with_context(|| format!("cannot write {what}"))
        }
        _ => Ok(()),
    }
}

/// Refuses a `--db` that cannot hold the job queue, before connecting anywhere.
pub(super) fn queue_target(target: &str) -> anyhow::Result<()> {
    if !crate::store::is_postgres_url(target) {
        anyhow::bail!("the import queue lives in PostgreSQL: give --db postgres://...");
    }
    Ok(())
}

/// Tells what `dequeue` or `requeue` did to each player's job: a line each on stderr, described
/// by `describe`, or with `json` one object on stdout, `{"players":[...]}`.
pub(super) fn print_job_changes(
    changes: &[JobChange],
    json: bool,
    describe: impl Fn(&str) -> String,
) -> anyhow::Result<()> {
    if json {
        let json = serde_json::json!({ "players": changes });
        return write_stdout(format!("{json}\n").as_bytes(), "the JSON summary");
    }
    for change in changes {
        eprintln!(
            "{}:{}: {}",
            change.platform,
            printable(&change.username),
            describe(&change.outcome)
        );
    }
    Ok(())
}

/// The signal that stopped the run, once one has.
#[derive(Clone, Default)]
pub struct Signalled(Arc<OnceLock<Exit>>);

impl Signalled {
    /// The exit status the signal means, if one came.
    pub fn exit(&self) -> Option<Exit> {
        self.0.get().copied()
    }
}

/// The first SIGINT, SIGTERM or SIGHUP stops the run gently (in-flight work is committed, leases
/// released, the summary printed); a second quits at once, which is safe because every
/// transaction is all-or-nothing. The signals are read from streams made before the run starts,
/// so a second signal that comes right after the first is not missed.
pub(super) fn watch_signals(cancel: CancellationToken, screen: Screen) -> Signalled {
    let signalled = Signalled::default();
    let mut signals = match Signals::listen() {
        Ok(signals) => signals,
        Err(error) => {
            tracing::warn!("cannot watch for signals: {error}");
            return signalled;
        }
    };
    let first = signalled.clone();
    tokio::spawn(async move {
        let Some(exit) = signals.next().await else {
            return;
        };
        let _ = first.0.set(exit);
        let what = match exit {
            Exit::Interrupted => "interrupted",
            Exit::HungUp => "hung up",
            _ => "terminated",
        };
        screen.line(&format!(
            "{what}: finishing what is in flight (Ctrl-C again to quit at once)"
        ));
        cancel.cancel();
        if let Some(exit) = signals.next().await {
            screen.clear();
            std::process::exit(i32::from(exit.code()));
        }
    });
    signalled
}

/// SIGINT, SIGTERM and SIGHUP as one stream: every signal from the moment it is made on is seen.
#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    hang_up: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hang_up: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> Option<Exit> {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Some(Exit::Interrupted),
            Some(()) = self.terminate.recv() => Some(Exit::Terminated),
            Some(()) = self.hang_up.recv() => Some(Exit::HungUp),
            else => None,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        Ok(Signals)
    }

    async fn next(&mut self) -> Option<Exit> {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| Exit::Interrupted)
    }
}
