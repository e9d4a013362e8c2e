
use builtin;
use str;

set edit:completion:arg-completer[chess-import] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'chess-import'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'chess-import'= {
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand import 'Download every game of the given players and store the new ones'
            cand check 'Smoke-test the provider APIs with a few players; nothing is stored'
            cand status 'Show, per imported player, the games stored and how its last import went'
            cand export 'Write the stored games, oldest first, as one PGN file'
            cand verify 'Compare what is stored of each imported player with what the provider has; report gaps'
            cand rescan 'Fetch a window of players'' games again and store what is missing; nothing is deleted'
            cand enqueue 'Add players to the import queue that workers share (PostgreSQL only)'
            cand dequeue 'Remove players'' queued jobs; running ones finish, and are not queued again'
            cand requeue 'Put failed jobs back in the queue'
            cand worker 'Import the players of the shared queue, alongside workers on other machines'
            cand completions 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chess-import;import'= {
            cand -f 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --file 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --db 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)'
            cand --busy-timeout 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)'
            cand --since 'Only games started on or after this day (YYYY-MM-DD, UTC)'
            cand --until 'Only games started on or before this day (YYYY-MM-DD, UTC)'
            cand --max-games 'At most this many games per player (oldest first), e.g. for a quick smoke run'
            cand --refresh-analysis 'Also bring the games of the last DAYS (1-365) up to date with the reviews and analyses made since they were stored: Chess.com months asked again conditionally, Lichess games without analysis asked again by id. Implies --with-analysis'
            cand --fresh-for 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]'
            cand -j 'How many players are imported at once (1-256)'
            cand --jobs 'How many players are imported at once (1-256)'
            cand --lease-ttl 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)'
            cand --lichess-url 'Base URL of Lichess'
            cand --chesscom-url 'Base URL of the Chess.com Published-Data API'
            cand --lichess-token 'Lichess personal API token (no scope needed): a faster export rate'
            cand --user-agent 'User-Agent of every request. Chess.com asks for contact details in it'
            cand --lock-dir 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]'
            cand --body-limit 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap'
            cand --retries 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)'
            cand --retry-backoff 'First wait before a retry; it doubles each try (1ms-10m)'
            cand --rate-limit-wait 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)'
            cand --max-wait 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)'
            cand --read-timeout 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)'
            cand --connect-timeout 'Longest wait for a connection to a provider (100ms-10m)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON summary object on stdout at the end'
            cand --with-analysis 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;check'= {
            cand --games 'How many of each player''s newest games to fetch and parse'
            cand --junit 'Also write the report as JUnit XML to this file, one test case per request'
            cand --deadline 'The longest the whole check may take (1s-24h); requests still open then fail, so that a CI job always ends'
            cand --lichess-url 'Base URL of Lichess'
            cand --chesscom-url 'Base URL of the Chess.com Published-Data API'
            cand --lichess-token 'Lichess personal API token (no scope needed): a faster export rate'
            cand --user-agent 'User-Agent of every request. Chess.com asks for contact details in it'
            cand --lock-dir 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]'
            cand --body-limit 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap'
            cand --retries 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)'
            cand --retry-backoff 'First wait before a retry; it doubles each try (1ms-10m)'
            cand --rate-limit-wait 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)'
            cand --max-wait 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)'
            cand --read-timeout 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)'
            cand --connect-timeout 'Longest wait for a connection to a provider (100ms-10m)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON report on stdout instead of the table'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;status'= {
            cand --db 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON object on stdout instead of the table'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;export'= {
            cand --db 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)'
            cand -p 'Only games of these players (repeat for more), as PLATFORM:USERNAME'
            cand --player 'Only games of these players (repeat for more), as PLATFORM:USERNAME'
            cand --since 'Only games started on or after this day (YYYY-MM-DD, UTC)'
            cand --until 'Only games started on or before this day (YYYY-MM-DD, UTC)'
            cand -o 'Write to this file instead of stdout'
            cand --out 'Write to this file instead of stdout'
            cand --format 'pgn: the games'' PGNs; ndjson: one JSON object per row with every column; csv: RFC 4180 with a header row, every column but the PGN'
            cand --view 'games: one row per game; players: one row per imported player and game, from that player''s side (player_games_view); ndjson or csv only'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --with-pgn 'With --format csv: the PGN column too'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;verify'= {
            cand --db 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)'
            cand --busy-timeout 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)'
            cand -j 'How many players are imported at once (1-256)'
            cand --jobs 'How many players are imported at once (1-256)'
            cand --lease-ttl 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)'
            cand --lichess-url 'Base URL of Lichess'
            cand --chesscom-url 'Base URL of the Chess.com Published-Data API'
            cand --lichess-token 'Lichess personal API token (no scope needed): a faster export rate'
            cand --user-agent 'User-Agent of every request. Chess.com asks for contact details in it'
            cand --lock-dir 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]'
            cand --body-limit 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap'
            cand --retries 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)'
            cand --retry-backoff 'First wait before a retry; it doubles each try (1ms-10m)'
            cand --rate-limit-wait 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)'
            cand --max-wait 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)'
            cand --read-timeout 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)'
            cand --connect-timeout 'Longest wait for a connection to a provider (100ms-10m)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --deep 'Lichess: compare the game ids themselves, by streaming the player''s games without moves (one export per player), rather than the profile''s approximate counts'
            cand --repair 'Rescan exactly the months and windows found short, store what is missing, and verify those again'
            cand --json 'Print one JSON summary object on stdout at the end'
            cand --with-analysis 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;rescan'= {
            cand -f 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --file 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --db 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)'
            cand --busy-timeout 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)'
            cand --since 'Only games started on or after this day (YYYY-MM-DD, UTC)'
            cand --until 'Only games started on or before this day (YYYY-MM-DD, UTC)'
            cand -j 'How many players are imported at once (1-256)'
            cand --jobs 'How many players are imported at once (1-256)'
            cand --lease-ttl 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)'
            cand --lichess-url 'Base URL of Lichess'
            cand --chesscom-url 'Base URL of the Chess.com Published-Data API'
            cand --lichess-token 'Lichess personal API token (no scope needed): a faster export rate'
            cand --user-agent 'User-Agent of every request. Chess.com asks for contact details in it'
            cand --lock-dir 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]'
            cand --body-limit 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap'
            cand --retries 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)'
            cand --retry-backoff 'First wait before a retry; it doubles each try (1ms-10m)'
            cand --rate-limit-wait 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)'
            cand --max-wait 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)'
            cand --read-timeout 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)'
            cand --connect-timeout 'Longest wait for a connection to a provider (100ms-10m)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON summary object on stdout at the end'
            cand --with-analysis 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;enqueue'= {
            cand -f 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --file 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --db 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string'
            cand --priority 'Higher runs first (-1000000 to 1000000)'
            cand --requested-by 'Who asks (e.g. an application''s user id): within a priority, workers serve requesters in turn'
            cand --not-before 'Not claimed before then: an RFC 3339 time (2026-12-01T22:00:00Z) or +DURATION from now (+30m, up to a year)'
            cand --every 'Recurring: when a run ends (done or failed), queue the player again this long after it, with the same priority and requester (1m-365d)'
            cand --max-queued-per-requester 'Refuse the enqueue (exit 1, queueing none of its players) if it would leave the requester more than N jobs queued or running (1-1000000)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON object on stdout: {"queued":N,"unchanged":N}, or {"refused":{...}, "reason":"..."}'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;dequeue'= {
            cand -f 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --file 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)'
            cand --db 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --json 'Print one JSON object on stdout: what became of each player''s job'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;requeue'= {
            cand --db 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --failed 'The jobs to put back: the failed ones'
            cand --json 'Print one JSON object on stdout: what became of each player''s job'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;worker'= {
            cand --db 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string'
            cand --poll-interval 'How often an idle worker looks for new jobs, besides when told of one (10ms-1h)'
            cand --max-attempts 'Attempts of a job that fails for a transient reason (the provider unreachable or rate limiting past --max-wait, a database error), put off longer each time, before it fails for good (1-100)'
            cand --fresh-for 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]'
            cand -j 'How many players are imported at once (1-256)'
            cand --jobs 'How many players are imported at once (1-256)'
            cand --lease-ttl 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)'
            cand --lichess-url 'Base URL of Lichess'
            cand --chesscom-url 'Base URL of the Chess.com Published-Data API'
            cand --lichess-token 'Lichess personal API token (no scope needed): a faster export rate'
            cand --user-agent 'User-Agent of every request. Chess.com asks for contact details in it'
            cand --lock-dir 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]'
            cand --body-limit 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap'
            cand --retries 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)'
            cand --retry-backoff 'First wait before a retry; it doubles each try (1ms-10m)'
            cand --rate-limit-wait 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)'
            cand --max-wait 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)'
            cand --read-timeout 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)'
            cand --connect-timeout 'Longest wait for a connection to a provider (100ms-10m)'
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand --once 'Exit once no job is running or due within a poll, instead of waiting for new jobs (for cron); jobs put off for later stay queued'
            cand --json 'Print one JSON summary object on stdout at the end'
            cand --with-analysis 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;completions'= {
            cand --progress 'How to show progress: bars on a terminal, plain lines for logs, or nothing'
            cand -q 'Only print errors and the final summary'
            cand --quiet 'Only print errors and the final summary'
            cand -v 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand --verbose 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'chess-import;help'= {
            cand import 'Download every game of the given players and store the new ones'
            cand check 'Smoke-test the provider APIs with a few players; nothing is stored'
            cand status 'Show, per imported player, the games stored and how its last import went'
            cand export 'Write the stored games, oldest first, as one PGN file'
            cand verify 'Compare what is stored of each imported player with what the provider has; report gaps'
            cand rescan 'Fetch a window of players'' games again and store what is missing; nothing is deleted'
            cand enqueue 'Add players to the import queue that workers share (PostgreSQL only)'
            cand dequeue 'Remove players'' queued jobs; running ones finish, and are not queued again'
            cand requeue 'Put failed jobs back in the queue'
            cand worker 'Import the players of the shared queue, alongside workers on other machines'
            cand completions 'Print a shell completion script (bash, zsh, fish, elvish, powershell)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'chess-import;help;import'= {
        }
        &'chess-import;help;check'= {
        }
        &'chess-import;help;status'= {
        }
        &'chess-import;help;export'= {
        }
        &'chess-import;help;verify'= {
        }
        &'chess-import;help;rescan'= {
        }
        &'chess-import;help;enqueue'= {
        }
        &'chess-import;help;dequeue'= {
        }
        &'chess-import;help;requeue'= {
        }
        &'chess-import;help;worker'= {
        }
        &'chess-import;help;completions'= {
        }
        &'chess-import;help;help'= {
        }
    ]
    $completions[$command]
}
