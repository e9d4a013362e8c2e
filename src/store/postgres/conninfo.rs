//! The two forms of connection string libpq accepts, read as libpq reads them: URLs
//! (`postgresql://` or `postgres://`, in any case) and `key=value` strings
//! (`host=db.example dbname=games`); and the same strings with their passwords masked, for
//! messages and logs.
//!
//! Both forms are read into the same list of parameters, which [`super::settings`] completes
//! from the environment. Nothing here quotes a value back in an error: in a malformed string,
//! any value may be part of a password.

/// Why a connection string cannot be read. Names the part, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("missing \"=\" after a parameter name")]
    MissingEquals,
    #[error("unterminated quoted value")]
    UnterminatedQuote,
    #[error("an unterminated [ in the host")]
    UnterminatedBracket,
    #[error("a query parameter without \"=\"")]
    QueryWithoutEquals,
    #[error("invalid percent-encoding in the {0}")]
    Encoding(&'static str),
}

/// Whether `target` is a PostgreSQL connection string rather than an SQLite path: a URL with a
/// PostgreSQL scheme, or, without any scheme, a `key=value` string (a parameter name, then `=`).
pub fn is_conninfo(target: &str) -> bool {
    if url_rest(target).is_some() {
        return true;
    }
    if target.contains("://") {
        return false;
    }
    let trimmed = target.trim_start();
    let name_end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    name_end > 0
        && trimmed.starts_with(|c: char| c.is_ascii_alphabetic())
        && trimmed[name_end..].trim_start().starts_with('=')
}

/// The parameters of `target`, a URL or a `key=value` string, in the order given (a later one
/// overrides an earlier one, as in libpq). A URL's parts are named as the `key=value` form names
/// them: `user`, `password`, `host` and `port` (comma-separated lists), `dbname`.
pub fn parameters(target: &str) -> Result<Vec<(String, String)>, Malformed> {
    match url_rest(target) {
        Some(rest) => url_parameters(rest),
        None => Ok(key_values(target)?
            .into_iter()
            .map(|pair| (pair.key.to_string(), pair.value))
            .collect()),
    }
}

/// What follows the scheme of a PostgreSQL URL, or `None` for anything else.
fn url_rest(target: &str) -> Option<&str> {
    ["postgresql://", "postgres://"].iter().find_map(|scheme| {
        let head = target.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| &target[scheme.len()..])
    })
}

/// Where the credentials of a URL's `rest` end (the `@`), if it has any: the last `@` before the
/// first `/`, so that an unescaped `@` in a password stays in the password.
fn credentials_end(rest: &str) -> Option<usize> {
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    authority.rfind('@')
}

fn url_parameters(rest: &str) -> Result<Vec<(String, String)>, Malformed> {
    let mut parameters = Vec::new();
    let mut rest = rest;
    if let Some(at) = credentials_end(rest) {
        let credentials = &rest[..at];
        rest = &rest[at + 1..];
        let (user, password) = match credentials.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (credentials, None),
        };
        if !user.is_empty() {
            parameters.push(("user".into(), decode(user, "user name")?));
        }
        if let Some(password) = password {
            parameters.push(("password".into(), decode(password, "password")?));
        }
    }
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hostspec, after) = rest.split_at(host_end);
    if !hostspec.is_empty() {
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for chunk in hostspec.split(',') {
            let (host, port) = match chunk.strip_prefix('[') {
                Some(bracketed) => {
                    let (host, after) = bracketed
                        .split_once(']')
                        .ok_or(Malformed::UnterminatedBracket)?;
                    (host, after.strip_prefix(':').unwrap_or(after))
                }
                None => chunk.split_once(':').unwrap_or((chunk, "")),
            };
            hosts.push(decode(host, "host")?);
            ports.push(decode(port, "port")?);
        }
        parameters.push(("host".into(), hosts.join(",")));
        if ports.iter().any(|port| !port.is_empty()) {
            parameters.push(("port".into(), ports.join(",")));
        }
    }
    let (path, query) = match after.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (after, None),
    };
    let dbname = path.strip_prefix('/').unwrap_or(path);
    if !dbname.is_empty() {
        parameters.push(("dbname".into(), decode(dbname, "database name")?));
    }
    for pair in query.into_iter().flat_map(|query| query.split('&')) {
        if pair.is_empty() {
            continue;
        }
        let (key, value) = pair.split_once('=').ok_or(Malformed::QueryWithoutEquals)?;
        parameters.push((
            decode(key, "query parameters")?,
            decode(value, "query parameters")?,
        ));
    }
    Ok(parameters)
}

/// Percent-decodes `text`, a part of a URL named `what` in errors.
fn decode(text: &str, what: &'static str) -> Result<String, Malformed> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail
                .get(..2)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or(Malformed::Encoding(what))?;
            bytes.push(hex);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| Malformed::Encoding(what))
}

/// One `key = value` of a `key=value` string, with where its value was written.
struct KeyValue<'a> {
    key: &'a str,
    value: String,
    /// The byte range of the value as written (quotes included).
    written: std::ops::Range<usize>,
}

/// The pairs of a libpq `key=value` string: whitespace between pairs and around `=`; a value is
/// single-quoted (`'two words'`) or runs to the next whitespace; a backslash escapes the next
/// character in either.
fn key_values(text: &str) -> Result<Vec<KeyValue<'_>>, Malformed> {
    let mut pairs = Vec::new();
    let mut at = 0;
    let skip_space = |at: usize| {
        text[at..]
            .find(|c: char| !c.is_whitespace())
            .map_or(text.len(), |offset| at + offset)
    };
    loop {
        at = skip_space(at);
        if at == text.len() {
            return Ok(pairs);
        }
        let key_end = text[at..]
            .find(|c: char| c == '=' || c.is_whitespace())
            .map_or(text.len(), |offset| at + offset);
        let key = &text[at..key_end];
        at = skip_space(key_end);
        if !text[at..].starts_with('=') {
            return Err(Malformed::MissingEquals);
        }
        at = skip_space(at + 1);
        let start = at;
        let quoted = text[at..].starts_with('\'');
        if quoted {
            at += 1;
        }
        let mut value = String::new();
        let mut chars = text[at..].char_indices();
        let mut closed = false;
        while let Some((offset, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '\'' if quoted => {
                    at += offset + 1;
                    closed = true;
                    break;
                }
                c if c.is_whitespace() && !quoted => {
                    at += offset;
                    closed = true;
                    break;
                }
                c => value.push(c),
            }
        }
        if !closed {
            if quoted {
                return Err(Malformed::UnterminatedQuote);
            }
            at = text.len();
        }
        pairs.push(KeyValue {
            key,
            value,
            written: start..at,
        });
    }
}

/// `target` with every password in it replaced by `***`, for naming the database in messages
/// and logs: a URL's `user:password@` and `password=` parameters (however the key is
/// percent-encoded), a `key=value` string's `password`. What cannot be read for sure is masked
/// generously: a malformed URL (an unescaped `@`, `?` or `/` in the password) has too much
/// masked rather than too little, and so has a `key=value` string that does not parse. Other
/// text, an SQLite path, is returned as is.
pub fn mask_password(target: &str) -> String {
    if let Some(rest) = url_rest(target) {
        let scheme_end = target.len() - rest.len();
        return format!("{}{}", &target[..scheme_end], mask_url(rest));
    }
    if !is_conninfo(target) {
        return target.to_string();
    }
    match key_values(target) {
        Ok(pairs) => {
            let mut masked = target.to_string();
            for pair in pairs.iter().rev() {
                if pair.key.eq_ignore_ascii_case("password") {
                    masked.replace_range(pair.written.clone(), "***");
                }
            }
            masked
        }
        Err(_) => match target.to_ascii_lowercase().find("password") {
            Some(start) => format!("{}password=***", &target[..start]),
            None => target.to_string(),
        },
    }
}

/// The part of a URL after its scheme, masked.
fn mask_url(rest: &str) -> String {
    let mut masked = mask_password_params(rest);
    // The query starts at the first `?` after the last `/`, if what follows is `key=value` pairs;
    // an `@` in it (`application_name=me@host`) does not end the credentials.
    let query_start = masked
        .rfind('/')
        .and_then(|slash| masked[slash..].find('?').map(|index| slash + index))
        .filter(|&start| {
            masked[start + 1..]
                .split('&')
                .all(|pair| pair.split_once('=').is_some_and(|(key, _)| !key.is_empty()))
        });
    let before_query = &masked[..query_start.unwrap_or(masked.len())];
    // At least as far as the parser reads credentials, however the rest looks.
    let at = [
        before_query.rfind('@').or_else(|| masked.rfind('@')),
        credentials_end(&masked),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(at) = at
        && let Some(colon) = masked[..at].find(':')
    {
        masked.replace_range(colon + 1..at, "***");
    }
    masked
}

/// Masks the value of every `password=` query parameter, its key compared decoded and
/// case-insensitively, wherever the query seems to start.
fn mask_password_params(url: &str) -> String {
    let mut masked = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(start) = rest.find(['?', '&']) {
        masked.push_str(&rest[..=start]);
        rest = &rest[start + 1..];
        let pair_end = rest.find('&').unwrap_or(rest.len());
        let Some((key, _)) = rest[..pair_end].split_once('=') else {
            continue;
        };
        let decoded = decode(key, "query parameters").unwrap_or_default();
        if decoded.eq_ignore_ascii_case("password") {
            masked.push_str(key);
            masked.push_str("=***");
            rest = &rest[pair_end..];
        }
    }
    masked.push_str(rest);
    masked
}

/// `value` as a `key=value` string writes it: quoted, with `'` and `\` escaped.
pub(super) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(target: &str) -> Vec<(String, String)> {
        parameters(target).unwrap_or_else(|error| panic!("{target}: {error}"))
    }

    fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn reads_urls_as_libpq_does() {
        let cases: [(&str, &[(&str, &str)]); 9] = [
            (
                "postgres://alice:s3cret@db.example:5433/games?sslmode=require",
                &[
                    ("user", "alice"),
                    ("password", "s3cret"),
                    ("host", "db.example"),
                    ("port", "5433"),
                    ("dbname", "games"),
                    ("sslmode", "require"),
                ],
            ),
            (
                "POSTGRES://alice@%2Ftmp%2Fpg%20dir/games",
                &[
                    ("user", "alice"),
                    ("host", "/tmp/pg dir"),
                    ("dbname", "games"),
                ],
            ),
            ("PostgreSQL://", &[]),
            ("postgresql:///games", &[("dbname", "games")]),
            (
                "postgresql://alice:p@ss@host/db",
                &[
                    ("user", "alice"),
                    ("password", "p@ss"),
                    ("host", "host"),
                    ("dbname", "db"),
                ],
            ),
            (
                "postgresql://a,[::1]:6000,b:7/db",
                &[("host", "a,::1,b"), ("port", ",6000,7"), ("dbname", "db")],
            ),
            (
                "postgresql://h/db?application_name=me@host&pass%77ord=x%26y",
                &[
                    ("host", "h"),
                    ("dbname", "db"),
                    ("application_name", "me@host"),
                    ("password", "x&y"),
                ],
            ),
            (
                "postgresql://alice:@/games?host=/run/pg",
                &[
                    ("user", "alice"),
                    ("password", ""),
                    ("dbname", "games"),
                    ("host", "/run/pg"),
                ],
            ),
            (
                "postgresql://?host=%2Ftmp&port=5433",
                &[("host", "/tmp"), ("port", "5433")],
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(pairs(url), owned(expected), "{url}");
        }
        assert_eq!(
            parameters("postgres://h/db?sslmode"),
            Err(Malformed::QueryWithoutEquals)
        );
        assert_eq!(
            parameters("postgres://u:%zz@h/db"),
            Err(Malformed::Encoding("password"))
        );
    }

    #[test]
    fn reads_key_value_strings_as_libpq_does() {
        assert_eq!(
            pairs(r"host=db.example  dbname = games password='two words' x=a\ b y='q\'uote' z="),
            owned(&[
                ("host", "db.example"),
                ("dbname", "games"),
                ("password", "two words"),
                ("x", "a b"),
                ("y", "q'uote"),
                ("z", ""),
            ])
        );
        assert_eq!(pairs("  "), owned(&[]));
        assert_eq!(parameters("host db"), Err(Malformed::MissingEquals));
        assert_eq!(
            parameters("password='unterminated"),
            Err(Malformed::UnterminatedQuote)
        );
        let quoted = quote(r"it's a\b");
        assert_eq!(
            pairs(&format!("password={quoted}")),
            owned(&[("password", r"it's a\b")])
        );
    }

    #[test]
    fn tells_connection_strings_from_sqlite_paths() {
        for target in [
            "postgres://h/db",
            "POSTGRES://h/db",
            "PostgreSQL://",
            "host=db.example dbname=games",
            " dbname = games",
        ] {
            assert!(is_conninfo(target), "{target}");
        }
        for target in [
            "games.sqlite",
            "./a=b.sqlite",
            "/data/x=1.sqlite",
            "file://x=1",
            "mysql://h/db",
            "",
        ] {
            assert!(!is_conninfo(target), "{target}");
        }
    }

    #[test]
    fn masks_the_password_in_every_form() {
        let cases = [
            (
                "postgres://alice:s3cret@db.example:5432/games",
                "postgres://alice:***@db.example:5432/games",
            ),
            (
                "postgresql://alice:s3cret@%2Ftmp%2Fpg/games?sslmode=disable",
                "postgresql://alice:***@%2Ftmp%2Fpg/games?sslmode=disable",
            ),
            (
                "postgresql://alice@localhost/games",
                "postgresql://alice@localhost/games",
            ),
            (
                "postgresql:///games?host=/tmp",
                "postgresql:///games?host=/tmp",
            ),
            (
                "postgresql://alice@/games?host=/tmp&password=s3cret&x=1",
                "postgresql://alice@/games?host=/tmp&password=***&x=1",
            ),
            // Malformed passwords are masked whole, not cut at the character that breaks them.
            (
                "postgres://alice:p@ss?w/rd@localhost/games",
                "postgres://alice:***@localhost/games",
            ),
            (
                "postgres://alice:pw@localhost/games?application_name=a@b",
                "postgres://alice:***@localhost/games?application_name=a@b",
            ),
            (
                "postgres://alice:p@ss@localhost/games?host=/tmp&application_name=a@b",
                "postgres://alice:***@b",
            ),
            ("postgres://alice:pa?s@s@host", "postgres://alice:***@host"),
            (
                "postgres://alice:pa?ss@host/db?PASSWORD=x&sslmode=disable",
                "postgres://alice:***@host/db?PASSWORD=***&sslmode=disable",
            ),
            (
                "postgres://alice:@localhost/games",
                "postgres://alice:***@localhost/games",
            ),
            // An unescaped `@` in the password, and an upper-case scheme.
            (
                "POSTGRES://alice:p@ss@db.example/games",
                "POSTGRES://alice:***@db.example/games",
            ),
            (
                "PostgreSQL://alice:s3cret@db.example/games",
                "PostgreSQL://alice:***@db.example/games",
            ),
            // A password in the query, its key percent-encoded.
            (
                "postgresql://alice@db.example/games?pass%77ord=s3cret&sslmode=require",
                "postgresql://alice@db.example/games?pass%77ord=***&sslmode=require",
            ),
            (
                "postgresql://alice@db.example/games?sslmode=require&%70assword=s%33cret",
                "postgresql://alice@db.example/games?sslmode=require&%70assword=***",
            ),
            // An unescaped `/` in the password: masked at least as far as the parser reads it.
            (
                "postgres://alice:pa/ss@host/db",
                "postgres://alice:***@host/db",
            ),
            // key=value strings, quoted or not, any case of key.
            (
                "host=db.example password=s3cret dbname=games",
                "host=db.example password=*** dbname=games",
            ),
            (
                "host=db.example PASSWORD = 's3 cr\\'et' dbname=games",
                "host=db.example PASSWORD = *** dbname=games",
            ),
            (
                "host=db.example password='s3cret",
                "host=db.example password=***",
            ),
            ("games.sqlite", "games.sqlite"),
            ("/tmp/password=x.sqlite", "/tmp/password=x.sqlite"),
        ];
        for (target, expected) in cases {
            assert_eq!(mask_password(target), expected, "{target}");
        }
    }
}
