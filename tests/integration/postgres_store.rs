//! The PostgreSQL store against a real server: what only a server has (concurrent migrations,
//! connection errors, reconnecting, big COPYs). The behaviours it shares with the SQLite store
//! are one suite for both, in src/store/contract.rs.
//!
//! Needs `CHESS_IMPORT_TEST_PG`; without it these tests fail, unless skipped on purpose (see
//! support/pg.rs). The store is called from the test's own thread, outside the runtime, as the
//! importer's writer thread does.

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chess_import::game::GameRecord;
use chess_import::player::{Platform, Player};
use chess_import::resume::Cursor;
use chess_import::store::postgres::{PostgresStore, mask_password};
use chess_import::store::{Batch, SCHEMA_VERSION, Store, StoreError, WriteCounts};
use tokio::runtime::Runtime;

use crate::support::pg;

/// A store on a fresh database. Fields drop in order: the store before its runtime.
struct Fixture {
    store: PostgresStore,
    url: String,
    runtime: Runtime,
}

fn fixture() -> Option<Fixture> {
    let url = pg::test_database()?;
    let runtime = Runtime::new().unwrap();
    let store = PostgresStore::connect(&url, runtime.handle().clone()).unwrap();
    Some(Fixture {
        store,
        url,
        runtime,
    })
}

fn game(platform: Platform, id: &str) -> GameRecord {
    let mut game = GameRecord::new(platform, id, "1. e4 e5 *");
    game.valid = true;
    game.ply_count = Some(2);
    game
}

fn player(spec: &str) -> Player {
    spec.parse().unwrap()
}

fn games_batch<'a>(player: &'a Player, games: &'a [GameRecord]) -> Batch<'a> {
    Batch {
        player,
        games,
        cursor: None,
        month: None,
        ongoing: &[],
        resolved: &[],
        refresh: false,
    }
}

fn open_error(url: &str, runtime: &Runtime) -> String {
    match PostgresStore::connect(url, runtime.handle().clone()) {
        Ok(_) => panic!("{} opened", mask_password(url)),
        Err(error @ StoreError::Open { .. }) => chess_import::errors::with_causes(&error),
        Err(error) => panic!("not an open error: {error}"),
    }
}

/// A server on 127.0.0.1 that is no PostgreSQL server, and its port.
fn fake_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// The error of opening `url`, and how many connections `listener` saw meanwhile. It closes each
/// connection at once with `hang_up`, and otherwise keeps it open and never answers.
fn connections_seen(listener: TcpListener, url: &str, hang_up: bool) -> (String, usize) {
    listener.set_nonblocking(true).unwrap();
    let runtime = Runtime::new().unwrap();
    std::thread::scope(|scope| {
        let client = scope.spawn(|| open_error(url, &runtime));
        let mut open = Vec::new();
        let mut seen = 0;
        loop {
            let finished = client.is_finished();
            // Accept everything queued, then stop once the client was done before that.
            while let Ok((stream, _)) = listener.accept() {
                seen += 1;
                if !hang_up {
                    open.push(stream);
                }
            }
            if finished {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (client.join().unwrap(), seen)
    })
}

/// How the server says a password is wrong, or PgBouncer, which checks it itself.
pub fn wrong_password_words() -> &'static str {
    if pg::pooled() {
        "SASL authentication failed"
    } else {
        "password authentication failed"
    }
}

fn assert_one_clear_line(error: &str, secret: &str) {
    assert!(
        error.starts_with("cannot open database postgres"),
        "{error}"
    );
    assert!(!error.contains('\n'), "{error}");
    assert!(!error.contains(secret), "password shown: {error}");
}

#[test]
fn refuses_a_newer_schema() {
    let Some(f) = fixture() else { return };
    drop(f.store);
    pg::execute(
        &f.url,
        &format!(
            "INSERT INTO chess_import_migrations (version) VALUES ({})",
            SCHEMA_VERSION + 1
        ),
    );
    let error = open_error(&f.url, &f.runtime);
    assert!(error.contains("newer chess-import"), "{error}");
    assert_one_clear_line(&error, "never-shown");
}

#[test]
fn two_stores_migrating_a_fresh_database_at_once_both_succeed() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let runtime = Runtime::new().unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let stores: Vec<_> = (0..2)
        .map(|_| {
            let (url, handle, barrier) = (url.clone(), runtime.handle().clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                PostgresStore::connect(&url, handle)
            })
        })
        .collect();
    let mut stores: Vec<PostgresStore> = stores
        .into_iter()
        .map(|thread| thread.join().unwrap().unwrap())
        .collect();
    assert_eq!(
        pg::query_i64(&url, "SELECT count(*) FROM chess_import_migrations"),
        SCHEMA_VERSION,
        "each migration applied once"
    );
    let alice = player("lichess:alice");
    let games = [game(Platform::Lichess, "aaaaaaaa")];
    assert_eq!(
        stores[0]
            .write_batch(&games_batch(&alice, &games))
            .unwrap()
            .new,
        1
    );
    assert_eq!(
        stores[1]
            .write_batch(&games_batch(&alice, &games))
            .unwrap()
            .duplicate,
        1
    );
}

#[test]
fn wrong_password_and_missing_database_are_one_clear_line() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let runtime = Runtime::new().unwrap();
    let error = open_error(&pg::with_password(&url, "wrong-horse-battery"), &runtime);
    assert_one_clear_line(&error, "wrong-horse-battery");
    assert!(error.contains(":***@"), "{error}");
    assert!(error.contains(wrong_password_words()), "{error}");

    let missing = pg::with_database(&url, "no_such_games_db");
    let error = open_error(&missing, &runtime);
    assert_one_clear_line(&error, &pg::password(&url));
    assert!(error.contains(":***@"), "{error}");
    assert!(
        error.contains("database \"no_such_games_db\" does not exist"),
        "{error}"
    );
}

#[test]
fn unreachable_servers_are_one_clear_line_without_retrying() {
    let runtime = Runtime::new().unwrap();
    let error = open_error("postgresql://alice:hunter2@127.0.0.1:1/games", &runtime);
    assert_one_clear_line(&error, "hunter2");
    assert!(
        error.contains("postgresql://alice:***@127.0.0.1:1/games"),
        "{error}"
    );
    assert!(error.contains("cannot connect to 127.0.0.1:1"), "{error}");

    let error = open_error(
        "postgresql://alice:hunter2@%2Fnonexistent-pg-dir/games",
        &runtime,
    );
    assert_one_clear_line(&error, "hunter2");
    assert!(
        error.contains("/nonexistent-pg-dir/.s.PGSQL.5432"),
        "{error}"
    );

    // A server that hangs up at once is asked once: connecting is not retried.
    let (listener, port) = fake_server();
    let url = format!("postgresql://alice:hunter2@127.0.0.1:{port}/games");
    let (error, connections) = connections_seen(listener, &url, true);
    assert_one_clear_line(&error, "hunter2");
    assert_eq!(connections, 1, "{error}");
}

#[test]
fn a_silent_server_times_out() {
    let (listener, port) = fake_server();
    let url = format!("postgres://alice:hunter2@127.0.0.1:{port}/games?connect_timeout=1");
    let (error, connections) = connections_seen(listener, &url, false);
    assert_one_clear_line(&error, "hunter2");
    assert!(
        error.contains(&format!("no answer from 127.0.0.1:{port} within 1 s")),
        "{error}"
    );
    assert_eq!(
        connections, 1,
        "one attempt, given up after connect_timeout"
    );
}

#[test]
fn permission_denied_is_explained_and_dml_rights_suffice_once_migrated() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let runtime = Runtime::new().unwrap();
    let role = format!("reader_{:08x}", fastrand::u32(..));
    pg::execute(
        &url,
        &format!("CREATE ROLE {role} LOGIN PASSWORD 'reader-secret'"),
    );
    let as_reader = pg::with_password(&url, "reader-secret").replacen("chess_test", &role, 1);
    assert!(as_reader.contains(&role), "{as_reader}");
    let error = open_error(&as_reader, &runtime);
    assert_one_clear_line(&error, "reader-secret");
    assert!(error.contains("permission denied"), "{error}");
    assert!(error.contains("CREATE on the schema"), "{error}");

    drop(PostgresStore::connect(&url, runtime.handle().clone()).unwrap());
    pg::execute(
        &url,
        &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
    );
    let mut store = PostgresStore::connect(&as_reader, runtime.handle().clone()).unwrap();
    let alice = player("lichess:alice");
    let games = [game(Platform::Lichess, "aaaaaaaa")];
    assert_eq!(
        store.write_batch(&games_batch(&alice, &games)).unwrap().new,
        1
    );
}

/// The socket directory (the host name, through the pooler) in `?host=` rather than the URL's
/// authority.
#[test]
fn accepts_the_host_as_a_host_parameter() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let host_param_url = pg::with_host_param(&url);
    assert!(host_param_url.contains("@/test_"), "{host_param_url}");
    let runtime = Runtime::new().unwrap();
    let mut store = PostgresStore::connect(&host_param_url, runtime.handle().clone()).unwrap();
    assert!(store.player_state(&player("lichess:alice")).is_ok());
}

#[test]
fn connects_from_async_code_and_is_then_used_from_a_plain_thread() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let runtime = Runtime::new().unwrap();
    let handle = runtime.handle().clone();
    let in_block_on = runtime.block_on(async { PostgresStore::connect(&url, handle.clone()) });
    let in_task = runtime
        .block_on(runtime.spawn(async move { PostgresStore::connect(&url, handle) }))
        .unwrap();
    let alice = player("lichess:alice");
    let games = [game(Platform::Lichess, "aaaaaaaa")];
    let writer = std::thread::spawn(move || {
        let (mut first, mut second) = (in_block_on.unwrap(), in_task.unwrap());
        let new = first.write_batch(&games_batch(&alice, &games)).unwrap().new;
        let duplicate = second
            .write_batch(&games_batch(&alice, &games))
            .unwrap()
            .duplicate;
        (new, duplicate)
    });
    assert_eq!(writer.join().unwrap(), (1, 1));
}

#[test]
fn five_thousand_games_go_in_as_one_batch() {
    let Some(mut f) = fixture() else { return };
    let alice = player("lichess:alice");
    let games: Vec<GameRecord> = (0..5000)
        .map(|index| {
            let mut game = game(Platform::Lichess, &format!("g{index:07}"));
            game.played_at = Some(1_700_000_000_000 + index);
            game
        })
        .collect();
    let counts = f
        .store
        .write_batch(&Batch {
            cursor: Some(Cursor::CreatedAt(1_700_000_004_999)),
            ..games_batch(&alice, &games)
        })
        .unwrap();
    assert_eq!(
        counts,
        WriteCounts {
            new: 5000,
            ..WriteCounts::default()
        }
    );
    assert_eq!(pg::query_i64(&f.url, "SELECT count(*) FROM games"), 5000);
    assert_eq!(
        pg::query_i64(&f.url, "SELECT count(*) FROM player_games"),
        5000
    );
    assert_eq!(
        f.store.player_state(&alice).unwrap().resume.last_created_at,
        Some(1_700_000_004_999)
    );
    // The staging table is emptied by the commit.
    let counts = f
        .store
        .write_batch(&games_batch(&alice, &games[..10]))
        .unwrap();
    assert_eq!(counts.duplicate, 10);
}

#[test]
fn unicode_huge_pgns_and_every_column_round_trip() {
    let Some(mut f) = fixture() else { return };
    let alice = player("lichess:alice");
    let mut rich = game(Platform::Lichess, "rich0001");
    rich.url = Some("https://lichess.org/rich0001".into());
    rich.white = Some("Magnus Carlsen 🇳🇴".into());
    rich.black = Some("Ян Непомнящий".into());
    rich.white_elo = Some(2850);
    rich.black_elo = Some(2795);
    rich.result = Some("1/2-1/2".into());
    rich.termination = Some("Normal".into());
    rich.variant = Some("chess960".into());
    rich.time_control = Some("180+2".into());
    rich.speed = Some("blitz".into());
    rich.rated = Some(true);
    rich.eco = Some("C65".into());
    rich.opening = Some("Ruy López: Berlin Defense ♞".into());
    rich.played_at = Some(1_700_000_000_123);
    let comment = "{ 日本語のコメント – ünïcödé } ";
    rich.pgn = format!(
        "[Event \"Ürgent\"]\n\n1. e4 {} e5 *",
        comment.repeat(1024 * 1024 / comment.len())
    );
    assert!(rich.pgn.len() >= 1_000_000);
    let mut odd = game(Platform::Lichess, "odd00001");
    odd.valid = false;
    odd.ply_count = None;
    odd.white = Some("nul\0byte".into());
    let counts = f
        .store
        .write_batch(&games_batch(&alice, &[rich.clone(), odd]))
        .unwrap();
    assert_eq!(counts.new, 2);
    let column = |sql: &str| pg::query_strings(&f.url, sql).remove(0);
    assert_eq!(
        column("SELECT pgn FROM games WHERE game_id = 'rich0001'"),
        Some(rich.pgn)
    );
    assert_eq!(
        column(
            "SELECT concat_ws('|', platform, url, white, black, white_elo, black_elo, result,
                 termination, variant, time_control, speed, rated, eco, opening, played_at,
                 ply_count, valid) FROM games WHERE game_id = 'rich0001'"
        )
        .unwrap(),
        "lichess|https://lichess.org/rich0001|Magnus Carlsen 🇳🇴|Ян Непомнящий|2850|2795|\
         1/2-1/2|Normal|chess960|180+2|blitz|t|C65|Ruy López: Berlin Defense ♞|\
         1700000000123|2|t"
    );
    assert_eq!(
        column(
            "SELECT concat_ws('|', white, coalesce(ply_count::text, 'null'), valid)
             FROM games WHERE game_id = 'odd00001'"
        )
        .unwrap(),
        "nul\u{FFFD}byte|null|f"
    );
    let imported = pg::query_i64(
        &f.url,
        "SELECT count(*) FROM games WHERE imported_at
             BETWEEN (extract(epoch FROM now()) * 1000 - 60000) AND (extract(epoch FROM now()) * 1000)",
    );
    assert_eq!(imported, 2);
}

#[test]
fn reconnects_after_the_server_drops_the_connection() {
    let Some(mut f) = fixture() else { return };
    let alice = player("lichess:alice");
    f.store
        .write_batch(&Batch {
            cursor: Some(Cursor::CreatedAt(42)),
            ..games_batch(&alice, &[])
        })
        .unwrap();
    assert_eq!(pg::drop_connections(&f.url, &["chess-import"]), 1);
    std::thread::sleep(Duration::from_millis(200));
    // The loss may surface on the first call; the second must be served by a new connection.
    let state = f
        .store
        .player_state(&alice)
        .or_else(|_| f.store.player_state(&alice))
        .unwrap();
    assert_eq!(state.resume.last_created_at, Some(42));
    let games = [game(Platform::Lichess, "aaaaaaaa")];
    assert_eq!(
        f.store
            .write_batch(&games_batch(&alice, &games))
            .unwrap()
            .new,
        1
    );
}
