//! The one HTTP client of a run, and the etiquette every request follows: per-provider lanes,
//! `Retry-After`, capped exponential backoff with jitter, and a clear split between answers worth
//! retrying and answers that are final.
//!
//! Written here rather than taken from a crate on purpose: the providers' rules are "at most N
//! in flight" and "pause everyone until T", a semaphore and a deadline rather than the token
//! rate of governor; and no retry crate (backon, reqwest-retry) pauses a whole lane, narrows it
//! to one request after a 429, stops it for the run after a block, or keeps a permit while a
//! body streams.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::host_lane::{HostLane, HostPermit};
use crate::report::Retry;

/// How patient the importer is with the providers.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_tries: u32,
    /// The first backoff; each further try doubles it.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// How long a provider lane pauses after a 429 that says nothing of when to come back.
    pub rate_limit_wait: Duration,
    /// The longest pause a provider may ask for; beyond it, its players fail instead.
    pub max_wait: Duration,
    /// The longest a whole body may take to arrive (a server can trickle a byte at a time under
    /// the client's read timeout, which only bounds silence).
    pub read_timeout: Duration,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::Waiting(wait) => {
                // Rounded up: a 0.4 s pause is not "waiting 0s".
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                write!(f, "waiting {seconds}s (rate limited)")
            }
            Notice::Retrying {
                attempt,
                max,
                error,
            } => write!(f, "retrying {attempt}/{max} ({error})"),
            Notice::HostBusy => f.write_str("waiting for another chess-import on this host"),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(60),
            max_wait: Duration::from_secs(15 * 60),
            read_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `attempt + 1` (attempt counts from 1): exponential, capped, and
    /// jittered to between half and all of it so that retrying players do not march in step.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let full = self
            .backoff
            .saturating_mul(1 << exponent)
            .min(self.max_backoff);
        full.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// Settings of the shared client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Longest silence on an open connection, so a stalled stream is noticed and resumed.
    pub read_timeout: Duration,
    /// The providers' base URLs: a redirect may only lead within the one it started at.
    pub bases: Vec<reqwest::Url>,
}

/// How many redirects one request may follow.
const MAX_REDIRECTS: usize = 5;

/// Builds the one pooled client every task of a run shares.
pub fn build_client(config: &ClientConfig) -> reqwest::Result<reqwest::Client> {
    let bases = config.bases.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        let within = |url: &reqwest::Url| bases.iter().any(|base| base.origin() == url.origin());
        if attempt.previous().len() > MAX_REDIRECTS {
            let error = format!("more than {MAX_REDIRECTS} redirects");
            attempt.error(error)
        } else if !within(attempt.url()) {
            let error = format!(
                "redirected to {}, outside the configured base URL",
                attempt.url().origin().ascii_serialization()
            );
            attempt.error(error)
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .user_agent(&config.user_agent)
        .gzip(true)
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(redirects)
        .build()
}

/// Why a request did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// With the first line of the body: Chess.com answers some of its server errors with a 404,
    /// which only the body tells from "user not found".
    #[error("not found (HTTP 404)")]
    NotFound(String),
    #[error("gone: the provider will never serve this again (HTTP 410)")]
    Gone,
    #[error("forbidden (HTTP 403): {0}")]
    Forbidden(String),
    #[error("rate limited (HTTP 429) {tries} times in a row")]
    RateLimited { tries: u32 },
    /// The provider asked for a longer pause than `--max-wait` allows.
    #[error(
        "{provider} asks to wait {} (rate limited); more than --max-wait {}, giving up",
        human_duration(*.wait),
        human_duration(*.max)
    )]
    WaitTooLong {
        provider: &'static str,
        wait: Duration,
        max: Duration,
    },
    /// A token the provider does not accept: every request of the run would fail alike.
    #[error("{provider} rejected the token (HTTP 401): check --lichess-token, or leave it out")]
    Unauthorized { provider: &'static str },
    /// A body larger than chess-import reads of this kind of answer.
    #[error("{url}: the answer is larger than {}, more than such an answer can be", human_bytes(*.limit))]
    TooLarge { url: String, limit: usize },
    #[error("HTTP {status} after {tries} tries")]
    Status { status: StatusCode, tries: u32 },
    /// No answer, or an answer whose body broke off.
    #[error("{}{}", .failure, after(*.tries))]
    Transport {
        failure: Transport,
        tries: u32,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The request could not even be built (e.g. a header value that is not valid HTTP).
    #[error("cannot build the request: {0}")]
    Request(#[source] reqwest::Error),
    #[error("{0}")]
    Blocked(String),
    /// Not sent: the provider's last requests all went unanswered, or another process of this
    /// host held its lane for longer than `--max-wait`. The failure is the provider's, not the
    /// player's: worth trying again in `retry_in`.
    #[error("{reason}")]
    Unavailable { reason: String, retry_in: Duration },
    #[error("interrupted")]
    Interrupted,
}

impl HttpError {
    /// Whether the player whose request failed so is worth another attempt later: yes when the
    /// provider or the network failed, no when the answer was about the player or this client.
    pub fn retry(&self) -> Retry {
        match self {
            HttpError::NotFound(_)
            | HttpError::Gone
            | HttpError::Forbidden(_)
            | HttpError::Unauthorized { .. }
            | HttpError::TooLarge { .. }
            | HttpError::Request(_) => Retry::Never,
            // A 408 is a server that timed out, not an answer about the request.
            HttpError::Status { status, .. }
                if status.is_client_error() && *status != StatusCode::REQUEST_TIMEOUT =>
            {
                Retry::Never
            }
            HttpError::Transport { failure, .. }
                if matches!(failure.cause, TransportCause::Redirect(_)) =>
            {
                Retry::Never
            }
            HttpError::WaitTooLong { wait, .. } => Retry::Later { after: Some(*wait) },
            HttpError::Unavailable { retry_in, .. } => Retry::Later {
                after: Some(*retry_in),
            },
            HttpError::RateLimited { .. }
            | HttpError::Status { .. }
            | HttpError::Transport { .. }
            | HttpError::Blocked(_)
            | HttpError::Interrupted => Retry::Later { after: None },
        }
    }
}

/// ` (after N tries)`, or nothing for a first try.
pub(crate) fn after(tries: u32) -> String {
    if tries > 1 {
        format!(" (after {tries} tries)")
    } else {
        String::new()
    }
}

/// What went wrong on the wire, short enough for a progress line: the host and the cause,
/// without the request's URL, which reqwest's own message repeats at length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transport {
    pub host: String,
    pub cause: TransportCause,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportCause {
    /// The name does not resolve: offline, or a wrong URL. Retrying cannot help.
    Dns,
    ConnectionRefused,
    /// No connection within `--connect-timeout`: the server is down, or drops what it cannot
    /// accept.
    ConnectTimedOut,
    TimedOut,
    /// A redirect chess-import does not follow: out of the base URL, or too many.
    Redirect(String),
    /// The answer kept coming, a little at a time, for longer than `--read-timeout`.
    Trickled,
    /// Anything else, as the deepest cause says it (e.g. "connection reset by peer").
    Other(String),
}

impl Transport {
    pub fn of(error: &reqwest::Error) -> Self {
        let host = error
            .url()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_else(|| "the provider".into());
        Transport {
            host,
            cause: TransportCause::of(error),
        }
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self.cause,
            TransportCause::Dns | TransportCause::Redirect(_)
        )
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.host, self.cause)
    }
}

impl std::fmt::Display for TransportCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportCause::Dns => f.write_str("cannot resolve host (offline?)"),
            TransportCause::ConnectionRefused => f.write_str("connection refused"),
            TransportCause::ConnectTimedOut => {
                f.write_str("no connection within --connect-timeout")
            }
            TransportCause::TimedOut => f.write_str("timed out"),
            TransportCause::Trickled => {
                f.write_str("the answer trickled for longer than --read-timeout")
            }
            TransportCause::Redirect(why) | TransportCause::Other(why) => f.write_str(why),
        }
    }
}

impl TransportCause {
    fn of(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            if error.is_connect() {
                return TransportCause::ConnectTimedOut;
            }
            return TransportCause::TimedOut;
        }
        if error.is_redirect() {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
            let mut why = String::from("redirected elsewhere");
            while let Some(current) = cause {
                why = current.to_string();
                cause = current.source();
            }
            return TransportCause::Redirect(why);
        }
        let mut deepest = None;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = cause {
            let text = current.to_string();
            // hyper-util names a failed lookup "dns error"; the resolver's own text varies.
            if text.starts_with("dns error") {
                return TransportCause::Dns;
            }
            if let Some(io) = current.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return TransportCause::ConnectionRefused;
                    }
                    std::io::ErrorKind::TimedOut => return TransportCause::TimedOut,
                    _ => {}
                }
            }
            deepest = Some(text);
            cause = current.source();
        }
        TransportCause::Other(deepest.unwrap_or_else(|| error.to_string()))
    }
}

/// A whole answer: its status and headers, and the body read completely under the lane.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The media type, lowercase (empty when there is none).
    pub fn content_type(&self) -> String {
        media_type(&self.headers)
    }
}

/// What a retrying request tells the player's progress line.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    /// Rate limited: the provider's lane is paused this long.
    Waiting(Duration),
    /// Try `attempt` of `max` is about to be sent after an error.
    Retrying {
        attempt: u32,
        max: u32,
        error: String,
    },
    /// Another process of this host holds the provider's lane.
    HostBusy,
}

/// How many requests in a row may go unanswered after all their tries (no connection, time-outs,
/// 5xx) before a provider is taken for down: its next players then fail at once instead of each
/// paying the whole retry budget (100 players of a dead provider would otherwise take hours).
pub const DOWN_AFTER: u32 = 3;

/// How long a provider taken for down fails its requests at once; the first request after that
/// tries it again.
pub const DOWN_FOR: Duration = Duration::from_secs(5 * 60);

/// A provider's share of the run: how many requests may be in flight at once, whether the
/// provider asked us to pause, whether it has blocked us for the rest of the run, and whether it
/// answers at all.
#[derive(Debug)]
pub struct Lane {
    slots: Arc<Semaphore>,
    /// Taken in addition to a slot once the provider has shown it wants fewer parallel requests.
    narrow: Arc<Semaphore>,
    narrowed: AtomicBool,
    paused_until: Mutex<Option<Instant>>,
    blocked: Mutex<Option<String>>,
    health: Mutex<Health>,
    /// The lane's share of the host, when the processes of this host share one.
    host: Option<HostLane>,
    /// Whether the host's lane failed (e.g. its directory went away), said once.
    host_failed: AtomicBool,
}

/// Whether a provider answers: unanswered requests in a row, and since when it is taken for down.
#[derive(Debug, Default)]
struct Health {
    unanswered: u32,
    down: Option<(Instant, String)>,
}

/// The right to have one request of a lane in flight; a streamed body keeps it until read.
#[derive(Debug)]
pub struct LanePermit {
    _slot: OwnedSemaphorePermit,
    _narrow: Option<OwnedSemaphorePermit>,
    _host: Option<HostPermit>,
}

/// What a request found of the host's lane.
enum HostPlace {
    Taken(HostPermit),
    /// Other processes hold every place.
    Busy,
    /// This lane is not shared with other processes.
    NotShared,
}

/// How often a request waiting for the host's lane looks whether it is free.
const HOST_POLL: Duration = Duration::from_millis(100);

impl Lane {
    /// A lane of this process alone.
    pub fn new(max_in_flight: usize) -> Self {
        Lane::shared(max_in_flight, None)
    }

    /// A lane whose requests also take a place in `host`, the lane of every process of the host.
    pub fn shared(max_in_flight: usize, host: Option<HostLane>) -> Self {
        Lane {
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            narrow: Arc::new(Semaphore::new(1)),
            narrowed: AtomicBool::new(false),
            paused_until: Mutex::new(None),
            blocked: Mutex::new(None),
            health: Mutex::new(Health::default()),
            host,
            host_failed: AtomicBool::new(false),
        }
    }

    /// Waits out any pause, then for a free slot.
    pub async fn acquire(&self, cancel: &CancellationToken) -> Result<LanePermit, HttpError> {
        loop {
            if let Some(reason) = self.blocked_reason() {
                return Err(HttpError::Blocked(reason));
            }
            if let Some(down) = self.down() {
                return Err(down);
            }
            if let Some(until) = self.pause() {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => continue,
                    _ = cancel.cancelled() => return Err(HttpError::Interrupted),
                }
            }
            let slot = tokio::select! {
                slot = self.slots.clone().acquire_owned() => slot,
                _ = cancel.cancelled() => return Err(HttpError::Interrupted),
            };
            let Ok(slot) = slot else {
                return Err(HttpError::Interrupted);
            };
            let narrow = if self.narrowed.load(Ordering::SeqCst) {
                let narrow = tokio::select! {
                    narrow = self.narrow.clone().acquire_owned() => narrow,
                    _ = cancel.cancelled() => return Err(HttpError::Interrupted),
                };
                narrow.ok()
            } else {
                None
            };
            // A pause or a block may have begun while this task queued for its slot.
            if self.pause().is_some() || self.blocked_reason().is_some() {
                continue;
            }
            return Ok(LanePermit {
                _slot: slot,
                _narrow: narrow,
                _host: None,
            });
        }
    }

    fn pause(&self) -> Option<Instant> {
        let paused = *self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        paused.filter(|until| *until > Instant::now())
    }

    /// Pauses every request of this lane until `until` (a later pause wins).
    pub fn pause_until(&self, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// Allows only one request in flight from now on, for the rest of the run.
    pub fn narrow_to_one(&self) {
        self.narrowed.store(true, Ordering::SeqCst);
    }

    /// Stops this lane for the rest of the run: every later request fails with `reason`.
    pub fn block(&self, reason: &str) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.get_or_insert_with(|| reason.to_string());
    }

    fn blocked_reason(&self) -> Option<String> {
        self.blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The provider answered (anything but a server error): it is not down.
    fn answered(&self) {
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Health::default();
    }

    /// A request went unanswered after all its tries; the [`DOWN_AFTER`]th in a row takes the
    /// provider for down for [`DOWN_FOR`], with `reason` for the requests refused meanwhile.
    fn unanswered(&self, reason: impl FnOnce(u32) -> String) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.unanswered += 1;
        // Once down, a try after the pause that goes unanswered too takes it down again at once.
        if health.unanswered >= DOWN_AFTER || health.down.is_some() {
            health.down = Some((Instant::now() + DOWN_FOR, reason(health.unanswered)));
            health.unanswered = 0;
        }
    }

    /// Takes a place in the host's lane without waiting. A lane whose files cannot be used any
    /// more is this process's alone from then on.
    fn try_host(&self) -> HostPlace {
        let Some(host) = &self.host else {
            return HostPlace::NotShared;
        };
        if self.host_failed.load(Ordering::Relaxed) {
            return HostPlace::NotShared;
        }
        match host.try_take() {
            Ok(Some(permit)) => HostPlace::Taken(permit),
            Ok(None) => HostPlace::Busy,
            Err(error) => {
                if !self.host_failed.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "cannot share a provider's lane with the other processes of this host \
                         any more ({error}); this run keeps to its own"
                    );
                }
                HostPlace::NotShared
            }
        }
    }

    /// Takes the provider for down now, for [`DOWN_FOR`], and says so as requests refused
    /// meanwhile will.
    fn take_down(&self, reason: String) -> HttpError {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.down = Some((Instant::now() + DOWN_FOR, reason.clone()));
        HttpError::Unavailable {
            reason,
            retry_in: DOWN_FOR,
        }
    }

    /// The error for a request not sent because the provider is down, while it is.
    fn down(&self) -> Option<HttpError> {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let (until, reason) = health.down.as_ref()?;
        let retry_in = until
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())?;
        Some(HttpError::Unavailable {
            reason: reason.clone(),
            retry_in,
        })
    }
}

/// How a provider wants to be treated after a 429 that has no `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitRule {
    /// Lichess: wait the policy's `rate_limit_wait` before any further request to the provider.
    PauseLane,
    /// Chess.com: back off exponentially and keep only one request in flight from then on.
    BackoffAndNarrow,
}

/// A provider's lane, the run's retry policy and its cancellation, which every request needs.
#[derive(Clone, Debug)]
pub struct Etiquette {
    /// The provider as messages name it: `Lichess`, `Chess.com`.
    pub provider: &'static str,
    pub lane: Arc<Lane>,
    pub rule: RateLimitRule,
    pub policy: RetryPolicy,
    pub cancel: CancellationToken,
}

impl Etiquette {
    /// Sends the request `build` makes, retrying what is worth retrying. Returns a response whose
    /// status is 2xx or 304, together with the lane permit its body must be read under: for
    /// bodies read as a stream, whose breaks the caller resumes itself.
    pub async fn send(
        &self,
        build: impl Fn() -> RequestBuilder,
        notify: &mut impl FnMut(Notice),
    ) -> Result<(Response, LanePermit), HttpError> {
        self.retrying(build, notify, |response, permit| async move {
            Ok((response, permit))
        })
        .await
    }

    /// Like [`Etiquette::send`], and reads the whole body under the lane, at most `limit` bytes
    /// of it after decompression, within the policy's `read_timeout`; a body that breaks off or
    /// trickles past that is retried like a request that got no answer.
    pub async fn fetch(
        &self,
        build: impl Fn() -> RequestBuilder,
        notify: &mut impl FnMut(Notice),
        limit: usize,
    ) -> Result<Answer, HttpError> {
        let whole_body = self.policy.read_timeout;
        self.retrying(build, notify, |response: Response, permit| async move {
            let status = response.status();
            let headers = response.headers().clone();
            let url = response.url().to_string();
            let read = tokio::time::timeout(whole_body, read_capped(response, limit)).await;
            drop(permit);
            match read {
                Ok(Ok(Some(body))) => Ok(Ok(Answer {
                    status,
                    headers,
                    body,
                })),
                Ok(Ok(None)) => Ok(Err(HttpError::TooLarge { url, limit })),
                Ok(Err(error)) => Err(ReadFailure::Transport(error)),
                Err(_) => Err(ReadFailure::Trickled),
            }
        })
        .await?
    }

    /// The one retry loop: counts tries, waits out 429s and backs off after server errors and
    /// transport errors (a broken or trickling body included, as `read` reports it), up to the
    /// policy's tries; answers that cannot change (404, 410, 401, 403, other 4xx, a wait longer
    /// than `max_wait`) end it at once.
    async fn retrying<T, Read>(
        &self,
        build: impl Fn() -> RequestBuilder,
        notify: &mut impl FnMut(Notice),
        read: impl Fn(Response, LanePermit) -> Read,
    ) -> Result<T, HttpError>
    where
        Read: Future<Output = Result<T, ReadFailure>>,
    {
        let max = self.policy.max_tries.max(1);
        let mut attempt = 1;
        loop {
            let permit = self.acquire(notify).await?;
            let (client, request) = build().build_split();
            let request = request.map_err(HttpError::Request)?;
            let (method, url) = (request.method().clone(), request.url().clone());
            let started = Instant::now();
            let sent = tokio::select! {
                sent = client.execute(request) => sent,
                _ = self.cancel.cancelled() => return Err(HttpError::Interrupted),
            };
            let failed = match sent {
                Ok(response) => {
                    let status = response.status();
                    tracing::info!(
                        "{method} {} -> {status} in {} ms",
                        without_query_secrets(&url),
                        started.elapsed().as_millis()
                    );
                    if !is_unanswered(status) {
                        self.lane.answered();
                    }
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        let read = tokio::select! {
                            read = read(response, permit) => read,
                            _ = self.cancel.cancelled() => return Err(HttpError::Interrupted),
                        };
                        match read {
                            Ok(value) => return Ok(value),
                            Err(failure) => Err(failure),
                        }
                    } else {
                        Ok((response, permit))
                    }
                }
                Err(error) => {
                    drop(permit);
                    tracing::info!(
                        "{method} {} -> {}",
                        without_query_secrets(&url),
                        Transport::of(&error)
                    );
                    Err(ReadFailure::Transport(error))
                }
            };
            let wait = match failed {
                // Judged under its permit, so that a block or a pause it brings is in place
                // before another request can take the slot.
                Ok((response, _permit)) => match response.status() {
                    StatusCode::NOT_FOUND => {
                        return Err(HttpError::NotFound(body_excerpt(response).await));
                    }
                    StatusCode::GONE => return Err(HttpError::Gone),
                    StatusCode::UNAUTHORIZED => {
                        let error = HttpError::Unauthorized {
                            provider: self.provider,
                        };
                        self.lane.block(&error.to_string());
                        return Err(error);
                    }
                    StatusCode::FORBIDDEN => return Err(self.forbidden(response).await),
                    StatusCode::TOO_MANY_REQUESTS => {
                        if attempt >= max {
                            return Err(HttpError::RateLimited { tries: attempt });
                        }
                        let wait = self.rate_limited(response, attempt).await?;
                        notify(Notice::Waiting(wait));
                        wait
                    }
                    status if is_unanswered(status) => {
                        if attempt >= max {
                            return Err(self.unanswered(HttpError::Status {
                                status,
                                tries: attempt,
                            }));
                        }
                        notify(Notice::Retrying {
                            attempt: attempt + 1,
                            max,
                            error: format!("HTTP {status}"),
                        });
                        self.policy.backoff_for(attempt)
                    }
                    status => {
                        return Err(HttpError::Status {
                            status,
                            tries: attempt,
                        });
                    }
                },
                Err(failure) => {
                    let (transport, source) = failure.into_parts(&url);
                    if attempt >= max || !transport.is_retryable() {
                        return Err(self.unanswered(HttpError::Transport {
                            failure: transport,
                            tries: attempt,
                            source,
                        }));
                    }
                    notify(Notice::Retrying {
                        attempt: attempt + 1,
                        max,
                        error: transport.to_string(),
                    });
                    self.policy.backoff_for(attempt)
                }
            };
            self.sleep(wait).await?;
            attempt += 1;
        }
    }

    /// A place in the lane, and in the host's: while other processes of the host hold all of
    /// its places, waits up to `max_wait`, then takes the provider for down rather than queue
    /// every further player behind them.
    async fn acquire(&self, notify: &mut impl FnMut(Notice)) -> Result<LanePermit, HttpError> {
        let mut permit = self.lane.acquire(&self.cancel).await?;
        let started = Instant::now();
        let mut told = false;
        loop {
            match self.lane.try_host() {
                HostPlace::Taken(host) => {
                    permit._host = Some(host);
                    return Ok(permit);
                }
                HostPlace::NotShared => return Ok(permit),
                HostPlace::Busy if started.elapsed() > self.policy.max_wait => {
                    return Err(self.lane.take_down(format!(
                        "another chess-import on this host held the {} lane for more than \
                         --max-wait {}, giving up",
                        self.provider,
                        human_duration(self.policy.max_wait)
                    )));
                }
                HostPlace::Busy => {
                    if !std::mem::replace(&mut told, true) {
                        notify(Notice::HostBusy);
                    }
                    self.sleep(HOST_POLL).await?;
                }
            }
        }
    }

    /// Counts a request that got no answer after all its tries towards taking the provider for
    /// down, and returns its error.
    fn unanswered(&self, error: HttpError) -> HttpError {
        self.lane.unanswered(|requests| {
            format!(
                "{} unreachable: {error} ({requests} requests in a row failed alike)",
                self.provider
            )
        });
        error
    }

    /// A 403: a provider's page (HTML, e.g. a CDN's challenge) or Chess.com's crawl block
    /// (`Blocked: Archive crawl was too heavy for this API.`) refuses this client for every
    /// request alike, so the lane stops for the run, before the slot frees; any other body is
    /// for the provider's module to read.
    async fn forbidden(&self, response: Response) -> HttpError {
        let html = content_type(&response).starts_with("text/html");
        let excerpt = body_excerpt(response).await;
        if !html && excerpt.starts_with("Blocked") {
            let reason = format!("{} blocked this run: {excerpt}", self.provider);
            self.lane.block(&reason);
            return HttpError::Blocked(reason);
        }
        if !html {
            return HttpError::Forbidden(excerpt);
        }
        let reason = format!(
            "{} refused this client (HTTP 403, an HTML page: a CDN's challenge?); make sure \
             --user-agent names the tool and a contact",
            self.provider
        );
        self.lane.block(&reason);
        HttpError::Blocked(reason)
    }

    /// Waits `wait`, or fails at once when the run is cancelled meanwhile.
    pub async fn sleep(&self, wait: Duration) -> Result<(), HttpError> {
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = self.cancel.cancelled() => Err(HttpError::Interrupted),
        }
    }

    /// Decides the wait after a 429 and applies it to the lane, so that the provider's other
    /// players wait too: `Retry-After`, else the wait a Lichess JSON body names, else the rule's
    /// own. A wait longer than `max_wait` stops the lane for the run instead.
    async fn rate_limited(&self, response: Response, attempt: u32) -> Result<Duration, HttpError> {
        let header = retry_after(response.headers());
        let asked = match header {
            Some(wait) => Some(wait),
            None => rate_limit_body(&body_excerpt_bytes(response).await),
        };
        let wait = match (asked, self.rule) {
            (Some(wait), _) => wait,
            (None, RateLimitRule::PauseLane) => self.policy.rate_limit_wait,
            (None, RateLimitRule::BackoffAndNarrow) => self.policy.backoff_for(attempt),
        };
        if wait > self.policy.max_wait {
            let error = HttpError::WaitTooLong {
                provider: self.provider,
                wait,
                max: self.policy.max_wait,
            };
            self.lane.block(&error.to_string());
            return Err(error);
        }
        if self.rule == RateLimitRule::BackoffAndNarrow {
            self.lane.narrow_to_one();
        }
        self.lane.pause_until(Instant::now() + wait);
        Ok(wait)
    }
}

/// A status that says the server could not answer: a server error, or a request that timed out.
fn is_unanswered(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT
}

/// Why reading an answer's body failed, to be retried like a request without an answer.
#[derive(Debug)]
enum ReadFailure {
    Transport(reqwest::Error),
    /// The body kept coming, a little at a time, for longer than the policy's `read_timeout`.
    Trickled,
}

impl From<reqwest::Error> for ReadFailure {
    fn from(error: reqwest::Error) -> Self {
        ReadFailure::Transport(error)
    }
}

impl ReadFailure {
    fn into_parts(self, url: &reqwest::Url) -> (Transport, Option<reqwest::Error>) {
        match self {
            ReadFailure::Transport(error) => (Transport::of(&error), Some(error)),
            ReadFailure::Trickled => (
                Transport {
                    host: url.host_str().unwrap_or("the provider").to_string(),
                    cause: TransportCause::Trickled,
                },
                None,
            ),
        }
    }
}

/// Reads a body to its end, or `None` once it grows past `limit` bytes: what arrives is counted
/// as it comes, so an endless or decompression-bomb body costs `limit` bytes of memory at most.
async fn read_capped(
    response: Response,
    limit: usize,
) -> Result<Option<bytes::Bytes>, reqwest::Error> {
    use futures_util::StreamExt;
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.into()))
}

/// How much of an error body is read: enough to recognise what the provider meant.
const EXCERPT_LIMIT: usize = 4096;

/// The start of an error body, at most [`EXCERPT_LIMIT`] bytes.
async fn body_excerpt_bytes(response: Response) -> Vec<u8> {
    use futures_util::StreamExt;
    let mut excerpt = Vec::new();
    let mut chunks = response.bytes_stream();
    while excerpt.len() < EXCERPT_LIMIT {
        let Some(Ok(chunk)) = chunks.next().await else {
            break;
        };
        let room = EXCERPT_LIMIT - excerpt.len();
        excerpt.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    excerpt
}

/// The wait a Lichess 429 body names: `{"ratelimit":{"key":...,"seconds":N}}`.
fn rate_limit_body(body: &[u8]) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct Body {
        ratelimit: RateLimit,
    }
    #[derive(serde::Deserialize)]
    struct RateLimit {
        seconds: serde_json::Number,
    }
    let body: Body = serde_json::from_slice(body).ok()?;
    seconds_to_wait(&body.ratelimit.seconds.to_string())
}

/// The first line of an error body, enough to recognise what the provider meant.
async fn body_excerpt(response: Response) -> String {
    let bytes = body_excerpt_bytes(response).await;
    let text = String::from_utf8_lossy(&bytes);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(200).collect()
}

/// A request's URL as a log line may show it: the providers' URLs carry no secrets in their
/// paths, but a query parameter named like a credential is masked all the same.
fn without_query_secrets(url: &reqwest::Url) -> String {
    let secret = |key: &str| {
        let key = key.to_ascii_lowercase();
        ["token", "password", "secret", "key"]
            .iter()
            .any(|word| key.contains(word))
    };
    if !url.query_pairs().any(|(key, _)| secret(&key)) {
        return url.to_string();
    }
    let mut masked = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(key, value)| {
            let value = if secret(&key) {
                "***".into()
            } else {
                value.into_owned()
            };
            (key.into_owned(), value)
        })
        .collect();
    masked.query_pairs_mut().clear().extend_pairs(pairs);
    masked.to_string()
}

/// The response's media type, lowercase (empty when it has none): providers answer some errors
/// as HTML or JSON objects with a 200.
pub fn content_type(response: &Response) -> String {
    media_type(response.headers())
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads `Retry-After` as seconds or as an HTTP date. Any number is read, however odd: a
/// negative or past one means "now", a fraction is kept, and one too large for a `Duration` is
/// the longest `Duration` (which `max_wait` then refuses).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Some(wait) = seconds_to_wait(value) {
        return Some(wait);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A number of seconds as a wait; `None` when it is not a number.
fn seconds_to_wait(text: &str) -> Option<Duration> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let seconds: f64 = text.parse().ok()?;
    if seconds.is_nan() {
        return None;
    }
    if seconds <= 0.0 {
        return Some(Duration::ZERO);
    }
    Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
}

/// `11d 13h`, `15m`, `4m 05s`, `42s`: a wait as a person reads it.
pub fn human_duration(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let (days, hours) = (seconds / 86_400, seconds / 3600 % 24);
    let (minutes, secs) = (seconds / 60 % 60, seconds % 60);
    match (days, hours, minutes, secs) {
        (0, 0, 0, s) => format!("{s}s"),
        (0, 0, m, 0) => format!("{m}m"),
        (0, 0, m, s) => format!("{m}m {s:02}s"),
        (0, h, 0, _) => format!("{h}h"),
        (0, h, m, _) => format!("{h}h {m:02}m"),
        (d, 0, _, _) => format!("{d}d"),
        (d, h, _, _) => format!("{d}d {h}h"),
    }
}

/// `16 MB`, `512 KB`, `100 bytes`.
fn human_bytes(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MB", b >> 20),
        b if b >= 1 << 10 => format!("{} KB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_of_the_provider_is_worth_a_later_attempt_and_an_answer_about_the_player_is_not() {
        let status = |code| HttpError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            tries: 1,
        };
        let later = Retry::Later { after: None };
        assert_eq!(status(503).retry(), later);
        assert_eq!(status(408).retry(), later);
        assert_eq!(HttpError::RateLimited { tries: 3 }.retry(), later);
        assert_eq!(status(400).retry(), Retry::Never);
        assert_eq!(HttpError::NotFound(String::new()).retry(), Retry::Never);
        assert_eq!(HttpError::Gone.retry(), Retry::Never);
        let wait = Duration::from_secs(3600);
        let too_long = HttpError::WaitTooLong {
            provider: "Lichess",
            wait,
            max: Duration::ZERO,
        };
        assert_eq!(too_long.retry(), Retry::Later { after: Some(wait) });
        let down = HttpError::Unavailable {
            reason: String::new(),
            retry_in: DOWN_FOR,
        };
        assert_eq!(
            down.retry(),
            Retry::Later {
                after: Some(DOWN_FOR)
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_lane_is_down_after_unanswered_requests_in_a_row_until_it_answers() {
        let lane = Lane::new(1);
        let cancel = CancellationToken::new();
        let reason = |n: u32| format!("down after {n}");
        for _ in 1..DOWN_AFTER {
            lane.unanswered(reason);
        }
        lane.answered();
        for _ in 1..DOWN_AFTER {
            lane.unanswered(reason);
        }
        assert!(
            lane.acquire(&cancel).await.is_ok(),
            "an answer between resets the count"
        );
        lane.unanswered(reason);
        match lane.acquire(&cancel).await {
            Err(HttpError::Unavailable { reason, retry_in }) => {
                assert_eq!(reason, format!("down after {DOWN_AFTER}"));
                assert_eq!(retry_in, DOWN_FOR);
            }
            other => panic!("not down: {other:?}"),
        }
        tokio::time::advance(DOWN_FOR).await;
        assert!(
            lane.acquire(&cancel).await.is_ok(),
            "tried again after the pause"
        );
        lane.unanswered(reason);
        assert!(
            matches!(
                lane.acquire(&cancel).await,
                Err(HttpError::Unavailable { .. })
            ),
            "one more unanswered try takes it down again"
        );
        tokio::time::advance(DOWN_FOR).await;
        lane.answered();
        lane.unanswered(reason);
        assert!(
            lane.acquire(&cancel).await.is_ok(),
            "an answer made it well again"
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(RETRY_AFTER, later.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a date in the past"
        );
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = RetryPolicy {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let first = policy.backoff_for(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff_for(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(policy.backoff_for(30) <= Duration::from_millis(1000));
        }
    }

    fn etiquette(max_tries: u32) -> Etiquette {
        Etiquette {
            provider: "Lichess",
            lane: Arc::new(Lane::new(1)),
            rule: RateLimitRule::PauseLane,
            policy: RetryPolicy {
                max_tries,
                backoff: Duration::from_millis(1),
                ..RetryPolicy::default()
            },
            cancel: CancellationToken::new(),
        }
    }

    fn client() -> reqwest::Client {
        build_client(&ClientConfig {
            user_agent: "chess-import-test".into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            bases: Vec::new(),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_not_retried_and_said_short() {
        let client = client();
        let mut notices = Vec::new();
        // `.invalid` never resolves (RFC 2606), online or not.
        let url = "http://chess-import.invalid/api/games/user/alice?sort=dateAsc";
        let error = etiquette(5)
            .send(|| client.get(url), &mut |n| notices.push(n))
            .await
            .unwrap_err();
        assert!(notices.is_empty(), "retried: {notices:?}");
        let HttpError::Transport { failure, tries, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(failure.cause, TransportCause::Dns);
        assert_eq!(*tries, 1);
        assert_eq!(
            error.to_string(),
            "chess-import.invalid: cannot resolve host (offline?)"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried_and_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = client();
        let mut notices = Vec::new();
        let url = format!("http://127.0.0.1:{port}/pub/player/bob");
        let error = etiquette(3)
            .send(|| client.get(&url), &mut |n| notices.push(n))
            .await
            .unwrap_err();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert_eq!(
            error.to_string(),
            "127.0.0.1: connection refused (after 3 tries)"
        );
        assert!(
            std::error::Error::source(&error).is_some(),
            "the reqwest error is kept as the cause"
        );
    }

    #[test]
    fn notices_read_the_same_everywhere() {
        assert_eq!(
            Notice::Waiting(Duration::from_millis(400)).to_string(),
            "waiting 1s (rate limited)"
        );
        let retrying = Notice::Retrying {
            attempt: 2,
            max: 5,
            error: "HTTP 503 Service Unavailable".into(),
        };
        assert_eq!(
            retrying.to_string(),
            "retrying 2/5 (HTTP 503 Service Unavailable)"
        );
    }

    #[test]
    fn logged_urls_mask_credentials_in_the_query() {
        let url = reqwest::Url::parse("https://x.example/a?max=5&access_token=s3cret").unwrap();
        assert_eq!(
            without_query_secrets(&url),
            "https://x.example/a?max=5&access_token=***"
        );
        let plain = reqwest::Url::parse("https://x.example/a?max=5").unwrap();
        assert_eq!(without_query_secrets(&plain), "https://x.example/a?max=5");
    }

    #[tokio::test(start_paused = true)]
    async fn a_narrowed_lane_lets_one_request_through_at_a_time() {
        let lane = Lane::new(2);
        let cancel = CancellationToken::new();
        let first = lane.acquire(&cancel).await.unwrap();
        let second = lane.acquire(&cancel).await.unwrap();
        drop((first, second));
        lane.narrow_to_one();
        let only = lane.acquire(&cancel).await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_secs(1), lane.acquire(&cancel)).await;
        assert!(
            waiting.is_err(),
            "a second request got through a narrowed lane"
        );
        drop(only);
        assert!(lane.acquire(&cancel).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_lane_waits_and_a_blocked_lane_refuses() {
        let lane = Lane::new(1);
        let cancel = CancellationToken::new();
        let start = Instant::now();
        lane.pause_until(start + Duration::from_secs(60));
        lane.pause_until(start + Duration::from_secs(10));
        drop(lane.acquire(&cancel).await.unwrap());
        assert_eq!(start.elapsed().as_secs(), 60, "the later pause wins");
        lane.block("Blocked: too heavy");
        assert!(matches!(
            lane.acquire(&cancel).await,
            Err(HttpError::Blocked(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_queued_for_a_slot_is_refused_once_the_lane_is_blocked() {
        let lane = Arc::new(Lane::new(1));
        let cancel = CancellationToken::new();
        let held = lane.acquire(&cancel).await.unwrap();
        let queued = tokio::spawn({
            let (lane, cancel) = (lane.clone(), cancel.clone());
            async move { lane.acquire(&cancel).await.map(drop) }
        });
        // Let it pass the first look at the lane and queue for the slot.
        tokio::task::yield_now().await;
        lane.block("Blocked: too heavy");
        drop(held);
        assert!(matches!(queued.await.unwrap(), Err(HttpError::Blocked(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_ends_a_wait_for_the_lane() {
        let lane = Lane::new(1);
        let cancel = CancellationToken::new();
        lane.pause_until(Instant::now() + Duration::from_secs(3600));
        cancel.cancel();
        assert!(matches!(
            lane.acquire(&cancel).await,
            Err(HttpError::Interrupted)
        ));
    }
}
