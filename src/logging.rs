//! Log lines (warnings, retries, invalid games): through the screen, so that they never tear the
//! live bars.

use std::io::Write;

use crate::view::Screen;

/// Sends log lines (warnings, retries, invalid games) to stderr through the screen, so that they
/// print above the bars. `RUST_LOG` overrides the level that `-q`/`-v` choose.
pub fn init_logging(verbose: u8, quiet: bool, screen: Screen) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("chess_import={level}")));
    // Plain output is for log files: no escape codes there, even on a terminal.
    let ansi = screen.color();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || LogWriter(screen.clone()))
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .try_init();
}

struct LogWriter(Screen);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_log(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
