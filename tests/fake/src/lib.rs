//! A faithful fake of the Lichess and Chess.com game-export APIs, for the
//! integration tests, the benchmark and the example of `chess-import`, which
//! run the real binary against it.
//!
//! Nothing here talks to the internet: the fake binds two listeners on
//! 127.0.0.1 and imitates the real paths, formats, headers and misbehaviour
//! described in the project's research notes (lichess: NDJSON/PGN export,
//! crawler 404s, one-stream 429s; chess.com: monthly archives, lowercase
//! 301s, weak ETags, Cloudflare 403s, parallel-request 429s).
//!
//! The API is synchronous so that plain `#[test]` functions can drive it
//! between runs of the binary: the server runs on its own thread with its
//! own tokio runtime, and all state sits behind mutexes.

mod chesscom;
mod games;
mod lichess;

pub use chesscom::{ChesscomGameSpec, ChesscomRules, ChesscomTimeControl};
pub use lichess::{LichessEvent, LichessGameSpec};

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::serve::IncomingStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Seed used by [`FakeServer::start`]; generated data is a pure function of
/// the seed and the sequence of builder calls.
pub const DEFAULT_SEED: u64 = 0x5EED_C0DE_2024;

/// Which fake API a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Lichess,
    Chesscom,
}

impl Provider {
    fn index(self) -> usize {
        match self {
            Provider::Lichess => 0,
            Provider::Chesscom => 1,
        }
    }
}

/// The kind of request, as recognised from method-independent path shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /api/games/user/{name}`
    LichessExport,
    /// `POST /api/games/export/_ids`
    LichessExportIds,
    /// `GET /api/user/{name}`
    LichessUser,
    /// `GET /pub/player/{u}`
    ChesscomProfile,
    /// `GET /pub/player/{u}/games/archives`
    ChesscomArchives,
    /// `GET /pub/player/{u}/games/{YYYY}/{MM}`
    ChesscomMonth,
    /// Anything else.
    Other,
}

/// Selects the requests a scripted [`Fault`] applies to.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    endpoint: Option<Endpoint>,
    user: Option<String>,
    path_suffix: Option<String>,
}

impl Matcher {
    /// Every request of the provider.
    pub fn any() -> Self {
        Self::default()
    }

    /// Requests of one endpoint kind.
    pub fn endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint: Some(endpoint),
            ..Self::default()
        }
    }

    /// Requests whose path names this user (case-insensitive).
    pub fn user(name: &str) -> Self {
        Self {
            user: Some(name.to_lowercase()),
            ..Self::default()
        }
    }

    /// Narrow to one user as well.
    pub fn and_user(mut self, name: &str) -> Self {
        self.user = Some(name.to_lowercase());
        self
    }

    /// Narrow to requests whose path ends with `suffix`, e.g. one Chess.com month (`/2024/03`).
    pub fn and_path_ending(mut self, suffix: &str) -> Self {
        self.path_suffix = Some(suffix.to_string());
        self
    }

    fn matches(&self, route: &Route, path: &str) -> bool {
        self.endpoint.is_none_or(|e| e == route.endpoint)
            && self
                .user
                .as_ref()
                .is_none_or(|u| route.user_key().as_deref() == Some(u.as_str()))
            && self
                .path_suffix
                .as_ref()
                .is_none_or(|suffix| path.ends_with(suffix.as_str()))
    }
}

/// A scripted misbehaviour. Status faults replace the normal response;
/// stream faults alter a normal 200 body (Lichess exports: counted in games;
/// Chess.com month JSON: counted in game objects; other bodies: counted in
/// 4 KiB pieces).
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `Retry-After: <secs>` and the provider's JSON body.
    RateLimitedRetryAfterSecs(u64),
    /// 429 with `Retry-After: <HTTP-date>` `secs` seconds from now.
    RateLimitedRetryAfterDate(u64),
    /// 429 without `Retry-After`, JSON body (what lila actually sends).
    RateLimitedJson,
    /// 429 from the nginx tier: HTML body, no `Retry-After`.
    RateLimitedHtml,
    /// 503 with an nginx HTML page.
    ServiceUnavailable,
    /// 500 with an HTML page.
    InternalServerError,
    /// 410 Gone with the provider's JSON error body.
    Gone,
    /// 403 `text/plain` `Blocked: Archive crawl was too heavy for this API.`
    Blocked,
    /// 200 `text/html` page instead of data (captive portal, CDN error page).
    HtmlInsteadOfData,
    /// 200 `application/json` body `{"error":"<msg>"}` instead of data.
    JsonErrorBody(String),
    /// Close the TCP connection (RST) before sending any response.
    DropConnection,
    /// Send `n` complete items, then half an item, then abort the chunked
    /// body (no terminating chunk, connection closed).
    CutAfter(usize),
    /// Send `items` complete items, stall for `stall`, then abort the body.
    StallAfter { items: usize, stall: Duration },
    /// Inject one malformed line after `n` good items, then continue.
    MalformedLineAt(usize),
    /// The normal answer, its body sent one byte at a time, `every` apart: never silent for
    /// long, never done.
    Trickle { every: Duration },
    /// 200 with `Content-Encoding: gzip` whose body inflates to `inflated` zero bytes (compressed
    /// as the client reads, so the fake spends only what the client takes), in the content type
    /// the endpoint serves: no newline, no JSON, only size.
    GzipBomb { inflated: u64 },
    /// Anything else: raw status, content type, body and extra headers.
    Custom {
        status: u16,
        content_type: String,
        body: String,
        headers: Vec<(String, String)>,
    },
}

/// Handle of a pushed fault, to ask how often it fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(usize);

struct FaultRule {
    id: FaultId,
    provider: Provider,
    matcher: Matcher,
    fault: Fault,
    remaining: usize,
    fired: usize,
}

/// Stream-level faults, handed to the body writers.
#[derive(Clone, Debug)]
pub(crate) enum StreamFault {
    CutAfter(usize),
    /// Items, stall, and the count of stalls that lasted their whole length.
    StallAfter(usize, Duration, Arc<AtomicUsize>),
    MalformedAt(usize),
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    /// Arrival order, starting at 0, across both providers.
    pub seq: usize,
    pub provider: Provider,
    pub method: String,
    pub path: String,
    /// Raw query string without `?` (empty if none).
    pub query: String,
    pub endpoint: Endpoint,
    /// Username from the path, lowercased.
    pub user: Option<String>,
    pub user_agent: Option<String>,
    pub accept: Option<String>,
    pub authorization: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub accept_encoding: Option<String>,
    /// Status sent; 0 if the connection was dropped without a response.
    pub status: u16,
    /// The scripted fault that answered this request, if any.
    pub fault: Option<FaultId>,
}

impl RequestRecord {
    /// Value of query parameter `name` (first occurrence, percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

pub(crate) struct Config {
    pub lichess_rate: Option<f64>,
    pub lichess_max_streams: usize,
    pub chesscom_max_in_flight: usize,
    pub chesscom_latency: Duration,
}

#[derive(Default)]
struct Meters {
    in_flight: [usize; 2],
    max_in_flight: [usize; 2],
    streams: usize,
    max_streams: usize,
    per_player: HashMap<(Provider, String), (usize, usize)>,
    served_429: [usize; 2],
}

pub(crate) struct Shared {
    pub(crate) seed: u64,
    pub(crate) lichess: Mutex<lichess::Data>,
    pub(crate) chesscom: Mutex<chesscom::Data>,
    pub(crate) config: Mutex<Config>,
    faults: Mutex<Vec<FaultRule>>,
    log: Mutex<Vec<RequestRecord>>,
    meters: Mutex<Meters>,
    stalls_run_out: Arc<AtomicUsize>,
    trickles_run_out: Arc<AtomicUsize>,
}

/// Lock ignoring poisoning: a panicking test thread must not turn every
/// later request into a panic inside the server.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn record(&self, provider: Provider, req: &Request, route: &Route) -> usize {
        let h = req.headers();
        let get = |name: header::HeaderName| {
            h.get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let mut log = lock(&self.log);
        let seq = log.len();
        log.push(RequestRecord {
            seq,
            provider,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().unwrap_or("").to_string(),
            endpoint: route.endpoint,
            user: route.user_key(),
            user_agent: get(header::USER_AGENT),
            accept: get(header::ACCEPT),
            authorization: get(header::AUTHORIZATION),
            if_none_match: get(header::IF_NONE_MATCH),
            if_modified_since: get(header::IF_MODIFIED_SINCE),
            accept_encoding: get(header::ACCEPT_ENCODING),
            status: 0,
            fault: None,
        });
        seq
    }

    fn finish_record(&self, seq: usize, status: u16, fault: Option<FaultId>) {
        let provider = lock(&self.log).get_mut(seq).map(|r| {
            r.status = status;
            r.fault = fault;
            r.provider
        });
        if let (429, Some(p)) = (status, provider) {
            lock(&self.meters).served_429[p.index()] += 1;
        }
    }

    fn take_fault(
        &self,
        provider: Provider,
        route: &Route,
        path: &str,
    ) -> Option<(FaultId, Fault)> {
        let mut faults = lock(&self.faults);
        let rule = faults.iter_mut().find(|r| {
            r.provider == provider && r.remaining > 0 && r.matcher.matches(route, path)
        })?;
        rule.remaining -= 1;
        rule.fired += 1;
        Some((rule.id, rule.fault.clone()))
    }

    pub(crate) fn in_flight(&self, provider: Provider) -> usize {
        lock(&self.meters).in_flight[provider.index()]
    }

    /// Take one Lichess export-stream slot, or `None` when the configured
    /// concurrency is already used (the caller answers 429).
    pub(crate) fn try_stream_slot(self: &Arc<Self>) -> Option<StreamSlot> {
        let max = lock(&self.config).lichess_max_streams;
        let mut m = lock(&self.meters);
        if m.streams >= max {
            return None;
        }
        m.streams += 1;
        m.max_streams = m.max_streams.max(m.streams);
        Some(StreamSlot(self.clone()))
    }
}

/// Counts a request as in flight until dropped. Streaming bodies own it, so
/// a request stays in flight until its body is finished or abandoned.
pub(crate) struct InFlight {
    shared: Arc<Shared>,
    provider: Provider,
    user: Option<String>,
}

impl InFlight {
    fn enter(shared: &Arc<Shared>, provider: Provider, user: Option<String>) -> Self {
        let mut m = lock(&shared.meters);
        let i = provider.index();
        m.in_flight[i] += 1;
        m.max_in_flight[i] = m.max_in_flight[i].max(m.in_flight[i]);
        if let Some(u) = &user {
            let e = m.per_player.entry((provider, u.clone())).or_default();
            e.0 += 1;
            e.1 = e.1.max(e.0);
        }
        drop(m);
        Self {
            shared: shared.clone(),
            provider,
            user,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut m = lock(&self.shared.meters);
        let i = self.provider.index();
        m.in_flight[i] = m.in_flight[i].saturating_sub(1);
        if let Some(u) = self.user.take()
            && let Some(e) = m.per_player.get_mut(&(self.provider, u))
        {
            e.0 = e.0.saturating_sub(1);
        }
    }
}

/// One active Lichess export stream (released on drop).
pub(crate) struct StreamSlot(Arc<Shared>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut m = lock(&self.0.meters);
        m.streams = m.streams.saturating_sub(1);
    }
}

/// What the router recognised in a path.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub endpoint: Endpoint,
    /// Username exactly as written in the path.
    pub user: Option<String>,
}

impl Route {
    pub(crate) fn user_key(&self) -> Option<String> {
        self.user.as_ref().map(|u| u.to_lowercase())
    }
}

// ---------------------------------------------------------------------------
// Connection plumbing: a listener whose connections can be killed by a
// handler, to produce a real connection error at the client.

/// Per-connection info handed to handlers; `kill` closes the socket.
#[derive(Clone, Debug)]
struct ConnMeta {
    kill: Arc<AtomicBool>,
}

struct FakeListener {
    inner: tokio::net::TcpListener,
}

impl axum::serve::Listener for FakeListener {
    type Io = KillableIo;
    type Addr = ConnMeta;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, _)) => {
                    // Streamed games should leave as soon as they are written.
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let io = KillableIo {
                        inner: stream,
                        kill: kill.clone(),
                    };
                    return (io, ConnMeta { kill });
                }
                // Out of fds or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(ConnMeta {
            kill: Arc::default(),
        })
    }
}

impl Connected<IncomingStream<'_, FakeListener>> for ConnMeta {
    fn connect_info(stream: IncomingStream<'_, FakeListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that fails every operation once its kill flag is set, which
/// makes hyper drop the connection; zero linger turns the close into a RST
/// so the client sees an abrupt reset rather than a tidy FIN.
struct KillableIo {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl KillableIo {
    fn killed(&self) -> bool {
        if self.kill.load(Ordering::Relaxed) {
            let _ = self.inner.set_zero_linger();
            true
        } else {
            false
        }
    }
}

fn killed_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "fake: connection dropped")
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed() {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------
// Request entry point shared by both providers.

#[derive(Clone)]
struct Ctx {
    provider: Provider,
    shared: Arc<Shared>,
}

async fn entry(
    State(ctx): State<Ctx>,
    ConnectInfo(conn): ConnectInfo<ConnMeta>,
    req: Request,
) -> Response {
    let Ctx { provider, shared } = ctx;
    let route = match provider {
        Provider::Lichess => lichess::classify(req.uri().path()),
        Provider::Chesscom => chesscom::classify(req.uri().path()),
    };
    let seq = shared.record(provider, &req, &route);
    let guard = InFlight::enter(&shared, provider, route.user_key());

    // Cloudflare sits in front of chess.com: a request without a User-Agent
    // never reaches the origin, so it does not consume scripted faults.
    if provider == Provider::Chesscom && !has_user_agent(req.headers()) {
        let resp = chesscom::cloudflare_403();
        shared.finish_record(seq, resp.status().as_u16(), None);
        return resp;
    }

    let taken = shared.take_fault(provider, &route, req.uri().path());
    let fault_id = taken.as_ref().map(|(id, _)| *id);
    let mut stream_fault = None;
    let mut trickle = None;
    match taken.map(|(_, f)| f) {
        None => {}
        Some(Fault::Trickle { every }) => trickle = Some(every),
        Some(Fault::GzipBomb { inflated }) => {
            let resp = gzip_bomb(provider, &route, inflated);
            shared.finish_record(seq, resp.status().as_u16(), fault_id);
            return resp;
        }
        Some(Fault::DropConnection) => {
            conn.kill.store(true, Ordering::Relaxed);
            shared.finish_record(seq, 0, fault_id);
            // Never written: the killed socket fails the write.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Fault::CutAfter(n)) => stream_fault = Some(StreamFault::CutAfter(n)),
        Some(Fault::StallAfter { items, stall }) => {
            stream_fault = Some(StreamFault::StallAfter(
                items,
                stall,
                shared.stalls_run_out.clone(),
            ))
        }
        Some(Fault::MalformedLineAt(n)) => stream_fault = Some(StreamFault::MalformedAt(n)),
        Some(other) => {
            let resp = fault_response(provider, &other);
            shared.finish_record(seq, resp.status().as_u16(), fault_id);
            return resp;
        }
    }

    let resp = match provider {
        Provider::Lichess => lichess::handle(&shared, req, &route, stream_fault, guard).await,
        Provider::Chesscom => chesscom::handle(&shared, req, &route, stream_fault, guard).await,
    };
    shared.finish_record(seq, resp.status().as_u16(), fault_id);
    match trickle {
        Some(every) => trickled(resp, every, shared.trickles_run_out.clone()),
        None => resp,
    }
}

/// `resp` with its body sent a byte at a time, `every` apart; `run_out` counts the bodies that
/// were sent to their end (a client that gives up first never gets there).
fn trickled(resp: Response, every: Duration, run_out: Arc<AtomicUsize>) -> Response {
    use futures_util::StreamExt;
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = body
        .into_data_stream()
        .flat_map(|chunk| {
            let bytes: Vec<Result<bytes::Bytes, axum::Error>> = match chunk {
                Ok(chunk) => (0..chunk.len()).map(|i| Ok(chunk.slice(i..=i))).collect(),
                Err(error) => vec![Err(error)],
            };
            futures_util::stream::iter(bytes)
        })
        .then(move |byte| async move {
            tokio::time::sleep(every).await;
            byte
        })
        .chain(futures_util::stream::once(async move {
            run_out.fetch_add(1, Ordering::Relaxed);
            Ok(bytes::Bytes::new())
        }));
    Response::from_parts(parts, Body::from_stream(bytes))
}

/// How much of a bomb is compressed at a time.
const BOMB_PIECE: usize = 1 << 20;

/// A 200 whose gzip body inflates to `inflated` zero bytes, compressed a piece at a time as the
/// client reads it.
fn gzip_bomb(provider: Provider, route: &Route, inflated: u64) -> Response {
    use std::io::Write;
    let content_type = match (provider, &route.endpoint) {
        (Provider::Lichess, Endpoint::LichessExport) => "application/x-ndjson",
        (Provider::Lichess, _) => "application/json",
        (Provider::Chesscom, _) => "application/json; charset=utf-8",
    };
    let zeros = vec![0u8; BOMB_PIECE];
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let pieces = futures_util::stream::unfold((Some(encoder), 0u64), move |(encoder, sent)| {
        let zeros = zeros.clone();
        async move {
            let mut encoder = encoder?;
            if sent >= inflated {
                let tail = encoder.finish().unwrap_or_default();
                return Some((Ok::<_, io::Error>(bytes::Bytes::from(tail)), (None, sent)));
            }
            let piece = (inflated - sent).min(BOMB_PIECE as u64) as usize;
            let written = encoder
                .write_all(&zeros[..piece])
                .and_then(|()| encoder.flush());
            let out = std::mem::take(encoder.get_mut());
            Some((
                written.map(|()| bytes::Bytes::from(out)),
                (Some(encoder), sent + piece as u64),
            ))
        }
    });
    let mut resp = simple(200, content_type, Body::from_stream(pieces));
    resp.headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    resp
}

pub(crate) fn has_user_agent(h: &HeaderMap) -> bool {
    h.get(header::USER_AGENT)
        .is_some_and(|v| !v.as_bytes().trim_ascii().is_empty())
}

const NGINX_429: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const NGINX_503: &str = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const HTML_500: &str = "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>\n";
const HTML_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Maintenance</title></head><body><h1>We are down for maintenance</h1><p>Back soon.</p></body></html>\n";

pub(crate) fn simple(status: u16, content_type: &str, body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

fn fault_response(provider: Provider, fault: &Fault) -> Response {
    let rate_json = match provider {
        Provider::Lichess => r#"{"error":"Too many requests. Try again later."}"#,
        Provider::Chesscom => r#"{"code":0,"message":"Too many requests."}"#,
    };
    let json_ct = match provider {
        Provider::Lichess => "application/json",
        Provider::Chesscom => "application/json; charset=utf-8",
    };
    let mut resp = match fault {
        Fault::RateLimitedRetryAfterSecs(secs) => {
            let mut r = simple(429, json_ct, rate_json);
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            r
        }
        Fault::RateLimitedRetryAfterDate(secs) => {
            let mut r = simple(429, json_ct, rate_json);
            let when = SystemTime::now() + Duration::from_secs(*secs);
            if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(when)) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Fault::RateLimitedJson => simple(429, json_ct, rate_json),
        Fault::RateLimitedHtml => simple(429, "text/html", NGINX_429),
        Fault::ServiceUnavailable => simple(503, "text/html", NGINX_503),
        Fault::InternalServerError => simple(500, "text/html; charset=utf-8", HTML_500),
        Fault::Gone => match provider {
            Provider::Lichess => simple(410, json_ct, r#"{"error":"Gone"}"#),
            Provider::Chesscom => simple(
                410,
                json_ct,
                r#"{"code":0,"message":"This resource is no longer available."}"#,
            ),
        },
        Fault::Blocked => simple(
            403,
            "text/plain",
            "Blocked: Archive crawl was too heavy for this API.",
        ),
        Fault::HtmlInsteadOfData => simple(200, "text/html; charset=utf-8", HTML_PAGE),
        Fault::JsonErrorBody(msg) => {
            let body = serde_json::json!({ "error": msg }).to_string();
            simple(200, json_ct, body)
        }
        Fault::Custom {
            status,
            content_type,
            body,
            headers,
        } => {
            let mut r = simple(*status, content_type, body.clone());
            for (k, v) in headers {
                if let (Ok(k), Ok(v)) = (
                    header::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    r.headers_mut().append(k, v);
                }
            }
            r
        }
        // Handled by the caller; kept total for safety.
        Fault::DropConnection
        | Fault::CutAfter(_)
        | Fault::StallAfter { .. }
        | Fault::MalformedLineAt(_)
        | Fault::Trickle { .. }
        | Fault::GzipBomb { .. } => simple(500, "text/plain", "fake: unexpected fault"),
    };
    if provider == Provider::Chesscom {
        resp.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    resp
}

/// Query string pairs, percent-decoded, `+` as space, in order.
pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// The server handle.

/// The running fake. Dropping it stops both listeners and aborts any
/// streams still in progress.
pub struct FakeServer {
    pub(crate) shared: Arc<Shared>,
    lichess_addr: SocketAddr,
    chesscom_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Counts builder calls so repeated identical calls still produce
    /// distinct (but reproducible) games.
    pub(crate) calls: std::sync::atomic::AtomicU64,
}

impl FakeServer {
    /// Start with [`DEFAULT_SEED`].
    pub fn start() -> Self {
        Self::start_with_seed(DEFAULT_SEED)
    }

    /// Start with an explicit seed for generated data.
    pub fn start_with_seed(seed: u64) -> Self {
        Self::start_on(seed, 0, 0).expect("fake: listen on 127.0.0.1")
    }

    /// Start with `seed`, Lichess on 127.0.0.1:`lichess_port` and Chess.com on
    /// 127.0.0.1:`chesscom_port` (0: a free port). Fails if a port is taken.
    pub fn start_on(seed: u64, lichess_port: u16, chesscom_port: u16) -> io::Result<Self> {
        let bind = |port: u16| {
            let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
            listener.set_nonblocking(true)?;
            Ok::<_, io::Error>(listener)
        };
        let (lichess_std, chesscom_std) = (bind(lichess_port)?, bind(chesscom_port)?);
        let lichess_addr = lichess_std.local_addr()?;
        let chesscom_addr = chesscom_std.local_addr()?;

        let shared = Arc::new(Shared {
            seed,
            lichess: Mutex::new(lichess::Data::default()),
            chesscom: Mutex::new(chesscom::Data::default()),
            config: Mutex::new(Config {
                lichess_rate: None,
                lichess_max_streams: 1,
                chesscom_max_in_flight: 2,
                chesscom_latency: Duration::ZERO,
            }),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            meters: Mutex::new(Meters::default()),
            stalls_run_out: Arc::default(),
            trickles_run_out: Arc::default(),
        });

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let thread_shared = shared.clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-provider-rt")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("fake-provider".into())
            .spawn(move || {
                rt.block_on(serve(
                    thread_shared,
                    lichess_std,
                    chesscom_std,
                    rx,
                    ready_tx,
                ));
                // Connections still streaming are simply abandoned.
                rt.shutdown_background();
            })?;
        // Listeners are bound already; wait only until they are registered
        // with the runtime so the first request is accepted immediately.
        let _ = ready_rx.recv_timeout(Duration::from_secs(5));

        Ok(Self {
            shared,
            lichess_addr,
            chesscom_addr,
            shutdown: Some(tx),
            thread: Some(thread),
            calls: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// `http://127.0.0.1:PORT`, for `--lichess-url`.
    pub fn lichess_url(&self) -> String {
        format!("http://{}", self.lichess_addr)
    }

    /// `http://127.0.0.1:PORT`, for `--chesscom-url`.
    pub fn chesscom_url(&self) -> String {
        format!("http://{}", self.chesscom_addr)
    }

    pub(crate) fn next_call(&self) -> u64 {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    // -- configuration ----------------------------------------------------

    /// Games per second per Lichess stream; `None` = unthrottled (default).
    pub fn set_lichess_rate(&self, games_per_second: Option<f64>) {
        lock(&self.shared.config).lichess_rate = games_per_second.filter(|r| *r > 0.0);
    }

    /// Concurrent Lichess export streams allowed before 429 (default 1).
    pub fn set_lichess_max_streams(&self, n: usize) {
        lock(&self.shared.config).lichess_max_streams = n;
    }

    /// Chess.com requests in flight allowed before 429 (default 2).
    pub fn set_chesscom_max_in_flight(&self, n: usize) {
        lock(&self.shared.config).chesscom_max_in_flight = n;
    }

    /// Delay before every Chess.com response (default none).
    pub fn set_chesscom_latency(&self, d: Duration) {
        lock(&self.shared.config).chesscom_latency = d;
    }

    // -- faults -------------------------------------------------------------

    /// Script `fault` for the next matching request of `provider`.
    pub fn push_fault(&self, provider: Provider, matcher: Matcher, fault: Fault) -> FaultId {
        self.push_fault_n(provider, matcher, fault, 1)
    }

    /// Script `fault` for the next `times` matching requests. Rules are
    /// consulted in push order; the first one with uses left wins.
    pub fn push_fault_n(
        &self,
        provider: Provider,
        matcher: Matcher,
        fault: Fault,
        times: usize,
    ) -> FaultId {
        let mut faults = lock(&self.shared.faults);
        let id = FaultId(faults.len());
        faults.push(FaultRule {
            id,
            provider,
            matcher,
            fault,
            remaining: times,
            fired: 0,
        });
        id
    }

    /// How many requests this fault answered so far.
    pub fn fault_hits(&self, id: FaultId) -> usize {
        lock(&self.shared.faults)
            .iter()
            .find(|r| r.id == id)
            .map_or(0, |r| r.fired)
    }

    /// How many [`Fault::StallAfter`] stalls have lasted their whole length so far. A test that
    /// reads 0 once its client is done knows that the client gave up on the stall rather than
    /// waiting it out.
    pub fn stalls_run_out(&self) -> usize {
        self.shared.stalls_run_out.load(Ordering::Relaxed)
    }

    /// How many trickled bodies were sent to their end.
    pub fn trickles_run_out(&self) -> usize {
        self.shared.trickles_run_out.load(Ordering::Relaxed)
    }

    /// Uses left across all faults of `provider`.
    pub fn pending_faults(&self, provider: Provider) -> usize {
        lock(&self.shared.faults)
            .iter()
            .filter(|r| r.provider == provider)
            .map(|r| r.remaining)
            .sum()
    }

    // -- observation --------------------------------------------------------

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// Requests of one provider.
    pub fn requests_for(&self, provider: Provider) -> Vec<RequestRecord> {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.provider == provider)
            .cloned()
            .collect()
    }

    /// Number of requests of `provider` whose path starts with `path_prefix`.
    pub fn count(&self, provider: Provider, path_prefix: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.provider == provider && r.path.starts_with(path_prefix))
            .count()
    }

    /// Number of requests of `provider` to `endpoint`.
    pub fn count_endpoint(&self, provider: Provider, endpoint: Endpoint) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.provider == provider && r.endpoint == endpoint)
            .count()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Highest number of simultaneous requests seen for `provider`.
    pub fn max_in_flight(&self, provider: Provider) -> usize {
        lock(&self.shared.meters).max_in_flight[provider.index()]
    }

    /// Requests of `provider` in flight right now (bodies still streaming).
    pub fn in_flight(&self, provider: Provider) -> usize {
        self.shared.in_flight(provider)
    }

    /// Highest number of simultaneous Lichess export streams seen.
    pub fn max_lichess_streams(&self) -> usize {
        lock(&self.shared.meters).max_streams
    }

    /// Highest number of simultaneous requests naming this player.
    pub fn max_player_concurrency(&self, provider: Provider, name: &str) -> usize {
        lock(&self.shared.meters)
            .per_player
            .get(&(provider, name.to_lowercase()))
            .map_or(0, |e| e.1)
    }

    /// Highest per-player concurrency over all players of `provider`.
    pub fn max_any_player_concurrency(&self, provider: Provider) -> usize {
        lock(&self.shared.meters)
            .per_player
            .iter()
            .filter(|((p, _), _)| *p == provider)
            .map(|(_, e)| e.1)
            .max()
            .unwrap_or(0)
    }

    /// Number of 429 responses served (scripted or not).
    pub fn served_429(&self, provider: Provider) -> usize {
        lock(&self.shared.meters).served_429[provider.index()]
    }

    /// Reset the maxima and 429 counters (current in-flight counts stay).
    pub fn reset_meters(&self) {
        let mut m = lock(&self.shared.meters);
        m.max_in_flight = m.in_flight;
        m.max_streams = m.streams;
        m.served_429 = [0, 0];
        for e in m.per_player.values_mut() {
            e.1 = e.0;
        }
    }

    /// Wait until no request of either provider is in flight (bodies of a
    /// killed client are noticed on the next write). Returns `false` on
    /// timeout. Useful between two runs of the binary.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let busy = {
                let m = lock(&self.shared.meters);
                m.in_flight.iter().sum::<usize>() + m.streams
            };
            if busy == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    shared: Arc<Shared>,
    lichess_std: std::net::TcpListener,
    chesscom_std: std::net::TcpListener,
    shutdown: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<()>,
) {
    let listener = |l: std::net::TcpListener| {
        tokio::net::TcpListener::from_std(l).map(|inner| FakeListener { inner })
    };
    let (Ok(l1), Ok(l2)) = (listener(lichess_std), listener(chesscom_std)) else {
        let _ = ready.send(());
        return;
    };
    let app = |provider| {
        Router::new()
            .fallback(entry)
            .with_state(Ctx {
                provider,
                shared: shared.clone(),
            })
            .into_make_service_with_connect_info::<ConnMeta>()
    };
    let s1 = axum::serve(l1, app(Provider::Lichess));
    let s2 = axum::serve(l2, app(Provider::Chesscom));
    let _ = ready.send(());
    tokio::select! {
        _ = std::future::IntoFuture::into_future(s1) => {}
        _ = std::future::IntoFuture::into_future(s2) => {}
        _ = shutdown => {}
    }
}

// ---------------------------------------------------------------------------
// Streamed bodies with pacing and stream faults.

/// A body made of `count` items (rendered on demand, so a 100k-game export
/// never exists as one buffer) between a prefix and a suffix.
pub(crate) struct BodyPlan {
    pub prefix: bytes::Bytes,
    pub suffix: bytes::Bytes,
    /// Written between two items (`,` for JSON arrays, empty for NDJSON/PGN).
    pub separator: bytes::Bytes,
    pub count: usize,
    pub item: Box<dyn Fn(usize) -> bytes::Bytes + Send>,
    /// What [`StreamFault::MalformedAt`] injects (already framed).
    pub malformed: bytes::Bytes,
    /// Items per second; `None` = as fast as the client reads.
    pub rate: Option<f64>,
    pub fault: Option<StreamFault>,
    /// Held, never read: dropping the body (finished or abandoned) releases them.
    pub _guards: Vec<Box<dyn std::any::Any + Send>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Prefix,
    Items,
    Suffix,
    Abort,
    Done,
}

struct BodyState {
    plan: BodyPlan,
    phase: Phase,
    next: usize,
    malformed_done: bool,
    started: Instant,
}

/// Batch size when unthrottled: big enough to keep syscalls and chunk
/// headers negligible, small enough to stream steadily.
const CHUNK: usize = 64 * 1024;

impl BodyState {
    fn sep(&self, buf: &mut bytes::BytesMut) {
        if self.next > 0 {
            buf.extend_from_slice(&self.plan.separator);
        }
    }

    async fn step(&mut self) -> Option<Result<bytes::Bytes, io::Error>> {
        loop {
            match self.phase {
                Phase::Done => return None,
                Phase::Abort => {
                    self.phase = Phase::Done;
                    // hyper discards its unflushed write buffer when a body
                    // fails; pausing first lets everything already yielded
                    // (complete items and the partial one) reach the client.
                    tokio::time::sleep(Duration::from_millis(25)).await;
                    // An error from the body makes hyper abort the response:
                    // no terminating chunk, connection closed.
                    return Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "fake: stream cut",
                    )));
                }
                Phase::Prefix => {
                    self.phase = Phase::Items;
                    if !self.plan.prefix.is_empty() {
                        return Some(Ok(self.plan.prefix.clone()));
                    }
                }
                Phase::Suffix => {
                    self.phase = Phase::Done;
                    if !self.plan.suffix.is_empty() {
                        return Some(Ok(self.plan.suffix.clone()));
                    }
                }
                Phase::Items => {
                    let count = self.plan.count;
                    // Fault boundary: faults past the end apply at the end.
                    match self.plan.fault.clone() {
                        Some(StreamFault::CutAfter(k)) if self.next == k.min(count) => {
                            let mut buf = bytes::BytesMut::new();
                            self.sep(&mut buf);
                            let whole = if self.next < count {
                                (self.plan.item)(self.next)
                            } else {
                                self.plan.malformed.clone()
                            };
                            let half = whole.len() / 2;
                            buf.extend_from_slice(&whole[..half.max(1).min(whole.len())]);
                            self.phase = Phase::Abort;
                            return Some(Ok(buf.freeze()));
                        }
                        Some(StreamFault::StallAfter(k, d, run_out))
                            if self.next == k.min(count) =>
                        {
                            tokio::time::sleep(d).await;
                            run_out.fetch_add(1, Ordering::Relaxed);
                            self.phase = Phase::Abort;
                            continue;
                        }
                        Some(StreamFault::MalformedAt(k))
                            if self.next == k.min(count) && !self.malformed_done =>
                        {
                            self.malformed_done = true;
                            let mut buf = bytes::BytesMut::new();
                            self.sep(&mut buf);
                            buf.extend_from_slice(&self.plan.malformed);
                            return Some(Ok(buf.freeze()));
                        }
                        _ => {}
                    }
                    if self.next >= count {
                        self.phase = Phase::Suffix;
                        continue;
                    }
                    if let Some(rate) = self.plan.rate {
                        let due = self.started + Duration::from_secs_f64(self.next as f64 / rate);
                        tokio::time::sleep_until(due.into()).await;
                        let mut buf = bytes::BytesMut::new();
                        self.sep(&mut buf);
                        buf.extend_from_slice(&(self.plan.item)(self.next));
                        self.next += 1;
                        return Some(Ok(buf.freeze()));
                    }
                    let limit = match &self.plan.fault {
                        Some(
                            StreamFault::CutAfter(k)
                            | StreamFault::StallAfter(k, ..)
                            | StreamFault::MalformedAt(k),
                        ) if *k > self.next => (*k).min(count),
                        _ => count,
                    };
                    let mut buf = bytes::BytesMut::with_capacity(CHUNK + 4096);
                    while self.next < limit && buf.len() < CHUNK {
                        self.sep(&mut buf);
                        buf.extend_from_slice(&(self.plan.item)(self.next));
                        self.next += 1;
                    }
                    return Some(Ok(buf.freeze()));
                }
            }
        }
    }
}

pub(crate) fn stream_body(plan: BodyPlan) -> Body {
    let state = BodyState {
        plan,
        phase: Phase::Prefix,
        next: 0,
        malformed_done: false,
        started: Instant::now(),
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        let item = st.step().await?;
        Some((item, st))
    });
    Body::from_stream(stream)
}
