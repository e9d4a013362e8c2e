//! The one HTTP client of a run, and the etiquette every request follows: per-provider lanes,
//! `Retry-After`, capped exponential backoff with jitter, and a clear split between answers worth
//! retrying and answers that are final.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            rate_limit_wait: Duration::from_secs(60),
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
}

/// Builds the one pooled client every task of a run shares.
pub fn build_client(config: &ClientConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(&config.user_agent)
        .gzip(true)
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
}

/// Why a request did not give a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("not found (HTTP 404)")]
    NotFound,
    #[error("gone: the provider will never serve this again (HTTP 410)")]
    Gone,
    #[error("forbidden (HTTP 403): {0}")]
    Forbidden(String),
    #[error("rate limited (HTTP 429) {tries} times in a row")]
    RateLimited { tries: u32 },
    #[error("HTTP {status} after {tries} tries")]
    Status { status: StatusCode, tries: u32 },
    #[error("{error} (after {tries} tries)")]
    Transport { error: String, tries: u32 },
    #[error("{0}")]
    Blocked(String),
    #[error("interrupted")]
    Interrupted,
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
}

/// A provider's share of the run: how many requests may be in flight at once, whether the
/// provider asked us to pause, and whether it has blocked us for the rest of the run.
#[derive(Debug)]
pub struct Lane {
    slots: Arc<Semaphore>,
    /// Taken in addition to a slot once the provider has shown it wants fewer parallel requests.
    narrow: Arc<Semaphore>,
    narrowed: AtomicBool,
    paused_until: Mutex<Option<Instant>>,
    blocked: Mutex<Option<String>>,
}

/// The right to have one request of a lane in flight; a streamed body keeps it until read.
#[derive(Debug)]
pub struct LanePermit {
    _slot: OwnedSemaphorePermit,
    _narrow: Option<OwnedSemaphorePermit>,
}

impl Lane {
    pub fn new(max_in_flight: usize) -> Self {
        Lane {
            slots: Arc::new(Semaphore::new(max_in_flight.max(1))),
            narrow: Arc::new(Semaphore::new(1)),
            narrowed: AtomicBool::new(false),
            paused_until: Mutex::new(None),
            blocked: Mutex::new(None),
        }
    }

    /// Waits out any pause, then for a free slot.
    pub async fn acquire(&self, cancel: &CancellationToken) -> Result<LanePermit, HttpError> {
        loop {
            if let Some(reason) = self.blocked_reason() {
                return Err(HttpError::Blocked(reason));
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
            // A pause may have begun while this task queued for its slot.
            if self.pause().is_some() {
                continue;
            }
            return Ok(LanePermit {
                _slot: slot,
                _narrow: narrow,
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
    pub lane: Arc<Lane>,
    pub rule: RateLimitRule,
    pub policy: RetryPolicy,
    pub cancel: CancellationToken,
}

impl Etiquette {
    /// Sends the request `build` makes, retrying what is worth retrying. Returns a response whose
    /// status is 2xx or 304, together with the lane permit its body must be read under.
    pub async fn send(
        &self,
        build: impl Fn() -> RequestBuilder,
        notify: &mut impl FnMut(Notice),
    ) -> Result<(Response, LanePermit), HttpError> {
        let max = self.policy.max_tries.max(1);
        let mut attempt = 1;
        loop {
            let permit = self.lane.acquire(&self.cancel).await?;
            let sent = tokio::select! {
                sent = build().send() => sent,
                _ = self.cancel.cancelled() => return Err(HttpError::Interrupted),
            };
            let wait = match sent {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        return Ok((response, permit));
                    }
                    drop(permit);
                    match status {
                        StatusCode::NOT_FOUND => return Err(HttpError::NotFound),
                        StatusCode::GONE => return Err(HttpError::Gone),
                        StatusCode::FORBIDDEN => {
                            let body = body_excerpt(response).await;
                            return Err(HttpError::Forbidden(body));
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            if attempt >= max {
                                return Err(HttpError::RateLimited { tries: attempt });
                            }
                            let wait = self.rate_limited(response.headers(), attempt);
                            notify(Notice::Waiting(wait));
                            wait
                        }
                        status
                            if status.is_server_error()
                                || status == StatusCode::REQUEST_TIMEOUT =>
                        {
                            if attempt >= max {
                                return Err(HttpError::Status {
                                    status,
                                    tries: attempt,
                                });
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
                    }
                }
                Err(error) => {
                    drop(permit);
                    let error = describe_transport_error(&error);
                    if attempt >= max {
                        return Err(HttpError::Transport {
                            error,
                            tries: attempt,
                        });
                    }
                    notify(Notice::Retrying {
                        attempt: attempt + 1,
                        max,
                        error,
                    });
                    self.policy.backoff_for(attempt)
                }
            };
            self.sleep(wait).await?;
            attempt += 1;
        }
    }

    /// Waits `wait`, or fails at once when the run is cancelled meanwhile.
    pub async fn sleep(&self, wait: Duration) -> Result<(), HttpError> {
        tokio::select! {
            _ = tokio::time::sleep(wait) => Ok(()),
            _ = self.cancel.cancelled() => Err(HttpError::Interrupted),
        }
    }

    /// Decides the wait after a 429 and applies it to the lane, so that the provider's other
    /// players wait too.
    fn rate_limited(&self, headers: &HeaderMap, attempt: u32) -> Duration {
        let wait = match (retry_after(headers), self.rule) {
            (Some(wait), _) => wait,
            (None, RateLimitRule::PauseLane) => self.policy.rate_limit_wait,
            (None, RateLimitRule::BackoffAndNarrow) => self.policy.backoff_for(attempt),
        };
        if self.rule == RateLimitRule::BackoffAndNarrow {
            self.lane.narrow_to_one();
        }
        self.lane.pause_until(Instant::now() + wait);
        wait
    }
}

/// The first line of an error body, enough to recognise what the provider meant.
async fn body_excerpt(response: Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.chars().take(200).collect()
}

/// A transport error with its causes, since reqwest's own message alone ("error sending
/// request") does not say what went wrong.
pub fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_string();
    }
    crate::errors::with_causes(error)
}

/// The response's media type, lowercase (empty when it has none): providers answer some errors
/// as HTML or JSON objects with a 200.
pub fn content_type(response: &Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
