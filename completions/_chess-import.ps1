
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'chess-import' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'chess-import'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'chess-import' {
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Download every game of the given players and store the new ones')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Smoke-test the provider APIs with a few players; nothing is stored')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show, per imported player, the games stored and how its last import went')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the stored games, oldest first, as one PGN file')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Compare what is stored of each imported player with what the provider has; report gaps')
            [CompletionResult]::new('rescan', 'rescan', [CompletionResultType]::ParameterValue, 'Fetch a window of players'' games again and store what is missing; nothing is deleted')
            [CompletionResult]::new('enqueue', 'enqueue', [CompletionResultType]::ParameterValue, 'Add players to the import queue that workers share (PostgreSQL only)')
            [CompletionResult]::new('dequeue', 'dequeue', [CompletionResultType]::ParameterValue, 'Remove players'' queued jobs; running ones finish, and are not queued again')
            [CompletionResult]::new('requeue', 'requeue', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Import the players of the shared queue, alongside workers on other machines')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, elvish, powershell)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'chess-import;import' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only games started on or after this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only games started on or before this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('--max-games', '--max-games', [CompletionResultType]::ParameterName, 'At most this many games per player (oldest first), e.g. for a quick smoke run')
            [CompletionResult]::new('--refresh-analysis', '--refresh-analysis', [CompletionResultType]::ParameterName, 'Also bring the games of the last DAYS (1-365) up to date with the reviews and analyses made since they were stored: Chess.com months asked again conditionally, Lichess games without analysis asked again by id. Implies --with-analysis')
            [CompletionResult]::new('--fresh-for', '--fresh-for', [CompletionResultType]::ParameterName, 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--lease-ttl', '--lease-ttl', [CompletionResultType]::ParameterName, 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)')
            [CompletionResult]::new('--lichess-url', '--lichess-url', [CompletionResultType]::ParameterName, 'Base URL of Lichess')
            [CompletionResult]::new('--chesscom-url', '--chesscom-url', [CompletionResultType]::ParameterName, 'Base URL of the Chess.com Published-Data API')
            [CompletionResult]::new('--lichess-token', '--lichess-token', [CompletionResultType]::ParameterName, 'Lichess personal API token (no scope needed): a faster export rate')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent of every request. Chess.com asks for contact details in it')
            [CompletionResult]::new('--lock-dir', '--lock-dir', [CompletionResultType]::ParameterName, 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'First wait before a retry; it doubles each try (1ms-10m)')
            [CompletionResult]::new('--rate-limit-wait', '--rate-limit-wait', [CompletionResultType]::ParameterName, 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Longest wait for a connection to a provider (100ms-10m)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout at the end')
            [CompletionResult]::new('--with-analysis', '--with-analysis', [CompletionResultType]::ParameterName, 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;check' {
            [CompletionResult]::new('--games', '--games', [CompletionResultType]::ParameterName, 'How many of each player''s newest games to fetch and parse')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Also write the report as JUnit XML to this file, one test case per request')
            [CompletionResult]::new('--deadline', '--deadline', [CompletionResultType]::ParameterName, 'The longest the whole check may take (1s-24h); requests still open then fail, so that a CI job always ends')
            [CompletionResult]::new('--lichess-url', '--lichess-url', [CompletionResultType]::ParameterName, 'Base URL of Lichess')
            [CompletionResult]::new('--chesscom-url', '--chesscom-url', [CompletionResultType]::ParameterName, 'Base URL of the Chess.com Published-Data API')
            [CompletionResult]::new('--lichess-token', '--lichess-token', [CompletionResultType]::ParameterName, 'Lichess personal API token (no scope needed): a faster export rate')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent of every request. Chess.com asks for contact details in it')
            [CompletionResult]::new('--lock-dir', '--lock-dir', [CompletionResultType]::ParameterName, 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'First wait before a retry; it doubles each try (1ms-10m)')
            [CompletionResult]::new('--rate-limit-wait', '--rate-limit-wait', [CompletionResultType]::ParameterName, 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Longest wait for a connection to a provider (100ms-10m)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON report on stdout instead of the table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout instead of the table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;export' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Only games of these players (repeat for more), as PLATFORM:USERNAME')
            [CompletionResult]::new('--player', '--player', [CompletionResultType]::ParameterName, 'Only games of these players (repeat for more), as PLATFORM:USERNAME')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only games started on or after this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only games started on or before this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'pgn: the games'' PGNs; ndjson: one JSON object per row with every column; csv: RFC 4180 with a header row, every column but the PGN')
            [CompletionResult]::new('--view', '--view', [CompletionResultType]::ParameterName, 'games: one row per game; players: one row per imported player and game, from that player''s side (player_games_view); ndjson or csv only')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--with-pgn', '--with-pgn', [CompletionResultType]::ParameterName, 'With --format csv: the PGN column too')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;verify' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--lease-ttl', '--lease-ttl', [CompletionResultType]::ParameterName, 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)')
            [CompletionResult]::new('--lichess-url', '--lichess-url', [CompletionResultType]::ParameterName, 'Base URL of Lichess')
            [CompletionResult]::new('--chesscom-url', '--chesscom-url', [CompletionResultType]::ParameterName, 'Base URL of the Chess.com Published-Data API')
            [CompletionResult]::new('--lichess-token', '--lichess-token', [CompletionResultType]::ParameterName, 'Lichess personal API token (no scope needed): a faster export rate')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent of every request. Chess.com asks for contact details in it')
            [CompletionResult]::new('--lock-dir', '--lock-dir', [CompletionResultType]::ParameterName, 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'First wait before a retry; it doubles each try (1ms-10m)')
            [CompletionResult]::new('--rate-limit-wait', '--rate-limit-wait', [CompletionResultType]::ParameterName, 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Longest wait for a connection to a provider (100ms-10m)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Lichess: compare the game ids themselves, by streaming the player''s games without moves (one export per player), rather than the profile''s approximate counts')
            [CompletionResult]::new('--repair', '--repair', [CompletionResultType]::ParameterName, 'Rescan exactly the months and windows found short, store what is missing, and verify those again')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout at the end')
            [CompletionResult]::new('--with-analysis', '--with-analysis', [CompletionResultType]::ParameterName, 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;rescan' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The database: an SQLite file path, or a PostgreSQL URL (postgres://...) or libpq key=value string (host=... dbname=...)')
            [CompletionResult]::new('--busy-timeout', '--busy-timeout', [CompletionResultType]::ParameterName, 'How long an SQLite write waits for another process''s transaction before it fails (0s-1h)')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only games started on or after this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only games started on or before this day (YYYY-MM-DD, UTC)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--lease-ttl', '--lease-ttl', [CompletionResultType]::ParameterName, 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)')
            [CompletionResult]::new('--lichess-url', '--lichess-url', [CompletionResultType]::ParameterName, 'Base URL of Lichess')
            [CompletionResult]::new('--chesscom-url', '--chesscom-url', [CompletionResultType]::ParameterName, 'Base URL of the Chess.com Published-Data API')
            [CompletionResult]::new('--lichess-token', '--lichess-token', [CompletionResultType]::ParameterName, 'Lichess personal API token (no scope needed): a faster export rate')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent of every request. Chess.com asks for contact details in it')
            [CompletionResult]::new('--lock-dir', '--lock-dir', [CompletionResultType]::ParameterName, 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'First wait before a retry; it doubles each try (1ms-10m)')
            [CompletionResult]::new('--rate-limit-wait', '--rate-limit-wait', [CompletionResultType]::ParameterName, 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Longest wait for a connection to a provider (100ms-10m)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout at the end')
            [CompletionResult]::new('--with-analysis', '--with-analysis', [CompletionResultType]::ParameterName, 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;enqueue' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string')
            [CompletionResult]::new('--priority', '--priority', [CompletionResultType]::ParameterName, 'Higher runs first (-1000000 to 1000000)')
            [CompletionResult]::new('--requested-by', '--requested-by', [CompletionResultType]::ParameterName, 'Who asks (e.g. an application''s user id): within a priority, workers serve requesters in turn')
            [CompletionResult]::new('--not-before', '--not-before', [CompletionResultType]::ParameterName, 'Not claimed before then: an RFC 3339 time (2026-12-01T22:00:00Z) or +DURATION from now (+30m, up to a year)')
            [CompletionResult]::new('--every', '--every', [CompletionResultType]::ParameterName, 'Recurring: when a run ends (done or failed), queue the player again this long after it, with the same priority and requester (1m-365d)')
            [CompletionResult]::new('--max-queued-per-requester', '--max-queued-per-requester', [CompletionResultType]::ParameterName, 'Refuse the enqueue (exit 1, queueing none of its players) if it would leave the requester more than N jobs queued or running (1-1000000)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: {"queued":N,"unchanged":N}, or {"refused":{...}, "reason":"..."}')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;dequeue' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read more players from a file, one per line (''-'' for stdin; ''#'' starts a comment)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: what became of each player''s job')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;requeue' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'The jobs to put back: the failed ones')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object on stdout: what became of each player''s job')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;worker' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The PostgreSQL database holding the queue: a URL (postgres://...) or a libpq key=value string')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often an idle worker looks for new jobs, besides when told of one (10ms-1h)')
            [CompletionResult]::new('--max-attempts', '--max-attempts', [CompletionResultType]::ParameterName, 'Attempts of a job that fails for a transient reason (the provider unreachable or rate limiting past --max-wait, a database error), put off longer each time, before it fails for good (1-100)')
            [CompletionResult]::new('--fresh-for', '--fresh-for', [CompletionResultType]::ParameterName, 'Do not fetch a player whose last successful import ended less than this long ago; its status is `fresh` (1s-365d) [default: always fetch]')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'How many players are imported at once (1-256)')
            [CompletionResult]::new('--lease-ttl', '--lease-ttl', [CompletionResultType]::ParameterName, 'How long a player''s lease lasts without renewal; a crashed run''s players are free again after it (1s-1d)')
            [CompletionResult]::new('--lichess-url', '--lichess-url', [CompletionResultType]::ParameterName, 'Base URL of Lichess')
            [CompletionResult]::new('--chesscom-url', '--chesscom-url', [CompletionResultType]::ParameterName, 'Base URL of the Chess.com Published-Data API')
            [CompletionResult]::new('--lichess-token', '--lichess-token', [CompletionResultType]::ParameterName, 'Lichess personal API token (no scope needed): a faster export rate')
            [CompletionResult]::new('--user-agent', '--user-agent', [CompletionResultType]::ParameterName, 'User-Agent of every request. Chess.com asks for contact details in it')
            [CompletionResult]::new('--lock-dir', '--lock-dir', [CompletionResultType]::ParameterName, 'Where the chess-import processes of this host share the providers'' lanes (lock files) [default: $XDG_RUNTIME_DIR/chess-import, else chess-import-UID in the temporary directory]')
            [CompletionResult]::new('--body-limit', '--body-limit', [CompletionResultType]::ParameterName, 'Lowers every cap on what is read of an answer to this many bytes: a knob for tests, which then need not send megabytes to reach a cap')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after its first try, before the player fails (5xx, dropped connections, 429s)')
            [CompletionResult]::new('--retry-backoff', '--retry-backoff', [CompletionResultType]::ParameterName, 'First wait before a retry; it doubles each try (1ms-10m)')
            [CompletionResult]::new('--rate-limit-wait', '--rate-limit-wait', [CompletionResultType]::ParameterName, 'Pause of a provider after a 429 without Retry-After; Lichess asks for a minute (1ms-1h)')
            [CompletionResult]::new('--max-wait', '--max-wait', [CompletionResultType]::ParameterName, 'Longest wait a provider may ask for (Retry-After, a rate-limit body) before its remaining players fail instead (0s-7d)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'Longest a download may go without a complete game (Lichess) or body (Chess.com) before it is dropped and resumed (100ms-1h)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Longest wait for a connection to a provider (100ms-10m)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Exit once no job is running or due within a poll, instead of waiting for new jobs (for cron); jobs put off for later stay queued')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON summary object on stdout at the end')
            [CompletionResult]::new('--with-analysis', '--with-analysis', [CompletionResultType]::ParameterName, 'Also ask Lichess for its engine analysis of each game: accuracy, centipawn loss, mistakes, the game''s phases, and [%eval] comments in the PGN')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;completions' {
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How to show progress: bars on a terminal, plain lines for logs, or nothing')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print errors and the final summary')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v each request and batch commit, -vv debugging details. RUST_LOG overrides')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'chess-import;help' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Download every game of the given players and store the new ones')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Smoke-test the provider APIs with a few players; nothing is stored')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show, per imported player, the games stored and how its last import went')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the stored games, oldest first, as one PGN file')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Compare what is stored of each imported player with what the provider has; report gaps')
            [CompletionResult]::new('rescan', 'rescan', [CompletionResultType]::ParameterValue, 'Fetch a window of players'' games again and store what is missing; nothing is deleted')
            [CompletionResult]::new('enqueue', 'enqueue', [CompletionResultType]::ParameterValue, 'Add players to the import queue that workers share (PostgreSQL only)')
            [CompletionResult]::new('dequeue', 'dequeue', [CompletionResultType]::ParameterValue, 'Remove players'' queued jobs; running ones finish, and are not queued again')
            [CompletionResult]::new('requeue', 'requeue', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Import the players of the shared queue, alongside workers on other machines')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (bash, zsh, fish, elvish, powershell)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'chess-import;help;import' {
            break
        }
        'chess-import;help;check' {
            break
        }
        'chess-import;help;status' {
            break
        }
        'chess-import;help;export' {
            break
        }
        'chess-import;help;verify' {
            break
        }
        'chess-import;help;rescan' {
            break
        }
        'chess-import;help;enqueue' {
            break
        }
        'chess-import;help;dequeue' {
            break
        }
        'chess-import;help;requeue' {
            break
        }
        'chess-import;help;worker' {
            break
        }
        'chess-import;help;completions' {
            break
        }
        'chess-import;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
