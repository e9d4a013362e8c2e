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

/// What bash's completion function offers for `words`, the last being the word under the
/// cursor, run as bash runs it: `COMP_WORDS`/`COMP_CWORD` set, then the function called with the
/// command, the current word and the previous one.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = dir.path().join("chess-import.bash");
    std::fs::write(&script, generated("bash")).expect("write the script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let previous = words[cword.saturating_sub(1)];
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n\
         _chess__import chess-import '{}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words[cword],
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_past_the_first_word() {
    assert_eq!(bash_completes(&["chess-import", "im"]), ["import"]);
    assert_eq!(
        bash_completes(&["chess-import", "import", "--jso"]),
        ["--json"]
    );
    assert_eq!(
        bash_completes(&["chess-import", "export", "--pl"]),
        ["--player"]
    );
    assert_eq!(
        bash_completes(&["chess-import", "import", "--progress", ""]),
        ["auto", "bars", "plain", "none"]
    );
}
