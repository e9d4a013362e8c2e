//! `chess-import export`: the stored games as one PGN file, or as NDJSON or CSV rows (of the
//! games, or of the players' view of them), oldest first, streamed row by row.
//!
//! `--out` never costs the user a file: it may not name the database (or its `-wal`, `-shm` or
//! journal) by any path or link, and the games go to a temporary file beside the target that
//! replaces it only once the export is complete, so a failed or interrupted export leaves the old
//! file as it was.

use std::fs;
use std::io::{self, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::HumanCount;

use super::common::{Exit, READ_BUSY_TIMEOUT};
use crate::cli::{ExportArgs, ExportView};
use crate::formats::{Csv, Format, Ndjson, RowWriter};
use crate::store::{self, Catalog, GameFilter, ReadError, View};

pub fn exec(args: ExportArgs, quiet: bool) -> anyhow::Result<Exit> {
    let view = match args.view {
        ExportView::Games => View::Games,
        ExportView::Players => View::Players,
    };
    if view == View::Players && args.format == Format::Pgn {
        bail!("--view players has no PGN to write: give --format ndjson or --format csv");
    }
    if args.with_pgn && args.format != Format::Csv {
        bail!("--with-pgn is for --format csv (pgn and ndjson always carry the PGN)");
    }
    let write = Export {
        format: args.format,
        view,
        with_pgn: args.with_pgn,
    };
    let mut catalog = store::open_catalog(&args.db.target, READ_BUSY_TIMEOUT)?;
    let (since, until) = args.window.millis()?;
    let filter = GameFilter {
        players: args.players,
        since,
        until,
    };
    let Some(out) = &args.out else {
        let stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
        let count = match write.to(catalog.as_mut(), &filter, stdout) {
            Ok(count) => count,
            // The reader went away (`export | head`): it has all it wanted.
            Err(ReadError::Write(error)) if error.kind() == ErrorKind::BrokenPipe => {
                return Ok(Exit::Success);
            }
            Err(ReadError::Write(error)) => {
                return Err(error).context("cannot write the games to stdout");
            }
            Err(error) => return Err(error.into()),
        };
        if !quiet {
            eprintln!("exported {} {}", HumanCount(count), write.what());
        }
        return Ok(Exit::Success);
    };
    let target = resolve(out).with_context(|| format!("cannot write to {}", out.display()))?;
    if !store::is_postgres_url(&args.db.target) {
        refuse_the_database(out, &target, Path::new(&args.db.target))?;
    }
    let count =
        write_file(&write, catalog.as_mut(), &filter, &target).map_err(|error| match error {
            Failed::Read(error) => anyhow::Error::from(error),
            Failed::Write(error) => anyhow::Error::from(error)
                .context(format!("cannot write the games to {}", out.display())),
        })?;
    if !quiet {
        let what = write.what();
        eprintln!("exported {} {what} to {}", HumanCount(count), out.display());
    }
    Ok(Exit::Success)
}

/// The file `out` names once its symbolic links are followed, in a canonical directory: the file
/// that will be replaced, and the place its temporary file must be made in (a rename stays on one
/// filesystem). Replacing the link itself would cut the user's link to their file.
fn resolve(out: &Path) -> io::Result<PathBuf> {
    let mut path = out.to_path_buf();
    // A bound, as the system's own resolver has: a loop of links ends as an error below.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            Ok(_) => break,
            Err(error) if error.kind() == ErrorKind::NotFound => break,
            Err(error) => return Err(error),
        }
    }
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(ErrorKind::InvalidInput, "it names no file"));
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let target = fs::canonicalize(dir)?.join(name);
    if target.is_dir() {
        return Err(io::Error::new(ErrorKind::IsADirectory, "it is a directory"));
    }
    Ok(target)
}

/// Refuses an `--out` that is the SQLite database or one of the files SQLite keeps beside it:
/// the same path once canonical, or, for a file that exists, the same file (a hard link).
fn refuse_the_database(out: &Path, target: &Path, db: &Path) -> anyhow::Result<()> {
    let Ok(database) = fs::canonicalize(db) else {
        return Ok(());
    };
    let out_file = fs::metadata(target).ok();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = database.clone().into_os_string();
        name.push(suffix);
        let candidate = PathBuf::from(name);
        let same = candidate == target
            || out_file
                .as_ref()
                .zip(fs::metadata(&candidate).ok())
                .is_some_and(|(a, b)| same_file(a, &b));
        if same {
            let what = if suffix.is_empty() {
                "the database".to_string()
            } else {
                format!("the database's {suffix} file")
            };
            bail!(
                "--out {} is {what} {}: export would overwrite it; choose another file",
                out.display(),
                db.display()
            );
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false
}

/// Why writing the file failed: reading the games, or writing them.
enum Failed {
    Read(ReadError),
    Write(io::Error),
}

/// Exports into a temporary file beside `target`, then renames it over `target` once complete
/// and on disk. A new file gets the usual permissions (0666 less the umask) rather than the
/// temporary file's private ones; a replaced file keeps its own.
fn write_file(
    write: &Export,
    catalog: &mut dyn Catalog,
    filter: &GameFilter,
    target: &Path,
) -> Result<u64, Failed> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let prefix = format!(
        ".{}.",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let temp = builder.tempfile_in(dir).map_err(Failed::Write)?;
    if let Ok(old) = fs::metadata(target) {
        fs::set_permissions(temp.path(), old.permissions()).map_err(Failed::Write)?;
    }
    let out = BufWriter::with_capacity(1 << 16, temp.as_file());
    let count = write
        .to(catalog, filter, out)
        .map_err(|error| match error {
            ReadError::Write(error) => Failed::Write(error),
            error => Failed::Read(error),
        })?;
    temp.as_file().sync_all().map_err(Failed::Write)?;
    temp.persist(target)
        .map_err(|error| Failed::Write(error.error))?;
    Ok(count)
}

/// What an export writes, and how.
struct Export {
    format: Format,
    view: View,
    with_pgn: bool,
}

impl Export {
    /// Writes every row `filter` selects to `out`; returns how many.
    fn to(
        &self,
        catalog: &mut dyn Catalog,
        filter: &GameFilter,
        out: impl Write,
    ) -> Result<u64, ReadError> {
        let columns = self.view.columns();
        match self.format {
            Format::Pgn => write_pgn(catalog, filter, out),
            Format::Ndjson => write_rows(catalog, filter, self.view, Ndjson::new(out, &columns)),
            Format::Csv => {
                let keep = |name: &str| self.with_pgn || name != "pgn";
                let writer = Csv::new(out, &columns, keep)?;
                write_rows(catalog, filter, self.view, writer)
            }
        }
    }

    /// What the rows are, as the closing line counts them.
    fn what(&self) -> &'static str {
        match self.view {
            View::Games => "games",
            View::Players => "player rows",
        }
    }
}

fn write_rows(
    catalog: &mut dyn Catalog,
    filter: &GameFilter,
    view: View,
    mut writer: impl RowWriter,
) -> Result<u64, ReadError> {
    let count = catalog.for_each_row(filter, view, &mut |row| writer.row(row))?;
    writer.finish()?;
    Ok(count)
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

        fn for_each_row(
            &mut self,
            _filter: &GameFilter,
            _view: View,
            each: &mut dyn FnMut(&[store::Value<'_>]) -> io::Result<()>,
        ) -> Result<u64, ReadError> {
            for pgn in &self.0 {
                each(&[store::Value::Text(pgn)])?;
            }
            Ok(self.0.len() as u64)
        }

        fn for_each_game_id(
            &mut self,
            _player: &crate::player::Player,
            each: &mut dyn FnMut(&str),
        ) -> Result<u64, ReadError> {
            for _ in &self.0 {
                each("abcdefgh");
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
