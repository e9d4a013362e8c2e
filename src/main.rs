use std::process::ExitCode;

use clap::Parser;

use chess_import::cli::Cli;
use chess_import::view::{Display, Screen};
use chess_import::{Exit, view};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let screen = Screen::new(Display::resolve(cli.progress), cli.quiet);
    view::init_logging(cli.verbose, cli.quiet, screen.clone());
    match chess_import::run(cli, screen) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            eprintln!("chess-import: error: {error:#}");
            ExitCode::from(Exit::Usage.code())
        }
    }
}
