//! The PostgreSQL tests of the other modules compiled a second time, under `pooled::`: their
//! databases, made on the server directly, are reached through PgBouncer in transaction mode
//! (`CHESS_IMPORT_TEST_PGBOUNCER`; support/pg.rs tells these tests by their names), where
//! consecutive transactions of one client may run on different server connections.

// Loaded twice on purpose: the same tests, another way to the server.
#[allow(clippy::duplicate_mod)]
#[path = "postgres_store.rs"]
mod postgres_store;
#[allow(clippy::duplicate_mod)]
#[path = "queue.rs"]
mod queue;
#[allow(clippy::duplicate_mod)]
#[path = "status_export.rs"]
mod status_export;
#[allow(clippy::duplicate_mod)]
#[path = "unanswered.rs"]
mod unanswered;
#[allow(clippy::duplicate_mod)]
#[path = "watching.rs"]
mod watching;
