//! The users table.

use crate::domain::{DisplayName, Email};
use crate::error::AppError;
use crate::server::platform::clock::UnixTime;
use crate::server::platform::db::{is_unique_violation, Db};
use crate::server::platform::secrets::new_id;

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
    /// Until the address is confirmed: what the account keeps of the signing-up browser's secret
    /// (`cookies::sign_up`).
    pub sign_up_proof: Option<String>,
    /// Set by an operator (`accounts::lifecycle::lock`): nobody signs in.
    pub locked_at: Option<i64>,
    /// Its owner deleted it (`accounts::deletion`): nobody signs in, and it is erased at this time unless
    /// the deletion is cancelled.
    pub erase_after: Option<i64>,
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

    /// Why nobody may sign in to the account now, if anything stops it: said only to someone who proved
    /// they may (a right password, link or passkey).
    pub fn sign_in_refusal(&self) -> Option<AppError> {
        if self.erase_after.is_some() {
            Some(AppError::AccountBeingDeleted)
        } else if self.locked_at.is_some() {
            Some(AppError::AccountLocked)
        } else {
            None
        }
    }

    /// Whether the browser with this `proof` (`cookies::sign_up::proof_of`) is the one that signed up.
    pub fn signed_up_in(&self, proof: &str) -> bool {
        self.sign_up_proof.as_deref() == Some(proof)
    }
}

const COLUMNS: &str = "id, email, name, password_hash, email_verified_at, avatar_key, created_at, updated_at, \
                       last_login_at, sign_up_proof, locked_at, \
                       (SELECT erase_after FROM account_deletions d WHERE d.user_id = users.id) AS erase_after";

pub async fn get<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, id: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1")).bind(id).fetch_optional(db).await
}

pub async fn find_by_email<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    email: &Email,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(db)
        .await
}

/// The outcome of a write that claims an address for an account (signing up, moving to a new address).
pub enum AddressClaim {
    /// The address is the account's: the account as written.
    Claimed(Box<User>),
    /// Another account has the address.
    Taken,
}

/// Inserts a user, in the caller's transaction; an address that is already registered is reported by
/// the unique index, not by a lookup first, so two simultaneous sign-ups cannot both succeed. After
/// `EmailTaken` the transaction is spent (PostgreSQL aborts it): roll it back.
pub async fn create(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: UnixTime,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    sign_up_proof: Option<&str>,
) -> Result<AddressClaim, sqlx::Error> {
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
        sign_up_proof: sign_up_proof.map(str::to_owned),
        locked_at: None,
        erase_after: None,
    };
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_at, updated_at, sign_up_proof) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.password_hash)
    .bind(now)
    .bind(sign_up_proof)
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => Ok(AddressClaim::Claimed(Box::new(user))),
        Err(e) if is_unique_violation(&e) => Ok(AddressClaim::Taken),
        Err(e) => Err(e),
    }
}

/// The same browser signing up again before confirming (a typo in the name, a forgotten password): its
/// new name and password replace what it typed before. Nobody else's sign-up can, as only that browser
/// holds the secret behind `proof`.
pub async fn update_sign_up(
    db: &Db,
    id: &str,
    now: UnixTime,
    proof: &str,
    name: &DisplayName,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET name = $2, password_hash = $3, updated_at = $4 \
         WHERE id = $1 AND email_verified_at IS NULL AND sign_up_proof = $5",
    )
    .bind(id)
    .bind(name.as_str())
    .bind(password_hash)
    .bind(now)
    .bind(proof)
    .execute(db.writes())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Holds the user's row until the transaction ends (it is written, unchanged) and says whether the row is
/// there with its password still `password_hash` (any password for `None`). Every transaction that changes
/// what an account's sessions, links or credentials are takes the row first, so that on PostgreSQL two of
/// them always wait for each other in one order (the user's row, then sessions and links) and never in a
/// circle, and so that a change checked against one password cannot land after that password changed.
pub async fn hold<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    password_hash: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1 AND ($2 IS NULL OR password_hash = $2)")
            .bind(id)
            .bind(password_hash)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes a sign-in, in the transaction that starts its session, and says whether it may go ahead: not
/// if the account is locked, being deleted (or gone). Writing the row first holds it until the commit, so a lock (or a
/// password reset) racing this sign-in either comes first, and this sees it, or waits, and then ends the
/// session this started.
pub async fn record_sign_in<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    now: UnixTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET last_login_at = $2 WHERE id = $1 AND locked_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM account_deletions WHERE user_id = $1)",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Locks the account (`Some(now)`) or unlocks it (`None`), in the caller's transaction; false if it was
/// already so.
pub async fn set_locked<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    locked_at: Option<UnixTime>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET locked_at = $2 WHERE id = $1 AND (locked_at IS NULL) = ($2 IS NOT NULL)")
        .bind(id)
        .bind(locked_at)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that the owner of the address has proved it (a mailed link was used), in the caller's
/// transaction. What the sign-up typed, its password and name, stays only if the link was used in the
/// browser that signed up (`in_sign_up_browser`): anyone may have signed up with the address, and the
/// owner opening our mail must never hand the account to them. Otherwise the password is retired (the
/// owner chooses one) and the name becomes the address's local part (the owner can change it).
pub async fn confirm_address<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user: &User,
    now: UnixTime,
    in_sign_up_browser: bool,
) -> Result<(), sqlx::Error> {
    if user.is_verified() {
        return Ok(());
    }
    let (name, password_hash) = if in_sign_up_browser {
        (user.name.clone(), user.password_hash.clone())
    } else {
        let address = Email::parse(&user.email).map_err(|e| sqlx::Error::Protocol(e.message))?;
        (
            DisplayName::placeholder_for(&address).as_str().to_owned(),
            crate::server::accounts::passwords::unusable_hash(),
        )
    };
    sqlx::query(
        "UPDATE users SET email_verified_at = $2, updated_at = $2, sign_up_proof = NULL, name = $3, \
         password_hash = $4 WHERE id = $1 AND email_verified_at IS NULL",
    )
    .bind(&user.id)
    .bind(now)
    .bind(name)
    .bind(password_hash)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_password<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    id: &str,
    now: UnixTime,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Moves the account to a new, just-proven address, in the caller's transaction. `EmailTaken` if another
/// account got it meanwhile (the transaction is then spent: roll it back).
pub async fn change_email(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    now: UnixTime,
    email: &str,
) -> Result<AddressClaim, sqlx::Error> {
    let changed = sqlx::query("UPDATE users SET email = $2, email_verified_at = $3, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(email)
        .bind(now)
        .execute(&mut **tx)
        .await;
    match changed {
        Ok(_) => {
            get(&mut **tx, id).await?.map(|user| AddressClaim::Claimed(Box::new(user))).ok_or(sqlx::Error::RowNotFound)
        }
        Err(e) if is_unique_violation(&e) => Ok(AddressClaim::Taken),
        Err(e) => Err(e),
    }
}

pub async fn update_name(db: &Db, id: &str, now: UnixTime, name: &DisplayName) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(name.as_str())
        .bind(now)
        .execute(db.writes())
        .await?;
    Ok(())
}

/// Points the user at a new avatar file and returns the one it replaces, for the caller to delete.
///
/// Written as "replace what was read, if it is still there": two uploads at once each get back the file
/// the other replaced, and no file is left that nobody points at. (A read and a write in one transaction
/// would not do on PostgreSQL, where both could read the same previous file.)
pub async fn set_avatar(db: &Db, id: &str, now: UnixTime, avatar_key: &str) -> Result<Option<String>, sqlx::Error> {
    loop {
        let previous: Option<(Option<String>,)> =
            sqlx::query_as("SELECT avatar_key FROM users WHERE id = $1").bind(id).fetch_optional(db.writes()).await?;
        let Some((previous,)) = previous else { return Err(sqlx::Error::RowNotFound) };
        let replaced = sqlx::query(
            "UPDATE users SET avatar_key = $2, updated_at = $3 \
             WHERE id = $1 AND (avatar_key = $4 OR (avatar_key IS NULL AND $4 IS NULL))",
        )
        .bind(id)
        .bind(avatar_key)
        .bind(now)
        .bind(previous.as_deref())
        .execute(db.writes())
        .await?;
        if replaced.rows_affected() == 1 {
            return Ok(previous);
        }
    }
}
