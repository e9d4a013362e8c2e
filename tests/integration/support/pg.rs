//! A fresh PostgreSQL database per test, on the server named by `CHESS_IMPORT_TEST_PG`, reached
//! directly, through PgBouncer, or over TLS.
//!
//! `CHESS_IMPORT_TEST_PG` is a URL whose role may create databases and roles
//! (`.ci/start-postgres` starts a throwaway server and prints it). Each test gets its own
//! `test_<random>` database, so tests run in parallel without seeing each other's rows; the
//! databases are not dropped, the server is thrown away.
//!
//! The PostgreSQL test modules are compiled twice (see main.rs): the tests under `pooled::` get
//! their database, made on the server directly, through the PgBouncer in transaction mode that
//! `CHESS_IMPORT_TEST_PGBOUNCER` names. They are told apart by their thread's name, which the
//! test harness sets to the test's path.
//!
//! Without those variables a PostgreSQL test fails, so that `cargo test` never looks green while
//! it ran none of them. `CHESS_IMPORT_SKIP_PG=1` skips them on purpose, loudly, except in CI.
//!
//! The helpers run their own small runtime: call them from a test's thread, not from async code.
//! They send unnamed statements only, which work through the pooler too.

use std::sync::Once;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::{announce_skip, in_ci};

pub const ENV: &str = "CHESS_IMPORT_TEST_PG";
/// The same server through PgBouncer in transaction mode, as a URL with the same credentials.
pub const POOLER_ENV: &str = "CHESS_IMPORT_TEST_PGBOUNCER";
/// The same server on TCP, for TLS connections only, as a URL naming a host its certificate
/// names.
pub const TLS_ENV: &str = "CHESS_IMPORT_TEST_PG_TLS";
/// The CA that signed the TLS server's certificate, and another that did not.
pub const CA_ENV: &str = "CHESS_IMPORT_TEST_PG_CA";
pub const OTHER_CA_ENV: &str = "CHESS_IMPORT_TEST_PG_OTHER_CA";
/// `CHESS_IMPORT_SKIP_PG=1`: the PostgreSQL tests pass without running (not in CI).
pub const SKIP_ENV: &str = "CHESS_IMPORT_SKIP_PG";

/// The value of `variable`, which names a test server or its certificates, or `None` when the
/// PostgreSQL tests are skipped on purpose. Panics when it is missing and they are not.
pub fn server(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if in_ci() => panic!(
            "{variable} is not set, and in CI the PostgreSQL tests must run: start the servers \
             with `eval \"$(.ci/start-postgres --tls --pgbouncer)\"` (as .ci/run does)"
        ),
        _ if std::env::var_os(SKIP_ENV).is_some_and(|v| v == "1") => {
            static ANNOUNCED: Once = Once::new();
            ANNOUNCED.call_once(|| {
                announce_skip(&format!("the PostgreSQL tests ({SKIP_ENV}=1)"));
            });
            None
        }
        _ => panic!(
            "{variable} is not set: start the test servers with \
             `eval \"$(.ci/start-postgres --tls --pgbouncer)\"`, or skip these tests on purpose \
             with {SKIP_ENV}=1"
        ),
    }
}

/// Whether the running test is one of the `pooled::` ones.
pub fn pooled() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with("pooled::"))
}

/// A URL to a new, empty database (through the pooler for a `pooled::` test), or `None` when
/// the PostgreSQL tests are skipped on purpose. Panics when no server is configured and they are
/// not.
pub fn test_database() -> Option<String> {
    let name = new_database()?;
    let through = if pooled() {
        server(POOLER_ENV)?
    } else {
        server(ENV)?
    };
    Some(with_database(&through, &name))
}

/// A new, empty database, made on the server directly; its name.
pub fn new_database() -> Option<String> {
    let admin = server(ENV)?;
    let name = format!("test_{:016x}", fastrand::u64(..));
    execute(&admin, &format!("CREATE DATABASE {name}"));
    Some(name)
}

/// Runs `sql` (one or more statements) on the database at `url`.
pub fn execute(url: &str, sql: &str) {
    with_client(url, async |client| {
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    });
}

/// The first column of the first row of `sql`, as an `i64`.
pub fn query_i64(url: &str, sql: &str) -> i64 {
    with_client(url, async |client| {
        client
            .query_typed(sql, &[])
            .await
            .and_then(|rows| {
                rows.into_iter()
                    .next()
                    .ok_or_else(|| panic!("no row: {sql}"))
            })
            .and_then(|row| row.try_get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    })
}

/// The first column of every row of `sql`, as optional strings.
pub fn query_strings(url: &str, sql: &str) -> Vec<Option<String>> {
    with_client(url, async |client| {
        client
            .query_typed(sql, &[])
            .await
            .and_then(|rows| rows.iter().map(|row| row.try_get(0)).collect())
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    })
}

fn with_client<T>(url: &str, work: impl AsyncFnOnce(&Client) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the test helper");
    runtime.block_on(async {
        let (client, connection) = url
            .parse::<Config>()
            .expect("a valid PostgreSQL URL")
            .connect(NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server ({ENV}): {e:?}"));
        let connection = tokio::spawn(connection);
        let result = work(&client).await;
        drop(client);
        let _ = connection.await;
        result
    })
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let path_start = url[authority_start..]
        .rfind('@')
        .map_or(authority_start, |at| authority_start + at);
    let (head, tail) = url.split_at(path_start);
    let (head_tail, query) = tail.split_at(tail.find('?').unwrap_or(tail.len()));
    let host_end = head_tail.find('/').unwrap_or(head_tail.len());
    format!("{head}{}/{database}{query}", &head_tail[..host_end])
}

/// `url` with its password replaced by `password`.
pub fn with_password(url: &str, password: &str) -> String {
    let config: Config = url.parse().expect("a valid PostgreSQL URL");
    let user = config.get_user().expect("a user in the URL");
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let at = url[authority_start..]
        .rfind('@')
        .map(|at| authority_start + at)
        .expect("credentials in the URL");
    format!(
        "{}{}:{}{}",
        &url[..authority_start],
        encode(user, false),
        encode(password, false),
        &url[at..]
    )
}

/// The password in `url`.
pub fn password(url: &str) -> String {
    let config: Config = url.parse().expect("a valid PostgreSQL URL");
    String::from_utf8_lossy(config.get_password().expect("a password in the URL")).into_owned()
}

/// `url` written with its host as a `host` parameter (`?host=/socket/dir`, or a host name)
/// instead of in the authority.
pub fn with_host_param(url: &str) -> String {
    let config: Config = url.parse().expect("a valid PostgreSQL URL");
    let host = match config.get_hosts() {
        [Host::Unix(dir)] => dir.to_str().expect("a UTF-8 socket directory").to_string(),
        [Host::Tcp(name)] => name.clone(),
        hosts => panic!("not one host: {hosts:?}"),
    };
    let password = String::from_utf8(config.get_password().expect("a password").to_vec())
        .expect("a UTF-8 password");
    format!(
        "postgresql://{}:{}@/{}?host={}&port={}",
        encode(config.get_user().expect("a user"), false),
        encode(&password, false),
        config.get_dbname().expect("a database"),
        encode(&host, true),
        config.get_ports().first().copied().unwrap_or(5432),
    )
}

/// Percent-encodes everything but unreserved characters (and `/` in a path).
fn encode(text: &str, path: bool) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            b'/' if path => "/".to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// How many connections of the program named `application_name` use the database at `url`:
/// the server's, or, for a `pooled::` test, the pooler's clients (its server connections serve
/// whichever client is in a transaction).
pub fn clients(url: &str, application_name: &str) -> i64 {
    if !pooled() {
        return query_i64(
            url,
            &format!(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = '{application_name}'"
            ),
        );
    }
    let database = database_name(url);
    let listed = admin_console(url, "SHOW CLIENTS");
    let count = listed
        .iter()
        .filter(|row| {
            row.get("database").map(String::as_str) == Some(database.as_str())
                && row.get("application_name").map(String::as_str) == Some(application_name)
        })
        .count();
    i64::try_from(count).expect("a count")
}

/// Drops every connection of the programs named `application_names` to the database at `url`,
/// as an administrator's `pg_terminate_backend` does; for a `pooled::` test, as a pooler restart
/// does: one PgBouncer `KILL` of every client of the database (the test's helpers' included),
/// then `RESUME` (one: PgBouncer 1.18 stumbles on a second `KILL` of a database while its
/// clients come back). How many of the programs' connections there were.
pub fn drop_connections(url: &str, application_names: &[&str]) -> i64 {
    let names = application_names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if !pooled() {
        return query_i64(
            url,
            &format!(
                "WITH program AS MATERIALIZED (
                     SELECT pid FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()
                       AND application_name IN ({names}))
                 SELECT count(*) FROM program WHERE pg_terminate_backend(pid, 5000)"
            ),
        );
    }
    let dropped = application_names
        .iter()
        .map(|name| clients(url, name))
        .sum();
    let database = database_name(url);
    admin_console(url, &format!("KILL {database}"));
    admin_console(url, &format!("RESUME {database}"));
    dropped
}

fn database_name(url: &str) -> String {
    let config: Config = url.parse().expect("a valid PostgreSQL URL");
    config
        .get_dbname()
        .expect("a database in the URL")
        .to_string()
}

/// The rows PgBouncer's admin console answers `command` with, each as column → value.
fn admin_console(url: &str, command: &str) -> Vec<std::collections::HashMap<String, String>> {
    let console = with_database(url, "pgbouncer");
    with_client(&console, async |client| {
        let messages = client
            .simple_query(command)
            .await
            .unwrap_or_else(|e| panic!("{command}: {e:?}"));
        messages
            .iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    row.columns()
                        .iter()
                        .enumerate()
                        .filter_map(|(index, column)| {
                            Some((column.name().to_string(), row.get(index)?.to_string()))
                        })
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    })
}

/// A lock another session holds on the database at `url`, in a transaction kept open until the
/// value is dropped: what makes the server leave this program's requests unanswered.
pub struct HeldLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    holder: Option<std::thread::JoinHandle<()>>,
}

impl HeldLock {
    /// Runs `sql` (a `LOCK TABLE ...`) in a transaction of a session of its own, on the server
    /// directly (a pooler would end it with the transaction), and returns once the lock is held.
    pub fn take(url: &str, sql: &str) -> HeldLock {
        let (held, locked) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let server = server(ENV).expect("the test server");
        let url = with_database(&server, &database_name(url));
        let sql = sql.to_string();
        let holder = std::thread::spawn(move || {
            with_client(&url, async |client| {
                client
                    .batch_execute(&format!("BEGIN; {sql}"))
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
                let _ = held.send(());
                // Dropped or sent: either way the lock's time is up.
                let _ = released.recv();
                let _ = client.batch_execute("ROLLBACK").await;
            });
        });
        locked.recv().expect("the lock is taken");
        HeldLock {
            release: Some(release),
            holder: Some(holder),
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(holder) = self.holder.take() {
            let _ = holder.join();
        }
    }
}

/// How many sessions of `application_name` wait for a lock on the database at `url` (asked of
/// the server directly).
pub fn waiting_for_locks(url: &str, application_name: &str) -> i64 {
    let server = server(ENV).expect("the test server");
    query_i64(
        &with_database(&server, &database_name(url)),
        &format!(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND application_name = '{application_name}'"
        ),
    )
}
