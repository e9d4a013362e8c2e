//! Shared helpers of the integration tests.

use std::io::Write;
use std::time::{Duration, Instant};

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

/// Waits until `condition` holds, failing the test after a generous deadline.
pub fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
