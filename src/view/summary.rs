//! What a run leaves on the screen: a permanent line per finished player, and the summary table.

use console::truncate_str;
use indicatif::HumanCount;

use super::table::Align::{self, Left, Right};
use super::table::Table;
use crate::report::{PlayerReport, PlayerStatus, RunReport};

/// Wraps `text` in an SGR colour when colours are on.
fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The permanent line a finished player leaves, e.g.
/// `✔ lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s` or `✘ chesscom:bob  user not found`.
pub fn result_line(report: &PlayerReport, color: bool) -> String {
    let name = report.player_name();
    let counts = || {
        let mut counts = format!(
            "{} new · {} dup · {} invalid",
            HumanCount(report.new_games),
            HumanCount(report.duplicate_games),
            HumanCount(report.invalid_games),
        );
        if report.updated_games > 0 {
            counts.push_str(&format!(" · {} updated", HumanCount(report.updated_games)));
        }
        if report.skipped_games > 0 {
            counts.push_str(&format!(" · {} skipped", HumanCount(report.skipped_games)));
        }
        counts.push_str(&format!(" · {}", tenths(report.elapsed_ms)));
        counts
    };
    let error = report.error.as_deref();
    match report.status {
        PlayerStatus::Ok => format!("{} {name}  {}", paint("✔", "32", color), counts()),
        PlayerStatus::Failed => {
            let mut line = format!(
                "{} {name}  {}",
                paint("✘", "31", color),
                error.unwrap_or("failed")
            );
            // What was stored before the failure is kept; say so.
            if report.new_games + report.duplicate_games > 0 {
                line.push_str(&format!(" (after {})", counts()));
            }
            line
        }
        PlayerStatus::Interrupted => format!(
            "{} {name}  interrupted · {}",
            paint("✘", "33", color),
            counts()
        ),
        PlayerStatus::Skipped => format!(
            "{} {name}  skipped: {}",
            paint("–", "2", color),
            error.unwrap_or("import already in progress elsewhere")
        ),
        PlayerStatus::Fresh => format!(
            "{} {name}  fresh: {}",
            paint("✔", "2", color),
            error.unwrap_or("imported within --fresh-for")
        ),
    }
}

const TITLES: [&str; 9] = [
    "player",
    "status",
    "new",
    "duplicate",
    "updated",
    "invalid",
    "skipped",
    "time",
    "error",
];
/// For a narrow terminal, where the error texts need the room.
const SHORT_TITLES: [&str; 9] = [
    "player", "status", "new", "dup", "upd", "inv", "skip", "time", "error",
];

/// The human summary table, the same in every progress mode. With `columns` (a terminal's
/// width), every line fits in them: long error texts are cut with `…` (the result lines above
/// and `--json` keep them whole).
pub fn summary_table(report: &RunReport, columns: Option<usize>) -> String {
    let rows: Vec<[String; 9]> = report
        .players
        .iter()
        .map(|p| {
            [
                p.player_name(),
                p.status.as_str().to_string(),
                HumanCount(p.new_games).to_string(),
                HumanCount(p.duplicate_games).to_string(),
                HumanCount(p.updated_games).to_string(),
                HumanCount(p.invalid_games).to_string(),
                HumanCount(p.skipped_games).to_string(),
                tenths(p.elapsed_ms),
                p.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let build = |titles: [&str; 9]| {
        let aligns = [Left, Left, Right, Right, Right, Right, Right, Right, Left];
        let columns: Vec<(&str, Align)> = titles.into_iter().zip(aligns).collect();
        let mut table = Table::new(&columns);
        for row in &rows {
            table.row(row.iter().cloned());
        }
        table
    };
    let mut table = build(TITLES);
    if columns.is_some_and(|columns| table.total_width() > columns) {
        table = build(SHORT_TITLES);
    }
    let players = report.players.len() as u64;
    let mut totals = format!(
        "{} new games from {} player{}; {} failed",
        HumanCount(report.new_games),
        HumanCount(players),
        if players == 1 { "" } else { "s" },
        HumanCount(report.failed_players),
    );
    if report.skipped_players > 0 {
        totals.push_str(&format!(", {} skipped", HumanCount(report.skipped_players)));
    }
    if report.fresh_players > 0 {
        totals.push_str(&format!(", {} fresh", HumanCount(report.fresh_players)));
    }
    if report.interrupted {
        totals.push_str(", interrupted");
    }
    totals.push_str(&format!(" in {}", tenths(report.elapsed_ms)));
    match columns {
        Some(columns) => format!(
            "{}{}\n",
            table.fit(columns),
            truncate_str(&totals, columns, "…")
        ),
        None => format!("{table}{totals}\n"),
    }
}

/// `14.2s`: milliseconds to a tenth of a second.
fn tenths(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::super::testing::report;
    use super::*;

    #[test]
    fn result_lines_say_what_happened() {
        let mut ok = report("lichess:alice", PlayerStatus::Ok, None);
        ok.new_games = 1234;
        ok.duplicate_games = 12;
        assert_eq!(
            result_line(&ok, false),
            "✔ lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s"
        );
        assert_eq!(
            result_line(&ok, true),
            "\x1b[32m✔\x1b[0m lichess:alice  1,234 new · 12 dup · 0 invalid · 14.2s"
        );
        let missing = report("chesscom:bob", PlayerStatus::Failed, Some("user not found"));
        assert_eq!(
            result_line(&missing, false),
            "✘ chesscom:bob  user not found"
        );
        let mut partly = report("lichess:carol", PlayerStatus::Failed, Some("HTTP 503"));
        partly.new_games = 3;
        partly.updated_games = 2;
        partly.skipped_games = 1;
        assert_eq!(
            result_line(&partly, false),
            "✘ lichess:carol  HTTP 503 (after 3 new · 0 dup · 0 invalid · 2 updated · 1 skipped · \
             14.2s)"
        );
        let skipped = report("lichess:dave", PlayerStatus::Skipped, Some("held by x"));
        assert_eq!(
            result_line(&skipped, false),
            "– lichess:dave  skipped: held by x"
        );
        let fresh = report("lichess:eve", PlayerStatus::Fresh, Some("imported 5m ago"));
        assert_eq!(
            result_line(&fresh, false),
            "✔ lichess:eve  fresh: imported 5m ago"
        );
    }

    #[test]
    fn summary_table_lists_every_player_and_the_totals() {
        let mut ok = report("lichess:alice", PlayerStatus::Ok, None);
        ok.new_games = 1234;
        ok.updated_games = 7;
        let failed = report("chesscom:bob", PlayerStatus::Failed, Some("user not found"));
        let skipped = report("lichess:carol", PlayerStatus::Skipped, Some("held by x"));
        let fresh = report("lichess:dave", PlayerStatus::Fresh, Some("imported 5m ago"));
        let run = RunReport::new(vec![ok, failed, skipped, fresh], false, 15_000);
        assert_eq!(
            summary_table(&run, None),
            "player         status     new  duplicate  updated  invalid  skipped   time  error\n\
             lichess:alice  ok       1,234          0        7        0        0  14.2s\n\
             chesscom:bob   failed       0          0        0        0        0  14.2s  user not found\n\
             lichess:carol  skipped      0          0        0        0        0  14.2s  held by x\n\
             lichess:dave   fresh        0          0        0        0        0  14.2s  imported 5m ago\n\
             1,234 new games from 4 players; 1 failed, 1 skipped, 1 fresh in 15.0s\n"
        );
        // On a terminal of 80 columns, or a narrower one, nothing wraps.
        // On a terminal, nothing wraps: shorter titles first, then the errors are cut.
        let mut long = report("lichess:alice", PlayerStatus::Failed, None);
        long.error = Some("HTTP 503 Service Unavailable after 5 tries; giving up".into());
        let run = RunReport::new(vec![long], true, 15_000);
        assert_eq!(
            summary_table(&run, Some(80)),
            "player         status  new  dup  upd  inv  skip   time  error\n\
             lichess:alice  failed    0    0    0    0     0  14.2s  HTTP 503 Service Unavai…\n\
             0 new games from 1 player; 1 failed, interrupted in 15.0s\n"
        );
        assert!(summary_table(&run, Some(200)).contains("  duplicate  "));
        assert!(summary_table(&run, None).contains("giving up\n"));
        let narrow = summary_table(&run, Some(40));
        assert!(
            narrow.lines().all(|l| console::measure_text_width(l) <= 40),
            "{narrow}"
        );
    }
}
