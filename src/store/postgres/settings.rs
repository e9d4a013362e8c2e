//! Connection settings completed as libpq completes them, so that `--db` connects wherever `psql`
//! would with the same string and environment: the parameters of the URL or `key=value` string
//! first, then the `PG*` environment variables for what they leave out, then the password file,
//! then libpq's defaults. The result is a tokio-postgres `Config` and what tokio-postgres does
//! not know of libpq (`sslmode`'s verifying modes, `sslrootcert`), which [`super::tls`] turns
//! into a TLS connector.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_postgres::Config;

use super::conninfo::{self, Malformed};

/// How long a connection attempt may take, unless `connect_timeout` says otherwise.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long chess-import waits for the server's answer to any one request, unless
/// [`ANSWER_TIMEOUT_ENV`] says otherwise: a statement, or a transaction of the store's, that a
/// healthy server finishes in well under a second. Longer means the server, or a pooler in front
/// of it, is stuck (a paused PgBouncer, a lock held by a forgotten session), and the request is
/// given up rather than waited for forever.
pub(super) const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// This program's own variable for [`ANSWER_TIMEOUT`], in whole seconds as libpq's
/// `PGCONNECT_TIMEOUT`; libpq has no such setting, so it is no connection parameter.
pub(super) const ANSWER_TIMEOUT_ENV: &str = answer_timeout_env!();

/// The longest [`ANSWER_TIMEOUT_ENV`] may ask for, in seconds.
const MAX_ANSWER_TIMEOUT: u64 = 3600;

/// Where libpq looks for the server when no host is given, on Debian.
const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// libpq's environment variables, and the parameter each stands for when the connection string
/// leaves it out.
const ENVIRONMENT: [(&str, &str); 15] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGCHANNELBINDING", "channel_binding"),
];

/// The parameters read here rather than handed to tokio-postgres.
const OWN: [&str; 4] = ["password", "passfile", "sslmode", "sslrootcert"];

/// libpq's `sslmode`, whose meanings tokio-postgres only partly has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// Plain text, then TLS if the server refuses plain text.
    Allow,
    /// TLS if the server has it, unverified; plain text otherwise. libpq's default.
    Prefer,
    /// TLS, unverified; verified as `VerifyCa` if a root certificate file is there.
    Require,
    /// TLS with a certificate that chains to a trusted root, whatever host name it names.
    VerifyCa,
    /// TLS with a certificate that chains to a trusted root and names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// The certificates a server's certificate must chain to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootCerts {
    /// A PEM file (`sslrootcert=PATH`, or libpq's `~/.postgresql/root.crt`).
    File(PathBuf),
    /// The platform's trusted roots (`sslrootcert=system`).
    System,
}

/// What the server's certificate is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Nothing: TLS only hides the traffic from onlookers.
    Nothing,
    /// The chain to `RootCerts`; with `name`, also that the certificate names the host.
    Chain { roots: RootCerts, name: bool },
}

/// Where to connect and how, complete.
#[derive(Debug)]
pub(crate) struct Settings {
    /// Everything tokio-postgres reads, `ssl_mode` aside: it depends on the attempt (see
    /// [`Settings::ssl_mode`]).
    pub(crate) config: Config,
    pub(crate) ssl_mode: SslMode,
    pub(crate) verify: Verify,
    /// How long a request may go unanswered (see [`ANSWER_TIMEOUT`]).
    pub(crate) answer_timeout: Duration,
}

/// Why connection settings cannot be used. Names the parameter, never its value, which may be a
/// misplaced password.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("cannot read the connection string: {0}")]
    Malformed(#[from] Malformed),
    #[error("invalid sslmode (expected disable, allow, prefer, require, verify-ca or verify-full)")]
    SslMode,
    #[error(
        "no user name: put it in the connection string (postgresql://USER@HOST/DATABASE) or set \
         PGUSER"
    )]
    NoUser,
    /// What tokio-postgres refuses of the other parameters (it names the parameter).
    #[error("{}", super::message(.0))]
    Parameter(#[source] tokio_postgres::Error),
    #[error(
        "sslmode={} needs a root certificate to check the server's against, and \"{}\" does not \
         exist (give sslrootcert=PATH, sslrootcert=system for the system's trusted roots, or a \
         weaker sslmode)",
        .mode.as_str(),
        .path.display()
    )]
    NoRootCert { mode: SslMode, path: PathBuf },
    #[error(
        "sslmode={} may not be used with sslrootcert=system (use sslmode=verify-full, as libpq \
         requires)",
        .0.as_str()
    )]
    WeakWithSystemRoots(SslMode),
    #[error("cannot read the root certificates in {}", .path.display())]
    RootCertFile {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("no certificate in the root certificate file {}", .0.display())]
    NoCertificates(PathBuf),
    #[error("cannot load the system's trusted root certificates: {0}")]
    SystemRoots(String),
    #[error("cannot set up TLS")]
    Tls(#[source] rustls::Error),
    #[error("invalid {ANSWER_TIMEOUT_ENV} (expected whole seconds from 1 to {MAX_ANSWER_TIMEOUT})")]
    AnswerTimeout,
}

impl Settings {
    /// The settings of `target` (a URL or a `key=value` string), completed from `env` (a
    /// variable's value, `None` when unset or empty) as libpq completes them.
    pub(crate) fn resolve(
        target: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Invalid> {
        let mut parameters: BTreeMap<String, String> =
            conninfo::parameters(target)?.into_iter().collect();
        for (variable, key) in ENVIRONMENT {
            if !parameters.contains_key(key)
                && let Some(value) = env(variable)
            {
                parameters.insert(key.to_string(), value);
            }
        }
        if !parameters.contains_key("user") {
            let user = env("USER")
                .or_else(|| env("LOGNAME"))
                .ok_or(Invalid::NoUser)?;
            parameters.insert("user".into(), user);
        }
        if !parameters.contains_key("host") && !parameters.contains_key("hostaddr") {
            parameters.insert("host".into(), DEFAULT_SOCKET_DIR.into());
        }
        parameters
            .entry("application_name".into())
            .or_insert_with(|| "chess-import".into());
        let home = env("HOME").map(PathBuf::from);
        let answer_timeout = match env(ANSWER_TIMEOUT_ENV) {
            None => ANSWER_TIMEOUT,
            Some(seconds) => match seconds.trim().parse::<u64>() {
                Ok(seconds @ 1..=MAX_ANSWER_TIMEOUT) => Duration::from_secs(seconds),
                _ => return Err(Invalid::AnswerTimeout),
            },
        };

        let forwarded: Vec<String> = parameters
            .iter()
            .filter(|(key, _)| !OWN.contains(&key.as_str()))
            .map(|(key, value)| format!("{key}={}", conninfo::quote(value)))
            .collect();
        let mut config: Config = forwarded.join(" ").parse().map_err(Invalid::Parameter)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let password = match parameters.get("password") {
            Some(password) => Some(password.clone()),
            None => {
                let file = parameters
                    .get("passfile")
                    .map(PathBuf::from)
                    .or_else(|| home.as_ref().map(|home| home.join(".pgpass")));
                file.and_then(|file| from_password_file(&file, &parameters))
            }
        };
        if let Some(password) = password {
            config.password(password);
        }

        let explicit_mode = match parameters.get("sslmode") {
            Some(mode) => Some(SslMode::parse(mode).ok_or(Invalid::SslMode)?),
            None => None,
        };
        let root_file = || match parameters.get("sslrootcert") {
            Some(path) => PathBuf::from(path),
            None => home
                .as_ref()
                .map_or_else(PathBuf::new, |home| home.join(".postgresql/root.crt")),
        };
        let (ssl_mode, verify) =
            if parameters.get("sslrootcert").map(String::as_str) == Some("system") {
                // As libpq 16: the system's roots vouch for any host, so only the host's name in the
                // certificate ties it to this server.
                match explicit_mode.unwrap_or(SslMode::VerifyFull) {
                    SslMode::VerifyFull => (
                        SslMode::VerifyFull,
                        Verify::Chain {
                            roots: RootCerts::System,
                            name: true,
                        },
                    ),
                    weak => return Err(Invalid::WeakWithSystemRoots(weak)),
                }
            } else {
                let mode = explicit_mode.unwrap_or(SslMode::Prefer);
                let verify = match mode {
                    SslMode::Disable | SslMode::Allow | SslMode::Prefer => Verify::Nothing,
                    // libpq verifies the chain in `require` mode when a root certificate file is
                    // there, as if `verify-ca` had been asked.
                    SslMode::Require => {
                        let path = root_file();
                        if path.is_file() {
                            Verify::Chain {
                                roots: RootCerts::File(path),
                                name: false,
                            }
                        } else {
                            Verify::Nothing
                        }
                    }
                    SslMode::VerifyCa | SslMode::VerifyFull => {
                        let path = root_file();
                        if !path.exists() {
                            return Err(Invalid::NoRootCert { mode, path });
                        }
                        Verify::Chain {
                            roots: RootCerts::File(path),
                            name: mode == SslMode::VerifyFull,
                        }
                    }
                };
                (mode, verify)
            };
        Ok(Settings {
            config,
            ssl_mode,
            verify,
            answer_timeout,
        })
    }

    /// The settings of `target`, completed from this process's environment.
    pub(crate) fn from_environment(target: &str) -> Result<Self, Invalid> {
        Settings::resolve(target, &|name| {
            std::env::var(name).ok().filter(|value| !value.is_empty())
        })
    }
}

/// The password for the first host in the password file `path`, in libpq's format and by its
/// rules: lines of `host:port:database:user:password`, `*` matching anything, `\` escaping `:`
/// and itself, the first matching line winning. A file that others may read is ignored with a
/// warning, as libpq ignores it, and so is a missing one, silently.
fn from_password_file(path: &Path, parameters: &BTreeMap<String, String>) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        tracing::warn!(
            "password file \"{}\" is not a plain file; not using it",
            path.display()
        );
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "password file \"{}\" has group or world access; permissions should be u=rw \
                 (0600) or less: not using it",
                path.display()
            );
            return None;
        }
    }
    let contents = match std::fs::read_to_string(path) {
        Ok(contents) => contents,
        Err(error) => {
            tracing::warn!(
                "cannot read the password file \"{}\": {error}",
                path.display()
            );
            return None;
        }
    };
    let first = |key: &str| {
        parameters
            .get(key)
            .and_then(|list| list.split(',').next())
            .filter(|value| !value.is_empty())
    };
    // A connection over the default socket directory, or to no host, is to "localhost".
    let host = match first("host").or_else(|| first("hostaddr")) {
        None | Some(DEFAULT_SOCKET_DIR) => "localhost",
        Some(host) => host,
    };
    let port = first("port").unwrap_or("5432");
    let user = first("user").unwrap_or_default();
    let database = first("dbname").unwrap_or(user);
    let wanted = [host, port, database, user];
    contents
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = password_file_fields(line);
            let [fields @ .., password] = fields.as_slice() else {
                return None;
            };
            let matches = fields.len() == 4
                && fields
                    .iter()
                    .zip(wanted)
                    .all(|((field, star), wanted)| *star || field == wanted);
            matches.then(|| password.0.clone())
        })
}

/// The fields of a password file's line, unescaped, each with whether it was a bare `*`; the
/// fifth, the password, runs to the end of the line.
fn password_file_fields(line: &str) -> Vec<(String, bool)> {
    let mut fields = Vec::with_capacity(5);
    let mut field = String::new();
    let mut escaped_any = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                field.extend(chars.next());
                escaped_any = true;
            }
            ':' if fields.len() < 4 => {
                let star = field == "*" && !escaped_any;
                fields.push((std::mem::take(&mut field), star));
                escaped_any = false;
            }
            c => field.push(c),
        }
    }
    fields.push((field, false));
    fields
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use tokio_postgres::config::Host;

    use super::*;

    fn resolve(target: &str, env: &[(&str, &str)]) -> Result<Settings, Invalid> {
        Settings::resolve(target, &|name| {
            env.iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| value.to_string())
        })
    }

    fn resolved(target: &str, env: &[(&str, &str)]) -> Settings {
        resolve(target, env).unwrap_or_else(|error| panic!("{target}: {error}"))
    }

    fn hosts(settings: &Settings) -> Vec<String> {
        let ports = settings.config.get_ports();
        settings
            .config
            .get_hosts()
            .iter()
            .zip(ports.iter().chain(std::iter::repeat(&5432)))
            .map(|(host, port)| match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            })
            .collect()
    }

    #[test]
    fn the_answer_timeout_is_whole_seconds_within_an_hour() {
        let timeout = |value: &str| {
            resolve("postgresql://u@h/db", &[(ANSWER_TIMEOUT_ENV, value)])
                .map(|settings| settings.answer_timeout)
        };
        assert_eq!(
            resolved("postgresql://u@h/db", &[]).answer_timeout,
            ANSWER_TIMEOUT
        );
        assert_eq!(timeout("1").ok(), Some(Duration::from_secs(1)));
        assert_eq!(timeout(" 3600 ").ok(), Some(Duration::from_secs(3600)));
        for bad in ["0", "3601", "-1", "1.5", "10s", "x"] {
            let error = timeout(bad).expect_err(bad).to_string();
            assert!(error.contains(ANSWER_TIMEOUT_ENV), "{bad}: {error}");
        }
    }

    #[test]
    fn the_environment_fills_what_the_string_leaves_out() {
        let env = [
            ("PGHOST", "env.example"),
            ("PGPORT", "6543"),
            ("PGUSER", "env_user"),
            ("PGPASSWORD", "env-password"),
            ("PGDATABASE", "env_db"),
            ("PGAPPNAME", "env-app"),
            ("PGCONNECT_TIMEOUT", "7"),
            ("PGSSLMODE", "require"),
            ("USER", "os_user"),
        ];
        let settings = resolved("postgresql://", &env);
        assert_eq!(hosts(&settings), ["env.example:6543"]);
        assert_eq!(settings.config.get_user(), Some("env_user"));
        assert_eq!(settings.config.get_password(), Some(&b"env-password"[..]));
        assert_eq!(settings.config.get_dbname(), Some("env_db"));
        assert_eq!(settings.config.get_application_name(), Some("env-app"));
        assert_eq!(
            settings.config.get_connect_timeout(),
            Some(&Duration::from_secs(7))
        );
        assert_eq!(settings.ssl_mode, SslMode::Require);

        let settings = resolved(
            "postgresql://alice:in-url@%2Frun%2Fpg:5433/games?sslmode=disable",
            &env,
        );
        assert_eq!(hosts(&settings), ["/run/pg:5433"]);
        assert_eq!(settings.config.get_user(), Some("alice"));
        assert_eq!(settings.config.get_password(), Some(&b"in-url"[..]));
        assert_eq!(settings.config.get_dbname(), Some("games"));
        assert_eq!(settings.ssl_mode, SslMode::Disable);

        let settings = resolved("postgresql:///games", &[("USER", "os_user")]);
        assert_eq!(hosts(&settings), ["/var/run/postgresql:5432"]);
        assert_eq!(settings.config.get_user(), Some("os_user"));
        assert_eq!(settings.config.get_dbname(), Some("games"));
        assert_eq!(settings.config.get_application_name(), Some("chess-import"));
        assert_eq!(
            settings.config.get_connect_timeout(),
            Some(&CONNECT_TIMEOUT)
        );
        assert_eq!(settings.ssl_mode, SslMode::Prefer);
        assert_eq!(settings.verify, Verify::Nothing);

        let settings = resolved(
            "host=db.example port=5433 dbname=games user='a b' sslmode=verify-full \
             sslrootcert=/dev/null",
            &[],
        );
        assert_eq!(hosts(&settings), ["db.example:5433"]);
        assert_eq!(settings.config.get_user(), Some("a b"));
        assert_eq!(
            settings.verify,
            Verify::Chain {
                roots: RootCerts::File("/dev/null".into()),
                name: true
            }
        );
    }

    #[test]
    fn sslmode_and_sslrootcert_mean_what_they_mean_to_libpq() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".postgresql/root.crt");
        let home = dir.path().to_str().unwrap();
        let env = [("USER", "u"), ("HOME", home)];
        let verify = |target: &str| resolved(target, &env).verify;
        // No root certificate file: require does not verify, verify-* cannot.
        assert_eq!(verify("sslmode=require"), Verify::Nothing);
        for mode in ["verify-ca", "verify-full"] {
            let error = resolve(&format!("sslmode={mode}"), &env).unwrap_err();
            assert!(
                matches!(&error, Invalid::NoRootCert { path, .. } if *path == root),
                "{error}"
            );
        }
        std::fs::create_dir_all(root.parent().unwrap()).unwrap();
        std::fs::write(&root, "").unwrap();
        let chain = |name| Verify::Chain {
            roots: RootCerts::File(root.clone()),
            name,
        };
        assert_eq!(verify("sslmode=require"), chain(false));
        assert_eq!(verify("sslmode=verify-ca"), chain(false));
        assert_eq!(verify("sslmode=verify-full"), chain(true));
        assert_eq!(verify("sslmode=prefer"), Verify::Nothing);
        assert_eq!(verify("sslmode=allow"), Verify::Nothing);

        let system = resolved("sslrootcert=system", &env);
        assert_eq!(system.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            system.verify,
            Verify::Chain {
                roots: RootCerts::System,
                name: true
            }
        );
        let error = resolve("sslrootcert=system sslmode=require", &env).unwrap_err();
        assert!(matches!(
            error,
            Invalid::WeakWithSystemRoots(SslMode::Require)
        ));
        assert!(matches!(
            resolve("sslmode=verify", &env),
            Err(Invalid::SslMode)
        ));
    }

    #[test]
    fn errors_name_the_parameter_never_its_value() {
        let env = [("USER", "u")];
        for (target, expected) in [
            (
                "postgresql://h:s3cret/db",
                "invalid value for option `port`",
            ),
            ("postgresql://h/db?s3cret=1", "unknown option `s3cret`"),
            ("host=h password='s3cret", "unterminated quoted value"),
            ("postgresql://h/db?sslmode=s3cret", "invalid sslmode"),
        ] {
            let error = crate::errors::with_causes(&resolve(target, &env).unwrap_err());
            assert!(error.contains(expected), "{target}: {error}");
            assert!(
                !error.contains("s3cret") || target.contains("?s3cret"),
                "{error}"
            );
        }
        assert!(matches!(resolve("host=h", &[]), Err(Invalid::NoUser)));
    }

    fn password_file(dir: &Path, name: &str, mode: u32, lines: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, lines).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn reads_the_password_file_as_libpq_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = password_file(
            dir.path(),
            "pgpass",
            0o600,
            "# a comment\n\
             other.example:*:*:*:wrong\n\
             db.example:5432:games:alice:pa\\:ss\\\\word\n\
             db.example:*:*:*:any-db\n\
             localhost:*:*:bob:local\n\
             /tmp/pg:6000:*:carol:socket\n\
             *:*:*:d\\:ave:escaped:colon\n",
        );
        let file = file.to_str().unwrap();
        let password = |target: &str| {
            let env = [("USER", "alice"), ("PGPASSFILE", file)];
            let settings = resolved(target, &env);
            settings
                .config
                .get_password()
                .map(|password| String::from_utf8(password.to_vec()).unwrap())
        };
        assert_eq!(
            password("postgresql://db.example/games").as_deref(),
            Some(r"pa:ss\word")
        );
        assert_eq!(
            password("postgresql://db.example/other").as_deref(),
            Some("any-db")
        );
        assert_eq!(
            password("postgresql://bob@%2Fvar%2Frun%2Fpostgresql/x").as_deref(),
            Some("local")
        );
        assert_eq!(password("user=bob dbname=x").as_deref(), Some("local"));
        assert_eq!(
            password("host=/tmp/pg port=6000 user=carol").as_deref(),
            Some("socket")
        );
        assert_eq!(
            password("host=h user=d:ave").as_deref(),
            Some("escaped:colon")
        );
        assert_eq!(password("host=nowhere user=eve"), None);
        // The URL's password wins over the file.
        assert_eq!(
            password("postgresql://alice:given@db.example/games").as_deref(),
            Some("given")
        );

        // Readable by others: ignored, as libpq ignores it.
        let open = password_file(dir.path(), "open", 0o644, "*:*:*:*:leaked\n");
        let env = [("USER", "alice"), ("PGPASSFILE", open.to_str().unwrap())];
        assert_eq!(resolved("host=h", &env).config.get_password(), None);
        // ~/.pgpass by default; `passfile` in the string wins over PGPASSFILE.
        let home = tempfile::tempdir().unwrap();
        password_file(home.path(), ".pgpass", 0o600, "*:*:*:*:from-home\n");
        let env = [("USER", "alice"), ("HOME", home.path().to_str().unwrap())];
        assert_eq!(
            resolved("host=h", &env).config.get_password(),
            Some(&b"from-home"[..])
        );
        let env = [("USER", "alice"), ("PGPASSFILE", "/nonexistent")];
        let target = format!("host=db.example dbname=games passfile={file}");
        assert_eq!(
            resolved(&target, &env).config.get_password(),
            Some(&b"pa:ss\\word"[..])
        );
    }
}
