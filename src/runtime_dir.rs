//! Where the chess-import processes of this user on this host meet: lock files of the
//! providers' lanes ([`crate::host_lane`]) and of the leases taken before a database exists.

use std::io;
use std::path::{Path, PathBuf};

/// This user's directory for what the processes of a host share by default: the session's
/// runtime directory (`$XDG_RUNTIME_DIR`, private and cleared at logout), else a directory of
/// the user's in the temporary directory.
pub fn default() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| Path::new(dir).is_absolute()) {
        Some(runtime) => Path::new(&runtime).join("chess-import"),
        None => std::env::temp_dir().join(format!("chess-import-{}", user_tag())),
    }
}

/// Who this user is in a directory name: the uid where there is one.
fn user_tag() -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // A process owns its own /proc entry: its uid without a call into libc.
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            return meta.uid().to_string();
        }
    }
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "user".into())
}

/// Creates `dir` for this user alone. A directory that exists must be a directory, not a link,
/// and not writable by every user: anyone could otherwise hold our lanes, or swap the lock files
/// under us. (A group may share one, to keep its members' runs in one lane.)
pub fn create_private(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o002 != 0 {
            return Err(io::Error::other("writable by every user"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_directory_others_may_write_to_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = create_private(&shared).unwrap_err();
        assert_eq!(error.to_string(), "writable by every user");
        let private = dir.path().join("a").join("b");
        create_private(&private).unwrap();
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
