//! A disk that fills up and a database on a read-only filesystem: a clear error naming the path,
//! no partial rows, a non-zero exit. Both need a small filesystem of their own, a tmpfs mounted
//! for the test, so they need root: in CI (`CI` set) they fail without it, elsewhere they say on
//! stderr that they were skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use chess_import_fake::FakeServer;
use rusqlite::{Connection, OpenFlags};

use crate::support::cli::{Import, games_in};
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

#[test]
fn a_read_only_database_is_a_usage_error_naming_the_path() {
    let Some(mount) = Mount::tmpfs(
        "a_read_only_database_is_a_usage_error_naming_the_path",
        "4m",
    ) else {
        return;
    };
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, MINUTE);
    let db = mount.path().join("games.sqlite");
    let import = Import::new(&fake).players(["lichess:alice"]).db(&db);
    assert_eq!(import.run().code, 0);
    mount.remount_read_only();
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
