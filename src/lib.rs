//! chess-import: bulk import of chess games from Lichess and Chess.com into SQLite or PostgreSQL.
//!
//! The binary only parses arguments and sets up output; everything else is here so that tests
//! can drive it. How a game travels: [`commands`] read the [`cli`] and start a run; the
//! [`import`] scheduler hands each [`player`] to its [`providers`] module, which fetches through
//! the one [`http`] client (whose lanes the processes of a host share through [`host_lane`])
//! from a [`resume`] point and yields [`game`] records; the import's writer checks them with
//! [`pgn`] and puts them in a [`store`]; [`view`] draws the events and the [`report`]. On
//! PostgreSQL the store also keeps the job queue that workers share.

#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod errors;
pub mod formats;
pub mod game;
pub mod host_lane;
pub mod http;
pub mod import;
pub mod lease;
pub mod logging;
pub mod pgn;
pub mod player;
pub mod providers;
pub mod report;
pub mod resume;
pub mod runtime_dir;
pub mod store;
pub mod view;

pub use commands::{Exit, run};
