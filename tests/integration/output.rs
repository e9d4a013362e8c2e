//! What `import` prints in the plain, none and quiet modes, exactly, when stderr is not a
//! terminal: one line per player event after a timestamp, no escape codes, and the same summary
//! in every mode.

use chess_import_fake::{Endpoint, FakeServer, Fault, Matcher, Provider};

use crate::support::cli::{Import, binary};

const T0: i64 = 1_700_000_000_000;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `import` with one player at a time (so that the lines come in a fixed order), fast
/// retries and a fresh database, plus `args`.
fn import(fake: &FakeServer, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = binary()
        .arg("import")
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .args(["--retry-backoff", "10ms", "--rate-limit-wait", "50ms"])
        .args(["--jobs", "1"])
        .arg("--db")
        .arg(dir.path().join("games.sqlite"))
        .args(args)
        .output()
        .expect("run chess-import");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// What a run printed, with its timestamps and durations normalised.
fn normalise(text: &str) -> String {
    normalise_times(&normalise_timestamps(text))
}

/// Replaces the RFC 3339 UTC timestamp that starts a line (`2026-12-01T20:15:03Z `) with
/// `<time> `; anything else is kept, so that a malformed timestamp shows in the comparison.
fn normalise_timestamps(text: &str) -> String {
    let is_timestamp = |word: &str| {
        word.len() == "2026-12-01T20:15:03Z".len()
            && word.ends_with('Z')
            && chrono::DateTime::parse_from_rfc3339(word).is_ok()
    };
    text.lines()
        .map(|line| match line.split_once(' ') {
            Some((word, rest)) if is_timestamp(word) => format!("<time> {rest}\n"),
            _ => format!("{line}\n"),
        })
        .collect()
}

/// Replaces the digits of every duration like `0.3s` with zeros, keeping the width, so that
/// the columns still line up as printed.
fn normalise_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let is_time = i > start
            && chars.get(i) == Some(&'.')
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && chars.get(i + 2) == Some(&'s')
            && (start == 0 || !chars[start - 1].is_ascii_alphanumeric());
        if is_time {
            out.extend(std::iter::repeat_n('0', i - start));
            out.push_str(".0s");
            i += 3;
        } else if i > start {
            out.extend(&chars[start..i]);
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Alice on Lichess (3 games, one 503 and one 429 on the way), Bob missing on Chess.com.
fn fake_with_trouble() -> FakeServer {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, 60_000);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::ServiceUnavailable,
    );
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::RateLimitedJson,
    );
    fake
}

const SUMMARY: &str = "\
player         status  new  duplicate  updated  invalid  skipped  time  error
lichess:alice  ok        3          0        0        0        0  0.0s
chesscom:bob   failed    0          0        0        0        0  0.0s  user not found
3 new games from 2 players; 1 failed in 0.0s
";

#[test]
fn plain_mode_prints_one_line_per_player_event_and_the_summary() {
    let fake = fake_with_trouble();
    let run = import(
        &fake,
        &["--progress", "plain", "lichess:alice", "chesscom:bob"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let expected = format!(
        "<time> lichess:alice: started
<time> lichess:alice: retrying 2/5 (HTTP 503 Service Unavailable)
<time> lichess:alice: waiting 1s (rate limited)
<time> ✔ lichess:alice  3 new · 0 dup · 0 invalid · 0.0s
<time> chesscom:bob: started
<time> ✘ chesscom:bob  user not found
{SUMMARY}"
    );
    assert_eq!(normalise(&run.stderr), expected);
    assert!(
        !run.stderr.contains('\x1b'),
        "escape codes in {:?}",
        run.stderr
    );
}

#[test]
fn auto_mode_without_a_terminal_is_plain() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2, T0, 60_000);
    let run = import(&fake, &["lichess:alice"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        normalise(&run.stderr),
        "<time> lichess:alice: started
<time> ✔ lichess:alice  2 new · 0 dup · 0 invalid · 0.0s
player         status  new  duplicate  updated  invalid  skipped  time  error
lichess:alice  ok        2          0        0        0        0  0.0s
2 new games from 1 player; 0 failed in 0.0s
"
    );
}

#[test]
fn none_mode_prints_only_the_summary() {
    let fake = fake_with_trouble();
    let run = import(
        &fake,
        &["--progress", "none", "lichess:alice", "chesscom:bob"],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(normalise(&run.stderr), SUMMARY);
}

#[test]
fn quiet_prints_only_errors_and_the_summary() {
    let fake = fake_with_trouble();
    let run = import(&fake, &["-q", "lichess:alice", "chesscom:bob"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        normalise(&run.stderr),
        format!("<time> ✘ chesscom:bob  user not found\n{SUMMARY}")
    );
}

#[test]
fn json_goes_to_stdout_and_the_progress_lines_stay_on_stderr() {
    let fake = fake_with_trouble();
    let run = import(
        &fake,
        &[
            "--json",
            "--progress",
            "plain",
            "lichess:alice",
            "chesscom:bob",
        ],
    );
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON summary");
    assert_eq!(json["new_games"], 3);
    assert_eq!(json["failed_players"], 1);
    assert_eq!(json["players"][1]["error"], "user not found");
    assert!(
        normalise(&run.stderr).starts_with("<time> lichess:alice: started\n"),
        "{}",
        run.stderr
    );
    // The table is replaced by the JSON, not printed as well.
    assert!(!run.stderr.contains("new games from"), "{}", run.stderr);
}

#[test]
fn log_lines_follow_verbosity_without_escape_codes() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 2, T0, 60_000);
    // A stream cut in the middle of a game is logged as a warning, then resumed.
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::CutAfter(1),
    );
    let run = import(&fake, &["--progress", "plain", "lichess:alice"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        normalise(&run.stderr).contains("\n<time>  WARN lichess:alice: export stream broke"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    // -q leaves warnings out.
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::CutAfter(1),
    );
    let run = import(&fake, &["-q", "lichess:alice"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

#[test]
fn times_are_normalised_keeping_their_width() {
    assert_eq!(
        normalise_times("a 12.3s b0.1s (0.4s)"),
        "a 00.0s b0.1s (0.0s)"
    );
    assert_eq!(
        normalise_timestamps("2026-12-01T20:15:03Z a\n2026-12-01 b\nc 2026-12-01T20:15:03Z\n"),
        "<time> a\n2026-12-01 b\nc 2026-12-01T20:15:03Z\n"
    );
}

#[test]
fn verbosity_follows_quiet_verbose_and_rust_log() {
    let fake = FakeServer::start();
    fake.add_chesscom_games("bob", 2023, 10, 2);
    fake.add_chesscom_bughouse_game("bob", 2023, 10);
    fake.add_raw_lichess_line("alice", 1_700_000_000_000, "{not json");
    // A warning (an unreadable line) and a debug line (a bughouse game skipped).
    let run = |args: &[&str], rust_log: Option<&str>| {
        let import = Import::new(&fake)
            .players(["lichess:alice", "chesscom:bob"])
            .args(args.iter().copied());
        let mut command = import.command();
        if let Some(filter) = rust_log {
            command.env("RUST_LOG", filter);
        }
        let output = command.output().expect("run chess-import");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let warning = "unreadable export line";
    let debug = "without PGN";
    let default = run(&[], None);
    assert!(
        default.contains(warning) && !default.contains(debug),
        "{default}"
    );
    let quiet = run(&["-q"], None);
    assert!(!quiet.contains(warning), "{quiet}");
    let verbose = run(&["-vv"], None);
    assert!(
        verbose.contains(warning) && verbose.contains(debug),
        "{verbose}"
    );
    let filtered = run(&[], Some("chess_import=debug"));
    assert!(filtered.contains(debug), "{filtered}");
}
