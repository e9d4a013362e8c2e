//! What the operator and the machine do to a running import: kill -9, Ctrl-C, overlapping cron
//! runs and a database locked by someone else. Nothing is lost, nothing is stored twice.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chess_import_fake::{FakeServer, Provider};
use rusqlite::Connection;

use crate::support::cli::{Import, Outcome, game_keys, games_in};
use crate::support::wait_for;

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;

/// A fake with alice's 600 games, served at 200 a second: a run stopped after its first commit
/// (within a second: the importer commits at least every second) is stopped mid-import.
fn slow_alice() -> (FakeServer, Vec<String>) {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 600, T0, SECOND);
    fake.set_lichess_rate(Some(200.0));
    (fake, ids)
}

fn stored_games(import: &Import) -> usize {
    Connection::open(import.db_path())
        .and_then(|db| db.query_row("SELECT count(*) FROM games", [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n as usize)
}

/// Starts `import` and returns once it has committed some games.
fn spawn_mid_import(import: &Import) -> Child {
    let child = import.command().spawn().expect("start chess-import");
    wait_for("some games to be committed", || stored_games(import) > 0);
    child
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: kill(2) has no memory effects; the child is not reaped yet, so the pid is its own.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
}

/// How `child` exited, or `None` if it still runs after `limit` (it is killed then).
fn exit_within(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for chess-import") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn integrity(db: &Path) -> String {
    Connection::open(db)
        .and_then(|db| db.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .expect("read the database")
}

/// After a stopped run: the fake unthrottled and idle, then `import` again at once. The stopped
/// run's lease, released or not, never makes it skip alice: a lease whose process is gone is
/// taken over, however long it had to run (the tests give an hour).
fn rerun(fake: &FakeServer, import: &Import) -> Outcome {
    assert!(fake.wait_idle(Duration::from_secs(5)));
    fake.set_lichess_rate(None);
    let rerun = import.run();
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    rerun
}

#[test]
fn kill_9_mid_import_then_a_rerun_completes_exactly_the_missing_games() {
    let (fake, ids) = slow_alice();
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--lease-ttl", "1h"]);
    let mut child = spawn_mid_import(&import);
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let survived = stored_games(&import);
    assert!(survived < ids.len(), "the import finished before the kill");

    let rerun = rerun(&fake, &import);
    assert!(
        rerun.stderr.contains(&format!(
            "lichess:alice: took over the lease of pid {} on ",
            child.id()
        )) && rerun.stderr.contains("which is no longer running"),
        "{}",
        rerun.stderr
    );
    let summary = rerun.json();
    assert_eq!(summary["players"][0]["status"], "ok", "{summary}");
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
    a_signal_commits_what_was_fetched(libc::SIGINT, 130);
}

#[test]
fn sigterm_commits_what_was_fetched_and_exits_143() {
    a_signal_commits_what_was_fetched(libc::SIGTERM, 143);
}

#[test]
fn sighup_commits_what_was_fetched_and_exits_129() {
    a_signal_commits_what_was_fetched(libc::SIGHUP, 129);
}

/// The first signal stops the run gently: what was fetched is committed, the leases are
/// released, the summary printed, and the exit status names the signal.
fn a_signal_commits_what_was_fetched(sent: libc::c_int, code: i32) {
    let (fake, ids) = slow_alice();
    fake.add_lichess_games("anna", 5, T0, SECOND);
    let import = Import::new(&fake)
        .players(["lichess:alice", "lichess:anna"])
        .jobs(1);
    let child = spawn_mid_import(&import);
    signal(&child, sent);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let leases: i64 = Connection::open(import.db_path())
        .and_then(|db| db.query_row("SELECT count(*) FROM import_leases", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(leases, 0, "the leases are released");
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
    assert_eq!(integrity(import.db_path()), "ok");
    // The cursor points at a stored game, never past one.
    let db = Connection::open(import.db_path()).unwrap();
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

    let rerun = rerun(&fake, &import);
    assert_eq!(games_in(&rerun.db).len(), ids.len() + 5);
}

#[test]
fn overlapping_runs_never_import_one_player_twice() {
    let fake = FakeServer::start();
    let alice = fake.add_lichess_games("alice", 400, T0, SECOND);
    let carol = fake.add_chesscom_games("carol", 2023, 10, 4);
    fake.set_lichess_rate(Some(200.0));
    let first = Import::new(&fake).players(["lichess:alice"]);
    let child = first.command().spawn().expect("start chess-import");
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
    // The skip names the live holder and how long its lease runs.
    let skip = summary["players"][0]["error"].as_str().unwrap();
    assert!(
        skip.starts_with(&format!(
            "import already in progress elsewhere (pid {} on ",
            child.id()
        )) && skip.contains(", lease until ")
            && skip.ends_with(" UTC)"),
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
    let (fake, ids) = slow_alice();
    let import = Import::new(&fake).players(["lichess:alice"]).args([
        "--lease-ttl",
        "1h",
        "--busy-timeout",
        "60s",
    ]);
    let mut child = spawn_mid_import(&import);
    // Hold the write lock: the gentle stop cannot commit, so only the second Ctrl-C can end the
    // run before the busy timeout.
    let holder = Connection::open(import.db_path()).unwrap();
    holder.busy_timeout(Duration::from_secs(30)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (acknowledged, first_ctrl_c) = mpsc::channel();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("interrupted: finishing what is in flight") {
                let _ = acknowledged.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });

    signal(&child, libc::SIGINT);
    first_ctrl_c
        .recv_timeout(Duration::from_secs(30))
        .expect("the first Ctrl-C was acknowledged on stderr");
    signal(&child, libc::SIGINT);
    // Stuck behind the lock, a gentle stop would take minutes of busy timeouts.
    let status = exit_within(&mut child, Duration::from_secs(30));
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let status = status.unwrap_or_else(|| panic!("the second Ctrl-C did not quit:\n{stderr}"));
    assert_eq!(status.code(), Some(130), "{stderr}");
    // Only quitting at once skips the JSON summary that a gentle stop prints.
    assert_eq!(stdout, "", "{stderr}");
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(integrity(import.db_path()), "ok");

    let rerun = rerun(&fake, &import);
    assert_eq!(games_in(&rerun.db).len(), ids.len());
}

#[test]
fn ctrl_c_during_a_chesscom_month_body_ends_the_run_before_the_body_does() {
    let fake = FakeServer::start();
    let earlier = fake.add_chesscom_games("bob", 2023, 9, 3);
    fake.add_chesscom_games("bob", 2023, 10, 3);
    // Five games' JSON a byte every 50 ms: minutes of body, never silent for long.
    fake.push_fault(
        Provider::Chesscom,
        chess_import_fake::Matcher::endpoint(chess_import_fake::Endpoint::ChesscomMonth)
            .and_path_ending("/2023/10"),
        chess_import_fake::Fault::Trickle {
            every: Duration::from_millis(50),
        },
    );
    let import = Import::new(&fake)
        .players(["chesscom:bob"])
        .args(["--read-timeout", "10m"]);
    let mut child = import.command().spawn().expect("start chess-import");
    wait_for("the trickling month to be asked", || {
        fake.requests_for(Provider::Chesscom)
            .iter()
            .any(|r| r.path.ends_with("/2023/10"))
            && fake.in_flight(Provider::Chesscom) == 1
    });
    signal(&child, libc::SIGINT);
    let status = exit_within(&mut child, Duration::from_secs(60)).expect("the run ended");
    assert_eq!(status.code(), Some(130));
    assert_eq!(fake.trickles_run_out(), 0, "the body was not waited out");
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout).expect("the summary");
    }
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON summary");
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(
        games_in(import.db_path()).len(),
        earlier.len(),
        "the month fetched before is stored"
    );
}
