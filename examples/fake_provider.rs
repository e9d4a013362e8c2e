//! Runs the fake Lichess and Chess.com APIs (tests/fake) standalone, to try `chess-import`
//! against known data without the internet:
//!
//! ```text
//! cargo run --example fake_provider -- --lichess-players 3 --games 100 --port 8080
//! ```
//!
//! It prints the URLs, the players as `lichess:NAME` / `chesscom:NAME` specs and an import
//! command to paste, then serves until Ctrl-C. `--help` lists the options.

use std::process::ExitCode;
use std::time::Instant;

use chess_import_fake::{DEFAULT_SEED, FakeServer};

const USAGE: &str = "\
Usage: cargo run --example fake_provider -- [OPTIONS]

Serves fake Lichess and Chess.com APIs on 127.0.0.1 until Ctrl-C.

Options:
  --lichess-players N     Lichess players to make (default 1)
  --games N               games of each Lichess player (default 100)
  --chesscom-players N    Chess.com players to make (default 1)
  --months N              monthly archives of each Chess.com player (default 3)
  --games-per-month N     games in each of those months (default 20)
  --rate GAMES_PER_SECOND Lichess games per second and stream (default: unthrottled)
  --seed N                seed of the generated games (default: the tests' seed)
  --port N                Lichess on 127.0.0.1:N and Chess.com on N+1, so that the URLs stay
                          the same from run to run (default: any free ports)
  -h, --help              print this and exit";

struct Args {
    lichess_players: usize,
    games: usize,
    chesscom_players: usize,
    months: usize,
    games_per_month: usize,
    rate: Option<f64>,
    seed: u64,
    port: Option<u16>,
}

/// What the command line asks for.
enum Request {
    Serve(Args),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Request, String> {
    let mut a = Args {
        lichess_players: 1,
        games: 100,
        chesscom_players: 1,
        months: 3,
        games_per_month: 20,
        rate: None,
        seed: DEFAULT_SEED,
        port: None,
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(Request::Help);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("invalid value for {flag}: {value}");
        let count = || value.parse::<usize>().map_err(|_| bad());
        match flag.as_str() {
            "--lichess-players" => a.lichess_players = count()?,
            "--games" => a.games = count()?,
            "--chesscom-players" => a.chesscom_players = count()?,
            "--months" => a.months = count()?,
            "--games-per-month" => a.games_per_month = count()?,
            "--rate" => match value.parse::<f64>() {
                Ok(rate) if rate > 0.0 => a.rate = Some(rate),
                _ => return Err(format!("--rate must be a number above 0: {value}")),
            },
            "--seed" => a.seed = value.parse().map_err(|_| bad())?,
            "--port" => match value.parse::<u16>() {
                Ok(port) if port > 0 && port < u16::MAX => a.port = Some(port),
                _ => {
                    return Err(format!(
                        "--port must be 1 to 65534 (it uses N and N+1): {value}"
                    ));
                }
            },
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(Request::Serve(a))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Request::Serve(args)) => args,
        Ok(Request::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fake_provider: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (lichess_port, chesscom_port) = args.port.map_or((0, 0), |port| (port, port + 1));
    let server = match FakeServer::start_on(args.seed, lichess_port, chesscom_port) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("fake_provider: cannot listen on 127.0.0.1: {error}");
            return ExitCode::FAILURE;
        }
    };
    server.set_lichess_rate(args.rate);
    let started = Instant::now();

    // Lichess: one game a minute, up to 2024-01-01.
    let end_ms: i64 = 1_704_067_200_000;
    let step_ms = 60_000;
    let mut players = Vec::new();
    for i in 1..=args.lichess_players {
        let name = format!("LichessPlayer{i}");
        let first = end_ms - args.games as i64 * step_ms;
        server.add_lichess_games(&name, args.games, first, step_ms);
        players.push(format!("lichess:{name}"));
    }
    // Chess.com: the months before 2024-01.
    for i in 1..=args.chesscom_players {
        let name = format!("ChesscomPlayer{i}");
        server.add_chesscom_user(&name);
        for k in 0..args.months {
            // Months counted from year 0: 2024-01 minus (months - k).
            let index = 2024 * 12 - (args.months - k) as i32;
            let (year, month) = (index / 12, (index % 12) as u32 + 1);
            server.add_chesscom_games(&name, year, month, args.games_per_month);
        }
        players.push(format!("chesscom:{name}"));
    }

    println!("fake Lichess:   {}", server.lichess_url());
    println!("fake Chess.com: {}", server.chesscom_url());
    println!(
        "players (generated in {:.2?}): {}",
        started.elapsed(),
        players.join(" ")
    );
    println!("import them, from the repository (fake-games.sqlite is git-ignored):");
    println!(
        "  cargo run -- import --lichess-url {} --chesscom-url {} --db fake-games.sqlite {}",
        server.lichess_url(),
        server.chesscom_url(),
        players.join(" ")
    );
    println!("Ctrl-C to stop");

    // The server runs on its own thread; this one waits for Ctrl-C.
    let ctrl_c = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|runtime| runtime.block_on(tokio::signal::ctrl_c()));
    if let Err(error) | Ok(Err(error)) = ctrl_c {
        eprintln!("fake_provider: cannot wait for Ctrl-C ({error}); serving until killed");
        loop {
            std::thread::park();
        }
    }
    println!("stopping after {} requests", server.requests().len());
    ExitCode::SUCCESS
}
