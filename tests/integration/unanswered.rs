//! A PostgreSQL server that takes a request and does not answer it, because another session
//! holds a lock the request needs: every command gives the request up after
//! `CHESS_IMPORT_PG_TIMEOUT` seconds with the reason, and cancels it on the server, so that it
//! neither waits there nor takes effect once the lock is released.

use std::process::{Command, Stdio};

use chess_import_fake::FakeServer;

use crate::support::cli::{Import, binary, enqueue};
use crate::support::pg::{self, HeldLock};

const T0: i64 = 1_700_000_000_000;

/// What a command gives up with.
const UNANSWERED: &str = "the server did not answer within 1 s";

/// A database set up by a first import of alice's three games.
fn imported() -> Option<(FakeServer, String)> {
    let url = pg::test_database()?;
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, 60_000);
    let first = Import::new(&fake)
        .players(["lichess:alice"])
        .db_target(&url)
        .run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    Some((fake, url))
}

fn quickly(mut command: Command) -> Command {
    command.env("CHESS_IMPORT_PG_TIMEOUT", "1");
    command
}

/// The server's sessions of this program once the command has ended: the cancelled request no
/// longer waits for the lock.
fn assert_nothing_waits(url: &str) {
    assert_eq!(pg::waiting_for_locks(url, "chess-import"), 0);
}

#[test]
fn an_import_whose_writes_go_unanswered_fails_the_player_and_stores_nothing_late() {
    let Some((fake, url)) = imported() else {
        return;
    };
    fake.add_lichess_games("alice", 2, T0 + 3 * 60_000, 60_000);
    let lock = HeldLock::take(&url, "LOCK TABLE games IN SHARE MODE");
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .db_target(&url)
        .arg("--json");
    let mut command = quickly(import.command());
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("run chess-import");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(UNANSWERED), "{stderr}");
    assert!(stderr.contains("CHESS_IMPORT_PG_TIMEOUT"), "{stderr}");
    assert_nothing_waits(&url);
    drop(lock);
    assert_eq!(pg::query_i64(&url, "SELECT count(*) FROM games"), 3);

    // Nothing was lost: the next run, with the lock gone, stores the two new games.
    let again = Import::new(&fake)
        .players(["lichess:alice"])
        .db_target(&url)
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(pg::query_i64(&url, "SELECT count(*) FROM games"), 5);
}

/// Runs chess-import with `args` and a one-second answer timeout, and checks that it stopped
/// with exit status `code` for that reason, leaving nothing waiting on the server; its standard
/// output.
fn assert_gives_up(url: &str, args: &[&str], code: i32) -> Vec<u8> {
    let mut command = quickly(binary());
    let output = command
        .args(args)
        .args(["--db", url])
        .stdin(Stdio::null())
        .output()
        .expect("run chess-import");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(stderr.contains(UNANSWERED), "{args:?}: {stderr}");
    assert_nothing_waits(url);
    output.stdout
}

#[test]
fn an_export_whose_read_goes_unanswered_fails_with_the_reason() {
    let Some((_fake, url)) = imported() else {
        return;
    };
    let lock = HeldLock::take(&url, "LOCK TABLE games IN ACCESS EXCLUSIVE MODE");
    let written = assert_gives_up(&url, &["export"], 2);
    assert!(written.is_empty());
    drop(lock);
}

#[test]
fn an_enqueue_that_goes_unanswered_is_cancelled_not_applied_later() {
    let Some((_fake, url)) = imported() else {
        return;
    };
    let lock = HeldLock::take(&url, "LOCK TABLE import_jobs IN EXCLUSIVE MODE");
    assert_gives_up(&url, &["enqueue", "lichess:bob"], 2);
    drop(lock);
    assert_eq!(pg::query_i64(&url, "SELECT count(*) FROM import_jobs"), 0);
    let (code, _, stderr) = enqueue(&url, &["lichess:bob"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_connection_whose_schema_check_goes_unanswered_fails_at_the_start() {
    let Some((_fake, url)) = imported() else {
        return;
    };
    let lock = HeldLock::take(
        &url,
        "LOCK TABLE chess_import_migrations IN ACCESS EXCLUSIVE MODE",
    );
    assert_gives_up(&url, &["status"], 2);
    drop(lock);
}

#[test]
fn the_answer_timeout_must_be_whole_seconds() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let output = binary()
        .args(["status", "--db", &url])
        .env("CHESS_IMPORT_PG_TIMEOUT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run chess-import status");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("invalid CHESS_IMPORT_PG_TIMEOUT"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
