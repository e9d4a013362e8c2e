//! The completion scripts committed in `completions/` must match the command line. After changing
//! the CLI, regenerate them all with:
//!
//! ```sh
//! UPDATE_COMPLETIONS=1 cargo test --test integration completions::
//! ```

use std::path::Path;

use crate::support::cli::binary;

/// Each shell clap_complete knows, and the file its script is committed as.
const SCRIPTS: [(&str, &str); 5] = [
    ("bash", "chess-import.bash"),
    ("zsh", "_chess-import"),
    ("fish", "chess-import.fish"),
    ("elvish", "chess-import.elv"),
    ("powershell", "_chess-import.ps1"),
];

fn generated(shell: &str) -> Vec<u8> {
    let output = binary()
        .args(["completions", shell])
        .output()
        .expect("run chess-import completions");
    assert!(
        output.status.success(),
        "completions {shell}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.stdout.is_empty(), "empty {shell} script");
    output.stdout
}

#[test]
fn committed_completion_scripts_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let path = dir.join(file);
        let script = generated(shell);
        if update {
            std::fs::create_dir_all(&dir).expect("create completions/");
            std::fs::write(&path, &script).expect("write the script");
        } else if std::fs::read(&path).ok().as_ref() != Some(&script) {
            stale.push(format!("completions/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "{} out of date with the CLI; regenerate them all with\n\n    \
         UPDATE_COMPLETIONS=1 cargo test --test integration completions::\n\n\
         (or one at a time: cargo run -- completions bash > completions/chess-import.bash)",
        stale.join(", ")
    );
}

#[test]
fn scripts_name_every_subcommand() {
    let bash = String::from_utf8(generated("bash")).expect("UTF-8");
    for command in ["import", "check", "status", "export", "completions"] {
        assert!(bash.contains(command), "bash script lacks {command}");
    }
}
