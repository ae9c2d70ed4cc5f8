//! The database connections. Queries are written once in SQL that SQLite and PostgreSQL both accept (`$1`
//! placeholders, integer Unix timestamps, text ids) and run through sqlx's `Any` driver, so the backend
//! is chosen by `DATABASE_URL` alone: a SQLite file by default, PostgreSQL (or a database that speaks its
//! protocol) when several app servers share one.

use super::settings::Settings;
use rusqlite::{ErrorCode, OpenFlags};
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::AnyPool;
use sqlx::Executor;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The app's database. Repository functions take it whole and pick the side each statement needs.
///
/// With SQLite, every write goes through one connection of its own, and reads through a pool of
/// connections that refuse to write (`query_only`). SQLite lets one writer in at a time; a second one
/// is refused and left to sleep and retry, 1, 2, 5 … 25 ms at a time (its busy handler), long after the
/// lock came free: under a burst of sign-ins, 2.3 s of sleep in every 10 (strace). Queued here instead,
/// for the one writing connection, each write starts as soon as the previous one ends: the benchmark's
/// sign-ins went from about 85 to 100 a second, their p99 from about 255 to 205 ms. With PostgreSQL,
/// both sides are the same pool.
///
/// With a SQLite file there is a third way in, for the read every signed-in request makes: see
/// [`Db::read_in_place`].
#[derive(Clone, Debug)]
pub struct Db {
    reads: AnyPool,
    writes: AnyPool,
    in_place: Option<Arc<InPlaceReads>>,
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

    /// Runs `read` on this thread, straight from the SQLite file, for the query every signed-in request
    /// makes, the session check (`sessions::lookup`), and the one every view of `/profile` adds, the
    /// session list (`sessions::list_for_user`). `None` means: run the same SQL through
    /// `reads()` instead. That is the answer for PostgreSQL, where a query is a network round trip anyway,
    /// and for the rare moment SQLite would have a reader wait (another connection recovering the file
    /// after a crash): this never waits, so sqlx's path, which waits on its own thread, takes over.
    ///
    /// Why: through sqlx, a SQLite query is handed to its connection's worker thread and back, and once
    /// more for the ping sqlx sends whenever a connection goes back to its pool (sqlx-core 0.8,
    /// `return_to_pool`; no setting turns it off). Measured on the session check alone (`GET /api/session`,
    /// signed in): 62 µs of server CPU a request through sqlx, 29 µs in place. In place, the query holds
    /// the thread about as long as a short lock would, and a WAL reader never waits for the writer. Only
    /// for indexed lookups of a few rows: anything that may scan belongs on `reads()`.
    pub fn read_in_place<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T, sqlx::Error>> {
        match self.in_place.as_ref()?.run(read) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                None
            }
            result => Some(result.map_err(into_sqlx_error)),
        }
    }
}

/// The connections behind [`Db::read_in_place`]: opened when first needed, kept while idle, and used by one
/// thread at a time (no query awaits, so there are never more in use than threads running requests).
#[derive(Debug)]
struct InPlaceReads {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    keep_idle: usize,
}

impl InPlaceReads {
    fn run<T>(&self, read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep_idle {
            idle.push(conn);
        }
        result
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        // Opened as sqlx opens its readers (read-write, made read-only by `query_only`), so that both see
        // the file, its WAL and their shared-memory index the same way.
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // rusqlite waits up to 5 s by default when SQLite asks it to; on this thread that would stall every
        // request behind it. `read_in_place` hands such a read to sqlx instead.
        conn.busy_timeout(Duration::ZERO)?;
        conn.execute_batch("PRAGMA query_only = ON;")?;
        Ok(conn)
    }
}

/// A failure of an in-place read, as the rest of the server sees database failures: a file that cannot be
/// read is like a database that is down (a 503, see `server::error::is_unreachable`); anything else is a
/// fault in the query (a 500).
fn into_sqlx_error(e: rusqlite::Error) -> sqlx::Error {
    let cannot_read = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::CannotOpen | ErrorCode::SystemIoFailure | ErrorCode::PermissionDenied)
    );
    if cannot_read {
        sqlx::Error::Io(std::io::Error::other(e))
    } else {
        sqlx::Error::Protocol(format!("in-place read failed: {e}"))
    }
}

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens the pools and brings the schema up to date.
pub async fn connect(settings: &Settings) -> Result<Db, sqlx::Error> {
    install_default_drivers();
    let url = settings.database.url.expose();
    let max_connections = settings.database.max_connections.get();
    if !is_sqlite(url) {
        let pool = pool_options(max_connections).connect(url).await?;
        MIGRATOR.run(&pool).await?;
        return Ok(Db { reads: pool.clone(), writes: pool, in_place: None });
    }
    // The writing connection comes first: it creates the file and the schema the readers open.
    let writes = sqlite_pool_options(1, Side::Writes).connect(url).await?;
    MIGRATOR.run(&writes).await?;
    let reads = sqlite_pool_options(max_connections, Side::Reads).connect(url).await?;
    let path = SqliteConnectOptions::from_str(url)?.get_filename().to_owned();
    // An in-memory database (`sqlite::memory:`) has no file another connection could open.
    let in_place = path
        .is_file()
        .then(|| Arc::new(InPlaceReads { path, idle: Mutex::new(Vec::new()), keep_idle: max_connections as usize }));
    Ok(Db { reads, writes, in_place })
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
        // a round trip to its worker thread: such hand-offs took about a fifth of a page's CPU.
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
