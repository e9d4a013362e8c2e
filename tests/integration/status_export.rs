//! `status` and `export` on the database of a real import from the fake providers, in SQLite
//! and in PostgreSQL (whose tests need `CHESS_IMPORT_TEST_PG`: see support/pg.rs), and the
//! PostgreSQL job queue in `status`.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::Stdio;

use chess_import_fake::FakeServer;
use pgn_reader::{RawTag, Reader, SanPlus, Visitor};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::support::cli::{Backend, Outcome, binary, on_both_stores};
use crate::support::pg;

const T0: i64 = 1_700_000_000_000;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn chess_import(args: &[&str], db: &Path) -> Run {
    let output = binary()
        .args(args)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run chess-import");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

fn is_postgres(db: &Path) -> bool {
    db.to_string_lossy().starts_with("postgres")
}

/// The fake with alice on Lichess (`lichess_games` from November 2023), Bob on Chess.com
/// (January and March 2024), and a Chess.com player that does not exist.
fn fake(lichess_games: usize) -> FakeServer {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", lichess_games, T0, 60_000);
    fake.add_chesscom_games("bob", 2024, 1, 3);
    fake.add_chesscom_games("bob", 2024, 3, 4);
    fake
}

/// Everything `fake` has, imported into a database of `backend`.
fn import(fake: &FakeServer, backend: &Backend) -> Outcome {
    let outcome = backend
        .import(fake)
        .players(["lichess:alice", "chesscom:bob", "chesscom:nobody"])
        .run();
    assert_eq!(outcome.code, 1, "{}", outcome.stderr);
    outcome
}

/// Alice with 5 games, Bob and nobody, imported into one database.
fn imported(backend: &Backend) -> (FakeServer, Outcome) {
    let fake = fake(5);
    let outcome = import(&fake, backend);
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

/// The stored games, oldest first as the export promises (SQLite's order: games without a
/// start first, ids bytewise), each as pgn-reader reads it alone.
fn stored_games(db: &Path, platform: Option<&str>) -> Vec<(Option<String>, u32)> {
    let pgns: Vec<String> = if is_postgres(db) {
        let only = platform.map_or(String::new(), |p| format!("WHERE platform = '{p}'"));
        let sql = format!(
            r#"SELECT pgn FROM games {only}
               ORDER BY played_at NULLS FIRST, game_id COLLATE "C", platform COLLATE "C""#
        );
        pg::query_strings(&db.to_string_lossy(), &sql)
            .into_iter()
            .map(|pgn| pgn.expect("a PGN"))
            .collect()
    } else {
        let conn = Connection::open(db).expect("open");
        let mut statement = conn
            .prepare(
                "SELECT pgn FROM games WHERE ?1 IS NULL OR platform = ?1
                 ORDER BY played_at, game_id, platform",
            )
            .expect("query");
        statement
            .query_map([platform], |row| row.get(0))
            .expect("rows")
            .map(|row| row.expect("row"))
            .collect()
    };
    pgns.iter()
        .flat_map(|pgn| read_pgn(pgn.as_bytes()))
        .collect()
}

fn status_shows_one_row_per_imported_player(backend: Backend) {
    let (_fake, outcome) = imported(&backend);
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
    // Only PostgreSQL has a job queue; this one is empty.
    if is_postgres(&outcome.db) {
        assert_eq!(
            json["queue"],
            json!({"queued": 0, "running": 0, "done": 0, "failed": 0,
                   "running_jobs": [], "queued_jobs": [], "failed_jobs": [], "workers": [],
                   "drains_at": null})
        );
        assert_eq!(lines[4..], ["", "queue: empty", "(times in UTC)"]);
    } else {
        assert_eq!(json.get("queue"), None);
        assert_eq!(lines[4..], ["(times in UTC)"]);
    }
}

fn export_writes_every_game_oldest_first_as_readable_pgn(backend: Backend) {
    let (_fake, outcome) = imported(&backend);
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

fn export_filters_by_player_and_day_and_writes_to_a_file(backend: Backend) {
    let (_fake, outcome) = imported(&backend);
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

fn export_into_a_closed_pipe_exits_quietly(backend: Backend) {
    let fake = FakeServer::start();
    // Enough PGN to fill the pipe, so that the export is still writing when it closes.
    fake.add_lichess_games("alice", 400, T0, 60_000);
    let outcome = backend.import(&fake).players(["lichess:alice"]).run();
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    let mut child = binary()
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
    // Nothing listens on port 1: the connection is refused at once.
    for command in ["status", "export"] {
        let run = chess_import(
            &[command],
            Path::new("postgres://me:secret@127.0.0.1:1/games"),
        );
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr,
            "chess-import: error: cannot open database postgres://me:***@127.0.0.1:1/games: \
             cannot connect to 127.0.0.1:1: Connection refused (os error 111) (is the server \
             running and accepting connections there?)\n"
        );
        assert_eq!(run.stdout, "");
    }
}

/// `export --format ndjson` and `--format csv`, of the games and of the players' view: one row
/// per stored game (per player and game), every column, read back by serde and by a CSV parser.
fn export_writes_ndjson_and_csv_rows_of_games_and_of_players(backend: Backend) {
    let (_fake, outcome) = imported(&backend);
    let games = chess_import::store::View::Games.columns();
    let ndjson = chess_import(&["export", "--format", "ndjson"], &outcome.db);
    assert_eq!(ndjson.code, 0, "{}", ndjson.stderr);
    assert_eq!(ndjson.stderr, "exported 12 games\n");
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = ndjson
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON object per line"))
        .collect();
    assert_eq!(rows.len(), 12);
    for row in &rows {
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        let mut expected = games.clone();
        expected.sort_unstable();
        assert_eq!(keys, expected, "every column");
        assert!(
            row["pgn"]
                .as_str()
                .is_some_and(|pgn| pgn.contains("[Event "))
        );
        assert!(row["rated"].is_boolean() && row["played_at"].is_i64());
    }
    let pgn_sites: Vec<Option<String>> =
        read_pgn(chess_import(&["export"], &outcome.db).stdout.as_bytes())
            .into_iter()
            .map(|(site, _)| site)
            .collect();
    let json_urls: Vec<Option<String>> = rows
        .iter()
        .map(|row| row["url"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        json_urls, pgn_sites,
        "the same games in the same order as the PGN export"
    );

    let csv = chess_import(&["export", "--format", "csv"], &outcome.db);
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(String::from)
        .collect();
    let without_pgn: Vec<&str> = games.iter().copied().filter(|c| *c != "pgn").collect();
    assert_eq!(header, without_pgn);
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("RFC 4180 rows");
    assert_eq!(records.len(), 12);
    let with_pgn = chess_import(&["export", "--format", "csv", "--with-pgn"], &outcome.db);
    let mut reader = csv::Reader::from_reader(with_pgn.stdout.as_bytes());
    let pgn_at = games
        .iter()
        .position(|c| *c == "pgn")
        .expect("a pgn column");
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("RFC 4180 rows");
    assert!(
        records.iter().all(|r| r[pgn_at].contains("[Event ")),
        "multi-line PGNs quoted"
    );

    let players = chess_import(
        &[
            "export",
            "--view",
            "players",
            "--format",
            "csv",
            "--player",
            "chesscom:bob",
        ],
        &outcome.db,
    );
    assert_eq!(players.code, 0, "{}", players.stderr);
    assert_eq!(players.stderr, "exported 7 player rows\n");
    let mut reader = csv::Reader::from_reader(players.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header, chess_import::store::View::Players.columns());
    for record in reader.records() {
        let record = record.expect("a row");
        assert_eq!(&record[1], "bob");
        assert!(["white", "black"].contains(&&record[5]), "{record:?}");
    }
    let refused = chess_import(&["export", "--view", "players"], &outcome.db);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("--view players has no PGN"),
        "{}",
        refused.stderr
    );
}

on_both_stores!(
    status_shows_one_row_per_imported_player,
    export_writes_every_game_oldest_first_as_readable_pgn,
    export_filters_by_player_and_day_and_writes_to_a_file,
    export_into_a_closed_pipe_exits_quietly,
    export_writes_ndjson_and_csv_rows_of_games_and_of_players,
);

/// Games `import` would not write, to check the order at its edges: two without a start time
/// (SQLite sorts them first, PostgreSQL would put them last) and two starting in the same
/// millisecond as alice's first game, with ids that sort differently bytewise and by a
/// language's collation.
const ODD_GAMES: &str = r#"
INSERT INTO games (platform, game_id, played_at, valid, pgn, imported_at) VALUES
    ('lichess', 'zz000001', NULL, '1', '[Event "undated z"]

1. e4 *', 0),
    ('chesscom', 'AA000002', NULL, '1', '[Event "undated A"]

1. d4 *', 0),
    ('lichess', 'b0000003', 1700000000000, '1', '[Event "tie b"]

1. c4 *', 0),
    ('lichess', 'B0000004', 1700000000000, '1', '[Event "tie B"]

1. Nf3 *', 0)"#;

/// The same games, imported into SQLite and into PostgreSQL, export to the same bytes, in more
/// than one of the chunks PostgreSQL sends them in; and `status` says the same of them.
#[test]
fn postgres_exports_and_lists_exactly_what_sqlite_does() {
    let Some(postgres) = Backend::postgres() else {
        return;
    };
    let fake = fake(1_100);
    // The outcomes keep the SQLite file's directory alive.
    let sqlite_import = import(&fake, &Backend::Sqlite);
    let postgres_import = import(&fake, &postgres);
    let (sqlite, postgres) = (&sqlite_import.db, &postgres_import.db);
    let sqlite_conn = Connection::open(sqlite).expect("open");
    sqlite_conn.execute_batch(ODD_GAMES).expect("odd games");
    drop(sqlite_conn);
    pg::execute(&postgres.to_string_lossy(), ODD_GAMES);

    for args in [
        &["export"][..],
        &[
            "export",
            "--player",
            "chesscom:bob",
            "--player",
            "lichess:alice",
        ],
        &["export", "--since", "2023-11-15", "--until", "2024-01-31"],
    ] {
        let expected = chess_import(args, sqlite);
        assert_eq!(expected.code, 0, "{}", expected.stderr);
        let run = chess_import(args, postgres);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, expected.stderr, "{args:?}");
        assert!(
            run.stdout == expected.stdout,
            "{args:?}: the exports differ"
        );
    }
    let run = chess_import(&["export"], postgres);
    assert_eq!(run.stderr, "exported 1,111 games\n");
    let exported = read_pgn(run.stdout.as_bytes());
    assert_eq!(exported, stored_games(postgres, None));
    assert_eq!(exported[0].0, None, "undated first");
    assert!(run.stdout.starts_with("[Event \"undated A\"]"));

    // Only the import times differ.
    let players = |db: &Path| {
        let run = chess_import(&["status", "--json"], db);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut json: Value = serde_json::from_str(&run.stdout).expect("JSON");
        for player in json["players"].as_array_mut().expect("players") {
            for key in ["last_success", "last_attempt"] {
                let time = player[key].take();
                player[key] = Value::Bool(time.is_string());
            }
        }
        json["players"].take()
    };
    assert_eq!(players(postgres), players(sqlite));
}

/// The queue as `status` shows it: counts, who runs what since when, a worker that stopped
/// renewing its lease, and the failed jobs' errors.
#[test]
fn status_shows_the_postgres_job_queue() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let db = Path::new(&url);
    let run = chess_import(&["status"], db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let masked = run.stdout.trim_end();
    assert!(
        masked.starts_with("no player has been imported into postgresql://chess_test:***@"),
        "{masked}"
    );
    assert!(
        !masked.contains(&pg::password(&url)),
        "password shown: {masked}"
    );
    assert!(masked.ends_with(" yet\n\nqueue: empty"), "{masked}");

    // T0 is 2023-11-14T22:13:20Z; alice's lease is an hour ahead of the server's clock.
    pg::execute(
        &url,
        "INSERT INTO import_jobs (platform, username, status, worker, attempts, enqueued_at,
             available_at, started_at, lease_expires_at, finished_at, new_games, last_error)
         VALUES
         ('lichess', 'queued', 'queued', NULL, 0, 1700000000000, 1700000000000, NULL, NULL,
          NULL, NULL, NULL),
         ('lichess', 'dead', 'running', 'host-a:17:beef', 1, 1700000000000, 1700000000000,
          1700000001000, 1700000061000, NULL, NULL, NULL),
         ('lichess', 'alive', 'running', 'host-b:42:cafe', 2, 1700000000000, 1700000000000,
          1700000002000, (extract(epoch FROM now()) * 1000)::bigint + 3600000, NULL, NULL,
          NULL),
         ('chesscom', 'done', 'done', 'host-a:17:beef', 1, 1700000000000, 1700000000000,
          1700000003000, NULL, 1700000004000, 12, NULL),
         ('chesscom', 'nobody', 'failed', 'host-b:42:cafe', 3, 1700000000000, 1700000000000,
          1700000005000, NULL, 1700000120000, NULL, 'user not found')",
    );
    let run = chess_import(&["status"], db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[1..4],
        [
            "",
            "queue: 1 queued, 2 running, 1 done, 1 failed",
            &format!(
                "running          worker          since             lease{:36}progress     eta",
                ""
            )
        ]
    );
    // The lease, the estimated times and the drain are measured from now.
    assert!(
        lines[4].starts_with("lichess:alive    host-b:42:cafe  2023-11-14 22:13  until 20"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with(
            "lichess:dead     host-a:17:beef  2023-11-14 22:13  expired 2023-11-14 22:14 \
             (worker dead?)  0/~1,000 0%  20"
        ),
        "{}",
        lines[5]
    );
    assert_eq!(lines[6], "next  queued           priority   games  start");
    assert!(
        lines[7].starts_with("   1  lichess:queued          0  ~1,000  20"),
        "{}",
        lines[7]
    );
    assert_eq!(
        lines[8..10],
        [
            "failed           attempts  finished          error",
            "chesscom:nobody         3  2023-11-14 22:15  user not found",
        ]
    );
    assert!(
        lines[10].starts_with("queue drains around 20"),
        "{}",
        lines[10]
    );
    assert_eq!(lines[11..], ["(times in UTC)"]);

    let run = chess_import(&["status", "--json"], db);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["players"], json!([]));
    let queue = &json["queue"];
    assert_eq!(
        [
            &queue["queued"],
            &queue["running"],
            &queue["done"],
            &queue["failed"]
        ],
        [1, 2, 1, 1]
    );
    let alive = &queue["running_jobs"][0];
    assert_eq!(alive["username"], "alive");
    assert_eq!(alive["attempts"], 2);
    assert_eq!(alive["lease_expired"], false);
    let mut dead = queue["running_jobs"][1].clone();
    assert!(dead["estimated_finish"].is_string(), "{dead}");
    dead["estimated_finish"] = Value::Null;
    assert_eq!(
        dead,
        json!({"platform": "lichess", "username": "dead", "worker": "host-a:17:beef",
               "attempts": 1, "started": "2023-11-14T22:13:21Z",
               "lease_expires": "2023-11-14T22:14:21Z", "lease_expired": true,
               "position": null, "priority": 0, "phase": null, "games_done": null,
               "expected_games": 1000, "progress_percent": 0,
               "estimated_start": "2023-11-14T22:13:21Z", "estimated_finish": null})
    );
    assert_eq!(queue["queued_jobs"][0]["position"], 1);
    assert_eq!(
        queue["failed_jobs"],
        json!([{"platform": "chesscom", "username": "nobody", "worker": "host-b:42:cafe",
                "attempts": 3, "finished": "2023-11-14T22:15:20Z",
                "error": "user not found"}])
    );
}

/// A wrong password or a missing database: one line naming the target, password masked, exit 2,
/// and no file created by `export --out`.
#[test]
fn postgres_errors_are_one_masked_line() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let wrong = pg::with_password(&url, "not-the-password");
    let missing = pg::with_database(&url, "no_such_database");
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("games.pgn");
    let out_arg = out.display().to_string();
    let wrong_password = if pg::pooled() {
        "SASL authentication failed (check the password"
    } else {
        "password authentication failed for user \"chess_test\" (check the password"
    };
    let cases = [
        (&wrong, wrong_password),
        (
            &missing,
            "database \"no_such_database\" does not exist (create it first",
        ),
    ];
    for (target, reason) in cases {
        for args in [
            &["status"][..],
            &["status", "--json"],
            &["export", "--out", &out_arg],
        ] {
            let run = chess_import(args, Path::new(target));
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert_eq!(run.stdout, "");
            let line = run.stderr.strip_suffix('\n').expect("a line");
            assert!(!line.contains('\n'), "{line}");
            assert!(
                line.starts_with(
                    "chess-import: error: cannot open database postgresql://chess_test:***@"
                ),
                "{line}"
            );
            assert!(line.contains(reason), "{line}");
            assert!(!line.contains("not-the-password") && !line.contains(&pg::password(&url)));
            assert!(!out.exists());
        }
    }
}
