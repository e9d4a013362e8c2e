//! Many workers sharing one PostgreSQL queue: every job done once, every game stored once, no
//! player imported by two processes at once, and a dead worker's job finished by another.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use chess_import::store::postgres::queue::MAX_FAILURES;
use chess_import_fake::{ChesscomGameSpec, FakeServer, LichessGameSpec, Provider};
use serde_json::Value;

use crate::support::cli::{
    Backend, Import, enqueue, game_keys, games_in, links_in, value_in, worker,
};
use crate::support::{pg, wait_for};

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;
/// A `--not-before` long past: due at once, and earlier than any job's time.
const PAST: &str = "2020-01-01T00:00:00Z";

pub(crate) fn database() -> Option<String> {
    match Backend::postgres()? {
        Backend::Postgres(url) => Some(url),
        Backend::Sqlite => None,
    }
}

/// The number `sql` reads, 0 for none.
fn number(db: &str, sql: &str) -> i64 {
    value_in(Path::new(db), sql)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn jobs_with_status(db: &str, status: &str) -> i64 {
    number(
        db,
        &format!("SELECT count(*) FROM import_jobs WHERE status = '{status}'"),
    )
}

/// Waits until no lease is live by the server's clock, neither a job's nor a player's: a worker
/// that claims the job of a dead one once the job's lease has expired may find the player's,
/// renewed a moment later, still held, and put the job back.
fn wait_for_every_lease_to_expire(db: &str) {
    let now = "(floor(extract(epoch FROM clock_timestamp()) * 1000))::bigint";
    let live = format!(
        "SELECT (SELECT count(*) FROM import_leases WHERE expires_at > {now})
              + (SELECT count(*) FROM import_jobs WHERE status = 'running'
                 AND lease_expires_at >= {now})"
    );
    wait_for("the dead worker's leases to expire", || {
        value_in(Path::new(db), &live).as_deref() == Some("0")
    });
}

/// Queues alice, whose five seconds of games are committed about every second: a test can stop a
/// worker, or its connections, while they still come.
fn queue_a_slow_player(fake: &FakeServer, db: &str) -> Vec<String> {
    let ids = fake.add_lichess_games("alice", 2000, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    assert_eq!(enqueue(db, &["lichess:alice"]).0, 0);
    ids
}

fn stored_games(db: &str) -> usize {
    value_in(Path::new(db), "SELECT count(*) FROM games")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub(crate) fn summary(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn enqueue_is_idempotent_and_keeps_order() {
    let Some(db) = database() else { return };
    let (code, stdout, stderr) = enqueue(&db, &["lichess:alice", "chesscom:bob", "lichess:Alice"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"queued":2,"unchanged":0}"#);
    let (code, stdout, _) = enqueue(&db, &["chesscom:bob", "lichess:carol"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), r#"{"queued":1,"unchanged":1}"#);
    let order = value_in(
        Path::new(&db),
        "SELECT string_agg(username, ',' ORDER BY seq) FROM import_jobs",
    );
    assert_eq!(order.as_deref(), Some("alice,bob,carol"));
    assert_eq!(jobs_with_status(&db, "queued"), 3);
}

#[test]
fn the_queue_needs_postgresql() {
    // In a directory of its own: the README's quick start leaves a games.sqlite in the
    // repository, where the tests run.
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = dir.path().join("games.sqlite");
    let sqlite = sqlite.to_str().expect("a UTF-8 path");
    let (code, _, stderr) = enqueue(sqlite, &["lichess:alice"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("PostgreSQL"), "{stderr}");
    let fake = FakeServer::start();
    let output = worker(&fake, sqlite).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!Path::new(sqlite).exists(), "nothing was created");
}

#[test]
fn three_workers_drain_thirty_players_exactly_once() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    // Three workers on one machine share one address; real ones would have one each.
    fake.set_lichess_max_streams(3);
    fake.set_chesscom_max_in_flight(6);
    fake.set_lichess_rate(Some(2000.0));
    fake.set_chesscom_latency(Duration::from_millis(5));
    let mut players = Vec::new();
    let mut expected = Vec::new();
    for i in 0..15 {
        let name = format!("lplayer{i:02}");
        for id in fake.add_lichess_games(&name, 20, T0 + i * 1000 * SECOND, SECOND) {
            expected.push(("lichess".to_string(), id));
        }
        players.push(format!("lichess:{name}"));
    }
    for i in 0..15 {
        let name = format!("cplayer{i:02}");
        for id in fake.add_chesscom_games(&name, 2023, 10, 5) {
            expected.push(("chesscom".to_string(), id));
        }
        players.push(format!("chesscom:{name}"));
    }
    // Games between two queued players, which two workers may meet from both sides.
    for i in 0..5 {
        let (white, black) = (format!("lplayer{i:02}"), format!("lplayer{:02}", i + 5));
        let id = fake.add_lichess_game(LichessGameSpec::new(&white, &black, T0 - i * SECOND));
        expected.push(("lichess".to_string(), id));
        let (white, black) = (format!("cplayer{i:02}"), format!("cplayer{:02}", i + 5));
        let end = 1_698_000_000 + i;
        let id = fake.add_chesscom_game(ChesscomGameSpec::new(&white, &black, end));
        expected.push(("chesscom".to_string(), id));
    }
    expected.sort();
    let names: Vec<&str> = players.iter().map(String::as_str).collect();
    assert_eq!(enqueue(&db, &names).0, 0);

    let workers: Vec<_> = (0..3)
        .map(|_| worker(&fake, &db).args(["--jobs", "3"]).spawn().unwrap())
        .collect();
    let outputs: Vec<Output> = workers
        .into_iter()
        .map(|w| w.wait_with_output().unwrap())
        .collect();
    let mut imported = Vec::new();
    for output in &outputs {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        for player in summary(output)["players"].as_array().unwrap() {
            assert_eq!(player["status"], "ok", "{player}");
            imported.push(format!(
                "{}:{}",
                player["platform"].as_str().unwrap(),
                player["username"].as_str().unwrap()
            ));
        }
    }
    imported.sort();
    let mut wanted = players.clone();
    wanted.sort();
    assert_eq!(imported, wanted, "each job done by exactly one worker");
    assert!(
        outputs
            .iter()
            .filter(|o| !summary(o)["players"].as_array().unwrap().is_empty())
            .count()
            >= 2,
        "the work was shared"
    );
    assert_eq!(games_in(Path::new(&db)), expected);
    assert_eq!(jobs_with_status(&db, "done"), 30);
    let total_new: u64 = outputs
        .iter()
        .map(|o| summary(o)["new_games"].as_u64().unwrap())
        .sum();
    assert_eq!(
        total_new as usize,
        expected.len(),
        "every game stored exactly once"
    );
    assert_eq!(fake.max_any_player_concurrency(Provider::Lichess), 1);
    assert_eq!(fake.max_any_player_concurrency(Provider::Chesscom), 1);
}

#[test]
fn a_dead_workers_job_is_finished_by_another_after_its_lease_expires() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    let ids = queue_a_slow_player(&fake, &db);
    let mut first = worker(&fake, &db).spawn().unwrap();
    let stored = || stored_games(&db);
    wait_for("the first worker to commit games", || stored() > 0);
    first.kill().unwrap();
    first.wait().unwrap();
    let survived = stored();
    assert!(survived < ids.len(), "the job finished before the kill");
    assert!(fake.wait_idle(Duration::from_secs(5)));
    fake.set_lichess_rate(None);
    wait_for_every_lease_to_expire(&db);

    let second = worker(&fake, &db).output().unwrap();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report = summary(&second);
    assert_eq!(report["players"][0]["status"], "ok");
    assert_eq!(report["new_games"], ids.len() - survived);
    let expected = game_keys(&ids, &[]);
    assert_eq!(games_in(Path::new(&db)), expected);
    assert_eq!(jobs_with_status(&db, "done"), 1);
    let attempts = value_in(Path::new(&db), "SELECT attempts FROM import_jobs");
    assert_eq!(attempts.as_deref(), Some("2"));
}

#[test]
fn an_import_and_a_worker_never_import_one_player_at_once() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 400, T0, SECOND);
    fake.set_lichess_max_streams(2);
    fake.set_lichess_rate(Some(400.0));
    let import = Import::new(&fake).players(["lichess:alice"]).db_target(&db);
    let running = import.command().spawn().unwrap();
    wait_for("the import to stream alice's games", || {
        fake.in_flight(Provider::Lichess) > 0
    });
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    let worked = worker(&fake, &db).output().unwrap();
    let imported = running.wait_with_output().unwrap();
    assert_eq!(imported.status.code(), Some(0));
    assert_eq!(
        worked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&worked.stderr)
    );
    assert_eq!(fake.max_player_concurrency(Provider::Lichess, "alice"), 1);
    assert_eq!(games_in(Path::new(&db)).len(), ids.len());
    assert_eq!(jobs_with_status(&db, "done"), 1);
}

/// How many connections a worker has open while it imports: its store's, its queue's and the one
/// that listens for new jobs, which through a transaction pooler leaves once it has found that
/// notifications do not come.
fn worker_connections() -> std::ops::RangeInclusive<i64> {
    if pg::pooled() { 2..=3 } else { 3..=3 }
}

/// `url` with an `application_name` of its own, by which a test finds the process's connections.
fn named(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}

#[test]
fn a_worker_whose_connections_the_server_drops_mid_run_reconnects_and_stores_every_game_once() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    let ids = queue_a_slow_player(&fake, &db);
    let name = format!("worker_{:08x}", fastrand::u32(..));
    let running = worker(&fake, &named(&db, &name)).spawn().unwrap();
    let stored = || stored_games(&db);
    wait_for("the worker to commit games", || stored() > 0);
    // Every connection of the worker: its store's, its queue's and the one listening for jobs.
    let killed = pg::drop_connections(&db, &[&name]);
    let before = stored();
    let output = running.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(worker_connections().contains(&killed), "{killed}: {stderr}");
    assert!(
        before < ids.len(),
        "the job finished before the connections were dropped"
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("connection lost"), "{stderr}");
    assert_eq!(summary(&output)["players"][0]["status"], "ok");
    let expected = game_keys(&ids, &[]);
    assert_eq!(games_in(Path::new(&db)), expected);
    assert_eq!(links_in(Path::new(&db)).len(), ids.len());
    assert_eq!(jobs_with_status(&db, "done"), 1);
    let attempts = value_in(Path::new(&db), "SELECT attempts FROM import_jobs");
    assert_eq!(
        attempts.as_deref(),
        Some("1"),
        "finished by the worker that claimed it"
    );
}

#[test]
fn a_worker_whose_database_is_gone_for_good_stops_with_the_reason() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    assert_eq!(enqueue(&db, &["lichess:alice"]).0, 0);
    // Another worker holds the only job for long: this one's queue is not drained, so it polls.
    pg::execute(
        &db,
        "UPDATE import_jobs SET status = 'running', worker = 'elsewhere',
             lease_expires_at = 9000000000000000000",
    );
    let name = format!("worker_{:08x}", fastrand::u32(..));
    let running = worker(&fake, &named(&db, &name)).spawn().unwrap();
    wait_for("the worker's store and queue to connect", || {
        pg::clients(&db, &name) >= 2
    });
    let database = pg::query_strings(&db, "SELECT current_database()").remove(0);
    let database = database.unwrap();
    let server = std::env::var(pg::ENV).unwrap();
    pg::execute(
        &server,
        &format!("ALTER DATABASE {database} ALLOW_CONNECTIONS false"),
    );
    pg::execute(&server, &format!("DROP DATABASE {database} WITH (FORCE)"));
    let output = running.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the worker stopped: {MAX_FAILURES} requests in a row to the job queue failed"
        )),
        "{stderr}"
    );
    // PgBouncer passes on the server's words once, then says its own.
    assert!(
        stderr.contains(&format!("database \"{database}\" does not exist"))
            || (pg::pooled() && stderr.contains("server login has been failing")),
        "{stderr}"
    );
    assert_eq!(summary(&output)["players"], Value::Array(Vec::new()));
}

/// How many seconds from now each queued job is due, with its attempts and last error, by
/// username.
fn queued_jobs(db: &str) -> Vec<(String, i64, i64, String)> {
    pg::query_strings(
        db,
        "SELECT username || ' ' || (available_at - now_ms) / 1000 || ' ' || attempts || ' '
                || coalesce(last_error, '')
         FROM (SELECT *, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms
               FROM import_jobs WHERE status = 'queued') AS job
         ORDER BY username",
    )
    .into_iter()
    .flatten()
    .map(|row| {
        let mut parts = row.splitn(4, ' ');
        let mut next = || parts.next().unwrap_or_default().to_string();
        let (name, due, attempts, error) = (next(), next(), next(), next());
        let number = |text: String| text.parse().unwrap_or(i64::MIN);
        (name, number(due), number(attempts), error)
    })
    .collect()
}

#[test]
fn jobs_a_dead_provider_failed_go_back_to_the_queue_and_a_once_worker_still_ends() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    let players = ["lichess:ann", "lichess:ben", "lichess:cid", "lichess:dot"];
    for player in players {
        let name = player.trim_start_matches("lichess:");
        fake.add_lichess_games(name, 2, T0, SECOND);
    }
    fake.push_fault_n(
        Provider::Lichess,
        chess_import_fake::Matcher::any(),
        chess_import_fake::Fault::ServiceUnavailable,
        usize::MAX,
    );
    assert_eq!(enqueue(&db, &players).0, 0);
    let output = worker(&fake, &db)
        .args(["--retries", "1"])
        .output()
        .expect("run the worker");
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    assert_eq!(jobs_with_status(&db, "queued"), 4, "{}", summary(&output));
    let queued = queued_jobs(&db);
    // A worker asks each Lichess profile for its game count first. Ann's profile and export
    // failed on 503s, and she waits the first backoff, a minute; ben's profile was the third
    // request in a row to fail, so the provider was down for the other three, which wait until
    // it may be up.
    let (name, due, attempts, error) = &queued[0];
    assert_eq!(name, "ann");
    assert!((50..=60).contains(due), "{queued:?}");
    assert_eq!(*attempts, 1, "{queued:?}");
    assert!(error.contains("HTTP 503"), "{queued:?}");
    for (name, due, attempts, error) in &queued[1..] {
        assert!(
            *due > 60,
            "{name} put off until the provider may be up: {queued:?}"
        );
        assert_eq!(*attempts, 1, "{queued:?}");
        assert!(error.contains("Lichess unreachable"), "{queued:?}");
    }
}

#[test]
fn transient_failures_come_back_later_each_time_until_max_attempts_and_a_missing_user_fails_at_once()
 {
    let Some(db) = database() else { return };
    let fake = a_fake_with(&["ann"]);
    fake.push_fault_n(
        Provider::Lichess,
        chess_import_fake::Matcher::user("ann"),
        chess_import_fake::Fault::ServiceUnavailable,
        usize::MAX,
    );
    // ghost does not exist.
    assert_eq!(enqueue(&db, &["lichess:ann", "lichess:ghost"]).0, 0);
    let run = || {
        let output = worker(&fake, &db)
            .args(["--retries", "0", "--max-attempts", "3"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    };
    let make_due = || pg::execute(&db, "UPDATE import_jobs SET available_at = 0");
    run();
    let ghost = "SELECT status || ' ' || attempts || ' ' || last_error FROM import_jobs
                 WHERE username = 'ghost'";
    assert_eq!(
        value_in(Path::new(&db), ghost).as_deref(),
        Some("failed 1 user not found")
    );
    // A minute, then two: each attempt waits twice as long as the one before.
    for (attempts, wait) in [(1, 60), (2, 120)] {
        let queued = queued_jobs(&db);
        let [(name, due, spent, error)] = queued.as_slice() else {
            panic!("{queued:?}")
        };
        assert_eq!((name.as_str(), *spent), ("ann", attempts), "{queued:?}");
        assert!((wait - 10..=wait).contains(due), "{queued:?}");
        assert!(error.contains("HTTP 503"), "{queued:?}");
        make_due();
        run();
    }
    let ann = "SELECT status || ' ' || attempts || ' ' || last_error FROM import_jobs
               WHERE username = 'ann'";
    let ann = value_in(Path::new(&db), ann).unwrap_or_default();
    assert!(ann.starts_with("failed 3 "), "{ann}");
    assert!(ann.contains("HTTP 503"), "{ann}");
}

#[test]
fn an_import_and_a_worker_whose_connections_are_all_dropped_mid_run_both_store_every_game_once() {
    let Some(db) = database() else { return };
    let fake = FakeServer::start();
    // As if on two machines: each with an address of its own, and lanes of its own.
    fake.set_lichess_max_streams(2);
    let (own, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = queue_a_slow_player(&fake, &db);
    let bob = fake.add_lichess_games("bob", 2000, T0, SECOND);
    let tag = fastrand::u32(..);
    let (worker_name, import_name) = (format!("worker_{tag:08x}"), format!("import_{tag:08x}"));
    let working = worker(&fake, &named(&db, &worker_name))
        .arg("--lock-dir")
        .arg(own.path())
        .spawn()
        .unwrap();
    let importing = Import::new(&fake)
        .players(["lichess:bob"])
        .args(["--lock-dir", other.path().to_str().expect("UTF-8")])
        .db_target(&named(&db, &import_name))
        .command()
        .spawn()
        .unwrap();
    let linked = |player: &str| {
        value_in(
            Path::new(&db),
            &format!("SELECT count(*) FROM player_games WHERE username = '{player}'"),
        )
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0)
    };
    wait_for("both to commit games", || {
        linked("alice") > 0 && linked("bob") > 0
    });
    // The worker's store and queue, and the import's store.
    let dropped = pg::drop_connections(&db, &[&worker_name, &import_name]);
    assert!(
        linked("alice") < alice.len() && linked("bob") < bob.len(),
        "a run finished before its connections were dropped"
    );
    for (what, running) in [("worker", working), ("import", importing)] {
        let output = running.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
        assert!(stderr.contains("connection lost"), "{what}: {stderr}");
        assert_eq!(summary(&output)["players"][0]["status"], "ok", "{what}");
    }
    // And the import's store.
    assert!(worker_connections().contains(&(dropped - 1)), "{dropped}");
    assert_eq!(
        games_in(Path::new(&db)),
        game_keys(&[alice, bob].concat(), &[])
    );
    assert_eq!(links_in(Path::new(&db)).len(), 4000);
    assert_eq!(jobs_with_status(&db, "done"), 1);
}

/// `enqueue` with options, as `--json`, which must succeed.
fn enqueue_with(db: &str, players: &[&str], options: &[&str]) -> Value {
    let output = enqueue_command(db, players, options)
        .output()
        .expect("run chess-import enqueue");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    summary(&output)
}

fn enqueue_command(db: &str, players: &[&str], options: &[&str]) -> std::process::Command {
    let mut command = crate::support::cli::binary();
    command
        .args(["enqueue", "--json", "--db", db])
        .args(options)
        .args(players)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    command
}

fn jobs_of(db: &str, requester: &str) -> i64 {
    number(
        db,
        &format!("SELECT count(*) FROM import_jobs WHERE requested_by = '{requester}'"),
    )
}

/// The players of the done jobs, in the order workers started them.
fn started_order(db: &str) -> Vec<String> {
    value_in(
        Path::new(db),
        "SELECT string_agg(username, ',' ORDER BY started_at, seq) FROM import_jobs
         WHERE status = 'done'",
    )
    .unwrap_or_default()
    .split(',')
    .map(str::to_string)
    .collect()
}

/// Runs a `--once` worker that must end with exit status 0, and returns its summary.
fn work(fake: &FakeServer, db: &str) -> Value {
    let output = worker(fake, db).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    summary(&output)
}

fn a_fake_with(players: &[&str]) -> FakeServer {
    let fake = FakeServer::start();
    for name in players {
        fake.add_lichess_games(name, 2, T0, SECOND);
    }
    fake
}

#[test]
fn higher_priorities_run_first_and_requesters_are_served_in_turn() {
    let Some(db) = database() else { return };
    let fake = a_fake_with(&["ann", "ben", "cid", "dot", "eve", "fay", "gus"]);
    enqueue_with(
        &db,
        &["lichess:ann", "lichess:ben", "lichess:cid"],
        &["--requested-by", "a"],
    );
    enqueue_with(&db, &["lichess:dot"], &["--requested-by", "b"]);
    enqueue_with(&db, &["lichess:eve"], &["--priority", "5"]);
    enqueue_with(&db, &["lichess:fay"], &["--priority", "-1"]);
    // Raised: gus was queued last at 0, and is now the most urgent.
    enqueue_with(&db, &["lichess:gus"], &[]);
    let raised = enqueue_with(&db, &["lichess:gus"], &["--priority", "9"]);
    assert_eq!(raised["queued"], 1, "{raised}");
    let same = enqueue_with(&db, &["lichess:gus"], &["--priority", "9"]);
    assert_eq!(same["unchanged"], 1, "{same}");
    let output = worker(&fake, &db).args(["--jobs", "1"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    // 9, 5, then at 0: a's first, b (never served), jobs with no requester, a's others; -1 last.
    assert_eq!(
        started_order(&db),
        ["gus", "eve", "ann", "dot", "ben", "cid", "fay"]
    );
}

#[test]
fn a_job_not_before_a_later_time_is_left_queued_by_a_once_worker() {
    let Some(db) = database() else { return };
    let fake = a_fake_with(&["ann", "ben"]);
    enqueue_with(&db, &["lichess:ann"], &["--not-before", "+1h"]);
    enqueue_with(&db, &["lichess:ben"], &[]);
    work(&fake, &db);
    assert_eq!(started_order(&db), ["ben"]);
    let waiting = value_in(
        Path::new(&db),
        "SELECT status || ' ' || ((available_at - (extract(epoch FROM now()) * 1000)::bigint) \
         / 60000) FROM import_jobs WHERE username = 'ann'",
    );
    assert_eq!(waiting.as_deref(), Some("queued 59"));
    // An earlier time raises it: due now, it is taken.
    enqueue_with(&db, &["lichess:ann"], &["--not-before", PAST]);
    work(&fake, &db);
    assert_eq!(started_order(&db), ["ben", "ann"]);
}

/// The README's statement that enqueues lichess:zed, as an application would run it.
pub(crate) fn readme_enqueue_sql() -> &'static str {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("-- enqueue from an application\n")
        .expect("the README's SQL");
    let sql = &readme[start..];
    &sql[..sql.find("```").expect("the end of the block")]
}

#[test]
fn the_readmes_sql_enqueue_run_through_psql_is_picked_up_by_a_worker() {
    let Some(db) = database() else { return };
    let sql = readme_enqueue_sql();
    // The tables come with the first connection of chess-import: a worker's, with nothing to do.
    let fake = a_fake_with(&["zed"]);
    let idle = worker(&fake, &db).output().unwrap();
    assert_eq!(idle.status.code(), Some(0), "{}", summary(&idle));
    let psql = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &db, "-c", sql])
        .output()
        .expect("run psql");
    assert!(psql.status.success(), "{psql:?}");
    let output = worker(&fake, &db).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    assert_eq!(started_order(&db), ["zed"]);
    assert_eq!(
        value_in(
            Path::new(&db),
            "SELECT priority || ' ' || requested_by FROM import_jobs"
        )
        .as_deref(),
        Some("5 app-user-42")
    );
    assert_eq!(stored_games(&db), 2);
}

#[test]
fn enqueue_option_values_out_of_range_are_usage_errors_naming_the_option() {
    for (option, value) in [
        ("--priority", "1000001"),
        ("--not-before", "+2y"),
        ("--not-before", "tomorrow"),
        ("--requested-by", ""),
        ("--every", "10s"),
        ("--max-queued-per-requester", "0"),
        // Without --requested-by, whose jobs it counts.
        ("--max-queued-per-requester", "5"),
    ] {
        let output = crate::support::cli::binary()
            .args(["enqueue", "--db", "postgres://nobody@127.0.0.1:1/none"])
            .args([option, value, "lichess:alice"])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run chess-import enqueue");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{option} {value}: {stderr}");
        assert!(stderr.contains(option), "{option} {value}: {stderr}");
        assert!(
            !stderr.contains("connect"),
            "refused before connecting: {stderr}"
        );
    }
}

#[test]
fn a_recurring_job_is_queued_again_after_it_ends_and_enqueueing_it_again_reschedules_it() {
    let Some(db) = database() else { return };
    let fake = a_fake_with(&["ann"]);
    let options = ["--every", "1h", "--priority", "3", "--requested-by", "u1"];
    enqueue_with(&db, &["lichess:ann"], &options);
    assert_eq!(work(&fake, &db)["players"][0]["status"], "ok");
    // Queued again for an hour after it finished, its last run's outcome kept while it waits.
    let job = "SELECT count(*) || ' ' || min(status) || ' ' || min(available_at - finished_at)
                   || ' ' || min(priority) || ' ' || min(requested_by) || ' ' || min(new_games)
                   || ' ' || min(attempts) || ' ' || coalesce(min(last_error), '-')
               FROM import_jobs";
    let row = value_in(Path::new(&db), job);
    assert_eq!(row.as_deref(), Some("1 queued 3600000 3 u1 2 0 -"));
    // The same schedule for later changes nothing; a new one is the same job, rescheduled.
    let later = ["--not-before", "+2h"];
    let same = enqueue_with(
        &db,
        &["lichess:ann"],
        &[&["--every", "1h"][..], &later].concat(),
    );
    assert_eq!(same["unchanged"], 1, "{same}");
    let faster = enqueue_with(
        &db,
        &["lichess:ann"],
        &[&["--every", "30m"][..], &later].concat(),
    );
    assert_eq!(faster["queued"], 1, "{faster}");
    let row = value_in(
        Path::new(&db),
        "SELECT count(*) || ' ' || min(every_ms) || ' ' || min(requested_by) FROM import_jobs",
    );
    assert_eq!(row.as_deref(), Some("1 1800000 u1"));
    // Due at once (the earlier time wins), it runs, and waits for its next run again.
    enqueue_with(&db, &["lichess:ann"], &["--not-before", PAST]);
    assert_eq!(work(&fake, &db)["players"][0]["status"], "ok");
    let row = value_in(
        Path::new(&db),
        "SELECT status || ' ' || (available_at - finished_at) || ' ' || new_games
         FROM import_jobs",
    );
    assert_eq!(row.as_deref(), Some("queued 1800000 0"));
    // A running job keeps running, and takes the new schedule for when it ends.
    pg::execute(
        &db,
        "UPDATE import_jobs SET status = 'running', worker = 'elsewhere',
             lease_expires_at = 9000000000000000000",
    );
    let running = enqueue_with(&db, &["lichess:ann"], &["--every", "2h"]);
    assert_eq!(running["queued"], 1, "{running}");
    let row = value_in(
        Path::new(&db),
        "SELECT status || ' ' || worker || ' ' || every_ms FROM import_jobs",
    );
    assert_eq!(row.as_deref(), Some("running elsewhere 7200000"));
}

#[test]
fn an_enqueue_past_the_requesters_limit_queues_none_of_its_players_even_when_enqueues_race() {
    let Some(db) = database() else { return };
    let limit = |who: &'static str| ["--requested-by", who, "--max-queued-per-requester", "3"];
    let two = enqueue_with(&db, &["lichess:ann", "lichess:ben"], &limit("u1"));
    assert_eq!(two["queued"], 2, "{two}");
    let output = enqueue_command(&db, &["lichess:cid", "lichess:dot"], &limit("u1"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let refused = summary(&output);
    assert_eq!(
        refused["refused"],
        serde_json::json!({"requested_by": "u1", "held": 2, "more": 2, "max": 3}),
        "{refused}"
    );
    let reason = refused["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("--max-queued-per-requester 3"), "{reason}");
    assert!(String::from_utf8_lossy(&output.stderr).contains(reason));
    assert_eq!(jobs_of(&db, "u1"), 2, "all or nothing");
    // A player the requester has already queued takes no more room.
    let one = enqueue_with(&db, &["lichess:ann", "lichess:cid"], &limit("u1"));
    assert_eq!((&one["queued"], &one["unchanged"]), (&1.into(), &1.into()));
    assert_eq!(jobs_of(&db, "u1"), 3);
    // Another requester has room of its own.
    enqueue_with(&db, &["lichess:eve"], &limit("u2"));
    // Eight enqueues of one player each, at once: three find room, whatever the timing.
    let racing: Vec<_> = (0..8)
        .map(|i| {
            enqueue_command(&db, &[&format!("lichess:racer{i}")], &limit("u3"))
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<Option<i32>> = racing
        .into_iter()
        .map(|child| child.wait_with_output().unwrap().status.code())
        .collect();
    assert_eq!(
        codes.iter().filter(|&&c| c == Some(0)).count(),
        3,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|&&c| c == Some(1)).count(),
        5,
        "{codes:?}"
    );
    assert_eq!(jobs_of(&db, "u3"), 3);
}

/// Runs `dequeue` or `requeue` with `args`, which must succeed, and returns each player's
/// `platform:username outcome`.
fn change_jobs(db: &str, args: &[&str]) -> Vec<String> {
    let output = crate::support::cli::binary()
        .args(args)
        .args(["--json", "--db", db])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run chess-import");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    summary(&output)["players"]
        .as_array()
        .expect("players")
        .iter()
        .map(|p| format!("{}:{} {}", p["platform"], p["username"], p["outcome"]).replace('"', ""))
        .collect()
}

#[test]
fn dequeue_removes_queued_jobs_and_requeue_puts_failed_ones_back() {
    let Some(db) = database() else { return };
    // gus and hal do not exist: their jobs fail.
    let fake = a_fake_with(&["ann", "ben", "cid"]);
    assert_eq!(enqueue(&db, &["lichess:gus", "lichess:hal"]).0, 0);
    let output = worker(&fake, &db).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    assert_eq!(jobs_with_status(&db, "failed"), 2);
    enqueue_with(&db, &["lichess:ann", "lichess:ben"], &[]);
    enqueue_with(&db, &["lichess:cid"], &["--every", "1h"]);
    // cid is running elsewhere.
    pg::execute(
        &db,
        "UPDATE import_jobs SET status = 'running', worker = 'elsewhere',
             lease_expires_at = 9000000000000000000 WHERE username = 'cid'",
    );
    let dequeued = change_jobs(
        &db,
        &[
            "dequeue",
            "lichess:ann",
            "lichess:cid",
            "lichess:gus",
            "lichess:zed",
        ],
    );
    assert_eq!(
        dequeued,
        [
            "lichess:ann removed",
            "lichess:cid running",
            "lichess:gus failed",
            "lichess:zed none"
        ]
    );
    let jobs = "SELECT string_agg(username || ' ' || status || ' ' || coalesce(every_ms, 0),
                                  ', ' ORDER BY username) FROM import_jobs";
    assert_eq!(
        value_in(Path::new(&db), jobs).as_deref(),
        Some("ben queued 0, cid running 0, gus failed 0, hal failed 0"),
        "cid finishes, and is not queued again"
    );
    let text = crate::support::cli::binary()
        .args(["dequeue", "lichess:ben", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0), "{text:?}");
    let stderr = String::from_utf8_lossy(&text.stderr);
    assert!(
        stderr.contains("lichess:ben: removed from the queue"),
        "{stderr}"
    );

    let requeued = change_jobs(&db, &["requeue", "--failed", "lichess:gus", "lichess:cid"]);
    assert_eq!(requeued, ["lichess:gus requeued", "lichess:cid running"]);
    let gus = "SELECT status || ' ' || attempts || ' ' || last_error FROM import_jobs
               WHERE username = 'gus'";
    assert_eq!(
        value_in(Path::new(&db), gus).as_deref(),
        Some("queued 0 user not found"),
        "due again, its last error kept until its next run ends"
    );
    // Without players: every failed job.
    assert_eq!(
        change_jobs(&db, &["requeue", "--failed"]),
        ["lichess:hal requeued"]
    );
    assert_eq!(jobs_with_status(&db, "failed"), 0);
    assert!(change_jobs(&db, &["requeue", "--failed"]).is_empty());
}

#[test]
fn a_worker_with_fresh_for_does_not_fetch_a_fresh_player_and_marks_its_job_done_with_a_note() {
    let Some(db) = database() else { return };
    let fake = a_fake_with(&["ann"]);
    assert_eq!(enqueue(&db, &["lichess:ann"]).0, 0);
    assert_eq!(work(&fake, &db)["players"][0]["status"], "ok");
    fake.clear_requests();
    assert_eq!(enqueue(&db, &["lichess:ann"]).0, 0);
    let output = worker(&fake, &db)
        .args(["--fresh-for", "10m"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let report = summary(&output);
    assert_eq!(report["players"][0]["status"], "fresh", "{report}");
    assert_eq!(report["fresh_players"], 1);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    let job = value_in(
        Path::new(&db),
        "SELECT status || ' ' || new_games || ' ' || coalesce(last_error, '-') || ' ' || note
         FROM import_jobs",
    )
    .unwrap_or_default();
    assert!(job.starts_with("done 0 - imported "), "{job}");
    assert!(job.ends_with("within --fresh-for 10m"), "{job}");
}
