//! `chess-import dequeue`: removes players' queued jobs from the PostgreSQL job queue.

use super::common::{Exit, print_job_changes, queue_target};
use crate::cli::DequeueArgs;
use crate::store::postgres::queue;

pub async fn exec(args: DequeueArgs) -> anyhow::Result<Exit> {
    queue_target(&args.db.target)?;
    let players = args.players.collect()?;
    let changes = queue::dequeue(&args.db.target, &players).await?;
    print_job_changes(&changes, args.json, |outcome| match outcome {
        "removed" => "removed from the queue".into(),
        "running" => "running: it finishes, and is not queued again".into(),
        "none" => "not queued (no job)".into(),
        status => format!("not queued ({status})"),
    })?;
    Ok(Exit::Success)
}
