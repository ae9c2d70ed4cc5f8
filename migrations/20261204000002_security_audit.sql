-- Fixes from the security audit of 2026-12 (issue #25).

-- The browser that signed up for an address, as the SHA-256 of a secret in its `sign_up` cookie: what a
-- sign-up typed takes effect only when the address is confirmed there (src/server/cookies.rs). NULL once
-- the address is confirmed.
ALTER TABLE users ADD COLUMN sign_up_proof TEXT;

-- Browsers that have signed in to an account (OWASP's device cookie): their own allowance of sign-in
-- failures and mail, apart from strangers'. The token is stored only hashed.
CREATE TABLE known_devices (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, token_hash)
);
CREATE INDEX known_devices_by_last_seen ON known_devices (last_seen_at);

-- Rate limits shared by every app server (used with PostgreSQL; SQLite's one server counts in memory):
-- one row per counted key, holding its theoretical arrival time in milliseconds (src/server/rate_limits.rs).
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_by_tat ON rate_limits (tat);

-- At most one live link per account and purpose, kept by the database itself: a newer link replaces the
-- older one in one statement, so requests racing on several app servers cannot leave two. Older
-- duplicates, which such races may have left, go first.
DELETE FROM email_tokens
WHERE used_at IS NULL AND EXISTS (
    SELECT 1 FROM email_tokens newer
    WHERE newer.user_id = email_tokens.user_id AND newer.purpose = email_tokens.purpose
      AND newer.used_at IS NULL
      AND (newer.created_at > email_tokens.created_at
           OR (newer.created_at = email_tokens.created_at AND newer.id > email_tokens.id))
);
CREATE UNIQUE INDEX email_tokens_one_live_per_purpose ON email_tokens (user_id, purpose) WHERE used_at IS NULL;
