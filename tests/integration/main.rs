//! The integration tests, one crate so that they link once; `cargo test --test integration
//! faults::` runs one area.

// Running the binary, reading what it stored, and a PostgreSQL database per test.
mod support;

// Schema version 2's columns from the providers, and the players' view.
mod analysis;
// The live bars on a pseudo-terminal: drawn while working, result lines left behind.
mod bars;
// Bombs, trickles and hangs: bounded memory and bounded waits.
mod bounded;
// Chess.com months against a hostile server: failed months asked again, odd lists, fields, dates.
mod chesscom_months;
// `check` against the fake providers: exit codes, the JSON report and the table.
mod check;
// The committed shell completion scripts match the command line.
mod completions;
// The fake providers themselves behave like the real APIs.
mod fake_provider;
// Every provider and network fault: the database still ends as a fault-free run leaves it.
mod faults;
// The processes of one host share the providers' lanes.
mod host_lanes;
// Hostile answers and bad option values: bounded, named, nothing lost.
mod hostile;
// A full disk and a read-only filesystem (tmpfs mounts, as root).
mod filesystem;
// The core import: both platforms, dedup, incremental and narrowed runs, bad usage.
mod import;
// The user's files: export --out, refused --db values, foreign and read-only databases.
mod local_state;
// kill -9, Ctrl-C, overlapping runs and a locked database: nothing lost, nothing twice.
mod interruptions;
// What `import` prints in the plain, none and quiet modes.
mod output;
// Connecting to PostgreSQL as psql would: TLS, the libpq environment, masked passwords.
mod postgres_connect;
// The PostgreSQL store against a real server.
mod postgres_store;
// Many workers sharing one PostgreSQL job queue.
mod queue;
// Late reviews and analyses picked up in place by `import --refresh-analysis`.
mod refresh;
// `status` and `export` on a real import, in SQLite and PostgreSQL.
mod status_export;
// `verify` and `rescan`: gaps named per player and month, repaired without moving a cursor.
mod verify;
// An application watching the queue: progress, workers, positions and ETAs, prompt pick-up.
mod watching;
// A version-1 database of the last release upgraded in place, or left as it was.
mod upgrade;
// A PostgreSQL server that does not answer: requests given up, and cancelled.
mod unanswered;

// The PostgreSQL tests again, each database reached through PgBouncer in transaction mode.
mod pooled;
