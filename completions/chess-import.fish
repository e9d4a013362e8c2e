# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_chess_import_global_optspecs
    string join \n progress= q/quiet v/verbose h/help V/version
end

function __fish_chess_import_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_chess_import_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_chess_import_using_subcommand
    set -l cmd (__fish_chess_import_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c chess-import -n "__fish_chess_import_needs_command" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_needs_command" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_needs_command" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_needs_command" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "import" -d 'Download every game of the given players and store the new ones'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "check" -d 'Smoke-test the provider APIs with a few players; nothing is stored'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "status" -d 'Show, per imported player, the games stored and how its last import went'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "export" -d 'Write the stored games, oldest first, as one PGN file'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "verify" -d 'Compare what is stored of each imported player with what the provider has; report gaps'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "rescan" -d 'Fetch a window of players\' games again and store what is missing; nothing is deleted'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "enqueue" -d 'Add players to the import queue that workers share (PostgreSQL only)'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "dequeue" -d 'Remove players\' queued jobs; running ones finish, and are not queued again'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "requeue" -d 'Put failed jobs back in the queue'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "worker" -d 'Import the players of the shared queue, alongside workers on other machines'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c chess-import -n "__fish_chess_import_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s f -l file -d 'Read more players from a file, one per line (\'-\' for stdin; \'#\' starts a comment)' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l db -d 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l busy-timeout -d 'How long an SQLite write waits for another process\'s transaction before it fails (0s-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l since -d 'Only games started on or after this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l until -d 'Only games started on or before this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l max-games -d 'At most this many games per player (oldest first), e.g. for a quick smoke run' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l refresh-analysis -d 'Also bring the games of the last DAYS (1-365) up to date with the reviews and analyses made since they were stored: Chess.com months asked again conditionally, Lichess games without analysis asked again by id. Implies --with-analysis' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l fresh-for -d 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s j -l jobs -d 'How many players are imported at once (1-256)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l lease-ttl -d 'How long a player\'s lease lasts without renewal; a crashed run\'s players are free again after it (1s-1d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l lichess-url -d 'Base URL of Lichess' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l chesscom-url -d 'Base URL of the Chess.com Published-Data API' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l lichess-token -d 'Lichess personal API token (no scope needed): a faster export rate' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l user-agent -d 'User-Agent of every request. Chess.com asks for contact details in it' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l lock-dir -d 'Where the chess-import processes of this host share the providers\' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l body-limit -d 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l retries -d 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l retry-backoff -d 'First wait before a retry; it doubles each try (1ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l rate-limit-wait -d 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l max-wait -d 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l read-timeout -d 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l connect-timeout -d 'Longest wait for a connection to a provider (100ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l json -d 'Print one JSON summary object on stdout at the end'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -l with-analysis -d 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game\'s phases, and [%eval] comments in the PGN'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand import" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l games -d 'How many of each player\'s newest games to fetch and parse' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l junit -d 'Also write the report as JUnit XML to this file, one test case per request' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l deadline -d 'The longest the whole check may take (1s-24h); requests still open then fail, so that a CI job always ends' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l lichess-url -d 'Base URL of Lichess' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l chesscom-url -d 'Base URL of the Chess.com Published-Data API' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l lichess-token -d 'Lichess personal API token (no scope needed): a faster export rate' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l user-agent -d 'User-Agent of every request. Chess.com asks for contact details in it' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l lock-dir -d 'Where the chess-import processes of this host share the providers\' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l body-limit -d 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l retries -d 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l retry-backoff -d 'First wait before a retry; it doubles each try (1ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l rate-limit-wait -d 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l max-wait -d 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l read-timeout -d 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l connect-timeout -d 'Longest wait for a connection to a provider (100ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -l json -d 'Print one JSON report on stdout instead of the table'
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand check" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -l db -d 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -l json -d 'Print one JSON object on stdout instead of the table'
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand status" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l db -d 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s p -l player -d 'Only games of these players (repeat for more), as PLATFORM:USERNAME' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l since -d 'Only games started on or after this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l until -d 'Only games started on or before this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s o -l out -d 'Write to this file instead of stdout' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l format -d 'pgn: the games\' PGNs; ndjson: one JSON object per row with every column; csv: RFC 4180 with a header row, every column but the PGN' -r -f -a "pgn\t'The games\' PGNs, one after another'
ndjson\t'One JSON object per line, with every column'
csv\t'Comma-separated values with a header row'"
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l view -d 'games: one row per game; players: one row per imported player and game, from that player\'s side (player_games_view); ndjson or csv only' -r -f -a "games\t''
players\t''"
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -l with-pgn -d 'With --format csv: the PGN column too'
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand export" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l db -d 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l busy-timeout -d 'How long an SQLite write waits for another process\'s transaction before it fails (0s-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -s j -l jobs -d 'How many players are imported at once (1-256)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l lease-ttl -d 'How long a player\'s lease lasts without renewal; a crashed run\'s players are free again after it (1s-1d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l lichess-url -d 'Base URL of Lichess' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l chesscom-url -d 'Base URL of the Chess.com Published-Data API' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l lichess-token -d 'Lichess personal API token (no scope needed): a faster export rate' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l user-agent -d 'User-Agent of every request. Chess.com asks for contact details in it' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l lock-dir -d 'Where the chess-import processes of this host share the providers\' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l body-limit -d 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l retries -d 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l retry-backoff -d 'First wait before a retry; it doubles each try (1ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l rate-limit-wait -d 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l max-wait -d 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l read-timeout -d 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l connect-timeout -d 'Longest wait for a connection to a provider (100ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l deep -d 'Lichess: compare the game ids themselves, by streaming the player\'s games without moves (one export per player), rather than the profile\'s approximate counts'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l repair -d 'Rescan exactly the months and windows found short, store what is missing, and verify those again'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l json -d 'Print one JSON summary object on stdout at the end'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -l with-analysis -d 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game\'s phases, and [%eval] comments in the PGN'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand verify" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s f -l file -d 'Read more players from a file, one per line (\'-\' for stdin; \'#\' starts a comment)' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l db -d 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l busy-timeout -d 'How long an SQLite write waits for another process\'s transaction before it fails (0s-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l since -d 'Only games started on or after this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l until -d 'Only games started on or before this day (YYYY-MM-DD, UTC)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s j -l jobs -d 'How many players are imported at once (1-256)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l lease-ttl -d 'How long a player\'s lease lasts without renewal; a crashed run\'s players are free again after it (1s-1d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l lichess-url -d 'Base URL of Lichess' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l chesscom-url -d 'Base URL of the Chess.com Published-Data API' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l lichess-token -d 'Lichess personal API token (no scope needed): a faster export rate' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l user-agent -d 'User-Agent of every request. Chess.com asks for contact details in it' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l lock-dir -d 'Where the chess-import processes of this host share the providers\' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l body-limit -d 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l retries -d 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l retry-backoff -d 'First wait before a retry; it doubles each try (1ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l rate-limit-wait -d 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l max-wait -d 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l read-timeout -d 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l connect-timeout -d 'Longest wait for a connection to a provider (100ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l json -d 'Print one JSON summary object on stdout at the end'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -l with-analysis -d 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game\'s phases, and [%eval] comments in the PGN'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand rescan" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -s f -l file -d 'Read more players from a file, one per line (\'-\' for stdin; \'#\' starts a comment)' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l db -d 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l priority -d 'Higher runs first (-1000000 to 1000000)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l requested-by -d 'Who asks (e.g. an application\'s user id): within a priority, workers serve requesters in turn' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l not-before -d 'Not claimed before then: an RFC 3339 time (2026-12-01T22:00:00Z) or +DURATION from now (+30m, up to a year)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l every -d 'Recurring: when a run ends (done or failed), queue the player again this long after it, with the same priority and requester (1m-365d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l max-queued-per-requester -d 'Refuse the enqueue (exit 1, queueing none of its players) if it would leave the requester more than N jobs queued or running (1-1000000)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -l json -d 'Print one JSON object on stdout: {"queued":N,"unchanged":N}, or {"refused":{...}, "reason":"..."}'
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand enqueue" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -s f -l file -d 'Read more players from a file, one per line (\'-\' for stdin; \'#\' starts a comment)' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -l db -d 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -l json -d 'Print one JSON object on stdout: what became of each player\'s job'
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand dequeue" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -l db -d 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -l failed -d 'The jobs to put back: the failed ones'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -l json -d 'Print one JSON object on stdout: what became of each player\'s job'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand requeue" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l db -d 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l poll-interval -d 'How often an idle worker looks for new jobs, besides when told of one (10ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l max-attempts -d 'Attempts of a job that fails for a transient reason (the provider unreachable or rate limiting past --max-wait, a database error), put off longer each time, before it fails for good (1-100)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l fresh-for -d 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -s j -l jobs -d 'How many players are imported at once (1-256)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l lease-ttl -d 'How long a player\'s lease lasts without renewal; a crashed run\'s players are free again after it (1s-1d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l lichess-url -d 'Base URL of Lichess' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l chesscom-url -d 'Base URL of the Chess.com Published-Data API' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l lichess-token -d 'Lichess personal API token (no scope needed): a faster export rate' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l user-agent -d 'User-Agent of every request. Chess.com asks for contact details in it' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l lock-dir -d 'Where the chess-import processes of this host share the providers\' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]' -r -F
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l body-limit -d 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l retries -d 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l retry-backoff -d 'First wait before a retry; it doubles each try (1ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l rate-limit-wait -d 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l max-wait -d 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l read-timeout -d 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l connect-timeout -d 'Longest wait for a connection to a provider (100ms-10m)' -r
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l once -d 'Exit once no job is running or due within a poll, instead of waiting for new jobs (for cron); jobs put off for later stay queued'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l json -d 'Print one JSON summary object on stdout at the end'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -l with-analysis -d 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game\'s phases, and [%eval] comments in the PGN'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand worker" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand completions" -l progress -d 'How to show progress: bars on a terminal, plain lines for logs, or nothing' -r -f -a "auto\t'Bars on a terminal, plain lines otherwise'
bars\t'Live per-player bars on stderr'
plain\t'One line per player event, without escape codes: for log files'
none\t'Nothing but log messages and the summary'"
complete -c chess-import -n "__fish_chess_import_using_subcommand completions" -s q -l quiet -d 'Only print errors and the final summary'
complete -c chess-import -n "__fish_chess_import_using_subcommand completions" -s v -l verbose -d 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
complete -c chess-import -n "__fish_chess_import_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c chess-import -n "__fish_chess_import_using_subcommand completions" -s V -l version -d 'Print version'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "import" -d 'Download every game of the given players and store the new ones'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "check" -d 'Smoke-test the provider APIs with a few players; nothing is stored'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "status" -d 'Show, per imported player, the games stored and how its last import went'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "export" -d 'Write the stored games, oldest first, as one PGN file'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "verify" -d 'Compare what is stored of each imported player with what the provider has; report gaps'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "rescan" -d 'Fetch a window of players\' games again and store what is missing; nothing is deleted'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "enqueue" -d 'Add players to the import queue that workers share (PostgreSQL only)'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "dequeue" -d 'Remove players\' queued jobs; running ones finish, and are not queued again'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "requeue" -d 'Put failed jobs back in the queue'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "worker" -d 'Import the players of the shared queue, alongside workers on other machines'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "completions" -d 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
complete -c chess-import -n "__fish_chess_import_using_subcommand help; and not __fish_seen_subcommand_from import check status export verify rescan enqueue dequeue requeue worker completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
