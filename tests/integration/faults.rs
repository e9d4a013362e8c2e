//! Every fault a provider or the network can throw: the final database equals the fault-free
//! result, and the summary and exit status say what happened.

use std::time::Duration;

use chess_import_fake::{Endpoint, FakeServer, Fault, Matcher, Provider, RequestRecord};

use crate::support::cli::{Import, Outcome, games_in};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

/// A fake with two players per platform, and the games a fault-free import stores.
fn populated() -> (FakeServer, Vec<(String, String)>) {
    let fake = FakeServer::start();
    let mut expected = Vec::new();
    for name in ["alice", "anna"] {
        for id in fake.add_lichess_games(name, 30, T0, MINUTE) {
            expected.push(("lichess".to_string(), id));
        }
    }
    for name in ["bob", "bert"] {
        for (year, month) in [(2023, 9), (2023, 10), (2023, 11)] {
            for id in fake.add_chesscom_games(name, year, month, 6) {
                expected.push(("chesscom".to_string(), id));
            }
        }
    }
    expected.sort();
    (fake, expected)
}

fn import_all(fake: &FakeServer) -> Import {
    Import::new(fake).players([
        "lichess:alice",
        "lichess:anna",
        "chesscom:bob",
        "chesscom:bert",
    ])
}

/// The Lichess export requests of `user`, in the order they came.
fn exports_of(fake: &FakeServer, user: &str) -> Vec<RequestRecord> {
    fake.requests_for(Provider::Lichess)
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::LichessExport && r.user.as_deref() == Some(user))
        .collect()
}

/// The `since` that resumes `user`'s export right after their `nth` game (1-based, oldest first).
/// The `since` a resume after `user`'s `nth` game asks from: that game's own millisecond, since
/// other games may share it; the games already stored there are skipped, not stored twice.
fn since_at_game(fake: &FakeServer, user: &str, nth: usize) -> Option<String> {
    let id = &fake.lichess_game_ids(user)[nth - 1];
    let created_at = fake
        .lichess_game_created_at(id)
        .expect("a game of the fake");
    Some(created_at.to_string())
}

fn assert_complete(run: &Outcome, expected: &[(String, String)]) {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["failed_players"], 0, "{summary}");
    assert_eq!(summary["new_games"], expected.len(), "{summary}");
    assert_eq!(games_in(&run.db), expected);
}

#[test]
fn lichess_429_with_retry_after_is_honoured() {
    let (fake, expected) = populated();
    let fault = fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::RateLimitedRetryAfterSecs(1),
    );
    let started = std::time::Instant::now();
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
    assert_eq!(fake.fault_hits(fault), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[test]
fn lichess_429_without_retry_after_pauses_the_lane() {
    let (fake, expected) = populated();
    fake.push_fault_n(Provider::Lichess, Matcher::any(), Fault::RateLimitedJson, 2);
    fake.push_fault(Provider::Lichess, Matcher::any(), Fault::RateLimitedHtml);
    let started = std::time::Instant::now();
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
    assert_eq!(fake.served_429(Provider::Lichess), 3);
    // Each 429 paused every Lichess request for --rate-limit-wait (100ms in these tests).
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the lane was not paused"
    );
    assert_eq!(fake.max_lichess_streams(), 1);
}

#[test]
fn chesscom_429_backs_off_and_http_date_retry_after_is_read() {
    let (fake, expected) = populated();
    fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth),
        Fault::RateLimitedJson,
    );
    fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomArchives),
        Fault::RateLimitedRetryAfterDate(1),
    );
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
    assert_eq!(fake.served_429(Provider::Chesscom), 2);
    assert!(fake.max_in_flight(Provider::Chesscom) <= 2);
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let (fake, expected) = populated();
    fake.push_fault_n(
        Provider::Lichess,
        Matcher::any(),
        Fault::ServiceUnavailable,
        2,
    );
    fake.push_fault(Provider::Lichess, Matcher::any(), Fault::DropConnection);
    fake.push_fault_n(
        Provider::Chesscom,
        Matcher::any(),
        Fault::InternalServerError,
        2,
    );
    fake.push_fault(Provider::Chesscom, Matcher::any(), Fault::DropConnection);
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
}

#[test]
fn a_player_fails_after_the_last_try_and_keeps_what_was_stored() {
    let (fake, _) = populated();
    let fault = fake.push_fault_n(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_user("bob"),
        Fault::ServiceUnavailable,
        100,
    );
    let run = import_all(&fake).args(["--retries", "2"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let bob = &summary["players"][2];
    assert_eq!(bob["status"], "failed");
    let error = bob["error"].as_str().unwrap();
    assert!(
        error.starts_with("3 of 3 months failed: 2023/09 (HTTP 503"),
        "{bob}"
    );
    assert_eq!(
        fake.fault_hits(fault),
        3 * 3,
        "per month, the first try and --retries retries"
    );
    assert_eq!(summary["failed_players"], 1);
    assert_eq!(summary["new_games"], 30 + 30 + 18);
}

#[test]
fn permanent_answers_are_not_retried() {
    let (fake, _) = populated();
    let gone = fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("anna"),
        Fault::Gone,
    );
    let run = import_all(&fake).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["players"][1]["status"], "failed");
    assert!(
        summary["players"][1]["error"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    assert_eq!(fake.fault_hits(gone), 1);
    assert_eq!(
        fake.requests_for(Provider::Lichess)
            .iter()
            .filter(|r| r.user.as_deref() == Some("anna"))
            .count(),
        1
    );
}

#[test]
fn a_blocked_crawl_stops_every_chesscom_request_of_the_run() {
    let (fake, _) = populated();
    fake.push_fault(Provider::Chesscom, Matcher::any(), Fault::Blocked);
    let run = import_all(&fake).jobs(1).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    for index in [2, 3] {
        let player = &summary["players"][index];
        assert_eq!(player["status"], "failed");
        assert!(
            player["error"]
                .as_str()
                .unwrap()
                .contains("Archive crawl was too heavy"),
            "{player}"
        );
    }
    assert_eq!(
        fake.requests_for(Provider::Chesscom).len(),
        1,
        "no request after the block"
    );
    assert_eq!(summary["players"][0]["status"], "ok");
    assert_eq!(summary["players"][1]["status"], "ok");
}

#[test]
fn a_stream_cut_mid_game_resumes_after_the_last_complete_game() {
    let (fake, expected) = populated();
    let cut = fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("alice"),
        Fault::CutAfter(12),
    );
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
    assert_eq!(fake.fault_hits(cut), 1);
    let exports = exports_of(&fake, "alice");
    assert_eq!(exports.len(), 2);
    assert_eq!(
        exports[1].query_param("since"),
        since_at_game(&fake, "alice", 12)
    );
    assert_eq!(run.json()["duplicate_games"], 0);
}

#[test]
fn a_stalled_stream_is_dropped_and_resumed() {
    let (fake, expected) = populated();
    // Far longer than the read timeout: waiting it out would not go unnoticed.
    let stall = fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("anna"),
        Fault::StallAfter {
            items: 5,
            stall: Duration::from_secs(60),
        },
    );
    let run = import_all(&fake).args(["--read-timeout", "300ms"]).run();
    assert_complete(&run, &expected);
    assert_eq!(fake.fault_hits(stall), 1);
    assert_eq!(fake.stalls_run_out(), 0, "the stall was waited out");
    let exports = exports_of(&fake, "anna");
    assert_eq!(
        exports.len(),
        2,
        "one export, then one resumed after the stall"
    );
    assert_eq!(
        exports[1].query_param("since"),
        since_at_game(&fake, "anna", 5)
    );
    assert_eq!(run.json()["duplicate_games"], 0);
}

#[test]
fn a_chesscom_month_cut_off_is_fetched_again() {
    let (fake, expected) = populated();
    fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_user("bert"),
        Fault::CutAfter(2),
    );
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
}

#[test]
fn a_malformed_line_is_counted_and_the_rest_stored() {
    let (fake, expected) = populated();
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("alice"),
        Fault::MalformedLineAt(7),
    );
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
    assert_eq!(run.json()["players"][0]["invalid_games"], 1);
}

#[test]
fn an_html_page_or_an_error_object_is_an_error_never_games() {
    let (fake, _) = populated();
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("alice"),
        Fault::HtmlInsteadOfData,
    );
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport).and_user("anna"),
        Fault::JsonErrorBody("This account is being migrated".into()),
    );
    let run = import_all(&fake).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let alice_error = summary["players"][0]["error"].as_str().unwrap().to_string();
    assert!(alice_error.contains("text/html"), "{alice_error}");
    let anna_error = summary["players"][1]["error"].as_str().unwrap().to_string();
    assert!(anna_error.contains("being migrated"), "{anna_error}");
    assert_eq!(summary["players"][0]["new_games"], 0);
    assert_eq!(summary["players"][1]["new_games"], 0);
    assert_eq!(summary["new_games"], 36);
}

#[test]
fn a_redirect_to_the_lowercase_url_is_followed() {
    let (fake, expected) = populated();
    let location = format!("{}/pub/player/bob/games/archives", fake.chesscom_url());
    fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomArchives).and_user("bob"),
        Fault::Custom {
            status: 301,
            content_type: "application/json; charset=utf-8".into(),
            body: format!("{{\"url\":\"{location}\"}}"),
            headers: vec![("Location".into(), location.clone())],
        },
    );
    let run = import_all(&fake).run();
    assert_complete(&run, &expected);
}

#[test]
fn games_in_progress_during_an_import_are_stored_once_finished() {
    let fake = FakeServer::start();
    fake.add_lichess_user("alice");
    let before = fake.add_lichess_games("alice", 3, T0, MINUTE);
    let correspondence = fake.add_lichess_ongoing_game("alice", "slowpoke", T0 + 5 * MINUTE);
    let after = fake.add_lichess_games("alice", 3, T0 + 10 * MINUTE, MINUTE);
    let import = Import::new(&fake).players(["lichess:alice"]);
    let first = import.run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.json()["new_games"], 6);

    let second = import.run();
    assert_eq!(second.json()["new_games"], 0, "still in progress");

    assert!(fake.finish_lichess_game(&correspondence));
    fake.clear_requests();
    let third = import.run();
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(third.json()["new_games"], 1);
    let stored = games_in(&third.db);
    assert_eq!(stored.len(), 7);
    assert!(stored.iter().any(|(_, id)| id == &correspondence));
    for id in before.iter().chain(&after) {
        assert!(stored.iter().any(|(_, g)| g == id));
    }
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExportIds),
        1
    );

    fake.clear_requests();
    let fourth = import.run();
    assert_eq!(fourth.json()["new_games"], 0);
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExportIds),
        0,
        "a stored game is no longer remembered as in progress"
    );
}
