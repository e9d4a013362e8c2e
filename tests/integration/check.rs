//! `chess-import check` against the fake providers: healthy, one provider down, one user
//! missing; exit codes, the JSON report and the table.

use chess_import_fake::{Endpoint, FakeServer, Fault, Matcher, Provider};
use serde_json::Value;

use crate::support::cli::binary;

const T0: i64 = 1_700_000_000_000;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Runs `check` in an empty directory, which must still be empty afterwards: a check stores
/// nothing.
fn check(fake: &FakeServer, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = binary()
        .current_dir(dir.path())
        .arg("check")
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .args([
            "--retries",
            "1",
            "--retry-backoff",
            "10ms",
            "--rate-limit-wait",
            "50ms",
        ])
        .args(args)
        .output()
        .expect("run chess-import");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert!(left.is_empty(), "check wrote files: {left:?}");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// Alice on Lichess with 7 games, Bob on Chess.com with games in two months.
fn healthy_fake() -> FakeServer {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 7, T0, 60_000);
    fake.add_chesscom_games("bob", 2024, 1, 3);
    fake.add_chesscom_games("bob", 2024, 3, 8);
    fake
}

/// `(request, status, games, verdict)` of every check of the report, in order.
fn rows(json: &Value) -> Vec<(String, Value, Value, String)> {
    json["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .flat_map(|p| p["checks"].as_array().expect("checks").clone())
        .map(|c| {
            (
                c["request"].as_str().expect("request").to_string(),
                c["status"].clone(),
                c["games"].clone(),
                c["verdict"].as_str().expect("verdict").to_string(),
            )
        })
        .collect()
}

#[test]
fn healthy_providers_pass() {
    let fake = healthy_fake();
    let run = check(&fake, &["--json", "lichess:alice", "chesscom:bob"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["providers"][0]["platform"], "lichess");
    assert_eq!(json["providers"][1]["platform"], "chesscom");
    let ok = |request: &str, status: u64, games: Value| {
        (
            request.to_string(),
            Value::from(status),
            games,
            "ok".to_string(),
        )
    };
    assert_eq!(
        rows(&json),
        [
            ok("GET /api/user/alice", 200, Value::Null),
            ok("GET /api/games/user/alice?max=5", 200, Value::from(5)),
            ok("GET /pub/player/bob", 200, Value::Null),
            ok("GET /pub/player/bob/games/archives", 200, Value::Null),
            ok("GET /pub/player/bob/games/2024/03", 200, Value::from(5)),
        ]
    );
    let checks = &json["providers"][0]["checks"];
    assert_eq!(checks[0]["detail"], "profile counts 7 games");
    assert!(checks[0]["latency_ms"].is_u64());
    // The newest games, asked for the way an import asks.
    let export = &fake.requests_for(Provider::Lichess)[1];
    assert_eq!(export.endpoint, Endpoint::LichessExport);
    assert_eq!(export.query_param("max").as_deref(), Some("5"));
    assert_eq!(export.query_param("pgnInJson").as_deref(), Some("true"));
    assert_eq!(export.accept.as_deref(), Some("application/x-ndjson"));
    assert_eq!(
        export.query_param("sort").as_deref(),
        Some("dateDesc"),
        "newest first"
    );
}

#[test]
fn uses_the_imports_user_agent_token_and_games_count() {
    let fake = healthy_fake();
    let run = check(
        &fake,
        &[
            "--json",
            "--games",
            "2",
            "--lichess-token",
            "lip_secret",
            "--user-agent",
            "smoke-test (ops@example.invalid)",
            "lichess:alice",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(rows(&run.json())[1].2, 2);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "only Lichess was asked");
    for request in requests {
        assert_eq!(
            request.user_agent.as_deref(),
            Some("smoke-test (ops@example.invalid)")
        );
        assert_eq!(request.authorization.as_deref(), Some("Bearer lip_secret"));
    }
}

#[test]
fn a_provider_that_is_down_fails_the_check() {
    let fake = healthy_fake();
    fake.push_fault_n(
        Provider::Chesscom,
        Matcher::any(),
        Fault::ServiceUnavailable,
        10,
    );
    let run = check(
        &fake,
        &[
            "--json",
            "--progress",
            "plain",
            "lichess:alice",
            "chesscom:bob",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["providers"][0]["ok"], true);
    assert_eq!(json["providers"][1]["ok"], false);
    let rows = rows(&json);
    assert_eq!(rows[2].0, "GET /pub/player/bob");
    assert_eq!(rows[2].1, 503);
    assert_eq!(rows[2].3, "failed");
    assert_eq!(rows[3].3, "skipped");
    assert_eq!(rows[4].0, "GET /pub/player/bob/games/YYYY/MM");
    assert_eq!(rows[4].3, "skipped");
    let failed = &json["providers"][1]["checks"][0];
    assert_eq!(
        failed["detail"],
        "profile: HTTP 503 Service Unavailable after 2 tries"
    );
    // The etiquette's retries show as lines, like an import's: after a timestamp, off a terminal.
    let (stamp, line) = run.stderr.split_once(' ').unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "{}",
        run.stderr
    );
    assert_eq!(
        line,
        "chesscom:bob: GET /pub/player/bob: retrying 2/2 (HTTP 503 Service Unavailable)\n"
    );
}

#[test]
fn a_missing_user_fails_the_check() {
    let fake = healthy_fake();
    let run = check(&fake, &["--json", "lichess:alice", "lichess:nobody"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["ok"], false);
    let rows = rows(&json);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[2],
        (
            "GET /api/user/nobody".to_string(),
            Value::from(404),
            Value::Null,
            "not_found".to_string()
        )
    );
    assert_eq!(rows[3].3, "skipped");
}

#[test]
fn an_html_page_instead_of_games_fails_the_check() {
    let fake = healthy_fake();
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::HtmlInsteadOfData,
    );
    let run = check(&fake, &["--json", "lichess:alice"]);
    assert_eq!(run.code, 1);
    let check = &run.json()["providers"][0]["checks"][1];
    assert_eq!(check["status"], 200);
    assert_eq!(check["verdict"], "failed");
    let detail = check["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with("game export answered text/html"),
        "{detail}"
    );
}

#[test]
fn the_table_lists_every_request_and_a_verdict_per_provider() {
    let fake = healthy_fake();
    let run = check(&fake, &["lichess:alice", "chesscom:nobody"]);
    assert_eq!(run.code, 1);
    let lines: Vec<String> = run
        .stdout
        .lines()
        .map(|line| {
            // Latencies vary: keep the column, not the number.
            let cells: Vec<&str> = line.split("  ").filter(|c| !c.is_empty()).collect();
            cells
                .iter()
                .map(|c| if c.ends_with(" ms") { "<ms>" } else { c.trim() })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    assert_eq!(
        lines,
        [
            "player | request | status | latency | games | verdict",
            "lichess:alice | GET /api/user/alice | 200 | <ms> | - | ok (profile counts 7 games)",
            "lichess:alice | GET /api/games/user/alice?max=5 | 200 | <ms> | 5 | ok",
            "chesscom:nobody | GET /pub/player/nobody | 404 | <ms> | - | not found (user not found)",
            "chesscom:nobody | GET /pub/player/nobody/games/archives | - | - | - | skipped",
            "chesscom:nobody | GET /pub/player/nobody/games/YYYY/MM | - | - | - | skipped",
            "lichess: ok · chesscom: failed",
        ]
    );
}

#[test]
fn an_unknown_value_or_a_missing_field_is_drift_naming_it() {
    let fake = healthy_fake();
    // The newest game: a speed Lichess does not have today, and no createdAt.
    let pgn = "[Event \"x\"]\n[Result \"1-0\"]\n\n1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6 4. Qxf7# 1-0\n";
    let line = serde_json::json!({
        "id": "drifted1", "rated": true, "variant": "standard", "speed": "hyperBullet",
        "status": "mate", "pgn": pgn,
    });
    fake.add_raw_lichess_line("alice", T0 + 3_600_000, &line.to_string());
    let run = check(&fake, &["--json", "lichess:alice"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let export = &run.json()["providers"][0]["checks"][1];
    assert_eq!(export["verdict"], "drift");
    assert_eq!(
        export["detail"],
        "`createdAt` is missing; `speed` has the unknown value \"hyperBullet\""
    );
}

#[test]
fn a_refused_user_agent_is_told_apart_from_a_missing_user() {
    let fake = healthy_fake();
    // Lichess answers the export of a crawler-like agent with 404, as for a missing user.
    let run = check(
        &fake,
        &["--json", "--user-agent", "curl/8.5.0", "lichess:alice"],
    );
    assert_eq!(run.code, 1);
    let export = &run.json()["providers"][0]["checks"][1];
    assert_eq!(export["status"], 404);
    assert_eq!(export["verdict"], "blocked");
    let detail = export["detail"].as_str().expect("detail");
    assert!(detail.contains("\"curl/8.5.0\""), "{detail}");
    // A player that really is missing stays "not found".
    let run = check(&fake, &["--json", "lichess:nobody"]);
    assert_eq!(
        run.json()["providers"][0]["checks"][0]["verdict"],
        "not_found"
    );
}

#[test]
fn the_junit_report_has_one_case_per_request() {
    let fake = healthy_fake();
    let out = tempfile::tempdir().expect("temporary directory");
    let junit = out.path().join("check.xml");
    let junit_arg = junit.to_str().expect("UTF-8 path");
    let run = check(
        &fake,
        &["--junit", junit_arg, "lichess:alice", "chesscom:nobody"],
    );
    assert_eq!(run.code, 1);
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
    assert!(
        xml.contains("tests=\"5\" failures=\"1\" skipped=\"2\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase classname=\"chesscom:nobody\" name=\"GET /pub/player/nobody\""),
        "{xml}"
    );
    assert!(
        xml.contains(
            "<failure type=\"not found\" message=\"not found\">HTTP 404: user not found</failure>"
        ),
        "{xml}"
    );
}

#[test]
fn a_deadline_ends_a_check_whose_provider_stalls_with_the_requests_still_open_failed() {
    let fake = healthy_fake();
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::StallAfter {
            items: 0,
            stall: std::time::Duration::from_secs(60),
        },
    );
    let run = check(
        &fake,
        &[
            "--json",
            "--deadline",
            "1s",
            "--read-timeout",
            "1m",
            "lichess:alice",
            "chesscom:bob",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["deadline_exceeded"], true);
    let lichess = &report["providers"][0]["checks"];
    assert_eq!(lichess[0]["verdict"], "ok", "the profile came in time");
    assert_eq!(lichess[1]["verdict"], "failed");
    assert_eq!(lichess[1]["detail"], "no answer within --deadline 1s");
    let chesscom = &report["providers"][1]["checks"];
    for check in chesscom.as_array().expect("Chess.com's checks") {
        assert_eq!(check["verdict"], "ok", "{report}");
    }
    assert_eq!(
        fake.stalls_run_out(),
        0,
        "the check did not wait for the stall"
    );
}
