-- Two-factor authentication with an authenticator app (issue #27; src/server/accounts/two_factor.rs).

-- One row per account that has started setting it up. `secret_sealed`: the TOTP secret, encrypted under a
-- key derived from APP_SECRET_KEY and bound to the account id. `enabled_at` is NULL until a right code
-- turns it on. `last_used_step`: the 30-second step of the last code accepted; only a later step is
-- accepted, so no code works twice. `codes_to_show`: new recovery codes, sealed for the one session that
-- asked for them, until that session's page has shown them once.
CREATE TABLE two_factor (
    user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    enabled_at     BIGINT,
    last_used_step BIGINT NOT NULL DEFAULT 0,
    codes_to_show  TEXT
);

-- Each works once; kept only as an HMAC under the server's key.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in halfway: the first factor was right, the second is awaited. Not a session: it opens nothing
-- but the second step, from the browser holding the token (stored hashed), for a few minutes and tries.
-- `password_hash`: the password it followed (NULL after a mailed link); a change of password kills it.
CREATE TABLE two_factor_challenges (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    tries         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX two_factor_challenges_by_expiry ON two_factor_challenges (expires_at);
