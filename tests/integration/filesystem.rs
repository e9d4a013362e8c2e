//! A disk that fills up and a database on a read-only filesystem: a clear error naming the path,
//! no partial rows, a non-zero exit; and `status` and `export` still read the database there. Both need a small filesystem of their own, a tmpfs mounted
//! for the test, so they need root: in CI (`CI` set) they fail without it, elsewhere they say on
//! stderr that they were skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use chess_import_fake::FakeServer;
use rusqlite::{Connection, OpenFlags};

use crate::support::cli::{Import, binary, games_in};
use crate::support::{announce_skip, in_ci};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    /// The mount for `test`, or `None` (announced) where it cannot be made outside CI.
    fn tmpfs(test: &str, size: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        let failure = match mounted {
            Ok(output) if output.status.success() => return Some(Mount { dir }),
            Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_string(),
            Err(error) => format!("cannot run mount: {error}"),
        };
        assert!(
            !in_ci(),
            "{test} needs a tmpfs of its own, and in CI it must run (as root): {failure}"
        );
        announce_skip(&format!("{test}: mounting a tmpfs needs root ({failure})"));
        None
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.dir.path())
            .status()
            .expect("run mount");
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn integrity(db: &Path) -> String {
    Connection::open(db)
        .and_then(|c| c.query_row("PRAGMA quick_check", [], |r| r.get(0)))
        .expect("read the database")
}

#[test]
fn a_full_disk_fails_the_player_with_the_path_and_keeps_what_was_committed() {
    let Some(mount) = Mount::tmpfs(
        "a_full_disk_fails_the_player_with_the_path_and_keeps_what_was_committed",
        "400k",
    ) else {
        return;
    };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 1500, T0, MINUTE);
    let db = mount.path().join("games.sqlite");
    let run = Import::new(&fake)
        .players(["lichess:alice"])
        .db(&db)
        .args(["--progress", "plain"])
        .run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let summary = run.json();
    let error = summary["players"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains(&db.display().to_string()), "{error}");
    assert!(error.contains("full"), "{error}");
    assert_eq!(integrity(&db), "ok");
    // What the summary counts is what is stored: no partial batch.
    assert_eq!(summary["new_games"], games_in(&db).len());
}

/// Alice's five games imported into a database on a tmpfs that is then made read-only; `None`
/// (announced) where `test` cannot mount one.
fn alice_on_a_read_only_filesystem(test: &str) -> Option<(Mount, FakeServer, Import)> {
    let mount = Mount::tmpfs(test, "4m")?;
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, MINUTE);
    let db = mount.path().join("games.sqlite");
    let import = Import::new(&fake).players(["lichess:alice"]).db(&db);
    let run = import.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    mount.remount_read_only();
    Some((mount, fake, import))
}

#[test]
fn a_read_only_database_is_a_usage_error_naming_the_path() {
    let Some((_mount, fake, import)) =
        alice_on_a_read_only_filesystem("a_read_only_database_is_a_usage_error_naming_the_path")
    else {
        return;
    };
    let db = import.db_path().to_path_buf();
    fake.add_lichess_games("alice", 5, T0 + 100 * MINUTE, MINUTE);
    let run = import.run();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&db.display().to_string()),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Read-only file system"),
        "{}",
        run.stderr
    );
    // A WAL database on a read-only filesystem is read as immutable (it cannot make its -shm).
    let conn = Connection::open_with_flags(
        format!("file:{}?immutable=1", db.display()),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM games", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 5);
}

#[test]
fn status_and_export_read_a_database_in_a_read_only_directory() {
    let Some((_mount, _fake, import)) = alice_on_a_read_only_filesystem(
        "status_and_export_read_a_database_in_a_read_only_directory",
    ) else {
        return;
    };
    let db = import.db_path();
    let read = |args: &[&str]| {
        let output = binary()
            .args(args)
            .arg("--db")
            .arg(db)
            .output()
            .expect("run chess-import");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let status = read(&["status"]);
    assert!(status.contains("lichess:alice"), "{status}");
    assert_eq!(read(&["export"]).matches("[Event ").count(), 5);
    let out = tempfile::tempdir().unwrap();
    let pgn = out.path().join("alice.pgn");
    read(&["export", "--out", pgn.to_str().unwrap()]);
    let exported = std::fs::read_to_string(&pgn).unwrap();
    assert_eq!(exported.matches("[Event ").count(), 5);
}
