//! Cancelling a request the server has not answered, as libpq's `PQcancel` does: a cancel
//! request on a connection of its own, which is then held open, not even half closed, until the
//! server (or a pooler) closes it, having read the request. tokio-postgres closes it at once,
//! which PgBouncer 1.18, Debian's, does not survive: it is still forwarding the request when the
//! client goes, and stops with "bad client state".
//!
//! The token does not say which of the configured hosts the connection reached, so the request
//! goes to each in turn: a server that is not the connection's has no session with its key, and
//! ignores it.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::Host;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{CancelToken, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Where a cancel request may go: each server the configuration lists.
enum Address {
    /// `host` is what to connect to, `name` what TLS checks the certificate against (they
    /// differ when `hostaddr` gives the host's address).
    Tcp {
        host: String,
        port: u16,
        name: String,
    },
    Unix(PathBuf),
}

fn addresses(config: &Config) -> Vec<Address> {
    let ports = config.get_ports();
    let port = |index: usize| {
        let port = ports.get(index).or_else(|| ports.first());
        port.copied().unwrap_or(5432)
    };
    let hosts = config.get_hosts();
    if !config.get_hostaddrs().is_empty() {
        let addresses = config.get_hostaddrs().iter().enumerate();
        return addresses
            .map(|(index, address)| Address::Tcp {
                host: address.to_string(),
                port: port(index),
                name: match hosts.get(index) {
                    Some(Host::Tcp(name)) => name.clone(),
                    _ => address.to_string(),
                },
            })
            .collect();
    }
    hosts
        .iter()
        .enumerate()
        .map(|(index, host)| match host {
            Host::Tcp(name) => Address::Tcp {
                host: name.clone(),
                port: port(index),
                name: name.clone(),
            },
            Host::Unix(dir) => Address::Unix(dir.join(format!(".s.PGSQL.{}", port(index)))),
        })
        .collect()
}

/// Sends `token`'s cancel request to every server of `config`, waiting at each for the request
/// to be read. Errors are the last server's; a caller bounds the whole with a timeout.
pub(super) async fn cancel(
    token: &CancelToken,
    config: &Config,
    tls: &MakeRustlsConnect,
) -> io::Result<()> {
    let mut outcome = Ok(());
    for address in addresses(config) {
        outcome = match address {
            Address::Tcp { host, port, name } => {
                match TcpStream::connect((host.as_str(), port)).await {
                    Ok(stream) => send(token, Lingering::new(stream), tls, &name).await,
                    Err(error) => Err(error),
                }
            }
            Address::Unix(path) => match UnixStream::connect(&path).await {
                Ok(stream) => send(token, Lingering::new(stream), tls, "").await,
                Err(error) => Err(error),
            },
        };
    }
    outcome
}

async fn send<S>(
    token: &CancelToken,
    stream: Lingering<S>,
    tls: &MakeRustlsConnect,
    host: &str,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut tls = tls.clone();
    let connect = MakeTlsConnect::<Lingering<S>>::make_tls_connect(&mut tls, host)
        .map_err(io::Error::other)?;
    token
        .cancel_query_raw(stream, connect)
        .await
        .map_err(io::Error::other)
}

/// A stream whose shutdown waits for the other side to close, and closes nothing itself: the
/// stream is closed when dropped.
struct Lingering<S> {
    stream: S,
}

impl<S> Lingering<S> {
    fn new(stream: S) -> Self {
        Lingering { stream }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The server sends nothing back; what it might is dropped, a few bytes at a time.
        let mut scratch = [0; 64];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf))?;
            if buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}
