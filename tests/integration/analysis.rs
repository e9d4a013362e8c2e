//! Schema version 2's columns filled from what the providers send (`--with-analysis` for
//! Lichess's engine analysis), and `player_games_view` from each imported player's side, in
//! SQLite and PostgreSQL.

use std::collections::HashMap;
use std::path::Path;

use chess_import_fake::{ChesscomGameSpec, FakeServer, LichessEvent, LichessGameSpec};

use crate::support::cli::{Backend, value_in};

const T0: i64 = 1_700_000_000_000;

fn backends() -> Vec<Backend> {
    std::iter::once(Backend::Sqlite)
        .chain(Backend::postgres())
        .collect()
}

fn column(db: &Path, game_id: &str, column: &str) -> Option<String> {
    value_in(
        db,
        &format!("SELECT {column} FROM games WHERE game_id = '{game_id}'"),
    )
    .filter(|v| !v.is_empty())
}

#[test]
fn lichess_analysis_titles_event_and_end_are_stored_with_with_analysis() {
    for backend in backends() {
        let fake = FakeServer::start();
        fake.add_lichess_user("alice");
        fake.add_lichess_user("magnus");
        let arena = fake.add_lichess_game(
            LichessGameSpec::new("magnus", "alice", T0)
                .titles(Some("GM"), None)
                .analysed()
                .event(LichessEvent::Arena("winter".into())),
        );
        let plain = fake.add_lichess_game(LichessGameSpec::new("alice", "magnus", T0 + 60_000));
        let run = backend
            .import(&fake)
            .players(["lichess:alice"])
            .arg("--with-analysis")
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let db = run.db.as_path();
        for filled in [
            "white_accuracy",
            "black_accuracy",
            "white_acpl",
            "black_blunders",
            "middlegame_ply",
            "endgame_ply",
            "ended_at",
            "final_fen",
        ] {
            assert!(
                column(db, &arena, filled).is_some(),
                "{filled} ({backend:?})"
            );
        }
        assert_eq!(column(db, &arena, "white_title").as_deref(), Some("GM"));
        assert_eq!(column(db, &arena, "black_title"), None);
        assert_eq!(column(db, &arena, "source").as_deref(), Some("arena"));
        let event = column(db, &arena, "event_url").unwrap_or_default();
        assert!(event.ends_with("/tournament/winter"), "{event}");
        assert!(column(db, &arena, "pgn").is_some_and(|pgn| pgn.contains("[%eval ")));
        assert_eq!(
            column(db, &plain, "white_accuracy"),
            None,
            "no analysis, no accuracy"
        );
        assert!(column(db, &plain, "white_rating_diff").is_some());
    }
}

#[test]
fn without_with_analysis_no_analysis_is_asked_or_stored() {
    let fake = FakeServer::start();
    fake.add_lichess_user("alice");
    let id = fake.add_lichess_game(LichessGameSpec::new("alice", "bob", T0).analysed());
    let run = Backend::Sqlite
        .import(&fake)
        .players(["lichess:alice"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(column(&run.db, &id, "white_accuracy"), None);
    assert!(column(&run.db, &id, "pgn").is_some_and(|pgn| !pgn.contains("[%eval")));
}

#[test]
fn chesscom_accuracies_opening_and_kind_are_stored() {
    for backend in backends() {
        let fake = FakeServer::start();
        fake.add_chesscom_user("bob");
        let mut reviewed = ChesscomGameSpec::new("bob", "eve", 1_698_000_000).daily(3);
        reviewed.accuracies = Some(true);
        let id = fake.add_chesscom_game(reviewed);
        let run = backend.import(&fake).players(["chesscom:bob"]).run();
        assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
        let db = run.db.as_path();
        for filled in [
            "white_accuracy",
            "black_accuracy",
            "opening",
            "ended_at",
            "final_fen",
        ] {
            assert!(column(db, &id, filled).is_some(), "{filled} ({backend:?})");
        }
        assert_eq!(column(db, &id, "source").as_deref(), Some("daily"));
    }
}

#[test]
fn the_players_view_sees_each_game_from_each_imported_players_side() {
    for backend in backends() {
        let fake = FakeServer::start();
        // Alice and Bob play each other (and others): a game of both has two rows.
        for (i, (white, black)) in [
            ("alice", "bob"),
            ("Bob", "ALICE"),
            ("alice", "carol"),
            ("dave", "bob"),
            ("bob", "alice"),
            ("alice", "bob"),
        ]
        .into_iter()
        .enumerate()
        {
            fake.add_lichess_user(&white.to_lowercase());
            fake.add_lichess_user(&black.to_lowercase());
            fake.add_lichess_game(LichessGameSpec::new(white, black, T0 + i as i64 * 60_000));
        }
        let run = backend
            .import(&fake)
            .players(["lichess:alice", "lichess:bob"])
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        let db = run.db.as_path();
        let games: HashMap<String, (String, String, String, String)> = rows(
            db,
            "SELECT game_id || '|' || white || '|' || black || '|' || result || '|' || \
             coalesce(white_elo, 0) FROM games",
        )
        .into_iter()
        .map(|row| {
            let f: Vec<&str> = row.split('|').collect();
            (
                f[0].into(),
                (f[1].into(), f[2].into(), f[3].into(), f[4].into()),
            )
        })
        .collect();
        let view = rows(
            db,
            "SELECT username || '|' || game_id || '|' || color || '|' || coalesce(result, '-') \
             || '|' || coalesce(rating, 0) || '|' || opponent FROM player_games_view",
        );
        // Alice: 5 games, Bob: 5 games.
        assert_eq!(view.len(), 10, "{view:?}");
        let mut by_game: HashMap<String, Vec<String>> = HashMap::new();
        for row in &view {
            let f: Vec<&str> = row.split('|').collect();
            let (user, id, color, result, rating, opponent) = (f[0], f[1], f[2], f[3], f[4], f[5]);
            let (white, black, outcome, white_elo) = &games[id];
            let expected_color = if white.eq_ignore_ascii_case(user) {
                "white"
            } else {
                "black"
            };
            assert_eq!(color, expected_color, "{row}");
            let expected = match (outcome.as_str(), color) {
                ("1/2-1/2", _) => "draw",
                ("1-0", "white") | ("0-1", "black") => "win",
                _ => "loss",
            };
            assert_eq!(result, expected, "{row} ({outcome})");
            let (their_opponent, is_white) = if color == "white" {
                (black, true)
            } else {
                (white, false)
            };
            assert_eq!(opponent, their_opponent, "{row}");
            if is_white {
                assert_eq!(rating, white_elo, "{row}");
            }
            by_game.entry(id.into()).or_default().push(result.into());
        }
        let shared: Vec<&Vec<String>> = by_game.values().filter(|r| r.len() == 2).collect();
        assert_eq!(
            shared.len(),
            4,
            "alice and bob met four times ({backend:?})"
        );
        for results in shared {
            let mut pair = results.clone();
            pair.sort();
            assert!(
                pair == ["draw", "draw"] || pair == ["loss", "win"],
                "opposite results: {pair:?}"
            );
        }
    }
}

/// The first column of every row of `sql`, from either store.
fn rows(db: &Path, sql: &str) -> Vec<String> {
    let target = db.to_string_lossy();
    if target.starts_with("postgres") {
        return crate::support::pg::query_strings(&target, sql)
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect();
    }
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let mut statement = conn.prepare(sql).expect("prepare");
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}
