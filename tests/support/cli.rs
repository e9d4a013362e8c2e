//! Running the real binary against the fake providers, and reading what it stored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use rusqlite::Connection;
use serde_json::Value;

use super::fake::FakeServer;

/// A `chess-import import` invocation with test-friendly defaults: fast retries and waits, a JSON
/// summary, no progress output, and a fresh database in a temporary directory.
#[derive(Clone)]
pub struct Import {
    lichess_url: String,
    chesscom_url: String,
    args: Vec<String>,
    db: PathBuf,
    stdin: Option<String>,
    dir: Arc<tempfile::TempDir>,
}

/// What a run printed and where its database is. Keeps the temporary directory alive.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub db: PathBuf,
    pub dir: Arc<tempfile::TempDir>,
}

impl Outcome {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }
}

impl Import {
    pub fn new(fake: &FakeServer) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temporary directory"));
        Import {
            lichess_url: fake.lichess_url(),
            chesscom_url: fake.chesscom_url(),
            args: Vec::new(),
            db: dir.path().join("games.sqlite"),
            stdin: None,
            dir,
        }
    }

    pub fn players<'a>(mut self, players: impl IntoIterator<Item = &'a str>) -> Self {
        self.args.extend(players.into_iter().map(str::to_string));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Self {
        self.args.extend(args.into_iter().map(str::to_string));
        self
    }

    pub fn jobs(self, jobs: usize) -> Self {
        self.args(["--jobs", &jobs.to_string()])
    }

    /// Use an existing database (e.g. the one of an earlier run).
    pub fn db(mut self, db: &Path) -> Self {
        self.db = db.to_path_buf();
        self
    }

    /// Use any `--db` target.
    pub fn db_target(mut self, target: &str) -> Self {
        self.db = PathBuf::from(target);
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    pub fn db_path(&self) -> &Path {
        &self.db
    }

    /// The command, ready to spawn; for tests that signal or kill the process.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_chess-import"));
        command
            .arg("import")
            .args(["--json", "--progress", "none"])
            .args(["--lichess-url", &self.lichess_url])
            .args(["--chesscom-url", &self.chesscom_url])
            .args(["--retry-backoff", "10ms", "--rate-limit-wait", "100ms"])
            .args(["--read-timeout", "2s"])
            .arg("--db")
            .arg(&self.db)
            .args(&self.args)
            .env_remove("CHESS_IMPORT_DB")
            .env_remove("LICHESS_TOKEN")
            .env_remove("MAX_CONCURRENT_IMPORTS")
            .env_remove("RUST_LOG")
            .env_remove("LICHESS_URL")
            .env_remove("CHESSCOM_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    pub fn run(&self) -> Outcome {
        let mut command = self.command();
        command.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = command.spawn().expect("start chess-import");
        if let Some(text) = &self.stdin
            && let Some(mut stdin) = child.stdin.take()
        {
            stdin.write_all(text.as_bytes()).expect("write stdin");
        }
        let output = child.wait_with_output().expect("run chess-import");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            db: self.db.clone(),
            dir: self.dir.clone(),
        }
    }
}

/// `(platform, game_id)` of every stored game, sorted.
pub fn games_in(db: &Path) -> Vec<(String, String)> {
    let conn = Connection::open(db).expect("open the database");
    let mut statement = conn
        .prepare("SELECT platform, game_id FROM games ORDER BY platform, game_id")
        .expect("query games");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("read games");
    let mut games: Vec<(String, String)> = rows.map(|r| r.expect("row")).collect();
    games.sort();
    games
}

/// `(platform, username, game_id)` of every link between an imported player and a game.
pub fn links_in(db: &Path) -> Vec<(String, String, String)> {
    let conn = Connection::open(db).expect("open the database");
    let mut statement = conn
        .prepare("SELECT platform, username, game_id FROM player_games ORDER BY 1, 2, 3")
        .expect("query links");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("read links");
    rows.map(|r| r.expect("row")).collect()
}
