//! The core import against the fake providers: both platforms, dedup, incremental re-runs,
//! narrowed runs, unknown users and bad usage.

use chess_import_fake::{ChesscomGameSpec, Endpoint, FakeServer, LichessGameSpec, Provider};
use serde_json::Value;

use crate::support::cli::{
    Backend, Import, game_keys, games_in, links_in, on_both_stores, value_in,
};

/// 2023-11-14T22:13:20Z, a fixed point for generated games.
const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn imports_both_platforms_in_one_run(backend: Backend) {
    let fake = FakeServer::start();
    let lichess_ids = fake.add_lichess_games("Alice", 25, T0, MINUTE);
    let mut chesscom_ids = fake.add_chesscom_games("Bob", 2023, 10, 7);
    chesscom_ids.extend(fake.add_chesscom_games("Bob", 2023, 11, 5));
    let run = backend
        .import(&fake)
        .players(["lichess:alice", "chesscom:Bob"])
        .run();

    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["new_games"], 37);
    assert_eq!(summary["failed_players"], 0);
    let expected = game_keys(&lichess_ids, &chesscom_ids);
    assert_eq!(games_in(&run.db), expected);
    let valid = value_in(&run.db, "SELECT count(*) FROM games WHERE valid");
    let with_plies = value_in(&run.db, "SELECT count(ply_count) FROM games");
    assert_eq!(
        valid.as_deref(),
        Some("37"),
        "every generated game is legal"
    );
    assert_eq!(with_plies.as_deref(), Some("37"));
    // The Chess.com archive URLs name api.chess.com; every request still went to the fake.
    assert_eq!(
        fake.count_endpoint(Provider::Chesscom, Endpoint::ChesscomMonth),
        2
    );
}

fn json_summary_has_the_documented_shape(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    let run = backend
        .import(&fake)
        .players(["lichess:alice", "chesscom:nobody-here"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(
        keys(&summary),
        [
            "duplicate_games",
            "elapsed_ms",
            "failed_players",
            "fresh_players",
            "interrupted",
            "invalid_games",
            "new_games",
            "players",
            "skipped_players",
            "updated_games"
        ]
    );
    let players = summary["players"].as_array().unwrap();
    assert_eq!(
        keys(&players[0]),
        [
            "duplicate_games",
            "elapsed_ms",
            "error",
            "invalid_games",
            "new_games",
            "platform",
            "skipped_games",
            "status",
            "updated_games",
            "username"
        ]
    );
    assert_eq!(players[0]["platform"], "lichess");
    assert_eq!(players[0]["username"], "alice");
    assert_eq!(players[0]["status"], "ok");
    assert_eq!(players[0]["new_games"], 3);
    assert_eq!(players[0]["error"], Value::Null);
    assert_eq!(players[1]["platform"], "chesscom");
    assert_eq!(players[1]["status"], "failed");
    assert_eq!(players[1]["error"], "user not found");
    assert_eq!(summary["failed_players"], 1);
    assert_eq!(summary["new_games"], 3);
}

fn a_game_between_two_imported_players_is_stored_once_and_linked_to_both(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_lichess_user("alice");
    fake.add_lichess_user("carol");
    let shared = fake.add_lichess_game(LichessGameSpec::new("alice", "carol", T0));
    fake.add_lichess_games("alice", 2, T0 + MINUTE, MINUTE);
    fake.add_chesscom_user("dave");
    fake.add_chesscom_user("erin");
    let shared_chesscom = fake.add_chesscom_game(ChesscomGameSpec::new("dave", "erin", T0 / 1000));
    let run = backend
        .import(&fake)
        .players([
            "lichess:alice",
            "lichess:carol",
            "chesscom:dave",
            "chesscom:erin",
        ])
        .jobs(1)
        .run();

    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["new_games"], 4);
    assert_eq!(summary["duplicate_games"], 2);
    let players = &summary["players"];
    assert_eq!(players[1]["username"], "carol");
    assert_eq!(players[1]["duplicate_games"], 1);
    assert_eq!(players[3]["username"], "erin");
    assert_eq!(players[3]["duplicate_games"], 1);
    let links = links_in(&run.db);
    for (player, game) in [
        ("alice", &shared),
        ("carol", &shared),
        ("dave", &shared_chesscom),
        ("erin", &shared_chesscom),
    ] {
        assert!(
            links.iter().any(|(_, u, g)| u == player && g == game),
            "{player} is not linked to {game}: {links:?}"
        );
    }
    assert_eq!(games_in(&run.db).len(), 4);
}

fn a_second_run_fetches_nothing_new_and_a_third_picks_up_new_games(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 10, T0, MINUTE);
    fake.add_chesscom_games("bob", 2023, 9, 4);
    fake.add_chesscom_games("bob", 2023, 10, 4);
    let import = backend
        .import(&fake)
        .players(["lichess:alice", "chesscom:bob"]);
    let first = import.run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["new_games"], 18);

    fake.clear_requests();
    let second = import.run();
    assert_eq!(second.code, 0, "{}", second.stderr);
    let summary = second.json();
    assert_eq!(summary["new_games"], 0);
    assert_eq!(summary["duplicate_games"], 0);
    // One request per up-to-date Lichess player, from the newest stored game's millisecond (the
    // games stored there are skipped, so none comes back as a duplicate).
    let lichess = fake.requests_for(Provider::Lichess);
    assert_eq!(lichess.len(), 1, "{lichess:?}");
    let newest = fake
        .lichess_game_created_at(&fake.lichess_game_ids("alice")[9])
        .unwrap();
    assert_eq!(lichess[0].query_param("since"), Some(newest.to_string()));
    // Two per up-to-date Chess.com player: the archive list, then the newest month, answered
    // 304 thanks to the stored ETag. The older month is not asked for again.
    let chesscom = fake.requests_for(Provider::Chesscom);
    assert_eq!(chesscom.len(), 2, "{chesscom:?}");
    assert!(chesscom[1].path.ends_with("/2023/10"), "{chesscom:?}");
    assert!(chesscom[1].if_none_match.is_some());
    // Chess.com's Last-Modified is not an RFC date: it is echoed exactly as it was served.
    let last_modified = chesscom[1].if_modified_since.clone().unwrap_or_default();
    assert!(last_modified.ends_with("GMT+0000"), "{last_modified:?}");
    assert_eq!(chesscom[1].status, 304);

    let new_lichess = fake.add_lichess_games("alice", 3, T0 + 100 * MINUTE, MINUTE);
    let mut new_chesscom = fake.add_chesscom_games("bob", 2023, 10, 2);
    new_chesscom.extend(fake.add_chesscom_games("bob", 2023, 12, 3));
    let third = import.run();
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(third.json()["new_games"], 8);
    let stored = games_in(&third.db);
    for id in new_lichess.iter().chain(&new_chesscom) {
        assert!(stored.iter().any(|(_, g)| g == id), "{id} missing");
    }
    assert_eq!(stored.len(), 26);
}

fn an_unknown_user_fails_alone(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 4, T0, MINUTE);
    fake.add_chesscom_games("bob", 2023, 10, 3);
    let run = backend
        .import(&fake)
        .players([
            "lichess:ghost-player",
            "lichess:alice",
            "chesscom:nobody99",
            "chesscom:bob",
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["failed_players"], 2);
    assert_eq!(summary["new_games"], 7);
    for index in [0, 2] {
        assert_eq!(summary["players"][index]["status"], "failed");
        assert_eq!(summary["players"][index]["error"], "user not found");
    }
    assert_eq!(games_in(&run.db).len(), 7);
}

#[test]
fn invalid_players_are_usage_errors_before_any_request() {
    let fake = FakeServer::start();
    for (spec, expected) in [
        ("fics:alice", "unknown platform"),
        ("lichess:", "empty username"),
        ("lichess:a", "2 to 30 characters"),
        ("chesscom:bob smith", "only letters"),
        ("alice", "PLATFORM:USERNAME"),
    ] {
        let run = Import::new(&fake).players(["lichess:alice", spec]).run();
        assert_eq!(run.code, 2, "{spec}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{spec}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            3,
            "clap's short usage: {}",
            run.stderr
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("players.txt");
    std::fs::write(&list, "lichess:alice\n# a comment\n\nchesscom:b@d\n").unwrap();
    let run = Import::new(&fake)
        .arg("-f")
        .arg(list.to_str().unwrap())
        .run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("players.txt:4"), "{}", run.stderr);
    assert!(fake.requests().is_empty(), "no request before validation");
}

fn players_come_from_files_and_stdin_once_each(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2, T0, MINUTE);
    fake.add_chesscom_games("bob", 2023, 10, 2);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("players.txt");
    std::fs::write(
        &list,
        "# team\nLichess:Alice\nchess.com:bob  # the other one\n\n",
    )
    .unwrap();
    let run = backend
        .import(&fake)
        .players(["lichess:alice"])
        .arg("-f")
        .arg(list.to_str().unwrap())
        .arg("-f")
        .arg("-")
        .stdin("lichess.org:ALICE\nchesscom:bob\n")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["players"].as_array().unwrap().len(), 2);
    assert_eq!(summary["new_games"], 4);
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExport),
        1
    );
}

fn narrowed_runs_never_make_a_full_run_skip_games(backend: Backend) {
    let fake = FakeServer::start();
    // Ten Lichess games a day apart from 2023-11-14; Chess.com games in three months.
    let lichess_ids = fake.add_lichess_games("alice", 10, T0, 24 * 60 * MINUTE);
    let mut chesscom_ids = fake.add_chesscom_games("bob", 2023, 9, 3);
    chesscom_ids.extend(fake.add_chesscom_games("bob", 2023, 10, 3));
    chesscom_ids.extend(fake.add_chesscom_games("bob", 2023, 11, 3));
    let import = || {
        backend
            .import(&fake)
            .players(["lichess:alice", "chesscom:bob"])
    };

    let late = import().args(["--since", "2023-11-20"]).run();
    assert_eq!(late.code, 0, "{}", late.stderr);
    let late_games = late.json()["players"][0]["new_games"].as_u64().unwrap();
    assert!(late_games > 0 && late_games < 10, "{late_games}");

    let first_few = import().args(["--max-games", "2"]).db(&late.db).run();
    assert_eq!(first_few.code, 0, "{}", first_few.stderr);

    let early = import().args(["--until", "2023-09-30"]).db(&late.db).run();
    assert_eq!(early.code, 0, "{}", early.stderr);

    let full = import().db(&late.db).run();
    assert_eq!(full.code, 0, "{}", full.stderr);
    let expected = game_keys(&lichess_ids, &chesscom_ids);
    assert_eq!(games_in(&full.db), expected);
}

fn odd_games_are_stored_flagged_or_skipped_and_counted(backend: Backend) {
    let fake = FakeServer::start();
    fake.add_chesscom_games("bob", 2023, 10, 2);
    fake.add_chesscom_bughouse_game("bob", 2023, 10);
    let odds = fake.add_chesscom_odds_game("bob", 2023, 10);
    fake.add_lichess_games("alice", 2, T0, MINUTE);
    fake.add_raw_lichess_line("alice", T0 + 10 * MINUTE, "{\"id\":\"brokenPg\",\"createdAt\":1700000600000,\"status\":\"resign\",\"variant\":\"standard\",\"pgn\":\"[Event \\\"x\\\"]\\n\\n1. e4 Ke7?? 2. Qh5 Kxh5 1-0\\n\\n\\n\"}");
    fake.add_raw_lichess_line("alice", T0 + 11 * MINUTE, "{\"not\": \"a game\"");
    fake.add_raw_lichess_line("alice", T0 + 12 * MINUTE, "{\"createdAt\":1700000720000}");
    let run = backend
        .import(&fake)
        .players(["lichess:alice", "chesscom:bob"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    let alice = &summary["players"][0];
    assert_eq!(
        alice["new_games"], 3,
        "two good games and the broken one, stored"
    );
    assert_eq!(
        alice["invalid_games"], 3,
        "the broken game and two unreadable lines"
    );
    let bob = &summary["players"][1];
    assert_eq!(bob["new_games"], 3);
    assert_eq!(bob["skipped_games"], 1, "the bughouse game has no PGN");
    let broken = |column: &str| {
        value_in(
            &run.db,
            &format!("SELECT {column} FROM games WHERE game_id = 'brokenPg'"),
        )
    };
    assert_eq!(
        broken("CASE WHEN valid THEN 'yes' ELSE 'no' END").as_deref(),
        Some("no")
    );
    assert_eq!(broken("ply_count"), None);
    let pgn = broken("pgn").unwrap_or_default();
    assert!(pgn.contains("Ke7??"), "stored as served: {pgn}");
    let odds_row = |column: &str| {
        value_in(
            &run.db,
            &format!("SELECT {column} FROM games WHERE game_id = '{odds}'"),
        )
    };
    assert_eq!(odds_row("variant").as_deref(), Some("oddschess"));
    assert_eq!(
        odds_row("CASE WHEN valid THEN 'yes' ELSE 'no' END").as_deref(),
        Some("yes")
    );
}

#[test]
fn a_malformed_provider_url_is_a_usage_error_before_the_database_is_made() {
    let fake = FakeServer::start();
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--lichess-url", "lichess.org"])
        .run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--lichess-url \"lichess.org\" is not an http(s) URL"),
        "{}",
        run.stderr
    );
    assert!(!run.db.exists(), "the database was created");
}

#[test]
fn unusable_databases_are_usage_errors_naming_the_path() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 1, T0, MINUTE);
    let dir = tempfile::tempdir().unwrap();
    let not_a_db = dir.path().join("notes.sqlite");
    std::fs::write(&not_a_db, "not a database at all\n".repeat(200)).unwrap();
    let missing_dir = dir.path().join("missing").join("games.sqlite");
    for target in [not_a_db.to_str().unwrap(), missing_dir.to_str().unwrap()] {
        let run = Import::new(&fake)
            .players(["lichess:alice"])
            .db_target(target)
            .run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(target) || run.stderr.contains("missing"),
            "{}",
            run.stderr
        );
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "one line: {}",
            run.stderr
        );
    }
    assert!(fake.requests().is_empty());
}

on_both_stores!(
    imports_both_platforms_in_one_run,
    json_summary_has_the_documented_shape,
    a_game_between_two_imported_players_is_stored_once_and_linked_to_both,
    a_second_run_fetches_nothing_new_and_a_third_picks_up_new_games,
    an_unknown_user_fails_alone,
    players_come_from_files_and_stdin_once_each,
    narrowed_runs_never_make_a_full_run_skip_games,
    odd_games_are_stored_flagged_or_skipped_and_counted,
);

#[test]
fn an_unusable_postgresql_target_is_a_usage_error_with_the_password_masked() {
    let Some(Backend::Postgres(url)) = Backend::postgres() else {
        return;
    };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 1, T0, MINUTE);
    let wrong = crate::support::pg::with_password(&url, "not-the-password");
    let missing = crate::support::pg::with_database(&url, "no_such_database");
    for (target, expected) in [(&wrong, "password"), (&missing, "no_such_database")] {
        let run = Import::new(&fake)
            .players(["lichess:alice"])
            .db_target(target)
            .run();
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "one line: {}",
            run.stderr
        );
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        assert!(!run.stderr.contains("not-the-password"), "{}", run.stderr);
        assert!(run.stderr.contains("***"), "{}", run.stderr);
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn a_player_imported_successfully_within_fresh_for_is_not_fetched_at_all() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.add_chesscom_games("bob", 2023, 10, 2);
    let first = Import::new(&fake).players(["lichess:alice"]).run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    fake.clear_requests();
    let again = Import::new(&fake)
        .db(&first.db)
        .players(["lichess:alice", "chesscom:bob"])
        .args(["--fresh-for", "1h"])
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    let summary = again.json();
    let alice = &summary["players"][0];
    assert_eq!(alice["status"], "fresh", "{summary}");
    let note = alice["error"].as_str().unwrap_or_default();
    assert!(note.contains("within --fresh-for 1h"), "{note}");
    assert_eq!(
        summary["players"][1]["status"], "ok",
        "never imported: fetched"
    );
    assert_eq!(summary["fresh_players"], 1);
    let asked = |user: &str| {
        fake.requests()
            .iter()
            .filter(|r| r.user.as_deref() == Some(user))
            .count()
    };
    assert_eq!(asked("alice"), 0, "{:?}", fake.requests());
    assert!(asked("bob") > 0);
    // Without it, the player is fetched as always.
    let plain = Import::new(&fake)
        .db(&first.db)
        .players(["lichess:alice"])
        .run();
    assert_eq!(plain.json()["players"][0]["status"], "ok");
    assert!(asked("alice") > 0);
}
