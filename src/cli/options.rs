//! From flags to options: what the parsed command line means for the library. The commands call
//! these, so that no module below them needs to know clap's types.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use super::{DayArgs, EtiquetteArgs, ImportArgs, PlayerArgs, ProgressMode, ProviderArgs, RunArgs};
use crate::host_lane::HostLane;
use crate::http::{self, ClientConfig, Etiquette, Lane, RateLimitRule, RetryPolicy};
use crate::import::ImportOptions;
use crate::player::{self, Player};
use crate::providers::{self, Limits, Source, Sources};
use crate::runtime_dir;
use crate::view::Display;

/// Longest time fetched games wait before they are handed to the store.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// The longest backoff between two tries, unless `--retry-backoff` itself is longer.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl ProgressMode {
    /// `auto` means bars on a terminal that can draw them, plain lines anywhere else.
    pub fn display(self) -> Display {
        match self {
            ProgressMode::Auto => Display::auto(),
            ProgressMode::Bars => Display::Bars,
            ProgressMode::Plain => Display::Plain,
            ProgressMode::None => Display::Hidden,
        }
    }
}

impl PlayerArgs {
    /// Players from the arguments and files, each once, in the order given; at least one.
    pub fn collect(&self) -> anyhow::Result<Vec<Player>> {
        let mut players = self.players.clone();
        for path in &self.files {
            let listed = if path == Path::new("-") {
                player::read_players(std::io::stdin().lock(), "<stdin>")?
            } else {
                let file = File::open(path)
                    .with_context(|| format!("cannot read player file {}", path.display()))?;
                player::read_players(BufReader::new(file), &path.display().to_string())?
            };
            players.extend(listed);
        }
        if players.is_empty() {
            bail!("no players given: name them as PLATFORM:USERNAME or with --file");
        }
        Ok(player::dedup(players))
    }
}

impl ImportArgs {
    /// Where the window of `--refresh-analysis DAYS` starts: DAYS before now (unix ms).
    pub fn refresh_since(&self) -> Option<i64> {
        let now = chrono::Utc::now().timestamp_millis();
        self.refresh_analysis
            .map(|days| now - i64::from(days) * DAY_MS)
    }
}

impl RunArgs {
    /// The settings of an `import` or `worker` run. `owner` names this process in the lease
    /// table; `want_totals` spends a request per Lichess player on its game count, for bars.
    pub fn import_options(
        &self,
        owner: String,
        want_totals: bool,
        cancel: &CancellationToken,
    ) -> anyhow::Result<ImportOptions> {
        Ok(ImportOptions {
            jobs: usize::from(self.jobs),
            sources: self.providers.sources(&self.etiquette, cancel)?,
            since: None,
            until: None,
            max_games: None,
            want_totals,
            with_analysis: self.with_analysis,
            refresh_since: None,
            rescan: false,
            fresh_for: None,
            owner,
            lease_ttl: self.lease_ttl,
            flush_interval: FLUSH_INTERVAL,
        })
    }
}

impl EtiquetteArgs {
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_tries: self.retries.saturating_add(1),
            backoff: self.retry_backoff,
            max_backoff: MAX_BACKOFF.max(self.retry_backoff),
            rate_limit_wait: self.rate_limit_wait,
            max_wait: self.max_wait,
            read_timeout: self.read_timeout,
        }
    }
}

impl ProviderArgs {
    /// The two providers, sharing one pooled client, with the etiquette of the command line;
    /// `import`, `worker` and `check` all talk to the providers through these.
    pub fn sources(
        &self,
        etiquette: &EtiquetteArgs,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Sources> {
        let policy = etiquette.retry_policy();
        header_value("--user-agent", &self.user_agent)?;
        let token = self.lichess_token.clone().filter(|t| !t.is_empty());
        if let Some(token) = &token {
            header_value("--lichess-token", &format!("Bearer {token}"))?;
        }
        let base = |base: &str, option: &str| {
            reqwest::Url::parse(base)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
                .with_context(|| format!("{option} {base:?} is not an http(s) URL"))
        };
        let lichess_base = base(&self.lichess_url, "--lichess-url")?;
        let chesscom_base = base(&self.chesscom_url, "--chesscom-url")?;
        let client = http::build_client(&ClientConfig {
            user_agent: self.user_agent.clone(),
            connect_timeout: etiquette.connect_timeout,
            read_timeout: etiquette.read_timeout,
            bases: vec![lichess_base.clone(), chesscom_base.clone()],
        })
        .context("cannot set up the HTTP client")?;
        let limits = match self.body_limit {
            Some(limit) => Limits::default().at_most(limit),
            None => Limits::default(),
        };
        let lock_dir = self.lock_dir.clone().unwrap_or_else(runtime_dir::default);
        let source = |url: reqwest::Url, name, token, lane, rule| Source {
            client: client.clone(),
            base_url: url.as_str().trim_end_matches('/').to_string(),
            token,
            limits,
            etiquette: Etiquette {
                provider: name,
                lane: Arc::new(Lane::shared(lane, host_lane(&lock_dir, &url, lane))),
                rule,
                policy: policy.clone(),
                cancel: cancel.clone(),
            },
        };
        Ok(Sources {
            lichess: source(
                lichess_base,
                "Lichess",
                token,
                providers::lichess::MAX_STREAMS,
                RateLimitRule::PauseLane,
            ),
            chesscom: source(
                chesscom_base,
                "Chess.com",
                None,
                providers::chesscom::MAX_IN_FLIGHT,
                RateLimitRule::BackoffAndNarrow,
            ),
        })
    }
}

/// Refuses a value that cannot be sent as an HTTP header (a line break, a control character):
/// better a usage error naming the option than a request that cannot be built.
fn header_value(option: &str, value: &str) -> anyhow::Result<()> {
    if reqwest::header::HeaderValue::from_str(value).is_err() {
        bail!(
            "{option} holds a character that cannot be sent in an HTTP header (a line break or \
             another control character)"
        );
    }
    Ok(())
}

impl DayArgs {
    /// The days as unix ms, as `day_window` reads them.
    pub fn millis(&self) -> anyhow::Result<(Option<i64>, Option<i64>)> {
        day_window(self.since, self.until)
    }
}

/// `--since` and `--until` days as a window of unix ms: from midnight UTC of the first day to
/// midnight after the last, so that both days are included. A window that ends before it starts
/// is a usage error.
fn day_window(
    since: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        bail!("--since {since} is after --until {until}: no game can be in that window");
    }
    let midnight = |day: chrono::NaiveDate| {
        day.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
    };
    Ok((since.map(midnight), until.map(|day| midnight(day) + DAY_MS)))
}

/// The host's lane of the provider at `base`; a run that cannot share it (say, the directory is
/// not writable) goes on with lanes of its own, and says so.
fn host_lane(dir: &Path, base: &reqwest::Url, slots: usize) -> Option<HostLane> {
    match HostLane::open(dir, base, slots) {
        Ok(lane) => Some(lane),
        Err(error) => {
            tracing::warn!(
                "cannot share the {} lane with other chess-import processes of this host ({}: \
                 {error}); this run keeps to its own (see --lock-dir)",
                base.origin().ascii_serialization(),
                dir.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_count_after_the_first_try() {
        let etiquette = EtiquetteArgs {
            retries: 0,
            retry_backoff: Duration::from_millis(10),
            rate_limit_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
            read_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
        };
        assert_eq!(etiquette.retry_policy().max_tries, 1);
    }

    #[test]
    fn a_day_window_includes_both_days() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 3, d);
        let (since, until) = day_window(day(1), day(1)).unwrap();
        assert_eq!(since, Some(1_709_251_200_000));
        assert_eq!(until, Some(1_709_251_200_000 + DAY_MS));
        assert_eq!(day_window(None, None).unwrap(), (None, None));
        let backwards = day_window(day(2), day(1)).unwrap_err();
        assert_eq!(
            backwards.to_string(),
            "--since 2024-03-02 is after --until 2024-03-01: no game can be in that window"
        );
    }
}
