//! Log lines (warnings, retries, invalid games): through the screen, so that they never tear the
//! live bars.

use std::io::Write;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use crate::view::Screen;

/// Sends log lines (warnings, retries, invalid games) to stderr through the screen, so that they
/// print above the bars. `-v` logs what `chess_import` does at info level, `-vv` at debug;
/// `RUST_LOG` overrides both, e.g. `RUST_LOG=chess_import=trace`.
pub fn init_logging(verbose: u8, quiet: bool, screen: Screen) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("chess_import={}", level(verbose, quiet)))
    });
    // Plain output is for log files: no escape codes there, even on a terminal.
    let ansi = screen.color();
    let timestamps = screen.timestamps();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(move || LogWriter(screen.clone()))
        .with_ansi(ansi)
        .with_target(false);
    let _ = if timestamps {
        builder.with_timer(Rfc3339).try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// The level `-q` and `-v` ask for.
fn level(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    }
}

/// Now, in UTC to the second: `2026-12-01T20:15:03Z`.
pub fn timestamp() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Log lines' time, the same as plain lines'.
struct Rfc3339;

impl FormatTime for Rfc3339 {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        w.write_str(&timestamp())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_and_verbose_choose_the_level() {
        assert_eq!(level(0, false), "warn");
        assert_eq!(level(1, false), "info");
        assert_eq!(level(2, false), "debug");
        assert_eq!(level(3, false), "debug");
        assert_eq!(level(2, true), "error");
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_to_the_second() {
        let stamp = timestamp();
        assert_eq!(stamp.len(), "2026-12-01T20:15:03Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'), "{stamp}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(&stamp).is_ok(),
            "{stamp}"
        );
    }
}
