//! The live bars, on a pseudo-terminal: `import` in `auto` mode draws a header and a line per
//! player while it works, and leaves each player's result line and the summary on the screen.

use std::io::Read;
use std::time::{Duration, Instant};

use chess_import_fake::FakeServer;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use crate::support::cli::ENV_SETTINGS;

const T0: i64 = 1_700_000_000_000;
const ROWS: u16 = 40;
const COLS: u16 = 160;

/// What the terminal showed: every screen seen while the output arrived, and the last one.
struct Terminal {
    screens: Vec<String>,
    last: String,
    raw: Vec<u8>,
    code: u32,
}

/// Runs the binary with `args` on a pseudo-terminal and emulates the terminal it draws on.
fn on_a_terminal(args: &[&str], color: bool) -> Terminal {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pseudo-terminal");
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_chess-import"));
    command.args(args);
    command.arg("--db");
    command.arg(dir.path().join("games.sqlite"));
    command.cwd(dir.path());
    command.env("TERM", "xterm-256color");
    for name in ENV_SETTINGS.into_iter().chain(["CLICOLOR"]) {
        command.env_remove(name);
    }
    if !color {
        command.env("NO_COLOR", "1");
    }
    let mut child = pty
        .slave
        .spawn_command(command)
        .expect("start chess-import");
    // The child holds the terminal now; our copy of its end would keep the output open.
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("read the terminal");
    let output = std::thread::spawn(move || {
        let size = |n| std::num::NonZeroU16::new(n).expect("a terminal size");
        let mut parser = vt100::Parser::new(size(ROWS), size(COLS), 0);
        let mut screens = Vec::new();
        let mut raw = Vec::new();
        let mut chunk = [0; 4096];
        // Linux answers EIO once the child has closed the terminal: that is the end.
        while let Ok(n @ 1..) = reader.read(&mut chunk) {
            raw.extend_from_slice(&chunk[..n]);
            parser.process(&chunk[..n]);
            screens.push(parser.screen().contents());
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

#[test]
fn bars_show_each_player_then_leave_result_lines() {
    let fake = FakeServer::start();
    // Slow enough for several redraws while each player is fetched.
    fake.set_lichess_rate(Some(40.0));
    fake.add_lichess_games("alice", 30, T0, 60_000);
    fake.add_lichess_games("carol", 20, T0, 60_000);
    fake.set_chesscom_latency(Duration::from_millis(150));
    fake.add_chesscom_games("bob", 2024, 1, 3);
    fake.add_chesscom_games("bob", 2024, 2, 3);
    fake.add_chesscom_games("bob", 2024, 3, 3);
    let terminal = on_a_terminal(
        &[
            "import",
            "--lichess-url",
            &fake.lichess_url(),
            "--chesscom-url",
            &fake.chesscom_url(),
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
        true,
    );
    let saw = |what: &dyn Fn(&str) -> bool| terminal.screens.iter().any(|s| what(s));
    let lines = |screen: &str| screen.lines().map(str::to_string).collect::<Vec<_>>();
    assert!(
        saw(&|s| s.contains("importing · 2/2 busy · ")),
        "no header in {:#?}",
        terminal.screens
    );
    // Alice's line: her state, games so far and a bar towards her profile's 30 games. While
    // the writer has not caught up with what was fetched, the state reads "writing".
    assert!(
        saw(&|s| lines(s).iter().any(|l| l.contains("lichess:alice")
            && (l.contains("fetching") || l.contains("writing"))
            && l.contains(" games ")
            && l.contains("% eta "))),
        "no bar for alice in {:#?}",
        terminal.screens
    );
    // Carol waits for the one Lichess stream while alice has it.
    assert!(
        saw(&|s| lines(s)
            .iter()
            .any(|l| l.contains("lichess:carol") && l.trim_end().ends_with("queued"))),
        "carol never shown queued in {:#?}",
        terminal.screens
    );
    // Bob's bar counts months.
    assert!(
        saw(&|s| lines(s)
            .iter()
            .any(|l| l.contains("chesscom:bob") && l.contains("%"))),
        "no bar for bob in {:#?}",
        terminal.screens
    );

    assert_eq!(terminal.code, 1, "{}", terminal.last);
    let last = &terminal.last;
    for result in [
        "✔ lichess:alice  30 new · 0 dup · 0 invalid · ",
        "✔ lichess:carol  20 new · 0 dup · 0 invalid · ",
        "✔ chesscom:bob  9 new · 0 dup · 0 invalid · ",
        "✘ chesscom:nobody  user not found",
        "✘ chesscom:dave  user not found",
    ] {
        assert!(
            last.contains(result),
            "{result:?} not on the final screen:\n{last}"
        );
    }
    assert!(
        last.contains("59 new games from 5 players; 2 failed in "),
        "{last}"
    );
    // The live area is gone: no header, no running or queued line left behind.
    assert!(!last.contains("importing ·"), "{last}");
    assert!(
        !last.contains("fetching") && !last.contains("writing") && !last.contains("queued"),
        "{last}"
    );
    // Colours are on for a terminal: the result marks are green and red.
    let raw = String::from_utf8_lossy(&terminal.raw);
    assert!(raw.contains("\x1b[32m✔\x1b[0m lichess:alice"), "{raw:?}");
    assert!(raw.contains("\x1b[31m✘\x1b[0m chesscom:nobody"), "{raw:?}");
}

#[test]
fn no_color_turns_colours_off_but_keeps_the_bars() {
    let fake = FakeServer::start();
    fake.set_lichess_rate(Some(40.0));
    fake.add_lichess_games("alice", 20, T0, 60_000);
    let terminal = on_a_terminal(
        &[
            "import",
            "--lichess-url",
            &fake.lichess_url(),
            "--chesscom-url",
            &fake.chesscom_url(),
            "lichess:alice",
        ],
        false,
    );
    assert_eq!(terminal.code, 0, "{}", terminal.last);
    assert!(
        terminal
            .screens
            .iter()
            .any(|s| s.contains("importing · 1/4 busy")),
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
    let terminal = on_a_terminal(
        &[
            "import",
            "-q",
            "--lichess-url",
            &fake.lichess_url(),
            "--chesscom-url",
            &fake.chesscom_url(),
            "lichess:alice",
        ],
        true,
    );
    assert_eq!(terminal.code, 0, "{}", terminal.last);
    assert!(
        terminal.screens.iter().all(|s| !s.contains("importing ·")),
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
