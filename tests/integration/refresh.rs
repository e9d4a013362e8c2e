//! `import --refresh-analysis DAYS`: reviews and analyses that came after a game was stored are
//! picked up, in place, without a second row and without asking for more than the window needs.

use std::time::{SystemTime, UNIX_EPOCH};

use chess_import_fake::{ChesscomGameSpec, Endpoint, FakeServer, Fault, Matcher, Provider};

use crate::support::cli::{Backend, Outcome, games_in, on_both_stores, value_in};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn now_ms() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(now.as_millis()).unwrap()
}

fn column(run: &Outcome, game_id: &str, column: &str) -> Option<String> {
    value_in(
        &run.db,
        &format!("SELECT {column} FROM games WHERE game_id = '{game_id}'"),
    )
}

/// The run's one player's count of `field`.
fn player_count(run: &Outcome, field: &str) -> u64 {
    let summary = run.json();
    summary["players"][0][field].as_u64().unwrap()
}

/// `import --refresh-analysis DAYS` of `player` into the database of `earlier`, the fake's
/// request log cleared first.
fn refresh(
    backend: &Backend,
    fake: &FakeServer,
    earlier: &Outcome,
    player: &str,
    days: &str,
) -> Outcome {
    fake.clear_requests();
    let run = backend
        .import(fake)
        .db(&earlier.db)
        .players([player])
        .args(["--refresh-analysis", days])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

/// A Chess.com Game Review run after the game was served: its month's ETag changes.
fn review(fake: &FakeServer, uuid: &str, white: f64, black: f64) {
    assert!(fake.patch_chesscom_game(uuid, |game| {
        game.insert(
            "accuracies".into(),
            serde_json::json!({ "white": white, "black": black }),
        );
    }));
}

fn a_late_chesscom_review_updates_the_stored_row_and_an_unchanged_month_costs_a_304(
    backend: Backend,
) {
    let fake = FakeServer::start();
    fake.add_chesscom_user("bob");
    let end_time = (now_ms() - 2 * DAY_MS) / 1000;
    let mut spec = ChesscomGameSpec::new("bob", "eve", end_time);
    spec.accuracies = Some(false);
    let recent = fake.add_chesscom_game(spec);
    let mut spec = ChesscomGameSpec::new("eve", "bob", end_time - 100 * 24 * 60 * 60);
    spec.accuracies = Some(false);
    let old = fake.add_chesscom_game(spec);
    let first = backend.import(&fake).players(["chesscom:bob"]).run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    let pgn = column(&first, &recent, "pgn");
    assert_eq!(column(&first, &recent, "white_accuracy"), None);

    review(&fake, &recent, 81.25, 64.5);
    review(&fake, &old, 70.5, 71.5);
    let run = refresh(&backend, &fake, &first, "chesscom:bob", "7");
    assert_eq!(player_count(&run, "updated_games"), 1, "{}", run.stdout);
    assert_eq!(player_count(&run, "new_games"), 0);
    assert_eq!(run.json()["updated_games"], 1);
    assert_eq!(games_in(&run.db).len(), 2, "no second row");
    assert_eq!(
        column(&run, &recent, "white_accuracy").as_deref(),
        Some("81.25")
    );
    assert_eq!(
        column(&run, &recent, "black_accuracy").as_deref(),
        Some("64.5")
    );
    assert_eq!(column(&run, &recent, "pgn"), pgn, "the PGN did not change");
    // The old game's month is outside the window: not asked, not updated.
    let old_month = chrono::DateTime::from_timestamp(end_time - 100 * 24 * 60 * 60, 0)
        .unwrap()
        .format("/%Y/%m")
        .to_string();
    let asked = |fake: &FakeServer| {
        fake.requests_for(Provider::Chesscom)
            .into_iter()
            .filter(|r| r.endpoint == Endpoint::ChesscomMonth)
            .collect::<Vec<_>>()
    };
    assert!(
        asked(&fake).iter().all(|r| !r.path.ends_with(&old_month)),
        "{:?}",
        asked(&fake)
    );
    assert_eq!(column(&run, &old, "white_accuracy"), None);

    // Nothing changed since: every month asked answers 304, and nothing is updated.
    let again = refresh(&backend, &fake, &first, "chesscom:bob", "7");
    assert_eq!(player_count(&again, "updated_games"), 0);
    let months = asked(&fake);
    assert!(!months.is_empty());
    for month in &months {
        assert_eq!(month.status, 304, "{month:?}");
        assert!(month.if_none_match.is_some(), "{month:?}");
    }

    // A window that reaches the old month asks it again, and updates its game.
    let wide = refresh(&backend, &fake, &first, "chesscom:bob", "365");
    assert_eq!(player_count(&wide, "updated_games"), 1);
    assert_eq!(
        column(&wide, &old, "white_accuracy").as_deref(),
        Some("70.5")
    );
    assert_eq!(games_in(&wide.db).len(), 2);
}

fn late_lichess_analyses_are_asked_by_id_300_at_a_time_within_the_window(backend: Backend) {
    let fake = FakeServer::start();
    let recent = fake.add_lichess_games("alice", 301, now_ms() - 3 * DAY_MS, 60_000);
    let old = fake.add_lichess_games("alice", 1, now_ms() - 30 * DAY_MS, 60_000);
    // Asked with the analysis (none yet) and the division: only a late analysis can change.
    let first = backend
        .import(&fake)
        .players(["lichess:alice"])
        .arg("--with-analysis")
        .run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(games_in(&first.db).len(), 302);
    let unchanged_pgn = column(&first, &recent[1], "pgn");

    for id in [&recent[0], &recent[300], &old[0]] {
        assert!(fake.analyse_lichess_game(id));
    }
    let run = refresh(&backend, &fake, &first, "lichess:alice", "7");
    let by_ids = fake
        .requests_for(Provider::Lichess)
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::LichessExportIds)
        .collect::<Vec<_>>();
    assert_eq!(by_ids.len(), 2, "301 games in two requests: {by_ids:?}");
    for request in &by_ids {
        assert_eq!(request.status, 200, "{request:?}");
        for flag in ["evals", "accuracy", "division"] {
            assert_eq!(request.query_param(flag).as_deref(), Some("true"), "{flag}");
        }
    }
    assert_eq!(player_count(&run, "updated_games"), 2, "{}", run.stdout);
    assert_eq!(games_in(&run.db).len(), 302, "no second row");
    for id in [&recent[0], &recent[300]] {
        assert!(column(&run, id, "white_accuracy").is_some(), "{id}");
        assert!(column(&run, id, "pgn").is_some_and(|pgn| pgn.contains("[%eval ")));
    }
    assert_eq!(column(&run, &recent[1], "pgn"), unchanged_pgn);
    assert_eq!(
        column(&run, &old[0], "white_accuracy"),
        None,
        "older than the window: not asked again"
    );
    // The cursor stays where the import left it.
    let cursor = |run: &Outcome| {
        value_in(
            &run.db,
            "SELECT last_created_at FROM import_state WHERE username = 'alice'",
        )
    };
    assert_eq!(cursor(&run), cursor(&first));

    // The analysed games are no longer asked for: 299 left, one request.
    let again = refresh(&backend, &fake, &first, "lichess:alice", "7");
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExportIds),
        1
    );
    assert_eq!(player_count(&again, "updated_games"), 0);
}

#[test]
fn a_refresh_that_fails_still_imports_the_new_games_and_fails_the_player() {
    let fake = FakeServer::start();
    let stored = fake.add_lichess_games("alice", 3, now_ms() - 3 * DAY_MS, 60_000);
    let first = Backend::Sqlite
        .import(&fake)
        .players(["lichess:alice"])
        .run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(fake.analyse_lichess_game(&stored[0]));
    fake.add_lichess_games("alice", 2, now_ms() - DAY_MS, 60_000);
    let down = fake.push_fault_n(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExportIds),
        Fault::ServiceUnavailable,
        usize::MAX,
    );
    let run = Backend::Sqlite
        .import(&fake)
        .db(&first.db)
        .players(["lichess:alice"])
        .args(["--refresh-analysis", "7"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(fake.fault_hits(down) > 0);
    assert_eq!(player_count(&run, "new_games"), 2, "{}", run.stdout);
    assert_eq!(player_count(&run, "updated_games"), 0);
    let error = run.json()["players"][0]["error"].to_string();
    assert!(error.contains("export of games to refresh"), "{error}");
    assert_eq!(column(&run, &stored[0], "white_accuracy"), None);
}

on_both_stores!(
    a_late_chesscom_review_updates_the_stored_row_and_an_unchanged_month_costs_a_304,
    late_lichess_analyses_are_asked_by_id_300_at_a_time_within_the_window,
);
