//! Wakes an idle worker as soon as a job is queued: a connection of its own listens on the
//! channel that `import_jobs`'s trigger notifies, whoever queued the job. Notifications only
//! hurry the worker: it still looks for jobs every `--poll-interval`, which is all it does where
//! they cannot come.
//!
//! They cannot behind a transaction pooler (PgBouncer with `pool_mode = transaction`): `LISTEN`
//! holds for the server connection it ran on, which goes back to the pool after it, and a
//! notification reaches whichever client that server connection serves then, or none. So the
//! listener first checks that a notification sent on the queue's connection comes back to it
//! within [`PROBE_WAIT`]; if none does, it says so once and stops. A listening connection that
//! is lost is opened again [`LISTEN_AGAIN_AFTER`] later, the worker polling meanwhile.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_postgres::types::Type;

use super::{Connection, Link, Rerun};
use crate::store::schema::jobs_channel;

/// How long a notification sent on the queue's connection may take to come back: on a direct
/// connection it comes within milliseconds, so this only bounds a loaded server.
const PROBE_WAIT: Duration = Duration::from_secs(5);

/// How long a worker whose listening connection was lost polls before it listens again.
const LISTEN_AGAIN_AFTER: Duration = Duration::from_secs(5);

const CHANNEL: &str = jobs_channel!();

/// How many notifications may wait for the listener, which takes them as they come: an enqueue
/// of thousands of players sends one each, and those past this many wake no one more (a probe
/// among them lost, the listener polls instead, as behind a pooler).
const NOTIFICATIONS: usize = 256;

/// The wake-ups of one worker, until dropped.
pub(super) struct Wakeups {
    notify: Arc<Notify>,
    /// The listener; none when the connection string cannot be used for one.
    task: Option<JoinHandle<()>>,
}

impl Wakeups {
    /// Listens for new jobs on the database `url` names, on a connection whose I/O runs on
    /// `runtime`; `queue` is the worker's queue connection, which sends the probe. `worker` is
    /// the worker's name, and `poll` its poll interval, for the messages.
    pub(super) fn start(
        url: &str,
        runtime: Handle,
        queue: Arc<tokio::sync::Mutex<Connection>>,
        worker: &str,
        poll: Duration,
    ) -> Self {
        let notify = Arc::new(Notify::new());
        let listener = Listener {
            runtime,
            queue,
            probe: format!("probe {worker}"),
            notify: notify.clone(),
        };
        let target = super::mask_password(url);
        let task = match Link::new(url) {
            Ok(link) => Some(tokio::spawn(listener.run(link, target, poll))),
            Err(cause) => {
                tracing::warn!("{target}: cannot listen for new jobs ({cause}): polling");
                None
            }
        };
        Wakeups { notify, task }
    }

    /// Returns once a job was queued since the last call returned (at once if one was), or the
    /// listening connection was opened again after a loss, when one may have been missed.
    pub(super) async fn next(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Why listening stopped.
enum Ended {
    /// The probe never came back: nothing would.
    Unavailable,
    /// The connection failed or was lost.
    Lost(String),
}

struct Listener {
    runtime: Handle,
    queue: Arc<tokio::sync::Mutex<Connection>>,
    /// The payload of this worker's probe.
    probe: String,
    notify: Arc<Notify>,
}

impl Listener {
    async fn run(self, link: Link, target: String, poll: Duration) {
        loop {
            match self.listen(&link).await {
                Ended::Unavailable => {
                    tracing::warn!(
                        "{target}: notifications of new jobs do not come through this \
                         connection (a transaction pooler?): looking for jobs every {poll:?} \
                         instead"
                    );
                    return;
                }
                Ended::Lost(why) => tracing::warn!(
                    "{target}: cannot listen for new jobs ({why}): looking for them every \
                     {poll:?} until listening again"
                ),
            }
            tokio::time::sleep(LISTEN_AGAIN_AFTER).await;
        }
    }

    /// Listens until the connection ends.
    async fn listen(&self, link: &Link) -> Ended {
        let (sender, mut notifications) = mpsc::channel(NOTIFICATIONS);
        // The I/O task ends with the client, dropped when this returns or the task is aborted.
        let (client, _io) = match link.open_sending(&self.runtime, Some(sender)).await {
            Ok(opened) => opened,
            Err(cause) => return Ended::Lost(cause.to_string()),
        };
        let limit = link.settings.answer_timeout;
        let listening = client.batch_execute(concat!("LISTEN ", jobs_channel!()));
        match tokio::time::timeout(limit, listening).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Ended::Lost(super::message(&error)),
            Err(_) => return Ended::Lost(format!("no answer within {} s", limit.as_secs())),
        }
        let sent = {
            let mut queue = self.queue.lock().await;
            let probe = [(&CHANNEL as _, Type::TEXT), (&self.probe as _, Type::TEXT)];
            queue
                .query("SELECT pg_notify($1, $2)", &probe, Rerun::WhenLost)
                .await
        };
        if let Err(cause) = sent {
            return Ended::Lost(cause.to_string());
        }
        let probed = tokio::time::timeout(PROBE_WAIT, async {
            while let Some(notification) = notifications.recv().await {
                if notification.payload() == self.probe {
                    return true;
                }
                self.notify.notify_one();
            }
            false
        });
        match probed.await {
            Ok(true) => {}
            Ok(false) => return Ended::Lost("connection lost".into()),
            Err(_) => {
                // Whichever server connection took the `LISTEN` need not keep it.
                let _ = tokio::time::timeout(limit, client.batch_execute("UNLISTEN *")).await;
                return Ended::Unavailable;
            }
        }
        tracing::debug!("listening for new jobs");
        // A job may have been queued while nobody listened.
        self.notify.notify_one();
        while notifications.recv().await.is_some() {
            self.notify.notify_one();
        }
        Ended::Lost("connection lost".into())
    }
}
