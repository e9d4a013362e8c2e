//! `chess-import export`: the stored games as one PGN file, oldest first, streamed row by row.

use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};

use anyhow::Context;
use indicatif::HumanCount;

use super::common::{Exit, READ_BUSY_TIMEOUT};
use crate::cli::{self, ExportArgs};
use crate::store::{self, Catalog, GameFilter, ReadError};

pub fn exec(args: ExportArgs, quiet: bool) -> anyhow::Result<Exit> {
    let mut catalog = store::open_catalog(&args.db.target, READ_BUSY_TIMEOUT)?;
    let (since, until) = cli::day_window(args.since, args.until)?;
    let filter = GameFilter {
        players: args.players,
        since,
        until,
    };
    let written = match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            write_pgn(
                catalog.as_mut(),
                &filter,
                BufWriter::with_capacity(1 << 16, file),
            )
        }
        None => {
            let stdout = std::io::stdout().lock();
            write_pgn(
                catalog.as_mut(),
                &filter,
                BufWriter::with_capacity(1 << 16, stdout),
            )
        }
    };
    let count = match written {
        Ok(count) => count,
        // The reader went away (`export | head`): it has all it wanted.
        Err(ReadError::Write(error)) if error.kind() == ErrorKind::BrokenPipe => {
            return Ok(Exit::Success);
        }
        Err(ReadError::Write(error)) => {
            let to = args
                .out
                .as_ref()
                .map_or("stdout".into(), |p| p.display().to_string());
            return Err(error).with_context(|| format!("cannot write the games to {to}"));
        }
        Err(error) => return Err(error.into()),
    };
    if !quiet {
        match &args.out {
            Some(path) => eprintln!("exported {} games to {}", HumanCount(count), path.display()),
            None => eprintln!("exported {} games", HumanCount(count)),
        }
    }
    Ok(Exit::Success)
}

/// Writes every game `filter` selects to `out`: each game's PGN as stored, without the blank
/// lines around it, ending with a newline, and one blank line between two games, which is what
/// PGN readers expect between games. Returns how many games were written.
pub fn write_pgn(
    catalog: &mut dyn Catalog,
    filter: &GameFilter,
    mut out: impl Write,
) -> Result<u64, ReadError> {
    let mut written = 0;
    catalog.for_each_game(filter, &mut |game| {
        let pgn = game.pgn.trim();
        if pgn.is_empty() {
            tracing::warn!("{}:{} has no PGN; left out", game.platform, game.game_id);
            return Ok(());
        }
        if written > 0 {
            out.write_all(b"\n")?;
        }
        written += 1;
        out.write_all(pgn.as_bytes())?;
        out.write_all(b"\n")
    })?;
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::store::{PlayerSummary, StoredGame};

    /// A catalog of PGNs in memory.
    struct Games(Vec<&'static str>);

    impl Catalog for Games {
        fn target(&self) -> &str {
            "memory"
        }

        fn players(&mut self) -> Result<Vec<PlayerSummary>, ReadError> {
            Ok(Vec::new())
        }

        fn for_each_game(
            &mut self,
            _filter: &GameFilter,
            each: &mut dyn FnMut(StoredGame<'_>) -> io::Result<()>,
        ) -> Result<u64, ReadError> {
            for pgn in &self.0 {
                each(StoredGame {
                    platform: "lichess",
                    game_id: "abcdefgh",
                    played_at: None,
                    pgn,
                })?;
            }
            Ok(self.0.len() as u64)
        }
    }

    #[test]
    fn games_are_separated_by_exactly_one_blank_line() {
        let mut games = Games(vec![
            "[Event \"a\"]\n\n1. e4 e5 1-0\n\n\n",
            "\n[Event \"b\"]\r\n\r\n1. d4 0-1",
            "  \n",
            "[Event \"c\"]\n\n1. c4 *\n",
        ]);
        let mut out = Vec::new();
        assert_eq!(
            write_pgn(&mut games, &GameFilter::default(), &mut out).unwrap(),
            3
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[Event \"a\"]\n\n1. e4 e5 1-0\n\n[Event \"b\"]\r\n\r\n1. d4 0-1\n\n\
             [Event \"c\"]\n\n1. c4 *\n"
        );
    }

    #[test]
    fn a_closed_reader_stops_the_export() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(ErrorKind::BrokenPipe))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut games = Games(vec!["1. e4 *"]);
        let error = write_pgn(&mut games, &GameFilter::default(), Closed).unwrap_err();
        assert!(matches!(error, ReadError::Write(e) if e.kind() == ErrorKind::BrokenPipe));
    }
}
