//! Servers that bomb, trickle or hang: each costs a player a clear error or a retry, never the
//! machine's memory (the child's peak RSS stays under [`RSS_BOUND`]) or an unbounded wait.

use std::time::Duration;

use chess_import_fake::{Endpoint, FakeServer, Fault, Matcher, Provider};

use crate::support::cli::{Import, RSS_BOUND, error_of, games_in};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const MB: u64 = 1 << 20;

#[test]
fn a_gzip_bomb_of_a_month_fails_that_month_naming_the_cap_in_bounded_memory() {
    let fake = FakeServer::start();
    let mut kept = fake.add_chesscom_games("bob", 2023, 9, 3);
    fake.add_chesscom_games("bob", 2023, 10, 3);
    kept.extend(fake.add_chesscom_games("bob", 2023, 11, 3));
    let bomb = fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth).and_path_ending("/2023/10"),
        Fault::GzipBomb { inflated: 1 << 30 },
    );
    // The fake compresses the bomb as it is read, slowly in a debug build on a busy machine: the
    // cap, not the whole-body timeout, must be what stops it.
    let (run, peak) = Import::new(&fake)
        .players(["chesscom:bob"])
        .args(["--read-timeout", "5m"])
        .run_measuring_memory();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = error_of(&run.json(), 0);
    assert!(error.contains("2023/10"), "{error}");
    assert!(error.contains("larger than 16 MB"), "{error}");
    assert_eq!(
        fake.fault_hits(bomb),
        1,
        "a body too large is not asked again"
    );
    assert_eq!(
        games_in(&run.db).len(),
        kept.len(),
        "the other months are stored"
    );
    assert!(peak < RSS_BOUND, "peak RSS {} MB", peak / MB);
}

#[test]
fn a_gzip_bomb_in_the_export_is_one_invalid_line_in_bounded_memory_and_moves_no_cursor() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 5, T0, MINUTE);
    fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::GzipBomb { inflated: 96 * MB },
    );
    let import = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--read-timeout", "5m"]);
    let (run, peak) = import.run_measuring_memory();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.json();
    assert_eq!(summary["invalid_games"], 1, "{summary}");
    assert_eq!(summary["new_games"], 0, "{summary}");
    assert!(peak < RSS_BOUND, "peak RSS {} MB", peak / MB);
    // The cursor did not move over the line: the next run stores every game.
    let again = import.run();
    assert_eq!(again.json()["new_games"], ids.len(), "{}", again.stdout);
    assert_eq!(games_in(&again.db).len(), ids.len());
}

#[test]
fn a_trickling_month_is_given_up_after_read_timeout_and_asked_again() {
    let fake = FakeServer::start();
    let ids = fake.add_chesscom_games("bob", 2023, 10, 5);
    let trickle = fake.push_fault(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomMonth),
        Fault::Trickle {
            every: Duration::from_millis(5),
        },
    );
    let run = Import::new(&fake)
        .players(["chesscom:bob"])
        .args(["--read-timeout", "1s", "--progress", "plain"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.fault_hits(trickle), 1);
    assert_eq!(fake.trickles_run_out(), 0, "the trickle was not waited out");
    assert!(
        run.stderr
            .contains("the answer trickled for longer than --read-timeout"),
        "{}",
        run.stderr
    );
    assert_eq!(games_in(&run.db).len(), ids.len());
}

#[test]
fn a_trickling_export_holds_the_lichess_lane_about_read_timeout_then_resumes() {
    let fake = FakeServer::start();
    let ids = fake.add_lichess_games("alice", 5, T0, MINUTE);
    let trickle = fake.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::Trickle {
            every: Duration::from_millis(5),
        },
    );
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args(["--read-timeout", "1s"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fake.fault_hits(trickle), 1);
    assert_eq!(fake.trickles_run_out(), 0, "the trickle was not waited out");
    assert_eq!(
        fake.count_endpoint(Provider::Lichess, Endpoint::LichessExport),
        2,
        "resumed once"
    );
    assert_eq!(games_in(&run.db).len(), ids.len());
}

/// A listener on 127.0.0.1 that accepts nothing and whose queue of pending connections is full,
/// so that the kernel drops further connection attempts unanswered: a server that is down in
/// the way that costs a client the most time. Returns its URL and what keeps it full.
fn a_listener_that_answers_nothing() -> (String, Vec<std::net::TcpStream>, std::net::TcpListener) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime");
    let listener = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("bind");
        socket
            .listen(0)
            .expect("listen")
            .into_std()
            .expect("a std listener")
    });
    let address = listener.local_addr().expect("its address");
    let mut pending = Vec::new();
    // Each accepted-by-the-kernel connection fills the queue; once one goes unanswered, it is full.
    while let Ok(stream) =
        std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200))
    {
        pending.push(stream);
        assert!(
            pending.len() < 64,
            "the queue of pending connections never fills"
        );
    }
    (format!("http://{address}"), pending, listener)
}

#[test]
fn a_server_that_never_accepts_costs_connect_timeout_per_try() {
    let fake = FakeServer::start();
    let (url, _pending, _listener) = a_listener_that_answers_nothing();
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .args([
            "--lichess-url",
            &url,
            "--connect-timeout",
            "300ms",
            "--retries",
            "1",
        ])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        error_of(&run.json(), 0),
        "game export: 127.0.0.1: no connection within --connect-timeout (after 2 tries)"
    );
}
