//! The live bars, on a pseudo-terminal: `import` in `auto` mode draws a header and a line per
//! player while it works, and leaves each player's result line and the summary on the screen.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use chess_import_fake::{FakeServer, Fault, Matcher, Provider};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::support::cli::ENV_SETTINGS;

const T0: i64 = 1_700_000_000_000;
const ROWS: u16 = 40;

/// What the terminal showed: every screen seen while the output arrived, each as its rows, and
/// the last one as text.
struct Terminal {
    screens: Vec<Vec<String>>,
    last: String,
    raw: Vec<u8>,
    code: u32,
}

/// The terminal a run draws on.
struct Setup {
    cols: u16,
    color: bool,
    /// Types Ctrl-C once a screen contains this text, as a user at the keyboard would.
    interrupt_on: Option<&'static str>,
}

impl Setup {
    fn cols(cols: u16) -> Self {
        Setup {
            cols,
            color: true,
            interrupt_on: None,
        }
    }
}

/// Runs `import` against `fake` with `args` on a pseudo-terminal, and emulates the terminal it
/// draws on.
fn on_a_terminal(fake: &FakeServer, args: &[&str], setup: Setup) -> Terminal {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: setup.cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_chess-import"));
    command.arg("import");
    command.args(["--lichess-url", &fake.lichess_url()]);
    command.args(["--chesscom-url", &fake.chesscom_url()]);
    command.args(args);
    command.arg("--db");
    command.arg(dir.path().join("games.sqlite"));
    command.cwd(dir.path());
    command.env("TERM", "xterm-256color");
    for name in ENV_SETTINGS
        .into_iter()
        .chain(["CLICOLOR", "COLUMNS", "LINES"])
    {
        command.env_remove(name);
    }
    if !setup.color {
        command.env("NO_COLOR", "1");
    }
    let mut child = pty
        .slave
        .spawn_command(command)
        .expect("start chess-import");
    // The child holds the terminal now; our copy of its end would keep the output open.
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("read the terminal");
    let mut keyboard = pty.master.take_writer().expect("type on the terminal");
    let cols = setup.cols;
    let mut interrupt_on = setup.interrupt_on;
    let output = std::thread::spawn(move || {
        let size = |n| std::num::NonZeroU16::new(n).expect("a terminal size");
        let mut parser = vt100::Parser::new(size(ROWS), size(cols), 0);
        let mut screens = Vec::new();
        let mut raw = Vec::new();
        let mut chunk = [0; 4096];
        // Linux answers EIO once the child has closed the terminal: that is the end.
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            raw.extend_from_slice(&chunk[..n]);
            parser.process(&chunk[..n]);
            let screen: Vec<String> = parser.screen().rows(0, cols).collect();
            if interrupt_on.is_some_and(|text| screen.iter().any(|row| row.contains(text))) {
                // The terminal's line discipline turns ETX into SIGINT, and echoes `^C`.
                keyboard.write_all(b"\x03").expect("type Ctrl-C");
                interrupt_on = None;
            }
            screens.push(screen);
        }
        (screens, parser.screen().contents(), raw)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chess-import") {
            break status;
        }
        assert!(Instant::now() < deadline, "chess-import did not finish");
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(pty.master);
    let (screens, last, raw) = output.join().expect("the reader thread");
    Terminal {
        screens,
        last,
        raw,
        code: status.exit_code(),
    }
}

/// Alice and Carol on Lichess, Bob on Chess.com (three months), a Chess.com player who does not
/// exist and one whom Chess.com never serves (a long error); two at a time, slow enough for
/// several redraws while each player is fetched.
fn five_players_on_a_terminal(cols: u16) -> Terminal {
    let fake = FakeServer::start();
    fake.set_lichess_rate(Some(40.0));
    fake.add_lichess_games("alice", 30, T0, 60_000);
    fake.add_lichess_games("carol", 20, T0, 60_000);
    fake.set_chesscom_latency(Duration::from_millis(150));
    fake.add_chesscom_games("bob", 2024, 1, 3);
    fake.add_chesscom_games("bob", 2024, 2, 3);
    fake.add_chesscom_games("bob", 2024, 3, 3);
    fake.add_chesscom_games("dave", 2024, 1, 3);
    fake.push_fault_n(
        Provider::Chesscom,
        Matcher::user("dave"),
        Fault::ServiceUnavailable,
        100,
    );
    on_a_terminal(
        &fake,
        &[
            "--retry-backoff",
            "10ms",
            "--jobs",
            "2",
            "lichess:alice",
            "lichess:carol",
            "chesscom:bob",
            "chesscom:nobody",
            "chesscom:dave",
        ],
        Setup::cols(cols),
    )
}

impl Terminal {
    /// Whether any screen seen has a row for which `what` holds.
    fn saw_line(&self, what: impl Fn(&str) -> bool) -> bool {
        self.screens.iter().flatten().any(|row| what(row))
    }

    /// indicatif ends each line by filling it to the last column, so the terminal's own mark of
    /// a wrapped row says nothing; a line too long for the terminal shows instead as a row that
    /// starts with its tail. Every row must start a line the program prints.
    fn assert_nothing_wrapped(&self) {
        let player = |row: &str| ["lichess:", "chesscom:"].iter().any(|p| row.starts_with(p));
        let starts_a_line = |row: &str| {
            // The terminal's echo of Ctrl-C, until the next redraw.
            let row = row.strip_prefix("^C").unwrap_or(row);
            let live = row.strip_prefix("  ");
            row.trim().is_empty()
                || live.is_some_and(|rest| player(rest) || rest.starts_with("… "))
                || [
                    "importing · ",
                    "lichess ",
                    "chesscom ",
                    "interrupted: ",
                    "player ",
                ]
                .iter()
                .chain(&["✔ ", "✘ ", "– "])
                .any(|start| row.starts_with(start))
                || player(row)
                || row.contains(" new games from ")
        };
        for screen in &self.screens {
            for row in screen {
                assert!(
                    starts_a_line(row),
                    "a row carrying on a line too wide: {row:?} in {screen:#?}"
                );
            }
        }
    }

    fn assert_results_and_summary(&self) {
        assert_eq!(self.code, 1, "{}", self.last);
        let last = &self.last;
        for result in [
            "✔ lichess:alice  30 new · 0 dup · 0 invalid · ",
            "✔ lichess:carol  20 new · 0 dup · 0 invalid · ",
            "✔ chesscom:bob  9 new · 0 dup · 0 invalid · ",
            "✘ chesscom:nobody  user not found",
            "✘ chesscom:dave  archive list: HTTP 503 Service Unavailable after 5 tries",
        ] {
            // On a terminal, lines carry no timestamp.
            assert!(
                last.lines().any(|line| line.starts_with(result)),
                "{result:?} not starting a line of the final screen:\n{last}"
            );
        }
        assert!(
            last.contains("59 new games from 5 players; 2 failed in "),
            "{last}"
        );
        // The live area is gone: no header, no running or queued line left behind.
        assert!(!last.contains("1/1 ·"), "{last}");
        assert!(
            !last.contains("fetching") && !last.contains("queued"),
            "{last}"
        );
    }
}

#[test]
fn bars_show_each_player_then_leave_result_lines() {
    let terminal = five_players_on_a_terminal(200);
    // Lichess serves one player at a time; Chess.com gets the other job slot.
    assert!(
        terminal.saw_line(|l| l.starts_with("importing · lichess 1/1 · chesscom ")
            && l.contains(" queued · ")
            && l.contains(" done · ")
            && l.contains(" failed · ")
            && l.contains(" games stored · ")
            && l.contains("/s · ")),
        "no header in {:#?}",
        terminal.screens
    );
    // Alice's line: her state, games so far, her rate and a bar towards her profile's 30 games.
    // The writer may lag behind the download on a busy machine: either state will do.
    assert!(
        terminal.saw_line(|l| l.contains("lichess:alice")
            && (l.contains("fetching") || l.contains("writing"))
            && l.contains(" games ")
            && l.contains("/s  [")
            && l.contains("% eta ")),
        "no bar for alice in {:#?}",
        terminal.screens
    );
    // Carol waits for the one Lichess stream while alice has it.
    assert!(
        terminal.saw_line(|l| l.contains("lichess:carol") && l.trim_end().ends_with("queued")),
        "carol never shown queued in {:#?}",
        terminal.screens
    );
    // Bob's bar counts months.
    assert!(
        terminal.saw_line(|l| l.contains("chesscom:bob") && l.contains("%")),
        "no bar for bob in {:#?}",
        terminal.screens
    );
    terminal.assert_nothing_wrapped();
    terminal.assert_results_and_summary();
    // On a wide terminal, the summary keeps the whole error.
    assert!(
        terminal
            .last
            .contains("  archive list: HTTP 503 Service Unavailable after 5 tries\n"),
        "{}",
        terminal.last
    );
    // Colours are on for a terminal: the result marks are green and red.
    let raw = String::from_utf8_lossy(&terminal.raw);
    assert!(raw.contains("\x1b[32m✔\x1b[0m lichess:alice"), "{raw:?}");
    assert!(raw.contains("\x1b[31m✘\x1b[0m chesscom:nobody"), "{raw:?}");
}

#[test]
fn on_80_columns_the_lines_are_shortened_never_wrapped() {
    let terminal = five_players_on_a_terminal(80);
    terminal.assert_nothing_wrapped();
    assert!(
        terminal.saw_line(|l| l.starts_with("lichess 1/1 · chesscom ") && l.contains(" queued")),
        "no header in {:#?}",
        terminal.screens
    );
    assert!(
        terminal
            .saw_line(|l| l.contains("lichess:alice") && l.contains(" games ") && l.contains("%")),
        "no progress for alice in {:#?}",
        terminal.screens
    );
    terminal.assert_results_and_summary();
    // The summary fits: the error is cut, not wrapped (the result line above keeps it whole).
    assert!(
        terminal.last.contains("  archive list: HTTP 503…\n"),
        "{}",
        terminal.last
    );
}

#[test]
fn no_color_turns_colours_off_but_keeps_the_bars() {
    let fake = FakeServer::start();
    fake.set_lichess_rate(Some(40.0));
    fake.add_lichess_games("alice", 20, T0, 60_000);
    let terminal = on_a_terminal(
        &fake,
        &["lichess:alice"],
        Setup {
            color: false,
            ..Setup::cols(160)
        },
    );
    assert_eq!(terminal.code, 0, "{}", terminal.last);
    assert!(
        terminal.saw_line(|l| l.starts_with("importing · lichess 1/1 · 0 queued")),
        "{:#?}",
        terminal.screens
    );
    assert!(
        terminal.last.contains("✔ lichess:alice  20 new"),
        "{}",
        terminal.last
    );
    let raw = String::from_utf8_lossy(&terminal.raw);
    assert!(!raw.contains("\x1b[32m"), "{raw:?}");
}

#[test]
fn quiet_draws_no_bars_even_on_a_terminal() {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 5, T0, 60_000);
    let terminal = on_a_terminal(&fake, &["-q", "lichess:alice"], Setup::cols(160));
    assert_eq!(terminal.code, 0, "{}", terminal.last);
    assert!(
        !terminal.saw_line(|row| row.contains("1/1 ·")),
        "{:#?}",
        terminal.screens
    );
    assert!(!terminal.last.contains("✔"), "{}", terminal.last);
    assert!(
        terminal
            .last
            .contains("5 new games from 1 player; 0 failed")
    );
}

/// The terminal echoes Ctrl-C as `^C`, right where the live area's cursor is.
#[test]
fn ctrl_c_leaves_no_live_line_behind() {
    let fake = FakeServer::start();
    fake.set_lichess_rate(Some(20.0));
    fake.add_lichess_games("alice", 600, T0, 60_000);
    fake.add_chesscom_games("bob", 2024, 1, 3);
    let terminal = on_a_terminal(
        &fake,
        &["lichess:alice", "chesscom:bob"],
        Setup {
            interrupt_on: Some("lichess:alice  "),
            ..Setup::cols(100)
        },
    );
    assert_eq!(terminal.code, 130, "{}", terminal.last);
    let last = &terminal.last;
    assert!(
        last.contains("interrupted: finishing what is in flight"),
        "{last}"
    );
    assert!(last.contains("; 0 failed, interrupted in "), "{last}");
    assert!(
        !last.contains("1/1 ·") && !last.contains("fetching"),
        "{last}"
    );
    terminal.assert_nothing_wrapped();
}
