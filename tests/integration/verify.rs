//! `verify` and `rescan` against the fake providers: a complete store verifies, deleted rows are
//! named per player and month, `--repair` and `rescan` bring them back without moving a cursor,
//! and verify alone writes nothing.

use std::path::Path;
use std::process::{Command, Stdio};

use chess_import_fake::{ChesscomGameSpec, Endpoint, FakeServer, Fault, Matcher, Provider};
use serde_json::Value;

use crate::support::cli::{Backend, Import, binary, games_in, on_both_stores, value_in};
use crate::support::pg;

/// 2023-11-14, in unix ms: Lichess games start there, an hour apart.
const LICHESS_START: i64 = 1_700_000_000_000;
const HOUR_MS: i64 = 3_600_000;

/// `chess-import SUBCOMMAND` on `db`, against the fake, with the test-friendly waits.
fn command(fake: &FakeServer, subcommand: &str, db: &Path) -> Command {
    let mut command = binary();
    command
        .arg(subcommand)
        .args(["--json", "--progress", "none"])
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .args(["--retry-backoff", "10ms", "--rate-limit-wait", "100ms"])
        .arg("--db")
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs it with `args`: the exit code and the JSON it printed.
fn run(fake: &FakeServer, subcommand: &str, db: &Path, args: &[&str]) -> (i32, Value) {
    let output = command(fake, subcommand, db)
        .args(args)
        .output()
        .expect("run chess-import");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{subcommand} printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), json)
}

fn execute(db: &Path, sql: &str) {
    let target = db.to_string_lossy();
    if target.starts_with("postgres") {
        pg::execute(&target, sql);
    } else {
        rusqlite::Connection::open(db)
            .and_then(|conn| conn.execute_batch(sql))
            .expect("run the SQL");
    }
}

/// Deletes games as a user or a bad script would: the rows and the player's links to them.
fn delete_games(db: &Path, platform: &str, ids: &[&str]) {
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    execute(
        db,
        &format!(
            "DELETE FROM player_games WHERE platform = '{platform}' AND game_id IN ({list});
             DELETE FROM games WHERE platform = '{platform}' AND game_id IN ({list});"
        ),
    );
}

fn cursors(db: &Path) -> (Option<String>, Option<String>) {
    (
        value_in(
            db,
            "SELECT last_month FROM import_state WHERE platform = 'chesscom' AND username = 'bob'",
        ),
        value_in(
            db,
            "SELECT last_created_at FROM import_state WHERE platform = 'lichess' \
             AND username = 'alice'",
        ),
    )
}

/// 2023-11-01T01:00Z, in unix seconds: the end of a daily game that started in October.
const DAILY_END: i64 = 1_698_800_400;

/// bob has three months of three games on Chess.com, plus a bughouse game (no PGN, never
/// stored) and a daily game that started in October and is archived in November (the last of
/// `months[1]`); alice ten games on Lichess. Both imported into a fresh store.
fn imported(fake: &FakeServer, backend: &Backend) -> (Import, Vec<Vec<String>>, Vec<String>) {
    let mut months: Vec<Vec<String>> = [(2023, 10), (2023, 11), (2023, 12)]
        .into_iter()
        .map(|(year, month)| fake.add_chesscom_games("bob", year, month, 3))
        .collect();
    fake.add_chesscom_bughouse_game("bob", 2023, 11);
    let daily = ChesscomGameSpec {
        plies: Some(40),
        ..ChesscomGameSpec::new("bob", "carol", DAILY_END).daily(3)
    };
    months[1].push(fake.add_chesscom_game(daily));
    let lichess = fake.add_lichess_games("alice", 10, LICHESS_START, HOUR_MS);
    let import = backend
        .import(fake)
        .players(["chesscom:bob", "lichess:alice"]);
    let first = import.run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    (import, months, lichess)
}

fn player<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["players"]
        .as_array()
        .and_then(|players| {
            players.iter().find(|p| {
                format!(
                    "{}:{}",
                    p["platform"].as_str().unwrap_or(""),
                    p["username"].as_str().unwrap_or("")
                ) == name
            })
        })
        .unwrap_or_else(|| panic!("{name} is not in the report: {report}"))
}

fn a_complete_store_verifies_and_deleted_rows_are_named_then_repaired(backend: Backend) {
    let fake = FakeServer::start();
    let (import, months, lichess) = imported(&fake, &backend);
    let db = import.db_path();
    let (code, report) = run(&fake, "verify", db, &["--deep"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(
        player(&report, "chesscom:bob")["provider"],
        10,
        "bughouse is not counted"
    );
    assert_eq!(player(&report, "lichess:alice")["provider"], 10);

    let before = cursors(db);
    assert!(before.0.is_some() && before.1.is_some(), "{before:?}");
    delete_games(db, "chesscom", &[&months[1][0], &months[1][3]]);
    delete_games(db, "lichess", &[&lichess[4]]);
    let (code, report) = run(&fake, "verify", db, &["--deep"]);
    assert_eq!(code, 1, "{report}");
    let bob = player(&report, "chesscom:bob");
    assert_eq!(bob["gaps"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(bob["gaps"][0]["month"], "2023/11");
    assert_eq!(bob["gaps"][0]["stored"], 2);
    assert_eq!(bob["gaps"][0]["provider"], 4);
    let mut missing: Vec<&str> = bob["gaps"][0]["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    missing.sort();
    let mut deleted = vec![months[1][0].as_str(), months[1][3].as_str()];
    deleted.sort();
    assert_eq!(missing, deleted);
    let alice = player(&report, "lichess:alice");
    assert_eq!(alice["gaps"][0]["month"], "2023/11");
    assert_eq!(alice["gaps"][0]["missing"][0], lichess[4].as_str());

    let (code, report) = run(&fake, "verify", db, &["--deep", "--repair"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(player(&report, "chesscom:bob")["stored_by_repair"], 2);
    assert_eq!(player(&report, "lichess:alice")["stored_by_repair"], 1);
    assert_eq!(games_in(db).len(), 20);
    assert_eq!(cursors(db), before, "a repair moves no cursor");
    let (code, report) = run(&fake, "verify", db, &["--deep"]);
    assert_eq!(code, 0, "{report}");
}

fn rescan_stores_what_is_missing_and_leaves_the_cursors(backend: Backend) {
    let fake = FakeServer::start();
    let (import, months, lichess) = imported(&fake, &backend);
    let db = import.db_path();
    let before = cursors(db);
    let all = games_in(db);
    delete_games(db, "chesscom", &[&months[0][1]]);
    delete_games(db, "lichess", &[&lichess[0], &lichess[9]]);
    let (code, report) = run(
        &fake,
        "rescan",
        db,
        &["chesscom:bob", "lichess:alice", "--since", "2023-01-01"],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["players"][0]["new_games"], 1, "{report}");
    assert_eq!(report["players"][1]["new_games"], 2, "{report}");
    assert_eq!(games_in(db), all);
    assert_eq!(cursors(db), before);
    // The whole history, without --since: the cursors may stay or move on, never back.
    let (code, _) = run(&fake, "rescan", db, &["chesscom:bob", "lichess:alice"]);
    assert_eq!(code, 0);
    assert_eq!(cursors(db), before);
}

on_both_stores!(
    a_complete_store_verifies_and_deleted_rows_are_named_then_repaired,
    rescan_stores_what_is_missing_and_leaves_the_cursors,
);

#[test]
fn lichess_counts_find_a_shortfall_beyond_the_tolerance() {
    let fake = FakeServer::start();
    let lichess = fake.add_lichess_games("alice", 10, LICHESS_START, HOUR_MS);
    fake.add_lichess_ongoing_game("alice", "carol", LICHESS_START + 20 * HOUR_MS);
    let import = Import::new(&fake).players(["lichess:alice"]);
    assert_eq!(import.run().code, 0);
    let db = import.db_path();
    let (code, report) = run(&fake, "verify", db, &[]);
    assert_eq!(code, 0, "the ongoing game is not missing: {report}");
    assert_eq!(player(&report, "lichess:alice")["method"], "counts");
    fake.clear_requests();
    let (code, report) = run(&fake, "verify", db, &["--deep"]);
    assert_eq!(code, 0, "nor is it with --deep: {report}");
    assert_eq!(player(&report, "lichess:alice")["provider"], 10);
    let exports: Vec<String> = fake
        .requests_for(Provider::Lichess)
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::LichessExport)
        .map(|r| r.query)
        .collect();
    assert_eq!(exports.len(), 1, "one stream: {exports:?}");
    for flag in ["moves=false", "tags=false", "pgnInJson=false"] {
        assert!(exports[0].contains(flag), "{flag} in {}", exports[0]);
    }
    delete_games(db, "lichess", &[&lichess[1], &lichess[2]]);
    let (code, _) = run(&fake, "verify", db, &[]);
    assert_eq!(code, 0, "two games are within the counters' tolerance");
    delete_games(db, "lichess", &[&lichess[3]]);
    let (code, report) = run(&fake, "verify", db, &[]);
    assert_eq!(code, 1, "{report}");
    let gap = &player(&report, "lichess:alice")["gaps"][0];
    assert_eq!(gap["month"], Value::Null);
    assert_eq!(
        (gap["stored"].as_u64(), gap["provider"].as_u64()),
        (Some(7), Some(10))
    );
    // Only counts are known: the repair rescans the whole history.
    let (code, report) = run(&fake, "verify", db, &["--repair"]);
    assert_eq!(code, 0, "{report}");
    let alice = player(&report, "lichess:alice");
    assert_eq!(alice["stored_by_repair"], 3, "{report}");
    assert_eq!(alice["gaps"][0]["closed"], true);
    assert_eq!(alice["stored"], 10);
}

#[test]
fn verify_writes_nothing_and_asks_only_what_it_needs() {
    let fake = FakeServer::start();
    let (import, months, _) = imported(&fake, &Backend::Sqlite);
    let db = import.db_path();
    delete_games(db, "chesscom", &[&months[2][0]]);
    let bytes = std::fs::read(db).expect("read the database");
    let files = std::fs::read_dir(db.parent().expect("a directory")).map(Iterator::count);
    fake.clear_requests();
    let (code, _) = run(&fake, "verify", db, &[]);
    assert_eq!(code, 1);
    assert_eq!(std::fs::read(db).expect("read the database"), bytes);
    let after = std::fs::read_dir(db.parent().expect("a directory")).map(Iterator::count);
    assert_eq!(files.ok(), after.ok(), "no file left behind");
    assert_eq!(
        fake.count_endpoint(Provider::Chesscom, Endpoint::ChesscomArchives),
        1
    );
    assert_eq!(
        fake.count_endpoint(Provider::Chesscom, Endpoint::ChesscomMonth),
        3
    );
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExport),
        0
    );
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessUser),
        1
    );
    // A database that does not exist is not created.
    let missing = db.with_file_name("none.sqlite");
    let status = command(&fake, "verify", &missing).status().expect("run");
    assert_eq!(status.code(), Some(2));
    assert!(!missing.exists());
}

#[test]
fn the_table_names_the_player_the_month_and_the_ids() {
    let fake = FakeServer::start();
    let (import, months, _) = imported(&fake, &Backend::Sqlite);
    let db = import.db_path();
    delete_games(db, "chesscom", &[&months[0][2]]);
    let mut table = binary();
    table
        .args([
            "verify",
            "--progress",
            "none",
            "chesscom:bob",
            "lichess:alice",
        ])
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .arg("--db")
        .arg(db);
    let output = table.output().expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("chesscom:bob"), "{stdout}");
    assert!(stdout.contains("  2023/10"), "{stdout}");
    assert!(
        stdout.contains(&format!("missing {}", months[0][2])),
        "{stdout}"
    );
    assert!(stdout.ends_with("\n1 gap\n"), "{stdout}");
}

#[test]
fn a_player_the_provider_does_not_know_is_not_verified_and_bad_usage_is_exit_2() {
    let fake = FakeServer::start();
    let (import, _, _) = imported(&fake, &Backend::Sqlite);
    let db = import.db_path();
    let (code, report) = run(&fake, "verify", db, &["chesscom:bob", "lichess:ghost"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(player(&report, "chesscom:bob")["error"], Value::Null);
    assert_eq!(player(&report, "lichess:ghost")["error"], "user not found");
    let output = command(&fake, "verify", db)
        .arg("chess:bob")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_chesscom_month_that_cannot_be_read_leaves_the_player_unverified() {
    let fake = FakeServer::start();
    let (import, _, _) = imported(&fake, &Backend::Sqlite);
    let down = fake.push_fault_n(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending("/2023/11"),
        Fault::ServiceUnavailable,
        usize::MAX,
    );
    let (code, report) = run(&fake, "verify", import.db_path(), &["chesscom:bob"]);
    assert_eq!(code, 1, "{report}");
    assert!(fake.fault_hits(down) > 0);
    assert_eq!(report["ok"], false, "{report}");
    let bob = player(&report, "chesscom:bob");
    let error = bob["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("month 2023/11: "), "{report}");
    assert!(error.contains("503"), "{report}");
    assert_eq!(bob["gaps"], serde_json::json!([]), "{report}");
}
