//! A fresh PostgreSQL database per test, on the server named by `CHESS_IMPORT_TEST_PG`.
//!
//! `CHESS_IMPORT_TEST_PG` is a URL whose role may create databases and roles
//! (`.ci/start-postgres` starts a throwaway server and prints it). Each test gets its own
//! `test_<random>` database, so tests run in parallel without seeing each other's rows; the
//! databases are not dropped, the server is thrown away.
//!
//! Without that variable a PostgreSQL test fails, so that `cargo test` never looks green while
//! it ran none of them. `CHESS_IMPORT_SKIP_PG=1` skips them on purpose, loudly, except in CI.
//!
//! The helpers run their own small runtime: call them from a test's thread, not from async code.

use std::sync::Once;

use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::{announce_skip, in_ci};

pub const ENV: &str = "CHESS_IMPORT_TEST_PG";
/// `CHESS_IMPORT_SKIP_PG=1`: the PostgreSQL tests pass without running (not in CI).
pub const SKIP_ENV: &str = "CHESS_IMPORT_SKIP_PG";

/// A URL to a new, empty database, or `None` when the PostgreSQL tests are skipped on purpose.
/// Panics when no server is configured and they are not.
pub fn test_database() -> Option<String> {
    let admin = match std::env::var(ENV) {
        Ok(url) if !url.is_empty() => url,
        _ if in_ci() => panic!(
            "{ENV} is not set, and in CI the PostgreSQL tests must run: start a server with \
             `eval \"$(.ci/start-postgres)\"` (as .ci/run does)"
        ),
        _ if std::env::var_os(SKIP_ENV).is_some_and(|v| v == "1") => {
            static ANNOUNCED: Once = Once::new();
            ANNOUNCED.call_once(|| {
                announce_skip(&format!("the PostgreSQL tests ({SKIP_ENV}=1)"));
            });
            return None;
        }
        _ => panic!(
            "{ENV} is not set: start a PostgreSQL server with `eval \"$(.ci/start-postgres)\"`, \
             or skip these tests on purpose with {SKIP_ENV}=1"
        ),
    };
    let name = format!("test_{:016x}", fastrand::u64(..));
    execute(&admin, &format!("CREATE DATABASE {name}"));
    Some(with_database(&admin, &name))
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
            .query_one(sql, &[])
            .await
            .and_then(|row| row.try_get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
    })
}

/// The first column of every row of `sql`, as optional strings.
pub fn query_strings(url: &str, sql: &str) -> Vec<Option<String>> {
    with_client(url, async |client| {
        client
            .query(sql, &[])
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

/// `url` written with `?host=/socket/dir` instead of a percent-encoded host, if it names a
/// unix socket.
pub fn with_host_param(url: &str) -> Option<String> {
    let config: Config = url.parse().expect("a valid PostgreSQL URL");
    let [Host::Unix(dir)] = config.get_hosts() else {
        return None;
    };
    let password = String::from_utf8(config.get_password()?.to_vec()).ok()?;
    Some(format!(
        "postgresql://{}:{}@/{}?host={}&port={}",
        encode(config.get_user()?, false),
        encode(&password, false),
        config.get_dbname()?,
        encode(dir.to_str()?, true),
        config.get_ports().first().copied().unwrap_or(5432),
    ))
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
