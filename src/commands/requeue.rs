//! `chess-import requeue --failed`: puts failed jobs of the PostgreSQL job queue back.

use super::common::{Exit, print_job_changes, queue_target};
use crate::cli::RequeueArgs;
use crate::store::postgres::queue;

pub async fn exec(args: RequeueArgs) -> anyhow::Result<Exit> {
    queue_target(&args.db.target)?;
    let changes = queue::requeue_failed(&args.db.target, &args.players).await?;
    if changes.is_empty() && !args.json {
        eprintln!("no failed job");
    }
    print_job_changes(&changes, args.json, |outcome| match outcome {
        "requeued" => "queued again".into(),
        "none" => "not failed (no job)".into(),
        status => format!("not failed ({status})"),
    })?;
    Ok(Exit::Success)
}
