//! Chess.com months against a hostile or broken server: a month that fails costs that month and
//! is asked again by a later run; odd archive lists, odd fields and absurd dates are contained.

use std::time::Duration;

use chess_import_fake::{
    ChesscomGameSpec, Endpoint, FakeServer, Fault, Matcher, Provider, RequestRecord,
};

use crate::support::cli::{Backend, Import, Outcome, games_in, on_both_stores, value_in};

const JULY_TO_DECEMBER: [(i32, u32); 6] = [
    (2023, 7),
    (2023, 8),
    (2023, 9),
    (2023, 10),
    (2023, 11),
    (2023, 12),
];

/// Games of `bob` in each month, three a month, returned as the `(platform, id)` keys
/// `games_in` lists, per month.
fn bob_with(fake: &FakeServer, months: &[(i32, u32)]) -> Vec<Vec<(String, String)>> {
    months
        .iter()
        .map(|&(year, month)| {
            fake.add_chesscom_games("bob", year, month, 3)
                .into_iter()
                .map(|id| ("chesscom".to_string(), id))
                .collect()
        })
        .collect()
}

/// The keys of the months at `indexes`, sorted as `games_in` lists them.
fn keys_of(months: &[Vec<(String, String)>], indexes: &[usize]) -> Vec<(String, String)> {
    let mut keys: Vec<_> = indexes.iter().flat_map(|&i| months[i].clone()).collect();
    keys.sort();
    keys
}

fn last_month(run: &Outcome) -> Option<String> {
    value_in(
        &run.db,
        "SELECT last_month FROM import_state WHERE platform = 'chesscom' AND username = 'bob'",
    )
}

/// The monthly archive requests of the run, in the order they came.
fn month_requests(fake: &FakeServer) -> Vec<RequestRecord> {
    fake.requests_for(Provider::Chesscom)
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::ChesscomMonth)
        .collect()
}

/// `YYYY/MM` of each monthly archive request the run sent with (`true`) or without validators.
fn months_asked(fake: &FakeServer, conditionally: bool) -> Vec<String> {
    month_requests(fake)
        .iter()
        .filter(|r| r.if_none_match.is_some() == conditionally)
        .map(|r| r.path.rsplitn(3, '/').take(2).collect::<Vec<_>>())
        .map(|parts| format!("{}/{}", parts[1], parts[0]))
        .collect()
}

fn assert_warned(run: &Outcome, warning: &str, times: usize) {
    let count = run.stderr.matches(warning).count();
    assert_eq!(count, times, "{warning:?}: {}", run.stderr);
}

fn bob_of(run: &Outcome) -> serde_json::Value {
    let summary = run.json();
    summary["players"][0].clone()
}

fn error_of(run: &Outcome) -> String {
    bob_of(run)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// After a run in which `failed` months failed: the next run asks exactly those without
/// validators, every other month from the cursor on with them (each answered 304), and ends with
/// every game stored and the cursor on the newest month.
fn assert_next_run_fetches_only(
    fake: &FakeServer,
    import: &Import,
    failed: &[&str],
    conditional: &[&str],
    all: &[(String, String)],
) -> Outcome {
    fake.clear_requests();
    let next = import.run();
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert_eq!(bob_of(&next)["status"], "ok", "{}", next.stdout);
    assert_eq!(months_asked(fake, false), failed);
    assert_eq!(months_asked(fake, true), conditional);
    for request in month_requests(fake)
        .iter()
        .filter(|r| r.if_none_match.is_some())
    {
        assert_eq!(request.status, 304, "{request:?}");
    }
    assert_eq!(games_in(&next.db), all);
    next
}

on_both_stores!(months_that_fail_are_named_and_only_they_are_fetched_again);

fn months_that_fail_are_named_and_only_they_are_fetched_again(backend: Backend) {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &JULY_TO_DECEMBER);
    let month = |path: &str| Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending(path);
    // Every try of 2023/08 (--retries 1: two), one of 2023/10 and one of 2023/12.
    let unavailable = fake.push_fault_n(
        Provider::Chesscom,
        month("/2023/08"),
        Fault::ServiceUnavailable,
        2,
    );
    fake.push_fault(
        Provider::Chesscom,
        month("/2023/10"),
        Fault::HtmlInsteadOfData,
    );
    let gone = fake.push_fault(Provider::Chesscom, month("/2023/12"), Fault::Gone);
    let import = backend
        .import(&fake)
        .players(["chesscom:bob"])
        .args(["--retries", "1"]);
    let first = import.run();
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(bob_of(&first)["status"], "failed");
    let error = error_of(&first);
    assert!(
        error.starts_with(
            "3 of 6 months failed: 2023/08 (HTTP 503 Service Unavailable after 2 tries), \
             2023/10 (not the expected JSON ("
        ),
        "{error}"
    );
    assert!(
        error.ends_with(
            "2023/12 (gone: the provider will never serve this again (HTTP 410)); a later run \
             asks for them again"
        ),
        "{error}"
    );
    assert_eq!(fake.fault_hits(unavailable), 2);
    assert_eq!(fake.fault_hits(gone), 1);
    assert_eq!(games_in(&first.db), keys_of(&games, &[0, 2, 4]));
    assert_eq!(bob_of(&first)["new_games"], 9);
    assert_eq!(last_month(&first).as_deref(), Some("2023/07"));
    // The months stored after the failed one are stored with their validators all the same.
    assert_eq!(
        value_in(
            &first.db,
            "SELECT count(*) FROM chesscom_months WHERE username = 'bob'"
        )
        .as_deref(),
        Some("3")
    );

    let import = import.db(&first.db);
    let next = assert_next_run_fetches_only(
        &fake,
        &import,
        &["2023/08", "2023/10", "2023/12"],
        &["2023/07", "2023/09", "2023/11"],
        &keys_of(&games, &[0, 1, 2, 3, 4, 5]),
    );
    assert_eq!(bob_of(&next)["new_games"], 9);
    assert_eq!(last_month(&next).as_deref(), Some("2023/12"));
}

#[test]
fn a_304_to_a_request_without_validators_fails_that_month() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &[(2023, 9), (2023, 10), (2023, 11)]);
    fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending("/2023/10"),
        Fault::not_modified(),
    );
    let import = Import::new(&fake).players(["chesscom:bob"]);
    let first = import.run();
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(
        error_of(&first),
        "1 of 3 months failed: 2023/10 (answered 304 Not Modified to a request without \
         validators); a later run asks for them again"
    );
    assert_eq!(months_asked(&fake, true), Vec::<String>::new());
    assert_eq!(games_in(&first.db), keys_of(&games, &[0, 2]));
    assert_eq!(last_month(&first).as_deref(), Some("2023/09"));

    let next = assert_next_run_fetches_only(
        &fake,
        &import,
        &["2023/10"],
        &["2023/09", "2023/11"],
        &keys_of(&games, &[0, 1, 2]),
    );
    assert_eq!(last_month(&next).as_deref(), Some("2023/11"));
}

#[test]
fn a_stored_month_that_fails_when_asked_again_keeps_the_cursor_on_it() {
    let fake = FakeServer::start();
    let mut games = bob_with(&fake, &[(2023, 9), (2023, 10)]);
    let import = Import::new(&fake).players(["chesscom:bob"]);
    let first = import.run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(last_month(&first).as_deref(), Some("2023/10"));

    // Late games in the newest stored month, and a new month; the stored month now fails.
    games[1].extend(bob_with(&fake, &[(2023, 10)]).concat());
    games.extend(bob_with(&fake, &[(2023, 11)]));
    fake.push_fault_n(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending("/2023/10"),
        Fault::InternalServerError,
        2,
    );
    let import = import.args(["--retries", "1"]);
    let second = import.run();
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        error_of(&second).starts_with("1 of 2 months failed: 2023/10 (HTTP 500"),
        "{}",
        second.stdout
    );
    let mut stored = keys_of(&games, &[0, 2]);
    stored.extend(games[1][..3].iter().cloned());
    stored.sort();
    assert_eq!(
        games_in(&second.db),
        stored,
        "the late games are not stored yet"
    );
    assert_eq!(
        last_month(&second).as_deref(),
        Some("2023/10"),
        "2023/11 is stored, but the cursor may not pass a month that may have grown"
    );

    // 2023/10 changed since it was stored: asked with its old validators, it comes back whole.
    fake.clear_requests();
    let third = import.run();
    assert_eq!(third.code, 0, "{}", third.stderr);
    let asked: Vec<(String, u16)> = month_requests(&fake)
        .into_iter()
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        asked,
        [
            ("/pub/player/bob/games/2023/10".to_string(), 200),
            ("/pub/player/bob/games/2023/11".to_string(), 304),
        ]
    );
    assert_eq!(games_in(&third.db), keys_of(&games, &[0, 1, 2]));
    assert_eq!(last_month(&third).as_deref(), Some("2023/11"));
}

#[test]
fn three_failed_months_in_a_row_leave_the_rest_to_a_later_run() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &JULY_TO_DECEMBER);
    for path in ["/2023/08", "/2023/09", "/2023/10"] {
        fake.push_fault(
            Provider::Chesscom,
            Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending(path),
            Fault::Gone,
        );
    }
    let import = Import::new(&fake).players(["chesscom:bob"]);
    let first = import.run();
    assert_eq!(first.code, 1, "{}", first.stderr);
    let error = error_of(&first);
    assert!(
        error.starts_with("3 of 6 months failed: 2023/08 (gone"),
        "{error}"
    );
    assert!(
        error.ends_with(
            "; 2 later months not asked after 3 failures in a row; a later run asks for them again"
        ),
        "{error}"
    );
    assert_eq!(
        months_asked(&fake, false),
        ["2023/07", "2023/08", "2023/09", "2023/10"]
    );
    assert_eq!(games_in(&first.db), keys_of(&games, &[0]));

    let next = assert_next_run_fetches_only(
        &fake,
        &import,
        &["2023/08", "2023/09", "2023/10", "2023/11", "2023/12"],
        &["2023/07"],
        &keys_of(&games, &[0, 1, 2, 3, 4, 5]),
    );
    assert_eq!(last_month(&next).as_deref(), Some("2023/12"));
}

#[test]
fn an_internal_error_404_on_the_archive_list_is_retried_like_a_server_error() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &[(2023, 10)]);
    let once = fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomArchives),
        Fault::chesscom_internal_error_404(),
    );
    let import = Import::new(&fake).players(["chesscom:bob"]);
    let run = import.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.fault_hits(once), 1);
    assert_eq!(
        fake.count_endpoint(Provider::Chesscom, Endpoint::ChesscomArchives),
        2
    );
    assert_eq!(games_in(&run.db), keys_of(&games, &[0]));
}

#[test]
fn an_internal_error_404_that_persists_fails_the_player_with_that_reason() {
    let fake = FakeServer::start();
    bob_with(&fake, &[(2023, 10)]);
    let always = fake.push_fault_n(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomArchives).and_user("bob"),
        Fault::chesscom_internal_error_404(),
        100,
    );
    let run = Import::new(&fake)
        .players(["chesscom:bob", "chesscom:nobody-here"])
        .args(["--retries", "2"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let bob = &summary["players"][0];
    assert_eq!(bob["status"], "failed");
    let error = bob["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(
            "archive list: HTTP 404 that is not \"user not found\" ({\"message\":\"An internal \
             error has occurred."
        ),
        "{error}"
    );
    assert!(error.ends_with(" (after 3 tries)"), "{error}");
    // Chess.com's own "user not found" is still told at once, without a retry.
    let nobody = &summary["players"][1];
    assert_eq!(nobody["error"], "user not found", "{nobody}");
    assert_eq!(
        fake.fault_hits(always),
        3,
        "the first try and --retries retries"
    );
    assert_eq!(
        fake.count_endpoint(Provider::Chesscom, Endpoint::ChesscomArchives),
        3 + 1,
        "bob's three tries, nobody's one"
    );
    assert_eq!(month_requests(&fake).len(), 0);
    assert!(
        !run.db.exists(),
        "nothing was stored, so no database was made"
    );
}

#[test]
fn odd_archive_urls_are_never_fetched_and_a_month_listed_twice_once() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &[(2023, 10), (2023, 11)]);
    fake.add_chesscom_games("alice", 2023, 10, 2);
    let api = "https://api.chess.com/pub/player";
    for entry in [
        format!("{api}/bob/games/../../alice/games/2023/10"),
        format!("{api}/bob/games/%2e%2e/%2E%2E/alice/games/2023/10"),
        format!("{api}/alice/games/2023/10"),
        format!("{api}/bob/games/2024/13"),
        format!("{api}/bob/games/2999/01"),
        format!("{api}/bob/games/2023/10"),
    ] {
        fake.add_chesscom_archive_entry("bob", &entry);
    }
    let run = Import::new(&fake).players(["chesscom:bob"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(bob_of(&run)["status"], "ok");
    assert_eq!(games_in(&run.db), keys_of(&games, &[0, 1]));
    let paths: Vec<String> = fake
        .requests_for(Provider::Chesscom)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/pub/player/bob/games/archives",
            "/pub/player/bob/games/2023/10",
            "/pub/player/bob/games/2023/11",
        ]
    );
    for (warning, times) in [
        ("its path climbs or hides dots or escapes", 2),
        ("another player's archive", 1),
        ("no such month", 1),
        ("a month that has not begun", 1),
        ("names some months more than once (1 repeats)", 1),
    ] {
        assert_warned(&run, warning, times);
    }
    assert_eq!(last_month(&run).as_deref(), Some("2023/11"));
}

#[test]
fn future_dates_never_move_the_cursor_past_this_month() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &[(2023, 10)]);
    // A game ending in 2999: the fake lists its month, which has not begun.
    fake.add_chesscom_game(ChesscomGameSpec::new("bob", "eve", 32_503_680_000 + 3600));
    // Games of 2023/10 with absurd times: the year 3000, and one past what milliseconds hold.
    let (year_3000, overflowing) = (&games[0][0].1, &games[0][1].1);
    for (uuid, start) in [
        (year_3000, 32_503_680_000_i64),
        (overflowing, i64::MAX / 10),
    ] {
        assert!(fake.patch_chesscom_game(uuid, |game| {
            game.insert("start_time".into(), start.into());
            game.insert("end_time".into(), start.into());
        }));
    }
    let run = Import::new(&fake).players(["chesscom:bob"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(games_in(&run.db), keys_of(&games, &[0]));
    assert!(
        !fake
            .requests_for(Provider::Chesscom)
            .iter()
            .any(|r| r.path.contains("/2999/")),
        "a month that has not begun was asked"
    );
    let played_at = |uuid: &str| {
        value_in(
            &run.db,
            &format!("SELECT played_at FROM games WHERE game_id = '{uuid}'"),
        )
    };
    assert_eq!(
        played_at(year_3000).as_deref(),
        Some("32503680000000"),
        "stored with its date"
    );
    assert!(
        played_at(overflowing).is_some_and(|at| at.starts_with("1")),
        "the date of its PGN, not an overflow"
    );
    assert_eq!(last_month(&run).as_deref(), Some("2023/10"));

    // A cursor beyond this month, as a version that trusted any listed month could leave.
    let stored = rusqlite::Connection::open(&run.db).expect("open the database");
    stored
        .execute(
            "UPDATE import_state SET last_month = '2999/01' WHERE username = 'bob'",
            [],
        )
        .expect("poison the cursor");
    drop(stored);
    let later = bob_with(&fake, &[(2023, 11)]);
    let next = Import::new(&fake)
        .players(["chesscom:bob"])
        .db(&run.db)
        .run();
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(next.stderr.contains("has not begun yet"), "{}", next.stderr);
    let mut all = keys_of(&games, &[0]);
    all.extend(later.concat());
    all.sort();
    assert_eq!(games_in(&next.db), all);
}

#[test]
fn odd_typed_fields_cost_only_the_field_and_are_warned_of_once_a_month() {
    let fake = FakeServer::start();
    let games = bob_with(&fake, &[(2023, 10)]);
    let ids: Vec<&str> = games[0].iter().map(|(_, id)| id.as_str()).collect();
    for uuid in &ids[..2] {
        assert!(fake.patch_chesscom_game(uuid, |game| {
            game.insert("rated".into(), "yes".into());
            game.insert("white".into(), "bob".into());
            game.insert("time_class".into(), 7.into());
            game.insert("end_time".into(), "1697000000".into());
            if let Some(black) = game.get_mut("black").and_then(|b| b.as_object_mut()) {
                black.insert("rating".into(), 1500.5.into());
            }
        }));
    }
    // The uuid is what a game is: of another type, the game cannot be read.
    assert!(fake.patch_chesscom_game(ids[2], |game| {
        game.insert("uuid".into(), 12345.into());
    }));
    let run = Import::new(&fake).players(["chesscom:bob"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bob = bob_of(&run);
    assert_eq!(bob["status"], "ok");
    assert_eq!(bob["new_games"], 2);
    assert_eq!(bob["invalid_games"], 1);
    let mut stored: Vec<_> = games[0][..2].to_vec();
    stored.sort();
    assert_eq!(games_in(&run.db), stored);
    for uuid in &ids[..2] {
        let column = |name: &str| {
            value_in(
                &run.db,
                &format!("SELECT {name} FROM games WHERE game_id = '{uuid}'"),
            )
        };
        assert_eq!(column("rated"), None, "an odd `rated` is NULL");
        assert_eq!(column("speed"), None, "an odd `time_class` is NULL");
        // What the PGN knows, it still tells.
        assert!(column("white").is_some() && column("black_elo").is_some());
    }
    for field in ["rated", "white", "time_class", "end_time", "black.rating"] {
        let warning = format!("`{field}` has a value of another type in archive 2023/10");
        assert_warned(&run, &warning, 1);
    }
    assert_eq!(last_month(&run).as_deref(), Some("2023/10"));
}

#[test]
fn a_block_stops_every_chesscom_request_even_with_players_in_flight() {
    let fake = FakeServer::start();
    for name in ["bob", "bert", "bill"] {
        for month in [9, 10, 11] {
            fake.add_chesscom_games(name, 2023, month, 2);
        }
    }
    // Slow answers, so that another player's request is in flight when the block arrives and a
    // third player waits for the lane.
    fake.set_chesscom_latency(Duration::from_millis(100));
    fake.push_fault(Provider::Chesscom, Matcher::any(), Fault::Blocked);
    let run = Import::new(&fake)
        .players(["chesscom:bob", "chesscom:bert", "chesscom:bill"])
        .jobs(3)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    for player in run.json()["players"].as_array().into_iter().flatten() {
        assert_eq!(player["status"], "failed", "{player}");
        assert!(
            player["error"]
                .as_str()
                .is_some_and(|e| e.contains("Archive crawl was too heavy")),
            "{player}"
        );
    }
    let requests = fake.requests_for(Provider::Chesscom);
    let blocked = requests
        .iter()
        .position(|r| r.status == 403)
        .expect("the block was served");
    // Only the requests in flight when it came may have been sent besides it: at most the
    // lane's two, and none after the first one's answer.
    assert!(requests.len() <= 2, "{requests:#?}");
    assert!(blocked <= 1, "{requests:#?}");
}
