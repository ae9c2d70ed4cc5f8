//! The database pool. Queries are written once in SQL that SQLite and PostgreSQL both accept (`$1`
//! placeholders, integer Unix timestamps, text ids) and run through sqlx's `Any` driver, so the backend
//! is chosen by `DATABASE_URL` alone: a SQLite file by default, PostgreSQL (or a database that speaks its
//! protocol) when several app servers share one.

use super::settings::Settings;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::Executor;
use std::time::Duration;

pub type Db = sqlx::AnyPool;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens the pool and brings the schema up to date.
pub async fn connect(settings: &Settings) -> Result<Db, sqlx::Error> {
    install_default_drivers();
    let url = settings.database.url.expose();
    let sqlite = is_sqlite(url);
    let pool = AnyPoolOptions::new()
        .max_connections(settings.database.max_connections.get())
        // A database that is down should turn into a quick 503, not a request hanging for long.
        .acquire_timeout(Duration::from_secs(3))
        // Before handing out a connection the pool pings it, to find one a network or server failure has
        // broken. A SQLite connection is a file in this process and never breaks that way, and the ping is
        // a round trip to its worker thread: such hand-offs took about a fifth of a page's CPU.
        .test_before_acquire(!sqlite)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    // WAL lets readers run beside the writer; NORMAL sync in WAL mode survives a crash of the
                    // process (not of the machine) without losing acknowledged writes; the busy timeout makes
                    // concurrent writers wait for their turn instead of failing with "database is locked".
                    conn.execute(sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    ))
                    .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// True when the error is a unique-constraint violation, e.g. an email that is already registered.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}
