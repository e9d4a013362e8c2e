//! Tests of the fake Lichess / Chess.com server itself (tests/fake),
//! with a plain HTTP client, so the integration tests built on it can trust
//! that it behaves like the real APIs.

use std::str::FromStr as _;
use std::time::Duration;

use chess_import_fake::{
    ChesscomGameSpec, Endpoint, FakeServer, Fault, LichessEvent, LichessGameSpec, Matcher, Provider,
};
use reqwest::Method;
use reqwest::header::{
    ACCEPT, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, HeaderName,
    IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER, USER_AGENT,
};
use serde_json::Value;
use shakmaty::fen::Fen;
use shakmaty::san::San;
use shakmaty::{CastlingMode, Chess, EnPassantMode, Position};

const T0: i64 = 1_700_000_000_000;
const UA: &str = "chess-import-tests/0.1 (+tests@example.invalid)";
const NDJSON: (HeaderName, &str) = (ACCEPT, "application/x-ndjson");

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(UA)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A response read to its end.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// The header's value, or `""` without one.
    fn header(&self, name: HeaderName) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().expect("ascii header"))
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Each line of an NDJSON body.
    fn json_lines(&self) -> Vec<Value> {
        self.body
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

/// `GET url` with the test User-Agent and `headers`, which may replace it.
fn get(url: &str, headers: &[(HeaderName, &str)]) -> Reply {
    send(Method::GET, url, headers, String::new())
}

/// `POST url` with `body`, as [`get`] sends.
fn post(url: &str, headers: &[(HeaderName, &str)], body: String) -> Reply {
    send(Method::POST, url, headers, body)
}

fn send(method: Method, url: &str, headers: &[(HeaderName, &str)], body: String) -> Reply {
    block_on(async {
        let mut request = client().request(method, url).body(body);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let response = request.send().await.expect("send");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    })
}

/// Replay SAN moves from `start` (standard if `None`), returning the final
/// position; panics on an illegal move.
fn replay<'a>(start: Option<&str>, sans: impl IntoIterator<Item = &'a str>) -> Chess {
    let mut pos: Chess = match start {
        Some(fen) => Fen::from_str(fen)
            .expect("fen")
            .into_position(CastlingMode::Standard)
            .expect("position"),
        None => Chess::default(),
    };
    for s in sans {
        let m = San::from_str(s)
            .unwrap_or_else(|_| panic!("bad SAN {s}"))
            .to_move(&pos)
            .unwrap_or_else(|_| panic!("illegal {s}"));
        pos.play_unchecked(m);
    }
    pos
}

/// SAN tokens of a PGN movetext (drops numbers, comments and the result).
fn pgn_sans(pgn: &str) -> Vec<String> {
    let movetext = pgn.split("\n\n").nth(1).expect("movetext");
    let mut out = Vec::new();
    let mut in_comment = false;
    for tok in movetext.split_whitespace() {
        if in_comment {
            in_comment = !tok.ends_with('}');
            continue;
        }
        if tok.starts_with('{') {
            in_comment = !tok.ends_with('}');
            continue;
        }
        if tok.ends_with('.') || ["1-0", "0-1", "1/2-1/2", "*"].contains(&tok) {
            continue;
        }
        out.push(tok.to_string());
    }
    out
}

fn tag<'a>(pgn: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("[{name} \"");
    pgn.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.strip_suffix("\"]"))
}

// ---------------------------------------------------------------------------
// Lichess

#[test]
fn lichess_format_follows_accept_exactly() {
    let s = FakeServer::start();
    let ids = s.add_lichess_games("Alice", 3, T0, 60_000);
    let url = format!(
        "{}/api/games/user/alice?pgnInJson=true&clocks=true&opening=true",
        s.lichess_url()
    );
    let r = get(&url, &[NDJSON]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header(CONTENT_TYPE), "application/x-ndjson");
    assert!(r.header(CONTENT_LENGTH).is_empty(), "must be chunked");
    let cd = r.header(CONTENT_DISPOSITION);
    assert!(cd.starts_with("attachment; filename=lichess_Alice_") && cd.ends_with(".json"));
    let lines = r.json_lines();
    // createdAt descending by default.
    let got: Vec<&str> = lines
        .iter()
        .map(|l| l["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        got,
        ids.iter().rev().map(String::as_str).collect::<Vec<_>>()
    );
    for l in &lines {
        let pgn = l["pgn"].as_str().expect("pgn");
        assert!(
            pgn.ends_with("\n\n\n"),
            "lila terminates pgn with \\n\\n\\n"
        );
        let keys: Vec<&str> = pgn
            .lines()
            .take_while(|l| l.starts_with('['))
            .map(|l| &l[1..l.find(' ').expect("tag")])
            .collect();
        assert_eq!(
            &keys[..10],
            &[
                "Event", "Site", "Date", "Round", "White", "Black", "Result", "GameId", "UTCDate",
                "UTCTime"
            ]
        );
        assert_eq!(*keys.last().expect("tags"), "Termination");
        assert_eq!(tag(pgn, "GameId"), l["id"].as_str());
        let created = l["createdAt"].as_i64().expect("createdAt");
        let dt = chrono::DateTime::from_timestamp_millis(created).expect("ts");
        assert_eq!(
            tag(pgn, "UTCDate"),
            Some(dt.format("%Y.%m.%d").to_string().as_str())
        );
        assert_eq!(
            tag(pgn, "UTCTime"),
            Some(dt.format("%H:%M:%S").to_string().as_str())
        );
        // Moves are legal and agree between `moves`, `pgn` and `clocks`.
        let moves: Vec<&str> = l["moves"].as_str().expect("moves").split(' ').collect();
        assert!((20..=80).contains(&moves.len()) || tag(pgn, "Termination") == Some("Normal"));
        replay(None, moves.iter().copied());
        assert_eq!(pgn_sans(pgn), moves);
        if let Some(clocks) = l["clocks"].as_array() {
            assert_eq!(clocks.len(), moves.len());
            assert_eq!(pgn.matches("{ [%clk ").count(), moves.len());
            assert_eq!(pgn.matches("] }").count(), moves.len());
        }
    }

    // "application/x-ndjson, */*" is not an exact match: PGN.
    let r = get(&url, &[(ACCEPT, "application/x-ndjson, */*")]);
    assert_eq!(r.header(CONTENT_TYPE), "application/x-chess-pgn");
    assert_eq!(r.body.matches("[Event ").count(), 3);
    assert!(r.body.ends_with("\n\n\n"));
    assert_eq!(r.body.split("\n\n\n").filter(|g| !g.is_empty()).count(), 3);

    // application/json prefix: NDJSON again.
    let r = get(&url, &[(ACCEPT, "application/json")]);
    assert_eq!(r.header(CONTENT_TYPE), "application/x-ndjson");
}

#[test]
fn lichess_since_until_sort_max() {
    let s = FakeServer::start();
    let ids = s.add_lichess_games("bob", 10, T0, 1000);
    let base = format!("{}/api/games/user/BOB", s.lichess_url());
    let fetch = |q: String| {
        get(&format!("{base}?{q}"), &[NDJSON])
            .json_lines()
            .iter()
            .map(|v| v["id"].as_str().expect("id").to_string())
            .collect::<Vec<_>>()
    };
    // since inclusive, until exclusive, newest first.
    let got = fetch(format!("since={}&until={}", T0 + 2000, T0 + 5000));
    assert_eq!(got, vec![ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    let got = fetch(format!("since={}&sort=dateAsc&max=2", T0 + 2000));
    assert_eq!(got, vec![ids[2].clone(), ids[3].clone()]);
    // Unparsable numbers are ignored, as lila does.
    assert_eq!(fetch("since=yesterday&until=&max=x".into()).len(), 10);
    // Seconds instead of ms: everything is "since 1970".
    assert_eq!(fetch(format!("since={}", T0 / 1000)).len(), 10);
}

#[test]
fn lichess_analysis_titles_and_events_follow_the_flags() {
    let s = FakeServer::start();
    s.add_lichess_user("bob");
    s.add_lichess_user("carl");
    let spec = LichessGameSpec::new("carl", "bob", T0)
        .titles(Some("GM"), None)
        .analysed()
        .event(LichessEvent::Arena("winter".into()));
    s.add_lichess_game(spec.clone().id("Analysed"));
    s.add_lichess_game(LichessGameSpec::new("bob", "carl", T0 + 1000).id("Plain001"));
    let base = format!(
        "{}/api/games/user/bob?sort=dateAsc&pgnInJson=true",
        s.lichess_url()
    );
    let plain = get(&base, &[NDJSON]).json_lines();
    let white = &plain[0]["players"]["white"];
    assert_eq!(white["user"]["title"], "GM");
    assert!(white.get("analysis").is_none(), "no analysis unless asked");
    assert!(plain[0].get("division").is_none());
    assert_eq!(plain[0]["arenaTour"]["id"], "winter");
    assert_eq!(plain[0]["source"], "arena");
    let pgn = plain[0]["pgn"].as_str().expect("a PGN");
    assert_eq!(tag(pgn, "WhiteTitle"), Some("GM"));
    assert!(!pgn.contains("[%eval"));

    let asked = get(
        &format!("{base}&evals=true&accuracy=true&division=true"),
        &[NDJSON],
    );
    let lines = asked.json_lines();
    let analysis = &lines[0]["players"]["black"]["analysis"];
    for field in ["inaccuracy", "mistake", "blunder", "acpl", "accuracy"] {
        assert!(analysis[field].is_u64(), "{field}: {analysis}");
    }
    assert!(
        lines[0]["analysis"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(lines[0]["division"].is_object());
    assert!(
        lines[0]["pgn"]
            .as_str()
            .is_some_and(|p| p.contains("[%eval "))
    );
    assert!(
        lines[1]["players"]["white"].get("analysis").is_none(),
        "a game without an analysis has none to send"
    );
    let evals_only = get(&format!("{base}&evals=true"), &[NDJSON]).json_lines();
    let side = &evals_only[0]["players"]["white"]["analysis"];
    assert!(
        side["acpl"].is_u64() && side.get("accuracy").is_none(),
        "{side}"
    );
}

#[test]
fn a_late_lichess_analysis_is_served_by_id_from_then_on() {
    let s = FakeServer::start();
    let id = s.add_lichess_game(LichessGameSpec::new("bob", "carl", T0));
    let ongoing = s.add_lichess_ongoing_game("bob", "carl", T0 + 1000);
    let url = format!(
        "{}/api/games/export/_ids?pgnInJson=true&evals=true&accuracy=true",
        s.lichess_url()
    );
    let by_id = || post(&url, &[NDJSON], id.clone()).json_lines();
    let before = by_id();
    assert!(before[0]["players"]["white"].get("analysis").is_none());
    assert!(s.analyse_lichess_game(&id));
    assert!(!s.analyse_lichess_game(&id), "analysed once");
    assert!(!s.analyse_lichess_game(&ongoing), "only a finished game");
    let after = by_id();
    assert!(after[0]["players"]["white"]["analysis"]["accuracy"].is_u64());
    assert!(
        after[0]["pgn"]
            .as_str()
            .is_some_and(|p| p.contains("[%eval "))
    );
    assert!(after[0]["moves"].is_string());
    assert_eq!(
        after[0]["moves"], before[0]["moves"],
        "the same game, analysed"
    );
}

#[test]
fn lichess_not_found_forms() {
    let s = FakeServer::start();
    s.add_lichess_games("carol", 1, T0, 1);
    s.set_lichess_user_closed("dave", true);
    let u = s.lichess_url();
    let nobody = format!("{u}/api/games/user/nobody");
    let r = get(&nobody, &[NDJSON]);
    assert_eq!(r.status, 404);
    assert_eq!(r.body, r#"{"error":"Not found"}"#);
    let r = get(&nobody, &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.body, "Not found");
    let r = get(&nobody, &[(reqwest::header::AUTHORIZATION, "Bearer lip_x")]);
    assert_eq!(r.body, r#"{"error":"Not found"}"#);
    // Closed account and crawler UAs look exactly like an unknown user.
    for (path, ua) in [
        ("dave", UA),
        ("carol", "curl/8.5.0"),
        ("carol", "python-requests/2.31"),
        ("carol", ""),
    ] {
        let r = get(
            &format!("{u}/api/games/user/{path}"),
            &[(USER_AGENT, ua), NDJSON],
        );
        assert_eq!(r.status, 404, "{path} {ua}");
    }
    let r = get(&format!("{u}/api/user/nobody"), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.body, r#"{"error":"Not found"}"#);
    let r = get(&format!("{u}/api/user/DAVE"), &[]);
    assert_eq!(r.body, r#"{"id":"dave","username":"dave","disabled":true}"#);
    let v = get(&format!("{u}/api/user/Carol"), &[]).json();
    assert_eq!(v["id"], "carol");
    assert_eq!(v["count"]["all"], 1);
}

#[test]
fn lichess_second_stream_gets_429_without_retry_after() {
    let s = FakeServer::start();
    s.add_lichess_games("erin", 5, T0, 1000);
    // Keep the first stream open long enough to overlap.
    s.push_fault(
        Provider::Lichess,
        Matcher::endpoint(Endpoint::LichessExport),
        Fault::StallAfter {
            items: 1,
            stall: Duration::from_millis(300),
        },
    );
    let url = format!("{}/api/games/user/erin", s.lichess_url());
    block_on(async {
        let c = client();
        let first = c
            .get(&url)
            .header(ACCEPT, "application/x-ndjson")
            .send()
            .await
            .expect("first");
        assert_eq!(first.status(), 200);
        let second = c
            .get(&url)
            .header(ACCEPT, "application/x-ndjson")
            .send()
            .await
            .expect("second");
        assert_eq!(second.status(), 429);
        assert!(second.headers().get(RETRY_AFTER).is_none());
        assert_eq!(
            second.text().await.expect("body"),
            r#"{"error":"Please only run 1 request(s) at a time"}"#
        );
        drop(first);
    });
    assert_eq!(s.served_429(Provider::Lichess), 1);
    assert_eq!(s.max_lichess_streams(), 1);
    assert_eq!(s.max_player_concurrency(Provider::Lichess, "ERIN"), 2);
}

#[test]
fn lichess_cut_stream_is_a_client_body_error() {
    let s = FakeServer::start();
    s.add_lichess_games("frank", 5, T0, 1000);
    let fault = s.push_fault(
        Provider::Lichess,
        Matcher::user("Frank"),
        Fault::CutAfter(2),
    );
    let url = format!("{}/api/games/user/frank", s.lichess_url());
    block_on(async {
        let mut r = client()
            .get(&url)
            .header(ACCEPT, "application/x-ndjson")
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let mut got = Vec::new();
        let err = loop {
            match r.chunk().await {
                Ok(Some(b)) => got.extend_from_slice(&b),
                Ok(None) => panic!("stream ended cleanly"),
                Err(e) => break e,
            }
        };
        assert!(
            err.is_body() || err.is_decode() || err.is_request(),
            "{err:?}"
        );
        let text = String::from_utf8(got).expect("utf8");
        assert_eq!(text.matches('\n').count(), 2, "two complete lines");
        assert!(!text.ends_with('\n'), "then a partial line");
    });
    assert_eq!(s.fault_hits(fault), 1);
    assert_eq!(s.pending_faults(Provider::Lichess), 0);
}

#[test]
fn lichess_malformed_line_and_drop_connection() {
    let s = FakeServer::start();
    s.add_lichess_games("gina", 3, T0, 1000);
    let url = format!("{}/api/games/user/gina", s.lichess_url());
    s.push_fault(Provider::Lichess, Matcher::any(), Fault::DropConnection);
    s.push_fault(Provider::Lichess, Matcher::any(), Fault::MalformedLineAt(1));
    let err = block_on(async {
        client()
            .get(&url)
            .header(ACCEPT, "application/x-ndjson")
            .send()
            .await
            .expect_err("connection dropped")
    });
    assert!(!err.is_status(), "{err:?}");
    let body = get(&url, &[NDJSON]).body;
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(serde_json::from_str::<Value>(lines[0]).is_ok());
    assert!(serde_json::from_str::<Value>(lines[1]).is_err());
    assert!(serde_json::from_str::<Value>(lines[3]).is_ok());
    let statuses: Vec<u16> = s.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![0, 200]);
}

#[test]
fn lichess_ongoing_shared_and_by_ids() {
    let s = FakeServer::start();
    s.add_lichess_user("alice");
    s.add_lichess_user("bob");
    let shared = s.add_lichess_game(LichessGameSpec::new("alice", "bob", T0).id("Shared01"));
    let ongoing = s.add_lichess_ongoing_game("alice", "bob", T0 + 10);
    let u = s.lichess_url();
    let ids_of = |path: &str| {
        get(&format!("{u}{path}"), &[NDJSON])
            .json_lines()
            .iter()
            .map(|v| {
                (
                    v["id"].as_str().expect("id").to_string(),
                    v["status"].as_str().expect("status").to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids_of("/api/games/user/alice"),
        vec![(
            shared.clone(),
            s.lichess_game_status(&shared).expect("status").to_string()
        )]
    );
    assert_eq!(ids_of("/api/games/user/bob").len(), 1);
    let with_ongoing = ids_of("/api/games/user/bob?ongoing=yes");
    assert_eq!(with_ongoing[0], (ongoing.clone(), "started".to_string()));
    assert_eq!(ids_of("/api/games/user/bob?finished=false").len(), 1);
    assert!(s.finish_lichess_game(&ongoing));
    assert_eq!(ids_of("/api/games/user/bob").len(), 2);

    let by_ids = format!("{u}/api/games/export/_ids");
    let got: Vec<String> = post(&by_ids, &[NDJSON], format!("{ongoing},nope0000,{shared}"))
        .json_lines()
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(got, vec![ongoing.clone(), shared.clone()]);
    let too_many = vec!["abcdefgh"; 301].join(",");
    assert_eq!(post(&by_ids, &[], too_many).status, 400);
}

#[test]
fn lichess_real_fixture_lines_are_served_verbatim() {
    let s = FakeServer::start();
    let ids = s.add_lichess_fixture_games();
    assert!(ids.contains(&"wVI5NKlo".to_string()));
    let body = get(
        &format!("{}/api/games/user/lance5500", s.lichess_url()),
        &[NDJSON],
    )
    .body;
    assert!(body.contains(r#"{"id":"wVI5NKlo","#));
    assert_eq!(body.lines().count(), ids.len());
}

// ---------------------------------------------------------------------------
// Chess.com

#[test]
fn chesscom_redirects_uppercase_and_404s_unknown() {
    let s = FakeServer::start();
    let u = s.chesscom_url();
    let r = get(&format!("{u}/pub/player/NoSuchUser/games/archives"), &[]);
    assert_eq!(r.status, 301);
    assert_eq!(r.header(LOCATION), "/pub/player/nosuchuser/games/archives");
    let r = get(&format!("{u}/pub/player/nosuchuser/games/archives"), &[]);
    assert_eq!(r.status, 404);
    assert_eq!(r.header(CONTENT_TYPE), "application/json; charset=utf-8");
    assert_eq!(
        r.body,
        r#"{"code":0,"message":"User \"nosuchuser\" not found."}"#
    );
    // No User-Agent at all: Cloudflare's HTML challenge.
    let r = block_on(async {
        reqwest::Client::new()
            .get(format!("{u}/pub/player/nosuchuser"))
            .send()
            .await
            .expect("send")
    });
    assert_eq!(r.status(), 403);
    let content_type = r.headers().get(CONTENT_TYPE).expect("a content type");
    assert!(content_type.as_bytes().starts_with(b"text/html"));
}

#[test]
fn chesscom_archives_months_etag_and_304() {
    let s = FakeServer::start();
    let jan = s.add_chesscom_games("Hikaru", 2024, 1, 4);
    s.add_chesscom_games("hikaru", 2024, 3, 2);
    s.add_chesscom_empty_month("hikaru", 2024, 5);
    let u = s.chesscom_url();
    let archives = format!("{u}/pub/player/hikaru/games/archives");
    let r = get(&archives, &[]);
    assert_eq!(r.status, 200);
    let etag = r.header(ETAG).to_string();
    assert!(etag.starts_with("W/\"") && etag.len() == 32 + 4, "{etag}");
    let lm = r.header(LAST_MODIFIED);
    assert!(
        chrono::NaiveDateTime::parse_from_str(lm, "%A, %d-%b-%Y %H:%M:%S GMT+0000").is_ok(),
        "{lm}"
    );
    assert_eq!(
        r.json()["archives"],
        serde_json::json!([
            "https://api.chess.com/pub/player/hikaru/games/2024/01",
            "https://api.chess.com/pub/player/hikaru/games/2024/03",
            "https://api.chess.com/pub/player/hikaru/games/2024/05"
        ])
    );
    let r = get(&archives, &[(IF_NONE_MATCH, &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());

    let month = format!("{u}/pub/player/hikaru/games/2024/01");
    let r = get(&month, &[]);
    let month_etag = r.header(ETAG).to_string();
    let v = r.json();
    let games = v["games"].as_array().expect("games");
    let uuids: Vec<&str> = games
        .iter()
        .map(|g| g["uuid"].as_str().expect("uuid"))
        .collect();
    assert_eq!(uuids, jan.iter().map(String::as_str).collect::<Vec<_>>());
    let ends: Vec<i64> = games
        .iter()
        .map(|g| g["end_time"].as_i64().expect("end"))
        .collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "ascending end_time");
    for g in games {
        let pgn = g["pgn"].as_str().expect("pgn");
        assert_eq!(tag(pgn, "Link"), g["url"].as_str());
        let sans = pgn_sans(pgn);
        let end = replay(None, sans.iter().map(String::as_str));
        let fen = Fen::from_position(&end, EnPassantMode::Legal).to_string();
        assert_eq!(g["fen"].as_str(), Some(fen.as_str()));
        assert_eq!(tag(pgn, "CurrentPosition"), Some(fen.as_str()));
        assert_eq!(pgn.matches("{[%clk ").count(), sans.len());
        assert_eq!(pgn.matches("]}").count(), sans.len());
        assert_eq!(
            g["white"]["@id"]
                .as_str()
                .map(|s| s.starts_with("https://api.chess.com/pub/player/")),
            Some(true)
        );
    }

    // New game in the month: the ETag changes, the old one gets a 200.
    let newest = s.add_chesscom_game(ChesscomGameSpec::new("hikaru", "magnus", 1_704_800_000));
    let r = get(&month, &[(IF_NONE_MATCH, &month_etag)]);
    assert_eq!(r.status, 200);
    assert_ne!(r.header(ETAG), month_etag);
    let games = r.json()["games"].as_array().expect("games").clone();
    assert_eq!(games.len(), 5);
    assert!(games.iter().any(|g| g["uuid"] == newest.as_str()));

    let r = get(&format!("{u}/pub/player/hikaru/games/2024/05"), &[]);
    assert_eq!(r.body, r#"{"games":[]}"#);
    let r = get(&format!("{u}/pub/player/hikaru/games/2019/05"), &[]);
    assert_eq!(r.body, r#"{"games":[]}"#);
}

#[test]
fn chesscom_real_fixtures_and_variants() {
    let s = FakeServer::start();
    let uuids = s.add_chesscom_fixture_games();
    assert_eq!(uuids.len(), 17 + 2 + 6);
    let bug = s.add_chesscom_bughouse_game("zed", 2023, 2);
    let odds = s.add_chesscom_odds_game("zed", 2023, 2);
    let (live, daily) = s.add_chesscom_url_collision("zed", 2023, 2);
    let game_json = |uuid: &str| -> Value {
        serde_json::from_str(&s.chesscom_game_json(uuid).expect("a game")).expect("json")
    };
    assert!(game_json(&bug).get("pgn").is_none());
    let odds_json = game_json(&odds);
    assert_eq!(odds_json["rules"], "oddschess");
    assert!(odds_json.get("eco").is_none());
    let odds_pgn = odds_json["pgn"].as_str().expect("pgn");
    let setup = tag(odds_pgn, "FEN").expect("FEN tag");
    replay(Some(setup), pgn_sans(odds_pgn).iter().map(String::as_str));
    let (lu, du) = (
        s.chesscom_game_url(&live).expect("live"),
        s.chesscom_game_url(&daily).expect("daily"),
    );
    assert_eq!(lu.rsplit('/').next(), du.rsplit('/').next());
    assert!(lu.contains("/live/") && du.contains("/daily/"));

    let body = get(
        &format!(
            "{}/pub/player/fabianocaruana/games/2020/05",
            s.chesscom_url()
        ),
        &[],
    )
    .body;
    // Byte-identical to the recorded archive.
    let recorded = include_str!("../fake/fixtures/chesscom/month-sample.json");
    assert_eq!(body, recorded);
}

#[test]
fn chesscom_parallel_requests_get_429_and_faults_fire_in_order() {
    let s = FakeServer::start();
    s.add_chesscom_user("ivy");
    s.set_chesscom_max_in_flight(1);
    s.set_chesscom_latency(Duration::from_millis(80));
    let u = s.chesscom_url();
    let statuses = block_on(async {
        let c = client();
        let a = c.get(format!("{u}/pub/player/ivy")).send();
        let b = async {
            // Let the first request get in flight first.
            tokio::time::sleep(Duration::from_millis(20)).await;
            c.get(format!("{u}/pub/player/ivy/games/archives"))
                .send()
                .await
        };
        let (a, b) = tokio::join!(a, b);
        (
            a.expect("a").status().as_u16(),
            b.expect("b").status().as_u16(),
        )
    });
    assert_eq!(statuses, (200, 429));
    assert_eq!(s.served_429(Provider::Chesscom), 1);
    assert_eq!(s.max_in_flight(Provider::Chesscom), 2);

    s.set_chesscom_latency(Duration::ZERO);
    let f1 = s.push_fault_n(
        Provider::Chesscom,
        Matcher::endpoint(Endpoint::ChesscomArchives),
        Fault::ServiceUnavailable,
        2,
    );
    let f2 = s.push_fault(
        Provider::Chesscom,
        Matcher::any(),
        Fault::RateLimitedRetryAfterSecs(7),
    );
    let f3 = s.push_fault(Provider::Chesscom, Matcher::any(), Fault::Blocked);
    let got: Vec<(u16, String)> = (0..5)
        .map(|_| {
            let r = get(&format!("{u}/pub/player/ivy/games/archives"), &[]);
            (r.status, r.header(RETRY_AFTER).to_string())
        })
        .collect();
    let codes: Vec<u16> = got.iter().map(|g| g.0).collect();
    assert_eq!(codes, vec![503, 503, 429, 403, 200]);
    assert_eq!(got[2].1, "7");
    assert_eq!(
        (s.fault_hits(f1), s.fault_hits(f2), s.fault_hits(f3)),
        (2, 1, 1)
    );
    assert_eq!(s.count(Provider::Chesscom, "/pub/player/ivy/games"), 6);
    assert!(
        s.requests_for(Provider::Chesscom)
            .iter()
            .all(|r| r.user_agent.as_deref() == Some(UA))
    );
}

#[test]
fn same_seed_same_data_and_throttle() {
    let (a, b) = (FakeServer::start(), FakeServer::start());
    let ids_a = a.add_lichess_games("kim", 3, T0, 1000);
    let ids_b = b.add_lichess_games("kim", 3, T0, 1000);
    assert_eq!(ids_a, ids_b);
    assert_eq!(
        a.lichess_game_json(&ids_a[0]),
        b.lichess_game_json(&ids_b[0])
    );
    assert_eq!(
        a.add_chesscom_games("kim", 2022, 2, 2),
        b.add_chesscom_games("kim", 2022, 2, 2)
    );
    // A different seed gives different games.
    let c = FakeServer::start_with_seed(7);
    assert_ne!(c.add_lichess_games("kim", 3, T0, 1000), ids_a);

    // 10 games at 200 games/s take at least 9 intervals of 5 ms.
    a.set_lichess_rate(Some(200.0));
    a.add_lichess_games("kim", 7, T0 + 10_000, 1000);
    let started = std::time::Instant::now();
    let body = get(&format!("{}/api/games/user/kim", a.lichess_url()), &[]).body;
    assert_eq!(body.matches("[Event ").count(), 10);
    assert!(
        started.elapsed() >= Duration::from_millis(44),
        "{:?}",
        started.elapsed()
    );
}
