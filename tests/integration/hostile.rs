//! Hostile and careless answers: absurd waits, oversized lines, endless resumes, redirects
//! away, rejected tokens, odd fields, shared milliseconds, future dates; and bad option
//! values. Each fails one player (or the run, for usage) with a clear reason, or is absorbed,
//! and nothing is lost.

use std::path::Path;

use chess_import_fake::{Endpoint, FakeServer, Fault, Matcher, Provider};

use crate::support::cli::{Import, error_of, games_in, value_in};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const PGN: &str =
    "[Event \"x\"]\n[Result \"1-0\"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n";

fn custom(status: u16, body: &str, headers: &[(&str, &str)]) -> Fault {
    Fault::Custom {
        status,
        content_type: "application/json".into(),
        body: body.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn exports(fake: &FakeServer) -> usize {
    fake.count_endpoint(Provider::Lichess, Endpoint::LichessExport)
}

/// A finished game's export line, as lila writes it, with `extra` fields merged in.
fn line(id: &str, created_at: i64, extra: serde_json::Value) -> String {
    let mut game = serde_json::json!({
        "id": id, "rated": true, "variant": "standard", "speed": "blitz",
        "createdAt": created_at, "status": "mate", "pgn": PGN,
    });
    if let (Some(game), Some(extra)) = (game.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            game.insert(key.clone(), value.clone());
        }
    }
    game.to_string()
}

#[test]
fn a_wait_beyond_max_wait_fails_the_providers_players_at_once() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.add_lichess_games("carol", 3, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        custom(429, "{}", &[("Retry-After", "999999")]),
    );
    let run = Import::new(&fake)
        .players(["lichess:alice", "lichess:carol"])
        .jobs(1)
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    for index in 0..2 {
        assert_eq!(summary["players"][index]["status"], "failed");
        assert_eq!(
            error_of(&summary, index),
            "game export: Lichess asks to wait 11d 13h (rate limited); more than --max-wait \
             15m, giving up"
        );
    }
    assert_eq!(exports(&fake), 1, "carol was not asked after the refusal");
}

#[test]
fn the_wait_a_lichess_rate_limit_body_names_is_the_wait() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        custom(
            429,
            r#"{"ratelimit":{"key":"api.user","seconds":3600}}"#,
            &[],
        ),
    );
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--max-wait", "10m"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        error_of(&run.json(), 0).contains("Lichess asks to wait 1h (rate limited)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_line_past_its_cap_is_skipped_and_counted_and_the_rest_stored() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 3, T0, MINUTE);
    let huge = "x".repeat(64 * 1024);
    let long = line(
        "hugeline",
        T0 + 10 * MINUTE,
        serde_json::json!({ "pad": huge }),
    );
    fake.add_raw_lichess_line("alice", T0 + 10 * MINUTE, &long);
    fake.add_raw_lichess_line(
        "alice",
        T0 + 20 * MINUTE,
        &line("afterIt1", T0 + 20 * MINUTE, serde_json::json!({})),
    );
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--body-limit", "16384"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["invalid_games"], 1, "{summary}");
    let stored: Vec<String> = games_in(&run.db).into_iter().map(|(_, id)| id).collect();
    assert!(stored.contains(&"afterIt1".to_string()), "{stored:?}");
    assert!(!stored.contains(&"hugeline".to_string()));
    assert_eq!(stored.len(), ids.len() + 1);
}

#[test]
fn a_stream_that_never_brings_a_game_is_not_resumed_forever() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.push_fault_n(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::CutAfter(0),
        100,
    );
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--retries", "2"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(exports(&fake), 3, "the first try and two resumes");
    let error = error_of(&run.json(), 0);
    assert!(error.contains("without a newer game"), "{error}");
}

#[test]
fn a_redirect_out_of_the_base_is_followed_nowhere() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        custom(
            301,
            "",
            &[("Location", "http://127.0.0.1:9/api/games/user/alice")],
        ),
    );
    let run = Import::new(&fake).players(["lichess:alice"]).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = error_of(&run.json(), 0);
    assert!(
        error.contains("redirected to http://127.0.0.1:9, outside the configured base URL"),
        "{error}"
    );
    assert_eq!(exports(&fake), 1, "not retried");
}

#[test]
fn a_rejected_token_fails_every_lichess_player_at_once() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.add_lichess_games("carol", 3, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        custom(401, r#"{"error":"No such token"}"#, &[]),
    );
    let run = Import::new(&fake)
        .players(["lichess:alice", "lichess:carol"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    for index in 0..2 {
        assert!(
            error_of(&summary, index).contains("Lichess rejected the token (HTTP 401)"),
            "{summary}"
        );
    }
    assert_eq!(exports(&fake), 1);
}

#[test]
fn bad_option_values_are_usage_errors_naming_the_option_before_any_request() {
    let fake = FakeServer::start();
    for (args, expected) in [
        (
            &["--user-agent", "bot\r\nX-Evil: 1"][..],
            "--user-agent holds a character",
        ),
        (
            &["--lichess-token", "lip_a\nb"][..],
            "--lichess-token holds a character",
        ),
        (&["--busy-timeout", "1000h"][..], "--busy-timeout"),
        (&["--lease-ttl", "0"][..], "--lease-ttl"),
        (&["--retry-backoff", "0"][..], "--retry-backoff"),
        (
            &["--since", "2024-05-01", "--until", "2024-04-01"][..],
            "--since 2024-05-01 is after --until 2024-04-01",
        ),
        (&["--refresh-analysis", "0"][..], "--refresh-analysis"),
        (&["--refresh-analysis", "366"][..], "1..=365"),
        (&["--refresh-analysis", "7d"][..], "--refresh-analysis"),
        (
            &["--refresh-analysis", "7", "--since", "2024-05-01"][..],
            "cannot be used with",
        ),
        (
            &["--refresh-analysis", "7", "--max-games", "5"][..],
            "cannot be used with",
        ),
    ] {
        let run = Import::new(&fake)
            .players(["lichess:alice"])
            .args(args.iter().copied())
            .run();
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    assert!(fake.requests().is_empty(), "no request before validation");
}

#[test]
fn keep_alives_are_ignored_and_odd_fields_cost_only_the_field() {
    let fake = FakeServer::start();
    fake.add_raw_lichess_line("alice", T0, "{}");
    let odd = line(
        "oddtype1",
        T0 + MINUTE,
        serde_json::json!({ "rated": "yes", "speed": 3 }),
    );
    fake.add_raw_lichess_line("alice", T0 + MINUTE, &odd);
    let run = Import::new(&fake).players(["lichess:alice"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["new_games"], 1, "{summary}");
    assert_eq!(summary["invalid_games"], 0, "{summary}");
    let rated = value_in(
        &run.db,
        "SELECT rated FROM games WHERE game_id = 'oddtype1'",
    );
    assert_eq!(rated, None, "an odd `rated` is stored as NULL");
    assert!(
        run.stderr.contains("`rated` has a value of another type"),
        "{}",
        run.stderr
    );
}

#[test]
fn games_sharing_the_cursors_millisecond_are_not_lost_by_a_later_run() {
    let fake = FakeServer::start();
    let simul = T0 + MINUTE;
    for id in ["simul001", "simul002", "simul003"] {
        fake.add_raw_lichess_line("alice", simul, &line(id, simul, serde_json::json!({})));
    }
    let first = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--max-games", "2"])
        .run();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(games_in(&first.db).len(), 2);
    let second = Import::new(&fake)
        .players(["lichess:alice"])
        .db(&first.db)
        .run();
    assert_eq!(second.code, 0, "{}", second.stderr);
    let summary = second.json();
    assert_eq!(summary["new_games"], 1, "{summary}");
    assert_eq!(
        summary["duplicate_games"], 0,
        "the two stored are skipped, {summary}"
    );
    assert_eq!(games_in(&second.db).len(), 3);
}

#[test]
fn a_game_dated_in_the_future_is_stored_but_never_moves_the_cursor() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 2, T0, MINUTE);
    let later = chrono::Utc::now().timestamp_millis() + 10 * 24 * 60 * MINUTE;
    fake.add_raw_lichess_line(
        "alice",
        later,
        &line("future01", later, serde_json::json!({})),
    );
    let run = Import::new(&fake).players(["lichess:alice"]).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(games_in(&run.db).len(), ids.len() + 1);
    let cursor = value_in(
        Path::new(&run.db),
        "SELECT last_created_at FROM import_state WHERE username = 'alice'",
    );
    let newest = fake
        .lichess_game_created_at(&ids[1])
        .expect("a game of the fake");
    assert_eq!(cursor, Some(newest.to_string()));
}

#[test]
fn an_html_403_stops_the_provider_naming_the_user_agent() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.add_lichess_games("carol", 3, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::Custom {
            status: 403,
            content_type: "text/html; charset=utf-8".into(),
            body: "<html><title>Just a moment...</title></html>".into(),
            headers: Vec::new(),
        },
    );
    let run = Import::new(&fake)
        .players(["lichess:alice", "lichess:carol"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    for index in 0..2 {
        assert!(
            error_of(&summary, index).contains("make sure --user-agent names the tool"),
            "{summary}"
        );
    }
    assert_eq!(exports(&fake), 1, "nobody asked after the refusal");
}

#[test]
fn a_month_past_its_cap_fails_that_month_naming_the_cap() {
    let fake = FakeServer::start();
    fake.add_chesscom_games("bob", 2023, 9, 2);
    fake.add_chesscom_games("bob", 2023, 10, 40);
    let run = Import::new(&fake)
        .players(["chesscom:bob"])
        .args(["--body-limit", "16384"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = error_of(&run.json(), 0);
    assert!(error.contains("2023/10"), "{error}");
    assert!(error.contains("larger than 16 KB"), "{error}");
    assert_eq!(games_in(&run.db).len(), 2, "the small month is stored");
}

#[test]
fn a_dead_provider_fails_its_remaining_players_at_once_and_spares_the_other() {
    let fake = FakeServer::start();
    let lichess = ["ann", "ben", "cid", "dot", "eve"];
    for name in lichess {
        fake.add_lichess_games(name, 2, T0, MINUTE);
    }
    let bob = fake.add_chesscom_games("bob", 2023, 10, 3);
    fake.push_fault_n(
        Provider::Lichess,
        Matcher::any(),
        Fault::ServiceUnavailable,
        usize::MAX,
    );
    let players: Vec<String> = lichess.iter().map(|n| format!("lichess:{n}")).collect();
    let run = Import::new(&fake)
        .players(players.iter().map(String::as_str))
        .players(["chesscom:bob"])
        .args(["--retries", "1"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let errors: Vec<(String, String)> = (0..6)
        .map(|i| {
            let player = &summary["players"][i];
            let name = player["username"].as_str().unwrap_or_default().to_string();
            (name, error_of(&summary, i))
        })
        .collect();
    let (unreachable, failed): (Vec<_>, Vec<_>) = errors
        .iter()
        .filter(|(name, _)| name != "bob")
        .partition(|(_, error)| error.contains("Lichess unreachable"));
    assert_eq!(failed.len(), 3, "{errors:?}");
    for (_, error) in &failed {
        assert_eq!(
            error,
            "game export: HTTP 503 Service Unavailable after 2 tries"
        );
    }
    assert_eq!(unreachable.len(), 2, "{errors:?}");
    for (_, error) in &unreachable {
        assert!(
            error.contains("HTTP 503 Service Unavailable after 2 tries (3 requests in a row"),
            "{error}"
        );
    }
    assert_eq!(exports(&fake), 3 * 2, "the last two players were not asked");
    let stored: Vec<String> = games_in(&run.db).into_iter().map(|(_, id)| id).collect();
    assert_eq!(stored, sorted(bob), "Chess.com went on");
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}
