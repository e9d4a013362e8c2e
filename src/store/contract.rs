//! The contract both stores keep, as one suite: each test is written once, against [`Store`] and
//! [`Catalog`], and [`contract_tests!`] runs it for a store: SQLite's always, PostgreSQL's when
//! `CHESS_IMPORT_TEST_PG` names a server (see `postgres::testing`). What only one store does stays
//! with that store's tests.

use std::any::Any;
use std::time::Duration;

use super::{Batch, Catalog, GameFilter, Lease, Store, Value, View, WriteCounts, open_catalog};
use crate::game::GameRecord;
use crate::player::{Platform, Player};
use crate::resume::{Cursor, MonthValidator};

/// A fresh database, and how to open stores on it.
pub(crate) struct Database {
    /// The database as `--db` names it.
    target: String,
    open: Box<dyn Fn() -> Box<dyn Store>>,
    /// What must outlive the stores: the SQLite file's directory, the runtime that PostgreSQL's
    /// connections run on.
    _keep: Box<dyn Any>,
}

impl Database {
    pub(crate) fn new(
        target: String,
        open: impl Fn() -> Box<dyn Store> + 'static,
        keep: impl Any,
    ) -> Self {
        Database {
            target,
            open: Box::new(open),
            _keep: Box::new(keep),
        }
    }

    /// A store on the database; each call opens it anew, as another run would.
    fn store(&self) -> Box<dyn Store> {
        (self.open)()
    }

    fn catalog(&self) -> Box<dyn Catalog> {
        open_catalog(&self.target, Duration::from_secs(1)).unwrap()
    }

    /// `(game_id, pgn)` of every stored game, as the export hands them out.
    fn games(&self) -> Vec<(String, String)> {
        let mut games = Vec::new();
        self.catalog()
            .for_each_game(&GameFilter::default(), &mut |game| {
                games.push((game.game_id.to_string(), game.pgn.to_string()));
                Ok(())
            })
            .unwrap();
        games
    }

    /// The columns `names` of the stored game `id`, as text (`-` for NULL), as an export reads
    /// them.
    fn columns(&self, id: &str, names: &[&str]) -> Vec<String> {
        let columns = View::Games.columns();
        let mut found = Vec::new();
        self.catalog()
            .for_each_row(&GameFilter::default(), View::Games, &mut |row| {
                let value = |name: &&str| {
                    let index = columns.iter().position(|c| c == name).unwrap();
                    match row[index] {
                        Value::Null => "-".to_string(),
                        Value::Text(text) => text.to_string(),
                        Value::Int(n) => n.to_string(),
                        Value::Real(x) => x.to_string(),
                        Value::Bool(b) => b.to_string(),
                    }
                };
                if value(&"game_id") == id {
                    found = names.iter().map(value).collect();
                }
                Ok(())
            })
            .unwrap();
        found
    }

    /// How many links between players and games there are.
    fn links(&self) -> u64 {
        let players = self.catalog().players().unwrap();
        players.iter().map(|player| player.games).sum()
    }
}

/// A `#[test]` per test of the contract, each on a database `$fresh` makes (a
/// `fn() -> Option<Database>`; `None` skips).
macro_rules! contract_tests {
    ($fresh:path) => {
        $crate::store::contract::contract_tests!(
            $fresh;
            counts_new_and_duplicate_games_and_links_both_players,
            cursors_only_move_forward_and_persist,
            month_validators_are_saved_with_the_batch_and_replaced,
            remembers_ongoing_games_until_resolved,
            leases_exclude_other_owners_until_they_expire_or_are_released,
            records_results_keeping_the_last_success,
            lists_the_ids_of_a_players_stored_games,
            a_refresh_updates_what_changed_in_the_stored_row,
            lists_a_players_games_without_analysis_a_page_at_a_time,
        );
    };
    ($fresh:path; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(database) = $fresh() {
                    $crate::store::contract::$name(&database);
                }
            }
        )*
    };
}
pub(crate) use contract_tests;

/// A lease that outlasts any test.
const LONG: Duration = Duration::from_secs(60);

fn game(platform: Platform, id: &str) -> GameRecord {
    let mut game = GameRecord::new(platform, id, format!("[Site \"{id}\"]\n\n1. e4 e5 *\n"));
    game.valid = true;
    game.ply_count = Some(2);
    game
}

fn player(spec: &str) -> Player {
    spec.parse().unwrap()
}

fn batch<'a>(player: &'a Player, games: &'a [GameRecord]) -> Batch<'a> {
    Batch {
        player,
        games,
        cursor: None,
        month: None,
        ongoing: &[],
        resolved: &[],
        refresh: false,
    }
}

pub(crate) fn counts_new_and_duplicate_games_and_links_both_players(database: &Database) {
    let mut store = database.store();
    let alice = player("lichess:alice");
    let bob = player("lichess:bob");
    let games = [
        game(Platform::Lichess, "aaaaaaaa"),
        game(Platform::Lichess, "bbbbbbbb"),
    ];
    assert_eq!(
        store.write_batch(&batch(&alice, &games)).unwrap(),
        WriteCounts {
            new: 2,
            ..WriteCounts::default()
        }
    );
    assert_eq!(
        store.write_batch(&batch(&bob, &games)).unwrap(),
        WriteCounts {
            duplicate: 2,
            ..WriteCounts::default()
        }
    );
    store.commit().unwrap();
    assert_eq!((database.games().len(), database.links()), (2, 4));
    assert_eq!(store.player_state(&bob).unwrap().stored_games, 2);
    let carol = player("lichess:carol");
    assert_eq!(store.player_state(&carol).unwrap().stored_games, 0);

    // A game served twice in one batch is stored once, as first served, and counted once as a
    // duplicate.
    let mut first = game(Platform::Lichess, "cccccccc");
    first.pgn = "[White \"first\"]\n\n1. d4 *\n".into();
    let mut again = first.clone();
    again.pgn = "[White \"again\"]\n\n1. d4 *\n".into();
    let games = [first.clone(), game(Platform::Lichess, "aaaaaaaa"), again];
    assert_eq!(
        store.write_batch(&batch(&alice, &games)).unwrap(),
        WriteCounts {
            new: 1,
            duplicate: 2,
            updated: 0
        }
    );
    store.commit().unwrap();
    let stored = database.games();
    let pgns: Vec<&str> = stored
        .iter()
        .filter(|(id, _)| id == "cccccccc")
        .map(|(_, pgn)| pgn.as_str())
        .collect();
    assert_eq!(pgns, [first.pgn.as_str()]);
    assert_eq!(database.links(), 5);
}

pub(crate) fn cursors_only_move_forward_and_persist(database: &Database) {
    let alice = player("lichess:alice");
    let bob = player("chesscom:bob");
    {
        let mut store = database.store();
        for cursor in [Cursor::CreatedAt(200), Cursor::CreatedAt(100)] {
            let cursor = Some(cursor);
            store
                .write_batch(&Batch {
                    cursor,
                    ..batch(&alice, &[])
                })
                .unwrap();
        }
        for month in ["2024/03", "2023/12"] {
            let cursor = Some(Cursor::Month(month.into()));
            store
                .write_batch(&Batch {
                    cursor,
                    ..batch(&bob, &[])
                })
                .unwrap();
        }
    }
    let mut store = database.store();
    let state = store.player_state(&alice).unwrap();
    assert_eq!(state.resume.last_created_at, Some(200));
    assert_eq!(state.resume.last_month, None);
    let state = store.player_state(&bob).unwrap();
    assert_eq!(state.resume.last_month.as_deref(), Some("2024/03"));
    assert_eq!(state.resume.last_created_at, None);
    let nobody = store.player_state(&player("lichess:nobody")).unwrap();
    assert_eq!(nobody.resume.last_created_at, None);
}

pub(crate) fn month_validators_are_saved_with_the_batch_and_replaced(database: &Database) {
    let mut store = database.store();
    let bob = player("chesscom:bob");
    let games = [game(
        Platform::Chesscom,
        "7f1e0c4a-0000-0000-0000-000000000001",
    )];
    let sent = "Friday, 18-Oct-2024 01:24:09 GMT+0000";
    for etag in ["W/\"abc\"", "W/\"def\""] {
        store
            .write_batch(&Batch {
                cursor: Some(Cursor::Month("2024/03".into())),
                month: Some(MonthValidator {
                    month: "2024/03".into(),
                    etag: etag.into(),
                    last_modified: Some(sent.into()),
                }),
                ..batch(&bob, &games)
            })
            .unwrap();
    }
    store
        .write_batch(&Batch {
            month: Some(MonthValidator {
                month: "2024/02".into(),
                etag: "\"old\"".into(),
                last_modified: None,
            }),
            ..batch(&bob, &[])
        })
        .unwrap();
    let state = store.player_state(&bob).unwrap();
    assert_eq!(state.resume.last_month.as_deref(), Some("2024/03"));
    assert_eq!(state.resume.months.len(), 2);
    assert_eq!(state.resume.months["2024/03"].etag, "W/\"def\"");
    assert_eq!(
        state.resume.months["2024/03"].last_modified.as_deref(),
        Some(sent)
    );
    assert_eq!(state.resume.months["2024/02"].etag, "\"old\"");
    assert_eq!(state.resume.months["2024/02"].last_modified, None);
    // Lichess players have no months, even under the same name.
    let state = store.player_state(&player("lichess:bob")).unwrap();
    assert!(state.resume.months.is_empty());
}

pub(crate) fn remembers_ongoing_games_until_resolved(database: &Database) {
    let mut store = database.store();
    let alice = player("lichess:alice");
    let ids = |ids: &[&str]| -> Vec<String> { ids.iter().map(ToString::to_string).collect() };
    let ongoing = ids(&["b2222222", "a1111111", "B3333333", "a1111111"]);
    store
        .write_batch(&Batch {
            ongoing: &ongoing,
            ..batch(&alice, &[])
        })
        .unwrap();
    // Bytewise order, in both stores.
    assert_eq!(
        store.player_state(&alice).unwrap().resume.ongoing,
        ["B3333333", "a1111111", "b2222222"]
    );
    let finished = [game(Platform::Lichess, "a1111111")];
    let resolved = ids(&["a1111111", "B3333333", "zzzzzzzz"]);
    store
        .write_batch(&Batch {
            resolved: &resolved,
            ..batch(&alice, &finished)
        })
        .unwrap();
    assert_eq!(
        store.player_state(&alice).unwrap().resume.ongoing,
        ["b2222222"]
    );
    let bob = store.player_state(&player("lichess:bob")).unwrap();
    assert!(bob.resume.ongoing.is_empty());
}

pub(crate) fn leases_exclude_other_owners_until_they_expire_or_are_released(database: &Database) {
    let mut store = database.store();
    let alice = player("lichess:alice");
    let alive = |_: &str| false;
    let lease = |store: &mut Box<dyn Store>, player: &Player, owner: &str, ttl: Duration| {
        store.try_lease(player, owner, ttl, &alive).unwrap()
    };
    let held_by = |lease: Lease, expected: &str| match lease {
        Lease::HeldBy { owner, until } => {
            assert_eq!(owner, expected);
            assert!(until > super::now_ms(), "{until}");
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(lease(&mut store, &alice, "one", LONG), Lease::Acquired);
    assert_eq!(lease(&mut store, &alice, "one", LONG), Lease::Acquired);
    held_by(lease(&mut store, &alice, "two", LONG), "one");
    // Another player's lease is independent, and releasing needs the owner.
    let bob = player("lichess:bob");
    assert_eq!(lease(&mut store, &bob, "two", LONG), Lease::Acquired);
    store.release_lease(&alice, "two").unwrap();
    held_by(lease(&mut store, &alice, "two", LONG), "one");
    store.release_lease(&alice, "one").unwrap();
    let now = Duration::ZERO;
    assert_eq!(lease(&mut store, &alice, "two", now), Lease::Acquired);
    // A lease that has expired no longer excludes anyone.
    assert_eq!(lease(&mut store, &alice, "three", now), Lease::Acquired);
    // Renewing makes an expiring lease live again.
    store.renew_leases("three", LONG).unwrap();
    held_by(lease(&mut store, &alice, "four", LONG), "three");
    held_by(lease(&mut store, &bob, "four", LONG), "two");
    // A live lease of a dead owner is taken over at once; only the dead one's.
    let three_is_dead = |owner: &str| owner == "three";
    assert_eq!(
        store
            .try_lease(&alice, "four", LONG, &three_is_dead)
            .unwrap(),
        Lease::TakenOver("three".into())
    );
    held_by(
        store
            .try_lease(&alice, "five", LONG, &three_is_dead)
            .unwrap(),
        "four",
    );
    held_by(
        store.try_lease(&bob, "five", LONG, &three_is_dead).unwrap(),
        "two",
    );
}

pub(crate) fn records_results_keeping_the_last_success(database: &Database) {
    let mut store = database.store();
    let alice = player("lichess:alice");
    assert_eq!(store.player_state(&alice).unwrap().last_success_at, None);
    let outcome = || {
        let players = database.catalog().players().unwrap();
        let [alice] = players.as_slice() else {
            panic!("{players:?}")
        };
        let (success, attempt) = (alice.last_success_at.unwrap(), alice.last_attempt_at);
        assert!(attempt >= Some(success), "{alice:?}");
        // What a run reads, to tell whether the player is fresh.
        let state = database
            .store()
            .player_state(&player("lichess:alice"))
            .unwrap();
        assert_eq!(state.last_success_at, Some(success));
        (success, alice.last_error.clone())
    };
    store.record_result(&alice, None).unwrap();
    let (success, error) = outcome();
    assert_eq!(error, None);
    store.record_result(&alice, Some("HTTP 500 twice")).unwrap();
    assert_eq!(outcome(), (success, Some("HTTP 500 twice".into())));
    store.record_result(&alice, None).unwrap();
    assert_eq!(outcome().1, None);
}

pub(crate) fn lists_the_ids_of_a_players_stored_games(database: &Database) {
    let mut store = database.store();
    let alice = player("chesscom:alice");
    let bob = player("chesscom:bob");
    let both = [game(Platform::Chesscom, "shared")];
    let own = [
        game(Platform::Chesscom, "a-1"),
        game(Platform::Chesscom, "a-2"),
    ];
    store.write_batch(&batch(&alice, &both)).unwrap();
    store.write_batch(&batch(&bob, &both)).unwrap();
    store.write_batch(&batch(&alice, &own)).unwrap();
    store.commit().unwrap();
    let ids = |player: &Player| {
        let mut ids = Vec::new();
        let handed = database
            .catalog()
            .for_each_game_id(player, &mut |id| ids.push(id.to_string()))
            .unwrap();
        assert_eq!(handed, ids.len() as u64);
        ids.sort();
        ids
    };
    assert_eq!(ids(&alice), ["a-1", "a-2", "shared"]);
    assert_eq!(ids(&bob), ["shared"]);
    assert!(ids(&player("lichess:alice")).is_empty());
}

pub(crate) fn a_refresh_updates_what_changed_in_the_stored_row(database: &Database) {
    let mut store = database.store();
    let alice = player("chesscom:alice");
    let mut stored = game(Platform::Chesscom, "reviewed");
    stored.white = Some("alice".into());
    stored.white_elo = Some(1500);
    store
        .write_batch(&batch(&alice, &[stored.clone()]))
        .unwrap();
    store.commit().unwrap();
    let imported_at = database.columns("reviewed", &["imported_at"]);
    let refresh = |store: &mut Box<dyn Store>, games: &[GameRecord]| {
        let counts = store
            .write_batch(&Batch {
                refresh: true,
                ..batch(&alice, games)
            })
            .unwrap();
        store.commit().unwrap();
        counts
    };
    let fields = [
        "white",
        "white_elo",
        "white_accuracy",
        "black_accuracy",
        "pgn",
    ];

    // A review appeared; the provider no longer sends the name: the name stays.
    let mut reviewed = stored.clone();
    reviewed.white = None;
    reviewed.white_analysis.accuracy = Some(83.5);
    reviewed.black_analysis.accuracy = Some(100.0);
    let new = game(Platform::Chesscom, "new");
    let counts = refresh(&mut store, &[reviewed.clone(), new]);
    assert_eq!(
        counts,
        WriteCounts {
            new: 1,
            duplicate: 0,
            updated: 1
        }
    );
    assert_eq!(database.games().len(), 2, "one row per game");
    assert_eq!(
        database.columns("reviewed", &fields),
        ["alice", "1500", "83.5", "100", stored.pgn.as_str()]
    );
    assert_eq!(database.columns("reviewed", &["imported_at"]), imported_at);

    // Served again unchanged: nothing to write.
    let counts = refresh(&mut store, &[reviewed.clone()]);
    assert_eq!((counts.updated, counts.duplicate), (0, 1));

    // Served twice in one batch: written once, as first served.
    let mut twice = reviewed.clone();
    twice.white_analysis.accuracy = Some(90.0);
    let mut thrice = reviewed.clone();
    thrice.white_analysis.accuracy = Some(95.0);
    let counts = refresh(&mut store, &[twice, thrice]);
    assert_eq!((counts.updated, counts.duplicate), (1, 1));
    assert_eq!(database.columns("reviewed", &["white_accuracy"]), ["90"]);

    // A batch that does not refresh leaves a stored game as it is.
    let mut rerated = reviewed.clone();
    rerated.white_elo = Some(1600);
    let counts = store
        .write_batch(&batch(&alice, &[rerated.clone()]))
        .unwrap();
    assert_eq!((counts.updated, counts.duplicate), (0, 1));
    store.commit().unwrap();
    assert_eq!(database.columns("reviewed", &["white_elo"]), ["1500"]);

    // A new PGN and rating are written.
    rerated.pgn = "[Site \"reviewed\"]\n\n1. d4 d5 *\n".into();
    assert_eq!(refresh(&mut store, &[rerated.clone()]).updated, 1);
    assert_eq!(
        database.columns("reviewed", &["white_elo", "pgn"]),
        ["1600", rerated.pgn.as_str()]
    );
    assert_eq!(database.links(), 2);
}

pub(crate) fn lists_a_players_games_without_analysis_a_page_at_a_time(database: &Database) {
    let mut store = database.store();
    let alice = player("lichess:alice");
    let played = |id: &str, at: i64| {
        let mut game = game(Platform::Lichess, id);
        game.played_at = Some(at);
        game
    };
    let mut accuracy = played("accuracy", 200);
    accuracy.black_analysis.accuracy = Some(70.0);
    let mut acpl = played("acplOnly", 300);
    acpl.white_analysis.acpl = Some(31);
    let games = [
        played("zLater01", 400),
        played("Aupper01", 100),
        played("aLower01", 150),
        played("tooEarly", 99),
        accuracy,
        acpl,
    ];
    store.write_batch(&batch(&alice, &games)).unwrap();
    let bob = player("lichess:bob");
    store
        .write_batch(&batch(&bob, &[played("bobsOwn1", 500)]))
        .unwrap();
    let mut page = |after: &str, limit| store.unanalysed_games(&alice, 100, after, limit).unwrap();
    assert_eq!(
        page("", 10),
        ["Aupper01", "aLower01", "zLater01"],
        "bytewise"
    );
    assert_eq!(page("", 2), ["Aupper01", "aLower01"]);
    assert_eq!(page("aLower01", 2), ["zLater01"]);
    assert!(page("zLater01", 2).is_empty());
    assert!(
        store
            .unanalysed_games(&alice, 401, "", 10)
            .unwrap()
            .is_empty()
    );
}
