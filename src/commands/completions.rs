//! `chess-import completions SHELL`: the completion script of the whole command line.

use clap::CommandFactory;

use super::{Exit, write_stdout};
use crate::cli::Cli;

pub fn exec(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "chess-import", &mut script);
    write_stdout(&script, "the completion script")?;
    Ok(Exit::Success)
}
