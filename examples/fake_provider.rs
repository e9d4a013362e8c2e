//! Run the fake Lichess and Chess.com APIs standalone, for manual tries of
//! `chess-import` against known data:
//!
//! ```text
//! cargo run --release --example fake_provider -- --lichess-players 3 --games 100
//! chess-import import --lichess-url http://127.0.0.1:PORT ... player1
//! ```
//!
//! Options (all optional): `--lichess-players N` (default 1), `--games N`
//! per Lichess player (default 100), `--chesscom-players N` (default 1),
//! `--months N` per Chess.com player (default 3), `--games-per-month N`
//! (default 20), `--rate GAMES_PER_SECOND` (Lichess throttle, default none),
//! `--seed N`. Stops on Ctrl-C.

use std::time::Instant;

use chess_import_fake::FakeServer;

struct Args {
    lichess_players: usize,
    games: usize,
    chesscom_players: usize,
    months: usize,
    games_per_month: usize,
    rate: Option<f64>,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        lichess_players: 1,
        games: 100,
        chesscom_players: 1,
        months: 3,
        games_per_month: 20,
        rate: None,
        seed: chess_import_fake::DEFAULT_SEED,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |_| format!("invalid value for {flag}: {value}");
        match flag.as_str() {
            "--lichess-players" => a.lichess_players = value.parse().map_err(bad)?,
            "--games" => a.games = value.parse().map_err(bad)?,
            "--chesscom-players" => a.chesscom_players = value.parse().map_err(bad)?,
            "--months" => a.months = value.parse().map_err(bad)?,
            "--games-per-month" => a.games_per_month = value.parse().map_err(bad)?,
            "--rate" => {
                a.rate = Some(
                    value
                        .parse()
                        .map_err(|_| format!("invalid --rate {value}"))?,
                )
            }
            "--seed" => a.seed = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!(
                "usage: fake_provider [--lichess-players N] [--games N] [--chesscom-players N] \
                 [--months N] [--games-per-month N] [--rate GAMES_PER_SECOND] [--seed N]"
            );
            std::process::exit(2);
        }
    };

    let server = FakeServer::start_with_seed(args.seed);
    server.set_lichess_rate(args.rate);
    let started = Instant::now();

    // Lichess: one game per minute, ending at a fixed date (2024-01-01).
    let end_ms: i64 = 1_704_067_200_000;
    let step_ms = 60_000;
    let mut lichess_names = Vec::new();
    for i in 1..=args.lichess_players {
        let name = format!("LichessPlayer{i}");
        let first = end_ms - args.games as i64 * step_ms;
        server.add_lichess_games(&name, args.games, first, step_ms);
        lichess_names.push(name);
    }

    // Chess.com: the months before 2024-01.
    let mut chesscom_names = Vec::new();
    for i in 1..=args.chesscom_players {
        let name = format!("ChesscomPlayer{i}");
        server.add_chesscom_user(&name);
        for k in 0..args.months {
            // Month index counted from year 0: 2024-01 minus (months - k).
            let index = 2024 * 12 - (args.months - k) as i32;
            let (year, month) = (index / 12, (index % 12) as u32 + 1);
            server.add_chesscom_games(&name, year, month, args.games_per_month);
        }
        chesscom_names.push(name);
    }

    println!("generated in {:.2?}", started.elapsed());
    println!(
        "lichess:   {}  players: {}",
        server.lichess_url(),
        lichess_names.join(" ")
    );
    println!(
        "chess.com: {}  players: {}",
        server.chesscom_url(),
        chesscom_names.join(" ")
    );
    println!("Ctrl-C to stop");

    // The server runs on its own thread; wait here for Ctrl-C.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if rt.block_on(tokio::signal::ctrl_c()).is_err() {
        // No signal handling available: just run until killed.
        loop {
            std::thread::park();
        }
    }
    let served = server.requests().len();
    println!("stopping after {served} requests");
}
