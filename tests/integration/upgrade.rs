//! A database of schema version 1, made by the release before version 2 and committed as a
//! fixture, is upgraded in place on first use, in SQLite and in PostgreSQL: no game lost or
//! rewritten, the new columns its PGNs can tell filled in, the cursors kept; and an upgrade that
//! fails part-way leaves version 1 exactly as it was.

use std::path::{Path, PathBuf};

use chess_import_fake::{Endpoint, FakeServer, Provider};

use crate::support::cli::{Backend, Import, value_in};
use crate::support::pg;

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const SQLITE_V1: &[u8] = include_bytes!("fixtures/schema-v1.sqlite");
const POSTGRES_V1: &str = include_str!("fixtures/schema-v1.sql");
/// What the fixtures hold: 12 Lichess games of lichessplayer1 and 8 Chess.com games of
/// chesscomplayer1, every one valid, the Lichess cursor at this `createdAt`.
const OLD_GAMES: i64 = 20;
const LICHESS_CURSOR: i64 = 1_704_067_140_000;

/// A version-1 SQLite database in a directory of its own.
fn sqlite_v1() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("games.sqlite");
    std::fs::write(&path, SQLITE_V1).expect("write the fixture");
    (dir, path)
}

/// A fresh PostgreSQL database loaded with the version-1 dump, or `None` when the PostgreSQL
/// tests are skipped on purpose.
fn postgres_v1() -> Option<String> {
    let Backend::Postgres(url) = Backend::postgres()? else {
        return None;
    };
    pg::execute(&url, POSTGRES_V1);
    Some(url)
}

fn number(db: &Path, sql: &str) -> i64 {
    value_in(db, sql)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{sql}: no number"))
}

fn version(db: &Path) -> i64 {
    if db.to_string_lossy().starts_with("postgres") {
        number(db, "SELECT max(version) FROM chess_import_migrations")
    } else {
        number(db, "SELECT user_version FROM pragma_user_version")
    }
}

/// What must not change in the old games: how many, and every PGN (by length and content).
fn old_games(db: &Path) -> (i64, i64, Option<String>) {
    let where_old = "WHERE game_id IN (SELECT game_id FROM player_games
                     WHERE username IN ('lichessplayer1', 'chesscomplayer1'))";
    (
        number(db, &format!("SELECT count(*) FROM games {where_old}")),
        number(
            db,
            &format!("SELECT sum(length(pgn)) FROM games {where_old}"),
        ),
        value_in(
            db,
            &format!("SELECT min(pgn) || max(pgn) FROM games {where_old}"),
        ),
    )
}

/// Opens the old database with an import of another player, then checks the upgrade and that
/// a later run of an old player continues from its stored cursor.
fn upgrades_in_place(db: &Path) {
    let before = old_games(db);
    assert_eq!(before.0, OLD_GAMES);
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    fake.add_lichess_games("lichessplayer1", 2, LICHESS_CURSOR + MINUTE, MINUTE);
    let run = Import::new(&fake)
        .db_target(&db.to_string_lossy())
        .players(["lichess:alice"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(version(db), 2);
    assert_eq!(old_games(db), before, "no old game lost or rewritten");
    assert_eq!(number(db, "SELECT count(*) FROM games"), OLD_GAMES + 3);
    assert_eq!(
        number(db, "SELECT count(*) FROM games WHERE final_fen IS NULL"),
        0,
        "every valid game has its final position"
    );
    for column in ["opening", "ended_at", "source"] {
        assert_eq!(
            number(
                db,
                &format!(
                    "SELECT count(*) FROM games WHERE platform = 'chesscom' AND {column} IS NULL"
                )
            ),
            0,
            "Chess.com's {column} from the PGN"
        );
    }
    assert_eq!(
        number(
            db,
            "SELECT count(*) FROM player_games_view WHERE username = 'chesscomplayer1'"
        ),
        8
    );

    let again = Import::new(&fake)
        .db_target(&db.to_string_lossy())
        .players(["lichess:lichessplayer1"])
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    let export = fake
        .requests_for(Provider::Lichess)
        .into_iter()
        .rfind(|r| r.endpoint == Endpoint::LichessExport)
        .expect("an export request");
    assert_eq!(
        export.query_param("since"),
        Some(LICHESS_CURSOR.to_string()),
        "continued from the stored cursor"
    );
    assert_eq!(again.json()["new_games"], 2, "{}", again.stdout);
}

#[test]
fn a_version_1_sqlite_database_is_upgraded_in_place() {
    let (_dir, path) = sqlite_v1();
    upgrades_in_place(&path);
}

#[test]
fn a_version_1_postgres_database_is_upgraded_in_place() {
    let Some(url) = postgres_v1() else { return };
    upgrades_in_place(Path::new(&url));
}

/// An upgrade that fails on the last game leaves version 1 as it was; once the cause is gone,
/// the next run upgrades.
fn a_failed_upgrade_leaves_version_1(db: &Path, fail: &str, repair: &str) {
    let execute = |sql: &str| {
        if db.to_string_lossy().starts_with("postgres") {
            pg::execute(&db.to_string_lossy(), sql);
        } else {
            let conn = rusqlite::Connection::open(db).expect("open the fixture");
            conn.execute_batch(sql).expect("run the SQL");
        }
    };
    execute(fail);
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    let import = Import::new(&fake)
        .db_target(&db.to_string_lossy())
        .players(["lichess:alice"]);
    let failed = import.run();
    assert_eq!(failed.code, 2, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("upgrade interrupted"),
        "{}",
        failed.stderr
    );
    assert_eq!(version(db), 1);
    assert_eq!(
        number(db, "SELECT count(*) FROM games"),
        OLD_GAMES,
        "nothing stored into a half-upgraded database"
    );
    execute(repair);
    let run = import.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(version(db), 2);
}

#[test]
fn an_sqlite_upgrade_that_fails_part_way_leaves_version_1() {
    let (_dir, path) = sqlite_v1();
    let last = value_in(
        &path,
        "SELECT max(game_id) FROM games WHERE platform = 'lichess'",
    )
    .expect("a Lichess game");
    a_failed_upgrade_leaves_version_1(
        &path,
        &format!(
            "CREATE TRIGGER upgrade_interrupted BEFORE UPDATE ON games
             WHEN old.game_id = '{last}' BEGIN SELECT RAISE(ABORT, 'upgrade interrupted'); END;"
        ),
        "DROP TRIGGER upgrade_interrupted;",
    );
}

#[test]
fn a_postgres_upgrade_that_fails_part_way_leaves_version_1() {
    let Some(url) = postgres_v1() else { return };
    let last = value_in(
        Path::new(&url),
        "SELECT max(game_id) FROM games WHERE platform = 'lichess'",
    )
    .expect("a Lichess game");
    a_failed_upgrade_leaves_version_1(
        Path::new(&url),
        &format!(
            "CREATE FUNCTION interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'upgrade interrupted'; END $$;
             CREATE TRIGGER upgrade_interrupted BEFORE UPDATE ON games FOR EACH ROW
             WHEN (old.game_id = '{last}') EXECUTE FUNCTION interrupt();"
        ),
        "DROP TRIGGER upgrade_interrupted ON games;",
    );
}
