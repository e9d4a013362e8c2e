//! `chess-import enqueue`: adds players to the PostgreSQL job queue that workers share.

use anyhow::Context;

use super::common::{Exit, queue_target, write_stdout};
use crate::cli::EnqueueArgs;
use crate::store::postgres::queue;

pub async fn exec(args: EnqueueArgs) -> anyhow::Result<Exit> {
    queue_target(&args.db.target)?;
    let players = args.players.collect()?;
    let job = queue::JobSpec {
        priority: args.priority,
        requested_by: args.requested_by,
        not_before: args.not_before,
        every: args.every,
    };
    let outcome = queue::enqueue(
        &args.db.target,
        &players,
        &job,
        args.max_queued_per_requester,
    )
    .await?;
    let enqueued = match outcome {
        Ok(enqueued) => enqueued,
        Err(refused) => {
            if args.json {
                let json = serde_json::json!({ "refused": refused, "reason": refused.to_string() });
                write_stdout(format!("{json}\n").as_bytes(), "the JSON summary")?;
            }
            eprintln!("chess-import: {refused}");
            return Ok(Exit::PlayersFailed);
        }
    };
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
