//! The host's share of a provider: what every chess-import process of this host takes around a
//! request, so that overlapping cron runs, several workers and runs into separate databases keep
//! the providers' per-IP rules together (one Lichess stream, two Chess.com requests).
//!
//! A lane is a set of lock files, one per request allowed in flight, in a directory of this
//! user's (`--lock-dir`). A request holds an advisory lock on one of them (`flock`) while it, or
//! the body it streams, is under way. The kernel drops the lock when the process ends however it
//! ends, so a crashed run never leaves a lane taken. A lane belongs to a base URL (scheme, host
//! and port): runs against different servers, such as tests against their own fakes, do not
//! share one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

use crate::runtime_dir;

/// A provider's lane across the processes of this host.
#[derive(Clone, Debug)]
pub struct HostLane {
    files: Vec<PathBuf>,
}

/// One of the host lane's places, held until dropped.
#[derive(Debug)]
pub struct HostPermit {
    _file: File,
}

impl HostLane {
    /// The lane of the provider at `base`, with `slots` requests in flight at once, its lock files
    /// in `dir` (created, for this user alone, when missing).
    pub fn open(dir: &Path, base: &reqwest::Url, slots: usize) -> io::Result<Self> {
        runtime_dir::create_private(dir)?;
        let name = file_name(base);
        let files = (0..slots.max(1))
            .map(|slot| dir.join(format!("{name}-{slot}.lock")))
            .collect();
        Ok(HostLane { files })
    }

    /// Takes a free place, or says `None` when every place is held, by this process or another.
    pub fn try_take(&self) -> io::Result<Option<HostPermit>> {
        for path in &self.files {
            let file = match OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
            {
                // Made by another member of a group sharing the directory: a lock needs no write.
                Err(error) if error.kind() == io::ErrorKind::PermissionDenied => File::open(path)?,
                opened => opened?,
            };
            match file.try_lock() {
                Ok(()) => return Ok(Some(HostPermit { _file: file })),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(error)) => return Err(error),
            }
        }
        Ok(None)
    }
}

/// `https_lichess.org_443`: the base's origin as a file name, the default port spelled out so
/// that `https://lichess.org` and `https://lichess.org:443` share one lane.
fn file_name(base: &reqwest::Url) -> String {
    let host = base.host_str().unwrap_or("unknown");
    let port = base.port_or_known_default().unwrap_or(0);
    let name = format!("{}_{host}_{port}", base.scheme());
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> reqwest::Url {
        text.parse().unwrap()
    }

    #[test]
    fn a_base_url_names_its_lane_by_origin() {
        assert_eq!(
            file_name(&url("https://lichess.org")),
            "https_lichess.org_443"
        );
        assert_eq!(
            file_name(&url("https://lichess.org:443/api/")),
            "https_lichess.org_443"
        );
        assert_eq!(
            file_name(&url("http://127.0.0.1:8080")),
            "http_127.0.0.1_8080"
        );
        assert_eq!(file_name(&url("http://[::1]:9/")), "http____1__9");
    }

    #[test]
    fn places_are_shared_by_every_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let base = url("http://127.0.0.1:1");
        let mine = HostLane::open(dir.path(), &base, 2).unwrap();
        // Another process opens its own files: so does another `open` here.
        let theirs = HostLane::open(dir.path(), &base, 2).unwrap();
        let first = mine.try_take().unwrap().expect("a free place");
        let second = theirs.try_take().unwrap().expect("the other place");
        assert!(mine.try_take().unwrap().is_none(), "both places held");
        drop(first);
        assert!(
            theirs.try_take().unwrap().is_some(),
            "a dropped place is free"
        );
        drop(second);
        let elsewhere = HostLane::open(dir.path(), &url("http://127.0.0.1:2"), 1).unwrap();
        let _held = mine.try_take().unwrap();
        assert!(
            elsewhere.try_take().unwrap().is_some(),
            "another base, another lane"
        );
    }
}
