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
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{CancelToken, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{Server, servers};

/// Sends `token`'s cancel request to every server of `config`, waiting at each for the request
/// to be read. Errors are the last server's; a caller bounds the whole with a timeout.
pub(super) async fn cancel(
    token: &CancelToken,
    config: &Config,
    tls: &MakeRustlsConnect,
) -> io::Result<()> {
    let mut outcome = Ok(());
    for server in servers(config) {
        outcome = match server {
            Server::Tcp {
                address,
                name,
                port,
            } => match TcpStream::connect((address.as_str(), port)).await {
                Ok(stream) => send(token, Lingering::new(stream), tls, &name).await,
                Err(error) => Err(error),
            },
            Server::Unix(path) => match UnixStream::connect(&path).await {
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
