//! `status` and `export` on the database of a real import from the fake providers.

mod support;

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};

use pgn_reader::{RawTag, Reader, SanPlus, Visitor};
use rusqlite::Connection;
use serde_json::Value;
use support::cli::Import;
use support::fake::FakeServer;

const T0: i64 = 1_700_000_000_000;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chess_import(args: &[&str], db: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_chess-import"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("CHESS_IMPORT_DB")
        .env_remove("RUST_LOG")
        .output()
        .expect("run chess-import");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// Alice on Lichess (5 games from November 2023), Bob on Chess.com (January and March 2024),
/// and a Chess.com player that does not exist, imported into one database.
fn imported() -> (FakeServer, support::cli::Outcome) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, 60_000);
    fake.add_chesscom_games("bob", 2024, 1, 3);
    fake.add_chesscom_games("bob", 2024, 3, 4);
    let outcome = Import::new(&fake)
        .players(["lichess:alice", "chesscom:bob", "chesscom:nobody"])
        .run();
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    (fake, outcome)
}

/// Each game pgn-reader finds: its `Site` or `Link` tag and how many moves it read.
struct Games;

impl Visitor for Games {
    type Tags = Option<String>;
    type Movetext = (Option<String>, u32);
    type Output = (Option<String>, u32);

    fn begin_tags(&mut self) -> ControlFlow<Self::Output, Self::Tags> {
        ControlFlow::Continue(None)
    }

    fn tag(
        &mut self,
        tags: &mut Self::Tags,
        name: &[u8],
        value: RawTag<'_>,
    ) -> ControlFlow<Self::Output> {
        // Chess.com's `Site` is only "Chess.com"; its `Link` names the game.
        if name == b"Link" || (name == b"Site" && tags.is_none()) {
            *tags = Some(value.decode_utf8_lossy().into_owned());
        }
        ControlFlow::Continue(())
    }

    fn begin_movetext(&mut self, tags: Self::Tags) -> ControlFlow<Self::Output, Self::Movetext> {
        ControlFlow::Continue((tags, 0))
    }

    fn san(&mut self, movetext: &mut Self::Movetext, _: SanPlus) -> ControlFlow<Self::Output> {
        movetext.1 += 1;
        ControlFlow::Continue(())
    }

    fn end_game(&mut self, movetext: Self::Movetext) -> Self::Output {
        movetext
    }
}

fn read_pgn(pgn: &[u8]) -> Vec<(Option<String>, u32)> {
    let mut reader = Reader::new(pgn);
    let mut games = Vec::new();
    while let Some(game) = reader.read_game(&mut Games).expect("PGN reads") {
        games.push(game);
    }
    games
}

/// The stored games, oldest first as the export promises, each as pgn-reader reads it alone.
fn stored_games(db: &Path, platform: Option<&str>) -> Vec<(Option<String>, u32)> {
    let conn = Connection::open(db).expect("open");
    let mut statement = conn
        .prepare(
            "SELECT pgn FROM games WHERE ?1 IS NULL OR platform = ?1
             ORDER BY played_at, game_id, platform",
        )
        .expect("query");
    let pgns: Vec<String> = statement
        .query_map([platform], |row| row.get(0))
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect();
    pgns.iter()
        .flat_map(|pgn| read_pgn(pgn.as_bytes()))
        .collect()
}

#[test]
fn status_shows_one_row_per_imported_player() {
    let (_fake, outcome) = imported();
    let run = chess_import(&["status", "--json"], &outcome.db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let players = json["players"].as_array().expect("players");
    let summary: Vec<(&str, &str, u64, bool, bool, &Value)> = players
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().expect("platform"),
                p["username"].as_str().expect("username"),
                p["games"].as_u64().expect("games"),
                p["newest_game"].is_string(),
                p["last_success"].is_string(),
                &p["last_error"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("chesscom", "bob", 7, true, true, &Value::Null),
            (
                "chesscom",
                "nobody",
                0,
                false,
                false,
                &Value::from("user not found")
            ),
            ("lichess", "alice", 5, true, true, &Value::Null),
        ]
    );
    // The newest of alice's games started 4 minutes after T0 (2023-11-14T22:13:20Z).
    assert_eq!(players[2]["newest_game"], "2023-11-14T22:17:20Z");

    let run = chess_import(&["status"], &outcome.db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "player               games  newest game       last success      last error"
    );
    assert!(lines[2].starts_with("chesscom:nobody          0  -                 -  "));
    assert!(lines[2].ends_with("user not found"), "{}", lines[2]);
    assert!(lines[3].starts_with("lichess:alice            5  2023-11-14 22:17  20"));
    assert_eq!(lines[4], "(times in UTC)");
}

#[test]
fn export_writes_every_game_oldest_first_as_readable_pgn() {
    let (_fake, outcome) = imported();
    let run = chess_import(&["export"], &outcome.db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "exported 12 games\n");
    let exported = read_pgn(run.stdout.as_bytes());
    assert_eq!(exported.len(), 12);
    assert_eq!(exported, stored_games(&outcome.db, None));
    assert!(exported.iter().all(|(_, moves)| *moves > 0));
    // One blank line between games, one newline at the end.
    assert!(!run.stdout.contains("\n\n\n"));
    assert!(run.stdout.ends_with("\n") && !run.stdout.ends_with("\n\n"));
    assert_eq!(run.stdout.matches("\n\n[Event ").count(), 11);
}

#[test]
fn export_filters_by_player_and_day_and_writes_to_a_file() {
    let (_fake, outcome) = imported();
    let out = outcome.dir.path().join("alice.pgn");
    let out_arg = out.display().to_string();
    let run = chess_import(
        &["export", "--player", "lichess:alice", "--out", &out_arg],
        &outcome.db,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, format!("exported 5 games to {out_arg}\n"));
    let written = std::fs::read(&out).expect("the file");
    assert_eq!(
        read_pgn(&written),
        stored_games(&outcome.db, Some("lichess"))
    );

    let run = chess_import(
        &[
            "-q",
            "export",
            "--since",
            "2024-01-01",
            "--until",
            "2024-02-29",
        ],
        &outcome.db,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(read_pgn(run.stdout.as_bytes()).len(), 3, "bob's January");
}

#[test]
fn export_into_a_closed_pipe_exits_quietly() {
    let fake = FakeServer::start();
    // Enough PGN to fill the pipe, so that the export is still writing when it closes.
    fake.add_lichess_games("alice", 400, T0, 60_000);
    let outcome = Import::new(&fake).players(["lichess:alice"]).run();
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let mut child = Command::new(env!("CARGO_BIN_EXE_chess-import"))
        .args(["export", "--db"])
        .arg(&outcome.db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start export");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut head = [0; 100];
    stdout.read_exact(&mut head).expect("the first bytes");
    drop(stdout);
    let output = child.wait_with_output().expect("export ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn reading_commands_never_create_a_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let missing = dir.path().join("missing.sqlite");
    for command in ["status", "export"] {
        let run = chess_import(&[command], &missing);
        assert_eq!(run.code, 2);
        assert!(
            run.stderr.contains("missing.sqlite does not exist"),
            "{}",
            run.stderr
        );
        assert!(!missing.exists());
    }
    let run = chess_import(
        &["status"],
        Path::new("postgres://me:secret@localhost/games"),
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "chess-import: error: reading a PostgreSQL target is not supported yet; use an SQLite \
         file path\n"
    );
}
