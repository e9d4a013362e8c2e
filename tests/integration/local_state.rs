//! The user's files are never the victim: `export --out` cannot overwrite the database and never
//! truncates a file it fails to replace; `--db` values where nothing would be saved are refused;
//! so are files that are not chess-import databases, before anything in them changes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chess_import_fake::FakeServer;
use rusqlite::Connection;

use crate::support::cli::{Import, binary, game_keys, games_in};
use crate::support::{announce_skip, in_ci};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().expect("run chess-import");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The names in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// A database with alice's five games, in a directory of its own.
fn imported() -> (FakeServer, Import) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, MINUTE);
    let import = Import::new(&fake).players(["lichess:alice"]);
    let outcome = import.run();
    assert_eq!(outcome.code, 0, "{}", outcome.stderr);
    (fake, import)
}

/// `export` run in the database's directory, with `--db` as given there.
fn export_in(dir: &Path, db: &str, out: &str) -> Run {
    run(binary()
        .current_dir(dir)
        .args(["export", "--db", db, "--out", out]))
}

#[test]
fn export_refuses_to_overwrite_the_database_by_any_name() {
    let (_fake, import) = imported();
    let db = import.db_path();
    let dir = db.parent().unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("games.sqlite", dir.join("link.pgn")).unwrap();
    std::os::unix::fs::symlink("games.sqlite-wal", dir.join("wal-link.pgn")).unwrap();
    std::fs::hard_link(db, dir.join("hard.pgn")).unwrap();
    let before = std::fs::read(db).unwrap();
    let listed = files_in(dir);
    let absolute = db.display().to_string();
    for (db_arg, out) in [
        ("games.sqlite", "games.sqlite"),
        ("games.sqlite", "./games.sqlite"),
        ("games.sqlite", "sub/../games.sqlite"),
        (absolute.as_str(), "games.sqlite"),
        ("./sub/../games.sqlite", absolute.as_str()),
        ("games.sqlite", "link.pgn"),
        ("games.sqlite", "hard.pgn"),
        ("games.sqlite", "games.sqlite-wal"),
        ("games.sqlite", "./games.sqlite-shm"),
        ("games.sqlite", "wal-link.pgn"),
        ("link.pgn", "games.sqlite"),
    ] {
        let export = export_in(dir, db_arg, out);
        assert_eq!(
            export.code, 2,
            "--db {db_arg} --out {out}: {}",
            export.stderr
        );
        let lines: Vec<&str> = export.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", export.stderr);
        assert!(
            lines[0].contains(&format!("--out {out} is the database")) && lines[0].contains(db_arg),
            "--db {db_arg} --out {out}: {}",
            export.stderr
        );
        assert_eq!(std::fs::read(db).unwrap(), before, "--out {out}");
        assert_eq!(files_in(dir), listed, "--out {out}");
    }
    // Another name in the same directory is fine.
    let export = export_in(dir, "games.sqlite", "games.pgn");
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(std::fs::read(db).unwrap(), before);
}

/// The process's umask, as the kernel reports it.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("Umask:"))
        .expect("a Umask line");
    u32::from_str_radix(line.trim(), 8).expect("an octal umask")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_failed_export_leaves_the_old_file_as_it_was() {
    use std::os::unix::fs::PermissionsExt;

    let (_fake, import) = imported();
    let db = import.db_path();
    let dir = db.parent().unwrap();
    let old = dir.join("alice.pgn");
    std::fs::write(&old, "[Event \"kept\"]\n\n1. e4 *\n").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = std::fs::read(&old).unwrap();
    // A game whose PGN is not text, played after every other: the export fails after writing
    // the five others.
    Connection::open(db)
        .unwrap()
        .execute_batch(
            "CREATE TEMP TABLE broken AS SELECT * FROM games LIMIT 1;
             UPDATE broken SET game_id = 'broken01', played_at = played_at + 1000000000,
                 pgn = CAST(x'80ff' AS TEXT);
             INSERT INTO games SELECT * FROM broken;",
        )
        .unwrap();
    let listed = files_in(dir);
    let export = export_in(dir, "games.sqlite", "alice.pgn");
    assert_eq!(export.code, 2, "{}", export.stderr);
    assert!(export.stderr.contains("games.sqlite"), "{}", export.stderr);
    assert_eq!(
        std::fs::read(&old).unwrap(),
        before,
        "the old file is intact"
    );
    assert_eq!(mode(&old), 0o640);
    assert_eq!(files_in(dir), listed, "no temporary file is left behind");

    Connection::open(db)
        .unwrap()
        .execute_batch("DELETE FROM games WHERE game_id = 'broken01'")
        .unwrap();
    let export = export_in(dir, "games.sqlite", "alice.pgn");
    assert_eq!(export.code, 0, "{}", export.stderr);
    let exported = std::fs::read_to_string(&old).unwrap();
    assert_eq!(exported.matches("[Event ").count(), 5, "{exported}");
    assert_eq!(mode(&old), 0o640, "a replaced file keeps its mode");
    let export = export_in(dir, "games.sqlite", "new.pgn");
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(
        mode(&dir.join("new.pgn")),
        0o666 & !umask(),
        "a new file gets the usual mode"
    );
}

#[test]
fn databases_where_nothing_would_be_saved_are_refused() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, MINUTE);
    let dir = tempfile::tempdir().unwrap();
    for (target, expected) in [
        ("", "nothing would be saved"),
        (":memory:", "nothing would be saved"),
        ("file::memory:", "nothing would be saved"),
        (
            "file:games?mode=memory&cache=shared",
            "nothing would be saved",
        ),
        ("file:games.sqlite", "does not take"),
    ] {
        for command in ["import", "status", "export"] {
            let mut binary = binary();
            binary.current_dir(dir.path()).arg(command);
            if command == "import" {
                binary
                    .args(["lichess:alice", "--lichess-url", &fake.lichess_url()])
                    .args(["--chesscom-url", &fake.chesscom_url()]);
            }
            let outcome = run(binary.args(["--db", target]));
            assert_eq!(
                outcome.code, 2,
                "{command} --db {target:?}: {}",
                outcome.stderr
            );
            let first = outcome.stderr.lines().next().unwrap_or_default();
            assert!(
                first.contains("--db") && first.contains(expected),
                "{command} --db {target:?}: {}",
                outcome.stderr
            );
            assert_eq!(outcome.stdout, "");
        }
    }
    let outcome = run(binary()
        .current_dir(dir.path())
        .env("CHESS_IMPORT_DB", "")
        .args([
            "import",
            "lichess:alice",
            "--lichess-url",
            &fake.lichess_url(),
        ]));
    assert_eq!(outcome.code, 2, "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("CHESS_IMPORT_DB")
            && outcome.stderr.contains("nothing would be saved"),
        "{}",
        outcome.stderr
    );
    assert!(fake.requests().is_empty(), "no request was made");
    assert_eq!(
        files_in(dir.path()),
        Vec::<String>::new(),
        "no file was made"
    );
}

/// A file's bytes, and whether SQLite left `-wal` or `-shm` files beside it.
fn snapshot(path: &Path) -> (Vec<u8>, Vec<String>) {
    (
        std::fs::read(path).expect("read the file"),
        files_in(path.parent().expect("a directory")),
    )
}

/// `import`, `status` and `export` on `db`: each refused with exit status 2, on one line that
/// contains `expected`, before any request and without changing the file.
fn refused_by_every_command(db: &Path, expected: &str) {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, MINUTE);
    let before = snapshot(db);
    let import = Import::new(&fake).players(["lichess:alice"]).db(db).run();
    let status = run(binary().arg("status").arg("--db").arg(db));
    let export = run(binary().arg("export").arg("--db").arg(db));
    for (command, code, stderr) in [
        ("import", import.code, import.stderr),
        ("status", status.code, status.stderr),
        ("export", export.code, export.stderr),
    ] {
        assert_eq!(code, 2, "{command}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains(&db.display().to_string()),
            "{command}: {stderr}"
        );
        assert_eq!(
            snapshot(db),
            before,
            "{command} changed the file or added files"
        );
    }
    assert!(fake.requests().is_empty(), "no request was made");
}

#[test]
fn another_applications_database_is_left_exactly_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.sqlite");
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE notes (body TEXT);
             CREATE TABLE tags (tag TEXT);
             CREATE TABLE games (id INTEGER);
             INSERT INTO users (name) VALUES ('ann');",
        )
        .unwrap();
    refused_by_every_command(
        &db,
        "not a chess-import database: it holds another application's tables (games, notes, \
         tags and 1 more)",
    );

    // One that only its header marks as another application's.
    let marked = dir.path().join("marked.sqlite");
    let conn = Connection::open(&marked).unwrap();
    conn.pragma_update(None, "application_id", 0x1234).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    drop(conn);
    refused_by_every_command(&marked, "belongs to another application");
}

#[test]
fn a_file_that_is_not_an_sqlite_database_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes, not games\n".repeat(50)).unwrap();
    refused_by_every_command(&notes, "not an SQLite database");
    let random = dir.path().join("random.bin");
    let mut rng = fastrand::Rng::with_seed(7);
    std::fs::write(&random, (0..8192).map(|_| rng.u8(..)).collect::<Vec<u8>>()).unwrap();
    refused_by_every_command(&random, "not an SQLite database");
}

/// Makes `path` read-only even for root (`chattr +i`) and writable again on drop; as another
/// user, takes its write permission away.
struct ReadOnly<'a>(&'a Path);

impl<'a> ReadOnly<'a> {
    fn make(test: &str, path: &'a Path) -> Option<Self> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Some(ReadOnly(path));
        }
        let made = Command::new("chattr").arg("+i").arg(path).output();
        let failure = match made {
            Ok(output) if output.status.success() => return Some(ReadOnly(path)),
            Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_string(),
            Err(error) => format!("cannot run chattr: {error}"),
        };
        assert!(
            !in_ci(),
            "{test}: as root a read-only file needs chattr +i, which failed: {failure}"
        );
        announce_skip(&format!(
            "{test}: root ignores file modes, and chattr +i failed ({failure})"
        ));
        None
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(self.0).output();
    }
}

#[test]
fn a_read_only_database_file_is_a_usage_error_and_stays_as_it_was() {
    let (fake, import) = imported();
    let db = import.db_path();
    let Some(_read_only) = ReadOnly::make(
        "a_read_only_database_file_is_a_usage_error_and_stays_as_it_was",
        db,
    ) else {
        return;
    };
    fake.add_lichess_games("alice", 5, T0 + 100 * MINUTE, MINUTE);
    fake.clear_requests();
    let before = snapshot(db);
    let outcome = import.run();
    assert_eq!(outcome.code, 2, "{}", outcome.stderr);
    assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
    assert!(
        outcome
            .stderr
            .contains(&format!("cannot open database {}", db.display()))
            && outcome.stderr.contains("the file is read-only"),
        "{}",
        outcome.stderr
    );
    assert_eq!(snapshot(db), before);
    assert!(fake.requests().is_empty(), "nothing was fetched");
    // Reading it is still fine.
    let status = run(binary().arg("status").arg("--db").arg(db));
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("lichess:alice"), "{}", status.stdout);
}

#[test]
fn a_run_that_stores_nothing_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("games.sqlite");
    // Offline: nothing listens on either provider's port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let offline = run(binary()
        .args([
            "import",
            "lichess:alice",
            "chesscom:bob",
            "--json",
            "--progress",
            "none",
        ])
        .args(["--lichess-url", &nowhere, "--chesscom-url", &nowhere])
        .args(["--retries", "0"])
        .arg("--db")
        .arg(&db));
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert_eq!(
        files_in(dir.path()),
        Vec::<String>::new(),
        "{}",
        offline.stderr
    );

    // Online, but neither player exists.
    let fake = FakeServer::start();
    let unknown = Import::new(&fake)
        .players(["lichess:alice", "chesscom:bob"])
        .db(&db)
        .run();
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert_eq!(unknown.json()["failed_players"], 2, "{}", unknown.stdout);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());

    // The first game makes the database, with the failure of the player before it.
    fake.add_lichess_games("alice", 3, T0, MINUTE);
    let stored = Import::new(&fake)
        .players(["chesscom:bob", "lichess:alice"])
        .db(&db)
        .jobs(1)
        .run();
    assert_eq!(stored.code, 1, "{}", stored.stderr);
    assert_eq!(games_in(&db).len(), 3);
    let status = run(binary().arg("status").arg("--db").arg(&db));
    assert!(
        status.stdout.contains("chesscom:bob") && status.stdout.contains("lichess:alice"),
        "{}",
        status.stdout
    );
}

#[test]
fn two_runs_that_find_no_database_both_store_into_the_one_they_make() {
    let fake = FakeServer::start();
    let alice = fake.add_lichess_games("alice", 300, T0, MINUTE);
    let carol = fake.add_chesscom_games("carol", 2024, 1, 20);
    // Both runs start (and find no database) well before either has a batch to store.
    fake.set_lichess_rate(Some(500.0));
    fake.set_chesscom_latency(Duration::from_millis(300));
    let first = Import::new(&fake).players(["lichess:alice"]);
    let second = Import::new(&fake)
        .players(["chesscom:carol"])
        .db(first.db_path());
    let children = [
        first.command().spawn().unwrap(),
        second.command().spawn().unwrap(),
    ];
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        games_in(first.db_path()),
        game_keys(&alice, &carol),
        "both runs' games are in the one database"
    );
}
