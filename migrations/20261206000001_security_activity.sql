-- Security activity (issue #28; src/server/accounts/activity.rs): what happened to an account, shown to its
-- owner at /profile/activity and kept for `app.activity_kept_for` (a year by default).

-- One row per event, written in the transaction of the change it records. `kind`: what happened
-- (`activity::Kind`); `detail`: how or to what (the sign-in method, the passkey's name, the device signed
-- out), never a secret; `session_id`: the session that did it or that it started, so the owner's list
-- can mark this device's events (never shown); `ip` and `user_agent`: of the request, as the session list
-- keeps them. `id` sorts by time (`activity::new_event_id`), so events of one second keep their order.
CREATE TABLE security_events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    detail     TEXT,
    session_id TEXT,
    ip         TEXT,
    user_agent TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX security_events_by_user ON security_events (user_id, created_at, id);
CREATE INDEX security_events_by_age ON security_events (created_at);

-- How the first factor of a sign-in halfway was given (`activity::SignInMethod`), for its event once the
-- second factor is right.
ALTER TABLE two_factor_challenges ADD COLUMN first_factor TEXT NOT NULL DEFAULT 'password';

-- "This wasn't me" links (`email_tokens::Purpose::SecureAccount`): the purpose's CHECK grows, which SQLite
-- can only do by building the table again (the same statements work on PostgreSQL).
CREATE TABLE email_tokens_new (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL
               CHECK (purpose IN ('verify_email', 'magic_link', 'reset_password', 'change_email', 'secure_account')),
    token_hash TEXT NOT NULL UNIQUE,
    sent_to    TEXT NOT NULL,                 -- the address the link was mailed to
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    code_hash  TEXT,
    code_tries INTEGER NOT NULL DEFAULT 0
);
INSERT INTO email_tokens_new (id, user_id, purpose, token_hash, sent_to, created_at, expires_at, used_at, code_hash, code_tries)
SELECT id, user_id, purpose, token_hash, sent_to, created_at, expires_at, used_at, code_hash, code_tries FROM email_tokens;
DROP TABLE email_tokens;
ALTER TABLE email_tokens_new RENAME TO email_tokens;
CREATE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_by_expiry ON email_tokens (expires_at);
CREATE UNIQUE INDEX email_tokens_one_live_per_purpose ON email_tokens (user_id, purpose) WHERE used_at IS NULL;
