//! From flags to options: what the parsed command line means for the library. The commands call
//! these, so that no module below them needs to know clap's types.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use super::{EtiquetteArgs, PlayerArgs, ProgressMode, ProviderArgs, RunArgs};
use crate::http::{self, ClientConfig, Etiquette, Lane, RateLimitRule, RetryPolicy};
use crate::import::ImportOptions;
use crate::player::{self, Player};
use crate::providers::{self, Source, Sources};
use crate::view::Display;

/// How many games one batch of a player holds at most.
const BATCH_SIZE: usize = 1000;
/// Longest time fetched games wait before they are handed to the store.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for a TCP (and TLS) connection to a provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
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
            owner,
            lease_ttl: self.lease_ttl,
            batch_size: BATCH_SIZE,
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
        let client = http::build_client(&ClientConfig {
            user_agent: self.user_agent.clone(),
            connect_timeout: CONNECT_TIMEOUT,
            read_timeout: etiquette.read_timeout,
        })
        .context("cannot set up the HTTP client")?;
        let source = |base: &str, option: &str, token: Option<String>, lane, rule| {
            let url = reqwest::Url::parse(base)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .with_context(|| format!("{option} {base:?} is not an http(s) URL"))?;
            Ok::<_, anyhow::Error>(Source {
                client: client.clone(),
                base_url: url.as_str().trim_end_matches('/').to_string(),
                token,
                etiquette: Etiquette {
                    lane: Arc::new(Lane::new(lane)),
                    rule,
                    policy: policy.clone(),
                    cancel: cancel.clone(),
                },
            })
        };
        Ok(Sources {
            lichess: source(
                &self.lichess_url,
                "--lichess-url",
                self.lichess_token.clone().filter(|t| !t.is_empty()),
                providers::lichess::MAX_STREAMS,
                RateLimitRule::PauseLane,
            )?,
            chesscom: source(
                &self.chesscom_url,
                "--chesscom-url",
                None,
                providers::chesscom::MAX_IN_FLIGHT,
                RateLimitRule::BackoffAndNarrow,
            )?,
        })
    }
}

/// `--since` and `--until` days as a window of unix ms: from midnight UTC of the first day to
/// midnight after the last, so that both days are included.
pub fn day_window(
    since: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
) -> (Option<i64>, Option<i64>) {
    let midnight = |day: chrono::NaiveDate| {
        day.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
    };
    (since.map(midnight), until.map(|day| midnight(day) + DAY_MS))
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
            read_timeout: Duration::from_secs(1),
        };
        assert_eq!(etiquette.retry_policy().max_tries, 1);
    }

    #[test]
    fn a_day_window_includes_both_days() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 3, d);
        let (since, until) = day_window(day(1), day(1));
        assert_eq!(since, Some(1_709_251_200_000));
        assert_eq!(until, Some(1_709_251_200_000 + DAY_MS));
        assert_eq!(day_window(None, None), (None, None));
    }
}
