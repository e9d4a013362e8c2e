//! The processes of one host share the providers' lanes: overlapping runs into separate
//! databases keep one Lichess stream and two Chess.com requests in flight between them, a run
//! that waits for another says so, and the wait is bounded.

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use chess_import_fake::{FakeServer, Provider};

use crate::support::cli::{Import, games_in};
use crate::support::wait_for;

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;

/// The lock file of the `slot`th place in the Lichess lane of `fake`, as chess-import names it.
fn lichess_lock(dir: &Path, fake: &FakeServer, slot: usize) -> std::path::PathBuf {
    let url: reqwest::Url = fake.lichess_url().parse().expect("the fake's URL");
    let port = url.port().expect("a port");
    dir.join(format!("http_127.0.0.1_{port}-{slot}.lock"))
}

#[test]
fn overlapping_runs_into_separate_databases_share_one_lichess_stream() {
    let fake = FakeServer::start();
    let locks = tempfile::tempdir().expect("temporary directory");
    let locks = locks.path().to_str().expect("a UTF-8 path").to_string();
    fake.add_lichess_games("alice", 1500, T0, SECOND);
    let carol = fake.add_lichess_games("carol", 20, T0, SECOND);
    fake.set_lichess_rate(Some(500.0));
    let first = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--lock-dir", &locks]);
    let mut running = first.command().stdin(Stdio::null()).spawn().expect("start");
    wait_for("alice's stream to begin", || {
        fake.in_flight(Provider::Lichess) == 1
    });
    let second = Import::new(&fake)
        .players(["lichess:carol"])
        .args(["--lock-dir", &locks, "--progress", "plain"])
        .run();
    let first_code = running.wait().expect("the first run").code();
    assert_eq!(first_code, Some(0));
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("lichess:carol: waiting for another chess-import on this host"),
        "{}",
        second.stderr
    );
    assert_eq!(fake.served_429(Provider::Lichess), 0);
    assert_eq!(fake.max_lichess_streams(), 1);
    assert_eq!(games_in(&second.db).len(), carol.len());
    assert_eq!(games_in(first.db_path()).len(), 1500);
}

#[test]
fn overlapping_runs_keep_two_chesscom_requests_in_flight_between_them() {
    let fake = FakeServer::start();
    let locks = tempfile::tempdir().expect("temporary directory");
    let locks = locks.path().to_str().expect("a UTF-8 path").to_string();
    let players = ["amy", "ben", "cid", "dot", "eve", "fay"];
    for name in players {
        for month in 1..=4 {
            fake.add_chesscom_games(name, 2023, month, 2);
        }
    }
    fake.set_chesscom_latency(std::time::Duration::from_millis(30));
    let runs: Vec<Import> = [&players[..3], &players[3..]]
        .iter()
        .map(|names| {
            let specs: Vec<String> = names.iter().map(|n| format!("chesscom:{n}")).collect();
            Import::new(&fake)
                .players(specs.iter().map(String::as_str))
                .args(["--lock-dir", &locks])
                .jobs(3)
        })
        .collect();
    let children: Vec<_> = runs
        .iter()
        .map(|run| run.command().stdin(Stdio::null()).spawn().expect("start"))
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("a run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
    }
    assert_eq!(fake.served_429(Provider::Chesscom), 0);
    assert_eq!(fake.max_in_flight(Provider::Chesscom), 2);
    for run in &runs {
        assert_eq!(games_in(run.db_path()).len(), 3 * 4 * 2);
    }
}

#[test]
fn a_lane_held_longer_than_max_wait_fails_the_providers_players_without_a_request() {
    let fake = FakeServer::start();
    let locks = tempfile::tempdir().expect("temporary directory");
    fake.add_lichess_games("alice", 3, T0, SECOND);
    fake.add_lichess_games("carol", 3, T0, SECOND);
    let bob = fake.add_chesscom_games("bob", 2023, 10, 2);
    // Another process's place in the lane, held as chess-import holds it.
    std::fs::create_dir_all(locks.path()).expect("the lock directory");
    let held = File::create(lichess_lock(locks.path(), &fake, 0)).expect("the lock file");
    held.lock().expect("hold the Lichess lane");
    let run = Import::new(&fake)
        .players(["lichess:alice", "lichess:carol", "chesscom:bob"])
        .args(["--lock-dir", locks.path().to_str().expect("UTF-8")])
        .args(["--max-wait", "1s", "--progress", "plain", "--jobs", "1"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("lichess:alice: waiting for another chess-import on this host"),
        "{}",
        run.stderr
    );
    let summary = run.json();
    for index in 0..2 {
        let player = &summary["players"][index];
        assert_eq!(player["status"], "failed", "{summary}");
        assert!(
            player["error"].as_str().is_some_and(|e| e.contains(
                "another chess-import on this host held the Lichess lane for more than \
                 --max-wait 1s, giving up"
            )),
            "{summary}"
        );
    }
    assert_eq!(fake.requests_for(Provider::Lichess).len(), 0);
    assert_eq!(games_in(&run.db).len(), bob.len(), "Chess.com went on");
    drop(held);
}
