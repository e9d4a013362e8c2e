//! Shared helpers of the integration tests.

use std::io::Write;

pub mod cli;
pub mod pg;

/// Whether this is a CI run (`CI` is set), where every test must run: a test that cannot
/// fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Says on stderr that a test ran nothing, and why. Written to stderr directly: the test
/// harness captures `eprintln!` and shows it only for failing tests, and a skip must be seen.
pub fn announce_skip(message: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
}
