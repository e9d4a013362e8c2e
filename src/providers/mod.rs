//! The providers: what each site serves and how to walk a player's history there. A provider
//! hands games to a [`Sink`] and knows nothing of how they are stored or shown.

use std::future::Future;

use crate::game::GameRecord;
use crate::http::{Etiquette, HttpError, Notice};
use crate::player::Platform;
use crate::report::Retry;
use crate::resume::{Cursor, MonthValidator, ResumePoint};

pub mod chesscom;
pub mod lichess;
mod lines;

/// One site as a run sees it: the shared client, where the site is, and its etiquette.
#[derive(Clone, Debug)]
pub struct Source {
    pub client: reqwest::Client,
    /// Base URL without a trailing slash, e.g. `https://lichess.org`.
    pub base_url: String,
    /// Sent as a Bearer token (Lichess only).
    pub token: Option<String>,
    pub limits: Limits,
    pub etiquette: Etiquette,
}

/// The most chess-import reads of each kind of answer, after decompression: generous for what
/// the providers really send, and small enough that a hostile or broken answer costs one
/// player an error instead of the machine its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// A profile, an archive list, an error body: a few KB in reality.
    pub document: usize,
    /// A Chess.com month, or a Lichess export by ids (300 games): a few MB in reality.
    pub archive: usize,
    /// One line of a Lichess export, one game: under 100 KB in reality.
    pub line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            document: 1 << 20,
            archive: 16 << 20,
            line: 8 << 20,
        }
    }
}

impl Limits {
    /// Every limit lowered to `bytes` at most.
    pub fn at_most(self, bytes: u32) -> Self {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        Limits {
            document: self.document.min(bytes),
            archive: self.archive.min(bytes),
            line: self.line.min(bytes),
        }
    }
}

impl Source {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Both sites of a run.
#[derive(Clone, Debug)]
pub struct Sources {
    pub lichess: Source,
    pub chesscom: Source,
}

impl Sources {
    pub fn of(&self, platform: Platform) -> &Source {
        match platform {
            Platform::Lichess => &self.lichess,
            Platform::Chesscom => &self.chesscom,
        }
    }
}

/// What to fetch for one player.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Where the previous runs stopped.
    pub resume: ResumePoint,
    /// Games of the player already stored, which a progress total need not count again.
    pub stored_games: u64,
    /// Only games started at or after this instant (unix ms).
    pub since: Option<i64>,
    /// Only games started before this instant (unix ms).
    pub until: Option<i64>,
    /// Stop after this many games.
    pub max_games: Option<u64>,
    /// Whether to spend a request learning how many games there are, for a progress bar.
    pub want_total: bool,
    /// Ask Lichess for its engine analysis too (`--with-analysis`).
    pub with_analysis: bool,
    /// Chess.com: ask again, conditionally, the months from the one holding this instant (unix
    /// ms) on, even those stored completely (`--refresh-analysis`): their games are handed over
    /// again, to bring the stored ones up to date.
    pub refresh_since: Option<i64>,
    /// Lichess: only the finished games' ids and metadata, without moves or PGN, for
    /// `verify --deep` to compare against the store. Chess.com months have no such form.
    pub ids_only: bool,
}

/// How much there is to fetch, when the provider can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Total {
    /// An estimate of the player's games (Lichess's profile counter).
    Games(u64),
    /// Monthly archives to fetch (Chess.com).
    Months(u64),
}

/// The writer went away (a store error); the provider should stop.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("storing games failed")]
pub struct SinkClosed;

/// Where a provider puts what it fetched.
pub trait Sink {
    /// A game to store. `cursor`, when given, is how far the player's games are stored without a
    /// gap once this game is.
    fn game(
        &mut self,
        game: GameRecord,
        cursor: Option<Cursor>,
    ) -> impl Future<Output = Result<(), SinkClosed>> + Send;

    /// Hands everything passed so far to the store now, with what it completes.
    fn commit(
        &mut self,
        cursor: Option<Cursor>,
        month: Option<MonthValidator>,
    ) -> impl Future<Output = Result<(), SinkClosed>> + Send;

    /// A Lichess game still in progress: remembered, to be fetched by id once finished.
    /// `cursor` may pass it, since it is remembered in the same commit.
    fn ongoing(&mut self, game_id: String, cursor: Option<Cursor>);

    /// A remembered in-progress game that has now been handed over as a game, or is gone.
    fn resolved(&mut self, game_id: String);

    /// A served record with nothing to store (an aborted game) that the cursor may pass.
    fn passed(&mut self, cursor: Option<Cursor>);

    /// A record that could not be read at all (no id, broken JSON): counted as invalid.
    fn unreadable(&mut self, reason: &str);

    /// A game the store cannot take (e.g. bughouse without PGN): counted as skipped.
    fn skipped(&mut self, reason: &str);

    fn total(&mut self, total: Total);

    /// A Chess.com month is done (stored or unchanged).
    fn month_done(&mut self);

    fn notice(&mut self, notice: Notice);

    /// A field the import relies on was missing or held an unknown value; the record was still
    /// handled as well as it could be.
    fn drift(&mut self, drift: Drift);
}

/// A field of a provider's answer that the import relies on, missing or holding a value it does
/// not know: what `check` reports as drift of the API.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Drift {
    pub field: &'static str,
    pub kind: DriftKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DriftKind {
    Missing,
    /// An enumerated field with a value the import does not know.
    Unknown(String),
    /// A value of another JSON type than the field has (a string for a boolean, say).
    OddType,
}

impl Drift {
    pub fn missing(field: &'static str) -> Self {
        Drift {
            field,
            kind: DriftKind::Missing,
        }
    }

    /// The fields of `required` (name, whether present) that are missing.
    pub fn missing_among(required: &[(&'static str, bool)]) -> Vec<Self> {
        required
            .iter()
            .filter(|(_, present)| !present)
            .map(|(field, _)| Drift::missing(field))
            .collect()
    }

    /// Drift of an enumerated field: missing, or not one of `known`.
    pub fn of_enum(field: &'static str, value: Option<&str>, known: &[&str]) -> Option<Self> {
        match value {
            None => Some(Drift::missing(field)),
            Some(value) if known.contains(&value) => None,
            Some(value) => Some(Drift {
                field,
                kind: DriftKind::Unknown(value.to_string()),
            }),
        }
    }

    /// Drift of a field read leniently: missing, or of another type.
    pub fn of_lenient<T>(field: &'static str, value: &Lenient<T>) -> Option<Self> {
        let kind = match value {
            Lenient::Value(_) => return None,
            Lenient::Missing => DriftKind::Missing,
            Lenient::Odd => DriftKind::OddType,
        };
        Some(Drift { field, kind })
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.field;
        match &self.kind {
            DriftKind::Missing => write!(f, "`{field}` is missing"),
            DriftKind::Unknown(value) => write!(f, "`{field}` has the unknown value {value:?}"),
            DriftKind::OddType => write!(f, "`{field}` has a value of another type"),
        }
    }
}

/// A field that is incidental to storing a game, read so that a value of an unexpected type
/// (`"rated":"yes"`, a rating of `1500.5`) costs only that field, never the whole game.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Lenient<T> {
    #[default]
    Missing,
    Value(T),
    Odd,
}

/// The JSON scalars a lenient field can hold, each taking the JSON values it accepts. Read with
/// a visitor rather than through `serde_json::Value`, so that a well-typed value costs nothing
/// more than a strict field does: these fields are on every game of a stream.
pub trait Scalar: Sized {
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    /// A JSON object; read as `Self` when `Self` is one, skipped otherwise.
    fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
}

impl Scalar for bool {
    fn from_bool(value: bool) -> Option<Self> {
        Some(value)
    }
}

impl Scalar for i64 {
    fn from_i64(value: i64) -> Option<Self> {
        Some(value)
    }
    fn from_u64(value: u64) -> Option<Self> {
        i64::try_from(value).ok()
    }
}

impl Scalar for i32 {
    fn from_i64(value: i64) -> Option<Self> {
        i32::try_from(value).ok()
    }
    fn from_u64(value: u64) -> Option<Self> {
        i32::try_from(value).ok()
    }
}

impl Scalar for u32 {
    fn from_i64(value: i64) -> Option<Self> {
        u32::try_from(value).ok()
    }
    fn from_u64(value: u64) -> Option<Self> {
        u32::try_from(value).ok()
    }
}

/// Integers are numbers too: an accuracy of `100` is as good as `100.0`.
impl Scalar for f64 {
    fn from_i64(value: i64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_u64(value: u64) -> Option<Self> {
        Some(value as f64)
    }
    fn from_f64(value: f64) -> Option<Self> {
        value.is_finite().then_some(value)
    }
}

/// Makes JSON objects read leniently themselves: a field of their type is read whole when it
/// is an object (each of its fields lenient in turn), and skipped as odd when it is not.
macro_rules! lenient_objects {
    ($($object:ty),+ $(,)?) => {$(
        impl $crate::providers::Scalar for $object {
            fn from_map<'de, A: serde::de::MapAccess<'de>>(
                map: A,
            ) -> Result<Option<Self>, A::Error> {
                <$object as serde::Deserialize>::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )
                .map(Some)
            }
        }
    )+};
}
pub(crate) use lenient_objects;

impl Scalar for String {
    fn from_str(value: &str) -> Option<Self> {
        Some(value.to_string())
    }
}

impl<'de, T: Scalar> serde::Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(std::marker::PhantomData))
    }
}

struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<T> LenientVisitor<T> {
    fn or_odd(value: Option<T>) -> Lenient<T> {
        value.map_or(Lenient::Odd, Lenient::Value)
    }
}

impl<'de, T: Scalar> serde::de::Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(Self::or_odd(T::from_bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(Self::or_odd(T::from_i64(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Self::or_odd(T::from_u64(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(Self::or_odd(T::from_f64(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Self::or_odd(T::from_str(value)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Missing)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Missing)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Lenient::Odd)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(Self::or_odd(T::from_map(map)?))
    }
}

impl<T> Lenient<T> {
    pub fn ok(self) -> Option<T> {
        match self {
            Lenient::Value(value) => Some(value),
            Lenient::Missing | Lenient::Odd => None,
        }
    }

    pub fn get(&self) -> Option<&T> {
        match self {
            Lenient::Value(value) => Some(value),
            Lenient::Missing | Lenient::Odd => None,
        }
    }
}

/// Reads a whole answer as the JSON document `T`; an answer that is not JSON (an HTML portal or
/// error page) is a bad response, never a document.
fn json<T: serde::de::DeserializeOwned>(
    answer: &crate::http::Answer,
    what: &'static str,
) -> Result<T, ProviderError> {
    let content_type = answer.content_type();
    if !content_type.contains("json") {
        return Err(ProviderError::BadResponse(format!(
            "{what} answered {} instead of JSON",
            if content_type.is_empty() {
                "without a content type"
            } else {
                content_type.as_str()
            }
        )));
    }
    serde_json::from_slice(&answer.body).map_err(|source| ProviderError::NotJson { what, source })
}

/// Why a player's import stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("user not found")]
    UserNotFound,
    #[error("{what}: {source}")]
    Http {
        what: &'static str,
        #[source]
        source: HttpError,
    },
    /// An answer that breaks the provider's protocol (the wrong kind of body, an error object).
    #[error("{0}")]
    BadResponse(String),
    /// A JSON document that is not the one expected.
    #[error("{what} is not the expected JSON ({source})")]
    NotJson {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The provider refuses this client (an HTTP 403 that is not a rate decision), most often
    /// for its User-Agent.
    #[error("{0}")]
    Refused(String),
    /// The Lichess export stream broke off again and again without a new game.
    #[error("game export: {last} (after {tries} tries)")]
    ExportBroken {
        tries: u32,
        #[source]
        last: lichess::Break,
    },
    /// Chess.com: months that failed while the others were stored, or a 404 that is not its
    /// "user not found".
    #[error(transparent)]
    Chesscom(#[from] chesscom::Failure),
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Sink(#[from] SinkClosed),
}

impl ProviderError {
    /// Maps a request error, treating a 404 as the player not existing.
    pub fn from_http(what: &'static str, error: HttpError) -> Self {
        match error {
            HttpError::NotFound(_) => ProviderError::UserNotFound,
            HttpError::Interrupted => ProviderError::Interrupted,
            source => ProviderError::Http { what, source },
        }
    }

    /// Whether the player is worth another attempt later, as the error tells: not when it does
    /// not exist or the provider refuses this client, yes when the provider, the network or
    /// the store failed or the provider's answers broke off or made no sense.
    pub fn retry(&self) -> Retry {
        match self {
            ProviderError::UserNotFound | ProviderError::Refused(_) => Retry::Never,
            ProviderError::Http { source, .. } => source.retry(),
            ProviderError::BadResponse(_)
            | ProviderError::NotJson { .. }
            | ProviderError::ExportBroken { .. }
            | ProviderError::Chesscom(_)
            | ProviderError::Interrupted
            | ProviderError::Sink(_) => Retry::Later { after: None },
        }
    }
}
