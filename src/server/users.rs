//! The users table.
//!
//! Every `UPDATE users` here adds one to the row's `revision`, and every write to a user's sessions adds
//! one too, in the same transaction (`bump_revision`), because pages rendered for the user are reused while it stays the same
//! (`server::page_cache`). A new statement that changes a user, or anything a page shows about them,
//! must do the same.

use super::clock::UnixTime;
use super::db::{is_unique_violation, Db};
use super::secrets::new_id;
use crate::domain::{DisplayName, Email};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub email_verified_at: Option<i64>,
    pub avatar_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
}

impl User {
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// The name a mail to this account's address greets: none until someone has proved they own the
    /// address. Till then the name is whatever was typed into a sign-up form with this address, maybe by
    /// a stranger, and our mail must not carry a stranger's words ("Hello Your account is locked, call …,")
    /// to it. (The mail to an email change's new address, not yet proven either, greets no name.)
    pub fn name_for_mail(&self) -> &str {
        if self.is_verified() {
            &self.name
        } else {
            ""
        }
    }
}

/// Notes a change to something of the user's that their pages show, made by a statement on another table
/// (their sessions), in the same transaction: a change whose note was lost would leave kept pages showing
/// the old state.
pub async fn bump_revision<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET revision = revision + 1 WHERE id = $1").bind(id).execute(db).await?;
    Ok(())
}

const COLUMNS: &str =
    "id, email, name, password_hash, email_verified_at, avatar_key, created_at, updated_at, last_login_at";

pub async fn get<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, id: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(db).await
}

pub async fn find_by_email(db: &Db, email: &Email) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db.reads())
        .await
}

/// The outcome of a write that claims an address.
pub enum Created {
    User(User),
    EmailTaken,
}

/// Inserts a user; an address that is already registered is reported by the unique index, not by a
/// lookup first, so two simultaneous sign-ups cannot both succeed.
pub async fn create(
    db: &Db,
    now: UnixTime,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
) -> Result<Created, sqlx::Error> {
    let user = User {
        id: new_id(),
        email: email.as_str().to_owned(),
        name: name.as_str().to_owned(),
        password_hash: password_hash.to_owned(),
        email_verified_at: None,
        avatar_key: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(now)
    .execute(db.writes())
    .await;
    match inserted {
        Ok(_) => Ok(Created::User(user)),
        Err(e) if is_unique_violation(&e) => Ok(Created::EmailTaken),
        Err(e) => Err(e),
    }
}

pub async fn mark_email_verified<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET revision = revision + 1, email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn record_login(db: &Db, id: &str, now: UnixTime) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET revision = revision + 1, last_login_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db.writes())
        .await?;
    Ok(())
}

/// Overwrites the name and password of an account nobody has verified yet (see `auth::sign_up`).
pub async fn replace_unverified(
    db: &Db,
    id: &str,
    now: UnixTime,
    name: &DisplayName,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET revision = revision + 1, name = $2, password_hash = $3, updated_at = $4 WHERE id = $1 AND email_verified_at IS NULL",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(password_hash)
    .bind(now)
    .execute(db.writes())
    .await?;
    Ok(())
}

pub async fn set_password<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    now: UnixTime,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET revision = revision + 1, password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Moves the account to a new, just-proven address. `EmailTaken` if another account got it meanwhile.
pub async fn change_email(db: &Db, id: &str, now: UnixTime, email: &str) -> Result<Created, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE users SET revision = revision + 1, email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(email)
    .bind(now)
    .execute(db.writes())
    .await;
    match changed {
        Ok(_) => get(db.reads(), id).await?.map(Created::User).ok_or(sqlx::Error::RowNotFound),
        Err(e) if is_unique_violation(&e) => Ok(Created::EmailTaken),
        Err(e) => Err(e),
    }
}

pub async fn update_name(db: &Db, id: &str, now: UnixTime, name: &DisplayName) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET revision = revision + 1, name = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(name.as_str())
        .bind(now)
        .execute(db.writes())
        .await?;
    Ok(())
}

/// Points the user at a new avatar file and returns the one it replaces, for the caller to delete.
pub async fn set_avatar(db: &Db, id: &str, now: UnixTime, avatar_key: &str) -> Result<Option<String>, sqlx::Error> {
    let mut tx = db.writes().begin().await?;
    let previous: Option<(Option<String>,)> =
        sqlx::query_as("SELECT avatar_key FROM users WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    sqlx::query("UPDATE users SET revision = revision + 1, avatar_key = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(avatar_key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(previous.and_then(|(key,)| key))
}

#[cfg(test)]
mod tests {
    /// Pages rendered for a user are shown again while their `revision` stays the same
    /// (`server::page_cache`): a statement that changed a user without adding to it would leave those
    /// pages showing the old state. Every one in the source must say so.
    #[test]
    fn every_update_of_users_adds_to_the_revision() {
        fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rust_files(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    found.push(path);
                }
            }
        }
        let mut files = Vec::new();
        rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        // Spelled in two halves, so that this test does not find itself.
        let statement = ["UPDATE users", " SET "].concat();
        let mut updates = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (at, _) in text.match_indices(&statement) {
                updates += 1;
                let set = &text[at + statement.len()..];
                let shown = set.lines().next().unwrap_or_default();
                assert!(set.starts_with("revision = revision + 1"), "{}: {statement}{shown}", file.display());
            }
        }
        assert!(updates >= 8, "found only {updates} updates of users: is the search still looking at the source?");
    }
}
