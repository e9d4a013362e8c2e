//! `chess-import status`: one row per imported player, from the database alone, and on
//! PostgreSQL the job queue the workers share.

use anyhow::Context;
use indicatif::HumanCount;
use serde::Serialize;

use super::common::{Exit, READ_BUSY_TIMEOUT, write_stdout};
use crate::cli::StatusArgs;
use crate::store::{self, Job, Place, PlayerSummary, QueueSummary, Worker};
use crate::view::Align::{Left, Right};
use crate::view::Table;

pub fn exec(args: &StatusArgs) -> anyhow::Result<Exit> {
    let mut catalog = store::open_catalog(&args.db.target, READ_BUSY_TIMEOUT)?;
    let players = catalog.players()?;
    let queue = catalog.queue()?;
    let output = if args.json {
        let json = serde_json::to_string(&StatusJson {
            players: players.iter().map(PlayerJson::from).collect(),
            queue: queue.as_ref().map(QueueJson::from),
        })
        .context("cannot write the JSON status")?;
        format!("{json}\n")
    } else {
        report(catalog.target(), &players, queue.as_ref())
    };
    write_stdout(output.as_bytes(), "the status")?;
    Ok(Exit::Success)
}

#[derive(Serialize)]
struct StatusJson<'a> {
    players: Vec<PlayerJson<'a>>,
    /// Only stores with a job queue (PostgreSQL) have the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<QueueJson<'a>>,
}

/// Unix ms as RFC 3339 UTC, to the second, for `--json`.
fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A player in `--json`: times as RFC 3339 UTC, `null` when there is none.
#[derive(Serialize)]
struct PlayerJson<'a> {
    platform: &'a str,
    username: &'a str,
    games: u64,
    newest_game: Option<String>,
    last_success: Option<String>,
    last_attempt: Option<String>,
    last_error: Option<&'a str>,
}

impl<'a> From<&'a PlayerSummary> for PlayerJson<'a> {
    fn from(p: &'a PlayerSummary) -> Self {
        PlayerJson {
            platform: &p.platform,
            username: &p.username,
            games: p.games,
            newest_game: rfc3339(p.newest_game_at),
            last_success: rfc3339(p.last_success_at),
            last_attempt: rfc3339(p.last_attempt_at),
            last_error: p.last_error.as_deref(),
        }
    }
}

/// The job queue in `--json`.
#[derive(Serialize)]
struct QueueJson<'a> {
    queued: u64,
    running: u64,
    done: u64,
    failed: u64,
    running_jobs: Vec<RunningJson<'a>>,
    queued_jobs: Vec<QueuedJson<'a>>,
    failed_jobs: Vec<FailedJson<'a>>,
    workers: Vec<WorkerJson<'a>>,
    /// When the last queued or running job should be done.
    drains_at: Option<String>,
}

/// A queued or running job's place, progress and estimates, flattened into its object.
#[derive(Serialize)]
struct PlaceJson<'a> {
    position: Option<u64>,
    priority: i32,
    phase: Option<&'a str>,
    games_done: Option<u64>,
    expected_games: u64,
    progress_percent: Option<u8>,
    estimated_start: Option<String>,
    estimated_finish: Option<String>,
}

impl<'a> From<&'a Place> for PlaceJson<'a> {
    fn from(p: &'a Place) -> Self {
        PlaceJson {
            position: p.position,
            priority: p.priority,
            phase: p.phase.as_deref(),
            games_done: p.games_done,
            expected_games: p.expected_games,
            progress_percent: p.percent,
            estimated_start: rfc3339(Some(p.estimated_start)),
            estimated_finish: rfc3339(Some(p.estimated_finish)),
        }
    }
}

#[derive(Serialize)]
struct QueuedJson<'a> {
    platform: &'a str,
    username: &'a str,
    #[serde(flatten)]
    place: Option<PlaceJson<'a>>,
}

#[derive(Serialize)]
struct WorkerJson<'a> {
    worker: &'a str,
    host: Option<&'a str>,
    pid: Option<i64>,
    jobs: u64,
    started: Option<String>,
    last_heartbeat: Option<String>,
    dead: bool,
}

impl<'a> From<&'a Worker> for WorkerJson<'a> {
    fn from(w: &'a Worker) -> Self {
        WorkerJson {
            worker: &w.worker,
            host: w.host.as_deref(),
            pid: w.pid,
            jobs: w.jobs,
            started: rfc3339(Some(w.started_at)),
            last_heartbeat: rfc3339(Some(w.heartbeat_at)),
            dead: w.dead,
        }
    }
}

#[derive(Serialize)]
struct RunningJson<'a> {
    platform: &'a str,
    username: &'a str,
    worker: Option<&'a str>,
    attempts: u32,
    started: Option<String>,
    lease_expires: Option<String>,
    lease_expired: bool,
    #[serde(flatten)]
    place: Option<PlaceJson<'a>>,
}

#[derive(Serialize)]
struct FailedJson<'a> {
    platform: &'a str,
    username: &'a str,
    worker: Option<&'a str>,
    attempts: u32,
    finished: Option<String>,
    error: Option<&'a str>,
}

impl<'a> From<&'a QueueSummary> for QueueJson<'a> {
    fn from(q: &'a QueueSummary) -> Self {
        QueueJson {
            queued: q.queued,
            running: q.running,
            done: q.done,
            failed: q.failed,
            running_jobs: q
                .running_jobs
                .iter()
                .map(|job| RunningJson {
                    platform: &job.platform,
                    username: &job.username,
                    worker: job.worker.as_deref(),
                    attempts: job.attempts,
                    started: rfc3339(job.started_at),
                    lease_expires: rfc3339(job.lease_expires_at),
                    lease_expired: job.lease_expired,
                    place: job.place.as_ref().map(PlaceJson::from),
                })
                .collect(),
            queued_jobs: q
                .queued_jobs
                .iter()
                .map(|job| QueuedJson {
                    platform: &job.platform,
                    username: &job.username,
                    place: job.place.as_ref().map(PlaceJson::from),
                })
                .collect(),
            failed_jobs: q
                .failed_jobs
                .iter()
                .map(|job| FailedJson {
                    platform: &job.platform,
                    username: &job.username,
                    worker: job.worker.as_deref(),
                    attempts: job.attempts,
                    finished: rfc3339(job.finished_at),
                    error: job.last_error.as_deref(),
                })
                .collect(),
            workers: q.workers.iter().map(WorkerJson::from).collect(),
            drains_at: rfc3339(q.drains_at),
        }
    }
}

/// The human status: the players' table (or a line saying there are none), then the queue
/// when the store has one, then the time zone when any time was shown.
pub fn report(target: &str, players: &[PlayerSummary], queue: Option<&QueueSummary>) -> String {
    let mut out = if players.is_empty() {
        format!("no player has been imported into {target} yet\n")
    } else {
        table(players)
    };
    if let Some(queue) = queue {
        out.push('\n');
        out.push_str(&queue_table(queue));
    }
    let jobs_shown = queue.is_some_and(|q| {
        !q.running_jobs.is_empty()
            || !q.queued_jobs.is_empty()
            || !q.failed_jobs.is_empty()
            || !q.workers.is_empty()
    });
    if !players.is_empty() || jobs_shown {
        out.push_str("(times in UTC)\n");
    }
    out
}

/// `2024-03-01 12:00`, UTC, or `-`.
fn minute(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// `2024-03-01 12:00:05`, UTC: a heartbeat comes every few seconds.
fn second(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_string())
}

/// The players' table: times in UTC, to the minute.
fn table(players: &[PlayerSummary]) -> String {
    let mut table = Table::new(&[
        ("player", Left),
        ("games", Right),
        ("newest game", Left),
        ("last success", Left),
        ("last error", Left),
    ]);
    for p in players {
        table.row([
            format!("{}:{}", p.platform, p.username),
            HumanCount(p.games).to_string(),
            minute(p.newest_game_at),
            minute(p.last_success_at),
            p.last_error.clone().unwrap_or_default(),
        ]);
    }
    // Room for 999,999,999 games: the columns stay where they were as players grow.
    table.widen(1, 9);
    table.to_string()
}

/// The queue: a line of counts, then the running jobs (who runs each, since when, and whether
/// its worker still renews the lease) and the failed ones with their errors.
fn queue_table(queue: &QueueSummary) -> String {
    if queue.is_empty() {
        return "queue: empty\n".to_string();
    }
    let name = |job: &Job| format!("{}:{}", job.platform, job.username);
    let mut running = Table::new(&[
        ("running", Left),
        ("worker", Left),
        ("since", Left),
        ("lease", Left),
        ("progress", Left),
        ("eta", Left),
    ]);
    for job in &queue.running_jobs {
        let lease = match job.lease_expires_at {
            Some(_) if job.lease_expired => {
                format!("expired {} (worker dead?)", minute(job.lease_expires_at))
            }
            Some(_) => format!("until {}", minute(job.lease_expires_at)),
            None => "-".into(),
        };
        let place = job.place.as_ref();
        running.row([
            name(job),
            job.worker.clone().unwrap_or_else(|| "-".into()),
            minute(job.started_at),
            lease,
            place.map(progress).unwrap_or_else(|| "-".into()),
            minute(place.map(|p| p.estimated_finish)),
        ]);
    }
    let mut queued = Table::new(&[
        ("next", Right),
        ("queued", Left),
        ("priority", Right),
        ("games", Right),
        ("start", Left),
    ]);
    for job in &queue.queued_jobs {
        let place = job.place.as_ref();
        queued.row([
            place
                .and_then(|p| p.position)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            name(job),
            place.map(|p| p.priority.to_string()).unwrap_or_default(),
            place
                .map(|p| format!("~{}", HumanCount(p.expected_games)))
                .unwrap_or_default(),
            minute(place.map(|p| p.estimated_start)),
        ]);
    }
    let mut failed = Table::new(&[
        ("failed", Left),
        ("attempts", Right),
        ("finished", Left),
        ("error", Left),
    ]);
    for job in &queue.failed_jobs {
        failed.row([
            name(job),
            job.attempts.to_string(),
            minute(job.finished_at),
            job.last_error.clone().unwrap_or_default(),
        ]);
    }
    // One width for the lists' names, so that they read as one table.
    let width = running.width(0).max(failed.width(0));
    running.widen(0, width);
    failed.widen(0, width);
    queued.widen(1, width);
    let mut out = format!(
        "queue: {} queued, {} running, {} done, {} failed\n",
        HumanCount(queue.queued),
        HumanCount(queue.running),
        HumanCount(queue.done),
        HumanCount(queue.failed)
    );
    // The store lists the first jobs of each status; the counts say how many there are.
    let lists = [
        (running, queue.running_jobs.len(), queue.running, "running"),
        (queued, queue.queued_jobs.len(), queue.queued, "queued"),
        (failed, queue.failed_jobs.len(), queue.failed, "failed"),
    ];
    for (table, listed, all, status) in lists {
        if listed == 0 {
            continue;
        }
        out.push_str(&table.to_string());
        let more = all.saturating_sub(listed as u64);
        if more > 0 {
            out.push_str(&format!("... and {} more {status}\n", HumanCount(more)));
        }
    }
    if let Some(drains_at) = queue.drains_at {
        out.push_str(&format!(
            "queue drains around {} (estimate)\n",
            minute(Some(drains_at))
        ));
    }
    out.push_str(&workers_table(&queue.workers));
    out
}

/// A running job's progress: `fetching 1,234/~2,000 61%`, without the phase when its worker
/// has not said it.
fn progress(place: &Place) -> String {
    let done = HumanCount(place.games_done.unwrap_or(0));
    let expected = HumanCount(place.expected_games);
    let mut shown = format!("{done}/~{expected}");
    if let Some(phase) = &place.phase {
        shown = format!("{phase} {shown}");
    }
    if let Some(percent) = place.percent {
        shown.push_str(&format!(" {percent}%"));
    }
    shown
}

/// The workers: where each runs, how many jobs it holds, when it last said it was alive, and
/// whether it still does. Nothing when no worker has been seen for a day.
fn workers_table(workers: &[Worker]) -> String {
    if workers.is_empty() {
        return String::new();
    }
    let mut table = Table::new(&[
        ("worker", Left),
        ("pid", Right),
        ("jobs", Right),
        ("last heartbeat", Left),
        ("state", Left),
    ]);
    for w in workers {
        table.row([
            w.host.clone().unwrap_or_else(|| w.worker.clone()),
            w.pid
                .map(|pid| pid.to_string())
                .unwrap_or_else(|| "-".into()),
            w.jobs.to_string(),
            second(w.heartbeat_at),
            if w.dead {
                "dead (no heartbeat)"
            } else {
                "live"
            }
            .to_string(),
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_one_row_per_player() {
        let players = [
            PlayerSummary {
                platform: "chesscom".into(),
                username: "bob".into(),
                games: 0,
                newest_game_at: None,
                last_success_at: None,
                last_attempt_at: Some(1_714_644_660_000),
                last_error: Some("user not found".into()),
            },
            PlayerSummary {
                platform: "lichess".into(),
                username: "alice".into(),
                games: 1234,
                newest_game_at: Some(1_709_294_400_000),
                last_success_at: Some(1_714_644_660_000),
                last_attempt_at: Some(1_714_644_660_000),
                last_error: None,
            },
        ];
        assert_eq!(
            report("games.sqlite", &players, None),
            "player             games  newest game       last success      last error\n\
             chesscom:bob           0  -                 -                 user not found\n\
             lichess:alice      1,234  2024-03-01 12:00  2024-05-02 10:11\n\
             (times in UTC)\n"
        );
        let json = serde_json::to_value(PlayerJson::from(&players[1])).unwrap();
        assert_eq!(json["newest_game"], "2024-03-01T12:00:00Z");
        assert_eq!(json["last_error"], serde_json::Value::Null);
        assert_eq!(
            report("games.sqlite", &[], None),
            "no player has been imported into games.sqlite yet\n"
        );
    }

    fn job(name: &str, worker: Option<&str>) -> Job {
        let (platform, username) = name.split_once(':').unwrap();
        Job {
            platform: platform.into(),
            username: username.into(),
            worker: worker.map(Into::into),
            attempts: 1,
            started_at: None,
            lease_expires_at: None,
            lease_expired: false,
            finished_at: None,
            last_error: None,
            place: None,
        }
    }

    #[test]
    fn queue_shows_counts_running_workers_and_failures() {
        let queue = QueueSummary {
            queued: 1200,
            running: 2,
            done: 7,
            failed: 1,
            running_jobs: vec![
                Job {
                    started_at: Some(1_714_644_600_000),
                    lease_expires_at: Some(1_714_644_660_000),
                    lease_expired: true,
                    ..job("lichess:carol", Some("host-b:42:beef"))
                },
                Job {
                    started_at: Some(1_714_644_600_000),
                    lease_expires_at: Some(1_714_648_260_000),
                    place: Some(Place {
                        position: None,
                        priority: 0,
                        phase: Some("fetching".into()),
                        games_done: Some(1234),
                        expected_games: 2000,
                        percent: Some(61),
                        estimated_start: 1_714_644_600_000,
                        estimated_finish: 1_714_644_900_000,
                    }),
                    ..job("lichess:erin", Some("host-a:7:cafe"))
                },
            ],
            queued_jobs: vec![Job {
                place: Some(Place {
                    position: Some(1),
                    priority: 5,
                    phase: None,
                    games_done: None,
                    expected_games: 1000,
                    percent: None,
                    estimated_start: 1_714_644_900_000,
                    estimated_finish: 1_714_645_020_000,
                }),
                ..job("chesscom:frank", None)
            }],
            drains_at: Some(1_714_645_020_000),
            failed_jobs: vec![Job {
                attempts: 3,
                finished_at: Some(1_714_644_660_000),
                last_error: Some("user not found".into()),
                ..job("chesscom:dave", None)
            }],
            workers: vec![
                Worker {
                    worker: "host-a:7:99:cafe".into(),
                    host: Some("host-a".into()),
                    pid: Some(7),
                    jobs: 1,
                    started_at: 1_714_644_000_000,
                    heartbeat_at: 1_714_648_205_000,
                    dead: false,
                },
                Worker {
                    worker: "elsewhere".into(),
                    host: None,
                    pid: None,
                    jobs: 0,
                    started_at: 1_714_644_000_000,
                    heartbeat_at: 1_714_644_605_000,
                    dead: true,
                },
            ],
        };
        let lines: Vec<String> = report("postgres://me:***@db/games", &[], Some(&queue))
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "no player has been imported into postgres://me:***@db/games yet",
                "",
                "queue: 1,200 queued, 2 running, 7 done, 1 failed",
                "running        worker          since             lease                                    progress                   eta",
                "lichess:carol  host-b:42:beef  2024-05-02 10:10  expired 2024-05-02 10:11 (worker dead?)  -                          -",
                "lichess:erin   host-a:7:cafe   2024-05-02 10:10  until 2024-05-02 11:11                   fetching 1,234/~2,000 61%  2024-05-02 10:15",
                "next  queued          priority   games  start",
                "   1  chesscom:frank         5  ~1,000  2024-05-02 10:15",
                "... and 1,199 more queued",
                "failed         attempts  finished          error",
                "chesscom:dave         3  2024-05-02 10:11  user not found",
                "queue drains around 2024-05-02 10:17 (estimate)",
                "worker     pid  jobs  last heartbeat       state",
                "host-a       7     1  2024-05-02 11:10:05  live",
                "elsewhere    -     0  2024-05-02 10:10:05  dead (no heartbeat)",
                "(times in UTC)",
            ]
        );
        let json = serde_json::to_value(QueueJson::from(&queue)).unwrap();
        assert_eq!(json["queued"], 1200);
        assert_eq!(json["running_jobs"][0]["lease_expired"], true);
        assert_eq!(
            json["running_jobs"][0]["lease_expires"],
            "2024-05-02T10:11:00Z"
        );
        assert_eq!(json["running_jobs"][1]["worker"], "host-a:7:cafe");
        assert_eq!(json["failed_jobs"][0]["error"], "user not found");
        assert_eq!(json["failed_jobs"][0]["finished"], "2024-05-02T10:11:00Z");
        assert_eq!(json["workers"][0]["last_heartbeat"], "2024-05-02T11:10:05Z");
        assert_eq!(json["workers"][1]["dead"], true);
        assert_eq!(json["running_jobs"][1]["progress_percent"], 61);
        assert_eq!(
            json["running_jobs"][1]["estimated_finish"],
            "2024-05-02T10:15:00Z"
        );
        assert_eq!(json["queued_jobs"][0]["position"], 1);
        assert_eq!(
            json["queued_jobs"][0]["estimated_start"],
            "2024-05-02T10:15:00Z"
        );
        assert_eq!(json["drains_at"], "2024-05-02T10:17:00Z");

        let empty = QueueSummary::default();
        assert_eq!(
            report("postgres://me@db/games", &[], Some(&empty)),
            "no player has been imported into postgres://me@db/games yet\n\nqueue: empty\n"
        );
        let only_counts = QueueSummary {
            done: 3,
            ..QueueSummary::default()
        };
        assert_eq!(
            queue_table(&only_counts),
            "queue: 0 queued, 0 running, 3 done, 0 failed\n"
        );
    }
}
