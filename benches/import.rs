//! End-to-end benchmark: the release binary against the fake providers on loopback.
//!
//! `cargo bench` runs every scenario and prints one table and a PASS/FAIL line per target.
//! `cargo bench -- --quick` (or `BENCH_SCALE=0.1`) runs smaller sizes; naming scenarios runs only
//! those (`cargo bench -- s1 s6`; `s4` needs `s3`). See the README's "Benchmark" section.
//!
//! Each scenario runs `chess-import import` as a child process and measures it with `wait4`:
//! wall time, CPU (user+sys) and peak RSS of the child alone. Requests come from the fake's log;
//! bytes are what the fake serves for the games imported.

use std::fmt::Write as _;
use std::io::Read;
use std::ops::ControlFlow;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chess_import_fake::{FakeServer, Provider};
use pgn_reader::{RawTag, Reader, SanPlus, Visitor};
use shakmaty::fen::Fen;
use shakmaty::{CastlingMode, Chess, Position};

const BIN: &str = env!("CARGO_BIN_EXE_chess-import");
/// 2020-09-13T12:26:40Z: Lichess games start here, one a minute.
const T0: i64 = 1_600_000_000_000;
const MB: f64 = 1_000_000.0;

// ------------------------------------------------------------------------------------------------
// Options.

struct Options {
    scale: f64,
    only: Vec<String>,
}

impl Options {
    fn parse() -> Options {
        let mut scale = std::env::var("BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(1.0);
        let mut only = Vec::new();
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                // cargo bench passes `--bench`; libtest-style flags are ignored.
                "--bench" | "--nocapture" | "--exact" => {}
                "--quick" => scale = scale.min(0.1),
                "--help" | "-h" => {
                    println!(
                        "usage: cargo bench -- [--quick] [parse] [s1] [bars] [s2] [s3] [s4] [s5] [s6]\n\
                         BENCH_SCALE=F scales game and player counts (default 1; --quick = 0.1)"
                    );
                    std::process::exit(0);
                }
                other if other.starts_with('-') => {}
                other => only.push(other.to_ascii_lowercase()),
            }
        }
        Options { scale, only }
    }

    fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }

    fn n(&self, full: usize) -> usize {
        ((full as f64 * self.scale).round() as usize).max(1)
    }
}

// ------------------------------------------------------------------------------------------------
// Running the binary.

/// What one run of the binary cost.
struct Run {
    wall: Duration,
    cpu: f64,
    peak_rss_mb: f64,
    exit: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn summary(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or(serde_json::Value::Null)
    }

    fn new_games(&self) -> u64 {
        self.summary()["new_games"].as_u64().unwrap_or(0)
    }
}

/// Runs the binary; with `tty`, its stderr is a pseudo-terminal (for live bars).
fn run_binary(args: &[String], tty: bool) -> Run {
    let mut command = Command::new(BIN);
    command.args(args);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    for name in [
        "RUST_LOG",
        "NO_COLOR",
        "CHESS_IMPORT_DB",
        "LICHESS_TOKEN",
        "LICHESS_URL",
        "CHESSCOM_URL",
        "MAX_CONCURRENT_IMPORTS",
        "CHESS_IMPORT_USER_AGENT",
    ] {
        command.env_remove(name);
    }
    let mut master = None;
    if tty {
        let (m, slave) = open_pty();
        command.stderr(Stdio::from(slave));
        command.env("TERM", "xterm-256color");
        master = Some(m);
    } else {
        command.stderr(Stdio::piped());
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("start chess-import");
    // Our copy of the terminal's slave end is gone with `command`, so the master reads EOF (EIO)
    // when the child exits.
    drop(command);
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.take().expect("stdout");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = match (master, child.stderr.take()) {
        (Some(master), _) => std::thread::spawn(move || drain(std::fs::File::from(master))),
        (None, Some(stderr)) => std::thread::spawn(move || drain(stderr)),
        (None, None) => unreachable!(),
    };
    // `ru_maxrss` of a child is no use here: Linux carries the high-water mark of the process
    // that exec'ed over into the new program, and that is this (large) benchmark process. The
    // child's own mm high-water mark, VmHWM, only grows, so sampling it until exit is accurate.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let path = format!("/proc/{pid}/status");
            let mut peak_kb = 0_u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kb) = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|s| vm_hwm_kb(&s))
                {
                    peak_kb = peak_kb.max(kb);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak_kb
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (`child` is never waited on).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_kb = sampler.join().unwrap_or(0);
    drop(child);
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Run {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_mb: peak_kb as f64 * 1024.0 / MB,
        exit,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// `VmHWM` (peak resident set, KiB) from `/proc/PID/status`.
fn vm_hwm_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads `from` to its end (or an error: a pseudo-terminal ends in EIO), keeping the tail.
fn drain(mut from: impl Read) -> String {
    let mut tail = Vec::new();
    let mut buffer = vec![0; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > 256 * 1024 {
            tail.drain(..tail.len() - 64 * 1024);
        }
    }
    String::from_utf8_lossy(&tail).into_owned()
}

/// A pseudo-terminal of 160×40: (master, slave).
fn open_pty() -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 160,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors; the name buffer and termios may be null.
    let ok = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(ok, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

fn import_args(fake: &FakeServer, db: &str, progress: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "import",
        "--json",
        "--progress",
        progress,
        "--db",
        db,
        "--lichess-url",
        &fake.lichess_url(),
        "--chesscom-url",
        &fake.chesscom_url(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

// ------------------------------------------------------------------------------------------------
// Results.

struct Row {
    name: String,
    games: u64,
    wall: f64,
    bytes: u64,
    cpu: f64,
    rss: f64,
    requests: String,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    targets: Vec<(String, Option<bool>, String)>,
    notes: Vec<String>,
}

impl Report {
    fn row(&mut self, name: &str, run: &Run, games: u64, bytes: u64, requests: String) {
        self.rows.push(Row {
            name: name.to_string(),
            games,
            wall: run.wall.as_secs_f64(),
            bytes,
            cpu: run.cpu,
            rss: run.peak_rss_mb,
            requests,
        });
        println!(
            "  {name}: {games} games in {:.2} s ({:.0} games/s, {:.1} MB/s), cpu {:.2} s, peak RSS {:.1} MB, requests {}",
            run.wall.as_secs_f64(),
            games as f64 / run.wall.as_secs_f64(),
            bytes as f64 / MB / run.wall.as_secs_f64(),
            run.cpu,
            run.peak_rss_mb,
            self.rows.last().map_or("", |r| r.requests.as_str()),
        );
    }

    fn target(&mut self, name: &str, pass: bool, detail: String) {
        println!("  {} {name}: {detail}", if pass { "PASS" } else { "FAIL" });
        self.targets.push((name.to_string(), Some(pass), detail));
    }

    fn skipped(&mut self, name: &str, why: String) {
        println!("  SKIP {name}: {why}");
        self.targets.push((name.to_string(), None, why));
    }

    fn note(&mut self, text: String) {
        println!("  {text}");
        self.notes.push(text);
    }

    fn print(&self, options: &Options) {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n## Results (scale {}, {} cores, {})\n",
            options.scale,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model()
        );
        let _ = writeln!(
            out,
            "| scenario | games | wall s | games/s | MB | MB/s | CPU s | peak RSS MB | requests |"
        );
        let _ = writeln!(
            out,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        );
        for r in &self.rows {
            let per_s = |x: f64| {
                if r.wall > 0.0 { x / r.wall } else { 0.0 }
            };
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {} |",
                r.name,
                r.games,
                r.wall,
                per_s(r.games as f64),
                r.bytes as f64 / MB,
                per_s(r.bytes as f64 / MB),
                r.cpu,
                r.rss,
                r.requests
            );
        }
        let _ = writeln!(out, "\n| target | result | measured |\n| --- | --- | --- |");
        for (name, pass, detail) in &self.targets {
            let verdict = match pass {
                Some(true) => "PASS",
                Some(false) => "FAIL",
                None => "SKIP",
            };
            let _ = writeln!(out, "| {name} | {verdict} | {detail} |");
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        println!("{out}");
        let failed = self.targets.iter().filter(|t| t.1 == Some(false)).count();
        let passed = self.targets.iter().filter(|t| t.1 == Some(true)).count();
        let skipped = self.targets.iter().filter(|t| t.1.is_none()).count();
        println!("targets: {passed} passed, {failed} failed, {skipped} skipped");
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn requests_text(fake: &FakeServer) -> String {
    let lichess = fake.requests_for(Provider::Lichess).len();
    let chesscom = fake.requests_for(Provider::Chesscom).len();
    match (lichess, chesscom) {
        (l, 0) => format!("{l}"),
        (0, c) => format!("{c}"),
        (l, c) => format!("{} ({l} Lichess + {c} Chess.com)", l + c),
    }
}

/// Fails the scenario loudly when the binary did not import what it should have.
fn check_run(report: &mut Report, name: &str, run: &Run, expected_new: u64) -> bool {
    let new = run.new_games();
    if run.exit != 0 || new != expected_new {
        let tail: String = run
            .stderr
            .lines()
            .rev()
            .take(8)
            .collect::<Vec<_>>()
            .join(" / ");
        report.target(
            &format!("{name}: imports every game"),
            false,
            format!(
                "exit {}, {new} of {expected_new} new games; stderr: {tail}",
                run.exit
            ),
        );
        return false;
    }
    true
}

// ------------------------------------------------------------------------------------------------
// The parse-only reference: pgn-reader and shakmaty alone, in process.

/// pgn-reader's own `validate` example: tags, then every SAN played on a position.
struct Validator;

impl Visitor for Validator {
    type Tags = Option<Chess>;
    type Movetext = Chess;
    type Output = bool;

    fn begin_tags(&mut self) -> ControlFlow<bool, Option<Chess>> {
        ControlFlow::Continue(None)
    }

    fn tag(
        &mut self,
        tags: &mut Option<Chess>,
        name: &[u8],
        value: RawTag<'_>,
    ) -> ControlFlow<bool> {
        if name == b"FEN" {
            let Ok(pos) = Fen::from_ascii(value.as_bytes())
                .map_err(drop)
                .and_then(|fen| fen.into_position(CastlingMode::Chess960).map_err(drop))
            else {
                return ControlFlow::Break(false);
            };
            *tags = Some(pos);
        }
        ControlFlow::Continue(())
    }

    fn begin_movetext(&mut self, tags: Option<Chess>) -> ControlFlow<bool, Chess> {
        ControlFlow::Continue(tags.unwrap_or_default())
    }

    fn san(&mut self, pos: &mut Chess, san_plus: SanPlus) -> ControlFlow<bool> {
        match san_plus.san.to_move(pos) {
            Ok(m) => {
                pos.play_unchecked(m);
                ControlFlow::Continue(())
            }
            Err(_) => ControlFlow::Break(false),
        }
    }

    fn end_game(&mut self, _pos: Chess) -> bool {
        true
    }
}

/// Games per second of pgn-reader validating `pgns` as one PGN file, best of three.
fn parse_only(pgns: &[u8], games: usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut valid = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let mut reader = Reader::new(pgns);
        valid = 0;
        while let Ok(Some(ok)) = reader.read_game(&mut Validator) {
            valid += usize::from(ok);
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    (games as f64 / best, valid)
}

/// Games per second of this crate's own `pgn::complete` over the same games, best of three.
fn complete_only(pgns: &[String]) -> f64 {
    use chess_import::game::GameRecord;
    use chess_import::player::Platform;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut records: Vec<GameRecord> = pgns
            .iter()
            .map(|pgn| GameRecord::new(Platform::Lichess, "id", pgn.as_str()))
            .collect();
        let started = Instant::now();
        for record in &mut records {
            chess_import::pgn::complete(record);
        }
        best = best.min(started.elapsed().as_secs_f64());
        std::hint::black_box(&records);
    }
    pgns.len() as f64 / best
}

// ------------------------------------------------------------------------------------------------
// Scenarios.

struct Lichess {
    name: String,
    games: u64,
    bytes: u64,
}

/// A Lichess player with `n` games; returns its name, game count, served NDJSON bytes and the
/// PGNs when `keep_pgns`.
fn lichess_player(
    fake: &FakeServer,
    name: &str,
    n: usize,
    keep_pgns: bool,
) -> (Lichess, Vec<String>) {
    let ids = fake.add_lichess_games(name, n, T0, 60_000);
    let mut bytes = 0;
    let mut pgns = Vec::new();
    for id in &ids {
        let line = fake.lichess_game_json(id).unwrap_or_default();
        bytes += line.len() as u64 + 1;
        if keep_pgns {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            pgns.push(value["pgn"].as_str().unwrap_or_default().to_string());
        }
    }
    let player = Lichess {
        name: name.to_string(),
        games: ids.len() as u64,
        bytes,
    };
    (player, pgns)
}

/// A Chess.com player with `months` monthly archives of `per_month` games, from 2021/01 on;
/// returns the game count and the served JSON bytes.
fn chesscom_player(fake: &FakeServer, name: &str, months: usize, per_month: usize) -> (u64, u64) {
    let mut games = 0;
    let mut bytes = 0;
    for index in 0..months {
        let (year, month) = (2021 + (index / 12) as i32, (index % 12) as u32 + 1);
        let uuids = fake.add_chesscom_games(name, year, month, per_month);
        games += uuids.len() as u64;
        bytes += 11; // {"games":[ and ]}
        for uuid in &uuids {
            bytes += fake
                .chesscom_game_json(uuid)
                .map_or(0, |j| j.len() as u64 + 1);
        }
    }
    (games, bytes)
}

fn fresh_db(dir: &Path, name: &str) -> String {
    let path: PathBuf = dir.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path.display().to_string()
}

fn run_scenario(fake: &FakeServer, args: Vec<String>, tty: bool) -> Run {
    fake.wait_idle(Duration::from_secs(10));
    fake.clear_requests();
    fake.reset_meters();
    run_binary(&args, tty)
}

fn main() {
    let options = Options::parse();
    let dir = tempfile::Builder::new()
        .prefix("chess-import-bench")
        .tempdir()
        .expect("temporary directory");
    let mut report = Report::default();
    println!(
        "chess-import benchmark: {BIN}\nscale {} (BENCH_SCALE / --quick); scenarios: {}",
        options.scale,
        if options.only.is_empty() {
            "all".to_string()
        } else {
            options.only.join(" ")
        }
    );
    let fake = FakeServer::start();

    // Scenario 1's player, and a tenth of it to show that memory does not grow with the games.
    let n1 = options.n(100_000);
    let wants_s1 = options.wants("s1") || options.wants("parse") || options.wants("bars");
    let mut s1_rate = None;
    if wants_s1 {
        println!("\n[s1] one Lichess player, {n1} games, into a fresh SQLite file");
        let started = Instant::now();
        let (big, pgns) = lichess_player(&fake, "bench_big", n1, true);
        let (small, _) = lichess_player(&fake, "bench_small", (n1 / 10).max(1), false);
        println!(
            "  (fake: {} + {} games generated in {:.1} s, {:.1} KB a game)",
            big.games,
            small.games,
            started.elapsed().as_secs_f64(),
            big.bytes as f64 / big.games as f64 / 1000.0
        );

        let mut parse_rate = None;
        if options.wants("parse") || options.wants("s1") {
            let mut file = Vec::with_capacity(pgns.iter().map(|p| p.len() + 2).sum());
            for pgn in &pgns {
                file.extend_from_slice(pgn.trim_end().as_bytes());
                file.extend_from_slice(b"\n\n");
            }
            let (rate, valid) = parse_only(&file, pgns.len());
            let ours = complete_only(&pgns);
            report.note(format!(
                "Parse-only reference (pgn-reader + shakmaty validating the same {} PGNs in \
                 process, one thread): {rate:.0} games/s, {:.0} MB/s of PGN ({valid} valid); \
                 this crate's pgn::complete alone: {ours:.0} games/s.",
                pgns.len(),
                rate * file.len() as f64 / pgns.len() as f64 / MB
            ));
            parse_rate = Some(rate);
        }
        drop(pgns);

        if options.wants("s1") {
            let mut rss = Vec::new();
            for player in [&small, &big] {
                let spec = format!("lichess:{}", player.name);
                // Best of three, like the parse-only reference: the machine may be shared.
                let run = (0..3)
                    .map(|_| {
                        let db = fresh_db(dir.path(), &player.name);
                        run_scenario(&fake, import_args(&fake, &db, "none", &[&spec]), false)
                    })
                    .min_by(|a, b| a.wall.cmp(&b.wall))
                    .expect("three runs");
                let label = if player.name == "bench_big" {
                    "1 Lichess → SQLite".to_string()
                } else {
                    format!("1 Lichess → SQLite ({} games)", player.games)
                };
                if check_run(&mut report, &label, &run, player.games) {
                    report.row(
                        &label,
                        &run,
                        player.games,
                        player.bytes,
                        requests_text(&fake),
                    );
                    rss.push(run.peak_rss_mb);
                    if player.name == "bench_big" {
                        s1_rate = Some(player.games as f64 / run.wall.as_secs_f64());
                    }
                }
            }
            if let Some(rate) = s1_rate {
                report.target(
                    "s1 ≥ 30,000 games/s",
                    rate >= 30_000.0,
                    format!("{rate:.0} games/s"),
                );
                if let Some(parse) = parse_rate {
                    let ratio = rate / parse;
                    report.target(
                        "s1 ≥ 35% of parse-only",
                        ratio >= 0.35,
                        format!("{:.0}% ({rate:.0} / {parse:.0} games/s)", ratio * 100.0),
                    );
                }
            }
            if let [small_rss, big_rss] = rss[..] {
                report.target(
                    "s1 peak RSS < 64 MB",
                    big_rss < 64.0,
                    format!("{big_rss:.1} MB"),
                );
                report.target(
                    "s1 RSS flat (10× games < +10 MB)",
                    (big_rss - small_rss).abs() < 10.0,
                    format!("{small_rss:.1} MB → {big_rss:.1} MB"),
                );
            }
        }

        if options.wants("bars") {
            println!("\n[bars] scenario 1 with live bars on a pseudo-terminal vs --progress none");
            let mut walls = Vec::new();
            let mut runs: Vec<Vec<(Run, String)>> = vec![Vec::new(), Vec::new()];
            // Alternating runs, best of three each: a single pair is within the noise of a
            // shared machine.
            for _ in 0..3 {
                for (index, (progress, tty)) in
                    [("none", false), ("bars", true)].into_iter().enumerate()
                {
                    let db = fresh_db(dir.path(), &format!("bars_{progress}"));
                    let run = run_scenario(
                        &fake,
                        import_args(&fake, &db, progress, &["lichess:bench_big"]),
                        tty,
                    );
                    runs[index].push((run, requests_text(&fake)));
                }
            }
            for ((progress, tty), runs) in [("none", false), ("bars", true)].into_iter().zip(runs) {
                let (run, requests) = runs
                    .into_iter()
                    .min_by(|a, b| a.0.wall.cmp(&b.0.wall))
                    .expect("three runs");
                let label = format!(
                    "1 Lichess → SQLite, --progress {progress}{}",
                    if tty { " (tty)" } else { "" }
                );
                if check_run(&mut report, &label, &run, big.games) {
                    report.row(&label, &run, big.games, big.bytes, requests);
                    walls.push(run.wall.as_secs_f64());
                }
            }
            if let [none, bars] = walls[..] {
                let diff = (bars - none) / none;
                report.target(
                    "bars within 5% of --progress none",
                    diff <= 0.05,
                    format!("{:+.1}% ({bars:.2} s vs {none:.2} s)", diff * 100.0),
                );
            }
        }
    }

    if options.wants("s2") {
        let months = 60;
        let per_month = options.n(1_000);
        println!("\n[s2] one Chess.com player, {months} months of {per_month} games");
        let started = Instant::now();
        let (big_games, big_bytes) = chesscom_player(&fake, "bench_cbig", months, per_month);
        let (small_games, small_bytes) = chesscom_player(&fake, "bench_csmall", 10, per_month);
        println!(
            "  (fake: {} + {} games generated in {:.1} s)",
            big_games,
            small_games,
            started.elapsed().as_secs_f64()
        );
        let mut rss = Vec::new();
        for (name, games, bytes, label) in [
            (
                "bench_csmall",
                small_games,
                small_bytes,
                "1 Chess.com → SQLite (10 months)",
            ),
            (
                "bench_cbig",
                big_games,
                big_bytes,
                "1 Chess.com → SQLite (60 months)",
            ),
        ] {
            let db = fresh_db(dir.path(), name);
            let spec = format!("chesscom:{name}");
            let run = run_scenario(&fake, import_args(&fake, &db, "none", &[&spec]), false);
            if check_run(&mut report, label, &run, games) {
                report.row(label, &run, games, bytes, requests_text(&fake));
                rss.push(run.peak_rss_mb);
            }
        }
        if let [small_rss, big_rss] = rss[..] {
            report.target(
                "s2 peak RSS < 64 MB",
                big_rss < 64.0,
                format!("{big_rss:.1} MB"),
            );
            report.target(
                "s2 RSS flat (6× games < +10 MB)",
                (big_rss - small_rss).abs() < 10.0,
                format!("{small_rss:.1} MB → {big_rss:.1} MB"),
            );
        }
    }

    if options.wants("s3") || options.wants("s4") {
        let per_platform = options.n(500);
        let games_each = 50;
        println!(
            "\n[s3] {} players ({per_platform} per platform), {games_each} games each",
            per_platform * 2
        );
        let mut list = String::new();
        let mut games = 0;
        let mut bytes = 0;
        for index in 0..per_platform {
            let lichess = format!("bench_l{index:04}");
            let (player, _) = lichess_player(&fake, &lichess, games_each, false);
            games += player.games;
            bytes += player.bytes;
            let chesscom = format!("bench_c{index:04}");
            let (g, b) = chesscom_player(&fake, &chesscom, 2, games_each / 2);
            games += g;
            bytes += b;
            let _ = writeln!(list, "lichess:{lichess}\nchesscom:{chesscom}");
        }
        let players = dir.path().join("players.txt");
        std::fs::write(&players, list).expect("write the player list");
        let players = players.display().to_string();
        let db = fresh_db(dir.path(), "many");
        let run = run_scenario(
            &fake,
            import_args(&fake, &db, "none", &["-f", &players]),
            false,
        );
        let label = format!("{} players × {games_each} games", per_platform * 2);
        if check_run(&mut report, &label, &run, games) {
            report.row(&label, &run, games, bytes, requests_text(&fake));
        }

        println!("\n[s4] the same players again, nothing new");
        let run = run_scenario(
            &fake,
            import_args(&fake, &db, "none", &["-f", &players]),
            false,
        );
        let lichess = fake.requests_for(Provider::Lichess).len();
        let chesscom = fake.requests_for(Provider::Chesscom).len();
        let label = format!("{} players, incremental (nothing new)", per_platform * 2);
        if check_run(&mut report, &label, &run, 0) {
            report.row(&label, &run, 0, 0, requests_text(&fake));
            let per_l = lichess as f64 / per_platform as f64;
            let per_c = chesscom as f64 / per_platform as f64;
            report.target(
                "s4 ≤ 1 request per Lichess player",
                per_l <= 1.0,
                format!("{per_l:.2}"),
            );
            report.target(
                "s4 ≤ 2 requests per Chess.com player",
                per_c <= 2.0,
                format!("{per_c:.2}"),
            );
            let wall = run.wall.as_secs_f64();
            report.target("s4 < 5 s", wall < 5.0, format!("{wall:.2} s"));
        }
    }

    if options.wants("s5") {
        println!("\n[s5] scenario 1 into PostgreSQL");
        postgres_scenario(&fake, &options, &mut report);
    }

    if options.wants("s6") {
        throttled_scenario(&fake, &mut report);
    }

    report.print(&options);
}

/// Scenario 5: scenario 1's player into PostgreSQL, on `CHESS_IMPORT_TEST_PG` or a throwaway
/// server from `.ci/start-postgres` where PostgreSQL is installed; skipped, saying why, otherwise.
fn postgres_scenario(fake: &FakeServer, options: &Options, report: &mut Report) {
    let mut stop = None;
    let admin = match std::env::var("CHESS_IMPORT_TEST_PG") {
        Ok(url) if !url.is_empty() => url,
        _ => match start_postgres() {
            Ok((url, stopper)) => {
                stop = Some(stopper);
                url
            }
            Err(why) => {
                report.skipped("s5 PostgreSQL", why);
                return;
            }
        },
    };
    let database = format!("bench_{:08x}", fastrand::u32(..));
    let target = match create_database(&admin, &database) {
        Ok(url) => url,
        Err(why) => {
            report.skipped("s5 PostgreSQL", format!("cannot create a database: {why}"));
            if let Some(stop) = stop {
                let _ = Command::new(stop).status();
            }
            return;
        }
    };
    let name = "bench_pg";
    let (player, _) = lichess_player(fake, name, options.n(100_000), false);
    let run = run_scenario(
        fake,
        import_args(fake, &target, "none", &[&format!("lichess:{name}")]),
        false,
    );
    if check_run(report, "1 Lichess → PostgreSQL", &run, player.games) {
        report.row(
            "1 Lichess → PostgreSQL",
            &run,
            player.games,
            player.bytes,
            requests_text(fake),
        );
    }
    if let Some(stop) = stop {
        let _ = Command::new(stop).status();
    }
}

/// Starts a throwaway server with the PostgreSQL already installed (a benchmark installs
/// nothing); returns its admin URL and the script that stops it.
fn start_postgres() -> Result<(String, String), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/start-postgres");
    let dir = std::env::temp_dir().join(format!("chess-import-bench-pg-{}", std::process::id()));
    let output = Command::new("bash")
        .arg(&script)
        .arg("--no-install")
        .arg(&dir)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    // What it did to the system (as root: a temporary user) is for the reader to see.
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in stderr.lines() {
        println!("  {line}");
    }
    if !output.status.success() {
        return Err(format!(
            "CHESS_IMPORT_TEST_PG is not set and .ci/start-postgres --no-install failed: {}",
            stderr.lines().last().unwrap_or("no output")
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = |name: &str| {
        stdout.lines().find_map(|line| {
            let rest = line.strip_prefix(&format!("export {name}="))?;
            Some(rest.trim_matches('\'').to_string())
        })
    };
    match (value("CHESS_IMPORT_TEST_PG"), value("CHESS_IMPORT_PG_STOP")) {
        (Some(url), Some(stop)) => Ok((url, stop)),
        _ => Err(".ci/start-postgres printed no URL".into()),
    }
}

/// Creates `database` through the admin URL; returns the URL of the new database.
fn create_database(admin: &str, database: &str) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let config: tokio_postgres::Config = admin.parse().map_err(|e| format!("{e}"))?;
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("{e}"))?;
        let connection = tokio::spawn(connection);
        let created = client
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .map_err(|e| format!("{e}"));
        drop(client);
        let _ = connection.await;
        created
    })?;
    // Replace the path (the database name) of the URL, keeping any query string.
    let (head, query) = admin.split_at(admin.find('?').unwrap_or(admin.len()));
    let authority = head.find("://").map_or(0, |i| i + 3);
    let path = head[authority..]
        .find('/')
        .map_or(head.len(), |i| authority + i);
    Ok(format!("{}/{database}{query}", &head[..path]))
}

/// Scenario 6: both providers throttled; the run should take what the slower lane imposes.
fn throttled_scenario(fake: &FakeServer, report: &mut Report) {
    const PLAYERS: usize = 10;
    const LICHESS_GAMES: usize = 20;
    const RATE: f64 = 20.0;
    const MONTHS: usize = 6;
    const PER_MONTH: usize = 10;
    const LATENCY: Duration = Duration::from_millis(200);
    const IN_FLIGHT: usize = 2;
    println!(
        "\n[s6] throttled: {PLAYERS} Lichess players × {LICHESS_GAMES} games at {RATE} games/s, \
         {PLAYERS} Chess.com players × {MONTHS} months with {} ms latency",
        LATENCY.as_millis()
    );
    let mut args = Vec::new();
    let mut games = 0;
    let mut bytes = 0;
    for index in 0..PLAYERS {
        let (player, _) = lichess_player(fake, &format!("bench_tl{index}"), LICHESS_GAMES, false);
        games += player.games;
        bytes += player.bytes;
        args.push(format!("lichess:{}", player.name));
    }
    for index in 0..PLAYERS {
        let name = format!("bench_tc{index}");
        let (g, b) = chesscom_player(fake, &name, MONTHS, PER_MONTH);
        games += g;
        bytes += b;
        args.push(format!("chesscom:{name}"));
    }
    // The Lichess lane streams one export at a time, at the fake's pace; Chess.com answers each
    // request (archive list, then each month) after the latency, two at a time.
    let lichess_min = (PLAYERS * LICHESS_GAMES) as f64 / RATE;
    let chesscom_requests = PLAYERS * (1 + MONTHS);
    let chesscom_min = chesscom_requests.div_ceil(IN_FLIGHT) as f64 * LATENCY.as_secs_f64();
    let minimum = lichess_min.max(chesscom_min);
    fake.set_lichess_rate(Some(RATE));
    fake.set_chesscom_latency(LATENCY);
    let db = fresh_db(
        Path::new(&std::env::temp_dir()),
        &format!("chess-import-bench-s6-{}", std::process::id()),
    );
    let players: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_scenario(fake, import_args(fake, &db, "none", &players), false);
    fake.set_lichess_rate(None);
    fake.set_chesscom_latency(Duration::ZERO);
    let _ = std::fs::remove_file(&db);
    let _ = std::fs::remove_file(format!("{db}-wal"));
    let _ = std::fs::remove_file(format!("{db}-shm"));
    let label = "throttled, 10+10 players";
    if check_run(report, label, &run, games) {
        report.row(label, &run, games, bytes, requests_text(fake));
        let wall = run.wall.as_secs_f64();
        report.target(
            "s6 within 10% of the provider minimum",
            wall <= minimum * 1.10,
            format!(
                "{wall:.2} s vs minimum {minimum:.2} s (Lichess lane {lichess_min:.1} s, Chess.com \
                 lane {chesscom_min:.1} s; one after the other {:.1} s): {:+.1}%",
                lichess_min + chesscom_min,
                (wall / minimum - 1.0) * 100.0
            ),
        );
        let throttled = fake.served_429(Provider::Lichess) + fake.served_429(Provider::Chesscom);
        report.target(
            "s6 zero 429s",
            throttled == 0,
            format!("{throttled} served"),
        );
    }
}
