//! Connecting to PostgreSQL as `psql` would, with the real binary: TLS in every `sslmode`
//! against a server that takes only TLS on TCP (`CHESS_IMPORT_TEST_PG_TLS`, its CA and another),
//! the libpq environment and password file, `key=value` strings, and the password masked in
//! every form a connection string can hold it, at every verbosity.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use chess_import_fake::FakeServer;
use tokio_postgres::Config;
use tokio_postgres::config::Host;

use crate::support::cli::{Import, Outcome, binary, games_in};
use crate::support::pg;

const T0: i64 = 1_700_000_000_000;

/// The TLS server's URL for a new database, the same database on the unix socket (for the
/// helpers, which speak plain text), and the two CA files.
struct Tls {
    url: String,
    direct: String,
    ca: String,
    other_ca: String,
}

fn tls() -> Option<Tls> {
    let server = pg::server(pg::TLS_ENV)?;
    let ca = pg::server(pg::CA_ENV)?;
    let other_ca = pg::server(pg::OTHER_CA_ENV)?;
    let name = pg::new_database()?;
    Some(Tls {
        url: pg::with_database(&server, &name),
        direct: pg::with_database(&pg::server(pg::ENV)?, &name),
        ca,
        other_ca,
    })
}

/// `url` with `params` appended to its query.
fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// A fake with three games of alice's.
fn fake() -> FakeServer {
    let fake = FakeServer::start();
    fake.add_lichess_games("alice", 3, T0, 60_000);
    fake
}

fn import(fake: &FakeServer, target: &str) -> Outcome {
    Import::new(fake)
        .players(["lichess:alice"])
        .db_target(target)
        .run()
}

/// Asserts that `run` failed with exit 2 on one line, naming the database with its password
/// masked, and returns the line.
fn one_masked_line(run: &Outcome, password: &str) -> String {
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line = run.stderr.trim_end().to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.contains("cannot open database "), "{line}");
    assert!(!line.contains(password), "password shown: {line}");
    line
}

#[test]
fn require_verify_ca_and_verify_full_connect_over_tls_and_import() {
    let Some(tls) = tls() else { return };
    let fake = fake();
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-ca&sslrootcert={}", tls.ca),
        format!("sslmode=verify-full&sslrootcert={}", tls.ca),
        // libpq's default, prefer, takes TLS when the server offers it; allow once the server
        // has refused plain text.
        String::new(),
        "sslmode=allow".to_string(),
    ] {
        let target = with_params(&tls.url, &params);
        let run = import(&fake, &target);
        assert_eq!(run.code, 0, "{params}: {}", run.stderr);
        assert_eq!(games_in(Path::new(&tls.direct)).len(), 3, "{params}");
    }
}

#[test]
fn sslrootcert_system_trusts_the_platforms_roots() {
    let Some(tls) = tls() else { return };
    let fake = fake();
    let target = with_params(&tls.url, "sslrootcert=system");
    // The platform's roots, as OpenSSL finds them: here the test CA alone.
    let trusting = |ca: &str| {
        let mut command = Import::new(&fake)
            .players(["lichess:alice"])
            .db_target(&target)
            .command();
        command.env("SSL_CERT_FILE", ca).env_remove("SSL_CERT_DIR");
        command.output().unwrap()
    };
    let output = trusting(&tls.ca);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = trusting(&tls.other_ca);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("(unknown issuer)"), "{stderr}");
}

#[test]
fn a_certificate_that_does_not_verify_is_exit_2_with_the_reason() {
    let Some(tls) = tls() else { return };
    let password = pg::password(&tls.url);
    let fake = fake();
    let other_ca = with_params(
        &tls.url,
        &format!("sslmode=verify-full&sslrootcert={}", tls.other_ca),
    );
    let line = one_masked_line(&import(&fake, &other_ca), &password);
    assert!(line.contains("does not verify (unknown issuer)"), "{line}");
    assert!(line.contains(":***@localhost:"), "{line}");

    // The server reached at its address under a name its certificate does not have.
    let config: Config = tls.url.parse().unwrap();
    let port = config.get_ports()[0];
    let database = config.get_dbname().unwrap();
    let misnamed = |mode: &str| {
        format!(
            "host=not-in-the-certificate.example hostaddr=127.0.0.1 port={port} \
             user=chess_test password={password} dbname={database} sslmode={mode} \
             sslrootcert={}",
            tls.ca
        )
    };
    let line = one_masked_line(&import(&fake, &misnamed("verify-full")), &password);
    assert!(line.contains("does not verify (name mismatch)"), "{line}");
    assert!(line.contains("password=***"), "{line}");
    // verify-ca checks the chain only.
    let run = import(&fake, &misnamed("verify-ca"));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn sslmode_disable_is_refused_by_a_tls_only_server_clearly() {
    let Some(tls) = tls() else { return };
    let run = import(&fake(), &with_params(&tls.url, "sslmode=disable"));
    let line = one_masked_line(&run, &pg::password(&tls.url));
    assert!(line.contains("no pg_hba.conf entry"), "{line}");
    assert!(
        line.contains("(the server accepts only TLS connections from here: use sslmode=require"),
        "{line}"
    );
}

/// The binary with the libpq environment for `url` (its host, port, user, database), without
/// its password, and HOME in `home`.
fn with_libpq_environment(mut command: Command, url: &str, home: &Path) -> Command {
    let config: Config = url.parse().unwrap();
    let host = match &config.get_hosts()[0] {
        Host::Unix(dir) => dir.display().to_string(),
        Host::Tcp(name) => name.clone(),
    };
    command
        .env("PGHOST", host)
        .env("PGPORT", config.get_ports()[0].to_string())
        .env("PGUSER", config.get_user().unwrap())
        .env("PGDATABASE", config.get_dbname().unwrap())
        .env("HOME", home);
    command
}

fn write_password_file(path: &Path, mode: u32, password: &str) {
    std::fs::write(
        path,
        format!("# for the tests\n*:*:*:chess_test:{password}\n"),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn the_environment_and_a_password_file_alone_connect() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let fake = fake();
    let password = pg::password(&url);
    let config: Config = url.parse().unwrap();
    let database = config.get_dbname().unwrap();
    for (target, file) in [
        ("postgresql://".to_string(), home.path().join(".pgpass")),
        (
            format!("postgresql:///{database}"),
            home.path().join("elsewhere"),
        ),
    ] {
        write_password_file(&file, 0o600, &password);
        let mut command = with_libpq_environment(
            Import::new(&fake)
                .players(["lichess:alice"])
                .db_target(&target)
                .command(),
            &url,
            home.path(),
        );
        if !file.ends_with(".pgpass") {
            command.env("PGPASSFILE", &file);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{target}: {stderr}");
    }
    assert_eq!(games_in(Path::new(&url)).len(), 3);

    // A password file others may read is not used, with a warning.
    write_password_file(&home.path().join(".pgpass"), 0o644, &password);
    let mut command = with_libpq_environment(binary(), &url, home.path());
    let output = command
        .args(["status", "--db", "postgresql://"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has group or world access"), "{stderr}");
}

#[test]
fn the_environment_asks_for_tls_too() {
    let Some(tls) = tls() else { return };
    let home = tempfile::tempdir().unwrap();
    let mut command = with_libpq_environment(binary(), &tls.url, home.path());
    let output = command
        .env("PGPASSWORD", pg::password(&tls.url))
        .env("PGSSLMODE", "verify-full")
        .env("PGSSLROOTCERT", &tls.ca)
        .env("PGAPPNAME", "from-the-environment")
        .args(["status", "--db", "postgresql://"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_key_value_string_connects() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let config: Config = url.parse().unwrap();
    let Host::Unix(dir) = &config.get_hosts()[0] else {
        panic!("{} is not a unix socket URL", pg::ENV);
    };
    let target = format!(
        "host='{}' port={} user=chess_test password='{}' dbname={}",
        dir.display(),
        config.get_ports()[0],
        pg::password(&url),
        config.get_dbname().unwrap()
    );
    let run = import(&fake(), &target);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(games_in(Path::new(&url)).len(), 3);
}

#[test]
fn a_wrong_password_never_shows_in_any_form_at_any_verbosity() {
    let Some(url) = pg::test_database() else {
        return;
    };
    let config: Config = url.parse().unwrap();
    let Host::Unix(dir) = &config.get_hosts()[0] else {
        panic!("{} is not a unix socket URL", pg::ENV);
    };
    let port = config.get_ports()[0];
    let database = config.get_dbname().unwrap();
    let host: String = dir
        .display()
        .to_string()
        .bytes()
        .map(|byte| match byte {
            b'/' => "%2F".to_string(),
            byte => char::from(byte).to_string(),
        })
        .collect();
    let at = format!("{host}:{port}/{database}");
    let socket = format!("host={} port={port} dbname={database}", dir.display());
    // Each secret is checked whole and in the pieces an unescaped `@` would cut it into.
    let forms = [
        (
            format!("postgresql://chess_test:Wr0ng@Secret1@{at}"),
            "Wr0ng@Secret1",
        ),
        (
            format!("POSTGRES://chess_test:Wr0ngSecret2@{at}"),
            "Wr0ngSecret2",
        ),
        (
            format!("PostgreSQL://chess_test:Wr0ngSecret3@{at}"),
            "Wr0ngSecret3",
        ),
        (
            format!("postgresql://chess_test@{at}?password=Wr0ngSecret4"),
            "Wr0ngSecret4",
        ),
        (
            format!("postgresql://chess_test@{at}?sslmode=prefer&pass%77ord=Wr0ngSecret5"),
            "Wr0ngSecret5",
        ),
        (
            format!("{socket} user=chess_test password=Wr0ngSecret6"),
            "Wr0ngSecret6",
        ),
        (
            format!("{socket} user=chess_test password='Wr0ng Secret7'"),
            "Wr0ng Secret7",
        ),
    ];
    let fake = fake();
    for (target, secret) in &forms {
        for verbosity in [None, Some("-v"), Some("-vv")] {
            let import = Import::new(&fake)
                .players(["lichess:alice"])
                .db_target(target)
                .args(verbosity);
            let status = {
                let mut command = binary();
                command.args(["status", "--db", target]).args(verbosity);
                command
            };
            for mut command in [import.command(), status] {
                let output = command.output().unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert_eq!(output.status.code(), Some(2), "{target}: {stderr}");
                assert!(stderr.contains("***"), "{stderr}");
                for piece in std::iter::once(*secret).chain(secret.split(['@', ' '])) {
                    assert!(
                        !stdout.contains(piece) && !stderr.contains(piece),
                        "{piece} shown: {stdout}{stderr}"
                    );
                }
            }
        }
    }
}
