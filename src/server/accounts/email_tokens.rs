//! Single-use tokens sent by email (verify the address, magic-link sign-in, reset password, change email).
//!
//! One mechanism for every purpose: the raw token goes into the mailed link, the database keeps only its
//! hash, the purpose and the address it was sent to. A token works once, before its expiry, for its own
//! purpose, and a newer token of the same purpose for the same user replaces the older one.
//!
//! A sign-in or verification mail also carries a 6-digit code that does what its link does, for a reader
//! whose mail opens on another device than the one signing in. The code belongs to the link's row: using
//! either uses both, a newer link replaces both, and codes die after `CODE_TRIES` wrong tries in all (a
//! newer mail keeps the count, and carries no code once it is spent). It is
//! kept as an HMAC under the server's key, bound to the link's hash: a million possible codes would fall
//! to anyone who read a plain hash from the database.

use crate::server::platform::clock::{secs, UnixTime};
use crate::server::platform::db::Db;
use crate::server::platform::secrets::{hash_token, is_well_formed, new_code, new_id, new_token, SecretKey};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    MagicLink,
    ResetPassword,
    ChangeEmail,
    /// "This wasn't me" in a new-sign-in alert (`secure_account`).
    SecureAccount,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::MagicLink => "magic_link",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
            Purpose::SecureAccount => "secure_account",
        }
    }

    /// Whether its mail carries a code beside the link: the links that sign in.
    pub fn has_code(self) -> bool {
        matches!(self, Purpose::VerifyEmail | Purpose::MagicLink)
    }

    fn parse(s: &str) -> Option<Self> {
        [Purpose::VerifyEmail, Purpose::MagicLink, Purpose::ResetPassword, Purpose::ChangeEmail, Purpose::SecureAccount]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// What a used token vouches for.
#[derive(Debug)]
pub struct Redeemed {
    pub user_id: String,
    pub purpose: Purpose,
    pub sent_to: String,
    /// When the link was mailed.
    pub issued_at: UnixTime,
}

/// A link's row as the queries below return it: `user_id, purpose, sent_to, created_at`.
type Row = (String, String, String, i64);

fn redeemed((user_id, purpose, sent_to, issued_at): Row) -> Option<Redeemed> {
    Purpose::parse(&purpose).map(|purpose| Redeemed { user_id, purpose, sent_to, issued_at })
}

/// A new link, and for a purpose that `has_code`, its code: both raw, for the mail.
pub struct Issued {
    pub token: String,
    pub code: Option<String>,
}

/// Wrong tries after which a mailed code stops working (its link still works).
pub const CODE_TRIES: i32 = 5;

/// What the server's key signs a code as (`SecretKey::sign`'s purpose), with its link's hash.
const CODE_SIGNING: &str = "email code";

/// Creates a token (and its code, see `Issued`). An older unused token of the same purpose for this user
/// is replaced in the same statement (the database keeps one live token per purpose), so requests racing
/// on several app servers leave exactly one link that works: the last one written.
pub async fn issue<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &SecretKey,
    now: UnixTime,
    user_id: &str,
    purpose: Purpose,
    sent_to: &str,
    ttl: Duration,
) -> Result<Issued, sqlx::Error> {
    let token = new_token();
    let token_hash = hash_token(&token);
    let code = purpose.has_code().then(new_code);
    let code_hash = code.as_deref().map(|code| key.sign(CODE_SIGNING, &format!("{token_hash}:{code}")));
    // A newer mail replaces the link and its code, but not the count of wrong tries: asking for mail
    // after mail must not buy a guesser five more tries each time. Once they are spent, mails carry no
    // code until a link of this purpose is used (then the next mail starts a new row).
    let tries: i32 = sqlx::query_scalar(&format!(
        "INSERT INTO email_tokens (id, user_id, purpose, token_hash, sent_to, created_at, expires_at, code_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id, purpose) WHERE used_at IS NULL DO UPDATE \
         SET token_hash = excluded.token_hash, sent_to = excluded.sent_to, \
             created_at = excluded.created_at, expires_at = excluded.expires_at, \
             code_hash = CASE WHEN email_tokens.code_tries >= {CODE_TRIES} THEN NULL ELSE excluded.code_hash END \
         RETURNING code_tries"
    ))
    .bind(new_id())
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(token_hash)
    .bind(sent_to)
    .bind(now)
    .bind(now.saturating_add(secs(ttl)))
    .bind(code_hash)
    .fetch_one(db)
    .await?;
    let code = code.filter(|_| tries < CODE_TRIES);
    Ok(Issued { token, code })
}

/// Marks the token used and returns what it was for, if it is well formed, unused, unexpired and of one
/// of the accepted purposes. The check and the marking are one statement, so two requests racing with
/// the same link cannot both win.
pub async fn redeem<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    now: UnixTime,
    token: &str,
    accepted: &[Purpose],
) -> Result<Option<Redeemed>, sqlx::Error> {
    let Some(purposes) = purposes_matching(token, accepted) else { return Ok(None) };
    let row: Option<Row> = sqlx::query_as(&format!(
        "UPDATE email_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 AND purpose IN ({purposes}) \
         RETURNING user_id, purpose, sent_to, created_at"
    ))
    .bind(now)
    .bind(hash_token(token))
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(redeemed))
}

/// Uses a mailed link for the account it names, in the caller's transaction: the account's row first
/// (`users::hold`), then the link, so that using a link and any other change to the same account (a reset,
/// a password change) wait for each other in one order, on any number of app servers. Returns the link
/// and the account as they are now, or `None` when the link does not work (any more): a link vouches
/// only for the address it was mailed to, so one whose account moved to another address meanwhile does
/// not work either (but an email change's own link, mailed to the new address). On `None` the caller
/// drops `tx`, which puts the link back.
pub async fn redeem_for_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    now: UnixTime,
    token: &str,
    accepted: &[Purpose],
) -> Result<Option<(Redeemed, super::users::User)>, sqlx::Error> {
    // Read in the transaction: a second connection, taken while this one is held, could wait forever
    // for a pool that requests like this one have used up.
    let Some(link) = peek(&mut **tx, now, token, accepted).await? else { return Ok(None) };
    if !super::users::hold(&mut **tx, &link.user_id, None).await? {
        return Ok(None);
    }
    let Some(redeemed) = redeem(&mut **tx, now, token, accepted).await? else { return Ok(None) };
    let user = super::users::get(&mut **tx, &redeemed.user_id).await?;
    let still_vouches =
        |user: &super::users::User| redeemed.purpose == Purpose::ChangeEmail || user.email == redeemed.sent_to;
    Ok(user.filter(|u| u.id == link.user_id && still_vouches(u)).map(|user| (redeemed, user)))
}

/// Uses the code from a mail sent to `email`, in the caller's transaction, as `redeem_for_account` uses
/// a link: the account's row first, then the code. A wrong code counts a try against every live code of
/// the account (a guess is a guess at each), and a code tried `CODE_TRIES` times wrong is dropped. The
/// tries are written in `tx`: on `None` the caller commits it all the same.
pub async fn redeem_code_for_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &SecretKey,
    now: UnixTime,
    email: &crate::domain::Email,
    code: &str,
    accepted: &[Purpose],
) -> Result<Option<(Redeemed, super::users::User)>, sqlx::Error> {
    let accepted: Vec<Purpose> = accepted.iter().copied().filter(|p| p.has_code()).collect();
    if accepted.is_empty() {
        return Ok(None);
    }
    let Some(user) = super::users::find_by_email(&mut **tx, email).await? else { return Ok(None) };
    if !super::users::hold(&mut **tx, &user.id, None).await? {
        return Ok(None);
    }
    let purposes = sql_list(&accepted);
    // Only codes still bound to the account's current address: an email change voids the old ones.
    let live: Vec<(String, String, String)> = sqlx::query_as(&format!(
        "SELECT t.id, t.token_hash, t.code_hash FROM email_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.user_id = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND t.code_hash IS NOT NULL \
         AND t.sent_to = u.email AND t.purpose IN ({purposes})"
    ))
    .bind(&user.id)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let right = live
        .iter()
        .find(|(_, token_hash, code_hash)| key.verify(CODE_SIGNING, &format!("{token_hash}:{code}"), code_hash));
    let Some((id, _, _)) = right else {
        sqlx::query(&format!(
            "UPDATE email_tokens SET code_tries = code_tries + 1, \
             code_hash = CASE WHEN code_tries + 1 >= {CODE_TRIES} THEN NULL ELSE code_hash END \
             WHERE user_id = $1 AND used_at IS NULL AND code_hash IS NOT NULL AND purpose IN ({purposes})"
        ))
        .bind(&user.id)
        .execute(&mut **tx)
        .await?;
        return Ok(None);
    };
    let row: Option<Row> = sqlx::query_as(
        "UPDATE email_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL \
         RETURNING user_id, purpose, sent_to, created_at",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(redeemed) = row.and_then(redeemed) else { return Ok(None) };
    let user = super::users::get(&mut **tx, &redeemed.user_id).await?;
    Ok(user.map(|user| (redeemed, user)))
}

/// Who a token would sign in or act for, without using it: lets a page say "this link has expired" or
/// "this signs in as a•••@example.com" before anyone acts on it. Only tokens still bound to the
/// account's current address count (an email change voids links sent to the old one).
pub async fn peek<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    now: UnixTime,
    token: &str,
    accepted: &[Purpose],
) -> Result<Option<Redeemed>, sqlx::Error> {
    let Some(purposes) = purposes_matching(token, accepted) else { return Ok(None) };
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT t.user_id, t.purpose, t.sent_to, t.created_at FROM email_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND t.purpose IN ({purposes}) \
         AND (t.sent_to = u.email OR t.purpose = 'change_email')"
    ))
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(redeemed))
}

/// Voids every unused link of the user that acts for the account: after a password reset or change, a
/// link mailed before it (a pending email change, a magic link) must not outlive the credentials it was
/// issued under. A "This wasn't me" link stays: whoever signed in on a new device and then changed the
/// password must not disarm the owner's way back (it acts against the account's sessions, not for them).
pub async fn revoke_all<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND used_at IS NULL AND purpose <> 'secure_account'")
            .bind(user_id)
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

/// Voids the user's unused links of these purposes.
pub async fn revoke<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    purposes: &[Purpose],
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "DELETE FROM email_tokens WHERE user_id = $1 AND used_at IS NULL AND purpose IN ({})",
        sql_list(purposes)
    );
    let done = sqlx::query(&sql).bind(user_id).execute(db).await?;
    Ok(done.rows_affected())
}

/// `'verify_email', 'magic_link'`: purposes are our own constants, never user input, so listing them in
/// the SQL text is safe.
/// The `accepted` purposes as an SQL list, or `None` when no stored token can match `token` (malformed, or
/// nothing accepted).
fn purposes_matching(token: &str, accepted: &[Purpose]) -> Option<String> {
    (is_well_formed(token) && !accepted.is_empty()).then(|| sql_list(accepted))
}

fn sql_list(purposes: &[Purpose]) -> String {
    purposes.iter().map(|p| format!("'{}'", p.as_str())).collect::<Vec<_>>().join(", ")
}

/// Removes tokens that can no longer be used.
pub async fn purge_expired(db: &Db, now: UnixTime) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM email_tokens WHERE expires_at <= $1 OR used_at IS NOT NULL")
        .bind(now)
        .execute(db.writes())
        .await?;
    Ok(done.rows_affected())
}
