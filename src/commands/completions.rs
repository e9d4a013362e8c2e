//! `chess-import completions SHELL`: the completion script of the whole command line.

use clap::CommandFactory;
use clap_complete::Shell;

use super::common::{Exit, write_stdout};
use crate::cli::Cli;

const BIN: &str = "chess-import";

pub fn exec(shell: Shell) -> anyhow::Result<Exit> {
    write_stdout(&script(shell), "the completion script")?;
    Ok(Exit::Success)
}

/// The script clap_complete generates, repaired where it is wrong for this binary.
fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut script);
    if shell != Shell::Bash {
        return script;
    }
    // clap_complete (4.6.12 and before, clap-rs/clap#6421) escapes a hyphenated binary name one
    // way for the states its loop walks (`chess__import__subcmd__check`) and another for the
    // case labels it matches them against (`chess__subcmd__import__subcmd__check`), so nothing
    // past the first word completes. The labels are renamed to what the loop produces.
    let text = String::from_utf8_lossy(&script);
    text.replace("chess__subcmd__import", "chess__import")
        .into_bytes()
}
