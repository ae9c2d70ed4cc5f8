//! The database connections. Queries are written once in SQL that SQLite and PostgreSQL both accept (`$1`
//! placeholders, integer Unix timestamps, text ids) and run through sqlx's `Any` driver, so the backend
//! is chosen by `DATABASE_URL` alone: a SQLite file by default, PostgreSQL (or a database that speaks its
//! protocol) when several app servers share one.

use crate::server::platform::settings::Settings;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;
use sqlx::Executor;
use std::time::Duration;

/// The app's database. Repository functions take it whole and pick the side each statement needs, or take
/// an executor (a pool side, a connection, a transaction) when their caller runs several statements on one.
///
/// With SQLite, every write goes through one connection of its own, and reads through a pool of
/// connections that refuse to write (`query_only`). SQLite lets one writer in at a time; a second one
/// is refused and left to sleep and retry in growing steps (its busy handler), long after the lock came
/// free. Queued here instead, for the one writing connection, each write starts as soon as the previous
/// one ends (bench/NOTES.md has what it gained). With PostgreSQL, both sides are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    reads: AnyPool,
    writes: AnyPool,
    sqlite: bool,
}

impl Db {
    /// For queries that only read.
    pub fn reads(&self) -> &AnyPool {
        &self.reads
    }

    /// For statements and transactions that write, including those that read first.
    pub fn writes(&self) -> &AnyPool {
        &self.writes
    }

    /// The embedded default (a SQLite file), which only this server uses.
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens the pools and brings the schema up to date.
pub async fn connect(settings: &Settings) -> Result<Db, sqlx::Error> {
    install_default_drivers();
    let url = settings.database.url();
    let max_connections = settings.database.max_connections.get();
    if !is_sqlite(url) {
        let pool = pool_options(max_connections).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        return Ok(Db { reads: pool.clone(), writes: pool, sqlite: false });
    }
    // The writing connection comes first: it creates the file and the schema the readers open.
    let writes = sqlite_pool_options(1, Side::Writes).connect(url).await?;
    MIGRATOR.run(&writes).await?;
    let reads = sqlite_pool_options(max_connections, Side::Reads).connect(url).await?;
    Ok(Db { reads, writes, sqlite: true })
}

fn pool_options(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        // A database that is down should turn into a quick 503, not a request hanging for long.
        .acquire_timeout(Duration::from_secs(3))
}

/// Which side of `Db` a SQLite pool is.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Writes,
    Reads,
}

fn sqlite_pool_options(max_connections: u32, side: Side) -> AnyPoolOptions {
    pool_options(max_connections)
        // Before handing out a connection the pool pings it, to find one a network or server failure has
        // broken. A SQLite connection is a file in this process and never breaks that way, and the ping is
        // a round trip to its worker thread, a large share of a page's CPU (bench/NOTES.md).
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; NORMAL sync in WAL mode survives a crash of the
                // process (not of the machine) without losing acknowledged writes; the busy timeout makes
                // a writer wait for another process (a backup, the sqlite3 shell) instead of failing with
                // "database is locked".
                conn.execute(sqlx::raw_sql(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                ))
                .await?;
                if side == Side::Reads {
                    // A write sent to the reading side fails at once, in tests too, instead of quietly
                    // bringing back the contention the one writing connection is there to prevent.
                    conn.execute(sqlx::raw_sql("PRAGMA query_only = ON;")).await?;
                }
                Ok(())
            })
        })
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// True when the error is a unique-constraint violation, e.g. an email that is already registered.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}
