//! What the operator and the machine do to a running import: kill -9, Ctrl-C, overlapping cron
//! runs and a database locked by someone else. Nothing is lost, nothing is stored twice.

use std::process::Child;
use std::time::{Duration, Instant};

use chess_import_fake::{FakeServer, Provider};
use rusqlite::Connection;

use crate::support::cli::{Import, game_keys, games_in};

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;

/// Waits until `condition` holds, failing the test after a generous deadline.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stored_games(import: &Import) -> usize {
    Connection::open(import.db_path())
        .and_then(|db| db.query_row("SELECT count(*) FROM games", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

fn spawn(import: &Import) -> Child {
    import.command().spawn().expect("start chess-import")
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn kill_9_mid_import_then_a_rerun_completes_exactly_the_missing_games() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 600, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--lease-ttl", "1s"]);
    let mut child = spawn(&import);
    wait_for("some games to be committed", || stored_games(&import) > 0);
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let survived = stored_games(&import);
    assert!(survived < ids.len(), "the import finished before the kill");
    assert!(fake.wait_idle(Duration::from_secs(5)));
    fake.set_lichess_rate(None);
    // The killed run's lease outlives it for --lease-ttl; then the player is free again.
    std::thread::sleep(Duration::from_millis(1100));

    let rerun = import.run();
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    let summary = rerun.json();
    assert_eq!(summary["new_games"], ids.len() - survived);
    assert_eq!(
        summary["duplicate_games"], 0,
        "resumed right after the last committed game"
    );
    let expected = game_keys(&ids, &[]);
    assert_eq!(games_in(&rerun.db), expected);
}

#[test]
fn ctrl_c_commits_what_was_fetched_and_exits_130() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 600, T0, SECOND);
    fake.add_lichess_games("anna", 5, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    let import = Import::new(&fake)
        .players(["lichess:alice", "lichess:anna"])
        .jobs(1);
    let child = spawn(&import);
    wait_for("some games to be committed", || stored_games(&import) > 0);
    signal(&child, "INT");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["players"][0]["status"], "interrupted");
    assert_eq!(summary["players"][1]["status"], "interrupted");
    let stored = stored_games(&import);
    assert_eq!(
        summary["new_games"], stored,
        "the summary counts what is stored"
    );
    assert!(stored < ids.len());
    let db = Connection::open(import.db_path()).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    // The cursor points at a stored game, never past one.
    let cursor: i64 = db
        .query_row(
            "SELECT last_created_at FROM import_state WHERE username = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let newest: i64 = db
        .query_row("SELECT max(played_at) FROM games", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cursor, newest);

    assert!(fake.wait_idle(Duration::from_secs(5)));
    fake.set_lichess_rate(None);
    let rerun = import.run();
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(games_in(&rerun.db).len(), ids.len() + 5);
}

#[test]
fn overlapping_runs_never_import_one_player_twice() {
    let fake = FakeServer::start();
    let alice = fake.add_lichess_games("alice", 400, T0, SECOND);
    let carol = fake.add_chesscom_games("carol", 2023, 10, 4);
    fake.set_lichess_rate(Some(200.0));
    let first = Import::new(&fake).players(["lichess:alice"]);
    let child = spawn(&first);
    // The lease is taken before the export stream is opened.
    wait_for("the first run to stream alice's games", || {
        fake.in_flight(Provider::Lichess) > 0
    });

    let second = Import::new(&fake)
        .players(["lichess:alice", "chesscom:carol"])
        .db(first.db_path())
        .run();
    assert_eq!(second.code, 0, "skipping is not failing: {}", second.stderr);
    let summary = second.json();
    assert_eq!(summary["players"][0]["status"], "skipped");
    assert!(
        summary["players"][0]["error"]
            .as_str()
            .unwrap()
            .contains("import already in progress"),
        "{summary}"
    );
    assert_eq!(summary["players"][1]["status"], "ok");
    assert_eq!(summary["players"][1]["new_games"], carol.len());
    assert_eq!(summary["skipped_players"], 1);

    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(fake.max_player_concurrency(Provider::Lichess, "alice"), 1);
    assert_eq!(games_in(first.db_path()).len(), alice.len() + carol.len());
}

#[test]
fn a_database_locked_beyond_the_busy_timeout_is_a_clear_error() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, SECOND);
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--busy-timeout", "200ms"]);
    assert_eq!(import.run().code, 0);
    let holder = Connection::open(import.db_path()).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    fake.add_lichess_games("alice", 3, T0 + 100 * SECOND, SECOND);
    let run = import.run();
    assert_ne!(run.code, 0, "{}", run.stdout);
    let db = import.db_path().display().to_string();
    assert!(run.stderr.contains(&db), "names the path: {}", run.stderr);
    assert!(run.stderr.contains("locked"), "{}", run.stderr);
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(games_in(import.db_path()).len(), 3, "no partial rows");
}

#[test]
fn a_second_ctrl_c_quits_at_once_and_the_database_stays_consistent() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 600, T0, SECOND);
    fake.set_lichess_rate(Some(400.0));
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--lease-ttl", "1s"]);
    let child = spawn(&import);
    wait_for("some games to be committed", || stored_games(&import) > 0);
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, "INT");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130));
    let db = Connection::open(import.db_path()).unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(db);

    assert!(fake.wait_idle(Duration::from_secs(5)));
    fake.set_lichess_rate(None);
    std::thread::sleep(Duration::from_millis(1100));
    let rerun = import.run();
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(games_in(&rerun.db).len(), ids.len());
}
