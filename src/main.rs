#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use chess_import::Exit;
use chess_import::cli::Cli;
use chess_import::logging;
use chess_import::view::Screen;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let screen = Screen::new(cli.progress.display(), cli.quiet);
    logging::init_logging(cli.verbose, cli.quiet, screen.clone());
    match chess_import::run(cli, screen) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            eprintln!("chess-import: error: {error:#}");
            ExitCode::from(Exit::Usage.code())
        }
    }
}
