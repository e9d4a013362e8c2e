//! Running the real binary against the fake providers, and reading what it stored.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use rusqlite::Connection;
use serde_json::Value;

use super::pg;
use chess_import_fake::FakeServer;

/// What the binary reads from the environment. A developer's shell may set any of them, and a
/// test must see only the options it passes.
pub const ENV_SETTINGS: [&str; 23] = [
    "CHESS_IMPORT_DB",
    "CHESS_IMPORT_USER_AGENT",
    "CHESSCOM_URL",
    "LICHESS_TOKEN",
    "LICHESS_URL",
    "MAX_CONCURRENT_IMPORTS",
    "NO_COLOR",
    "RUST_LOG",
    // libpq's, which fill in what a PostgreSQL connection string leaves out.
    "PGAPPNAME",
    "PGCHANNELBINDING",
    "PGCONNECT_TIMEOUT",
    "PGDATABASE",
    "PGHOST",
    "PGHOSTADDR",
    "PGOPTIONS",
    "PGPASSFILE",
    "PGPASSWORD",
    "PGPORT",
    "PGSSLMODE",
    "PGSSLNEGOTIATION",
    "PGSSLROOTCERT",
    "PGTARGETSESSIONATTRS",
    "PGUSER",
];

/// The binary, with none of [`ENV_SETTINGS`] in its environment.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chess-import"));
    for name in ENV_SETTINGS {
        command.env_remove(name);
    }
    command
}

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
        let mut command = binary();
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

impl Import {
    /// Runs like [`Import::run`], and measures the child's peak resident memory (its own
    /// high-water mark, `VmHWM`), in bytes.
    ///
    /// Not `ru_maxrss`: Linux carries the high-water mark of the process that exec'ed over into
    /// the new program, and that is this test process, as large as the tests running beside it
    /// (209 MB was seen). `VmHWM` only grows, and the child's memory rises over a whole body, so
    /// reading it every millisecond until the child exits sees its peak.
    pub fn run_measuring_memory(&self) -> (Outcome, u64) {
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .spawn()
            .expect("start chess-import");
        let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_string(&mut text);
                }
                text
            })
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let pid = child.id();
        let sampler = std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            let mut peak_kb = 0;
            // Until the child has exited: a zombie's status has no VmHWM line.
            while let Some(kb) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|status| vm_hwm_kb(&status))
            {
                peak_kb = u64::max(peak_kb, kb);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            peak_kb
        });
        // Reaped only after the sampler has stopped, so that the pid stays the child's.
        let peak_kb = sampler.join().expect("the memory sampler");
        assert!(peak_kb > 0, "the child's VmHWM was never read");
        let code = child
            .wait()
            .expect("wait for chess-import")
            .code()
            .unwrap_or(-1);
        let outcome = Outcome {
            code,
            stdout: stdout.join().expect("stdout"),
            stderr: stderr.join().expect("stderr"),
            db: self.db.clone(),
            dir: self.dir.clone(),
        };
        (outcome, peak_kb * 1024)
    }
}

/// `VmHWM` (peak resident set, KiB) of a `/proc/PID/status`.
fn vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The error of the summary's `index`th player, empty when it has none.
pub fn error_of(summary: &Value, index: usize) -> String {
    summary["players"][index]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Peak memory a run may take whatever it is sent (the brief's bound).
pub const RSS_BOUND: u64 = 64 << 20;

/// Where a test's games go: the same expectations hold for both stores.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    /// A fresh database on the test server.
    Postgres(String),
}

impl Backend {
    /// A fresh PostgreSQL database, or `None` when the PostgreSQL tests are skipped on purpose
    /// (see [`pg::test_database`]).
    pub fn postgres() -> Option<Backend> {
        pg::test_database().map(Backend::Postgres)
    }

    /// An import into this backend (SQLite: a fresh file in a temporary directory).
    pub fn import(&self, fake: &FakeServer) -> Import {
        match self {
            Backend::Sqlite => Import::new(fake),
            Backend::Postgres(url) => Import::new(fake).db_target(url),
        }
    }
}

/// Instantiates each named test, a `fn(Backend)`, once per store: `sqlite::NAME` and
/// `postgres::NAME` (which fails without a PostgreSQL test server, unless skipped on purpose).
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name($crate::support::cli::Backend::Sqlite);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(backend) = $crate::support::cli::Backend::postgres() {
                    super::$name(backend);
                }
            })*
        }
    };
}
pub(crate) use on_both_stores;

fn is_postgres(db: &Path) -> bool {
    chess_import::store::is_postgres_url(&db.to_string_lossy())
}

/// Rows of `sql` as strings, from either store.
fn rows(db: &Path, sql: &str, columns: usize) -> Vec<Vec<String>> {
    if is_postgres(db) {
        let joined = format!(
            "SELECT concat_ws(chr(31), {}) FROM ({sql}) AS rows",
            (1..=columns)
                .map(|c| format!("rows.c{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return pg::query_strings(&db.to_string_lossy(), &joined)
            .into_iter()
            .map(|row| {
                row.unwrap_or_default()
                    .split('\u{1f}')
                    .map(str::to_string)
                    .collect()
            })
            .collect();
    }
    let conn = Connection::open(db).expect("open the database");
    let mut statement = conn.prepare(sql).expect("prepare the query");
    let rows = statement
        .query_map([], |row| {
            (0..columns)
                .map(|c| Ok(row.get::<_, Option<String>>(c)?.unwrap_or_default()))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect("run the query");
    rows.map(|r| r.expect("row")).collect()
}

/// `(platform, game_id)` of every stored game, sorted.
pub fn games_in(db: &Path) -> Vec<(String, String)> {
    let mut games: Vec<(String, String)> =
        rows(db, "SELECT platform AS c1, game_id AS c2 FROM games", 2)
            .into_iter()
            .map(|mut row| (std::mem::take(&mut row[0]), std::mem::take(&mut row[1])))
            .collect();
    games.sort();
    games
}

/// `(platform, username, game_id)` of every link between an imported player and a game.
pub fn links_in(db: &Path) -> Vec<(String, String, String)> {
    let mut links: Vec<(String, String, String)> = rows(
        db,
        "SELECT platform AS c1, username AS c2, game_id AS c3 FROM player_games",
        3,
    )
    .into_iter()
    .map(|mut row| {
        (
            std::mem::take(&mut row[0]),
            std::mem::take(&mut row[1]),
            std::mem::take(&mut row[2]),
        )
    })
    .collect();
    links.sort();
    links
}

/// One value of `sql` (a single-row, single-column query) from either store, as a string.
pub fn value_in(db: &Path, sql: &str) -> Option<String> {
    rows(db, &format!("SELECT CAST(({sql}) AS TEXT) AS c1"), 1)
        .into_iter()
        .next()
        .and_then(|mut row| row.pop())
        .filter(|v| !v.is_empty())
}

/// `chess-import worker --once` on the queue at `db`, with test-friendly waits and a short lease.
pub fn worker(fake: &FakeServer, db: &str) -> Command {
    let mut command = binary();
    command
        .arg("worker")
        .args(["--once", "--json", "--progress", "none", "--db", db])
        .args(["--lichess-url", &fake.lichess_url()])
        .args(["--chesscom-url", &fake.chesscom_url()])
        .args(["--retry-backoff", "10ms", "--rate-limit-wait", "100ms"])
        .args(["--poll-interval", "50ms", "--lease-ttl", "1s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// `chess-import enqueue --json PLAYER... --db db`, returning its exit code and JSON output.
pub fn enqueue(db: &str, players: &[&str]) -> (i32, String, String) {
    let output = binary()
        .args(["enqueue", "--json", "--db", db])
        .args(players)
        .stdin(Stdio::null())
        .output()
        .expect("run chess-import enqueue");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The sorted `(platform, game_id)` keys of games of both platforms, as [`games_in`] lists them.
pub fn game_keys(lichess: &[String], chesscom: &[String]) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = lichess
        .iter()
        .map(|id| ("lichess".to_string(), id.clone()))
        .chain(
            chesscom
                .iter()
                .map(|id| ("chesscom".to_string(), id.clone())),
        )
        .collect();
    keys.sort();
    keys
}
