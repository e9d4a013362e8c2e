//! An application watching the PostgreSQL queue with plain SQL: a running job's progress in its
//! row, the workers' heartbeats, each job's place and ETA in `import_queue`, and an idle worker
//! woken by a new job.

use std::path::Path;
use std::process::{Child, Stdio};

use chess_import_fake::FakeServer;
use serde_json::{Value, json};

use crate::queue::{database, readme_enqueue_sql, summary};
use crate::support::cli::{binary, enqueue, value_in, worker};
use crate::support::{pg, wait_for};

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;

/// The server's clock, as unix ms, as the queue writes its times.
const NOW: &str = "(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint";

/// One job's `status`, `phase`, `games_done`, `games_total` and the age of its `progress_at`
/// in ms, read on a connection of the test's own.
fn progress_of(db: &str, username: &str) -> Vec<Option<String>> {
    let row = value_in(
        Path::new(db),
        &format!(
            "SELECT concat_ws(' ', status, coalesce(phase, '-'), coalesce(games_done, -1),
                 coalesce(games_total, -1), coalesce(progress_at, -1),
                 {NOW} - coalesce(progress_at, 0))
             FROM import_jobs WHERE username = '{username}'"
        ),
    )
    .unwrap_or_default();
    row.split(' ').map(|part| Some(part.to_string())).collect()
}

#[test]
fn a_running_jobs_row_shows_its_games_rising_and_a_recent_progress_time() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2000, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    let running = worker(&fake, &db).spawn().unwrap();
    let mut seen: Vec<(i64, i64)> = Vec::new();
    wait_for("alice's row to show progress twice more", || {
        let row = progress_of(&db, "alice");
        let field = |index: usize| row.get(index).cloned().flatten().unwrap_or_default();
        if field(0) != "running" {
            return field(0) == "done";
        }
        assert!(
            ["fetching", "writing", "waiting", "retrying"].contains(&field(1).as_str()),
            "{row:?}"
        );
        if field(2) != "0" {
            assert_eq!(field(3), "2000", "the profile's count: {row:?}");
        }
        let age: i64 = field(5).parse().unwrap_or(i64::MAX);
        assert!(age < 10 * SECOND, "progress_at is stale: {row:?}");
        let sample = (field(2).parse().unwrap_or(0), field(4).parse().unwrap_or(0));
        if seen.last() != Some(&sample) {
            seen.push(sample);
        }
        seen.windows(2).filter(|w| w[1].0 > w[0].0).count() >= 2
    });
    let output = running.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let rises: Vec<_> = seen.windows(2).filter(|w| w[1].0 > w[0].0).collect();
    assert!(rises.len() >= 2, "games_done rose at least twice: {seen:?}");
    assert!(
        rises.iter().all(|w| w[1].1 > w[0].1),
        "progress_at advanced with it: {seen:?}"
    );
    let row = progress_of(&db, "alice");
    assert_eq!(row[0].as_deref(), Some("done"), "{row:?}");
    assert_eq!(
        row[1].as_deref(),
        Some("-"),
        "no phase once it ended: {row:?}"
    );
}

/// `status` on `db`, as `--json` when asked; its stdout.
fn status(db: &str, json: bool) -> String {
    let mut command = binary();
    command.args(["status", "--db", db]);
    if json {
        command.arg("--json");
    }
    let output = command.output().expect("run chess-import status");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn status_shows_the_live_workers_and_marks_a_dead_one() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2000, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    // One that was killed a minute ago: its heartbeat expired half a minute ago.
    pg::execute(
        &db,
        &format!(
            "INSERT INTO import_workers (worker, host, pid, started_at, heartbeat_at, expires_at)
             VALUES ('ghost:4242:1:beef', 'ghost', 4242, {NOW} - 120000, {NOW} - 60000,
                     {NOW} - 30000)"
        ),
    );
    let running = worker(&fake, &db).spawn().unwrap();
    let pid = running.id();
    wait_for("the worker's heartbeat with its job", || {
        value_in(
            Path::new(&db),
            &format!(
                "SELECT count(*) FROM import_workers AS w JOIN import_jobs AS j
                 ON j.worker = w.worker WHERE w.pid = {pid} AND j.status = 'running'"
            ),
        )
        .as_deref()
            == Some("1")
    });
    let json: Value = serde_json::from_str(&status(&db, true)).expect("JSON");
    let workers = json["queue"]["workers"]
        .as_array()
        .expect("workers")
        .clone();
    assert_eq!(workers.len(), 2, "{workers:?}");
    let live = workers
        .iter()
        .find(|w| w["pid"] == pid)
        .expect("the live worker");
    assert_eq!(live["jobs"], 1, "{live}");
    assert_eq!(live["dead"], false, "{live}");
    assert!(live["last_heartbeat"].is_string(), "{live}");
    let ghost = workers
        .iter()
        .find(|w| w["host"] == "ghost")
        .expect("ghost");
    assert_eq!(
        [&ghost["pid"], &ghost["jobs"], &ghost["dead"]],
        [&json!(4242), &json!(0), &json!(true)]
    );
    let table = status(&db, false);
    let ghost_line = table.lines().find(|l| l.starts_with("ghost")).unwrap_or("");
    assert!(ghost_line.contains("dead"), "{table}");
    let live_line = table
        .lines()
        .find(|l| l.contains(&format!(" {pid} ")))
        .unwrap_or("");
    assert!(live_line.ends_with("live"), "{table}");

    let output = running.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    assert_eq!(
        pg::query_strings(&db, "SELECT host FROM import_workers"),
        [Some("ghost".to_string())],
        "a worker that ended cleanly has left"
    );
}

#[test]
fn import_queue_lists_the_queued_jobs_in_order_with_estimates_while_a_worker_runs() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2000, T0, SECOND);
    for name in ["ben", "cid", "dot"] {
        fake.add_lichess_games(name, 2, T0, SECOND);
    }
    fake.set_lichess_rate(Some(400.0));
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    assert_eq!(
        enqueue(&db, &["lichess:ben", "lichess:cid", "lichess:dot"]).0,
        0
    );
    let running = worker(&fake, &db).args(["--jobs", "1"]).spawn().unwrap();
    wait_for("alice to have stored games", || {
        value_in(
            Path::new(&db),
            "SELECT games_done FROM import_jobs WHERE username = 'alice'",
        )
        .is_some_and(|games| games != "0")
    });
    let rows = pg::query_strings(
        &db,
        &format!(
            "SELECT concat_ws(' ', coalesce(position::text, '-'), username, status,
                 estimated_start IS NOT NULL, estimated_finish >= {NOW} - 1000,
                 coalesce(progress BETWEEN 0 AND 1, false),
                 estimated_start <= lead(estimated_start) OVER (ORDER BY position NULLS FIRST))
             FROM import_queue ORDER BY position NULLS FIRST"
        ),
    );
    let rows: Vec<String> = rows.into_iter().flatten().collect();
    assert_eq!(
        rows,
        [
            "- alice running t t t t",
            "1 ben queued t t f t",
            "2 cid queued t t f t",
            "3 dot queued t t f",
        ]
    );
    let json: Value = serde_json::from_str(&status(&db, true)).expect("JSON");
    let queue = &json["queue"];
    let positions: Vec<&Value> = queue["queued_jobs"]
        .as_array()
        .expect("queued jobs")
        .iter()
        .map(|job| &job["position"])
        .collect();
    assert_eq!(positions, [&json!(1), &json!(2), &json!(3)], "{queue}");
    assert!(
        queue["queued_jobs"][0]["estimated_start"].is_string(),
        "{queue}"
    );
    let alice = &queue["running_jobs"][0];
    assert_eq!(alice["expected_games"], 2000, "{alice}");
    assert!(
        alice["progress_percent"].as_u64().is_some_and(|p| p <= 100),
        "{alice}"
    );
    assert!(alice["estimated_finish"].is_string(), "{alice}");
    assert!(queue["drains_at"].is_string(), "{queue}");

    let output = running.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    assert_eq!(
        pg::query_i64(&db, "SELECT count(*) FROM import_queue"),
        0,
        "a drained queue lists nothing"
    );
}

/// `chess-import worker` on `db` until it is stopped, looking for jobs every `poll`.
fn lasting_worker(fake: &FakeServer, db: &str, poll: &str) -> Child {
    binary()
        .args(["worker", "--json", "--progress", "none", "--db", db])
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .args(["--poll-interval", poll, "--lease-ttl", "1s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chess-import worker")
}

fn job_done(db: &str, username: &str) -> bool {
    value_in(
        Path::new(db),
        &format!("SELECT status FROM import_jobs WHERE username = '{username}'"),
    )
    .as_deref()
        == Some("done")
}

#[test]
fn an_idle_worker_takes_a_new_job_when_told_whether_enqueued_or_inserted_with_sql() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    for name in ["alice", "zed"] {
        fake.add_lichess_games(name, 2, T0, SECOND);
    }
    // Directly, the worker polls a minute apart, beyond `wait_for`'s patience: only a
    // notification has it take the jobs in time. Through a transaction pooler no notification
    // comes, and its polls take them.
    let poll = if pg::pooled() { "100ms" } else { "60s" };
    // The tables, before the worker looks for itself in them.
    status(&db, false);
    let running = lasting_worker(&fake, &db, poll);
    let pid = running.id();
    wait_for("the worker to be idle", || {
        value_in(
            Path::new(&db),
            &format!("SELECT count(*) FROM import_workers WHERE pid = {pid}"),
        )
        .as_deref()
            == Some("1")
    });
    if !pg::pooled() {
        wait_for("the worker to listen", || {
            pg::query_i64(
                &db,
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND query = 'LISTEN chess_import_jobs'",
            ) == 1
        });
    }
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    wait_for("the enqueued job to be done", || job_done(&db, "alice"));
    pg::execute(&db, readme_enqueue_sql());
    wait_for("the job inserted with SQL to be done", || {
        job_done(&db, "zed")
    });

    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) has no memory effects; the child is not reaped yet, so the pid is its own.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let output = running.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", summary(&output));
    let players = summary(&output)["players"].clone();
    assert_eq!(players[0]["username"], "alice", "{players}");
    assert_eq!(players[1]["username"], "zed", "{players}");
}

/// The server's process listening for new jobs in the database at `db`, if one is.
fn listener_pid(db: &str) -> Option<String> {
    value_in(
        Path::new(db),
        "SELECT min(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query = 'LISTEN chess_import_jobs'",
    )
}

#[test]
fn a_worker_whose_listening_connection_is_dropped_listens_again() {
    let Some(db) = database() else { return };
    if pg::pooled() {
        // Through the pooler the worker never listens: the test above has it poll.
        return;
    }
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2, T0, SECOND);
    status(&db, false);
    let running = lasting_worker(&fake, &db, "60s");
    wait_for("the worker to listen", || listener_pid(&db).is_some());
    let first = listener_pid(&db);
    let dropped = pg::query_i64(
        &db,
        &format!(
            "SELECT CASE WHEN pg_terminate_backend({}, 5000) THEN 1 ELSE 0 END::bigint",
            first.as_deref().unwrap_or("0")
        ),
    );
    assert_eq!(dropped, 1);
    wait_for("the worker to listen again", || {
        listener_pid(&db).is_some_and(|pid| Some(&pid) != first.as_ref())
    });
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    wait_for("the job to be done", || job_done(&db, "alice"));

    let pid = libc::pid_t::try_from(running.id()).expect("a pid");
    // SAFETY: kill(2) has no memory effects; the child is not reaped yet, so the pid is its own.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let output = running.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", summary(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot listen for new jobs"), "{stderr}");
}

#[test]
fn status_lists_the_first_hundred_queued_jobs_and_counts_the_rest() {
    let Some(db) = database() else { return };
    let players: Vec<String> = (0..105).map(|n| format!("lichess:p{n:03}")).collect();
    let players: Vec<&str> = players.iter().map(String::as_str).collect();
    assert_eq!(enqueue(&db, &players).0, 0);

    let table = status(&db, false);
    assert!(table.contains("queue: 105 queued"), "{table}");
    assert!(table.contains("lichess:p099"), "{table}");
    assert!(!table.contains("lichess:p100"), "{table}");
    assert!(table.contains("... and 5 more queued"), "{table}");

    let json: Value = serde_json::from_str(&status(&db, true)).expect("status JSON");
    let queue = &json["queue"];
    assert_eq!(queue["queued"], 105, "{queue}");
    let listed = queue["queued_jobs"].as_array().expect("queued_jobs");
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0]["position"], 1);
    assert_eq!(listed[99]["position"], 100);
}

#[test]
fn a_providers_rate_counts_recurring_runs_and_ignores_a_previous_runs_end() {
    let Some(db) = database() else { return };
    // A recurring job queued again after a run of 1,000 games in 10 s; one claimed again, 100
    // games in 5 s into its new run, its row still holding the end of the run before; a
    // queued job expecting 7,333 games. The rate is 1,100 games in 15 s: its work is 100 s.
    assert!(
        status(&db, false).contains("queue: empty"),
        "status makes the tables"
    );
    pg::execute(
        &db,
        &format!(
            "INSERT INTO import_jobs (platform, username, status, worker, enqueued_at,
                 available_at, started_at, finished_at, progress_at, games_done, games_total,
                 every_ms)
             VALUES
             ('lichess', 'again', 'queued', NULL, {NOW} - 60000, {NOW} + 3600000,
              {NOW} - 20000, {NOW} - 10000, {NOW} - 10000, 1000, 1000, 3600000),
             ('lichess', 'rerun', 'running', 'w', {NOW} - 60000, {NOW} - 60000,
              {NOW} - 5000, {NOW} - 3600000, {NOW}, 100, 100000, 3600000),
             ('lichess', 'next', 'queued', NULL, {NOW}, {NOW} - 1000,
              NULL, NULL, NULL, NULL, 7333, NULL)"
        ),
    );
    let work_ms = pg::query_i64(
        &db,
        "SELECT estimated_finish - estimated_start FROM import_queue WHERE username = 'next'",
    );
    assert!((99_000..=101_000).contains(&work_ms), "{work_ms} ms");
}
